"""Linkage errors: part of the project's one hierarchy (see :mod:`ingest.errors`)."""

from __future__ import annotations

from ingest.errors import KinlinkError

__all__ = ["LinkageError"]


class LinkageError(KinlinkError):
    """The matcher cannot go on: a blocking rule would explode, a model does not fit the data, ..."""
