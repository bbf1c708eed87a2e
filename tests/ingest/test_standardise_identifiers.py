"""Specification of the identifier standardisers (ingest.standardise.identifiers)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ingest.standardise import (
    nhs_check_digit,
    nhs_number_check,
    standardise_nhs_number,
    standardise_upn,
    standardise_uprn,
    upn_check_letter,
)

PROPERTY_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
UPN_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"

# --------------------------------------------------------------------------- strategies

values = st.one_of(
    st.none(),
    st.just(math.nan),
    st.text(),
    st.text(alphabet="0123456789 -ABIOSZ", min_size=8, max_size=15),
)
nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)
twelve_upn = st.tuples(
    st.text(alphabet="0123456789", min_size=11, max_size=11),
    st.sampled_from("0123456789" + UPN_ALPHABET),
).map("".join)


@st.composite
def series(draw: st.DrawFn, elements: st.SearchStrategy[Any] = values) -> pd.Series:
    """An object Series with an arbitrary (possibly duplicated, unordered) integer index."""
    data = draw(st.lists(elements, max_size=12))
    index = draw(st.lists(st.integers(-3, 3), min_size=len(data), max_size=len(data)))
    return pd.Series(data, index=index, dtype=object)


def _one(value: Any) -> pd.Series:
    return pd.Series([value], dtype=object)


# --------------------------------------------------------------------------- NHS number

NHS_CASES = [
    {"description": "valid", "value": "9434765919", "std": "9434765919", "valid": True},
    {
        "description": "valid with spaces (3-3-4)",
        "value": "943 476 5919",
        "std": "9434765919",
        "valid": True,
    },
    {
        "description": "valid with hyphens",
        "value": "943-476-5919",
        "std": "9434765919",
        "valid": True,
    },
    {
        "description": "valid with surrounding whitespace",
        "value": " 9434765919\t",
        "std": "9434765919",
        "valid": True,
    },
    {
        "description": "valid whose check digit is 0 (remainder 0 gives 11 -> 0)",
        "value": "4010232110",
        "std": "4010232110",
        "valid": True,
    },
    {"description": "wrong check digit", "value": "9434765918", "std": None, "valid": False},
    {"description": "two digits transposed", "value": "9434765991", "std": None, "valid": False},
    {"description": "nine digits", "value": "943476591", "std": None, "valid": False},
    {"description": "eleven digits", "value": "94347659190", "std": None, "valid": False},
    {"description": "letters", "value": "943476591X", "std": None, "valid": False},
    {
        "description": "other separators are not stripped",
        "value": "943.476.5919",
        "std": None,
        "valid": False,
    },
    {
        "description": "non-ASCII digits are not digits",
        "value": "٩٤٣٤٧٦٥٩١٩",
        "std": None,
        "valid": False,
    },
    {
        "description": "prefix with remainder 10 has no valid check digit",
        "value": "0000200000",
        "std": None,
        "valid": False,
    },
    {
        "description": "all zeros (passes mod 11) is a placeholder",
        "value": "0000000000",
        "std": None,
        "valid": False,
    },
    {
        "description": "all ones is a placeholder",
        "value": "1111111111",
        "std": None,
        "valid": False,
    },
    {
        "description": "all nines is a placeholder",
        "value": "999 999 9999",
        "std": None,
        "valid": False,
    },
    {"description": "missing", "value": None, "std": None, "valid": None},
    {"description": "blank", "value": "  ", "std": None, "valid": None},
    {"description": "separators only count as missing", "value": " - ", "std": None, "valid": None},
]


@pytest.mark.parametrize("case", NHS_CASES, ids=[c["description"] for c in NHS_CASES])
def test_standardise_nhs_number(case: dict[str, Any]) -> None:
    out = standardise_nhs_number(_one(case["value"]))
    assert list(out.columns) == ["nhs_number_std", "nhs_number_valid"]
    assert out["nhs_number_valid"].dtype == "boolean"
    assert out["nhs_number_std"].tolist() == [case["std"]]
    valid = out["nhs_number_valid"].iloc[0]
    assert (None if valid is pd.NA else bool(valid)) is case["valid"]
    check = nhs_number_check(_one(case["value"]))
    assert check.dtype == "boolean"
    assert check.fillna(False).tolist() == [bool(case["valid"])]


NHS_CHECK_DIGIT_CASES = [
    {"description": "hand-computed example", "nine": "943476591", "expected": 9},
    {"description": "remainder 0 gives check digit 0", "nine": "401023211", "expected": 0},
    {"description": "remainder 10 has no check digit", "nine": "000020000", "expected": None},
    {"description": "eight digits", "nine": "94347659", "expected": None},
    {"description": "ten digits", "nine": "9434765919", "expected": None},
    {"description": "not digits", "nine": "94347659x", "expected": None},
    {"description": "non-ASCII digits", "nine": "٩٤٣٤٧٦٥٩١", "expected": None},
]


@pytest.mark.parametrize("case", NHS_CHECK_DIGIT_CASES, ids=[c["description"] for c in NHS_CHECK_DIGIT_CASES])
def test_nhs_check_digit(case: dict[str, Any]) -> None:
    assert nhs_check_digit(case["nine"]) == case["expected"]


# --------------------------------------------------------------------------- UPN
# Hand-verified (DfE: weights 2..13 on characters 2..13, mod 23, A=0 ... Z=22 without I O S):
#   801200005001: 8*2 + 1*4 + 2*5 + 5*10 + 1*13 = 93; 93 mod 23 = 1 -> B
#   207000016049: 2*2 + 7*4 + 1*9 + 6*10 + 4*12 + 9*13 = 266; 266 mod 23 = 13 -> P
#   80120000500A: 8*2 + 1*4 + 2*5 + 5*10 + 0*13 (A=0) = 80; 80 mod 23 = 11 -> M
#   80120000500Z: 80 + 22*13 (Z=22) = 366; 366 mod 23 = 21 -> Y

UPN_CASES = [
    {
        "description": "valid (hand-verified, B)",
        "value": "B801200005001",
        "std": "B801200005001",
        "valid": True,
    },
    {
        "description": "valid (hand-verified, P)",
        "value": "P207000016049",
        "std": "P207000016049",
        "valid": True,
    },
    {
        "description": "valid temporary UPN ending A (hand-verified, M)",
        "value": "M80120000500A",
        "std": "M80120000500A",
        "valid": True,
    },
    {
        "description": "valid temporary UPN ending Z (hand-verified, Y)",
        "value": "Y80120000500Z",
        "std": "Y80120000500Z",
        "valid": True,
    },
    {
        "description": "lower case and spaces accepted",
        "value": " b801 2000 05001 ",
        "std": "B801200005001",
        "valid": True,
    },
    {"description": "wrong check letter", "value": "A801200005001", "std": None, "valid": False},
    {
        "description": "check letter off by one",
        "value": "Q207000016049",
        "std": None,
        "valid": False,
    },
    {"description": "digit changed", "value": "B801200005002", "std": None, "valid": False},
    {
        "description": "temporary UPN may not end in I",
        "value": "A80120000500I",
        "std": None,
        "valid": False,
    },
    {
        "description": "temporary UPN may not end in O",
        "value": "A80120000500O",
        "std": None,
        "valid": False,
    },
    {
        "description": "temporary UPN may not end in S",
        "value": "A80120000500S",
        "std": None,
        "valid": False,
    },
    {"description": "letter in the middle", "value": "X80120000A001", "std": None, "valid": False},
    {
        "description": "digit as check character",
        "value": "1801200005001",
        "std": None,
        "valid": False,
    },
    {"description": "twelve characters", "value": "B80120000500", "std": None, "valid": False},
    {"description": "fourteen characters", "value": "B8012000050011", "std": None, "valid": False},
    {"description": "missing", "value": None, "std": None, "valid": None},
    {"description": "blank", "value": "   ", "std": None, "valid": None},
]


@pytest.mark.parametrize("case", UPN_CASES, ids=[c["description"] for c in UPN_CASES])
def test_standardise_upn(case: dict[str, Any]) -> None:
    out = standardise_upn(_one(case["value"]))
    assert list(out.columns) == ["upn_std", "upn_valid"]
    assert out["upn_valid"].dtype == "boolean"
    assert out["upn_std"].tolist() == [case["std"]]
    valid = out["upn_valid"].iloc[0]
    assert (None if valid is pd.NA else bool(valid)) is case["valid"]


UPN_LETTER_CASES = [
    {"description": "permanent UPN", "twelve": "801200005001", "expected": "B"},
    {"description": "permanent UPN, remainder 13", "twelve": "207000016049", "expected": "P"},
    {"description": "temporary UPN, final A counts 0", "twelve": "80120000500A", "expected": "M"},
    {"description": "temporary UPN, final Z counts 22", "twelve": "80120000500Z", "expected": "Y"},
    {"description": "all zeros", "twelve": "000000000000", "expected": "A"},
]


@pytest.mark.parametrize("case", UPN_LETTER_CASES, ids=[c["description"] for c in UPN_LETTER_CASES])
def test_upn_check_letter(case: dict[str, Any]) -> None:
    assert upn_check_letter(case["twelve"]) == case["expected"]


@pytest.mark.parametrize(
    "twelve", ["80120000500", "8012000050011", "80120000500I", "8012000A5001", "80120000500a"]
)
def test_upn_check_letter_rejects_malformed_input(twelve: str) -> None:
    with pytest.raises(ValueError, match="11 digits"):
        upn_check_letter(twelve)


# --------------------------------------------------------------------------- UPRN

UPRN_CASES = [
    {"description": "digits kept", "value": "100023336956", "expected": "100023336956"},
    {"description": "leading zeros stripped", "value": "000123", "expected": "123"},
    {"description": "surrounding whitespace stripped", "value": " 123 ", "expected": "123"},
    {"description": "one digit", "value": "7", "expected": "7"},
    {"description": "thirteen digits rejected", "value": "1000233369561", "expected": None},
    {"description": "zero rejected", "value": "0000", "expected": None},
    {"description": "letters rejected", "value": "12A", "expected": None},
    {"description": "inner space rejected", "value": "12 34", "expected": None},
    {"description": "float text rejected", "value": "123.0", "expected": None},
    {"description": "missing", "value": None, "expected": None},
    {"description": "blank", "value": " ", "expected": None},
]


@pytest.mark.parametrize("case", UPRN_CASES, ids=[c["description"] for c in UPRN_CASES])
def test_standardise_uprn(case: dict[str, Any]) -> None:
    assert standardise_uprn(_one(case["value"])).tolist() == [case["expected"]]


# --------------------------------------------------------------------------- properties


@PROPERTY_SETTINGS
@given(series())
def test_identifier_standardisers_never_raise_and_keep_index(s: pd.Series) -> None:
    nhs = standardise_nhs_number(s)
    upn = standardise_upn(s)
    uprn = standardise_uprn(s)
    for out in (nhs, upn, uprn, nhs_number_check(s)):
        assert out.index.equals(s.index)
    # a standardised value exists exactly when the value is valid
    assert (nhs["nhs_number_std"].notna() == nhs["nhs_number_valid"].fillna(False)).all()
    assert (upn["upn_std"].notna() == upn["upn_valid"].fillna(False)).all()
    # and standardising it again keeps it (idempotence)
    assert standardise_nhs_number(nhs["nhs_number_std"])["nhs_number_std"].equals(nhs["nhs_number_std"])
    assert standardise_upn(upn["upn_std"])["upn_std"].equals(upn["upn_std"])
    assert standardise_uprn(uprn).equals(uprn)


@PROPERTY_SETTINGS
@given(st.lists(nine_digits, min_size=1, max_size=20))
def test_nhs_numbers_built_with_the_check_digit_validate(prefixes: list[str]) -> None:
    numbers = []
    for nine in prefixes:
        check = nhs_check_digit(nine)
        if check is not None and len(set(nine + str(check))) > 1:
            numbers.append(nine + str(check))
    assume(numbers)
    s = pd.Series(numbers, dtype=object)
    assert nhs_number_check(s).tolist() == [True] * len(numbers)


@PROPERTY_SETTINGS
@given(nine_digits, st.integers(0, 9), st.integers(1, 9))
def test_nhs_number_check_catches_every_single_digit_error(nine: str, position: int, shift: int) -> None:
    check = nhs_check_digit(nine)
    assume(check is not None)
    digits = list(nine + str(check))
    digits[position] = str((int(digits[position]) + shift) % 10)
    assert nhs_number_check(_one("".join(digits))).tolist() == [False]


@PROPERTY_SETTINGS
@given(st.lists(twelve_upn, min_size=1, max_size=20))
def test_upns_built_with_the_check_letter_validate(twelves: list[str]) -> None:
    s = pd.Series([upn_check_letter(t) + t for t in twelves], dtype=object)
    assert standardise_upn(s)["upn_valid"].tolist() == [True] * len(twelves)


@PROPERTY_SETTINGS
@given(twelve_upn, st.integers(0, 12), st.data())
def test_upn_check_catches_every_single_character_error(
    twelve: str, position: int, data: st.DataObject
) -> None:
    upn = list(upn_check_letter(twelve) + twelve)
    pool = UPN_ALPHABET if position in (0, 12) else "0123456789"
    if position == 12:
        pool += "0123456789"

    def value(c: str) -> int:  # the DfE weights a final letter by its place in the alphabet
        return int(c) if c.isdigit() else UPN_ALPHABET.index(c)

    # a final letter and a digit of the same value ('A' and '0') cannot be told apart by design
    choices = [c for c in pool if c != upn[position] and (position != 12 or value(c) != value(upn[12]))]
    upn[position] = data.draw(st.sampled_from(choices))
    assert standardise_upn(_one("".join(upn)))["upn_valid"].tolist() == [False]
