"""A workspace folder: one Parquet file per canonical table, a manifest, and a lock.

Every write goes to a temporary file in the folder and is renamed into place, so a run
killed at any moment leaves each table either wholly old or wholly new. Files are made
readable by their owner only: they hold special-category personal data.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.errors import WorkspaceError
from ingest.schema import TABLES

__all__ = ["Workspace"]

_FILE_MODE = 0o600
_DIR_MODE = 0o700


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Workspace:
    """The folder a run reads its inputs from and writes its tables to."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r})"

    def create(self) -> Workspace:
        self.path.mkdir(parents=True, exist_ok=True, mode=_DIR_MODE)
        os.chmod(self.path, _DIR_MODE)
        return self

    def table_path(self, name: str) -> Path:
        return self.path / f"{name}.parquet"

    @property
    def manifest_path(self) -> Path:
        return self.path / "manifest.json"

    def has_table(self, name: str) -> bool:
        return self.table_path(name).exists()

    # ----------------------------------------------------------------- writing

    @contextlib.contextmanager
    def _atomic(self, final: Path) -> Iterator[Path]:
        self.create()
        tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _FILE_MODE))  # owner-only from the start
        try:
            yield tmp
            os.chmod(tmp, _FILE_MODE)
            with tmp.open("rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)

    def write_table(self, name: str, table: pa.Table | pd.DataFrame) -> dict[str, Any]:
        """Write one table atomically; returns its row count and content hash for the manifest."""
        if isinstance(table, pd.DataFrame):
            schema = TABLES.get(name)
            table = (
                pa.Table.from_pandas(table[schema.names], schema=schema, preserve_index=False)
                if schema is not None
                else pa.Table.from_pandas(table, preserve_index=False)
            )
        final = self.table_path(name)
        with self._atomic(final) as tmp:
            pq.write_table(table, tmp, compression="zstd")
        return {"rows": table.num_rows, "sha256": _sha256(final)}

    def write_file(self, relative: str | Path, data: bytes) -> Path:
        """Write bytes to a file under the workspace (e.g. ``fsr/school/F1.pdf``), atomically.

        Folders on the way are created owner-only; ``relative`` may not leave the workspace.
        """
        final = (self.path / relative).resolve()
        if not final.is_relative_to(self.path.resolve()):
            raise WorkspaceError(f"{relative} is outside the workspace")
        self.create()
        folder = final.parent
        folder.mkdir(parents=True, exist_ok=True, mode=_DIR_MODE)
        for part in [folder, *folder.parents]:
            if part == self.path.resolve():
                break
            os.chmod(part, _DIR_MODE)
        with self._atomic(final) as tmp:
            tmp.write_bytes(data)
        return final

    def write_json(self, filename: str, document: Any) -> None:
        """Write a JSON document into the workspace atomically."""
        with self._atomic(self.path / filename) as tmp:
            tmp.write_text(
                json.dumps(document, indent=2, sort_keys=False, default=str) + "\n",
                encoding="utf-8",
            )

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        self.write_json(self.manifest_path.name, manifest)

    def id_key(self) -> bytes:
        """The workspace's secret for person and family ids (made on first use, owner-only)."""
        path = self.path / ".id_key"
        if not path.exists():
            self.create()
            with self._atomic(path) as tmp:
                tmp.write_bytes(os.urandom(32))
        return path.read_bytes()

    # ----------------------------------------------------------------- reading

    def read_table(self, name: str) -> pa.Table:
        path = self.table_path(name)
        if not path.exists():
            raise WorkspaceError(
                f"workspace {self.path} has no {name!r} table; run the stage that writes it first"
            )
        return pq.read_table(path)

    def read_frame(self, name: str) -> pd.DataFrame:
        return self.read_table(name).to_pandas()

    def read_manifest(self) -> dict[str, Any]:
        if not self.manifest_path.exists():
            return {}
        return dict(json.loads(self.manifest_path.read_text(encoding="utf-8")))

    # ----------------------------------------------------------------- locking

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the workspace for writing; a second run gets a clear WorkspaceError.

        The lock is an advisory ``flock`` on ``.lock``: the operating system releases it
        when the holding process ends, however it ends, so a killed run leaves no stale lock.
        """
        self.create()
        lock_path = self.path / ".lock"
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, _FILE_MODE)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                raise WorkspaceError(
                    f"workspace {self.path} is in use by another kinlink run (pid {holder}); "
                    "wait for it to finish"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            yield
        finally:
            os.close(fd)
