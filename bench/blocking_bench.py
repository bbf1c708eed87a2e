"""Blocking benchmark: pairs completeness of each rule of ``config/linkage.yaml`` against truth.

    python bench/blocking_bench.py --datasets synthetic-100k,synthetic-1m,demo

For each synthetic data set made by ``bench/linkage_bench.py`` (``bench/data/<name>``, with
its ``records.parquet`` and ``truth.parquet``) and the demo authority (``kinlink synth
--people 2000 --seed 42``, ingested into a scratch workspace), counts every blocking rule's
candidate pairs, the true matching pairs among them and the pairs completeness of the
rules so far (``linkage.evaluate_blocking``). Figures accumulate in
``bench/results/blocking.json`` and go into the blocking section of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
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
from _env import checkout_env  # noqa: E402

from linkage.evaluate_blocking import blocking_completeness  # noqa: E402
from linkage.settings import LinkageSettings  # noqa: E402

DATASETS = {
    "synthetic-100k": BENCH / "data" / "synthetic-p35702-s42",
    "synthetic-1m": BENCH / "data" / "synthetic-p357015-s42",
}


def _demo(scratch: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    kinlink = Path(sys.executable).parent / "kinlink"
    data, ws = scratch / "data", scratch / "ws"
    subprocess.run(
        [str(kinlink), "synth", "--out", str(data), "--people", "2000", "--seed", "42"],
        check=True,
        env=checkout_env(),
    )
    subprocess.run(
        [str(kinlink), "ingest", "--data", str(data), "--workspace", str(ws)], check=True, env=checkout_env()
    )
    truth = pd.read_parquet(data / "truth" / "records.parquet").dropna(
        subset=["source_record_id", "person_id"]
    )
    truth = truth.assign(record_key=truth["source"] + ":" + truth["source_record_id"])
    return (
        pd.read_parquet(ws / "records.parquet"),
        truth[["record_key", "person_id"]],
        pd.read_parquet(ws / "stated_relationships.parquet"),
    )


def _load(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    stated = folder / "workspace" / "stated_relationships.parquet"
    return (
        pd.read_parquet(folder / "records.parquet"),
        pd.read_parquet(folder / "truth.parquet"),
        pd.read_parquet(stated) if stated.exists() else None,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="demo,synthetic-100k,synthetic-1m")
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "blocking.json")
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS.md")
    args = parser.parse_args(argv)
    store = json.loads(args.json.read_text()) if args.json.exists() else {}
    settings = LinkageSettings.load(None)
    for name in args.datasets.split(","):
        with tempfile.TemporaryDirectory(prefix="kinlink-blocking-") as scratch:
            if name == "demo":
                records, truth, stated = _demo(Path(scratch))
            elif name in DATASETS:
                records, truth, stated = _load(DATASETS[name])
            else:
                parser.error(f"unknown data set {name!r}; known: demo, {', '.join(DATASETS)}")
            start = time.perf_counter()
            counts = blocking_completeness(records, truth, settings, stated)
            seconds = time.perf_counter() - start
        store[name] = {
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "records": len(records),
            "true_pairs": int(counts.attrs["true_pairs"]),
            "seconds": round(seconds, 1),
            "rules": counts.to_dict(orient="records"),
        }
        last = counts[counts["rule"] == "all rules"].iloc[0]
        print(f"{name}: {len(records):,} records, completeness {last['completeness']:.4f} ({seconds:.1f} s)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(store, indent=2))
    args.out.write_text(_report.render_all(BENCH))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
