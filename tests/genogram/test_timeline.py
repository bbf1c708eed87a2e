"""The intervention timeline drawing: lanes, bars, markers, RAG letters, splitting."""

from __future__ import annotations

import datetime as dt
import subprocess

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Drawing, Group, Polygon, Rect, String

from genogram.errors import RenderError
from genogram.timeline import timeline_drawing, timeline_drawings
from tests.genogram.family_fixture import AS_AT, family_tables


def _walk(node):
    yield node
    for child in getattr(node, "contents", []) if isinstance(node, Group | Drawing) else []:
        yield from _walk(child)


def _strings(drawing: Drawing) -> list[str]:
    return [n.text for n in _walk(drawing) if isinstance(n, String)]


def _fonts(drawing: Drawing) -> set[str]:
    return {n.fontName for n in _walk(drawing) if isinstance(n, String)}


def _rows(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["person_id", "event_type", "start_date", "end_date", "role"])


@pytest.fixture(scope="module")
def fixture_drawing() -> Drawing:
    tables = family_tables()
    persons = tables["persons"]
    lanes = [(p, f"Person {n}") for n, p in enumerate(persons["person_id"])]
    return timeline_drawing(tables["interventions"], lanes, as_at=AS_AT)


def test_badges_carry_rag_letters_so_greyscale_still_reads(fixture_drawing):
    texts = _strings(fixture_drawing)
    for label in ("CP R", "CLA R", "EH G", "EHCP G", "YJ A", "EX A", "REF A", "MARAC R", "MAPPA R"):
        assert label in texts, label
    # role badges for the two sides of one domestic abuse incident
    assert "DA-V R" in texts and "DA-S R" in texts
    assert "as at 31 Oct 2026" in texts
    assert _fonts(fixture_drawing) <= {"DejaVuSans", "DejaVuSans-Bold"}


def test_one_lane_per_person_and_empty_lanes_say_so(fixture_drawing):
    texts = _strings(fixture_drawing)
    assert sum(t.startswith("Person ") for t in texts) == 11
    # grandparents, the twin without health visiting and the father's ex have nothing in the window
    assert texts.count("none in this period") == 4


def test_open_episodes_end_in_an_arrow_and_incidents_are_markers():
    rows = _rows(
        ("a", "child_in_need", dt.date(2024, 1, 1), None, "subject"),
        ("b", "child_in_need", dt.date(2024, 1, 1), dt.date(2024, 6, 1), "subject"),
        ("c", "domestic_abuse_incident", dt.date(2025, 1, 1), None, "victim"),
    )
    as_at = dt.date(2026, 1, 1)

    def shapes(pid):
        d = timeline_drawing(rows, [(pid, pid)], as_at=as_at)
        return [n for n in _walk(d) if isinstance(n, Polygon | Rect)]

    def polygons(pid):
        return sum(isinstance(n, Polygon) for n in shapes(pid))

    key_polygons = polygons("nobody")  # the key draws its own samples
    assert polygons("a") == key_polygons + 1  # the arrow
    assert polygons("b") == key_polygons  # closed: no arrow
    assert polygons("c") == key_polygons + 1  # the diamond


def test_episodes_before_the_window_are_clipped_with_a_left_arrow():
    rows = _rows(("a", "looked_after", dt.date(2010, 1, 1), dt.date(2022, 1, 1), "subject"))
    clipped = timeline_drawing(rows, [("a", "A")], as_at=dt.date(2026, 1, 1))
    inside = timeline_drawing(rows, [("a", "A")], as_at=dt.date(2026, 1, 1), start=dt.date(2009, 1, 1))
    count = lambda d: sum(isinstance(n, Polygon) for n in _walk(d))  # noqa: E731
    assert count(clipped) == count(inside) + 1
    gone = _rows(("a", "looked_after", dt.date(2010, 1, 1), dt.date(2012, 1, 1), "subject"))
    assert "CLA R" not in _strings(timeline_drawing(gone, [("a", "A")], as_at=dt.date(2026, 1, 1)))


def test_overlapping_items_stack_and_lanes_grow():
    one = _rows(("a", "child_in_need", dt.date(2024, 1, 1), None, None))
    three = _rows(
        ("a", "child_in_need", dt.date(2024, 1, 1), None, None),
        ("a", "child_protection_plan", dt.date(2024, 2, 1), None, None),
        ("a", "early_help", dt.date(2024, 3, 1), None, None),
    )
    as_at = dt.date(2026, 1, 1)
    h1 = timeline_drawing(one, [("a", "A")], as_at=as_at).height
    h3 = timeline_drawing(three, [("a", "A")], as_at=as_at).height
    assert h3 == pytest.approx(h1 + 2 * 12)


def test_large_families_split_into_page_sized_drawings():
    rows = _rows(*[(f"p{i}", "child_in_need", dt.date(2024, 1, 1), None, None) for i in range(80)])
    lanes = [(f"p{i}", f"Person {i}") for i in range(80)]
    pieces = timeline_drawings(rows, lanes, as_at=dt.date(2026, 1, 1), max_height=400)
    assert len(pieces) > 1
    assert all(p.height <= 400 for p in pieces)
    labels = [t for p in pieces for t in _strings(p) if t.startswith("Person ")]
    assert labels == [f"Person {i}" for i in range(80)]  # every lane once, in order


def test_bad_arguments_are_refused():
    rows = _rows(("a", "child_in_need", dt.date(2024, 1, 1), None, None))
    with pytest.raises(RenderError, match="too narrow"):
        timeline_drawing(rows, [("a", "A")], as_at=dt.date(2026, 1, 1), width=100)
    with pytest.raises(RenderError, match="before the as-at date"):
        timeline_drawing(rows, [("a", "A")], as_at=dt.date(2026, 1, 1), start=dt.date(2027, 1, 1))
    with pytest.raises(RenderError, match="lacks column"):
        timeline_drawing(rows.drop(columns="role"), [("a", "A")], as_at=dt.date(2026, 1, 1))


def test_unknown_types_and_nulls_still_draw():
    rows = _rows(
        ("a", "brand_new_type", dt.date(2024, 1, 1), None, None),
        ("a", "child_in_need", None, None, None),
        ("a", "child_in_need", dt.date(2030, 1, 1), None, None),
    )
    texts = _strings(timeline_drawing(rows, [("a", "A")], as_at=dt.date(2026, 1, 1)))
    assert any(t.startswith("BRAND") and t.endswith(" A") for t in texts)
    assert sum(t == "CIN A" for t in texts) == 0  # no start, or after the as-at date


@settings(max_examples=25)
@given(label=st.text(max_size=400))
def test_any_lane_label_draws(label):
    rows = _rows(("a", "child_in_need", dt.date(2024, 1, 1), None, None))
    drawing = timeline_drawing(rows, [("a", label)], as_at=dt.date(2026, 1, 1))
    assert drawing.width == 515.0
    for text in _strings(drawing):
        assert all(ord(c) >= 32 for c in text)


def test_renders_to_a_pdf_poppler_reads(tmp_path, fixture_drawing):
    path = tmp_path / "timeline.pdf"
    fixture_drawing.initialFontName = "DejaVuSans"
    renderPDF.drawToFile(fixture_drawing, str(path))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "CP R" in text and "Person 0" in text
