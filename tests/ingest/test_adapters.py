"""The source adapters: every format read from real files made in ``tmp_path``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ingest.adapters
from ingest.adapters import (
    DELIMITERS,
    InputSpec,
    RawReject,
    RawTable,
    parse_delimited,
    parse_jsonl,
    read_source,
)
from ingest.adapters._common import cell_text, mask_url
from ingest.errors import SettingsError, SourceError
from ingest.schema import QUARANTINE_REASONS

SOURCE = "police_da"


def check_invariants(raw: RawTable) -> None:
    """What every RawTable promises, whatever the input."""
    assert isinstance(raw, RawTable)
    assert raw.rows_read == len(raw.frame) + len(raw.rejects)
    assert raw.row_numbers.dtype == np.int64
    assert len(raw.row_numbers) == len(raw.frame)
    numbers = sorted([*raw.row_numbers.tolist(), *(r.row_number for r in raw.rejects)])
    assert numbers == sorted(set(numbers))
    assert all(n >= 1 for n in numbers)
    assert list(raw.row_numbers) == sorted(raw.row_numbers)
    assert all(isinstance(c, str) and c == c.strip() and c for c in raw.frame.columns)
    assert raw.frame.columns.is_unique
    for col in raw.frame.columns:
        assert raw.frame[col].dtype == object
        assert all(v is None or (isinstance(v, str) and v != "") for v in raw.frame[col])
    for r in raw.rejects:
        assert r.reason in QUARANTINE_REASONS
        parsed = json.loads(r.raw)
        assert isinstance(parsed, dict)
        for value in parsed.values():
            if isinstance(value, str) and len(value) >= 4:
                assert value not in r.message


def spec(**kw: Any) -> InputSpec:
    return InputSpec.from_dict(kw, source=SOURCE)


def read_file(tmp_path: Path, name: str, data: bytes, **kw: Any) -> RawTable:
    (tmp_path / name).write_bytes(data)
    fmt = kw.pop("format", "csv")
    max_field_length = kw.pop("max_field_length", 1000)
    raw = read_source(SOURCE, spec(format=fmt, path=name, **kw), tmp_path, max_field_length=max_field_length)
    check_invariants(raw)
    return raw


def rows(raw: RawTable) -> list[list[str | None]]:
    return raw.frame.to_numpy().tolist()


def reasons(raw: RawTable) -> list[tuple[int, str]]:
    return [(r.row_number, r.reason) for r in raw.rejects]


# --------------------------------------------------------------------------- public API


def test_all_lists_exactly_the_public_names():
    assert sorted(ingest.adapters.__all__) == sorted(
        [
            "DELIMITERS",
            "ENCODINGS",
            "FORMATS",
            "InputSpec",
            "RawReject",
            "RawTable",
            "parse_delimited",
            "parse_jsonl",
            "read_delimited",
            "read_excel",
            "read_jsonl",
            "read_parquet",
            "read_source",
            "read_sql",
        ]
    )
    for name in ingest.adapters.__all__:
        assert getattr(ingest.adapters, name) is not None


def test_raw_table_checks_its_accounting():
    frame = parse_delimited(b"a\n1\n", source=SOURCE).frame
    with pytest.raises(ValueError, match="rows_read"):
        RawTable(SOURCE, frame, np.array([1], dtype=np.int64), (), 2, "x", None, None, None)
    with pytest.raises(ValueError, match="row numbers"):
        RawTable(SOURCE, frame, np.array([], dtype=np.int64), (), 1, "x", None, None, None)
    with pytest.raises(ValueError, match="reason"):
        RawReject(1, "bad_reason", "row 1", "{}")


# --------------------------------------------------------------------------- InputSpec

SPEC_CASES = [
    {
        "description": "a csv needs only format and path; the rest defaults",
        "input": {"format": "csv", "path": "police.csv"},
        "expected": InputSpec(format="csv", path="police.csv"),
    },
    {
        "description": "the README's full csv block, nulls included, is accepted",
        "input": {
            "format": "csv",
            "path": "police_da.csv",
            "encoding": "auto",
            "delimiter": "auto",
            "sheet": None,
            "url": None,
            "table": None,
            "query": None,
        },
        "expected": InputSpec(format="csv", path="police_da.csv"),
    },
    {
        "description": "null encoding and delimiter mean auto",
        "input": {"format": "csv", "path": "a.csv", "encoding": None, "delimiter": None},
        "expected": InputSpec(format="csv", path="a.csv"),
    },
    {
        "description": "csv with a named encoding and a tab delimiter",
        "input": {"format": "csv", "path": "a.tsv", "encoding": "cp1252", "delimiter": "\t"},
        "expected": InputSpec(format="csv", path="a.tsv", encoding="cp1252", delimiter="\t"),
    },
    {
        "description": "xlsx with a sheet",
        "input": {"format": "xlsx", "path": "csc.xlsx", "sheet": "Referrals"},
        "expected": InputSpec(format="xlsx", path="csc.xlsx", sheet="Referrals"),
    },
    {
        "description": "sql by table",
        "input": {"format": "sql", "url": "sqlite:///{data}/h.db", "table": "people"},
        "expected": InputSpec(format="sql", url="sqlite:///{data}/h.db", table="people"),
    },
    {
        "description": "sql by a WITH query",
        "input": {
            "format": "sql",
            "url": "sqlite://",
            "query": "WITH a AS (SELECT 1) SELECT * FROM a",
        },
        "expected": InputSpec(format="sql", url="sqlite://", query="WITH a AS (SELECT 1) SELECT * FROM a"),
    },
    {
        "description": "sql by a query after a comment",
        "input": {"format": "sql", "url": "sqlite://", "query": "-- DA only\n/* v2 */ select 1"},
        "expected": InputSpec(format="sql", url="sqlite://", query="-- DA only\n/* v2 */ select 1"),
    },
    {
        "description": "an unknown key is named",
        "input": {"format": "csv", "path": "a.csv", "sep": ","},
        "error": r"source 'police_da'\.input: unknown key\(s\) \['sep'\]",
    },
    {
        "description": "format is required",
        "input": {"path": "a.csv"},
        "error": r"source 'police_da'\.input\.format: missing",
    },
    {
        "description": "an unknown format is named",
        "input": {"format": "xls", "path": "a.xls"},
        "error": r"source 'police_da'\.input\.format: 'xls' is not one of",
    },
    {
        "description": "a file format needs a path",
        "input": {"format": "parquet"},
        "error": r"source 'police_da'\.input\.path: a parquet source needs a path",
    },
    {
        "description": "sql needs a url",
        "input": {"format": "sql", "table": "t"},
        "error": r"source 'police_da'\.input\.url",
    },
    {
        "description": "sql needs table or query",
        "input": {"format": "sql", "url": "sqlite://"},
        "error": r"source 'police_da'\.input\.table: a sql source needs exactly one of table",
    },
    {
        "description": "sql must not have both table and query",
        "input": {"format": "sql", "url": "sqlite://", "table": "t", "query": "SELECT 1"},
        "error": r"input\.table: a sql source needs exactly one",
    },
    {
        "description": "a query must be a SELECT",
        "input": {"format": "sql", "url": "sqlite://", "query": "DELETE FROM people"},
        "error": r"input\.query: must be one SELECT",
    },
    {
        "description": "sql does not take a path",
        "input": {"format": "sql", "url": "sqlite://", "table": "t", "path": "x.db"},
        "error": r"input\.path: does not apply to format sql",
    },
    {
        "description": "a url does not apply to a file",
        "input": {"format": "csv", "path": "a.csv", "url": "sqlite://"},
        "error": r"input\.url: applies only to format sql",
    },
    {
        "description": "an unknown encoding is named",
        "input": {"format": "csv", "path": "a.csv", "encoding": "utf-16"},
        "error": r"input\.encoding: 'utf-16' is not one of",
    },
    {
        "description": "encoding applies only to csv",
        "input": {"format": "jsonl", "path": "a.jsonl", "encoding": "cp1252"},
        "error": r"input\.encoding: applies only to format csv",
    },
    {
        "description": "a delimiter is one character",
        "input": {"format": "csv", "path": "a.csv", "delimiter": ";;"},
        "error": r"input\.delimiter: must be 'auto' or one character",
    },
    {
        "description": "a sheet applies only to xlsx",
        "input": {"format": "csv", "path": "a.csv", "sheet": "Sheet1"},
        "error": r"input\.sheet: applies only to format xlsx",
    },
    {
        "description": "a value must be text",
        "input": {"format": "csv", "path": 12},
        "error": r"input\.path: must be text, got int",
    },
    {
        "description": "the block must be a mapping",
        "input": ["csv"],
        "error": r"source 'police_da'\.input: expected a mapping, got list",
    },
]


@pytest.mark.parametrize("case", SPEC_CASES, ids=[c["description"] for c in SPEC_CASES])
def test_input_spec_from_dict(case):
    if "error" in case:
        with pytest.raises(SettingsError, match=case["error"]):
            InputSpec.from_dict(case["input"], source=SOURCE)
    else:
        built = InputSpec.from_dict(case["input"], source=SOURCE)
        assert built == case["expected"]
        assert InputSpec.from_dict(built.to_dict(), source=SOURCE) == built


def test_input_spec_validates_when_built_directly():
    with pytest.raises(SettingsError, match=r"input\.format"):
        InputSpec(format="txt", path="a.txt")


def test_input_spec_to_dict_leaves_out_what_is_unset():
    assert InputSpec(format="xlsx", path="a.xlsx").to_dict() == {"format": "xlsx", "path": "a.xlsx"}
    assert InputSpec(format="csv", path="a.csv").to_dict() == {
        "format": "csv",
        "path": "a.csv",
        "encoding": "auto",
        "delimiter": "auto",
    }


# --------------------------------------------------------------------------- typed cells

CELL_CASES = [
    {"description": "None stays None", "value": None, "text": None},
    {"description": "an empty string is missing", "value": "", "text": None},
    {"description": "text is kept exactly, spaces too", "value": " Zoë ", "text": " Zoë "},
    {"description": "an int", "value": 42, "text": "42"},
    {"description": "an NHS number stored as a float", "value": 9434765919.0, "text": "9434765919"},
    {"description": "a fraction", "value": 4.5, "text": "4.5"},
    {"description": "NaN is missing", "value": float("nan"), "text": None},
    {"description": "a numpy int", "value": np.int64(7), "text": "7"},
    {"description": "a numpy float", "value": np.float64(2.0), "text": "2"},
    {"description": "true", "value": True, "text": "true"},
    {"description": "false", "value": False, "text": "false"},
    {"description": "a date", "value": dt.date(2010, 5, 1), "text": "2010-05-01"},
    {
        "description": "a datetime at midnight is a date",
        "value": dt.datetime(2010, 5, 1),
        "text": "2010-05-01",
    },
    {
        "description": "a datetime with a time",
        "value": dt.datetime(2024, 1, 2, 13, 45),
        "text": "2024-01-02T13:45:00",
    },
    {
        "description": "microseconds are kept",
        "value": dt.datetime(2024, 1, 2, 13, 45, 0, 500),
        "text": "2024-01-02T13:45:00.000500",
    },
    {
        "description": "a time zone is dropped, the wall time kept",
        "value": dt.datetime(2024, 7, 1, 13, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        "text": "2024-07-01T13:00:00",
    },
    {"description": "a time", "value": dt.time(9, 30), "text": "09:30:00"},
    {"description": "an integral decimal", "value": Decimal("9434765919.00"), "text": "9434765919"},
    {"description": "a decimal keeps its places", "value": Decimal("1.50"), "text": "1.50"},
    {"description": "utf-8 bytes are text", "value": b"abc", "text": "abc"},
    {"description": "other bytes are hex", "value": b"\xff\x00", "text": "0xff00"},
    {"description": "a dict is JSON", "value": {"a": [1, "é"]}, "text": '{"a": [1, "é"]}'},
    {"description": "a list is JSON", "value": [1, None], "text": "[1, null]"},
]


@pytest.mark.parametrize("case", CELL_CASES, ids=[c["description"] for c in CELL_CASES])
def test_cell_text(case):
    assert cell_text(case["value"]) == case["text"]


# --------------------------------------------------------------------------- CSV

CSV_CASES = [
    {
        "description": "utf-8, comma",
        "data": "id,name\n1,Zoë\n".encode(),
        "columns": ["id", "name"],
        "rows": [["1", "Zoë"]],
        "encoding": "utf-8",
        "delimiter": ",",
    },
    {
        "description": "utf-8 with a BOM, semicolon, CRLF; the BOM is not in the first name",
        "data": "\ufeffid;name\r\n1;Zoë\r\n2;Ann\r\n".encode(),
        "columns": ["id", "name"],
        "rows": [["1", "Zoë"], ["2", "Ann"]],
        "encoding": "utf-8-sig",
        "delimiter": ";",
    },
    {
        "description": "cp1252: ë, £ and a smart quote; pipe",
        "data": "id|name|note\n1|Zoë|£5 ’quoted’\n".encode("cp1252"),
        "columns": ["id", "name", "note"],
        "rows": [["1", "Zoë", "£5 ’quoted’"]],
        "encoding": "cp1252",
        "delimiter": "|",
    },
    {
        "description": "latin-1: a byte cp1252 does not define; tab",
        "data": b"id\tname\n1\tZo\xeb\x81\n",
        "columns": ["id", "name"],
        "rows": [["1", "Zoë\x81"]],
        "encoding": "latin-1",
        "delimiter": "\t",
    },
    {
        "description": "quoted fields hold line breaks, doubled quotes and delimiters",
        "data": b'id,note\n1,"line one\nline two"\n2,"she said ""hi"""\n3,"a,b"\n4,"x\r\ny"\n',
        "columns": ["id", "note"],
        "rows": [
            ["1", "line one\nline two"],
            ["2", 'she said "hi"'],
            ["3", "a,b"],
            ["4", "x\r\ny"],
        ],
        "row_numbers": [1, 2, 3, 4],
    },
    {
        "description": "a file cut in the middle of a quoted field rejects the last record",
        "data": b'id,name\n1,Ann\n2,"Bo',
        "rows": [["1", "Ann"]],
        "rejects": [(2, "malformed_row")],
    },
    {
        "description": "a stray delimiter (one field too many) rejects that row only",
        "data": b"id,name\n1,Ann\n2,Bob,extra\n3,Cy\n",
        "rows": [["1", "Ann"], ["3", "Cy"]],
        "row_numbers": [1, 3],
        "rejects": [(2, "malformed_row")],
    },
    {
        "description": "too few fields is malformed too",
        "data": b"id,name\n1\n2,Bo\n",
        "rows": [["2", "Bo"]],
        "row_numbers": [2],
        "rejects": [(1, "malformed_row")],
    },
    {
        "description": "broken quoting in one record (text after a closing quote)",
        "data": b'id,name\n1,"Smith" Jr\n2,Bo\n',
        "rows": [["2", "Bo"]],
        "rejects": [(1, "malformed_row")],
    },
    {
        "description": "a quote left open mid-file costs only its own line",
        "data": b'id,name\n1,"open\n2,Bo\n3,Cy\n',
        "rows": [["2", "Bo"], ["3", "Cy"]],
        "row_numbers": [2, 3],
        "rejects": [(1, "malformed_row")],
    },
    {
        "description": "blank lines are skipped and not counted",
        "data": b"id,name\n\n1,Ann\n   \n\r\n2,Bob\n\n",
        "rows": [["1", "Ann"], ["2", "Bob"]],
        "row_numbers": [1, 2],
    },
    {
        "description": "a header-only file has columns and no rows",
        "data": b"id,name\n",
        "columns": ["id", "name"],
        "rows": [],
    },
    {
        "description": "header names lose surrounding spaces and a trailing CR",
        "data": b" id ,name \r\n1,2\r\n",
        "columns": ["id", "name"],
        "rows": [["1", "2"]],
    },
    {
        "description": "empty fields are None; values keep their spaces",
        "data": b'a,b,c\n1,,""\n x ,y,\n',
        "rows": [["1", None, None], [" x ", "y", None]],
    },
    {
        "description": "old Mac line ends (CR only)",
        "data": b"a,b\r1,2\r3,4\r",
        "rows": [["1", "2"], ["3", "4"]],
    },
    {
        "description": "no final line break",
        "data": b"a,b\n1,2",
        "rows": [["1", "2"]],
    },
    {
        "description": "semicolons win over commas inside values",
        "data": b"name;address\nAnn;1, High St\nBob;2, Low Rd\n",
        "rows": [["Ann", "1, High St"], ["Bob", "2, Low Rd"]],
        "delimiter": ";",
    },
    {
        "description": "a named delimiter is used as given",
        "data": b"a,b;c\n1,2;3\n",
        "options": {"delimiter": ";"},
        "columns": ["a,b", "c"],
        "rows": [["1,2", "3"]],
    },
    {
        "description": "a named encoding is used as given",
        "data": "n\nZoë\n".encode("cp1252"),
        "options": {"encoding": "latin-1"},
        "rows": [["Zoë"]],
        "encoding": "latin-1",
    },
    {
        "description": "a one-column file whose values hold commas is not split",
        "data": b"name\nSmith, John\nJones, Ann\n",
        "rows": [["Smith, John"], ["Jones, Ann"]],
    },
    {
        "description": "an oversized value rejects the row, naming the column",
        "data": b"a,b\n1," + b"x" * 20 + b"\n2,ok\n",
        "options": {"max_field_length": 10},
        "rows": [["2", "ok"]],
        "row_numbers": [2],
        "rejects": [(1, "oversized_field")],
    },
]


@pytest.mark.parametrize("case", CSV_CASES, ids=[c["description"] for c in CSV_CASES])
def test_csv_files(tmp_path, case):
    raw = read_file(tmp_path, "source.csv", case["data"], **case.get("options", {}))
    assert raw.source == SOURCE
    if "columns" in case:
        assert list(raw.frame.columns) == case["columns"]
    assert rows(raw) == case["rows"]
    if "row_numbers" in case:
        assert raw.row_numbers.tolist() == case["row_numbers"]
    assert reasons(raw) == case.get("rejects", [])
    if "encoding" in case:
        assert raw.encoding == case["encoding"]
    if "delimiter" in case:
        assert raw.delimiter == case["delimiter"]
    assert raw.location == str(tmp_path / "source.csv")
    assert raw.sha256 is not None and len(raw.sha256) == 64


CSV_ERROR_CASES = [
    {"description": "a 0-byte file", "data": b"", "error": "is empty: no header row"},
    {"description": "only blank lines", "data": b"\n \r\n\n", "error": "is empty: no header row"},
    {
        "description": "a duplicate name",
        "data": b"id,name,id\n",
        "error": r"repeats a column name at positions 1, 3",
    },
    {
        "description": "a blank name",
        "data": b"id,,name\n1,2,3\n",
        "error": r"blank column name\(s\) at position\(s\) 2",
    },
    {"description": "utf-16", "data": "a,b\n".encode("utf-16"), "error": "utf-16"},
    {
        "description": "utf-8 named but the file is cp1252",
        "data": "n\nZoë\n".encode("cp1252"),
        "options": {"encoding": "utf-8"},
        "error": "cannot be decoded as utf-8",
    },
    {
        "description": "cp1252 named but the file has a byte cp1252 lacks",
        "data": b"n\n\x81\n",
        "options": {"encoding": "cp1252"},
        "error": "cannot be decoded as cp1252",
    },
    {
        "description": "a header that cannot be parsed",
        "data": b'"a"x,b\n',
        "error": "header row .* cannot be parsed",
    },
]


@pytest.mark.parametrize("case", CSV_ERROR_CASES, ids=[c["description"] for c in CSV_ERROR_CASES])
def test_csv_errors(tmp_path, case):
    with pytest.raises(SourceError, match=case["error"]) as info:
        read_file(tmp_path, "bad.csv", case["data"], **case.get("options", {}))
    assert info.value.source == SOURCE
    assert str(info.value).startswith(f"source {SOURCE!r}: ")


def test_an_oversized_reject_names_the_column_and_cuts_the_value(tmp_path):
    raw = read_file(tmp_path, "a.csv", b"id,notes\n1," + b"y" * 50 + b"\n", max_field_length=10)
    (reject,) = raw.rejects
    assert reject.reason == "oversized_field"
    assert "'notes'" in reject.message and "row 1" in reject.message
    assert "yyyy" not in reject.message
    assert json.loads(reject.raw) == {"id": "1", "notes": "y" * 10 + "…"}


def test_a_malformed_reject_keeps_the_raw_line(tmp_path):
    raw = read_file(tmp_path, "a.csv", b"id,name\n1,Ann,Extra\n")
    (reject,) = raw.rejects
    assert reject.message == "row 1: 3 fields where the header has 2"
    assert json.loads(reject.raw) == {"_line": "1,Ann,Extra"}


def test_a_missing_file_is_named(tmp_path):
    for fmt, name in [
        ("csv", "x.csv"),
        ("xlsx", "x.xlsx"),
        ("parquet", "x.parquet"),
        ("jsonl", "x.jsonl"),
    ]:
        with pytest.raises(SourceError, match=r"source 'police_da': file not found: .*" + name):
            read_source(SOURCE, spec(format=fmt, path=name), tmp_path)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    (tmp_path / "big.csv").write_bytes(b"a\n" + b"1\n" * 100)

    def no_reading(*args: Any, **kwargs: Any) -> bytes:
        raise AssertionError("the file was read")

    monkeypatch.setattr(Path, "read_bytes", no_reading)
    monkeypatch.setattr(Path, "open", no_reading)
    for fmt in ("csv", "xlsx", "parquet", "jsonl"):
        with pytest.raises(SourceError, match=r"more than max_file_bytes \(100\)"):
            read_source(SOURCE, spec(format=fmt, path="big.csv"), tmp_path, max_file_bytes=100)


def test_parse_delimited_is_the_pure_half():
    raw = parse_delimited(b"a;b\n1;2\n", source=SOURCE)
    check_invariants(raw)
    assert rows(raw) == [["1", "2"]]
    assert raw.location == "<bytes>"
    assert raw.delimiter == ";"


# --------------------------------------------------------------------------- xlsx


def write_workbook(path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Referrals"
    ws.append([])  # a blank row above the header
    ws.append(["Ref", " Name ", "DOB", "Seen", "NHS", "NHS_INT", "Score", "Flag", "Note"])
    ws.append(
        [
            "R1",
            "Zoë",
            dt.date(2010, 5, 1),
            dt.datetime(2024, 1, 2),
            9434765919.0,
            9434765919,
            4.5,
            True,
            "",
        ]
    )
    ws.append([None] * 9)
    ws.append(
        [
            "R2",
            "Bob",
            dt.datetime(2011, 2, 3),
            dt.datetime(2024, 1, 2, 13, 45),
            None,
            None,
            3,
            False,
            "  x ",
        ]
    )
    ws.append(["R3", "Cy", None, None, None, None, None, None, None, "stray"])
    ws.append([None, "Di"])
    other = book.create_sheet("Other")
    other.append(["X"])
    other.append(["y"])
    book.save(path)


def test_xlsx_typed_cells_become_text(tmp_path):
    write_workbook(tmp_path / "csc.xlsx")
    raw = read_source(SOURCE, spec(format="xlsx", path="csc.xlsx"), tmp_path)
    check_invariants(raw)
    assert list(raw.frame.columns) == [
        "Ref",
        "Name",
        "DOB",
        "Seen",
        "NHS",
        "NHS_INT",
        "Score",
        "Flag",
        "Note",
    ]
    assert rows(raw) == [
        ["R1", "Zoë", "2010-05-01", "2024-01-02", "9434765919", "9434765919", "4.5", "true", None],
        ["R2", "Bob", "2011-02-03", "2024-01-02T13:45:00", None, None, "3", "false", "  x "],
        [None, "Di", None, None, None, None, None, None, None],
    ]
    assert raw.row_numbers.tolist() == [1, 2, 4]
    assert reasons(raw) == [(3, "malformed_row")]
    assert "column(s) J" in raw.rejects[0].message
    assert json.loads(raw.rejects[0].raw)["J"] == "stray"
    assert raw.encoding is None and raw.delimiter is None and raw.sha256 is not None


def test_xlsx_named_sheet(tmp_path):
    write_workbook(tmp_path / "csc.xlsx")
    raw = read_source(SOURCE, spec(format="xlsx", path="csc.xlsx", sheet="Other"), tmp_path)
    assert list(raw.frame.columns) == ["X"]
    assert rows(raw) == [["y"]]


def test_xlsx_unknown_sheet_lists_the_sheets(tmp_path):
    write_workbook(tmp_path / "csc.xlsx")
    with pytest.raises(SourceError, match=r"no sheet 'Nope'.*'Referrals', 'Other'"):
        read_source(SOURCE, spec(format="xlsx", path="csc.xlsx", sheet="Nope"), tmp_path)


def test_xlsx_oversized_and_empty_and_not_a_workbook(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["id", "note"])
    book.active.append([1, "z" * 30])
    book.active.append([2, "ok"])
    book.save(tmp_path / "long.xlsx")
    raw = read_source(SOURCE, spec(format="xlsx", path="long.xlsx"), tmp_path, max_field_length=20)
    check_invariants(raw)
    assert reasons(raw) == [(1, "oversized_field")]
    assert rows(raw) == [["2", "ok"]]

    openpyxl.Workbook().save(tmp_path / "empty.xlsx")
    with pytest.raises(SourceError, match="is empty: no header row"):
        read_source(SOURCE, spec(format="xlsx", path="empty.xlsx"), tmp_path)

    (tmp_path / "fake.xlsx").write_bytes(b"id,name\n1,2\n")
    with pytest.raises(SourceError, match=r"not a readable \.xlsx workbook"):
        read_source(SOURCE, spec(format="xlsx", path="fake.xlsx"), tmp_path)


# --------------------------------------------------------------------------- parquet


def test_parquet_typed_columns_become_text(tmp_path):
    table = pa.table(
        {
            "ref": pa.array(["P1", "P2", "", None]),
            "dob": pa.array([dt.date(2010, 5, 1), None, dt.date(1999, 12, 31), dt.date(2000, 1, 1)]),
            "seen": pa.array(
                [
                    dt.datetime(2024, 1, 2),
                    dt.datetime(2024, 1, 2, 13, 45),
                    dt.datetime(2024, 1, 2, 13, 45, 0, 500000),
                    None,
                ],
                pa.timestamp("us"),
            ),
            "seen_tz": pa.array(
                [dt.datetime(2024, 7, 1, 12, 0, tzinfo=dt.timezone.utc), None, None, None],
                pa.timestamp("s", tz="Europe/London"),
            ),
            "count": pa.array([1, None, -3, 0], pa.int64()),
            "nhs": pa.array([9434765919.0, 4.5, float("nan"), None]),
            "f32": pa.array([0.1, 1.0, None, 2.5], pa.float32()),
            "flag": pa.array([True, False, None, True]),
            "nothing": pa.nulls(4),
            "code": pa.array(["DA", "MARAC", "DA", None]).dictionary_encode(),
            "tags": pa.array([["a", "b"], [], None, ["c"]]),
            "amount": pa.array(
                [Decimal("1.50"), Decimal("2.00"), None, Decimal("-0.25")], pa.decimal128(10, 2)
            ),
            "at": pa.array([dt.time(13, 45), dt.time(0, 0, 1, 250000), None, None], pa.time64("us")),
        }
    )
    pq.write_table(table, tmp_path / "health.parquet")
    raw = read_source(SOURCE, spec(format="parquet", path="health.parquet"), tmp_path)
    check_invariants(raw)
    assert raw.frame.to_dict("list") == {
        "ref": ["P1", "P2", None, None],
        "dob": ["2010-05-01", None, "1999-12-31", "2000-01-01"],
        "seen": ["2024-01-02", "2024-01-02T13:45:00", "2024-01-02T13:45:00.500000", None],
        "seen_tz": ["2024-07-01T13:00:00", None, None, None],
        "count": ["1", None, "-3", "0"],
        "nhs": ["9434765919", "4.5", None, None],
        "f32": ["0.1", "1", None, "2.5"],
        "flag": ["true", "false", None, "true"],
        "nothing": [None, None, None, None],
        "code": ["DA", "MARAC", "DA", None],
        "tags": ['["a", "b"]', "[]", None, '["c"]'],
        "amount": ["1.50", "2", None, "-0.25"],
        "at": ["13:45:00", "00:00:01.250000", None, None],
    }
    assert raw.row_numbers.tolist() == [1, 2, 3, 4]


def test_parquet_oversized_and_not_parquet(tmp_path):
    pq.write_table(pa.table({"id": ["1", "2", "3"], "note": ["ok", "q" * 30, None]}), tmp_path / "p.parquet")
    raw = read_source(SOURCE, spec(format="parquet", path="p.parquet"), tmp_path, max_field_length=20)
    check_invariants(raw)
    assert reasons(raw) == [(2, "oversized_field")]
    assert json.loads(raw.rejects[0].raw) == {"id": "2", "note": "q" * 20 + "…"}
    assert raw.row_numbers.tolist() == [1, 3]
    assert rows(raw) == [["1", "ok"], ["3", None]]

    (tmp_path / "fake.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(SourceError, match="not a readable Parquet file"):
        read_source(SOURCE, spec(format="parquet", path="fake.parquet"), tmp_path)


# --------------------------------------------------------------------------- JSON lines


def test_jsonl(tmp_path):
    lines = [
        '{"id": 1, "name": "Zoë", "dob": "2010-05-01"}',
        "",
        '{"id": 2, "name": "Bob", "tags": ["a", {"b": 1}], "ok": true, "score": 4.5, "nhs": 9434765919.0}',
        '{"id": 3, "name": "broken',
        "[1, 2]",
        '{"id": 4, "name": null, " dob ": ""}',
        '{"id": 5, "id": 6}',
        '{"id": 7, "note": "' + "n" * 30 + '"}',
    ]
    data = ("\ufeff" + "\r\n".join(lines) + "\n").encode() + b'{"id": "\xff"}\n'
    raw = read_file(tmp_path, "a.jsonl", data, format="jsonl", max_field_length=20)
    assert list(raw.frame.columns) == ["id", "name", "dob", "tags", "ok", "score", "nhs", "note"]
    assert rows(raw) == [
        ["1", "Zoë", "2010-05-01", None, None, None, None, None],
        ["2", "Bob", None, '["a", {"b": 1}]', "true", "4.5", "9434765919", None],
        ["4", None, None, None, None, None, None, None],
    ]
    assert raw.row_numbers.tolist() == [1, 2, 5]
    assert reasons(raw) == [
        (3, "malformed_row"),
        (4, "malformed_row"),
        (6, "malformed_row"),
        (7, "oversized_field"),
        (8, "malformed_row"),
    ]
    messages = [r.message for r in raw.rejects]
    assert messages[0] == "row 3: is not valid JSON"
    assert messages[1] == "row 4: is JSON list, not an object"
    assert messages[2] == "row 6: an object repeats a key"
    assert "'note'" in messages[3]
    assert json.loads(raw.rejects[0].raw) == {"_line": '{"id": 3, "name": "broken'}
    assert raw.encoding is None


def test_parse_jsonl_is_the_pure_half_and_an_empty_file_is_an_error():
    raw = parse_jsonl(b'{"a": 1}\n', source=SOURCE)
    assert rows(raw) == [["1"]]
    with pytest.raises(SourceError, match="is empty"):
        parse_jsonl(b"\n\n", source=SOURCE)


# --------------------------------------------------------------------------- SQL


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "health.db"
    con = sqlite3.connect(path)
    for statement in [
        "CREATE TABLE people (id INTEGER, name TEXT, dob DATE, nhs REAL, score REAL, note BLOB)",
        "INSERT INTO people VALUES (1, 'Zoë', '01/02/2003', 9434765919.0, 4.5, NULL)",
        "INSERT INTO people VALUES (2, 'Bob', '2004-03-02', NULL, 3, X'6869')",
        "INSERT INTO people VALUES (3, '', NULL, NULL, NULL, NULL)",
        'CREATE TABLE "odd ""name""" ("first col" TEXT)',
        'INSERT INTO "odd ""name""" VALUES (\'x\')',
    ]:
        con.execute(statement)
    con.commit()
    con.close()
    return path


def test_sql_by_table(tmp_path, database):
    raw = read_source(SOURCE, spec(format="sql", url="sqlite:///{data}/health.db", table="people"), tmp_path)
    check_invariants(raw)
    assert list(raw.frame.columns) == ["id", "name", "dob", "nhs", "score", "note"]
    assert rows(raw) == [
        ["1", "Zoë", "01/02/2003", "9434765919", "4.5", None],  # dates come as stored
        ["2", "Bob", "2004-03-02", None, "3", "hi"],
        ["3", None, None, None, None, None],
    ]
    assert raw.row_numbers.tolist() == [1, 2, 3]
    assert raw.location == f"sqlite:///{tmp_path.as_posix()}/health.db"
    assert raw.sha256 is None


def test_sql_table_names_are_quoted_not_formatted(tmp_path, database):
    raw = read_source(
        SOURCE, spec(format="sql", url="sqlite:///{data}/health.db", table='odd "name"'), tmp_path
    )
    assert list(raw.frame.columns) == ["first col"]
    assert rows(raw) == [["x"]]
    raw = read_source(
        SOURCE, spec(format="sql", url="sqlite:///{data}/health.db", table="main.people"), tmp_path
    )
    assert len(raw.frame) == 3
    with pytest.raises(SourceError, match="no such table: 'people; DROP TABLE people'"):
        read_source(
            SOURCE,
            spec(format="sql", url="sqlite:///{data}/health.db", table="people; DROP TABLE people"),
            tmp_path,
        )
    assert sqlite3.connect(database).execute("SELECT count(*) FROM people").fetchone() == (3,)


def test_sql_by_query(tmp_path, database):
    query = "SELECT id, upper(name) AS name FROM people WHERE id > 1 ORDER BY id DESC"
    raw = read_source(SOURCE, spec(format="sql", url="sqlite:///{data}/health.db", query=query), tmp_path)
    check_invariants(raw)
    assert rows(raw) == [["3", None], ["2", "BOB"]]
    colons = "SELECT id FROM people WHERE name <> 'a:b' AND '10:30' LIKE '%:%' ORDER BY id"
    raw = read_source(SOURCE, spec(format="sql", url="sqlite:///{data}/health.db", query=colons), tmp_path)
    assert rows(raw) == [["1"], ["2"], ["3"]]
    empty = read_source(
        SOURCE,
        spec(format="sql", url="sqlite:///{data}/health.db", query="SELECT id FROM people WHERE 0"),
        tmp_path,
    )
    assert list(empty.frame.columns) == ["id"] and empty.rows_read == 0


def test_sql_oversized(tmp_path, database):
    raw = read_source(
        SOURCE,
        spec(format="sql", url="sqlite:///{data}/health.db", table="people"),
        tmp_path,
        max_field_length=3,
    )
    check_invariants(raw)
    assert reasons(raw) == [(1, "oversized_field"), (2, "oversized_field")]
    assert "'dob'" in raw.rejects[1].message


SQL_ERROR_CASES = [
    {
        "description": "no such table",
        "input": {"table": "missing"},
        "error": "no such table: 'missing'",
    },
    {
        "description": "bad SQL gives the database's first line",
        "input": {"query": "SELECT nope FROM people"},
        "error": "the query on sqlite:///.* failed: no such column: nope",
    },
    {
        "description": "duplicate column names",
        "input": {"query": "SELECT id, id FROM people"},
        "error": r"repeats a column name at positions 1, 2",
    },
    {
        "description": "a missing SQLite file is not created",
        "input": {"table": "people", "url": "sqlite:///{data}/nowhere.db"},
        "error": "file not found: .*nowhere.db",
    },
    {
        "description": "a bad URL",
        "input": {"table": "people", "url": "not a url"},
        "error": "bad database URL",
    },
    {
        "description": "an unknown dialect",
        "input": {"table": "people", "url": "nosuchdb://u:pw@host/db"},
        "error": r"nosuchdb://u:\*\*\*@host/db",
    },
]


@pytest.mark.parametrize("case", SQL_ERROR_CASES, ids=[c["description"] for c in SQL_ERROR_CASES])
def test_sql_errors(tmp_path, database, case):
    block = {"format": "sql", "url": "sqlite:///{data}/health.db", **case["input"]}
    with pytest.raises(SourceError, match=case["error"]) as info:
        read_source(SOURCE, spec(**block), tmp_path)
    assert info.value.source == SOURCE
    assert "pw" not in str(info.value)


MASK_CASES = [
    {
        "description": "a URL password",
        "text": "postgresql://kin:s3cret@db.local:5432/health",
        "masked": "postgresql://kin:***@db.local:5432/health",
    },
    {"description": "no password", "text": "sqlite:///data/h.db", "masked": "sqlite:///data/h.db"},
    {
        "description": "the password repeated in a driver's message",
        "text": "login failed (password s3cret)",
        "password": "s3cret",
        "masked": "login failed (password ***)",
    },
]


@pytest.mark.parametrize("case", MASK_CASES, ids=[c["description"] for c in MASK_CASES])
def test_mask_url(case):
    assert mask_url(case["text"], case.get("password")) == case["masked"]


def test_sql_passwords_are_masked(tmp_path):
    url = "postgresql://kin:s3cret@127.0.0.1:1/db"
    with pytest.raises(SourceError) as info:
        read_source(SOURCE, spec(format="sql", url=url, table="people"), tmp_path)
    assert "s3cret" not in str(info.value)


# --------------------------------------------------------------------------- properties

CSV_ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "latin-1"]
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

values = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)


def encodable(value: str, encoding: str) -> bool:
    try:
        value.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def auto_encoding(data: bytes) -> str:
    """The spec of ``encoding: auto``, as an oracle."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    for codec in ("utf-8", "cp1252"):
        try:
            data.decode(codec)
        except UnicodeDecodeError:
            continue
        return codec
    return "latin-1"


@st.composite
def written_tables(draw: st.DrawFn) -> tuple[bytes, list[list[str]], str, str, str]:
    encoding = draw(st.sampled_from(CSV_ENCODINGS))
    delimiter = draw(st.sampled_from(DELIMITERS))
    ncols = draw(st.integers(1, 4))
    cell = values.filter(lambda v: encodable(v, encoding))
    body = draw(st.lists(st.lists(cell, min_size=ncols, max_size=ncols), max_size=8))
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=delimiter)
    writer.writerow([f"col{i}" for i in range(ncols)])
    writer.writerows(body)
    data = buf.getvalue().encode(encoding)
    asked_encoding = draw(st.sampled_from(["auto", encoding]))
    # with one column nothing tells the delimiter apart, so it is named
    asked_delimiter = draw(st.sampled_from(["auto", delimiter])) if ncols > 1 else delimiter
    return data, body, encoding, asked_encoding, asked_delimiter


@SETTINGS
@given(written_tables())
def test_csv_written_by_csv_writer_round_trips(case):
    data, body, encoding, asked_encoding, asked_delimiter = case
    raw = parse_delimited(data, source="s", encoding=asked_encoding, delimiter=asked_delimiter)
    check_invariants(raw)
    assert raw.rows_read == len(body)
    assert raw.rejects == ()
    if asked_encoding == "auto":
        assert raw.encoding == auto_encoding(data)
        decodes_the_same = data.decode(raw.encoding) == data.decode(encoding)
    else:
        assert raw.encoding == encoding
        decodes_the_same = True
    if decodes_the_same:
        expected = [[v or None for v in row] for row in body]
        assert raw.frame.to_numpy().tolist() == expected
        assert raw.row_numbers.tolist() == list(range(1, len(body) + 1))


csvish_bytes = st.one_of(
    st.binary(max_size=200),
    st.lists(
        st.sampled_from(
            [
                b",",
                b";",
                b"|",
                b"\t",
                b'"',
                b'""',
                b"\n",
                b"\r",
                b"\r\n",
                b"a",
                b"b",
                b" ",
                b"\xff",
                b"\x81",
                b"\x00",
            ]
        ),
        max_size=60,
    ).map(b"".join),
)


@SETTINGS
@given(
    csvish_bytes,
    st.sampled_from(["auto", *CSV_ENCODINGS]),
    st.sampled_from(["auto", *DELIMITERS]),
    st.integers(1, 5),
)
def test_any_bytes_give_a_table_or_a_source_error(data, encoding, delimiter, max_field_length):
    try:
        raw = parse_delimited(
            data,
            source="s",
            encoding=encoding,
            delimiter=delimiter,
            max_field_length=max_field_length,
        )
    except SourceError as exc:
        assert exc.source == "s"
        return
    check_invariants(raw)
    numbers = sorted([*raw.row_numbers.tolist(), *(r.row_number for r in raw.rejects)])
    assert numbers == list(range(1, raw.rows_read + 1))


jsonish_lines = st.lists(
    st.one_of(
        st.dictionaries(
            st.text(max_size=4),
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                lambda inner: (
                    st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
                ),
                max_leaves=5,
            ),
            max_size=4,
        ).map(lambda d: json.dumps(d).encode()),
        st.binary(max_size=20),
    ),
    max_size=10,
).map(b"\n".join)


@SETTINGS
@given(jsonish_lines)
def test_any_json_lines_give_a_table_or_a_source_error(data):
    try:
        raw = parse_jsonl(data, source="s", max_field_length=8)
    except SourceError:
        return
    assert isinstance(raw, RawTable)
    check_invariants(raw)
    numbers = sorted([*raw.row_numbers.tolist(), *(r.row_number for r in raw.rejects)])
    assert numbers == list(range(1, raw.rows_read + 1))
