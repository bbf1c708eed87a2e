"""Families: formed around children, as a social worker would draw them.

A **child** is a person under ``child_age_limit`` at some time since the window start (a
person with no date of birth counts as a child when they are someone's child and nobody's
parent). Children who share a parent (birth, adoptive or unspecified) are one family, so
full, half and (through a shared parent) step-siblings in different households stay
together. A child who is also a parent belongs, as a child, to their parents' family and,
as a parent, to their own child's family.

Members and their ``role`` (``ingest.schema.FAMILY_ROLES``): the children; their parents;
their step-parents; their carers (foster, kinship, parental responsibility); the parents'
current and former partners; grandparents (a parent's parent, or stated). A person has
one role per family (the first of that order) and may belong to several families. Each
member carries their current ``household_id`` and the confidence of the relationship that
brought them in.

Family ids are stable: a family keeps the previous id that most of its children held.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from ingest.schema import FAMILIES, to_arrow
from linkage.ids import assign_ids
from linkage.relationships import CARE_TYPES, PARENT_TYPES, PARTNER_TYPES

__all__ = ["FamilyResult", "children", "form_families"]

_ROLE_ORDER = ("child", "parent", "step_parent", "carer", "parent_partner", "grandparent")
_CARER_ROLE = {
    "step_parent": "step_parent",
    "foster_carer": "carer",
    "carer": "carer",
    "parental_responsibility": "carer",
}


@dataclass(frozen=True)
class FamilyResult:
    """The ``families`` table and the family id changes (merges and splits) since the previous run."""

    families: pd.DataFrame
    id_changes: pd.DataFrame


def children(
    persons: pd.DataFrame,
    relationships: pd.DataFrame,
    *,
    window_start: dt.date,
    child_age_limit: float = 18.0,
) -> pd.Series:
    """Person ids of the children families form around (see the module doc), sorted."""
    dob = pd.to_datetime(persons["dob"])
    whole_years = int(child_age_limit)
    extra_days = round((child_age_limit - whole_years) * 365.25)
    born_after = pd.Timestamp(window_start) - pd.DateOffset(years=whole_years, days=extra_days)
    young = persons.loc[dob.notna() & (dob > born_after), "person_id"]
    parent = relationships[relationships["relationship_type"].isin(PARENT_TYPES)]
    undated = set(persons.loc[dob.isna(), "person_id"])
    someones_child = set(parent["person_id_to"]) & undated
    nobodys_parent = someones_child - set(parent["person_id_from"])
    return pd.Series(sorted(set(young) | nobodys_parent), name="person_id", dtype=object)


def form_families(
    persons: pd.DataFrame,
    relationships: pd.DataFrame,
    households: pd.DataFrame | None = None,
    *,
    window_start: dt.date,
    child_age_limit: float = 18.0,
    previous: pd.DataFrame | None = None,
    key: bytes = b"",
) -> FamilyResult:
    """The ``families`` table (see the module doc).

    Parameters
    ----------
    persons, relationships, households
        The linkage's ``persons``, the inferred ``relationships`` and the ``households``
        (for each member's current household; optional).
    window_start, child_age_limit
        Who counts as a child: under the limit at some time since ``window_start``.
    previous
        The previous run's ``families``, to keep family ids.
    key
        Secret key for new family ids (a workspace keeps one).
    """
    kids = children(persons, relationships, window_start=window_start, child_age_limit=child_age_limit)
    kid_set = set(kids)
    rel = relationships
    parent = rel[rel["relationship_type"].isin(PARENT_TYPES)]
    kid_parent = parent[parent["person_id_to"].isin(kid_set)]

    graph = nx.Graph()
    graph.add_nodes_from(("child", k) for k in kids)
    graph.add_edges_from(
        (("child", c), ("parent", p))
        for p, c in zip(kid_parent["person_id_from"], kid_parent["person_id_to"], strict=True)
    )
    components = sorted(
        (sorted(n[1] for n in comp if n[0] == "child") for comp in nx.connected_components(graph)),
        key=lambda members: members[0],
    )
    label_of = {k: i for i, comp in enumerate(components) for k in comp}
    if not components:
        return FamilyResult(_empty_families(), _empty_changes())

    child_rows = pd.DataFrame({"person_id": list(label_of), "label": list(label_of.values())})
    members = [child_rows.assign(role="child", confidence=1.0)]

    def brought_in(
        edges: pd.DataFrame, person_col: str, via_col: str, role: str, via: pd.DataFrame
    ) -> pd.DataFrame:
        joined = edges.merge(
            via[["person_id", "label"]], left_on=via_col, right_on="person_id", suffixes=("", "_via")
        )
        return pd.DataFrame(
            {
                "person_id": joined[person_col].to_numpy(),
                "label": joined["label"].to_numpy(),
                "role": role,
                "confidence": joined["confidence"].to_numpy(),
            }
        )

    parents = brought_in(kid_parent, "person_id_from", "person_id_to", "parent", child_rows)
    members.append(parents)
    care = rel[rel["relationship_type"].isin(CARE_TYPES) & rel["person_id_to"].isin(kid_set)]
    if len(care):
        joined = care.merge(child_rows, left_on="person_id_to", right_on="person_id", suffixes=("", "_c"))
        members.append(
            pd.DataFrame(
                {
                    "person_id": joined["person_id_from"].to_numpy(),
                    "label": joined["label"].to_numpy(),
                    "role": joined["relationship_type"].map(_CARER_ROLE).to_numpy(),
                    "confidence": joined["confidence"].to_numpy(),
                }
            )
        )
    partner = rel[rel["relationship_type"].isin(PARTNER_TYPES)]
    partner_both = pd.concat(
        [
            partner[["person_id_from", "person_id_to", "confidence"]],
            partner[["person_id_to", "person_id_from", "confidence"]].set_axis(
                ["person_id_from", "person_id_to", "confidence"], axis=1
            ),
        ],
        ignore_index=True,
    )
    parent_rows = parents[["person_id", "label"]].drop_duplicates()
    members.append(brought_in(partner_both, "person_id_to", "person_id_from", "parent_partner", parent_rows))
    grand = parent.merge(parent_rows, left_on="person_id_to", right_on="person_id", suffixes=("", "_p"))
    members.append(
        pd.DataFrame(
            {
                "person_id": grand["person_id_from"].to_numpy(),
                "label": grand["label"].to_numpy(),
                "role": "grandparent",
                "confidence": grand["confidence"].to_numpy(),
            }
        )
    )
    stated_grand = rel[rel["relationship_type"].eq("grandparent")]
    members.append(brought_in(stated_grand, "person_id_from", "person_id_to", "grandparent", child_rows))

    table = pd.concat([m for m in members if len(m)], ignore_index=True)
    table["rank"] = table["role"].map({r: i for i, r in enumerate(_ROLE_ORDER)})
    table = table.sort_values(
        ["label", "person_id", "rank", "confidence"], ascending=[True, True, True, False]
    )
    table = table.drop_duplicates(["label", "person_id"], keep="first")

    ids, changes = _family_ids(child_rows, previous, key)
    table["family_id"] = table["label"].map(ids)
    current = _current(households)
    table["household_id"] = table["person_id"].map(current)
    table["confidence"] = table["confidence"].astype(float).round(6)
    table = table.sort_values(["family_id", "rank", "person_id"], kind="stable")
    frame = table[FAMILIES.names].reset_index(drop=True)
    return FamilyResult(to_arrow("families", frame).to_pandas(), changes)


def _family_ids(
    child_rows: pd.DataFrame, previous: pd.DataFrame | None, key: bytes
) -> tuple[pd.Series, pd.DataFrame]:
    prev = None
    if previous is not None and len(previous):
        kids_before = previous[previous["role"] == "child"]
        prev = kids_before.rename(columns={"person_id": "record_key"})[["record_key", "family_id"]]
    ids, changes = assign_ids(
        child_rows["person_id"],
        child_rows["label"].to_numpy(np.int64),
        prev,
        prefix="F",
        id_column="family_id",
        key=key,
    )
    per_label = pd.Series(ids.to_numpy(), index=child_rows["label"].to_numpy())
    per_label = per_label[~per_label.index.duplicated()]
    changes = changes.rename(columns={"records": "children"})
    return per_label, changes


def _current(households: pd.DataFrame | None) -> pd.Series:
    if households is None or households.empty:
        return pd.Series(dtype=object)
    current = households[households["current"]]
    return current.drop_duplicates("person_id").set_index("person_id")["household_id"]


def _empty_families() -> pd.DataFrame:
    return FAMILIES.empty_table().to_pandas()


def _empty_changes() -> pd.DataFrame:
    return pd.DataFrame(columns=["change", "id", "previous_ids", "new_ids", "children"])
