"""Data at rest and logs: the demo path, run as a user would with --verbose, leaks nothing.

The synthetic people's names, dates of birth, NHS numbers and UPNs are read back from the
workspace's own `records` table; no line any command prints (stdout or stderr), no log
file and no JSON document in the workspace may hold one of them. Every file the run
writes in the workspace is readable by its owner only (0600), every folder 0700.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.ingest.mutations import Secrets

KINLINK = [sys.executable, "-m", "kinlink.cli", "--verbose"]
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%b-%Y", "%d %b %Y", "%Y%m%d")


def kinlink(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    done = subprocess.run(
        [*KINLINK, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=900, check=False
    )
    assert done.returncode == 0, f"kinlink {args[0]} failed with exit code {done.returncode}"
    return done


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo path (synth, ingest, link, families, fsr) with --verbose, and all it printed."""
    root = tmp_path_factory.mktemp("protection")
    data, ws = root / "data", root / "ws"
    runs = [
        kinlink("synth", "--out", str(data), "--people", "150", "--seed", "11", cwd=root),
        kinlink("ingest", "--data", str(data), "--workspace", str(ws), cwd=root),
        kinlink("link", "--workspace", str(ws), cwd=root),
        kinlink("families", "--workspace", str(ws), cwd=root),
        kinlink(
            "fsr",
            "--workspace",
            str(ws),
            "--role",
            "mash_social_worker",
            "--purpose",
            "safeguarding_assessment",
            "--families",
            "involved",
            "--format",
            "pdf",
            "--format",
            "svg",
            "--format",
            "json",
            "--jobs",
            "2",
            cwd=root,
        ),
    ]
    return root, ws, runs


def personal_values(ws: Path) -> list[str]:
    """Every name, date of birth (as commonly written), NHS number and UPN of the records."""
    records = pd.read_parquet(ws / "records.parquet")
    values: list[str] = []
    for column in ("given_name", "middle_names", "family_name", "given_name_std", "family_name_std"):
        for value in records[column].dropna():
            values += [str(value), *str(value).split()]
    for names in records["alias_names"].dropna():
        values += [str(n) for n in names]
    for column in ("nhs_number", "nhs_number_std", "upn", "upn_std"):
        values += [str(v) for v in records[column].dropna()]
    for dob in records["dob"].dropna():
        values += [pd.Timestamp(dob).strftime(f) for f in DATE_FORMATS]
    return values


def test_the_secrets_are_real(demo):
    _, ws, _ = demo
    secrets = Secrets(personal_values(ws), min_length=3)
    assert secrets.count > 300
    records = pd.read_parquet(ws / "records.parquet")
    assert secrets.found_in(records["family_name"].dropna().head(5)) > 0, "the check can find a name"


def test_no_output_line_holds_a_name_a_date_of_birth_or_an_identifier(demo):
    _, ws, runs = demo
    secrets = Secrets(personal_values(ws), min_length=3)
    printed = [line for run in runs for line in (run.stdout + run.stderr).splitlines()]
    assert len(printed) > 20
    assert secrets.found_in(printed) == 0


def test_no_log_file_or_json_document_holds_one(demo):
    root, ws, _ = demo
    secrets = Secrets(personal_values(ws), min_length=3)
    texts = [p for p in root.rglob("*") if p.is_file() and p.suffix in (".log", ".txt", ".json", ".jsonl")]
    texts = [
        p for p in texts if "fsr" not in p.relative_to(root).parts and "data" not in p.relative_to(root).parts
    ]
    names = {p.name for p in texts}
    assert {"manifest.json", "linkage_model.json"} <= names
    for path in texts:
        assert secrets.found_in([path.read_text(encoding="utf-8", errors="replace")]) == 0, path.name


def test_every_file_in_the_workspace_is_owner_only(demo):
    _, ws, _ = demo
    files = folders = 0
    for path in [ws, *ws.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if path.is_dir():
            folders += 1
            assert mode == 0o700, f"{path.relative_to(ws.parent)} is {mode:04o}"
        else:
            files += 1
            assert mode == 0o600, f"{path.relative_to(ws.parent)} is {mode:04o}"
    assert files > 20 and folders >= 3  # the tables, the FSRs of each format, fsr/ and its role folder
    assert not [p for p in ws.rglob("*.tmp")], "no temporary file is left behind"
