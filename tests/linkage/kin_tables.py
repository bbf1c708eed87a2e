"""Small canonical tables for relationship and family tests, from a compact description.

Each person has one record ``s:<person>`` in ``person_index``. Statements are
``(from, to, type)`` or dicts with more fields; people are ``{id: {sex, dob, family}}``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ingest.schema import HOUSEHOLDS, RECORDS, STATED_RELATIONSHIPS


def persons_table(people: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    rows = []
    for pid, p in people.items():
        rows.append(
            {
                "person_id": pid,
                "given_name": p.get("given", pid),
                "family_name": p.get("family", "SMITH"),
                "sex": p.get("sex"),
                "dob": dt.date.fromisoformat(p["dob"]) if p.get("dob") else None,
                "dob_estimated": bool(p.get("dob_estimated", False)),
                "dob_conflict": False,
                "cluster_confidence": p.get("cluster_confidence", 1.0),
            }
        )
    return pd.DataFrame(rows)


def person_index_table(people: Mapping[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(
        {"record_key": [f"s:{p}" for p in people], "person_id": list(people), "cluster_confidence": 1.0}
    )


def records_table(people: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    rows = []
    for pid, p in people.items():
        rec = dict.fromkeys(RECORDS.names)
        rec.update(
            record_key=f"s:{pid}",
            source="s",
            source_record_id=pid,
            nhs_number_std=p.get("nhs"),
            upn_std=p.get("upn"),
            quality_flags=[],
            alias_names=[],
            alias_names_std=[],
        )
        rows.append(rec)
    return pd.DataFrame(rows, columns=RECORDS.names)


def stated_table(statements: Sequence[Any]) -> pd.DataFrame:
    rows = []
    for i, st in enumerate(statements):
        d = dict(zip(("from", "to", "type"), st, strict=True)) if isinstance(st, tuple) else dict(st)
        row = dict.fromkeys(STATED_RELATIONSHIPS.names)
        row.update(
            relationship_id=f"{d.get('source', 's')}:{i + 1}:0",
            source=d.get("source", "s"),
            from_record_key=f"s:{d['from']}",
            to_record_key=f"s:{d['to']}" if d.get("to") else None,
            to_identifier_type=d.get("id_type"),
            to_identifier=d.get("id_value"),
            relationship_type=d["type"],
            start_date=dt.date.fromisoformat(d["start"]) if d.get("start") else None,
            incident_id=d.get("incident"),
            row_number=i + 1,
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=STATED_RELATIONSHIPS.names)


def households_table(spells: Sequence[tuple[str, str, str, str, bool]]) -> pd.DataFrame:
    """Spells as (person, household, start ISO, end ISO, current)."""
    rows = [
        {
            "household_id": h,
            "person_id": p,
            "address": None,
            "postcode": None,
            "start_date": dt.date.fromisoformat(s),
            "end_date": dt.date.fromisoformat(e),
            "current": cur,
            "sources": ["s"],
        }
        for p, h, s, e, cur in spells
    ]
    return pd.DataFrame(rows, columns=HOUSEHOLDS.names)
