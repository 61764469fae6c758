"""Explanations a plant engineer can act on: which limits bind, which contaminant limits each unit,
and where regenerated water goes.

All functions are pure: they read the superstructure (the plant's data) and a network's flows,
with the concentrations recomputed by the independent check (:func:`cascade.check.check_flows`).

* :func:`limits_table` - every limit of every unit that carries water: the value reached, the
  limit, its use (value / limit) and whether it binds (within ``BINDING`` of the limit);
* :func:`limiting_contaminants` - per unit, the contaminant whose inlet limit is most used: the
  one to treat or to relax first;
* :func:`regeneration_destinations` - per regenerator, the water sent back to its own feeders
  (regeneration recycle: a unit from which the regenerator can be reached along pipes that
  carry water), to other units (regeneration reuse) and to discharge.
"""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx
import pandas as pd

#: A limit binds when the value is within this relative distance of it.
BINDING = 1e-6

LIMIT_COLUMNS = ["unit", "kind", "where", "contaminant", "value", "limit", "use", "binding"]


def _row(unit: str, kind: str, where: str, contaminant: str | None, value: float, limit: float) -> dict:
    binding = value >= limit - BINDING * max(abs(limit), 1.0)
    use = value / limit if limit > 0 else (1.0 if binding and value <= BINDING else float("inf"))
    return {"unit": unit, "kind": kind, "where": where, "contaminant": contaminant, "value": value,
            "limit": limit, "use": use, "binding": bool(binding)}


def limits_table(graph: nx.DiGraph, inlet: pd.DataFrame, outlet: pd.DataFrame, throughput: pd.Series) -> pd.DataFrame:
    """Every concentration limit and capacity of the units that carry water, with its use.

    Parameters
    ----------
    graph : networkx.DiGraph
        The superstructure.
    inlet, outlet : pandas.DataFrame
        Recomputed concentrations (ppm), nodes x contaminants (``CheckResult.inlet`` / ``.outlet``).
    throughput : pandas.Series
        Water through every node, t/h (``CheckResult.throughput``).

    Returns
    -------
    pandas.DataFrame
        Columns ``unit``, ``kind``, ``where`` ('inlet', 'outlet' or 'flow'), ``contaminant`` (None
        for a capacity), ``value``, ``limit`` (ppm or t/h), ``use`` (value / limit; 1 for a zero limit
        met exactly) and ``binding``.
    """
    rows = []
    for n, d in graph.nodes(data=True):
        if throughput.get(n, 0.0) <= 0:
            continue
        for c, limit in d.get("max_in", {}).items():
            rows.append(_row(n, d["kind"], "inlet", c, float(inlet.loc[n, c]), limit))
        if d["kind"] == "operation":
            for c, limit in d.get("max_out", {}).items():
                rows.append(_row(n, d["kind"], "outlet", c, float(outlet.loc[n, c]), limit))
        if "max_flow" in d:
            rows.append(_row(n, d["kind"], "flow", None, float(throughput[n]), d["max_flow"]))
    return pd.DataFrame(rows, columns=LIMIT_COLUMNS)


def limiting_contaminants(limits: pd.DataFrame) -> pd.Series:
    """Per unit with inlet limits, the contaminant whose inlet limit is most used.

    Examples
    --------
    >>> table = pd.DataFrame({"unit": ["D", "D"], "where": ["inlet", "inlet"], "contaminant": ["COD", "SS"],
    ...                       "use": [0.4, 1.0]})
    >>> limiting_contaminants(table).to_dict()
    {'D': 'SS'}
    """
    inlets = limits[limits["where"] == "inlet"]
    if inlets.empty:
        return pd.Series(dtype=object, name="limiting")
    worst = inlets.loc[inlets.groupby("unit", sort=False)["use"].idxmax()]
    return pd.Series(worst["contaminant"].to_numpy(), index=worst["unit"].to_numpy(), name="limiting")


def regeneration_destinations(graph: nx.DiGraph, flows: Mapping[tuple[str, str], float]) -> pd.DataFrame:
    """Where each regenerator's water goes: ``flow``, ``recycled``, ``reused``, ``to_discharge`` (t/h).

    ``recycled`` goes to units that feed the regenerator, directly or through other units
    (regeneration recycle); ``reused`` to any other unit or regenerator (regeneration reuse).
    """
    used = nx.DiGraph((i, j) for (i, j), f in flows.items() if f > 0)
    rows = {}
    for r, d in graph.nodes(data=True):
        if d["kind"] != "regenerator":
            continue
        feeders = nx.ancestors(used, r) if r in used else set()
        out = [(j, f) for (i, j), f in flows.items() if i == r and f > 0]
        discharged = sum(f for j, f in out if graph.nodes[j]["kind"] == "discharge")
        recycled = sum(f for j, f in out if j in feeders)
        total = sum(f for _, f in out)
        rows[r] = {"flow": total, "recycled": recycled, "reused": total - discharged - recycled,
                   "to_discharge": discharged}
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=["flow", "recycled", "reused", "to_discharge"])
    frame.index.name = "regenerator"
    return frame


__all__ = ["limits_table", "limiting_contaminants", "regeneration_destinations", "BINDING"]
