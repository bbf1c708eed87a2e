"""Identifier standardisers: NHS number, Unique Pupil Number (UPN), UPRN.

Check digits are computed with numpy over a matrix of character codes, one row per value.
A missing value (blank, or nothing left once separators are removed) gives ``None`` and a
``<NA>`` validity; a value that fails gives ``None`` and ``False``. Nothing is raised for bad
values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ingest.standardise.names import _blank_to_na, _finish, _text

__all__ = [
    "nhs_check_digit",
    "nhs_number_check",
    "standardise_nhs_number",
    "standardise_upn",
    "standardise_uprn",
    "upn_check_letter",
]

_NHS_WEIGHTS = np.arange(10, 1, -1, dtype=np.int64)  # 10, 9, ..., 2 on digits 1..9
_UPN_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"  # 23 letters: no I, O or S; A=0 ... Z=22
_UPN_WEIGHTS = np.arange(2, 14, dtype=np.int64)  # 2..13 on characters 2..13
_UPN_ALPHABET_CODES = np.frombuffer(_UPN_ALPHABET.encode("ascii"), dtype=np.uint8)
# Value of a character code at UPN position 13: digit -> its value, letter -> its index in
# the check alphabet, anything else (I, O, S) -> -1.
_UPN_LAST_VALUE = np.full(256, -1, dtype=np.int64)
_UPN_LAST_VALUE[ord("0") : ord("9") + 1] = np.arange(10)
_UPN_LAST_VALUE[_UPN_ALPHABET_CODES] = np.arange(23)


def _char_matrix(values: pd.Series, width: int) -> np.ndarray:
    """ASCII strings, all of length ``width``, as an ``(n, width)`` matrix of byte codes."""
    joined = "".join(values.tolist()).encode("ascii")
    return np.frombuffer(joined, dtype=np.uint8).reshape(-1, width).astype(np.int64)


def _validity(missing: np.ndarray, valid: np.ndarray) -> pd.arrays.BooleanArray:
    out = pd.array(valid, dtype="boolean")
    out[missing] = pd.NA
    return out


# --------------------------------------------------------------------------- NHS number


def _nhs_digits_valid(digits: np.ndarray) -> np.ndarray:
    """Validity of each row of an ``(n, 10)`` digit matrix (modulus 11, not all one digit)."""
    check = 11 - (digits[:, :9] @ _NHS_WEIGHTS) % 11
    check = np.where(check == 11, 0, check)  # 10 stays 10 and never equals a digit
    same = (digits == digits[:, :1]).all(axis=1)
    return (check == digits[:, 9]) & ~same


def standardise_nhs_number(s: pd.Series) -> pd.DataFrame:
    """Standardise and validate NHS numbers.

    Spaces (any whitespace) and hyphens are removed; the value is valid iff exactly ten ASCII
    digits remain, the modulus 11 check digit is right (weights 10..2 on the first nine
    digits; check = 11 - (sum mod 11), 11 -> 0, 10 -> invalid) and the digits are not all the
    same (0000000000, 1111111111, ... are placeholders).

    Returns ``nhs_number_std`` (the ten digits when valid, else ``None``) and
    ``nhs_number_valid`` (pandas ``boolean``; ``<NA>`` when missing).

    Examples
    --------
    >>> out = standardise_nhs_number(pd.Series(["943 476 5919", "943-476-5918", " "]))
    >>> out["nhs_number_std"].tolist(), out["nhs_number_valid"].tolist()
    (['9434765919', None, None], [True, False, <NA>])
    """
    t = _text(s).str.replace(r"[\s-]", "", regex=True)
    missing = (t.str.len().fillna(0) == 0).to_numpy(dtype=bool)
    shaped = t.str.fullmatch(r"[0-9]{10}").fillna(False).to_numpy(dtype=bool)
    valid = np.zeros(len(t), dtype=bool)
    if shaped.any():
        valid[shaped] = _nhs_digits_valid(_char_matrix(t[shaped], 10) - ord("0"))
    std = t.where(valid)
    return pd.DataFrame(
        {
            "nhs_number_std": _finish(std).to_numpy(),
            "nhs_number_valid": _validity(missing, valid),
        },
        index=s.index,
    )


def nhs_number_check(s: pd.Series) -> pd.Series:
    """Validity of each NHS number (pandas ``boolean``; ``<NA>`` when missing).

    The rules are those of :func:`standardise_nhs_number`.
    """
    return standardise_nhs_number(s)["nhs_number_valid"]


def nhs_check_digit(nine: str) -> int | None:
    """The NHS number check digit for nine digits, or ``None`` when there is none.

    ``None`` when ``nine`` is not exactly nine ASCII digits or when the modulus 11 remainder
    gives 10 (no valid NHS number starts with these nine digits).

    Examples
    --------
    >>> nhs_check_digit("943476591")
    9
    """
    if len(nine) != 9 or not nine.isascii() or not nine.isdigit():
        return None
    check = 11 - sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True)) % 11
    if check == 11:
        return 0
    return None if check == 10 else check


# --------------------------------------------------------------------------- UPN


def standardise_upn(s: pd.Series) -> pd.DataFrame:
    """Standardise and validate English Unique Pupil Numbers (DfE).

    A UPN is 13 characters: a check letter, then 12 digits (LA number, establishment
    number, 2-digit year, 3-digit serial); a temporary UPN has a letter in place of its last
    digit. The value is upper-cased and whitespace and hyphens removed. It is valid iff:

    - character 1 is a letter, characters 2-12 are digits, character 13 is a digit or a
      letter of the check alphabet ``ABCDEFGHJKLMNPQRTUVWXYZ`` (DfE: I, O and S are never
      used, neither as the check letter nor as the final letter of a temporary UPN);
    - character 1 equals the check letter computed by :func:`upn_check_letter` from
      characters 2-13.

    The LA number (characters 2-4) is not checked against the list of LA codes.

    Returns ``upn_std`` (the 13 characters when valid, else ``None``) and ``upn_valid``
    (pandas ``boolean``; ``<NA>`` when missing).

    Examples
    --------
    >>> standardise_upn(pd.Series(["b801200005001", "A801200005001"]))["upn_valid"].tolist()
    [True, False]
    """
    t = _text(s).str.upper().str.replace(r"[\s-]", "", regex=True)
    missing = (t.str.len().fillna(0) == 0).to_numpy(dtype=bool)
    shaped = t.str.fullmatch(r"[A-Z][0-9]{11}[0-9A-Z]").fillna(False).to_numpy(dtype=bool)
    valid = np.zeros(len(t), dtype=bool)
    if shaped.any():
        codes = _char_matrix(t[shaped], 13)
        values = codes[:, 1:] - ord("0")
        values[:, 11] = _UPN_LAST_VALUE[codes[:, 12]]
        total = (values * _UPN_WEIGHTS).sum(axis=1) % 23
        valid[shaped] = (values[:, 11] >= 0) & (codes[:, 0] == _UPN_ALPHABET_CODES[total])
    std = t.where(valid)
    return pd.DataFrame(
        {"upn_std": _finish(std).to_numpy(), "upn_valid": _validity(missing, valid)},
        index=s.index,
    )


def upn_check_letter(twelve: str) -> str:
    """The UPN check letter (character 1) for UPN characters 2-13.

    DfE algorithm (CBDS data item "UPN"): multiply the character in UPN position ``p`` by
    ``p`` for positions 2..13 (so the first of the twelve characters by 2, the last by 13),
    where a digit counts as its value and the final letter of a temporary UPN as its index
    in ``ABCDEFGHJKLMNPQRTUVWXYZ`` (A=0, B=1, ..., H=7, J=8, ..., N=12, P=13, Q=14, R=15,
    T=16, ..., Z=22); sum; take the remainder mod 23; the check letter is the letter at that
    index of the same alphabet.

    Raises ``ValueError`` unless ``twelve`` is eleven ASCII digits followed by a digit or a
    letter of that alphabet (upper case).

    Examples
    --------
    >>> upn_check_letter("801200005001")
    'B'
    """
    if (
        len(twelve) != 12
        or not twelve[:11].isascii()
        or not twelve[:11].isdigit()
        or not (twelve[11] in _UPN_ALPHABET or twelve[11] in "0123456789")
    ):
        raise ValueError("expected 11 digits then a digit or a UPN check-alphabet letter")
    last = twelve[11]
    values = [int(c) for c in twelve[:11]]
    values.append(int(last) if last.isdigit() else _UPN_ALPHABET.index(last))
    total = sum(v * w for v, w in zip(values, range(2, 14), strict=True))
    return _UPN_ALPHABET[total % 23]


# --------------------------------------------------------------------------- UPRN


def standardise_uprn(s: pd.Series) -> pd.Series:
    """Unique Property Reference Numbers: 1 to 12 ASCII digits (after stripping), leading
    zeros removed; anything else (and an all-zero value) -> ``None``.

    Examples
    --------
    >>> standardise_uprn(pd.Series([" 00012345 ", "1234x", "0000"])).tolist()
    ['12345', None, None]
    """
    t = _text(s)
    ok = t.str.fullmatch(r"[0-9]{1,12}").fillna(False)
    t = t.where(ok, pd.NA).str.replace(r"^0+", "", regex=True)
    return _finish(_blank_to_na(t))
