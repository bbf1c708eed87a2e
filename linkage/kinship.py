"""People into families, end to end: households, relationships, families, interventions.

:func:`resolve_families` runs, in order, :func:`linkage.households.household_spells`,
:func:`linkage.relationships.infer_relationships`, :func:`linkage.families.form_families`
and :func:`linkage.interventions.person_interventions` on the canonical tables and the
linkage's output, and returns every table they make. It reads and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import pandas as pd

from linkage.families import form_families
from linkage.family_settings import FamilySettings
from linkage.households import household_spells
from linkage.interventions import person_interventions
from linkage.relationships import infer_relationships

__all__ = ["KinshipResult", "default_window_start", "resolve_families"]

_FALLBACK_YEARS = 10


@dataclass(frozen=True)
class KinshipResult:
    """Every table the families stage writes, and counts for the manifest."""

    households: pd.DataFrame
    relationships: pd.DataFrame
    relationship_conflicts: pd.DataFrame
    families: pd.DataFrame
    family_id_changes: pd.DataFrame
    interventions: pd.DataFrame
    window_start: dt.date
    facts: dict[str, object] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "households": self.households,
            "relationships": self.relationships,
            "relationship_conflicts": self.relationship_conflicts,
            "families": self.families,
            "family_id_changes": self.family_id_changes,
            "interventions": self.interventions,
        }


def default_window_start(
    events: pd.DataFrame, window_types: Collection[str], records: pd.DataFrame
) -> dt.date:
    """The earliest start of an event of ``window_types`` (children's social care) in the data.

    Without one: ten years before the latest extract date (or before today).
    """
    opening = events[events["event_type"].isin(set(window_types))]
    starts = pd.to_datetime(opening["start_date"]).dropna()
    if len(starts):
        return starts.min().date()
    extracts = pd.to_datetime(records["extract_date"]).dropna()
    latest = extracts.max().date() if len(extracts) else dt.date.today()
    return latest.replace(year=latest.year - _FALLBACK_YEARS)


def resolve_families(
    records: pd.DataFrame,
    stated_relationships: pd.DataFrame,
    events: pd.DataFrame,
    person_index: pd.DataFrame,
    persons: pd.DataFrame,
    *,
    settings: FamilySettings | None = None,
    window_types: Collection[str] = (),
    previous_families: pd.DataFrame | None = None,
    key: bytes = b"",
    progress: Callable[[str], None] | None = None,
) -> KinshipResult:
    """Households, relationships (and their conflicts), families and interventions.

    Parameters
    ----------
    records, stated_relationships, events
        The canonical tables from ingest.
    person_index, persons
        The linkage's output.
    settings
        :class:`FamilySettings` (default: the defaults).
    window_types
        Event types whose earliest start opens the window that decides who counts as a
        child (children's social care events), unless ``settings.window_start`` is set.
    previous_families
        The previous run's ``families``, to keep family ids.
    key
        Secret key for household, relationship and family ids (a workspace keeps one).
    progress
        Called with a short message as each step starts (no personal data).
    """
    settings = settings or FamilySettings()
    say = progress or (lambda _msg: None)
    say("households")
    households = household_spells(
        records, person_index, key=key, max_household_size=settings.max_household_size
    )
    say("relationships")
    inferred = infer_relationships(
        stated_relationships, person_index, persons, records, households, settings=settings, key=key
    )
    window = settings.window_start or default_window_start(events, window_types, records)
    say("families")
    formed = form_families(
        persons,
        inferred.relationships,
        households,
        window_start=window,
        child_age_limit=settings.child_age_limit,
        previous=previous_families,
        key=key,
    )
    say("interventions")
    interventions = person_interventions(events, person_index, merge_days=settings.intervention_merge_days)
    fam = formed.families
    facts: dict[str, object] = {
        "window_start": window.isoformat(),
        "households": int(households["household_id"].nunique()),
        "relationships": len(inferred.relationships),
        "relationships_by_type": {
            str(k): int(v)
            for k, v in inferred.relationships["relationship_type"].value_counts().sort_index().items()
        },
        "relationship_conflicts": {
            str(k): int(v) for k, v in inferred.conflicts["rule"].value_counts().sort_index().items()
        },
        "families": int(fam["family_id"].nunique()),
        "family_members": len(fam),
        "children": int((fam["role"] == "child").sum()),
        "family_id_merges": int((formed.id_changes["change"] == "merge").sum()),
        "family_id_splits": int((formed.id_changes["change"] == "split").sum()),
        "events": len(events),
        "interventions": len(interventions),
    }
    return KinshipResult(
        households=households,
        relationships=inferred.relationships,
        relationship_conflicts=inferred.conflicts,
        families=fam,
        family_id_changes=formed.id_changes,
        interventions=interventions,
        window_start=window,
        facts=facts,
    )
