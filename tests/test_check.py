"""The independent check catches what a wrong answer would hide."""

from __future__ import annotations

import pytest
from conftest import micro

import cascade


def graph():
    return cascade.build_superstructure(micro())


def test_a_correct_network_passes_and_concentrations_are_recomputed():
    result = cascade.check_flows(graph(), {("FW", "D"): 5, ("S", "D"): 5, ("S", "WW"): 5})
    assert result.passed and result.max_violation == 0.0
    assert result.inlet.loc["D", "C"] == pytest.approx(50.0)
    assert result.inlet.loc["WW", "C"] == pytest.approx(100.0)


@pytest.mark.parametrize(
    ("flows", "rule"),
    [
        ({("FW", "D"): 4, ("S", "D"): 6, ("S", "WW"): 4}, "inlet limit"),  # 60 ppm > 50
        ({("FW", "D"): 5, ("S", "D"): 4, ("S", "WW"): 6}, "sink demand"),  # 9 t/h into a 10 t/h sink
        ({("FW", "D"): 5, ("S", "D"): 5, ("S", "WW"): 4}, "source supply"),  # 9 t/h out of a 10 t/h source
        ({("FW", "D"): 5, ("S", "D"): 5, ("S", "WW"): 5, ("FW", "WW"): 1}, "pipe not allowed"),
        ({("FW", "D"): 10.5, ("S", "D"): -0.5, ("S", "WW"): 10.5}, "negative flow"),
    ],
)
def test_each_broken_rule_is_reported(flows, rule):
    result = cascade.check_flows(graph(), flows)
    assert not result.passed
    assert rule in set(result.violations["rule"])


def test_operation_outlet_is_recomputed_from_its_load():
    g = cascade.build_superstructure(cascade.examples.wang_smith())
    flows = {("FW", "OP1"): 20, ("OP1", "WW"): 20, ("FW", "OP2"): 50, ("OP2", "WW"): 50,
             ("FW", "OP3"): 37.5, ("OP3", "WW"): 37.5, ("FW", "OP4"): 5, ("OP4", "WW"): 5}
    result = cascade.check_flows(g, flows)
    assert result.passed
    assert result.outlet.loc[["OP1", "OP2", "OP3", "OP4"], "C"].tolist() == pytest.approx([100, 100, 800, 800])
    # more water through OP3 than needed: outlet drops to 1000 * 30 / 50 = 600 ppm, still valid
    flows.update({("FW", "OP3"): 50, ("OP3", "WW"): 50})
    assert cascade.check_flows(g, flows).outlet.loc["OP3", "C"] == pytest.approx(600.0)
    # too little water: outlet 1000 * 30 / 30 = 1000 ppm > 800
    flows.update({("FW", "OP3"): 30, ("OP3", "WW"): 30})
    bad = cascade.check_flows(g, flows)
    assert not bad.passed and "outlet limit" in set(bad.violations["rule"])


def test_regenerator_never_makes_water_dirtier():
    plant = micro(source_quality=2).add_regenerator("R", outlet={"C": 5})
    g = cascade.build_superstructure(plant)
    result = cascade.check_flows(g, {("S", "R"): 10, ("R", "D"): 10})
    assert result.outlet.loc["R", "C"] == pytest.approx(2.0)
    assert result.passed


def test_outlet_in_a_cycle_local_recycle():
    # 10 t/h fresh + 10 t/h of its own outlet: 20 x = 10 x + 1000 * 1 -> x = 100 ppm, inlet 50 ppm
    plant = cascade.Plant("loop", ["C"]).add_freshwater("FW").add_operation(
        "OP", {"C": 1}, {"C": 50}, {"C": 100}, local_recycle=True
    )
    g = cascade.build_superstructure(plant)
    result = cascade.check_flows(g, {("FW", "OP"): 10, ("OP", "OP"): 10, ("OP", "WW"): 10})
    assert result.outlet.loc["OP", "C"] == pytest.approx(100.0)
    assert result.inlet.loc["OP", "C"] == pytest.approx(50.0)
    assert result.passed


def test_removal_ratio_and_pass_through_in_a_regeneration_loop():
    # Two contaminants; R removes 90 % of A and passes B. OP picks up 1 kg/h of A and 0.5 of B.
    # 10 t/h fresh + 10 t/h back from R: A: 20 a = 10 * 0.1 a + 1000 -> a = 1000 / 19; B: 20 b = 10 b + 500 -> 50.
    plant = (cascade.Plant("loop", ["A", "B"]).add_freshwater("FW")
             .add_operation("OP", {"A": 1, "B": 0.5}, {"A": 50, "B": 50}, {"A": 100, "B": 100})
             .add_regenerator("R", removal={"A": 0.9}))
    g = cascade.build_superstructure(plant)
    flows = {("FW", "OP"): 10, ("OP", "R"): 10, ("R", "OP"): 10, ("OP", "WW"): 10}
    result = cascade.check_flows(g, flows)
    assert result.outlet.loc["OP", "A"] == pytest.approx(1000 / 19)
    assert result.outlet.loc["R", "A"] == pytest.approx(100 / 19)
    assert result.outlet.loc["OP", "B"] == pytest.approx(50.0)
    assert result.outlet.loc["R", "B"] == pytest.approx(50.0)
    assert result.passed
