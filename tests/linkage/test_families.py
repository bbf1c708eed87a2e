"""Family formation: who is in a family, in which role, with which id."""

from __future__ import annotations

import datetime as dt
import itertools

import networkx as nx
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.families import children, form_families
from linkage.relationships import infer_relationships
from tests.linkage.kin_tables import (
    households_table,
    person_index_table,
    persons_table,
    records_table,
    stated_table,
)

WINDOW = dt.date(2016, 4, 1)

# Grandma G; mum M and dad D (separated) with C1, C2; D and his new partner E with H (half-sister);
# M's new partner N (no children); teenage C1 has a baby B.
PEOPLE = {
    "G": {"sex": "F", "dob": "1960-01-01"},
    "M": {"sex": "F", "dob": "1984-01-01"},
    "D": {"sex": "M", "dob": "1982-01-01"},
    "E": {"sex": "F", "dob": "1990-01-01", "family": "OAK"},
    "N": {"sex": "M", "dob": "1985-01-01", "family": "ASH"},
    "C1": {"sex": "F", "dob": "2003-01-01"},
    "C2": {"sex": "M", "dob": "2010-01-01"},
    "H": {"sex": "F", "dob": "2019-01-01", "family": "OAK"},
    "B": {"sex": "M", "dob": "2024-01-01"},
    "X": {"sex": "M", "dob": "1950-01-01", "family": "LONE"},
}
STATEMENTS = [
    ("G", "M", "mother"),
    ("M", "C1", "mother"),
    ("D", "C1", "father"),
    ("M", "C2", "mother"),
    ("D", "C2", "father"),
    ("D", "H", "father"),
    ("E", "H", "mother"),
    ("D", "E", "partner"),
    ("M", "N", "partner"),
    ("C1", "B", "mother"),
]


def tables(people=PEOPLE, statements=STATEMENTS, spells=None):
    persons = persons_table(people)
    rel = infer_relationships(
        stated_table(statements),
        person_index_table(people),
        persons,
        records_table(people),
        households_table(spells) if spells else None,
    ).relationships
    return persons, rel


def form(previous=None, **kw):
    persons, rel = tables(**kw)
    spells = kw.get("spells")
    homes = households_table(spells) if spells else None
    return form_families(persons, rel, homes, window_start=WINDOW, previous=previous)


def members(fam: pd.DataFrame) -> dict[frozenset[str], dict[str, str]]:
    out = {}
    for _, group in fam.groupby("family_id"):
        kids = frozenset(group.loc[group["role"] == "child", "person_id"])
        out[kids] = dict(zip(group["person_id"], group["role"], strict=True))
    return out


def test_half_siblings_in_two_households_are_one_family_with_everyone_around_them():
    got = members(form().families)
    family = got[frozenset({"C1", "C2", "H"})]
    assert family == {
        "C1": "child",
        "C2": "child",
        "H": "child",
        "M": "parent",
        "D": "parent",
        "E": "parent",
        "N": "parent_partner",
        "G": "grandparent",
    }


def test_a_young_mother_is_a_child_in_her_parents_family_and_a_parent_in_her_babys():
    got = members(form().families)
    assert got[frozenset({"B"})] == {"B": "child", "C1": "parent", "M": "grandparent", "D": "grandparent"}
    assert got[frozenset({"C1", "C2", "H"})]["C1"] == "child"


def test_an_adult_with_no_children_is_in_no_family():
    assert "X" not in set(form().families["person_id"])


def test_who_counts_as_a_child():
    persons, rel = tables()
    kids = set(children(persons, rel, window_start=WINDOW))
    assert kids == {"C1", "C2", "H", "B"}
    # born 2003-01-01: 17 on 2020-12-31, 18 on 2021-01-01
    assert "C1" in set(children(persons, rel, window_start=dt.date(2020, 12, 31)))
    assert "C1" not in set(children(persons, rel, window_start=dt.date(2021, 1, 1)))


def test_family_ids_are_stable_and_a_new_child_keeps_the_family_id():
    first = form().families
    again = form(previous=first).families
    assert first.equals(again)
    people = {**PEOPLE, "C3": {"sex": "F", "dob": "2020-06-01"}}
    more = form(previous=first, people=people, statements=[*STATEMENTS, ("M", "C3", "mother")]).families
    before = first[first["person_id"] == "C2"]["family_id"].iloc[0]
    assert set(more.loc[more["person_id"] == "C3", "family_id"]) == {before}


def test_members_carry_their_current_household():
    spells = [("M", "H1", "2020-01-01", "2026-01-01", True), ("C2", "H1", "2020-01-01", "2026-01-01", True)]
    fam = form(spells=spells).families
    homes = fam.drop_duplicates("person_id").set_index("person_id")["household_id"]
    assert homes["M"] == homes["C2"] == "H1"
    assert pd.isna(homes["D"])


# --------------------------------------------------------------------------- properties and oracle

IDS = [f"Q{i}" for i in range(10)]


@settings(max_examples=60)
@given(
    st.lists(st.tuples(st.sampled_from(IDS), st.sampled_from(IDS)), max_size=20),
    st.lists(st.integers(1950, 2024), min_size=10, max_size=10),
)
def test_families_cover_every_child_once_and_group_children_by_shared_parents(pairs, years):
    people = {
        p: {"sex": "F" if i % 2 else "M", "dob": f"{y}-06-01"}
        for i, (p, y) in enumerate(zip(IDS, years, strict=True))
    }
    persons, rel = tables(people=people, statements=[(a, b, "parent") for a, b in pairs])
    fam = form_families(persons, rel, window_start=WINDOW).families
    kids = set(children(persons, rel, window_start=WINDOW))
    as_child = fam[fam["role"] == "child"]
    assert set(as_child["person_id"]) == kids
    assert not as_child["person_id"].duplicated().any()
    assert not fam.duplicated(["family_id", "person_id"]).any()
    # oracle: children linked through shared parents, computed with a plain union-find over networkx
    parents = rel[rel["relationship_type"].isin(["mother", "father", "parent"])]
    oracle = nx.Graph()
    oracle.add_nodes_from(kids)
    by_parent = (
        parents[parents["person_id_to"].isin(kids)].groupby("person_id_from")["person_id_to"].agg(list)
    )
    for sibs in by_parent:
        oracle.add_edges_from(itertools.pairwise(sibs))
    expected = {frozenset(c) for c in nx.connected_components(oracle)}
    got = {frozenset(g) for g in as_child.groupby("family_id")["person_id"].agg(set)}
    assert got == expected
