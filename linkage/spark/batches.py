"""The work done on one batch of candidate pairs, in a Spark Python worker: pure pandas.

A batch arrives as a pandas DataFrame with one row per pair: the pair's positions ``l``
and ``r`` (in the driver's prepared records), its blocking columns, and ``enumerated``.
The comparisons, term-frequency adjustments, conflicts and weights are computed by the
very functions the local engine calls (:func:`linkage.scoring.grade_pairs`,
:func:`linkage.scoring.tf_adjustments`, :meth:`linkage.scorer.PairScorer.conflicts`,
:func:`linkage.scoring.weight_terms`), in one of two ways:

* **records broadcast** (:func:`records_scorer`): every worker holds the prepared records
  (the columns the comparisons read) and builds the local engine's
  :class:`~linkage.scorer.PairScorer` over them once; a batch is then graded as the local
  engine grades its pairs, by position. Fast; the records must fit in a worker.
* **records joined** (:func:`batch_view`): the batch also carries both records' columns
  (``l_<column>``, ``r_<column>``) and becomes the prepared table of a small linkage run;
  what the functions need beyond the two records of a pair (the value frequencies and
  household blocks of all records) is handed in. For record sets too large to broadcast.

Either way a pair's levels and weight do not depend on the batch it falls in. Nothing
here imports pyspark: the module is plain pandas, and is tested as such.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from linkage.comparisons import InitialLevel, PairView
from linkage.link import RELATIONAL_COLUMNS
from linkage.model import ModelParameters
from linkage.name_ties import NameTies, tie_term, tied_comparisons
from linkage.scorer import PairScorer, household_rules
from linkage.scoring import Graded, grade_pairs, probability, total_weight, weight_terms
from linkage.settings import LinkageSettings

__all__ = [
    "KEY_COLUMNS",
    "SCORE_COLUMNS",
    "BatchContext",
    "batch_view",
    "grade_batch",
    "grade_batches",
    "graded_of",
    "needed_columns",
    "records_scorer",
    "score_batch",
    "score_batches",
    "term_names",
    "tf_names",
    "with_relational",
]

#: Columns that identify a candidate pair and its place in the local engine's pair order:
#: positions ``l < r``, the blocking rule that first found it, and the order key
#: ``(rule, k1, k2, k3)`` (see :mod:`linkage.spark.blocking`).
KEY_COLUMNS = ("l", "r", "rule", "k1", "k2", "k3")

#: Prepared columns the pair view reads by name, not through a level's parameters: dates of
#: birth (levels and conflicts), the bounds stated relationships set on them, and the
#: mother-and-father conflict.
_IMPLICIT_COLUMNS = (
    "dob_days",
    "dob_est_days",
    "dob_y",
    "dob_m",
    "dob_d",
    "dob_latest_days",
    "dob_earliest_days",
    "dob_usual_latest_days",
    "dob_usual_earliest_days",
    "mother_of",
    "father_of",
)


def needed_columns(settings: LinkageSettings, available: Sequence[str]) -> tuple[str, ...]:
    """The prepared columns grading and scoring a pair read, in the order of ``available``.

    The columns every level names in its parameters (and an initial level's
    ``<column>_initial``), the term-frequency columns, the household blocks' keys and the
    columns the pair view reads by name (:data:`_IMPLICIT_COLUMNS`). Most levels fail
    loudly (``KeyError``) on a missing column; the list and date-bound checks treat one as
    "no evidence", so a level or conflict that reads a new column by name must add it
    there (the equivalence test in ``tests/linkage/test_spark_engine.py`` would show it).
    """
    wanted: set[str] = set(_IMPLICIT_COLUMNS)
    for comp in (*settings.comparisons, *settings.context):
        if comp.tf_column:
            wanted.add(comp.tf_column)
        for level in comp.levels:
            for f in dataclasses.fields(level):
                if f.name == "label":
                    continue
                value = getattr(level, f.name)
                names = [value] if isinstance(value, str) else list(value) if isinstance(value, tuple) else []
                wanted.update(n for n in names if isinstance(n, str))
            if isinstance(level, InitialLevel):
                wanted.add(f"{level.column}_initial")
    for rule in household_rules(settings.household_block_size):
        wanted.update(rule.keys)
    return tuple(c for c in available if c in wanted)


@dataclass(frozen=True)
class BatchContext:
    """What every batch needs besides its own rows; shipped once to each worker.

    ``frequencies`` and ``tf_base`` are those of all prepared records (the local engine's
    :class:`~linkage.scorer.PairScorer` computes them the same way); ``columns`` are the
    prepared columns each side of a batch carries, ``list_columns`` those of them that
    hold lists.
    """

    settings: LinkageSettings
    nicknames: frozenset[tuple[str, str]]
    frequencies: Mapping[str, pd.Series]
    tf_base: Mapping[str, float]
    columns: tuple[str, ...]
    list_columns: tuple[str, ...]
    params: ModelParameters | None = None
    tf: tuple[str, ...] = field(default=())
    ties: NameTies | None = None
    token: str = ""  # names the run's records in a worker's cache (records broadcast)

    @property
    def level_names(self) -> list[str]:
        """Names of the level columns: context comparisons, then person comparisons."""
        return [c.name for c in (*self.settings.context, *self.settings.comparisons)]


def tf_names(
    settings: LinkageSettings,
    frequencies: Mapping[str, pd.Series],
    tf_base: Mapping[str, float],
    ties: NameTies | None = None,
) -> tuple[str, ...]:
    """The adjustments a match weight gets, in the order
    :meth:`linkage.scorer.PairScorer.adjustments` makes them: term frequencies, then ties to
    the given name."""
    enabled = settings.model.term_frequency
    tf = tuple(
        c.name
        for c in (*settings.comparisons, *settings.context)
        if c.name in enabled
        and c.tf_column is not None
        and c.tf_levels
        and frequencies.get(c.tf_column) is not None
        and c.name in tf_base
    )
    comparisons = settings.comparisons
    return tf + tuple(tie_term(comparisons[j].name) for j in tied_comparisons(comparisons, ties))


def term_names(settings: LinkageSettings, tf: Sequence[str]) -> list[str]:
    """The terms of a match weight, in the order :func:`linkage.scoring.weight_terms` makes them."""
    return [
        "prior",
        *(c.name for c in settings.comparisons),
        *(c.name for c in settings.context),
        *(f"tf_{name}" for name in tf),
    ]


class _WorkerRecords:
    """A worker's scorer over the broadcast records of one run, and which relational columns it holds."""

    def __init__(self, scorer: PairScorer) -> None:
        self.scorer = scorer
        self.relational: object = None


# One entry per run (by token); a worker process is reused across tasks, so the records are
# unpickled and their per-record codes computed once per worker, not once per batch.
_WORKER_RECORDS: dict[str, _WorkerRecords] = {}


def with_relational(prepared: pd.DataFrame, relational: pd.DataFrame) -> None:
    """Give ``prepared`` (in place) the relational columns of the rows ``relational`` lists.

    ``relational`` has ``pos`` and the lists of :data:`linkage.link.RELATIONAL_COLUMNS`;
    every other record gets an empty list, as :func:`linkage.link.add_relational_columns`
    gives it.
    """
    positions = relational["pos"].to_numpy(dtype=np.int64)
    for col in RELATIONAL_COLUMNS:
        values = np.empty(len(prepared), dtype=object)
        values.fill([])  # one shared, never-mutated empty list
        held = np.empty(len(positions), dtype=object)
        held[:] = [_as_list(v) for v in relational[col].to_numpy(dtype=object)]
        values[positions] = held
        prepared[col] = values


def records_scorer(
    ctx: BatchContext,
    records: Callable[[], pd.DataFrame],
    relational: Callable[[], pd.DataFrame] | None = None,
    relational_key: object = None,
) -> PairScorer:
    """The local engine's scorer over all prepared records, built once per worker and run.

    ``records`` gives the prepared records (called once, on first use); ``relational``
    the relational columns of the second pass (applied once per ``relational_key``, then
    the scorer forgets what it had cached of them, as the local engine's does).
    """
    entry = _WORKER_RECORDS.get(ctx.token)
    if entry is None:
        _WORKER_RECORDS.clear()  # an earlier run's records: free them
        scorer = PairScorer(records(), ctx.settings, set(ctx.nicknames), threads=1)  # one task, one core
        scorer.ties = ctx.ties  # counted over all records' columns, not only those shipped
        entry = _WORKER_RECORDS[ctx.token] = _WorkerRecords(scorer)
    if relational is not None and entry.relational != relational_key:
        with_relational(entry.scorer.prepared, relational())
        entry.scorer.forget(RELATIONAL_COLUMNS)
        entry.relational = relational_key
    return entry.scorer


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, (list, np.ndarray, tuple)) else []


def batch_view(batch: pd.DataFrame, ctx: BatchContext) -> tuple[PairScorer, PairView]:
    """The prepared records of a batch (left sides, then right sides) and a view of its pairs.

    List columns come from Arrow as numpy arrays (or null); the ``list_columns`` (the
    relational columns, which the local engine holds as lists and tests as lists) become
    Python lists. Aliases stay arrays, as a Parquet file gives them to the local engine.
    """
    k = len(batch)
    sides = []
    for prefix in ("l_", "r_"):
        side = pd.DataFrame({c: batch[f"{prefix}{c}"].to_numpy() for c in ctx.columns})
        sides.append(side)
    prepared = pd.concat(sides, ignore_index=True)
    for c in ctx.list_columns:
        prepared[c] = pd.Series([_as_list(v) for v in prepared[c].to_numpy(dtype=object)], dtype=object)
    scorer = PairScorer(prepared, ctx.settings, set(ctx.nicknames), threads=1)
    # the frequencies of all records, not of this batch's
    scorer.frequencies = dict(ctx.frequencies)
    scorer.tf_base = dict(ctx.tf_base)
    scorer.ties = ctx.ties
    view = scorer.view(np.arange(k, dtype=np.int64), np.arange(k, 2 * k, dtype=np.int64))
    return scorer, view


def grade_batch(batch: pd.DataFrame, ctx: BatchContext, scorer: PairScorer | None = None) -> pd.DataFrame:
    """Levels, stratum, term-frequency adjustments and hard conflict of every pair of a batch.

    ``batch`` carries :data:`KEY_COLUMNS` and ``enumerated`` (the pair shares a household
    block of all records); with ``scorer`` (the records broadcast) nothing else, without
    it both records' prepared columns. The result keeps the key columns and adds
    ``level_<comparison>`` (int8), ``stratum`` (int8), ``tfadj_<name>`` (float64) and
    ``conflict`` (bool).
    """
    settings = ctx.settings
    if scorer is not None:
        view = scorer.view(batch["l"].to_numpy(dtype=np.int64), batch["r"].to_numpy(dtype=np.int64))
        graded = scorer.grade(view)
    else:
        scorer, view = batch_view(batch, ctx)
        enumerated = batch["enumerated"].to_numpy(dtype=bool)
        graded = grade_pairs(view, settings.comparisons, settings.context, enumerated)
    tf = scorer.adjustments(view, graded)
    conflict = scorer.conflicts(view, graded)
    out = pd.DataFrame({c: batch[c].to_numpy() for c in KEY_COLUMNS})
    for j, c in enumerate(settings.context):
        out[f"level_{c.name}"] = graded.context_levels[:, j]
    for j, c in enumerate(settings.comparisons):
        out[f"level_{c.name}"] = graded.levels[:, j]
    out["stratum"] = graded.strata.astype(np.int8)
    for name in ctx.tf:
        out[f"tfadj_{name}"] = tf[name]
    out["conflict"] = conflict
    return out


def graded_of(batch: pd.DataFrame, settings: LinkageSettings) -> Graded:
    """The :class:`~linkage.scoring.Graded` levels a graded batch carries."""
    return Graded(
        np.column_stack([batch[f"level_{c.name}"].to_numpy(dtype=np.int8) for c in settings.comparisons]),
        np.column_stack([batch[f"level_{c.name}"].to_numpy(dtype=np.int8) for c in settings.context]),
        batch["stratum"].to_numpy(dtype=np.int64),
    )


#: The columns :func:`score_batch` gives when not ``full``: what the clustering needs.
SCORE_COLUMNS = ("l", "r", "match_probability", "conflict")


def score_batch(batch: pd.DataFrame, ctx: BatchContext, *, full: bool = True) -> pd.DataFrame:
    """Every term of the match weight, the weight and the probability of a graded batch.

    ``full``: adds ``weight_<term>`` (float32, as the local pairs table holds them),
    ``match_weight`` and ``match_probability`` (float64) to the graded columns. Else only
    :data:`SCORE_COLUMNS`.
    """
    if ctx.params is None:
        raise ValueError("score_batch needs fitted parameters")
    graded = graded_of(batch, ctx.settings)
    tf = {name: batch[f"tfadj_{name}"].to_numpy(dtype=np.float64) for name in ctx.tf}
    terms = weight_terms(ctx.params, graded, tf)
    weight = total_weight(terms)
    if not full:
        return pd.DataFrame(
            {
                "l": batch["l"].to_numpy(),
                "r": batch["r"].to_numpy(),
                "match_probability": probability(weight),
                "conflict": batch["conflict"].to_numpy(dtype=bool),
            }
        )
    out = batch.drop(columns=[f"tfadj_{name}" for name in ctx.tf])
    for name, values in terms.items():
        out[f"weight_{name}"] = values.astype(np.float32)
    out["match_weight"] = weight
    out["match_probability"] = probability(weight)
    return out


def grade_batches(
    batches: Iterator[pd.DataFrame], ctx: BatchContext, scorer: Callable[[], PairScorer] | None = None
) -> Iterator[pd.DataFrame]:
    """:func:`grade_batch` over the batches of one partition (for ``mapInPandas``); ``scorer``
    gives the worker's scorer over the broadcast records (None: records joined)."""
    for batch in batches:
        if len(batch):
            yield grade_batch(batch, ctx, scorer() if scorer is not None else None)


def score_batches(
    batches: Iterator[pd.DataFrame], ctx: BatchContext, *, full: bool = True
) -> Iterator[pd.DataFrame]:
    """:func:`score_batch` over the batches of one partition (for ``mapInPandas``)."""
    for batch in batches:
        if len(batch):
            yield score_batch(batch, ctx, full=full)
