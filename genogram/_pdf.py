"""Private helpers shared by the FSR and the timeline: fonts, palette, safe text, dates."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any
from xml.sax.saxutils import escape

import pandas as pd
from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont  # noqa: F401

from genogram.style import FONT, FONT_BOLD, FONT_DIR, register_fonts

__all__ = [
    "FONT",
    "FONT_BOLD",
    "FONT_DIR",
    "GREY",
    "INK",
    "RAG_EDGE",
    "RAG_FILL",
    "RAG_LETTER",
    "clean_text",
    "fit_text",
    "format_date",
    "is_missing",
    "markup",
    "register_fonts",
]


INK = colors.HexColor("#1A1A1A")
GREY = colors.HexColor("#5F6368")
# Okabe-Ito derived tints: distinguishable by the colour-blind, and each carries a letter too.
RAG_FILL = {
    "red": colors.HexColor("#F3B3A6"),
    "amber": colors.HexColor("#F9D98B"),
    "green": colors.HexColor("#B5DDB0"),
}
RAG_EDGE = {
    "red": colors.HexColor("#B23A1E"),
    "amber": colors.HexColor("#A87400"),
    "green": colors.HexColor("#2E7D32"),
}
RAG_LETTER = {"red": "R", "amber": "A", "green": "G"}

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_KEEP_FORMAT = {"\u200c", "\u200d"}  # zero-width (non-)joiners shape some scripts


def is_missing(value: Any) -> bool:
    """True for None, NaN, NaT and pandas.NA."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def clean_text(value: Any, limit: int = 200) -> str:
    """Plain text safe to draw: control and format characters removed, whitespace collapsed.

    Strings longer than ``limit`` characters are cut with an ellipsis, so no one value can
    outgrow a page.
    """
    if is_missing(value):
        return ""
    text = str(value)
    # a printable string has no control or format character (category C) to replace
    if not text.isprintable():
        text = "".join(ch if unicodedata.category(ch)[0] != "C" or ch in _KEEP_FORMAT else " " for ch in text)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: max(limit - 1, 0)].rstrip() + "…"
    return text


def markup(value: Any, limit: int = 200) -> str:
    """:func:`clean_text`, escaped for ReportLab Paragraph markup (``&``, ``<``, ``>``)."""
    return escape(clean_text(value, limit))


def fit_text(text: str, font: str, size: float, width: float) -> str:
    """Cut ``text`` with an ellipsis so it is at most ``width`` points wide."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…" if text else ""


def format_date(value: Any, missing: str = "") -> str:
    """``12 Apr 2014``, or ``missing`` when there is no date."""
    if is_missing(value):
        return missing
    if isinstance(value, pd.Timestamp):
        value = value.date()
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"
    return clean_text(value, 40)
