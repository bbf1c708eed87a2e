"""Clustering scored pairs into people, without letting weak links chain strangers together.

1. Pairs at or above the match threshold are edges; their connected components are the
   candidate people.
2. Some pairs say two records are *not* one person: a hard conflict (two valid NHS numbers
   or UPNs that differ; real dates of birth over a year apart and not a typo of each other), or a
   pair the model scored well below the threshold. These are cannot-link constraints.
3. A component that holds a cannot-link pair is re-examined: its edges are taken strongest
   first, and two groups are joined only when no cannot-link pair spans them. A record
   that links weakly to a child and to his father therefore joins one of them, and never
   makes one person of the two.

The result does not depend on the order of the pairs (ties are broken by record position).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree

__all__ = ["Clusters", "cluster_pairs"]


@dataclass(frozen=True)
class Clusters:
    """A cluster label per record (0..k-1, numbered by first record) and its confidence."""

    labels: np.ndarray
    confidence: np.ndarray  # per record: weakest link that holds its cluster together (1 alone)
    components_reexamined: int
    cannot_links_inside: int


def _relabel(labels: np.ndarray) -> np.ndarray:
    """Number clusters 0.. in order of their first record, so labels are canonical."""
    return pd.factorize(labels)[0].astype(np.int64)  # codes in order of first appearance


def cluster_pairs(
    n_records: int,
    left: np.ndarray,
    right: np.ndarray,
    probability: np.ndarray,
    *,
    threshold: float = 0.95,
    cannot_link: np.ndarray | None = None,
    cannot_link_below: float = 0.01,
    cannot_pairs: tuple[np.ndarray, np.ndarray] | None = None,
) -> Clusters:
    """Cluster ``n_records`` records given scored pairs (row positions ``left``, ``right``).

    Parameters
    ----------
    threshold
        Pairs with ``probability >= threshold`` link their records.
    cannot_link
        Boolean per pair: a hard conflict; such a pair never links and its records are never
        put in one cluster.
    cannot_link_below
        Pairs scored below this probability are cannot-link constraints too.
    cannot_pairs
        More cannot-link pairs (row positions), e.g. records a source states are related
        (no one is their own mother) or that one source row names as different people.
    """
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    probability = np.asarray(probability, dtype=np.float64)
    hard = np.zeros(len(left), dtype=bool) if cannot_link is None else np.asarray(cannot_link, dtype=bool)
    edge = (probability >= threshold) & ~hard
    forbid = hard | (probability < cannot_link_below)

    el, er, ep = left[edge], right[edge], probability[edge]
    graph = coo_matrix((np.ones(len(el)), (el, er)), shape=(n_records, n_records))
    _, comp = connected_components(graph, directed=False)

    fl, fr = left[forbid], right[forbid]
    if cannot_pairs is not None:
        xl, xr = (np.asarray(a, dtype=np.int64) for a in cannot_pairs)
        keep = xl != xr
        fl, fr = np.r_[fl, xl[keep]], np.r_[fr, xr[keep]]
    inside = comp[fl] == comp[fr]
    conflicted = np.unique(comp[fl[inside]])
    labels = comp.astype(np.int64).copy()
    confidence = np.ones(n_records, dtype=np.float64)

    # confidence of untroubled components: the weakest edge of their maximum spanning tree
    if len(el):
        mst = minimum_spanning_tree(
            coo_matrix((1.000001 - ep, (el, er)), shape=(n_records, n_records)).tocsr()
        ).tocoo()
        weakest = pd.Series(1.000001 - mst.data).groupby(comp[mst.row]).min()
        confidence = weakest.reindex(comp).fillna(1.0).to_numpy()

    if len(conflicted):
        next_label = int(labels.max()) + 1
        in_conflict = np.isin(comp[el], conflicted)
        cl, cr, cp = el[in_conflict], er[in_conflict], ep[in_conflict]
        order = np.lexsort((np.maximum(cl, cr), np.minimum(cl, cr), -cp))
        sel = np.isin(comp[fl], conflicted) & inside
        forbidden: dict[int, set[int]] = {}
        for a, b in zip(fl[sel].tolist(), fr[sel].tolist(), strict=True):
            forbidden.setdefault(a, set()).add(b)
            forbidden.setdefault(b, set()).add(a)
        nodes = np.flatnonzero(np.isin(comp, conflicted))
        parent = {int(n): int(n) for n in nodes}
        members = {int(n): {int(n)} for n in nodes}
        banned = {int(n): set(forbidden.get(int(n), ())) for n in nodes}
        weakest_link = {int(n): 1.0 for n in nodes}

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for i in order.tolist():
            ra, rb = find(int(cl[i])), find(int(cr[i]))
            if ra == rb:
                continue
            if len(members[ra]) < len(members[rb]):
                ra, rb = rb, ra
            if banned[ra] & members[rb]:
                continue
            parent[rb] = ra
            members[ra] |= members.pop(rb)
            banned[ra] |= banned.pop(rb)
            weakest_link[ra] = min(weakest_link[ra], weakest_link.pop(rb), float(cp[i]))
        for root, group in members.items():
            idx = np.fromiter(group, dtype=np.int64)
            labels[idx] = next_label
            confidence[idx] = weakest_link[root]
            next_label += 1

    return Clusters(
        labels=_relabel(labels),
        confidence=confidence,
        components_reexamined=len(conflicted),
        cannot_links_inside=int(inside.sum()),
    )
