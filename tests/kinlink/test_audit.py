"""The audit log: a hash chain that names the first line edited, removed, inserted or moved."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from kinlink import audit
from kinlink.audit import AUDIT_FILE, ENTRY_FIELDS, GENESIS, AuditError, append, entry_hash, verify


def entry_fields(n: int) -> dict:
    return {
        "who": f"sw{1000 + n}",
        "role": "school",
        "purpose": "safeguarding_assessment",
        "action": "fsr",
        "family_id": f"F{n:04x}",
        "person_ids": [f"P{n:04x}"],
        "withheld": {"NHS numbers and UPNs": n},
    }


@pytest.fixture
def log(tmp_path) -> Path:
    """A workspace whose audit log holds five entries."""
    for n in range(1, 6):
        append(tmp_path, **entry_fields(n))
    return tmp_path / AUDIT_FILE


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def rewrite(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(lines))


def resealed(line: bytes, **changes) -> bytes:
    """The entry with ``changes`` and its own hash recomputed, as a careful forger would."""
    entry = json.loads(line) | changes
    entry["hash"] = entry_hash(entry)
    return json.dumps(entry, sort_keys=True, separators=(",", ":")).encode() + b"\n"


# --------------------------------------------------------------------------- writing


def test_entries_carry_every_field_and_chain_from_the_genesis_value(log):
    entries = [json.loads(line) for line in lines_of(log)]
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0]["prev"] == GENESIS
    for before, after in itertools.pairwise(entries):
        assert after["prev"] == before["hash"] == entry_hash(before)
    first = entries[0]
    assert set(first) == set(ENTRY_FIELDS)
    assert first["time"].endswith("Z") and first["time"] <= entries[-1]["time"]
    assert first | {"time": None, "hash": None, "prev": None} == {
        "seq": 1,
        "time": None,
        **entry_fields(1),
        "prev": None,
        "hash": None,
    }


def test_the_log_is_owner_only_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        append(tmp_path / "ws", **entry_fields(1))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "ws" / AUDIT_FILE).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "ws").stat().st_mode) == 0o700


def test_a_symbolic_link_in_place_of_the_log_is_refused(tmp_path):
    target = tmp_path / "elsewhere.jsonl"
    target.write_text("")
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / AUDIT_FILE).symlink_to(target)
    with pytest.raises(AuditError, match="cannot open the audit log"):
        append(tmp_path / "ws", **entry_fields(1))
    assert target.read_text() == ""


def test_a_torn_last_entry_stops_appending(log):
    log.write_bytes(log.read_bytes()[:-10])
    with pytest.raises(AuditError, match="partial entry"):
        append(log.parent, **entry_fields(6))


REFUSED = [
    {"description": "a field that could hold personal data", "change": {"given_name": "Amy"}},
    {"description": "no who", "change": {"who": None}},
    {"description": "a blank who", "change": {"who": "  "}},
    {"description": "who with a line break", "change": {"who": "sw1\nforged"}},
    {"description": "who with a bidi override", "change": {"who": "sw1\u202e"}},
    {"description": "an unknown action", "change": {"action": "print"}},
    {"description": "a role that is not a key", "change": {"role": "school lead"}},
    {"description": "a purpose that is not a key", "change": {"purpose": "see <b>"}},
    {"description": "a family id that is not an id", "change": {"family_id": "Smith family"}},
    {"description": "person ids as one string", "change": {"person_ids": "P1"}},
    {"description": "a person id that is not an id", "change": {"person_ids": ["P1", "01/02/2003"]}},
    {"description": "a negative count", "change": {"withheld": {"addresses": -1}}},
    {"description": "a count that is not a number", "change": {"withheld": {"addresses": "2"}}},
    {"description": "a boolean count", "change": {"withheld": {"addresses": True}}},
    {"description": "withheld as a list", "change": {"withheld": [1]}},
]


@pytest.mark.parametrize("case", REFUSED, ids=[c["description"] for c in REFUSED])
def test_append_refuses_what_it_should_not_record(tmp_path, case):
    with pytest.raises(AuditError) as info:
        append(tmp_path, **(entry_fields(1) | case["change"]))
    for value in case["change"].values():
        if isinstance(value, str) and len(value) > 3:
            assert value not in str(info.value), "the message repeats the value"
    assert not (tmp_path / AUDIT_FILE).exists() or (tmp_path / AUDIT_FILE).read_bytes() == b""


def test_optional_fields_default_to_empty(tmp_path):
    entry = append(tmp_path, who="analyst 7", role="analyst", purpose="referral_patterns", action="export")
    assert (entry["family_id"], entry["person_ids"], entry["withheld"]) == (None, [], {})
    assert verify(tmp_path / AUDIT_FILE).ok


def _append_many(path: str, worker: int, n: int) -> None:
    for i in range(n):
        append(path, **(entry_fields(i) | {"who": f"worker{worker}"}))


def test_concurrent_writers_interleave_whole_entries(tmp_path):
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_append_many, args=(str(tmp_path), w, 25)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    check = verify(tmp_path / AUDIT_FILE)
    assert check.ok and check.entries == 100, check.message


# --------------------------------------------------------------------------- verifying


def _edit_who(lines):
    lines[2] = lines[2].replace(b'"who":"sw1003"', b'"who":"sw9999"')
    return lines


def _edit_and_reseal(lines):
    lines[2] = resealed(lines[2], withheld={})
    return lines


def _reformat(lines):
    lines[1] = json.dumps(json.loads(lines[1]), indent=1).replace("\n", " ").encode() + b"\n"
    return lines


def _add_field(lines):
    lines[3] = resealed(lines[3], given_name="Amy")
    return lines


def _insert_forged(lines):
    forged = resealed(lines[1], seq=3, prev=json.loads(lines[1])["hash"], who="forger")
    return [*lines[:2], forged, *lines[2:]]


def _swap(lines):
    lines[1], lines[2] = lines[2], lines[1]
    return lines


def _renumbered_removal(lines):
    """Line 3 removed and line 4 renumbered and resealed: its prev still gives it away."""
    return [*lines[:2], resealed(lines[3], seq=3), *lines[4:]]


TAMPERING = [
    {"description": "a value edited", "tamper": _edit_who, "bad_line": 3, "problem": "its hash"},
    {
        "description": "an entry edited and its own hash recomputed",
        "tamper": _edit_and_reseal,
        "bad_line": 4,
        "problem": "does not follow",
    },
    {"description": "an entry reformatted", "tamper": _reformat, "bad_line": 2, "problem": "not as kinlink"},
    {
        "description": "a field added, hash recomputed",
        "tamper": _add_field,
        "bad_line": 4,
        "problem": "fields",
    },
    {
        "description": "the first entry removed",
        "tamper": lambda ls: ls[1:],
        "bad_line": 1,
        "problem": "place",
    },
    {"description": "a middle entry removed", "tamper": lambda ls: ls[:2] + ls[3:], "bad_line": 3},
    {
        "description": "removed and renumbered",
        "tamper": _renumbered_removal,
        "bad_line": 3,
        "problem": "follow",
    },
    {"description": "a forged entry inserted", "tamper": _insert_forged, "bad_line": 4, "problem": "place"},
    {"description": "two entries swapped", "tamper": _swap, "bad_line": 2},
    {"description": "an entry replayed", "tamper": lambda ls: ls[:2] + ls[1:], "bad_line": 3},
    {"description": "a line of rubbish", "tamper": lambda ls: [*ls, b"rubbish\n"], "bad_line": 6},
    {"description": "a blank line", "tamper": lambda ls: [*ls[:2], b"\n", *ls[2:]], "bad_line": 3},
    {"description": "the last entry torn", "tamper": lambda ls: [*ls[:4], ls[4][:40]], "bad_line": 5},
    {
        "description": "the last line end cut",
        "tamper": lambda ls: [*ls[:4], ls[4].rstrip(b"\n")],
        "bad_line": 5,
        "problem": "partial",
    },
]


@pytest.mark.parametrize("case", TAMPERING, ids=[c["description"] for c in TAMPERING])
def test_verify_names_the_first_bad_line(log, case):
    rewrite(log, case["tamper"](lines_of(log)))
    check = verify(log)
    assert not check.ok
    assert check.bad_line == case["bad_line"], check.message
    assert check.entries == case["bad_line"] - 1
    assert case.get("problem", "") in check.problem
    assert check.message.startswith(f"audit log tampered with: line {case['bad_line']}: ")


def test_an_intact_log_reports_its_head(log):
    check = verify(log)
    assert (check.ok, check.entries, check.bad_line) == (True, 5, None)
    assert check.head == json.loads(lines_of(log)[-1])["hash"]
    assert check.message == f"audit log intact: 5 entries, head {check.head}"


def test_entries_cut_from_the_end_are_caught_against_a_recorded_head(log):
    head = verify(log).head
    rewrite(log, lines_of(log)[:3])
    assert verify(log).ok  # a chain alone cannot see its end cut off ...
    check = verify(log, head=head)  # ... the head kept elsewhere can
    assert not check.ok and check.bad_line == 4 and "gone" in check.problem
    assert verify(log, head=json.loads(lines_of(log)[1])["hash"]).ok  # an older head is still there


def test_an_empty_log_is_intact_and_a_missing_one_is_an_error(tmp_path):
    (tmp_path / AUDIT_FILE).write_bytes(b"")
    check = verify(tmp_path / AUDIT_FILE)
    assert check.ok and check.entries == 0 and check.head == GENESIS
    with pytest.raises(AuditError, match="no audit log"):
        verify(tmp_path / "nowhere.jsonl")
    with pytest.raises(AuditError, match="64 hex"):
        verify(tmp_path / AUDIT_FILE, head="abc")


def test_doctests():
    import doctest

    assert doctest.testmod(audit).failed == 0


def test_what_a_real_fsr_withheld_can_be_recorded(tmp_path):
    """The call run_fsr makes per family, with the counts family_outputs reports."""
    import datetime as dt

    from genogram.access import load_policy
    from genogram.document import family_outputs
    from tests.genogram.family_fixture import AS_AT, FAMILY_ID, family_tables

    out = family_outputs(
        family_tables(),
        FAMILY_ID,
        role="school",
        purpose="safeguarding_assessment",
        policy=load_policy(),
        as_at=AS_AT,
        produced=dt.date(2026, 11, 2),
        data_as_at={},
        formats=("dot",),
    )
    assert out.withheld
    entry = append(
        tmp_path,
        who="sw1042",
        role="school",
        purpose="safeguarding_assessment",
        action="fsr",
        family_id=FAMILY_ID,
        person_ids=["P-SUBJ"],
        withheld=dict(out.withheld),
    )
    assert entry["withheld"] == dict(out.withheld)
    assert verify(tmp_path / AUDIT_FILE).ok
