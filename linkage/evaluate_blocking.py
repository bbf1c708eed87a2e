"""Pairs completeness of blocking: how many true matches each rule puts before the comparer.

A match that no blocking rule makes a candidate pair is lost before the model sees it, so
the rules are judged against ground truth on their own: for every rule, the candidate pairs
it makes, the true matching pairs among them, and the share of all true matching pairs the
rules up to and including it find together (pairs completeness, cumulative in rule order).

Pairs are counted between distinct records, as the linker compares them: records identical
in every compared field are one record to the linker and are always one person, so their
pairs need no rule and are counted apart (``identical``). The household rules that
enumerate the household strata come first, as in :func:`linkage.link_records`. The
relational pass adds pairs of records stated as parents of one person after a first
clustering; those are not blocking and are not counted here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ingest.schema import RECORDS
from linkage.blocking import block
from linkage.link import prepare_for_linkage, with_nicknames
from linkage.scorer import household_rules
from linkage.settings import LinkageSettings

__all__ = ["blocking_completeness"]

COLUMNS = ["rule", "pairs", "new_pairs", "true_pairs", "new_true_pairs", "completeness"]


def _true_position_pairs(
    keys: np.ndarray, position: np.ndarray, truth: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, int]:
    """Distinct-record pairs (left < right) of one true person, and the identical-record pairs."""
    person = truth.drop_duplicates("record_key").set_index("record_key")["person_id"]
    table = pd.DataFrame({"pos": position, "person": person.reindex(keys).to_numpy()}).dropna()
    per_group = table.groupby(["person", "pos"]).size()
    identical = int((per_group * (per_group - 1) // 2).sum())
    distinct = per_group.reset_index()[["person", "pos"]]
    pairs = distinct.merge(distinct, on="person")
    pairs = pairs[pairs["pos_x"] < pairs["pos_y"]][["pos_x", "pos_y"]].drop_duplicates()
    return pairs["pos_x"].to_numpy(np.int64), pairs["pos_y"].to_numpy(np.int64), identical


def blocking_completeness(
    records: pd.DataFrame,
    truth: pd.DataFrame,
    settings: LinkageSettings | None = None,
    stated_relationships: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per blocking rule: candidate pairs, true matching pairs found, cumulative completeness.

    ``truth`` has ``record_key`` and ``person_id``; records it does not label count for
    nothing. Returns one row per rule (``rule``, ``pairs`` the rule makes, ``new_pairs`` no
    earlier rule made, ``true_pairs`` among the rule's pairs, ``new_true_pairs`` no earlier
    rule found, ``completeness`` of the rules so far), then a row ``all rules`` and a row
    ``identical records`` (pairs of records the linker holds as one). ``attrs["true_pairs"]``
    is the number of true matching pairs of distinct records.
    """
    settings = settings or LinkageSettings.load(None)
    records = records.reset_index(drop=True)
    absent = [c for c in RECORDS.names if c not in records.columns]
    if absent:
        records = records.assign(**{c: None for c in absent})
    prepared, position, keys = prepare_for_linkage(records, stated_relationships)
    with_nicknames(prepared, settings)
    rules = [*household_rules(settings.household_block_size), *settings.rules]
    blocked = block(
        prepared, rules, link_type=settings.link_type, max_pairs_per_rule=settings.max_pairs_per_rule
    )
    left, right, identical = _true_position_pairs(np.asarray(keys), np.asarray(position), truth)
    if settings.link_type == "link_only":
        sources = prepared["source"].to_numpy(dtype=object)
        keep = sources[left] != sources[right]
        left, right = left[keep], right[keep]
    total = len(left)
    n = len(prepared)
    found = np.zeros(total, dtype=bool)
    rows = []
    made = blocked.counts["pairs"].astype(int).tolist()
    made_new = blocked.counts["new_pairs"].astype(int).tolist()
    for rule, pairs, new_pairs in zip(rules, made, made_new, strict=True):
        codes = blocked.codes[rule.name]
        if rule.reverse is None:
            hit = (codes[left] >= 0) & (codes[left] == codes[right])
        else:
            forward, backward = codes[:n], codes[n:]
            hit = ((forward[left] >= 0) & (forward[left] == backward[right])) | (
                (forward[right] >= 0) & (forward[right] == backward[left])
            )
        new = hit & ~found
        found |= hit
        rows.append(
            {
                "rule": rule.name,
                "pairs": pairs,
                "new_pairs": new_pairs,
                "true_pairs": int(hit.sum()),
                "new_true_pairs": int(new.sum()),
                "completeness": float(found.sum() / total) if total else 1.0,
            }
        )
    rows.append(
        {
            "rule": "all rules",
            "pairs": int(blocked.counts["new_pairs"].sum()),
            "new_pairs": int(blocked.counts["new_pairs"].sum()),
            "true_pairs": int(found.sum()),
            "new_true_pairs": int(found.sum()),
            "completeness": float(found.sum() / total) if total else 1.0,
        }
    )
    rows.append(
        {
            "rule": "identical records",
            "pairs": identical,
            "new_pairs": identical,
            "true_pairs": identical,
            "new_true_pairs": identical,
            "completeness": 1.0,
        }
    )
    out = pd.DataFrame(rows, columns=COLUMNS)
    out.attrs["true_pairs"] = total
    return out
