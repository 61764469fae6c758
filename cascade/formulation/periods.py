r"""Multi-period design: one set of pipes and regenerators that serves every operating period.

Each period ``p`` (hours ``h_p`` a year) is a block ``m.period[p]`` with its own flows ``f^p``
and the constraint families of one network (:mod:`~cascade.formulation.balances`,
:mod:`~cascade.formulation.quality`, :mod:`~cascade.formulation.reuse`) over that period's data
(:func:`~cascade.formulation.data.build_data`: its loads, limits, capacities and arc bounds
``U^p``). The design decisions are shared: ``y_e`` (pipe built, over the union of the periods'
pipes), ``x_{ek}`` (its flow class) and ``z_r`` (regenerator installed):

.. math::

    f^p_e \le U^p_e\, y_e \qquad \text{pipe capacity, every period}

    f^p_e \le \sum_k \min(F^{max}_k, U^p_e)\, x_{ek}, \qquad \sum_k x_{ek} = y_e
    \qquad \text{flow class (several classes)}

    \sum_{in(r)} f^p \le U^p_r\, z_r \qquad \text{regenerator installed}

With a minimum pipe flow ``F^{min}`` a built pipe may stand idle in a period: a binary
``v^p_e`` says whether it is in use then, and likewise ``w^p_r`` for a regenerator with a
minimum flow:

.. math::

    F^{min}_e v^p_e \le f^p_e \le U^p_e v^p_e, \quad v^p_e \le y_e, \qquad
    F^{min}_r w^p_r \le \sum_{in(r)} f^p \le U^p_r w^p_r, \quad w^p_r \le z_r

An existing pipe that no period uses is removed (:func:`cascade.economics.capital_spend` counts it
so): it gets the ``v^p_e`` too, even without a minimum flow when removal costs money (then with
``F^{req}`` as its smallest flow in use), and

.. math::

    y_e \le \sum_p v^p_e \qquad \text{existing pipes}

A required pipe carries at least ``max(F^{min}, F^{req})`` in every period. Objectives (``H``
the sum of the periods' hours):

.. math::

    \text{freshwater} = \frac{1}{H} \sum_p h_p \sum_w \sum_{out(w)} f^p \quad \text{(t/h, hours-weighted)}

    \text{cost} = \sum_p h_p\, \text{operating}_p + \sum_r K_r z_r + \text{pipe cost}(y, x)

    \text{new pipes} = \sum_{e\,new} y_e

with ``operating_p`` the money per hour of :func:`~cascade.formulation.objective.operating_expr`
at the period's prices, ``K_r`` the regenerator's annual fixed cost and the pipe cost of
:func:`~cascade.formulation.piping.pipe_expr`. ``max_new_pipes``, ``max_inlets`` and the budget
apply to ``y`` and ``x`` (:func:`~cascade.formulation.piping.add_pipe_limits`,
:func:`~cascade.formulation.add_design_limits`). The model is exact for plants whose one-period
model is (fixed outlets: :func:`~cascade.formulation.data.is_bilinear` false in every period);
concave regenerator capital curves are not modelled here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import networkx as nx
import pyomo.environ as pyo

from ..exceptions import PlantDataError, UnsupportedFeatureError
from ..superstructure import pipe_minimum
from . import OBJECTIVES, add_design_limits, needs_pipe_decisions
from .balances import add_balances, inflow
from .data import ModelData, build_data, is_bilinear
from .objective import freshwater_expr, operating_expr
from .piping import REQUIRED_FLOW, add_pipe_limits, has_pipe_costs, installable, new_pipe_count, new_pipes, pipe_expr
from .quality import add_quality
from .reuse import add_regeneration_reuse


def check_periods_supported(graphs: Mapping[str, nx.DiGraph], objective: str) -> None:
    """Refuse, naming the period and the reason, what the multi-period model cannot represent exactly."""
    for name, graph in graphs.items():
        if is_bilinear(graph, objective):
            raise UnsupportedFeatureError(
                f"period '{name}': the multi-period design needs a plant whose network model is linear (fixed "
                "regenerator outlets, single-contaminant operations, no capital curves under a cost objective or "
                "budget); this plant needs the bilinear method, which designs one period at a time"
            )


def design_data(design: nx.DiGraph, datas: Mapping[str, ModelData]) -> ModelData:
    """The design's pipes: the union of the periods' pipes, each bounded by its largest period bound."""
    first = next(iter(datas.values()))
    bound: dict[tuple[str, str], float] = {}
    for data in datas.values():
        for e in data.edges:
            bound[e] = max(bound.get(e, 0.0), data.arc_bound[e])
    edges = [e for e in design.edges if e in bound]
    missing = [e for e in bound if e not in design.edges]
    if missing:  # every period comes from the same plant file, so their pipes are the design's
        raise PlantDataError(f"pipes {missing[:3]} of a period are not in the design's superstructure")
    in_edges: dict[str, list[tuple[str, str]]] = {n: [] for n in design}
    out_edges: dict[str, list[tuple[str, str]]] = {n: [] for n in design}
    for i, j in edges:
        out_edges[i].append((i, j))
        in_edges[j].append((i, j))
    throughput = {n: max(d.throughput_bound[n] for d in datas.values()) for n in design}
    return replace(
        first, graph=design, edges=edges, in_edges=in_edges, out_edges=out_edges, arc_bound=bound,
        throughput_bound=throughput,
    )


def build_period_model(
    design: nx.DiGraph,
    graphs: Mapping[str, nx.DiGraph],
    hours: Mapping[str, float],
    objective: str = "freshwater",
) -> pyo.ConcreteModel:
    """Build the multi-period MILP of the module equations.

    Parameters
    ----------
    design : networkx.DiGraph
        Superstructure of the plant as written (pipe economics, existing and required pipes,
        design limits and ``graph.graph["limits"]``).
    graphs : mapping of period -> networkx.DiGraph
        Superstructure of each period (the plant with that period's changes).
    hours : mapping of period -> float
        Operating hours a year of each period.
    objective : {'freshwater', 'cost', 'new_pipes'}

    Returns
    -------
    pyomo.environ.ConcreteModel
        With blocks ``m.period[p]`` (``flow``, ``freshwater``, ``operating``), the design
        decisions ``m.pipe_built``, ``m.regen_installed``, the expressions ``m.freshwater``,
        ``m.cost``, ``m.new_pipes`` and ``m.goal``; ``m.data`` is the design's
        :class:`~cascade.formulation.data.ModelData`, ``m.period_data`` each period's.
    """
    if objective not in OBJECTIVES:
        raise PlantDataError(f"objective {objective!r} is not known; use one of {', '.join(OBJECTIVES)}")
    check_periods_supported(graphs, objective)
    names = list(graphs)
    datas = {p: build_data(graphs[p], None, tighten=True) for p in names}
    data = design_data(design, datas)
    g = design.graph
    m = pyo.ConcreteModel(name=g["name"])
    m.data, m.period_data, m.hours = data, datas, {p: float(hours[p]) for p in names}
    m.pipes_relaxed = False
    m.objective_name = objective
    m.period = pyo.Block(names)
    for p in names:
        _add_operation(m.period[p], datas[p])

    decisions = needs_pipe_decisions(design, objective)
    minimum = g["min_flow"] if decisions else 0.0
    m.pipe_built = pyo.Var(data.edges, domain=pyo.Binary)
    for e in data.edges:
        if design.edges[e]["required"] or not decisions:
            m.pipe_built[e].fix(1)
    removal = decisions and g.get("remove_capital", 0.0) > 0
    for p in names:
        _link_pipes(m, m.period[p], datas[p], minimum, removal)
    kept = [e for e in data.edges if design.edges[e]["existing"] and (minimum > 0 or removal)]
    m.existing_used = pyo.Constraint(  # an existing pipe no period uses is removed (as cascade.economics counts it)
        kept, rule=lambda m, i, j: m.pipe_built[i, j] <= sum(
            m.period[p].pipe_used[i, j] for p in names if (i, j) in m.period[p].pipe_used)
    )
    if decisions:
        _add_classes(m, data, datas)
    m.new_pipes = pyo.Expression(expr=new_pipe_count(m, data))
    if decisions:
        add_pipe_limits(m, data)
    _add_regenerators(m, data, datas, priced=objective == "cost" or "cost" in (g.get("limits") or {}))

    total_hours = sum(m.hours.values())
    m.freshwater = pyo.Expression(expr=sum(m.hours[p] * m.period[p].freshwater for p in names) / total_hours)
    fixed = sum(design.nodes[r]["cost_fixed"] * m.regen_installed[r] for r in m.regen_installed)
    pipes = pipe_expr(m, data, annual=True) if has_pipe_costs(design) else 0
    m.cost = pyo.Expression(expr=sum(m.hours[p] * m.period[p].operating for p in names) + fixed + pipes)
    add_design_limits(m, data, conservative=True)
    m.goal = pyo.Objective(expr=getattr(m, objective), sense=pyo.minimize)
    return m


def _add_operation(b: pyo.Block, data: ModelData) -> None:
    """One period's flows, balances, quality limits and regeneration-reuse rule."""
    b.flow = pyo.Var(data.edges, domain=pyo.NonNegativeReals, bounds=lambda b, i, j: (0, data.arc_bound[i, j]))
    add_balances(b, data)
    add_regeneration_reuse(b, data)
    add_quality(b, data)
    b.freshwater = pyo.Expression(expr=freshwater_expr(b, data))
    b.operating = pyo.Expression(expr=operating_expr(b, data))


def _link_pipes(m: pyo.ConcreteModel, b: pyo.Block, data: ModelData, minimum: float, removal: bool) -> None:
    """Pipe capacity on the design's ``y``; the in-use binaries ``v`` of the period where a pipe may stand idle
    (every pipe with a minimum flow; existing pipes whose removal costs money)."""
    g = data.graph
    idle = [e for e in data.edges if minimum > 0 or (removal and g.edges[e]["existing"])]
    b.pipe_used = pyo.Var(idle, domain=pyo.Binary)
    b.pipe_capacity = pyo.Constraint(
        data.edges, rule=lambda b, i, j: b.flow[i, j] <= data.arc_bound[i, j] * (
            b.pipe_used[i, j] if (i, j) in b.pipe_used else m.pipe_built[i, j])
    )
    b.pipe_min_flow = pyo.Constraint(
        idle, rule=lambda b, i, j: b.flow[i, j] >= (pipe_minimum(g, i, j) if minimum > 0 else REQUIRED_FLOW)
        * b.pipe_used[i, j]
    )
    b.pipe_used_built = pyo.Constraint(idle, rule=lambda b, i, j: b.pipe_used[i, j] <= m.pipe_built[i, j])
    required = [e for e in data.edges if g.edges[e]["required"]]
    b.required_flow = pyo.Constraint(
        required, rule=lambda b, i, j: b.flow[i, j] >= max(pipe_minimum(g, i, j) if minimum > 0 else 0, REQUIRED_FLOW)
    )


def _add_classes(m: pyo.ConcreteModel, data: ModelData, datas: Mapping[str, ModelData]) -> None:
    """Flow classes of new pipes, chosen once (``x``) and respected in every period."""
    g = data.graph
    if g.graph.get("pipe_classes", 1) <= 1:
        return
    new = new_pipes(data)
    options = {e: g.edges[e]["pipe_options"] for e in new}
    m.pipe_class = pyo.Var([(i, j, k) for i, j in new for k in range(len(options[i, j]))], domain=pyo.Binary)
    m.pipe_one_class = pyo.Constraint(
        new, rule=lambda m, i, j: sum(m.pipe_class[i, j, k] for k in range(len(options[i, j]))) == m.pipe_built[i, j]
    )
    for p, pd in datas.items():
        b = m.period[p]
        b.pipe_class_capacity = pyo.Constraint(
            [e for e in new if e in pd.arc_bound],
            rule=lambda b, i, j, pd=pd: b.flow[i, j] <= sum(
                min(limit, pd.arc_bound[i, j]) * m.pipe_class[i, j, k] for k, (limit, _) in enumerate(options[i, j])
            ),
        )


def _add_regenerators(m: pyo.ConcreteModel, data: ModelData, datas: Mapping[str, ModelData], priced: bool) -> None:
    """``z_r`` for regenerators with a fixed cost or a minimum flow; per-period use ``w`` with a minimum flow."""
    g = data.graph
    decided = installable(data)
    m.regen_installed = pyo.Var(decided, domain=pyo.Binary)
    for p, pd in datas.items():
        b = m.period[p]
        minimum = [r for r in decided if pd.graph.nodes[r].get("min_flow", 0.0) > 0]
        b.regen_used = pyo.Var(minimum, domain=pyo.Binary)
        b.regen_used_installed = pyo.Constraint(minimum, rule=lambda b, r: b.regen_used[r] <= m.regen_installed[r])
        switch = {r: (b.regen_used[r] if r in minimum else m.regen_installed[r]) for r in decided}
        b.regen_capacity = pyo.Constraint(
            [r for r in decided if pd.in_edges[r]],
            rule=lambda b, r, pd=pd, switch=switch: inflow(b, pd, r) <= pd.throughput_bound[r] * switch[r],
        )
        b.regen_min_flow = pyo.Constraint(
            minimum, rule=lambda b, r, pd=pd: inflow(b, pd, r) >= pd.graph.nodes[r]["min_flow"] * b.regen_used[r]
        )
    if not priced:  # installation only matters for its cost, or where a minimum flow applies
        for r in decided:
            if not g.nodes[r].get("min_flow", 0.0) > 0:
                m.regen_installed[r].fix(1)


__all__ = ["build_period_model", "check_periods_supported", "design_data"]
