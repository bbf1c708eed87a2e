"""Mapping rows into canonical tables: what is accepted, what is quarantined and why."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.adapters import parse_delimited
from ingest.canonicalise import canonicalise
from ingest.errors import SchemaError
from ingest.mapping import SourceMapping
from ingest.vocabulary import load_vocabulary

VOCAB = load_vocabulary(Path(__file__).resolve().parents[2] / "config" / "interventions.yaml")
TODAY = dt.date(2026, 11, 25)

POLICE = {
    "source": "police",
    "agency": "police",
    "input": {"format": "csv", "path": "p.csv"},
    "extract_date": "2026-11-20",
    "code_maps": {
        "sex": {"1": "M", "2": "F"},
        "event": {"DA": "domestic_abuse_incident", "NFA": None},
    },
    "filters": [{"column": "STATUS", "not_equals": "TEST"}],
    "people": {
        "victim": {
            "id": {"template": "{REF}-V"},
            "full_name": {"column": "V_NAME", "order": "family_first"},
            "dob": "V_DOB",
            "age": {"column": "V_AGE", "at": "DATE"},
            "sex": {"column": "V_SEX", "map": "sex"},
            "postcode": "PC",
        },
        "perpetrator": {
            "optional": True,
            "id": "P_ID",
            "full_name": {"column": "P_NAME", "order": "family_first"},
            "age": {"column": "P_AGE", "at": "DATE"},
        },
    },
    "events": [
        {
            "person": "victim",
            "type": {"column": "CODE", "map": "event"},
            "role": {"value": "victim"},
            "start_date": "DATE",
            "incident_id": "REF",
        },
        {
            "person": "perpetrator",
            "type": {"column": "CODE", "map": "event"},
            "role": {"value": "perpetrator"},
            "start_date": "DATE",
            "incident_id": "REF",
        },
    ],
    "relationships": [
        {
            "from": "perpetrator",
            "to": "victim",
            "type": {"value": "perpetrator_of_abuse_against"},
            "start_date": "DATE",
            "incident_id": "REF",
        }
    ],
}
HEADER = [
    "REF",
    "STATUS",
    "CODE",
    "DATE",
    "V_NAME",
    "V_DOB",
    "V_AGE",
    "V_SEX",
    "PC",
    "P_ID",
    "P_NAME",
    "P_AGE",
]


def run(rows, mapping=POLICE, header=HEADER):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    raw = parse_delimited(buf.getvalue().encode("utf-8"), source=mapping["source"])
    return canonicalise(raw, SourceMapping.from_dict(mapping), VOCAB, today=TODAY)


GOOD = [
    "I1",
    "LIVE",
    "DA",
    "01/03/2026",
    "SMITH, Jane Ann",
    "02/05/1990",
    "",
    "2",
    "ab1 2dx",
    "N9",
    "JONES, Tom",
    "34",
]

CASES = [
    {
        "description": "a full incident gives two records, two events and the abuse relationship",
        "rows": [GOOD],
        "records": 2,
        "events": 2,
        "relationships": 1,
        "quarantine": [],
    },
    {
        "description": "a test row is excluded by the filter, with a reason",
        "rows": [[*GOOD[:1], "TEST", *GOOD[2:]]],
        "records": 0,
        "events": 0,
        "relationships": 0,
        "quarantine": [("row", "filtered")],
    },
    {
        "description": "unknown perpetrator: the row is accepted without him and no relationship",
        "rows": [[*GOOD[:9], "", "", ""]],
        "records": 1,
        "events": 1,
        "relationships": 0,
        "quarantine": [],
    },
    {
        "description": "perpetrator named but without id: left out as an item, victim kept",
        "rows": [[*GOOD[:9], "", "JONES, Tom", "34"]],
        "records": 1,
        "events": 1,
        "relationships": 0,
        "quarantine": [("item", "missing_id")],
    },
    {
        "description": "victim with nothing identifying rejects the row",
        "rows": [["I2", "LIVE", "DA", "01/03/2026", "", "", "", "2", "", "N9", "JONES, Tom", "34"]],
        "records": 0,
        "events": 0,
        "relationships": 0,
        "quarantine": [("row", "no_identifying_data")],
    },
    {
        "description": "no incident reference means no victim id: row rejected",
        "rows": [["", *GOOD[1:]]],
        "records": 0,
        "events": 0,
        "relationships": 0,
        "quarantine": [("row", "missing_id")],
    },
    {
        "description": "an unknown event code drops the events only",
        "rows": [[*GOOD[:2], "ZZ", *GOOD[3:]]],
        "records": 2,
        "events": 0,
        "relationships": 1,
        "quarantine": [("item", "unknown_event_code"), ("item", "unknown_event_code")],
    },
    {
        "description": "a code mapped to null is known but not an intervention: no event, no quarantine",
        "rows": [[*GOOD[:2], "NFA", *GOOD[3:]]],
        "records": 2,
        "events": 0,
        "relationships": 1,
        "quarantine": [],
    },
    {
        "description": "an impossible incident date drops the events as items",
        "rows": [[*GOOD[:3], "31/02/2026", *GOOD[4:]]],
        "records": 2,
        "events": 0,
        "relationships": 1,
        "quarantine": [("item", "invalid_event_date"), ("item", "invalid_event_date")],
    },
]


@pytest.mark.parametrize("case", CASES, ids=[c["description"] for c in CASES])
def test_rows_become_canonical_tables(case):
    out = run(case["rows"])
    assert len(out.records) == case["records"]
    assert len(out.events) == case["events"]
    assert len(out.stated_relationships) == case["relationships"]
    assert sorted(zip(out.quarantine["scope"], out.quarantine["reason"], strict=True)) == sorted(
        case["quarantine"]
    )
    c = out.counts
    assert c.rows_read == c.rows_accepted + c.rows_quarantined == len(case["rows"])


def test_fields_are_standardised_and_originals_kept():
    out = run([GOOD])
    victim = out.records.set_index("record_key").loc["police:I1-V"]
    assert (victim["given_name"], victim["middle_names"], victim["family_name"]) == (
        "Jane",
        "Ann",
        "SMITH",
    )
    assert victim["family_name_std"] == "SMITH"
    assert victim["dob"] == dt.date(1990, 5, 2)
    assert not victim["dob_estimated"]
    assert victim["sex"] == "F"
    assert victim["postcode_std"] == "AB1 2DX"
    assert victim["postcode_sector"] == "AB1 2"
    assert "name_from_full_name" in victim["quality_flags"]
    perp = out.records.set_index("record_key").loc["police:N9"]
    # age 34 at the incident on 1 March 2026: born around September 1991
    assert perp["dob_estimated"]
    assert perp["dob"].year == 1991
    assert "dob_from_age" in perp["quality_flags"]


def test_events_and_relationships_point_at_the_right_records():
    out = run([GOOD])
    ev = out.events.set_index("role")
    assert ev.loc["victim", "record_key"] == "police:I1-V"
    assert ev.loc["perpetrator", "record_key"] == "police:N9"
    assert set(out.events["event_type"]) == {"domestic_abuse_incident"}
    assert set(out.events["sensitivity"]) == {"sensitive"}
    rel = out.stated_relationships.iloc[0]
    assert (rel["from_record_key"], rel["to_record_key"]) == ("police:N9", "police:I1-V")
    assert rel["start_date"] == dt.date(2026, 3, 1)


def test_rows_sharing_a_person_id_are_one_record_with_each_rows_events():
    second = [
        "I7",
        "LIVE",
        "DA",
        "05/06/2026",
        "SMITH, Jane",
        "",
        "",
        "",
        "",
        "N9",
        "JONES, Thomas",
        "",
    ]
    out = run([GOOD, second])
    perps = out.records[out.records["record_key"] == "police:N9"]
    assert len(perps) == 1
    assert perps.iloc[0]["given_name"] == "Tom"  # first non-empty value in row order
    assert (out.events["record_key"] == "police:N9").sum() == 2


def test_quarantined_rows_keep_their_raw_values_for_correction():
    out = run([[*GOOD[:1], "TEST", *GOOD[2:]]])
    raw = json.loads(out.quarantine.iloc[0]["raw"])
    assert raw["STATUS"] == "TEST"
    assert out.quarantine.iloc[0]["row_number"] == 1


def test_a_mapping_naming_a_missing_column_is_a_schema_error_naming_it():
    with pytest.raises(SchemaError, match="P_AGE"):
        run([GOOD[:-1]], header=HEADER[:-1])


def test_malformed_csv_rows_reach_the_quarantine_and_the_accounting():
    text = ",".join(HEADER) + "\n" + ",".join(f'"{v}"' for v in GOOD) + "\nI3,LIVE,DA,stray\n"
    raw = parse_delimited(text.encode(), source="police")
    out = canonicalise(raw, SourceMapping.from_dict(POLICE), VOCAB, today=TODAY)
    assert out.counts.rows_read == 2
    assert out.counts.rows_quarantined == 1
    assert list(out.quarantine["reason"]) == ["malformed_row"]


def test_identifier_endpoints_keep_only_valid_numbers():
    mapping = {
        "source": "health",
        "input": {"format": "csv", "path": "h.csv"},
        "people": {"baby": {"id": "ID", "given_name": "NAME", "nhs_number": "NHS"}},
        "relationships": [
            {
                "from": "baby",
                "to": {"identifier": "nhs_number", "value": "MUM_NHS"},
                "type": {"value": "mother"},
            }
        ],
    }
    rows = [
        ["1", "Ava", "9434765919", "9434765919"],
        ["2", "Bo", "", "9434765918"],
        ["3", "Cy", "", ""],
    ]
    out = run(rows, mapping=mapping, header=["ID", "NAME", "NHS", "MUM_NHS"])
    rels = out.stated_relationships
    assert list(rels["to_identifier"]) == ["9434765919"]
    assert list(out.quarantine["reason"]) == ["unresolved_relationship"]
    assert out.counts.rows_accepted == 3


ROW = st.lists(st.one_of(st.just(""), st.text(max_size=12)), min_size=len(HEADER), max_size=len(HEADER))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ROW, max_size=8))
def test_any_rows_are_accounted_for(rows):
    rows = [[v.replace("\x00", "") for v in r] for r in rows]
    out = run(rows)
    c = out.counts
    assert c.rows_read == c.rows_accepted + c.rows_quarantined
    assert out.records["record_key"].is_unique
    assert set(out.events["record_key"]) <= set(out.records["record_key"])
