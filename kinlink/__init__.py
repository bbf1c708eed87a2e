"""kinlink: family record linkage and Family Summary Records for safeguarding hubs.

The Python API for pipelines (see :mod:`kinlink.api`): :func:`run` runs a whole pipeline
file; :func:`ingest_frames`, :func:`link_frames`, :func:`family_frames` and
:func:`fsr_bytes` run one stage each on tables in memory, with no workspace;
:func:`tune_allocator` sets the process up for large linkage jobs as the command does.
The API is imported on first use, so ``import kinlink`` (and the ``kinlink`` command) stay
quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "PipelineConfig",
    "RunSummary",
    "Workspace",
    "__version__",
    "family_frames",
    "fsr_bytes",
    "ingest_frames",
    "link_frames",
    "load_pipeline",
    "run",
    "tune_allocator",
]

_LAZY = {
    "family_frames": "kinlink.api",
    "fsr_bytes": "kinlink.api",
    "ingest_frames": "kinlink.api",
    "link_frames": "kinlink.api",
    "run": "kinlink.api",
    "PipelineConfig": "kinlink.pipeline",
    "RunSummary": "kinlink.pipeline",
    "load_pipeline": "kinlink.pipeline",
    "Workspace": "kinlink.workspace",
    "tune_allocator": "linkage.allocator",
}

if TYPE_CHECKING:
    from kinlink.api import family_frames, fsr_bytes, ingest_frames, link_frames, run
    from kinlink.pipeline import PipelineConfig, RunSummary, load_pipeline
    from kinlink.workspace import Workspace
    from linkage.allocator import tune_allocator


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kinlink' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
