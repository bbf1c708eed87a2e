"""Blocking: exact pair counts, the union of rules, reverse rules, the explosion guard."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.blocking import BlockingRule, block, count_rule_pairs
from linkage.errors import LinkageError
from linkage.link import with_nicknames
from linkage.prepare import prepare_records
from linkage.settings import LinkageSettings
from tests.linkage.conftest import make_records


def frame(a, b, sources=None):
    return pd.DataFrame({"a": a, "b": b, "source": sources or ["s"] * len(a)})


VALUES = st.lists(st.sampled_from(["x", "y", "z", None]), min_size=0, max_size=14)


@settings(max_examples=100, deadline=None)
@given(VALUES, st.data())
def test_pairs_are_exactly_those_agreeing_on_the_keys(a, data):
    b = data.draw(st.lists(st.sampled_from(["p", "q", None]), min_size=len(a), max_size=len(a)))
    src = data.draw(st.lists(st.sampled_from(["s1", "s2"]), min_size=len(a), max_size=len(a)))
    df = frame(a, b, src)
    rules = [BlockingRule("a", ("a",)), BlockingRule("ab", ("a", "b")), BlockingRule("b", ("b",))]
    for link_type in ("link_and_dedupe", "link_only"):
        got = block(df, rules, link_type=link_type)
        pairs = set(zip(got.left.tolist(), got.right.tolist(), strict=True))
        expected = {
            (i, j)
            for i, j in itertools.combinations(range(len(a)), 2)
            if ((a[i] is not None and a[i] == a[j]) or (b[i] is not None and b[i] == b[j]))
            and (link_type != "link_only" or src[i] != src[j])
        }
        assert pairs == expected
        assert len(pairs) == len(got.left), "a pair was made twice"
        for rule in rules:
            alone = block(df, [rule], link_type=link_type)
            assert count_rule_pairs(df, rule, link_type) == len(alone.left)


def test_reverse_rule_finds_swapped_names():
    df = pd.DataFrame({"given": ["JOHN", "SMITH", "ANN"], "family": ["SMITH", "JOHN", "LEE"], "source": "s"})
    got = block(df, [BlockingRule("swap", ("given", "family"), reverse=("family", "given"))])
    assert list(zip(got.left, got.right, strict=True)) == [(0, 1)]


def test_a_rule_that_would_explode_is_refused_with_advice():
    df = frame(["x"] * 2000, [None] * 2000)
    with pytest.raises(LinkageError, match=r"would make 1,999,000 pairs.*largest block holds 2,000"):
        block(df, [BlockingRule("a", ("a",))], max_pairs_per_rule=1_000_000)


def test_counts_report_new_pairs_per_rule():
    df = frame(["x", "x", "y"], ["p", "p", "p"])
    got = block(df, [BlockingRule("a", ("a",)), BlockingRule("b", ("b",))])
    assert got.counts.to_dict("records") == [
        {"rule": "a", "pairs": 1, "new_pairs": 1, "blocks_left_out": 0},
        {"rule": "b", "pairs": 3, "new_pairs": 2, "blocks_left_out": 0},
    ]


def test_blocks_over_the_size_cap_are_left_out_and_counted():
    df = frame(["x"] * 5 + ["y", "y"], [None] * 7)
    got = block(df, [BlockingRule("a", ("a",), max_block_size=4)])
    assert list(zip(got.left, got.right, strict=True)) == [(5, 6)]
    assert got.counts.loc[0, "blocks_left_out"] == 1
    assert count_rule_pairs(df, BlockingRule("a", ("a",), max_block_size=4)) == 1
    assert np.all(got.left < got.right)


def test_the_default_rules_pair_a_nickname_after_a_house_move_with_no_date_of_birth():
    records = make_records(
        [
            {"source": "school", "key": "contact", "given": "Bob", "family": "Lee", "postcode": "BD7 1AA"},
            {
                "source": "housing",
                "key": "tenant",
                "given": "Robert",
                "family": "Lee",
                "dob": "1984-03-02",
                "postcode": "LS6 2BB",
            },
        ]
    )
    settings = LinkageSettings.load()
    prepared = prepare_records(records)
    with_nicknames(prepared, settings)
    got = block(prepared, settings.rules)
    assert list(zip(got.left, got.right, strict=True)) == [(0, 1)]
    assert got.counts.set_index("rule").loc["nickname_and_family_sound", "new_pairs"] == 1
