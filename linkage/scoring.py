"""Scoring graded pairs: strata, match weights, probabilities, and their explanation.

A pair's match weight (in bits) is the sum of: the prior of its stratum, log2(m/u) of
each person comparison's level (u of that stratum), and, outside the household strata,
log2(m/u) of the family name and location levels, the term-frequency adjustments and
what a shared given name already says about sex and age (:mod:`linkage.name_ties`)
(a family name that disagrees weighs nothing for two records stated as the same parent of
one person: :data:`linkage.model.EXCUSING_LEVEL`).
:func:`weight_terms` keeps every term apart, so an explanation sums to exactly the match
weight that was used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from linkage.comparisons import Comparison, PairView
from linkage.model import HOUSEHOLD_STRATA, ModelParameters, excuse, excused_from_context

__all__ = [
    "REST",
    "Graded",
    "assign_strata",
    "grade_pairs",
    "probability",
    "tf_adjustments",
    "total_weight",
    "weight_terms",
]

REST = len(HOUSEHOLD_STRATA)  # stratum code of R


@dataclass(frozen=True)
class Graded:
    """Levels of every comparison for a set of pairs, and their stratum (0..2 household, 3 R)."""

    levels: np.ndarray  # (pairs, K) person comparison levels
    context_levels: np.ndarray  # (pairs, C): family_name, location
    strata: np.ndarray  # (pairs,)


def assign_strata(context_levels: np.ndarray, enumerated: np.ndarray) -> np.ndarray:
    """H, P, C for pairs of an enumerated household block with the matching levels, else R.

    ``context_levels`` columns are (family_name, location); family level 1 is 'exact',
    location level 1 'same property' and 2 'same postcode'.
    """
    fam, loc = context_levels[:, 0], context_levels[:, 1]
    strata = np.full(len(fam), REST, dtype=np.int64)
    same_family = fam == 1
    strata[enumerated & same_family & (loc == 2)] = 1
    strata[enumerated & ~same_family & (loc == 1)] = 2
    strata[enumerated & same_family & (loc == 1)] = 0
    return strata


def grade_pairs(
    view: PairView,
    comparisons: Sequence[Comparison],
    context: Sequence[Comparison],
    enumerated: np.ndarray,
) -> Graded:
    n = len(view)
    levels = np.empty((n, len(comparisons)), dtype=np.int8)
    for j, c in enumerate(comparisons):
        levels[:, j] = c.grade(view)
    ctx = np.empty((n, len(context)), dtype=np.int8)
    for j, c in enumerate(context):
        ctx[:, j] = c.grade(view)
    return Graded(levels, ctx, assign_strata(ctx, enumerated))


def tf_adjustments(
    view: PairView,
    graded: Graded,
    comparisons: Sequence[Comparison],
    context: Sequence[Comparison],
    frequencies: Mapping[str, pd.Series],
    tf_base: Mapping[str, float],
    enabled: Sequence[str],
    max_adjustment: float,
) -> dict[str, np.ndarray]:
    """Term-frequency adjustment (bits) per enabled comparison, for R pairs at its exact level.

    Agreeing on a value held by a share ``tf`` of records is adjusted by log2(base / tf),
    where ``base`` is the chance two random records agree: rare names count for more,
    common ones for less. Inside a household stratum a shared name says nothing about how
    rare it is, so no adjustment is made there.
    """
    out: dict[str, np.ndarray] = {}
    level_cols = {c.name: graded.levels[:, j] for j, c in enumerate(comparisons)}
    level_cols.update({c.name: graded.context_levels[:, j] for j, c in enumerate(context)})
    rest = graded.strata == REST
    for comp in (*comparisons, *context):
        if comp.name not in enabled or comp.tf_column is None or not comp.tf_levels:
            continue
        freq = frequencies.get(comp.tf_column)
        if freq is None or comp.name not in tf_base:
            continue
        at_level = rest & np.isin(level_cols[comp.name], comp.tf_levels)
        share = view.record_lookup(comp.tf_column, freq)
        cl, _ = view.codes(comp.tf_column)
        adj = np.zeros(len(view), dtype=np.float64)
        idx = np.flatnonzero(at_level & (cl >= 0))
        adj[idx] = np.log2(tf_base[comp.name] / np.maximum(share[cl[idx]], 1e-12))
        out[comp.name] = np.clip(adj, -max_adjustment, max_adjustment)
    return out


def weight_terms(
    params: ModelParameters, graded: Graded, tf: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Every additive term of the match weight, by name (``prior``, each comparison, ``tf_*``)."""
    strata = graded.strata
    terms = {"prior": params.prior_weights().astype(np.float32)[strata]}
    for j, (name, table) in enumerate(zip(params.comparisons, params.person_weights(), strict=True)):
        flat = table.astype(np.float32).ravel()
        terms[name] = flat[strata * table.shape[1] + graded.levels[:, j]]
    rest = strata == REST
    excused = excused_from_context(params.comparisons, params.context, graded.levels)
    for j, (name, table) in enumerate(zip(params.context, params.context_weights(), strict=True)):
        values = table.astype(np.float32)[graded.context_levels[:, j]]
        values[~rest] = 0.0
        excuse(values, excused, j)
        terms[name] = values
    for name, adj in tf.items():
        terms[f"tf_{name}"] = adj.astype(np.float32)
    return terms


def total_weight(terms: Mapping[str, np.ndarray]) -> np.ndarray:
    """The match weight: the sum of the terms, accumulated in float64."""
    arrays = list(terms.values())
    total = np.zeros(len(arrays[0]) if arrays else 0, dtype=np.float64)
    for values in arrays:
        total += values
    return total


def probability(weight: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp2(-np.clip(weight, -1000, 1000)))
