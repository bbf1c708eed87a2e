"""Specification of the sex standardiser (ingest.standardise.sex)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.errors import SettingsError
from ingest.standardise import DEFAULT_SEX_CODES, standardise_sex

PROPERTY_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

values = st.one_of(
    st.none(),
    st.just(math.nan),
    st.text(),
    st.sampled_from([*DEFAULT_SEX_CODES, "male ", " f", "Not  known", "n/k", "?"]),
)


@st.composite
def series(draw: st.DrawFn, elements: st.SearchStrategy[Any] = values) -> pd.Series:
    """An object Series with an arbitrary (possibly duplicated, unordered) integer index."""
    data = draw(st.lists(elements, max_size=12))
    index = draw(st.lists(st.integers(-3, 3), min_size=len(data), max_size=len(data)))
    return pd.Series(data, index=index, dtype=object)


def _one(value: Any) -> pd.Series:
    return pd.Series([value], dtype=object)


SEX_CASES = [
    {"description": "M", "value": "M", "code_map": None, "sex": "M", "unmapped": False},
    {
        "description": "male, any case",
        "value": "mAlE",
        "code_map": None,
        "sex": "M",
        "unmapped": False,
    },
    {"description": "1 is male", "value": "1", "code_map": None, "sex": "M", "unmapped": False},
    {"description": "boy is male", "value": "Boy", "code_map": None, "sex": "M", "unmapped": False},
    {"description": "F, stripped", "value": " f ", "code_map": None, "sex": "F", "unmapped": False},
    {"description": "female", "value": "Female", "code_map": None, "sex": "F", "unmapped": False},
    {"description": "2 is female", "value": "2", "code_map": None, "sex": "F", "unmapped": False},
    {
        "description": "girl is female",
        "value": "GIRL",
        "code_map": None,
        "sex": "F",
        "unmapped": False,
    },
    {"description": "X", "value": "x", "code_map": None, "sex": "X", "unmapped": False},
    {"description": "I is X", "value": "I", "code_map": None, "sex": "X", "unmapped": False},
    {
        "description": "indeterminate is X",
        "value": "Indeterminate",
        "code_map": None,
        "sex": "X",
        "unmapped": False,
    },
    {
        "description": "other is X",
        "value": "other",
        "code_map": None,
        "sex": "X",
        "unmapped": False,
    },
    {"description": "9 is X", "value": "9", "code_map": None, "sex": "X", "unmapped": False},
    {
        "description": "U is known-unknown",
        "value": "U",
        "code_map": None,
        "sex": None,
        "unmapped": False,
    },
    {
        "description": "unknown is known-unknown",
        "value": "Unknown",
        "code_map": None,
        "sex": None,
        "unmapped": False,
    },
    {
        "description": "0 is known-unknown",
        "value": "0",
        "code_map": None,
        "sex": None,
        "unmapped": False,
    },
    {
        "description": "not known, whitespace collapsed",
        "value": "Not   Known",
        "code_map": None,
        "sex": None,
        "unmapped": False,
    },
    {"description": "N/K", "value": "n/k", "code_map": None, "sex": None, "unmapped": False},
    {
        "description": "unrecognised code is flagged",
        "value": "?",
        "code_map": None,
        "sex": None,
        "unmapped": True,
    },
    {
        "description": "unrecognised word is flagged",
        "value": "woman",
        "code_map": None,
        "sex": None,
        "unmapped": True,
    },
    {
        "description": "missing is not flagged",
        "value": None,
        "code_map": None,
        "sex": None,
        "unmapped": False,
    },
    {
        "description": "blank is not flagged",
        "value": "  ",
        "code_map": None,
        "sex": None,
        "unmapped": False,
    },
    {
        "description": "code map used",
        "value": "W",
        "code_map": {"W": "F"},
        "sex": "F",
        "unmapped": False,
    },
    {
        "description": "code map keys compared case-insensitively",
        "value": "w",
        "code_map": {"W": "F"},
        "sex": "F",
        "unmapped": False,
    },
    {
        "description": "code map key lower case",
        "value": "W",
        "code_map": {"w": "F"},
        "sex": "F",
        "unmapped": False,
    },
    {
        "description": "code map checked before defaults",
        "value": "1",
        "code_map": {"1": "F"},
        "sex": "F",
        "unmapped": False,
    },
    {
        "description": "code map to null is known, not flagged",
        "value": "9",
        "code_map": {"9": None},
        "sex": None,
        "unmapped": False,
    },
    {
        "description": "code map target may be a default code",
        "value": "W",
        "code_map": {"W": "female"},
        "sex": "F",
        "unmapped": False,
    },
    {
        "description": "defaults still apply with a code map",
        "value": "Male",
        "code_map": {"W": "F"},
        "sex": "M",
        "unmapped": False,
    },
]


@pytest.mark.parametrize("case", SEX_CASES, ids=[c["description"] for c in SEX_CASES])
def test_standardise_sex(case: dict[str, Any]) -> None:
    out = standardise_sex(_one(case["value"]), code_map=case["code_map"])
    assert list(out.columns) == ["sex", "unmapped"]
    assert out["unmapped"].dtype == bool
    assert out["sex"].tolist() == [case["sex"]]
    assert out["unmapped"].tolist() == [case["unmapped"]]


def test_a_code_map_target_that_means_nothing_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="'W'"):
        standardise_sex(_one("W"), code_map={"W": "woman"})


def test_default_codes_cannot_be_changed() -> None:
    with pytest.raises(TypeError):
        DEFAULT_SEX_CODES["Q"] = "M"  # type: ignore[index]


@PROPERTY_SETTINGS
@given(series())
def test_standardise_sex_never_raises_and_keeps_index(s: pd.Series) -> None:
    out = standardise_sex(s, code_map={"W": "F", "9": None})
    assert out.index.equals(s.index)
    assert set(out["sex"].dropna()) <= {"M", "F", "X"}
    assert not (out["unmapped"] & out["sex"].notna()).any()
    again = standardise_sex(out["sex"])
    assert again["sex"].tolist() == out["sex"].tolist()
    assert not again["unmapped"].any()
