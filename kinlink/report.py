"""The linkage quality report: one self-contained HTML file to read after a run.

What went in (rows per source, what was quarantined and why), how candidate pairs were
found (per blocking rule), what the model learnt (m and u per comparison level), where the
match weights fall against the threshold, what came out (people, relationships, families),
a sample of the pairs nearest the threshold with the terms of their match weight, and,
given ground truth, how good it all is.

The pure core is :func:`build_report` (tables, manifest and model in; an HTML string out);
:func:`write_report` reads a workspace and writes the file. The report holds counts, model
parameters and comparison *levels* only: no names, dates of birth, identifiers or record
keys, so it can be shared with whoever tunes the matcher. Charts are inline SVG drawn by
matplotlib; the file needs no network, scripts or other files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import io
import itertools
import math
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ingest.errors import SettingsError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from kinlink.workspace import Workspace
    from linkage.settings import LinkageSettings

__all__ = [
    "M_FLOOR",
    "REPORT_COLUMNS",
    "ReportTruth",
    "build_report",
    "explain_stored_pair",
    "model_levels",
    "model_levels_figure",
    "near_threshold_patterns",
    "pair_truth",
    "read_truth",
    "threshold_curve",
    "threshold_figure",
    "threshold_weight",
    "waterfall_figure",
    "weight_histogram_figure",
    "write_report",
]

#: The columns the report reads of each workspace table (it never reads names, dates or identifiers
#: beyond the record keys it needs to tell a pair's sources and to score against ground truth).
REPORT_COLUMNS: dict[str, tuple[str, ...] | None] = {
    "quarantine": ("source", "scope", "reason", "column"),
    "pairs": None,  # record keys, blocking rule, stratum, levels, weights; all needed
    "person_index": ("record_key", "person_id", "cluster_confidence"),
    "persons": ("person_id", "record_count", "dob_conflict", "sources", "cluster_confidence"),
    "relationships": ("person_id_from", "person_id_to", "relationship_type", "basis", "confidence"),
    "relationship_conflicts": ("relationship_type", "rule"),
    "families": ("family_id", "person_id", "role"),
    "stated_relationships": ("from_record_key", "to_record_key", "relationship_type"),
}

# Okabe–Ito: distinguishable with every common colour-vision deficiency.
BLUE, ORANGE, GREEN, VERMILLION = "#0072B2", "#E69F00", "#009E73", "#D55E00"
SKY, PURPLE, YELLOW, GREY, LIGHT = "#56B4E9", "#CC79A7", "#F0E442", "#8C8C8C", "#D9D9D9"
_CYCLE = (BLUE, ORANGE, GREEN, VERMILLION, SKY, PURPLE, YELLOW, GREY)

#: An m below this is EM's floor: no pair of one person was seen at the level.
M_FLOOR = 1e-6


# ----------------------------------------------------------------------------- computations


def threshold_weight(probability: float) -> float:
    """The match weight (bits) of a match probability: ``log2(p / (1 - p))``.

    Examples
    --------
    >>> round(threshold_weight(0.95), 3)
    4.248
    >>> threshold_weight(0.5)
    0.0
    """
    if not 0.0 < probability < 1.0:
        raise ValueError(f"probability must be between 0 and 1 (exclusive), not {probability!r}")
    return math.log2(probability / (1.0 - probability))


def model_levels(settings: LinkageSettings) -> pd.DataFrame:
    """The fitted m and u of every comparison level, one row per level, with its weight.

    Columns: ``comparison``, ``part`` (``person`` for the comparisons, ``context`` for family
    name and location), ``level`` (its number; 0 is the null level), ``label``, ``m``, ``u``
    (among random pairs of records, the ``R`` stratum) and ``weight`` (``log2(m / u)``, bits;
    0 for the null level, which is no evidence either way). Person comparisons also have
    ``weight_H``, ``weight_P`` and ``weight_C``: the weight within each household stratum,
    whose own u reflects that people of one household agree by coincidence more often.

    Raises
    ------
    SettingsError
        If the settings carry no fitted parameters (an untrained model).
    """
    params = settings.parameters
    if params is None:
        raise SettingsError("the linkage model has no fitted parameters; run `kinlink link` first")
    rows: list[dict[str, Any]] = []
    person_w = params.person_weights()
    for i, comparison in enumerate(settings.comparisons):
        for level, label in enumerate(comparison.labels):
            rows.append(
                {
                    "comparison": comparison.name,
                    "part": "person",
                    "level": level,
                    "label": label,
                    "m": float(params.m[i][level]),
                    "u": float(params.u_random[i][level]),
                    "weight": float(person_w[i][3, level]),
                    "weight_H": float(person_w[i][0, level]),
                    "weight_P": float(person_w[i][1, level]),
                    "weight_C": float(person_w[i][2, level]),
                }
            )
    context_w = params.context_weights()
    for j, comparison in enumerate(settings.context):
        for level, label in enumerate(comparison.labels):
            rows.append(
                {
                    "comparison": comparison.name,
                    "part": "context",
                    "level": level,
                    "label": label,
                    "m": float(params.m_context[j][level]),
                    "u": float(params.u_context[j][level]),
                    "weight": float(context_w[j][level]),
                    "weight_H": float("nan"),
                    "weight_P": float("nan"),
                    "weight_C": float("nan"),
                }
            )
    return pd.DataFrame(rows)


def explain_stored_pair(
    pair: Mapping[str, Any] | pd.Series, model: LinkageSettings | pd.DataFrame
) -> pd.DataFrame:
    """The terms of a scored pair's match weight, read from its row of the ``pairs`` table.

    The same table as :func:`linkage.explain.explain_pair` (``term``, ``level``, ``weight``,
    ``cumulative``, ``probability``), from the levels and weights the run stored, so it needs
    neither the records nor a second scoring; the weights sum to the pair's ``match_weight``.
    ``model`` gives the level labels: the trained :class:`~linkage.settings.LinkageSettings`,
    or its :func:`model_levels` table (``kinlink.link_frames(...)["model"]``).
    """
    from linkage.model import HOUSEHOLD_STRATA, STRATUM_LABELS
    from linkage.name_ties import adjustment_label
    from linkage.scoring import probability

    if isinstance(model, pd.DataFrame):
        ordered = model.sort_values(["comparison", "level"], kind="stable")
        labels = {str(c): [str(x) for x in g["label"]] for c, g in ordered.groupby("comparison", sort=False)}
        context = set(model.loc[model["part"] == "context", "comparison"].astype(str))
    else:
        labels = {c.name: c.labels for c in (*model.comparisons, *model.context)}
        context = {c.name for c in model.context}
    stratum = str(pair["stratum"])
    rows = []
    for column in pair.keys():  # noqa: SIM118 - a Series' keys are its index
        name = str(column)
        if not name.startswith("weight_"):
            continue
        term = name.removeprefix("weight_")
        if term == "prior":
            level = f"stratum {stratum}: {STRATUM_LABELS.get(stratum, stratum)}"
        elif term.startswith("tf_"):
            level = adjustment_label(term)
        elif term in labels and f"level_{term}" in pair:
            index = int(pair[f"level_{term}"])
            names = labels[term]
            level = names[index] if 0 <= index < len(names) else f"level {index}"
            if stratum in HOUSEHOLD_STRATA and term in context:
                level += " (in the stratum's prior)"
        else:
            level = ""
        rows.append({"term": term, "level": level, "weight": float(pair[name])})
    table = pd.DataFrame(rows, columns=["term", "level", "weight"])
    table["cumulative"] = table["weight"].cumsum()
    table["probability"] = probability(table["cumulative"].to_numpy())
    if bool(pair.get("hard_conflict", False)):
        table.attrs["hard_conflict"] = True
    return table


def near_threshold_patterns(pairs: pd.DataFrame, threshold: float, n: int = 8) -> pd.DataFrame:
    """The comparison patterns nearest the threshold, with one representative pair each.

    Pairs are grouped by their pattern (stratum, every comparison level, hard conflict); for
    each pattern the pair whose weight is nearest ``threshold`` (bits) represents it. Up to
    ``n // 2`` patterns just below and ``n - n // 2`` at or above the threshold are returned,
    nearest first, so the sample shows different reasons for being close rather than one
    common pattern many times.

    Returns
    -------
    pandas.DataFrame
        The representative rows of ``pairs`` with ``pattern_pairs`` (pairs sharing the
        pattern), ``pattern_within_1_bit`` (of those, within one bit of the threshold) and
        ``distance`` (bits from the threshold, signed), ordered by ``distance``.
    """
    if pairs.empty:
        return pairs.assign(pattern_pairs=[], pattern_within_1_bit=[], distance=[])
    levels = sorted(c for c in pairs.columns if c.startswith("level_"))
    keys = ["stratum", *levels] + (["hard_conflict"] if "hard_conflict" in pairs.columns else [])
    frame = pairs.assign(distance=pairs["match_weight"] - threshold)
    frame["_near"] = frame["distance"].abs()
    frame["_pattern"] = frame.groupby(keys, sort=False, dropna=False).ngroup()
    sizes = frame.groupby("_pattern").size()
    close = frame[frame["_near"] <= 1.0].groupby("_pattern").size()
    ordered = frame.sort_values(["_near", "match_weight"], kind="stable")
    representatives = ordered.drop_duplicates("_pattern")
    above = representatives[representatives["distance"] >= 0].head(n - n // 2)
    below = representatives[representatives["distance"] < 0].head(n // 2)
    chosen = pd.concat([below, above]).sort_values("distance", kind="stable")
    chosen = chosen.assign(
        pattern_pairs=chosen["_pattern"].map(sizes).astype("int64"),
        pattern_within_1_bit=chosen["_pattern"].map(close).fillna(0).astype("int64"),
    )
    return chosen.drop(columns=["_near", "_pattern"]).reset_index(drop=True)


@dataclass(frozen=True)
class ReportTruth:
    """Ground truth to score the run against (DESIGN.md's shapes; any labelled data set).

    ``records``: ``source, source_record_id, person_id``; ``relationships``:
    ``person_id_from, person_id_to, relationship_type``; ``families``: ``family_id,
    person_id`` (and ``role``). The last two are optional.
    """

    records: pd.DataFrame
    relationships: pd.DataFrame | None = None
    families: pd.DataFrame | None = None


def _truth_keys(truth_records: pd.DataFrame) -> pd.Series:
    truth = truth_records.dropna(subset=["source_record_id", "person_id"])
    keys = truth["source"].astype(str) + ":" + truth["source_record_id"].astype(str)
    series = pd.Series(truth["person_id"].astype(str).to_numpy(), index=keys.to_numpy())
    return series[~series.index.duplicated()]


def pair_truth(pairs: pd.DataFrame, truth_records: pd.DataFrame) -> pd.Series:
    """For each scored pair: True if ground truth puts its two records in one person, False if
    in two, missing (``pd.NA``) where the truth does not label both records.

    Examples
    --------
    >>> pairs = pd.DataFrame({"record_key_l": ["a:1", "a:1", "a:1"], "record_key_r": ["b:1", "b:2", "c:9"]})
    >>> truth = pd.DataFrame({"source": ["a", "b", "b"], "source_record_id": ["1", "1", "2"],
    ...                       "person_id": ["p", "p", "q"]})
    >>> pair_truth(pairs, truth).tolist()
    [True, False, <NA>]
    """
    person = _truth_keys(truth_records)
    left = pairs["record_key_l"].astype(str).map(person)
    right = pairs["record_key_r"].astype(str).map(person)
    same = pd.Series(left.to_numpy() == right.to_numpy(), index=pairs.index, dtype="boolean")
    same[left.isna().to_numpy() | right.isna().to_numpy()] = pd.NA
    return same


def _boolean_labels(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """(labelled, value) arrays from True / False / missing values."""
    series = pd.Series(np.asarray(values, dtype=object)).astype("boolean")
    return series.notna().to_numpy(dtype=bool), series.fillna(False).to_numpy(dtype=bool)


def threshold_curve(
    weights: Sequence[float] | np.ndarray | pd.Series,
    is_match: Sequence[bool] | np.ndarray | pd.Series,
    thresholds: Sequence[float] | np.ndarray | None = None,
) -> pd.DataFrame:
    """Precision, recall and F1 of calling a pair a match at or above each threshold (bits).

    Counted over the labelled scored pairs (unlabelled ones dropped): recall is among the
    true matches the blocking found and the scoring kept, so it says how the threshold
    trades errors, not how many true pairs the whole run missed.

    Examples
    --------
    >>> curve = threshold_curve([10.0, 5.0, 1.0, -3.0], [True, True, False, False], [0.0, 6.0])
    >>> curve[["threshold", "pairs_above", "precision", "recall"]].values.tolist()
    [[0.0, 3.0, 0.6666666666666666, 1.0], [6.0, 1.0, 1.0, 0.5]]
    """
    w = np.asarray(weights, dtype=float)
    known, values = _boolean_labels(is_match)
    w, y = w[known], values[known]
    if thresholds is None:
        low = math.floor(w.min()) if len(w) else -10.0
        high = math.ceil(w.max()) if len(w) else 10.0
        thresholds = np.arange(low, high + 0.25, 0.25)
    t = np.asarray(thresholds, dtype=float)
    order = np.argsort(-w, kind="stable")
    w_sorted, y_sorted = w[order], y[order]
    true_total = int(y.sum())
    cumulative = np.concatenate([[0], np.cumsum(y_sorted)])
    above = np.searchsorted(-w_sorted, -t, side="right")  # pairs with weight >= t
    tp = cumulative[above]
    precision = np.where(above > 0, tp / np.maximum(above, 1), 1.0)
    recall = tp / true_total if true_total else np.ones_like(t)
    denominator = precision + recall
    f1 = np.where(denominator > 0, 2 * precision * recall / np.where(denominator > 0, denominator, 1), 0.0)
    return pd.DataFrame(
        {
            "threshold": t,
            "probability": 1.0 / (1.0 + np.exp2(-t)),
            "pairs_above": above.astype(float),
            "true_positives": tp.astype(float),
            "precision": precision,
            "recall": recall,
            "f1": f1,
        }
    )


# ----------------------------------------------------------------------------- charts


@contextlib.contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context(
        {
            "text.parse_math": False,  # a `$` in a source or rule name is text, not mathematics
            "font.size": 9,
            "axes.titlesize": 10,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.color": "#E6E6E6",
            "grid.linewidth": 0.8,
            "axes.axisbelow": True,
            "axes.edgecolor": "#555555",
            "legend.frameon": False,
            "svg.fonttype": "none",
        }
    ):
        yield


def _figure(width: float, height: float, **kwargs: Any) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained", **kwargs)


def _plain_log_axis(ax: Axes, axis: str = "x") -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(LogLocator(base=10, numticks=12))
    target.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    target.set_minor_formatter(NullFormatter())


def _bar_labels(ax: Axes, y: np.ndarray, values: np.ndarray, *, fmt: str = "{:,.0f}") -> None:
    span = float(np.nanmax(values)) if len(values) and np.nanmax(values) > 0 else 1.0
    for position, value in zip(y, values, strict=True):
        ax.text(value + span * 0.01, position, fmt.format(value), va="center", fontsize=8, color="#333333")


def weight_histogram_figure(
    weights: Sequence[float] | np.ndarray | pd.Series,
    threshold: float,
    *,
    is_match: Sequence[Any] | np.ndarray | pd.Series | None = None,
    hard_conflict: Sequence[bool] | np.ndarray | pd.Series | None = None,
    title: str = "Match weights of the scored pairs",
) -> Figure:
    """Histogram of match weights (1-bit bins) with the threshold marked.

    Without ``is_match`` the bars are coloured by the side of the threshold (and pairs with a
    hard conflict, which are never linked, hatched apart); with it (True / False / missing
    per pair, e.g. from :func:`pair_truth`) by what ground truth says they are.
    """
    w = np.asarray(weights, dtype=float)
    with _style():
        fig = _figure(9, 3.6)
        ax = fig.add_subplot()
        if len(w) == 0:
            ax.text(0.5, 0.5, "no scored pairs", ha="center", transform=ax.transAxes)
            return fig
        bins = np.arange(math.floor(min(w.min(), threshold)) - 1, math.ceil(max(w.max(), threshold)) + 2, 1.0)
        if is_match is not None:
            known, truth = _boolean_labels(is_match)
            unknown = ~known
            groups = [
                (w[~unknown & truth], BLUE, "same person (ground truth)", ""),
                (w[~unknown & ~truth], VERMILLION, "different people (ground truth)", ""),
                (w[unknown], LIGHT, "not labelled", ""),
            ]
        else:
            conflict = (
                np.asarray(hard_conflict, dtype=bool) if hard_conflict is not None else np.zeros(len(w), bool)
            )
            groups = [
                (w[~conflict & (w >= threshold)], BLUE, "at or above the threshold (linked)", ""),
                (w[~conflict & (w < threshold)], ORANGE, "below the threshold", ""),
                (w[conflict], LIGHT, "hard conflict (never linked)", "///"),
            ]
        groups = [g for g in groups if len(g[0])]
        ax.hist(
            [g[0] for g in groups],
            bins=bins.tolist(),
            stacked=True,
            color=[g[1] for g in groups],
            label=[f"{g[2]}: {len(g[0]):,}" for g in groups],
            edgecolor="white",
            linewidth=0.5,
        )
        for patch_group, (_v, _c, _l, hatch) in zip(ax.containers, groups, strict=False):
            for patch in patch_group:
                patch.set_hatch(hatch)
        ax.axvline(threshold, color="#222222", linestyle="--", linewidth=1.2)
        ax.annotate(
            f"threshold {threshold:.2f} bits",
            xy=(threshold, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(4, -4),
            textcoords="offset points",
            va="top",
            fontsize=8,
        )
        ax.set_xlabel("match weight (bits): log2 of the odds that the two records are one person")
        ax.set_ylabel("pairs")
        ax.set_title(title)
        ax.set_xlim(bins[0], bins[-1])
        top = ax.secondary_xaxis("top")
        probabilities = (0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999)
        spots = [
            (threshold_weight(p), p) for p in probabilities if bins[0] <= threshold_weight(p) <= bins[-1]
        ]
        top.set_xticks([s for s, _ in spots], labels=[f"{p:g}" for _, p in spots], fontsize=7)
        top.set_xlabel("match probability", fontsize=8)
        ax.legend(loc="upper right", fontsize=8)
    return fig


def model_levels_figure(levels: pd.DataFrame, *, title: str = "What the model learnt") -> Figure:
    """m and u (log scale) beside the weight they give, per comparison level.

    ``levels`` is :func:`model_levels`; null levels (no evidence, weight 0) are left out.
    """
    shown = levels[levels["level"] > 0].reset_index(drop=True)
    y_positions: list[float] = []
    headers: list[tuple[float, str]] = []
    y = 0.0
    for comparison, group in shown.groupby("comparison", sort=False):
        headers.append((y, str(comparison)))
        y += 1.0
        for _ in range(len(group)):
            y_positions.append(y)
            y += 1.0
        y += 0.4
    ys = np.array(y_positions)
    floor = M_FLOOR
    with _style():
        fig = _figure(10, 0.2 * y + 1.4)
        left, right = fig.subplots(1, 2, sharey=True, width_ratios=[1, 1])
        m = np.maximum(shown["m"].to_numpy(dtype=float), floor)
        u = np.maximum(shown["u"].to_numpy(dtype=float), floor)
        for a, b, position in zip(m, u, ys, strict=True):
            left.plot(
                [a, b], [position, position], color=LIGHT, linewidth=2.5, zorder=1, solid_capstyle="butt"
            )
        seen = shown["m"].to_numpy(dtype=float) >= M_FLOOR
        left.scatter(
            m[seen], ys[seen], color=BLUE, label="m: share among records of one person", zorder=2, s=24
        )
        left.scatter(
            m[~seen],
            ys[~seen],
            facecolors="white",
            edgecolors=BLUE,
            label="m about 0: EM saw no matches at this level",
            zorder=2,
            s=24,
        )
        left.scatter(u, ys, color=VERMILLION, marker="D", label="u: share among random pairs", zorder=2, s=18)
        left.set_xscale("log")
        left.set_xlim(floor / 2, 2)
        left.set_xticks([1e-6, 1e-4, 1e-2, 1])
        _plain_log_axis(left)
        left.set_xticks([1e-6, 1e-4, 1e-2, 1], labels=["0.000001", "0.0001", "0.01", "1"])
        left.set_xlabel("m and u (log scale)")
        left.legend(loc="lower left", bbox_to_anchor=(0, 1.0), fontsize=8, ncols=1)
        weights = shown["weight"].to_numpy(dtype=float)
        colours = np.where(weights >= 0, GREEN, VERMILLION)
        right.barh(ys, weights, color=colours, height=0.7)
        right.axvline(0, color="#555555", linewidth=0.8)
        right.tick_params(axis="y", left=False)
        right.set_xlabel("weight of the level (bits)")
        for position, value in zip(ys, weights, strict=True):
            right.text(
                value + (0.4 if value >= 0 else -0.4),
                position,
                f"{value:+.1f}",
                va="center",
                ha="left" if value >= 0 else "right",
                fontsize=7,
            )
        span = max(1.0, float(np.abs(weights).max()) if len(weights) else 1.0)
        right.set_xlim(-span * 1.25, span * 1.25)
        left.set_yticks(ys, labels=[str(s) for s in shown["label"]], fontsize=8)
        for position, name in headers:
            left.text(
                -0.02,
                position,
                name.replace("_", " ").upper(),
                transform=left.get_yaxis_transform(),
                ha="right",
                va="center",
                fontweight="bold",
                fontsize=8,
            )
            for ax in (left, right):
                ax.axhline(position - 0.7, color="#BBBBBB", linewidth=0.6)
        left.set_ylim(y - 0.4, -1)
        left.grid(axis="y", visible=False)
        right.grid(axis="y", visible=False)
        fig.suptitle(title, x=0.01, ha="left", fontweight="bold", fontsize=10)
    return fig


def threshold_figure(curve: pd.DataFrame, threshold: float, *, title: str = "Choosing a threshold") -> Figure:
    """Precision, recall and F1 of the scored pairs by threshold (from :func:`threshold_curve`)."""
    with _style():
        fig = _figure(9, 3.4)
        ax = fig.add_subplot()
        x = curve["threshold"].to_numpy(dtype=float)
        for column, colour, style in (
            ("precision", BLUE, "-"),
            ("recall", ORANGE, "-"),
            ("f1", GREEN, ":"),
        ):
            ax.plot(x, curve[column], color=colour, linestyle=style, linewidth=1.8, label=column)
        ax.axvline(threshold, color="#222222", linestyle="--", linewidth=1.2)
        at = curve.iloc[int(np.argmin(np.abs(x - threshold)))] if len(curve) else None
        if at is not None:
            ax.annotate(
                f"threshold {threshold:.2f} bits\nprecision {at['precision']:.3f}\nrecall {at['recall']:.3f}",
                xy=(threshold, 0.02),
                xycoords=("data", "axes fraction"),
                xytext=(6, 4),
                textcoords="offset points",
                fontsize=8,
            )
        if len(curve):
            # the interesting range: from the lowest threshold to where recall has fallen well away
            keep = curve[(curve["threshold"] <= threshold + 12) & (curve["recall"] >= 0.3)]
            keep = keep if len(keep) else curve
            ax.set_xlim(float(keep["threshold"].min()), max(float(keep["threshold"].max()), threshold + 2))
            low = float(keep[["precision", "recall"]].min().min())
            ax.set_ylim(max(0.0, math.floor((low - 0.02) * 20) / 20), 1.005)
        ax.set_xlabel("threshold (match weight, bits): pairs at or above it are called matches")
        ax.set_ylabel("share")
        ax.set_title(title)
        ax.legend(loc="lower right", fontsize=8)
    return fig


def waterfall_figure(
    explanation: pd.DataFrame, threshold: float | None = None, *, title: str | None = None
) -> Figure:
    """One pair's match weight built term by term (an :func:`explain_stored_pair` or
    :func:`linkage.explain.explain_pair` table), with the threshold marked."""
    weights = explanation["weight"].to_numpy(dtype=float)
    cumulative = explanation["cumulative"].to_numpy(dtype=float)
    starts = np.r_[0.0, cumulative[:-1]]
    with _style():
        fig = _figure(6.0, 0.24 * len(explanation) + 0.9)
        ax = fig.add_subplot()
        ypos = np.arange(len(explanation))
        colours = np.where(weights >= 0, GREEN, VERMILLION)
        bars = ax.barh(
            ypos, weights, left=starts, color=colours, edgecolor="#333333", linewidth=0.5, height=0.7
        )
        for bar, value in zip(bars, weights, strict=True):
            if value < 0:
                bar.set_hatch("///")
        for position, (start, value) in enumerate(zip(starts, weights, strict=True)):
            end = start + value
            ax.text(
                max(start, end) + 0.3,
                position,
                f"{value:+.2f}",
                va="center",
                fontsize=7,
                color="#333333",
            )
        total = float(cumulative[-1]) if len(cumulative) else 0.0
        ax.axvline(0, color="#777777", linewidth=0.8)
        if threshold is not None:
            ax.axvline(threshold, color="#222222", linestyle="--", linewidth=1.0)
        labels = [
            f"{t.replace('_', ' ')}: {lvl}" if lvl else t.replace("_", " ")
            for t, lvl in zip(explanation["term"], explanation["level"], strict=True)
        ]
        ax.set_yticks(ypos, labels=labels, fontsize=7.5)
        ax.set_ylim(len(explanation) - 0.4, -0.6)
        ax.grid(axis="y", visible=False)
        ax.set_xlabel("running total of the match weight (bits); dashed: the threshold", fontsize=8)
        ax.set_title(title or f"match weight {total:+.2f} bits", fontsize=9)
    return fig


def _counts_figure(
    rows: Sequence[tuple[str, Sequence[tuple[str, Sequence[str], np.ndarray, str]]]],
    *,
    height_per_bar: float = 0.28,
    width: float = 9.0,
) -> Figure:
    """Panels of horizontal bar charts: (title, [(series label, categories, values, colour)]).

    Series of one panel stack; bars keep one thickness across panels.
    """
    from matplotlib.ticker import MaxNLocator

    tallest = max([len(series[0][1]) for _title, series in rows if series] or [1])
    legends = any(label for _title, series in rows for label, *_ in series)
    with _style():
        fig = _figure(width, height_per_bar * tallest + (1.6 if legends else 1.1))
        axes = fig.subplots(1, len(rows), squeeze=False)[0]
        for ax, (panel_title, series) in zip(axes, rows, strict=True):
            ax.set_title(panel_title, fontsize=9)
            ax.grid(axis="y", visible=False)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
            if not series:
                ax.text(0.5, 0.5, "none", ha="center", va="center", transform=ax.transAxes, color=GREY)
                ax.set_yticks([])
                ax.set_xticks([])
                continue
            left: np.ndarray | None = None
            for label, names, values, colour in series:
                ypos = np.arange(len(names))
                ax.barh(ypos, values, left=left, color=colour, height=0.7, label=label or None)
                left = values if left is None else left + values
                ax.set_yticks(ypos, labels=[str(n) for n in names], fontsize=8)
            if left is not None:
                _bar_labels(ax, np.arange(len(left)), np.asarray(left, dtype=float))
                ax.set_xlim(0, float(np.max(left)) * 1.18 if np.max(left) > 0 else 1)
            ax.set_ylim(tallest - 0.5, -0.5)
            if any(label for label, *_ in series):
                ax.legend(
                    fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=min(4, len(series))
                )
    return fig


def _hist_bars(
    ax: Axes, labels: Sequence[str], values: Sequence[float] | np.ndarray, colour: str, title: str
) -> None:
    x = np.arange(len(labels))
    ax.bar(x, values, color=colour, width=0.75)
    ax.set_xticks(x, labels=list(labels), fontsize=7.5)
    ax.set_title(title, fontsize=9)
    ax.grid(axis="x", visible=False)
    top = max(values) if len(values) else 1
    for position, value in zip(x, values, strict=True):
        ax.text(float(position), value + top * 0.01, f"{value:,.0f}", ha="center", va="bottom", fontsize=7)


def _size_buckets(sizes: pd.Series, cap: int) -> tuple[list[str], np.ndarray]:
    """Counts of each size 1..cap (up to the largest), and a last ``cap+1+`` bucket when needed."""
    largest = int(sizes.max()) if len(sizes) else 1
    shown = min(cap, largest)
    overflow = largest > shown
    counts = sizes.clip(upper=shown + 1).value_counts()
    labels = [str(i) for i in range(1, shown + 1)] + ([f"{shown + 1}+"] if overflow else [])
    values = counts.reindex(range(1, shown + 1 + int(overflow)), fill_value=0).to_numpy(dtype=float)
    return labels, values


def _svg(fig: Figure, name: str, alt: str) -> str:
    """The figure as an ``<svg>`` element ready to inline: no XML prologue, DOCTYPE or metadata."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": name, "text.parse_math": False}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = re.sub(r"font-family: [^;\"]*", "font-family: 'DejaVu Sans', Verdana, Arial, sans-serif", text)
    # ids are per figure ("axes_1", clip paths, markers): make them unique in the page
    prefix = re.sub(r"[^A-Za-z0-9-]", "-", name)
    text = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", text)
    text = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', text)
    return text.replace(
        "<svg ", f'<svg class="chart" role="img" aria-label="{html.escape(alt, quote=True)}" ', 1
    )


# ----------------------------------------------------------------------------- HTML


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _int(value: Any) -> str:
    try:
        return _e(f"{int(value):,}")
    except (TypeError, ValueError):
        return "&ndash;"


def _float(value: Any, digits: int = 3) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "&ndash;"
    return "&ndash;" if math.isnan(number) else _e(f"{number:.{digits}f}")


def _share(part: float, whole: float) -> str:
    return _e(f"{part / whole:.1%}") if whole else "&ndash;"


def _meter(value: Any) -> str:
    """A score 0-1 as its number and a bar (HTML and CSS only)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "&ndash;"
    if math.isnan(number):
        return "&ndash;"
    width = max(0.0, min(1.0, number)) * 100
    return (
        f'<span class="meter"><span style="width:{width:.1f}%"></span></span>'
        f'<span class="num">{_e(f"{number:.4f}")}</span>'
    )


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, numeric_from: int = 1) -> str:
    """Rows of already-escaped cells; columns from ``numeric_from`` on are right-aligned."""
    head = "".join(
        f"<th{' class=n' if i >= numeric_from else ''}>{_e(h)}</th>" for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=n' if i >= numeric_from else ''}>{c}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _chart(fig: Figure, name: str, alt: str, caption: str) -> str:
    return f'<figure id="fig-{_e(name)}">{_svg(fig, name, alt)}<figcaption>{caption}</figcaption></figure>'


def _details(summary: str, body: str) -> str:
    return f"<details><summary>{_e(summary)}</summary>{body}</details>"


def _missing(what: str, stage: str) -> str:
    return f'<p class="missing">{_e(what)}: not in this workspace (run <code>kinlink {_e(stage)}</code>).</p>'


@dataclass
class _Section:
    key: str
    title: str
    body: str


_CSS = """
:root { --ink:#1d1d1f; --muted:#5f6368; --rule:#dadce0; --band:#f6f8fa; --ok:#1a7f37; --warn:#9a6700;
        --bad:#cf222e; --accent:#0072B2; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 "DejaVu Sans", Verdana, Arial, sans-serif; color: var(--ink);
       background: #fff; }
header { background: #12355b; color: #fff; padding: 18px 32px 14px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; color: #d6e2f0; font-size: 13px; }
nav { position: sticky; top: 0; background: #fff; border-bottom: 1px solid var(--rule); padding: 6px 32px;
      font-size: 13px; z-index: 1; }
nav { display: flex; flex-wrap: wrap; gap: 2px 16px; }
nav a { color: var(--accent); text-decoration: none; white-space: nowrap; }
main { max-width: 1120px; margin: 0 auto; padding: 8px 32px 48px; }
section { border-top: 1px solid var(--rule); padding-top: 6px; margin-top: 22px; }
h2 { font-size: 18px; margin: 10px 0 6px; }
h3 { font-size: 15px; margin: 18px 0 4px; }
p.lead { color: var(--muted); margin-top: 0; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px;
         margin: 16px 0; }
.tile { background: var(--band); border: 1px solid var(--rule); border-radius: 6px; padding: 8px 12px; }
.tile b { display: block; font-size: 22px; }
.tile span { color: var(--muted); font-size: 12px; }
ul.checks { list-style: none; padding: 0; margin: 8px 0; }
ul.checks li { padding: 3px 0 3px 26px; position: relative; }
ul.checks li::before { position: absolute; left: 2px; font-weight: bold; }
ul.checks li.ok::before { content: "\\2713"; color: var(--ok); }
ul.checks li.warn::before { content: "!"; color: var(--warn); left: 8px; }
ul.checks li.bad::before { content: "\\2717"; color: var(--bad); }
ul.checks li.info::before { content: "\\2022"; color: var(--muted); left: 6px; }
figure { margin: 12px 0 18px; }
svg.chart { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 12.5px; margin-top: 4px; max-width: 900px; }
table { border-collapse: collapse; margin: 8px 0 14px; font-size: 13px; }
th, td { padding: 3px 10px; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
th { background: var(--band); font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fbfbfc; }
details { margin: 6px 0 12px; }
summary { cursor: pointer; color: var(--accent); }
code { background: var(--band); padding: 0 3px; border-radius: 3px; font-size: 12.5px; }
.meter { display: inline-block; width: 90px; height: 9px; background: #eceff3; border-radius: 4px;
         margin-right: 8px; vertical-align: middle; overflow: hidden; }
.meter span { display: block; height: 100%; background: var(--accent); }
.pairs { display: grid; grid-template-columns: repeat(auto-fit, minmax(470px, 1fr)); gap: 12px; }
.pair { border: 1px solid var(--rule); border-radius: 6px; padding: 2px 12px 0; }
.pair h3 { margin-top: 10px; }
.pair h3 .tag { font-size: 12px; font-weight: normal; padding: 1px 8px; border-radius: 10px;
               margin-left: 8px; }
.tag.linked { background: #ddf4ff; color: #0a3069; }
.tag.apart { background: #fff1e5; color: #762c00; }
.tag.conflict { background: #ffebe9; color: #82071e; }
.pair .facts { color: var(--muted); font-size: 12.5px; margin: 0 0 4px; }
p.missing { color: var(--muted); font-style: italic; }
footer { color: var(--muted); font-size: 12px; margin-top: 36px; }
@media print { nav { display: none; } header { background: none; color: var(--ink); }
  header p { color: var(--muted); } figure, .pair, table { break-inside: avoid; } }
"""


def _check(kind: str, text: str) -> str:
    return f'<li class="{kind}">{text}</li>'


def _source_counts(manifest: Mapping[str, Any]) -> pd.DataFrame:
    sources = manifest.get("stages", {}).get("ingest", {}).get("sources", {}) or {}
    rows = []
    for name, c in sources.items():
        rows.append({"source": str(name), **{k: v for k, v in c.items() if k != "quarantine_reasons"}})
    return pd.DataFrame(rows)


def _sources_section(tables: Mapping[str, pd.DataFrame], manifest: Mapping[str, Any]) -> _Section:
    counts = _source_counts(manifest)
    if counts.empty:
        return _Section("sources", "Sources and quarantine", _missing("ingest counts", "ingest"))
    sources_entry = manifest["stages"]["ingest"]["sources"]
    reasons = sorted({r for c in sources_entry.values() for r in (c.get("quarantine_reasons") or {})})
    names = counts["source"].tolist()
    accepted = counts["rows_accepted"].to_numpy(dtype=float)
    series_q = []
    for i, reason in enumerate(reasons):
        values = np.array(
            [float((sources_entry[n].get("quarantine_reasons") or {}).get(reason, 0)) for n in names]
        )
        series_q.append((reason.replace("_", " "), names, values, _CYCLE[(i + 1) % len(_CYCLE)]))
    fig = _counts_figure(
        [
            ("rows accepted", [("", names, accepted, BLUE)]),
            ("rows quarantined, by reason", series_q),
        ]
    )
    keys = (
        "rows_read",
        "rows_accepted",
        "rows_quarantined",
        "records",
        "events",
        "stated_relationships",
        "items_quarantined",
    )

    def source_row(label: str, c: Mapping[str, Any], bold: bool = False) -> list[str]:
        cells = {k: _int(c.get(k)) for k in keys}
        if bold:
            cells = {k: f"<b>{v}</b>" for k, v in cells.items()}
        read, accepted, quarantined = (int(c.get(k) or 0) for k in keys[:3])
        flag = "" if read == accepted + quarantined else ' <b class="bad">&ne;</b>'
        return [
            label,
            cells["rows_read"] + flag,
            cells["rows_accepted"],
            cells["rows_quarantined"],
            _share(quarantined, read),
            cells["records"],
            cells["events"],
            cells["stated_relationships"],
            cells["items_quarantined"],
        ]

    rows = [source_row(_e(name), c) for name, c in sources_entry.items()]
    totals = {k: sum(int(c.get(k) or 0) for c in sources_entry.values()) for k in keys}
    rows.append(source_row("<b>all</b>", totals, bold=True))
    body = [
        '<p class="lead">Every row an agency sent is either accepted or quarantined with a reason; '
        "none is dropped silently.</p>",
        _chart(
            fig,
            "sources",
            "Rows accepted per source, and rows quarantined per source by reason",
            "Left: rows accepted from each agency extract. Right: rows quarantined, coloured by reason "
            "(scales differ: quarantine is usually a small share).",
        ),
        _table(
            [
                "source",
                "rows read",
                "accepted",
                "quarantined",
                "share quarantined",
                "records",
                "events",
                "stated relationships",
                "items quarantined",
            ],
            rows,
        ),
    ]
    quarantine = tables.get("quarantine")
    if quarantine is not None and not quarantine.empty:
        grouped = (
            quarantine.assign(column=quarantine["column"].fillna("(whole row)"))
            .groupby(["source", "scope", "reason", "column"], dropna=False)
            .size()
            .rename("n")
            .reset_index()
            .sort_values(["source", "n"], ascending=[True, False])
        )
        body.append(
            _details(
                "Quarantine by source, reason and column (the quarantine table has each row and why)",
                _table(
                    ["source", "scope", "reason", "column", "rows"],
                    [
                        [_e(r.source), _e(r.scope), _e(r.reason), _e(r.column), _int(r.n)]
                        for r in grouped.itertuples()
                    ],
                    numeric_from=4,
                ),
            )
        )
    return _Section("sources", "Sources and quarantine", "".join(body))


def _blocking_section(
    tables: Mapping[str, pd.DataFrame], manifest: Mapping[str, Any], threshold: float | None
) -> _Section:
    link = manifest.get("stages", {}).get("link", {})
    blocking = pd.DataFrame(link.get("blocking") or [])
    if blocking.empty:
        return _Section("blocking", "Candidate pairs per blocking rule", _missing("blocking counts", "link"))
    pairs = tables.get("pairs")
    kept = above = pd.Series(dtype="int64")
    if pairs is not None and "blocking_rule" in pairs.columns:
        kept = pairs.groupby("blocking_rule").size()
        if threshold is not None:
            linked = pairs["match_weight"] >= threshold
            if "hard_conflict" in pairs.columns:
                linked &= ~pairs["hard_conflict"].astype(bool)
            above = pairs[linked].groupby("blocking_rule").size()
    extra = [r for r in kept.index if r not in set(blocking["rule"])]
    rules = [*blocking["rule"].astype(str), *map(str, extra)]
    found = blocking.set_index("rule")["pairs"].reindex(rules).to_numpy(dtype=float)
    new = blocking.set_index("rule")["new_pairs"].reindex(rules).to_numpy(dtype=float)
    linked_counts = above.reindex(rules).fillna(0).to_numpy(dtype=float)
    with _style():
        fig = _figure(9, 0.34 * len(rules) + 1.3)
        ax = fig.add_subplot()
        ypos = np.arange(len(rules))
        ax.barh(ypos, np.nan_to_num(found), color=LIGHT, height=0.8, label="pairs the rule finds")
        ax.barh(
            ypos, np.nan_to_num(new), color=SKY, height=0.8, label="of which new (no earlier rule found them)"
        )
        ax.barh(
            ypos, linked_counts, color=BLUE, height=0.35, label="pairs first found by the rule and linked"
        )
        ax.set_yticks(ypos, labels=[r.replace("_", " ") for r in rules], fontsize=8)
        ax.set_ylim(len(rules) - 0.5, -0.5)
        ax.grid(axis="y", visible=False)
        peak = float(np.nanmax(np.r_[found, linked_counts, 1.0]))
        for position, (f_, n_, l_) in enumerate(zip(found, new, linked_counts, strict=True)):
            text = f"{n_:,.0f} new, {l_:,.0f} linked" if not math.isnan(n_) else f"{l_:,.0f} linked"
            ax.text(np.nan_to_num(f_, nan=l_) + peak * 0.01, position, text, va="center", fontsize=7.5)
        ax.set_xlim(0, peak * 1.3)
        ax.set_xlabel("record pairs")
        ax.legend(fontsize=8, loc="lower right")
    facts = link.get("facts", {}) or {}
    rows = []
    left_out = blocking.set_index("rule")["blocks_left_out"] if "blocks_left_out" in blocking else None
    for rule, f_, n_, l_ in zip(rules, found, new, linked_counts, strict=True):
        rows.append(
            [
                _e(rule),
                _int(f_) if not math.isnan(f_) else "&ndash;",
                _int(n_) if not math.isnan(n_) else "&ndash;",
                _int(kept.get(rule, 0)),
                _int(l_),
                _int(left_out.get(rule, 0)) if left_out is not None and rule in left_out.index else "&ndash;",
            ]
        )
    body = (
        '<p class="lead">Pairs of records are compared only when a blocking rule puts them together. A rule '
        "that adds few new pairs costs little; one that adds many pairs but few links is worth a look. "
        f"In all, {_int(facts.get('candidate_pairs'))} candidate pairs of "
        f"{_int(facts.get('distinct_records'))} distinct records were compared; "
        f"{_int(facts.get('pairs_kept', len(pairs) if pairs is not None else None))} were kept "
        "(probability at least 0.001).</p>"
        + _chart(
            fig,
            "blocking",
            "Candidate pairs found by each blocking rule, new pairs and linked pairs",
            "Grey: pairs each rule finds; light blue: those no earlier rule found (rules run in this order); "
            "dark blue: pairs first found by the rule that were linked. Household rules pair records of one "
            "household; <code>shared_child</code> pairs come from the relational pass (records stated as "
            "parents of the same person).",
        )
        + _table(
            ["rule", "pairs found", "new pairs", "kept (p >= 0.001)", "linked", "blocks left out"],
            rows,
        )
    )
    return _Section("blocking", "Candidate pairs per blocking rule", body)


def _model_section(settings: LinkageSettings | None, manifest: Mapping[str, Any]) -> _Section:
    if settings is None or settings.parameters is None:
        return _Section("model", "The model: m and u per level", _missing("trained model", "link"))
    from linkage.model import STRATUM_LABELS

    levels = model_levels(settings)
    params = settings.parameters
    fig = model_levels_figure(levels)
    facts = manifest.get("stages", {}).get("link", {}).get("facts", {}) or {}
    converged = facts.get("em_converged", params.converged)
    iterations = facts.get("em_iterations", params.iterations)
    strata = ["H", "P", "C"]
    prior_rows = [
        [
            _e(f"{code}: {STRATUM_LABELS[code]}"),
            _float(params.lam[i], 4),
            _int(params.stratum_pairs[i]) if i < len(params.stratum_pairs) else "&ndash;",
        ]
        for i, code in enumerate(strata)
    ]
    prior_rows.append([_e(f"R: {STRATUM_LABELS['R']}"), _e(f"{params.lam_rest:.3g}"), "&ndash;"])
    level_rows = [
        [
            _e(r.comparison),
            _int(r.level),
            _e(r.label),
            _e(f"{r.m:.4g}"),
            _e(f"{r.u:.4g}"),
            _float(r.weight, 2),
            _float(r.weight_H, 2),
            _float(r.weight_P, 2),
            _float(r.weight_C, 2),
        ]
        for r in levels.itertuples()
    ]
    body = (
        '<p class="lead">For each level of each comparison: <b>m</b>, how often two records of one person '
        "show it, and <b>u</b>, how often two records of different people do (among random pairs). "
        "The further apart they are, the stronger the evidence: the weight is log2(m/u) bits. "
        f"EM {'converged' if converged else '<b>did not converge</b>'} in {_int(iterations)} iterations.</p>"
        + _chart(
            fig,
            "model",
            "m and u probabilities and the match weight of every comparison level",
            f"Left: m (blue dots) and u (red diamonds) on a log scale (values below {M_FLOOR:g} drawn "
            "there); a long grey line between them is strong evidence. A hollow dot is a level where EM "
            "found no matching pairs: its weight is then a near-veto, worth checking. Right: the weight "
            "each level adds to a pair's score outside a shared household. Null levels (a field missing "
            "on one side) weigh nothing and are not drawn.",
        )
        + "<h3>Prior odds by household stratum</h3>"
        "<p>Pairs of records from one household are modelled apart: they agree on surname and address "
        "by being a family, not by being one person.</p>"
        + _table(["stratum", "prior probability of a match", "pairs in the stratum"], prior_rows)
        + _details(
            "Every level's m, u and weight (also within each household stratum)",
            _table(
                [
                    "comparison",
                    "level",
                    "label",
                    "m",
                    "u (random)",
                    "weight",
                    "weight H",
                    "weight P",
                    "weight C",
                ],
                level_rows,
                numeric_from=3,
            ),
        )
    )
    return _Section("model", "The model: m and u per level", body)


def _weights_section(
    tables: Mapping[str, pd.DataFrame],
    threshold: float | None,
    probability_threshold: float | None,
    truth_match: pd.Series | None,
) -> _Section:
    pairs = tables.get("pairs")
    if pairs is None or threshold is None:
        return _Section("weights", "Match weights and the threshold", _missing("scored pairs", "link"))
    w = pairs["match_weight"].to_numpy(dtype=float)
    conflict = (
        pairs["hard_conflict"].to_numpy(dtype=bool) if "hard_conflict" in pairs else np.zeros(len(w), bool)
    )
    linked = int(((w >= threshold) & ~conflict).sum())
    band1 = int((np.abs(w - threshold) <= 1).sum())
    band2 = int((np.abs(w - threshold) <= 2).sum())
    body = [
        f'<p class="lead">{_int(len(w))} scored pairs; {_int(linked)} at or above the threshold '
        f"(match probability {_e(f'{probability_threshold:g}')}, {_e(f'{threshold:.2f}')} bits) "
        f"without a hard conflict. {_int(band1)} lie within one bit of it and {_int(band2)} within two: "
        "the pairs a change of threshold would move.</p>",
        _chart(
            weight_histogram_figure(w, threshold, hard_conflict=conflict),
            "weights",
            "Histogram of match weights with the threshold marked",
            "A good model separates two humps: non-matches on the left, matches on the right, few pairs "
            "in between. Hatched grey: pairs with a hard conflict (different valid NHS numbers, dates of "
            "birth years apart, a stated relationship, ...), never linked whatever their score. The top "
            "axis gives the match probability of a weight.",
        ),
    ]
    if truth_match is not None:
        body.append(
            _chart(
                weight_histogram_figure(
                    w, threshold, is_match=truth_match, title="Match weights, coloured by ground truth"
                ),
                "weights-truth",
                "Histogram of match weights coloured by whether ground truth says the pair is one person",
                "Blue right of the dashed line and red left of it are right decisions; red to the right are "
                "wrong links, blue to the left missed ones (some are still joined through other records).",
            )
        )
        curve = threshold_curve(w[~conflict], truth_match.to_numpy()[~conflict])
        body.append(
            _chart(
                threshold_figure(curve, threshold),
                "threshold",
                "Precision, recall and F1 of the scored pairs by threshold",
                "Over labelled scored pairs without a hard conflict: recall is among the true matches the "
                "blocking found, so it shows the trade-off, not what the run missed (see Evaluation).",
            )
        )
        marks = [0.5, 0.8, 0.9, 0.95, 0.99, 0.999]
        if probability_threshold is not None and probability_threshold not in marks:
            marks = sorted([*marks, probability_threshold])
        at = threshold_curve(
            w[~conflict], truth_match.to_numpy()[~conflict], [threshold_weight(p) for p in marks]
        )
        body.append(
            _table(
                ["match probability", "weight (bits)", "pairs called matches", "precision", "recall", "F1"],
                [
                    [
                        _e(f"{p:g}") + (" (current)" if probability_threshold == p else ""),
                        _float(r.threshold, 2),
                        _int(r.pairs_above),
                        _float(r.precision, 4),
                        _float(r.recall, 4),
                        _float(r.f1, 4),
                    ]
                    for p, r in zip(marks, at.itertuples(), strict=True)
                ],
            )
        )
    return _Section("weights", "Match weights and the threshold", "".join(body))


def _people_section(
    tables: Mapping[str, pd.DataFrame], manifest: Mapping[str, Any], probability_threshold: float | None
) -> _Section:
    index = tables.get("person_index")
    if index is None or index.empty:
        return _Section("people", "People: cluster sizes", _missing("person index", "link"))
    sizes = index.groupby("person_id").size()
    sources_per = (
        index.assign(source=index["record_key"].astype(str).str.split(":", n=1).str[0])
        .groupby("person_id")["source"]
        .nunique()
    )
    size_labels, size_counts = _size_buckets(sizes, 15)
    source_counts = sources_per.value_counts().sort_index()
    multi = tables.get("persons")
    confidence = None
    if multi is not None and "cluster_confidence" in multi and "record_count" in multi:
        confidence = multi.loc[multi["record_count"] > 1, "cluster_confidence"].to_numpy(dtype=float)
    elif "cluster_confidence" in index:
        per = index.groupby("person_id")["cluster_confidence"].min()
        confidence = per[sizes.reindex(per.index) > 1].to_numpy(dtype=float)
    with _style():
        fig = _figure(10, 3.0)
        a, b, c = fig.subplots(1, 3, width_ratios=[2.2, 1.1, 1.4])
        _hist_bars(a, size_labels, size_counts, BLUE, "records per person")
        _hist_bars(
            b,
            [str(i) for i in source_counts.index],
            source_counts.to_numpy(dtype=float),
            GREEN,
            "sources per person",
        )
        if confidence is not None and len(confidence):
            cut = probability_threshold if probability_threshold is not None else 0.95
            edges = sorted({cut, *[e for e in (0.99, 0.999, 0.9999) if e > cut]})
            labels = [f"< {cut:g}"] + [f"{a:g}-{b:g}" for a, b in itertools.pairwise(edges)]
            labels.append(f">= {edges[-1]:g}")
            bucket = np.searchsorted(np.asarray(edges), confidence, side="right")
            counts = np.bincount(bucket, minlength=len(labels)).astype(float)
            _hist_bars(c, labels, counts, PURPLE, "weakest link in a person")
            c.tick_params(axis="x", labelsize=7, labelrotation=20)
            c.set_xlabel("match probability (people of 2+ records)", fontsize=7.5)
        else:
            c.set_title("weakest link in a person", fontsize=9)
            c.grid(axis="x", visible=False)
    facts = manifest.get("stages", {}).get("link", {}).get("facts", {}) or {}
    persons = tables.get("persons")
    conflicts = (
        int(persons["dob_conflict"].sum()) if persons is not None and "dob_conflict" in persons else None
    )
    single = int((sizes == 1).sum())
    body = (
        f'<p class="lead">{_int(len(index))} records became {_int(len(sizes))} people; '
        f"{_int(single)} people ({_share(single, len(sizes))}) have one record. "
        f"{_int((sources_per > 1).sum())} people are known to more than one agency, which is what a "
        "multi-agency view adds.</p>"
        + _chart(
            fig,
            "people",
            "Distribution of records per person, sources per person and cluster confidence",
            "Records per person includes repeated rows of one source (a pupil on every termly census). "
            "Right: for people of two or more records, the probability of the weakest match holding them "
            "together; the leftmost bars are the people to check first.",
        )
        + _table(
            ["measure", "value"],
            [
                ["people", _int(len(sizes))],
                ["largest person (records)", _int(sizes.max())],
                [
                    "people whose records give conflicting dates of birth",
                    _int(conflicts) if conflicts is not None else "&ndash;",
                ],
                ["groups re-examined for cannot-link pairs", _int(facts.get("components_reexamined"))],
                [
                    "person ids merged / split since the last run",
                    f"{_int(facts.get('id_merges'))} / {_int(facts.get('id_splits'))}",
                ],
            ],
        )
    )
    return _Section("people", "People: cluster sizes", body)


def _sample_section(
    tables: Mapping[str, pd.DataFrame], settings: LinkageSettings | None, threshold: float | None, n: int
) -> _Section:
    pairs = tables.get("pairs")
    title = "Pairs near the threshold"
    if pairs is None or settings is None or threshold is None or n <= 0:
        return _Section("sample", title, _missing("scored pairs and model", "link"))
    chosen = near_threshold_patterns(pairs, threshold, n)
    if chosen.empty:
        return _Section("sample", title, "<p>No scored pairs.</p>")
    level_columns = sorted(c for c in pairs.columns if c.startswith("level_"))
    parts = [
        '<p class="lead">The patterns of evidence nearest the threshold, each shown by one pair: which '
        "levels its fields reached and what each weighed, from the prior odds of the pair's stratum "
        "(green bars add evidence, hatched red take it away; the dashed line is the threshold). Only levels "
        "and weights are shown, never the records' values; to find the pairs of a pattern, filter "
        "<code>pairs.parquet</code> on the <code>level_*</code> columns given under each.</p>",
        '<div class="pairs">',
    ]
    for number, (_, row) in enumerate(chosen.iterrows(), start=1):
        explanation = explain_stored_pair(row, settings)
        weighed = (explanation["weight"] != 0) | (explanation["term"] == "prior")
        silent = explanation[~weighed]
        conflict = bool(row.get("hard_conflict", False))
        distance = float(row["distance"])
        if conflict:
            tag = '<span class="tag conflict">hard conflict: never linked</span>'
        elif distance >= 0:
            tag = '<span class="tag linked">linked</span>'
        else:
            tag = '<span class="tag apart">kept apart</span>'
        sources = sorted(str(row[k]).split(":", 1)[0] for k in ("record_key_l", "record_key_r"))
        query = (
            " and ".join(f"{c} == {int(row[c])}" for c in level_columns)
            + f" and stratum == '{row['stratum']}'"
        )
        fig = waterfall_figure(
            explanation[weighed],
            threshold,
            title=f"{float(row['match_weight']):+.2f} bits, "
            f"probability {float(row['match_probability']):.3f}",
        )
        no_evidence = "; ".join(
            f"{t.replace('_', ' ')}: {lvl}" for t, lvl in zip(silent["term"], silent["level"], strict=True)
        )
        parts.append(
            '<div class="pair">'
            f"<h3>{_e(f'{distance:+.2f}')} bits from the threshold {tag}</h3>"
            f'<p class="facts">{_e(sources[0])} and {_e(sources[1])} records; found by '
            f"<code>{_e(row.get('blocking_rule', ''))}</code>; stratum {_e(row['stratum'])}. "
            f"{_int(row['pattern_pairs'])} pairs share this pattern, "
            f"{_int(row['pattern_within_1_bit'])} of them within one bit of the threshold.</p>"
            + _chart(
                fig,
                f"pair-{number}",
                f"Waterfall of the match weight of near-threshold pattern {number}",
                f"No evidence either way (weight 0): {_e(no_evidence)}." if len(silent) else "",
            )
            + _details("Find these pairs", f"<code>{_e(query)}</code>")
            + "</div>"
        )
    parts.append("</div>")
    return _Section("sample", title, "".join(parts))


def _families_section(tables: Mapping[str, pd.DataFrame], manifest: Mapping[str, Any]) -> _Section:
    relationships = tables.get("relationships")
    families = tables.get("families")
    title = "Relationships and families"
    if relationships is None or families is None:
        return _Section("families", title, _missing("relationships and families", "families"))
    facts = manifest.get("stages", {}).get("families", {}).get("facts", {}) or {}
    by = relationships.groupby(["relationship_type", "basis"]).size().unstack(fill_value=0)
    by = by.loc[by.sum(axis=1).sort_values(ascending=False).index]
    order = ["stated", "derived", "co_residence"]
    by = by[[b for b in order if b in by.columns] + [b for b in by.columns if b not in order]]
    types = [str(t).replace("_", " ") for t in by.index]
    basis_colours = {"stated": BLUE, "derived": ORANGE, "co_residence": GREEN}
    series = [
        (str(b).replace("_", " "), types, by[b].to_numpy(dtype=float), basis_colours.get(str(b), GREY))
        for b in by.columns
    ]
    conflicts = tables.get("relationship_conflicts")
    rule_counts = (
        conflicts.groupby("rule").size().sort_values(ascending=False)
        if conflicts is not None and not conflicts.empty
        else pd.Series(dtype="int64")
    )
    fig_rel = _counts_figure(
        [
            ("relationships by type and basis", series),
            (
                "rejected by a plausibility rule",
                [
                    (
                        "",
                        [str(r).replace("_", " ") for r in rule_counts.index],
                        rule_counts.to_numpy(dtype=float),
                        VERMILLION,
                    )
                ]
                if len(rule_counts)
                else [],
            ),
        ]
    )
    sizes = families.groupby("family_id")["person_id"].nunique()
    family_labels, family_counts = _size_buckets(sizes, 12)
    roles = families["role"].value_counts()
    memberships = families.groupby("person_id")["family_id"].nunique()
    with _style():
        fig_fam = _figure(9, 2.9)
        a, b = fig_fam.subplots(1, 2, width_ratios=[1.6, 1])
        _hist_bars(a, family_labels, family_counts, BLUE, "members per family")
        b.barh(np.arange(len(roles)), roles.to_numpy(dtype=float), color=GREEN, height=0.7)
        b.set_yticks(
            np.arange(len(roles)), labels=[str(r).replace("_", " ") for r in roles.index], fontsize=8
        )
        b.set_ylim(len(roles) - 0.5, -0.5)
        b.grid(axis="y", visible=False)
        _bar_labels(b, np.arange(len(roles)), roles.to_numpy(dtype=float))
        b.set_xlim(0, float(roles.max()) * 1.2 if len(roles) else 1)
        b.set_title("members by role", fontsize=9)
    body = (
        f'<p class="lead">{_int(len(relationships))} relationships between people: what sources state, what '
        "follows from it (siblings, grandparents, step-parents) and who lived together. "
        f"{_int(len(conflicts) if conflicts is not None else 0)} stated or derived relationships were "
        f"rejected by a plausibility rule. {_int(len(sizes))} families formed around children, with "
        f"{_int(len(families))} memberships; {_int((memberships > 1).sum())} people belong to more than "
        "one family.</p>"
        + _chart(
            fig_rel,
            "relationships",
            "Relationships by type and basis, and relationships rejected by each plausibility rule",
            "Blue: stated by a source; orange: derived from other relationships; green: from living at one "
            "address at overlapping dates (weaker evidence). Right: what the plausibility rules rejected "
            "(the relationship_conflicts table says why, case by case).",
        )
        + _chart(
            fig_fam,
            "families",
            "Distribution of family sizes and members by role",
            "Family size counts people (a person can be in several families: a parent with children by "
            "two partners, a grandparent).",
        )
        + _table(
            ["measure", "value"],
            [
                ["households (addresses)", _int(facts.get("households"))],
                [
                    "children (under 18 since the window start)",
                    f"{_int(facts.get('children'))} (window from {_e(facts.get('window_start', '?'))})",
                ],
                ["families", _int(len(sizes))],
                ["largest family (people)", _int(sizes.max() if len(sizes) else 0)],
                [
                    "family ids merged / split since the last run",
                    f"{_int(facts.get('family_id_merges'))} / {_int(facts.get('family_id_splits'))}",
                ],
                [
                    "interventions (episodes, from events)",
                    f"{_int(facts.get('interventions'))} (from {_int(facts.get('events'))})",
                ],
            ],
        )
    )
    return _Section("families", title, body)


def _people_evaluation(
    tables: Mapping[str, pd.DataFrame], truth: ReportTruth | None
) -> dict[str, Any] | None:
    index = tables.get("person_index")
    if truth is None or index is None:
        return None
    from linkage.evaluate import evaluate

    labelled = truth.records.dropna(subset=["source_record_id", "person_id"])
    truth_table = pd.DataFrame(
        {
            "record_key": (
                labelled["source"].astype(str) + ":" + labelled["source_record_id"].astype(str)
            ).to_numpy(),
            "person_id": labelled["person_id"].astype(str).to_numpy(),
        }
    ).drop_duplicates("record_key")
    return evaluate(index[["record_key", "person_id"]], truth_table)


def _evaluation_section(
    tables: Mapping[str, pd.DataFrame], truth: ReportTruth | None, result: dict[str, Any] | None
) -> _Section | None:
    if truth is None:
        return None
    index = tables.get("person_index")
    if index is None or result is None:
        return _Section("evaluation", "Evaluation against ground truth", _missing("person index", "link"))
    records = truth.records
    rows = [
        [
            _e(label),
            _meter(result[key]["precision"]),
            _meter(result[key]["recall"]),
            _meter(result[key]["f1"]),
        ]
        for label, key in (
            ("pairwise", "pairwise"),
            ("pairwise, across sources", "cross_source"),
            ("B-cubed", "bcubed"),
        )
    ]
    sm = result["split_merge"]
    parts = [
        f'<p class="lead">{_int(result["records_scored"])} records scored '
        f"({_int(result['records_only_predicted'])} without a label, "
        f"{_int(result['records_only_truth'])} labelled but not in the run): "
        f"{_int(result['predicted_people'])} people found for {_int(result['true_people'])} true people.</p>",
        "<h3>People</h3>",
        _table(["measure", "precision", "recall", "F1"], rows),
        _table(
            ["how the people fail to line up", "count"],
            [
                ["true people split over several person ids", _int(sm["true_people_split"])],
                [
                    "person ids holding several true people (wrong merges)",
                    _int(sm["predicted_people_merged"]),
                ],
                [
                    "records that would have to move to undo the wrong merges",
                    _int(sm["wrongly_merged_records"]),
                ],
            ],
        ),
    ]
    relationships, families = tables.get("relationships"), tables.get("families")
    if (
        (truth.relationships is not None or truth.families is not None)
        and relationships is not None
        and families is not None
    ):
        from linkage.evaluate_families import evaluate_families

        true_rel = (
            truth.relationships
            if truth.relationships is not None
            else pd.DataFrame(columns=["person_id_from", "person_id_to", "relationship_type"])
        )
        true_fam = (
            truth.families if truth.families is not None else pd.DataFrame(columns=["family_id", "person_id"])
        )
        scored = evaluate_families(
            index, relationships, families, records, true_rel, true_fam, tables.get("stated_relationships")
        )
        if truth.relationships is not None:
            kinds = scored.relationships
            with _style():
                fig = _figure(9, 0.42 * len(kinds) + 1.2)
                ax = fig.add_subplot()
                ypos = np.arange(len(kinds))
                ax.barh(ypos - 0.19, kinds["precision"].fillna(0), height=0.36, color=BLUE, label="precision")
                ax.barh(ypos + 0.19, kinds["recall"].fillna(0), height=0.36, color=ORANGE, label="recall")
                stated = kinds["recall_stated"].to_numpy(dtype=float)
                has = ~np.isnan(stated)
                ax.scatter(
                    stated[has],
                    (ypos + 0.19)[has],
                    marker="|",
                    s=140,
                    color="#222222",
                    label="recall where a source relates the two",
                    zorder=3,
                )
                ax.set_yticks(ypos, labels=[str(k).replace("_", " ") for k in kinds["kind"]], fontsize=8)
                ax.set_ylim(len(kinds) - 0.5, -0.6)
                ax.set_xlim(0, 1.0)
                ax.grid(axis="y", visible=False)
                ax.set_xlabel("share")
                ax.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=3)
            parts.append("<h3>Relationships</h3>")
            parts.append(
                _chart(
                    fig,
                    "evaluation-relationships",
                    "Precision and recall of inferred relationships by kind",
                    "Precision: inferred relationships of the kind that are true. Recall: true relationships "
                    "between people in the data that were inferred; the tick gives recall over those some "
                    "source states a relationship between, separating what inference misses from what no "
                    "source says.",
                )
            )
            parts.append(
                _table(
                    [
                        "kind",
                        "inferred",
                        "true (in the data)",
                        "precision",
                        "recall",
                        "recall (stated)",
                        "stated",
                    ],
                    [
                        [
                            _e(r.kind),
                            _int(r.inferred),
                            _int(r.true_in_data),
                            _meter(r.precision),
                            _meter(r.recall),
                            _meter(r.recall_stated),
                            _int(r.true_stated),
                        ]
                        for r in kinds.itertuples()
                    ],
                )
            )
        if truth.families is not None:
            parts.append("<h3>Families</h3>")
            parts.append(
                _table(
                    ["families", "mean best-match Jaccard", "reconstructed exactly"],
                    [
                        [
                            _e(
                                f"all members ({scored.families_true:,} true, "
                                f"{scored.families_inferred:,} inferred)"
                            ),
                            _meter(scored.mean_best_jaccard),
                            _meter(scored.exact_share),
                        ],
                        [
                            "children and parents only",
                            _meter(scored.core_mean_best_jaccard),
                            _meter(scored.core_exact_share),
                        ],
                    ],
                )
            )
    return _Section("evaluation", "Evaluation against ground truth", "".join(parts))


def _run_section(manifest: Mapping[str, Any], table_checks: Mapping[str, str] | None) -> _Section:
    stages = manifest.get("stages", {}) or {}
    stage_rows = [
        [_e(name), _e(entry.get("started", "")), _float(entry.get("seconds"), 1)]
        for name, entry in stages.items()
    ]
    steps = (stages.get("link", {}).get("facts", {}) or {}).get("seconds", {}) or {}
    inputs = (manifest.get("inputs", {}) or {}).get("sources", {}) or {}
    input_rows = [
        [
            _e(name),
            _e(i.get("format", "")),
            _e(i.get("encoding") or ""),
            _e((i.get("sha256") or "")[:16]) or "&ndash; (a database)",
        ]
        for name, i in inputs.items()
    ]
    tables = manifest.get("tables", {}) or {}
    table_rows = [
        [
            _e(name),
            _int(entry.get("rows")),
            _e(str(entry.get("sha256", ""))[:16]),
            _e((table_checks or {}).get(name, "not checked")),
        ]
        for name, entry in tables.items()
    ]
    versions = manifest.get("versions", {}) or {}
    link = stages.get("link", {}) or {}
    body = (
        _table(["stage", "started (UTC)", "seconds"], stage_rows)
        + (
            _details(
                "Link steps (seconds)",
                _table(["step", "seconds"], [[_e(k), _float(v, 3)] for k, v in steps.items()]),
            )
            if steps
            else ""
        )
        + (
            f"<p>Linkage settings: <code>{_e(link.get('settings', ''))}</code>; "
            f"seed {_e(link.get('seed', ''))}.</p>"
            if link
            else ""
        )
        + "<h3>Inputs</h3>"
        + _table(["source", "format", "encoding", "sha256 (first 16)"], input_rows, numeric_from=9)
        + "<h3>Tables</h3>"
        + _table(
            ["table", "rows", "sha256 (first 16)", "file matches the manifest"], table_rows, numeric_from=1
        )
        + "<h3>Versions</h3>"
        + _table(["package", "version"], [[_e(k), _e(v)] for k, v in versions.items()], numeric_from=9)
    )
    return _Section("run", "The run", body)


def _summary(
    tables: Mapping[str, pd.DataFrame],
    manifest: Mapping[str, Any],
    settings: LinkageSettings | None,
    threshold: float | None,
    table_checks: Mapping[str, str] | None,
    people_scores: Mapping[str, Any] | None = None,
) -> tuple[str, str]:
    """Key-figure tiles and the list of checks."""
    stages = manifest.get("stages", {}) or {}
    ingest = stages.get("ingest", {}) or {}
    totals = ingest.get("totals", {}) or {}
    link = (stages.get("link", {}) or {}).get("facts", {}) or {}
    fam = (stages.get("families", {}) or {}).get("facts", {}) or {}
    tiles = [
        (totals.get("rows_read"), "rows read"),
        (totals.get("rows_quarantined"), "rows quarantined"),
        (totals.get("records"), "person-records"),
        (link.get("candidate_pairs"), "candidate pairs"),
        (link.get("people"), "people"),
        (fam.get("relationships"), "relationships"),
        (fam.get("families"), "families"),
    ]
    tile_html = "".join(
        f'<div class="tile"><b>{_int(v)}</b><span>{_e(label)}</span></div>'
        for v, label in tiles
        if v is not None
    )
    if people_scores is not None:
        for key, label in (("pairwise", "pairwise"), ("cross_source", "across sources")):
            scores = people_scores[key]
            tile_html += (
                f'<div class="tile"><b>{_float(scores["f1"])}</b><span>F1 of people, {_e(label)}<br>'
                f"precision {_float(scores['precision'])}, recall {_float(scores['recall'])}</span></div>"
            )
    checks: list[str] = []
    sources = ingest.get("sources", {}) or {}
    if sources:
        off = [n for n, c in sources.items() if c["rows_read"] != c["rows_accepted"] + c["rows_quarantined"]]
        checks.append(
            _check("bad", f"rows read &ne; accepted + quarantined for {_e(', '.join(off))}")
            if off
            else _check("ok", f"rows read = accepted + quarantined for all {len(sources)} sources")
        )
        read = float(totals.get("rows_read", 0) or 0)
        quarantined = float(totals.get("rows_quarantined", 0) or 0)
        checks.append(
            _check(
                "warn" if read and quarantined / read > 0.05 else "info",
                f"{_int(quarantined)} rows quarantined ({_share(quarantined, read)}); see Sources",
            )
        )
    if link:
        checks.append(
            _check("ok", f"EM converged in {_int(link.get('em_iterations'))} iterations")
            if link.get("em_converged")
            else _check("warn", f"EM did not converge in {_int(link.get('em_iterations'))} iterations")
        )
        blocking = (stages.get("link", {}) or {}).get("blocking") or []
        dropped = [b["rule"] for b in blocking if b.get("blocks_left_out")]
        checks.append(
            _check("warn", f"blocking rules left blocks out (too large to compare): {_e(', '.join(dropped))}")
            if dropped
            else _check("ok", "no blocking rule left a block out")
        )
        checks.append(
            _check(
                "info",
                f"{_int(link.get('hard_conflicts'))} candidate pairs had a hard conflict (never linked)",
            )
        )
    pairs = tables.get("pairs")
    if pairs is not None and threshold is not None:
        near = int((np.abs(pairs["match_weight"].to_numpy(dtype=float) - threshold) <= 1).sum())
        checks.append(
            _check(
                "info", f"{_int(near)} pairs within one bit of the threshold; see Pairs near the threshold"
            )
        )
    persons = tables.get("persons")
    if persons is not None and "dob_conflict" in persons:
        n = int(persons["dob_conflict"].sum())
        checks.append(
            _check("warn" if n else "ok", f"{_int(n)} people whose records give conflicting dates of birth")
        )
    conflicts = fam.get("relationship_conflicts")
    if conflicts is not None:
        total = sum(int(v) for v in conflicts.values())
        checks.append(_check("info", f"{_int(total)} relationships rejected by plausibility rules"))
    if table_checks:
        changed = [name for name, state in table_checks.items() if state != "yes"]
        checks.append(
            _check("bad", f"tables that do not match the manifest: {_e(', '.join(changed))}")
            if changed
            else _check("ok", f"all {len(table_checks)} tables match the SHA-256 the manifest records")
        )
    if settings is not None and settings.parameters is None:
        checks.append(_check("warn", "the linkage model has no fitted parameters"))
    elif settings is not None:
        levels = model_levels(settings)
        vetoes = levels[(levels["level"] > 0) & (levels["m"] < M_FLOOR) & (levels["weight"] < -8)]
        if len(vetoes):
            named = ", ".join(
                f"{r.comparison} '{r.label}' ({r.weight:+.0f})" for r in vetoes.head(5).itertuples()
            )
            more = f" and {len(vetoes) - 5} more" if len(vetoes) > 5 else ""
            checks.append(
                _check(
                    "warn",
                    f"{len(vetoes)} comparison levels have m about 0 (EM saw no matches there), so they "
                    f"weigh as near-vetoes (bits): {_e(named)}{_e(more)}; see The model",
                )
            )
    return f'<div class="tiles">{tile_html}</div>', f'<ul class="checks">{"".join(checks)}</ul>'


def _settings(model: LinkageSettings | Mapping[str, Any] | None) -> LinkageSettings | None:
    from linkage.settings import LinkageSettings

    if model is None or isinstance(model, LinkageSettings):
        return model
    return LinkageSettings.from_dict(dict(model))


def build_report(
    tables: Mapping[str, pd.DataFrame],
    manifest: Mapping[str, Any],
    model: LinkageSettings | Mapping[str, Any] | None = None,
    *,
    truth: ReportTruth | None = None,
    table_checks: Mapping[str, str] | None = None,
    sample_size: int = 8,
    title: str = "Linkage quality report",
    generated: str | None = None,
) -> str:
    """The linkage quality report as one self-contained HTML document.

    Parameters
    ----------
    tables
        Workspace tables by name; any may be missing and its part of the report says so.
        Used: ``quarantine``, ``pairs``, ``person_index``, ``persons``, ``relationships``,
        ``relationship_conflicts``, ``families``, ``stated_relationships`` (the columns in
        :data:`REPORT_COLUMNS` are enough).
    manifest
        The run manifest (``manifest.json``): per-source counts, blocking counts, facts.
    model
        The trained model (``linkage_model.json`` as a dict, or :class:`LinkageSettings`).
    truth
        Ground truth to score against; without it there is no evaluation section.
    table_checks
        Per table, whether its file matches the manifest's SHA-256 (``"yes"``, ``"NO"``,
        ``"missing"``), as :func:`write_report` finds.
    sample_size
        How many near-threshold comparison patterns to explain.
    generated
        The production time printed in the header (default: now, UTC).

    Returns
    -------
    str
        HTML with inline CSS and SVG charts: no scripts, no external files. Every value
        taken from the data is HTML-escaped.
    """
    settings = _settings(model)
    probability_threshold = settings.clustering.threshold if settings is not None else None
    threshold = threshold_weight(probability_threshold) if probability_threshold is not None else None
    pairs = tables.get("pairs")
    truth_match = pair_truth(pairs, truth.records) if truth is not None and pairs is not None else None
    people_scores = _people_evaluation(tables, truth)
    sections = [
        _sources_section(tables, manifest),
        _blocking_section(tables, manifest, threshold),
        _model_section(settings, manifest),
        _weights_section(tables, threshold, probability_threshold, truth_match),
        _people_section(tables, manifest, probability_threshold),
        _sample_section(tables, settings, threshold, sample_size),
        _families_section(tables, manifest),
    ]
    evaluation = _evaluation_section(tables, truth, people_scores)
    if evaluation is not None:
        sections.append(evaluation)
    sections.append(_run_section(manifest, table_checks))
    tiles, checks = _summary(tables, manifest, settings, threshold, table_checks, people_scores)
    when = generated or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    version = (manifest.get("versions", {}) or {}).get("kinlink", "")
    nav = "".join(f'<a href="#{_e(s.key)}">{_e(s.title)}</a>' for s in sections)
    body = "".join(f'<section id="{_e(s.key)}"><h2>{_e(s.title)}</h2>{s.body}</section>' for s in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{_e(title)}</h1><p>Workspace last updated {_e(manifest.get('updated', 'unknown'))}; "
        f"report generated {_e(when)} by kinlink {_e(version)}. Aggregate figures, model parameters and "
        "comparison levels only: no names, dates of birth or identifiers.</p></header>"
        f"<nav>{nav}</nav><main>"
        f'<section id="summary"><h2>At a glance</h2>{tiles}{checks}</section>'
        f"{body}<footer>kinlink linkage quality report. Made by <code>kinlink report</code>.</footer>"
        "</main></body></html>\n"
    )


# ----------------------------------------------------------------------------- I/O


def read_truth(path: Path | str, columns: Sequence[str]) -> pd.DataFrame:
    """A ground-truth table from Parquet (by suffix) or CSV, checked for ``columns``.

    Raises
    ------
    SettingsError
        If the file is missing or lacks a column (the message names the file and columns).
    """
    path = Path(path)
    if not path.exists():
        raise SettingsError(f"ground truth file not found: {path}")
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, dtype=str)
    missing = sorted(set(columns) - set(frame.columns))
    if missing:
        raise SettingsError(f"{path.name} lacks column(s) {missing}")
    return frame


def _read_columns(ws: Workspace, name: str, columns: Sequence[str] | None) -> pd.DataFrame:
    import pyarrow.parquet as pq

    path = ws.table_path(name)
    if columns is None:
        return pq.read_table(path).to_pandas()
    present = set(pq.read_schema(path).names)
    return pq.read_table(path, columns=[c for c in columns if c in present]).to_pandas()


def write_report(
    workspace: Workspace | Path | str,
    out: Path | str | None = None,
    *,
    truth: Path | str | None = None,
    truth_relationships: Path | str | None = None,
    truth_families: Path | str | None = None,
    sample_size: int = 8,
) -> Path:
    """Read a workspace (and ground truth, if given) and write its report; returns the path.

    ``out`` defaults to ``WORKSPACE/report.html``. Only the columns in
    :data:`REPORT_COLUMNS` are read, and each table's SHA-256 is checked against the
    manifest. The file is written atomically (a temporary file renamed into place).

    Raises
    ------
    WorkspaceError
        If the workspace has no manifest (no stage has run).
    SettingsError
        If a ground truth file is missing or lacks its columns.
    """
    from ingest.errors import WorkspaceError
    from kinlink.workspace import Workspace, file_sha256

    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    manifest = ws.read_manifest()
    if not manifest:
        raise WorkspaceError(f"{ws.path} has no manifest.json; run `kinlink ingest` (or `kinlink run`) first")
    if truth is None and (truth_relationships is not None or truth_families is not None):
        raise SettingsError("--truth-relationships and --truth-families need --truth (the records' truth)")
    tables = {
        name: _read_columns(ws, name, columns)
        for name, columns in REPORT_COLUMNS.items()
        if ws.has_table(name) and (name != "stated_relationships" or truth is not None)
    }
    checks: dict[str, str] = {}
    for name, entry in (manifest.get("tables", {}) or {}).items():
        path = ws.table_path(name)
        if not path.exists():
            checks[name] = "missing"
        else:
            checks[name] = "yes" if file_sha256(path) == entry.get("sha256") else "NO"
    model_path = ws.path / "linkage_model.json"
    model = None
    if model_path.exists():
        import json

        model = json.loads(model_path.read_text(encoding="utf-8"))
    report_truth = None
    if truth is not None:
        report_truth = ReportTruth(
            records=read_truth(truth, ("source", "source_record_id", "person_id")),
            relationships=read_truth(
                truth_relationships, ("person_id_from", "person_id_to", "relationship_type")
            )
            if truth_relationships is not None
            else None,
            families=read_truth(truth_families, ("family_id", "person_id"))
            if truth_families is not None
            else None,
        )
    document = build_report(
        tables, manifest, model, truth=report_truth, table_checks=checks, sample_size=sample_size
    )
    target = Path(out) if out is not None else ws.path / "report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))  # owner-only from the start
        tmp.write_text(document, encoding="utf-8")
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
