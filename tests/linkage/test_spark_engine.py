"""The Spark engine gives the local engine's answer: the same people, ids, pairs and weights.

Spark runs in local mode, one session for the module (started while the data is made).
Three runs: the records read from Parquet and broadcast to the workers, with the relational
second pass; the same with the `pairs` table written by Spark to Parquet instead of
collected (the mode for pairs too many for the driver); and the records as a Spark
DataFrame, joined to each pair, with the pairs kept on disk (the modes for record sets too
large to broadcast and pairs too many for the heap). The
module is skipped only when pyspark is not installed (the ``spark`` extra).
"""

from __future__ import annotations

import concurrent.futures
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from kinlink.pipeline import run_ingest
from kinlink.synth import synthesise
from kinlink.workspace import Workspace
from linkage import LinkageSettings, link_records
from linkage.errors import LinkageError
from linkage.link import prepare_for_linkage
from linkage.prepare import load_nicknames, nickname_pairs
from linkage.scorer import PairScorer
from linkage.spark import link_records_spark, local_session
from linkage.spark.batches import BatchContext, grade_batch, needed_columns, tf_names
from linkage.spark.session import find_java, local_session_config, require_pyspark
from tests.linkage.conftest import make_records

pytest.importorskip("pyspark", reason="the Spark engine needs pyspark: pip install 'kinlink[spark]'")

WEIGHT_TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def linked(tmp_path_factory):
    """A small synthetic local authority, linked by both engines (Spark reads the Parquet file)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        starting = pool.submit(local_session, cores=2, shuffle_partitions=1)
        root = tmp_path_factory.mktemp("spark_engine")
        synthesise(root / "data", n_people=300, seed=7)
        run_ingest(root / "data", Workspace(root / "ws").create())
        records_path = root / "ws" / "records.parquet"
        stated = pd.read_parquet(root / "ws" / "stated_relationships.parquet")
        settings = LinkageSettings.load(None)
        records = pd.read_parquet(records_path)
        local = link_records(records, settings, stated_relationships=stated, seed=42)
        local_alone = link_records(records, settings, seed=42)
        spark = starting.result()
    try:
        on_spark = link_records_spark(
            str(records_path), settings, spark=spark, stated_relationships=stated, seed=42
        )
        pairs_path = root / "pairs_out"
        to_parquet = link_records_spark(
            str(records_path),
            settings,
            spark=spark,
            stated_relationships=stated,
            seed=42,
            pairs_path=pairs_path,
        )
        spark.conf.set("spark.kinlink.broadcastBytes", "0")  # records joined to the pairs
        spark.conf.set("spark.kinlink.pairStorage", "DISK_ONLY")  # and the pairs kept on disk
        try:
            joined = link_records_spark(
                spark.createDataFrame(records.drop(columns=["dod"])), settings, seed=42
            )
        finally:
            spark.conf.unset("spark.kinlink.broadcastBytes")
            spark.conf.unset("spark.kinlink.pairStorage")
        yield SimpleNamespace(
            local=local,
            spark=on_spark,
            local_alone=local_alone,
            joined=joined,
            to_parquet=to_parquet,
            pairs_path=pairs_path,
            session=spark,
        )
    finally:
        spark.stop()


def test_the_same_people_with_the_same_ids(linked):
    assert linked.local.facts["relational_pass"], "the data should exercise the relational second pass"
    assert linked.local.facts["components_reexamined"] > 0, "the data should exercise cannot-link constraints"
    pd.testing.assert_frame_equal(linked.spark.person_index, linked.local.person_index)
    pd.testing.assert_frame_equal(linked.spark.persons, linked.local.persons)


def test_the_same_pairs_and_match_weights(linked):
    local, spark = linked.local.pairs, linked.spark.pairs
    keys = ["record_key_l", "record_key_r"]
    both = local.merge(spark, on=keys, how="outer", suffixes=("_local", "_spark"), indicator=True)
    assert (both["_merge"] == "both").all(), "a pair scored by one engine only"
    gap = np.abs(both["match_weight_local"] - both["match_weight_spark"]).max()
    assert gap <= WEIGHT_TOLERANCE
    for column in local.columns:
        if column.startswith("level_") or column in ("blocking_rule", "stratum", "hard_conflict"):
            assert (both[f"{column}_local"] == both[f"{column}_spark"]).all(), column
    # in fact the same table, row for row
    pd.testing.assert_frame_equal(spark, local, check_exact=True)


def test_the_same_model_blocking_counts_and_facts(linked):
    pd.testing.assert_frame_equal(linked.spark.blocking, linked.local.blocking)
    assert linked.spark.settings.parameters.to_dict() == linked.local.settings.parameters.to_dict()
    for name, value in linked.local.facts.items():
        if name != "seconds":
            assert linked.spark.facts[name] == value, name
    assert linked.spark.facts["engine"] == "spark"


def test_records_joined_to_the_pairs_give_the_same_answer(linked):
    assert linked.joined.facts["engine"] == "spark"
    pd.testing.assert_frame_equal(linked.joined.person_index, linked.local_alone.person_index)
    pd.testing.assert_frame_equal(linked.joined.pairs, linked.local_alone.pairs, check_exact=True)
    pd.testing.assert_frame_equal(linked.joined.blocking, linked.local_alone.blocking)


def test_pairs_written_to_parquet_are_the_local_pairs(linked):
    """Real Parquet written by Spark: the local engine's `pairs` table, row for row once sorted."""
    result, local = linked.to_parquet, linked.local
    assert linked.pairs_path.is_dir() and any(linked.pairs_path.glob("*.parquet"))
    written = pd.read_parquet(linked.pairs_path)
    keys = ["record_key_l", "record_key_r"]
    assert not written.duplicated(keys).any()
    expected = local.pairs.sort_values(keys, ignore_index=True)
    got = written.sort_values(keys, ignore_index=True)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    # nothing collected: an empty table with the same columns and types
    assert len(result.pairs) == 0
    pd.testing.assert_series_equal(result.pairs.dtypes, local.pairs.dtypes)
    assert result.facts["pairs_kept"] == len(local.pairs)
    assert result.facts["pairs_path"] == str(linked.pairs_path.resolve())
    # the people do not depend on where the pairs went
    pd.testing.assert_frame_equal(result.person_index, local.person_index)
    pd.testing.assert_frame_equal(result.persons, local.persons)
    for name, value in local.facts.items():
        if name not in ("seconds", "pairs_kept"):
            assert result.facts[name] == value, name


def test_a_spark_dataframe_reaches_the_driver_in_its_order(linked):
    from linkage.spark.frames import to_pandas

    frame = pd.DataFrame({"record_key": ["b:2", "a:1", "c:3"], "n": [2, 1, 3]})
    back = to_pandas(linked.session.createDataFrame(frame), "records")
    pd.testing.assert_frame_equal(back, frame)


def test_a_rule_that_would_make_too_many_pairs_is_refused(linked):
    from linkage.blocking import BlockingRule
    from linkage.spark.blocking import block_spark

    keyed = linked.session.createDataFrame(
        pd.DataFrame({"pos": np.arange(6, dtype=np.int64), "source": ["s"] * 6, "family": ["SMITH"] * 6})
    )
    with pytest.raises(LinkageError, match=r"would make 15 pairs.*largest block holds 6 records"):
        block_spark(keyed, [BlockingRule("family", ("family",))], max_pairs_per_rule=10)


def test_pairs_are_kept_where_the_setting_says_and_each_rules_pairs_let_go(linked):
    from pyspark import StorageLevel

    from linkage.blocking import BlockingRule
    from linkage.spark.blocking import block_spark

    spark = linked.session
    keyed = spark.createDataFrame(
        pd.DataFrame(
            {
                "pos": np.arange(6, dtype=np.int64),
                "source": ["s"] * 6,
                "family": ["SMITH"] * 3 + ["JONES"] * 3,
                "sex": ["F", "M"] * 3,
            }
        )
    )
    rules = [BlockingRule("family", ("family",)), BlockingRule("sex", ("sex",))]
    persisted = spark.sparkContext._jsc.getPersistentRDDs
    before = persisted().size()
    spark.conf.set("spark.kinlink.pairStorage", "disk_only")
    try:
        blocked = block_spark(keyed, rules)
        assert blocked.pairs.storageLevel == StorageLevel.DISK_ONLY
        assert all(f.storageLevel == StorageLevel.DISK_ONLY for f in blocked.cached)
        # 3 + 3 family pairs, 3 + 3 sex pairs, 2 found by both: each pair once, under its first rule
        assert blocked.pairs.count() == 10
        assert blocked.counts["pairs"].tolist() == [6, 6]
        assert blocked.counts["new_pairs"].tolist() == [6, 4]
        # only the frames handed back stay persisted (not the pairs of every rule)
        assert persisted().size() - before == len(blocked.cached)
        for frame in blocked.cached:
            frame.unpersist()
        spark.conf.set("spark.kinlink.pairStorage", "in the attic")
        with pytest.raises(LinkageError, match="pairStorage"):
            block_spark(keyed, rules)
    finally:
        spark.conf.unset("spark.kinlink.pairStorage")


# --- no Spark job needed ---------------------------------------------------------------------

GRADING_CASES = [
    {
        "description": "same person, nickname",
        "l": {"given": "William", "family": "Khan"},
        "r": {"given": "Bill", "family": "Khan"},
    },
    {
        "description": "names swapped",
        "l": {"given": "Ali", "family": "Khan"},
        "r": {"given": "Khan", "family": "Ali"},
    },
    {
        "description": "alias family name",
        "l": {"family": "Jones", "aliases": ["SMITH"]},
        "r": {"family": "Smith"},
    },
    {"description": "initial only", "l": {"given": "P"}, "r": {"given": "Peter"}},
    {"description": "day and month swapped", "l": {"dob": "2010-03-04"}, "r": {"dob": "2010-04-03"}},
    {
        "description": "nothing in common",
        "l": {"given": "Amy", "family": "Lee"},
        "r": {"given": "Zed", "family": "Hart", "dob": "1980-01-01", "sex": "F"},
    },
]


def test_a_batch_grades_as_the_local_engine_grades():
    base = {"given": "John", "family": "Smith", "dob": "2010-03-04", "sex": "M", "postcode": "LS1 4AP"}
    rows = []
    for i, case in enumerate(GRADING_CASES):
        rows.append({**base, **case["l"], "key": f"{i}l"})
        rows.append({**base, **case["r"], "key": f"{i}r", "source": "t"})
    records = make_records(rows)
    settings = LinkageSettings.load(None)
    prepared, _, _ = prepare_for_linkage(records)
    assert len(prepared) == len(records)
    nicks = nickname_pairs(load_nicknames(settings.nicknames))
    scorer = PairScorer(prepared, settings, nicks)
    left = np.arange(0, len(prepared), 2)
    right = left + 1
    expected = scorer.grade(scorer.view(left, right))
    columns = needed_columns(settings, [c for c in prepared.columns if c != "record_key"])
    batch = pd.DataFrame({"l": left, "r": right, "rule": 0, "k1": 0, "k2": 0, "k3": 0})
    batch["enumerated"] = scorer.enumerated(left, right)
    for c in columns:
        batch[f"l_{c}"] = prepared[c].to_numpy()[left]
        batch[f"r_{c}"] = prepared[c].to_numpy()[right]
    ctx = BatchContext(
        settings=settings,
        nicknames=frozenset(nicks),
        frequencies=scorer.frequencies,
        tf_base=scorer.tf_base,
        columns=columns,
        list_columns=(),
        tf=tf_names(settings, scorer.frequencies, scorer.tf_base),
    )
    graded = grade_batch(batch, ctx)
    for j, comp in enumerate(settings.comparisons):
        got = graded[f"level_{comp.name}"].to_numpy()
        for case, want, have in zip(GRADING_CASES, expected.levels[:, j], got, strict=True):
            assert want == have, f"{case['description']}: {comp.name}"
    assert (graded["stratum"].to_numpy() == expected.strata).all()


def test_without_pyspark_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(LinkageError, match=r"pip install 'kinlink\[spark\]'"):
        require_pyspark()


def test_without_java_the_error_says_so(monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(LinkageError, match="Java 17"):
        find_java()


def test_a_local_session_takes_a_quarter_of_the_memory_and_this_python():
    config = local_session_config(cores=2, memory_bytes=24 * 1024**3)
    assert config["spark.master"] == "local[2]"
    assert config["spark.driver.memory"] == f"{6 * 1024}m"
    assert config["spark.pyspark.python"] == sys.executable
    assert (
        local_session_config(cores=64, memory_bytes=512 * 1024**3)["spark.driver.memory"] == f"{16 * 1024}m"
    )
