r"""Concave capital cost of regenerators, piecewise-linearised with binaries.

A regenerator ``r`` with ``cost.capital: {a, b}`` costs ``A a Q_r^b`` a year when installed, with
``Q_r`` its flow (t/h), ``0 < b <= 1`` and ``A`` the plant's annualisation factor (capital recovery
factor of ``finance``). Over breakpoints ``0 = q_0 < q_1 < ... < q_K = U_r`` (``U_r`` its capacity)
the cost is interpolated with weights ``lambda_{rk} >= 0`` and one active segment
``sigma_{rk}`` (binary), both switched on by the installation binary ``z_r``:

.. math::

    \sum_k \lambda_{rk} = z_r, \qquad \sum_{k \ge 1} \sigma_{rk} = z_r, \qquad
    \lambda_{r0} \le \sigma_{r1}, \quad \lambda_{rk} \le \sigma_{rk} + \sigma_{r,k+1}, \quad
    \lambda_{rK} \le \sigma_{rK}

    \sum_{in(r)} f = \sum_k \lambda_{rk} q_k, \qquad
    \text{capital}_r = A \sum_k \lambda_{rk}\, a\, q_k^b

For a budget or a cost limit the restriction (a plan to keep) counts each installed
regenerator at the top of its active segment, ``capital^{up}_r = sum_{k >= 1} a q_k^b sigma_{rk}``,
which the concave, increasing curve never exceeds on that segment; the relaxation counts the
interpolation, which never exceeds the curve. So plans kept respect the true budget and the bound
stays a bound.

The interpolation is exact at the breakpoints and, the curve being concave, below it in between:
so the model's optimum is a lower bound on the true cost, and :mod:`cascade.bilinear` adds the
flows it finds as breakpoints until the plan's true cost (:func:`cascade.kpi.annual_costs`) is
within the tolerance of that bound.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pyomo.environ as pyo

from .balances import inflow
from .data import ModelData

CapitalBreakpoints = Mapping[str, Sequence[float]]


def capitalised(data: ModelData) -> list[str]:
    """Regenerators with a capital cost."""
    return [r for r in data.nodes("regenerator") if data.graph.nodes[r].get("capital_a", 0.0) > 0]


def initial_capital_breakpoints(data: ModelData) -> dict[str, list[float]]:
    """``0``, the regenerator's ``min_flow``, and its capacity halved four times, up to the capacity."""
    out = {}
    for r in capitalised(data):
        cap = data.throughput_bound[r]
        points = {0.0, cap, min(data.graph.nodes[r].get("min_flow", 0.0), cap)}
        points |= {cap / 2**k for k in range(1, 5)}
        out[r] = sorted(points)
    return out


def add_capital_costs(m: pyo.ConcreteModel, data: ModelData, breakpoints: CapitalBreakpoints | None) -> None:
    """Add ``capital_weight``, ``capital_segment`` and the expression ``capital[r]`` (money/yr)."""
    regs = capitalised(data)
    if not regs:
        m.capital = pyo.Expression(regs)
        m.capital_money = pyo.Expression(regs)
        m.capital_upper = pyo.Expression(regs)
        return
    g = data.graph
    factor = g.graph["annualisation"]
    points = {r: list((breakpoints or {}).get(r) or initial_capital_breakpoints(data)[r]) for r in regs}
    weights = [(r, k) for r in regs for k in range(len(points[r]))]
    segments = [(r, k) for r in regs for k in range(1, len(points[r]))]
    m.capital_weight = pyo.Var(weights, bounds=(0.0, 1.0))
    m.capital_segment = pyo.Var(segments, domain=pyo.Binary)
    z = m.regen_installed
    m.capital_weights_sum = pyo.Constraint(
        regs, rule=lambda m, r: sum(m.capital_weight[r, k] for k in range(len(points[r]))) == z[r]
    )
    m.capital_one_segment = pyo.Constraint(
        regs, rule=lambda m, r: sum(m.capital_segment[r, k] for k in range(1, len(points[r]))) == z[r]
    )

    def adjacent(m, r, k):
        last = len(points[r]) - 1
        near = [m.capital_segment[r, s] for s in (k, k + 1) if 1 <= s <= last]
        return m.capital_weight[r, k] <= sum(near)

    m.capital_adjacent = pyo.Constraint(weights, rule=adjacent)
    m.capital_flow = pyo.Constraint(
        regs,
        rule=lambda m, r: inflow(m, data, r) == sum(q * m.capital_weight[r, k] for k, q in enumerate(points[r])),
    )

    def money(m, r):
        a, b = g.nodes[r]["capital_a"], g.nodes[r]["capital_b"]
        return sum(a * q**b * m.capital_weight[r, k] for k, q in enumerate(points[r]))

    def upper(m, r):
        a, b = g.nodes[r]["capital_a"], g.nodes[r]["capital_b"]
        return sum(a * points[r][k] ** b * m.capital_segment[r, k] for k in range(1, len(points[r])))

    m.capital_money = pyo.Expression(regs, rule=money)
    m.capital_upper = pyo.Expression(regs, rule=upper)
    m.capital = pyo.Expression(regs, rule=lambda m, r: (factor or 0.0) * m.capital_money[r])


__all__ = ["add_capital_costs", "capitalised", "initial_capital_breakpoints", "CapitalBreakpoints"]
