"""Preparing records for the matcher: the nickname blocking key."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from linkage.prepare import load_nicknames, nickname_keys
from linkage.settings import DEFAULT_SETTINGS_PATH

GROUPS = load_nicknames(DEFAULT_SETTINGS_PATH.parent / "nicknames.yaml")


def keys(*names: str | None) -> list[str | None]:
    return nickname_keys(pd.Series(names, dtype=object), GROUPS).tolist()


def test_a_nickname_and_its_name_share_a_key():
    bob, robert = keys("BOB", "ROBERT")
    assert bob is not None and bob == robert


def test_a_nickname_of_two_names_joins_them():
    alex, alexander, alexandra = keys("ALEX", "ALEXANDER", "ALEXANDRA")
    assert alex == alexander == alexandra is not None


def test_a_name_in_no_group_and_a_missing_name_have_no_key():
    assert keys("ZXQWY", None) == [None, None]


def test_unrelated_names_have_different_keys():
    robert, mohammed = keys("ROBERT", "MOHAMMED")
    assert robert != mohammed


@given(st.sampled_from(GROUPS), st.randoms(use_true_random=False))
def test_every_name_of_a_group_gets_one_key_whatever_the_order_of_the_list(group, rnd):
    shuffled = [list(g) for g in GROUPS]
    rnd.shuffle(shuffled)
    for g in shuffled:
        rnd.shuffle(g)
    got = nickname_keys(pd.Series(group, dtype=object), shuffled)
    assert got.nunique() == 1 and got.notna().all()
    assert got.tolist() == nickname_keys(pd.Series(group, dtype=object), GROUPS).tolist()
