"""Fitting the model's parameters from comparison-pattern counts (both engines).

The EM (:mod:`linkage.model`) works on the distinct comparison patterns of the pairs and
how many pairs have each: the local engine counts them from its graded arrays
(:func:`patterns_of`), the Spark engine with a ``groupBy`` (:mod:`linkage.spark.training`),
and both fit with :func:`fit_parameters`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linkage.comparisons import RELATIONAL_COMPARISONS
from linkage.model import (
    ModelParameters,
    PatternCounts,
    excused_from_context,
    fit_household_em,
    fit_rest,
    log_ratio,
    pattern_counts,
    random_level_shares,
)
from linkage.scoring import REST, Graded, weight_terms
from linkage.settings import LinkageSettings

__all__ = ["STRANGER_BITS", "Patterns", "fit_parameters", "patterns_of", "stranger_pairs"]

#: Evidence (bits, prior aside) at or below which a random pair's other comparisons say it
#: is two different people.
STRANGER_BITS = -10.0


@dataclass(frozen=True)
class Patterns:
    """The distinct patterns of the household pairs and of the rest, as the EM takes them.

    ``household`` has the household strata and the person comparison levels; ``rest`` the
    person then the context comparison levels.
    """

    household: PatternCounts
    rest: PatternCounts
    stratum_pairs: list[float]  # household pairs per stratum H, P, C

    @property
    def household_pairs(self) -> float:
        return float(self.household.counts.sum())


def patterns_of(graded: Graded) -> Patterns:
    """The patterns of graded pairs, in the order the pairs first show them."""
    household = graded.strata < REST
    rest = ~household
    return Patterns(
        household=pattern_counts(graded.strata[household], graded.levels[household]),
        rest=pattern_counts(
            np.zeros(int(rest.sum()), np.int64),
            np.column_stack([graded.levels[rest], graded.context_levels[rest]]),
        ),
        stratum_pairs=np.bincount(graded.strata[household], minlength=REST).astype(float).tolist(),
    )


def stranger_pairs(params: ModelParameters, random_graded: Graded) -> np.ndarray:
    """The random pairs that a fitted model's other comparisons (all but the relational
    ones, the prior left out) weigh at :data:`STRANGER_BITS` or below: two different people."""
    evidence = np.zeros(len(random_graded.strata), dtype=np.float64)
    for name, values in weight_terms(params, random_graded, {}).items():
        if name != "prior" and name not in RELATIONAL_COMPARISONS:
            evidence += values
    return evidence <= STRANGER_BITS


def fit_parameters(
    patterns: Patterns,
    settings: LinkageSettings,
    random_graded: Graded,
    all_pairs: float,
    labelled: Graded | None = None,
    strangers: np.ndarray | None = None,
) -> ModelParameters:
    """Fit the model: u from random pairs, m by EM, or from labelled matches when given.

    ``random_graded`` are the random record pairs (for the u-probabilities of strangers);
    ``all_pairs`` is how many record pairs the link type compares in all; ``labelled`` the
    graded pairs an analyst labelled as matches, which set m instead of EM.

    ``strangers`` (:func:`stranger_pairs`) marks the random pairs other evidence says are
    different people; the relational comparisons take their u from those alone. The first
    clustering leaves apart some records of one person that only the relational evidence
    joins (a mother's health record holding nothing but her NHS number), so the random
    pairs it keeps apart still hold that person at the top relational levels, and their u
    would be too high. Among strangers the relational levels are independent of the other
    comparisons, as the model assumes of any two, so their u is the same.
    """
    names = [c.name for c in settings.comparisons]
    context_names = [c.name for c in settings.context]
    person_levels = [len(c.levels) for c in settings.comparisons]
    context_levels = [len(c.levels) for c in settings.context]
    u_random = random_level_shares(random_graded.levels, person_levels)
    if strangers is not None and strangers.any():
        u_strangers = random_level_shares(random_graded.levels[strangers], person_levels)
        u_random = [
            us if name in RELATIONAL_COMPARISONS else ur
            for name, ur, us in zip(names, u_random, u_strangers, strict=True)
        ]
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
    checks = [c.name for c in settings.comparisons if c.check]
    person_weight = [
        log_ratio(mj, ur, check=name in checks) for name, mj, ur in zip(names, m, u_random, strict=True)
    ]
    m_context, lam_rest = fit_rest(
        patterns.rest,
        person_weight,
        context_levels,
        u_context,
        np.zeros(len(patterns.rest.counts)),
        all_pairs - patterns.household_pairs,
        excused=excused_from_context(names, context_names, patterns.rest.levels[:, : len(names)]),
    )
    return ModelParameters(
        comparisons=names,
        context=context_names,
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
        checks=checks,
    )
