"""Fitting the model's parameters from comparison-pattern counts (both engines).

The EM (:mod:`linkage.model`) works on the distinct comparison patterns of the pairs and
how many pairs have each: the local engine counts them from its graded arrays
(:func:`patterns_of`), the Spark engine with a ``groupBy`` (:mod:`linkage.spark.training`),
and both fit with :func:`fit_parameters`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
from linkage.scoring import REST, Graded
from linkage.settings import LinkageSettings

__all__ = ["Patterns", "fit_parameters", "patterns_of"]


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


def fit_parameters(
    patterns: Patterns,
    settings: LinkageSettings,
    random_graded: Graded,
    all_pairs: float,
    labelled: Graded | None = None,
) -> ModelParameters:
    """Fit the model: u from random pairs, m by EM, or from labelled matches when given.

    ``random_graded`` are the random record pairs (for the u-probabilities of strangers);
    ``all_pairs`` is how many record pairs the link type compares in all; ``labelled`` the
    graded pairs an analyst labelled as matches, which set m instead of EM.
    """
    names = [c.name for c in settings.comparisons]
    context_names = [c.name for c in settings.context]
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
