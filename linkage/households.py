"""Households: the people recorded at one address, and when.

An address is keyed by its standardised address line and postcode (by its UPRN where a
source gives no line). Each record places its person at the address over a dated spell:

- from ``address_from`` (a tenancy's moved-in date), else ``address_seen`` (a census,
  incident or contact date), else the extract date;
- to ``address_to`` (moved out); an open tenancy (moved in, not out) runs to the extract
  date; otherwise the day it was seen.

A person's spells at one address are merged into one (earliest start, latest end); the
spell with the latest end is the person's ``current`` household. Address keys shared by
more people than ``max_household_size`` (hostels, "no fixed abode") are not households
and are left out, as are records with no address.
"""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ingest.schema import HOUSEHOLDS, to_arrow

__all__ = ["address_keys", "co_resident_pairs", "household_spells"]

MAX_HOUSEHOLD_SIZE = 15


#: Leading words of the address kept in a key with a postcode ("11 KING CRESCENT", "FLAT 3 40"):
#: within one postcode they name the property, and the locality and town that agencies add
#: or leave out do not split it.
KEY_WORDS = 3


def address_keys(records: pd.DataFrame) -> pd.Series:
    """One key per record for its address (null when it has none).

    With a valid postcode: the postcode and the first :data:`KEY_WORDS` words of the
    standardised address; without one, the whole standardised address; with no address
    line, the UPRN. The line comes before the UPRN because every source has one, while only
    some give a UPRN: keying on the UPRN would keep a tenancy apart from the same address
    elsewhere. (Built with Arrow's string kernels: a million records in about a second.)
    """
    line, postcode, uprn = (_strings(records[c]) for c in ("address_std", "postcode_std", "uprn"))
    words = pc.utf8_split_whitespace(pc.utf8_trim_whitespace(line))
    head = pc.binary_join(pc.list_slice(words, 0, KEY_WORDS), " ")
    short = pc.binary_join_element_wise("P:", postcode, "|", head, "")  # null when either is
    whole = pc.binary_join_element_wise("A:", line, "")
    by_uprn = pc.binary_join_element_wise("U:", uprn, "")
    keys = pc.coalesce(short, whole, by_uprn)
    return pd.Series(keys.to_numpy(zero_copy_only=False), index=records.index, dtype=object)


def _strings(values: pd.Series) -> pa.Array:
    try:
        return pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all text (a UPRN read as a number)
        text = values.astype(str).where(values.notna(), None)
        return pa.array(text.to_numpy(dtype=object), type=pa.string())


def _household_id(address_key: str, key: bytes) -> str:
    return "H" + hmac.new(key, address_key.encode(), hashlib.sha256).hexdigest()[:12].upper()


def household_spells(
    records: pd.DataFrame,
    person_index: pd.DataFrame,
    *,
    key: bytes = b"",
    max_household_size: int = MAX_HOUSEHOLD_SIZE,
) -> pd.DataFrame:
    """The ``households`` table: one row per person and address, with its dated spell.

    Parameters
    ----------
    records, person_index
        The canonical ``records`` and the linkage's ``person_index``.
    key
        Secret key for the household ids (a workspace keeps one); ids are a keyed hash of
        the address key, so the same address keeps its id from run to run.
    max_household_size
        Addresses holding more people than this are not treated as households.
    """
    frame = records.merge(person_index[["record_key", "person_id"]], on="record_key", how="inner")
    frame = frame.assign(address_key=address_keys(frame))
    frame = frame[frame["address_key"].notna()]
    if frame.empty:
        return to_arrow("households", _empty()).to_pandas(date_as_object=True)
    extract = pd.to_datetime(frame["extract_date"])
    moved_in = pd.to_datetime(frame["address_from"])
    moved_out = pd.to_datetime(frame["address_to"])
    seen = pd.to_datetime(frame["address_seen"])
    start = moved_in.fillna(seen).fillna(extract)
    open_tenancy = moved_in.notna() & moved_out.isna()
    end = moved_out.where(moved_out.notna(), extract.where(open_tenancy, seen.fillna(extract)))
    frame = frame.assign(_start=start, _end=end.where(end >= start, start))
    size = frame.groupby("address_key")["person_id"].nunique()
    frame = frame[frame["address_key"].map(size) <= max_household_size]
    grouped = frame.groupby(["person_id", "address_key"], sort=True)
    spells = grouped.agg(
        start_date=("_start", "min"),
        end_date=("_end", "max"),
        postcode=("postcode_std", "first"),
    ).reset_index()
    keys = ["person_id", "address_key"]
    lines = frame.dropna(subset=["address"]).groupby([*keys, "address"]).size().rename("n").reset_index()
    lines = lines.sort_values(["n", "address"], ascending=[False, True]).drop_duplicates(keys)
    spells = spells.merge(lines[[*keys, "address"]], on=keys, how="left")
    sources = frame[[*keys, "source"]].drop_duplicates().sort_values([*keys, "source"])
    spells = spells.merge(sources.groupby(keys)["source"].agg(list).rename("sources").reset_index(), on=keys)
    latest = spells.sort_values(["person_id", "end_date", "start_date"]).groupby("person_id").tail(1).index
    spells["current"] = spells.index.isin(latest)
    spells["household_id"] = [_household_id(k, key) for k in spells["address_key"]]
    for col in ("start_date", "end_date"):
        spells[col] = spells[col].dt.date
    spells = spells.sort_values(["household_id", "person_id"], kind="stable").reset_index(drop=True)
    return to_arrow("households", spells[HOUSEHOLDS.names]).to_pandas(date_as_object=True)


def co_resident_pairs(households: pd.DataFrame, *, current_only: bool = False) -> pd.DataFrame:
    """Pairs of people whose spells at one household overlap: ``person_a < person_b``, ``household_id``.

    With ``current_only`` only people whose current household it is are paired.
    """
    spells = households[households["current"]] if current_only else households
    spells = spells[["household_id", "person_id", "start_date", "end_date"]]
    pairs = spells.merge(spells, on="household_id", suffixes=("_a", "_b"))
    pairs = pairs[pairs["person_id_a"] < pairs["person_id_b"]]
    overlap = (pairs["start_date_a"] <= pairs["end_date_b"]) & (pairs["start_date_b"] <= pairs["end_date_a"])
    pairs = pairs[overlap]
    out = pairs.rename(columns={"person_id_a": "person_a", "person_id_b": "person_b"})
    return out[["person_a", "person_b", "household_id"]].drop_duplicates().reset_index(drop=True)


def _empty() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=object) for name in HOUSEHOLDS.names}).astype(
        {"current": bool}
    )
