"""What a shared given name already says about sex and age is not counted twice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.errors import SettingsError
from linkage.link import prepare_for_linkage
from linkage.name_ties import adjustment_label, name_tie_adjustments, name_ties, tie_term
from linkage.prepare import prepare_records
from linkage.scorer import PairScorer
from linkage.scoring import REST
from linkage.settings import LinkageSettings, ModelSettings
from tests.linkage.conftest import make_records

TIES = {"sex": "sex", "dob": "birth_year", "dob_estimated": "birth_year"}
FAMILIES = [f"FAMILY{i}" for i in range(40)]


def _bearers(name: str, sexes: list[str], years: list[int]) -> list[dict]:
    """One record per bearer of ``name``, each of another family."""
    return [
        {"given": name, "family": FAMILIES[i], "sex": sx, "dob": f"{y}-06-01"}
        for i, (sx, y) in enumerate(zip(sexes, years, strict=True))
    ]


def _population() -> pd.DataFrame:
    return prepare_records(make_records(_population_rows()))


def _population_rows() -> list[dict]:
    """Olivia: 30 women born within four years. Sam: 30 people, half men, born over 60
    years. Others: 200 people of all ages and both sexes, under 100 other names."""
    rng = np.random.default_rng(3)
    rows = _bearers("Olivia", ["F"] * 30, list(rng.integers(2010, 2014, 30)))
    rows += _bearers("Sam", ["M", "F"] * 15, list(range(1950, 2010, 2)))
    rows += [
        {
            "given": f"Name{i % 100}",
            "family": f"OTHER{i}",
            "sex": "MF"[i % 2],
            "dob": f"{1940 + int(rng.integers(0, 80))}-01-01",
        }
        for i in range(200)
    ]
    return rows


def test_a_name_borne_only_by_women_says_their_sex_and_a_fashionable_name_their_age():
    ties = name_ties(_population(), TIES)
    assert ties is not None
    sex, born = ties.bits["sex"], ties.bits["birth_year"]
    assert sex["OLIVIA"] < -0.8  # two random people share a sex half the time; two Olivias always
    assert sex["SAM"] == pytest.approx(0.0, abs=0.1)
    assert born["OLIVIA"] < -2.0  # born within two years: far likelier among Olivias
    assert born["SAM"] == 0.0  # spread as widely as everyone: no tie (and never above 0)


def test_a_persons_own_records_and_a_son_named_after_his_father_are_not_strangers_sharing_a_name():
    rows = [{"given": "Zed", "family": "ONE", "sex": "M", "dob": "2001-01-01"}] * 5
    rows += [{"given": "Zed", "family": "ONE", "sex": "M", "dob": "1975-01-01"}]
    rows += [
        {"given": f"N{i}", "family": f"F{i}", "sex": "MF"[i % 2], "dob": f"{1950 + i}-01-01"}
        for i in range(60)
    ]
    ties = name_ties(prepare_records(make_records(rows)), TIES)
    assert ties is not None
    assert ties.bits["sex"]["ZED"] == 0.0
    assert ties.bits["birth_year"]["ZED"] == 0.0


# (description, given-name level, sex level, dob level, stratum, adjusted?)
ADJUSTED_CASES = [
    ("given names exact, sex agrees", 1, 1, 0, REST, {"sex"}),
    ("given names exact, sex and date of birth agree", 1, 1, 1, REST, {"sex", "dob"}),
    ("a nickname", 4, 1, 4, REST, {"sex", "dob"}),
    ("given names differ: no tie", 11, 1, 1, REST, set()),
    ("sex differs: its weight is left as it is", 1, 2, 0, REST, set()),
    ("dates of birth differ", 1, 0, 5, REST, set()),
    ("a household stratum", 1, 1, 1, 0, set()),
]


@pytest.mark.parametrize(("description", "given_level", "sex", "dob", "stratum", "adjusted"), ADJUSTED_CASES)
def test_only_pairs_of_one_given_name_that_agree_are_adjusted(
    description, given_level, sex, dob, stratum, adjusted
):
    prepared = _population()
    settings = LinkageSettings.load()
    scorer = PairScorer(prepared, settings, set())
    names = [c.name for c in settings.comparisons]
    levels = np.zeros((1, len(names)), dtype=np.int8)
    levels[0, names.index("given_name")] = given_level
    levels[0, names.index("sex")] = sex
    levels[0, names.index("dob")] = dob
    view = scorer.view(np.array([0]), np.array([1]))  # two Olivias
    out = name_tie_adjustments(view, levels, np.array([stratum]), settings.comparisons, scorer.ties, REST)
    assert set(out) == {tie_term(n) for n in ("sex", "dob", "dob_estimated")}
    got = {name for name in ("sex", "dob") if out[tie_term(name)][0] < 0}
    assert got == adjusted, description


def test_the_scorer_adds_the_ties_to_the_term_frequency_adjustments():
    prepared, _, _ = prepare_for_linkage(make_records(_population_rows()))
    scorer = PairScorer(prepared, LinkageSettings.load(), set())
    view = scorer.view(np.array([0]), np.array([1]))
    adjustments = scorer.adjustments(view, scorer.grade(view, household=False))
    assert list(adjustments) == [
        "given_name",
        "family_name",
        tie_term("dob"),
        tie_term("dob_estimated"),
        tie_term("sex"),
    ]
    assert adjustments[tie_term("sex")][0] < -0.8
    assert adjustments[tie_term("dob")][0] < -0.8
    assert adjustments[tie_term("dob_estimated")][0] == 0.0  # neither date is estimated


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Ann", "Bo", "Cy", None]),
            st.sampled_from(["X", "Y", "Z", None]),
            st.sampled_from(["M", "F", None]),
            st.one_of(st.none(), st.integers(1900, 2025)),
        ),
        max_size=40,
    )
)
def test_a_tie_only_ever_weakens_the_evidence_and_is_finite(rows):
    records = make_records(
        [{"given": g, "family": f, "sex": s, "dob": f"{y}-01-01" if y else None} for g, f, s, y in rows]
    )
    ties = name_ties(prepare_records(records), TIES)
    if ties is not None:
        for bits in ties.bits.values():
            assert np.isfinite(bits.to_numpy()).all()
            assert (bits.to_numpy() <= 0).all()


def test_settings_name_the_tied_comparisons_and_refuse_an_unknown_kind():
    model = ModelSettings.from_dict({"given_name_ties": {"sex": "sex"}})
    assert dict(model.given_name_ties) == {"sex": "sex"}
    assert ModelSettings.from_dict(model.to_dict()) == model
    assert ModelSettings.from_dict({"given_name_ties": {}}).given_name_ties == ()
    with pytest.raises(SettingsError, match="unknown kind"):
        ModelSettings.from_dict({"given_name_ties": {"sex": "height"}})


def test_an_explanation_says_what_a_tie_is():
    assert adjustment_label("tf_given_name") == "term-frequency adjustment"
    assert "given name already says" in adjustment_label(f"tf_{tie_term('sex')}")
