"""UK postcode standardiser."""

from __future__ import annotations

import pandas as pd

from ingest.standardise.names import _finish, _text

__all__ = ["standardise_postcode"]

# Outward code A9, A99, AA9, AA99, A9A or AA9A; inward code 9AA whose letters exclude
# C I K M O V. Plus the special non-geographic GIR 0AA.
_POSTCODE = (
    r"^(?P<outward>[A-Z]{1,2}[0-9][A-Z0-9]?|GIR(?=0AA$))"
    r"(?P<inward>[0-9][ABD-HJLNP-UW-Z]{2})$"
)


def standardise_postcode(s: pd.Series) -> pd.DataFrame:
    """Standardise and validate UK postcodes.

    The value is NFKC-normalised, upper-cased and stripped of every character that is not an
    ASCII letter or digit, then checked against the UK format (outward A9, A99, AA9, AA99,
    A9A or AA9A; inward 9AA with inward letters not C I K M O V; or GIR 0AA). Letter/digit
    confusions (O for 0) are not corrected. Only the shape is checked: the letters allowed
    at each outward position and whether the postcode exists are not.

    Returns ``postcode_std`` ("SW1A 1AA"), ``postcode_sector`` ("SW1A 1"),
    ``postcode_district`` ("SW1A") and ``postcode_valid`` (pandas ``boolean``). An invalid
    value gives ``None`` in the three text columns and ``False``; a missing value (blank, or
    nothing but punctuation such as ``"-"``) gives ``None`` and ``<NA>``. Idempotent on
    ``postcode_std``.

    Examples
    --------
    >>> out = standardise_postcode(pd.Series(["sw1a1aa", "SW1A 1CA", "-"]))
    >>> out["postcode_sector"].tolist(), out["postcode_valid"].tolist()
    (['SW1A 1', None, None], [True, False, <NA>])
    """
    t = _text(s).str.normalize("NFKC").str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)
    missing = (t.str.len().fillna(0) == 0).to_numpy(dtype=bool)
    parts = t.str.extract(_POSTCODE)
    outward, inward = parts["outward"], parts["inward"]
    valid_np = parts["outward"].notna().to_numpy(dtype=bool)
    valid = pd.array(valid_np, dtype="boolean")
    valid[missing] = pd.NA
    std = outward + " " + inward
    sector = outward + " " + inward.str[0]
    return pd.DataFrame(
        {
            "postcode_std": _finish(std).to_numpy(),
            "postcode_sector": _finish(sector).to_numpy(),
            "postcode_district": _finish(outward).to_numpy(),
            "postcode_valid": valid,
        },
        index=s.index,
    )
