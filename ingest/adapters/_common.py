"""Helpers every adapter shares: typed cells to text, rejects, header checks, file checks."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.adapters._spec import RawReject, RawTable
from ingest.errors import SourceError

_CHUNK = 1 << 20
ELLIPSIS = "…"


def cell_text(value: object) -> str | None:
    """One typed value as the text the mapping sees; ``None`` for missing or empty.

    Dates are ISO (``YYYY-MM-DD``, plus ``THH:MM:SS`` only when the time is not
    midnight; a time zone is dropped, keeping the wall time), integral numbers have no
    decimal point (an NHS number stored as ``9434765919.0`` gives ``"9434765919"``),
    booleans are ``true``/``false``, nested values are JSON text.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, np.generic):
        return cell_text(value.item())
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
        return str(value)
    if isinstance(value, Decimal):
        if value.is_nan():
            return None
        if value.is_finite() and value == value.to_integral_value():
            return str(int(value))
        return str(value)
    if isinstance(value, dt.datetime):
        return datetime_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        try:
            return data.decode("utf-8") or None
        except UnicodeDecodeError:
            return "0x" + data.hex()
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value) or None


def datetime_text(value: dt.datetime) -> str:
    """``YYYY-MM-DD`` at midnight, else ``YYYY-MM-DDTHH:MM:SS[.ffffff]`` (wall time)."""
    value = value.replace(tzinfo=None)
    if value.time() == dt.time(0, 0):
        return value.date().isoformat()
    return value.isoformat(timespec="seconds" if value.microsecond == 0 else "microseconds")


def truncate(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` characters plus an ellipsis when longer."""
    return value if len(value) <= limit else value[:limit] + ELLIPSIS


def raw_json(row: Mapping[str, str | None], limit: int) -> str:
    """The row as JSON text, each value cut to ``limit`` characters."""
    return json.dumps(
        {k: (None if v is None else truncate(v, limit)) for k, v in row.items()}, ensure_ascii=False
    )


def line_json(line: str, limit: int) -> str:
    """An unparseable row as ``{"_line": text}``, the text cut to ``limit`` characters."""
    return json.dumps({"_line": truncate(line, limit)}, ensure_ascii=False)


def malformed(row_number: int, message: str, raw: str) -> RawReject:
    return RawReject(row_number, "malformed_row", f"row {row_number}: {message}", raw)


def check_columns(source: str, names: Sequence[object], *, what: str = "header") -> list[str]:
    """Column names stripped; blank or duplicate names are a :class:`SourceError`."""
    cleaned = ["" if n is None else str(n).strip() for n in names]
    blank = [str(i + 1) for i, n in enumerate(cleaned) if not n]
    if blank:
        raise SourceError(source, f"the {what} has blank column name(s) at position(s) {', '.join(blank)}")
    counts = Counter(cleaned)
    dups = [str(i + 1) for i, n in enumerate(cleaned) if counts[n] > 1]
    if dups:  # positions, not names: a file without a header row would show its first data row
        raise SourceError(source, f"the {what} repeats a column name at positions {', '.join(dups)}")
    return cleaned


class RowCollector:
    """Collects text rows under known columns, rejecting rows with an oversized value."""

    def __init__(self, columns: Sequence[str], max_field_length: int) -> None:
        if max_field_length < 1:
            raise ValueError(f"max_field_length must be at least 1, got {max_field_length}")
        self.columns = list(columns)
        self.max_field_length = max_field_length
        self.rows: list[list[str | None]] = []
        self.row_numbers: list[int] = []
        self.rejects: list[RawReject] = []

    def add(self, row_number: int, values: list[str | None]) -> None:
        """Accept ``values`` (one per column), or reject the row if a value is too long."""
        limit = self.max_field_length
        if max(map(len, filter(None, values)), default=0) > limit:
            self.rejects.append(oversized(row_number, dict(zip(self.columns, values, strict=True)), limit))
        else:
            self.rows.append(values)
            self.row_numbers.append(row_number)

    def add_fields(self, row_number: int, fields: list[str]) -> None:
        """:meth:`add` for parsed text fields, one per column (``""`` becomes ``None``)."""
        if fields and max(map(len, fields)) > self.max_field_length:
            self.add(row_number, [f or None for f in fields])
        else:
            self.rows.append(fields)  # type: ignore[arg-type]  # "" is made None in table()
            self.row_numbers.append(row_number)

    def reject(self, reject: RawReject) -> None:
        self.rejects.append(reject)

    def table(
        self,
        source: str,
        *,
        location: str,
        sha256: str | None,
        encoding: str | None = None,
        delimiter: str | None = None,
    ) -> RawTable:
        frame = text_frame(self.rows, self.columns)
        return RawTable(
            source=source,
            frame=frame,
            row_numbers=np.asarray(self.row_numbers, dtype=np.int64),
            rejects=tuple(sorted(self.rejects, key=lambda r: r.row_number)),
            rows_read=len(self.rows) + len(self.rejects),
            location=location,
            sha256=sha256,
            encoding=encoding,
            delimiter=delimiter,
        )


def text_frame(rows: list[list[str | None]], columns: Sequence[str]) -> pd.DataFrame:
    """A frame of object columns from rows of equal length, empty strings made ``None``."""
    values = np.empty((len(rows), len(columns)), dtype=object)
    if rows and columns:
        values[:] = rows
        values[values == ""] = None
    return pd.DataFrame(values, columns=pd.Index(list(columns), dtype=object), copy=False)


def oversized(row_number: int, row: Mapping[str, str | None], limit: int) -> RawReject:
    """The ``oversized_field`` reject of a row, naming the long columns, values cut."""
    long = [c for c, v in row.items() if v is not None and len(v) > limit]
    return RawReject(
        row_number,
        "oversized_field",
        f"row {row_number}: column(s) {', '.join(repr(c) for c in long)} longer than {limit} characters",
        raw_json(row, limit),
    )


def check_file(source: str, path: Path, max_file_bytes: int) -> int:
    """The size of ``path``; missing, unreadable or too large is a :class:`SourceError`."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise SourceError(source, f"file not found: {path}") from None
    except OSError as exc:
        raise SourceError(source, f"cannot read {path}: {exc.strerror}") from None
    if not path.is_file():
        raise SourceError(source, f"not a file: {path}")
    if stat.st_size > max_file_bytes:
        raise SourceError(
            source, f"{path} is {stat.st_size} bytes, more than max_file_bytes ({max_file_bytes})"
        )
    return stat.st_size


def read_bytes(source: str, path: Path, max_file_bytes: int) -> bytes:
    """The file's bytes, after :func:`check_file`."""
    check_file(source, path, max_file_bytes)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(source, f"cannot read {path}: {exc.strerror}") from None


def file_sha256(source: str, path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                digest.update(chunk)
    except OSError as exc:
        raise SourceError(source, f"cannot read {path}: {exc.strerror}") from None
    return digest.hexdigest()


_PASSWORD_IN_URL = re.compile(r"(://[^:/@\s]*:)[^@/\s]*@")


def mask_url(url: str, password: str | None = None) -> str:
    """``url`` (or any text) with a URL password, and ``password`` itself, shown as ``***``."""
    masked = _PASSWORD_IN_URL.sub(r"\1***@", url)
    if password:
        masked = masked.replace(password, "***")
    return masked


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def column_names(values: Iterable[object]) -> list[object]:
    """Header cells with trailing empty cells dropped."""
    names = list(values)
    while names and (names[-1] is None or str(names[-1]).strip() == ""):
        names.pop()
    return names
