"""Explanations: binding limits, the limiting contaminant of each unit, where regenerated water goes."""

from __future__ import annotations

import pytest
from conftest import micro

import cascade
from cascade import Plant


def test_the_binding_limit_of_the_micro_plant():
    # 5 t/h fresh + 5 t/h of the 100 ppm source: the sink's 50 ppm limit binds exactly.
    plan = cascade.optimize(micro())
    limits = plan.limits.set_index(["unit", "where", "contaminant"])
    assert limits.loc[("D", "inlet", "C"), "value"] == pytest.approx(50.0)
    assert limits.loc[("D", "inlet", "C"), "use"] == pytest.approx(1.0)
    assert bool(limits.loc[("D", "inlet", "C"), "binding"])
    assert plan.limiting.to_dict() == {"D": "C"}
    assert "Binding limits:" in plan.summary() and "D: inlet C at its limit 50" in plan.summary()


def test_limiting_contaminant_and_capacity_with_two_contaminants():
    # D (10 t/h, A <= 100, B <= 10) takes the source (A 50, B 40) diluted: B limits, A does not.
    plant = (Plant("two", ["A", "B"]).add_freshwater("FW", max_flow=8)
             .add_sink("D", 10, {"A": 100, "B": 10}).add_source("S", 10, {"A": 50, "B": 40}))
    plan = cascade.optimize(plant)
    limits = plan.limits.set_index(["unit", "where", "contaminant"])
    assert limits.loc[("D", "inlet", "A"), "use"] == pytest.approx(0.125)  # 2.5 t/h of S: 12.5 ppm
    assert bool(limits.loc[("D", "inlet", "B"), "binding"])
    assert plan.limiting["D"] == "B"
    capacity = plan.limits[(plan.limits["unit"] == "FW") & (plan.limits["where"] == "flow")].iloc[0]
    assert capacity["value"] == pytest.approx(7.5) and not capacity["binding"]


def test_regenerated_water_recycled_or_reused():
    recycle = cascade.optimize(cascade.examples.wang_smith().add_regenerator("R", outlet={"C": 5}))
    row = recycle.regeneration.loc["R"]
    assert row["flow"] > 0 and row["recycled"] == pytest.approx(row["flow"]) and row["reused"] == 0
    reuse = cascade.optimize(cascade.examples.wang_smith().add_regenerator("R", outlet={"C": 5}, recycle=False))
    row = reuse.regeneration.loc["R"]
    assert row["flow"] > 0 and row["recycled"] == 0
    assert row["reused"] + row["to_discharge"] == pytest.approx(row["flow"])
    assert "recycled to its own feeders" in reuse.summary()
