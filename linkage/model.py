"""The Fellegi–Sunter model, with the household trap designed out.

Classic Fellegi–Sunter multiplies one likelihood ratio per field as if the fields were
independent. In safeguarding data they are not: people of one household share a family
name, a postcode and an address, and twins share a date of birth too. Multiplying the
evidence of surname, postcode, address and date of birth merges twins, and fathers with
the sons named after them (the failure measured in Splink on data like ours).

kinlink therefore treats pairs in a shared household context apart from all others:

* **Household strata** are defined by exact keys, so that every pair in them can be
  enumerated, not just the pairs a blocking rule happens to find:
  ``H`` same family name and same property; ``P`` same family name and same postcode;
  ``C`` same property, different family name (partners, step-families, lodgers).
  Inside a stratum the family name and location say nothing more; the person
  comparisons (given name, date of birth, sex, NHS number, UPN) carry the evidence, with
  their own prior ``lambda_s`` and their own u-probabilities: among *different* people of
  one household an exact date of birth (twins) or a shared given name (a son named after
  his father) is far likelier than among strangers. m is shared (a person's details agree
  with themselves wherever they live). All of this is estimated by EM over the enumerated
  pairs, which no blocking rule has filtered on a person field, so the estimates are not
  biased by blocking.
* **Everything else** (``R``) is classic Fellegi–Sunter over all pairs of records: u from
  random record pairs, m of the person comparisons from the household EM, and m of the
  family name and location with the prior ``lambda_R`` by one EM over all R pairs (the
  pairs no rule made candidates taken as no match), with term-frequency adjustments for
  names.

EM runs on counts of distinct comparison patterns, so training cost does not grow with
the number of pairs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "HOUSEHOLD_STRATA",
    "ModelParameters",
    "PatternCounts",
    "excuse",
    "excused_from_context",
    "fit_household_em",
    "fit_rest",
    "log_ratio",
    "pattern_counts",
    "random_level_shares",
]

HOUSEHOLD_STRATA = ("H", "P", "C")  # R (rest) is coded as len(HOUSEHOLD_STRATA)
STRATUM_LABELS = {
    "H": "same family name and same property",
    "P": "same family name and same postcode",
    "C": "same property, different family name",
    "R": "no shared household context",
}
_FLOOR = 1e-9
#: Pseudo-count (in pairs) added to every level when m is estimated by EM.
M_PSEUDO_PAIRS = 0.5
#: A level that EM expects fewer matching pairs at than this is not fully estimated: its
#: weight is scaled down in proportion, to nothing at none (see :func:`_neutral_unseen`).
MIN_LEVEL_MATCHES = 2.0


def log_ratio(m: np.ndarray, u: np.ndarray, *, check: bool = False) -> np.ndarray:
    """log2(m/u) of a person comparison's levels (last axis), 0 at the null level; a check's
    weights capped at 0."""
    w = np.log2(np.maximum(m, _FLOOR)) - np.log2(np.maximum(u, _FLOOR))
    w[..., 0] = 0.0
    return np.minimum(w, 0.0) if check else w


#: Two records stated (by any source) as the same parent, mother or father, of one person:
#: a family name that disagrees is not counted against them. Mothers are recorded under
#: their child's family name, and before and after a marriage or divorce; the shared child
#: already says they belong to one family. Measured on the synthetic agency data: every
#: candidate pair at that level was one person, 18 % of them with different family names.
EXCUSING_LEVEL = ("shared_child", 1)
EXCUSED_CONTEXT = "family_name"


def excused_from_context(
    comparisons: Sequence[str], context: Sequence[str], levels: np.ndarray
) -> tuple[int, np.ndarray] | None:
    """(index of the excused context comparison, mask of excused pairs), or None.

    ``levels`` are the pairs' person comparison levels, in the order of ``comparisons``.
    """
    name, level = EXCUSING_LEVEL
    if name not in comparisons or EXCUSED_CONTEXT not in context:
        return None
    return context.index(EXCUSED_CONTEXT), levels[:, list(comparisons).index(name)] == level


@dataclass(frozen=True)
class PatternCounts:
    """Distinct (stratum, levels) patterns of a set of pairs, with their counts."""

    strata: np.ndarray  # (P,)
    levels: np.ndarray  # (P, K) int8
    counts: np.ndarray  # (P,) float64
    inverse: np.ndarray  # (pairs,) pattern index of each pair


def pattern_counts(strata: np.ndarray, levels: np.ndarray) -> PatternCounts:
    """Count distinct patterns; ``levels`` is (pairs, K)."""
    radix = np.int64(int(levels.max(initial=0)) + 1)
    code = strata.astype(np.int64)
    for j in range(levels.shape[1]):
        code = code * radix + levels[:, j].astype(np.int64)
    inverse, distinct = pd.factorize(code)  # hashing: no sort of millions of pairs
    counts = np.bincount(inverse, minlength=len(distinct)).astype(np.float64)
    first = np.full(len(distinct), -1, dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(code))[::-1]
    return PatternCounts(strata[first], levels[first], counts, inverse)


def _normalise(x: np.ndarray) -> np.ndarray:
    """Normalise over the non-null levels (index 0 is the null level and is set to 1)."""
    x = np.maximum(np.asarray(x, dtype=float), 0.0)
    body = x[..., 1:]
    total = body.sum(axis=-1, keepdims=True)
    body = np.where(total > 0, body / np.where(total > 0, total, 1), 1.0 / body.shape[-1])
    return np.concatenate([np.ones_like(x[..., :1]), np.maximum(body, _FLOOR)], axis=-1)


def _neutral_unseen(m: np.ndarray, expected: np.ndarray, u: np.ndarray) -> np.ndarray:
    """m with every agreement level seen at fewer than MIN_LEVEL_MATCHES expected matches
    drawn towards its u.

    EM cannot estimate m at an agreement level (a former family name, names swapped with a
    typo) that barely occurs among the matches; left alone, m falls to the floor (a veto of
    15 bits and more against a marriage name change) or, with pseudo-counts, sits far above
    u (a windfall for an initial). Such a level's weight log2(m/u) is scaled by its expected
    matches over MIN_LEVEL_MATCHES: none weighs nothing, and there is no step at the bar (a
    step once moved "same year of birth only" from -8 bits to 0 when its expected matches
    went from 2.01 to 1.99). The others keep their shares of the rest. The last level of
    every comparison is its disagreement: one never seen among matches keeps its small m,
    which is what the data says.
    """
    m = np.asarray(m, dtype=float).copy()
    expected = np.asarray(expected, dtype=float)
    thin = expected < MIN_LEVEL_MATCHES
    thin[0] = thin[-1] = False
    if not thin.any():
        return m
    seen = ~thin
    seen[0] = False
    u_thin = np.asarray(u, dtype=float)[thin]
    share = np.maximum(expected[thin], 0.0) / MIN_LEVEL_MATCHES
    m[thin] = u_thin * (np.maximum(m[thin], _FLOOR) / u_thin) ** share
    rest = 1.0 - m[thin].sum()
    m[seen] = m[seen] / m[seen].sum() * rest
    return m


def _initial_m(n_levels: int) -> np.ndarray:
    """A starting guess: matches mostly agree exactly, seldom disagree."""
    body = np.array([0.5**i for i in range(n_levels - 1)], dtype=float)
    body[-1] = 0.02 * body.sum()
    return _normalise(np.r_[1.0, body])


def random_level_shares(levels: np.ndarray, n_levels: Sequence[int]) -> list[np.ndarray]:
    """u-probabilities from random pairs: the share of each level among non-null grades."""
    out = []
    for j, n in enumerate(n_levels):
        counts = np.bincount(levels[:, j], minlength=n).astype(float) + 0.5
        out.append(_normalise(counts))
    return out


@dataclass
class ModelParameters:
    """Fitted parameters (JSON-ready through to_dict).

    ``m``/``u_random`` per person comparison; ``lam``/``u`` per household stratum;
    ``m_context``/``u_context`` for the family name and location in the rest (R);
    ``lam_rest`` the prior of R.
    """

    comparisons: list[str]
    context: list[str]
    m: list[np.ndarray]
    u_random: list[np.ndarray]
    lam: np.ndarray  # (3,) household strata
    u: list[np.ndarray]  # per person comparison, (3, L)
    m_context: list[np.ndarray]
    u_context: list[np.ndarray]
    lam_rest: float
    stratum_pairs: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    iterations: int = 0
    converged: bool = False
    tf_base: dict[str, float] = field(default_factory=dict)
    #: Person comparisons that only weigh against a match (``Comparison.check``).
    checks: list[str] = field(default_factory=list)

    def person_weights(self) -> list[np.ndarray]:
        """log2(m/u) per person comparison, (4, L): rows H, P, C, then R; null level 0.
        A check's weights are capped at 0."""
        return [
            log_ratio(m[None, :], np.vstack([u, ur[None, :]]), check=name in self.checks)
            for name, m, u, ur in zip(self.comparisons, self.m, self.u, self.u_random, strict=True)
        ]

    def context_weights(self) -> list[np.ndarray]:
        """log2(m/u) per context comparison in R, (L,); null level 0."""
        out = []
        for m, u in zip(self.m_context, self.u_context, strict=True):
            w = np.log2(np.maximum(m, _FLOOR)) - np.log2(np.maximum(u, _FLOOR))
            w[0] = 0.0
            out.append(w)
        return out

    def prior_weights(self) -> np.ndarray:
        """log2 prior odds per stratum: H, P, C, R."""
        lam = np.clip(np.r_[self.lam, self.lam_rest], _FLOOR, 1 - _FLOOR)
        return np.log2(lam / (1 - lam))

    def to_dict(self) -> dict[str, Any]:
        def listing(names: Sequence[str], arrays: Sequence[np.ndarray]) -> dict[str, Any]:
            return {n: np.asarray(a).tolist() for n, a in zip(names, arrays, strict=True)}

        return {
            "comparisons": list(self.comparisons),
            "context": list(self.context),
            "m": listing(self.comparisons, self.m),
            "u_random": listing(self.comparisons, self.u_random),
            "household_strata": {s: STRATUM_LABELS[s] for s in HOUSEHOLD_STRATA},
            "lambda": self.lam.tolist(),
            "u": listing(self.comparisons, self.u),
            "m_context": listing(self.context, self.m_context),
            "u_context": listing(self.context, self.u_context),
            "lambda_rest": self.lam_rest,
            "stratum_pairs": list(self.stratum_pairs),
            "iterations": self.iterations,
            "converged": self.converged,
            "tf_base": dict(self.tf_base),
            "checks": list(self.checks),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ModelParameters:
        comps, ctx = list(d["comparisons"]), list(d["context"])
        arr = np.asarray
        return cls(
            comparisons=comps,
            context=ctx,
            m=[arr(d["m"][c], dtype=float) for c in comps],
            u_random=[arr(d["u_random"][c], dtype=float) for c in comps],
            lam=arr(d["lambda"], dtype=float),
            u=[arr(d["u"][c], dtype=float) for c in comps],
            m_context=[arr(d["m_context"][c], dtype=float) for c in ctx],
            u_context=[arr(d["u_context"][c], dtype=float) for c in ctx],
            lam_rest=float(d["lambda_rest"]),
            stratum_pairs=[float(x) for x in d.get("stratum_pairs", [0, 0, 0])],
            iterations=int(d.get("iterations", 0)),
            converged=bool(d.get("converged", False)),
            tf_base={str(k): float(v) for k, v in (d.get("tf_base") or {}).items()},
            checks=[str(c) for c in d.get("checks", [])],
        )


def fit_household_em(
    patterns: PatternCounts,
    n_levels: Sequence[int],
    u_random: Sequence[np.ndarray],
    *,
    max_iterations: int = 200,
    tolerance: float = 1e-6,
    smoothing: float = 20.0,
    fixed_m: Sequence[np.ndarray] | None = None,
) -> tuple[list[np.ndarray], np.ndarray, list[np.ndarray], int, bool]:
    """EM over every pair of the household strata: (m, lambda per stratum, u per stratum).

    u of each stratum is shrunk towards the random-pair u with the weight of ``smoothing``
    pairs, so a stratum with few non-matches keeps the u of strangers; ``fixed_m`` keeps m
    as given (training from labelled pairs).
    """
    n_strata = len(HOUSEHOLD_STRATA)
    levels, counts, strata = patterns.levels, patterns.counts, patterns.strata.astype(np.int64)
    k = levels.shape[1]
    anchor = [_normalise(u) for u in u_random]
    m = [np.asarray(x, float) for x in fixed_m] if fixed_m is not None else [_initial_m(n) for n in n_levels]
    u = [np.tile(a, (n_strata, 1)) for a in anchor]
    lam = np.full(n_strata, 0.5)
    p_prev = np.zeros(len(counts))
    iterations, converged = 0, False
    if len(counts) == 0:
        return m, lam, u, 0, True
    for iterations in range(1, max_iterations + 1):  # noqa: B007 - the count is reported
        logit = np.log(lam[strata]) - np.log1p(-lam[strata])
        for j in range(k):
            lv = levels[:, j]
            logit += np.log(m[j][lv]) - np.log(u[j][strata, lv])
        p = 1.0 / (1.0 + np.exp(-np.clip(logit, -700, 700)))
        cp, cq = counts * p, counts * (1 - p)
        total_s = np.bincount(strata, weights=counts, minlength=n_strata)
        match_s = np.bincount(strata, weights=cp, minlength=n_strata)
        lam = np.clip((match_s + 1.0) / (total_s + 2.0), 1e-6, 1 - 1e-6)
        for j in range(k):
            lv = levels[:, j]
            if fixed_m is None:
                # half a pair's worth on every level: a level EM saw no match at gets a small m,
                # not a floor of 1e-9 that would make it a veto (-20 bits and more)
                m[j] = _normalise(np.bincount(lv, weights=cp, minlength=n_levels[j]) + M_PSEUDO_PAIRS)
            per_stratum = np.zeros((n_strata, n_levels[j]))
            np.add.at(per_stratum, (strata, lv), cq)
            per_stratum[:, 0] = 0
            u[j] = _normalise(per_stratum + smoothing * anchor[j][None, :])
        change = float(np.max(np.abs(p - p_prev)))
        p_prev = p
        if change < tolerance:
            converged = True
            break
    if fixed_m is None:
        cp = counts * p_prev
        m = [
            _neutral_unseen(m[j], np.bincount(levels[:, j], weights=cp, minlength=n_levels[j]), anchor[j])
            for j in range(k)
        ]
    return m, lam, u, iterations, converged


def excuse(weights: np.ndarray, excused: tuple[int, np.ndarray] | None, j: int) -> None:
    """Set to 0, in place, the negative ``weights`` of context comparison ``j`` its excused pairs have."""
    if excused is not None and excused[0] == j:
        weights[excused[1] & (weights < 0)] = 0.0


def _context_log_ratio(
    m: np.ndarray, u: np.ndarray, lv: np.ndarray, excused: tuple[int, np.ndarray] | None, j: int
) -> np.ndarray:
    """ln(m/u) of context comparison ``j`` per pattern: 0 at its null level and where excused."""
    w = np.log(m[lv]) - np.log(u[lv])
    w[lv == 0] = 0.0
    excuse(w, excused, j)
    return w


def fit_rest(
    patterns: PatternCounts,
    person_weight: Sequence[np.ndarray],
    context_levels: Sequence[int],
    u_context: Sequence[np.ndarray],
    tf_weight: np.ndarray,
    rest_pairs: float,
    *,
    max_iterations: int = 200,
    tolerance: float = 1e-7,
    excused: tuple[int, np.ndarray] | None = None,
) -> tuple[list[np.ndarray], float]:
    """m of the context comparisons and the prior of R.

    ``patterns`` are the candidate pairs of R with levels (person..., context...); their
    ``person_weight`` (log2 m/u of the person comparisons, from the household EM) and
    ``tf_weight`` (per pattern) are fixed. EM over *all* ``rest_pairs`` R pairs, as the
    u-probabilities come from all pairs: the pairs no rule made candidates are taken as no
    match, so the prior is the expected matches among the candidates over all R pairs.

    An EM over the candidates alone, with a prior of its own, is inconsistent with those u:
    blocked on names, the candidates share family names and places far more often than
    random pairs do, and at a million records it took 42 % of them for matches, leaving the
    location's m equal to its u (no evidence) where the truth is 4 bits apart.
    """
    levels, counts = patterns.levels, patterns.counts
    k_person = len(person_weight)
    fixed = np.zeros(len(counts))
    for j in range(k_person):
        fixed += person_weight[j][levels[:, j]] * np.log(2)
    fixed += tf_weight * np.log(2)
    m = [_initial_m(n) for n in context_levels]
    uc = [np.asarray(u, float) for u in u_context]
    all_pairs = max(rest_pairs, float(counts.sum()), 1.0)
    lam = float(np.clip(counts.sum() / all_pairs * 0.5, 1e-12, 0.5))
    cp = counts * 0.0
    for _ in range(max_iterations):
        logit = np.log(lam) - np.log1p(-lam) + fixed
        for j in range(len(context_levels)):
            logit += _context_log_ratio(m[j], uc[j], levels[:, k_person + j], excused, j)
        p = 1.0 / (1.0 + np.exp(-np.clip(logit, -700, 700)))
        cp = counts * p
        new_m = [
            _normalise(np.bincount(levels[:, k_person + j], weights=cp, minlength=n))
            for j, n in enumerate(context_levels)
        ]
        lam = float(np.clip(cp.sum() / all_pairs, 1e-12, 0.5))
        delta = max(float(np.max(np.abs(a - b))) for a, b in zip(new_m, m, strict=True)) if m else 0.0
        m = new_m
        if delta < tolerance:
            break
    m = [
        _neutral_unseen(m[j], np.bincount(levels[:, k_person + j], weights=cp, minlength=n), uc[j])
        for j, n in enumerate(context_levels)
    ]
    # the prior again, with the m the data can estimate (a fixed point)
    base = fixed.copy()
    for j, _n in enumerate(context_levels):
        base += _context_log_ratio(m[j], uc[j], levels[:, k_person + j], excused, j)
    for _ in range(200):
        p = 1.0 / (1.0 + np.exp(-np.clip(np.log(lam) - np.log1p(-lam) + base, -700, 700)))
        new = float(np.clip((counts * p).sum() / all_pairs, 1e-12, 0.5))
        if abs(new - lam) <= 1e-6 * lam:
            lam = new
            break
        lam = new
    return m, lam
