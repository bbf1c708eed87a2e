"""Training from comparison-pattern counts made by a Spark ``groupBy``.

The model's EM (:mod:`linkage.model`) works on the distinct comparison patterns of the
pairs and how many pairs have each, so only those counts (a few thousand rows, however many
pairs there are) come to the driver. The patterns are put in the order in which the local
engine first meets them (by the pairs' order key, see :mod:`linkage.spark.blocking`), so
the EM sums in the same order and its parameters are the local engine's to the last bit.
:func:`train_from_patterns` is :func:`linkage.link._train` with the patterns given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from linkage.model import (
    ModelParameters,
    PatternCounts,
    excused_from_context,
    fit_household_em,
    fit_rest,
    random_level_shares,
)
from linkage.scoring import REST, Graded
from linkage.settings import LinkageSettings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["Patterns", "count_patterns", "patterns_from_counts", "train_from_patterns"]

_ORDER = ("rule", "k1", "k2", "k3")


@dataclass(frozen=True)
class Patterns:
    """The distinct patterns of the household pairs and of the rest, as the EM takes them."""

    household: PatternCounts
    rest: PatternCounts
    stratum_pairs: list[float]  # household pairs per stratum H, P, C

    @property
    def household_pairs(self) -> float:
        return float(self.household.counts.sum())


def patterns_from_counts(counts: pd.DataFrame, settings: LinkageSettings) -> Patterns:
    """Patterns from a table of ``stratum, level_<name>..., n`` and the order key of each
    pattern's first pair (``rule, k1, k2, k3``). Household rows carry their stratum and null
    context levels; rest rows the stratum of R and their context levels."""
    person = [f"level_{c.name}" for c in settings.comparisons]
    context = [f"level_{c.name}" for c in settings.context]
    counts = counts.sort_values(list(_ORDER), kind="stable").reset_index(drop=True)
    household = counts[counts["stratum"] < REST]
    rest = counts[counts["stratum"] >= REST]
    empty_inverse = np.zeros(0, dtype=np.int64)

    def levels(frame: pd.DataFrame, names: list[str]) -> np.ndarray:
        if not len(frame):
            return np.zeros((0, len(names)), dtype=np.int8)
        return np.column_stack([frame[n].to_numpy(dtype=np.int8) for n in names])

    hh = PatternCounts(
        household["stratum"].to_numpy(dtype=np.int64),
        levels(household, person),
        household["n"].to_numpy(dtype=np.float64),
        empty_inverse,
    )
    rr = PatternCounts(
        np.zeros(len(rest), dtype=np.int64),
        levels(rest, person + context),
        rest["n"].to_numpy(dtype=np.float64),
        empty_inverse,
    )
    per_stratum = household.groupby("stratum")["n"].sum()
    stratum_pairs = [float(per_stratum.get(s, 0)) for s in range(REST)]
    return Patterns(hh, rr, stratum_pairs)


def count_patterns(graded: DataFrame, settings: LinkageSettings) -> Patterns:
    """Count the comparison patterns of graded pairs with one Spark aggregation.

    ``graded`` has the order key, ``stratum`` and a ``level_<name>`` per comparison.
    """
    from pyspark.sql import functions as F

    person = [f"level_{c.name}" for c in settings.comparisons]
    context = [f"level_{c.name}" for c in settings.context]
    household = F.col("stratum") < REST
    keyed = graded.select(
        F.when(household, F.col("stratum")).otherwise(F.lit(REST)).cast("int").alias("stratum"),
        *(F.col(c).cast("int").alias(c) for c in person),
        *(F.when(household, F.lit(None)).otherwise(F.col(c)).cast("int").alias(c) for c in context),
        F.struct(*(F.col(c) for c in _ORDER)).alias("order"),
    )
    rows = (
        keyed.groupBy("stratum", *person, *context)
        .agg(F.count(F.lit(1)).alias("n"), F.min("order").alias("first"))
        .collect()
    )
    columns = ["stratum", *person, *context, "n", *_ORDER]
    records = []
    for row in rows:
        d = row.asDict()
        first = d.pop("first")
        d.update({k: first[k] for k in _ORDER})
        records.append(d)
    table = pd.DataFrame(records, columns=columns)
    return patterns_from_counts(table, settings)


def train_from_patterns(
    patterns: Patterns,
    settings: LinkageSettings,
    random_graded: Graded,
    all_pairs: float,
    labelled: Graded | None = None,
) -> ModelParameters:
    """Fit the model from pattern counts: the local engine's training, step for step.

    ``random_graded`` are the random record pairs (for the u-probabilities of strangers);
    ``all_pairs`` is how many record pairs the link type compares in all; ``labelled`` the
    graded pairs an analyst labelled as matches, which set m instead of EM.
    """
    person_levels = [len(c.levels) for c in settings.comparisons]
    context_levels = [len(c.levels) for c in settings.context]
    u_random = random_level_shares(random_graded.levels, person_levels)
    fixed_m = random_level_shares(labelled.levels, person_levels) if labelled is not None else None
    u_context = random_level_shares(random_graded.context_levels, context_levels)

    m, lam, u, iterations, converged = fit_household_em(
        patterns.household,
        person_levels,
        u_random,
        max_iterations=settings.model.em_max_iterations,
        tolerance=settings.model.em_tolerance,
        smoothing=settings.model.smoothing,
        fixed_m=fixed_m,
    )
    person_weight = []
    for mj, ur in zip(m, u_random, strict=True):
        w = np.log2(np.maximum(mj, 1e-9)) - np.log2(np.maximum(ur, 1e-9))
        w[0] = 0.0
        person_weight.append(w)
    m_context, lam_rest = fit_rest(
        patterns.rest,
        person_weight,
        context_levels,
        u_context,
        np.zeros(len(patterns.rest.counts)),
        all_pairs - patterns.household_pairs,
        excused=excused_from_context(
            [c.name for c in settings.comparisons],
            [c.name for c in settings.context],
            patterns.rest.levels[:, : len(person_levels)],
        ),
    )
    return ModelParameters(
        comparisons=[c.name for c in settings.comparisons],
        context=[c.name for c in settings.context],
        m=m,
        u_random=u_random,
        lam=lam,
        u=u,
        m_context=m_context,
        u_context=u_context,
        lam_rest=lam_rest,
        stratum_pairs=patterns.stratum_pairs,
        iterations=iterations,
        converged=converged,
    )
