"""The adapters' data: what a mapping's ``input:`` block says, and what a read returns."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from ingest.errors import SettingsError
from ingest.schema import QUARANTINE_REASONS

FORMATS: tuple[str, ...] = ("csv", "xlsx", "parquet", "jsonl", "sql")
"""The ``input.format`` values an adapter exists for."""

ENCODINGS: tuple[str, ...] = ("auto", "utf-8", "utf-8-sig", "cp1252", "latin-1")
"""The ``input.encoding`` values a CSV source may name (``auto`` detects)."""

DELIMITERS: tuple[str, ...] = (",", ";", "|", "\t")
"""The delimiters ``delimiter: auto`` chooses among (any one character may be named)."""

FILE_FORMATS = frozenset({"csv", "xlsx", "parquet", "jsonl"})

_SELECT = re.compile(r"\A(?:\s|\(|--[^\n]*\n|/\*.*?\*/)*(?:select|with)\b", re.I | re.S)


@dataclass(frozen=True)
class InputSpec:
    """The ``input:`` block of a source mapping: where the extract is and how to read it.

    Validated when built (:class:`~ingest.errors.SettingsError` naming the key); build it
    from YAML with :meth:`from_dict`, which also names the source.
    """

    format: str
    path: str | None = None
    encoding: str = "auto"
    delimiter: str = "auto"
    sheet: str | None = None
    url: str | None = None
    table: str | None = None
    query: str | None = None

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem is not None:
            key, message = problem
            raise SettingsError(f"input.{key}: {message}")

    def _problem(self) -> tuple[str, str] | None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None and not isinstance(value, str):
                return f.name, f"must be text, got {type(value).__name__}"
        if self.format not in FORMATS:
            return "format", f"{self.format!r} is not one of {', '.join(FORMATS)}"
        if self.format in FILE_FORMATS:
            if not self.path:
                return "path", f"a {self.format} source needs a path (relative to the data folder)"
            for key in ("url", "table", "query"):
                if getattr(self, key) is not None:
                    return key, f"applies only to format sql, not {self.format}"
        else:
            if self.path is not None:
                return (
                    "path",
                    "does not apply to format sql; give url (with {data} for the data folder)",
                )
            if not self.url:
                return "url", "a sql source needs a SQLAlchemy url"
            if (self.table is None) == (self.query is None):
                return "table", "a sql source needs exactly one of table and query"
            if self.table is not None and not self.table.strip():
                return "table", "must not be blank"
            if self.query is not None and not _SELECT.match(self.query):
                return "query", "must be one SELECT (or WITH ... SELECT) statement"
        if self.sheet is not None and self.format != "xlsx":
            return "sheet", f"applies only to format xlsx, not {self.format}"
        if self.encoding not in ENCODINGS:
            return "encoding", f"{self.encoding!r} is not one of {', '.join(ENCODINGS)}"
        if self.format != "csv" and self.encoding != "auto":
            return "encoding", f"applies only to format csv, not {self.format}"
        if self.delimiter != "auto":
            if self.format != "csv":
                return "delimiter", f"applies only to format csv, not {self.format}"
            if len(self.delimiter) != 1 or self.delimiter in '"\r\n':
                return "delimiter", "must be 'auto' or one character (not a quote or line break)"
        return None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, source: str) -> InputSpec:
        """Build from a mapping's ``input:`` block; errors name ``source`` and the key."""
        where = f"source {source!r}.input"
        if not isinstance(d, Mapping):
            raise SettingsError(f"{where}: expected a mapping, got {type(d).__name__}")
        allowed = [f.name for f in fields(cls)]
        unknown = sorted(str(k) for k in d if k not in allowed)
        if unknown:
            raise SettingsError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")
        if "format" not in d:
            raise SettingsError(f"{where}.format: missing; one of {', '.join(FORMATS)}")
        defaults = {"encoding": "auto", "delimiter": "auto"}
        kwargs = {k: (defaults[k] if v is None and k in defaults else v) for k, v in d.items()}
        try:
            return cls(**kwargs)
        except SettingsError as exc:
            raise SettingsError(f"source {source!r}.{exc}") from None

    def to_dict(self) -> dict[str, Any]:
        """The block as YAML would hold it (keys that are unset or do not apply left out)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("encoding", "delimiter") and self.format != "csv":
                continue
            if value is not None:
                out[f.name] = value
        return out


@dataclass(frozen=True)
class RawReject:
    """A row an adapter could not turn into a frame row; it goes to the quarantine."""

    row_number: int
    """1-based data row (header excluded; for CSV the record, not the line)."""
    reason: str
    """A key of :data:`ingest.schema.QUARANTINE_REASONS`."""
    message: str
    """What was wrong, naming row and column; never the values."""
    raw: str
    """The raw row as JSON text: column to value, or ``{"_line": text}``."""

    def __post_init__(self) -> None:
        if self.reason not in QUARANTINE_REASONS:
            raise ValueError(f"unknown quarantine reason {self.reason!r}")


@dataclass(frozen=True, eq=False)
class RawTable:
    """What an adapter read from one source: text cells, row numbers and rejects.

    ``frame`` has one object column per source column (named as in the header, stripped),
    every value a ``str`` or ``None``. ``rows_read == len(frame) + len(rejects)`` always.
    """

    source: str
    frame: pd.DataFrame
    row_numbers: np.ndarray
    rejects: tuple[RawReject, ...]
    rows_read: int
    location: str
    sha256: str | None
    encoding: str | None
    delimiter: str | None

    def __post_init__(self) -> None:
        if len(self.row_numbers) != len(self.frame):
            raise ValueError(
                f"source {self.source!r}: {len(self.row_numbers)} row numbers for {len(self.frame)} rows"
            )
        if self.rows_read != len(self.frame) + len(self.rejects):
            raise ValueError(
                f"source {self.source!r}: rows_read {self.rows_read} is not "
                f"{len(self.frame)} rows + {len(self.rejects)} rejects"
            )
