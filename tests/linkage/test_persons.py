"""The persons table: the best of each person's records."""

from __future__ import annotations

import pandas as pd

from linkage.persons import build_persons
from tests.linkage.conftest import make_records

EST = {"dob_estimated": True}
ROWS = [
    {"key": "1", "source": "school", "given": "Jon", "family": "Ray", "dob": "1990-01-02", "sex": "M"},
    {"key": "2", "source": "police", "given": "John", "family": "Ray", "dob": "1990-05-05", **EST},
    {"key": "3", "source": "health", "given": "John", "family": "Ray", "dob": "1990-01-02"},
    {"key": "4", "source": "school", "given": "Amy", "family": "Lee", "dob": "2012-03-04"},
    {"key": "5", "source": "housing", "given": "Amy", "family": "Leigh", "dob": "2012-04-03"},
    {"key": "6", "source": "police", "given": "Kai", "family": "Ng", "dob": "1985-06-07", **EST},
]  # fmt: skip
PEOPLE = {"1": "P1", "2": "P1", "3": "P1", "4": "P2", "5": "P2", "6": "P3"}


def _index(keys: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "record_key": keys,
            "person_id": [PEOPLE[k.split(":")[1]] for k in keys],
            "cluster_confidence": [0.99] * len(keys),
        }
    )


def test_each_person_gets_the_most_common_value_and_a_real_date_over_an_estimate():
    records = make_records(ROWS)
    persons = build_persons(records, _index(list(records["record_key"]))).set_index("person_id")
    assert persons.loc["P1", "given_name"] == "John"  # two records against one
    assert str(persons.loc["P1", "dob"]) == "1990-01-02" and not persons.loc["P1", "dob_estimated"]
    assert str(persons.loc["P3", "dob"]) == "1985-06-07" and persons.loc["P3", "dob_estimated"]
    assert persons.loc["P2", "family_name"] == "Lee"  # a tie: the earliest record's value
    assert persons.loc["P2", "dob_conflict"] and not persons.loc["P1", "dob_conflict"]
    assert persons.loc["P1", "sources"] == ["health", "police", "school"]
    assert persons["record_count"].to_dict() == {"P1": 3, "P2": 2, "P3": 1}


def test_the_person_index_in_another_order_gives_the_same_table():
    records = make_records(ROWS)
    keys = list(records["record_key"])
    aligned = build_persons(records, _index(keys))
    shuffled = build_persons(records, _index(keys[::-1]).iloc[[0, 2, 4, 1, 3, 5]])
    pd.testing.assert_frame_equal(aligned, shuffled)


def test_only_indexed_records_count():
    records = make_records(ROWS)
    persons = build_persons(records, _index([k for k in records["record_key"] if not k.endswith(":6")]))
    assert list(persons["person_id"]) == ["P1", "P2"]
