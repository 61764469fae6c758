"""Reading and writing ``cascade-plant/1``: round trips (YAML, JSON), units, atomic writes, the builder."""

from __future__ import annotations

import copy
import json
import math
import os
from pathlib import Path

import pandas as pd
import pytest
import yaml

import cascade
from cascade import Plant, PlantDataError, read_plant, write_plant
from cascade.io import parse_yaml, plant_to_dict

ROOT = Path(__file__).resolve().parents[1]
MODEL_FILES = sorted((ROOT / "models").glob("*/plant.yaml"))

# Every table and every field, each with a value other than its default.
FULL = {
    "format": "cascade-plant/1",
    "name": "Dairy plant, line 2",
    "description": "Every table and field of the format.\nA second line: 乳品厂 2 号线",
    "units": {"flow": "t/h", "concentration": "ppm", "load": "kg/h", "money": "CNY"},
    "hours_per_year": 7200,
    "contaminants": ["COD", "SS"],
    "freshwater": [
        {"id": "mains", "quality": {"COD": 5, "SS": 1}, "price": 4.2, "max_flow": 80, "kind": "fresh"},
        {"id": "reclaimed", "quality": {"COD": 40, "SS": 10}, "price": 2.5, "max_flow": 6.5, "kind": "reclaimed"},
    ],
    "sinks": [
        {"id": "boiler_feed", "flow": 12, "max": {"COD": 10, "SS": 5}, "unit": "boiler"},
        {"id": "wash", "flow": 7.25, "max": {"COD": 100}},
    ],
    "sources": [{"id": "boiler_blowdown", "flow": 2, "quality": {"COD": 20, "SS": 40}, "unit": "boiler"}],
    "operations": [
        {
            "id": "bottle_wash",
            "load": {"COD": 1.2, "SS": 0.4},
            "max_inlet": {"COD": 20, "SS": 10},
            "max_outlet": {"COD": 500, "SS": 200},
            "max_flow": 30,
            "local_recycle": True,
            "water_loss": 0.5,
        }
    ],
    "regenerators": [
        {
            "id": "uf",
            "outlet": {"SS": 2},
            "removal": {"COD": 0.6},
            "max_flow": 15,
            "recycle": False,
            "cost": {"fixed": 120000, "per_t": 1.8},
        }
    ],
    "discharges": [
        {"id": "sewer", "max": {"COD": 500, "SS": 400}, "price": 1.5},
        {"id": "river", "max": {"COD": 50}, "price": 0},
    ],
    "connections": {
        "forbidden": [["boiler_blowdown", "bottle_wash"]],
        "required": [["mains", "boiler_feed"]],
        "existing": [["mains", "boiler_feed", 12], ["boiler_blowdown", "sewer", 2]],
        "min_flow": 0.5,
        "pipe_cost": {"fixed": 5000},
    },
    "objective": "cost",
}


@pytest.fixture
def full() -> Plant:
    return read_plant(FULL)


def test_full_plant_reads_every_field(full):
    assert full.name == "Dairy plant, line 2" and full.description.endswith("乳品厂 2 号线")
    assert full.hours_per_year == 7200 and full.objective == "cost" and full.contaminants == ["COD", "SS"]
    fw = full.freshwater
    assert fw.loc["reclaimed", ["quality:COD", "price", "max_flow", "kind"]].tolist() == [40, 2.5, 6.5, "reclaimed"]
    assert full.sinks.loc["boiler_feed", "unit"] == "boiler" and pd.isna(full.sinks.loc["wash", "unit"])
    assert math.isnan(full.sinks.loc["wash", "max:SS"])  # a missing limit is no limit
    assert full.sources.loc["boiler_blowdown", ["flow", "quality:SS", "unit"]].tolist() == [2, 40, "boiler"]
    op = full.operations.loc["bottle_wash"]
    assert (op["load:COD"], op["max_inlet:SS"], op["max_outlet:COD"], op["max_flow"]) == (1.2, 10, 500, 30)
    assert full.operations["local_recycle"].tolist() == [True]
    uf = full.regenerators.loc["uf"]
    assert math.isnan(uf["outlet:COD"]) and uf["outlet:SS"] == 2
    assert uf["removal:COD"] == 0.6 and math.isnan(uf["removal:SS"])
    assert (uf["max_flow"], bool(uf["recycle"]), uf["cost_fixed"], uf["cost_per_t"]) == (15, False, 120000, 1.8)
    assert full.discharges.index.tolist() == ["sewer", "river"]  # no default WW when discharges are given
    assert full.discharges.loc["river", "price"] == 0 and full.discharges.loc["sewer", "max:SS"] == 400
    assert full.forbidden == [("boiler_blowdown", "bottle_wash")] and full.required == [("mains", "boiler_feed")]
    assert full.existing == [("mains", "boiler_feed", 12.0), ("boiler_blowdown", "sewer", 2.0)]
    assert (full.min_flow, full.pipe_cost_fixed) == (0.5, 5000)


def test_to_dict_gives_back_exactly_what_was_read(full):
    assert full.to_dict() == FULL


def test_yaml_round_trip(full, tmp_path):
    text = full.to_yaml()
    back = read_plant(parse_yaml(text))
    assert back.equals(full) and back.to_dict() == FULL
    path = tmp_path / "plant.yaml"
    assert full.to_yaml(path) == text == path.read_text(encoding="utf-8")
    assert read_plant(path).equals(full)
    assert yaml.safe_load(text) == FULL  # plain YAML, readable by any YAML tool


def test_json_round_trip(full, tmp_path):
    path = tmp_path / "plant.json"
    write_plant(full, path)
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == FULL  # real JSON, not YAML
    assert "乳品厂" in text  # written as UTF-8, not \\u escapes
    assert read_plant(path).equals(full)


# Changing any one of these values must make the plants differ (so `equals` is a real comparison).
CHANGES = [
    ("name",), ("description",), ("hours_per_year",), ("objective",), ("units", "money"),
    ("freshwater", 0, "price"), ("freshwater", 1, "max_flow"), ("freshwater", 1, "kind"),
    ("sinks", 1, "flow"), ("sinks", 0, "unit"), ("sources", 0, "quality", "SS"),
    ("operations", 0, "local_recycle"), ("operations", 0, "max_outlet", "COD"), ("operations", 0, "water_loss"),
    ("regenerators", 0, "removal", "COD"), ("regenerators", 0, "recycle"), ("regenerators", 0, "cost", "per_t"),
    ("discharges", 1, "price"), ("connections", "existing", 1, 2), ("connections", "min_flow"),
    ("connections", "pipe_cost", "fixed"), ("connections", "forbidden", 0, 1),
]
REPLACEMENTS = {"objective": "freshwater", "kind": "rain", "money": "EUR", 1: "wash"}  # still valid


def _changed(path: tuple) -> dict:
    data = copy.deepcopy(FULL)
    *parents, last = path
    holder = data
    for key in parents:
        holder = holder[key]
    old = holder[last]
    if isinstance(old, bool):
        holder[last] = not old
    elif isinstance(old, int | float):
        holder[last] = old * 0.5 if old else 1.0
    else:
        holder[last] = REPLACEMENTS.get(last, old + " (changed)")
    return data


@pytest.mark.parametrize("path", CHANGES, ids=lambda p: ".".join(map(str, p)))
def test_equals_sees_every_field(full, path):
    other = read_plant(_changed(path))
    assert not other.equals(full) and not full.equals(other)
    assert read_plant(copy.deepcopy(FULL)).equals(full)


def test_the_builder_gives_the_same_plant_as_the_file(full):
    built = (
        Plant(
            "Dairy plant, line 2",
            ["COD", "SS"],
            description=FULL["description"],
            hours_per_year=7200,
            objective="cost",
            min_flow=0.5,
            pipe_cost_fixed=5000,
        )
        .add_freshwater("mains", {"COD": 5, "SS": 1}, price=4.2, max_flow=80, kind="fresh")
        .add_freshwater("reclaimed", {"COD": 40, "SS": 10}, price=2.5, max_flow=6.5, kind="reclaimed")
        .add_sink("boiler_feed", 12, {"COD": 10, "SS": 5}, unit="boiler")
        .add_sink("wash", 7.25, {"COD": 100})
        .add_source("boiler_blowdown", 2, {"COD": 20, "SS": 40}, unit="boiler")
        .add_operation(
            "bottle_wash", {"COD": 1.2, "SS": 0.4}, {"COD": 20, "SS": 10}, {"COD": 500, "SS": 200},
            max_flow=30, local_recycle=True, water_loss=0.5,
        )
        .add_regenerator("uf", outlet={"SS": 2}, removal={"COD": 0.6}, max_flow=15, recycle=False,
                         cost_fixed=120000, cost_per_t=1.8)
        .add_discharge("sewer", {"COD": 500, "SS": 400}, price=1.5)
        .add_discharge("river", {"COD": 50})
        .forbid("boiler_blowdown", "bottle_wash")
        .require("mains", "boiler_feed")
        .add_existing("mains", "boiler_feed", 12)
        .add_existing("boiler_blowdown", "sewer", 2)
    )
    assert built.equals(full) and full.equals(built)
    assert built.validate().findings == full.validate().findings == []
    assert read_plant(parse_yaml(built.to_yaml())).equals(full)


def test_builder_none_means_the_default():
    a = Plant("x", ["C"]).add_freshwater("FW", {"C": 0}, price=None, max_flow=None).add_sink("D", 5, None)
    b = Plant("x", ["C"]).add_freshwater("FW", {"C": 0}).add_sink("D", 5)
    assert a.equals(b) and a.freshwater.loc["FW", "price"] == 0


def test_builder_nan_limit_is_no_limit_and_still_writes_a_readable_file():
    plant = Plant("x", ["C", "N"]).add_freshwater("FW").add_sink("D", 5, {"C": math.nan, "N": 10})
    data = plant.to_dict()
    assert data["sinks"] == [{"id": "D", "flow": 5, "max": {"N": 10}}]
    assert read_plant(parse_yaml(plant.to_yaml())).equals(plant)


def test_a_plant_that_cannot_be_read_back_is_not_written():
    plant = Plant("x", ["C"]).add_freshwater("FW", max_flow=math.inf).add_sink("D", 5)
    with pytest.raises(PlantDataError, match=r"supply 'FW': max_flow.*inf"):
        plant.to_yaml()
    with pytest.raises(PlantDataError, match="flow unit 'gpm' is not known"):
        Plant("x", ["C"], units={"flow": "gpm"}).to_dict()


def test_default_discharge_is_not_written():
    plant = read_plant({k: v for k, v in FULL.items() if k not in ("discharges", "connections")})
    assert plant.discharges.index.tolist() == ["WW"]  # the format's unconstrained default
    assert "discharges" not in plant.to_dict()
    assert read_plant(plant.to_dict()).equals(plant)


# ------------------------------------------------------------------ units
UNITS_FILE = """\
format: cascade-plant/1
name: other units
units: {flow: kg/s, concentration: mg/L, load: g/h, money: EUR}
contaminants: [C]
freshwater:
  - {id: FW, quality: {C: 2}, max_flow: 0.027, price: 3}
sinks:
  - {id: D, flow: 1, max: {C: 50}}
sources:
  - {id: S, flow: 0.5, quality: {C: 80}}
operations:
  - {id: OP, load: {C: 500}, max_inlet: {C: 10}, max_outlet: {C: 100}, max_flow: 2}
regenerators:
  - {id: R, outlet: {C: 5}, max_flow: 0.25, cost: {fixed: 100, per_t: 0.5}}
connections:
  existing: [[FW, D, 1]]
  min_flow: 0.1
"""


def test_other_units_read_into_canonical_units():
    plant = read_plant(parse_yaml(UNITS_FILE))
    # by hand: 1 kg/s = 3600 kg/h = 3.6 t/h; 500 g/h = 0.5 kg/h; 1 mg/L = 1 ppm
    assert plant.sinks.loc["D", "flow"] == pytest.approx(3.6)
    assert plant.sources.loc["S", "flow"] == pytest.approx(1.8)
    assert plant.freshwater.loc["FW", "max_flow"] == pytest.approx(0.0972)
    assert plant.operations.loc["OP", ["load:C", "max_flow"]].tolist() == pytest.approx([0.5, 7.2])
    assert plant.regenerators.loc["R", "max_flow"] == pytest.approx(0.9)
    assert plant.existing[0][2] == pytest.approx(3.6) and plant.min_flow == pytest.approx(0.36)
    # concentrations, prices and costs are not scaled
    assert plant.sinks.loc["D", "max:C"] == 50 and plant.operations.loc["OP", "max_outlet:C"] == 100
    assert plant.freshwater.loc["FW", "price"] == 3 and plant.regenerators.loc["R", "cost_per_t"] == 0.5
    assert plant.units == {"flow": "kg/s", "concentration": "mg/L", "load": "g/h", "money": "EUR"}


def test_other_units_write_back_in_their_own_units():
    plant = read_plant(parse_yaml(UNITS_FILE))
    text = plant.to_yaml()
    assert "units: {flow: kg/s, concentration: mg/L, load: g/h, money: EUR}" in text
    # the shortest decimal that reads back exactly, not 0.026999999999999996
    assert "  max_flow: 0.027\n" in text
    data = plant.to_dict()
    assert data["sinks"][0]["flow"] == 1 and data["sources"][0]["flow"] == 0.5
    assert data["operations"][0]["load"] == {"C": 500} and data["operations"][0]["max_flow"] == 2
    assert data["connections"] == {"existing": [["FW", "D", 1]], "min_flow": 0.1}
    back = read_plant(parse_yaml(text))
    assert back.equals(plant) and back.to_dict() == data


FLOW_FACTORS = {"t/h": 1.0, "m3/h": 1.0, "kg/s": 3.6, "kg/h": 0.001, "L/s": 3.6}  # to t/h, by hand
LOAD_FACTORS = {"kg/h": 1.0, "g/h": 0.001, "kg/s": 3600.0, "g/s": 3.6}  # to kg/h, by hand


@pytest.mark.parametrize("unit", sorted(FLOW_FACTORS))
@pytest.mark.parametrize("value", [1, 0.7, 12.3, 0.027])
def test_every_flow_unit_round_trips(unit, value):
    data = {
        "format": "cascade-plant/1", "name": "u", "units": {"flow": unit}, "contaminants": ["C"],
        "freshwater": [{"id": "FW"}], "sinks": [{"id": "D", "flow": value, "max": {"C": 10}}],
    }
    plant = read_plant(data)
    assert plant.sinks.loc["D", "flow"] == pytest.approx(value * FLOW_FACTORS[unit], rel=1e-12)
    assert plant.to_dict()["sinks"][0]["flow"] == value  # exactly the number the user wrote
    assert read_plant(plant.to_dict()).equals(plant)


@pytest.mark.parametrize("unit", sorted(LOAD_FACTORS))
@pytest.mark.parametrize("value", [1, 0.3, 45.6])
def test_every_load_unit_round_trips(unit, value):
    data = {
        "format": "cascade-plant/1", "name": "u", "units": {"load": unit}, "contaminants": ["C"],
        "freshwater": [{"id": "FW"}],
        "operations": [{"id": "OP", "load": {"C": value}, "max_inlet": {"C": 0}, "max_outlet": {"C": 100}}],
    }
    plant = read_plant(data)
    assert plant.operations.loc["OP", "load:C"] == pytest.approx(value * LOAD_FACTORS[unit], rel=1e-12)
    assert plant.to_dict()["operations"][0]["load"] == {"C": value}
    assert read_plant(plant.to_dict()).equals(plant)


# ------------------------------------------------------------------ JSON input
@pytest.mark.parametrize("indent", [None, 2, "\t"], ids=["compact", "spaces", "tabs"])
@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_json_text_loads(tmp_path, indent, suffix, full):
    path = tmp_path / f"plant{suffix}"
    path.write_text(json.dumps(FULL, indent=indent, ensure_ascii=False), encoding="utf-8")
    assert read_plant(path).equals(full)


def test_json_with_a_key_twice_is_refused(tmp_path):
    path = tmp_path / "plant.json"
    text = json.dumps(FULL, indent="\t").replace('"hours_per_year": 7200', '"hours_per_year": 7200, "name": "x"')
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlantDataError, match="'name' is given twice"):
        read_plant(path)


def test_broken_json_reports_the_json_error_and_line(tmp_path):
    path = tmp_path / "plant.json"
    path.write_text('{\n\t"format": "cascade-plant/1",\n\t"name": "x"\n\t"contaminants": ["C"]\n}\n')  # no comma
    with pytest.raises(PlantDataError, match=r"plant\.json: JSON syntax error at line 4, column 2: Expecting ','"):
        read_plant(path)


# ------------------------------------------------------------------ atomic writes
def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_write_into_a_missing_directory_fails_and_leaves_nothing(tmp_path, full):
    with pytest.raises(FileNotFoundError):
        write_plant(full, tmp_path / "no" / "such" / "plant.yaml")
    assert _listing(tmp_path) == []


def test_a_plant_that_cannot_be_serialised_leaves_the_old_file_alone(tmp_path):
    path = tmp_path / "plant.yaml"
    path.write_text("original\n", encoding="utf-8")
    bad = Plant("x", ["C"], units={"flow": "gpm"}).add_freshwater("FW").add_sink("D", 1)
    with pytest.raises(PlantDataError):
        write_plant(bad, path)
    assert path.read_text(encoding="utf-8") == "original\n" and _listing(tmp_path) == ["plant.yaml"]


def test_a_failed_rename_leaves_the_old_file_and_no_temporary(tmp_path, full, monkeypatch):
    path = tmp_path / "plant.json"
    path.write_text("original\n", encoding="utf-8")

    def refuse(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(cascade.io.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_plant(full, path)
    assert path.read_text(encoding="utf-8") == "original\n" and _listing(tmp_path) == ["plant.json"]


def test_written_files_get_normal_permissions(tmp_path, full):
    old = os.umask(0o022)
    try:
        fresh = tmp_path / "new.yaml"
        write_plant(full, fresh)
        assert fresh.stat().st_mode & 0o777 == 0o644  # not the 0o600 of a temporary file
        kept = tmp_path / "kept.yaml"
        kept.write_text("old\n")
        kept.chmod(0o640)
        write_plant(full, kept)
        assert kept.stat().st_mode & 0o777 == 0o640 and read_plant(kept).equals(full)
    finally:
        os.umask(old)
    assert _listing(tmp_path) == ["kept.yaml", "new.yaml"]


# ------------------------------------------------------------------ sample plants
@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: p.parent.name)
def test_sample_plants_round_trip(path, tmp_path):
    plant = read_plant(path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    data = plant_to_dict(plant)
    # everything the file gives is written back, with the same values
    for key in ("format", "name", "description", "hours_per_year", "contaminants", "objective",
                "freshwater", "sinks", "sources", "operations", "regenerators", "discharges", "connections"):
        if key in raw:
            assert data[key] == raw[key], key
    assert {**data["units"], **raw.get("units", {})} == data["units"]
    back = read_plant(parse_yaml(plant.to_yaml()))
    assert back.equals(plant) and back.to_dict() == data
    write_plant(plant, tmp_path / "p.json")
    assert read_plant(tmp_path / "p.json").equals(plant)


def test_there_are_sample_plants():
    assert len(MODEL_FILES) >= 2
