"""The canonical schema: every table ingest writes, as Arrow schemas, every column documented.

This module is the one place the columns are named. Other stages import the schemas
from here; the README links to :func:`describe` output.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import pyarrow as pa

from ingest.errors import SchemaError

__all__ = [
    "CONFLICT_RULES",
    "EVENTS",
    "FAMILIES",
    "FAMILY_ROLES",
    "HOUSEHOLDS",
    "INTERVENTIONS",
    "PERSONS",
    "PERSON_INDEX",
    "QUALITY_FLAGS",
    "QUARANTINE",
    "QUARANTINE_REASONS",
    "RECORDS",
    "RELATIONSHIPS",
    "RELATIONSHIP_CONFLICTS",
    "RELATIONSHIP_TYPES",
    "STATED_RELATIONSHIPS",
    "TABLES",
    "UNDIRECTED_RELATIONSHIPS",
    "describe",
    "empty_table",
    "to_arrow",
]


def _col(name: str, dtype: pa.DataType, doc: str, *, nullable: bool = True) -> pa.Field:
    return pa.field(name, dtype, nullable=nullable, metadata={"doc": doc})


_STR = pa.string()
_DATE = pa.date32()
_BOOL = pa.bool_()
_INT = pa.int64()
_STR_LIST = pa.list_(pa.string())

RECORDS = pa.schema(
    [
        _col("record_key", _STR, "Stable key `source:source_record_id`; unique.", nullable=False),
        _col("source", _STR, "Source name from the mapping (e.g. `csc`).", nullable=False),
        _col("source_record_id", _STR, "The source's own id for this person-record.", nullable=False),
        _col("row_number", _INT, "First data row (1-based) of the source that gave the record."),
        _col("extract_date", _DATE, "Date the agency extract was taken ('data as at')."),
        _col("agency", _STR, "Agency that holds the record (e.g. `police`)."),
        _col("given_name", _STR, "First name as recorded (whitespace tidied)."),
        _col("middle_names", _STR, "Middle names as recorded, space separated."),
        _col("family_name", _STR, "Family name (surname) as recorded."),
        _col("alias_names", _STR_LIST, "Former, birth and alias family names as recorded."),
        _col(
            "given_name_std",
            _STR,
            "Given name for matching: upper case, accents folded, no titles.",
        ),
        _col("middle_names_std", _STR, "Middle names for matching."),
        _col("family_name_std", _STR, "Family name for matching; hyphens kept, apostrophes removed."),
        _col("alias_names_std", _STR_LIST, "Alias family names for matching."),
        _col("dob", _DATE, "Date of birth (null when absent or impossible)."),
        _col("dob_estimated", _BOOL, "True when `dob` was estimated from a recorded age."),
        _col("dod", _DATE, "Date of death where the source records one."),
        _col("sex", _STR, "Sex: `M`, `F`, `X` (other/indeterminate) or null (unknown)."),
        _col("nhs_number", _STR, "NHS number as recorded."),
        _col("nhs_number_std", _STR, "Ten digits when the modulus 11 check passes, else null."),
        _col("nhs_number_valid", _BOOL, "Check result; null when no number was recorded."),
        _col("upn", _STR, "Unique Pupil Number as recorded."),
        _col("upn_std", _STR, "Thirteen characters when the check letter is right, else null."),
        _col("upn_valid", _BOOL, "Check result; null when no UPN was recorded."),
        _col("uprn", _STR, "Unique Property Reference Number of the address, digits only."),
        _col("address", _STR, "Address lines as recorded, comma separated."),
        _col("address_std", _STR, "Address for matching: upper case, punctuation folded."),
        _col("postcode", _STR, "Postcode as recorded."),
        _col("postcode_std", _STR, "Valid UK postcode in `AA9A 9AA` form, else null."),
        _col("postcode_sector", _STR, "Postcode sector (`AA9A 9`)."),
        _col("postcode_district", _STR, "Postcode district (`AA9A`)."),
        _col("postcode_valid", _BOOL, "Format check result; null when none was recorded."),
        _col("address_from", _DATE, "Date the person is recorded as living at the address from."),
        _col("address_to", _DATE, "Date the person left the address, where known."),
        _col(
            "address_seen",
            _DATE,
            "Date the source saw the person at the address (census, incident, contact date).",
        ),
        _col("household_ref", _STR, "Source-scoped household/tenancy reference (`source:ref`)."),
        _col(
            "quality_flags",
            _STR_LIST,
            "Field problems kept rather than rejected (see QUALITY_FLAGS).",
        ),
    ]
)

EVENTS = pa.schema(
    [
        _col("event_id", _STR, "Stable id `source:source_row:n`; unique.", nullable=False),
        _col("record_key", _STR, "The person-record the event belongs to.", nullable=False),
        _col("source", _STR, "Source name.", nullable=False),
        _col("agency", _STR, "Agency that recorded the event."),
        _col("event_type", _STR, "Key in `config/interventions.yaml`.", nullable=False),
        _col("category", _STR, "Sub-category (e.g. CP category `neglect`, exclusion kind)."),
        _col("code_raw", _STR, "The agency's own code the type was mapped from."),
        _col("start_date", _DATE, "Start (or incident) date."),
        _col("end_date", _DATE, "End date; null while open."),
        _col("role", _STR, "Person's role in the event: subject, victim, perpetrator, ..."),
        _col("risk", _STR, "Risk grading where recorded (e.g. DASH standard/medium/high)."),
        _col("incident_id", _STR, "Source-scoped incident or episode reference."),
        _col("lead_practitioner", _STR, "Allocated worker or lead professional, as recorded."),
        _col(
            "sensitivity",
            _STR,
            "standard | sensitive | restricted (vocabulary default or mapping).",
        ),
        _col("row_number", _INT, "Source data row (1-based) the event came from."),
    ]
)

STATED_RELATIONSHIPS = pa.schema(
    [
        _col("relationship_id", _STR, "Stable id `source:row:n`; unique.", nullable=False),
        _col("source", _STR, "Source that states the relationship.", nullable=False),
        _col("from_record_key", _STR, "The record the relationship is read from.", nullable=False),
        _col("to_record_key", _STR, "The other record, when the source names it by record."),
        _col(
            "to_identifier_type",
            _STR,
            "`nhs_number` or `upn` when the other person is named only by identifier.",
        ),
        _col("to_identifier", _STR, "That identifier, standardised (valid ones only)."),
        _col(
            "relationship_type",
            _STR,
            "One of RELATIONSHIP_TYPES, read 'from is <type> of to'.",
            nullable=False,
        ),
        _col("start_date", _DATE, "From when the source says it held."),
        _col("end_date", _DATE, "Until when, where stated."),
        _col(
            "incident_id",
            _STR,
            "Incident that states it (e.g. victim and perpetrator of one DA incident).",
        ),
        _col("row_number", _INT, "Source data row (1-based)."),
    ]
)

QUARANTINE = pa.schema(
    [
        _col("source", _STR, "Source name.", nullable=False),
        _col("row_number", _INT, "Source data row (1-based; for CSV the record, not the line)."),
        _col(
            "scope",
            _STR,
            "`row`: the whole row was rejected; `item`: one event/person/relationship of an accepted row.",
            nullable=False,
        ),
        _col("reason", _STR, "Reason code (see QUARANTINE_REASONS).", nullable=False),
        _col("column", _STR, "Column at fault, where one is."),
        _col("message", _STR, "What was wrong, in words; never contains the values.", nullable=False),
        _col("raw", _STR, "The raw row as JSON (column to value), for correction at source."),
    ]
)

PERSON_INDEX = pa.schema(
    [
        _col("record_key", _STR, "A record (see `records`).", nullable=False),
        _col("person_id", _STR, "The person it belongs to; stable from run to run.", nullable=False),
        _col(
            "cluster_confidence",
            pa.float64(),
            "Weakest match probability holding the person's records together (1 alone).",
        ),
    ]
)

PERSONS = pa.schema(
    [
        _col("person_id", _STR, "Stable person id (reveals nothing of the records).", nullable=False),
        _col("given_name", _STR, "Most common given name across the person's records, as recorded."),
        _col("middle_names", _STR, "Most common middle names."),
        _col("family_name", _STR, "Most common family name."),
        _col("sex", _STR, "Most common sex code."),
        _col("postcode", _STR, "Most common valid postcode."),
        _col("nhs_number", _STR, "Most common valid NHS number."),
        _col("upn", _STR, "Most common valid UPN."),
        _col("dob", _DATE, "Most common real date of birth, else the most common estimate."),
        _col("dob_estimated", _BOOL, "True when no record gives a real date of birth."),
        _col("dob_conflict", _BOOL, "True when the records give more than one real date of birth."),
        _col("dod", _DATE, "Date of death, where recorded."),
        _col("sources", _STR_LIST, "Sources holding a record of the person."),
        _col("record_count", _INT, "Number of records."),
        _col("cluster_confidence", pa.float64(), "As in `person_index`."),
    ]
)

RELATIONSHIPS = pa.schema(
    [
        _col(
            "relationship_id",
            _STR,
            "Stable id of the relationship (`R` + hash of its ends and type).",
            nullable=False,
        ),
        _col("person_id_from", _STR, "Person the relationship is read from.", nullable=False),
        _col("person_id_to", _STR, "The other person.", nullable=False),
        _col(
            "relationship_type",
            _STR,
            "One of RELATIONSHIP_TYPES, read 'from is <type> of to'; undirected types have from < to.",
            nullable=False,
        ),
        _col(
            "directed",
            _BOOL,
            "False for the undirected types (partners, siblings, household).",
            nullable=False,
        ),
        _col("start_date", _DATE, "Earliest date the evidence gives for it (e.g. first incident)."),
        _col("end_date", _DATE, "Latest end date the evidence gives (e.g. last incident); null while open."),
        _col("basis", _STR, "`stated` by a source, `derived` from other relationships, or `co_residence`."),
        _col(
            "confidence",
            pa.float64(),
            "0-1: evidence combined, times the weaker person's cluster confidence.",
        ),
        _col("sources", _STR_LIST, "Sources whose records give the evidence."),
        _col("evidence", _STR_LIST, "Stated relationship ids, or the relationship ids it was derived from."),
        _col("incident_ids", _STR_LIST, "Incidents recorded on it (domestic abuse), source-scoped."),
    ]
)

RELATIONSHIP_CONFLICTS = pa.schema(
    [
        _col("person_id_from", _STR, "Person the rejected relationship was read from."),
        _col("person_id_to", _STR, "The other person."),
        _col("relationship_type", _STR, "The type that was stated or derived.", nullable=False),
        _col("rule", _STR, "Rule that rejected it (see CONFLICT_RULES).", nullable=False),
        _col(
            "message", _STR, "What conflicted, in words; never names, dates or identifiers.", nullable=False
        ),
        _col("sources", _STR_LIST, "Sources of the rejected evidence."),
        _col("evidence", _STR_LIST, "Stated relationship ids of the rejected evidence."),
    ]
)

HOUSEHOLDS = pa.schema(
    [
        _col(
            "household_id",
            _STR,
            "Stable id of one address (`H` + keyed hash of the address key).",
            nullable=False,
        ),
        _col("person_id", _STR, "A person recorded at the address.", nullable=False),
        _col("address", _STR, "The address as most often recorded."),
        _col("postcode", _STR, "Its standard postcode."),
        _col("start_date", _DATE, "Earliest date the records place the person there."),
        _col("end_date", _DATE, "When the person left, where recorded; else the last date seen there."),
        _col("current", _BOOL, "True for the person's latest known address.", nullable=False),
        _col("sources", _STR_LIST, "Sources placing the person there."),
    ]
)

FAMILIES = pa.schema(
    [
        _col("family_id", _STR, "Stable family id (`F` + hash), kept from run to run.", nullable=False),
        _col("person_id", _STR, "A member.", nullable=False),
        _col("role", _STR, "Membership role (see FAMILY_ROLES).", nullable=False),
        _col("household_id", _STR, "The member's current household (see `households`), where known."),
        _col(
            "confidence",
            pa.float64(),
            "Confidence of the relationship that brought the member in (1 for children).",
        ),
    ]
)

INTERVENTIONS = pa.schema(
    [
        _col("intervention_id", _STR, "Stable id (`I` + hash of its first event id).", nullable=False),
        _col("person_id", _STR, "The person.", nullable=False),
        _col("event_type", _STR, "Key in `config/interventions.yaml`.", nullable=False),
        _col("category", _STR, "Sub-category, as in `events`."),
        _col("start_date", _DATE, "Start (or incident) date."),
        _col("end_date", _DATE, "End date; null while open."),
        _col("role", _STR, "Person's role: subject, victim, perpetrator, ..."),
        _col("risk", _STR, "Highest risk grading recorded."),
        _col("incident_ids", _STR_LIST, "Source-scoped incident or episode references."),
        _col("lead_practitioner", _STR, "Allocated worker, as recorded (latest)."),
        _col("sensitivity", _STR, "Highest sensitivity of the events merged."),
        _col("agencies", _STR_LIST, "Agencies that report it."),
        _col("sources", _STR_LIST, "Sources that report it."),
        _col(
            "event_ids",
            _STR_LIST,
            "The `events` rows merged into it (several when agencies report one episode).",
        ),
    ]
)

TABLES: dict[str, pa.Schema] = {
    "records": RECORDS,
    "events": EVENTS,
    "stated_relationships": STATED_RELATIONSHIPS,
    "quarantine": QUARANTINE,
    "person_index": PERSON_INDEX,
    "persons": PERSONS,
    "relationships": RELATIONSHIPS,
    "relationship_conflicts": RELATIONSHIP_CONFLICTS,
    "households": HOUSEHOLDS,
    "families": FAMILIES,
    "interventions": INTERVENTIONS,
}

RELATIONSHIP_TYPES: dict[str, str] = {
    "mother": "from is the (birth) mother of to",
    "father": "from is the (birth) father of to",
    "parent": "from is a parent of to, sex or kind not stated",
    "step_parent": "from is a step-parent of to",
    "adoptive_parent": "from is an adoptive parent of to",
    "foster_carer": "from is a foster carer of to",
    "carer": "from cares for to (kinship, special guardian, other)",
    "parental_responsibility": "from holds parental responsibility for to",
    "grandparent": "from is a grandparent of to",
    "partner": "from and to are partners (undirected)",
    "spouse": "from and to are married or civil partners (undirected)",
    "ex_partner": "from and to were partners (undirected)",
    "sibling": "from and to are siblings (undirected); full siblings when derived from two shared parents",
    "half_sibling": "from and to share exactly one parent (undirected)",
    "household_member": "from and to live in one household (undirected)",
    "perpetrator_of_abuse_against": "from is the alleged perpetrator in an incident where to is the victim",
}
UNDIRECTED_RELATIONSHIPS = frozenset(
    {"partner", "spouse", "ex_partner", "sibling", "half_sibling", "household_member"}
)

FAMILY_ROLES: dict[str, str] = {
    "child": "a child the family forms around (under 18 at some time in the data window)",
    "parent": "a birth, adoptive or unspecified parent of a child of the family",
    "step_parent": "a step-parent of a child of the family",
    "carer": "a foster carer, kinship carer or holder of parental responsibility",
    "parent_partner": "a current or former partner of a parent",
    "grandparent": "a parent of a parent",
}

CONFLICT_RULES: dict[str, str] = {
    "unlinked_record": "a record the relationship names is not in person_index (link first)",
    "same_person": "both ends are one person (a linkage merge or an identifier recorded on the wrong person)",
    "ambiguous_identifier": "the identifier named as the other end belongs to more than one person",
    "unknown_identifier": "no person holds the identifier named as the other end",
    "implausible_parent_age": "the parent is not 12 to 70 years older than the child",
    "too_many_parents": "more than one mother, one father or two birth parents; the best supported are kept",
    "ancestor_cycle": "the parent-child links would make someone their own ancestor",
    "parent_and_partner": "stated both as parent and child and as partners; the parentage is kept",
}

QUALITY_FLAGS: dict[str, str] = {
    "dob_invalid": "a date of birth was recorded but is impossible or unparseable",
    "dob_future": "the date of birth is after the extract date",
    "dob_from_age": "the date of birth was estimated from a recorded age",
    "dod_invalid": "a date of death was recorded but could not be read",
    "nhs_number_invalid": "an NHS number was recorded but fails the modulus 11 check",
    "upn_invalid": "a UPN was recorded but its check letter is wrong",
    "postcode_invalid": "a postcode was recorded but is not a valid UK postcode",
    "sex_unmapped": "a sex code was recorded that the mapping does not know",
    "name_from_full_name": "the name parts were split from one full-name column",
}

QUARANTINE_REASONS: dict[str, str] = {
    "malformed_row": "the file's row could not be parsed (wrong field count, broken quoting)",
    "filtered": "the mapping's row filters exclude the row",
    "missing_id": "no source record id could be formed",
    "no_identifying_data": "neither a name nor a date of birth nor an identifier",
    "conflicting_duplicate": "the same record id appears again with a different person",
    "unknown_event_code": "the event code is not in the mapping's code map",
    "invalid_event_date": "the event has no readable start date",
    "unresolved_relationship": "a relationship names a person the row or source does not hold",
    "oversized_field": "a value is longer than the mapping allows",
}


def empty_table(name: str) -> pa.Table:
    """An empty Arrow table of canonical table ``name``."""
    return TABLES[name].empty_table()


def to_arrow(name: str, frame: pd.DataFrame) -> pa.Table:
    """Convert a DataFrame to canonical table ``name``, in schema order, checking columns.

    Raises
    ------
    SchemaError
        If a column of the schema is missing from ``frame`` or one is extra.
    """
    schema = TABLES[name]
    missing = [f for f in schema.names if f not in frame.columns]
    extra = [c for c in frame.columns if c not in schema.names]
    if missing or extra:
        raise SchemaError(name, f"table columns do not fit the schema: missing {missing}, extra {extra}")
    return pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)


def describe(schemas: Mapping[str, pa.Schema] = TABLES) -> str:
    """Markdown documentation of the canonical tables, generated from the schemas."""
    lines: list[str] = []
    for table, schema in schemas.items():
        lines += [f"### `{table}`", "", "| column | type | meaning |", "|---|---|---|"]
        for field in schema:
            doc = (field.metadata or {}).get(b"doc", b"").decode()
            lines.append(f"| `{field.name}` | {field.type} | {doc} |")
        lines.append("")
    return "\n".join(lines)
