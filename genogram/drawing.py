"""The genogram drawn in standard notation with ReportLab, on dot's geometry ("Option B").

Graphviz placed the nodes (:func:`genogram.render.geometry`); everything a social worker
reads is drawn here, because dot cannot draw it: squares, circles and diamonds; an X for a
deceased person; a double outline for the subject; partnership lines (married solid,
living together dashed, one slash for separated, two for divorced); dashed (adopted),
dotted (fostered or looked after) and dash-dot (step or cared for) child lines; a V for
twins; a dotted boundary around the people living with the subject; recorded domestic
abuse as a red zig-zag arrow from the person recorded as suspect to the person recorded
as victim, labelled with the number of recorded incidents (abuse recorded both ways: one
arrow with two heads, the incidents against each person by their head); and under each person their
name, dates and intervention badges. A badge's RAG shows three ways: its colour, its
outline (red square-cornered, amber rounded, green pill) and its letter code; an open
episode is filled, a closed one outlined with a dashed border. Nothing depends on colour.

:func:`legend_drawing` explains each symbol; :func:`write_drawing` saves a drawing alone.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
from reportlab.graphics import renderPDF, renderSVG
from reportlab.graphics.shapes import (
    Circle,
    Drawing,
    Group,
    Line,
    Polygon,
    PolyLine,
    Rect,
    String,
)
from reportlab.graphics.shapes import (
    Path as RLPath,
)
from reportlab.graphics.utils import RenderPMError
from reportlab.lib import colors

from genogram._io import write_atomic
from genogram.dot import ARC_STEP, BRACKET_STEP, DotNames, dot_names
from genogram.errors import RenderError
from genogram.graph import (
    ABUSE,
    CHILD,
    PARTNERSHIP,
    UNKNOWN_PARENT,
    Badge,
    abuse_arrows,
    anchors_of,
    extra_lines,
)
from genogram.labels import (
    PersonLabel,
    badge_width,
    clean_text,
    incidents_text,
    partnership_text,
    person_label,
    wrap,
)
from genogram.layout import GenogramLayout, genogram_layout
from genogram.style import (
    ABUSE_COLOUR,
    BADGE_GAP,
    BADGE_HEIGHT,
    BADGE_SIZE,
    FONT,
    FONT_BOLD,
    HOUSEHOLD_COLOUR,
    INK,
    LABEL_GAP,
    LINE_WIDTH,
    MUTED,
    RAG_FILL,
    RAG_TEXT,
    SMALL_SIZE,
    SYMBOL,
    SYMBOL_TEXT_SIZE,
    register_fonts,
    text_width,
)

__all__ = [
    "DRAWING_FORMATS",
    "MAX_SCALE",
    "drawing_bytes",
    "genogram_drawing",
    "genogram_size",
    "legend_drawing",
    "write_drawing",
]

#: Largest enlargement of a small family (a couple and a child should not fill a page).
MAX_SCALE = 1.6
#: Formats :func:`write_drawing` writes.
DRAWING_FORMATS = ("pdf", "svg", "png")

_SUBJECT_GAP = 3.0
_DASHED = [3.5, 2.5]
_DOTTED = [0.8, 2.0]
_DASH_DOT = [4.0, 2.0, 0.8, 2.0]
_CHILD_DASH: dict[str, list[float] | None] = {
    "birth": None,
    "adopted": _DASHED,
    "foster": _DOTTED,
    "step": _DASH_DOT,
}
_STATUS_LINE: dict[str, tuple[list[float] | None, int]] = {
    "married": (None, 0),
    "cohabiting": (_DASHED, 0),
    "separated": (None, 1),
    "divorced": (None, 2),
    "ex": (_DASHED, 1),
    "not_recorded": (None, 0),
}
_RAG_STROKE = {
    "red": colors.HexColor("#8E1322"),
    "amber": colors.HexColor("#8A6100"),
    "green": colors.HexColor("#145C45"),
}
_RAG_WORD = {"red": "red", "amber": "amber", "green": "green"}
_HOUSEHOLD_PAD = 5.0
_HOUSEHOLD = "Household"
_CORNER = 6.0
_MARGIN = 4.0


# ----------------------------------------------------------------------------- primitives


def _symbol_shapes(
    x: float,
    y: float,
    sex: str,
    *,
    size: float = SYMBOL,
    placeholder: bool = False,
    width: float = LINE_WIDTH,
) -> list[Any]:
    r = size / 2
    stroke = MUTED if placeholder else INK
    dash = _DASHED if placeholder else None
    common: dict[str, Any] = {
        "fillColor": colors.white,
        "strokeColor": stroke,
        "strokeWidth": width,
        "strokeDashArray": dash,
    }
    if sex == "M" and not placeholder:
        return [Rect(x - r, y - r, size, size, **common)]
    if sex == "F" and not placeholder:
        return [Circle(x, y, r, **common)]
    return [Polygon([x, y + r * 1.15, x + r * 1.15, y, x, y - r * 1.15, x - r * 1.15, y], **common)]


def _text(
    x: float,
    y: float,
    text: str,
    size: float,
    *,
    bold: bool = False,
    colour: Any = INK,
    anchor: str = "middle",
) -> String:
    return String(
        x, y, text, fontName=FONT_BOLD if bold else FONT, fontSize=size, fillColor=colour, textAnchor=anchor
    )


def _knocked_out(
    x: float,
    y: float,
    text: str,
    size: float,
    *,
    bold: bool = False,
    colour: Any = INK,
    anchor: str = "middle",
) -> list[Any]:
    """Text on a white ground, so a line passing behind it never cuts through the letters."""
    w = text_width(text, size, bold=bold)
    left = {"start": x, "end": x - w}.get(anchor, x - w / 2)
    ground = Rect(left - 1, y - size * 0.25, w + 2, size * 1.2, fillColor=colors.white, strokeColor=None)
    return [ground, _text(x, y, text, size, bold=bold, colour=colour, anchor=anchor)]


def _badge_shapes(x: float, y: float, badge: Badge) -> list[Any]:
    """One badge with its lower-left corner at ``(x, y)``."""
    w = badge_width(badge.code)
    h = BADGE_HEIGHT
    radius = {"red": 0.0, "amber": 2.4, "green": h / 2}.get(badge.rag, 0.0)
    fill = RAG_FILL.get(badge.rag, MUTED)
    stroke = _RAG_STROKE.get(badge.rag, INK)
    box = Rect(
        x,
        y,
        w,
        h,
        rx=radius,
        ry=radius,
        fillColor=fill if badge.open else colors.white,
        strokeColor=stroke,
        strokeWidth=1.3 if badge.rag == "red" else 0.8,
        strokeDashArray=None if badge.open else [1.6, 1.0],
    )
    colour = RAG_TEXT.get(badge.rag, INK) if badge.open else INK
    return [
        box,
        _text(x + w / 2, y + h / 2 - BADGE_SIZE * 0.36, badge.code, BADGE_SIZE, bold=True, colour=colour),
    ]


def _zigzag(points: Sequence[tuple[float, float]], amplitude: float = 2.2, wave: float = 5.0) -> list[float]:
    """A zig-zag along a polyline, straight for the first and last few points."""
    out: list[float] = []
    total = sum(math.dist(a, b) for a, b in itertools.pairwise(points))
    run = 0.0
    flip = 1
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        length = math.dist((x0, y0), (x1, y1)) or 1.0
        steps = max(int(length / wave), 1)
        nx_, ny_ = -(y1 - y0) / length, (x1 - x0) / length
        for k in range(steps):
            t = k / steps
            px, py = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
            along = run + length * t
            off = amplitude * flip if 8 < along < total - 10 else 0.0
            out += [px + nx_ * off, py + ny_ * off]
            flip = -flip
        run += length
    out += list(points[-1])
    return out


def _arrowhead(tip: tuple[float, float], frm: tuple[float, float], colour: Any, size: float = 5.0) -> Polygon:
    dx, dy = tip[0] - frm[0], tip[1] - frm[1]
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    bx, by = tip[0] - ux * size, tip[1] - uy * size
    return Polygon(
        [
            tip[0],
            tip[1],
            bx - uy * size * 0.5,
            by + ux * size * 0.5,
            bx + uy * size * 0.5,
            by - ux * size * 0.5,
        ],
        fillColor=colour,
        strokeColor=colour,
        strokeWidth=0.5,
    )


def _rounded_path(
    points: Sequence[tuple[float, float]], colour: Any, dash: list[float], width: float
) -> RLPath:
    """A closed path through ``points`` with rounded corners."""
    path = RLPath(strokeColor=colour, strokeWidth=width, strokeDashArray=dash, fillColor=None)
    n = len(points)
    for i in range(n):
        prev, here, nxt = points[i - 1], points[i], points[(i + 1) % n]
        r = min(_CORNER, math.dist(prev, here) / 2, math.dist(here, nxt) / 2)
        a = _towards(here, prev, r)
        b = _towards(here, nxt, r)
        if i == 0:
            path.moveTo(*a)
        else:
            path.lineTo(*a)
        path.curveTo(here[0], here[1], here[0], here[1], b[0], b[1])
    path.closePath()
    return path


def _towards(p: tuple[float, float], q: tuple[float, float], d: float) -> tuple[float, float]:
    length = math.dist(p, q) or 1.0
    return (p[0] + (q[0] - p[0]) * d / length, p[1] + (q[1] - p[1]) * d / length)


def _outline(rects: Iterable[tuple[float, float, float, float]]) -> list[list[tuple[float, float]]]:
    """Boundary loops (counter-clockwise) of the union of axis-aligned rectangles."""
    rects = [r for r in rects if r[2] > r[0] and r[3] > r[1]]
    if not rects:
        return []
    xs = sorted({v for r in rects for v in (r[0], r[2])})
    ys = sorted({v for r in rects for v in (r[1], r[3])})
    filled = {
        (i, j)
        for i in range(len(xs) - 1)
        for j in range(len(ys) - 1)
        if any(
            r[0] <= (xs[i] + xs[i + 1]) / 2 <= r[2] and r[1] <= (ys[j] + ys[j + 1]) / 2 <= r[3] for r in rects
        )
    }
    edges: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for i, j in filled:
        if (i, j - 1) not in filled:
            edges[(i, j)].append((i + 1, j))
        if (i + 1, j) not in filled:
            edges[(i + 1, j)].append((i + 1, j + 1))
        if (i, j + 1) not in filled:
            edges[(i + 1, j + 1)].append((i, j + 1))
        if (i - 1, j) not in filled:
            edges[(i, j + 1)].append((i, j))
    loops: list[list[tuple[float, float]]] = []
    while any(edges.values()):
        start = min(k for k, v in edges.items() if v)
        loop = [start]
        here = start
        while True:
            nxt = edges[here].pop(0)
            if nxt == start:
                break
            loop.append(nxt)
            here = nxt
        corners = [p for k, p in enumerate(loop) if not _collinear(loop[k - 1], p, loop[(k + 1) % len(loop)])]
        loops.append([(xs[i], ys[j]) for i, j in corners])
    return loops


def _collinear(a: tuple[int, int], b: tuple[int, int], c: tuple[int, int]) -> bool:
    return (a[0] == b[0] == c[0]) or (a[1] == b[1] == c[1])


# ---------------------------------------------------------------------------- the scene


@dataclass
class _Person:
    x: float
    y: float
    size: float
    label: PersonLabel
    label_bottom: float  # bottom of the room dot reserved for the label

    @property
    def top(self) -> float:
        return self.y + self.size / 2

    @property
    def bottom(self) -> float:
        return self.y - self.size / 2

    @property
    def box(self) -> tuple[float, float, float, float]:
        half = max(self.label.width, self.size) / 2
        return (self.x - half, self.label_bottom, self.x + half, self.top)


class _Scene:
    """Shapes in dot's coordinates, and the box they cover."""

    def __init__(self) -> None:
        self.back = Group()
        self.front = Group()
        self.x0 = self.y0 = math.inf
        self.x1 = self.y1 = -math.inf

    def cover(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.x0, self.y0 = min(self.x0, x0), min(self.y0, y0)
        self.x1, self.y1 = max(self.x1, x1), max(self.y1, y1)

    def add(self, *shapes: Any, back: bool = False) -> None:
        for shape in shapes:
            (self.back if back else self.front).add(shape)


def genogram_drawing(
    G: nx.MultiDiGraph,
    geometry: Mapping[str, Any],
    *,
    width: float,
    height: float,
    layout: GenogramLayout | None = None,
) -> Drawing:
    """Draw a family graph in genogram notation on dot's geometry, scaled to fit.

    Parameters
    ----------
    G
        A family graph from :func:`genogram.graph.family_graph`.
    geometry
        :func:`genogram.render.geometry` of :func:`genogram.dot.to_dot` ``(G, layout)``.
    width, height
        Size of the drawing in points; the genogram is scaled (at most
        :data:`MAX_SCALE` times) and centred in it, keeping its proportions.
    layout
        The layout the DOT was made with (computed again when omitted).

    Raises
    ------
    RenderError
        If the geometry lacks a node the DOT of ``G`` has.
    """
    return _fit(_scene(G, geometry, layout), width, height)


def genogram_size(
    G: nx.MultiDiGraph, geometry: Mapping[str, Any], *, layout: GenogramLayout | None = None
) -> tuple[float, float]:
    """Natural width and height (points) of the genogram, before any scaling.

    A document can compare it with its frame to choose portrait or landscape, or to see how
    far :func:`genogram_drawing` will shrink the text (7.5 pt names at scale 1).
    """
    scene = _scene(G, geometry, layout)
    if not math.isfinite(scene.x0):
        return (0.0, 0.0)
    return (scene.x1 - scene.x0 + 2 * _MARGIN, scene.y1 - scene.y0 + 2 * _MARGIN)


def _natural_drawing(
    G: nx.MultiDiGraph, geometry: Mapping[str, Any], *, layout: GenogramLayout | None = None
) -> Drawing | None:
    """The genogram at its natural size (:func:`genogram_size`), or None when it is empty.

    The same drawing as :func:`genogram_drawing` at ``genogram_size(...)``, from one pass
    over the family instead of two.
    """
    scene = _scene(G, geometry, layout)
    if not math.isfinite(scene.x0):
        return None
    width, height = scene.x1 - scene.x0 + 2 * _MARGIN, scene.y1 - scene.y0 + 2 * _MARGIN
    if width <= 0:
        return None
    return _fit(scene, width, height)


def _scene(G: nx.MultiDiGraph, geometry: Mapping[str, Any], layout: GenogramLayout | None) -> _Scene:
    register_fonts()
    layout = layout if layout is not None else genogram_layout(G)
    names = dot_names(G, layout)
    nodes = geometry["nodes"]
    missing = [name for name in names.node.values() if name not in nodes]
    if missing:
        raise RenderError(f"the geometry does not match the family graph ({len(missing)} node(s) missing)")
    scene = _Scene()
    people = _place_people(G, names, nodes)
    _draw_household(G, layout, people, scene)
    leave = _draw_partnerships(G, layout, names, nodes, people, scene)
    _draw_children(G, layout, names, nodes, people, scene, leave)
    _draw_people(G, people, scene)
    _draw_abuse(G, layout, people, scene)
    return scene


def _place_people(
    G: nx.MultiDiGraph, names: DotNames, nodes: Mapping[str, Mapping[str, float]]
) -> dict[str, _Person]:
    people = {}
    for n, name in names.node.items():
        if G.nodes[n]["kind"] == PARTNERSHIP:
            continue
        size = SYMBOL + (2 * _SUBJECT_GAP if G.nodes[n]["subject"] else 0.0)
        lab = nodes[names.label[n]]
        people[n] = _Person(
            x=nodes[name]["x"],
            y=nodes[name]["y"],
            size=size,
            label=person_label(G.nodes[n]),
            label_bottom=lab["y"] - lab["height"] / 2,
        )
    return people


def _draw_people(G: nx.MultiDiGraph, people: Mapping[str, _Person], scene: _Scene) -> None:
    for n, p in people.items():
        attrs = G.nodes[n]
        placeholder = attrs["kind"] == UNKNOWN_PARENT
        if attrs["subject"]:
            scene.add(*_symbol_shapes(p.x, p.y, attrs["sex"], size=p.size, width=0.9))
        scene.add(*_symbol_shapes(p.x, p.y, attrs["sex"], placeholder=placeholder))
        r = SYMBOL / 2
        if attrs["deceased"]:
            k = 0.72 if attrs["sex"] == "F" else 1.0
            scene.add(
                Line(
                    p.x - r * k,
                    p.y - r * k,
                    p.x + r * k,
                    p.y + r * k,
                    strokeColor=INK,
                    strokeWidth=LINE_WIDTH,
                ),
                Line(
                    p.x - r * k,
                    p.y + r * k,
                    p.x + r * k,
                    p.y - r * k,
                    strokeColor=INK,
                    strokeWidth=LINE_WIDTH,
                ),
            )
        elif p.label.inside:
            colour = MUTED if placeholder else INK
            scene.add(
                _text(p.x, p.y - SYMBOL_TEXT_SIZE * 0.36, p.label.inside, SYMBOL_TEXT_SIZE, colour=colour)
            )
        y = p.bottom - LABEL_GAP
        for text, size, bold in p.label.lines:
            y -= size * 1.05
            scene.add(*_knocked_out(p.x, y, text, size, bold=bold, colour=MUTED if placeholder else INK))
            y -= size * 0.2
        for row in p.label.badge_rows:
            y -= BADGE_GAP + BADGE_HEIGHT
            row_w = sum(badge_width(b.code) for b in row) + BADGE_GAP * (len(row) - 1)
            x = p.x - row_w / 2
            for badge in row:
                scene.add(*_badge_shapes(x, y, badge))
                x += badge_width(badge.code) + BADGE_GAP
        half = max(p.label.width, p.size) / 2
        scene.cover(p.x - half, min(y, p.label_bottom), p.x + half, p.top)


def _draw_partnerships(
    G: nx.MultiDiGraph,
    layout: GenogramLayout,
    names: DotNames,
    nodes: Mapping[str, Mapping[str, float]],
    people: Mapping[str, _Person],
    scene: _Scene,
) -> dict[str, tuple[float, float]]:
    """Draw each partnership line; return where child lines leave each one."""
    leave: dict[str, tuple[float, float]] = {}
    brackets: dict[int, int] = defaultdict(int)
    for u, name in names.node.items():
        attrs = G.nodes[u]
        if attrs["kind"] != PARTNERSHIP:
            continue
        ux = nodes[name]["x"]
        a, b = sorted(attrs["partners"], key=lambda p: (people[p].x, p))
        pa, pb = people[a], people[b]
        dash, slashes = _STATUS_LINE.get(attrs["status"], (None, 0))
        muted = attrs["status"] == "not_recorded"
        style = {
            "strokeColor": MUTED if muted else INK,
            "strokeWidth": 0.8 if muted else LINE_WIDTH,
            "strokeDashArray": dash,
        }
        between = [p for p in layout.rows[layout.generation[u]] if p in people and pa.x < people[p].x < pb.x]
        if layout.generation[a] != layout.generation[b]:
            y = nodes[name]["y"]
            scene.add(PolyLine([pa.x, pa.bottom, pa.x, y, pb.x, y, pb.x, pb.bottom], **style))
        elif between:
            g = layout.generation[u]
            brackets[g] += 1
            y = max(people[p].top for p in (a, b, *between)) + 2 + BRACKET_STEP * brackets[g]
            scene.add(PolyLine([pa.x, pa.top, pa.x, y, pb.x, y, pb.x, pb.top], **style))
            scene.cover(pa.x, pa.y, pb.x, y)
        else:
            y = pa.y
            scene.add(Line(pa.x + pa.size / 2, y, pb.x - pb.size / 2, y, **style))
        attrs_y = y
        if slashes:
            has_drop = names.drop.get(u) is not None and u in names.bar
            sx = (ux + (pa.x + pa.size / 2)) / 2 if has_drop else ux
            for k in range(slashes):
                off = (k - (slashes - 1) / 2) * 3.2
                scene.add(
                    Line(
                        sx + off - 2.5,
                        attrs_y - 5,
                        sx + off + 2.5,
                        attrs_y + 5,
                        strokeColor=INK,
                        strokeWidth=1.0,
                    )
                )
        text = partnership_text(attrs)
        if text:
            scene.add(*_knocked_out(ux, attrs_y + 3, text, SMALL_SIZE, colour=MUTED))
        leave[u] = (ux, y)
    return leave


def _leaving(
    anchor: str, leave: Mapping[str, tuple[float, float]], people: Mapping[str, _Person]
) -> tuple[float, float]:
    """Where a child line leaves an anchor: its partnership line, or below a lone carer's label."""
    if anchor in leave:
        return leave[anchor]
    p = people[anchor]
    return p.x, p.label_bottom


def _draw_children(
    G: nx.MultiDiGraph,
    layout: GenogramLayout,
    names: DotNames,
    nodes: Mapping[str, Mapping[str, float]],
    people: Mapping[str, _Person],
    scene: _Scene,
    leave: Mapping[str, tuple[float, float]],
) -> None:
    for sib in layout.sibships:
        ux, uy = _leaving(sib.anchor, leave, people)
        joints, mid = names.bar[sib.anchor]
        bar_y = nodes[mid]["y"]
        points = []
        for _, group in joints:
            if group:
                points.append((sum(people[c].x for c in group) / len(group), group))
        xs = [ux, *(x for x, _ in points)]
        scene.add(Line(ux, uy, ux, bar_y, strokeColor=INK, strokeWidth=LINE_WIDTH))
        scene.add(Line(min(xs), bar_y, max(xs), bar_y, strokeColor=INK, strokeWidth=LINE_WIDTH))
        for jx, group in points:
            for child in group:
                kind = next(t for a, t, primary in anchors_of(G, child) if a == sib.anchor and primary)
                c = people[child]
                scene.add(
                    Line(
                        jx,
                        bar_y,
                        c.x,
                        c.top,
                        strokeColor=INK,
                        strokeWidth=LINE_WIDTH,
                        strokeDashArray=_CHILD_DASH.get(kind),
                    )
                )
    # Secondary lines (adoptive, foster, step beside a birth line): thin, grey, straight,
    # to the child's shoulder on the anchor's side; labels are knocked out over them.
    for child, p in people.items():
        for anchor, kind in extra_lines(G, child):
            ax, ay = _leaving(anchor, leave, people)
            tx = p.x + (p.size / 3 if ax > p.x else -p.size / 3)
            scene.add(
                Line(
                    ax,
                    ay,
                    tx,
                    p.top - 1,
                    strokeColor=MUTED,
                    strokeWidth=0.8,
                    strokeDashArray=_CHILD_DASH.get(kind),
                )
            )


def _draw_abuse(
    G: nx.MultiDiGraph, layout: GenogramLayout, people: Mapping[str, _Person], scene: _Scene
) -> None:
    """One red zig-zag arrow per suspect and victim; abuse recorded both ways between two
    people is one arrow with a head at each end, the incidents against each person by their
    head (two arrows over one pair drew their labels over each other)."""
    arcs: dict[int, int] = defaultdict(int)
    for arrow in abuse_arrows(G):
        a, b = arrow.suspect, arrow.victim
        pa, pb = people[a], people[b]
        text = "recorded both ways" if arrow.back else incidents_text(arrow.incidents)
        if layout.generation[a] == layout.generation[b]:
            g = layout.generation[a]
            arcs[g] += 1
            sign = 1 if pb.x > pa.x else -1
            start = (pa.x + sign * pa.size * 0.3, pa.top)
            end = (pb.x - sign * pb.size * 0.3, pb.top)
            lift = max(start[1], end[1]) + ARC_STEP * arcs[g]
            points = _quad(start, ((start[0] + end[0]) / 2, 2 * lift - max(start[1], end[1])), end)
            label_at = ((start[0] + end[0]) / 2, lift + 1.5)
        else:
            length = math.dist((pa.x, pa.y), (pb.x, pb.y)) or 1.0
            ux, uy = (pb.x - pa.x) / length, (pb.y - pa.y) / length
            start = (pa.x + ux * pa.size * 0.6, pa.y + uy * pa.size * 0.6)
            end = (pb.x - ux * pb.size * 0.6, pb.y - uy * pb.size * 0.6)
            points = [start, end]
            label_at = ((start[0] + end[0]) / 2 + 4, (start[1] + end[1]) / 2 + 2)
        scene.add(PolyLine(_zigzag(points), strokeColor=ABUSE_COLOUR, strokeWidth=1.2, fillColor=None))
        scene.add(_arrowhead(points[-1], points[-2], ABUSE_COLOUR))
        if arrow.back:
            scene.add(_arrowhead(points[0], points[1], ABUSE_COLOUR))
            for tip, before, n in (
                (points[-1], points[-2], arrow.incidents),
                (points[0], points[1], arrow.back),
            ):
                side = 1 if tip[0] >= before[0] else -1  # outside the arc, beside the head
                at = (tip[0] + side * 5.5, tip[1] + 3)
                scene.add(*_knocked_out(at[0], at[1], str(n), SMALL_SIZE, bold=True, colour=ABUSE_COLOUR))
                w = text_width(str(n), SMALL_SIZE, bold=True)
                scene.cover(at[0] - w / 2, at[1], at[0] + w / 2, at[1] + SMALL_SIZE)
        scene.add(*_knocked_out(label_at[0], label_at[1], text, SMALL_SIZE, bold=True, colour=ABUSE_COLOUR))
        w = text_width(text, SMALL_SIZE, bold=True)
        scene.cover(
            label_at[0] - w / 2, min(p[1] for p in points), label_at[0] + w / 2, label_at[1] + SMALL_SIZE
        )


def _quad(
    p0: tuple[float, float], c: tuple[float, float], p1: tuple[float, float], steps: int = 24
) -> list[tuple[float, float]]:
    out = []
    for k in range(steps + 1):
        t = k / steps
        out.append(
            (
                (1 - t) ** 2 * p0[0] + 2 * (1 - t) * t * c[0] + t**2 * p1[0],
                (1 - t) ** 2 * p0[1] + 2 * (1 - t) * t * c[1] + t**2 * p1[1],
            )
        )
    return out


def _draw_household(
    G: nx.MultiDiGraph, layout: GenogramLayout, people: Mapping[str, _Person], scene: _Scene
) -> None:
    """A dotted outline around the people who live with the subject, row runs joined up."""
    runs: list[tuple[int, tuple[float, float, float, float]]] = []
    for g, row in enumerate(layout.rows):
        current: list[str] = []
        for n in [*row, None]:
            if n is not None and n not in people:
                continue
            if n is not None and G.nodes[n]["with_subject"]:
                current.append(n)
                continue
            if current:
                boxes = [people[p].box for p in current]
                runs.append(
                    (
                        g,
                        (
                            min(b[0] for b in boxes) - _HOUSEHOLD_PAD,
                            min(b[1] for b in boxes) - _HOUSEHOLD_PAD,
                            max(b[2] for b in boxes) + _HOUSEHOLD_PAD,
                            max(b[3] for b in boxes) + _HOUSEHOLD_PAD + 6,
                        ),
                    )
                )
            current = []
    if not runs:
        return
    rects = [r for _, r in runs]
    for (g1, r1), (g2, r2) in ((x, y) for x in runs for y in runs):
        if g2 == g1 + 1:
            left, right = max(r1[0], r2[0]), min(r1[2], r2[2])
            if right - left > 2 * _CORNER:
                rects.append((left, r2[3] - 1, right, r1[1] + 1))
    for loop in _outline(rects):
        scene.add(_rounded_path(loop, HOUSEHOLD_COLOUR, [1.2, 2.2], 1.1), back=True)
        # named in its lowest left corner, below the labels, where no line runs
        x0, y0 = min(loop, key=lambda q: (q[1], q[0]))
        scene.add(
            *_knocked_out(x0 + 4, y0 + 2.5, _HOUSEHOLD, SMALL_SIZE, colour=HOUSEHOLD_COLOUR, anchor="start")
        )
    for r in rects:
        scene.cover(*r)


def _fit(scene: _Scene, width: float, height: float) -> Drawing:
    drawing = Drawing(width, height)
    if not math.isfinite(scene.x0):
        return drawing
    margin = _MARGIN
    bw, bh = scene.x1 - scene.x0 + 2 * margin, scene.y1 - scene.y0 + 2 * margin
    scale = min(width / bw, height / bh, MAX_SCALE)
    dx = (width - bw * scale) / 2 - (scene.x0 - margin) * scale
    dy = (height - bh * scale) / 2 - (scene.y0 - margin) * scale
    group = Group(scene.back, scene.front)
    group.transform = (scale, 0, 0, scale, dx, dy)
    drawing.add(group)
    return drawing


# --------------------------------------------------------------------------------- legend


def _used(G: nx.MultiDiGraph | None) -> set[str]:
    """Legend entries a graph uses (all of them without a graph)."""
    if G is None:
        return set(_LEGEND_KEYS)
    used = {"M", "F"}
    for _, attrs in G.nodes(data=True):
        if attrs["kind"] == PARTNERSHIP:
            used.add(f"status:{attrs['status']}")
            continue
        if attrs["kind"] == UNKNOWN_PARENT:
            used.add("unknown_parent")
            continue
        if attrs["sex"] not in ("M", "F"):
            used.add("U")
        if attrs["deceased"]:
            used.add("deceased")
        if attrs["subject"]:
            used.add("subject")
        if attrs["twins"]:
            used.add("twins")
        if attrs["with_subject"]:
            used.add("household")
    for _, _, d in G.edges(data=True):
        if d["kind"] == CHILD:
            used.add(f"child:{d['child_type']}")
        elif d["kind"] == ABUSE:
            used.add("abuse")
    if any(arrow.back for arrow in abuse_arrows(G)):
        used.add("abuse:both_ways")
    return used


_LEGEND_KEYS = (
    "M",
    "F",
    "U",
    "deceased",
    "subject",
    "unknown_parent",
    "status:married",
    "status:cohabiting",
    "status:separated",
    "status:divorced",
    "status:ex",
    "status:not_recorded",
    "child:birth",
    "child:adopted",
    "child:foster",
    "child:step",
    "twins",
    "household",
    "abuse",
    "abuse:both_ways",
)
_LEGEND_TEXT = {
    "M": "Male",
    "F": "Female",
    "U": "Sex not recorded, or other",
    "deceased": "Deceased (years of birth and death under)",
    "subject": "Subject child (double outline); age inside",
    "unknown_parent": "Parent not recorded",
    "status:married": "Married or civil partners (m. year)",
    "status:cohabiting": "Living together (LT year)",
    "status:separated": "Separated (s.)",
    "status:divorced": "Divorced (d.)",
    "status:ex": "Former partners, kind not recorded",
    "status:not_recorded": "Parents; no relationship recorded",
    "child:birth": "Birth child",
    "child:adopted": "Adopted child",
    "child:foster": "Fostered or looked-after child",
    "child:step": "Step-child or child cared for",
    "twins": "Twins",
    "household": "Household: the people living with the subject",
    "abuse": "Recorded domestic abuse: arrow from person recorded as suspect to person recorded as victim",
    "abuse:both_ways": "Recorded both ways: the number by each head counts the incidents against that person",
}


def _legend_sample(key: str, x: float, y: float) -> list[Any]:
    """A 30 x 14 point sample of ``key`` with its left edge at ``x`` and middle at ``y``."""
    s = 11.0
    cx = x + 15
    if key in ("M", "F", "U"):
        return _symbol_shapes(cx, y, key, size=s)
    if key == "unknown_parent":
        return [
            *_symbol_shapes(cx, y, "U", size=s, placeholder=True),
            _text(cx, y - 2.2, "?", 6, colour=MUTED),
        ]
    if key == "deceased":
        r = s / 2
        return [
            *_symbol_shapes(cx, y, "M", size=s),
            Line(cx - r, y - r, cx + r, y + r, strokeColor=INK, strokeWidth=LINE_WIDTH),
            Line(cx - r, y + r, cx + r, y - r, strokeColor=INK, strokeWidth=LINE_WIDTH),
        ]
    if key == "subject":
        return [*_symbol_shapes(cx, y, "F", size=s + 5, width=0.9), *_symbol_shapes(cx, y, "F", size=s)]
    if key.startswith("status:"):
        status = key.split(":", 1)[1]
        dash, slashes = _STATUS_LINE[status]
        muted = status == "not_recorded"
        shapes: list[Any] = [
            Line(
                x,
                y,
                x + 30,
                y,
                strokeColor=MUTED if muted else INK,
                strokeWidth=0.8 if muted else LINE_WIDTH,
                strokeDashArray=dash,
            )
        ]
        for k in range(slashes):
            off = (k - (slashes - 1) / 2) * 3.2
            shapes.append(
                Line(cx + off - 2.5, y - 5, cx + off + 2.5, y + 5, strokeColor=INK, strokeWidth=1.0)
            )
        return shapes
    if key.startswith("child:"):
        kind = key.split(":", 1)[1]
        return [
            Line(x + 4, y + 6, x + 26, y + 6, strokeColor=INK, strokeWidth=LINE_WIDTH),
            Line(
                cx,
                y + 6,
                cx,
                y - 6,
                strokeColor=INK,
                strokeWidth=LINE_WIDTH,
                strokeDashArray=_CHILD_DASH[kind],
            ),
        ]
    if key == "twins":
        return [
            Line(x + 4, y + 6, x + 26, y + 6, strokeColor=INK, strokeWidth=LINE_WIDTH),
            Line(cx, y + 6, cx - 7, y - 6, strokeColor=INK, strokeWidth=LINE_WIDTH),
            Line(cx, y + 6, cx + 7, y - 6, strokeColor=INK, strokeWidth=LINE_WIDTH),
        ]
    if key == "household":
        return [
            _rounded_path(
                [(x + 1, y - 6), (x + 29, y - 6), (x + 29, y + 6), (x + 1, y + 6)],
                HOUSEHOLD_COLOUR,
                [1.2, 2.2],
                1.1,
            )
        ]
    if key == "abuse:both_ways":
        pts = [(x + 2, y), (x + 28, y)]
        return [
            PolyLine(_zigzag(pts, wave=4.0), strokeColor=ABUSE_COLOUR, strokeWidth=1.2, fillColor=None),
            _arrowhead((x + 30, y), (x + 20, y), ABUSE_COLOUR),
            _arrowhead((x, y), (x + 10, y), ABUSE_COLOUR),
        ]
    # abuse
    pts = [(x, y), (x + 28, y)]
    return [
        PolyLine(_zigzag(pts, wave=4.0), strokeColor=ABUSE_COLOUR, strokeWidth=1.2, fillColor=None),
        _arrowhead((x + 30, y), (x + 20, y), ABUSE_COLOUR),
    ]


def legend_drawing(G: nx.MultiDiGraph | None = None, *, width: float = 520.0, columns: int = 3) -> Drawing:
    """A key to the genogram: each symbol and line used, the badge styles and codes.

    Parameters
    ----------
    G
        The family graph the legend is for: only the symbols it uses and the badge codes
        its people carry are explained. Without it, every symbol (and no codes).
    width
        Width of the drawing in points; the height follows from the entries.
    columns
        Columns of symbol entries.
    """
    keys, codes = _legend_entries(G)
    return _legend(keys, codes, width, columns)


def _legend_entries(G: nx.MultiDiGraph | None) -> tuple[tuple[str, ...], tuple[Badge, ...]]:
    """What a legend shows for ``G``: the symbol entries, and one badge per code (by code)."""
    keys = tuple(k for k in _LEGEND_KEYS if k in _used(G))
    badges: dict[str, Badge] = {}
    if G is not None:
        for _, attrs in G.nodes(data=True):
            for b in attrs.get("badges") or []:
                badges.setdefault(b.code, b)
    return keys, tuple(badges[code]._replace(open=True) for code in sorted(badges))


_LEGENDS = threading.local()
_LEGENDS_KEPT = 256


def _shared_legend(G: nx.MultiDiGraph | None, *, width: float = 520.0, columns: int = 3) -> Drawing:
    """:func:`legend_drawing` of ``G``, built once per thread for each different legend.

    A legend depends only on which symbols and badge codes appear, so families share a few
    hundred legends at most. The drawing holds no personal data. Each thread keeps its own
    (a Drawing is marked while it is drawn, so two threads must not draw the same one).
    """
    keys, codes = _legend_entries(G)
    kept: OrderedDict[Any, Drawing] | None = getattr(_LEGENDS, "kept", None)
    if kept is None:
        kept = _LEGENDS.kept = OrderedDict()
    key = (keys, codes, width, columns)
    drawing = kept.get(key)
    if drawing is None:
        drawing = kept[key] = _legend(keys, codes, width, columns)
        if len(kept) > _LEGENDS_KEPT:
            kept.popitem(last=False)
    else:
        kept.move_to_end(key)
    return drawing


def _legend(keys: Sequence[str], codes: Sequence[Badge], width: float, columns: int) -> Drawing:
    """The legend of :func:`legend_drawing` from its entries."""
    register_fonts()
    col_w = width / columns
    text_w = col_w - 38
    size = 6.8
    entries: list[tuple[list[Any], list[str]]] = []
    for key in keys:
        entries.append((_legend_sample(key, 0, 0), wrap(_LEGEND_TEXT[key], size, text_w, max_lines=3)))
    style_entries = [
        (Badge("CP", "red", "", True), "Red: square corners, dark fill"),
        (Badge("EX", "amber", "", True), "Amber: rounded corners, light fill"),
        (Badge("EH", "green", "", True), "Green: pill shape, mid fill"),
        (Badge("EH", "green", "", False), "Closed or past: outline only, dashed"),
    ]
    rows: list[list[Any]] = []
    heights: list[float] = []

    def place(items: list[tuple[list[Any], list[str]]], sample_w: float) -> None:
        for start in range(0, len(items), columns):
            chunk = items[start : start + columns]
            h = max(max(len(lines), 1) * size * 1.25 + 5 for _, lines in chunk)
            h = max(h, 17.0)
            group: list[Any] = []
            for c, (shapes, lines) in enumerate(chunk):
                g = Group(*shapes)
                g.translate(c * col_w, -h / 2)
                group.append(g)
                ty = -h / 2 + (len(lines) - 1) * size * 0.62 - size * 0.35
                for line in lines:
                    group.append(_text(c * col_w + sample_w + 4, ty, line, size, anchor="start"))
                    ty -= size * 1.25
            rows.append(group)
            heights.append(h)

    place(entries, 30)
    rows.append([_text(0, -9, "Badges (interventions)", size + 0.6, bold=True, anchor="start")])
    heights.append(14.0)
    place(
        [
            ([*_badge_shapes(2, -BADGE_HEIGHT / 2, b)], wrap(text, size, text_w, max_lines=2))
            for b, text in style_entries
        ],
        30,
    )
    code_entries = []
    for b in codes:
        text = f"{clean_text(b.label)} ({_RAG_WORD.get(b.rag, b.rag)})"
        code_entries.append((b, text, badge_width(b.code)))
    if code_entries:
        sample_w = max(bw for *_, bw in code_entries) + 2
        place(
            [
                (
                    [*_badge_shapes(2, -BADGE_HEIGHT / 2, b)],
                    wrap(text, size, col_w - sample_w - 10, max_lines=3),
                )
                for b, text, _ in code_entries
            ],
            sample_w,
        )

    total = sum(heights) + 4
    drawing = Drawing(width, total)
    y = total - 2
    for group_items, h in zip(rows, heights, strict=True):
        g = Group(*group_items)
        g.translate(0, y)
        drawing.add(g)
        y -= h
    return drawing


# ------------------------------------------------------------------------------- writing


def write_drawing(drawing: Drawing, path: str | os.PathLike[str], fmt: str | None = None) -> Path:
    """Save a drawing alone as PDF or SVG (PNG needs ReportLab's ``rlPyCairo`` backend).

    Parameters
    ----------
    drawing
        A ReportLab drawing (e.g. from :func:`genogram_drawing`).
    path
        Where to write; the format defaults to its suffix.
    fmt
        ``"pdf"``, ``"svg"`` or ``"png"``.

    Raises
    ------
    RenderError
        For an unknown format, a missing PNG backend (use ``genogram.render.render(G, path,
        "png")`` instead), or a path that cannot be written.
    """
    target = Path(path)
    data = drawing_bytes(drawing, (fmt or target.suffix.lstrip(".")).lower())
    return write_atomic(target, data, what="drawing")


def drawing_bytes(drawing: Drawing, fmt: str) -> bytes:
    """A drawing alone as PDF, SVG or PNG bytes (the pure half of :func:`write_drawing`).

    Raises
    ------
    RenderError
        For an unknown format or a missing PNG backend.
    """
    register_fonts()
    if fmt not in DRAWING_FORMATS:
        raise RenderError(f"unknown drawing format {fmt!r}; expected one of {DRAWING_FORMATS}")
    if fmt == "pdf":
        data = renderPDF.drawToString(drawing, invariant=1)
    elif fmt == "svg":
        data = renderSVG.drawToString(drawing).encode("utf-8")
    else:
        try:
            from reportlab.graphics import renderPM

            data = renderPM.drawToString(drawing, fmt="PNG", dpi=150)
        except (ImportError, RenderPMError) as exc:  # no rlPyCairo (or _rl_renderPM) backend
            raise RenderError(
                "PNG needs ReportLab's rlPyCairo backend; write PDF or SVG, "
                "or a PNG drawn by Graphviz with genogram.render.render(G, path, 'png')"
            ) from exc
    return bytes(data)
