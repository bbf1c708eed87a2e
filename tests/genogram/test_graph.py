"""The family graph: people, one partnership per couple, typed child lines, badges, abuse."""

from __future__ import annotations

import datetime as dt
import doctest
import importlib
import itertools

import networkx as nx
import pandas as pd
import pytest

import genogram.graph as graph_module
from genogram.errors import RenderError
from genogram.graph import (
    ABUSE,
    PARTNERSHIP,
    PERSON_ATTRIBUTES,
    UNKNOWN_PARENT,
    Badge,
    anchors_of,
    family_graph,
    primary_children,
)
from tests.genogram import family_builder as fb
from tests.genogram.family_fixture import AS_AT, FAMILY_ID, family_tables

D = dt.date
MY_MODULES = [
    "genogram.graph",
    "genogram.layout",
    "genogram.dot",
    "genogram.labels",
    "genogram.style",
    "genogram.render",
    "genogram.drawing",
    "genogram.exports",
    "genogram._io",
]


@pytest.fixture(scope="module")
def G() -> nx.MultiDiGraph:
    return family_graph(family_tables(), FAMILY_ID, as_at=AS_AT)


@pytest.fixture(scope="module")
def complex_graph() -> nx.MultiDiGraph:
    return family_graph(fb.complex_family(), fb.COMPLEX_ID, as_at=fb.AS_AT)


def parents(G: nx.MultiDiGraph, child: str, *, birth_only: bool = True) -> set[str]:
    """The people a child hangs from (through a partnership or directly)."""
    out: set[str] = set()
    for anchor, kind, _ in anchors_of(G, child):
        if birth_only and kind != "birth":
            continue
        found = G.nodes[anchor]["partners"] if G.nodes[anchor]["kind"] == PARTNERSHIP else (anchor,)
        out.update(p for p in found if G.nodes[p]["kind"] != UNKNOWN_PARENT)
    return out


PERSON_CASES = [
    {
        "description": "subject child, age at as_at",
        "person": "P-SUBJ",
        "expect": {"subject": True, "age": 12},
    },
    {"description": "deceased: age at death, X", "person": "P-GF", "expect": {"deceased": True, "age": 69}},
    {"description": "living grandmother", "person": "P-GM", "expect": {"deceased": False, "dod": None}},
    {"description": "display name", "person": "P-MUM", "expect": {"name": "Kelly Hartley", "sex": "F"}},
    {"description": "lives with the subject", "person": "P-NEW", "expect": {"with_subject": True}},
    {"description": "looked after elsewhere", "person": "P-BRO", "expect": {"with_subject": False}},
    {"description": "twins marked", "person": "P-TW1", "expect": {"twins": ["P-TW2"]}},
    {"description": "role kept", "person": "P-EX", "expect": {"role": "parent", "household_id": "H-C"}},
]


@pytest.mark.parametrize("case", PERSON_CASES, ids=lambda c: c["description"])
def test_person_attributes(G, case):
    attrs = G.nodes[case["person"]]
    assert set(PERSON_ATTRIBUTES) <= set(attrs)
    for key, value in case["expect"].items():
        assert attrs[key] == value, key


def test_graph_records_family_and_subject(G):
    assert G.graph == {"family_id": FAMILY_ID, "as_at": AS_AT, "subject": "P-SUBJ"}
    assert [n for n in G if G.nodes[n].get("subject")] == ["P-SUBJ"]
    assert {n for n in G if G.nodes[n].get("with_subject")} == {"P-MUM", "P-NEW", "P-SUBJ", "P-TW1", "P-TW2"}


def test_one_partnership_node_per_couple_with_status(G):
    unions = {G.nodes[u]["partners"]: G.nodes[u]["status"] for u in G if G.nodes[u]["kind"] == PARTNERSHIP}
    assert unions == {
        ("P-GF", "P-GM"): "married",
        ("P-DAD", "P-MUM"): "ex",
        ("P-MUM", "P-NEW"): "cohabiting",
        ("P-DAD", "P-EX"): "ex",
    }
    for u in unions:
        node = f"U:{u[0]}|{u[1]}"
        assert sorted(G.predecessors(node)) == list(u)


STATUS_CASES = [
    {"description": "spouse", "rels": [("A", "B", "spouse", D(2000, 1, 1))], "status": "married"},
    {
        "description": "spouse ended",
        "rels": [("A", "B", "spouse", D(2000, 1, 1), D(2010, 1, 1))],
        "status": "divorced",
    },
    {
        "description": "spouse and ex",
        "rels": [("A", "B", "spouse"), ("A", "B", "ex_partner")],
        "status": "divorced",
    },
    {"description": "partner", "rels": [("A", "B", "partner")], "status": "cohabiting"},
    {
        "description": "partner ended",
        "rels": [("A", "B", "partner", None, D(2020, 1, 1))],
        "status": "separated",
    },
    {
        "description": "partner and ex",
        "rels": [("A", "B", "partner"), ("A", "B", "ex_partner")],
        "status": "separated",
    },
    {"description": "ex only", "rels": [("A", "B", "ex_partner")], "status": "ex"},
    {
        "description": "co-parents, nothing recorded",
        "rels": [("A", "C", "father"), ("B", "C", "mother")],
        "status": "not_recorded",
    },
]


def _couple(rels):
    people = [
        ("A", "Al", "X", "M", D(1980, 1, 1), None, "parent", None),
        ("B", "Bea", "X", "F", D(1981, 1, 1), None, "parent", None),
        ("C", "Cy", "X", "M", D(2010, 1, 1), None, "child", None),
    ]
    return family_graph(fb.tables("F", people, rels), "F", as_at=AS_AT)


@pytest.mark.parametrize("case", STATUS_CASES, ids=lambda c: c["description"])
def test_partnership_status_from_relationship_types(case):
    G = _couple(case["rels"])
    assert G.nodes["U:A|B"]["status"] == case["status"]


def test_half_and_full_siblings_fall_out_of_the_structure(G):
    """Oracle: the fixture's derived sibling and half-sibling rows."""
    rels = family_tables()["relationships"]
    stated = {
        kind: {
            frozenset((a, b))
            for a, b in rels.loc[rels.relationship_type == kind, ["person_id_from", "person_id_to"]].values
        }
        for kind in ("sibling", "half_sibling")
    }
    children = [n for n in G if G.nodes[n]["kind"] == "person" and parents(G, n)]
    found: dict[str, set[frozenset[str]]] = {"sibling": set(), "half_sibling": set()}
    for a, b in itertools.combinations(children, 2):
        shared = len(parents(G, a) & parents(G, b))
        if shared == 2:
            found["sibling"].add(frozenset((a, b)))
        elif shared == 1:
            found["half_sibling"].add(frozenset((a, b)))
    assert found == stated


def test_children_hang_from_their_own_parents_partnership(G):
    assert anchors_of(G, "P-HALF") == [("U:P-DAD|P-EX", "birth", True)]
    assert anchors_of(G, "P-SUBJ") == [("U:P-DAD|P-MUM", "birth", True), ("U:P-MUM|P-NEW", "step", False)]
    assert anchors_of(G, "P-TW1") == [("U:P-MUM|P-NEW", "birth", True)]
    assert anchors_of(G, "P-MUM") == [("U:P-GF|P-GM", "birth", True)]


CHILD_LINE_CASES = [
    {"description": "unknown father: placeholder", "child": "OLD", "lines": [("U:?:MUM|MUM", "birth", True)]},
    {"description": "adopted", "child": "ADO", "lines": [("U:AUN|UNC", "adopted", True)]},
    {"description": "fostered by a couple", "child": "FOS", "lines": [("U:GF1|GM1", "foster", True)]},
    {
        "description": "kinship carer on her own",
        "child": "SUB",
        "lines": [("U:DAD|MUM", "birth", True), ("GM1", "step", False)],
    },
    {
        "description": "half-sibling by the new partner",
        "child": "HAL",
        "lines": [("U:MUM|PTN", "birth", True)],
    },
]


@pytest.mark.parametrize("case", CHILD_LINE_CASES, ids=lambda c: c["description"])
def test_child_lines(complex_graph, case):
    assert anchors_of(complex_graph, case["child"]) == case["lines"]


def test_unknown_parent_placeholder(complex_graph):
    attrs = complex_graph.nodes["?:MUM"]
    assert attrs["kind"] == UNKNOWN_PARENT and attrs["sex"] == "U" and attrs["badges"] == []
    assert set(PERSON_ATTRIBUTES) <= set(attrs)


def test_recorded_abuse_is_directed_with_incident_count(G, complex_graph):
    edges = [(a, b, d["incidents"]) for a, b, k, d in G.edges(keys=True, data=True) if k == ABUSE]
    assert edges == [("P-NEW", "P-MUM", 3)]
    assert G.edges["P-NEW", "P-MUM", ABUSE]["start_date"] == D(2023, 2, 11)
    edges = sorted(
        (a, b, d["incidents"]) for a, b, k, d in complex_graph.edges(keys=True, data=True) if k == ABUSE
    )
    assert edges == [("DAD", "MUM", 4), ("PTN", "MUM", 1)]


def test_badges_from_interventions_and_vocabulary(G):
    assert G.nodes["P-MUM"]["badges"] == [
        Badge("DA-V", "red", "Domestic abuse incident (police notification): recorded as victim", True),
        Badge("MARAC", "red", "MARAC case (high-risk domestic abuse)", True),
    ]
    assert [b.code for b in G.nodes["P-NEW"]["badges"]] == ["DA-S"]
    subject = G.nodes["P-SUBJ"]["badges"]
    assert [(b.code, b.open) for b in subject] == [("CP", True), ("REF", True), ("S47", False), ("EH", False)]
    assert all(isinstance(b, Badge) for n in G for b in G.nodes[n].get("badges", []))


def test_interventions_after_as_at_are_not_shown():
    G = family_graph(family_tables(), FAMILY_ID, as_at=D(2023, 3, 10))
    assert [b.code for b in G.nodes["P-SUBJ"]["badges"]] == ["REF", "S47", "EH"]
    assert G.nodes["P-SUBJ"]["age"] == 8


def test_subject_can_be_chosen_and_must_be_a_member():
    G = family_graph(family_tables(), FAMILY_ID, as_at=AS_AT, subject="P-BRO")
    assert G.graph["subject"] == "P-BRO" and G.nodes["P-BRO"]["subject"]
    assert {n for n in G if G.nodes[n].get("with_subject")} == {"P-BRO"}
    with pytest.raises(RenderError, match="not a member"):
        family_graph(family_tables(), FAMILY_ID, as_at=AS_AT, subject="P-NOBODY")


def test_default_subject_most_statutory_then_youngest():
    people = [
        ("OLD", "A", "X", "M", D(2008, 1, 1), None, "child", None),
        ("YNG", "B", "X", "F", D(2015, 1, 1), None, "child", None),
        ("MUM", "C", "X", "F", D(1985, 1, 1), None, "parent", None),
    ]
    rels = [("MUM", "OLD", "mother"), ("MUM", "YNG", "mother")]
    busy = [("OLD", "child_protection_plan", D(2024, 1, 1)), ("OLD", "child_in_need", D(2023, 1, 1))]
    assert family_graph(fb.tables("F", people, rels, busy), "F", as_at=AS_AT).graph["subject"] == "OLD"
    equal = [("OLD", "child_in_need", D(2024, 1, 1)), ("YNG", "child_in_need", D(2024, 1, 1))]
    assert family_graph(fb.tables("F", people, rels, equal), "F", as_at=AS_AT).graph["subject"] == "YNG"


def test_only_members_of_the_family_are_drawn():
    tables = family_tables()
    other = fb.complex_family()
    merged = {name: pd.concat([tables[name], other[name]], ignore_index=True) for name in tables}
    G = family_graph(merged, FAMILY_ID, as_at=AS_AT)
    assert {n for n in G if G.nodes[n]["kind"] == "person"} == set(tables["families"]["person_id"])


ERROR_CASES = [
    {"description": "unknown family", "family": "F-NOPE", "edit": None, "match": "unknown family"},
    {"description": "missing table", "family": FAMILY_ID, "edit": "drop_persons", "match": "'persons' table"},
    {
        "description": "member not in persons",
        "family": FAMILY_ID,
        "edit": "lose_person",
        "match": "not in the persons",
    },
    {"description": "someone their own ancestor", "family": FAMILY_ID, "edit": "cycle", "match": "cycle"},
]


@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda c: c["description"])
def test_errors_are_render_errors(case):
    tables = dict(family_tables())
    if case["edit"] == "drop_persons":
        del tables["persons"]
    elif case["edit"] == "lose_person":
        tables["persons"] = tables["persons"][tables["persons"].person_id != "P-GM"]
    elif case["edit"] == "cycle":
        extra = tables["relationships"].iloc[[0]].copy()
        extra[["relationship_id", "person_id_from", "person_id_to", "relationship_type"]] = [
            "RX",
            "P-SUBJ",
            "P-GF",
            "father",
        ]
        tables["relationships"] = pd.concat([tables["relationships"], extra], ignore_index=True)
    with pytest.raises(RenderError, match=case["match"]):
        family_graph(tables, case["family"], as_at=AS_AT)


def test_doctests():
    failures, tried = doctest.testmod(graph_module, raise_on_error=False)
    assert tried and not failures


@pytest.mark.parametrize("name", MY_MODULES)
def test_public_names(name):
    module = importlib.import_module(name)
    exported = module.__all__
    assert len(exported) == len(set(exported))
    for public in exported:
        assert hasattr(module, public), f"{name}.{public} is listed but missing"


def test_graph_queries_check_their_node(G):
    with pytest.raises(RenderError, match="not a node"):
        anchors_of(G, "P-NOBODY")
    with pytest.raises(RenderError, match="not a node"):
        primary_children(G, "U:nobody")
