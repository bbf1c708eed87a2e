"""The genogram drawn in standard notation: fits its box, every name legible, nothing overlaps."""

from __future__ import annotations

import itertools
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import networkx as nx
import pytest
from reportlab.graphics.shapes import Drawing, Group, Line, Path, PolyLine, Rect, String
from reportlab.pdfbase.pdfmetrics import stringWidth

from genogram.dot import to_dot
from genogram.drawing import MAX_SCALE, genogram_drawing, genogram_size, legend_drawing, write_drawing
from genogram.errors import RenderError
from genogram.graph import family_graph
from genogram.layout import genogram_layout
from genogram.render import family_drawing, geometry
from genogram.style import ABUSE_COLOUR, HOUSEHOLD_COLOUR
from tests.genogram import family_builder as fb
from tests.genogram.family_fixture import AS_AT, FAMILY_ID, family_tables

A4_LANDSCAPE = (782.0, 535.0)


def _mult(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, ...]:
    return (
        a[0] * b[0] + a[2] * b[1],
        a[1] * b[0] + a[3] * b[1],
        a[0] * b[2] + a[2] * b[3],
        a[1] * b[2] + a[3] * b[3],
        a[0] * b[4] + a[2] * b[5] + a[4],
        a[1] * b[4] + a[3] * b[5] + a[5],
    )


def walk(node: Any, m: tuple[float, ...] = (1, 0, 0, 1, 0, 0)) -> Iterator[tuple[Any, tuple[float, ...]]]:
    """Every shape of a drawing with the transform that places it."""
    if isinstance(node, (Group, Drawing)):
        m = _mult(m, tuple(getattr(node, "transform", (1, 0, 0, 1, 0, 0))))
        for child in node.contents:
            yield from walk(child, m)
    else:
        yield node, m


def text_boxes(d: Drawing) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Page-space boxes of every string (cap height to baseline, measured width)."""
    boxes = []
    for shape, m in walk(d):
        if not isinstance(shape, String):
            continue
        w = stringWidth(shape.text, shape.fontName, shape.fontSize)
        x0 = {"start": shape.x, "end": shape.x - w}.get(shape.textAnchor, shape.x - w / 2)
        corners = [(x0, shape.y), (x0 + w, shape.y + shape.fontSize * 0.72)]
        (ax, ay), (bx, by) = ((m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]) for x, y in corners)
        boxes.append((shape.text, (min(ax, bx), min(ay, by), max(ax, bx), max(ay, by))))
    return boxes


@pytest.fixture(scope="module")
def graphs() -> dict[str, nx.MultiDiGraph]:
    return {
        "fixture": family_graph(family_tables(), FAMILY_ID, as_at=AS_AT),
        "complex": family_graph(fb.complex_family(), fb.COMPLEX_ID, as_at=fb.AS_AT),
        "large": family_graph(fb.large_family(), fb.LARGE_ID, as_at=fb.AS_AT),
        "mutual": family_graph(fb.mutual_abuse_family(), fb.MUTUAL_ID, as_at=fb.AS_AT),
    }


@pytest.fixture(scope="module")
def drawings(graphs) -> dict[str, Drawing]:
    return {
        name: family_drawing(G, width=A4_LANDSCAPE[0], height=A4_LANDSCAPE[1]) for name, G in graphs.items()
    }


@pytest.mark.parametrize("family", ["fixture", "complex", "large", "mutual"])
def test_drawing_fits_its_box(drawings, family):
    d = drawings[family]
    assert (d.width, d.height) == A4_LANDSCAPE
    x0, y0, x1, y1 = d.getBounds()
    assert x0 >= -0.5 and y0 >= -0.5 and x1 <= d.width + 0.5 and y1 <= d.height + 0.5


@pytest.mark.parametrize("family", ["fixture", "complex", "large", "mutual"])
def test_every_name_is_written_and_no_text_overlaps(graphs, drawings, family):
    G, d = graphs[family], drawings[family]
    boxes = text_boxes(d)
    written = " ".join(t for t, _ in boxes)
    for n, attrs in G.nodes(data=True):
        if attrs["kind"] == "person":
            for part in attrs["name"].split():
                assert part.split("-")[0] in written, n
    for (ta, a), (tb, b) in itertools.combinations(boxes, 2):
        overlap_x = min(a[2], b[2]) - max(a[0], b[0])
        overlap_y = min(a[3], b[3]) - max(a[1], b[1])
        assert overlap_x <= 0.3 or overlap_y <= 0.3, f"{ta!r} overlaps {tb!r}"


def test_fixture_text_is_legible_on_a4_landscape(drawings):
    sizes = [s.fontSize * m[0] for s, m in walk(drawings["fixture"]) if isinstance(s, String)]
    assert min(sizes) >= 5.5


def test_large_family_scales_down_but_stays_readable(drawings):
    sizes = [s.fontSize * m[0] for s, m in walk(drawings["large"]) if isinstance(s, String)]
    assert min(sizes) >= 3.0


def test_small_family_is_not_blown_up():
    people_ = [
        ("A", "Ann", "X", "F", fb.D(2012, 1, 1), None, "child", "H"),
        ("B", "Bob", "X", "M", fb.D(1980, 1, 1), None, "parent", "H"),
    ]
    G = family_graph(fb.tables("F", people_, [("B", "A", "father")]), "F", as_at=fb.AS_AT)
    d = family_drawing(G, width=800, height=800)
    scales = {m[0] for _, m in walk(d)}
    assert max(scales) <= MAX_SCALE + 1e-9


def shapes_of(d: Drawing, kind: type) -> list[Any]:
    return [s for s, _ in walk(d) if isinstance(s, kind)]


def test_notation_is_drawn(drawings):
    d = drawings["fixture"]
    texts = [t for t, _ in text_boxes(d)]
    assert "3 recorded incidents" in texts
    assert "m. 1975" in texts and "LT 2020" in texts
    assert texts.count("Household") >= 1
    # subject name in bold; age inside the symbol
    bold = {s.text for s in shapes_of(d, String) if s.fontName.endswith("Bold")}
    assert "Lily Price" in bold and "12" not in bold
    # recorded abuse: a red zig-zag with an arrowhead; household: a dotted blue outline
    red = [s for s in shapes_of(d, PolyLine) if s.strokeColor == ABUSE_COLOUR]
    assert red and len(red[0].points) > 20
    outlines = [s for s in shapes_of(d, Path) if s.strokeColor == HOUSEHOLD_COLOUR]
    assert outlines and all(s.strokeDashArray for s in outlines)
    # deceased grandfather: an X (two crossing lines) inside his square
    assert (
        len([s for s in shapes_of(d, Line) if s.strokeWidth > 1 and abs(s.x2 - s.x1) == abs(s.y2 - s.y1)])
        >= 2
    )


def test_badges_show_rag_by_shape_and_fill_as_well_as_colour(drawings):
    d = drawings["fixture"]
    rects = [r for r in shapes_of(d, Rect) if r.strokeColor is not None and r.height < 12]
    corners = {round(r.rx, 1) for r in rects}
    assert len(corners) == 3, "square, rounded and pill badges"
    closed = [r for r in rects if r.strokeDashArray]
    assert closed and all(r.fillColor is not None for r in closed)


def test_geometry_from_another_graph_is_refused(graphs):
    small = geometry(to_dot(graphs["fixture"]))
    with pytest.raises(RenderError, match="does not match"):
        genogram_drawing(graphs["complex"], small, width=500, height=400)


def test_legend_explains_symbols_and_codes(graphs):
    full = [t for t, _ in text_boxes(legend_drawing(width=520))]
    for words in ("Male", "Female", "Deceased", "Subject child", "Divorced", "Adopted", "Twins", "Household"):
        assert any(words in t for t in full), words
    mine = [t for t, _ in text_boxes(legend_drawing(graphs["fixture"], width=520))]
    assert not any("Adopted" in t for t in mine), "only what the family uses"
    for code in ("CP", "CLA", "DA-V", "DA-S", "MARAC", "MAPPA", "EHCP"):
        assert code in mine
    assert any("Child protection plan (red)" in t for t in mine)
    assert any("recorded as victim" in t for t in mine)


def test_write_drawing_pdf_and_svg(tmp_path, drawings):
    d = drawings["fixture"]
    pdf = write_drawing(d, tmp_path / "g.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    assert write_drawing(d, tmp_path / "again.pdf").read_bytes() == pdf.read_bytes(), "deterministic"
    svg = write_drawing(d, tmp_path / "g.svg").read_text(encoding="utf-8")
    assert "<svg" in svg and "Lily Price" in svg
    with pytest.raises(RenderError, match="unknown drawing format"):
        write_drawing(d, tmp_path / "g.bmp")


def test_write_drawing_png_needs_a_backend(tmp_path, drawings):
    try:
        import rlPyCairo  # noqa: F401
    except ImportError:
        with pytest.raises(RenderError, match="rlPyCairo"):
            write_drawing(drawings["fixture"], tmp_path / "g.png")
        assert not (tmp_path / "g.png").exists()
    else:  # pragma: no cover - only where the backend is installed
        assert write_drawing(drawings["fixture"], tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_pdf_rasterises(tmp_path, drawings):
    pdf = write_drawing(drawings["complex"], tmp_path / "c.pdf")
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf), str(tmp_path / "c")], check=True, timeout=60)
    assert (tmp_path / "c-1.png").stat().st_size > 1000


def test_drawing_uses_the_given_layout(graphs):
    G = graphs["fixture"]
    lay = genogram_layout(G)
    d = genogram_drawing(G, geometry(to_dot(G, lay)), width=400, height=300, layout=lay)
    assert (d.width, d.height) == (400, 300)


def test_natural_size_tells_how_much_the_drawing_shrinks(graphs):
    sizes = {}
    for name in ("fixture", "large"):
        G = graphs[name]
        sizes[name] = genogram_size(G, geometry(to_dot(G)))
    assert sizes["fixture"][0] < A4_LANDSCAPE[0] and sizes["fixture"][1] < A4_LANDSCAPE[1]
    assert sizes["large"][0] > A4_LANDSCAPE[0] > sizes["large"][1]


def test_abuse_recorded_both_ways_is_one_arrow_with_the_incidents_against_each_by_their_head(drawings):
    d = drawings["mutual"]
    red = [s for s in shapes_of(d, PolyLine) if s.strokeColor == ABUSE_COLOUR]
    assert len(red) == 1  # one arrow for the pair, not two drawn over each other
    texts = [t for t, _ in text_boxes(d)]
    assert "recorded both ways" in texts and not any("recorded incident" in t for t in texts)
    boxes = dict(text_boxes(d))
    mum = next(box for t, box in text_boxes(d) if t == "Dana Reid")
    dad = next(box for t, box in text_boxes(d) if t == "Owen Reid")
    three, one = boxes["3"], boxes["1"]
    # three incidents against the mother by her head, one against the father by his
    assert abs(three[0] - mum[0]) < abs(three[0] - dad[0])
    assert abs(one[0] - dad[0]) < abs(one[0] - mum[0])


def test_the_legend_explains_abuse_both_ways_only_where_it_is_drawn(graphs):
    def legend_texts(name: str) -> str:
        return " ".join(t for t, _ in text_boxes(legend_drawing(graphs[name])))

    assert "Recorded both ways" in legend_texts("mutual")
    assert "Recorded both ways" not in legend_texts("complex")
