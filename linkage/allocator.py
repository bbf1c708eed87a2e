"""Process-wide memory allocator settings for large linkage jobs.

Linking makes and frees many arrays of one value per candidate pair (120 MB each at 15M
pairs). By default glibc hands each to the kernel and back (``mmap``/``munmap``), and
numpy asks for huge pages on each; every new array is then page-faulted and compacted
afresh. At 1M records that was 20 to 30 s of kernel time in a 60 s link on a 2-core machine.
Keeping large blocks in the heap for reuse, and not asking for huge pages, removes most of it
without raising peak memory (measured in ``bench/RESULTS.md``).

These settings belong to the process, not to a library call, so the ``kinlink`` command
applies them at start and a pipeline embedding kinlink may call :func:`tune_allocator`
itself. ``KINLINK_ALLOCATOR=default`` leaves the process as it is.

The price is that memory freed inside the heap stays with the process until
:func:`release_free_memory` hands it back; the engines call it where a peak is followed by
long work in other processes (the Spark engine's driver after preparing the records).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys

log = logging.getLogger(__name__)

# mallopt parameters (glibc malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# The largest value mallopt takes (an int): blocks up to 2 GB come from the heap.
_LARGEST = 2**31 - 1


def tune_allocator() -> dict[str, bool]:
    """Keep large blocks in the heap and stop numpy asking for huge pages.

    Returns which settings took effect; on a platform without glibc (macOS, Windows,
    musl) it changes nothing and says so. Safe to call more than once.
    """
    if os.environ.get("KINLINK_ALLOCATOR", "").strip().lower() == "default":
        return {"heap_reuse": False, "no_huge_pages": False}
    return {"heap_reuse": _keep_large_blocks_in_heap(), "no_huge_pages": _no_numpy_huge_pages()}


def release_free_memory() -> bool:
    """Hand the heap's free memory back to the operating system (glibc's ``malloc_trim``).

    True when glibc did so; False elsewhere, where there is nothing to do.
    """
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    libc.malloc_trim.restype = ctypes.c_int
    libc.malloc_trim(0)
    return True


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt  # noqa: B018 - only glibc has both
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):  # musl or another libc
        return None
    return libc


def _keep_large_blocks_in_heap() -> bool:
    libc = _glibc()
    if libc is None:
        return False
    mallopt = libc.mallopt
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # Both are needed: with only the first, freed memory at the heap's top goes back to
    # the kernel at once and the next array faults it in again.
    applied = mallopt(_M_MMAP_THRESHOLD, _LARGEST) == 1 and mallopt(_M_TRIM_THRESHOLD, _LARGEST) == 1
    if not applied:
        log.debug("mallopt refused the heap settings; leaving the allocator as it is")
    return applied


def _no_numpy_huge_pages() -> bool:
    np = sys.modules.get("numpy")
    if np is None:  # numpy reads this when first imported; importing it here would be slow
        os.environ["NUMPY_MADVISE_HUGEPAGE"] = "0"
        return True
    core = getattr(np, "_core", None) or getattr(np, "core", None)
    setter = getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)
    if setter is None:
        return False
    setter(False)
    return True
