"""Source mapping documents: validation names the bad key; mappings round-trip."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ingest.errors import SettingsError
from ingest.mapping import SourceMapping, load_mapping

CONFIG = Path(__file__).resolve().parents[2] / "config" / "sources"

MINIMAL = {
    "source": "csc",
    "input": {"format": "csv", "path": "csc.csv"},
    "people": {"child": {"id": "PERSON_ID", "given_name": "FORENAME", "family_name": "SURNAME"}},
}


def with_(**changes):
    doc = yaml.safe_load(yaml.safe_dump(MINIMAL))
    for dotted, value in changes.items():
        target = doc
        *path, last = dotted.split("__")
        for key in path:
            target = target[key]
        target[last] = value
    return doc


BAD = [
    {"description": "unknown top-level key", "doc": with_(colour="red"), "names": "colour"},
    {
        "description": "no people",
        "doc": {k: v for k, v in MINIMAL.items() if k != "people"},
        "names": "people",
    },
    {
        "description": "person without id",
        "doc": with_(people={"child": {"given_name": "X"}}),
        "names": "id",
    },
    {
        "description": "unknown person field",
        "doc": with_(people__child__shoe_size="SIZE"),
        "names": "shoe_size",
    },
    {
        "description": "full name without an order",
        "doc": with_(people__child__full_name="NAME"),
        "names": "full_name",
    },
    {
        "description": "map that is not defined",
        "doc": with_(people__child__sex={"column": "SEX", "map": "sexes"}),
        "names": "sexes",
    },
    {
        "description": "event for a role that does not exist",
        "doc": with_(events=[{"person": "mum", "type": {"value": "early_help"}, "start_date": "D"}]),
        "names": "mum",
    },
    {
        "description": "event without start date",
        "doc": with_(events=[{"person": "child", "type": {"value": "early_help"}}]),
        "names": "start_date",
    },
    {
        "description": "relationship type not in the vocabulary",
        "doc": with_(relationships=[{"from": "child", "to": "child", "type": {"value": "cousin"}}]),
        "names": "cousin",
    },
    {
        "description": "filter with two operators",
        "doc": with_(filters=[{"column": "S", "equals": "A", "in": ["B"]}]),
        "names": "exactly one",
    },
    {
        "description": "bad input format",
        "doc": with_(input={"format": "dbf", "path": "x"}),
        "names": "dbf",
    },
    {
        "description": "field spec with two kinds",
        "doc": with_(people__child__dob={"column": "A", "value": "B"}),
        "names": "exactly one",
    },
    {
        "description": "source name with spaces",
        "doc": with_(source="child care"),
        "names": "source",
    },
]


@pytest.mark.parametrize("case", BAD, ids=[c["description"] for c in BAD])
def test_bad_mappings_are_refused_with_a_message_naming_the_problem(case):
    with pytest.raises(SettingsError, match=case["names"]):
        SourceMapping.from_dict(case["doc"])


def test_minimal_mapping_round_trips():
    m = SourceMapping.from_dict(MINIMAL)
    assert SourceMapping.from_dict(m.to_dict()) == m


@pytest.mark.parametrize("path", sorted(CONFIG.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_mappings_load_and_round_trip(path):
    m = load_mapping(path)
    assert SourceMapping.from_dict(m.to_dict()) == m
    assert m.source == path.stem


def test_missing_mapping_file_is_a_clear_error(tmp_path):
    with pytest.raises(SettingsError, match="not found"):
        load_mapping(tmp_path / "nope.yaml")


def test_broken_yaml_names_the_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("source: x\npeople: [\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="line"):
        load_mapping(p)
