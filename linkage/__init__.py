"""linkage: records into people (Fellegi–Sunter, EM-trained, unsupervised).

Blocking (:mod:`linkage.blocking`), comparisons (:mod:`linkage.comparisons`), the model
(:mod:`linkage.model`), scoring (:mod:`linkage.scoring`), clustering
(:mod:`linkage.clustering`), stable ids (:mod:`linkage.ids`) and evaluation
(:mod:`linkage.evaluate`); :func:`link_records` runs them in order.

People into families: households (:mod:`linkage.households`), relationship inference
(:mod:`linkage.relationships`), families (:mod:`linkage.families`), interventions per
person (:mod:`linkage.interventions`) and their evaluation
(:mod:`linkage.evaluate_families`); :func:`resolve_families` runs them in order.
:mod:`linkage.population` is the networkx view for analysts.
"""

from linkage.errors import LinkageError
from linkage.family_settings import FamilySettings
from linkage.kinship import KinshipResult, resolve_families
from linkage.link import LinkResult, link_records
from linkage.settings import LinkageSettings

__all__ = [
    "FamilySettings",
    "KinshipResult",
    "LinkResult",
    "LinkageError",
    "LinkageSettings",
    "link_records",
    "resolve_families",
]
