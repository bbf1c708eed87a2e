"""The access policy (config/access.yaml) and redaction of the canonical tables by role."""

from __future__ import annotations

import copy
import importlib
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from genogram import access
from genogram.access import AccessPolicy, load_policy, redact
from genogram.errors import AccessError, RenderError
from ingest.errors import KinlinkError, SettingsError
from tests.genogram.family_fixture import AS_AT, family_tables

ROOT = Path(__file__).resolve().parents[2]
POLICY = load_policy()
ALL_TYPES = {
    "contact_referral",
    "child_protection_enquiry",
    "child_protection_plan",
    "looked_after",
    "exclusion",
    "youth_justice",
    "domestic_abuse_incident",
    "marac",
    "mappa",
    "ehcp",
    "health_visiting",
    "early_help",
}
SOCIAL_CARE = {
    "contact_referral",
    "child_protection_enquiry",
    "child_protection_plan",
    "looked_after",
    "early_help",
    "ehcp",
    "exclusion",
}

# What each role sees of the fixture family, as the policy says.
ROLE_CASES = [
    {
        "description": "social worker sees everything, fields included",
        "role": "mash_social_worker",
        "purpose": "safeguarding_assessment",
        "types": ALL_TYPES,
        "abuse_relationship": True,
        "victim_address": True,
        "dob": True,
        "identifiers": True,
        "probabilities": True,
    },
    {
        "description": "police see all but health",
        "role": "mash_police",
        "purpose": "strategy_discussion",
        "types": ALL_TYPES - {"health_visiting"},
        "abuse_relationship": True,
        "victim_address": True,
        "dob": True,
        "identifiers": True,
        "probabilities": True,
    },
    {
        "description": "health: no police, probation or youth justice; no suspect details",
        "role": "health",
        "purpose": "safeguarding_assessment",
        "types": SOCIAL_CARE | {"health_visiting"},
        "abuse_relationship": False,
        "victim_address": True,
        "dob": True,
        "identifiers": True,
        "probabilities": True,
    },
    {
        "description": "school: no police intelligence, MARAC, MAPPA; ages; no protected addresses",
        "role": "school",
        "purpose": "safeguarding_assessment",
        "types": SOCIAL_CARE,
        "abuse_relationship": False,
        "victim_address": False,
        "dob": False,
        "identifiers": False,
        "probabilities": False,
    },
    {
        "description": "early help: standard sensitivity only",
        "role": "early_help",
        "purpose": "early_help_planning",
        "types": {"contact_referral", "early_help", "ehcp", "exclusion"},
        "abuse_relationship": False,
        "victim_address": False,
        "dob": False,
        "identifiers": False,
        "probabilities": False,
    },
    {
        "description": "family copy: own records, no victim or placement address, nothing on suspects",
        "role": "family_facing",
        "purpose": "family_copy",
        "types": SOCIAL_CARE,
        "abuse_relationship": False,
        "victim_address": False,
        "dob": False,
        "identifiers": False,
        "probabilities": False,
    },
]


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return family_tables()


def _address_of(households: pd.DataFrame, household_id: str) -> object:
    return households.loc[households["household_id"] == household_id, "address"].iloc[0]


@pytest.mark.parametrize("case", ROLE_CASES, ids=[c["role"] for c in ROLE_CASES])
def test_each_role_sees_what_the_policy_says(tables, case):
    red = redact(tables, POLICY, case["role"], case["purpose"], as_at=AS_AT)
    seen = set(red.tables["interventions"]["event_type"])
    assert seen == case["types"], case["description"]
    kinds = set(red.tables["relationships"]["relationship_type"])
    assert ("perpetrator_of_abuse_against" in kinds) == case["abuse_relationship"]
    households = red.tables["households"]
    # H-A: the victim's (and subject child's) home; H-E: the looked-after child's placement
    assert pd.notna(_address_of(households, "H-A")) == case["victim_address"]
    assert pd.notna(_address_of(households, "H-E")) == case["victim_address"]
    assert pd.notna(_address_of(households, "H-B"))  # the father's flat is nobody's refuge
    persons = red.tables["persons"].set_index("person_id")
    assert pd.notna(persons.loc["P-SUBJ", "dob"]) == case["dob"]
    assert persons.loc["P-SUBJ", "age"] == 12  # the age is always there
    assert pd.notna(persons.loc["P-SUBJ", "nhs_number"]) == case["identifiers"]
    assert pd.notna(persons.loc["P-SUBJ", "cluster_confidence"]) == case["probabilities"]
    assert red.role.key == case["role"] and red.purpose.key == case["purpose"]


def test_school_and_family_copies_hold_no_police_probation_or_health_trace(tables):
    for role, purpose in (("school", "early_help_planning"), ("family_facing", "family_copy")):
        red = redact(tables, POLICY, role, purpose, as_at=AS_AT)
        iv = red.tables["interventions"]
        assert not iv["event_type"].isin(["marac", "mappa", "domestic_abuse_incident"]).any()
        for frame in red.tables.values():
            if "sources" in frame:
                listed = {s for v in frame["sources"] for s in (v if v is not None else [])}
                assert listed <= {"csc", "school", "housing"}, (role, listed)
        assert not any("police_da" in ref for v in iv["event_ids"] for ref in v)


def test_suspect_details_withheld_where_the_role_may_not_see_them(tables):
    red = redact(tables, POLICY, "health", "safeguarding_assessment", as_at=AS_AT)
    persons = red.tables["persons"].set_index("person_id")
    assert pd.isna(persons.loc["P-NEW", "dob"])  # recorded as suspect
    assert pd.notna(persons.loc["P-MUM", "dob"])
    assert red.withheld[access.W_SUSPECT_DETAILS] == 1
    full = redact(tables, POLICY, "mash_social_worker", "safeguarding_assessment", as_at=AS_AT)
    assert pd.notna(full.tables["persons"].set_index("person_id").loc["P-NEW", "dob"])


def test_withheld_counts_by_category_and_never_personal_data(tables):
    red = redact(tables, POLICY, "school", "safeguarding_assessment", as_at=AS_AT)
    assert red.withheld == {
        access.W_TYPE: 4,  # two DA incidents, MARAC, MAPPA
        access.W_DOMAIN: 2,  # youth justice, health visiting
        access.W_ABUSE: 1,
        access.W_ADDRESS: 2,  # the victim's home and the placement
        access.W_DOB: 11,
        access.W_IDENTIFIERS: 4,
        access.W_DOB_CONFLICT: 1,
        access.W_PROBABILITIES: 48,
    }
    values = {str(v) for frame in tables.values() for col in frame for v in frame[col] if isinstance(v, str)}
    for category in red.withheld:
        assert not any(len(v) > 3 and v in category for v in values), category
    assert redact(tables, POLICY, "mash_social_worker", "strategy_discussion", as_at=AS_AT).withheld == {}


def test_redact_leaves_the_input_tables_alone(tables):
    before = {name: frame.copy(deep=True) for name, frame in tables.items()}
    redact(tables, POLICY, "family_facing", "family_copy", as_at=AS_AT)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(tables[name], frame)


def test_unknown_types_and_unreadable_sensitivity_fail_closed(tables):
    changed = {k: v.copy() for k, v in tables.items()}
    iv = changed["interventions"]
    iv.loc[iv["intervention_id"] == "I13", "event_type"] = "secret_new_thing"
    iv.loc[iv["intervention_id"] == "I11", "sensitivity"] = "??"
    red = redact(changed, POLICY, "mash_social_worker", "safeguarding_assessment", as_at=AS_AT)
    kept = set(red.tables["interventions"]["intervention_id"])
    assert "I13" not in kept and "I11" in kept  # social workers may see restricted
    assert red.withheld[access.W_UNKNOWN_TYPE] == 1
    school = redact(changed, POLICY, "school", "safeguarding_assessment", as_at=AS_AT)
    assert "I11" not in set(school.tables["interventions"]["intervention_id"])


def test_abuse_by_someone_outside_the_tables_still_protects_the_victim_address(tables):
    changed = {k: v.copy() for k, v in tables.items()}
    changed["interventions"] = changed["interventions"].loc[lambda f: f["role"] != "victim"]
    red = redact(changed, POLICY, "family_facing", "family_copy", as_at=AS_AT)
    # the recorded-abuse relationship alone marks the mother as a victim
    assert pd.isna(_address_of(red.tables["households"], "H-A"))


def test_missing_tables_count_as_empty_and_missing_columns_are_refused(tables):
    red = redact({"persons": tables["persons"]}, POLICY, "school", "safeguarding_assessment")
    assert red.tables["interventions"].empty and red.tables["relationship_conflicts"].empty
    assert red.tables["persons"]["age"].isna().all()  # no as_at, no ages
    with pytest.raises(RenderError, match="'interventions' lacks column"):
        redact(
            {"interventions": tables["interventions"].drop(columns="sensitivity")},
            POLICY,
            "school",
            "safeguarding_assessment",
        )


@pytest.mark.parametrize(
    ("role", "purpose", "message"),
    [
        ("janitor", "safeguarding_assessment", "unknown role 'janitor'"),
        ("school", "curiosity", "unknown purpose 'curiosity'"),
        ("school", "family_copy", "role 'school' may not produce an FSR for purpose 'family_copy'"),
        ("family_facing", "strategy_discussion", "may not produce"),
        ("early_help", "safeguarding_assessment", "may not produce"),
    ],
)
def test_refused_roles_and_pairs(tables, role, purpose, message):
    with pytest.raises(AccessError, match=re.escape(message)):
        redact(tables, POLICY, role, purpose)
    assert issubclass(AccessError, KinlinkError)


def test_policy_round_trips_and_matches_the_vocabulary():
    document = POLICY.to_dict()
    assert AccessPolicy.from_dict(document) == POLICY
    assert AccessPolicy.from_dict(yaml.safe_load(yaml.safe_dump(document))) == POLICY
    POLICY.check_vocabulary(access.default_vocabulary())
    required_roles = {"mash_social_worker", "mash_police", "health", "school", "early_help", "family_facing"}
    assert required_roles <= set(POLICY.roles)
    assert {"safeguarding_assessment", "strategy_discussion", "early_help_planning", "family_copy"} <= set(
        POLICY.purposes
    )
    assert POLICY.marking_for("family_facing") == "OFFICIAL-SENSITIVE PERSONAL"
    assert POLICY.marking_for("school") == "OFFICIAL-SENSITIVE"


def _mutate(path: tuple[str, ...], value: object) -> dict:
    document = copy.deepcopy(POLICY.to_dict())
    node = document
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return document


BAD_POLICIES = [
    {
        "description": "unknown top-level key",
        "path": ("colour",),
        "value": "red",
        "message": "access: unknown key",
    },
    {
        "description": "version not a number",
        "path": ("version",),
        "value": "one",
        "message": "access.version",
    },
    {
        "description": "sensitivity not a level",
        "path": ("roles", "school", "max_sensitivity"),
        "value": "secret",
        "message": "access.roles.school.max_sensitivity: 'secret' is not one of",
    },
    {
        "description": "role names a purpose the policy lacks",
        "path": ("roles", "school", "purposes"),
        "value": ["gossip"],
        "message": "access.roles.school.purposes: unknown purpose 'gossip'",
    },
    {
        "description": "field rule misspelt",
        "path": ("roles", "health", "fields", "dob"),
        "value": "year",
        "message": "access.roles.health.fields.dob",
    },
    {
        "description": "field rule not boolean",
        "path": ("roles", "health", "fields", "identifiers"),
        "value": "yes",
        "message": "access.roles.health.fields.identifiers: expected true or false",
    },
    {
        "description": "unknown field rule",
        "path": ("roles", "health", "fields", "shoe_size"),
        "value": True,
        "message": "access.roles.health.fields: unknown key(s) ['shoe_size']",
    },
    {
        "description": "sources neither all nor a list",
        "path": ("roles", "school", "sources"),
        "value": "some",
        "message": "access.roles.school.sources: expected `all` or a list",
    },
    {
        "description": "missing label",
        "path": ("roles", "school", "label"),
        "value": KeyError,
        "message": "access.roles.school: missing 'label'",
    },
    {
        "description": "bad withheld note",
        "path": ("roles", "school", "withheld_note"),
        "value": "everything",
        "message": "access.roles.school.withheld_note",
    },
    {
        "description": "purpose without a label",
        "path": ("purposes", "family_copy"),
        "value": {"description": "x"},
        "message": "access.purposes.family_copy: missing 'label'",
    },
]


@pytest.mark.parametrize("case", BAD_POLICIES, ids=[c["description"] for c in BAD_POLICIES])
def test_bad_policy_documents_name_the_bad_key(case):
    with pytest.raises(SettingsError, match=re.escape(case["message"])):
        AccessPolicy.from_dict(_mutate(case["path"], case["value"]))


def test_policy_naming_an_unknown_domain_or_type_is_refused_against_the_vocabulary(tables):
    policy = AccessPolicy.from_dict(_mutate(("roles", "school", "domains"), ["education", "astrology"]))
    with pytest.raises(SettingsError, match=re.escape("access.roles.school.domains: 'astrology'")):
        redact(tables, policy, "school", "safeguarding_assessment")
    policy = AccessPolicy.from_dict(_mutate(("roles", "school", "exclude_event_types"), ["tarot"]))
    with pytest.raises(SettingsError, match="exclude_event_types: 'tarot'"):
        policy.check_vocabulary(access.default_vocabulary())


def test_load_policy_errors(tmp_path):
    with pytest.raises(SettingsError, match="not found"):
        load_policy(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("roles: [unclosed", encoding="utf-8")
    with pytest.raises(SettingsError, match="not valid YAML"):
        load_policy(bad)


def test_every_role_is_documented_in_the_config_and_the_readme():
    config = (ROOT / "config" / "access.yaml").read_text(encoding="utf-8")
    readme = (ROOT / "genogram" / "README.md").read_text(encoding="utf-8")
    assert "## Roles" in readme
    for role in POLICY.roles:
        assert f"`{role}`" in readme, role
        # a comment block directly above the role's key explains it
        assert re.search(rf"(#[^\n]*\n)+  {role}:\n", config), role


@pytest.mark.parametrize("name", ["genogram.access", "genogram.timeline", "genogram.fsr"])
def test_all_lists_existing_public_names(name):
    module = importlib.import_module(name)
    exported = module.__all__
    assert len(exported) == len(set(exported))
    for public in exported:
        assert hasattr(module, public), f"{name}.{public} is listed but missing"
        assert not public.startswith("_")


@pytest.mark.parametrize("name", ["genogram.access", "genogram.timeline"])
def test_docstring_examples_run(name):
    import doctest

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_an_episode_reported_by_a_hidden_source_shows_neither_that_source_nor_its_agency(tables):
    changed = {k: v.copy() for k, v in tables.items()}
    iv = changed["interventions"]
    row = iv.index[iv["intervention_id"] == "I03"][0]  # the child protection plan
    iv.at[row, "sources"] = ["csc", "police_da"]
    iv.at[row, "agencies"] = ["social_care", "police"]
    school = redact(changed, POLICY, "school", "safeguarding_assessment", as_at=AS_AT)
    kept = school.tables["interventions"].set_index("intervention_id").loc["I03"]
    assert list(kept["sources"]) == ["csc"] and list(kept["agencies"]) == ["social_care"]
    worker = redact(changed, POLICY, "mash_social_worker", "safeguarding_assessment", as_at=AS_AT)
    kept = worker.tables["interventions"].set_index("intervention_id").loc["I03"]
    assert list(kept["agencies"]) == ["social_care", "police"]
