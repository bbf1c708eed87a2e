"""The environment for benchmark child processes: this checkout's code, not an installed copy.

A child started as a script (``bench/_runners.py``) or through the installed ``kinlink``
command would otherwise import the package the virtual environment points at, which need
not be the checkout the benchmark sits in (a second worktree, a clone made for one run);
Spark's Python workers read the same variable.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["ROOT", "checkout_env"]


def checkout_env() -> dict[str, str]:
    """``os.environ`` with this checkout first on ``PYTHONPATH``."""
    rest = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *([rest] if rest else [])])}
