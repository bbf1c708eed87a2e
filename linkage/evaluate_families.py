"""Score relationships and families against ground truth.

Ground truth is three tables: ``source, source_record_id, person_id`` for the records;
``person_id_from, person_id_to, relationship_type`` for relationships (read as in
``ingest.schema.RELATIONSHIP_TYPES``); ``family_id, person_id`` for families. Any labelled
data set in those shapes can be scored, not only the synthetic one.

People are matched first: a linked person stands for the true person most of its records
belong to; a true person is represented by the linked person holding most of its records.
Only true people with at least one linked record count (the others are not in the data).

- Relationships are scored by **kind** (``parent_child`` directed; ``partner``,
  ``sibling`` undirected; ``grandparent``, ``step_parent`` directed; ``abuse`` directed):
  precision is the share of inferred relationships of a kind whose true people have
  that relationship; recall the share of true relationships between people in the data
  that were inferred.
- Families: each true family (restricted to people in the data) is compared with every
  inferred family sharing a member (members mapped to true people); its score is the
  best Jaccard index. Reported: the mean over true families and the share reconstructed
  exactly, for whole families and for their core (children and parents, when the truth
  gives a ``role`` column).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["CORE_ROLES", "RELATIONSHIP_KINDS", "FamilyEvaluation", "evaluate_families", "person_maps"]

RELATIONSHIP_KINDS: dict[str, frozenset[str]] = {
    "parent_child": frozenset({"mother", "father", "parent", "adoptive_parent"}),
    "partner": frozenset({"partner", "spouse", "ex_partner"}),
    "sibling": frozenset({"sibling", "half_sibling"}),
    "grandparent": frozenset({"grandparent"}),
    "step_parent": frozenset({"step_parent"}),
    "abuse": frozenset({"perpetrator_of_abuse_against"}),
}
_UNDIRECTED_KINDS = frozenset({"partner", "sibling"})
CORE_ROLES = frozenset({"child", "parent"})


@dataclass(frozen=True)
class FamilyEvaluation:
    """Relationship scores by kind and family reconstruction scores."""

    relationships: pd.DataFrame  # kind, inferred, true_in_data, correct, found, precision, recall, f1
    families_true: int
    families_inferred: int
    mean_best_jaccard: float
    exact_share: float
    core_mean_best_jaccard: float
    core_exact_share: float

    def to_dict(self) -> dict[str, object]:
        return {
            "relationships": self.relationships.to_dict("records"),
            "families_true": self.families_true,
            "families_inferred": self.families_inferred,
            "mean_best_jaccard": self.mean_best_jaccard,
            "exact_share": self.exact_share,
            "core_mean_best_jaccard": self.core_mean_best_jaccard,
            "core_exact_share": self.core_exact_share,
        }


def person_maps(person_index: pd.DataFrame, truth_records: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(linked person -> true person, true person -> linked person), each by majority of records."""
    truth = truth_records.dropna(subset=["source_record_id", "person_id"])
    keys = truth["source"].astype(str) + ":" + truth["source_record_id"].astype(str)
    truth = pd.DataFrame({"record_key": keys, "true_id": truth["person_id"].astype(str)})
    joined = person_index[["record_key", "person_id"]].merge(truth, on="record_key")
    counts = joined.groupby(["person_id", "true_id"]).size().rename("n").reset_index()
    counts = counts.sort_values(["n", "person_id", "true_id"], ascending=[False, True, True])
    to_true = counts.drop_duplicates("person_id").set_index("person_id")["true_id"]
    to_linked = counts.drop_duplicates("true_id").set_index("true_id")["person_id"]
    return to_true, to_linked


def _kind_pairs(frame: pd.DataFrame, kind: str, start: str, end: str) -> set[tuple[str, str]]:
    part = frame[frame["relationship_type"].isin(RELATIONSHIP_KINDS[kind])]
    pairs = zip(part[start].astype(str), part[end].astype(str), strict=True)
    if kind in _UNDIRECTED_KINDS:
        return {(min(a, b), max(a, b)) for a, b in pairs if a != b}
    return {(a, b) for a, b in pairs if a != b}


def evaluate_families(
    person_index: pd.DataFrame,
    relationships: pd.DataFrame,
    families: pd.DataFrame,
    truth_records: pd.DataFrame,
    truth_relationships: pd.DataFrame,
    truth_families: pd.DataFrame,
    stated_relationships: pd.DataFrame | None = None,
) -> FamilyEvaluation:
    """Relationship precision/recall by kind and family Jaccard scores (see the module doc).

    With ``stated_relationships`` a second recall is given, ``recall_stated``: over the true
    relationships whose two people some source states a relationship between (of any
    type, named by record), the share inferred. It separates what inference misses from
    what no source says.
    """
    to_true, to_linked = person_maps(person_index, truth_records)
    stated_pairs = _stated_true_pairs(stated_relationships, truth_records)
    in_data = set(to_linked.index)
    rows = []
    inferred_true = relationships.assign(
        person_id_from=relationships["person_id_from"].map(to_true),
        person_id_to=relationships["person_id_to"].map(to_true),
    ).dropna(subset=["person_id_from", "person_id_to"])
    true_in_data = truth_relationships[
        truth_relationships["person_id_from"].isin(in_data)
        & truth_relationships["person_id_to"].isin(in_data)
    ]
    true_linked = true_in_data.assign(
        person_id_from=true_in_data["person_id_from"].map(to_linked),
        person_id_to=true_in_data["person_id_to"].map(to_linked),
    )
    for kind in RELATIONSHIP_KINDS:
        inferred_pairs = _kind_pairs(relationships, kind, "person_id_from", "person_id_to")
        inferred_as_true = _kind_pairs(inferred_true, kind, "person_id_from", "person_id_to")
        true_pairs = _kind_pairs(true_in_data, kind, "person_id_from", "person_id_to")
        true_as_linked = _kind_pairs(true_linked, kind, "person_id_from", "person_id_to")
        correct = len(inferred_as_true & true_pairs)
        found = len(true_as_linked & inferred_pairs)
        stated_true = {p for p in true_pairs if p in stated_pairs}
        stated_found = sum(1 for a, b in stated_true if _linked_pair(a, b, to_linked, kind) in inferred_pairs)
        precision = correct / len(inferred_as_true) if inferred_as_true else float("nan")
        recall = found / len(true_as_linked) if true_as_linked else float("nan")
        f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else float("nan")
        rows.append(
            {
                "kind": kind,
                "inferred": len(inferred_pairs),
                "true_in_data": len(true_as_linked),
                "correct": correct,
                "found": found,
                "precision": precision,
                "recall": recall,
                "f1": f1,
                "true_stated": len(stated_true),
                "recall_stated": stated_found / len(stated_true) if stated_true else float("nan"),
            }
        )
    jaccards = _best_jaccards(families, truth_families, to_true, in_data)
    core = _best_jaccards(
        families[families["role"].isin(CORE_ROLES)],
        truth_families[truth_families["role"].isin(CORE_ROLES)]
        if "role" in truth_families
        else truth_families,
        to_true,
        in_data,
    )
    return FamilyEvaluation(
        relationships=pd.DataFrame(rows),
        families_true=len(jaccards),
        families_inferred=int(families["family_id"].nunique()),
        mean_best_jaccard=float(jaccards.mean()) if len(jaccards) else float("nan"),
        exact_share=float((jaccards == 1.0).mean()) if len(jaccards) else float("nan"),
        core_mean_best_jaccard=float(core.mean()) if len(core) else float("nan"),
        core_exact_share=float((core == 1.0).mean()) if len(core) else float("nan"),
    )


def _linked_pair(a: str, b: str, to_linked: pd.Series, kind: str) -> tuple[str, str]:
    x, y = str(to_linked.get(a)), str(to_linked.get(b))
    return (min(x, y), max(x, y)) if kind in _UNDIRECTED_KINDS else (x, y)


def _stated_true_pairs(stated: pd.DataFrame | None, truth_records: pd.DataFrame) -> set[tuple[str, str]]:
    """True-person pairs (both orders) some source states a relationship between."""
    if stated is None or stated.empty:
        return set()
    truth = truth_records.dropna(subset=["source_record_id", "person_id"])
    keys = truth["source"].astype(str) + ":" + truth["source_record_id"].astype(str)
    key_to_true = pd.Series(truth["person_id"].astype(str).to_numpy(), index=keys)
    key_to_true = key_to_true[~key_to_true.index.duplicated()]
    a = stated["from_record_key"].map(key_to_true)
    b = stated["to_record_key"].map(key_to_true)
    pairs = {(x, y) for x, y in zip(a, b, strict=True) if isinstance(x, str) and isinstance(y, str)}
    return pairs | {(y, x) for x, y in pairs}


def _best_jaccards(
    families: pd.DataFrame, truth_families: pd.DataFrame, to_true: pd.Series, in_data: set[str]
) -> pd.Series:
    truth = truth_families[truth_families["person_id"].astype(str).isin(in_data)]
    truth = truth[["family_id", "person_id"]].drop_duplicates().astype(str)
    inferred = families.assign(true_id=families["person_id"].map(to_true)).dropna(subset=["true_id"])
    inferred = inferred[["family_id", "true_id"]].drop_duplicates()
    true_size = truth.groupby("family_id").size()
    inferred_size = inferred.groupby("family_id").size()
    shared = truth.merge(inferred, left_on="person_id", right_on="true_id", suffixes=("_t", "_i"))
    overlap = shared.groupby(["family_id_t", "family_id_i"]).size().rename("both").reset_index()
    union = (
        overlap["family_id_t"].map(true_size).to_numpy()
        + overlap["family_id_i"].map(inferred_size).to_numpy()
        - overlap["both"].to_numpy()
    )
    overlap["jaccard"] = overlap["both"] / union
    best = overlap.groupby("family_id_t")["jaccard"].max()
    return best.reindex(true_size.index, fill_value=0.0)
