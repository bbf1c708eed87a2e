"""The run manifest (`manifest.json`): inputs and their hashes, counts per stage, versions."""

from __future__ import annotations

import datetime as dt
import platform
from importlib import metadata
from typing import Any

__all__ = ["package_versions", "stage_entry", "utc_now"]

_PACKAGES = ("pandas", "pyarrow", "numpy", "networkx", "recordlinkage", "jellyfish", "rapidfuzz")


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def package_versions() -> dict[str, str]:
    """Versions of kinlink, Python and the libraries whose behaviour shapes the results."""
    from kinlink import __version__

    versions = {"kinlink": __version__, "python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def stage_entry(started: str, seconds: float, **facts: Any) -> dict[str, Any]:
    return {"started": started, "seconds": round(seconds, 3), **facts}
