"""Evaluation metrics: hand-computed cases, and brute-force pair enumeration as an oracle."""

from __future__ import annotations

import doctest
import itertools
from collections.abc import Mapping
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import linkage.evaluate as evaluate_module
from linkage.errors import LinkageError
from linkage.evaluate import (
    BCubedScores,
    PairwiseScores,
    SplitMerge,
    bcubed,
    evaluate,
    pair_scores_from_pairs,
    pairwise_scores,
    split_and_merged,
)


def _table(assignment: Mapping[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(
        {"record_key": list(assignment), "person_id": list(assignment.values())},
    )


# --- hand-computed cases ---------------------------------------------------------------

PAIRWISE_CASES: list[dict[str, Any]] = [
    {
        "description": "perfect prediction of two people",
        "predicted": {"a:1": 1, "a:2": 1, "b:1": 2},
        "truth": {"a:1": "p", "a:2": "p", "b:1": "q"},
        "within": None,
        "expected": (1, 0, 0),
    },
    {
        "description": "all singletons on both sides: nothing claimed, nothing missed",
        "predicted": {"a:1": 1, "a:2": 2},
        "truth": {"a:1": "p", "a:2": "q"},
        "within": None,
        "expected": (0, 0, 0),
    },
    {
        "description": "everything lumped: 3 predicted pairs, 1 of them true",
        "predicted": {"a:1": 0, "a:2": 0, "b:1": 0},
        "truth": {"a:1": "p", "a:2": "p", "b:1": "q"},
        "within": None,
        "expected": (1, 2, 0),
    },
    {
        "description": "one true person of four records split 2+2: 2 of 6 pairs found",
        "predicted": {"a:1": 1, "a:2": 1, "b:1": 2, "b:2": 2},
        "truth": {"a:1": "p", "a:2": "p", "b:1": "p", "b:2": "p"},
        "within": None,
        "expected": (2, 0, 4),
    },
    {
        "description": "cross-source: the same split finds no cross-source pair",
        "predicted": {"a:1": 1, "a:2": 1, "b:1": 2, "b:2": 2},
        "truth": {"a:1": "p", "a:2": "p", "b:1": "p", "b:2": "p"},
        "within": "cross_source",
        "expected": (0, 0, 4),
    },
    {
        "description": "cross-source: a wrong within-source merge is not counted",
        "predicted": {"a:1": 1, "a:2": 1, "b:1": 1},
        "truth": {"a:1": "p", "a:2": "q", "b:1": "p"},
        "within": "cross_source",
        "expected": (1, 1, 0),
    },
    {
        "description": "records in one table only are not scored",
        "predicted": {"a:1": 1, "a:2": 1, "z:9": 1},
        "truth": {"a:1": "p", "a:2": "p", "b:7": "p"},
        "within": None,
        "expected": (1, 0, 0),
    },
    {
        "description": "source record ids may themselves hold colons",
        "predicted": {"a:1:x": 1, "a:1:y": 1, "b:1:x": 1},
        "truth": {"a:1:x": "p", "a:1:y": "p", "b:1:x": "p"},
        "within": "cross_source",
        "expected": (2, 0, 0),
    },
]


@pytest.mark.parametrize("case", PAIRWISE_CASES, ids=[c["description"] for c in PAIRWISE_CASES])
def test_pairwise_scores_hand_computed(case):
    scores = pairwise_scores(_table(case["predicted"]), _table(case["truth"]), within=case["within"])
    assert (scores.tp, scores.fp, scores.fn) == case["expected"]


PAIR_LIST_CASES: list[dict[str, Any]] = [
    {
        "description": "order and repeats of a pair do not matter",
        "pairs": [("a:1", "a:2"), ("a:2", "a:1"), ("a:1", "a:2")],
        "truth": {"a:1": "p", "a:2": "p", "a:3": "q"},
        "within": None,
        "expected": (1, 0, 0),
    },
    {
        "description": "self pairs and pairs naming unknown records are dropped",
        "pairs": [("a:1", "a:1"), ("a:1", "x:9")],
        "truth": {"a:1": "p", "a:2": "p"},
        "within": None,
        "expected": (0, 0, 1),
    },
    {
        "description": "link-only: two true links, one found, one wrong link",
        "pairs": [("a:1", "b:1"), ("a:2", "b:1")],
        "truth": {"a:1": "p", "b:1": "p", "a:2": "q", "b:2": "q"},
        "within": "cross_source",
        "expected": (1, 1, 1),
    },
    {
        "description": "cross-source ignores within-source predicted pairs",
        "pairs": [("a:1", "a:2")],
        "truth": {"a:1": "p", "a:2": "p", "b:1": "p"},
        "within": "cross_source",
        "expected": (0, 0, 2),
    },
]


@pytest.mark.parametrize("case", PAIR_LIST_CASES, ids=[c["description"] for c in PAIR_LIST_CASES])
def test_pair_scores_from_pairs_hand_computed(case):
    pairs = pd.DataFrame(case["pairs"], columns=["record_key_l", "record_key_r"])
    scores = pair_scores_from_pairs(pairs, _table(case["truth"]), within=case["within"])
    assert (scores.tp, scores.fp, scores.fn) == case["expected"]


SPLIT_MERGE_CASES: list[dict[str, Any]] = [
    {
        "description": "perfect",
        "predicted": {"a:1": 1, "a:2": 1, "a:3": 2},
        "truth": {"a:1": "p", "a:2": "p", "a:3": "q"},
        "expected": SplitMerge(0, 0, 0),
    },
    {
        "description": "one person split in three",
        "predicted": {"a:1": 1, "a:2": 2, "a:3": 3},
        "truth": {"a:1": "p", "a:2": "p", "a:3": "p"},
        "expected": SplitMerge(1, 0, 0),
    },
    {
        "description": "three people merged: two records must leave",
        "predicted": {"a:1": 1, "a:2": 1, "a:3": 1, "a:4": 1},
        "truth": {"a:1": "p", "a:2": "p", "a:3": "q", "a:4": "r"},
        "expected": SplitMerge(0, 1, 2),
    },
]


@pytest.mark.parametrize("case", SPLIT_MERGE_CASES, ids=[c["description"] for c in SPLIT_MERGE_CASES])
def test_split_and_merged_hand_computed(case):
    assert split_and_merged(_table(case["predicted"]), _table(case["truth"])) == case["expected"]


def test_bcubed_hand_computed():
    # p = {1,2,3}, q = {4}; predicted {1,2}, {3,4}.
    # precision per record: 1, 1, 1/2, 1/2 -> 3/4; recall: 2/3, 2/3, 1/3, 1 -> 2/3.
    predicted = _table({"a:1": 1, "a:2": 1, "a:3": 2, "a:4": 2})
    truth = _table({"a:1": "p", "a:2": "p", "a:3": "p", "a:4": "q"})
    scores = bcubed(predicted, truth)
    assert scores.precision == pytest.approx(3 / 4)
    assert scores.recall == pytest.approx(2 / 3)
    assert scores.f1 == pytest.approx(2 * (3 / 4) * (2 / 3) / (3 / 4 + 2 / 3))


def test_truth_as_source_and_source_record_id():
    truth = pd.DataFrame(
        {"source": ["a", "a", "b"], "source_record_id": [1, 2, "x:1"], "person_id": [5, 5, 5]}
    )
    predicted = _table({"a:1": "k", "a:2": "k", "b:x:1": "k"})
    scores = pairwise_scores(predicted, truth)
    assert (scores.tp, scores.fp, scores.fn) == (3, 0, 0)


def test_evaluate_is_json_ready_and_counts_unscored_records():
    import json

    predicted = _table({"a:1": 1, "b:1": 1, "c:1": 2})
    truth = _table({"a:1": "p", "b:1": "p", "d:1": "q"})
    result = evaluate(predicted, truth)
    assert json.loads(json.dumps(result)) == result
    assert result["records_scored"] == 2
    assert result["records_only_predicted"] == 1
    assert result["records_only_truth"] == 1
    assert result["pairwise"]["f1"] == 1.0
    assert result["cross_source"]["tp"] == 1
    assert set(result) >= {"pairwise", "cross_source", "bcubed", "split_merge"}


ERROR_CASES: list[dict[str, Any]] = [
    {
        "description": "predicted lacks person_id",
        "predicted": pd.DataFrame({"record_key": ["a:1"]}),
        "truth": _table({"a:1": "p"}),
        "match": "predicted lacks column",
    },
    {
        "description": "truth has neither record_key nor source columns",
        "predicted": _table({"a:1": 1}),
        "truth": pd.DataFrame({"person_id": ["p"]}),
        "match": "truth lacks column",
    },
    {
        "description": "a record listed twice",
        "predicted": pd.DataFrame({"record_key": ["a:1", "a:1"], "person_id": [1, 2]}),
        "truth": _table({"a:1": "p"}),
        "match": "more than once",
    },
    {
        "description": "a truth row without a person",
        "predicted": _table({"a:1": 1}),
        "truth": pd.DataFrame({"record_key": ["a:1"], "person_id": [None]}),
        "match": "no person_id",
    },
]


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c["description"] for c in ERROR_CASES])
def test_bad_tables_raise_a_precise_error(case):
    with pytest.raises(LinkageError, match=case["match"]):
        evaluate(case["predicted"], case["truth"])


def test_unknown_within_is_rejected():
    with pytest.raises(ValueError, match="within"):
        pairwise_scores(_table({"a:1": 1}), _table({"a:1": 1}), within="same_source")  # type: ignore[arg-type]


def test_empty_tables_score_as_perfect():
    empty = pd.DataFrame({"record_key": pd.Series([], dtype=str), "person_id": []})
    assert pairwise_scores(empty, empty).f1 == 1.0
    assert bcubed(empty, empty) == BCubedScores(1.0, 1.0, 1.0)
    assert split_and_merged(empty, empty) == SplitMerge(0, 0, 0)


def test_docstring_examples_run():
    failures, tried = doctest.testmod(evaluate_module, raise_on_error=False)
    assert tried > 0
    assert failures == 0


def test_all_lists_every_public_function_and_class():
    defined_here = {
        name
        for name, value in vars(evaluate_module).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == evaluate_module.__name__
    }
    assert set(evaluate_module.__all__) == defined_here


# --- brute-force oracles -----------------------------------------------------------------


def _oracle_pairwise(predicted: dict, truth: dict, within: str | None) -> tuple[int, int, int]:
    keys = sorted(set(predicted) & set(truth))
    tp = fp = fn = 0
    for left, right in itertools.combinations(keys, 2):
        if within == "cross_source" and left.split(":", 1)[0] == right.split(":", 1)[0]:
            continue
        same_pred = predicted[left] == predicted[right]
        same_true = truth[left] == truth[right]
        tp += same_pred and same_true
        fp += same_pred and not same_true
        fn += same_true and not same_pred
    return tp, fp, fn


def _oracle_bcubed(predicted: dict, truth: dict) -> tuple[float, float]:
    keys = sorted(set(predicted) & set(truth))
    if not keys:
        return 1.0, 1.0
    precision = recall = 0.0
    for key in keys:
        pred_cluster = {k for k in keys if predicted[k] == predicted[key]}
        true_cluster = {k for k in keys if truth[k] == truth[key]}
        both = len(pred_cluster & true_cluster)
        precision += both / len(pred_cluster)
        recall += both / len(true_cluster)
    return precision / len(keys), recall / len(keys)


_record_keys = st.builds(
    lambda source, number: f"{source}:{number}",
    st.sampled_from(["a", "b", "c"]),
    st.integers(min_value=0, max_value=12),
)


@st.composite
def clusterings(draw):
    """Two overlapping assignments of record keys to small numbers of clusters."""
    keys = draw(st.lists(_record_keys, min_size=0, max_size=25, unique=True))
    predicted_keys = [k for k in keys if draw(st.booleans()) or draw(st.booleans())]
    truth_keys = [k for k in keys if draw(st.booleans()) or draw(st.booleans())]
    predicted = {k: draw(st.integers(0, 5)) for k in predicted_keys}
    truth = {k: draw(st.sampled_from("pqrstu")) for k in truth_keys}
    return predicted, truth


@settings(max_examples=200, deadline=None)
@given(clusterings(), st.sampled_from([None, "cross_source"]))
def test_pairwise_scores_match_brute_force(data, within):
    predicted, truth = data
    scores = pairwise_scores(_table(predicted), _table(truth), within=within)
    assert (scores.tp, scores.fp, scores.fn) == _oracle_pairwise(predicted, truth, within)
    assert scores == PairwiseScores.from_counts(scores.tp, scores.fp, scores.fn)


@settings(max_examples=150, deadline=None)
@given(clusterings(), st.sampled_from([None, "cross_source"]))
def test_pair_list_of_a_clustering_scores_like_the_clustering(data, within):
    predicted, truth = data
    # Over the truth's records, the pairs a clustering implies score as the clustering does.
    keys = sorted(set(predicted) & set(truth))
    pairs = pd.DataFrame(
        [(x, y) for x, y in itertools.combinations(keys, 2) if predicted[x] == predicted[y]],
        columns=["record_key_l", "record_key_r"],
    )
    restricted_truth = {k: truth[k] for k in keys}
    from_pairs = pair_scores_from_pairs(pairs, _table(restricted_truth), within=within)
    from_clusters = pairwise_scores(_table(predicted), _table(truth), within=within)
    assert from_pairs == from_clusters


@settings(max_examples=150, deadline=None)
@given(clusterings())
def test_bcubed_matches_brute_force(data):
    predicted, truth = data
    scores = bcubed(_table(predicted), _table(truth))
    precision, recall = _oracle_bcubed(predicted, truth)
    assert scores.precision == pytest.approx(precision)
    assert scores.recall == pytest.approx(recall)


@settings(max_examples=100, deadline=None)
@given(clusterings(), st.sampled_from([None, "cross_source"]))
def test_true_positives_are_symmetric(data, within):
    predicted, truth = data
    forward = pairwise_scores(_table(predicted), _table(truth), within=within)
    backward = pairwise_scores(_table(truth), _table(predicted), within=within)
    assert forward.tp == backward.tp
    assert (forward.fp, forward.fn) == (backward.fn, backward.fp)
    assert forward.f1 == pytest.approx(backward.f1)


@settings(max_examples=100, deadline=None)
@given(clusterings())
def test_perfect_prediction_scores_one(data):
    _, truth = data
    relabelled = {k: f"x{v}" for k, v in truth.items()}
    for within in (None, "cross_source"):
        scores = pairwise_scores(_table(relabelled), _table(truth), within=within)
        assert (scores.precision, scores.recall, scores.f1) == (1.0, 1.0, 1.0)
    assert bcubed(_table(relabelled), _table(truth)) == BCubedScores(1.0, 1.0, 1.0)
    assert split_and_merged(_table(relabelled), _table(truth)) == SplitMerge(0, 0, 0)
