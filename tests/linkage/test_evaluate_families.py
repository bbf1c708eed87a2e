"""Relationship and family scores against ground truth."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from linkage.evaluate_families import evaluate_families

# records r1..r5 of true people T1..T4 (T4 has two records); linked people P1..P4
TRUTH_RECORDS = pd.DataFrame(
    {
        "source": ["s"] * 5,
        "source_record_id": ["r1", "r2", "r3", "r4", "r5"],
        "person_id": ["T1", "T2", "T3", "T4", "T4"],
    }
)
INDEX = pd.DataFrame(
    {"record_key": ["s:r1", "s:r2", "s:r3", "s:r4", "s:r5"], "person_id": ["P1", "P2", "P3", "P4", "P4"]}
)
TRUE_REL = pd.DataFrame(
    {
        "person_id_from": ["T1", "T1", "T2", "T9"],
        "person_id_to": ["T3", "T4", "T1", "T3"],
        "relationship_type": ["mother", "mother", "partner", "father"],  # T9 is not in the data
    }
)
TRUE_FAM = pd.DataFrame(
    {
        "family_id": ["F", "F", "F", "F"],
        "person_id": ["T1", "T3", "T4", "T2"],
        "role": ["parent", "child", "child", "parent_partner"],
    }
)


def rel(rows):
    return pd.DataFrame(rows, columns=["person_id_from", "person_id_to", "relationship_type"])


def score(inferred, families):
    return evaluate_families(INDEX, inferred, families, TRUTH_RECORDS, TRUE_REL, TRUE_FAM)


def by_kind(result):
    return result.relationships.set_index("kind")


def test_a_perfect_answer_scores_one():
    inferred = rel([("P1", "P3", "mother"), ("P1", "P4", "mother"), ("P1", "P2", "partner")])
    fams = pd.DataFrame(
        {
            "family_id": ["A"] * 4,
            "person_id": ["P1", "P2", "P3", "P4"],
            "role": ["parent", "parent_partner", "child", "child"],
        }
    )
    result = score(inferred, fams)
    kinds = by_kind(result)
    assert kinds.loc["parent_child", "precision"] == kinds.loc["parent_child", "recall"] == 1.0
    assert kinds.loc["partner", "precision"] == kinds.loc["partner", "recall"] == 1.0  # undirected
    assert kinds.loc["parent_child", "true_in_data"] == 2  # T9 is not in the data
    assert result.mean_best_jaccard == result.exact_share == 1.0


def test_errors_cost_exactly_what_they_should():
    inferred = rel([("P1", "P3", "mother"), ("P3", "P4", "mother")])  # one right, one wrong, one missed
    fams = pd.DataFrame(
        {"family_id": ["A", "A", "B"], "person_id": ["P1", "P3", "P4"], "role": ["parent", "child", "child"]}
    )
    result = score(inferred, fams)
    kinds = by_kind(result)
    assert kinds.loc["parent_child", "precision"] == pytest.approx(0.5)
    assert kinds.loc["parent_child", "recall"] == pytest.approx(0.5)
    assert math.isnan(kinds.loc["partner", "precision"])
    assert result.mean_best_jaccard == pytest.approx(2 / 4)  # {T1, T3} of {T1, T2, T3, T4}
    assert result.core_mean_best_jaccard == pytest.approx(2 / 3)  # {T1, T3} of {T1, T3, T4}
    assert result.exact_share == 0.0
