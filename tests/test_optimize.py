"""The optimisation pipeline against published optima and hand-checkable micro-plants."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import micro

import cascade
from cascade import Plant
from cascade.optimize import baseline_flows


def test_wang_smith_published_optimum():
    plan = cascade.optimize(cascade.examples.wang_smith())
    assert plan.status == "optimal"
    assert plan.freshwater == pytest.approx(90.0, rel=1e-9)
    assert plan.wastewater == pytest.approx(90.0, rel=1e-9)
    assert plan.baseline["freshwater"] == pytest.approx(112.5)
    assert plan.savings["freshwater"] == pytest.approx(22.5)
    assert plan.savings["freshwater_pct"] == pytest.approx(20.0)
    assert plan.gap == 0.0 and plan.bound == pytest.approx(90.0)
    assert plan.check.passed
    # every operation's outlet sits at its maximum (Savelski-Bagajewicz), inlet within its limit
    out = plan.outlet_quality["C"]
    assert out[["OP1", "OP2"]].tolist() == pytest.approx([100, 100])
    assert out[["OP3", "OP4"]].tolist() == pytest.approx([800, 800])
    assert (plan.inlet_quality.loc[["OP1", "OP2", "OP3", "OP4"], "C"] <= [1e-9, 50 + 1e-9, 50 + 1e-9, 400 + 1e-9]).all()


def test_polley_published_optimum():
    plan = cascade.optimize(cascade.examples.polley())
    assert plan.status == "optimal"
    assert plan.freshwater == pytest.approx(70.0, rel=1e-9)
    assert plan.wastewater == pytest.approx(50.0, rel=1e-9)
    assert plan.check.passed


def test_micro_plant_by_hand():
    # sink 10 t/h at <= 50 ppm from fresh (0) and a 100 ppm source: x fresh, 100 (10 - x) <= 500 -> x = 5
    plan = cascade.optimize(micro())
    assert plan.freshwater == pytest.approx(5.0)
    assert plan.wastewater == pytest.approx(5.0)
    assert plan.kpis["reuse_rate"] == pytest.approx(5 / 10)
    assert plan.inlet_quality.loc["D", "C"] == pytest.approx(50.0)
    # a clean enough source needs no fresh water at all
    assert cascade.optimize(micro(source_quality=20)).freshwater == pytest.approx(0.0, abs=1e-9)


def test_flow_units_are_reported_in_the_plant_units():
    plant = micro()
    plant.units["flow"] = "kg/s"  # tables stay canonical (t/h); reports convert
    plan = cascade.optimize(plant)
    assert plan.freshwater == pytest.approx(5.0 / 3.6)
    assert plan.flows["flow"].sum() == pytest.approx(15.0 / 3.6)
    assert plan.units["flow"] == "kg/s"


def test_regenerator_capacity_by_hand():
    # D: 10 t/h at <= 10 ppm; S: 10 t/h at 100 ppm; regenerator to 5 ppm, 6 t/h at most.
    # D takes 6 @ 5 + y @ 100 + x @ 0 with 30 + 100 y <= 100 -> y = 0.7, x = 3.3
    plant = (
        Plant("regen", ["C"]).add_freshwater("FW", {"C": 0}).add_sink("D", 10, {"C": 10})
        .add_source("S", 10, {"C": 100}).add_regenerator("R", outlet={"C": 5}, max_flow=6)
    )
    plan = cascade.optimize(plant)
    assert plan.freshwater == pytest.approx(3.3)
    assert plan.regenerated == pytest.approx(6.0)
    assert plan.regeneration.loc["R", "reused"] + plan.regeneration.loc["R", "recycled"] == pytest.approx(6.0)
    unlimited = cascade.optimize(
        Plant("regen", ["C"]).add_freshwater("FW", {"C": 0}).add_sink("D", 10, {"C": 10})
        .add_source("S", 10, {"C": 100}).add_regenerator("R", outlet={"C": 5})
    )
    assert unlimited.freshwater == pytest.approx(0.0, abs=1e-9)


def test_two_contaminants_fixed_flow():
    # D needs A <= 10 and B <= 10; S1 (A 0, B 40) and S2 (A 40, B 0), 5 t/h each: a 50/50 mix has 20/20,
    # so fresh water x with (5 - a) sources... by hand: use 2.5 of each source and 5 fresh -> 10/10.
    plant = (
        Plant("two", ["A", "B"]).add_freshwater("FW").add_sink("D", 10, {"A": 10, "B": 10})
        .add_source("S1", 5, {"A": 0, "B": 40}).add_source("S2", 5, {"A": 40, "B": 0})
    )
    plan = cascade.optimize(plant)
    assert plan.freshwater == pytest.approx(5.0)
    assert plan.inlet_quality.loc["D"].tolist() == pytest.approx([10.0, 10.0])


def test_cost_objective_pipes_existing_and_baseline():
    def plant(pipe_cost: float, existing: bool) -> Plant:
        p = (Plant("cost", ["C"], hours_per_year=1000, objective="cost")
             .add_freshwater("FW", {"C": 0}, price=4).add_sink("D", 10, {"C": 50})
             .add_source("S", 10, {"C": 20}).add_discharge("WW", price=1))
        p.pipe_cost_fixed = pipe_cost
        if existing:
            p.add_existing("FW", "D", 10).add_existing("S", "WW", 10)
        return p

    # no existing network: reuse needs one pipe (S -> D) instead of two
    plan = cascade.optimize(plant(1e6, existing=False))
    assert plan.costs["total"] == pytest.approx(1e6)
    assert plan.freshwater == pytest.approx(0.0, abs=1e-9)
    # with today's pipes free to keep, a 1e6/yr new pipe does not pay: keep the baseline
    kept = cascade.optimize(plant(1e6, existing=True))
    assert kept.costs["total"] == pytest.approx(50_000)
    assert kept.baseline["cost"] == pytest.approx(50_000)
    assert set(kept.pipes["status"]) == {"kept"}
    assert kept.savings["cost_per_year"] == pytest.approx(0.0, abs=1e-6)
    # a cheap pipe pays: S -> D is new, both old pipes are removed
    cheap = cascade.optimize(plant(100, existing=True))
    assert cheap.costs["total"] == pytest.approx(100)
    assert sorted(cheap.pipes["status"]) == ["new", "removed", "removed"]
    assert cheap.savings["cost_per_year"] == pytest.approx(50_000 - 100)
    assert cheap.new_pipes == [("S", "D")]


def test_min_flow_forbids_small_pipes():
    plant = micro()
    assert cascade.optimize(plant).freshwater == pytest.approx(5.0)
    plant.min_flow = 6.0  # the 5 t/h reuse pipe is now too small
    plan = cascade.optimize(plant)
    assert plan.freshwater == pytest.approx(10.0)
    assert (plan.flows["flow"] >= 6.0 - 1e-9).all()


def test_required_and_forbidden_pipes():
    plant = micro()
    plant.forbid("S", "D")
    assert cascade.optimize(plant).freshwater == pytest.approx(10.0)
    plant = micro(source_quality=20).require("FW", "D")
    plan = cascade.optimize(plant)
    assert plan.flows.set_index(["from", "to"]).loc[("FW", "D"), "flow"] >= 1e-3 - 1e-12


def test_tie_break_never_uses_more_pipes_and_keeps_the_optimum():
    plain = cascade.optimize(cascade.examples.polley(), tie_break=False)
    tidy = cascade.optimize(cascade.examples.polley())
    assert tidy.freshwater == pytest.approx(plain.freshwater, rel=1e-7)
    assert len(tidy.flows) <= len(plain.flows)
    assert tidy.solve["tie_break"]["ran"] and tidy.solve["tie_break"]["new_pipes"] == len(tidy.flows)


def test_monotone_in_allowed_pipes_and_scaling():
    base = cascade.optimize(cascade.examples.polley()).freshwater
    restricted = cascade.examples.polley().forbid("S1", "D2").forbid("S3", "D4")
    assert cascade.optimize(restricted).freshwater >= base - 1e-9
    scaled = Plant("scaled", ["C"]).add_freshwater("FW", {"C": 0})
    for r in cascade.examples.polley().records("sinks"):
        scaled.add_sink(r.id, 3 * r.values["flow"], r.values["max"])
    for r in cascade.examples.polley().records("sources"):
        scaled.add_source(r.id, 3 * r.values["flow"], r.values["quality"])
    assert cascade.optimize(scaled).freshwater == pytest.approx(3 * base)


def test_infeasible_plant_names_the_units():
    plant = (Plant("short", ["C"]).add_freshwater("FW", {"C": 0}, max_flow=2)
             .add_sink("D", 10, {"C": 50}).add_source("S", 10, {"C": 100}))
    with pytest.raises(cascade.InfeasiblePlantError) as err:
        cascade.optimize(plant)
    assert "D" in err.value.units or "FW" in err.value.units
    assert "cannot all be satisfied" in str(err.value)


def test_the_linear_model_refuses_bilinear_features_without_guesses():
    graph = cascade.build_superstructure(micro().add_regenerator("R", removal={"C": 0.9}))
    with pytest.raises(cascade.UnsupportedFeatureError, match="removal"):
        cascade.build_model(graph)
    model = cascade.build_model(graph, outlet={("R", "C"): 10.0})  # the restriction at a guess is linear
    assert ("R", "C") in model.regenerator_outlet


def test_the_method_follows_the_physics():
    # Operations at their outlet maximum are exact for fresh water alone; under cost they are not.
    assert cascade.optimize(cascade.examples.wang_smith()).solve["method"]["name"] == "linear"
    plan = cascade.optimize(cascade.examples.wang_smith(), "cost")
    assert plan.solve["method"]["name"] == "bilinear" and plan.status == "optimal"
    assert not any("Savelski" in n for n in plan.notes) and any("lower bound" in n for n in plan.notes)


def test_plan_is_immutable_and_serialises():
    plan = cascade.optimize(micro())
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.status = "optimal"  # type: ignore[misc]
    flows = plan.flows
    flows.loc[0, "flow"] = -1
    assert (plan.flows["flow"] > 0).all()
    data = plan.to_dict()
    for key in ("status", "objective", "bound", "gap", "freshwater", "wastewater", "regenerated", "flows",
                "baseline", "savings", "check", "kpis"):
        assert key in data
    assert {"from", "to", "flow"} <= set(data["flows"][0])
    assert data["check"]["passed"] is True and "reuse_rate" in data["kpis"]
    assert "freshwater_pct" in data["savings"]
    assert "fresh water" in plan.summary()


def test_plant_is_not_modified():
    plant = cascade.examples.polley()
    before = plant.to_yaml()
    cascade.optimize(plant)
    assert plant.to_yaml() == before


def random_cost_plant(n: int, seed: int) -> Plant:
    """n sink/source pairs sharing a unit, cost objective, min pipe flow and pipe cost (a real MILP)."""
    import random

    rnd = random.Random(seed)
    plant = Plant(f"random {n}", ["C"], objective="cost").add_freshwater("FW", {"C": 0}, price=4)
    for k in range(n):
        plant.add_sink(f"D{k}", rnd.randint(5, 50), {"C": rnd.randint(0, 300)}, unit=f"U{k}")
        plant.add_source(f"S{k}", rnd.randint(3, 45), {"C": rnd.randint(10, 500)}, unit=f"U{k}")
    plant.add_discharge("WW", price=2)
    plant.min_flow, plant.pipe_cost_fixed = 2.0, 20_000.0
    return plant


@pytest.mark.slow
def test_a_limit_stop_with_a_plan_is_feasible_with_its_gap():
    # HiGHS stopped after one branch-and-bound node: a plan in hand, optimality not proven
    plan = cascade.optimize(random_cost_plant(10, 1), solver_options={"mip_max_nodes": 1}, tie_break=False)
    assert plan.status == "feasible"
    assert plan.gap is not None and plan.gap > 0
    assert plan.bound <= plan.objective * (1 + 1e-9)
    assert plan.check.passed
    assert any("limit" in note for note in plan.notes)
    # the same plant solved to the end is optimal and no worse
    full = cascade.optimize(random_cost_plant(10, 1), tie_break=False)
    assert full.status == "optimal" and full.objective <= plan.objective + 1e-6
    assert full.objective >= plan.bound - 1e-6


def test_min_flow_never_exceeds_a_whole_stream():
    # a 0.5 t/h source with min_flow 1: the pipe carrying the whole stream is allowed
    plant = micro(source_quality=20)
    plant.add_source("S_small", 0.5, {"C": 20})
    plant.min_flow = 1.0
    plan = cascade.optimize(plant)
    assert plan.check.passed
    assert plan.freshwater == pytest.approx(0.0, abs=1e-9)


def test_infeasible_source_with_nowhere_to_go_is_named():
    # the source's only outlets are a sink too small for it and a discharge its quality breaks
    plant = (Plant("stuck", ["C"]).add_freshwater("FW").add_sink("D", 2, {"C": 500})
             .add_source("S", 10, {"C": 300}).add_discharge("WW", {"C": 100}))
    with pytest.raises(cascade.InfeasiblePlantError) as err:
        cascade.optimize(plant)
    assert err.value.units and set(err.value.units) <= {"S", "D", "WW"}


def test_no_reuse_baseline_respects_supply_caps():
    # Cheap reclaimed water is capped at 8 t/h: the baseline takes it first, then mains, never beyond the cap.
    plant = (Plant("caps", ["C"]).add_freshwater("RW", {"C": 5}, price=1, max_flow=8)
             .add_freshwater("FW", {"C": 0}, price=3)
             .add_sink("D1", 10, {"C": 10}).add_sink("D2", 5, {"C": 10}).add_source("S", 15, {"C": 100}))
    kind, flows = baseline_flows(plant, cascade.build_superstructure(plant))
    assert kind == "no reuse"
    assert flows == {("RW", "D1"): 8.0, ("FW", "D1"): 2.0, ("FW", "D2"): 5.0, ("S", "WW"): 15.0}
    plan = cascade.optimize(plant, "cost")
    assert plan.baseline["cost"] == pytest.approx(8000 * (8 * 1 + 7 * 3))
    assert not any("baseline" in note and "breaks" in note for note in plan.notes)


def test_a_baseline_that_breaks_a_limit_is_said_so():
    # Today the 10 t/h sink (<= 50 ppm) takes the 100 ppm source whole: 100 ppm at its inlet.
    plant = micro().add_existing("S", "D", 10)
    plan = cascade.optimize(plant)
    assert plan.check.passed and plan.freshwater == pytest.approx(5.0)
    assert any("baseline (existing) itself breaks" in note and "inlet limit at D" in note for note in plan.notes)
