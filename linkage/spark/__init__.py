"""The Spark execution engine: the local engine's model and answer, on a cluster.

:func:`link_records_spark` links records as :func:`linkage.link.link_records` does (the
same blocking rules, comparisons, EM training, constrained clustering and stable ids) with
the pair-level work on Spark: blocking as joins, comparing and scoring as ``mapInPandas``
over batches of candidate pairs, EM on comparison-pattern counts from a ``groupBy``.
Its pairs, weights, people and person ids are the local engine's.

pyspark is optional (``pip install 'kinlink[spark]'``); importing this package does not
need it, running the engine does. See ``linkage/spark/README.md``.
"""

from linkage.spark.engine import link_records_spark
from linkage.spark.session import local_session

__all__ = ["link_records_spark", "local_session"]
