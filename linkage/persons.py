"""The `persons` table: one row per person, with the best of what their records say."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from linkage.arrays import sorted_codes

__all__ = ["build_persons"]


def _mode(person: np.ndarray, n_people: int, values: pd.Series) -> np.ndarray:
    """Most common non-null value per person code (ties: the earliest record's); None if none.

    ``person`` holds each record's person code (0..n_people-1), records in their input
    order. Works on integer codes (one sort of the records), not on a Python call per person.
    """
    out = np.full(n_people, None, dtype=object)
    value, uniques = pd.factorize(values)
    seen = value >= 0
    if not seen.any():
        return out
    order = np.flatnonzero(seen)
    width = np.int64(len(uniques) + 1)
    key, first_seen = pd.factorize(person[seen].astype(np.int64) * width + value[seen])
    counts = np.bincount(key)
    earliest = np.full(len(first_seen), np.iinfo(np.int64).max)
    np.minimum.at(earliest, key, order)
    key_person = first_seen // width
    best = np.lexsort((earliest, -counts, key_person))
    chosen = best[np.r_[True, key_person[best][1:] != key_person[best][:-1]]]
    out[key_person[chosen]] = np.asarray(uniques, dtype=object)[first_seen[chosen] % width]
    return out


def _lists_by(keys: np.ndarray, values: np.ndarray) -> pd.Series:
    """Values grouped into lists by (sorted) keys, without a Python call per group."""
    if len(keys) == 0:
        return pd.Series(dtype=object)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    bounds = np.r_[starts, len(keys)].tolist()
    items = values.tolist()  # slicing one Python list beats splitting the array
    return pd.Series([items[a:b] for a, b in itertools.pairwise(bounds)], index=keys[starts], dtype=object)


def build_persons(records: pd.DataFrame, person_index: pd.DataFrame) -> pd.DataFrame:
    """Summarise each person's records: names, date of birth, sex, identifiers, sources.

    ``dob_conflict`` is True when the records give more than one real date of birth (a
    data-quality note for the Family Summary Record).
    """
    needed = [
        "record_key", "source", "given_name", "middle_names", "family_name", "sex", "postcode_std",
        "nhs_number_std", "upn_std", "dob", "dob_estimated", "dod",
    ]  # fmt: skip
    index = person_index[["record_key", "person_id"]]
    r = records[needed]
    aligned = len(r) == len(index) and np.array_equal(
        r["record_key"].to_numpy(dtype=object), index["record_key"].to_numpy(dtype=object)
    )
    if aligned:  # the linker's own order: no join needed
        r = r.assign(person_id=index["person_id"].to_numpy())
    else:
        r = r.merge(index, on="record_key", how="inner")
    person, people = sorted_codes(r["person_id"].to_numpy(dtype=object))
    n = len(people)
    estimated = r["dob_estimated"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    real_dob = r["dob"].where(~estimated)
    out = pd.DataFrame({"person_id": np.asarray(people, dtype=object)})
    for col in ("given_name", "middle_names", "family_name", "sex"):
        out[col] = _mode(person, n, r[col])
    out["postcode"] = _mode(person, n, r["postcode_std"])
    out["nhs_number"] = _mode(person, n, r["nhs_number_std"])
    out["upn"] = _mode(person, n, r["upn_std"])
    real = _mode(person, n, real_dob)
    est = _mode(person, n, r["dob"].where(estimated))
    has_real = pd.notna(real)
    out["dob"] = np.where(has_real, real, est)
    out["dob_estimated"] = ~has_real & pd.notna(est)
    real_codes = pd.factorize(real_dob)[0]
    distinct_real = pd.DataFrame({"p": person, "d": real_codes})[real_codes >= 0].drop_duplicates()
    out["dob_conflict"] = np.bincount(distinct_real["p"].to_numpy(), minlength=n) > 1
    out["dod"] = _mode(person, n, r["dod"])
    sources = pd.DataFrame({"p": person, "s": r["source"].to_numpy(dtype=object)}).drop_duplicates()
    sources = sources.sort_values(["p", "s"])
    out["sources"] = _lists_by(sources["p"].to_numpy(), sources["s"].to_numpy()).reindex(range(n)).to_numpy()
    out["record_count"] = np.bincount(person, minlength=n)
    at = person if aligned else pd.Index(people).get_indexer(person_index["person_id"].to_numpy(dtype=object))
    confidence = np.full(n, np.nan)
    seen = at >= 0
    np.fmin.at(confidence, at[seen], person_index["cluster_confidence"].to_numpy(dtype=float)[seen])
    out["cluster_confidence"] = confidence  # the least confident of each person's records
    return out
