"""Pipeline runs: each stage reads and writes a workspace; `run` does them in order."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ingest.canonicalise import SourceCounts
from ingest.errors import SettingsError, WorkspaceError
from ingest.sources import IngestResult, ingest_sources, load_mappings
from ingest.vocabulary import load_vocabulary
from kinlink.manifest import package_versions, stage_entry, utc_now
from kinlink.paths import config_path
from kinlink.workspace import Workspace, file_sha256
from linkage import LinkageSettings, LinkResult, link_records
from linkage.family_settings import FamilySettings
from linkage.kinship import KinshipResult, resolve_families

__all__ = [
    "STAGES",
    "FsrConfig",
    "FsrSummary",
    "PipelineConfig",
    "RunSummary",
    "load_pipeline",
    "run",
    "run_families",
    "run_fsr",
    "run_ingest",
    "run_link",
    "select_families",
    "stage_fingerprint",
]

STAGES: tuple[str, ...] = ("ingest", "link", "families", "fsr")

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
    fsr: FsrConfig = field(default_factory=lambda: FsrConfig())
    access: Path = field(default_factory=lambda: config_path("access.yaml"))
    engine: str = "local"

    _KEYS = (
        "workspace",
        "data",
        "sources",
        "vocabulary",
        "stages",
        "linkage",
        "families",
        "fsr",
        "access",
        "engine",
    )

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
            fsr=FsrConfig.from_dict(d.get("fsr")),
            access=resolve(d["access"]) if d.get("access") else config_path("access.yaml"),
            engine=_engine(d.get("engine", "local")),
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
            "fsr": self.fsr.to_dict(),
            "access": str(self.access),
            "engine": self.engine,
        }


def _engine(value: Any) -> str:
    if value not in ("local", "spark"):
        raise SettingsError(f"pipeline config: engine must be 'local' or 'spark', not {value!r}")
    return str(value)


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
    with workspace.lock(), workspace.transaction() as txn:
        tables = {name: txn.write_table(name, frame) for name, frame in result.tables().items()}
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
        txn.write_manifest(manifest)
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
#: Execution engines for linkage: the embedded local one, and Spark (the `spark` extra).
ENGINES: tuple[str, ...] = ("local", "spark")


def run_link(
    workspace: Workspace,
    settings: Path | str | None = None,
    *,
    model: Path | str | None = None,
    seed: int = 42,
    progress: Callable[[str], None] | None = None,
    labels: Path | str | None = None,
    engine: str = "local",
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
    labelled = _read_labels(Path(labels)) if labels is not None else None
    if labelled is not None and model is not None:
        raise SettingsError("labelled pairs train a model: give --labels or --model, not both")
    if engine not in ENGINES:
        raise SettingsError(f"unknown engine {engine!r}; expected one of {list(ENGINES)}")
    linker: Callable[..., LinkResult] = link_records
    if engine == "spark":
        from linkage.spark import link_records_spark

        linker = link_records_spark
    result = linker(
        records,
        LinkageSettings.load(model if model is not None else settings),
        stated_relationships=stated,
        previous_index=previous,
        seed=seed,
        train=model is None,
        progress=progress,
        id_key=workspace.id_key(),
        labelled_pairs=labelled,
    )
    with workspace.lock(), workspace.transaction() as txn:
        tables = {
            "pairs": txn.write_table("pairs", result.pairs),
            "person_index": txn.write_table("person_index", result.person_index),
            "persons": txn.write_table("persons", result.persons),
            "person_id_changes": txn.write_table(
                "person_id_changes", result.id_changes.astype({"records": "int64"})
            ),
        }
        txn.write_json(MODEL_FILE, result.settings.to_dict())
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
        txn.write_manifest(manifest)
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
    with workspace.lock(), workspace.transaction() as txn:
        tables = {name: txn.write_table(name, frame) for name, frame in result.tables().items()}
        manifest = workspace.read_manifest()
        manifest["updated"] = utc_now()
        manifest.setdefault("stages", {})["families"] = stage_entry(
            started,
            time.perf_counter() - t0,
            settings=str(Path(settings or config_path("families.yaml")).resolve()),
            facts=result.facts,
        )
        manifest.setdefault("tables", {}).update(tables)
        txn.write_manifest(manifest)
    return result


@dataclass(frozen=True)
class FsrConfig:
    """What the `fsr` stage renders: for whom, which families, in which formats."""

    role: str = "mash_social_worker"
    purpose: str = "safeguarding_assessment"
    families: str = "all"
    formats: tuple[str, ...] = ("pdf",)
    jobs: int | None = None

    _KEYS = ("role", "purpose", "families", "formats", "jobs")
    SELECTIONS = ("all", "involved")

    @classmethod
    def from_dict(cls, d: Any) -> FsrConfig:
        if d is None:
            return cls()
        if not isinstance(d, Mapping):
            raise SettingsError("pipeline config: fsr must be a mapping")
        unknown = sorted(set(d) - set(cls._KEYS))
        if unknown:
            raise SettingsError(f"pipeline config: fsr: unknown key(s) {unknown}; allowed: {list(cls._KEYS)}")
        families = str(d.get("families", "all"))
        if families not in cls.SELECTIONS:
            raise SettingsError(f"pipeline config: fsr.families must be one of {list(cls.SELECTIONS)}")
        return cls(
            role=str(d.get("role", cls.role)),
            purpose=str(d.get("purpose", cls.purpose)),
            families=families,
            formats=tuple(d.get("formats") or ("pdf",)),
            jobs=int(d["jobs"]) if d.get("jobs") is not None else None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "purpose": self.purpose,
            "families": self.families,
            "formats": list(self.formats),
            "jobs": self.jobs,
        }


@dataclass(frozen=True)
class FsrSummary:
    """What the `fsr` stage wrote."""

    folder: Path
    families: int
    files: int
    seconds: float
    withheld: dict[str, int]


def _login_name() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def select_families(workspace: Workspace, selection: str, vocabulary: Path | str | None = None) -> list[str]:
    """Family ids of the workspace: ``all``, or ``involved`` (a member has a statutory intervention)."""
    families = workspace.read_frame("families")
    ids = sorted(families["family_id"].unique())
    if selection == "all":
        return ids
    if selection != "involved":
        raise SettingsError(f"unknown family selection {selection!r}; expected 'all' or 'involved'")
    vocab = load_vocabulary(vocabulary if vocabulary is not None else config_path("interventions.yaml"))
    statutory = [k for k, t in vocab.types.items() if t.statutory]
    interventions = workspace.read_frame("interventions")
    involved = set(interventions.loc[interventions["event_type"].isin(statutory), "person_id"])
    return sorted(families.loc[families["person_id"].isin(involved), "family_id"].unique())


def run_fsr(
    workspace: Workspace,
    family_ids: Sequence[str],
    *,
    role: str,
    purpose: str,
    formats: Sequence[str] = ("pdf",),
    produced: dt.date | None = None,
    subject: str | None = None,
    jobs: int | None = None,
    policy: Path | str | None = None,
    vocabulary: Path | str | None = None,
    on_family: Callable[[str], None] | None = None,
    who: str | None = None,
) -> FsrSummary:
    """Render Family Summary Records (and other formats) into `WS/fsr/<role>/<family_id>.<fmt>`.

    The role and purpose are checked against the access policy before anything is read;
    every output is drawn from tables redacted for them, and every family's outputs are
    entered in the workspace's audit log (``who``, default the user's login name) before
    they are written. Families render in parallel
    (``jobs`` processes, default: one per core); the same input gives the same bytes apart
    from the production date.
    """
    from concurrent.futures import ProcessPoolExecutor

    from genogram.access import load_policy
    from genogram.document import FORMATS
    from kinlink import _fsr_worker

    started, t0 = utc_now(), time.perf_counter()
    load_policy(policy).check(role, purpose)
    bad = sorted(set(formats) - set(FORMATS))
    if bad:
        raise SettingsError(f"unknown FSR format(s) {bad}; expected some of {list(FORMATS)}")
    for needed in ("families", "persons", "relationships", "interventions", "records"):
        if not workspace.has_table(needed):
            raise WorkspaceError(f"{workspace.path} has no {needed} table; run `kinlink families` first")
    known = set(workspace.read_frame("families")["family_id"])
    missing = [f for f in family_ids if f not in known]
    if missing:
        raise SettingsError(f"{len(missing)} family id(s) not in the workspace, e.g. {missing[0]!r}")
    extracts = workspace.read_frame("records")[["source", "extract_date"]].dropna()
    data_as_at = {str(s): d for s, d in extracts.groupby("source")["extract_date"].max().items()}
    as_at = max(data_as_at.values()) if data_as_at else dt.date.today()
    options = _fsr_worker.options(
        role=role,
        purpose=purpose,
        as_at=as_at,
        produced=produced or dt.date.today(),
        data_as_at=data_as_at,
        formats=formats,
        subject=subject,
    )
    init = (
        workspace.path,
        Path(policy) if policy else None,
        Path(vocabulary) if vocabulary else None,
        options,
    )
    folder = Path("fsr") / role
    withheld: dict[str, int] = {}
    files = 0
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(family_ids) or 1))

    from kinlink import audit

    producer = who or _login_name()

    def keep(result: tuple[str, dict[str, bytes], dict[str, int]]) -> None:
        nonlocal files
        family_id, outputs, held = result
        audit.append(
            workspace.path,
            who=producer,
            role=role,
            purpose=purpose,
            action="fsr",
            family_id=family_id,
            person_ids=[subject] if subject else [],
            withheld=held,
        )
        for fmt, data in outputs.items():
            workspace.write_file(folder / f"{family_id}.{fmt}", data)
            files += 1
        for category, count in held.items():
            withheld[category] = withheld.get(category, 0) + count
        if on_family is not None:
            on_family(family_id)

    if jobs == 1:
        _fsr_worker.load(*init)
        for family_id in family_ids:
            keep(_fsr_worker.render(family_id))
    else:
        with ProcessPoolExecutor(max_workers=jobs, initializer=_fsr_worker.load, initargs=init) as pool:
            for result in pool.map(_fsr_worker.render, family_ids, chunksize=4):
                keep(result)
    seconds = time.perf_counter() - t0
    with workspace.lock(), workspace.transaction() as txn:
        manifest = workspace.read_manifest()
        manifest["updated"] = utc_now()
        manifest.setdefault("stages", {})["fsr"] = stage_entry(
            started,
            seconds,
            role=role,
            purpose=purpose,
            formats=list(formats),
            families=len(family_ids),
            files=files,
            jobs=jobs,
            withheld=withheld,
        )
        txn.write_manifest(manifest)
    return FsrSummary(
        folder=workspace.path / folder,
        families=len(family_ids),
        files=files,
        seconds=seconds,
        withheld=withheld,
    )


def _read_labels(path: Path) -> pd.DataFrame:
    """Labelled pairs from Parquet or CSV: record_key_l, record_key_r, match (true/false, 1/0)."""
    if not path.exists():
        raise SettingsError(f"labelled pairs not found: {path}")
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, dtype=str)
    if "match" in frame and frame["match"].dtype == object:
        truth = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
        mapped = frame["match"].str.strip().str.lower().map(truth)
        if mapped.isna().any():
            raise SettingsError(f"{path.name}: column match must be true/false, 1/0 or yes/no")
        frame = frame.assign(match=mapped.astype(bool))
    return frame


@dataclass(frozen=True)
class RunSummary:
    workspace: Path
    stage_seconds: dict[str, float]
    ingest: IngestResult | None = None
    link: LinkResult | None = None
    families: KinshipResult | None = None
    fsr: FsrSummary | None = None
    reused: tuple[str, ...] = ()


_STAGE_INPUTS: dict[str, tuple[str, ...]] = {
    "link": ("records", "stated_relationships"),
    "families": ("records", "stated_relationships", "events", "person_index", "persons"),
    "fsr": (
        "records",
        "persons",
        "relationships",
        "relationship_conflicts",
        "families",
        "households",
        "interventions",
    ),
}
_STAGE_OUTPUTS: dict[str, tuple[str, ...]] = {
    "ingest": ("records", "events", "stated_relationships", "quarantine"),
    "link": ("pairs", "person_index", "persons"),
    "families": ("households", "relationships", "relationship_conflicts", "families", "interventions"),
    "fsr": (),
}


def _hash_path(digest: Any, path: Path) -> None:
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(str(child.relative_to(path)).encode())
            digest.update(file_sha256(child).encode())
    elif path.exists():
        digest.update(file_sha256(path).encode())
    else:
        digest.update(b"<missing>")


def stage_fingerprint(config: PipelineConfig, stage: str, workspace: Workspace) -> str:
    """What a stage's result depends on: its input tables, its config files, the kinlink version.

    A rerun whose fingerprint for a stage equals the one recorded, with the stage's
    outputs unchanged on disk, reuses that stage instead of running it again.
    """
    from kinlink import __version__

    digest = hashlib.sha256(f"{stage}|{__version__}".encode())
    tables = workspace.read_manifest().get("tables", {})
    for name in _STAGE_INPUTS.get(stage, ()):
        digest.update(f"{name}={tables.get(name, {}).get('sha256')}".encode())
    files: list[Path] = {
        "ingest": [config.data, *config.sources, config.vocabulary],
        "link": [config.linkage],  # both engines give the same answer
        "families": [config.families, config.vocabulary],
        "fsr": [config.access, config.vocabulary],
    }[stage]
    for path in files:
        _hash_path(digest, Path(path))
    if stage == "fsr":
        digest.update(json.dumps(config.fsr.to_dict(), sort_keys=True).encode())
        digest.update(dt.date.today().isoformat().encode())  # the date printed on every page
    return digest.hexdigest()


def _reusable(workspace: Workspace, stage: str, fingerprint: str) -> bool:
    manifest = workspace.read_manifest()
    entry = manifest.get("stages", {}).get(stage, {})
    if entry.get("fingerprint") != fingerprint:
        return False
    tables = manifest.get("tables", {})
    for name in _STAGE_OUTPUTS[stage]:
        path = workspace.table_path(name)
        if not path.exists() or tables.get(name, {}).get("sha256") != file_sha256(path):
            return False
    return True


def _record_fingerprint(workspace: Workspace, stage: str, fingerprint: str) -> None:
    with workspace.lock(), workspace.transaction() as txn:
        manifest = workspace.read_manifest()
        manifest.setdefault("stages", {}).setdefault(stage, {})["fingerprint"] = fingerprint
        txn.write_manifest(manifest)


def run(
    config: PipelineConfig,
    *,
    on_source: SourceProgress | None = None,
    on_step: Callable[[str], None] | None = None,
    on_family: Callable[[str], None] | None = None,
    force: bool = False,
    who: str | None = None,
) -> RunSummary:
    """Run the configured stages in order against the config's workspace.

    A stage whose inputs, config files and kinlink version are those of its last run in
    this workspace, and whose outputs are unchanged on disk, is reused (listed in
    ``RunSummary.reused``) unless ``force``.
    """
    ws = Workspace(config.workspace)
    seconds: dict[str, float] = {}
    reused: list[str] = []
    results: dict[str, Any] = {}

    def one(stage: str) -> None:
        fingerprint = stage_fingerprint(config, stage, ws)
        if not force and _reusable(ws, stage, fingerprint):
            reused.append(stage)
            return
        t0 = time.perf_counter()
        if stage == "ingest":
            results[stage] = run_ingest(
                config.data, ws, config.sources, config.vocabulary, on_source=on_source
            )
        elif stage == "link":
            results[stage] = run_link(ws, config.linkage, progress=on_step, engine=config.engine)
        elif stage == "families":
            results[stage] = run_families(ws, config.families, config.vocabulary, progress=on_step)
        else:
            chosen = select_families(ws, config.fsr.families, config.vocabulary)
            results[stage] = run_fsr(
                ws,
                chosen,
                role=config.fsr.role,
                purpose=config.fsr.purpose,
                formats=config.fsr.formats,
                jobs=config.fsr.jobs,
                policy=config.access,
                vocabulary=config.vocabulary,
                on_family=on_family,
                who=who,
            )
        seconds[stage] = time.perf_counter() - t0
        _record_fingerprint(ws, stage, fingerprint)

    with ws.lock():  # held for the whole run: a second run is refused before any work
        for stage in STAGES:
            if stage in config.stages:
                one(stage)
    return RunSummary(
        workspace=ws.path,
        stage_seconds=seconds,
        ingest=results.get("ingest"),
        link=results.get("link"),
        families=results.get("families"),
        fsr=results.get("fsr"),
        reused=tuple(reused),
    )
