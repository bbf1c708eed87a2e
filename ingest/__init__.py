"""ingest: agency extracts into the canonical tables, with every row accounted for.

Adapters read each format (:mod:`ingest.adapters`), a YAML mapping says how its rows become
canonical records, events and relationships (:mod:`ingest.mapping`,
:mod:`ingest.canonicalise`), standardisers clean the values (:mod:`ingest.standardise`), and
what cannot be accepted is quarantined with a reason. The columns live in :mod:`ingest.schema`.
"""

from ingest.errors import KinlinkError, SchemaError, SettingsError, SourceError, WorkspaceError

__all__ = ["KinlinkError", "SchemaError", "SettingsError", "SourceError", "WorkspaceError"]
