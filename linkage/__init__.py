"""linkage: records into people (Fellegi–Sunter, EM-trained, unsupervised).

Blocking (:mod:`linkage.blocking`), comparisons (:mod:`linkage.comparisons`), the model
(:mod:`linkage.model`), scoring (:mod:`linkage.scoring`), clustering
(:mod:`linkage.clustering`), stable ids (:mod:`linkage.ids`) and evaluation
(:mod:`linkage.evaluate`); :func:`link_records` runs them in order.
"""

from linkage.errors import LinkageError
from linkage.link import LinkResult, link_records
from linkage.settings import LinkageSettings

__all__ = ["LinkResult", "LinkageError", "LinkageSettings", "link_records"]
