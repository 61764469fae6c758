"""Meters (issue 8, water balance testing): on the plant, in the plant file, in a meter table; readings and
their problems; simulated readings.

Each malformed case checks both the message and that every good row survives with its exact value.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from cascade import Plant, PlantDataError, examples, read_plant, write_plant
from cascade.io import parse_yaml, plant_to_dict
from cascade.metering import (
    PROBLEM_COLUMNS,
    Meter,
    meter_problems,
    read_meters,
    read_readings,
    simulate_readings,
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
    plant.add_meter("FT-2", "mains", accuracy_class=2, repeatability=0.004)
    path = tmp_path / "p.yaml"
    write_plant(plant, path)
    text = path.read_text(encoding="utf-8")
    assert "sd: 0.5" in text  # 1.8 t/h in kg/s
    assert "repeatability: 0.004" in text  # a fraction: not scaled by the flow unit
    again = read_plant(path)
    assert again.equals(plant) and again.meters[2].repeatability == 0.004


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


def test_the_documented_example_reads():
    text = (Path(__file__).resolve().parents[1] / "docs/plant-format.md").read_text(encoding="utf-8")
    example = parse_yaml(text.split("## Optional: meters")[1].split("```yaml\n")[1].split("```")[0])
    plant = read_plant({**PLANT_DATA, **example})
    assert [(m.id, m.at, m.standard_deviation(100.0), m.level) for m in plant.meters] == [
        ("FT-101", "mains", 2.0, 1), ("FT-102", ("mains", "boiler_feed"), 1.25, 2), ("AT-201", "sewer", 15.0, 1)]


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
    ("negative_repeatability", Meter("FT-1", "mains", rsd=0.02, repeatability=-0.01),
     ["meter 'FT-1': repeatability is -0.01; give a fraction of the reading, 0 or more"]),
    ("repeatability_above_accuracy", Meter("FT-1", "mains", accuracy_class=2, repeatability=0.02),
     ["meter 'FT-1': repeatability 0.02 is more than the meter's whole relative accuracy 0.01"]),
    ("repeatability_with_sd", Meter("AT-1", "wash", "COD", sd=5, repeatability=0.01),
     ["meter 'AT-1': repeatability is a fraction of the reading, so it goes with rsd or accuracy_class"]),
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
        " ID ,At,quantity,rsd,sd,Accuracy_Class,level,description,repeatability\n"
        "FT-1,mains->boiler_feed,,0.02,,,2,feed line,0.005\n"
        "FT-2, mains ,flow,,0.5,,,,\n"
        "AT-1,wash,COD,,20,,3,,\n"
        "FT-3,sewer,,,,2.5,1,\"outfall, north\",\n",
        encoding="utf-8",
    )
    meters = read_meters(path, small(flow="kg/s", concentration="mg/L"))
    assert meters == [
        Meter("FT-1", ("mains", "boiler_feed"), rsd=0.02, level=2, description="feed line", repeatability=0.005),
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
                          "repeatability, level, description"
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


# ------------------------------------------------------------------ readings
METERS = [
    Meter("FT-1", "mains", rsd=0.02),
    Meter("FT-2", ("mains", "boiler_feed"), sd=0.2),
    Meter("AT-1", "wash", "COD", sd=5),
]
T0 = pd.Timestamp("2026-03-01 00:00")


def hours(*offsets: float) -> list[pd.Timestamp]:
    return [T0 + pd.Timedelta(hours=h) for h in offsets]


def write(tmp_path, text: str, name: str = "readings.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


CLEAN = """timestamp,meter,value
2026-03-01 00:00,FT-1,10
2026-03-01 00:00,FT-2,4
2026-03-01 00:00,AT-1,50
2026-03-01 01:00,FT-1,11
2026-03-01 01:00,FT-2,4.5
2026-03-01 01:00,AT-1,55
2026-03-01 02:00,FT-1,12
2026-03-01 02:00,FT-2,5
2026-03-01 02:00,AT-1,60
"""


def expected(rows: dict[pd.Timestamp, list[float]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=["FT-1", "FT-2", "AT-1"], dtype=float)
    frame.index = pd.DatetimeIndex(frame.index, name="timestamp").astype("datetime64[ns]")
    return frame


CLEAN_VALUES = {T0: [10, 4, 50], T0 + pd.Timedelta("1h"): [11, 4.5, 55], T0 + pd.Timedelta("2h"): [12, 5, 60]}


def kinds(readings) -> list[str]:
    return list(readings.problems["kind"])


def test_clean_readings(tmp_path):
    readings = read_readings(write(tmp_path, CLEAN), METERS)
    pd.testing.assert_frame_equal(readings.values, expected(CLEAN_VALUES))
    assert list(readings.problems.columns) == list(PROBLEM_COLUMNS) and readings.problems.empty
    assert readings.ok and readings.messages() == []
    assert (readings.rows_read, readings.rows_kept, readings.step) == (9, 9, pd.Timedelta("1h"))
    assert readings.mean().to_dict() == {"FT-1": 11.0, "FT-2": 4.5, "AT-1": 55.0}
    assert readings.count().to_dict() == {"FT-1": 3, "FT-2": 3, "AT-1": 3}


def test_readings_are_converted_from_the_plant_units(tmp_path):
    readings = read_readings(write(tmp_path, CLEAN), METERS, units=small(flow="kg/s", concentration="mg/L").units)
    assert readings.values["FT-1"].tolist() == [36.0, 11 * 3.6, 12 * 3.6]
    assert readings.values["AT-1"].tolist() == [50.0, 55.0, 60.0]  # analysers take the concentration unit
    readings = read_readings(write(tmp_path, CLEAN), METERS, units={"flow": "kg/h"})
    assert readings.values["FT-2"].tolist() == [v * 0.001 for v in (4, 4.5, 5)]
    with pytest.raises(PlantDataError, match="flow unit 'gpm' is not known"):
        read_readings(write(tmp_path, CLEAN), METERS, units={"flow": "gpm"})


def test_header_names_ignore_case_and_blanks_extra_columns_and_a_semicolon(tmp_path):
    text = "\ufeff Quality ; TimeStamp ;METER; Value \n"
    text += "".join(f"good;{line.replace(',', ';')}\n" for line in CLEAN.splitlines()[1:])
    readings = read_readings(write(tmp_path, text), METERS)
    pd.testing.assert_frame_equal(readings.values, expected(CLEAN_VALUES))
    assert readings.problems.empty


def test_a_meter_without_readings_is_a_column_of_nan(tmp_path):
    meters = [*METERS, Meter("FT-9", "sewer", rsd=0.05)]
    readings = read_readings(write(tmp_path, CLEAN), meters)
    assert list(readings.values.columns) == ["FT-1", "FT-2", "AT-1", "FT-9"]
    assert readings.values["FT-9"].isna().all() and readings.count()["FT-9"] == 0
    assert math.isnan(readings.mean()["FT-9"])
    assert readings.messages() == ["meter 'FT-9' has no reading at all"]
    assert readings.ok  # nothing was dropped


def test_nothing_usable_is_an_error(tmp_path):
    with pytest.raises(PlantDataError, match="absent.csv: no such file"):
        read_readings(tmp_path / "absent.csv", METERS)
    path = write(tmp_path, "time,tag,value,unit\n2026-03-01,FT-1,3,t/h\n")
    with pytest.raises(PlantDataError) as raised:
        read_readings(path, METERS)
    assert str(raised.value) == (
        f"{path}: no column 'timestamp' and no column 'meter'; readings need the columns timestamp, meter and value, "
        "one reading a row (columns found: time, tag, value, unit)"
    )
    with pytest.raises(PlantDataError, match="no readings"):
        read_readings(write(tmp_path, "timestamp,meter,value\n\n"), METERS)
    with pytest.raises(PlantDataError, match="the file is empty"):
        read_readings(write(tmp_path, "\n \n"), METERS)
    with pytest.raises(PlantDataError, match="no readings"):
        read_readings(pd.DataFrame(columns=["timestamp", "meter", "value"]), METERS)
    with pytest.raises(PlantDataError, match="'FT-1' is given more than once"):
        read_readings(write(tmp_path, CLEAN), [*METERS, METERS[0]])


def test_unknown_meters_are_dropped_and_listed_with_counts_and_the_known_ids(tmp_path):
    text = CLEAN + "2026-03-01 00:00,FT-11,3\n2026-03-01 01:00,FT-11,3\n2026-03-01 01:00,PT-5,1\n"
    readings = read_readings(write(tmp_path, text), METERS)
    pd.testing.assert_frame_equal(readings.values, expected(CLEAN_VALUES))
    assert kinds(readings) == ["unknown_meter", "unknown_meter"]
    assert readings.problems["rows"].tolist() == [[10, 11], [12]]
    assert readings.problems["dropped"].tolist() == [2, 1]
    assert readings.messages() == [
        "meter 'FT-11' is not one of the meters (did you mean 'FT-1'?): 2 rows (10 and 11) dropped; known meters: "
        "FT-1, FT-2, AT-1",
        "meter 'PT-5' is not one of the meters: 1 row (12) dropped; known meters: FT-1, FT-2, AT-1",
    ]
    assert not readings.ok and (readings.rows_read, readings.rows_kept) == (12, 9)


@pytest.mark.parametrize(("value", "why"), [
    ("abc", "value 'abc' is not a number"),
    ("", "the value is empty"),
    ("NaN", "value 'NaN' is not a number"),
    ("inf", "value 'inf' is infinite"),
    ("-Infinity", "value '-Infinity' is infinite"),
    ("1,5", None),  # a decimal comma in a comma-separated file: a malformed row
])
def test_bad_values_are_dropped_and_the_rest_kept(tmp_path, value, why):
    text = CLEAN.replace("2026-03-01 01:00,FT-2,4.5", f"2026-03-01 01:00,FT-2,{value}")
    readings = read_readings(write(tmp_path, text), METERS)
    values = dict(CLEAN_VALUES)
    values[T0 + pd.Timedelta("1h")] = [11, math.nan, 55]
    pd.testing.assert_frame_equal(readings.values, expected(values))
    problem = readings.problems.iloc[0]
    assert problem["rows"] == [5] and problem["dropped"] == 1
    if why is None:
        assert problem["kind"] == "bad_row"
        assert problem["message"].startswith("row 5 has 4 fields where the header has 3 (a comma inside a number")
    else:
        assert problem["kind"] == "bad_value" and problem["meter"] == "FT-2"
        assert problem["timestamp"] == T0 + pd.Timedelta("1h")
        assert problem["message"] == f"row 5: meter 'FT-2' at 2026-03-01 01:00: {why}; reading dropped"
    # the meter's gap at 01:00 is reported too, without dropping anything
    assert kinds(readings)[1:] == ["missing"]
    assert readings.problems["message"].iloc[1] == (
        "meter 'FT-2' has no reading at 1 of the 3 timestamps other meters have: 2026-03-01 01:00")


def test_bad_timestamps_are_dropped(tmp_path):
    text = CLEAN + "yesterday,FT-1,99\n,FT-2,99\n2026-02-30 01:00,AT-1,99\n12:00,FT-1,99\n7,FT-1,99\n"
    readings = read_readings(write(tmp_path, text), METERS)
    pd.testing.assert_frame_equal(readings.values, expected(CLEAN_VALUES))
    assert kinds(readings) == ["bad_timestamp"] * 5
    assert readings.problems["rows"].tolist() == [[10], [11], [12], [13], [14]]  # a time or a number alone: no date
    assert readings.problems["message"].tolist()[:3] == [
        "row 10: meter 'FT-1': timestamp 'yesterday' cannot be read as a date and time (write it as 2026-03-01 "
        "05:00); reading dropped",
        "row 11: meter 'FT-2': the timestamp is empty; reading dropped",
        "row 12: meter 'AT-1': timestamp '2026-02-30 01:00' cannot be read as a date and time (write it as "
        "2026-03-01 05:00); reading dropped",
    ]
    assert readings.problems["timestamp"].isna().all()


def test_other_timestamp_formats_are_read(tmp_path):
    text = ("timestamp,meter,value\n2026-03-01T00:00:00,FT-1,1\n2026/03/01 01:00,FT-1,2\n"
            "03/01/2026 02:00,FT-1,3\n2026-03-01 03:00:00.000,FT-1,4\n")
    readings = read_readings(write(tmp_path, text), METERS[:1])
    assert readings.values["FT-1"].to_dict() == dict(zip(hours(0, 1, 2, 3), [1.0, 2.0, 3.0, 4.0], strict=True))
    assert readings.problems.empty


def test_timestamps_with_an_offset_are_utc_and_the_minority_of_a_mix_is_dropped(tmp_path):
    text = "timestamp,meter,value\n2026-03-01 08:00+08:00,FT-1,1\n2026-03-01T01:00:00Z,FT-1,2\n"
    readings = read_readings(write(tmp_path, text), METERS[:1])
    assert readings.values["FT-1"].to_dict() == {hours(0)[0]: 1.0, hours(1)[0]: 2.0}
    text = CLEAN + "2026-03-01 11:00+08:00,FT-1,13\n"
    readings = read_readings(write(tmp_path, text), METERS)
    pd.testing.assert_frame_equal(readings.values, expected(CLEAN_VALUES))
    assert kinds(readings) == ["bad_timestamp"]
    assert readings.problems["message"].iloc[0] == (
        "row 10: meter 'FT-1': timestamp '2026-03-01 11:00+08:00' has a UTC offset and most timestamps have none; "
        "write all timestamps one way; reading dropped")


def test_negative_readings_are_dropped_and_zero_is_kept(tmp_path):
    text = (CLEAN.replace("01:00,FT-1,11", "01:00,FT-1,-0.5").replace("02:00,AT-1,60", "02:00,AT-1,-2")
            .replace("02:00,FT-2,5", "02:00,FT-2,0"))
    readings = read_readings(write(tmp_path, text), METERS, units={"flow": "kg/s"})
    values = {T0: [36.0, 4 * 3.6, 50.0], T0 + pd.Timedelta("1h"): [math.nan, 4.5 * 3.6, 55.0],
              T0 + pd.Timedelta("2h"): [12 * 3.6, 0.0, math.nan]}
    pd.testing.assert_frame_equal(readings.values, expected(values))
    assert kinds(readings)[:2] == ["negative_flow", "negative_concentration"]
    assert readings.problems["message"].tolist()[:2] == [
        "row 4: meter 'FT-1' at 2026-03-01 01:00: flow -0.5 kg/s is negative; a flow meter reads 0 or more "
        "(installed the wrong way round?); reading dropped",
        "row 9: meter 'AT-1' at 2026-03-01 02:00: concentration -2 ppm is negative; a concentration of COD is 0 or "
        "more (a zero offset of the analyser?); reading dropped",
    ]
    assert not readings.ok


def test_equal_duplicates_are_kept_once_and_conflicting_ones_dropped(tmp_path):
    text = CLEAN + "2026-03-01 01:00:00,FT-1,11.0\n2026-03-01 02:00,AT-1,61\n2026-03-01 02:00,AT-1,62\n"
    readings = read_readings(write(tmp_path, text), METERS)
    values = dict(CLEAN_VALUES)
    values[T0 + pd.Timedelta("2h")] = [12, 5, math.nan]
    pd.testing.assert_frame_equal(readings.values, expected(values))
    equal, different = readings.problems.iloc[0], readings.problems.iloc[1]
    assert (equal["kind"], equal["rows"], equal["dropped"]) == ("duplicate", [4, 10], 0)
    assert equal["message"] == "meter 'FT-1' at 2026-03-01 01:00: 2 equal readings 11 (rows 4 and 10); one kept"
    assert (different["kind"], different["rows"], different["dropped"]) == ("duplicate", [9, 11, 12], 3)
    assert different["message"] == (
        "meter 'AT-1' at 2026-03-01 02:00: 3 different readings (row 9: 60, row 11: 61, row 12: 62); all dropped, "
        "since it cannot be told which is right")
    assert (readings.rows_read, readings.rows_kept) == (12, 8)


def test_equal_duplicates_alone_leave_the_readings_ok(tmp_path):
    readings = read_readings(write(tmp_path, CLEAN + "2026-03-01 00:00,FT-2,4\n"), METERS)
    assert kinds(readings) == ["duplicate"] and readings.ok
    pd.testing.assert_frame_equal(readings.values, expected(CLEAN_VALUES))


def test_gaps_are_reported_as_ranges_and_drop_nothing(tmp_path):
    lines = ["timestamp,meter,value"] + [f"{t:%Y-%m-%d %H:%M},FT-1,{h}" for h, t in enumerate(hours(0, 1, 2, 5, 6, 8))]
    readings = read_readings(write(tmp_path, "\n".join(lines) + "\n"), METERS[:1])
    assert readings.values["FT-1"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert readings.step == pd.Timedelta("1h")
    assert kinds(readings) == ["gap", "gap"] and readings.ok
    assert readings.problems["message"].tolist() == [
        "no readings between 2026-03-01 02:00 and 05:00: 2 timestamps missing at the 1 h step (2026-03-01 03:00 "
        "to 04:00)",
        "no readings between 2026-03-01 06:00 and 08:00: 1 timestamp missing at the 1 h step (2026-03-01 07:00)",
    ]
    assert readings.problems["timestamp"].tolist() == hours(3, 7)
    assert readings.problems["rows"].tolist() == [[], []]
    assert readings.messages()[0].startswith("2 gaps in the timestamps: no readings between 2026-03-01 02:00")


def test_a_given_step_and_timestamps_off_it(tmp_path):
    lines = ["timestamp,meter,value"] + [f"{t:%Y-%m-%d %H:%M},FT-1,1" for t in hours(0, 0.5, 1, 2, 2.25)]
    path = write(tmp_path, "\n".join(lines) + "\n")
    readings = read_readings(path, METERS[:1], step="1h")
    assert readings.step == pd.Timedelta("1h") and readings.count()["FT-1"] == 5
    assert kinds(readings) == ["irregular"]
    assert readings.problems["rows"].iloc[0] == [2, 5]
    assert readings.problems["message"].iloc[0] == (
        "2 timestamps are off the 1 h step that starts at 2026-03-01 00:00: 2026-03-01 00:30, 2026-03-01 02:15; "
        "kept (check the logger's clock, or give the step)")
    assert read_readings(path, METERS[:1], step=pd.Timedelta("15min")).problems["kind"].tolist() == ["gap"] * 3
    for bad in ("often", "-1h", "0s"):
        with pytest.raises(PlantDataError, match="step"):
            read_readings(path, METERS[:1], step=bad)


def test_missing_readings_are_counted_per_meter(tmp_path):
    text = CLEAN.replace("2026-03-01 01:00,FT-2,4.5\n", "").replace("2026-03-01 02:00,FT-2,5\n", "")
    text += "".join(f"2026-03-01 0{h}:00,FT-1,1\n" for h in range(3, 8))
    readings = read_readings(write(tmp_path, text), METERS)
    assert readings.values["FT-2"].count() == 1
    assert kinds(readings) == ["missing", "missing"] and readings.ok
    assert readings.problems["message"].tolist() == [
        "meter 'FT-2' has no reading at 7 of the 8 timestamps other meters have: 2026-03-01 01:00, 2026-03-01 "
        "02:00, 2026-03-01 03:00 and 4 more",
        "meter 'AT-1' has no reading at 5 of the 8 timestamps other meters have: 2026-03-01 03:00, 2026-03-01 "
        "04:00, 2026-03-01 05:00 and 2 more",
    ]
    assert readings.problems["timestamp"].tolist() == hours(1, 3)


def test_row_numbers_count_the_lines_after_the_header(tmp_path):
    text = "timestamp,meter,value\n2026-03-01 00:00,FT-1,1\n\n2026-03-01 01:00,FT-1,x\n"
    readings = read_readings(write(tmp_path, text), METERS[:1])
    assert readings.problems["rows"].iloc[0] == [3]  # line 4 of the file
    assert readings.rows_read == 2


def test_a_malformed_row_is_dropped_and_its_neighbours_kept(tmp_path):
    text = CLEAN.replace("2026-03-01 02:00,FT-1,12", "2026-03-01 02:00,FT-1,1,234.5") + "2026-03-01 03:00,FT-1\n"
    readings = read_readings(write(tmp_path, text), METERS)
    values = dict(CLEAN_VALUES)
    values[T0 + pd.Timedelta("2h")] = [math.nan, 5, 60]
    pd.testing.assert_frame_equal(readings.values, expected(values))
    assert kinds(readings)[:2] == ["bad_row", "bad_row"]
    assert readings.problems["message"].iloc[1] == "row 10 has 2 fields where the header has 3; row dropped"


def test_messages_group_by_kind_and_meter_with_a_few_rows(tmp_path):
    text = CLEAN + "".join(f"2026-03-01 0{h}:00,AT-1,bad{h}\n" for h in range(3, 10))
    readings = read_readings(write(tmp_path, text), METERS)
    bad = [m for m in readings.messages() if "unusable" in m]
    assert bad == [
        "meter 'AT-1': 7 unusable values (rows 10, 11, 12, 13, 14 and 2 more), 7 rows dropped: row 10: meter 'AT-1' "
        "at 2026-03-01 03:00: value 'bad3' is not a number; reading dropped; row 11: meter 'AT-1' at 2026-03-01 "
        "04:00: value 'bad4' is not a number; reading dropped; and 5 more"
    ]
    assert readings.values.shape == (3, 3)  # their timestamps had nothing usable


def test_every_row_dropped_leaves_an_empty_table_with_every_meter(tmp_path):
    readings = read_readings(write(tmp_path, "timestamp,meter,value\n2026-03-01,FT-1,x\n"), METERS)
    assert readings.values.empty and list(readings.values.columns) == ["FT-1", "FT-2", "AT-1"]
    assert readings.values.index.name == "timestamp" and readings.step is None
    assert kinds(readings) == ["bad_value", "missing", "missing", "missing"]
    assert readings.problems["message"].iloc[1] == ("meter 'FT-1' has no usable reading (its 1 row was dropped: see "
                                                    "the other problems)")


def test_readings_from_a_dataframe(tmp_path):
    frame = pd.DataFrame({
        "Timestamp": pd.DatetimeIndex(hours(0, 1, 2, 3)).tz_localize("Asia/Shanghai"),
        "meter": ["FT-1", "FT-1", "AT-1", "FT-1"],
        "value": [1.0, np.nan, 3.0, -1.0],
        "note": ["", "", "", ""],
    }, index=[10, 20, 30, 40])
    readings = read_readings(frame, METERS)
    utc = pd.DatetimeIndex(hours(0, 1, 2, 3)).tz_localize("Asia/Shanghai").tz_convert("UTC").tz_localize(None)
    assert readings.values["FT-1"].dropna().to_dict() == {utc[0]: 1.0}
    assert readings.values["AT-1"].dropna().to_dict() == {utc[2]: 3.0}
    assert kinds(readings)[:2] == ["bad_value", "negative_flow"]
    assert readings.problems["rows"].tolist()[:2] == [[2], [4]]  # positions, not the index labels
    mixed = pd.DataFrame({"timestamp": [T0.to_pydatetime(), "2026-03-01 01:00", np.datetime64("2026-03-01T02:00")],
                          "meter": ["FT-1"] * 3, "value": ["1", True, 3]})
    readings = read_readings(mixed, METERS[:1])
    assert readings.values["FT-1"].to_dict() == {hours(0)[0]: 1.0, hours(2)[0]: 3.0}
    assert readings.problems["message"].iloc[0] == ("row 2: meter 'FT-1' at 2026-03-01 01:00: value 'True' is not a "
                                                    "number; reading dropped")


def test_readings_in_gb18030_as_a_chinese_excel_writes_them(tmp_path):
    path = tmp_path / "readings.csv"
    path.write_bytes(("时间,timestamp,meter,value\n甲,2026-03-01 00:00,FT-1,7\n").encode("gb18030"))
    assert read_readings(path, METERS[:1]).values["FT-1"].tolist() == [7.0]


# ------------------------------------------------------------------ simulated readings
def test_simulated_readings_have_the_meters_noise():
    # FT-1: all of its error random; FT-2 (class 4: rsd 2 %): 0.6 of its sd random, 0.8 systematic; AT-1: no
    # repeatability, all systematic (one calibration error for every reading of a call)
    meters = [Meter("FT-1", "mains", rsd=0.02, repeatability=0.02), Meter("AT-1", "wash", "COD", sd=5.0),
              Meter("FT-2", "sewer", accuracy_class=4, repeatability=0.012)]
    stamps = pd.date_range("2026-03-01", periods=20000, freq="min")
    long = simulate_readings({"FT-1": 100.0, "AT-1": 40.0, "FT-2": 50.0, "other": 1.0}, meters, stamps, seed=7)
    assert list(long.columns) == ["timestamp", "meter", "value"] and len(long) == 60000
    assert long["meter"].iloc[:3].tolist() == ["FT-1", "AT-1", "FT-2"]
    stats = long.groupby("meter")["value"].agg(["mean", "std"])
    assert abs(stats.loc["FT-1", "mean"] - 100.0) < 4 * 2.0 / math.sqrt(20000)
    assert abs(stats.loc["FT-1", "std"] / 2.0 - 1) < 0.03
    assert abs(stats.loc["FT-2", "std"] / 0.6 - 1) < 0.03  # the random part only
    assert abs(stats.loc["FT-2", "mean"] - 50.0) < 4 * 0.8  # shifted by its calibration error
    assert stats.loc["AT-1", "std"] < 1e-9 and abs(stats.loc["AT-1", "mean"] - 40.0) < 4 * 5.0
    again = simulate_readings({"FT-1": 100.0, "AT-1": 40.0, "FT-2": 50.0}, meters, stamps, seed=7)
    pd.testing.assert_frame_equal(again, long)
    other = simulate_readings({"FT-1": 100.0, "AT-1": 40.0, "FT-2": 50.0}, meters, stamps, seed=8)
    assert not other["value"].equals(long["value"])


def test_simulated_calibration_errors_vary_from_call_to_call_with_the_whole_sd():
    meter = Meter("FT-2", "sewer", accuracy_class=4, repeatability=0.012)  # sd 1.0 t/h at 50, 0.6 random
    stamps = pd.date_range("2026-03-01", periods=2, freq="h")
    pairs = np.array([simulate_readings({"FT-2": 50.0}, [meter], stamps, seed=seed)["value"].to_numpy()
                      for seed in range(4000)])
    assert abs(pairs[:, 0].std() / 1.0 - 1) < 0.05  # one reading: the meter's whole accuracy
    assert abs((pairs[:, 1] - pairs[:, 0]).std() / (0.6 * math.sqrt(2)) - 1) < 0.05  # within a call: random only
    assert abs(meter.mean_sd(50.0, 2) - math.sqrt(0.8**2 + 0.6**2 / 2)) < 1e-12
    assert abs(pairs.mean(axis=1).std() / meter.mean_sd(50.0, 2) - 1) < 0.05


def test_bias_shifts_the_mean():
    meter = Meter("FT-1", "mains", rsd=0.01, repeatability=0.01)
    stamps = pd.date_range("2026-03-01", periods=10000, freq="h")
    high = simulate_readings({"FT-1": 200.0}, [meter], stamps, seed=1, bias={"FT-1": 0.1})
    low = simulate_readings({"FT-1": 200.0}, [meter], stamps, seed=1, bias={"FT-1": -0.05})
    assert abs(high["value"].mean() - 220.0) < 0.1 and abs(low["value"].mean() - 190.0) < 0.1
    assert abs(high["value"].std() - 2.0) < 0.1  # the noise is the meter's, at the true value
    with pytest.raises(ValueError, match="bias names 'FT-9'"):
        simulate_readings({"FT-1": 200.0}, [meter], stamps, bias={"FT-9": 0.1})
    with pytest.raises(ValueError, match="no true value for meter 'FT-1'"):
        simulate_readings({"FT-2": 200.0}, [meter], stamps)


def test_simulated_readings_from_a_frame_read_back():
    stamps = pd.DatetimeIndex(hours(0, 1, 2), name="timestamp")
    truth = pd.DataFrame({"FT-1": [10.0, 20.0, 30.0], "FT-2": [5.0, math.nan, 5.0], "AT-1": [50.0, 50.0, 50.0]},
                         index=stamps)
    long = simulate_readings(truth, METERS, seed=3)
    assert len(long) == 8  # no reading where the truth is NaN
    readings = read_readings(long, METERS)
    assert readings.values.shape == (3, 3) and math.isnan(readings.values.loc[stamps[1], "FT-2"])
    for t, meter, value in long.itertuples(index=False):  # read back exactly
        assert readings.values.loc[t, meter] == value
    sd = np.array([[m.standard_deviation(x) for m, x in zip(METERS, row, strict=True)] for row in truth.to_numpy()])
    assert np.nanmax(np.abs(readings.values.to_numpy() - truth.to_numpy()) / sd) < 4
    assert kinds(readings) == ["missing"]
    assert len(simulate_readings(truth, METERS, stamps[:2], seed=3)) == 5
