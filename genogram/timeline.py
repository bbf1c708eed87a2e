"""The intervention timeline: one swim-lane per person, drawn as a ReportLab ``Drawing``.

Episodes (a child protection plan, a looked-after period, an early help episode) are bars from
their start to their end; episodes still open at the as-at date run to it and end in an arrow.
Incidents (a domestic abuse notification, a contact) are diamonds. Every bar and marker is
filled with its RAG colour **and** carries its badge and RAG letter (``CP R``), so the chart
still reads when printed in greyscale. Overlapping items in one lane stack in sub-rows.

The functions are pure: they take the (already redacted) ``interventions`` table and return
drawings; :mod:`genogram.fsr` places them in the PDF.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import pandas as pd
from reportlab.graphics.shapes import Drawing, Group, Line, Polygon, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from genogram._pdf import (
    FONT,
    FONT_BOLD,
    GREY,
    INK,
    RAG_EDGE,
    RAG_FILL,
    RAG_LETTER,
    clean_text,
    fit_text,
    format_date,
    is_missing,
    register_fonts,
)
from genogram.access import default_vocabulary
from genogram.errors import RenderError
from ingest.vocabulary import InterventionVocabulary

__all__ = ["DEFAULT_YEARS", "POINT_TYPES", "timeline_drawing", "timeline_drawings"]

POINT_TYPES: frozenset[str] = frozenset({"domestic_abuse_incident", "contact_referral"})
"""Event types drawn as incident markers rather than episode bars."""
DEFAULT_YEARS = 5
"""Default window: from 1 January five years before the as-at year up to the as-at date."""

_LABEL_W = 118.0
_ROW_H = 12.0
_BAR_H = 9.0
_LANE_PAD = 3.0
_AXIS_H = 24.0
_KEY_H = 22.0
_TEXT = 6.3
_NAME = 7.4
_GAP = 3.0
_ARROW = 5.0
_DIAMOND = 4.2
_LANE_SHADE = colors.HexColor("#F2F4F7")
_GRID = colors.HexColor("#C9CED6")
_AS_AT = colors.HexColor("#1F4E9A")


@dataclass
class _Item:
    x0: float
    x1: float
    end: float  # rightmost point used, label included
    point: bool
    text: str
    rag: str
    open: bool
    clipped: bool
    inside: bool
    row: int = 0


@dataclass
class _Lane:
    label: str
    items: list[_Item]
    rows: int

    @property
    def height(self) -> float:
        return max(self.rows, 1) * _ROW_H + 2 * _LANE_PAD


class _Scale:
    def __init__(self, start: dt.date, stop: dt.date, x0: float, x1: float) -> None:
        self.start, self.stop, self.x0, self.x1 = start, stop, x0, x1
        self.days = max((stop - start).days, 1)

    def x(self, day: dt.date) -> float:
        return self.x0 + (day - self.start).days / self.days * (self.x1 - self.x0)


def _as_date(value: object) -> dt.date | None:
    if is_missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None


def _items(
    rows: pd.DataFrame,
    scale: _Scale,
    as_at: dt.date,
    vocabulary: InterventionVocabulary,
    point_types: Collection[str],
) -> list[_Item]:
    items: list[_Item] = []
    for kind, start_v, end_v, role in zip(
        rows["event_type"], rows["start_date"], rows["end_date"], rows["role"], strict=True
    ):
        start, end = _as_date(start_v), _as_date(end_v)
        if start is None or start > as_at or (end is not None and end < scale.start):
            continue
        if kind in vocabulary:
            typ = vocabulary.types[kind]
            badge, rag = typ.badge_for(None if is_missing(role) else str(role)), typ.rag
        else:
            badge, rag = clean_text(kind, 8).upper() or "?", "amber"
        text = f"{badge} {RAG_LETTER[rag]}"
        width = stringWidth(text, FONT_BOLD, _TEXT)
        if kind in point_types:
            x = scale.x(max(start, scale.start))
            item = _Item(x, x, x + _DIAMOND + 2 + width, True, text, rag, False, start < scale.start, False)
        else:
            is_open = end is None or end > as_at
            x0 = scale.x(max(start, scale.start))
            x1 = max(scale.x(as_at if is_open else min(end or as_at, as_at)), x0 + 2.5)
            inside = width + 4 <= x1 - x0
            tail = x1 + (_ARROW if is_open else 0)
            stop = tail if inside else tail + 2 + width
            item = _Item(x0, x1, stop, False, text, rag, is_open, start < scale.start, inside)
        items.append(item)
    items.sort(key=lambda i: (i.x0 - (_DIAMOND if i.point else 0), i.text))
    ends: list[float] = []
    for item in items:
        left = item.x0 - (_DIAMOND if item.point else 0) - (_ARROW if item.clipped else 0)
        for row, last in enumerate(ends):
            if last + _GAP <= left:
                item.row, ends[row] = row, item.end
                break
        else:
            item.row = len(ends)
            ends.append(item.end)
    return items


def _layout(
    interventions: pd.DataFrame,
    lanes: Sequence[tuple[str, str]],
    scale: _Scale,
    as_at: dt.date,
    vocabulary: InterventionVocabulary,
    point_types: Collection[str],
) -> list[_Lane]:
    missing = [
        c for c in ("person_id", "event_type", "start_date", "end_date", "role") if c not in interventions
    ]
    if missing:
        raise RenderError(f"interventions table lacks column(s) {missing}")
    by_person = {str(k): g for k, g in interventions.groupby("person_id", sort=False)}
    out = []
    for person_id, label in lanes:
        rows = by_person.get(str(person_id), interventions.iloc[0:0])
        items = _items(rows, scale, as_at, vocabulary, point_types)
        out.append(_Lane(clean_text(label, 120), items, 1 + max((i.row for i in items), default=0)))
    return out


def _draw_axis(group: Group, scale: _Scale, top: float, bottom: float) -> None:
    for year in range(scale.start.year, scale.stop.year + 1):
        day = dt.date(year, 1, 1)
        if day < scale.start or scale.x(day) + stringWidth(str(year), FONT, 7) + 2 > scale.x1:
            continue
        x = scale.x(day)
        group.add(Line(x, bottom, x, top, strokeColor=_GRID, strokeWidth=0.4))
        group.add(String(x + 2, top + 3, str(year), fontName=FONT, fontSize=7, fillColor=GREY))


def _draw_item(group: Group, item: _Item, y: float) -> None:
    """Draw one item with its vertical centre at ``y``."""
    fill, edge = RAG_FILL[item.rag], RAG_EDGE[item.rag]
    if item.point:
        d = _DIAMOND
        group.add(
            Polygon(
                [item.x0 - d, y, item.x0, y + d, item.x0 + d, y, item.x0, y - d],
                fillColor=fill,
                strokeColor=edge,
                strokeWidth=0.8,
            )
        )
        group.add(
            String(item.x0 + d + 2, y - 2.2, item.text, fontName=FONT_BOLD, fontSize=_TEXT, fillColor=INK)
        )
        return
    h = _BAR_H
    group.add(
        Rect(item.x0, y - h / 2, item.x1 - item.x0, h, fillColor=fill, strokeColor=edge, strokeWidth=0.7)
    )
    if item.open:
        group.add(
            Polygon(
                [item.x1, y - h / 2 - 1, item.x1 + _ARROW, y, item.x1, y + h / 2 + 1],
                fillColor=edge,
                strokeColor=edge,
                strokeWidth=0.5,
            )
        )
    if item.clipped:
        group.add(
            Polygon(
                [item.x0, y - h / 2, item.x0 - _ARROW + 1, y, item.x0, y + h / 2],
                fillColor=edge,
                strokeColor=edge,
                strokeWidth=0.5,
            )
        )
    x = item.x0 + 2 if item.inside else item.x1 + (_ARROW if item.open else 0) + 2
    group.add(String(x, y - 2.2, item.text, fontName=FONT_BOLD, fontSize=_TEXT, fillColor=INK))


def _draw_key(group: Group, x: float, y: float, start: dt.date) -> None:
    """The key: RAG colours with their letters, open episodes, incidents, earlier starts."""
    entries: list[tuple[str, str]] = [
        ("bar:red", "R red"),
        ("bar:amber", "A amber"),
        ("bar:green", "G green"),
        ("open", "open at the as-at date"),
        ("point", "incident"),
        ("clipped", f"began before {format_date(start)}"),
    ]
    for shape, text in entries:
        if shape.startswith("bar:"):
            rag = shape[4:]
            group.add(
                Rect(x, y - 4, 14, 8, fillColor=RAG_FILL[rag], strokeColor=RAG_EDGE[rag], strokeWidth=0.7)
            )
            group.add(String(x + 4.5, y - 2.2, RAG_LETTER[rag], fontName=FONT_BOLD, fontSize=_TEXT))
            x += 17
            text = text[2:]
        elif shape == "open":
            group.add(Rect(x, y - 4, 10, 8, fillColor=colors.white, strokeColor=GREY, strokeWidth=0.7))
            group.add(Polygon([x + 10, y - 5, x + 15, y, x + 10, y + 5], fillColor=GREY, strokeColor=GREY))
            x += 18
        elif shape == "point":
            d = _DIAMOND
            group.add(
                Polygon(
                    [x, y, x + d, y + d, x + 2 * d, y, x + d, y - d],
                    fillColor=colors.white,
                    strokeColor=GREY,
                    strokeWidth=0.8,
                )
            )
            x += 2 * d + 3
        else:
            group.add(Polygon([x + 5, y - 4, x, y, x + 5, y + 4], fillColor=GREY, strokeColor=GREY))
            group.add(Rect(x + 5, y - 4, 8, 8, fillColor=colors.white, strokeColor=GREY, strokeWidth=0.7))
            x += 16
        group.add(String(x, y - 2.4, text, fontName=FONT, fontSize=6.8, fillColor=GREY))
        x += stringWidth(text, FONT, 6.8) + 12


def _render(lanes: Sequence[_Lane], scale: _Scale, as_at: dt.date, width: float, key: bool) -> Drawing:
    body = sum(lane.height for lane in lanes)
    height = _AXIS_H + body + (_KEY_H if key else 4)
    drawing = Drawing(width, height, initialFontName=FONT, initialFontSize=_TEXT)
    group = Group()
    top = height - _AXIS_H
    bottom = top - body
    y = top
    for n, lane in enumerate(lanes):
        if n % 2 == 0:
            group.add(Rect(0, y - lane.height, width, lane.height, fillColor=_LANE_SHADE, strokeColor=None))
        y -= lane.height
    _draw_axis(group, scale, top, bottom)
    group.add(Line(scale.x0, top, scale.x1, top, strokeColor=GREY, strokeWidth=0.6))
    y = top
    for lane in lanes:
        name = fit_text(lane.label, FONT, _NAME, _LABEL_W - 8)
        group.add(
            String(4, y - _LANE_PAD - _ROW_H / 2 - 2.5, name, fontName=FONT, fontSize=_NAME, fillColor=INK)
        )
        if not lane.items:
            group.add(
                String(
                    scale.x0 + 4,
                    y - _LANE_PAD - _ROW_H / 2 - 2.5,
                    "none in this period",
                    fontName=FONT,
                    fontSize=_TEXT,
                    fillColor=GREY,
                )
            )
        for item in lane.items:
            _draw_item(group, item, y - _LANE_PAD - item.row * _ROW_H - _ROW_H / 2)
        y -= lane.height
    x = scale.x(as_at)
    group.add(Line(x, bottom, x, top + 1, strokeColor=_AS_AT, strokeWidth=0.9, strokeDashArray=[2.5, 1.5]))
    label = f"as at {format_date(as_at)}"
    label_w = stringWidth(label, FONT_BOLD, 6.8)
    group.add(
        String(
            min(x - label_w / 2, width - label_w),
            top + 13,
            label,
            fontName=FONT_BOLD,
            fontSize=6.8,
            fillColor=_AS_AT,
        )
    )
    if key:
        _draw_key(group, 4, bottom - _KEY_H / 2 - 1, scale.start)
    drawing.add(group)
    return drawing


def _window(as_at: dt.date, start: dt.date | None, width: float) -> _Scale:
    if width < _LABEL_W + 120:
        raise RenderError(f"timeline width {width} is too narrow (at least {_LABEL_W + 120} points)")
    first = start if start is not None else dt.date(as_at.year - DEFAULT_YEARS, 1, 1)
    if first >= as_at:
        raise RenderError("timeline start must be before the as-at date")
    span = (as_at - first).days
    stop = as_at + dt.timedelta(days=max(span // 25, 20))  # room for arrows and labels
    return _Scale(first, stop, _LABEL_W, width - 8)


def timeline_drawings(
    interventions: pd.DataFrame,
    lanes: Sequence[tuple[str, str]],
    *,
    as_at: dt.date,
    vocabulary: InterventionVocabulary | None = None,
    start: dt.date | None = None,
    width: float = 515.0,
    max_height: float = 640.0,
    point_types: Collection[str] = POINT_TYPES,
) -> list[Drawing]:
    """The timeline split into drawings no taller than ``max_height`` (for page-sized pieces).

    Each piece has its own axis and key; a lane is never split.

    Parameters
    ----------
    interventions : pandas.DataFrame
        Rows of the ``interventions`` table (``person_id``, ``event_type``, ``start_date``,
        ``end_date``, ``role``), already redacted for the reader.
    lanes : Sequence[tuple[str, str]]
        ``(person_id, label)`` per lane, top to bottom. Only these people are drawn.
    as_at : datetime.date
        The as-at date: open episodes run to it, and a dashed line marks it.
    vocabulary : InterventionVocabulary, optional
        Badges, role badges (DA-V/DA-S) and RAG (default: the shipped vocabulary).
    start : datetime.date, optional
        Left edge (default: 1 January :data:`DEFAULT_YEARS` years before the as-at year).
        Episodes that began earlier are drawn from the edge with a left arrow.
    width, max_height : float
        Size limits in points.
    point_types : Collection[str]
        Event types drawn as incident markers.

    Returns
    -------
    list[reportlab.graphics.shapes.Drawing]
        At least one drawing (an empty axis when there are no lanes).

    Raises
    ------
    RenderError
        If the width is too small, ``start`` is not before ``as_at`` or a column is missing.
    """
    register_fonts()
    vocab = vocabulary if vocabulary is not None else default_vocabulary()
    scale = _window(as_at, start, width)
    laid = _layout(interventions, lanes, scale, as_at, vocab, point_types)
    budget = max_height - _AXIS_H - _KEY_H
    pieces: list[list[_Lane]] = [[]]
    used = 0.0
    for lane in laid:
        if pieces[-1] and used + lane.height > budget:
            pieces.append([])
            used = 0.0
        pieces[-1].append(lane)
        used += lane.height
    return [_render(piece, scale, as_at, width, key=True) for piece in pieces]


def timeline_drawing(
    interventions: pd.DataFrame,
    lanes: Sequence[tuple[str, str]],
    *,
    as_at: dt.date,
    vocabulary: InterventionVocabulary | None = None,
    start: dt.date | None = None,
    width: float = 515.0,
    point_types: Collection[str] = POINT_TYPES,
) -> Drawing:
    """The whole timeline as one drawing (see :func:`timeline_drawings` for the parameters).

    Examples
    --------
    >>> import datetime as dt, pandas as pd
    >>> rows = pd.DataFrame({"person_id": ["p1"], "event_type": ["child_in_need"],
    ...                      "start_date": [dt.date(2025, 1, 6)], "end_date": [None], "role": [None]})
    >>> d = timeline_drawing(rows, [("p1", "Child A")], as_at=dt.date(2026, 1, 1))
    >>> d.width
    515.0
    """
    register_fonts()
    vocab = vocabulary if vocabulary is not None else default_vocabulary()
    scale = _window(as_at, start, width)
    laid = _layout(interventions, lanes, scale, as_at, vocab, point_types)
    return _render(laid, scale, as_at, width, key=True)
