"""Name frequency tables (package data) and vectorised name sampling."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

DATA = Path(__file__).parent / "data"
NICKNAMES_PATH = Path(__file__).resolve().parents[2] / "config" / "nicknames.yaml"

#: Naming communities and their share of families in the synthetic borough.
GROUPS: tuple[str, ...] = (
    "british",
    "pakistani_bangladeshi",
    "indian",
    "african",
    "eastern_european",
    "east_asian",
    "middle_eastern",
)
GROUP_SHARES = np.array([0.66, 0.11, 0.05, 0.04, 0.08, 0.02, 0.04])
#: Probability that a woman of the group takes her husband's family name on marriage.
TAKES_HUSBANDS_NAME = np.array([0.9, 0.45, 0.8, 0.7, 0.9, 0.3, 0.3])
#: Probability that a person of the group has a middle name.
MIDDLE_NAME_RATE = np.array([0.6, 0.15, 0.2, 0.5, 0.1, 0.1, 0.1])
ERAS = ("w_old", "w_mid", "w_young")


def era_of(dob_year: np.ndarray) -> np.ndarray:
    """Naming era index (0: born before 1965, 1: 1965-1994, 2: 1995 on)."""
    return np.where(dob_year < 1965, 0, np.where(dob_year < 1995, 1, 2))


@dataclass(frozen=True)
class NameTables:
    """The shipped name lists, ready for sampling."""

    given: pd.DataFrame
    surnames: pd.DataFrame
    nicknames: dict[str, list[str]]

    @functools.cached_property
    def female_forms(self) -> dict[str, str]:
        s = self.surnames[self.surnames["female_form"].notna()]
        return dict(zip(s["name"], s["female_form"], strict=True))


@functools.lru_cache(maxsize=1)
def name_tables() -> NameTables:
    """Load the given-name, surname and nickname tables (cached)."""
    given = pd.read_csv(DATA / "given_names.csv", comment="#", keep_default_na=False)
    surnames = pd.read_csv(DATA / "surnames.csv", comment="#", keep_default_na=False)
    surnames["female_form"] = surnames["female_form"].replace("", None)
    nicknames: dict[str, list[str]] = {}
    if NICKNAMES_PATH.exists():
        raw = yaml.safe_load(NICKNAMES_PATH.read_text(encoding="utf-8")) or {}
        nicknames = {str(k): [str(v) for v in vs] for k, vs in raw.items()}
    return NameTables(given=given, surnames=surnames, nicknames=nicknames)


@functools.lru_cache(maxsize=1)
def _given_pools() -> dict[tuple[int, str, int], tuple[np.ndarray, np.ndarray]]:
    g = name_tables().given
    pools = {}
    for gi, gname in enumerate(GROUPS):
        for sx in ("M", "F"):
            for ei, ecol in enumerate(ERAS):
                pool = g[(g["group"] == gname) & (g["sex"] == sx) & (g[ecol] > 0)]
                w = pool[ecol].to_numpy(dtype=float)
                pools[(gi, sx, ei)] = (pool["name"].to_numpy(dtype=object), w / w.sum())
    return pools


@functools.lru_cache(maxsize=1)
def _surname_pools() -> dict[int, tuple[np.ndarray, np.ndarray]]:
    s = name_tables().surnames
    pools = {}
    for gi, gname in enumerate(GROUPS):
        pool = s[s["group"] == gname]
        w = pool["weight"].to_numpy(dtype=float)
        pools[gi] = (pool["name"].to_numpy(dtype=object), w / w.sum())
    return pools


def sample_given(rng: np.random.Generator, sex: np.ndarray, group: np.ndarray, era: np.ndarray) -> np.ndarray:
    """One given name per person, by sex (``M``/``F``), group index and naming era."""
    out = np.empty(len(sex), dtype=object)
    for (gi, sx, ei), (names, p) in _given_pools().items():
        mask = (group == gi) & (sex == sx) & (era == ei)
        k = int(mask.sum())
        if k:
            out[mask] = rng.choice(names, size=k, p=p)
    return out


def sample_surname(rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
    """One (base, masculine-form) family name per group index."""
    out = np.empty(len(group), dtype=object)
    for gi, (names, p) in _surname_pools().items():
        mask = group == gi
        k = int(mask.sum())
        if k:
            out[mask] = rng.choice(names, size=k, p=p)
    return out


def gendered(surname: np.ndarray, sex: np.ndarray) -> np.ndarray:
    """The form of each family name its bearer uses (Kowalski -> Kowalska for a woman)."""
    forms = name_tables().female_forms
    s = pd.Series(surname, dtype=object)
    fem = s.map(forms)
    use = (np.asarray(sex) == "F") & fem.notna().to_numpy()
    return np.where(use, fem.to_numpy(dtype=object), s.to_numpy(dtype=object))


def base_form(surname: np.ndarray) -> np.ndarray:
    """Map feminine forms back to the base form (for a child taking a mother's name)."""
    inverse = {v: k for k, v in name_tables().female_forms.items()}
    s = pd.Series(surname, dtype=object)
    return s.map(inverse).fillna(s).to_numpy(dtype=object)
