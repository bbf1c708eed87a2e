"""The Python API for data pipelines: every stage as a function of tables, no workspace needed.

Each function is a thin wrapper over the pure core (:func:`ingest.sources.ingest_sources`,
:func:`linkage.link_records`, :func:`linkage.resolve_families`,
:func:`genogram.document.family_outputs`): tables in (pandas DataFrames or Arrow tables),
DataFrames out, keyed by the canonical table names of ``ingest.schema``. :func:`run` runs a
whole pipeline file against its workspace, as ``kinlink run -c`` does.

Examples
--------
A synthetic local authority, end to end in memory (each function's own example continues
this one):

>>> import tempfile
>>> import kinlink
>>> from kinlink.synth import synthesise
>>> scratch = tempfile.TemporaryDirectory()  # removed when the session ends
>>> _ = synthesise(scratch.name, n_people=150, seed=7)
>>> tables = kinlink.ingest_frames(scratch.name)
>>> sorted(tables)
['events', 'quarantine', 'records', 'sources', 'stated_relationships']
>>> people = kinlink.link_frames(tables["records"], tables["stated_relationships"])
>>> sorted(people)
['blocking', 'model', 'pairs', 'person_id_changes', 'person_index', 'persons']
>>> families = kinlink.family_frames(
...     tables["records"], tables["stated_relationships"], tables["events"],
...     people["person_index"], people["persons"])
>>> sorted(families)
['families', 'family_id_changes', 'households', 'interventions', 'relationship_conflicts', 'relationships']
>>> family_id = families["families"]["family_id"].iloc[0]
>>> pdf = kinlink.fsr_bytes({**tables, **people, **families}, family_id,
...                         role="mash_social_worker", purpose="safeguarding_assessment")
>>> pdf[:5]
b'%PDF-'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa

from ingest.errors import SettingsError
from kinlink.paths import config_path
from kinlink.pipeline import PipelineConfig, RunSummary, load_pipeline
from kinlink.pipeline import run as _run_pipeline

__all__ = [
    "FSR_TABLES",
    "Table",
    "family_frames",
    "fsr_bytes",
    "ingest_frames",
    "link_frames",
    "run",
]

#: A table as the API takes it: a pandas DataFrame or an Arrow table.
Table: TypeAlias = pd.DataFrame | pa.Table

#: The tables a Family Summary Record is drawn from (``records`` adds each source's "data as at").
FSR_TABLES: tuple[str, ...] = (
    "persons",
    "relationships",
    "families",
    "households",
    "interventions",
    "relationship_conflicts",
)


def _frame(table: Table | None, name: str) -> pd.DataFrame:
    if table is None:
        raise SettingsError(f"the {name} table is required")
    if isinstance(table, pa.Table):
        return table.to_pandas()
    if isinstance(table, pd.DataFrame):
        return table
    raise SettingsError(f"{name}: expected a pandas DataFrame or an Arrow table, not {type(table).__name__}")


def _optional_frame(table: Table | None, name: str) -> pd.DataFrame | None:
    return None if table is None else _frame(table, name)


def run(
    config: PipelineConfig | Path | str | Mapping[str, Any],
    *,
    on_step: Callable[[str], None] | None = None,
    on_family: Callable[[str], None] | None = None,
    force: bool = False,
) -> RunSummary:
    """Run a whole pipeline (what ``kinlink run -c PIPELINE.yaml`` does) and return its summary.

    Parameters
    ----------
    config
        A :class:`~kinlink.pipeline.PipelineConfig`, the path of a pipeline YAML file (see
        ``config/pipeline.yaml``), or the same document as a mapping (relative paths are then
        relative to the working directory).
    on_step, on_family
        Called with a short message as each step starts, and with each family id as its
        FSR is written (no personal data in either).
    force
        Run every stage, even one whose inputs, settings and kinlink version are those of its
        last run in the workspace (which is otherwise reused, not run again).

    Returns
    -------
    RunSummary
        The workspace, the seconds of each stage and each stage's result.

    Examples
    --------
    Continuing the module example (the extracts are in ``scratch.name``):

    >>> summary = kinlink.run({"workspace": f"{scratch.name}/ws", "data": scratch.name,
    ...                        "stages": ["ingest", "link"]})
    >>> list(summary.stage_seconds)
    ['ingest', 'link']
    >>> (summary.workspace / "person_index.parquet").exists()
    True
    """
    if isinstance(config, PipelineConfig):
        chosen = config
    elif isinstance(config, Mapping):
        chosen = PipelineConfig.from_dict(config, base_dir=Path.cwd())
    else:
        chosen = load_pipeline(config)
    return _run_pipeline(chosen, on_step=on_step, on_family=on_family, force=force)


def ingest_frames(
    data_dir: Path | str,
    sources: Sequence[Path | str] | Path | str | None = None,
    vocabulary: Path | str | None = None,
    *,
    today: dt.date | None = None,
) -> dict[str, pd.DataFrame]:
    """Read every agency extract in ``data_dir`` through its mapping into the canonical tables.

    Parameters
    ----------
    data_dir
        Folder holding the extracts the mappings name.
    sources
        Mapping files or folders of them (default: the shipped ``config/sources/``).
    vocabulary
        The intervention vocabulary (default: the shipped ``config/interventions.yaml``).
    today
        The date ages are counted to when a source gives an age rather than a date of birth.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``records``, ``events``, ``stated_relationships`` and ``quarantine`` (columns as in
        ``kinlink schema``), and ``sources``: one row per source with its counts (rows read =
        rows accepted + rows quarantined).

    Raises
    ------
    SettingsError, SourceError
        A missing folder or mapping, or an extract that cannot be read (the message names the
        source and column).

    Examples
    --------
    Continuing the module example: every row read was accepted or quarantined.

    >>> counts = tables["sources"].set_index("source")
    >>> bool((counts["rows_read"] == counts["rows_accepted"] + counts["rows_quarantined"]).all())
    True
    """
    from ingest.sources import ingest_sources, load_mappings
    from ingest.vocabulary import load_vocabulary

    data = Path(data_dir)
    if not data.is_dir():
        raise SettingsError(f"data folder not found: {data}")
    if sources is None:
        paths: Sequence[Path | str] = (config_path("sources"),)
    elif isinstance(sources, (str, Path)):
        paths = (sources,)
    else:
        paths = sources
    vocab = load_vocabulary(vocabulary if vocabulary is not None else config_path("interventions.yaml"))
    result = ingest_sources(load_mappings(paths), data, vocab, today=today)
    counts = pd.DataFrame(
        [
            {"source": name, **{k: v for k, v in c.to_dict().items() if k != "quarantine_reasons"}}
            for name, c in result.counts.items()
        ]
    )
    return {**result.tables(), "sources": counts}


def _linkage_settings(settings: Any) -> Any:
    from linkage import LinkageSettings

    if settings is None or isinstance(settings, (str, Path)):
        return LinkageSettings.load(settings)
    if isinstance(settings, LinkageSettings):
        return settings
    if isinstance(settings, Mapping):
        return LinkageSettings.from_dict(dict(settings), base_dir=config_path())
    raise SettingsError(
        f"linkage settings: expected a path, a mapping or LinkageSettings, not {type(settings).__name__}"
    )


def link_frames(
    records: Table,
    stated_relationships: Table | None = None,
    settings: Any = None,
    seed: int | np.random.Generator | None = 42,
    *,
    previous_index: Table | None = None,
    train: bool = True,
    id_key: bytes = b"",
) -> dict[str, pd.DataFrame]:
    """Resolve records into people: block, compare, train the model by EM, score, cluster.

    Parameters
    ----------
    records
        The canonical ``records`` table.
    stated_relationships
        The canonical ``stated_relationships`` table: adds relational evidence (records
        stated as parents of the same person) and cannot-links (no one is their own mother).
    settings
        Linkage settings: a :class:`linkage.LinkageSettings`, a YAML/JSON path (a trained
        ``linkage_model.json`` too), the same document as a mapping, or None for the shipped
        ``config/linkage.yaml``. Change the threshold with
        ``{..., "clustering": {"threshold": 0.9}}``.
    seed
        Seed for the random pairs that start EM; the same seed gives the same people.
    previous_index
        An earlier run's ``person_index``: its person ids are kept where the evidence allows.
    train
        Fit the model on these records; False uses the fitted parameters in ``settings``.
    id_key
        Secret for the keyed hash that makes person ids (a workspace keeps one).

    Returns
    -------
    dict of str to pandas.DataFrame
        ``pairs`` (scored candidate pairs: levels, weights, match weight and probability),
        ``person_index`` (record to person), ``persons``, ``person_id_changes``,
        ``blocking`` (pairs per blocking rule) and ``model`` (the fitted m, u and weight of
        every comparison level, see :func:`kinlink.report.model_levels`).

    Examples
    --------
    Continuing the module example: every record has a person, and the model can be read.

    >>> set(people["person_index"]["record_key"]) == set(tables["records"]["record_key"])
    True
    >>> people["model"].columns[:6].tolist()
    ['comparison', 'part', 'level', 'label', 'm', 'u']

    A stricter threshold, from the shipped settings as a document (the model is trained
    again, the same way with the same seed): fewer links, so at least as many people.

    >>> import yaml
    >>> from kinlink.paths import config_path
    >>> document = yaml.safe_load(config_path("linkage.yaml").read_text())
    >>> document["clustering"]["threshold"] = 0.999
    >>> strict = kinlink.link_frames(tables["records"], tables["stated_relationships"], document)
    >>> len(strict["persons"]) >= len(people["persons"])
    True
    """
    from kinlink.report import model_levels
    from linkage import link_records

    result = link_records(
        _frame(records, "records"),
        _linkage_settings(settings),
        stated_relationships=_optional_frame(stated_relationships, "stated_relationships"),
        previous_index=_optional_frame(previous_index, "person_index"),
        seed=seed,
        train=train,
        id_key=id_key,
    )
    model = model_levels(result.settings) if result.settings.parameters is not None else pd.DataFrame()
    return {
        "pairs": result.pairs,
        "person_index": result.person_index,
        "persons": result.persons,
        "person_id_changes": result.id_changes,
        "blocking": result.blocking,
        "model": model,
    }


def family_frames(
    records: Table,
    stated_relationships: Table,
    events: Table,
    person_index: Table,
    persons: Table,
    settings: Any = None,
    *,
    vocabulary: Path | str | None = None,
    previous_families: Table | None = None,
    key: bytes = b"",
) -> dict[str, pd.DataFrame]:
    """Resolve people into households, relationships and families; interventions per person.

    Parameters
    ----------
    records, stated_relationships, events
        The canonical tables from :func:`ingest_frames`.
    person_index, persons
        The people from :func:`link_frames`.
    settings
        A :class:`linkage.FamilySettings`, a YAML path, the same document as a mapping, or
        None for the shipped ``config/families.yaml``.
    vocabulary
        The intervention vocabulary: its children's social care types open the window that
        decides who counts as a child (default: the shipped one).
    previous_families
        An earlier run's ``families``: its family ids are kept.
    key
        Secret for the keyed hash of household, relationship and family ids.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``households``, ``relationships``, ``relationship_conflicts`` (what a plausibility
        rule rejected, and why), ``families``, ``family_id_changes`` and ``interventions``.

    Examples
    --------
    Continuing the module example: every family member is a person.

    >>> set(families["families"]["person_id"]) <= set(people["persons"]["person_id"])
    True
    """
    from ingest.vocabulary import load_vocabulary
    from linkage import FamilySettings, resolve_families

    if settings is None or isinstance(settings, (str, Path)):
        family_settings = FamilySettings.load(settings)
    elif isinstance(settings, FamilySettings):
        family_settings = settings
    elif isinstance(settings, Mapping):
        family_settings = FamilySettings.from_dict(dict(settings))
    else:
        raise SettingsError(
            f"families settings: expected a path, a mapping or FamilySettings, not {type(settings).__name__}"
        )
    vocab = load_vocabulary(vocabulary if vocabulary is not None else config_path("interventions.yaml"))
    result = resolve_families(
        _frame(records, "records"),
        _frame(stated_relationships, "stated_relationships"),
        _frame(events, "events"),
        _frame(person_index, "person_index"),
        _frame(persons, "persons"),
        settings=family_settings,
        window_types=[k for k, t in vocab.types.items() if t.domain == "social_care"],
        previous_families=_optional_frame(previous_families, "families"),
        key=key,
    )
    return result.tables()


def fsr_bytes(
    tables: Mapping[str, Table],
    family_id: str,
    role: str,
    purpose: str,
    *,
    fmt: str = "pdf",
    subject: str | None = None,
    produced: dt.date | None = None,
    as_at: dt.date | None = None,
    policy: Path | str | None = None,
    vocabulary: Path | str | None = None,
) -> bytes:
    """One family's Family Summary Record (or genogram, graph, GEDCOM) for a role and purpose.

    The tables are redacted for the role and purpose (``config/access.yaml``) before anything
    is drawn, exactly as ``kinlink fsr`` does.

    Parameters
    ----------
    tables
        At least ``persons``, ``relationships``, ``families``, ``households`` and
        ``interventions`` (``relationship_conflicts`` adds data-quality notes; ``records``
        gives each source's "data as at"). Other tables are ignored.
    family_id
        The family to draw.
    role, purpose
        The audience; refused unless the access policy allows the pair.
    fmt
        ``pdf`` (the FSR), ``svg`` or ``png`` (the genogram alone), ``dot``, ``json`` (the
        family graph) or ``ged`` (GEDCOM 7, family structure only).
    subject
        ``person_id`` of the subject child, marked on the genogram.
    produced
        Production date printed on each page (default: today).
    as_at
        What "current" means (default: the latest extract date in ``records``, else today).
    policy, vocabulary
        The access policy and intervention vocabulary files (default: the shipped ones).

    Returns
    -------
    bytes

    Raises
    ------
    AccessError
        Unknown role or purpose, or a pair the policy does not allow.
    RenderError
        Unknown family or format, or a genogram with nothing to draw in ``svg``/``png``.

    Examples
    --------
    Continuing the module example: the genogram alone, as SVG.

    >>> svg = kinlink.fsr_bytes({**tables, **people, **families}, family_id, "mash_social_worker",
    ...                 "safeguarding_assessment", fmt="svg")
    >>> b"<svg" in svg[:400]
    True
    """
    from genogram.access import load_policy
    from genogram.document import FORMATS, family_outputs
    from genogram.errors import RenderError
    from ingest.vocabulary import load_vocabulary

    if fmt not in FORMATS:
        raise RenderError(f"unknown output format {fmt!r}; expected one of {list(FORMATS)}")
    missing = [name for name in FSR_TABLES[:-1] if name not in tables]
    if missing:
        raise SettingsError(f"an FSR needs the table(s) {missing}")
    frames = {name: _frame(tables[name], name) for name in FSR_TABLES if name in tables}
    data_as_at: dict[str, dt.date] = {}
    if "records" in tables:
        extracts = _frame(tables["records"], "records")[["source", "extract_date"]].dropna()
        data_as_at = {str(s): d for s, d in extracts.groupby("source")["extract_date"].max().items()}
    outputs = family_outputs(
        frames,
        family_id,
        role=role,
        purpose=purpose,
        policy=load_policy(policy),
        as_at=as_at or (max(data_as_at.values()) if data_as_at else dt.date.today()),
        produced=produced or dt.date.today(),
        data_as_at=data_as_at,
        formats=(fmt,),
        subject=subject,
        vocabulary=load_vocabulary(vocabulary) if vocabulary is not None else None,
    )
    if fmt not in outputs.files:
        raise RenderError(f"family {family_id!r} has nothing to draw as {fmt} for this role")
    return bytes(outputs.files[fmt])
