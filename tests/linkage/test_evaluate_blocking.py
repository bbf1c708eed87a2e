"""Pairs completeness per blocking rule, against a truth small enough to count by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from linkage.evaluate_blocking import blocking_completeness
from tests.linkage.conftest import make_records


def _record(key: str, given: str, family: str, postcode: str, dob: str | None = None) -> dict:
    source, number = key.split(":")
    row = {"source": source, "key": number, "given": given, "family": family, "postcode": postcode}
    return {**row, "dob": dob} if dob else row


ROWS = [
    # one person, same date of birth and initial, different postcodes: dob_and_given_initial
    _record("a:1", "Amina", "Khan", "BD1 1AA", "1990-02-03"),
    _record("b:1", "Amina", "Khan", "LS2 9JT", "1990-02-03"),
    # one person known by two spellings of one name, no date of birth on one: names_sound_alike
    _record("a:2", "Jon", "Smyth", "BD3 3CC"),
    _record("b:2", "John", "Smith", "HX1 1DD", "1970-05-06"),
    # one person after a change of name, nothing else shared: no rule finds the pair
    _record("a:3", "Mary", "Jones", "BD5 5EE"),
    _record("b:3", "Marie", "Patel", "WF1 1FF"),
    # the same record twice: one record to the linker
    _record("c:4", "Zoe", "Wood", "BD7 7GG", "2001-01-01"),
    _record("c:5", "Zoe", "Wood", "BD7 7GG", "2001-01-01"),
]
TRUTH = pd.DataFrame(
    {
        "record_key": ["a:1", "b:1", "a:2", "b:2", "a:3", "b:3", "c:4", "c:5"],
        "person_id": ["P1", "P1", "P2", "P2", "P3", "P3", "P4", "P4"],
    }
)


@pytest.fixture(scope="module")
def counts():
    return blocking_completeness(make_records(ROWS), TRUTH).set_index("rule")


def test_each_rule_counts_the_true_pairs_it_finds(counts):
    assert counts.attrs["true_pairs"] == 3
    assert counts.loc["dob_and_given_initial", "true_pairs"] == 1
    assert counts.loc["names_sound_alike", "new_true_pairs"] == 1


def test_completeness_is_cumulative_and_misses_what_no_rule_finds(counts):
    assert counts["completeness"].iloc[:-2].is_monotonic_increasing
    assert counts.loc["all rules", "true_pairs"] == 2
    assert counts.loc["all rules", "completeness"] == pytest.approx(2 / 3)


def test_identical_records_are_counted_apart(counts):
    assert counts.loc["identical records", "true_pairs"] == 1


def test_records_the_truth_does_not_label_count_for_nothing():
    out = blocking_completeness(make_records(ROWS), TRUTH[TRUTH["person_id"] != "P3"]).set_index("rule")
    assert out.loc["all rules", "completeness"] == pytest.approx(1.0)
