"""Families for the genogram tests, written compactly and turned into canonical tables.

* :func:`tables` builds schema-checked tables from short tuples.
* :func:`complex_family` is a hand-made family exercising what the fixture in
  ``family_fixture.py`` does not: a person with three partners, an unknown father, an
  adopted child, a fostered child, a kinship carer, a deceased child, grandparents on both
  sides, a step-grandparent, cousins.
* :func:`random_family` makes a random but plausible family (no consanguinity) from a seed,
  for property tests; ``size`` scales it up to large families.

Everything here is invented.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from ingest.schema import TABLES, UNDIRECTED_RELATIONSHIPS, to_arrow

D = dt.date
AS_AT = D(2026, 10, 31)


def _frame(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    columns = TABLES[name].names
    frame = pd.DataFrame([{c: row.get(c) for c in columns} for row in rows], columns=columns)
    return to_arrow(name, frame).to_pandas(date_as_object=True)


def tables(
    family_id: str,
    people: Iterable[Sequence[Any]],
    relationships: Iterable[Sequence[Any]],
    interventions: Iterable[Sequence[Any]] = (),
) -> dict[str, pd.DataFrame]:
    """Canonical tables of one family.

    ``people``: ``(person_id, given, family, sex, dob, dod, role, household_id)``;
    ``relationships``: ``(from, to, type[, start[, end[, incidents]]])``;
    ``interventions``: ``(person_id, event_type, start[, end[, role]])``.
    """
    persons, members, homes = [], [], []
    for pid, given, family, sex, dob, dod, role, household in people:
        persons.append(
            {
                "person_id": pid,
                "given_name": given,
                "family_name": family,
                "sex": sex,
                "dob": dob,
                "dod": dod,
                "dob_estimated": False,
                "dob_conflict": False,
                "sources": ["csc"],
                "record_count": 1,
                "cluster_confidence": 1.0,
            }
        )
        members.append(
            {
                "family_id": family_id,
                "person_id": pid,
                "role": role,
                "household_id": household,
                "confidence": 1.0,
            }
        )
        if household:
            homes.append(
                {"household_id": household, "person_id": pid, "current": True, "sources": ["housing"]}
            )
    rels = []
    for n, rel in enumerate(relationships):
        a, b, kind, *rest = rel
        start, end, incidents = ([*list(rest), None, None, 0])[:3]
        if kind in UNDIRECTED_RELATIONSHIPS and b < a:
            a, b = b, a
        rels.append(
            {
                "relationship_id": f"R{n:04d}",
                "person_id_from": a,
                "person_id_to": b,
                "relationship_type": kind,
                "directed": kind not in UNDIRECTED_RELATIONSHIPS,
                "start_date": start,
                "end_date": end,
                "basis": "stated",
                "confidence": 0.9,
                "sources": ["csc"],
                "evidence": [f"csc:{n}:0"],
                "incident_ids": [f"police_da:I{n}-{k}" for k in range(incidents or 0)],
            }
        )
    ivs = []
    for n, iv in enumerate(interventions):
        pid, kind, start, *rest = iv
        end, role = ([*list(rest), None, "subject"])[:2]
        ivs.append(
            {
                "intervention_id": f"I{n:04d}",
                "person_id": pid,
                "event_type": kind,
                "start_date": start,
                "end_date": end,
                "role": role,
                "incident_ids": [],
                "sensitivity": "standard",
                "agencies": ["csc"],
                "sources": ["csc"],
                "event_ids": [f"csc:{n}:0"],
            }
        )
    return {
        "persons": _frame("persons", persons),
        "relationships": _frame("relationships", rels),
        "families": _frame("families", members),
        "households": _frame("households", homes),
        "interventions": _frame("interventions", ivs),
    }


COMPLEX_ID = "F-TEST-COMPLEX"


def complex_family() -> dict[str, pd.DataFrame]:
    """Three generations with most of the notation: see the module docstring."""
    people = [
        # maternal grandparents: kinship carers of the subject
        ("GF1", "Robert", "Nolan", "M", D(1958, 2, 1), None, "grandparent", "H1"),
        ("GM1", "Susan", "Nolan", "F", D(1960, 9, 9), None, "carer", "H1"),
        # paternal grandparents (grandfather died), grandmother remarried
        ("GF2", "Peter", "O'Connor", "M", D(1955, 5, 5), D(2015, 3, 3), "grandparent", None),
        ("GM2", "Joan", "O'Connor-Smith", "F", D(1957, 4, 4), None, "grandparent", "H2"),
        ("SGF", "Clive", "Smith", "M", D(1954, 1, 1), None, "parent_partner", "H2"),
        # mother: three partners (unknown father, the father, current partner)
        ("MUM", "Chantelle", "Nolan", "F", D(1984, 6, 6), None, "parent", "H3"),
        ("DAD", "Liam", "O'Connor", "M", D(1982, 7, 7), None, "parent", "H4"),
        ("PTN", "Aaron", "Blake", "M", D(1986, 8, 8), None, "parent_partner", "H3"),
        # father's new wife; father's brother and his partner
        ("WIFE", "Zoë", "O'Connor", "F", D(1990, 10, 10), None, "parent_partner", "H4"),
        ("UNC", "Sean", "O'Connor", "M", D(1980, 1, 15), None, "parent", "H5"),
        ("AUN", "Priya", "Shah", "F", D(1981, 3, 20), None, "parent", "H5"),
        # children
        ("OLD", "Kayden", "Nolan", "M", D(2002, 12, 1), None, "child", None),
        ("SUB", "Maisie", "O'Connor", "F", D(2013, 5, 17), None, "child", "H1"),
        ("SIB", "Ellie-Mae", "O'Connor", "F", D(2010, 2, 2), None, "child", "H1"),
        ("DEC", "Baby", "O'Connor", "U", D(2016, 1, 1), D(2016, 2, 1), "child", None),
        ("HAL", "Noah", "Blake", "M", D(2021, 11, 11), None, "child", "H3"),
        ("NEWB", "Freya", "O'Connor", "F", D(2024, 4, 4), None, "child", "H4"),
        ("COU1", "Arjun", "O'Connor", "M", D(2011, 9, 1), None, "child", "H5"),
        ("ADO", "Jayden", "O'Connor", "M", D(2015, 6, 30), None, "child", "H5"),
        ("FOS", "Tia", "Marsh", "F", D(2012, 3, 3), None, "child", "H1"),
    ]
    rels = [
        ("GF1", "MUM", "father"),
        ("GM1", "MUM", "mother"),
        ("GF1", "GM1", "spouse", D(1980, 5, 1)),
        ("GF2", "DAD", "father"),
        ("GM2", "DAD", "mother"),
        ("GF2", "UNC", "father"),
        ("GM2", "UNC", "mother"),
        ("GF2", "GM2", "spouse", D(1978, 1, 1)),
        ("GM2", "SGF", "spouse", D(2018, 6, 1)),
        ("MUM", "OLD", "mother"),
        ("MUM", "DAD", "spouse", D(2008, 8, 8), D(2017, 1, 1)),
        ("MUM", "DAD", "ex_partner"),
        ("MUM", "SUB", "mother"),
        ("DAD", "SUB", "father"),
        ("MUM", "SIB", "mother"),
        ("DAD", "SIB", "father"),
        ("MUM", "DEC", "mother"),
        ("DAD", "DEC", "father"),
        ("MUM", "PTN", "partner", D(2019, 2, 1)),
        ("MUM", "HAL", "mother"),
        ("PTN", "HAL", "father"),
        ("DAD", "WIFE", "spouse", D(2022, 9, 1)),
        ("DAD", "NEWB", "father"),
        ("WIFE", "NEWB", "mother"),
        ("UNC", "AUN", "partner", D(2009, 1, 1), D(2020, 1, 1)),
        ("UNC", "COU1", "father"),
        ("AUN", "COU1", "mother"),
        ("UNC", "ADO", "adoptive_parent"),
        ("AUN", "ADO", "adoptive_parent"),
        ("GM1", "FOS", "foster_carer"),
        ("GF1", "FOS", "foster_carer"),
        ("GM1", "SUB", "carer"),
        ("DAD", "MUM", "perpetrator_of_abuse_against", D(2015, 1, 1), D(2016, 12, 1), 4),
        ("PTN", "MUM", "perpetrator_of_abuse_against", D(2025, 5, 5), None, 1),
    ]
    ivs = [
        ("SUB", "child_protection_plan", D(2025, 1, 1)),
        ("SUB", "looked_after", D(2024, 5, 1)),
        ("SIB", "child_in_need", D(2024, 5, 1)),
        ("SIB", "early_help", D(2022, 5, 1), D(2023, 1, 1)),
        ("FOS", "looked_after", D(2023, 1, 1)),
        ("ADO", "ehcp", D(2020, 1, 1)),
        ("MUM", "domestic_abuse_incident", D(2025, 5, 5), None, "victim"),
        ("MUM", "marac", D(2025, 6, 1), None, "victim"),
        ("PTN", "domestic_abuse_incident", D(2025, 5, 5), None, "perpetrator"),
        ("DAD", "domestic_abuse_incident", D(2016, 12, 1), None, "perpetrator"),
        ("OLD", "youth_justice", D(2019, 1, 1), D(2020, 1, 1)),
        ("HAL", "health_visiting", D(2022, 1, 1)),
    ]
    return tables(COMPLEX_ID, people, rels, ivs)


def random_family(
    seed: int, *, size: int = 1, couples: int | None = None, in_law_parents: bool = True
) -> tuple[str, dict[str, pd.DataFrame]]:
    """A random family from ``seed``: founders, serial partners, children, twins, lone
    parents, adoptions, fostering, married-in partners (with parents of their own unless
    ``in_law_parents`` is false).

    No two people with a common ancestor become partners, so every couple can be put on one
    row. There are ``couples`` founder couples (by default one or two per ``size``).
    """
    rng = random.Random(seed)
    family_id = f"F-RAND-{seed}"
    people: list[tuple[Any, ...]] = []
    rels: list[tuple[Any, ...]] = []
    counter = iter(range(10**6))

    def person(born: dt.date, role: str, sex: str | None = None) -> str:
        pid = f"Q{next(counter):04d}"
        sex = sex or rng.choice("MF" * 6 + "U")
        dod = born + dt.timedelta(days=rng.randint(400, 20000)) if rng.random() < 0.08 else None
        if dod is not None and dod > AS_AT:
            dod = None
        household = rng.choice([None, "HA", "HB", "HC"])
        people.append(
            (
                pid,
                rng.choice(["Sam", "Alex", "Jo", "Chris"]),
                f"Fam{seed % 97}",
                sex,
                born,
                dod,
                role,
                household,
            )
        )
        return pid

    def couple(a: str, b: str, start: dt.date) -> None:
        kind = rng.choice(["spouse", "partner", "ex_partner"])
        rels.append((a, b, kind, start))

    # founders: one to three couples per size unit, born 1940-1960
    generation: list[tuple[str, str | None, dt.date]] = []
    for _ in range(couples if couples is not None else size * rng.randint(1, 2)):
        born = D(rng.randint(1940, 1960), rng.randint(1, 12), rng.randint(1, 28))
        a = person(born, "grandparent", "M")
        b = person(born + dt.timedelta(days=rng.randint(-900, 900)), "grandparent", "F")
        couple(a, b, born + dt.timedelta(days=365 * 22))
        generation.append((a, b, born))
    for depth in range(rng.randint(1, 3)):
        next_generation: list[tuple[str, str | None, dt.date]] = []
        for a, b, born in generation:
            first = born + dt.timedelta(days=365 * rng.randint(20, 30))
            n_kids = rng.randint(0, 3)
            kids = []
            day = first
            for _k in range(n_kids):
                day = day + dt.timedelta(days=rng.randint(300, 2000))
                if day > AS_AT:
                    break
                kid = person(day, "child" if depth > 0 else "parent")
                kids.append((kid, day))
                if rng.random() < 0.12 and day + dt.timedelta(days=1) < AS_AT:
                    twin = person(day, "child")
                    kids.append((twin, day))
            for kid, _day in kids:
                kind = "birth" if b is not None else "single"
                if rng.random() < 0.08:
                    kind = "adoptive"
                elif rng.random() < 0.06:
                    kind = "foster"
                if kind == "adoptive" and b is not None:
                    rels += [(a, kid, "adoptive_parent"), (b, kid, "adoptive_parent")]
                elif kind == "foster":
                    rels.append((a, kid, "foster_carer"))
                else:
                    rels.append((a, kid, "father" if _sex_of(people, a) == "M" else "parent"))
                    if b is not None:
                        rels.append((b, kid, "mother" if _sex_of(people, b) == "F" else "parent"))
            for kid, day in kids:
                if day.year > 2005:
                    continue
                # one or two serial partners, sometimes with parents of their own
                for _p in range(rng.choice([0, 1, 1, 1, 2])):
                    spouse_born = day + dt.timedelta(days=rng.randint(-1500, 1500))
                    spouse = person(spouse_born, "parent_partner")
                    couple(kid, spouse, day + dt.timedelta(days=365 * 20))
                    if in_law_parents and rng.random() < 0.3:
                        pb = spouse_born - dt.timedelta(days=365 * 25)
                        pf, pm = person(pb, "grandparent", "M"), person(pb, "grandparent", "F")
                        couple(pf, pm, pb + dt.timedelta(days=365 * 20))
                        rels += [(pf, spouse, "father"), (pm, spouse, "mother")]
                    next_generation.append((kid, spouse if rng.random() < 0.85 else None, day))
        generation = next_generation
        if not generation:
            break
    if rels and rng.random() < 0.5:
        a, b = rng.sample([p[0] for p in people], 2)
        rels.append((a, b, "perpetrator_of_abuse_against", D(2024, 1, 1), None, rng.randint(1, 4)))
    return family_id, tables(family_id, people, rels)


def _sex_of(people: list[tuple[Any, ...]], pid: str) -> str:
    return next(p[3] for p in people if p[0] == pid)


LARGE_ID = "F-TEST-LARGE"


def large_family(children_per_couple: int = 4) -> dict[str, pd.DataFrame]:
    """Two sides of a family, three generations, about forty people, all connected.

    Two grandparent couples each have ``children_per_couple`` children; every child has a
    partner and one to three children; the subject's parents are one child of each side.
    """
    rng = random.Random(7)
    given = ["Oliver", "Amelia", "Harry", "Isla", "Jack", "Ava", "Charlie", "Mia", "Thomas", "Grace"]
    mum, dad, home = "AK1", "BK2", "HS"
    people: list[tuple[Any, ...]] = []
    rels: list[tuple[Any, ...]] = [(mum, dad, "partner", D(2008, 1, 1))]

    def add(pid: str, family: str, sex: str, born: dt.date, role: str) -> str:
        household = home if pid in (mum, dad) else None
        people.append((pid, rng.choice(given), family, sex, born, None, role, household))
        return pid

    for side, family in (("A", "Whitfield"), ("B", "Okonkwo-Barnes")):
        gf = add(f"{side}GF", family, "M", D(1950 + rng.randint(0, 5), 3, 1), "grandparent")
        gm = add(f"{side}GM", family, "F", D(1952 + rng.randint(0, 5), 6, 1), "grandparent")
        rels.append((gf, gm, "spouse", D(1972, 1, 1)))
        for k in range(children_per_couple):
            sex = "MF"[(k + (side == "B")) % 2]
            kid = add(f"{side}K{k}", family, sex, D(1975 + 3 * k, 1 + k, 10), "parent")
            rels += [(gf, kid, "father"), (gm, kid, "mother")]
            if kid in (mum, dad):
                continue
            partner = add(f"{kid}P", "Partner", "F" if sex == "M" else "M", D(1978, 2, 2), "parent_partner")
            rels.append((kid, partner, rng.choice(["spouse", "partner", "ex_partner"]), D(2005, 1, 1)))
            mother, father = (partner, kid) if sex == "M" else (kid, partner)
            for c in range(rng.randint(1, 3)):
                child = add(f"{kid}C{c}", "Cousin", rng.choice("MF"), D(2006 + 2 * c, 8, 8), "child")
                rels += [(mother, child, "mother"), (father, child, "father")]
    ivs = []
    for k, kind in enumerate(["child_protection_plan", "child_in_need", "early_help"]):
        kid = add(f"S{k}", "Okonkwo-Barnes", "FMF"[k], D(2009 + 3 * k, 5, 5), "child")
        people[-1] = (*people[-1][:7], home)
        rels += [(mum, kid, "mother"), (dad, kid, "father")]
        ivs.append((kid, kind, D(2025, 1, 1)))
    rels.append((dad, mum, "perpetrator_of_abuse_against", D(2024, 2, 2), None, 2))
    return tables(LARGE_ID, people, rels, ivs)


MUTUAL_ID = "F-MUTUAL"


def mutual_abuse_family() -> dict[str, pd.DataFrame]:
    """Parents each recorded as suspect against the other: three incidents against the mother,
    one against the father."""
    people = [
        ("MUM", "Dana", "Reid", "F", D(1990, 3, 3), None, "parent", "H1"),
        ("DAD", "Owen", "Reid", "M", D(1988, 4, 4), None, "parent", "H1"),
        ("KID", "Ava", "Reid", "F", D(2018, 5, 5), None, "child", "H1"),
    ]
    rels = [
        ("MUM", "KID", "mother"),
        ("DAD", "KID", "father"),
        ("MUM", "DAD", "partner", D(2015, 1, 1)),
        ("DAD", "MUM", "perpetrator_of_abuse_against", D(2022, 1, 1), None, 3),
        ("MUM", "DAD", "perpetrator_of_abuse_against", D(2023, 1, 1), None, 1),
    ]
    ivs = [
        ("KID", "child_in_need", D(2023, 2, 1)),
        ("MUM", "domestic_abuse_incident", D(2023, 1, 1), None, "victim"),
        ("DAD", "domestic_abuse_incident", D(2023, 1, 1), None, "victim"),
    ]
    return tables(MUTUAL_ID, people, rels, ivs)
