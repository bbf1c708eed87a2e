"""Genogram layout: generations in rows, and the order a reader of a genogram expects."""

from __future__ import annotations

import doctest
import random

import networkx as nx
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import genogram.layout as layout_module
from genogram.graph import CHILD, PARTNERSHIP, family_graph, people
from genogram.layout import GenogramLayout, generations, genogram_layout
from tests.genogram import family_builder as fb
from tests.genogram.family_fixture import AS_AT, FAMILY_ID, family_tables


def persons_only(row):
    return [n for n in row if not n.startswith("U:")]


def parent_people(G: nx.MultiDiGraph, anchor: str) -> tuple[str, ...]:
    return tuple(G.nodes[anchor]["partners"]) if G.nodes[anchor]["kind"] == PARTNERSHIP else (anchor,)


ROW_CASES = [
    {
        "description": "fixture: grandparents; the mother between her two partners, the father's "
        "ex-partner beyond him; half-sister under her own parents, then full siblings, then twins",
        "family": "fixture",
        "rows": [
            ["P-GF", "P-GM"],
            ["P-EX", "P-DAD", "P-MUM", "P-NEW"],
            ["P-HALF", "P-BRO", "P-SUBJ", "P-TW1", "P-TW2"],
        ],
    },
    {
        "description": "complex: each side's grandparents above their child; a mother with three "
        "partners, the one with most children beside her; cousins under their own parents",
        "family": "complex",
        "rows": [
            ["GF1", "GM1", "GF2", "GM2", "SGF"],
            ["FOS", "?:MUM", "PTN", "MUM", "DAD", "WIFE", "UNC", "AUN"],
            ["OLD", "HAL", "SIB", "SUB", "DEC", "NEWB", "COU1", "ADO"],
        ],
    },
]


def graph_of(name: str) -> nx.MultiDiGraph:
    if name == "fixture":
        return family_graph(family_tables(), FAMILY_ID, as_at=AS_AT)
    if name == "large":
        return family_graph(fb.large_family(), fb.LARGE_ID, as_at=fb.AS_AT)
    return family_graph(fb.complex_family(), fb.COMPLEX_ID, as_at=fb.AS_AT)


@pytest.mark.parametrize("case", ROW_CASES, ids=lambda c: c["family"])
def test_rows_and_order(case):
    lay = genogram_layout(graph_of(case["family"]))
    assert [persons_only(r) for r in lay.rows] == case["rows"]
    assert lay.notes == ()


def test_partnerships_sit_between_partners_next_to_the_single_partner():
    lay = genogram_layout(graph_of("fixture"))
    assert lay.rows[1] == (
        "P-EX",
        "U:P-DAD|P-EX",
        "P-DAD",
        "U:P-DAD|P-MUM",
        "P-MUM",
        "U:P-MUM|P-NEW",
        "P-NEW",
    )
    complex_rows = genogram_layout(graph_of("complex")).rows
    # the unknown father's line passes over the mother's partner; its drop is by the "?"
    assert complex_rows[1][1:5] == ("?:MUM", "U:?:MUM|MUM", "PTN", "U:MUM|PTN")


def test_sibships_and_twins():
    lay = genogram_layout(graph_of("fixture"))
    assert [(s.anchor, s.children, s.twins) for s in lay.sibships] == [
        ("U:P-GF|P-GM", ("P-MUM",), ()),
        ("U:P-DAD|P-EX", ("P-HALF",), ()),
        ("U:P-DAD|P-MUM", ("P-BRO", "P-SUBJ"), ()),
        ("U:P-MUM|P-NEW", ("P-TW1", "P-TW2"), (("P-TW1", "P-TW2"),)),
    ]


def test_large_family_puts_each_side_beside_its_own_child():
    lay = genogram_layout(graph_of("large"))
    middle = persons_only(lay.rows[1])
    # the subject's parents meet in the middle: one side's siblings left, the other's right
    i, j = middle.index("AK1"), middle.index("BK2")
    assert j == i + 1
    assert {p[:2] for p in middle[:i]} <= {"AK"} | {"AK"[:2]}
    assert all(p.startswith("BK") for p in middle[j:])
    assert persons_only(lay.rows[0]) == ["AGF", "AGM", "BGF", "BGM"]


def test_founders_come_down_to_just_above_their_children():
    """A married-in partner's parents join the row above their child, not the top row."""
    people_ = [
        ("G1", "A", "X", "M", fb.D(1940, 1, 1), None, "grandparent", None),
        ("G2", "B", "X", "F", fb.D(1942, 1, 1), None, "grandparent", None),
        ("P1", "C", "X", "F", fb.D(1965, 1, 1), None, "parent", None),
        ("C1", "D", "X", "F", fb.D(1990, 1, 1), None, "parent", None),
        ("IN", "E", "Y", "M", fb.D(1989, 1, 1), None, "parent", None),
        ("IP1", "F", "Y", "M", fb.D(1960, 1, 1), None, "grandparent", None),
        ("IP2", "G", "Y", "F", fb.D(1961, 1, 1), None, "grandparent", None),
        ("K", "H", "Y", "F", fb.D(2015, 1, 1), None, "child", None),
    ]
    rels = [
        ("G1", "P1", "father"),
        ("G2", "P1", "mother"),
        ("P1", "C1", "mother"),
        ("C1", "IN", "partner"),
        ("IP1", "IN", "father"),
        ("IP2", "IN", "mother"),
        ("C1", "K", "mother"),
        ("IN", "K", "father"),
    ]
    G = family_graph(fb.tables("F", people_, rels), "F", as_at=fb.AS_AT)
    gen, notes = generations(G)
    assert (gen["G1"], gen["P1"], gen["IP1"], gen["C1"], gen["IN"], gen["K"]) == (0, 1, 1, 2, 2, 3)
    assert notes == ()


def test_couple_that_cannot_share_a_row_gets_a_note():
    """A man partnered with a woman and with her daughter: aligning both would be a loop."""
    people_ = [
        ("M", "A", "X", "F", fb.D(1960, 1, 1), None, "parent", None),
        ("D", "B", "X", "F", fb.D(1985, 1, 1), None, "parent", None),
        ("X", "C", "Y", "M", fb.D(1970, 1, 1), None, "parent_partner", None),
    ]
    rels = [("M", "D", "mother"), ("M", "X", "ex_partner"), ("D", "X", "partner")]
    G = family_graph(fb.tables("F", people_, rels), "F", as_at=fb.AS_AT)
    lay = genogram_layout(G)
    assert lay.generation["D"] == lay.generation["M"] + 1
    assert len(lay.notes) == 1 and "two rows" in lay.notes[0]
    assert sorted(n for row in lay.rows for n in row) == sorted(G)


# ----------------------------------------------------------------------------- properties


def check_layout(G: nx.MultiDiGraph, lay: GenogramLayout) -> None:
    """What every layout promises."""
    nodes = [n for row in lay.rows for n in row]
    assert sorted(nodes) == sorted(G), "every node exactly once"
    for row_index, row in enumerate(lay.rows):
        assert all(lay.generation[n] == row_index for n in row)
    for u in G:
        if G.nodes[u]["kind"] != PARTNERSHIP:
            continue
        a, b = G.nodes[u]["partners"]
        if not lay.notes:
            assert lay.generation[a] == lay.generation[b] == lay.generation[u], "partners share a row"
            i, j = sorted((lay.index(a), lay.index(b)))
            assert i < lay.index(u) < j, "a partnership sits between its partners"
    for anchor, child, kind in G.edges(data="kind"):
        if kind == CHILD:
            for parent in parent_people(G, anchor):
                assert lay.generation[child] > lay.generation[parent], "a child below its parents"
    for sib in lay.sibships:
        # siblings without partners keep birth order (partnered ones may move to an end)
        alone = [
            c for c in sib.children if not any(G.nodes[u]["kind"] == PARTNERSHIP for u in G.successors(c))
        ]
        by_row: dict[int, list[str]] = {}
        for c in alone:
            by_row.setdefault(lay.generation[c], []).append(c)
        for row in by_row.values():
            dobs = [G.nodes[c]["dob"] for c in row]
            assert dobs == sorted(dobs, key=lambda d: (d is None, d)), "oldest first"


@settings(max_examples=60)
@given(seed=st.integers(0, 10**6))
def test_layout_properties_on_random_families(seed):
    family_id, tables = fb.random_family(seed)
    G = family_graph(tables, family_id, as_at=fb.AS_AT)
    lay = genogram_layout(G)
    assert lay.notes == (), "the random families have no loops"
    check_layout(G, lay)


@settings(max_examples=25)
@given(seed=st.integers(0, 10**6))
def test_layout_does_not_depend_on_input_row_order(seed):
    family_id, tables = fb.random_family(seed)
    rng = random.Random(seed)
    shuffled = {
        name: frame.sample(frac=1.0, random_state=rng.randint(0, 2**31)).reset_index(drop=True)
        for name, frame in tables.items()
    }
    one = genogram_layout(family_graph(tables, family_id, as_at=fb.AS_AT))
    two = genogram_layout(family_graph(shuffled, family_id, as_at=fb.AS_AT))
    assert one == two


@settings(max_examples=30)
@given(seed=st.integers(0, 10**6))
def test_generations_match_networkx_longest_paths(seed):
    """Oracle: with one founder couple and no in-laws' parents, a person's row is the
    longest chain of parent links above them (partners merged), as networkx counts it."""
    family_id, tables = fb.random_family(seed, couples=1, in_law_parents=False)
    G = family_graph(tables, family_id, as_at=fb.AS_AT)
    gen, _ = generations(G)
    merged = nx.utils.UnionFind(people(G))
    for u in G:
        if G.nodes[u]["kind"] == PARTNERSHIP:
            merged.union(*G.nodes[u]["partners"])
    H = nx.DiGraph()
    H.add_nodes_from(merged[p] for p in people(G))
    for anchor, child, kind in G.edges(data="kind"):
        if kind == CHILD:
            for parent in parent_people(G, anchor):
                H.add_edge(merged[parent], merged[child])
    connected = nx.node_connected_component(H.to_undirected(), merged["Q0000"])
    for p in people(G):
        if merged[p] in connected:
            above = nx.ancestors(H, merged[p]) | {merged[p]}
            assert gen[p] == nx.dag_longest_path_length(H.subgraph(above)), p


def test_layout_rows_of_large_random_family_are_complete():
    family_id, tables = fb.random_family(11, size=4)
    G = family_graph(tables, family_id, as_at=fb.AS_AT)
    check_layout(G, genogram_layout(G))


def test_empty_partner_data_still_lays_out():
    people_ = [("A", "A", "X", "F", fb.D(2010, 1, 1), None, "child", None)]
    G = family_graph(fb.tables("F", people_, []), "F", as_at=fb.AS_AT)
    assert genogram_layout(G).rows == (("A",),)


def test_doctests():
    failures, tried = doctest.testmod(layout_module, raise_on_error=False)
    assert tried and not failures


def test_layout_is_plain_data():
    lay = genogram_layout(graph_of("fixture"))
    assert isinstance(lay.rows, tuple) and all(isinstance(r, tuple) for r in lay.rows)
    assert pd.Series(lay.generation).between(0, len(lay.rows) - 1).all()
