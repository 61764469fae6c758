"""The pipeline: plant -> superstructure -> model -> HiGHS -> plan -> independent check.

:func:`optimize` is a shortcut over public steps a user can run one by one (and add their own
Pyomo constraints in between)::

    graph = cascade.build_superstructure(plant)
    model = cascade.build_model(graph, "cost")
    solver = cascade.HighsSolver(time_limit=60)
    result = solver.solve(model)
    plan = cascade.extract_plan(plant, graph, model, result)

Two stages. Stage 1 minimises the objective. Stage 2 (the tie-break, on by default) keeps the
objective within ``TIE_TOLERANCE`` of the stage-1 optimum and minimises the number of new
pipes, because many networks reach the same minimum and an engineer wants the simplest. It
runs only when stage 1 was proven optimal, starts from the stage-1 plan, and shares the time
limit; if it stops early its best plan (never worse than stage 1's objective) is kept.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import networkx as nx
import pandas as pd
import pyomo.environ as pyo

from .bilinear import TOLERANCE as BILINEAR_TOLERANCE
from .bilinear import solve_bilinear
from .check import check_flows
from .economics import DESIGN_KEYS, capital_spend, plan_economics
from .exceptions import InfeasiblePlantError, PlantDataError, SolverError
from .explain import limits_table, regeneration_destinations
from .formulation import OBJECTIVES, build_model, needs_pipe_decisions, restrictions
from .formulation.data import is_bilinear
from .formulation.relaxation import build_relaxation, initial_breakpoints
from .kpi import ZERO_FLOW, annual_costs, plant_indicators, summary_indicators
from .park import plan_tables
from .plan import RetrofitPlan
from .plant import KIND_NAMES, Plant
from .progress import Callback, Tracker
from .search import combined_gap, find_plan, load_plan, solve_relaxation
from .solve import HighsSolver, SolveResult, solver_profile
from .superstructure import build_superstructure
from .units import factor, operation_room

#: Relative MIP gap when neither the caller nor the profile sets one.
DEFAULT_GAP = 1e-6
#: Relative slack on the stage-1 objective allowed in the tie-break stage.
TIE_TOLERANCE = 1e-7
#: Above this many pipes a plant with pipe decisions gets an LP bound and a restricted-MILP plan first
#: (:mod:`cascade.search`). (At N = 30 users, 1023 pipes, HiGHS alone had no plan after 10 s on one
#: seed of three; from the search's start every seed had a plan within 1 s.)
SEARCH_PIPES = 500
#: Up to this many pipes the whole MILP is then solved from that plan; above, neighbourhoods use the time.
#: (At N = 100 users, 11 235 pipes, the whole MILP raised the bound by 0.2 % in 35 s but its build and
#: hand-off made 5 % of the wall time; the neighbourhoods alone reach a 1.3 % gap with 1.4 % overhead.)
FULL_MODEL_PIPES = 5000
#: Share of the time for the first restricted MILP (at least 2 s).
FIRST_PLAN_SHARE = 0.25
#: Share of the time for all restricted MILPs when the whole MILP follows (at least 2 s).
SEARCH_SHARE = 0.15
#: Relative gap at which a restricted MILP stops: it only has to give a good plan, not prove one.
RESTRICTED_GAP = 1e-3

_TABLE_OF_KIND = {v: k for k, v in {
    "freshwater": "supply", "sinks": "sink", "sources": "source", "operations": "operation",
    "regenerators": "regenerator", "discharges": "discharge",
}.items()}


def optimize(
    plant: Plant,
    objective: str | None = None,
    *,
    time_limit: float | None = 60.0,
    mip_rel_gap: float | None = None,
    threads: int | None = None,
    tie_break: bool = True,
    solver_options: Mapping[str, Any] | None = None,
    tolerance: float = BILINEAR_TOLERANCE,
    progress: Callback | None = None,
    profile: str | os.PathLike | Mapping[str, Any] | None = None,
    limits: Mapping[str, float] | None = None,
) -> RetrofitPlan:
    """Design the water network of a plant and return the retrofit plan.

    Parameters
    ----------
    plant : Plant
        Validated first (errors raise); never modified.
    objective : {'freshwater', 'cost', 'new_pipes'}, optional
        Defaults to the plant's own ``objective``. ``new_pipes`` minimises the number of new
        pipes (with ``limits``, the steps of a lexicographic or trade-off study:
        :mod:`cascade.tradeoff`).
    time_limit : float or None, default 60
        Seconds for the whole solve (both stages). A stop with a plan in hand gives status
        ``feasible`` and its gap.
    mip_rel_gap : float, optional
        Relative gap at which HiGHS accepts a MIP plan as optimal (``optimal`` means proven
        within this gap; ``plan.gap`` gives the exact figure). Default: the profile's, else 1e-6.
    threads : int, optional
        Threads for HiGHS.
    tie_break : bool, default True
        Run the second stage that minimises the number of new pipes at the optimum.
    solver_options : mapping, optional
        Further HiGHS options by their HiGHS names (they win over the profile's).
    tolerance : float, default 1e-3
        For bilinear plants (see :func:`cascade.formulation.data.is_bilinear`): the relative gap
        between the plan and the proven lower bound at which :mod:`cascade.bilinear` stops and
        calls the plan ``optimal``.
    progress : callable, optional
        Called as ``progress(seconds, objective, bound)`` whenever the best plan or the best
        proven bound of the plant improves (objective units; None until there is one). The
        same history is in ``plan.solve["progress"]`` (see :mod:`cascade.progress`).
    profile : str, path or mapping, optional
        HiGHS settings: ``'default'``, ``'screening'``, ``'deterministic'`` or a TOML file
        (:func:`cascade.solve.solver_profile`; the repository's ``solvers/`` folder).
    limits : mapping, optional
        Upper limits on ``freshwater`` (the plant's flow unit), ``cost`` (money/yr) or
        ``new_pipes`` that every plan must meet (the epsilon-constraints of a Pareto front). They
        are part of the independent check.

    Returns
    -------
    RetrofitPlan

    Raises
    ------
    PlantDataError
        Invalid plant, or a feature this version cannot optimise (UnsupportedFeatureError).
    InfeasiblePlantError
        No network meets every limit; the message names the units that cannot be satisfied.
    SolverError
        HiGHS failed or stopped without any plan.

    Examples
    --------
    >>> import cascade
    >>> plan = cascade.optimize(cascade.examples.wang_smith())
    >>> plan.status, round(plan.freshwater, 6), plan.baseline["freshwater"]
    ('optimal', 90.0, 112.5)
    """
    objective = objective or plant.objective
    mip_rel_gap, solver_options = solver_settings(profile, mip_rel_gap, solver_options)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    tracker = Tracker(progress, start)
    plant.validate(strict=True)
    timings["validate"] = time.perf_counter() - start

    tick = time.perf_counter()
    graph = build_superstructure(plant)
    graph.graph["limits"] = _canonical_limits(plant, limits)
    timings["superstructure"] = time.perf_counter() - tick

    bilinear = is_bilinear(graph, objective)
    method: dict[str, Any] = {"name": "bilinear" if bilinear else "linear"}
    if bilinear:
        tick = time.perf_counter()
        outcome = solve_bilinear(
            graph, objective, time_limit=time_limit, tolerance=tolerance, mip_rel_gap=mip_rel_gap,
            threads=threads, solver_options=solver_options, on_plan=tracker.plan,
        )
        timings["bilinear"] = time.perf_counter() - tick
        model, solver, result = outcome.model, outcome.solver, outcome.result
        method.update(
            tolerance=tolerance, iterations=outcome.iterations, regenerator_bound=outcome.regenerator_bound,
            bound_binds=outcome.bound_binds, circulation_scale=outcome.circulation_scale,
        )
    elif needs_pipe_decisions(graph, objective) and graph.number_of_edges() > SEARCH_PIPES:
        remaining = None if time_limit is None else max(time_limit - (time.perf_counter() - start), 0.01)
        model, solver, result, search = _solve_large(
            plant, graph, objective, time_limit=remaining, mip_rel_gap=mip_rel_gap, threads=threads,
            solver_options=solver_options, pipes=tie_break, timings=timings, tracker=tracker,
        )
        method["search"] = search
    else:
        tick = time.perf_counter()
        model = build_model(graph, objective, pipes=tie_break)
        timings["build"] = time.perf_counter() - tick
        solver = HighsSolver(
            time_limit=time_limit, mip_rel_gap=mip_rel_gap, threads=threads, options=dict(solver_options or {}),
            progress=tracker.hook(bounds_hold=True),
        )
        timings["handoff"] = solver.set_model(model)
        result = solver.solve(model)
        timings["solve"] = result.solve_time
        timings["highs"] = result.highs_time
    if result.has_solution:
        tracker.plan(result.objective)
        tracker.proven(result.bound)
    if solver is not None:
        solver.progress = None  # the stages below optimise something else
    if result.status == "infeasible":
        raise InfeasiblePlantError(*_diagnose(graph, bilinear))
    if not result.has_solution:
        raise SolverError(f"HiGHS stopped without a plan ({result.termination}); try a longer time limit")

    stage2: dict[str, Any] = {"ran": False}
    interpolated = objective == "cost" and any(d.get("capital_a", 0.0) > 0 for _, d in graph.nodes(data=True))
    if interpolated:
        # the model prices capital on an interpolation below the true curve: a tie-break or polish
        # within it could raise the true cost the bound was proven against
        stage2 = {"ran": False, "reason": "capital costs are interpolated in the model"}
    elif objective == "new_pipes":
        stage2 = {"ran": False, "reason": "the objective is the number of new pipes"}
    elif tie_break and result.status == "optimal":
        remaining = None if time_limit is None else time_limit - (time.perf_counter() - start)
        if remaining is None or remaining > 0.5:
            stage2 = tie_break_new_pipes(model, solver, result.objective, time_limit=remaining)
            timings["tie_break"] = stage2.get("solve_time", 0.0)
            timings["highs"] = timings.get("highs", 0.0) + stage2.get("highs_time", 0.0)
        else:
            stage2 = {"ran": False, "reason": "no time left"}
    if not stage2.get("ran") and not interpolated and needs_pipe_decisions(graph, objective):
        tick = time.perf_counter()
        stage2["polished"] = polish(model, solver)
        timings["polish"] = time.perf_counter() - tick

    return extract_plan(
        plant, graph, model, result, timings=timings, tie_break=stage2, method=method, progress=tracker.history
    )


def solver_settings(
    profile: str | os.PathLike | Mapping[str, Any] | None, mip_rel_gap: float | None,
    solver_options: Mapping[str, Any] | None,
) -> tuple[float, dict[str, Any]]:
    """The relative gap (the caller's, else the profile's, else ``DEFAULT_GAP``) and the HiGHS options
    (the profile's, overridden by the caller's ``solver_options``)."""
    settings = solver_profile(profile)
    gap = settings.pop("mip_rel_gap", DEFAULT_GAP)
    return (float(gap) if mip_rel_gap is None else mip_rel_gap), {**settings, **dict(solver_options or {})}


def _solve_large(
    plant: Plant, graph: nx.DiGraph, objective: str, *, time_limit: float | None, mip_rel_gap: float,
    threads: int | None, solver_options: Mapping[str, Any] | None, pipes: bool, timings: dict[str, float],
    tracker: Tracker,
) -> tuple[pyo.ConcreteModel | None, HighsSolver | None, SolveResult, dict[str, Any]]:
    """A large linear plant with pipe decisions: LP bound, restricted-MILP plan, then the full MILP from it.

    See :mod:`cascade.search`. Up to :data:`FULL_MODEL_PIPES` pipes the whole MILP is then solved
    from the plan found (HiGHS improves plan and bound); above, the neighbourhood rounds use the
    time and the bound is the LP's. The status is ``optimal`` only when the whole plant's bound
    proves it.
    """
    start = time.perf_counter()
    options = {"mip_rel_gap": mip_rel_gap, "threads": threads, "options": dict(solver_options or {})}

    def left() -> float | None:
        return None if time_limit is None else max(time_limit - (time.perf_counter() - start), 0.01)

    relaxation = solve_relaxation(graph, objective, options=options, time_limit=left())
    timings["relaxation"] = time.perf_counter() - start
    lp = relaxation.result
    if lp.status == "infeasible":
        return None, None, lp, {"pipes": graph.number_of_edges()}
    lp_bound = lp.objective if lp.status == "optimal" else None  # an unfinished LP bounds nothing
    search: dict[str, Any] = {"lp_bound": lp_bound, "pipes": graph.number_of_edges()}
    tracker.proven(lp_bound)
    full = graph.number_of_edges() <= FULL_MODEL_PIPES
    tick = time.perf_counter()
    kind, base = baseline_flows(plant, graph)
    remaining = left()
    if remaining is None:
        budget = first = None
    elif full:  # the restricted MILPs only give the whole MILP its start
        budget = min(max(SEARCH_SHARE * remaining, 2.0), remaining / 2)
        first = budget / 2
    else:
        budget = remaining
        first = min(max(FIRST_PLAN_SHARE * remaining, 2.0), remaining / 2)
    best = find_plan(
        graph, objective, time_limit=budget, relaxation=relaxation,
        options={
            **options, "mip_rel_gap": max(mip_rel_gap, RESTRICTED_GAP), "progress": tracker.hook(bounds_hold=False)
        },
        initial=base if kind == "no reuse" else None, first_limit=first,
    )
    timings["restricted"] = time.perf_counter() - tick
    timings["highs"] = lp.highs_time + sum(r["highs_seconds"] for r in best.rounds)
    search["rounds"] = best.rounds
    search["full_model"] = full
    model, solver, result = best.model, best.solver, best.result
    from_whole = False
    if full:
        tick = time.perf_counter()
        whole = build_model(graph, objective, pipes=pipes)
        timings["build"] = time.perf_counter() - tick
        whole_solver = HighsSolver(progress=tracker.hook(bounds_hold=True), **options)
        timings["handoff"] = whole_solver.set_model(whole)
        warm = best.objective is not None
        if warm:
            load_plan(whole, best.flows)
        outcome = whole_solver.solve(whole, time_limit=left(), warm_start=warm)
        timings["solve"] = outcome.solve_time
        timings["highs"] += outcome.highs_time
        if outcome.has_solution or result is None:
            model, solver, result, from_whole = whole, whole_solver, outcome, True
        else:  # the whole MILP stopped without loading a plan: keep the restricted one, with the whole bound
            lp_bound = max((x for x in (lp_bound, outcome.bound) if x is not None), default=None)
    if result is None or not result.has_solution:
        return model, solver, result or lp, search
    bound, gap = combined_gap(result.objective, lp_bound, result.bound if from_whole else None)
    proven = (gap is not None and gap <= mip_rel_gap * (1 + 1e-9)) or (from_whole and result.status == "optimal")
    result = replace(result, bound=bound, gap=gap, status="optimal" if proven else "feasible")
    return model, solver, result, search


def tie_break_new_pipes(
    model: pyo.ConcreteModel, solver: HighsSolver, optimum: float, *, time_limit: float | None = None
) -> dict[str, Any]:
    """Stage 2: among plans within ``TIE_TOLERANCE`` of ``optimum``, find one with fewest new pipes.

    .. math::

        \\min \\sum_{(i,j)\\,new} y_{ij} \\quad \\text{s.t. stage-1 constraints and }
        z \\le z^* (1 + \\epsilon) + \\epsilon

    The stage-1 plan (with ``y = 1`` exactly on its used pipes) is the MIP start. The model is
    left with the stage-2 plan loaded; the stage-2 objective and constraint are removed again.
    """
    if not hasattr(model, "pipe_built"):
        return {"ran": False, "reason": "model has no pipe decisions"}
    data = model.data
    required = {e for e in data.edges if data.graph.edges[e]["required"]}
    saved = {e: pyo.value(model.flow[e]) for e in data.edges}
    for e in data.edges:
        if e not in required:
            model.pipe_built[e].unfix()
            model.pipe_built[e].set_value(1 if saved[e] > ZERO_FLOW else 0)
            if saved[e] <= ZERO_FLOW:
                model.flow[e].set_value(0.0)
    result = solve_fewest_new_pipes(model, solver, optimum, time_limit)
    if not result.has_solution:
        for e, f in saved.items():
            model.flow[e].set_value(f)
        return {"ran": True, "status": result.status, "kept": "stage 1", "solve_time": result.solve_time}
    polished = polish(model, solver)
    return {
        "ran": True,
        "status": result.status,
        "polished": polished,
        "new_pipes": round(result.objective),
        "bound": result.bound,
        "gap": result.gap,
        "solve_time": result.solve_time,
        "highs_time": result.highs_time,
    }


def solve_fewest_new_pipes(
    model: pyo.ConcreteModel, solver: HighsSolver, optimum: float, time_limit: float | None
) -> SolveResult:
    """Minimise ``model.new_pipes`` with the objective kept within ``TIE_TOLERANCE`` of ``optimum``,
    from the loaded values as MIP start; the stage-2 objective and row are removed again afterwards."""
    limit = optimum + TIE_TOLERANCE * max(abs(optimum), 1.0)
    goal_expr = model.goal.expr
    model.goal.deactivate()
    model.tie_goal = pyo.Objective(expr=model.new_pipes, sense=pyo.minimize)
    model.tie_limit = pyo.Constraint(expr=goal_expr <= limit)
    try:
        return solver.solve(model, time_limit=time_limit, warm_start=True)
    finally:
        model.del_component(model.tie_limit)
        model.del_component(model.tie_goal)
        model.goal.activate()


def polish(model: pyo.ConcreteModel, solver: HighsSolver) -> bool:
    """Fix every pipe decision at its rounded value and re-solve the remaining LP.

    A MIP solution may carry tiny flows on pipes whose binary sits within the integrality
    tolerance of 0; fixing the decisions and solving the LP gives exact flows for the chosen
    pipes (:meth:`cascade.solve.HighsSolver.polish`). If the LP fails the MIP solution is kept.
    Returns True when the polish was applied.
    """
    if not hasattr(model, "pipe_built") or all(v.fixed for v in model.pipe_built.values()):
        return False
    return solver.polish(model)


def model_flows(model: pyo.ConcreteModel) -> dict[tuple[str, str], float]:
    """The flows of the loaded solution, with round-off below ``ZERO_FLOW`` read as zero."""
    flows = {}
    for e in model.data.edges:
        value = model.flow[e].value
        if value is not None and value > ZERO_FLOW:
            flows[e] = float(value)
    return flows


def baseline_flows(plant: Plant, graph: nx.DiGraph) -> tuple[str, dict[tuple[str, str], float]]:
    """The network savings are measured against.

    Returns ``("existing", flows)`` when the plant lists its existing pipes, otherwise
    ``("no reuse", flows)``: every sink and operation fed only by the cheapest supply that
    meets its limits (the cleanest if none does), each operation at the flow that brings that
    water to its maximum outlet concentration, and every source and operation outlet sent to
    the cheapest discharge. Supply caps are respected where the supplies allow: a sink takes the
    next supply in that order when one runs out, an operation the first one with enough left;
    where they do not, the baseline breaks the cap and the plan says so.
    """
    if plant.existing:
        flows: dict[tuple[str, str], float] = {}
        for a, b, f in plant.existing:
            flows[a, b] = flows.get((a, b), 0.0) + f
        return "existing", flows
    supplies = [(n, d) for n, d in graph.nodes(data=True) if d["kind"] == "supply"]
    discharges = [(n, d) for n, d in graph.nodes(data=True) if d["kind"] == "discharge"]
    drain = min(discharges, key=lambda nd: nd[1]["price"])[0]
    left = {n: d.get("max_flow", math.inf) for n, d in supplies}
    flows = {}

    def ranked(limits: dict[str, float]) -> list[tuple[str, dict]]:
        """Supplies that meet the limits, cheapest first (the cleanest first if none does)."""
        fitting = [(n, d) for n, d in supplies if all(d["quality"][c] <= lim for c, lim in limits.items())]
        pool = fitting or supplies
        return sorted(pool, key=lambda nd: (nd[1]["price"] if fitting else 0.0, sum(nd[1]["quality"].values())))

    def take(w: str, user: str, amount: float) -> None:
        flows[w, user] = flows.get((w, user), 0.0) + amount
        left[w] -= amount

    for n, d in graph.nodes(data=True):
        if d["kind"] == "sink" and d["flow"] > 0:
            options, need = ranked(d["max_in"]), d["flow"]
            for w, _ in options:  # within the supplies' caps, cheapest first
                amount = min(need, max(left[w], 0.0))
                if amount > 0:
                    take(w, n, amount)
                    need -= amount
            if need > 0:  # every fitting supply is exhausted: the baseline breaks a cap (noted in the plan)
                take(options[0][0], n, need)
        elif d["kind"] == "source" and d["flow"] > 0:
            flows[n, drain] = d["flow"]
        elif d["kind"] == "operation":
            options = ranked(d["max_in"])
            needs = [(w, _operation_need(d, wd["quality"])) for w, wd in options]
            w, need = next(((w, f) for w, f in needs if f <= left[w]), needs[0])
            take(w, n, need)
            flows[n, drain] = need - d["water_loss"]
    return "no reuse", flows


def _operation_need(d: dict, quality: dict[str, float]) -> float:
    """Inflow an operation needs on water of ``quality``: its limiting contaminant at the outlet maximum.

    ``F (Cout - C) = 1000 L + Cout F_loss`` for each contaminant; the largest ``F`` is needed.
    """
    return max(
        (operation_room(load, d["max_out"][c], d["water_loss"]) / (d["max_out"][c] - quality[c])
         for c, load in d["load"].items() if load > 0 and d["max_out"][c] > quality[c]),
        default=0.0,
    )


def extract_plan(
    plant: Plant,
    graph: nx.DiGraph,
    model: pyo.ConcreteModel,
    result: SolveResult,
    *,
    timings: dict[str, float] | None = None,
    tie_break: dict[str, Any] | None = None,
    method: dict[str, Any] | None = None,
    progress: list[tuple[float, float | None, float | None]] | None = None,
) -> RetrofitPlan:
    """Read the loaded solution, check it independently and assemble the :class:`RetrofitPlan`.

    The plan is ``optimal`` only when HiGHS proved optimality and the check passed; a plan that
    fails the check gets status ``error`` (with the violations in ``plan.check``).
    """
    return plan_from_flows(
        plant, graph, model_flows(model), model.objective_name, result, timings=timings, tie_break=tie_break,
        method=method, progress=progress,
    )


def plan_from_flows(
    plant: Plant,
    graph: nx.DiGraph,
    flows: Mapping[tuple[str, str], float],
    objective_name: str,
    result: SolveResult,
    *,
    timings: dict[str, float] | None = None,
    tie_break: dict[str, Any] | None = None,
    method: dict[str, Any] | None = None,
    progress: list[tuple[float, float | None, float | None]] | None = None,
) -> RetrofitPlan:
    """Check a network given by its flows (t/h) independently and assemble the :class:`RetrofitPlan`.

    ``result`` gives the solver's status, bound and gap; see :func:`extract_plan`.
    """
    tick = time.perf_counter()
    timings = dict(timings or {})
    flows = dict(flows)
    check = check_flows(graph, flows)
    existing = {(i, j) for i, j, d in graph.edges(data=True) if d["existing"]}
    used_new = [e for e in flows if e not in existing]
    accounts = {"plan": plant_indicators(graph, flows, inlet=check.inlet, data=plant.indicator_data)}
    kpis = summary_indicators(accounts["plan"])
    costs = annual_costs(graph, flows, used_new)
    objective_value = {"freshwater": kpis["freshwater"], "cost": costs["total"], "new_pipes": float(len(used_new))}[
        objective_name
    ]

    kind, base = baseline_flows(plant, graph)
    known = {e: f for e, f in base.items() if e[0] in graph and e[1] in graph}
    base_costs = annual_costs(graph, known)
    base_check = check_flows(baseline_graph(graph), known)
    accounts["baseline"] = plant_indicators(graph, known, inlet=base_check.inlet, data=plant.indicator_data)
    base_kpis = summary_indicators(accounts["baseline"])
    scale = factor("flow", plant.units["flow"])  # canonical t/h per plant flow unit

    status = result.status
    method = dict(method or {"name": "linear"})
    if method["name"] == "bilinear":
        iterations = method.get("iterations", [])
        proof = (
            "no lower bound was proven in the time" if result.gap is None
            else f"the plan within {100 * result.gap:.3g} % of the proven lower bound"
        )
        notes = [
            f"Bilinear plant (outlet concentrations that depend on the flows) solved by MILP relaxation and "
            f"restriction: {len(iterations)} relaxation(s), {proof}."
        ]
        if method.get("circulation_scale") is not None:
            k = method["circulation_scale"]
            parts = []
            if any(d["kind"] == "operation" and "max_flow" not in d for _, d in graph.nodes(data=True)):
                parts.append(f"operations at {k:g} x the flow that takes their limiting contaminant from its inlet "
                             "to its outlet limit")
            if method.get("regenerator_bound") is not None:
                parts.append(f"regenerators at {method['regenerator_bound'] / scale:.6g} {plant.units['flow']}")
            notes.append(
                "Units without a max_flow were bounded in the search (" + "; ".join(parts) + "); the lower bound "
                "holds for plans within these bounds."
                + (" The plan runs a unit at its bound: more circulation might do better."
                   if method.get("bound_binds") else "")
            )
    else:
        notes = list(restrictions(graph, objective_name))
        search = method.get("search")
        if search:
            whole = "the whole MILP was then solved from it" if search.get("full_model") else (
                "restricted MILPs over its pipes and their best-priced neighbours improved it"
            )
            notes.append(
                f"Large plant ({search['pipes']} candidate pipes): the first plan came from a MILP restricted to the "
                f"pipes the LP relaxation uses and the no-reuse pipes, and {whole}; the bound is the LP relaxation of "
                "the whole plant" + (" or HiGHS's bound on the whole MILP, whichever is higher." if search.get(
                    "full_model") else ".")
            )
    if not check.passed:
        status = "error"
        notes.append(
            f"The independent check FAILED (max relative violation {check.max_violation:.3g}); "
            "the solver's answer is not a valid plan."
        )
    if status == "feasible":
        gap = "an unknown distance" if result.gap is None else f"{100 * result.gap:.3g} %"
        notes.append(
            f"The search stopped at a limit ({result.termination}) before proving optimality: the plan is within "
            f"{gap} of the proven bound."
        )
    if kind == "no reuse":
        notes.append("No existing network was given: savings are against a plant with no reuse, and every pipe "
                     "of the plan counts as new.")
    if not base_check.passed:
        worst = base_check.violations.sort_values("relative", ascending=False).iloc[0]
        what = f"{worst['rule']} at {worst['unit']}" + (f" ({worst['contaminant']})" if worst["contaminant"] else "")
        notes.append(
            f"The baseline ({kind}) itself breaks {len(base_check.violations)} limit(s) of the plant, the worst "
            f"{what}: {worst['value']:.4g} against {worst['limit']:.4g}; savings are measured against it as it is."
        )
    if plant.periods:
        notes.append(f"The plant lists {len(plant.periods)} operating periods; this plan designs the plant as written "
                     "only. cascade.optimize_periods (and cascade solve) designs one network for all of them.")
    for tail, head, f in graph.graph.get("removed_existing", []):
        notes.append(f"Existing pipe {tail} -> {head} ({f / scale:.4g} {plant.units['flow']}) is not allowed by the "
                     "superstructure and is removed.")

    def flow_unit(value: float) -> float:
        return value / scale

    flow_rows = [
        {"from": i, "to": j, "flow": flow_unit(f), "new_pipe": (i, j) not in existing}
        for (i, j), f in flows.items()
    ]
    flows_frame = pd.DataFrame(flow_rows, columns=["from", "to", "flow", "new_pipe"])
    reference = base if kind == "existing" else {}
    pipe_rows = []
    for e in sorted(set(flows) | set(reference), key=lambda e: (e[0], e[1])):
        f, b = flows.get(e, 0.0), reference.get(e, 0.0)
        status_e = "kept" if (e in flows and e in reference) else ("new" if e in flows else "removed")
        pipe_rows.append(
            {"from": e[0], "to": e[1], "status": status_e, "flow": flow_unit(f), "baseline_flow": flow_unit(b)}
        )
    pipes_frame = pd.DataFrame(pipe_rows, columns=["from", "to", "status", "flow", "baseline_flow"])

    regen_frame = regeneration_destinations(graph, flows) / scale
    limits = limits_table(graph, check.inlet, check.outlet, check.throughput)
    limits.loc[limits["where"] == "flow", ["value", "limit"]] /= scale

    baseline = {
        "kind": kind,
        "freshwater": flow_unit(base_kpis["freshwater"]),
        "wastewater": flow_unit(base_kpis["wastewater"]),
        "regenerated": flow_unit(base_kpis["regenerated"]),
        "reused": flow_unit(base_kpis["reused"]),
        "reuse_rate": base_kpis["reuse_rate"],
        "cost": base_costs["total"],
    }
    saved = base_kpis["freshwater"] - kpis["freshwater"]
    savings = {
        "freshwater": flow_unit(saved),
        "freshwater_pct": 100 * saved / base_kpis["freshwater"] if base_kpis["freshwater"] > 0 else 0.0,
        "freshwater_per_year": saved * plant.hours_per_year,
        "wastewater": flow_unit(base_kpis["wastewater"] - kpis["wastewater"]),
        "cost_per_year": base_costs["total"] - costs["total"],
    }
    timings["check_and_extract"] = time.perf_counter() - tick
    solve_info = {
        "times": timings,
        "size": dict(result.size),
        "termination": result.termination,
        "stage1": {"status": result.status, "objective": result.objective, "bound": result.bound, "gap": result.gap},
        "tie_break": dict(tie_break or {"ran": False}),
        "pipe_decisions": needs_pipe_decisions(graph, objective_name),
        "method": method,
        "progress": [list(p) for p in (progress or [])],
    }
    bound = result.bound
    if objective_name == "freshwater" and bound is not None:
        bound = flow_unit(bound)
    return RetrofitPlan(
        plant=plant.name,
        objective_name=objective_name,
        status=status,
        objective=flow_unit(objective_value) if objective_name == "freshwater" else objective_value,
        bound=bound,
        gap=result.gap,
        freshwater=flow_unit(kpis["freshwater"]),
        wastewater=flow_unit(kpis["wastewater"]),
        regenerated=flow_unit(kpis["regenerated"]),
        baseline=baseline,
        savings=savings,
        kpis={**kpis, **{k: flow_unit(v) for k, v in kpis.items() if k in ("freshwater", "wastewater",
                                                                           "regenerated", "reused")}},
        costs=costs,
        check=check,
        solve=solve_info,
        notes=tuple(notes),
        units=dict(plant.units),
        _tables={"flows": flows_frame, "pipes": pipes_frame, "regeneration": regen_frame, "limits": limits,
                 "baseline_flows": pd.DataFrame(
                     [{"from": i, "to": j, "flow": flow_unit(f)} for (i, j), f in known.items() if f > ZERO_FLOW],
                     columns=["from", "to", "flow"]),
                 "baseline_outlet": base_check.outlet,
                 **plan_tables(graph, flows, scale)},
        economics=plan_economics(graph, capital_spend(graph, flows, used_new), costs, base_costs, plant.finance),
        accounts=accounts,
        source=plant,
    )


def baseline_graph(graph: nx.DiGraph) -> nx.DiGraph:
    """The superstructure without design limits (budget, pipe limits, study limits): what today's plant is held to."""
    if not _design_limits(graph):
        return graph
    free = graph.copy()
    free.graph.update(dict.fromkeys(DESIGN_KEYS), limits={})
    return free


def _design_limits(graph: nx.DiGraph) -> dict[str, float]:
    found = {k: graph.graph[k] for k in DESIGN_KEYS if graph.graph.get(k) is not None}
    found.update({f"{k} limit": v for k, v in (graph.graph.get("limits") or {}).items() if v is not None})
    return found


def _canonical_limits(plant: Plant, limits: Mapping[str, float] | None) -> dict[str, float]:
    """``limits`` in canonical units (fresh water in t/h), or a PlantDataError naming a wrong one."""
    out = {}
    for name, value in (limits or {}).items():
        if name not in OBJECTIVES:
            raise PlantDataError(f"limits: {name!r} is not known; limit {', '.join(map(repr, OBJECTIVES))}")
        if value is None:
            continue
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            raise PlantDataError(f"limits: {name} must be a finite number, got {value!r}")
        out[name] = float(value) * (factor("flow", plant.units["flow"]) if name == "freshwater" else 1.0)
    return out


def _diagnose(graph: nx.DiGraph, bilinear: bool) -> tuple[str, list[str]]:
    """Find which limits cannot all hold: minimise slack on them and name the units that need it.

    A bilinear plant is diagnosed on its relaxation: what even the relaxation cannot satisfy.
    When the plant meets its limits without its design limits (budget, pipe limits, study
    limits), those are named instead.
    """
    design = _design_limits(graph)
    if design:
        free = baseline_graph(graph)
        check = build_relaxation(free, "freshwater", initial_breakpoints(free)) if bilinear else build_model(
            free, "freshwater", pipes=False
        )
        if HighsSolver(time_limit=30).solve(check).has_solution:
            shown = ", ".join(f"{k} {v:g}" for k, v in design.items())
            return (
                f"No water network meets the design limits ({shown}), although the plant's limits alone can be met. "
                "Raise the budget, allow more new pipes or inlets, or loosen the study limit.",
                [],
            )
        graph = free
    model = (
        build_relaxation(graph, "freshwater", initial_breakpoints(graph))
        if bilinear else build_model(graph, "freshwater", pipes=False)
    )
    targets = [
        model.sink_demand, model.source_supply, model.sink_quality, model.operation_inlet_quality,
        model.operation_mass_balance, model.discharge_quality, model.supply_cap, model.throughput_cap,
    ]
    if hasattr(model, "required_flow"):
        targets.append(model.required_flow)
    pyo.TransformationFactory("core.add_slack_variables").apply_to(model, targets=targets)
    result = HighsSolver(time_limit=30).solve(model)
    if not result.has_solution:
        return ("No water network meets every limit of the plant (the diagnosis could not narrow it down).", [])
    transformation = pyo.TransformationFactory("core.add_slack_variables")
    kinds = {n: d["kind"] for n, d in graph.nodes(data=True)}
    found: dict[str, list[str]] = {}
    for component in targets:
        for index in component:
            con = component[index]
            try:
                slacks = transformation.get_slack_variables(model, con)
            except (ValueError, AttributeError):
                continue
            if sum(pyo.value(s) for s in slacks) > 1e-6:
                key = index if isinstance(index, tuple) else (index,)
                unit = key[0] if key and key[0] in kinds else None
                if unit is None:  # required pipe (tail, head)
                    continue
                what = _describe(component.local_name, key, graph)
                found.setdefault(unit, []).append(what)
    units = list(found)
    if not units:
        return ("No water network meets every limit of the plant.", [])
    parts = [f"{KIND_NAMES[_TABLE_OF_KIND[kinds[u]]]} '{u}' ({'; '.join(found[u])})" for u in units]
    return (
        "No water network meets every limit of the plant. These cannot all be satisfied: "
        + ", ".join(parts)
        + ". Relax a limit, add a cleaner supply or a regenerator, or raise a capacity.",
        units,
    )


def _describe(constraint: str, key: tuple, graph: nx.DiGraph) -> str:
    node = graph.nodes[key[0]]
    if constraint in ("sink_quality", "operation_inlet_quality", "discharge_quality"):
        return f"{key[1]} <= {node['max_in'][key[1]]:g} ppm"
    if constraint == "operation_mass_balance":
        return f"outlet {key[1]} <= {node['max_out'][key[1]]:g} ppm"
    if constraint == "sink_demand":
        return f"demand {node['flow']:g} t/h"
    if constraint == "source_supply":
        return f"all of its {node['flow']:g} t/h must go somewhere"
    if constraint in ("supply_cap", "throughput_cap"):
        return f"capacity {node.get('max_flow', math.inf):g} t/h"
    return constraint


__all__ = ["optimize", "extract_plan", "plan_from_flows", "tie_break_new_pipes", "baseline_flows", "model_flows"]
