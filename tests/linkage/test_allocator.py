"""The allocator settings the ``kinlink`` command applies, each checked in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
    reason="the heap settings are glibc's",
)

# Where a 64 MB array's memory comes from: the heap (arena) or its own mapping (hblkhd).
_PROBE = textwrap.dedent(
    """
    import ctypes, json, os, sys

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
            "uordblks", "fordblks", "keepcost")]

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    if sys.argv[1] == "tune":
        from linkage.allocator import tune_allocator
        applied = tune_allocator()
    else:
        applied = None
    import numpy as np
    block = np.ones(64 * 2**20, dtype=np.uint8)
    info = libc.mallinfo2()
    print(json.dumps({
        "applied": applied,
        "mapped": info.hblkhd,
        "huge_pages": np._core.multiarray._get_madvise_hugepage(),
    }))
    """
)


def _probe(mode: str, **env: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, mode],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    return json.loads(done.stdout)


@glibc
def test_tuned_process_keeps_large_arrays_in_the_heap_without_huge_pages() -> None:
    untouched = _probe("leave", NUMPY_MADVISE_HUGEPAGE="1")
    assert untouched["mapped"] >= 64 * 2**20
    assert untouched["huge_pages"] is True

    tuned = _probe("tune", NUMPY_MADVISE_HUGEPAGE="1")
    assert tuned["applied"] == {"heap_reuse": True, "no_huge_pages": True}
    assert tuned["mapped"] < 64 * 2**20
    assert tuned["huge_pages"] is False


@glibc
def test_default_allocator_can_be_kept() -> None:
    kept = _probe("tune", KINLINK_ALLOCATOR="default", NUMPY_MADVISE_HUGEPAGE="1")
    assert kept["applied"] == {"heap_reuse": False, "no_huge_pages": False}
    assert kept["mapped"] >= 64 * 2**20
    assert kept["huge_pages"] is True


def test_tuning_after_numpy_is_imported_turns_huge_pages_off() -> None:
    code = (
        "import numpy as np\n"
        "from linkage.allocator import tune_allocator\n"
        "tune_allocator()\n"
        "print(np._core.multiarray._get_madvise_hugepage())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@glibc
def test_freed_memory_goes_back_to_the_system_when_released() -> None:
    code = textwrap.dedent(
        """
        import os
        from linkage.allocator import release_free_memory, tune_allocator

        tune_allocator()
        import numpy as np

        def resident_mb():
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 2**20

        small = resident_mb()
        blocks = [np.ones(64 * 2**20, dtype=np.uint8) for _ in range(4)]  # 256 MB in the heap
        held = resident_mb()
        del blocks
        kept = resident_mb()  # freed, but the tuned heap keeps it for reuse
        assert release_free_memory()
        print(small, held, kept, resident_mb())
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    small, held, kept, released = map(int, done.stdout.split())
    assert held - small >= 250
    assert kept - small >= 250
    assert released - small < 50
