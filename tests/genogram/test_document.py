"""family_outputs and FamilySlicer: one family's rows, redacted once, the same PDF whatever the path."""

from __future__ import annotations

import pandas as pd
import pytest

from genogram.access import load_policy, redact
from genogram.document import FamilySlicer, family_outputs, family_tables
from genogram.dot import to_dot
from genogram.drawing import genogram_drawing, genogram_size, legend_drawing
from genogram.fsr import build_fsr
from genogram.graph import family_graph
from genogram.layout import genogram_layout
from genogram.render import geometry
from tests.genogram import family_builder as fb
from tests.genogram.family_fixture import AS_AT, FAMILY_ID
from tests.genogram.family_fixture import family_tables as fixture_tables

POLICY = load_policy()
PRODUCED = AS_AT
DATA_AS_AT = {"csc": AS_AT, "police_da": AS_AT, "school": AS_AT}


def _population() -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Several families in one set of tables, as a workspace holds them."""
    parts = [fixture_tables(), fb.complex_family(), fb.large_family()]
    ids = [FAMILY_ID, fb.COMPLEX_ID, fb.LARGE_ID]
    for seed in range(4):
        family_id, tables = fb.random_family(seed, size=2)
        parts.append(tables)
        ids.append(family_id)
    names = set().union(*parts)
    tables = {name: pd.concat([p[name] for p in parts if name in p], ignore_index=True) for name in names}
    return tables, ids


@pytest.fixture(scope="module")
def population():
    return _population()


def test_slicer_gives_each_family_the_rows_family_tables_gives(population):
    tables, ids = population
    slicer = FamilySlicer(tables)
    for family_id in ids:
        expected, got = family_tables(tables, family_id), slicer(family_id)
        assert set(got) == set(expected)
        for name in expected:
            assert got[name].reset_index(drop=True).equals(expected[name].reset_index(drop=True)), name


def _outputs(tables, family_id, role="mash_social_worker", purpose="safeguarding_assessment"):
    return family_outputs(
        tables,
        family_id,
        role=role,
        purpose=purpose,
        policy=POLICY,
        as_at=AS_AT,
        produced=PRODUCED,
        data_as_at=DATA_AS_AT,
    )


@pytest.mark.parametrize("role", ["mash_social_worker", "school"])
def test_the_same_pdf_from_sliced_and_whole_tables(population, role):
    tables, ids = population
    slicer = FamilySlicer(tables)
    for family_id in ids[:4]:
        whole, sliced = _outputs(tables, family_id, role), _outputs(slicer(family_id), family_id, role)
        assert whole.files["pdf"] == sliced.files["pdf"]
        assert whole.withheld == sliced.withheld


@pytest.mark.parametrize("role", ["mash_social_worker", "school"])
def test_family_outputs_gives_the_pdf_build_fsr_gives(population, role):
    """family_outputs redacts once; build_fsr, given the same drawings, makes the same bytes."""
    tables, _ = population
    family_id = fb.COMPLEX_ID
    red = redact(family_tables(tables, family_id), POLICY, role, "safeguarding_assessment", as_at=AS_AT)
    graph = family_graph(red.tables, family_id, as_at=AS_AT)
    layout = genogram_layout(graph)
    geo = geometry(to_dot(graph, layout))
    width, height = genogram_size(graph, geo, layout=layout)
    drawing = genogram_drawing(graph, geo, width=width, height=height, layout=layout)
    pdf = build_fsr(
        tables,
        family_id,
        role=role,
        purpose="safeguarding_assessment",
        policy=POLICY,
        as_at=AS_AT,
        produced=PRODUCED,
        data_as_at=DATA_AS_AT,
        genogram=drawing,
        legend=legend_drawing(graph),
    )
    assert _outputs(tables, family_id, role).files["pdf"] == pdf
