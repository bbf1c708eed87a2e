"""Interchange: the family graph as versioned JSON, and its structure alone as GEDCOM 7.

* :func:`to_json` / :func:`from_json`: the canonical export, a document
  ``{"format": "kinlink-family-graph", "version": 1, ...}`` holding people (with their
  badges), partnerships, child lines and recorded abuse. Keys come in a fixed order and
  lists are sorted, so one graph always gives the same bytes.
* :func:`to_gedcom`: GEDCOM 7.0 for genealogy tools, **family structure only** (``INDI``
  with ``NAME``/``SEX``/``BIRT``/``DEAT``, ``FAM`` with ``HUSB``/``WIFE``/``CHIL``).
  Interventions, badges, households and recorded abuse are never written to it: it is a
  format that ends up in consumer software. Cross-reference ids are ordinals (``@I3@``),
  not person ids; ``HUSB``/``WIFE`` say nothing about sex (GEDCOM 7 ``FAMILY_RECORD``).

``write_json`` and ``write_gedcom`` are the thin I/O halves.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import networkx as nx

from genogram._io import write_atomic
from genogram.errors import RenderError
from genogram.graph import (
    ABUSE,
    CHILD,
    PARTNER,
    PARTNERSHIP,
    PERSON,
    PERSON_ATTRIBUTES,
    UNKNOWN_PARENT,
    Badge,
)
from genogram.labels import clean_text

__all__ = [
    "JSON_FORMAT",
    "JSON_VERSION",
    "from_json",
    "to_gedcom",
    "to_json",
    "write_gedcom",
    "write_json",
]

JSON_FORMAT = "kinlink-family-graph"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
JSON_VERSION = 1

_DATE_KEYS = ("dob", "dod")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_PEDIGREE = {"birth": "BIRTH", "adopted": "ADOPTED", "foster": "FOSTER"}
_PEDIGREE_OTHER = "Step-child or child cared for"
_EVENTS = {"separated": "Separation", "cohabiting": "Cohabitation", "ex": "Former partners"}


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _person_doc(G: nx.MultiDiGraph, n: str) -> dict[str, Any]:
    a = G.nodes[n]
    doc: dict[str, Any] = {"id": n}
    for key in PERSON_ATTRIBUTES:
        value = a[key]
        if key in _DATE_KEYS:
            value = _iso(value)
        elif key == "badges":
            value = [{"code": b.code, "rag": b.rag, "label": b.label, "open": b.open} for b in value]
        elif key == "twins":
            value = list(value)
        doc[key] = value
    return doc


def to_json(G: nx.MultiDiGraph) -> str:
    """The family graph as a versioned JSON document (deterministic text).

    Examples
    --------
    >>> from tests.genogram.family_fixture import AS_AT, FAMILY_ID, family_tables
    >>> from genogram.graph import family_graph
    >>> doc = json.loads(to_json(family_graph(family_tables(), FAMILY_ID, as_at=AS_AT)))
    >>> list(doc)[:3], len(doc["people"]), len(doc["partnerships"])
    (['format', 'version', 'family_id'], 11, 4)
    """
    people = sorted(n for n, k in G.nodes(data="kind") if k in (PERSON, UNKNOWN_PARENT))
    unions = sorted(n for n, k in G.nodes(data="kind") if k == PARTNERSHIP)
    doc = {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "family_id": G.graph.get("family_id"),
        "as_at": _iso(G.graph.get("as_at")),
        "subject": G.graph.get("subject"),
        "people": [_person_doc(G, n) for n in people],
        "partnerships": [
            {
                "id": u,
                "partners": list(G.nodes[u]["partners"]),
                "status": G.nodes[u]["status"],
                "start_date": _iso(G.nodes[u]["start_date"]),
                "end_date": _iso(G.nodes[u]["end_date"]),
            }
            for u in unions
        ],
        "children": [
            {"parent": a, "child": c, "type": d["child_type"], "primary": bool(d["primary"])}
            for a, c, d in sorted(G.edges(data=True), key=lambda e: (e[0], e[1]))
            if d["kind"] == CHILD
        ],
        "abuse": [
            {
                "from": a,
                "to": b,
                "incidents": d["incidents"],
                "start_date": _iso(d["start_date"]),
                "end_date": _iso(d["end_date"]),
            }
            for a, b, d in sorted(G.edges(data=True), key=lambda e: (e[0], e[1]))
            if d["kind"] == ABUSE
        ],
    }
    # a lone surrogate (possible in frames given through the Python API) cannot be UTF-8
    return _LONE_SURROGATE.sub("\ufffd", json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def from_json(text: str | bytes) -> nx.MultiDiGraph:
    """Read a document written by :func:`to_json` back into a family graph.

    Raises
    ------
    RenderError
        If the text is not JSON, or not a ``kinlink-family-graph`` of a version this
        release reads.
    """
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RenderError(f"family graph JSON: not valid JSON (line {exc.lineno})") from None
    if not isinstance(doc, Mapping) or doc.get("format") != JSON_FORMAT:
        raise RenderError(f"family graph JSON: 'format' is not {JSON_FORMAT!r}")
    if doc.get("version") != JSON_VERSION:
        raise RenderError(f"family graph JSON: version {doc.get('version')!r} is not {JSON_VERSION}")
    G = nx.MultiDiGraph(family_id=doc["family_id"], as_at=_date(doc["as_at"]), subject=doc["subject"])
    for p in doc["people"]:
        attrs = {k: p[k] for k in PERSON_ATTRIBUTES}
        for key in _DATE_KEYS:
            attrs[key] = _date(attrs[key])
        attrs["badges"] = [Badge(b["code"], b["rag"], b["label"], b["open"]) for b in attrs["badges"]]
        G.add_node(p["id"], **attrs)
    for u in doc["partnerships"]:
        partners = tuple(u["partners"])
        G.add_node(
            u["id"],
            kind=PARTNERSHIP,
            status=u["status"],
            start_date=_date(u["start_date"]),
            end_date=_date(u["end_date"]),
            partners=partners,
        )
        for partner in partners:
            G.add_edge(partner, u["id"], key=PARTNER, kind=PARTNER)
    for c in doc["children"]:
        G.add_edge(c["parent"], c["child"], key=CHILD, kind=CHILD, child_type=c["type"], primary=c["primary"])
    for e in doc["abuse"]:
        G.add_edge(
            e["from"],
            e["to"],
            key=ABUSE,
            kind=ABUSE,
            incidents=e["incidents"],
            start_date=_date(e["start_date"]),
            end_date=_date(e["end_date"]),
        )
    return G


# -------------------------------------------------------------------------------- GEDCOM


def _ged_text(value: object) -> str:
    """A GEDCOM line payload: clean, one line, a leading ``@`` doubled."""
    text = clean_text(value)
    return "@" + text if text.startswith("@") else text


def _ged_date(value: dt.date, *, approximate: bool = False) -> str:
    text = f"{value.day} {_MONTHS[value.month - 1]} {value.year}"
    return f"ABT {text}" if approximate else text


def _name_part(value: object) -> str:
    return _ged_text(value).replace("/", " ").strip()


def _spouse_roles(G: nx.MultiDiGraph, partners: list[str]) -> list[tuple[str, str]]:
    """HUSB/WIFE tags for a couple: by recorded sex where that separates them, else in order."""
    if len(partners) == 2:
        a, b = partners
        sa, sb = G.nodes[a]["sex"], G.nodes[b]["sex"]
        if (sb == "M" and sa != "M") or (sa == "F" and sb != "F"):
            a, b = b, a
        return [("HUSB", a), ("WIFE", b)]
    if len(partners) == 1:
        return [("WIFE" if G.nodes[partners[0]]["sex"] == "F" else "HUSB", partners[0])]
    return []


def to_gedcom(G: nx.MultiDiGraph) -> str:
    """The family's structure as GEDCOM 7.0 text (no interventions, households or abuse).

    Unknown-parent placeholders are left out (their family has one partner). A lone carer
    a child hangs from gets a family of their own.

    Examples
    --------
    >>> from tests.genogram.family_fixture import AS_AT, FAMILY_ID, family_tables
    >>> from genogram.graph import family_graph
    >>> text = to_gedcom(family_graph(family_tables(), FAMILY_ID, as_at=AS_AT))
    >>> text.splitlines()[:3], text.count(" INDI"), text.count(" FAM\\n")
    (['0 HEAD', '1 GEDC', '2 VERS 7.0'], 11, 4)
    """
    people = sorted(n for n, k in G.nodes(data="kind") if k == PERSON)
    indi = {p: f"@I{i}@" for i, p in enumerate(people, start=1)}
    anchors = sorted(
        {a for a, _, k in G.edges(data="kind") if k == CHILD}
        | {n for n, k in G.nodes(data="kind") if k == PARTNERSHIP}
    )
    fam = {a: f"@F{i}@" for i, a in enumerate(anchors, start=1)}

    def partners(anchor: str) -> list[str]:
        found = G.nodes[anchor]["partners"] if G.nodes[anchor]["kind"] == PARTNERSHIP else (anchor,)
        return [p for p in found if p in indi]

    children: dict[str, list[tuple[str, str]]] = {a: [] for a in anchors}
    famc: dict[str, list[tuple[str, str]]] = {p: [] for p in people}
    for a, c, d in sorted(G.edges(data=True), key=lambda e: (e[0], e[1])):
        if d["kind"] == CHILD and c in indi:
            children[a].append((c, d["child_type"]))
            famc[c].append((a, d["child_type"]))
    fams: dict[str, list[str]] = {p: [] for p in people}
    for a in anchors:
        for p in partners(a):
            fams[p].append(a)

    lines = ["0 HEAD", "1 GEDC", "2 VERS 7.0", "1 SOUR kinlink"]
    for p in people:
        a = G.nodes[p]
        lines.append(f"0 {indi[p]} INDI")
        given, family = _name_part(a["given_name"]), _name_part(a["family_name"])
        if given or family:
            lines.append(f"1 NAME {given} /{family}/".replace("  ", " ").strip())
            if given:
                lines.append(f"2 GIVN {given}")
            if family:
                lines.append(f"2 SURN {family}")
        lines.append(f"1 SEX {a['sex'] if a['sex'] in ('M', 'F', 'X') else 'U'}")
        if a["dob"] is not None:
            lines += ["1 BIRT", f"2 DATE {_ged_date(a['dob'], approximate=bool(a['dob_estimated']))}"]
        if a["deceased"]:
            lines += ["1 DEAT", f"2 DATE {_ged_date(a['dod'])}"] if a["dod"] is not None else ["1 DEAT Y"]
        for anchor, kind in famc[p]:
            lines.append(f"1 FAMC {fam[anchor]}")
            pedigree = _PEDIGREE.get(kind, "OTHER")
            lines.append(f"2 PEDI {pedigree}")
            if pedigree == "OTHER":
                lines.append(f"3 PHRASE {_PEDIGREE_OTHER}")
        lines += [f"1 FAMS {fam[anchor]}" for anchor in fams[p]]
    for anchor in anchors:
        lines.append(f"0 {fam[anchor]} FAM")
        lines += [f"1 {tag} {indi[p]}" for tag, p in _spouse_roles(G, partners(anchor))]
        lines += [f"1 CHIL {indi[c]}" for c, _ in children[anchor]]
        if G.nodes[anchor]["kind"] == PARTNERSHIP:
            lines += _family_events(G.nodes[anchor])
    lines.append("0 TRLR")
    return "\n".join(lines) + "\n"


def _family_events(attrs: Mapping[str, Any]) -> list[str]:
    status, start, end = attrs["status"], attrs["start_date"], attrs["end_date"]
    out: list[str] = []
    if status in ("married", "divorced"):
        out += ["1 MARR", f"2 DATE {_ged_date(start)}"] if start else ["1 MARR Y"]
    if status == "divorced":
        out += ["1 DIV", f"2 DATE {_ged_date(end)}"] if end else ["1 DIV Y"]
    if status in _EVENTS:
        out += ["1 EVEN", f"2 TYPE {_EVENTS[status]}"]
        when = end if status == "separated" else start
        if when:
            out.append(f"2 DATE {_ged_date(when)}")
    return out


def write_json(G: nx.MultiDiGraph, path: str | os.PathLike[str]) -> Path:
    """Write :func:`to_json` of ``G`` to ``path`` (UTF-8), whole or not at all."""
    return write_atomic(path, to_json(G).encode("utf-8"), what="family graph JSON")


def write_gedcom(G: nx.MultiDiGraph, path: str | os.PathLike[str]) -> Path:
    """Write :func:`to_gedcom` of ``G`` to ``path`` (UTF-8, the GEDCOM 7 encoding)."""
    return write_atomic(path, to_gedcom(G).encode("utf-8"), what="GEDCOM file")
