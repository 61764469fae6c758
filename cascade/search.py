"""Good plans early, and an honest bound, for large linear plants.

A plain MILP over every pipe of a large superstructure gives HiGHS tens of thousands of pipe
binaries; it may then find no plan at all in a minute. This module gives it one, and a bound
that does not depend on HiGHS finishing anything:

1. **LP bound.** The projected LP relaxation (:func:`cascade.formulation.build_model` with
   ``relaxed=True``: pipe binaries projected out, a few hundred rows) is solved to optimality.
   Its optimum is the LP bound of the MILP, a proven lower bound on every plan.
2. **Restricted MILP.** The MILP over a small set of pipes: those the LP uses, every pipe of the
   no-reuse network (supplies to users, everything to the discharges) and the required and
   existing pipes. Any plan of it is a plan of the plant (a subset of its pipes); the no-reuse
   network is among them, so it is feasible whenever that network is.
3. **Neighbourhoods.** :func:`find_plan` re-solves restricted MILPs over the current plan's pipes
   plus, for each unit, the pipes the LP prices best (smallest reduced cost), warm-started from
   the current plan, while time remains. Each plan found is a plan of the plant; none of this
   touches the bound, which stays the LP's (or the full MILP's, when :mod:`cascade.optimize`
   runs it from the plan found here).

The restricted MILPs are heuristics for the plan only: the reported bound always comes from the
whole plant (its LP relaxation, or HiGHS's bound on the whole MILP), so the gap stays honest.
:mod:`cascade.optimize` uses this above ``SEARCH_PIPES`` candidate pipes; measured figures are in
``benchmarks/README.md`` (speed family).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import pyomo.environ as pyo

from .formulation import build_model
from .kpi import ZERO_FLOW
from .solve import HighsSolver, SolveResult

#: LP flows above this (t/h) count as used when choosing the restricted MILP's pipes.
SUPPORT_FLOW = 1e-6
#: Pipes per unit added by the reduced-cost neighbourhood, at each round.
NEIGHBOURS = (3, 12)
#: Share of the time left that a neighbourhood round may take (the last takes all of it).
ROUND_SHARE = 0.35


@dataclass
class Relaxation:
    """The projected LP relaxation of a linear plant, solved.

    Attributes
    ----------
    model : pyomo.environ.ConcreteModel
        The LP with its solution loaded (and its duals, for :func:`reduced_costs`).
    result : SolveResult
        ``objective`` is the LP bound.
    flows : dict of (str, str) -> float
        The LP's flows above :data:`SUPPORT_FLOW`.
    reduced : dict of (str, str) -> float
        Reduced cost of every arc's flow (money/yr per t/h, or t/h per t/h).
    """

    model: pyo.ConcreteModel
    result: SolveResult
    flows: dict[tuple[str, str], float]
    reduced: dict[tuple[str, str], float] = field(default_factory=dict)


@dataclass
class Incumbent:
    """The best plan of the plant found by the restricted MILPs so far."""

    objective: float | None = None
    flows: dict[tuple[str, str], float] = field(default_factory=dict)
    model: pyo.ConcreteModel | None = None
    solver: HighsSolver | None = None
    result: SolveResult | None = None
    rounds: list[dict[str, Any]] = field(default_factory=list)


def solve_relaxation(
    graph: nx.DiGraph, objective: str, *, options: Mapping[str, Any] | None = None, time_limit: float | None = None
) -> Relaxation:
    """Solve the projected LP relaxation of the plant's MILP (its LP bound) with its reduced costs.

    Only an ``optimal`` result is a bound; one stopped at ``time_limit`` is not.
    """
    model = build_model(graph, objective, relaxed=True)
    model.rc = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    solver = HighsSolver(**{**dict(options or {}), "time_limit": time_limit})
    result = solver.solve(model)  # fills the rc suffix
    if not result.has_solution:  # stopped before an LP point: no support, no prices
        return Relaxation(model, result, {}, {})
    flows = {e: pyo.value(model.flow[e], exception=False) or 0.0 for e in model.data.edges}
    reduced = {e: float(model.rc.get(model.flow[e], 0.0)) for e in model.data.edges}
    return Relaxation(model, result, {e: f for e, f in flows.items() if f > SUPPORT_FLOW}, reduced)


def backbone(graph: nx.DiGraph) -> set[tuple[str, str]]:
    """The pipes every restricted MILP keeps: those of the no-reuse network, required and existing ones.

    Every pipe from a supply to a sink or operation, every pipe into a discharge, and every pipe the
    plant requires or has today.
    """
    kinds = nx.get_node_attributes(graph, "kind")
    keep = set()
    for i, j, d in graph.edges(data=True):
        no_reuse = (kinds[i] == "supply" and kinds[j] in ("sink", "operation")) or kinds[j] == "discharge"
        if no_reuse or d["required"] or d["existing"]:
            keep.add((i, j))
    return keep


def restricted(graph: nx.DiGraph, pipes: Iterable[tuple[str, str]]) -> nx.DiGraph:
    """A copy of the superstructure with only ``pipes`` and today's pipes (every unit kept).

    Existing pipes always stay, so removing one is a decision (and its cost counted) in every
    restricted model, as in the whole one.
    """
    keep = set(pipes) | {(i, j) for i, j, d in graph.edges(data=True) if d["existing"]}
    sub = graph.copy()
    sub.remove_edges_from([e for e in graph.edges if e not in keep])
    return sub


def solve_restricted(
    graph: nx.DiGraph,
    objective: str,
    pipes: Iterable[tuple[str, str]],
    best: Incumbent,
    *,
    deadline: float | None,
    options: Mapping[str, Any] | None = None,
    label: str = "",
    initial: Mapping[tuple[str, str], float] | None = None,
) -> bool:
    """Solve the MILP over ``pipes`` (warm-started from ``best``, else from ``initial``); keep a better plan.

    ``deadline`` is a ``time.perf_counter()`` value: HiGHS gets what is left of it once the model
    is built. Returns True when the plan improved.
    """
    sub = restricted(graph, pipes)
    model = build_model(sub, objective, pipes=False)
    start = best.flows or dict(initial or {})
    warm = bool(start) and all(e in model.data.arc_bound for e in start)
    if warm:
        load_plan(model, start)
    solver = HighsSolver(**dict(options or {}))
    solver.set_model(model)
    limit = None if deadline is None else max(deadline - time.perf_counter(), 0.01)
    result = solver.solve(model, time_limit=limit, warm_start=warm)
    improved = False
    better = best.objective is None or (result.objective or math.inf) < best.objective - 1e-9 * abs(best.objective)
    if result.has_solution and better:
        best.objective, best.model, best.solver, best.result = result.objective, model, solver, result
        best.flows = {e: pyo.value(model.flow[e]) for e in model.data.edges if pyo.value(model.flow[e]) > ZERO_FLOW}
        improved = True
    best.rounds.append({
        "round": label, "pipes": len(model.data.edges), "status": result.status, "objective": result.objective,
        "improved": improved, "seconds": result.solve_time, "highs_seconds": result.highs_time,
    })
    return improved


def load_plan(model: pyo.ConcreteModel, flows: Mapping[tuple[str, str], float]) -> None:
    """Set a plan's flows and its pipe and installation decisions as the model's values (a MIP start)."""
    data = model.data
    for e in data.edges:
        f = min(flows.get(e, 0.0), data.arc_bound[e])  # round-off above a bound is not a move
        model.flow[e].set_value(f)
        if hasattr(model, "pipe_built") and not model.pipe_built[e].fixed:
            model.pipe_built[e].set_value(1 if f > ZERO_FLOW else 0)
    for r in getattr(model, "regen_installed", {}):
        if not model.regen_installed[r].fixed:
            q = sum(flows.get(e, 0.0) for e in data.in_edges[r])
            model.regen_installed[r].set_value(1 if q > ZERO_FLOW else 0)


def cheapest_neighbours(relaxation: Relaxation, per_unit: int) -> set[tuple[str, str]]:
    """For every unit, its ``per_unit`` inlet and outlet pipes with the smallest LP reduced cost."""
    by_head: dict[str, list[tuple[float, tuple[str, str]]]] = {}
    by_tail: dict[str, list[tuple[float, tuple[str, str]]]] = {}
    for e, rc in relaxation.reduced.items():
        by_head.setdefault(e[1], []).append((rc, e))
        by_tail.setdefault(e[0], []).append((rc, e))
    keep = set()
    for groups in (by_head, by_tail):
        for arcs in groups.values():
            arcs.sort()
            keep.update(e for _, e in arcs[:per_unit])
    return keep


def find_plan(
    graph: nx.DiGraph,
    objective: str,
    *,
    time_limit: float | None,
    relaxation: Relaxation,
    options: Mapping[str, Any] | None = None,
    improve: bool = True,
    initial: Mapping[tuple[str, str], float] | None = None,
    first_limit: float | None = None,
) -> Incumbent:
    """A plan from the restricted MILPs of the module notes, within ``time_limit`` seconds.

    The first restricted MILP (LP pipes and the backbone), warm-started from ``initial`` (a plan
    on backbone pipes, such as the no-reuse network), gets ``first_limit`` seconds (default half
    the time); the neighbourhood rounds of :data:`NEIGHBOURS` share the rest while ``improve`` is
    set.
    """
    start = time.perf_counter()
    end = None if time_limit is None else start + time_limit

    def left() -> float | None:
        return None if end is None else end - time.perf_counter()

    best = Incumbent()
    base = backbone(graph) | set(relaxation.flows)
    first = first_limit if first_limit is not None else (None if time_limit is None else max(time_limit / 2, 0.5))
    first_end = None if first is None else min(start + first, end if end is not None else math.inf)
    solve_restricted(graph, objective, base, best, deadline=first_end, options=options, label="LP pipes",
                     initial=initial)
    if not improve:
        return best
    for n, k in enumerate(NEIGHBOURS):
        remaining = left()
        if remaining is not None and remaining < 1.0:
            break
        last = n == len(NEIGHBOURS) - 1
        deadline = end if remaining is None or last else time.perf_counter() + max(ROUND_SHARE * remaining, 1.0)
        pipes = base | set(best.flows) | cheapest_neighbours(relaxation, k)
        solve_restricted(graph, objective, pipes, best, deadline=deadline, options=options, label=f"{k} per unit")
    return best


def combined_gap(objective: float | None, *bounds: float | None) -> tuple[float | None, float | None]:
    """The best of several proven lower bounds and the relative gap of ``objective`` to it."""
    valid = [b for b in bounds if b is not None and math.isfinite(b)]
    if not valid:
        return None, None
    bound = max(valid)
    if objective is None:
        return bound, None
    bound = min(bound, objective)  # above the plan only by round-off
    gap = max(objective - bound, 0.0) / max(abs(objective), 1e-9)
    return bound, (0.0 if gap < 1e-12 else gap)


__all__ = [
    "solve_relaxation", "find_plan", "load_plan", "backbone", "restricted", "cheapest_neighbours", "combined_gap",
]
