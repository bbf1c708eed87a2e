"""Local engine against the Spark engine (local mode) on synthetic local authorities.

    python bench/spark_bench.py --datasets synthetic-1m --engines local,spark

Each engine runs in its own child process (this file, ``--child``); the parent measures
the child's wall time, its peak resident memory from ``os.wait4`` (``ru_maxrss``: the
largest single process of the child's tree that was waited for, which for Spark is the
Python driver or the JVM, whichever was larger) and, by sampling ``/proc`` twice a second,
the peak of the *sum* over the child's whole process tree (Python driver, JVM, Python
workers), which is what the machine must hold. When both engines ran on a data set it
checks that they made the same people with the same ids and the same match weights.
Figures go to ``bench/results/spark.json`` (a run replaces only the entries it re-ran)
and ``bench/SPARK.md``. Data sets come from ``bench/_datasets.py`` (cached in
``bench/data/``). Nothing here prints a name, a date of birth or an identifier.
"""

from __future__ import annotations

import argparse
import contextlib
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

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

import _datasets  # noqa: E402

ENGINES = ("local", "spark")

NOTES = """
## Reading these figures

Spark's local mode runs the driver, the executor threads and the Python workers on this one
machine (and the first Spark jobs, in *block*, include the JVM's warm-up: tens of seconds
here), so the figures measure the engine's *overheads* (shuffles, Arrow transfers between
the JVM and Python, a JVM of its own), not what a cluster gains. On two cores the local
engine, one numpy process with nothing to ship, is the faster: use it whenever the data
fits one machine. The Spark engine is for when the pairs do not: its driver holds per-pair
data only for the edges and the `pairs` table, while the local engine holds every candidate
pair's levels, terms and view caches (about 400 bytes per candidate pair at its peak).

## How it scales with executors

Blocking, comparing, scoring and counting comparison patterns are partitioned over the
candidate pairs with nothing shared but the broadcast records and the shuffles of the
joins, so their time falls roughly as 1 / (executor cores) until shuffles or the driver
dominate. What stays on the driver and does not scale out: reading and preparing the
records, grading the fixed sample of random pairs, EM on the pattern counts (seconds,
whatever the data size), clustering the edges, stable ids, the `persons` table and
collecting the `pairs` table: the *prepare*, *persons* and *cluster* phases above, plus the
collection inside the last *cluster* phase. That share is an Amdahl floor of roughly a
minute per million records on a machine like this one. The records are broadcast to the
workers while their compared columns are under `spark.kinlink.broadcastBytes` (1 GiB as
pandas sizes them, about a million distinct records); past that each pair is joined to its
records' columns, which adds two shuffles of the pairs but needs no worker to hold all the
records.

## Submitting to a cluster

Build the wheel (`python -m build --wheel`), pack an environment that has it with its
`spark` extra (`venv-pack` or `conda-pack`), and submit a small driver script that reads the
canonical tables from object storage and writes the results back:

```bash
spark-submit --master yarn --deploy-mode client \\
  --archives kinlink-env.tar.gz#env \\
  --conf spark.pyspark.python=./env/bin/python \\
  --driver-memory 32g --conf spark.driver.maxResultSize=0 \\
  --executor-memory 8g --executor-cores 4 --num-executors 20 \\
  --conf spark.sql.shuffle.partitions=400 \\
  link_job.py   # records = spark.read.parquet("s3a://.../records.parquet"); link_records_spark(records, ...)
```

`linkage/spark/README.md` has the driver script, the memory the driver needs (records,
edges, the `pairs` table) and the settings.
"""


# --- the child: one linkage run ----------------------------------------------------------


def _child(engine: str, folder: Path, out: Path, seed: int, cores: int | None) -> int:
    import pandas as pd

    from linkage import LinkageSettings, link_records

    out.mkdir(parents=True, exist_ok=True)
    records_path = folder / "records.parquet"
    stated_path = folder / "workspace" / "stated_relationships.parquet"
    stated = pd.read_parquet(stated_path) if stated_path.exists() else None
    settings = LinkageSettings.load(None)
    start = time.perf_counter()
    marks: list[tuple[float, str]] = []

    def progress(message: str) -> None:
        marks.append((round(time.perf_counter() - start, 1), message.split(" ")[0]))
        print(f"{marks[-1][0]:>8.1f} s  {message}", flush=True)

    if engine == "local":
        records = pd.read_parquet(records_path)
        load_s = time.perf_counter() - start
        result = link_records(records, settings, stated_relationships=stated, seed=seed, progress=progress)
        session: dict[str, Any] = {}
    else:
        from linkage.spark import link_records_spark, local_session

        spark = local_session(cores=cores)
        load_s = time.perf_counter() - start
        session = {
            "master": spark.sparkContext.master,
            "default_parallelism": spark.sparkContext.defaultParallelism,
            "driver_memory": spark.conf.get("spark.driver.memory", "default"),
            "shuffle_partitions": spark.conf.get("spark.sql.shuffle.partitions"),
        }
        result = link_records_spark(
            str(records_path),
            settings,
            spark=spark,
            stated_relationships=stated,
            seed=seed,
            progress=progress,
        )
        spark.stop()
    link_s = time.perf_counter() - start - load_s
    result.person_index[["record_key", "person_id"]].to_parquet(out / "person_index.parquet", index=False)
    result.pairs[["record_key_l", "record_key_r", "match_weight"]].to_parquet(
        out / "pairs.parquet", index=False
    )
    facts = {k: v for k, v in result.facts.items() if k != "seconds"}
    (out / "run.json").write_text(
        json.dumps(
            {
                "engine": engine,
                "startup_s": round(load_s, 2),
                "link_s": round(link_s, 2),
                "phases_s": result.facts.get("seconds", {}),
                "facts": facts,
                "spark": session,
            },
            indent=2,
            default=str,
        )
    )
    return 0


# --- the parent: run, measure, compare, report --------------------------------------------


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (0 once it is gone)."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            continue
    return total


def _run_child(
    engine: str, dataset: _datasets.Dataset, out: Path, *, seed: int, timeout: float, cores: int | None
) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("run.json", "person_index.parquet", "pairs.parquet"):
        (out / stale).unlink(missing_ok=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", engine, dataset.folder, str(out)]
    command += ["--seed", str(seed)] + (["--cores", str(cores)] if cores else [])
    log = out / "run.log"
    peak_tree = 0
    done = threading.Event()
    timed_out = threading.Event()
    with log.open("w") as sink:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)

        def sample() -> None:
            nonlocal peak_tree
            while not done.is_set():
                peak_tree = max(peak_tree, _tree_rss(child.pid))
                done.wait(0.5)

        def stop() -> None:
            timed_out.set()
            os.killpg(child.pid, signal.SIGKILL)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        timer = threading.Timer(timeout, stop)
        timer.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            timer.cancel()
            done.set()
            sampler.join()
        wall_s = time.perf_counter() - start
    # anything the child left behind (a JVM that outlived its driver) goes with its group
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    code = os.waitstatus_to_exitcode(status)
    result: dict[str, Any] = {
        "wall_s": round(wall_s, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "peak_tree_rss_mb": round(peak_tree / 1024**2, 1),
        "exit_code": code,
        "log": str(log.relative_to(ROOT)) if log.is_relative_to(ROOT) else str(log),
        "status": "ok" if code == 0 else f"failed (exit {code})",
    }
    if timed_out.is_set():
        result["status"] = f"timed out after {timeout:.0f} s"
    elif code == -signal.SIGKILL:
        result["status"] = "killed (SIGKILL: out of memory, most likely)"
    run_json = out / "run.json"
    if run_json.exists() and code == 0:
        result.update(json.loads(run_json.read_text()))
    return result


def _compare(local_dir: Path, spark_dir: Path) -> dict[str, Any]:
    """Do the two engines' results agree: same people, same ids, same weights?"""
    import numpy as np
    import pandas as pd

    a = pd.read_parquet(local_dir / "person_index.parquet").sort_values("record_key").reset_index(drop=True)
    b = pd.read_parquet(spark_dir / "person_index.parquet").sort_values("record_key").reset_index(drop=True)
    same_records = a["record_key"].equals(b["record_key"])
    same_ids = same_records and bool((a["person_id"] == b["person_id"]).all())
    pa = pd.read_parquet(local_dir / "pairs.parquet")
    pb = pd.read_parquet(spark_dir / "pairs.parquet")
    merged = pa.merge(pb, on=["record_key_l", "record_key_r"], how="outer", indicator=True)
    both = merged[merged["_merge"] == "both"]
    diff = np.abs(both["match_weight_x"].to_numpy() - both["match_weight_y"].to_numpy())
    return {
        "same_person_ids": same_ids,
        "records": len(a),
        "pairs_local": len(pa),
        "pairs_spark": len(pb),
        "pairs_in_one_only": int((merged["_merge"] != "both").sum()),
        "max_abs_weight_difference": float(diff.max()) if len(diff) else 0.0,
    }


def _machine() -> dict[str, Any]:
    meminfo = Path("/proc/meminfo").read_text().split("\n")
    total_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    versions = {}
    for package in ("kinlink", "pyspark", "pandas", "numpy", "pyarrow"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    java = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
    return {
        "cores": os.cpu_count(),
        "ram_gib": round(total_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "java": (java.stderr.splitlines() or ["unknown"])[0],
        "versions": versions,
        "load_average_at_start": os.getloadavg(),
    }


def _fmt(value: Any, pattern: str = "{:,.1f}") -> str:
    return "–" if value is None else pattern.format(value)


def render(store: dict[str, Any]) -> str:
    """``bench/SPARK.md`` from the store: the figures, then how to read and extend them."""
    machine = store.get("machine", {})
    lines = [
        "# Spark engine benchmark: local engine against Spark (local mode)",
        "",
        "Made by `bench/spark_bench.py` (raw figures in `bench/results/spark.json`). Each engine",
        "runs in its own process; *peak RSS* is `ru_maxrss` from `os.wait4` (one process: for",
        "Spark the larger of the Python driver and the JVM), *peak tree RSS* the sampled sum over",
        "the child's whole process tree (driver, JVM, Python workers): what the machine held.",
        "",
        f"- machine: {machine.get('cores')} cores, {machine.get('ram_gib')} GiB RAM; Python "
        f"{machine.get('python')}; {machine.get('java', '')}",
        f"- versions: {', '.join(f'{k} {v}' for k, v in machine.get('versions', {}).items())}",
    ]
    for command in store.get("commands", []):
        lines.append(f"- `{command['command']}` ({command['date']})")
    lines += ["", "## Figures", ""]
    lines.append(
        "| data set | records | candidate pairs | engine | status | wall s | link s | startup s | "
        "peak RSS MB | peak tree RSS MB | people | finished |"
    )
    lines.append("|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---|")
    for name, runs in store.get("runs", {}).items():
        for engine in ENGINES:
            run = runs.get(engine)
            if run is None:
                continue
            facts = run.get("facts", {})
            records = facts.get("records") or store["datasets"].get(name, {}).get("records")
            cells = [
                name,
                _fmt(records, "{:,}"),
                _fmt(facts.get("candidate_pairs"), "{:,}"),
                engine,
                run["status"],
                _fmt(run.get("wall_s")),
                _fmt(run.get("link_s")),
                _fmt(run.get("startup_s")),
                _fmt(run.get("peak_rss_mb"), "{:,.0f}"),
                _fmt(run.get("peak_tree_rss_mb"), "{:,.0f}"),
                _fmt(facts.get("people"), "{:,}"),
                run.get("date", "–"),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "### Seconds per phase", ""]
    phases = [
        "prepare",
        "block",
        "compare",
        "train",
        "score",
        "cluster",
        "compare_relational",
        "train_relational",
        "score_relational",
        "cluster_relational",
        "persons",
    ]
    lines.append("| data set | engine | " + " | ".join(phases) + " |")
    lines.append("|---|---|" + "---:|" * len(phases))
    for name, runs in store.get("runs", {}).items():
        for engine in ENGINES:
            run = runs.get(engine)
            if run is None or "phases_s" not in run:
                continue
            cells = " | ".join(_fmt(run["phases_s"].get(p)) for p in phases)
            lines.append(f"| {name} | {engine} | {cells} |")
    checks = store.get("equivalence", {})
    if checks:
        lines += ["", "### Same answer?", ""]
        lines.append("| data set | same people and ids | pairs (local / Spark) | max abs weight difference |")
        lines.append("|---|---|---:|---:|")
        for name, check in checks.items():
            same = "yes" if check["same_person_ids"] else "NO"
            pairs = f"{check['pairs_local']:,} / {check['pairs_spark']:,}"
            lines.append(f"| {name} | {same} | {pairs} | {check['max_abs_weight_difference']:.3g} |")
    notes = store.get("notes", [])
    if notes:
        lines += ["", "### Notes on these runs", ""]
        lines += [f"- {note}" for note in notes]
    lines += ["", NOTES.strip()]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="synthetic-1m")
    parser.add_argument("--engines", default="local,spark")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--cores", type=int, default=None, help="Spark local[N] (default: all cores)")
    parser.add_argument("--timeout", type=float, default=4 * 3600, help="seconds per run")
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "spark.json")
    parser.add_argument("--out", type=Path, default=BENCH / "SPARK.md")
    parser.add_argument("--work", type=Path, default=BENCH / "work" / "spark")
    parser.add_argument("--note", action="append", default=[], help="a note to keep with the figures")
    parser.add_argument("--render-only", action="store_true")
    parser.add_argument(
        "--child", nargs=3, metavar=("ENGINE", "DATASET_DIR", "OUT_DIR"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        engine, folder, out = args.child
        return _child(engine, Path(folder), Path(out), args.seed, args.cores)

    store: dict[str, Any] = (
        json.loads(args.json.read_text())
        if args.json.exists()
        else {"runs": {}, "datasets": {}, "commands": []}
    )
    store.setdefault("notes", [])
    store["notes"] += [n for n in args.note if n not in store["notes"]]
    if args.render_only:
        if args.note:
            args.json.write_text(json.dumps(store, indent=2, default=str))
        args.out.write_text(render(store))
        return 0
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    names = [d.strip() for d in args.datasets.split(",") if d.strip()]
    unknown = [e for e in engines if e not in ENGINES] + [n for n in names if not _datasets.known(n)]
    if unknown:
        parser.error(f"unknown engine or data set: {', '.join(unknown)}")
    store["machine"] = _machine()
    command = "python bench/spark_bench.py " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])
    )
    store.setdefault("commands", []).append(
        {"command": command, "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    )
    for name in names:
        start = time.perf_counter()
        dataset = _datasets.prepare(name, seed=args.seed)
        print(
            f"{name}: {dataset.records:,} records ({time.perf_counter() - start:.0f} s to prepare)",
            flush=True,
        )
        store["datasets"][name] = {
            "records": dataset.records,
            "folder": dataset.folder,
            "made_with": dataset.made_with,
        }
        for engine in engines:
            out = args.work / name / engine
            print(f"  {engine}: running (log {out / 'run.log'})", flush=True)
            result = _run_child(engine, dataset, out, seed=args.seed, timeout=args.timeout, cores=args.cores)
            result["date"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            store["runs"].setdefault(name, {})[engine] = result
            peaks = f"peak {result['peak_rss_mb']:,.0f} MB (tree {result['peak_tree_rss_mb']:,.0f} MB)"
            print(f"  {engine}: {result['status']}, {result['wall_s']:,.0f} s, {peaks}", flush=True)
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(store, indent=2, default=str))
        local_dir, spark_dir = args.work / name / "local", args.work / name / "spark"
        runs = store["runs"].get(name, {})
        if (
            all(runs.get(e, {}).get("status") == "ok" for e in ENGINES)
            and (local_dir / "pairs.parquet").exists()
        ):
            store.setdefault("equivalence", {})[name] = _compare(local_dir, spark_dir)
            print(f"  same answer: {store['equivalence'][name]}", flush=True)
        args.json.write_text(json.dumps(store, indent=2, default=str))
    args.out.write_text(render(store))
    print(f"wrote {args.out} and {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
