"""Pipe decisions: which pipes are built, minimum flows, required pipes, regenerator installation.

With ``y[i, j]`` binary (pipe built) on the pipes that need a decision and ``U[i, j]`` the arc
bound of :mod:`cascade.formulation.data` (the big-M, never a magic number):

.. math::

    f_{ij} \\le U_{ij}\\, y_{ij}                      \\quad \\text{pipe capacity}

    f_{ij} \\ge F^{min}_{ij}\\, y_{ij}                \\quad \\text{pipe minimum flow, when } F^{min} > 0

    y_{ij} = 1,\\ f_{ij} \\ge \\max(F^{min}, F^{req})   \\quad \\text{required pipes}

    \\sum_{in(r)} f \\le U_r\\, z_r                    \\quad \\text{regenerator installed}

    \\sum_{in(r)} f \\ge F^{min}_r\\, z_r                \\quad \\text{minimum flow of an installed regenerator}

A regenerator gets ``z_r`` when it has a fixed or capital cost or a minimum flow.
``F^{min}_{ij}`` is the plant's ``min_flow`` capped by a fixed stream at either end
(:func:`cascade.superstructure.pipe_minimum`). ``F^{req}`` (:data:`REQUIRED_FLOW`, t/h) is the
smallest flow a required pipe must carry when the plant sets no ``min_flow``. Pipes get a binary
when the plant has a minimum flow, when new pipes cost money, or for the tie-break stage that
minimises the number of new pipes (:func:`new_pipe_count`).

**Piping economics** (:mod:`cascade.economics`). A new pipe ``e`` in flow class ``k`` costs
``K_{ek}`` (capital) and ``P`` a year; with more than one class, binaries ``x_{ek}`` choose it:

.. math::

    \\sum_k x_{ek} = y_e, \\qquad f_e \\le \\sum_k \\min(F^{max}_k, U_e)\\, x_{ek}

With ``R`` the capital to remove an existing pipe, ``A`` the annualisation factor and ``K^0``
the removal of existing pipes the superstructure no longer allows:

.. math::

    \\text{pipe capital} = \\sum_{e\\,new} \\sum_k K_{ek} x_{ek} + R \\sum_{e\\,existing} (1 - y_e) + K^0

    \\text{pipe cost} = \\sum_{e\\,new} \\sum_k (P + A K_{ek}) x_{ek} + A R \\sum_{e\\,existing} (1 - y_e) + A K^0

(one class: ``x_e = y_e``). Design limits:

.. math::

    \\sum_{e\\,new} y_e \\le N^{max}  \\quad \\text{max\\_new\\_pipes}, \\qquad
    \\sum_{in(j)} y \\le M^{max}  \\quad \\text{max\\_inlets, every sink, operation, regenerator}

    \\text{pipe capital} + \\sum_r \\text{capital}^{money}_r \\le B  \\quad \\text{budget}

with the regenerators' capital ``a Q^b`` of :mod:`cascade.formulation.costs`.

**LP relaxation, projected** (``relaxed=True`` in :func:`cascade.formulation.build_model`). With
``y`` continuous in [0, 1], the cheapest ``y`` for given flows is ``y_ij = f_ij / U_ij`` (the pipe
capacity row binds; the minimum-flow row ``f >= F^min y`` then holds because ``F^min <= U``), so
the LP relaxation of the MILP equals, with no ``y`` columns and no per-pipe rows,

.. math::

    \\text{new pipes} = \\sum_{(i,j)\\,new,\\ not\\ required} \\frac{f_{ij}}{U_{ij}}
                      + \\#\\{(i,j)\\ new\\ and\\ required\\}

and ``z_r`` continuous in [0, 1]. Pipe costs and capital become ``min_k c_{ek} / \\min(F^{max}_k,
U_e)`` per t/h on a new pipe (the cheapest capacity per unit of cost that the relaxed classes
offer), removals cost nothing (``y_e = 1`` is allowed), and the limits become
``sum f / U <= N^{max}``, ``sum_{in(j)} f / U <= M^{max}``: each a relaxation, so the optimum
stays a lower bound. Where every arc's bound is at least its minimum flow (which the
tightened data ensure: :mod:`cascade.formulation.data` leaves the others out) its optimum is the
MILP's LP bound, from a model with about half the columns and a few hundred rows where the MILP
has one row per pipe; otherwise it is a relaxation of that LP, so still a lower bound.
"""

from __future__ import annotations

import pyomo.environ as pyo

from ..superstructure import pipe_minimum
from .balances import inflow, relation
from .data import ModelData

#: Smallest flow (t/h) on a required pipe when the plant sets no minimum pipe flow.
REQUIRED_FLOW = 1e-3


def add_piping(m: pyo.ConcreteModel, data: ModelData, min_flow: float) -> None:
    """Add ``pipe_built`` binaries on every pipe with ``pipe_capacity``/``pipe_min_flow``, and required pipes."""
    g = data.graph
    m.pipe_built = pyo.Var(data.edges, domain=pyo.Binary)
    m.pipe_capacity = pyo.Constraint(
        data.edges, rule=lambda m, i, j: m.flow[i, j] <= data.arc_bound[i, j] * m.pipe_built[i, j]
    )
    if min_flow > 0:
        m.pipe_min_flow = pyo.Constraint(
            data.edges, rule=lambda m, i, j: m.flow[i, j] >= pipe_minimum(g, i, j) * m.pipe_built[i, j]
        )
    required = [e for e in data.edges if g.edges[e]["required"]]
    m.required_flow = pyo.Constraint(
        required, rule=lambda m, i, j: m.flow[i, j] >= max(pipe_minimum(g, i, j) if min_flow > 0 else 0, REQUIRED_FLOW)
    )
    for e in required:
        m.pipe_built[e].fix(1)


def add_pipe_classes(m: pyo.ConcreteModel, data: ModelData) -> None:
    """With several flow classes: ``pipe_class[i, j, k]`` binaries on new pipes and their capacity rows."""
    g = data.graph
    if g.graph.get("pipe_classes", 1) <= 1:
        return
    index = [(i, j, k) for i, j in new_pipes(data) for k in range(len(g.edges[i, j]["pipe_options"]))]
    m.pipe_class = pyo.Var(index, domain=pyo.Binary)
    new = new_pipes(data)

    def capacity(i, j, k):
        return min(g.edges[i, j]["pipe_options"][k][0], data.arc_bound[i, j])

    m.pipe_one_class = pyo.Constraint(
        new, rule=lambda m, i, j: sum(m.pipe_class[i, j, k] for k in range(len(g.edges[i, j]["pipe_options"])))
        == m.pipe_built[i, j]
    )
    m.pipe_class_capacity = pyo.Constraint(
        new, rule=lambda m, i, j: m.flow[i, j]
        <= sum(capacity(i, j, k) * m.pipe_class[i, j, k] for k in range(len(g.edges[i, j]["pipe_options"])))
    )


def _per_new_pipe(data: ModelData, e: tuple[str, str], annual: bool) -> list[tuple[float, float]]:
    """``(capacity, cost)`` of each class of new pipe ``e``: capital, or annual ``P + A K``."""
    g = data.graph
    factor = g.graph.get("annualisation") or 0.0
    fixed = g.graph.get("pipe_cost_fixed", 0.0)
    return [
        (min(limit, data.arc_bound[e]), fixed + factor * capital if annual else capital)
        for limit, capital in g.edges[e].get("pipe_options") or [(float("inf"), 0.0)]
    ]


def pipe_expr(m: pyo.ConcreteModel, data: ModelData, annual: bool):
    """Pipe capital (money), or the annual pipe cost (money/yr), of the module equations."""
    g = data.graph
    factor = (g.graph.get("annualisation") or 0.0) if annual else 1.0
    remove = g.graph.get("remove_capital", 0.0)
    total = factor * g.graph.get("removed_capital", 0.0)
    relaxed = getattr(m, "pipes_relaxed", False)
    for e in new_pipes(data):
        options = _per_new_pipe(data, e, annual)
        if relaxed:
            if data.arc_bound[e] > 0:
                total += min(cost / cap for cap, cost in options if cap > 0) * m.flow[e]
        elif hasattr(m, "pipe_class"):
            total += sum(cost * m.pipe_class[e[0], e[1], k] for k, (_, cost) in enumerate(options))
        else:
            total += options[0][1] * m.pipe_built[e]
    if remove and not relaxed:
        total += factor * remove * sum(1 - m.pipe_built[e] for e in data.edges if g.edges[e]["existing"])
    return total


def has_pipe_costs(graph) -> bool:
    """Whether new or removed pipes cost anything."""
    if graph.graph.get("pipe_cost_fixed", 0.0) > 0 or graph.graph.get("remove_capital", 0.0) > 0:
        return True
    return any(capital > 0 for _, _, d in graph.edges(data=True) for _, capital in d.get("pipe_options") or ())


def add_pipe_limits(m: pyo.ConcreteModel, data: ModelData) -> None:
    """``max_new_pipes`` and ``max_inlets`` rows (on ``y``, or on ``f / U`` in the relaxation)."""
    g = data.graph
    relaxed = getattr(m, "pipes_relaxed", False)

    def used(e):
        if not relaxed:
            return m.pipe_built[e]
        return m.flow[e] / data.arc_bound[e] if data.arc_bound[e] > 0 else 0

    most = g.graph.get("max_new_pipes")
    if most is not None:
        m.max_new_pipes = pyo.Constraint(expr=m.new_pipes <= most)
    inlets = g.graph.get("max_inlets")
    if inlets is not None:
        users = [j for kind in ("sink", "operation", "regenerator") for j in data.nodes(kind)
                 if len(data.in_edges[j]) > inlets]
        m.max_inlets = pyo.Constraint(
            users, rule=lambda m, j: sum(used(e) for e in data.in_edges[j]) <= inlets
        )


def add_relaxed_piping(m: pyo.ConcreteModel, data: ModelData, min_flow: float) -> None:
    """The projected LP relaxation of :func:`add_piping`: required flows only, and ``m.new_pipes`` fractional."""
    g = data.graph
    required = [e for e in data.edges if g.edges[e]["required"]]
    m.required_flow = pyo.Constraint(
        required, rule=lambda m, i, j: m.flow[i, j] >= max(pipe_minimum(g, i, j) if min_flow > 0 else 0, REQUIRED_FLOW)
    )
    fractional = [e for e in new_pipes(data) if not g.edges[e]["required"] and data.arc_bound[e] > 0]
    m.new_pipes = pyo.Expression(
        expr=sum(m.flow[e] / data.arc_bound[e] for e in fractional)
        + sum(1 for e in new_pipes(data) if g.edges[e]["required"])
    )


def installable(data: ModelData) -> list[str]:
    """Regenerators whose installation is a decision: a fixed or capital cost, or a minimum flow."""
    g = data.graph
    return [
        r for r in data.nodes("regenerator")
        if g.nodes[r]["cost_fixed"] > 0 or g.nodes[r].get("capital_a", 0.0) > 0 or g.nodes[r].get("min_flow", 0.0) > 0
    ]


def add_regenerator_installation(m: pyo.ConcreteModel, data: ModelData, relaxed: bool = False) -> None:
    """Add ``regen_installed[r]`` (continuous in [0, 1] when ``relaxed``), its capacity link and the
    minimum flow of an installed regenerator."""
    g = data.graph
    costly = installable(data)
    m.regen_installed = pyo.Var(costly, domain=pyo.UnitInterval if relaxed else pyo.Binary)
    m.regen_capacity = pyo.Constraint(
        costly,
        rule=lambda m, r: relation(inflow(m, data, r) - data.throughput_bound[r] * m.regen_installed[r], "<=", 0),
    )
    minimum = [r for r in costly if g.nodes[r].get("min_flow", 0.0) > 0]
    m.regen_min_flow = pyo.Constraint(
        minimum, rule=lambda m, r: inflow(m, data, r) >= g.nodes[r]["min_flow"] * m.regen_installed[r]
    )


def new_pipes(data: ModelData) -> list[tuple[str, str]]:
    """Pipes of the superstructure that are not in today's plant."""
    return [e for e in data.edges if not data.graph.edges[e]["existing"]]


def new_pipe_count(m: pyo.ConcreteModel, data: ModelData):
    """The expression sum of ``pipe_built`` over new pipes (the tie-break objective)."""
    return sum(m.pipe_built[e] for e in new_pipes(data))
