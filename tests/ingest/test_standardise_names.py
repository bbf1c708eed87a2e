"""Specification of the name standardisers (ingest.standardise.names)."""

from __future__ import annotations

import math
import types
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ingest.standardise as standardise
from ingest.standardise import split_full_name, split_names_list, standardise_name, tidy_text

PROPERTY_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------- strategies

NAME_ALPHABET = "abcxyzABCXYZ éüâçñøæßÆØŁłЖ'’`´.-–—,;_/()\t\n\x00\x1f"
NAME_WORDS = ["mr", "Mrs.", "DR", "jr", "III", "Baby", "o'brien", "Smith", "-", " - ", ",", "Zoë"]
values = st.one_of(
    st.none(),
    st.just(math.nan),
    st.text(),  # every category but surrogates, control characters included
    st.text(alphabet=NAME_ALPHABET),
    st.lists(st.sampled_from(NAME_WORDS), max_size=5).map(" ".join),
)


@st.composite
def series(draw: st.DrawFn, elements: st.SearchStrategy[Any] = values) -> pd.Series:
    """An object Series with an arbitrary (possibly duplicated, unordered) integer index."""
    data = draw(st.lists(elements, max_size=12))
    index = draw(st.lists(st.integers(-3, 3), min_size=len(data), max_size=len(data)))
    return pd.Series(data, index=index, dtype=object)


def _one(value: str | None) -> pd.Series:
    return pd.Series([value], dtype=object)


# --------------------------------------------------------------------------- tidy_text

TIDY_CASES = [
    {
        "description": "strips and collapses whitespace",
        "value": "  Mary \t Ann\n ",
        "expected": "Mary Ann",
    },
    {
        "description": "keeps the case and punctuation",
        "value": "o'Brien-SMITH",
        "expected": "o'Brien-SMITH",
    },
    {"description": "empty string is missing", "value": "", "expected": None},
    {"description": "whitespace-only is missing", "value": " \t\n ", "expected": None},
    {"description": "None is missing", "value": None, "expected": None},
    {"description": "NaN is missing", "value": math.nan, "expected": None},
    {
        "description": "non-breaking spaces are whitespace",
        "value": "Ann\u00a0\u00a0Lee",
        "expected": "Ann Lee",
    },
]


@pytest.mark.parametrize("case", TIDY_CASES, ids=[c["description"] for c in TIDY_CASES])
def test_tidy_text(case: dict[str, Any]) -> None:
    assert tidy_text(_one(case["value"])).tolist() == [case["expected"]]


# --------------------------------------------------------------------------- standardise_name

NAME_CASES = [
    {"description": "upper-cased", "value": "Smith", "expected": "SMITH"},
    {"description": "apostrophe removed", "value": "O'Brien", "expected": "OBRIEN"},
    {"description": "typographic apostrophe removed", "value": "O’Neill", "expected": "ONEILL"},
    {
        "description": "backtick/acute used as apostrophe removed",
        "value": "D`Arcy D´Souza",
        "expected": "DARCY DSOUZA",
    },
    {"description": "period removed, space kept", "value": "St. John", "expected": "ST JOHN"},
    {
        "description": "initials with periods joined",
        "value": "J.R. Hartley",
        "expected": "JR HARTLEY",
    },
    {"description": "hyphen kept", "value": "Smith-Jones", "expected": "SMITH-JONES"},
    {
        "description": "spaces round a hyphen removed",
        "value": "Smith - Jones",
        "expected": "SMITH-JONES",
    },
    {"description": "en dash becomes hyphen", "value": "Smith – Jones", "expected": "SMITH-JONES"},
    {"description": "em dash becomes hyphen", "value": "Smith—Jones", "expected": "SMITH-JONES"},
    {
        "description": "repeated hyphens become one",
        "value": "Smith--Jones",
        "expected": "SMITH-JONES",
    },
    {
        "description": "leading and trailing hyphens dropped",
        "value": "-Smith-",
        "expected": "SMITH",
    },
    {"description": "diaeresis folded", "value": "Zoë", "expected": "ZOE"},
    {"description": "circumflex folded", "value": "Siân", "expected": "SIAN"},
    {"description": "acute folded", "value": "José", "expected": "JOSE"},
    {
        "description": "cedilla and tilde folded",
        "value": "François Muñoz",
        "expected": "FRANCOIS MUNOZ",
    },
    {"description": "decomposed accents folded", "value": "Zoe\u0308", "expected": "ZOE"},
    {"description": "sharp s becomes SS", "value": "Strauß", "expected": "STRAUSS"},
    {"description": "ash becomes AE", "value": "Ælfred", "expected": "AELFRED"},
    {"description": "slashed o becomes O", "value": "Søren Øberg", "expected": "SOREN OBERG"},
    {"description": "stroked l becomes L", "value": "Łukasz Michał", "expected": "LUKASZ MICHAL"},
    {"description": "thorn and eth", "value": "Þórður", "expected": "THORDUR"},
    {"description": "ligature oe", "value": "Cœur", "expected": "COEUR"},
    {"description": "other scripts kept, upper-cased", "value": "жанна", "expected": "ЖАННА"},
    {
        "description": "other punctuation becomes space",
        "value": "Smith/Jones (Ann)",
        "expected": "SMITH JONES ANN",
    },
    {"description": "underscore becomes space", "value": "Ann_Lee", "expected": "ANN LEE"},
    {"description": "comma becomes space", "value": "Smith, John", "expected": "SMITH JOHN"},
    {
        "description": "control characters become space",
        "value": "Ann\x00Lee\x1f",
        "expected": "ANN LEE",
    },
    {"description": "whitespace collapsed", "value": "  Mary \t\n Ann  ", "expected": "MARY ANN"},
    {"description": "title MR removed", "value": "Mr John Smith", "expected": "JOHN SMITH"},
    {"description": "title with period removed", "value": "Mrs. Ann Lee", "expected": "ANN LEE"},
    {"description": "titles MS MISS MX removed", "value": "Miss Ann", "expected": "ANN"},
    {"description": "title MX removed", "value": "Mx Sam Lee", "expected": "SAM LEE"},
    {"description": "title MASTER removed", "value": "Master Tom Lee", "expected": "TOM LEE"},
    {"description": "several titles removed", "value": "Rev Dr Ann Green", "expected": "ANN GREEN"},
    {
        "description": "titles SIR LADY PROF removed",
        "value": "Prof Sir Tim Berners-Lee",
        "expected": "TIM BERNERS-LEE",
    },
    {"description": "title LADY removed", "value": "Lady Jane Grey", "expected": "JANE GREY"},
    {"description": "title MS removed", "value": "ms ann", "expected": "ANN"},
    {"description": "BABY is kept", "value": "Baby Smith", "expected": "BABY SMITH"},
    {
        "description": "title only removed at the start",
        "value": "Ann Mr Lee",
        "expected": "ANN MR LEE",
    },
    {
        "description": "a title inside a word is kept",
        "value": "Drew Mrazek",
        "expected": "DREW MRAZEK",
    },
    {"description": "a title alone is kept (nothing follows)", "value": "Mr", "expected": "MR"},
    {"description": "suffix JR removed", "value": "John Smith Jr.", "expected": "JOHN SMITH"},
    {"description": "suffix JNR removed", "value": "John Smith Jnr", "expected": "JOHN SMITH"},
    {"description": "suffix SNR removed", "value": "John Smith snr", "expected": "JOHN SMITH"},
    {"description": "suffix SR removed", "value": "John Smith Sr", "expected": "JOHN SMITH"},
    {"description": "suffix II removed", "value": "John Smith II", "expected": "JOHN SMITH"},
    {"description": "suffix III removed", "value": "John Smith III", "expected": "JOHN SMITH"},
    {"description": "suffix only removed at the end", "value": "Jr Smith", "expected": "JR SMITH"},
    {
        "description": "title and suffix both removed",
        "value": "Mr John Smith Jnr",
        "expected": "JOHN SMITH",
    },
    {"description": "empty is missing", "value": "", "expected": None},
    {"description": "punctuation-only is missing", "value": " .'- ", "expected": None},
    {"description": "None is missing", "value": None, "expected": None},
    {"description": "NaN is missing", "value": math.nan, "expected": None},
]


@pytest.mark.parametrize("case", NAME_CASES, ids=[c["description"] for c in NAME_CASES])
def test_standardise_name(case: dict[str, Any]) -> None:
    assert standardise_name(_one(case["value"])).tolist() == [case["expected"]]


# --------------------------------------------------------------------------- split_full_name

SPLIT_CASES = [
    {
        "description": "family first with comma",
        "value": "SMITH, John Paul",
        "order": "family_first",
        "expected": ("John", "Paul", "SMITH"),
    },
    {
        "description": "family first without comma: first word is the family name",
        "value": "SMITH John Paul",
        "order": "family_first",
        "expected": ("John", "Paul", "SMITH"),
    },
    {
        "description": "multi-word family name before a comma kept whole",
        "value": "VAN DER BERG, Anna",
        "order": "family_first",
        "expected": ("Anna", None, "VAN DER BERG"),
    },
    {
        "description": "several middle names kept together",
        "value": "SMITH, John Paul George",
        "order": "family_first",
        "expected": ("John", "Paul George", "SMITH"),
    },
    {
        "description": "given first",
        "value": "John Paul Smith",
        "order": "given_first",
        "expected": ("John", "Paul", "Smith"),
    },
    {
        "description": "given first, two words",
        "value": "John Smith",
        "order": "given_first",
        "expected": ("John", None, "Smith"),
    },
    {
        "description": "given first with a comma: the comma wins",
        "value": "Smith, John",
        "order": "given_first",
        "expected": ("John", None, "Smith"),
    },
    {
        "description": "given first: particles join the family name",
        "value": "Anna Maria van der Berg",
        "order": "given_first",
        "expected": ("Anna", "Maria", "van der Berg"),
    },
    {
        "description": "given first: a particle as the only given name stays given",
        "value": "Van Morrison",
        "order": "given_first",
        "expected": ("Van", None, "Morrison"),
    },
    {
        "description": "single word is the family name (given first)",
        "value": "Smith",
        "order": "given_first",
        "expected": (None, None, "Smith"),
    },
    {
        "description": "single word is the family name (family first)",
        "value": "Smith",
        "order": "family_first",
        "expected": (None, None, "Smith"),
    },
    {
        "description": "values tidied as recorded, case kept",
        "value": "  o'Brien ,   seán \t  PAT ",
        "order": "family_first",
        "expected": ("seán", "PAT", "o'Brien"),
    },
    {
        "description": "title removed (given first)",
        "value": "Mr. John Smith",
        "order": "given_first",
        "expected": ("John", None, "Smith"),
    },
    {
        "description": "title after the comma removed",
        "value": "SMITH, Mrs Jane",
        "order": "family_first",
        "expected": ("Jane", None, "SMITH"),
    },
    {
        "description": "several titles removed",
        "value": "Rev Dr Ann Green",
        "order": "given_first",
        "expected": ("Ann", None, "Green"),
    },
    {
        "description": "BABY is not a title",
        "value": "Baby Smith",
        "order": "given_first",
        "expected": ("Baby", None, "Smith"),
    },
    {
        "description": "trailing comma ignored",
        "value": "John Smith,",
        "order": "given_first",
        "expected": ("John", None, "Smith"),
    },
    {
        "description": "family name only before a comma",
        "value": "SMITH,",
        "order": "family_first",
        "expected": (None, None, "SMITH"),
    },
    {
        "description": "further commas count as spaces",
        "value": "SMITH, John, Paul",
        "order": "family_first",
        "expected": ("John", "Paul", "SMITH"),
    },
    {
        "description": "blank gives None everywhere",
        "value": "   ",
        "order": "given_first",
        "expected": (None, None, None),
    },
    {
        "description": "commas only gives None everywhere",
        "value": " , ",
        "order": "family_first",
        "expected": (None, None, None),
    },
    {
        "description": "None gives None everywhere",
        "value": None,
        "order": "family_first",
        "expected": (None, None, None),
    },
]


@pytest.mark.parametrize("case", SPLIT_CASES, ids=[c["description"] for c in SPLIT_CASES])
def test_split_full_name(case: dict[str, Any]) -> None:
    out = split_full_name(_one(case["value"]), order=case["order"])
    assert list(out.columns) == ["given_name", "middle_names", "family_name"]
    assert tuple(out.iloc[0]) == case["expected"]


def test_split_full_name_rejects_unknown_order() -> None:
    with pytest.raises(ValueError, match="order"):
        split_full_name(_one("John Smith"), order="surname_first")


# --------------------------------------------------------------------------- split_names_list

LIST_CASES = [
    {
        "description": "split on ;",
        "value": "Jon Smith;Johnny Smith",
        "sep": ";",
        "expected": ["Jon Smith", "Johnny Smith"],
    },
    {
        "description": "parts tidied",
        "value": "  Jon   Smith ;  Johnny ",
        "sep": ";",
        "expected": ["Jon Smith", "Johnny"],
    },
    {
        "description": "blank parts dropped",
        "value": "Jon;; ;Ann;",
        "sep": ";",
        "expected": ["Jon", "Ann"],
    },
    {"description": "other separator", "value": "Jon|Ann", "sep": "|", "expected": ["Jon", "Ann"]},
    {
        "description": "separator is literal, not a regex",
        "value": "Jon.Ann",
        "sep": ".",
        "expected": ["Jon", "Ann"],
    },
    {"description": "single name", "value": "Jon", "sep": ";", "expected": ["Jon"]},
    {"description": "missing gives empty list", "value": None, "sep": ";", "expected": []},
    {"description": "blank gives empty list", "value": "  ", "sep": ";", "expected": []},
    {
        "description": "separators only give empty list",
        "value": " ; ; ",
        "sep": ";",
        "expected": [],
    },
]


@pytest.mark.parametrize("case", LIST_CASES, ids=[c["description"] for c in LIST_CASES])
def test_split_names_list(case: dict[str, Any]) -> None:
    assert split_names_list(_one(case["value"]), sep=case["sep"]).tolist() == [case["expected"]]


def test_split_names_list_keeps_duplicate_index_rows_apart() -> None:
    s = pd.Series(["A;B", None, "C"], index=[7, 7, 7], dtype=object)
    out = split_names_list(s)
    assert out.index.tolist() == [7, 7, 7]
    assert out.tolist() == [["A", "B"], [], ["C"]]


# --------------------------------------------------------------------------- the package API


def test_package_exports_exactly_its_public_names() -> None:
    expected = {
        "tidy_text",
        "standardise_name",
        "split_full_name",
        "split_names_list",
        "parse_dates",
        "dob_from_age",
        "standardise_postcode",
        "nhs_number_check",
        "standardise_nhs_number",
        "nhs_check_digit",
        "standardise_upn",
        "upn_check_letter",
        "standardise_uprn",
        "DEFAULT_SEX_CODES",
        "standardise_sex",
        "standardise_address",
        "ADDRESS_ABBREVIATIONS",
    }
    assert set(standardise.__all__) == expected
    public = {
        name
        for name, value in vars(standardise).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == expected


# --------------------------------------------------------------------------- properties


@PROPERTY_SETTINGS
@given(series())
def test_standardise_name_never_raises_keeps_index_and_is_idempotent(s: pd.Series) -> None:
    once = standardise_name(s)
    assert once.index.equals(s.index)
    assert once.dtype == object
    assert all(v is None or (isinstance(v, str) and v == v.strip() and v) for v in once)
    assert standardise_name(once).tolist() == once.tolist()


@PROPERTY_SETTINGS
@given(series())
def test_tidy_text_never_raises_keeps_index_and_is_idempotent(s: pd.Series) -> None:
    once = tidy_text(s)
    assert once.index.equals(s.index)
    assert tidy_text(once).tolist() == once.tolist()
    assert all(v is None or (v and v == " ".join(v.split())) for v in once)


@PROPERTY_SETTINGS
@given(series(), st.sampled_from(["family_first", "given_first"]))
def test_split_full_name_never_raises_and_keeps_index(s: pd.Series, order: str) -> None:
    out = split_full_name(s, order=order)
    assert out.index.equals(s.index)
    assert list(out.columns) == ["given_name", "middle_names", "family_name"]
    tidy = tidy_text(s)
    for column in out.columns:
        # every part is tidy text, and nothing is invented for a missing value
        assert tidy_text(out[column]).tolist() == out[column].tolist()
        assert out[column][tidy.isna().to_numpy()].isna().all()


@PROPERTY_SETTINGS
@given(series(), st.sampled_from([";", "|", ","]))
def test_split_names_list_never_raises_and_keeps_index(s: pd.Series, sep: str) -> None:
    out = split_names_list(s, sep=sep)
    assert out.index.equals(s.index)
    for names in out:
        assert isinstance(names, list)
        assert all(isinstance(n, str) and n and sep not in n and n == " ".join(n.split()) for n in names)
