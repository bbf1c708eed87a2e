"""Date standardisers: parse recorded dates with a source's formats, estimate a DOB from an age.

Both return a DataFrame ``[date, invalid]`` with the input's index: ``date`` is
``datetime64[ns]`` at midnight (``NaT`` when missing or unreadable) and ``invalid`` is ``True``
where a non-empty value could not be read. Nothing is raised for bad values.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ingest.standardise.names import _collapse, _finish, _text

__all__ = ["dob_from_age", "parse_dates"]

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?")
_AGE = re.compile(
    r"^(?P<sign>[-+]?)(?P<years>[0-9]{1,4}(?:\.[0-9]{1,6})?)"
    r"\s*(?:y|yr|yrs|year|years|yo)?\.?$",
    flags=re.IGNORECASE,
)
_NS = "datetime64[ns]"


def _as_ns(values: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Datetimes as a ``datetime64[ns]`` numpy array, normalised to midnight."""
    return pd.DatetimeIndex(values).normalize().to_numpy(dtype=_NS)


def _from_parts(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Build dates from float parts (``NaN`` allowed); impossible or out-of-range -> NaT."""
    parts = pd.DataFrame({"year": year, "month": month, "day": day})
    return _as_ns(pd.to_datetime(parts, errors="coerce"))


def _resolve_two_digit_years(parsed: np.ndarray, reference: pd.Timestamp) -> np.ndarray:
    """Move each date to the century that puts it on or before ``reference`` (latest such)."""
    idx = pd.DatetimeIndex(parsed)
    yy = (idx.year % 100).to_numpy(dtype=float)
    month = idx.month.to_numpy(dtype=float)
    day = idx.day.to_numpy(dtype=float)
    year = (reference.year - reference.year % 100) + yy
    # compare as (year, month, day): the candidate itself may not exist or be out of range
    later = (year > reference.year) | (
        (year == reference.year)
        & ((month > reference.month) | ((month == reference.month) & (day > reference.day)))
    )
    year = np.where(later, year - 100, year)
    # 29 Feb of a year ending 00 may not exist in the resolved century: it becomes NaT.
    return _from_parts(year, month, day)


def parse_dates(s: pd.Series, formats: Sequence[str], *, reference: dt.date | None = None) -> pd.DataFrame:
    """Parse recorded dates with strptime-style ``formats``, tried in order (first wins).

    - ISO values ``YYYY-MM-DD`` and ``YYYY-MM-DDTHH:MM[:SS[.f]]`` (or with a space for the
      ``T``), as typed sources give them, are accepted whatever the formats.
    - A time of day is dropped: ``date`` is always at midnight.
    - Two-digit years (``%y``) go to the century that puts the date on or before
      ``reference`` (default: today): with reference 2026-11-25, ``01/02/27`` is 1927-02-01
      and ``01/02/26`` is 2026-02-01. strptime's 1969 pivot is not used.
    - Impossible dates (31/02/2010, 29/02/2011, 2010-13-01) and dates outside pandas'
      nanosecond range (before 1677 or after 2262) are ``invalid``.

    Examples
    --------
    >>> out = parse_dates(pd.Series(["01/02/27", "31/02/2010", None]), ["%d/%m/%y", "%d/%m/%Y"],
    ...                   reference=dt.date(2026, 11, 25))
    >>> out["date"].dt.strftime("%Y-%m-%d").tolist(), out["invalid"].tolist()
    (['1927-02-01', nan, nan], [False, True, False])
    """
    if isinstance(formats, str):  # one format given bare, not a sequence of characters
        formats = [formats]
    ref = pd.Timestamp(reference if reference is not None else dt.date.today()).normalize()
    t = _collapse(_text(s))
    present = t.notna().to_numpy(dtype=bool)
    values = _finish(t).to_numpy()
    result = np.full(len(t), np.datetime64("NaT"), dtype=_NS)

    for pattern, fmt in ((_ISO_DATE, "%Y-%m-%d"), (_ISO_DATETIME, "ISO8601")):
        todo = present & np.isnat(result)
        todo[todo] = t[todo].str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)
        if todo.any():
            parsed = pd.to_datetime(pd.Series(values[todo]), format=fmt, errors="coerce")
            result[todo] = _as_ns(parsed)

    for fmt in formats:
        todo = present & np.isnat(result)
        if not todo.any():
            break
        parsed_ns = _as_ns(pd.to_datetime(pd.Series(values[todo]), format=fmt, errors="coerce"))
        if "%y" in fmt.replace("%%", ""):
            ok = ~np.isnat(parsed_ns)
            parsed_ns[ok] = _resolve_two_digit_years(parsed_ns[ok], ref)
        result[todo] = parsed_ns

    invalid = present & np.isnat(result)
    return pd.DataFrame({"date": result, "invalid": invalid}, index=s.index)


def _is_leap(year: np.ndarray) -> np.ndarray:
    return (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))


def dob_from_age(age: pd.Series, reference: dt.date | pd.Timestamp | pd.Series) -> pd.DataFrame:
    """Estimate a date of birth from an age in years at ``reference``.

    The estimate is ``reference`` minus ``age`` years (29 Feb -> 28 Feb when needed) minus 182
    days, i.e. the middle of the possible year of birth.

    - ``age`` values like ``"34"``, ``"34.0"``, ``"34 yrs"``, ``"34y"``, ``"34 years"``; a
      fractional age is truncated to whole years.
    - Negative, over 120 or unreadable -> ``invalid`` and ``NaT``.
    - ``reference`` is one date for every row, or a Series of dates (``datetime64``) aligned
      with ``age`` (same index, or one that can be reindexed to it). A missing reference gives
      ``NaT`` without marking the age invalid.

    Examples
    --------
    >>> dob_from_age(pd.Series(["34 yrs"]), dt.date(2024, 6, 30))["date"].iloc[0].date()
    datetime.date(1989, 12, 30)
    """
    t = _collapse(_text(age))
    present = t.notna().to_numpy(dtype=bool)
    parts = t.str.extract(_AGE)
    years = pd.to_numeric(parts["years"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    years = np.floor(years)
    negative = (parts["sign"] == "-").fillna(False).to_numpy(dtype=bool)
    readable = ~np.isnan(years) & ~negative & (years <= 120)
    invalid = present & ~readable

    if isinstance(reference, pd.Series):
        ref_series = reference if reference.index.equals(age.index) else reference.reindex(age.index)
        ref = pd.DatetimeIndex(pd.to_datetime(ref_series, errors="coerce")).normalize()
    else:
        ref = pd.DatetimeIndex([pd.Timestamp(reference)] * len(t)).normalize()

    years = np.where(readable, years, np.nan)
    year = ref.year.to_numpy(dtype=float, na_value=np.nan) - years
    month = ref.month.to_numpy(dtype=float, na_value=np.nan)
    day = ref.day.to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        feb29 = (month == 2) & (day == 29) & ~_is_leap(np.nan_to_num(year).astype(np.int64))
    day = np.where(feb29, 28.0, day)
    dob = _from_parts(year, month, day) - np.timedelta64(182, "D")
    return pd.DataFrame({"date": dob, "invalid": invalid}, index=age.index)
