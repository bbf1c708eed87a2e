"""Genogram layout: generations (rows) and the left-to-right order within each row.

Graphviz only computes x coordinates; the order that a reader of a genogram expects is
decided here, as dedicated pedigree engines do (kinship2, pedigreejs, Madeline):

* **Generations** (:func:`generations`): a person sits one row below the deeper of their
  parents; partners are put on one row (kinship2 ``kindepth(align=TRUE)``): each couple is
  merged before the longest-path ranking, unless merging them would make someone their
  own ancestor (then the couple is left on two rows and a note says so), and founders
  (people with no parents in the family) are pulled down to just above their children.
  Childless partnerships count too.
* **Order** (:func:`row_order`): a row is made of *partner chains* (people joined by
  partnerships, in date order, a person with two partners in the middle), grouped into
  *clans* (chains whose members are siblings). Clans follow the position of their parents'
  partnership in the row above (or of their children, for founders); siblings are oldest
  first, except that a sibling whose partner comes from another sibship moves to the end
  nearest that partner (the kinship2 rule). Partnership nodes sit between their partners.

Everything here is pure: a graph in, plain data out.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import fmean

import networkx as nx

from genogram.graph import CHILD, PARTNERSHIP, anchors_of, people, primary_children

__all__ = ["GenogramLayout", "Sibship", "generations", "genogram_layout", "row_order"]

_PASSES = 4
#: Partner chains up to this many people are ordered exactly (by trying every order).
_EXACT_CHAIN = 7


@dataclass(frozen=True)
class Sibship:
    """The children hanging (by their primary line) from one anchor, left to right.

    ``anchor`` is a partnership node, or a person for a lone carer. ``twins`` lists groups
    of adjacent children born together (each group shares one point on the sibship bar).
    """

    anchor: str
    children: tuple[str, ...]
    twins: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class GenogramLayout:
    """Rows and order of a family graph: what the DOT pins and the drawing follows.

    Attributes
    ----------
    generation
        Row of every node (people, placeholders and partnerships), 0 at the top.
    rows
        For each row, its nodes left to right; a partnership sits between its partners.
    sibships
        Every anchor with children, in row then left-to-right order.
    notes
        Plain-language notes on what could not be laid out by the rules.
    """

    generation: Mapping[str, int]
    rows: tuple[tuple[str, ...], ...]
    sibships: tuple[Sibship, ...]
    notes: tuple[str, ...] = ()

    def index(self, node: str) -> int:
        """Position of ``node`` in its row."""
        return self.rows[self.generation[node]].index(node)


# --------------------------------------------------------------------------- generations


def _parents_of(G: nx.MultiDiGraph) -> dict[str, set[str]]:
    """Person-level parents: the partners of each anchor a child hangs from (any line)."""
    parents: dict[str, set[str]] = defaultdict(set)
    for anchor, child, kind in G.edges(data="kind"):
        if kind != CHILD:
            continue
        if G.nodes[anchor]["kind"] == PARTNERSHIP:
            parents[child].update(G.nodes[anchor]["partners"])
        else:
            parents[child].add(anchor)
    return parents


def _partnerships(G: nx.MultiDiGraph) -> list[str]:
    return sorted(n for n, kind in G.nodes(data="kind") if kind == PARTNERSHIP)


class _Components:
    """Union-find over people; the partners merged so far."""

    def __init__(self, nodes: Iterable[str]) -> None:
        self.parent = {n: n for n in nodes}

    def find(self, n: str) -> str:
        while self.parent[n] != n:
            self.parent[n] = self.parent[self.parent[n]]
            n = self.parent[n]
        return n

    def union(self, a: str, b: str) -> None:
        ra, rb = sorted((self.find(a), self.find(b)))
        self.parent[rb] = ra

    def copy(self) -> _Components:
        other = _Components([])
        other.parent = dict(self.parent)
        return other


def _contracted(comps: _Components, parents: Mapping[str, set[str]]) -> nx.DiGraph:
    H = nx.DiGraph()
    H.add_nodes_from({comps.find(n) for n in comps.parent})
    for child, ps in parents.items():
        for p in ps:
            H.add_edge(comps.find(p), comps.find(child))
    return H


def generations(G: nx.MultiDiGraph) -> tuple[dict[str, int], tuple[str, ...]]:
    """Row of every node of a family graph, and notes on couples that could not be aligned.

    Parameters
    ----------
    G
        A family graph from :func:`genogram.graph.family_graph`.

    Returns
    -------
    (dict, tuple)
        ``generation[node]`` (0 = top row) for people, placeholders and partnerships, and
        notes (one per couple left on two rows because aligning them would form a loop).

    Examples
    --------
    >>> from tests.genogram.family_fixture import AS_AT, FAMILY_ID, family_tables
    >>> from genogram.graph import family_graph
    >>> gen, notes = generations(family_graph(family_tables(), FAMILY_ID, as_at=AS_AT))
    >>> gen["P-GM"], gen["P-DAD"], gen["P-SUBJ"], gen["U:P-DAD|P-MUM"], notes
    (0, 1, 2, 1, ())
    """
    persons = people(G)
    parents = _parents_of(G)
    comps = _Components(persons)
    notes: list[str] = []
    for union in _partnerships(G):
        a, b = G.nodes[union]["partners"]
        if comps.find(a) == comps.find(b):
            continue
        trial = comps.copy()
        trial.union(a, b)
        H = _contracted(trial, parents)
        if any(u == v for u, v in H.edges) or not nx.is_directed_acyclic_graph(H):
            notes.append(
                "A couple is drawn on two rows: aligning them would make someone their own ancestor."
            )
            continue
        comps = trial

    H = _contracted(comps, parents)
    order = list(nx.lexicographical_topological_sort(H))
    depth: dict[str, int] = {}
    for c in order:
        depth[c] = max((depth[p] + 1 for p in H.predecessors(c)), default=0)
    # Founders (no parents in the family) come down to just above their children.
    for c in reversed(order):
        if H.in_degree(c) == 0 and H.out_degree(c) > 0:
            depth[c] = min(depth[k] for k in H.successors(c)) - 1

    gen = {p: depth[comps.find(p)] for p in persons}
    _place_loners(G, gen, H, comps)
    low = min(gen.values(), default=0)
    gen = {p: g - low for p, g in gen.items()}
    for union in _partnerships(G):
        gen[union] = max(gen[p] for p in G.nodes[union]["partners"])
    return gen, tuple(notes)


def _place_loners(G: nx.MultiDiGraph, gen: dict[str, int], H: nx.DiGraph, comps: _Components) -> None:
    """People with no kin line at all go on the subject's row (children) or the row above."""
    subject = G.graph.get("subject")
    if subject not in gen:
        return
    base = gen[subject]
    for p in gen:
        c = comps.find(p)
        alone = H.degree(c) == 0 and sum(1 for q in gen if comps.find(q) == c) == 1
        if alone and p != subject:
            age = G.nodes[p]["age"]
            gen[p] = base if age is not None and age < 18 else max(base - 1, 0)


# --------------------------------------------------------------------------------- order


def _proxy_date(G: nx.MultiDiGraph, union: str) -> dt.date | None:
    """When a partnership began, or failing that when its first child was born."""
    dates = [G.nodes[union]["start_date"]]
    dates += [G.nodes[c]["dob"] for c in primary_children(G, union)]
    return min((d for d in dates if d is not None), default=None)


def _sort_key(G: nx.MultiDiGraph, person: str) -> tuple[int, dt.date, str]:
    dob = G.nodes[person]["dob"]
    return (dob is None, dob or dt.date.min, person)


def _chain_order(G: nx.MultiDiGraph, members: set[str], unions: Sequence[str]) -> list[str]:
    """People of one partner chain in a line, as few partnerships as possible non-adjacent.

    A path (serial partners) is laid out as the path. Otherwise (someone with three or
    more partners, or a loop) small chains are solved exactly: fewest partners not side by
    side, then shortest lines, then partnerships in date order. Larger ones put the person
    with most partners in the middle, the first partner on their left.
    """
    H = nx.Graph()
    H.add_nodes_from(members)
    for u in unions:
        H.add_edge(*G.nodes[u]["partners"], union=u)
    if len(members) == 1:
        return list(members)
    if max(d for _, d in H.degree) <= 2 and nx.is_tree(H):
        start = min(n for n, d in H.degree if d == 1)
        return list(nx.dfs_preorder_nodes(H, start))
    if len(members) <= _EXACT_CHAIN:
        weight = {(a, b): 1 + len(primary_children(G, u)) for a, b, u in H.edges(data="union")}

        def cost(line: tuple[str, ...]) -> tuple[int, int, int]:
            where = {p: i for i, p in enumerate(line)}
            spans = {e: abs(where[e[0]] - where[e[1]]) for e in weight}
            long = sum(s > 1 for s in spans.values())
            return (long, sum(weight[e] * s for e, s in spans.items()), _inversions(G, line, unions))

        best = min(
            (line for line in itertools.permutations(sorted(members)) if line[0] < line[-1]),
            key=lambda line: (cost(line), line),
        )
        return list(best)
    centre = min(members, key=lambda n: (-H.degree(n), n))

    def when(n: str) -> tuple[int, dt.date, str]:
        d = _proxy_date(G, H.edges[centre, n]["union"]) if H.has_edge(centre, n) else None
        return (d is None, d or dt.date.min, n)

    direct = sorted(H.neighbors(centre), key=when)
    line = [*direct[:1], centre, *direct[1:]]
    line += [n for n in nx.bfs_tree(H, centre) if n not in line]
    return line


def _inversions(G: nx.MultiDiGraph, line: Sequence[str], unions: Sequence[str]) -> int:
    where = {p: i for i, p in enumerate(line)}
    dated = []
    for u in unions:
        a, b = G.nodes[u]["partners"]
        d = _proxy_date(G, u)
        if d is not None:
            dated.append(((where[a] + where[b]) / 2, d))
    dated.sort()
    return sum(1 for i, (_, d1) in enumerate(dated) for _, d2 in dated[i + 1 :] if d2 < d1)


def _orient(G: nx.MultiDiGraph, line: list[str], unions: Sequence[str]) -> list[str]:
    """Partnerships in date order left to right; among equals, a man on the left."""
    rev = line[::-1]
    sex_rank = {"M": 0, "F": 1}

    def score(seq: list[str]) -> tuple[int, list[int]]:
        return (_inversions(G, seq, unions), [sex_rank.get(G.nodes[p]["sex"], 2) for p in seq])

    return rev if score(rev) < score(line) else line


@dataclass
class _Clan:
    chains: list[list[str]]  # each chain's people, oriented
    chain_unions: list[list[str]]
    anchors: dict[str, set[str]]  # sibship anchor -> members of this clan in it


def row_order(G: nx.MultiDiGraph, generation: Mapping[str, int], *, passes: int = _PASSES) -> list[list[str]]:
    """Left-to-right order of every row, partnerships between their partners.

    Parameters
    ----------
    G
        A family graph.
    generation
        Row of each node, from :func:`generations`.
    passes
        Sweeps over the rows; founders follow their children's positions of the sweep
        before.

    Returns
    -------
    list of list of str
        One list per row, top row first.

    Examples
    --------
    >>> from tests.genogram.family_fixture import AS_AT, FAMILY_ID, family_tables
    >>> from genogram.graph import family_graph
    >>> G = family_graph(family_tables(), FAMILY_ID, as_at=AS_AT)
    >>> [p for p in row_order(G, generations(G)[0])[2]]
    ['P-HALF', 'P-BRO', 'P-SUBJ', 'P-TW1', 'P-TW2']
    """
    n_rows = max(generation.values(), default=-1) + 1
    by_row: dict[int, list[str]] = defaultdict(list)
    for p in people(G):
        by_row[generation[p]].append(p)
    unions_by_row: dict[int, list[str]] = defaultdict(list)
    for u in _partnerships(G):
        unions_by_row[generation[u]].append(u)

    primary = {}
    for p in people(G):
        lines = [a for a, _, is_primary in anchors_of(G, p) if is_primary]
        if lines:
            primary[p] = lines[0]

    clans_by_row = {g: _clans(G, by_row[g], unions_by_row[g], generation, primary) for g in range(n_rows)}
    rows: list[list[str]] = [sorted(by_row[g], key=lambda p: _sort_key(G, p)) for g in range(n_rows)]
    pos: dict[str, float] = {}
    for _ in range(passes):
        before = [list(r) for r in rows]
        for g in range(n_rows):
            clans = clans_by_row[g]
            keys = [_clan_key(G, clan, pos, i, len(clans)) for i, clan in enumerate(clans)]
            ordered = [c for _, c in sorted(zip(keys, range(len(clans)), strict=True))]
            clans_by_row[g] = [clans[i] for i in ordered]
            line: list[str] = []
            for clan in clans_by_row[g]:
                line += _arrange_clan(G, clan, pos)
            rows[g] = _with_unions(G, line, unions_by_row[g])
            pos.update({n: (i + 0.5) / len(rows[g]) for i, n in enumerate(rows[g])})
        if rows == before:
            break
    return rows


def _clans(
    G: nx.MultiDiGraph,
    row: list[str],
    unions: list[str],
    generation: Mapping[str, int],
    primary: Mapping[str, str],
) -> list[_Clan]:
    in_row = set(row)
    H = nx.Graph()
    H.add_nodes_from(row)
    same_row = [u for u in unions if all(p in in_row for p in G.nodes[u]["partners"])]
    for u in same_row:
        H.add_edge(*G.nodes[u]["partners"])
    chains = [sorted(c) for c in nx.connected_components(H)]
    chain_of = {p: i for i, c in enumerate(chains) for p in c}
    # Chains whose members share a sibship are one clan.
    link = nx.Graph()
    link.add_nodes_from(range(len(chains)))
    by_anchor: dict[str, list[str]] = defaultdict(list)
    for p in row:
        if p in primary:
            by_anchor[primary[p]].append(p)
    for members in by_anchor.values():
        for a, b in itertools.pairwise(members):
            link.add_edge(chain_of[a], chain_of[b])
    clans = []
    for group in sorted(nx.connected_components(link), key=min):
        ordered = sorted(group, key=lambda i: min(_sort_key(G, p) for p in chains[i]))
        clan_chains, clan_unions = [], []
        for i in ordered:
            chain_members = set(chains[i])
            cu = [u for u in same_row if set(G.nodes[u]["partners"]) <= chain_members]
            clan_chains.append(_chain_order(G, chain_members, cu))
            clan_unions.append(cu)
        anchors: dict[str, set[str]] = defaultdict(set)
        for chain in clan_chains:
            for p in chain:
                if p in primary:
                    anchors[primary[p]].add(p)
        clans.append(_Clan(clan_chains, clan_unions, dict(anchors)))
    return clans


def _clan_key(G: nx.MultiDiGraph, clan: _Clan, pos: Mapping[str, float], i: int, n: int) -> float:
    """Parents' position; for founders, their children's; else where the clan already is."""
    known = [pos[a] for a in clan.anchors if a in pos]
    if known:
        return fmean(known)
    kids = [
        pos[k]
        for chain, unions in zip(clan.chains, clan.chain_unions, strict=True)
        for anchor in [*chain, *unions]
        for k in primary_children(G, anchor)
        if k in pos
    ]
    if kids:
        return fmean(kids)
    here = [pos[p] for chain in clan.chains for p in chain if p in pos]
    return fmean(here) if here else (i + 0.5) / max(n, 1)


def _arrange_clan(G: nx.MultiDiGraph, clan: _Clan, pos: Mapping[str, float]) -> list[str]:
    anchors = sorted(clan.anchors, key=lambda a: (pos.get(a, 0.5), a))
    if not anchors:
        return [
            p for chain, cu in zip(clan.chains, clan.chain_unions, strict=True) for p in _orient(G, chain, cu)
        ]
    placed: list[str] = []
    done: set[int] = set()
    for k, anchor in enumerate(anchors):
        later = set().union(*(clan.anchors[a] for a in anchors[k + 1 :]))
        mine = clan.anchors[anchor]
        blocks = [i for i, chain in enumerate(clan.chains) if i not in done and mine & set(chain)]

        def by_age(i: int, mine: set[str] = mine) -> tuple[int, dt.date, str]:
            return min(_sort_key(G, p) for p in clan.chains[i] if p in mine)

        inner = sorted((i for i in blocks if not later & set(clan.chains[i])), key=by_age)
        connectors = sorted((i for i in blocks if later & set(clan.chains[i])), key=by_age)
        for i in inner:
            placed += _orient(G, clan.chains[i], clan.chain_unions[i])
        for i in connectors:
            line = _orient(G, clan.chains[i], clan.chain_unions[i])
            first_mine = min(j for j, p in enumerate(line) if p in mine)
            first_later = min(j for j, p in enumerate(line) if p in later)
            placed += line if first_mine < first_later else line[::-1]
        done.update(blocks)
    for i, chain in enumerate(clan.chains):
        if i not in done:
            placed += _orient(G, chain, clan.chain_unions[i])
    return placed


def _with_unions(G: nx.MultiDiGraph, line: list[str], unions: list[str]) -> list[str]:
    """Insert each partnership between its partners.

    Next to each other, the point goes between them; with others between them, it goes
    beside the partner with fewer partnerships (so the children's line drops near the
    partner who has only this one); a partnership with a partner on another row goes
    after the partner on this one.
    """
    where = {p: i for i, p in enumerate(line)}
    degree: dict[str, int] = defaultdict(int)
    for u in unions:
        for p in G.nodes[u]["partners"]:
            degree[p] += 1
    before: dict[str, list[tuple[int, str]]] = defaultdict(list)
    after: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for u in unions:
        here = [p for p in G.nodes[u]["partners"] if p in where]
        if len(here) == 2:
            left, right = sorted(here, key=where.__getitem__)
            if where[right] - where[left] > 1 and degree[left] < degree[right]:
                after[left].append((where[right], u))
            else:
                before[right].append((where[left], u))
        elif here:
            after[here[0]].append((len(line), u))
    out: list[str] = []
    for p in line:
        out += [u for _, u in sorted(before[p])]
        out.append(p)
        out += [u for _, u in sorted(after[p])]
    return out


def _sibships(
    G: nx.MultiDiGraph, layout_rows: Sequence[Sequence[str]], generation: Mapping[str, int]
) -> list[Sibship]:
    index = {n: (g, i) for g, row in enumerate(layout_rows) for i, n in enumerate(row)}
    out = []
    anchors = {a for a, _, d in G.edges(data=True) if d["kind"] == CHILD and d["primary"]}
    for anchor in sorted(anchors, key=lambda a: index[a]):
        kids = tuple(sorted(primary_children(G, anchor), key=lambda k: index[k]))
        twins: list[tuple[str, ...]] = []
        run: list[str] = []
        for kid in kids:
            if run and kid in G.nodes[run[-1]]["twins"] and generation[kid] == generation[run[-1]]:
                run.append(kid)
                continue
            if len(run) > 1:
                twins.append(tuple(run))
            run = [kid]
        if len(run) > 1:
            twins.append(tuple(run))
        out.append(Sibship(anchor, kids, tuple(twins)))
    return out


def genogram_layout(G: nx.MultiDiGraph) -> GenogramLayout:
    """Generations, row order and sibships of a family graph.

    Parameters
    ----------
    G
        A family graph from :func:`genogram.graph.family_graph`.

    Returns
    -------
    GenogramLayout

    Examples
    --------
    >>> from tests.genogram.family_fixture import AS_AT, FAMILY_ID, family_tables
    >>> from genogram.graph import family_graph
    >>> lay = genogram_layout(family_graph(family_tables(), FAMILY_ID, as_at=AS_AT))
    >>> lay.rows[1]
    ('P-EX', 'U:P-DAD|P-EX', 'P-DAD', 'U:P-DAD|P-MUM', 'P-MUM', 'U:P-MUM|P-NEW', 'P-NEW')
    >>> [s.twins for s in lay.sibships if s.twins]
    [(('P-TW1', 'P-TW2'),)]
    """
    generation, notes = generations(G)
    rows = row_order(G, generation)
    return GenogramLayout(
        generation=dict(generation),
        rows=tuple(tuple(r) for r in rows),
        sibships=tuple(_sibships(G, rows, generation)),
        notes=notes,
    )
