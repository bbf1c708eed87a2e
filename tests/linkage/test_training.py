"""Fitting: the u-probabilities of the relational comparisons come from strangers."""

from __future__ import annotations

import numpy as np
import pytest

from linkage.scoring import REST, Graded
from linkage.settings import LinkageSettings
from linkage.training import STRANGER_BITS, fit_parameters, patterns_of, stranger_pairs
from tests.linkage.conftest import small_model

PARAMS = small_model(given_different_m=0.001)  # names that differ: -10 bits
GIVEN_DIFFERENT = np.log2(0.001 / 0.99)
FAMILY_DIFFERENT = np.log2(0.05 / 0.99)


@pytest.mark.parametrize(
    ("given", "shared_child", "family", "stranger"),
    [
        (2, 3, 2, True),  # names disagree: a stranger, whatever the shared child says
        (2, 0, 2, True),
        (2, 1, 2, False),  # the same mother of one person: her family name may differ (excused)
        (0, 1, 0, False),  # nothing known but the shared child (the prior is not evidence)
        (1, 1, 2, False),  # the given name agrees
        (2, 3, 0, False),  # one disagreement is not enough
    ],
)
def test_a_random_pair_is_a_stranger_when_its_other_evidence_says_so(given, shared_child, family, stranger):
    assert GIVEN_DIFFERENT + FAMILY_DIFFERENT <= STRANGER_BITS < GIVEN_DIFFERENT
    graded = Graded(
        levels=np.array([[given, shared_child]], dtype=np.int8),
        context_levels=np.array([[family]], dtype=np.int8),
        strata=np.array([REST]),
    )
    assert stranger_pairs(PARAMS, graded).tolist() == [stranger]


def _random_pairs(settings: LinkageSettings) -> tuple[Graded, np.ndarray]:
    """Random pairs of the default model: 9,000 that disagree on everything (a fifth of them
    parents of different people), and 100 of one person the first clustering left apart,
    known only by a shared child. The mask marks the first as strangers."""
    names = [c.name for c in settings.comparisons]
    context = [c.name for c in settings.context]
    different = [len(c.levels) - 1 for c in settings.comparisons]
    levels = np.zeros((9_100, len(names)), dtype=np.int8)
    levels[:9_000] = different
    for name in ("shared_child", "child_at_home", "stated_age"):
        levels[:9_000, names.index(name)] = 0
    levels[:1_800, names.index("shared_child")] = different[names.index("shared_child")]
    levels[9_000:, names.index("shared_child")] = 1
    context_levels = np.zeros((9_100, len(context)), dtype=np.int8)
    context_levels[:9_000] = [len(c.levels) - 1 for c in settings.context]
    graded = Graded(levels, context_levels, np.full(9_100, REST))
    return graded, np.arange(9_100) < 9_000


def test_relational_u_comes_from_strangers_and_the_other_u_from_all_random_pairs():
    settings = LinkageSettings.load()
    graded, strangers = _random_pairs(settings)
    patterns = patterns_of(graded)
    plain = fit_parameters(patterns, settings, graded, all_pairs=1e6)
    fitted = fit_parameters(patterns, settings, graded, all_pairs=1e6, strangers=strangers)
    j = plain.comparisons.index("shared_child")
    # among all random pairs with stated children, 100 of 1,900 share one; among strangers none
    assert plain.u_random[j][1] == pytest.approx(100.5 / 1_902.5)
    assert fitted.u_random[j][1] == pytest.approx(0.5 / 1_802.5)
    for k, name in enumerate(plain.comparisons):
        if name not in ("shared_child", "child_at_home"):
            assert np.array_equal(plain.u_random[k], fitted.u_random[k]), name
