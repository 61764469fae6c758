"""Water balances: fixed flows, conservation through units, capacities.

With ``f[i, j]`` the flow on pipe ``(i, j)`` (t/h), ``in(n)`` and ``out(n)`` the pipes into and
out of node ``n``:

.. math::

    \\sum_{(i,k) \\in in(k)} f_{ik} = F_k                  \\quad \\text{sink demand, every sink } k

    \\sum_{(s,j) \\in out(s)} f_{sj} = F_s                 \\quad \\text{source supply, every source } s

    \\sum_{in(u)} f - \\sum_{out(u)} f = F^{loss}_u        \\quad \\text{unit balance, operations and regenerators } u

    \\sum_{out(w)} f \\le F^{max}_w                        \\quad \\text{supply cap, supplies with a cap}

    \\sum_{in(u)} f \\le F^{max}_u                         \\quad \\text{throughput cap, operations and regenerators}

``F^{loss}`` is an operation's ``water_loss`` (negative: water gained), 0 for a regenerator.
Throughput caps use the derived bounds of :mod:`cascade.formulation.data` where the plant gives
none (an operation's load-derived bound, a regenerator's process-water bound).
"""

from __future__ import annotations

import math

import pyomo.environ as pyo

from .data import ModelData


def inflow(m: pyo.ConcreteModel, data: ModelData, node: str):
    """The expression sum of flows into ``node``."""
    return sum(m.flow[e] for e in data.in_edges[node])


def outflow(m: pyo.ConcreteModel, data: ModelData, node: str):
    """The expression sum of flows out of ``node``."""
    return sum(m.flow[e] for e in data.out_edges[node])


def relation(lhs, sense: str, rhs: float):
    """``lhs <= rhs`` or ``lhs == rhs`` as a Pyomo relation; Skip when ``lhs`` is an empty sum.

    Empty sums only arise where the superstructure leaves a node no pipe; :func:`build_data`
    has already refused the cases where that makes the plant infeasible.
    """
    if isinstance(lhs, int | float):
        return pyo.Constraint.Skip
    return lhs <= rhs if sense == "<=" else lhs == rhs


def add_balances(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Add ``sink_demand``, ``source_supply``, ``unit_balance``, ``supply_cap`` and ``throughput_cap``."""
    g = data.graph
    sinks, sources = data.nodes("sink"), data.nodes("source")
    units = data.nodes("operation") + data.nodes("regenerator")
    capped_supplies = [w for w in data.nodes("supply") if "max_flow" in g.nodes[w]]
    m.sink_demand = pyo.Constraint(sinks, rule=lambda m, k: relation(inflow(m, data, k), "==", g.nodes[k]["flow"]))
    m.source_supply = pyo.Constraint(sources, rule=lambda m, s: relation(outflow(m, data, s), "==", g.nodes[s]["flow"]))
    m.unit_balance = pyo.Constraint(
        units,
        rule=lambda m, u: relation(inflow(m, data, u) - outflow(m, data, u), "==", g.nodes[u].get("water_loss", 0.0)),
    )
    m.supply_cap = pyo.Constraint(
        capped_supplies, rule=lambda m, w: relation(outflow(m, data, w), "<=", g.nodes[w]["max_flow"])
    )
    capped_units = [u for u in units if math.isfinite(data.throughput_bound[u])]
    m.throughput_cap = pyo.Constraint(
        capped_units, rule=lambda m, u: relation(inflow(m, data, u), "<=", data.throughput_bound[u])
    )
