"""Compare kinlink, Splink and recordlinkage on FEBRL 1-4 and synthetic local authorities.

    python bench/linkage_bench.py \\
        --datasets febrl1,febrl2,febrl3,febrl4,synthetic-100k,synthetic-1m \\
        --tools kinlink,splink,recordlinkage --out bench/RESULTS.md

Each tool runs in its own child process (``bench/_runners.py``); this parent measures the
child's wall time and peak resident memory (``ru_maxrss`` from ``os.wait4`` on that one
child), then scores the clusters it wrote with ``linkage.evaluate``. Raw figures
accumulate in ``bench/results/linkage.json`` (a run replaces only the entries it re-ran),
and ``--out`` is rewritten from all of them. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

import _datasets  # noqa: E402
import _report  # noqa: E402
from _env import checkout_env  # noqa: E402

from linkage.evaluate import evaluate, pair_scores_from_pairs  # noqa: E402

TOOLS = {
    "kinlink": ["kinlink"],
    "splink": ["splink"],
    "recordlinkage": ["recordlinkage-ecm", "recordlinkage-rules"],
}
#: recordlinkage keeps every candidate pair and feature in pandas; past about 100k
#: records it needs many GB and many minutes (ECM at 1M: ~500 s and ~15 GB), so by
#: default it is not run on larger data sets (``--rl-max-records`` changes this).
RL_MAX_RECORDS = 150_000


def _machine() -> dict[str, Any]:
    meminfo = Path("/proc/meminfo").read_text().split("\n")
    total_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = {}
    for package in ("kinlink", "splink", "duckdb", "recordlinkage", "pandas", "numpy", "pyarrow"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "cores": os.cpu_count(),
        "ram_gib": round(total_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "unset"),
    }


def _run_child(
    variant: str, dataset: _datasets.Dataset, out: Path, *, seed: int, timeout: float
) -> dict[str, Any]:
    """Run one tool in a child process; return its run.json plus wall time and peak memory."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("clusters.parquet", "pairs.parquet", "run.json"):
        (out / stale).unlink(missing_ok=True)
    command = [
        sys.executable,
        str(BENCH / "_runners.py"),
        variant,
        dataset.folder,
        str(out),
        "--seed",
        str(seed),
    ]
    log = out / "run.log"
    timed_out = threading.Event()
    with log.open("w") as sink:
        start = time.perf_counter()
        child = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True, env=checkout_env()
        )

        def stop() -> None:
            timed_out.set()
            os.killpg(child.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, stop)
        timer.start()
        try:
            # wait4 gives the resource usage of this one child, so ru_maxrss is its own
            # peak resident set size (KiB on Linux), not the maximum over all children.
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            timer.cancel()
        wall_s = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    result: dict[str, Any] = {
        "wall_s": round(wall_s, 2),
        "peak_mb": round(usage.ru_maxrss / 1024, 1),
        "exit_code": child.returncode,
        "log": str(log.relative_to(ROOT)) if log.is_relative_to(ROOT) else str(log),
    }
    run_json = out / "run.json"
    if run_json.exists():
        result.update(json.loads(run_json.read_text()))
    if timed_out.is_set():
        result["status"] = f"timed out after {timeout:.0f} s"
    elif child.returncode == -signal.SIGKILL:
        result["status"] = "killed (SIGKILL: out of memory, most likely)"
        result["reason"] = f"peak {result['peak_mb']:,.0f} MB when killed"
    elif child.returncode != 0 and result.get("status") != "not available":
        tail = log.read_text().strip().splitlines()[-1:] if log.exists() else []
        result["status"] = f"failed (exit {child.returncode})"
        result["reason"] = tail[0][:300] if tail else ""
    return result


def _score(result: dict[str, Any], dataset: _datasets.Dataset, out: Path) -> None:
    truth = pd.read_parquet(dataset.truth_path)
    clusters = pd.read_parquet(out / "clusters.parquet")
    start = time.perf_counter()
    result["scores"] = evaluate(clusters, truth)
    pairs_path = out / "pairs.parquet"
    if pairs_path.exists():
        pairs = pd.read_parquet(pairs_path)
        result["link_pairs"] = len(pairs)
        result["pair_scores"] = pair_scores_from_pairs(pairs, truth).to_dict()
        result["pair_scores_cross_source"] = pair_scores_from_pairs(
            pairs, truth, within="cross_source"
        ).to_dict()
    result["score_s"] = round(time.perf_counter() - start, 2)


def _load_store(path: Path) -> dict[str, Any]:
    if path.exists():
        return json.loads(path.read_text())
    return {"runs": {}, "datasets": {}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--datasets", default="febrl1,febrl2,febrl3,febrl4,synthetic-100k")
    parser.add_argument("--tools", default="kinlink,splink,recordlinkage")
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "linkage.json")
    parser.add_argument("--work", type=Path, default=BENCH / "work", help="child outputs and logs")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per tool run")
    parser.add_argument("--rl-max-records", type=int, default=RL_MAX_RECORDS)
    parser.add_argument("--render-only", action="store_true", help="rewrite --out from --json; run nothing")
    args = parser.parse_args(argv)

    store = _load_store(args.json)
    command = "python bench/linkage_bench.py " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])
    )
    if args.render_only:
        args.out.write_text(_report.render_all(BENCH))
        return 0

    datasets = [name.strip() for name in args.datasets.split(",") if name.strip()]
    unknown = [name for name in datasets if not _datasets.known(name)]
    tools = [name.strip() for name in args.tools.split(",") if name.strip()]
    unknown += [name for name in tools if name not in TOOLS]
    if unknown:
        parser.error(f"unknown data set or tool: {', '.join(unknown)}")

    store["machine"] = _machine()
    for name in datasets:
        start = time.perf_counter()
        dataset = _datasets.prepare(name, seed=args.seed)
        print(f"{name}: {dataset.records:,} records ({time.perf_counter() - start:.0f} s to prepare)")
        store["datasets"][name] = {
            "records": dataset.records,
            "true_people": dataset.true_people,
            "sources": len(dataset.sources),
            "link_type": dataset.link_type,
            "made_with": dataset.made_with,
        }
        for tool in tools:
            for variant in TOOLS[tool]:
                key = f"{name}/{variant}"
                base: dict[str, Any] = {
                    "dataset": name,
                    "variant": variant,
                    "command": command,
                    "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                    "records": dataset.records,
                }
                if tool == "recordlinkage" and dataset.records > args.rl_max_records:
                    base["status"] = (
                        f"not run: {dataset.records:,} records is above the recordlinkage cap "
                        f"of {args.rl_max_records:,} (--rl-max-records)"
                    )
                    store["runs"][key] = base
                    print(f"  {variant}: {base['status']}")
                    continue
                out = args.work / name / variant
                result = _run_child(variant, dataset, out, seed=args.seed, timeout=args.timeout)
                result = {**base, **result}
                if result.get("status") == "ok":
                    _score(result, dataset, out)
                store["runs"][key] = result
                print("  " + _report.one_line(result))
                args.json.parent.mkdir(parents=True, exist_ok=True)
                args.json.write_text(json.dumps(store, indent=2, default=str))
                args.out.write_text(_report.render_all(BENCH))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(store, indent=2, default=str))
    args.out.write_text(_report.render_all(BENCH))
    print(f"wrote {args.out} and {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
