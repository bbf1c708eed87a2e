"""Linkage settings (`config/linkage.yaml`) and the trained model document built on them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ingest.errors import SettingsError
from linkage.blocking import LINK_TYPES, BlockingRule
from linkage.comparisons import Comparison, comparison_from_dict
from linkage.model import ModelParameters
from linkage.name_ties import TIE_KINDS

__all__ = ["DEFAULT_SETTINGS_PATH", "ClusteringSettings", "LinkageSettings", "ModelSettings"]

DEFAULT_SETTINGS_PATH = Path(__file__).resolve().parent.parent / "config" / "linkage.yaml"


def _check(d: Any, allowed: tuple[str, ...], where: str) -> Mapping[str, Any]:
    if d is None:
        return {}
    if not isinstance(d, Mapping):
        raise SettingsError(f"{where}: expected a mapping")
    unknown = sorted(set(d) - set(allowed))
    if unknown:
        raise SettingsError(f"{where}: unknown key(s) {unknown}; allowed: {list(allowed)}")
    return d


@dataclass(frozen=True)
class ModelSettings:
    em_max_iterations: int = 200
    em_tolerance: float = 1e-6
    smoothing: float = 20.0
    random_pairs: int = 1_000_000
    term_frequency: tuple[str, ...] = ("given_name", "family_name")
    max_tf_adjustment: float = 6.0
    #: Comparisons whose agreement is weighed among bearers of the same given name, and the
    #: kind of tie (``sex``, ``birth_year``): see :mod:`linkage.name_ties`.
    given_name_ties: tuple[tuple[str, str], ...] = (
        ("sex", "sex"),
        ("dob", "birth_year"),
        ("dob_estimated", "birth_year"),
    )

    @classmethod
    def from_dict(cls, d: Any) -> ModelSettings:
        d = _check(d, tuple(cls.__dataclass_fields__), "model")
        base = cls()
        out = cls(
            em_max_iterations=int(d.get("em_max_iterations", base.em_max_iterations)),
            em_tolerance=float(d.get("em_tolerance", base.em_tolerance)),
            smoothing=float(d.get("smoothing", base.smoothing)),
            random_pairs=int(d.get("random_pairs", base.random_pairs)),
            term_frequency=tuple(d.get("term_frequency", base.term_frequency)),
            max_tf_adjustment=float(d.get("max_tf_adjustment", base.max_tf_adjustment)),
            given_name_ties=_ties(d.get("given_name_ties", dict(base.given_name_ties))),
        )
        if out.em_max_iterations < 1 or out.random_pairs < 1000:
            raise SettingsError("model: em_max_iterations must be >= 1 and random_pairs >= 1000")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "em_max_iterations": self.em_max_iterations,
            "em_tolerance": self.em_tolerance,
            "smoothing": self.smoothing,
            "random_pairs": self.random_pairs,
            "term_frequency": list(self.term_frequency),
            "max_tf_adjustment": self.max_tf_adjustment,
            "given_name_ties": dict(self.given_name_ties),
        }


def _ties(d: Any) -> tuple[tuple[str, str], ...]:
    """``model.given_name_ties``: a mapping of comparison name to kind of tie."""
    if d is None:
        return ()
    if not isinstance(d, Mapping):
        raise SettingsError("model.given_name_ties: expected a mapping of comparison name to kind")
    bad = sorted(str(k) for k, v in d.items() if v not in TIE_KINDS)
    if bad:
        raise SettingsError(f"model.given_name_ties: unknown kind for {bad}; allowed: {sorted(TIE_KINDS)}")
    return tuple((str(k), str(v)) for k, v in d.items())


@dataclass(frozen=True)
class ClusteringSettings:
    threshold: float = 0.95
    cannot_link_below: float = 0.01
    dob_conflict_years: float = 1.0

    @classmethod
    def from_dict(cls, d: Any) -> ClusteringSettings:
        d = _check(d, tuple(cls.__dataclass_fields__), "clustering")
        base = cls()
        out = cls(
            threshold=float(d.get("threshold", base.threshold)),
            cannot_link_below=float(d.get("cannot_link_below", base.cannot_link_below)),
            dob_conflict_years=float(d.get("dob_conflict_years", base.dob_conflict_years)),
        )
        if not 0 < out.cannot_link_below < out.threshold < 1:
            raise SettingsError("clustering: need 0 < cannot_link_below < threshold < 1")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "cannot_link_below": self.cannot_link_below,
            "dob_conflict_years": self.dob_conflict_years,
        }


@dataclass(frozen=True)
class LinkageSettings:
    """Everything the matcher needs to know, and (once trained) its fitted parameters."""

    link_type: str
    rules: tuple[BlockingRule, ...]
    comparisons: tuple[Comparison, ...]
    context: tuple[Comparison, ...]
    max_pairs_per_rule: int = 50_000_000
    household_block_size: int = 60
    model: ModelSettings = field(default_factory=ModelSettings)
    clustering: ClusteringSettings = field(default_factory=ClusteringSettings)
    nicknames: Path | None = None
    parameters: ModelParameters | None = None

    _KEYS = (
        "link_type",
        "blocking",
        "comparisons",
        "context",
        "model",
        "clustering",
        "nicknames",
        "parameters",
    )

    @classmethod
    def from_dict(cls, d: Any, base_dir: Path | str | None = None) -> LinkageSettings:
        d = _check(d, cls._KEYS, "linkage settings")
        link_type = d.get("link_type", "link_and_dedupe")
        if link_type not in LINK_TYPES:
            raise SettingsError(f"link_type: {link_type!r} is not one of {list(LINK_TYPES)}")
        blocking = _check(
            d.get("blocking"), ("rules", "max_pairs_per_rule", "household_block_size"), "blocking"
        )
        rules_raw = blocking.get("rules") or []
        if not rules_raw:
            raise SettingsError("blocking.rules: give at least one blocking rule")
        rules = tuple(BlockingRule.from_dict(r, f"blocking.rules[{i}]") for i, r in enumerate(rules_raw))
        comparisons = tuple(
            comparison_from_dict(c, f"comparisons[{i}]") for i, c in enumerate(d.get("comparisons") or [])
        )
        context = tuple(
            comparison_from_dict(c, f"context[{i}]") for i, c in enumerate(d.get("context") or [])
        )
        if not comparisons:
            raise SettingsError("comparisons: give at least one comparison")
        if [c.name for c in context] != ["family_name", "location"]:
            raise SettingsError("context: give the family_name and location comparisons, in that order")
        names = [c.name for c in (*comparisons, *context)]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise SettingsError(f"comparisons: names used twice: {dupes}")
        nick = d.get("nicknames")
        nick_path = None
        if nick:
            nick_path = Path(nick) if base_dir is None or Path(nick).is_absolute() else Path(base_dir) / nick
        params = ModelParameters.from_dict(d["parameters"]) if d.get("parameters") else None
        settings = cls(
            link_type=link_type,
            rules=rules,
            comparisons=comparisons,
            context=context,
            max_pairs_per_rule=int(blocking.get("max_pairs_per_rule", 50_000_000)),
            household_block_size=int(blocking.get("household_block_size", 60)),
            model=ModelSettings.from_dict(d.get("model")),
            clustering=ClusteringSettings.from_dict(d.get("clustering")),
            nicknames=nick_path,
            parameters=params,
        )
        if params is not None and params.comparisons != [c.name for c in comparisons]:
            raise SettingsError("parameters: fitted for other comparisons than these settings list")
        if params is not None:
            _check_level_counts(params, [*comparisons, *context])
        return settings

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "link_type": self.link_type,
            "blocking": {
                "max_pairs_per_rule": self.max_pairs_per_rule,
                "household_block_size": self.household_block_size,
                "rules": [r.to_dict() for r in self.rules],
            },
            "comparisons": [c.to_dict() for c in self.comparisons],
            "context": [c.to_dict() for c in self.context],
            "model": self.model.to_dict(),
            "clustering": self.clustering.to_dict(),
        }
        if self.nicknames is not None:
            out["nicknames"] = str(self.nicknames)
        if self.parameters is not None:
            out["parameters"] = self.parameters.to_dict()
        return out

    @classmethod
    def load(cls, path: Path | str | None = None) -> LinkageSettings:
        """Read settings (or a trained model) from YAML or JSON; None gives the shipped default."""
        path = Path(path) if path is not None else DEFAULT_SETTINGS_PATH
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SettingsError(f"linkage settings not found: {path}") from None
        try:
            doc = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (yaml.YAMLError, json.JSONDecodeError):
            raise SettingsError(f"{path}: not valid YAML/JSON") from None
        try:
            return cls.from_dict(doc, base_dir=path.resolve().parent)
        except SettingsError as exc:
            raise SettingsError(f"{path}: {exc}") from None

    def save(self, path: Path | str) -> None:
        """Write the settings (with parameters, if trained) as JSON or YAML by file suffix."""
        path = Path(path)
        doc = self.to_dict()
        text = json.dumps(doc, indent=2) if path.suffix == ".json" else yaml.safe_dump(doc, sort_keys=False)
        path.write_text(text, encoding="utf-8")

    def with_parameters(self, parameters: ModelParameters | None) -> LinkageSettings:
        return LinkageSettings(
            link_type=self.link_type,
            rules=self.rules,
            comparisons=self.comparisons,
            context=self.context,
            max_pairs_per_rule=self.max_pairs_per_rule,
            household_block_size=self.household_block_size,
            model=self.model,
            clustering=self.clustering,
            nicknames=self.nicknames,
            parameters=parameters,
        )


def _check_level_counts(params: ModelParameters, comparisons: list[Comparison]) -> None:
    """Fitted parameters hold one value per level; a comparison whose levels changed since
    (a newer kinlink's preset) cannot reuse them."""
    fitted = {
        **dict(zip(params.comparisons, params.m, strict=True)),
        **dict(zip(params.context, params.m_context, strict=True)),
    }
    for comp in comparisons:
        if comp.name in fitted and len(fitted[comp.name]) != len(comp.levels):
            raise SettingsError(
                f"parameters: {comp.name!r} was fitted with {len(fitted[comp.name])} levels but has "
                f"{len(comp.levels)} in this version of kinlink; train the model again "
                "(`kinlink link` without --model)"
            )
