"""The bilinear cases solved with MILPs only: a proven lower bound, a feasible plan, and the gap.

Removal-ratio and pass-through regenerators, fixed-load operations with several contaminants,
and fixed-load operations whose outlet-at-maximum restriction is not exact (cost objective,
discharge limits, regenerators) make the water network bilinear: an outlet concentration that
depends on the flows multiplies the flows leaving it. :func:`solve_bilinear` brackets the
optimum between

* a **lower bound**: the MILP relaxation of :mod:`cascade.formulation.relaxation` (piecewise
  McCormick on the variable outlet concentrations), whose optimum, or HiGHS's proven bound on
  it, no plan can beat; and
* an **upper bound**: a real plan, from the linear restriction of
  :func:`cascade.formulation.build_model` with every variable outlet fixed at a guess that the
  real outlet may not exceed (a valid restriction: see :mod:`cascade.formulation.data`). The
  guesses tried are the outlet maxima (the classic Savelski-Bagajewicz network) and, at every
  iteration, the outlets recomputed physically from the relaxation's flows
  (:func:`cascade.check.node_concentrations`) and the relaxation's own concentrations.

After each relaxation the partition of every variable outlet that carries water is refined at
the relaxation's concentration (a new breakpoint, or the midpoint of its segment when the value
already sits on a breakpoint), so the relaxation tightens where the solution lies. The loop
stops when the relative gap ``(upper - lower) / |upper|`` is at most ``tolerance`` (default
0.1 %), when the time limit is reached, or after ``max_iterations`` relaxations.

McCormick envelopes need a bound on every flow. Regenerators and operations without ``max_flow``
get modelling bounds (:mod:`cascade.formulation.data`), stated in the plan, except where a bound
can be proven: under the cost objective a regenerator that costs something per t treated can
treat no more than the best plan's cost affords (:func:`affordable_flows`), and that capacity
replaces the modelling one, so treatment networks get a lower bound free of assumptions.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import pyomo.environ as pyo

from .check import design_violations, node_concentrations
from .exceptions import InfeasiblePlantError, SolverError
from .formulation import build_model, prices_capital
from .formulation.costs import initial_capital_breakpoints
from .formulation.data import build_data, outlet_upper_bounds, variable_outlets
from .formulation.relaxation import build_relaxation, initial_breakpoints
from .kpi import ZERO_FLOW, objective_value
from .solve import HighsSolver, SolveResult

#: Capacities tried for regenerators without max_flow (multiples of the process water) and operations
#: without max_flow (multiples of their limiting flow): the next when the relaxation is infeasible or
#: the best plan runs a regenerator at its capacity.
CIRCULATION_SCALES = (1.0, 10.0, 100.0)
#: Default relative gap at which the loop stops (0.1 %).
TOLERANCE = 1e-3
#: Flows below this (t/h) do not count as carrying water when refining partitions.
ACTIVE_FLOW = 1e-6
#: A new breakpoint closer than this share of an outlet's range to an existing one bisects instead.
MIN_SPACING = 1e-4


@dataclass
class BilinearOutcome:
    """What :func:`solve_bilinear` found.

    Attributes
    ----------
    model : pyomo.environ.ConcreteModel or None
        The linear restriction holding the best plan (its solution loaded), None if none found.
    solver : HighsSolver or None
        The HiGHS session of ``model`` (for a tie-break stage on it).
    result : SolveResult
        ``objective`` the best plan's, ``bound`` the proven lower bound, ``gap`` between them;
        ``status`` 'optimal' when the gap is within the tolerance, 'feasible' otherwise,
        'infeasible' when the relaxation is, 'error' when no plan was found.
    iterations : list of dict
        Per relaxation: ``iteration``, ``lower``, ``upper``, ``gap``, ``segments`` (total
        partition segments), ``seconds`` (since the start).
    guess : dict
        The outlet guesses of the best plan's restriction.
    regenerator_bound : float or None
        The capacity (t/h) imposed on regenerators without ``max_flow`` in the last bracket, None
        when every regenerator has one or, under the cost objective, a proven capacity
        (:func:`affordable_flows`). The lower bound holds for plans within it.
    bound_binds : bool
        True when the best plan still runs such a regenerator, or an operation without ``max_flow``,
        at the capacity imposed on it: a plan with more circulation might be better than the bound says.
    circulation_scale : float or None
        The multiple of their limiting flow that operations without ``max_flow`` were allowed in the
        last bracket (None when every operation has a ``max_flow`` and every regenerator one or a
        proven capacity: the lower bound then rests on no modelling bound).
    """

    model: pyo.ConcreteModel | None
    solver: HighsSolver | None
    result: SolveResult
    iterations: list[dict[str, Any]] = field(default_factory=list)
    guess: dict[tuple[str, str], float] = field(default_factory=dict)
    regenerator_bound: float | None = None
    bound_binds: bool = False
    circulation_scale: float | None = None


def solve_bilinear(
    graph: nx.DiGraph,
    objective: str,
    *,
    time_limit: float | None = 60.0,
    tolerance: float = TOLERANCE,
    max_iterations: int = 30,
    mip_rel_gap: float = 1e-6,
    threads: int | None = None,
    solver_options: Mapping[str, Any] | None = None,
    on_plan: Callable[[float], None] | None = None,
) -> BilinearOutcome:
    """Bracket the optimum of a bilinear plant between a relaxation and a real plan, refining until the gap closes.

    Parameters
    ----------
    graph : networkx.DiGraph
        The superstructure.
    objective : {'freshwater', 'cost'}
    time_limit : float or None, default 60
        Seconds for the whole loop.
    tolerance : float, default 1e-3
        Relative gap at which the loop stops and the plan counts as optimal.
    max_iterations : int, default 30
        Relaxations solved at most.
    mip_rel_gap : float, default 1e-6
        HiGHS's own relative gap for each MILP.
    threads : int, optional
    solver_options : mapping, optional
        Further HiGHS options.
    on_plan : callable, optional
        Called with the true objective of every better plan found. (The lower bound is reported
        only at the end: a bracket's bound holds only within its capacities.)

    Returns
    -------
    BilinearOutcome
    """
    start = time.perf_counter()
    options = {"mip_rel_gap": mip_rel_gap, "threads": threads, "options": dict(solver_options or {})}

    def remaining() -> float | None:
        return None if time_limit is None else max(time_limit - (time.perf_counter() - start), 0.0)

    high = outlet_upper_bounds(graph)
    variable = variable_outlets(graph)
    operations = [n for n, d in graph.nodes(data=True) if d["kind"] == "operation" and "max_flow" not in d]
    # Raising the scale weakens the relaxation, so it is raised only for regenerators: operations run at
    # their limiting flow in most good plans, and their bound is stated instead (see the plan's notes).
    regenerators = [n for n, d in graph.nodes(data=True) if d["kind"] == "regenerator" and "max_flow" not in d]
    best = _Best(on_plan=on_plan)
    iterations: list[dict[str, Any]] = []
    for scale in CIRCULATION_SCALES if regenerators else CIRCULATION_SCALES[:1]:
        bracket = _Bracket(graph, objective, scale, variable, high, best, iterations, options, remaining, start)
        bracket.run(tolerance, max_iterations, regenerators)
        if bracket.infeasible or (best.model is not None and _binds(best.model, bracket.assumed)):
            continue  # the regenerators' capacity may be what stops a better plan: raise it
        break
    if bracket.infeasible and best.model is None:
        return BilinearOutcome(None, None, _result("infeasible", None, None, start), iterations)
    lower = bracket.lower
    if best.objective is not None:
        lower = min(lower, best.objective)  # the optimum is at most a known plan's value: above it is round-off
    if best.model is None:
        status = "error"
    else:
        gap = _gap(best.objective, lower)
        proven = gap is not None and gap <= tolerance and bracket.relaxed_status == "optimal"
        status = "optimal" if proven else "feasible"
    result = _result(status, best.objective, lower if math.isfinite(lower) else None, start, best.size)
    assumed = operations + bracket.assumed
    bound = bracket.regenerator_bound if bracket.assumed else None
    scale = bracket.scale if assumed else None
    binds = best.model is not None and _binds(best.model, assumed)
    return BilinearOutcome(best.model, best.solver, result, iterations, best.guess, bound, binds, scale)


def affordable_flows(graph: nx.DiGraph, upper: float) -> dict[str, float]:
    """The most each regenerator without ``max_flow`` can treat in a plan that costs at most ``upper`` a year.

    Every cost term is non-negative (validation refuses negative prices and costs), so a plan
    whose annual cost is at most ``upper`` spends at most that on any one regenerator ``r``:

    .. math::

        H c_r Q_r + K_r + A a_r Q_r^{b_r} \\le \\text{upper}

    with ``H`` the hours per year, ``c_r`` the cost per t, ``K_r`` the fixed cost, ``A`` the
    annualisation factor and ``a_r Q^{b_r}`` the capital cost. The left side grows with ``Q_r``,
    so its root (found by bisection) bounds ``Q_r``; a regenerator whose fixed cost alone exceeds
    ``upper`` gets 0. Regenerators that cost nothing per t treated are left out (no bound
    follows). These capacities are proven, not assumed: :func:`solve_bilinear` uses them, under
    the cost objective, instead of its circulation bound.

    Parameters
    ----------
    graph : networkx.DiGraph
    upper : float
        Annual cost of a known plan.

    Returns
    -------
    dict of str -> float
        Regenerator -> t/h (with a relative margin of 1e-9 for round-off).

    Examples
    --------
    >>> g = nx.DiGraph(hours_per_year=1.0, annualisation=None)
    >>> g.add_node("TU", kind="regenerator", cost_per_t=2.0, cost_fixed=0.0)
    >>> round(affordable_flows(g, 100.0)["TU"], 6)
    50.0
    """
    hours, annualisation = graph.graph["hours_per_year"], graph.graph.get("annualisation") or 0.0
    out: dict[str, float] = {}
    for r, d in graph.nodes(data=True):
        if d["kind"] != "regenerator" or "max_flow" in d:
            continue
        per_t = hours * d["cost_per_t"]
        a, b = annualisation * d.get("capital_a", 0.0), d.get("capital_b", 1.0)
        room = upper - d["cost_fixed"]
        if per_t <= 0 and a <= 0:
            continue
        if room <= 0:
            out[r] = 0.0
            continue
        high = min(room / per_t if per_t > 0 else math.inf, (room / a) ** (1 / b) if a > 0 else math.inf)
        low = 0.0
        for _ in range(200):  # bisection on the increasing cost curve
            mid = (low + high) / 2
            if per_t * mid + a * mid**b <= room:
                low = mid
            else:
                high = mid
        out[r] = high * (1 + 1e-9) + 1e-9
    return out


class _Bracket:
    """One run of the relaxation-restriction loop at one regenerator capacity scale."""

    def __init__(self, graph, objective, scale, variable, high, best, iterations, options, remaining, start):
        self.graph, self.objective, self.scale = graph, objective, scale
        self.variable, self.high, self.best, self.iterations = variable, high, best, iterations
        self.options, self.remaining, self.start = options, remaining, start
        self.lower = -math.inf
        self.relaxed_status = "optimal"
        self.infeasible = False
        self.regenerator_bound = math.inf
        self.capital: dict[str, list[float]] = {}
        self.assumed: list[str] = []  # regenerators whose capacity in the last relaxation was the circulation bound

    def restrict(self, guess: dict) -> None:
        _try_restriction(
            self.graph, self.objective, guess, self.best, self.options, self.remaining(), self.scale, self.capital
        )

    def run(self, tolerance: float, max_iterations: int, regenerators: list[str]) -> None:
        """Refine until the gap closes; ``regenerators`` are those without ``max_flow``."""
        graph, variable = self.graph, self.variable
        self.assumed = list(regenerators)
        data = build_data(graph, {v: self.high[v] for v in variable}, circulation_scale=self.scale)
        self.capital = initial_capital_breakpoints(data) if prices_capital(graph, self.objective) else {}
        self.restrict({v: self.high[v] for v in variable})
        breakpoints = initial_breakpoints(graph)
        for _ in range(max_iterations):
            left = self.remaining()
            if left is not None and left <= 0:
                return
            proven = {}
            if self.objective == "cost" and self.best.objective is not None:
                proven = affordable_flows(graph, self.best.objective)
            self.assumed = [r for r in regenerators if r not in proven]
            relaxation = build_relaxation(
                graph, self.objective, breakpoints, circulation_scale=self.scale, capital_breakpoints=self.capital,
                capacity=proven,
            )
            self.regenerator_bound = relaxation.data.regenerator_bound
            relaxed = HighsSolver(time_limit=left, **self.options).solve(relaxation)
            if relaxed.status == "infeasible":
                self.infeasible = True
                if self.best.model is not None:  # a plan at this or a smaller capacity is in the relaxation
                    raise SolverError("the relaxation is infeasible but a plan was found: the relaxation is wrong")
                return
            if relaxed.bound is not None and math.isfinite(relaxed.bound):
                self.lower = max(self.lower, relaxed.bound)
            self.relaxed_status = relaxed.status
            if relaxed.has_solution:
                flows = {e: pyo.value(relaxation.flow[e]) for e in relaxation.data.edges}
                recomputed = node_concentrations(graph, {e: f for e, f in flows.items() if f > ACTIVE_FLOW})[1]
                for guess in _guesses(variable, self.high, relaxation, recomputed):
                    self.restrict(guess)
                _refine(breakpoints, relaxation, variable, flows)
                _refine_capital(self.capital, relaxation, self.best.model)
            gap = _gap(self.best.objective, self.lower)
            self.iterations.append({
                "iteration": len(self.iterations) + 1,
                "lower": self.lower,
                "upper": self.best.objective,
                "gap": gap,
                "segments": sum(len(b) - 1 for b in breakpoints.values()),
                "regenerator_bound": self.regenerator_bound,
                "seconds": time.perf_counter() - self.start,
            })
            if gap is not None and gap <= tolerance:
                return
            if not relaxed.has_solution:
                return  # the relaxation stopped at the time limit without a point to refine at


def _binds(model: pyo.ConcreteModel, units: list[str]) -> bool:
    """Whether any of ``units`` runs at the capacity the model imposed on it."""
    data = model.data
    for r in units:
        inflow = sum(pyo.value(model.flow[e]) for e in data.in_edges[r])
        if inflow >= data.throughput_bound[r] * (1 - 1e-6):
            return True
    return False


@dataclass
class _Best:
    objective: float | None = None
    model: pyo.ConcreteModel | None = None
    solver: HighsSolver | None = None
    guess: dict = field(default_factory=dict)
    size: dict = field(default_factory=dict)
    on_plan: Callable[[float], None] | None = None


def _try_restriction(
    graph, objective, guess, best: _Best, options: dict, time_limit: float | None, scale: float = 1.0,
    capital: dict | None = None,
) -> None:
    """Solve the linear restriction at ``guess``; keep it when its plan's true objective beats the best so far.

    The true objective (:func:`cascade.kpi.objective_value`) prices capital costs on their curve,
    not on the interpolation the model minimised.
    """
    if time_limit is not None and time_limit <= 0:
        return
    try:
        model = build_model(graph, objective, outlet=guess, circulation_scale=scale, capital_breakpoints=capital)
    except InfeasiblePlantError:
        return
    solver = HighsSolver(time_limit=time_limit, **options)
    result = solver.solve(model)
    if not result.has_solution:
        return
    flows = {e: pyo.value(model.flow[e]) for e in model.data.edges}
    used = {e: f for e, f in flows.items() if f > ZERO_FLOW}
    if design_violations(graph, used):  # the model counted capital conservatively: a safeguard, not a filter
        return
    true = objective_value(graph, objective, used)
    if best.objective is None or true < best.objective - 1e-9 * abs(best.objective):
        best.objective, best.model, best.solver, best.guess, best.size = (
            true, model, solver, dict(guess), dict(result.size)
        )
        if best.on_plan is not None:
            best.on_plan(true)


def _guesses(variable, high, relaxation, recomputed) -> list[dict]:
    """Outlet guesses to try after a relaxation: recomputed from its flows, and its own concentrations."""
    physical, relaxed = {}, {}
    for n, c in variable:
        value = recomputed.loc[n, c]
        own = pyo.value(relaxation.conc[n, c])
        relaxed[n, c] = min(max(own, 0.0), high[n, c])
        physical[n, c] = relaxed[n, c] if math.isnan(value) else min(max(value, 0.0), high[n, c])
    return [physical, relaxed] if physical != relaxed else [physical]


def _refine(breakpoints: dict, relaxation, variable, flows: dict) -> None:
    """Add a breakpoint at the relaxation's concentration of every outlet that carries water."""
    data = relaxation.data
    for n, c in variable:
        if sum(flows[e] for e in data.out_edges[n]) <= ACTIVE_FLOW:
            continue
        points = breakpoints[n, c]
        span = points[-1] - points[0]
        if span <= 0:
            continue
        x = min(max(pyo.value(relaxation.conc[n, c]), points[0]), points[-1])
        if min(abs(x - p) for p in points) > MIN_SPACING * span:
            points.append(x)
        else:  # on a breakpoint already: split the longest segment next to it
            k = min(range(len(points)), key=lambda i: abs(points[i] - x))
            neighbours = [(points[k - 1], points[k])] if k > 0 else []
            neighbours += [(points[k], points[k + 1])] if k + 1 < len(points) else []
            a, b = max(neighbours, key=lambda ab: ab[1] - ab[0])
            if b - a > 2 * MIN_SPACING * span:
                points.append((a + b) / 2)
        points.sort()


def _refine_capital(capital: dict, relaxation, plan) -> None:
    """Add the flow of each capitalised regenerator in the relaxation and in the best plan as breakpoints."""
    for r, points in capital.items():
        span = points[-1] - points[0]
        for model in (relaxation, plan):
            if model is None:
                continue
            q = sum(pyo.value(model.flow[e]) for e in model.data.in_edges[r])
            if points[0] < q < points[-1] and min(abs(q - p) for p in points) > MIN_SPACING * span:
                points.append(q)
        points.sort()


def _gap(upper: float | None, lower: float) -> float | None:
    if upper is None or not math.isfinite(lower):
        return None
    return max(upper - lower, 0.0) / max(abs(upper), 1e-9)


def _result(status: str, objective, bound, start: float, size: dict | None = None) -> SolveResult:
    gap = _gap(objective, bound if bound is not None else -math.inf)
    return SolveResult(
        status=status,
        objective=objective,
        bound=bound,
        gap=0.0 if gap is not None and gap < 1e-12 else gap,
        handoff_time=0.0,
        solve_time=time.perf_counter() - start,
        termination="bilinear loop",
        size=dict(size or {}),
    )


__all__ = ["solve_bilinear", "affordable_flows", "BilinearOutcome", "TOLERANCE"]
