"""kinlink.synth: a seeded synthetic English local authority and its agency extracts.

:func:`generate_population` builds the borough (pure: a seed in, DataFrames out);
:func:`write_extracts` writes one file per agency source, each in its own format with its
own quirks and noise, and the ground truth under ``truth/``; :func:`synthesise` does both.
The mappings for the extracts are ``config/sources/<source>.yaml``.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as d:
...     summary = synthesise(d, n_people=300, seed=7)
>>> sorted(summary.records)
['csc', 'health', 'housing', 'police_da', 'probation', 'school', 'yot']
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kinlink import __version__
from kinlink.synth._extracts import SOURCES, build_extracts, truth_records
from kinlink.synth._generate import Seed, as_generator, generate_population
from kinlink.synth._population import Population
from kinlink.synth._write import FILES, WRITERS, write_parquet

__all__ = [
    "FILES",
    "SOURCES",
    "Population",
    "SynthSummary",
    "generate_population",
    "synthesise",
    "write_extracts",
]


@dataclass(frozen=True)
class SynthSummary:
    """What :func:`synthesise` wrote: paths, rows and person-records per source, timings."""

    out_dir: Path
    seed: int | None
    people: int
    files: dict[str, Path] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)
    expected_quarantine: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_records(self) -> int:
        """Person-records across every extract."""
        return sum(self.records.values())

    @property
    def sources(self) -> dict[str, dict[str, object]]:
        """Per source: ``file``, ``rows``, ``records`` and ``expected_quarantine``."""
        return {
            s: {
                "file": self.files[s],
                "rows": self.rows.get(s, 0),
                "records": self.records.get(s, 0),
                "expected_quarantine": self.expected_quarantine.get(s, 0),
            }
            for s in self.rows
        }

    def to_dict(self) -> dict[str, object]:
        return {
            "out_dir": str(self.out_dir),
            "seed": self.seed,
            "people": self.people,
            "files": {k: str(v) for k, v in self.files.items()},
            "rows": dict(self.rows),
            "records": dict(self.records),
            "expected_quarantine": dict(self.expected_quarantine),
            "seconds": round(self.seconds, 3),
        }


def write_extracts(population: Population, out_dir: str | Path, *, seed: Seed) -> dict[str, Path]:
    """Write every agency extract of ``population`` into ``out_dir`` and the truth under
    ``out_dir/truth/``.

    Returns the path of each source's file (and ``truth`` for the truth folder). The same
    population and seed give byte-identical files.
    """
    return _write_all(population, out_dir, seed)[0]


def _write_all(
    population: Population, out_dir: str | Path, seed: Seed
) -> tuple[dict[str, Path], dict[str, tuple[int, int, int]]]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    extracts = build_extracts(population, seed=as_generator(seed))
    paths: dict[str, Path] = {}
    for source, ex in extracts.items():
        path = out / FILES[source]
        WRITERS[source](ex, path)
        paths[source] = path
    truth = out / "truth"
    truth.mkdir(exist_ok=True)
    write_parquet(truth_records(extracts), truth / "records.parquet")
    p = population.persons
    write_parquet(
        p[
            [
                "person_id",
                "given_name",
                "middle_names",
                "family_name",
                "birth_family_name",
                "dob",
                "sex",
                "dod",
                "unborn",
                "nhs_number",
            ]
        ],
        truth / "persons.parquet",
    )
    write_parquet(population.families, truth / "families.parquet")
    write_parquet(population.relationships, truth / "relationships.parquet")
    write_parquet(population.residences, truth / "households.parquet")
    paths["truth"] = truth
    counts = {
        source: (
            len(ex.frame),
            int(pd.notna(ex.truth["source_record_id"]).sum()),
            int(ex.truth["expected_quarantine"].sum()),
        )
        for source, ex in extracts.items()
    }
    return paths, counts


def synthesise(out_dir: str | Path, n_people: int = 2000, seed: int | None = 42) -> SynthSummary:
    """Generate a population of about ``n_people`` and write its extracts and truth.

    Besides the truth tables, ``truth/synth.json`` records the seed, the sizes and, per
    source, the rows, person-records and intended quarantines (no timings: the same seed
    gives the same bytes).
    """
    t0 = time.perf_counter()
    rng = as_generator(seed)
    population = generate_population(n_people, seed=rng)
    files, counts = _write_all(population, out_dir, rng)
    manifest = {
        "generator": "kinlink.synth",
        "version": __version__,
        "seed": seed,
        "n_people": n_people,
        "people": len(population.persons),
        "as_at": population.as_at.isoformat(),
        "files": {k: v.name for k, v in files.items() if k in FILES},
        "rows": {k: v[0] for k, v in counts.items()},
        "records": {k: v[1] for k, v in counts.items()},
        "expected_quarantine": {k: v[2] for k, v in counts.items()},
    }
    (files["truth"] / "synth.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return SynthSummary(
        out_dir=Path(out_dir),
        seed=seed,
        people=len(population.persons),
        files=files,
        rows={k: v[0] for k, v in counts.items()},
        records={k: v[1] for k, v in counts.items()},
        expected_quarantine={k: v[2] for k, v in counts.items()},
        seconds=time.perf_counter() - t0,
    )
