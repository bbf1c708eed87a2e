"""``generate_population``: the population model, its homes and its agency events."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ingest.standardise.identifiers import nhs_check_digit
from kinlink.synth import _events as ev
from kinlink.synth import _names as nm
from kinlink.synth._homes import build_homes
from kinlink.synth._noise import days_to_datetime
from kinlink.synth._population import (
    DEFAULT_AS_AT,
    WINDOW_START,
    Population,
    _families,
    _name_history,
    _relationships,
    build_people,
    day,
    pid,
)

Seed = int | np.random.Generator | None


def as_generator(seed: Seed) -> np.random.Generator:
    """A numpy Generator from ``seed`` (an int, a Generator used as is, or None: fresh)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an int, a numpy Generator or None, not {type(seed).__name__}")
    return np.random.default_rng(seed)


def nhs_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct valid NHS numbers (ten digits, modulus 11)."""
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        need = n - len(out)
        nine = rng.integers(400_000_000, 799_999_999, size=int(need * 1.15) + 10)
        for v in nine.tolist():
            s = str(v)
            check = nhs_check_digit(s)
            if check is None:
                continue
            full = s + str(check)
            if full in seen:
                continue
            seen.add(full)
            out.append(full)
            if len(out) == n:
                break
    return np.array(out, dtype=object)


def _dates(days: np.ndarray | pd.Series) -> pd.Series:
    return days_to_datetime(np.asarray(days))


def _ids(idx: np.ndarray | pd.Series) -> np.ndarray:
    arr = np.asarray(idx, dtype=np.int64)
    out = pid(np.maximum(arr, 0))
    out[arr < 0] = None
    return out


def generate_population(
    n_people: int = 2000, *, seed: Seed = None, as_at: dt.date = DEFAULT_AS_AT
) -> Population:
    """Generate a synthetic borough of about ``n_people`` people.

    Families span three to four generations: grandparents, their children and those
    children's partners (married, cohabiting, separated, divorced, re-partnered: step- and
    half-siblings), grandchildren (twins among them, some sons named after their fathers,
    some not yet born or named), and a few great-grandchildren. People move house, change
    family name on marriage and divorce, and die. Agency involvement (children's social care,
    police domestic abuse, school census, health visiting, social housing, youth justice,
    MAPPA) is drawn from the family circumstances.

    Parameters
    ----------
    n_people
        Target population size; the result has roughly this many people.
    seed
        ``int``, ``numpy.random.Generator`` or ``None``. The same int gives identical output.
    as_at
        The date the data describe ("data as at"); events run to it.

    Examples
    --------
    >>> pop = generate_population(300, seed=1)
    >>> sorted(pop.events)[:3]
    ['csc', 'health', 'housing']
    """
    if n_people < 10:
        raise ValueError(f"n_people must be at least 10, got {n_people}")
    rng = as_generator(seed)
    asd = day(as_at)
    w = build_people(rng, n_people, asd)
    households, addresses, residences, custodial = build_homes(rng, w.people, w.parts, asd)
    hist = _name_history(w)
    families, _ = _families(w.people, w.parts, asd, custodial)
    rel = _relationships(w, residences)
    people = w.people
    n = len(people)
    nhs = nhs_numbers(rng, n)
    current = hist.drop_duplicates("person", keep="last").set_index("person")["family_name"]
    unborn = people["dob"] > asd
    given = people["given"].copy()
    given[unborn] = None
    pdf = pd.DataFrame(
        {
            "person": np.arange(n),
            "sex": people["sex"],
            "dob": people["dob"],
            "dod": people["dod"],
            "group": people["group"],
            "generation": people["generation"],
            "mother": people["mother"],
            "father": people["father"],
            "given": given,
            "middle": people["middle"],
            "birth_surname": people["birth_surname"],
            "family_name": current.reindex(np.arange(n)).to_numpy(),
            "twin_set": people["twin_set"],
            "birth_partnership": people["birth_partnership"],
            "custodial": np.where(people["mother"] >= 0, custodial, -1),
            "nhs": nhs,
        }
    )
    parts = pd.DataFrame(
        {k: w.parts.col(k) for k in ("a", "b", "kind", "start", "end", "end_reason", "order")}
    )
    addresses = addresses.set_index("address_id", drop=False)
    ctx = ev.Ctx(
        rng=rng,
        as_at=asd,
        window_start=day(WINDOW_START),
        people=pdf,
        parts=parts,
        residences=residences,
        addresses=addresses,
        names=hist[["person", "family_name", "start", "end"]],
        custodial=custodial,
    )
    da = ev.domestic_abuse(ctx)
    csc = ev.social_care(ctx, da)
    school = ev.school_census(ctx, csc)
    health = ev.health_visiting(ctx)
    ten, members = ev.tenancies(ctx)
    yot = ev.youth_justice(ctx, csc, da)
    mappa = ev.mappa(ctx, da)
    internal = {
        "ctx": ctx,
        "police_da": da,
        "csc": csc,
        "school": school,
        "health": health,
        "tenancies": ten,
        "members": members,
        "yot": yot,
        "mappa": mappa,
    }

    persons = pd.DataFrame(
        {
            "person_id": pid(np.arange(n)),
            "given_name": given,
            "middle_names": people["middle"],
            "family_name": pdf["family_name"],
            "birth_family_name": people["birth_surname"],
            "sex": people["sex"],
            "dob": _dates(people["dob"]),
            "dod": _dates(people["dod"]),
            "unborn": unborn,
            "generation": people["generation"],
            "naming_group": np.asarray(nm.GROUPS, dtype=object)[people["group"]],
            "mother_id": _ids(people["mother"]),
            "father_id": _ids(people["father"]),
            "twin_of": _ids(np.where(people["twin_set"] == np.arange(n), -1, people["twin_set"])),
            "nhs_number": nhs,
        }
    )
    # a first twin points at nobody; the second points at the first
    name_history = pd.DataFrame(
        {
            "person_id": pid(hist["person"].to_numpy()),
            "family_name": hist["family_name"],
            "start": _dates(hist["start"]),
            "end": _dates(hist["end"]),
            "reason": hist["reason"],
        }
    )
    partnerships = pd.DataFrame(
        {
            "partnership_id": [f"R{i:06d}" for i in range(len(parts))],
            "person_id_a": _ids(parts["a"]),
            "person_id_b": _ids(parts["b"]),
            "kind": parts["kind"],
            "start": _dates(parts["start"]),
            "end": _dates(parts["end"]),
            "end_reason": parts["end_reason"],
        }
    )
    pc = rel[rel["type"].isin(["mother", "father"])]
    parent_child = pd.DataFrame(
        {
            "parent_id": _ids(pc["src"]),
            "child_id": _ids(pc["dst"]),
            "relationship": pc["type"].to_numpy(),
        }
    )
    hh_ids = np.char.add("H", np.char.zfill(households["household"].to_numpy().astype(str), 6)).astype(object)
    hh_public = pd.DataFrame(
        {
            "household_id": hh_ids,
            "kind": households["kind"],
            "start": _dates(households["start"]),
            "end": _dates(households["end"]),
        }
    )
    res_public = pd.DataFrame(
        {
            "person_id": pid(residences["person"].to_numpy()),
            "household_id": hh_ids[residences["household"].to_numpy()],
            "address_id": residences["address_id"].to_numpy(),
            "start": _dates(residences["start"]),
            "end": _dates(residences["end"]),
        }
    )
    fam_public = pd.DataFrame(
        {
            "family_id": np.char.add("F", np.char.zfill(families["family"].to_numpy().astype(str), 5)).astype(
                object
            ),
            "person_id": pid(families["person"].to_numpy()),
            "role": families["role"].to_numpy(),
        }
    )
    rel_public = pd.DataFrame(
        {
            "person_id_from": pid(rel["src"].to_numpy()),
            "person_id_to": pid(rel["dst"].to_numpy()),
            "relationship_type": rel["type"].to_numpy(),
            "start_date": _dates(rel["start"]),
            "end_date": _dates(rel["end"]),
        }
    )
    da_rel = da[da["perp_known"]]
    rel_public = pd.concat(
        [
            rel_public,
            pd.DataFrame(
                {
                    "person_id_from": pid(da_rel["perp"].to_numpy()),
                    "person_id_to": pid(da_rel["victim"].to_numpy()),
                    "relationship_type": "perpetrator_of_abuse_against",
                    "start_date": _dates(da_rel["date"]),
                    "end_date": _dates(da_rel["date"]),
                }
            ),
        ],
        ignore_index=True,
    )
    events = _public_events(internal)
    pop = Population(
        persons=persons,
        name_history=name_history,
        partnerships=partnerships,
        parent_child=parent_child,
        households=hh_public,
        addresses=addresses.drop(columns=["district"]).reset_index(drop=True),
        residences=res_public,
        families=fam_public,
        relationships=rel_public,
        events=events,
        as_at=as_at,
    )
    pop._internal = internal
    return pop


def _id_lists(lists: pd.Series) -> list[list[str]]:
    """Lists of person numbers as lists of person ids (one vectorised conversion)."""
    lens = [len(v) for v in lists]
    flat = pid(np.array([p for v in lists for p in v], dtype=np.int64)).tolist()
    out, pos = [], 0
    for k in lens:
        out.append(flat[pos : pos + k])
        pos += k
    return out


def _public_events(x: dict) -> dict[str, pd.DataFrame]:
    da = x["police_da"]
    out = {
        "police_da": pd.DataFrame(
            {
                "incident": da["incident"],
                "victim_id": _ids(da["victim"]),
                "perpetrator_id": _ids(da["perp"]),
                "perpetrator_known": da["perp_known"],
                "date": _dates(da["date"]),
                "relationship": da["relationship"],
                "risk": da["risk"],
                "marac": da["marac"],
                "children_present": _id_lists(da["children"]),
            }
        ),
        "csc": pd.DataFrame(
            {
                "person_id": _ids(x["csc"]["person"]),
                "episode_type": x["csc"]["type"],
                "category": x["csc"]["category"],
                "start": _dates(x["csc"]["start"]),
                "end": _dates(x["csc"]["end"]),
                "referral": x["csc"]["referral"],
                "unborn_at_start": x["csc"]["unborn"],
            }
        ),
        "school": pd.DataFrame(
            {
                "person_id": _ids(x["school"]["person"]),
                "census": x["school"]["term"],
                "year_group": x["school"]["nc"],
                "estab": x["school"]["estab"],
                "ehcp": x["school"]["ehcp"],
                "exclusion": x["school"]["exclusion"],
                "exclusion_date": _dates(x["school"]["exclusion_date"]),
                "contact_id": _ids(x["school"]["contact"]),
                "contact_relationship": x["school"]["contact_rel"],
            }
        ),
        "health": pd.DataFrame(
            {
                "person_id": _ids(x["health"]["person"]),
                "contact": x["health"]["type"],
                "date": _dates(x["health"]["date"]),
            }
        ),
        "housing": pd.DataFrame(
            {
                "tenancy": x["members"]["tenancy"],
                "person_id": _ids(x["members"]["person"]),
                "lead_id": _ids(x["members"]["lead"]),
                "relationship_to_lead": x["members"]["relationship"],
                "start": _dates(x["members"]["start"]),
                "end": _dates(x["members"]["end"]),
            }
        ),
        "yot": pd.DataFrame(
            {
                "person_id": _ids(x["yot"]["person"]),
                "outcome": x["yot"]["outcome"],
                "offence_date": _dates(x["yot"]["offence_date"]),
                "outcome_date": _dates(x["yot"]["outcome_date"]),
                "end": _dates(x["yot"]["end_date"]),
                "parent_id": _ids(x["yot"]["parent"]),
            }
        ),
        "mappa": pd.DataFrame(
            {
                "person_id": _ids(x["mappa"]["person"]),
                "category": x["mappa"]["category"],
                "level": x["mappa"]["level"],
                "start": _dates(x["mappa"]["start"]),
            }
        ),
    }
    return out
