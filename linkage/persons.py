"""The `persons` table: one row per person, with the best of what their records say."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["build_persons"]


def _mode(frame: pd.DataFrame, column: str) -> pd.Series:
    """Most common non-null value per person (ties: the earliest record's value).

    Works on integer codes (one sort of the records), not on a Python call per person.
    """
    sub = frame[["person_id", column, "_order"]].dropna(subset=[column])
    if sub.empty:
        return pd.Series(dtype=object)
    person, people = pd.factorize(sub["person_id"])
    value, values = pd.factorize(sub[column])
    order = sub["_order"].to_numpy()
    key, first_seen = pd.factorize(person.astype(np.int64) * (len(values) + 1) + value)
    counts = np.bincount(key)
    earliest = np.full(len(first_seen), np.iinfo(np.int64).max)
    np.minimum.at(earliest, key, order)
    key_person = first_seen // (len(values) + 1)
    key_value = first_seen % (len(values) + 1)
    best = np.lexsort((earliest, -counts, key_person))
    chosen = best[np.r_[True, key_person[best][1:] != key_person[best][:-1]]]
    modes = np.asarray(values, dtype=object)[key_value[chosen]]
    return pd.Series(modes, index=np.asarray(people)[key_person[chosen]])


def _lists_by(keys: np.ndarray, values: np.ndarray) -> pd.Series:
    """Values grouped into lists by (sorted) keys, without a Python call per group."""
    if len(keys) == 0:
        return pd.Series(dtype=object)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    chunks = np.split(values, starts[1:])
    return pd.Series([c.tolist() for c in chunks], index=keys[starts], dtype=object)


def build_persons(records: pd.DataFrame, person_index: pd.DataFrame) -> pd.DataFrame:
    """Summarise each person's records: names, date of birth, sex, identifiers, sources.

    ``dob_conflict`` is True when the records give more than one real date of birth (a
    data-quality note for the Family Summary Record).
    """
    needed = [
        "record_key", "source", "given_name", "middle_names", "family_name", "sex", "postcode_std",
        "nhs_number_std", "upn_std", "dob", "dob_estimated", "dod",
    ]  # fmt: skip
    r = records[needed].merge(person_index[["record_key", "person_id"]], on="record_key", how="inner")
    r["_order"] = range(len(r))
    estimated = r["dob_estimated"].astype("boolean").fillna(False).astype(bool)
    r["_dob_real"] = r["dob"].where(~estimated)
    r["_dob_est"] = r["dob"].where(estimated)
    r["_nhs"] = r["nhs_number_std"]
    r["_upn"] = r["upn_std"]
    grouped = r.groupby("person_id", sort=True)
    out = pd.DataFrame(index=pd.Index(sorted(r["person_id"].unique()), name="person_id"))
    for col in ("given_name", "middle_names", "family_name", "sex", "postcode_std", "_nhs", "_upn"):
        out[col] = _mode(r, col).reindex(out.index)
    real = _mode(r, "_dob_real").reindex(out.index)
    est = _mode(r, "_dob_est").reindex(out.index)
    out["dob"] = real.where(real.notna(), est)
    out["dob_estimated"] = real.isna() & est.notna()
    out["dob_conflict"] = grouped["_dob_real"].nunique().reindex(out.index).fillna(0) > 1
    out["dod"] = _mode(r, "dod").reindex(out.index)
    sources = r[["person_id", "source"]].drop_duplicates().sort_values(["person_id", "source"])
    out["sources"] = _lists_by(sources["person_id"].to_numpy(), sources["source"].to_numpy()).reindex(
        out.index
    )
    out["record_count"] = grouped.size().reindex(out.index)
    out["cluster_confidence"] = (
        person_index.groupby("person_id")["cluster_confidence"].min().reindex(out.index)
    )
    out = out.rename(columns={"_nhs": "nhs_number", "_upn": "upn", "postcode_std": "postcode"})
    return out.reset_index()
