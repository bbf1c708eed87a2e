"""The I/O half: put each source's rows into its own file format, and the truth beside them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import sqlite3
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kinlink.synth import _noise as nz
from kinlink.synth._extracts import Extract

#: File name of each source's extract inside the data folder.
FILES = {
    "csc": "csc_episodes.xlsx",
    "police_da": "police_da.csv",
    "school": "school_census.csv",
    "health": "health_visiting.jsonl",
    "housing": "housing.sqlite",
    "yot": "yot_outcomes.parquet",
    "probation": "probation_mappa.tsv",
}
_FIXED_TIME = (2026, 1, 1, 0, 0, 0)


def _public(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[[c for c in frame.columns if not c.startswith("_")]]


def _text(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    return str(v)


def _csv_lines(
    frame: pd.DataFrame, delimiter: str, line_end: str, raw_row: int | None, raw_col: str | None
) -> str:
    """Delimited text; row ``raw_row`` gets column ``raw_col`` written unquoted (a defect)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=line_end, quoting=csv.QUOTE_MINIMAL)
    cols = list(frame.columns)
    w.writerow(cols)
    values = frame.to_numpy(dtype=object)
    ci = cols.index(raw_col) if raw_col else -1
    for i, row in enumerate(values):
        cells = [_text(v) for v in row]
        if i == raw_row and ci >= 0:
            line = io.StringIO()
            lw = csv.writer(line, delimiter=delimiter, lineterminator=line_end, quoting=csv.QUOTE_MINIMAL)
            marker = "\x00"
            raw = cells[ci] if delimiter in cells[ci] else f"{cells[ci]}{delimiter} rear"
            cells[ci] = marker
            lw.writerow(cells)
            buf.write(line.getvalue().replace(marker, raw))
        else:
            w.writerow(cells)
    return buf.getvalue()


def write_police(ex: Extract, path: Path) -> None:
    """CSV, cp1252, ``;`` delimited, CRLF; characters cp1252 lacks become ``?``."""
    text = _csv_lines(_public(ex.frame), ";", "\r\n", ex.frame.attrs.get("stray_delimiter_row"), "LOCATION")
    path.write_bytes(text.encode("cp1252", errors="replace"))


def write_school(ex: Extract, path: Path) -> None:
    """CSV, UTF-8 with a byte-order mark, comma delimited."""
    text = _csv_lines(_public(ex.frame), ",", "\r\n", ex.frame.attrs.get("stray_delimiter_row"), "ADDRESS")
    path.write_bytes(text.encode("utf-8-sig"))


def write_probation(ex: Extract, path: Path) -> None:
    """Tab separated, UTF-8, LF."""
    text = _csv_lines(_public(ex.frame), "\t", "\n", None, None)
    path.write_bytes(text.encode("utf-8"))


def write_health(ex: Extract, path: Path) -> None:
    """JSON lines; one line is cut short (a failed export)."""
    frame = _public(ex.frame)
    cut = ex.frame.attrs.get("truncated_row")
    cols = list(frame.columns)
    out = []
    for i, row in enumerate(frame.to_numpy(dtype=object)):
        obj: dict[str, object] = {}
        for c, v in zip(cols, row, strict=True):
            if v is None or (isinstance(v, float) and np.isnan(v)):
                obj[c] = None
            elif isinstance(v, np.integer):
                obj[c] = int(v)
            else:
                obj[c] = v
        line = json.dumps(obj, ensure_ascii=False)
        if i == cut:
            line = line[: len(line) // 2]
        out.append(line)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def write_housing(ex: Extract, path: Path) -> None:
    """A SQLite database file with ``tenancies`` and ``household_members``."""
    if path.exists():
        path.unlink()
    members = _public(ex.frame)
    tenancies = ex.extra["tenancies"]
    con = sqlite3.connect(path)
    try:
        con.execute(
            "CREATE TABLE tenancies (tenancy_ref TEXT PRIMARY KEY, uprn INTEGER, "
            "address_line_1 TEXT, address_line_2 TEXT, town TEXT, postcode TEXT, "
            "tenure_type TEXT, start_date TEXT, "
            "end_date TEXT, lead_tenant_ref TEXT, homeless_duty TEXT, homeless_decision_date TEXT)"
        )
        con.execute(
            "CREATE TABLE household_members (member_id INTEGER PRIMARY KEY, tenancy_ref TEXT "
            "REFERENCES tenancies(tenancy_ref), person_ref TEXT, title TEXT, forename TEXT, "
            "surname TEXT, dob TEXT, gender TEXT, relationship_to_lead TEXT, moved_in TEXT, "
            "moved_out TEXT)"
        )

        def rows(frame: pd.DataFrame):
            for r in frame.to_numpy(dtype=object):
                yield tuple(
                    None
                    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))
                    else (int(v) if isinstance(v, np.integer) else v)
                    for v in r
                )

        con.executemany(
            f"INSERT INTO tenancies VALUES ({','.join('?' * tenancies.shape[1])})", rows(tenancies)
        )
        con.executemany(
            f"INSERT INTO household_members VALUES ({','.join('?' * members.shape[1])})",
            rows(members),
        )
        con.commit()
    finally:
        con.close()


def write_yot(ex: Extract, path: Path) -> None:
    """Parquet with typed dates (date32) and integers."""
    frame = _public(ex.frame)
    date_cols = {
        "dob",
        "offence_date",
        "outcome_date",
        "order_end_date",
        "parent_carer_dob",
        "extract_date",
    }
    fields = []
    arrays = []
    for c in frame.columns:
        col = frame[c]
        if c in date_cols:
            vals = [v if isinstance(v, dt.date) and not pd.isna(v) else None for v in col]
            arrays.append(pa.array(vals, type=pa.date32()))
            fields.append(pa.field(c, pa.date32()))
        elif c == "outcome_id":
            arrays.append(pa.array(col.to_numpy(dtype=np.int64), type=pa.int64()))
            fields.append(pa.field(c, pa.int64()))
        else:
            arrays.append(pa.array([_text(v) or None for v in col], type=pa.string()))
            fields.append(pa.field(c, pa.string()))
    pq.write_table(pa.Table.from_arrays(arrays, schema=pa.schema(fields)), path)


def write_csc(ex: Extract, path: Path) -> None:
    """Excel workbook, one sheet ``Episodes``; dates as Excel dates, a few typed as text."""
    frame = ex.frame
    public = _public(frame)
    n = len(public)
    dob_text = frame.attrs.get("dob_text")
    dob_as_text = frame.attrs.get("dob_as_text")
    columns: list[list[tuple[str, str | int] | None]] = []
    for c in public.columns:
        if c in ("DOB", "EPISODE_START", "EPISODE_END"):
            ts = nz.to_datetime(public[c].to_numpy())
            missing = ts.isna().to_numpy()
            serial = (ts - pd.Timestamp("1899-12-30")).dt.days.fillna(0).to_numpy(dtype=np.int64)
            text = ts.dt.strftime("%d/%m/%Y").to_numpy(dtype=object)
            cells: list[tuple[str, str | int] | None] = []
            for i in range(n):
                if c == "DOB" and dob_text is not None and dob_text[i] is not None:
                    cells.append(("s", str(dob_text[i])))
                elif missing[i]:
                    cells.append(None)
                elif c == "DOB" and dob_as_text is not None and dob_as_text[i]:
                    cells.append(("s", str(text[i])))
                else:
                    cells.append(("d", int(serial[i])))
            columns.append(cells)
        else:
            columns.append(
                [None if not _text(v) else ("s", _text(v)) for v in public[c].to_numpy(dtype=object)]
            )
    sheet = _sheet_xml(list(public.columns), columns, n)
    write_xlsx(path, "Episodes", sheet)


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _col_letter(i: int) -> str:
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def _cell(ref: str, cell: tuple[str, str | int]) -> str:
    kind, value = cell
    if kind == "d":
        return f'<c r="{ref}" s="1"><v>{value}</v></c>'
    text = _XML_BAD.sub("", escape(str(value)))
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<c r="{ref}" t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _sheet_xml(header: list[str], columns: list[list[tuple[str, str | int] | None]], n: int) -> str:
    letters = [_col_letter(i) for i in range(len(header))]
    parts = [
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_NS_MAIN}"><sheetData>',
        '<row r="1">'
        + "".join(_cell(f"{L}1", ("s", h)) for L, h in zip(letters, header, strict=True))
        + "</row>",
    ]
    for i in range(n):
        r = i + 2
        cells = []
        for letter, col in zip(letters, columns, strict=True):
            cell = col[i]
            if cell is not None:
                cells.append(_cell(f"{letter}{r}", cell))
        parts.append(f'<row r="{r}">{"".join(cells)}</row>')
    parts.append("</sheetData></worksheet>")
    return "".join(parts)


_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE = "application/vnd.openxmlformats-officedocument"
_CONTENT_TYPES = [
    ("Default", "rels", "application/vnd.openxmlformats-package.relationships+xml"),
    ("Default", "xml", "application/xml"),
    ("Override", "/xl/workbook.xml", f"{_OFFICE}.spreadsheetml.sheet.main+xml"),
    ("Override", "/xl/worksheets/sheet1.xml", f"{_OFFICE}.spreadsheetml.worksheet+xml"),
    ("Override", "/xl/styles.xml", f"{_OFFICE}.spreadsheetml.styles+xml"),
    (
        "Override",
        "/docProps/core.xml",
        "application/vnd.openxmlformats-package.core-properties+xml",
    ),
]
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CORE_NS = (
    'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)
_XLSX_STATIC = {
    "[Content_Types].xml": (
        _XML_HEAD
        + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        + "".join(
            f'<Default Extension="{k}" ContentType="{t}"/>'
            if tag == "Default"
            else f'<Override PartName="{k}" ContentType="{t}"/>'
            for tag, k, t in _CONTENT_TYPES
        )
        + "</Types>"
    ),
    "_rels/.rels": (
        _XML_HEAD
        + f'<Relationships xmlns="{_NS_PKG}">'
        + f'<Relationship Id="rId1" Type="{_NS_REL}/officeDocument" Target="xl/workbook.xml"/>'
        + '<Relationship Id="rId2" '
        + 'Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
        + 'core-properties" '
        + 'Target="docProps/core.xml"/>'
        + "</Relationships>"
    ),
    "docProps/core.xml": (
        _XML_HEAD
        + f"<cp:coreProperties {_CORE_NS}><dc:creator>kinlink.synth</dc:creator>"
        + '<dcterms:created xsi:type="dcterms:W3CDTF">2026-01-01T00:00:00Z</dcterms:created>'
        + "</cp:coreProperties>"
    ),
    "xl/_rels/workbook.xml.rels": (
        _XML_HEAD
        + f'<Relationships xmlns="{_NS_PKG}">'
        + f'<Relationship Id="rId1" Type="{_NS_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        + f'<Relationship Id="rId2" Type="{_NS_REL}/styles" Target="styles.xml"/>'
        + "</Relationships>"
    ),
    "xl/styles.xml": (
        _XML_HEAD
        + f'<styleSheet xmlns="{_NS_MAIN}">'
        + '<numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts>'
        + '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        + '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        + '<fill><patternFill patternType="gray125"/></fill></fills>'
        + '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        + '<cellStyleXfs count="1">'
        + '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        + '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        + '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        + "</cellXfs>"
        + '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        + "</styleSheet>"
    ),
}


def write_xlsx(path: Path, sheet_name: str, sheet_xml: str) -> None:
    """A one-sheet workbook (inline strings, one date style), with fixed zip timestamps."""
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<workbook xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}"><sheets>'
        f'<sheet name="{escape(sheet_name)}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    parts = {**_XLSX_STATIC, "xl/workbook.xml": workbook, "xl/worksheets/sheet1.xml": sheet_xml}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, body in parts.items():
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, body.encode("utf-8"))
    path.write_bytes(buf.getvalue())


WRITERS = {
    "csc": write_csc,
    "police_da": write_police,
    "school": write_school,
    "health": write_health,
    "housing": write_housing,
    "yot": write_yot,
    "probation": write_probation,
}


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
