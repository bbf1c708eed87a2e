"""A workspace folder: one Parquet file per canonical table, a manifest, and a lock.

Every write goes to a temporary file in the folder and is renamed into place. A stage's
tables and the manifest are published together by a :meth:`Workspace.transaction`: the
new files are written in full first, then a journal listing them, then they are renamed
into place and the journal removed. A run killed before the journal leaves the previous
state; one killed after it is completed by the next run (or read) of the workspace, so
the tables and the manifest always agree. Files are made readable by their owner only:
they hold special-category personal data.
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

__all__ = ["Transaction", "Workspace", "file_sha256"]

_FILE_MODE = 0o600
_DIR_MODE = 0o700
_JOURNAL = ".commit.json"
#: Locks this process holds: resolved workspace path -> (file descriptor, depth).
_HELD: dict[Path, tuple[int, int]] = {}


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks (the hash the manifest records)."""
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
        return {"rows": table.num_rows, "sha256": file_sha256(final)}

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

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Publish several files together (see the module doc); hold :meth:`lock` around it."""
        txn = Transaction(self)
        try:
            yield txn
        except BaseException:
            txn.discard()
            raise
        txn.commit()

    def recover(self) -> None:
        """Finish a commit a killed run left half done, and remove its stray temporary files.

        Only under the lock (another run may be writing otherwise); a no-op when there is
        nothing to do.
        """
        journal = self.path / _JOURNAL
        if journal.exists():
            try:
                moves = json.loads(journal.read_text(encoding="utf-8"))
            except ValueError:
                moves = []  # the journal itself was not finished: the commit never began
            for tmp_name, final_name in moves:
                tmp = self.path / tmp_name
                if tmp.exists():
                    os.replace(tmp, self.path / final_name)
            _fsync_dir(self.path)
            journal.unlink(missing_ok=True)
        for pattern in (".*.tmp", ".*.txn"):  # staged by a run killed before its journal
            for stray in self.path.glob(pattern):
                stray.unlink(missing_ok=True)

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
        if (self.path / _JOURNAL).exists():
            with contextlib.suppress(WorkspaceError), self.lock():
                pass  # taking the lock completes the interrupted commit
        if not self.manifest_path.exists():
            return {}
        return dict(json.loads(self.manifest_path.read_text(encoding="utf-8")))

    # ----------------------------------------------------------------- locking

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the workspace for writing; a second run gets a clear WorkspaceError.

        The lock is an advisory ``flock`` on ``.lock``: the operating system releases it
        when the holding process ends, however it ends, so a killed run leaves no stale lock.
        It is re-entrant within one process (a whole run holds it while each stage takes it
        again). Taking it completes any commit a killed run left half done.
        """
        self.create()
        key = self.path.resolve()
        if key in _HELD:
            fd, depth = _HELD[key]
            _HELD[key] = (fd, depth + 1)
            try:
                yield
            finally:
                fd, depth = _HELD[key]
                _HELD[key] = (fd, depth - 1)
            return
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
            _HELD[key] = (fd, 1)
            self.recover()
            yield
        finally:
            _HELD.pop(key, None)
            os.close(fd)


class Transaction:
    """Files staged for one commit (see :meth:`Workspace.transaction`)."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._moves: list[tuple[Path, Path]] = []

    def _stage(self, final: Path) -> Path:
        self.workspace.create()
        tmp = final.with_name(f".{final.name}.{os.getpid()}.txn")
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _FILE_MODE))
        self._moves.append((tmp, final))
        return tmp

    def write_table(self, name: str, table: pa.Table | pd.DataFrame) -> dict[str, Any]:
        """Stage a table; returns its row count and content hash for the manifest."""
        table = _as_arrow(name, table)
        tmp = self._stage(self.workspace.table_path(name))
        pq.write_table(table, tmp, compression="zstd")
        return {"rows": table.num_rows, "sha256": file_sha256(tmp)}

    def write_json(self, filename: str, document: Any) -> None:
        tmp = self._stage(self.workspace.path / filename)
        tmp.write_text(json.dumps(document, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        self.write_json(self.workspace.manifest_path.name, manifest)

    def discard(self) -> None:
        for tmp, _ in self._moves:
            tmp.unlink(missing_ok=True)
        self._moves.clear()

    def commit(self) -> None:
        if not self._moves:
            return
        for tmp, _ in self._moves:
            os.chmod(tmp, _FILE_MODE)
            with tmp.open("rb") as fh:
                os.fsync(fh.fileno())
        root = self.workspace.path
        journal = [[tmp.name, final.name] for tmp, final in self._moves]
        with self.workspace._atomic(root / _JOURNAL) as staged:
            staged.write_text(json.dumps(journal), encoding="utf-8")
        for tmp, final in self._moves:
            os.replace(tmp, final)
        _fsync_dir(root)
        (root / _JOURNAL).unlink(missing_ok=True)
        self._moves.clear()


def _as_arrow(name: str, table: pa.Table | pd.DataFrame) -> pa.Table:
    if isinstance(table, pd.DataFrame):
        schema = TABLES.get(name)
        return (
            pa.Table.from_pandas(table[schema.names], schema=schema, preserve_index=False)
            if schema is not None
            else pa.Table.from_pandas(table, preserve_index=False)
        )
    return table


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
