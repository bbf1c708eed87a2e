"""Row access for one family's small frames: pandas' own row values, without its per-call cost.

``DataFrame.itertuples`` and ``DataFrame.to_dict`` build a named-tuple class or read each column
with ``iloc`` on every call: a couple of milliseconds for a frame of one family's rows, paid
dozens of times per FSR. These helpers read the values once and hand them out as pandas
does, so they are the very values pandas would give.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionDtype

__all__ = ["records", "records_by_index", "rows"]


def _columns(frame: pd.DataFrame) -> list[Any]:
    """Each column's values, iterable as pandas iterates a column.

    Without extension dtypes, one ``to_numpy(dtype=object)`` gives every value as pandas
    does (Python scalars, Timestamps for datetimes, the objects themselves); a column of an
    extension dtype is iterated as its Series.
    """
    dtypes = frame.dtypes.values
    if not any(isinstance(dtype, ExtensionDtype) for dtype in dtypes):
        values = frame.to_numpy(dtype=object)
        return [values[:, k] for k in range(values.shape[1])]
    if frame.columns.is_unique:
        return [frame[name] for name in frame.columns]
    return [frame.iloc[:, k] for k in range(frame.shape[1])]


@functools.lru_cache(maxsize=128)
def _row_type(columns: tuple[Any, ...]) -> Any:
    return collections.namedtuple("Row", [str(c) for c in columns], rename=True)


def rows(frame: pd.DataFrame) -> Iterator[Any]:
    """``frame.itertuples(index=False)``: each row as a named tuple, the same values."""
    make = _row_type(tuple(frame.columns))._make
    return map(make, zip(*_columns(frame), strict=True))


def _box(value: Any) -> Any:
    """A NumPy scalar as the Python one, and ``pd.NA`` as None (as ``to_dict`` gives them)."""
    if value is None or type(value) is str:
        return value
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, float | np.floating):
        return float(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value)
    if isinstance(value, np.timedelta64):
        return pd.Timedelta(value)
    if value is pd.NA:
        return None
    return value


def _boxed(frame: pd.DataFrame) -> list[Any]:
    """The columns to iterate, boxed where ``to_dict`` boxes them (object and extension dtypes)."""
    out: list[Any] = []
    for column, dtype in zip(_columns(frame), frame.dtypes.values, strict=True):
        if dtype == np.dtype(object) or isinstance(dtype, ExtensionDtype):
            out.append(map(_box, column))
        else:
            out.append(column)
    return out


def records(frame: pd.DataFrame) -> list[dict[Any, Any]]:
    """``frame.to_dict("records")``: one dict per row, the same values."""
    names = frame.columns.tolist()
    return [dict(zip(names, values, strict=True)) for values in zip(*_boxed(frame), strict=True)]


def records_by_index(frame: pd.DataFrame) -> dict[Any, dict[Any, Any]]:
    """``frame.to_dict("index")``: a dict per row keyed by the (unique) index, the same values.

    Raises
    ------
    ValueError
        If the index is not unique (as pandas does).
    """
    if not frame.index.is_unique:
        raise ValueError("DataFrame index must be unique for orient='index'.")
    names = frame.columns.tolist()
    return {
        key: dict(zip(names, values, strict=True))
        for key, *values in zip(frame.index, *_boxed(frame), strict=True)
    }
