"""Explaining a match: each term of a pair's match weight, as a table and a waterfall chart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from linkage.errors import LinkageError
from linkage.link import add_relational_columns, prepare_for_linkage, uses_relational, with_nicknames
from linkage.model import HOUSEHOLD_STRATA, STRATUM_LABELS
from linkage.name_ties import adjustment_label
from linkage.scorer import PairScorer
from linkage.scoring import probability
from linkage.settings import LinkageSettings

__all__ = ["explain_pair", "waterfall_chart"]


def explain_pair(
    records: pd.DataFrame,
    settings: LinkageSettings,
    key_l: str,
    key_r: str,
    stated_relationships: pd.DataFrame | None = None,
    person_index: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The terms of one pair's match weight under a trained model, in order, with a running total.

    Columns: ``term`` (prior, then each comparison, then term-frequency adjustments and
    given-name ties),
    ``level`` (what was seen), ``weight`` (bits), ``cumulative`` (bits) and ``probability``
    (of the running total). The weights sum to the pair's match weight.

    With relational evidence in the model, pass the run's ``stated_relationships`` and its
    ``person_index``: who is a parent of whom is read through the people of that index.
    """
    if settings.parameters is None:
        raise LinkageError("explaining a pair needs a trained model (run `kinlink link` first)")
    prepared, position, keys = prepare_for_linkage(records, stated_relationships)
    if uses_relational(settings) and stated_relationships is not None and person_index is not None:
        people = person_index.set_index("record_key")["person_id"].reindex(keys)
        people_labels = np.zeros(len(prepared), dtype=np.int64)
        people_labels[position] = pd.factorize(people)[0]
        add_relational_columns(
            prepared, records.reset_index(drop=True), stated_relationships, position, people_labels
        )
    where = {k: i for i, k in enumerate(keys)}
    missing = [k for k in (key_l, key_r) if k not in where]
    if missing:
        raise LinkageError(f"record key(s) not in the records table: {missing}")
    pair = (np.array([position[where[key_l]]]), np.array([position[where[key_r]]]))
    nicks = with_nicknames(prepared, settings)
    scored = PairScorer(prepared, settings, nicks, settings.parameters).score(*pair)
    stratum = int(scored.graded.strata[0])
    labels = {
        c.name: c.levels[int(scored.graded.levels[0, j])].label for j, c in enumerate(settings.comparisons)
    }
    labels.update(
        {
            c.name: c.levels[int(scored.graded.context_levels[0, j])].label
            for j, c in enumerate(settings.context)
        }
    )
    rows = []
    code = (*HOUSEHOLD_STRATA, "R")[stratum]
    for term, values in scored.terms.items():
        if term == "prior":
            level = f"stratum {code}: {STRATUM_LABELS[code]}"
        elif term.startswith("tf_"):
            level = adjustment_label(term)
        else:
            level = labels.get(term, "")
            if stratum < len(HOUSEHOLD_STRATA) and term in {c.name for c in settings.context}:
                level += " (in the stratum's prior)"
        rows.append({"term": term, "level": level, "weight": float(values[0])})
    table = pd.DataFrame(rows)
    table["cumulative"] = table["weight"].cumsum()
    table["probability"] = probability(table["cumulative"].to_numpy())
    if scored.conflict[0]:
        table.attrs["hard_conflict"] = True
    return table


def waterfall_chart(
    table: pd.DataFrame, path: Path | str, *, title: str = "Why this pair scored as it did"
) -> Path:
    """Draw the explanation as a waterfall chart (PNG or SVG by suffix)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    weights = table["weight"].to_numpy()
    starts = np.r_[0.0, table["cumulative"].to_numpy()[:-1]]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(table) + 1.6))
    ypos = np.arange(len(table))[::-1]
    colours = np.where(weights >= 0, "#1b7837", "#b2182b")
    hatches = ["" if w >= 0 else "//" for w in weights]
    bars = ax.barh(ypos, weights, left=starts, color=colours, edgecolor="black", linewidth=0.6)
    for bar, hatch in zip(bars, hatches, strict=True):
        bar.set_hatch(hatch)
    ax.set_yticks(
        ypos,
        [f"{t}: {lvl}" for t, lvl in zip(table["term"], table["level"], strict=True)],
        fontsize=8,
    )
    total = float(table["cumulative"].iloc[-1])
    ax.axvline(0, color="grey", linewidth=0.8)
    # two lines: the long level labels leave the axes narrower than one line of this
    ax.set_xlabel("match weight (bits)\ngreen adds, hatched red takes away")
    ax.set_title(
        f"{title}\nmatch weight {total:.1f} bits, probability {probability(np.array([total]))[0]:.4f}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
