"""Blocking: candidate pairs from a union of rules, each counted before it is run.

A rule names columns of the prepared records; two records are a candidate pair when they
agree on all of them (or, for a rule with ``reverse``, when one record's ``keys`` equal the
other's ``reverse`` columns: given and family names swapped, day and month swapped).
Pairs a rule shares with an earlier rule are counted once, under the earlier rule.

Every rule's pair count is computed exactly from its block sizes before any pair is made;
a rule that would make more than ``max_pairs_per_rule`` is refused with advice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ingest.errors import SettingsError
from linkage.arrays import sorted_unique
from linkage.errors import LinkageError

__all__ = ["LINK_TYPES", "BlockingResult", "BlockingRule", "block", "count_rule_pairs"]

LINK_TYPES = ("dedupe_only", "link_only", "link_and_dedupe")


@dataclass(frozen=True)
class BlockingRule:
    """Records agree on every column of ``keys`` (or ``keys`` against ``reverse``)."""

    name: str
    keys: tuple[str, ...]
    reverse: tuple[str, ...] | None = None
    max_block_size: int | None = None  # larger blocks are left out of this rule (and counted)

    @classmethod
    def from_dict(cls, d: Any, where: str = "blocking rule") -> BlockingRule:
        if not isinstance(d, Mapping):
            raise SettingsError(f"{where}: expected a mapping with name and keys")
        unknown = sorted(set(d) - {"name", "keys", "reverse", "max_block_size"})
        if unknown:
            raise SettingsError(f"{where}: unknown key(s) {unknown}")
        if not d.get("keys"):
            raise SettingsError(f"{where}: give the columns the rule blocks on as keys")
        keys = tuple(str(k) for k in d["keys"])
        reverse = tuple(str(k) for k in d["reverse"]) if d.get("reverse") else None
        if reverse is not None and len(reverse) != len(keys):
            raise SettingsError(f"{where}: reverse must name as many columns as keys")
        cap = d.get("max_block_size")
        return cls(
            name=str(d.get("name") or "+".join(keys)),
            keys=keys,
            reverse=reverse,
            max_block_size=int(cap) if cap is not None else None,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "keys": list(self.keys)}
        if self.reverse:
            out["reverse"] = list(self.reverse)
        if self.max_block_size is not None:
            out["max_block_size"] = self.max_block_size
        return out


@dataclass(frozen=True)
class BlockingResult:
    """Candidate pairs (row positions, left < right) and the rule that first found each."""

    left: np.ndarray
    right: np.ndarray
    rule: np.ndarray
    counts: pd.DataFrame  # rule, pairs (rule alone), new_pairs, blocks_left_out
    codes: dict[str, np.ndarray]  # per rule: each record's block code (-1: none)

    def agree(self, rule: str, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """True where the pair shares a block of ``rule`` (forward rules only)."""
        c = self.codes[rule]
        return (c[left] >= 0) & (c[left] == c[right])


def _capped(codes: np.ndarray, max_block_size: int | None) -> tuple[np.ndarray, int]:
    """Codes with blocks larger than ``max_block_size`` removed (-1), and how many were."""
    if max_block_size is None:
        return codes, 0
    valid = codes >= 0
    sizes = np.bincount(codes[valid]) if valid.any() else np.zeros(0, np.int64)
    big = np.flatnonzero(sizes > max_block_size)
    if len(big) == 0:
        return codes, 0
    out = codes.copy()
    out[valid & (sizes > max_block_size)[np.maximum(codes, 0)]] = -1
    return out, len(big)


ColumnCodes = dict[str, tuple[np.ndarray, int]]


def _key_codes(
    prepared: pd.DataFrame,
    columns: Sequence[str],
    extra: pd.DataFrame | None = None,
    cache: ColumnCodes | None = None,
) -> np.ndarray:
    """One int64 code per record for the tuple of ``columns`` (-1 when any is null).

    With ``extra`` (the right-hand columns of a reverse rule, in the same order) the codes
    of both are returned concatenated, in one shared code space. ``cache`` keeps each
    column's codes for the next rule that reads it (not used with ``extra``).
    """
    n = len(prepared)
    total = n + (len(extra) if extra is not None else 0)
    code = np.zeros(total, dtype=np.int64)
    null = np.zeros(total, dtype=bool)
    for i, col in enumerate(columns):
        if extra is None and cache is not None and col in cache:
            c, distinct = cache[col]
        else:
            values = prepared[col]
            if extra is not None:
                values = pd.concat([values, extra.iloc[:, i]], ignore_index=True)
            c, uniques = pd.factorize(values, use_na_sentinel=True)
            distinct = len(uniques)
            if extra is None and cache is not None:
                cache[col] = (c, distinct)
        null |= c < 0
        code = code * (distinct + 1) + (c + 1)
        if i < len(columns) - 1:  # keep codes small
            code = pd.factorize(code)[0].astype(np.int64)
    code[null] = -1
    code[~null] = pd.factorize(code[~null])[0]
    return code


def _sizes(codes: np.ndarray) -> np.ndarray:
    valid = codes[codes >= 0]
    return np.bincount(pd.factorize(valid)[0]) if len(valid) else np.zeros(0, dtype=np.int64)


def _rule_codes(
    prepared: pd.DataFrame, rule: BlockingRule, cache: ColumnCodes | None = None
) -> tuple[np.ndarray, int]:
    """A rule's block codes (capped blocks left out: -1) and how many blocks were left out;
    for a reverse rule, the left and the right codes concatenated."""
    if rule.reverse is None:
        return _capped(_key_codes(prepared, rule.keys, cache=cache), rule.max_block_size)
    return _key_codes(prepared, rule.keys, prepared[list(rule.reverse)]), 0


def count_rule_pairs(prepared: pd.DataFrame, rule: BlockingRule, link_type: str = "link_and_dedupe") -> int:
    """Exact number of pairs a rule alone makes (before de-duplication against other rules)."""
    return _pairs_of_codes(prepared, rule, _rule_codes(prepared, rule)[0], link_type)


def _pairs_of_codes(prepared: pd.DataFrame, rule: BlockingRule, codes: np.ndarray, link_type: str) -> int:
    if rule.reverse is None:
        sizes = _sizes(codes).astype(np.int64)
        total = int((sizes * (sizes - 1) // 2).sum())
        if link_type == "link_only":
            both = pd.DataFrame({"c": codes, "s": prepared["source"].to_numpy()})
            both = both[both["c"] >= 0]
            within = both.groupby(["c", "s"]).size().to_numpy(dtype=np.int64)
            total -= int((within * (within - 1) // 2).sum())
        return total
    n = len(prepared)
    cl, cr = codes[:n], codes[n:]
    left_counts = pd.Series(cl[cl >= 0]).value_counts()
    right_counts = pd.Series(cr[cr >= 0]).value_counts()
    joint = left_counts.mul(right_counts, fill_value=0)
    return int(joint.sum())


def _within_blocks(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (i < j by position) of records sharing a code."""
    idx = np.flatnonzero(codes >= 0)
    if len(idx) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.argsort(codes[idx], kind="stable")
    idx = idx[order]
    c = codes[idx]
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    sizes = np.diff(np.r_[starts, len(c)])
    group_start = np.repeat(starts, sizes)
    offset = np.arange(len(c)) - group_start
    after = np.repeat(sizes, sizes) - 1 - offset
    total = int(after.sum())
    left_pos = np.repeat(np.arange(len(c)), after)
    first = np.cumsum(after) - after
    right_pos = left_pos + 1 + (np.arange(total) - np.repeat(first, after))
    a, b = idx[left_pos], idx[right_pos]
    return np.minimum(a, b), np.maximum(a, b)


def _across(codes_l: np.ndarray, codes_r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (a, b) with codes_l[a] == codes_r[b], a != b, as (min, max), without repeats."""
    left = pd.DataFrame({"c": codes_l, "a": np.arange(len(codes_l))})
    right = pd.DataFrame({"c": codes_r, "b": np.arange(len(codes_r))})
    m = left[left["c"] >= 0].merge(right[right["c"] >= 0], on="c")
    a, b = m["a"].to_numpy(np.int64), m["b"].to_numpy(np.int64)
    keep = a != b
    lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    n = np.int64(len(codes_l))
    packed = sorted_unique(lo * n + hi)
    return packed // n, packed % n


def block(
    prepared: pd.DataFrame,
    rules: Sequence[BlockingRule],
    *,
    link_type: str = "link_and_dedupe",
    max_pairs_per_rule: int = 50_000_000,
) -> BlockingResult:
    """Candidate pairs of ``prepared`` records from the union of ``rules``.

    Raises
    ------
    LinkageError
        When a rule would make more than ``max_pairs_per_rule`` pairs (it is not run).
    """
    if link_type not in LINK_TYPES:
        raise SettingsError(f"link_type {link_type!r} is not one of {LINK_TYPES}")
    missing = sorted({c for r in rules for c in (*r.keys, *(r.reverse or ())) if c not in prepared.columns})
    if missing:
        raise SettingsError(f"blocking rules name unknown column(s) {missing}")
    n = len(prepared)
    sources = pd.factorize(prepared["source"])[0]
    lefts, rights, rule_ids, rows = [], [], [], []
    all_codes: dict[str, np.ndarray] = {}
    earlier: list[tuple[BlockingRule, np.ndarray]] = []
    column_codes: ColumnCodes = {}
    for k, rule in enumerate(rules):
        codes, left_out = _rule_codes(prepared, rule, column_codes)
        expected = _pairs_of_codes(prepared, rule, codes, link_type)
        if expected > max_pairs_per_rule:
            if rule.reverse is None:
                biggest = int(_sizes(_key_codes(prepared, rule.keys, cache=column_codes)).max(initial=0))
            else:
                biggest = -1
            raise LinkageError(
                f"blocking rule {rule.name!r} would make {expected:,} pairs, more than the limit of "
                f"{max_pairs_per_rule:,}"
                + (f" (its largest block holds {biggest:,} records)" if biggest >= 0 else "")
                + ". Add a column to the rule (e.g. birth_year or given_initial) to make its blocks "
                "smaller, or raise blocking.max_pairs_per_rule if the machine has the memory."
            )
        if rule.reverse is None:
            a, b = _within_blocks(codes)
        else:
            a, b = _across(codes[:n], codes[n:])
        if link_type == "link_only":
            keep = sources[a] != sources[b]
            a, b = a[keep], b[keep]
        all_pairs = len(a)
        new = np.ones(len(a), dtype=bool)
        for prev_rule, prev_codes in earlier:
            if prev_rule.reverse is None:
                ca, cb = prev_codes[a], prev_codes[b]
                new &= ~((ca >= 0) & (ca == cb))
            else:
                pl, pr = prev_codes[:n], prev_codes[n:]
                new &= ~(((pl[a] >= 0) & (pl[a] == pr[b])) | ((pl[b] >= 0) & (pl[b] == pr[a])))
        earlier.append((rule, codes))
        lefts.append(a[new])
        rights.append(b[new])
        rule_ids.append(np.full(int(new.sum()), k, dtype=np.int16))
        rows.append(
            {
                "rule": rule.name,
                "pairs": all_pairs,
                "new_pairs": int(new.sum()),
                "blocks_left_out": left_out,
            }
        )
        all_codes[rule.name] = codes
    left = np.concatenate(lefts) if lefts else np.zeros(0, np.int64)
    right = np.concatenate(rights) if rights else np.zeros(0, np.int64)
    rule_arr = np.concatenate(rule_ids) if rule_ids else np.zeros(0, np.int16)
    counts = pd.DataFrame(rows, columns=["rule", "pairs", "new_pairs", "blocks_left_out"])
    return BlockingResult(left, right, rule_arr, counts, all_codes)
