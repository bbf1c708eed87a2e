"""Information-governance commands: ``kinlink audit verify``, ``kinlink dpia``, ``kinlink export``.

Each is a click command the main group registers (``cli.add_command(audit)`` and so on).
They print only counts, ids kinlink made, hashes and paths; a user's mistake or a tampered
audit log is a :class:`~ingest.errors.KinlinkError`, which ``kinlink`` turns into one line
on stderr and exit code 1.
"""

from __future__ import annotations

from pathlib import Path

import click

from kinlink.paths import config_path

__all__ = ["audit", "dpia", "export"]

_WORKSPACE = click.option(
    "--workspace",
    "-w",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Workspace folder.",
)


@click.group("audit")
def audit() -> None:
    """The workspace's tamper-evident audit log of FSRs and exports (WS/audit.jsonl)."""


@audit.command("verify")
@_WORKSPACE
@click.option(
    "--head",
    default=None,
    help="A head hash recorded earlier (outside the workspace): the log must still hold that entry, "
    "so entries cut from its end are caught too.",
)
def verify(workspace: Path, head: str | None) -> None:
    """Check the audit log's hash chain: exit 0 when intact, 1 naming the first bad line.

    Prints the number of entries and the head hash; keep the head somewhere the workspace's
    users cannot write, and give it to --head next time.
    """
    from kinlink.audit import AUDIT_FILE, AuditError
    from kinlink.audit import verify as check_log

    check = check_log(workspace / AUDIT_FILE, head=head)
    if not check.ok:
        raise AuditError(f"{workspace / AUDIT_FILE}: {check.message}")
    click.echo(check.message)


@click.command("dpia")
@click.option(
    "--config",
    "-c",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=config_path("pipeline.yaml"),
    show_default="config/pipeline.yaml",
    help="Pipeline YAML whose sources, vocabulary and access policy are described.",
)
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the Markdown to this file instead of printing it.",
)
def dpia(config_file: Path, out: Path | None) -> None:
    """Describe what the configured run processes, as Markdown: a starting point for a DPIA.

    Sources and the canonical fields their columns become, special category and criminal
    offence data, children and victims, roles and purposes of the access policy, and what
    the workspace keeps. Reads configuration only, never data.
    """
    from kinlink.dpia import describe_processing
    from kinlink.pipeline import load_pipeline

    text = describe_processing(load_pipeline(config_file), source=config_file)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}")


@click.command("export")
@_WORKSPACE
@click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder (outside the workspace) for the pseudonymised tables; made owner-only.",
)
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File holding the pseudonymisation key (mode 600). Default: $KINLINK_PSEUDONYM_KEY.",
)
@click.option(
    "--dates",
    type=click.Choice(["keep", "month", "year"]),
    default="month",
    show_default=True,
    help="Keep dates, or cut them to the month (YYYY-MM) or year.",
)
@click.option("--who", required=True, help="Who is exporting (e.g. your staff id), for the audit log.")
@click.option(
    "--purpose", required=True, help="Why, as a short key (e.g. referral_patterns), for the audit log."
)
def export(workspace: Path, out: Path, key_file: Path | None, dates: str, who: str, purpose: str) -> None:
    """Write pseudonymised persons, relationships, families and interventions for analysts.

    Ids become keyed tokens (HMAC-SHA256; the same key gives the same tokens in every
    export), names, identifiers, addresses and practitioners are dropped, and dates are
    coarsened. Each table is written as Parquet and as CSV (cells that a spreadsheet would
    run as formulas are neutralised), with export.json describing what was done. The
    export is recorded in the workspace's audit log before anything is written.
    """
    from kinlink import audit as audit_log
    from kinlink.pseudonymise import EXPORT_SPECS, check_export, export_tables, load_key
    from kinlink.workspace import Workspace

    key = load_key(key_file)
    ws = Workspace(workspace)
    check_export(ws, out)
    withheld = {
        "columns dropped": sum(len(s.drop) for s in EXPORT_SPECS),
        "columns tokenised": sum(len(s.columns_to_token) for s in EXPORT_SPECS),
    }
    audit_log.append(ws.path, who=who, role="analyst", purpose=purpose, action="export", withheld=withheld)
    summary = export_tables(ws, out, key=key, dates=dates)
    rows = ", ".join(f"{table} {n:,}" for table, n in summary.rows.items())
    click.echo(f"wrote {len(summary.files)} files to {summary.folder}/ ({rows}; key id {summary.key_id})")
