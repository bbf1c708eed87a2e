"""A run that dies leaves the previous workspace intact; a locked workspace is refused in one line.

Each test copies one finished workspace, starts `kinlink run --force` on the copy (so no stage
is skipped as unchanged) in a process group of its own, kills the group with SIGKILL at a
chosen moment, and checks every table against the SHA-256 the manifest records.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from kinlink.paths import config_path
from kinlink.workspace import Workspace

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGKILL are POSIX")

ROLE = "mash_social_worker"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pipeline(folder: Path, workspace: Path, data: Path, stages: list[str], **more: str) -> Path:
    path = folder / f"pipeline-{'-'.join(stages)}.yaml"
    path.write_text(
        json.dumps(
            {
                "workspace": str(workspace),
                "data": str(data),
                "stages": stages,
                "fsr": {"role": ROLE, "purpose": "safeguarding_assessment", "families": "all", "jobs": 2},
                **more,
            }
        ),
        encoding="utf-8",
    )
    return path


def _start(pipeline: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "kinlink.cli", "run", "-c", str(pipeline), "--force"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the FSR workers die with it
        env={**os.environ, "COLUMNS": "200"},
    )


def _kill(process: subprocess.Popen[str]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL


def _assert_intact(ws: Path, manifest_before: bytes) -> None:
    """The manifest is the one from before, and every table it lists reads and has its recorded hash."""
    assert (ws / "manifest.json").read_bytes() == manifest_before, "the killed run committed its manifest"
    manifest = json.loads(manifest_before)
    assert len(manifest["tables"]) >= 10
    for name, entry in manifest["tables"].items():
        path = ws / f"{name}.parquet"
        assert _sha256(path) == entry["sha256"], f"{name} changed under the manifest"
        assert pq.read_table(path).num_rows == entry["rows"], name


@pytest.fixture
def copy(finished_workspace, tmp_path):
    """A copy of the finished workspace (ingest, link, families), its data, and its manifest's bytes."""
    ws = tmp_path / "ws"
    shutil.copytree(finished_workspace / "ws", ws)  # keeps .id_key: ids stay as they were
    return ws, finished_workspace / "data", (ws / "manifest.json").read_bytes()


def test_killed_during_link_leaves_the_tables_as_they_were(copy, tmp_path):
    ws, data, manifest = copy
    process = _start(_pipeline(tmp_path, ws, data, ["link", "families"]))
    seen = []
    assert process.stderr is not None
    for line in process.stderr:  # the run says each step as it starts; kill it while it compares
        seen.append(line)
        if "step: blocking" in line:
            break
    else:
        pytest.fail(f"the run ended before linking (exit {process.wait()}): {''.join(seen)[-2000:]}")
    _kill(process)
    _assert_intact(ws, manifest)


def test_killed_during_fsr_leaves_the_tables_and_no_half_written_pdf(copy, tmp_path):
    ws, data, manifest = copy
    folder = ws / "fsr" / ROLE
    process = _start(_pipeline(tmp_path, ws, data, ["fsr"]))
    deadline = time.monotonic() + 120
    while not any(folder.glob("*.pdf")):  # kill once the first family's PDF is in place
        assert process.poll() is None, "the run ended before it wrote a PDF"
        assert time.monotonic() < deadline, "no PDF within two minutes"
        time.sleep(0.02)
    _kill(process)
    _assert_intact(ws, manifest)
    pdfs = list(folder.glob("*.pdf"))
    families = pq.read_table(ws / "families.parquet").column("family_id").unique().to_pylist()
    assert 0 < len(pdfs) < len(families), "killed midway: some families written, not all"
    for pdf in pdfs:  # renamed into place whole, or not at all
        data_ = pdf.read_bytes()
        assert data_.startswith(b"%PDF-") and data_.rstrip().endswith(b"%%EOF"), pdf.name


def test_a_locked_workspace_is_refused_in_one_line(copy, tmp_path):
    ws, data, manifest = copy
    with Workspace(ws).lock():
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "kinlink.cli",
                "run",
                "-c",
                str(_pipeline(tmp_path, ws, data, ["link"])),
                "--force",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith("step:")]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("kinlink: error: workspace ")
    assert f"in use by another kinlink run (pid {os.getpid()})" in lines[0]
    assert "Traceback" not in done.stderr
    _assert_intact(ws, manifest)


_KILL_WHILE_STAGING = """
import os, signal, sys
from kinlink.workspace import Transaction
from kinlink.cli import main

real = Transaction.write_table

def write_then_die(self, name, table):
    entry = real(self, name, table)
    if name == "person_index":  # two of the link stage's tables staged, not yet committed
        os.kill(os.getpid(), signal.SIGKILL)
    return entry

Transaction.write_table = write_then_die
sys.exit(main(["run", "-c", sys.argv[1], "--force"]))
"""

_KILL_WHILE_PUBLISHING = """
import os, signal, sys
from kinlink import workspace
from kinlink.cli import main

real = os.replace
moved = []

def replace_then_die(src, dst):
    real(src, dst)
    if str(src).endswith(".txn"):
        moved.append(dst)
        if len(moved) == 2:  # journal written, two tables renamed, the rest and the manifest not
            os.kill(os.getpid(), signal.SIGKILL)

workspace.os.replace = replace_then_die
sys.exit(main(["run", "-c", sys.argv[1], "--force"]))
"""


def _changed_link(tmp_path: Path, ws: Path, data: Path) -> Path:
    settings = yaml.safe_load(config_path("linkage.yaml").read_text(encoding="utf-8"))
    settings["clustering"]["threshold"] = 0.5  # other people than last time: person_index changes
    settings["nicknames"] = str(config_path("nicknames.yaml"))
    changed = tmp_path / "linkage.yaml"
    changed.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return _pipeline(tmp_path, ws, data, ["link"], linkage=str(changed))


def test_killed_while_staging_a_stage_leaves_the_previous_state(copy, tmp_path):
    ws, data, manifest = copy
    done = subprocess.run(
        [sys.executable, "-c", _KILL_WHILE_STAGING, str(_changed_link(tmp_path, ws, data))],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    for path in ws.glob("*.parquet"):
        pq.read_table(path)  # every table still reads: each file is replaced whole
    _assert_intact(ws, manifest)
    with Workspace(ws).lock():  # the next run sweeps the staged files (they hold personal data)
        pass
    assert not list(ws.glob(".*.txn")), "staged files of the killed run were left behind"
    _assert_intact(ws, manifest)


def test_killed_while_publishing_is_completed_by_the_next_reader(copy, tmp_path):
    ws, data, manifest = copy
    done = subprocess.run(
        [sys.executable, "-c", _KILL_WHILE_PUBLISHING, str(_changed_link(tmp_path, ws, data))],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert (ws / ".commit.json").exists()
    after = Workspace(ws).read_manifest()  # completes the commit the journal describes
    assert not (ws / ".commit.json").exists()
    assert after != json.loads(manifest), "the new manifest was published"
    for name, entry in after["tables"].items():
        assert _sha256(ws / f"{name}.parquet") == entry["sha256"], f"{name} does not match the manifest"
