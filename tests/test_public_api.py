"""Each package lists its public names in __all__, and every listed name exists."""

from __future__ import annotations

import importlib

import pytest

MODULES = [
    "genogram",
    "genogram.access",
    "genogram.document",
    "genogram.dot",
    "genogram.drawing",
    "genogram.exports",
    "genogram.fsr",
    "genogram.graph",
    "genogram.layout",
    "genogram.render",
    "genogram.timeline",
    "ingest",
    "ingest.adapters",
    "ingest.canonicalise",
    "ingest.mapping",
    "ingest.schema",
    "ingest.sources",
    "ingest.standardise",
    "ingest.vocabulary",
    "kinlink",
    "kinlink.api",
    "kinlink.audit",
    "kinlink.cli_governance",
    "kinlink.dpia",
    "kinlink.pseudonymise",
    "kinlink.cli_report",
    "kinlink.pipeline",
    "kinlink.report",
    "kinlink.synth",
    "kinlink.workspace",
    "linkage",
    "linkage.evaluate_families",
    "linkage.families",
    "linkage.family_settings",
    "linkage.households",
    "linkage.interventions",
    "linkage.kinship",
    "linkage.population",
    "linkage.relationships",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_lists_existing_public_names(name):
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} lacks __all__"
    assert len(exported) == len(set(exported)), "duplicates in __all__"
    for public in exported:
        assert hasattr(module, public), f"{name}.{public} is listed but missing"
        assert not public.startswith("_") or public == "__version__"
