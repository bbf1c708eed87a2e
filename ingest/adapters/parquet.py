"""Parquet files through pyarrow: :func:`read_parquet`.

Each column becomes text with Arrow compute where it can (integers, dates, timestamps,
times, strings, booleans), in the same forms as the other adapters: dates
``YYYY-MM-DD``, timestamps ``YYYY-MM-DDTHH:MM:SS`` (date only at midnight; wall time in
the column's time zone), integral floats without ``.0``, nested values as JSON text.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingest.adapters._common import (
    cell_text,
    check_columns,
    check_file,
    file_sha256,
    first_line,
    oversized,
)
from ingest.adapters._spec import RawTable
from ingest.errors import SourceError

__all__ = ["read_parquet"]

_INT64_SAFE = float(2**63)


def read_parquet(
    path: str | Path,
    *,
    source: str,
    max_field_length: int = 1000,
    max_file_bytes: int = 2_000_000_000,
) -> RawTable:
    """Read a Parquet file; every row counts (row numbers 1..n).

    Raises
    ------
    SourceError
        If the file is missing, too large or not Parquet, has blank or duplicate column
        names, or a column that cannot be read as text (e.g. strings that are not utf-8).
    """
    if max_field_length < 1:
        raise ValueError(f"max_field_length must be at least 1, got {max_field_length}")
    path = Path(path)
    check_file(source, path, max_file_bytes)
    sha256 = file_sha256(source, path)
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise SourceError(source, f"{path} is not a readable Parquet file ({first_line(str(exc))})") from None
    names = check_columns(source, table.column_names)
    n = table.num_rows
    too_long = np.zeros(n, dtype=bool)
    try:
        texts = [_as_text(source, name, table.column(i)) for i, name in enumerate(names)]
        for col in texts:
            long = pc.fill_null(pc.greater(pc.utf8_length(col), max_field_length), False)
            too_long |= np.asarray(long.to_numpy(zero_copy_only=False), dtype=bool)
        values = {name: col.to_numpy(zero_copy_only=False) for name, col in zip(names, texts, strict=True)}
    except (pa.ArrowException, UnicodeDecodeError) as exc:
        # Arrow's message can quote the value it failed on, so only its kind is shown.
        raise SourceError(source, f"{path}: a column cannot be read as text ({type(exc).__name__})") from None
    keep = ~too_long
    frame = pd.DataFrame(
        {name: pd.Series(v[keep], dtype=object) for name, v in values.items()},
        columns=pd.Index(names, dtype=object),
    )
    numbers = np.arange(1, n + 1, dtype=np.int64)
    rejects = tuple(
        oversized(int(i) + 1, {name: v[i] for name, v in values.items()}, max_field_length)
        for i in np.flatnonzero(too_long)
    )
    return RawTable(
        source=source,
        frame=frame,
        row_numbers=numbers[keep],
        rejects=rejects,
        rows_read=n,
        location=str(path),
        sha256=sha256,
        encoding=None,
        delimiter=None,
    )


def _as_text(source: str, name: str, col: pa.ChunkedArray) -> pa.ChunkedArray:
    """``col`` as a string column, empty strings null."""
    text = _convert(source, name, col)
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def _convert(source: str, name: str, col: pa.ChunkedArray) -> pa.ChunkedArray:
    t = col.type
    if pa.types.is_dictionary(t):
        return _convert(source, name, pc.cast(col, t.value_type))
    if pa.types.is_null(t):
        return pa.chunked_array([pa.nulls(len(col), pa.string())])
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        try:
            col.validate(full=True)  # a writer may have stored bytes that are not utf-8 (found by fuzzing)
        except pa.ArrowInvalid:
            raise SourceError(source, f"column {name!r} holds text that is not valid utf-8") from None
        return pc.cast(col, pa.string())
    if pa.types.is_boolean(t):
        return pc.if_else(col, "true", "false")
    if pa.types.is_integer(t) or pa.types.is_date(t):
        return pc.cast(col, pa.string())
    if pa.types.is_floating(t):
        return pa.chunked_array([_float_text(col.to_numpy(zero_copy_only=False))], pa.string())
    if pa.types.is_timestamp(t):
        text = pc.strftime(col, format="%Y-%m-%dT%H:%M:%S")
        text = pc.replace_substring_regex(text, r"\.0+$", "")
        text = pc.replace_substring_regex(text, r"T00:00:00$", "")
        return pc.replace_substring_regex(text, r"(\.\d{6})\d+$", r"\1")
    if pa.types.is_time(t):
        return pc.replace_substring_regex(pc.cast(col, pa.string()), r"\.0+$", "")
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        try:
            return pc.cast(col, pa.string())
        except pa.ArrowInvalid:
            pass
    # decimals, durations, nested and anything rarer: one value at a time
    return pa.chunked_array([pa.array([cell_text(v) for v in col.to_pylist()], pa.string())])


def _float_text(values: np.ndarray) -> np.ndarray:
    """Floats as text: integral ones without ``.0``, NaN (and null) as ``None``."""
    out = np.full(len(values), None, dtype=object)
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        integral = finite & (np.floor(values) == values)
    small = integral & (np.abs(values) < _INT64_SAFE)
    out[small] = values[small].astype(np.int64).astype(str)
    for i in np.flatnonzero(~small & ~np.isnan(values)):
        v = values[i]
        out[i] = str(int(v)) if integral[i] else str(v)
    return out
