"""Lexicographic objectives and Pareto fronts.

Oracles: the micro-plant of test_economics (hand-worked: each new pipe's capital and the water it
saves), invariants every front must meet (non-dominated, monotone, every plan checked), and the
pinch target at the fresh-water end.
"""

from __future__ import annotations

import json

import pytest
from test_economics import plant as micro_plant

import cascade
from cascade.cli import main
from cascade.tradeoff import dominated, lexicographic, pareto


def two_sources() -> cascade.Plant:
    """Two sources can each replace half of D's fresh water (0.2 money/t: 16 000 a year each); S -> D (70 m)
    costs 10 000, 1000 a year, and pays; S2 -> D (2010 m) costs 204 000, 20 400 a year, and does not."""
    data = micro_plant(remove_cost=0).to_dict()
    data["freshwater"][0]["price"] = 0.2
    data["sinks"][0]["flow"] = 20
    data["sources"].append({"id": "S2", "flow": 10, "quality": {"C": 20}})
    data["connections"]["existing"] = [["FW", "D", 20], ["S", "WW", 10], ["S2", "WW", 10]]
    data["layout"]["coordinates"]["S2"] = [2000, 0]
    data["connections"]["max_inlets"] = None
    data["connections"].pop("max_inlets")
    return cascade.read_plant(data)


def test_lexicographic_steps_keep_earlier_optima():
    plan = lexicographic(two_sources(), ["freshwater", "cost"])
    assert plan.freshwater == pytest.approx(0.0, abs=1e-6)
    steps = plan.solve["lexicographic"]
    assert [s["objective"] for s in steps] == ["freshwater", "cost"] and all(s["status"] == "optimal" for s in steps)
    assert plan.economics["capital"]["pipes"] == pytest.approx(10_000 + 204_000)


def test_cost_against_fresh_water_front_is_the_hand_worked_staircase():
    front = pareto(two_sources(), x="cost", y="freshwater", points=5)
    # least cost: S -> D only, 10 t/h bought (16 000) + 1000; least water: both pipes, 1000 + 20 400.
    # A pipe costs the same whatever it carries, so between the two no plan saves part of S2's water.
    assert front["cost"].tolist() == pytest.approx([17_000.0, 21_400.0], rel=1e-6)
    assert front["freshwater"].tolist() == pytest.approx([10.0, 0.0], abs=1e-6)
    assert (front["status"] == "optimal").all() and front["check_passed"].all()
    assert not dominated(front, "cost", "freshwater").any()


def test_new_pipes_against_fresh_water_front_on_the_micro_plant():
    front = pareto(two_sources(), x="new_pipes", y="freshwater", points=5)
    assert front["new_pipes"].tolist() == [0, 1, 2]
    assert front["freshwater"].tolist() == pytest.approx([20.0, 10.0, 0.0], rel=1e-6, abs=1e-6)
    assert front["check_passed"].all() and not dominated(front, "new_pipes", "freshwater").any()


def test_a_front_on_a_model_plant_is_non_dominated_monotone_and_checked():
    plant = cascade.read_plant("models/demo_food_plant/plant.yaml")
    front = pareto(plant, x="new_pipes", y="freshwater", points=6, time_limit=30)
    assert len(front) >= 4
    assert front["new_pipes"].is_monotonic_increasing and front["freshwater"].is_monotonic_decreasing
    assert not dominated(front, "new_pipes", "freshwater").any()
    assert front["check_passed"].all() and (front["status"] == "optimal").all()
    assert front["freshwater"].iloc[-1] == pytest.approx(cascade.optimize(plant, "freshwater").freshwater, rel=1e-6)
    assert front["freshwater"].iloc[0] == pytest.approx(36.0)  # no new pipe: today's plant


def test_bad_measures_are_refused():
    with pytest.raises(cascade.PlantDataError, match="not a measure"):
        pareto(two_sources(), x="colour")
    with pytest.raises(cascade.PlantDataError, match="two different measures"):
        pareto(two_sources(), x="cost", y="cost")
    with pytest.raises(cascade.PlantDataError, match="'pressure' is not known"):
        cascade.optimize(two_sources(), limits={"pressure": 3})


def test_pareto_at_the_command_line(tmp_path, capsys):
    path = tmp_path / "plant.yaml"
    two_sources().to_yaml(path)
    csv = tmp_path / "front.csv"
    assert main(["pareto", str(path), "--x", "new_pipes", "--y", "freshwater", "--json", "--csv", str(csv)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [p["new_pipes"] for p in printed["points"]] == [0, 1, 2]
    assert printed["points"][0]["plan"]["check"]["passed"] is True
    assert csv.read_text().splitlines()[0].startswith("epsilon,freshwater,cost,new_pipes")
    assert main(["pareto", str(path), "--x", "cost", "--y", "cost"]) == 2


def test_the_front_plot_draws_every_point():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from cascade.plot import pareto_front

    front = pareto(two_sources(), x="new_pipes", y="freshwater")
    ax = pareto_front(front, "new_pipes", "freshwater", units={"flow": "t/h"})
    assert len(ax.lines[1].get_xdata()) == len(front) and ax.get_ylabel() == "fresh water [t/h]"
