"""Fuzzing helpers: seeded mutations of real agency extracts, and what every read must promise.

Two kinds of mutation, both driven by a :class:`random.Random` so a failing seed replays:

- **byte mutations** (:func:`mutate_bytes`): flipped bits, hostile tokens, inserted,
  deleted, duplicated and truncated spans, as a damaged transfer or a hand edit would make;
- **cell mutations** (one function per format): the file stays well formed but cells take
  hostile values (impossible dates, odd digits, delimiters, quotes, line breaks, control and
  bidi characters, huge or typed values), so rows get past the adapter into the mapping
  engine and the standardisers.

The checks (:func:`check_raw_table`, :func:`check_source_tables`, :func:`check_private`)
are the adapter contract and the "no row lost" rule of ``ingest``.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import random
import re
import sqlite3
import zipfile
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.adapters import RawTable
from ingest.canonicalise import SourceTables
from ingest.schema import QUARANTINE_REASONS, to_arrow
from ingest.sources import IngestResult

# --------------------------------------------------------------------------- hostile material

BYTE_TOKENS: tuple[bytes, ...] = (
    b'"',
    b'""',
    b";",
    b",",
    b"\t",
    b"|",
    b"\r",
    b"\n",
    b"\r\n",
    b"\x00",
    b"\x1a",
    b"\xff",
    b"\xc3",  # a utf-8 lead byte without its continuation
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\\",
    b'{"a": 1}',
    b"null",
    b"NaN",
    b"1e999",
    b"-0",
    b"9" * 40,
    b"A" * 3000,
    "\u202e".encode(),
    "Zoë".encode("cp1252"),
    b"\\ud800",  # in a JSON string: an escaped unpaired surrogate, valid JSON but not text
)

HOSTILE_TEXT: tuple[str, ...] = (
    " ",
    "\t",
    "NULL",
    "null",
    "N/A",
    "-",
    "0",
    "-1",
    "1e999",
    "NaN",
    "inf",
    "9" * 30,
    "٣٤٥٦٧٨٩٠١٢",  # Arabic-Indic digits: str.isdigit() is true
    "①②③",
    "00/00/0000",
    "31/02/2020",
    "29/02/2023",
    "99/99/9999",
    "2020-13-45",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "1/1/1",
    "32-DEC-2018",
    "12-Foo-2020",
    "1800-01-01",
    "+44",
    '=HYPERLINK("http://x")',
    "@SUM(A1)",
    "O'Brien",
    '"quoted"',
    "a;b,c\td|e",
    "line\nbreak",
    "cr\rhere",
    "nul\x00byte",
    "\u202eevil\u200f",
    "ẞß",
    "İı",
    "x" * 3000,
    "{}",
    "[1, 2]",
    "{template}",
    "{0}",
    "%s%n",
    "../../etc/passwd",
    "SMITH, ",
    ", John",
    ",",
    "Baby",
    "Mr",
    "BD1",
    "ZZ99 9ZZ",
    "bd1 1aa ",
    "GIR 0AA",
    "9434765919",
    "943 476 5919",
    "A123456789012",
    "a12345678901Z",
    "M",
    "F",
    "X",
    "9",
    "Y",
    "N",
    "TEST",
    "DELETED",
    "150",
    "-3",
    "0.5",
)

HOSTILE_VALUES: tuple[Any, ...] = (
    None,
    0,
    -1,
    2**62,
    2**70,
    1.5,
    -0.0,
    1e308,
    float("nan"),
    float("inf"),
    True,
    False,
    [1, "a", None],
    {"nested": {"deep": [1, 2]}},
    Decimal("1E+400"),
    "\ud800",  # written by json.dumps as the escape "\\ud800"
    "name\udfff",
)


def hostile_cell(rng: random.Random) -> str:
    """A hostile text value."""
    return rng.choice(HOSTILE_TEXT)


# --------------------------------------------------------------------------- byte mutations


def mutate_bytes(data: bytes, rng: random.Random, *, edits: int | None = None, start: int = 0) -> bytes:
    """``data`` with 1-6 random edits, none before offset ``start`` (to keep a header)."""
    b = bytearray(data)
    for _ in range(edits if edits is not None else rng.randint(1, 6)):
        lo = min(start, len(b))
        pos = rng.randint(lo, len(b))
        op = rng.randrange(7)
        if op == 0 and pos < len(b):
            b[pos] ^= 1 << rng.randrange(8)
        elif op == 1 and pos < len(b):
            b[pos : pos + 1] = rng.choice(BYTE_TOKENS)
        elif op == 2:
            b[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif op == 3:
            del b[pos : pos + rng.randint(1, 64)]
        elif op == 4 and len(b) > lo:
            j = rng.randrange(lo, len(b))
            b[pos:pos] = b[j : j + rng.randint(1, 200)]
        elif op == 5 and rng.random() < 0.3:
            del b[pos:]
        else:
            b[pos:pos] = rng.choice(BYTE_TOKENS)
    return bytes(b)


def first_line_end(data: bytes) -> int:
    """Offset just past the first line (the header of a text extract)."""
    end = data.find(b"\n")
    return len(data) if end < 0 else end + 1


def mutate_xlsx_member(data: bytes, rng: random.Random) -> bytes:
    """The workbook with one of its XML parts byte-mutated (uncompressed), then zipped again."""
    with zipfile.ZipFile(io.BytesIO(data)) as zin:
        members = {name: zin.read(name) for name in zin.namelist()}
    target = rng.choice(sorted(n for n in members if n.endswith((".xml", ".rels"))))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, content in members.items():
            zout.writestr(name, mutate_bytes(content, rng) if name == target else content)
    return out.getvalue()


# --------------------------------------------------------------------------- cell mutations


def mutate_delimited(
    data: bytes, rng: random.Random, *, encoding: str, delimiter: str, cells: int = 6
) -> bytes:
    """A delimited extract with hostile cells, short and long rows and repeated rows, re-quoted."""
    bom = data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig" if bom else encoding)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if len(rows) < 2:
        return data
    for _ in range(cells):
        r = rng.randrange(1, len(rows))
        op = rng.random()
        if op < 0.75 and rows[r]:
            rows[r][rng.randrange(len(rows[r]))] = hostile_cell(rng)
        elif op < 0.85:
            rows.insert(rng.randrange(1, len(rows) + 1), list(rows[r]))
        elif op < 0.92 and rows[r]:
            rows[r].pop()
        else:
            rows[r].append(hostile_cell(rng))
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    out = buf.getvalue().encode("utf-8" if bom else encoding, errors="replace")
    return (b"\xef\xbb\xbf" + out) if bom else out


NOT_OBJECTS: tuple[str, ...] = ('"just text"', "[1, 2]", "42", "[" * 5000 + "]" * 5000, "{", '{"a":1,"a":2}')


def mutate_jsonl(data: bytes, rng: random.Random, *, lines: int = 6) -> bytes:
    """JSON lines with hostile values and keys, dropped keys and lines that are not objects."""
    out = data.decode("utf-8").splitlines()
    for _ in range(lines):
        i = rng.randrange(len(out))
        try:
            obj = json.loads(out[i])
        except (ValueError, RecursionError):
            continue
        op = rng.random()
        if not isinstance(obj, dict) or not obj:
            continue
        key = rng.choice(sorted(obj))
        if op < 0.45:
            obj[key] = hostile_cell(rng)
        elif op < 0.7:
            obj[key] = rng.choice(HOSTILE_VALUES)
        elif op < 0.8:
            del obj[key]
        elif op < 0.87:
            obj[hostile_cell(rng)] = hostile_cell(rng)
        elif op < 0.94:
            out[i] = rng.choice(NOT_OBJECTS)
            continue
        else:
            obj = {k: None for k in obj}
        out[i] = json.dumps(obj, default=str, allow_nan=True)
    return ("\n".join(out) + "\n").encode("utf-8")


def _hostile_column(rng: random.Random, column: pa.ChunkedArray) -> pa.Array:
    n = len(column)
    kind = rng.randrange(10)
    if kind == 9:  # the values as stored, made invalid utf-8 (Arrow may quote them in errors)
        raw = [None if v is None else str(v).encode() + b"\xff" for v in column.to_pylist()]
        return pa.array(raw, pa.binary()).view(pa.string())
    if kind == 0:
        return pa.array([hostile_cell(rng) for _ in range(n)], pa.string())
    if kind == 1:
        return pa.array([rng.choice([0, -1, 2**62, None, 9434765919]) for _ in range(n)], pa.int64())
    if kind == 2:
        return pa.array([rng.choice([1.5, -0.0, 1e308, np.nan, np.inf, None, 2.0**80]) for _ in range(n)])
    if kind == 3:
        stamps = [
            dt.datetime(1, 1, 1),
            dt.datetime(9999, 12, 31, 23, 59, 59),
            dt.datetime(2020, 2, 29, 12),
            None,
        ]
        return pa.array([rng.choice(stamps) for _ in range(n)], pa.timestamp("us", tz="Europe/London"))
    if kind == 4:
        return pa.array([rng.choice([b"\xff\xfe", b"ok", b"", None]) for _ in range(n)], pa.binary())
    if kind == 5:
        return pa.array([rng.choice([["a", None], [], None]) for _ in range(n)], pa.list_(pa.string()))
    if kind == 6:
        indices = pa.array([rng.choice([0, 1, None]) for _ in range(n)], pa.int32())
        return pa.DictionaryArray.from_arrays(indices, pa.array(["x", "y"]))
    if kind == 7:
        decimals = [Decimal("1.10"), Decimal("-0"), None]
        return pa.array([rng.choice(decimals) for _ in range(n)], pa.decimal128(20, 2))
    return pa.nulls(n)


def mutate_parquet(data: bytes, rng: random.Random, *, columns: int = 3) -> bytes:
    """A Parquet extract with some columns replaced by hostile values of another type."""
    table = pq.read_table(io.BytesIO(data))
    for _ in range(columns):
        i = rng.randrange(table.num_columns)
        table = table.set_column(i, table.field(i).name, _hostile_column(rng, table.column(i)))
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


def mutate_sqlite(path: Path, rng: random.Random, *, cells: int = 8) -> None:
    """Hostile values of any storage class (text, integers, reals, blobs, bad utf-8) in place."""
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for _ in range(cells):
            table = rng.choice(tables)
            columns = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
            column = rng.choice(columns)
            rowids = [r[0] for r in con.execute(f'SELECT rowid FROM "{table}"')]
            if not rowids:
                continue
            rowid = rng.choice(rowids)
            if rng.random() < 0.15:
                # the value as stored, made invalid utf-8: a driver may quote it in its error
                sql = f'"{column}" = CAST(CAST("{column}" AS BLOB) || x\'ff\' AS TEXT)'
                params: tuple[Any, ...] = (rowid,)
            else:
                sql = f'"{column}" = ?'
                value = rng.choice([*HOSTILE_TEXT[:20], 2**62, -1, 1.5, float("inf"), b"\xff\x00", None])
                params = (value, rowid)
            with contextlib.suppress(sqlite3.IntegrityError):  # a primary key keeps its type
                con.execute(f'UPDATE "{table}" SET {sql} WHERE rowid = ?', params)
        con.commit()
    finally:
        con.close()


_XLSX_VALUES: tuple[Any, ...] = (
    None,
    0,
    -1,
    2**62,
    1.5,
    1e308,
    True,
    dt.datetime(1900, 1, 1),
    dt.datetime(9999, 12, 31, 23, 59),
    dt.date(1904, 2, 29),
    dt.time(12, 30),
    dt.timedelta(days=3),
    "=1/0",
    "#DIV/0!",
)


def mutate_xlsx(path: Path, rng: random.Random, *, cells: int = 8) -> None:
    """Hostile typed cells in the first sheet, written back with openpyxl."""
    book = openpyxl.load_workbook(path)
    ws = book.worksheets[0]
    for _ in range(cells):
        row = rng.randint(2, max(2, ws.max_row + 1))
        col = rng.randint(1, ws.max_column + (1 if rng.random() < 0.1 else 0))
        if rng.random() < 0.5:
            value: Any = rng.choice(_XLSX_VALUES)
        else:  # openpyxl refuses control characters in cells
            value = "".join(ch for ch in hostile_cell(rng) if ch >= " " or ch == "\t") or None
        ws.cell(row=row, column=col, value=value)
    book.save(path)


# --------------------------------------------------------------------------- checks


def check_raw_table(raw: RawTable) -> None:
    """The adapter contract: every row read is a frame row or a reject, numbered 1..rows_read."""
    assert isinstance(raw, RawTable)
    numbers = sorted([*raw.row_numbers.tolist(), *(r.row_number for r in raw.rejects)])
    assert numbers == list(range(1, raw.rows_read + 1)), "row numbers are not 1..rows_read"
    assert raw.frame.columns.is_unique
    for name in raw.frame.columns:
        assert isinstance(name, str) and name and name == name.strip()
        assert all(v is None or (isinstance(v, str) and v) for v in raw.frame[name])
    for reject in raw.rejects:
        assert reject.reason in QUARANTINE_REASONS
        assert isinstance(json.loads(reject.raw), dict)


def check_source_tables(tables: SourceTables, raw: RawTable) -> None:
    """No row lost: every row read is accepted or has exactly one row-scope quarantine entry."""
    c = tables.counts
    assert c.rows_read == raw.rows_read
    assert c.rows_read == c.rows_accepted + c.rows_quarantined
    q = tables.quarantine
    rows = q[q["scope"] == "row"]
    assert rows["row_number"].is_unique, "a row was quarantined twice"
    assert len(rows) == c.rows_quarantined
    quarantined = set(rows["row_number"])
    assert quarantined <= set(range(1, c.rows_read + 1))
    for name in ("records", "events", "stated_relationships"):
        produced = set(getattr(tables, name)["row_number"].dropna().astype(int))
        assert not produced & quarantined, f"{name} came from a quarantined row"
    assert set(q["reason"]) <= set(QUARANTINE_REASONS)
    assert q["message"].notna().all()
    for name in ("records", "events", "stated_relationships", "quarantine"):
        to_arrow(name, getattr(tables, name))  # what a workspace stores must be storable


def check_ingest_result(result: IngestResult) -> None:
    """:func:`check_source_tables` for every source of a whole ingest, from the joined tables."""
    q = result.quarantine
    for source, c in result.counts.items():
        assert c.rows_read == c.rows_accepted + c.rows_quarantined, source
        rows = q[(q["source"] == source) & (q["scope"] == "row")]
        assert rows["row_number"].is_unique, f"{source}: a row was quarantined twice"
        assert len(rows) == c.rows_quarantined, f"{source}: a quarantined row has no entry"
        quarantined = set(rows["row_number"])
        for name in ("records", "events", "stated_relationships"):
            table = getattr(result, name)
            produced = set(table.loc[table["source"] == source, "row_number"].dropna().astype(int))
            assert not produced & quarantined, f"{source}: {name} came from a quarantined row"
        items = q[(q["source"] == source) & (q["scope"] == "item")]
        assert len(items) == c.items_quarantined, source
    for name, frame in result.tables().items():
        to_arrow(name, frame)


class Secrets:
    """Personal values (names, dates of birth, NHS numbers) to look for, as whole words."""

    def __init__(self, values: Iterable[str], *, min_length: int = 4) -> None:
        words = sorted({v for v in values if v and len(v) >= min_length}, key=len, reverse=True)
        self.count = len(words)
        self.pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)")

    def found_in(self, texts: Iterable[str]) -> int:
        """How many personal values appear (the values themselves are not returned)."""
        return len({m.group(0) for m in self.pattern.finditer("\n".join(texts))})


def check_private(texts: Iterable[str], secrets: Secrets) -> None:
    """None of ``secrets`` appears in any of ``texts`` (messages, logs, output)."""
    leaked = secrets.found_in(texts)
    assert not leaked, f"{leaked} personal value(s) appear in messages"
