"""Solve speed without losing exactness: tightened arcs, the projected LP bound, the large-plant search, progress.

Oracles: the plain formulation (every arc, bounds from the two ends) solved to optimality; the LP
relaxation of the MILP built by Pyomo's own transformation; hand-computed dilution bounds.
"""

from __future__ import annotations

import sys

import numpy as np
import pyomo.environ as pyo
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import cascade
from cascade import Plant
from cascade.formulation import build_model
from cascade.formulation.data import build_data
from cascade.solve import HighsSolver

OPTIMIZE = sys.modules["cascade.optimize"]  # the module (cascade.optimize is the function)


@st.composite
def pipe_plants(draw) -> Plant:
    """Small linear plants with pipe decisions: fixed-flow users, a capped second supply, fixed-outlet
    regenerators, discharge limits, a minimum pipe flow that dilution can make unreachable, and pipe costs."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    k = draw(st.integers(1, 2))
    cs = [f"C{i + 1}" for i in range(k)]
    plant = Plant("random pipes", cs, objective="cost", hours_per_year=8000.0,
                  min_flow=draw(st.sampled_from([0.0, 1.0, 3.0])), pipe_cost_fixed=draw(st.sampled_from([0.0, 5000.0])))
    plant.add_freshwater("FW", dict.fromkeys(cs, 0.0), price=4.0)
    plant.add_freshwater("RW", {c: float(rng.integers(5, 40)) for c in cs}, price=2.5,
                         max_flow=float(rng.integers(5, 30)))
    n = draw(st.integers(2, 5))
    for u in range(n):
        flow = float(rng.integers(5, 40))
        limit = {c: float(rng.integers(0, 100)) for c in cs}
        plant.add_sink(f"D{u}", flow, limit, unit=f"U{u}")
        plant.add_source(f"S{u}", round(flow * float(rng.uniform(0.8, 1.0)), 1),
                         {c: limit[c] + float(rng.integers(10, 600)) for c in cs}, unit=f"U{u}")
    for r in range(draw(st.integers(0, 2))):
        plant.add_regenerator(f"R{r}", outlet={c: float(rng.integers(2, 20)) for c in cs},
                              max_flow=float(rng.integers(10, 40)), cost_per_t=float(rng.uniform(0.5, 1.5)),
                              cost_fixed=float(rng.integers(0, 3)) * 1e5)
    plant.add_discharge("WW", dict.fromkeys(cs, 2000.0), price=1.5)
    return plant


def _optimum(model: pyo.ConcreteModel) -> float:
    result = HighsSolver(mip_rel_gap=1e-9).solve(model)
    assert result.status == "optimal", result
    return result.objective


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pipe_plants())
def test_tightened_formulation_has_the_optimum_of_the_plain_one(plant):
    note(plant.to_yaml())
    graph = cascade.build_superstructure(plant)
    tight = build_model(graph, "cost")
    plain = build_model(graph, "cost", tighten=False)
    assert len(tight.data.edges) <= len(plain.data.edges)
    assert all(tight.data.arc_bound[e] <= plain.data.arc_bound[e] + 1e-12 for e in tight.data.edges)
    assert _optimum(tight) == pytest.approx(_optimum(plain), rel=1e-7, abs=1e-6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pipe_plants())
def test_projected_lp_is_the_lp_relaxation_of_the_milp(plant):
    note(plant.to_yaml())
    graph = cascade.build_superstructure(plant)
    milp = build_model(graph, "cost")
    pyo.TransformationFactory("core.relax_integer_vars").apply_to(milp)
    projected = build_model(graph, "cost", relaxed=True)
    assert not any(v.is_integer() for v in projected.component_data_objects(pyo.Var))
    assert _optimum(projected) == pytest.approx(_optimum(milp), rel=1e-7, abs=1e-6)


def test_dilution_bound_by_hand_and_unusable_arc_left_out():
    # D needs 50 t/h at <= 10 ppm; S gives 20 t/h at 1010 ppm; the cleanest feeder is FW at 0 ppm.
    # x t/h of S in D: 1010 x <= 10 * 50, so x <= 500 / 1010 = 0.495 t/h: below a 1 t/h minimum pipe flow
    # the arc is left out; with a 0.4 t/h minimum it stays, bounded by 0.495.
    def plant(min_flow: float) -> Plant:
        return (Plant("dilution", ["C"], min_flow=min_flow).add_freshwater("FW", {"C": 0})
                .add_sink("D", 50, {"C": 10}).add_source("S", 20, {"C": 1010}).add_discharge("WW"))

    data = build_data(cascade.build_superstructure(plant(1.0)))
    assert ("S", "D") not in data.edges and ("S", "WW") in data.edges
    data = build_data(cascade.build_superstructure(plant(0.4)))
    assert data.arc_bound["S", "D"] == pytest.approx(500 / 1010)
    plain = build_data(cascade.build_superstructure(plant(1.0)), tighten=False)
    assert plain.arc_bound["S", "D"] == 20.0


def test_a_unit_keeps_its_arcs_when_none_could_be_used():
    # every stream that may reach D is too dirty even diluted: the arcs stay, so a model of it is infeasible
    # rather than missing D's demand (validation already refuses such a plant, naming D)
    plant = (Plant("dead sink", ["C"], min_flow=1.0).add_freshwater("FW", {"C": 50})
             .add_sink("D", 10, {"C": 10}).add_discharge("WW"))
    data = build_data(cascade.build_superstructure(plant))
    assert data.in_edges["D"]
    assert HighsSolver().solve(build_model(cascade.build_superstructure(plant), "cost")).status == "infeasible"
    with pytest.raises(cascade.PlantDataError, match="sink 'D'"):
        cascade.optimize(plant)


def _synthetic(n: int, seed: int) -> Plant:
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    from benchmarks.generator import synthetic_plant

    return synthetic_plant(n, seed=seed)


@pytest.mark.parametrize("full", [True, False], ids=["whole MILP after", "neighbourhoods only"])
def test_large_plant_search_is_honest(monkeypatch, full):
    plant = _synthetic(5, seed=0)
    exact = cascade.optimize(plant, time_limit=None, tie_break=False)
    assert exact.status == "optimal"
    monkeypatch.setattr(OPTIMIZE, "SEARCH_PIPES", 0)
    monkeypatch.setattr(OPTIMIZE, "FULL_MODEL_PIPES", 10**9 if full else 0)
    plan = cascade.optimize(plant, time_limit=20, tie_break=False)
    assert plan.check.passed
    assert plan.solve["method"]["search"]["full_model"] is full
    assert any("Large plant" in n for n in plan.notes)
    # the bound is a bound of the plant, the plan a plan of it
    assert plan.bound <= exact.objective * (1 + 1e-7) + 1e-6
    assert plan.objective >= exact.objective * (1 - 1e-7) - 1e-6
    if plan.status == "optimal":
        assert plan.gap <= 1e-6 * (1 + 1e-9) or full
    else:
        assert plan.gap > 0
    if full:  # the whole MILP from the restricted plan proves the optimum
        assert plan.status == "optimal" and plan.objective == pytest.approx(exact.objective, rel=1e-6)


def test_progress_history_is_monotone_and_ends_at_the_plan():
    seen = []
    plan = cascade.optimize(_synthetic(6, seed=0), time_limit=10, tie_break=False,
                            progress=lambda t, o, b: seen.append((t, o, b)))
    history = plan.solve["progress"]
    assert [tuple(h) for h in history] == seen and history
    times = [h[0] for h in history]
    plans = [h[1] for h in history if h[1] is not None]
    bounds = [h[2] for h in history if h[2] is not None]
    assert times == sorted(times)
    assert plans == sorted(plans, reverse=True) and bounds == sorted(bounds)
    assert plans[-1] == pytest.approx(plan.objective, rel=1e-9)
    assert bounds[-1] <= plan.objective * (1 + 1e-9)


def test_an_unfinished_lp_bounds_nothing(monkeypatch):
    # the projected LP stopped by its time limit: no LP bound is claimed, the search still finds a plan
    from dataclasses import replace

    from cascade import search

    def stopped(graph, objective, **kw):
        done = search.solve_relaxation(graph, objective, **kw)
        return search.Relaxation(done.model, replace(done.result, status="error", objective=None), {}, {})

    monkeypatch.setattr(OPTIMIZE, "SEARCH_PIPES", 0)
    monkeypatch.setattr(OPTIMIZE, "FULL_MODEL_PIPES", 0)
    monkeypatch.setattr(OPTIMIZE, "solve_relaxation", stopped)
    plan = cascade.optimize(_synthetic(5, seed=0), time_limit=5, tie_break=False)
    assert plan.solve["method"]["search"]["lp_bound"] is None
    assert plan.check.passed and plan.status == "feasible"
    assert plan.bound is None and plan.gap is None
