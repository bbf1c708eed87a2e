"""kinlink.synth: the seeded synthetic borough, its agency extracts and the ground truth."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import sqlite3
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

import kinlink.synth as synth
from ingest.mapping import load_mapping
from ingest.schema import RELATIONSHIP_TYPES
from ingest.standardise import standardise_nhs_number, standardise_postcode, standardise_upn

SOURCES_DIR = Path(__file__).resolve().parents[2] / "config" / "sources"
N_PEOPLE = 1000


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth_a")
    synth.synthesise(out, n_people=N_PEOPLE, seed=11)
    return out


@pytest.fixture(scope="module")
def truth(data: Path) -> dict[str, pd.DataFrame]:
    return {
        name: pd.read_parquet(data / "truth" / f"{name}.parquet")
        for name in ("records", "persons", "families", "relationships", "households")
    }


def _csv_rows(path: Path, encoding: str, delimiter: str) -> tuple[list[str], list[list[str]]]:
    text = path.read_bytes().decode(encoding)
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    return rows[0], rows[1:]


def _ids_in_csv(path: Path, encoding: str, delimiter: str, id_cols: list[str]) -> set[str]:
    """Ids on the well-formed rows (a row with a stray delimiter has too many fields)."""
    header, rows = _csv_rows(path, encoding, delimiter)
    idx = [header.index(c) for c in id_cols]
    return {r[i] for r in rows if len(r) == len(header) for i in idx if r[i]}


# --------------------------------------------------------------------------- API


def test_public_api_is_listed() -> None:
    assert set(synth.__all__) == {
        "FILES",
        "SOURCES",
        "Population",
        "SynthSummary",
        "generate_population",
        "synthesise",
        "write_extracts",
    }
    for name in synth.__all__:
        assert hasattr(synth, name), name


def test_seed_must_be_int_generator_or_none() -> None:
    with pytest.raises(TypeError, match="seed"):
        synth.generate_population(100, seed="42")  # type: ignore[arg-type]


def test_population_tables(truth: dict[str, pd.DataFrame]) -> None:
    pop = synth.generate_population(400, seed=np.random.default_rng(3))
    assert pop.persons["person_id"].is_unique
    assert pop.persons["person_id"].str.fullmatch(r"P\d{6}").all()
    assert pop.families["family_id"].str.fullmatch(r"F\d{5}").all()
    assert set(pop.events) == {"csc", "police_da", "school", "health", "housing", "yot", "mappa"}
    assert set(pop.relationships["relationship_type"]) <= set(RELATIONSHIP_TYPES)
    assert set(truth["relationships"]["relationship_type"]) <= set(RELATIONSHIP_TYPES)


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_files(data: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    synth.synthesise(again, n_people=N_PEOPLE, seed=11)
    assert _hashes(data) == _hashes(again)


def test_different_seed_gives_different_files(data: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    synth.synthesise(other, n_people=N_PEOPLE, seed=12)
    a, b = _hashes(data), _hashes(other)
    assert a.keys() == b.keys()
    assert all(a[k] != b[k] for k in a)


# --------------------------------------------------------------------------- files


def test_every_extract_exists_and_reads(data: Path) -> None:
    files = {s: data / f for s, f in synth.FILES.items()}
    assert all(p.exists() for p in files.values())
    assert len(pd.read_excel(files["csc"], sheet_name="Episodes")) > 10
    wb = openpyxl.load_workbook(files["csc"], read_only=True)
    assert wb.sheetnames == ["Episodes"]
    police = pd.read_csv(files["police_da"], sep=";", encoding="cp1252", on_bad_lines="skip", dtype=str)
    assert {"VICTIM_NAME", "PERP_NAME", "DASH_RISK", "SUMMARY"} <= set(police.columns)
    school = pd.read_csv(files["school"], encoding="utf-8-sig", on_bad_lines="skip", dtype=str)
    assert school.columns[0] == "ROW_ID"
    lines = files["health"].read_text(encoding="utf-8").splitlines()
    parsed = []
    for line in lines:
        with contextlib.suppress(json.JSONDecodeError):
            parsed.append(json.loads(line))
    assert len(parsed) == len(lines) - 1  # exactly one line is cut short
    mapping = load_mapping(SOURCES_DIR / "housing.yaml")
    con = sqlite3.connect(files["housing"])
    try:
        joined = pd.read_sql_query(mapping.input.query, con)
    finally:
        con.close()
    assert len(joined) > 10
    yot = pq.read_table(files["yot"])
    assert str(yot.schema.field("dob").type) == "date32[day]"
    assert str(yot.schema.field("outcome_date").type) == "date32[day]"
    probation = pd.read_csv(files["probation"], sep="\t", dtype=str)
    assert "ALIAS_SURNAMES" in probation.columns


def test_encodings_are_as_promised(data: Path) -> None:
    police = (data / synth.FILES["police_da"]).read_bytes()
    assert b"\r\n" in police
    assert any(b in police for b in (b"\x92", b"\x93", b"\x94", b"\x96", b"\xa3"))  # ’ “ ” – £
    with pytest.raises(UnicodeDecodeError):
        police.decode("utf-8")
    police.decode("cp1252")
    school = (data / synth.FILES["school"]).read_bytes()
    assert school.startswith(b"\xef\xbb\xbf")
    school.decode("utf-8-sig")
    assert (data / synth.FILES["csc"]).read_bytes()[:2] == b"PK"
    assert (data / synth.FILES["housing"]).read_bytes()[:16] == b"SQLite format 3\x00"
    assert (data / synth.FILES["yot"]).read_bytes()[:4] == b"PAR1"


# --------------------------------------------------------------------------- truth


def _file_ids(data: Path) -> dict[str, set[str]]:
    f = {s: data / name for s, name in synth.FILES.items()}
    csc = pd.read_excel(f["csc"], dtype=str)
    health = [json.loads(x) for x in f["health"].read_text(encoding="utf-8").splitlines() if x.endswith("}")]
    con = sqlite3.connect(f["housing"])
    try:
        housing = {r[0] for r in con.execute("SELECT person_ref FROM household_members") if r[0]}
    finally:
        con.close()
    yot = pd.read_parquet(f["yot"])
    return {
        "csc": set(csc["PERSON_ID"].dropna()),
        "police_da": _ids_in_csv(f["police_da"], "cp1252", ";", ["VICTIM_PARTY_REF", "PERP_PARTY_REF"]),
        "school": _ids_in_csv(f["school"], "utf-8-sig", ",", ["ROW_ID", "CONTACT_REF"]),
        "health": {h[k] for h in health for k in ("record_id", "mother_record_id") if h.get(k)},
        "housing": housing,
        "yot": set(yot["yot_id"].dropna()) | set(yot["parent_carer_ref"].dropna()),
        "probation": _ids_in_csv(f["probation"], "utf-8", "\t", ["CRN"]),
    }


def test_truth_covers_every_record_id(data: Path, truth: dict[str, pd.DataFrame]) -> None:
    records = truth["records"]
    assert set(records["source"]) == set(synth.SOURCES)
    for source, ids in _file_ids(data).items():
        t = records[records["source"] == source]
        known = set(t["source_record_id"].dropna())
        assert ids <= known, source
        accepted = set(t.loc[~t["expected_quarantine"], "source_record_id"].dropna())
        assert accepted <= ids, source
    keyed = records.dropna(subset=["source_record_id"])
    assert not keyed.duplicated(["source", "source_record_id"]).any()
    real = records[~records["expected_quarantine"]]
    assert real["person_id"].isin(truth["persons"]["person_id"]).all()


def test_truth_tables_have_the_promised_columns(truth: dict[str, pd.DataFrame]) -> None:
    assert {"source", "source_record_id", "person_id", "expected_quarantine"} <= set(truth["records"].columns)
    assert {"person_id", "given_name", "family_name", "dob", "sex", "dod"} <= set(truth["persons"].columns)
    assert list(truth["families"].columns) == ["family_id", "person_id", "role"]
    assert {"person_id_from", "person_id_to", "relationship_type", "start_date", "end_date"} <= set(
        truth["relationships"].columns
    )


def test_families_hold_the_hard_cases(truth: dict[str, pd.DataFrame]) -> None:
    p = truth["persons"]
    rel = truth["relationships"]
    parents = rel[rel["relationship_type"].isin(["mother", "father"])]
    mother = parents[parents["relationship_type"] == "mother"].set_index("person_id_to")["person_id_from"]
    father = parents[parents["relationship_type"] == "father"].set_index("person_id_to")["person_id_from"]
    kids = pd.DataFrame({"mother": mother, "father": father}).dropna()
    kids = kids.join(p.set_index("person_id")[["dob", "given_name", "family_name", "sex"]])
    kids.index.name = "index"
    # twins: same mother and father, same day, different first names
    twins = kids.reset_index().merge(kids.reset_index(), on=["mother", "father", "dob"])
    twins = twins[twins["index_x"] < twins["index_y"]]
    assert len(twins) >= 1
    assert (twins["given_name_x"] != twins["given_name_y"]).all()
    young = twins[(twins["dob"].dt.year >= 2008) & (twins["sex_x"] == twins["sex_y"])]
    assert (young["family_name_x"] == young["family_name_y"]).all()
    # half-siblings: one parent in common
    by_mother = kids.reset_index().merge(kids.reset_index(), on="mother")
    assert (by_mother["father_x"] != by_mother["father_y"]).any()
    # a son with his father's whole name, decades younger
    named = kids.join(
        p.set_index("person_id")[["given_name", "family_name", "dob"]],
        on="father",
        rsuffix="_father",
    )
    same = named[
        (named["given_name"] == named["given_name_father"])
        & (named["family_name"] == named["family_name_father"])
    ]
    assert len(same) >= 1
    assert ((same["dob"] - same["dob_father"]).dt.days > 15 * 365).all()
    # step-parents, grandparents, former names, deaths, the unborn
    assert (rel["relationship_type"] == "step_parent").any()
    assert (rel["relationship_type"] == "grandparent").any()
    assert (p["family_name"] != p["birth_family_name"]).any()
    assert p["dod"].notna().any()
    assert p["unborn"].any()
    roles = set(truth["families"]["role"])
    assert {"child", "parent", "grandparent", "parent_partner"} <= roles


def test_identifiers_are_valid_where_not_spoiled_on_purpose(
    data: Path, truth: dict[str, pd.DataFrame]
) -> None:
    nhs = standardise_nhs_number(truth["persons"]["nhs_number"])
    assert nhs["nhs_number_valid"].all()
    school = pd.read_csv(data / synth.FILES["school"], encoding="utf-8-sig", on_bad_lines="skip", dtype=str)
    upn = standardise_upn(school["UPN"].dropna())["upn_valid"]
    assert upn.mean() > 0.98
    assert not upn.all()  # a few wrong check letters, on purpose
    pcs = standardise_postcode(school["POSTCODE"].dropna())["postcode_valid"]
    assert pcs.mean() > 0.99


# --------------------------------------------------------------------------- defects on purpose


def test_the_intended_malformed_rows_are_present(data: Path, truth: dict[str, pd.DataFrame]) -> None:
    f = {s: data / name for s, name in synth.FILES.items()}
    header, rows = _csv_rows(f["police_da"], "cp1252", ";")
    assert sum(len(r) != len(header) for r in rows) == 1
    assert any(r[header.index("STATUS")] == "TEST" for r in rows if len(r) == len(header))
    header, rows = _csv_rows(f["school"], "utf-8-sig", ",")
    assert sum(len(r) != len(header) for r in rows) == 1
    assert any(r[header.index("ROW_ID")] == "" for r in rows)
    csc = pd.read_excel(f["csc"], dtype=str)
    assert (csc["RECORD_STATUS"] == "TEST").sum() == 1
    assert csc["PERSON_ID"].isna().sum() == 1
    assert (csc["DOB"] == "31/02/2015").any()
    health = f["health"].read_text(encoding="utf-8")
    assert '"record_status": "test"' in health
    assert '"dob": "2021-02-30"' in health
    con = sqlite3.connect(f["housing"])
    try:
        assert con.execute("SELECT count(*) FROM tenancies WHERE tenure_type = 'TEST'").fetchone()[0] == 1
        assert (
            con.execute("SELECT count(*) FROM household_members WHERE person_ref IS NULL").fetchone()[0] == 1
        )
    finally:
        con.close()
    assert pd.read_parquet(f["yot"])["yot_id"].isna().sum() == 1
    expected = truth["records"][truth["records"]["expected_quarantine"]]
    assert set(expected["defect"]) >= {
        "filtered",
        "missing_id",
        "malformed_row",
        "no_identifying_data",
    }
    assert set(expected["source"]) == set(synth.SOURCES)


# --------------------------------------------------------------------------- mappings


@pytest.mark.parametrize("source", sorted(synth.FILES))
def test_mapping_loads_and_names_columns_the_extract_has(source: str, data: Path) -> None:
    mapping = load_mapping(SOURCES_DIR / f"{source}.yaml")
    assert mapping.source == source
    path = data / synth.FILES[source]
    if mapping.input.format == "sql":
        assert mapping.input.url == "sqlite:///{data}/housing.sqlite"
        con = sqlite3.connect(path)
        try:
            columns = list(pd.read_sql_query(mapping.input.query, con).columns)
        finally:
            con.close()
    else:
        assert mapping.input.path == synth.FILES[source]
        if mapping.input.format == "xlsx":
            columns = list(pd.read_excel(path, nrows=1).columns)
        elif mapping.input.format == "parquet":
            columns = pq.read_schema(path).names
        elif mapping.input.format == "jsonl":
            columns = list(json.loads(path.read_text(encoding="utf-8").splitlines()[0]))
        else:
            enc = {"auto": "utf-8-sig"}.get(mapping.input.encoding, mapping.input.encoding)
            columns = _csv_rows(path, enc, mapping.input.delimiter)[0]
    assert set(mapping.referenced_columns()) <= set(columns)


def test_nicknames_file_is_a_name_to_list_mapping() -> None:
    path = Path(__file__).resolve().parents[2] / "config" / "nicknames.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert len(doc) >= 300
    assert all(isinstance(k, str) and isinstance(v, list) and v for k, v in doc.items())
    assert "Bill" in doc["William"]


def test_summary_counts(tmp_path: Path) -> None:
    s = synth.synthesise(tmp_path, n_people=300, seed=5)
    assert set(s.records) == set(synth.SOURCES)
    assert s.total_records == sum(s.records.values()) > 0
    assert all(v["file"].exists() for v in s.sources.values())
    assert s.to_dict()["seed"] == 5


def test_ingest_accepts_the_extracts_with_only_the_intended_quarantines(
    data: Path, truth: dict[str, pd.DataFrame]
) -> None:
    from ingest.sources import ingest_sources, load_mappings
    from ingest.vocabulary import load_vocabulary

    vocabulary = load_vocabulary(SOURCES_DIR.parent / "interventions.yaml")
    result = ingest_sources(load_mappings([SOURCES_DIR]), data, vocabulary)
    records = truth["records"]
    expected = records[records["expected_quarantine"]]
    q = result.quarantine
    assert (q["scope"] == "row").all(), q.loc[q["scope"] != "row", ["source", "reason"]].to_dict("records")
    got = set(zip(q["source"], q["row_number"], q["reason"], strict=True))
    want = set(zip(expected["source"], expected["row_number"], expected["defect"], strict=True))
    assert got == want
    accepted = records[~records["expected_quarantine"]].dropna(subset=["source_record_id"])
    assert set(zip(result.records["source"], result.records["source_record_id"], strict=True)) == set(
        zip(accepted["source"], accepted["source_record_id"], strict=True)
    )
