"""The governance modules list their public names in __all__ (as tests/test_public_api.py does)."""

from __future__ import annotations

import importlib

import pytest

MODULES = ["kinlink.audit", "kinlink.cli_governance", "kinlink.dpia", "kinlink.pseudonymise"]


@pytest.mark.parametrize("name", MODULES)
def test_all_lists_existing_public_names(name):
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} lacks __all__"
    assert len(exported) == len(set(exported)), "duplicates in __all__"
    for public in exported:
        assert hasattr(module, public), f"{name}.{public} is listed but missing"
        assert not public.startswith("_")
