"""Prepare canonical records for matching: derived columns, computed once per record.

Phonetic codes, initials, name parts, birth dates as integers and the like are computed
here over the unique values of each column, so that blocking and comparing work on
plain arrays. The result is a DataFrame with one row per record, in input order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jellyfish
import networkx as nx
import numpy as np
import pandas as pd
import yaml

from linkage.households import address_keys

__all__ = [
    "PLACEHOLDER_GIVEN_NAMES",
    "load_nicknames",
    "nickname_keys",
    "nickname_pairs",
    "positional",
    "prepare_records",
]

# Given names agencies record before a child is named; they say nothing about the person.
PLACEHOLDER_GIVEN_NAMES = frozenset(
    {
        "BABY",
        "UNBORN",
        "INFANT",
        "BABY BOY",
        "BABY GIRL",
        "BOY",
        "GIRL",
        "UNNAMED",
        "NK",
        "NOT KNOWN",
        "UNKNOWN",
    }
)
_EPOCH = np.datetime64("1970-01-01", "D")
_CANONICAL_INPUTS = (
    "given_name_std",
    "middle_names_std",
    "family_name_std",
    "alias_names_std",
    "dob",
    "dob_estimated",
    "sex",
    "postcode_std",
    "postcode_sector",
    "postcode_district",
    "uprn",
    "address_std",
    "nhs_number_std",
    "upn_std",
)
# canonical columns the matcher does not read (kept out of the prepared table)
_CANONICAL_OTHER = (
    "source_record_id",
    "row_number",
    "extract_date",
    "agency",
    "given_name",
    "middle_names",
    "family_name",
    "alias_names",
    "dod",
    "nhs_number",
    "nhs_number_valid",
    "upn",
    "upn_valid",
    "address",
    "postcode",
    "postcode_valid",
    "address_from",
    "address_to",
    "household_ref",
    "quality_flags",
)


def positional(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` indexed 0..n-1 (a shallow copy when it is not already: no column is copied)."""
    if isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 and frame.index.step == 1:
        return frame
    out = frame.copy(deep=False)
    out.index = pd.RangeIndex(len(out))
    return out


def _map_unique(s: pd.Series, func: Callable[[Any], Any]) -> pd.Series:
    """Apply ``func`` once per distinct non-null value of ``s``."""
    values = s.dropna().unique()
    table = {v: func(v) for v in values}
    return s.map(table).astype(object).where(s.notna(), None)


def _on_distinct(s: pd.Series, derive: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Apply a (string) derivation once per distinct value of ``s`` and spread it back.

    Names, dates and postcodes repeat a great deal; deriving per distinct value keeps the
    per-record cost to one integer take.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    if len(uniques) == 0:
        return pd.Series([None] * len(s), index=s.index, dtype=object)
    derived = derive(pd.Series(uniques, dtype=object)).astype(object)
    values = derived.where(derived.notna(), None).to_numpy(dtype=object)
    out = np.empty(len(s), dtype=object)
    out[:] = None
    present = codes >= 0
    out[present] = values[codes[present]]
    return pd.Series(out, index=s.index, dtype=object)


def _first_token(s: pd.Series) -> pd.Series:
    return _on_distinct(s, lambda u: u.str.split(r"[ -]", n=1, regex=True).str[0])


def _metaphone(value: str) -> str | None:
    code = jellyfish.metaphone(value.replace("-", " "))
    return code or None


def _days(s: pd.Series) -> np.ndarray:
    """Dates as int days since 1970 (NaT -> a large negative sentinel is NOT used; NaN float)."""
    d = pd.to_datetime(s, errors="coerce")
    out = (d.to_numpy(dtype="datetime64[D]") - _EPOCH).astype("float64")
    out[d.isna().to_numpy()] = np.nan
    return out


def prepare_records(records: pd.DataFrame) -> pd.DataFrame:
    """Columns the matcher uses, derived from a canonical `records` table.

    The output keeps `record_key` and `source` and adds, among others: `given` (first
    given name, placeholders such as BABY removed), `given_initial`, `given_metaphone`,
    `family`, `family_metaphone`, `family_part1`/`family_part2` (double-barrelled parts),
    `family_initial`, `dob_days` (float days since 1970, NaN when unknown or estimated),
    `dob_est_days` (the estimate when the date of birth came from an age), `dob_y/m/d`,
    `dob_dm_swapped` (day and month exchanged, for blocking), `birth_year`, `sex`,
    `postcode`, `sector`, `district`, `uprn`, `address`, `address_key` (house number and
    the street's first two words, "12 ACACIA ROAD"), `home` (the household's key,
    :func:`linkage.households.address_keys`), `nhs`, `upn`.
    """
    r = positional(records)
    missing = [c for c in _CANONICAL_INPUTS if c not in r.columns]
    if missing:  # a records-like table from elsewhere (a benchmark, a partner's extract)
        r = r.assign(**{c: None for c in missing})
    out = pd.DataFrame({"record_key": r["record_key"].astype(str), "source": r["source"].astype(str)})

    given_full = r["given_name_std"].astype(object).where(r["given_name_std"].notna(), None)
    placeholder = given_full.isin(PLACEHOLDER_GIVEN_NAMES)
    given = _first_token(given_full.where(~placeholder, None))
    out["given"] = given
    out["given_full"] = given_full.where(~placeholder, None)
    out["given_initial"] = _on_distinct(given, lambda u: u.str[0])
    out["given_metaphone"] = _map_unique(given, _metaphone)
    out["middle"] = r["middle_names_std"].astype(object).where(r["middle_names_std"].notna(), None)

    family = r["family_name_std"].astype(object).where(r["family_name_std"].notna(), None)
    out["family"] = family
    out["family_metaphone"] = _map_unique(family, _metaphone)
    out["family_initial"] = _on_distinct(family, lambda u: u.str[0])

    def part(i: int) -> Callable[[pd.Series], pd.Series]:
        def derive(u: pd.Series) -> pd.Series:
            parts = u.str.split(r"[ -]", n=1, regex=True)
            two = parts.map(len) > 1
            return parts.str[i].where(two, None)

        return derive

    out["family_part1"] = _on_distinct(family, part(0))
    out["family_part2"] = _on_distinct(family, part(1))
    aliases = r["alias_names_std"].to_numpy(dtype=object)
    out["aliases"] = pd.Series(
        [a if isinstance(a, (list, np.ndarray)) else [] for a in aliases], dtype=object
    )

    dob_all = pd.to_datetime(r["dob"], errors="coerce")
    estimated = r["dob_estimated"].astype("boolean").fillna(False).astype(bool)
    real = dob_all.where(~estimated)
    out["dob_days"] = _days(real)
    out["dob_est_days"] = _days(dob_all.where(estimated))
    out["dob_y"] = real.dt.year.astype("float64")
    out["dob_m"] = real.dt.month.astype("float64")
    out["dob_d"] = real.dt.day.astype("float64")
    out["dob"] = _on_distinct(real, lambda u: pd.to_datetime(u).dt.strftime("%Y-%m-%d"))

    def swapped(u: pd.Series) -> pd.Series:
        d = pd.to_datetime(u)
        return d.dt.strftime("%Y-%d-%m").where((d.dt.day <= 12) & (d.dt.day != d.dt.month), None)

    out["dob_dm_swapped"] = _on_distinct(real, swapped)
    out["birth_year"] = _on_distinct(dob_all, lambda u: pd.to_datetime(u).dt.year.astype(str))

    for col, src in (
        ("sex", "sex"),
        ("postcode", "postcode_std"),
        ("sector", "postcode_sector"),
        ("district", "postcode_district"),
        ("uprn", "uprn"),
        ("address", "address_std"),
        ("nhs", "nhs_number_std"),
        ("upn", "upn_std"),
    ):
        out[col] = r[src].astype(object).where(r[src].notna(), None)
    # columns of a records-like table that are not canonical pass through for custom comparisons
    for col in r.columns:
        if col not in out.columns and col not in _CANONICAL_INPUTS and col not in _CANONICAL_OTHER:
            out[col] = r[col].astype(object).where(r[col].notna(), None)
    out["address_key"] = _on_distinct(
        out["address"], lambda u: u.str.extract(r"^\D*?(\S*\d\S*(?: \S+){1,2})", expand=False)
    )
    out["home"] = address_keys(
        pd.DataFrame({"address_std": out["address"], "postcode_std": out["postcode"], "uprn": out["uprn"]})
    )
    return out


def load_nicknames(path: Path | str) -> list[list[str]]:
    """Groups of equivalent given names (upper case) from `config/nicknames.yaml`."""
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return [[str(k).upper(), *(str(v).upper() for v in (vs or []))] for k, vs in doc.items()]


def nickname_pairs(groups: Iterable[Iterable[str]]) -> set[tuple[str, str]]:
    """Every ordered pair of distinct names that share a nickname group."""
    pairs: set[tuple[str, str]] = set()
    for group in groups:
        names = sorted(set(group))
        for a in names:
            for b in names:
                if a != b:
                    pairs.add((a, b))
    return pairs


def nickname_keys(given: pd.Series, groups: Iterable[Iterable[str]]) -> pd.Series:
    """A blocking key per given name: one name for all the names the nickname ``groups``
    join, directly or through a shared nickname (Alex joins Alexander and Alexandra), and
    null for a name in no group. Bob and Robert get one key; Mia, in no group, none."""
    graph = nx.Graph()
    for group in groups:
        names = list(dict.fromkeys(group))
        graph.add_nodes_from(names)
        graph.add_edges_from((names[0], other) for other in names[1:])
    key = {name: min(component) for component in nx.connected_components(graph) for name in component}
    keyed = given.map(key).astype(object)
    return keyed.where(keyed.notna(), None)
