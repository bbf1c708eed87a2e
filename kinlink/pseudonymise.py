"""Pseudonymised tables for analysts, and CSV that a spreadsheet cannot execute.

:func:`pseudonymise` replaces ids with keyed tokens (HMAC-SHA256: the same value and key
give the same token in every export, so tables still join and exports made with one key
line up; without the key a token says nothing and cannot be reversed), drops the columns
an analyst does not need (names, identifiers, addresses) and coarsens dates to the month
or year. The key never comes from configuration: :func:`load_key` reads it from the
``KINLINK_PSEUDONYM_KEY`` environment variable or a key file, and refuses weak ones.

:func:`export_tables` applies :data:`EXPORT_SPECS` to a workspace's persons,
relationships, families and interventions and writes Parquet and CSV, owner-only.
Every CSV kinlink writes goes through :func:`to_safe_csv`: a cell starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return is prefixed with ``'`` so a spreadsheet shows
it as text instead of running it as a formula.

Examples
--------
>>> import pandas as pd
>>> key = b"an example key, 32 bytes or more; never use this one"
>>> t = pd.DataFrame({"person_id": ["P1", "P2", "P1"], "given_name": ["Amy", "Bo", "Amy"]})
>>> out = pseudonymise(t, key=key, columns_to_token=["person_id"], drop=["given_name"])
>>> list(out.columns), out["person_id"][0] == out["person_id"][2] != out["person_id"][1]
(['person_id'], True)
>>> safe_csv_cell("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import itertools
import json
import math
import os
import re
import stat
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.errors import SettingsError, WorkspaceError
from kinlink.workspace import Workspace

__all__ = [
    "DATE_RULES",
    "EXPORT_SPECS",
    "KEY_ENV",
    "MIN_KEY_BYTES",
    "ExportSpec",
    "ExportSummary",
    "check_export",
    "check_key",
    "export_tables",
    "key_id",
    "load_key",
    "pseudonymise",
    "safe_csv_cell",
    "to_safe_csv",
    "token",
]

KEY_ENV = "KINLINK_PSEUDONYM_KEY"
MIN_KEY_BYTES = 32
#: ``keep`` dates as they are, or cut them to ``month`` (``YYYY-MM``) or ``year`` (``YYYY``).
DATE_RULES: tuple[str, ...] = ("keep", "month", "year")
_MIN_KEY_BITS = 112.0  # random 32-character keys score 118 and more
_TOKEN_HEX = 32  # 128 bits: collisions are out of reach for any population
_DOMAIN = b"kinlink-pseudonym-v1\x00"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FILE_MODE = 0o600
_DIR_MODE = 0o700
_HEX_KEY = re.compile(rb"[0-9a-fA-F]+")
_KEY_ADVICE = "make one with: python -c 'import secrets; print(secrets.token_hex(32))'"


# --------------------------------------------------------------------------- keys


def check_key(key: bytes, where: str = "the pseudonymisation key") -> bytes:
    """``key`` if it is long and random enough to make tokens no one can guess; else an error.

    A key must have at least :data:`MIN_KEY_BYTES` bytes (a key of hex digits, twice as
    many) and look random: over 112 bits by its own character statistics, not a repeated
    pattern and not a run such as ``abcdef...``. These checks catch passwords and
    placeholders, not every weak key: generate keys with a cryptographic random source.

    Raises
    ------
    SettingsError
        Naming ``where`` and what is wrong, never the key.
    """
    if len(key) < MIN_KEY_BYTES:
        raise SettingsError(
            f"{where} is too short ({len(key)} bytes; at least {MIN_KEY_BYTES}); {_KEY_ADVICE}"
        )
    if _HEX_KEY.fullmatch(key) and len(key) < 2 * MIN_KEY_BYTES:
        raise SettingsError(
            f"{where} is too short for a hex key ({len(key)} hex digits; at least {2 * MIN_KEY_BYTES}); "
            f"{_KEY_ADVICE}"
        )
    counts = Counter(key)
    bits = -sum(c * math.log2(c / len(key)) for c in counts.values())
    if bits < _MIN_KEY_BITS:
        raise SettingsError(f"{where} is not random enough (too few different characters); {_KEY_ADVICE}")
    if len(zlib.compress(key, 9)) < 0.8 * len(key):
        raise SettingsError(f"{where} is not random enough (it repeats itself); {_KEY_ADVICE}")
    steps = sum(abs(a - b) == 1 for a, b in itertools.pairwise(key))
    if steps > len(key) // 2:
        raise SettingsError(f"{where} is not random enough (a run of consecutive characters); {_KEY_ADVICE}")
    return key


def load_key(key_file: Path | str | None = None, *, environ: Mapping[str, str] | None = None) -> bytes:
    """The pseudonymisation key: from ``key_file`` if given, else ``$KINLINK_PSEUDONYM_KEY``.

    A key file must be a regular file readable by its owner only (like an SSH key); a text
    key has surrounding whitespace removed. Keys are never read from configuration files,
    so a pipeline config can be shared without sharing the key.

    Raises
    ------
    SettingsError
        No key, an unreadable or shared key file, or a weak key (:func:`check_key`).
    """
    env = os.environ if environ is None else environ
    if key_file is not None:
        path = Path(key_file)
        try:
            info = path.stat()
        except OSError as exc:
            raise SettingsError(f"cannot read the key file {path}: {exc.strerror}") from None
        if not stat.S_ISREG(info.st_mode):
            raise SettingsError(f"the key file {path} is not a regular file")
        if info.st_mode & 0o077:
            raise SettingsError(
                f"the key file {path} can be read by others (mode {stat.S_IMODE(info.st_mode):04o}); "
                f"chmod 600 {path}"
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SettingsError(f"cannot read the key file {path}: {exc.strerror}") from None
        return check_key(_strip_text(data), f"the key in {path}")
    value = env.get(KEY_ENV)
    if not value:
        raise SettingsError(f"no pseudonymisation key: set {KEY_ENV} or give --key-file; {_KEY_ADVICE}")
    return check_key(value.strip().encode("utf-8"), f"the key in ${KEY_ENV}")


def _strip_text(data: bytes) -> bytes:
    """Text keys lose surrounding whitespace (a trailing newline); binary keys are kept whole."""
    try:
        return data.decode("utf-8").strip().encode("utf-8")
    except UnicodeDecodeError:
        return data


def key_id(key: bytes) -> str:
    """A short public fingerprint of ``key``: exports with the same id share their tokens."""
    return hmac.new(key, b"kinlink-key-id", hashlib.sha256).hexdigest()[:16]


def token(value: Any, key: bytes) -> str:
    """The keyed token of one value (its text form); equal values give equal tokens.

    >>> token("P1", b"k" * 32) == token("P1", b"k" * 32) != token("P1", b"j" * 32)
    True
    """
    text = value if isinstance(value, str) else str(value)
    return hmac.new(key, _DOMAIN + text.encode("utf-8"), hashlib.sha256).hexdigest()[:_TOKEN_HEX]


# --------------------------------------------------------------------------- pseudonymising


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _as_list(value: Any) -> list[Any] | None:
    if isinstance(value, list | tuple | np.ndarray):
        return list(value)
    return None


def _tokens(series: pd.Series, key: bytes) -> pd.Series:
    cache: dict[str, str] = {}

    def one(v: Any) -> Any:
        if _is_missing(v):
            return None
        items = _as_list(v)
        if items is not None:
            return [None if _is_missing(x) else one(x) for x in items]
        text = str(v)
        if text not in cache:
            cache[text] = token(text, key)
        return cache[text]

    return pd.Series([one(v) for v in series], index=series.index, dtype=object)


def _date_columns(frame: pd.DataFrame) -> list[str]:
    out = []
    for name in frame.columns:
        s = frame[name]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            out.append(name)
        elif s.dtype == object:
            present = s.dropna()
            if len(present) and all(isinstance(v, dt.date) for v in present):
                out.append(name)
    return out


def _coarsen(series: pd.Series, rule: str) -> pd.Series:
    width = 7 if rule == "month" else 4

    def one(v: Any) -> str | None:
        if _is_missing(v):
            return None
        return v.isoformat()[:width] if isinstance(v, dt.date) else str(v)[:width]

    return pd.Series([one(v) for v in series], index=series.index, dtype=object)


def pseudonymise(
    table: pd.DataFrame | pa.Table,
    *,
    key: bytes,
    columns_to_token: Sequence[str],
    dates: str = "keep",
    drop: Sequence[str] = (),
) -> pd.DataFrame:
    """A copy of ``table`` with ids tokenised, some columns dropped and dates coarsened.

    Parameters
    ----------
    table
        Any table (a DataFrame or an Arrow table).
    key
        The secret key (:func:`load_key`); checked with :func:`check_key`.
    columns_to_token
        Columns whose values become :func:`token` (list values element by element; nulls stay
        null). Use the same key across exports to keep tokens joinable.
    dates
        ``keep``, ``month`` (``YYYY-MM`` text) or ``year`` (``YYYY``), for every date column.
    drop
        Columns left out.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    SettingsError
        A column named that the table lacks, a column both dropped and tokenised, an unknown
        ``dates`` rule or a weak key.
    """
    check_key(key)
    frame = table.to_pandas() if isinstance(table, pa.Table) else table
    if dates not in DATE_RULES:
        raise SettingsError(f"dates must be one of {list(DATE_RULES)}, not {dates!r}")
    for what, names in (("columns_to_token", columns_to_token), ("drop", drop)):
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise SettingsError(f"{what}: the table has no column(s) {missing}")
    both = sorted(set(columns_to_token) & set(drop))
    if both:
        raise SettingsError(f"column(s) {both} are both dropped and tokenised")
    out = frame.drop(columns=list(drop)).copy()
    for name in columns_to_token:
        out[name] = _tokens(out[name], key)
    if dates != "keep":
        for name in _date_columns(out):
            if name not in columns_to_token:
                out[name] = _coarsen(out[name], dates)
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- CSV


def safe_csv_cell(value: Any) -> str:
    """One value as CSV cell text that a spreadsheet will not run as a formula.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
    ``'``; numbers are written as numbers; lists and mappings become JSON text; a missing
    value is the empty string.

    >>> [safe_csv_cell(v) for v in ["=1+1", "-2", -2, "@SUM(A1)", "Zoë", None]]
    ["'=1+1", "'-2", '-2', "'@SUM(A1)", 'Zoë', '']
    """
    if isinstance(value, list | tuple | np.ndarray | Mapping):
        items = list(value) if not isinstance(value, Mapping) else dict(value)
        text = json.dumps(items, ensure_ascii=False, default=str)
    elif _is_missing(value):
        return ""
    elif isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    elif isinstance(value, int | float | np.integer | np.floating):
        return str(value)  # a number cannot be a formula
    elif isinstance(value, dt.date):
        return value.isoformat()
    else:
        text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_safe_csv(frame: pd.DataFrame) -> str:
    """The frame as CSV text (header row, ``\\r\\n`` line ends), every cell :func:`safe_csv_cell`."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([safe_csv_cell(str(c)) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        writer.writerow([safe_csv_cell(v) for v in row])
    return buf.getvalue()


# --------------------------------------------------------------------------- exports


@dataclass(frozen=True)
class ExportSpec:
    """How one workspace table is pseudonymised: columns tokenised and dropped."""

    table: str
    columns_to_token: tuple[str, ...]
    drop: tuple[str, ...] = ()


#: The tables an export holds, and what is done to each. Every column not named is kept.
EXPORT_SPECS: tuple[ExportSpec, ...] = (
    ExportSpec(
        "persons",
        columns_to_token=("person_id",),
        drop=("given_name", "middle_names", "family_name", "postcode", "nhs_number", "upn"),
    ),
    ExportSpec(
        "relationships",
        columns_to_token=("relationship_id", "person_id_from", "person_id_to", "incident_ids"),
        drop=("evidence",),
    ),
    ExportSpec("families", columns_to_token=("family_id", "person_id", "household_id")),
    ExportSpec(
        "interventions",
        columns_to_token=("intervention_id", "person_id", "incident_ids"),
        drop=("lead_practitioner", "event_ids"),
    ),
)


@dataclass(frozen=True)
class ExportSummary:
    """What :func:`export_tables` wrote."""

    folder: Path
    files: tuple[Path, ...]
    rows: dict[str, int]
    key_id: str
    dates: str
    withheld: dict[str, int] = field(default_factory=dict)


def _write_private(folder: Path, name: str, data: bytes) -> Path:
    """Write ``folder/name`` owner-only, atomically (a temporary file renamed into place)."""
    final = folder / name
    tmp = folder / f".{name}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, _FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final


def check_export(
    workspace: Workspace, out_dir: Path | str, specs: Sequence[ExportSpec] = EXPORT_SPECS
) -> Path:
    """The resolved export folder, once the workspace has every table and the folder is outside it.

    Raises
    ------
    WorkspaceError
        A table is missing (run `kinlink families` first), or ``out_dir`` is in the workspace.
    """
    out = Path(out_dir).resolve()
    if out.is_relative_to(workspace.path.resolve()):
        raise WorkspaceError(f"export folder {out} is inside the workspace; choose a folder outside it")
    for spec in specs:
        if not workspace.has_table(spec.table):
            raise WorkspaceError(f"{workspace.path} has no {spec.table} table; run `kinlink families` first")
    return out


def export_tables(
    workspace: Workspace,
    out_dir: Path | str,
    *,
    key: bytes,
    dates: str = "month",
    specs: Sequence[ExportSpec] = EXPORT_SPECS,
    role: str = "analyst",
    purpose: str = "analysis",
    policy: Path | str | None = None,
) -> ExportSummary:
    """Write each table of ``specs``, pseudonymised, as ``OUT/<table>.parquet`` and ``.csv``.

    The tables are first redacted for ``role`` and ``purpose`` by the access policy
    (:func:`genogram.access.redact`, the one place every output goes through), then
    pseudonymised. ``OUT`` is made owner-only (0700) and every file in it 0600; ``OUT/export.json`` says
    what was done (tables, rows, columns tokenised and dropped, the date rule and the key's
    fingerprint, never the key). ``OUT`` may not be inside the workspace.

    Raises
    ------
    WorkspaceError
        A table is missing (run `kinlink families` first), or ``OUT`` is in the workspace.
    SettingsError
        A weak key or an unknown date rule.
    """
    check_key(key)
    if dates not in DATE_RULES:
        raise SettingsError(f"dates must be one of {list(DATE_RULES)}, not {dates!r}")
    out = check_export(workspace, out_dir, specs)
    out.mkdir(parents=True, exist_ok=True, mode=_DIR_MODE)
    os.chmod(out, _DIR_MODE)
    files: list[Path] = []
    rows: dict[str, int] = {}
    described: dict[str, Any] = {}
    dropped = tokenised = coarsened = 0
    from genogram.access import load_policy, redact

    raw = {spec.table: workspace.read_frame(spec.table) for spec in specs}
    visible = redact(raw, load_policy(policy), role, purpose).tables
    for spec in specs:
        frame = visible.get(spec.table, raw[spec.table])
        result = pseudonymise(
            frame, key=key, columns_to_token=spec.columns_to_token, dates=dates, drop=spec.drop
        )
        kept = set(result.columns) - set(spec.columns_to_token)
        date_cols = [c for c in _date_columns(frame) if c in kept] if dates != "keep" else []
        buf = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(result, preserve_index=False), buf, compression="zstd")
        files.append(_write_private(out, f"{spec.table}.parquet", buf.getvalue()))
        files.append(_write_private(out, f"{spec.table}.csv", to_safe_csv(result).encode("utf-8")))
        rows[spec.table] = len(result)
        dropped += len(spec.drop)
        tokenised += len(spec.columns_to_token)
        coarsened += len(date_cols)
        described[spec.table] = {
            "rows": len(result),
            "columns": list(result.columns),
            "tokenised": list(spec.columns_to_token),
            "dropped": list(spec.drop),
            "dates_coarsened": date_cols,
        }
    document = {
        "kinlink_export": 1,
        "dates": dates,
        "key_id": key_id(key),
        "token": f"HMAC-SHA256, first {_TOKEN_HEX} hex digits",
        "tables": described,
    }
    files.append(_write_private(out, "export.json", (json.dumps(document, indent=2) + "\n").encode()))
    withheld = {
        "columns dropped": dropped,
        "columns tokenised": tokenised,
        "date columns coarsened": coarsened,
    }
    return ExportSummary(out, tuple(files), rows, key_id(key), dates, withheld)
