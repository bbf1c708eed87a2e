"""The one entry point the mapping engine calls: :func:`read_source`."""

from __future__ import annotations

from pathlib import Path

from ingest.adapters._spec import InputSpec, RawTable
from ingest.adapters.delimited import read_delimited
from ingest.adapters.excel import read_excel
from ingest.adapters.jsonl import read_jsonl
from ingest.adapters.parquet import read_parquet
from ingest.adapters.sql import read_sql


def read_source(
    source: str,
    spec: InputSpec,
    data_dir: str | Path,
    *,
    max_field_length: int = 1000,
    max_file_bytes: int = 2_000_000_000,
) -> RawTable:
    """Read source ``source`` as its mapping's ``input:`` block ``spec`` says.

    File paths are relative to ``data_dir``; in a SQL URL ``{data}`` stands for it.

    Raises
    ------
    SourceError
        If the source cannot be read at all (see the ``read_*`` function of its format).
        Rows that cannot be read are :attr:`RawTable.rejects`, not errors.
    """
    data_dir = Path(data_dir)
    if spec.format == "sql":
        url = (spec.url or "").replace("{data}", data_dir.as_posix())
        return read_sql(
            url,
            source=source,
            table=spec.table,
            query=spec.query,
            max_field_length=max_field_length,
        )
    path = data_dir / (spec.path or "")
    if spec.format == "csv":
        return read_delimited(
            path,
            source=source,
            encoding=spec.encoding,
            delimiter=spec.delimiter,
            max_field_length=max_field_length,
            max_file_bytes=max_file_bytes,
        )
    if spec.format == "xlsx":
        return read_excel(
            path,
            source=source,
            sheet=spec.sheet,
            max_field_length=max_field_length,
            max_file_bytes=max_file_bytes,
        )
    if spec.format == "parquet":
        return read_parquet(
            path, source=source, max_field_length=max_field_length, max_file_bytes=max_file_bytes
        )
    if spec.format == "jsonl":
        return read_jsonl(
            path, source=source, max_field_length=max_field_length, max_file_bytes=max_file_bytes
        )
    raise ValueError(f"unknown input format {spec.format!r}")  # InputSpec prevents this
