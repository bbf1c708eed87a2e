"""Render the benchmark store (``bench/results/linkage.json``) as ``bench/RESULTS.md``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATASET_ORDER = [
    "febrl1",
    "febrl2",
    "febrl3",
    "febrl4",
    "synthetic-100k",
    "synthetic-1m",
]
VARIANT_ORDER = ["kinlink", "splink", "recordlinkage-ecm", "recordlinkage-rules"]
VARIANT_NAMES = {
    "kinlink": "kinlink",
    "splink": "Splink (DuckDB, unsupervised)",
    "recordlinkage-ecm": "recordlinkage ECM",
    "recordlinkage-rules": "recordlinkage rules (sum > 3)",
}


def _number(value: Any) -> str:
    return "–" if value is None else f"{value:,}"


def _score(value: Any) -> str:
    return "–" if value is None else f"{value:.4f}"


def _seconds(value: Any) -> str:
    return "–" if value is None else f"{value:,.1f}"


def one_line(run: dict[str, Any]) -> str:
    """A console summary of one run, with no personal data."""
    name = VARIANT_NAMES.get(run["variant"], run["variant"])
    if run.get("status") != "ok":
        return f"{name}: {run.get('status')} {run.get('reason', '')}".rstrip()
    pairwise = run["scores"]["pairwise"]
    return (
        f"{name}: P {pairwise['precision']:.4f} R {pairwise['recall']:.4f} "
        f"F1 {pairwise['f1']:.4f}, {run['wall_s']:.1f} s, {run['peak_mb']:.0f} MB"
    )


def _row(run: dict[str, Any], cross_source: bool) -> str:
    name = VARIANT_NAMES.get(run["variant"], run["variant"])
    if run.get("status") != "ok":
        note = run.get("status", "")
        if run.get("reason"):
            note += f": {run['reason']}"
        cells = [name, _number(run.get("records"))] + ["–"] * 9 + [note.replace("|", "/")]
        return "| " + " | ".join(cells) + " |"
    scores = run["scores"]
    pairwise = scores["pairwise"]
    cells = [
        name,
        _number(run["records"]),
        _number(run.get("candidate_pairs")),
        _score(pairwise["precision"]),
        _score(pairwise["recall"]),
        _score(pairwise["f1"]),
        _score(scores["bcubed"]["f1"]),
        _score(scores["cross_source"]["f1"]) if cross_source else "–",
        _seconds(run.get("wall_s")),
        _seconds(run.get("tool_s")),
        _number(round(run["peak_mb"])) if run.get("peak_mb") is not None else "–",
        _notes(run),
    ]
    return "| " + " | ".join(cells) + " |"


def _notes(run: dict[str, Any]) -> str:
    split = run["scores"]["split_merge"]
    notes = [f"{split['true_people_split']:,} people split, {split['predicted_people_merged']:,} merged"]
    if "pair_scores" in run:
        notes.append(f"links F1 {run['pair_scores']['f1']:.4f}")
    return "; ".join(notes)


def render(store: dict[str, Any]) -> str:
    machine = store.get("machine", {})
    runs = store.get("runs", {})
    lines = [
        "# Linkage benchmark: kinlink, Splink, recordlinkage",
        "",
        "Written by `bench/linkage_bench.py` from `bench/results/linkage.json`; do not edit by",
        "hand, run the benchmark again. How to run it and what each figure means:",
        "`bench/README.md`.",
        "",
        "## Machine",
        "",
    ]
    if machine:
        versions = ", ".join(f"{k} {v}" for k, v in machine.get("versions", {}).items())
        lines += [
            f"- {machine.get('cores')} cores ({machine.get('cpu')}), "
            f"{machine.get('ram_gib')} GiB RAM, {machine.get('platform')}",
            f"- Python {machine.get('python')}; {versions}",
            f"- OPENBLAS_CORETYPE: {machine.get('openblas_coretype')} (left as the machine sets it)",
        ]
    commands: dict[str, str] = {}
    for run in runs.values():
        if run.get("command"):
            commands.setdefault(run["command"], run.get("date", ""))
    lines += ["", "## Commands that produced these figures", ""]
    for command, date in sorted(commands.items(), key=lambda item: item[1]):
        lines.append(f"- `{command}` ({date})")

    names = [n for n in DATASET_ORDER if n in store.get("datasets", {})]
    names += sorted(n for n in store.get("datasets", {}) if n not in DATASET_ORDER)
    for name in names:
        facts = store["datasets"][name]
        cross_source = facts.get("sources", 1) > 1
        lines += [
            "",
            f"## {name}",
            "",
            f"{facts['records']:,} records of {facts['true_people']:,} true people from "
            f"{facts['sources']} source(s), {facts['link_type'].replace('_', ' ')}; "
            f"made with {facts['made_with']}.",
            "",
            "| tool | records | candidate pairs | precision | recall | F1 | B³ F1 "
            "| cross-source F1 | wall s | tool s | peak MB | notes |",
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
        ]
        chosen = [runs[f"{name}/{v}"] for v in VARIANT_ORDER if f"{name}/{v}" in runs]
        lines += [_row(run, cross_source) for run in chosen]
    lines += [
        "",
        "Precision, recall and F1 are pairwise over the clusters each tool returned (pairs of",
        "records put in one person); B³ F1 averages per record; cross-source F1 counts only",
        "pairs of records from different sources. *links F1* scores the raw accepted links",
        "before transitive closure. *wall s* is the whole child process (start-up, reading",
        "the Parquet input, linking, writing); *tool s* the linking alone; *peak MB* the",
        "child's peak resident memory (`ru_maxrss` via `os.wait4`).",
        "",
    ]
    return "\n".join(lines)


def render_families(store: dict[str, Any]) -> str:
    """The families section of RESULTS.md, from ``bench/results/families.json``."""
    runs = sorted(store.get("runs", {}).values(), key=lambda r: r["people"])
    if not runs:
        return ""
    lines = [
        "",
        "# Families benchmark: relationships and families",
        "",
        "Written by `bench/families_bench.py` from `bench/results/families.json`. Each size is",
        "`kinlink synth --people N --seed S`, then `kinlink ingest`, `link` and `families` in",
        "child processes, scored with `linkage.evaluate_families` against the generator's truth.",
        "",
        "| people | records | ingest s | link s | families s | families peak MB | relationships | families "
        "| mean family Jaccard | exact | core Jaccard | core exact |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for run in runs:
        st, ev, facts = run["stages"], run["evaluation"], run["facts"]
        lines.append(
            f"| {run['people']:,} | {run['records']:,} | {st['ingest']['wall_s']} | {st['link']['wall_s']} "
            f"| {st['families']['wall_s']} | {st['families']['peak_mb']:,} | {facts['relationships']:,} "
            f"| {facts['families']:,} | {ev['mean_best_jaccard']:.4f} | {ev['exact_share']:.1%} "
            f"| {ev['core_mean_best_jaccard']:.4f} | {ev['core_exact_share']:.1%} |"
        )
    for run in runs:
        lines += [
            "",
            f"## Relationships, {run['people']:,} people ({run['date']})",
            "",
            "| kind | inferred | true in data | precision | recall | true stated | recall (stated) |",
            "|---|--:|--:|--:|--:|--:|--:|",
        ]
        for row in run["evaluation"]["relationships"]:
            scores = " | ".join(_score(row[k]) for k in ("precision", "recall"))
            lines.append(
                f"| {row['kind']} | {row['inferred']:,} | {row['true_in_data']:,} | {scores} "
                f"| {row['true_stated']:,} | {_score(row['recall_stated'])} |"
            )
    lines += [
        "",
        "*true in data*: true relationships whose two people both have a record in the extracts;",
        "*true stated*: those some source relates by record (any type), so *recall (stated)* is",
        "what inference finds of what the sources say. *core* Jaccard compares children and",
        "parents only; whole-family Jaccard also counts grandparents and parents' partners.",
        "",
    ]
    return "\n".join(lines)


def render_fsr(run: dict[str, Any]) -> str:
    """The FSR throughput section, from ``bench/results/fsr.json``."""
    if not run:
        return ""
    return "\n".join(
        [
            "",
            "# FSR throughput",
            "",
            "Written by `bench/fsr_bench.py` from `bench/results/fsr.json`: every family of at most "
            f"{run['max_members']} people (up to the first 1,000) rendered to PDF by "
            "`kinlink.pipeline.run_fsr`, the path `kinlink fsr` takes.",
            "",
            "| date | families | mean / largest members | processes | cores | seconds | PDFs per second "
            "| mean PDF KB |",
            "|---|--:|--:|--:|--:|--:|--:|--:|",
            f"| {run['date']} | {run['families']:,} | {run['mean_members']} / {run['largest']} "
            f"| {run['jobs']} | {run['cores']} | {run['seconds']} | {run['per_second']} "
            f"| {run['mean_pdf_kb']} |",
            "",
        ]
    )


def render_blocking(store: dict[str, Any]) -> str:
    """The blocking section: pairs completeness per rule, from ``bench/results/blocking.json``."""
    if not store:
        return ""
    lines = [
        "",
        "# Blocking: pairs completeness per rule",
        "",
        "Written by `bench/blocking_bench.py` from `bench/results/blocking.json` "
        "(`linkage.evaluate_blocking`, the shipped `config/linkage.yaml`). Pairs are between "
        "distinct records (identical records are one record to the linker); *new* counts what no "
        "earlier rule made or found; *completeness* is the share of all true matching pairs the "
        "rules so far find. The relational pass adds pairs of records stated as parents of one "
        "person on top of these.",
    ]
    for name, run in store.items():
        lines += [
            "",
            f"## {name}",
            "",
            f"{run['records']:,} records, {run['true_pairs']:,} true matching pairs between distinct "
            f"records ({run['date']}, {run['seconds']} s).",
            "",
            "| rule | pairs | new pairs | true pairs | new true pairs | completeness |",
            "|---|--:|--:|--:|--:|--:|",
        ]
        for row in run["rules"]:
            lines.append(
                f"| {row['rule']} | {row['pairs']:,} | {row['new_pairs']:,} | {row['true_pairs']:,} "
                f"| {row['new_true_pairs']:,} | {row['completeness']:.4f} |"
            )
    lines.append("")
    return "\n".join(lines)


def render_all(bench: Path) -> str:
    """RESULTS.md from every benchmark's JSON figures under ``bench/results/``."""

    def load(name: str) -> dict[str, Any]:
        path = bench / "results" / name
        return json.loads(path.read_text()) if path.exists() else {}

    spark = bench / "SPARK.md"
    return (
        render(load("linkage.json"))
        + render_families(load("families.json"))
        + render_blocking(load("blocking.json"))
        + render_fsr(load("fsr.json"))
        + ("\n" + spark.read_text() if spark.exists() else "")
    )
