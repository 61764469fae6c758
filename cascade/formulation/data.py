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

Flow bounds (each provably valid, so big-M values taken from them cut off no plan):

* sink ``k``: inflow = ``flow_k``; source ``s``: outflow = ``flow_s``;
* operation ``o``: ``F_o <= max_flow_o`` and, with the outlet at ``Cout_o``, the flow
  ``1000 L_o / (Cout_o - Cin_o)`` grows with the inlet concentration, which is at most the inlet
  limit (and at most the dirtiest stream that may feed it): ``F_o <= 1000 L_o / (Cout_o - Cin^max_o)``;
* regenerator ``r``: ``max_flow_r`` when given; otherwise the plant's process water
  ``U = sum flow_k + sum flow_s + sum F_o^max`` is imposed as its capacity (a stated modelling
  bound: more than all the process water through one regenerator can only be circulation);
* supply ``w``: ``max_flow_w`` when given, else the sum of the inflow bounds of what it may feed;
* discharge ``d``: the sum of the outflow bounds of what may feed it;
* arc ``(i, j)``: ``min(out_bound_i, in_bound_j)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx

from ..exceptions import InfeasiblePlantError, PlantDataError, UnsupportedFeatureError
from ..units import LOAD_TO_PPM


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
        Upper bound on the flow through each node (inflow for heads, outflow for tails).
    arc_bound : dict of (str, str) -> float
        Upper bound on each arc's flow, also its big-M.
    """

    graph: nx.DiGraph
    contaminants: list[str]
    edges: list[tuple[str, str]]
    in_edges: dict[str, list[tuple[str, str]]]
    out_edges: dict[str, list[tuple[str, str]]]
    out_conc: dict[tuple[str, str], float]
    throughput_bound: dict[str, float]
    arc_bound: dict[tuple[str, str], float]

    def nodes(self, kind: str) -> list[str]:
        """Node ids of one kind, in graph order."""
        return [n for n, d in self.graph.nodes(data=True) if d["kind"] == kind]


def check_supported(graph: nx.DiGraph) -> None:
    """Refuse, with a clear message, what this version cannot optimise exactly.

    Raises
    ------
    UnsupportedFeatureError
        For removal-ratio regenerators, regenerators without a fixed outlet for every
        contaminant, ``recycle: false``, and fixed-load operations in plants with several
        contaminants (all bilinear or needing the exact methods of a later version).
    """
    contaminants = graph.graph["contaminants"]
    problems = []
    for node, d in graph.nodes(data=True):
        if d["kind"] == "regenerator":
            if d["removal"]:
                problems.append(
                    f"regenerator '{node}' uses removal ratios ({', '.join(d['removal'])}); this version "
                    "optimises regenerators with a fixed outlet concentration only"
                )
            missing = [c for c in contaminants if c not in d["outlet"] and c not in d["removal"]]
            if missing:
                problems.append(
                    f"regenerator '{node}' gives no outlet concentration for {', '.join(missing)}; "
                    "pass-through is bilinear: give a fixed outlet for every contaminant"
                )
            if not d["recycle"]:
                problems.append(
                    f"regenerator '{node}' has recycle: false (regeneration reuse only); this version "
                    "supports regeneration recycle only"
                )
        if d["kind"] == "operation" and len(contaminants) > 1:
            problems.append(
                f"operation '{node}' is a fixed-load operation in a plant with {len(contaminants)} "
                "contaminants; this version optimises fixed-load operations with one contaminant only "
                "(describe it as a fixed-flow sink and source instead)"
            )
    if problems:
        head = problems[0] if len(problems) == 1 else f"{len(problems)} unsupported features: " + "; ".join(problems)
        raise UnsupportedFeatureError(head, problems=problems)


def outlet_concentrations(graph: nx.DiGraph) -> dict[tuple[str, str], float]:
    """Fixed outlet concentration of every node that feeds others (see the module notes)."""
    out: dict[tuple[str, str], float] = {}
    for node, d in graph.nodes(data=True):
        for c in graph.graph["contaminants"]:
            if d["kind"] in ("supply", "source"):
                out[node, c] = d["quality"][c]
            elif d["kind"] == "operation":
                out[node, c] = d["max_out"][c]
            elif d["kind"] == "regenerator":
                out[node, c] = d["outlet"][c]
    return out


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


def build_data(graph: nx.DiGraph) -> ModelData:
    """Precompute adjacency lists, outlet concentrations and flow bounds (see the module notes)."""
    check_connected(graph)
    contaminants = list(graph.graph["contaminants"])
    edges = list(graph.edges())
    in_edges: dict[str, list[tuple[str, str]]] = {n: [] for n in graph}
    out_edges: dict[str, list[tuple[str, str]]] = {n: [] for n in graph}
    for i, j in edges:
        out_edges[i].append((i, j))
        in_edges[j].append((i, j))
    conc = outlet_concentrations(graph)
    kinds = nx.get_node_attributes(graph, "kind")
    bound: dict[str, float] = {}
    for n, d in graph.nodes(data=True):
        if d["kind"] in ("sink", "source"):
            bound[n] = d["flow"]
        elif d["kind"] == "operation":
            bound[n] = _operation_bound(n, d, in_edges[n], conc)
    process_water = sum(v for n, v in bound.items())
    for n, d in graph.nodes(data=True):
        if d["kind"] == "regenerator":
            bound[n] = d.get("max_flow", process_water)
    for n, d in graph.nodes(data=True):
        if d["kind"] == "supply":
            feedable = sum(bound[j] for _, j in out_edges[n] if kinds[j] != "discharge")
            bound[n] = min(d.get("max_flow", math.inf), feedable)
    for n, d in graph.nodes(data=True):
        if d["kind"] == "discharge":
            bound[n] = sum(bound[i] for i, _ in in_edges[n])
    arc_bound = {(i, j): min(bound[i], bound[j]) for i, j in edges}
    return ModelData(graph, contaminants, edges, in_edges, out_edges, conc, bound, arc_bound)


def _operation_bound(node: str, d: dict, in_edges: list[tuple[str, str]], conc: dict) -> float:
    """Largest flow an operation can take: ``1000 L / (Cout - Cin_max)`` or its ``max_flow``.

    With the outlet fixed at ``Cout`` the flow is ``F = 1000 L / (Cout - Cin)``, which grows with
    the inlet concentration ``Cin``. ``Cin`` can be no higher than the inlet limit, nor than the
    dirtiest stream that may feed the unit.
    """
    cap = d.get("max_flow", math.inf)
    for c, load in d["load"].items():
        if load <= 0:
            continue
        dirtiest = max((conc[i, c] for i, _ in in_edges), default=-math.inf)
        inlet = min(d["max_in"].get(c, math.inf), dirtiest)
        margin = d["max_out"][c] - inlet
        if margin > 0:
            cap = min(cap, LOAD_TO_PPM * load / margin)
    if not math.isfinite(cap):
        raise PlantDataError(
            f"operation '{node}' has no bound on its flow: give a max_inlet below its max_outlet, "
            "or a max_flow"
        )
    return cap
