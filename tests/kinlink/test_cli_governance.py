"""`kinlink audit verify`, `kinlink dpia` and `kinlink export`, run through kinlink's own entry point."""

from __future__ import annotations

import json
import stat

import pytest

from kinlink import cli as cli_module
from kinlink.audit import AUDIT_FILE, append, verify
from kinlink.cli_governance import audit, dpia, export
from kinlink.paths import config_path
from kinlink.pseudonymise import KEY_ENV
from kinlink.workspace import Workspace
from tests.genogram.family_fixture import family_tables

KEY = "5f0c2b7e9a41d3886c1e0f4b2a97d6e3c8b1f05a7e2d4c9b6a3f8e1d0c7b2a95"


@pytest.fixture
def kinlink(monkeypatch, capsys):
    """``kinlink ARGS...`` in-process, with the governance commands registered as cli.py will."""
    for command in (audit, dpia, export):
        monkeypatch.setitem(cli_module.cli.commands, command.name, command)

    def run(*args: str) -> tuple[int, str, str]:
        code = cli_module.main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_the_commands_have_the_names_cli_py_registers():
    assert (audit.name, dpia.name, export.name) == ("audit", "dpia", "export")
    assert "verify" in audit.commands


def test_audit_verify_exits_0_when_intact_and_1_with_one_line_when_tampered(kinlink, tmp_path):
    for n in range(3):
        append(
            tmp_path,
            who="sw1",
            role="school",
            purpose="safeguarding_assessment",
            action="fsr",
            family_id=f"F{n}",
        )
    code, out, err = kinlink("audit", "verify", "--workspace", str(tmp_path))
    head = verify(tmp_path / AUDIT_FILE).head
    assert (code, err) == (0, "")
    assert out == f"audit log intact: 3 entries, head {head}\n"
    log = tmp_path / AUDIT_FILE
    log.write_bytes(log.read_bytes().replace(b'"family_id":"F1"', b'"family_id":"F9"'))
    code, out, err = kinlink("audit", "verify", "--workspace", str(tmp_path))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "line 2" in err and err.startswith("kinlink: error: ")


def test_audit_verify_against_a_recorded_head_catches_a_cut_log(kinlink, tmp_path):
    for n in range(3):
        append(
            tmp_path,
            who="sw1",
            role="school",
            purpose="safeguarding_assessment",
            action="fsr",
            family_id=f"F{n}",
        )
    head = verify(tmp_path / AUDIT_FILE).head
    log = tmp_path / AUDIT_FILE
    log.write_bytes(b"".join(log.read_bytes().splitlines(keepends=True)[:2]))
    code, _, err = kinlink("audit", "verify", "--workspace", str(tmp_path), "--head", head)
    assert code == 1 and "cut short" in err


def test_audit_verify_without_a_log_is_one_line(kinlink, tmp_path):
    code, _, err = kinlink("audit", "verify", "--workspace", str(tmp_path))
    assert code == 1 and err.startswith("kinlink: error: no audit log") and err.count("\n") == 1


def test_dpia_prints_markdown_and_writes_it_to_a_file(kinlink, tmp_path):
    code, out, err = kinlink("dpia")
    assert code == 0, err
    assert out.startswith("# Data protection impact assessment")
    assert "### `police_da`" in out and "`mash_social_worker`" in out
    code, out, _ = kinlink(
        "dpia", "-c", str(config_path("pipeline.yaml")), "--out", str(tmp_path / "dpia.md")
    )
    assert code == 0 and (tmp_path / "dpia.md").read_text().startswith("# Data protection")


def test_dpia_of_a_missing_config_is_one_line(kinlink, tmp_path):
    code, _, err = kinlink("dpia", "-c", str(tmp_path / "nope.yaml"))
    assert code == 1 and "pipeline config not found" in err


@pytest.fixture
def workspace(tmp_path):
    ws = Workspace(tmp_path / "ws")
    for name, frame in family_tables().items():
        ws.write_table(name, frame)
    return ws


def test_export_writes_private_files_and_an_audit_entry(kinlink, workspace, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    out = tmp_path / "out"
    args = ["export", "-w", str(workspace.path), "-o", str(out), "--who", "analyst 7"]
    code, stdout, err = kinlink(*args, "--purpose", "referral_patterns", "--dates", "year")
    assert code == 0, err
    assert f"to {out}/" in stdout and "persons 11" in stdout and KEY not in stdout
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in out.iterdir())
    entries = [json.loads(line) for line in (workspace.path / AUDIT_FILE).read_text().splitlines()]
    assert [(e["action"], e["who"], e["role"], e["purpose"]) for e in entries] == [
        ("export", "analyst 7", "analyst", "referral_patterns")
    ]
    assert entries[0]["withheld"]["columns dropped"] > 0


EXPORT_REFUSALS = [
    {"description": "no key", "env": None, "extra": [], "error": f"set {KEY_ENV}"},
    {"description": "a weak key", "env": "password" * 5, "extra": [], "error": "not random enough"},
    {
        "description": "a purpose that is not a key",
        "env": KEY,
        "extra": ["--purpose", "find Amy Smith's family"],
        "error": "purpose must be a short key",
    },
]


@pytest.mark.parametrize("case", EXPORT_REFUSALS, ids=[c["description"] for c in EXPORT_REFUSALS])
def test_export_refuses_in_one_line_before_writing_anything(kinlink, workspace, tmp_path, monkeypatch, case):
    if case["env"] is None:
        monkeypatch.delenv(KEY_ENV, raising=False)
    else:
        monkeypatch.setenv(KEY_ENV, case["env"])
    out = tmp_path / "out"
    extra = case["extra"] or ["--purpose", "referral_patterns"]
    code, _, err = kinlink("export", "-w", str(workspace.path), "-o", str(out), "--who", "a7", *extra)
    assert code == 1 and case["error"] in err and err.count("\n") == 1
    assert "Amy" not in err and "password" not in err
    assert not out.exists()
    assert not (workspace.path / AUDIT_FILE).exists()
