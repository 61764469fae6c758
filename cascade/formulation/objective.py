"""Objectives: fresh water (t/h) or total annual cost (money/yr).

.. math::

    \\text{freshwater} = \\sum_{w} \\sum_{out(w)} f

    \\text{cost} = H \\Big( \\sum_w p_w \\sum_{out(w)} f + \\sum_d p_d \\sum_{in(d)} f
                 + \\sum_r c_r \\sum_{in(r)} f \\Big)
                 + \\sum_r (K_r z_r + \\text{capital}_r) + \\text{pipe cost}

with ``H`` the hours per year, ``p`` prices per t, ``c_r`` a regenerator's cost per t treated,
``K_r`` its annual fixed cost, ``capital_r`` its annualised capital cost
(:mod:`cascade.formulation.costs`), ``z_r`` its installation binary and ``P`` the annual cost of a new
pipe. Existing pipes are free to keep. The pipe cost (new pipes by flow class and length, removals)
is :func:`cascade.formulation.piping.pipe_expr`.
"""

from __future__ import annotations

import pyomo.environ as pyo

from .balances import inflow, outflow
from .data import ModelData
from .piping import has_pipe_costs, pipe_expr


def freshwater_expr(m: pyo.ConcreteModel, data: ModelData):
    """Total intake of all supplies (t/h)."""
    return sum(outflow(m, data, w) for w in data.nodes("supply"))


def operating_expr(m: pyo.ConcreteModel, data: ModelData):
    """Cost of running the network for one hour (money/h): water bought, discharged and treated."""
    g = data.graph
    return (
        sum(g.nodes[w]["price"] * outflow(m, data, w) for w in data.nodes("supply"))
        + sum(g.nodes[d]["price"] * inflow(m, data, d) for d in data.nodes("discharge"))
        + sum(g.nodes[r]["cost_per_t"] * inflow(m, data, r) for r in data.nodes("regenerator"))
    )


def cost_expr(m: pyo.ConcreteModel, data: ModelData):
    """Total annual cost (money/yr), as in the module equations."""
    g = data.graph
    fixed = sum(g.nodes[r]["cost_fixed"] * m.regen_installed[r] for r in m.regen_installed)
    fixed += sum(m.capital[r] for r in m.capital)
    pipes = pipe_expr(m, data, annual=True) if has_pipe_costs(g) else 0
    return g.graph["hours_per_year"] * operating_expr(m, data) + fixed + pipes
