"""Agency extracts as DataFrames (pure): each source's rows, with its quirks and noise.

:func:`build_extracts` turns a :class:`~kinlink.synth.Population` into one table per
source plus the ground truth (which person each source record is). The writers in
``_write`` put them into files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ingest.standardise.identifiers import upn_check_letter
from kinlink.synth import _noise as nz
from kinlink.synth._events import Ctx, _worker_names
from kinlink.synth._generate import Seed, as_generator
from kinlink.synth._names import sample_surname
from kinlink.synth._places import LA_NUMBER, TOWN
from kinlink.synth._population import MISSING, YEAR, Population, day, pid

SOURCES = ("csc", "police_da", "school", "health", "housing", "yot", "probation")


@dataclass
class Extract:
    """One source's rows (as the file will hold them) and its truth records."""

    frame: pd.DataFrame
    truth: pd.DataFrame  # source_record_id, person (int, -1 none), row_number, expected_quarantine, defect
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)  # e.g. housing's second table
    raw_lines: list[tuple[int, str]] = field(default_factory=list)  # (position, text) to splice in


# --------------------------------------------------------------------------- observing people


def observe(
    ctx: Ctx,
    rng: np.random.Generator,
    person: np.ndarray,
    t: np.ndarray,
    *,
    nick: float = 0.04,
    typo: float = 0.02,
    former: float = 0.04,
    swap: float = 0.004,
    dm: float = 0.008,
    dob_missing: float = 0.01,
    old_address: float = 0.06,
    middle_kept: float = 0.6,
) -> pd.DataFrame:
    """A person as one agency recorded them at day ``t``, with that agency's error rates."""
    people = ctx.people
    person = np.asarray(person, dtype=np.int64)
    t = np.asarray(t, dtype=np.int64)
    n = len(person)
    given = people["given"].to_numpy()[person].copy()
    given = nz.typos(rng, nz.nicknames(rng, given, nick), typo)
    middle = nz.blank(rng, people["middle"].to_numpy()[person], 1 - middle_kept)
    fam_now = ctx.surname_at(person, t)
    birth = people["birth_surname"].to_numpy()[person]
    use_former = (rng.random(n) < former) & (birth != fam_now)
    family = np.where(use_former, birth, fam_now)
    family = nz.typos(rng, family, typo * 0.8)
    former_name = nz.keep(birth != fam_now, birth)
    swapped = rng.random(n) < swap
    g2 = np.where(swapped, family, given)
    f2 = np.where(swapped, given, family)
    dob = nz.swap_day_month(rng, people["dob"].to_numpy()[person], dm)
    dob = np.where(rng.random(n) < dob_missing, MISSING, dob)
    lag = np.where(rng.random(n) < old_address, rng.integers(60, 500, n), 0)
    addr, _ = ctx.address_at(person, t - lag)
    miss = addr < 0
    if miss.any():
        addr2, _ = ctx.address_at(person[miss], t[miss])
        addr[miss] = addr2
    # not yet born (or not yet housed): the mother's address
    mother = people["mother"].to_numpy()[person]
    miss = (addr < 0) & (mother >= 0)
    if miss.any():
        addr3, _ = ctx.address_at(mother[miss], t[miss])
        addr[miss] = addr3
    return pd.DataFrame(
        {
            "person": person,
            "given": g2,
            "middle": middle,
            "family": f2,
            "former": former_name,
            "dob": dob,
            "sex": people["sex"].to_numpy()[person],
            "address_id": addr,
            "nhs": people["nhs"].to_numpy()[person],
        }
    )


def _addr(ctx: Ctx, rng: np.random.Generator, address_id: np.ndarray, pc_missing: float = 0.03):
    a = ctx.addresses
    ok = address_id >= 0
    idx = np.maximum(address_id, 0)

    def col(c: str) -> np.ndarray:
        v = a[c].to_numpy(dtype=object)[idx]
        return nz.keep(ok, v)

    pc = col("postcode")
    style = rng.random(len(pc))
    pc = np.array(
        [
            None
            if p is None or s < pc_missing
            else (p.replace(" ", "") if s > 0.95 else (p.lower() if s > 0.93 else p))
            for p, s in zip(pc, style, strict=True)
        ],
        dtype=object,
    )
    line2 = col("line2")
    line2 = nz.keep(~np.asarray(line2 == "", dtype=bool), line2)
    return {
        "line1": col("line1"),
        "line2": line2,
        "locality": col("locality"),
        "town": nz.keep(ok, TOWN),
        "postcode": pc,
        "uprn": col("uprn"),
    }


def _one_line(parts: list[np.ndarray]) -> np.ndarray:
    out = []
    for vals in zip(*parts, strict=True):
        out.append(", ".join(v for v in vals if isinstance(v, str) and v) or None)
    return np.array(out, dtype=object)


def _family_first(given: np.ndarray, middle: np.ndarray, family: np.ndarray) -> np.ndarray:
    out = []
    for g, m, f in zip(given, middle, family, strict=True):
        fam = f.upper() if isinstance(f, str) else ""
        first = " ".join(x for x in (g, m) if isinstance(x, str) and x)
        out.append(f"{fam}, {first}" if fam and first else (fam or first or None))
    return np.array(out, dtype=object)


def _given_first(given: np.ndarray, family: np.ndarray) -> np.ndarray:
    return np.array(
        [
            " ".join(x for x in (g, f) if isinstance(x, str) and x) or None
            for g, f in zip(given, family, strict=True)
        ],
        dtype=object,
    )


def _codes(rng: np.random.Generator, prefix: str, n: int, digits: int) -> np.ndarray:
    """``n`` distinct random reference numbers ``PREFIX0012345``."""
    hi = 10**digits
    nums = rng.choice(hi, size=n, replace=False) if n else np.empty(0, dtype=np.int64)
    return (
        np.char.add(prefix, np.char.zfill(nums.astype(str), digits)).astype(object)
        if n
        else np.empty(0, dtype=object)
    )


def _truth(ids, person, rows, quarantine=None, defect=None) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame(
        {
            "source_record_id": np.asarray(ids, dtype=object),
            "person": np.asarray(person, dtype=np.int64),
            "row_number": np.asarray(rows, dtype=np.int64),
            "expected_quarantine": np.zeros(n, dtype=bool)
            if quarantine is None
            else np.asarray(quarantine, dtype=bool),
            "defect": np.full(n, None, dtype=object) if defect is None else np.asarray(defect, dtype=object),
        }
    )


def _first_or_blank(frame: pd.DataFrame) -> pd.DataFrame:
    """The first row (to dress up as a test record), or a blank row when there are none."""
    if len(frame):
        return frame.iloc[[0]].copy()
    blank = pd.DataFrame({c: [None] for c in frame.columns}, dtype=object)
    for c in frame.columns:
        if c.startswith("_") and c != "_defect":
            blank[c] = -1
    return blank


def _rows_at(frame: pd.DataFrame, positions: list[int]) -> pd.DataFrame:
    """The rows at ``positions`` that exist (none when the frame is too short)."""
    ok = [p for p in positions if 0 <= p < len(frame)]
    return frame.iloc[ok].copy()


def _append(*frames: pd.DataFrame) -> pd.DataFrame:
    """Rows of several frames (defect rows added to an extract), columns kept as object."""
    return pd.concat([f.astype(object) for f in frames], ignore_index=True)


def _sex(sex: np.ndarray, codes: dict[str, object]) -> np.ndarray:
    return np.array([codes.get(s) if isinstance(s, str) else None for s in sex], dtype=object)


def _worker(rng: np.random.Generator, k: int) -> np.ndarray:
    """Names of ``k`` practitioners (social workers, officers, health visitors)."""
    return _worker_names(rng, k)


# --------------------------------------------------------------------------- csc


CSC_COLUMNS = [
    "RECORD_STATUS", "EPISODE_ID", "PERSON_ID", "ROLE", "FORENAME", "MIDDLE_NAMES", "SURNAME",
    "FORMER_SURNAME", "DOB", "GENDER", "NHS_NUMBER", "ADDRESS_LINE_1", "ADDRESS_LINE_2", "TOWN",
    "POSTCODE", "MOTHER_ID", "FATHER_ID", "EPISODE_TYPE", "EPISODE_START", "EPISODE_END",
    "CP_CATEGORY", "LEGAL_STATUS", "ALLOCATED_WORKER",
]  # fmt: skip


def csc(ctx: Ctx, rng: np.random.Generator, eps: pd.DataFrame) -> Extract:
    """Children's social care: one row per episode, and one per involved adult."""
    people = ctx.people
    dob = people["dob"].to_numpy()
    eps = eps.copy()
    # the CSC person: an unborn child has its own record; some children get a second id
    kids = np.unique(eps["person"].to_numpy())
    adults = set()
    pm = people["mother"].to_numpy()
    pf = people["father"].to_numpy()
    pc = people["custodial"].to_numpy()
    for k in kids.tolist():
        for par in (int(pm[k]), int(pf[k]), int(pc[k])):
            if par >= 0:
                adults.add(par)
    adults_arr = np.array(sorted(adults - set(kids.tolist())), dtype=np.int64)
    everyone = np.concatenate([kids, adults_arr])
    ids = dict(zip(everyone.tolist(), _codes(rng, "C", len(everyone), 7), strict=True))
    unborn_ids = {}
    for k in np.unique(eps.loc[eps["unborn"], "person"]).tolist():
        unborn_ids[k] = _codes(rng, "C9", 1, 6)[0]
    dup_people = set(kids[rng.random(len(kids)) < 0.03].tolist())
    second = {k: _codes(rng, "C8", 1, 6)[0] for k in sorted(dup_people)}
    first_ref = eps.groupby("person")["referral"].min()
    rec = []
    for k, unb, ref in zip(
        eps["person"].tolist(), eps["unborn"].tolist(), eps["referral"].tolist(), strict=True
    ):
        if unb:
            rec.append(unborn_ids[k])
        elif k in second and ref != first_ref[k]:
            rec.append(second[k])
        else:
            rec.append(ids[k])
    eps["rec"] = rec
    # the person columns: one observation per CSC record, repeated on its rows
    recs = eps.drop_duplicates("rec")[["rec", "person", "unborn", "start"]]
    adult_recs = pd.DataFrame(
        {"rec": [ids[a] for a in adults_arr.tolist()], "person": adults_arr, "unborn": False}
    )
    adult_recs["start"] = ctx.as_at
    allrec = pd.concat([recs, adult_recs], ignore_index=True)
    obs = observe(ctx, rng, allrec["person"].to_numpy(), np.full(len(allrec), ctx.as_at))
    obs["rec"] = allrec["rec"].to_numpy()
    unb = allrec["unborn"].to_numpy()
    mothers_name = ctx.surname_at(
        np.maximum(people["mother"].to_numpy()[allrec["person"].to_numpy()], 0),
        allrec["start"].to_numpy(),
    )
    obs.loc[unb, "given"] = "Unborn"
    obs.loc[unb, "family"] = mothers_name[unb]
    obs.loc[unb, "middle"] = None
    obs.loc[unb, "former"] = None
    obs.loc[unb, "dob"] = dob[allrec["person"].to_numpy()[unb]]
    nhs = obs["nhs"].to_numpy().copy()
    nhs = nz.blank(rng, nhs, 0.5)
    nhs[unb] = None
    nhs, _ = nz.bad_nhs(rng, nhs, 0.01)
    obs["nhs"] = nhs
    a = _addr(ctx, rng, obs["address_id"].to_numpy())
    role = np.where(
        unb,
        "Unborn",
        np.where(np.isin(obs["person"], adults_arr) & ~np.isin(obs["person"], kids), "Adult", "Child"),
    )
    gender = _sex(obs["sex"].to_numpy(), {"M": "Male", "F": "Female"})
    gender[unb] = None
    rec_of_person: dict[int, str] = {}
    for r, p in zip(obs["rec"].tolist(), obs["person"].tolist(), strict=True):
        rec_of_person.setdefault(p, r)
    mother = [rec_of_person.get(int(pm[p])) if rng.random() > 0.05 else None for p in obs["person"]]
    father = [rec_of_person.get(int(pf[p])) if rng.random() > 0.3 else None for p in obs["person"]]
    pcols = pd.DataFrame(
        {
            "PERSON_ID": obs["rec"].to_numpy(),
            "ROLE": role,
            "FORENAME": obs["given"].to_numpy(),
            "MIDDLE_NAMES": obs["middle"].to_numpy(),
            "SURNAME": obs["family"].to_numpy(),
            "FORMER_SURNAME": nz.keep(rng.random(len(obs)) < 0.6, obs["former"].to_numpy()),
            "DOB": obs["dob"].to_numpy(),
            "GENDER": gender,
            "NHS_NUMBER": nhs,
            "ADDRESS_LINE_1": a["line1"],
            "ADDRESS_LINE_2": a["line2"],
            "TOWN": a["town"],
            "POSTCODE": a["postcode"],
            "MOTHER_ID": nz.keep(~np.asarray(role == "Adult", dtype=bool), np.asarray(mother, dtype=object)),
            "FATHER_ID": nz.keep(~np.asarray(role == "Adult", dtype=bool), np.asarray(father, dtype=object)),
        }
    )
    workers = _worker(rng, 35)
    ep = pd.DataFrame(
        {
            "rec": eps["rec"].to_numpy(),
            "EPISODE_TYPE": eps["type"].to_numpy(),
            "EPISODE_START": eps["start"].to_numpy(),
            "EPISODE_END": eps["end"].to_numpy(),
            "CP_CATEGORY": nz.keep(eps["type"] == "CPP", eps["category"]),
            "LEGAL_STATUS": nz.keep(eps["type"] == "CLA", eps["category"]),
            "ALLOCATED_WORKER": workers[eps["referral"].to_numpy() % len(workers)],
        }
    )
    rows = ep.merge(pcols, left_on="rec", right_on="PERSON_ID", how="left").drop(columns="rec")
    adult_rows = pcols[pcols["ROLE"] == "Adult"].copy()
    frame = pd.concat([rows, adult_rows], ignore_index=True)
    frame["EPISODE_ID"] = [
        f"E{i:07d}" if isinstance(t, str) else None for i, t in enumerate(frame["EPISODE_TYPE"], 100001)
    ]
    frame["RECORD_STATUS"] = np.where(
        frame["EPISODE_END"].fillna(MISSING).to_numpy() > MISSING, "CLOSED", "OPEN"
    )
    frame.loc[frame["ROLE"] == "Adult", "RECORD_STATUS"] = "ACTIVE"
    for c in ("EPISODE_START", "EPISODE_END", "DOB"):
        frame[c] = frame[c].fillna(MISSING).astype(np.int64)
    person_of = dict(zip(obs["rec"], obs["person"], strict=True))
    frame["_person"] = frame["PERSON_ID"].map(person_of)
    frame["_defect"] = None
    # deliberate defects: a test record, a row without its person id, an impossible DOB
    test = _first_or_blank(frame)
    test["RECORD_STATUS"] = "TEST"
    test["PERSON_ID"] = "C0000001"
    test["FORENAME"], test["SURNAME"], test["MOTHER_ID"], test["FATHER_ID"] = (
        "Test",
        "Record",
        None,
        None,
    )
    test[
        [
            "MIDDLE_NAMES",
            "FORMER_SURNAME",
            "NHS_NUMBER",
            "ADDRESS_LINE_1",
            "ADDRESS_LINE_2",
            "POSTCODE",
        ]
    ] = None
    test["DOB"] = MISSING
    test["_person"], test["_defect"] = -1, "filtered"
    children = frame[frame["ROLE"] == "Child"]
    noid = _rows_at(children, [len(children) // 2])
    noid["PERSON_ID"] = None
    noid["_defect"] = "missing_id"
    frame = _append(frame, test, noid)
    frame = frame.sort_values(["EPISODE_START", "PERSON_ID"], kind="stable", na_position="first").reset_index(
        drop=True
    )
    frame = frame[[*CSC_COLUMNS, "_person", "_defect"]]
    dob_text = np.full(len(frame), None, dtype=object)
    child_rows = np.flatnonzero((frame["ROLE"] == "Child").to_numpy() & frame["_defect"].isna().to_numpy())
    if len(child_rows):
        first_child = frame["PERSON_ID"].iat[child_rows[0]]
        for i in np.flatnonzero((frame["PERSON_ID"] == first_child).to_numpy()):
            dob_text[i] = "31/02/2015"
    as_text = rng.random(len(frame)) < 0.06
    frame.attrs["dob_text"] = dob_text
    frame.attrs["dob_as_text"] = as_text
    truth = _records_from_rows(frame, [("PERSON_ID", "_person")])
    return Extract(frame=frame, truth=truth)


def _records_from_rows(frame: pd.DataFrame, roles: list[tuple[str, str]]) -> pd.DataFrame:
    """Truth records: the first row giving each id; rows with a defect are expected quarantines."""
    parts = []
    defect = frame["_defect"].to_numpy(dtype=object)
    for id_col, person_col in roles:
        ids = frame[id_col].to_numpy(dtype=object)
        person = pd.to_numeric(frame[person_col], errors="coerce").fillna(-1).to_numpy(dtype=np.int64)
        has = pd.notna(ids) | (defect == "missing_id")
        present = person >= 0
        t = _truth(
            ids[has | present],
            person[has | present],
            np.flatnonzero(has | present) + 1,
            quarantine=pd.notna(defect[has | present]),
            defect=defect[has | present],
        )
        parts.append(t[pd.notna(t["source_record_id"]) | (t["person"] >= 0)])
    out = pd.concat(parts, ignore_index=True)
    keyed = out[pd.notna(out["source_record_id"])]
    # a record is expected to be quarantined only if every row giving it is
    good = keyed.groupby("source_record_id")["expected_quarantine"].transform("min")
    keyed = keyed.assign(expected_quarantine=good.to_numpy(dtype=bool))
    keyed = keyed.sort_values("row_number", kind="stable").drop_duplicates("source_record_id")
    unkeyed = out[pd.isna(out["source_record_id"])]
    return (
        pd.concat([keyed, unkeyed], ignore_index=True)
        .sort_values("row_number", kind="stable")
        .reset_index(drop=True)
    )


# --------------------------------------------------------------------------- police


POLICE_COLUMNS = [
    "INCIDENT_REF", "STATUS", "INCIDENT_DATE", "LOCATION", "LOCATION_POSTCODE",
    "VICTIM_PARTY_REF", "VICTIM_NAME", "VICTIM_DOB", "VICTIM_AGE", "VICTIM_SEX",
    "VICTIM_ADDRESS", "VICTIM_POSTCODE", "PERP_PARTY_REF", "PERP_NAME", "PERP_DOB",
    "PERP_AGE", "PERP_SEX", "RELATIONSHIP", "DASH_RISK", "MARAC_REFERRAL", "MARAC_DATE",
    "CHILDREN_PRESENT", "OFFICER", "SUMMARY",
]  # fmt: skip

_QUOTES = [
    "he\u2019s done it before",
    "I just want him to leave",
    "she threw the phone at me",
    "he said he\u2019d \u201csort me out\u201d",
    "it was only an argument",
    "I\u2019m scared for the kids",
    "he took my bank card",
]
_ACTIONS = [
    "arrested on suspicion of assault (s39)",
    "left the scene before police arrival",
    "given words of advice",
    "arrested for criminal damage \u2013 damage est. \u00a3150",
    "not present; circulated as wanted",
    "voluntary interview arranged",
]


def police_da(ctx: Ctx, rng: np.random.Generator, da: pd.DataFrame) -> Extract:
    """Police domestic abuse notifications: one row per incident."""
    people = ctx.people
    n = len(da)
    t = da["date"].to_numpy()
    year = pd.DatetimeIndex(nz.days_to_datetime(t)).year.to_numpy() % 100
    ref = np.array(
        [
            f"DA{y:02d}/{i:06d}"
            for y, i in zip(year, rng.choice(900_000, n, replace=False) + 1000, strict=True)
        ],
        dtype=object,
    )
    v = observe(ctx, rng, da["victim"].to_numpy(), t, nick=0.08, typo=0.03, dob_missing=0.05)
    p = observe(ctx, rng, da["perp"].to_numpy(), t, nick=0.12, typo=0.04, dob_missing=0.1, old_address=0.25)
    age_v = np.floor(ctx.age(da["victim"].to_numpy(), t)).astype(int)
    age_p = np.floor(ctx.age(da["perp"].to_numpy(), t)).astype(int)
    v_age_only = rng.random(n) < 0.25
    p_age_only = rng.random(n) < 0.5
    known = da["perp_known"].to_numpy()
    va = _addr(ctx, rng, v["address_id"].to_numpy())
    pa = _addr(ctx, rng, p["address_id"].to_numpy(), pc_missing=0.3)
    loc = _addr(ctx, rng, da["address_id"].to_numpy(), pc_missing=0.0)
    # children present, "SURNAME, Forename (age)", as the officer typed them
    lens = np.array([len(k) for k in da["children"]], dtype=np.int64)
    kid = np.array([k for ks in da["children"] for k in ks], dtype=np.int64)
    inc = np.repeat(np.arange(n), lens)
    kday = t[inc]
    ksur = ctx.surname_at(kid, kday)
    kage = np.floor(ctx.age(kid, kday)).astype(int)
    kgiven = people["given"].to_numpy()[kid]
    pieces = [f"{str(s).upper()}, {g or 'Baby'} ({a})" for s, g, a in zip(ksur, kgiven, kage, strict=True)]
    child_txt: list[str | None] = [None] * n
    pos = 0
    for i, k in enumerate(lens.tolist()):
        if k:
            child_txt[i] = "; ".join(pieces[pos : pos + k])
            pos += k
    summary = []
    for i in range(n):
        q = _QUOTES[int(rng.integers(len(_QUOTES)))]
        act = _ACTIONS[int(rng.integers(len(_ACTIONS)))]
        kids = int(lens[i])
        injury = "none visible" if rng.random() < 0.6 else "bruising to arm"
        summary.append(
            f"Police attended following a 999 call; parties had been arguing.\n"
            f'Victim stated "{q}"; injuries: {injury}.\n'
            f"Suspect {act}. {kids} child(ren) present."
        )
    officers = [
        f"PC {int(x)} {s}" for x, s in zip(rng.integers(1000, 9999, 30), _worker(rng, 30), strict=True)
    ]
    frame = pd.DataFrame(
        {
            "INCIDENT_REF": ref,
            "STATUS": np.where(rng.random(n) < 0.1, "OPEN", "CLOSED"),
            "INCIDENT_DATE": nz.fmt_dates(t, "%d-%b-%Y"),
            "LOCATION": _one_line([loc["line1"], loc["line2"], loc["locality"]]),
            "LOCATION_POSTCODE": loc["postcode"],
            "VICTIM_PARTY_REF": ref + "-V1",
            "VICTIM_NAME": _family_first(
                v["given"].to_numpy(), v["middle"].to_numpy(), v["family"].to_numpy()
            ),
            "VICTIM_DOB": nz.keep(
                ~np.asarray(v_age_only, dtype=bool), nz.fmt_dates(v["dob"].to_numpy(), "%d/%m/%Y")
            ),
            "VICTIM_AGE": nz.keep(v_age_only | (rng.random(n) < 0.5), age_v.astype(str)),
            "VICTIM_SEX": _sex(v["sex"].to_numpy(), {"M": "1", "F": "2"}),
            "VICTIM_ADDRESS": _one_line([va["line1"], va["line2"], va["town"]]),
            "VICTIM_POSTCODE": va["postcode"],
            "PERP_PARTY_REF": nz.keep(known, ref + "-S1"),
            "PERP_NAME": nz.keep(
                known,
                _family_first(p["given"].to_numpy(), p["middle"].to_numpy(), p["family"].to_numpy()),
            ),
            "PERP_DOB": nz.keep(known & ~p_age_only, nz.fmt_dates(p["dob"].to_numpy(), "%d/%m/%Y")),
            "PERP_AGE": nz.keep(known & (p_age_only | (rng.random(n) < 0.3)), age_p.astype(str)),
            "PERP_SEX": nz.keep(known, _sex(p["sex"].to_numpy(), {"M": "1", "F": "2"})),
            "PERP_ADDRESS": nz.keep(known, _one_line([pa["line1"], pa["line2"], pa["town"]])),
            "RELATIONSHIP": da["relationship"].to_numpy(),
            "DASH_RISK": da["risk"].str.upper().to_numpy(),
            "MARAC_REFERRAL": np.where(da["marac"], "Y", "N"),
            "MARAC_DATE": nz.keep(da["marac"], nz.fmt_dates(da["marac_date"].to_numpy(), "%d-%b-%Y")),
            "CHILDREN_PRESENT": np.asarray(child_txt, dtype=object),
            "OFFICER": np.asarray(officers, dtype=object)[rng.integers(0, 30, n)],
            "SUMMARY": summary,
        }
    )
    frame = frame[[*POLICE_COLUMNS[:16], "PERP_SEX", "PERP_ADDRESS", *POLICE_COLUMNS[17:]]]
    frame["_victim"] = da["victim"].to_numpy()
    frame["_perp"] = np.where(known, da["perp"].to_numpy(), -1)
    frame["_defect"] = None
    # defects: a test incident, a victim with nothing to identify them, a stray delimiter
    test = _first_or_blank(frame)
    test["INCIDENT_REF"] = "DA00/000001"
    test["VICTIM_PARTY_REF"], test["PERP_PARTY_REF"] = "DA00/000001-V1", "DA00/000001-S1"
    test["VICTIM_NAME"], test["PERP_NAME"] = "TEST, Victim", "TEST, Suspect"
    test["STATUS"], test["_victim"], test["_perp"], test["_defect"] = "TEST", -1, -1, "filtered"
    test[["VICTIM_DOB", "PERP_DOB", "CHILDREN_PRESENT", "MARAC_DATE"]] = None
    test[["LOCATION", "VICTIM_ADDRESS", "PERP_ADDRESS"]] = "1 Test Street"
    test[["LOCATION_POSTCODE", "VICTIM_POSTCODE"]] = "BD1 1AA"
    test["SUMMARY"] = "Test record - please ignore"
    anon = _rows_at(frame, [n // 3])
    anon["INCIDENT_REF"] = anon["INCIDENT_REF"] + "A"
    anon["VICTIM_PARTY_REF"] = anon["INCIDENT_REF"] + "-V1"
    anon["PERP_PARTY_REF"] = nz.keep(anon["PERP_PARTY_REF"].notna(), anon["INCIDENT_REF"] + "-S1")
    anon[["VICTIM_NAME", "VICTIM_DOB", "VICTIM_AGE"]] = None
    anon["_defect"] = "no_identifying_data"
    frame = _append(frame, test, anon)
    order = np.argsort(np.concatenate([t, [t.min() - 1 if n else 0], t[n // 3 : n // 3 + 1]]), kind="stable")
    frame = frame.iloc[order].reset_index(drop=True)
    # the stray-delimiter row: written raw by the writer (an unquoted ';' inside LOCATION)
    _mark_raw_defect(rng, frame, "stray_delimiter_row")
    truth = _records_from_rows(frame, [("VICTIM_PARTY_REF", "_victim"), ("PERP_PARTY_REF", "_perp")])
    return Extract(frame=frame, truth=truth)


def _mark_raw_defect(
    rng: np.random.Generator, frame: pd.DataFrame, attr: str, among: np.ndarray | None = None
) -> None:
    """Choose a row with no defect yet for a defect the writer puts in (attrs[attr])."""
    clean = np.flatnonzero(frame["_defect"].isna().to_numpy())
    if among is not None and len(np.intersect1d(clean, among)):
        clean = np.intersect1d(clean, among)
    if not len(clean):
        frame.attrs[attr] = None
        return
    row = int(clean[int(rng.integers(len(clean)))])
    frame.attrs[attr] = row
    frame.loc[row, "_defect"] = "malformed_row"


# --------------------------------------------------------------------------- school


SCHOOL_COLUMNS = [
    "ROW_ID", "CENSUS_TERM", "CENSUS_DATE", "LA_ESTAB", "SCHOOL_NAME", "UPN", "SURNAME",
    "FORENAME", "MIDDLE_NAMES", "FORMER_SURNAME", "DOB", "GENDER", "NC_YEAR", "ADDRESS",
    "POSTCODE", "SEN_PROVISION", "EHCP", "EHCP_START_DATE", "EXCLUSION_CATEGORY",
    "EXCLUSION_START_DATE", "EXCLUSION_SESSIONS", "CONTACT_NAME", "CONTACT_RELATIONSHIP",
]  # fmt: skip


def _school_names(ctx: Ctx, estabs: np.ndarray) -> dict[int, str]:
    localities = sorted(set(ctx.addresses["locality"]))
    out = {}
    for e in sorted(set(estabs.tolist())):
        loc = localities[e % len(localities)]
        out[e] = f"{loc} Primary School" if e < 4000 else f"{loc} Academy"
    out[9999] = "TEST SCHOOL"
    return out


def school(ctx: Ctx, rng: np.random.Generator, cen: pd.DataFrame) -> Extract:
    """School census: one row per pupil per census term, with a primary contact."""
    people = ctx.people
    cen = cen.reset_index(drop=True)
    n = len(cen)
    pupils, first_row = np.unique(cen["person"].to_numpy(), return_index=True)
    # UPN: LA, the first school's number, the year the pupil started, a serial
    dob = people["dob"].to_numpy()[pupils]
    start_year = (1970 + (dob + 4 * YEAR + 122) / YEAR).astype(int) % 100
    estab = cen["estab"].to_numpy()[first_row]
    key = pd.DataFrame({"e": estab, "y": start_year})
    serial = key.groupby(["e", "y"]).cumcount().to_numpy() + 1
    upn = []
    for e, y, s in zip(estab, start_year, serial, strict=True):
        twelve = f"{LA_NUMBER}{int(e):04d}{int(y):02d}{int(s) % 1000:03d}"
        upn.append(upn_check_letter(twelve) + twelve)
    upn_arr = np.array(upn, dtype=object)
    bad_upn = rng.random(len(upn_arr)) < 0.005
    upn_arr[bad_upn] = [("B" if u[0] != "B" else "C") + u[1:] for u in upn_arr[bad_upn]]
    upn_of = dict(zip(pupils.tolist(), upn_arr, strict=True))
    # pupil details as the school holds them (stable over terms)
    obs = observe(
        ctx,
        rng,
        pupils,
        np.full(len(pupils), ctx.as_at),
        nick=0.03,
        typo=0.01,
        former=0.0,
        dm=0.004,
        dob_missing=0.0,
    )
    o = obs.set_index("person")
    p_idx = cen["person"].to_numpy()
    # the address is the one at each census
    a = _addr(ctx, rng, cen["address_id"].to_numpy(), pc_missing=0.01)
    contact = cen["contact"].to_numpy()
    has_c = contact >= 0
    cobs = observe(ctx, rng, np.maximum(contact, 0), cen["t"].to_numpy(), nick=0.1, typo=0.02)
    cname = nz.keep(has_c, _given_first(cobs["given"].to_numpy(), cobs["family"].to_numpy()))
    nc = cen["nc"].to_numpy()
    names = _school_names(ctx, cen["estab"].to_numpy())
    frame = pd.DataFrame(
        {
            "ROW_ID": [f"SC{i:08d}" for i in range(1, n + 1)],
            "CENSUS_TERM": cen["term"].to_numpy(),
            "CENSUS_DATE": nz.fmt_dates(cen["t"].to_numpy(), "%Y-%m-%d"),
            "LA_ESTAB": [f"{LA_NUMBER}/{e}" for e in cen["estab"]],
            "SCHOOL_NAME": [names[e] for e in cen["estab"]],
            "UPN": [upn_of[p] for p in p_idx.tolist()],
            "SURNAME": o.loc[p_idx, "family"].to_numpy(),
            "FORENAME": o.loc[p_idx, "given"].to_numpy(),
            "MIDDLE_NAMES": o.loc[p_idx, "middle"].to_numpy(),
            "FORMER_SURNAME": None,
            "DOB": nz.fmt_dates(o.loc[p_idx, "dob"].to_numpy(), "%d/%m/%Y"),
            "GENDER": o.loc[p_idx, "sex"].to_numpy(),
            "NC_YEAR": np.where(nc == 0, "R", nc.astype(str)),
            "ADDRESS": _one_line([a["line1"], a["line2"], a["locality"], a["town"]]),
            "POSTCODE": a["postcode"],
            "SEN_PROVISION": cen["sen"].to_numpy(),
            "EHCP": np.where(cen["ehcp"], "Y", "N"),
            "EHCP_START_DATE": nz.keep(cen["ehcp"], nz.fmt_dates(cen["ehcp_start"].to_numpy(), "%d/%m/%Y")),
            "EXCLUSION_CATEGORY": cen["exclusion"].to_numpy(),
            "EXCLUSION_START_DATE": nz.fmt_dates(cen["exclusion_date"].to_numpy(), "%d/%m/%Y"),
            "EXCLUSION_SESSIONS": nz.keep(cen["exclusion"].notna(), (cen["exclusion_days"] * 2).astype(str)),
            "CONTACT_NAME": cname,
            "CONTACT_RELATIONSHIP": nz.keep(has_c, cen["contact_rel"].to_numpy()),
        }
    )
    frame["_pupil"] = p_idx
    frame["_contact"] = np.where(has_c, contact, -1)
    frame["CONTACT_REF"] = nz.keep(has_c, frame["ROW_ID"] + "-C")
    frame["_defect"] = None
    test = _first_or_blank(frame)
    test["ROW_ID"], test["LA_ESTAB"], test["SCHOOL_NAME"] = "SC99999999", "380/9999", "TEST SCHOOL"
    test["SURNAME"], test["FORENAME"], test["CONTACT_NAME"] = "Pupil", "Test", "Test Parent"
    test["CONTACT_REF"] = "SC99999999-C"
    test[
        [
            "UPN",
            "MIDDLE_NAMES",
            "DOB",
            "EXCLUSION_CATEGORY",
            "EXCLUSION_START_DATE",
            "EXCLUSION_SESSIONS",
        ]
    ] = None
    test["ADDRESS"], test["POSTCODE"] = "1 Test Street", "BD1 1AA"
    test["_pupil"], test["_contact"], test["_defect"] = -1, -1, "filtered"
    noid = _rows_at(frame, [n // 2])
    noid["ROW_ID"], noid["CONTACT_REF"], noid["_defect"] = None, None, "missing_id"
    frame = _append(frame.iloc[: n // 2], test, noid, frame.iloc[n // 2 :])
    frame = frame[[*SCHOOL_COLUMNS, "CONTACT_REF", "_pupil", "_contact", "_defect"]]
    # a row whose address went out unquoted (its commas split the row)
    _mark_raw_defect(rng, frame, "stray_delimiter_row", np.flatnonzero(frame["ADDRESS"].notna().to_numpy()))
    truth = _records_from_rows(frame, [("ROW_ID", "_pupil"), ("CONTACT_REF", "_contact")])
    return Extract(frame=frame, truth=truth)


# --------------------------------------------------------------------------- health


def health(ctx: Ctx, rng: np.random.Generator, hv: pd.DataFrame) -> Extract:
    """Health visiting contacts (JSON lines): infants, the "Baby Surname" birth records."""
    people = ctx.people
    dob = people["dob"].to_numpy()
    kids = np.unique(hv["person"].to_numpy())
    chr_id = dict(zip(kids.tolist(), _codes(rng, "CHR", len(kids), 7), strict=True))
    unborn = dob[hv["person"].to_numpy()] > ctx.as_at
    an_ids = {k: _codes(rng, "AN", 1, 7)[0] for k in np.unique(hv.loc[unborn, "person"]).tolist()}
    rows = hv.copy()
    rows["rec"] = [an_ids[k] if u else chr_id[k] for k, u in zip(rows["person"], unborn, strict=True)]
    # birth notifications: "Baby Surname", from the maternity system, for some births
    born = kids[(dob[kids] <= ctx.as_at) & (dob[kids] >= ctx.as_at - int(5 * YEAR))]
    bn = born[rng.random(len(born)) < 0.35]
    bn_rows = pd.DataFrame({"person": bn, "type": "BIRTH", "date": dob[bn] + 1})
    bn_rows["rec"] = _codes(rng, "BN", len(bn), 7)
    rows = pd.concat([rows, bn_rows], ignore_index=True)
    rows = rows[rows["date"] <= ctx.as_at].sort_values(["date", "rec"], kind="stable").reset_index(drop=True)
    recs = rows.drop_duplicates("rec")
    obs = observe(
        ctx,
        rng,
        recs["person"].to_numpy(),
        np.full(len(recs), ctx.as_at),
        nick=0.02,
        typo=0.01,
        former=0.0,
        dm=0.003,
        dob_missing=0.0,
        old_address=0.1,
    )
    obs["rec"] = recs["rec"].to_numpy()
    mother = people["mother"].to_numpy()[obs["person"].to_numpy()]
    mname = ctx.surname_at(np.maximum(mother, 0), dob[obs["person"].to_numpy()])
    is_bn = obs["rec"].str.startswith("BN").to_numpy()
    is_an = obs["rec"].str.startswith("AN").to_numpy()
    newborn = dob[obs["person"].to_numpy()] > ctx.as_at - 21
    baby = is_bn | newborn
    obs.loc[baby, "given"] = "Baby"
    obs.loc[baby | is_an, "family"] = mname[baby | is_an]
    obs.loc[baby | is_an, "middle"] = None
    obs.loc[is_an, "given"] = None
    obs.loc[is_an, "dob"] = dob[obs["person"].to_numpy()[is_an]]
    nhs = obs["nhs"].to_numpy().copy()
    mnhs = people["nhs"].to_numpy()[np.maximum(mother, 0)]
    wrong = is_bn & (rng.random(len(obs)) < 0.06)
    nhs[wrong] = mnhs[wrong]
    nhs[is_an] = None
    nhs, _ = nz.bad_nhs(rng, nhs, 0.005)
    spaced = rng.random(len(nhs)) < 0.4
    nhs = np.array(
        [
            f"{v[:3]} {v[3:6]} {v[6:]}" if s and isinstance(v, str) else v
            for v, s in zip(nhs, spaced, strict=True)
        ],
        dtype=object,
    )
    a = _addr(ctx, rng, obs["address_id"].to_numpy(), pc_missing=0.005)
    pc = a["postcode"].copy()
    pc[rng.random(len(pc)) < 0.004] = "ZZ99 3VZ"  # the NHS "no fixed abode" pseudo-postcode
    # the mother as the health system holds her (her own patient record)
    mothers = np.unique(mother[mother >= 0])
    m_ref = dict(zip(mothers.tolist(), _codes(rng, "PT", len(mothers), 7), strict=True))
    mobs = observe(
        ctx,
        rng,
        np.maximum(mother, 0),
        np.full(len(obs), ctx.as_at),
        nick=0.03,
        typo=0.01,
        former=0.05,
        dob_missing=0.05,
    )
    m_detail = (mother >= 0) & (rng.random(len(obs)) < 0.85)
    per = pd.DataFrame(
        {
            "record_id": obs["rec"].to_numpy(),
            "nhs_number": nhs,
            "forename": obs["given"].to_numpy(),
            "surname": obs["family"].to_numpy(),
            "dob": nz.fmt_dates(obs["dob"].to_numpy(), "%Y-%m-%d"),
            "sex": _sex(obs["sex"].to_numpy(), {"M": 1, "F": 2}),
            "address_line_1": a["line1"],
            "address_line_2": a["line2"],
            "postcode": pc,
            "mother_record_id": [m_ref.get(int(m)) for m in mother],
            "mother_forename": nz.keep(m_detail, mobs["given"].to_numpy()),
            "mother_surname": nz.keep(m_detail, mobs["family"].to_numpy()),
            "mother_dob": nz.keep(m_detail, nz.fmt_dates(mobs["dob"].to_numpy(), "%Y-%m-%d")),
            "mother_nhs": nz.keep(mother >= 0, mnhs),
            "_person": obs["person"].to_numpy(),
            "_mother": mother,
        }
    )
    per.loc[is_an, "sex"] = None
    hvs = _worker(rng, 20)
    frame = rows[["rec", "type", "date"]].merge(per, left_on="rec", right_on="record_id", how="left")
    frame = pd.DataFrame(
        {
            "contact_id": [f"HV{i:08d}" for i in range(1, len(frame) + 1)],
            **{c: frame[c].to_numpy() for c in per.columns if not c.startswith("_")},
            "contact_type": frame["type"].to_numpy(),
            "contact_date": nz.fmt_dates(frame["date"].to_numpy(), "%Y-%m-%d"),
            "practitioner": hvs[rng.integers(0, len(hvs), len(frame))],
            "record_status": "active",
            "_person": frame["_person"].to_numpy(),
            "_mother": frame["_mother"].to_numpy(),
        }
    )
    frame["_defect"] = None
    # an impossible date of birth on one record (flagged, not rejected)
    if len(frame) > 5:
        r = frame["record_id"].iat[5]
        frame.loc[frame["record_id"] == r, "dob"] = "2021-02-30"
    test = _first_or_blank(frame)
    test["record_id"], test["forename"], test["surname"], test["record_status"] = (
        "CHR9999999",
        "Test",
        "Patient",
        "test",
    )
    test["mother_record_id"], test["mother_forename"], test["mother_surname"] = (
        "PT9999999",
        "Test",
        "Mother",
    )
    test["mother_dob"], test["mother_nhs"], test["nhs_number"], test["dob"] = None, None, None, None
    test["_person"], test["_mother"], test["_defect"] = -1, -1, "filtered"
    frame = _append(frame, test)
    # a birth notification line cut short by a failed export (written raw)
    bn_pos = np.flatnonzero(frame["record_id"].str.startswith("BN").to_numpy())
    _mark_raw_defect(rng, frame, "truncated_row", bn_pos)
    truth = _records_from_rows(frame, [("record_id", "_person"), ("mother_record_id", "_mother")])
    return Extract(frame=frame, truth=truth)


# --------------------------------------------------------------------------- housing


def housing(ctx: Ctx, rng: np.random.Generator, ten: pd.DataFrame, mem: pd.DataFrame) -> Extract:
    """Social housing: a tenancies table and a household members table (SQLite)."""
    people = ctx.people
    persons = np.unique(mem["person"].to_numpy())
    ref = dict(zip(persons.tolist(), _codes(rng, "HP", len(persons), 7), strict=True))
    dup = set(persons[rng.random(len(persons)) < 0.025].tolist())
    second = {p: _codes(rng, "HX", 1, 7)[0] for p in sorted(dup)}
    first_ten = mem.groupby("person")["tenancy"].min()
    mem = mem.copy()
    mem["ref"] = [
        second[p] if p in second and t != first_ten[p] else ref[p]
        for p, t in zip(mem["person"].tolist(), mem["tenancy"].tolist(), strict=True)
    ]
    tref = np.array(
        [f"T{i:07d}" for i in rng.choice(9_000_000, len(ten), replace=False) + 1_000_000],
        dtype=object,
    )
    ten = ten.copy()
    ten["ref"] = tref
    lead_ref = mem[mem["person"] == mem["lead"]].drop_duplicates("tenancy").set_index("tenancy")["ref"]
    ten["lead_ref"] = lead_ref.reindex(ten["tenancy"]).to_numpy()
    recs = mem.drop_duplicates("ref")
    obs = observe(
        ctx,
        rng,
        recs["person"].to_numpy(),
        recs["start"].to_numpy(),
        nick=0.05,
        typo=0.02,
        former=0.06,
        dob_missing=0.03,
    )
    obs["ref"] = recs["ref"].to_numpy()
    o = obs.set_index("ref")
    a = _addr(ctx, rng, ten["address_id"].to_numpy(), pc_missing=0.0)
    tenancies = pd.DataFrame(
        {
            "tenancy_ref": ten["ref"].to_numpy(),
            "uprn": pd.array(a["uprn"], dtype="string").astype("Int64"),
            "address_line_1": a["line1"],
            "address_line_2": a["line2"],
            "town": a["town"],
            "postcode": a["postcode"],
            "tenure_type": rng.choice(
                ["Secure", "Secure", "Introductory", "Temporary accommodation"], len(ten)
            ),
            "start_date": nz.fmt_dates(ten["start"].to_numpy(), "%Y-%m-%d"),
            "end_date": nz.fmt_dates(ten["end"].to_numpy(), "%Y-%m-%d"),
            "lead_tenant_ref": ten["lead_ref"].to_numpy(),
            "homeless_duty": ten["homeless"].to_numpy(),
            "homeless_decision_date": nz.keep(
                ten["homeless"].notna(), nz.fmt_dates(ten["homeless_date"].to_numpy(), "%Y-%m-%d")
            ),
        }
    )
    tmap = dict(zip(ten["tenancy"], ten["ref"], strict=True))
    title = nz.keep(
        ~np.asarray(ctx.age(mem["person"].to_numpy(), np.full(len(mem), ctx.as_at)) < 16, dtype=bool),
        np.where(
            people["sex"].to_numpy()[mem["person"]] == "M",
            "Mr",
            rng.choice(["Mrs", "Ms", "Miss"], len(mem)),
        ),
    )
    members = pd.DataFrame(
        {
            "member_id": np.arange(1, len(mem) + 1),
            "tenancy_ref": [tmap[t] for t in mem["tenancy"]],
            "person_ref": mem["ref"].to_numpy(),
            "title": title,
            "forename": o.loc[mem["ref"], "given"].to_numpy(),
            "surname": o.loc[mem["ref"], "family"].to_numpy(),
            "dob": nz.fmt_dates(o.loc[mem["ref"], "dob"].to_numpy(), "%d/%m/%y"),
            "gender": o.loc[mem["ref"], "sex"].to_numpy(),
            "relationship_to_lead": mem["relationship"].to_numpy(),
            "moved_in": nz.fmt_dates(mem["start"].to_numpy(), "%Y-%m-%d"),
            "moved_out": nz.fmt_dates(mem["end"].to_numpy(), "%Y-%m-%d"),
        }
    )
    # joint tenants
    joint = (members["relationship_to_lead"].isin(["Partner", "Spouse"])) & (rng.random(len(members)) < 0.3)
    members.loc[joint, "relationship_to_lead"] = "Joint tenant"
    members["_person"] = mem["person"].to_numpy()
    members["_defect"] = None
    # defects: a test tenancy and a member whose person ref was never keyed
    test_t = _first_or_blank(tenancies)
    test_t["tenancy_ref"], test_t["tenure_type"], test_t["lead_tenant_ref"] = (
        "T0000001",
        "TEST",
        "HP0000001",
    )
    test_m = _first_or_blank(members)
    test_m["member_id"] = len(members) + 1
    test_m["tenancy_ref"], test_m["person_ref"], test_m["forename"], test_m["surname"] = (
        "T0000001",
        "HP0000001",
        "Test",
        "Tenant",
    )
    test_m["relationship_to_lead"], test_m["_person"], test_m["_defect"] = "Tenant", -1, "filtered"
    test_m[["dob", "title", "moved_out"]] = None
    test_t[["uprn", "address_line_2", "end_date", "homeless_duty", "homeless_decision_date"]] = None
    test_t["address_line_1"], test_t["postcode"] = "1 Test Street", "BD1 1AA"
    noid = _rows_at(members[members["relationship_to_lead"].isin(["Son", "Daughter"])], [0])
    noid["member_id"] = len(members) + 2
    noid["person_ref"], noid["_defect"] = None, "missing_id"
    tenancies = _append(tenancies, test_t)
    members = _append(members, test_m, noid)
    # the mapping's query returns rows in member_id order
    truth = _records_from_rows(members, [("person_ref", "_person")])
    ext = Extract(frame=members, truth=truth, extra={"tenancies": tenancies})
    return ext


# --------------------------------------------------------------------------- youth justice


def yot(ctx: Ctx, rng: np.random.Generator, yj: pd.DataFrame, extract_day: int) -> Extract:
    """Youth justice outcomes (Parquet, typed): young person and parent or carer."""
    people = ctx.people
    yps = np.unique(yj["person"].to_numpy())
    yid = dict(zip(yps.tolist(), _codes(rng, "YJ", len(yps), 6), strict=True))
    recs = yj.drop_duplicates("person")
    obs = observe(ctx, rng, recs["person"].to_numpy(), recs["outcome_date"].to_numpy(), nick=0.1, typo=0.02)
    o = obs.set_index("person")
    par = yj.drop_duplicates("person")[["person", "parent"]]
    has_p = par["parent"].to_numpy() >= 0
    pobs = observe(
        ctx,
        rng,
        np.maximum(par["parent"].to_numpy(), 0),
        recs["outcome_date"].to_numpy(),
        nick=0.08,
        typo=0.02,
    )
    pname = nz.keep(has_p, _given_first(pobs["given"].to_numpy(), pobs["family"].to_numpy()))
    child = par["person"].to_numpy()
    parent = par["parent"].to_numpy()
    pm = people["mother"].to_numpy()[child]
    pf = people["father"].to_numpy()[child]
    psex = people["sex"].to_numpy()[np.maximum(parent, 0)]
    prel = np.select(
        [parent == pm, parent == pf],
        ["Mother", "Father"],
        default=np.where(psex == "F", "Grandmother", "Carer"),
    )
    pinfo = pd.DataFrame(
        {
            "person": child,
            "pname": pname,
            "prel": nz.keep(has_p, prel),
            "pdob": np.where(has_p & (rng.random(len(child)) < 0.4), pobs["dob"].to_numpy(), MISSING),
            "pid": parent,
        }
    ).set_index("person")
    p_idx = yj["person"].to_numpy()
    a = _addr(ctx, rng, o.loc[p_idx, "address_id"].to_numpy())
    workers = _worker(rng, 12)

    def dates(days):
        return nz.to_datetime(days).dt.date

    frame = pd.DataFrame(
        {
            "yot_id": [yid[p] for p in p_idx.tolist()],
            "first_name": o.loc[p_idx, "given"].to_numpy(),
            "last_name": o.loc[p_idx, "family"].to_numpy(),
            "dob": dates(o.loc[p_idx, "dob"].to_numpy()),
            "gender": _sex(o.loc[p_idx, "sex"].to_numpy(), {"M": "Male", "F": "Female"}),
            "address": _one_line([a["line1"], a["line2"], a["town"]]),
            "postcode": a["postcode"],
            "outcome_id": np.arange(5001, 5001 + len(yj), dtype=np.int64),
            "offence_date": dates(yj["offence_date"].to_numpy()),
            "outcome_date": dates(yj["outcome_date"].to_numpy()),
            "outcome": yj["outcome"].to_numpy(),
            "order_end_date": dates(yj["end_date"].to_numpy()),
            "case_worker": workers[rng.integers(0, len(workers), len(yj))],
            "parent_carer_name": pinfo.loc[p_idx, "pname"].to_numpy(),
            "parent_carer_relationship": pinfo.loc[p_idx, "prel"].to_numpy(),
            "parent_carer_dob": dates(pinfo.loc[p_idx, "pdob"].to_numpy()),
            "extract_date": dates(np.full(len(yj), extract_day)),
        }
    )
    frame["_yp"] = p_idx
    frame["_parent"] = pinfo.loc[p_idx, "pid"].to_numpy()
    frame["parent_carer_ref"] = nz.keep(frame["_parent"] >= 0, frame["yot_id"] + "-PC")
    frame["_defect"] = None
    if len(frame):
        noid = frame.iloc[[0]].copy()
        noid["yot_id"], noid["parent_carer_ref"], noid["_defect"] = None, None, "missing_id"
        noid["outcome_id"] = 9001
        frame = _append(frame, noid)
    truth = _records_from_rows(frame, [("yot_id", "_yp"), ("parent_carer_ref", "_parent")])
    return Extract(frame=frame, truth=truth)


# --------------------------------------------------------------------------- probation


def probation(ctx: Ctx, rng: np.random.Generator, m: pd.DataFrame) -> Extract:
    """Probation MAPPA nominals (tab separated)."""
    people = ctx.people
    n = len(m)
    obs = observe(
        ctx,
        rng,
        m["person"].to_numpy(),
        m["start"].to_numpy(),
        nick=0.1,
        typo=0.02,
        old_address=0.15,
    )
    a = _addr(ctx, rng, obs["address_id"].to_numpy())
    birth = people["birth_surname"].to_numpy()[m["person"].to_numpy()]
    alias = []
    extra = sample_surname(rng, people["group"].to_numpy()[m["person"].to_numpy()])
    for i in range(n):
        names = []
        if birth[i] != obs["family"].iat[i]:
            names.append(birth[i])
        if rng.random() < 0.2:
            names.append(extra[i])
        alias.append(";".join(names) or None)
    workers = _worker(rng, 10)
    frame = pd.DataFrame(
        {
            "CRN": _codes(rng, "X", n, 6),
            "CASE_STATUS": "ACTIVE",
            "SURNAME": [s.upper() if isinstance(s, str) else s for s in obs["family"]],
            "FIRST_NAME": obs["given"].to_numpy(),
            "OTHER_NAMES": obs["middle"].to_numpy(),
            "DOB": nz.fmt_dates(obs["dob"].to_numpy(), "%d/%m/%Y"),
            "GENDER": obs["sex"].to_numpy(),
            "ALIAS_SURNAMES": np.asarray(alias, dtype=object),
            "ADDRESS": _one_line([a["line1"], a["line2"], a["town"]]),
            "POSTCODE": a["postcode"],
            "MAPPA_CATEGORY": m["category"].astype(str).to_numpy(),
            "MAPPA_LEVEL": m["level"].astype(str).to_numpy(),
            "MAPPA_START": nz.fmt_dates(m["start"].to_numpy(), "%d/%m/%Y"),
            "NEXT_REVIEW": nz.fmt_dates(m["review"].to_numpy(), "%d/%m/%Y"),
            "OFFENDER_MANAGER": workers[rng.integers(0, len(workers), n)],
        }
    )
    frame["_person"] = m["person"].to_numpy()
    frame["_defect"] = None
    if n:
        test = frame.iloc[[0]].copy()
        test["CRN"], test["CASE_STATUS"], test["SURNAME"], test["FIRST_NAME"] = (
            "X000000",
            "TEST",
            "TEST",
            "Offender",
        )
        test[["OTHER_NAMES", "DOB", "ALIAS_SURNAMES", "ADDRESS", "POSTCODE"]] = None
        test["_person"], test["_defect"] = -1, "filtered"
        noid = frame.iloc[[n - 1]].copy()
        noid["CRN"], noid["_defect"] = None, "missing_id"
        frame = _append(frame, test, noid)
    truth = _records_from_rows(frame, [("CRN", "_person")])
    return Extract(frame=frame, truth=truth)


# --------------------------------------------------------------------------- all sources


def build_extracts(population: Population, *, seed: Seed) -> dict[str, Extract]:
    """Every source's rows and truth, drawn from ``population`` with seeded noise."""
    internal = population._internal
    if not internal:
        raise ValueError("population must come from generate_population (it carries the generator state)")
    ctx: Ctx = internal["ctx"]
    rng = as_generator(seed)
    extract_day = day(population.as_at)
    out = {
        "csc": csc(ctx, rng, internal["csc"]),
        "police_da": police_da(ctx, rng, internal["police_da"]),
        "school": school(ctx, rng, internal["school"]),
        "health": health(ctx, rng, internal["health"]),
        "housing": housing(ctx, rng, internal["tenancies"], internal["members"]),
        "yot": yot(ctx, rng, internal["yot"], extract_day),
        "probation": probation(ctx, rng, internal["mappa"]),
    }
    return out


def truth_records(extracts: dict[str, Extract]) -> pd.DataFrame:
    """``truth/records.parquet``: every person-record of every extract."""
    frames = []
    for source, ex in extracts.items():
        t = ex.truth
        frames.append(
            pd.DataFrame(
                {
                    "source": source,
                    "source_record_id": t["source_record_id"].to_numpy(dtype=object),
                    "person_id": nz.keep(
                        t["person"].to_numpy() >= 0, pid(np.maximum(t["person"].to_numpy(), 0))
                    ),
                    "row_number": t["row_number"].to_numpy(),
                    "expected_quarantine": t["expected_quarantine"].to_numpy(dtype=bool),
                    "defect": t["defect"].to_numpy(dtype=object),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
