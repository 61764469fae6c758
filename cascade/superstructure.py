"""The superstructure: every pipe the plant allows, as a :class:`networkx.DiGraph`.

Node attributes (every node has ``kind``; the others only where they apply; concentrations in
ppm, flows in t/h, loads in kg/h, money as in the plant file):

==================  =========================================================================
key                 meaning
==================  =========================================================================
``kind``            'supply', 'sink', 'source', 'operation', 'regenerator' or 'discharge'
``flow``            fixed flow of a sink or source
``max_flow``        capacity of a supply, operation or regenerator (absent: none)
``quality``         outlet concentration of a supply or source, ``{c: ppm}`` for every contaminant
``max_in``          inlet limit of a sink (``max``), operation (``max_inlet``) or discharge
                    (``max``), ``{c: ppm}`` for the limited contaminants only
``max_out``         outlet limit of an operation, ``{c: ppm}`` for the limited contaminants only
``load``            contaminant pick-up of an operation, ``{c: kg/h}`` for every contaminant
``outlet``          fixed outlet concentration of a regenerator, ``{c: ppm}`` where given
``removal``         removal fraction of a regenerator, ``{c: fraction}`` where given
``price``           money per t of a supply (bought) or discharge (paid)
``water_kind``      'fresh', 'reclaimed', 'rain' or 'other' for a supply
``cost_fixed``      regenerator: annual cost if installed
``cost_per_t``      regenerator: money per t treated
``capital_a``       regenerator: capital cost ``a Q^b`` if installed (money, Q in t/h; 0: none)
``capital_b``       regenerator: the exponent ``b``
``min_flow``        regenerator: smallest flow when installed (t/h)
``recycle``         regenerator: may feed the units that feed it
``local_recycle``   operation: may feed its own inlet
``water_loss``      operation: t/h lost between inlet and outlet (negative: gained)
``unit``            process unit of a sink or source (absent: none)
``plant``           the plant of a park the unit belongs to; None for a park-level unit (and
                    for every unit of a plant file that names no plants)
==================  =========================================================================

Edge attributes: ``existing`` (bool, the pipe is in today's plant), ``existing_flow`` (t/h, 0
when not existing), ``required`` (bool, the pipe must carry flow), and the piping economics of
:func:`cascade.economics.annotate`: ``length`` (m or None), ``pipe_options`` (``(max_flow,
capital)`` per flow class of a new pipe) and ``remove_capital``.

Graph attributes: ``name``, ``contaminants``, ``units``, ``hours_per_year``, ``min_flow``,
``pipe_cost_fixed``, ``annualisation`` (capital to money per year, None without ``finance``),
``recirculation`` (t/h declared in ``indicators.recirculation``, :mod:`cascade.kpi`),
``removed_existing`` (existing pipes the superstructure does not allow, which any plan removes),
and from :func:`cascade.economics.annotate` ``remove_capital``, ``removed_capital``,
``max_new_pipes``, ``max_inlets``, ``budget`` and ``pipe_classes``. :func:`cascade.optimize`
adds ``limits`` (bounds on fresh water, cost or new pipes, for trade-off studies).

Rules (``docs/plant-format.md``): supplies, sources, operation outlets and regenerator outlets may
feed every sink, operation, regenerator and discharge, except that

* a node never feeds itself, unless it is an operation with ``local_recycle: true``;
* fresh water never goes straight to a discharge;
* pairs in ``connections.forbidden`` are never piped;
* a sink and a source of the same ``unit`` never connect.
"""

from __future__ import annotations

import networkx as nx

from .economics import annotate
from .exceptions import PlantDataError
from .plant import Plant, is_missing

TAIL_KINDS = ("supply", "source", "operation", "regenerator")
HEAD_KINDS = ("sink", "operation", "regenerator", "discharge")

_KIND = {
    "freshwater": "supply",
    "sinks": "sink",
    "sources": "source",
    "operations": "operation",
    "regenerators": "regenerator",
    "discharges": "discharge",
}


def _given(row, field: str, contaminants: list[str]) -> dict[str, float]:
    """The contaminants for which a per-contaminant field is given."""
    return {c: float(row[f"{field}:{c}"]) for c in contaminants if not is_missing(row[f"{field}:{c}"])}


def _filled(row, field: str, contaminants: list[str]) -> dict[str, float]:
    """A per-contaminant field for every contaminant, missing values read as 0."""
    return {c: 0.0 if is_missing(row[f"{field}:{c}"]) else float(row[f"{field}:{c}"]) for c in contaminants}


def _node_attributes(kind: str, row, contaminants: list[str]) -> dict:
    attrs: dict = {"kind": kind}
    if "max_flow" in row and not is_missing(row["max_flow"]):
        attrs["max_flow"] = float(row["max_flow"])
    if kind == "supply":
        attrs.update(quality=_filled(row, "quality", contaminants), price=float(row["price"]), water_kind=row["kind"])
    elif kind == "sink":
        attrs.update(flow=float(row["flow"]), max_in=_given(row, "max", contaminants))
    elif kind == "source":
        attrs.update(flow=float(row["flow"]), quality=_filled(row, "quality", contaminants))
    elif kind == "operation":
        attrs.update(
            load=_filled(row, "load", contaminants),
            max_in=_given(row, "max_inlet", contaminants),
            max_out=_given(row, "max_outlet", contaminants),
            local_recycle=bool(row["local_recycle"]),
            water_loss=float(row["water_loss"]),
        )
    elif kind == "regenerator":
        attrs.update(
            outlet=_given(row, "outlet", contaminants),
            removal=_given(row, "removal", contaminants),
            recycle=bool(row["recycle"]),
            cost_fixed=float(row["cost_fixed"]),
            cost_per_t=float(row["cost_per_t"]),
            capital_a=float(row["cost_capital_a"]),
            capital_b=float(row["cost_capital_b"]),
            min_flow=float(row["min_flow"]),
        )
    elif kind == "discharge":
        attrs.update(max_in=_given(row, "max", contaminants), price=float(row["price"]))
    if kind in ("sink", "source") and row["unit"] is not None and not is_missing(row["unit"]):
        attrs["unit"] = str(row["unit"])
    attrs["plant"] = None if is_missing(row["plant"]) else str(row["plant"])
    return attrs


def allowed(graph_or_attrs: nx.DiGraph, tail: str, head: str, forbidden: set[tuple[str, str]]) -> bool:
    """Whether the superstructure rules allow a pipe ``tail -> head`` (see the module notes)."""
    t = graph_or_attrs.nodes[tail]
    h = graph_or_attrs.nodes[head]
    if t["kind"] not in TAIL_KINDS or h["kind"] not in HEAD_KINDS:
        return False
    if tail == head and not (t["kind"] == "operation" and t["local_recycle"]):
        return False
    if t["kind"] == "supply" and h["kind"] == "discharge":
        return False
    if (tail, head) in forbidden:
        return False
    unit_t, unit_h = t.get("unit"), h.get("unit")
    return not (unit_t is not None and unit_t == unit_h and {t["kind"], h["kind"]} == {"sink", "source"})


def build_superstructure(plant: Plant) -> nx.DiGraph:
    """Build the graph of every pipe the plant allows.

    Parameters
    ----------
    plant : Plant
        Not modified.

    Returns
    -------
    networkx.DiGraph
        Nodes are unit ids, edges allowed pipes; attributes as in the module docstring.

    Examples
    --------
    >>> import cascade
    >>> g = cascade.build_superstructure(cascade.examples.wang_smith())
    >>> g.nodes["OP3"]["max_out"], g.has_edge("FW", "WW"), g.has_edge("OP1", "OP1")
    ({'C': 800.0}, False, False)
    """
    contaminants = list(plant.contaminants)
    graph = nx.DiGraph(
        name=plant.name,
        contaminants=contaminants,
        units=dict(plant.units),
        hours_per_year=plant.hours_per_year,
        min_flow=plant.min_flow,
        pipe_cost_fixed=plant.pipe_cost_fixed,
        annualisation=plant.annualisation(),
        recirculation=plant.recirculation(),
    )
    for table, kind in _KIND.items():
        for unit_id, row in plant.table(table).iterrows():
            graph.add_node(unit_id, **_node_attributes(kind, row, contaminants))
    forbidden = set(plant.forbidden)
    tails = [n for n, d in graph.nodes(data=True) if d["kind"] in TAIL_KINDS]
    heads = [n for n, d in graph.nodes(data=True) if d["kind"] in HEAD_KINDS]
    graph.add_edges_from(
        (t, h, {"existing": False, "existing_flow": 0.0, "required": False})
         for t in tails for h in heads if allowed(graph, t, h, forbidden)
    )
    removed = []
    for tail, head, flow in plant.existing:
        if graph.has_edge(tail, head):
            graph.edges[tail, head].update(existing=True, existing_flow=float(flow))
        else:
            removed.append((tail, head, float(flow)))
    for tail, head in plant.required:
        if not graph.has_edge(tail, head):
            raise PlantDataError(
                f"connections.required [{tail}, {head}]: the superstructure rules never allow this pipe "
                "(no self-feed, no fresh water to a discharge, no sink/source pair of one unit)"
            )
        graph.edges[tail, head]["required"] = True
    graph.graph["removed_existing"] = removed
    missing = annotate(graph, plant.piping, plant.layout)
    if missing:
        shown = ", ".join(f"{a} -> {b}" for a, b in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5
                                                                      else "")
        raise PlantDataError(
            f"pipes are priced per metre but {len(missing)} candidate pipe(s) have no length: {shown}; give "
            "layout.coordinates for both ends or layout.distances for these pairs (between plants of a park: "
            "layout.plants gates or layout.plant_distances), or forbid the pipes"
        )
    return graph


def pipe_minimum(graph: nx.DiGraph, tail: str, head: str) -> float:
    """Smallest flow (t/h) a used pipe ``tail -> head`` must carry.

    The plant's ``min_flow``, but never more than a fixed stream at either end: a 0.5 t/h source
    may still be piped whole when ``min_flow`` is 1 t/h (the pipe then carries all of it).
    """
    minimum = graph.graph.get("min_flow", 0.0)
    for node in (tail, head):
        d = graph.nodes[node]
        if d["kind"] in ("sink", "source"):
            minimum = min(minimum, d["flow"])
    return minimum
