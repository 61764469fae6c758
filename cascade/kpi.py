"""Water indicators and annual costs of a network, as pure functions of its flows.

Flows are a mapping ``{(tail, head): t/h}`` on the superstructure ``graph``. Definitions:

* **fresh water intake** ``Q_f``: total outflow of all supplies (取水量), t/h;
* **wastewater** ``Q_d``: total inflow of all discharges, t/h;
* **regenerated water**: total flow through regenerators, t/h;
* **reused water** ``Q_r``: water entering a water user (sink or operation) from anything but a
  supply: another user's outlet, a source or a regenerator (series, cascade and regenerated
  reuse; 重复利用水量). Flows into regenerators are not counted, so regenerated water is counted
  once, where it is used;
* **reuse rate** ``Q_r / (Q_r + Q_f)`` (重复利用率, GB/T 7119 / GB/T 12452 form: reused over reused
  plus intake), with ``Q_f`` the intake of all supplies;
* **non-conventional share**: intake of supplies of kind reclaimed, rain or other over all intake.

Annual costs (money/yr) with ``H`` hours per year: supplies ``H sum p_w Q_w``, discharges
``H sum p_d Q_d``, regeneration ``H sum c_r Q_r`` plus the fixed cost of every regenerator that
treats water, the annualised capital cost ``A a Q^b`` of every regenerator with a capital cost
(``A`` the plant's annualisation factor, ``Q`` its flow in t/h), the annual cost of every
new pipe (a used pipe not in today's plant) and the annualised capital of new pipes and of
removing existing ones (:mod:`cascade.economics`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import networkx as nx

from .economics import capital_spend

Flows = Mapping[tuple[str, str], float]

#: Flows below this (t/h) are read as zero in a plan: they are solver round-off, not pipes.
ZERO_FLOW = 1e-7

_USERS = ("sink", "operation")
_NON_CONVENTIONAL = ("reclaimed", "rain", "other")


def _kind(graph: nx.DiGraph, node: str) -> str:
    return graph.nodes[node]["kind"]


def freshwater(graph: nx.DiGraph, flows: Flows) -> float:
    """Total intake of all supplies (t/h)."""
    return sum(f for (i, _), f in flows.items() if _kind(graph, i) == "supply")


def wastewater(graph: nx.DiGraph, flows: Flows) -> float:
    """Total flow into all discharges (t/h)."""
    return sum(f for (_, j), f in flows.items() if _kind(graph, j) == "discharge")


def regenerated(graph: nx.DiGraph, flows: Flows) -> float:
    """Total flow through all regenerators (t/h)."""
    return sum(f for (_, j), f in flows.items() if _kind(graph, j) == "regenerator")


def reused(graph: nx.DiGraph, flows: Flows) -> float:
    """Water entering sinks and operations from anything but a supply (t/h)."""
    return sum(
        f for (i, j), f in flows.items() if _kind(graph, j) in _USERS and _kind(graph, i) != "supply"
    )


def reuse_rate(graph: nx.DiGraph, flows: Flows) -> float:
    """Reused over reused plus intake, ``Q_r / (Q_r + Q_f)`` (0 when no water is used)."""
    r, f = reused(graph, flows), freshwater(graph, flows)
    return r / (r + f) if r + f > 0 else 0.0


def nonconventional_share(graph: nx.DiGraph, flows: Flows) -> float:
    """Intake from reclaimed, rain and other supplies over all intake (0 with no intake)."""
    total = freshwater(graph, flows)
    other = sum(
        f
        for (i, _), f in flows.items()
        if _kind(graph, i) == "supply" and graph.nodes[i].get("water_kind", "fresh") in _NON_CONVENTIONAL
    )
    return other / total if total > 0 else 0.0


def indicators(graph: nx.DiGraph, flows: Flows) -> dict[str, float]:
    """All flow indicators of a network (t/h and fractions), as a dict."""
    return {
        "freshwater": freshwater(graph, flows),
        "wastewater": wastewater(graph, flows),
        "regenerated": regenerated(graph, flows),
        "reused": reused(graph, flows),
        "reuse_rate": reuse_rate(graph, flows),
        "nonconventional_share": nonconventional_share(graph, flows),
    }


def objective_value(graph: nx.DiGraph, objective: str, flows: Flows) -> float:
    """The true objective of a network: fresh water (t/h), or its total annual cost with every used
    pipe that does not exist today counted as new (concave capital costs exactly, not interpolated)."""
    if objective == "freshwater":
        return freshwater(graph, flows)
    new = [e for e in flows if not graph.edges[e].get("existing", False)]
    if objective == "new_pipes":
        return float(len(new))
    return annual_costs(graph, flows, new)["total"]


def annual_costs(graph: nx.DiGraph, flows: Flows, new_pipes: Iterable[tuple[str, str]] = ()) -> dict[str, float]:
    """Annual costs of a network (money/yr), by item and in total.

    Parameters
    ----------
    graph : networkx.DiGraph
    flows : mapping of (tail, head) -> t/h
    new_pipes : iterable of (tail, head)
        Used pipes that do not exist today; each costs the plant's ``pipe_cost_fixed`` a year and
        its capital (by length and flow class) annualised, under ``pipe_capital`` with the
        removal of existing pipes the network leaves dry (:func:`cascade.economics.capital_spend`).
    """
    hours = graph.graph["hours_per_year"]
    water = sum(f * graph.nodes[i]["price"] for (i, _), f in flows.items() if _kind(graph, i) == "supply")
    discharge = sum(f * graph.nodes[j]["price"] for (_, j), f in flows.items() if _kind(graph, j) == "discharge")
    treated: dict[str, float] = {}
    for (_, j), f in flows.items():
        if _kind(graph, j) == "regenerator":
            treated[j] = treated.get(j, 0.0) + f
    regen_variable = sum(q * graph.nodes[r]["cost_per_t"] for r, q in treated.items())
    regen_fixed = sum(graph.nodes[r]["cost_fixed"] for r, q in treated.items() if q > 0)
    new = list(new_pipes)
    factor = graph.graph.get("annualisation") or 0.0
    spend = capital_spend(graph, flows, new)
    pipes = graph.graph["pipe_cost_fixed"] * len(new)
    costs = {
        "freshwater": hours * water,
        "discharge": hours * discharge,
        "regeneration": hours * regen_variable + regen_fixed,
        "capital": factor * spend["regenerators"],
        "pipes": pipes,
        "pipe_capital": factor * (spend["pipes"] + spend["removals"]),
    }
    costs["total"] = sum(costs.values())
    return costs
