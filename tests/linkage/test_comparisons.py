"""Every comparison level, table-driven: two records in, the level's label out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.comparisons import (
    Comparison,
    PairView,
    child_at_home,
    date_of_birth,
    estimated_date_of_birth,
    family_name,
    given_name,
    identifier,
    location,
    shared_child,
    stated_age,
)
from linkage.link import add_relational_columns, prepare_for_linkage
from linkage.prepare import load_nicknames, nickname_pairs, prepare_records
from linkage.settings import DEFAULT_SETTINGS_PATH
from tests.linkage.conftest import make_records, make_stated

NICKS = nickname_pairs(load_nicknames(DEFAULT_SETTINGS_PATH.parent / "nicknames.yaml"))
COMPARISONS = {
    "given_name": given_name(),
    "family_name": family_name(),
    "dob": date_of_birth(),
    "dob_estimated": estimated_date_of_birth(),
    "dob_combined": date_of_birth(estimated_days=731),
    "location": location(),
    "nhs": identifier("nhs", name="nhs_number"),
}


def level_label(comparison: str, left: dict, right: dict) -> str:
    prepared = prepare_records(make_records([left, right]))
    view = PairView(prepared, np.array([0]), np.array([1]), nicknames=NICKS)
    comp = COMPARISONS[comparison]
    return comp.levels[int(comp.grade(view)[0])].label


CASES = [
    # given names
    {
        "description": "given missing",
        "comparison": "given_name",
        "left": {"given": None},
        "right": {"given": "Amy"},
        "label": "given name missing",
    },
    {
        "description": "BABY is a placeholder, not a name",
        "comparison": "given_name",
        "left": {"given": "Baby", "family": "Khan"},
        "right": {"given": "Ayaan", "family": "Khan"},
        "label": "given name missing",
    },
    {
        "description": "all given names exact",
        "comparison": "given_name",
        "left": {"given": "Mary Ann"},
        "right": {"given": "mary ann"},
        "label": "given names exact",
    },
    {
        "description": "first given name exact",
        "comparison": "given_name",
        "left": {"given": "Mary Ann"},
        "right": {"given": "Mary"},
        "label": "first given name exact",
    },
    {
        "description": "swapped names",
        "comparison": "given_name",
        "left": {"given": "Smith", "family": "John"},
        "right": {"given": "John", "family": "Smith"},
        "label": "given and family names swapped",
    },
    {
        "description": "nickname",
        "comparison": "given_name",
        "left": {"given": "William"},
        "right": {"given": "Bill"},
        "label": "nickname or variant",
    },
    {
        "description": "a misspelt name and a nickname of it",
        "comparison": "given_name",
        "left": {"given": "Amannda"},
        "right": {"given": "Mandy"},
        "label": "nickname or variant",
    },
    {
        "description": "a misspelt nickname and the name",
        "comparison": "given_name",
        "left": {"given": "Jules"},
        "right": {"given": "Jluia"},
        "label": "nickname or variant",
    },
    {
        "description": "a short name is not read as a misspelling of a listed one",
        "comparison": "given_name",
        "left": {"given": "Wil"},
        "right": {"given": "Bill"},
        "label": "different",
    },
    {
        "description": "close spelling",
        "comparison": "given_name",
        "left": {"given": "Jonathon"},
        "right": {"given": "Jonathan"},
        "label": "Jaro-Winkler >= 0.92",
    },
    {
        "description": "known by middle name",
        "comparison": "given_name",
        "left": {"given": "David", "middle": "Lee"},
        "right": {"given": "Lee"},
        "label": "known by middle name",
    },
    {
        "description": "fuzzy spelling",
        "comparison": "given_name",
        "left": {"given": "Katarina"},
        "right": {"given": "Katrina"},
        "label": "Jaro-Winkler >= 0.85",
    },
    {
        "description": "sounds alike",
        "comparison": "given_name",
        "left": {"given": "Kaitlyn"},
        "right": {"given": "Caitlin"},
        "label": "sounds alike (metaphone)",
    },
    {
        "description": "initial only",
        "comparison": "given_name",
        "left": {"given": "J"},
        "right": {"given": "Jasmine"},
        "label": "initial only, agrees",
    },
    {
        "description": "different given names (twins)",
        "comparison": "given_name",
        "left": {"given": "Olivia"},
        "right": {"given": "Harry"},
        "label": "different",
    },
    # family names
    {
        "description": "family exact",
        "comparison": "family_name",
        "left": {"family": "O'Brien"},
        "right": {"family": "OBRIEN"},
        "label": "exact",
    },
    {
        "description": "former surname",
        "comparison": "family_name",
        "left": {"family": "Jones", "aliases": ["Smith"]},
        "right": {"family": "Smith"},
        "label": "former or alias family name",
    },
    {
        "description": "double-barrelled part",
        "comparison": "family_name",
        "left": {"family": "Smith-Jones"},
        "right": {"family": "Jones"},
        "label": "part of a double-barrelled name",
    },
    {
        "description": "family typo",
        "comparison": "family_name",
        "left": {"family": "Thompson"},
        "right": {"family": "Thomson"},
        "label": "Jaro-Winkler >= 0.92",
    },
    {
        "description": "family different",
        "comparison": "family_name",
        "left": {"family": "Patel"},
        "right": {"family": "Murphy"},
        "label": "different",
    },
    # dates of birth
    {
        "description": "dob exact",
        "comparison": "dob",
        "left": {"dob": "2015-03-04"},
        "right": {"dob": "2015-03-04"},
        "label": "exact",
    },
    {
        "description": "dob day and month swapped",
        "comparison": "dob",
        "left": {"dob": "2015-03-04"},
        "right": {"dob": "2015-04-03"},
        "label": "day and month transposed",
    },
    {
        "description": "dob one component off",
        "comparison": "dob",
        "left": {"dob": "2015-03-04"},
        "right": {"dob": "2016-03-04"},
        "label": "one of day, month, year differs",
    },
    {
        "description": "an estimated date is not compared with the real ones",
        "comparison": "dob",
        "left": {"dob": "1990-06-01", "dob_estimated": True},
        "right": {"dob": "1991-01-20"},
        "label": "date of birth missing or only estimated",
    },
    {
        "description": "dob estimated from age, close",
        "comparison": "dob_estimated",
        "left": {"dob": "1990-06-01", "dob_estimated": True},
        "right": {"dob": "1991-01-20"},
        "label": "estimated from age, within 731 days",
    },
    {
        "description": "both estimated, close",
        "comparison": "dob_estimated",
        "left": {"dob": "1990-06-01", "dob_estimated": True},
        "right": {"dob": "1989-09-01", "dob_estimated": True},
        "label": "estimated from age, within 731 days",
    },
    {
        "description": "dob estimated from age, far apart",
        "comparison": "dob_estimated",
        "left": {"dob": "1990-06-01", "dob_estimated": True},
        "right": {"dob": "1984-01-20"},
        "label": "estimated from age, further apart",
    },
    {
        "description": "two real dates of birth say nothing about estimates",
        "comparison": "dob_estimated",
        "left": {"dob": "1990-06-01"},
        "right": {"dob": "1990-06-01"},
        "label": "no estimated date of birth, or a date missing",
    },
    {
        "description": "an estimate against no date at all",
        "comparison": "dob_estimated",
        "left": {"dob": "1990-06-01", "dob_estimated": True},
        "right": {"dob": None},
        "label": "no estimated date of birth, or a date missing",
    },
    {
        "description": "settings from before the split: estimated dates compared among the others",
        "comparison": "dob_combined",
        "left": {"dob": "1990-06-01", "dob_estimated": True},
        "right": {"dob": "1991-01-20"},
        "label": "estimated from age, within 731 days",
    },
    {
        "description": "estimated but exact date is not 'exact'",
        "comparison": "dob_combined",
        "left": {"dob": "1990-06-01", "dob_estimated": True},
        "right": {"dob": "1990-06-01"},
        "label": "estimated from age, within 731 days",
    },
    {
        "description": "dob same year only",
        "comparison": "dob",
        "left": {"dob": "2015-03-04"},
        "right": {"dob": "2015-11-20"},
        "label": "same year only",
    },
    {
        "description": "dob decades apart (father and son)",
        "comparison": "dob",
        "left": {"dob": "1980-03-04"},
        "right": {"dob": "2010-07-19"},
        "label": "different",
    },
    {
        "description": "dob missing",
        "comparison": "dob",
        "left": {"dob": None},
        "right": {"dob": "2010-07-19"},
        "label": "date of birth missing or only estimated",
    },
    # location
    {
        "description": "same UPRN",
        "comparison": "location",
        "left": {"uprn": "100023", "postcode": "AB1 2DX"},
        "right": {"uprn": "100023", "postcode": "AB1 2DY"},
        "label": "same property (UPRN, address, or house number and street in one postcode)",
    },
    {
        "description": "same house number and street, one postcode missing",
        "comparison": "location",
        "left": {"address": "12 ACACIA ROAD BRADLEY", "postcode": "AB1 2DX"},
        "right": {"address": "12 ACACIA ROAD"},
        "label": "same property (UPRN, address, or house number and street in one postcode)",
    },
    {
        "description": "same house number and street in two postcodes (a street name a town repeats)",
        "comparison": "location",
        "left": {"address": "FLAT 36 PARK POINT 9 ORCHARD ROAD", "postcode": "AB1 2DX"},
        "right": {"address": "FLAT 36 PARK POINT 17 LAUREL VIEW", "postcode": "AB9 7QQ"},
        "label": "different",
    },
    {
        "description": "same postcode",
        "comparison": "location",
        "left": {"postcode": "AB1 2DX"},
        "right": {"postcode": "ab12dx"},
        "label": "same postcode",
    },
    {
        "description": "same sector",
        "comparison": "location",
        "left": {"postcode": "AB1 2DX"},
        "right": {"postcode": "AB1 2EE"},
        "label": "same postcode sector",
    },
    {
        "description": "same district",
        "comparison": "location",
        "left": {"postcode": "AB1 2DX"},
        "right": {"postcode": "AB1 5EE"},
        "label": "same postcode district",
    },
    {
        "description": "different places",
        "comparison": "location",
        "left": {"postcode": "AB1 2DX"},
        "right": {"postcode": "ZE2 9QQ"},
        "label": "different",
    },
    {
        "description": "no location",
        "comparison": "location",
        "left": {},
        "right": {"postcode": "ZE2 9QQ"},
        "label": "no address or postcode",
    },
    # identifiers
    {
        "description": "valid NHS numbers equal",
        "comparison": "nhs",
        "left": {"nhs": "9434765919"},
        "right": {"nhs": "9434765919"},
        "label": "valid and equal",
    },
    {
        "description": "valid NHS numbers differ",
        "comparison": "nhs",
        "left": {"nhs": "9434765919"},
        "right": {"nhs": "4010232137"},
        "label": "valid and different",
    },
    {
        "description": "NHS number missing",
        "comparison": "nhs",
        "left": {"nhs": None},
        "right": {"nhs": "4010232137"},
        "label": "missing or invalid on one side",
    },
]


@pytest.mark.parametrize("case", CASES, ids=[c["description"] for c in CASES])
def test_level(case):
    assert level_label(case["comparison"], case["left"], case["right"]) == case["label"]


@pytest.mark.parametrize("case", CASES, ids=[c["description"] for c in CASES])
def test_levels_are_symmetric(case):
    assert level_label(case["comparison"], case["right"], case["left"]) == case["label"]


NAMES = st.sampled_from(
    ["Amy", "Bill", "William", "Mohammed", "Muhammad", "Zoë", "Smith", "Jones", "J", None]
)
DOBS = st.sampled_from(["2015-03-04", "2015-04-03", "2016-03-04", "1980-01-01", None])


@settings(max_examples=80, deadline=None)
@given(NAMES, NAMES, NAMES, NAMES, DOBS, DOBS)
def test_every_comparison_is_symmetric(g1, f1, g2, f2, d1, d2):
    left = {"given": g1, "family": f1, "dob": d1, "postcode": "AB1 2DX"}
    right = {"given": g2, "family": f2, "dob": d2, "postcode": "AB1 2DY"}
    for name in COMPARISONS:
        assert level_label(name, left, right) == level_label(name, right, left)


ITEM_LISTS = st.lists(
    st.lists(st.sampled_from(["p1", "p2", "p3", "p4", None]), max_size=3), min_size=1, max_size=8
)


@settings(max_examples=100, deadline=None)
@given(ITEM_LISTS, ITEM_LISTS, st.data())
def test_lists_intersect_is_set_intersection(mothers, fathers, data):

    n = max(len(mothers), len(fathers))
    mothers = (mothers * n)[:n]
    fathers = (fathers * n)[:n]
    prepared = pd.DataFrame({"mother_of": mothers, "father_of": fathers})
    pairs = data.draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), min_size=1, max_size=12)
    )
    left = np.array([a for a, _ in pairs])
    right = np.array([b for _, b in pairs])
    view = PairView(prepared, left, right)
    for col_l, col_r in (("mother_of", "father_of"), ("father_of", "mother_of"), ("mother_of", "mother_of")):
        expected = [
            bool(
                {x for x in prepared[col_l][a] if x is not None}
                & {x for x in prepared[col_r][b] if x is not None}
            )
            for a, b in pairs
        ]
        assert view.lists_intersect(col_l, col_r).tolist() == expected


def test_a_scorer_forgets_the_lists_it_read_when_they_are_replaced():
    from linkage.scorer import PairScorer
    from linkage.settings import LinkageSettings

    prepared = prepare_records(make_records([{"given": "Amy"}, {"given": "Ben"}]))
    prepared["mother_of"] = [["p1"], []]
    prepared["father_of"] = [[], ["p1"]]
    scorer = PairScorer(prepared, LinkageSettings.load(None), set())
    pair = (np.array([0]), np.array([1]))
    assert scorer.view(*pair).lists_intersect("mother_of", "father_of").tolist() == [True]
    prepared["father_of"] = [[], ["p2"]]
    scorer.forget(["father_of"])
    assert scorer.view(*pair).lists_intersect("mother_of", "father_of").tolist() == [False]


# A record with a date of birth against a record a source states is a parent (or partner),
# with no date of birth of its own: is the first of an age the relationship allows?
STATED_AGE_CASES = [
    # (description, candidate's fields, stated relationship of the other, child's date of birth, label)
    ("a mother 30 at the birth", {"dob": "1980-03-01"}, "mother", "2010-05-14", "usual"),
    ("a mother 53 at the birth: her own mother", {"dob": "1957-09-02"}, "mother", "2010-05-14", "unusual"),
    ("born after the child", {"dob": "2012-01-01"}, "mother", "2010-05-14", "unusual"),
    ("a father 42 at the birth", {"dob": "1975-06-01"}, "father", "2017-09-15", "usual"),
    ("a father 64 at the birth", {"dob": "1953-10-18"}, "father", "2017-09-15", "unusual"),
    ("a police age", {"dob": "1985-01-01", "dob_estimated": True}, "mother", "2010-05-14", "usual"),
    ("no date of birth to test", {}, "mother", "2010-05-14", "null"),
    ("the child's date of birth unknown", {"dob": "1957-09-02"}, "mother", None, "null"),
]
STATED_AGE_LABELS = {
    "null": "no date of birth to test against a stated relationship",
    "usual": "a usual age for what the sources state",
    "unusual": "an unusual (or impossible) age for what the sources state",
}


def stated_age_label(candidate: dict, kind: str, child_dob: str | None, *, flip: bool = False) -> str:
    records = make_records(
        [
            {"key": "candidate", "given": "Ann", "family": "Lee", **candidate},
            {"key": "contact", "given": "Ann", "family": "Lee"},
            {"key": "child", "given": "Mia", "family": "Lee", "dob": child_dob},
        ]
    )
    prepared, position, _keys = prepare_for_linkage(records, make_stated([("s:contact", "s:child", kind)]))
    pair = (np.array([position[0]]), np.array([position[1]]))
    view = PairView(prepared, *(pair[::-1] if flip else pair), nicknames=NICKS)
    comp = stated_age()
    return comp.levels[int(comp.grade(view)[0])].label


@pytest.mark.parametrize(
    ("candidate", "kind", "child_dob", "label"),
    [case[1:] for case in STATED_AGE_CASES],
    ids=[case[0] for case in STATED_AGE_CASES],
)
@pytest.mark.parametrize("flip", [False, True], ids=["candidate left", "candidate right"])
def test_stated_age_level(candidate, kind, child_dob, label, flip):
    assert stated_age_label(candidate, kind, child_dob, flip=flip) == STATED_AGE_LABELS[label]


def test_stated_age_gives_no_evidence_where_both_records_have_real_dates_of_birth():
    records = make_records(
        [
            {"key": "candidate", "given": "Ann", "family": "Lee", "dob": "1957-09-02"},
            {"key": "contact", "given": "Ann", "family": "Lee", "dob": "1980-11-28"},
            {"key": "child", "given": "Mia", "family": "Lee", "dob": "2010-05-14"},
        ]
    )
    prepared, position, _keys = prepare_for_linkage(
        records, make_stated([("s:contact", "s:child", "mother")])
    )
    view = PairView(prepared, np.array([position[0]]), np.array([position[1]]), nicknames=NICKS)
    assert stated_age().levels[int(stated_age().grade(view)[0])].label == STATED_AGE_LABELS["null"]


def test_stated_age_is_a_check():
    assert stated_age().check
    assert not any(c.check for c in COMPARISONS.values())


MILL_LANE = ("1 MILL LANE", "BD7 1AA")


def _at(address: tuple[str, str] | None) -> dict:
    return {"address": address[0], "postcode": address[1]} if address else {}


def _child(source: str, key: str, person: str, address: tuple[str, str] | None = None) -> dict:
    return {
        "source": source,
        "key": key,
        "given": key.title(),
        "family": "Lee",
        "person": person,
        **_at(address),
    }


# Two mothers' records (health: no address; school: an address) and the people a source
# states each is a parent of. The people are those of a first clustering: `person` joins a
# child's records; every other record is its own person.
SHARED_CHILD_CASES = [
    # (description, records besides the two mothers, stated (parent, child, type), label)
    ("no stated children on one side", [_child("school", "pupil", "P2")], [("b", "pupil", "mother")], "null"),
    (
        "both mothers of one child",
        [_child("health", "baby", "P1"), _child("school", "pupil", "P1")],
        [("a", "baby", "mother"), ("b", "pupil", "mother")],
        "role",
    ),
    (
        "a mother and a parent of unknown sex of one child",
        [_child("health", "baby", "P1"), _child("school", "pupil", "P1")],
        [("a", "baby", "mother"), ("b", "pupil", "parent")],
        "any",
    ),
    (
        "mothers of a baby seen later at the pupil's address",
        [
            _child("health", "baby", "P1"),
            _child("school", "baby_at_school", "P1", address=MILL_LANE),
            _child("school", "pupil", "P2", address=MILL_LANE),
        ],
        [("a", "baby", "mother"), ("b", "pupil", "mother")],
        "role_home",
    ),
    (
        "a mother and a father of children at one address",
        [
            _child("health", "baby", "P1", address=MILL_LANE),
            _child("school", "pupil", "P2", address=MILL_LANE),
        ],
        [("a", "baby", "mother"), ("b", "pupil", "father")],
        "home",
    ),
    (
        "a mother and a carer of children at one address",
        [
            _child("health", "baby", "P1", address=MILL_LANE),
            _child("school", "pupil", "P2", address=MILL_LANE),
        ],
        [("a", "baby", "mother"), ("b", "pupil", "carer")],
        "home",
    ),
    (
        "mothers of children at different addresses",
        [
            _child("health", "baby", "P1", address=("3 HIGH STREET", "BD7 2BB")),
            _child("school", "pupil", "P2", address=MILL_LANE),
        ],
        [("a", "baby", "mother"), ("b", "pupil", "mother")],
        "different",
    ),
    (
        "mothers of children at an address of more than 15 children (a refuge, a hostel)",
        [
            _child("health", "baby", "P1", address=MILL_LANE),
            _child("school", "pupil", "P2", address=MILL_LANE),
            *[_child("school", f"resident{i}", f"R{i}", address=MILL_LANE) for i in range(14)],
        ],
        [
            ("a", "baby", "mother"),
            ("b", "pupil", "mother"),
            *[("b", f"resident{i}", "carer") for i in range(14)],
        ],
        "different",
    ),
]
SHARED_CHILD_LABELS = {
    "null": "no stated children on one side",
    "role": "same parent role (mother or father) of one person",
    "any": "parent or carer of one person",
    "role_home": "same parent role of different people recorded at one address",
    "home": "parents of different people recorded at one address",
    "different": "parents of different people",
}


MOTHERS = (
    {"source": "health", "key": "a", "given": "Ann", "family": "Lee", "dob": "1988-02-03"},
    {"source": "school", "key": "b", "given": "Ann", "family": "Lee", **_at(MILL_LANE)},
)


def relational_label(
    comparison: Comparison,
    children: list[dict],
    stated: list[tuple[str, str, str]],
    *,
    flip: bool = False,
    pair: tuple[dict, dict] = MOTHERS,
) -> str:
    """The level of the ``pair`` of records (keys a and b) after a first clustering."""
    rows = [*pair, *({k: v for k, v in c.items() if k != "person"} for c in children)]
    source = {r["key"]: r["source"] for r in rows}
    records = make_records(rows)
    relationships = make_stated([(f"{source[p]}:{p}", f"{source[c]}:{c}", kind) for p, c, kind in stated])
    prepared, position, _keys = prepare_for_linkage(records, relationships)
    person = [c["person"] for c in children]
    people = {p: i for i, p in enumerate(dict.fromkeys(person), start=len(rows))}
    labels = np.arange(len(prepared))
    for i, p in enumerate(person, start=len(pair)):
        labels[position[i]] = people[p]
    add_relational_columns(prepared, records, relationships, position, labels)
    ends = (np.array([position[0]]), np.array([position[1]]))
    view = PairView(prepared, *(ends[::-1] if flip else ends), nicknames=NICKS)
    return comparison.levels[int(comparison.grade(view)[0])].label


@pytest.mark.parametrize(
    ("children", "stated", "label"),
    [case[1:] for case in SHARED_CHILD_CASES],
    ids=[case[0] for case in SHARED_CHILD_CASES],
)
@pytest.mark.parametrize("flip", [False, True], ids=["health left", "health right"])
def test_shared_child_level(children, stated, label, flip):
    assert relational_label(shared_child(), children, stated, flip=flip) == SHARED_CHILD_LABELS[label]


# A mother's health record with a stated baby (record a) against an adult's housing record
# with no stated children (record b, at Mill Lane): is the baby recorded at b's address?
ADULT = {"source": "housing", "key": "b", "given": "Ann", "family": "Lee", **_at(MILL_LANE)}
HIGH_STREET = ("3 HIGH STREET", "BD7 2BB")
CHILD_AT_HOME_CASES = [
    # (description, the pair, records of children, stated (parent, child, type), label)
    (
        "the baby seen later at the other's address",
        (MOTHERS[0], ADULT),
        [_child("health", "baby", "P1"), _child("school", "baby_at_school", "P1", address=MILL_LANE)],
        [("a", "baby", "mother")],
        "held",
    ),
    (
        "the baby recorded elsewhere",
        (MOTHERS[0], ADULT),
        [_child("health", "baby", "P1", address=HIGH_STREET)],
        [("a", "baby", "mother")],
        "else",
    ),
    (
        "the other with no address",
        (MOTHERS[0], {k: v for k, v in ADULT.items() if k not in ("address", "postcode")}),
        [_child("health", "baby", "P1", address=MILL_LANE)],
        [("a", "baby", "mother")],
        "null",
    ),
    (
        "both at the child's address (the location's evidence)",
        ({**MOTHERS[0], **_at(MILL_LANE)}, ADULT),
        [_child("health", "baby", "P1", address=MILL_LANE)],
        [("a", "baby", "mother")],
        "null",
    ),
    (
        "both with stated children (shared_child's evidence)",
        (MOTHERS[0], ADULT),
        [_child("health", "baby", "P1", address=MILL_LANE), _child("housing", "pupil", "P2")],
        [("a", "baby", "mother"), ("b", "pupil", "mother")],
        "null",
    ),
    ("neither with stated children", (MOTHERS[0], ADULT), [_child("health", "baby", "P1")], [], "null"),
]
CHILD_AT_HOME_LABELS = {
    "null": "not one record with stated children and the other with an address",
    "held": "a stated child of one recorded at the other's address",
    "else": "the stated children of one not recorded at the other's address",
}


@pytest.mark.parametrize(
    ("pair", "children", "stated", "label"),
    [case[1:] for case in CHILD_AT_HOME_CASES],
    ids=[case[0] for case in CHILD_AT_HOME_CASES],
)
@pytest.mark.parametrize("flip", [False, True], ids=["parent left", "parent right"])
def test_child_at_home_level(pair, children, stated, label, flip):
    got = relational_label(child_at_home(), children, stated, flip=flip, pair=pair)
    assert got == CHILD_AT_HOME_LABELS[label]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(["H1", "H2", "H3", "H4"]), max_size=3), min_size=2, max_size=8),
    st.lists(st.sampled_from(["H1", "H2", "H5", None]), min_size=2, max_size=8),
    st.data(),
)
def test_in_list_is_membership_either_way(held, homes, data):
    n = min(len(held), len(homes))
    prepared = pd.DataFrame({"children_homes": held[:n], "home": homes[:n]})
    pairs = data.draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), min_size=1, max_size=12)
    )
    left, right = np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])
    expected = [
        (homes[b] is not None and homes[b] in held[a]) or (homes[a] is not None and homes[a] in held[b])
        for a, b in pairs
    ]
    assert PairView(prepared, left, right).in_list("home", "children_homes").tolist() == expected
