"""The networkx population view and its queries, against networkx and brute force as oracles."""

from __future__ import annotations

import datetime as dt
import doctest

import networkx as nx
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import linkage.population as population
from linkage.population import families_with_coinciding, household_at, population_graph, within_steps


def test_the_docstring_examples_run():
    failures, _ = doctest.testmod(population)
    assert failures == 0


def test_the_graph_holds_people_relationships_households_interventions_and_families():
    persons = pd.DataFrame(
        {
            "person_id": ["M", "C"],
            "given_name": ["Ann", "Bo"],
            "family_name": ["Hill", "Hill"],
            "sex": ["F", "M"],
        }
    )
    rel = pd.DataFrame(
        {"person_id_from": ["M"], "person_id_to": ["C"], "relationship_type": ["mother"], "confidence": [0.9]}
    )
    spells = pd.DataFrame(
        {
            "person_id": ["M"],
            "household_id": ["H1"],
            "start_date": [dt.date(2020, 1, 1)],
            "end_date": [dt.date(2025, 1, 1)],
            "current": [True],
        }
    )
    ivs = pd.DataFrame(
        {
            "person_id": ["C"],
            "event_type": ["child_in_need"],
            "start_date": [dt.date(2024, 1, 1)],
            "end_date": [None],
        }
    )
    fams = pd.DataFrame({"family_id": ["F1", "F1"], "person_id": ["M", "C"], "role": ["parent", "child"]})
    G = population_graph(persons, rel, households=spells, interventions=ivs, families=fams)
    assert G.nodes["M"]["name"] == "Ann Hill"
    assert G.edges["M", "C", "mother"]["confidence"] == 0.9
    assert G.nodes["M"]["households"][0]["household_id"] == "H1"
    assert G.nodes["C"]["interventions"][0]["event_type"] == "child_in_need"
    assert G.nodes["C"]["families"] == {"F1": "child"}


def test_unknown_people_raise_networkx_errors():
    G = nx.MultiDiGraph()
    with pytest.raises(nx.NodeNotFound):
        within_steps(G, "nobody")
    with pytest.raises(nx.NodeNotFound):
        household_at(G, "nobody", dt.date(2024, 1, 1))


@settings(max_examples=50)
@given(
    st.lists(
        st.tuples(st.integers(0, 11), st.integers(0, 11), st.sampled_from(["mother", "partner", "sibling"])),
        max_size=30,
    ),
    st.integers(0, 4),
)
def test_within_steps_matches_networkx_ego_graph(edges, steps):
    G = nx.MultiDiGraph()
    G.add_nodes_from(range(12))
    for a, b, k in edges:
        G.add_edge(a, b, key=k)
    expected = set(nx.ego_graph(G.to_undirected(), 0, radius=steps).nodes) - {0}
    assert within_steps(G, 0, steps) == expected


@settings(max_examples=50)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 2), st.integers(0, 20), st.integers(0, 20)), max_size=20
    ),
    st.integers(0, 5),
    st.integers(0, 20),
)
def test_household_at_matches_brute_force(spells, who, day):
    base = dt.date(2020, 1, 1)
    G = nx.MultiDiGraph()
    for p in range(6):
        G.add_node(p, households=[])
    for p, h, s, length in spells:
        start = base + dt.timedelta(days=s)
        G.nodes[p]["households"].append(
            {"household_id": f"H{h}", "start_date": start, "end_date": start + dt.timedelta(days=length)}
        )
    date = base + dt.timedelta(days=day)

    def homes(p):
        return {
            s["household_id"] for s in G.nodes[p]["households"] if s["start_date"] <= date <= s["end_date"]
        }

    expected = {p for p in G.nodes if homes(p) & homes(who)} if homes(who) else set()
    assert household_at(G, who, date) == expected


def test_families_where_abuse_happened_during_a_child_protection_plan():
    G = nx.MultiDiGraph()
    cp = {
        "event_type": "child_protection_plan",
        "start_date": dt.date(2023, 1, 1),
        "end_date": dt.date(2023, 12, 31),
    }
    da_during = {"event_type": "domestic_abuse_incident", "start_date": dt.date(2023, 6, 1), "end_date": None}
    da_after = {"event_type": "domestic_abuse_incident", "start_date": dt.date(2024, 6, 1), "end_date": None}
    G.add_node("c1", families={"F1": "child"}, interventions=[cp])
    G.add_node("m1", families={"F1": "parent"}, interventions=[da_during])
    G.add_node("c2", families={"F2": "child"}, interventions=[cp])
    G.add_node("m2", families={"F2": "parent"}, interventions=[da_after])
    assert families_with_coinciding(G) == ["F1"]
