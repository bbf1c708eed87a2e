"""Score a clustering of records into people against ground truth.

Every score here is computed from cluster sizes, never by listing pairs, so it runs on
millions of records in the time of a few ``groupby`` calls.

Ground truth is a table of ``source, source_record_id, person_id`` (the shape
DESIGN.md promises) or simply ``record_key, person_id`` where ``record_key`` is
``"source:source_record_id"``. A prediction is a ``person_index`` table
``record_key, person_id``. Only records present in both tables are scored: a record the
linker never saw, or one the truth does not label, counts for nothing (``evaluate``
reports how many records each side had that the other lacked).

Counting pairs from a contingency table
---------------------------------------
Let ``n_ij`` be the number of records in predicted person ``i`` and true person ``j``,
``a_i = sum_j n_ij`` and ``b_j = sum_i n_ij``. Then the pairs both sides put together
are ``TP = sum C(n_ij, 2)``, the predicted pairs are ``sum C(a_i, 2)`` and the true pairs
``sum C(b_j, 2)``; ``FP`` and ``FN`` follow by subtraction. Restricting to pairs of
records from different sources subtracts, for each group, the pairs inside one source:
``C(n, 2) - sum_s C(n_s, 2)``, which needs the contingency on ``(group, source)`` too.

Conventions for empty denominators: with no predicted pairs precision is 1.0 (nothing
claimed, nothing wrong), with no true pairs recall is 1.0 (nothing to find), and F1 is
0.0 when both precision and recall are 0. So a perfect prediction always scores 1.0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from linkage.errors import LinkageError

__all__ = [
    "BCubedScores",
    "PairwiseScores",
    "SplitMerge",
    "bcubed",
    "evaluate",
    "pair_scores_from_pairs",
    "pairwise_scores",
    "split_and_merged",
]

Within = Literal["cross_source"] | None

_PRED = "_pred"
_TRUE = "_true"
_SOURCE = "_source"


@dataclass(frozen=True)
class PairwiseScores:
    """Pair counts and the precision, recall and F1 they give.

    Attributes
    ----------
    tp, fp, fn : int
        Pairs of records put together by both sides, by the prediction only, and by the
        truth only.
    precision, recall, f1 : float
        ``tp / (tp + fp)``, ``tp / (tp + fn)`` and their harmonic mean (see the module
        docstring for empty denominators).
    """

    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float

    @classmethod
    def from_counts(cls, tp: int, fp: int, fn: int) -> PairwiseScores:
        """Build the scores from the three pair counts.

        Examples
        --------
        >>> s = PairwiseScores.from_counts(tp=3, fp=1, fn=0)
        >>> s.precision, s.recall, round(s.f1, 4)
        (0.75, 1.0, 0.8571)
        """
        precision = _ratio(tp, tp + fp)
        recall = _ratio(tp, tp + fn)
        return cls(
            tp=int(tp),
            fp=int(fp),
            fn=int(fn),
            precision=precision,
            recall=recall,
            f1=_harmonic(precision, recall),
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the scores as a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class BCubedScores:
    """B-cubed precision, recall and F1 (per-record averages; Bagga and Baldwin, 1998)."""

    precision: float
    recall: float
    f1: float

    def to_dict(self) -> dict[str, Any]:
        """Return the scores as a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class SplitMerge:
    """How the predicted people and the true people fail to line up.

    Attributes
    ----------
    true_people_split : int
        True people whose records are spread over more than one predicted person.
    predicted_people_merged : int
        Predicted people holding records of more than one true person.
    wrongly_merged_records : int
        Records that would have to leave their predicted person for every predicted
        person to hold one true person only: for each predicted person, its size less
        the records of its largest true person.
    """

    true_people_split: int
    predicted_people_merged: int
    wrongly_merged_records: int

    def to_dict(self) -> dict[str, Any]:
        """Return the counts as a JSON-ready dict."""
        return asdict(self)


def pairwise_scores(predicted: pd.DataFrame, truth: pd.DataFrame, *, within: Within = None) -> PairwiseScores:
    """Pairwise precision, recall and F1 of a clustering against ground truth.

    Pairs are counted from cluster sizes, not listed, so this runs on millions of
    records. Only records present in both tables are scored.

    Parameters
    ----------
    predicted : pandas.DataFrame
        ``record_key, person_id``: the person each record was put in.
    truth : pandas.DataFrame
        ``record_key, person_id`` or ``source, source_record_id, person_id``.
    within : {None, "cross_source"}
        ``None`` counts every pair of records; ``"cross_source"`` only pairs whose two
        records come from different sources (the part of ``record_key`` before the
        first ``':'``), which is what a multi-agency link adds over per-agency dedupe.

    Returns
    -------
    PairwiseScores

    Raises
    ------
    ValueError
        If ``within`` is not one of the values above.
    LinkageError
        If a table lacks its columns or lists a record twice.

    Examples
    --------
    >>> truth = pd.DataFrame({"record_key": ["a:1", "b:1", "a:2", "b:2"],
    ...                       "person_id": ["p", "p", "q", "q"]})
    >>> predicted = pd.DataFrame({"record_key": ["a:1", "b:1", "a:2", "b:2"],
    ...                           "person_id": [1, 1, 1, 2]})
    >>> s = pairwise_scores(predicted, truth)
    >>> (s.tp, s.fp, s.fn, round(s.precision, 3), s.recall)
    (1, 2, 1, 0.333, 0.5)
    >>> pairwise_scores(predicted, truth, within="cross_source").fp
    1
    """
    _check_within(within)
    joined = _join(predicted, truth)
    return _pairwise_from_joined(joined, within)


def pair_scores_from_pairs(
    predicted_pairs: pd.DataFrame, truth: pd.DataFrame, *, within: Within = None
) -> PairwiseScores:
    """Pairwise precision, recall and F1 of a list of predicted matching pairs.

    For linkers that return pairs rather than clusters (for example a FEBRL link-only
    run). Each unordered pair counts once, whatever its order or repeats; a record
    paired with itself is ignored. The scored records are those in ``truth``: a pair
    naming a record the truth lacks is dropped, and every true pair among the truth's
    records counts towards recall.

    Parameters
    ----------
    predicted_pairs : pandas.DataFrame
        ``record_key_l, record_key_r``: pairs the linker called matches.
    truth : pandas.DataFrame
        ``record_key, person_id`` or ``source, source_record_id, person_id``.
    within : {None, "cross_source"}
        As for :func:`pairwise_scores`.

    Returns
    -------
    PairwiseScores

    Examples
    --------
    >>> truth = pd.DataFrame({"record_key": ["a:1", "b:1", "a:2", "b:2"],
    ...                       "person_id": ["p", "p", "q", "q"]})
    >>> pairs = pd.DataFrame({"record_key_l": ["b:1", "a:1", "a:1"],
    ...                       "record_key_r": ["a:1", "b:1", "b:2"]})
    >>> s = pair_scores_from_pairs(pairs, truth)
    >>> (s.tp, s.fp, s.fn, s.precision, s.recall)
    (1, 1, 1, 0.5, 0.5)
    """
    _check_within(within)
    _require(predicted_pairs, ["record_key_l", "record_key_r"], "predicted_pairs")
    true_table = _truth_table(truth)
    person = true_table.set_index("record_key")["person_id"]

    left = predicted_pairs["record_key_l"].astype(str).to_numpy()
    right = predicted_pairs["record_key_r"].astype(str).to_numpy()
    low = np.where(left <= right, left, right)
    high = np.where(left <= right, right, left)
    pairs = pd.DataFrame({"l": low, "r": high})
    pairs = pairs[pairs["l"] != pairs["r"]].drop_duplicates()
    pairs = pairs[pairs["l"].isin(person.index) & pairs["r"].isin(person.index)]
    if within == "cross_source":
        sources = _source_codes(np.concatenate([pairs["l"].to_numpy(), pairs["r"].to_numpy()]))
        pairs = pairs[sources[: len(pairs)] != sources[len(pairs) :]]

    same = person.reindex(pairs["l"]).to_numpy() == person.reindex(pairs["r"]).to_numpy()
    tp = int(same.sum())
    fp = len(pairs) - tp

    frame = pd.DataFrame(
        {
            _TRUE: true_table["person_id"].to_numpy(),
            _SOURCE: _source_codes(true_table["record_key"]),
        }
    )
    true_pairs = _pairs_in_groups(frame, [_TRUE], within)
    return PairwiseScores.from_counts(tp=tp, fp=fp, fn=true_pairs - tp)


def bcubed(predicted: pd.DataFrame, truth: pd.DataFrame) -> BCubedScores:
    """B-cubed precision, recall and F1 of a clustering against ground truth.

    For each record, precision is the share of its predicted person that truly is that
    record's person, recall the share of its true person that was predicted with it;
    both are averaged over records. Only records present in both tables are scored.

    Parameters
    ----------
    predicted : pandas.DataFrame
        ``record_key, person_id``.
    truth : pandas.DataFrame
        ``record_key, person_id`` or ``source, source_record_id, person_id``.

    Returns
    -------
    BCubedScores

    Examples
    --------
    >>> truth = pd.DataFrame({"record_key": ["a:1", "a:2", "a:3"], "person_id": [1, 1, 2]})
    >>> predicted = pd.DataFrame({"record_key": ["a:1", "a:2", "a:3"], "person_id": [1, 2, 2]})
    >>> s = bcubed(predicted, truth)
    >>> (round(s.precision, 4), round(s.recall, 4))
    (0.6667, 0.6667)
    """
    return _bcubed_from_joined(_join(predicted, truth))


def split_and_merged(predicted: pd.DataFrame, truth: pd.DataFrame) -> SplitMerge:
    """Count true people split over several predicted people, and predicted people merging several.

    Only records present in both tables are scored.

    Parameters
    ----------
    predicted : pandas.DataFrame
        ``record_key, person_id``.
    truth : pandas.DataFrame
        ``record_key, person_id`` or ``source, source_record_id, person_id``.

    Returns
    -------
    SplitMerge

    Examples
    --------
    >>> truth = pd.DataFrame({"record_key": ["a:1", "a:2", "a:3", "a:4"],
    ...                       "person_id": ["p", "p", "q", "r"]})
    >>> predicted = pd.DataFrame({"record_key": ["a:1", "a:2", "a:3", "a:4"],
    ...                           "person_id": [1, 2, 2, 2]})
    >>> split_and_merged(predicted, truth)
    SplitMerge(true_people_split=1, predicted_people_merged=1, wrongly_merged_records=2)
    """
    return _split_merge_from_joined(_join(predicted, truth))


def evaluate(predicted: pd.DataFrame, truth: pd.DataFrame) -> dict[str, Any]:
    """Every score of a clustering against ground truth, as a JSON-ready dict.

    Parameters
    ----------
    predicted : pandas.DataFrame
        ``record_key, person_id`` (a ``person_index`` table).
    truth : pandas.DataFrame
        ``record_key, person_id`` or ``source, source_record_id, person_id``.

    Returns
    -------
    dict
        ``records_scored``, ``records_only_predicted``, ``records_only_truth``,
        ``predicted_people``, ``true_people`` (counts over scored records), then
        ``pairwise`` and ``cross_source`` (:class:`PairwiseScores` as dicts),
        ``bcubed`` and ``split_merge``.

    Examples
    --------
    >>> truth = pd.DataFrame({"source": ["a", "b"], "source_record_id": ["1", "1"],
    ...                       "person_id": ["p", "p"]})
    >>> predicted = pd.DataFrame({"record_key": ["a:1", "b:1"], "person_id": [7, 7]})
    >>> result = evaluate(predicted, truth)
    >>> result["pairwise"]["f1"], result["cross_source"]["tp"], result["records_scored"]
    (1.0, 1, 2)
    """
    pred_table = _predicted_table(predicted)
    true_table = _truth_table(truth)
    joined = _join_tables(pred_table, true_table)
    return {
        "records_scored": len(joined),
        "records_only_predicted": len(pred_table) - len(joined),
        "records_only_truth": len(true_table) - len(joined),
        "predicted_people": int(joined[_PRED].nunique()),
        "true_people": int(joined[_TRUE].nunique()),
        "pairwise": _pairwise_from_joined(joined, None).to_dict(),
        "cross_source": _pairwise_from_joined(joined, "cross_source").to_dict(),
        "bcubed": _bcubed_from_joined(joined).to_dict(),
        "split_merge": _split_merge_from_joined(joined).to_dict(),
    }


# --- helpers -------------------------------------------------------------------------


def _ratio(numerator: int, denominator: int) -> float:
    return 1.0 if denominator == 0 else float(numerator) / float(denominator)


def _harmonic(precision: float, recall: float) -> float:
    total = precision + recall
    return 0.0 if total == 0 else 2.0 * precision * recall / total


def _check_within(within: object) -> None:
    if within not in (None, "cross_source"):
        raise ValueError(f"within must be None or 'cross_source', not {within!r}")


def _require(table: pd.DataFrame, columns: list[str], name: str) -> None:
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise LinkageError(f"{name} lacks column(s) {', '.join(missing)}")


def _check_rows(table: pd.DataFrame, name: str) -> None:
    repeated = int(table["record_key"].duplicated().sum())
    if repeated:
        raise LinkageError(f"{name} lists {repeated} record_key(s) more than once")
    missing = int(table["person_id"].isna().sum())
    if missing:
        raise LinkageError(f"{name} has {missing} row(s) with no person_id")


def _predicted_table(predicted: pd.DataFrame) -> pd.DataFrame:
    _require(predicted, ["record_key", "person_id"], "predicted")
    table = pd.DataFrame(
        {
            "record_key": predicted["record_key"].astype(str).to_numpy(),
            "person_id": predicted["person_id"].to_numpy(),
        }
    )
    _check_rows(table, "predicted")
    return table


def _truth_table(truth: pd.DataFrame) -> pd.DataFrame:
    if "record_key" in truth.columns:
        _require(truth, ["record_key", "person_id"], "truth")
        keys = truth["record_key"].astype(str)
    else:
        _require(truth, ["source", "source_record_id", "person_id"], "truth")
        keys = truth["source"].astype(str) + ":" + truth["source_record_id"].astype(str)
    table = pd.DataFrame({"record_key": keys.to_numpy(), "person_id": truth["person_id"].to_numpy()})
    _check_rows(table, "truth")
    return table


def _join_tables(pred_table: pd.DataFrame, true_table: pd.DataFrame) -> pd.DataFrame:
    """One row per record in both tables, with dense integer codes for both persons and the source.

    Integer codes make every later ``groupby`` fast, and person ids of any type (or of
    mixed types) behave the same.
    """
    position = pd.Index(true_table["record_key"]).get_indexer(pred_table["record_key"])
    found = position >= 0
    keys = pred_table["record_key"].to_numpy()[found]
    return pd.DataFrame(
        {
            _PRED: pd.factorize(pred_table["person_id"].to_numpy()[found])[0],
            _TRUE: pd.factorize(true_table["person_id"].to_numpy()[position[found]])[0],
            _SOURCE: _source_codes(keys),
        }
    )


def _join(predicted: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    return _join_tables(_predicted_table(predicted), _truth_table(truth))


def _source_codes(record_keys: np.ndarray | pd.Series) -> np.ndarray:
    """Integer code of each key's source (the part before the first ``':'``)."""
    keys = pa.array(np.asarray(record_keys, dtype=object), type=pa.string())
    sources = pc.list_element(pc.split_pattern(keys, ":", max_splits=1), 0)
    encoded = pc.dictionary_encode(sources)
    return np.asarray(encoded.indices, dtype=np.int64)


def _choose2(sizes: np.ndarray) -> int:
    n = sizes.astype(np.int64)
    return int((n * (n - 1) // 2).sum())


def _pairs_in_groups(frame: pd.DataFrame, keys: list[str], within: Within) -> int:
    """Count the pairs of rows sharing ``keys`` (and, cross-source, not sharing a source)."""
    if frame.empty:
        return 0
    pairs = _choose2(frame.groupby(keys, sort=False).size().to_numpy())
    if within == "cross_source":
        pairs -= _choose2(frame.groupby([*keys, _SOURCE], sort=False).size().to_numpy())
    return pairs


def _bcubed_from_joined(joined: pd.DataFrame) -> BCubedScores:
    if joined.empty:
        return BCubedScores(precision=1.0, recall=1.0, f1=1.0)
    cells = joined.groupby([_PRED, _TRUE], sort=False).size()
    n_ij = cells.to_numpy(dtype=np.float64)
    pred_size = np.bincount(joined[_PRED].to_numpy()).astype(np.float64)
    true_size = np.bincount(joined[_TRUE].to_numpy()).astype(np.float64)
    a_i = pred_size[cells.index.get_level_values(0).to_numpy()]
    b_j = true_size[cells.index.get_level_values(1).to_numpy()]
    total = float(len(joined))
    precision = float((n_ij * n_ij / a_i).sum() / total)
    recall = float((n_ij * n_ij / b_j).sum() / total)
    return BCubedScores(precision=precision, recall=recall, f1=_harmonic(precision, recall))


def _split_merge_from_joined(joined: pd.DataFrame) -> SplitMerge:
    cells = joined.groupby([_PRED, _TRUE], sort=False).size()
    pred_of_cell = cells.index.get_level_values(0).to_numpy()
    true_of_cell = cells.index.get_level_values(1).to_numpy()
    trues_per_pred = np.bincount(pred_of_cell) if len(cells) else np.zeros(0, dtype=np.int64)
    preds_per_true = np.bincount(true_of_cell) if len(cells) else np.zeros(0, dtype=np.int64)
    largest = cells.groupby(level=0, sort=False).max()
    size = cells.groupby(level=0, sort=False).sum()
    return SplitMerge(
        true_people_split=int((preds_per_true > 1).sum()),
        predicted_people_merged=int((trues_per_pred > 1).sum()),
        wrongly_merged_records=int((size - largest).sum()),
    )


def _pairwise_from_joined(joined: pd.DataFrame, within: Within) -> PairwiseScores:
    tp = _pairs_in_groups(joined, [_PRED, _TRUE], within)
    predicted_pairs = _pairs_in_groups(joined, [_PRED], within)
    true_pairs = _pairs_in_groups(joined, [_TRUE], within)
    return PairwiseScores.from_counts(tp=tp, fp=predicted_pairs - tp, fn=true_pairs - tp)
