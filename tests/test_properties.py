"""Invariants on random plants: every plan passes the independent check, and the optimum is monotone."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import cascade
from cascade import Plant

CONTAMINANTS = ["A", "B"]
conc = st.integers(min_value=0, max_value=400).map(float)
flow = st.integers(min_value=1, max_value=60).map(float)


@st.composite
def plants(draw) -> Plant:
    """Feasible by construction: clean fresh water meets every sink; discharges take any source."""
    plant = Plant("random", CONTAMINANTS).add_freshwater("FW", {"A": 0, "B": 0})
    for k in range(draw(st.integers(1, 4))):
        plant.add_sink(f"D{k}", draw(flow), {c: draw(conc) for c in CONTAMINANTS})
    for s in range(draw(st.integers(1, 4))):
        plant.add_source(f"S{s}", draw(flow), {c: draw(conc) for c in CONTAMINANTS})
    plant.add_discharge("WW", {"A": 400.0})
    return plant


def regenerated(plant: Plant, outlet: dict[str, float]) -> Plant:
    copy = cascade.read_plant(plant.to_dict())
    return copy.add_regenerator("R", outlet=outlet)


FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(plants(), st.fixed_dictionaries(dict.fromkeys(CONTAMINANTS, conc)))
def test_plans_pass_the_check_and_a_regenerator_never_hurts(plant, outlet):
    plan = cascade.optimize(plant, tie_break=False)
    assert plan.status == "optimal" and plan.check.passed
    assert plan.freshwater <= plan.baseline["freshwater"] + 1e-6
    with_regen = cascade.optimize(regenerated(plant, outlet), tie_break=False)
    assert with_regen.check.passed
    assert with_regen.freshwater <= plan.freshwater + 1e-6


@FAST
@given(plants(), st.integers(min_value=0, max_value=100))
def test_forbidding_a_pipe_never_helps(plant, pick):
    note(plant.to_yaml())
    plan = cascade.optimize(plant, tie_break=False)
    used = [(a, b) for a, b in plan.flows[["from", "to"]].itertuples(index=False) if not a.startswith("FW")]
    if not used:
        return
    tail, head = used[pick % len(used)]
    restricted = cascade.read_plant(plant.to_dict()).forbid(tail, head)
    try:
        again = cascade.optimize(restricted, tie_break=False)
    except cascade.InfeasiblePlantError as err:  # the pipe was indispensable: fine, if the units are named
        assert err.units
        return
    assert again.check.passed
    assert again.freshwater >= plan.freshwater - 1e-6


@FAST
@given(plants(), st.sampled_from([0.5, 2.0, 7.0]))
def test_scaling_every_flow_scales_fresh_water(plant, k):
    scaled = Plant("scaled", CONTAMINANTS).add_freshwater("FW", {"A": 0, "B": 0})
    for r in plant.records("sinks"):
        scaled.add_sink(r.id, k * r.values["flow"], r.values["max"])
    for r in plant.records("sources"):
        scaled.add_source(r.id, k * r.values["flow"], r.values["quality"])
    scaled.add_discharge("WW", {"A": 400.0})
    base = cascade.optimize(plant, tie_break=False).freshwater
    assert cascade.optimize(scaled, tie_break=False).freshwater == pytest.approx(k * base, rel=1e-6, abs=1e-6)
