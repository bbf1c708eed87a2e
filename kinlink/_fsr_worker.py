"""Process-pool side of the FSR stage: each worker reads the tables once, then renders families."""

from __future__ import annotations

import datetime as dt
import gc
import multiprocessing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

FSR_TABLES = ("persons", "relationships", "families", "households", "interventions", "relationship_conflicts")

_STATE: dict[str, Any] = {}


def load(
    workspace: Path,
    policy_path: Path | None,
    vocabulary_path: Path | None,
    options: Mapping[str, Any],
) -> None:
    """Worker initializer: the tables (split by family once), the policy and the options."""
    from genogram.access import load_policy
    from genogram.document import FamilySlicer
    from ingest.vocabulary import load_vocabulary

    tables = {}
    for name in FSR_TABLES:
        path = workspace / f"{name}.parquet"
        if path.exists():
            tables[name] = pd.read_parquet(path)
    _STATE.update(
        tables=FamilySlicer(tables),
        policy=load_policy(policy_path),
        vocabulary=load_vocabulary(vocabulary_path) if vocabulary_path else None,
        options=dict(options),
    )
    if multiprocessing.parent_process() is not None:
        _settle()


def _settle() -> None:
    """In a pool worker, set the process up for a long run of renders.

    The garbage collector is kept off the tables just loaded: they live as long as the
    worker, yet every full collection would walk their hundreds of thousands of objects;
    rendering makes many short-lived objects, so the collector also runs less often.
    ReportLab's shape checking (every attribute of every shape validated as it is set, a
    development aid that changes nothing drawn) is turned off, as ReportLab advises for
    production; the tests draw with it on. Only in a worker process, never in a caller's.
    """
    from reportlab import rl_config

    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    rl_config.shapeChecking = 0


def render(family_id: str) -> tuple[str, dict[str, bytes], dict[str, int]]:
    """One family's files and what was withheld from them."""
    from genogram.document import family_outputs

    o = _STATE["options"]
    out = family_outputs(
        _STATE["tables"](family_id),
        family_id,
        role=o["role"],
        purpose=o["purpose"],
        policy=_STATE["policy"],
        as_at=o["as_at"],
        produced=o["produced"],
        data_as_at=o["data_as_at"],
        formats=o["formats"],
        subject=o.get("subject"),
        vocabulary=_STATE["vocabulary"],
    )
    return family_id, dict(out.files), dict(out.withheld)


def options(
    *,
    role: str,
    purpose: str,
    as_at: dt.date,
    produced: dt.date,
    data_as_at: Mapping[str, dt.date],
    formats: Sequence[str],
    subject: str | None,
) -> dict[str, Any]:
    return {
        "role": role,
        "purpose": purpose,
        "as_at": as_at,
        "produced": produced,
        "data_as_at": dict(data_as_at),
        "formats": tuple(formats),
        "subject": subject,
    }
