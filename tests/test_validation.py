"""Validation: every coded check of ``cascade.validation``, the structural checks of ``cascade.io``,
and the command line's clean exit on bad input.

Each case is a minimal plant with exactly one problem. The tests assert the code, that the message
names the unit and the offending number, that ``validate(strict=True)`` and ``read_plant`` raise
:class:`cascade.PlantDataError`, and that the well-formed base plant raises nothing (so the
problem, not the base, is what is caught).
"""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path

import numpy as np
import pytest

import cascade
from cascade import Plant, PlantDataError, read_plant
from cascade.cli import main
from cascade.validation import validate

# A valid plant: one supply at 0 ppm, one 10 t/h sink with a 50 ppm limit.
BASE = {
    "format": "cascade-plant/1",
    "name": "tiny",
    "contaminants": ["C"],
    "freshwater": [{"id": "FW", "quality": {"C": 0}}],
    "sinks": [{"id": "D", "flow": 10, "max": {"C": 50}}],
}

BASE_YAML = """\
format: cascade-plant/1
name: tiny
contaminants: [C]
freshwater:
  - id: FW
    quality: {C: 0}
sinks:
  - id: D
    flow: 10
    max: {C: 50}
"""


def with_(**changes) -> dict:
    """BASE with top-level keys replaced (None removes a key)."""
    data = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def tiny(name: str = "tiny", contaminants=("C",)) -> Plant:
    return Plant(name, list(contaminants)).add_freshwater("FW", {"C": 0}).add_sink("D", 10, {"C": 50})


def test_the_base_plants_are_valid():
    assert read_plant(BASE).validation.findings == []
    assert tiny().validate().findings == []
    assert read_plant(cascade.io.parse_yaml(BASE_YAML)).equals(tiny())


# ------------------------------------------------------------------ coded checks
OP = {"id": "OP", "load": {"C": 2}, "max_inlet": {"C": 0}, "max_outlet": {"C": 100}}

# (case id, plant data, code, unit, texts the message must contain)
FILE_CASES = [
    ("duplicate_contam", with_(contaminants=["C", "C"]), "duplicate_contam", None, ["'C'", "2 times"]),
    (
        "duplicate_id",
        with_(sinks=[{"id": "D", "flow": 10}, {"id": "D", "flow": 5}]),
        "duplicate_id", "D", ["'D'", "twice", "unique"],
    ),
    (
        "duplicate_id_across_tables",
        with_(sources=[{"id": "FW", "flow": 5}]),
        "duplicate_id", "FW", ["'FW'", "supply and source"],
    ),
    (
        "unknown_contaminant",
        with_(sinks=[{"id": "D", "flow": 10, "max": {"C": 50, "COD": 5}}]),
        "unknown_contaminant", "D", ["sink 'D'", "'COD'", "'max'"],
    ),
    (
        "unknown_id",
        with_(connections={"forbidden": [["FW", "boiler"]]}),
        "unknown_id", "boiler", ["'boiler'", "forbidden", "[FW, boiler]"],
    ),
    (
        "unknown_id_with_hint",
        with_(connections={"required": [["fw", "D"]]}),
        "unknown_id", "fw", ["'fw'", "did you mean 'FW'"],
    ),
    (
        "bad_connection_fresh_to_discharge",
        with_(connections={"required": [["FW", "WW"]]}),
        "bad_connection", "FW", ["[FW, WW]", "discharge"],
    ),
    (
        "bad_connection_required_and_forbidden",
        with_(connections={"required": [["FW", "D"]], "forbidden": [["FW", "D"]]}),
        "bad_connection", "FW", ["[FW, D]", "both required and forbidden"],
    ),
    (
        "bad_connection_existing_twice",
        with_(connections={"existing": [["FW", "D", 4], ["FW", "D", 6]]}),
        "bad_connection", "FW", ["[FW, D]", "2 times", "4 t/h", "6 t/h", "once"],
    ),
    (
        "negative_flow",
        with_(sinks=[{"id": "D", "flow": -5, "max": {"C": 50}}]),
        "negative", "D", ["sink 'D'", "'flow'", "-5 t/h", "0 or more"],
    ),
    (
        "negative_max_flow",
        with_(freshwater=[{"id": "FW", "quality": {"C": 0}, "max_flow": -3}]),
        "negative", "FW", ["supply 'FW'", "'max_flow'", "-3 t/h"],
    ),
    (
        "negative_price",
        with_(freshwater=[{"id": "FW", "quality": {"C": 0}, "price": -4.2}]),
        "negative", "FW", ["supply 'FW'", "'price'", "-4.2 CNY/t"],
    ),
    (
        "negative_quality",
        with_(sources=[{"id": "S", "flow": 5, "quality": {"C": -20}}]),
        "negative", "S", ["source 'S'", "'quality' of C", "-20 ppm"],
    ),
    (
        "negative_existing_flow",
        with_(connections={"existing": [["FW", "D", -2]]}),
        "negative", "FW", ["[FW, D]", "-2 t/h"],
    ),
    (
        "negative_min_flow",
        with_(connections={"min_flow": -1}),
        "negative", None, ["min_flow", "-1 t/h"],
    ),
    (
        "bad_removal",
        with_(regenerators=[{"id": "R", "removal": {"C": 1.5}}]),
        "bad_removal", "R", ["regenerator 'R'", "removal of C is 1.5", "between 0 and 1"],
    ),
    (
        "both_specs",
        with_(regenerators=[{"id": "R", "outlet": {"C": 5}, "removal": {"C": 0.9}}]),
        "both_specs", "R", ["regenerator 'R'", "5 ppm", "0.9", "keep one"],
    ),
    ("bad_option_objective", with_(objective="profit"), "bad_option", None, ["'profit'", "freshwater, cost"]),
    (
        "bad_option_kind",
        with_(freshwater=[{"id": "FW", "quality": {"C": 0}, "kind": "tap"}]),
        "bad_option", "FW", ["supply 'FW'", "'tap'", "reclaimed"],
    ),
    ("bad_option_hours_zero", with_(hours_per_year=0), "bad_option", None, ["hours_per_year is 0", "positive"]),
    ("bad_option_hours_too_many", with_(hours_per_year=9000), "bad_option", None, ["hours_per_year is 9000", "8784"]),
    ("no_supply", with_(freshwater=None), "no_supply", None, ["no fresh-water supply", "freshwater:"]),
    (
        "no_load",
        with_(operations=[{**OP, "load": {"C": 0}}]),
        "no_load", "OP", ["operation 'OP'", "picks up no contaminant", "'load'"],
    ),
    (
        "no_outlet_limit",
        with_(operations=[{k: v for k, v in OP.items() if k != "max_outlet"}]),
        "no_outlet_limit", "OP", ["operation 'OP'", "2 kg/h", "max_outlet"],
    ),
    (
        "outlet_below_inlet",
        with_(operations=[{**OP, "max_inlet": {"C": 100}, "max_outlet": {"C": 50}}]),
        "outlet_below_inlet", "OP", ["operation 'OP'", "50 ppm", "100 ppm", "raise max_outlet"],
    ),
    (
        "unreachable_limit_sink",
        with_(freshwater=[{"id": "FW", "quality": {"C": 20}}], sinks=[{"id": "D", "flow": 10, "max": {"C": 10}}]),
        "unreachable_limit", "D", ["sink 'D'", "C <= 10 ppm", "supply 'FW', 20 ppm", "regenerator"],
    ),
    (
        "unreachable_limit_operation_inlet",
        with_(freshwater=[{"id": "FW", "quality": {"C": 20}}], sinks=None, operations=[{**OP, "max_inlet": {"C": 5}}]),
        "unreachable_limit", "OP", ["operation 'OP'", "C <= 5 ppm", "20 ppm"],
    ),
    (
        "unreachable_limit_operation_outlet",
        with_(
            freshwater=[{"id": "FW", "quality": {"C": 20}}],
            sinks=None,
            operations=[{"id": "OP", "load": {"C": 2}, "max_outlet": {"C": 15}}],
        ),
        "unreachable_limit", "OP", ["operation 'OP'", "C <= 15 ppm", "at its outlet", "20 ppm"],
    ),
    (
        "bad_piping_negative_budget",
        with_(connections={"budget": -5}),
        "bad_piping", None, ["budget is -5", "0 or more"],
    ),
    (
        "bad_piping_fractional_pipe_limit",
        with_(connections={"max_new_pipes": 2.5}),
        "bad_piping", None, ["max_new_pipes is 2.5", "whole number"],
    ),
    (
        "bad_piping_capital_without_finance",
        with_(connections={"pipe_cost": {"capital": 1000}}),
        "bad_piping", None, ["capital cost", "no 'finance'"],
    ),
    (
        "bad_piping_class_without_size",
        with_(connections={"pipe_cost": {"classes": [{"capital": 10}]}}, finance={"annualisation_factor": 0.1}),
        "bad_piping", None, ["classes[0]", "positive max_flow"],
    ),
    (
        "unknown_id_in_layout",
        with_(layout={"coordinates": {"FW": [0, 0], "boiler": [1, 1]}}),
        "unknown_id", "boiler", ["layout.coordinates", "'boiler'"],
    ),
    (
        "no_length",
        with_(connections={"pipe_cost": {"per_metre": 100}}, finance={"annualisation_factor": 0.1},
              layout={"coordinates": {"FW": [0, 0]}}),
        "no_length", "D", ["priced per metre", "D, WW have no place", "layout.coordinates"],
    ),
    (
        "bad_plant_reserved_label",
        with_(sinks=[{"id": "D", "flow": 10, "max": {"C": 50}, "plant": "(park)"}]),
        "bad_plant", "D", ["sink 'D'", "'(park)'", "leave 'plant' out"],
    ),
    (
        "bad_plant_named_like_a_unit",
        with_(sinks=[{"id": "D", "flow": 10, "max": {"C": 50}, "plant": "FW"}]),
        "bad_plant", "D", ["plant 'FW' is also the id of a unit"],
    ),
    (
        "unknown_plant_in_layout",
        with_(sinks=[{"id": "D", "flow": 10, "max": {"C": 50}, "plant": "A"}], layout={"plants": {"B": [0, 0]}}),
        "unknown_id", "B", ["layout.plants names 'B'", "plants: A"],
    ),
    (
        "unknown_site_in_plant_distances",
        with_(sinks=[{"id": "D", "flow": 10, "max": {"C": 50}, "plant": "A"}],
              layout={"plant_distances": [["A", "Z", 100]]}),
        "unknown_id", "Z", ["layout.plant_distances [A, Z]", "'Z'", "park-level unit"],
    ),
    (
        "bad_piping_negative_exchange_cost",
        with_(connections={"pipe_cost": {"exchange": {"per_metre": -3}}}, finance={"annualisation_factor": 0.1}),
        "bad_piping", None, ["pipe_cost.exchange.per_metre is -3", "0 or more"],
    ),
    (
        "bad_piping_exchange_capital_without_finance",
        with_(connections={"pipe_cost": {"exchange": {"capital": 5000}}}),
        "bad_piping", None, ["capital cost", "no 'finance'"],
    ),
    (  # every meter check: tests/test_metering.py
        "bad_meter_unknown_unit",
        with_(meters=[{"id": "FT-7", "at": "boiler", "rsd": 0.02}]),
        "bad_meter", "FT-7", ["meter 'FT-7'", "at 'boiler' is not a unit", "units are: FW, D"],
    ),
]


def error_codes(report) -> set[str]:
    return {f.code for f in report.errors}


@pytest.mark.parametrize(("data", "code", "unit", "texts"), [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES])
def test_each_check_fires_alone_and_names_unit_and_number(data, code, unit, texts):
    plant = read_plant(data, validate=False)
    report = plant.validate()
    assert error_codes(report) == {code}, str(report)
    finding = next(f for f in report.errors if f.code == code and all(t in f.message for t in texts))
    assert finding.unit == unit
    with pytest.raises(PlantDataError) as raised:
        plant.validate(strict=True)
    assert finding.message in raised.value.problems
    with pytest.raises(PlantDataError, match=re.escape(finding.message)):
        read_plant(data)


# Checks that a plant file cannot reach (the file reader stops first), exercised with the builder.
def _no_contaminants() -> Plant:
    return Plant("none", []).add_freshwater("FW").add_sink("D", 10)


BUILDER_CASES = [
    ("no_name", lambda: tiny(name="  "), "no_name", None, ["no name", "name:"]),
    ("no_contaminants", _no_contaminants, "no_contaminants", None, ["no contaminant", "contaminants: [COD]"]),
    ("bad_number_missing_flow", lambda: tiny().add_source("S", None), "bad_number", "S", ["source 'S'", "'flow'"]),
    (
        "bad_number_infinite_cap",
        lambda: Plant("x", ["C"]).add_freshwater("FW", {"C": 0}, max_flow=math.inf).add_sink("D", 10, {"C": 50}),
        "bad_number", "FW", ["supply 'FW'", "'max_flow' is inf"],
    ),
    (
        "bad_number_nan_price",
        lambda: Plant("x", ["C"]).add_freshwater("FW", {"C": 0}, price=math.nan).add_sink("D", 10, {"C": 50}),
        "bad_number", "FW", ["supply 'FW'", "'price'", "missing"],
    ),
    (
        "bad_number_infinite_limit",
        lambda: Plant("x", ["C"]).add_freshwater("FW", {"C": 0}).add_sink("D", 10, {"C": math.inf}),
        "bad_number", "D", ["sink 'D'", "'max' of C is inf"],
    ),
    (
        "bad_number_existing_flow",
        lambda: tiny().add_existing("FW", "D", math.nan),
        "bad_number", "FW", ["[FW, D]", "nan"],
    ),
    (
        "bad_cost_exponent",
        lambda: tiny().add_regenerator("R", outlet={"C": 5}, cost_capital_a=100, cost_capital_b=1.5),
        "bad_cost", "R", ["regenerator 'R'", "cost.capital.b is 1.5"],
    ),
    (
        "bad_cost_no_finance",
        lambda: Plant("x", ["C"]).add_freshwater("FW", {"C": 0}).add_sink("D", 10, {"C": 50})
        .add_regenerator("R", outlet={"C": 5}, cost_capital_a=100),
        "bad_cost", "R", ["regenerator 'R'", "no 'finance'"],
    ),
    (
        "bad_cost_min_above_max",
        lambda: tiny().add_regenerator("R", outlet={"C": 5}, min_flow=5, max_flow=3),
        "bad_cost", "R", ["min_flow 5 t/h", "max_flow 3 t/h"],
    ),
    (
        "bad_option_unit",
        lambda: Plant("x", ["C"], units={"flow": "gpm"}).add_freshwater("FW", {"C": 0}).add_sink("D", 10, {"C": 50}),
        "bad_option", None, ["'gpm'", "t/h"],
    ),
    (
        "bad_meter_no_accuracy",
        lambda: tiny().add_meter("FT-1", ("FW", "D")),
        "bad_meter", "FT-1", ["meter 'FT-1' has no accuracy", "sd (in t/h)"],
    ),
]


@pytest.mark.parametrize(
    ("build", "code", "unit", "texts"), [c[1:] for c in BUILDER_CASES], ids=[c[0] for c in BUILDER_CASES]
)
def test_builder_only_checks(build, code, unit, texts):
    report = build().validate()
    assert error_codes(report) == {code}, str(report)
    finding = next(f for f in report.errors if f.code == code)
    assert finding.unit == unit
    assert all(t in finding.message for t in texts), finding.message
    with pytest.raises(PlantDataError):
        build().validate(strict=True)


def test_connection_out_of_a_sink_into_a_supply_names_both_units():
    report = read_plant(with_(connections={"required": [["D", "FW"]]}), validate=False).validate()
    assert report.codes() == ["bad_connection", "bad_connection"]
    units = {f.unit: f.message for f in report.errors}
    assert "sink 'D' has no outlet" in units["D"] and "supply 'FW' has no inlet" in units["FW"]


def test_every_error_is_listed_in_the_exception():
    data = with_(sinks=[{"id": "D", "flow": -5, "max": {"C": 50}}], objective="profit")
    with pytest.raises(PlantDataError) as raised:
        read_plant(data)
    assert len(raised.value.problems) == 2
    assert str(raised.value).startswith("2 problems:")


def test_zero_flow_is_a_warning_only():
    data = with_(sources=[{"id": "S", "flow": 0, "quality": {"C": 80}}])
    plant = read_plant(data)  # does not raise
    assert [(f.code, f.severity, f.unit) for f in plant.validation.findings] == [("zero_flow", "warning", "S")]
    assert plant.validation.ok and "source 'S'" in plant.validation.warnings[0].message
    assert plant.validate(strict=True).warnings  # strict does not raise on warnings


def test_messages_give_numbers_in_the_files_units():
    """A number in a message must be findable in the file: -1 kg/s, not the canonical -3.6 t/h."""
    data = with_(
        units={"flow": "kg/s", "concentration": "mg/L", "load": "g/h"},
        sinks=[{"id": "D", "flow": -1, "max": {"C": 50}}],
        operations=[{"id": "OP", "load": {"C": 500}, "max_inlet": {"C": 0}}],
    )
    messages = {f.code: f.message for f in read_plant(data, validate=False).validate().errors}
    assert "-1 kg/s" in messages["negative"] and "3.6" not in messages["negative"]
    assert "500 g/h" in messages["no_outlet_limit"]
    unreachable = with_(
        units={"concentration": "mg/L"},
        freshwater=[{"id": "FW", "quality": {"C": 20}}],
        sinks=[{"id": "D", "flow": 10, "max": {"C": 10}}],
    )
    (finding,) = validate(read_plant(unreachable, validate=False)).errors
    assert "10 mg/L" in finding.message and "20 mg/L" in finding.message


@pytest.mark.parametrize(
    "helper",
    [
        {"sources": [{"id": "S", "flow": 5, "quality": {"C": 5}}]},  # a cleaner source may feed it
        {"regenerators": [{"id": "R", "outlet": {"C": 5}}]},  # a regenerator reaches 5 ppm
        {"regenerators": [{"id": "R", "removal": {"C": 0.9}}]},  # removal: the optimizer decides
    ],
    ids=["cleaner_source", "regenerator_outlet", "removal_regenerator"],
)
def test_a_limit_some_stream_can_meet_is_not_unreachable(helper):
    data = with_(freshwater=[{"id": "FW", "quality": {"C": 20}}], sinks=[{"id": "D", "flow": 10, "max": {"C": 10}}])
    assert error_codes(validate(read_plant(data, validate=False))) == {"unreachable_limit"}
    assert validate(read_plant({**data, **helper}, validate=False)).errors == []


def test_odd_but_valid_input():
    # numeric ids and contaminant names: YAML reads them as numbers; they must still match
    text = BASE_YAML.replace("contaminants: [C]", "contaminants: [1, 2]").replace("{C: 0}", "{1: 0, 2: 0}")
    text = text.replace("max: {C: 50}", "max: {1: 50}").replace("id: D", "id: 7")
    text += "connections:\n  required: [[FW, 7]]\n"
    plant = read_plant(cascade.io.parse_yaml(text))
    assert plant.contaminants == ["1", "2"] and plant.required == [("FW", "7")]
    assert plant.sinks.loc["7", "max:1"] == 50 and math.isnan(plant.sinks.loc["7", "max:2"])
    # numpy numbers (e.g. from a DataFrame) are numbers for the builder
    built = Plant("x", ["C"]).add_freshwater("FW", {"C": np.int64(0)})
    built.add_sink("D", np.int64(10), {"C": np.float32(50)})
    assert built.equals(tiny("x"))
    # ... and for a mapping given to read_plant
    from_numpy = read_plant(with_(sinks=[{"id": "D", "flow": np.int64(10), "max": {"C": np.int64(50)}}]))
    assert from_numpy.equals(read_plant(BASE))
    # a name YAML reads as a number is still a name
    assert read_plant(with_(name=2024)).name == "2024"
    # one contaminant given as a string is one name, not a list of letters
    assert Plant("x", "COD").contaminants == ["COD"]


def test_builder_refuses_non_numbers_with_the_unit_named():
    with pytest.raises(PlantDataError, match="sink 'D': 'flow' must be a number, got 'abc'"):
        Plant("x", ["C"]).add_sink("D", "abc")
    with pytest.raises(PlantDataError, match="hours_per_year"):
        Plant("x", ["C"], hours_per_year="lots")
    with pytest.raises(PlantDataError, match="source 'S': 'flow' is too large"):
        Plant("x", ["C"]).add_source("S", 10**400)


# ------------------------------------------------------------------ structural checks (io)
def read_text(tmp_path: Path, text: str, name: str = "plant.yaml") -> Plant:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_plant(path)


def structural_error(tmp_path: Path, text: str) -> PlantDataError:
    with pytest.raises(PlantDataError) as raised:
        read_text(tmp_path, text)
    assert str(raised.value).startswith(str(tmp_path / "plant.yaml") + ": ")  # names the file
    return raised.value


STRUCTURAL = [
    ("missing_format", BASE_YAML.replace("format: cascade-plant/1\n", ""), ["missing the format line",
                                                                            "format: cascade-plant/1"]),
    ("wrong_format", BASE_YAML.replace("cascade-plant/1", "cascade-plant/2"), ["'cascade-plant/2'",
                                                                                "reads 'cascade-plant/1'"]),
    ("unknown_top_level", BASE_YAML.replace("sinks:", "sink:"), ["top level: unknown field 'sink'",
                                                                  "did you mean 'sinks'?"]),
    ("unknown_unit_field", BASE_YAML.replace("max: {C: 50}", "maxx: {C: 50}"), ["sink 'D': unknown field 'maxx'",
                                                                                 "did you mean 'max'?"]),
    ("non_numeric", BASE_YAML.replace("flow: 10", "flow: abc"), ["sink 'D': 'flow' must be a number, got 'abc'"]),
    ("nan", BASE_YAML.replace("flow: 10", "flow: .nan"), ["sink 'D': 'flow' must be a finite number"]),
    ("inf", BASE_YAML.replace("max: {C: 50}", "max: {C: .inf}"), ["sink 'D': 'max.C' must be a finite number"]),
    ("huge_integer", BASE_YAML.replace("flow: 10", "flow: 1" + "0" * 400), ["sink 'D': 'flow' must be a finite"]),
    ("unknown_units", BASE_YAML.replace("name: tiny", "name: tiny\nunits: {flow: gallons}"),
     ["flow unit 'gallons' is not known", "t/h, m3/h, kg/s"]),
    ("contaminants_not_list", BASE_YAML.replace("[C]", "C"), ["'contaminants' must be a list", "[COD, SS]"]),
    ("contaminant_read_as_boolean", BASE_YAML.replace("[C]", "[NO, C]"), ["'contaminants' must be a list",
                                                                           "quote such a name"]),
    ("missing_name", BASE_YAML.replace("name: tiny\n", ""), ["missing 'name'"]),
    ("missing_flow", BASE_YAML.replace("    flow: 10\n", ""), ["sink 'D' needs 'flow'", "t/h"]),
    ("null_id", BASE_YAML.replace("id: D", "id: null"), ["sinks entry 1: 'id' must be a name"]),
    ("table_not_a_list", BASE_YAML.split("sinks:")[0] + "sinks:\n  id: D\n  flow: 10\n", ["'sinks' must be a list"]),
    ("existing_flow_not_a_number", BASE_YAML + "connections:\n  existing: [[FW, D, lots]]\n",
     ["connections.existing [FW, D]: flow must be a number, got 'lots'"]),
    ("existing_flow_missing", BASE_YAML + "connections:\n  existing: [[FW, D, null]]\n",
     ["connections.existing [FW, D, null]", "today's flow"]),
    ("not_a_mapping", "- format: cascade-plant/1\n- name: tiny\n", ["must hold a mapping"]),
    ("empty", "", ["the file is empty", "format: cascade-plant/1"]),
    ("only_comments", "# a plant file\n\n", ["the file is empty"]),
]


@pytest.mark.parametrize(("text", "texts"), [c[1:] for c in STRUCTURAL], ids=[c[0] for c in STRUCTURAL])
def test_structural_problems(tmp_path, text, texts):
    error = structural_error(tmp_path, text)
    assert all(t in str(error) for t in texts), str(error)
    assert len(error.problems) == 1, error.problems  # one problem, reported once


def test_structural_problems_are_all_listed(tmp_path):
    text = BASE_YAML.replace("max: {C: 50}", "maxx: {C: 50}").replace("flow: 10", "flow: abc")
    error = structural_error(tmp_path, text)
    assert len(error.problems) == 2 and str(error).split(": ", 1)[1].startswith("2 problems:")


def test_yaml_syntax_error_gives_the_line(tmp_path):
    # line 9 is indented one space too far: "mapping values are not allowed here"
    lines = BASE_YAML.splitlines()
    assert lines[8] == "    flow: 10"
    lines[8] = "     flow: 10"
    error = structural_error(tmp_path, "\n".join(lines) + "\n")
    assert "YAML syntax error at line 9, column 10" in str(error)


def test_unclosed_bracket_names_the_line_it_opened(tmp_path):
    text = BASE_YAML.replace("contaminants: [C]", "contaminants: [C")  # line 3; YAML notices on line 4
    error = str(structural_error(tmp_path, text))
    assert "YAML syntax error at line 4" in error and "starts at line 3, column 15" in error


def test_a_key_given_twice_is_refused_with_both_lines(tmp_path):
    # plain YAML would silently keep the second 'sinks:' and lose sink D
    error = structural_error(tmp_path, BASE_YAML + "sinks:\n  - {id: E, flow: 5}\n")
    assert "line 11: 'sinks' is given twice (first at line 7)" in str(error)
    error = structural_error(tmp_path, BASE_YAML.replace("flow: 10", "flow: 10\n    flow: 12"))
    assert "line 10: 'flow' is given twice (first at line 9)" in str(error)


@pytest.mark.parametrize("data", [None, [1, 2], 3.5], ids=["none", "list", "number"])
def test_parsed_data_that_is_not_a_mapping(data):
    with pytest.raises(PlantDataError, match="plant data: the file must hold a mapping"):
        read_plant(data)


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(PlantDataError, match=r"missing\.yaml: no such file"):
        read_plant(tmp_path / "missing.yaml")
    with pytest.raises(PlantDataError, match="cannot be read"):
        read_plant(tmp_path)  # a directory
    (tmp_path / "latin1.yaml").write_bytes(BASE_YAML.replace("tiny", "caf\xe9").encode("latin-1"))
    with pytest.raises(PlantDataError, match="cannot be read"):
        read_plant(tmp_path / "latin1.yaml")


# ------------------------------------------------------------------ command line
def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


CLI_BAD = {
    "missing_format": (BASE_YAML.replace("format: cascade-plant/1\n", ""), "format"),
    "yaml_syntax": (BASE_YAML.replace("[C]", "[C"), "line 4"),
    "non_numeric": (BASE_YAML.replace("flow: 10", "flow: abc"), "'D'"),
    "huge_integer": (BASE_YAML.replace("flow: 10", "flow: 1" + "0" * 400), "'D'"),
    "unknown_units": (BASE_YAML.replace("name: tiny", "name: tiny\nunits: {flow: gallons}"), "gallons"),
    "duplicate_key": (BASE_YAML + "sinks: []\n", "twice"),
    "duplicate_id": (BASE_YAML + "sources:\n  - {id: D, flow: 5}\n", "'D'"),
    "negative": (BASE_YAML.replace("flow: 10", "flow: -10"), "-10 t/h"),
    "not_a_mapping": ("[1, 2]\n", "mapping"),
    "empty": ("", "empty"),
}


@pytest.mark.parametrize("case", sorted(CLI_BAD))
def test_cli_bad_file_exits_2_with_one_clean_line(capsys, tmp_path, case):
    text, expected = CLI_BAD[case]
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "solve", path)
    assert code == 2
    assert out == ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("cascade:"), err
    assert expected in lines[0] and "Traceback" not in err


def test_cli_missing_file(capsys, tmp_path):
    code, out, err = run(capsys, "solve", tmp_path / "nowhere.yaml")
    assert code == 2 and out == "" and err.startswith("cascade:") and "no such file" in err
    assert len(err.strip().splitlines()) == 1


def test_cli_impossible_plant_names_the_unit(capsys, tmp_path):
    """Every supply is dirtier than the boiler feed allows: caught before solving, exit 2."""
    path = tmp_path / "impossible.yaml"
    path.write_text(
        BASE_YAML.replace("quality: {C: 0}", "quality: {C: 20}").replace("id: D", "id: boiler_feed")
        .replace("max: {C: 50}", "max: {C: 10}"),
        encoding="utf-8",
    )
    code, out, err = run(capsys, "solve", path)
    assert code == 2 and out == ""
    assert err.startswith("cascade: ") and len(err.strip().splitlines()) == 1
    assert "boiler_feed" in err and "10 ppm" in err and "FW" in err and "Traceback" not in err


def test_cli_validate_lists_every_problem(capsys, tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text(BASE_YAML.replace("flow: 10", "flow: -10") + "objective: profit\n", encoding="utf-8")
    code, out, err = run(capsys, "validate", path)
    assert code == 2
    assert "-10 t/h" in out and "'profit'" in out
    assert err.strip() == f"cascade: error: 2 problem(s) in {path}"


def test_every_documented_code_is_tested_and_every_emitted_code_documented():
    table = cascade.validation.__doc__.split("===\ncode")[1]
    documented = set(re.findall(r"^([a-z_]+)\s{2,}", table, flags=re.MULTILINE))
    tested = {c[2] for c in FILE_CASES + BUILDER_CASES} | {"zero_flow", "unverified_limit"}  # the last: test_standards
    assert documented == tested
    emitted = set(re.findall(r"""(?:error|warning)\(\s*"([a-z_]+)\"""", Path(cascade.validation.__file__).read_text()))
    assert emitted == documented
