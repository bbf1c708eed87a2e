"""The Family Summary Record (FSR): one family on A4, for one role and purpose.

:func:`build_fsr` takes the **raw** canonical tables and redacts them itself
(:func:`genogram.access.redact`) before anything is laid out, so no caller can produce an
unredacted FSR by forgetting a step. (:func:`genogram.document.family_outputs`, which has
just redacted the family's rows for the genogram, hands that redaction to the private
:func:`_build_redacted` rather than redact the same rows twice.)

The PDF is built with ReportLab Platypus, in the embedded DejaVu Sans fonts (text selectable,
every glyph embedded), in ReportLab's invariant mode: the same input gives the same bytes,
and only the production date passed in changes them.

Sections
--------
The first page identifies the record (family reference, subject child, date produced, role
and purpose, policy version, "data as at" per source), then:

1. At a glance: current statutory status per person, with RAG chips that carry a letter.
2. Household composition: who lives with whom, and where (unless the role withholds it).
3. Genogram, its legend and a text list of key relationships.
4. Agencies involved and the lead practitioner.
5. Intervention timeline (one lane per person).
6. Chronology of significant events, in date order.
7. Data-quality notes.
8. Withheld for this role (counts only, a generic sentence, or nothing, as the policy says).

Every page is marked top and bottom with the policy's sensitivity marking and carries the
family reference, the date produced and "Page X of Y".
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

import pandas as pd
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.pagesizes import landscape as landscape_size
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import HRFlowable
from reportlab.platypus.paraparser import ParaFrag

from genogram._frames import records_by_index, rows
from genogram._pdf import (
    FONT,
    FONT_BOLD,
    GREY,
    INK,
    RAG_EDGE,
    RAG_FILL,
    RAG_LETTER,
    clean_text,
    format_date,
    is_missing,
    markup,
    register_fonts,
)
from genogram.access import ABUSE_RELATIONSHIP, AccessPolicy, Redacted, default_vocabulary, redact
from genogram.errors import RenderError
from genogram.timeline import POINT_TYPES, timeline_drawings
from ingest.vocabulary import InterventionVocabulary

__all__ = ["DEFAULT_CONFIDENCE_THRESHOLD", "STATEMENT", "build_fsr"]

DEFAULT_CONFIDENCE_THRESHOLD = 0.9
"""Links and people below this match probability are listed in the data-quality notes."""
STATEMENT = (
    "Produced from linked administrative records. This is not an assessment; "
    "verify with the record owner before acting."
)
GENERIC_WITHHELD = (
    "Information held by agencies that is not shared with this audience under the "
    "information-sharing policy is not included in this copy."
)

_PAGE_W, _PAGE_H = A4
_MARGIN_X = 16 * mm
_TOP = 24 * mm
_BOTTOM = 20 * mm
_FRAME_W = _PAGE_W - 2 * _MARGIN_X
_FRAME_H = _PAGE_H - _TOP - _BOTTOM
_LAND_W = _PAGE_H - 2 * _MARGIN_X
_LAND_H = _PAGE_W - _TOP - _BOTTOM
_LANDSCAPE_RATIO = 1.25  # a genogram this much wider than the portrait frame gets a landscape page
_NAVY = colors.HexColor("#1F3A5F")
_RULE = colors.HexColor("#C9CED6")
_ZEBRA = colors.HexColor("#F5F7FA")
_GROUP = colors.HexColor("#E3E9F2")
_RECENT = colors.HexColor("#FFF4CC")
_BOX = colors.HexColor("#EEF2F7")

# Display names of the agencies and sources kinlink ships with; others are humanised.
_AGENCY_LABELS = {
    "social_care": "Children's social care",
    "csc": "Children's social care",
    "early_help": "Early help",
    "police": "Police",
    "police_da": "Police",
    "education": "Education",
    "school": "Education",
    "health": "Health",
    "housing": "Housing",
    "youth_justice": "Youth justice",
    "yot": "Youth justice",
    "probation": "Probation",
}
_SOURCE_LABELS = {
    "csc": "Children's social care case records",
    "police_da": "Police domestic abuse notifications",
    "probation": "Probation case records",
    "school": "School census",
    "health": "Health (child health and health visiting)",
    "housing": "Housing tenancies and homelessness",
    "yot": "Youth offending team",
}
_SEX = {"M": "Male", "F": "Female", "X": "Other"}
_FAMILY_ROLE_LABELS = {
    "child": "Child",
    "parent": "Parent",
    "step_parent": "Step-parent",
    "carer": "Carer",
    "parent_partner": "Partner of a parent",
    "grandparent": "Grandparent",
}
_ROLE_ORDER = {k: n for n, k in enumerate(_FAMILY_ROLE_LABELS)}
_PARENT_TYPES = ("mother", "father", "parent", "adoptive_parent")
_DIRECT_TERMS = {
    "mother": "mother",
    "father": "father",
    "parent": "parent",
    "adoptive_parent": "adoptive parent",
    "step_parent": "step-parent",
    "foster_carer": "foster carer",
    "carer": "carer",
    "parental_responsibility": "holds parental responsibility",
    "grandparent": "grandparent",
}
_PAIR_TERMS = {
    "partner": "partner",
    "spouse": "spouse or civil partner",
    "ex_partner": "former partner",
    "household_member": "lives in the same household",
}
_REL_PHRASES = {
    "mother": "mother of",
    "father": "father of",
    "parent": "parent of",
    "step_parent": "step-parent of",
    "adoptive_parent": "adoptive parent of",
    "foster_carer": "foster carer of",
    "carer": "carer of",
    "parental_responsibility": "has parental responsibility for",
    "grandparent": "grandparent of",
    "partner": "partner of",
    "spouse": "married to or civil partner of",
    "ex_partner": "former partner of",
    "sibling": "sibling of",
    "half_sibling": "half-sibling of",
    "household_member": "lives in one household with",
    ABUSE_RELATIONSHIP: "recorded as suspect; the other person recorded as victim",
}
_REL_ORDER = {
    k: n
    for n, k in enumerate(
        [
            "spouse",
            "partner",
            "ex_partner",
            "mother",
            "father",
            "parent",
            "adoptive_parent",
            "step_parent",
            "parental_responsibility",
            "foster_carer",
            "carer",
            "grandparent",
            "sibling",
            "half_sibling",
            "household_member",
            ABUSE_RELATIONSHIP,
        ]
    )
}


# --------------------------------------------------------------------------- styles


@functools.lru_cache(maxsize=1)
def _styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=8.6, leading=11.2, textColor=INK, spaceAfter=3)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=7.4, leading=9.4, textColor=GREY),
        "cell": ParagraphStyle("cell", parent=body, fontSize=7.6, leading=9.4, spaceAfter=0),
        "muted": ParagraphStyle(
            "muted", parent=body, fontSize=7.6, leading=9.4, spaceAfter=0, textColor=GREY
        ),
        "head": ParagraphStyle(
            "head",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=7.6,
            leading=9.4,
            spaceAfter=0,
            textColor=colors.white,
        ),
        "group": ParagraphStyle(
            "group", parent=body, fontName=FONT_BOLD, fontSize=7.8, leading=9.6, spaceAfter=0
        ),
        "title": ParagraphStyle(
            "title", parent=body, fontName=FONT_BOLD, fontSize=17, leading=21, textColor=_NAVY, spaceAfter=2
        ),
        "subtitle": ParagraphStyle(
            "subtitle", parent=body, fontSize=9.5, leading=12, textColor=GREY, spaceAfter=8
        ),
        "h1": ParagraphStyle(
            "h1",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=12,
            leading=15,
            textColor=_NAVY,
            spaceBefore=10,
            spaceAfter=1,
            keepWithNext=1,
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=9.4,
            leading=12,
            textColor=_NAVY,
            spaceBefore=6,
            spaceAfter=3,
            keepWithNext=1,
        ),
        "statement": ParagraphStyle(
            "statement",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=8.6,
            leading=11,
            backColor=_BOX,
            borderColor=_NAVY,
            borderWidth=0.6,
            borderPadding=5,
            spaceBefore=6,
            spaceAfter=8,
        ),
        "centre": ParagraphStyle("centre", parent=body, alignment=TA_CENTER, textColor=GREY),
    }


class _Para(Paragraph):
    """A Paragraph that lays its lines out once per width.

    A Table measures each cell to size its rows and measures it again to draw it, and a
    frame or KeepTogether may ask twice too; the lines depend only on the width (and the
    text and style, which do not change), so a second ask at the same width is answered
    from the first.
    """

    _wrapped: tuple[float, tuple[float, float]] | None = None

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        # (split() drops the lines when the paragraph cannot be split; then lay out again)
        if self._wrapped is not None and self._wrapped[0] == availWidth and hasattr(self, "blPara"):
            return self._wrapped[1]
        size = super().wrap(availWidth, availHeight)
        self._wrapped = (availWidth, size)
        return size


def _p(text: str, style: str = "cell", *, shared: bool = False) -> Paragraph:
    """A Paragraph of markup built only from :func:`markup`-escaped pieces.

    ``shared`` for markup that recurs from family to family and holds no personal data
    (headings, the module's wording, chips with a vocabulary label): it is read once.
    """
    if shared:
        return _shared_para(text, style)
    return _Para(text, _styles()[style])


def _prose(text: str, style: str = "body") -> Paragraph:
    """A Paragraph of the module's own wording (escaped, never cut)."""
    return _shared_para(markup(text, 5000), style)


#: Markup read once: (markup, style name) -> the Paragraph's text and fragments.
_READ: OrderedDict[tuple[str, str], tuple[str, list[ParaFrag]]] = OrderedDict()
_READ_KEPT = 1024
_READ_LOCK = threading.Lock()


def _shared_para(text: str, style_name: str) -> Paragraph:
    """``_Para(text, style)``, reading the markup only the first time it is seen.

    Reading markup (ReportLab's parser) costs more than laying it out. The fragments read are
    kept as they came from the parser and each Paragraph gets its own copy, so a paragraph
    built from them is the one a fresh reading gives.
    """
    style = _styles()[style_name]
    key = (text, style_name)
    with _READ_LOCK:
        kept = _READ.get(key)
        if kept is not None:
            _READ.move_to_end(key)
    if kept is not None:
        return _Para(kept[0], style, frags=_fresh(kept[1]))
    para = _Para(text, style)
    if para.style is style and para.bulletText is None and all(type(f) is ParaFrag for f in para.frags):
        with _READ_LOCK:
            _READ[key] = (para.text, _fresh(para.frags))
            if len(_READ) > _READ_KEPT:
                _READ.popitem(last=False)
    return para


def _fresh(frags: Sequence[ParaFrag]) -> list[ParaFrag]:
    """Copies of parsed fragments: each its own object, with its own lists."""
    out = []
    for frag in frags:
        copy = frag.clone()
        for name, value in copy.__dict__.items():
            if isinstance(value, list):
                copy.__dict__[name] = list(value)
        out.append(copy)
    return out


def _rows(frame: pd.DataFrame) -> Iterator[Any]:
    """The rows of ``frame`` as named tuples (``itertuples(index=False)``, at less cost)."""
    return rows(frame)


@dataclass(frozen=True)
class _Plain:
    """Plain text for a table cell, set in one of :func:`_styles` (see :func:`_cells`)."""

    text: str
    style: str = "cell"


def _t(value: Any, style: str = "cell", limit: int = 200) -> _Plain:
    """A table cell of plain text (cleaned; a dash when empty)."""
    return _Plain(clean_text(value, limit) or "—", style)


def _plain(text: str, style: str = "cell") -> _Plain | Paragraph:
    """A table cell showing ``text`` (already clean) as it is; an empty Paragraph if it is empty."""
    return _Plain(text, style) if text else _Para("", _styles()[style])


#: How far (points) a line of a plain cell stays inside its column (see :func:`_cells`).
_FIT_SLACK = 0.01


def _lines(text: str, style: ParagraphStyle, width: float) -> list[str] | None:
    """``text`` broken into lines as a Paragraph in ``style`` breaks it at ``width``, or None.

    The Paragraph's own rule for one run of plain text: words (split at spaces) fill a line
    while they fit, a word that does not starts the next line. None when the Paragraph could
    do anything else: a word wider than the column (it would be split), or a line so near
    the width that the Paragraph might squeeze its spaces to fit one more word.
    """
    font, size = style.fontName, style.fontSize
    space = stringWidth(" ", font, size)
    squeeze = style.spaceShrinkage * space
    lines: list[str] = []
    line: list[str] = []
    used = -space
    for word in text.split(" "):
        wide = stringWidth(word, font, size)
        if wide > width - _FIT_SLACK:
            return None
        after = used + space + wide
        if after <= width - _FIT_SLACK:
            line.append(word)
            used = after
        elif line and after > width + squeeze * len(line) + _FIT_SLACK:
            lines.append(" ".join(line))
            line, used = [word], wide
        else:
            return None
    lines.append(" ".join(line))
    return lines


def _cells(
    data: list[list[Any]], widths: Sequence[float], padding: float
) -> tuple[list[list[Any]], list[tuple[Any, ...]]]:
    """Table data with each :class:`_Plain` cell made a string or a Paragraph, and their styles.

    A Paragraph costs far more to build, measure and draw than a string, and for plain text
    the Table draws a string at the very spot the Paragraph would, line for line (same
    font, size, colour and leading, first baseline one font size below the top). So a plain
    text becomes a string, broken into the lines the Paragraph would make at the column
    width (less ``padding``, both sides), with its style set on the cell; text whose lines
    are not certain (see :func:`_lines`) stays a Paragraph. The commands returned set the body
    style on every cell and any other style on its own.
    """
    styles = _styles()
    base = styles["cell"]
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), base.fontName, base.fontSize, base.leading),
        ("TEXTCOLOR", (0, 0), (-1, -1), base.textColor),
    ]
    room = [w - padding for w in widths]
    for r, row in enumerate(data):
        for c, cell in enumerate(row):
            if type(cell) is not _Plain:
                continue
            style = styles[cell.style]
            if cell.text != " ".join(cell.text.split()):
                lines: list[str] | None = None  # spacing the Paragraph would tidy
            elif stringWidth(cell.text, style.fontName, style.fontSize) <= room[c] - _FIT_SLACK:
                lines = [cell.text]
            else:
                lines = _lines(cell.text, style, room[c])
            if lines is None:
                row[c] = _Para(escape(cell.text), style)
                continue
            row[c] = "\n".join(lines)
            if cell.style != "cell":
                commands += [
                    ("FONT", (c, r), (c, r), style.fontName, style.fontSize, style.leading),
                    ("TEXTCOLOR", (c, r), (c, r), style.textColor),
                ]
    return data, commands


class _Table(Table):
    """A Table that writes each run of string cells in one PDF text object.

    The Table draws each string cell with ``canvas.drawString``: a text object of its own,
    and a width measured and thrown away, per cell. These cells are written instead where
    and as the Table writes them (left-aligned at the left padding, the first baseline one
    font size below the top padding, each line one leading lower, in the cell's font and
    colour), consecutive ones in one text object, in the Table's own order (so text is read
    and selected in the same order); a cell of any other kind or alignment is drawn by the
    Table itself.
    """

    _strings: list[tuple[Any, float, float, list[str]]]

    def draw(self) -> None:
        self._strings = []
        super().draw()

    def _drawCell(self, cellval: Any, cellstyle: Any, pos: Any, size: Any) -> None:
        if (
            type(cellval) is not str
            or cellstyle.alignment != "LEFT"
            or cellstyle.valign != "TOP"
            or cellstyle.direction
            or cellstyle.shaping
        ):
            self._write_strings()
            super()._drawCell(cellval, cellstyle, pos, size)
            return
        x = pos[0] + cellstyle.leftPadding
        y = pos[1] + size[1] - cellstyle.topPadding - cellstyle.fontsize
        self._strings.append((cellstyle, x, y, cellval.split("\n")))

    def _drawLines(self) -> None:
        self._write_strings()
        super()._drawLines()

    def _write_strings(self) -> None:
        if not self._strings:
            return
        canvas = self.canv
        canvas.saveState()
        text = canvas.beginText()
        font: tuple[Any, ...] | None = None
        colour: Any = None
        for style, x, y, lines in self._strings:
            if (style.fontname, style.fontsize, style.leading) != font:
                font = (style.fontname, style.fontsize, style.leading)
                text.setFont(*font)
            if colour is None or style.color != colour:
                colour = style.color
                text.setFillColor(colour)
            for line in lines:
                text.setTextOrigin(x, y)
                text.textOut(line)
                y -= style.leading
        canvas.drawText(text)
        canvas.restoreState()
        self._strings = []


_TABLE_STYLE: tuple[tuple[Any, ...], ...] = (
    ("BACKGROUND", (0, 0), (-1, 0), _NAVY),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LINEBELOW", (0, 0), (-1, -1), 0.35, _RULE),
    ("BOX", (0, 0), (-1, -1), 0.5, _RULE),
    ("TOPPADDING", (0, 0), (-1, -1), 2.4),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 2.6),
    ("LEFTPADDING", (0, 0), (-1, -1), 3.5),
    ("RIGHTPADDING", (0, 0), (-1, -1), 3.5),
)


def _table(
    header: Sequence[str],
    rows: Sequence[Sequence[Flowable | _Plain]],
    widths: Sequence[float],
    *,
    extra: Sequence[tuple[Any, ...]] = (),
    zebra: bool = True,
) -> Table:
    """A long table that splits across pages with its header repeated."""
    data: list[list[Any]] = [[_t(h, "head") for h in header], *[list(r) for r in rows]]
    data, fonts = _cells(data, widths, 2 * 3.5)
    style: list[tuple[Any, ...]] = [*_TABLE_STYLE, *fonts]
    if zebra:
        style += [("BACKGROUND", (0, r), (-1, r), _ZEBRA) for r in range(2, len(data), 2)]
    style += list(extra)
    table = _Table(data, colWidths=list(widths), repeatRows=1, splitByRow=1, hAlign="LEFT")
    table.setStyle(TableStyle(style))
    return table


def _heading(number: int, title: str) -> list[Flowable]:
    rule = HRFlowable(width="100%", thickness=0.8, color=_NAVY, spaceBefore=0, spaceAfter=5)
    rule.keepWithNext = 1
    # a section starts on a new page rather than leave its heading alone at the foot of one
    return [CondPageBreak(120), _p(f"{number}. {markup(title)}", "h1", shared=True), rule]


# Colours in Paragraph markup as 0x literals: ReportLab reads "#RRGGBB" only after trying
# several other notations, and reading the colours was most of the cost of a chip.
_INK = INK.hexval()  # 0x1a1a1a
_MUTED = GREY.hexval()  # 0x5f6368


def _chip(badge: str, rag: str) -> str:
    """A RAG chip in Paragraph markup: a colour plus the letter, so it survives greyscale."""
    fill = RAG_FILL.get(rag, RAG_FILL["amber"]).hexval()
    edge = RAG_EDGE.get(rag, RAG_EDGE["amber"]).hexval()
    letter = RAG_LETTER.get(rag, "?")
    return (
        f'<font backColor="{fill}" color="{_INK}"><b>&nbsp;{markup(badge, 12)}&nbsp;'
        f'<font color="{edge}">{letter}</font>&nbsp;</b></font>'
    )


class _FitDrawing(Flowable):
    """A Drawing scaled down (never up) to the frame width and a height limit."""

    def __init__(self, drawing: Drawing, max_height: float) -> None:
        super().__init__()
        self.drawing = drawing
        self.max_height = max_height
        self.scale = 1.0
        self.hAlign = "CENTER"

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        width, height = float(self.drawing.width or 1), float(self.drawing.height or 1)
        self.scale = min(1.0, availWidth / width, self.max_height / height)
        return width * self.scale, height * self.scale

    def draw(self) -> None:
        self.canv.saveState()
        self.canv.scale(self.scale, self.scale)
        if getattr(self.drawing, "initialFontName", None) is None:
            # a Drawing's default state font is Helvetica; start it in the embedded font
            self.drawing.initialFontName = FONT
        self.drawing.drawOn(self.canv, 0, 0)
        self.canv.restoreState()


class _DrawingTile(Flowable):
    """One rectangle of a Drawing at a fixed scale: a large genogram spread over several pages."""

    def __init__(self, drawing: Drawing, scale: float, box: tuple[float, float, float, float]) -> None:
        super().__init__()
        self.drawing = drawing
        self.scale = scale
        self.box = box  # x0, y0, width, height in drawing coordinates
        self.hAlign = "CENTER"

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return self.box[2] * self.scale, self.box[3] * self.scale

    def draw(self) -> None:
        x0, y0, width, height = self.box
        canv = self.canv
        canv.saveState()
        clip = canv.beginPath()
        clip.rect(0, 0, width * self.scale, height * self.scale)
        canv.clipPath(clip, stroke=0, fill=0)
        canv.scale(self.scale, self.scale)
        canv.translate(-x0, -y0)
        if getattr(self.drawing, "initialFontName", None) is None:
            self.drawing.initialFontName = FONT
        self.drawing.drawOn(canv, 0, 0)
        canv.restoreState()


#: Smallest scale a genogram is drawn at before it is spread over several pages: names are
#: set at 7.5 pt, so 0.8 keeps them at 6 pt or more.
_LEGIBLE_SCALE = 0.8
#: Scale of each page of a spread genogram, and how much neighbouring pages repeat.
_TILE_SCALE = 0.9
_TILE_OVERLAP = 36.0


def _tiles(drawing: Drawing, width: float, height: float) -> list[tuple[float, float, float, float]]:
    """Rectangles (drawing coordinates) covering the drawing, top row first, left to right."""
    full_w, full_h = float(drawing.width), float(drawing.height)
    step_w, step_h = width / _TILE_SCALE, height / _TILE_SCALE
    cols = max(1, math.ceil((full_w - _TILE_OVERLAP) / (step_w - _TILE_OVERLAP)))
    rows = max(1, math.ceil((full_h - _TILE_OVERLAP) / (step_h - _TILE_OVERLAP)))
    boxes = []
    for r in range(rows):
        top = full_h - r * (step_h - _TILE_OVERLAP)
        y0 = max(0.0, top - step_h)
        for c in range(cols):
            x0 = min(c * (step_w - _TILE_OVERLAP), max(0.0, full_w - step_w))
            boxes.append((x0, y0, min(step_w, full_w - x0), top - y0))
    return boxes


# --------------------------------------------------------------------------- the family


def _family_tables(tables: Mapping[str, pd.DataFrame], family_id: str) -> dict[str, pd.DataFrame]:
    """The rows of one family (relationships with either end in it, for redaction)."""
    families = tables.get("families")
    if families is None or "family_id" not in families:
        raise RenderError("no families table given")
    rows = families.loc[families["family_id"] == family_id]
    if rows.empty:
        raise RenderError(f"family {clean_text(family_id, 60)!r} is not in the families table")
    members = set(rows["person_id"])
    out = {"families": rows}
    for name, keys in (
        ("persons", ("person_id",)),
        ("interventions", ("person_id",)),
        ("households", ("person_id",)),
        ("relationships", ("person_id_from", "person_id_to")),
        ("relationship_conflicts", ("person_id_from", "person_id_to")),
    ):
        frame = tables.get(name)
        if frame is None:
            continue
        mask = pd.Series(False, index=frame.index)
        for key in keys:
            if key in frame:
                mask |= frame[key].isin(members)
        out[name] = frame.loc[mask]
    return out


def _date(value: Any) -> dt.date | None:
    if is_missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def _flag(value: Any) -> bool:
    """True only for a recorded true value (null counts as false)."""
    return not is_missing(value) and bool(value)


def _as_list(value: Any) -> list[str]:
    """A list column's value as strings ([] when null)."""
    if value is None or (not isinstance(value, list | tuple) and is_missing(value)):
        return []
    return [str(v) for v in value]


def _label(mapping: Mapping[str, str], key: Any) -> str:
    text = clean_text(key, 60)
    return mapping.get(text, text.replace("_", " ").capitalize() if text else "")


@dataclass
class _Family:
    """The redacted family, with the lookups every section needs."""

    family_id: str
    red: Redacted
    persons: pd.DataFrame  # indexed by person_id
    roles: dict[str, str]
    households: dict[str, str | None]  # person -> current household id
    order: list[str]
    subject: str | None
    as_at: dt.date
    vocab: InterventionVocabulary
    threshold: float
    people: dict[str, dict[str, Any]] = field(default_factory=dict)  # person_id -> row
    links: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # kinship types a -> b
    _relations: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.people = {
            str(k): {str(c): x for c, x in v.items()} for k, v in records_by_index(self.persons).items()
        }
        rel = self.relationships
        for a, b, kind in zip(
            rel["person_id_from"], rel["person_id_to"], rel["relationship_type"], strict=True
        ):
            if kind != ABUSE_RELATIONSHIP:
                self.links.setdefault((str(a), str(b)), set()).add(str(kind))

    @property
    def interventions(self) -> pd.DataFrame:
        return self.red.tables["interventions"]

    @functools.cached_property
    def intervention_rows(self) -> list[Any]:
        """The interventions as named tuples, in table order."""
        return list(_rows(self.interventions))

    @property
    def relationships(self) -> pd.DataFrame:
        return self.red.tables["relationships"]

    def name(self, pid: str) -> str:
        if pid not in self.people:
            return "Person not in this family"
        row = self.people[pid]
        name = " ".join(
            clean_text(row[c], 80) for c in ("given_name", "family_name") if clean_text(row[c], 80)
        )
        return name or "Name not recorded"

    def first_name(self, pid: str) -> str:
        row = self.people[pid]
        return clean_text(row["given_name"], 60) or self.name(pid)

    def age(self, pid: str) -> int | None:
        value: Any = self.people[pid]["age"]
        return None if is_missing(value) else int(value)

    def age_text(self, pid: str) -> str:
        row = self.people[pid]
        dob, dod, age = _date(row["dob"]), _date(row["dod"]), self.age(pid)
        parts = []
        if dob is not None:
            parts.append(format_date(dob) + (" (estimated)" if _flag(row.get("dob_estimated")) else ""))
        if age is not None:
            parts.append(f"aged {age}" if dod is not None else f"age {age}")
        if dod is not None:
            parts.append(f"died {dod.year}")
        return ", ".join(parts) or "not recorded"

    def died_note(self, pid: str) -> str:
        """A grey "died 2019" line (markup) for a deceased person, else ""."""
        dod = _date(self.people[pid]["dod"])
        return f'<br/><font size="6.6" color="{_MUTED}">died {dod.year}</font>' if dod else ""

    def identifiers(self, pid: str) -> str:
        """NHS number and UPN as escaped markup ("" when the role sees none)."""
        row = self.people[pid]
        parts = []
        nhs = clean_text(row["nhs_number"], 20).replace(" ", "")
        if nhs:
            parts.append("NHS " + (f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}" if len(nhs) == 10 else nhs))
        upn = clean_text(row["upn"], 20)
        if upn:
            parts.append(f"UPN {upn}")
        # each identifier kept on one line
        return "<br/>".join(markup(p).replace(" ", "&nbsp;") for p in parts)

    def sex(self, pid: str) -> str:
        return _SEX.get(clean_text(self.people[pid]["sex"], 4), "Not recorded")

    def is_current(self, row: Any) -> bool:
        start, end = _date(row.start_date), _date(row.end_date)
        if start is None or start > self.as_at or row.event_type in POINT_TYPES:
            return False
        return end is None or end > self.as_at

    # -- kinship, relative to the subject child

    def relation(self, pid: str) -> str:
        if self.subject is None:
            return _FAMILY_ROLE_LABELS.get(self.roles.get(pid, ""), "Family member")
        if pid == self.subject:
            return "Subject child"
        if pid not in self._relations:
            fallback = _FAMILY_ROLE_LABELS.get(self.roles.get(pid, ""), "Family member").lower()
            self._relations[pid] = self._kin(pid) or fallback
        return self._relations[pid]

    def _sex_of(self, pid: str) -> str:
        return clean_text(self.people[pid]["sex"], 4) if pid in self.people else ""

    def _types(self, a: str, b: str, *, both_ways: bool = False) -> set[str]:
        """Kinship relationship types recorded from ``a`` to ``b`` (or either way)."""
        kinds = set(self.links.get((a, b), ()))
        if both_ways:
            kinds |= self.links.get((b, a), set())
        return kinds

    def _kin(self, pid: str) -> str | None:
        """The kinship term of ``pid`` relative to the subject child, from the relationships."""
        subject = self.subject
        if subject is None:
            return None
        sex = self._sex_of(pid)
        direct = self._types(pid, subject)
        pair = self._types(pid, subject, both_ways=True)
        for kind in ("mother", "father", "parent", "adoptive_parent"):
            if kind in direct:
                return _DIRECT_TERMS[kind]
        if "sibling" in pair:
            return {"M": "brother", "F": "sister"}.get(sex, "sibling")
        if "half_sibling" in pair:
            return {"M": "half-brother", "F": "half-sister"}.get(sex, "half-sibling")
        parents = {}  # the subject's parents, with "mother's"/"father's"/"parent's"
        for other in sorted(self.people):
            kinds = self._types(str(other), subject) & set(_PARENT_TYPES)
            if kinds:
                kind = sorted(kinds)[0]
                side = {"mother": "mother's", "father": "father's"}.get(kind)
                parents[str(other)] = side or {"F": "mother's", "M": "father's"}.get(
                    self._sex_of(str(other)), "parent's"
                )
        for parent, side in parents.items():
            if self._types(pid, parent) & set(_PARENT_TYPES):
                lineage = {"mother's": "maternal ", "father's": "paternal "}.get(side, "")
                return lineage + {"M": "grandfather", "F": "grandmother"}.get(sex, "grandparent")
        for kind in ("step_parent", "parental_responsibility", "foster_carer", "carer", "grandparent"):
            if kind in direct:
                return _DIRECT_TERMS[kind]
        for parent, side in parents.items():
            with_parent = self._types(pid, parent, both_ways=True)
            for term in ("spouse", "partner", "ex_partner"):
                if term in with_parent:
                    return f"{side} {_PAIR_TERMS[term]}"
        for term in ("partner", "spouse", "ex_partner", "household_member"):
            if term in pair:
                return _PAIR_TERMS[term]
        return None


def _order(persons: pd.DataFrame, roles: Mapping[str, str], subject: str | None) -> list[str]:
    ages = dict(zip(persons.index, persons["age"], strict=True))
    dobs = dict(zip(persons.index, persons["dob"], strict=True))

    def key(pid: str) -> tuple[Any, ...]:
        age: Any = ages[pid]
        dob = _date(dobs[pid])
        years = -1 if is_missing(age) else int(age)
        return (
            0 if pid == subject else 1,
            _ROLE_ORDER.get(roles.get(pid, ""), len(_ROLE_ORDER)),
            -years,
            dob or dt.date.max,
            pid,
        )

    return sorted(persons.index, key=key)


def _prepare(
    red: Redacted,
    family_id: str,
    subject: str | None,
    as_at: dt.date,
    vocab: InterventionVocabulary,
    threshold: float,
) -> _Family:
    persons = red.tables["persons"].drop_duplicates("person_id").set_index("person_id", drop=False)
    families = red.tables["families"]
    roles = {str(p): str(r) for p, r in zip(families["person_id"], families["role"], strict=True)}
    households = {
        str(p): (None if is_missing(h) else str(h))
        for p, h in zip(families["person_id"], families["household_id"], strict=True)
    }
    if subject is not None and subject not in persons.index:
        raise RenderError("the subject child is not a member of the family")
    members = set(persons.index)
    rel = red.tables["relationships"]
    inside = [
        a in members and b in members for a, b in zip(rel["person_id_from"], rel["person_id_to"], strict=True)
    ]
    if not all(inside):
        rel = rel.loc[inside].reset_index(drop=True)
    tables = dict(red.tables)
    tables["relationships"] = rel
    red = Redacted(tables=tables, withheld=red.withheld, role=red.role, purpose=red.purpose)
    return _Family(
        family_id=family_id,
        red=red,
        persons=persons,
        roles=roles,
        households=households,
        order=_order(persons, roles, subject),
        subject=subject,
        as_at=as_at,
        vocab=vocab,
        threshold=threshold,
    )


def _type_label(vocab: InterventionVocabulary, kind: str) -> str:
    return vocab.types[kind].label if kind in vocab else clean_text(kind, 60).replace("_", " ")


def _badge(vocab: InterventionVocabulary, kind: str, role: Any) -> tuple[str, str]:
    if kind in vocab:
        typ = vocab.types[kind]
        return typ.badge_for(None if is_missing(role) else str(role)), typ.rag
    return clean_text(kind, 8).upper() or "?", "amber"


def _describe(row: Any) -> str:
    """Category and role of an intervention, in words (escaped markup)."""
    return escape(_description(row))


def _description(row: Any) -> str:
    """Category and role of an intervention, in words (plain text)."""
    parts = []
    category = clean_text(row.category, 80)
    if category:
        parts.append(category.replace("_", " "))
    role = clean_text(row.role, 40)
    if role in ("victim", "perpetrator", "suspect"):
        parts.append("recorded as " + ("suspect" if role in ("perpetrator", "suspect") else "victim"))
    risk = clean_text(row.risk, 40)
    if risk:
        parts.append(f"risk: {risk}")
    return clean_text("; ".join(parts))


# --------------------------------------------------------------------------- sections


def _identification(
    fam: _Family,
    *,
    policy: AccessPolicy,
    produced: dt.date,
    data_as_at: Mapping[str, dt.date],
) -> list[Flowable]:
    rules, purpose = fam.red.role, fam.red.purpose
    if fam.subject is not None:
        subject = _plain(f"{fam.name(fam.subject)} ({fam.age_text(fam.subject)})")
    else:
        subject = _plain("All children of the family")
    sources = sorted(
        (s for s in data_as_at if rules.may_see_source(str(s))),
        key=lambda s: (_label(_SOURCE_LABELS, s).lower(), str(s)),
    )
    as_at_rows = "<br/>".join(
        f"{markup(_label(_SOURCE_LABELS, s))}: {markup(format_date(data_as_at[s], 'not recorded'))}"
        for s in sources
    )
    rows: list[tuple[str, _Plain | Paragraph]] = [
        ("Family reference", _plain(clean_text(fam.family_id, 80))),
        ("Subject child", subject),
        ("Date produced", _plain(format_date(produced))),
        ("Information as at", _plain(format_date(fam.as_at))),
        ("Produced for", _plain(f"{clean_text(rules.label)} — {clean_text(purpose.label)}")),
        (
            "Access policy",
            _plain(
                f"version {policy.version}; role {clean_text(rules.key)}; purpose {clean_text(purpose.key)}"
            ),
        ),
        ("Data as at, by source", _p(as_at_rows or "No source dates given")),
        ("Family members", _plain(str(len(fam.persons)))),
    ]
    widths = [42 * mm, _FRAME_W - 42 * mm]
    # left and right padding are the Table's default, 6 points
    data, fonts = _cells([[_t(k, "group"), v] for k, v in rows], widths, 2 * 6)
    table = _Table(data, colWidths=widths, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.35, _RULE),
                ("BACKGROUND", (0, 0), (0, -1), _BOX),
                ("TOPPADDING", (0, 0), (-1, -1), 2.4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.6),
                *fonts,
            ]
        )
    )
    return [
        _p("Family Summary Record", "title", shared=True),
        _p(
            f"Family {markup(fam.family_id, 80)} · {markup(rules.label)} · {markup(purpose.label)}",
            "subtitle",
        ),
        table,
        _prose(STATEMENT, "statement"),
    ]


def _at_a_glance(fam: _Family) -> list[Flowable]:
    iv = fam.interventions
    rows = []
    any_current = False
    recent_from = fam.as_at - dt.timedelta(days=365)
    # one (stable) sort, then each person's rows in that order
    by_person: dict[Any, list[Any]] = {}
    for row in _rows(iv.sort_values(["start_date", "event_type", "intervention_id"])):
        by_person.setdefault(row.person_id, []).append(row)
    for pid in fam.order:
        statutory: list[str] = []
        other: list[str] = []
        for row in by_person.get(pid, ()):
            badge, rag = _badge(fam.vocab, row.event_type, row.role)
            label = markup(_type_label(fam.vocab, row.event_type))
            detail = _describe(row)
            text = f"{_chip(badge, rag)} {label}{'; ' + detail if detail else ''}"
            start = _date(row.start_date)
            if fam.is_current(row):
                line = f"{text}; since {markup(format_date(start))}"
                is_statutory = row.event_type in fam.vocab and fam.vocab.types[row.event_type].statutory
                (statutory if is_statutory else other).append(line)
            elif row.event_type in POINT_TYPES and start is not None and recent_from <= start <= fam.as_at:
                other.append(f"{text}; {markup(format_date(start))}")
        any_current = any_current or bool(statutory or other)
        rows.append(
            [
                _p(markup(fam.name(pid)) + fam.died_note(pid))
                if fam.died_note(pid)
                else _plain(fam.name(pid)),
                _t(fam.relation(pid)),
                _t("" if fam.age(pid) is None else str(fam.age(pid)), limit=10),
                _p("<br/>".join(statutory)) if statutory else _Plain("none recorded", "muted"),
                _p("<br/>".join(other)) if other else _Plain("none recorded", "muted"),
            ]
        )
    intro = (
        "Current statutory involvement per person at the as-at date, and other current involvement "
        "or incidents in the last 12 months. Each chip shows the badge and a RAG letter "
        "(R red, A amber, G green; the vocabulary's default weighting, not a practitioner judgement)."
    )
    widths = [30 * mm, 27 * mm, 10 * mm, 58 * mm, _FRAME_W - 125 * mm]
    header = [
        "Name",
        "Relationship" if fam.subject else "Role in family",
        "Age",
        "Current statutory",
        "Other current or recent",
    ]
    out = [*_heading(1, "At a glance"), _prose(intro, "small"), _table(header, rows, widths)]
    if not any_current:
        out.append(_p("No current involvement is recorded for anyone in this family.", "body"))
    return out


def _household_composition(fam: _Family) -> list[Flowable]:
    hh = fam.red.tables["households"]
    addresses: dict[str, str] = {}
    since: dict[tuple[str, str], dt.date | None] = {}
    for row in _rows(hh.sort_values(["household_id", "person_id"])):
        hid = str(row.household_id)
        text = ", ".join(t for t in (clean_text(row.address, 160), clean_text(row.postcode, 12)) if t)
        if text and hid not in addresses:
            addresses[hid] = text
        since[(hid, str(row.person_id))] = _date(row.start_date)
    groups: dict[str | None, list[str]] = {}
    for pid in fam.order:
        groups.setdefault(fam.households.get(pid), []).append(pid)
    subject_home = fam.households.get(fam.subject) if fam.subject else None

    def group_key(hid: str | None) -> tuple[int, int, int]:
        members = groups[hid]
        children = sum(fam.roles.get(p) == "child" for p in members)
        rank = 2 if hid is None else 0 if hid == subject_home else 1
        return (rank, -children, min(fam.order.index(p) for p in members))

    rows: list[list[Flowable]] = []
    extra: list[tuple[Any, ...]] = []
    dob_head = "Date of birth / age" if fam.red.role.fields.dob == "full" else "Age"
    for n, home in enumerate(sorted(groups, key=group_key), start=1):
        if home is None:
            title = "No current household recorded"
        else:
            where = (
                markup(addresses[home])
                if home in addresses
                else "<i>address withheld for this role or not recorded</i>"
            )
            title = f"Household {n}: {where}"
            if home == subject_home and fam.subject is not None:
                title += f" — living with {markup(fam.first_name(fam.subject))}"
        extra += [
            ("SPAN", (0, len(rows) + 1), (-1, len(rows) + 1)),
            ("BACKGROUND", (0, len(rows) + 1), (-1, len(rows) + 1), _GROUP),
        ]
        rows.append([_p(title, "group"), _t(""), _t(""), _t(""), _t("")])
        for pid in groups[home]:
            start = since.get((home or "", pid))
            ids = fam.identifiers(pid)
            if ids:
                name: _Plain | Paragraph = _p(
                    f'{markup(fam.name(pid))}<br/><font size="6.6" color="{_MUTED}">{ids}</font>'
                )
            else:
                name = _Plain(fam.name(pid))
            rows.append(
                [
                    name,
                    _t(fam.relation(pid)),
                    _t(fam.age_text(pid)),
                    _t(fam.sex(pid)),
                    _t(format_date(start, "not recorded") if home else ""),
                ]
            )
    widths = [38 * mm, 36 * mm, 40 * mm, 18 * mm, _FRAME_W - 132 * mm]
    header = [
        "Name",
        "Relationship" if fam.subject else "Role in family",
        dob_head,
        "Sex",
        "At address since",
    ]
    intro = "People in the family grouped by their current household"
    intro += ", the subject child's household first." if fam.subject else "."
    return [
        *_heading(2, "Household composition"),
        _prose(intro, "small"),
        _table(header, rows, widths, extra=extra, zebra=False),
    ]


def _relationship_rows(fam: _Family) -> list[list[Flowable]]:
    rel = fam.relationships
    show_p = fam.red.role.fields.data_quality
    items = []
    for row in _rows(rel):
        kind = str(row.relationship_type)
        a, b = str(row.person_id_from), str(row.person_id_to)
        start, end = _date(row.start_date), _date(row.end_date)
        dates = " – ".join(x for x in (format_date(start), format_date(end)) if x) or ""
        if start and not end and kind in ("partner", "spouse", "ex_partner", "step_parent"):
            dates = f"since {format_date(start)}"
        if kind == ABUSE_RELATIONSHIP:
            n = len(_as_list(row.incident_ids))
            count = f"{n} domestic abuse incident{'s' if n != 1 else ''}" if n else "domestic abuse incidents"
            phrase = f"recorded as suspect in {count} in which the recorded victim is"
        else:
            phrase = _REL_PHRASES.get(kind, clean_text(kind, 40).replace("_", " "))
        basis = clean_text(row.basis, 20) or "—"
        srcs = ", ".join(sorted({_label(_AGENCY_LABELS, s) for s in _as_list(row.sources)}))
        evidence = basis + (f" ({srcs})" if srcs else "")
        if show_p and not is_missing(row.confidence):
            evidence += f"; {float(row.confidence):.0%}"
        items.append(
            (
                _REL_ORDER.get(kind, len(_REL_ORDER)),
                fam.order.index(a) if a in fam.order else 999,
                fam.order.index(b) if b in fam.order else 999,
                [_t(fam.name(a)), _t(phrase), _t(fam.name(b)), _t(dates), _t(evidence)],
            )
        )
    return [r for *_, r in sorted(items, key=lambda x: x[:3])]


def _genogram(fam: _Family, genogram: Drawing | None, legend: Drawing | None) -> list[Flowable]:
    out = _heading(3, "Genogram")
    if genogram is None:
        out.append(
            _p(
                "<b>Genogram not available.</b> The key relationships below describe the family in words.",
                "body",
            )
        )
    elif min(_LAND_W / float(genogram.width), _LAND_H * 0.8 / float(genogram.height)) < _LEGIBLE_SCALE:
        # too large for one page at a legible size: spread over landscape pages, legend last
        boxes = _tiles(genogram, _LAND_W, _LAND_H * 0.86)
        pages: list[Flowable] = [NextPageTemplate("landscape"), PageBreak(), *out]
        for i, box in enumerate(boxes, start=1):
            note = (
                f"Genogram, page {i} of {len(boxes)} (read left to right, top to bottom; "
                "neighbouring pages repeat a narrow strip)"
            )
            pages += [_p(note, "small"), _DrawingTile(genogram, _TILE_SCALE, box)]
            pages.append(PageBreak())
        if legend is not None:
            pages += [_FitDrawing(legend, max_height=_LAND_H * 0.5)]
        out = [*pages, NextPageTemplate("portrait"), PageBreak()]
    elif float(genogram.width) > _FRAME_W * _LANDSCAPE_RATIO and genogram.width >= genogram.height:
        # a wide family gets a landscape page of its own, with the legend
        picture: list[Flowable] = [*out[1:], _FitDrawing(genogram, max_height=_LAND_H * 0.74)]
        if legend is not None:
            picture += [Spacer(1, 4), _FitDrawing(legend, max_height=_LAND_H * 0.18)]
        out = [
            NextPageTemplate("landscape"),
            PageBreak(),
            *picture,
            NextPageTemplate("portrait"),
            PageBreak(),
        ]
    else:
        # the picture and its legend on one page, with the heading
        picture = [_FitDrawing(genogram, max_height=_FRAME_H * 0.62)]
        if legend is not None:
            picture += [Spacer(1, 4), _FitDrawing(legend, max_height=_FRAME_H * 0.22)]
        out = [out[0], KeepTogether([*out[1:], *picture])]
    rows = _relationship_rows(fam)
    out.append(_p("Key relationships", "h2", shared=True))
    if rows:
        widths = [31 * mm, 38 * mm, 31 * mm, 27 * mm, _FRAME_W - 127 * mm]
        out.append(_table(["Person", "Relationship", "Person", "Dates", "Basis"], rows, widths))
    else:
        out.append(_p("No relationships are recorded between members of this family.", "body"))
    return out


def _agencies(fam: _Family) -> list[Flowable]:
    iv = fam.interventions
    per_agency: dict[str, dict[str, Any]] = {}
    for row in _rows(iv.sort_values(["start_date", "intervention_id"], na_position="last")):
        agencies = sorted({_label(_AGENCY_LABELS, a) for a in _as_list(row.agencies)}) or [
            "Agency not recorded"
        ]
        for agency in agencies:
            entry = per_agency.setdefault(agency, {"types": {}, "people": [], "since": None, "workers": []})
            current = fam.is_current(row)
            label = _type_label(fam.vocab, row.event_type)
            entry["types"][label] = entry["types"].get(label, False) or current
            if row.person_id not in entry["people"]:
                entry["people"].append(row.person_id)
            start = _date(row.start_date)
            if start is not None and (entry["since"] is None or start < entry["since"]):
                entry["since"] = start
            worker = clean_text(row.lead_practitioner, 80)
            if worker and current and worker not in entry["workers"]:
                entry["workers"].append(worker)
    rows = []
    for agency in sorted(per_agency):
        e = per_agency[agency]
        types = list(e["types"].items())
        if len(types) == 1 and not types[0][1]:
            involvement: _Plain | Paragraph = _plain(clean_text(types[0][0]))
        else:
            involvement = _p(
                "<br/>".join(f"{markup(t)}{' <b>(current)</b>' if cur else ''}" for t, cur in types)
            )
        people = sorted(e["people"], key=lambda p: fam.order.index(p) if p in fam.order else 999)
        rows.append(
            [
                _t(agency),
                involvement,
                _t(", ".join(fam.name(p) for p in people), limit=2000),
                _t(format_date(e["since"], "—")),
                _t(", ".join(e["workers"]) or "none recorded"),
            ]
        )
    lead = _lead_practitioner(fam)
    out = [*_heading(4, "Agencies involved and lead practitioner"), _p(lead, "body")]
    if rows:
        widths = [30 * mm, 55 * mm, 38 * mm, 20 * mm, _FRAME_W - 143 * mm]
        out.append(
            _table(
                ["Agency", "Involvement", "People", "Involved since", "Named worker (current)"], rows, widths
            )
        )
    else:
        out.append(_p("No agency involvement is recorded that this role may see.", "body"))
    return out


def _lead_practitioner(fam: _Family) -> str:
    best: tuple[Any, ...] | None = None
    for row in fam.intervention_rows:
        worker = clean_text(row.lead_practitioner, 80)
        if not worker or not fam.is_current(row):
            continue
        typ = fam.vocab.types.get(row.event_type)
        if typ is not None and typ.statutory and typ.domain == "social_care":
            weight = 0
        elif typ is not None and typ.domain in ("social_care", "early_help"):
            weight = 1
        else:
            weight = 2
        # the subject child's social care episode first, then other children's, latest first
        rank = (
            weight,
            0 if row.person_id == fam.subject else 1,
            -(_date(row.start_date) or dt.date.min).toordinal(),
            str(row.intervention_id),
        )
        if best is None or rank < best[0]:
            best = (rank, worker, row)
    if best is None:
        return "<b>Lead practitioner:</b> none recorded."
    _, worker, row = best
    agency = ", ".join(sorted({_label(_AGENCY_LABELS, a) for a in _as_list(row.agencies)}))
    what = markup(_type_label(fam.vocab, row.event_type).lower())
    return (
        f"<b>Lead practitioner:</b> {markup(worker)}"
        f"{' (' + markup(agency) + ')' if agency else ''} — {what} for {markup(fam.name(row.person_id))}."
    )


def _timeline(fam: _Family) -> list[Flowable]:
    iv = fam.interventions
    involved = {row.person_id for row in fam.intervention_rows}
    people = [pid for pid in fam.order if pid in involved]
    lanes = [(pid, f"{fam.name(pid)}") for pid in people]
    out = _heading(5, "Intervention timeline")
    out.append(
        _prose(
            "One lane per person with recorded involvement, over the last five years. Bars are episodes "
            "(an arrow: still open at the as-at date); diamonds are incidents. Each carries its badge "
            "and RAG letter.",
            "small",
        )
    )
    if not people:
        out.append(_p("No interventions are recorded that this role may see.", "body"))
        return out
    drawings = timeline_drawings(
        iv, lanes, as_at=fam.as_at, vocabulary=fam.vocab, width=_FRAME_W, max_height=_FRAME_H - 60
    )
    # the heading, introduction and first drawing move to a new page together if need be
    first = KeepTogether([*out[1:], _FitDrawing(drawings[0], _FRAME_H - 40)])
    out = [out[0], first, *(_FitDrawing(d, _FRAME_H - 40) for d in drawings[1:])]
    others = [pid for pid in fam.order if pid not in people]
    if others:
        out.append(
            _p(
                "No involvement recorded for: " + ", ".join(markup(fam.name(p)) for p in others) + ".",
                "small",
            )
        )
    return out


def _chronology(fam: _Family) -> list[Flowable]:
    events: list[tuple[dt.date, int, str, str, list[Flowable | _Plain]]] = []
    for row in fam.intervention_rows:
        start, end = _date(row.start_date), _date(row.end_date)
        label = _type_label(fam.vocab, row.event_type)
        badge, rag = _badge(fam.vocab, row.event_type, row.role)
        agencies = ", ".join(sorted({_label(_AGENCY_LABELS, a) for a in _as_list(row.agencies)}))
        detail = _description(row)
        point = row.event_type in POINT_TYPES
        if start is not None:
            status = (
                ""
                if point
                else ("ongoing" if end is None or end > fam.as_at else f"ended {format_date(end)}")
            )
            text = "; ".join(t for t in (detail, status) if t)
            events.append(
                (
                    start,
                    0,
                    str(row.person_id),
                    str(row.intervention_id),
                    [
                        _t(format_date(start)),
                        _t(fam.name(row.person_id)),
                        _p(f"{_chip(badge, rag)} {markup(label)}", shared=True),
                        _t(agencies),
                        _Plain(text or "—"),
                    ],
                )
            )
        statutory = row.event_type in fam.vocab and fam.vocab.types[row.event_type].statutory
        if end is not None and end <= fam.as_at and not point and statutory:
            events.append(
                (
                    end,
                    1,
                    str(row.person_id),
                    str(row.intervention_id),
                    [
                        _t(format_date(end)),
                        _t(fam.name(row.person_id)),
                        _p(f"{_chip(badge, rag)} {markup(label)} ended", shared=True),
                        _t(agencies),
                        _Plain("—"),
                    ],
                )
            )
    for pid in fam.order:
        dod = _date(fam.people[pid]["dod"])
        if dod is not None and dod <= fam.as_at:
            events.append(
                (dod, 2, pid, "", [_t(format_date(dod)), _t(fam.name(pid)), _t("Died"), _t("—"), _t("—")])
            )
    events.sort(key=lambda e: (e[0], e[1], fam.order.index(e[2]) if e[2] in fam.order else 999, e[3]))
    recent = fam.as_at - dt.timedelta(days=365)
    extra = [
        ("BACKGROUND", (0, n), (-1, n), _RECENT) for n, e in enumerate(events, start=1) if e[0] >= recent
    ]
    out = [
        *_heading(6, "Chronology of significant events"),
        _prose(
            "Starts and ends of recorded involvement, incidents and deaths, oldest first. "
            "Shaded rows fall in the 12 months before the as-at date.",
            "small",
        ),
    ]
    if events:
        widths = [20 * mm, 32 * mm, 58 * mm, 28 * mm, _FRAME_W - 138 * mm]
        out.append(
            _table(
                ["Date", "Person", "Event", "Agency", "Detail"],
                [e[4] for e in events],
                widths,
                extra=extra,
                zebra=False,
            )
        )
    else:
        out.append(_p("No events are recorded that this role may see.", "body"))
    return out


def _data_quality(fam: _Family) -> list[Flowable]:
    out = _heading(7, "Data-quality notes")
    if not fam.red.role.fields.data_quality:
        out.append(
            _prose(
                "This record was put together automatically by linking records from several agency "
                "systems; links can be wrong. Match probabilities are not shown in this copy. "
                "Check with the record owner before acting on anything here.",
                "body",
            )
        )
        return out
    threshold = fam.threshold
    rows: list[list[Flowable]] = []
    for pid in fam.order:
        row: Any = fam.people[pid]
        conf: Any = row["cluster_confidence"]
        if not is_missing(conf) and float(conf) < threshold:
            rows.append(
                [
                    _t(fam.name(pid)),
                    _t("Agency records joined into this person with a low match probability"),
                    _t(f"{float(conf):.0%}"),
                ]
            )
        if _flag(row["dob_conflict"]):
            rows.append([_t(fam.name(pid)), _t("Agency records give conflicting dates of birth"), _t("—")])
        if _flag(row.get("dob_estimated")):
            rows.append([_t(fam.name(pid)), _t("Date of birth estimated from a recorded age"), _t("—")])
    fams = fam.red.tables["families"]
    for pid, conf in zip(fams["person_id"], fams["confidence"], strict=True):
        if not is_missing(conf) and float(conf) < threshold and pid in fam.persons.index:
            rows.append(
                [
                    _t(fam.name(pid)),
                    _t("Brought into the family by a low-probability relationship"),
                    _t(f"{float(conf):.0%}"),
                ]
            )
    rel = fam.relationships
    for row in _rows(rel.sort_values("relationship_id")):
        if not is_missing(row.confidence) and float(row.confidence) < threshold:
            kind = _REL_PHRASES.get(str(row.relationship_type), clean_text(row.relationship_type, 40))
            who = f"{fam.name(row.person_id_from)} — {fam.name(row.person_id_to)}"
            rows.append(
                [
                    _t(who),
                    _t(f"Weak link: “{kind}” ({clean_text(row.basis, 20) or 'basis not recorded'})"),
                    _t(f"{float(row.confidence):.0%}"),
                ]
            )
    conflicts = fam.red.tables["relationship_conflicts"]
    for row in _rows(conflicts):
        ends = [str(x) for x in (row.person_id_from, row.person_id_to) if not is_missing(x)]
        who = " — ".join(
            fam.name(p) if p in fam.persons.index else "someone outside this family" for p in ends
        )
        kind = clean_text(row.relationship_type, 40).replace("_", " ")
        rows.append(
            [
                _t(who or "—"),
                _t(f"Stated {kind} relationship rejected: {clean_text(row.message, 300)}", limit=400),
                _t("—"),
            ]
        )
    out.append(
        _prose(
            f"People and links with a match probability below {threshold:.0%}, conflicting or estimated "
            "dates of birth, and relationships rejected as inconsistent. Treat these with care.",
            "small",
        )
    )
    if rows:
        out.append(_table(["Who", "Note", "Match probability"], rows, [50 * mm, _FRAME_W - 80 * mm, 30 * mm]))
    else:
        out.append(_prose(f"No data-quality issues found at the threshold of {threshold:.0%}."))
    return out


def _withheld(fam: _Family) -> list[Flowable]:
    rules = fam.red.role
    if rules.withheld_note == "none":
        return []
    out = _heading(8, "Withheld for this role")
    if rules.withheld_note == "generic":
        out.append(_prose(GENERIC_WITHHELD, "body"))
        return out
    if not fam.red.withheld:
        out.append(_p("Nothing was withheld from this copy.", "body"))
        return out
    out.append(
        _prose(
            f"Under the access policy for this role ({rules.label}; {fam.red.purpose.label.lower()}), "
            "the following were left out before this record was drawn. Counts only.",
            "small",
        )
    )
    rows = [[_t(k[:1].upper() + k[1:]), _t(str(v))] for k, v in fam.red.withheld.items()]
    out.append(KeepTogether(_table(["Withheld", "Count"], rows, [_FRAME_W - 30 * mm, 30 * mm])))
    return out


# --------------------------------------------------------------------------- pages


class _NumberedCanvas(Canvas):
    """A canvas that knows the page count when it draws each page's banners ("Page X of Y")."""

    def __init__(self, *args: Any, decorate: Callable[[Canvas, int, int], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._decorate = decorate
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._decorate(self, self._pageNumber, total)
            super().showPage()
        super().save()


def _decorator(
    marking: str, family_id: str, audience: str, produced: dt.date
) -> Callable[[Canvas, int, int], None]:
    mark = clean_text(marking, 60).upper()
    ref = clean_text(family_id, 60)
    who = clean_text(audience, 120)
    when = format_date(produced)

    def decorate(canvas: Canvas, page: int, total: int) -> None:
        width, height = canvas._pagesize  # portrait or landscape
        canvas.saveState()
        top = height - 9 * mm
        canvas.setFillColor(_NAVY)
        canvas.setFont(FONT_BOLD, 10)
        canvas.drawCentredString(width / 2, top, mark)
        canvas.setFont(FONT, 7)
        canvas.setFillColor(GREY)
        canvas.drawString(_MARGIN_X, top - 10, f"Family Summary Record · Family {ref}")
        canvas.drawRightString(width - _MARGIN_X, top - 10, who)
        canvas.setStrokeColor(_RULE)
        canvas.setLineWidth(0.6)
        canvas.line(_MARGIN_X, top - 14, width - _MARGIN_X, top - 14)
        bottom = 8 * mm
        canvas.line(_MARGIN_X, bottom + 15, width - _MARGIN_X, bottom + 15)
        canvas.drawString(_MARGIN_X, bottom + 6, f"Family {ref} · Produced {when}")
        canvas.drawRightString(width - _MARGIN_X, bottom + 6, f"Page {page} of {total}")
        canvas.setFillColor(_NAVY)
        canvas.setFont(FONT_BOLD, 10)
        canvas.drawCentredString(width / 2, bottom - 3, mark)
        canvas.restoreState()

    return decorate


def build_fsr(
    tables: Mapping[str, pd.DataFrame],
    family_id: str,
    *,
    role: str,
    purpose: str,
    policy: AccessPolicy,
    as_at: dt.date,
    produced: dt.date,
    data_as_at: Mapping[str, dt.date],
    genogram: Drawing | None,
    legend: Drawing | None,
    subject: str | None = None,
    vocabulary: InterventionVocabulary | None = None,
    confidence_threshold: float = DEFAULT_CONFIDENCE_THRESHOLD,
) -> bytes:
    """The Family Summary Record of one family as A4 PDF bytes, redacted for ``role``.

    Parameters
    ----------
    tables : Mapping[str, pandas.DataFrame]
        The **raw** canonical tables (``persons``, ``relationships``, ``families``,
        ``households``, ``interventions``, optionally ``relationship_conflicts``); they may
        hold other families too. They are redacted here, before anything is laid out.
    family_id : str
        The family to render.
    role, purpose : str
        Who the FSR is for and why (keys of the access policy).
    policy : AccessPolicy
        The access policy (see :func:`genogram.access.load_policy`).
    as_at : datetime.date
        The date the record describes: "current" means open at this date; ages are at it.
    produced : datetime.date
        The production date printed on every page (the only thing that changes the bytes).
    data_as_at : Mapping[str, datetime.date]
        Extract date per source; only sources the role may see are printed.
    genogram, legend : reportlab.graphics.shapes.Drawing or None
        The genogram picture and its legend; ``None`` prints "Genogram not available". They
        must be drawn from tables redacted for the same role.
    subject : str, optional
        ``person_id`` of the subject child; without one, every child of the family is a subject.
    vocabulary : InterventionVocabulary, optional
        The intervention vocabulary (default: the shipped one).
    confidence_threshold : float
        Match probabilities below this are listed in the data-quality notes.

    Returns
    -------
    bytes
        The PDF. Same input, same bytes.

    Raises
    ------
    AccessError
        Unknown role or purpose, or a pair the policy does not allow (checked first).
    RenderError
        Unknown family, a subject outside the family, or a table lacking a column.
    """
    policy.check(role, purpose)  # refuse before touching any data
    if not 0 <= confidence_threshold <= 1:
        raise RenderError(f"confidence_threshold must be between 0 and 1, got {confidence_threshold}")
    vocab = vocabulary if vocabulary is not None else default_vocabulary()
    red = redact(_family_tables(tables, family_id), policy, role, purpose, vocabulary=vocab, as_at=as_at)
    return _build_redacted(
        red,
        family_id,
        policy=policy,
        as_at=as_at,
        produced=produced,
        data_as_at=data_as_at,
        genogram=genogram,
        legend=legend,
        subject=subject,
        vocabulary=vocab,
        confidence_threshold=confidence_threshold,
    )


def _build_redacted(
    red: Redacted,
    family_id: str,
    *,
    policy: AccessPolicy,
    as_at: dt.date,
    produced: dt.date,
    data_as_at: Mapping[str, dt.date],
    genogram: Drawing | None,
    legend: Drawing | None,
    subject: str | None = None,
    vocabulary: InterventionVocabulary | None = None,
    confidence_threshold: float = DEFAULT_CONFIDENCE_THRESHOLD,
) -> bytes:
    """:func:`build_fsr` from tables :func:`genogram.access.redact` already returned.

    For :func:`genogram.document.family_outputs`, which redacts one family's rows once and
    draws every output from them. ``red`` must be ``redact``'s answer for ``family_id``'s
    rows, with this ``policy``, ``as_at`` and ``vocabulary``.
    """
    if not 0 <= confidence_threshold <= 1:
        raise RenderError(f"confidence_threshold must be between 0 and 1, got {confidence_threshold}")
    role = red.role.key
    register_fonts()
    vocab = vocabulary if vocabulary is not None else default_vocabulary()
    fam = _prepare(red, family_id, subject, as_at, vocab, confidence_threshold)

    story: list[Flowable] = []
    story += _identification(fam, policy=policy, produced=produced, data_as_at=data_as_at)
    story += _at_a_glance(fam)
    story += _household_composition(fam)
    story += _genogram(fam, genogram, legend)
    story += _agencies(fam)
    story += _timeline(fam)
    story += _chronology(fam)
    story += _data_quality(fam)
    story += _withheld(fam)

    marking = policy.marking_for(role)
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN_X,
        rightMargin=_MARGIN_X,
        topMargin=_TOP,
        bottomMargin=_BOTTOM,
        title=f"Family Summary Record {clean_text(family_id, 60)}",
        author="kinlink",
        subject=clean_text(marking, 60),
        keywords=clean_text(marking, 60),
        creator="kinlink",
        invariant=1,
        initialFontName=FONT,
    )
    pad = {"leftPadding": 0, "rightPadding": 0, "topPadding": 0, "bottomPadding": 0}
    portrait = Frame(_MARGIN_X, _BOTTOM, _FRAME_W, _FRAME_H, id="portrait", **pad)
    landscape = Frame(_MARGIN_X, _BOTTOM, _LAND_W, _LAND_H, id="landscape", **pad)
    doc.addPageTemplates(
        [
            PageTemplate(id="portrait", frames=[portrait], pagesize=A4),
            PageTemplate(id="landscape", frames=[landscape], pagesize=landscape_size(A4)),
        ]
    )
    audience = f"{red.role.label} · {red.purpose.label}"
    decorate = _decorator(marking, family_id, audience, produced)
    doc.build(story, canvasmaker=functools.partial(_NumberedCanvas, decorate=decorate))
    return buffer.getvalue()
