"""Independent re-verification of a water network from its flows alone.

:func:`check_flows` does not look at the optimisation model. From the plant's data (the
superstructure's node attributes) and a set of pipe flows it recomputes every node's inlet and
outlet concentration and verifies every balance and limit:

* flows are non-negative and only on pipes the superstructure allows;
* sinks receive, and sources send, exactly their flow; operations and regenerators conserve water
  (less an operation's ``water_loss``);
* supply, operation and regenerator capacities; the minimum flow on every used pipe; required pipes;
* a regenerator with ``recycle: false`` lies on no cycle of pipes that carry water;
* the most new pipes, the most inlets per unit, the capital budget (:mod:`cascade.economics`) and
  the limits of a trade-off study (``graph.graph["limits"]``);
* inlet limits of sinks and operations, outlet limits of operations, discharge limits.

Concentrations are recomputed physically: an operation's outlet is
``(sum f_i C_i + 1000 L) / (F - F_loss)`` (a linear system, because operations and regenerators may form
cycles); a regenerator with a fixed outlet delivers ``min(inlet, outlet)`` for each
contaminant (it never makes water dirtier), found by repeating the solve until no regenerator
changes mode; a regenerator with a removal ratio ``r`` delivers ``(1 - r)`` times its inlet, and
one that specifies neither passes the contaminant through.

Violations are measured relative to their scale: ``excess / max(1, |limit|)``. The check passes
when the largest is at most ``tol`` (default 1e-6).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd

from .superstructure import pipe_minimum
from .units import LOAD_TO_PPM

#: Default relative tolerance of the check.
CHECK_TOLERANCE = 1e-6


@dataclass(frozen=True)
class CheckResult:
    """Outcome of :func:`check_flows`.

    Attributes
    ----------
    passed : bool
        True when every violation is within the tolerance.
    max_violation : float
        Largest relative violation found (0.0 when none).
    violations : pandas.DataFrame
        One row per violated rule beyond 1e-9: ``rule``, ``unit``, ``contaminant``, ``value``,
        ``limit``, ``relative``.
    inlet, outlet : pandas.DataFrame
        Recomputed concentrations (ppm), nodes x contaminants; NaN where no water flows.
    throughput : pandas.Series
        Water through every node (t/h): outflow of supplies and sources, inflow of the others.
    tolerance : float
    """

    passed: bool
    max_violation: float
    violations: pd.DataFrame
    inlet: pd.DataFrame
    outlet: pd.DataFrame
    throughput: pd.Series
    tolerance: float = CHECK_TOLERANCE
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """``{"passed": ..., "max_violation": ..., "violations": [...]}`` (JSON-friendly)."""
        return {
            "passed": bool(self.passed),
            "max_violation": float(self.max_violation),
            "violations": self.violations.to_dict(orient="records"),
        }


class _Violations:
    def __init__(self) -> None:
        self.rows: list[dict] = []

    def limit(self, rule: str, unit: str, value: float, limit: float, contaminant: str | None = None) -> None:
        """Record ``value <= limit`` if broken."""
        excess = value - limit
        if excess > 1e-9 * max(1.0, abs(limit)):
            self.rows.append(
                {
                    "rule": rule,
                    "unit": unit,
                    "contaminant": contaminant,
                    "value": float(value),
                    "limit": float(limit),
                    "relative": float(excess / max(1.0, abs(limit))),
                }
            )

    def equal(self, rule: str, unit: str, value: float, target: float) -> None:
        """Record ``value == target`` if broken."""
        self.limit(rule, unit, value, target)
        self.limit(rule, unit, -value, -target)


def _throughput(graph: nx.DiGraph, flows: Mapping[tuple[str, str], float]) -> tuple[dict, dict]:
    inflow = dict.fromkeys(graph, 0.0)
    outflow = dict.fromkeys(graph, 0.0)
    for (i, j), f in flows.items():
        if i in outflow:
            outflow[i] += f
        if j in inflow:
            inflow[j] += f
    return inflow, outflow


def node_concentrations(
    graph: nx.DiGraph, flows: Mapping[tuple[str, str], float]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Recompute inlet and outlet concentrations (ppm) of every node from the flows.

    Parameters
    ----------
    graph : networkx.DiGraph
        The superstructure (its node attributes hold the plant data).
    flows : mapping of (tail, head) -> float
        Flow on each pipe, t/h.

    Returns
    -------
    inlet, outlet : pandas.DataFrame
        Nodes x contaminants. Supplies and sources have no inlet; sinks and discharges no
        outlet; a node without flow has NaN.
    """
    contaminants = list(graph.graph["contaminants"])
    inflow, _ = _throughput(graph, flows)
    kinds = {n: d["kind"] for n, d in graph.nodes(data=True)}
    units = [n for n in graph if kinds[n] in ("operation", "regenerator") and inflow[n] > 0]
    position = {n: k for k, n in enumerate(units)}
    incoming: dict[str, list[tuple[str, float]]] = {n: [] for n in graph}
    for (i, j), f in flows.items():
        if f > 0 and j in incoming:
            incoming[j].append((i, f))
    inlet: dict[str, dict[str, float]] = {c: {} for c in contaminants}
    outlet: dict[str, dict[str, float]] = {c: {} for c in contaminants}
    for c in contaminants:
        fixed = {n: d["quality"][c] for n, d in graph.nodes(data=True) if d["kind"] in ("supply", "source")}
        passing = {r for r in units if kinds[r] == "regenerator" and c not in graph.nodes[r]["outlet"]}
        for _ in range(len(units) + 1):
            x = _solve_units(graph, units, position, incoming, inflow, fixed, c, passing)
            switched = {
                r
                for r in units
                if kinds[r] == "regenerator"
                and r not in passing
                and _mix(incoming[r], inflow[r], fixed, x, position) < graph.nodes[r]["outlet"][c]
            }
            if not switched:
                break
            passing |= switched
        outlet[c] = {**fixed, **{n: float(x[position[n]]) for n in units}}
        for n in graph:
            if kinds[n] not in ("supply", "source") and inflow[n] > 0:
                inlet[c][n] = _mix(incoming[n], inflow[n], fixed, x, position)
    index = list(graph)
    return (
        pd.DataFrame(inlet, index=index, columns=contaminants, dtype=float),
        pd.DataFrame(outlet, index=index, columns=contaminants, dtype=float),
    )


def _mix(incoming, total, fixed: Mapping[str, float], x: np.ndarray, position: dict) -> float:
    mass = sum(f * (x[position[i]] if i in position else fixed.get(i, 0.0)) for i, f in incoming)
    return mass / total


def _solve_units(graph, units, position, incoming, inflow, fixed, c, passing) -> np.ndarray:
    """Solve Fout_u x_u - k_u sum_{var i} f_iu x_i = k_u sum_{fixed i} f_iu C_i + 1000 L_u (or x_r = spec).

    ``Fout_u`` is the inflow less an operation's ``water_loss``: the contaminant leaves with the water
    that leaves.

    ``k_u`` is 1 except for a regenerator that removes a fraction ``r`` of the contaminant: ``1 - r``.
    """
    n = len(units)
    a = np.zeros((n, n))
    b = np.zeros(n)
    for row, u in enumerate(units):
        d = graph.nodes[u]
        if d["kind"] == "regenerator" and u not in passing:
            a[row, row] = 1.0
            b[row] = d["outlet"][c]
            continue
        a[row, row] += inflow[u] - d.get("water_loss", 0.0)  # the water that leaves carries the mass
        kept = 1.0 - d.get("removal", {}).get(c, 0.0)  # a regenerator removing a fraction of c
        for i, f in incoming[u]:
            if i in position:
                a[row, position[i]] -= kept * f
            else:
                b[row] += kept * f * fixed.get(i, 0.0)
        if d["kind"] == "operation":
            b[row] += LOAD_TO_PPM * d["load"].get(c, 0.0)
    if n == 0:
        return b
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(a, b, rcond=None)[0]


def _regeneration_recycles(graph: nx.DiGraph, flows: Mapping[tuple[str, str], float]) -> list[str]:
    """Regenerators with ``recycle: false`` that lie on a cycle of pipes carrying water."""
    reuse_only = [n for n, d in graph.nodes(data=True) if d["kind"] == "regenerator" and not d["recycle"]]
    if not reuse_only:
        return []
    used = nx.DiGraph((i, j) for (i, j), f in flows.items() if f > 0 and graph.has_edge(i, j))
    return [
        r for r in reuse_only
        if r in used and any(nx.has_path(used, j, r) for j in used.successors(r))
    ]


def _design_limits(graph: nx.DiGraph, used: Mapping[tuple[str, str], float], v: _Violations) -> None:
    """Pipe limits, the capital budget and the limits of a trade-off study, recomputed from the used pipes."""
    from .economics import capital_spend
    from .kpi import objective_value

    g = graph.graph
    new = [e for e in used if not graph.edges[e]["existing"]]
    if g.get("max_new_pipes") is not None:
        v.limit("max_new_pipes", "plant", len(new), g["max_new_pipes"])
    if g.get("max_inlets") is not None:
        into: dict[str, int] = {}
        for _, j in used:
            if graph.nodes[j]["kind"] in ("sink", "operation", "regenerator"):
                into[j] = into.get(j, 0) + 1
        for j, count in into.items():
            v.limit("max_inlets", j, count, g["max_inlets"])
    if g.get("budget") is not None:
        v.limit("capital budget", "plant", capital_spend(graph, used, new)["total"], g["budget"])
    for name, limit in (g.get("limits") or {}).items():
        if limit is not None:
            v.limit(f"{name} limit", "plant", objective_value(graph, name, used), limit + (1e-6 if name == "new_pipes"
                                                                                          else 0.0))


def design_violations(graph: nx.DiGraph, flows: Mapping[tuple[str, str], float]) -> list[dict]:
    """Broken pipe limits, budget or study limits of a network (empty when none is broken beyond round-off).

    A subset of :func:`check_flows`, cheap enough to screen candidate plans.
    """
    v = _Violations()
    _design_limits(graph, {e: f for e, f in flows.items() if f > 0}, v)
    return [row for row in v.rows if row["relative"] > CHECK_TOLERANCE]


def check_flows(
    graph: nx.DiGraph,
    flows: Mapping[tuple[str, str], float],
    *,
    tol: float = CHECK_TOLERANCE,
) -> CheckResult:
    """Verify a network given by its flows against every balance and limit of the plant.

    Parameters
    ----------
    graph : networkx.DiGraph
        The superstructure from :func:`cascade.build_superstructure`.
    flows : mapping of (tail, head) -> float
        Flow on each pipe, t/h (zero flows may be omitted).
    tol : float, default 1e-6
        Largest relative violation accepted.

    Returns
    -------
    CheckResult

    Examples
    --------
    >>> import cascade
    >>> g = cascade.build_superstructure(cascade.examples.wang_smith())
    >>> cascade.check_flows(g, {("FW", "OP1"): 20.0, ("OP1", "WW"): 20.0}).passed
    True
    >>> result = cascade.check_flows(g, {("FW", "OP1"): 10.0, ("OP1", "WW"): 10.0})  # 2 kg/h in 10 t/h: 200 ppm
    >>> result.passed, result.violations.loc[0, "rule"], float(result.outlet.loc["OP1", "C"])
    (False, 'outlet limit', 200.0)
    """
    v = _Violations()
    inflow, outflow = _throughput(graph, flows)
    for (i, j), f in flows.items():
        if not graph.has_edge(i, j):
            if abs(f) > 0:
                v.limit("pipe not allowed", f"{i}->{j}", abs(f), 0.0)
            continue
        v.limit("negative flow", f"{i}->{j}", -f, 0.0)
        if f > 0:
            v.limit("pipe minimum flow", f"{i}->{j}", pipe_minimum(graph, i, j), f)
    for i, j, d in graph.edges(data=True):
        if d.get("required"):
            v.limit("required pipe carries no flow", f"{i}->{j}", 0.0, flows.get((i, j), 0.0))
    for n, d in graph.nodes(data=True):
        kind = d["kind"]
        if kind == "sink":
            v.equal("sink demand", n, inflow[n], d["flow"])
        elif kind == "source":
            v.equal("source supply", n, outflow[n], d["flow"])
        elif kind in ("operation", "regenerator"):
            v.equal("unit balance", n, outflow[n], inflow[n] - d.get("water_loss", 0.0))
        if "max_flow" in d:
            v.limit("capacity", n, outflow[n] if kind == "supply" else inflow[n], d["max_flow"])
    for r in _regeneration_recycles(graph, flows):
        v.limit("regeneration recycle (recycle: false)", r, 1.0, 0.0)
    _design_limits(graph, {e: f for e, f in flows.items() if f > 0 and graph.has_edge(*e)}, v)
    inlet, outlet = node_concentrations(graph, flows)
    inlet_of, outlet_of = inlet.to_dict(orient="index"), outlet.to_dict(orient="index")
    for n, d in graph.nodes(data=True):
        if inflow[n] > 0:
            for c, limit in d.get("max_in", {}).items():
                v.limit("inlet limit", n, inlet_of[n][c], limit, c)
        if d["kind"] == "operation" and inflow[n] > 0:
            for c, limit in d.get("max_out", {}).items():
                v.limit("outlet limit", n, outlet_of[n][c], limit, c)
    frame = pd.DataFrame(v.rows, columns=["rule", "unit", "contaminant", "value", "limit", "relative"])
    worst = float(frame["relative"].max()) if len(frame) else 0.0
    throughput = pd.Series(
        {n: (outflow[n] if d["kind"] in ("supply", "source") else inflow[n]) for n, d in graph.nodes(data=True)},
        name="throughput",
    )
    return CheckResult(
        passed=worst <= tol,
        max_violation=worst,
        violations=frame,
        inlet=inlet,
        outlet=outlet,
        throughput=throughput,
        tolerance=tol,
    )
