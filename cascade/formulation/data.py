"""What the MILP needs from the superstructure, computed once: adjacency, concentrations, bounds.

Everything here is a pure function of the graph. Flows are in t/h, concentrations in ppm.

Outlet concentrations (fixed, which keeps the model linear):

* supply ``w`` and source ``s``: their given quality;
* operation ``o`` (one contaminant): its ``max_outlet``. Fixing the outlet at its maximum is the
  Savelski & Bagajewicz (2000) optimality condition for single-contaminant water-using
  networks: some minimum-fresh-water network has every operation's outlet at its maximum, so
  this restriction is exact for the ``freshwater`` objective. Under the ``cost`` objective, and
  when discharge limits or regenerators are present, it is a restriction that may cost
  optimality; the plan says so (see :func:`restrictions`);
* regenerator ``r``: its fixed ``outlet`` for every contaminant.

A caller may instead give an outlet concentration ``C^g`` for any operation or regenerator
outlet (``build_data(graph, outlet={(node, c): ppm})``): a guess, typically from the MILP
relaxation of :mod:`cascade.formulation.relaxation`. The quality constraints then require the
real outlet to be *at most* the guess (:mod:`cascade.formulation.quality`), which is a valid
restriction: every limit is an upper bound on a concentration and mixing is monotone, so water
cleaner than modelled never breaks one. This is how the bilinear cases (removal ratios,
pass-through, several contaminants in a fixed-load operation) get feasible plans from LPs.

Flow bounds (each provably valid, so big-M values taken from them cut off no plan):

* sink ``k``: inflow = ``flow_k``; source ``s``: outflow = ``flow_s``;
* operation ``o``: ``F_o <= max_flow_o`` and ``F_o <= max_c 1000 L_oc / (Cout_oc - Cin^max_oc)``,
  with ``Cin^max`` the inlet limit or the dirtiest stream that may feed it, whichever is lower. With
  the outlet of contaminant ``c`` at its maximum the flow ``1000 L_oc / (Cout_oc - Cin_oc)`` grows with
  the inlet concentration, so it is at most that; and some plan that is optimal for fresh water has
  an operation's limiting contaminant at its outlet maximum (Savelski & Bagajewicz 2000, 2003:
  more water through a fixed-load unit than that is equivalent to a bypass around it). Where the
  superstructure does not allow the bypass (forbidden pairs, fresh water to a discharge) this is a
  stated modelling bound. Water circulating around regenerators or between operations breaks the
  bypass argument too, so for bilinear plants :mod:`cascade.bilinear` multiplies this bound (of an
  operation without ``max_flow``) by ``circulation_scale``, raises it when a plan runs at it, and
  states it;
* regenerator ``r``: ``max_flow_r`` when given; otherwise ``k U``, with ``U`` the plant's process
  water ``sum flow_k + sum flow_s + sum F_o^max`` and ``k`` the ``circulation_scale`` (default 1),
  is imposed as its capacity. With fixed outlets that loses nothing (more than all the process
  water through one regenerator can only be circulation, which a fixed outlet makes pointless);
  with removal ratios repeated passes can pay, so :mod:`cascade.bilinear` raises ``k`` when the
  bound binds and states the bound it proved its gap within. A caller may pass a smaller
  ``capacity`` it has proven no better plan exceeds (under the cost objective: what a plan that
  costs no more than a known plan can afford to treat, see :func:`cascade.bilinear.affordable_flows`);
  that one is no modelling assumption;
* supply ``w``: ``max_flow_w`` when given, else the sum of the inflow bounds of what it may feed;
* discharge ``d``: the sum of the outflow bounds of what may feed it;
* arc ``(i, j)``: ``min(out_bound_i, in_bound_j)``, and, where ``j`` has an inlet limit
  ``L_jc`` (sink, operation, discharge), the **dilution bound**: with ``m_jc`` the lowest
  concentration any stream that may feed ``j`` can have (0 for an outlet that depends on the
  flows or is a guess), ``sum_k f_kj C_kc <= L_jc F_j`` and ``C_kc >= m_jc`` give
  ``f_ij (C_ic - m_jc) + F_j m_jc <= L_jc F_j``, so for every ``c`` with ``C_ic > m_jc``

  .. math::

      f_{ij} \\le U_j \\, \\frac{L_{jc} - m_{jc}}{C_{ic} - m_{jc}}

  with ``U_j`` the inflow bound of ``j`` (a sink's fixed flow). A stream dirtier than the limit
  can reach ``j`` only diluted by cleaner water, and no more than this much of it.

Arcs that can never carry flow are left out of the model (``ModelData.edges``), which is exact:
an arc whose bound is 0, and, with a minimum pipe flow ``F^min_ij > 0``
(:func:`cascade.superstructure.pipe_minimum`), an arc whose bound is below it (a used pipe must
carry at least ``F^min``, so such a pipe is never used). Required and existing pipes are kept, and
so is every arc of a unit that would otherwise have none (its balance row then says the plant is
infeasible, instead of silently vanishing).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import networkx as nx

from ..exceptions import InfeasiblePlantError, PlantDataError, UnsupportedFeatureError, summarise
from ..units import operation_room


@dataclass(frozen=True)
class ModelData:
    """Sparse data the constraint families are built from.

    Attributes
    ----------
    graph : networkx.DiGraph
        The superstructure.
    contaminants : list of str
    edges : list of (str, str)
        Allowed pipes, in graph order.
    in_edges, out_edges : dict of str -> list of (str, str)
        Adjacency lists, so each balance is an O(degree) sum.
    out_conc : dict of (str, str) -> float
        Fixed outlet concentration ``C[i, c]`` of every node that can feed another.
    throughput_bound : dict of str -> float
        Upper bound on the flow through each node (inflow for heads, outflow for tails; an
        operation's inflow, see :meth:`outflow_bound` for its outflow).
    arc_bound : dict of (str, str) -> float
        Upper bound on each arc's flow, also its big-M.
    guessed : frozenset of (str, str)
        The ``(node, contaminant)`` outlets given as guesses: the real outlet must be at most
        ``out_conc`` there (see the module notes).
    regenerator_bound : float
        The capacity imposed on regenerators without ``max_flow`` (t/h).
    """

    graph: nx.DiGraph
    contaminants: list[str]
    edges: list[tuple[str, str]]
    in_edges: dict[str, list[tuple[str, str]]]
    out_edges: dict[str, list[tuple[str, str]]]
    out_conc: dict[tuple[str, str], float]
    throughput_bound: dict[str, float]
    arc_bound: dict[tuple[str, str], float]
    guessed: frozenset[tuple[str, str]] = frozenset()
    regenerator_bound: float = math.inf

    def outflow_bound(self, node: str) -> float:
        """Upper bound on the flow leaving ``node``: its throughput bound plus any water it gains."""
        return self.throughput_bound[node] + max(0.0, -self.graph.nodes[node].get("water_loss", 0.0))

    def nodes(self, kind: str) -> list[str]:
        """Node ids of one kind, in graph order."""
        return [n for n, d in self.graph.nodes(data=True) if d["kind"] == kind]


def check_supported(graph: nx.DiGraph, *, guessed: bool = False) -> None:
    """Refuse, with a clear message, what the linear model cannot represent.

    Parameters
    ----------
    graph : networkx.DiGraph
    guessed : bool, default False
        Whether outlet guesses are given (:func:`build_data`): they make removal ratios,
        pass-through and fixed-load operations with several contaminants representable.

    Raises
    ------
    UnsupportedFeatureError
        Without guesses: removal-ratio regenerators, regenerators without a fixed outlet
        for every contaminant, and fixed-load operations in plants with several contaminants
        (all bilinear: :func:`cascade.optimize` solves them by the method of
        :mod:`cascade.bilinear`).
    """
    contaminants = graph.graph["contaminants"]
    problems = []
    for node, d in graph.nodes(data=True):
        if d["kind"] == "regenerator":
            if d["removal"] and not guessed:
                problems.append(
                    f"regenerator '{node}' uses removal ratios ({', '.join(d['removal'])}); the linear model "
                    "needs a fixed outlet concentration (or outlet guesses)"
                )
            missing = [c for c in contaminants if c not in d["outlet"] and c not in d["removal"]]
            if missing and not guessed:
                problems.append(
                    f"regenerator '{node}' gives no outlet concentration for {', '.join(missing)}; "
                    "pass-through is bilinear: the linear model needs a fixed outlet (or outlet guesses)"
                )
        if d["kind"] == "operation" and len(contaminants) > 1 and not guessed:
            problems.append(
                f"operation '{node}' is a fixed-load operation in a plant with {len(contaminants)} "
                "contaminants; its outlets are bilinear: the linear model needs outlet guesses"
            )
    if problems:
        raise UnsupportedFeatureError(summarise(problems, "unsupported features"), problems=problems)


def outlet_concentrations(
    graph: nx.DiGraph, guessed: Mapping[tuple[str, str], float] | None = None
) -> dict[tuple[str, str], float]:
    """Modelled outlet concentration of every node that feeds others (see the module notes).

    A guess in ``guessed`` wins; otherwise supplies and sources give their quality, operations
    their ``max_outlet`` and regenerators their fixed ``outlet``.
    """
    guessed = guessed or {}
    out: dict[tuple[str, str], float] = {}
    for node, d in graph.nodes(data=True):
        for c in graph.graph["contaminants"]:
            if (node, c) in guessed:
                out[node, c] = float(guessed[node, c])
            elif d["kind"] in ("supply", "source"):
                out[node, c] = d["quality"][c]
            elif d["kind"] == "operation":
                out[node, c] = d["max_out"][c]
            elif d["kind"] == "regenerator":
                out[node, c] = d["outlet"][c]
    return out


def variable_outlets(graph: nx.DiGraph) -> list[tuple[str, str]]:
    """The ``(node, contaminant)`` outlets that depend on the flows: every operation outlet, and a
    regenerator's for each contaminant it removes by a ratio or passes through."""
    contaminants = graph.graph["contaminants"]
    out = []
    for n, d in graph.nodes(data=True):
        if d["kind"] == "operation":
            out += [(n, c) for c in contaminants]
        elif d["kind"] == "regenerator":
            out += [(n, c) for c in contaminants if c not in d["outlet"]]
    return out


def outlet_upper_bounds(graph: nx.DiGraph) -> dict[tuple[str, str], float]:
    """Highest outlet concentration (ppm) of every node that feeds others, for every contaminant.

    Supplies and sources: their quality; an operation: its ``max_outlet`` (without one, which
    validation allows only where it picks up none of the contaminant, its inlet limit or the
    dirtiest stream that may feed it); a regenerator: its fixed ``outlet``, else ``1 - r`` times
    the dirtiest stream that may feed it (``r = 0`` passes through). Found by iterating from the
    fixed values up to the fixed point, which is reached in finitely many rounds because every
    value is a base value scaled by factors at most 1.
    """
    contaminants = graph.graph["contaminants"]
    high: dict[tuple[str, str], float] = {}
    rule: dict[tuple[str, str], float] = {}  # variable outlets: cap (inlet limit) or kept fraction
    for n, d in graph.nodes(data=True):
        for c in contaminants:
            if d["kind"] in ("supply", "source"):
                high[n, c] = d["quality"][c]
            elif d["kind"] == "operation" and c in d["max_out"]:
                high[n, c] = d["max_out"][c]
            elif d["kind"] == "regenerator" and c in d["outlet"]:
                high[n, c] = d["outlet"][c]
            elif d["kind"] in ("operation", "regenerator"):
                high[n, c] = 0.0
                rule[n, c] = d["max_in"].get(c, math.inf) if d["kind"] == "operation" else None
    for _ in range(2 * len(rule) + 2):
        changed = False
        for (n, c), cap in rule.items():
            dirtiest = max((high[i, c] for i in graph.predecessors(n)), default=0.0)
            value = min(cap, dirtiest) if cap is not None else (1 - graph.nodes[n]["removal"].get(c, 0.0)) * dirtiest
            if value > high[n, c] * (1 + 1e-12) + 1e-12:
                high[n, c], changed = value, True
        if not changed:
            return high
    raise PlantDataError("the highest outlet concentrations did not settle; check the regenerators' removal ratios")


def limits_of(graph: nx.DiGraph) -> dict[str, float]:
    """Upper limits on fresh water (t/h), annual cost or new pipes that :func:`cascade.optimize` put on the graph."""
    return {k: v for k, v in (graph.graph.get("limits") or {}).items() if v is not None}


def prices_capital(graph: nx.DiGraph, objective: str) -> bool:
    """Whether regenerator capital curves enter the model: the cost objective, a cost limit or a budget."""
    return objective == "cost" or "cost" in limits_of(graph) or graph.graph.get("budget") is not None


def is_bilinear(graph: nx.DiGraph, objective: str) -> bool:
    """Whether the linear model is not exact for this plant, so :mod:`cascade.bilinear` must solve it.

    True with removal-ratio or pass-through regenerators, fixed-load operations in a plant with
    several contaminants, concave capital costs under the cost objective (or a budget or cost limit), and wherever the
    outlet-at-maximum restriction is not exact (:func:`restrictions`).
    """
    contaminants = graph.graph["contaminants"]
    for _, d in graph.nodes(data=True):
        if d["kind"] == "regenerator" and any(c not in d["outlet"] for c in contaminants):
            return True
        if d["kind"] == "regenerator" and d.get("capital_a", 0.0) > 0 and prices_capital(graph, objective):
            return True  # a concave capital cost: piecewise bounds refined like the relaxation's
        if d["kind"] == "operation" and len(contaminants) > 1:
            return True
    return bool(restrictions(graph, objective))


def restrictions(graph: nx.DiGraph, objective: str) -> list[str]:
    """Plain-language notes on where the linear model may be stricter than the physics."""
    ops = [n for n, d in graph.nodes(data=True) if d["kind"] == "operation"]
    if not ops:
        return []
    limited_discharge = any(d["kind"] == "discharge" and d["max_in"] for _, d in graph.nodes(data=True))
    regenerators = any(d["kind"] == "regenerator" for _, d in graph.nodes(data=True))
    if objective == "freshwater" and not limited_discharge and not regenerators:
        return []
    why = "the cost objective" if objective == "cost" else (
        "discharge limits" if limited_discharge else "regenerators"
    )
    return [
        "Operation outlets are fixed at their maximum concentration (Savelski-Bagajewicz condition): "
        f"exact for minimum fresh water without discharge limits or regenerators, but with {why} it is a "
        "restriction, so a better plan may exist; the exact bilinear method comes in a later version."
    ]


def check_connected(graph: nx.DiGraph) -> None:
    """Refuse a plant whose superstructure leaves a unit without the pipes it must have.

    Raises
    ------
    InfeasiblePlantError
        A sink with flow but no allowed inlet, a source with flow but no allowed outlet, or a
        fixed-load operation (which must carry water) without an allowed inlet or outlet.
    """
    problems, units = [], []
    for n, d in graph.nodes(data=True):
        kind = d["kind"]
        no_in = graph.in_degree(n) == 0
        no_out = graph.out_degree(n) == 0
        if kind == "sink" and d["flow"] > 0 and no_in:
            problems.append(f"sink '{n}' needs {d['flow']:g} t/h but no pipe may feed it")
        elif kind == "source" and d["flow"] > 0 and no_out:
            problems.append(f"source '{n}' gives {d['flow']:g} t/h but no pipe may take it")
        elif kind == "operation" and (no_in or no_out):
            problems.append(f"operation '{n}' has no allowed {'inlet' if no_in else 'outlet'} pipe")
        else:
            continue
        units.append(n)
    if problems:
        raise InfeasiblePlantError(
            "No water network is possible: " + "; ".join(problems) + ". Check connections.forbidden and the units.",
            units,
        )


def build_data(
    graph: nx.DiGraph,
    outlet: Mapping[tuple[str, str], float] | None = None,
    *,
    circulation_scale: float = 1.0,
    capacity: Mapping[str, float] | None = None,
    tighten: bool = True,
) -> ModelData:
    """Precompute adjacency lists, outlet concentrations and flow bounds (see the module notes).

    Parameters
    ----------
    graph : networkx.DiGraph
        The superstructure.
    outlet : mapping of (node, contaminant) -> ppm, optional
        Outlet concentrations of operations and regenerators to model instead of the defaults
        (guesses the real outlet must not exceed). An operation's guess must not exceed its
        ``max_outlet``.
    circulation_scale : float, default 1
        Capacity of a regenerator without ``max_flow``, in multiples of the plant's process water,
        and the multiple of its limiting flow an operation without ``max_flow`` may carry (see the
        module notes).
    capacity : mapping of regenerator -> t/h, optional
        Capacities of regenerators without ``max_flow`` that replace ``circulation_scale`` times
        the process water: bounds the caller has proven (see the module notes).
    tighten : bool, default True
        Apply the dilution bounds and leave out the arcs that can never carry flow (module
        notes). False gives the plain formulation (arc bounds from the two ends only, every arc),
        for comparison: both have the same optimum.
    """
    check_connected(graph)
    guessed = dict(outlet or {})
    for (n, c), value in guessed.items():
        d = graph.nodes[n]
        if d["kind"] not in ("operation", "regenerator"):
            raise ValueError(f"outlet guess for {n!r}: only operations and regenerators have a variable outlet")
        if d["kind"] == "operation" and value > d["max_out"].get(c, math.inf) * (1 + 1e-12):
            raise ValueError(f"outlet guess for {n!r}, {c}: {value} ppm exceeds its max_outlet")
    contaminants = list(graph.graph["contaminants"])
    edges = list(graph.edges())
    in_edges: dict[str, list[tuple[str, str]]] = {n: [] for n in graph}
    out_edges: dict[str, list[tuple[str, str]]] = {n: [] for n in graph}
    for i, j in edges:
        out_edges[i].append((i, j))
        in_edges[j].append((i, j))
    conc = outlet_concentrations(graph, guessed)
    highest = outlet_upper_bounds(graph)
    kinds = nx.get_node_attributes(graph, "kind")
    gain = {n: max(0.0, -d.get("water_loss", 0.0)) for n, d in graph.nodes(data=True)}
    bound: dict[str, float] = {}
    for n, d in graph.nodes(data=True):
        if d["kind"] in ("sink", "source"):
            bound[n] = d["flow"]
        elif d["kind"] == "operation":
            bound[n] = _operation_bound(n, d, in_edges[n], highest)
    process_water = sum(v + gain[n] for n, v in bound.items())
    for n, d in graph.nodes(data=True):
        if d["kind"] == "operation":
            bound[n] = _operation_bound(n, d, in_edges[n], highest, circulation_scale)
    for n, d in graph.nodes(data=True):
        if d["kind"] == "regenerator":
            proven = (capacity or {}).get(n)
            bound[n] = d.get("max_flow", circulation_scale * process_water if proven is None else proven)
    for n, d in graph.nodes(data=True):
        if d["kind"] == "supply":
            feedable = sum(bound[j] for _, j in out_edges[n] if kinds[j] != "discharge")
            bound[n] = min(d.get("max_flow", math.inf), feedable)
    for n, d in graph.nodes(data=True):
        if d["kind"] == "discharge":
            bound[n] = sum(bound[i] + gain[i] for i, _ in in_edges[n])
    arc_bound = {(i, j): min(bound[i] + gain[i], bound[j]) for i, j in edges}
    if tighten:
        _dilution_bounds(graph, arc_bound, in_edges, bound, conc, set(guessed) | set(variable_outlets(graph)))
        edges = _usable(graph, edges, arc_bound)
    in_edges = {n: [] for n in graph}
    out_edges = {n: [] for n in graph}
    for i, j in edges:
        out_edges[i].append((i, j))
        in_edges[j].append((i, j))
    arc_bound = {e: arc_bound[e] for e in edges}
    return ModelData(
        graph, contaminants, edges, in_edges, out_edges, conc, bound, arc_bound, frozenset(guessed),
        circulation_scale * process_water,
    )


def _dilution_bounds(
    graph: nx.DiGraph,
    arc_bound: dict[tuple[str, str], float],
    in_edges: dict[str, list[tuple[str, str]]],
    bound: dict[str, float],
    conc: dict[tuple[str, str], float],
    variable: set[tuple[str, str]],
) -> None:
    """Tighten ``arc_bound`` in place by the dilution bound of the module notes."""
    for j, d in graph.nodes(data=True):
        limits = d.get("max_in") or {}
        if d["kind"] not in ("sink", "operation", "discharge") or not limits or not in_edges[j]:
            continue
        for c, limit in limits.items():
            low = {i: 0.0 if (i, c) in variable else conc[i, c] for i, _ in in_edges[j]}
            cleanest = min(low.values())
            for i, _ in in_edges[j]:
                if low[i] > cleanest and low[i] > limit:
                    share = max(limit - cleanest, 0.0) / (low[i] - cleanest)
                    arc_bound[i, j] = min(arc_bound[i, j], bound[j] * share)


def _usable(
    graph: nx.DiGraph, edges: list[tuple[str, str]], arc_bound: dict[tuple[str, str], float]
) -> list[tuple[str, str]]:
    """The arcs that can carry flow (module notes): the others are left out of the model."""
    from ..superstructure import pipe_minimum

    def dead(i: str, j: str) -> bool:
        e = graph.edges[i, j]
        if e["required"] or e["existing"]:
            return False
        return arc_bound[i, j] <= 0 or arc_bound[i, j] < pipe_minimum(graph, i, j)

    removed = {e for e in edges if dead(*e)}
    for n, d in graph.nodes(data=True):  # a unit that must carry water keeps its arcs: its row then says why not
        if d["kind"] in ("sink", "source", "operation") and d.get("flow", 1.0) > 0:
            for side in (list(graph.in_edges(n)), list(graph.out_edges(n))):
                if side and all(e in removed for e in side):
                    removed -= set(side)
    return [e for e in edges if e not in removed]


def _operation_bound(node: str, d: dict, in_edges: list[tuple[str, str]], highest: dict, scale: float = 1.0) -> float:
    """Largest inflow of an operation: ``max_c (1000 L_c + Cout_c F^loss) / (Cout_c - Cin^max_c)``, or ``max_flow``.

    With ``F^loss`` the water it loses, the outlet of ``c`` at its maximum needs an inflow
    ``F (Cout_c - Cin_c) = 1000 L_c + Cout_c F^loss``.

    With contaminant ``c`` at its outlet maximum the flow is ``1000 L_c / (Cout_c - Cin_c)``, which
    grows with the inlet concentration ``Cin_c``; that is no higher than the inlet limit, nor than
    the dirtiest stream that may feed the unit (at its maximum outlet, for an operation). The
    largest over the contaminants bounds the flow at which any contaminant can be at its maximum
    (see the module notes).
    """
    cap = d.get("max_flow", math.inf)
    largest = 0.0
    for c, load in d["load"].items():
        if load <= 0:
            continue
        dirtiest = max((highest[i, c] for i, _ in in_edges), default=-math.inf)
        inlet = min(d["max_in"].get(c, math.inf), dirtiest)
        margin = d["max_out"][c] - inlet
        needed = operation_room(load, d["max_out"][c], d["water_loss"])
        largest = max(largest, needed / margin if margin > 0 else math.inf)
    cap = min(cap, scale * largest)
    if not math.isfinite(cap):
        raise PlantDataError(
            f"operation '{node}' has no bound on its flow: give a max_inlet below its max_outlet, "
            "or a max_flow"
        )
    return cap
