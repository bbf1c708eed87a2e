"""Interventions per person: every event of every record of a person, one row per episode.

Events reach people through ``person_index``. Two events are one episode when they are of
one person, event type, category and role and start within ``merge_days`` of each other
(chained: each within ``merge_days`` of the one before, in start order): two agencies
reporting one episode, or one agency recording a child twice. The episode starts at the
earliest start; it is open when any of its events is open, else it ends at the latest end;
it carries the highest risk and sensitivity, the latest lead practitioner, and lists its
agencies, sources, incidents and events.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from ingest.schema import INTERVENTIONS, to_arrow

__all__ = ["person_interventions"]

_RISK_ORDER = {"standard": 0, "low": 0, "medium": 1, "high": 2}
_SENSITIVITY_ORDER = {"standard": 0, "sensitive": 1, "restricted": 2}


def person_interventions(
    events: pd.DataFrame, person_index: pd.DataFrame, *, merge_days: int = 7
) -> pd.DataFrame:
    """The ``interventions`` table from the canonical ``events`` and ``person_index``."""
    ev = events.merge(person_index[["record_key", "person_id"]], on="record_key", how="inner")
    if ev.empty:
        return INTERVENTIONS.empty_table().to_pandas()
    ev = ev.assign(
        _start=pd.to_datetime(ev["start_date"]),
        _end=pd.to_datetime(ev["end_date"]),
        _cat=ev["category"].fillna(""),
        _role=ev["role"].fillna(""),
    )
    keys = ["person_id", "event_type", "_cat", "_role"]
    ev = ev.sort_values([*keys, "_start", "event_id"], kind="stable").reset_index(drop=True)
    same_group = (ev[keys] == ev[keys].shift()).all(axis=1)
    gap = (ev["_start"] - ev["_start"].shift()).dt.days
    close = gap.le(merge_days) | (ev["_start"].isna() & ev["_start"].shift().isna())
    ev["episode"] = (~(same_group & close)).cumsum()

    size = ev.groupby("episode")["episode"].transform("size")
    parts = [_single(ev[size == 1]), _merged(ev[size > 1])]
    out = pd.concat([p for p in parts if len(p)], ignore_index=True)
    out["intervention_id"] = [
        "I" + hashlib.sha256(e.encode()).hexdigest()[:12].upper() for e in out["first_event"]
    ]
    for col in ("start_date", "end_date"):
        out[col] = out[col].dt.date.astype(object).where(out[col].notna(), None)
    out = out.sort_values(["person_id", "start_date", "event_type"], kind="stable", na_position="last")
    out = out.where(out.notna(), None)
    return to_arrow("interventions", out[INTERVENTIONS.names].reset_index(drop=True)).to_pandas(
        date_as_object=True
    )


def _single(ev: pd.DataFrame) -> pd.DataFrame:
    """Episodes of one event: its own values (vectorised; most episodes are these)."""
    incident = ev["incident_id"]
    return pd.DataFrame(
        {
            "person_id": ev["person_id"].to_numpy(),
            "event_type": ev["event_type"].to_numpy(),
            "category": ev["category"].to_numpy(),
            "start_date": ev["_start"].to_numpy(),
            "end_date": ev["_end"].to_numpy(),
            "role": ev["role"].to_numpy(),
            "first_event": ev["event_id"].to_numpy(),
            "risk": ev["risk"].to_numpy(),
            "sensitivity": ev["sensitivity"].to_numpy(),
            "lead_practitioner": ev["lead_practitioner"].to_numpy(),
            "agencies": [[a] if isinstance(a, str) else [] for a in ev["agency"]],
            "sources": [[s] for s in ev["source"]],
            "event_ids": [[e] for e in ev["event_id"]],
            "incident_ids": [
                [f"{s}:{i}"] if isinstance(i, str) else []
                for s, i in zip(ev["source"], incident, strict=True)
            ],
        }
    )


def _merged(ev: pd.DataFrame) -> pd.DataFrame:
    """Episodes of several events, pooled."""
    if ev.empty:
        return pd.DataFrame()
    grouped = ev.groupby("episode", sort=True)
    out = grouped.agg(
        person_id=("person_id", "first"),
        event_type=("event_type", "first"),
        category=("category", "first"),
        start_date=("_start", "min"),
        end_date=("_end", "max"),
        any_open=("_end", lambda s: bool(s.isna().any())),
        role=("role", "first"),
        first_event=("event_id", "min"),
    )
    out["end_date"] = out["end_date"].where(~out.pop("any_open"))
    out["risk"] = grouped["risk"].agg(_highest_risk)
    out["sensitivity"] = grouped["sensitivity"].agg(_highest_sensitivity)
    workers = ev.dropna(subset=["lead_practitioner"]).sort_values("_start", kind="stable")
    out["lead_practitioner"] = workers.groupby("episode")["lead_practitioner"].last().reindex(out.index)
    for column, source_col in (("agencies", "agency"), ("sources", "source"), ("event_ids", "event_id")):
        out[column] = grouped[source_col].agg(lambda s: sorted({str(v) for v in s.dropna()}))
    out["incident_ids"] = grouped[["source", "incident_id"]].apply(
        lambda f: sorted(
            {f"{s}:{i}" for s, i in zip(f["source"], f["incident_id"], strict=True) if isinstance(i, str)}
        )
    )
    return out.reset_index(drop=True)


def _highest_risk(values: pd.Series) -> object:
    return _highest(values, _RISK_ORDER)


def _highest_sensitivity(values: pd.Series) -> object:
    return _highest(values, _SENSITIVITY_ORDER)


def _highest(values: pd.Series, order: dict[str, int]) -> object:
    known = [v for v in values.dropna() if v in order]
    if not known:
        others = values.dropna()
        return others.iloc[0] if len(others) else None
    return max(known, key=lambda v: order[v])
