r"""Piping economics and the money of a retrofit: pipe lengths, pipe and removal capital, budgets, payback, NPV.

The plant file describes where the units are and what piping costs (all optional):

.. code-block:: yaml

    layout:
      coordinates: {OP1: [0, 0], OP2: [40, 15]}   # x, y in metres
      metric: manhattan                           # manhattan (default: pipes follow racks) | euclidean
      distances: [[OP1, OP2, 55]]                 # measured pipe lengths (m), either direction; they win
      plants: {A: [0, 0], B: [400, 150]}          # park: gate of each plant (x, y in metres)
      plant_distances: [[A, B, 520]]              # park: measured gate-to-gate lengths (m); they win
    connections:
      pipe_cost:
        fixed: 0            # money/yr for each new pipe (operation, maintenance)
        capital: 20000      # money for each new pipe (connections, valves, pump share)
        per_metre: 350      # money per metre of new pipe
        classes:            # optional: by flow class (the pipe's size), replacing capital and per_metre
          - {max_flow: 10, capital: 15000, per_metre: 250}
          - {max_flow: 50, capital: 25000, per_metre: 450}
        exchange: {capital: 60000, per_metre: 900}   # optional: pipes between the plants of a park
      remove_cost: 3000     # money to remove an existing pipe the plan does not use
      max_new_pipes: 4      # at most this many new pipes
      max_inlets: 3         # at most this many pipes into any sink, operation or regenerator
      budget: 500000        # capital budget: new pipes, removals and regenerator capital (money)

**Pipe capital.** A new pipe ``e`` of length ``L_e`` in flow class ``k`` costs
``K_{ek} = capital_k + per\_metre_k L_e``; without classes there is one class with no flow limit.
A plan puts each new pipe in the cheapest class that carries its flow. An existing pipe is free
to keep; one the plan leaves dry costs ``R`` (``remove_cost``) to remove, and so does every
existing pipe the superstructure no longer allows. Capital becomes money per year through the
plant's annualisation factor ``A`` (:meth:`cascade.Plant.annualisation`), so a new pipe adds
``P + A K_{ek}`` a year to the cost objective (``P`` the annual ``fixed``).

**Pipes between the plants of a park.** Every unit may name the ``plant`` of a park it belongs to
(:mod:`cascade.park`); a unit that names none belongs to the park itself (a shared supply,
regenerator or discharge). A pipe whose two ends belong to different owners (two plants, or a plant
and the park) is an *exchange pipe*. Its length ``L_e`` is a measured ``layout.distances`` entry of
its two units if there is one, else the distance between the two *sites*: a plant's site is its gate
(``layout.plants``), a park-level unit's site is the unit itself (``layout.coordinates``);
``layout.plant_distances`` (measured, between plant ids or park-level unit ids) wins over the
coordinates. Unit coordinates inside a plant are never used for an exchange pipe (each plant may
have its own frame), so the legs from gate to unit are part of the pipe's fixed capital. With
``pipe_cost.exchange`` an exchange pipe costs ``K_e = capital_x + per\_metre_x L_e`` (one class,
no flow limit); without it, the plant-wide classes apply as to any pipe.

**The money of a plan** (:func:`plan_economics`): the capital spent (pipes, removals,
regenerators ``a Q^b``), the annual operating saving ``S`` against the baseline (water,
discharge and treatment costs, and the annual pipe costs ``P``), the simple payback
``capital / S`` in years and the net present value over the finance lifetime ``n`` at interest
``i``:

.. math::

    NPV = -\text{capital} + S \sum_{t=1}^{n} (1 + i)^{-t} = -\text{capital} + S / A

(with ``A`` the capital recovery factor; a plant that gives ``annualisation_factor`` directly
uses it the same way).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import networkx as nx

#: Keys of ``connections`` read by this module (besides ``pipe_cost.fixed``).
PIPING_KEYS = ("remove_cost", "max_new_pipes", "max_inlets", "budget")
#: Keys of ``connections.pipe_cost``.
PIPE_COST_KEYS = ("fixed", "capital", "per_metre", "classes", "exchange")
#: Keys of ``connections.pipe_cost.exchange`` (pipes between the plants of a park).
EXCHANGE_KEYS = ("capital", "per_metre")
#: Keys of one flow class.
CLASS_KEYS = ("max_flow", "capital", "per_metre")
#: Keys of ``layout``.
LAYOUT_KEYS = ("coordinates", "metric", "distances", "plants", "plant_distances")
METRICS = ("manhattan", "euclidean")
#: Graph attributes of :func:`annotate` that limit a design (None: no limit).
DESIGN_KEYS = ("budget", "max_new_pipes", "max_inlets")


def pipe_classes(piping: Mapping[str, Any]) -> list[dict[str, float]]:
    """The flow classes of new pipes, smallest first: ``{max_flow (t/h), capital, per_metre}``.

    Without ``classes`` there is one class with no flow limit (``max_flow`` infinite).

    Examples
    --------
    >>> pipe_classes({"capital": 100.0, "per_metre": 2.0})
    [{'max_flow': inf, 'capital': 100.0, 'per_metre': 2.0}]
    """
    classes = piping.get("classes")
    if not classes:
        return [{"max_flow": math.inf, "capital": float(piping.get("capital", 0.0)),
                 "per_metre": float(piping.get("per_metre", 0.0))}]
    return sorted(
        ({"max_flow": float(c.get("max_flow", math.inf)), "capital": float(c.get("capital", 0.0)),
          "per_metre": float(c.get("per_metre", 0.0))} for c in classes),
        key=lambda c: c["max_flow"],
    )


def needs_length(piping: Mapping[str, Any]) -> bool:
    """Whether new pipes inside a plant are priced per metre, so every such candidate pipe needs a length."""
    return any(c["per_metre"] > 0 for c in pipe_classes(piping))


def exchange_classes(piping: Mapping[str, Any]) -> list[dict[str, float]]:
    """The flow classes of a pipe between plants: ``pipe_cost.exchange`` as one class, else :func:`pipe_classes`.

    Examples
    --------
    >>> exchange_classes({"capital": 100.0, "exchange": {"per_metre": 9.0}})
    [{'max_flow': inf, 'capital': 0.0, 'per_metre': 9.0}]
    >>> exchange_classes({"capital": 100.0}) == pipe_classes({"capital": 100.0})
    True
    """
    exchange = piping.get("exchange")
    if exchange is None:
        return pipe_classes(piping)
    return [{"max_flow": math.inf, "capital": float(exchange.get("capital", 0.0)),
             "per_metre": float(exchange.get("per_metre", 0.0))}]


def is_exchange(graph: nx.DiGraph, tail: str, head: str) -> bool:
    """Whether a pipe joins units of different owners (two plants of a park, or a plant and the park)."""
    return graph.nodes[tail].get("plant") != graph.nodes[head].get("plant")


def exchange_length(
    layout: Mapping[str, Any], tail: str, head: str, tail_plant: str | None, head_plant: str | None,
) -> float | None:
    """Length (m) of a pipe between two owners: measured, else between their sites (see the module notes).

    A plant's site is its gate (``layout.plants``); a park-level unit (``plant`` None) is its own
    site (``layout.coordinates``). Order: ``layout.distances`` of the two units, then
    ``layout.plant_distances`` of the two sites, then the metric between the sites' coordinates.

    Examples
    --------
    >>> layout = {"plants": {"A": (0, 0), "B": (300, 400)}, "coordinates": {"RW": (0, 100)},
    ...           "plant_distances": [("B", "RW", 650.0)]}
    >>> exchange_length(layout, "A/s", "B/d", "A", "B"), exchange_length(layout, "RW", "A/d", None, "A")
    (700.0, 100.0)
    >>> exchange_length(layout, "RW", "B/d", None, "B"), exchange_length(layout, "A/s", "C/d", "A", "C")
    (650.0, None)
    """
    for a, b, length in layout.get("distances", ()):
        if {a, b} == {tail, head}:
            return float(length)
    sites = {tail if tail_plant is None else tail_plant, head if head_plant is None else head_plant}
    for a, b, length in layout.get("plant_distances", ()):
        if {a, b} == sites:
            return float(length)
    places = [
        layout.get("coordinates", {}).get(unit) if owner is None else layout.get("plants", {}).get(owner)
        for unit, owner in ((tail, tail_plant), (head, head_plant))
    ]
    if places[0] is None or places[1] is None:
        return None
    return _distance(places[0], places[1], layout.get("metric", "manhattan"))


def _distance(one: tuple[float, float], two: tuple[float, float], metric: str) -> float:
    """Manhattan (default) or euclidean distance between two points (m)."""
    (x1, y1), (x2, y2) = one, two
    if metric == "euclidean":
        return float(math.hypot(x2 - x1, y2 - y1))
    return float(abs(x2 - x1) + abs(y2 - y1))


def pipe_length(layout: Mapping[str, Any], tail: str, head: str) -> float | None:
    """Length (m) of a pipe between two units: a measured distance, else from coordinates, else None.

    Examples
    --------
    >>> layout = {"coordinates": {"A": (0, 0), "B": (30, 40)}, "distances": [("A", "C", 12.0)]}
    >>> pipe_length(layout, "A", "B"), pipe_length({**layout, "metric": "euclidean"}, "B", "A")
    (70.0, 50.0)
    >>> pipe_length(layout, "C", "A"), pipe_length(layout, "B", "C")
    (12.0, None)
    """
    for a, b, length in layout.get("distances", ()):
        if {a, b} == {tail, head}:
            return float(length)
    coordinates = layout.get("coordinates", {})
    if tail not in coordinates or head not in coordinates:
        return None
    return _distance(coordinates[tail], coordinates[head], layout.get("metric", "manhattan"))


def annotate(graph: nx.DiGraph, piping: Mapping[str, Any], layout: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Put the piping economics on a superstructure (in place); return the pipes that lack a length.

    Edge attributes: ``length`` (m, None when unknown), ``pipe_options`` (list of ``(max_flow,
    capital)``, one per flow class, for a new pipe), ``remove_capital`` (money, existing pipes) and
    ``exchange`` (the pipe joins two owners of a park, :func:`is_exchange`; priced by
    :func:`exchange_classes` over :func:`exchange_length`).
    Graph attributes: ``remove_capital`` (removing one existing pipe), ``removed_capital`` (the
    existing pipes every plan must remove), ``max_new_pipes``, ``max_inlets``, ``budget`` (None:
    no limit), ``pipe_classes`` (most classes of any pipe).
    """
    inside, between = pipe_classes(piping), exchange_classes(piping)
    remove = float(piping.get("remove_cost", 0.0))
    missing = []
    for tail, head, d in graph.edges(data=True):
        exchange = is_exchange(graph, tail, head)
        if exchange:
            owners = graph.nodes[tail].get("plant"), graph.nodes[head].get("plant")
            classes, length = between, exchange_length(layout, tail, head, *owners)
        else:
            classes, length = inside, pipe_length(layout, tail, head)
        d["length"] = length
        d["exchange"] = exchange
        if length is None and not d["existing"] and any(c["per_metre"] > 0 for c in classes):
            missing.append((tail, head))
        metres = length or 0.0
        d["pipe_options"] = [(c["max_flow"], c["capital"] + c["per_metre"] * metres) for c in classes]
        d["remove_capital"] = remove if d["existing"] else 0.0
    graph.graph.update(
        remove_capital=remove,
        removed_capital=remove * len(graph.graph.get("removed_existing", [])),
        max_new_pipes=piping.get("max_new_pipes"),
        max_inlets=piping.get("max_inlets"),
        budget=piping.get("budget"),
        pipe_classes=max((len(d["pipe_options"]) for _, _, d in graph.edges(data=True)), default=len(inside)),
    )
    return missing


def pipe_capital(graph: nx.DiGraph, tail: str, head: str, flow: float) -> float:
    """Capital of a new pipe carrying ``flow`` (t/h): the cheapest class that carries it."""
    options = graph.edges[tail, head].get("pipe_options") or [(math.inf, 0.0)]
    fitting = [capital for limit, capital in options if flow <= limit * (1 + 1e-9)]
    return min(fitting) if fitting else math.inf


def capital_spend(
    graph: nx.DiGraph, flows: Mapping[tuple[str, str], float], new_pipes: Iterable[tuple[str, str]] | None = None,
) -> dict[str, float]:
    """Capital (money) a network needs against today's plant: new pipes, removals, regenerators.

    ``new_pipes`` defaults to the used pipes that are not existing; existing pipes that carry no
    flow are removed (and so are those the superstructure does not allow).
    """
    new = list(new_pipes) if new_pipes is not None else [e for e in flows if not graph.edges[e]["existing"]]
    pipes = sum(pipe_capital(graph, i, j, flows.get((i, j), 0.0)) for i, j in new)
    removals = graph.graph.get("removed_capital", 0.0) + sum(
        d.get("remove_capital", 0.0) for i, j, d in graph.edges(data=True) if d["existing"] and (i, j) not in flows
    )
    treated: dict[str, float] = {}
    for (_, j), f in flows.items():
        if graph.nodes[j]["kind"] == "regenerator":
            treated[j] = treated.get(j, 0.0) + f
    regenerators = sum(
        graph.nodes[r]["capital_a"] * q ** graph.nodes[r]["capital_b"]
        for r, q in treated.items() if q > 0 and graph.nodes[r].get("capital_a", 0.0) > 0
    )
    return {"pipes": pipes, "removals": removals, "regenerators": regenerators,
            "total": pipes + removals + regenerators}


def plan_economics(
    graph: nx.DiGraph, capital: Mapping[str, float], costs: Mapping[str, float], baseline_costs: Mapping[str, float],
    finance: Mapping[str, float],
) -> dict[str, Any]:
    """Capital, annual operating saving, payback (years) and NPV of a plan (see the module notes).

    ``costs`` and ``baseline_costs`` come from :func:`cascade.kpi.annual_costs`; the operating
    saving leaves out their annualised capital, which is what the payback pays back.
    """
    def operating(c: Mapping[str, float]) -> float:
        return c["total"] - c.get("capital", 0.0) - c.get("pipe_capital", 0.0)

    saving = operating(baseline_costs) - operating(costs)
    total = capital["total"]
    factor = graph.graph.get("annualisation")
    payback = 0.0 if total <= 0 else (total / saving if saving > 0 else None)
    npv = None if not factor else -total + saving / factor
    out: dict[str, Any] = {
        "capital": dict(capital),
        "budget": graph.graph.get("budget"),
        "operating_saving_per_year": saving,
        "payback_years": payback,
        "npv": npv,
    }
    if "lifetime" in finance:
        out["lifetime"] = finance["lifetime"]
    if "interest_rate" in finance:
        out["interest_rate"] = finance["interest_rate"]
    return out


__all__ = [
    "annotate", "capital_spend", "exchange_classes", "exchange_length", "is_exchange", "needs_length",
    "pipe_capital", "pipe_classes", "pipe_length", "plan_economics",
]
