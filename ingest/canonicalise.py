"""Apply a source mapping to a raw table: canonical records, events, relationships, quarantine.

Pure: takes the adapter's :class:`~ingest.adapters.RawTable` and returns DataFrames in the
canonical columns. Every row of the raw table is either accepted or quarantined with a
reason; :class:`SourceCounts` carries the accounting and :func:`canonicalise` checks it.
Work is done column-wise over the whole table; the only per-row Python is for the rows
that are quarantined (to keep their raw values) and for the few flagged records.
"""

from __future__ import annotations

import datetime as dt
import json
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ingest.adapters import RawTable
from ingest.errors import KinlinkError, SchemaError
from ingest.mapping import Endpoint, FieldSpec, Filter, PersonSpec, SourceMapping
from ingest.schema import EVENTS, QUARANTINE, RECORDS, RELATIONSHIP_TYPES, STATED_RELATIONSHIPS
from ingest.standardise import (
    dob_from_age,
    parse_dates,
    split_full_name,
    split_names_list,
    standardise_address,
    standardise_name,
    standardise_nhs_number,
    standardise_postcode,
    standardise_sex,
    standardise_upn,
    standardise_uprn,
    tidy_text,
)
from ingest.vocabulary import InterventionVocabulary

__all__ = ["SourceCounts", "SourceTables", "canonicalise", "clean_frame", "evaluate_field"]

_NAME_PARTS = ("given_name", "middle_names", "family_name")
_IDENTIFYING = ("given_name", "family_name", "full_name", "dob", "age", "nhs_number", "upn")


@dataclass(frozen=True)
class SourceCounts:
    """Row accounting for one source: ``rows_read == rows_accepted + rows_quarantined``."""

    source: str
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    items_quarantined: int
    records: int
    events: int
    stated_relationships: int
    quarantine_reasons: Mapping[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_quarantined": self.rows_quarantined,
            "items_quarantined": self.items_quarantined,
            "records": self.records,
            "events": self.events,
            "stated_relationships": self.stated_relationships,
            "quarantine_reasons": dict(self.quarantine_reasons),
        }


@dataclass(frozen=True)
class SourceTables:
    """The canonical tables one source gives, as DataFrames in schema column order."""

    records: pd.DataFrame
    events: pd.DataFrame
    stated_relationships: pd.DataFrame
    quarantine: pd.DataFrame
    counts: SourceCounts


# --------------------------------------------------------------------------- values


def clean_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every value as trimmed text; empty and whitespace-only values become None."""
    out = {}
    for col in frame.columns:
        s = frame[col]
        present = s.notna().to_numpy()
        values = np.full(len(s), None, dtype=object)
        stripped = s[present].astype(str).str.strip()
        values[present] = stripped.where(stripped != "", None).to_numpy(dtype=object)
        out[col] = pd.Series(values, index=frame.index, dtype=object)
    return pd.DataFrame(out, index=frame.index, columns=frame.columns)


def _none_series(index: pd.Index) -> pd.Series:
    return pd.Series([None] * len(index), index=index, dtype=object)


def evaluate_field(
    spec: FieldSpec,
    frame: pd.DataFrame,
    code_maps: Mapping[str, Mapping[str, str | None]] | None = None,
) -> pd.Series:
    """The text a field spec gives for every row (None where empty), after its map and default."""
    if spec.column is not None:
        s = frame[spec.column].copy()
    elif spec.columns:
        s = _none_series(frame.index)
        for col in spec.columns:
            part = frame[col]
            both = s.notna() & part.notna()
            s = s.where(~both, s.astype(str) + spec.sep + part.astype(str))
            s = s.where(s.notna(), part)
    elif spec.template is not None:
        s = _format_template(spec.template, frame)
    else:
        s = pd.Series([spec.value] * len(frame), index=frame.index, dtype=object)
    if spec.map is not None and code_maps is not None:
        table = code_maps[spec.map]
        known = s.isin(list(table))
        s = s.where(~known, s.map(table))
    if spec.default is not None:
        s = s.where(s.notna(), spec.default)
    return s.astype(object).where(s.notna(), None)


def _format_template(template: str, frame: pd.DataFrame) -> pd.Series:
    out = pd.Series([""] * len(frame), index=frame.index, dtype=object)
    missing = pd.Series(False, index=frame.index)
    for literal, name, _, _ in string.Formatter().parse(template):
        out = out + literal
        if name:
            col = frame[name]
            missing |= col.isna()
            out = out + col.fillna("").astype(str)
    return out.where(~missing, None)


def _filter_mask(flt: Filter, frame: pd.DataFrame) -> pd.Series:
    s = frame[flt.column]
    if flt.op == "equals":
        return s == flt.values[0]
    if flt.op == "not_equals":
        return s != flt.values[0]
    if flt.op == "in":
        return s.isin(flt.values)
    if flt.op == "not_in":
        return ~s.isin(flt.values)
    if flt.op == "not_null":
        return s.notna()
    return s.isna()


def _passes(filters: Sequence[Filter], frame: pd.DataFrame) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for flt in filters:
        mask &= _filter_mask(flt, frame).fillna(False).astype(bool)
    return mask


def _dates(s: pd.Series, formats: Sequence[str], reference: dt.date) -> tuple[pd.Series, pd.Series]:
    parsed = parse_dates(s, formats, reference=reference)
    return parsed["date"], parsed["invalid"].astype(bool)


def _as_date_objects(s: pd.Series) -> pd.Series:
    """datetime64 -> python dates (None for NaT), ready for an Arrow date32 column."""
    s = pd.to_datetime(s)
    out = pd.Series(s.dt.date, index=s.index, dtype=object)
    return out.where(s.notna(), None)


# --------------------------------------------------------------------------- quarantine


class _Quarantine:
    """Collects quarantine entries; raw values are attached at the end, for those rows only."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.parts: list[pd.DataFrame] = []

    def add(self, positions: np.ndarray, scope: str, reason: str, column: str | None, message: str) -> None:
        if len(positions):
            self.parts.append(
                pd.DataFrame(
                    {
                        "position": positions,
                        "scope": scope,
                        "reason": reason,
                        "column": column,
                        "message": message,
                    }
                )
            )

    def table(
        self, frame: pd.DataFrame, row_numbers: np.ndarray, adapter_rejects: pd.DataFrame
    ) -> pd.DataFrame:
        if self.parts:
            q = pd.concat(self.parts, ignore_index=True)
            positions = q["position"].to_numpy()
            raw_rows = frame.iloc[positions].to_dict(orient="records")
            q["raw"] = [json.dumps(r, ensure_ascii=False) for r in raw_rows]
            q["row_number"] = row_numbers[positions].astype("int64")
            q = q.drop(columns="position")
        else:
            q = pd.DataFrame(columns=[f for f in QUARANTINE.names if f != "source"])
        q["source"] = self.source
        q = (
            pd.concat([adapter_rejects, q[QUARANTINE.names]], ignore_index=True)
            if len(adapter_rejects)
            else q
        )
        q["row_number"] = q["row_number"].astype("int64")
        return q[QUARANTINE.names].sort_values(["row_number", "scope"], kind="stable").reset_index(drop=True)


def _adapter_rejects(raw: RawTable) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": raw.source,
            "row_number": [r.row_number for r in raw.rejects],
            "scope": "row",
            "reason": [r.reason for r in raw.rejects],
            "column": None,
            "message": [r.message for r in raw.rejects],
            "raw": [r.raw for r in raw.rejects],
        },
        columns=QUARANTINE.names,
    )


# --------------------------------------------------------------------------- people


def _describe_spec(spec: FieldSpec) -> str | None:
    cols = spec.referenced_columns()
    return ",".join(cols) if cols else None


def _person_fields(
    spec: PersonSpec, frame: pd.DataFrame, mapping: SourceMapping
) -> tuple[pd.Series, dict[str, pd.Series]]:
    ids = evaluate_field(spec.id, frame, mapping.code_maps)
    values = {}
    for name, fs in spec.fields.items():
        if name == "sex":  # sex codes are mapped by the sex standardiser, with its defaults
            values[name] = evaluate_field(FieldSpec(**{**fs.__dict__, "map": None}), frame)
        else:
            values[name] = evaluate_field(fs, frame, mapping.code_maps)
    return ids, values


def _identifying(values: Mapping[str, pd.Series], index: pd.Index) -> pd.Series:
    mask = pd.Series(False, index=index)
    for name in _IDENTIFYING:
        if name in values:
            mask |= values[name].notna()
    return mask


def _build_records(
    people_rows: pd.DataFrame,
    mapping: SourceMapping,
    reference: dt.date,
) -> pd.DataFrame:
    """Standardise the person rows (all roles at once) and merge rows that share an id."""
    p = people_rows
    idx = p.index
    flags: dict[str, pd.Series] = {}

    def col(name: str) -> pd.Series:
        return p[name] if name in p.columns else _none_series(idx)

    out = pd.DataFrame(index=idx)
    out["record_key"] = mapping.source + ":" + p["source_record_id"].astype(str)
    out["source"] = mapping.source
    out["source_record_id"] = p["source_record_id"].astype(str)
    out["row_number"] = p["row_number"].astype("int64")
    out["extract_date"] = p["extract_date"]
    out["agency"] = mapping.agency

    parts = {name: tidy_text(col(name)) for name in _NAME_PARTS}
    full = col("full_name")
    flags["name_from_full_name"] = pd.Series(False, index=idx)
    if full.notna().any():
        for order in ("family_first", "given_first"):
            sel = full.notna() & (p["_name_order"] == order)
            if not sel.any():
                continue
            split = split_full_name(full[sel], order=order)
            for name in _NAME_PARTS:
                fill = sel & parts[name].isna()
                parts[name] = parts[name].where(~fill, split[name].reindex(idx))
                flags["name_from_full_name"] |= fill & split[name].reindex(idx).notna()
    for name in _NAME_PARTS:
        out[name] = parts[name]
        out[f"{name}_std"] = standardise_name(parts[name])

    aliases = col("alias_names")
    alias_lists: pd.Series = pd.Series([[] for _ in range(len(idx))], index=idx, dtype=object)
    for sep in p["_alias_split"].dropna().unique():
        sel = aliases.notna() & (p["_alias_split"] == sep)
        if sel.any():
            alias_lists[sel] = split_names_list(aliases[sel], sep=sep)
    out["alias_names"] = alias_lists
    exploded = alias_lists.explode()
    std = standardise_name(exploded.where(exploded.notna(), None).astype(object))
    std = std.dropna().groupby(level=0).agg(list)
    out["alias_names_std"] = std.reindex(idx)
    out["alias_names_std"] = out["alias_names_std"].map(lambda v: v if isinstance(v, list) else [])

    formats = mapping.date_formats
    dob, flags["dob_invalid"] = _dates(col("dob"), formats, reference)
    extract_dt = pd.to_datetime(p["extract_date"])
    flags["dob_future"] = dob.notna() & extract_dt.notna() & (dob > extract_dt)
    age = col("age")
    need_age = dob.isna() & age.notna()
    dob_est = pd.Series(pd.NaT, index=idx, dtype="datetime64[ns]")
    if need_age.any():
        at = p["_age_at"] if "_age_at" in p.columns else _none_series(idx)
        at_dates, _ = _dates(at, formats, reference)
        ref = at_dates.where(at_dates.notna(), extract_dt).fillna(pd.Timestamp(reference))
        est = dob_from_age(age[need_age], ref[need_age])
        dob_est[need_age] = est["date"]
    flags["dob_from_age"] = dob_est.notna()
    out["_dob_real"] = dob
    out["_dob_est"] = dob_est
    dod, flags["dod_invalid"] = _dates(col("dod"), formats, reference)
    out["dod"] = dod

    sex_parts = []
    for map_name in p["_sex_map"].fillna("").unique():
        sel = p["_sex_map"].fillna("") == map_name
        code_map = mapping.code_maps.get(map_name) if map_name else None
        sex_parts.append(standardise_sex(col("sex")[sel], code_map=code_map))
    sex = (
        pd.concat(sex_parts).reindex(idx)
        if sex_parts
        else pd.DataFrame(index=idx, columns=["sex", "unmapped"])
    )
    out["sex"] = sex["sex"].astype(object).where(sex["sex"].notna(), None)
    flags["sex_unmapped"] = sex["unmapped"].fillna(False).astype(bool)

    nhs = standardise_nhs_number(col("nhs_number"))
    out["nhs_number"] = tidy_text(col("nhs_number"))
    out["nhs_number_std"] = nhs["nhs_number_std"]
    out["nhs_number_valid"] = nhs["nhs_number_valid"]
    flags["nhs_number_invalid"] = nhs["nhs_number_valid"].eq(False).fillna(False).astype(bool)
    upn = standardise_upn(col("upn"))
    out["upn"] = tidy_text(col("upn"))
    out["upn_std"] = upn["upn_std"]
    out["upn_valid"] = upn["upn_valid"]
    flags["upn_invalid"] = upn["upn_valid"].eq(False).fillna(False).astype(bool)
    out["uprn"] = standardise_uprn(col("uprn"))
    out["address"] = tidy_text(col("address"))
    out["address_std"] = standardise_address(out["address"])
    pc = standardise_postcode(col("postcode"))
    out["postcode"] = tidy_text(col("postcode"))
    for name in ("postcode_std", "postcode_sector", "postcode_district", "postcode_valid"):
        out[name] = pc[name]
    flags["postcode_invalid"] = pc["postcode_valid"].eq(False).fillna(False).astype(bool)
    out["address_from"], _ = _dates(col("address_from"), formats, reference)
    out["address_to"], _ = _dates(col("address_to"), formats, reference)
    out["address_seen"], _ = _dates(col("address_seen"), formats, reference)
    hh = col("household_ref")
    out["household_ref"] = (mapping.source + ":" + hh.astype(str)).where(hh.notna(), None)

    flag_names = list(flags)
    matrix = np.column_stack([flags[n].to_numpy(dtype=bool) for n in flag_names])
    flag_lists: list[list[str]] = [[] for _ in range(len(idx))]
    for i in np.flatnonzero(matrix.any(axis=1)):
        flag_lists[i] = [flag_names[j] for j in np.flatnonzero(matrix[i])]
    out["quality_flags"] = pd.Series(flag_lists, index=idx, dtype=object)
    out["_position"] = p["_position"]
    return _merge_duplicate_ids(out)


def _merge_duplicate_ids(out: pd.DataFrame) -> pd.DataFrame:
    """One record per record_key: first non-empty value of each field, in row order."""
    out = out.sort_values("_position", kind="stable")
    dup = out["record_key"].duplicated(keep=False)
    single = out[~dup]
    if dup.any():
        multi = out[dup]
        grouped = multi.groupby("record_key", sort=False)
        scalar_cols = [
            c
            for c in multi.columns
            if c not in ("record_key", "alias_names", "alias_names_std", "quality_flags")
        ]
        merged = grouped[scalar_cols].first()
        for list_col in ("alias_names", "alias_names_std", "quality_flags"):
            merged[list_col] = grouped[list_col].agg(
                lambda ls: list(dict.fromkeys(x for lst in ls for x in lst))
            )
        merged = merged.reset_index()
        out = pd.concat([single, merged], ignore_index=True).sort_values("_position", kind="stable")
    else:
        out = single
    dob = out["_dob_real"].where(out["_dob_real"].notna(), out["_dob_est"])
    out["dob_estimated"] = out["_dob_real"].isna() & out["_dob_est"].notna()
    out["dob"] = dob
    for name in ("dob", "dod", "address_from", "address_to", "address_seen", "extract_date"):
        out[name] = _as_date_objects(out[name])
    for name in ("nhs_number_valid", "upn_valid", "postcode_valid"):
        out[name] = out[name].astype("boolean")
    return out[RECORDS.names].reset_index(drop=True)


# --------------------------------------------------------------------------- main


def canonicalise(
    raw: RawTable,
    mapping: SourceMapping,
    vocabulary: InterventionVocabulary,
    *,
    today: dt.date | None = None,
) -> SourceTables:
    """Turn one source's raw rows into canonical tables, quarantining what cannot be accepted.

    Parameters
    ----------
    raw
        The rows an adapter read (see :func:`ingest.adapters.read_source`).
    mapping
        The source's mapping.
    vocabulary
        The intervention vocabulary event types must belong to.
    today
        Reference date for two-digit years and ages when the source has no extract date.

    Raises
    ------
    SchemaError
        If the mapping names a column the source does not have.
    """
    frame = clean_frame(raw.frame).reset_index(drop=True)
    missing = [c for c in mapping.referenced_columns() if c not in frame.columns]
    if missing:
        raise SchemaError(
            mapping.source,
            f"the mapping names column(s) {missing} that the extract does not have "
            f"(it has {len(frame.columns)} columns; is the header row missing or renamed?)",
        )
    n = len(frame)
    index = frame.index
    positions = np.arange(n)
    row_numbers = np.asarray(raw.row_numbers, dtype="int64")
    quarantine = _Quarantine(mapping.source)
    today = today or dt.date.today()

    extract = (
        evaluate_field(mapping.extract_date, frame, mapping.code_maps)
        if mapping.extract_date is not None
        else _none_series(index)
    )
    extract_dates, _ = _dates(extract, mapping.date_formats, today)
    constant = extract_dates.dropna().unique()
    reference = pd.Timestamp(constant[0]).date() if len(constant) == 1 else today

    rejected = pd.Series(False, index=index)

    def reject(mask: pd.Series, reason: str, column: str | None, message: str) -> None:
        new = mask & ~rejected
        quarantine.add(positions[new.to_numpy()], "row", reason, column, message)
        rejected.loc[new] = True

    for flt in mapping.filters:
        reject(
            ~_filter_mask(flt, frame).fillna(False).astype(bool),
            "filtered",
            flt.column,
            f"excluded by the filter on {flt.column} ({flt.op})",
        )

    person_keys: dict[str, pd.Series] = {}
    person_parts: list[pd.DataFrame] = []
    for role, spec in mapping.people.items():
        ids, values = _person_fields(spec, frame, mapping)
        has_data = _identifying(values, index)
        id_col = _describe_spec(spec.id)
        if spec.optional:
            lacking_id = has_data & ids.isna() & ~rejected
            quarantine.add(
                positions[lacking_id.to_numpy()],
                "item",
                "missing_id",
                id_col,
                f"person {role!r} has details but no id; the person was left out",
            )
            present = ids.notna() & has_data
        else:
            reject(ids.isna(), "missing_id", id_col, f"no id for person {role!r}")
            reject(
                ~has_data,
                "no_identifying_data",
                None,
                f"person {role!r} has no name, date of birth, age or identifier",
            )
            present = ids.notna()
        person_keys[role] = (mapping.source + ":" + ids.astype(str)).where(present, None)
        part = pd.DataFrame(values, index=index)
        part["source_record_id"] = ids
        part["_present"] = present
        part["_name_order"] = spec.fields["full_name"].order if "full_name" in spec.fields else None
        part["_alias_split"] = (
            (spec.fields["alias_names"].split or ";") if "alias_names" in spec.fields else None
        )
        part["_sex_map"] = spec.fields["sex"].map if "sex" in spec.fields else None
        age_spec = spec.fields.get("age")
        if age_spec is not None and age_spec.at is not None:
            part["_age_at"] = evaluate_field(age_spec.at, frame, mapping.code_maps)
        person_parts.append(part)

    accepted = ~rejected
    for role in person_keys:
        person_keys[role] = person_keys[role].where(accepted, None)

    people_rows = pd.concat(
        [
            part[part["_present"] & accepted].assign(
                row_number=lambda d: row_numbers[d.index.to_numpy()],
                _position=lambda d: d.index.to_numpy(),
                extract_date=lambda d: extract_dates.reindex(d.index),
            )
            for part in person_parts
        ],
        ignore_index=True,
    )
    records = _build_records(people_rows, mapping, reference)

    events = _build_events(
        frame,
        mapping,
        vocabulary,
        person_keys,
        accepted,
        row_numbers,
        quarantine,
        reference,
    )
    relationships = _build_relationships(
        frame, mapping, person_keys, accepted, row_numbers, quarantine, reference
    )
    q = quarantine.table(frame, row_numbers, _adapter_rejects(raw))

    rows_q = int(rejected.sum()) + len(raw.rejects)
    counts = SourceCounts(
        source=mapping.source,
        rows_read=raw.rows_read,
        rows_accepted=int(accepted.sum()),
        rows_quarantined=rows_q,
        items_quarantined=int((q["scope"] == "item").sum()),
        records=len(records),
        events=len(events),
        stated_relationships=len(relationships),
        quarantine_reasons={str(k): int(v) for k, v in q["reason"].value_counts().sort_index().items()},
    )
    if counts.rows_read != counts.rows_accepted + counts.rows_quarantined:
        raise KinlinkError(
            f"source {mapping.source!r}: row accounting failed: read {counts.rows_read}, "
            f"accepted {counts.rows_accepted}, quarantined {counts.rows_quarantined}"
        )
    return SourceTables(records, events, relationships, q, counts)


def _build_events(
    frame: pd.DataFrame,
    mapping: SourceMapping,
    vocabulary: InterventionVocabulary,
    person_keys: Mapping[str, pd.Series],
    accepted: pd.Series,
    row_numbers: np.ndarray,
    quarantine: _Quarantine,
    reference: dt.date,
) -> pd.DataFrame:
    parts = []
    for k, spec in enumerate(mapping.events):
        keys = person_keys[spec.person]
        raw_type = evaluate_field(FieldSpec(**{**spec.type.__dict__, "map": None}), frame)
        mask = accepted & keys.notna() & raw_type.notna() & _passes(spec.when, frame)
        if not mask.any():
            continue
        f = frame[mask]
        typ = evaluate_field(spec.type, f, mapping.code_maps)
        # a code mapped to null is a known code that is not an intervention: no event
        ignored = pd.Series(False, index=f.index)
        if spec.type.map is not None:
            table = mapping.code_maps[spec.type.map]
            ignored = raw_type[mask].isin([c for c, v in table.items() if v is None])
        unknown = ~ignored & ~typ.isin(list(vocabulary.types))
        where = _describe_spec(spec.type)
        quarantine.add(
            f.index[unknown.to_numpy()].to_numpy(),
            "item",
            "unknown_event_code",
            where,
            f"event code in {where} is not a known intervention; event {k} of the row left out",
        )
        values = {name: evaluate_field(fs, f, mapping.code_maps) for name, fs in spec.fields.items()}
        start, _ = _dates(values.get("start_date", _none_series(f.index)), mapping.date_formats, reference)
        bad_start = ~unknown & ~ignored & start.isna()
        sd_col = _describe_spec(spec.fields["start_date"])
        quarantine.add(
            f.index[bad_start.to_numpy()].to_numpy(),
            "item",
            "invalid_event_date",
            sd_col,
            f"event {k} of the row has no readable start date in {sd_col}; event left out",
        )
        ok = ~unknown & ~ignored & ~bad_start
        if not ok.any():
            continue
        ev = pd.DataFrame(index=f.index[ok])
        rn = row_numbers[ev.index.to_numpy()]
        ev["event_id"] = [f"{mapping.source}:{r}:{k}" for r in rn]
        ev["record_key"] = keys[ok[ok].index]
        ev["source"] = mapping.source
        ev["agency"] = mapping.agency
        ev["event_type"] = typ[ok]
        ev["category"] = values.get("category", _none_series(f.index))[ok]
        ev["code_raw"] = raw_type[ev.index]
        ev["start_date"] = start[ok]
        end, _ = _dates(values.get("end_date", _none_series(f.index)), mapping.date_formats, reference)
        ev["end_date"] = end[ok]
        for name in ("role", "risk", "incident_id", "lead_practitioner"):
            ev[name] = values.get(name, _none_series(f.index))[ok]
        ev["sensitivity"] = ev["event_type"].map(
            {t: vocabulary.sensitivity(t, mapping.sensitivity.get(t)) for t in ev["event_type"].unique()}
        )
        ev["row_number"] = rn
        parts.append(ev)
    if not parts:
        return EVENTS.empty_table().to_pandas()
    events = pd.concat(parts).sort_index(kind="stable")
    for name in ("start_date", "end_date"):
        events[name] = _as_date_objects(events[name])
    return events[EVENTS.names].reset_index(drop=True)


def _endpoint_keys(
    end: Endpoint, frame: pd.DataFrame, mapping: SourceMapping, person_keys: Mapping[str, pd.Series]
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """(record_key, identifier_type, identifier, identifier_invalid) of an endpoint per row."""
    none = _none_series(frame.index)
    no = pd.Series(False, index=frame.index)
    if end.role is not None:
        return person_keys[end.role].reindex(frame.index), none, none, no
    if end.id is not None:
        ids = evaluate_field(end.id, frame, mapping.code_maps)
        return (str(end.source) + ":" + ids.astype(str)).where(ids.notna(), None), none, none, no
    assert end.value is not None and end.identifier is not None
    value = evaluate_field(end.value, frame, mapping.code_maps)
    if end.identifier == "nhs_number":
        std = standardise_nhs_number(value).rename(
            columns={"nhs_number_std": "std", "nhs_number_valid": "valid"}
        )
    else:
        std = standardise_upn(value).rename(columns={"upn_std": "std", "upn_valid": "valid"})
    ident_type = pd.Series(end.identifier, index=frame.index, dtype=object).where(std["std"].notna(), None)
    invalid = value.notna() & std["std"].isna()
    return none, ident_type, std["std"].astype(object).where(std["std"].notna(), None), invalid


def _build_relationships(
    frame: pd.DataFrame,
    mapping: SourceMapping,
    person_keys: Mapping[str, pd.Series],
    accepted: pd.Series,
    row_numbers: np.ndarray,
    quarantine: _Quarantine,
    reference: dt.date,
) -> pd.DataFrame:
    parts = []
    for k, spec in enumerate(mapping.relationships):
        mask = accepted & _passes(spec.when, frame)
        if not mask.any():
            continue
        f = frame[mask]
        from_key, _, _, _ = _endpoint_keys(spec.from_, f, mapping, person_keys)
        to_key, to_type, to_ident, to_invalid = _endpoint_keys(spec.to, f, mapping, person_keys)
        typ = evaluate_field(spec.type, f, mapping.code_maps)
        stated = from_key.notna() & (to_key.notna() | to_ident.notna() | to_invalid) & typ.notna()
        bad_ident = stated & to_invalid
        quarantine.add(
            f.index[bad_ident.to_numpy()].to_numpy(),
            "item",
            "unresolved_relationship",
            _describe_spec(spec.to.value) if spec.to.value else None,
            f"relationship {k}: the {spec.to.identifier} fails its check; relationship left out",
        )
        bad_type = stated & ~bad_ident & ~typ.isin(list(RELATIONSHIP_TYPES))
        quarantine.add(
            f.index[bad_type.to_numpy()].to_numpy(),
            "item",
            "unresolved_relationship",
            _describe_spec(spec.type),
            f"relationship {k}: type is not a known relationship type; relationship left out",
        )
        self_ref = stated & ~bad_ident & ~bad_type & (from_key == to_key)
        quarantine.add(
            f.index[self_ref.to_numpy()].to_numpy(),
            "item",
            "unresolved_relationship",
            None,
            f"relationship {k}: a record cannot be related to itself; relationship left out",
        )
        ok = stated & ~bad_ident & ~bad_type & ~self_ref
        if not ok.any():
            continue
        rel = pd.DataFrame(index=f.index[ok])
        rn = row_numbers[rel.index.to_numpy()]
        rel["relationship_id"] = [f"{mapping.source}:{r}:{k}" for r in rn]
        rel["source"] = mapping.source
        rel["from_record_key"] = from_key[ok]
        rel["to_record_key"] = to_key[ok]
        rel["to_identifier_type"] = to_type[ok]
        rel["to_identifier"] = to_ident[ok]
        rel["relationship_type"] = typ[ok]
        for name in ("start_date", "end_date"):
            spec_f = spec.fields.get(name)
            value = evaluate_field(spec_f, f, mapping.code_maps) if spec_f else _none_series(f.index)
            rel[name], _ = _dates(value[ok], mapping.date_formats, reference)
        inc = spec.fields.get("incident_id")
        rel["incident_id"] = (evaluate_field(inc, f, mapping.code_maps) if inc else _none_series(f.index))[ok]
        rel["row_number"] = rn
        parts.append(rel)
    if not parts:
        return STATED_RELATIONSHIPS.empty_table().to_pandas()
    rels = pd.concat(parts).sort_index(kind="stable")
    for name in ("start_date", "end_date"):
        rels[name] = _as_date_objects(rels[name])
    return rels[STATED_RELATIONSHIPS.names].reset_index(drop=True)
