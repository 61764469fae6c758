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

from ..exceptions import PlantDataError
from .balances import add_balances
from .costs import CapitalBreakpoints, add_capital_costs
from .data import ModelData, build_data, check_supported, restrictions
from .objective import cost_expr, freshwater_expr
from .piping import add_piping, add_regenerator_installation, add_relaxed_piping, new_pipe_count
from .quality import add_quality
from .reuse import add_regeneration_reuse

__all__ = [
    "build_model", "network_model", "ModelData", "build_data", "check_supported", "restrictions",
    "needs_pipe_decisions",
]


def needs_pipe_decisions(graph: nx.DiGraph, objective: str) -> bool:
    """Whether pipe binaries are part of the first-stage model (minimum flow or paid pipes)."""
    return graph.graph["min_flow"] > 0 or (objective == "cost" and graph.graph["pipe_cost_fixed"] > 0)


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
) -> pyo.ConcreteModel:
    """The part every model shares: flows, water balances, pipe and regenerator decisions, objective.

    The quality constraints are added by the caller: the linear ones of
    :mod:`~cascade.formulation.quality`, or the relaxed bilinear ones of
    :mod:`~cascade.formulation.relaxation`. ``capital_breakpoints`` (regenerator -> flows, t/h)
    are the breakpoints of the piecewise capital costs (:mod:`~cascade.formulation.costs`).
    ``relaxed`` gives the projected LP relaxation of the pipe and regenerator decisions
    (:mod:`~cascade.formulation.piping`).
    """
    if objective not in ("freshwater", "cost"):
        raise PlantDataError(f"objective {objective!r} is not known; use 'freshwater' or 'cost'")
    m = pyo.ConcreteModel(name=graph.graph["name"])
    m.data = data
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
        m.new_pipes = pyo.Expression(expr=new_pipe_count(m, data))
    add_regenerator_installation(m, data, relaxed=relaxed)
    if objective == "cost":
        add_capital_costs(m, data, capital_breakpoints)
    else:  # installation only matters for its cost, or where a minimum flow applies
        for r in m.regen_installed:
            if not data.graph.nodes[r].get("min_flow", 0.0) > 0:
                m.regen_installed[r].fix(1)
    m.freshwater = pyo.Expression(expr=freshwater_expr(m, data))
    if objective == "cost":
        m.cost = pyo.Expression(expr=cost_expr(m, data))
    m.goal = pyo.Objective(expr=m.freshwater if objective == "freshwater" else m.cost, sense=pyo.minimize)
    m.objective_name = objective
    return m
