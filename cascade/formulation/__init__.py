"""The water-network MILP in Pyomo, one module per constraint family.

:func:`build_model` assembles the model from the superstructure:

* :mod:`~cascade.formulation.data` - adjacency, fixed outlet concentrations, flow bounds;
* :mod:`~cascade.formulation.balances` - fixed flows, conservation, capacities;
* :mod:`~cascade.formulation.quality` - inlet, outlet and discharge limits, fixed-load balance;
* :mod:`~cascade.formulation.piping` - pipe binaries, minimum flows, required pipes;
* :mod:`~cascade.formulation.reuse` - regeneration reuse (``recycle: false``), exact with binaries;
* :mod:`~cascade.formulation.costs` - concave capital costs of regenerators, piecewise with binaries;
* :mod:`~cascade.formulation.objective` - fresh water or annual cost.

Component names follow the equations: ``m.flow[i, j]``, ``m.pipe_built[i, j]``,
``m.regen_installed[r]``, ``m.freshwater``, ``m.cost`` (cost objective only), ``m.goal`` (the
active objective).
A user may add constraints to the returned model before :func:`cascade.solve_model`.
"""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx
import pyomo.environ as pyo

from ..economics import DESIGN_KEYS
from ..exceptions import PlantDataError
from .balances import add_balances
from .costs import CapitalBreakpoints, add_capital_costs
from .data import ModelData, build_data, check_supported, limits_of, prices_capital, restrictions
from .objective import cost_expr, freshwater_expr
from .piping import (
    add_pipe_classes,
    add_pipe_limits,
    add_piping,
    add_regenerator_installation,
    add_relaxed_piping,
    has_pipe_costs,
    new_pipe_count,
    pipe_expr,
)
from .quality import add_quality
from .reuse import add_regeneration_reuse

__all__ = [
    "build_model", "network_model", "ModelData", "build_data", "check_supported", "restrictions",
    "needs_pipe_decisions", "prices_capital", "limits_of", "OBJECTIVES",
]


#: Objectives a model can minimise.
OBJECTIVES = ("freshwater", "cost", "new_pipes")


def needs_pipe_decisions(graph: nx.DiGraph, objective: str) -> bool:
    """Whether pipe binaries are part of the first-stage model: a minimum flow, paid pipes (cost objective
    or a cost limit), pipe limits or a budget, or the number of new pipes as objective or limit."""
    g = graph.graph
    limits = limits_of(graph)
    priced = objective == "cost" or "cost" in limits
    return (
        g["min_flow"] > 0
        or (priced and has_pipe_costs(graph))
        or objective == "new_pipes" or "new_pipes" in limits
        or any(g.get(key) is not None for key in DESIGN_KEYS)
    )


def build_model(
    graph: nx.DiGraph,
    objective: str = "freshwater",
    *,
    pipes: bool = True,
    outlet: Mapping[tuple[str, str], float] | None = None,
    circulation_scale: float = 1.0,
    capital_breakpoints: CapitalBreakpoints | None = None,
    tighten: bool = True,
    relaxed: bool = False,
) -> pyo.ConcreteModel:
    """Build the MILP for a superstructure.

    Parameters
    ----------
    graph : networkx.DiGraph
        From :func:`cascade.build_superstructure`.
    objective : {'freshwater', 'cost'}
    pipes : bool, default True
        Create ``pipe_built`` binaries on every pipe (needed for the tie-break on new pipes).
        When the objective does not need them they are fixed to 1, so the first stage is an LP.
    outlet : mapping of (node, contaminant) -> ppm, optional
        Guessed outlet concentrations of operations and regenerators (see
        :mod:`cascade.formulation.data`): the model is then the linear restriction in which no
        real outlet exceeds its guess. Needed for removal-ratio and pass-through regenerators and
        for fixed-load operations with several contaminants.
    circulation_scale : float, default 1
        Capacity of regenerators without ``max_flow``, in multiples of the plant's process water
        (see :mod:`cascade.formulation.data`).
    capital_breakpoints : mapping of regenerator -> list of t/h, optional
        Breakpoints of the piecewise capital costs (default:
        :func:`~cascade.formulation.costs.initial_capital_breakpoints`).
    tighten : bool, default True
        Dilution bounds on the arcs and no arcs that can never carry flow (exact; see
        :mod:`cascade.formulation.data`). False builds the plain formulation.
    relaxed : bool, default False
        Build the LP relaxation instead, with the pipe binaries projected out (its optimum is the
        MILP's LP bound; see :mod:`cascade.formulation.piping`).

    Returns
    -------
    pyomo.environ.ConcreteModel
        With ``m.data`` (:class:`ModelData`) and ``m.goal`` active.

    Raises
    ------
    UnsupportedFeatureError
        For plant features this version cannot optimise (see :func:`check_supported`).
    """
    check_supported(graph, guessed=outlet is not None)
    data = build_data(graph, outlet, circulation_scale=circulation_scale, tighten=tighten)
    m = network_model(graph, data, objective, pipes=pipes, capital_breakpoints=capital_breakpoints, relaxed=relaxed)
    add_quality(m, data)
    return m


def network_model(
    graph: nx.DiGraph,
    data: ModelData,
    objective: str,
    *,
    pipes: bool = True,
    capital_breakpoints: CapitalBreakpoints | None = None,
    relaxed: bool = False,
    relaxed_quality: bool = False,
) -> pyo.ConcreteModel:
    """The part every model shares: flows, water balances, pipe and regenerator decisions, objective.

    The quality constraints are added by the caller: the linear ones of
    :mod:`~cascade.formulation.quality`, or the relaxed bilinear ones of
    :mod:`~cascade.formulation.relaxation`. ``capital_breakpoints`` (regenerator -> flows, t/h)
    are the breakpoints of the piecewise capital costs (:mod:`~cascade.formulation.costs`).
    ``relaxed`` gives the projected LP relaxation of the pipe and regenerator decisions
    (:mod:`~cascade.formulation.piping`). ``relaxed_quality`` says the caller adds relaxed
    quality constraints (a bound, not a plan): the budget and a cost limit then count regenerator
    capital on the interpolation rather than conservatively (:func:`add_design_limits`).
    """
    if objective not in OBJECTIVES:
        raise PlantDataError(f"objective {objective!r} is not known; use one of {', '.join(OBJECTIVES)}")
    m = pyo.ConcreteModel(name=graph.graph["name"])
    m.data = data
    m.pipes_relaxed = relaxed
    m.flow = pyo.Var(data.edges, domain=pyo.NonNegativeReals, bounds=lambda m, i, j: (0, data.arc_bound[i, j]))
    add_balances(m, data)
    add_regeneration_reuse(m, data)
    decisions = needs_pipe_decisions(graph, objective)
    if relaxed:
        add_relaxed_piping(m, data, graph.graph["min_flow"] if decisions else 0.0)
    elif pipes or decisions:
        add_piping(m, data, graph.graph["min_flow"] if decisions else 0.0)
        if not decisions:
            for e in data.edges:
                m.pipe_built[e].fix(1)
        else:
            add_pipe_classes(m, data)
        m.new_pipes = pyo.Expression(expr=new_pipe_count(m, data))
    if decisions:
        add_pipe_limits(m, data)
    add_regenerator_installation(m, data, relaxed=relaxed)
    capital = prices_capital(graph, objective)
    if capital:
        add_capital_costs(m, data, capital_breakpoints)
    else:  # installation only matters for its cost, or where a minimum flow applies
        for r in m.regen_installed:
            if not data.graph.nodes[r].get("min_flow", 0.0) > 0:
                m.regen_installed[r].fix(1)
    m.freshwater = pyo.Expression(expr=freshwater_expr(m, data))
    if capital:
        m.cost = pyo.Expression(expr=cost_expr(m, data))
    add_design_limits(m, data, conservative=not (relaxed_quality or relaxed))
    m.goal = pyo.Objective(expr=getattr(m, objective), sense=pyo.minimize)  # m.freshwater, m.cost or m.new_pipes
    m.objective_name = objective
    return m


def add_design_limits(m: pyo.ConcreteModel, data: ModelData, conservative: bool) -> None:
    """The capital budget and the limits of a trade-off study (:func:`cascade.optimize` ``limits``).

    .. math::

        \\text{pipe capital} + \\sum_r \\text{capital}^{money}_r \\le B, \\qquad
        \\text{freshwater} \\le W, \\qquad \\text{cost} \\le C, \\qquad \\text{new pipes} \\le N

    ``conservative`` (a restriction whose plans are kept) counts regenerator capital at the top
    of its active segment (``capital_upper``), otherwise at the interpolation
    (:mod:`cascade.formulation.costs`); the cost limit likewise.
    """
    g = data.graph
    regenerators = m.capital_upper if conservative and hasattr(m, "capital_upper") else getattr(m, "capital_money", {})
    budget = g.graph.get("budget")
    if budget is not None:
        spend = pipe_expr(m, data, annual=False) + sum(regenerators[r] for r in regenerators)
        m.budget = pyo.Constraint(expr=spend <= budget)
    limits = limits_of(g)
    if "freshwater" in limits:
        m.limit_freshwater = pyo.Constraint(expr=m.freshwater <= limits["freshwater"])
    if "new_pipes" in limits:
        m.limit_new_pipes = pyo.Constraint(expr=m.new_pipes <= limits["new_pipes"] + 1e-6)
    if "cost" in limits:
        cost = m.cost
        if conservative and hasattr(m, "capital_upper"):
            factor = g.graph.get("annualisation") or 0.0
            cost = cost + factor * sum(m.capital_upper[r] - m.capital_money[r] for r in m.capital_upper)
        m.limit_cost = pyo.Constraint(expr=cost <= limits["cost"])
