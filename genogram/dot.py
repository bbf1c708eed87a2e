"""The family graph as Graphviz DOT, with rows and order pinned (pure; no Graphviz call).

Each generation becomes three ranks (four when it needs headroom), chained top to bottom
by an invisible spine:

``headroom``
    only above a row with recorded-abuse arcs or lines between non-adjacent partners: an
    empty rank whose height is the room those lines need;
``people``
    symbols and partnership points, in the layout's order, joined by the partnership
    lines (``rank=same`` and a chain of heavy flat edges, invisible where no line is drawn);
``labels``
    one text node under each person (its measured size reserves the room the drawing
    needs) and an invisible point under each partnership with children, for the drop;
``bars``
    the sibship bars: a joint above each child (twins share one) and the point the drop
    lands on.

dot therefore only computes x coordinates; the drawing (:mod:`genogram.drawing`) reads them
back from ``dot -Tjson``. The DOT also renders on its own (``dot -Tsvg``), approximating the
notation that dot cannot draw. Node ids are opaque (``p3``, ``u1``): nothing identifying
reaches an SVG ``<title>``. Every label goes through :func:`dot_string`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import networkx as nx

from genogram.graph import CHILD, PARTNERSHIP, UNKNOWN_PARENT, abuse_arrows, extra_lines
from genogram.labels import clean_text, incidents_text, partnership_text, person_label
from genogram.layout import GenogramLayout, genogram_layout
from genogram.style import LABEL_GAP, SYMBOL

__all__ = ["ARC_STEP", "BRACKET_STEP", "DotNames", "dot_names", "dot_string", "to_dot"]

_PT = 72.0
_SUBJECT_MARGIN = 8.0
_CHILD_STYLE = {"birth": "solid", "adopted": "dashed", "foster": "dotted", "step": "dashed"}
_STATUS_STYLE = {
    "married": ("solid", ""),
    "cohabiting": ("dashed", ""),
    "separated": ("solid", "/"),
    "divorced": ("solid", "//"),
    "ex": ("dashed", "/"),
    "not_recorded": ("solid", ""),
}
_ABUSE_COLOUR = "#B2182B"
#: Height each recorded-abuse arc and each bracket between non-adjacent partners adds above a row.
ARC_STEP = 9.0
BRACKET_STEP = 5.0


def dot_string(text: object) -> str:
    """A DOT double-quoted string showing ``text`` literally, whatever it contains.

    The text is cleaned (:func:`genogram.labels.clean_text`: no control, format or bidi
    characters, bounded length); then backslashes (which start Graphviz escapes such as
    ``\\N``), double quotes and ampersands (which start entity references) are escaped.
    Lines are joined with ``\\n`` by the caller, never taken from the text.

    Examples
    --------
    >>> print(dot_string('Zoë "Zee" O\\'Neil & Co \\\\N'))
    "Zoë \\"Zee\\" O'Neil &amp; Co \\\\N"
    """
    clean = clean_text(text)
    return '"' + clean.replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;") + '"'


def _lines(lines: Iterable[str]) -> str:
    """A multi-line DOT label: each line escaped, joined by ``\\n``."""
    return '"' + "\\n".join(dot_string(line)[1:-1] for line in lines) + '"'


def _inches(points: float) -> str:
    return f"{points / _PT:.4f}"


class DotNames:
    """The opaque DOT id of every element drawn for a family graph.

    Attributes
    ----------
    node
        Person, placeholder or partnership -> ``p<i>`` / ``u<i>``.
    label
        Person -> its label node ``l<i>``.
    drop
        Partnership (or lone carer) with children -> the point under it ``d<i>``.
    bar
        Anchor -> its sibship bar: ``[(joint, children), ...]`` left to right, and the
        joint the drop lands on.
    """

    def __init__(self, G: nx.MultiDiGraph, layout: GenogramLayout) -> None:
        self.node: dict[str, str] = {}
        self.label: dict[str, str] = {}
        self.drop: dict[str, str] = {}
        self.bar: dict[str, tuple[list[tuple[str, tuple[str, ...]]], str]] = {}
        people = unions = 0
        for row in layout.rows:
            for n in row:
                if G.nodes[n]["kind"] == PARTNERSHIP:
                    self.node[n] = f"u{unions}"
                    unions += 1
                else:
                    self.node[n] = f"p{people}"
                    self.label[n] = f"l{people}"
                    people += 1
        for k, sib in enumerate(layout.sibships):
            anchor = sib.anchor
            self.drop[anchor] = self.label.get(anchor, f"d{k}")
            twin_of = {c: group for group in sib.twins for c in group}
            groups: list[tuple[str, ...]] = []
            for child in sib.children:
                group = twin_of.get(child, (child,))
                if group not in groups:
                    groups.append(group)
            joints = [(f"j{k}_{i}", g) for i, g in enumerate(groups)]
            if len(joints) % 2:
                mid = joints[len(joints) // 2][0]
            else:
                mid = f"m{k}"
                joints.insert(len(joints) // 2, (mid, ()))
            self.bar[anchor] = (joints, mid)

    def line_from(self, anchor: str) -> str:
        """The node a secondary child line leaves: a partnership point, or a carer's label."""
        return self.label.get(anchor, self.node[anchor])


def dot_names(G: nx.MultiDiGraph, layout: GenogramLayout) -> DotNames:
    """The opaque DOT ids :func:`to_dot` gives ``G``'s elements under ``layout``."""
    return DotNames(G, layout)


def _attrs(**kv: object) -> str:
    parts = []
    for k, v in kv.items():
        if v is None or v == "":
            continue
        parts.append(f"{k}={v}")
    return " [" + ", ".join(parts) + "]" if parts else ""


def _person_node(G: nx.MultiDiGraph, n: str) -> str:
    a = G.nodes[n]
    size = SYMBOL + (_SUBJECT_MARGIN if a["subject"] else 0.0)
    if a["kind"] == UNKNOWN_PARENT:
        return _attrs(
            shape="diamond",
            style="dashed",
            color='"#6B6B6B"',
            label='"?"',
            width=_inches(size),
            height=_inches(size),
        )
    shape = {"M": "box", "F": "circle"}.get(a["sex"], "diamond")
    label = person_label(a).inside
    return _attrs(
        shape=shape,
        width=_inches(size),
        height=_inches(size),
        peripheries=2 if a["subject"] else None,
        label='"X"' if a["deceased"] else dot_string(label),
        fontsize=16 if a["deceased"] else None,
    )


def _label_node(G: nx.MultiDiGraph, n: str) -> str:
    lab = person_label(G.nodes[n])
    lines = [t for t, _, _ in lab.lines]
    lines += [" ".join(b.code + ("" if b.open else "*") for b in row) for row in lab.badge_rows]
    return _attrs(
        shape="plaintext",
        width=_inches(lab.width),
        height=_inches(lab.height + LABEL_GAP),
        label=_lines(lines),
        labelloc="t",
    )


def _union_node(G: nx.MultiDiGraph, u: str) -> str:
    status = G.nodes[u]["status"]
    _, marks = _STATUS_STYLE.get(status, ("solid", ""))
    text = partnership_text(G.nodes[u])
    if marks:
        return _attrs(
            shape="plaintext",
            width="0.12",
            height="0.12",
            label=f'"{marks}"',
            fontsize=8,
            xlabel=dot_string(text),
        )
    return _attrs(shape="point", width="0.06", height="0.06", xlabel=dot_string(text))


def to_dot(G: nx.MultiDiGraph, layout: GenogramLayout | None = None) -> str:
    """DOT for a family graph, generations and order pinned so dot keeps them.

    Parameters
    ----------
    G
        A family graph from :func:`genogram.graph.family_graph`.
    layout
        Its layout; computed with :func:`genogram.layout.genogram_layout` when omitted.

    Returns
    -------
    str
        A ``digraph``. Node sizes are in inches, fixed (``fixedsize=true``) from the
        drawing's own font metrics.

    Examples
    --------
    >>> from tests.genogram.family_fixture import AS_AT, FAMILY_ID, family_tables
    >>> from genogram.graph import family_graph
    >>> text = to_dot(family_graph(family_tables(), FAMILY_ID, as_at=AS_AT))
    >>> text.splitlines()[0], "Lily Price" in text, "P-SUBJ" in text
    ('digraph genogram {', True, False)
    """
    layout = layout if layout is not None else genogram_layout(G)
    names = dot_names(G, layout)
    out = [
        "digraph genogram {",
        "  graph [rankdir=TB, newrank=true, nodesep=0.1, ranksep=0.2, splines=polyline, "
        'fontname="DejaVu Sans", forcelabels=true, outputorder=edgesfirst];',
        '  node [fontname="DejaVu Sans", fontsize=7, fixedsize=true, penwidth=1.1, label=""];',
        "  edge [dir=none, penwidth=1.1, arrowsize=0.6];",
    ]
    spine: list[str] = []
    for g, row in enumerate(layout.rows):
        out.append(f"  // generation {g}")
        room = _headroom(G, layout, row)
        if room:
            # room above the row for recorded-abuse arcs and lines between non-adjacent partners
            out.append(
                f"  {{ rank=same; s{g}h [shape=point, style=invis, width=0.01, height={_inches(room)}]; }}"
            )
            spine.append(f"s{g}h")
        # people and partnership points
        people_rank = [f"s{g}p"]
        decl = [f"    s{g}p [shape=point, style=invis, width=0.01, height=0.01];"]
        for n in row:
            node = names.node[n]
            people_rank.append(node)
            if G.nodes[n]["kind"] == PARTNERSHIP:
                decl.append(f"    {node}{_union_node(G, n)};")
            else:
                decl.append(f"    {node}{_person_node(G, n)};")
        out += ["  { rank=same;", *decl, *_flat_chain(G, layout, names, row, people_rank), "  }"]
        # labels and drops
        label_rank = [f"s{g}l"]
        decl = [f"    s{g}l [shape=point, style=invis, width=0.01, height=0.01];"]
        for n in row:
            if n in names.label:
                label_rank.append(names.label[n])
                decl.append(f"    {names.label[n]}{_label_node(G, n)};")
            elif n in names.drop:
                label_rank.append(names.drop[n])
                decl.append(f"    {names.drop[n]} [shape=point, style=invis, width=0.01, height=0.01];")
        out += ["  { rank=same;", *decl, *_invisible_chain(label_rank), "  }"]
        # sibship bars of the anchors on this row
        bar_rank = [f"s{g}b"]
        decl = [f"    s{g}b [shape=point, style=invis, width=0.01, height=0.01];"]
        bars: set[tuple[str, str]] = set()
        for sib in layout.sibships:
            if layout.generation[sib.anchor] != g:
                continue
            joints, _ = names.bar[sib.anchor]
            for joint, _children in joints:
                bar_rank.append(joint)
                decl.append(f"    {joint} [shape=point, width=0.02, height=0.02];")
            bars.update((a, b) for (a, _), (b, _) in itertools.pairwise(joints))
        visible = [
            f"    {a} -> {b} [weight=10];" for a, b in sorted(bars, key=lambda ab: bar_rank.index(ab[0]))
        ]
        out += ["  { rank=same;", *decl, *_invisible_chain(bar_rank, skip=bars), *visible, "  }"]
        spine += [f"s{g}p", f"s{g}l", f"s{g}b"]

    out.append("  // rows top to bottom")
    out += [f"  {a} -> {b} [style=invis];" for a, b in itertools.pairwise(spine)]
    out.append("  // each label under its symbol; drops, bars and child lines")
    for row in layout.rows:
        for n in row:
            if n in names.label:
                out.append(f"  {names.node[n]} -> {names.label[n]} [style=invis, weight=1000];")
    for sib in layout.sibships:
        anchor = sib.anchor
        joints, mid = names.bar[anchor]
        drop = names.drop[anchor]
        if anchor not in names.label:
            out.append(f"  {names.node[anchor]} -> {drop} [weight=1000];")
        out.append(f"  {drop} -> {mid} [weight=100];")
        for joint, children in joints:
            for child in children:
                style = _CHILD_STYLE[_child_type(G, anchor, child)]
                out.append(f"  {joint} -> {names.node[child]}{_attrs(weight=100, style=style)};")
    out.append("  // secondary child lines (adoptive, foster, step) and recorded abuse: no layout effect")
    for row in layout.rows:
        for child in row:
            if child not in names.label:
                continue
            for anchor, kind in extra_lines(G, child):
                out.append(
                    f"  {names.line_from(anchor)} -> {names.node[child]}"
                    f"{_attrs(constraint='false', style=_CHILD_STYLE[kind], color='gray45')};"
                )
    out += _abuse_edges(G, layout, names)
    out.append("}")
    return "\n".join(out) + "\n"


def _headroom(G: nx.MultiDiGraph, layout: GenogramLayout, row: tuple[str, ...]) -> float:
    """Points needed above a row for abuse arcs and brackets between non-adjacent partners."""
    here = set(row)
    arcs = sum(1 for arrow in abuse_arrows(G) if {arrow.suspect, arrow.victim} <= here)
    brackets = 0
    for u in row:
        if G.nodes[u]["kind"] == PARTNERSHIP and all(p in here for p in G.nodes[u]["partners"]):
            i, j = sorted(layout.index(p) for p in G.nodes[u]["partners"])
            brackets += any(G.nodes[n]["kind"] != PARTNERSHIP for n in row[i + 1 : j])
    return 0.0 if not arcs + brackets else 4.0 + ARC_STEP * arcs + BRACKET_STEP * brackets


def _child_type(G: nx.MultiDiGraph, anchor: str, child: str) -> str:
    types = [
        d["child_type"] for _, c, d in G.out_edges(anchor, data=True) if c == child and d["kind"] == CHILD
    ]
    return str(types[0]) if types else "birth"


def _invisible_chain(nodes: list[str], *, skip: set[tuple[str, str]] | None = None) -> list[str]:
    skip = skip or set()
    return [
        f"    {a} -> {b} [style=invis, weight=5];" for a, b in itertools.pairwise(nodes) if (a, b) not in skip
    ]


def _flat_chain(
    G: nx.MultiDiGraph, layout: GenogramLayout, names: DotNames, row: tuple[str, ...], ranked: list[str]
) -> list[str]:
    """Partnership lines where partners are next to their partnership point; else invisible."""
    lines: list[str] = []
    drawn: set[tuple[str, str]] = set()
    for u in row:
        if G.nodes[u]["kind"] != PARTNERSHIP:
            continue
        style, _ = _STATUS_STYLE.get(G.nodes[u]["status"], ("solid", ""))
        colour = "gray45" if G.nodes[u]["status"] == "not_recorded" else None
        for partner in G.nodes[u]["partners"]:
            if layout.generation[partner] != layout.generation[u]:
                continue
            a, b = (partner, u) if layout.index(partner) < layout.index(u) else (u, partner)
            pair = (names.node[a], names.node[b])
            lines.append(f"    {pair[0]} -> {pair[1]}{_attrs(weight=50, style=style, color=colour)};")
            drawn.add(pair)
    return _invisible_chain(ranked, skip=drawn) + lines


def _abuse_edges(G: nx.MultiDiGraph, layout: GenogramLayout, names: DotNames) -> list[str]:
    """One edge per suspect and victim; abuse recorded both ways is one edge with two heads,
    the incidents against each person as its head and tail labels."""
    out = []
    where = {n: (layout.generation[n], layout.index(n)) for n in names.node}
    for arrow in abuse_arrows(G):
        a, b = arrow.suspect, arrow.victim
        forward = where[a] <= where[b]
        tail, head = (a, b) if forward else (b, a)
        labels: dict[str, object] = {}
        if arrow.back:
            text = "recorded both ways"
            against = {b: arrow.incidents, a: arrow.back}
            labels = {
                "headlabel": dot_string(str(against[head])),
                "taillabel": dot_string(str(against[tail])),
            }
        else:
            text = incidents_text(arrow.incidents)
        out.append(
            f"  {names.node[tail]} -> {names.node[head]}"
            + _attrs(
                constraint="false",
                color=f'"{_ABUSE_COLOUR}"',
                fontcolor=f'"{_ABUSE_COLOUR}"',
                penwidth="1.6",
                style="bold",
                dir="both" if arrow.back else "forward" if forward else "back",
                arrowhead="normal",
                arrowtail="normal",
                xlabel=dot_string(text),
                **labels,
                fontsize=6,
            )
            + ";"
        )
    return out
