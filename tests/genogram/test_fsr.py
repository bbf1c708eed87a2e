"""The Family Summary Record PDF: real PDFs, read back with poppler (pdftotext, pdfinfo, pdffonts)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String

from genogram.access import load_policy
from genogram.errors import AccessError, RenderError
from genogram.fsr import GENERIC_WITHHELD, STATEMENT, build_fsr
from tests.genogram import large_family_fixture
from tests.genogram.family_fixture import AS_AT, FAMILY_ID, family_tables

POLICY = load_policy()
PRODUCED = dt.date(2026, 11, 2)
DATA_AS_AT = {
    "csc": dt.date(2026, 10, 31),
    "police_da": dt.date(2026, 10, 30),
    "probation": dt.date(2026, 10, 29),
    "school": dt.date(2026, 10, 1),
    "health": dt.date(2026, 10, 28),
    "housing": dt.date(2026, 10, 27),
    "yot": dt.date(2026, 10, 26),
}
PAIRS = {
    "mash_social_worker": "safeguarding_assessment",
    "mash_police": "strategy_discussion",
    "health": "safeguarding_assessment",
    "school": "safeguarding_assessment",
    "early_help": "early_help_planning",
    "family_facing": "family_copy",
}


def genogram_stub() -> Drawing:
    """A stand-in for the genogram module's drawing: a few symbols and a label."""
    d = Drawing(420, 180)
    for i in range(4):
        d.add(Rect(30 + i * 100, 110, 28, 28, fillColor=None, strokeColor="#000000"))
        d.add(Circle(44 + i * 100, 40, 14, fillColor=None, strokeColor="#000000"))
        d.add(Line(44 + i * 100, 110, 44 + i * 100, 54))
    d.add(String(10, 165, "STUB GENOGRAM", fontName="DejaVuSans", fontSize=9))
    return d


def legend_stub() -> Drawing:
    d = Drawing(420, 20)
    d.add(String(4, 6, "STUB LEGEND", fontName="DejaVuSans", fontSize=8))
    return d


def build(tables=None, role="mash_social_worker", purpose=None, **overrides) -> bytes:
    kwargs = {
        "role": role,
        "purpose": purpose or PAIRS[role],
        "policy": POLICY,
        "as_at": AS_AT,
        "produced": PRODUCED,
        "data_as_at": DATA_AS_AT,
        "genogram": genogram_stub(),
        "legend": legend_stub(),
        "subject": "P-SUBJ",
    }
    kwargs.update(overrides)
    return build_fsr(
        tables if tables is not None else family_tables(), kwargs.pop("family_id", FAMILY_ID), **kwargs
    )


def poppler(tool: str, pdf: bytes, tmp: Path, *args: str) -> str:
    path = tmp / "fsr.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        [tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])], capture_output=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.decode("utf-8")


def text_of(pdf: bytes, tmp: Path) -> str:
    """The PDF's text, whitespace collapsed (cells wrap)."""
    return " ".join(poppler("pdftotext", pdf, tmp).split())


def pages_of(pdf: bytes, tmp: Path) -> list[str]:
    return poppler("pdftotext", pdf, tmp, "-layout").split("\f")[:-1]


@pytest.fixture(scope="module")
def pdfs() -> dict[str, bytes]:
    return {role: build(role=role) for role in PAIRS}


@pytest.fixture(scope="module")
def texts(pdfs, tmp_path_factory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("fsr")
    return {role: text_of(pdf, tmp) for role, pdf in pdfs.items()}


# What must and must not be in each role's copy of the fixture family, as the policy says.
# (The mother is recorded as a victim and lives at 12 Mill Lane; the brother's placement is
# H-E; the father is a MAPPA nominal; the mother's partner is recorded as suspect.)
ROLE_TEXT = [
    {
        "role": "mash_social_worker",
        "has": [
            "MARAC",
            "MAPPA",
            "DA-V",
            "DA-S",
            "Health visiting",
            "Youth justice",
            "12 Mill Lane",
            "Foster placement",
            "12 Apr 2014",
            "30 Jan 1990",
            "NHS 943 476 5870",
            "recorded as suspect in 3 domestic abuse incidents",
            "conflicting dates of birth",
            "Nothing was withheld",
            "OFFICIAL-SENSITIVE",
            "Police domestic abuse notifications: 30 Oct 2026",
        ],
        "lacks": ["Genogram not available", GENERIC_WITHHELD],
    },
    {
        "role": "mash_police",
        "has": ["MARAC", "MAPPA", "DA-V", "12 Mill Lane", "Youth justice", "30 Jan 1990"],
        "lacks": ["Health visiting", "Health (child health", "Nothing was withheld"],
    },
    {
        "role": "health",
        "has": [
            "Health visiting",
            "12 Mill Lane",
            "Child protection plan",
            "12 Apr 2014",
            "NHS 943 476 5870",
        ],
        "lacks": [
            "MARAC",
            "MAPPA",
            "DA-V",
            "DA-S",
            "Police",
            "Youth justice",
            "30 Jan 1990",
            "recorded as suspect in",
            "recorded as suspect;",
        ],
    },
    {
        "role": "school",
        "has": [
            "Child protection plan",
            "Looked after child",
            "age 12",
            "School designated safeguarding lead",
        ],
        "lacks": [
            "MARAC",
            "MAPPA",
            "DA-V",
            "DA-S",
            "Domestic abuse",
            "Police",
            "Probation",
            "Youth justice",
            "Health visiting",
            "12 Mill Lane",
            "Foster placement",
            "12 Apr 2014",
            "NHS 943",
            "UPN B123",
            "recorded as suspect in",
            "recorded as suspect;",
            "conflicting dates of birth",
            "93%",
        ],
    },
    {
        "role": "early_help",
        "has": ["Early help / team around the family", "Education, health and care plan"],
        "lacks": ["Child protection plan", "Looked after child", "MARAC", "12 Mill Lane", "12 Apr 2014"],
    },
    {
        "role": "family_facing",
        "has": ["OFFICIAL-SENSITIVE PERSONAL", GENERIC_WITHHELD, "Child protection plan", "Family copy"],
        "lacks": [
            "12 Mill Lane",  # the victim's address
            "Foster placement",  # the placement's
            "recorded as suspect in",
            "recorded as suspect;",
            "DA-S",
            "DA-V",
            "MARAC",
            "MAPPA",
            "30 Jan 1990",
            "Interventions of a type",  # no counts
        ],
    },
]


@pytest.mark.parametrize("case", ROLE_TEXT, ids=[c["role"] for c in ROLE_TEXT])
def test_each_roles_copy_differs_as_the_policy_says(texts, case):
    text = texts[case["role"]]
    for wanted in case["has"]:
        assert wanted in text, f"{case['role']} copy lacks {wanted!r}"
    for unwanted in case["lacks"]:
        assert unwanted not in text, f"{case['role']} copy shows {unwanted!r}"
    # sections every copy has
    for heading in (
        "At a glance",
        "Household composition",
        "Genogram",
        "Key relationships",
        "Agencies involved and lead practitioner",
        "Intervention timeline",
        "Chronology of significant events",
        "Data-quality notes",
        "Withheld for this role",
        STATEMENT,
        "Lily Price",
    ):
        assert heading in text, heading


def test_school_copy_counts_what_was_withheld(texts):
    text = texts["school"]
    assert "Interventions of a type not shared with this role 4" in text
    assert "Household addresses 2" in text


def test_unknown_role_or_disallowed_pair_is_refused_before_anything_is_built():
    with pytest.raises(AccessError, match="unknown role 'caretaker'"):
        build(role="caretaker", purpose="safeguarding_assessment")
    with pytest.raises(AccessError, match="may not produce"):
        build(role="school", purpose="family_copy")
    # refused even when the family does not exist: access is checked first
    with pytest.raises(AccessError):
        build(role="caretaker", purpose="family_copy", family_id="F-NOPE")


def test_unknown_family_and_foreign_subject_are_render_errors():
    with pytest.raises(RenderError, match="not in the families table"):
        build(family_id="F-NOPE")
    with pytest.raises(RenderError, match="subject child is not a member"):
        build(subject="P-SOMEONE-ELSE")


def test_same_input_same_bytes_and_only_the_production_date_changes_them(pdfs, tmp_path):
    again = build(role="mash_social_worker")
    assert again == pdfs["mash_social_worker"]
    later = build(role="mash_social_worker", produced=dt.date(2026, 12, 25))
    assert later != again
    assert text_of(later, tmp_path).replace("25 Dec 2026", "2 Nov 2026") == text_of(again, tmp_path)


def test_every_page_is_marked_top_and_bottom_and_numbered(pdfs, tmp_path):
    for role, pdf in pdfs.items():
        info = poppler("pdfinfo", pdf, tmp_path)
        total = int(re.search(r"Pages:\s+(\d+)", info).group(1))
        pages = pages_of(pdf, tmp_path)
        assert len(pages) == total and total >= 3, role
        marking = POLICY.marking_for(role)
        for n, page in enumerate(pages, start=1):
            lines = [line.strip() for line in page.splitlines() if line.strip()]
            assert lines[0] == marking and lines[-1] == marking, (role, n)
            assert f"Page {n} of {total}" in page, (role, n)
            assert f"Family {FAMILY_ID}" in page and "Produced 2 Nov 2026" in page


def test_fonts_are_embedded_and_no_base14_font_is_used(pdfs, tmp_path):
    for pdf in pdfs.values():
        rows = poppler("pdffonts", pdf, tmp_path).splitlines()[2:]
        assert rows, "no fonts"
        for row in rows:
            name, *_rest = row.split()
            assert name.split("+")[-1] in ("DejaVuSans", "DejaVuSans-Bold"), row
            assert " yes yes yes " in row, row  # embedded, subset, unicode map


def test_metadata_carries_no_personal_data(pdfs, tmp_path):
    info = poppler("pdfinfo", pdfs["mash_social_worker"], tmp_path)
    assert f"Family Summary Record {FAMILY_ID}" in info
    assert "OFFICIAL-SENSITIVE" in info
    for name in ("Lily", "Price", "Hartley", "Walsh", "2014"):
        assert name not in info


def test_genogram_section_without_a_drawing(tmp_path):
    text = text_of(build(genogram=None, legend=None), tmp_path)
    assert "Genogram not available" in text and "STUB GENOGRAM" not in text
    assert "Kelly Hartley mother of Lily Price" in text  # the key relationships still describe the family


def test_genogram_and_legend_are_drawn_when_given(texts):
    assert "STUB GENOGRAM" in texts["mash_social_worker"] and "STUB LEGEND" in texts["mash_social_worker"]


def test_without_a_subject_every_child_is_a_subject(tmp_path):
    text = text_of(build(subject=None), tmp_path)
    assert "All children of the family" in text
    assert "Role in family" in text


def test_large_family_spans_pages_with_repeated_table_headers(tmp_path):
    tables = large_family_fixture.large_family_tables()
    pdf = build(
        tables, family_id=large_family_fixture.FAMILY_ID, subject=None, as_at=large_family_fixture.AS_AT
    )
    pages = pages_of(pdf, tmp_path)
    assert len(pages) >= 8
    chronology = [p for p in pages if re.search(r"Date\s+Person\s+Event\s+Agency\s+Detail", p)]
    assert len(chronology) >= 3  # the header repeats on every page the table runs over
    for n, page in enumerate(pages, start=1):
        assert f"Page {n} of {len(pages)}" in page
    text = " ".join(" ".join(pages).split())
    assert text.count("Child29 Family2") >= 3  # every child is listed (glance, household, timeline...)


HOSTILE = [
    'O\'Brien & <b>Sons</b> {x} "quoted"',
    "</para><font name=Nope>&amp;",
    "\u202eevil\u200f right-to-left \u200e mark",
    "tab\there\x00nul\x07bell\r\nnewline",
    "Ŵïłłïåm Łódź Ærøskøbing",
    "x" * 5000,
    "   ",
    "%PDF-1.4 endstream endobj",
]


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_never_breaks_the_pdf(tmp_path, value):
    tables = family_tables()
    tables["persons"].loc[tables["persons"]["person_id"] == "P-SUBJ", "given_name"] = value
    tables["households"]["address"] = value
    tables["interventions"]["lead_practitioner"] = value
    text = text_of(build(tables), tmp_path)
    if value.startswith("O'Brien"):
        assert 'O\'Brien & <b>Sons</b> {x} "quoted"' in text
    if value.startswith("x"):
        assert "xxxx…" in text.replace(" ", "")  # cut, not overflowing a page


def _hostile_tables(name: str, address: str, worker: str) -> dict[str, pd.DataFrame]:
    tables = family_tables()
    tables["persons"]["given_name"] = name
    tables["persons"]["family_name"] = address[::-1]
    tables["households"]["address"] = address
    tables["interventions"]["lead_practitioner"] = worker
    tables["interventions"]["category"] = name
    tables["relationship_conflicts"] = pd.DataFrame(
        {
            "person_id_from": ["P-MUM"],
            "person_id_to": ["P-DAD"],
            "relationship_type": ["mother"],
            "rule": ["same_person"],
            "message": [worker],
            "sources": [["csc"]],
            "evidence": [["csc:1:0"]],
        }
    )
    return tables


@settings(max_examples=10)
@given(
    name=st.text(max_size=300),
    address=st.text(alphabet=st.characters(codec="utf-8"), max_size=120),
    worker=st.text(alphabet="<>&{}\"'\\/;\u202e\u200f\x00\x1b abcé", max_size=60),
)
def test_any_text_renders(tmp_path_factory, name, address, worker):
    tmp = tmp_path_factory.mktemp("hyp")
    pdf = build(_hostile_tables(name, address, worker))
    assert pdf.startswith(b"%PDF")
    assert "At a glance" in text_of(pdf, tmp)


def test_a_wide_genogram_gets_a_landscape_page_of_its_own(tmp_path):
    wide = Drawing(900, 400)  # wider than portrait, legible on one landscape page
    wide.add(String(10, 380, "WIDE GENOGRAM", fontName="DejaVuSans", fontSize=9))
    wide.add(Rect(0, 0, 900, 400, fillColor=None, strokeColor="#000000"))
    pdf = build(genogram=wide)
    info = poppler("pdfinfo", pdf, tmp_path, "-l", "99")
    sizes = re.findall(r"Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+)", info)
    landscape = [int(n) for n, w, h in sizes if float(w) > float(h)]
    assert len(landscape) == 1
    page = pages_of(pdf, tmp_path)[landscape[0] - 1]
    assert "WIDE GENOGRAM" in page and "STUB LEGEND" in page and "3. Genogram" in page
    lines = [line.strip() for line in page.splitlines() if line.strip()]
    assert lines[0] == "OFFICIAL-SENSITIVE" and lines[-1] == "OFFICIAL-SENSITIVE"
    assert f"Page {landscape[0]} of {len(sizes)}" in page


def test_a_forty_person_family_spreads_over_pages_at_a_legible_size(tmp_path):
    from genogram.access import load_policy
    from genogram.document import family_outputs
    from tests.genogram import family_builder as fb

    tables = fb.large_family(children_per_couple=6)
    assert len(tables["families"]) >= 40
    out = family_outputs(
        tables,
        fb.LARGE_ID,
        role="mash_social_worker",
        purpose="safeguarding_assessment",
        policy=load_policy(),
        as_at=fb.AS_AT,
        produced=fb.AS_AT,
        data_as_at={},
    )
    text = text_of(out.files["pdf"], tmp_path)
    assert "Genogram, page 1 of" in text
    # every member's family name is drawn in the genogram pages (names wrap, so family names)
    genogram = text[text.index("Genogram, page 1 of") : text.index("Key relationships")]
    assert all(family in genogram for family in set(tables["persons"]["family_name"]))
