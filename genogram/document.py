"""One family's outputs for one audience: redact once, then draw everything from the redacted tables.

This is the path every output goes through: :func:`family_outputs` checks the role and
purpose, redacts the tables (:func:`genogram.access.redact`), builds the family graph from
what is left, and renders the formats asked for. Nothing is drawn from unredacted data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from genogram.access import AccessPolicy, redact
from genogram.dot import to_dot
from genogram.drawing import _natural_drawing, _shared_legend, drawing_bytes
from genogram.errors import RenderError
from genogram.exports import to_gedcom, to_json
from genogram.fsr import _build_redacted
from genogram.graph import family_graph
from genogram.layout import genogram_layout
from genogram.render import geometry, pdf_to_png
from ingest.vocabulary import InterventionVocabulary

__all__ = ["FORMATS", "FamilyOutputs", "FamilySlicer", "family_outputs", "family_tables"]

#: Output formats: the FSR PDF, the genogram alone in full notation (SVG, and PNG through
#: Poppler), its DOT source, the versioned JSON family graph and GEDCOM 7 (structure only).
FORMATS: tuple[str, ...] = ("pdf", "svg", "png", "dot", "json", "ged")


@dataclass(frozen=True)
class FamilyOutputs:
    """The bytes of each format asked for, and what redaction withheld (counts by category)."""

    files: Mapping[str, bytes]
    withheld: Mapping[str, int]


def family_tables(tables: Mapping[str, pd.DataFrame], family_id: str) -> dict[str, pd.DataFrame]:
    """The rows of each table that concern one family's members (so counts are the family's own).

    Raises
    ------
    RenderError
        If the family is not in ``tables["families"]``.
    """
    families = tables["families"]
    members = set(families.loc[families["family_id"] == family_id, "person_id"])
    if not members:
        raise RenderError(f"family {family_id!r} is not in the families table")
    out = {name: frame for name, frame in tables.items()}
    out["families"] = families[families["family_id"] == family_id]
    for name in ("persons", "households", "interventions"):
        if name in tables:
            out[name] = tables[name][tables[name]["person_id"].isin(members)]
    for name in ("relationships", "relationship_conflicts"):
        if name in tables:
            frame = tables[name]
            both = frame["person_id_from"].isin(members) & frame["person_id_to"].isin(members)
            out[name] = frame[both]
    return out


class FamilySlicer:
    """:func:`family_tables` for many families: index the tables by person once, then slice.

    For batch rendering: filtering the whole population's tables for each family costs more
    than drawing it; after one pass over the tables, each family's rows are a lookup.
    """

    _BY_PERSON = ("persons", "households", "interventions")
    _BY_PAIR = ("relationships", "relationship_conflicts")

    def __init__(self, tables: Mapping[str, pd.DataFrame]) -> None:
        self.tables = {name: frame.reset_index(drop=True) for name, frame in tables.items()}
        self._families = self.tables["families"].groupby("family_id", sort=False).indices
        self._rows = {
            name: self.tables[name].groupby("person_id", sort=False).indices
            for name in self._BY_PERSON
            if name in self.tables
        }
        self._from = {
            name: self.tables[name].groupby("person_id_from", sort=False).indices
            for name in self._BY_PAIR
            if name in self.tables
        }
        self._to = {name: self.tables[name]["person_id_to"].to_numpy() for name in self._from}

    def __call__(self, family_id: str) -> dict[str, pd.DataFrame]:
        """:func:`family_tables` of ``family_id`` (the same rows, in the same order)."""
        at = self._families.get(family_id)
        if at is None:
            raise RenderError(f"family {family_id!r} is not in the families table")
        families = self.tables["families"].iloc[at]
        members = set(families["person_id"])
        out = dict(self.tables)
        out["families"] = families

        def rows(index: Mapping[Any, Any]) -> np.ndarray:
            hits = [index[p] for p in members if p in index]
            return np.sort(np.concatenate(hits)) if hits else np.zeros(0, dtype=np.int64)

        for name, index in self._rows.items():
            out[name] = self.tables[name].iloc[rows(index)]
        plain = not any(pd.isna(p) for p in members)
        for name, index in self._from.items():
            found = rows(index)
            if plain:
                # both ends in the family, read from the column once rather than by pandas per call
                to = self._to[name]
                out[name] = self.tables[name].iloc[found[[to[r] in members for r in found]]]
            else:
                frame = self.tables[name].iloc[found]
                out[name] = frame[frame["person_id_to"].isin(members)]
        return _FamilyRows(out, family_id)


class _FamilyRows(dict[str, pd.DataFrame]):
    """What :func:`family_tables` returns for ``family_id``, marked so it is not sliced again."""

    def __init__(self, tables: Mapping[str, pd.DataFrame], family_id: str) -> None:
        super().__init__(tables)
        self.family_id = family_id


def family_outputs(
    tables: Mapping[str, pd.DataFrame],
    family_id: str,
    *,
    role: str,
    purpose: str,
    policy: AccessPolicy,
    as_at: dt.date,
    produced: dt.date,
    data_as_at: Mapping[str, dt.date],
    formats: Collection[str] = ("pdf",),
    subject: str | None = None,
    vocabulary: InterventionVocabulary | None = None,
) -> FamilyOutputs:
    """Render ``family_id`` for ``role`` and ``purpose`` in each of ``formats``.

    Parameters
    ----------
    tables
        The raw canonical tables (``persons``, ``relationships``, ``families``,
        ``households``, ``interventions``, optionally ``relationship_conflicts``).
    role, purpose, policy
        The audience; refused (:class:`genogram.errors.AccessError`) before any data is read
        when the policy does not allow the pair.
    as_at, produced, data_as_at
        What "current" means, the production date printed, and each source's extract date.
    formats
        A subset of :data:`FORMATS`.

    Raises
    ------
    AccessError
        Unknown role or purpose, or a pair the policy does not allow.
    RenderError
        Unknown family or format, or Graphviz failing.
    """
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise RenderError(f"unknown output format(s) {unknown}; expected some of {list(FORMATS)}")
    policy.check(role, purpose)
    if not (isinstance(tables, _FamilyRows) and tables.family_id == family_id):
        tables = family_tables(tables, family_id)
    redacted = redact(tables, policy, role, purpose, vocabulary=vocabulary, as_at=as_at)
    graph = family_graph(redacted.tables, family_id, as_at=as_at, subject=subject, vocabulary=vocabulary)
    layout = genogram_layout(graph)
    dot_source = to_dot(graph, layout)
    files: dict[str, bytes] = {}
    drawing = legend = None
    if {"pdf", "svg", "png"} & set(formats):
        # genogram_drawing at genogram_size, drawn once
        drawing = _natural_drawing(graph, geometry(dot_source), layout=layout)
        if drawing is not None:
            legend = _shared_legend(graph)
    if "pdf" in formats:
        # build_fsr would redact the same rows again; the FSR is drawn from this redaction
        files["pdf"] = _build_redacted(
            redacted,
            family_id,
            policy=policy,
            as_at=as_at,
            produced=produced,
            data_as_at=data_as_at,
            genogram=drawing,
            legend=legend,
            subject=subject,
            vocabulary=vocabulary,
        )
    if "svg" in formats and drawing is not None:
        files["svg"] = drawing_bytes(drawing, "svg")
    if "png" in formats and drawing is not None:
        files["png"] = pdf_to_png(drawing_bytes(drawing, "pdf"))
    if "dot" in formats:
        files["dot"] = dot_source.encode("utf-8")
    if "json" in formats:
        files["json"] = to_json(graph).encode("utf-8")
    if "ged" in formats:
        files["ged"] = to_gedcom(graph).encode("utf-8")
    return FamilyOutputs(files=files, withheld=dict(redacted.withheld))
