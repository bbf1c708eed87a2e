"""The intervention vocabulary (`config/interventions.yaml`): event types and their defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ingest.errors import SettingsError

__all__ = ["SENSITIVITY_LEVELS", "InterventionType", "InterventionVocabulary", "load_vocabulary"]

SENSITIVITY_LEVELS: tuple[str, ...] = ("standard", "sensitive", "restricted")
_RAGS = ("red", "amber", "green")


@dataclass(frozen=True)
class InterventionType:
    """One kind of statutory intervention or incident."""

    key: str
    label: str
    badge: str
    domain: str
    sensitivity: str = "standard"
    statutory: bool = False
    rag: str = "amber"
    badges: Mapping[str, str] = field(default_factory=dict)

    _KEYS = ("label", "badge", "badges", "domain", "sensitivity", "statutory", "rag")

    @classmethod
    def from_dict(cls, key: str, d: Any) -> InterventionType:
        where = f"interventions.{key}"
        if not isinstance(d, Mapping):
            raise SettingsError(f"{where}: expected a mapping")
        unknown = sorted(set(d) - set(cls._KEYS))
        if unknown:
            raise SettingsError(f"{where}: unknown key(s) {unknown}")
        for required in ("label", "badge", "domain"):
            if required not in d:
                raise SettingsError(f"{where}: missing {required!r}")
        sensitivity = d.get("sensitivity", "standard")
        if sensitivity not in SENSITIVITY_LEVELS:
            raise SettingsError(f"{where}.sensitivity: {sensitivity!r} is not one of {SENSITIVITY_LEVELS}")
        rag = d.get("rag", "amber")
        if rag not in _RAGS:
            raise SettingsError(f"{where}.rag: {rag!r} is not one of {_RAGS}")
        return cls(
            key=key,
            label=str(d["label"]),
            badge=str(d["badge"]),
            domain=str(d["domain"]),
            sensitivity=sensitivity,
            statutory=bool(d.get("statutory", False)),
            rag=rag,
            badges={str(k): str(v) for k, v in (d.get("badges") or {}).items()},
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "label": self.label,
            "badge": self.badge,
            "domain": self.domain,
            "sensitivity": self.sensitivity,
            "statutory": self.statutory,
            "rag": self.rag,
        }
        if self.badges:
            out["badges"] = dict(self.badges)
        return out

    def badge_for(self, role: str | None) -> str:
        """The badge drawn for a person with ``role`` in an event of this type."""
        return self.badges.get(role or "", self.badge)


@dataclass(frozen=True)
class InterventionVocabulary:
    """Every event type kinlink knows, by key."""

    types: Mapping[str, InterventionType]

    @classmethod
    def from_dict(cls, d: Any) -> InterventionVocabulary:
        if not isinstance(d, Mapping) or not isinstance(d.get("interventions"), Mapping):
            raise SettingsError("interventions vocabulary: expected a mapping under 'interventions'")
        return cls({str(k): InterventionType.from_dict(str(k), v) for k, v in d["interventions"].items()})

    def to_dict(self) -> dict[str, Any]:
        return {
            "sensitivity_levels": list(SENSITIVITY_LEVELS),
            "interventions": {k: t.to_dict() for k, t in self.types.items()},
        }

    def __contains__(self, key: object) -> bool:
        return key in self.types

    def sensitivity(self, event_type: str, override: str | None = None) -> str:
        """The stricter of the type's default sensitivity and a source's override."""
        base = self.types[event_type].sensitivity
        if override is None:
            return base
        return max(base, override, key=SENSITIVITY_LEVELS.index)


def load_vocabulary(path: Path | str) -> InterventionVocabulary:
    """Read `config/interventions.yaml` (or another vocabulary file)."""
    path = Path(path)
    try:
        return InterventionVocabulary.from_dict(yaml.safe_load(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise SettingsError(f"vocabulary file not found: {path}") from None
    except yaml.YAMLError:
        raise SettingsError(f"{path}: not valid YAML") from None
