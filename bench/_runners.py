"""One linkage run, in its own process: ``python bench/_runners.py VARIANT DATASET_DIR OUT_DIR``.

The parent (``linkage_bench.py``) starts one of these per tool and data set, so that
wall time and peak memory belong to that tool alone. The run reads the data set's
``records.parquet``, links it, and writes to ``OUT_DIR``:

- ``clusters.parquet``: ``record_key, person_id`` for every input record (singletons too);
- ``pairs.parquet`` (when the tool yields pairs): ``record_key_l, record_key_r``, the
  links it accepted before any transitive closure;
- ``run.json``: candidate pair count, seconds per phase, versions, the settings used.

Nothing here prints or logs a name, date of birth or identifier.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _datasets import Dataset

#: Probability at which Splink's pairwise predictions are clustered (connected
#: components of edges at or above it). The Splink docs' 50k dedupe example uses 0.95.
SPLINK_CLUSTER_THRESHOLD = 0.95
#: Pairs sampled for Splink's u estimation (its docstring: "1e7 is often adequate").
SPLINK_U_MAX_PAIRS = 1e7
#: Jaro-Winkler threshold for recordlinkage's binary string features (its docs use 0.85).
RL_STRING_THRESHOLD = 0.85


@dataclass
class Outcome:
    """What a runner returns: clusters, optionally pairs, and facts about the run."""

    clusters: pd.DataFrame
    pairs: pd.DataFrame | None = None
    candidate_pairs: int | None = None
    phases: dict[str, float] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)


class NotAvailable(Exception):
    """The tool cannot run here (not installed, API missing, settings missing)."""


# --- shared helpers --------------------------------------------------------------------


def _fields(dataset: Dataset) -> dict[str, list[str]]:
    """Columns each kind of data set offers the linkers, by role."""
    if dataset.kind == "febrl":
        return {
            "names": ["given_name_std", "family_name_std"],
            "exact": ["soc_sec_id", "street_number", "postcode_raw", "locality", "state"],
            "fuzzy": ["address_std"],
            "ids": ["soc_sec_id"],
            "postcode": ["postcode_raw"],
        }
    return {
        "names": ["given_name_std", "family_name_std"],
        "exact": ["nhs_number_std", "upn_std", "sex", "postcode_std"],
        # No address feature for the probabilistic models: it moves with the postcode.
        "fuzzy": [],
        "ids": ["nhs_number_std", "upn_std"],
        "postcode": ["postcode_std"],
    }


def _columns(dataset: Dataset) -> list[str]:
    spec = _fields(dataset)
    wanted = ["record_key", "source", *spec["names"], "dob", *spec["exact"], "address_std"]
    return list(dict.fromkeys(wanted))


def _frame(records: pd.DataFrame, dataset: Dataset) -> pd.DataFrame:
    """The columns the tools use, plus derived blocking keys (given initial, birth year)."""
    frame = records[_columns(dataset)].copy()
    given = frame["given_name_std"].astype("string")
    frame["given_initial"] = given.str[:1].astype(object).where(given.notna(), None)
    year = pd.to_datetime(frame["dob"], errors="coerce").dt.year
    frame["birth_year"] = year.astype("Int64").astype("string").astype(object)
    frame["birth_year"] = frame["birth_year"].where(year.notna(), None)
    return frame


def blocking_passes(dataset: Dataset) -> list[tuple[str, ...]]:
    """Equality blocking passes (a pair is a candidate if any pass holds), shared by the
    Splink and recordlinkage runners so both compare the same candidates.

    FEBRL is small, so its passes are broad. On the synthetic data a family name and a
    given initial alone give about 150 million pairs at 1M records (few surnames, many
    records per family), so those passes are narrowed the way the Splink docs' 50k
    example narrows its own: full names, or names within one birth year.
    """
    if dataset.kind == "febrl":
        return [
            ("dob",),
            ("family_name_std", "given_initial"),
            ("postcode_raw", "given_initial"),
            ("soc_sec_id",),
        ]
    return [
        ("dob", "given_initial"),
        ("family_name_std", "given_name_std"),
        ("family_name_std", "given_initial", "birth_year"),
        ("postcode_std", "given_initial"),
        ("nhs_number_std",),
        ("upn_std",),
    ]


def connected_components(keys: pd.Series, left: np.ndarray, right: np.ndarray) -> pd.DataFrame:
    """Person id (component number) of every key, given accepted links between keys."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components as components

    index = pd.Index(keys)
    rows = index.get_indexer(left)
    cols = index.get_indexer(right)
    keep = (rows >= 0) & (cols >= 0)
    n = len(index)
    graph = coo_matrix((np.ones(int(keep.sum()), dtype=np.int8), (rows[keep], cols[keep])), shape=(n, n))
    _, labels = components(graph, directed=False)
    return pd.DataFrame({"record_key": index.to_numpy(), "person_id": labels.astype(np.int64)})


# --- kinlink ---------------------------------------------------------------------------


def run_kinlink(records: pd.DataFrame, dataset: Dataset, seed: int) -> Outcome:
    """kinlink's own linker: ``linkage.link_records`` with the data set's settings.

    The allocator is set up as the ``kinlink`` command sets it up (each tool runs in its
    own process, so this touches no other tool).
    """
    try:
        from kinlink import tune_allocator
        from linkage import LinkageSettings, link_records
    except ImportError as error:
        raise NotAvailable(f"linkage.link_records is not importable ({error})") from None
    settings_path: Path | None = None
    if dataset.kind == "febrl":
        settings_path = Path(__file__).resolve().parent / "kinlink_febrl.yaml"
        if not settings_path.exists():
            raise NotAvailable(f"{settings_path.name} is missing")
    tune_allocator()
    settings = LinkageSettings.load(settings_path)
    # kinlink also reads what the sources state about people (mother of, victim of, one
    # census row's pupil and contact): the same ingest output the records come from.
    stated_path = Path(dataset.folder) / "workspace" / "stated_relationships.parquet"
    stated = pd.read_parquet(stated_path) if stated_path.exists() else None
    start = time.perf_counter()
    result = link_records(records, settings=settings, stated_relationships=stated, seed=seed)
    link_s = time.perf_counter() - start
    person_index = pd.DataFrame(result.person_index)[["record_key", "person_id"]]
    # every pair compared (result.pairs keeps only those worth keeping)
    candidate_pairs = result.facts.get("candidate_pairs")
    return Outcome(
        clusters=person_index,
        candidate_pairs=candidate_pairs,
        phases={"link_s": link_s, **{f"{k}_s": v for k, v in result.facts.get("seconds", {}).items()}},
        facts={
            "settings": str(settings_path) if settings_path else "default (shipped)",
            "stated_relationships": stated is not None,
        },
    )


# --- Splink ----------------------------------------------------------------------------


def _splink_settings(dataset: Dataset) -> dict[str, Any]:
    """Blocking rules, comparisons and training rules, written the way the Splink docs do."""
    import splink.comparison_library as cl
    from splink import block_on

    given, family = "given_name_std", "family_name_std"
    swapped = "l.given_name_std = r.family_name_std and l.family_name_std = r.given_name_std"
    names = [
        cl.NameComparison(given).configure(term_frequency_adjustments=True),
        cl.NameComparison(family).configure(term_frequency_adjustments=True),
        cl.DateOfBirthComparison("dob", input_is_string=False),
    ]
    if dataset.kind == "febrl":
        blocking = [*(block_on(*keys) for keys in blocking_passes(dataset)), swapped]
        comparisons = [
            *names,
            cl.ExactMatch("soc_sec_id"),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("address_std", [0.9, 0.8]),
            cl.ExactMatch("locality").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode_raw").configure(term_frequency_adjustments=True),
            cl.ExactMatch("state").configure(term_frequency_adjustments=True),
        ]
        deterministic = [block_on("soc_sec_id"), block_on(given, family, "dob")]
        training = [block_on("dob"), block_on("postcode_raw")]
    else:
        blocking = [block_on(*keys) for keys in blocking_passes(dataset)]
        comparisons = [
            *names,
            cl.ExactMatch("nhs_number_std"),
            cl.ExactMatch("upn_std"),
            # No address comparison: it moves with the postcode, and counting both
            # double-counts living together (the Splink FEBRL4 example leaves further
            # location columns out for the same reason).
            cl.PostcodeComparison("postcode_std"),
            cl.ExactMatch("sex"),
        ]
        deterministic = [block_on("nhs_number_std"), block_on(given, family, "dob")]
        training = [block_on(given, family), block_on("dob"), block_on("postcode_std")]
    return {
        "blocking": blocking,
        "comparisons": comparisons,
        "deterministic": deterministic,
        "deterministic_recall": 0.8,
        "training": training,
    }


def run_splink(records: pd.DataFrame, dataset: Dataset, seed: int) -> Outcome:
    """Splink 5 on DuckDB: an unsupervised model trained as the Splink docs recommend."""
    try:
        import splink
        from splink import DuckDBAPI, Linker, SettingsCreator
    except ImportError as error:
        raise NotAvailable(f"splink is not installed ({error})") from None
    phases: dict[str, float] = {}
    start = time.perf_counter()
    spec = _splink_settings(dataset)
    frame = _frame(records, dataset)
    db_api = DuckDBAPI()
    if dataset.link_type == "link_only":
        inputs: Any = [
            db_api.register(
                frame[frame["source"] == source].reset_index(drop=True),
                dataset_display_name=source,
            )
            for source in dataset.sources
        ]
    else:
        inputs = db_api.register(frame, dataset_display_name="records")
    settings = SettingsCreator(
        link_type=dataset.link_type,  # type: ignore[arg-type]
        unique_id_column_name="record_key",
        blocking_rules_to_generate_predictions=spec["blocking"],
        comparisons=spec["comparisons"],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(inputs, settings, log_level=logging.WARNING)
    phases["setup_s"] = time.perf_counter() - start

    start = time.perf_counter()
    linker.training.estimate_probability_two_random_records_match(
        spec["deterministic"], recall=spec["deterministic_recall"]
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=SPLINK_U_MAX_PAIRS, seed=seed)
    for rule in spec["training"]:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True
        )
    phases["train_s"] = time.perf_counter() - start

    start = time.perf_counter()
    predictions = linker.inference.predict()
    phases["predict_s"] = time.perf_counter() - start
    counted = predictions.query_sql("select count(*) as n from {this}").as_record_list()
    candidate_pairs = int(counted[0]["n"])

    start = time.perf_counter()
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=SPLINK_CLUSTER_THRESHOLD
    )
    clusters = clustered.as_pandas_dataframe()[["record_key", "cluster_id"]]
    phases["cluster_s"] = time.perf_counter() - start
    pairs = predictions.query_sql(
        "select record_key_l, record_key_r from {this} "
        f"where match_probability >= {SPLINK_CLUSTER_THRESHOLD}"
    ).as_pandas_dataframe()
    probability = linker._settings_obj._probability_two_random_records_match
    return Outcome(
        clusters=clusters.rename(columns={"cluster_id": "person_id"}),
        pairs=pairs,
        candidate_pairs=candidate_pairs,
        phases=phases,
        facts={
            "version": splink.__version__,
            "backend": "duckdb",
            "link_type": dataset.link_type,
            "blocking_rules": len(spec["blocking"]),
            "comparisons": len(spec["comparisons"]),
            "em_rules": len(spec["training"]),
            "u_max_pairs": SPLINK_U_MAX_PAIRS,
            "cluster_threshold": SPLINK_CLUSTER_THRESHOLD,
            "estimated_prior": float(probability),
        },
    )


# --- recordlinkage ---------------------------------------------------------------------


def _rl_compare(dataset: Dataset, variant: str) -> Any:
    import recordlinkage as rl

    compare = rl.Compare()
    jw = {"method": "jarowinkler", "threshold": RL_STRING_THRESHOLD}
    if variant == "rules":
        # The recordlinkage docs' deduplication example: six binary features, a match
        # when more than three agree.
        compare.string("given_name_std", "given_name_std", label="given_name", **jw)
        compare.string("family_name_std", "family_name_std", label="family_name", **jw)
        compare.exact("dob", "dob", label="dob")
        if dataset.kind == "febrl":
            compare.exact("locality", "locality", label="locality")
            compare.exact("state", "state", label="state")
        else:
            compare.exact("postcode_std", "postcode_std", label="postcode")
            compare.exact("sex", "sex", label="sex")
        compare.string("address_std", "address_std", label="address", **jw)
        return compare
    spec = _fields(dataset)
    compare.string("given_name_std", "given_name_std", label="given_name", **jw)
    compare.string("family_name_std", "family_name_std", label="family_name", **jw)
    compare.exact("dob", "dob", label="dob")
    for column in spec["exact"]:
        compare.exact(column, column, label=column)
    for column in spec["fuzzy"]:
        compare.string(column, column, label=column, **jw)
    return compare


def run_recordlinkage(records: pd.DataFrame, dataset: Dataset, seed: int, *, variant: str) -> Outcome:
    """recordlinkage: Block index, binary Compare features, then ECM or a thresholded sum."""
    try:
        import recordlinkage as rl
        from recordlinkage.index import Block
    except ImportError as error:
        raise NotAvailable(f"recordlinkage is not installed ({error})") from None
    phases: dict[str, float] = {}
    start = time.perf_counter()
    frame = _frame(records, dataset)
    frame["dob"] = frame["dob"].astype("string")
    frame = frame.set_index("record_key")
    indexer = rl.Index()
    for keys in blocking_passes(dataset):
        indexer.add(Block(list(keys)))
    if dataset.link_type == "link_only":
        left, right = (frame[frame["source"] == source] for source in dataset.sources)
        candidates = indexer.index(left, right)
    else:
        left = right = frame
        candidates = indexer.index(frame)
    phases["index_s"] = time.perf_counter() - start

    start = time.perf_counter()
    compare = _rl_compare(dataset, variant)
    if dataset.link_type == "link_only":
        features = compare.compute(candidates, left, right)
    else:
        features = compare.compute(candidates, frame)
    features = features.fillna(0).astype(np.int8)
    phases["compare_s"] = time.perf_counter() - start

    start = time.perf_counter()
    facts: dict[str, Any] = {
        "version": rl.__version__,
        "blocks": [list(keys) for keys in blocking_passes(dataset)],
        "features": list(features.columns),
    }
    if variant == "ecm":
        np.random.seed(seed)  # ECM starts from fixed values; kept for completeness.
        classifier = rl.ECMClassifier(binarize=None)
        matches = classifier.fit_predict(features)
        facts["classifier"] = "ECMClassifier(binarize=None)"
    else:
        matches = features.index[features.sum(axis=1) > 3]
        facts["classifier"] = "sum of features > 3 (recordlinkage docs' dedupe example)"
    phases["classify_s"] = time.perf_counter() - start

    pairs = pd.DataFrame(
        {
            "record_key_l": matches.get_level_values(0).astype(str),
            "record_key_r": matches.get_level_values(1).astype(str),
        }
    )
    clusters = connected_components(
        records["record_key"], pairs["record_key_l"].to_numpy(), pairs["record_key_r"].to_numpy()
    )
    return Outcome(
        clusters=clusters,
        pairs=pairs,
        candidate_pairs=len(candidates),
        phases=phases,
        facts=facts,
    )


RUNNERS: dict[str, Callable[[pd.DataFrame, Dataset, int], Outcome]] = {
    "kinlink": run_kinlink,
    "splink": run_splink,
    "recordlinkage-ecm": lambda r, d, s: run_recordlinkage(r, d, s, variant="ecm"),
    "recordlinkage-rules": lambda r, d, s: run_recordlinkage(r, d, s, variant="rules"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", choices=sorted(RUNNERS))
    parser.add_argument("dataset", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    dataset = Dataset.load(args.dataset)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    records = pd.read_parquet(dataset.records_path)
    load_s = time.perf_counter() - start

    run: dict[str, Any] = {"variant": args.variant, "dataset": dataset.name, "seed": args.seed}
    start = time.perf_counter()
    try:
        outcome = RUNNERS[args.variant](records, dataset, args.seed)
    except NotAvailable as reason:
        run.update(status="not available", reason=str(reason))
        (args.out / "run.json").write_text(json.dumps(run, indent=2))
        return 3
    tool_s = time.perf_counter() - start

    outcome.clusters.astype({"record_key": str}).to_parquet(args.out / "clusters.parquet", index=False)
    if outcome.pairs is not None:
        outcome.pairs.astype(str).to_parquet(args.out / "pairs.parquet", index=False)
    run.update(
        status="ok",
        records=len(records),
        candidate_pairs=outcome.candidate_pairs,
        load_s=load_s,
        tool_s=tool_s,
        phases=outcome.phases,
        facts=outcome.facts,
    )
    (args.out / "run.json").write_text(json.dumps(run, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
