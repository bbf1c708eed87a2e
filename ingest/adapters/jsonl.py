"""JSON lines: :func:`parse_jsonl` on bytes, :func:`read_jsonl` on a path.

One JSON object per line, utf-8 (a BOM is tolerated). The columns are the union of the
objects' keys in order of first appearance; a key an object lacks is ``None``; nested
values become JSON text. A line that is not valid utf-8 or not a JSON object (or has a
blank or repeated key, or an escaped unpaired surrogate such as ``"\\ud800"``, which is not
text) is a ``malformed_row``; blank lines are skipped and not counted.
A file with no lines is a :class:`~ingest.errors.SourceError`.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from ingest.adapters._common import (
    cell_text,
    line_json,
    malformed,
    oversized,
    read_bytes,
    text_frame,
)
from ingest.adapters._spec import RawReject, RawTable
from ingest.errors import SourceError

__all__ = ["parse_jsonl", "read_jsonl"]


class _RepeatedKeyError(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _RepeatedKeyError("an object repeats a key")
    return out


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs)
_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_jsonl(
    data: bytes,
    *,
    source: str,
    max_field_length: int = 1000,
    location: str = "<bytes>",
) -> RawTable:
    """Parse JSON lines held in memory (see the module docstring for the rules)."""
    if max_field_length < 1:
        raise ValueError(f"max_field_length must be at least 1, got {max_field_length}")
    columns: dict[str, None] = {}
    rows: list[dict[str, str | None]] = []
    row_numbers: list[int] = []
    rejects: list[RawReject] = []
    n = 0
    for line in data.removeprefix(b"\xef\xbb\xbf").split(b"\n"):
        line = line.removesuffix(b"\r")
        if not line.strip():
            continue
        n += 1
        line_limit = max_field_length * max(len(columns), 1)
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raw = line_json(line.decode("utf-8", errors="replace"), line_limit)
            rejects.append(malformed(n, f"is not valid utf-8 ({exc.reason} at byte {exc.start})", raw))
            continue
        problem, row = _row(text)
        if row is None:
            rejects.append(malformed(n, problem, line_json(text, line_limit)))
            continue
        columns.update(dict.fromkeys(row))
        if max(map(len, filter(None, row.values())), default=0) > max_field_length:
            rejects.append(oversized(n, row, max_field_length))
            continue
        rows.append(row)
        row_numbers.append(n)
    if n == 0:
        raise SourceError(source, f"{location} is empty: no JSON lines")
    names = list(columns)
    frame = text_frame([list(map(row.get, names)) for row in rows], names)
    return RawTable(
        source=source,
        frame=frame,
        row_numbers=np.asarray(row_numbers, dtype=np.int64),
        rejects=tuple(rejects),
        rows_read=n,
        location=location,
        sha256=hashlib.sha256(data).hexdigest(),
        encoding=None,
        delimiter=None,
    )


def _row(text: str) -> tuple[str, dict[str, str | None] | None]:
    """The line's object as text cells, or why it is malformed."""
    try:
        value = _DECODER.decode(text)
    except _RepeatedKeyError:
        return "an object repeats a key", None
    except (ValueError, RecursionError):
        return "is not valid JSON", None
    if not isinstance(value, dict):
        return f"is JSON {type(value).__name__}, not an object", None
    row: dict[str, str | None] = {}
    for key, item in value.items():
        name = key.strip()
        if not name:
            return "has a blank key", None
        if name in row:
            return f"has key {name!r} twice (after trimming spaces)", None
        row[name] = (item or None) if type(item) is str else cell_text(item)
    if "\\u" in text and any(_SURROGATE.search(v) for v in (*row, *row.values()) if v):
        # valid JSON, but not text: it could not be stored (found by fuzzing)
        return "holds an escaped unpaired surrogate (\\ud800-\\udfff), which is not text", None
    return "", row


def read_jsonl(
    path: str | Path,
    *,
    source: str,
    max_field_length: int = 1000,
    max_file_bytes: int = 2_000_000_000,
) -> RawTable:
    """Read a JSON lines file; see :func:`parse_jsonl`.

    Raises
    ------
    SourceError
        If the file is missing or larger than ``max_file_bytes``.
    """
    path = Path(path)
    return parse_jsonl(
        read_bytes(source, path, max_file_bytes),
        source=source,
        max_field_length=max_field_length,
        location=str(path),
    )
