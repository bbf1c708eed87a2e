"""A large invented family (F-BIG-1) for testing that an FSR spans pages legibly.

Four parents with children by several partners, grandparents, and many interventions per
child over ten years: the chronology and household tables run over several pages and the
timeline needs more than one drawing. Everything is generated deterministically.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ingest.schema import to_arrow

FAMILY_ID = "F-BIG-1"
AS_AT = dt.date(2026, 10, 31)
CHILDREN = 30
_TYPES = (
    ("contact_referral", "csc", None),
    ("child_in_need", "csc", "A. Worker"),
    ("early_help", "csc", "B. Helper"),
    ("exclusion", "school", None),
    ("child_protection_plan", "csc", "C. Social Worker"),
    ("health_visiting", "health", None),
    ("youth_justice", "yot", None),
)


def _date(n: int) -> dt.date:
    return dt.date(2016, 1, 1) + dt.timedelta(days=(n * 97) % 3700)


def large_family_tables() -> dict[str, pd.DataFrame]:
    """The family's tables, checked against the canonical schemas."""
    persons, families, households, relationships, interventions = [], [], [], [], []
    adults = [f"A{i:02d}" for i in range(8)]
    for i, pid in enumerate(adults):
        persons.append(
            {
                "person_id": pid,
                "given_name": f"Adult{i}",
                "family_name": f"Family{i % 4}",
                "sex": "F" if i % 2 == 0 else "M",
                "dob": dt.date(1970 + i * 2, 1 + i, 3),
            }
        )
        families.append(
            {"person_id": pid, "role": "parent" if i < 6 else "grandparent", "household_id": f"H{i % 5}"}
        )
    for c in range(CHILDREN):
        pid = f"C{c:02d}"
        mother, father = adults[(c % 3) * 2], adults[(c % 3) * 2 + 1]
        persons.append(
            {
                "person_id": pid,
                "given_name": f"Child{c}",
                "family_name": f"Family{c % 3}",
                "sex": "F" if c % 2 else "M",
                "dob": dt.date(2008 + c % 15, 1 + c % 12, 1 + c % 27),
            }
        )
        families.append({"person_id": pid, "role": "child", "household_id": f"H{c % 5}"})
        for parent, kind in ((mother, "mother"), (father, "father")):
            relationships.append(
                {
                    "relationship_id": f"R{pid}{kind}",
                    "person_id_from": parent,
                    "person_id_to": pid,
                    "relationship_type": kind,
                    "directed": True,
                    "basis": "stated",
                    "confidence": 0.97 if c % 7 else 0.7,
                    "sources": ["csc"],
                    "evidence": ["csc:1:0"],
                    "incident_ids": [],
                }
            )
        for k in range(5):
            kind, source, worker = _TYPES[(c + k) % len(_TYPES)]
            start = _date(c * 5 + k)
            interventions.append(
                {
                    "intervention_id": f"I{c:02d}{k}",
                    "person_id": pid,
                    "event_type": kind,
                    "start_date": start,
                    "end_date": None if (c + k) % 4 == 0 else start + dt.timedelta(days=120 + 30 * k),
                    "role": "subject",
                    "lead_practitioner": worker,
                    "sensitivity": "standard",
                    "agencies": [source],
                    "sources": [source],
                    "event_ids": [f"{source}:{c}:{k}"],
                    "incident_ids": [],
                }
            )
    person_frame = pd.DataFrame(persons)
    person_frame["middle_names"] = None
    person_frame["dob_estimated"] = False
    person_frame["dob_conflict"] = False
    person_frame["sources"] = [["csc"]] * len(person_frame)
    person_frame["record_count"] = 1
    person_frame["cluster_confidence"] = 1.0
    for column in ("postcode", "nhs_number", "upn", "dod"):
        person_frame[column] = None
    family_frame = pd.DataFrame(families)
    family_frame["family_id"] = FAMILY_ID
    family_frame["confidence"] = 1.0
    for pid, hid in zip(family_frame["person_id"], family_frame["household_id"], strict=True):
        households.append(
            {
                "household_id": hid,
                "person_id": pid,
                "address": f"{hid[1:]} Long Street, Bradley Cross",
                "postcode": None,
                "start_date": dt.date(2020, 1, 1),
                "end_date": None,
                "current": True,
                "sources": ["housing"],
            }
        )
    rel_frame = pd.DataFrame(relationships)
    rel_frame["start_date"] = None
    rel_frame["end_date"] = None
    iv_frame = pd.DataFrame(interventions)
    iv_frame["category"] = None
    iv_frame["risk"] = None
    tables = {
        "persons": person_frame,
        "relationships": rel_frame,
        "families": family_frame,
        "households": pd.DataFrame(households),
        "interventions": iv_frame,
    }
    return {name: to_arrow(name, frame).to_pandas(date_as_object=True) for name, frame in tables.items()}
