"""Multi-period design: one set of pipes and regenerators that must work in every operating period.

A plant file may list **periods** (summer and winter, production levels, months of rainwater),
each with its operating hours a year and the changes it makes to the plant, written as the
dotted paths of :func:`cascade.sweep.apply_changes` in the file's units::

    periods:
      - {id: summer, hours: 3000, changes: {sinks.cooling_makeup.flow: 9}}
      - {id: winter, hours: 3000, changes: {sinks.cooling_makeup.flow: 4}}

A period changes units only (flows, loads, limits, prices, capacities); the network rules, pipe
economics and finance belong to the design. :func:`optimize_periods` designs one network for
all periods at once (:mod:`cascade.formulation.periods`): pipes and regenerators are built once,
flows are chosen per period, fresh water is the hours-weighted mean and money is summed over the
year. The :class:`MultiPeriodPlan` reports the design, each period's operation (a
:class:`~cascade.plan.RetrofitPlan` whose money is over that period's hours) and the year; each
period's flows pass the independent check against that period's plant, the design against the
pipe limits and the budget, and the year's objective is recomputed from the flows.
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx
import pandas as pd
import pyomo.environ as pyo

from .check import CHECK_TOLERANCE, design_violations
from .economics import capital_spend, plan_economics
from .exceptions import CascadeError, InfeasiblePlantError, PlantDataError, SolverError
from .formulation import build_model, needs_pipe_decisions
from .formulation.periods import build_period_model
from .io import plant_to_dict, read_plant
from .kpi import ZERO_FLOW
from .optimize import (
    _canonical_limits,
    _diagnose,
    baseline_flows,
    baseline_graph,
    plan_from_flows,
    solve_fewest_new_pipes,
    solver_settings,
)
from .plan import RetrofitPlan, _plain
from .plant import Plant
from .solve import HighsSolver, SolveResult
from .superstructure import build_superstructure
from .sweep import UNIT_TABLES, apply_changes
from .units import factor

Flows = dict[tuple[str, str], float]


def period_plants(plant: Plant) -> dict[str, tuple[Plant, float]]:
    """Each period's plant (the plant with the period's changes, its hours as ``hours_per_year``) and hours.

    Raises
    ------
    PlantDataError
        The plant has no periods, a change is not to a unit, or a changed plant is not valid;
        the message names the period.

    Examples
    --------
    >>> import cascade
    >>> p = cascade.examples.wang_smith()
    >>> p.periods = [{"id": "high", "hours": 2000, "changes": {"operations.OP1.load.C": 3}}]
    >>> high, hours = period_plants(p)["high"]
    >>> high.to_dict()["operations"][0]["load"], high.hours_per_year, hours
    ({'C': 3}, 2000.0, 2000.0)
    """
    return _apply_periods(design_plant(plant), plant.periods)


def _apply_periods(base: Plant, periods: list[dict[str, Any]]) -> dict[str, tuple[Plant, float]]:
    """:func:`period_plants` from the design's plant (the plant without its periods)."""
    if not periods:
        raise PlantDataError(f"plant '{base.name}' has no periods; add a 'periods' list (docs/plant-format.md)")
    out = {}
    for period in periods:
        name, changes = period["id"], period.get("changes") or {}
        for path in changes:
            if str(path).split(".")[0] not in UNIT_TABLES:
                raise PlantDataError(
                    f"period '{name}': change {path!r}: a period changes units only (<table>.<unit id>.<field>, "
                    f"tables {', '.join(UNIT_TABLES)}); network rules, piping and finance belong to the design"
                )
        try:
            changed = apply_changes(base, {**changes, "hours_per_year": period["hours"]})
        except PlantDataError as exc:
            raise PlantDataError(f"period '{name}': {exc}") from exc
        out[name] = (changed, float(period["hours"]))
    return out


def design_plant(plant: Plant) -> Plant:
    """The plant without its periods: the design's superstructure and economics come from it."""
    data = copy.deepcopy(plant_to_dict(plant))
    data.pop("periods", None)
    return read_plant(data)


@dataclass(frozen=True)
class MultiPeriodPlan:
    """The result of :func:`optimize_periods`.

    Attributes
    ----------
    plant : str
    objective_name : {'freshwater', 'cost', 'new_pipes'}
    status : {'optimal', 'feasible', 'error'}
        ``optimal`` only when HiGHS proved it and every check passed.
    objective, bound, gap : float or None
        The year's objective (hours-weighted fresh water in the flow unit, money/yr, or new
        pipes), HiGHS's proven bound and the relative gap.
    hours : dict
        Operating hours a year of each period.
    periods : dict of str -> RetrofitPlan
        Each period's operation with the design (money over the period's hours).
    freshwater : float
        Hours-weighted mean intake (flow unit).
    year : dict
        ``freshwater_per_year`` (flow unit x h), ``wastewater_per_year`` and ``costs`` (money/yr
        by item, :func:`design_costs`), for the plan and its ``baseline``.
    savings : dict
        ``freshwater_per_year``, ``freshwater_pct``, ``cost_per_year``.
    economics : dict
        Capital, operating saving, payback and NPV of the design
        (:func:`cascade.economics.plan_economics`).
    check : dict
        ``passed``, ``periods`` (period -> passed), ``design`` (violated pipe limits, budget,
        study limits) and ``objective`` (model objective against the one recomputed from the flows).
    solve, notes, units
        As in :class:`~cascade.plan.RetrofitPlan`.
    """

    plant: str
    objective_name: str
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    hours: dict[str, float]
    periods: dict[str, RetrofitPlan]
    freshwater: float
    year: dict[str, Any]
    savings: dict[str, float]
    economics: dict[str, Any]
    check: dict[str, Any]
    solve: dict[str, Any]
    notes: tuple[str, ...]
    units: dict[str, str]
    _tables: dict[str, pd.DataFrame] = field(repr=False)

    @property
    def design(self) -> pd.DataFrame:
        """The pipes of the design: ``from``, ``to``, ``status`` (new / kept / removed), ``max_flow`` over the
        periods, ``periods`` (the periods that use it) and one flow column per period."""
        return self._tables["design"].copy()

    @property
    def regenerators(self) -> pd.DataFrame:
        """Water treated by each regenerator in each period (flow unit), and ``installed``."""
        return self._tables["regenerators"].copy()

    @property
    def operation(self) -> pd.DataFrame:
        """One row per period: hours, fresh water, wastewater, regenerated, reused, reuse rate, operating cost."""
        return self._tables["operation"].copy()

    @property
    def new_pipes(self) -> list[tuple[str, str]]:
        """The pipes to build."""
        d = self._tables["design"]
        return [tuple(x) for x in d.loc[d["status"] == "new", ["from", "to"]].to_numpy()]

    def to_dict(self) -> dict[str, Any]:
        """The plan as a JSON-ready mapping (``cascade solve --json`` of a plant with periods)."""
        return {
            "plant": self.plant,
            "objective_name": self.objective_name,
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "freshwater": self.freshwater,
            "hours": dict(self.hours),
            "design": self._tables["design"].to_dict(orient="records"),
            "regenerators": self._tables["regenerators"].reset_index().to_dict(orient="records"),
            "operation": self._tables["operation"].reset_index().to_dict(orient="records"),
            "year": self.year,
            "savings": dict(self.savings),
            "economics": dict(self.economics),
            "check": self.check,
            "periods": {p: plan.to_dict() for p, plan in self.periods.items()},
            "solve": dict(self.solve),
            "notes": list(self.notes),
            "units": dict(self.units),
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The plan as JSON text (see :meth:`to_dict`)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, default=_plain)

    def summary(self) -> str:
        """A readable report: status, the design, each period's operation and the year against the baseline."""
        u, money = self.units.get("flow", "t/h"), self.units.get("money", "")
        gap = "" if self.gap is None else f", gap {100 * self.gap:.3g} %"
        lines = [
            f"Plant: {self.plant} ({len(self.periods)} periods, {sum(self.hours.values()):g} h/yr)",
            f"Status: {self.status} (objective {self.objective_name}{gap}); check "
            + ("passed" if self.check["passed"] else "FAILED"),
            f"Fresh water: {self.freshwater:.4g} {u} hours-weighted, {self.year['freshwater_per_year']:.6g} "
            f"{u.split('/')[0]}/yr (baseline {self.year['baseline']['freshwater_per_year']:.6g}, "
            f"saves {self.savings['freshwater_pct']:.1f} %)",
            f"Annual cost: {self.year['costs']['total']:,.0f} {money}/yr (baseline "
            f"{self.year['baseline']['costs']['total']:,.0f}, saves {self.savings['cost_per_year']:,.0f})",
        ]
        capital = self.economics.get("capital", {}).get("total", 0.0)
        payback = self.economics.get("payback_years")
        lines.append(f"Capital: {capital:,.0f} {money}" + (f", payback {payback:.2f} yr" if payback else ""))
        new = self.new_pipes
        lines.append(f"New pipes ({len(new)}): " + (", ".join(f"{a} -> {b}" for a, b in new) or "none"))
        lines.append("Periods:")
        for name, row in self._tables["operation"].iterrows():
            lines.append(
                f"  {name}: {row['hours']:g} h, fresh water {row['freshwater']:.4g} {u}, reuse rate "
                f"{100 * row['reuse_rate']:.1f} %, operating {row['operating_cost']:,.0f} {money}"
            )
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<MultiPeriodPlan {self.plant!r}: {self.status}, {len(self.periods)} periods, "
            f"fresh water {self.freshwater:.4g} {self.units.get('flow', 't/h')}, {len(self.new_pipes)} new pipes>"
        )


def optimize_periods(
    plant: Plant,
    objective: str | None = None,
    *,
    time_limit: float | None = 60.0,
    mip_rel_gap: float | None = None,
    threads: int | None = None,
    tie_break: bool = True,
    solver_options: Mapping[str, Any] | None = None,
    profile: str | os.PathLike | Mapping[str, Any] | None = None,
    limits: Mapping[str, float] | None = None,
) -> MultiPeriodPlan:
    """Design one water network for every period of the plant (see the module notes).

    Parameters
    ----------
    plant : Plant
        With ``plant.periods``; validated first, never modified.
    objective : {'freshwater', 'cost', 'new_pipes'}, optional
        Defaults to the plant's. Fresh water is the hours-weighted mean intake; cost the money
        of the whole year.
    time_limit, mip_rel_gap, threads, solver_options, profile
        As in :func:`cascade.optimize`.
    tie_break : bool, default True
        Among designs within ``TIE_TOLERANCE`` of the optimum, take one with the fewest new pipes.
    limits : mapping, optional
        Upper limits on the year's ``freshwater`` (hours-weighted, flow unit), ``cost`` or
        ``new_pipes``.

    Returns
    -------
    MultiPeriodPlan

    Raises
    ------
    PlantDataError
        Invalid plant or periods, or a plant the multi-period model cannot represent exactly
        (UnsupportedFeatureError: it needs the bilinear method).
    InfeasiblePlantError
        A period cannot be served at all (named, with its units), or no single design serves
        every period within the design limits.
    SolverError
        HiGHS stopped without a plan.
    """
    objective = objective or plant.objective
    gap_limit, options = solver_settings(profile, mip_rel_gap, solver_options)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    plant.validate(strict=True)
    base = design_plant(plant)
    cases = _apply_periods(base, plant.periods)
    timings["validate"] = time.perf_counter() - start

    tick = time.perf_counter()
    design = build_superstructure(base)
    design.graph["limits"] = _canonical_limits(base, limits)
    graphs = {}
    for name, (p, _) in cases.items():
        try:
            graphs[name] = build_superstructure(p)
        except CascadeError as exc:
            raise type(exc)(f"period '{name}': {exc}") from exc
    hours = {name: h for name, (_, h) in cases.items()}
    timings["superstructure"] = time.perf_counter() - tick

    tick = time.perf_counter()
    model = build_period_model(design, graphs, hours, objective)
    timings["build"] = time.perf_counter() - tick
    solver = HighsSolver(time_limit=time_limit, mip_rel_gap=gap_limit, threads=threads, options=options)
    timings["handoff"] = solver.set_model(model)
    result = solver.solve(model)
    timings["solve"], timings["highs"] = result.solve_time, result.highs_time
    if result.status == "infeasible":
        raise InfeasiblePlantError(*_why_infeasible(graphs))
    if not result.has_solution:
        raise SolverError(f"HiGHS stopped without a plan ({result.termination}); try a longer time limit")

    stage2: dict[str, Any] = {"ran": False}
    if objective == "new_pipes":
        stage2["reason"] = "the objective is the number of new pipes"
    elif tie_break and result.status == "optimal":
        remaining = None if time_limit is None else time_limit - (time.perf_counter() - start)
        if remaining is None or remaining > 0.5:
            stage2 = _tie_break(model, solver, result.objective, remaining)
            timings["tie_break"] = stage2.get("solve_time", 0.0)
    if needs_pipe_decisions(design, objective) and not stage2.get("polished"):
        tick = time.perf_counter()
        stage2["polished"] = solver.polish(model)
        timings["polish"] = time.perf_counter() - tick

    return _extract(plant, base, design, cases, graphs, model, result, timings, stage2)


def _tie_break(model: pyo.ConcreteModel, solver: HighsSolver, optimum: float, time_limit: float | None) -> dict:
    """Fewest new pipes within ``TIE_TOLERANCE`` of the optimum, from the stage-1 design (y = 1 on used pipes)."""
    used = set().union(*period_flows(model).values())
    for e, var in model.pipe_built.items():
        if not model.data.graph.edges[e]["required"]:
            var.unfix()
            var.set_value(1 if e in used else 0)
    result = solve_fewest_new_pipes(model, solver, optimum, time_limit)
    if not result.has_solution:  # the stage-1 values are still loaded: polish keeps them
        return {"ran": True, "status": result.status, "kept": "stage 1", "solve_time": result.solve_time}
    return {
        "ran": True, "status": result.status, "new_pipes": round(result.objective), "gap": result.gap,
        "solve_time": result.solve_time, "polished": solver.polish(model),
    }


def period_flows(model: pyo.ConcreteModel) -> dict[str, Flows]:
    """Each period's flows (t/h) of the loaded solution, round-off below ``ZERO_FLOW`` read as zero."""
    return {
        p: {e: float(v.value) for e, v in model.period[p].flow.items() if v.value is not None and v.value > ZERO_FLOW}
        for p in model.period
    }


def design_costs(
    design: nx.DiGraph, graphs: Mapping[str, nx.DiGraph], hours: Mapping[str, float], flows: Mapping[str, Flows],
    *, priced_pipes: bool = True,
) -> dict[str, float]:
    """Money a year of a design and its operation in every period, recomputed from the flows.

    Per item as :func:`cascade.kpi.annual_costs`: water, discharge and treatment summed over the
    periods at their prices and hours; the fixed cost of every regenerator that treats water in
    some period; new pipes (those used in some period that are not existing) at their class for
    the largest flow they carry, removals of existing pipes no period uses, and regenerator capital
    at the largest flow it treats, annualised. ``priced_pipes=False`` leaves pipes out (the baseline).
    """
    totals = dict.fromkeys(("freshwater", "discharge", "regeneration", "capital", "pipes", "pipe_capital"), 0.0)
    peak: Flows = {}
    treated: dict[str, float] = {}
    for p, f in flows.items():
        g = graphs[p]
        for (i, j), q in f.items():
            peak[i, j] = max(peak.get((i, j), 0.0), q)
            if g.nodes[i]["kind"] == "supply":
                totals["freshwater"] += hours[p] * q * g.nodes[i]["price"]
            if g.nodes[j]["kind"] == "discharge":
                totals["discharge"] += hours[p] * q * g.nodes[j]["price"]
        into: dict[str, float] = {}
        for (_, j), q in f.items():
            if g.nodes[j]["kind"] == "regenerator":
                into[j] = into.get(j, 0.0) + q
        for r, q in into.items():
            totals["regeneration"] += hours[p] * q * g.nodes[r]["cost_per_t"]
            treated[r] = max(treated.get(r, 0.0), q)
    factor_ = design.graph.get("annualisation") or 0.0
    for r, q in treated.items():
        d = design.nodes[r]
        if q > 0:
            totals["regeneration"] += d["cost_fixed"]
            if d.get("capital_a", 0.0) > 0:
                totals["capital"] += factor_ * d["capital_a"] * q ** d["capital_b"]
    if priced_pipes:
        new = [e for e in peak if not design.edges[e]["existing"]]
        spend = capital_spend(design, peak, new)
        totals["pipes"] = design.graph["pipe_cost_fixed"] * len(new)
        totals["pipe_capital"] = factor_ * (spend["pipes"] + spend["removals"])
    totals["total"] = sum(totals.values())
    return totals


def _extract(
    plant: Plant, base: Plant, design: nx.DiGraph, cases: Mapping[str, tuple[Plant, float]],
    graphs: Mapping[str, nx.DiGraph], model: pyo.ConcreteModel, result: SolveResult, timings: dict[str, float],
    stage2: dict[str, Any],
) -> MultiPeriodPlan:
    """Check every period and the design, recompute the year and assemble the :class:`MultiPeriodPlan`."""
    tick = time.perf_counter()
    scale = factor("flow", plant.units["flow"])
    hours = {p: h for p, (_, h) in cases.items()}
    total_hours = sum(hours.values())
    flows = period_flows(model)
    period_result = replace(result, bound=None, gap=None)
    plans = {}
    for p, (case, _) in cases.items():
        plan = plan_from_flows(case, graphs[p], flows[p], model.objective_name, period_result)
        plans[p] = replace(plan, notes=plan.notes + (
            f"Period '{p}' of a multi-period design: money is over its {hours[p]:g} h; the design's capital and "
            "the year are in the MultiPeriodPlan.",
        ))

    peak: Flows = {}
    for f in flows.values():
        for e, q in f.items():
            peak[e] = max(peak.get(e, 0.0), q)
    free = design.copy()
    free.graph["limits"] = {}
    design_rows = design_violations(free, peak)
    costs = design_costs(design, graphs, hours, flows)
    freshwater = sum(hours[p] * plans[p].kpis["freshwater"] for p in cases) / total_hours  # flow unit
    true = {"freshwater": freshwater * scale, "cost": costs["total"],
            "new_pipes": float(sum(1 for e in peak if not design.edges[e]["existing"]))}
    for name, limit in (design.graph.get("limits") or {}).items():
        if true[name] > limit + (1e-6 if name == "new_pipes" else CHECK_TOLERANCE * max(1.0, abs(limit))):
            design_rows.append({"rule": f"{name} limit", "unit": "plant", "contaminant": None, "value": true[name],
                                "limit": limit, "relative": (true[name] - limit) / max(1.0, abs(limit))})
    modelled = pyo.value(getattr(model, model.objective_name))
    agree = abs(modelled - true[model.objective_name]) <= 1e-6 * max(1.0, abs(true[model.objective_name]))
    check = {
        "passed": all(pl.check.passed for pl in plans.values()) and not design_rows and agree,
        "periods": {p: pl.check.passed for p, pl in plans.items()},
        "design": design_rows,
        "objective": {"model": modelled, "recomputed": true[model.objective_name], "agree": agree},
    }

    base_flows = {}
    for p, (case, _) in cases.items():
        _, b = baseline_flows(case, graphs[p])
        base_flows[p] = {e: f for e, f in b.items() if e[0] in graphs[p] and e[1] in graphs[p]}
    base_costs = design_costs(design, graphs, hours, base_flows, priced_pipes=False)
    base_fresh = sum(hours[p] * plans[p].baseline["freshwater"] for p in cases)  # flow unit x h
    fresh_year = freshwater * total_hours
    capital = capital_spend(design, peak)
    capital["regenerators"] = costs["capital"] / (design.graph.get("annualisation") or 1.0)
    capital["total"] = capital["pipes"] + capital["removals"] + capital["regenerators"]

    status = result.status
    notes = [f"One design for {len(cases)} periods ({', '.join(f'{p} {h:g} h' for p, h in hours.items())}); "
             "fresh water is the hours-weighted mean, money is summed over the year."]
    if abs(total_hours - plant.hours_per_year) > 1e-9 * plant.hours_per_year:
        notes.append(f"The periods cover {total_hours:g} h a year, the plant's hours_per_year is "
                     f"{plant.hours_per_year:g}: the year here is the periods' hours.")
    if not check["passed"]:
        status = "error"
        failed = [p for p, ok in check["periods"].items() if not ok]
        notes.append(
            "The independent check FAILED ("
            + "; ".join(filter(None, [
                f"periods {', '.join(failed)}" if failed else "",
                f"{len(design_rows)} design limit(s)" if design_rows else "",
                "" if agree else f"model objective {modelled:.9g} against {true[model.objective_name]:.9g} "
                                 "recomputed from the flows",
            ]))
            + "); the solver's answer is not a valid plan."
        )
    elif status == "feasible":
        notes.append(f"The search stopped at a limit ({result.termination}) before proving optimality"
                     + ("" if result.gap is None else f": the design is within {100 * result.gap:.3g} % of the bound")
                     + ".")

    objective = true[model.objective_name]
    bound = result.bound
    if model.objective_name == "freshwater":
        objective = freshwater
        bound = None if bound is None else bound / scale
    tables = _tables(design, plans, flows, peak, hours, graphs, scale)
    timings["check_and_extract"] = time.perf_counter() - tick
    return MultiPeriodPlan(
        plant=plant.name,
        objective_name=model.objective_name,
        status=status,
        objective=objective,
        bound=bound,
        gap=result.gap,
        hours=hours,
        periods=plans,
        freshwater=freshwater,
        year={
            "freshwater_per_year": fresh_year,
            "wastewater_per_year": sum(hours[p] * plans[p].wastewater for p in cases),
            "costs": costs,
            "baseline": {
                "kind": next(iter(plans.values())).baseline["kind"],
                "freshwater_per_year": base_fresh,
                "wastewater_per_year": sum(hours[p] * plans[p].baseline["wastewater"] for p in cases),
                "costs": base_costs,
            },
        },
        savings={
            "freshwater_per_year": base_fresh - fresh_year,
            "freshwater_pct": 100 * (base_fresh - fresh_year) / base_fresh if base_fresh > 0 else 0.0,
            "cost_per_year": base_costs["total"] - costs["total"],
        },
        economics=plan_economics(design, capital, costs, base_costs, plant.finance),
        check=check,
        solve={
            "times": timings, "size": dict(result.size), "termination": result.termination,
            "stage1": {"status": result.status, "objective": result.objective, "bound": result.bound,
                       "gap": result.gap},
            "tie_break": stage2,
        },
        notes=tuple(notes),
        units=dict(plant.units),
        _tables=tables,
    )


def _tables(
    design: nx.DiGraph, plans: Mapping[str, RetrofitPlan], flows: Mapping[str, Flows], peak: Flows,
    hours: Mapping[str, float], graphs: Mapping[str, nx.DiGraph], scale: float,
) -> dict[str, pd.DataFrame]:
    """The design's pipes, the regenerators' flows and the operation of each period."""
    names = list(plans)
    existing = {(i, j) for i, j, d in design.edges(data=True) if d["existing"]}
    rows = []
    for e in sorted(set(peak) | existing):
        status = ("kept" if e in peak else "removed") if e in existing else "new"
        row = {"from": e[0], "to": e[1], "status": status, "max_flow": peak.get(e, 0.0) / scale,
               "periods": ", ".join(p for p in names if e in flows[p])}
        row.update({p: flows[p].get(e, 0.0) / scale for p in names})
        rows.append(row)
    pipes = pd.DataFrame(rows, columns=["from", "to", "status", "max_flow", "periods", *names])
    regenerators = [n for n, d in design.nodes(data=True) if d["kind"] == "regenerator"]
    treated = pd.DataFrame(
        {p: [sum(q for (_, j), q in flows[p].items() if j == r) / scale for r in regenerators] for p in names},
        index=pd.Index(regenerators, name="regenerator"), dtype=float,
    )
    treated["installed"] = treated.max(axis=1) > ZERO_FLOW if names else False
    operation = pd.DataFrame(
        [
            {
                "period": p, "hours": hours[p], "freshwater": pl.freshwater, "wastewater": pl.wastewater,
                "regenerated": pl.regenerated, "reused": pl.kpis["reused"], "reuse_rate": pl.kpis["reuse_rate"],
                "operating_cost": pl.costs["freshwater"] + pl.costs["discharge"] + _variable_treatment(
                    graphs[p], flows[p], hours[p]),
                "baseline_freshwater": pl.baseline["freshwater"],
            }
            for p, pl in plans.items()
        ]
    ).set_index("period")
    return {"design": pipes, "regenerators": treated, "operation": operation}


def _variable_treatment(graph: nx.DiGraph, flows: Flows, hours: float) -> float:
    return hours * sum(q * graph.nodes[j]["cost_per_t"] for (_, j), q in flows.items()
                       if graph.nodes[j]["kind"] == "regenerator")


def _why_infeasible(graphs: Mapping[str, nx.DiGraph]) -> tuple[str, list[str]]:
    """Name the first period that cannot be served at all, else say the periods cannot share one design."""
    for name, graph in graphs.items():
        free = baseline_graph(graph)
        alone = build_model(free, "freshwater", pipes=False)
        if not HighsSolver(time_limit=30).solve(alone).has_solution:
            message, units = _diagnose(free, False)
            return f"period '{name}': {message}", units
    return (
        "Every period can be served on its own, but no single design serves them all within the design limits "
        "(budget, max_new_pipes, max_inlets, study limits). Raise a limit or check the periods' changes.",
        [],
    )


__all__ = ["optimize_periods", "MultiPeriodPlan", "period_plants", "design_plant", "design_costs", "period_flows"]
