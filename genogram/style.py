"""The genogram's house style: the one font, sizes in points, and the colour-blind-safe palette.

Everything drawn or measured uses the DejaVu Sans TTFs shipped in ``genogram/fonts/``
(registered with ReportLab once, by :func:`register_fonts`), so the sizes given to Graphviz
are the sizes drawn. Colours come from the Okabe-Ito/ColorBrewer families and never carry
meaning alone: every RAG badge also has its own letter code and outline shape.
"""

from __future__ import annotations

import functools
from pathlib import Path

from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

__all__ = [
    "ABUSE_COLOUR",
    "BADGE_GAP",
    "BADGE_HEIGHT",
    "BADGE_PAD",
    "BADGE_SIZE",
    "DETAIL_SIZE",
    "FONT",
    "FONT_BOLD",
    "FONT_DIR",
    "HOUSEHOLD_COLOUR",
    "INK",
    "LABEL_GAP",
    "LABEL_MAX_WIDTH",
    "LINE_WIDTH",
    "MUTED",
    "NAME_SIZE",
    "RAG_FILL",
    "RAG_TEXT",
    "SMALL_SIZE",
    "SYMBOL",
    "SYMBOL_TEXT_SIZE",
    "register_fonts",
    "text_width",
]

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"

#: Side of a person's square (diameter of a circle), in points.
SYMBOL = 24.0
#: Sizes of the text under a symbol (name, dates), inside it (age), and of badge codes.
NAME_SIZE = 7.5
DETAIL_SIZE = 6.5
SYMBOL_TEXT_SIZE = 8.5
SMALL_SIZE = 6.0
BADGE_SIZE = 5.6
#: Widest a name line may be before it wraps.
LABEL_MAX_WIDTH = 66.0
#: Gap between a symbol and its label.
LABEL_GAP = 3.0
BADGE_HEIGHT = 9.0
BADGE_PAD = 2.4
BADGE_GAP = 2.0
LINE_WIDTH = 1.1

INK = colors.HexColor("#1A1A1A")
MUTED = colors.HexColor("#6B6B6B")
#: Recorded domestic abuse lines: a dark red that stays dark in greyscale.
ABUSE_COLOUR = colors.HexColor("#B2182B")
HOUSEHOLD_COLOUR = colors.HexColor("#2B6CB0")
#: RAG fills: distinct in hue *and* in lightness (dark red, light amber, mid green).
RAG_FILL = {
    "red": colors.HexColor("#B2182B"),
    "amber": colors.HexColor("#F4B400"),
    "green": colors.HexColor("#1B7F5F"),
}
RAG_TEXT = {"red": colors.white, "amber": INK, "green": colors.white}


@functools.cache
def register_fonts() -> tuple[str, str]:
    """Register DejaVu Sans (regular and bold) with ReportLab, once; return their names."""
    registered = set(pdfmetrics.getRegisteredFontNames())
    for name, file in ((FONT, "DejaVuSans.ttf"), (FONT_BOLD, "DejaVuSans-Bold.ttf")):
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / file)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)
    return FONT, FONT_BOLD


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """Width in points of ``text`` set in DejaVu Sans at ``size``."""
    register_fonts()
    return float(pdfmetrics.stringWidth(text, FONT_BOLD if bold else FONT, size))
