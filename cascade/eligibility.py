"""Policy criteria a retrofit is read against: the MIIT 2024 call and the Yangling 2025 plan.

MIIT 2024 (工业和信息化部办公厅关于开展2024年工业废水循环利用典型案例征集工作的通知,
工信厅节函〔2024〕280号, 2024-07-15, section 二(二)3, read from the notice's text): an enterprise
or park is a candidate typical case when it meets **at least one** of three criteria:

1. industrial water reuse rate (工业用水重复利用率) **above** its industry's threshold: steel
   > 97 %, petrochemical and chemical > 94 %, nonferrous metals > 94 %, paper > 87 %, textile
   > 78 %, food > 65 %, industrial parks > 94 %;
2. advanced water efficiency (用水效率先进): an enterprise's unit-product intake better than the
   advanced value (先进值) of the national or local water-intake quota; a park's water use
   per unit of industrial value added **below** 6.7 t (the notice says "吨"; per 10⁴ CNY is the
   usual unit and is inferred); a data centre's WUE **not above** 1.4 L/kWh;
3. reclaimed water **at least** 25 % of total water use (达到25%以上).

Yangling 2025 (杨管工发〔2025〕13号, 工业领域水资源集约高效利用推进方案, section 一, read from the
plan's text): industrial wastewater compliant-discharge rate **not below** 98 %. Its metering
target (level-1 and level-2 meters 100 %) needs meter data and is not judged here.

The indicators come from :func:`cascade.kpi.plant_indicators`; :func:`eligibility` compares
them with the thresholds (strict where the text is strict) and says by how much each passes or
fails.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

#: Industries of the plant file's ``industry`` (MIIT 2024 categories, plus the rest).
INDUSTRIES = (
    "steel", "petrochemical_chemical", "nonferrous", "paper", "textile", "food", "industrial_park", "data_center",
    "other",
)
#: Reuse-rate thresholds of MIIT 2024 criterion 1, percent, strict ">".
MIIT_REUSE_RATE = {
    "steel": 97.0, "petrochemical_chemical": 94.0, "nonferrous": 94.0, "paper": 87.0, "textile": 78.0, "food": 65.0,
    "industrial_park": 94.0,
}
#: MIIT 2024 criterion 2 for parks: water per 10^4 CNY of industrial value added, strict "<" (m3, unit inferred).
MIIT_PARK_WATER_PER_VALUE_ADDED = 6.7
#: MIIT 2024 criterion 2 for data centres: WUE, "<=" (L/kWh).
MIIT_WUE = 1.4
#: MIIT 2024 criterion 3: reclaimed water share of total use, ">=" (percent).
MIIT_RECLAIMED_SHARE = 25.0
#: Yangling 2025: compliant-discharge rate, ">=" (percent).
YANGLING_COMPLIANT_DISCHARGE = 98.0

#: Labels of the two texts in the ``source`` column (document numbers in the module notes).
MIIT = "MIIT 2024"
YANGLING = "Yangling 2025"
COLUMNS = ("source", "criterion", "indicator", "unit", "comparison", "threshold", "baseline", "plan", "passes",
           "passes_baseline", "margin", "note")

_COMPARE = {
    ">": lambda v, t: v > t,
    ">=": lambda v, t: v >= t,
    "<": lambda v, t: v < t,
    "<=": lambda v, t: v <= t,
}


def _row(source: str, criterion: str, indicator: str, unit: str, comparison: str, threshold: float,
         baseline: float | None, plan: float | None, note: str = "") -> dict[str, Any]:
    """One criterion: passes and margin (how far the plan is on the good side; negative: short of it)."""
    passes = None if plan is None else _COMPARE[comparison](plan, threshold)
    passes_baseline = None if baseline is None else _COMPARE[comparison](baseline, threshold)
    margin = None if plan is None else (plan - threshold if comparison.startswith(">") else threshold - plan)
    return {"source": source, "criterion": criterion, "indicator": indicator, "unit": unit, "comparison": comparison,
            "threshold": threshold, "baseline": baseline, "plan": plan, "passes": passes,
            "passes_baseline": passes_baseline, "margin": margin, "note": note}


def _pct(value: float | None) -> float | None:
    return None if value is None else 100.0 * value


def eligibility(
    baseline: Mapping[str, Any],
    plan: Mapping[str, Any],
    industry: str | None,
    *,
    production: Sequence[Mapping[str, Any]] = (),
    money: str = "CNY",
) -> pd.DataFrame:
    """The MIIT 2024 criteria (and Yangling's discharge target) for a plant's baseline and plan.

    Parameters
    ----------
    baseline, plan : mapping
        Indicators from :func:`cascade.kpi.plant_indicators`.
    industry : str or None
        One of :data:`INDUSTRIES`; None or ``other``: no reuse-rate threshold applies.
    production : sequence of mapping
        The plant file's ``indicators.production``; a product with ``quota_advanced`` (m³ per
        unit of product) is judged against it (criterion 2, strict "<": better than the value).
    money : str
        The plant's money label; the park criterion is in CNY.

    Returns
    -------
    pandas.DataFrame
        One row per criterion that applies, columns :data:`COLUMNS`: ``comparison`` and
        ``threshold`` as the text states them, ``passes`` / ``passes_baseline`` (None when the
        indicator cannot be computed: the ``note`` says which data is missing), ``margin`` (plan
        minus threshold for a floor, threshold minus plan for a ceiling: positive passes). The
        frame's ``attrs["eligible"]`` is True when the plan meets at least one MIIT criterion,
        False when it meets none it could be judged on, None when none could be judged.

    Raises
    ------
    ValueError
        An unknown industry.
    """
    if industry is not None and industry not in INDUSTRIES:
        raise ValueError(f"unknown industry {industry!r}; use one of {', '.join(INDUSTRIES)}")
    rows = []
    if industry in MIIT_REUSE_RATE:
        rows.append(_row(MIIT, "1 reuse rate", f"industrial water reuse rate ({industry})", "%", ">",
                         MIIT_REUSE_RATE[industry], _pct(baseline["reuse_rate"]), _pct(plan["reuse_rate"])))
    quotas = {p["product"]: p for p in production if p.get("quota_advanced") is not None}
    for before, after in zip(baseline.get("unit_product_intake", ()), plan.get("unit_product_intake", ()),
                             strict=True):
        product = quotas.get(after["product"])
        if product is None:
            continue
        source = product.get("quota_source")
        rows.append(_row(MIIT, "2 water efficiency", f"unit-product intake: {after['product']}",
                         f"m3/{after['unit'] or 'unit'}", "<", float(product["quota_advanced"]), before["value"],
                         after["value"], note=f"advanced value of {source or 'the quota'}"))
    if industry == "industrial_park":
        note = "unit per 10^4 CNY inferred (the notice says 6.7 t)"
        if money != "CNY":
            note += f"; the plant's money is {money}, not CNY"
        if baseline.get("water_per_value_added") is None:
            note += "; give indicators.value_added in the plant file"
        rows.append(_row(MIIT, "2 water efficiency", "water per 10^4 CNY of industrial value added", "m3/10^4 CNY",
                         "<", MIIT_PARK_WATER_PER_VALUE_ADDED, baseline.get("water_per_value_added"),
                         plan.get("water_per_value_added"), note))
    if industry == "data_center":
        note = "" if plan.get("wue") is not None else "give indicators.it_energy (kWh/yr) in the plant file"
        rows.append(_row(MIIT, "2 water efficiency", "WUE", "L/kWh", "<=", MIIT_WUE, baseline.get("wue"),
                         plan.get("wue"), note))
    rows.append(_row(MIIT, "3 reclaimed water", "reclaimed water share of total use", "%", ">=", MIIT_RECLAIMED_SHARE,
                     _pct(baseline["reclaimed_share"]), _pct(plan["reclaimed_share"]),
                     "total use = intake + all reuse (GB/T 12452), the stricter reading; share of water supplied: "
                     f"{_pct(plan['reclaimed_share_of_supply']):.3g} %"))
    compliant = plan.get("compliant_discharge_share")
    note = ""
    if compliant is None:
        note = ("nothing is discharged" if plan["wastewater"] <= 0
                else "no discharge that receives water states limits, so none can be judged")
    rows.append(_row(YANGLING, "discharge", "compliant discharge share", "%", ">=", YANGLING_COMPLIANT_DISCHARGE,
                     _pct(baseline.get("compliant_discharge_share")), _pct(compliant), note))
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    judged = [p for s, p in zip(frame["source"], frame["passes"], strict=True) if s == MIIT and p is not None]
    frame.attrs["eligible"] = any(judged) if judged else None
    frame.attrs["industry"] = industry
    return frame


__all__ = ["eligibility", "INDUSTRIES", "MIIT_REUSE_RATE"]
