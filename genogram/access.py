"""The access policy (`config/access.yaml`) and redaction of the canonical tables by role.

A Family Summary Record is produced for one **role** (who reads it) and one **purpose** (why).
The policy says which role may use which purpose, and for each role which interventions it
may see (by domain, type, sensitivity and source) and which fields (date of birth or age,
addresses, identifiers, details of people recorded as suspects, data-quality details).

:func:`redact` applies a role's rules to the tables **before anything is drawn**: rows the
role may not see are dropped and fields it may not see are blanked, so nothing withheld can
be recovered from the PDF. It reports what it withheld as counts by category, never the
data itself.

Examples
--------
>>> policy = load_policy()
>>> policy.check("school", "safeguarding_assessment").label
'School designated safeguarding lead'
>>> policy.check("school", "family_copy")
Traceback (most recent call last):
...
genogram.errors.AccessError: role 'school' may not produce an FSR for purpose 'family_copy'
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from genogram.errors import AccessError, RenderError
from ingest.errors import SettingsError
from ingest.schema import empty_table
from ingest.vocabulary import SENSITIVITY_LEVELS, InterventionVocabulary, load_vocabulary

__all__ = [
    "ABUSE_RELATIONSHIP",
    "ADDRESS_RULES",
    "DEFAULT_POLICY_PATH",
    "DEFAULT_VOCABULARY_PATH",
    "DOB_RULES",
    "REDACTED_TABLES",
    "WITHHELD_NOTES",
    "AccessPolicy",
    "FieldRules",
    "Purpose",
    "Redacted",
    "RolePolicy",
    "default_policy",
    "default_vocabulary",
    "load_policy",
    "redact",
]

# genogram sits below the kinlink app shell, so it finds the shipped config itself
# (as linkage/settings.py does) rather than importing kinlink.paths.
CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
DEFAULT_POLICY_PATH = CONFIG_DIR / "access.yaml"
DEFAULT_VOCABULARY_PATH = CONFIG_DIR / "interventions.yaml"

DOB_RULES: tuple[str, ...] = ("full", "age")
ADDRESS_RULES: tuple[str, ...] = ("all", "except_protected", "none")
WITHHELD_NOTES: tuple[str, ...] = ("counts", "generic", "none")
REDACTED_TABLES: tuple[str, ...] = (
    "persons",
    "relationships",
    "families",
    "households",
    "interventions",
    "relationship_conflicts",
)
ABUSE_RELATIONSHIP = "perpetrator_of_abuse_against"
_ABUSE_EVENT_TYPE = "domestic_abuse_incident"
_VICTIM_ROLES = frozenset({"victim"})
_SUSPECT_ROLES = frozenset({"perpetrator", "suspect"})
_ALL = "all"

# Withheld categories, in the order the FSR lists them.
W_UNKNOWN_TYPE = "interventions of a type the vocabulary does not know"
W_TYPE = "interventions of a type not shared with this role"
W_DOMAIN = "interventions from an agency domain not shared with this role"
W_SENSITIVITY = "interventions above this role's sensitivity level"
W_SOURCE = "interventions from sources not shared with this role"
W_SUSPECT = "interventions recording a person as suspect or perpetrator"
W_ABUSE = "recorded-abuse relationships"
W_ADDRESS = "household addresses"
W_DOB = "dates of birth (age shown instead)"
W_IDENTIFIERS = "NHS numbers and UPNs"
W_SUSPECT_DETAILS = "personal details of people recorded as suspect or perpetrator"
W_CONFLICTS = "relationship conflicts"
W_DOB_CONFLICT = "conflicting date-of-birth flags"
W_PROBABILITIES = "match probabilities"
_WITHHELD_ORDER = (
    W_UNKNOWN_TYPE,
    W_TYPE,
    W_DOMAIN,
    W_SENSITIVITY,
    W_SOURCE,
    W_SUSPECT,
    W_ABUSE,
    W_ADDRESS,
    W_DOB,
    W_IDENTIFIERS,
    W_SUSPECT_DETAILS,
    W_CONFLICTS,
    W_DOB_CONFLICT,
    W_PROBABILITIES,
)


# --------------------------------------------------------------------------- validation helpers


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SettingsError(f"{where}: expected a mapping")
    return value


def _no_unknown(d: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    unknown = sorted(str(k) for k in set(d) - set(allowed))
    if unknown:
        raise SettingsError(f"{where}: unknown key(s) {unknown}")


def _required(d: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in d:
        raise SettingsError(f"{where}: missing {key!r}")
    return d[key]


def _choice(value: Any, choices: tuple[str, ...], where: str) -> str:
    if value not in choices:
        raise SettingsError(f"{where}: {value!r} is not one of {choices}")
    return str(value)


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise SettingsError(f"{where}: expected true or false, got {value!r}")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(f"{where}: expected a non-empty string")
    return value


def _names(value: Any, where: str, *, allow_all: bool) -> tuple[str, ...] | None:
    """A list of names, or None for ``all`` where that is allowed."""
    if allow_all and value == _ALL:
        return None
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        expected = "`all` or a list of names" if allow_all else "a list of names"
        raise SettingsError(f"{where}: expected {expected}")
    if len(set(value)) != len(value):
        raise SettingsError(f"{where}: names repeated")
    return tuple(value)


# --------------------------------------------------------------------------- the policy


@dataclass(frozen=True)
class FieldRules:
    """Which personal fields a role sees.

    Parameters
    ----------
    dob : {"full", "age"}
        ``full`` shows dates of birth; ``age`` shows only the age at the FSR's as-at date.
    addresses : {"all", "except_protected", "none"}
        ``except_protected`` withholds the address of every household where a person recorded
        as a victim of abuse, a child currently looked after or (when ``perpetrator_details``
        is false) a person recorded as suspect lives.
    identifiers : bool
        Whether NHS numbers and UPNs are shown.
    perpetrator_details : bool
        Whether interventions recording a person as suspect or perpetrator, recorded-abuse
        relationships, and such a person's date of birth, identifiers and address are shown.
    data_quality : bool
        Whether match probabilities, conflicting dates of birth and relationship conflicts
        are shown.
    """

    dob: str = "full"
    addresses: str = "all"
    identifiers: bool = True
    perpetrator_details: bool = True
    data_quality: bool = True

    _KEYS = ("dob", "addresses", "identifiers", "perpetrator_details", "data_quality")

    @classmethod
    def from_dict(cls, d: Any, where: str = "fields") -> FieldRules:
        """Build from a mapping, naming the bad key in any error."""
        d = _mapping(d, where)
        _no_unknown(d, cls._KEYS, where)
        default = cls()
        return cls(
            dob=_choice(d.get("dob", default.dob), DOB_RULES, f"{where}.dob"),
            addresses=_choice(d.get("addresses", default.addresses), ADDRESS_RULES, f"{where}.addresses"),
            identifiers=_bool(d.get("identifiers", default.identifiers), f"{where}.identifiers"),
            perpetrator_details=_bool(
                d.get("perpetrator_details", default.perpetrator_details), f"{where}.perpetrator_details"
            ),
            data_quality=_bool(d.get("data_quality", default.data_quality), f"{where}.data_quality"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The mapping :meth:`from_dict` reads."""
        return {k: getattr(self, k) for k in self._KEYS}


@dataclass(frozen=True)
class Purpose:
    """Why an FSR is produced (e.g. ``strategy_discussion``)."""

    key: str
    label: str
    description: str = ""

    @classmethod
    def from_dict(cls, key: str, d: Any, where: str) -> Purpose:
        """Build from a mapping, naming the bad key in any error."""
        d = _mapping(d, where)
        _no_unknown(d, ("label", "description"), where)
        return cls(
            key=key,
            label=_text(_required(d, "label", where), f"{where}.label"),
            description=str(d.get("description", "")),
        )

    def to_dict(self) -> dict[str, Any]:
        """The mapping :meth:`from_dict` reads."""
        return {"label": self.label, "description": self.description}


@dataclass(frozen=True)
class RolePolicy:
    """What one role may see.

    ``domains`` and ``sources`` are ``None`` for "all". See `config/access.yaml` for the
    meaning of each key.
    """

    key: str
    label: str
    purposes: tuple[str, ...]
    domains: tuple[str, ...] | None = None
    event_types: tuple[str, ...] = ()
    exclude_event_types: tuple[str, ...] = ()
    max_sensitivity: str = "standard"
    sources: tuple[str, ...] | None = None
    fields: FieldRules = field(default_factory=FieldRules)
    withheld_note: str = "counts"
    marking: str | None = None

    _KEYS = (
        "label",
        "purposes",
        "domains",
        "event_types",
        "exclude_event_types",
        "max_sensitivity",
        "sources",
        "fields",
        "withheld_note",
        "marking",
    )

    @classmethod
    def from_dict(cls, key: str, d: Any, where: str) -> RolePolicy:
        """Build from a mapping, naming the bad key in any error."""
        d = _mapping(d, where)
        _no_unknown(d, cls._KEYS, where)
        purposes = _names(_required(d, "purposes", where), f"{where}.purposes", allow_all=False) or ()
        marking = d.get("marking")
        return cls(
            key=key,
            label=_text(_required(d, "label", where), f"{where}.label"),
            purposes=purposes,
            domains=_names(_required(d, "domains", where), f"{where}.domains", allow_all=True),
            event_types=_names(d.get("event_types", []), f"{where}.event_types", allow_all=False) or (),
            exclude_event_types=_names(
                d.get("exclude_event_types", []), f"{where}.exclude_event_types", allow_all=False
            )
            or (),
            max_sensitivity=_choice(
                _required(d, "max_sensitivity", where), SENSITIVITY_LEVELS, f"{where}.max_sensitivity"
            ),
            sources=_names(_required(d, "sources", where), f"{where}.sources", allow_all=True),
            fields=FieldRules.from_dict(d.get("fields", {}), f"{where}.fields"),
            withheld_note=_choice(d.get("withheld_note", "counts"), WITHHELD_NOTES, f"{where}.withheld_note"),
            marking=None if marking is None else _text(marking, f"{where}.marking"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The mapping :meth:`from_dict` reads."""
        out: dict[str, Any] = {
            "label": self.label,
            "purposes": list(self.purposes),
            "domains": _ALL if self.domains is None else list(self.domains),
            "event_types": list(self.event_types),
            "exclude_event_types": list(self.exclude_event_types),
            "max_sensitivity": self.max_sensitivity,
            "sources": _ALL if self.sources is None else list(self.sources),
            "fields": self.fields.to_dict(),
            "withheld_note": self.withheld_note,
        }
        if self.marking is not None:
            out["marking"] = self.marking
        return out

    def may_see_source(self, source: str) -> bool:
        """Whether the role may see what ``source`` records."""
        return self.sources is None or source in self.sources

    def may_see_type(self, event_type: str, vocabulary: InterventionVocabulary) -> bool:
        """Whether the role may see interventions of ``event_type`` at their default sensitivity."""
        if event_type not in vocabulary or event_type in self.exclude_event_types:
            return False
        kind = vocabulary.types[event_type]
        in_domain = self.domains is None or kind.domain in self.domains or event_type in self.event_types
        return in_domain and _level(kind.sensitivity) <= _level(self.max_sensitivity)


def _level(sensitivity: str) -> int:
    return SENSITIVITY_LEVELS.index(sensitivity)


@dataclass(frozen=True)
class AccessPolicy:
    """The whole access policy: markings, purposes and roles.

    Build it with :meth:`from_dict` (validated, errors name the bad key) or :func:`load_policy`.
    """

    purposes: Mapping[str, Purpose]
    roles: Mapping[str, RolePolicy]
    marking: str = "OFFICIAL-SENSITIVE"
    version: int = 1

    _KEYS = ("version", "marking", "purposes", "roles")

    @classmethod
    def from_dict(cls, d: Any) -> AccessPolicy:
        """Build and validate the policy from its YAML/JSON document."""
        d = _mapping(d, "access")
        _no_unknown(d, cls._KEYS, "access")
        version = d.get("version", 1)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise SettingsError(f"access.version: expected a positive integer, got {version!r}")
        purposes_doc = _mapping(_required(d, "purposes", "access"), "access.purposes")
        roles_doc = _mapping(_required(d, "roles", "access"), "access.roles")
        if not purposes_doc:
            raise SettingsError("access.purposes: at least one purpose is needed")
        if not roles_doc:
            raise SettingsError("access.roles: at least one role is needed")
        purposes = {
            str(k): Purpose.from_dict(str(k), v, f"access.purposes.{k}") for k, v in purposes_doc.items()
        }
        roles = {str(k): RolePolicy.from_dict(str(k), v, f"access.roles.{k}") for k, v in roles_doc.items()}
        for role in roles.values():
            for purpose in role.purposes:
                if purpose not in purposes:
                    raise SettingsError(f"access.roles.{role.key}.purposes: unknown purpose {purpose!r}")
        return cls(
            purposes=purposes,
            roles=roles,
            marking=_text(d.get("marking", "OFFICIAL-SENSITIVE"), "access.marking"),
            version=version,
        )

    def to_dict(self) -> dict[str, Any]:
        """The document :meth:`from_dict` reads (round-trips)."""
        return {
            "version": self.version,
            "marking": self.marking,
            "purposes": {k: p.to_dict() for k, p in self.purposes.items()},
            "roles": {k: r.to_dict() for k, r in self.roles.items()},
        }

    def role(self, role: str) -> RolePolicy:
        """The rules of ``role``.

        Raises
        ------
        AccessError
            If the policy does not know the role.
        """
        try:
            return self.roles[role]
        except (KeyError, TypeError):
            raise AccessError(f"unknown role {role!r}; the policy knows {sorted(self.roles)}") from None

    def purpose(self, purpose: str) -> Purpose:
        """The purpose ``purpose``.

        Raises
        ------
        AccessError
            If the policy does not know the purpose.
        """
        try:
            return self.purposes[purpose]
        except (KeyError, TypeError):
            raise AccessError(
                f"unknown purpose {purpose!r}; the policy knows {sorted(self.purposes)}"
            ) from None

    def check(self, role: str, purpose: str) -> RolePolicy:
        """The rules of ``role`` after checking it may produce an FSR for ``purpose``.

        Raises
        ------
        AccessError
            Unknown role or purpose, or a pair the policy does not allow.
        """
        rules = self.role(role)
        self.purpose(purpose)
        if purpose not in rules.purposes:
            raise AccessError(f"role {role!r} may not produce an FSR for purpose {purpose!r}")
        return rules

    def marking_for(self, role: str) -> str:
        """The sensitivity marking printed on ``role``'s copies."""
        return self.role(role).marking or self.marking

    def check_vocabulary(self, vocabulary: InterventionVocabulary) -> None:
        """Check every domain and event type the policy names exists in ``vocabulary``.

        Raises
        ------
        SettingsError
            Naming the role and key that refer to an unknown domain or type.
        """
        domains = {t.domain for t in vocabulary.types.values()}
        for role in self.roles.values():
            where = f"access.roles.{role.key}"
            for domain in role.domains or ():
                if domain not in domains:
                    raise SettingsError(f"{where}.domains: {domain!r} is not a domain of the vocabulary")
            for key in ("event_types", "exclude_event_types"):
                for kind in getattr(role, key):
                    if kind not in vocabulary:
                        raise SettingsError(f"{where}.{key}: {kind!r} is not in the vocabulary")


def load_policy(path: Path | str | None = None) -> AccessPolicy:
    """Read an access policy file (default: the shipped `config/access.yaml`).

    Raises
    ------
    SettingsError
        If the file is missing, not YAML, or not a valid policy (the message names the key).
    """
    path = Path(path) if path is not None else DEFAULT_POLICY_PATH
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"access policy file not found: {path}") from None
    except yaml.YAMLError:
        raise SettingsError(f"{path}: not valid YAML") from None
    return AccessPolicy.from_dict(document)


@lru_cache(maxsize=1)
def default_policy() -> AccessPolicy:
    """The shipped policy, read once."""
    return load_policy()


@lru_cache(maxsize=1)
def default_vocabulary() -> InterventionVocabulary:
    """The shipped intervention vocabulary, read once."""
    return load_vocabulary(DEFAULT_VOCABULARY_PATH)


# --------------------------------------------------------------------------- redaction


@dataclass(frozen=True)
class Redacted:
    """The tables a role may see, and what was withheld from them.

    Attributes
    ----------
    tables : Mapping[str, pandas.DataFrame]
        The tables of :data:`REDACTED_TABLES` (empty with canonical columns where none was
        given); ``persons`` has an extra nullable ``age`` column (whole years at ``as_at``).
    withheld : Mapping[str, int]
        Counts of withheld rows or values by category, non-zero only, in a fixed order.
        Categories never contain personal data.
    role, purpose
        The rules applied.
    """

    tables: Mapping[str, pd.DataFrame]
    withheld: Mapping[str, int]
    role: RolePolicy
    purpose: Purpose


@cache
def _columns(name: str) -> tuple[str, ...]:
    """The canonical columns of table ``name``."""
    return tuple(empty_table(name).schema.names)


def _frame(tables: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame:
    expected = _columns(name)
    given = tables.get(name)
    if given is None:
        return empty_table(name).to_pandas(date_as_object=True)
    missing = [c for c in expected if c not in given.columns]
    if missing:
        raise RenderError(f"table {name!r} lacks column(s) {missing}")
    return given.reset_index(drop=True)  # a copy: redaction never changes the caller's frames


def _as_list(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    return [str(v) for v in value]


def _keep_refs(refs: Any, rules: RolePolicy) -> list[str]:
    """References like ``source:row:n``: keep those of sources the role may see."""
    kept = []
    for ref in _as_list(refs):
        prefix, sep, _ = ref.partition(":")
        if not sep or rules.may_see_source(prefix):
            kept.append(ref)
    return kept


def _trim_sources(frame: pd.DataFrame, column: str, rules: RolePolicy) -> None:
    if rules.sources is not None and column in frame.columns:
        frame[column] = [[s for s in _as_list(v) if rules.may_see_source(s)] for v in frame[column]]


def _trim_refs(frame: pd.DataFrame, column: str, rules: RolePolicy) -> None:
    if rules.sources is not None and column in frame.columns:
        frame[column] = [_keep_refs(v, rules) for v in frame[column]]


def _is_open(end: Any, as_at: dt.date | None) -> bool:
    if end is None or pd.isna(end):
        return True
    return as_at is not None and end > as_at


def _age(dob: Any, dod: Any, as_at: dt.date | None) -> Any:
    if as_at is None or dob is None or pd.isna(dob):
        return pd.NA
    until = dod if dod is not None and not pd.isna(dod) and dod < as_at else as_at
    years = until.year - dob.year - ((until.month, until.day) < (dob.month, dob.day))
    return years if years >= 0 else pd.NA


def _blank(frame: pd.DataFrame, mask: pd.Series, column: str) -> int:
    """Set ``column`` to null where ``mask``; return how many non-null values were blanked."""
    hit = mask.to_numpy(dtype=bool) & ~pd.isna(frame[column].array)
    count = int(hit.sum())
    if count:
        values = frame[column].astype(object).to_numpy(copy=True)
        values[hit] = None
        frame[column] = values
    return count


def _intervention_reasons(
    interventions: pd.DataFrame, rules: RolePolicy, vocabulary: InterventionVocabulary
) -> list[str | None]:
    """For each intervention, the first rule that withholds it (None: the role may see it)."""
    reasons: list[str | None] = []
    for kind, sensitivity, sources, role in zip(
        interventions["event_type"],
        interventions["sensitivity"],
        interventions["sources"],
        interventions["role"],
        strict=True,
    ):
        if kind not in vocabulary:
            reasons.append(W_UNKNOWN_TYPE)
            continue
        typ = vocabulary.types[kind]
        # an unreadable sensitivity marking is treated as the strictest (fail closed)
        marked = sensitivity if sensitivity in SENSITIVITY_LEVELS else "restricted"
        level = vocabulary.sensitivity(kind, marked)
        if kind in rules.exclude_event_types:
            reasons.append(W_TYPE)
        elif not (rules.domains is None or typ.domain in rules.domains or kind in rules.event_types):
            reasons.append(W_DOMAIN)
        elif _level(level) > _level(rules.max_sensitivity):
            reasons.append(W_SENSITIVITY)
        elif not any(rules.may_see_source(s) for s in _as_list(sources)):
            reasons.append(W_SOURCE)
        elif not rules.fields.perpetrator_details and role in _SUSPECT_ROLES:
            reasons.append(W_SUSPECT)
        else:
            reasons.append(None)
    return reasons


def _people_with(interventions: pd.DataFrame, roles: Collection[str]) -> set[str]:
    return {
        person
        for person, role in zip(interventions["person_id"], interventions["role"], strict=True)
        if isinstance(role, str) and role in roles
    }


def redact(
    tables: Mapping[str, pd.DataFrame],
    policy: AccessPolicy,
    role: str,
    purpose: str,
    *,
    vocabulary: InterventionVocabulary | None = None,
    as_at: dt.date | None = None,
) -> Redacted:
    """Filter the canonical tables down to what ``role`` may see for ``purpose``.

    Rows are dropped (interventions, recorded-abuse relationships, relationship conflicts) and
    fields blanked (dates of birth, identifiers, addresses, source lists, confidences) before
    anything is drawn. Tables other than :data:`REDACTED_TABLES` are not passed on.

    Parameters
    ----------
    tables : Mapping[str, pandas.DataFrame]
        Canonical tables (see :mod:`ingest.schema`); missing ones count as empty.
    policy : AccessPolicy
        The access policy.
    role, purpose : str
        Who the FSR is for, and why.
    vocabulary : InterventionVocabulary, optional
        The intervention vocabulary (default: the shipped `config/interventions.yaml`).
    as_at : datetime.date, optional
        Date at which ages are computed and "currently looked after" is judged; without it
        ages are null and every looked-after episode without an end date counts as current.

    Returns
    -------
    Redacted
        The filtered tables and counts of what was withheld, by category.

    Raises
    ------
    AccessError
        Unknown role or purpose, or a pair the policy does not allow.
    SettingsError
        The policy names a domain or event type the vocabulary lacks.
    RenderError
        A table lacks a canonical column.
    """
    rules = policy.check(role, purpose)
    vocab = vocabulary if vocabulary is not None else default_vocabulary()
    policy.check_vocabulary(vocab)
    withheld: Counter[str] = Counter()

    persons = _frame(tables, "persons")
    relationships = _frame(tables, "relationships")
    families = _frame(tables, "families")
    households = _frame(tables, "households")
    interventions = _frame(tables, "interventions")
    conflicts = _frame(tables, "relationship_conflicts")

    # Who is protected, judged on everything recorded (before any row is dropped).
    abuse = relationships["relationship_type"] == ABUSE_RELATIONSHIP
    ends = zip(relationships["person_id_from"], relationships["person_id_to"], abuse, strict=True)
    abusive = [(a, b) for a, b, hit in ends if hit]
    victims = _people_with(interventions, _VICTIM_ROLES) | {b for _, b in abusive}
    suspects = _people_with(interventions, _SUSPECT_ROLES) | {a for a, _ in abusive}
    looked_after = {
        person
        for person, kind, end in zip(
            interventions["person_id"], interventions["event_type"], interventions["end_date"], strict=True
        )
        if kind == "looked_after" and _is_open(end, as_at)
    }
    protected = victims | looked_after
    if not rules.fields.perpetrator_details:
        protected |= suspects

    # Interventions.
    reasons = _intervention_reasons(interventions, rules, vocab)
    withheld.update(r for r in reasons if r is not None)
    if any(r is not None for r in reasons):
        interventions = interventions.loc[[r is None for r in reasons]].reset_index(drop=True)
    if rules.sources is not None:
        # An episode several agencies report keeps only the sources the role may see; if any
        # was cut, its agency list keeps only agencies named like a domain the role may see
        # (agency names follow the domains), so no hidden agency shows through.
        before = [_as_list(v) for v in interventions["sources"]]
        _trim_sources(interventions, "sources", rules)
        interventions["agencies"] = [
            agencies
            if len(kept) == len(was)
            else [a for a in agencies if rules.domains is None or a in rules.domains]
            for agencies, kept, was in zip(
                (_as_list(v) for v in interventions["agencies"]),
                interventions["sources"],
                before,
                strict=True,
            )
        ]
    for column in ("event_ids", "incident_ids"):
        _trim_refs(interventions, column, rules)

    # Relationships: recorded abuse only where the role may see DA incidents from a source.
    may_see_abuse = rules.fields.perpetrator_details and rules.may_see_type(_ABUSE_EVENT_TYPE, vocab)
    keep_abuse = [
        may_see_abuse and any(rules.may_see_source(s) for s in _as_list(sources))
        for sources in relationships["sources"]
    ]
    drop = abuse & ~pd.Series(keep_abuse, index=relationships.index, dtype=bool)
    withheld[W_ABUSE] += int(drop.sum())
    if drop.any():
        relationships = relationships.loc[~drop].reset_index(drop=True)
    _trim_sources(relationships, "sources", rules)
    for column in ("evidence", "incident_ids"):
        _trim_refs(relationships, column, rules)

    # Persons.
    persons["age"] = pd.Series(
        [_age(b, d, as_at) for b, d in zip(persons["dob"], persons["dod"], strict=True)],
        index=persons.index,
        dtype="Int64",
    )
    everyone = pd.Series(True, index=persons.index)
    is_suspect = persons["person_id"].isin(suspects) & (not rules.fields.perpetrator_details)
    suspect_fields = 0
    if rules.fields.dob == "age":
        withheld[W_DOB] += _blank(persons, everyone, "dob")
    else:
        suspect_fields += _blank(persons, is_suspect, "dob")
    for column in ("nhs_number", "upn"):
        if not rules.fields.identifiers:
            withheld[W_IDENTIFIERS] += _blank(persons, everyone, column)
        else:
            suspect_fields += _blank(persons, is_suspect, column)
    withheld[W_SUSPECT_DETAILS] += suspect_fields
    _trim_sources(persons, "sources", rules)
    if rules.sources is not None:
        persons["record_count"] = pd.Series(pd.NA, index=persons.index, dtype="Int64")

    # Addresses.
    if rules.fields.addresses == "none":
        hidden_households = set(households.loc[households["address"].notna(), "household_id"])
    elif rules.fields.addresses == "except_protected":
        at_risk = households["person_id"].isin(protected)
        hidden_households = set(households.loc[at_risk, "household_id"])
    else:
        hidden_households = set()
    in_hidden = households["household_id"].isin(hidden_households)
    withheld[W_ADDRESS] += int(
        households.loc[in_hidden & households["address"].notna(), "household_id"].nunique()
    )
    _blank(households, in_hidden, "address")
    _blank(households, in_hidden, "postcode")
    _trim_sources(households, "sources", rules)
    if rules.fields.addresses == "none":
        _blank(persons, everyone, "postcode")
    elif rules.fields.addresses == "except_protected":
        hidden_people = (
            protected
            | set(households.loc[in_hidden, "person_id"])
            | set(families.loc[families["household_id"].isin(hidden_households), "person_id"])
        )
        _blank(persons, persons["person_id"].isin(hidden_people), "postcode")

    # Data quality.
    if not rules.fields.data_quality:
        withheld[W_CONFLICTS] += len(conflicts)
        conflicts = conflicts.iloc[0:0]
        withheld[W_DOB_CONFLICT] += int(persons["dob_conflict"].fillna(False).astype(bool).sum())
        _blank(persons, everyone, "dob_conflict")
        probabilities = _blank(persons, everyone, "cluster_confidence")
        probabilities += _blank(relationships, pd.Series(True, index=relationships.index), "confidence")
        probabilities += _blank(families, pd.Series(True, index=families.index), "confidence")
        withheld[W_PROBABILITIES] += probabilities
    else:
        _trim_sources(conflicts, "sources", rules)
        _trim_refs(conflicts, "evidence", rules)

    counts = {k: withheld[k] for k in _WITHHELD_ORDER if withheld.get(k, 0) > 0}
    return Redacted(
        tables={
            "persons": persons,
            "relationships": relationships,
            "families": families,
            "households": households,
            "interventions": interventions,
            "relationship_conflicts": conflicts.reset_index(drop=True),
        },
        withheld=counts,
        role=rules,
        purpose=policy.purpose(purpose),
    )
