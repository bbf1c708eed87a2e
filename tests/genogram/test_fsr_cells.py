"""Plain table cells in the FSR: drawn as strings exactly where a Paragraph would draw them."""

from __future__ import annotations

import io
import shutil
import subprocess
from xml.sax.saxutils import escape

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.platypus import Paragraph, SimpleDocTemplate

from genogram.fsr import _cells, _lines, _Plain, _styles, _table

WORDS = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-—'’éßŁ", min_size=1, max_size=14
)


@settings(max_examples=300, deadline=None)
@given(words=st.lists(WORDS, min_size=1, max_size=30), width=st.floats(min_value=20, max_value=300))
def test_plain_lines_are_the_lines_a_paragraph_makes(words, width):
    text = " ".join(words)
    style = _styles()["cell"]
    lines = _lines(text, style, width)
    if lines is None:
        return  # left to a Paragraph
    para = Paragraph(escape(text), style)
    para.wrap(width, 10_000)
    assert para.blPara.kind == 0
    assert lines == [" ".join(words) for _, words in para.blPara.lines]
    assert all(extra > 0 for extra, _ in para.blPara.lines), "no line needs its spaces squeezed"


CELLS = [
    "Short",
    "—",
    "A name that has to wrap over two or three lines in a narrow column",
    "Averyveryverylongwordwithoutanyspacesatallthatmustbesplit",
    "Stated partner relationship rejected: the two people are recorded as parent and child",
    "Ünïcödé — “quoted” text & <markup> that is only text",
]


def _pixels(pdf: bytes, tmp_path) -> np.ndarray:
    path = tmp_path / "t.pdf"
    path.write_bytes(pdf)
    png = subprocess.run(
        ["pdftoppm", "-png", "-r", "110", "-singlefile", str(path)], capture_output=True, check=True
    ).stdout
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=int)


def _pdf(table) -> bytes:
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, invariant=1).build([table])
    return buffer.getvalue()


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_a_table_of_plain_cells_looks_like_one_of_paragraphs(tmp_path):
    widths = [40.0, 80.0, 150.0]
    rows = [[_Plain(CELLS[(r + c) % len(CELLS)]) for c in range(3)] for r in range(len(CELLS))]
    rows.append([_Plain("none recorded", "muted"), _Plain("Group title", "group"), _Plain("x")])
    plain = _table(["Header", "A longer header here", "Third"], rows, widths)
    styles = _styles()
    as_paragraphs = _table(
        ["Header", "A longer header here", "Third"],
        [[Paragraph(escape(cell.text), styles[cell.style]) for cell in row] for row in rows],
        widths,
    )
    # the header goes through _cells in both; make the second table's header Paragraphs too
    as_paragraphs._cellvalues[0] = [
        Paragraph(escape(h), styles["head"]) for h in ("Header", "A longer header here", "Third")
    ]
    strings = sum(isinstance(v, str) for row in plain._cellvalues for v in row)
    assert strings >= len(rows) * 2, "most plain cells are drawn as strings"
    assert np.array_equal(_pixels(_pdf(plain), tmp_path), _pixels(_pdf(as_paragraphs), tmp_path))


def test_cells_leave_markup_alone_and_give_each_style_its_font():
    styles = _styles()
    para = Paragraph("<b>bold</b>", styles["cell"])
    data, commands = _cells([[_Plain("Head", "head"), para]], [100.0, 100.0], 7.0)
    assert data == [["Head", para]]
    assert ("FONT", (0, 0), (0, 0), "DejaVuSans-Bold", 7.6, 9.4) in commands


def test_markup_read_once_gives_the_paragraph_a_fresh_reading_gives():
    from genogram.fsr import _chip, _shared_para

    text = f"{_chip('CP', 'red')} Child protection plan &amp; more"
    fresh = Paragraph(text, _styles()["cell"])
    first, second = _shared_para(text, "cell"), _shared_para(text, "cell")
    for para in (first, second):
        assert [f.__dict__ for f in para.frags] == [f.__dict__ for f in fresh.frags]
    assert not set(map(id, first.frags)) & set(map(id, second.frags)), "each paragraph has its own"
    assert _pdf_of(first) == _pdf_of(second) == _pdf_of(fresh)


def _pdf_of(para) -> bytes:
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, invariant=1).build([para])
    return buffer.getvalue()


def _raw_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "raw.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_string_cells_written_together_look_and_read_as_the_table_draws_them(tmp_path):
    from reportlab.platypus import Table, TableStyle

    from genogram.fsr import _Table

    styles = _styles()
    data = [
        ["Head one", "Head two", "Head three"],
        ["plain", Paragraph("<b>bold</b> between strings", styles["cell"]), "two\nlines"],
        ["—", "x", Paragraph("last", styles["cell"])],
    ]
    style = TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), "DejaVuSans", 7.6, 9.4),
            ("FONT", (0, 0), (-1, 0), "DejaVuSans-Bold", 7.6, 9.4),
            ("TEXTCOLOR", (0, 0), (-1, 0), "#FFFFFF"),
            ("BACKGROUND", (0, 0), (-1, 0), "#1F3A5F"),
            ("TEXTCOLOR", (1, 2), (1, 2), "#5F6368"),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.35, "#C9CED6"),
        ]
    )
    pdfs = []
    for cls in (Table, _Table):
        table = cls([list(row) for row in data], colWidths=[80, 120, 90])
        table.setStyle(style)
        pdfs.append(_pdf(table))
    assert np.array_equal(_pixels(pdfs[0], tmp_path), _pixels(pdfs[1], tmp_path))
    assert _raw_text(pdfs[0], tmp_path) == _raw_text(pdfs[1], tmp_path), "read in the same order"
