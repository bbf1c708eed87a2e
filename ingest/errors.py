"""The project's exception hierarchy.

It lives in ``ingest`` because ``ingest`` is the lowest layer: every other package may
import it, and it imports nothing of theirs. Messages name the source, row, column or
value at fault, never the personal data in it.
"""

from __future__ import annotations


class KinlinkError(Exception):
    """Base of every error kinlink raises on purpose (a user's mistake or bad input)."""


class SettingsError(KinlinkError):
    """A configuration document (YAML/JSON) is missing, malformed or has a bad key."""


class SourceError(KinlinkError):
    """An agency source cannot be read at all (missing file, unreadable encoding, ...)."""

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        super().__init__(f"source {source!r}: {message}")


class SchemaError(SourceError):
    """A source does not have the columns its mapping names."""


class WorkspaceError(KinlinkError):
    """A workspace folder is missing a table, locked by another run, or unusable."""
