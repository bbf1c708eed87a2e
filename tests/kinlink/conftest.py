"""One small finished workspace for the API, report and resilience tests (made once per worker).

Tests that change a workspace copy it first (``shutil.copytree``); none writes into this one
except the report, which adds ``report.html``.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def finished_workspace(tmp_path_factory) -> Path:
    """A folder with ``data/`` (a synthetic authority of 300 people, its truth in ``data/truth/``)
    and ``ws/``: the workspace after ingest, link and families."""
    import kinlink
    from kinlink.synth import synthesise

    root = tmp_path_factory.mktemp("finished")
    synthesise(root / "data", n_people=300, seed=7)
    kinlink.run(
        {"workspace": str(root / "ws"), "data": str(root / "data"), "stages": ["ingest", "link", "families"]}
    )
    return root
