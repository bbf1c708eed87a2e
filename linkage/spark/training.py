"""Training from comparison-pattern counts made by a Spark ``groupBy``.

The model's EM (:mod:`linkage.model`) works on the distinct comparison patterns of the
pairs and how many pairs have each, so only those counts (a few thousand rows, however many
pairs there are) come to the driver. The patterns are put in the order in which the local
engine first meets them (by the pairs' order key, see :mod:`linkage.spark.blocking`), so
the EM sums in the same order and its parameters are the local engine's to the last bit.
Both engines then fit with :func:`linkage.training.fit_parameters`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from linkage.model import PatternCounts
from linkage.scoring import REST
from linkage.settings import LinkageSettings
from linkage.training import Patterns

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["count_patterns", "patterns_from_counts"]

_ORDER = ("rule", "k1", "k2", "k3")


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
