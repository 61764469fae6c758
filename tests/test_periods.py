"""Multi-period design: one network for several operating periods.

Oracle: a micro-plant worked by hand. A sink K (C <= 100 ppm) is fed today by fresh water FW
(1 money/t) and a source S (C = 50 ppm) drains to WW (free). The new pipe S -> K costs P a year.

* period A, 1000 h: K takes 10 t/h, S gives 10 t/h: with the pipe K needs no fresh water;
* period B, 3000 h: K takes 10 t/h, S gives 2 t/h: with the pipe K needs 8 t/h.

Without the pipe fresh water is 10 t/h all year: 40 000 money. With it, 0 x 1000 + 8 x 3000 =
24 000 t (hours-weighted mean 6 t/h) and 24 000 + P money. So the year builds the pipe when
P < 16 000, although period B alone (4000 h at 2 t/h: 8000 a year) would not pay for it.
If B's source is at 400 ppm, K can take only 1000 / 400 = 2.5 t/h of it (fresh water 5.625 t/h over
the year); with a minimum pipe flow of 3 t/h the pipe stands idle in B: (0 x 1000 + 10 x 3000) / 4000
= 7.5 t/h.
"""

from __future__ import annotations

import json

import pytest

import cascade
from cascade.cli import main
from cascade.exceptions import InfeasiblePlantError, PlantDataError, UnsupportedFeatureError
from cascade.periods import optimize_periods

PERIODS = [
    {"id": "A", "hours": 1000, "changes": {"sources.S.flow": 10}},
    {"id": "B", "hours": 3000, "changes": {"sources.S.flow": 2}},
]


def plant(pipe_cost: float = 10_000.0, periods=PERIODS, **connections) -> cascade.Plant:
    return cascade.read_plant({
        "format": "cascade-plant/1",
        "name": "two seasons",
        "contaminants": ["C"],
        "hours_per_year": 4000,
        "freshwater": [{"id": "FW", "quality": {"C": 0}, "price": 1.0}],
        "sinks": [{"id": "K", "flow": 10, "max": {"C": 100}}],
        "sources": [{"id": "S", "flow": 10, "quality": {"C": 50}}],
        "connections": {"existing": [["FW", "K", 10], ["S", "WW", 10]], "pipe_cost": {"fixed": pipe_cost},
                        **connections},
        "objective": "cost",
        "periods": periods,
    })


def test_the_year_pays_for_a_pipe_one_period_alone_would_not():
    plan = optimize_periods(plant(10_000.0))
    assert plan.status == "optimal" and plan.check["passed"]
    assert plan.new_pipes == [("S", "K")]
    assert plan.objective == pytest.approx(34_000.0)
    assert plan.year["costs"]["total"] == pytest.approx(34_000.0)
    assert plan.year["baseline"]["costs"]["total"] == pytest.approx(40_000.0)
    assert plan.freshwater == pytest.approx(6.0)
    assert plan.periods["A"].freshwater == pytest.approx(0.0, abs=1e-9)
    assert plan.periods["B"].freshwater == pytest.approx(8.0)
    design = plan.design.set_index(["from", "to"])
    assert design.loc[("S", "K"), "max_flow"] == pytest.approx(10.0)
    assert design.loc[("S", "K"), "periods"] == "A, B"
    # period B alone, over the whole year, would not build it
    alone = cascade.optimize(cascade.apply_changes(plant(10_000.0, periods=None), {"sources.S.flow": 2}))
    assert alone.new_pipes == [] and alone.costs["total"] == pytest.approx(40_000.0)


def test_too_dear_a_pipe_is_not_built():
    plan = optimize_periods(plant(20_000.0))
    assert plan.status == "optimal" and plan.check["passed"]
    assert plan.new_pipes == []
    assert plan.objective == pytest.approx(40_000.0)
    assert plan.savings["cost_per_year"] == pytest.approx(0.0, abs=1e-6)


def test_fresh_water_is_hours_weighted_and_a_built_pipe_may_stand_idle():
    plan = optimize_periods(plant(), "freshwater")
    assert plan.objective == pytest.approx(6.0)
    assert plan.year["freshwater_per_year"] == pytest.approx(24_000.0)
    assert plan.savings["freshwater_per_year"] == pytest.approx(16_000.0)
    # in B the source is dirtier: K (10 t/h at <= 100 ppm) can take 1000 / 400 = 2.5 t/h of it
    dirty = [PERIODS[0], {"id": "B", "hours": 3000, "changes": {"sources.S.quality.C": 400}}]
    assert optimize_periods(plant(periods=dirty), "freshwater").objective == pytest.approx(7.5 * 3000 / 4000)
    idle = optimize_periods(plant(periods=dirty, min_flow=3), "freshwater")  # 2.5 t/h is below the minimum
    assert idle.status == "optimal" and idle.check["passed"]
    assert idle.objective == pytest.approx(7.5)
    flows = idle.design.set_index(["from", "to"])
    assert flows.loc[("S", "K"), "A"] == pytest.approx(10.0)
    assert flows.loc[("S", "K"), "B"] == 0.0 and flows.loc[("S", "K"), "periods"] == "A"


def test_design_limits_hold_over_the_year():
    plan = optimize_periods(plant(), "freshwater", limits={"new_pipes": 0})
    assert plan.new_pipes == [] and plan.objective == pytest.approx(10.0)
    with pytest.raises(InfeasiblePlantError, match="no single design"):
        optimize_periods(plant(), "freshwater", limits={"freshwater": 5.0})


def test_one_period_covering_the_year_is_the_single_period_design():
    sample = cascade.read_plant("models/food_plant_retrofit/plant.yaml")
    single = cascade.optimize(sample)
    sample.periods = [{"id": "year", "hours": sample.hours_per_year, "changes": {}}]
    plan = optimize_periods(sample)
    assert plan.status == single.status == "optimal" and plan.check["passed"]
    assert plan.objective == pytest.approx(single.objective, rel=1e-6)
    assert plan.economics["capital"]["total"] == pytest.approx(single.economics["capital"]["total"])
    assert plan.freshwater == pytest.approx(single.freshwater, rel=1e-6)


def test_every_plan_of_the_sample_plant_passes_the_checks():
    sample = cascade.read_plant("models/food_plant_retrofit/plant.yaml")
    assert [p["id"] for p in sample.periods] == ["summer", "shoulder", "winter"]
    plans = {o: optimize_periods(sample, o) for o in ("cost", "freshwater", "new_pipes")}
    for objective, plan in plans.items():
        assert plan.status == "optimal", objective
        assert plan.check["passed"] and all(plan.check["periods"].values())
        assert plan.check["objective"]["agree"]
        assert sum(plan.hours.values()) == sample.hours_per_year
        assert plan.year["costs"]["total"] == pytest.approx(
            sum(v for k, v in plan.year["costs"].items() if k != "total"))
    cost, water = plans["cost"], plans["freshwater"]
    assert 0 < cost.objective <= cost.year["baseline"]["costs"]["total"]
    assert water.objective <= cost.freshwater + 1e-9  # the water optimum is never beaten on water
    assert cost.objective <= water.year["costs"]["total"] + 1e-6  # nor the cost optimum on money
    assert plans["new_pipes"].objective == 0.0
    for name, case_plan in cost.periods.items():
        assert case_plan.check.passed and cost.hours[name] > 0


def test_bad_periods_are_named():
    with pytest.raises(PlantDataError, match="period 'A'.*units only"):
        optimize_periods(plant(periods=[{"id": "A", "hours": 10, "changes": {"connections.min_flow": 1}}]))
    with pytest.raises(PlantDataError, match="period 'A'.*has no unit 'X'"):
        optimize_periods(plant(periods=[{"id": "A", "hours": 10, "changes": {"sinks.X.flow": 1}}]))
    with pytest.raises(PlantDataError, match="period 'A' needs 'hours'"):
        plant(periods=[{"id": "A", "changes": {}}])
    with pytest.raises(PlantDataError, match="period 'A' is given twice"):
        plant(periods=[{"id": "A", "hours": 1}, {"id": "A", "hours": 2}])
    with pytest.raises(PlantDataError, match="has no periods"):
        optimize_periods(cascade.examples.wang_smith())
    short = {"id": "B", "hours": 5, "changes": {"sources.S.flow": 2, "freshwater.FW.max_flow": 1}}
    with pytest.raises(InfeasiblePlantError, match="period 'B'.*sink 'K'"):
        optimize_periods(plant(periods=[PERIODS[0], short]))


def test_bilinear_plants_are_refused_with_the_reason():
    p = cascade.examples.wang_smith()
    p.periods = [{"id": "A", "hours": 10, "changes": {}}]
    p.objective = "cost"
    p.add_regenerator("R", removal={"C": 0.9})
    with pytest.raises(UnsupportedFeatureError, match="period 'A'.*linear"):
        optimize_periods(p)


def test_periods_round_trip_and_the_cli_designs_for_all_of_them(tmp_path, capsys):
    p = plant()
    again = cascade.read_plant(json.loads(json.dumps(p.to_dict())))
    assert again.periods == p.periods
    path = tmp_path / "plant.yaml"
    cascade.write_plant(p, path)
    assert main(["solve", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["hours"] == {"A": 1000.0, "B": 3000.0} and out["check"]["passed"]
    assert out["objective"] == pytest.approx(34_000.0)
    assert set(out["periods"]) == {"A", "B"}
    base = cascade.optimize(p)  # the plant as written, with a note that periods exist
    assert any("periods" in n for n in base.notes)
