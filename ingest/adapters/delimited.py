"""Delimited text (CSV): :func:`parse_delimited` on bytes, :func:`read_delimited` on a path.

Records are parsed by the :mod:`csv` module over the decoded text, so quoted fields may
hold delimiters, doubled quotes and line breaks. Quoting is strict: a record whose quoting
is broken, or whose field count differs from the header's, is rejected as
``malformed_row`` and the rest of the file is still read. A quoted field left open at the
end of the file rejects the record's first line and parsing resumes on the next line, so
one stray quote cannot swallow the rest of the file.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

from ingest.adapters._common import (
    RowCollector,
    check_columns,
    line_json,
    malformed,
    read_bytes,
)
from ingest.adapters._spec import DELIMITERS, ENCODINGS, RawTable
from ingest.errors import SourceError

__all__ = ["parse_delimited", "read_delimited"]

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|\Z)")
_LINE_END = re.compile(r"(?:\r\n|\r|\n)\Z")
_SAMPLE_RECORDS = 20
_SAMPLE_CHARS = 1 << 18
_MAX_RESUMES = 1000
_FIELD_SIZE_LIMIT = 2**31 - 1  # csv's default (131072) would make a long field a parse error
_BOM = "\ufeff"
_OPEN_QUOTE = "a quoted field is not closed before the end of the file"


def parse_delimited(
    data: bytes,
    *,
    source: str,
    encoding: str = "auto",
    delimiter: str = "auto",
    max_field_length: int = 1000,
    location: str = "<bytes>",
) -> RawTable:
    """Parse delimited text held in memory.

    Parameters
    ----------
    data
        The file's bytes.
    source
        The source's name, for messages.
    encoding
        ``auto`` (a BOM means utf-8-sig; else utf-8 if the bytes are valid utf-8; else
        cp1252; else latin-1) or one of ``utf-8``, ``utf-8-sig``, ``cp1252``, ``latin-1``.
    delimiter
        ``auto`` (chosen among ``, ; | tab`` by the header and the first records) or one
        character.
    max_field_length
        A row with a longer value is rejected as ``oversized_field``.
    location
        What to call the data in messages and in :attr:`RawTable.location`.

    Raises
    ------
    SourceError
        If the text cannot be decoded in the named encoding, has no header row, or the
        header has blank or duplicate names.
    """
    text, used = _decode(data, encoding, source)
    text = text.removeprefix(_BOM)
    if delimiter == "auto":
        delimiter = detect_delimiter(text)
    elif len(delimiter) != 1 or delimiter in '"\r\n':
        raise SourceError(source, f"delimiter {delimiter!r} is not one character")
    if csv.field_size_limit() < _FIELD_SIZE_LIMIT:
        csv.field_size_limit(_FIELD_SIZE_LIMIT)

    index = _LineIndex(text)
    records = _records(index, delimiter)
    header: list[str] | None = None
    for fields, _, _, error in records:
        if fields is None:
            raise SourceError(source, f"the header row of {location} cannot be parsed ({error})")
        if any(f.strip() for f in fields):
            header = check_columns(source, fields)
            break
    if header is None:
        raise SourceError(source, f"{location} is empty: no header row")

    ncols = len(header)
    rows = RowCollector(header, max_field_length)
    line_limit = max_field_length * ncols
    n = 0
    for fields, first, end, error in records:
        if fields is not None:
            if len(fields) == ncols:
                n += 1
                rows.add_fields(n, fields)
                continue
            if _blank(fields, ncols):
                continue
        n += 1
        raw = line_json(index.raw(first, end), line_limit)
        if fields is None:
            rows.reject(malformed(n, f"cannot be parsed ({error})", raw))
        else:
            rows.reject(malformed(n, f"{len(fields)} fields where the header has {ncols}", raw))
    return rows.table(
        source,
        location=location,
        sha256=hashlib.sha256(data).hexdigest(),
        encoding=used,
        delimiter=delimiter,
    )


def read_delimited(
    path: str | Path,
    *,
    source: str,
    encoding: str = "auto",
    delimiter: str = "auto",
    max_field_length: int = 1000,
    max_file_bytes: int = 2_000_000_000,
) -> RawTable:
    """Read a delimited text file; see :func:`parse_delimited`.

    Raises
    ------
    SourceError
        Also if the file is missing or larger than ``max_file_bytes``.
    """
    path = Path(path)
    return parse_delimited(
        read_bytes(source, path, max_file_bytes),
        source=source,
        encoding=encoding,
        delimiter=delimiter,
        max_field_length=max_field_length,
        location=str(path),
    )


def detect_delimiter(text: str) -> str:
    """The likeliest of ``, ; | tab`` for ``text``.

    Each candidate parses the header and up to 20 records; the winner gives the header
    more than one field and the most records with the header's field count (ties: more
    fields, then the order above). A one-column file gets the candidate that splits its
    records least.
    """
    sample = text
    truncated = len(text) > _SAMPLE_CHARS
    if truncated:
        sample = text[:_SAMPLE_CHARS]
    best: tuple[tuple[bool, float, int, int], str] | None = None
    for order, candidate in enumerate(DELIMITERS):
        counts: list[int] = []
        reader = csv.reader(_lines(sample, 0), delimiter=candidate, strict=False)
        try:
            for fields in reader:
                if fields and any(f.strip() for f in fields):
                    counts.append(len(fields))
                if len(counts) > _SAMPLE_RECORDS:
                    break
        except csv.Error:
            pass
        if truncated and len(counts) <= _SAMPLE_RECORDS and len(counts) > 1:
            counts.pop()  # may be cut short by the sample's end
        if not counts:
            continue
        width, body = counts[0], counts[1:]
        consistency = sum(c == width for c in body) / len(body) if body else 1.0
        key = (width > 1, consistency, width, -order)
        if best is None or key > best[0]:
            best = (key, candidate)
    return "," if best is None else best[1]


# --------------------------------------------------------------------------- internals


_ENCODING_NAMES = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "cp1252": "cp1252",
    "latin-1": "latin-1",
}


def _decode(data: bytes, encoding: str, source: str) -> tuple[str, str]:
    if encoding not in ENCODINGS:
        raise SourceError(source, f"encoding {encoding!r} is not one of {', '.join(ENCODINGS)}")
    if encoding != "auto":
        try:
            return data.decode(_ENCODING_NAMES[encoding]), encoding
        except UnicodeDecodeError as exc:
            raise SourceError(
                source, f"cannot be decoded as {encoding}: {exc.reason} at byte {exc.start}"
            ) from None
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise SourceError(
                source,
                f"has a utf-8 byte order mark but is not utf-8: {exc.reason} at byte {exc.start}",
            ) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceError(source, "is utf-16 (byte order mark); save it as utf-8 or name its encoding")
    for codec in ("utf-8", "cp1252"):
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _blank(fields: list[str], ncols: int) -> bool:
    """A blank line: no fields, or (in a file of several columns) one blank field."""
    return not fields or (len(fields) == 1 and ncols > 1 and not fields[0].strip())


def _lines(text: str, pos: int) -> Iterator[str]:
    """The lines of ``text`` from offset ``pos``, line ends kept (as ``newline=""``)."""
    return filter(None, map(_group, _LINE.finditer(text, pos)))


_group = re.Match.group


class _LineIndex:
    """Offsets of line numbers in ``text``, found by walking forward only when asked."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._line = 0
        self._offset = 0

    def offset(self, line: int) -> int:
        """Where 0-based line ``line`` starts (the text's end past the last line)."""
        if line < self._line:
            self._line, self._offset = 0, 0
        while self._line < line:
            m = _LINE.match(self.text, self._offset)
            if m is None or m.end() == self._offset:
                break
            self._offset = m.end()
            self._line += 1
        return self._offset

    def raw(self, first: int, end: int) -> str:
        """Lines ``first`` to ``end`` (exclusive) as in the file, without the last line end."""
        start = self.offset(first)
        return _LINE_END.sub("", self.text[start : self.offset(end)])


class _EndOfText:
    """Put after the lines to learn whether the csv reader reached the end of the text."""

    def __init__(self) -> None:
        self.reached = False

    def marker(self) -> Iterator[str]:
        self.reached = True
        yield from ()


_Record = tuple[list[str] | None, int, int, str | None]


def _records(index: _LineIndex, delimiter: str) -> Iterator[_Record]:
    """Every record as ``(fields, first line, end line, error)``, blank ones included.

    A record that cannot be parsed has ``fields`` None and the reason in ``error``.
    """
    base = 0  # the line the current reader started on
    resumes = 0
    while True:
        end_of_text = _EndOfText()
        lines = itertools.chain(_lines(index.text, index.offset(base)), end_of_text.marker())
        reader = csv.reader(lines, delimiter=delimiter, strict=True)
        done = 0  # lines the reader has used for earlier records
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                first, end = base + done, base + reader.line_num
                done = reader.line_num
                if not end_of_text.reached:
                    yield None, first, end, str(exc)
                    continue
                if end - first > 1 and resumes < _MAX_RESUMES:
                    # An open quote ran to the end of the text: give up its first line only.
                    yield None, first, first + 1, _OPEN_QUOTE
                    base = first + 1
                    resumes += 1
                    break
                yield None, first, end, _OPEN_QUOTE
                return
            yield fields, base + done, base + reader.line_num, None
            done = reader.line_num
