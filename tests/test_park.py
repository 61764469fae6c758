"""Parks of plants: the park file, exchange pipes between plants, and per-plant indicators.

Oracle: a micro-park worked by hand (1000 h/yr, annualisation factor 0.1, contaminant COD).

* plant A: source ``S`` 10 t/h at 20 ppm; its own sewer at 1 money/t;
* plant B: sink ``D`` 10 t/h, COD <= 50; its own mains at 3 money/t;
* plant C: sink ``D`` 6 t/h, COD <= 5; source ``S`` 6 t/h at 100 ppm; mains at 3; sewer at 1;
* the park: a reclaimed-water main ``RW`` at 5 ppm, 1 money/t.

Gates A (0, 0), B (300, 400), C (1000, 0); RW at (1000, 200); manhattan lengths. A pipe inside a
plant costs 100; an exchange pipe 1000 + 10 per metre.

B's sink takes A's source whole: each t saves B's mains (3) and A's sewer (1), 40 000 a year,
for a 700 m pipe of 1000 + 7000 = 8000 (800 a year). C's sink can take nothing dirtier than
5 ppm: RW (1 a t) beats its mains (3 a t) by 12 000 a year for a 200 m pipe of 3000 (300 a year);
mixing C's source (100 ppm) in would need water cleaner than RW, bought at 3. C's source goes
to C's sewer (6 000 a year, a pipe of 100). So: water 6 000 + sewer 6 000 + pipes 0.1 x
(8000 + 3000 + 100) = 13 110 a year, with an intake of 6 t/h.

The least intake is 4.5 t/h: every stream but a supply is at 20 ppm or more, so C's sink (6 t/h at
5 ppm, 30 g/h) takes at most 1.5 t/h of them, blended with 4.5 t/h of 0 ppm mains; B's sink takes
the other 8.5 t/h of A's source and 1.5 t/h of C's (8.5 x 20 + 1.5 x 100 = 320 <= 10 x 50), so it
receives all its 10 t/h from other plants.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

import cascade
from cascade.cli import main
from cascade.park import plant_indicators, read_park
from cascade.plant import PARK_LEVEL

SAMPLE = Path(__file__).resolve().parents[1] / "models" / "industrial_park_3plants" / "park.yaml"

PLANT_A = {"format": "cascade-plant/1", "name": "A", "contaminants": ["COD"],
           "sources": [{"id": "S", "flow": 10, "quality": {"COD": 20}}],
           "discharges": [{"id": "sewer", "price": 1}]}
PLANT_B = {"format": "cascade-plant/1", "name": "B", "contaminants": ["COD"],
           "freshwater": [{"id": "FW", "quality": {"COD": 0}, "price": 3}],
           "sinks": [{"id": "D", "flow": 10, "max": {"COD": 50}}]}
PLANT_C = {"format": "cascade-plant/1", "name": "C", "contaminants": ["COD"],
           "freshwater": [{"id": "FW", "quality": {"COD": 0}, "price": 3}],
           "sinks": [{"id": "D", "flow": 6, "max": {"COD": 5}}],
           "sources": [{"id": "S", "flow": 6, "quality": {"COD": 100}}],
           "discharges": [{"id": "sewer", "price": 1}]}
PARK = {
    "format": "cascade-park/1",
    "name": "micro park",
    "contaminants": ["COD"],
    "hours_per_year": 1000,
    "plants": [{"id": "A", "file": "a.yaml"}, {"id": "B", "file": "b.yaml"}, {"id": "C", "file": "c.yaml"}],
    "freshwater": [{"id": "RW", "quality": {"COD": 5}, "price": 1, "kind": "reclaimed"}],
    "connections": {"pipe_cost": {"capital": 100, "exchange": {"capital": 1000, "per_metre": 10}}},
    "layout": {"plants": {"A": [0, 0], "B": [300, 400], "C": [1000, 0]}, "coordinates": {"RW": [1000, 200]}},
    "objective": "cost",
    "finance": {"annualisation_factor": 0.1},
}


def write_park(folder: Path, park: dict | None = None, **plants: dict) -> Path:
    """Write the micro-park (or a variant) into ``folder``; return the park file."""
    files = {"a.yaml": PLANT_A, "b.yaml": PLANT_B, "c.yaml": PLANT_C}
    files.update({f"{k}.yaml": v for k, v in plants.items()})
    for name, data in files.items():
        (folder / name).write_text(yaml.safe_dump(data), encoding="utf-8")
    path = folder / "park.yaml"
    path.write_text(yaml.safe_dump(park or PARK), encoding="utf-8")
    return path


@pytest.fixture
def micro(tmp_path) -> Path:
    return write_park(tmp_path)


# ---------------------------------------------------------------------- reading and merging
def test_the_park_merges_into_one_plant_with_prefixed_ids_and_plant_tags(micro):
    plant = cascade.read_plant(micro)
    assert plant.name == "micro park" and plant.hours_per_year == 1000
    assert sorted(plant.ids()) == ["A/S", "A/sewer", "B/D", "B/FW", "C/D", "C/FW", "C/S", "C/sewer", "RW"]
    assert plant.sinks["plant"].to_dict() == {"B/D": "B", "C/D": "C"}
    assert cascade.plant.is_missing(plant.freshwater.loc["RW", "plant"])  # park level
    graph = cascade.build_superstructure(plant)
    assert graph.nodes["A/S"]["plant"] == "A" and graph.nodes["RW"]["plant"] is None
    assert read_park(micro).equals(plant)


def test_exchange_pipes_use_the_exchange_price_and_the_gate_distance(micro):
    graph = cascade.build_superstructure(cascade.read_plant(micro))
    between = graph.edges["A/S", "B/D"]
    assert between["exchange"] and between["length"] == 700.0  # |300 - 0| + |400 - 0|
    assert between["pipe_options"] == [(math.inf, 1000 + 10 * 700)]
    assert graph.edges["RW", "C/D"]["length"] == 200.0 and graph.edges["RW", "B/D"]["length"] == 900.0
    inside = graph.edges["C/S", "C/sewer"]
    assert not inside["exchange"] and inside["pipe_options"] == [(math.inf, 100.0)]


def test_measured_lengths_win_and_without_an_exchange_price_the_plant_price_applies(tmp_path):
    units = ["A/S", "A/sewer", "B/D", "B/FW", "C/D", "C/FW", "C/S", "C/sewer"]
    coordinates = {**PARK["layout"]["coordinates"], **{u: [0, 0] for u in units}}  # one spot: inside pipes 0 m
    park = {**PARK, "connections": {"pipe_cost": {"capital": 100, "per_metre": 2}},
            "layout": {**PARK["layout"], "coordinates": coordinates, "plant_distances": [["A", "B", 650]],
                       "distances": [["RW", "C/D", 50]]}}
    graph = cascade.build_superstructure(cascade.read_plant(write_park(tmp_path, park)))
    assert graph.edges["A/S", "B/D"]["pipe_options"] == [(math.inf, 100 + 2 * 650)]
    assert graph.edges["RW", "C/D"]["length"] == 50.0
    assert graph.edges["A/S", "C/D"]["length"] == 1000.0  # between the gates, never the units' coordinates
    assert graph.edges["C/S", "C/D"]["pipe_options"] == [(math.inf, 100.0)]


def test_a_plant_file_in_other_units_is_converted_to_the_parks(tmp_path):
    in_kg_s = {**PLANT_C, "units": {"flow": "kg/s"}, "sinks": [{"id": "D", "flow": 6 / 3.6, "max": {"COD": 5}}],
               "sources": [{"id": "S", "flow": 6 / 3.6, "quality": {"COD": 100}}]}
    plant = cascade.read_plant(write_park(tmp_path, c=in_kg_s))
    assert plant.units["flow"] == "t/h"
    assert plant.sinks.loc["C/D", "flow"] == pytest.approx(6.0)


def test_inline_plants_and_unit_labels_are_prefixed(tmp_path):
    b = {**PLANT_B, "sinks": [{"id": "D", "flow": 10, "max": {"COD": 50}, "unit": "u"}]}
    a = {**PLANT_A, "sources": [{"id": "S", "flow": 10, "quality": {"COD": 20}, "unit": "u"}]}
    park = {**PARK, "plants": [{"id": "A", "plant": a}, {"id": "B", "plant": b}, {"id": "C", "file": "c.yaml"}]}
    plant = cascade.read_plant(write_park(tmp_path, park))
    assert plant.sinks.loc["B/D", "unit"] == "B/u" and plant.sources.loc["A/S", "unit"] == "A/u"
    # the same label in two plants is two units: the pipe between them is allowed
    assert cascade.build_superstructure(plant).has_edge("A/S", "B/D")


# ---------------------------------------------------------------------- bad parks
def _error(path: Path) -> str:
    with pytest.raises(cascade.PlantDataError) as raised:
        cascade.read_plant(path)
    return str(raised.value)


def test_a_missing_plant_file_is_named(tmp_path):
    park = {**PARK, "plants": [*PARK["plants"][:2], {"id": "C", "file": "nowhere/c.yaml"}]}
    message = _error(write_park(tmp_path, park))
    assert "plant 'C' (nowhere/c.yaml): no such file" in message


def test_a_duplicate_plant_id_is_named(tmp_path):
    park = {**PARK, "plants": [*PARK["plants"], {"id": "B", "file": "c.yaml"}]}
    assert "plant id 'B' is used twice (first in entry 2)" in _error(write_park(tmp_path, park))


def test_an_unknown_reference_names_the_plant_and_unit(tmp_path):
    park = {**PARK, "connections": {**PARK["connections"], "forbidden": [["A/S", "B/DD"]]}}
    message = _error(write_park(tmp_path, park))
    assert "connections.forbidden [A/S, B/DD] names 'B/DD', which is not a unit" in message


def test_conflicting_contaminants_are_refused(tmp_path):
    c = {**PLANT_C, "contaminants": ["COD", "SS"]}
    message = _error(write_park(tmp_path, c=c))
    assert "plant 'C' (c.yaml): contaminants ['COD', 'SS'] differ from the park's ['COD']" in message
    assert "not in the park: SS" in message


@pytest.mark.parametrize(("change", "texts"), [
    ({"units": {"money": "EUR"}}, ["money unit 'EUR' differs from the park's 'CNY'"]),
    ({"hours_per_year": 8000}, ["hours_per_year 8000 differs from the park's 1000"]),
    ({"connections": {"pipe_cost": {"capital": 999}}}, ["connections.pipe_cost.capital is 999.0", "park's is 100.0"]),
    ({"finance": {"annualisation_factor": 0.2}}, ["finance is {'annualisation_factor': 0.2}"]),
    ({"layout": {"plants": {"A": [0, 0]}}}, ["layout.plants belongs in the park file"]),
])
def test_conflicting_plant_wide_settings_are_refused(tmp_path, change, texts):
    message = _error(write_park(tmp_path, b={**PLANT_B, **change}))
    assert f"plant 'B' (b.yaml): {texts[0]}" in message and all(t in message for t in texts)


def test_settings_equal_to_the_parks_are_accepted(tmp_path):
    same = {**PLANT_B, "hours_per_year": 1000, "connections": {"pipe_cost": {"capital": 100}}}
    assert cascade.read_plant(write_park(tmp_path, b=same)).equals(cascade.read_plant(write_park(tmp_path)))


@pytest.mark.parametrize(("plants", "text"), [
    ([{"id": "A/1", "file": "a.yaml"}], "id 'A/1' is not usable"),
    ([{"id": "A", "file": "a.yaml", "plant": PLANT_A}], "give either 'file'"),
    ([], "'plants' must be a list of one or more"),
])
def test_bad_plant_entries(tmp_path, plants, text):
    assert text in _error(write_park(tmp_path, {**PARK, "plants": plants}))


def test_park_level_units_may_not_name_a_plant(tmp_path):
    park = {**PARK, "freshwater": [{"id": "RW", "quality": {"COD": 5}, "price": 1, "plant": "A"}]}
    assert "freshwater 'RW' of the park file names plant 'A'" in _error(write_park(tmp_path, park))


def test_read_park_refuses_a_plant_file(tmp_path):
    path = tmp_path / "b.yaml"
    path.write_text(yaml.safe_dump(PLANT_B), encoding="utf-8")
    with pytest.raises(cascade.PlantDataError, match="not a park file"):
        read_park(path)


# ---------------------------------------------------------------------- the hand-worked optimum
def test_the_micro_park_cost_optimum_matches_the_hand_calculation(micro):
    plan = cascade.optimize(cascade.read_plant(micro))
    assert plan.status == "optimal" and plan.check.passed
    assert plan.objective == pytest.approx(13_110.0)
    assert sorted(plan.new_pipes) == [("A/S", "B/D"), ("C/S", "C/sewer"), ("RW", "C/D")]
    assert plan.economics["capital"]["pipes"] == pytest.approx(8000 + 3000 + 100)

    ex = plan.exchanges.set_index(["from", "to"])
    assert list(ex.index) == [("RW", "C/D"), ("A/S", "B/D")]  # sorted by plants: (park) -> C, then A -> B
    assert ex.loc[("A/S", "B/D"), ["from_plant", "to_plant"]].tolist() == ["A", "B"]
    assert ex.loc[("A/S", "B/D"), ["flow", "length", "capital"]].tolist() == pytest.approx([10, 700, 8000])
    assert ex.loc[("RW", "C/D"), ["from_plant", "flow", "capital"]].tolist() == [PARK_LEVEL, 6.0, 3000.0]

    rows = plan.plants
    assert list(rows.index) == ["A", "B", "C", PARK_LEVEL]
    expected = {  # plant: freshwater, reclaimed, wastewater, received, sent, reused, reuse rate, operating cost
        "A": [0, 0, 0, 0, 10, 0, 0.0, 0],
        "B": [0, 0, 0, 10, 0, 10, 1.0, 0],
        "C": [6, 6, 6, 0, 0, 0, 0.0, 6 * 1 * 1000 + 6 * 1 * 1000],
        PARK_LEVEL: [0, 0, 0, 0, 0, 0, 0.0, 0],
    }
    columns = ["freshwater", "freshwater_reclaimed", "wastewater", "received", "sent", "reused", "reuse_rate",
               "operating_cost"]
    for name, values in expected.items():
        assert rows.loc[name, columns].tolist() == pytest.approx(values), name


def test_the_micro_park_minimum_intake(micro):
    plan = cascade.optimize(cascade.read_plant(micro), "freshwater")
    assert plan.status == "optimal" and plan.freshwater == pytest.approx(4.5)
    rows = plan.plants
    assert rows.loc["C", "freshwater"] == pytest.approx(4.5) and rows.loc["B", "freshwater"] == pytest.approx(0.0)
    assert rows.loc["B", "received"] == pytest.approx(10.0) and rows.loc["B", "reuse_rate"] == pytest.approx(1.0)


def test_a_plant_that_is_not_a_park_has_no_park_tables():
    plan = cascade.optimize(cascade.examples.wang_smith())
    assert plan.plants.empty and plan.exchanges.empty
    assert "plants" not in plan.to_dict() and "Park:" not in plan.summary()


# ---------------------------------------------------------------------- the sample park
@pytest.fixture(scope="module")
def sample_plans():
    plant = cascade.read_plant(SAMPLE)
    return plant, {objective: cascade.optimize(plant, objective) for objective in ("cost", "freshwater")}


@pytest.mark.parametrize("objective", ["cost", "freshwater"])
def test_the_sample_park_solves_and_its_rows_add_up_to_the_park(sample_plans, objective):
    plant, plans = sample_plans
    plan = plans[objective]
    assert plan.status == "optimal" and plan.check.passed
    rows = plan.plants
    assert list(rows.index) == ["C", "F", "T", PARK_LEVEL]
    for column in ("freshwater", "wastewater", "reused"):
        assert rows[column].sum() == pytest.approx(plan.kpis[column]), column
    kinds = [c for c in rows.columns if c.startswith("freshwater_")]
    assert rows[kinds].sum(axis=1).to_numpy() == pytest.approx(rows["freshwater"].to_numpy())
    assert rows["received"].sum() == pytest.approx(rows["sent"].sum())
    assert rows["operating_cost"].sum() == pytest.approx(
        plan.costs["freshwater"] + plan.costs["discharge"] + plan.costs["regeneration"])
    ex = plan.exchanges
    between = ex[(ex["from_plant"] != PARK_LEVEL) & (ex["to_plant"] != PARK_LEVEL)]
    assert len(between) >= 1 and (between["flow"] > 0).all()
    graph = cascade.build_superstructure(plant)
    for row in ex.itertuples(index=False):
        assert graph.nodes[row[0]].get("plant") != graph.nodes[row[1]].get("plant")


def test_the_sample_park_pipe_capital_is_its_exchanges_plus_inside_pipes(sample_plans):
    plan = sample_plans[1]["cost"]
    ex = plan.exchanges
    inside = len(plan.new_pipes) - int(ex["new_pipe"].sum())
    assert plan.economics["capital"]["pipes"] == pytest.approx(ex["capital"].sum() + 15_000 * inside)
    for row in ex.itertuples(index=False):
        assert row.capital == pytest.approx(80_000 + 600 * row.length)


def test_the_sample_park_solves_as_recorded(sample_plans):
    expected = json.loads((SAMPLE.parent / "expected.json").read_text(encoding="utf-8"))
    plans = sample_plans[1]
    assert plans["cost"].objective == pytest.approx(expected["cost"], rel=expected["tolerance"])
    assert plans["freshwater"].objective == pytest.approx(expected["freshwater_minimum"], rel=expected["tolerance"])


# ---------------------------------------------------------------------- round trip and command line
def test_the_merged_plant_round_trips_with_its_plant_attributes(tmp_path):
    plant = cascade.read_plant(SAMPLE)
    path = tmp_path / "merged.yaml"
    plant.to_yaml(str(path))
    again = cascade.read_plant(path)
    assert again.equals(plant)
    assert again.sinks.loc["T/wash", "plant"] == "T" and again.layout["plants"]["F"] == (0.0, 0.0)
    assert again.piping["exchange"] == {"capital": 80_000.0, "per_metre": 600.0}


def test_the_plant_attribute_round_trips_in_a_plain_plant_file():
    data = {"format": "cascade-plant/1", "name": "two owners", "contaminants": ["C"],
            "freshwater": [{"id": "FW", "plant": "north"}], "sinks": [{"id": "D", "flow": 5, "plant": "south"}],
            "layout": {"plant_distances": [["north", "south", 120]]},
            "connections": {"pipe_cost": {"exchange": {"per_metre": 1}}}, "finance": {"annualisation_factor": 0.1}}
    plant = cascade.read_plant(data)
    written = plant.to_dict()
    assert written["freshwater"][0]["plant"] == "north" and written["sinks"][0]["plant"] == "south"
    assert cascade.read_plant(written).equals(plant)
    assert cascade.build_superstructure(plant).edges["FW", "D"]["pipe_options"] == [(math.inf, 120.0)]


def test_cli_solves_a_park_file(capsys):
    code = main(["solve", str(SAMPLE), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert data["status"] == "optimal" and data["check"]["passed"]
    assert {row["plant"] for row in data["plants"]} == {"C", "F", "T", PARK_LEVEL}
    assert any(e["from_plant"] != PARK_LEVEL and e["to_plant"] != PARK_LEVEL for e in data["exchanges"])


def test_cli_reports_a_bad_park_with_exit_2(capsys, tmp_path):
    path = write_park(tmp_path, {**PARK, "plants": [{"id": "A", "file": "missing.yaml"}]})
    code = main(["solve", str(path)])
    _, err = capsys.readouterr()
    assert code == 2 and "plant 'A' (missing.yaml): no such file" in err and "Traceback" not in err


def test_indicators_of_a_hand_graph_sum_by_rule():
    """Rows are attributed by rule: intake to the receiver, wastewater to the sender."""
    plant = (cascade.Plant("p", ["C"], hours_per_year=10)
             .add_freshwater("W", {"C": 0}, price=2, plant="X")
             .add_sink("D", 4, {"C": 100}, plant="Y")
             .add_source("S", 3, {"C": 10}, plant="X")
             .add_discharge("Z", price=1))
    graph = cascade.build_superstructure(plant)
    rows = plant_indicators(graph, {("W", "D"): 1.0, ("S", "D"): 3.0})
    assert rows.loc["Y", ["freshwater", "received", "reused", "reuse_rate", "operating_cost"]].tolist() == [
        1.0, 3.0, 3.0, 0.75, 20.0]
    assert rows.loc["X", ["freshwater", "sent", "operating_cost"]].tolist() == [0.0, 3.0, 0.0]
    assert list(rows.index) == ["X", "Y", PARK_LEVEL]


def test_park_level_units_have_no_plant_not_nan():
    """A unit of the park itself has plant None in the tables (pandas 3 would infer NaN for a text column)."""
    plant = cascade.read_plant(SAMPLE)
    assert plant.freshwater.loc["reclaimed_main", "plant"] is None
    assert plant.freshwater.loc["F/mains", "plant"] == "F"
    assert plant.discharges["plant"].tolist() == [None]
