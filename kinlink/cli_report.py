"""`kinlink report`: the linkage quality report of a workspace, as one HTML file.

Registered on the main group with ``cli.add_command(report)``. Errors are kinlink's own
(:class:`~ingest.errors.KinlinkError`), so ``kinlink.cli.main`` turns them into one line.
"""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["report"]

_FILE = click.Path(dir_okay=False, path_type=Path)


@click.command()
@click.option(
    "--workspace",
    "-w",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Workspace folder to report on (after `kinlink link`, ideally `kinlink families` too).",
)
@click.option(
    "--out", "-o", type=_FILE, default=None, help="HTML file to write. Default: WORKSPACE/report.html."
)
@click.option(
    "--truth",
    type=_FILE,
    default=None,
    help="Ground truth: Parquet or CSV with source, source_record_id, person_id.",
)
@click.option(
    "--truth-relationships",
    type=_FILE,
    default=None,
    help="Also score relationships: person_id_from, person_id_to, relationship_type (needs --truth).",
)
@click.option(
    "--truth-families",
    type=_FILE,
    default=None,
    help="Also score families: family_id, person_id (and role) (needs --truth).",
)
@click.option(
    "--sample",
    type=click.IntRange(min=0, max=40),
    default=8,
    show_default=True,
    help="Near-threshold comparison patterns to explain.",
)
def report(
    workspace: Path,
    out: Path | None,
    truth: Path | None,
    truth_relationships: Path | None,
    truth_families: Path | None,
    sample: int,
) -> None:
    """Write the linkage quality report: one self-contained HTML file.

    Counts per source and quarantine reasons, candidate pairs per blocking rule, m and u per
    comparison level, the match-weight histogram with the threshold, cluster sizes,
    relationships, families, pairs near the threshold explained term by term and, with
    --truth, evaluation against ground truth. It holds no names, dates of birth or
    identifiers.
    """
    from kinlink.report import write_report

    path = write_report(
        workspace,
        out,
        truth=truth,
        truth_relationships=truth_relationships,
        truth_families=truth_families,
        sample_size=sample,
    )
    click.echo(f"wrote the linkage quality report to {path}")
