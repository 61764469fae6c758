"""Water cascade targeting against published targets, hand calculations and the MILP (hypothesis)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import cascade
from cascade import Plant
from cascade.cli import main

MODELS = Path(__file__).resolve().parents[1] / "models"
PUBLISHED = [  # the published water-pinch cases (a pinch to compare with)
    p for p in sorted(MODELS.iterdir())
    if (p / "expected.json").is_file() and "pinch" in json.loads((p / "expected.json").read_text())
    and json.loads((p / "expected.json").read_text())["source"] == "published"
]


@pytest.mark.parametrize("folder", PUBLISHED, ids=[p.name for p in PUBLISHED])
def test_published_targets(folder):
    expected = json.loads((folder / "expected.json").read_text())
    result = cascade.target(cascade.read_plant(folder / "plant.yaml"))
    assert result.exact
    assert result.freshwater == pytest.approx(expected["freshwater"], rel=1e-9)
    assert result.wastewater == pytest.approx(expected["wastewater"], rel=1e-9)
    assert result.pinch == pytest.approx(expected["pinch"])


def test_wang_smith_cascade_table_by_hand():
    # Limiting flows: OP1 20 t/h (0 -> 100), OP2 100 (50 -> 100), OP3 40 (50 -> 800), OP4 10 (400 -> 800).
    table = cascade.target(cascade.examples.wang_smith()).cascade
    assert table["concentration"].tolist() == [0, 50, 100, 400, 800]
    assert table["net_flow"].tolist() == pytest.approx([90 - 20, -140, 120, -10, 50])
    # no room left at the pinch (100 ppm): 70 t/h x 50 ppm = 3.5 kg/h, then -70 x 50 ppm = -3.5 kg/h
    assert table["cumulative_load"].tolist() == pytest.approx([0, 3.5, 0, 15, 31])
    assert table["freshwater_needed"].max() == pytest.approx(90.0)


def test_fresh_water_that_is_not_clean():
    # Fresh water at 10 ppm; a 10 t/h sink <= 50 ppm; a 10 t/h source at 100 ppm.
    # x fresh: 10 x + 100 (10 - x) <= 50 * 10  ->  x >= 500 / 90.
    plant = (Plant("dirty fresh", ["C"]).add_freshwater("FW", {"C": 10})
             .add_sink("D", 10, {"C": 50}).add_source("S", 10, {"C": 100}))
    result = cascade.target(plant)
    assert result.freshwater == pytest.approx(500 / 90)
    assert result.pinch == [100.0]
    assert cascade.optimize(plant).freshwater == pytest.approx(500 / 90)


def test_threshold_problem_has_no_pinch():
    # 4 t/h of clean source water covers part of a 10 t/h demand with a loose limit: the balance sets 6 t/h.
    plant = (Plant("threshold", ["C"]).add_freshwater("FW", {"C": 0})
             .add_sink("D", 10, {"C": 1000}).add_sink("G", 2).add_source("S", 4, {"C": 10}))
    result = cascade.target(plant)
    assert result.freshwater == pytest.approx(8.0) and result.wastewater == pytest.approx(0.0)
    assert result.pinch == []
    assert result.cascade["concentration"].iloc[-1] == float("inf")  # the unlimited sink G
    json.dumps(result.to_dict(), allow_nan=False)  # no Infinity/NaN in the JSON


def test_operation_throughput_cap_lowers_its_inlet_limit():
    # Limiting flow 1000 * 5 / (100 - 50) = 100 t/h; capped at 40 t/h the inlet must be 100 - 5000/40 = -25:
    # impossible with any water, so the cap makes the plant infeasible...
    plant = Plant("capped", ["C"]).add_freshwater("FW", {"C": 0})
    plant.add_operation("OP", {"C": 5}, {"C": 50}, {"C": 100}, max_flow=40)
    with pytest.raises(cascade.InfeasiblePlantError):
        cascade.target(plant)
    # ... and at 80 t/h it runs at 80 t/h with inlet <= 37.5 ppm. With a 100 ppm source to use:
    # x fresh + (80 - x) 100 <= 80 * 37.5  ->  x >= 50, against 50 t/h without the cap.
    plant = Plant("capped", ["C"]).add_freshwater("FW", {"C": 0}).add_source("S", 200, {"C": 100})
    plant.add_operation("OP", {"C": 5}, {"C": 50}, {"C": 100}, max_flow=80)
    streams = cascade.target(plant).streams.set_index("role")
    assert streams.loc["operation inlet", "concentration"] == pytest.approx(37.5)
    assert streams.loc["operation inlet", "flow"] == pytest.approx(-80)
    assert cascade.target(plant).freshwater == pytest.approx(cascade.optimize(plant).freshwater)


def test_operation_throughput_cap_can_move_the_target():
    # The cap matters when the pinch lies between the lowered inlet limit and the outlet: here at 90 ppm,
    # where a big 90 ppm source gives room only above it. Room at 90 ppm: the operation's demand
    # F (90 - Cin) plus the 80 ppm sink's 100 x 10 must come from fresh water: x * 90.
    plant = (Plant("cap moves the pinch", ["C"]).add_freshwater("FW", {"C": 0})
             .add_sink("D", 100, {"C": 80}).add_source("S", 1000, {"C": 90}))
    free = cascade.read_plant(plant.to_dict()).add_operation("OP", {"C": 5}, {"C": 50}, {"C": 100})
    capped = cascade.read_plant(plant.to_dict()).add_operation("OP", {"C": 5}, {"C": 50}, {"C": 100}, max_flow=80)
    assert cascade.target(free).freshwater == pytest.approx((100 * 40 + 1000) / 90)
    assert cascade.target(capped).freshwater == pytest.approx((80 * 52.5 + 1000) / 90)
    assert cascade.target(free).pinch == cascade.target(capped).pinch == [90.0]
    for p in (free, capped):
        assert cascade.target(p).freshwater == pytest.approx(cascade.optimize(p, "freshwater").freshwater)


def test_water_lost_or_gained_through_an_operation():
    # F (100 - 0) = 1000 * 1 + 100 * loss: a 2 t/h loss needs 12 t/h in and gives 10 out; a gain, 8 in and 10 out.
    for loss, inflow in ((2, 12.0), (-2, 8.0)):
        plant = Plant("loss", ["C"]).add_freshwater("FW").add_operation(
            "OP", {"C": 1}, {"C": 0}, {"C": 100}, water_loss=loss
        )
        result = cascade.target(plant)
        assert result.freshwater == pytest.approx(inflow) and result.wastewater == pytest.approx(10.0)
        plan = cascade.optimize(plant)
        assert plan.freshwater == pytest.approx(inflow) and plan.wastewater == pytest.approx(10.0)
        assert plan.check.passed and plan.outlet_quality.loc["OP", "C"] == pytest.approx(100.0)
        assert plan.baseline["freshwater"] == pytest.approx(inflow) and plan.baseline["wastewater"] == pytest.approx(10)


def test_restrictions_make_the_target_a_lower_bound():
    plant = cascade.examples.polley().forbid("S3", "D4")
    result = cascade.target(plant)
    assert not result.exact and "forbidden" in result.notes[0]
    assert result.freshwater <= cascade.optimize(plant).freshwater + 1e-9


def test_flow_units_follow_the_plant():
    plant = cascade.examples.polley()
    plant.units["flow"] = "kg/s"
    assert cascade.target(plant).freshwater == pytest.approx(70 / 3.6)


def test_capped_single_supply_below_the_target_is_infeasible():
    plant = cascade.examples.polley()
    plant = cascade.read_plant({**plant.to_dict(), "freshwater": [{"id": "FW", "quality": {"C": 0}, "max_flow": 60}]})
    with pytest.raises(cascade.InfeasiblePlantError, match="FW"):
        cascade.target(plant)


def test_demand_cleaner_than_fresh_water_that_sources_cannot_cover():
    plant = (Plant("short", ["C"]).add_freshwater("FW", {"C": 10})
             .add_sink("D", 10, {"C": 5}).add_source("S", 1, {"C": 2}))
    with pytest.raises(cascade.InfeasiblePlantError) as err:
        cascade.target(plant)
    assert err.value.units == ["D"]


@pytest.mark.parametrize(
    "plant, words",
    [
        (Plant("two", ["A", "B"]).add_freshwater("FW").add_sink("D", 1, {"A": 1}), "2 contaminants"),
        (cascade.examples.polley().add_regenerator("R", outlet={"C": 5}), "regenerator 'R'"),
        (Plant("op", ["C"]).add_freshwater("FW").add_operation("OP", {"C": 1}, None, {"C": 100}), "max_inlet"),
    ],
)
def test_outside_the_method_is_refused_clearly(plant, words):
    with pytest.raises(cascade.UnsupportedFeatureError, match=words):
        cascade.target(plant)


def test_command_line(capsys, tmp_path):
    assert main(["target", str(MODELS / "polley_polley_2000" / "plant.yaml"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["freshwater"] == pytest.approx(70) and data["pinch"] == [150]
    assert main(["target", str(MODELS / "wang_smith_1994_ex1" / "plant.yaml")]) == 0
    assert "Pinch:               100 ppm" in capsys.readouterr().out
    path = tmp_path / "two.yaml"
    path.write_text(cascade.Plant("two", ["A", "B"]).add_freshwater("FW").add_sink("D", 1, {"A": 1}).to_yaml())
    assert main(["target", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "contaminants" in err and "Traceback" not in err


# ---------------------------------------------------------------------- the oracle on random plants
level = st.integers(min_value=0, max_value=400).map(float)


@st.composite
def single_contaminant_plants(draw) -> Plant:
    """Sinks, sources and fixed-load operations around one supply (feasible: no limit below the fresh water)."""
    fresh = draw(st.sampled_from([0.0, 0.0, 5.0, 20.0]))
    plant = Plant("random", ["C"]).add_freshwater("FW", {"C": fresh})
    for k in range(draw(st.integers(0, 3))):
        limit = draw(st.one_of(st.none(), level.map(lambda x, f=fresh: f + x)))
        plant.add_sink(f"D{k}", draw(st.integers(1, 80)), None if limit is None else {"C": limit})
    for s in range(draw(st.integers(0, 3))):
        plant.add_source(f"S{s}", draw(st.integers(1, 80)), {"C": draw(level)})
    for o in range(draw(st.integers(0 if plant.records("sinks") else 1, 3))):
        c_in = fresh + draw(level)
        c_out = c_in + draw(st.integers(10, 500))
        load = draw(st.integers(1, 20))
        cap = draw(st.one_of(st.none(), st.integers(5, 200)))
        loss = draw(st.sampled_from([0, 0, 1, -1]))
        if cap is not None and c_out - (1000 * load + c_out * loss) / cap < fresh:
            cap = None  # a cap no water could meet makes the plant infeasible; tested by hand above
        plant.add_operation(f"OP{o}", {"C": load}, {"C": c_in}, {"C": c_out}, max_flow=cap, water_loss=loss)
    return plant


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(single_contaminant_plants())
def test_target_equals_the_milp_minimum(plant):
    note(plant.to_yaml())
    result = cascade.target(plant)
    plan = cascade.optimize(plant, "freshwater", tie_break=False)
    assert result.exact and plan.status == "optimal" and plan.check.passed
    assert result.freshwater == pytest.approx(plan.freshwater, rel=1e-6, abs=1e-6)
    assert result.wastewater == pytest.approx(plan.wastewater, rel=1e-6, abs=1e-6)
