"""Genogram errors: part of the project's one hierarchy (see :mod:`ingest.errors`)."""

from __future__ import annotations

from ingest.errors import KinlinkError

__all__ = ["AccessError", "RenderError"]


class RenderError(KinlinkError):
    """A family cannot be drawn: unknown family, Graphviz missing or failing, bad output path."""


class AccessError(KinlinkError):
    """The access policy refuses: unknown role or purpose, or a role/purpose pair it does not allow."""
