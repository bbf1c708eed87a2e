"""Row access for small frames: the very values pandas' own row iterators give."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from genogram._frames import records, records_by_index, rows
from tests.genogram.family_fixture import family_tables


def _typed(values):
    """Values with their types, so 1, 1.0, True and np.int64(1) are told apart."""
    return [(type(v).__name__, repr(v)) for v in values]


FRAMES = [
    {"description": "empty", "frame": pd.DataFrame({"a": pd.Series([], dtype=object)})},
    {
        "description": "numpy columns",
        "frame": pd.DataFrame(
            {"i": [1, 2], "f": [1.5, np.nan], "b": [True, False], "t": pd.to_datetime(["2020-01-02", None])}
        ),
    },
    {
        "description": "object columns holding dates, arrays, None and NumPy scalars",
        "frame": pd.DataFrame(
            {
                "d": [dt.date(2020, 1, 2), None],
                "a": [np.array(["x", "y"]), np.array([], dtype=object)],
                "n": [np.int64(3), np.float64(2.5)],
                "s": ["x", None],
            }
        ),
    },
    {
        "description": "extension dtypes with missing values",
        "frame": pd.DataFrame(
            {"age": pd.array([4, None], dtype="Int64"), "s": pd.array(["x", None], dtype="string")}
        ),
    },
    {
        "description": "repeated column names",
        "frame": pd.DataFrame([[1, "a"], [2, "b"]], columns=["x", "x"]),
    },
    *[{"description": f"fixture {name}", "frame": frame} for name, frame in family_tables().items()],
]


@pytest.mark.parametrize("case", FRAMES, ids=lambda c: c["description"])
def test_rows_are_itertuples(case):
    frame = case["frame"]
    expected = list(frame.itertuples(index=False))
    got = list(rows(frame))
    assert [r._fields for r in got] == [r._fields for r in expected]
    assert [_typed(r) for r in got] == [_typed(r) for r in expected]


@pytest.mark.parametrize("case", FRAMES, ids=lambda c: c["description"])
def test_records_are_to_dict_records(case):
    frame = case["frame"]
    if not frame.columns.is_unique:
        pytest.skip("to_dict needs unique columns")
    expected = frame.to_dict("records")
    got = records(frame)
    assert [list(r) for r in got] == [list(r) for r in expected]
    assert [_typed(r.values()) for r in got] == [_typed(r.values()) for r in expected]


@pytest.mark.parametrize("case", FRAMES, ids=lambda c: c["description"])
def test_records_by_index_are_to_dict_index(case):
    frame = case["frame"]
    if not frame.columns.is_unique:
        pytest.skip("to_dict needs unique columns")
    frame = frame.set_axis([f"r{k}" for k in range(len(frame))])
    expected = frame.to_dict("index")
    got = records_by_index(frame)
    assert list(got) == list(expected)
    assert [_typed(r.values()) for r in got.values()] == [_typed(r.values()) for r in expected.values()]


def test_records_by_index_refuses_a_repeated_index():
    with pytest.raises(ValueError, match="unique"):
        records_by_index(pd.DataFrame({"a": [1, 2]}, index=["x", "x"]))
