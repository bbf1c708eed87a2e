"""Specification of the postcode standardiser (ingest.standardise.postcodes)."""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.standardise import standardise_postcode

PROPERTY_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
COLUMNS = ["postcode_std", "postcode_sector", "postcode_district", "postcode_valid"]

# --------------------------------------------------------------------------- strategies

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
valid_postcodes = st.tuples(
    st.sampled_from(["A9", "A99", "AA9", "AA99", "A9A", "AA9A"]),
    st.text(alphabet=LETTERS, min_size=4, max_size=4),
    st.text(alphabet="0123456789", min_size=4, max_size=4),
    st.text(alphabet=INWARD_LETTERS, min_size=2, max_size=2),
).map(lambda t: "".join(t[1][i] if c == "A" else t[2][i] for i, c in enumerate(t[0])) + " " + t[2][3] + t[3])
values = st.one_of(
    st.none(),
    st.just(math.nan),
    st.text(),
    st.text(alphabet="AaBcIkOo0123456789 -\t.", max_size=10),
    valid_postcodes,
    valid_postcodes.map(lambda p: p.lower().replace(" ", "")),
)


@st.composite
def series(draw: st.DrawFn, elements: st.SearchStrategy[Any] = values) -> pd.Series:
    """An object Series with an arbitrary (possibly duplicated, unordered) integer index."""
    data = draw(st.lists(elements, max_size=12))
    index = draw(st.lists(st.integers(-3, 3), min_size=len(data), max_size=len(data)))
    return pd.Series(data, index=index, dtype=object)


def _one(value: Any) -> pd.Series:
    return pd.Series([value], dtype=object)


# --------------------------------------------------------------------------- cases

V = True
POSTCODE_CASES = [
    {"description": "AA9A 9AA", "value": "SW1A 1AA", "expected": ("SW1A 1AA", "SW1A 1", "SW1A", V)},
    {
        "description": "lower case, no space",
        "value": "sw1a1aa",
        "expected": ("SW1A 1AA", "SW1A 1", "SW1A", V),
    },
    {
        "description": "extra spaces and punctuation removed",
        "value": " sw1a-1aa. ",
        "expected": ("SW1A 1AA", "SW1A 1", "SW1A", V),
    },
    {
        "description": "space in the wrong place",
        "value": "SW 1A1 AA",
        "expected": ("SW1A 1AA", "SW1A 1", "SW1A", V),
    },
    {"description": "A9 9AA", "value": "M1 1AE", "expected": ("M1 1AE", "M1 1", "M1", V)},
    {"description": "A99 9AA", "value": "B33 8TH", "expected": ("B33 8TH", "B33 8", "B33", V)},
    {"description": "AA9 9AA", "value": "CR2 6XH", "expected": ("CR2 6XH", "CR2 6", "CR2", V)},
    {"description": "AA99 9AA", "value": "DN55 1PT", "expected": ("DN55 1PT", "DN55 1", "DN55", V)},
    {"description": "A9A 9AA", "value": "W1A 0AX", "expected": ("W1A 0AX", "W1A 0", "W1A", V)},
    {"description": "AA9A 9AA", "value": "EC1A 1BB", "expected": ("EC1A 1BB", "EC1A 1", "EC1A", V)},
    {"description": "GIR 0AA", "value": "GIR 0AA", "expected": ("GIR 0AA", "GIR 0", "GIR", V)},
    {
        "description": "GIR 0AA without space, lower case",
        "value": "gir0aa",
        "expected": ("GIR 0AA", "GIR 0", "GIR", V),
    },
    {
        "description": "full-width characters normalised",
        "value": "ＳＷ１Ａ　１ＡＡ",
        "expected": ("SW1A 1AA", "SW1A 1", "SW1A", V),
    },
    {
        "description": "O for 0 is not corrected (inward)",
        "value": "SW1A OAA",
        "expected": (None, None, None, False),
    },
    {
        "description": "0 for O is not corrected (outward)",
        "value": "0X1 1AA",
        "expected": (None, None, None, False),
    },
    {
        "description": "inward letter C not allowed",
        "value": "SW1A 1CA",
        "expected": (None, None, None, False),
    },
    {
        "description": "inward letters I K M O V not allowed",
        "value": "M1 1AI",
        "expected": (None, None, None, False),
    },
    {
        "description": "inward letter V not allowed",
        "value": "M1 1VA",
        "expected": (None, None, None, False),
    },
    {"description": "inward code missing", "value": "SW1A", "expected": (None, None, None, False)},
    {
        "description": "three-letter outward code",
        "value": "ABC1 1AA",
        "expected": (None, None, None, False),
    },
    {
        "description": "outward code without a digit",
        "value": "AB 1AA",
        "expected": (None, None, None, False),
    },
    {
        "description": "GIR with another inward code",
        "value": "GIR 1AA",
        "expected": (None, None, None, False),
    },
    {"description": "too long", "value": "SW1A 1AAA", "expected": (None, None, None, False)},
    {"description": "free text", "value": "no fixed abode", "expected": (None, None, None, False)},
    {
        "description": "N/A is invalid, not missing",
        "value": "N/A",
        "expected": (None, None, None, False),
    },
    {
        "description": "punctuation only counts as missing",
        "value": " - ",
        "expected": (None, None, None, None),
    },
    {"description": "blank is missing", "value": "  ", "expected": (None, None, None, None)},
    {"description": "None is missing", "value": None, "expected": (None, None, None, None)},
    {"description": "NaN is missing", "value": math.nan, "expected": (None, None, None, None)},
]


@pytest.mark.parametrize("case", POSTCODE_CASES, ids=[c["description"] for c in POSTCODE_CASES])
def test_standardise_postcode(case: dict[str, Any]) -> None:
    out = standardise_postcode(_one(case["value"]))
    assert list(out.columns) == COLUMNS
    assert out["postcode_valid"].dtype == "boolean"
    row = out.iloc[0]
    valid = row["postcode_valid"]
    got = (*row[COLUMNS[:3]].tolist(), None if valid is pd.NA else bool(valid))
    assert got == case["expected"]


# --------------------------------------------------------------------------- properties

STD_SHAPE = re.compile(r"(?:[A-Z]{1,2}[0-9][A-Z0-9]?|GIR) [0-9][ABD-HJLNP-UW-Z]{2}")


@PROPERTY_SETTINGS
@given(series())
def test_standardise_postcode_never_raises_keeps_index_and_is_idempotent(s: pd.Series) -> None:
    out = standardise_postcode(s)
    assert out.index.equals(s.index)
    assert list(out.columns) == COLUMNS
    valid = out["postcode_valid"]
    assert (out["postcode_std"].notna() == valid.fillna(False)).all()
    for std, sector, district in out[COLUMNS[:3]].dropna().itertuples(index=False):
        assert STD_SHAPE.fullmatch(std)
        assert std.startswith(sector) and sector.startswith(district + " ")
    again = standardise_postcode(out["postcode_std"])
    assert again["postcode_std"].tolist() == out["postcode_std"].tolist()
    assert again[COLUMNS[1:3]].equals(out[COLUMNS[1:3]])


@PROPERTY_SETTINGS
@given(st.lists(valid_postcodes, min_size=1, max_size=10))
def test_well_formed_postcodes_validate_however_they_are_spaced(postcodes: list[str]) -> None:
    squashed = pd.Series([p.replace(" ", "").lower() for p in postcodes], dtype=object)
    out = standardise_postcode(squashed)
    assert out["postcode_std"].tolist() == postcodes
    assert out["postcode_valid"].tolist() == [True] * len(postcodes)
