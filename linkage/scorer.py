"""A pair scorer: everything needed to grade and weigh any pair of prepared records.

Built once per run from the prepared records, the settings and the fitted parameters; used
for the candidate pairs of a run and for explaining one pair afterwards, so both always
agree to the last bit.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd

from linkage.blocking import BlockingRule, _capped, _key_codes
from linkage.comparisons import PairView, known_births
from linkage.model import ModelParameters
from linkage.name_ties import NameTies, name_tie_adjustments, name_ties
from linkage.scoring import (
    REST,
    Graded,
    grade_pairs,
    probability,
    tf_adjustments,
    total_weight,
    weight_terms,
)
from linkage.settings import LinkageSettings
from linkage.threads import available_threads, in_shares

__all__ = ["PairScorer", "ScoredPairs", "household_rules"]


def household_rules(max_block_size: int) -> list[BlockingRule]:
    """Rules that enumerate every pair of the household strata (blocks of household size)."""
    return [
        BlockingRule("household_family_postcode", ("family", "postcode"), max_block_size=max_block_size),
        BlockingRule("household_address", ("address_key",), max_block_size=max_block_size),
        BlockingRule("household_full_address", ("address",), max_block_size=max_block_size),
        BlockingRule("household_uprn", ("uprn",), max_block_size=max_block_size),
    ]


@dataclass(frozen=True)
class ScoredPairs:
    view: PairView
    graded: Graded
    terms: dict[str, np.ndarray]
    weight: np.ndarray
    probability: np.ndarray
    conflict: np.ndarray


class PairScorer:
    """Grades and weighs pairs of ``prepared`` records under ``settings`` and ``params``."""

    def __init__(
        self,
        prepared: pd.DataFrame,
        settings: LinkageSettings,
        nicknames: set[tuple[str, str]],
        params: ModelParameters | None = None,
        *,
        threads: int | None = None,
    ) -> None:
        """``threads``: most threads to grade and score with (None: :func:`available_threads`)."""
        self.prepared = prepared
        self.settings = settings
        self.nicknames = nicknames
        self.params = params
        self.threads = threads if threads is not None else available_threads()
        self._codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._household = [
            _capped(_key_codes(prepared, rule.keys), rule.max_block_size)[0]
            for rule in household_rules(settings.household_block_size)
        ]
        self.frequencies: dict[str, pd.Series] = {}
        self.tf_base: dict[str, float] = {}
        for comp in (*settings.comparisons, *settings.context):
            if comp.name in settings.model.term_frequency and comp.tf_column:
                share = prepared[comp.tf_column].value_counts(normalize=True)
                self.frequencies[comp.tf_column] = share
                self.tf_base[comp.name] = float((share**2).sum())

    @functools.cached_property
    def ties(self) -> NameTies | None:
        """What a shared given name says about sex and age, counted over the prepared records
        when first needed (a batch of Spark's is given those of all records instead)."""
        return name_ties(self.prepared, dict(self.settings.model.given_name_ties))

    def forget(self, columns: tuple[str, ...] | list[str]) -> None:
        """Drop cached per-record values of ``columns`` (their contents were replaced)."""
        for name in list(self._codes):
            if any(name == c or name.endswith(f":{c}") or c in name.split("|") for c in columns):
                del self._codes[name]

    def view(self, left: np.ndarray, right: np.ndarray) -> PairView:
        return PairView(self.prepared, left, right, nicknames=self.nicknames, codes=self._codes)

    def enumerated(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """True where the pair shares a household block (so its stratum was enumerated)."""
        out = np.zeros(len(left), dtype=bool)
        for codes in self._household:
            out |= (codes[left] >= 0) & (codes[left] == codes[right])
        return out

    def grade(
        self, view: PairView, *, household: bool = True, enumerated: np.ndarray | None = None
    ) -> Graded:
        """Levels and strata of the pairs of ``view`` (shared out over threads when there are many).

        ``enumerated``: which pairs share a household block, when the caller knows (blocking
        finds those pairs with its household rules first); else looked up, or (``household``
        False) none."""
        comparisons, context = self.settings.comparisons, self.settings.context
        if enumerated is None:
            enumerated = self.enumerated(view.left, view.right) if household else np.zeros(len(view), bool)
        n = len(view)
        out = Graded(
            np.empty((n, len(comparisons)), dtype=np.int8),
            np.empty((n, len(context)), dtype=np.int8),
            np.empty(n, dtype=np.int64),
        )

        def grade_part(part: slice, threads: int) -> None:
            graded = grade_pairs(_part(view, part, threads), comparisons, context, enumerated[part])
            out.levels[part], out.context_levels[part] = graded.levels, graded.context_levels
            out.strata[part] = graded.strata

        in_shares(n, grade_part, self.threads, before=self.warm)
        return out

    def warm(self) -> None:
        """Build every per-record value the comparisons, term frequencies and conflicts read,
        so that threads grading slices of pairs only read them."""
        n = len(self.prepared)
        if n == 0:
            return
        one = self.view(np.zeros(1, dtype=np.int64), np.full(1, min(1, n - 1), dtype=np.int64))
        comparisons, context = self.settings.comparisons, self.settings.context
        for comp in (*comparisons, *context):
            for level in comp.levels[:-1]:  # each level, not only up to the first that applies
                level.applies(one)
        graded = grade_pairs(one, comparisons, context, np.zeros(1, dtype=bool))
        self.adjustments(one, graded)
        self.conflicts(one, graded)

    def adjustments(self, view: PairView, graded: Graded) -> dict[str, np.ndarray]:
        """Term-frequency adjustments, then those for what a shared given name already says
        (:mod:`linkage.name_ties`), by name."""
        tf = tf_adjustments(
            view,
            graded,
            self.settings.comparisons,
            self.settings.context,
            self.frequencies,
            self.tf_base,
            self.settings.model.term_frequency,
            self.settings.model.max_tf_adjustment,
        )
        comparisons = self.settings.comparisons
        ties = name_tie_adjustments(view, graded.levels, graded.strata, comparisons, self.ties, REST)
        return {**tf, **ties}

    def conflicts(self, view: PairView, graded: Graded) -> np.ndarray:
        """Two valid identifiers that differ, or real dates of birth far apart and not a typo."""
        comparisons = self.settings.comparisons
        names = [c.name for c in comparisons]
        conflict = np.zeros(len(view), dtype=bool)
        for ident in ("nhs_number", "upn"):
            if ident in names:
                j = names.index(ident)
                conflict |= graded.levels[:, j] == len(comparisons[j].levels) - 1  # valid, different
        if "dob" in names:
            j = names.index("dob")
            dl, dr = view.numbers("dob_days")
            with np.errstate(invalid="ignore"):
                far = np.abs(dl - dr) > self.settings.clustering.dob_conflict_years * 365.25
            conflict |= (graded.levels[:, j] == len(comparisons[j].levels) - 1) & far
        conflict |= self.generation_conflicts(view)
        if "mother_of" in self.prepared.columns:  # the mother and the father of one child
            conflict |= view.lists_intersect("mother_of", "father_of") | view.lists_intersect(
                "father_of", "mother_of"
            )
        return conflict

    def generation_conflicts(self, view: PairView) -> np.ndarray:
        """A record born after the latest date its stated children allow, or before the
        earliest its stated parents allow (any known date of birth, real or estimated)."""
        if "dob_latest_days" not in self.prepared.columns:
            return np.zeros(len(view), dtype=bool)
        born_l, born_r = known_births(view)
        latest_l, latest_r = view.numbers("dob_latest_days")
        earliest_l, earliest_r = view.numbers("dob_earliest_days")
        slack = 365.25  # estimated dates of birth are within about a year
        with np.errstate(invalid="ignore"):
            return (
                (born_l > latest_r + slack)
                | (born_r > latest_l + slack)
                | (born_l < earliest_r - slack)
                | (born_r < earliest_l - slack)
                | (latest_l < earliest_r - slack)
                | (latest_r < earliest_l - slack)
            )

    def score(
        self,
        left: np.ndarray,
        right: np.ndarray,
        graded: Graded | None = None,
        view: PairView | None = None,
    ) -> ScoredPairs:
        """Weights and probabilities of pairs (``view``: the pairs' view, when one is at hand)."""
        params = self.params
        if params is None:
            raise ValueError("the scorer has no fitted parameters yet")
        view = view if view is not None else self.view(left, right)
        graded = graded if graded is not None else self.grade(view)
        n = len(view)
        terms: dict[str, np.ndarray] = {}
        conflict = np.empty(n, dtype=bool)
        lock = threading.Lock()

        def score_part(part: slice, threads: int) -> None:
            share = _part(view, part, threads)
            some = Graded(graded.levels[part], graded.context_levels[part], graded.strata[part])
            part_terms = weight_terms(params, some, self.adjustments(share, some))
            part_conflict = self.conflicts(share, some)
            with lock:  # every slice gives the terms in one order: the sum is the same bits
                for name, values in part_terms.items():
                    terms.setdefault(name, np.empty(n, dtype=values.dtype))[part] = values
                conflict[part] = part_conflict

        in_shares(n, score_part, self.threads, before=self.warm)
        weight = total_weight(terms)
        return ScoredPairs(view, graded, terms, weight, probability(weight), conflict)


def _part(view: PairView, part: slice, threads: int) -> PairView:
    """The pairs of ``view`` in ``part`` (``view`` itself, and its cache, when that is all of them)."""
    if part.start == 0 and part.stop == len(view):
        view.threads = threads
        return view
    return view.subset(part, threads=threads)
