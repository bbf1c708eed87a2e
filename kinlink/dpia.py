"""What a configured kinlink run processes, as Markdown: a starting point for a DPIA.

:func:`describe_processing` reads only configuration (the pipeline file, the source
mappings, the intervention vocabulary, the family settings and the access policy), never
data, and says: which sources are read and which of their columns become which canonical
fields; which special categories of data and criminal offence data that brings in; that the
data is about children and victims of domestic abuse; which roles may see what, for which
purposes; and what the workspace keeps. The lawful basis, necessity, risks and retention
periods are the authority's to decide with its Data Protection Officer; the document leaves
those sections for them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from genogram.access import AccessPolicy, load_policy
from ingest.mapping import FieldSpec, SourceMapping
from ingest.schema import TABLES
from ingest.sources import load_mappings
from ingest.vocabulary import InterventionVocabulary, load_vocabulary
from kinlink import __version__
from kinlink.pipeline import PipelineConfig
from linkage.family_settings import FamilySettings

__all__ = ["DOMAIN_CATEGORIES", "FIELD_CATEGORIES", "describe_processing"]

#: Personal data each canonical person field holds.
FIELD_CATEGORIES: dict[str, str] = {
    "given_name": "name",
    "middle_names": "name",
    "family_name": "name",
    "full_name": "name",
    "alias_names": "former and alias names",
    "dob": "date of birth",
    "age": "age (a date of birth is estimated from it)",
    "dod": "date of death",
    "sex": "sex",
    "nhs_number": "NHS number (identifier)",
    "upn": "Unique Pupil Number (identifier)",
    "uprn": "property reference (UPRN)",
    "address": "address",
    "postcode": "postcode",
    "address_from": "dates at an address",
    "address_to": "dates at an address",
    "address_seen": "dates at an address",
    "household_ref": "household or tenancy reference",
}

#: What the interventions of each vocabulary domain are, in data protection terms.
DOMAIN_CATEGORIES: dict[str, str] = {
    "health": "health data (special category, UK GDPR Art. 9)",
    "police": "criminal offence data, including allegations (UK GDPR Art. 10; DPA 2018 s.11(2))",
    "probation": "criminal offence data: convictions and offender management (UK GDPR Art. 10)",
    "youth_justice": "criminal offence data about children (UK GDPR Art. 10)",
    "social_care": "children's social care records (children; highly sensitive)",
    "early_help": "early help records (children and families)",
    "education": "education records (children)",
    "housing": "housing and homelessness records",
}


def _cell(text: object) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _columns(spec: FieldSpec) -> str:
    cols = spec.referenced_columns()
    if cols:
        return ", ".join(f"`{c}`" for c in cols)
    return "(a constant)" if spec.value is not None else ""


def _event_types(mapping: SourceMapping) -> list[str]:
    """Event types a mapping can produce: constants, or the values of the code map it uses."""
    found: list[str] = []
    for event in mapping.events:
        spec = event.type
        if spec.value is not None:
            found.append(str(spec.value))
        elif spec.map is not None:
            found += [v for v in mapping.code_maps.get(spec.map, {}).values() if v]
        else:
            found.append(f"(as written in {_columns(spec)})")
    return list(dict.fromkeys(found))


def _relationship_types(mapping: SourceMapping) -> list[str]:
    found: list[str] = []
    for rel in mapping.relationships:
        spec = rel.type
        if spec.value is not None:
            found.append(str(spec.value))
        elif spec.map is not None:
            found += [v for v in mapping.code_maps.get(spec.map, {}).values() if v]
    return list(dict.fromkeys(found))


def _domains(types: Iterable[str], vocabulary: InterventionVocabulary) -> list[str]:
    return list(dict.fromkeys(vocabulary.types[t].domain for t in types if t in vocabulary.types))


def _roles_seeing(policy: AccessPolicy, source: str) -> list[str]:
    return [key for key, role in policy.roles.items() if role.may_see_source(source)]


def _source_section(
    mapping: SourceMapping, vocabulary: InterventionVocabulary, policy: AccessPolicy
) -> list[str]:
    types = _event_types(mapping)
    domains = _domains(types, vocabulary)
    if mapping.input.format == "sql":
        where = f"table {mapping.input.table}" if mapping.input.table else "a query"
    else:
        where = f"`{mapping.input.path}`"
    lines = [
        f"### `{mapping.source}`: {mapping.description or mapping.source}",
        "",
        f"- Held by: {mapping.agency or 'not stated'}; read from {where} ({mapping.input.format}).",
        f"- People named on a row: {', '.join(_person_roles(mapping))}.",
        "- Interventions recorded: "
        + (", ".join(f"`{t}`" for t in types) if types else "none")
        + (f" (domains: {', '.join(domains)})" if domains else "")
        + ".",
    ]
    if mapping.sensitivity:
        raised = ", ".join(f"`{k}` {v}" for k, v in mapping.sensitivity.items())
        lines.append(f"- Sensitivity raised by the mapping: {raised}.")
    rels = _relationship_types(mapping)
    if rels:
        lines.append(f"- Relationships stated: {', '.join(f'`{r}`' for r in rels)}.")
    categories = [DOMAIN_CATEGORIES[d] for d in domains if d in DOMAIN_CATEGORIES]
    if categories:
        lines.append(f"- Brings in: {'; '.join(categories)}.")
    seeing = _roles_seeing(policy, mapping.source)
    lines.append(f"- Roles whose FSRs may show its interventions: {', '.join(seeing) or 'none'}.")
    lines += ["", "| person | canonical field | personal data | source column(s) |", "|---|---|---|---|"]
    for role, person in mapping.people.items():
        label = _cell(role + (" (optional)" if person.optional else ""))
        lines.append(f"| {label} | `id` | source record id | {_columns(person.id)} |")
        for name, spec in person.fields.items():
            category = FIELD_CATEGORIES.get(name, name)
            lines.append(f"| {label} | `{name}` | {category} | {_cell(_columns(spec))} |")
    staff = [
        _columns(e.fields["lead_practitioner"]) for e in mapping.events if "lead_practitioner" in e.fields
    ]
    for columns in dict.fromkeys(staff):
        lines.append(f"| (staff) | `lead_practitioner` | practitioner's name | {_cell(columns)} |")
    lines.append("")
    return lines


def _person_roles(mapping: SourceMapping) -> list[str]:
    return [role + (" (optional)" if p.optional else "") for role, p in mapping.people.items()]


def _categories(mappings: list[SourceMapping], vocabulary: InterventionVocabulary) -> list[str]:
    fields: dict[str, list[str]] = {}
    for m in mappings:
        for person in m.people.values():
            for name in person.fields:
                fields.setdefault(FIELD_CATEGORIES.get(name, name), []).append(m.source)
    by_domain: dict[str, list[str]] = {}
    for m in mappings:
        for d in _domains(_event_types(m), vocabulary):
            by_domain.setdefault(d, []).append(m.source)
    lines = ["| personal data | sources |", "|---|---|"]
    for category, sources in fields.items():
        lines.append(f"| {_cell(category)} | {', '.join(dict.fromkeys(sources))} |")
    lines += ["", "| intervention data | sources |", "|---|---|"]
    for domain, sources in by_domain.items():
        lines.append(
            f"| {_cell(DOMAIN_CATEGORIES.get(domain, domain))} | {', '.join(dict.fromkeys(sources))} |"
        )
    return lines


def _special(
    mappings: list[SourceMapping], vocabulary: InterventionVocabulary, families: FamilySettings
) -> list[str]:
    def sources_with(domains: set[str]) -> str:
        hits = [m.source for m in mappings if set(_domains(_event_types(m), vocabulary)) & domains]
        return ", ".join(hits) or "none configured"

    victims = [
        m.source
        for m in mappings
        if "perpetrator_of_abuse_against" in _relationship_types(m)
        or any(
            e.fields.get("role") is not None and e.fields["role"].value in ("victim", "perpetrator")
            for e in m.events
        )
    ]
    identifiers = [m.source for m in mappings if any("nhs_number" in p.fields for p in m.people.values())]
    return [
        f"- **Health data** (Art. 9): health interventions from {sources_with({'health'})}; NHS "
        f"numbers (which show use of health services) from {', '.join(identifiers) or 'none'}.",
        f"- **Criminal offence data** (Art. 10), including allegations against people never "
        f"charged: {sources_with({'police', 'probation', 'youth_justice'})}.",
        f"- **Children**: families are formed around people under {families.child_age_limit:g}, "
        "so any source may hold children's records; social care, early help, education, youth "
        "justice and health visiting records of children come from "
        f"{sources_with({'social_care', 'early_help', 'education', 'youth_justice', 'health'})}. "
        "Children merit specific protection (UK GDPR recital 38).",
        f"- **Victims and alleged perpetrators of domestic abuse**: {', '.join(victims) or 'none'}. "
        "Their addresses and details are withheld from roles the access policy names.",
        "- Child protection categories (e.g. sexual abuse) may reveal information about a "
        "person's sex life (Art. 9) and are shown only to roles that may see them.",
    ]


def _shown(flag: bool) -> str:
    return "shown" if flag else "withheld"


def _policy_section(policy: AccessPolicy) -> list[str]:
    lines = ["| purpose | label | description |", "|---|---|---|"]
    for key, p in policy.purposes.items():
        lines.append(f"| `{key}` | {_cell(p.label)} | {_cell(p.description)} |")
    lines += [
        "",
        "| role | purposes | domains | max sensitivity | sources | date of birth | addresses "
        "| NHS no./UPN | perpetrator details | data quality | withheld note |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, r in policy.roles.items():
        f = r.fields
        domains = "all" if r.domains is None else ", ".join(r.domains)
        if r.exclude_event_types:
            domains += f" (not {', '.join(r.exclude_event_types)})"
        cells = [
            f"`{key}` ({_cell(r.label)})",
            ", ".join(r.purposes),
            _cell(domains),
            r.max_sensitivity,
            "all" if r.sources is None else ", ".join(r.sources),
            f.dob,
            f.addresses,
            _shown(f.identifiers),
            _shown(f.perpetrator_details),
            _shown(f.data_quality),
            r.withheld_note,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


_KEPT = {
    "manifest.json": "the run: input file hashes, row counts, timings, versions (no personal data)",
    "linkage_model.json": "the trained matching model (m and u probabilities; may hold name frequencies)",
    ".id_key": "the workspace's secret for stable person and family ids",
    "audit.jsonl": "the append-only audit log of FSRs and exports (ids and counts only)",
    "fsr/ROLE/FAMILY_ID.*": "Family Summary Records as produced for each role",
}


def _workspace_section(config: PipelineConfig) -> list[str]:
    lines = [
        f"The workspace (`{config.workspace}`) holds, readable by its owner only (files 0600, folders 0700):",
        "",
        "| file | what it holds |",
        "|---|---|",
    ]
    for name, schema in TABLES.items():
        columns = ", ".join(schema.names[:8]) + (", ..." if len(schema.names) > 8 else "")
        lines.append(f"| `{name}.parquet` | {columns} |")
    lines += [f"| `{name}` | {what} |" for name, what in _KEPT.items()]
    lines += [
        "",
        "- `records` and `quarantine` hold the extracts' personal data as received; `quarantine.raw` "
        "keeps every column of a rejected row (including columns no mapping reads, such as free "
        "text) so it can be corrected at source.",
        "- Each run replaces the tables; nothing is deleted otherwise. kinlink sets no retention "
        "period: decide one for the workspace, the FSR files, the agency extracts in "
        f"`{config.data}` and pseudonymised exports, and delete them when it ends. Keep the audit "
        "log (and its head hash, recorded elsewhere) as long as the FSRs it accounts for.",
        "- Pseudonymised exports (`kinlink export`) are still personal data: whoever holds the key "
        "can re-link them.",
    ]
    return lines


def describe_processing(
    config: PipelineConfig, *, source: Path | str | None = None, today: dt.date | None = None
) -> str:
    """A Markdown description of what ``config`` makes kinlink process.

    Parameters
    ----------
    config
        The pipeline configuration (:func:`kinlink.pipeline.load_pipeline`).
    source
        Where the configuration was read from, for the heading.
    today
        Date printed as the date produced (default: today).

    Returns
    -------
    str
        Markdown: the processing, each source and its fields, the categories of data
        (special category, criminal offence, children, victims), roles and purposes,
        workspace contents and retention, security measures, and what is left for the
        authority to complete.

    Raises
    ------
    SettingsError
        If any configuration file named cannot be read.
    """
    mappings = load_mappings(config.sources)
    vocabulary = load_vocabulary(config.vocabulary)
    policy = load_policy(config.access)
    families = FamilySettings.load(config.families)
    today = today or dt.date.today()
    fsr = config.fsr
    out = [
        "# Data protection impact assessment: what this kinlink run processes",
        "",
        f"_Produced by `kinlink dpia` {__version__} on {today.isoformat()} from "
        f"`{source or 'the pipeline configuration'}`. It describes what the configuration makes "
        "kinlink process. It is a starting point for the authority's DPIA, not a DPIA: sections "
        "8 and 9 are for the authority to complete with its Data Protection Officer._",
        "",
        "## 1. The processing",
        "",
        "Agency extracts are read, matched into people (probabilistic record linkage) and people "
        "into families; a Family Summary Record (FSR) is drawn per family for a practitioner, "
        "redacted for their role and purpose.",
        "",
        f"- Stages configured: {', '.join(config.stages)}.",
        f"- Agency extracts read from: `{config.data}`; results kept in `{config.workspace}`.",
        f"- FSRs produced: role `{fsr.role}`, purpose `{fsr.purpose}`, families `{fsr.families}`, "
        f"formats {', '.join(fsr.formats)}.",
        f"- Configuration: sources {', '.join(f'`{s}`' for s in config.sources)}; vocabulary "
        f"`{config.vocabulary}`; access policy `{config.access}` (version {policy.version}).",
        "",
        f"## 2. Sources ({len(mappings)})",
        "",
        "Every column of an extract is read; only the columns below become canonical fields.",
        "",
    ]
    for mapping in mappings:
        out += _source_section(mapping, vocabulary, policy)
    out += ["## 3. Categories of personal data", "", *_categories(mappings, vocabulary), ""]
    out += ["## 4. Special categories, criminal offence data and vulnerable people", ""]
    out += [*_special(mappings, vocabulary, families), ""]
    out += ["## 5. Who may see what (access policy)", "", *_policy_section(policy), ""]
    out += ["## 6. What is kept, and retention", "", *_workspace_section(config), ""]
    out += [
        "## 7. Measures in place",
        "",
        "- Redaction by role and purpose before anything is drawn; an unknown role or a purpose "
        "the role may not use is refused.",
        "- Every FSR and export is written to the workspace's tamper-evident audit log "
        "(`kinlink audit verify`).",
        "- Workspace files are owner-only; logs and error messages never contain names, dates "
        "of birth or identifiers.",
        "- Exports for analysts are pseudonymised with a keyed hash; names, identifiers and "
        "addresses are dropped and dates coarsened; CSV cells cannot run as formulas.",
        "- Bad input is quarantined with a reason, never silently dropped.",
        "- See `SECURITY.md` for the threat model.",
        "",
        "## 8. For the authority: lawful basis and conditions",
        "",
        "- Lawful basis (Art. 6) and statutory functions relied on: _to complete_ "
        "(commonly considered: Art. 6(1)(e); Children Act 1989 s.17 and s.47; Children Act 2004 "
        "s.10 and s.11; Working Together to Safeguard Children).",
        "- Art. 9 condition and DPA 2018 Schedule 1 condition for health data: _to complete_ "
        "(commonly considered: Art. 9(2)(g) with Sch. 1 para. 18, safeguarding of children and "
        "individuals at risk).",
        "- Condition for criminal offence data (DPA 2018 s.10(5), Sch. 1): _to complete_.",
        "- Appropriate policy document: _to complete_.",
        "- Information sharing agreements with each agency above: _to complete_.",
        "",
        "## 9. For the authority: necessity, risks and retention",
        "",
        "- Necessity and proportionality; data minimisation per source (are all mapped fields "
        "needed?): _to complete_.",
        "- Risks to individuals (wrong matches placing a stranger in a family, disclosure to a "
        "perpetrator, re-identification from exports) and their mitigations: _to complete_.",
        "- Retention periods for the workspace, FSRs, extracts and exports: _to complete_.",
        "- DPO advice and sign-off: _to complete_.",
        "",
    ]
    return "\n".join(out)
