"""Ingest many sources: read each through its adapter, canonicalise, and join the tables.

This is the edge where files are read (through :mod:`ingest.adapters`); the tables it
returns are what a workspace stores.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ingest.adapters import read_source
from ingest.canonicalise import SourceCounts, SourceTables, canonicalise
from ingest.errors import SettingsError
from ingest.mapping import SourceMapping, load_mapping
from ingest.schema import QUARANTINE, TABLES
from ingest.vocabulary import InterventionVocabulary

__all__ = ["IngestResult", "ingest_sources", "load_mappings"]


@dataclass(frozen=True)
class IngestResult:
    """The canonical tables of every source, with per-source accounting and input facts."""

    records: pd.DataFrame
    events: pd.DataFrame
    stated_relationships: pd.DataFrame
    quarantine: pd.DataFrame
    counts: Mapping[str, SourceCounts]
    inputs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "records": self.records,
            "events": self.events,
            "stated_relationships": self.stated_relationships,
            "quarantine": self.quarantine,
        }


def load_mappings(paths: Iterable[Path | str]) -> list[SourceMapping]:
    """Load mapping files (a folder stands for every `*.yaml` in it), checking names are unique."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(p.glob("*.yaml")) + sorted(p.glob("*.yml"))
        else:
            files.append(p)
    if not files:
        raise SettingsError("no source mappings found")
    mappings = [load_mapping(f) for f in files]
    seen: dict[str, Path] = {}
    for f, m in zip(files, mappings, strict=True):
        if m.source in seen:
            raise SettingsError(f"source {m.source!r} is defined twice: {seen[m.source]} and {f}")
        seen[m.source] = f
    return mappings


def _dangling(tables: list[SourceTables], record_keys: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop stated relationships naming a record no source holds; quarantine them as items."""
    rels = pd.concat([t.stated_relationships for t in tables], ignore_index=True)
    if rels.empty:
        return rels, QUARANTINE.empty_table().to_pandas()
    missing = ~rels["from_record_key"].isin(record_keys) | (
        rels["to_record_key"].notna() & ~rels["to_record_key"].isin(record_keys)
    )
    bad = rels[missing]
    q = pd.DataFrame(
        {
            "source": bad["source"],
            "row_number": bad["row_number"].astype("int64"),
            "scope": "item",
            "reason": "unresolved_relationship",
            "column": None,
            "message": "relationship names a record that no source holds (absent or quarantined); left out",
            "raw": None,
        },
        columns=QUARANTINE.names,
    )
    return rels[~missing].reset_index(drop=True), q


def ingest_sources(
    mappings: Iterable[SourceMapping],
    data_dir: Path | str,
    vocabulary: InterventionVocabulary,
    *,
    today: dt.date | None = None,
    on_source: Callable[[str, SourceCounts], None] | None = None,
) -> IngestResult:
    """Read and canonicalise every source.

    ``on_source(name, counts)`` is called after each source, for progress display.
    """
    data_dir = Path(data_dir)
    done: list[SourceTables] = []
    counts: dict[str, SourceCounts] = {}
    inputs: dict[str, dict[str, Any]] = {}
    for mapping in mappings:
        raw = read_source(mapping.source, mapping.input, data_dir, max_field_length=mapping.max_field_length)
        tables = canonicalise(raw, mapping, vocabulary, today=today)
        done.append(tables)
        counts[mapping.source] = tables.counts
        inputs[mapping.source] = {
            "format": mapping.input.format,
            "location": raw.location,
            "sha256": raw.sha256,
            "encoding": raw.encoding,
            "delimiter": raw.delimiter,
        }
        if on_source is not None:
            on_source(mapping.source, tables.counts)

    def concat(name: str) -> pd.DataFrame:
        frames = [getattr(t, name) for t in done if len(getattr(t, name))]
        if not frames:
            return TABLES[name].empty_table().to_pandas()
        return pd.concat(frames, ignore_index=True)

    records = concat("records")
    rels, dangling_q = _dangling(done, set(records["record_key"]))
    quarantine = (
        pd.concat([concat("quarantine"), dangling_q], ignore_index=True)
        if len(dangling_q)
        else concat("quarantine")
    )
    if len(dangling_q):
        extra = dangling_q.groupby("source").size()
        for source, n in extra.items():
            c = counts[str(source)]
            reasons = dict(c.quarantine_reasons)
            reasons["unresolved_relationship"] = reasons.get("unresolved_relationship", 0) + int(n)
            counts[str(source)] = SourceCounts(
                **{
                    **c.__dict__,
                    "items_quarantined": c.items_quarantined + int(n),
                    "stated_relationships": c.stated_relationships - int(n),
                    "quarantine_reasons": reasons,
                }
            )
    return IngestResult(
        records=records,
        events=concat("events"),
        stated_relationships=rels,
        quarantine=quarantine,
        counts=counts,
        inputs=inputs,
    )
