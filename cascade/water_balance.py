"""The results of a water balance test in the forms the standards use.

* :func:`balance_table`: the water balance table of GB/T 12452 (水平衡测试通则), one row per
  water-using unit and one for the plant, in its symbols: intake ``V_f`` (取水量), reused water
  ``V_r`` (重复利用水量), total use ``V_t = V_f + V_r`` (用水量), consumption ``V_co`` (耗水量),
  discharge ``V_d`` (排水量) and loss ``V_l`` (漏失水量). For every row the balance
  ``V_t = V_co + V_d + V_out + V_l`` closes, ``V_out`` being water the unit passes on for reuse;
  for the plant ``V_f + V_m = V_co + V_d + V_l``, ``V_m`` the water sources without an inlet bring
  in (with raw materials). The digest's verification level for this form is S (GB/T 12452-2008
  section 3.2 as reproduced); the 2022 text was not read.
* :func:`coverage`: the metered share of water per metering level of GB/T 24789-2022 (水计量率),
  against the Yangling 2025 plan's requirement of 100 % at levels 1 and 2 (杨管工发〔2025〕13号).
  The standard's own table of required rates was not available (digest level U), so level 3 has
  no requirement here.
* :func:`indicators`: the indicators of :func:`cascade.kpi.plant_indicators` on the reconciled
  flows (only when every pipe is observable: an indicator is never computed from a guess).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .check import node_concentrations
from .kpi import plant_indicators

if TYPE_CHECKING:  # pragma: no cover
    from .reconcile import Reconciliation

#: Columns of :func:`balance_table` and their GB/T 12452 names.
BALANCE_COLUMNS: dict[str, str] = {
    "intake": "取水量 V_f",
    "reused_in": "重复利用水量 V_r",
    "total_use": "用水量 V_t",
    "consumption": "耗水量 V_co",
    "discharge": "排水量 V_d",
    "reused_out": "供他用水量",
    "loss": "漏失水量 V_l",
    "closure": "平衡差",
}

#: Metering coverage required per level (fraction), with its source; None: no requirement known.
COVERAGE_REQUIRED: dict[int, tuple[float | None, str]] = {
    1: (1.0, "Yangling 2025 plan (杨管工发〔2025〕13号): level-1 metering 100 %"),
    2: (1.0, "Yangling 2025 plan (杨管工发〔2025〕13号): level-2 metering 100 %"),
    3: (None, "GB/T 24789-2022's rates were not available (digest level U)"),
}


def _groups(rec: Reconciliation) -> dict[str, list[str]]:
    """Water-using units: a process unit's sinks and sources together, every other node alone."""
    graph = rec.graph
    groups: dict[str, list[str]] = {}
    for n, data in graph.nodes(data=True):
        if data["kind"] in ("supply", "discharge"):
            continue
        key = data.get("unit") if data["kind"] in ("sink", "source") and data.get("unit") is not None else n
        groups.setdefault(key, []).append(n)
    return groups


def _sum(values: list[float]) -> float:
    """Sum that stays NaN when any term is not known."""
    return float(np.sum(values)) if values else 0.0


def balance_table(rec: Reconciliation) -> pd.DataFrame:
    """The GB/T 12452 water balance table of a reconciled test (t/h; NaN where not observable).

    Returns
    -------
    pandas.DataFrame
        Index: each water-using unit (process units by their ``unit`` name), each supply with a
        distribution loss, and ``plant``; columns ``intake``, ``reused_in``, ``total_use``,
        ``consumption``, ``discharge``, ``reused_out``, ``loss`` and ``closure``
        (:data:`BALANCE_COLUMNS` holds their Chinese names). The ``plant`` row's ``reused_in``
        includes the declared recirculation (``indicators.recirculation``), which no meter here
        measures. ``attrs['materials']`` holds ``V_m``, water brought in by sources without inlets.
    """
    graph = rec.graph
    kind = {n: d["kind"] for n, d in graph.nodes(data=True)}
    flow = {(a, b): q for a, b, q in zip(rec.flows["from"], rec.flows["to"], rec.flows["flow"], strict=True)}
    units = rec.units.set_index("unit")
    consumption = rec.consumption.set_index("unit")["consumption"].to_dict()
    rows: dict[str, dict[str, float]] = {}
    materials = []
    for name, members in _groups(rec).items():
        inside = set(members)
        into = [(a, b) for (a, b) in flow if b in inside and a not in inside]
        out = [(a, b) for (a, b) in flow if a in inside and b not in inside]
        user_in = [e for e in into if kind[e[1]] in ("sink", "operation", "regenerator")]
        row = {
            "intake": _sum([flow[e] for e in user_in if kind[e[0]] == "supply"]),
            "reused_in": _sum([flow[e] for e in user_in if kind[e[0]] != "supply"]),
            "discharge": _sum([flow[e] for e in out if kind[e[1]] == "discharge"]),
            "reused_out": _sum([flow[e] for e in out if kind[e[1]] != "discharge"]),
            "loss": _sum([units.at[n, "leak"] for n in members]),
        }
        sinks = [n for n in members if kind[n] == "sink"]
        sources = [n for n in members if kind[n] == "source"]
        if name in consumption:
            row["consumption"] = consumption[name]
        elif sinks:  # a unit without outlets uses up what it takes
            row["consumption"] = _sum([units.at[n, "throughput"] for n in sinks])
        elif sources:  # a source without an inlet brings water in
            row["consumption"] = 0.0
            materials.append(_sum([units.at[n, "throughput"] for n in sources]))
        else:  # an operation's declared water loss, a regenerator none
            row["consumption"] = float(graph.nodes[name].get("water_loss", 0.0) or 0.0)
        row["total_use"] = row["intake"] + row["reused_in"]
        gained = materials[-1] if sources and not sinks else 0.0
        row["closure"] = (row["total_use"] + gained - row["consumption"] - row["discharge"] - row["reused_out"]
                          - row["loss"])
        rows[name] = row
    supplies = [n for n in graph if kind[n] == "supply"]
    discharges = [n for n in graph if kind[n] == "discharge"]
    for n in [*supplies, *discharges]:
        leak = units.at[n, "leak"]
        if leak:
            rows[n] = {"intake": 0.0, "reused_in": 0.0, "total_use": 0.0, "consumption": 0.0, "discharge": 0.0,
                       "reused_out": 0.0, "loss": leak, "closure": 0.0}
    intake = _sum([units.at[n, "throughput"] for n in supplies])
    discharge = _sum([units.at[n, "throughput"] for n in discharges])
    recirculation = float(graph.graph.get("recirculation", 0.0) or 0.0)
    users = [r for name, r in rows.items() if name not in supplies and name not in discharges]
    reused = _sum([r["reused_in"] for r in users]) + recirculation
    plant_consumption = _sum([r["consumption"] for r in users])
    loss = _sum([r["loss"] for r in rows.values()])
    gained = _sum(materials)
    rows["plant"] = {
        "intake": intake, "reused_in": reused, "total_use": intake + reused, "consumption": plant_consumption,
        "discharge": discharge, "reused_out": np.nan, "loss": loss,
        "closure": intake + gained - plant_consumption - discharge - loss,
    }
    table = pd.DataFrame.from_dict(rows, orient="index")[list(BALANCE_COLUMNS)]
    table.index.name = "unit"
    table.attrs["materials"] = gained
    table.attrs["recirculation"] = recirculation
    return table


def _carrying(graph, node: str) -> list[tuple[str, str]]:
    """The pipes that carry a node's water: out of a supply, into any other node."""
    return list(graph.out_edges(node) if graph.nodes[node]["kind"] == "supply" else graph.in_edges(node))


def _metered_inflow(rec: Reconciliation, node: str, level: int, value: dict, meters: dict) -> float:
    """Flow into (or out of, for a supply) ``node`` metered by meters of ``level``."""
    at_node = [m for m in meters.get(("node", node), []) if m.level == level]
    if at_node:
        return value[("node", node)]
    return _sum([value[("pipe", a, b)] for a, b in _carrying(rec.graph, node)
                 if any(m.level == level for m in meters.get(("pipe", a, b), []))])


def coverage(rec: Reconciliation) -> pd.DataFrame:
    """Metering coverage (水计量率) per level: the metered share of the water at that level.

    Level 1 is the plant's boundary: its intake (every supply's intake) and, reported apart, its
    discharge. Levels 2 and 3 are the water used by the units (the inflow of every sink and
    operation): the plant's units stand for both its sub-units and its main equipment, and a
    meter counts at the level its ``level`` says. A flow counts as metered when a meter of the
    level reads it, at the node or on every pipe that carries it (pipes metered in part count in
    part). Flows are the reconciled ones, and the reference (today's or the plan's) where a flow
    is not observable. Only meters that gave readings are counted (a meter found biased still counts).

    Returns
    -------
    pandas.DataFrame
        Columns ``level``, ``scope``, ``total`` and ``metered`` (t/h), ``coverage`` (fraction),
        ``required`` (fraction or None), ``meets`` (bool or None), ``meters`` (meters of the level on
        that scope's flows) and ``source``
        (where the requirement comes from).
    """
    graph = rec.graph
    kind = {n: d["kind"] for n, d in graph.nodes(data=True)}
    value: dict[tuple, float] = {}
    for a, b, q, ref in zip(rec.flows["from"], rec.flows["to"], rec.flows["flow"], rec.flows["reference"],
                            strict=True):
        value[("pipe", a, b)] = q if np.isfinite(q) else ref
    for n, q, ref in zip(rec.units["unit"], rec.units["throughput"], rec.units["reference"], strict=True):
        value[("node", n)] = q if np.isfinite(q) else ref
    # installed meters that gave readings count, also one serial elimination took out as biased (it is there)
    used = set(rec.measurements.loc[rec.measurements["status"].isin(["used", "biased"]), "meter"])
    meters: dict[tuple, list[Any]] = {}
    for m in rec.meters:
        if m.is_flow and m.id in used:
            meters.setdefault(("pipe", *m.at) if m.on_pipe else ("node", m.at), []).append(m)
    scopes = [
        (1, "intake (取水)", [n for n in graph if kind[n] == "supply"]),
        (1, "discharge (排水)", [n for n in graph if kind[n] == "discharge"]),
        (2, "water used by units", [n for n in graph if kind[n] in ("sink", "operation")]),
        (3, "water used by units", [n for n in graph if kind[n] in ("sink", "operation")]),
    ]
    rows = []
    for level, scope, nodes in scopes:
        total = _sum([value[("node", n)] for n in nodes])
        metered = _sum([min(_metered_inflow(rec, n, level, value, meters), value[("node", n)]) for n in nodes])
        required, source = COVERAGE_REQUIRED[level] if not scope.startswith("discharge") else (None, "")
        share = metered / total if total > 0 else None
        places = {("node", n) for n in nodes}
        places |= {("pipe", a, b) for n in nodes for a, b in _carrying(graph, n)}
        count = sum(1 for place in places for m in meters.get(place, []) if m.level == level)
        rows.append({"level": level, "scope": scope, "total": total, "metered": metered, "coverage": share,
                     "required": required,
                     "meets": None if required is None or share is None else share >= required - 1e-9,
                     "meters": count, "source": source})
    return pd.DataFrame(rows)


def indicators(rec: Reconciliation) -> dict[str, Any] | None:
    """:func:`cascade.kpi.plant_indicators` on the reconciled flows; None unless every pipe is observable."""
    if not bool(rec.flows["observable"].all()):
        return None
    flows = rec.flow_map()
    inlet, _ = node_concentrations(rec.graph, flows)
    return plant_indicators(rec.graph, flows, inlet=inlet, data=rec.plant.indicator_data)
