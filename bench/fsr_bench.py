"""FSR throughput: Family Summary Record PDFs per second in batch, on this machine's cores.

    python bench/fsr_bench.py --workspace bench/data/families-p35702-s42/workspace --max-members 12

Renders every family of at most ``--max-members`` people (or the first ``--limit`` of them)
with ``kinlink.pipeline.run_fsr`` (one process per core, the same path as ``kinlink fsr``)
into a scratch copy of the workspace, and records families per second, the distribution
of family sizes and the PDF sizes in ``bench/results/fsr.json``; ``bench/RESULTS.md``
gets the figures in its FSR section.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

import _report  # noqa: E402

from kinlink.pipeline import run_fsr  # noqa: E402
from kinlink.workspace import Workspace  # noqa: E402

TABLES = (
    "records",
    "persons",
    "relationships",
    "families",
    "households",
    "interventions",
    "relationship_conflicts",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workspace", type=Path, default=BENCH / "data" / "families-p35702-s42" / "workspace"
    )
    parser.add_argument("--max-members", type=int, default=12)
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--role", default="mash_social_worker")
    parser.add_argument("--purpose", default="safeguarding_assessment")
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "fsr.json")
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS.md")
    args = parser.parse_args(argv)

    families = pd.read_parquet(args.workspace / "families.parquet")
    sizes = families.groupby("family_id").size()
    chosen = sorted(sizes[sizes <= args.max_members].index)[: args.limit]
    with tempfile.TemporaryDirectory(prefix="kinlink-fsr-bench-") as scratch:
        ws = Workspace(Path(scratch) / "ws").create()
        for name in TABLES:
            shutil.copy(args.workspace / f"{name}.parquet", ws.path / f"{name}.parquet")
        shutil.copy(args.workspace / "manifest.json", ws.path / "manifest.json")
        load_before = os.getloadavg()
        start = time.perf_counter()
        summary = run_fsr(
            ws,
            chosen,
            role=args.role,
            purpose=args.purpose,
            produced=dt.date(2026, 11, 26),
            jobs=args.jobs,
        )
        seconds = time.perf_counter() - start
        pdfs = sorted((ws.path / "fsr" / args.role).glob("*.pdf"))
        pdf_kb = [p.stat().st_size / 1024 for p in pdfs]
    run = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "workspace": str(
            args.workspace.relative_to(ROOT) if args.workspace.is_relative_to(ROOT) else args.workspace
        ),
        "families": len(chosen),
        "max_members": args.max_members,
        "mean_members": round(float(sizes[chosen].mean()), 2),
        "largest": int(sizes[chosen].max()),
        "jobs": args.jobs,
        "cores": os.cpu_count(),
        "seconds": round(seconds, 2),
        "per_second": round(summary.families / seconds, 2),
        "mean_pdf_kb": round(sum(pdf_kb) / max(len(pdf_kb), 1), 1),
        # other work on the machine slows the run: note how busy it was (1, 5, 15 minutes)
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(run, indent=2))
    print(json.dumps(run, indent=2))
    args.out.write_text(_report.render_all(BENCH))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
