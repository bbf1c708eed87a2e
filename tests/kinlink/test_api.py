"""The Python API: each stage as a function of tables, and `kinlink.run` for a whole pipeline."""

from __future__ import annotations

import doctest
import subprocess
import sys

import pandas as pd
import pyarrow as pa
import pytest

import kinlink
import kinlink.api as api
from genogram.errors import AccessError, RenderError
from ingest.errors import SettingsError


def test_examples_run_in_order():
    """The module example and each function's example continuing it, as one session."""
    tests = sorted((t for t in doctest.DocTestFinder().find(api) if t.examples), key=lambda t: t.lineno or 0)
    assert tests[0].name == "kinlink.api", "the module example comes first"
    shared = dict(vars(api))
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    try:
        for test in tests:
            test.globs = shared
            runner.run(test, clear_globs=False)
    finally:
        if "scratch" in shared:
            shared["scratch"].cleanup()
    result = runner.summarize(verbose=False)
    assert result.attempted >= 20
    assert result.failed == 0, "an example in kinlink.api failed (see the output above)"
    named = {t.name.rsplit(".", 1)[-1] for t in tests}
    assert {"run", "ingest_frames", "link_frames", "family_frames", "fsr_bytes"} <= named


def test_package_exports_the_api_lazily():
    for name in ("run", "ingest_frames", "link_frames", "family_frames", "fsr_bytes"):
        assert getattr(kinlink, name) is getattr(api, name)
        assert name in kinlink.__all__
    assert kinlink.Workspace.__name__ == "Workspace"
    with pytest.raises(AttributeError):
        _ = kinlink.no_such_thing
    # `import kinlink` (and so `kinlink --help`) does not pay for pandas and the pipeline
    done = subprocess.run(
        [sys.executable, "-c", "import sys, kinlink; print('pandas' in sys.modules, kinlink.__version__)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.split()[0] == "False", done.stderr


@pytest.fixture(scope="module")
def small(finished_workspace):
    ws = finished_workspace / "ws"
    names = ("records", "events", "stated_relationships")
    return finished_workspace, {name: pd.read_parquet(ws / f"{name}.parquet") for name in names}


def test_stages_take_arrow_tables_and_give_the_same_people(small):
    _, tables = small
    as_frames = kinlink.link_frames(tables["records"], tables["stated_relationships"], seed=3)
    as_arrow = kinlink.link_frames(
        pa.Table.from_pandas(tables["records"], preserve_index=False),
        pa.Table.from_pandas(tables["stated_relationships"], preserve_index=False),
        seed=3,
    )
    left = as_frames["person_index"].sort_values("record_key").reset_index(drop=True)
    right = as_arrow["person_index"].sort_values("record_key").reset_index(drop=True)
    assert left["person_id"].tolist() == right["person_id"].tolist()
    families = kinlink.family_frames(
        pa.Table.from_pandas(tables["records"], preserve_index=False),
        tables["stated_relationships"],
        tables["events"],
        as_arrow["person_index"],
        pa.Table.from_pandas(as_arrow["persons"], preserve_index=False),
    )
    assert set(families["families"]["person_id"]) <= set(as_arrow["persons"]["person_id"])


def test_a_saved_model_links_without_training(small, tmp_path):
    _, tables = small
    from linkage import link_records

    trained = link_records(tables["records"], None, stated_relationships=tables["stated_relationships"])
    path = tmp_path / "model.json"
    trained.settings.save(path)
    again = kinlink.link_frames(tables["records"], tables["stated_relationships"], path, train=False)
    assert len(again["persons"]) == len(trained.persons)


@pytest.mark.parametrize(
    ("description", "call", "error"),
    [
        ("not a table", lambda t: kinlink.link_frames("records.csv"), SettingsError),
        (
            "settings of the wrong kind",
            lambda t: kinlink.link_frames(t["records"], settings=3),
            SettingsError,
        ),
        (
            "a data folder that is not there",
            lambda t: kinlink.ingest_frames("/no/such/folder"),
            SettingsError,
        ),
        (
            "family settings of the wrong kind",
            lambda t: kinlink.family_frames(
                t["records"], t["stated_relationships"], t["events"], t, t, settings=3
            ),
            SettingsError,
        ),
        (
            "an FSR without the family tables",
            lambda t: kinlink.fsr_bytes({"records": t["records"]}, "F1", "mash_social_worker", "x"),
            SettingsError,
        ),
        (
            "an unknown format",
            lambda t: kinlink.fsr_bytes(
                {}, "F1", "mash_social_worker", "safeguarding_assessment", fmt="docx"
            ),
            RenderError,
        ),
    ],
)
def test_mistakes_raise_kinlink_errors_naming_them(small, description, call, error):
    _, tables = small
    with pytest.raises(error):
        call(tables)


def test_fsr_refuses_a_role_the_policy_does_not_know(small):
    _, tables = small
    people = kinlink.link_frames(tables["records"], tables["stated_relationships"])
    families = kinlink.family_frames(
        tables["records"],
        tables["stated_relationships"],
        tables["events"],
        people["person_index"],
        people["persons"],
    )
    family_id = families["families"]["family_id"].iloc[0]
    with pytest.raises(AccessError):
        kinlink.fsr_bytes({**people, **families}, family_id, "journalist", "safeguarding_assessment")
    dot = kinlink.fsr_bytes({**people, **families}, family_id, "school", "safeguarding_assessment", fmt="dot")
    assert dot.startswith(b"digraph") or dot.startswith(b"graph")


def test_run_takes_a_pipeline_file(small, tmp_path):
    folder, _ = small
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(f"workspace: ws\ndata: {folder / 'data'}\nstages: [ingest]\n", encoding="utf-8")
    summary = kinlink.run(pipeline)
    assert summary.workspace == (tmp_path / "ws").resolve()
    assert (tmp_path / "ws" / "records.parquet").exists()
    assert list(summary.stage_seconds) == ["ingest"]
