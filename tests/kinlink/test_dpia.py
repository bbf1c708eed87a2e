"""`kinlink dpia`: what a configured run processes, described from the configuration alone."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import yaml

from genogram.access import load_policy
from ingest.sources import load_mappings
from kinlink.dpia import describe_processing
from kinlink.paths import config_path
from kinlink.pipeline import load_pipeline

SHIPPED = config_path("pipeline.yaml")


@pytest.fixture(scope="module")
def shipped() -> str:
    return describe_processing(
        load_pipeline(SHIPPED), source="config/pipeline.yaml", today=dt.date(2026, 11, 2)
    )


def section(text: str, number: int) -> str:
    match = re.search(rf"^## {number}\. .*?(?=^## |\Z)", text, flags=re.M | re.S)
    assert match, f"no section {number}"
    return match.group(0)


def test_every_section_is_there_in_order(shipped):
    headings = re.findall(r"^## (\d+)\. ", shipped, flags=re.M)
    assert headings == [str(n) for n in range(1, 10)]
    assert "2026-11-02" in shipped and "`config/pipeline.yaml`" in shipped


def test_every_source_is_described_with_its_mapped_fields(shipped):
    sources = section(shipped, 2)
    for mapping in load_mappings([config_path("sources")]):
        assert f"### `{mapping.source}`" in sources
        for role, person in mapping.people.items():
            for name in person.fields:
                assert re.search(
                    rf"^\| {re.escape(role)}( \(optional\))? \| `{name}` \|", sources, flags=re.M
                )
    assert "| person | `nhs_number` | NHS number (identifier) | `NHS_NUMBER` |" in sources
    assert "`domestic_abuse_incident` restricted" in sources


SPECIAL_CASES = [
    {
        "description": "health data comes from health",
        "pattern": r"\*\*Health data\*\* \(Art\. 9\): health interventions from health;",
    },
    {
        "description": "criminal offence data",
        "pattern": r"\*\*Criminal offence data\*\*.*: police_da, probation, yot\.",
    },
    {"description": "children", "pattern": r"\*\*Children\*\*: families are formed around people under 18,"},
    {
        "description": "victims of domestic abuse",
        "pattern": r"\*\*Victims and alleged perpetrators of domestic abuse\*\*: police_da\.",
    },
]


@pytest.mark.parametrize("case", SPECIAL_CASES, ids=[c["description"] for c in SPECIAL_CASES])
def test_special_categories_are_named_with_their_sources(shipped, case):
    assert re.search(case["pattern"], section(shipped, 4)), case["description"]


def test_every_role_and_purpose_of_the_access_policy_is_listed(shipped):
    policy_section = section(shipped, 5)
    policy = load_policy(config_path("access.yaml"))
    for key in policy.purposes:
        assert f"| `{key}` |" in policy_section
    for key, role in policy.roles.items():
        assert f"| `{key}` ({role.label}) |" in policy_section
    school = next(line for line in policy_section.splitlines() if line.startswith("| `school`"))
    assert "| age | except_protected | withheld | withheld | withheld | counts |" in school


def test_retention_and_the_workspace_contents(shipped):
    kept = section(shipped, 6)
    for name in ("records.parquet", "quarantine.parquet", "audit.jsonl", "fsr/ROLE/FAMILY_ID.*"):
        assert f"`{name}`" in kept
    assert "no retention period" in kept


def test_a_run_with_one_source_names_only_what_it_brings(tmp_path):
    pipeline = {
        "workspace": str(tmp_path / "ws"),
        "data": str(tmp_path / "data"),
        "sources": [str(config_path("sources", "school.yaml"))],
    }
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(pipeline))
    text = describe_processing(load_pipeline(path))
    assert "## 2. Sources (1)" in text and "### `school`" in text and "### `police_da`" not in text
    special = section(text, 4)
    assert "health interventions from none configured" in special
    assert "including allegations against people never charged: none configured." in special
    assert "domestic abuse**: none." in special
