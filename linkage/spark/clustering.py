"""Clustering scored Spark pairs on the driver, with the local constrained clustering.

:func:`linkage.clustering.cluster_pairs` needs, of all the scored pairs, only

* the edges: pairs at or above the threshold without a hard conflict, and
* the cannot-link pairs (a hard conflict, or a probability below ``cannot_link_below``)
  whose two records fall in one connected component of the edges: a cannot-link pair
  between two components never matters.

So the edges come to the driver, their connected components are found there, the
components go back to Spark (records in components of two or more only), and the
cannot-link pairs inside a component come to the driver. :func:`cluster_pairs` then runs
on exactly the pairs that decide its answer, and gives the local engine's clusters.

Driver memory: about :data:`BYTES_PER_EDGE` bytes per edge (and per cannot-link pair
inside a component) and :data:`BYTES_PER_RECORD` bytes per distinct record at the peak of
the clustering.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from linkage.clustering import Clusters, cluster_pairs

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["BYTES_PER_EDGE", "BYTES_PER_RECORD", "DeciderPairs", "cluster_spark_pairs", "deciding_pairs"]

#: Driver memory per edge (pair at or above the threshold) while clustering: 25 bytes for
#: its collected columns (two positions, a probability, a flag), about as much again for
#: Arrow's transfer buffers, and about 27 bytes at the peak of ``cluster_pairs`` (measured
#: with tracemalloc on 1 and 4 million edges over 3 million records), rounded up.
BYTES_PER_EDGE = 80
#: Driver memory per distinct record at the peak of ``cluster_pairs`` (labels, components,
#: confidence, the sparse graph's row pointers), measured as above.
BYTES_PER_RECORD = 100


@dataclass(frozen=True)
class DeciderPairs:
    """The pairs that decide the clustering: positions, probability, hard conflict."""

    left: np.ndarray
    right: np.ndarray
    probability: np.ndarray
    conflict: np.ndarray
    edges: int  # the first ``edges`` pairs are the edges


def _arrays(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return (
        frame["l"].to_numpy(dtype=np.int64),
        frame["r"].to_numpy(dtype=np.int64),
        frame["match_probability"].to_numpy(dtype=np.float64),
        frame["conflict"].to_numpy(dtype=bool),
    )


def deciding_pairs(
    spark: SparkSession,
    scored: DataFrame,
    n_records: int,
    *,
    threshold: float,
    cannot_link_below: float,
    edges: pd.DataFrame | None = None,
) -> DeciderPairs:
    """Collect the edges and the cannot-link pairs inside their components.

    ``scored`` has ``l, r, match_probability, conflict``; ``edges`` may give the edges
    already collected (they are then not asked of Spark again).
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    if edges is None:
        edges = (
            scored.where((F.col("match_probability") >= threshold) & ~F.col("conflict"))
            .select("l", "r", "match_probability", "conflict")
            .toPandas()
        )
    el, er, ep, ec = _arrays(edges)
    graph = coo_matrix((np.ones(len(el)), (el, er)), shape=(n_records, n_records))
    _, comp = connected_components(graph, directed=False)
    sizes = np.bincount(comp, minlength=int(comp.max(initial=0)) + 1)
    grouped = np.flatnonzero(sizes[comp] > 1)
    inside = pd.DataFrame(columns=["l", "r", "match_probability", "conflict"])
    if len(grouped):
        components = spark.createDataFrame(
            pd.DataFrame({"pos": grouped.astype(np.int64), "comp": comp[grouped].astype(np.int64)})
        ).persist(StorageLevel.MEMORY_AND_DISK)
        forbid = scored.where(F.col("conflict") | (F.col("match_probability") < cannot_link_below)).select(
            "l", "r", "match_probability", "conflict"
        )
        lc = F.broadcast(components.select(F.col("pos").alias("l"), F.col("comp").alias("cl")))
        rc = F.broadcast(components.select(F.col("pos").alias("r"), F.col("comp").alias("cr")))
        inside = (
            forbid.join(lc, on="l", how="inner")
            .join(rc, on="r", how="inner")
            .where(F.col("cl") == F.col("cr"))
            .select("l", "r", "match_probability", "conflict")
            .toPandas()
        )
        components.unpersist()
    fl, fr, fp, fc = _arrays(inside)
    return DeciderPairs(
        left=np.r_[el, fl],
        right=np.r_[er, fr],
        probability=np.r_[ep, fp],
        conflict=np.r_[ec, fc],
        edges=len(el),
    )


def cluster_spark_pairs(
    spark: SparkSession,
    scored: DataFrame,
    n_records: int,
    *,
    threshold: float,
    cannot_link_below: float,
    cannot_pairs: tuple[np.ndarray, np.ndarray] | None,
    edges: pd.DataFrame | None = None,
) -> Clusters:
    """The local engine's clusters of the scored Spark pairs (see the module docstring)."""
    pairs = deciding_pairs(
        spark, scored, n_records, threshold=threshold, cannot_link_below=cannot_link_below, edges=edges
    )
    return cluster_pairs(
        n_records,
        pairs.left,
        pairs.right,
        pairs.probability,
        threshold=threshold,
        cannot_link=pairs.conflict,
        cannot_link_below=cannot_link_below,
        cannot_pairs=cannot_pairs,
    )
