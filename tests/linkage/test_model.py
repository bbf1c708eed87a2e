"""The Fellegi–Sunter fit: levels the data cannot estimate weigh nothing, never a veto."""

from __future__ import annotations

import numpy as np

from linkage.model import PatternCounts, fit_household_em, fit_rest, pattern_counts


def _pairs(rows: list[tuple[int, int, int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """(stratum, level of A, level of B, how many pairs) rows as strata and levels arrays."""
    strata, levels = [], []
    for stratum, a, b, n in rows:
        strata += [stratum] * n
        levels += [(a, b)] * n
    return np.array(strata, dtype=np.int64), np.array(levels, dtype=np.int8)


# comparison A: missing, agree, different; comparison B: missing, exact, rare agreement, different
N_LEVELS = [3, 4]
U_RANDOM = [np.array([1.0, 0.01, 0.99]), np.array([1.0, 0.01, 0.001, 0.989])]


def test_an_agreement_level_no_match_shows_is_neutral_not_a_veto_or_a_windfall():
    strata, levels = _pairs([(0, 1, 1, 400), (0, 2, 3, 400), (0, 2, 2, 1)])
    m, _lam, _u, _iterations, _converged = fit_household_em(
        pattern_counts(strata, levels), N_LEVELS, U_RANDOM
    )
    weight_rare = np.log2(m[1][2] / U_RANDOM[1][2])
    assert abs(weight_rare) < 0.01
    assert m[1][1] > 0.95  # the matches' own level keeps its share
    assert abs(m[1][1:].sum() - 1.0) < 1e-9


def _rare_level_weight(matches_there: float) -> float:
    """The weight of B's rare agreement level when ``matches_there`` matching pairs show it."""
    patterns = PatternCounts(
        strata=np.zeros(3, dtype=np.int64),
        levels=np.array([[1, 1], [2, 3], [1, 2]], dtype=np.int8),
        counts=np.array([400.0, 400.0, matches_there]),
        inverse=np.zeros(0, dtype=np.int64),
    )
    m, *_ = fit_household_em(patterns, N_LEVELS, U_RANDOM)
    return float(np.log2(m[1][2] / U_RANDOM[1][2]))


def test_a_level_seen_at_few_matches_weighs_in_proportion_with_no_step_at_the_bar():
    weights = [_rare_level_weight(n) for n in (0.0, 0.5, 1.99, 2.01, 4.0)]
    assert abs(weights[0]) < 0.01  # no match there: no weight
    assert weights == sorted(weights)  # more matches seen there, more weight
    assert weights[1] < weights[-1] / 3  # a quarter of the bar: a fraction of the weight
    assert weights[3] - weights[2] < 0.1  # no step either side of MIN_LEVEL_MATCHES


def test_a_disagreement_no_match_shows_keeps_its_small_m():
    strata, levels = _pairs([(0, 1, 1, 400), (0, 2, 3, 400)])
    m, *_ = fit_household_em(pattern_counts(strata, levels), N_LEVELS, U_RANDOM)
    assert np.log2(m[0][2] / U_RANDOM[0][2]) < -5  # the disagreement of A stays strong evidence


def test_a_context_level_unseen_among_matches_is_neutral_in_the_rest():
    # person comparison A carries the evidence; context B has a level only non-matches show
    strata, levels = _pairs([(3, 1, 1, 300), (3, 2, 3, 3000), (3, 2, 2, 2)])
    patterns = pattern_counts(np.zeros(len(strata), np.int64), levels)
    person_weight = [np.array([0.0, 8.0, -8.0])]
    m_context, _lam = fit_rest(
        patterns, person_weight, [4], [U_RANDOM[1]], np.zeros(len(patterns.counts)), rest_pairs=1e6
    )
    assert abs(np.log2(m_context[0][2] / U_RANDOM[1][2])) < 0.01


def test_an_excused_context_disagreement_does_not_count_against_its_patterns_in_training():
    # context comparison: missing, exact, different; the excused patterns disagree on it
    levels = np.array([[1, 2]] * 50 + [[1, 1]] * 50, dtype=np.int8)
    patterns = pattern_counts(np.zeros(len(levels), np.int64), levels)
    person_weight = [np.array([0.0, 12.0, -6.0])]
    u_context = [np.array([1.0, 0.01, 0.99])]
    excused_all = (0, np.ones(len(patterns.counts), dtype=bool))
    plain = fit_rest(patterns, person_weight, [3], u_context, np.zeros(len(patterns.counts)), 1e6)
    excused = fit_rest(
        patterns, person_weight, [3], u_context, np.zeros(len(patterns.counts)), 1e6, excused=excused_all
    )
    # the excused disagreements weigh nothing, so more of the candidate pairs are expected
    # to match and the prior of the rest rises
    assert excused[1] > plain[1]


def test_a_checks_weights_are_capped_at_zero_in_every_stratum_and_survive_a_round_trip():
    from linkage.model import ModelParameters

    m = [np.array([1.0, 0.9, 0.1]), np.array([1.0, 0.9, 0.1])]
    u_random = [np.array([1.0, 0.3, 0.7]), np.array([1.0, 0.3, 0.7])]
    u = [np.tile([1.0, 0.2, 0.8], (3, 1)), np.tile([1.0, 0.2, 0.8], (3, 1))]
    params = ModelParameters(
        comparisons=["ordinary", "check"],
        context=[],
        m=m,
        u_random=u_random,
        lam=np.full(3, 0.1),
        u=u,
        m_context=[],
        u_context=[],
        lam_rest=1e-4,
        checks=["check"],
    )
    ordinary, check = params.person_weights()
    assert (ordinary[:, 1] > 0).all()  # agreement counts for a match ...
    assert (check[:, 1] == 0).all()  # ... but not in a check
    np.testing.assert_allclose(check[:, 2], ordinary[:, 2])  # disagreement counts against in both
    assert (check[:, 2] < 0).all()
    again = ModelParameters.from_dict(params.to_dict())
    assert again.checks == ["check"]
    np.testing.assert_array_equal(again.person_weights()[1], check)
