"""Exports: the versioned JSON (golden, round trip) and GEDCOM 7 with structure only."""

from __future__ import annotations

import doctest
import json
import random
import re

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import genogram.exports as exports_module
from genogram.errors import RenderError
from genogram.exports import JSON_FORMAT, from_json, to_gedcom, to_json, write_gedcom, write_json
from genogram.graph import CHILD, PARTNERSHIP, family_graph
from tests.genogram import family_builder as fb
from tests.genogram.family_fixture import AS_AT, FAMILY_ID, family_tables
from tests.genogram.golden import check_golden

GEDCOM_TAGS = {
    "HEAD", "GEDC", "VERS", "SOUR", "INDI", "NAME", "GIVN", "SURN", "SEX", "BIRT", "DEAT", "DATE",
    "FAMC", "PEDI", "PHRASE", "FAMS", "FAM", "HUSB", "WIFE", "CHIL", "MARR", "DIV", "EVEN", "TYPE", "TRLR",
}  # fmt: skip


def fixture_graph() -> nx.MultiDiGraph:
    return family_graph(family_tables(), FAMILY_ID, as_at=AS_AT)


def complex_graph() -> nx.MultiDiGraph:
    return family_graph(fb.complex_family(), fb.COMPLEX_ID, as_at=fb.AS_AT)


_FIXTURE = fixture_graph()

# ---------------------------------------------------------------------------------- JSON


def test_json_matches_golden():
    check_golden("fixture.json", to_json(fixture_graph()))


def test_json_is_versioned_and_ordered():
    doc = json.loads(to_json(complex_graph()))
    assert list(doc) == [
        "format",
        "version",
        "family_id",
        "as_at",
        "subject",
        "people",
        "partnerships",
        "children",
        "abuse",
    ]
    assert (doc["format"], doc["version"]) == (JSON_FORMAT, 1)
    assert [p["id"] for p in doc["people"]] == sorted(p["id"] for p in doc["people"])


@pytest.mark.parametrize("build", [fixture_graph, complex_graph], ids=["fixture", "complex"])
def test_json_round_trips(build):
    G = build()
    text = to_json(G)
    back = from_json(text)
    assert to_json(back) == text
    assert nx.utils.graphs_equal(G, back), "networkx sees the same graph"


@settings(max_examples=15)
@given(seed=st.integers(0, 10**6))
def test_json_does_not_depend_on_input_row_order(seed):
    family_id, tables = fb.random_family(seed)
    rng = random.Random(seed)
    shuffled = {n: f.sample(frac=1.0, random_state=rng.randint(0, 2**31)) for n, f in tables.items()}
    one = to_json(family_graph(tables, family_id, as_at=fb.AS_AT))
    assert to_json(family_graph(shuffled, family_id, as_at=fb.AS_AT)) == one
    assert to_json(from_json(one)) == one


BAD_JSON = [
    {"description": "not JSON", "text": "{nope", "match": "not valid JSON"},
    {"description": "another format", "text": '{"format": "x", "version": 1}', "match": "'format'"},
    {
        "description": "future version",
        "text": f'{{"format": "{JSON_FORMAT}", "version": 9}}',
        "match": "version 9",
    },
]


@pytest.mark.parametrize("case", BAD_JSON, ids=lambda c: c["description"])
def test_from_json_refuses(case):
    with pytest.raises(RenderError, match=case["match"]):
        from_json(case["text"])


# -------------------------------------------------------------------------------- GEDCOM


def parse_gedcom(text: str) -> list[tuple[int, str | None, str, str]]:
    """(level, xref, tag, payload) per line, checking the GEDCOM 7 line grammar."""
    out = []
    previous = -1
    for line in text.split("\n")[:-1]:
        m = re.fullmatch(r"(0|[1-9]\d*) (?:(@[A-Z0-9_]+@) )?([A-Z_][A-Z0-9_]*)(?: (.*))?", line)
        assert m, line
        level = int(m.group(1))
        assert level <= previous + 1, line
        previous = level
        payload = m.group(4) or ""
        assert (
            not payload.startswith("@") or payload.startswith("@@") or re.fullmatch(r"@[A-Z0-9_]+@", payload)
        )
        out.append((level, m.group(2), m.group(3), payload))
    return out


@pytest.mark.parametrize("build", [fixture_graph, complex_graph], ids=["fixture", "complex"])
def test_gedcom_is_well_formed_and_structure_only(build):
    G = build()
    text = to_gedcom(G)
    lines = parse_gedcom(text)
    assert lines[0][2] == "HEAD" and lines[-1][2] == "TRLR"
    assert (str(lines[2][0]), lines[2][2], lines[2][3]) == ("2", "VERS", "7.0")
    assert {tag for _, _, tag, _ in lines} <= GEDCOM_TAGS, "nothing but family structure"
    defined = {x for _, x, _, _ in lines if x}
    pointed = {p for _, _, _, p in lines if re.fullmatch(r"@[A-Z0-9_]+@", p)}
    assert pointed <= defined
    people = [n for n, k in G.nodes(data="kind") if k == "person"]
    assert sum(tag == "INDI" for _, _, tag, _ in lines) == len(people)
    for n in people:
        for badge in G.nodes[n]["badges"]:
            assert badge.label not in text
            assert not re.search(rf"(?<![\w-]){re.escape(badge.code)}(?![\w-])", text), badge.code
        if G.nodes[n]["household_id"]:
            assert G.nodes[n]["household_id"] not in text
    assert "incident" not in text.lower() and "P-" not in text


def test_gedcom_families_match_the_graph():
    """Oracle: each child's FAMC families hold the same parents as the graph says."""
    G = complex_graph()
    lines = parse_gedcom(to_gedcom(G))
    record: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for level, xref, tag, payload in lines:
        if level == 0:
            current = xref or tag
            record[current] = []
        elif level == 1:
            record[current].append((tag, payload))

    def person(xref: str) -> str:
        name = next(p for t, p in record[xref] if t == "NAME")
        return by_name[" ".join(name.replace("/", " ").split())]

    by_name = {G.nodes[n]["name"]: n for n, k in G.nodes(data="kind") if k == "person"}
    found = set()
    for fam, fields in record.items():
        if fam.startswith("@F"):
            adults = frozenset(person(p) for t, p in fields if t in ("HUSB", "WIFE"))
            found.update((adults, person(p)) for t, p in fields if t == "CHIL")
    expected = set()
    for anchor, child, kind in G.edges(data="kind"):
        if kind == CHILD:
            partners = G.nodes[anchor]["partners"] if G.nodes[anchor]["kind"] == PARTNERSHIP else (anchor,)
            expected.add((frozenset(p for p in partners if G.nodes[p]["kind"] == "person"), child))
    assert found == expected


def test_gedcom_couple_events():
    text = to_gedcom(complex_graph())
    assert "1 MARR\n2 DATE 8 AUG 2008\n1 DIV\n2 DATE 1 JAN 2017" in text
    assert "1 EVEN\n2 TYPE Cohabitation\n2 DATE 1 FEB 2019" in text
    assert "2 PEDI ADOPTED" in text and "2 PEDI FOSTER" in text
    assert "1 DEAT\n2 DATE 1 FEB 2016" in text


@settings(max_examples=40)
@given(given_name=st.text(max_size=40), family_name=st.text(max_size=40))
def test_gedcom_names_stay_on_their_line(given_name, family_name):
    G = _FIXTURE.copy()
    G.nodes["P-SUBJ"]["given_name"] = given_name
    G.nodes["P-SUBJ"]["family_name"] = family_name
    lines = parse_gedcom(to_gedcom(G))
    for _, _, tag, payload in lines:
        if tag == "NAME":
            assert payload.count("/") == 2


def test_write_functions(tmp_path):
    G = fixture_graph()
    assert write_json(G, tmp_path / "a" / "g.json").read_text(encoding="utf-8") == to_json(G)
    assert write_gedcom(G, tmp_path / "g.ged").read_text(encoding="utf-8") == to_gedcom(G)


def test_doctests():
    failures, tried = doctest.testmod(exports_module, raise_on_error=False)
    assert tried and not failures
