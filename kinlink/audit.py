"""The workspace's audit log: who produced which Family Summary Record or export, for what.

``WS/audit.jsonl`` is append-only and tamper-evident. Each line is one JSON object (keys
sorted, no spaces) holding who asked (as they gave it), their role and purpose, the action
(``fsr``, ``export`` or ``explain``), the family and person ids concerned, the UTC time,
what redaction withheld (counts by category), ``prev``: the SHA-256 of the previous entry
(:data:`GENESIS` for the first), ``seq``: the entry's number (1, 2, ...), and ``hash``: the
SHA-256 of the entry itself without ``hash``. :func:`verify` recomputes the chain and names
the first line that was edited, removed, inserted or moved.

A hash chain shows that the log was changed, not who changed it, and cannot show that
entries were cut from its end: keep the ``head`` hash :func:`verify` reports somewhere the
workspace's users cannot write (a ticket, an email, the authority's SIEM) and check against
it with ``kinlink audit verify --head``.

The log carries no names, dates of birth, addresses or identifiers: only the ids kinlink
made (person and family ids are keyed hashes), policy keys and counts. :func:`append`
refuses any other field.

Examples
--------
>>> import tempfile
>>> ws = tempfile.mkdtemp()
>>> entry = append(ws, who="sw1042", role="school", purpose="safeguarding_assessment",
...                action="fsr", family_id="F3a9c0d", withheld={"NHS numbers and UPNs": 4})
>>> entry["seq"], entry["prev"] == GENESIS
(1, True)
>>> check = verify(Path(ws) / AUDIT_FILE)
>>> check.ok, check.entries, check.head == entry["hash"]
(True, 1, True)
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.errors import WorkspaceError
from kinlink.workspace import Workspace

__all__ = [
    "ACTIONS",
    "AUDIT_FILE",
    "ENTRY_FIELDS",
    "GENESIS",
    "AuditCheck",
    "AuditError",
    "append",
    "entry_hash",
    "verify",
]

AUDIT_FILE = "audit.jsonl"
#: What ``prev`` of the first entry holds.
GENESIS = "0" * 64
#: What an entry records an action of.
ACTIONS: tuple[str, ...] = ("fsr", "export", "explain")
#: Every key of an entry, in the order they are documented.
ENTRY_FIELDS: tuple[str, ...] = (
    "seq",
    "time",
    "who",
    "role",
    "purpose",
    "action",
    "family_id",
    "person_ids",
    "withheld",
    "prev",
    "hash",
)
_GIVEN = frozenset({"who", "role", "purpose", "action", "family_id", "person_ids", "withheld"})
_REQUIRED = ("who", "role", "purpose", "action")
_KEY = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
_HEX = re.compile(r"[0-9a-f]{64}")
_MAX_WHO = 128
_MAX_CATEGORY = 200
_MAX_IDS = 1000
_FILE_MODE = 0o600
_TAIL = 1 << 16


class AuditError(WorkspaceError):
    """The audit log cannot be written, or an entry asked for is not allowed."""


@dataclass(frozen=True)
class AuditCheck:
    """What :func:`verify` found.

    Attributes
    ----------
    ok
        True when every entry is intact and chained to the one before it.
    entries
        Entries read (up to the first bad one when ``ok`` is false).
    head
        Hash of the last good entry (:data:`GENESIS` for an empty log).
    bad_line
        1-based line number of the first bad entry, or None.
    problem
        What is wrong with it, in words (never its content), or None.
    """

    ok: bool
    entries: int
    head: str
    bad_line: int | None = None
    problem: str | None = None

    @property
    def message(self) -> str:
        """One line for a person: intact with the head hash, or the first bad line."""
        if self.ok:
            entries = "1 entry" if self.entries == 1 else f"{self.entries} entries"
            return f"audit log intact: {entries}, head {self.head}"
        return f"audit log tampered with: line {self.bad_line}: {self.problem}"


# --------------------------------------------------------------------------- entries


def _canonical(entry: Mapping[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def entry_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of an entry's canonical JSON without its ``hash`` key."""
    return hashlib.sha256(_canonical({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


def _text(name: str, value: Any, pattern: re.Pattern[str]) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise AuditError(f"audit: {name} must be a short key of letters, digits, '_', '.' or '-'")
    return value


def _who(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_WHO:
        raise AuditError(f"audit: who must be a non-empty text of at most {_MAX_WHO} characters")
    if not value.isprintable():
        raise AuditError("audit: who must not hold control characters")
    return value


def _ids(name: str, values: Any) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise AuditError(f"audit: {name} must be a list of ids")
    if len(values) > _MAX_IDS:
        raise AuditError(f"audit: {name} holds more than {_MAX_IDS} ids")
    return [_text(name, v, _ID) for v in values]


def _withheld(value: Any) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise AuditError("audit: withheld must map categories to counts")
    out: dict[str, int] = {}
    for category, count in value.items():
        if not isinstance(category, str) or not category.isprintable() or len(category) > _MAX_CATEGORY:
            raise AuditError("audit: a withheld category must be short printable text")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise AuditError("audit: a withheld count must be a whole number, 0 or more")
        out[category] = int(count)
    return out


def _body(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The validated entry fields a caller gave (everything but seq, time, prev and hash)."""
    unknown = sorted(set(fields) - _GIVEN)
    if unknown:
        raise AuditError(f"audit: unknown field(s) {unknown}; allowed: {sorted(_GIVEN)}")
    missing = [k for k in _REQUIRED if fields.get(k) is None]
    if missing:
        raise AuditError(f"audit: missing {missing}")
    action = fields["action"]
    if action not in ACTIONS:
        raise AuditError(f"audit: action must be one of {list(ACTIONS)}")
    family = fields.get("family_id")
    return {
        "who": _who(fields["who"]),
        "role": _text("role", fields["role"], _KEY),
        "purpose": _text("purpose", fields["purpose"], _KEY),
        "action": action,
        "family_id": None if family is None else _text("family_id", family, _ID),
        "person_ids": _ids("person_ids", fields.get("person_ids") or []),
        "withheld": _withheld(fields.get("withheld") or {}),
    }


def _utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------- writing


def _last_line(fd: int, size: int) -> bytes | None:
    """The file's last line (without its newline), None when empty; a torn end is an error."""
    if size == 0:
        return None
    start = max(0, size - _TAIL)
    tail = os.pread(fd, size - start, start)
    if not tail.endswith(b"\n"):
        raise AuditError("audit log ends in a partial entry; run `kinlink audit verify` and repair it")
    while True:
        cut = tail.rfind(b"\n", 0, len(tail) - 1)
        if cut >= 0 or start == 0:
            return tail[cut + 1 : -1]
        start = max(0, start - _TAIL)  # a line longer than the tail read: read further back
        tail = os.pread(fd, size - start, start)


def append(workspace_path: Path | str, **fields: Any) -> dict[str, Any]:
    """Append one entry to ``workspace_path/audit.jsonl`` and return it.

    The file is created owner-only (0600) and never followed through a symbolic link. The
    entry is chained to the last one under an exclusive lock on the file, written in one
    ``write`` and flushed to disk, so concurrent kinlink processes interleave whole entries.

    Parameters
    ----------
    workspace_path
        The workspace folder.
    **fields
        ``who`` (as the user gave it), ``role``, ``purpose``, ``action`` (one of
        :data:`ACTIONS`), and optionally ``family_id``, ``person_ids`` (kinlink's ids) and
        ``withheld`` (category -> count). No other field is accepted.

    Returns
    -------
    dict
        The entry as written, with ``seq``, ``time``, ``prev`` and ``hash``.

    Raises
    ------
    AuditError
        An unknown or malformed field, a log whose last entry is torn or unreadable, or a
        log that cannot be written.
    """
    body = _body(fields)
    ws = Workspace(workspace_path).create()
    path = ws.path / AUDIT_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, _FILE_MODE)
    except OSError as exc:
        raise AuditError(f"cannot open the audit log {path}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.fchmod(fd, _FILE_MODE)
        last = _last_line(fd, os.fstat(fd).st_size)
        if last is None:
            prev, seq = GENESIS, 1
        else:
            try:
                previous = json.loads(last)
                prev, seq = str(previous["hash"]), int(previous["seq"]) + 1
            except (ValueError, KeyError, TypeError):
                raise AuditError(
                    "the audit log's last entry is unreadable; run `kinlink audit verify`"
                ) from None
        entry = {"seq": seq, "time": _utc_now(), **body, "prev": prev}
        entry["hash"] = entry_hash(entry)
        line = _canonical(entry) + b"\n"
        written = os.write(fd, line)
        if written != len(line):
            raise AuditError(f"the audit log {path} took only part of an entry (disk full?)")
        os.fsync(fd)
    except OSError as exc:
        raise AuditError(f"cannot write the audit log {path}: {exc.strerror}") from None
    finally:
        os.close(fd)  # releases the lock
    return entry


# --------------------------------------------------------------------------- checking


def _problem(line: bytes, number: int, prev: str) -> tuple[str | None, dict[str, Any] | None]:
    """Why line ``number`` is not the entry that should follow ``prev`` (None when it is)."""
    try:
        entry = json.loads(line)
    except ValueError:
        return "not a JSON entry", None
    if not isinstance(entry, dict):
        return "not a JSON entry", None
    if set(entry) != set(ENTRY_FIELDS):
        return "not an entry of this log (its fields differ)", None
    if _canonical(entry) != line:
        return "edited (not as kinlink writes it)", None
    if not isinstance(entry["hash"], str) or entry_hash(entry) != entry["hash"]:
        return "edited (its hash does not match its content)", None
    if entry["seq"] != number:
        return f"out of place (entry {entry['seq']} where entry {number} should be)", None
    if entry["prev"] != prev:
        return "does not follow the entry before it (an entry was removed, inserted or moved)", None
    try:
        _body({k: entry[k] for k in _GIVEN})
    except AuditError:
        return "holds a field kinlink would not write", None
    return None, entry


def verify(path: Path | str, *, head: str | None = None) -> AuditCheck:
    """Check the audit log's hash chain from the first line to the last.

    Parameters
    ----------
    path
        The ``audit.jsonl`` file.
    head
        A ``hash`` recorded earlier (e.g. the head an earlier check reported): the log must
        still hold that entry, so cutting entries from its end is caught too.

    Returns
    -------
    AuditCheck
        ``ok`` and the head hash, or the first bad line and what is wrong with it.

    Raises
    ------
    AuditError
        If the file does not exist or cannot be read, or ``head`` is not a SHA-256 hex.
    """
    path = Path(path)
    if head is not None and not _HEX.fullmatch(head):
        raise AuditError("the head to check against must be the 64 hex digits of an entry's hash")
    prev, seen, number = GENESIS, head is None, 0
    try:
        with path.open("rb") as fh:
            for number, raw in enumerate(fh, start=1):
                line = raw.removesuffix(b"\n")
                problem, entry = _problem(line, number, prev)
                if problem is None and line == raw:
                    problem = "a partial entry (the log ends without a line end)"
                if problem is not None or entry is None:
                    return AuditCheck(False, number - 1, prev, number, problem)
                prev = entry["hash"]
                seen = seen or prev == head
    except FileNotFoundError:
        raise AuditError(f"no audit log at {path}") from None
    except OSError as exc:
        raise AuditError(f"cannot read the audit log {path}: {exc.strerror}") from None
    if not seen:
        return AuditCheck(
            False, number, prev, number + 1, "the entry with the given head is gone (log cut short)"
        )
    return AuditCheck(True, number, prev)
