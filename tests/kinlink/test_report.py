"""The linkage quality report: one self-contained HTML file, with no personal data in it."""

from __future__ import annotations

import html
import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from ingest.errors import KinlinkError, WorkspaceError
from kinlink.cli_report import report as report_command
from kinlink.report import (
    build_report,
    explain_stored_pair,
    model_levels,
    near_threshold_patterns,
    threshold_curve,
    threshold_weight,
    write_report,
)
from linkage import LinkageSettings
from linkage.explain import explain_pair

SECTIONS = ("summary", "sources", "blocking", "model", "weights", "people", "sample", "families", "run")


@pytest.fixture(scope="module")
def workspace(finished_workspace):
    return finished_workspace


@pytest.fixture(scope="module")
def written(workspace):
    truth = workspace / "data" / "truth"
    path = write_report(
        workspace / "ws",
        truth=truth / "records.parquet",
        truth_relationships=truth / "relationships.parquet",
        truth_families=truth / "families.parquet",
    )
    return path, path.read_text(encoding="utf-8")


def test_the_report_is_one_self_contained_file(written):
    path, text = written
    assert path.name == "report.html" and path.parent.name == "ws"
    assert text.startswith("<!DOCTYPE html>")
    for section in (*SECTIONS, "evaluation"):
        assert f'id="{section}"' in text, section
    assert text.count("<svg") >= 10
    lowered = text.lower()
    for external in ("<script", "<link", "<img", "<iframe", "@import", 'src="', 'href="http', "javascript:"):
        assert external not in lowered, external
    assert not re.search(r"url\((?!#)", text), "CSS and SVG refer only to the document's own ids"
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids)), "inline SVGs must not share ids"
    assert not re.search(r"<!DOCTYPE svg|<\?xml", text), "SVG prologues are stripped before inlining"


def test_the_report_holds_no_names_dates_of_birth_or_identifiers(workspace, written):
    _, text = written
    records = pd.read_parquet(workspace / "ws" / "records.parquet")
    visible = html.unescape(re.sub(r"<[^>]+>", " ", text))  # text and SVG labels, not markup
    leaks = set()
    for column in ("record_key", "source_record_id", "nhs_number", "upn", "address", "postcode"):
        for value in records[column].dropna().astype(str).unique():
            if len(value) >= 5 and value in text:
                leaks.add((column, value))
    for value in pd.to_datetime(records["dob"].dropna()).dt.strftime("%Y-%m-%d").unique():
        if value in visible:
            leaks.add(("dob", value))
    words = set(re.findall(r"[A-Za-z][A-Za-z'-]{3,}", visible))
    for column in ("given_name", "family_name"):
        for value in records[column].dropna().astype(str).unique():
            if len(value) >= 4 and value in words:
                leaks.add((column, value))
    assert not leaks, f"values from the records are in the report: {sorted(leaks)[:5]}"


def test_the_report_shows_the_run_s_figures(workspace, written):
    _, text = written
    manifest = json.loads((workspace / "ws" / "manifest.json").read_text())
    facts = manifest["stages"]["link"]["facts"]
    assert f"{facts['candidate_pairs']:,}" in text
    assert f"{manifest['stages']['families']['facts']['families']:,}" in text
    for rule in manifest["stages"]["link"]["blocking"]:
        assert html.escape(rule["rule"]) in text
    assert "all 14 tables match the SHA-256" in text or "tables match the SHA-256" in text
    assert "F1 of people" in text


def test_every_value_is_escaped():
    manifest = {
        "updated": "<b>now</b>",
        "stages": {
            "ingest": {
                "sources": {
                    "<script>alert(1)</script>": {
                        "rows_read": 3,
                        "rows_accepted": 2,
                        "rows_quarantined": 1,
                        "items_quarantined": 0,
                        "records": 2,
                        "events": 0,
                        "stated_relationships": 0,
                        "quarantine_reasons": {'"><img src=x>': 1},
                    }
                },
                "totals": {"rows_read": 3, "rows_quarantined": 1, "records": 2},
            },
            "link": {"blocking": [{"rule": "a&b<i>", "pairs": 1, "new_pairs": 1, "blocks_left_out": 0}]},
        },
        "versions": {"kinlink": "1<2"},
    }
    quarantine = pd.DataFrame(
        {"source": ["<script>alert(1)</script>"], "scope": ["row"], "reason": ["x<y"], "column": ["$a$"]}
    )
    text = build_report({"quarantine": quarantine}, manifest, generated="2026-01-01T00:00:00+00:00")
    assert "<script" not in text and "<img" not in text and "<i>" not in text and "<b>now" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "a&amp;b&lt;i&gt;" in text
    assert "not in this workspace" in text  # sections whose tables are missing say so


def test_stored_explanations_are_what_explain_pair_computes(workspace):
    ws = workspace / "ws"
    settings = LinkageSettings.load(ws / "linkage_model.json")
    pairs = pd.read_parquet(ws / "pairs.parquet")
    records = pd.read_parquet(ws / "records.parquet")
    stated = pd.read_parquet(ws / "stated_relationships.parquet")
    index = pd.read_parquet(ws / "person_index.parquet")
    chosen = near_threshold_patterns(pairs, threshold_weight(settings.clustering.threshold), n=4)
    assert len(chosen) == 4
    levels = model_levels(settings)
    for _, row in chosen.iterrows():
        oracle = explain_pair(records, settings, row["record_key_l"], row["record_key_r"], stated, index)
        for model in (settings, levels):
            stored = explain_stored_pair(row, model)
            assert stored["term"].tolist() == oracle["term"].tolist()
            assert stored["level"].tolist() == oracle["level"].tolist()
            np.testing.assert_allclose(stored["weight"], oracle["weight"], atol=1e-4)
        assert stored["cumulative"].iloc[-1] == pytest.approx(row["match_weight"], abs=1e-4)


def test_near_threshold_patterns_are_distinct_and_on_both_sides():
    levels = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    pairs = pd.DataFrame(
        {
            "stratum": ["R"] * 8,
            "level_a": levels,
            "match_weight": [4.1, 4.3, 3.0, 4.0, 9.0, 5.0, -2.0, 4.5],
            "hard_conflict": [False] * 8,
        }
    )
    chosen = near_threshold_patterns(pairs, 4.25, n=2)
    assert chosen["level_a"].tolist() == [0, 1]  # nearest below, nearest above; one per pattern
    assert chosen["pattern_pairs"].tolist() == [3, 3]
    assert chosen["pattern_within_1_bit"].tolist() == [2, 2]
    assert (chosen["distance"] < 0).sum() == 1


@pytest.mark.parametrize(
    "case",
    [
        {
            "description": "everything above the lowest threshold is called a match",
            "weights": [3.0, 2.0, 1.0],
            "labels": [True, False, True],
            "threshold": 0.0,
            "expected": (3, 2 / 3, 1.0),
        },
        {
            "description": "nothing called: precision is 1 by convention, recall 0",
            "weights": [3.0, 2.0],
            "labels": [True, True],
            "threshold": 10.0,
            "expected": (0, 1.0, 0.0),
        },
        {
            "description": "unlabelled pairs are left out",
            "weights": [3.0, 2.0, 1.0],
            "labels": [True, None, False],
            "threshold": 1.5,
            "expected": (1, 1.0, 1.0),
        },
        {
            "description": "a pair exactly at the threshold is called a match",
            "weights": [2.0, 1.0],
            "labels": [True, True],
            "threshold": 2.0,
            "expected": (1, 1.0, 0.5),
        },
    ],
    ids=lambda c: c["description"],
)
def test_threshold_curve(case):
    row = threshold_curve(case["weights"], case["labels"], [case["threshold"]]).iloc[0]
    assert (row["pairs_above"], row["precision"], row["recall"]) == pytest.approx(case["expected"])


def test_recall_never_rises_with_the_threshold():
    rng = np.random.default_rng(1)
    weights = rng.normal(0, 8, 500)
    labels = rng.random(500) < 1 / (1 + np.exp2(-weights))
    curve = threshold_curve(weights, labels)
    assert (np.diff(curve["recall"]) <= 1e-12).all()
    assert (np.diff(curve["pairs_above"]) <= 0).all()


def test_cli_writes_the_report_and_flags_a_changed_table(workspace, tmp_path):
    copy = tmp_path / "ws"
    shutil.copytree(workspace / "ws", copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["tables"]["pairs"]["sha256"] = "0" * 64
    (copy / "manifest.json").write_text(json.dumps(manifest))
    out = tmp_path / "nested" / "quality.html"
    result = CliRunner().invoke(
        report_command, ["--workspace", str(copy), "--out", str(out), "--sample", "0"]
    )
    assert result.exit_code == 0, result.output
    assert str(out) in result.output
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert "tables that do not match the manifest: pairs" in text
    assert 'id="evaluation"' not in text  # no truth given, no evaluation


def test_cli_mistakes_are_kinlink_errors_in_one_line(workspace, tmp_path):
    result = CliRunner().invoke(report_command, ["--workspace", str(tmp_path / "empty")])
    assert isinstance(result.exception, WorkspaceError)
    result = CliRunner().invoke(
        report_command,
        ["--workspace", str(workspace / "ws"), "--truth", str(tmp_path / "missing.parquet")],
    )
    assert isinstance(result.exception, KinlinkError) and "not found" in str(result.exception)
    assert "\n" not in str(result.exception)
    result = CliRunner().invoke(
        report_command,
        ["--workspace", str(workspace / "ws"), "--truth-families", str(tmp_path / "families.parquet")],
    )
    assert isinstance(result.exception, KinlinkError) and "need --truth" in str(result.exception)


def test_doctests():
    import doctest

    import kinlink.report

    failures, tried = doctest.testmod(kinlink.report, optionflags=doctest.ELLIPSIS)
    assert tried >= 5 and failures == 0
