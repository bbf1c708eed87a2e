"""Stable ids: new ids come from a keyed hash of the cluster's first record key, and never change form."""

from __future__ import annotations

import numpy as np
import pandas as pd

from linkage.ids import assign_ids, new_id

KEY = b"workspace-key"


def test_a_new_id_is_the_keyed_hash_of_the_first_record_key():
    # Pinned: an upgrade must not change the ids a fresh run gives to the same records.
    assert new_id("P", "s:1", set(), KEY) == "PB32513F2374D"
    assert new_id("P", "health:42", set(), KEY) == "PA375DB5A63A8"


def test_a_taken_id_moves_on_to_the_next_salt():
    assert new_id("P", "s:1", {"PB32513F2374D"}, KEY) == "PE9D5E3AA872E"


def test_fresh_clusters_get_the_id_of_their_smallest_record_key():
    keys = pd.Series(["s:2", "health:42", "s:1", "s:3"])
    ids, changes = assign_ids(keys, np.array([0, 1, 0, 2]), key=KEY)
    assert ids.tolist()[:3] == ["PB32513F2374D", "PA375DB5A63A8", "PB32513F2374D"]
    assert ids[3] == new_id("P", "s:3", set(), KEY)
    assert changes.empty


def test_a_new_id_never_takes_one_the_previous_run_used():
    previous = pd.DataFrame({"record_key": ["x:9"], "person_id": ["PB32513F2374D"]})
    ids, _ = assign_ids(pd.Series(["s:1", "x:9"]), np.array([0, 1]), previous, key=KEY)
    assert ids.tolist() == ["PE9D5E3AA872E", "PB32513F2374D"]
