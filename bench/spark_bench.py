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
import re
import shlex
import shutil
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
from _env import checkout_env  # noqa: E402

ENGINES = ("local", "spark")

NOTES = """
## Reading these figures

Spark's local mode runs the driver, the executor threads and the Python workers on this one
machine (and the first Spark jobs, in *block*, include the JVM's warm-up: tens of seconds
here), so the figures measure the engine's *overheads* (shuffles, Arrow transfers between
the JVM and Python, a JVM of its own), not what a cluster gains. On two cores the local
engine, one numpy process with nothing to ship, is the faster: use it whenever the data
fits one machine. The Spark engine is for when the pairs do not: its driver holds per-pair
data only for the edges and the `pairs` table (nothing of the `pairs` table with
`--pairs-parquet`, which passes `pairs_path` so that Spark writes it to Parquet), while the
local engine holds every candidate pair's levels and weight terms (its peak at 4.75 million
records and 67.5 million candidate pairs was 21.6 GB, about 4.5 GB per million records with
`bench/kinlink_5m.yaml`; the per-pair work of grading lives only for a slice of 2 million
pairs).

## At regional scale

What the Spark engine cannot move off its driver is per *record*: the canonical records
(the columns it still reads after preparing them) and their prepared form, about 2.5 GB
per million records at the peak of preparing them (measured: 2.56 GB at 965,416 records,
12.07 GB at 4,749,507), on top of the JVM (`--jvm-memory`) and one Python worker per core.
The `pairs` table must not be collected at that size (`--pairs-parquet`), and the JVM's
heap must hold blocking's last aggregation (a `groupBy` over every rule's pairs: it ran
out of a 3 GB heap at 5 million records with 64 shuffle partitions).

Blocking rules that pair records on names alone grow with the square of the population:
a region's common names make blocks five times larger than a local authority's, and 25
times the pairs. Before linking a region, tighten such rules in a settings file of your
own (as `bench/kinlink_5m.yaml` does; `config/linkage.yaml` is the shipped model), and
measure the cost on data with known truth at a size you can run (the *Blocking* and
*Quality* tables above, made with `--blocking-check --score`):

- look at which rule finds each true pair first (the per-rule table): a rule whose true
  pairs are records without a date of birth gains nothing from a date column (birth
  month, birth year), and one whose true pairs have moved loses them to a place column
  (postcode district);
- `max_block_size` on the rule leaves out only its largest blocks (the commonest names:
  weak evidence anyway) and keeps its pairs about linear in the population; a cap of *c*
  at *N* records leaves out what a cap of about *c* / *k* does at *N* / *k*, so measure
  the scaled cap (as `bench/kinlink_5m_at_1m.yaml` does) to see what the cap costs at the
  larger size;
- a column that splits blocks evenly (a given initial beside a family name and a birth
  year) divides the pairs by 10 to 20 for almost no true pairs.

## How it scales with executors

Blocking, comparing, scoring and counting comparison patterns are partitioned over the
candidate pairs with nothing shared but the broadcast records and the shuffles of the
joins, so their time falls roughly as 1 / (executor cores) until shuffles or the driver
dominate. What stays on the driver and does not scale out: reading and preparing the
records, grading the fixed sample of random pairs, EM on the pattern counts (seconds,
whatever the data size), clustering the edges, stable ids, the `persons` table and
collecting the `pairs` table: the *prepare*, *persons* and *cluster* phases above, plus the
collection inside the last *cluster* phase (with `--pairs-parquet` the table is written by
the executors instead: the *write_pairs* phase, which scales out). That share is an Amdahl floor of roughly a
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


def _child(
    engine: str,
    folder: Path,
    out: Path,
    seed: int,
    cores: int | None,
    *,
    settings_path: Path | None = None,
    pairs_parquet: bool = False,
    jvm_memory: str | None = None,
    shuffle_partitions: int | None = None,
    broadcast_bytes: int | None = None,
    spark_conf: list[str] | None = None,
) -> int:
    import pandas as pd

    from kinlink import tune_allocator
    from linkage import LinkageSettings, link_records

    tune_allocator()  # as the `kinlink` command does, for either engine's driver
    out.mkdir(parents=True, exist_ok=True)
    records_path = folder / "records.parquet"
    stated_path = folder / "workspace" / "stated_relationships.parquet"
    stated = pd.read_parquet(stated_path) if stated_path.exists() else None
    settings = LinkageSettings.load(settings_path)
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

        spark = local_session(cores=cores, jvm_memory=jvm_memory, shuffle_partitions=shuffle_partitions)
        if broadcast_bytes is not None:  # 0: each pair joined to its records' columns
            spark.conf.set("spark.kinlink.broadcastBytes", str(broadcast_bytes))
        for key, value in _conf_pairs(spark_conf):
            spark.conf.set(key, value)
        load_s = time.perf_counter() - start
        session = {
            "master": spark.sparkContext.master,
            "default_parallelism": spark.sparkContext.defaultParallelism,
            "driver_memory": spark.conf.get("spark.driver.memory", "default"),
            "shuffle_partitions": spark.conf.get("spark.sql.shuffle.partitions"),
            "broadcast_bytes": spark.conf.get("spark.kinlink.broadcastBytes", "default"),
            **{key: spark.conf.get(key) for key, _ in _conf_pairs(spark_conf)},
        }
        result = link_records_spark(
            str(records_path),
            settings,
            spark=spark,
            stated_relationships=stated,
            seed=seed,
            progress=progress,
            # the pairs table written by Spark (a folder of Parquet parts), not collected
            pairs_path=out / "pairs.parquet" if pairs_parquet else None,
        )
        spark.stop()
    link_s = time.perf_counter() - start - load_s
    result.person_index[["record_key", "person_id"]].to_parquet(out / "person_index.parquet", index=False)
    if not (engine == "spark" and pairs_parquet):
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
                "settings": str(settings_path) if settings_path else "config/linkage.yaml (shipped)",
                "pairs_to_parquet": engine == "spark" and pairs_parquet,
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


def _last_progress(log: Path) -> str | None:
    """The last progress line of a child's log (``<seconds> s  <message>``): how far it got."""
    if not log.exists():
        return None
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines()]
    marks = [line for line in lines if line.endswith(")") or " s  " in line]
    marks = [line for line in marks if line.split(" ")[0].replace(".", "").isdigit()]
    return marks[-1] if marks else None


def _conf_pairs(items: list[str] | None) -> list[tuple[str, str]]:
    """``KEY=VALUE`` items as pairs (a bare key is an error: say which)."""
    pairs = []
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SystemExit(f"--spark-conf takes KEY=VALUE, not {item!r}")
        pairs.append((key.strip(), value.strip()))
    return pairs


def _run_child(
    engine: str,
    dataset: _datasets.Dataset,
    out: Path,
    *,
    seed: int,
    timeout: float,
    cores: int | None,
    settings_path: Path | None = None,
    pairs_parquet: bool = False,
    jvm_memory: str | None = None,
    shuffle_partitions: int | None = None,
    broadcast_bytes: int | None = None,
    spark_conf: list[str] | None = None,
    max_tree_gb: float | None = None,
) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("run.json", "person_index.parquet", "pairs.parquet"):
        path = out / stale
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", engine, dataset.folder, str(out)]
    command += ["--seed", str(seed)] + (["--cores", str(cores)] if cores else [])
    if settings_path is not None:
        command += ["--settings", str(settings_path)]
    if pairs_parquet:
        command.append("--pairs-parquet")
    if jvm_memory:
        command += ["--jvm-memory", jvm_memory]
    if shuffle_partitions:
        command += ["--shuffle-partitions", str(shuffle_partitions)]
    if broadcast_bytes is not None:
        command += ["--broadcast-bytes", str(broadcast_bytes)]
    for item in spark_conf or []:
        command += ["--spark-conf", item]
    log = out / "run.log"
    peak_tree = 0
    done = threading.Event()
    timed_out = threading.Event()
    over_cap = threading.Event()
    cap = int(max_tree_gb * 1024**3) if max_tree_gb else None
    load_start = os.getloadavg()
    with log.open("w") as sink:
        start = time.perf_counter()
        child = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True, env=checkout_env()
        )

        def sample() -> None:
            nonlocal peak_tree
            while not done.is_set():
                peak_tree = max(peak_tree, _tree_rss(child.pid))
                if cap is not None and peak_tree > cap and not over_cap.is_set():
                    # a memory cap for the whole tree: stop before the machine has to
                    over_cap.set()
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(child.pid, signal.SIGKILL)
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
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
    }
    if max_tree_gb:
        result["max_tree_gb"] = max_tree_gb
    if timed_out.is_set():
        result["status"] = f"timed out after {timeout:.0f} s"
    elif over_cap.is_set():
        result["status"] = f"stopped: process tree over the {max_tree_gb:g} GB cap"
    elif code == -signal.SIGKILL:
        result["status"] = "killed (SIGKILL: out of memory, most likely)"
    run_json = out / "run.json"
    if run_json.exists() and code == 0:
        result.update(json.loads(run_json.read_text()))
    else:
        result["reached"] = _last_progress(log)
        result["settings"] = str(settings_path) if settings_path else "config/linkage.yaml (shipped)"
        blocked = _blocked_pairs(log)
        if blocked is not None:  # how many candidates blocking made, before the run stopped
            result["facts"] = {"candidate_pairs": blocked}
    return result


def _blocked_pairs(log: Path) -> int | None:
    """Candidate pairs from a log's progress (``blocked: N ...`` or ``comparing N ...``), if any."""
    if not log.exists():
        return None
    found = re.findall(r"\s(?:blocked:|comparing) ([\d,]+) candidate pairs", log.read_text(errors="replace"))
    return int(found[0].replace(",", "")) if found else None


def _score(out: Path, dataset: _datasets.Dataset) -> dict[str, Any]:
    """Pairwise and B-cubed scores of a run's people against the data set's truth."""
    import pandas as pd

    from linkage.evaluate import evaluate

    scores = evaluate(pd.read_parquet(out / "person_index.parquet"), pd.read_parquet(dataset.truth_path))
    keep = ("precision", "recall", "f1")
    return {
        "pairwise": {k: scores["pairwise"][k] for k in keep},
        "cross_source": {k: scores["cross_source"][k] for k in keep},
        "bcubed": {k: v for k, v in scores["bcubed"].items() if k in keep},
        "predicted_people": scores["predicted_people"],
        "true_people": scores["true_people"],
    }


def blocking_check(dataset: _datasets.Dataset, settings_path: Path | None) -> dict[str, Any]:
    """Pairs completeness of a settings file's blocking on a data set with known truth.

    The true pairs are the pairs of distinct (prepared) records of one true person; the
    candidates are the blocking rules' union, as both engines make it. Counts only.
    """
    import numpy as np
    import pandas as pd

    from linkage import LinkageSettings
    from linkage.blocking import block
    from linkage.link import prepare_for_linkage, with_nicknames
    from linkage.scorer import household_rules

    settings = LinkageSettings.load(settings_path)
    folder = Path(dataset.folder)
    stated_path = folder / "workspace" / "stated_relationships.parquet"
    stated = pd.read_parquet(stated_path) if stated_path.exists() else None
    prepared, position, keys = prepare_for_linkage(pd.read_parquet(dataset.records_path), stated)
    with_nicknames(prepared, settings)
    truth = pd.read_parquet(dataset.truth_path).set_index("record_key")["person_id"]
    owner = pd.DataFrame({"pos": position, "person": pd.Series(keys).map(truth).to_numpy()})
    owner = owner.dropna().drop_duplicates("pos")  # a distinct record's first record decides
    person = np.full(len(prepared), -1, dtype=np.int64)
    person[owner["pos"].to_numpy()] = pd.factorize(owner["person"])[0]
    known = np.flatnonzero(person >= 0)
    order = known[np.argsort(person[known], kind="stable")]
    group = person[order]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    sizes = np.diff(np.r_[starts, len(group)])
    n = len(prepared)
    codes = []
    for begin, size in zip(starts[sizes > 1], sizes[sizes > 1], strict=True):
        members = np.sort(order[begin : begin + size])
        a, b = np.triu_indices(size, 1)
        codes.append(members[a] * n + members[b])
    true_pairs = np.unique(np.concatenate(codes)) if codes else np.zeros(0, np.int64)
    rules = [*household_rules(settings.household_block_size), *settings.rules]
    blocked = block(prepared, rules, link_type=settings.link_type, max_pairs_per_rule=2**62)
    candidates = blocked.left.astype(np.int64) * n + blocked.right.astype(np.int64)
    hit = np.isin(candidates, true_pairs)
    first = np.bincount(blocked.rule[hit], minlength=len(rules))
    counts = blocked.counts.assign(true_pairs_first_found=first)
    return {
        "distinct_records": n,
        "candidate_pairs": len(candidates),
        "true_pairs": len(true_pairs),
        "true_pairs_found": int(hit.sum()),
        "pairs_completeness": round(float(hit.sum()) / max(len(true_pairs), 1), 5),
        "rules": counts.to_dict(orient="records"),
    }


def _compare(local_dir: Path, spark_dir: Path) -> dict[str, Any]:
    """Do the two engines' results agree: same people, same ids, same weights?"""
    import numpy as np
    import pandas as pd

    a = pd.read_parquet(local_dir / "person_index.parquet").sort_values("record_key").reset_index(drop=True)
    b = pd.read_parquet(spark_dir / "person_index.parquet").sort_values("record_key").reset_index(drop=True)
    same_records = a["record_key"].equals(b["record_key"])
    same_ids = same_records and bool((a["person_id"] == b["person_id"]).all())
    columns = ["record_key_l", "record_key_r", "match_weight"]
    pa = pd.read_parquet(local_dir / "pairs.parquet", columns=columns)
    pb = pd.read_parquet(spark_dir / "pairs.parquet", columns=columns)  # a file, or Spark's folder
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
            records = facts.get("records") or store["datasets"].get(name.split(" (")[0], {}).get("records")
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
        "write_pairs",
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
    scored = [
        (name, engine, run)
        for name, runs in store.get("runs", {}).items()
        for engine in ENGINES
        if (run := runs.get(engine)) is not None and "scores" in run
    ]
    if scored:
        lines += ["", "### Quality against the truth", ""]
        lines.append(
            "| data set | engine | settings | pairwise precision | pairwise recall | pairwise F1 | "
            "cross-source F1 | B-cubed F1 | people (true) |"
        )
        lines.append("|---|---|---|---:|---:|---:|---:|---:|---:|")
        for name, engine, run in scored:
            sc = run["scores"]
            cells = [
                name,
                engine,
                f"`{run.get('settings') or 'config/linkage.yaml (shipped)'}`",
                f"{sc['pairwise']['precision']:.4f}",
                f"{sc['pairwise']['recall']:.4f}",
                f"{sc['pairwise']['f1']:.4f}",
                f"{sc['cross_source']['f1']:.4f}",
                f"{sc['bcubed']['f1']:.4f}",
                f"{sc['predicted_people']:,} ({sc['true_people']:,})",
            ]
            lines.append("| " + " | ".join(cells) + " |")
    blocking = store.get("blocking", {})
    if blocking:
        lines += ["", "### Blocking: pairs completeness", ""]
        lines.append(
            "Candidate pairs of the blocking rules' union and the share of true pairs (two distinct "
            "records of one true person) among them, before any scoring."
        )
        lines += [""]
        lines.append("| data set | settings | candidate pairs | true pairs found | pairs completeness |")
        lines.append("|---|---|---:|---:|---:|")
        for label, check in blocking.items():
            found = f"{check['true_pairs_found']:,} / {check['true_pairs']:,}"
            lines.append(
                f"| {label} | `{check['settings']}` | {check['candidate_pairs']:,} | {found} | "
                f"{check['pairs_completeness']:.4f} |"
            )
        lines += ["", "Per rule: pairs it alone makes, pairs it finds first, true pairs it finds first.", ""]
        lines.append("| data set | rule | pairs | new pairs | true pairs first found |")
        lines.append("|---|---|---:|---:|---:|")
        for label, check in blocking.items():
            for rule in check["rules"]:
                lines.append(
                    f"| {label} | {rule['rule']} | {rule['pairs']:,} | {rule['new_pairs']:,} | "
                    f"{rule['true_pairs_first_found']:,} |"
                )
    unfinished = [
        (name, engine, run)
        for name, runs in store.get("runs", {}).items()
        for engine in ENGINES
        if (run := runs.get(engine)) is not None and run.get("status") != "ok"
    ]
    if unfinished:
        lines += ["", "### Runs that did not finish", ""]
        lines.append(
            "| data set | engine | status | settings | last progress line | load average at start / end |"
        )
        lines.append("|---|---|---|---|---|---|")
        for name, engine, run in unfinished:
            load = " / ".join(
                ", ".join(f"{x:.1f}" for x in run.get(key, [])) or "–"
                for key in ("load_average_start", "load_average_end")
            )
            settings = f"`{run.get('settings', '')}`"
            cells = [name, engine, run["status"], settings, run.get("reached") or "–", load]
            lines.append("| " + " | ".join(cells) + " |")
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
    parser.add_argument(
        "--settings", type=Path, default=None, help="linkage settings (default: config/linkage.yaml)"
    )
    parser.add_argument(
        "--pairs-parquet",
        action="store_true",
        help="Spark writes the pairs table to Parquet, not collected (link_records_spark pairs_path)",
    )
    parser.add_argument("--jvm-memory", default=None, help="Spark's spark.driver.memory, e.g. 4g")
    parser.add_argument("--shuffle-partitions", type=int, default=None, help="spark.sql.shuffle.partitions")
    parser.add_argument(
        "--broadcast-bytes", type=int, default=None, help="spark.kinlink.broadcastBytes (0: records joined)"
    )
    parser.add_argument(
        "--spark-conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a runtime Spark setting, e.g. spark.kinlink.pairStorage=DISK_ONLY (repeatable)",
    )
    parser.add_argument(
        "--max-tree-gb", type=float, default=None, help="stop a run whose process tree holds more than this"
    )
    parser.add_argument("--score", action="store_true", help="score each run's people against the truth")
    parser.add_argument(
        "--score-existing",
        action="store_true",
        help="do not run the engines: score the people of their last finished runs against the truth",
    )
    parser.add_argument(
        "--blocking-check", action="store_true", help="pairs completeness of the settings' blocking rules"
    )
    parser.add_argument("--render-only", action="store_true")
    parser.add_argument(
        "--child", nargs=3, metavar=("ENGINE", "DATASET_DIR", "OUT_DIR"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        engine, folder, out = args.child
        return _child(
            engine,
            Path(folder),
            Path(out),
            args.seed,
            args.cores,
            settings_path=args.settings,
            pairs_parquet=args.pairs_parquet,
            jvm_memory=args.jvm_memory,
            shuffle_partitions=args.shuffle_partitions,
            broadcast_bytes=args.broadcast_bytes,
            spark_conf=args.spark_conf,
        )

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
        _results_md(args.out)
        return 0
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    names = [d.strip() for d in args.datasets.split(",") if d.strip()]
    unknown = [e for e in engines if e not in ENGINES] + [n for n in names if not _datasets.known(n)]
    if unknown:
        parser.error(f"unknown engine or data set: {', '.join(unknown)}")
    store["machine"] = _machine()
    settings_path = args.settings.resolve() if args.settings else None
    inside = settings_path is not None and settings_path.is_relative_to(ROOT)
    shown = str(settings_path.relative_to(ROOT)) if settings_path is not None and inside else None
    settings_shown = shown or (str(settings_path) if settings_path else "config/linkage.yaml (shipped)")
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
        # runs with other settings are kept beside the shipped settings' runs
        label = name if settings_path is None else f"{name} ({settings_path.stem})"
        work = args.work / (name if settings_path is None else f"{name}-{settings_path.stem}")
        if args.blocking_check:
            start = time.perf_counter()
            check = blocking_check(dataset, settings_path)
            check["settings"] = settings_shown
            store.setdefault("blocking", {})[label] = check
            print(
                f"  blocking: {check['candidate_pairs']:,} candidates, completeness "
                f"{check['pairs_completeness']:.4f} ({time.perf_counter() - start:.0f} s)",
                flush=True,
            )
            args.json.write_text(json.dumps(store, indent=2, default=str))
        for engine in engines:
            out = work / engine
            if args.score_existing:
                kept = store["runs"].get(label, {}).get(engine)
                if kept and kept.get("status") == "ok" and (out / "person_index.parquet").exists():
                    kept["scores"] = _score(out, dataset)
                    print(f"  {engine}: pairwise F1 {kept['scores']['pairwise']['f1']:.4f}", flush=True)
                continue
            print(f"  {engine}: running (log {out / 'run.log'})", flush=True)
            result = _run_child(
                engine,
                dataset,
                out,
                seed=args.seed,
                timeout=args.timeout,
                cores=args.cores,
                settings_path=settings_path,
                pairs_parquet=args.pairs_parquet,
                jvm_memory=args.jvm_memory,
                shuffle_partitions=args.shuffle_partitions,
                broadcast_bytes=args.broadcast_bytes,
                spark_conf=args.spark_conf,
                max_tree_gb=args.max_tree_gb,
            )
            result["date"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            result["settings"] = settings_shown
            if args.score and result["status"] == "ok" and dataset.truth_path.exists():
                result["scores"] = _score(out, dataset)
                print(f"  {engine}: pairwise F1 {result['scores']['pairwise']['f1']:.4f}", flush=True)
            store["runs"].setdefault(label, {})[engine] = result
            peaks = f"peak {result['peak_rss_mb']:,.0f} MB (tree {result['peak_tree_rss_mb']:,.0f} MB)"
            print(f"  {engine}: {result['status']}, {result['wall_s']:,.0f} s, {peaks}", flush=True)
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(store, indent=2, default=str))
        local_dir, spark_dir = work / "local", work / "spark"
        runs = store["runs"].get(label, {})
        if (
            not args.score_existing
            and all(runs.get(e, {}).get("status") == "ok" for e in ENGINES)
            and (local_dir / "pairs.parquet").exists()
        ):
            store.setdefault("equivalence", {})[label] = _compare(local_dir, spark_dir)
            print(f"  same answer: {store['equivalence'][label]}", flush=True)
        args.json.write_text(json.dumps(store, indent=2, default=str))
    args.out.write_text(render(store))
    print(f"wrote {args.out} and {args.json}")
    _results_md(args.out)
    return 0


def _results_md(spark_md: Path) -> None:
    """Rebuild ``bench/RESULTS.md`` (which includes ``SPARK.md``), as the other benchmarks do."""
    if spark_md.resolve() != (BENCH / "SPARK.md").resolve():
        return
    import _report

    (BENCH / "RESULTS.md").write_text(_report.render_all(BENCH))
    print(f"wrote {BENCH / 'RESULTS.md'}")


if __name__ == "__main__":
    raise SystemExit(main())
