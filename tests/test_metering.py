"""Meters (issue 8, water balance testing): on the plant, in the plant file, in a meter table; readings and
their problems; simulated readings.

Each malformed case checks both the message and that every good row survives with its exact value.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
import yaml

from cascade import Plant, PlantDataError, examples, read_plant, write_plant
from cascade.io import plant_to_dict
from cascade.metering import (
    Meter,
    meter_problems,
    read_meters,
)


def small(flow: str = "t/h", concentration: str = "ppm") -> Plant:
    """A supply, a sink, an operation and a sewer, with COD and SS."""
    return (
        Plant("metered", ["COD", "SS"], units={"flow": flow, "concentration": concentration})
        .add_freshwater("mains", {"COD": 0})
        .add_sink("boiler_feed", 12, {"COD": 10})
        .add_operation("wash", {"COD": 1}, {"COD": 20}, {"COD": 500})
        .add_discharge("sewer", {"COD": 500})
    )


PLANT_DATA = {
    "format": "cascade-plant/1",
    "name": "metered",
    "units": {"flow": "m3/h", "concentration": "mg/L"},
    "contaminants": ["COD", "SS"],
    "freshwater": [{"id": "mains", "quality": {"COD": 0}}],
    "sinks": [{"id": "boiler_feed", "flow": 12, "max": {"COD": 10}}],
    "discharges": [{"id": "sewer", "max": {"COD": 500}}],
    "meters": [
        {"id": "FT-101", "at": "mains", "rsd": 0.02, "level": 1, "description": "city main"},
        {"id": "FT-102", "at": ["mains", "boiler_feed"], "accuracy_class": 2.5, "level": 2},
        {"id": "FT-103", "at": "sewer", "sd": 0.3},
        {"id": "AT-201", "at": "sewer", "quantity": "COD", "sd": 15, "level": 1},
    ],
}


# ------------------------------------------------------------------ the plant
def test_add_meter_chains_and_stores_a_pipe_as_a_tuple():
    plant = small().add_meter("FT-1", ["mains", "boiler_feed"], rsd=0.02, level=2).add_meter(
        "AT-1", "wash", quantity="COD", sd=5, description="inlet analyser")
    assert plant.meters == [
        Meter("FT-1", ("mains", "boiler_feed"), "flow", rsd=0.02, level=2),
        Meter("AT-1", "wash", "COD", sd=5.0, description="inlet analyser"),
    ]
    assert plant.meters[0].on_pipe and not plant.meters[1].on_pipe
    assert plant.validate().findings == []
    assert "2 meters" in repr(plant)


def test_plant_keyword_takes_meters_and_normalises_at():
    plant = Plant("x", ["C"], meters=[Meter("FT-1", ["FW", "D"], rsd=0.01)]).add_freshwater("FW").add_sink("D", 1)
    assert plant.meters[0].at == ("FW", "D")
    with pytest.raises(PlantDataError, match="Meter records"):
        Plant("x", ["C"], meters=[{"id": "FT-1"}])


def test_add_meter_refuses_a_word_for_a_number():
    with pytest.raises(PlantDataError, match="meter 'FT-1': 'rsd' must be a number"):
        small().add_meter("FT-1", "mains", rsd="two percent")


def test_plants_with_different_meters_are_not_equal():
    assert small().add_meter("FT-1", "mains", rsd=0.02).equals(small().add_meter("FT-1", "mains", rsd=0.02))
    assert not small().add_meter("FT-1", "mains", rsd=0.02).equals(small().add_meter("FT-1", "mains", rsd=0.03))
    assert not small().add_meter("FT-1", "mains", rsd=0.02).equals(small())


# ------------------------------------------------------------------ the plant file
def test_plant_file_meters_are_read_in_canonical_units():
    plant = read_plant(PLANT_DATA)
    meters = {m.id: m for m in plant.meters}
    assert [m.id for m in plant.meters] == ["FT-101", "FT-102", "FT-103", "AT-201"]
    assert meters["FT-101"] == Meter("FT-101", "mains", "flow", rsd=0.02, level=1, description="city main")
    assert meters["FT-102"].at == ("mains", "boiler_feed") and meters["FT-102"].relative_sd == 0.0125
    assert meters["FT-103"].sd == 0.3  # m3/h is t/h
    assert meters["AT-201"].quantity == "COD" and meters["AT-201"].sd == 15.0


@pytest.mark.parametrize(("flow", "factor"), [("m3/h", 1.0), ("kg/s", 3.6), ("L/s", 3.6), ("kg/h", 0.001)])
def test_plant_file_sd_is_converted_exactly_and_round_trips(tmp_path, flow, factor):
    data = json.loads(json.dumps(PLANT_DATA))
    data["units"] = {"flow": flow, "concentration": "mg/L"}
    data["meters"][2]["sd"] = 0.7
    plant = read_plant(data)
    assert plant.meters[2].sd == 0.7 * factor
    assert plant.meters[3].sd == 15.0  # concentration: mg/L is ppm, not scaled by the flow unit
    written = plant_to_dict(plant)["meters"]
    assert written[2] == {"id": "FT-103", "at": "sewer", "quantity": "flow", "sd": 0.7}
    assert written[1]["at"] == ["mains", "boiler_feed"]
    for suffix in ("yaml", "json"):
        path = tmp_path / f"plant.{suffix}"
        write_plant(plant, path)
        again = read_plant(path)
        assert again.equals(plant)
        assert again.meters == plant.meters


def test_a_plant_built_in_code_round_trips_its_meters(tmp_path):
    plant = small(flow="kg/s").add_meter("FT-1", ("mains", "boiler_feed"), sd=0.36, level=3).add_meter(
        "AT-1", "wash", quantity="SS", accuracy_class=5)
    plant.meters[0] = Meter("FT-1", ("mains", "boiler_feed"), sd=1.8, level=3)
    path = tmp_path / "p.yaml"
    write_plant(plant, path)
    text = path.read_text(encoding="utf-8")
    assert "sd: 0.5" in text  # 1.8 t/h in kg/s
    assert read_plant(path).equals(plant)


def test_plant_file_meter_structure_problems_are_reported_together():
    data = json.loads(json.dumps(PLANT_DATA))
    data["meters"] = [
        {"id": "FT-1", "at": "mains", "rsd": "2 %", "colour": "red"},
        {"at": "mains", "rsd": 0.02},
        {"id": "FT-3", "at": ["mains", "boiler_feed", "sewer"], "rsd": 0.02},
        {"id": "FT-4", "at": "mains", "level": True, "sd": math.inf},
        "FT-5",
    ]
    with pytest.raises(PlantDataError) as raised:
        read_plant(data)
    problems = raised.value.problems
    assert len(problems) == 7, problems
    texts = "\n".join(problems)
    assert "meter 'FT-1': 'rsd' must be a number, got '2 %'" in texts
    assert "meters[0]: unknown field 'colour'" in texts
    assert "meters[1] needs an 'id'" in texts
    assert "meter 'FT-3': 'at' must be a unit id or a pipe [from, to]" in texts
    assert "meter 'FT-4': 'level' must be a number, got True" in texts
    assert "meter 'FT-4': 'sd' must be a finite number" in texts
    assert "meters[4] must be a mapping with id, at, quantity" in texts
    data["meters"] = {"id": "FT-1"}
    with pytest.raises(PlantDataError, match="'meters' must be a list"):
        read_plant(data)


def test_park_prefixes_the_meters_of_its_plants():
    plant_a = {key: PLANT_DATA[key] for key in ("format", "name", "contaminants", "freshwater", "sinks",
                                                    "discharges", "meters")}
    park = {
        "format": "cascade-park/1", "name": "park", "contaminants": ["COD", "SS"],
        "plants": [{"id": "A", "plant": plant_a}],
        "discharges": [{"id": "wwtp"}],
        "meters": [{"id": "FT-P", "at": ["A/mains", "wwtp"], "rsd": 0.05}],
    }
    plant = read_plant(park)
    meters = {m.id: m for m in plant.meters}
    assert meters["FT-P"].at == ("A/mains", "wwtp")
    assert meters["A/FT-102"].at == ("A/mains", "A/boiler_feed")
    assert meters["A/AT-201"].at == "A/sewer"


# ------------------------------------------------------------------ validation
V = "mains, boiler_feed, wash, sewer"
METER_CASES = [
    ("unknown_node", Meter("FT-7", "boiler", rsd=0.02), [f"meter 'FT-7': at 'boiler' is not a unit of the plant "
                                                         f"(did you mean 'boiler_feed'?); units are: {V}"]),
    ("unknown_node_no_hint", Meter("FT-7", "tank", rsd=0.02), [f"meter 'FT-7': at 'tank' is not a unit of the plant; "
                                                               f"units are: {V}"]),
    ("hint", Meter("FT-7", "Mains", rsd=0.02), ["at 'Mains' is not a unit of the plant (did you mean 'mains'?)"]),
    ("unknown_pipe_end", Meter("FT-8", ("mains", "tank"), rsd=0.02),
     [f"meter 'FT-8': the pipe [mains, tank] names 'tank', which is not a unit of the plant; units are: {V}"]),
    ("not_a_place", Meter("FT-9", ("a", "b", "c"), rsd=0.02), ["meter 'FT-9': at ('a', 'b', 'c') is neither"]),
    ("quantity", Meter("AT-1", "wash", "cod", sd=1), ["meter 'AT-1': quantity 'cod' is neither 'flow' nor a "
                                                      "contaminant of the plant (did you mean 'COD'?); "
                                                      "contaminants: COD, SS"]),
    ("analyser_on_pipe", Meter("AT-2", ("mains", "wash"), "COD", sd=1),
     ["meter 'AT-2' measures COD on the pipe [mains, wash]; an analyser is placed at a unit"]),
    ("no_accuracy", Meter("FT-1", "mains"), ["meter 'FT-1' has no accuracy; give one of rsd", "sd (in m3/h)"]),
    ("analyser_no_accuracy", Meter("AT-1", "wash", "SS"), ["sd (in mg/L)"]),
    ("two_accuracies", Meter("FT-1", "mains", rsd=0.02, accuracy_class=2.5),
     ["meter 'FT-1' gives rsd and accuracy_class; give only one of rsd, sd and accuracy_class"]),
    ("negative_rsd", Meter("FT-1", "mains", rsd=-0.02), ["meter 'FT-1': rsd is -0.02; it must be positive"]),
    ("zero_sd", Meter("FT-1", "mains", sd=0.0), ["meter 'FT-1': sd is 0 m3/h; it must be positive"]),
    ("nan_sd", Meter("FT-1", "mains", sd=math.nan), ["meter 'FT-1': sd is nan; give a positive finite number"]),
    ("inf_class", Meter("FT-1", "mains", accuracy_class=math.inf), ["accuracy_class is inf; give a positive finite"]),
    ("text_rsd", Meter("FT-1", "mains", rsd="0.02"), ["meter 'FT-1': rsd is '0.02'; give a positive finite number"]),
    ("rsd_percent", Meter("FT-1", "mains", rsd=2), ["meter 'FT-1': rsd is 2, a standard deviation of 200 % of the "
                                                    "reading; rsd is a fraction (0.02 for 2 %)"]),
    ("class_above_100", Meter("FT-1", "mains", accuracy_class=250), ["meter 'FT-1': accuracy_class is 250;",
                                                                     "at most 100"]),
    ("level", Meter("FT-1", "mains", rsd=0.02, level=4), ["meter 'FT-1': level 4 is not a metering level; use 1 "
                                                          "(plant boundary), 2 (sub-units and workshops) or 3"]),
    ("level_bool", Meter("FT-1", "mains", rsd=0.02, level=True), ["level True is not a metering level"]),
    ("empty_id", Meter(" ", "wash", rsd=0.02), ["the meter at 'wash' has no id (' '); give each meter a tag"]),
]


@pytest.mark.parametrize(("meter", "texts"), [c[1:] for c in METER_CASES], ids=[c[0] for c in METER_CASES])
def test_each_meter_check_names_the_meter_and_the_fix(meter, texts):
    plant = small(flow="m3/h", concentration="mg/L")
    plant.meters.append(meter)
    report = plant.validate()
    assert [f.code for f in report.findings] == ["bad_meter"], str(report)
    finding = report.findings[0]
    assert finding.unit == meter.id
    assert all(t in finding.message for t in texts), finding.message
    assert meter_problems([meter], plant) == [(meter.id, finding.message)]
    with pytest.raises(PlantDataError, match=re.escape(finding.message)):
        plant.validate(strict=True)


def test_duplicate_meter_ids_are_reported_once():
    plant = small().add_meter("FT-1", "mains", rsd=0.02).add_meter("FT-1", "wash", rsd=0.02)
    messages = [f.message for f in plant.validate().findings]
    assert messages == ["meter id 'FT-1' is given 2 times; each meter needs its own tag, so rename one"]


def test_a_pipe_outside_the_superstructure_and_the_default_discharge_are_accepted():
    plant = examples.wang_smith().add_meter("FT-1", ("OP4", "FW"), rsd=0.02).add_meter("FT-2", "WW", rsd=0.02)
    assert plant.validate().findings == []


def test_plant_file_meter_errors_are_raised_by_read_plant():
    data = json.loads(json.dumps(PLANT_DATA))
    data["meters"][0]["at"] = "boiler"
    data["meters"][1]["rsd"] = 0.01
    with pytest.raises(PlantDataError) as raised:
        read_plant(data)
    assert raised.value.problems == [
        "meter 'FT-101': at 'boiler' is not a unit of the plant (did you mean 'boiler_feed'?); units are: mains, "
        "boiler_feed, sewer",
        "meter 'FT-102' gives rsd and accuracy_class; give only one of rsd, sd and accuracy_class",
    ]


# ------------------------------------------------------------------ a meter table beside the plant file
def test_read_meters_from_csv(tmp_path):
    path = tmp_path / "meters.csv"
    path.write_text(
        " ID ,At,quantity,rsd,sd,Accuracy_Class,level,description\n"
        "FT-1,mains->boiler_feed,,0.02,,,2,feed line\n"
        "FT-2, mains ,flow,,0.5,,,\n"
        "AT-1,wash,COD,,20,,3,\n"
        "FT-3,sewer,,,,2.5,1,\"outfall, north\"\n",
        encoding="utf-8",
    )
    meters = read_meters(path, small(flow="kg/s", concentration="mg/L"))
    assert meters == [
        Meter("FT-1", ("mains", "boiler_feed"), rsd=0.02, level=2, description="feed line"),
        Meter("FT-2", "mains", sd=0.5 * 3.6),
        Meter("AT-1", "wash", "COD", sd=20.0, level=3),
        Meter("FT-3", "sewer", accuracy_class=2.5, level=1, description="outfall, north"),
    ]
    assert isinstance(meters[0].level, int)


def test_read_meters_from_a_csv_with_only_the_required_columns(tmp_path):
    path = tmp_path / "meters.csv"
    path.write_text("id,at\nFT-1,mains\n", encoding="utf-8")
    with pytest.raises(PlantDataError, match="meter 'FT-1' has no accuracy"):
        read_meters(path, small())


def test_read_meters_csv_problems_are_listed_together_with_row_numbers(tmp_path):
    path = tmp_path / "meters.csv"
    path.write_text(
        "id,at,rsd,colour\n"
        "FT-1,mains,0.02,red\n"
        "FT-2,tank,0.02,\n"
        "FT-3,mains,two,\n"
        "FT-4,mains->,0.02,\n"
        ",mains,0.02,\n",
        encoding="utf-8",
    )
    with pytest.raises(PlantDataError) as raised:
        read_meters(path, small())
    problems = raised.value.problems
    assert str(path) in str(raised.value)
    assert problems[0] == "columns: unknown column 'colour'; allowed: id, at, quantity, rsd, sd, accuracy_class, " \
                          "level, description"
    assert "row 3: meter 'FT-3': 'rsd' must be a number, got 'two'" in problems
    assert "row 4: meter 'FT-4': 'at' must be a unit id or a pipe from->to, got ['mains', '']" in problems
    assert "row 5 needs an 'id' (the meter's tag, e.g. FT-101)" in problems
    # the checks of meaning are the validation's, word for word
    assert "meter 'FT-2': at 'tank' is not a unit of the plant; units are: mains, boiler_feed, wash, sewer" in problems
    assert len(problems) == 5


def test_read_meters_needs_the_id_and_at_columns(tmp_path):
    path = tmp_path / "meters.csv"
    path.write_text("tag,place,rsd\nFT-1,mains,0.02\n", encoding="utf-8")
    with pytest.raises(PlantDataError, match=r"no column 'id' and no column 'at'.*columns found: tag, place, rsd"):
        read_meters(path, small())
    with pytest.raises(PlantDataError, match="no such file"):
        read_meters(tmp_path / "absent.csv", small())
    with pytest.raises(PlantDataError, match=r"\.csv, \.yaml, \.yml or \.json"):
        read_meters(tmp_path / "meters.xlsx", small())


@pytest.mark.parametrize("wrapped", [False, True])
def test_read_meters_from_yaml(tmp_path, wrapped):
    entries = [
        {"id": "FT-1", "at": ["mains", "boiler_feed"], "sd": 1, "level": 1},
        {"id": "AT-1", "at": "wash", "quantity": "SS", "sd": 4, "description": "SS probe"},
    ]
    path = tmp_path / "meters.yaml"
    path.write_text(yaml.safe_dump({"meters": entries} if wrapped else entries), encoding="utf-8")
    meters = read_meters(path, small(flow="L/s", concentration="mg/L"))
    assert meters == [Meter("FT-1", ("mains", "boiler_feed"), sd=3.6, level=1),
                      Meter("AT-1", "wash", "SS", sd=4.0, description="SS probe")]


def test_read_meters_from_json_reports_like_the_plant_file(tmp_path):
    path = tmp_path / "meters.json"
    path.write_text(json.dumps({"meters": [{"id": "FT-1", "at": "mains", "rsd": 0.02, "accuracy": 1}],
                                "notes": "x"}), encoding="utf-8")
    with pytest.raises(PlantDataError) as raised:
        read_meters(path, small())
    assert raised.value.problems == [
        "top level: unknown field 'notes'; allowed: meters",
        "meters[0]: unknown field 'accuracy'; did you mean 'accuracy_class'?",
    ]


def test_read_meters_from_a_dataframe():
    frame = pd.DataFrame({
        "id": ["FT-1", "AT-1", "FT-2"],
        "at": [("mains", "wash"), "wash", "sewer->mains"],
        "quantity": [None, "COD", np.nan],
        "rsd": [0.02, np.nan, np.nan],
        "sd": [np.nan, 3.0, np.nan],
        "accuracy_class": [np.nan, np.nan, 1.5],
        "level": [1, np.nan, 2],
    })
    meters = read_meters(frame, small(flow="kg/h"))
    assert meters == [Meter("FT-1", ("mains", "wash"), rsd=0.02, level=1), Meter("AT-1", "wash", "COD", sd=3.0),
                      Meter("FT-2", ("sewer", "mains"), accuracy_class=1.5, level=2)]
    frame.loc[1, "quantity"] = "TOC"
    with pytest.raises(PlantDataError, match="row 2|quantity 'TOC' is neither 'flow' nor a contaminant"):
        read_meters(frame, small())
