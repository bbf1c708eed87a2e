"""Hostile text in the data never breaks an output of :func:`genogram.document.family_outputs`.

Names, addresses, practitioners and categories come from agency systems: they may hold
quotes, markup, braces, control characters, bidi overrides, lone surrogates or whole
paragraphs. Through the one path every FSR output takes, each format must stay well
formed and carry the text as text: the DOT one graph with the same nodes, the SVG
parseable XML with no script and no event handlers, the PDF a PDF poppler reads, the JSON
parseable, GEDCOM one record per line. The escaping helper for ReportLab markup
(:func:`genogram._pdf.markup`) is checked on its own too.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import xml.etree.ElementTree as ET
from xml.sax.saxutils import unescape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genogram._pdf import clean_text as pdf_clean_text
from genogram._pdf import markup
from genogram.access import load_policy
from genogram.document import family_outputs
from genogram.labels import clean_text
from genogram.render import run_dot
from tests.genogram.family_fixture import AS_AT, FAMILY_ID, family_tables

POLICY = load_policy()
FORMATS = ("pdf", "svg", "dot", "json", "ged")
PRODUCED = dt.date(2026, 11, 2)
SVG = "{http://www.w3.org/2000/svg}"
GEDCOM_LINE = re.compile(r"(0|[1-9]\d*) (@[A-Z0-9_]+@ )?[A-Z_][A-Z0-9_]*( [^\r\n]*)?")

HOSTILE = [
    'O\'Brien "the Kid" & <b>Sons</b>',
    "{braces} [brackets] |pipes| <port>",
    '"]; injected [label="pwned"]; x -> y; //',
    "</text><script>alert(1)</script><text>",
    '<svg onload="alert(1)">',
    "]]> <!-- --> <![CDATA[",
    "back\\slash \\N \\G \\n \\l",
    "tab\there\x00nul\x07bell\x1besc\r\nnew line",
    "\u202eevil\u202c \u200fmark\u200e \u2066isolate\u2069 \u200bzero",
    "Ŵïłłïåm Łódź Ærøskøbing 王秀英 محمد 👩‍👧",
    "x" * 5000,
    "1 NAME Evil /Forger/\n0 @I99@ INDI",
    "@@ @I1@ /slash/ name",
    "%PDF-1.4 ) Tj ET endstream endobj",
    '=HYPERLINK("http://evil")',
    "   ",
    "",
]


def hostile_tables(name: str, other: str | None = None) -> dict:
    """The fixture family with ``name`` (and ``other``) in every free-text field."""
    other = name if other is None else other
    tables = family_tables()
    persons = tables["persons"]
    persons["given_name"] = name
    persons["family_name"] = other
    persons["middle_names"] = name[::-1]
    tables["households"]["address"] = other
    interventions = tables["interventions"]
    interventions["lead_practitioner"] = name
    interventions["category"] = other
    return tables


def outputs(tables: dict, role: str = "mash_social_worker", purpose: str = "safeguarding_assessment"):
    return family_outputs(
        tables,
        FAMILY_ID,
        role=role,
        purpose=purpose,
        policy=POLICY,
        as_at=AS_AT,
        produced=PRODUCED,
        data_as_at={"csc": AS_AT, "police_da": AS_AT},
        formats=FORMATS,
    )


def check_outputs(files: dict[str, bytes], people: int) -> None:
    # DOT: Graphviz reads it as one graph with one node per person (no node injected).
    dot = files["dot"].decode("utf-8")
    canon = run_dot(dot, "json").decode("utf-8")
    graph = json.loads(canon)
    assert sum(1 for o in graph.get("objects", []) if str(o.get("name", "")).startswith("p")) >= people
    # SVG: well-formed XML, nothing executable, every text as drawn is clean text.
    root = ET.fromstring(files["svg"])
    for element in root.iter():
        tag = element.tag.removeprefix(SVG)
        assert tag not in ("script", "foreignObject", "iframe")
        assert not any(attr.lower().startswith("on") for attr in element.attrib)
    for element in root.iter(f"{SVG}text"):
        shown = "".join(element.itertext())
        assert shown == clean_text(shown)
    # PDF: a PDF poppler reads, with its page marking.
    pdf = files["pdf"]
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    assert b"OFFICIAL-SENSITIVE" in text and b"Page 1 of" in text
    # JSON: parses, with every person.
    doc = json.loads(files["json"])
    assert len(doc["people"]) == people
    # GEDCOM: one record per line, every person one INDI (no record injected by a name).
    lines = files["ged"].decode("utf-8").split("\n")
    assert all(GEDCOM_LINE.fullmatch(line) for line in lines if line), "a line is not GEDCOM"
    assert sum(bool(re.fullmatch(r"0 @I\d+@ INDI", line)) for line in lines) == people
    for line in lines:
        payload = line.split(" ", 2)[2] if line.count(" ") >= 2 else ""
        if line.split(" ")[1:2] in (["GIVN"], ["SURN"], ["NAME"]):
            assert not re.match(r"@[^@]", payload), "a name payload reads as a pointer"


PEOPLE = len(family_tables()["persons"])


@pytest.mark.parametrize("name", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_never_breaks_any_output(name):
    out = outputs(hostile_tables(name, name[::-1]))
    assert set(out.files) == set(FORMATS)
    check_outputs(dict(out.files), PEOPLE)


def test_a_lone_surrogate_from_the_python_api_does_not_break_the_json_export():
    try:
        files = dict(outputs(hostile_tables("\ud800 lone surrogate \udfff")).files)
    except UnicodeEncodeError:
        # re-raised without the error, whose text (the surrogate) the test report cannot carry
        raise AssertionError("a lone surrogate broke an output") from None
    check_outputs(files, PEOPLE)


def test_hostile_text_is_shown_as_text():
    name = 'O\'Brien "the Kid" & <b>Sons</b>'
    out = outputs(hostile_tables(name, "Smith"))
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=out.files["pdf"], capture_output=True
    ).stdout.decode()
    assert 'O\'Brien "the Kid" & <b>Sons</b>' in " ".join(text.split())
    svg = out.files["svg"].decode()
    assert "<b>" not in svg and "&lt;b&gt;" in svg


def test_hostile_text_is_safe_for_a_redacted_role_too():
    out = outputs(hostile_tables(HOSTILE[3], HOSTILE[8]), role="family_facing", purpose="family_copy")
    check_outputs(dict(out.files), PEOPLE)


@settings(max_examples=6)
@given(
    name=st.text(alphabet=st.characters(codec="utf-8"), max_size=300),  # surrogates: see above
    other=st.text(alphabet="<>&{}[]\"'\\/;|@\u202e\u200f\x00\x1b\r\n\t abcé王", max_size=60),
)
def test_any_text_never_breaks_any_output(name, other):
    check_outputs(dict(outputs(hostile_tables(name, other)).files), PEOPLE)


@given(text=st.text(alphabet=st.characters(codec=None), max_size=300))
def test_markup_escapes_everything_reportlab_would_read_as_markup(text):
    escaped = markup(text)
    assert "<" not in escaped and ">" not in escaped
    assert not re.search(r"&(?!(amp|lt|gt);)", escaped), "every ampersand starts an entity"
    assert unescape(escaped) == pdf_clean_text(text)
    assert markup(unescape(escaped)) == escaped
