"""Source mappings: the typed form of `config/sources/*.yaml` (format in its README).

Every class is a frozen dataclass built by ``from_dict`` (validated, with messages that
name the source and the key) and written back by ``to_dict``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ingest.adapters import InputSpec
from ingest.errors import SettingsError
from ingest.schema import RELATIONSHIP_TYPES

__all__ = [
    "DEFAULT_DATE_FORMATS",
    "Endpoint",
    "EventSpec",
    "FieldSpec",
    "Filter",
    "PersonSpec",
    "RelationshipSpec",
    "SourceMapping",
    "load_mapping",
]

DEFAULT_DATE_FORMATS: tuple[str, ...] = ("%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d", "%d-%b-%Y", "%d %b %Y")

PERSON_FIELDS = (
    "given_name",
    "middle_names",
    "family_name",
    "full_name",
    "alias_names",
    "dob",
    "age",
    "dod",
    "sex",
    "nhs_number",
    "upn",
    "uprn",
    "address",
    "postcode",
    "address_from",
    "address_to",
    "address_seen",
    "household_ref",
)
EVENT_FIELDS = (
    "category",
    "start_date",
    "end_date",
    "role",
    "risk",
    "incident_id",
    "lead_practitioner",
)
IDENTIFIER_TYPES = ("nhs_number", "upn")


def _fail(where: str, message: str) -> SettingsError:
    return SettingsError(f"{where}: {message}")


def _check_keys(d: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    if not isinstance(d, Mapping):
        raise _fail(where, f"expected a mapping, got {type(d).__name__}")
    unknown = sorted(set(d) - set(allowed))
    if unknown:
        raise _fail(where, f"unknown key(s) {unknown}; allowed: {sorted(allowed)}")


@dataclass(frozen=True)
class FieldSpec:
    """Where one value comes from: a column, joined columns, a template or a constant."""

    column: str | None = None
    columns: tuple[str, ...] = ()
    sep: str = ", "
    template: str | None = None
    value: Any = None
    map: str | None = None
    default: str | None = None
    # options used by particular fields
    order: str | None = None  # full_name: family_first | given_first
    split: str | None = None  # alias_names
    at: FieldSpec | None = None  # age: the date the age was recorded at

    _KEYS = (
        "column",
        "columns",
        "sep",
        "template",
        "value",
        "map",
        "default",
        "order",
        "split",
        "at",
    )

    @classmethod
    def from_dict(cls, d: Any, where: str) -> FieldSpec:
        if isinstance(d, str):
            return cls(column=d)
        if isinstance(d, (int, float, bool, dt.date)) and not isinstance(d, bool):
            return cls(value=str(d))
        _check_keys(d, cls._KEYS, where)
        kinds = [k for k in ("column", "columns", "template", "value") if k in d]
        if len(kinds) != 1:
            raise _fail(where, "give exactly one of column, columns, template, value")
        order = d.get("order")
        if order not in (None, "family_first", "given_first"):
            raise _fail(f"{where}.order", f"must be family_first or given_first, not {order!r}")
        return cls(
            column=d.get("column"),
            columns=tuple(d.get("columns", ())),
            sep=d.get("sep", ", "),
            template=d.get("template"),
            value=None if d.get("value") is None else str(d["value"]),
            map=d.get("map"),
            default=None if d.get("default") is None else str(d["default"]),
            order=order,
            split=d.get("split"),
            at=cls.from_dict(d["at"], f"{where}.at") if "at" in d else None,
        )

    def to_dict(self) -> dict[str, Any] | str:
        out: dict[str, Any] = {}
        if self.column is not None:
            out["column"] = self.column
        if self.columns:
            out["columns"] = list(self.columns)
            if self.sep != ", ":
                out["sep"] = self.sep
        if self.template is not None:
            out["template"] = self.template
        if self.value is not None:
            out["value"] = self.value
        for key in ("map", "default", "order", "split"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.at is not None:
            out["at"] = self.at.to_dict()
        if list(out) == ["column"]:
            return out["column"]
        return out

    def referenced_columns(self) -> list[str]:
        """Every column of the source this spec reads."""
        cols = [self.column] if self.column else []
        cols += list(self.columns)
        if self.template:
            import string

            cols += [name for _, name, _, _ in string.Formatter().parse(self.template) if name]
        if self.at is not None:
            cols += self.at.referenced_columns()
        return cols


@dataclass(frozen=True)
class Filter:
    """A condition on one column: equals, not_equals, in, not_in, not_null or is_null."""

    column: str
    op: str
    values: tuple[str, ...] = ()

    _OPS = ("equals", "not_equals", "in", "not_in", "not_null", "is_null")

    @classmethod
    def from_dict(cls, d: Any, where: str) -> Filter:
        _check_keys(d, ("column", *cls._OPS), where)
        if "column" not in d:
            raise _fail(where, "a filter needs a column")
        ops = [k for k in cls._OPS if k in d]
        if len(ops) != 1:
            raise _fail(where, f"give exactly one of {list(cls._OPS)}")
        op = ops[0]
        raw = d[op]
        if op in ("in", "not_in"):
            if not isinstance(raw, list):
                raise _fail(f"{where}.{op}", "must be a list")
            values = tuple(str(v) for v in raw)
        elif op in ("equals", "not_equals"):
            values = (str(raw),)
        else:
            values = ()
        return cls(column=str(d["column"]), op=op, values=values)

    def to_dict(self) -> dict[str, Any]:
        if self.op in ("in", "not_in"):
            return {"column": self.column, self.op: list(self.values)}
        if self.op in ("equals", "not_equals"):
            return {"column": self.column, self.op: self.values[0]}
        return {"column": self.column, self.op: True}


@dataclass(frozen=True)
class PersonSpec:
    """How one person named by a row becomes a record."""

    role: str
    id: FieldSpec
    fields: Mapping[str, FieldSpec] = field(default_factory=dict)
    optional: bool = False

    @classmethod
    def from_dict(cls, role: str, d: Any, where: str) -> PersonSpec:
        _check_keys(d, ("id", "optional", *PERSON_FIELDS), where)
        if "id" not in d:
            raise _fail(where, "a person needs an id")
        fields = {k: FieldSpec.from_dict(v, f"{where}.{k}") for k, v in d.items() if k in PERSON_FIELDS}
        if "full_name" in fields and fields["full_name"].order is None:
            raise _fail(f"{where}.full_name", "say order: family_first or given_first")
        return cls(
            role=role,
            id=FieldSpec.from_dict(d["id"], f"{where}.id"),
            fields=fields,
            optional=bool(d.get("optional", False)),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id.to_dict()}
        if self.optional:
            out["optional"] = True
        out.update({k: v.to_dict() for k, v in self.fields.items()})
        return out


@dataclass(frozen=True)
class EventSpec:
    """How a row yields one event for one of its people."""

    person: str
    type: FieldSpec
    fields: Mapping[str, FieldSpec] = field(default_factory=dict)
    when: tuple[Filter, ...] = ()

    @classmethod
    def from_dict(cls, d: Any, where: str) -> EventSpec:
        _check_keys(d, ("person", "type", "when", *EVENT_FIELDS), where)
        for key in ("person", "type", "start_date"):
            if key not in d:
                raise _fail(where, f"an event needs {key}")
        return cls(
            person=str(d["person"]),
            type=FieldSpec.from_dict(d["type"], f"{where}.type"),
            fields={k: FieldSpec.from_dict(v, f"{where}.{k}") for k, v in d.items() if k in EVENT_FIELDS},
            when=_filters(d.get("when"), f"{where}.when"),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"person": self.person, "type": self.type.to_dict()}
        out.update({k: v.to_dict() for k, v in self.fields.items()})
        if self.when:
            out["when"] = [f.to_dict() for f in self.when]
        return out


@dataclass(frozen=True)
class Endpoint:
    """One end of a stated relationship: a role of the row, a record of a source, or an identifier."""

    role: str | None = None
    source: str | None = None
    id: FieldSpec | None = None
    identifier: str | None = None
    value: FieldSpec | None = None

    @classmethod
    def from_dict(cls, d: Any, where: str, this_source: str) -> Endpoint:
        if isinstance(d, str):
            return cls(role=d)
        _check_keys(d, ("source", "id", "identifier", "value"), where)
        if "id" in d:
            return cls(
                source=str(d.get("source", this_source)),
                id=FieldSpec.from_dict(d["id"], f"{where}.id"),
            )
        if "identifier" in d:
            if d["identifier"] not in IDENTIFIER_TYPES:
                raise _fail(f"{where}.identifier", f"must be one of {list(IDENTIFIER_TYPES)}")
            if "value" not in d:
                raise _fail(where, "an identifier endpoint needs a value")
            return cls(identifier=d["identifier"], value=FieldSpec.from_dict(d["value"], f"{where}.value"))
        raise _fail(where, "give a role name, {source, id} or {identifier, value}")

    def to_dict(self) -> dict[str, Any] | str:
        if self.role is not None:
            return self.role
        if self.id is not None:
            return {"source": self.source, "id": self.id.to_dict()}
        assert self.value is not None  # narrowed by from_dict
        return {"identifier": self.identifier, "value": self.value.to_dict()}


@dataclass(frozen=True)
class RelationshipSpec:
    """How a row states a relationship between two people."""

    from_: Endpoint
    to: Endpoint
    type: FieldSpec
    fields: Mapping[str, FieldSpec] = field(default_factory=dict)
    when: tuple[Filter, ...] = ()

    _FIELDS = ("start_date", "end_date", "incident_id")

    @classmethod
    def from_dict(cls, d: Any, where: str, this_source: str) -> RelationshipSpec:
        _check_keys(d, ("from", "to", "type", "when", *cls._FIELDS), where)
        for key in ("from", "to", "type"):
            if key not in d:
                raise _fail(where, f"a relationship needs {key}")
        spec = cls(
            from_=Endpoint.from_dict(d["from"], f"{where}.from", this_source),
            to=Endpoint.from_dict(d["to"], f"{where}.to", this_source),
            type=FieldSpec.from_dict(d["type"], f"{where}.type"),
            fields={k: FieldSpec.from_dict(v, f"{where}.{k}") for k, v in d.items() if k in cls._FIELDS},
            when=_filters(d.get("when"), f"{where}.when"),
        )
        if spec.from_.identifier is not None:
            raise _fail(f"{where}.from", "the from end must be a person of the row or a record")
        if spec.type.value is not None and spec.type.value not in RELATIONSHIP_TYPES:
            raise _fail(f"{where}.type", f"{spec.type.value!r} is not one of {sorted(RELATIONSHIP_TYPES)}")
        return spec

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "from": self.from_.to_dict(),
            "to": self.to.to_dict(),
            "type": self.type.to_dict(),
        }
        out.update({k: v.to_dict() for k, v in self.fields.items()})
        if self.when:
            out["when"] = [f.to_dict() for f in self.when]
        return out


def _extract_date(raw: Any, where: str) -> FieldSpec | None:
    """A date (YAML date or ISO text) is a constant; anything else is a field spec."""
    if raw is None:
        return None
    if isinstance(raw, dt.date):
        return FieldSpec(value=raw.isoformat())
    if isinstance(raw, str):
        try:
            return FieldSpec(value=dt.date.fromisoformat(raw).isoformat())
        except ValueError:
            pass
    return FieldSpec.from_dict(raw, where)


def _filters(raw: Any, where: str) -> tuple[Filter, ...]:
    if raw is None:
        return ()
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list):
        raise _fail(where, "must be a filter or a list of filters")
    return tuple(Filter.from_dict(f, f"{where}[{i}]") for i, f in enumerate(raw))


@dataclass(frozen=True)
class SourceMapping:
    """One agency source: where it is, how to read it, and how rows become canonical tables."""

    source: str
    input: InputSpec
    people: Mapping[str, PersonSpec]
    agency: str | None = None
    description: str | None = None
    extract_date: FieldSpec | None = None
    date_formats: tuple[str, ...] = DEFAULT_DATE_FORMATS
    max_field_length: int = 1000
    filters: tuple[Filter, ...] = ()
    code_maps: Mapping[str, Mapping[str, str | None]] = field(default_factory=dict)
    sensitivity: Mapping[str, str] = field(default_factory=dict)
    events: tuple[EventSpec, ...] = ()
    relationships: tuple[RelationshipSpec, ...] = ()

    _KEYS = (
        "source",
        "agency",
        "description",
        "input",
        "extract_date",
        "date_formats",
        "max_field_length",
        "filters",
        "code_maps",
        "sensitivity",
        "people",
        "events",
        "relationships",
    )

    @classmethod
    def from_dict(cls, d: Any, where: str = "mapping") -> SourceMapping:
        _check_keys(d, cls._KEYS, where)
        source = d.get("source")
        if not isinstance(source, str) or not source.replace("_", "").isalnum() or not source:
            raise _fail(where, "source must be a name of letters, digits and underscores")
        where = f"source {source!r}"
        for key in ("input", "people"):
            if key not in d:
                raise _fail(where, f"missing required key {key!r}")
        people_raw = d["people"]
        if not isinstance(people_raw, Mapping) or not people_raw:
            raise _fail(f"{where}.people", "must map at least one role to a person spec")
        people = {
            str(r): PersonSpec.from_dict(str(r), p, f"{where}.people.{r}") for r, p in people_raw.items()
        }
        code_maps_raw = d.get("code_maps") or {}
        _check_keys(code_maps_raw, list(code_maps_raw), f"{where}.code_maps")
        code_maps = {
            str(name): {str(k): (None if v is None else str(v)) for k, v in (m or {}).items()}
            for name, m in code_maps_raw.items()
        }
        mapping = cls(
            source=source,
            agency=d.get("agency"),
            description=d.get("description"),
            input=InputSpec.from_dict(d["input"], source=source),
            extract_date=_extract_date(d.get("extract_date"), f"{where}.extract_date"),
            date_formats=tuple(d.get("date_formats") or DEFAULT_DATE_FORMATS),
            max_field_length=int(d.get("max_field_length", 1000)),
            filters=_filters(d.get("filters"), f"{where}.filters"),
            code_maps=code_maps,
            sensitivity={str(k): str(v) for k, v in (d.get("sensitivity") or {}).items()},
            people=people,
            events=tuple(
                EventSpec.from_dict(e, f"{where}.events[{i}]") for i, e in enumerate(d.get("events") or [])
            ),
            relationships=tuple(
                RelationshipSpec.from_dict(r, f"{where}.relationships[{i}]", source)
                for i, r in enumerate(d.get("relationships") or [])
            ),
        )
        mapping._check_references(where)
        return mapping

    def _check_references(self, where: str) -> None:
        for spec in self._all_field_specs():
            if spec.map is not None and spec.map not in self.code_maps:
                raise _fail(where, f"map {spec.map!r} is not defined under code_maps")
        for i, ev in enumerate(self.events):
            if ev.person not in self.people:
                raise _fail(
                    f"{where}.events[{i}].person",
                    f"{ev.person!r} is not one of the people {sorted(self.people)}",
                )
        for i, rel in enumerate(self.relationships):
            for end_name, end in (("from", rel.from_), ("to", rel.to)):
                if end.role is not None and end.role not in self.people:
                    raise _fail(
                        f"{where}.relationships[{i}].{end_name}",
                        f"{end.role!r} is not one of the people {sorted(self.people)}",
                    )
        for level in self.sensitivity.values():
            if level not in ("standard", "sensitive", "restricted"):
                raise _fail(f"{where}.sensitivity", f"{level!r} is not standard, sensitive or restricted")

    def _all_field_specs(self) -> list[FieldSpec]:
        specs: list[FieldSpec] = []
        if self.extract_date is not None:
            specs.append(self.extract_date)
        for p in self.people.values():
            specs += [p.id, *p.fields.values()]
        for e in self.events:
            specs += [e.type, *e.fields.values()]
        for r in self.relationships:
            specs += [r.type, *r.fields.values()]
            for end in (r.from_, r.to):
                specs += [s for s in (end.id, end.value) if s is not None]
        return specs

    def referenced_columns(self) -> list[str]:
        """Every source column the mapping reads, in first-use order."""
        cols: list[str] = []
        for spec in self._all_field_specs():
            cols += spec.referenced_columns()
        for flt in self.filters:
            cols.append(flt.column)
        for when in [e.when for e in self.events] + [r.when for r in self.relationships]:
            cols += [f.column for f in when]
        return list(dict.fromkeys(cols))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source}
        if self.agency:
            out["agency"] = self.agency
        if self.description:
            out["description"] = self.description
        out["input"] = self.input.to_dict()
        if self.extract_date is not None:
            out["extract_date"] = self.extract_date.to_dict()
        out["date_formats"] = list(self.date_formats)
        out["max_field_length"] = self.max_field_length
        if self.filters:
            out["filters"] = [f.to_dict() for f in self.filters]
        if self.code_maps:
            out["code_maps"] = {k: dict(v) for k, v in self.code_maps.items()}
        if self.sensitivity:
            out["sensitivity"] = dict(self.sensitivity)
        out["people"] = {r: p.to_dict() for r, p in self.people.items()}
        if self.events:
            out["events"] = [e.to_dict() for e in self.events]
        if self.relationships:
            out["relationships"] = [r.to_dict() for r in self.relationships]
        return out


def load_mapping(path: Path | str) -> SourceMapping:
    """Read and validate one mapping YAML file.

    Raises
    ------
    SettingsError
        If the file is missing, is not YAML, or does not describe a valid mapping.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingsError(f"mapping file not found: {path}") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise SettingsError(f"{path}: not valid YAML{where}") from None
    try:
        return SourceMapping.from_dict(doc, where=str(path))
    except SettingsError as exc:
        raise SettingsError(f"{path}: {exc}") from None
