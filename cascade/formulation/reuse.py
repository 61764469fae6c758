r"""Regeneration reuse (``recycle: false``): a regenerator never returns water to a unit that feeds it.

Water can only come back to where it came from through operations and regenerators (sinks have
no outlet, supplies and sources no inlet), so a regenerator ``r`` with ``recycle: false`` must not
lie on a cycle of used pipes among those units. With ``u[i, j]`` binary on every pipe between two
such units (``m.unit_pipe``; the pipe carries water only if ``u = 1``) and ``d[r, n]`` in
``[0, 1]`` marking the units downstream of ``r`` (``m.downstream``):

.. math::

    f_{ij} \le U_{ij}\, u_{ij}  \quad \text{unit pipe used}

    d_{rj} \ge u_{rj}  \quad \text{fed by } r

    d_{rj} \ge d_{ri} + u_{ij} - 1  \quad \text{fed by a unit downstream of } r,\ i \ne r

    u_{ir} + d_{ri} \le 1  \quad \text{no water back to } r \text{ from downstream}

The rules force ``d = 1`` on every unit reachable from ``r`` by used pipes, and the last one then
forbids a used pipe from any of them into ``r``; conversely, without such a cycle, ``d`` set to
the reachability indicator satisfies them all. So the constraints hold exactly when ``r`` is on no
cycle: the model is exact, with binaries only on pipes between units.
"""

from __future__ import annotations

import pyomo.environ as pyo

from .data import ModelData

_UNITS = ("operation", "regenerator")


def reuse_only(data: ModelData) -> list[str]:
    """Regenerators with ``recycle: false``."""
    return [r for r in data.nodes("regenerator") if not data.graph.nodes[r]["recycle"]]


def add_regeneration_reuse(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Add ``unit_pipe``, ``downstream`` and the cycle-breaking rules for ``recycle: false`` regenerators."""
    regenerators = reuse_only(data)
    if not regenerators:
        return
    g = data.graph
    units = [n for n in g if g.nodes[n]["kind"] in _UNITS]
    unit_edges = [(i, j) for i, j in data.edges if g.nodes[i]["kind"] in _UNITS and g.nodes[j]["kind"] in _UNITS]
    m.unit_pipe = pyo.Var(unit_edges, domain=pyo.Binary)
    m.unit_pipe_used = pyo.Constraint(
        unit_edges, rule=lambda m, i, j: m.flow[i, j] <= data.arc_bound[i, j] * m.unit_pipe[i, j]
    )
    m.downstream = pyo.Var(regenerators, units, bounds=(0.0, 1.0))
    m.fed_by_regenerator = pyo.Constraint(
        [(r, j) for r in regenerators for i, j in unit_edges if i == r],
        rule=lambda m, r, j: m.downstream[r, j] >= m.unit_pipe[r, j],
    )
    m.fed_downstream = pyo.Constraint(
        [(r, i, j) for r in regenerators for i, j in unit_edges if i != r],
        rule=lambda m, r, i, j: m.downstream[r, j] >= m.downstream[r, i] + m.unit_pipe[i, j] - 1,
    )
    m.no_regeneration_recycle = pyo.Constraint(
        [(r, i) for r in regenerators for i, j in unit_edges if j == r],
        rule=lambda m, r, i: m.unit_pipe[i, r] + m.downstream[r, i] <= 1,
    )


__all__ = ["add_regeneration_reuse", "reuse_only"]
