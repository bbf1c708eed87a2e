"""Helpers for linkage tests: canonical records from a few fields."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ingest.schema import RECORDS
from ingest.standardise import standardise_name, standardise_postcode
from linkage.model import ModelParameters


def make_records(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Canonical records from dicts of the fields a test cares about.

    Keys: key, source, given, middle, family, aliases (list), dob (ISO text), dob_estimated,
    sex, postcode, address, uprn, nhs, upn.
    """
    out = []
    for i, row in enumerate(rows):
        rec: dict[str, Any] = dict.fromkeys(RECORDS.names)
        source = row.get("source", "s")
        rec.update(
            record_key=f"{source}:{row.get('key', i)}",
            source=source,
            source_record_id=str(row.get("key", i)),
            given_name=row.get("given"),
            middle_names=row.get("middle"),
            family_name=row.get("family"),
            alias_names=row.get("aliases", []),
            dob=dt.date.fromisoformat(row["dob"]) if row.get("dob") else None,
            dob_estimated=bool(row.get("dob_estimated", False)),
            sex=row.get("sex"),
            nhs_number_std=row.get("nhs"),
            upn_std=row.get("upn"),
            uprn=row.get("uprn"),
            address_std=row.get("address"),
            postcode=row.get("postcode"),
            quality_flags=[],
        )
        out.append(rec)
    frame = pd.DataFrame(out, columns=RECORDS.names)
    frame["given_name_std"] = standardise_name(frame["given_name"])
    frame["middle_names_std"] = standardise_name(frame["middle_names"])
    frame["family_name_std"] = standardise_name(frame["family_name"])
    frame["alias_names_std"] = [[a.upper() for a in (v or [])] for v in frame["alias_names"]]
    pc = standardise_postcode(frame["postcode"])
    for col in ("postcode_std", "postcode_sector", "postcode_district", "postcode_valid"):
        frame[col] = pc[col]
    return frame


def make_stated(rows: Sequence[tuple[str, str, str]]) -> pd.DataFrame:
    """A ``stated_relationships`` table from (from_record_key, to_record_key, type) rows."""
    return pd.DataFrame(
        {
            "relationship_id": [f"s:{i}" for i in range(len(rows))],
            "source": [a.split(":")[0] for a, _, _ in rows],
            "from_record_key": [a for a, _, _ in rows],
            "to_record_key": [b for _, b, _ in rows],
            "to_identifier_type": [None] * len(rows),
            "to_identifier": [None] * len(rows),
            "relationship_type": [t for _, _, t in rows],
            "start_date": [None] * len(rows),
            "end_date": [None] * len(rows),
            "incident_id": [None] * len(rows),
            "row_number": list(range(len(rows))),
        }
    )


@pytest.fixture
def records_of():
    return make_records


def small_model(given_different_m: float = 0.1) -> ModelParameters:
    """Fitted parameters of a two-comparison model, for weight arithmetic.

    Person comparisons: given_name (missing, exact, different), shared_child (no stated
    children, same parent role, parent or carer, parents of different people); context:
    family_name (missing, exact, different).
    """
    return ModelParameters(
        comparisons=["given_name", "shared_child"],
        context=["family_name"],
        m=[np.array([1.0, 0.9, given_different_m]), np.array([1.0, 0.87, 0.001, 0.129])],
        u_random=[np.array([1.0, 0.01, 0.99]), np.array([1.0, 0.001, 0.001, 0.998])],
        lam=np.array([0.25, 0.06, 0.07]),
        u=[np.tile([1.0, 0.01, 0.99], (3, 1)), np.tile([1.0, 0.001, 0.001, 0.998], (3, 1))],
        m_context=[np.array([1.0, 0.95, 0.05])],
        u_context=[np.array([1.0, 0.01, 0.99])],
        lam_rest=0.0003,
    )
