"""Piping economics: lengths, pipe and removal capital, flow classes, budgets, pipe limits, payback and NPV.

Oracle: a micro-plant worked by hand. A sink D (10 t/h, C <= 50 ppm) is fed today by fresh water
(1 money/t, 8000 h/yr: 80 000 a year) and a source S (10 t/h at 20 ppm) drains to WW. Reusing S in D
saves all the fresh water but needs the new pipe S -> D, 70 m long (manhattan from (0, 0) to (30, 40)),
costing 3000 + 100 / m = 10 000; the existing FW -> D and S -> WW then run dry and cost 500 each to
remove: 11 000 of capital in all.
"""

from __future__ import annotations

import math

import pytest

import cascade
from cascade.economics import pipe_capital

FACTOR = 0.1  # annualisation


def plant(**connections) -> cascade.Plant:
    data = {
        "format": "cascade-plant/1",
        "name": "reuse or not",
        "contaminants": ["C"],
        "freshwater": [{"id": "FW", "quality": {"C": 0}, "price": 1.0}],
        "sinks": [{"id": "D", "flow": 10, "max": {"C": 50}}],
        "sources": [{"id": "S", "flow": 10, "quality": {"C": 20}}],
        "connections": {
            "existing": [["FW", "D", 10], ["S", "WW", 10]],
            "pipe_cost": {"capital": 3000, "per_metre": 100},
            "remove_cost": 500,
            **connections,
        },
        "layout": {"coordinates": {"FW": [0, 100], "D": [30, 40], "S": [0, 0], "WW": [0, -10]}},
        "finance": {"annualisation_factor": FACTOR},
        "objective": "cost",
    }
    return cascade.read_plant(data)


def test_lengths_and_capital_on_the_superstructure():
    graph = cascade.build_superstructure(plant())
    assert graph.edges["S", "D"]["length"] == 70.0
    assert pipe_capital(graph, "S", "D", 10.0) == pytest.approx(10_000.0)
    assert graph.edges["FW", "D"]["remove_capital"] == 500.0


def test_the_cost_optimum_builds_the_pipe_and_reports_payback_and_npv():
    plan = cascade.optimize(plant())
    assert plan.status == "optimal" and plan.check.passed
    assert plan.freshwater == pytest.approx(0.0, abs=1e-6)
    assert plan.new_pipes == [("S", "D")]
    econ = plan.economics
    assert econ["capital"] == pytest.approx({"pipes": 10_000.0, "removals": 1000.0, "regenerators": 0.0,
                                             "total": 11_000.0})
    assert econ["operating_saving_per_year"] == pytest.approx(80_000.0)
    assert econ["payback_years"] == pytest.approx(11_000 / 80_000)
    assert econ["npv"] == pytest.approx(-11_000 + 80_000 / FACTOR)
    assert plan.costs["pipe_capital"] == pytest.approx(FACTOR * 11_000)
    assert plan.objective == pytest.approx(FACTOR * 11_000)  # no water bought, pipes annualised
    assert "payback" in plan.summary() and plan.to_dict()["economics"]["capital"]["total"] == pytest.approx(11_000)


@pytest.mark.parametrize(("budget", "fresh"), [(9_999, 10.0), (10_500, 1.0), (11_000, 0.0)])
def test_a_budget_buys_as_much_reuse_as_it_pays_for(budget, fresh):
    # min_flow 1: keeping both existing pipes (no removal cost) means each still carries 1 t/h
    plan = cascade.optimize(plant(budget=budget, min_flow=1), objective="freshwater")
    assert plan.status == "optimal" and plan.check.passed
    assert plan.freshwater == pytest.approx(fresh, abs=1e-6)
    assert plan.economics["capital"]["total"] <= budget + 1e-6


def test_pipe_limits_hold():
    none_new = cascade.optimize(plant(max_new_pipes=0), objective="freshwater")
    assert none_new.freshwater == pytest.approx(10.0) and none_new.new_pipes == []
    one_inlet = cascade.optimize(plant(max_inlets=1, remove_cost=0), objective="freshwater")
    assert one_inlet.freshwater == pytest.approx(0.0, abs=1e-6)
    assert (one_inlet.flows["to"] == "D").sum() == 1 and one_inlet.check.passed


def test_the_check_catches_a_network_over_budget():
    graph = cascade.build_superstructure(plant(budget=5000))
    result = cascade.check_flows(graph, {("S", "D"): 10.0})
    assert not result.passed and "capital budget" in set(result.violations["rule"])


def test_flow_classes_price_the_pipe_by_its_flow():
    small = {"max_flow": 12, "capital": 1000, "per_metre": 50}
    large = {"max_flow": 40, "capital": 3000, "per_metre": 100}
    plan = cascade.optimize(plant(pipe_cost={"classes": [large, small]}, remove_cost=0))
    assert plan.economics["capital"]["pipes"] == pytest.approx(1000 + 50 * 70)
    too_small = {**small, "max_flow": 8}
    plan = cascade.optimize(plant(pipe_cost={"classes": [large, too_small]}, remove_cost=0))
    assert plan.economics["capital"]["pipes"] == pytest.approx(3000 + 100 * 70)
    assert plan.check.passed and plan.freshwater == pytest.approx(0.0, abs=1e-6)


def test_an_unaffordable_design_limit_is_named():
    with pytest.raises(cascade.InfeasiblePlantError, match="design limits"):
        cascade.optimize(plant(budget=100), objective="freshwater", limits={"freshwater": 5})


def test_piping_and_layout_survive_a_round_trip():
    original = plant(budget=20_000, max_inlets=2, max_new_pipes=3,
                     pipe_cost={"fixed": 10, "classes": [{"max_flow": 12, "capital": 1000, "per_metre": 50}]})
    again = cascade.read_plant(original.to_dict())
    assert again.equals(original)
    assert again.to_dict()["connections"]["pipe_cost"]["classes"] == [{"max_flow": 12, "capital": 1000,
                                                                        "per_metre": 50}]


def test_missing_lengths_are_named():
    data = plant().to_dict()
    data["layout"] = {"coordinates": {"FW": [0, 0], "S": [2, 2]}, "distances": [["WW", "S", 5], ["D", "FW", 3]]}
    with pytest.raises(cascade.PlantDataError, match="1 candidate pipe.s. have no length: S -> D"):
        cascade.build_superstructure(cascade.read_plant(data))
    assert math.isclose(cascade.economics.pipe_length(data["layout"], "S", "WW"), 5.0)
