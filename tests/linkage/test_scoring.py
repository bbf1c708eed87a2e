"""Match weight terms: what each level of each comparison contributes, by stratum."""

from __future__ import annotations

import numpy as np
import pytest

from linkage.scoring import REST, Graded, total_weight, weight_terms
from tests.linkage.conftest import small_model

PARAMS = small_model()


def _family_term(shared_child: int, family: int, stratum: int = REST) -> float:
    graded = Graded(
        levels=np.array([[1, shared_child]], dtype=np.int8),
        context_levels=np.array([[family]], dtype=np.int8),
        strata=np.array([stratum]),
    )
    terms = weight_terms(PARAMS, graded, {})
    assert total_weight(terms)[0] == pytest.approx(sum(float(v[0]) for v in terms.values()))
    return float(terms["family_name"][0])


@pytest.mark.parametrize(
    ("shared_child", "family", "expected"),
    [
        (0, 2, np.log2(0.05 / 0.99)),  # no stated children: a different family name counts against
        (3, 2, np.log2(0.05 / 0.99)),  # parents of different people: it still does
        (2, 2, np.log2(0.05 / 0.99)),  # parent or carer (role unknown) of one person: it still does
        (1, 2, 0.0),  # the same mother (or father) of one person: it weighs nothing
        (1, 1, np.log2(0.95 / 0.01)),  # ... and an exact family name still counts for them
        (0, 1, np.log2(0.95 / 0.01)),
        (0, 0, 0.0),  # a missing family name weighs nothing
    ],
)
def test_family_name_weight_by_shared_child_level(shared_child: int, family: int, expected: float) -> None:
    assert _family_term(shared_child, family) == pytest.approx(expected, abs=1e-5)


def test_context_weighs_nothing_inside_a_household_stratum() -> None:
    assert _family_term(0, 2, stratum=0) == 0.0
