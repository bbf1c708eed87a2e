"""Workspace: atomic tables, owner-only files, one writer at a time."""

from __future__ import annotations

import stat
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from ingest.errors import WorkspaceError
from ingest.schema import TABLES
from kinlink.workspace import Workspace


def test_tables_round_trip_in_the_canonical_schema(tmp_path):
    ws = Workspace(tmp_path / "ws")
    empty = TABLES["events"].empty_table().to_pandas()
    facts = ws.write_table("events", empty)
    assert facts["rows"] == 0 and len(facts["sha256"]) == 64
    assert ws.read_table("events").schema.equals(TABLES["events"], check_metadata=False)


def test_files_are_readable_by_their_owner_only(tmp_path):
    ws = Workspace(tmp_path / "ws")
    ws.write_table("x", pd.DataFrame({"a": [1]}))
    ws.write_manifest({"a": 1})
    for path in (ws.table_path("x"), ws.manifest_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(ws.path.stat().st_mode) == 0o700


def test_no_temporary_files_are_left_behind(tmp_path):
    ws = Workspace(tmp_path / "ws")
    ws.write_table("x", pd.DataFrame({"a": [1]}))
    assert sorted(p.name for p in ws.path.iterdir()) == ["x.parquet"]


def test_a_missing_table_is_a_clear_error(tmp_path):
    with pytest.raises(WorkspaceError, match="no 'records' table"):
        Workspace(tmp_path).read_table("records")


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path):
    ws = Workspace(tmp_path / "ws")
    holder = textwrap.dedent(
        f"""
        import sys, time
        from kinlink.workspace import Workspace
        with Workspace({str(ws.path)!r}).lock():
            print("locked", flush=True)
            sys.stdin.readline()
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with (
            pytest.raises(WorkspaceError, match=f"in use by another kinlink run \\(pid {proc.pid}\\)"),
            ws.lock(),
        ):
            pass
    finally:
        proc.communicate("\n", timeout=30)
    with ws.lock():  # released when the holder ended
        pass


def test_a_killed_writer_leaves_no_stale_lock(tmp_path):
    ws = Workspace(tmp_path / "ws")
    holder = (
        "from kinlink.workspace import Workspace\nimport os\n"
        f"with Workspace({str(ws.path)!r}).lock(): os._exit(9)"
    )
    subprocess.run([sys.executable, "-c", holder], check=False)
    with ws.lock():
        pass
