"""Golden images: a few fixed families' genograms as PNG, looked at by a person when they change.

Rewrite them with ``KINLINK_UPDATE_GOLDEN=1`` and look at every changed PNG before committing.
The comparison allows anti-aliasing noise (mean difference under 1 % of full scale) but not
a moved, missing or extra line.
"""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image

from genogram.dot import to_dot
from genogram.drawing import drawing_bytes, genogram_drawing, genogram_size
from genogram.graph import family_graph
from genogram.layout import genogram_layout
from genogram.render import geometry, pdf_to_png
from tests.genogram import family_builder as fb
from tests.genogram.family_fixture import AS_AT, FAMILY_ID, family_tables
from tests.genogram.golden import GOLDEN_DIR

FAMILIES = {
    "fixture": lambda: family_graph(family_tables(), FAMILY_ID, as_at=AS_AT),
    "complex": lambda: family_graph(fb.complex_family(), fb.COMPLEX_ID, as_at=fb.AS_AT),
    "large": lambda: family_graph(fb.large_family(), fb.LARGE_ID, as_at=fb.AS_AT),
}


def render_png(name: str) -> bytes:
    graph = FAMILIES[name]()
    layout = genogram_layout(graph)
    geo = geometry(to_dot(graph, layout))
    width, height = genogram_size(graph, geo, layout=layout)
    drawing = genogram_drawing(graph, geo, width=width, height=height, layout=layout)
    return pdf_to_png(drawing_bytes(drawing, "pdf"), dpi=72)


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_genogram_matches_its_golden_image(name):
    png = render_png(name)
    path = GOLDEN_DIR / f"{name}.png"
    if os.environ.get("KINLINK_UPDATE_GOLDEN") == "1":
        path.write_bytes(png)
        return
    if not path.exists():
        pytest.fail(f"golden image {path.name} is missing; create it with KINLINK_UPDATE_GOLDEN=1")
    now, golden = pixels(png), pixels(path.read_bytes())
    assert now.shape == golden.shape, f"{name}: the genogram changed size {golden.shape} -> {now.shape}"
    difference = np.abs(now - golden).mean() / 255
    assert difference < 0.01, f"{name}: the genogram looks different ({difference:.2%}); look at it"
