"""A borough-like set of streets, localities, postcodes and UPRNs for the synthetic data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

TOWN = "BRADLEY CROSS"
LA_NUMBER = "380"

#: Postcode district -> localities in it. One postcode area ("BD") as one borough would have.
DISTRICTS: dict[str, tuple[str, ...]] = {
    "BD1": ("City Centre",),
    "BD2": ("Eccleshill", "Undercliffe"),
    "BD3": ("Barkerend", "Thornbury"),
    "BD4": ("Bierley", "Tong Street"),
    "BD5": ("Little Horton", "West Bowling"),
    "BD6": ("Buttershaw", "Wibsey"),
    "BD7": ("Great Horton", "Lidget Green"),
    "BD8": ("Manningham", "Girlington"),
    "BD9": ("Heaton", "Frizinghall"),
    "BD10": ("Idle", "Thackley"),
    "BD12": ("Low Moor", "Wyke"),
    "BD15": ("Allerton", "Sandy Lane"),
}

_STEMS = [
    "Acacia",
    "Albert",
    "Alder",
    "Alexandra",
    "Allerton",
    "Ash",
    "Aspen",
    "Balmoral",
    "Beech",
    "Belgrave",
    "Birch",
    "Blenheim",
    "Bolton",
    "Bowling",
    "Bradford",
    "Bramble",
    "Bridge",
    "Brook",
    "Buckingham",
    "Byron",
    "Canal",
    "Carlisle",
    "Castle",
    "Cavendish",
    "Cedar",
    "Chapel",
    "Chatsworth",
    "Chestnut",
    "Church",
    "Clarence",
    "Claremont",
    "Clifton",
    "Coronation",
    "Cross",
    "Dale",
    "Denby",
    "Devonshire",
    "Dudley",
    "Durham",
    "Elm",
    "Fairfield",
    "Fern",
    "Field",
    "Forest",
    "Garden",
    "George",
    "Gladstone",
    "Glebe",
    "Grange",
    "Green",
    "Grove",
    "Hall",
    "Hanover",
    "Harewood",
    "Hawthorn",
    "Hazel",
    "Heather",
    "High",
    "Highfield",
    "Hill",
    "Hollin",
    "Holly",
    "Holme",
    "Ivy",
    "Jubilee",
    "Kensington",
    "King",
    "Laburnum",
    "Lancaster",
    "Larch",
    "Laurel",
    "Lime",
    "Linden",
    "Lister",
    "Manor",
    "Maple",
    "Market",
    "Marlborough",
    "Meadow",
    "Mill",
    "Milton",
    "Moor",
    "Moorland",
    "Mount",
    "Nelson",
    "Newlands",
    "Northfield",
    "Oak",
    "Orchard",
    "Park",
    "Parkside",
    "Pine",
    "Poplar",
    "Primrose",
    "Prince",
    "Priory",
    "Queen",
    "Queens",
    "Railway",
    "Regent",
    "Richmond",
    "Ripley",
    "Rose",
    "Rowan",
    "Salisbury",
    "School",
    "Shelley",
    "Spring",
    "Springfield",
    "Station",
    "Stone",
    "Sycamore",
    "Thornton",
    "Tower",
    "Trinity",
    "Union",
    "Valley",
    "Vicarage",
    "Victoria",
    "Walnut",
    "Water",
    "Well",
    "Wellington",
    "Westfield",
    "Whitby",
    "Willow",
    "Windsor",
    "Woodland",
    "Woodlands",
    "York",
]
_SUFFIXES = [
    "Road",
    "Street",
    "Avenue",
    "Close",
    "Lane",
    "Way",
    "Gardens",
    "Crescent",
    "Drive",
    "Court",
    "Grove",
    "Terrace",
    "Place",
    "Mount",
    "Walk",
    "Rise",
    "View",
    "Fold",
    "Green",
]
_BLOCKS = [
    "Ash",
    "Beech",
    "Cedar",
    "Elm",
    "Holly",
    "Larch",
    "Maple",
    "Oak",
    "Pine",
    "Rowan",
    "Willow",
    "Priory",
    "Victoria",
    "Albion",
    "Ravenscliffe",
    "Thorn",
    "Heaton",
    "Manor",
    "Park",
]
_BLOCK_KINDS = ["House", "Court", "Heights", "Point"]
# Letters allowed in the unit part of an inward code (not C I K M O V).
_UNIT_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
HOUSES_PER_STREET = 120
FLATS_PER_BLOCK = 60


@dataclass(frozen=True)
class Streets:
    """Every street of the borough: name, district, locality, sector, social-housing flag."""

    frame: pd.DataFrame

    @property
    def capacity(self) -> int:
        return int(self.frame["capacity"].sum())


def make_streets(rng: np.random.Generator, min_addresses: int) -> Streets:
    """Streets enough to give at least ``min_addresses`` distinct addresses."""
    names = [f"{s} {x}" for s in _STEMS for x in _SUFFIXES]
    order = rng.permutation(len(names))
    districts = list(DISTRICTS)
    rows = []
    total = 0
    i = 0
    while total < min_addresses or i < 200:
        base = names[order[i % len(names)]]
        # A second pass over the names reuses a street name in another district.
        district = districts[int(rng.integers(len(districts)))]
        localities = DISTRICTS[district]
        locality = localities[int(rng.integers(len(localities)))]
        is_block = rng.random() < 0.12
        social = rng.random() < (0.75 if is_block else 0.22)
        block = ""
        if is_block:
            block = f"{_BLOCKS[int(rng.integers(len(_BLOCKS)))]} {_BLOCK_KINDS[int(rng.integers(4))]}"
        capacity = FLATS_PER_BLOCK if is_block else HOUSES_PER_STREET
        rows.append(
            {
                "street": base,
                "district": district,
                "locality": locality,
                "sector": int(rng.integers(1, 10)),
                "block": block,
                "social": bool(social),
                "capacity": capacity,
            }
        )
        total += capacity
        i += 1
    frame = pd.DataFrame(rows)
    frame["unit_seed"] = rng.integers(0, 400, size=len(frame))
    return Streets(frame)


def make_addresses(rng: np.random.Generator, streets: Streets, n: int) -> pd.DataFrame:
    """``n`` distinct addresses drawn from ``streets`` (address_id 0..n-1)."""
    f = streets.frame
    cap = f["capacity"].to_numpy()
    starts = np.concatenate([[0], np.cumsum(cap)[:-1]])
    picks = np.sort(rng.choice(int(cap.sum()), size=n, replace=False))
    rng.shuffle(picks)
    street = np.searchsorted(starts, picks, side="right") - 1
    number = picks - starts[street] + 1
    is_block = f["block"].to_numpy()[street] != ""
    sname = f["street"].to_numpy()[street]
    block = f["block"].to_numpy()[street]
    # Houses: one postcode unit per 20 numbers; a block of flats is one unit.
    unit_no = np.where(is_block, 0, (number - 1) // 20) + f["unit_seed"].to_numpy()[street]
    l1 = _UNIT_LETTERS[(unit_no * 7 + street) % len(_UNIT_LETTERS)]
    l2 = _UNIT_LETTERS[(unit_no * 13 + street * 3) % len(_UNIT_LETTERS)]
    sector = f["sector"].to_numpy()[street].astype(str)
    district = f["district"].to_numpy()[street]
    postcode = district + " " + sector + l1 + l2
    block_no = (street % 40) + 1
    line1 = np.where(
        is_block,
        "Flat " + number.astype(str) + ", " + block,
        number.astype(str) + " " + sname,
    )
    line2 = np.where(is_block, block_no.astype(str) + " " + sname, "")
    uprn = 100051000000 + rng.choice(10_000_000, size=n, replace=False)
    return pd.DataFrame(
        {
            "address_id": np.arange(n),
            "uprn": uprn.astype(str),
            "line1": line1,
            "line2": line2,
            "locality": f["locality"].to_numpy()[street],
            "town": TOWN,
            "postcode": postcode,
            "district": district,
            "social_housing": f["social"].to_numpy()[street],
        }
    )
