"""What a shared given name already says about sex and age.

Fellegi–Sunter multiplies the evidence of each comparison as if, among strangers, the
fields were independent. Given names are not independent of sex (two strangers both
called Oliver are nearly always both male, where two random strangers share a sex half
the time) nor of age (two Olivers are far likelier than two random people to be born
within a couple of years of each other: names go in and out of fashion). Counting "same
given name", "same sex" and "born within two years" as three independent pieces of
evidence counts the same thing up to three times; at a million records, pairs of
strangers with one full name, an age-estimated date of birth and different addresses
were scored at p 0.98 when 85 % of them were one person.

So, for a pair whose given names agree, the u-probability of agreeing on sex and on date
of birth is taken among people who share that given name: the weight of those levels is
adjusted by log2(u / u given the name), like a term-frequency adjustment, and only ever
down. The shares are counted over distinct bearers (given name, family name and sex or
year of birth), between bearers of different family names, so that a person's own
records, and a son named after his father, do not count as strangers sharing a name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from linkage.comparisons import Comparison, PairView

__all__ = [
    "BIRTH_WINDOW_YEARS",
    "TIE_KINDS",
    "NameTies",
    "adjustment_label",
    "name_tie_adjustments",
    "name_ties",
    "tie_term",
    "tied_comparisons",
]

#: Years apart within which two births count as close ("estimated from age, within 731 days").
BIRTH_WINDOW_YEARS = 2
#: Pairs' worth of the whole population's share each name's share is shrunk towards.
SMOOTHING_PAIRS = 20.0
#: The prepared column each kind of tie reads.
TIE_KINDS = {"sex": "sex", "birth_year": "birth_year"}
_GIVEN, _FAMILY = "given", "family"
_TIE_SUFFIX = "_by_given_name"


@dataclass(frozen=True)
class NameTies:
    """Adjustment (bits, <= 0) per given name, by kind of tie, and the comparisons that take them."""

    bits: Mapping[str, pd.Series]  # kind -> Series indexed by given name
    comparisons: Mapping[str, str]  # comparison name -> kind


def tie_term(comparison: str) -> str:
    """Name of the weight term of ``comparison``'s adjustment for the given name."""
    return f"{comparison}{_TIE_SUFFIX}"


def tied_comparisons(comparisons: Sequence[Comparison], ties: NameTies | None) -> list[int]:
    """Positions of the ``comparisons`` that take a tie, in order (none without a given-name
    comparison to tie them to)."""
    if ties is None or "given_name" not in [c.name for c in comparisons]:
        return []
    return [j for j, c in enumerate(comparisons) if c.name in ties.comparisons]


def adjustment_label(term: str) -> str:
    """How an explanation labels an adjustment term (``tf_...``) of a match weight."""
    if term.endswith(_TIE_SUFFIX):
        return "less: the shared given name already says this"
    return "term-frequency adjustment"


def _pair_counts(group: np.ndarray, values: np.ndarray, window: int | None) -> np.ndarray:
    """Per entity: other entities of its group whose value is equal (``window`` None) or
    within ``window`` of it."""
    order = np.lexsort((values, group))
    g, v = group[order], values[order]
    key = g.astype(np.int64) * np.int64(1 << 20) + v.astype(np.int64)
    reach = 0 if window is None else window
    near = np.searchsorted(key, key + reach, side="right") - np.searchsorted(key, key - reach, side="left")
    out = np.empty(len(key), dtype=np.int64)
    out[order] = near - 1
    return out


def _name_bits(entities: pd.DataFrame, column: str, window: int | None) -> pd.Series:
    """log2(share among all / share among bearers of one given name and different family
    names) of pairs agreeing on ``column``, per given name, capped at 0."""
    given, given_names = pd.factorize(entities[_GIVEN])
    family = pd.factorize(entities[_FAMILY])[0]
    values = pd.factorize(entities[column], sort=True)[0] if window is None else entities[column].to_numpy()
    values = np.asarray(values, dtype=np.int64)
    n_names = len(given_names)
    pair_family = pd.factorize(given.astype(np.int64) * np.int64(family.max(initial=0) + 1) + family)[0]
    close = _pair_counts(given, values, window) - _pair_counts(pair_family, values, window)
    n_given = np.bincount(given, minlength=n_names).astype(float)
    n_pair = np.bincount(pair_family).astype(float)[pair_family]
    pairs = np.bincount(given, weights=n_given[given] - n_pair, minlength=n_names)
    agree = np.bincount(given, weights=close, minlength=n_names)
    everyone = _pair_counts(np.zeros(len(values), dtype=np.int64), values, window)
    base = float(everyone.sum()) / max(float(len(values)) * (len(values) - 1), 1.0)
    if base <= 0:
        return pd.Series(dtype=float)
    share = (agree + SMOOTHING_PAIRS * base) / (pairs + SMOOTHING_PAIRS)
    return pd.Series(np.minimum(np.log2(base / share), 0.0), index=given_names, dtype=float)


def name_ties(prepared: pd.DataFrame, comparisons: Mapping[str, str]) -> NameTies | None:
    """The adjustments of ``comparisons`` (name -> kind, see :data:`TIE_KINDS`) counted over
    ``prepared`` records; None when there is nothing to adjust."""
    if not comparisons or _GIVEN not in prepared.columns or _FAMILY not in prepared.columns:
        return None
    bits: dict[str, pd.Series] = {}
    for kind in sorted(set(comparisons.values())):
        column = TIE_KINDS[kind]
        if column not in prepared.columns:
            continue
        values = prepared[column]
        if kind == "birth_year":
            values = pd.to_numeric(values, errors="coerce")
        table = pd.DataFrame({_GIVEN: prepared[_GIVEN], _FAMILY: prepared[_FAMILY], column: values})
        entities = table.dropna().drop_duplicates()
        if len(entities) > 1:
            window = BIRTH_WINDOW_YEARS if kind == "birth_year" else None
            bits[kind] = _name_bits(entities, column, window)
    kept = {name: kind for name, kind in comparisons.items() if kind in bits}
    return NameTies(bits, kept) if kept else None


def name_tie_adjustments(
    view: PairView,
    levels: np.ndarray,
    strata: np.ndarray,
    comparisons: Sequence[Comparison],
    ties: NameTies | None,
    rest: int,
) -> dict[str, np.ndarray]:
    """Adjustment (bits) per tied comparison, keyed by :func:`tie_term`: for pairs of the
    rest (``strata == rest``) whose given names are one name (the given-name comparison's
    ``same_value_levels``: exact, a nickname, a close spelling) and that agree on the tied
    comparison (any level but its null and its last). A nickname takes the mean of what
    its two forms say."""
    tied = tied_comparisons(comparisons, ties)
    if not tied or ties is None:
        return {}
    g = [c.name for c in comparisons].index("given_name")
    left, right = view.codes(_GIVEN)
    one_name = (strata == rest) & np.isin(levels[:, g], comparisons[g].same_value_levels)
    one_name &= (left >= 0) & (right >= 0)
    out: dict[str, np.ndarray] = {}
    for j in tied:
        comp, kind = comparisons[j], ties.comparisons[comparisons[j].name]
        lv = levels[:, j]
        at = np.flatnonzero(one_name & (lv > 0) & (lv < len(comp.levels) - 1))
        adj = np.zeros(len(view), dtype=np.float64)
        per_name = np.nan_to_num(view.record_lookup(_GIVEN, ties.bits[kind]), nan=0.0)
        adj[at] = (per_name[left[at]] + per_name[right[at]]) / 2
        out[tie_term(comp.name)] = adj
    return out
