"""Pipeline runs: each stage reads and writes a workspace; `run` does them in order."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ingest.canonicalise import SourceCounts
from ingest.errors import SettingsError, WorkspaceError
from ingest.sources import IngestResult, ingest_sources, load_mappings
from ingest.vocabulary import load_vocabulary
from kinlink.manifest import package_versions, stage_entry, utc_now
from kinlink.paths import config_path
from kinlink.workspace import Workspace
from linkage import LinkageSettings, LinkResult, link_records
from linkage.family_settings import FamilySettings
from linkage.kinship import KinshipResult, resolve_families

__all__ = [
    "STAGES",
    "PipelineConfig",
    "RunSummary",
    "load_pipeline",
    "run",
    "run_families",
    "run_ingest",
    "run_link",
]

STAGES: tuple[str, ...] = ("ingest", "link", "families")

SourceProgress = Callable[[str, SourceCounts], None]


@dataclass(frozen=True)
class PipelineConfig:
    """What `kinlink run` does. Relative paths are relative to the config file's folder."""

    workspace: Path
    data: Path
    sources: tuple[Path, ...] = field(default_factory=lambda: (config_path("sources"),))
    vocabulary: Path = field(default_factory=lambda: config_path("interventions.yaml"))
    stages: tuple[str, ...] = STAGES
    linkage: Path = field(default_factory=lambda: config_path("linkage.yaml"))
    families: Path = field(default_factory=lambda: config_path("families.yaml"))

    _KEYS = ("workspace", "data", "sources", "vocabulary", "stages", "linkage", "families")

    @classmethod
    def from_dict(cls, d: Any, base_dir: Path | str = ".") -> PipelineConfig:
        if not isinstance(d, Mapping):
            raise SettingsError("pipeline config: expected a mapping")
        unknown = sorted(set(d) - set(cls._KEYS))
        if unknown:
            raise SettingsError(f"pipeline config: unknown key(s) {unknown}; allowed: {list(cls._KEYS)}")
        for key in ("workspace", "data"):
            if key not in d:
                raise SettingsError(f"pipeline config: missing required key {key!r}")
        base = Path(base_dir)

        def resolve(p: Any) -> Path:
            return (base / str(p)).resolve()

        sources = d.get("sources")
        stages = tuple(d.get("stages") or STAGES)
        bad = [s for s in stages if s not in STAGES]
        if bad:
            raise SettingsError(f"pipeline config: unknown stage(s) {bad}; known: {list(STAGES)}")
        return cls(
            workspace=resolve(d["workspace"]),
            data=resolve(d["data"]),
            sources=tuple(resolve(s) for s in ([sources] if isinstance(sources, str) else sources))
            if sources
            else (config_path("sources"),),
            vocabulary=resolve(d["vocabulary"]) if d.get("vocabulary") else config_path("interventions.yaml"),
            stages=stages,
            linkage=resolve(d["linkage"]) if d.get("linkage") else config_path("linkage.yaml"),
            families=resolve(d["families"]) if d.get("families") else config_path("families.yaml"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "workspace": str(self.workspace),
            "data": str(self.data),
            "sources": [str(s) for s in self.sources],
            "vocabulary": str(self.vocabulary),
            "stages": list(self.stages),
            "linkage": str(self.linkage),
            "families": str(self.families),
        }


def load_pipeline(path: Path | str) -> PipelineConfig:
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"pipeline config not found: {path}") from None
    except yaml.YAMLError:
        raise SettingsError(f"{path}: not valid YAML") from None
    return PipelineConfig.from_dict(doc, base_dir=path.resolve().parent)


def run_ingest(
    data: Path | str,
    workspace: Workspace,
    sources: Sequence[Path | str] | None = None,
    vocabulary: Path | str | None = None,
    *,
    today: dt.date | None = None,
    on_source: SourceProgress | None = None,
) -> IngestResult:
    """Ingest every source into ``workspace``: the canonical tables and the manifest's ingest entry.

    ``sources`` and ``vocabulary`` default to the shipped `config/sources/` and
    `config/interventions.yaml`.
    """
    started, t0 = utc_now(), time.perf_counter()
    sources = sources if sources is not None else (config_path("sources"),)
    vocabulary = vocabulary if vocabulary is not None else config_path("interventions.yaml")
    mappings = load_mappings(sources)
    vocab = load_vocabulary(vocabulary)
    data = Path(data)
    if not data.is_dir():
        raise SettingsError(f"data folder not found: {data}")
    result = ingest_sources(mappings, data, vocab, today=today, on_source=on_source)
    with workspace.lock():
        tables = {name: workspace.write_table(name, frame) for name, frame in result.tables().items()}
        manifest = workspace.read_manifest()
        manifest.update(
            {
                "kinlink_manifest": 1,
                "updated": utc_now(),
                "versions": package_versions(),
                "inputs": {
                    "data": str(data.resolve()),
                    "vocabulary": str(Path(vocabulary).resolve()),
                    "sources": dict(result.inputs),
                },
            }
        )
        manifest.setdefault("stages", {})["ingest"] = stage_entry(
            started,
            time.perf_counter() - t0,
            sources={name: c.to_dict() for name, c in result.counts.items()},
            totals=_totals(result.counts),
        )
        manifest.setdefault("tables", {}).update(tables)
        workspace.write_manifest(manifest)
    return result


def _totals(counts: Mapping[str, SourceCounts]) -> dict[str, int]:
    keys = (
        "rows_read",
        "rows_accepted",
        "rows_quarantined",
        "items_quarantined",
        "records",
        "events",
        "stated_relationships",
    )
    return {k: sum(int(getattr(c, k)) for c in counts.values()) for k in keys}


MODEL_FILE = "linkage_model.json"


def run_link(
    workspace: Workspace,
    settings: Path | str | None = None,
    *,
    model: Path | str | None = None,
    seed: int = 42,
    progress: Callable[[str], None] | None = None,
) -> LinkResult:
    """Link the workspace's records into people.

    ``settings`` is a linkage settings file (default: the shipped one) and the model is
    trained on the records; ``model`` is a trained model file used as it is. The previous
    `person_index` of the workspace, if any, keeps person ids stable. Writes `pairs`,
    `person_index`, `persons`, `person_id_changes` and the trained model
    (`linkage_model.json`), and the manifest's link entry.
    """
    started, t0 = utc_now(), time.perf_counter()
    records = workspace.read_frame("records")
    stated = (
        workspace.read_frame("stated_relationships") if workspace.has_table("stated_relationships") else None
    )
    previous = workspace.read_frame("person_index") if workspace.has_table("person_index") else None
    result = link_records(
        records,
        LinkageSettings.load(model if model is not None else settings),
        stated_relationships=stated,
        previous_index=previous,
        seed=seed,
        train=model is None,
        progress=progress,
        id_key=workspace.id_key(),
    )
    with workspace.lock():
        tables = {
            "pairs": workspace.write_table("pairs", result.pairs),
            "person_index": workspace.write_table("person_index", result.person_index),
            "persons": workspace.write_table("persons", result.persons),
            "person_id_changes": workspace.write_table(
                "person_id_changes", result.id_changes.astype({"records": "int64"})
            ),
        }
        workspace.write_json(MODEL_FILE, result.settings.to_dict())
        manifest = workspace.read_manifest()
        manifest["updated"] = utc_now()
        manifest.setdefault("stages", {})["link"] = stage_entry(
            started,
            time.perf_counter() - t0,
            seed=seed,
            settings=str(Path(model or settings or config_path("linkage.yaml")).resolve()),
            trained=model is None,
            facts=result.facts,
            blocking=result.blocking.to_dict("records"),
        )
        manifest.setdefault("tables", {}).update(tables)
        workspace.write_manifest(manifest)
    return result


def run_families(
    workspace: Workspace,
    settings: Path | str | None = None,
    vocabulary: Path | str | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> KinshipResult:
    """Resolve the workspace's people into families.

    Reads `records`, `stated_relationships`, `events`, `person_index` and `persons` (run
    `link` first); writes `households`, `relationships`, `relationship_conflicts`,
    `families`, `family_id_changes` and `interventions`, and the manifest's families
    entry. Family ids from an earlier run in the same workspace are kept.
    """
    started, t0 = utc_now(), time.perf_counter()
    for needed in ("records", "stated_relationships", "events", "person_index", "persons"):
        if not workspace.has_table(needed):
            stage = "link" if needed in ("person_index", "persons") else "ingest"
            raise WorkspaceError(f"{workspace.path} has no {needed} table; run `kinlink {stage}` first")
    vocab = load_vocabulary(vocabulary if vocabulary is not None else config_path("interventions.yaml"))
    previous = workspace.read_frame("families") if workspace.has_table("families") else None
    result = resolve_families(
        workspace.read_frame("records"),
        workspace.read_frame("stated_relationships"),
        workspace.read_frame("events"),
        workspace.read_frame("person_index"),
        workspace.read_frame("persons"),
        settings=FamilySettings.load(settings),
        window_types=[k for k, t in vocab.types.items() if t.domain == "social_care"],
        previous_families=previous,
        key=workspace.id_key(),
        progress=progress,
    )
    with workspace.lock():
        tables = {name: workspace.write_table(name, frame) for name, frame in result.tables().items()}
        manifest = workspace.read_manifest()
        manifest["updated"] = utc_now()
        manifest.setdefault("stages", {})["families"] = stage_entry(
            started,
            time.perf_counter() - t0,
            settings=str(Path(settings or config_path("families.yaml")).resolve()),
            facts=result.facts,
        )
        manifest.setdefault("tables", {}).update(tables)
        workspace.write_manifest(manifest)
    return result


@dataclass(frozen=True)
class RunSummary:
    workspace: Path
    stage_seconds: dict[str, float]
    ingest: IngestResult | None = None
    link: LinkResult | None = None
    families: KinshipResult | None = None


def run(
    config: PipelineConfig,
    *,
    on_source: SourceProgress | None = None,
    on_step: Callable[[str], None] | None = None,
) -> RunSummary:
    """Run the configured stages in order against the config's workspace."""
    ws = Workspace(config.workspace)
    seconds: dict[str, float] = {}
    ingest = link = families = None
    if "ingest" in config.stages:
        t0 = time.perf_counter()
        ingest = run_ingest(config.data, ws, config.sources, config.vocabulary, on_source=on_source)
        seconds["ingest"] = time.perf_counter() - t0
    if "link" in config.stages:
        t0 = time.perf_counter()
        link = run_link(ws, config.linkage, progress=on_step)
        seconds["link"] = time.perf_counter() - t0
    if "families" in config.stages:
        t0 = time.perf_counter()
        families = run_families(ws, config.families, config.vocabulary, progress=on_step)
        seconds["families"] = time.perf_counter() - t0
    return RunSummary(workspace=ws.path, stage_seconds=seconds, ingest=ingest, link=link, families=families)
