"""Fuzzing the ingest with damaged copies of real demo extracts.

The extracts come from ``kinlink.synth`` (60 people, made once for the module) in every
format an agency sends: Excel, CSV in three dialects, JSON lines, Parquet and SQLite. Each
is damaged byte by byte (seeded :func:`~tests.ingest.mutations.mutate_bytes`, and spliced
bytes from hypothesis) and cell by cell (hostile values, typed values, short and long rows),
then read through the shipped mappings in ``config/sources/``. Whatever the damage:

- nothing raises but kinlink's own errors (:class:`~ingest.errors.KinlinkError`);
- an adapter numbers every row it read 1..n, each accepted or rejected;
- the mapping engine accounts for every row: ``rows_read == rows_accepted +
  rows_quarantined``, one quarantine entry per rejected row, and nothing accepted comes from
  a rejected row;
- no message (an error, a reject, a quarantine entry) quotes a name, date of birth or NHS
  number of the synthetic people.

What fuzzing found is fixed in the adapters and pinned by the named tests at the end.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import shutil
import sqlite3
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.adapters import RawTable, parse_delimited, parse_jsonl, read_source
from ingest.adapters.delimited import detect_delimiter
from ingest.canonicalise import canonicalise
from ingest.errors import KinlinkError, SourceError
from ingest.mapping import SourceMapping, load_mapping
from ingest.sources import ingest_sources, load_mappings
from ingest.vocabulary import InterventionVocabulary, load_vocabulary
from kinlink.paths import config_path
from kinlink.synth import synthesise
from tests.ingest import mutations as mu

SEED = 2026
TODAY = dt.date(2026, 11, 20)
SOURCES = ("csc", "health", "housing", "police_da", "probation", "school", "yot")
TEXT_SOURCES = ("police_da", "probation", "school", "health")
HEALTH_COLUMNS = load_mapping(config_path("sources", "health.yaml")).referenced_columns()


@dataclass(frozen=True, repr=False)
class Demo:
    data: Path
    mappings: dict[str, SourceMapping]
    vocabulary: InterventionVocabulary
    secrets: mu.Secrets

    def __repr__(self) -> str:
        return f"Demo({self.data.name})"

    def file(self, source: str) -> str:
        spec = self.mappings[source].input
        if spec.format == "sql":  # sqlite:///{data}/housing.sqlite
            return (spec.url or "").rsplit("/", 1)[-1]
        return spec.path or ""

    def original(self, source: str) -> bytes:
        return (self.data / self.file(source)).read_bytes()

    def csv_dialect(self, source: str) -> tuple[str, str]:
        spec = self.mappings[source].input
        data = self.original(source)
        encoding = spec.encoding if spec.encoding != "auto" else "utf-8"
        text = data.decode("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else encoding)
        return encoding, spec.delimiter if spec.delimiter != "auto" else detect_delimiter(text)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Demo:
    data = tmp_path_factory.mktemp("fuzz-extracts")
    synthesise(data, n_people=60, seed=SEED)
    truth = pd.read_parquet(data / "truth" / "persons.parquet")
    values: list[str] = []
    for column in ("given_name", "middle_names", "family_name", "birth_family_name", "nhs_number"):
        values += [str(v) for v in truth[column].dropna()]
    for dob in truth["dob"].dropna():
        values += [dob.isoformat(), dob.strftime("%d/%m/%Y")]
    return Demo(
        data=data,
        mappings={m.source: m for m in load_mappings([config_path("sources")])},
        vocabulary=load_vocabulary(config_path("interventions.yaml")),
        secrets=mu.Secrets(values),
    )


def damaged_copy(demo: Demo, source: str, folder: Path, data: bytes | None = None) -> Path:
    """A folder holding ``source``'s extract (``data`` in place of its bytes, when given)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / demo.file(source)
    if data is None:
        shutil.copyfile(demo.data / demo.file(source), path)
    else:
        path.write_bytes(data)
    return path


def read(demo: Demo, source: str, folder: Path) -> RawTable | None:
    """Read through the adapter: a RawTable keeping its promises, or a KinlinkError (None)."""
    mapping = demo.mappings[source]
    try:
        raw = read_source(source, mapping.input, folder, max_field_length=mapping.max_field_length)
    except KinlinkError as exc:
        mu.check_private([str(exc)], demo.secrets)
        return None
    mu.check_raw_table(raw)
    mu.check_private([r.message for r in raw.rejects], demo.secrets)
    return raw


def accounted(demo: Demo, source: str, raw: RawTable | None) -> None:
    """Canonicalise: every row accepted or quarantined once, or a KinlinkError (a lost header)."""
    if raw is None:
        return
    try:
        tables = canonicalise(raw, demo.mappings[source], demo.vocabulary, today=TODAY)
    except KinlinkError as exc:
        mu.check_private([str(exc)], demo.secrets)
        return
    mu.check_source_tables(tables, raw)
    mu.check_private(tables.quarantine["message"], demo.secrets)


def test_the_undamaged_extracts_read_cleanly(demo, tmp_path):
    for source in SOURCES:
        raw = read(demo, source, demo.data)
        assert raw is not None and len(raw.frame) > 0, source
        accounted(demo, source, raw)


# --------------------------------------------------------------------------- bytes


@pytest.mark.parametrize("source", SOURCES)
def test_byte_damage_never_crashes_an_adapter(demo, tmp_path, source):
    original = demo.original(source)
    refused = 0
    for seed in range(60):
        folder = tmp_path / str(seed)
        damaged_copy(demo, source, folder, mu.mutate_bytes(original, random.Random(f"{source}-{seed}")))
        refused += read(demo, source, folder) is None
    assert refused < 60 or source in ("csc", "yot", "housing"), "text formats read most damage"


def test_damaged_workbook_parts_never_crash_the_excel_adapter(demo, tmp_path):
    original = demo.original("csc")
    for seed in range(100):
        folder = tmp_path / str(seed)
        damaged_copy(demo, "csc", folder, mu.mutate_xlsx_member(original, random.Random(seed)))
        read(demo, "csc", folder)


@pytest.mark.parametrize("source", TEXT_SOURCES)
def test_byte_damage_below_the_header_is_accounted_for(demo, tmp_path, source):
    original = demo.original(source)
    header = mu.first_line_end(original)
    encoding = demo.csv_dialect(source)[0] if demo.mappings[source].input.format == "csv" else "utf-8"
    if original.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    for seed in range(2):
        folder = tmp_path / str(seed)
        data = mu.mutate_bytes(original, random.Random(f"{source}-{seed}"), edits=8, start=header)
        # still in the source's encoding (a file that is not is refused whole, as it should be)
        data = data.decode(encoding, errors="replace").encode(encoding, errors="replace")
        damaged_copy(demo, source, folder, data)
        raw = read(demo, source, folder)
        assert raw is not None, "a damaged body is read, its bad rows rejected"
        accounted(demo, source, raw)


edits = st.lists(
    st.tuples(
        st.floats(0, 1),
        st.integers(0, 12),
        st.one_of(st.binary(max_size=8), st.sampled_from(mu.BYTE_TOKENS)),
    ),
    min_size=1,
    max_size=6,
)


def splice(data: bytes, changes: list[tuple[float, int, bytes]]) -> bytes:
    for where, cut, payload in changes:
        pos = int(where * len(data))
        data = data[:pos] + payload + data[pos + cut :]
    return data


@settings(max_examples=150)
@given(changes=edits)
def test_spliced_bytes_never_crash_the_text_parsers(demo, changes):
    for source in TEXT_SOURCES:
        mapping = demo.mappings[source]
        data = splice(demo.original(source), changes)
        try:
            if mapping.input.format == "jsonl":
                raw = parse_jsonl(data, source=source, max_field_length=mapping.max_field_length)
            else:
                raw = parse_delimited(
                    data,
                    source=source,
                    encoding=mapping.input.encoding,
                    delimiter=mapping.input.delimiter,
                    max_field_length=mapping.max_field_length,
                )
        except KinlinkError as exc:
            mu.check_private([str(exc)], demo.secrets)
            continue
        mu.check_raw_table(raw)


# --------------------------------------------------------------------------- cells


def cell_damage(demo: Demo, source: str, folder: Path, rng: random.Random) -> None:
    path = damaged_copy(demo, source, folder)
    fmt = demo.mappings[source].input.format
    if fmt == "csv":
        encoding, delimiter = demo.csv_dialect(source)
        path.write_bytes(mu.mutate_delimited(path.read_bytes(), rng, encoding=encoding, delimiter=delimiter))
    elif fmt == "jsonl":
        path.write_bytes(mu.mutate_jsonl(path.read_bytes(), rng))
    elif fmt == "parquet":
        path.write_bytes(mu.mutate_parquet(path.read_bytes(), rng))
    elif fmt == "sql":
        mu.mutate_sqlite(path, rng)
    else:
        mu.mutate_xlsx(path, rng)


@pytest.mark.parametrize("source", SOURCES)
def test_hostile_cells_are_accepted_or_quarantined(demo, tmp_path, source):
    for seed in range(2):
        folder = tmp_path / str(seed)
        cell_damage(demo, source, folder, random.Random(f"{source}-{seed}"))
        accounted(demo, source, read(demo, source, folder))


police_text = st.text(st.characters(codec="cp1252"), max_size=40)


@settings(max_examples=8)
@given(
    cells=st.lists(
        st.tuples(
            st.integers(1, 10**6),
            st.integers(0, 100),
            st.one_of(police_text, st.sampled_from(mu.HOSTILE_TEXT)),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_any_text_in_any_police_cell_is_accepted_or_quarantined(demo, cells):
    import csv

    text = demo.original("police_da").decode("cp1252")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    for r, c, value in cells:
        row = rows[1 + r % (len(rows) - 1)]
        row[c % len(row)] = value
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\r\n").writerows(rows)
    data = buf.getvalue().encode("cp1252", errors="replace")
    raw = parse_delimited(data, source="police_da", encoding="cp1252", delimiter=";", max_field_length=2000)
    mu.check_raw_table(raw)
    accounted(demo, "police_da", raw)
    assert raw.rows_read >= len(rows) - 1 - sum(1 for r in rows[1:] if not any(r))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["\ud800", "a\udfffb"]),  # json.dumps writes them as escapes
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=8)
@given(
    changes=st.lists(
        st.tuples(st.integers(0, 10**6), st.sampled_from(HEALTH_COLUMNS), json_values), max_size=6
    )
)
def test_any_json_value_in_any_health_field_is_accepted_or_quarantined(demo, changes):
    import json

    lines = demo.original("health").decode("utf-8").splitlines()
    for n, key, value in changes:
        i = n % len(lines)
        try:
            obj = json.loads(lines[i])
        except ValueError:
            continue
        obj[key] = value
        lines[i] = json.dumps(obj)
    raw = parse_jsonl("\n".join(lines).encode(), source="health")
    mu.check_raw_table(raw)
    accounted(demo, "health", raw)


# --------------------------------------------------------------------------- the whole ingest


def test_the_whole_ingest_of_damaged_extracts_accounts_for_every_row(demo, tmp_path):
    folder = tmp_path / "data"
    rng = random.Random(SEED)
    for source in SOURCES:
        cell_damage(demo, source, folder, rng)
    try:
        result = ingest_sources(demo.mappings.values(), folder, demo.vocabulary, today=TODAY)
    except KinlinkError as exc:  # a source damaged past reading stops the ingest, naming it
        mu.check_private([str(exc)], demo.secrets)
        pytest.fail(f"cell damage should not make a source unreadable: {type(exc).__name__}")
    mu.check_ingest_result(result)
    assert set(result.counts) == set(SOURCES)
    mu.check_private(result.quarantine["message"], demo.secrets)


def test_a_source_damaged_past_reading_stops_the_ingest_in_one_clear_line(demo, tmp_path):
    folder = tmp_path / "data"
    for source in SOURCES:
        damaged_copy(demo, source, folder)
    (folder / demo.file("csc")).write_bytes(demo.original("csc")[:300])
    with pytest.raises(SourceError, match=r"source 'csc': .* is not a readable \.xlsx workbook") as info:
        ingest_sources(demo.mappings.values(), folder, demo.vocabulary, today=TODAY)
    mu.check_private([str(info.value)], demo.secrets)


# --------------------------------------------------------------------------- what fuzzing found


def _rezip(data: bytes, member: str, change) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zin:
        members = {name: zin.read(name) for name in zin.namelist()}
    members[member] = change(members[member])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, content in members.items():
            zout.writestr(name, content)
    return out.getvalue()


def _corrupt_deflate(data: bytes) -> bytes:
    """The sheet's compressed bytes damaged: zlib fails while openpyxl streams the rows."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    damaged = bytearray(data)
    for i in range(start + 20, start + min(info.compress_size, 60)):
        damaged[i] ^= 0x5A
    return bytes(damaged)


FOUND = [
    {
        "description": "malformed sheet XML (a SyntaxError while rows stream)",
        "damage": lambda d: _rezip(
            d, "xl/worksheets/sheet1.xml", lambda x: x.replace(b"</row>", b"</rw>", 3)
        ),
    },
    {
        "description": "malformed workbook XML (a SyntaxError on opening)",
        "damage": lambda d: _rezip(d, "xl/workbook.xml", lambda x: x[:-20]),
    },
    {
        "description": "an unknown XML encoding (a LookupError)",
        "damage": lambda d: _rezip(
            d, "xl/worksheets/sheet1.xml", lambda x: x.replace(b"UTF-8", b"UT-0-8", 1)
        ),
    },
    {
        "description": "a style attribute openpyxl does not know (a TypeError)",
        "damage": lambda d: _rezip(
            d, "xl/styles.xml", lambda x: x.replace(b"<cellStyle ", b'<cellStyle bogus="1" ', 1)
        ),
    },
    {"description": "a damaged deflate stream (zlib.error)", "damage": _corrupt_deflate},
]


@pytest.mark.parametrize("case", FOUND, ids=[c["description"] for c in FOUND])
def test_a_damaged_workbook_is_a_source_error(demo, tmp_path, case):
    data = case["damage"](demo.original("csc"))
    folder = tmp_path / "data"
    damaged_copy(demo, "csc", folder, data)
    mapping = demo.mappings["csc"]
    with pytest.raises(SourceError, match=r"is not a readable \.xlsx workbook \(\w+\)"):
        read_source("csc", mapping.input, folder)


def test_a_database_value_that_cannot_be_decoded_is_not_quoted(demo, tmp_path):
    """SQLite's "Could not decode to UTF-8 column 'x' with text '...'" quoted a surname."""
    path = damaged_copy(demo, "housing", tmp_path)
    with sqlite3.connect(path) as con:
        surname = con.execute("SELECT surname FROM household_members WHERE surname IS NOT NULL").fetchone()[0]
        con.execute("UPDATE household_members SET surname = CAST(CAST(surname AS BLOB) || x'ff' AS TEXT)")
    con.close()
    mapping = demo.mappings["housing"]
    with pytest.raises(SourceError, match="OperationalError; the database's message is not shown") as info:
        read_source("housing", mapping.input, tmp_path)
    assert surname not in str(info.value)


def test_parquet_strings_that_are_not_utf8_are_a_source_error_that_quotes_nothing(demo, tmp_path):
    """Arrow raised its own error ("Wrapping <value> failed"), quoting the value."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(demo.original("yot")))
    name = next(f.name for f in table.schema if pa.types.is_string(f.type) and "name" in f.name)
    values = [None if v is None else v.encode() + b"\xff" for v in table.column(name).to_pylist()]
    damaged = table.set_column(table.schema.get_field_index(name), name, pa.array(values).view(pa.string()))
    path = damaged_copy(demo, "yot", tmp_path)
    pq.write_table(damaged, path)
    with pytest.raises(SourceError, match=f"column '{name}' holds text that is not valid utf-8") as info:
        read_source("yot", demo.mappings["yot"].input, tmp_path)
    mu.check_private([str(info.value)], demo.secrets)


def test_an_escaped_unpaired_surrogate_in_json_is_a_malformed_row(demo):
    """Valid JSON, not text: accepted, its row broke the quarantine table's Parquet write."""
    import json

    lines = demo.original("health").decode("utf-8").splitlines()

    def is_object(line: str) -> bool:
        try:
            return isinstance(json.loads(line), dict)
        except ValueError:
            return False

    good = [i for i, line in enumerate(lines) if '"forename": "' in line and is_object(line)][:2]
    lines[good[0]] = lines[good[0]].replace('"forename": "', '"forename": "\\ud800', 1)
    lines[good[1]] = lines[good[1]].replace('"surname": "', '"surname": "x\\udfff', 1)
    raw = parse_jsonl("\n".join(lines).encode(), source="health")
    rejects = {r.row_number: r for r in raw.rejects}
    for n in (good[0] + 1, good[1] + 1):
        assert rejects[n].reason == "malformed_row" and "unpaired surrogate" in rejects[n].message
        assert "\\ud" in rejects[n].raw or "\\\\ud" in rejects[n].raw
    accounted(demo, "health", raw)
