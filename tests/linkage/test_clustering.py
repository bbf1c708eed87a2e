"""Clustering: networkx as the oracle, order independence, cannot-link constraints."""

from __future__ import annotations

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.clustering import cluster_pairs


def as_partition(labels: np.ndarray) -> set[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for i, lab in enumerate(labels.tolist()):
        groups.setdefault(lab, set()).add(i)
    return {frozenset(g) for g in groups.values()}


@st.composite
def scored_graphs(draw, max_nodes=25):
    n = draw(st.integers(2, max_nodes))
    pairs = draw(
        st.sets(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] < p[1]),
            max_size=60,
        )
    )
    pairs = sorted(pairs)
    probs = draw(
        st.lists(
            st.sampled_from([0.001, 0.2, 0.5, 0.96, 0.99, 0.999]),
            min_size=len(pairs),
            max_size=len(pairs),
        )
    )
    left = np.array([p[0] for p in pairs], dtype=np.int64)
    right = np.array([p[1] for p in pairs], dtype=np.int64)
    return n, left, right, np.array(probs, dtype=float)


@settings(max_examples=150, deadline=None)
@given(scored_graphs())
def test_without_constraints_clusters_are_networkx_components(graph):
    n, left, right, prob = graph
    got = cluster_pairs(n, left, right, prob, threshold=0.95, cannot_link_below=1e-9)
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from((a, b) for a, b, p in zip(left, right, prob, strict=True) if p >= 0.95)
    assert as_partition(got.labels) == {frozenset(c) for c in nx.connected_components(g)}


@settings(max_examples=150, deadline=None)
@given(scored_graphs(), st.randoms(use_true_random=False))
def test_clusters_do_not_depend_on_the_order_of_pairs(graph, rnd):
    n, left, right, prob = graph
    order = list(range(len(left)))
    rnd.shuffle(order)
    flip = np.array([rnd.random() < 0.5 for _ in order], dtype=bool)
    l2, r2 = left[order], right[order]
    l2, r2 = np.where(flip, r2, l2), np.where(flip, l2, r2)
    a = cluster_pairs(n, left, right, prob)
    b = cluster_pairs(n, l2, r2, prob[order])
    assert as_partition(a.labels) == as_partition(b.labels)


@settings(max_examples=150, deadline=None)
@given(scored_graphs())
def test_no_cluster_holds_a_cannot_link_pair(graph):
    n, left, right, prob = graph
    got = cluster_pairs(n, left, right, prob, threshold=0.95, cannot_link_below=0.01)
    forbidden = prob < 0.01
    assert not np.any(got.labels[left[forbidden]] == got.labels[right[forbidden]])
    # and every cluster is connected by links at or above the threshold
    g = nx.Graph()
    g.add_edges_from((a, b) for a, b, p in zip(left, right, prob, strict=True) if p >= 0.95)
    for cluster in as_partition(got.labels):
        if len(cluster) > 1:
            assert nx.is_connected(g.subgraph(cluster))


def test_a_weak_record_does_not_chain_father_and_son():
    # 0 = son (dob 2010), 1 = father (dob 1980), 2 = a record with no dob linking to both
    left, right = np.array([0, 1, 0]), np.array([2, 2, 1])
    prob = np.array([0.99, 0.97, 0.002])
    got = cluster_pairs(3, left, right, prob, threshold=0.95)
    assert got.labels[0] != got.labels[1]
    assert got.labels[2] == got.labels[0]  # the stronger link wins
    assert got.components_reexamined == 1


def test_hard_conflicts_never_link():
    got = cluster_pairs(2, np.array([0]), np.array([1]), np.array([0.999]), cannot_link=np.array([True]))
    assert got.labels[0] != got.labels[1]


def test_confidence_is_the_weakest_link():
    got = cluster_pairs(3, np.array([0, 1]), np.array([1, 2]), np.array([0.99, 0.96]))
    assert np.allclose(got.confidence, 0.96, atol=1e-4)
    alone = cluster_pairs(1, np.array([], dtype=int), np.array([], dtype=int), np.array([]))
    assert alone.confidence.tolist() == [1.0]
