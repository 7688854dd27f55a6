"""Graph puzzles: directed reachability (yes/no, balanced) and weighted shortest-path length.

Graphs are random edge lists over letter-labelled nodes (A..Z, AA, AB, ...); node and edge counts grow
with level. Answers come from an exact search at generation time (BFS / Dijkstra).
"""

from __future__ import annotations

import heapq
import random
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from curriculum.skills.answers import verify_bool, verify_int
from curriculum.skills.base import Batch, Knobs, Skill, register, with_difficulty


def _labels(n: int) -> list[str]:
    """Spreadsheet-style labels: A..Z, AA..AZ, BA, ..."""
    out = []
    for i in range(1, n + 1):
        s = ""
        while i:
            i, rem = divmod(i - 1, 26)
            s = chr(65 + rem) + s
        out.append(s)
    return out


def _random_edges(r: random.Random, n: int, m: int) -> list[tuple[int, int]]:
    """m distinct directed edges (a, b), a != b, in random order."""
    m = min(m, n * (n - 1))
    seen: set[tuple[int, int]] = set()
    edges = []
    rand = r.random
    while len(edges) < m:
        a = int(rand() * n)
        b = int(rand() * n)
        if a != b and (a, b) not in seen:
            seen.add((a, b))
            edges.append((a, b))
    return edges


# ---------------------------------------------------------------------------------------------------
# reachability


class ReachabilityParams(Knobs):
    nodes: int
    edges: int  # directed edges, no self-loops, no duplicates


def reachability_params(level: int) -> ReachabilityParams:
    nodes = 4 + level
    return ReachabilityParams(nodes=nodes, edges=nodes + nodes // 2)


def _reach_item(r: random.Random, n: int, m: int, want: bool, names: list[str]) -> tuple[str, str, int]:
    """(question, answer, nodes reachable from the source: what a search has to visit)."""
    while True:
        edges = _random_edges(r, n, m)
        adj: list[list[int]] = [[] for _ in range(n)]
        indeg = [0] * n
        for a, b in edges:
            adj[a].append(b)
            indeg[b] += 1
        src = int(r.random() * n)
        dist = {src: 0}
        frontier = [src]
        d = 0
        while frontier:
            d += 1
            nxt = []
            for u in frontier:
                for v in adj[u]:
                    if v not in dist:
                        dist[v] = d
                        nxt.append(v)
            frontier = nxt
        if want:  # prefer targets at least two steps away
            cands = [v for v, dv in dist.items() if dv >= 2] or [v for v in dist if v != src]
        else:  # prefer targets that have incoming edges (not trivially unreachable)
            cands = [v for v in range(n) if v not in dist and indeg[v]]
            cands = cands or [v for v in range(n) if v not in dist]
        if cands:
            break
    tgt = cands[int(r.random() * len(cands))]
    perm = list(range(n))
    r.shuffle(perm)  # labels independent of structure
    lab = [names[perm[i]] for i in range(n)]
    text = ", ".join(f"{lab[a]} -> {lab[b]}" for a, b in edges)
    q = (
        f"A directed graph has the edges {text}. Following edges only in their direction, "
        f"can you reach {lab[tgt]} starting from {lab[src]}? Answer Yes or No."
    )
    return q, "Yes" if want else "No", len(dist)


def generate_reachability(rng: np.random.Generator, level: int, n: int) -> Batch:
    """Balanced: half the items are Yes, half No (target chosen from the reachable / unreachable set)."""
    p = reachability_params(level)
    r = random.Random(int(rng.integers(2**63)))
    want = [i % 2 == 0 for i in range(n)]
    r.shuffle(want)
    names = _labels(p.nodes)
    questions, answers, visited = [], [], []
    for w in want:
        q, a, v = _reach_item(r, p.nodes, p.edges, w, names)
        questions.append(q)
        answers.append(a)
        visited.append(v)
    return Batch(questions, answers, with_difficulty(p, visited))


# solver: the question text alone, by depth-first search (the generator runs a breadth-first one)

_R_TEXT = re.compile(
    r"A directed graph has the edges ((?:[A-Z]+ -> [A-Z]+)(?:, [A-Z]+ -> [A-Z]+)*)\. Following edges only in "
    r"their direction, can you reach ([A-Z]+) starting from ([A-Z]+)\? Answer Yes or No\."
)


def solve_reachability(item: Mapping[str, Any]) -> str:
    m = _R_TEXT.fullmatch(str(item["question"]))
    if m is None:
        raise ValueError("not a reachability question")
    adj: dict[str, list[str]] = {}
    for edge in m.group(1).split(", "):
        a, b = edge.split(" -> ")
        adj.setdefault(a, []).append(b)
    target, source = m.group(2), m.group(3)
    stack, seen = [source], {source}
    while stack:  # depth-first
        u = stack.pop()
        for v in adj.get(u, ()):
            if v not in seen:
                seen.add(v)
                stack.append(v)
    return "Yes" if target in seen and target != source else "No"


register(
    Skill(
        name="graph_reachability",
        domain="logic",
        description="Decide whether one node of a directed graph (edge list) can be reached from another.",
        params=reachability_params,
        generate_batch=generate_reachability,
        verify=verify_bool,
        solve=solve_reachability,
        version=2,
        max_level=6300,  # CPU: 20 items + gold check ~1 s
        difficulty="nodes reachable from the start (what a search visits)",
    )
)


# ---------------------------------------------------------------------------------------------------
# shortest path


class ShortestPathParams(Knobs):
    nodes: int
    edges: int  # undirected edges; the graph is connected (random spanning tree + extra edges)
    max_weight: int  # weights drawn uniformly from 1..max_weight


def shortest_path_params(level: int) -> ShortestPathParams:
    nodes = 4 + level
    return ShortestPathParams(nodes=nodes, edges=nodes - 1 + (nodes + 1) // 2, max_weight=min(9, 1 + 2 * level))


def _sp_item(r: random.Random, n: int, m: int, wmax: int, names: list[str]) -> tuple[str, str, int]:
    """(question, answer, nodes no farther than the target: what Dijkstra settles before it stops)."""
    rand = r.random
    order = list(range(n))
    r.shuffle(order)
    seen: set[tuple[int, int]] = set()
    edges: list[tuple[int, int, int]] = []
    for i in range(1, n):  # random spanning tree: connected by construction
        a, b = order[i], order[int(rand() * i)]
        seen.add((a, b) if a < b else (b, a))
        edges.append((a, b, 1 + int(rand() * wmax)))
    m = min(m, n * (n - 1) // 2)
    while len(edges) < m:
        a = int(rand() * n)
        b = int(rand() * n)
        key = (a, b) if a < b else (b, a)
        if a != b and key not in seen:
            seen.add(key)
            edges.append((a, b, 1 + int(rand() * wmax)))
    r.shuffle(edges)
    adj: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for a, b, w in edges:
        adj[a].append((b, w))
        adj[b].append((a, w))
    src = int(rand() * n)
    dist = [-1] * n
    heap = [(0, src)]
    while heap:  # Dijkstra
        d, u = heapq.heappop(heap)
        if dist[u] >= 0:
            continue
        dist[u] = d
        for v, w in adj[u]:
            if dist[v] < 0:
                heapq.heappush(heap, (d + w, v))
    near = {v for v, _ in adj[src]}
    cands = [v for v in range(n) if v != src and v not in near] or [v for v in range(n) if v != src]
    tgt = cands[int(rand() * len(cands))]
    text = ", ".join(f"{names[a]}-{names[b]} ({w})" for a, b, w in edges)
    q = (
        f"An undirected graph has the weighted edges {text}, where the number in brackets is the edge's "
        f"length. What is the length of the shortest path from {names[src]} to {names[tgt]}? "
        f"Answer with an integer."
    )
    return q, str(dist[tgt]), sum(d <= dist[tgt] for d in dist)


def generate_shortest_path(rng: np.random.Generator, level: int, n: int) -> Batch:
    p = shortest_path_params(level)
    r = random.Random(int(rng.integers(2**63)))
    names = _labels(p.nodes)
    questions, answers, settled = [], [], []
    for _ in range(n):
        q, a, k = _sp_item(r, p.nodes, p.edges, p.max_weight, names)
        questions.append(q)
        answers.append(a)
        settled.append(k)
    return Batch(questions, answers, with_difficulty(p, settled))


# solver: the question text alone, by Bellman-Ford (the generator runs Dijkstra)

_SP_TEXT = re.compile(
    r"An undirected graph has the weighted edges ((?:[A-Z]+-[A-Z]+ \(\d+\))(?:, [A-Z]+-[A-Z]+ \(\d+\))*), "
    r"where the number in brackets is the edge's length\. What is the length of the shortest path from "
    r"([A-Z]+) to ([A-Z]+)\? Answer with an integer\."
)


def solve_shortest_path(item: Mapping[str, Any]) -> str:
    m = _SP_TEXT.fullmatch(str(item["question"]))
    if m is None:
        raise ValueError("not a shortest-path question")
    edges = []
    for edge in m.group(1).split(", "):
        ends, w = edge.split(" (")
        a, b = ends.split("-")
        edges.append((a, b, int(w[:-1])))
    source, target = m.group(2), m.group(3)
    dist = {source: 0}
    changed = True
    while changed:  # Bellman-Ford: relax every edge until nothing improves
        changed = False
        for a, b, w in edges:
            for u, v in ((a, b), (b, a)):
                if u in dist and dist[u] + w < dist.get(v, dist[u] + w + 1):
                    dist[v] = dist[u] + w
                    changed = True
    if target not in dist:
        raise ValueError("target unreachable")
    return str(dist[target])


register(
    Skill(
        name="shortest_path",
        domain="logic",
        description="Length of the shortest path between two nodes of a connected weighted undirected graph.",
        params=shortest_path_params,
        generate_batch=generate_shortest_path,
        verify=verify_int,
        solve=solve_shortest_path,
        version=2,
        max_level=2000,  # CPU: 20 items + gold check ~1 s
        difficulty="nodes no farther than the target (what Dijkstra settles)",
    )
)
