"""The `kinlink` command from a user's shell: the whole demo path, and clear one-line errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

KINLINK = [sys.executable, "-m", "kinlink.cli"]


def kinlink(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run([*KINLINK, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    data, ws = root / "data", root / "ws"
    done = kinlink("synth", "--out", str(data), "--people", "400", "--seed", "5")
    assert done.returncode == 0, done.stderr
    done = kinlink("ingest", "--data", str(data), "--workspace", str(ws))
    assert done.returncode == 0, done.stderr
    done = kinlink("link", "--workspace", str(ws))
    assert done.returncode == 0, done.stderr
    return data, ws, done


def test_ingest_writes_the_tables_and_a_reconciled_manifest(demo):
    data, ws, _ = demo
    manifest = json.loads((ws / "manifest.json").read_text())
    for source, counts in manifest["stages"]["ingest"]["sources"].items():
        assert counts["rows_read"] == counts["rows_accepted"] + counts["rows_quarantined"], source
        assert manifest["inputs"]["sources"][source]["format"]
    quarantine = pd.read_parquet(ws / "quarantine.parquet")
    truth = pd.read_parquet(data / "truth" / "records.parquet")
    expected = truth[truth["expected_quarantine"]].groupby("source")["row_number"].nunique()
    rejected = quarantine[quarantine["scope"] == "row"].groupby("source")["row_number"].nunique()
    for source, rows in expected.items():
        assert rejected.get(source, 0) >= rows, f"{source}: a broken row was not quarantined"


def test_link_writes_people_and_says_what_it_did(demo):
    _, ws, done = demo
    for table in ("person_index", "persons", "pairs", "person_id_changes"):
        assert (ws / f"{table}.parquet").exists()
    assert (ws / "linkage_model.json").exists()
    assert "people" in done.stdout


def test_evaluate_and_explain(demo, tmp_path):
    data, ws, _ = demo
    done = kinlink(
        "evaluate", "--workspace", str(ws), "--truth", str(data / "truth" / "records.parquet"), "--blocking"
    )
    assert done.returncode == 0, done.stderr
    assert "B-cubed" in done.stdout
    assert "pairs completeness" in done.stdout and "names_sound_alike" in done.stdout
    pairs = pd.read_parquet(ws / "pairs.parquet").sort_values("match_weight")
    row = pairs.iloc[-1]
    chart = tmp_path / "why.png"
    done = kinlink(
        "explain", "--workspace", str(ws), row.record_key_l, row.record_key_r, "--chart", str(chart)
    )
    assert done.returncode == 0, done.stderr
    assert "prior" in done.stdout and chart.stat().st_size > 1000
    entry = json.loads((ws / "audit.jsonl").read_text().splitlines()[-1])
    assert entry["action"] == "explain" and entry["person_ids"]


def test_families_writes_its_tables_and_scores_against_the_truth(demo):
    data, ws, _ = demo
    done = kinlink("families", "--workspace", str(ws))
    assert done.returncode == 0, done.stderr
    assert "families" in done.stdout and "relationships" in done.stdout
    for table in ("households", "relationships", "relationship_conflicts", "families", "interventions"):
        assert (ws / f"{table}.parquet").exists(), table
    families = pd.read_parquet(ws / "families.parquet")
    people = set(pd.read_parquet(ws / "persons.parquet")["person_id"])
    assert set(families["person_id"]) <= people
    manifest = json.loads((ws / "manifest.json").read_text())
    assert manifest["stages"]["families"]["facts"]["families"] == families["family_id"].nunique()
    truth = data / "truth"
    done = kinlink(
        "evaluate",
        "--workspace",
        str(ws),
        "--truth",
        str(truth / "records.parquet"),
        "--truth-relationships",
        str(truth / "relationships.parquet"),
        "--truth-families",
        str(truth / "families.parquet"),
    )
    assert done.returncode == 0, done.stderr
    assert "parent_child" in done.stdout and "Jaccard" in done.stdout
    # a rerun keeps every family id
    again = kinlink("families", "--workspace", str(ws))
    assert again.returncode == 0, again.stderr
    after = pd.read_parquet(ws / "families.parquet")
    assert after.equals(families)


@pytest.fixture(scope="module")
def with_families(demo):
    data, ws, _ = demo
    done = kinlink("families", "--workspace", str(ws))
    assert done.returncode == 0, done.stderr
    return data, ws


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _family_with_abuse(ws: Path) -> str:
    families = pd.read_parquet(ws / "families.parquet")
    interventions = pd.read_parquet(ws / "interventions.parquet")
    victims = set(interventions.loc[interventions["event_type"] == "domestic_abuse_incident", "person_id"])
    return sorted(families.loc[families["person_id"].isin(victims), "family_id"])[0]


def test_fsr_writes_one_redacted_record_per_family_and_the_same_bytes_twice(with_families):
    _, ws = with_families
    family = _family_with_abuse(ws)
    args = ["fsr", "--workspace", str(ws), "--family", family, "--purpose", "safeguarding_assessment"]
    args += ["--produced", "2026-11-26", "--format", "pdf", "--format", "json", "--format", "ged"]
    for role in ("mash_social_worker", "school"):
        done = kinlink(*args, "--role", role, "--jobs", "1")
        assert done.returncode == 0, done.stderr
    social, school = (ws / "fsr" / role / f"{family}.pdf" for role in ("mash_social_worker", "school"))
    assert oct(social.stat().st_mode & 0o777) == "0o600"
    social_text, school_text = _pdf_text(social), _pdf_text(school)
    assert "OFFICIAL-SENSITIVE" in social_text and "OFFICIAL-SENSITIVE" in school_text
    assert "Domestic abuse incident" in social_text
    assert "Domestic abuse incident" not in school_text
    assert not re.search(r"NHS \d", school_text)
    members = pd.read_parquet(ws / "families.parquet").query("family_id == @family")["person_id"]
    persons = pd.read_parquet(ws / "persons.parquet").set_index("person_id")
    if persons.loc[list(members), "nhs_number"].notna().any():
        assert re.search(r"NHS \d", social_text)
    gedcom = (ws / "fsr" / "school" / f"{family}.ged").read_text()
    assert gedcom.startswith("0 HEAD") and "Domestic" not in gedcom
    first = social.read_bytes()
    again = kinlink(*args, "--role", "mash_social_worker", "--jobs", "2")
    assert again.returncode == 0, again.stderr
    assert social.read_bytes() == first
    manifest = json.loads((ws / "manifest.json").read_text())
    assert manifest["stages"]["fsr"]["role"] == "mash_social_worker"
    # every FSR produced is in the audit log, and the log verifies
    audit = [json.loads(line) for line in (ws / "audit.jsonl").read_text().splitlines()]
    assert [e["role"] for e in audit[-3:]] == ["mash_social_worker", "school", "mash_social_worker"]
    assert all(e["family_id"] == family for e in audit[-3:])
    verified = kinlink("audit", "verify", "--workspace", str(ws))
    assert verified.returncode == 0, verified.stderr


def test_fsr_for_an_unknown_role_is_refused_in_one_line(with_families):
    _, ws = with_families
    done = kinlink(
        "fsr", "--workspace", str(ws), "--families", "all", "--role", "neighbour", "--purpose", "x"
    )
    assert done.returncode == 1
    assert "neighbour" in done.stderr and "Traceback" not in done.stderr


def test_the_whole_pipeline_runs_from_one_config(tmp_path):
    data = tmp_path / "data"
    assert kinlink("synth", "--out", str(data), "--people", "150", "--seed", "3").returncode == 0
    config = tmp_path / "pipe.yaml"
    config.write_text(
        f"workspace: {tmp_path / 'ws'}\ndata: {data}\nstages: [ingest, link, families, fsr]\n"
        "fsr: {role: health, purpose: safeguarding_assessment, families: involved}\n"
    )
    done = kinlink("run", "-c", str(config))
    assert done.returncode == 0, done.stderr
    assert list((tmp_path / "ws" / "fsr" / "health").glob("*.pdf"))
    assert "families" in done.stdout and "fsr" in done.stdout
    # nothing changed: every stage is reused; a changed setting reruns from that stage on
    again = kinlink("run", "-c", str(config))
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("reused") == 4
    settings = tmp_path / "families.yaml"
    settings.write_text("child_age_limit: 16\n")
    config.write_text(config.read_text() + f"families: {settings}\n")
    third = kinlink("run", "-c", str(config))
    assert third.returncode == 0, third.stderr
    assert third.stdout.count("reused") == 2  # ingest and link


def test_families_before_link_says_what_to_run(tmp_path):
    data = tmp_path / "data"
    assert kinlink("synth", "--out", str(data), "--people", "60", "--seed", "1").returncode == 0
    assert kinlink("ingest", "--data", str(data), "--workspace", str(tmp_path / "ws")).returncode == 0
    done = kinlink("families", "--workspace", str(tmp_path / "ws"))
    assert done.returncode == 1
    assert "run `kinlink link` first" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_relink_keeps_every_person_id(demo):
    _, ws, _ = demo
    before = pd.read_parquet(ws / "person_index.parquet").set_index("record_key")["person_id"]
    assert kinlink("link", "--workspace", str(ws)).returncode == 0
    after = pd.read_parquet(ws / "person_index.parquet").set_index("record_key")["person_id"]
    assert after.reindex(before.index).equals(before)


ERRORS = [
    {
        "description": "missing data folder",
        "args": ["ingest", "--data", "{tmp}/nope", "--workspace", "{tmp}/ws"],
        "says": "data folder not found",
    },
    {
        "description": "missing mapping file",
        "args": [
            "ingest",
            "--data",
            "{tmp}",
            "--workspace",
            "{tmp}/ws",
            "--sources",
            "{tmp}/none.yaml",
        ],
        "says": "mapping file not found",
    },
    {
        "description": "no records to link",
        "args": ["link", "--workspace", "{tmp}/empty"],
        "says": "no 'records' table",
    },
    {
        "description": "bad pipeline file",
        "args": ["run", "-c", "{tmp}/pipe.yaml"],
        "says": "unknown key(s) ['colour']",
    },
]


@pytest.mark.parametrize("case", ERRORS, ids=[c["description"] for c in ERRORS])
def test_a_users_mistake_is_one_clear_line(case, tmp_path):
    (tmp_path / "pipe.yaml").write_text("workspace: ws\ndata: data\ncolour: red\n")
    done = kinlink(*[a.format(tmp=tmp_path) for a in case["args"]])
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kinlink: error:"), done.stderr
    assert case["says"] in lines[0]
    assert "Traceback" not in done.stderr


def ingest_one_csv(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    """Ingest one CSV through a mapping that names a FORENAME column the file lacks."""
    (tmp_path / "x.csv").write_text(text, encoding="utf-8")
    (tmp_path / "x.yaml").write_text(
        "source: x\ninput: {format: csv, path: x.csv}\npeople: {p: {id: ID, given_name: FORENAME}}\n"
    )
    sources = str(tmp_path / "x.yaml")
    return kinlink(
        "ingest", "--data", str(tmp_path), "--workspace", str(tmp_path / "ws"), "--sources", sources
    )


def test_a_schema_error_names_the_source_and_column(tmp_path):
    done = ingest_one_csv(tmp_path, "ID,NAME\n1,Ann\n")
    assert done.returncode == 1
    assert "source 'x'" in done.stderr and "FORENAME" in done.stderr


def test_an_extract_without_a_header_row_never_echoes_its_data(tmp_path):
    done = ingest_one_csv(tmp_path, "SMITH John,01/02/1980,1 High St\n")
    assert done.returncode == 1
    for value in ("SMITH", "1980", "High St"):
        assert value not in done.stderr


def test_every_command_has_help():
    for command in ("synth", "ingest", "link", "evaluate", "explain", "run", "schema"):
        done = kinlink(command, "--help")
        assert done.returncode == 0 and "Usage:" in done.stdout, command
