"""The family graph: one family's canonical tables as a :class:`networkx.MultiDiGraph`.

Three kinds of node:

``person``
    A member of the family, keyed by ``person_id``.
``partnership``
    One node per couple (``U:<a>|<b>``, ``a < b``), whatever the number of records that
    speak of them; each partner has a ``partner`` edge into it.
``unknown_parent``
    A placeholder (``?:<parent>``) standing for the other birth parent of children with one
    known birth parent. Parentage is never inferred from who lives with whom.

Children hang from the partnership of their own parents (``child`` edges from the
partnership node, or from one person for a lone carer), so half- and step-siblings fall
out of the structure. Recorded domestic abuse is a directed ``abuse`` edge between two
people, from the person recorded as suspect to the person recorded as victim.

Every node has the same attribute keys whatever its kind (see :data:`PERSON_ATTRIBUTES`),
so the layout, drawing and exports never need to special-case a missing key.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import networkx as nx
import pandas as pd

from genogram._frames import records
from genogram.errors import RenderError
from ingest.schema import FAMILY_ROLES
from ingest.vocabulary import InterventionVocabulary, load_vocabulary

__all__ = [
    "ABUSE",
    "CHILD",
    "CHILD_TYPES",
    "PARTNER",
    "PARTNERSHIP",
    "PARTNERSHIP_STATUSES",
    "PERSON",
    "PERSON_ATTRIBUTES",
    "UNKNOWN_PARENT",
    "AbuseArrow",
    "Badge",
    "abuse_arrows",
    "anchors_of",
    "extra_lines",
    "family_graph",
    "people",
    "primary_children",
]

PERSON = "person"
PARTNERSHIP = "partnership"
UNKNOWN_PARENT = "unknown_parent"

PARTNER = "partner"
CHILD = "child"
ABUSE = "abuse"

#: Partnership statuses, from the relationship types recorded for the couple.
PARTNERSHIP_STATUSES: dict[str, str] = {
    "married": "married or civil partners (`spouse`)",
    "cohabiting": "partners living together (`partner`)",
    "separated": "partners who separated (`partner` ended, or `partner` and `ex_partner`)",
    "divorced": "married and divorced (`spouse` ended, or `spouse` and `ex_partner`)",
    "ex": "former partners, kind of relationship not recorded (`ex_partner` only)",
    "not_recorded": "parents of a child together; no relationship between them recorded",
}

#: Kinds of child line, from the relationship type that links the child to the adult(s).
CHILD_TYPES: dict[str, str] = {
    "birth": "birth child (`mother`, `father`, `parent`)",
    "adopted": "adopted child (`adoptive_parent`)",
    "foster": "fostered or looked-after child (`foster_carer`)",
    "step": "step-child or child cared for (`step_parent`, `carer`)",
}

#: The attributes every person-like node (person or unknown parent) carries.
PERSON_ATTRIBUTES: tuple[str, ...] = (
    "kind",
    "name",
    "given_name",
    "family_name",
    "sex",
    "dob",
    "dob_estimated",
    "dod",
    "deceased",
    "age",
    "role",
    "household_id",
    "subject",
    "with_subject",
    "badges",
    "twins",
)

_CHILD_TYPE_OF = {
    "mother": "birth",
    "father": "birth",
    "parent": "birth",
    "adoptive_parent": "adopted",
    "foster_carer": "foster",
    "step_parent": "step",
    "carer": "step",
}
_PARTNER_TYPES = frozenset({"spouse", "partner", "ex_partner"})
_RAG_ORDER = {"red": 0, "amber": 1, "green": 2}
_ROLE_WORDS = {"perpetrator": "suspect"}
_REQUIRED_TABLES = ("persons", "relationships", "families")


class Badge(NamedTuple):
    """One intervention badge drawn under a person: code, RAG, what it means, still open."""

    code: str
    rag: str
    label: str
    open: bool


def _missing(value: Any) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _date(value: Any) -> dt.date | None:
    """A date from whatever pandas gives for a date cell (date, Timestamp, str, None, NaT)."""
    if _missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        return dt.date.fromisoformat(value[:10])
    return None


def _text(value: Any) -> str | None:
    if _missing(value):
        return None
    text = str(value).strip()
    return text or None


def _given_age(value: Any) -> int | None:
    """An age redaction left in place of the date of birth (``persons.age``), if any."""
    return None if _missing(value) else int(value)


def _age(dob: dt.date | None, on: dt.date) -> int | None:
    if dob is None or dob > on:
        return None
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


@functools.cache
def _shipped_vocabulary() -> InterventionVocabulary:
    from genogram.access import DEFAULT_VOCABULARY_PATH

    return load_vocabulary(DEFAULT_VOCABULARY_PATH)


def _where(frame: pd.DataFrame, keep: list[bool]) -> pd.DataFrame:
    """``frame[keep]``; ``frame`` itself when every row is kept (as for one family's tables)."""
    return frame if all(keep) else frame[keep]


def _rows(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    if frame is None or frame.empty:
        return []
    return [{str(k): v for k, v in row.items()} for row in records(frame)]


def _badges(
    rows: Iterable[Mapping[str, Any]], vocabulary: InterventionVocabulary, as_at: dt.date
) -> list[Badge]:
    merged: dict[str, Badge] = {}
    for row in rows:
        start = _date(row.get("start_date"))
        if start is not None and start > as_at:
            continue
        event_type = str(row["event_type"])
        role = _text(row.get("role"))
        kind = vocabulary.types.get(event_type)
        if kind is None:
            code, rag, label = event_type.upper()[:6], "amber", event_type.replace("_", " ")
        else:
            code, rag, label = kind.badge_for(role), kind.rag, kind.label
            if code != kind.badge and role:
                label = f"{label}: recorded as {_ROLE_WORDS.get(role, role).replace('_', ' ')}"
        end = _date(row.get("end_date"))
        is_open = end is None or end >= as_at
        if code in merged:
            is_open = is_open or merged[code].open
        merged[code] = Badge(code, rag, label, is_open)
    return sorted(merged.values(), key=lambda b: (not b.open, _RAG_ORDER.get(b.rag, 3), b.code))


def _statutory_count(
    rows: Iterable[Mapping[str, Any]], vocabulary: InterventionVocabulary, as_at: dt.date
) -> int:
    count = 0
    for row in rows:
        kind = vocabulary.types.get(str(row["event_type"]))
        start = _date(row.get("start_date"))
        if kind is not None and kind.statutory and (start is None or start <= as_at):
            count += 1
    return count


def _partnership_status(types: set[str], ended: bool) -> str:
    if "spouse" in types:
        return "divorced" if ended or "ex_partner" in types else "married"
    if "partner" in types:
        return "separated" if ended or "ex_partner" in types else "cohabiting"
    return "ex"


def _union_id(a: str, b: str) -> str:
    a, b = sorted((a, b))
    return f"U:{a}|{b}"


def _blank_person(kind: str, name: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "name": name,
        "given_name": None,
        "family_name": None,
        "sex": "U",
        "dob": None,
        "dob_estimated": False,
        "dod": None,
        "deceased": False,
        "age": None,
        "role": None,
        "household_id": None,
        "subject": False,
        "with_subject": False,
        "badges": [],
        "twins": [],
    }


def family_graph(
    tables: Mapping[str, pd.DataFrame],
    family_id: str,
    *,
    as_at: dt.date,
    subject: str | None = None,
    vocabulary: InterventionVocabulary | None = None,
) -> nx.MultiDiGraph:
    """Build the family graph of ``family_id`` from the canonical tables.

    Parameters
    ----------
    tables
        Canonical tables as DataFrames by name: ``persons``, ``relationships`` and
        ``families`` are required; ``households`` and ``interventions`` are used when given.
        They may hold other families and people; only members of ``family_id`` are drawn.
    family_id
        The family to build.
    as_at
        The date ages, open interventions and current households are read at.
    subject
        The ``person_id`` of the subject child. By default, the child (``role == "child"``)
        with the most statutory interventions, the youngest first among equals.
    vocabulary
        The intervention vocabulary giving badge codes and RAG; by default the shipped
        ``config/interventions.yaml``.

    Returns
    -------
    networkx.MultiDiGraph
        Person, partnership and unknown-parent nodes (see the module docstring) with
        ``partner``, ``child`` and ``abuse`` edges. ``G.graph`` holds ``family_id``,
        ``as_at`` and ``subject``.

    Raises
    ------
    RenderError
        If the family is unknown, a member is missing from ``persons``, ``subject`` is not a
        member, a required table is missing, or the parent links form a cycle.

    Examples
    --------
    >>> from tests.genogram.family_fixture import AS_AT, FAMILY_ID, family_tables
    >>> G = family_graph(family_tables(), FAMILY_ID, as_at=AS_AT)
    >>> G.graph["subject"], G.nodes["P-SUBJ"]["age"]
    ('P-SUBJ', 12)
    >>> sorted(G.predecessors("P-HALF"))
    ['U:P-DAD|P-EX']
    """
    for name in _REQUIRED_TABLES:
        if name not in tables:
            raise RenderError(f"family graph: the {name!r} table is missing")
    vocabulary = vocabulary if vocabulary is not None else _shipped_vocabulary()

    families = tables["families"]
    rows = _where(families, [f == family_id for f in families["family_id"]])
    if rows.empty:
        raise RenderError(f"unknown family {family_id!r}")
    role_rank = {role: i for i, role in enumerate(FAMILY_ROLES)}
    members: dict[str, dict[str, Any]] = {}
    for row in sorted(_rows(rows), key=lambda r: role_rank.get(str(r["role"]), len(role_rank))):
        members.setdefault(str(row["person_id"]), row)

    persons = tables["persons"]
    person_rows = {
        str(r["person_id"]): r for r in _rows(_where(persons, [p in members for p in persons["person_id"]]))
    }
    absent = sorted(set(members) - set(person_rows))
    if absent:
        raise RenderError(f"family {family_id!r}: member(s) {absent} are not in the persons table")

    interventions_by_person: dict[str, list[dict[str, Any]]] = defaultdict(list)
    ivs = tables.get("interventions")
    if ivs is not None and not ivs.empty:
        for row in _rows(_where(ivs, [p in members for p in ivs["person_id"]])):
            interventions_by_person[str(row["person_id"])].append(row)

    if subject is None:
        subject = _default_subject(members, person_rows, interventions_by_person, vocabulary, as_at)
    elif subject not in members:
        raise RenderError(f"subject {subject!r} is not a member of family {family_id!r}")

    household = _households(members, tables.get("households"))

    G = nx.MultiDiGraph(family_id=family_id, as_at=as_at, subject=subject)
    for pid in sorted(members):
        G.add_node(
            pid,
            **_person_attributes(
                person_rows[pid],
                members[pid],
                household.get(pid),
                interventions_by_person.get(pid, []),
                vocabulary,
                as_at,
            ),
        )
    subject_home = G.nodes[subject]["household_id"]
    for pid in G:
        attrs = G.nodes[pid]
        attrs["subject"] = pid == subject
        attrs["with_subject"] = pid == subject or (
            subject_home is not None and attrs["household_id"] == subject_home and not attrs["deceased"]
        )

    relationships = tables["relationships"]
    rels = _where(
        relationships,
        [
            a in members and b in members
            for a, b in zip(relationships["person_id_from"], relationships["person_id_to"], strict=True)
        ],
    )
    _add_structure(G, _rows(rels))
    _check_acyclic(G, family_id)
    _mark_twins(G)
    return G


def _default_subject(
    members: Mapping[str, Mapping[str, Any]],
    person_rows: Mapping[str, Mapping[str, Any]],
    interventions: Mapping[str, list[dict[str, Any]]],
    vocabulary: InterventionVocabulary,
    as_at: dt.date,
) -> str:
    children = [p for p, row in members.items() if row["role"] == "child"] or list(members)

    def key(pid: str) -> tuple[int, int, str]:
        dob = _date(person_rows[pid].get("dob"))
        return (
            -_statutory_count(interventions.get(pid, []), vocabulary, as_at),
            -(dob.toordinal() if dob else 0),
            pid,
        )

    return min(children, key=key)


def _households(members: Mapping[str, Mapping[str, Any]], households: pd.DataFrame | None) -> dict[str, str]:
    """Current household of each member: the families table's, else the households table's."""
    home = {p: str(row["household_id"]) for p, row in members.items() if _text(row.get("household_id"))}
    if households is not None and not households.empty:
        current = households[households["current"].fillna(False).astype(bool)]
        for row in sorted(_rows(current), key=lambda r: (str(r["person_id"]), str(r["household_id"]))):
            pid = str(row["person_id"])
            if pid in members and pid not in home:
                home[pid] = str(row["household_id"])
    return home


def _person_attributes(
    person: Mapping[str, Any],
    member: Mapping[str, Any],
    household_id: str | None,
    interventions: list[dict[str, Any]],
    vocabulary: InterventionVocabulary,
    as_at: dt.date,
) -> dict[str, Any]:
    given, family = _text(person.get("given_name")), _text(person.get("family_name"))
    dob, dod = _date(person.get("dob")), _date(person.get("dod"))
    deceased = dod is not None and dod <= as_at
    sex = _text(person.get("sex"))
    attrs = _blank_person(PERSON, " ".join(n for n in (given, family) if n) or "Name not recorded")
    attrs.update(
        given_name=given,
        family_name=family,
        sex=sex if sex in ("M", "F", "X") else "U",
        dob=dob,
        dob_estimated=not _missing(person.get("dob_estimated")) and bool(person.get("dob_estimated")),
        dod=dod if deceased else None,
        deceased=deceased,
        age=_age(dob, dod if deceased and dod else as_at)
        if dob is not None
        else _given_age(person.get("age")),
        role=str(member["role"]),
        household_id=household_id,
        badges=_badges(interventions, vocabulary, as_at),
    )
    return attrs


def _add_structure(G: nx.MultiDiGraph, rels: list[dict[str, Any]]) -> None:
    """Partnerships, child lines and abuse edges from the relationships among members."""
    pair_types: dict[tuple[str, str], set[str]] = defaultdict(set)
    pair_dates: dict[tuple[str, str], list[tuple[dt.date | None, dt.date | None]]] = defaultdict(list)
    adults_of: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    abuse: dict[tuple[str, str], dict[str, Any]] = {}
    for rel in sorted(rels, key=lambda r: str(r["relationship_id"])):
        a, b, kind = str(rel["person_id_from"]), str(rel["person_id_to"]), str(rel["relationship_type"])
        if a == b:
            continue
        start, end = _date(rel.get("start_date")), _date(rel.get("end_date"))
        if kind in _PARTNER_TYPES:
            pair = (min(a, b), max(a, b))
            pair_types[pair].add(kind)
            pair_dates[pair].append((start, end))
        elif kind in _CHILD_TYPE_OF:
            adults = adults_of[b][_CHILD_TYPE_OF[kind]]
            if a not in adults:
                adults.append(a)
        elif kind == "perpetrator_of_abuse_against":
            incidents = rel.get("incident_ids")
            count = 0 if incidents is None or _missing(incidents) else len(list(incidents))
            entry = abuse.setdefault((a, b), {"incidents": 0, "start_date": start, "end_date": end})
            entry["incidents"] += max(count, 1)
            entry["start_date"] = min((d for d in (entry["start_date"], start) if d), default=None)
            entry["end_date"] = max((d for d in (entry["end_date"], end) if d), default=None)

    for (a, b), types in sorted(pair_types.items()):
        starts = [s for s, _ in pair_dates[(a, b)] if s]
        ends = [e for _, e in pair_dates[(a, b)] if e]
        _add_union(
            G,
            a,
            b,
            _partnership_status(types, bool(ends)),
            min(starts, default=None),
            max(ends, default=None),
        )

    for child in sorted(adults_of):
        _add_child_lines(G, child, adults_of[child])

    for (a, b), entry in sorted(abuse.items()):
        G.add_edge(a, b, key=ABUSE, kind=ABUSE, **entry)


def _add_union(
    G: nx.MultiDiGraph, a: str, b: str, status: str, start: dt.date | None = None, end: dt.date | None = None
) -> str:
    uid = _union_id(a, b)
    if uid not in G:
        G.add_node(
            uid,
            kind=PARTNERSHIP,
            status=status,
            start_date=start,
            end_date=end,
            partners=tuple(sorted((a, b))),
        )
        for partner in sorted((a, b)):
            G.add_edge(partner, uid, key=PARTNER, kind=PARTNER)
    return uid


def _unions_between(G: nx.MultiDiGraph, person: str, others: Iterable[str]) -> list[str]:
    others = set(others)
    return sorted(
        u
        for u in G.successors(person)
        if G.nodes[u]["kind"] == PARTNERSHIP and set(G.nodes[u]["partners"]) & others
    )


def _add_child_lines(G: nx.MultiDiGraph, child: str, adults: Mapping[str, list[str]]) -> None:
    """Hang ``child`` from its parents' partnership, then add adoptive, foster and step lines."""
    birth = sorted(adults.get("birth", []))[:2]
    anchors: list[tuple[str, str]] = []
    if len(birth) == 2:
        anchors.append((_add_union(G, birth[0], birth[1], "not_recorded"), "birth"))
    elif len(birth) == 1:
        placeholder = f"?:{birth[0]}"
        if placeholder not in G:
            G.add_node(placeholder, **_blank_person(UNKNOWN_PARENT, "Not recorded"))
        anchors.append((_add_union(G, birth[0], placeholder, "not_recorded"), "birth"))
    for kind in ("adopted", "foster", "step"):
        carers = sorted(p for p in adults.get(kind, []) if p not in birth)
        if not carers:
            continue
        figures = set(birth) | {p for group in adults.values() for p in group}
        unions = [u for c in carers for u in _unions_between(G, c, figures - {c})]
        if unions:
            anchor = unions[0]
        elif len(carers) >= 2:
            anchor = _add_union(G, carers[0], carers[1], "not_recorded")
        else:
            anchor = carers[0]
        anchors.append((anchor, kind))
    seen: set[str] = set()
    for anchor, kind in anchors:
        if anchor in seen:
            continue
        G.add_edge(anchor, child, key=CHILD, kind=CHILD, child_type=kind, primary=not seen)
        seen.add(anchor)


def _check_acyclic(G: nx.MultiDiGraph, family_id: str) -> None:
    lineage = nx.DiGraph((u, v) for u, v, k in G.edges(data="kind") if k in (PARTNER, CHILD))
    if not nx.is_directed_acyclic_graph(lineage):
        raise RenderError(
            f"family {family_id!r}: the parent-child links form a cycle (someone is their own ancestor)"
        )


def _mark_twins(G: nx.MultiDiGraph) -> None:
    for anchor in list(G):
        if G.nodes[anchor]["kind"] == UNKNOWN_PARENT:
            continue
        by_dob: dict[dt.date, list[str]] = defaultdict(list)
        for child in primary_children(G, anchor):
            dob = G.nodes[child]["dob"]
            if dob is not None and not G.nodes[child]["dob_estimated"]:
                by_dob[dob].append(child)
        for group in by_dob.values():
            if len(group) > 1:
                for child in group:
                    G.nodes[child]["twins"] = sorted(c for c in group if c != child)


def people(G: nx.MultiDiGraph) -> list[str]:
    """Person-like nodes (people and unknown-parent placeholders), sorted."""
    return sorted(n for n, kind in G.nodes(data="kind") if kind in (PERSON, UNKNOWN_PARENT))


def _require(G: nx.MultiDiGraph, node: str) -> None:
    if node not in G:
        raise RenderError(f"{node!r} is not a node of the family graph")


def primary_children(G: nx.MultiDiGraph, anchor: str) -> list[str]:
    """Children whose primary line (birth first) hangs from ``anchor``, sorted by id.

    Raises
    ------
    RenderError
        If ``anchor`` is not in ``G``.

    Examples
    --------
    >>> from tests.genogram.family_fixture import AS_AT, FAMILY_ID, family_tables
    >>> G = family_graph(family_tables(), FAMILY_ID, as_at=AS_AT)
    >>> primary_children(G, "U:P-MUM|P-NEW")
    ['P-TW1', 'P-TW2']
    """
    _require(G, anchor)
    return sorted(c for _, c, d in G.out_edges(anchor, data=True) if d["kind"] == CHILD and d["primary"])


def anchors_of(G: nx.MultiDiGraph, child: str) -> list[tuple[str, str, bool]]:
    """``(anchor, child_type, primary)`` for each line ``child`` hangs from, primary first.

    Raises
    ------
    RenderError
        If ``child`` is not in ``G``.

    Examples
    --------
    >>> from tests.genogram.family_fixture import AS_AT, FAMILY_ID, family_tables
    >>> G = family_graph(family_tables(), FAMILY_ID, as_at=AS_AT)
    >>> anchors_of(G, "P-SUBJ")
    [('U:P-DAD|P-MUM', 'birth', True), ('U:P-MUM|P-NEW', 'step', False)]
    """
    _require(G, child)
    lines = [
        (a, d["child_type"], bool(d["primary"]))
        for a, _, d in G.in_edges(child, data=True)
        if d["kind"] == CHILD
    ]
    return sorted(lines, key=lambda t: (not t[2], t[0]))


class AbuseArrow(NamedTuple):
    """One arrow of recorded abuse: ``incidents`` with ``suspect`` recorded against ``victim``,
    and ``back`` the other way round (0: recorded one way only; else one arrow, two heads)."""

    suspect: str
    victim: str
    incidents: int
    back: int


def abuse_arrows(G: nx.MultiDiGraph) -> list[AbuseArrow]:
    """The arrows of recorded abuse to draw, in a fixed order: one per pair of people."""
    incidents = {
        (a, b): d["incidents"]
        for a, b, key, d in G.edges(keys=True, data=True)
        if key == ABUSE and d["kind"] == ABUSE
    }
    return [
        AbuseArrow(a, b, n, incidents.get((b, a), 0))
        for (a, b), n in sorted(incidents.items())
        if not ((b, a) in incidents and b < a)  # both ways: drawn once, from the first
    ]


def extra_lines(G: nx.MultiDiGraph, child: str) -> list[tuple[str, str]]:
    """Secondary lines worth drawing for ``child``: ``(anchor, child_type)``.

    A step line from a partnership of one of the child's own parents is left out: the
    partnership line already shows that the step-parent is the parent's partner, and
    drawing it to every step-child only clutters the genogram. Adoptive, foster and
    kinship-carer lines are kept.

    Examples
    --------
    >>> from tests.genogram.family_fixture import AS_AT, FAMILY_ID, family_tables
    >>> G = family_graph(family_tables(), FAMILY_ID, as_at=AS_AT)
    >>> anchors_of(G, "P-SUBJ")[1], extra_lines(G, "P-SUBJ")
    (('U:P-MUM|P-NEW', 'step', False), [])
    """
    lines = anchors_of(G, child)
    parents: set[str] = set()
    for anchor, _, primary in lines:
        if primary:
            parents.update(
                G.nodes[anchor]["partners"] if G.nodes[anchor]["kind"] == PARTNERSHIP else (anchor,)
            )
    out = []
    for anchor, kind, primary in lines:
        if primary:
            continue
        partners = set(G.nodes[anchor]["partners"]) if G.nodes[anchor]["kind"] == PARTNERSHIP else set()
        if kind == "step" and partners & parents:
            continue
        out.append((anchor, kind))
    return out
