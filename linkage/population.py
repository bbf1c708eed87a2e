"""A networkx view of the whole population, and the questions analysts ask of it.

:func:`population_graph` builds a ``MultiDiGraph``: one node per person (attributes
``name``, ``sex``, ``dob``, ``dod``, ``families`` {family_id: role}, ``households`` (spells),
``interventions``) and one edge per relationship, keyed by its type, from ``person_id_from``
to ``person_id_to`` (undirected types carry ``directed=False``). The query functions take
the graph first, as networkx's own algorithms do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import networkx as nx
import pandas as pd

__all__ = ["families_with_coinciding", "household_at", "population_graph", "within_steps"]


def _records(frame: pd.DataFrame | None, columns: list[str]) -> dict[str, list[dict[str, object]]]:
    if frame is None or frame.empty:
        return {}
    cols = [c for c in columns if c in frame.columns]
    out: dict[str, list[dict[str, object]]] = {}
    for person, group in frame.groupby("person_id", sort=True):
        out[str(person)] = [{str(k): v for k, v in row.items()} for row in group[cols].to_dict("records")]
    return out


def population_graph(
    persons: pd.DataFrame,
    relationships: pd.DataFrame,
    *,
    households: pd.DataFrame | None = None,
    interventions: pd.DataFrame | None = None,
    families: pd.DataFrame | None = None,
) -> nx.MultiDiGraph:
    """People and their typed relationships as one graph (see the module doc).

    Examples
    --------
    >>> import pandas as pd
    >>> persons = pd.DataFrame({"person_id": ["A", "B"], "sex": ["F", "M"]})
    >>> rel = pd.DataFrame({"person_id_from": ["A"], "person_id_to": ["B"],
    ...                     "relationship_type": ["mother"], "directed": [True]})
    >>> G = population_graph(persons, rel)
    >>> list(G.edges(keys=True))
    [('A', 'B', 'mother')]
    """
    graph = nx.MultiDiGraph()
    spells = _records(households, ["household_id", "start_date", "end_date", "current"])
    events = _records(interventions, ["event_type", "category", "start_date", "end_date", "role", "risk"])
    member_of: dict[str, dict[str, str]] = {}
    if families is not None:
        for fam, person, role in zip(
            families["family_id"], families["person_id"], families["role"], strict=True
        ):
            member_of.setdefault(str(person), {})[str(fam)] = str(role)
    for row in persons.to_dict("records"):
        pid = str(row["person_id"])
        name = " ".join(str(row[c]) for c in ("given_name", "family_name") if isinstance(row.get(c), str))
        graph.add_node(
            pid,
            name=name or None,
            sex=row.get("sex"),
            dob=row.get("dob"),
            dod=row.get("dod"),
            families=member_of.get(pid, {}),
            households=spells.get(pid, []),
            interventions=events.get(pid, []),
        )
    attrs = [
        c for c in relationships.columns if c not in ("person_id_from", "person_id_to", "relationship_type")
    ]
    for row in relationships.to_dict("records"):
        graph.add_edge(
            str(row["person_id_from"]),
            str(row["person_id_to"]),
            key=str(row["relationship_type"]),
            **{a: row[a] for a in attrs},
        )
    return graph


def _require(G: nx.MultiDiGraph, person_id: str) -> None:
    if person_id not in G:
        raise nx.NodeNotFound(f"person {person_id!r} is not in the graph")


def household_at(G: nx.MultiDiGraph, person_id: str, date: dt.date) -> set[str]:
    """Everyone recorded in ``person_id``'s household on ``date`` (the person included).

    The household is the address where one of the person's spells covers ``date``; its
    members are the people whose spells there cover it too. Empty when the records place
    the person nowhere on that date.

    Raises
    ------
    networkx.NodeNotFound
        If ``person_id`` is not in ``G``.

    Examples
    --------
    >>> import datetime as dt, networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> spell = {"household_id": "H1", "start_date": dt.date(2020, 1, 1), "end_date": dt.date(2024, 1, 1)}
    >>> G.add_node("A", households=[spell]); G.add_node("B", households=[spell])
    >>> sorted(household_at(G, "A", dt.date(2022, 6, 1)))
    ['A', 'B']
    """
    _require(G, person_id)

    def covering(person: str) -> set[str]:
        return {
            str(s["household_id"])
            for s in G.nodes[person].get("households", [])
            if s["start_date"] is not None and s["start_date"] <= date <= (s["end_date"] or date)
        }

    homes = covering(person_id)
    if not homes:
        return set()
    return {p for p in G.nodes if covering(p) & homes}


def within_steps(
    G: nx.MultiDiGraph, person_id: str, steps: int = 2, *, types: Iterable[str] | None = None
) -> set[str]:
    """Everyone within ``steps`` relationships of ``person_id`` (either direction), the person excluded.

    ``types`` limits the relationships followed (e.g. ``{"mother", "father", "partner"}``).

    Raises
    ------
    networkx.NodeNotFound
        If ``person_id`` is not in ``G``.
    ValueError
        If ``steps`` is negative.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph([("A", "B", "mother"), ("B", "C", "partner"), ("C", "D", "father")])
    >>> sorted(within_steps(G, "A", 2))
    ['B', 'C']
    """
    _require(G, person_id)
    if steps < 0:
        raise ValueError("steps must not be negative")
    wanted = set(types) if types is not None else None
    view = nx.Graph()
    view.add_nodes_from(G.nodes)
    view.add_edges_from((u, v) for u, v, k in G.edges(keys=True) if wanted is None or k in wanted)
    reach = nx.single_source_shortest_path_length(view, person_id, cutoff=steps)
    return set(reach) - {person_id}


def families_with_coinciding(
    G: nx.MultiDiGraph,
    first: str = "domestic_abuse_incident",
    second: str = "child_protection_plan",
) -> list[str]:
    """Families where an event ``first`` of any member starts while an event ``second`` of a member is open.

    With the defaults: families where domestic abuse was recorded during a child
    protection plan. An open event (no end date) runs to today.

    Examples
    --------
    >>> import datetime as dt, networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> cp = {"event_type": "child_protection_plan", "start_date": dt.date(2023, 1, 1), "end_date": None}
    >>> da = {"event_type": "domestic_abuse_incident", "start_date": dt.date(2024, 3, 1), "end_date": None}
    >>> G.add_node("child", families={"F1": "child"}, interventions=[cp])
    >>> G.add_node("mum", families={"F1": "parent"}, interventions=[da])
    >>> families_with_coinciding(G)
    ['F1']
    """
    today = dt.date.today()
    events: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for _, data in G.nodes(data=True):
        for fam in data.get("families", {}):
            bucket = events.setdefault(fam, {"first": [], "second": []})
            for ev in data.get("interventions", []):
                if ev["event_type"] == first:
                    bucket["first"].append(ev)
                if ev["event_type"] == second:
                    bucket["second"].append(ev)
    found = []
    for fam, bucket in sorted(events.items()):
        hit = any(
            a["start_date"] is not None
            and b["start_date"] is not None
            and b["start_date"] <= a["start_date"] <= (b["end_date"] or today)
            for a in bucket["first"]
            for b in bucket["second"]
        )
        if hit:
            found.append(fam)
    return found
