"""DOT: ranks and order pinned so real Graphviz keeps them; every label safe whatever the name."""

from __future__ import annotations

import doctest
import re
import xml.etree.ElementTree as ET

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import genogram.dot as dot_module
import genogram.labels as labels_module
from genogram.dot import dot_names, dot_string, to_dot
from genogram.graph import PARTNERSHIP, family_graph
from genogram.labels import clean_text, person_label
from genogram.layout import genogram_layout
from genogram.render import geometry, run_dot
from tests.genogram import family_builder as fb
from tests.genogram.family_fixture import AS_AT, FAMILY_ID, family_tables
from tests.genogram.golden import check_golden

SVG = "{http://www.w3.org/2000/svg}"


def fixture_graph() -> nx.MultiDiGraph:
    return family_graph(family_tables(), FAMILY_ID, as_at=AS_AT)


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("fixture.dot", fixture_graph),
        ("complex.dot", lambda: family_graph(fb.complex_family(), fb.COMPLEX_ID, as_at=fb.AS_AT)),
    ],
)
def test_dot_matches_golden(name, build):
    check_golden(name, to_dot(build()))


def test_dot_is_deterministic_and_carries_no_identifiers():
    G = fixture_graph()
    text = to_dot(G)
    assert text == to_dot(fixture_graph())
    assert "P-" not in text and "H-" not in text and "F-TEST" not in text
    ids = set(re.findall(r"^\s+([a-z]\w*) \[", text, flags=re.M)) - {"graph", "node", "edge"}
    assert ids and all(re.fullmatch(r"[pludjms]\d+(_\d+)?[plbh]?", i) for i in ids), ids


def assert_order_kept(G: nx.MultiDiGraph) -> None:
    """Real dot: each row at one height, rows top to bottom, nodes left to right as laid out."""
    lay = genogram_layout(G)
    names = dot_names(G, lay)
    nodes = geometry(to_dot(G, lay))["nodes"]
    heights = []
    for row in lay.rows:
        xs = [nodes[names.node[n]]["x"] for n in row]
        assert xs == sorted(xs) and len(set(xs)) == len(xs), "dot kept the order"
        people_y = {nodes[names.node[n]]["y"] for n in row}
        assert len(people_y) == 1, "one row, one height"
        heights.append(people_y.pop())
        for n in row:
            if n in names.label:
                label = nodes[names.label[n]]
                assert abs(label["x"] - nodes[names.node[n]]["x"]) < 0.5, "label under its symbol"
    assert heights == sorted(heights, reverse=True)
    for sib in lay.sibships:
        joints, _mid = names.bar[sib.anchor]
        bar_y = {nodes[j]["y"] for j, _ in joints}
        assert len(bar_y) == 1
        assert (
            max(nodes[names.node[c]]["y"] for c in sib.children)
            < bar_y.pop()
            < nodes[names.drop[sib.anchor]]["y"]
        )


@pytest.mark.parametrize("family", ["fixture", "complex", "large"])
def test_graphviz_keeps_rows_and_order(family):
    if family == "fixture":
        G = fixture_graph()
    elif family == "complex":
        G = family_graph(fb.complex_family(), fb.COMPLEX_ID, as_at=fb.AS_AT)
    else:
        G = family_graph(fb.large_family(), fb.LARGE_ID, as_at=fb.AS_AT)
    assert_order_kept(G)


@settings(max_examples=8)
@given(seed=st.integers(0, 10**6))
def test_graphviz_keeps_order_on_random_families(seed):
    family_id, tables = fb.random_family(seed)
    assert_order_kept(family_graph(tables, family_id, as_at=fb.AS_AT))


def test_node_sizes_are_the_measured_ones():
    G = fixture_graph()
    lay = genogram_layout(G)
    names = dot_names(G, lay)
    nodes = geometry(to_dot(G, lay))["nodes"]
    for n, label in names.label.items():
        measured = person_label(G.nodes[n])
        assert nodes[label]["width"] == pytest.approx(measured.width, abs=0.75)


# ---------------------------------------------------------------------------- escaping

NASTY = [
    'Zoë "Zee" O\'Neil',
    "Tom & Jerry &amp; &#60;",
    "<b>bold</b> <<html>>",
    "{braces} | pipes | <port>",
    "back\\slash \\N \\G \\n \\l \\\\",
    "tab\tnew\nline\r\x00\x07\x1b",
    "\u202eRTL override\u202c \u200fmark\u200e \u200bzero\u2066",
    "Ömer Şahin ÆØÅ 王秀英 محمد 👩‍👧",
    "x" * 500,
    "",
    "   ",
    "\ud800 lone surrogate",
]


_BASE = None


def one_person(name: str) -> nx.MultiDiGraph:
    """A child and her father, both given ``name`` (set on the graph: any Python string)."""
    global _BASE
    if _BASE is None:
        people_ = [
            ("A", "A", None, "F", fb.D(2012, 1, 1), None, "child", "H"),
            ("B", "B", None, "M", fb.D(1980, 1, 1), None, "parent", "H"),
        ]
        _BASE = family_graph(fb.tables("F", people_, [("B", "A", "father")]), "F", as_at=fb.AS_AT)
    G = _BASE.copy()
    G.nodes["A"]["name"] = name
    G.nodes["B"]["name"] = name + " &"
    return G


def svg_texts(svg: bytes) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def check_renders_safely(name: str) -> None:
    G = one_person(name)
    lay = genogram_layout(G)
    text = to_dot(G, lay)
    root = ET.fromstring(run_dot(text, "svg"))
    shown = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    for person in ("A", "B"):
        for line, _, _ in person_label(G.nodes[person]).lines:
            assert line in shown, (line, shown)
    # nothing escaped its label: exactly the nodes the DOT declares, and only clean text shown
    declared = {
        m.group(1)
        for m in re.finditer(r"^\s+([a-z]\w*) \[(.*)\];$", text, flags=re.M)
        if m.group(1) not in ("graph", "node", "edge") and "style=invis" not in m.group(2)
    }
    drawn = {
        "".join(g.find(f"{SVG}title").itertext()) for g in root.iter(f"{SVG}g") if g.get("class") == "node"
    }
    assert drawn == declared
    for t in shown:
        assert t == clean_text(t)


@pytest.mark.parametrize("name", NASTY, ids=range(len(NASTY)))
def test_nasty_names_render_safely(name):
    check_renders_safely(name)


@settings(max_examples=40)
@given(name=st.text(alphabet=st.characters(codec=None), max_size=80))
def test_any_name_renders_safely(name):
    check_renders_safely(name)


@given(text=st.text(max_size=200))
def test_dot_string_is_one_quoted_token(text):
    quoted = dot_string(text)
    assert quoted.startswith('"') and quoted.endswith('"')
    body = quoted[1:-1]
    assert not re.search(r'(?<!\\)(\\\\)*"', body), "no unescaped quote"
    assert "\n" not in body and "\r" not in body
    assert not re.search(r"&(?!amp;)", body), "every ampersand is an entity"
    unescaped = body.replace("&amp;", "&").replace('\\"', '"').replace("\\\\", "\\")
    assert unescaped == clean_text(text)


@given(text=st.text(max_size=300))
def test_clean_text_is_idempotent_and_printable(text):
    once = clean_text(text)
    assert clean_text(once) == once
    assert all(ch.isprintable() for ch in once)
    assert len(once) <= labels_module.MAX_TEXT


def test_partnership_nodes_are_between_partners_in_dot_chain():
    G = fixture_graph()
    lay = genogram_layout(G)
    text = to_dot(G, lay)
    names = dot_names(G, lay)
    for u in G:
        if G.nodes[u]["kind"] == PARTNERSHIP:
            a, b = sorted(G.nodes[u]["partners"], key=lay.index)
            assert f"{names.node[a]} -> {names.node[u]}" in text
            assert f"{names.node[u]} -> {names.node[b]}" in text


def test_doctests():
    for module in (dot_module, labels_module):
        failures, tried = doctest.testmod(module, raise_on_error=False)
        assert tried and not failures, module.__name__


def test_abuse_recorded_both_ways_is_one_edge_with_the_incidents_against_each_at_their_end():
    G = family_graph(fb.mutual_abuse_family(), fb.MUTUAL_ID, as_at=fb.AS_AT)
    lay = genogram_layout(G)
    names = dot_names(G, lay)
    text = to_dot(G, lay)
    edges = [line for line in text.splitlines() if "recorded" in line and "->" in line]
    assert len(edges) == 1 and "dir=both" in edges[0] and 'xlabel="recorded both ways"' in edges[0]
    tail, head = re.match(r"\s+(\w+) -> (\w+)", edges[0]).groups()
    by_name = {names.node[n]: n for n in names.node}
    against = {"F": "3", "M": "1"}  # three incidents against the mother, one against the father
    assert f'headlabel="{against[G.nodes[by_name[head]]["sex"]]}"' in edges[0]
    assert f'taillabel="{against[G.nodes[by_name[tail]]["sex"]]}"' in edges[0]
    geometry(text)  # real dot reads it
