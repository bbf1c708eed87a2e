"""Agency involvement drawn from the population: the "true" events behind each extract.

Each function returns one clean table with person numbers (``person``, ``parent``, ...) and
int-day dates; the extract builders turn them into agency rows with their own noise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kinlink.synth import _names as nm
from kinlink.synth import _noise as nz
from kinlink.synth._population import MISSING, YEAR, day

OPEN = 10**9


@dataclass
class Ctx:
    """What the event and extract builders need to know about the population."""

    rng: np.random.Generator
    as_at: int
    window_start: int
    people: pd.DataFrame  # index = person number
    parts: pd.DataFrame
    residences: pd.DataFrame  # person, household, address_id, start, end
    addresses: pd.DataFrame  # index = address_id
    names: pd.DataFrame  # person, family_name, start, end
    custodial: np.ndarray

    # ---------------------------------------------------------------- lookups at a date
    def _asof(self, table: pd.DataFrame, person: np.ndarray, t: np.ndarray, cols: list[str]):
        """For each (person, t): the row of ``table`` (person, start, end, cols) in force at t."""
        key = id(table)
        cache = self.__dict__.setdefault("_sorted", {})
        if key not in cache:
            cache[key] = table[["person", "start", "end", *cols]].sort_values("start", kind="stable")
        right = cache[key]
        left = pd.DataFrame(
            {
                "_row": np.arange(len(person)),
                "person": np.asarray(person, dtype=np.int64),
                "t": np.asarray(t, dtype=np.int64),
            }
        )
        left = left.sort_values("t", kind="stable")
        m = pd.merge_asof(left, right, left_on="t", right_on="start", by="person")
        return m.sort_values("_row", kind="stable")

    def address_at(self, person: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Address id and household number of each person at each day (-1: none)."""
        if len(person) == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        m = self._asof(self.residences, person, t, ["address_id", "household"])
        ok = (m["end"].to_numpy(dtype=float) > np.asarray(t, dtype=float)) & m["start"].notna().to_numpy()
        addr = np.where(ok, m["address_id"].fillna(-1).to_numpy(), -1).astype(np.int64)
        hh = np.where(ok, m["household"].fillna(-1).to_numpy(), -1).astype(np.int64)
        return addr, hh

    def surname_at(self, person: np.ndarray, t: np.ndarray) -> np.ndarray:
        m = self._asof(self.names, person, t, ["family_name"])
        fallback = self.people["birth_surname"].to_numpy()[person]
        fam = m["family_name"].to_numpy(dtype=object)
        return np.where(pd.isna(fam), fallback, fam)

    def members_at(self, household: np.ndarray, t: np.ndarray) -> pd.DataFrame:
        """Everyone in each household at each day: columns q (query row), person."""
        q = pd.DataFrame({"q": np.arange(len(household)), "household": household, "t": t})
        q = q[q["household"] >= 0]
        m = q.merge(self.residences[["person", "household", "start", "end"]], on="household")
        m = m[(m["start"] <= m["t"]) & (m["t"] < m["end"])]
        return m[["q", "person"]].drop_duplicates()

    def age(self, person: np.ndarray, t: np.ndarray) -> np.ndarray:
        return (np.asarray(t) - self.people["dob"].to_numpy()[person]) / YEAR


def _uniform_between(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return (lo + rng.random(len(lo)) * np.maximum(hi - lo, 0)).astype(np.int64)


# --------------------------------------------------------------------------- police DA


def domestic_abuse(ctx: Ctx) -> pd.DataFrame:
    """Incidents between current or former partners (and a few adult sons)."""
    rng, parts, people = ctx.rng, ctx.parts, ctx.people
    ok = parts["b"].to_numpy() >= 0
    p = parts[ok]
    ended = p["end"].to_numpy() > MISSING
    flag = rng.random(len(p)) < np.where(ended, 0.2, 0.08)
    p = p[flag]
    end = np.where(p["end"].to_numpy() > MISSING, p["end"].to_numpy() + int(1.5 * YEAR), ctx.as_at)
    lo = np.maximum(p["start"].to_numpy(), ctx.window_start)
    hi = np.minimum(end, ctx.as_at - 3)
    dod_a = people["dod"].to_numpy()[p["a"].to_numpy()]
    dod_b = people["dod"].to_numpy()[p["b"].to_numpy()]
    hi = np.where(dod_a > MISSING, np.minimum(hi, dod_a), hi)
    hi = np.where(dod_b > MISSING, np.minimum(hi, dod_b), hi)
    good = hi > lo + 10
    p, lo, hi = p[good], lo[good], hi[good]
    k = 1 + rng.poisson(1.3, len(p))
    rep = np.repeat(np.arange(len(p)), k)
    date = _uniform_between(rng, lo[rep], hi[rep])
    a = p["a"].to_numpy()[rep]
    b = p["b"].to_numpy()[rep]
    woman_victim = rng.random(len(rep)) < 0.85
    victim = np.where(woman_victim, a, b)
    perp = np.where(woman_victim, b, a)
    pend = p["end"].to_numpy()[rep]
    rel = np.where(
        (pend > MISSING) & (date >= pend),
        "Ex-partner",
        np.where(p["kind"].to_numpy()[rep] == "married", "Spouse", "Partner"),
    ).astype(object)
    inc = pd.DataFrame({"victim": victim, "perp": perp, "date": date, "relationship": rel})
    # a few adult sons against their mothers
    kids = people[(people["mother"] >= 0) & (people["sex"] == "M")]
    age_now = (ctx.as_at - kids["dob"].to_numpy()) / YEAR
    sons = kids[(age_now > 17) & (rng.random(len(kids)) < 0.006)]
    if len(sons):
        lo2 = np.maximum(sons["dob"].to_numpy() + int(16 * YEAR), ctx.window_start)
        d2 = _uniform_between(rng, lo2, np.full(len(sons), ctx.as_at - 3))
        inc = pd.concat(
            [
                inc,
                pd.DataFrame(
                    {
                        "victim": sons["mother"].to_numpy(),
                        "perp": sons.index.to_numpy(),
                        "date": d2,
                        "relationship": "Son",
                    }
                ),
            ],
            ignore_index=True,
        )
    alive = (people["dod"].to_numpy()[inc["victim"]] == MISSING) | (
        people["dod"].to_numpy()[inc["victim"]] > inc["date"].to_numpy()
    )
    inc = inc[alive & (inc["date"] >= ctx.window_start)]
    inc = inc.sort_values(["date", "victim"], kind="stable").reset_index(drop=True)
    n = len(inc)
    inc["risk"] = rng.choice(["Standard", "Medium", "High"], size=n, p=[0.55, 0.3, 0.15])
    inc["marac"] = (inc["risk"] == "High") & (rng.random(n) < 0.9)
    inc["marac_date"] = np.where(inc["marac"], inc["date"] + rng.integers(7, 40, n), MISSING)
    inc.loc[inc["marac_date"] > ctx.as_at, "marac"] = False
    inc["perp_known"] = rng.random(n) > 0.06
    addr, hh = ctx.address_at(inc["victim"].to_numpy(), inc["date"].to_numpy())
    inc["address_id"] = addr
    inc["household"] = hh
    # children present: under-18s of the victim's household that day
    mem = ctx.members_at(hh, inc["date"].to_numpy())
    age = ctx.age(mem["person"].to_numpy(), inc["date"].to_numpy()[mem["q"].to_numpy()])
    mem = mem[(age >= 0) & (age < 18)]
    mem = mem[rng.random(len(mem)) < 0.75]
    inc["children"] = [[] for _ in range(n)]
    for q, grp in mem.groupby("q")["person"]:
        inc.at[q, "children"] = sorted(grp.tolist())
    inc["incident"] = np.arange(n)
    return inc


# --------------------------------------------------------------------------- CSC


CP_CATEGORIES = ["NEG", "EMO", "PHY", "SXA", "MUL"]


def social_care(ctx: Ctx, da: pd.DataFrame) -> pd.DataFrame:
    """Episodes (contact, early help, CIN, s47, CP plan, CLA) for sibling groups."""
    rng, people = ctx.rng, ctx.people
    dob = people["dob"].to_numpy()
    kids = people[(people["custodial"] >= 0)]
    kids = kids[(kids["dob"] > ctx.window_start - int(18 * YEAR))]
    carers = np.unique(kids["custodial"].to_numpy())
    da_victims = set(da["victim"].tolist())
    risk = np.where(np.isin(carers, list(da_victims)), 0.55, 0.09)
    involved = carers[rng.random(len(carers)) < risk]
    n_ref = 1 + rng.poisson(0.35, len(involved))
    carer = np.repeat(involved, n_ref)
    first_da = da.groupby("victim")["date"].min()
    kid_dobs = kids.groupby("custodial")["dob"].agg(["min", "max"])
    lo = np.maximum(kid_dobs.loc[carer, "min"].to_numpy() - 150, ctx.window_start)
    hi = np.minimum(kid_dobs.loc[carer, "max"].to_numpy() + int(17 * YEAR), ctx.as_at - 5)
    date = _uniform_between(rng, lo, hi)
    after_da = first_da.reindex(carer).to_numpy()
    use_da = ~np.isnan(after_da) & (rng.random(len(carer)) < 0.7)
    date = np.where(use_da, np.nan_to_num(after_da).astype(np.int64) + rng.integers(3, 60, len(carer)), date)
    ok = (date < ctx.as_at - 5) & (hi > lo)
    carer, date = carer[ok], date[ok]
    refs = pd.DataFrame({"carer": carer, "date": date, "referral": np.arange(len(carer))})
    # children of the carer at the referral: born (under 18) or unborn due within 6 months
    ch = kids[["custodial", "dob"]].reset_index().rename(columns={"index": "person"})
    m = refs.merge(ch, left_on="carer", right_on="custodial")
    age = (m["date"] - m["dob"]) / YEAR
    m = m[(age < 18) & (age > -0.5)].copy()
    m["unborn"] = m["dob"] > m["date"]
    n = len(refs)
    outcome = rng.choice(["NFA", "EH", "CIN"], size=n, p=[0.35, 0.25, 0.4])
    s47 = (outcome == "CIN") & (rng.random(n) < 0.45)
    cpp = s47 & (rng.random(n) < 0.5)
    cla = cpp & (rng.random(n) < 0.22)
    cat = rng.choice(CP_CATEGORIES, size=n, p=[0.5, 0.35, 0.08, 0.04, 0.03])
    t0 = refs["date"].to_numpy()
    rows = []

    def add(mask: np.ndarray, kind: str, start: np.ndarray, dur_lo: int, dur_hi: int, extra=None):
        idx = np.flatnonzero(mask)
        s = start[idx]
        e = s + rng.integers(dur_lo, dur_hi, len(idx))
        rows.append(
            pd.DataFrame(
                {
                    "referral": idx,
                    "type": kind,
                    "start": s,
                    "end": e,
                    "category": extra[idx] if extra is not None else None,
                }
            )
        )
        return s, e

    add(np.ones(n, dtype=bool), "CONT", t0, 1, 12)
    add(outcome == "EH", "EH", t0 + rng.integers(5, 30, n), 90, 365)
    cin_start = t0 + rng.integers(10, 45, n)
    add(outcome == "CIN", "CIN", cin_start, 120, 700)
    s47_start = cin_start + rng.integers(1, 20, n)
    add(s47, "S47", s47_start, 10, 30)
    cpp_start = s47_start + rng.integers(25, 45, n)
    add(cpp, "CPP", cpp_start, 180, 720, extra=cat)
    legal = rng.choice(["C2", "V2", "L1", "J2"], size=n, p=[0.55, 0.3, 0.1, 0.05])
    add(cla, "CLA", cpp_start + rng.integers(60, 300, n), 100, 900, extra=legal)
    eps = pd.concat(rows, ignore_index=True)
    eps = eps[eps["start"] <= ctx.as_at - 1]
    eps.loc[eps["end"] > ctx.as_at, "end"] = MISSING
    out = eps.merge(m[["referral", "person", "unborn", "carer", "date"]], on="referral")
    # the unborn only get the contact and any plan before birth
    out = out[~out["unborn"] | (out["start"] < dob[out["person"].to_numpy()])]
    out = out.sort_values(["person", "start", "type"], kind="stable").reset_index(drop=True)
    workers = _worker_names(rng, 40)
    out["worker"] = workers[out["referral"].to_numpy() % len(workers)]
    return out


def _worker_names(rng: np.random.Generator, k: int) -> np.ndarray:
    sex = np.where(rng.random(k) < 0.8, "F", "M").astype(object)
    grp = rng.choice(len(nm.GROUPS), size=k, p=nm.GROUP_SHARES / nm.GROUP_SHARES.sum())
    given = nm.sample_given(rng, sex, grp, np.ones(k, dtype=np.int64))
    fam = nm.gendered(nm.sample_surname(rng, grp), sex)
    return np.array([f"{g} {f}" for g, f in zip(given, fam, strict=True)], dtype=object)


# --------------------------------------------------------------------------- school


def census_dates() -> list[tuple[str, int]]:
    """The census days of the extract: (term, day) for six terms."""
    return [
        ("Spring 2025", day(dt.date(2025, 1, 16))),
        ("Summer 2025", day(dt.date(2025, 5, 15))),
        ("Autumn 2025", day(dt.date(2025, 10, 2))),
        ("Spring 2026", day(dt.date(2026, 1, 15))),
        ("Summer 2026", day(dt.date(2026, 5, 21))),
        ("Autumn 2026", day(dt.date(2026, 10, 1))),
    ]


def school_census(ctx: Ctx, csc: pd.DataFrame) -> pd.DataFrame:
    """One row per pupil per census: school, year group, SEN/EHCP, suspensions, contact."""
    rng, people = ctx.rng, ctx.people
    dob = people["dob"].to_numpy()
    dates = census_dates()
    ts = np.array([d for _, d in dates])
    # academic age: age on 31 August before the census
    kids = people.index[(dob > ts.min() - int(17 * YEAR)) & (dob < ts.max() - int(4 * YEAR))].to_numpy()
    rows = []
    for term, t in dates:
        year = 1970 + (t - 242) / YEAR  # years since epoch shifted to Sep start
        acad_start_year = np.floor(year).astype(int)
        y31 = pd.Timestamp(f"{acad_start_year}-08-31")
        age31 = (int((y31 - pd.Timestamp("1970-01-01")).days) - dob[kids]) / YEAR
        nc = np.floor(age31).astype(int) - 4
        ok = (nc >= 0) & (nc <= 11)
        rows.append(pd.DataFrame({"person": kids[ok], "term": term, "t": t, "nc": nc[ok]}))
    cen = pd.concat(rows, ignore_index=True)
    alive = (people["dod"].to_numpy()[cen["person"]] == MISSING) | (
        people["dod"].to_numpy()[cen["person"]] > cen["t"].to_numpy()
    )
    cen = cen[alive].reset_index(drop=True)
    addr, hh = ctx.address_at(cen["person"].to_numpy(), cen["t"].to_numpy())
    cen["address_id"] = addr
    cen["household"] = hh
    cen = cen[cen["address_id"] >= 0].reset_index(drop=True)
    district = ctx.addresses["district"].to_numpy()[cen["address_id"].to_numpy()]
    codes = {d: i for i, d in enumerate(sorted(set(ctx.addresses["district"])))}
    di = np.array([codes[d] for d in district], dtype=np.int64)
    pick = (cen["person"].to_numpy() * 7) % 2
    cen["estab"] = np.where(cen["nc"].to_numpy() <= 6, 2001 + di * 2 + pick, 4001 + di // 2)
    # SEN / EHCP: a property of the pupil from a start date
    pupils = np.unique(cen["person"].to_numpy())
    ehcp = pupils[rng.random(len(pupils)) < 0.035]
    ehcp_start = pd.Series(
        _uniform_between(rng, dob[ehcp] + int(4 * YEAR), np.full(len(ehcp), ctx.as_at)),
        index=ehcp,
    )
    st = ehcp_start.reindex(cen["person"]).to_numpy()
    cen["ehcp_start"] = np.where(np.isnan(st), MISSING, st).astype(np.int64)
    cen["ehcp"] = (cen["ehcp_start"] > MISSING) & (cen["ehcp_start"] <= cen["t"])
    cen["sen"] = np.where(cen["ehcp"], "E", np.where(rng.random(len(cen)) < 0.13, "K", "N"))
    csc_kids = set(csc["person"].tolist())
    high = np.isin(cen["person"].to_numpy(), list(csc_kids))
    secondary = cen["nc"].to_numpy() >= 7
    p_ex = np.where(secondary, 0.03, 0.004) * np.where(high, 3.5, 1.0)
    ex = rng.random(len(cen)) < p_ex
    cen["exclusion"] = nz.keep(ex, np.where(rng.random(len(cen)) < 0.04, "PERM", "FIXED"))
    cen["exclusion_date"] = np.where(ex, cen["t"] - rng.integers(5, 80, len(cen)), MISSING)
    cen["exclusion_days"] = np.where(ex, rng.integers(1, 6, len(cen)), 0)
    # primary contact: mother, else father, else another adult at home
    mem = ctx.members_at(cen["household"].to_numpy(), cen["t"].to_numpy())
    kid = cen["person"].to_numpy()[mem["q"].to_numpy()]
    adult = ctx.age(mem["person"].to_numpy(), cen["t"].to_numpy()[mem["q"].to_numpy()]) >= 18
    mem = mem[adult & (mem["person"].to_numpy() != kid)].copy()
    k = cen["person"].to_numpy()[mem["q"].to_numpy()]
    pm = people["mother"].to_numpy()
    pf = people["father"].to_numpy()
    cp = mem["person"].to_numpy()
    is_mother = pm[k] == cp
    is_father = pf[k] == cp
    is_grand = (pm[np.maximum(pm[k], 0)] == cp) | (pf[np.maximum(pm[k], 0)] == cp)
    is_grand |= (pm[np.maximum(pf[k], 0)] == cp) | (pf[np.maximum(pf[k], 0)] == cp)
    sex = people["sex"].to_numpy()[cp]
    rel = np.select(
        [is_mother, is_father, is_grand],
        ["Mother", "Father", np.where(sex == "F", "Grandmother", "Grandfather")],
        default=np.where(sex == "F", "Step-mother", "Step-father"),
    )
    prio = (
        np.select([is_mother, is_father, is_grand], [0, 1, 2], default=3)
        + rng.random(len(cp)) * (rng.random(len(cp)) < 0.1) * 4
    )
    mem["rel"] = rel
    mem["prio"] = prio
    best = mem.sort_values(["q", "prio"], kind="stable").drop_duplicates("q")
    cen["contact"] = -1
    cen["contact_rel"] = None
    cen.loc[best["q"].to_numpy(), "contact"] = best["person"].to_numpy()
    cen.loc[best["q"].to_numpy(), "contact_rel"] = best["rel"].to_numpy()
    return cen


# --------------------------------------------------------------------------- health


HV_CONTACTS = [("NBV", 10, 15), ("6-8WK", 42, 57), ("1YR", 330, 395), ("2YR", 730, 800)]


def health_visiting(ctx: Ctx) -> pd.DataFrame:
    """Health visiting contacts for under-fives (and antenatal contacts for the unborn)."""
    rng, people = ctx.rng, ctx.people
    dob = people["dob"].to_numpy()
    kids = people.index[(dob > ctx.as_at - int(5 * YEAR)) & (people["mother"] >= 0)].to_numpy()
    rows = []
    for code, lo, hi in HV_CONTACTS:
        t = dob[kids] + rng.integers(lo, hi, len(kids))
        ok = (t <= ctx.as_at) & (dob[kids] <= ctx.as_at) & (rng.random(len(kids)) < 0.93)
        rows.append(pd.DataFrame({"person": kids[ok], "type": code, "date": t[ok]}))
    unborn = kids[dob[kids] > ctx.as_at]
    rows.append(
        pd.DataFrame(
            {
                "person": unborn,
                "type": "ANTE",
                "date": ctx.as_at - rng.integers(5, 60, len(unborn)),
            }
        )
    )
    hv = pd.concat(rows, ignore_index=True)
    hv = hv.sort_values(["date", "person"], kind="stable").reset_index(drop=True)
    return hv


# --------------------------------------------------------------------------- housing


def tenancies(ctx: Ctx) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Social-housing tenancies (one per household address run) and their members."""
    rng, people = ctx.rng, ctx.people
    res = ctx.residences
    social = ctx.addresses["social_housing"].to_numpy()[res["address_id"].to_numpy()]
    r = res[social & (res["end"] > ctx.window_start - int(6 * YEAR))]
    runs = r.groupby(["household", "address_id"], as_index=False).agg(
        start=("start", "min"), end=("end", "max")
    )
    runs = runs.sort_values(["start", "household"], kind="stable").reset_index(drop=True)
    runs["tenancy"] = np.arange(len(runs))
    mem = r.merge(runs[["household", "address_id", "tenancy"]], on=["household", "address_id"])
    dob = people["dob"].to_numpy()
    mem["age_in"] = (mem["start"].to_numpy() - dob[mem["person"].to_numpy()]) / YEAR
    # lead tenant: an adult; the woman more often in a couple
    adults = mem[mem["age_in"] >= 17].copy()
    adults["w"] = np.where(people["sex"].to_numpy()[adults["person"]] == "F", 0.6, 0.4) * rng.random(
        len(adults)
    )
    lead = adults.sort_values(["tenancy", "w"], ascending=[True, False], kind="stable").drop_duplicates(
        "tenancy"
    )
    runs = runs.merge(lead[["tenancy", "person"]].rename(columns={"person": "lead"}), on="tenancy")
    runs["homeless"] = nz.keep(rng.random(len(runs)) < 0.12, rng.choice(["Prevention", "Relief"], len(runs)))
    runs["homeless_date"] = runs["start"] - rng.integers(20, 150, len(runs))
    runs.loc[runs["end"] >= OPEN, "end"] = MISSING
    runs.loc[runs["end"] > ctx.as_at, "end"] = MISSING
    mem = mem[mem["tenancy"].isin(runs["tenancy"])]
    mem = mem.groupby(["tenancy", "person"], as_index=False).agg(start=("start", "min"), end=("end", "max"))
    mem.loc[mem["end"] > ctx.as_at, "end"] = MISSING
    mem = mem.merge(runs[["tenancy", "lead"]], on="tenancy")
    mem["relationship"] = _relationship_to(ctx, mem["lead"].to_numpy(), mem["person"].to_numpy())
    return runs, mem.sort_values(["tenancy", "start", "person"], kind="stable").reset_index(drop=True)


def _relationship_to(ctx: Ctx, lead: np.ndarray, person: np.ndarray) -> np.ndarray:
    """How ``person`` relates to ``lead`` in words a housing officer records."""
    people, parts = ctx.people, ctx.parts
    pm = people["mother"].to_numpy()
    pf = people["father"].to_numpy()
    sex = people["sex"].to_numpy()[person]
    n = len(people)
    pa = parts["a"].to_numpy().astype(np.int64)
    pb = parts["b"].to_numpy().astype(np.int64)
    key = np.concatenate([pa * (n + 1) + pb, pb * (n + 1) + pa])
    married = np.concatenate([parts["kind"].to_numpy() == "married"] * 2)
    pk = lead.astype(np.int64) * (n + 1) + person
    pos = pd.Series(married, index=key)
    pos = pos[~pos.index.duplicated()]
    is_partner = np.isin(pk, key)
    is_spouse = is_partner & (pos.reindex(pk).to_numpy(dtype=object) == True)  # noqa: E712
    child = (pm[person] == lead) | (pf[person] == lead)
    parent_m = np.maximum(pm[person], 0)
    parent_f = np.maximum(pf[person], 0)
    step = (np.isin(lead.astype(np.int64) * (n + 1) + pm[person], key) & (pm[person] >= 0)) | (
        np.isin(lead.astype(np.int64) * (n + 1) + pf[person], key) & (pf[person] >= 0)
    )
    grand = (pm[parent_m] == lead) | (pf[parent_m] == lead) | (pm[parent_f] == lead) | (pf[parent_f] == lead)
    grand &= (pm[person] >= 0) | (pf[person] >= 0)
    parent = (pm[lead] == person) | (pf[lead] == person)
    male = sex == "M"
    return np.select(
        [person == lead, is_spouse, is_partner, child, step, grand, parent],
        [
            "Tenant",
            "Spouse",
            "Partner",
            np.where(male, "Son", "Daughter"),
            np.where(male, "Stepson", "Stepdaughter"),
            np.where(male, "Grandson", "Granddaughter"),
            np.where(male, "Father", "Mother"),
        ],
        default="Other",
    ).astype(object)


# --------------------------------------------------------------------------- youth justice


YJ_OUTCOMES = [
    ("Youth Caution", 0, 1),
    ("Youth Conditional Caution", 60, 120),
    ("Referral Order", 180, 365),
    ("Youth Rehabilitation Order", 365, 730),
    ("Detention and Training Order", 120, 720),
]


def youth_justice(ctx: Ctx, csc: pd.DataFrame, da: pd.DataFrame) -> pd.DataFrame:
    """Outcomes and orders for 10-17 year olds, with the parent or carer at the time."""
    rng, people = ctx.rng, ctx.people
    dob = people["dob"].to_numpy()
    lo = np.maximum(dob + int(10 * YEAR), ctx.window_start)
    hi = np.minimum(dob + int(18 * YEAR) - 1, ctx.as_at - 10)
    cand = people.index[(hi > lo + 60) & (people["mother"] >= 0)].to_numpy()
    boost = np.isin(cand, csc["person"].to_numpy()) | np.isin(
        people["custodial"].to_numpy()[cand], da["victim"].to_numpy()
    )
    p = np.where(people["sex"].to_numpy()[cand] == "M", 0.03, 0.008) * np.where(boost, 3.0, 1.0)
    yp = cand[rng.random(len(cand)) < p]
    if len(yp) < 2 and len(cand):
        yp = np.union1d(yp, cand[:2])  # a youth justice service always has a few
    k = 1 + rng.poisson(0.8, len(yp))
    rep = np.repeat(yp, k)
    order = np.arange(len(rep)) - np.repeat(np.cumsum(k) - k, k)
    offence = _uniform_between(rng, lo[rep], hi[rep])
    df = pd.DataFrame({"person": rep, "offence_date": offence, "seq": order})
    df = df.sort_values(["person", "offence_date"], kind="stable").reset_index(drop=True)
    level = np.minimum(df.groupby("person").cumcount().to_numpy() + rng.integers(0, 2, len(df)), 4)
    df["outcome"] = [YJ_OUTCOMES[i][0] for i in level]
    df["outcome_date"] = df["offence_date"] + rng.integers(14, 90, len(df))
    dur = np.array([rng.integers(YJ_OUTCOMES[i][1], YJ_OUTCOMES[i][2] + 1) for i in level])
    df["end_date"] = np.where(level == 0, MISSING, df["outcome_date"] + dur)
    df = df[df["outcome_date"] <= ctx.as_at].reset_index(drop=True)
    df.loc[df["end_date"] > ctx.as_at, "end_date"] = MISSING
    df["parent"] = people["custodial"].to_numpy()[df["person"]]
    pdod = people["dod"].to_numpy()[np.maximum(df["parent"].to_numpy(), 0)]
    gone = (df["parent"] < 0) | ((pdod > MISSING) & (pdod < df["outcome_date"]))
    df.loc[gone, "parent"] = -1
    return df


# --------------------------------------------------------------------------- MAPPA


def mappa(ctx: Ctx, da: pd.DataFrame) -> pd.DataFrame:
    """Managed offenders: high-risk DA perpetrators and a few others."""
    rng, people = ctx.rng, ctx.people
    high = da[(da["risk"] == "High") & da["perp_known"]].drop_duplicates("perp")
    high = high[rng.random(len(high)) < 0.3]
    a = pd.DataFrame(
        {
            "person": high["perp"].to_numpy(),
            "category": 2,
            "start": high["date"].to_numpy() + rng.integers(60, 400, len(high)),
        }
    )
    dob = people["dob"].to_numpy()
    age = (ctx.as_at - dob) / YEAR
    men = people.index[
        (people["sex"] == "M") & (age > 20) & (age < 75) & (people["dod"] == MISSING)
    ].to_numpy()
    pick = men[rng.random(len(men)) < 0.003]
    if len(pick) + len(high) < 3 and len(men):
        pick = np.union1d(pick, men[: 3 - len(high)])  # a borough always has a few
    b = pd.DataFrame(
        {
            "person": pick,
            "category": rng.choice([1, 1, 3], len(pick)),
            "start": _uniform_between(
                rng, np.full(len(pick), ctx.window_start), np.full(len(pick), ctx.as_at)
            ),
        }
    )
    m = pd.concat([a, b], ignore_index=True).drop_duplicates("person")
    m = m[m["start"] <= ctx.as_at - 5].reset_index(drop=True)
    m["level"] = rng.choice([1, 2, 3], len(m), p=[0.7, 0.25, 0.05])
    m["review"] = np.maximum(
        m["start"] + rng.integers(90, 365, len(m)), ctx.as_at + rng.integers(7, 180, len(m))
    )
    return m
