"""Excel workbooks (.xlsx) through openpyxl: :func:`read_excel`.

The first non-empty row of the sheet is the header; entirely empty rows are skipped and
not counted, so ``row_number`` counts the non-empty rows below the header. Typed cells
become text as :func:`ingest.adapters._common.cell_text` says (dates ISO, integral
numbers without ``.0``). A value in a column to the right of the last named column makes
the row a ``malformed_row``.
"""

from __future__ import annotations

import warnings
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from ingest.adapters._common import (
    RowCollector,
    cell_text,
    check_columns,
    check_file,
    column_names,
    file_sha256,
    malformed,
    raw_json,
)
from ingest.adapters._spec import RawTable
from ingest.errors import SourceError

__all__ = ["read_excel"]

# What openpyxl raises on a damaged workbook, when it is opened or while a read-only sheet is
# streamed: a bad zip or deflate stream, malformed XML (a SyntaxError), or values its
# descriptors refuse (found by fuzzing; see tests/ingest/test_fuzz.py).
_DAMAGED = (
    InvalidFileException,
    zipfile.BadZipFile,
    zlib.error,
    SyntaxError,
    LookupError,
    ValueError,
    TypeError,
    AttributeError,
    EOFError,
    OSError,
)


def _unreadable(source: str, path: Path, exc: BaseException) -> SourceError:
    return SourceError(source, f"{path} is not a readable .xlsx workbook ({type(exc).__name__})")


def read_excel(
    path: str | Path,
    *,
    source: str,
    sheet: str | None = None,
    max_field_length: int = 1000,
    max_file_bytes: int = 2_000_000_000,
) -> RawTable:
    """Read one sheet of an .xlsx workbook (the first unless ``sheet`` names another).

    Raises
    ------
    SourceError
        If the file is missing, too large or not an .xlsx workbook, the sheet does not
        exist (the message lists those that do), or the sheet has no header row or a
        header with blank or duplicate names.
    """
    path = Path(path)
    check_file(source, path, max_file_bytes)
    sha256 = file_sha256(source, path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # unsupported extensions, styles
        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except _DAMAGED as exc:
            raise _unreadable(source, path, exc) from None
        try:
            return _read_sheet(book, path, source, sheet, max_field_length, sha256)
        finally:
            book.close()


def _read_sheet(
    book: Any, path: Path, source: str, sheet: str | None, max_field_length: int, sha256: str
) -> RawTable:
    if sheet is None:
        if not book.worksheets:
            raise SourceError(source, f"{path} has no worksheet")
        ws = book.worksheets[0]
    elif sheet in book.sheetnames:
        ws = book[sheet]
        if not hasattr(ws, "iter_rows"):
            raise SourceError(source, f"sheet {sheet!r} of {path} is a chart, not a worksheet")
    else:
        names = ", ".join(repr(n) for n in book.sheetnames)
        raise SourceError(source, f"{path} has no sheet {sheet!r}; its sheets are {names}")
    where = f"{path} sheet {ws.title!r}"

    rows = _rows(ws, source, path)
    header: list[str] | None = None
    for values in rows:
        texts = [cell_text(v) for v in values]
        if any(t is not None and t.strip() for t in texts):
            header = check_columns(source, column_names(texts), what=f"header of {where}")
            break
    if header is None:
        raise SourceError(source, f"{where} is empty: no header row")

    width = len(header)
    collector = RowCollector(header, max_field_length)
    n = 0
    for values in rows:
        texts = [cell_text(v) for v in values]
        if all(t is None for t in texts):
            continue
        n += 1
        extra = {get_column_letter(width + i + 1): t for i, t in enumerate(texts[width:]) if t is not None}
        if extra:
            named = dict(zip(header, texts[:width], strict=False))
            message = f"value(s) in column(s) {', '.join(extra)} to the right of the last named column"
            collector.reject(malformed(n, message, raw_json({**named, **extra}, max_field_length)))
            continue
        collector.add(n, (texts + [None] * width)[:width])
    return collector.table(source, location=str(path), sha256=sha256)


def _rows(ws: Any, source: str, path: Path) -> Iterator[tuple[Any, ...]]:
    """The sheet's rows as values; damage found while streaming them is a :class:`SourceError`."""
    it = iter(ws.iter_rows(values_only=True))
    while True:
        try:
            values = next(it)
        except StopIteration:
            return
        except _DAMAGED as exc:
            raise _unreadable(source, path, exc) from None
        yield values
