"""Link records into people: prepare, block, compare, train, score, cluster, assign ids.

:func:`link_records` is the pure entry point: a canonical `records` table in, a
:class:`LinkResult` of tables out. It prints nothing and reads no file but the
nickname list its settings name.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ingest.schema import RECORDS
from linkage.arrays import member, sorted_codes, sorted_unique
from linkage.blocking import block
from linkage.clustering import Clusters, cluster_pairs
from linkage.comparisons import RELATIONAL_COMPARISONS
from linkage.errors import LinkageError
from linkage.households import MAX_HOUSEHOLD_SIZE
from linkage.ids import assign_ids
from linkage.model import (
    HOUSEHOLD_STRATA,
    ModelParameters,
)
from linkage.persons import _lists_by, build_persons
from linkage.prepare import load_nicknames, nickname_keys, nickname_pairs, positional, prepare_records
from linkage.scorer import PairScorer, ScoredPairs, household_rules
from linkage.scoring import Graded
from linkage.settings import LinkageSettings
from linkage.training import fit_parameters, patterns_of, stranger_pairs

__all__ = [
    "LinkInputs",
    "LinkResult",
    "different_people",
    "link_records",
    "prepare_for_linkage",
    "prepare_inputs",
    "with_nicknames",
]

Progress = Callable[[str], None]

# Columns whose equality makes two records of one source the same record content.
_CONTENT = (
    "given_full",
    "middle",
    "family",
    "dob",
    "dob_est_days",
    "sex",
    "postcode",
    "address",
    "uprn",
    "nhs",
    "upn",
)


@dataclass
class LinkResult:
    """What linkage produces, as tables ready for the workspace."""

    pairs: pd.DataFrame
    person_index: pd.DataFrame
    persons: pd.DataFrame
    id_changes: pd.DataFrame
    blocking: pd.DataFrame
    settings: LinkageSettings
    facts: dict[str, Any] = field(default_factory=dict)


def _random_pairs(
    n: int, size: int, sources: np.ndarray, link_type: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    a = rng.integers(0, n, size=size)
    b = rng.integers(0, n, size=size)
    keep = a != b
    if link_type == "link_only":
        keep &= sources[a] != sources[b]
    return a[keep], b[keep]


def _all_pairs(prepared: pd.DataFrame, link_type: str) -> float:
    """How many record pairs the link type compares, in all (not only candidates)."""
    n = float(len(prepared))
    total = n * (n - 1) / 2
    if link_type == "link_only":
        sizes = prepared["source"].value_counts().to_numpy(dtype=float)
        total -= float((sizes * (sizes - 1) / 2).sum())
    return total


def _content_groups(
    prepared: pd.DataFrame, records: pd.DataFrame, apart: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """For each record, the position of the first record of its source with identical content.

    School censuses repeat a pupil every term; such identical rows are one record's worth
    of evidence, and must not outweigh the other sources when the model is trained.
    Records with neither a name nor a date of birth are never collapsed, and neither are two
    records that ``apart`` says are different people (unnamed twins, "Baby Khan" and "Baby
    Khan", stated siblings of one source).
    """
    aliases = prepared["aliases"].to_numpy(dtype=object)
    columns = [
        prepared["source"],
        *(prepared[c] for c in _CONTENT),
        records["given_name_std"],
        pd.Series(["|".join(a) if len(a) else "" for a in aliases], dtype=object),
    ]
    codes = np.zeros(len(prepared), dtype=np.int64)
    for column in columns:  # one code per distinct combination so far (missing is a value)
        values, uniques = pd.factorize(column.to_numpy(), use_na_sentinel=False)
        codes = pd.factorize(codes * np.int64(len(uniques) + 1) + values)[0].astype(np.int64)
    informative = prepared["family"].notna() & (prepared["given"].notna() | prepared["dob"].notna())
    first = pd.Series(np.arange(len(prepared))).groupby(codes).transform("min").to_numpy()
    rep_of = np.where(informative.to_numpy(), first, np.arange(len(prepared)))
    a, b = apart
    clash = rep_of[a] == rep_of[b]
    keep_apart = sorted_unique(np.r_[a[clash], b[clash]])
    rep_of[keep_apart] = keep_apart
    return rep_of


# A parent is at least this much older than the child a source says they are the parent of.
_GENERATION_YEARS = {
    "mother": 12,
    "father": 12,
    "parent": 12,
    "step_parent": 12,
    "adoptive_parent": 12,
    "grandparent": 24,
}
#: Oldest a birth parent is at a child's birth, in years: births to women past 55 are all
#: but unknown; fathers are given longer. Step, adoptive and grandparents have no limit.
_MAX_GENERATION_YEARS = {"mother": 55, "father": 70, "parent": 70}
#: The usual ages of a birth parent at a child's birth, in years. In England and Wales
#: under 1 % of births are to mothers under 16 or over 45, or to fathers over 55; an age
#: outside these is possible (up to the limits above) but is evidence against a match.
_USUAL_GENERATION_YEARS = {"mother": (16, 45), "father": (16, 55), "parent": (16, 55)}
#: Youngest anyone is on the date a source says they were a partner, or a party to domestic
#: abuse (both ends): a conservative floor, well under the age of 16 in the statutory
#: definition of domestic abuse, so that a police party is never a baby of the same name.
_ADULT_RELATIONSHIPS = ("partner", "spouse", "ex_partner", "perpetrator_of_abuse_against")
_ADULT_RELATIONSHIP_MIN_YEARS = 12
#: Usual youngest age of a partner (the age of consent).
_ADULT_RELATIONSHIP_USUAL_YEARS = 16


@dataclass(frozen=True)
class AgeBounds:
    """Bounds (days since 1970, NaN where nothing is stated) on each record's date of birth
    that its stated relationships set: the plausible window, and the usual one inside it."""

    latest: np.ndarray
    earliest: np.ndarray
    usual_latest: np.ndarray
    usual_earliest: np.ndarray


def _adult_latest(stated: pd.DataFrame, where: pd.Series, years: float) -> pd.Series:
    """Latest date of birth (days since 1970) of each record dated in an adult relationship,
    ``years`` before the date."""
    rel = stated[stated["relationship_type"].isin(_ADULT_RELATIONSHIPS)]
    start = pd.to_datetime(rel["start_date"], errors="coerce").to_numpy(dtype="datetime64[D]")
    start_days = (start - np.datetime64("1970-01-01", "D")).astype("float64")
    start_days[np.isnat(start)] = np.nan
    latest = start_days - years * 365.25
    ends = [where.reindex(rel[c]).to_numpy() for c in ("from_record_key", "to_record_key")]
    pos = np.concatenate(ends)
    bound = np.concatenate([latest, latest])
    ok = ~(np.isnan(pos) | np.isnan(bound))
    return pd.Series(bound[ok]).groupby(pos[ok].astype(np.int64)).min()


def _age_bounds(records: pd.DataFrame, stated: pd.DataFrame | None) -> AgeBounds:
    """Latest and earliest plausible, and usual, date of birth of every record.

    A record a source states is the mother of a child born in 2014 was born by 2002 at
    the latest and in 1959 at the earliest (usually between 1969 and 1998); the child was
    born at least twelve years after a parent with a known date of birth (and at most 55
    after a mother, 70 after a father). A partner, or a party to domestic abuse, on a stated
    date was born twelve years before it at the latest (usually sixteen).
    """
    n = len(records)
    bounds = AgeBounds(*(np.full(n, np.nan) for _ in range(4)))
    if stated is None or not len(stated):
        return bounds
    estimated = records["dob_estimated"].fillna(False).astype(bool).to_numpy()
    dob = pd.to_datetime(records["dob"], errors="coerce").to_numpy(dtype="datetime64[D]")
    days = (dob - np.datetime64("1970-01-01", "D")).astype("float64")
    days[np.isnat(dob) | estimated] = np.nan
    where = pd.Series(np.arange(n), index=records["record_key"].to_numpy())
    rel = stated[stated["relationship_type"].isin(list(_GENERATION_YEARS))].dropna(subset=["to_record_key"])
    parent = where.reindex(rel["from_record_key"]).to_numpy()
    child = where.reindex(rel["to_record_key"]).to_numpy()
    ok = ~(np.isnan(parent) | np.isnan(child))
    parent, child = parent[ok].astype(np.int64), child[ok].astype(np.int64)
    kind = rel["relationship_type"].to_numpy(dtype=object)[ok]
    year = 365.25

    def years(table: dict[str, Any], default: float = np.nan) -> np.ndarray:
        return pd.Series(kind).map(table).fillna(default).to_numpy(dtype=float) * year

    gap, oldest = years(_GENERATION_YEARS), years(_MAX_GENERATION_YEARS)
    usual_young = years({k: young for k, (young, _) in _USUAL_GENERATION_YEARS.items()})
    usual_old = years({k: old for k, (_, old) in _USUAL_GENERATION_YEARS.items()})

    def tightest(parts: list[pd.Series], latest: bool) -> pd.Series:
        joined = pd.concat(parts).groupby(level=0)
        return (joined.min() if latest else joined.max()).dropna()

    def per(at: np.ndarray, values: np.ndarray, latest: bool) -> pd.Series:
        frame = pd.Series(values).groupby(at)
        return frame.min() if latest else frame.max()

    def window(young: np.ndarray, old: np.ndarray, adult_years: float) -> tuple[pd.Series, pd.Series]:
        """Latest and earliest date of birth per record, for parents ``young`` to ``old``
        (days) older than their children and partners at least ``adult_years`` old: a parent
        born by the child's birth less ``young`` and not before it less ``old``; a child
        between the parent's birth plus each."""
        latest = tightest(
            [
                per(parent, days[child] - young, True),
                per(child, days[parent] + old, True),
                _adult_latest(stated, where, adult_years),
            ],
            latest=True,
        )
        earliest = tightest(
            [per(parent, days[child] - old, False), per(child, days[parent] + young, False)],
            latest=False,
        )
        return latest, earliest

    latest_of, earliest_of = window(gap, oldest, _ADULT_RELATIONSHIP_MIN_YEARS)
    usual_latest_of, usual_earliest_of = window(usual_young, usual_old, _ADULT_RELATIONSHIP_USUAL_YEARS)
    for target, values in (
        (bounds.latest, latest_of),
        (bounds.earliest, earliest_of),
        (bounds.usual_latest, usual_latest_of),
        (bounds.usual_earliest, usual_earliest_of),
    ):
        target[values.index.to_numpy(dtype=np.int64)] = values.to_numpy()
    return bounds


def _check_unique_keys(records: pd.DataFrame) -> None:
    if records["record_key"].duplicated().any():
        raise LinkageError("records: record_key must be unique")


def prepare_for_linkage(
    records: pd.DataFrame,
    stated_relationships: pd.DataFrame | None = None,
    *,
    apart: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Prepared distinct records, the distinct record of every input record, and their positions.

    The prepared records carry `dob_latest_days` and `dob_earliest_days`: bounds on the date
    of birth that the stated relationships imply (a parent is older than their child), and
    `dob_usual_latest_days` and `dob_usual_earliest_days`, the usual window inside them.
    ``apart`` is :func:`different_people` by record position, when the caller has it already
    (and so has checked the record keys).
    """
    if apart is None:
        _check_unique_keys(records)
    records = positional(records)
    prepared_all = prepare_records(records)
    bounds = _age_bounds(records, stated_relationships)
    if apart is None:
        apart = different_people(records, stated_relationships, np.arange(len(records)))
    rep_of = _content_groups(prepared_all, records, apart)
    for column, values in (
        ("dob_latest_days", bounds.latest),
        ("dob_usual_latest_days", bounds.usual_latest),
    ):
        prepared_all[column] = pd.Series(values).groupby(rep_of).transform("min").to_numpy()
    for column, values in (
        ("dob_earliest_days", bounds.earliest),
        ("dob_usual_earliest_days", bounds.usual_earliest),
    ):
        prepared_all[column] = pd.Series(values).groupby(rep_of).transform("max").to_numpy()
    reps = sorted_unique(rep_of)
    position = pd.Series(np.arange(len(reps)), index=reps).reindex(rep_of).to_numpy()
    return (
        positional(prepared_all.iloc[reps]),
        position,
        prepared_all["record_key"].to_numpy(),
    )


def with_nicknames(prepared: pd.DataFrame, settings: LinkageSettings) -> set[tuple[str, str]]:
    """The pairs of given names the settings' nickname list makes equivalent; ``prepared``
    gets (in place) its `given_nickname` blocking key from the same list."""
    groups = load_nicknames(settings.nicknames) if settings.nicknames is not None else []
    prepared["given_nickname"] = nickname_keys(prepared["given"], groups)
    return nickname_pairs(groups)


@dataclass(frozen=True)
class LinkInputs:
    """Records made ready for either engine: the same preparation, whichever runs the pairs."""

    records: pd.DataFrame  # every canonical column, indexed 0..n-1
    prepared: pd.DataFrame  # one row per distinct record (see prepare_for_linkage)
    position: np.ndarray  # the distinct record of each record
    keys: np.ndarray  # record_key of each record
    cannot: tuple[np.ndarray, np.ndarray]  # distinct records that are certainly different people


def prepare_inputs(records: pd.DataFrame, stated_relationships: pd.DataFrame | None) -> LinkInputs:
    """Canonical ``records`` (and what the sources state) prepared for linking."""
    _check_unique_keys(records)
    records = positional(records)
    absent = [c for c in RECORDS.names if c not in records.columns]
    if absent:  # a records-like table from elsewhere: what it lacks is unknown
        records = records.assign(**{c: None for c in absent})
    apart = different_people(records, stated_relationships, np.arange(len(records)))
    prepared, position, keys = prepare_for_linkage(records, stated_relationships, apart=apart)
    return LinkInputs(records, prepared, position, keys, (position[apart[0]], position[apart[1]]))


def stated_parents(scorer: PairScorer) -> np.ndarray:
    """True per distinct record a source states is a parent or carer of someone (the
    scorer's cached flags, which grading the relational comparisons reads too)."""
    none = np.zeros(0, dtype=np.int64)
    return scorer.view(none, none).record_has_list("children_any")


def _regrade_relational(scorer: PairScorer, graded: Graded, left: np.ndarray, right: np.ndarray) -> Graded:
    """``graded`` with the relational comparisons graded again, now the records have their
    stated children. Only pairs with a stated child on either side can change: without one,
    every relational comparison is at its null level, as the first pass graded it."""
    has = stated_parents(scorer)
    rows = np.flatnonzero(has[left] | has[right])
    view = scorer.view(left[rows], right[rows])
    levels = graded.levels.copy()
    for j, comp in enumerate(scorer.settings.comparisons):
        if comp.name in RELATIONAL_COMPARISONS:
            levels[rows, j] = comp.grade(view)
    return Graded(levels, graded.context_levels, graded.strata)


def _concat(a: Graded, b: Graded) -> Graded:
    return Graded(
        np.concatenate([a.levels, b.levels]),
        np.concatenate([a.context_levels, b.context_levels]),
        np.concatenate([a.strata, b.strata]),
    )


def _subset(graded: Graded, mask: np.ndarray) -> Graded:
    return Graded(graded.levels[mask], graded.context_levels[mask], graded.strata[mask])


def _random_graded(
    scorer: PairScorer, settings: LinkageSettings, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, Graded]:
    """Random record pairs (for the u-probabilities of strangers), graded."""
    prepared = scorer.prepared
    n = len(prepared)
    size = int(min(settings.model.random_pairs, max(n * (n - 1) // 2, 1000)))
    sources = pd.factorize(prepared["source"])[0]
    ra, rb = _random_pairs(n, size, sources, settings.link_type, rng)
    return ra, rb, scorer.grade(scorer.view(ra, rb), household=False)


#: Fewest labelled matching pairs that may set the m-probabilities.
MIN_LABELLED_MATCHES = 10


def labelled_positions(
    labelled: pd.DataFrame, all_keys: np.ndarray, position: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct-record positions of labelled pairs (``record_key_l``, ``record_key_r``, ``match``).

    Pairs naming a record not in ``records``, or one distinct record twice, are left out.

    Raises
    ------
    LinkageError
        If a column is missing or fewer than :data:`MIN_LABELLED_MATCHES` matches remain.
    """
    missing = {"record_key_l", "record_key_r", "match"} - set(labelled.columns)
    if missing:
        raise LinkageError(f"labelled pairs lack column(s) {sorted(missing)}")
    where = pd.Series(np.arange(len(all_keys)), index=pd.Index(all_keys))
    a = where.reindex(labelled["record_key_l"].astype(str)).to_numpy()
    b = where.reindex(labelled["record_key_r"].astype(str)).to_numpy()
    match = labelled["match"].astype(bool).to_numpy()
    known = ~(np.isnan(a) | np.isnan(b))
    a, b, match = position[a[known].astype(np.int64)], position[b[known].astype(np.int64)], match[known]
    apart = a != b
    a, b, match = a[apart], b[apart], match[apart]
    if int(match.sum()) < MIN_LABELLED_MATCHES:
        raise LinkageError(
            f"labelled pairs give {int(match.sum())} usable matches; "
            f"at least {MIN_LABELLED_MATCHES} are needed"
        )
    return a, b, match


def _random_pairs_apart(
    scorer: PairScorer, random_pairs: tuple[np.ndarray, np.ndarray, Graded], labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, Graded]:
    """The random pairs of different people (by a first clustering ``labels``), relational level regraded.

    u comes from pairs of different people: random pairs the first pass put in one person
    are left out, so a source that repeats a person (a mother on every census row) does not
    make shared children look like a coincidence.
    """
    ra, rb, rg = random_pairs
    apart = labels[ra] != labels[rb]
    ra, rb, rg = ra[apart], rb[apart], _subset(rg, apart)
    return ra, rb, _regrade_relational(scorer, rg, ra, rb)


def _labelled_matches(
    scorer: PairScorer, labels_at: tuple[np.ndarray, np.ndarray, np.ndarray] | None
) -> Graded | None:
    """The analyst's labelled matching pairs, graded (None without labels)."""
    if labels_at is None:
        return None
    la, lb, is_match = labels_at
    return scorer.grade(scorer.view(la[is_match], lb[is_match]))


def _train(
    scorer: PairScorer,
    graded: Graded,
    settings: LinkageSettings,
    random_graded: Graded,
    labelled: Graded | None = None,
    strangers: np.ndarray | None = None,
) -> ModelParameters:
    """Fit the model on the graded candidate pairs (see :func:`linkage.training.fit_parameters`)."""
    all_pairs = _all_pairs(scorer.prepared, settings.link_type)
    return fit_parameters(patterns_of(graded), settings, random_graded, all_pairs, labelled, strangers)


#: Largest household list (records of one ``household_ref`` in one source's extract)
#: whose members are taken to be different people.
MAX_HOUSEHOLD_LIST = 50


def _household_list_pairs(records: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Positions of every pair of records in one household list (of at most MAX_HOUSEHOLD_LIST)."""
    cols = ["source", "household_ref", "extract_date"]
    lists = positional(records[[c for c in cols if c in records.columns]])
    lists = lists.assign(i=np.arange(len(lists))).dropna(subset=["household_ref"])
    lists = lists.fillna({"extract_date": ""}) if "extract_date" in lists.columns else lists
    keys = [c for c in cols if c in lists.columns]
    size = lists.groupby(keys, sort=False)["i"].transform("size")
    lists = lists[(size > 1) & (size <= MAX_HOUSEHOLD_LIST)]
    pairs = lists.merge(lists, on=keys)
    pairs = pairs[pairs["i_x"] < pairs["i_y"]]
    return pairs["i_x"].to_numpy(np.int64), pairs["i_y"].to_numpy(np.int64)


def different_people(
    records: pd.DataFrame, stated_relationships: pd.DataFrame | None, position: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of (distinct) records that are certainly different people, as distinct-record positions.

    Two records a source states are related (mother of, partner of, victim and perpetrator
    of one incident, household member) are two people: no one is their own mother. So are
    two records one source row names in different roles (a pupil and the contact on the
    pupil's census row), and two members of one household list (one source's
    ``household_ref`` in one extract: a list names each occupant once), such as a father
    and the son named after him. Lists longer than :data:`MAX_HOUSEHOLD_LIST` records (a
    placeholder reference shared by unrelated rows) are not read as households.
    """
    where = pd.Series(np.arange(len(records)), index=records["record_key"].to_numpy())
    lefts, rights = [], []
    if stated_relationships is not None and len(stated_relationships):
        rel = stated_relationships.dropna(subset=["from_record_key", "to_record_key"])
        a = where.reindex(rel["from_record_key"]).to_numpy()
        b = where.reindex(rel["to_record_key"]).to_numpy()
        ok = ~(np.isnan(a) | np.isnan(b))
        lefts.append(a[ok].astype(np.int64))
        rights.append(b[ok].astype(np.int64))
    if "row_number" in records.columns:
        rows = positional(records[["source", "row_number"]])
        rows = rows.assign(i=np.arange(len(rows))).dropna(subset=["row_number"])
        same_row = rows.merge(rows, on=["source", "row_number"])
        same_row = same_row[same_row["i_x"] < same_row["i_y"]]
        lefts.append(same_row["i_x"].to_numpy(np.int64))
        rights.append(same_row["i_y"].to_numpy(np.int64))
    if "household_ref" in records.columns:
        a, b = _household_list_pairs(records)
        lefts.append(a)
        rights.append(b)
    left = position[np.concatenate(lefts)] if lefts else np.zeros(0, np.int64)
    right = position[np.concatenate(rights)] if rights else np.zeros(0, np.int64)
    return left, right


RELATIONAL_COLUMNS = (
    "children_role",
    "children_any",
    "children_homes",
    "children_role_homes",
    "mother_of",
    "father_of",
)
_PARENT_TYPES = {
    "mother",
    "father",
    "parent",
    "step_parent",
    "adoptive_parent",
    "carer",
    "foster_carer",
    "parental_responsibility",
}


def uses_relational(settings: LinkageSettings) -> bool:
    return any(c.name in RELATIONAL_COMPARISONS for c in settings.comparisons)


def add_relational_columns(
    prepared: pd.DataFrame,
    records: pd.DataFrame,
    stated: pd.DataFrame | None,
    position: np.ndarray,
    labels: np.ndarray,
) -> None:
    """Give each distinct record the people a source states it is a parent or carer of.

    `children_role` holds "mother:<person>" / "father:<person>" (a `parent` of known sex
    counts as mother or father), `children_any` every "<person>", `children_homes` the
    households (the prepared ``home``) any record of those people gives, leaving out
    addresses of more than ``MAX_HOUSEHOLD_SIZE`` such people, `children_role_homes` those
    households as "mother:<home>" / "father:<home>", and `mother_of` / `father_of` the
    people alone, for the mother-and-father-of-one-child conflict. The people are the
    clusters ``labels`` of a first pass.
    """
    n = len(prepared)
    empty = np.empty(n, dtype=object)
    empty.fill([])  # one shared, never-mutated empty list
    for col in RELATIONAL_COLUMNS:
        prepared[col] = empty.copy()
    if stated is None or not len(stated):
        return
    where = pd.Series(np.arange(len(records)), index=records["record_key"].to_numpy())
    rel = stated[stated["relationship_type"].isin(list(_PARENT_TYPES))].dropna(subset=["to_record_key"])
    parent = where.reindex(rel["from_record_key"]).to_numpy()
    child = where.reindex(rel["to_record_key"]).to_numpy()
    ok = ~(np.isnan(parent) | np.isnan(child))
    parent_rep = position[parent[ok].astype(np.int64)]
    child_label = labels[position[child[ok].astype(np.int64)]]
    child_person = child_label.astype(str)
    kind = rel["relationship_type"].to_numpy(dtype=object)[ok]
    sex = prepared["sex"].to_numpy(dtype=object)[parent_rep]
    role = np.where(kind == "mother", "mother", np.where(kind == "father", "father", ""))
    role = np.where((kind == "parent") & (sex == "F"), "mother", role)
    role = np.where((kind == "parent") & (sex == "M"), "father", role)
    table = pd.DataFrame({"rep": parent_rep, "person": child_person, "role": role})

    def lists(frame: pd.DataFrame, values: pd.Series) -> np.ndarray:
        """Each record's distinct values, sorted (one integer sort; the text sorted once, by Arrow)."""
        out = np.empty(n, dtype=object)
        out.fill([])
        codes, uniques = sorted_codes(values.to_numpy(dtype=object))
        if len(uniques) == 0:
            return out
        width = np.int64(len(uniques))
        key = sorted_unique(frame["rep"].to_numpy(dtype=np.int64) * width + codes)
        grouped = _lists_by(key // width, np.asarray(uniques, dtype=object)[key % width])
        out[grouped.index.to_numpy(dtype=np.int64)] = grouped.to_numpy()
        return out

    prepared["children_any"] = lists(table, table["person"])
    homes = _homes(prepared["home"].to_numpy(dtype=object)[position], labels[position], child_label)
    with_homes = table.merge(homes, on="person")
    prepared["children_homes"] = lists(with_homes, with_homes["home"])
    specific = table[table["role"] != ""]
    prepared["children_role"] = lists(specific, specific["role"] + ":" + specific["person"])
    role_homes = with_homes[with_homes["role"] != ""]
    prepared["children_role_homes"] = lists(role_homes, role_homes["role"] + ":" + role_homes["home"])
    mothers = table[table["role"] == "mother"]
    fathers = table[table["role"] == "father"]
    prepared["mother_of"] = lists(mothers, mothers["person"])
    prepared["father_of"] = lists(fathers, fathers["person"])


def _homes(home: np.ndarray, person: np.ndarray, children: np.ndarray) -> pd.DataFrame:
    """``person``, ``home``: the households (``home`` of each record) the records of the
    ``children`` give (``person``: each record's person), leaving out any that holds more
    than ``MAX_HOUSEHOLD_SIZE`` of them."""
    theirs = np.flatnonzero(member(person, children) & pd.notna(home))
    homes = pd.DataFrame({"person": person[theirs].astype(str), "home": home[theirs]}).drop_duplicates()
    people = homes.groupby("home")["person"].transform("size")
    return homes[people.to_numpy() <= MAX_HOUSEHOLD_SIZE]


def _shared_child_pairs(
    prepared: pd.DataFrame, left: np.ndarray, right: np.ndarray, link_type: str
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of records that no blocking rule found, stated as parents of one person, or
    as the mother (or the father) of people recorded at one address."""
    reps = np.arange(len(prepared))
    people = pd.DataFrame({"rep": reps, "shared": prepared["children_any"]}).explode("shared").dropna()
    homes = pd.DataFrame({"rep": reps, "shared": prepared["children_role_homes"]}).explode("shared").dropna()
    table = pd.concat([people, homes.assign(shared="@" + homes["shared"])])
    pairs = table.merge(table, on="shared")
    pairs = pairs[pairs["rep_x"] < pairs["rep_y"]][["rep_x", "rep_y"]].drop_duplicates()
    a, b = pairs["rep_x"].to_numpy(np.int64), pairs["rep_y"].to_numpy(np.int64)
    if link_type == "link_only":
        src = prepared["source"].to_numpy(dtype=object)
        keep = src[a] != src[b]
        a, b = a[keep], b[keep]
    n = np.int64(len(prepared))
    code = a * n + b
    # the few shared-child pairs hashed, the many candidates looked up (no sort of the candidates)
    candidates = left.astype(np.int64) * n + right
    found = candidates[member(candidates, code)]
    new = ~member(code, found)
    return a[new], b[new]


def link_records(
    records: pd.DataFrame,
    settings: LinkageSettings | None = None,
    *,
    stated_relationships: pd.DataFrame | None = None,
    previous_index: pd.DataFrame | None = None,
    seed: int | np.random.Generator | None = 42,
    train: bool = True,
    id_key: bytes = b"",
    progress: Progress | None = None,
    labelled_pairs: pd.DataFrame | None = None,
) -> LinkResult:
    """Resolve canonical ``records`` into people.

    Parameters
    ----------
    records
        The canonical `records` table (see :mod:`ingest.schema`).
    settings
        Linkage settings; None loads the shipped `config/linkage.yaml`. When the settings
        carry fitted ``parameters`` and ``train`` is False, they are used as they are.
    stated_relationships
        The canonical `stated_relationships` table: two records a source states are
        related are never made one person.
    previous_index
        The `person_index` of an earlier run; its person ids are kept where the evidence allows.
    seed
        Seed for the random pairs that start the u-probabilities.
    train
        Fit the model by EM on these records (unsupervised). False needs fitted parameters.
    progress
        Called with a short message as each step starts (no personal data).
    id_key
        Secret for the keyed hash that makes new person ids (a workspace keeps one), so an
        id cannot be turned back into a record key.
    labelled_pairs
        Pairs an analyst has labelled (``record_key_l``, ``record_key_r``, ``match``): the
        m-probabilities come from the labelled matches instead of EM (u still from random
        pairs; EM still fits the priors and the household u). Needs ``train``.
    """
    settings = settings or LinkageSettings.load(None)
    if not train and settings.parameters is None:
        raise LinkageError("train=False needs settings with fitted parameters (a saved model)")
    say = progress or (lambda _msg: None)
    rng = np.random.default_rng(seed)
    timings: dict[str, float] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        timings[name] = round(now - t, 3)
        t = now

    if len(records) == 0:
        return _nothing_to_link(settings)
    say("preparing records")
    inputs = prepare_inputs(records, stated_relationships)
    records, prepared, position, all_keys = inputs.records, inputs.prepared, inputs.position, inputs.keys
    labels_at = (
        labelled_positions(labelled_pairs, np.asarray(all_keys), position)
        if labelled_pairs is not None
        else None
    )
    if labels_at is not None and not train:
        raise LinkageError("labelled pairs train a model; they cannot be used with train=False")
    scorer = PairScorer(prepared, settings, with_nicknames(prepared, settings))
    lap("prepare")

    say(f"blocking {len(prepared):,} distinct records")
    rules = [*household_rules(settings.household_block_size), *settings.rules]
    n_household_rules = len(rules) - len(settings.rules)
    blocked = block(
        prepared,
        rules,
        link_type=settings.link_type,
        max_pairs_per_rule=settings.max_pairs_per_rule,
    )
    lap("block")

    cannot = inputs.cannot
    left, right, rule = blocked.left, blocked.right, blocked.rule
    rule_names = [r.name for r in rules]
    passes = 2 if uses_relational(settings) and stated_relationships is not None else 1
    random_pairs: tuple[np.ndarray, np.ndarray, Graded] | None = None
    strangers: np.ndarray | None = None  # random pairs other evidence says are different people
    graded: Graded | None = None
    clusters: Clusters | None = None
    scored: ScoredPairs | None = None
    for pass_no in range(1, passes + 1):
        if pass_no == 1:
            say(f"comparing {len(left):,} candidate pairs")
            view = scorer.view(left, right)
            # the household rules run first: a pair shares a household block when one found it
            graded = scorer.grade(view, enumerated=rule < n_household_rules)
            if train:
                random_pairs = _random_graded(scorer, settings, rng)
        else:
            say("adding relational evidence: records stated as parents of the same person")
            assert clusters is not None and graded is not None
            scored = None  # free the first pass's per-pair arrays before the second's
            del view
            add_relational_columns(prepared, records, stated_relationships, position, clusters.labels)
            scorer.forget(RELATIONAL_COLUMNS)
            extra_l, extra_r = _shared_child_pairs(prepared, left, right, settings.link_type)
            extra = scorer.grade(scorer.view(extra_l, extra_r))
            graded = _concat(_regrade_relational(scorer, graded, left, right), extra)
            left, right = np.r_[left, extra_l], np.r_[right, extra_r]
            view = scorer.view(left, right)
            rule = np.r_[rule, np.full(len(extra_l), len(rule_names), dtype=rule.dtype)]
            rule_names = [*rule_names, "shared_child"]
            if random_pairs is not None:
                random_pairs = _random_pairs_apart(scorer, random_pairs, clusters.labels)
                assert scorer.params is not None
                strangers = stranger_pairs(scorer.params, random_pairs[2])
        lap("compare" if pass_no == 1 else "compare_relational")

        if train:
            say("training the model (EM)")
            assert random_pairs is not None
            labelled = _labelled_matches(scorer, labels_at)
            scorer.params = _train(scorer, graded, settings, random_pairs[2], labelled, strangers)
        else:
            assert settings.parameters is not None
            scorer.params = dataclasses.replace(settings.parameters)
        assert scorer.params is not None
        scorer.params.tf_base = dict(scorer.tf_base)
        lap("train" if pass_no == 1 else "train_relational")

        say("scoring pairs")
        scored = scorer.score(left, right, graded, view)
        lap("score" if pass_no == 1 else "score_relational")

        say("clustering into people")
        threshold = settings.clustering.threshold
        clusters = cluster_pairs(
            len(prepared),
            left,
            right,
            scored.probability,
            threshold=threshold,
            cannot_link=scored.conflict,
            cannot_link_below=settings.clustering.cannot_link_below,
            cannot_pairs=cannot,
        )
        lap("cluster" if pass_no == 1 else "cluster_relational")
    assert clusters is not None and scorer.params is not None and scored is not None
    ids, changes = assign_ids(pd.Series(all_keys), clusters.labels[position], previous_index, key=id_key)
    person_index = pd.DataFrame(
        {
            "record_key": all_keys,
            "person_id": ids.to_numpy(),
            "cluster_confidence": clusters.confidence[position],
        }
    )
    persons = build_persons(records, person_index)
    lap("persons")

    pairs = _pairs_table(prepared, left, right, rule, rule_names, scored, settings)
    facts = {
        "records": len(records),
        "distinct_records": len(prepared),
        "candidate_pairs": len(left),
        "relational_pass": passes == 2,
        "pairs_kept": len(pairs),
        "pairs_above_threshold": int((scored.probability >= threshold).sum()),
        "hard_conflicts": int(scored.conflict.sum()),
        "people": int(person_index["person_id"].nunique()),
        "components_reexamined": clusters.components_reexamined,
        "em_iterations": scorer.params.iterations,
        "em_converged": scorer.params.converged,
        "household_pairs": dict(zip(HOUSEHOLD_STRATA, scorer.params.stratum_pairs, strict=True)),
        "id_merges": int((changes["change"] == "merge").sum()) if len(changes) else 0,
        "id_splits": int((changes["change"] == "split").sum()) if len(changes) else 0,
        "seconds": timings,
    }
    say("done")
    return LinkResult(
        pairs=pairs,
        person_index=person_index,
        persons=persons,
        id_changes=changes,
        blocking=blocked.counts,
        settings=settings.with_parameters(scorer.params),
        facts=facts,
    )


def _nothing_to_link(settings: LinkageSettings) -> LinkResult:
    """The result of linking no records: empty tables in their usual columns."""
    from ingest.schema import PERSON_INDEX, PERSONS

    return LinkResult(
        pairs=pd.DataFrame(columns=["record_key_l", "record_key_r", "match_weight", "match_probability"]),
        person_index=PERSON_INDEX.empty_table().to_pandas(),
        persons=PERSONS.empty_table().to_pandas(),
        id_changes=pd.DataFrame(columns=["change", "id", "previous_ids", "new_ids", "records"]),
        blocking=pd.DataFrame(columns=["rule", "pairs", "new_pairs", "blocks_left_out"]),
        settings=settings,
        facts={"records": 0, "people": 0},
    )


#: Pairs scored at least this likely are kept in the ``pairs`` table (both engines).
MIN_KEPT_PROBABILITY = 0.001


def _pairs_table(
    prepared: pd.DataFrame,
    left: np.ndarray,
    right: np.ndarray,
    rule: np.ndarray,
    rule_names: list[str],
    scored: Any,
    settings: LinkageSettings,
    min_probability: float = MIN_KEPT_PROBABILITY,
) -> pd.DataFrame:
    """Scored pairs worth keeping (probability >= ``min_probability``), with every term."""
    keys = prepared["record_key"].to_numpy()
    keep = np.flatnonzero(scored.probability >= min_probability)  # positions: one scan, many takes
    graded = scored.graded
    pairs = pd.DataFrame(
        {
            "record_key_l": keys[left[keep]],
            "record_key_r": keys[right[keep]],
            "blocking_rule": np.asarray(rule_names, dtype=object)[rule[keep]],
            "stratum": np.asarray([*HOUSEHOLD_STRATA, "R"], dtype=object)[graded.strata[keep]],
        }
    )
    for j, c in enumerate(settings.context):
        pairs[f"level_{c.name}"] = graded.context_levels[keep, j]
    for j, c in enumerate(settings.comparisons):
        pairs[f"level_{c.name}"] = graded.levels[keep, j]
    for name, values in scored.terms.items():
        pairs[f"weight_{name}"] = values[keep].astype(np.float32)
    pairs["match_weight"] = scored.weight[keep]
    pairs["match_probability"] = scored.probability[keep]
    pairs["hard_conflict"] = scored.conflict[keep]
    return pairs
