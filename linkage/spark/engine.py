"""The Spark execution engine: :func:`link_records_spark`, step for step :func:`linkage.link.link_records`.

Where the work is done:

* **driver** (pandas, the local engine's own functions): reading the records, preparing
  them (:func:`linkage.link.prepare_inputs`), the term frequencies and household
  blocks of all records, the random pairs of the u-probabilities, the relational columns of
  the second pass, the EM on pattern counts, the clustering of the pairs that decide it,
  stable ids and the `persons` table: everything that grows with the number of records;
* **Spark**: blocking (joins), comparing and scoring the candidate pairs (``mapInPandas``
  over batches of pairs, calling the local engine's comparison and scoring functions),
  counting comparison patterns (``groupBy``), and picking out the pairs the clustering and
  the `pairs` table need: everything that grows with the number of pairs.

The result is the local engine's, to the last bit of every weight: see
``linkage/spark/README.md`` for why, and for the limits (what must fit on the driver).
"""

from __future__ import annotations

import dataclasses
import os
import time
import uuid
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from linkage.allocator import release_free_memory
from linkage.clustering import Clusters
from linkage.errors import LinkageError
from linkage.ids import assign_ids
from linkage.link import (
    MIN_KEPT_PROBABILITY,
    RELATIONAL_COLUMNS,
    LinkResult,
    _all_pairs,
    _labelled_matches,
    _nothing_to_link,
    _pairs_table,
    _random_graded,
    _random_pairs_apart,
    _shared_child_pairs,
    add_relational_columns,
    labelled_positions,
    prepare_inputs,
    stated_parents,
    uses_relational,
    with_nicknames,
)
from linkage.model import HOUSEHOLD_STRATA
from linkage.persons import build_persons
from linkage.scorer import PairScorer, household_rules
from linkage.scoring import Graded
from linkage.settings import LinkageSettings
from linkage.spark.batches import (
    KEY_COLUMNS,
    BatchContext,
    grade_batches,
    needed_columns,
    records_scorer,
    score_batches,
    term_names,
    tf_names,
)
from linkage.spark.blocking import block_spark, rule_columns
from linkage.spark.clustering import cluster_spark_pairs
from linkage.spark.frames import is_spark_frame, spark_schema, to_pandas, to_spark
from linkage.spark.session import (
    engine_settings,
    local_session,
    pair_storage,
    require_pyspark,
    runtime_settings,
)
from linkage.spark.training import count_patterns
from linkage.training import fit_parameters, stranger_pairs

if TYPE_CHECKING:
    from pyspark import Broadcast
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

__all__ = ["BROADCAST_BYTES", "MIN_KEPT_PROBABILITY", "link_records_spark"]

Progress = Callable[[str], None]

#: The columns of the canonical records the driver reads after preparing them: the
#: `persons` table's (:func:`linkage.persons.build_persons`), and the keys, sources, source
#: rows and household lists of :func:`linkage.link.different_people` and
#: :func:`linkage.link.add_relational_columns`.
_RECORD_COLUMNS_KEPT = (
    "record_key",
    "source",
    "row_number",
    "household_ref",
    "extract_date",
    "given_name",
    "middle_names",
    "family_name",
    "sex",
    "postcode_std",
    "nhs_number_std",
    "upn_std",
    "dob",
    "dob_estimated",
    "dod",
)

#: Largest size (bytes, as pandas holds them) of the records' compared columns that is
#: broadcast to every Python worker (about 1.1 KB per distinct record, so about a million
#: distinct records); above it each pair is joined to its records' columns instead. Set
#: ``spark.kinlink.broadcastBytes`` on the session to change it (0: always join).
BROADCAST_BYTES = 1024**3


def _grader(
    shared: Broadcast[BatchContext],
    records: Broadcast[pd.DataFrame] | None = None,
    relational: Broadcast[pd.DataFrame] | None = None,
) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """The ``mapInPandas`` function that grades pairs (with the records broadcast, or joined)."""

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        ctx = shared.value
        if records is None:
            return grade_batches(batches, ctx)
        rel = relational

        def scorer() -> PairScorer:
            return records_scorer(
                ctx,
                lambda: records.value,
                (lambda: rel.value) if rel is not None else None,
                relational_key=f"{ctx.token}:relational" if rel is not None else None,
            )

        return grade_batches(batches, ctx, scorer)

    return run


def _scorer(
    shared: Broadcast[BatchContext], *, full: bool
) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        return score_batches(batches, shared.value, full=full)

    return run


def _graded_schema(ctx: BatchContext, *, scored: bool, terms: list[str] | None = None) -> StructType:
    from pyspark.sql.types import (
        BooleanType,
        ByteType,
        DoubleType,
        FloatType,
        LongType,
        ShortType,
        StructField,
        StructType,
    )

    if scored and terms is None:  # what the clustering needs
        return StructType(
            [
                StructField("l", LongType()),
                StructField("r", LongType()),
                StructField("match_probability", DoubleType()),
                StructField("conflict", BooleanType()),
            ]
        )
    fields = [
        StructField("l", LongType()),
        StructField("r", LongType()),
        StructField("rule", ShortType()),
        StructField("k1", LongType()),
        StructField("k2", LongType()),
        StructField("k3", LongType()),
    ]
    fields += [StructField(f"level_{name}", ByteType()) for name in ctx.level_names]
    fields.append(StructField("stratum", ByteType()))
    if not scored:
        fields += [StructField(f"tfadj_{name}", DoubleType()) for name in ctx.tf]
    fields.append(StructField("conflict", BooleanType()))
    if scored:
        fields += [StructField(f"weight_{name}", FloatType()) for name in terms or []]
        fields += [StructField("match_weight", DoubleType()), StructField("match_probability", DoubleType())]
    return StructType(fields)


class _Run:
    """One Spark linkage run: the session, what it persisted (to free at the end), timings."""

    def __init__(self, spark: SparkSession, say: Progress) -> None:
        self.spark = spark
        self.say = say
        self.cached: list[DataFrame] = []
        self.broadcasts: list[Broadcast[Any]] = []
        self.records: Broadcast[pd.DataFrame] | None = None  # set: records broadcast; None: joined
        self.relational: Broadcast[pd.DataFrame] | None = None
        self.timings: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self._t, 3)
        self._t = now

    def keep(self, frame: DataFrame) -> DataFrame:
        frame = frame.persist(pair_storage(self.spark))
        self.cached.append(frame)
        return frame

    def share(self, value: Any) -> Broadcast[Any]:
        shared = self.spark.sparkContext.broadcast(value)
        self.broadcasts.append(shared)
        return shared

    def release(self) -> None:
        for frame in self.cached:
            frame.unpersist()
        for shared in self.broadcasts:
            shared.destroy()
        self.cached.clear()
        self.broadcasts.clear()

    def grade(
        self, pairs: DataFrame, ctx: BatchContext, attrs: DataFrame, *, small: bool = False
    ) -> DataFrame:
        """Comparison levels, strata, tf adjustments and conflicts of ``pairs`` (lazily, in Spark).

        With the records broadcast, only the pairs' positions go to the workers. Else each
        pair is joined to both records' prepared columns in ``attrs`` (a broadcast join
        when ``small``, else two shuffle joins).
        """
        from pyspark.sql import functions as F

        schema = _graded_schema(ctx, scored=False)
        narrow = pairs.select(*KEY_COLUMNS, "enumerated")
        if self.records is not None:
            return narrow.mapInPandas(_grader(self.share(ctx), self.records, self.relational), schema)
        left = attrs.select(F.col("pos").alias("l"), *(F.col(c).alias(f"l_{c}") for c in ctx.columns))
        right = attrs.select(F.col("pos").alias("r"), *(F.col(c).alias(f"r_{c}") for c in ctx.columns))
        if small:
            left, right = F.broadcast(left), F.broadcast(right)
        wide = narrow.join(left, on="l").join(right, on="r")
        return wide.mapInPandas(_grader(self.share(ctx)), schema)

    def score(self, graded: DataFrame, ctx: BatchContext, *, full: bool) -> DataFrame:
        """Match probabilities of graded pairs (``full``: every weight term and the graded columns too)."""
        terms = term_names(ctx.settings, ctx.tf) if full else None
        schema = _graded_schema(ctx, scored=True, terms=terms)
        return graded.mapInPandas(_scorer(self.share(ctx), full=full), schema)


def _relational_frame(spark: SparkSession, scorer: PairScorer) -> tuple[pd.DataFrame, DataFrame]:
    """The relational columns of the records a source states are the parent of someone
    (``pos`` and the lists), in pandas and in Spark."""
    from pyspark.sql.types import ArrayType, LongType, StringType, StructField, StructType

    has = stated_parents(scorer)
    frame = scorer.prepared.loc[has, list(RELATIONAL_COLUMNS)].reset_index(drop=True)
    frame.insert(0, "pos", np.flatnonzero(has).astype(np.int64))
    schema = StructType(
        [StructField("pos", LongType())]
        + [StructField(c, ArrayType(StringType())) for c in RELATIONAL_COLUMNS]
    )
    return frame, to_spark(spark, frame, schema)


def _extra_pairs(spark: SparkSession, scorer: PairScorer, settings: LinkageSettings, rule: int) -> DataFrame:
    """Pairs of records stated as parents of one person, in the local engine's order (not yet
    checked against the candidates)."""
    from pyspark.sql.types import BooleanType, LongType, ShortType, StructField, StructType

    empty = np.zeros(0, dtype=np.int64)
    a, b = _shared_child_pairs(scorer.prepared, empty, empty, settings.link_type)
    frame = pd.DataFrame(
        {
            "l": a.astype(np.int64),
            "r": b.astype(np.int64),
            "rule": np.full(len(a), rule, dtype=np.int16),
            "k1": np.arange(len(a), dtype=np.int64),
            "k2": np.zeros(len(a), dtype=np.int64),
            "k3": np.zeros(len(a), dtype=np.int64),
            "enumerated": scorer.enumerated(a, b),
        }
    )
    schema = StructType(
        [
            StructField("l", LongType()),
            StructField("r", LongType()),
            StructField("rule", ShortType()),
            StructField("k1", LongType()),
            StructField("k2", LongType()),
            StructField("k3", LongType()),
            StructField("enumerated", BooleanType()),
        ]
    )
    return to_spark(spark, frame, schema)


def _fits_broadcast(spark: SparkSession, frame: pd.DataFrame) -> bool:
    """True when the records' compared columns are small enough to broadcast to every executor.

    The limit is the Spark setting ``spark.kinlink.broadcastBytes`` (default
    :data:`BROADCAST_BYTES`), held against the columns' size in pandas (an overestimate).
    """
    limit = int(spark.conf.get("spark.kinlink.broadcastBytes", str(BROADCAST_BYTES)) or BROADCAST_BYTES)
    return int(frame.memory_usage(deep=True).sum()) <= limit


def _relational_pass(
    run: _Run,
    graded: DataFrame,
    candidates: DataFrame,
    attrs: DataFrame,
    scorer: PairScorer,
    settings: LinkageSettings,
    ctx: BatchContext,
    rule: int,
) -> DataFrame:
    """The graded pairs of the second pass: the first pass's, with every pair of a stated
    parent graded again (its relational levels and mother-and-father conflict can change; no
    other pair's can), and the pairs of stated parents of one person no rule found.
    """
    from pyspark.sql import functions as F

    frame, rel = _relational_frame(run.spark, scorer)
    rel = run.keep(rel)
    if run.records is not None:
        run.relational = run.share(frame)
    parents = rel.select("pos")
    pl = F.broadcast(parents.select(F.col("pos").alias("l"), F.lit(True).alias("_pl")))
    pr = F.broadcast(parents.select(F.col("pos").alias("r"), F.lit(True).alias("_pr")))

    def flagged(pairs: DataFrame) -> DataFrame:
        return pairs.join(pl, on="l", how="left").join(pr, on="r", how="left")

    either = F.coalesce(F.col("_pl"), F.lit(False)) | F.coalesce(F.col("_pr"), F.lit(False))
    unchanged = flagged(graded).where(~either).select(*graded.columns)
    affected = flagged(candidates).where(either).select(*KEY_COLUMNS, "enumerated")
    extra = _extra_pairs(run.spark, scorer, settings, rule).join(
        affected.select("l", "r"), on=["l", "r"], how="left_anti"
    )
    attrs2 = attrs.join(F.broadcast(rel), on="pos", how="left")  # no stated children: null lists
    regraded = run.keep(run.grade(affected.unionByName(extra), ctx, attrs2))
    regraded.count()
    # not persisted: the first pass's graded pairs stay cached, the filter is map-side
    return unchanged.unionByName(regraded)


def _summary(scored: DataFrame, threshold: float) -> tuple[int, int, int]:
    """Pairs, pairs at or above the threshold, hard conflicts (one Spark job)."""
    from pyspark.sql import functions as F

    row = scored.agg(
        F.count(F.lit(1)).alias("n"),
        F.sum((F.col("match_probability") >= threshold).cast("long")).alias("above"),
        F.sum(F.col("conflict").cast("long")).alias("conflicts"),
    ).collect()[0]
    return int(row["n"]), int(row["above"] or 0), int(row["conflicts"] or 0)


def _kept_pairs(scored: DataFrame) -> pd.DataFrame:
    """The scored pairs worth keeping, on the driver, in the local engine's pair order."""
    from pyspark.sql import functions as F

    kept = scored.where(F.col("match_probability") >= MIN_KEPT_PROBABILITY).toPandas()
    order = np.lexsort(
        (kept["k3"].to_numpy(), kept["k2"].to_numpy(), kept["k1"].to_numpy(), kept["rule"].to_numpy())
    )
    return kept.iloc[order].reset_index(drop=True)


def _pairs_from_kept(
    kept: pd.DataFrame,
    prepared: pd.DataFrame,
    rule_names: list[str],
    terms: list[str],
    settings: LinkageSettings,
) -> pd.DataFrame:
    """The `pairs` table, made by the local engine's own function from the kept pairs."""
    graded = Graded(
        np.column_stack([kept[f"level_{c.name}"].to_numpy(dtype=np.int8) for c in settings.comparisons]),
        np.column_stack([kept[f"level_{c.name}"].to_numpy(dtype=np.int8) for c in settings.context]),
        kept["stratum"].to_numpy(dtype=np.int64),
    )
    scored = SimpleNamespace(
        graded=graded,
        terms={name: kept[f"weight_{name}"].to_numpy(dtype=np.float32) for name in terms},
        weight=kept["match_weight"].to_numpy(dtype=np.float64),
        probability=kept["match_probability"].to_numpy(dtype=np.float64),
        conflict=kept["conflict"].to_numpy(dtype=bool),
    )
    return _pairs_table(
        prepared,
        kept["l"].to_numpy(dtype=np.int64),
        kept["r"].to_numpy(dtype=np.int64),
        kept["rule"].to_numpy(dtype=np.int16),
        rule_names,
        scored,
        settings,
        min_probability=MIN_KEPT_PROBABILITY,
    )


def _spark_path(path: str | os.PathLike[str] | None) -> str | None:
    """``path`` as Spark should see it: a URI as given, a local path made absolute."""
    if path is None:
        return None
    text = os.fspath(path)
    return text if "://" in text else os.path.abspath(text)


def _empty_kept(ctx: BatchContext, terms: list[str]) -> pd.DataFrame:
    """No kept pairs, with the columns :func:`_pairs_from_kept` reads (for an empty `pairs`)."""
    columns: dict[str, Any] = {
        "l": np.zeros(0, np.int64),
        "r": np.zeros(0, np.int64),
        "rule": np.zeros(0, np.int16),
        "stratum": np.zeros(0, np.int64),
        "match_weight": np.zeros(0, np.float64),
        "match_probability": np.zeros(0, np.float64),
        "conflict": np.zeros(0, bool),
    }
    columns.update({f"level_{name}": np.zeros(0, np.int8) for name in ctx.level_names})
    columns.update({f"weight_{name}": np.zeros(0, np.float32) for name in terms})
    return pd.DataFrame(columns)


def _write_pairs(
    run: _Run,
    full: DataFrame,
    prepared: pd.DataFrame,
    rule_names: list[str],
    terms: list[str],
    settings: LinkageSettings,
    path: str,
) -> int:
    """Write the `pairs` table to Parquet at ``path`` with Spark (never collected); its rows.

    ``full`` is every candidate pair scored with every term. The table has the columns and
    types :func:`linkage.link._pairs_table` gives (record keys, rule and stratum names,
    int8 levels, float32 terms, float64 weight and probability, the hard-conflict flag), in
    no particular row order.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    keys = pd.DataFrame(
        {
            "pos": np.arange(len(prepared), dtype=np.int64),
            "record_key": prepared["record_key"].astype(str).to_numpy(dtype=object),
        }
    )
    schema = StructType([StructField("pos", LongType()), StructField("record_key", StringType())])
    keyed = run.keep(to_spark(run.spark, keys, schema))
    del keys
    left = keyed.select(F.col("pos").alias("l"), F.col("record_key").alias("record_key_l"))
    right = keyed.select(F.col("pos").alias("r"), F.col("record_key").alias("record_key_r"))
    rules = F.array(*(F.lit(name) for name in rule_names))
    strata = F.array(*(F.lit(name) for name in (*HOUSEHOLD_STRATA, "R")))
    table = (
        full.where(F.col("match_probability") >= MIN_KEPT_PROBABILITY)
        .join(left, on="l")
        .join(right, on="r")
        .select(
            "record_key_l",
            "record_key_r",
            F.element_at(rules, F.col("rule").cast("int") + 1).alias("blocking_rule"),
            F.element_at(strata, F.col("stratum").cast("int") + 1).alias("stratum"),
            *(f"level_{c.name}" for c in (*settings.context, *settings.comparisons)),
            *(f"weight_{name}" for name in terms),
            "match_weight",
            "match_probability",
            F.col("conflict").alias("hard_conflict"),
        )
    )
    table.write.mode("overwrite").parquet(path)
    return int(run.spark.read.parquet(path).count())


def link_records_spark(
    records: Any,
    settings: LinkageSettings | None = None,
    *,
    spark: SparkSession | None = None,
    stated_relationships: Any = None,
    previous_index: Any = None,
    seed: int | np.random.Generator | None = 42,
    train: bool = True,
    progress: Progress | None = None,
    id_key: bytes = b"",
    labelled_pairs: Any = None,
    pairs_path: str | os.PathLike[str] | None = None,
) -> LinkResult:
    """Resolve canonical ``records`` into people on Spark: :func:`linkage.link.link_records`'s answer.

    Parameters
    ----------
    records
        The canonical `records` table: a pandas DataFrame, a Parquet path (file or folder,
        read with pandas), or a Spark DataFrame (taken in the order ``toPandas`` gives).
        The input order fixes record positions, as in the local engine.
    settings
        Linkage settings; None loads the shipped `config/linkage.yaml`.
    spark
        The Spark session to run on. None uses the active session, or starts a local one
        (``local[*]``, see :func:`linkage.spark.session.local_session`) and stops it at the end.
    stated_relationships, previous_index
        As for :func:`linkage.link.link_records` (pandas, Parquet path or Spark DataFrame).
    seed, train, progress, id_key, labelled_pairs
        As for :func:`linkage.link.link_records` (labelled pairs: pandas, Parquet path or
        Spark DataFrame).
    pairs_path
        Where Spark writes the `pairs` table as Parquet (a folder of part files, replaced
        if it exists; a local path or any location the session can write, such as
        ``s3a://``), instead of collecting it to the driver. Use it when the pairs scored
        at least 0.001 likely would not fit in the driver's memory (about 700 bytes each
        while the pandas table is built): only the edges then come to the driver. The
        result's ``pairs`` is then an empty table with the same columns, and
        ``facts["pairs_path"]`` and ``facts["pairs_kept"]`` say where the rows went and
        how many there are. Same rows as the local engine's ``pairs``, in no particular order.

    Returns
    -------
    LinkResult
        The local engine's result: the same pairs, weights, people and person ids.

    Raises
    ------
    LinkageError
        When pyspark or Java is missing (install the spark extra: ``pip install
        'kinlink[spark]'``), a blocking rule would make too many pairs, or ``train`` is
        False without fitted parameters.
    """
    settings = settings or LinkageSettings.load(None)
    if not train and settings.parameters is None:
        raise LinkageError("train=False needs settings with fitted parameters (a saved model)")
    require_pyspark()
    from pyspark.sql import SparkSession

    say = progress or (lambda _msg: None)
    own = False
    if spark is None and is_spark_frame(records):
        spark = records.sparkSession
    if spark is None:
        spark = SparkSession.getActiveSession()
    if spark is None:
        say("starting Spark (local mode)")
        spark = local_session()
        own = True
    try:
        spark.sparkContext  # noqa: B018 - Spark Connect sessions have none
    except Exception:
        raise LinkageError(
            "the Spark engine needs a classic Spark session (it broadcasts through the SparkContext); "
            "Spark Connect sessions are not supported"
        ) from None
    try:
        with runtime_settings(spark, engine_settings()):
            run = _Run(spark, say)
            try:
                return _link(
                    run,
                    records,
                    settings,
                    stated_relationships=stated_relationships,
                    previous_index=previous_index,
                    seed=seed,
                    train=train,
                    id_key=id_key,
                    labelled=labelled_pairs,
                    pairs_path=_spark_path(pairs_path),
                )
            finally:
                run.release()
    finally:
        if own:
            spark.stop()


def _link(
    run: _Run,
    records_in: Any,
    settings: LinkageSettings,
    *,
    stated_relationships: Any,
    previous_index: Any,
    seed: int | np.random.Generator | None,
    train: bool,
    id_key: bytes,
    labelled: Any,
    pairs_path: str | None = None,
) -> LinkResult:
    spark, say, lap = run.spark, run.say, run.lap
    rng = np.random.default_rng(seed)
    records = to_pandas(records_in, "records")
    assert records is not None
    stated = to_pandas(stated_relationships, "stated_relationships")
    previous = to_pandas(previous_index, "previous_index")
    labelled_pairs = to_pandas(labelled, "labelled_pairs")
    if len(records) == 0:
        return _nothing_to_link(settings)
    say("preparing records")
    inputs = prepare_inputs(records, stated)
    prepared, position, all_keys = inputs.prepared, inputs.position, inputs.keys
    records = inputs.records
    # From here on the driver reads only these columns of the records: let the rest go
    # (about 40% of the canonical table as pandas holds it: addresses, aliases, flags).
    records = records[[c for c in _RECORD_COLUMNS_KEPT if c in records.columns]]
    labels_at = (
        labelled_positions(labelled_pairs, np.asarray(all_keys), position)
        if labelled_pairs is not None
        else None
    )
    if labels_at is not None and not train:
        raise LinkageError("labelled pairs train a model; they cannot be used with train=False")
    nicks = with_nicknames(prepared, settings)
    scorer = PairScorer(prepared, settings, nicks)
    rules = [*household_rules(settings.household_block_size), *settings.rules]
    columns = needed_columns(settings, [c for c in prepared.columns if c != "record_key"])
    compared = prepared[list(columns)]
    if _fits_broadcast(spark, compared):  # every worker holds the records: pairs travel alone
        run.records = run.share(compared)
        staged_columns = [
            "source",
            *(c for c in rule_columns(rules) if c in prepared.columns and c != "source"),
        ]
    else:  # each pair is joined to its records' columns
        staged_columns = ["source", *(c for c in (*columns, *rule_columns(rules)) if c != "source")]
    staged = prepared[list(dict.fromkeys(c for c in staged_columns if c in prepared.columns))]
    staged = staged.assign(pos=np.arange(len(prepared), dtype=np.int64))
    attrs = run.keep(to_spark(spark, staged, spark_schema(staged)))
    ctx = BatchContext(
        settings=settings.with_parameters(None),
        nicknames=frozenset(nicks),
        frequencies=dict(scorer.frequencies),
        tf_base=dict(scorer.tf_base),
        columns=columns,
        list_columns=(),
        tf=tf_names(settings, scorer.frequencies, scorer.tf_base, scorer.ties),
        ties=scorer.ties,
        token=uuid.uuid4().hex,
    )
    lap("prepare")
    release_free_memory()  # preparing was the driver's peak; Spark's processes need the rest

    say(f"blocking {len(prepared):,} distinct records (Spark)")
    blocked = block_spark(
        attrs,
        rules,
        link_type=settings.link_type,
        max_pairs_per_rule=settings.max_pairs_per_rule,
        household=range(len(household_rules(settings.household_block_size))),
    )
    run.cached += list(blocked.cached)
    candidates = blocked.pairs
    say(f"blocked: {int(blocked.counts['new_pairs'].sum()):,} candidate pairs (Spark)")
    lap("block")

    cannot = inputs.cannot
    rule_names = [r.name for r in rules]
    passes = 2 if uses_relational(settings) and stated is not None else 1
    random_pairs: tuple[np.ndarray, np.ndarray, Graded] | None = None
    strangers: np.ndarray | None = None  # random pairs other evidence says are different people
    graded: DataFrame | None = None
    scored: DataFrame | None = None
    clusters: Clusters | None = None
    params = None
    kept = pd.DataFrame()
    threshold = settings.clustering.threshold
    n_pairs = above = conflicts = 0
    for pass_no in range(1, passes + 1):
        if pass_no == 1:
            graded = run.keep(run.grade(candidates, ctx, attrs))
            say(f"comparing {graded.count():,} candidate pairs (Spark)")
            if train:
                random_pairs = _random_graded(scorer, settings, rng)
        else:
            say("adding relational evidence: records stated as parents of the same person")
            assert clusters is not None and graded is not None and scored is not None
            scored.unpersist()
            add_relational_columns(prepared, records, stated, position, clusters.labels)
            scorer.forget(RELATIONAL_COLUMNS)
            ctx = dataclasses.replace(
                ctx,
                columns=(*ctx.columns, *RELATIONAL_COLUMNS),
                list_columns=(*ctx.list_columns, *RELATIONAL_COLUMNS),
            )
            graded = _relational_pass(run, graded, candidates, attrs, scorer, settings, ctx, len(rule_names))
            rule_names = [*rule_names, "shared_child"]
            if random_pairs is not None:
                random_pairs = _random_pairs_apart(scorer, random_pairs, clusters.labels)
                assert params is not None
                strangers = stranger_pairs(params, random_pairs[2])
        lap("compare" if pass_no == 1 else "compare_relational")

        if train:
            say("training the model (EM) on comparison-pattern counts (Spark)")
            assert random_pairs is not None and graded is not None
            patterns = count_patterns(graded, settings)
            all_pairs = _all_pairs(prepared, settings.link_type)
            labelled = _labelled_matches(scorer, labels_at)
            params = fit_parameters(patterns, settings, random_pairs[2], all_pairs, labelled, strangers)
        else:
            assert settings.parameters is not None
            params = dataclasses.replace(settings.parameters)
        params.tf_base = dict(scorer.tf_base)
        scorer.params = params
        lap("train" if pass_no == 1 else "train_relational")

        say("scoring pairs (Spark)")
        assert graded is not None
        scoring = dataclasses.replace(ctx, params=params)
        scored = run.keep(run.score(graded, scoring, full=False))
        n_pairs, above, conflicts = _summary(scored, threshold)
        lap("score" if pass_no == 1 else "score_relational")

        say("clustering into people")
        edges = None
        if pass_no == passes and pairs_path is None:
            # every term of the pairs worth keeping, scored again (not kept in Spark)
            kept = _kept_pairs(run.score(graded, scoring, full=True))
            if threshold >= MIN_KEPT_PROBABILITY:
                edges = kept[(kept["match_probability"] >= threshold) & ~kept["conflict"]]
        clusters = cluster_spark_pairs(
            spark,
            scored,
            len(prepared),
            threshold=threshold,
            cannot_link_below=settings.clustering.cannot_link_below,
            cannot_pairs=cannot,
            edges=edges,
        )
        lap("cluster" if pass_no == 1 else "cluster_relational")
    assert clusters is not None and params is not None
    ids, changes = assign_ids(pd.Series(all_keys), clusters.labels[position], previous, key=id_key)
    person_index = pd.DataFrame(
        {
            "record_key": all_keys,
            "person_id": ids.to_numpy(),
            "cluster_confidence": clusters.confidence[position],
        }
    )
    persons = build_persons(records, person_index)
    release_free_memory()
    lap("persons")

    terms = term_names(settings, ctx.tf)
    if pairs_path is None:
        pairs = _pairs_from_kept(kept, prepared, rule_names, terms, settings)
        pairs_kept = len(pairs)
    else:
        say("writing the pairs table to Parquet (Spark)")
        assert graded is not None
        full = run.score(graded, scoring, full=True)
        pairs_kept = _write_pairs(run, full, prepared, rule_names, terms, settings, pairs_path)
        pairs = _pairs_from_kept(_empty_kept(ctx, terms), prepared, rule_names, terms, settings)
        lap("write_pairs")
    facts = {
        "records": len(records),
        "distinct_records": len(prepared),
        "candidate_pairs": n_pairs,
        "relational_pass": passes == 2,
        "pairs_kept": pairs_kept,
        "pairs_path": pairs_path,
        "pairs_above_threshold": above,
        "hard_conflicts": conflicts,
        "people": int(person_index["person_id"].nunique()),
        "components_reexamined": clusters.components_reexamined,
        "em_iterations": params.iterations,
        "em_converged": params.converged,
        "household_pairs": dict(zip(HOUSEHOLD_STRATA, params.stratum_pairs, strict=True)),
        "id_merges": int((changes["change"] == "merge").sum()) if len(changes) else 0,
        "id_splits": int((changes["change"] == "split").sum()) if len(changes) else 0,
        "seconds": run.timings,
        "engine": "spark",
    }
    say("done")
    return LinkResult(
        pairs=pairs,
        person_index=person_index,
        persons=persons,
        id_changes=changes,
        blocking=blocked.counts,
        settings=settings.with_parameters(params),
        facts=facts,
    )
