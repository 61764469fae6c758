"""The MILP of :func:`cascade.build_model` written directly in highspy, for comparison.

:func:`build_arrays` turns the same :class:`cascade.formulation.data.ModelData` the Pyomo model is
built from (``build_data(graph)``) into one row-wise sparse matrix with numpy, and
:func:`pass_to_highs` hands it to HiGHS in a single ``Highs.passModel`` call. No Pyomo object is
created. The model is the one ``build_model(graph, objective)`` builds with its default
``pipes=True``, family by family (the equations are in the docstrings of
:mod:`cascade.formulation`):

* columns: ``flow[i, j]`` on every pipe in ``data.edges`` order, bounded by ``[0, arc_bound]``;
  ``pipe_built[i, j]`` binaries on every pipe (fixed to 1 when the objective needs no pipe
  decision, and on required pipes); ``regen_installed[r]`` binaries for regenerators with a
  fixed cost (fixed to 1 under the ``freshwater`` objective);
* rows: ``sink_demand``, ``source_supply``, ``unit_balance``, ``supply_cap``, ``throughput_cap``,
  ``sink_quality``, ``operation_inlet_quality``, ``operation_mass_balance``,
  ``discharge_quality``, ``pipe_capacity``, ``pipe_min_flow`` (when the plant has a minimum
  pipe flow and the objective needs pipe decisions), ``required_flow``, ``regen_capacity``;
* objective: ``freshwater`` (t/h) or ``cost`` (money/yr).

As in the Pyomo model, a row whose sum has no term at all is left out (Pyomo's
``Constraint.Skip``), and a quality term whose concentration equals the limit is left out.
Everything :func:`cascade.build_model` accepts is covered (fixed-flow sinks and sources, fixed-load
single-contaminant operations, fixed-outlet regenerators, caps, discharge limits, required pipes,
minimum flows, pipe and regenerator costs); plants it refuses are refused here by the same
:func:`~cascade.formulation.data.check_supported`. Column and row order differ from the order in
which Pyomo's ``appsi`` interface passes the model, so HiGHS may take a different path to the
same optimum.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import highspy
import networkx as nx
import numpy as np

from cascade.formulation import needs_pipe_decisions
from cascade.formulation.data import ModelData, build_data, check_supported
from cascade.formulation.piping import REQUIRED_FLOW
from cascade.superstructure import pipe_minimum
from cascade.units import LOAD_TO_PPM

#: Row families in the order they are stacked (the order of :func:`cascade.build_model`).
FAMILIES = (
    "sink_demand", "source_supply", "unit_balance", "supply_cap", "throughput_cap", "sink_quality",
    "operation_inlet_quality", "operation_mass_balance", "discharge_quality", "pipe_capacity", "pipe_min_flow",
    "required_flow", "regen_capacity",
)


@dataclass
class DirectLP:
    """The MILP as arrays: columns, row-wise CSR matrix, objective.

    Columns ``0 .. E-1`` are flows (``data.edges`` order), ``E .. 2E-1`` the ``pipe_built``
    binaries, then the ``regen_installed`` binaries of ``regenerators``.
    """

    data: ModelData
    objective: str
    col_cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    a_start: np.ndarray
    a_index: np.ndarray
    a_value: np.ndarray
    regenerators: list[str]
    rows_per_family: dict[str, int] = field(default_factory=dict)

    @property
    def num_col(self) -> int:
        return len(self.col_cost)

    @property
    def num_row(self) -> int:
        return len(self.row_lower)

    @property
    def size(self) -> dict[str, int]:
        """Columns, rows, nonzeros and free (unfixed) integer columns, as in ``SolveResult.size``."""
        free_int = (self.integrality == 1) & (self.col_lower != self.col_upper)
        return {
            "columns": self.num_col,
            "rows": self.num_row,
            "nonzeros": len(self.a_value),
            "integer_columns": int(free_int.sum()),
        }


class _Rows:
    """Collects row families as (candidate row, column, value) triplets; rows with no triplet are skipped."""

    def __init__(self) -> None:
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.families: list[tuple[str, int, int]] = []  # name, first candidate row, count
        self.count = 0

    def add(self, name: str, lower, upper, rows, cols, vals) -> None:
        lower = np.asarray(lower, dtype=float)
        n = len(lower)
        self.families.append((name, self.count, n))
        self.lower.append(lower)
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (n,)))
        self.rows.append(np.asarray(rows, dtype=np.int64) + self.count)
        self.cols.append(np.asarray(cols, dtype=np.int64))
        self.vals.append(np.broadcast_to(np.asarray(vals, dtype=float), (len(rows),)))
        self.count += n

    def csr(self):
        """Row-wise CSR of the rows that have a term; duplicate entries summed, exact zeros dropped."""
        lower = np.concatenate(self.lower) if self.lower else np.zeros(0)
        upper = np.concatenate(self.upper) if self.upper else np.zeros(0)
        rows = np.concatenate(self.rows) if self.rows else np.zeros(0, np.int64)
        cols = np.concatenate(self.cols) if self.cols else np.zeros(0, np.int64)
        vals = np.concatenate(self.vals) if self.vals else np.zeros(0)
        present = np.zeros(self.count, dtype=bool)
        present[rows] = True
        new_id = np.cumsum(present) - 1
        rows = new_id[rows]
        # sum duplicates (an operation's self-loop appears with +1 and -1 in its balance)
        order = np.lexsort((cols, rows))
        rows, cols, vals = rows[order], cols[order], vals[order]
        if len(rows):
            first = np.ones(len(rows), dtype=bool)
            first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
            group = np.cumsum(first) - 1
            vals = np.bincount(group, weights=vals)
            rows, cols = rows[first], cols[first]
            keep = vals != 0
            rows, cols, vals = rows[keep], cols[keep], vals[keep]
        num_row = int(present.sum())
        start = np.searchsorted(rows, np.arange(num_row + 1)).astype(np.int32)
        counts = {}
        for name, first_row, n in self.families:
            counts[name] = counts.get(name, 0) + int(present[first_row:first_row + n].sum())
        return lower[present], upper[present], start, cols.astype(np.int32), vals, counts


def build_arrays(graph: nx.DiGraph, objective: str = "cost") -> DirectLP:
    """Build the arrays of ``cascade.build_model(graph, objective)`` (with ``pipes=True``).

    Parameters
    ----------
    graph : networkx.DiGraph
        From :func:`cascade.build_superstructure`.
    objective : {'freshwater', 'cost'}
    """
    if objective not in ("freshwater", "cost"):
        raise ValueError(f"objective {objective!r} is not known; use 'freshwater' or 'cost'")
    check_supported(graph)
    data = build_data(graph)
    g = graph
    nodes = list(g.nodes)
    index = {n: k for k, n in enumerate(nodes)}
    kind = np.array([g.nodes[n]["kind"] for n in nodes])
    E = len(data.edges)
    tail = np.fromiter((index[i] for i, _ in data.edges), dtype=np.int64, count=E)
    head = np.fromiter((index[j] for _, j in data.edges), dtype=np.int64, count=E)
    arc_bound = np.fromiter((data.arc_bound[e] for e in data.edges), dtype=float, count=E)
    edge_ids = np.arange(E)

    def ordered(k: str) -> list[str]:
        return data.nodes(k)

    def position(members: list[str]) -> np.ndarray:
        """Node index -> candidate row of a per-node family (-1 for other nodes)."""
        pos = np.full(len(nodes), -1, dtype=np.int64)
        for r, n in enumerate(members):
            pos[index[n]] = r
        return pos

    rows = _Rows()

    def per_node(name: str, members: list[str], lower, upper, into: bool, out: bool, sign_out: float = 1.0):
        pos = position(members)
        r_list, c_list, v_list = [], [], []
        if into:
            sel = pos[head] >= 0
            r_list.append(pos[head][sel])
            c_list.append(edge_ids[sel])
            v_list.append(np.ones(int(sel.sum())))
        if out:
            sel = pos[tail] >= 0
            r_list.append(pos[tail][sel])
            c_list.append(edge_ids[sel])
            v_list.append(np.full(int(sel.sum()), sign_out))
        rows.add(name, lower, upper, np.concatenate(r_list), np.concatenate(c_list), np.concatenate(v_list))

    # ---- balances
    sinks, sources = ordered("sink"), ordered("source")
    units = ordered("operation") + ordered("regenerator")
    sink_flow = [g.nodes[k]["flow"] for k in sinks]
    per_node("sink_demand", sinks, sink_flow, sink_flow, into=True, out=False)
    source_flow = [g.nodes[s]["flow"] for s in sources]
    per_node("source_supply", sources, source_flow, source_flow, into=False, out=True)
    per_node("unit_balance", units, np.zeros(len(units)), 0.0, into=True, out=True, sign_out=-1.0)
    capped = [w for w in ordered("supply") if "max_flow" in g.nodes[w]]
    per_node("supply_cap", capped, np.full(len(capped), -np.inf), [g.nodes[w]["max_flow"] for w in capped],
             into=False, out=True)
    capped_units = [u for u in units if math.isfinite(data.throughput_bound[u])]
    per_node("throughput_cap", capped_units, np.full(len(capped_units), -np.inf),
             [data.throughput_bound[u] for u in capped_units], into=True, out=False)

    # ---- quality: sum over inflows of f * (C_tail - limit), terms with C_tail == limit left out
    conc = np.zeros((len(nodes), len(data.contaminants)))
    for (n, c), v in data.out_conc.items():
        conc[index[n], data.contaminants.index(c)] = v

    edge_pos = {e: k for k, e in enumerate(data.edges)}
    into = {n: np.fromiter((edge_pos[e] for e in data.in_edges[n]), dtype=np.int64) for n in nodes}

    def quality(name: str, members: list[tuple[str, str, float]], rhs: np.ndarray, equality: bool) -> None:
        """Rows sum over inflows of f * (C_tail - limit) (<= or ==) rhs, for members (node, contaminant, limit)."""
        r_list, c_list, v_list = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0)]
        for r, (n, c, limit) in enumerate(members):
            e = into[n]
            coef = conc[tail[e], data.contaminants.index(c)] - limit
            keep = coef != 0
            r_list.append(np.full(int(keep.sum()), r, dtype=np.int64))
            c_list.append(e[keep])
            v_list.append(coef[keep])
        lower = rhs if equality else np.full(len(members), -np.inf)
        rows.add(name, lower, rhs, np.concatenate(r_list), np.concatenate(c_list), np.concatenate(v_list))

    def limited(kind_name: str, key: str) -> list[tuple[str, str, float]]:
        return [(n, c, lim) for n in ordered(kind_name) for c, lim in g.nodes[n][key].items()]

    sink_limits = limited("sink", "max_in")
    quality("sink_quality", sink_limits, np.zeros(len(sink_limits)), equality=False)
    inlet_limits = limited("operation", "max_in")
    quality("operation_inlet_quality", inlet_limits, np.zeros(len(inlet_limits)), equality=False)
    loaded = [(o, c, g.nodes[o]["max_out"][c]) for o in ordered("operation")
              for c, load in g.nodes[o]["load"].items() if load > 0]
    loads = np.array([-LOAD_TO_PPM * g.nodes[o]["load"][c] for o, c, _ in loaded], dtype=float)
    quality("operation_mass_balance", loaded, loads, equality=True)
    discharge_limits = limited("discharge", "max_in")
    quality("discharge_quality", discharge_limits, np.zeros(len(discharge_limits)), equality=False)

    # ---- pipes
    decisions = needs_pipe_decisions(g, objective)
    min_flow = g.graph["min_flow"] if decisions else 0.0
    pipe_col = E + edge_ids
    rows.add("pipe_capacity", np.full(E, -np.inf), 0.0, np.concatenate([edge_ids, edge_ids]),
             np.concatenate([edge_ids, pipe_col]), np.concatenate([np.ones(E), -arc_bound]))
    minimum = np.fromiter((pipe_minimum(g, i, j) for i, j in data.edges), dtype=float, count=E)
    if min_flow > 0:
        rows.add("pipe_min_flow", np.zeros(E), np.inf, np.concatenate([edge_ids, edge_ids]),
                 np.concatenate([edge_ids, pipe_col]), np.concatenate([np.ones(E), -minimum]))
    required = np.array([k for k, e in enumerate(data.edges) if g.edges[e]["required"]], dtype=np.int64)
    req_lower = np.maximum(minimum[required] if min_flow > 0 else np.zeros(len(required)), REQUIRED_FLOW)
    rows.add("required_flow", req_lower, np.inf, np.arange(len(required)), required, 1.0)

    # ---- regenerator installation
    costly = [r for r in ordered("regenerator") if g.nodes[r]["cost_fixed"] > 0]
    regen_col = 2 * E + np.arange(len(costly))
    pos = position(costly)
    sel = pos[head] >= 0
    rows.add(
        "regen_capacity", np.full(len(costly), -np.inf), 0.0,
        np.concatenate([pos[head][sel], np.arange(len(costly))]),
        np.concatenate([edge_ids[sel], regen_col]),
        np.concatenate([np.ones(int(sel.sum())), -np.array([data.throughput_bound[r] for r in costly])]),
    )

    # ---- columns and objective
    n_col = 2 * E + len(costly)
    col_lower = np.zeros(n_col)
    col_upper = np.concatenate([arc_bound, np.ones(E + len(costly))])
    integrality = np.concatenate([np.zeros(E, np.int32), np.ones(E + len(costly), np.int32)])
    if not decisions:
        col_lower[E:2 * E] = 1.0
    col_lower[E + required] = 1.0
    if objective != "cost":
        col_lower[2 * E:] = 1.0
    cost = np.zeros(n_col)
    supply = kind[tail] == "supply"
    if objective == "freshwater":
        cost[:E][supply] = 1.0
    else:
        hours = g.graph["hours_per_year"]
        price = np.array([g.nodes[n].get("price", 0.0) for n in nodes])
        per_t = np.array([g.nodes[n].get("cost_per_t", 0.0) for n in nodes])
        flow_cost = np.where(supply, price[tail], 0.0)
        flow_cost += np.where(kind[head] == "discharge", price[head], 0.0)
        flow_cost += np.where(kind[head] == "regenerator", per_t[head], 0.0)
        cost[:E] = hours * flow_cost
        cost[2 * E:] = [g.nodes[r]["cost_fixed"] for r in costly]
        pipe_cost = g.graph["pipe_cost_fixed"]
        if pipe_cost:
            new = np.fromiter((not g.edges[e]["existing"] for e in data.edges), dtype=bool, count=E)
            cost[E:2 * E][new] = pipe_cost

    row_lower, row_upper, start, a_index, a_value, counts = rows.csr()
    # Fixed columns (pipes without a decision, required pipes, regenerators under 'freshwater') enter the rows as
    # constants, as Pyomo's appsi interface passes them: their terms move to the row bounds.
    fixed = col_lower[a_index] == col_upper[a_index]
    if fixed.any():
        row_of = np.repeat(np.arange(len(row_lower)), np.diff(start))
        shift = np.bincount(row_of[fixed], weights=a_value[fixed] * col_lower[a_index[fixed]], minlength=len(row_lower))
        row_lower, row_upper = row_lower - shift, row_upper - shift
        a_index, a_value = a_index[~fixed], a_value[~fixed]
        start = np.searchsorted(row_of[~fixed], np.arange(len(row_lower) + 1)).astype(np.int32)
    return DirectLP(data, objective, cost, col_lower, col_upper, integrality, row_lower, row_upper, start,
                    a_index, a_value, costly, counts)



def pass_to_highs(lp: DirectLP, options: dict | None = None) -> highspy.Highs:
    """Create a HiGHS instance and hand it the model in one ``passModel`` call (output off by default)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for key, value in (options or {}).items():
        h.setOptionValue(key, value)
    status = h.passModel(
        lp.num_col, lp.num_row, len(lp.a_value), int(highspy.MatrixFormat.kRowwise),
        int(highspy.ObjSense.kMinimize), 0.0,
        lp.col_cost, lp.col_lower, lp.col_upper, lp.row_lower, lp.row_upper,
        lp.a_start, lp.a_index, lp.a_value, lp.integrality,
    )
    if status != highspy.HighsStatus.kOk:
        raise RuntimeError(f"HiGHS refused the model: {status}")
    return h


@dataclass(frozen=True)
class DirectResult:
    """What one HiGHS run of the direct model returned (the fields of ``cascade.SolveResult`` that matter)."""

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    solve_time: float
    termination: str
    flows: dict[tuple[str, str], float]

    @property
    def has_solution(self) -> bool:
        return self.status in ("optimal", "feasible")


_LIMITS = ("kTimeLimit", "kIterationLimit", "kObjectiveBound", "kObjectiveTarget", "kSolutionLimit", "kInterrupt",
           "kMemoryLimit", "kHighsInterrupt")


def solve_direct(
    h: highspy.Highs, lp: DirectLP, *, time_limit: float | None = None, mip_rel_gap: float = 1e-4
) -> DirectResult:
    """Run HiGHS on a model from :func:`pass_to_highs`; statuses mapped as in :mod:`cascade.solve`.

    ``flows`` are the flow columns of the best plan found (all of them, round-off included).
    """
    if time_limit is not None:
        h.setOptionValue("time_limit", max(float(time_limit), 0.01))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    start = time.perf_counter()
    h.run()
    solve_time = time.perf_counter() - start
    model_status = h.getModelStatus()
    name = model_status.name
    info = h.getInfo()
    has_plan = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if name == "kOptimal":
        status = "optimal"
    elif name in ("kInfeasible", "kUnboundedOrInfeasible"):
        status = "infeasible"
    elif name in _LIMITS and has_plan:
        status = "feasible"
    else:
        status = "error"
    has_plan = has_plan and status in ("optimal", "feasible")
    objective = float(info.objective_function_value) if has_plan else None
    is_mip = bool(np.any((lp.integrality == 1) & (lp.col_lower != lp.col_upper)))
    bound = float(info.mip_dual_bound) if is_mip else None
    if bound is not None and not math.isfinite(bound):
        bound = None
    if status == "optimal" and bound is None:
        bound = objective
    gap = None
    if objective is not None and bound is not None:
        gap = abs(objective - bound) / max(abs(objective), 1e-9)
        if gap < 1e-12:
            gap = 0.0
    flows: dict[tuple[str, str], float] = {}
    if has_plan:
        values = np.asarray(h.getSolution().col_value[: len(lp.data.edges)])
        flows = {e: float(v) for e, v in zip(lp.data.edges, values, strict=True)}
    return DirectResult(status, objective, bound, gap, solve_time, name, flows)
