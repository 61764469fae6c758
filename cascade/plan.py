"""The retrofit plan: what to build, what it saves, and how sure we are.

A :class:`RetrofitPlan` is immutable: its tables are returned as copies. Flows and water
figures are in the plant's flow unit (``plan.units["flow"]``), concentrations in ppm, money per
year in the plant's money label.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .check import CheckResult
from .eligibility import eligibility
from .explain import limiting_contaminants
from .kpi import indicator_table
from .plant import PARK_LEVEL, Plant
from .units import factor


@dataclass(frozen=True)
class RetrofitPlan:
    """The result of :func:`cascade.optimize`.

    Attributes
    ----------
    plant : str
        Plant name.
    objective_name : {'freshwater', 'cost'}
    status : {'optimal', 'feasible', 'error'}
        ``optimal`` only when HiGHS proved it and the independent check passed.
    objective, bound, gap : float or None
        Objective of the plan (t/h of fresh water, or money/yr), proven lower bound, relative gap.
    freshwater, wastewater, regenerated : float
        Flow unit of the plant.
    baseline : dict
        The same indicators (and annual cost) of the baseline network; ``baseline["kind"]`` is
        ``"existing"`` (the plant's existing pipes) or ``"no reuse"``.
    savings : dict
        ``freshwater`` (per hour), ``freshwater_pct``, ``freshwater_per_year``, ``wastewater``,
        ``cost_per_year``.
    kpis : dict
        Indicators of the plan (:func:`cascade.kpi.indicators`).
    costs : dict
        Annual cost by item (:func:`cascade.kpi.annual_costs`).
    check : CheckResult
        The independent re-verification of the flows.
    solve : dict
        Seconds per phase, model size, solver termination, tie-break stage.
    notes : tuple of str
        Restrictions and caveats a reader must know.
    units : dict
        The plant's units.
    economics : dict
        Capital spent (new pipes, removals, regenerators), the budget, the annual operating
        saving, the simple payback in years (None when the plan saves nothing to pay back with)
        and the net present value over the finance lifetime (:func:`cascade.economics.plan_economics`).
    """

    plant: str
    objective_name: str
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    freshwater: float
    wastewater: float
    regenerated: float
    baseline: dict[str, Any]
    savings: dict[str, float]
    kpis: dict[str, float]
    costs: dict[str, float]
    check: CheckResult
    solve: dict[str, Any]
    notes: tuple[str, ...]
    units: dict[str, str]
    _tables: dict[str, pd.DataFrame] = field(repr=False)
    economics: dict[str, Any] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    source: Plant | None = field(default=None, repr=False, compare=False)

    @property
    def indicators(self) -> pd.DataFrame:
        """Every water indicator of the baseline and the plan side by side (:func:`cascade.kpi.indicator_table`):
        ``key``, ``indicator``, ``unit``, ``baseline``, ``plan``, ``change``, ``formula``, ``basis``; flows in
        the plant's flow unit, shares in percent, volumes per year in m3."""
        if not self.accounts:
            raise ValueError("this plan carries no water accounts (it was not made by cascade.optimize)")
        return indicator_table(self.accounts["baseline"], self.accounts["plan"], self.units.get("flow", "t/h"),
                               factor("flow", self.units.get("flow", "t/h")), self.units.get("money", "CNY"))

    @property
    def industry(self) -> str | None:
        """The plant's industry (``industry`` in the plant file), used by :meth:`eligibility`."""
        return None if self.source is None else self.source.industry

    def eligibility(self, industry: str | None = None) -> pd.DataFrame:
        """The MIIT 2024 criteria and Yangling's discharge target, for the baseline and the plan.

        Parameters
        ----------
        industry : str, optional
            One of :data:`cascade.eligibility.INDUSTRIES`; default the plant file's ``industry``.

        Returns
        -------
        pandas.DataFrame
            One row per criterion (:func:`cascade.eligibility.eligibility`): value, threshold,
            pass or fail and the margin; ``attrs["eligible"]`` says whether the plan meets at
            least one MIIT criterion.
        """
        if not self.accounts:
            raise ValueError("this plan carries no water accounts (it was not made by cascade.optimize)")
        industry = industry if industry is not None else self.industry
        production = self.source.indicator_data.get("production", ()) if self.source is not None else ()
        return eligibility(self.accounts["baseline"], self.accounts["plan"], industry, production=production,
                           money=self.units.get("money", "CNY"))

    def report(self, out_dir: str, *, formats: tuple[str, ...] = ("html", "xlsx", "md"),
               industry: str | None = None, figures: bool = True) -> dict[str, Any]:
        """Write the retrofit report (HTML, Excel, Markdown) into ``out_dir``; see :func:`cascade.report.write_report`.

        Returns the paths written, by format.
        """
        from .report import write_report

        return write_report(self, out_dir, formats=formats, industry=industry, figures=figures)

    @property
    def baseline_outlet_quality(self) -> pd.DataFrame:
        """Outlet concentration of every node in the baseline network (ppm), recomputed by the check."""
        return self._tables["baseline_outlet"].copy()

    @property
    def baseline_flows(self) -> pd.DataFrame:
        """Flows of the baseline network (``from``, ``to``, ``flow``): today's pipes, or the no-reuse plant."""
        return self._tables.get("baseline_flows", pd.DataFrame(columns=["from", "to", "flow"])).copy()

    @property
    def flows(self) -> pd.DataFrame:
        """Used pipes: ``from``, ``to``, ``flow``, ``new_pipe`` (not in today's plant)."""
        return self._tables["flows"].copy()

    @property
    def pipes(self) -> pd.DataFrame:
        """Pipe changes: ``from``, ``to``, ``status`` (new / kept / removed), ``flow``, ``baseline_flow``."""
        return self._tables["pipes"].copy()

    @property
    def regeneration(self) -> pd.DataFrame:
        """Per regenerator: ``flow`` treated, ``recycled`` (back to units that feed it, directly or through
        others), ``reused`` (to other units and regenerators), ``to_discharge``
        (:func:`cascade.explain.regeneration_destinations`)."""
        return self._tables["regeneration"].copy()

    @property
    def limits(self) -> pd.DataFrame:
        """Every concentration limit and capacity of the units that carry water: ``value``, ``limit``, ``use``,
        ``binding`` (:func:`cascade.explain.limits_table`; capacities in the plant's flow unit)."""
        return self._tables["limits"].copy()

    @property
    def limiting(self) -> pd.Series:
        """Per unit with inlet limits, the contaminant whose limit is most used: the one to treat or relax first."""
        return limiting_contaminants(self._tables["limits"])

    @property
    def inlet_quality(self) -> pd.DataFrame:
        """Inlet concentration of every node (ppm), recomputed from the flows by the check."""
        return self.check.inlet.copy()

    @property
    def outlet_quality(self) -> pd.DataFrame:
        """Outlet concentration of every node (ppm), recomputed from the flows by the check."""
        return self.check.outlet.copy()

    @property
    def plants(self) -> pd.DataFrame:
        """Per plant of a park (and ``(park)`` for its own units): intake by kind, wastewater, water received
        from and sent to other owners, reuse and operating cost (:func:`cascade.park.plant_indicators`;
        flows in the plant's flow unit). Empty for a plant whose units name no plant."""
        return self._tables.get("plants", pd.DataFrame()).copy()

    @property
    def exchanges(self) -> pd.DataFrame:
        """Used pipes between plants of a park, or a plant and the park: ``from``, ``to``, ``from_plant``,
        ``to_plant``, ``flow``, ``length``, ``new_pipe``, ``capital`` (:func:`cascade.park.exchanges`).
        Empty for a plant whose units name no plant."""
        return self._tables.get("exchanges", pd.DataFrame()).copy()

    @property
    def new_pipes(self) -> list[tuple[str, str]]:
        """The pipes to build."""
        pipes = self._tables["pipes"]
        return [tuple(x) for x in pipes.loc[pipes["status"] == "new", ["from", "to"]].to_numpy()]

    def to_dict(self) -> dict[str, Any]:
        """The plan as the JSON object of ``docs/plant-format.md`` (``cascade solve --json``), plus details."""
        flows = self._tables["flows"]
        park = {}
        if "plants" in self._tables:
            park = {"plants": self._tables["plants"].reset_index().to_dict(orient="records"),
                    "exchanges": self._tables["exchanges"].to_dict(orient="records")}
        return {
            "plant": self.plant,
            "objective_name": self.objective_name,
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "freshwater": self.freshwater,
            "wastewater": self.wastewater,
            "regenerated": self.regenerated,
            "flows": [
                {"from": a, "to": b, "flow": float(f), "new_pipe": bool(n)}
                for a, b, f, n in flows[["from", "to", "flow", "new_pipe"]].itertuples(index=False)
            ],
            "pipes": self._tables["pipes"].to_dict(orient="records"),
            "regeneration": self._tables["regeneration"].reset_index().to_dict(orient="records"),
            "limits": self._tables["limits"].to_dict(orient="records"),
            **park,
            "baseline": dict(self.baseline),
            "savings": dict(self.savings),
            "kpis": dict(self.kpis),
            "costs": dict(self.costs),
            "economics": dict(self.economics),
            **self._policy_dict(),
            "check": self.check.to_dict(),
            "solve": dict(self.solve),
            "notes": list(self.notes),
            "units": dict(self.units),
        }

    def _policy_dict(self) -> dict[str, Any]:
        """``indicators`` and ``eligibility`` for :meth:`to_dict` (empty for a plan without water accounts)."""
        if not self.accounts:
            return {}
        rows = self.eligibility()
        return {"indicators": _records(self.indicators),
                "eligibility": {"industry": rows.attrs["industry"], "eligible": rows.attrs["eligible"],
                                "criteria": _records(rows)}}

    def to_json(self, indent: int | None = 2) -> str:
        """The plan as JSON text (see :meth:`to_dict`)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, default=_plain)

    def summary(self) -> str:
        """A readable report: status, water and money against the baseline, pipes, regeneration."""
        u = self.units.get("flow", "t/h")
        money = self.units.get("money", "")
        b, s = self.baseline, self.savings
        gap = "n/a" if self.gap is None else f"{100 * self.gap:.3g} %"
        lines = [
            f"Plant: {self.plant}",
            f"Status: {self.status} (objective {self.objective_name} = {_fmt(self.objective)}, "
            f"bound {_fmt(self.bound)}, gap {gap}); check {'passed' if self.check.passed else 'FAILED'} "
            f"(max violation {self.check.max_violation:.2g})",
            "",
            f"{'':24}{'baseline':>14}{'plan':>14}{'saving':>14}",
            f"{'fresh water [' + u + ']':24}{b['freshwater']:>14.4g}{self.freshwater:>14.4g}{s['freshwater']:>14.4g}",
            f"{'wastewater [' + u + ']':24}{b['wastewater']:>14.4g}{self.wastewater:>14.4g}{s['wastewater']:>14.4g}",
            f"{'reuse rate [%]':24}{100 * b['reuse_rate']:>14.4g}{100 * self.kpis['reuse_rate']:>14.4g}",
            f"{'annual cost [' + money + ']':24}{b['cost']:>14.6g}{self.costs['total']:>14.6g}"
            f"{s['cost_per_year']:>14.6g}",
            f"Fresh water saved: {s['freshwater_pct']:.3g} % ({s['freshwater_per_year']:.6g} t/yr); "
            f"baseline: {b['kind']}",
        ]
        pipes = self._tables["pipes"]
        new = pipes[pipes["status"] == "new"]
        removed = pipes[pipes["status"] == "removed"]
        lines.append(f"Pipes: {len(new)} new, {int((pipes['status'] == 'kept').sum())} kept, {len(removed)} removed")
        for row in new.itertuples(index=False):
            lines.append(f"  + {row[0]} -> {row[1]}: {row.flow:.4g} {u}")
        for row in removed.itertuples(index=False):
            lines.append(f"  - {row[0]} -> {row[1]} (was {row.baseline_flow:.4g} {u})")
        econ = self.economics
        if econ and econ["capital"]["total"] > 0:
            c = econ["capital"]
            payback = "never" if econ["payback_years"] is None else f"{econ['payback_years']:.3g} years"
            npv = "" if econ.get("npv") is None else f", NPV {econ['npv']:.6g} {money}"
            budget = "" if econ.get("budget") is None else f" (budget {econ['budget']:.6g})"
            lines.append(
                f"Capital: {c['total']:.6g} {money}{budget}: pipes {c['pipes']:.6g}, removals {c['removals']:.6g}, "
                f"regenerators {c['regenerators']:.6g}; operating saving {econ['operating_saving_per_year']:.6g} "
                f"{money}/yr, payback {payback}{npv}"
            )
        if "plants" in self._tables:
            lines.extend(_park_lines(self._tables["plants"], self._tables["exchanges"], u))
        regen = self._tables["regeneration"]
        for name, row in regen.iterrows():
            lines.append(
                f"Regenerator {name}: {row['flow']:.4g} {u} treated: {row['recycled']:.4g} recycled to its own "
                f"feeders, {row['reused']:.4g} reused elsewhere, {row['to_discharge']:.4g} discharged"
            )
        limits = self._tables["limits"]
        binding = limits[limits["binding"]]
        if len(binding):
            lines.append("Binding limits:")
            for row in binding.itertuples(index=False):
                what = f"{row.where} {row.contaminant}" if row.contaminant else "capacity"
                lines.append(f"  {row.unit}: {what} at its limit {row.limit:.4g}")
        lines.append("")
        lines.append("Flows:")
        flows = self._tables["flows"]
        wide_from = max((len(str(a)) for a in flows["from"]), default=0)
        wide_to = max((len(str(b)) for b in flows["to"]), default=0)
        for a, bb, f, n in flows[["from", "to", "flow", "new_pipe"]].itertuples(index=False):
            lines.append(f"  {a:>{wide_from}} -> {bb:<{wide_to}} {f:>10.4g} {u}{'  (new)' if n else ''}")
        for note in self.notes:
            lines.append(f"Note: {note}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<RetrofitPlan {self.plant!r}: {self.status}, fresh water {self.freshwater:.6g} "
            f"{self.units.get('flow', 't/h')} (baseline {self.baseline['freshwater']:.6g}), gap {self.gap}>"
        )


def _park_lines(plants: pd.DataFrame, exchanges: pd.DataFrame, unit: str) -> list[str]:
    """Summary lines of a park: each plant's water and the exchanges between plants."""
    between = exchanges[(exchanges["from_plant"] != PARK_LEVEL) & (exchanges["to_plant"] != PARK_LEVEL)]
    lines = [f"Park: {sum(p != PARK_LEVEL for p in plants.index)} plants; {len(between)} pipe(s) between plants "
             f"carry {between['flow'].sum():.4g} {unit}"]
    for name, row in plants.iterrows():
        lines.append(f"  {name}: fresh water {row['freshwater']:.4g}, wastewater {row['wastewater']:.4g}, "
                     f"received {row['received']:.4g}, sent {row['sent']:.4g} {unit}; "
                     f"reuse rate {100 * row['reuse_rate']:.3g} %")
    for row in between.itertuples(index=False):
        lines.append(f"  {row[0]} -> {row[1]}: {row.flow:.4g} {unit}")
    return lines


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with NaN written as None (JSON has no NaN)."""
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
            for row in frame.to_dict(orient="records")]


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.6g}"


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)
