"""Households, addresses and who lived where when.

A household is a couple living together (one per partnership) or an adult living without a
partner (with whichever children live with them). Each household has a run of addresses
(moves); a person's residence history is the households they belonged to, crossed with
those households' addresses. Children follow the parent they live with after a separation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kinlink.synth._places import make_addresses, make_streets

YEAR = 365.25
MISSING = -(10**9)
OPEN = 10**9  # "still so" end in int day arrays


def build_homes(
    rng: np.random.Generator, people, parts, as_at: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Households, addresses and residences; also each child's custodial parent."""
    n = len(people)
    dob = people["dob"]
    dod = people["dod"]
    life_end = np.where(dod > MISSING, dod, OPEN)
    pa = parts.col("a").astype(np.int64)
    pb = parts.col("b").astype(np.int64)
    ps = parts.col("start").astype(np.int64)
    pe = parts.col("end").astype(np.int64)
    pe = np.where(pe > MISSING, pe, OPEN)
    # a death ends the household
    pe = np.minimum(pe, np.minimum(life_end[pa], np.where(pb >= 0, life_end[np.maximum(pb, 0)], OPEN)))
    stayer = np.where(rng.random(len(pa)) < 0.7, pa, pb)

    hh_start: list[int] = []
    hh_end: list[int] = []
    hh_kind: list[str] = []
    hh_inherit: list[int] = []  # household whose last address this one starts at (-1: new)
    spells: list[list[tuple[int, int, int]]] = [[] for _ in range(n)]

    def new_hh(start: int, end: int, kind: str, inherit: int = -1) -> int:
        hh_start.append(start)
        hh_end.append(end)
        hh_kind.append(kind)
        hh_inherit.append(inherit)
        return len(hh_start) - 1

    part_hh = np.empty(len(pa), dtype=np.int64)
    for p in np.argsort(ps, kind="stable"):
        if pe[p] <= ps[p]:
            part_hh[p] = -1
            continue
        h = new_hh(int(ps[p]), int(pe[p]), "couple")
        part_hh[p] = h
        spells[pa[p]].append((int(ps[p]), int(pe[p]), h))
        if pb[p] >= 0:
            spells[pb[p]].append((int(ps[p]), int(pe[p]), h))

    # when adults set up on their own
    born_here = people["mother"] >= 0
    leave = dob + (rng.uniform(18, 24, n) * YEAR).astype(np.int64)
    first_part = np.full(n, OPEN, dtype=np.int64)
    np.minimum.at(first_part, pa, ps)
    np.minimum.at(first_part, pb[pb >= 0], ps[pb >= 0])
    adult_start = np.where(born_here, np.minimum(leave, first_part), first_part)
    incomer_single = (~born_here) & (first_part == OPEN)
    adult_start = np.where(incomer_single, dob + int(20 * YEAR), adult_start)

    # gaps between couple households become single households
    couple_hh_of_end: dict[tuple[int, int], int] = {}
    for p in range(len(pa)):
        if part_hh[p] >= 0:
            couple_hh_of_end[(int(stayer[p]), int(pe[p]))] = int(part_hh[p])
    next_couple_inherit: list[tuple[int, int]] = []  # (couple hh, single hh before it)
    for i in range(n):
        own = sorted(spells[i])
        t = int(adult_start[i])
        stop = int(min(life_end[i], OPEN))
        if t >= min(stop, as_at):
            continue
        filled: list[tuple[int, int, int]] = []
        prev_couple = -1
        for s, e, h in own:
            if s > t:
                inherit = couple_hh_of_end.get((i, t), -1) if prev_couple >= 0 else -1
                g = new_hh(t, s, "single", inherit)
                filled.append((t, s, g))
                if people["sex"][i] == "F":
                    next_couple_inherit.append((h, g))
            filled.append((s, e, h))
            t = max(t, e)
            prev_couple = h
        if t < stop and t < as_at:
            inherit = couple_hh_of_end.get((i, t), -1) if prev_couple >= 0 else -1
            g = new_hh(t, stop, "single", inherit)
            filled.append((t, stop, g))
        spells[i] = filled
    for h, g in next_couple_inherit:
        if hh_inherit[h] < 0 and rng.random() < 0.5:
            hh_inherit[h] = g

    # children live with a parent until they set up on their own
    bp = people["birth_partnership"]
    has_bp = bp >= 0
    with_father = np.zeros(n, dtype=bool)
    # one decision per partnership, so siblings stay together
    father_keeps = rng.random(max(len(pa), 1)) < 0.12
    with_father[has_bp] = father_keeps[bp[has_bp]]
    custodial = np.where(with_father, people["father"], people["mother"])
    custodial = np.where(custodial >= 0, custodial, people["mother"])
    child_spells: list[tuple[int, int, int, int]] = []
    for ci in np.flatnonzero(born_here).tolist():
        c = int(custodial[ci])
        start = int(dob[ci])
        end = int(min(adult_start[ci], life_end[ci]))
        if end <= start:
            continue
        for s, e, h in spells[c]:
            lo, hi = max(s, start), min(e, end)
            if lo < hi:
                child_spells.append((ci, lo, hi, h))
    # household address runs
    hs = np.asarray(hh_start, dtype=np.int64)
    he = np.asarray(hh_end, dtype=np.int64)
    n_hh = len(hs)
    dur = (np.minimum(he, as_at) - hs) / YEAR
    moves = rng.poisson(np.clip(dur, 0, None) / 9.0)
    total_runs = n_hh + int(moves.sum())
    streets = make_streets(rng, int(total_runs * 1.6) + 500)
    addresses = make_addresses(rng, streets, total_runs)
    next_address = 0
    run_h: list[int] = []
    run_s: list[int] = []
    run_e: list[int] = []
    run_a: list[int] = []
    last_address = np.full(n_hh, -1, dtype=np.int64)
    move_fracs = rng.random(int(moves.sum()))
    mf = 0
    for h in np.argsort(hs, kind="stable"):
        src = hh_inherit[h]
        if src >= 0 and last_address[src] >= 0:
            a = int(last_address[src])
        else:
            a = next_address
            next_address += 1
        k = int(moves[h])
        end_h = int(min(he[h], as_at))
        cuts = sorted(int(hs[h] + f * max(end_h - hs[h], 1)) for f in move_fracs[mf : mf + k])
        mf += k
        t = int(hs[h])
        for c in [*cuts, int(he[h])]:
            if c > t:
                run_h.append(int(h))
                run_s.append(t)
                run_e.append(c)
                run_a.append(a)
                t = c
            if c != int(he[h]):
                a = next_address
                next_address += 1
        last_address[h] = a
    addresses = addresses.iloc[:next_address].copy()
    runs = pd.DataFrame({"household": run_h, "a_start": run_s, "a_end": run_e, "address_id": run_a})

    mem_rows = [(i, s, e, h) for i in range(n) for (s, e, h) in spells[i]] + child_spells
    members = pd.DataFrame(mem_rows, columns=["person", "m_start", "m_end", "household"])
    res = members.merge(runs, on="household")
    res["start"] = np.maximum(res["m_start"], res["a_start"])
    res["end"] = np.minimum(res["m_end"], res["a_end"])
    res = res[(res["start"] < res["end"]) & (res["start"] <= as_at)]
    res = res.sort_values(["person", "start"], kind="stable").reset_index(drop=True)
    residences = res[["person", "household", "address_id", "start", "end"]].copy()
    households = pd.DataFrame({"household": np.arange(n_hh), "kind": hh_kind, "start": hs, "end": he})
    return households, addresses, residences, custodial
