"""Comparisons: small declarative objects that grade a pair of records field by field.

A :class:`Level` holds its parameters, computes one vectorised boolean for every pair
and has a human label. A :class:`Comparison` is an ordered list of levels; the first level
that applies to a pair is its level (level 0 is always "null": the field is missing on
one side and the comparison gives no evidence). Presets build the comparisons a
safeguarding data set needs: given and family names, date of birth, sex, location and
identifiers.

Pairs are given as a :class:`PairView`: the prepared records (see
:func:`linkage.prepare.prepare_records`) and two arrays of row positions. Columns are
turned into integer codes once, string similarities are computed once per distinct pair
of values, and every level is a numpy expression over the pairs: no Python loop per pair.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cpdist, extractOne

from ingest.errors import SettingsError
from linkage.arrays import member, sorted_unique

__all__ = [
    "RELATIONAL_COMPARISONS",
    "Comparison",
    "Level",
    "PairView",
    "child_at_home",
    "comparison_from_dict",
    "date_of_birth",
    "estimated_date_of_birth",
    "exact_match",
    "family_name",
    "fuzzy_text",
    "given_name",
    "identifier",
    "location",
    "shared_child",
    "stated_age",
]


def _member(values: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """``np.isin`` against ``allowed``, sorted and distinct (made once per record set, reused)."""
    return member(values, allowed, allowed_sorted=True)


#: Distinct value pairs from which Jaro–Winkler runs on several threads (they cost more below).
_PARALLEL_FROM = 20_000


def _jaro_winkler(left: np.ndarray, right: np.ndarray, uniques: np.ndarray, threads: int = 1) -> np.ndarray:
    """Similarity of coded values per pair: 1 where equal, 0 where either is null, and
    Jaro–Winkler computed once per distinct pair of different values (on up to ``threads``)."""
    sim = np.zeros(len(left), dtype=np.float32)
    sim[(left >= 0) & (left == right)] = 1.0
    todo = (left >= 0) & (right >= 0) & (left != right)
    if todo.any():
        n = np.int64(len(uniques))
        inverse, distinct = pd.factorize(left[todo].astype(np.int64) * n + right[todo])
        distinct = np.asarray(distinct, dtype=np.int64)
        scores = cpdist(
            uniques[distinct // n].tolist(),
            uniques[distinct % n].tolist(),
            scorer=JaroWinkler.normalized_similarity,
            dtype=np.float32,
            workers=threads if len(distinct) >= _PARALLEL_FROM else 1,
        )
        sim[todo] = scores[inverse]
    return sim


def _spelt_as(values: np.ndarray, pairs: set[tuple[str, str]], threshold: float) -> np.ndarray:
    """Each value, or the name of ``pairs`` it most likely misspells (ties: the first in order)."""
    known = sorted({a for a, _ in pairs})
    known_set = set(known)
    out = np.asarray(values, dtype=object).copy()
    for i, value in enumerate(out.tolist()):
        if not isinstance(value, str) or value in known_set or len(value) < 4:
            continue
        best = extractOne(value, known, scorer=JaroWinkler.normalized_similarity, score_cutoff=threshold)
        if best is not None:
            out[i] = best[0]
    return out


def _is_list(value: object) -> bool:
    """A list cell: a Python list, or an array as Arrow gives it."""
    return isinstance(value, (list, np.ndarray))


def _spread(offsets: np.ndarray, items: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position in ``rows``, item) for every item of every row of a CSR list column."""
    starts = offsets[rows]
    sizes = offsets[rows + 1] - starts
    owner = np.repeat(np.arange(len(rows), dtype=np.int64), sizes)
    first_of_owner = np.repeat(np.cumsum(sizes) - sizes, sizes)
    at = np.arange(len(owner), dtype=np.int64) - first_of_owner + np.repeat(starts, sizes)
    return owner, items[at]


# One empty set for every view without nicknames: caches are keyed by the set's identity.
_NO_NICKNAMES: set[tuple[str, str]] = set()


def _joint_items(columns: Sequence[pd.Series]) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """(list sizes per column, item codes of all columns in one code space, bounds of each
    column's items) of list columns of text; a cell that is not a list is empty, a null
    item -1. Arrow flattens and encodes them without a Python call per record."""
    text = pa.list_(pa.string())
    arrays = [pa.array(c.to_numpy(dtype=object), type=text, from_pandas=True) for c in columns]
    sizes = [np.asarray(a.value_lengths().fill_null(0), dtype=np.int64) for a in arrays]
    flat = [a.flatten() for a in arrays]
    codes = np.asarray(pc.dictionary_encode(pa.concat_arrays(flat)).indices.fill_null(-1), dtype=np.int64)
    return sizes, codes, np.cumsum([0, *(len(f) for f in flat)])


class PairView:
    """Pairs of prepared records, with cached integer codes and similarities per column."""

    def __init__(
        self,
        prepared: pd.DataFrame,
        left: np.ndarray,
        right: np.ndarray,
        *,
        nicknames: set[tuple[str, str]] | None = None,
        codes: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
        threads: int = 1,
    ) -> None:
        self.prepared = prepared
        self.left = np.asarray(left, dtype=np.int64)
        self.right = np.asarray(right, dtype=np.int64)
        self.nicknames = nicknames if nicknames is not None else _NO_NICKNAMES
        self.threads = threads  # most threads one computation over these pairs may use
        self._codes: dict[str, tuple[np.ndarray, np.ndarray]] = codes if codes is not None else {}
        self._cache: dict[Any, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.left)

    def subset(self, mask: np.ndarray | slice, *, threads: int | None = None) -> PairView:
        """A view of some of the pairs (a mask or a slice), sharing the per-record codes."""
        return PairView(
            self.prepared,
            self.left[mask],
            self.right[mask],
            nicknames=self.nicknames,
            codes=self._codes,
            threads=self.threads if threads is None else threads,
        )

    # per-record codes --------------------------------------------------------
    def record_codes(self, col: str) -> tuple[np.ndarray, np.ndarray]:
        """(codes per record with -1 for null, the distinct values) of a text column."""
        if col not in self._codes:
            codes, uniques = pd.factorize(self.prepared[col], use_na_sentinel=True)
            self._codes[col] = (codes.astype(np.int32), np.asarray(uniques, dtype=object))
        return self._codes[col]

    def codes(self, col: str) -> tuple[np.ndarray, np.ndarray]:
        key = ("codes", col)
        if key not in self._cache:
            c, _ = self.record_codes(col)
            self._cache[key] = c[self.left]
            self._cache[("codes_r", col)] = c[self.right]
        return self._cache[key], self._cache[("codes_r", col)]

    def record_numbers(self, col: str) -> np.ndarray:
        """A numeric column per record (NaN for missing), converted once for all views."""
        name = f"#num:{col}"
        if name not in self._codes:
            self._codes[name] = (self.prepared[col].to_numpy(dtype="float64"), np.empty(0, dtype=object))
        return self._codes[name][0]

    def record_has_list(self, col: str) -> np.ndarray:
        """True per record whose list column holds at least one item."""
        name = f"#has:{col}"
        if name not in self._codes:
            lists = self.prepared[col].to_numpy(dtype=object)
            has = np.fromiter((_is_list(x) and len(x) > 0 for x in lists), bool, len(lists))
            self._codes[name] = (has, np.empty(0, dtype=object))
        return self._codes[name][0]

    def numbers(self, col: str) -> tuple[np.ndarray, np.ndarray]:
        key = ("num", col)
        if key not in self._cache:
            values = self.record_numbers(col)
            self._cache[key] = values[self.left]
            self._cache[("num_r", col)] = values[self.right]
        return self._cache[key], self._cache[("num_r", col)]

    # pair predicates ---------------------------------------------------------
    def null(self, col: str) -> np.ndarray:
        cl, cr = self.codes(col)
        return (cl < 0) | (cr < 0)

    def equal(self, col_l: str, col_r: str | None = None) -> np.ndarray:
        """Both present and equal (``col_l`` of the left record, ``col_r`` of the right)."""
        if col_r is None or col_r == col_l:
            cl, cr = self.codes(col_l)
            return (cl >= 0) & (cl == cr)
        return self.equal_values(col_l, col_r)

    def shared_codes(self, col_a: str, col_b: str) -> tuple[np.ndarray, np.ndarray]:
        """Per-record codes of two columns in one code space (-1 for null)."""
        key = tuple(sorted((col_a, col_b)))
        name = f"{key[0]}|{key[1]}"
        if name not in self._codes:
            both = pd.concat([self.prepared[key[0]], self.prepared[key[1]]], ignore_index=True)
            codes, uniques = pd.factorize(both, use_na_sentinel=True)
            n = len(self.prepared)
            # the entry looked up last: a thread that finds it finds the other two
            self._codes[f"{name}|#0"] = (codes[:n].astype(np.int32), np.empty(0, dtype=object))
            self._codes[f"{name}|#1"] = (codes[n:].astype(np.int32), np.empty(0, dtype=object))
            self._codes[name] = (codes.astype(np.int32), np.asarray(uniques, dtype=object))
        first = self._codes[f"{name}|#0"][0]
        second = self._codes[f"{name}|#1"][0]
        return (first, second) if col_a == key[0] else (second, first)

    def equal_values(self, col_l: str, col_r: str) -> np.ndarray:
        """The left record's ``col_l`` equals the right record's ``col_r`` (both present)."""
        key = ("eqv", col_l, col_r)
        if key not in self._cache:
            codes_l, codes_r = self.shared_codes(col_l, col_r)
            a, b = codes_l[self.left], codes_r[self.right]
            self._cache[key] = (a >= 0) & (a == b)
        return self._cache[key]

    def similarity(self, col: str) -> np.ndarray:
        """Jaro–Winkler similarity per pair (0 where null), computed once per distinct value pair."""
        key = ("jw", col)
        if key not in self._cache:
            cl, cr = self.codes(col)
            self._cache[key] = _jaro_winkler(cl, cr, self.record_codes(col)[1], self.threads)
        return self._cache[key]

    def similarity_across(self, col_l: str, col_r: str) -> np.ndarray:
        """Jaro–Winkler of the left record's ``col_l`` and the right record's ``col_r``."""
        key = ("jwx", col_l, col_r)
        if key not in self._cache:
            codes_l, codes_r = self.shared_codes(col_l, col_r)
            pair = sorted((col_l, col_r))
            uniques = self._codes[f"{pair[0]}|{pair[1]}"][1]
            self._cache[key] = _jaro_winkler(codes_l[self.left], codes_r[self.right], uniques, self.threads)
        return self._cache[key]

    def _allowed_codes(self, col: str, pairs: set[tuple[str, str]], misspelt: float | None) -> np.ndarray:
        """Codes (left code * distinct values + right code) of the value pairs in ``pairs``, sorted.

        Worked out once per record set and shared by its views: reading every distinct
        value as the name it may misspell is a Python call per value.
        """
        name = f"#pairs:{id(pairs)}:{misspelt}:{col}"  # ends with the column, as forget() expects
        if name not in self._codes:
            _, uniques = self.record_codes(col)
            spelt = _spelt_as(uniques, pairs, misspelt) if misspelt is not None else uniques
            where: dict[str, list[int]] = {}
            for i, v in enumerate(spelt.tolist()):
                where.setdefault(v, []).append(i)
            n = np.int64(len(uniques))
            allowed = np.array(
                [
                    i * n + j
                    for a, b in pairs
                    if a in where and b in where
                    for i in where[a]
                    for j in where[b]
                ],
                dtype=np.int64,
            )
            self._codes[name] = (sorted_unique(allowed), np.empty(0, dtype=object))
        return self._codes[name][0]

    def in_pairs(self, col: str, pairs: set[tuple[str, str]], misspelt: float | None = None) -> np.ndarray:
        """True where (left value, right value) is one of ``pairs``.

        With ``misspelt``, a value that is none of the pairs' names is read as the name it
        is closest to (Jaro–Winkler at least ``misspelt``, four letters or more): "Amannda"
        and "Mandy" are then a pair, as "Amanda" and "Mandy" are.
        """
        key = ("pairs", col, id(pairs), misspelt)
        if key not in self._cache:
            cl, cr = self.codes(col)
            n = np.int64(len(self.record_codes(col)[1]))
            allowed = self._allowed_codes(col, pairs, misspelt)
            both = (cl >= 0) & (cr >= 0)
            out = np.zeros(len(self), dtype=bool)
            out[both] = _member(cl[both].astype(np.int64) * n + cr[both], allowed)
            self._cache[key] = out
        return self._cache[key]

    def _list_members(self, col: str, list_col: str) -> np.ndarray:
        """Sorted codes (record * (distinct values + 1) + value code) of the ``col`` values
        each record's ``list_col`` holds; worked out once per record set."""
        name = f"#inlist|{col}|{list_col}"
        if name not in self._codes:
            _, uniques = self.record_codes(col)
            index = {v: i for i, v in enumerate(uniques)}
            exploded = self.prepared[list_col].explode().dropna()
            found = exploded.map(index).dropna()
            n = np.int64(len(uniques) + 1)
            keys = sorted_unique(found.index.to_numpy(dtype=np.int64) * n + found.to_numpy(dtype=np.int64))
            self._codes[name] = (keys, np.empty(0, dtype=object))
        return self._codes[name][0]

    def record_is_initial(self, col: str) -> np.ndarray:
        """True per record whose ``col`` is a single letter."""
        name = f"#initial|{col}"
        if name not in self._codes:
            codes, uniques = self.record_codes(col)
            one = np.fromiter((len(u) == 1 for u in uniques.tolist()), bool, len(uniques))
            self._codes[name] = (np.append(one, False)[codes], np.empty(0, dtype=object))  # -1: null
        return self._codes[name][0]

    def record_lookup(self, col: str, table: pd.Series) -> np.ndarray:
        """``table``'s value (float, NaN if absent) for each distinct value of ``col``, by code."""
        name = f"#lookup|{col}"
        if name not in self._codes or self._codes[name][1][0] is not table:
            _, uniques = self.record_codes(col)
            values = pd.Series(uniques, dtype=object).map(table).to_numpy(dtype=float)
            held = np.empty(1, dtype=object)
            held[0] = table  # the table these values came from
            self._codes[name] = (values, held)
            return values
        return self._codes[name][0]

    def in_list(self, col: str, list_col: str) -> np.ndarray:
        """True where one side's ``col`` is in the other side's ``list_col`` (either way round)."""
        key = ("inlist", col, list_col)
        if key not in self._cache:
            codes, uniques = self.record_codes(col)
            n = np.int64(len(uniques) + 1)
            keys = self._list_members(col, list_col)
            out = np.zeros(len(self), dtype=bool)
            if len(keys):
                cl, cr = codes[self.left], codes[self.right]
                out |= (cl >= 0) & _member(self.right * n + cl, keys)
                out |= (cr >= 0) & _member(self.left * n + cr, keys)
            self._cache[key] = out
        return self._cache[key]

    def _list_items(self, col: str, other: str) -> tuple[np.ndarray, np.ndarray]:
        """(offsets per record, item codes) of list column ``col``, in one code space with
        list column ``other``: record i holds items[offsets[i]:offsets[i + 1]]."""
        pair = sorted((col, other))
        name = f"#items|{pair[0]}|{pair[1]}"
        if f"{name}|0" not in self._codes:
            sizes, codes, bounds = _joint_items([self.prepared[c] for c in dict.fromkeys(pair)])
            for i in (1, 0):  # the entry looked up first is made last: a thread that finds it finds both
                j = min(i, len(sizes) - 1)
                part = codes[bounds[j] : bounds[j + 1]].astype(np.int64)
                self._codes[f"{name}|{i}"] = (np.r_[0, np.cumsum(sizes[j])], part)
        first, second = self._codes[f"{name}|0"], self._codes[f"{name}|1"]
        return first if col == pair[0] else second

    def lists_intersect(self, col_l: str, col_r: str | None = None) -> np.ndarray:
        """True where the left record's list ``col_l`` shares an item with the right's ``col_r``."""
        col_r = col_r or col_l
        key = ("lists", col_l, col_r)
        if key not in self._cache:
            out = np.zeros(len(self), dtype=bool)
            if col_l in self.prepared.columns and col_r in self.prepared.columns:
                off_l, items_l = self._list_items(col_l, col_r)
                off_r, items_r = self._list_items(col_r, col_l)
                has_l, has_r = off_l[1:] > off_l[:-1], off_r[1:] > off_r[:-1]
                idx = np.flatnonzero(has_l[self.left] & has_r[self.right])
                if len(idx):
                    pair_l, item_l = _spread(off_l, items_l, self.left[idx])
                    pair_r, item_r = _spread(off_r, items_r, self.right[idx])
                    pair_l, item_l = pair_l[item_l >= 0], item_l[item_l >= 0]  # null items match nothing
                    pair_r, item_r = pair_r[item_r >= 0], item_r[item_r >= 0]
                    width = np.int64(max(items_l.max(initial=0), items_r.max(initial=0)) + 1)
                    shared = member(pair_r * width + item_r, pair_l * width + item_l)
                    out[idx[pair_r[shared]]] = True
            self._cache[key] = out
        return self._cache[key]

    def list_empty(self, col: str) -> np.ndarray:
        """True where either side's list ``col`` is missing or empty."""
        if col not in self.prepared.columns:
            return np.ones(len(self), dtype=bool)
        has = self.record_has_list(col)
        return ~(has[self.left] & has[self.right])


# ----------------------------------------------------------------------------- levels


@dataclass(frozen=True)
class Level:
    """One grade of agreement. Subclasses compute :meth:`applies` for every pair."""

    label: str
    kind: ClassVar[str] = "level"

    def applies(self, v: PairView) -> np.ndarray:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": self.label}


@dataclass(frozen=True)
class NullLevel(Level):
    """Any of the columns missing on either side: no evidence either way."""

    columns: tuple[str, ...] = ()
    kind: ClassVar[str] = "null"

    def applies(self, v: PairView) -> np.ndarray:
        if len(self.columns) == 1:
            return v.null(self.columns[0])
        # null when, for every column, one side lacks it
        out = np.ones(len(v), dtype=bool)
        for col in self.columns:
            out &= v.null(col)
        return out


@dataclass(frozen=True)
class ExactLevel(Level):
    column: str = ""
    kind: ClassVar[str] = "exact"

    def applies(self, v: PairView) -> np.ndarray:
        return v.equal(self.column)


@dataclass(frozen=True)
class SamePropertyLevel(Level):
    """The same UPRN or address line; or the same house number and street (``address_key``)
    with no postcode that disagrees. A street or block name recurs across a town ("FLAT 36
    PARK POINT" in two postcodes), so the number and street alone do not name a property."""

    kind: ClassVar[str] = "same_property"

    def applies(self, v: PairView) -> np.ndarray:
        postcode_allows = v.equal("postcode") | v.null("postcode")
        return v.equal("uprn") | v.equal("address") | (v.equal("address_key") & postcode_allows)


@dataclass(frozen=True)
class JaroWinklerLevel(Level):
    column: str = ""
    threshold: float = 0.9
    kind: ClassVar[str] = "jaro_winkler"

    def applies(self, v: PairView) -> np.ndarray:
        return v.similarity(self.column) >= self.threshold


@dataclass(frozen=True)
class SwappedLevel(Level):
    """Given and family names recorded the wrong way round on one side."""

    first: str = "given"
    second: str = "family"
    kind: ClassVar[str] = "swapped"

    def applies(self, v: PairView) -> np.ndarray:
        return v.equal_values(self.first, self.second) & v.equal_values(self.second, self.first)


@dataclass(frozen=True)
class SwappedCloseLevel(Level):
    """Given and family names swapped on one side, and each close (a typo as well)."""

    first: str = "given_full"
    second: str = "family"
    threshold: float = 0.9
    kind: ClassVar[str] = "swapped_close"

    def applies(self, v: PairView) -> np.ndarray:
        return (v.similarity_across(self.first, self.second) >= self.threshold) & (
            v.similarity_across(self.second, self.first) >= self.threshold
        )


@dataclass(frozen=True)
class CrossLevel(Level):
    """One side's column equals the other side's other column (a given name used as middle name)."""

    first: str = "given"
    second: str = "middle"
    kind: ClassVar[str] = "cross"

    def applies(self, v: PairView) -> np.ndarray:
        return v.equal_values(self.first, self.second) | v.equal_values(self.second, self.first)


@dataclass(frozen=True)
class NicknameLevel(Level):
    column: str = "given"
    misspelt: float = 0.92  # a misspelt name is read as the listed name it is closest to
    kind: ClassVar[str] = "nickname"

    def applies(self, v: PairView) -> np.ndarray:
        return v.in_pairs(self.column, v.nicknames, misspelt=self.misspelt)


@dataclass(frozen=True)
class InitialLevel(Level):
    """One side is an initial only, and it is the other's initial."""

    column: str = "given"
    kind: ClassVar[str] = "initial"

    def applies(self, v: PairView) -> np.ndarray:
        one = v.record_is_initial(self.column)
        initial = f"{self.column}_initial"
        return (one[v.left] | one[v.right]) & v.equal(initial)


@dataclass(frozen=True)
class AliasLevel(Level):
    """A former or alias name on one side is the other's name."""

    column: str = "family"
    aliases: str = "aliases"
    kind: ClassVar[str] = "alias"

    def applies(self, v: PairView) -> np.ndarray:
        return v.in_list(self.column, self.aliases)


@dataclass(frozen=True)
class PartsLevel(Level):
    """A double-barrelled name shares a part with the other side's name."""

    column: str = "family"
    parts: tuple[str, ...] = ("family_part1", "family_part2")
    kind: ClassVar[str] = "parts"

    def applies(self, v: PairView) -> np.ndarray:
        cols = (self.column, *self.parts)
        out = np.zeros(len(v), dtype=bool)
        for a in cols:
            for b in cols:
                if a == self.column and b == self.column:
                    continue
                out |= v.equal_values(a, b)
        return out


@dataclass(frozen=True)
class DateExactLevel(Level):
    kind: ClassVar[str] = "date_exact"

    def applies(self, v: PairView) -> np.ndarray:
        dl, dr = v.numbers("dob_days")
        return dl == dr


@dataclass(frozen=True)
class DateTransposedLevel(Level):
    kind: ClassVar[str] = "date_transposed"

    def applies(self, v: PairView) -> np.ndarray:
        yl, yr = v.numbers("dob_y")
        ml, mr = v.numbers("dob_m")
        dl, dr = v.numbers("dob_d")
        return (yl == yr) & (ml == dr) & (dl == mr)


@dataclass(frozen=True)
class DateOneComponentLevel(Level):
    """Two of year, month and day agree (a typo in one component)."""

    kind: ClassVar[str] = "date_one_component"

    def applies(self, v: PairView) -> np.ndarray:
        agree = sum(
            (a == b).astype(np.int8) for a, b in (v.numbers("dob_y"), v.numbers("dob_m"), v.numbers("dob_d"))
        )
        return agree >= 2


@dataclass(frozen=True)
class DateSameYearLevel(Level):
    kind: ClassVar[str] = "date_same_year"

    def applies(self, v: PairView) -> np.ndarray:
        yl, yr = v.numbers("dob_y")
        return yl == yr


@dataclass(frozen=True)
class DateEstimatedLevel(Level):
    """Either date of birth estimated from an age, and the two within ``days``."""

    days: float = 731.0
    kind: ClassVar[str] = "date_estimated"

    def applies(self, v: PairView) -> np.ndarray:
        rl, rr = v.numbers("dob_days")
        el, er = v.numbers("dob_est_days")
        left = np.where(np.isnan(rl), el, rl)
        right = np.where(np.isnan(rr), er, rr)
        either_est = ~np.isnan(el) | ~np.isnan(er)
        with np.errstate(invalid="ignore"):
            return either_est & (np.abs(left - right) <= self.days)


@dataclass(frozen=True)
class DateNullLevel(Level):
    """Either side has no date of birth (with ``real_only``: no real one, an estimate aside)."""

    real_only: bool = False
    kind: ClassVar[str] = "date_null"

    def applies(self, v: PairView) -> np.ndarray:
        rl, rr = v.numbers("dob_days")
        if self.real_only:
            return np.isnan(rl) | np.isnan(rr)
        el, er = v.numbers("dob_est_days")
        return (np.isnan(rl) & np.isnan(el)) | (np.isnan(rr) & np.isnan(er))


@dataclass(frozen=True)
class DateNotEstimatedLevel(Level):
    """No date estimated from an age on either side, or no date at all on one side."""

    kind: ClassVar[str] = "date_not_estimated"

    def applies(self, v: PairView) -> np.ndarray:
        rl, rr = v.numbers("dob_days")
        el, er = v.numbers("dob_est_days")
        no_date = (np.isnan(rl) & np.isnan(el)) | (np.isnan(rr) & np.isnan(er))
        return no_date | (np.isnan(el) & np.isnan(er))


def known_births(v: PairView) -> tuple[np.ndarray, np.ndarray]:
    """Each side's date of birth (days since 1970): the real one, else one estimated from an age."""
    dl, dr = v.numbers("dob_days")
    el, er = v.numbers("dob_est_days")
    return np.where(np.isnan(dl), el, dl), np.where(np.isnan(dr), er, dr)


@dataclass(frozen=True)
class StatedAgeNullLevel(Level):
    """No known date of birth on one side to test against the other's stated relationships
    (either way), or real dates of birth on both sides (the date comparison weighs those)."""

    kind: ClassVar[str] = "stated_age_null"

    def applies(self, v: PairView) -> np.ndarray:
        born_l, born_r = known_births(v)
        dl, dr = v.numbers("dob_days")
        latest_l, latest_r = v.numbers("dob_latest_days")
        earliest_l, earliest_r = v.numbers("dob_earliest_days")
        bounded_l = ~np.isnan(latest_l) | ~np.isnan(earliest_l)
        bounded_r = ~np.isnan(latest_r) | ~np.isnan(earliest_r)
        testable = (~np.isnan(born_l) & bounded_r) | (~np.isnan(born_r) & bounded_l)
        return ~testable | (~np.isnan(dl) & ~np.isnan(dr))


@dataclass(frozen=True)
class StatedAgeUsualLevel(Level):
    """Each side's known date of birth inside the usual window that the other side's stated
    relationships set (a mother 16 to 45 years older than her child)."""

    kind: ClassVar[str] = "stated_age_usual"

    def applies(self, v: PairView) -> np.ndarray:
        born_l, born_r = known_births(v)
        earliest_l, earliest_r = v.numbers("dob_usual_earliest_days")
        latest_l, latest_r = v.numbers("dob_usual_latest_days")
        with np.errstate(invalid="ignore"):
            left_outside = (born_l < earliest_r) | (born_l > latest_r)
            right_outside = (born_r < earliest_l) | (born_r > latest_l)
        return ~(left_outside | right_outside)


@dataclass(frozen=True)
class EmptyListLevel(Level):
    """Either side has nothing in the list column: no evidence."""

    column: str = ""
    kind: ClassVar[str] = "empty_list"

    def applies(self, v: PairView) -> np.ndarray:
        return v.list_empty(self.column)


@dataclass(frozen=True)
class SharedItemLevel(Level):
    """The two records' list columns share an item."""

    column: str = ""
    kind: ClassVar[str] = "shared_item"

    def applies(self, v: PairView) -> np.ndarray:
        return v.lists_intersect(self.column)


@dataclass(frozen=True)
class OneSidedListNullLevel(Level):
    """No evidence unless exactly one record has items in the list ``column``, and that one
    has some in the list ``held`` and the other a value in the text ``item``, unlike its own
    (one address on both records is the location's evidence, not this)."""

    column: str = ""
    held: str = ""
    item: str = ""
    kind: ClassVar[str] = "one_sided_list_null"

    def applies(self, v: PairView) -> np.ndarray:
        if not {self.column, self.held, self.item} <= set(v.prepared.columns):  # before the first clustering
            return np.ones(len(v), dtype=bool)
        has = v.record_has_list(self.column)
        held = v.record_has_list(self.held)
        item = pd.notna(v.prepared[self.item]).to_numpy()
        left_holds = has[v.left] & ~has[v.right] & held[v.left] & item[v.right]
        right_holds = has[v.right] & ~has[v.left] & held[v.right] & item[v.left]
        return ~(left_holds | right_holds) | v.equal(self.item)


@dataclass(frozen=True)
class HeldItemLevel(Level):
    """Either record's list ``column`` holds the other's text ``item``."""

    column: str = ""
    item: str = ""
    kind: ClassVar[str] = "held_item"

    def applies(self, v: PairView) -> np.ndarray:
        if self.column not in v.prepared.columns:  # before the first clustering
            return np.zeros(len(v), dtype=bool)
        return v.in_list(self.item, self.column)


@dataclass(frozen=True)
class ElseLevel(Level):
    kind: ClassVar[str] = "else"

    def applies(self, v: PairView) -> np.ndarray:
        return np.ones(len(v), dtype=bool)


# ----------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class Comparison:
    """An ordered list of levels for one aspect of a person; level 0 is the null level.

    ``tf_column`` names the column whose value frequencies adjust the weight of the
    ``tf_levels`` (term-frequency adjustment: agreeing on a rare name is stronger evidence).
    A ``check`` only weighs against a match (its weights are capped at 0): what it finds in
    agreement, other comparisons have already counted. ``same_value_levels`` are those at
    which the two values are one (a nickname, a close spelling): for given names, where what
    the name says about sex and age is shared (:mod:`linkage.name_ties`).
    """

    name: str
    levels: tuple[Level, ...]
    tf_column: str | None = None
    tf_levels: tuple[int, ...] = ()
    preset: Mapping[str, Any] = field(default_factory=dict)
    check: bool = False
    same_value_levels: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if len(self.levels) < 2 or not isinstance(self.levels[-1], ElseLevel):
            raise SettingsError(f"comparison {self.name!r}: needs a null level, some levels and a final else")

    @property
    def labels(self) -> list[str]:
        return [lvl.label for lvl in self.levels]

    def grade(self, v: PairView) -> np.ndarray:
        """The level (int8) of every pair: the first level that applies."""
        out = np.full(len(v), len(self.levels) - 1, dtype=np.int8)
        undecided = np.ones(len(v), dtype=bool)
        for i, level in enumerate(self.levels[:-1]):
            if not undecided.any():
                break
            hit = undecided & level.applies(v)
            out[hit] = i
            undecided &= ~hit
        return out

    def to_dict(self) -> dict[str, Any]:
        return dict(self.preset) if self.preset else {"name": self.name}


def given_name(*, close: float = 0.92, fuzzy: float = 0.85) -> Comparison:
    """Given names: exact, swapped with the family name, nickname, close and fuzzy spellings,
    known by the middle name, initial only."""
    return Comparison(
        "given_name",
        (
            NullLevel("given name missing", columns=("given",)),
            ExactLevel("given names exact", column="given_full"),
            ExactLevel("first given name exact", column="given"),
            SwappedLevel("given and family names swapped", first="given_full", second="family"),
            NicknameLevel("nickname or variant", column="given"),
            JaroWinklerLevel(f"Jaro-Winkler >= {close}", column="given", threshold=close),
            CrossLevel("known by middle name", first="given", second="middle"),
            JaroWinklerLevel(f"Jaro-Winkler >= {fuzzy}", column="given", threshold=fuzzy),
            SwappedCloseLevel("names swapped, with a typo", first="given_full", second="family"),
            ExactLevel("sounds alike (metaphone)", column="given_metaphone"),
            InitialLevel("initial only, agrees", column="given"),
            ElseLevel("different"),
        ),
        tf_column="given",
        tf_levels=(1, 2),
        preset={"preset": "given_name", "close": close, "fuzzy": fuzzy},
        same_value_levels=(1, 2, 4, 5),
    )


def family_name(*, close: float = 0.92) -> Comparison:
    """Family names: exact, a former or alias name, a part of a double-barrelled name,
    a close spelling, sounding alike.

    Swapped names are graded once, by the given-name comparison: grading the swap here too
    would count one piece of evidence twice."""
    return Comparison(
        "family_name",
        (
            NullLevel("family name missing", columns=("family",)),
            ExactLevel("exact", column="family"),
            AliasLevel("former or alias family name", column="family", aliases="aliases"),
            PartsLevel("part of a double-barrelled name"),
            JaroWinklerLevel(f"Jaro-Winkler >= {close}", column="family", threshold=close),
            ExactLevel("sounds alike (metaphone)", column="family_metaphone"),
            ElseLevel("different"),
        ),
        tf_column="family",
        tf_levels=(1,),
        preset={"preset": "family_name", "close": close},
    )


def date_of_birth(*, estimated_days: float | None = None) -> Comparison:
    """Real dates of birth: exact, day and month transposed, one component off, same year only.

    A date estimated from an age is compared by :func:`estimated_date_of_birth`, so that
    each has m and u of its own: how often an estimate falls near a stranger's date of
    birth is not how often two real dates agree. ``estimated_days`` (settings written
    before the split) compares both here, as one level among the others.
    """
    if estimated_days is None:
        return Comparison(
            "dob",
            (
                DateNullLevel("date of birth missing or only estimated", real_only=True),
                DateExactLevel("exact"),
                DateTransposedLevel("day and month transposed"),
                DateOneComponentLevel("one of day, month, year differs"),
                DateSameYearLevel("same year only"),
                ElseLevel("different"),
            ),
            preset={"preset": "date_of_birth"},
        )
    return Comparison(
        "dob",
        (
            DateNullLevel("date of birth missing"),
            DateExactLevel("exact"),
            DateTransposedLevel("day and month transposed"),
            DateOneComponentLevel("one of day, month, year differs"),
            DateEstimatedLevel(f"estimated from age, within {estimated_days:.0f} days", days=estimated_days),
            DateSameYearLevel("same year only"),
            ElseLevel("different"),
        ),
        preset={"preset": "date_of_birth", "estimated_days": estimated_days},
    )


def estimated_date_of_birth(*, within_days: float = 731.0) -> Comparison:
    """A date of birth estimated from an age (police parties) against the other record's date."""
    return Comparison(
        "dob_estimated",
        (
            DateNotEstimatedLevel("no estimated date of birth, or a date missing"),
            DateEstimatedLevel(f"estimated from age, within {within_days:.0f} days", days=within_days),
            ElseLevel("estimated from age, further apart"),
        ),
        preset={"preset": "estimated_date_of_birth", "within_days": within_days},
    )


def stated_age() -> Comparison:
    """A known date of birth against the ages the other record's stated relationships imply.

    A school contact named as a pupil's mother has no date of birth, but she was born some
    16 to 45 years before the pupil. A record of the same name born 53 years before (her
    own mother, say) is possible but unusual, and weighs against; one born after the pupil
    is impossible (a hard conflict as well). No evidence where both records have real dates
    of birth: the date of birth comparison weighs those.

    It is a check: a usual age adds nothing for a match, because given names already date a
    generation (counting both would count one thing twice). On the demo data, letting it
    count for a match as well merged two pairs of strangers of one name.
    """
    return Comparison(
        "stated_age",
        (
            StatedAgeNullLevel("no date of birth to test against a stated relationship"),
            StatedAgeUsualLevel("a usual age for what the sources state"),
            ElseLevel("an unusual (or impossible) age for what the sources state"),
        ),
        preset={"preset": "stated_age"},
        check=True,
    )


def location() -> Comparison:
    """Where the person lives: the same property, postcode, sector or district."""
    return Comparison(
        "location",
        (
            NullLevel("no address or postcode", columns=("postcode", "address", "uprn")),
            SamePropertyLevel("same property (UPRN, address, or house number and street in one postcode)"),
            ExactLevel("same postcode", column="postcode"),
            ExactLevel("same postcode sector", column="sector"),
            ExactLevel("same postcode district", column="district"),
            ElseLevel("different"),
        ),
        tf_column="postcode",
        tf_levels=(2,),
        preset={"preset": "location"},
    )


def exact_match(column: str, name: str | None = None) -> Comparison:
    """A categorical field: missing, equal, different."""
    return Comparison(
        name or column,
        (
            NullLevel(f"{column} missing", columns=(column,)),
            ExactLevel("equal", column=column),
            ElseLevel("different"),
        ),
        preset={"preset": "exact", "column": column, **({"name": name} if name else {})},
    )


def fuzzy_text(
    column: str, name: str | None = None, thresholds: Sequence[float] = (0.95, 0.88)
) -> Comparison:
    """Any text field: missing, exact, Jaro–Winkler bands, different (e.g. a locality, or an
    identifier keyed by hand with typos)."""
    levels: list[Level] = [
        NullLevel(f"{column} missing", columns=(column,)),
        ExactLevel("exact", column=column),
    ]
    levels += [
        JaroWinklerLevel(f"Jaro-Winkler >= {t}", column=column, threshold=float(t)) for t in thresholds
    ]
    levels.append(ElseLevel("different"))
    return Comparison(
        name or column,
        tuple(levels),
        preset={
            "preset": "fuzzy_text",
            "column": column,
            "thresholds": list(thresholds),
            **({"name": name} if name else {}),
        },
    )


def identifier(column: str, name: str | None = None) -> Comparison:
    """A checked identifier (only valid ones are compared): missing, equal, different."""
    return Comparison(
        name or column,
        (
            NullLevel("missing or invalid on one side", columns=(column,)),
            ExactLevel("valid and equal", column=column),
            ElseLevel("valid and different"),
        ),
        preset={"preset": "identifier", "column": column, **({"name": name} if name else {})},
    )


#: Comparisons that read the relational columns (the stated children of a first clustering's
#: people): graded again in the second pass.
RELATIONAL_COMPARISONS = frozenset({"shared_child", "child_at_home"})


def shared_child() -> Comparison:
    """Relational evidence: both records stated (by any source) as the mother, or both as the
    father, of one person; or both as a parent or carer of one person; or both as the mother
    (or the father) of different people recorded at one address (a mother's baby in health
    and her older child at school); or as parents of different people recorded at one
    address. The people are those of a first clustering; before it, and for records no
    source states a child of, no evidence."""
    return Comparison(
        "shared_child",
        (
            EmptyListLevel("no stated children on one side", column="children_any"),
            SharedItemLevel("same parent role (mother or father) of one person", column="children_role"),
            SharedItemLevel("parent or carer of one person", column="children_any"),
            SharedItemLevel(
                "same parent role of different people recorded at one address", column="children_role_homes"
            ),
            SharedItemLevel("parents of different people recorded at one address", column="children_homes"),
            ElseLevel("parents of different people"),
        ),
        preset={"preset": "shared_child"},
    )


def child_at_home() -> Comparison:
    """Relational evidence for a record with stated children against one without: a child of
    the one (any record of that first-pass person) recorded at the other's address. It
    leaves pairs of two stated parents to :func:`shared_child`, so nothing counts twice."""
    return Comparison(
        "child_at_home",
        (
            OneSidedListNullLevel(
                "not one record with stated children and the other with an address",
                column="children_any",
                held="children_homes",
                item="home",
            ),
            HeldItemLevel(
                "a stated child of one recorded at the other's address", column="children_homes", item="home"
            ),
            ElseLevel("the stated children of one not recorded at the other's address"),
        ),
        preset={"preset": "child_at_home"},
    )


_PRESETS: dict[str, Callable[..., Comparison]] = {
    "child_at_home": child_at_home,
    "shared_child": shared_child,
    "stated_age": stated_age,
    "given_name": given_name,
    "family_name": family_name,
    "date_of_birth": date_of_birth,
    "estimated_date_of_birth": estimated_date_of_birth,
    "location": location,
    "exact": exact_match,
    "fuzzy_text": fuzzy_text,
    "identifier": identifier,
}


def comparison_from_dict(d: Mapping[str, Any], where: str = "comparison") -> Comparison:
    """Build a comparison from its settings document, e.g. ``{preset: identifier, column: nhs}``."""
    if not isinstance(d, Mapping) or "preset" not in d:
        raise SettingsError(f"{where}: give a preset, one of {sorted(_PRESETS)}")
    params = {k: v for k, v in d.items() if k != "preset"}
    try:
        factory = _PRESETS[d["preset"]]
    except KeyError:
        raise SettingsError(f"{where}: unknown preset {d['preset']!r}; known: {sorted(_PRESETS)}") from None
    try:
        return factory(**params)
    except TypeError as exc:
        raise SettingsError(
            f"{where}: bad parameters {sorted(params)} for preset {d['preset']!r} ({exc})"
        ) from None
