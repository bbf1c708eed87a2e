"""Families benchmark: relationship and family reconstruction on synthetic local authorities.

    python bench/families_bench.py --people 2000,35702

For each size: ``kinlink synth --people N --seed S`` (kept in ``bench/data/families-pN-sS``
and reused), then ``kinlink ingest``, ``kinlink link`` and ``kinlink families`` into a fresh
workspace, each in its own child process (wall time and peak resident memory from
``os.wait4``), then ``linkage.evaluate_families`` against the generator's truth.
Figures accumulate in ``bench/results/families.json`` and are written into the families
section of ``bench/RESULTS.md`` (the linkage section is kept).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

import _report  # noqa: E402
from _env import checkout_env  # noqa: E402

from linkage.evaluate_families import evaluate_families  # noqa: E402


def _kinlink() -> list[str]:
    installed = Path(sys.executable).parent / "kinlink"
    return [str(installed)] if installed.exists() else [sys.executable, "-m", "kinlink.cli"]


def _child(command: list[str], log: Path) -> dict[str, float]:
    """Run one stage; its wall time and the peak resident memory of that child alone."""
    start = time.perf_counter()
    with log.open("a") as out:
        out.write("$ " + " ".join(command) + "\n")
        out.flush()
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=checkout_env())
        _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command[1:3])} failed; see {log}")
    return {"wall_s": round(time.perf_counter() - start, 1), "peak_mb": round(usage.ru_maxrss / 1024)}


def run_size(people: int, seed: int) -> dict[str, Any]:
    folder = BENCH / "data" / f"families-p{people}-s{seed}"
    extracts, workspace, log = folder / "extracts", folder / "workspace", folder / "run.log"
    folder.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    stages: dict[str, dict[str, float]] = {}
    if not (extracts / "truth" / "families.parquet").exists():
        stages["synth"] = _child(
            [*_kinlink(), "synth", "--out", str(extracts), "--people", str(people), "--seed", str(seed)], log
        )
    if workspace.exists():
        shutil.rmtree(workspace)
    ingest = [*_kinlink(), "ingest", "--data", str(extracts), "--workspace", str(workspace)]
    stages["ingest"] = _child(ingest, log)
    stages["link"] = _child([*_kinlink(), "link", "--workspace", str(workspace)], log)
    stages["families"] = _child([*_kinlink(), "families", "--workspace", str(workspace)], log)

    def table(name: str) -> pd.DataFrame:
        return pd.read_parquet(workspace / f"{name}.parquet")

    truth = extracts / "truth"
    truth_records = pd.read_parquet(truth / "records.parquet")
    result = evaluate_families(
        table("person_index"),
        table("relationships"),
        table("families"),
        truth_records,
        pd.read_parquet(truth / "relationships.parquet"),
        pd.read_parquet(truth / "families.parquet"),
        table("stated_relationships"),
    )
    facts = json.loads((workspace / "manifest.json").read_text())["stages"]["families"]["facts"]
    return {
        "people": people,
        "seed": seed,
        "records": len(table("records")),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "stages": stages,
        "facts": facts,
        "evaluation": json.loads(json.dumps(result.to_dict(), default=float)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", default="2000,35702", help="comma-separated population sizes")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "families.json")
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS.md")
    args = parser.parse_args(argv)
    store = json.loads(args.json.read_text()) if args.json.exists() else {"runs": {}}
    for size in (int(s) for s in args.people.split(",") if s.strip()):
        run = run_size(size, args.seed)
        store["runs"][f"p{size}-s{args.seed}"] = run
        ev = run["evaluation"]
        print(
            f"{size:,} people, {run['records']:,} records: families {run['stages']['families']['wall_s']} s, "
            f"{run['stages']['families']['peak_mb']} MB; Jaccard {ev['mean_best_jaccard']:.4f}"
        )
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(store, indent=2, default=str))
    args.out.write_text(_report.render_all(BENCH))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
