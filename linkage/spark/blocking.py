"""Blocking as Spark joins: the rules of :mod:`linkage.blocking`, with the same answer.

Every record is given one row per forward rule it has all the keys of; a ``groupBy`` on
(rule, key) gives every block its size and its first record (the block id). Every rule is
counted from its block sizes before any pair is made, and a rule that would make more than
``max_pairs_per_rule`` pairs is refused with the local engine's message; a block larger
than the rule's ``max_block_size`` is left out (and counted). The pairs of all forward
rules are then one self-join on (rule, block id); a reverse rule joins one record's keys to
the other's reverse columns.

A pair found by several rules is counted under the first (its ``new`` rule), as in the
local engine, and a pair that some household rule found is ``enumerated``. Each pair
carries an order key ``(rule, k1, k2, k3)`` that sorts the pairs as the local engine lists
them: by rule; then, for a forward rule, by block (its first record), left and right
position; for a reverse rule by left and right position. The model's EM runs over
comparison patterns in the order they first occur, so this key makes the training
arithmetic identical too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from typing import TYPE_CHECKING

import pandas as pd

from ingest.errors import SettingsError
from linkage.blocking import LINK_TYPES, BlockingRule
from linkage.errors import LinkageError
from linkage.spark.session import pair_storage

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

__all__ = ["SparkBlocking", "block_spark", "rule_columns"]


@dataclass(frozen=True)
class SparkBlocking:
    """Candidate pairs, their per-rule counts, and the persisted frames behind them.

    ``pairs`` has columns ``l, r, rule, k1, k2, k3, enumerated`` (``l < r``, ``rule`` the
    first rule that found the pair); ``counts`` the local engine's ``rule, pairs,
    new_pairs, blocks_left_out``; ``cached`` the frames persisted on the way (unpersist
    them when done).
    """

    pairs: DataFrame
    counts: pd.DataFrame
    cached: tuple[DataFrame, ...]


def rule_columns(rules: Sequence[BlockingRule]) -> list[str]:
    """Every column the rules name, once, in order."""
    out: list[str] = []
    for rule in rules:
        for c in (*rule.keys, *(rule.reverse or ())):
            if c not in out:
                out.append(c)
    return out


def _all(columns: Sequence[Column]) -> Column:
    return reduce(lambda a, b: a & b, columns)


def _key(columns: Sequence[str]) -> Column:
    """A rule's key as an array of text (exact for text; numbers print exactly)."""
    from pyspark.sql import functions as F

    return F.array(*(F.col(c).cast("string") for c in columns))


def _cap(rules: Sequence[BlockingRule]) -> Column:
    """Each forward rule's ``max_block_size`` (null: no cap), by rule number."""
    from pyspark.sql import functions as F

    cap = F.lit(None).cast("long")
    for k, rule in enumerate(rules):
        if rule.reverse is None and rule.max_block_size is not None:
            cap = F.when(F.col("rule") == k, F.lit(rule.max_block_size).cast("long")).otherwise(cap)
    return cap


def _check(rules: Sequence[BlockingRule], stats: dict[int, tuple[int, int, int]], limit: int) -> None:
    """Refuse the first rule that would make too many pairs, with the local engine's advice."""
    for k, rule in enumerate(rules):
        expected, _, biggest_block = stats.get(k, (0, 0, 0))
        if expected > limit:
            biggest = biggest_block if rule.reverse is None else -1
            raise LinkageError(
                f"blocking rule {rule.name!r} would make {expected:,} pairs, more than the limit of "
                f"{limit:,}"
                + (f" (its largest block holds {biggest:,} records)" if biggest >= 0 else "")
                + ". Add a column to the rule (e.g. birth_year or given_initial) to make its blocks "
                "smaller, or raise blocking.max_pairs_per_rule if the machine has the memory."
            )


def block_spark(
    keyed: DataFrame,
    rules: Sequence[BlockingRule],
    *,
    link_type: str = "link_and_dedupe",
    max_pairs_per_rule: int = 50_000_000,
    household: Sequence[int] = (),
) -> SparkBlocking:
    """Candidate pairs of the records ``keyed`` (``pos``, ``source`` and the rules' columns).

    ``household`` lists the rules whose pairs are ``enumerated`` (the household blocks of
    :meth:`linkage.scorer.PairScorer.enumerated`).

    Raises
    ------
    SettingsError
        For an unknown link type or a rule naming a column the records lack.
    LinkageError
        When a rule would make more than ``max_pairs_per_rule`` pairs (no pair is made).
    """
    from pyspark.sql import functions as F

    if link_type not in LINK_TYPES:
        raise SettingsError(f"link_type {link_type!r} is not one of {LINK_TYPES}")
    missing = sorted({c for c in rule_columns(rules) if c not in keyed.columns})
    if missing:
        raise SettingsError(f"blocking rules name unknown column(s) {missing}")
    keep = pair_storage(keyed.sparkSession)
    link_only = link_type == "link_only"
    forward = [k for k, r in enumerate(rules) if r.reverse is None]
    reverse = [k for k, r in enumerate(rules) if r.reverse is not None]
    cached: list[DataFrame] = []

    # forward rules: one row per (record, rule) with all the rule's keys; blocks by groupBy
    parts: list[DataFrame] = []
    blocks = None
    if forward:
        entries = [
            F.when(
                _all([F.col(c).isNotNull() for c in rules[k].keys]),
                F.struct(F.lit(k).alias("rule"), _key(rules[k].keys).alias("key")),
            )
            for k in forward
        ]
        member = (
            keyed.select("pos", "source", F.explode(F.array(*entries)).alias("e"))
            .where(F.col("e").isNotNull())
            .select("pos", "source", F.col("e.rule").alias("rule"), F.col("e.key").alias("key"))
        )
        blocks = (
            member.groupBy("rule", "key")
            .agg(F.count(F.lit(1)).alias("size"), F.min("pos").alias("bmin"))
            .withColumn("kept", F.coalesce(F.col("size") <= _cap(rules), F.lit(True)))
            .persist(keep)
        )
        cached.append(blocks)
        parts.append(
            blocks.select(
                "rule",
                F.when(F.col("kept"), F.expr("size * (size - 1) div 2")).otherwise(0).cast("long").alias("n"),
                F.when(F.col("kept"), 0).otherwise(1).cast("long").alias("left_out"),
                F.col("size").cast("long").alias("biggest"),
            )
        )
        kept_blocks = blocks.where(F.col("kept")).select("rule", "key", "bmin")
        if link_only:
            within = member.groupBy("rule", "key", "source").agg(F.count(F.lit(1)).alias("w"))
            parts.append(
                within.join(kept_blocks, on=["rule", "key"]).select(
                    "rule",
                    (-F.expr("w * (w - 1) div 2")).cast("long").alias("n"),
                    F.lit(0).cast("long").alias("left_out"),
                    F.lit(0).cast("long").alias("biggest"),
                )
            )
    for k in reverse:
        rule = rules[k]
        assert rule.reverse is not None
        left = keyed.where(_all([F.col(c).isNotNull() for c in rule.keys])).groupBy(
            _key(rule.keys).alias("key")
        )
        right = keyed.where(_all([F.col(c).isNotNull() for c in rule.reverse])).groupBy(
            _key(rule.reverse).alias("key")
        )
        parts.append(
            left.agg(F.count(F.lit(1)).alias("nl"))
            .join(right.agg(F.count(F.lit(1)).alias("nr")), on="key")
            .select(
                F.lit(k).alias("rule"),
                (F.col("nl") * F.col("nr")).cast("long").alias("n"),
                F.lit(0).cast("long").alias("left_out"),
                F.lit(-1).cast("long").alias("biggest"),
            )
        )
    stats: dict[int, tuple[int, int, int]] = {}
    if parts:
        rows = (
            reduce(lambda a, b: a.unionByName(b), parts)
            .groupBy("rule")
            .agg(F.sum("n").alias("n"), F.sum("left_out").alias("left_out"), F.max("biggest").alias("big"))
            .collect()
        )
        stats = {int(r["rule"]): (int(r["n"]), int(r["left_out"]), int(r["big"])) for r in rows}
    _check(rules, stats, max_pairs_per_rule)

    # the pairs of every rule, then each pair under the first rule that found it
    found: list[DataFrame] = []
    if forward and blocks is not None:
        members = member.join(kept_blocks, on=["rule", "key"]).select("pos", "source", "rule", "bmin")
        lm = members.select(*(F.col(c).alias(f"L_{c}") for c in members.columns))
        rm = members.select(*(F.col(c).alias(f"R_{c}") for c in members.columns))
        pairs = lm.join(rm, (F.col("L_rule") == F.col("R_rule")) & (F.col("L_bmin") == F.col("R_bmin")))
        pairs = pairs.where(F.col("L_pos") < F.col("R_pos"))
        if link_only:
            pairs = pairs.where(F.col("L_source") != F.col("R_source"))
        found.append(
            pairs.select(
                F.col("L_pos").alias("l"),
                F.col("R_pos").alias("r"),
                F.col("L_rule").cast("short").alias("rule"),
                F.col("L_bmin").cast("long").alias("k1"),
                F.col("L_pos").cast("long").alias("k2"),
                F.col("R_pos").cast("long").alias("k3"),
            )
        )
    for k in reverse:
        rule = rules[k]
        assert rule.reverse is not None
        lk = keyed.select(
            F.col("pos").alias("L_pos"), F.col("source").alias("L_source"), _key(rule.keys).alias("key")
        )
        rk = keyed.select(
            F.col("pos").alias("R_pos"), F.col("source").alias("R_source"), _key(rule.reverse).alias("key")
        )
        lk = lk.where(~F.exists("key", lambda x: x.isNull()))
        rk = rk.where(~F.exists("key", lambda x: x.isNull()))
        pairs = lk.join(rk, on="key").where(F.col("L_pos") != F.col("R_pos"))
        if link_only:
            pairs = pairs.where(F.col("L_source") != F.col("R_source"))
        lo, hi = F.least("L_pos", "R_pos"), F.greatest("L_pos", "R_pos")
        found.append(
            pairs.select(
                lo.alias("l"),
                hi.alias("r"),
                F.lit(k).cast("short").alias("rule"),
                lo.cast("long").alias("k1"),
                hi.cast("long").alias("k2"),
                F.lit(0).cast("long").alias("k3"),
            ).dropDuplicates(["l", "r"])
        )
    households = list(household)
    all_pairs = reduce(lambda a, b: a.unionByName(b), found).persist(keep)
    first = (
        all_pairs.groupBy("l", "r")
        .agg(
            F.min(F.struct("rule", "k1", "k2", "k3")).alias("first"),
            F.max(F.col("rule").isin(households) if households else F.lit(False)).alias("enumerated"),
        )
        .select("l", "r", "first.rule", "first.k1", "first.k2", "first.k3", "enumerated")
        .persist(keep)
    )
    cached.append(first)
    made = {int(r["rule"]): int(r["count"]) for r in all_pairs.groupBy("rule").count().collect()}
    new = {int(r["rule"]): int(r["count"]) for r in first.groupBy("rule").count().collect()}
    all_pairs.unpersist()  # counted, and ``first`` is materialised: let every rule's pairs go
    counts = pd.DataFrame(
        [
            {
                "rule": rule.name,
                "pairs": made.get(k, 0),
                "new_pairs": new.get(k, 0),
                "blocks_left_out": stats.get(k, (0, 0, 0))[1],
            }
            for k, rule in enumerate(rules)
        ],
        columns=["rule", "pairs", "new_pairs", "blocks_left_out"],
    )
    return SparkBlocking(pairs=first, counts=counts, cached=tuple(cached))
