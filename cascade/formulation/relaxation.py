r"""The MILP relaxation of the bilinear water network: piecewise McCormick on outlet concentrations.

Where an outlet concentration depends on the flows (every operation outlet, and a regenerator's
for each contaminant it removes by a ratio or passes through;
:func:`~cascade.formulation.data.variable_outlets`), the exact model has a variable ``x[n, c]``
(``m.conc``) and, on each pipe out of ``n``, the contaminant flow ``w[n, j, c] = f[n, j] x[n, c]``
(``m.mass``, g/h per t/h, i.e. t/h x ppm). With ``M[j, c]`` the contaminant entering ``j``,
``sum_{in(j)} f_{ij} C_{ic}`` for fixed outlets plus ``sum w_{ijc}`` for variable ones:

.. math::

    M_{kc} \le C^{max}_{kc} F_k  \quad \text{sink quality}

    M_{oc} \le C^{in,max}_{oc} \sum_{in(o)} f  \quad \text{operation inlet quality}

    M_{oc} + 1000\,L_{oc} = \sum_{out(o)} w_{ojc}  \quad \text{operation mass balance}

    (1 - r_c)\, M_{rc} = \sum_{out(r)} w_{rjc}  \quad \text{regenerator outlet (removal or pass-through)}

    M_{dc} \le C^{max}_{dc} \sum_{in(d)} f  \quad \text{discharge quality}

    0 \le x_{nc} \le \bar C_{nc}  \quad \text{outlet bounds (} \bar C \text{: max outlet or the bound of
    } :func:`~cascade.formulation.data.outlet_upper_bounds` \text{)}

Everything but ``w = f x`` is linear. That product is relaxed over a partition of
``[0, \bar C_{nc}]`` into segments ``[a_s, a_{s+1}]`` with binaries ``y[n, c, s]`` (one segment
chosen), the concentration and every outgoing flow disaggregated by segment
(``x = sum_s xh_s``, ``f_e = sum_s fh_{e,s}``; Karuppiah & Grossmann 2006), and the McCormick
envelope written per segment, with ``U_e`` the arc bound:

.. math::

    \sum_s y_s = 1, \qquad a_s y_s \le xh_s \le a_{s+1} y_s, \qquad 0 \le fh_{e,s} \le U_e y_s

    w_e \ge \sum_s a_s fh_{e,s}, \qquad
    w_e \ge \sum_s \big(a_{s+1} fh_{e,s} + U_e xh_s - U_e a_{s+1} y_s\big)

    w_e \le \sum_s a_{s+1} fh_{e,s}, \qquad
    w_e \le \sum_s \big(a_s fh_{e,s} + U_e xh_s - U_e a_s y_s\big)

With one segment the binaries and the disaggregation are left out (plain McCormick). Every
feasible network satisfies these constraints, so the relaxation's optimum (or HiGHS's proven
bound on it) is a lower bound on the best plan; refining the partitions tightens it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import networkx as nx
import pyomo.environ as pyo

from ..units import LOAD_TO_PPM
from .balances import relation
from .data import ModelData, build_data, check_supported, outlet_upper_bounds, variable_outlets

Breakpoints = Mapping[tuple[str, str], Sequence[float]]


def initial_breakpoints(graph: nx.DiGraph) -> dict[tuple[str, str], list[float]]:
    """One segment ``[0, upper bound]`` per variable outlet (plain McCormick)."""
    high = outlet_upper_bounds(graph)
    return {v: sorted({0.0, high[v]}) for v in variable_outlets(graph)}


def build_relaxation(
    graph: nx.DiGraph, objective: str, breakpoints: Breakpoints, *, pipes: bool = False,
    circulation_scale: float = 1.0,
    capital_breakpoints: Mapping[str, Sequence[float]] | None = None,
    capacity: Mapping[str, float] | None = None,
) -> pyo.ConcreteModel:
    """Build the MILP relaxation of the exact (bilinear) model over the given partitions.

    Parameters
    ----------
    graph : networkx.DiGraph
        The superstructure.
    objective : {'freshwater', 'cost'}
    breakpoints : mapping of (node, contaminant) -> sorted list of ppm
        Partition of each variable outlet's range, first point 0 and last its upper bound (see
        :func:`initial_breakpoints`).
    pipes : bool, default False
        Pipe binaries on every pipe even when the objective does not need them.
    circulation_scale : float, default 1
        Capacity of regenerators without ``max_flow``, in multiples of the process water.
    capital_breakpoints : mapping of regenerator -> list of t/h, optional
        Breakpoints of the piecewise capital costs (:mod:`cascade.formulation.costs`).
    capacity : mapping of regenerator -> t/h, optional
        Proven capacities of regenerators without ``max_flow`` (:func:`~cascade.formulation.data.build_data`).

    Returns
    -------
    pyomo.environ.ConcreteModel
        With ``m.flow``, ``m.conc``, ``m.mass`` and the shared components of
        :func:`~cascade.formulation.network_model`.
    """
    from . import network_model

    check_supported(graph, guessed=True)
    high = outlet_upper_bounds(graph)
    variable = variable_outlets(graph)
    data = build_data(graph, {v: high[v] for v in variable}, circulation_scale=circulation_scale, capacity=capacity)
    m = network_model(
        graph, data, objective, pipes=pipes, capital_breakpoints=capital_breakpoints, relaxed_quality=True
    )
    _add_relaxed_quality(m, data, variable, high)
    _add_piecewise_mccormick(m, data, breakpoints)
    return m


def _add_relaxed_quality(m: pyo.ConcreteModel, data: ModelData, variable: list, high: dict) -> None:
    g = data.graph
    var = set(variable)
    mass_index = [(i, j, c) for (i, c) in variable for _, j in data.out_edges[i]]
    m.conc = pyo.Var(variable, bounds=lambda m, n, c: (0.0, high[n, c]))
    m.mass = pyo.Var(mass_index, bounds=lambda m, i, j, c: (0.0, data.arc_bound[i, j] * high[i, c]))

    def excess(node: str, c: str, limit: float, kept: float = 1.0):
        """kept * M[node, c] - limit * inflow: <= 0 when the mixed inlet (times kept) is within limit."""
        terms = []
        for i, j in data.in_edges[node]:
            if (i, c) in var:
                terms.append(kept * m.mass[i, j, c] - limit * m.flow[i, j])
            elif kept * data.out_conc[i, c] != limit:
                terms.append((kept * data.out_conc[i, c] - limit) * m.flow[i, j])
        return sum(terms)

    def outflow_mass(node: str, c: str):
        return sum(m.mass[node, j, c] for _, j in data.out_edges[node])

    def limited(kind: str, key: str) -> list[tuple[str, str]]:
        return [(n, c) for n in data.nodes(kind) for c in g.nodes[n][key]]

    m.sink_quality = pyo.Constraint(
        limited("sink", "max_in"), rule=lambda m, k, c: relation(excess(k, c, g.nodes[k]["max_in"][c]), "<=", 0)
    )
    m.operation_inlet_quality = pyo.Constraint(
        limited("operation", "max_in"),
        rule=lambda m, o, c: relation(excess(o, c, g.nodes[o]["max_in"][c]), "<=", 0),
    )
    m.operation_mass_balance = pyo.Constraint(
        [(o, c) for (o, c) in variable if g.nodes[o]["kind"] == "operation"],
        rule=lambda m, o, c: excess(o, c, 0.0) + LOAD_TO_PPM * g.nodes[o]["load"][c] == outflow_mass(o, c),
    )
    m.regenerator_outlet = pyo.Constraint(
        [(r, c) for (r, c) in variable if g.nodes[r]["kind"] == "regenerator"],
        rule=lambda m, r, c: excess(r, c, 0.0, 1.0 - g.nodes[r]["removal"].get(c, 0.0)) == outflow_mass(r, c),
    )
    m.discharge_quality = pyo.Constraint(
        limited("discharge", "max_in"),
        rule=lambda m, d, c: relation(excess(d, c, g.nodes[d]["max_in"][c]), "<=", 0),
    )


def _add_piecewise_mccormick(m: pyo.ConcreteModel, data: ModelData, breakpoints: Breakpoints) -> None:
    """The envelope of ``w = f x`` per segment (module equations); plain McCormick for one segment."""
    single = [v for v in m.conc if len(breakpoints[v]) <= 2]
    split = [v for v in m.conc if len(breakpoints[v]) > 2]
    segments = [(n, c, s) for (n, c) in split for s in range(len(breakpoints[n, c]) - 1)]

    def point(n: str, c: str, s: int) -> float:
        return breakpoints[n, c][s]

    plain = [(i, j, c) for (i, c) in single for _, j in data.out_edges[i]]
    m.mc_under_low = pyo.Constraint(
        plain, rule=lambda m, i, j, c: m.mass[i, j, c] >= point(i, c, 0) * m.flow[i, j]
    )
    m.mc_under_high = pyo.Constraint(
        plain,
        rule=lambda m, i, j, c: m.mass[i, j, c]
        >= point(i, c, -1) * m.flow[i, j] + data.arc_bound[i, j] * (m.conc[i, c] - point(i, c, -1)),
    )
    m.mc_over_high = pyo.Constraint(
        plain, rule=lambda m, i, j, c: m.mass[i, j, c] <= point(i, c, -1) * m.flow[i, j]
    )
    m.mc_over_low = pyo.Constraint(
        plain,
        rule=lambda m, i, j, c: m.mass[i, j, c]
        <= point(i, c, 0) * m.flow[i, j] + data.arc_bound[i, j] * (m.conc[i, c] - point(i, c, 0)),
    )

    m.segment = pyo.Var(segments, domain=pyo.Binary)
    m.conc_part = pyo.Var(segments, bounds=lambda m, n, c, s: (0.0, point(n, c, s + 1)))
    m.one_segment = pyo.Constraint(
        split, rule=lambda m, n, c: sum(m.segment[n, c, s] for s in range(len(breakpoints[n, c]) - 1)) == 1
    )
    m.conc_split = pyo.Constraint(
        split,
        rule=lambda m, n, c: m.conc[n, c] == sum(m.conc_part[n, c, s] for s in range(len(breakpoints[n, c]) - 1)),
    )
    m.conc_part_low = pyo.Constraint(
        segments, rule=lambda m, n, c, s: m.conc_part[n, c, s] >= point(n, c, s) * m.segment[n, c, s]
    )
    m.conc_part_high = pyo.Constraint(
        segments, rule=lambda m, n, c, s: m.conc_part[n, c, s] <= point(n, c, s + 1) * m.segment[n, c, s]
    )
    edge_segments = [(i, j, c, s) for (i, c, s) in segments for _, j in data.out_edges[i]]
    m.flow_part = pyo.Var(edge_segments, bounds=lambda m, i, j, c, s: (0.0, data.arc_bound[i, j]))
    m.flow_part_on = pyo.Constraint(
        edge_segments,
        rule=lambda m, i, j, c, s: m.flow_part[i, j, c, s] <= data.arc_bound[i, j] * m.segment[i, c, s],
    )
    split_edges = [(i, j, c) for (i, c) in split for _, j in data.out_edges[i]]

    def parts(i: str, c: str) -> range:
        return range(len(breakpoints[i, c]) - 1)

    m.flow_split = pyo.Constraint(
        split_edges, rule=lambda m, i, j, c: m.flow[i, j] == sum(m.flow_part[i, j, c, s] for s in parts(i, c))
    )

    def envelope(i: str, j: str, c: str, low_side: bool, under: bool):
        u = data.arc_bound[i, j]
        total = 0
        for s in parts(i, c):
            a = point(i, c, s if low_side else s + 1)
            total += a * m.flow_part[i, j, c, s]
            if low_side != under:  # the two envelopes that also use the concentration
                total += u * m.conc_part[i, c, s] - u * a * m.segment[i, c, s]
        return m.mass[i, j, c] >= total if under else m.mass[i, j, c] <= total

    _add_node_envelopes(m, data, breakpoints, split, parts, point)
    m.pmc_under_low = pyo.Constraint(split_edges, rule=lambda m, i, j, c: envelope(i, j, c, True, True))
    m.pmc_under_high = pyo.Constraint(split_edges, rule=lambda m, i, j, c: envelope(i, j, c, False, True))
    m.pmc_over_high = pyo.Constraint(split_edges, rule=lambda m, i, j, c: envelope(i, j, c, False, False))
    m.pmc_over_low = pyo.Constraint(split_edges, rule=lambda m, i, j, c: envelope(i, j, c, True, False))


def _add_node_envelopes(m, data: ModelData, breakpoints: Breakpoints, split, parts, point) -> None:
    """The same envelopes for the outlet's total contaminant flow ``sum_out w = x F`` with the node's bound.

    Summing the pipe envelopes gives these with ``sum_e U_e`` in place of the node's own throughput
    bound ``U_n``, which is never larger; so they cut off more of the relaxation at no risk.
    """
    nodes = list(m.conc)
    u = {n: data.outflow_bound(n) for n, _ in nodes}

    def total_mass(n: str, c: str):
        return sum(m.mass[n, j, c] for _, j in data.out_edges[n])

    def total_flow(n: str, c: str, s: int | None = None):
        if s is None:
            return sum(m.flow[e] for e in data.out_edges[n])
        return sum(m.flow_part[n, j, c, s] for _, j in data.out_edges[n])

    def envelope(n: str, c: str, low_side: bool, under: bool):
        if not data.out_edges[n]:
            return pyo.Constraint.Skip
        if (n, c) not in split:
            a = point(n, c, 0 if low_side else -1)
            total = a * total_flow(n, c) + (u[n] * (m.conc[n, c] - a) if low_side != under else 0)
        else:
            total = 0
            for s in parts(n, c):
                a = point(n, c, s if low_side else s + 1)
                total += a * total_flow(n, c, s)
                if low_side != under:
                    total += u[n] * m.conc_part[n, c, s] - u[n] * a * m.segment[n, c, s]
        return total_mass(n, c) >= total if under else total_mass(n, c) <= total

    m.node_under_low = pyo.Constraint(nodes, rule=lambda m, n, c: envelope(n, c, True, True))
    m.node_under_high = pyo.Constraint(nodes, rule=lambda m, n, c: envelope(n, c, False, True))
    m.node_over_high = pyo.Constraint(nodes, rule=lambda m, n, c: envelope(n, c, False, False))
    m.node_over_low = pyo.Constraint(nodes, rule=lambda m, n, c: envelope(n, c, True, False))
    m.node_flow_part_on = pyo.Constraint(
        [(n, c, s) for (n, c) in split for s in parts(n, c)],
        rule=lambda m, n, c, s: total_flow(n, c, s) <= u[n] * m.segment[n, c, s] if data.out_edges[n]
        else pyo.Constraint.Skip,
    )


__all__ = ["build_relaxation", "initial_breakpoints", "Breakpoints"]
