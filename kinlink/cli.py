"""The `kinlink` command: one sub-command per stage, and `run` for the whole job.

This module is the only place that parses arguments or prints. A user's mistake
(a :class:`~ingest.errors.KinlinkError`) ends with one line on stderr and exit code 1.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from ingest.canonicalise import SourceCounts
from ingest.errors import KinlinkError
from ingest.schema import describe
from kinlink import __version__
from kinlink.paths import config_path

console = Console(stderr=True)
stdout = Console()
log = logging.getLogger("kinlink")

_WORKSPACE = click.option(
    "--workspace",
    "-w",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Workspace folder the stage reads from and writes to.",
)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="kinlink")
@click.option("--verbose", "-v", is_flag=True, help="Log more detail (never personal data).")
def cli(verbose: bool) -> None:
    """kinlink: link agency records into people and families, and draw Family Summary Records.

    Each stage reads and writes a workspace folder of Parquet tables; `kinlink run -c
    PIPELINE.yaml` runs them all.
    """
    _setup_logging(verbose)
    from linkage.allocator import tune_allocator  # here, not at import: `kinlink --help` stays quick

    tune_allocator()


@cli.command()
@click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write the agency extracts (and truth/ beside them) into.",
)
@click.option(
    "--people",
    "-n",
    type=click.IntRange(min=10),
    default=2000,
    show_default=True,
    help="Approximate number of people in the synthetic local authority.",
)
@click.option("--seed", type=int, default=42, show_default=True, help="Random seed; same seed, same files.")
def synth(out: Path, people: int, seed: int) -> None:
    """Generate a synthetic local authority and its agency extracts, with ground truth.

    The extracts come in the formats, encodings and quirks real agencies send; the truth
    (record to person, person to family, relationships) is written apart under OUT/truth/.
    """
    from kinlink.synth import synthesise

    with console.status("generating synthetic population and extracts"):
        summary = synthesise(out, n_people=people, seed=seed)
    table = Table(title=f"synthetic local authority: {summary.people:,} people, seed {seed}")
    for col in ("source", "file", "rows", "person-records"):
        table.add_column(col, justify="left" if col in ("source", "file") else "right")
    for source, path in summary.files.items():
        if source in summary.rows:
            table.add_row(
                source,
                str(Path(path).name),
                f"{summary.rows[source]:,}",
                f"{summary.records.get(source, 0):,}",
            )
    stdout.print(table)
    stdout.print(f"wrote extracts to {out}/ and the ground truth to {out}/truth/ ({summary.seconds:.1f}s)")


_WHO = click.option(
    "--who",
    envvar="KINLINK_WHO",
    default=None,
    help="Who is producing the records (e.g. a staff id), for the audit log. "
    "Default: $KINLINK_WHO, else your login name.",
)


def _ingest_table(counts: dict[str, SourceCounts]) -> Table:
    table = Table(title="ingest: rows read = accepted + quarantined, per source")
    for col in (
        "source",
        "rows read",
        "accepted",
        "quarantined",
        "records",
        "events",
        "relationships",
        "items quarantined",
    ):
        table.add_column(col, justify="left" if col == "source" else "right")
    for name, c in counts.items():
        ok = "" if c.rows_read == c.rows_accepted + c.rows_quarantined else " !"
        table.add_row(
            name,
            f"{c.rows_read:,}{ok}",
            f"{c.rows_accepted:,}",
            f"{c.rows_quarantined:,}",
            f"{c.records:,}",
            f"{c.events:,}",
            f"{c.stated_relationships:,}",
            f"{c.items_quarantined:,}",
        )
    return table


def _progress_callback(total: int) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("[bold]ingest[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    task = progress.add_task("sources", total=total)

    def on_source(name: str, counts: SourceCounts) -> None:
        progress.update(task, advance=1, description=f"{name}: {counts.rows_read:,} rows")

    return progress, on_source


@cli.command()
@click.option(
    "--data",
    "-d",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder holding the agency extracts the mappings name.",
)
@_WORKSPACE
@click.option(
    "--sources",
    "-s",
    type=click.Path(path_type=Path),
    multiple=True,
    help="Mapping file or folder of mappings (repeatable). Default: the shipped config/sources.",
)
@click.option(
    "--vocabulary",
    type=click.Path(dir_okay=False, path_type=Path),
    default=config_path("interventions.yaml"),
    show_default=False,
    help="Intervention vocabulary. Default: the shipped config/interventions.yaml.",
)
def ingest(data: Path, workspace: Path, sources: tuple[Path, ...], vocabulary: Path) -> None:
    """Read every agency extract through its mapping into the canonical tables.

    Writes records, events, stated_relationships and quarantine to the workspace as
    Parquet, with manifest.json. Every row read is either accepted or quarantined with a reason.
    """
    from ingest.sources import load_mappings
    from kinlink.pipeline import run_ingest
    from kinlink.workspace import Workspace

    source_paths = sources or (config_path("sources"),)
    n = len(load_mappings(source_paths))
    progress, on_source = _progress_callback(n)
    with progress:
        result = run_ingest(data, Workspace(workspace), source_paths, vocabulary, on_source=on_source)
    stdout.print(_ingest_table(dict(result.counts)))
    stdout.print(f"wrote {len(result.records):,} records to {workspace}/")


def _link_summary(result: Any) -> Table:
    f = result.facts
    table = Table(title="link: records into people")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for label, value in (
        ("records", f"{f['records']:,}"),
        ("distinct records (identical rows of one source collapsed)", f"{f['distinct_records']:,}"),
        ("candidate pairs", f"{f['candidate_pairs']:,}"),
        ("pairs at or above the threshold", f"{f['pairs_above_threshold']:,}"),
        ("hard conflicts (never linked)", f"{f['hard_conflicts']:,}"),
        ("people", f"{f['people']:,}"),
        ("groups re-examined for cannot-link pairs", f"{f['components_reexamined']:,}"),
        (
            "person ids merged / split since the last run",
            f"{f['id_merges']:,} / {f['id_splits']:,}",
        ),
        (
            "EM iterations (converged)",
            f"{f['em_iterations']} ({'yes' if f['em_converged'] else 'no'})",
        ),
    ):
        table.add_row(label, value)
    return table


@cli.command()
@_WORKSPACE
@click.option(
    "--settings",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Linkage settings YAML. Default: the shipped config/linkage.yaml.",
)
@click.option(
    "--model",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A trained model (e.g. an earlier workspace's linkage_model.json), used without retraining.",
)
@click.option(
    "--seed",
    type=int,
    default=42,
    show_default=True,
    help="Seed for the random pairs that start EM.",
)
@click.option(
    "--labels",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Labelled pairs (CSV or Parquet: record_key_l, record_key_r, match): m from the labelled "
    "matches instead of EM.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "spark"]),
    default="local",
    show_default=True,
    help="Where the pair-level work runs: in this process, or on Spark (install the spark extra).",
)
def link(
    workspace: Path, settings: Path | None, model: Path | None, seed: int, labels: Path | None, engine: str
) -> None:
    """Resolve the workspace's records into people (Fellegi-Sunter, EM-trained, unsupervised).

    Writes pairs, person_index, persons and person_id_changes, and the trained model as
    linkage_model.json. Person ids from an earlier run in the same workspace are kept
    unless the evidence changed; merges and splits are listed in person_id_changes.
    """
    from kinlink.pipeline import run_link
    from kinlink.workspace import Workspace

    if settings is not None and model is not None:
        raise click.UsageError("give --settings or --model, not both")
    with console.status("link: starting") as status:
        result = run_link(
            Workspace(workspace),
            settings,
            model=model,
            seed=seed,
            progress=lambda msg: status.update(f"link: {msg}"),
            labels=labels,
            engine=engine,
        )
    stdout.print(_link_summary(result))
    stdout.print(f"wrote person_index, persons and pairs to {workspace}/")


def _families_summary(result: Any) -> Table:
    f = result.facts
    table = Table(title="families: people into families")
    table.add_column("measure")
    table.add_column("value", justify="right")
    by_type = ", ".join(f"{k} {v:,}" for k, v in f["relationships_by_type"].items())
    conflicts = ", ".join(f"{k} {v:,}" for k, v in f["relationship_conflicts"].items()) or "none"
    for label, value in (
        ("relationships", f"{f['relationships']:,}"),
        ("  by type", by_type),
        ("relationships rejected (rule: count)", conflicts),
        ("households", f"{f['households']:,}"),
        (
            "children (under 18 since the window start)",
            f"{f['children']:,}  (window from {f['window_start']})",
        ),
        ("families", f"{f['families']:,}  ({f['family_members']:,} memberships)"),
        (
            "family ids merged / split since the last run",
            f"{f['family_id_merges']:,} / {f['family_id_splits']:,}",
        ),
        ("interventions (from events)", f"{f['interventions']:,}  (from {f['events']:,})"),
    ):
        table.add_row(label, value)
    return table


@cli.command()
@_WORKSPACE
@click.option(
    "--settings",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Families settings YAML. Default: the shipped config/families.yaml.",
)
@click.option(
    "--vocabulary",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Intervention vocabulary. Default: the shipped config/interventions.yaml.",
)
def families(workspace: Path, settings: Path | None, vocabulary: Path | None) -> None:
    """Resolve the workspace's people into relationships and families.

    Reads what `ingest` and `link` wrote; writes households, relationships (typed,
    dated, with evidence and confidence), relationship_conflicts (what the plausibility
    rules rejected, and why), families (members with roles and households),
    family_id_changes and interventions (events per person, one row per episode).
    """
    from kinlink.pipeline import run_families
    from kinlink.workspace import Workspace

    with console.status("families: starting") as status:
        result = run_families(
            Workspace(workspace), settings, vocabulary, progress=lambda msg: status.update(f"families: {msg}")
        )
    stdout.print(_families_summary(result))
    stdout.print(f"wrote relationships, families and interventions to {workspace}/")


def _family_progress(total: int) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("[bold]fsr[/] families"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    task = progress.add_task("families", total=total)
    return progress, lambda _family: progress.update(task, advance=1)


def _run_summary(summary: Any) -> Table:
    """The run in one table: what went in, what came out, how long each stage took."""
    import json as _json

    manifest = _json.loads((summary.workspace / "manifest.json").read_text())
    stages = manifest.get("stages", {})
    tables = manifest.get("tables", {})

    def rows(name: str) -> str:
        return f"{tables[name]['rows']:,}" if name in tables else "–"

    totals = stages.get("ingest", {}).get("totals", {})
    table = Table(title=f"run summary: {summary.workspace}")
    for col in ("stage", "in", "out", "time"):
        table.add_column(col, justify="left" if col == "stage" else "right")

    def took(stage: str) -> str:
        if stage in summary.reused:
            return "reused"
        return f"{summary.stage_seconds[stage]:.1f} s" if stage in summary.stage_seconds else "not run"

    fsr = stages.get("fsr", {})
    table.add_row(
        "ingest",
        f"{totals.get('rows_read', 0):,} rows",
        f"{rows('records')} records, {totals.get('rows_quarantined', 0):,} rows quarantined",
        took("ingest"),
    )
    table.add_row("link", f"{rows('records')} records", f"{rows('persons')} people", took("link"))
    table.add_row(
        "families",
        f"{rows('persons')} people",
        f"{rows('relationships')} relationships, "
        f"{stages.get('families', {}).get('facts', {}).get('families', 0):,} families",
        took("families"),
    )
    table.add_row(
        "fsr", f"{fsr.get('families', 0):,} families", f"{fsr.get('files', 0):,} files", took("fsr")
    )
    return table


def _fsr_line(summary: Any) -> str:
    rate = summary.families / summary.seconds if summary.seconds else 0.0
    return (
        f"wrote {summary.files:,} file(s) for {summary.families:,} families to {summary.folder}/ "
        f"in {summary.seconds:.1f} s ({rate:.1f} families/s)"
    )


@cli.command()
@_WORKSPACE
@click.option("--role", required=True, help="Who the records are for (a role in config/access.yaml).")
@click.option("--purpose", required=True, help="Why (a purpose the role may use, in config/access.yaml).")
@click.option("--family", "family_ids", multiple=True, help="A family id; repeat for several.")
@click.option(
    "--families",
    "selection",
    type=click.Choice(["all", "involved"]),
    default=None,
    help="Every family, or those where a member has a statutory intervention.",
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(["pdf", "svg", "png", "dot", "json", "ged"]),
    default=("pdf",),
    show_default=True,
    help="Output format; repeat for several (svg/png: the genogram alone; json: the family graph; "
    "ged: GEDCOM 7, family structure only).",
)
@click.option("--subject", default=None, help="person_id of the subject child (one family only).")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Processes (default: one per core).")
@click.option(
    "--produced",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Production date printed on each page (default: today).",
)
@click.option(
    "--policy",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Access policy. Default: the shipped config/access.yaml.",
)
@_WHO
def fsr(
    workspace: Path,
    role: str,
    purpose: str,
    family_ids: tuple[str, ...],
    selection: str | None,
    formats: tuple[str, ...],
    subject: str | None,
    jobs: int | None,
    produced: Any,
    policy: Path | None,
    who: str | None,
) -> None:
    """Write Family Summary Records: one PDF per family, redacted for ROLE and PURPOSE.

    Give families with --family (repeatable) or --families all|involved. Files go to
    WORKSPACE/fsr/ROLE/FAMILY_ID.pdf (and .svg, .png, .dot, .json, .ged with --format).
    The access policy is checked before any data is read; every output is drawn from the
    data redacted for the role.
    """
    from kinlink.pipeline import run_fsr, select_families
    from kinlink.workspace import Workspace

    if bool(family_ids) == bool(selection):
        raise click.UsageError("give --family (one or more) or --families all|involved, not both")
    if subject is not None and len(family_ids) != 1:
        raise click.UsageError("--subject needs exactly one --family")
    ws = Workspace(workspace)
    chosen = list(family_ids) if family_ids else select_families(ws, selection or "all")
    progress, on_family = _family_progress(len(chosen))
    with progress:
        summary = run_fsr(
            ws,
            chosen,
            role=role,
            purpose=purpose,
            formats=formats,
            produced=produced.date() if produced else None,
            subject=subject,
            jobs=jobs,
            policy=policy,
            on_family=on_family,
            who=who,
        )
    stdout.print(_fsr_line(summary))


@cli.command()
@_WORKSPACE
@click.option(
    "--truth",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Ground truth: Parquet or CSV with source, source_record_id, person_id.",
)
@click.option(
    "--truth-relationships",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also score relationships: Parquet or CSV with person_id_from, person_id_to, relationship_type.",
)
@click.option(
    "--truth-families",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also score families: Parquet or CSV with family_id, person_id (and role).",
)
@click.option(
    "--blocking",
    is_flag=True,
    help="Also show each blocking rule's pairs and the true matches it finds (pairs completeness).",
)
def evaluate(
    workspace: Path,
    truth: Path,
    truth_relationships: Path | None,
    truth_families: Path | None,
    blocking: bool,
) -> None:
    """Score the workspace against ground truth.

    People: pairwise, cross-source and B-cubed precision/recall/F1 of person_index.
    With --blocking: per blocking rule, its candidate pairs, the true matches among them
    and the pairs completeness of the rules so far. With --truth-relationships and
    --truth-families (after `kinlink families`): relationship precision and recall by
    kind, and family best-match Jaccard.
    """
    import pandas as pd

    from kinlink.workspace import Workspace
    from linkage.evaluate import evaluate as score

    truth_table = pd.read_parquet(truth) if truth.suffix == ".parquet" else pd.read_csv(truth, dtype=str)
    missing = {"source", "source_record_id", "person_id"} - set(truth_table.columns)
    if missing:
        raise click.UsageError(f"the truth table lacks column(s) {sorted(missing)}")
    truth_table = truth_table.dropna(subset=["source_record_id", "person_id"])
    truth_table = truth_table.assign(record_key=truth_table["source"] + ":" + truth_table["source_record_id"])
    result = score(Workspace(workspace).read_frame("person_index"), truth_table[["record_key", "person_id"]])
    table = Table(title=f"evaluation against {truth.name}")
    for col in ("measure", "precision", "recall", "F1"):
        table.add_column(col, justify="left" if col == "measure" else "right")
    for name, key in (
        ("pairwise", "pairwise"),
        ("pairwise, across sources", "cross_source"),
        ("B-cubed", "bcubed"),
    ):
        r = result[key]
        table.add_row(name, f"{r['precision']:.4f}", f"{r['recall']:.4f}", f"{r['f1']:.4f}")
    stdout.print(table)
    sm = result["split_merge"]
    stdout.print(
        f"true people split over several ids: {sm['true_people_split']:,}; "
        f"ids holding several true people (wrong merges): {sm['predicted_people_merged']:,}"
    )
    if blocking:
        _evaluate_blocking(Workspace(workspace), truth_table[["record_key", "person_id"]])
    if truth_relationships is not None or truth_families is not None:
        _evaluate_families(Workspace(workspace), truth_table, truth_relationships, truth_families)


def _evaluate_blocking(ws: Any, truth: Any) -> None:
    from kinlink.pipeline import MODEL_FILE
    from linkage.evaluate_blocking import blocking_completeness
    from linkage.settings import LinkageSettings

    model = ws.path / MODEL_FILE
    settings = LinkageSettings.load(model if model.exists() else None)
    stated = ws.read_frame("stated_relationships") if ws.has_table("stated_relationships") else None
    counts = blocking_completeness(ws.read_frame("records"), truth, settings, stated)
    table = Table(title=f"blocking: pairs completeness against {counts.attrs['true_pairs']:,} true pairs")
    table.add_column("rule", no_wrap=True)
    for col in ("pairs", "new", "true", "new true", "complete"):
        table.add_column(col, justify="right")
    for row in counts.itertuples(index=False):
        table.add_row(
            str(row.rule),
            f"{row.pairs:,}",
            f"{row.new_pairs:,}",
            f"{row.true_pairs:,}",
            f"{row.new_true_pairs:,}",
            f"{row.completeness:.4f}",
        )
    stdout.print(table)
    stdout.print(
        "new: not made (true: not found) by an earlier rule; complete: share of the true pairs the "
        "rules so far find. Pairs between distinct records: records identical in every compared "
        "field are one record to the linker and need no rule."
    )


def _read_truth(path: Path, columns: set[str]) -> Any:
    import pandas as pd

    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, dtype=str)
    missing = columns - set(frame.columns)
    if missing:
        raise click.UsageError(f"{path.name} lacks column(s) {sorted(missing)}")
    return frame


def _evaluate_families(
    ws: Any, truth_records: Any, relationships: Path | None, families: Path | None
) -> None:
    import pandas as pd

    from linkage.evaluate_families import evaluate_families

    for needed in ("relationships", "families"):
        if not ws.has_table(needed):
            raise click.UsageError(f"{ws.path} has no {needed} table; run `kinlink families` first")
    true_rel = (
        _read_truth(relationships, {"person_id_from", "person_id_to", "relationship_type"})
        if relationships is not None
        else pd.DataFrame(columns=["person_id_from", "person_id_to", "relationship_type"])
    )
    true_fam = (
        _read_truth(families, {"family_id", "person_id"})
        if families is not None
        else pd.DataFrame(columns=["family_id", "person_id"])
    )
    result = evaluate_families(
        ws.read_frame("person_index"),
        ws.read_frame("relationships"),
        ws.read_frame("families"),
        truth_records,
        true_rel,
        true_fam,
        ws.read_frame("stated_relationships") if ws.has_table("stated_relationships") else None,
    )
    if relationships is not None:
        table = Table(title=f"relationships against {relationships.name}")
        for col in ("kind", "inferred", "true", "precision", "recall", "recall (stated)"):
            table.add_column(col, justify="left" if col == "kind" else "right")
        for row in result.relationships.itertuples():
            table.add_row(
                str(row.kind),
                f"{row.inferred:,}",
                f"{row.true_in_data:,}",
                f"{row.precision:.4f}",
                f"{row.recall:.4f}",
                f"{row.recall_stated:.4f} of {row.true_stated:,}",
            )
        stdout.print(table)
        stdout.print(
            "recall (stated): over true relationships whose two people some source relates; "
            "true: between people in the data"
        )
    if families is not None:
        stdout.print(
            f"families: {result.families_true:,} true (in the data), {result.families_inferred:,} inferred; "
            f"mean best-match Jaccard {result.mean_best_jaccard:.4f}, exact {result.exact_share:.1%}; "
            f"children and parents only: {result.core_mean_best_jaccard:.4f}, "
            f"exact {result.core_exact_share:.1%}"
        )


@cli.command()
@_WORKSPACE
@click.argument("record_a")
@click.argument("record_b")
@click.option(
    "--chart",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also draw the waterfall chart to this PNG or SVG file.",
)
@_WHO
def explain(workspace: Path, record_a: str, record_b: str, chart: Path | None, who: str | None) -> None:
    """Explain the match weight of two records (by record_key), field by field.

    Shows levels and weights, never the values compared; entered in the audit log.
    """
    from kinlink.pipeline import MODEL_FILE
    from kinlink.workspace import Workspace
    from linkage import LinkageSettings
    from linkage.explain import explain_pair, waterfall_chart

    ws = Workspace(workspace)
    model = ws.path / MODEL_FILE
    if not model.exists():
        raise click.UsageError(f"{workspace} has no trained model yet; run `kinlink link` first")
    stated = ws.read_frame("stated_relationships") if ws.has_table("stated_relationships") else None
    people = ws.read_frame("person_index") if ws.has_table("person_index") else None
    table = explain_pair(
        ws.read_frame("records"), LinkageSettings.load(model), record_a, record_b, stated, people
    )
    from kinlink import audit
    from kinlink.pipeline import _login_name

    ids = people.set_index("record_key")["person_id"] if people is not None else None
    audit.append(
        ws.path,
        who=who or _login_name(),
        role="analyst",
        purpose="linkage_review",
        action="explain",
        person_ids=sorted({str(ids[k]) for k in (record_a, record_b) if ids is not None and k in ids.index}),
    )
    view = Table(title="match weight, term by term")
    for col in ("term", "level", "weight", "running total", "probability"):
        view.add_column(col, justify="left" if col in ("term", "level") else "right")
    for row in table.itertuples():
        view.add_row(
            str(row.term),
            str(row.level),
            f"{row.weight:+.2f}",
            f"{row.cumulative:+.2f}",
            f"{row.probability:.4f}",
        )
    stdout.print(view)
    if table.attrs.get("hard_conflict"):
        stdout.print("hard conflict: these two records are never put in one person")
    if chart is not None:
        stdout.print(f"chart: {waterfall_chart(table, chart)}")


@cli.command("run")
@click.option(
    "--config",
    "-c",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Pipeline YAML (see config/pipeline.yaml).",
)
@click.option("--force", is_flag=True, help="Run every stage, even one whose inputs have not changed.")
@_WHO
def run_cmd(config_file: Path, force: bool, who: str | None) -> None:
    """Run the whole job the pipeline config describes, stage by stage.

    A stage whose inputs, configuration and kinlink version are unchanged since its last
    run in the workspace is reused, not run again (--force runs it anyway).
    """
    from ingest.sources import load_mappings
    from kinlink.pipeline import load_pipeline, run

    config = load_pipeline(config_file)
    progress, on_source = _progress_callback(len(load_mappings(config.sources)))
    rendered = 0

    def on_family(_family: str) -> None:
        nonlocal rendered
        rendered += 1
        if rendered % 10 == 0:
            progress.console.print(f"[dim]fsr:[/] {rendered:,} families", highlight=False)

    with progress:
        summary = run(
            config,
            on_source=on_source,
            on_step=lambda msg: progress.console.print(f"[dim]step:[/] {msg}", highlight=False),
            on_family=on_family,
            force=force,
            who=who,
        )
    if summary.ingest is not None:
        stdout.print(_ingest_table(dict(summary.ingest.counts)))
    if summary.link is not None:
        stdout.print(_link_summary(summary.link))
    if summary.families is not None:
        stdout.print(_families_summary(summary.families))
    if summary.fsr is not None:
        stdout.print(_fsr_line(summary.fsr))
    stdout.print(_run_summary(summary))


@cli.command()
def schema() -> None:
    """Print the canonical tables and their columns (Markdown)."""
    stdout.print(describe(), markup=False, highlight=False)


def _register_extra_commands() -> None:
    """Commands kept in their own modules (report, governance), added to the one `kinlink` group."""
    from kinlink.cli_governance import audit, dpia, export
    from kinlink.cli_report import report

    for command in (report, audit, dpia, export):
        cli.add_command(command)


_register_extra_commands()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning kinlink's own errors into one clear line."""
    try:
        cli.main(args=argv, prog_name="kinlink", standalone_mode=False)
    except KinlinkError as exc:
        sys.stderr.write(f"kinlink: error: {exc}\n")
        return 1
    except click.exceptions.Abort:
        sys.stderr.write("kinlink: aborted\n")
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except Exception as exc:  # a bug: say so without echoing data that may be personal
        if log.isEnabledFor(logging.DEBUG):
            raise
        sys.stderr.write(
            f"kinlink: internal error ({type(exc).__name__}); run again with --verbose for the traceback, "
            "and report it without the data\n"
        )
        return 3
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
