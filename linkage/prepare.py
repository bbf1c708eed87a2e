"""Prepare canonical records for matching: derived columns, computed once per record.

Phonetic codes, initials, name parts, birth dates as integers and the like are computed
here over the unique values of each column, so that blocking and comparing work on
plain arrays. The result is a DataFrame with one row per record, in input order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import jellyfish
import numpy as np
import pandas as pd
import yaml

__all__ = ["PLACEHOLDER_GIVEN_NAMES", "load_nicknames", "nickname_pairs", "prepare_records"]

# Given names agencies record before a child is named; they say nothing about the person.
PLACEHOLDER_GIVEN_NAMES = frozenset(
    {"BABY", "UNBORN", "INFANT", "BABY BOY", "BABY GIRL", "BOY", "GIRL", "UNNAMED", "NK", "NOT KNOWN", "UNKNOWN"}
)
_EPOCH = np.datetime64("1970-01-01", "D")


def _map_unique(s: pd.Series, func) -> pd.Series:  # type: ignore[no-untyped-def]
    """Apply ``func`` once per distinct non-null value of ``s``."""
    values = s.dropna().unique()
    table = {v: func(v) for v in values}
    return s.map(table).astype(object).where(s.notna(), None)


def _first_token(s: pd.Series) -> pd.Series:
    return s.str.split(r"[ -]", n=1, regex=True).str[0].where(s.notna(), None)


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
    the street's first two words, "12 ACACIA ROAD"), `nhs`, `upn`.
    """
    r = records.reset_index(drop=True)
    out = pd.DataFrame({"record_key": r["record_key"].astype(str), "source": r["source"].astype(str)})

    given_full = r["given_name_std"].astype(object).where(r["given_name_std"].notna(), None)
    placeholder = given_full.isin(PLACEHOLDER_GIVEN_NAMES)
    given = _first_token(given_full.where(~placeholder, None))
    out["given"] = given
    out["given_full"] = given_full.where(~placeholder, None)
    out["given_initial"] = given.str[0].where(given.notna(), None)
    out["given_metaphone"] = _map_unique(given, _metaphone)
    out["middle"] = r["middle_names_std"].astype(object).where(r["middle_names_std"].notna(), None)

    family = r["family_name_std"].astype(object).where(r["family_name_std"].notna(), None)
    out["family"] = family
    out["family_metaphone"] = _map_unique(family, _metaphone)
    out["family_initial"] = family.str[0].where(family.notna(), None)
    parts = family.str.split(r"[ -]", n=1, regex=True)
    has_two = parts.str.len().astype("float64").fillna(0).to_numpy() > 1
    out["family_part1"] = parts.str[0].where(has_two, None)
    out["family_part2"] = parts.str[1].where(has_two, None)
    out["aliases"] = r["alias_names_std"] if "alias_names_std" in r.columns else [[] for _ in range(len(r))]

    dob_all = pd.to_datetime(r["dob"], errors="coerce")
    estimated = r["dob_estimated"].fillna(False).astype(bool) if "dob_estimated" in r.columns else pd.Series(False, index=r.index)
    real = dob_all.where(~estimated)
    out["dob_days"] = _days(real)
    out["dob_est_days"] = _days(dob_all.where(estimated))
    out["dob_y"] = real.dt.year.astype("float64")
    out["dob_m"] = real.dt.month.astype("float64")
    out["dob_d"] = real.dt.day.astype("float64")
    iso = real.dt.strftime("%Y-%m-%d")
    out["dob"] = iso.where(real.notna(), None)
    swappable = real.notna() & (real.dt.day <= 12) & (real.dt.day != real.dt.month)
    out["dob_dm_swapped"] = real.dt.strftime("%Y-%d-%m").where(swappable, None)
    out["birth_year"] = dob_all.dt.year.astype("Int64").astype(str).where(dob_all.notna(), None)

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
        out[col] = r[src].astype(object).where(r[src].notna(), None) if src in r.columns else None
    address = out["address"]
    key = address.str.extract(r"^\D*?(\S*\d\S*(?: \S+){1,2})", expand=False)
    out["address_key"] = key.astype(object).where(key.notna(), None)
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


def frequencies(values: pd.Series) -> Mapping[str, float]:
    """Share of non-null records holding each value (for term-frequency adjustments)."""
    counts = values.dropna().value_counts(normalize=True)
    return counts.to_dict()
