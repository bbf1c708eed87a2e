"""genogram: one family as a graph, a genogram and a Family Summary Record, redacted by role.

:func:`family_outputs` is the entry point every output goes through: it checks the role and
purpose against the access policy (:mod:`genogram.access`), redacts the tables, builds the
family graph (:mod:`genogram.graph`), lays it out (:mod:`genogram.layout`), draws it
(:mod:`genogram.dot`, :mod:`genogram.render`, :mod:`genogram.drawing`) and renders the FSR
PDF (:mod:`genogram.fsr`) and exports (:mod:`genogram.exports`).
"""

from genogram.access import AccessPolicy, load_policy, redact
from genogram.document import FORMATS, FamilyOutputs, family_outputs, family_tables
from genogram.errors import AccessError, RenderError
from genogram.graph import family_graph

__all__ = [
    "FORMATS",
    "AccessError",
    "AccessPolicy",
    "FamilyOutputs",
    "RenderError",
    "family_graph",
    "family_outputs",
    "family_tables",
    "load_policy",
    "redact",
]
