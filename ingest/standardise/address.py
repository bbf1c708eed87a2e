"""Address standardiser: a matching form of a free-text address."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

import pandas as pd

from ingest.standardise.names import _blank_to_na, _finish, _fold_upper, _text

__all__ = ["ADDRESS_ABBREVIATIONS", "standardise_address"]

ADDRESS_ABBREVIATIONS: Mapping[str, str] = MappingProxyType(
    {
        "RD": "ROAD",
        "AVE": "AVENUE",
        "AV": "AVENUE",
        "CL": "CLOSE",
        "CRES": "CRESCENT",
        "DR": "DRIVE",
        "GDNS": "GARDENS",
        "LN": "LANE",
        "PL": "PLACE",
        "SQ": "SQUARE",
        "TER": "TERRACE",
        "TERR": "TERRACE",
        "CT": "COURT",
        "GRN": "GREEN",
        "FLT": "FLAT",
        "APT": "FLAT",
        "APARTMENT": "FLAT",
        # ST is ambiguous (Street or Saint): both long forms are shortened to ST instead.
        "STREET": "ST",
        "SAINT": "ST",
    }
)
"""Whole-word replacements made by :func:`standardise_address` (upper case)."""

_WORD = re.compile(r"(?<!\S)(" + "|".join(sorted(ADDRESS_ABBREVIATIONS, key=len, reverse=True)) + r")(?!\S)")


def _expand(match: re.Match[str]) -> str:
    return ADDRESS_ABBREVIATIONS[match.group(1)]


def standardise_address(s: pd.Series) -> pd.Series:
    """The matching form of an address. Idempotent; blank -> ``None``.

    1. accents folded to ASCII and upper-cased (as in
       :func:`~ingest.standardise.names.standardise_name`); apostrophes removed
       (St John's -> ST JOHNS);
    2. every other character that is not a letter or digit becomes a space (so
       ``12-14 High St.`` -> ``12 14 HIGH ST``) and whitespace is collapsed;
    3. whole words replaced by :data:`ADDRESS_ABBREVIATIONS`: RD ROAD, AVE/AV AVENUE, CL CLOSE,
       CRES CRESCENT, DR DRIVE, GDNS GARDENS, LN LANE, PL PLACE, SQ SQUARE, TER/TERR TERRACE,
       CT COURT, GRN GREEN, FLT/APT/APARTMENT FLAT. ``ST`` means Street or Saint, so it is
       kept and the long forms STREET and SAINT are shortened to ST instead.

    Examples
    --------
    >>> standardise_address(pd.Series(["Flt 2, 14 St. John's Rd", " "])).tolist()
    ['FLAT 2 14 ST JOHNS ROAD', None]
    """
    t = _fold_upper(_text(s))
    t = t.str.replace(r"[^\w]|_", " ", regex=True)
    t = t.str.replace(r"\s+", " ", regex=True).str.strip()
    t = t.str.replace(_WORD, _expand, regex=True)
    return _finish(_blank_to_na(t))
