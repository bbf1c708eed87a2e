"""Source adapters: the only code that reads agency files and databases.

Each format has a module (``delimited``, ``excel``, ``parquet``, ``jsonl``, ``sql``);
:func:`read_source` picks one from a mapping's :class:`InputSpec`. Every adapter returns a
:class:`RawTable`: text cells (``str`` or ``None``) under the source's column names, the
1-based data row of each, and the rows it could not read as :class:`RawReject` (for the
quarantine), with ``rows_read == len(frame) + len(rejects)``. A source that cannot be read
at all raises :class:`~ingest.errors.SourceError`. No adapter prints or logs a value.
"""

from ingest.adapters._read import read_source
from ingest.adapters._spec import DELIMITERS, ENCODINGS, FORMATS, InputSpec, RawReject, RawTable
from ingest.adapters.delimited import parse_delimited, read_delimited
from ingest.adapters.excel import read_excel
from ingest.adapters.jsonl import parse_jsonl, read_jsonl
from ingest.adapters.parquet import read_parquet
from ingest.adapters.sql import read_sql

__all__ = [
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
