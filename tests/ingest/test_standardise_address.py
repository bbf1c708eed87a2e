"""Specification of the address standardiser (ingest.standardise.address)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.standardise import ADDRESS_ABBREVIATIONS, standardise_address

PROPERTY_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ADDRESS_WORDS = [*ADDRESS_ABBREVIATIONS, "ST", "Flat", "12a", "Rd.", "st.", "'s", ",", "-", "Zoë"]
values = st.one_of(
    st.none(),
    st.just(math.nan),
    st.text(),
    st.lists(st.sampled_from(ADDRESS_WORDS), max_size=6).map(" ".join),
)


@st.composite
def series(draw: st.DrawFn, elements: st.SearchStrategy[Any] = values) -> pd.Series:
    """An object Series with an arbitrary (possibly duplicated, unordered) integer index."""
    data = draw(st.lists(elements, max_size=12))
    index = draw(st.lists(st.integers(-3, 3), min_size=len(data), max_size=len(data)))
    return pd.Series(data, index=index, dtype=object)


def _one(value: Any) -> pd.Series:
    return pd.Series([value], dtype=object)


ADDRESS_CASES = [
    {
        "description": "upper-cased, whitespace collapsed",
        "value": " 14  high\tstreet ",
        "expected": "14 HIGH ST",
    },
    {
        "description": "punctuation becomes space",
        "value": "14, Mill Lane; Leeds",
        "expected": "14 MILL LANE LEEDS",
    },
    {
        "description": "hyphenated number range split",
        "value": "12-14 Mill Lane",
        "expected": "12 14 MILL LANE",
    },
    {"description": "apostrophe removed", "value": "St John's Rd", "expected": "ST JOHNS ROAD"},
    {"description": "accents folded", "value": "1 Rue Gérôme", "expected": "1 RUE GEROME"},
    {"description": "RD", "value": "1 Mill Rd", "expected": "1 MILL ROAD"},
    {"description": "RD with period", "value": "1 Mill Rd.", "expected": "1 MILL ROAD"},
    {"description": "AVE", "value": "1 Elm Ave", "expected": "1 ELM AVENUE"},
    {"description": "AV", "value": "1 Elm Av", "expected": "1 ELM AVENUE"},
    {"description": "CL", "value": "1 Elm Cl", "expected": "1 ELM CLOSE"},
    {"description": "CRES", "value": "1 Elm Cres", "expected": "1 ELM CRESCENT"},
    {"description": "DR", "value": "1 Elm Dr", "expected": "1 ELM DRIVE"},
    {"description": "GDNS", "value": "1 Elm Gdns", "expected": "1 ELM GARDENS"},
    {"description": "LN", "value": "1 Elm Ln", "expected": "1 ELM LANE"},
    {"description": "PL", "value": "1 Elm Pl", "expected": "1 ELM PLACE"},
    {"description": "SQ", "value": "1 Elm Sq", "expected": "1 ELM SQUARE"},
    {"description": "TER", "value": "1 Elm Ter", "expected": "1 ELM TERRACE"},
    {"description": "TERR", "value": "1 Elm Terr", "expected": "1 ELM TERRACE"},
    {"description": "CT", "value": "1 Elm Ct", "expected": "1 ELM COURT"},
    {"description": "GRN", "value": "1 Elm Grn", "expected": "1 ELM GREEN"},
    {"description": "FLT", "value": "Flt 2, 1 Elm Rd", "expected": "FLAT 2 1 ELM ROAD"},
    {"description": "APT", "value": "Apt 2, 1 Elm Rd", "expected": "FLAT 2 1 ELM ROAD"},
    {"description": "APARTMENT", "value": "Apartment 2", "expected": "FLAT 2"},
    {"description": "ST is kept (Street or Saint)", "value": "1 High St", "expected": "1 HIGH ST"},
    {"description": "STREET shortened to ST", "value": "1 High Street", "expected": "1 HIGH ST"},
    {
        "description": "SAINT shortened to ST",
        "value": "Saint Ann's Ct",
        "expected": "ST ANNS COURT",
    },
    {
        "description": "only whole words replaced",
        "value": "1 Drayton Rdg",
        "expected": "1 DRAYTON RDG",
    },
    {
        "description": "abbreviation at the start replaced",
        "value": "Ct House",
        "expected": "COURT HOUSE",
    },
    {
        "description": "control characters become space",
        "value": "1\x00Elm\x1fRd",
        "expected": "1 ELM ROAD",
    },
    {"description": "punctuation only is missing", "value": " ,.- ", "expected": None},
    {"description": "blank is missing", "value": " ", "expected": None},
    {"description": "None is missing", "value": None, "expected": None},
    {"description": "NaN is missing", "value": math.nan, "expected": None},
]


@pytest.mark.parametrize("case", ADDRESS_CASES, ids=[c["description"] for c in ADDRESS_CASES])
def test_standardise_address(case: dict[str, Any]) -> None:
    assert standardise_address(_one(case["value"])).tolist() == [case["expected"]]


@PROPERTY_SETTINGS
@given(series())
def test_standardise_address_never_raises_keeps_index_and_is_idempotent(s: pd.Series) -> None:
    once = standardise_address(s)
    assert once.index.equals(s.index)
    assert once.dtype == object
    assert all(v is None or (v and v == " ".join(v.split())) for v in once)
    assert not any(set(v.split()) & set(ADDRESS_ABBREVIATIONS) for v in once.dropna())
    assert standardise_address(once).tolist() == once.tolist()
