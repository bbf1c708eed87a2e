"""The population model: families over three to four generations in one borough.

Everything here is pure: a seed in, DataFrames out. People are generated a generation at a
time as numpy arrays; only the household/address bookkeeping walks people one by one.
Dates are held as ``int`` days since 1970-01-01 while generating.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kinlink.synth import _names as nm
from kinlink.synth import _noise as nz

YEAR = 365.25
EPOCH = dt.date(1970, 1, 1)
DEFAULT_AS_AT = dt.date(2026, 10, 31)
#: Agency events are generated from this date to the "as at" date.
WINDOW_START = dt.date(2016, 4, 1)


def day(d: dt.date) -> int:
    """A date as days since 1970-01-01."""
    return (d - EPOCH).days


MISSING = -(10**9)  # "no date" sentinel in int day arrays


@dataclass
class Population:
    """A synthetic borough: people, their relationships, homes and agency events.

    Every table is a pandas DataFrame keyed by ``person_id`` (``P000123``) and, where it
    applies, ``family_id`` (``F00042``), ``household_id`` (``H000042``) and ``address_id``.
    ``events`` holds one table per kind of agency involvement (``csc``, ``police_da``,
    ``school``, ``health``, ``housing``, ``yot``, ``mappa``); the extracts are drawn from
    them by :func:`kinlink.synth.write_extracts`.
    """

    persons: pd.DataFrame
    name_history: pd.DataFrame
    partnerships: pd.DataFrame
    parent_child: pd.DataFrame
    households: pd.DataFrame
    addresses: pd.DataFrame
    residences: pd.DataFrame
    families: pd.DataFrame
    relationships: pd.DataFrame
    events: dict[str, pd.DataFrame] = field(default_factory=dict)
    as_at: dt.date = DEFAULT_AS_AT
    #: generator state the extract writer draws on (person numbers, int days); private
    _internal: dict = field(default_factory=dict, repr=False, compare=False)


# --------------------------------------------------------------------------- people


class _People:
    """Growable column arrays of people (one row per person, index = person number)."""

    COLS = (
        "sex",
        "dob",
        "dod",
        "group",
        "generation",
        "mother",
        "father",
        "given",
        "middle",
        "birth_surname",
        "twin_set",
        "birth_partnership",
    )

    def __init__(self) -> None:
        self.cols: dict[str, np.ndarray] = {
            "sex": np.empty(0, dtype=object),
            "dob": np.empty(0, dtype=np.int64),
            "dod": np.empty(0, dtype=np.int64),
            "group": np.empty(0, dtype=np.int64),
            "generation": np.empty(0, dtype=np.int64),
            "mother": np.empty(0, dtype=np.int64),
            "father": np.empty(0, dtype=np.int64),
            "given": np.empty(0, dtype=object),
            "middle": np.empty(0, dtype=object),
            "birth_surname": np.empty(0, dtype=object),
            "twin_set": np.empty(0, dtype=np.int64),
            "birth_partnership": np.empty(0, dtype=np.int64),
        }

    def __len__(self) -> int:
        return len(self.cols["dob"])

    def __getitem__(self, key: str) -> np.ndarray:
        return self.cols[key]

    def add(self, **values: np.ndarray) -> np.ndarray:
        n = len(values["dob"])
        start = len(self)
        defaults = {
            "dod": np.full(n, MISSING, dtype=np.int64),
            "mother": np.full(n, -1, dtype=np.int64),
            "father": np.full(n, -1, dtype=np.int64),
            "middle": np.full(n, None, dtype=object),
            "twin_set": np.full(n, -1, dtype=np.int64),
            "birth_partnership": np.full(n, -1, dtype=np.int64),
        }
        for key in self.COLS:
            v = values.get(key, defaults.get(key))
            if v is None:
                raise KeyError(key)
            self.cols[key] = np.concatenate([self.cols[key], np.asarray(v, dtype=self.cols[key].dtype)])
        return np.arange(start, start + n)


def _names_for(rng: np.random.Generator, sex: np.ndarray, group: np.ndarray, dob: np.ndarray):
    year = 1970 + dob // 365.25
    era = nm.era_of(year)
    given = nm.sample_given(rng, sex, group, era)
    has_middle = rng.random(len(sex)) < nm.MIDDLE_NAME_RATE[group]
    middle = nm.sample_given(rng, sex, group, era)
    same = middle == given
    middle[same] = None
    middle[~has_middle] = None
    return given, middle


def _new_adults(
    rng: np.random.Generator,
    people: _People,
    sex: np.ndarray,
    dob: np.ndarray,
    group: np.ndarray,
    generation: int,
) -> np.ndarray:
    """Add people with no parents in the borough (incomers, the eldest generation)."""
    given, middle = _names_for(rng, sex, group, dob)
    surname = nm.gendered(nm.sample_surname(rng, group), sex)
    return people.add(
        sex=sex,
        dob=dob,
        group=group,
        generation=np.full(len(dob), generation),
        given=given,
        middle=middle,
        birth_surname=surname,
    )


def _draw_groups(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(len(nm.GROUPS), size=n, p=nm.GROUP_SHARES / nm.GROUP_SHARES.sum())


def _years(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    return (rng.uniform(lo, hi, n) * YEAR).astype(np.int64)


# --------------------------------------------------------------------------- partnerships


class _Partnerships:
    def __init__(self) -> None:
        self.rows: dict[str, list[np.ndarray]] = {
            k: [] for k in ("a", "b", "kind", "start", "end", "end_reason", "order")
        }

    def add(self, a, b, kind, start, end, end_reason, order) -> np.ndarray:
        n0 = len(self)
        for k, v in zip(
            ("a", "b", "kind", "start", "end", "end_reason", "order"),
            (a, b, kind, start, end, end_reason, order),
            strict=True,
        ):
            self.rows[k].append(np.asarray(v))
        return np.arange(n0, n0 + len(a))

    def __len__(self) -> int:
        return sum(len(x) for x in self.rows["a"])

    def col(self, k: str) -> np.ndarray:
        return np.concatenate(self.rows[k]) if self.rows[k] else np.empty(0)


def _end_partnerships(
    rng: np.random.Generator, start: np.ndarray, kind: np.ndarray, as_at: int, p_end: float
) -> tuple[np.ndarray, np.ndarray]:
    n = len(start)
    ends = rng.random(n) < np.where(kind == "married", p_end * 0.7, p_end * 1.25)
    end = start + _years(rng, 0.8, 16, n)
    ends &= end < as_at - 30
    reason = np.where(kind == "married", "divorced", "separated").astype(object)
    return np.where(ends, end, MISSING), nz.keep(ends, reason)


def _pair_by_age(rng: np.random.Generator, women: np.ndarray, men: np.ndarray, people: _People):
    """Pair women with men of similar age; returns (women, men) of equal length."""
    k = min(len(women), len(men))
    if k == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    women = rng.permutation(women)[:k]
    men = rng.permutation(men)[:k]
    wkey = people["dob"][women] + rng.normal(0, 900, k)
    mkey = people["dob"][men] - 900 + rng.normal(0, 900, k)
    return women[np.argsort(wkey)], men[np.argsort(mkey)]


# --------------------------------------------------------------------------- births


def _births(
    rng: np.random.Generator,
    people: _People,
    part_ids: np.ndarray,
    mother: np.ndarray,
    father: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    n_children: np.ndarray,
    surname_from: np.ndarray,
    generation: int,
    group: np.ndarray,
    as_at: int,
) -> np.ndarray:
    """Children of partnerships: spaced births, twins, names; returns their indices."""
    total = int(n_children.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    rep = np.repeat(np.arange(len(mother)), n_children)
    first = np.cumsum(n_children) - n_children
    order = np.arange(total) - np.repeat(first, n_children)
    gaps = np.where(order == 0, rng.uniform(0.2, 2.5, total), rng.uniform(1.1, 4.5, total)) * YEAR
    cs = np.cumsum(gaps)
    before = np.concatenate([[0.0], cs])[first]
    dob = (start[rep] + cs - np.repeat(before, n_children)).astype(np.int64)
    mdob = people["dob"][mother[rep]]
    fdob = np.where(father[rep] >= 0, people["dob"][np.maximum(father[rep], 0)], MISSING)
    keep = (dob <= stop[rep]) & (dob <= mdob + int(45 * YEAR)) & (dob >= mdob + int(15.5 * YEAR))
    keep &= dob >= fdob + int(16 * YEAR)
    keep &= dob <= as_at + 200
    rep, dob = rep[keep], dob[keep]
    # unborn: at most the first future birth of a mother, due within ~6 months
    future = dob > as_at
    dup_future = future & np.concatenate([[False], (rep[1:] == rep[:-1]) & future[:-1]])
    rep, dob = rep[~dup_future], dob[~dup_future]
    # twins: the same day, the same parents, another first name
    twin = rng.random(len(dob)) < 0.018
    twin_src = np.flatnonzero(twin)
    rep = np.concatenate([rep, rep[twin_src]])
    dob = np.concatenate([dob, dob[twin_src]])
    twin_set = np.full(len(dob), -1, dtype=np.int64)
    base = len(people)
    twin_set[twin_src] = base + twin_src  # set id = index of the first twin
    twin_set[len(dob) - len(twin_src) :] = base + twin_src
    order2 = np.lexsort((np.arange(len(dob)), dob, rep))
    rep, dob, twin_set = rep[order2], dob[order2], twin_set[order2]
    # re-key twin sets by the new position of the first twin
    n = len(dob)
    sex = np.where(rng.random(n) < 0.512, "M", "F").astype(object)
    grp = group[rep]
    given, middle = _names_for(rng, sex, grp, dob)
    # twins never share a first name
    for ts in np.unique(twin_set[twin_set >= 0]):
        members = np.flatnonzero(twin_set == ts)
        while len({given[i] for i in members}) < len(members):
            given[members[-1]] = nm.sample_given(rng, sex[members[-1:]], grp[members[-1:]], np.array([2]))[0]
    surname = nm.gendered(nm.base_form(surname_from[rep]), sex)
    idx = people.add(
        sex=sex,
        dob=dob,
        group=grp,
        generation=np.full(n, generation),
        mother=mother[rep],
        father=father[rep],
        given=given,
        middle=middle,
        birth_surname=surname,
        twin_set=twin_set,
        birth_partnership=part_ids[rep],
    )
    # twin_set as the person index of the first-born twin of the set
    ts = people["twin_set"]
    sets = ts[idx]
    for s in np.unique(sets[sets >= 0]):
        members = idx[sets == s]
        ts[members] = members.min()
    return idx


# --------------------------------------------------------------------------- the model


@dataclass
class _World:
    rng: np.random.Generator
    as_at: int
    people: _People = field(default_factory=_People)
    parts: _Partnerships = field(default_factory=_Partnerships)
    name_events: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)


def _partner_up(
    w: _World,
    candidates: np.ndarray,
    age_lo: float,
    age_hi: float,
    p_partner: float,
    p_inpop: float,
    generation: int,
    married_rate: float,
    p_end: float,
) -> np.ndarray:
    """First partnerships for ``candidates`` (indices); returns partnership ids."""
    rng, people = w.rng, w.people
    dob = people["dob"][candidates]
    start = dob + _years(rng, age_lo, age_hi, len(candidates))
    ok = (rng.random(len(candidates)) < p_partner) & (start < w.as_at - 60)
    ok &= people["dod"][candidates] == MISSING
    cand, start = candidates[ok], start[ok]
    inpop = rng.random(len(cand)) < p_inpop
    women = cand[inpop & (people["sex"][cand] == "F")]
    men = cand[inpop & (people["sex"][cand] == "M")]
    pw, pm = _pair_by_age(rng, women, men, people)
    # never pair full or half siblings
    sib = ((people["mother"][pw] >= 0) & (people["mother"][pw] == people["mother"][pm])) | (
        (people["father"][pw] >= 0) & (people["father"][pw] == people["father"][pm])
    )
    pw, pm = pw[~sib], pm[~sib]
    paired = np.zeros(len(people), dtype=bool)
    paired[pw] = paired[pm] = True
    start_of = np.full(len(people), MISSING, dtype=np.int64)
    start_of[cand] = start
    s_pair = np.maximum(start_of[pw], start_of[pm])
    # the rest partner an incomer
    rest = cand[~paired[cand]]
    rsex = people["sex"][rest]
    isex = np.where(rsex == "F", "M", "F").astype(object)
    shift = np.where(rsex == "F", 1, -1) * rng.normal(900, 1000, len(rest))
    idob = (people["dob"][rest] + shift).astype(np.int64)
    igroup = np.where(rng.random(len(rest)) < 0.85, people["group"][rest], _draw_groups(rng, len(rest)))
    inc = _new_adults(rng, people, isex, idob, igroup, generation)
    a = np.concatenate([pw, np.where(rsex == "F", rest, inc)])
    b = np.concatenate([pm, np.where(rsex == "F", inc, rest)])
    st = np.concatenate([s_pair, start_of[rest]])
    st = np.maximum(st, np.maximum(people["dob"][a], people["dob"][b]) + int(16 * YEAR))
    keep = st < w.as_at - 30
    a, b, st = a[keep], b[keep], st[keep]
    kind = np.where(rng.random(len(a)) < married_rate, "married", "cohabiting").astype(object)
    end, reason = _end_partnerships(rng, st, kind, w.as_at, p_end)
    return w.parts.add(a, b, kind, st, end, reason, np.ones(len(a), dtype=np.int64))


def _repartner(w: _World, part_ids: np.ndarray, generation: int) -> np.ndarray:
    """Second partnerships after a separation: with each other, or with an incomer."""
    rng, people = w.rng, w.people
    a = w.parts.col("a")[part_ids]
    b = w.parts.col("b")[part_ids]
    end = w.parts.col("end")[part_ids]
    ended = end > MISSING
    persons = np.concatenate([a[ended], b[ended]])
    ends = np.concatenate([end[ended], end[ended]])
    exes = np.concatenate([b[ended], a[ended]])
    alive = people["dod"][persons] == MISSING
    young = ends - people["dob"][persons] < 55 * YEAR
    go = (rng.random(len(persons)) < 0.6) & alive & young & (persons >= 0)
    persons, ends, exes = persons[go], ends[go], exes[go]
    start = ends + _years(rng, 0.3, 4.0, len(persons))
    ok = start < w.as_at - 30
    persons, start, exes = persons[ok], start[ok], exes[ok]
    ex_of = dict(zip(persons.tolist(), exes.tolist(), strict=True))
    start_of = dict(zip(persons.tolist(), start.tolist(), strict=True))
    # a third of them find each other (blended families: step-siblings)
    pool = persons[rng.random(len(persons)) < 0.35]
    pw, pm = _pair_by_age(rng, pool[people["sex"][pool] == "F"], pool[people["sex"][pool] == "M"], people)
    good = np.array([ex_of[int(x)] != int(y) for x, y in zip(pw, pm, strict=True)], dtype=bool)
    pw, pm = pw[good] if len(pw) else pw, pm[good] if len(pm) else pm
    paired = set(pw.tolist()) | set(pm.tolist())
    rest = np.array([p for p in persons.tolist() if p not in paired], dtype=np.int64)
    rsex = people["sex"][rest]
    isex = np.where(rsex == "F", "M", "F").astype(object)
    shift = np.where(rsex == "F", 1, -1) * rng.normal(1200, 1500, len(rest))
    idob = (people["dob"][rest] + shift).astype(np.int64)
    inc = _new_adults(rng, people, isex, idob, people["group"][rest], generation)
    aa = np.concatenate([pw, np.where(rsex == "F", rest, inc)])
    bb = np.concatenate([pm, np.where(rsex == "F", inc, rest)])
    st = np.array(
        [
            max(start_of.get(x, MISSING), start_of.get(y, MISSING))
            for x, y in zip(aa.tolist(), bb.tolist(), strict=True)
        ],
        dtype=np.int64,
    )
    st = np.maximum(st, np.maximum(people["dob"][aa], people["dob"][bb]) + int(17 * YEAR))
    keep = st < w.as_at - 30
    aa, bb, st = aa[keep], bb[keep], st[keep]
    kind = np.where(rng.random(len(aa)) < 0.3, "married", "cohabiting").astype(object)
    end, reason = _end_partnerships(rng, st, kind, w.as_at, 0.25)
    return w.parts.add(aa, bb, kind, st, end, reason, np.full(len(aa), 2, dtype=np.int64))


def _children_of(w: _World, part_ids: np.ndarray, probs: list[float], generation: int) -> np.ndarray:
    rng, people, parts = w.rng, w.people, w.parts
    a = parts.col("a")[part_ids].astype(np.int64)
    b = parts.col("b")[part_ids].astype(np.int64)
    start = parts.col("start")[part_ids].astype(np.int64)
    end = parts.col("end")[part_ids].astype(np.int64)
    kind = parts.col("kind")[part_ids]
    stop = np.where(end > MISSING, end, w.as_at + 400)
    n = rng.choice(len(probs), size=len(part_ids), p=np.asarray(probs) / sum(probs))
    # a child takes the father's name if the parents are married, usually if not
    fathers_name = (kind == "married") | (rng.random(len(a)) < 0.65)
    mothers_current = people["birth_surname"][a]
    surname = np.where(fathers_name & (b >= 0), people["birth_surname"][np.maximum(b, 0)], mothers_current)
    return _births(
        rng,
        people,
        part_ids,
        a,
        b,
        start,
        stop,
        n,
        surname,
        generation,
        people["group"][np.where(rng.random(len(a)) < 0.5, a, np.where(b >= 0, b, a))],
        w.as_at,
    )


def _deaths(w: _World, idx: np.ndarray, hazard_age: float, scale: float, cap: float) -> None:
    rng, people = w.rng, w.people
    age = (w.as_at - people["dob"][idx]) / YEAR
    male = people["sex"][idx] == "M"
    p = np.clip((age - hazard_age) / scale, 0, cap) * np.where(male, 1.25, 1.0)
    dies = rng.random(len(idx)) < p
    lo = np.maximum(people["dob"][idx] + int((hazard_age - 5) * YEAR), day(dt.date(1998, 1, 1)))
    when = lo + (rng.random(len(idx)) * np.maximum(w.as_at - 20 - lo, 1)).astype(np.int64)
    dod = people["dod"]
    dod[idx[dies]] = when[dies]


def build_people(rng: np.random.Generator, n_people: int, as_at: int) -> _World:
    """Generate the people and partnerships (no homes or events yet)."""
    w = _World(rng=rng, as_at=as_at)
    people = w.people
    n0 = max(4, round(n_people / 10.3))
    # generation 0: the grandparents, as couples
    grp = _draw_groups(rng, n0)
    wdob = day(dt.date(1938, 1, 1)) + (rng.random(n0) * (33 * YEAR)).astype(np.int64)
    mdob = wdob + rng.normal(900, 1100, n0).astype(np.int64)
    mgrp = np.where(rng.random(n0) < 0.92, grp, _draw_groups(rng, n0))
    women = _new_adults(rng, people, np.full(n0, "F", dtype=object), wdob, grp, 0)
    men = _new_adults(rng, people, np.full(n0, "M", dtype=object), mdob, mgrp, 0)
    start = np.maximum(wdob + _years(rng, 19, 30, n0), mdob + int(18 * YEAR))
    kind = np.where(rng.random(n0) < 0.85, "married", "cohabiting").astype(object)
    end, reason = _end_partnerships(rng, start, kind, as_at, 0.2)
    g0 = w.parts.add(women, men, kind, start, end, reason, np.ones(n0, dtype=np.int64))
    g1 = _children_of(w, g0, [0, 0.22, 0.38, 0.24, 0.11, 0.05], 1)
    _deaths(w, np.concatenate([women, men]), 62, 40, 0.85)
    _deaths(w, g1, 45, 400, 0.05)
    # generation 1: the parents
    p1 = _partner_up(w, g1, 17, 33, 0.9, 0.4, 1, 0.45, 0.42)
    r1 = _repartner(w, p1, 1)
    g2a = _children_of(w, p1, [0.1, 0.22, 0.32, 0.2, 0.09, 0.05, 0.02], 2)
    g2b = _children_of(w, r1, [0.3, 0.37, 0.22, 0.08, 0.03], 2)
    g2 = np.concatenate([g2a, g2b])
    # generation 2 as young adults: some become parents (great-grandparents in gen 0)
    adults2 = g2[people["dob"][g2] < as_at - int(17 * YEAR)]
    p2 = _partner_up(w, adults2, 16, 30, 0.55, 0.25, 2, 0.2, 0.55)
    r2 = _repartner(w, p2, 2)
    _children_of(w, p2, [0.3, 0.4, 0.2, 0.08, 0.02], 3)
    _children_of(w, r2, [0.5, 0.35, 0.15], 3)
    _name_after_father(w)
    return w


def _name_after_father(w: _World) -> None:
    """A few first sons carry their father's given name (and so his whole name)."""
    people, rng = w.people, w.rng
    father = people["father"]
    son = (father >= 0) & (people["sex"] == "M") & (people["group"] == 0)
    idx = np.flatnonzero(son)
    if not len(idx):
        return
    # first son of each father only
    _, first = np.unique(father[idx], return_index=True)
    idx = idx[first]
    # only where the son carries his father's family name (else he is not his namesake)
    idx = idx[people["birth_surname"][idx] == people["birth_surname"][father[idx]]]
    idx = idx[people["dob"][idx] <= w.as_at]
    if not len(idx):
        return
    pick = idx[rng.random(len(idx)) < 0.015]
    if not len(pick):
        pick = idx[:1]  # always at least one namesake
    people["given"][pick] = people["given"][father[pick]]
    people["middle"][pick] = people["middle"][father[pick]]


# --------------------------------------------------------------------------- finishing


def _name_history(w: _World) -> pd.DataFrame:
    """Family-name spells: birth name, marriage (wife takes husband's name), divorce."""
    rng, people, parts = w.rng, w.people, w.parts
    a = parts.col("a").astype(np.int64)
    b = parts.col("b").astype(np.int64)
    start = parts.col("start").astype(np.int64)
    end = parts.col("end").astype(np.int64)
    kind = parts.col("kind")
    reason = parts.col("end_reason")
    married = (kind == "married") & (b >= 0)
    takes = married & (rng.random(len(a)) < nm.TAKES_HUSBANDS_NAME[people["group"][a]])
    takes &= people["birth_surname"][np.maximum(b, 0)] != people["birth_surname"][a]
    husband = nm.gendered(people["birth_surname"][b[takes]], np.full(int(takes.sum()), "F", dtype=object))
    ev_p = [a[takes]]
    ev_name = [husband]
    ev_day = [start[takes]]
    ev_why = [np.full(int(takes.sum()), "marriage", dtype=object)]
    reverts = takes & (reason == "divorced") & (rng.random(len(a)) < 0.45)
    ev_p.append(a[reverts])
    ev_name.append(people["birth_surname"][a[reverts]])
    ev_day.append(end[reverts] + _years(rng, 0, 1.5, int(reverts.sum())))
    ev_why.append(np.full(int(reverts.sum()), "divorce", dtype=object))
    n = len(people)
    births = pd.DataFrame(
        {
            "person": np.arange(n),
            "family_name": people["birth_surname"],
            "start": people["dob"],
            "reason": "birth",
        }
    )
    changes = pd.DataFrame(
        {
            "person": np.concatenate(ev_p),
            "family_name": np.concatenate(ev_name),
            "start": np.concatenate(ev_day),
            "reason": np.concatenate(ev_why),
        }
    )
    changes = changes[changes["start"] <= w.as_at]
    hist = pd.concat([births, changes], ignore_index=True)
    hist = hist.sort_values(["person", "start"], kind="stable").reset_index(drop=True)
    nxt = hist.groupby("person")["start"].shift(-1)
    hist["end"] = nxt.fillna(MISSING).astype(np.int64)
    return hist


def pid(idx: np.ndarray) -> np.ndarray:
    """Person ids ``P000123``."""
    arr = np.asarray(idx, dtype=np.int64)
    if arr.size == 0:
        return np.empty(0, dtype=object)
    return np.char.add("P", np.char.zfill(arr.astype(str), 6)).astype(object)


def _families(people: _People, parts: _Partnerships, as_at: int, custodial: np.ndarray):
    """Families around children: sibships (incl. half-siblings) of the young generation."""
    n = len(people)
    mother, father = people["mother"], people["father"]
    young = (mother >= 0) & (people["dob"] >= day(WINDOW_START) - int(18 * YEAR))
    kids = np.flatnonzero(young)
    # union-find over shared parents
    parent_of = np.arange(n)

    def find(x: int) -> int:
        while parent_of[x] != x:
            parent_of[x] = parent_of[parent_of[x]]
            x = parent_of[x]
        return x

    first_child_of: dict[int, int] = {}
    for k in kids.tolist():
        for par in (int(mother[k]), int(father[k])):
            if par < 0:
                continue
            j = first_child_of.setdefault(par, k)
            rk, rj = find(k), find(j)
            if rk != rj:
                parent_of[max(rk, rj)] = min(rk, rj)
    roots = np.array([find(k) for k in kids.tolist()], dtype=np.int64)
    uniq, fam = np.unique(roots, return_inverse=True)
    rows: list[tuple[int, int, str]] = [(int(f), int(k), "child") for f, k in zip(fam, kids, strict=True)]
    fam_parents: dict[int, set[int]] = {}
    for f, k in zip(fam.tolist(), kids.tolist(), strict=True):
        for par in (int(mother[k]), int(father[k])):
            if par >= 0:
                fam_parents.setdefault(f, set()).add(par)
    pa = parts.col("a").astype(np.int64)
    pb = parts.col("b").astype(np.int64)
    partners_of: dict[int, set[int]] = {}
    for x, y in zip(pa.tolist(), pb.tolist(), strict=True):
        if y >= 0:
            partners_of.setdefault(x, set()).add(y)
            partners_of.setdefault(y, set()).add(x)
    kid_set = set(kids.tolist())
    for f, pars in fam_parents.items():
        seen = set(pars)
        for par in sorted(pars):
            rows.append((f, par, "parent"))
        for par in sorted(pars):
            for q in sorted(partners_of.get(par, ())):
                if q not in seen and q not in kid_set:
                    seen.add(q)
                    rows.append((f, q, "parent_partner"))
        for par in sorted(pars):
            for g in (int(mother[par]), int(father[par])):
                if g >= 0 and g not in seen:
                    seen.add(g)
                    rows.append((f, g, "grandparent"))
    out = pd.DataFrame(rows, columns=["family", "person", "role"])
    # kids who are also parents stay "child" in their parents' family; drop exact repeats
    out = out.drop_duplicates(["family", "person"], keep="first")
    out = out.sort_values(["family", "person"], kind="stable").reset_index(drop=True)
    return out, len(uniq)


def _relationships(w: _World, residences: pd.DataFrame) -> pd.DataFrame:
    """True person-to-person relationships (typed as ``ingest.schema.RELATIONSHIP_TYPES``)."""
    people, parts = w.people, w.parts
    n = len(people)
    idx = np.arange(n)
    frames = []
    for col, kind_name in (("mother", "mother"), ("father", "father")):
        par = people[col]
        has = par >= 0
        frames.append(
            pd.DataFrame(
                {
                    "src": par[has],
                    "dst": idx[has],
                    "type": kind_name,
                    "start": people["dob"][has],
                    "end": MISSING,
                }
            )
        )
    pa = parts.col("a").astype(np.int64)
    pb = parts.col("b").astype(np.int64)
    ps = parts.col("start").astype(np.int64)
    pe = parts.col("end").astype(np.int64)
    kind = parts.col("kind")
    ok = pb >= 0
    frames.append(
        pd.DataFrame(
            {
                "src": pa[ok],
                "dst": pb[ok],
                "type": np.where(kind[ok] == "married", "spouse", "partner"),
                "start": ps[ok],
                "end": pe[ok],
            }
        )
    )
    ended = ok & (pe > MISSING)
    frames.append(
        pd.DataFrame(
            {
                "src": pa[ended],
                "dst": pb[ended],
                "type": "ex_partner",
                "start": pe[ended],
                "end": MISSING,
            }
        )
    )
    # siblings (full and half): every pair sharing a parent
    kids = pd.DataFrame({"child": idx, "m": people["mother"], "f": people["father"]})
    pairs = []
    for col in ("m", "f"):
        k = kids[kids[col] >= 0][["child", col]]
        pp = k.merge(k, on=col)
        pairs.append(pp[pp["child_x"] < pp["child_y"]][["child_x", "child_y"]])
    sib = pd.concat(pairs).drop_duplicates()
    frames.append(
        pd.DataFrame(
            {
                "src": sib["child_x"].to_numpy(),
                "dst": sib["child_y"].to_numpy(),
                "type": "sibling",
                "start": np.maximum(people["dob"][sib["child_x"]], people["dob"][sib["child_y"]]),
                "end": MISSING,
            }
        )
    )
    # grandparents
    for col in ("mother", "father"):
        par = people[col]
        for gcol in ("mother", "father"):
            has = par >= 0
            g = np.where(has, people[gcol][np.maximum(par, 0)], -1)
            ok2 = g >= 0
            frames.append(
                pd.DataFrame(
                    {
                        "src": g[ok2],
                        "dst": idx[ok2],
                        "type": "grandparent",
                        "start": people["dob"][ok2],
                        "end": MISSING,
                    }
                )
            )
    # step-parents: a parent's partner who lived with the child before the child was 18
    res = residences[["person", "household", "start", "end"]]
    cr = res.copy()
    cr["dob"] = people["dob"][cr["person"].to_numpy()]
    cr = cr[cr["start"] < cr["dob"] + int(18 * YEAR)]
    co = cr.merge(res, on="household", suffixes=("_c", "_a"))
    co = co[
        (co["person_c"] != co["person_a"]) & (co["start_c"] < co["end_a"]) & (co["start_a"] < co["end_c"])
    ]
    pc = co["person_c"].to_numpy()
    pa2 = co["person_a"].to_numpy()
    not_parent = (people["mother"][pc] != pa2) & (people["father"][pc] != pa2)
    adult = people["dob"][pa2] < people["dob"][pc] - int(16 * YEAR)
    pp = pd.DataFrame({"x": np.concatenate([pa, pb]), "y": np.concatenate([pb, pa])})
    pp = pp[(pp["x"] >= 0) & (pp["y"] >= 0)].drop_duplicates()
    key = pp["x"].to_numpy(dtype=np.int64) * (n + 1) + pp["y"].to_numpy(dtype=np.int64)
    m_key = pa2.astype(np.int64) * (n + 1) + people["mother"][pc]
    f_key = pa2.astype(np.int64) * (n + 1) + people["father"][pc]
    is_partner_of_parent = np.isin(m_key, key) | np.isin(f_key, key)
    sp = co[not_parent & adult & is_partner_of_parent]
    sp = sp.groupby(["person_a", "person_c"], as_index=False)["start_a"].min()
    frames.append(
        pd.DataFrame(
            {
                "src": sp["person_a"].to_numpy(),
                "dst": sp["person_c"].to_numpy(),
                "type": "step_parent",
                "start": sp["start_a"].to_numpy(),
                "end": MISSING,
            }
        )
    )
    rel = pd.concat(frames, ignore_index=True)
    return rel.drop_duplicates(["src", "dst", "type"]).reset_index(drop=True)
