"""Settings of relationship inference and family formation (``config/families.yaml``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from ingest.errors import SettingsError

__all__ = ["DEFAULT_FAMILY_SETTINGS_PATH", "FamilySettings"]

DEFAULT_FAMILY_SETTINGS_PATH = Path(__file__).resolve().parent.parent / "config" / "families.yaml"


@dataclass(frozen=True)
class FamilySettings:
    """How relationships are weighed and checked and how families are formed.

    Every field has a default; ``config/families.yaml`` documents each.
    """

    stated_confidence: float = 0.9
    identifier_confidence: float = 0.85
    derived_partner_confidence: float = 0.8
    co_residence_confidence: float = 0.5
    min_parent_age: float = 12.0
    max_parent_age: float = 70.0
    min_grandparent_age: float = 26.0
    child_age_limit: float = 18.0
    window_start: dt.date | None = None
    max_household_size: int = 15
    intervention_merge_days: int = 7

    def __post_init__(self) -> None:
        for name in (
            "stated_confidence",
            "identifier_confidence",
            "derived_partner_confidence",
            "co_residence_confidence",
        ):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise SettingsError(f"families settings: {name} must be in (0, 1], got {value!r}")
        if not 0 < self.min_parent_age < self.max_parent_age:
            raise SettingsError("families settings: need 0 < min_parent_age < max_parent_age")
        if self.child_age_limit <= 0:
            raise SettingsError("families settings: child_age_limit must be positive")
        if self.max_household_size < 2:
            raise SettingsError("families settings: max_household_size must be at least 2")
        if self.intervention_merge_days < 0:
            raise SettingsError("families settings: intervention_merge_days must not be negative")

    @classmethod
    def from_dict(cls, d: Any) -> FamilySettings:
        if d is None:
            return cls()
        if not isinstance(d, dict):
            raise SettingsError("families settings: expected a mapping")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise SettingsError(f"families settings: unknown key(s) {unknown}; allowed: {sorted(known)}")
        values = dict(d)
        start = values.get("window_start")
        if isinstance(start, str):
            try:
                values["window_start"] = dt.date.fromisoformat(start)
            except ValueError:
                raise SettingsError("families settings: window_start must be a date (YYYY-MM-DD)") from None
        elif start is not None and not isinstance(start, dt.date):
            raise SettingsError("families settings: window_start must be a date (YYYY-MM-DD)")
        for f in fields(cls):
            value = values.get(f.name)
            if (
                f.name in values
                and f.name != "window_start"
                and (not isinstance(value, int | float) or isinstance(value, bool))
            ):
                raise SettingsError(f"families settings: {f.name} must be a number")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["window_start"] = self.window_start.isoformat() if self.window_start else None
        return d

    @classmethod
    def load(cls, path: Path | str | None = None) -> FamilySettings:
        """Read a settings file (default: the shipped ``config/families.yaml``)."""
        path = Path(path) if path is not None else DEFAULT_FAMILY_SETTINGS_PATH
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SettingsError(f"families settings not found: {path}") from None
        except yaml.YAMLError:
            raise SettingsError(f"{path}: not valid YAML") from None
        return cls.from_dict(doc)
