"""Households: dated spells of people at addresses."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.households import address_keys, co_resident_pairs, household_spells
from tests.linkage.conftest import make_records


def records(rows):
    frame = make_records(rows)
    for col in ("extract_date", "address_from", "address_to", "address_seen"):
        values = [r.get(col) for r in rows]
        frame[col] = [dt.date.fromisoformat(v) if v else None for v in values]
    frame["address"] = frame["address_std"]
    return frame


def index(rows):
    return pd.DataFrame(
        {"record_key": [f"s:{r['key']}" for r in rows], "person_id": [r["person"] for r in rows]}
    )


ROWS = [
    # a tenancy, then a move; a census sighting; someone elsewhere
    {
        "key": 1,
        "person": "A",
        "address": "1 MILL LANE",
        "postcode": "BD7 1AA",
        "address_from": "2018-01-01",
        "address_to": "2022-01-01",
        "extract_date": "2026-10-31",
    },
    {
        "key": 2,
        "person": "A",
        "address": "9 ELM GROVE",
        "postcode": "BD5 2LP",
        "address_from": "2022-02-01",
        "extract_date": "2026-10-31",
    },
    {
        "key": 3,
        "person": "B",
        "address": "1 MILL LANE",
        "postcode": "BD7 1AA",
        "address_seen": "2020-10-01",
        "extract_date": "2026-10-31",
    },
    {
        "key": 4,
        "person": "C",
        "address": "9 ELM GROVE",
        "postcode": "BD5 2LP",
        "address_seen": "2019-10-01",
        "extract_date": "2026-10-31",
    },
    {"key": 5, "person": "D", "extract_date": "2026-10-31"},
]


def test_spells_are_dated_and_the_latest_is_current():
    h = household_spells(records(ROWS), index(ROWS))
    a = h[h["person_id"] == "A"].sort_values("start_date")
    assert [str(d) for d in a["start_date"]] == ["2018-01-01", "2022-02-01"]
    assert str(a["end_date"].iloc[0]) == "2022-01-01"
    assert str(a["end_date"].iloc[1]) == "2026-10-31"  # an open tenancy runs to the extract date
    assert list(a["current"]) == [False, True]
    assert "D" not in set(h["person_id"])  # no address, no household


def test_one_address_has_one_household_id_across_sources_and_runs():
    h = household_spells(records(ROWS), index(ROWS), key=b"k")
    again = household_spells(records(ROWS), index(ROWS), key=b"k")
    assert h.equals(again)
    mill = h[h["address"] == "1 MILL LANE"]["household_id"]
    assert mill.nunique() == 1


def test_co_residence_needs_overlapping_dates():
    h = household_spells(records(ROWS), index(ROWS))
    pairs = set(zip(*co_resident_pairs(h)[["person_a", "person_b"]].T.values, strict=True))
    assert ("A", "B") in pairs  # 2018-2022 covers 2020-10-01
    assert ("A", "C") not in pairs  # A came to Elm Grove in 2022, C was seen there in 2019


def test_crowded_addresses_are_not_households():
    rows = [
        {
            "key": i,
            "person": f"P{i}",
            "address": "HOSTEL",
            "postcode": "BD1 1AA",
            "extract_date": "2026-10-31",
        }
        for i in range(5)
    ]
    assert household_spells(records(rows), index(rows), max_household_size=4).empty


WORDS = st.text(alphabet="AB1 \t", max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.none() | WORDS,
            st.none() | st.sampled_from(["BD7 1AA", "LS1 4DT"]),
            st.none() | st.integers(1, 99),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_an_address_key_is_the_postcode_and_three_words_else_the_line_else_the_uprn(rows):
    frame = pd.DataFrame(
        {
            "address_std": [line for line, _, _ in rows],
            "postcode_std": [postcode for _, postcode, _ in rows],
            "uprn": [None if uprn is None else str(uprn) for _, _, uprn in rows],
        }
    )
    expected = []
    for line, postcode, uprn in rows:
        if line is not None and postcode is not None:
            expected.append(f"P:{postcode}|{' '.join(line.split()[:3])}")
        elif line is not None:
            expected.append(f"A:{line}")
        else:
            expected.append(None if uprn is None else f"U:{uprn}")
    assert address_keys(frame).tolist() == expected


def test_an_address_key_reads_a_uprn_held_as_a_number():
    uprn = pd.Series([10023, None], dtype=object)  # as a database driver may hand it over
    frame = pd.DataFrame({"address_std": [None, None], "postcode_std": [None, None], "uprn": uprn})
    assert address_keys(frame).tolist() == ["U:10023", None]
