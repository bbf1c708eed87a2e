"""Sex standardiser: recorded codes to ``M``, ``F``, ``X`` or unknown (``None``)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import pandas as pd

from ingest.errors import SettingsError
from ingest.standardise.names import _collapse, _finish, _text

__all__ = ["DEFAULT_SEX_CODES", "standardise_sex"]

DEFAULT_SEX_CODES: Mapping[str, str | None] = MappingProxyType(
    {
        "M": "M",
        "MALE": "M",
        "1": "M",
        "BOY": "M",
        "F": "F",
        "FEMALE": "F",
        "2": "F",
        "GIRL": "F",
        "X": "X",
        "I": "X",
        "INDETERMINATE": "X",
        "OTHER": "X",
        "9": "X",
        "U": None,
        "UNKNOWN": None,
        "0": None,
        "NOT KNOWN": None,
        "N/K": None,
    }
)
"""Recorded sex codes (upper case) and what they mean; compared after strip and upper-casing.
A code that maps to ``None`` is a known way of saying "not known": it is not flagged."""

_OUTPUTS = frozenset({"M", "F", "X"})


def _key(code: str) -> str:
    return " ".join(code.split()).upper()


def _resolve_code_map(code_map: Mapping[str, str | None]) -> dict[str, str | None]:
    """Upper-case a source's code map; its targets may be M/F/X/None or any default code."""
    resolved: dict[str, str | None] = {}
    for code, target in code_map.items():
        if target is None or _key(str(target)) in _OUTPUTS:
            resolved[_key(str(code))] = None if target is None else _key(str(target))
        elif _key(str(target)) in DEFAULT_SEX_CODES:
            resolved[_key(str(code))] = DEFAULT_SEX_CODES[_key(str(target))]
        else:
            raise SettingsError(
                f"sex code map: code {code!r} maps to {target!r}; expected M, F, X, "
                "null or one of the default sex codes"
            )
    return resolved


def standardise_sex(s: pd.Series, code_map: Mapping[str, str | None] | None = None) -> pd.DataFrame:
    """Map recorded sex codes to ``M``, ``F``, ``X`` or ``None``.

    Values are stripped, whitespace-collapsed and compared case-insensitively, first with
    ``code_map`` (the source's own codes) and then with :data:`DEFAULT_SEX_CODES`. A target
    in ``code_map`` is ``M``, ``F``, ``X``, ``None`` or any default code (so ``"Male"`` works
    as a target). Returns ``sex`` (object: "M"/"F"/"X"/``None``) and ``unmapped`` (bool,
    ``True`` where a non-empty value is in neither map).

    Raises :class:`~ingest.errors.SettingsError` when ``code_map`` has a target it cannot
    resolve (a configuration mistake, not a data value).

    Examples
    --------
    >>> out = standardise_sex(pd.Series(["male", " 2 ", "U", "?", None]))
    >>> out["sex"].tolist(), out["unmapped"].tolist()
    (['M', 'F', None, None, None], [False, False, False, True, False])
    """
    lookup: dict[str, str | None] = dict(DEFAULT_SEX_CODES)
    if code_map:
        lookup.update(_resolve_code_map(code_map))
    key = _collapse(_text(s)).str.upper()
    known = key.isin(list(lookup)).fillna(False).to_numpy(dtype=bool)
    present = key.notna().to_numpy(dtype=bool)
    mapped = {k: v for k, v in lookup.items() if v is not None}
    sex = key.map(mapped).astype("string")
    return pd.DataFrame({"sex": _finish(sex).to_numpy(), "unmapped": present & ~known}, index=s.index)
