"""Name standardisers: tidy "as recorded" text, the matching form of a name, name splitting.

Every function takes a pandas Series (values ``str`` or ``None``/``NaN``; empty and
whitespace-only strings count as missing) and returns a Series or DataFrame with the same
index. Nothing is raised for bad values and nothing is logged: names are personal data.

The private helpers at the top (``_text``, ``_finish``, ``_fold_upper``) are shared by the
other standardiser modules of this package.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

__all__ = ["split_full_name", "split_names_list", "standardise_name", "tidy_text"]

# --------------------------------------------------------------------------- shared helpers


def _text(s: pd.Series) -> pd.Series:
    """``s`` as pandas ``string`` dtype, stripped, with ``None``/``NaN``/blank as ``<NA>``.

    Non-string values (numbers from a typed source) become their ``str()``.
    """
    t = s.astype("string").str.strip()
    return _blank_to_na(t)


def _blank_to_na(t: pd.Series) -> pd.Series:
    """Empty strings of a ``string`` Series as ``<NA>``."""
    empty = (t.str.len() == 0).fillna(False).to_numpy(dtype=bool)
    if empty.any():
        t = t.copy()
        t[empty] = pd.NA
    return t


def _collapse(t: pd.Series) -> pd.Series:
    """Collapse internal whitespace of a ``string`` Series to single spaces, strip, blank->NA."""
    return _blank_to_na(t.str.replace(r"\s+", " ", regex=True).str.strip())


def _finish(t: pd.Series) -> pd.Series:
    """A ``string`` Series as ``object`` dtype with ``None`` for missing (the public form)."""
    values = t.to_numpy(dtype=object)
    values[t.isna().to_numpy()] = None
    return pd.Series(values, index=t.index, dtype=object)


# Letters that Unicode NFKD does not decompose into an ASCII base letter, and apostrophe-like
# marks (removed, never turned into a space: O'Brien -> OBRIEN). Applied before and after NFKD.
_FOLD_TABLE = str.maketrans(
    {
        "ß": "ss",
        "ẞ": "SS",
        "Æ": "AE",
        "æ": "ae",
        "Œ": "OE",
        "œ": "oe",
        "Ø": "O",
        "ø": "o",
        "Ł": "L",
        "ł": "l",
        "Ŀ": "L",
        "ŀ": "l",
        "Đ": "D",
        "đ": "d",
        "Ð": "D",
        "ð": "d",
        "Þ": "TH",
        "þ": "th",
        "Ħ": "H",
        "ħ": "h",
        "Ŧ": "T",
        "ŧ": "t",
        "ı": "i",
        "Ɨ": "I",
        "ɨ": "i",
        "ĸ": "K",
        "Ŋ": "NG",
        "ŋ": "ng",
        "ƒ": "f",
        "'": None,
        "’": None,
        "‘": None,
        "‛": None,
        "ʼ": None,
        "ʹ": None,
        "`": None,
        "´": None,
        "′": None,
    }
)


def _fold_one(value: str) -> str:
    """Upper-case ASCII fold of one value.

    Idempotent: checked exhaustively for every single code point, and the steps act on each
    character independently (combining marks, the only characters NFKD reorders, are dropped).
    """
    value = unicodedata.normalize("NFKD", value.translate(_FOLD_TABLE))
    value = "".join(c for c in value if not unicodedata.combining(c) and unicodedata.category(c) != "Mn")
    return value.translate(_FOLD_TABLE).upper()


def _fold_upper(t: pd.Series) -> pd.Series:
    """Accent-fold and upper-case a ``string`` Series, computed once per unique value."""
    uniques = t.dropna().unique()
    mapping = {v: _fold_one(v) for v in uniques}
    return t.map(mapping).astype("string")


# --------------------------------------------------------------------------- names

_TITLES = ("MR", "MRS", "MS", "MISS", "DR", "MX", "MASTER", "REV", "SIR", "LADY", "PROF")
_SUFFIXES = ("JR", "JNR", "SR", "SNR", "II", "III")
# Hyphen-minus, Unicode hyphens, figure dash, en/em dashes, horizontal bar, minus sign, bullet
_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043"

_STD_TITLES = re.compile(r"^(?:(?:" + "|".join(_TITLES) + r") )+")
_STD_SUFFIX = re.compile(r"(?: (?:" + "|".join(_SUFFIXES) + r"))+$")
_TITLES_AS_RECORDED = re.compile(r"^(?:(?:" + "|".join(_TITLES) + r")\.?\s+)+", flags=re.IGNORECASE)
# Lower-case particles that, in given-first order, belong to the family name that follows them
# ("Anna van der Berg" -> family "van der Berg"). Compared case-insensitively.
_PARTICLES = (
    "VAN",
    "VON",
    "DER",
    "DEN",
    "DE",
    "DEL",
    "DELLA",
    "DA",
    "DI",
    "DU",
    "DOS",
    "DAS",
    "LE",
    "LA",
    "AL",
    "EL",
    "BIN",
    "BINT",
    "TER",
    "TEN",
)


def tidy_text(s: pd.Series) -> pd.Series:
    """Text as recorded: stripped, internal whitespace collapsed, case kept; blank -> ``None``.

    Examples
    --------
    >>> tidy_text(pd.Series(["  Mary   Ann ", "", None])).tolist()
    ['Mary Ann', None, None]
    """
    return _finish(_collapse(_text(s)))


def _standardise_name_text(t: pd.Series) -> pd.Series:
    t = _fold_upper(t)
    t = t.str.replace(".", "", regex=False)
    t = t.str.replace(f"[{_DASHES}]", "-", regex=True)
    t = t.str.replace(r"[^\w\s-]|_", " ", regex=True)
    t = t.str.replace(r"\s*-[\s-]*", "-", regex=True)
    t = t.str.replace(r"^[\s-]+|[\s-]+$", "", regex=True)
    t = t.str.replace(r"\s+", " ", regex=True)
    t = t.str.replace(_STD_TITLES, "", regex=True)
    t = t.str.replace(_STD_SUFFIX, "", regex=True)
    return _blank_to_na(t)


def standardise_name(s: pd.Series) -> pd.Series:
    """The matching form of a name. Idempotent; blank -> ``None``.

    Rules, in order:

    1. accents folded to ASCII (Unicode NFKD, combining marks dropped; ß->SS, Æ->AE, Ø->O,
       Ł->L, Œ->OE, Þ->TH, Đ/Ð->D, ...) and upper-cased; letters of other scripts are kept;
    2. apostrophes (``'`` and its typographic look-alikes) and periods removed:
       O'Brien -> OBRIEN, St. John -> ST JOHN;
    3. hyphens, en and em dashes become one ``-`` with no spaces round it
       (Smith - Jones -> SMITH-JONES); leading and trailing dashes dropped;
    4. any other character that is not a letter or digit becomes a space; whitespace collapsed;
    5. leading titles removed when another word follows (MR MRS MS MISS DR MX MASTER REV SIR
       LADY PROF; BABY is kept, linkage needs it);
    6. trailing generational suffixes removed when another word precedes (JR JNR SR SNR II
       III).

    Examples
    --------
    >>> standardise_name(pd.Series(["Mr Seán O'Brien Jnr", "Smith - Jones", " "])).tolist()
    ['SEAN OBRIEN', 'SMITH-JONES', None]
    """
    return _finish(_standardise_name_text(_text(s)))


def _strip_titles_as_recorded(t: pd.Series) -> pd.Series:
    """Remove leading titles (any case, optional period) when another word follows."""
    return _collapse(t.str.replace(_TITLES_AS_RECORDED, "", regex=True))


_SPLIT_COMMA = r"^(?P<family>[^,]*),(?P<rest>.*)$"
_SPLIT_GIVEN_MIDDLE = r"^(?P<given>\S+)(?: (?P<middle>.+))?$"
_SPLIT_FAMILY_FIRST = r"^(?P<family>\S+)(?: (?P<given>\S+)(?: (?P<middle>.+))?)?$"
_SPLIT_GIVEN_FIRST = (
    r"^(?:(?P<given>\S+)(?: (?P<middle>.+?))?? )?"
    r"(?P<family>(?:(?:" + "|".join(_PARTICLES) + r") )*\S+)$"
)


def split_full_name(s: pd.Series, order: str) -> pd.DataFrame:
    """Split a full name into ``given_name``, ``middle_names`` and ``family_name``.

    Values are tidied as recorded (case kept) and leading titles (Mr, Mrs., Dr, ...; any
    case, optional period) are removed when another word follows. Leading and trailing
    commas are ignored.

    - **A comma wins, whatever the order**: the family name is everything before the first
      comma, kept whole ("VAN DER BERG, Anna"); after it come the given name and then the
      middle names (further commas count as spaces).
    - ``order="family_first"`` without a comma: the first word is the family name, the second
      the given name, the rest the middle names ("SMITH John Paul").
    - ``order="given_first"`` without a comma: the first word is the given name, the last the
      family name, the words between the middle names ("John Paul Smith"). A family name is
      extended leftwards over particles (van, von, der, de, da, di, du, le, la, al, bin, ...)
      as long as a given name remains: "Anna van der Berg" -> family "van der Berg".
    - A single word is the family name in either order.
    - Missing/blank -> ``None`` in all three columns.

    Raises ``ValueError`` for an unknown ``order`` (a programming error, not a data error).

    Examples
    --------
    >>> split_full_name(pd.Series(["SMITH, John Paul"]), "given_first").iloc[0].tolist()
    ['John', 'Paul', 'SMITH']
    """
    if order not in ("family_first", "given_first"):
        raise ValueError(f"order must be 'family_first' or 'given_first', not {order!r}")
    t = _collapse(_text(s))
    t = _collapse(t.str.replace(r"^[\s,]+|[\s,]+$", "", regex=True))
    t = _strip_titles_as_recorded(t)

    cols = ["given_name", "middle_names", "family_name"]
    out = pd.DataFrame({c: pd.Series(pd.NA, index=t.index, dtype="string") for c in cols})
    has_comma = t.str.contains(",", regex=False).fillna(False).to_numpy(dtype=bool)
    no_comma = t.notna().to_numpy(dtype=bool) & ~has_comma

    if has_comma.any():
        parts = t[has_comma].str.extract(_SPLIT_COMMA)
        rest = _strip_titles_as_recorded(_collapse(parts["rest"].str.replace(",", " ")))
        gm = rest.str.extract(_SPLIT_GIVEN_MIDDLE)
        out.loc[has_comma, "family_name"] = _collapse(parts["family"]).to_numpy()
        out.loc[has_comma, "given_name"] = gm["given"].to_numpy()
        out.loc[has_comma, "middle_names"] = gm["middle"].to_numpy()
    if no_comma.any():
        pattern = _SPLIT_FAMILY_FIRST if order == "family_first" else _SPLIT_GIVEN_FIRST
        parts = t[no_comma].str.extract(pattern, flags=re.IGNORECASE)
        for c in cols:
            out.loc[no_comma, c] = parts[c.split("_")[0]].to_numpy()
    return pd.DataFrame({c: _finish(out[c]).to_numpy() for c in cols}, index=s.index)


def split_names_list(s: pd.Series, sep: str = ";") -> pd.Series:
    """Split a delimited list of names (aliases) into a list of tidied names per row.

    Each part is tidied as recorded; blank parts are dropped; a missing value gives ``[]``.

    Examples
    --------
    >>> split_names_list(pd.Series(["Jon Smith; ;Johnny  S", None])).tolist()
    [['Jon Smith', 'Johnny S'], []]
    """
    t = _collapse(_text(s)).reset_index(drop=True)
    result: list[list[str]] = [[] for _ in range(len(t))]
    present = t.dropna()
    parts = _collapse(_text(present.str.split(sep, regex=False).explode())).dropna()
    if len(parts):
        positions = parts.index.to_numpy()
        values = parts.to_numpy(dtype=object)
        # ``parts`` is ordered by position, so each row's names are one contiguous run.
        starts = np.flatnonzero(np.r_[True, positions[1:] != positions[:-1]])
        ends = np.r_[starts[1:], len(positions)]
        for start, end in zip(starts, ends, strict=True):
            result[positions[start]] = [str(v) for v in values[start:end]]
    return pd.Series(result, index=s.index, dtype=object)
