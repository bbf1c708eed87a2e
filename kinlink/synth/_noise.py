"""Recording noise: the ways a person's details go wrong between agencies (seeded, vectorised)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kinlink.synth._names import name_tables

_KEYBOARD = {
    "a": "qsz", "b": "vgn", "c": "xdv", "d": "sfe", "e": "wrd", "f": "dgr", "g": "fht",
    "h": "gjy", "i": "uok", "j": "hku", "k": "jli", "l": "kop", "m": "nj", "n": "bmh",
    "o": "ipl", "p": "ol", "q": "wa", "r": "etf", "s": "adw", "t": "ryg", "u": "yij",
    "v": "cbf", "w": "qes", "x": "zcs", "y": "tuh", "z": "xa",
}  # fmt: skip


def typo(rng: np.random.Generator, value: str) -> str:
    """One keying error: transposition, neighbouring key, dropped or doubled letter."""
    if not value or len(value) < 3:
        return value
    i = int(rng.integers(1, len(value) - 1))
    kind = int(rng.integers(4))
    if kind == 0 and value[i] != value[i + 1]:
        return value[:i] + value[i + 1] + value[i] + value[i + 2 :]
    if kind == 1 and value[i].lower() in _KEYBOARD:
        keys = _KEYBOARD[value[i].lower()]
        c = keys[int(rng.integers(len(keys)))]
        return value[:i] + (c.upper() if value[i].isupper() else c) + value[i + 1 :]
    if kind == 2:
        return value[:i] + value[i + 1 :]
    return value[:i] + value[i] + value[i:]


def typos(rng: np.random.Generator, values: np.ndarray, rate: float) -> np.ndarray:
    out = values.copy()
    hit = np.flatnonzero(rng.random(len(values)) < rate)
    for i in hit:
        v = out[i]
        if isinstance(v, str):
            out[i] = typo(rng, v)
    return out


def nicknames(rng: np.random.Generator, given: np.ndarray, rate: float) -> np.ndarray:
    table = name_tables().nicknames
    out = given.copy()
    hit = np.flatnonzero(rng.random(len(given)) < rate)
    for i in hit:
        options = table.get(out[i]) if isinstance(out[i], str) else None
        if options:
            out[i] = options[int(rng.integers(len(options)))]
    return out


def blank(rng: np.random.Generator, values: np.ndarray, rate: float) -> np.ndarray:
    out = values.copy()
    out[rng.random(len(values)) < rate] = None
    return out


def days_to_datetime(days: np.ndarray | pd.Series) -> pd.Series:
    """Int days since 1970 as ``datetime64[ns]``; anything outside 1840-2250 (the sentinels) NaT.

    Goes through integers only (no float NaN arithmetic, which can raise spurious
    floating-point errors inside pandas' unit conversion).
    """
    arr = np.asarray(days)
    if arr.dtype == object:
        arr = pd.to_numeric(pd.Series(arr), errors="coerce").to_numpy(dtype="float64")
    arr = np.asarray(arr, dtype="float64")
    ok = np.isfinite(arr) & (arr > -50_000) & (arr < 100_000)
    out = np.full(len(arr), np.datetime64("NaT"), dtype="datetime64[D]")
    out[ok] = arr[ok].astype(np.int64).astype("datetime64[D]")
    return pd.Series(out.astype("datetime64[ns]"))


def swap_day_month(rng: np.random.Generator, days: np.ndarray, rate: float) -> np.ndarray:
    """Dates (int days) with day and month exchanged at ``rate`` where that is a date."""
    ts = pd.DatetimeIndex(days_to_datetime(days))
    d = ts.day.to_numpy()
    m = ts.month.to_numpy()
    can = (d <= 12) & (d != m) & (rng.random(len(days)) < rate) & ~pd.isna(ts)
    if not can.any():
        return np.asarray(days)
    swapped = pd.to_datetime(pd.DataFrame({"year": ts.year[can], "month": d[can], "day": m[can]}))
    out = np.asarray(days).copy()
    out[can] = (swapped - pd.Timestamp("1970-01-01")).dt.days.to_numpy()
    return out


def bad_nhs(rng: np.random.Generator, nhs: np.ndarray, rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Alter the check digit of some NHS numbers (so the modulus 11 check fails)."""
    out = nhs.copy()
    hit = np.flatnonzero((rng.random(len(nhs)) < rate) & pd.notna(nhs))
    for i in hit:
        v = out[i]
        out[i] = v[:9] + str((int(v[9]) + 1 + int(rng.integers(8))) % 10)
    mask = np.zeros(len(nhs), dtype=bool)
    mask[hit] = True
    return out, mask


def fmt_dates(days: np.ndarray, fmt: str) -> np.ndarray:
    """Int days (sentinels -> None) as text in ``fmt``; ``%b`` upper-cased as agencies do."""
    ts = days_to_datetime(days)
    out = ts.dt.strftime(fmt).to_numpy(dtype=object)
    out[ts.isna().to_numpy()] = None
    if "%b" in fmt:
        out = np.array([v.upper() if isinstance(v, str) else v for v in out], dtype=object)
    return out


def to_datetime(days: np.ndarray) -> pd.Series:
    return days_to_datetime(days)


def keep(cond: object, values: object) -> np.ndarray:
    """``values`` (as an object array) where ``cond`` holds, ``None`` elsewhere."""
    mask = np.asarray(cond, dtype=bool)
    out = np.array(np.broadcast_to(np.asarray(values, dtype=object), mask.shape), dtype=object)
    out[~mask] = None
    return out
