"""Interventions per person: events through person_index, one row per episode."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from ingest.schema import EVENTS
from linkage.interventions import person_interventions


def events(rows):
    out = []
    for i, r in enumerate(rows):
        e = dict.fromkeys(EVENTS.names)
        e.update(
            event_id=f"{r.get('source', 'csc')}:{i + 1}:0",
            record_key=r["record"],
            source=r.get("source", "csc"),
            agency=r.get("source", "csc"),
            event_type=r.get("type", "child_protection_plan"),
            category=r.get("category"),
            start_date=dt.date.fromisoformat(r["start"]),
            end_date=dt.date.fromisoformat(r["end"]) if r.get("end") else None,
            role=r.get("role", "subject"),
            risk=r.get("risk"),
            sensitivity=r.get("sensitivity", "standard"),
            incident_id=r.get("incident"),
            lead_practitioner=r.get("worker"),
        )
        out.append(e)
    return pd.DataFrame(out, columns=EVENTS.names)


INDEX = pd.DataFrame(
    {"record_key": ["csc:1", "csc:2", "police:9", "csc:3"], "person_id": ["P", "P", "P", "Q"]}
)

CASES = [
    {
        "description": "one child recorded twice: one episode",
        "events": [
            {"record": "csc:1", "start": "2024-01-10", "end": "2024-06-01"},
            {"record": "csc:2", "start": "2024-01-12", "end": "2024-06-01"},
        ],
        "episodes": 1,
    },
    {
        "description": "two agencies, one incident, days apart: one episode with both",
        "events": [
            {
                "record": "csc:1",
                "type": "domestic_abuse_incident",
                "role": "victim",
                "start": "2024-03-01",
                "risk": "medium",
            },
            {
                "record": "police:9",
                "source": "police",
                "type": "domestic_abuse_incident",
                "role": "victim",
                "start": "2024-03-04",
                "risk": "high",
                "sensitivity": "sensitive",
            },
        ],
        "episodes": 1,
    },
    {
        "description": "a second plan a year later: two episodes",
        "events": [
            {"record": "csc:1", "start": "2023-01-10", "end": "2023-06-01"},
            {"record": "csc:1", "start": "2024-01-10"},
        ],
        "episodes": 2,
    },
    {
        "description": "different people never merge",
        "events": [{"record": "csc:1", "start": "2024-01-10"}, {"record": "csc:3", "start": "2024-01-10"}],
        "episodes": 2,
    },
    {
        "description": "victim and perpetrator roles stay apart",
        "events": [
            {"record": "csc:1", "type": "domestic_abuse_incident", "role": "victim", "start": "2024-03-01"},
            {
                "record": "csc:2",
                "type": "domestic_abuse_incident",
                "role": "perpetrator",
                "start": "2024-03-01",
            },
        ],
        "episodes": 2,
    },
]


@pytest.mark.parametrize("case", CASES, ids=[c["description"] for c in CASES])
def test_episodes(case):
    out = person_interventions(events(case["events"]), INDEX)
    assert len(out) == case["episodes"]
    assert sorted(e for lst in out["event_ids"] for e in lst) == sorted(events(case["events"])["event_id"])


def test_a_merged_episode_takes_the_earliest_start_the_highest_risk_and_sensitivity_and_both_agencies():
    out = person_interventions(events(CASES[1]["events"]), INDEX).iloc[0]
    assert str(out["start_date"]) == "2024-03-01"
    assert out["risk"] == "high"
    assert out["sensitivity"] == "sensitive"
    assert list(out["agencies"]) == ["csc", "police"]


def test_an_episode_is_open_while_any_report_of_it_is():
    rows = [
        {"record": "csc:1", "start": "2024-01-10", "end": "2024-06-01"},
        {"record": "csc:2", "start": "2024-01-11"},
    ]
    assert person_interventions(events(rows), INDEX).iloc[0]["end_date"] is None


def test_events_of_records_no_person_holds_are_not_invented():
    out = person_interventions(events([{"record": "other:1", "start": "2024-01-10"}]), INDEX)
    assert out.empty
