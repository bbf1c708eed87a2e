"""Spark sessions for the Spark engine: find pyspark and Java, or say plainly what is missing.

:func:`local_session` starts Spark in local mode (``local[*]``) with memory settings fit for
the machine it runs on; :func:`engine_settings` are the runtime settings the engine sets on
any session for the length of one run (and puts back afterwards).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from linkage.errors import LinkageError

if TYPE_CHECKING:
    from pyspark import StorageLevel
    from pyspark.sql import SparkSession

__all__ = [
    "INSTALL_HINT",
    "engine_settings",
    "find_java",
    "local_session",
    "local_session_config",
    "pair_storage",
    "require_pyspark",
    "runtime_settings",
]

INSTALL_HINT = "install the spark extra: pip install 'kinlink[spark]'"
_GIB = 1024**3
#: The Spark setting naming where the engine keeps the frames of pairs it reuses.
PAIR_STORAGE_SETTING = "spark.kinlink.pairStorage"
_STORAGE_LEVELS = ("MEMORY_AND_DISK", "DISK_ONLY", "MEMORY_AND_DISK_DESER", "MEMORY_ONLY")


def require_pyspark() -> ModuleType:
    """The ``pyspark`` module, or a :class:`~linkage.errors.LinkageError` saying how to get it."""
    try:
        import pyspark
    except ImportError:
        raise LinkageError(
            f"the Spark engine needs pyspark, which is not installed; {INSTALL_HINT}"
        ) from None
    major, minor = (int(part) for part in pyspark.__version__.split(".")[:2])
    if (major, minor) < (3, 5):
        raise LinkageError(
            f"the Spark engine needs pyspark 3.5 or later (found {pyspark.__version__}); {INSTALL_HINT}"
        )
    return pyspark


def find_java() -> str:
    """The ``java`` executable Spark will start (``JAVA_HOME`` first, then the ``PATH``)."""
    home = os.environ.get("JAVA_HOME")
    if home:
        java = Path(home) / "bin" / "java"
        if java.exists():
            return str(java)
        raise LinkageError(
            f"JAVA_HOME is set but holds no bin/java; Spark needs Java 17 or later ({INSTALL_HINT})"
        )
    found = shutil.which("java")
    if found is None:
        raise LinkageError(
            "the Spark engine needs Java 17 or later, and no java was found: install a JDK and set "
            f"JAVA_HOME or put java on the PATH ({INSTALL_HINT})"
        )
    return found


def _physical_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # not POSIX: assume a modest machine
        return 8 * _GIB


def local_session_config(
    *,
    cores: int | None = None,
    memory_bytes: int | None = None,
    shuffle_partitions: int | None = None,
    jvm_memory: str | None = None,
) -> dict[str, str]:
    """Settings for a ``local[*]`` session on a machine with ``memory_bytes`` of RAM.

    The JVM (driver and executor threads in one process) gets a quarter of the RAM, between
    1 and 16 GiB, unless ``jvm_memory`` (``spark.driver.memory``, e.g. ``"4g"``) says
    otherwise: the rest is for the Python driver, which holds the records, and for the
    Python workers, which grade and score batches of pairs. Shuffles get four partitions
    per core (adaptive execution merges small ones).
    """
    cores = cores or os.cpu_count() or 2
    memory = memory_bytes or _physical_memory()
    driver_mb = int(min(max(memory // 4, _GIB), 16 * _GIB) // (1024**2))
    return {
        "spark.master": f"local[{cores}]",
        "spark.app.name": "kinlink-link",
        "spark.driver.memory": jvm_memory or f"{driver_mb}m",
        "spark.driver.maxResultSize": "0",
        "spark.sql.shuffle.partitions": str(shuffle_partitions or max(4, 4 * cores)),
        "spark.sql.adaptive.enabled": "true",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
        "spark.pyspark.python": sys.executable,
        "spark.pyspark.driver.python": sys.executable,
    }


def local_session(
    *,
    cores: int | None = None,
    memory_bytes: int | None = None,
    shuffle_partitions: int | None = None,
    jvm_memory: str | None = None,
) -> SparkSession:
    """Start (or join) a local-mode Spark session with :func:`local_session_config`.

    Raises
    ------
    LinkageError
        When pyspark or Java is missing, or the JVM does not start.
    """
    require_pyspark()
    find_java()
    from pyspark.sql import SparkSession

    config = local_session_config(
        cores=cores, memory_bytes=memory_bytes, shuffle_partitions=shuffle_partitions, jvm_memory=jvm_memory
    )
    # pyspark starts its Python workers with PYSPARK_PYTHON ("python3" when unset): use
    # this interpreter, whose environment has kinlink, pandas and pyarrow.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder
    for key, value in config.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: say so in one line
        raise LinkageError(
            f"Spark could not start ({type(exc).__name__}); check that Java 17 or later works "
            f"(java -version) and that JAVA_HOME points to it ({INSTALL_HINT})"
        ) from None
    session.sparkContext.setLogLevel("ERROR")
    return session


def engine_settings(batch_rows: int = 20_000) -> dict[str, str]:
    """Runtime settings the engine needs on any session: Arrow transfers, batch size."""
    return {
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.maxRecordsPerBatch": str(batch_rows),
    }


@contextmanager
def runtime_settings(spark: SparkSession, settings: Mapping[str, str]) -> Iterator[None]:
    """Set runtime SQL settings on ``spark`` for the length of a block, then put them back."""
    before = {key: spark.conf.get(key, None) for key in settings}
    for key, value in settings.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, old in before.items():
            if old is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, old)


def pair_storage(spark: SparkSession) -> StorageLevel:
    """Where the engine keeps the frames of pairs it reads more than once.

    ``spark.kinlink.pairStorage``: ``MEMORY_AND_DISK`` (the default) keeps them in the
    executors' heap while they fit; ``DISK_ONLY`` keeps them on local disk (the operating
    system's page cache), which leaves the heap to the joins and sorts: use it when the
    candidate pairs outgrow the heap (tens of millions of pairs on a few GB).

    Raises
    ------
    LinkageError
        For a value that is not one of the levels above.
    """
    from pyspark import StorageLevel

    name = (spark.conf.get(PAIR_STORAGE_SETTING, "MEMORY_AND_DISK") or "MEMORY_AND_DISK").strip().upper()
    if name not in _STORAGE_LEVELS:
        raise LinkageError(f"{PAIR_STORAGE_SETTING} is {name!r}; use one of {', '.join(_STORAGE_LEVELS)}")
    level: StorageLevel = getattr(StorageLevel, name)
    return level
