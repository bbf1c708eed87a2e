"""Golden files for rendered output: compared on every run, rewritten only on purpose.

Run ``KINLINK_UPDATE_GOLDEN=1 pytest tests/genogram`` to rewrite them, then look at the
difference (and at the drawing) before committing.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).parent / "golden"


def check_golden(name: str, text: str) -> None:
    """Fail unless ``text`` equals the golden file ``name`` (rewrite it when asked to)."""
    path = GOLDEN_DIR / name
    if os.environ.get("KINLINK_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"golden file {name} is missing; create it with KINLINK_UPDATE_GOLDEN=1")
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True), text.splitlines(keepends=True), "golden", "now", n=1
            )
        )
        pytest.fail(
            f"{name} differs from its golden file (KINLINK_UPDATE_GOLDEN=1 to accept):\n{diff[:3000]}"
        )
