"""A hand-made family in the canonical tables, for genogram and FSR tests.

Family ``F-TEST-1``: grandparents (grandfather deceased) -> mother; mother and father were
married and divorced (two children: the subject child and her older brother, who is looked
after); mother now cohabits with a new partner (recorded domestic abuse against her) and
they have twins; the father has a daughter with a former partner (half-sister of the
subject). Everything here is invented.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ingest.schema import to_arrow

FAMILY_ID = "F-TEST-1"
AS_AT = dt.date(2026, 10, 31)
D = dt.date


def _persons() -> pd.DataFrame:
    rows = [
        # person_id, given, family, sex, dob, dod, nhs, upn, sources
        ("P-GF", "Albert", "Hartley", "M", D(1950, 3, 2), D(2019, 6, 1), None, None, ["health"]),
        ("P-GM", "Maureen", "Hartley", "F", D(1952, 7, 14), None, None, None, ["housing"]),
        (
            "P-MUM",
            "Kelly",
            "Hartley",
            "F",
            D(1988, 5, 9),
            None,
            "9434765919",
            None,
            ["csc", "police_da", "health"],
        ),
        ("P-DAD", "Jason", "Price", "M", D(1985, 11, 23), None, None, None, ["csc", "probation"]),
        ("P-NEW", "Dean", "Walsh", "M", D(1990, 1, 30), None, None, None, ["police_da"]),
        ("P-EX", "Shannon", "Booth", "F", D(1987, 2, 3), None, None, None, ["school"]),
        (
            "P-BRO",
            "Tyler",
            "Price",
            "M",
            D(2009, 8, 1),
            None,
            None,
            "A123456789012",
            ["csc", "school", "yot"],
        ),
        (
            "P-SUBJ",
            "Lily",
            "Price",
            "F",
            D(2014, 4, 12),
            None,
            "9434765870",
            "B123456789012",
            ["csc", "school"],
        ),
        ("P-TW1", "Mason", "Walsh", "M", D(2022, 9, 5), None, None, None, ["health"]),
        ("P-TW2", "Ruby", "Walsh", "F", D(2022, 9, 5), None, None, None, ["health"]),
        ("P-HALF", "Ava", "Booth", "F", D(2016, 1, 20), None, None, None, ["school"]),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "person_id",
            "given_name",
            "family_name",
            "sex",
            "dob",
            "dod",
            "nhs_number",
            "upn",
            "sources",
        ],
    )
    frame["middle_names"] = None
    frame["postcode"] = "BD7 1AA"
    frame["dob_estimated"] = False
    frame["dob_conflict"] = frame["person_id"].eq("P-NEW")
    frame["record_count"] = frame["sources"].map(len)
    frame["cluster_confidence"] = 1.0
    frame.loc[frame["person_id"] == "P-NEW", "cluster_confidence"] = 0.93
    return frame


def _rel(rid, a, b, kind, start=None, end=None, *, basis="stated", conf=0.95, sources=("csc",), incidents=()):
    from ingest.schema import UNDIRECTED_RELATIONSHIPS

    undirected = kind in UNDIRECTED_RELATIONSHIPS
    if undirected and b < a:
        a, b = b, a
    return {
        "relationship_id": rid,
        "person_id_from": a,
        "person_id_to": b,
        "relationship_type": kind,
        "directed": not undirected,
        "start_date": start,
        "end_date": end,
        "basis": basis,
        "confidence": conf,
        "sources": list(sources),
        "evidence": [f"{sources[0]}:1:0"],
        "incident_ids": list(incidents),
    }


def _relationships() -> pd.DataFrame:
    rows = [
        _rel("R01", "P-GF", "P-MUM", "father", sources=("health",)),
        _rel("R02", "P-GM", "P-MUM", "mother", sources=("housing",)),
        _rel("R03", "P-GF", "P-GM", "spouse", D(1975, 6, 1), basis="derived", conf=0.8),
        _rel("R04", "P-MUM", "P-DAD", "ex_partner", D(2016, 3, 1), sources=("police_da",)),
        _rel("R05", "P-MUM", "P-BRO", "mother"),
        _rel("R06", "P-DAD", "P-BRO", "father"),
        _rel("R07", "P-MUM", "P-SUBJ", "mother"),
        _rel("R08", "P-DAD", "P-SUBJ", "father"),
        _rel("R09", "P-MUM", "P-NEW", "partner", D(2020, 5, 1), sources=("police_da",)),
        _rel("R10", "P-MUM", "P-TW1", "mother", sources=("health",)),
        _rel("R11", "P-MUM", "P-TW2", "mother", sources=("health",)),
        _rel("R12", "P-NEW", "P-TW1", "father", sources=("health",)),
        _rel("R13", "P-NEW", "P-TW2", "father", sources=("health",)),
        _rel("R14", "P-DAD", "P-HALF", "father", sources=("school",)),
        _rel("R15", "P-EX", "P-HALF", "mother", sources=("school",)),
        _rel("R16", "P-DAD", "P-EX", "ex_partner", basis="derived", conf=0.8, sources=("school",)),
        _rel("R17", "P-BRO", "P-SUBJ", "sibling", basis="derived"),
        _rel("R18", "P-SUBJ", "P-TW1", "half_sibling", basis="derived"),
        _rel("R19", "P-SUBJ", "P-TW2", "half_sibling", basis="derived"),
        _rel("R20", "P-BRO", "P-TW1", "half_sibling", basis="derived"),
        _rel("R21", "P-BRO", "P-TW2", "half_sibling", basis="derived"),
        _rel("R22", "P-HALF", "P-SUBJ", "half_sibling", basis="derived"),
        _rel("R23", "P-BRO", "P-HALF", "half_sibling", basis="derived"),
        _rel("R24", "P-TW1", "P-TW2", "sibling", basis="derived"),
        _rel("R25", "P-NEW", "P-SUBJ", "step_parent", D(2020, 5, 1), sources=("school",)),
        _rel(
            "R26",
            "P-NEW",
            "P-MUM",
            "perpetrator_of_abuse_against",
            D(2023, 2, 11),
            D(2026, 7, 2),
            sources=("police_da",),
            incidents=("police_da:INC1", "police_da:INC2", "police_da:INC3"),
        ),
        _rel("R27", "P-GM", "P-SUBJ", "grandparent", basis="derived", conf=0.9, sources=("housing",)),
    ]
    return pd.DataFrame(rows)


def _families() -> pd.DataFrame:
    roles = {
        "P-BRO": "child",
        "P-SUBJ": "child",
        "P-TW1": "child",
        "P-TW2": "child",
        "P-HALF": "child",
        "P-MUM": "parent",
        "P-DAD": "parent",
        "P-NEW": "parent",
        "P-EX": "parent",
        "P-GF": "grandparent",
        "P-GM": "grandparent",
    }
    home = {"P-MUM": "H-A", "P-NEW": "H-A", "P-SUBJ": "H-A", "P-TW1": "H-A", "P-TW2": "H-A", "P-DAD": "H-B"}
    home |= {"P-EX": "H-C", "P-HALF": "H-C", "P-GM": "H-D", "P-BRO": "H-E"}
    return pd.DataFrame(
        {
            "family_id": FAMILY_ID,
            "person_id": list(roles),
            "role": list(roles.values()),
            "household_id": [home.get(p) for p in roles],
            "confidence": 1.0,
        }
    )


def _households() -> pd.DataFrame:
    addr = {
        "H-A": ("12 Mill Lane, Bradley Cross", "BD7 1AA"),
        "H-B": ("Flat 3, 40 Station Road, Bradley Cross", "BD3 9QT"),
        "H-C": ("7 Elm Grove, Bradley Cross", "BD5 2LP"),
        "H-D": ("88 Church Street, Bradley Cross", "BD1 4RE"),
        "H-E": ("Foster placement (address withheld)", None),
    }
    fam = _families()
    rows = []
    for person, hh in zip(fam["person_id"], fam["household_id"], strict=True):
        if hh is None:
            continue
        rows.append(
            {
                "household_id": hh,
                "person_id": person,
                "address": addr[hh][0],
                "postcode": addr[hh][1],
                "start_date": D(2021, 1, 1),
                "end_date": None,
                "current": True,
                "sources": ["housing"],
            }
        )
    return pd.DataFrame(rows)


def _interventions() -> pd.DataFrame:
    def iv(n, person, kind, start, end=None, role="subject", risk=None, cat=None, sens="standard", src="csc"):
        return {
            "intervention_id": f"I{n:02d}",
            "person_id": person,
            "event_type": kind,
            "category": cat,
            "start_date": start,
            "end_date": end,
            "role": role,
            "risk": risk,
            "incident_ids": [],
            "lead_practitioner": "A. Worker" if src == "csc" else None,
            "sensitivity": sens,
            "agencies": [src],
            "sources": [src],
            "event_ids": [f"{src}:{n}:0"],
        }

    rows = [
        iv(1, "P-SUBJ", "contact_referral", D(2023, 2, 12)),
        iv(2, "P-SUBJ", "child_protection_enquiry", D(2023, 2, 14), D(2023, 3, 1), sens="sensitive"),
        iv(
            3,
            "P-SUBJ",
            "child_protection_plan",
            D(2023, 3, 20),
            None,
            cat="emotional_abuse",
            sens="sensitive",
        ),
        iv(4, "P-BRO", "looked_after", D(2024, 1, 8), None, cat="s20", sens="sensitive"),
        iv(5, "P-BRO", "exclusion", D(2024, 5, 2), D(2024, 5, 6), cat="suspension", src="school"),
        iv(6, "P-BRO", "youth_justice", D(2025, 3, 3), D(2025, 9, 3), cat="referral_order", src="yot"),
        iv(
            7, "P-MUM", "domestic_abuse_incident", D(2023, 2, 11), role="victim", risk="high", src="police_da"
        ),
        iv(
            8,
            "P-NEW",
            "domestic_abuse_incident",
            D(2023, 2, 11),
            role="perpetrator",
            risk="high",
            src="police_da",
        ),
        iv(9, "P-MUM", "marac", D(2023, 3, 2), role="victim", sens="restricted", src="police_da"),
        iv(10, "P-DAD", "mappa", D(2021, 6, 1), cat="category_2_level_1", sens="restricted", src="probation"),
        iv(11, "P-HALF", "ehcp", D(2022, 9, 1), src="school"),
        iv(12, "P-TW1", "health_visiting", D(2022, 10, 1), src="health"),
        iv(13, "P-SUBJ", "early_help", D(2022, 1, 10), D(2022, 11, 30)),
    ]
    return pd.DataFrame(rows)


def family_tables() -> dict[str, pd.DataFrame]:
    """The family's tables as DataFrames, each checked against its canonical schema."""
    tables = {
        "persons": _persons(),
        "relationships": _relationships(),
        "families": _families(),
        "households": _households(),
        "interventions": _interventions(),
    }
    return {name: to_arrow(name, frame).to_pandas(date_as_object=True) for name, frame in tables.items()}
