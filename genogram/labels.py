"""What is written on the genogram, and how much room it takes.

A person's label is their name (wrapped, at most two lines), their dates and a row or two
of intervention badges; their age goes inside the symbol. The text is cleaned once here
(:func:`clean_text`), so every output (DOT, PDF, SVG) shows the same safe string, and
measured with the font the drawing uses, so Graphviz reserves exactly the room drawn.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from genogram.graph import UNKNOWN_PARENT, Badge
from genogram.style import (
    BADGE_GAP,
    BADGE_HEIGHT,
    BADGE_PAD,
    BADGE_SIZE,
    DETAIL_SIZE,
    LABEL_MAX_WIDTH,
    NAME_SIZE,
    SYMBOL,
    text_width,
)

__all__ = [
    "MAX_TEXT",
    "PersonLabel",
    "badge_width",
    "clean_text",
    "incidents_text",
    "partnership_text",
    "person_label",
    "wrap",
]

#: Longest cleaned text kept (characters); longer text ends with an ellipsis.
MAX_TEXT = 120
_ELLIPSIS = "…"
_NAME_LINES = 3
_LINE_GAP = 1.25
_STATUS_WORDS = {
    "married": "m.",
    "cohabiting": "LT",
    "separated": "s.",
    "divorced": "d.",
    "ex": "",
    "not_recorded": "",
}


def clean_text(value: object, *, limit: int = MAX_TEXT) -> str:
    """Printable text from any value: controls, format and bidi marks, surrogates removed.

    Whitespace runs become one space; text longer than ``limit`` characters is cut and ends
    with an ellipsis. The result contains no character below U+0020, no U+007F-U+009F, no
    Unicode format character (``Cf``: bidi overrides, zero-width joiners) and no surrogate.

    Examples
    --------
    >>> clean_text("  Ann\\u202e\\x00 \\t O'Brien ")
    "Ann O'Brien"
    >>> clean_text("x" * 10, limit=5)
    'xxxx…'
    """
    if value is None:
        return ""
    kept = []
    for ch in str(value):
        category = unicodedata.category(ch)
        if category in ("Zs", "Zl", "Zp") or ch in "\t\n\r\v\f":
            kept.append(" ")
        elif category[0] != "C":
            kept.append(ch)
    text = " ".join("".join(kept).split())
    if len(text) > limit:
        text = text[: max(limit - 1, 0)].rstrip() + _ELLIPSIS
    return text


def wrap(
    text: str, size: float, width: float, *, bold: bool = False, max_lines: int = _NAME_LINES
) -> list[str]:
    """Break ``text`` into at most ``max_lines`` lines no wider than ``width`` points.

    Lines break between words, after a hyphen, and inside a word only when it is wider
    than a line on its own; text that still does not fit ends with an ellipsis.

    Examples
    --------
    >>> wrap("Isla Okonkwo-Barnes", 7.5, 66, bold=True)
    ['Isla Okonkwo-', 'Barnes']
    """
    pieces: list[tuple[str, str]] = []  # (text, what joins it to the piece before)
    for w, word in enumerate(text.split(" ")):
        for k, part in enumerate(re.findall(r"[^-]+-?|-", word) or [word]):
            pieces.append((part, " " if w and not k else ""))
    lines: list[str] = []
    current = ""
    for part, joint in pieces:
        trial = f"{current}{joint}{part}" if current else part
        if text_width(trial, size, bold=bold) <= width:
            current = trial
            continue
        if current:
            lines.append(current)
        current = ""
        for ch in part:
            if text_width(current + ch, size, bold=bold) > width and current:
                lines.append(current)
                current = ""
            current += ch
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and text_width(last + _ELLIPSIS, size, bold=bold) > width:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last.rstrip() + _ELLIPSIS]
    return lines


def badge_width(code: str) -> float:
    """Width of one badge box (its code in bold, padded; rounder shapes get more room)."""
    return text_width(code, BADGE_SIZE, bold=True) + 2 * BADGE_PAD + 3.0


@dataclass(frozen=True)
class PersonLabel:
    """The text of one person, laid out: lines under the symbol, badge rows, size.

    ``lines`` holds ``(text, size, bold)``; ``inside`` is written in the symbol (the age,
    ``?`` for an unknown parent); ``width`` and ``height`` cover lines and badges.
    """

    lines: tuple[tuple[str, float, bool], ...]
    badge_rows: tuple[tuple[Badge, ...], ...]
    inside: str
    width: float
    height: float

    def line_height(self, size: float) -> float:
        """Baseline-to-baseline distance of a line set at ``size``."""
        return size * _LINE_GAP


def _dates(attrs: Mapping[str, Any]) -> str:
    dob, dod = attrs["dob"], attrs["dod"]
    approx = "c." if attrs["dob_estimated"] else ""
    if attrs["deceased"]:
        born = f"{approx}{dob.year}" if dob else "?"
        died = str(dod.year) if dod else "?"
        return f"{born}–{died}" + (f" ({attrs['age']})" if attrs["age"] is not None else "")
    return f"b. {approx}{dob.year}" if dob else ""


def _inside(attrs: Mapping[str, Any]) -> str:
    if attrs["kind"] == UNKNOWN_PARENT:
        return "?"
    if attrs["deceased"] or attrs["age"] is None:
        return ""
    return "<1" if attrs["age"] == 0 else str(attrs["age"])


def _badge_rows(badges: Sequence[Badge], width: float) -> list[tuple[Badge, ...]]:
    rows: list[list[Badge]] = []
    used = 0.0
    for badge in badges:
        w = badge_width(badge.code)
        if rows and used + BADGE_GAP + w <= width:
            rows[-1].append(badge)
            used += BADGE_GAP + w
        else:
            rows.append([badge])
            used = w
    return [tuple(r) for r in rows]


def person_label(attrs: Mapping[str, Any], *, badges: bool = True) -> PersonLabel:
    """Lay out the label of one person-like node from its graph attributes.

    Parameters
    ----------
    attrs
        The node's attributes (see :data:`genogram.graph.PERSON_ATTRIBUTES`).
    badges
        Whether to include the intervention badges.

    Examples
    --------
    >>> from genogram.graph import PERSON_ATTRIBUTES
    >>> import datetime as dt
    >>> attrs = dict.fromkeys(PERSON_ATTRIBUTES)
    >>> attrs.update(kind="person", name="Lily Price", dob=dt.date(2014, 4, 12), age=12,
    ...              dob_estimated=False, deceased=False, subject=True, badges=[])
    >>> lab = person_label(attrs)
    >>> [t for t, _, _ in lab.lines], lab.inside
    (['Lily Price', 'b. 2014'], '12')
    """
    name = clean_text(attrs["name"])
    bold = bool(attrs["subject"])
    lines = [(t, NAME_SIZE, bold) for t in wrap(name, NAME_SIZE, LABEL_MAX_WIDTH, bold=bold)]
    if attrs["kind"] != UNKNOWN_PARENT:
        dates = _dates(attrs)
        if dates:
            lines.append((dates, DETAIL_SIZE, False))
    text_w = max((text_width(t, s, bold=b) for t, s, b in lines), default=0.0)
    rows = _badge_rows(list(attrs["badges"] or []) if badges else [], max(text_w, LABEL_MAX_WIDTH * 0.8))
    badge_w = max(
        (sum(badge_width(b.code) for b in row) + BADGE_GAP * (len(row) - 1) for row in rows),
        default=0.0,
    )
    height = sum(s * _LINE_GAP for _, s, _ in lines) + len(rows) * (BADGE_HEIGHT + BADGE_GAP)
    return PersonLabel(
        lines=tuple(lines),
        badge_rows=tuple(rows),
        inside=_inside(attrs),
        width=max(text_w, badge_w, SYMBOL) + 4.0,
        height=height + 2.0,
    )


def incidents_text(n: int) -> str:
    """``1 recorded incident``, ``3 recorded incidents``."""
    return f"{n} recorded incident" + ("s" if n != 1 else "")


def partnership_text(attrs: Mapping[str, Any]) -> str:
    """Short status text of a partnership: ``m. 1975``, ``LT 2020``, ``s. 2019``, ``d.`` (none for ``ex``)."""
    word = _STATUS_WORDS.get(attrs["status"], "")
    if not word:
        return ""
    start, end = attrs["start_date"], attrs["end_date"]
    if attrs["status"] in ("separated", "divorced") and end is not None:
        return f"{word} {end.year}"
    if attrs["status"] in ("married", "cohabiting") and start is not None:
        return f"{word} {start.year}"
    return word
