"""Water indicators and annual costs of a network, as pure functions of its flows.

Flows are a mapping ``{(tail, head): t/h}`` on the superstructure ``graph``. The water quantities
follow the symbols of GB/T 12452 (水平衡测试通则; the 2008 text's section 3.2 as reproduced in the
project's standards digest, verification level S):

* **intake** ``V_f`` (取水量, 新水量): total outflow of all supplies, :func:`freshwater`. Every
  supply counts, reclaimed municipal water and rain included: GB/T 18820 counts water bought
  from outside (tap water, reclaimed water, steam) as intake;
* **reused water** ``V_r`` (重复利用水量): water entering a water user (sink or operation) from
  anything but a supply, :func:`reused`. It is the sum of series and cascade use (串联用水,
  一水多用: another unit's outlet or a wastewater source), local recycle (循环用水: an
  operation's outlet back to its own inlet), regenerated water (回用: out of a regenerator) and
  the plant's declared **recirculation**, water circulated inside units the network does not
  draw (a cooling-tower loop; ``indicators.recirculation`` in the plant file, the graph's
  ``recirculation`` attribute in t/h). Flows into regenerators are not counted, so regenerated
  water counts once, where it is used;
* **total use** ``V_t = V_f + V_r`` (用水量);
* **wastewater** ``V_d`` (排水量): total inflow of all discharges, :func:`wastewater`;
* **consumption and loss** ``V_co + V_l = V_f - V_d`` (耗水量 and 漏失水量 together: the plant-level
  balance ``V_f = V_co + V_d + V_l``; the network cannot tell evaporation from leaks).

The indicators built on them are each a function below, with its formula and the standard it
follows: :func:`reuse_rate`, :func:`nonconventional_share`, :func:`reclaimed_share`,
:func:`unit_product_intake`, :func:`water_per_value_added`, :func:`wue` and
:func:`compliant_discharge_share`; :func:`plant_indicators` computes all of them for one network,
and :data:`INDICATORS` describes each one (label, unit, formula, basis) for reports.

Annual costs (money/yr) with ``H`` hours per year: supplies ``H sum p_w Q_w``, discharges
``H sum p_d Q_d``, regeneration ``H sum c_r Q_r`` plus the fixed cost of every regenerator that
treats water, the annualised capital cost ``A a Q^b`` of every regenerator with a capital cost
(``A`` the plant's annualisation factor, ``Q`` its flow in t/h), the annual cost of every
new pipe (a used pipe not in today's plant) and the annualised capital of new pipes and of
removing existing ones (:mod:`cascade.economics`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx
import pandas as pd

from .economics import capital_spend

Flows = Mapping[tuple[str, str], float]

#: Flows below this (t/h) are read as zero in a plan: they are solver round-off, not pipes.
ZERO_FLOW = 1e-7
#: Relative tolerance of a discharge limit in :func:`compliant_discharge_share` (as the check's).
COMPLIANCE_TOLERANCE = 1e-6

_USERS = ("sink", "operation")
_NON_CONVENTIONAL = ("reclaimed", "rain", "other")
_KINDS = ("fresh", "reclaimed", "rain", "other")


def _kind(graph: nx.DiGraph, node: str) -> str:
    return graph.nodes[node]["kind"]


def freshwater(graph: nx.DiGraph, flows: Flows) -> float:
    """Intake ``V_f`` (取水量): total outflow of all supplies (t/h)."""
    return sum(f for (i, _), f in flows.items() if _kind(graph, i) == "supply")


def intake_by_kind(graph: nx.DiGraph, flows: Flows) -> dict[str, float]:
    """Intake by kind of supply (fresh, reclaimed, rain, other), t/h."""
    out = dict.fromkeys(_KINDS, 0.0)
    for (i, _), f in flows.items():
        if _kind(graph, i) == "supply":
            out[graph.nodes[i].get("water_kind", "fresh")] += f
    return out


def wastewater(graph: nx.DiGraph, flows: Flows) -> float:
    """Wastewater ``V_d`` (排水量): total flow into all discharges (t/h)."""
    return sum(f for (_, j), f in flows.items() if _kind(graph, j) == "discharge")


def regenerated(graph: nx.DiGraph, flows: Flows) -> float:
    """Total flow through all regenerators (t/h), whatever its destination."""
    return sum(f for (_, j), f in flows.items() if _kind(graph, j) == "regenerator")


def recirculation(graph: nx.DiGraph) -> float:
    """Declared recirculation (t/h): water circulated inside units the network does not draw."""
    return float(graph.graph.get("recirculation", 0.0))


def reuse_by_route(graph: nx.DiGraph, flows: Flows) -> dict[str, float]:
    """Reused water by route (t/h): ``series`` (from another unit's outlet or a source),
    ``recycled`` (an operation's outlet to its own inlet), ``regenerated`` (out of a regenerator)
    and the declared ``recirculation``."""
    out = {"series": 0.0, "recycled": 0.0, "regenerated": 0.0, "recirculation": recirculation(graph)}
    for (i, j), f in flows.items():
        if _kind(graph, j) not in _USERS or _kind(graph, i) == "supply":
            continue
        route = "regenerated" if _kind(graph, i) == "regenerator" else ("recycled" if i == j else "series")
        out[route] += f
    return out


def reused(graph: nx.DiGraph, flows: Flows) -> float:
    """Reused water ``V_r`` (重复利用水量, t/h): water entering sinks and operations from anything but a
    supply, plus the declared recirculation (:func:`reuse_by_route`)."""
    return sum(reuse_by_route(graph, flows).values())


def reuse_rate(graph: nx.DiGraph, flows: Flows) -> float:
    """Industrial water reuse rate (工业用水重复利用率), a fraction.

    .. math:: R = \\frac{V_r}{V_r + V_f}

    GB/T 12452 (section 3.2.1 of the 2008 text, as reproduced; same definition in the Zhejiang
    park indicators: reused water over total industrial water use, total use = intake + reused).
    ``V_r`` is :func:`reused`, ``V_f`` :func:`freshwater`. This is the rate of the MIIT 2024 call's
    first criterion. 0 when no water is used.
    """
    r, f = reused(graph, flows), freshwater(graph, flows)
    return r / (r + f) if r + f > 0 else 0.0


def nonconventional_share(graph: nx.DiGraph, flows: Flows) -> float:
    """Share of the intake that is non-conventional water (非常规水: reclaimed, rain and other
    supplies such as mine or brackish water), a fraction.

    .. math:: s_{nc} = \\frac{V_{f,reclaimed} + V_{f,rain} + V_{f,other}}{V_f}

    Kinds as in the Ministry of Water Resources' 2023 guidance on non-conventional water (digest
    section 2.6, level S2). 0 with no intake.
    """
    total = freshwater(graph, flows)
    kinds = intake_by_kind(graph, flows)
    return sum(kinds[k] for k in _NON_CONVENTIONAL) / total if total > 0 else 0.0


def reclaimed_use(graph: nx.DiGraph, flows: Flows) -> float:
    """Reclaimed water used (再生水使用量, t/h): reclaimed water taken in from outside plus the
    plant's own regenerated water delivered to users (wastewater treated to the quality of a use,
    the 节约用水术语 meaning of 再生水)."""
    return intake_by_kind(graph, flows)["reclaimed"] + reuse_by_route(graph, flows)["regenerated"]


def reclaimed_share(graph: nx.DiGraph, flows: Flows, denominator: str = "total_use") -> float:
    """Reclaimed water over total water use (再生水使用量占总用水量比重), a fraction.

    .. math::

        s_{rw} = \\frac{V_{rw}}{V_f + V_r} \\quad (\\text{total_use}), \\qquad
        s_{rw}' = \\frac{V_{rw}}{V_f + V_{r,regenerated}} \\quad (\\text{supply})

    with ``V_rw`` :func:`reclaimed_use`. The MIIT 2024 call's third criterion (≥ 25 %) does not
    define 总用水量: under GB/T 12452 用水量 is intake plus all reuse (``total_use``, the default
    and the stricter reading); in everyday use it often means the water supplied to users from
    intake and reclaimed water (``supply``). Both are reported; the eligibility check judges the
    stricter one. 0 when no water is used.
    """
    rw = reclaimed_use(graph, flows)
    f = freshwater(graph, flows)
    if denominator == "total_use":
        total = f + reused(graph, flows)
    elif denominator == "supply":
        total = f + reuse_by_route(graph, flows)["regenerated"]
    else:
        raise ValueError(f"denominator must be 'total_use' or 'supply', got {denominator!r}")
    return rw / total if total > 0 else 0.0


def unit_product_intake(intake_per_year: float, amount_per_year: float, share: float = 1.0) -> float:
    """Unit-product water intake (单位产品取水量), m³ per unit of product.

    .. math:: V_{ui} = \\frac{s \\, V_{yf}}{Q}

    GB/T 12452 (section 3.2.5 of the 2008 text, as reproduced): the year's production intake
    ``V_yf`` (m³; 1 t of water = 1 m³) over the year's output ``Q``; ``s`` is the share of the
    intake that serves the product when a plant makes several (1 for one product). Compared
    with the advanced value (先进值) of a water-intake quota (GB/T 18916 parts, local quotas).
    """
    if not amount_per_year > 0:
        raise ValueError(f"the output must be positive, got {amount_per_year!r}")
    return share * intake_per_year / amount_per_year


def water_per_value_added(intake_per_year: float, value_added: float) -> float:
    """Water intake per 10⁴ money of industrial value added (万元工业增加值用水量), m³.

    .. math:: w_{va} = \\frac{V_{yf}}{VA / 10^4}

    ``V_yf`` the year's intake (m³, new water only: internal reuse is not counted), ``VA`` the
    year's industrial value added in the plant's money (CNY for the MIIT figure). Park form of
    the Zhejiang park indicators (park industrial fresh water over park industrial value added,
    level S). The MIIT 2024 call's park criterion is "小于6.7吨"; the unit m³ per 10⁴ CNY is the
    usual statistical one but the call's text does not state it.
    """
    if not value_added > 0:
        raise ValueError(f"the value added must be positive, got {value_added!r}")
    return intake_per_year / (value_added / 1e4)


def wue(intake_per_year: float, it_energy_per_year: float) -> float:
    """Water usage effectiveness of a data centre (单位信息设备耗电量取水量), L/kWh.

    .. math:: WUE = \\frac{1000 \\, V_{yf}}{E_{IT}}

    The Green Grid (2011) and ISO/IEC 30134-9:2022 definition with the MIIT wording: the year's
    water *intake* ``V_yf`` (m³, so 1000 L each) over the year's IT equipment electricity
    ``E_IT`` (kWh). MIIT 2024 threshold: not above 1.4 L/kWh.
    """
    if not it_energy_per_year > 0:
        raise ValueError(f"the IT energy must be positive, got {it_energy_per_year!r}")
    return 1000.0 * intake_per_year / it_energy_per_year


def compliant_discharge_share(
    graph: nx.DiGraph, flows: Flows, inlet: pd.DataFrame, *, tol: float = COMPLIANCE_TOLERANCE
) -> float | None:
    """Share of the wastewater discharged within its discharge's limits (工业废水达标排放率), a fraction.

    .. math:: s_{cd} = \\frac{\\sum_{d \\text{ compliant}} V_d}{\\sum_{d \\text{ with limits}} V_d}

    A discharge is compliant when the mixed water entering it meets every limit (``max``) it
    states, within a relative ``tol``. Discharges that state no limit cannot be judged and are
    left out of both sums; None when no water reaches a discharge with limits. Yangling's 2025
    plan asks for at least 98 %.

    Parameters
    ----------
    graph, flows
        The network.
    inlet : pandas.DataFrame
        Inlet concentration of every node (index node ids, columns contaminants, ppm), e.g.
        ``check_flows(graph, flows).inlet``.
    """
    judged = compliant = 0.0
    for d, data in graph.nodes(data=True):
        if data["kind"] != "discharge" or not data.get("max_in"):
            continue
        q = sum(f for (_, j), f in flows.items() if j == d)
        if q <= 0:
            continue
        judged += q
        if all(inlet.loc[d, c] <= limit * (1 + tol) + tol for c, limit in data["max_in"].items()):
            compliant += q
    return compliant / judged if judged > 0 else None


#: The indicators of a plan's ``kpis`` (:func:`indicators`), a subset of :func:`plant_indicators`.
SUMMARY = ("freshwater", "wastewater", "regenerated", "reused", "reuse_rate", "nonconventional_share")


def indicators(graph: nx.DiGraph, flows: Flows) -> dict[str, float]:
    """The flow indicators of a network (t/h and fractions), as a dict: :data:`SUMMARY` of :func:`plant_indicators`."""
    return summary_indicators(plant_indicators(graph, flows))


def summary_indicators(account: Mapping[str, Any]) -> dict[str, float]:
    """The :data:`SUMMARY` indicators picked from a :func:`plant_indicators` result."""
    return {key: account[key] for key in SUMMARY}


@dataclass(frozen=True)
class Indicator:
    """How one indicator of :func:`plant_indicators` is reported.

    Attributes
    ----------
    key, label : str
        Name in the dicts and tables; words for a reader (Chinese term in brackets).
    unit : str
        ``flow`` for the plant's flow unit, ``%`` for a fraction shown in percent, or a unit.
    formula : str
        The formula, in the symbols of the module notes.
    basis : str
        The standard or text the definition follows.
    """

    key: str
    label: str
    unit: str
    formula: str
    basis: str


#: Every indicator of :func:`plant_indicators`, in report order.
INDICATORS: tuple[Indicator, ...] = (
    Indicator("freshwater", "water intake (取水量)", "flow", "V_f = sum of supply outflows",
              "GB/T 12452; GB/T 18820 scope of intake"),
    Indicator("freshwater_per_year", "water intake per year", "m3/yr", "H V_f", "GB/T 12452"),
    Indicator("intake_fresh", "intake: fresh water", "flow", "V_f of supplies of kind fresh", "plant file kinds"),
    Indicator("intake_reclaimed", "intake: reclaimed water from outside", "flow", "V_f of kind reclaimed",
              "plant file kinds"),
    Indicator("intake_rain", "intake: rain water", "flow", "V_f of kind rain", "plant file kinds"),
    Indicator("intake_other", "intake: other non-conventional water", "flow", "V_f of kind other", "plant file kinds"),
    Indicator("reused", "reused water (重复利用水量)", "flow", "V_r = series + recycled + regenerated + recirculation",
              "GB/T 12452; Zhejiang park indicators (what counts as reuse)"),
    Indicator("reused_series", "reuse: series and cascade use (串联用水, 一水多用)", "flow",
              "flow into users from unit outlets and sources", "GB/T 21534 terms"),
    Indicator("reused_recycled", "reuse: local recycle (循环用水)", "flow", "flow from an operation to itself",
              "GB/T 21534 terms"),
    Indicator("reused_regenerated", "reuse: regenerated water (回用)", "flow", "flow into users from regenerators",
              "GB/T 21534 terms"),
    Indicator("recirculation", "reuse: declared recirculation (not drawn)", "flow", "indicators.recirculation",
              "plant file"),
    Indicator("total_use", "total water use (用水量)", "flow", "V_t = V_f + V_r", "GB/T 12452"),
    Indicator("reuse_rate", "industrial water reuse rate (工业用水重复利用率)", "%", "R = V_r / (V_r + V_f)",
              "GB/T 12452 3.2.1; MIIT 2024 criterion 1"),
    Indicator("wastewater", "wastewater discharged (排水量)", "flow", "V_d = sum of discharge inflows", "GB/T 12452"),
    Indicator("wastewater_per_year", "wastewater per year", "m3/yr", "H V_d", "GB/T 12452"),
    Indicator("consumption", "consumption and loss (耗水量 + 漏失水量)", "flow", "V_co + V_l = V_f - V_d",
              "GB/T 12452 balance V_f = V_co + V_d + V_l"),
    Indicator("regenerated", "water treated in regenerators", "flow", "sum of regenerator inflows", "network"),
    Indicator("reclaimed_use", "reclaimed water used (再生水使用量)", "flow",
              "V_rw = V_f,reclaimed + V_r,regenerated", "再生水 as in GB/T 21534"),
    Indicator("reclaimed_share", "reclaimed water share of total use", "%", "V_rw / (V_f + V_r)",
              "MIIT 2024 criterion 3, GB/T 12452 reading of 总用水量"),
    Indicator("reclaimed_share_of_supply", "reclaimed water share of water supplied", "%",
              "V_rw / (V_f + V_r,regenerated)", "MIIT 2024 criterion 3, everyday reading of 总用水量"),
    Indicator("nonconventional_share", "non-conventional share of intake (非常规水)", "%",
              "(V_f,reclaimed + V_f,rain + V_f,other) / V_f", "MWR 2023 non-conventional water kinds"),
    Indicator("compliant_discharge_share", "compliant discharge share (达标排放率)", "%",
              "flow into discharges meeting their limits / flow into discharges with limits", "Yangling 2025 plan"),
    Indicator("water_per_value_added", "water per 10^4 money of value added (万元工业增加值用水量)", "m3/10^4 money",
              "H V_f / (VA / 10^4)", "Zhejiang park indicators; MIIT 2024 criterion 2 (parks)"),
    Indicator("wue", "water usage effectiveness, WUE", "L/kWh", "1000 H V_f / E_IT",
              "ISO/IEC 30134-9:2022; MIIT 2024 criterion 2 (data centres)"),
)


def plant_indicators(
    graph: nx.DiGraph,
    flows: Flows,
    *,
    inlet: pd.DataFrame | None = None,
    data: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Every indicator of one network: flows in t/h, shares as fractions, volumes per year in m³.

    Parameters
    ----------
    graph, flows
        The network (its ``hours_per_year`` and ``recirculation`` attributes are used).
    inlet : pandas.DataFrame, optional
        Inlet concentrations (ppm) for :func:`compliant_discharge_share`; without them it is None.
    data : mapping, optional
        The plant file's ``indicators`` (:attr:`cascade.Plant.indicator_data`): ``value_added``
        (money/yr), ``it_energy`` (kWh/yr) and ``production`` (list of ``{product, amount, unit,
        share, quota_advanced, ...}``, amount per year). Indicators whose data is missing are None.

    Returns
    -------
    dict
        The keys of :data:`INDICATORS`, plus ``unit_product_intake``: a list of ``{product, unit,
        value}`` (m³ per unit of product), one per product.
    """
    data = data or {}
    hours = graph.graph["hours_per_year"]
    f, d = freshwater(graph, flows), wastewater(graph, flows)
    kinds = intake_by_kind(graph, flows)
    routes = reuse_by_route(graph, flows)
    r = sum(routes.values())
    out: dict[str, Any] = {
        "freshwater": f,
        "freshwater_per_year": f * hours,
        **{f"intake_{k}": v for k, v in kinds.items()},
        "reused": r,
        **{f"reused_{k}": v for k, v in routes.items() if k != "recirculation"},
        "recirculation": routes["recirculation"],
        "total_use": f + r,
        "reuse_rate": reuse_rate(graph, flows),
        "wastewater": d,
        "wastewater_per_year": d * hours,
        "consumption": f - d,
        "regenerated": regenerated(graph, flows),
        "reclaimed_use": reclaimed_use(graph, flows),
        "reclaimed_share": reclaimed_share(graph, flows, "total_use"),
        "reclaimed_share_of_supply": reclaimed_share(graph, flows, "supply"),
        "nonconventional_share": nonconventional_share(graph, flows),
        "compliant_discharge_share": None if inlet is None else compliant_discharge_share(graph, flows, inlet),
        "water_per_value_added": (
            water_per_value_added(f * hours, data["value_added"]) if data.get("value_added") else None
        ),
        "wue": wue(f * hours, data["it_energy"]) if data.get("it_energy") else None,
    }
    out["unit_product_intake"] = [
        {"product": p["product"], "unit": p.get("unit", ""),
         "value": unit_product_intake(f * hours, p["amount"], p.get("share", 1.0))}
        for p in data.get("production", ())
    ]
    return out


def indicator_table(baseline: Mapping[str, Any], plan: Mapping[str, Any], flow_unit: str = "t/h",
                    flow_scale: float = 1.0, money: str = "CNY") -> pd.DataFrame:
    """Baseline and plan indicators side by side (one row per indicator of :data:`INDICATORS`, then
    one per product's unit intake).

    Columns ``key``, ``indicator``, ``unit``, ``baseline``, ``plan``, ``change`` (plan - baseline),
    ``formula``, ``basis``. Flows are divided by ``flow_scale`` (t/h per plant flow unit) and
    fractions shown in percent; an indicator that cannot be computed is None on both sides.
    """
    rows = []
    for ind in INDICATORS:
        b, p = baseline.get(ind.key), plan.get(ind.key)
        scale = {"flow": 1 / flow_scale, "%": 100.0}.get(ind.unit, 1.0)
        unit = {"flow": flow_unit}.get(ind.unit, ind.unit).replace("money", money)
        b = None if b is None else b * scale
        p = None if p is None else p * scale
        rows.append({"key": ind.key, "indicator": ind.label, "unit": unit, "baseline": b, "plan": p,
                     "change": None if b is None or p is None else p - b, "formula": ind.formula,
                     "basis": ind.basis})
    for before, after in zip(baseline.get("unit_product_intake", ()), plan.get("unit_product_intake", ()),
                             strict=True):
        rows.append({"key": f"unit_product_intake:{after['product']}",
                     "indicator": f"unit-product intake (单位产品取水量): {after['product']}",
                     "unit": f"m3/{after['unit']}" if after["unit"] else "m3/unit", "baseline": before["value"],
                     "plan": after["value"], "change": after["value"] - before["value"],
                     "formula": "s H V_f / Q", "basis": "GB/T 12452 3.2.5; quota advanced value (MIIT criterion 2)"})
    frame = pd.DataFrame(rows, columns=["key", "indicator", "unit", "baseline", "plan", "change", "formula", "basis"])
    return frame.astype({"baseline": float, "plan": float, "change": float})


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
