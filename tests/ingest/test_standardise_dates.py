"""Specification of the date standardisers (ingest.standardise.dates)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.standardise import dob_from_age, parse_dates

PROPERTY_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REFERENCE = dt.date(2026, 11, 25)
UK_FORMATS = ["%d/%m/%Y", "%d/%m/%y", "%d-%b-%Y", "%Y%m%d"]

# --------------------------------------------------------------------------- strategies

values = st.one_of(
    st.none(),
    st.just(math.nan),
    st.text(),
    st.text(alphabet="0123456789/-: T.yrsYRS"),
    st.dates(dt.date(1600, 1, 1), dt.date(2300, 12, 31)).map(lambda d: d.strftime("%d/%m/%y")),
)


@st.composite
def series(draw: st.DrawFn, elements: st.SearchStrategy[Any] = values) -> pd.Series:
    """An object Series with an arbitrary (possibly duplicated, unordered) integer index."""
    data = draw(st.lists(elements, max_size=12))
    index = draw(st.lists(st.integers(-3, 3), min_size=len(data), max_size=len(data)))
    return pd.Series(data, index=index, dtype=object)


def _one(value: Any) -> pd.Series:
    return pd.Series([value], dtype=object)


def _iso(value: Any) -> str | None:
    return None if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


# --------------------------------------------------------------------------- parse_dates

PARSE_CASES = [
    {
        "description": "day/month/year",
        "value": "01/02/2010",
        "expected": "2010-02-01",
        "invalid": False,
    },
    {
        "description": "no zero padding",
        "value": "1/2/2010",
        "expected": "2010-02-01",
        "invalid": False,
    },
    {
        "description": "surrounding whitespace",
        "value": "  01/02/2010 ",
        "expected": "2010-02-01",
        "invalid": False,
    },
    {
        "description": "31 February is not a date",
        "value": "31/02/2010",
        "expected": None,
        "invalid": True,
    },
    {
        "description": "29 February in a leap year",
        "value": "29/02/2012",
        "expected": "2012-02-29",
        "invalid": False,
    },
    {
        "description": "29 February in a non-leap year",
        "value": "29/02/2011",
        "expected": None,
        "invalid": True,
    },
    {
        "description": "29 February 2000 (divisible by 400)",
        "value": "29/02/2000",
        "expected": "2000-02-29",
        "invalid": False,
    },
    {
        "description": "29 February 1900 (century, not leap)",
        "value": "29/02/1900",
        "expected": None,
        "invalid": True,
    },
    {
        "description": "second format used when the first fails",
        "value": "03-Mar-1999",
        "expected": "1999-03-03",
        "invalid": False,
    },
    {
        "description": "compact format",
        "value": "19990303",
        "expected": "1999-03-03",
        "invalid": False,
    },
    {
        "description": "two-digit year after the reference goes back a century",
        "value": "01/02/27",
        "expected": "1927-02-01",
        "invalid": False,
    },
    {
        "description": "two-digit year on or before the reference stays",
        "value": "01/02/26",
        "expected": "2026-02-01",
        "invalid": False,
    },
    {
        "description": "two-digit year on the reference date stays",
        "value": "25/11/26",
        "expected": "2026-11-25",
        "invalid": False,
    },
    {
        "description": "two-digit year a day after the reference goes back",
        "value": "26/11/26",
        "expected": "1926-11-26",
        "invalid": False,
    },
    {
        "description": "two-digit year 69 is not strptime's 1969 pivot",
        "value": "01/01/69",
        "expected": "1969-01-01",
        "invalid": False,
    },
    {
        "description": "two-digit year 68 resolved by the reference, not 2068",
        "value": "01/01/68",
        "expected": "1968-01-01",
        "invalid": False,
    },
    {
        "description": "two-digit year 00 is 2000",
        "value": "29/02/00",
        "expected": "2000-02-29",
        "invalid": False,
    },
    {
        "description": "ISO date accepted whatever the formats",
        "value": "2010-02-01",
        "expected": "2010-02-01",
        "invalid": False,
    },
    {
        "description": "ISO date-time accepted, time dropped",
        "value": "2010-02-01T13:45:00",
        "expected": "2010-02-01",
        "invalid": False,
    },
    {
        "description": "ISO date-time with a space",
        "value": "2010-02-01 13:45:00",
        "expected": "2010-02-01",
        "invalid": False,
    },
    {
        "description": "ISO date-time with fractional seconds",
        "value": "2010-02-01T13:45:00.123",
        "expected": "2010-02-01",
        "invalid": False,
    },
    {
        "description": "ISO month 13 is invalid",
        "value": "2010-13-01",
        "expected": None,
        "invalid": True,
    },
    {
        "description": "ISO 30 February is invalid",
        "value": "2010-02-30",
        "expected": None,
        "invalid": True,
    },
    {"description": "day 32 is invalid", "value": "32/01/2010", "expected": None, "invalid": True},
    {
        "description": "month 13 is invalid",
        "value": "01/13/2010",
        "expected": None,
        "invalid": True,
    },
    {"description": "free text is invalid", "value": "unknown", "expected": None, "invalid": True},
    {
        "description": "trailing junk is invalid",
        "value": "01/02/2010x",
        "expected": None,
        "invalid": True,
    },
    {
        "description": "out of pandas' range is invalid",
        "value": "01/01/1500",
        "expected": None,
        "invalid": True,
    },
    {
        "description": "empty is missing, not invalid",
        "value": "",
        "expected": None,
        "invalid": False,
    },
    {
        "description": "whitespace is missing, not invalid",
        "value": " \t",
        "expected": None,
        "invalid": False,
    },
    {
        "description": "None is missing, not invalid",
        "value": None,
        "expected": None,
        "invalid": False,
    },
    {
        "description": "NaN is missing, not invalid",
        "value": math.nan,
        "expected": None,
        "invalid": False,
    },
]


@pytest.mark.parametrize("case", PARSE_CASES, ids=[c["description"] for c in PARSE_CASES])
def test_parse_dates(case: dict[str, Any]) -> None:
    out = parse_dates(_one(case["value"]), UK_FORMATS, reference=REFERENCE)
    assert list(out.columns) == ["date", "invalid"]
    assert out["date"].dtype == "datetime64[ns]"
    assert out["invalid"].dtype == bool
    assert _iso(out["date"].iloc[0]) == case["expected"]
    assert bool(out["invalid"].iloc[0]) is case["invalid"]


def test_parse_dates_first_format_wins() -> None:
    s = _one("01/02/2010")
    assert _iso(parse_dates(s, ["%d/%m/%Y", "%m/%d/%Y"]).loc[0, "date"]) == "2010-02-01"
    assert _iso(parse_dates(s, ["%m/%d/%Y", "%d/%m/%Y"]).loc[0, "date"]) == "2010-01-02"


def test_parse_dates_accepts_one_format_given_bare() -> None:
    out = parse_dates(_one("01/02/2010"), "%d/%m/%Y")
    assert _iso(out.loc[0, "date"]) == "2010-02-01"


def test_parse_dates_without_formats_reads_only_iso() -> None:
    out = parse_dates(pd.Series(["2010-02-01", "01/02/2010"], dtype=object), [])
    assert [_iso(v) for v in out["date"]] == ["2010-02-01", None]
    assert out["invalid"].tolist() == [False, True]


def test_parse_dates_two_digit_years_default_to_today() -> None:
    today = dt.date.today()
    next_year = f"01/01/{(today.year + 1) % 100:02d}"
    this_year = f"01/01/{today.year % 100:02d}"
    out = parse_dates(pd.Series([next_year, this_year], dtype=object), ["%d/%m/%y"])
    assert [d.year for d in out["date"]] == [today.year + 1 - 100, today.year]


def test_parse_dates_leap_day_of_a_century_year_that_is_not_leap() -> None:
    # With reference 1999, "00" resolves to 1900, which has no 29 February.
    out = parse_dates(_one("29/02/00"), ["%d/%m/%y"], reference=dt.date(1999, 12, 31))
    assert out["invalid"].tolist() == [True]


# --------------------------------------------------------------------------- dob_from_age

AGE_CASES = [
    {"description": "whole years", "value": "34", "expected": "1992-05-27", "invalid": False},
    {"description": "float text", "value": "34.0", "expected": "1992-05-27", "invalid": False},
    {
        "description": "fraction truncated",
        "value": "34.9",
        "expected": "1992-05-27",
        "invalid": False,
    },
    {"description": "with yrs", "value": "34 yrs", "expected": "1992-05-27", "invalid": False},
    {"description": "with y", "value": "34y", "expected": "1992-05-27", "invalid": False},
    {
        "description": "with years, any case",
        "value": " 34 Years ",
        "expected": "1992-05-27",
        "invalid": False,
    },
    {"description": "age 0", "value": "0", "expected": "2026-05-27", "invalid": False},
    {"description": "age 120 accepted", "value": "120", "expected": "1906-05-27", "invalid": False},
    {"description": "age 121 invalid", "value": "121", "expected": None, "invalid": True},
    {"description": "negative invalid", "value": "-1", "expected": None, "invalid": True},
    {"description": "text invalid", "value": "about forty", "expected": None, "invalid": True},
    {"description": "months are not years", "value": "6 months", "expected": None, "invalid": True},
    {"description": "missing", "value": None, "expected": None, "invalid": False},
    {"description": "blank", "value": "  ", "expected": None, "invalid": False},
]


@pytest.mark.parametrize("case", AGE_CASES, ids=[c["description"] for c in AGE_CASES])
def test_dob_from_age(case: dict[str, Any]) -> None:
    out = dob_from_age(_one(case["value"]), REFERENCE)
    assert list(out.columns) == ["date", "invalid"]
    assert out["date"].dtype == "datetime64[ns]"
    assert _iso(out["date"].iloc[0]) == case["expected"]
    assert bool(out["invalid"].iloc[0]) is case["invalid"]


def test_dob_from_age_is_reference_minus_years_minus_182_days() -> None:
    out = dob_from_age(_one("10"), dt.date(2020, 7, 1))
    assert out["date"].iloc[0] == pd.Timestamp("2010-07-01") - pd.Timedelta(days=182)


def test_dob_from_age_with_a_reference_per_row() -> None:
    age = pd.Series(["10", "10", "10", "x"], index=[5, 6, 7, 8], dtype=object)
    ref = pd.Series(pd.to_datetime(["2012-02-29", "2020-01-01", None, "2020-01-01"]), index=[5, 6, 7, 8])
    out = dob_from_age(age, ref)
    assert out.index.tolist() == [5, 6, 7, 8]
    # 29 Feb 2012 minus 10 years is 28 Feb 2002 (no 29 Feb), then minus 182 days
    assert [_iso(v) for v in out["date"]] == ["2001-08-30", "2009-07-03", None, None]
    assert out["invalid"].tolist() == [False, False, False, True]


def test_dob_from_age_aligns_the_reference_by_index() -> None:
    age = pd.Series(["1", "2"], index=["a", "b"], dtype=object)
    ref = pd.Series(pd.to_datetime(["2020-06-01", "2010-06-01"]), index=["b", "a"])
    out = dob_from_age(age, ref)
    expected = pd.to_datetime(["2009-06-01", "2018-06-01"]) - pd.Timedelta(days=182)
    assert out["date"].tolist() == list(expected)


# --------------------------------------------------------------------------- properties


@PROPERTY_SETTINGS
@given(series(), st.dates(dt.date(1900, 1, 1), dt.date(2200, 1, 1)))
def test_parse_dates_never_raises_and_flags_consistently(s: pd.Series, ref: dt.date) -> None:
    out = parse_dates(s, UK_FORMATS, reference=ref)
    assert out.index.equals(s.index)
    assert out["date"].dtype == "datetime64[ns]"
    present = pd.Series([isinstance(v, str) and v.strip() != "" for v in s], index=s.index)
    assert (out["invalid"] == (present & out["date"].isna())).all()
    assert (out["date"].dropna() == out["date"].dropna().dt.normalize()).all()


@PROPERTY_SETTINGS
@given(
    st.lists(st.dates(dt.date(1700, 1, 1), dt.date(2250, 12, 31)), max_size=10),
    st.sampled_from(["%d/%m/%Y", "%Y%m%d", "%d-%b-%Y", "%Y-%m-%d"]),
)
def test_parse_dates_round_trips_four_digit_years(dates: list[dt.date], fmt: str) -> None:
    s = pd.Series([d.strftime(fmt) for d in dates], dtype=object)
    out = parse_dates(s, [fmt])
    assert [v.date() for v in out["date"]] == dates


@PROPERTY_SETTINGS
@given(
    st.lists(st.dates(dt.date(1800, 1, 1), dt.date(2200, 12, 31)), max_size=10),
    st.dates(dt.date(1900, 1, 1), dt.date(2200, 1, 1)),
)
def test_parse_dates_two_digit_years_land_in_the_century_before_the_reference(
    dates: list[dt.date], ref: dt.date
) -> None:
    s = pd.Series([d.strftime("%d/%m/%y") for d in dates], dtype=object)
    out = parse_dates(s, ["%d/%m/%y"], reference=ref)
    reference = pd.Timestamp(ref)
    for original, parsed in zip(dates, out["date"], strict=True):
        if pd.isna(parsed):  # only 29 Feb of a resolved century year that is not leap
            assert (original.month, original.day, original.year % 100) == (2, 29, 0)
            continue
        assert parsed <= reference
        assert parsed > reference - pd.DateOffset(years=100)
        assert (parsed.year % 100, parsed.month, parsed.day) == (
            original.year % 100,
            original.month,
            original.day,
        )


@PROPERTY_SETTINGS
@given(series(), st.dates(dt.date(1900, 1, 1), dt.date(2200, 1, 1)))
def test_dob_from_age_never_raises_and_keeps_index(s: pd.Series, ref: dt.date) -> None:
    out = dob_from_age(s, ref)
    assert out.index.equals(s.index)
    assert out["date"].dtype == "datetime64[ns]"
    assert not (out["invalid"] & out["date"].notna()).any()


@PROPERTY_SETTINGS
@given(st.integers(0, 120), st.dates(dt.date(1900, 1, 1), dt.date(2200, 1, 1)))
def test_dob_estimate_gives_back_the_age(age: int, ref: dt.date) -> None:
    dob = dob_from_age(_one(str(age)), ref)["date"].iloc[0].date()
    had_birthday = (ref.month, ref.day) >= (dob.month, dob.day)
    assert ref.year - dob.year - (0 if had_birthday else 1) == age
    assert np.datetime64(dob) < np.datetime64(ref)
