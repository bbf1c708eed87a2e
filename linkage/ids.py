"""Stable ids: people keep their id from one run to the next unless the evidence changed.

A new cluster takes the previous id that most of its records held (each previous id goes
to one cluster only: the one holding most of its records). Clusters with no previous id
get a new one derived from a hash of their first record key, so a fresh run on the same
data gives the same ids. Merges (one cluster holding records of several previous people)
and splits (one previous person's records now in several clusters) are recorded.
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["assign_ids", "keyed_hash", "new_id"]


def new_id(
    prefix: str, seed_text: str, taken: set[str], key: bytes = b"", *, keyed: hmac.HMAC | None = None
) -> str:
    """An id unique among ``taken``, derived from ``seed_text`` by a keyed hash (HMAC-SHA256).

    With a secret ``key`` (a workspace keeps one) the id cannot be turned back into the
    record key it came from, even when that key holds an identifier. ``keyed``: the HMAC of
    ``key`` already set up (:func:`keyed_hash`), when making many ids.
    """
    keyed = keyed if keyed is not None else keyed_hash(key)
    salt = 0
    while True:
        mac = keyed.copy()
        mac.update(f"{seed_text}#{salt}".encode())
        candidate = _id_of(prefix, mac.digest())
        if candidate not in taken:
            return candidate
        salt += 1


def _id_of(prefix: str, digest: bytes) -> str:
    """An id: ``prefix`` and the first 12 hex digits of a keyed hash."""
    return f"{prefix}{digest.hex()[:12].upper()}"


def _first_choices(prefix: str, seed_texts: list[str], key: bytes) -> list[str]:
    """What :func:`new_id` tries first for each seed text (salt 0), by the one-shot HMAC."""
    return [_id_of(prefix, hmac.digest(key, f"{text}#0".encode(), "sha256")) for text in seed_texts]


def keyed_hash(key: bytes) -> hmac.HMAC:
    """HMAC-SHA256 with ``key``, ready to be copied per id (the key is hashed once)."""
    return hmac.new(key, digestmod=hashlib.sha256)


def _first_key_per_cluster(keys: np.ndarray, labels: np.ndarray) -> pd.Series:
    """The smallest record key of every cluster (the text ranked once by Arrow, then one
    integer sort; no Python call per cluster)."""
    if len(keys) == 0:
        return pd.Series(dtype=object)
    rank = np.asarray(pc.rank(pa.array(keys, type=pa.string()), sort_keys="ascending", tiebreaker="first"))
    order = np.lexsort((rank, labels))
    sorted_labels = labels[order]
    first = order[np.r_[True, sorted_labels[1:] != sorted_labels[:-1]]]
    return pd.Series(keys[first].astype(object), index=labels[first])


def assign_ids(
    record_keys: pd.Series,
    labels: np.ndarray,
    previous: pd.DataFrame | None = None,
    *,
    prefix: str = "P",
    id_column: str = "person_id",
    key: bytes = b"",
) -> tuple[pd.Series, pd.DataFrame]:
    """Ids per record for cluster ``labels``, carried over from ``previous`` where it fits.

    ``previous`` has columns ``record_key`` and ``id_column``. Returns the ids (aligned with
    ``record_keys``) and a table of changes: ``change`` (merge | split), ``id``,
    ``previous_ids``, ``new_ids``, ``records``.
    """
    keys = pd.Series(record_keys).reset_index(drop=True).astype(str)
    frame = pd.DataFrame({"record_key": keys, "cluster": np.asarray(labels)})
    first_key = _first_key_per_cluster(keys.to_numpy(dtype=str), np.asarray(labels, dtype=np.int64))
    assigned: dict[int, str] = {}
    taken: set[str] = set()
    changes: list[dict[str, object]] = []
    if previous is not None and len(previous):
        prev = previous[["record_key", id_column]].drop_duplicates("record_key")
        joined = frame.merge(prev, on="record_key", how="left")
        known = joined.dropna(subset=[id_column])
        taken |= set(prev[id_column])
        overlap = known.groupby([id_column, "cluster"]).size().rename("n").reset_index()
        overlap = overlap.sort_values(["n", id_column, "cluster"], ascending=[False, True, True])
        used_ids: set[str] = set()
        for old, cluster in zip(overlap[id_column].tolist(), overlap["cluster"].tolist(), strict=True):
            if old in used_ids or cluster in assigned:
                continue
            assigned[int(cluster)] = str(old)
            used_ids.add(str(old))
        links = known[["cluster", id_column]].drop_duplicates()
        merged = links["cluster"].duplicated(keep=False)  # clusters holding several old ids
        split = links[id_column].duplicated(keep=False)  # old ids spread over several clusters
        per_cluster = links[merged].groupby("cluster")[id_column].agg(sorted)
        per_old = links[split].groupby(id_column)["cluster"].agg(sorted)
    fresh = [
        (c, str(f))
        for c, f in zip(first_key.index.tolist(), first_key.tolist(), strict=True)
        if c not in assigned
    ]
    keyed = keyed_hash(key)
    for (cluster, first), pid in zip(fresh, _first_choices(prefix, [f for _, f in fresh], key), strict=True):
        if pid in taken:  # a collision (1 in 2**48 per pair): salt it, as new_id does
            pid = new_id(prefix, first, taken, keyed=keyed)
        assigned[cluster] = pid
        taken.add(pid)
    if previous is not None and len(previous):
        sizes = frame["cluster"].value_counts()
        for cluster, olds in zip(per_cluster.index.tolist(), per_cluster.tolist(), strict=True):
            if len(olds) > 1:
                changes.append(
                    {
                        "change": "merge",
                        "id": assigned[int(cluster)],
                        "previous_ids": olds,
                        "new_ids": [assigned[int(cluster)]],
                        "records": int(sizes[cluster]),
                    }
                )
        for old, clusters in per_old.items():
            if len(clusters) > 1:
                changes.append(
                    {
                        "change": "split",
                        "id": str(old),
                        "previous_ids": [str(old)],
                        "new_ids": sorted(assigned[int(c)] for c in clusters),
                        "records": int(sum(sizes[c] for c in clusters)),
                    }
                )
    ids = frame["cluster"].map(assigned)
    table = pd.DataFrame(changes, columns=["change", "id", "previous_ids", "new_ids", "records"])
    return ids, table
