"""``cascade reconcile`` and ``cascade monitor`` at the command line, on the sample beverage plant's meter data."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from cascade.cli import main

ROOT = Path(__file__).resolve().parents[1]
FOOD = ROOT / "models" / "food_plant_retrofit"
PLANT, METERS, READINGS = str(FOOD / "plant.yaml"), str(FOOD / "meters.csv"), str(FOOD / "readings.csv")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_reconcile_prints_the_balance_and_keeps_good_rows(capsys, tmp_path):
    out_file = tmp_path / "flows.csv"
    code, out, err = run(capsys, "reconcile", PLANT, READINGS, "--meters", METERS, "--out", out_file)
    assert code == 0
    assert "Water balance table (GB/T 12452, t/h)" in out and "Metering coverage" in out
    assert "not observable (9)" in out and "pipe mains -> greening_roads" in out
    # the logger's duplicate and FT-104's gap are warnings, not failures
    assert "FT-202" in err and "one kept" in err and "FT-104" in err and "3 of the 72 timestamps" in err
    flows = pd.read_csv(out_file)
    assert len(flows) == 14
    assert flows.set_index(["from", "to"]).loc[("mains", "greening_roads"), "flow"] != flows["flow"].max()
    assert math.isnan(flows.set_index(["from", "to"]).loc[("mains", "greening_roads"), "flow"])


def test_reconcile_json_is_in_the_file_flow_unit(capsys, tmp_path):
    code, out, _ = run(capsys, "reconcile", PLANT, READINGS, "--meters", METERS, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["flow_unit"] == "t/h"
    assert data["global_test"]["raw"]["dof"] == 0  # neither balance is redundant with two pipes unmetered each
    assert data["indicators"] is None
    flows = {(f["from"], f["to"]): f["flow"] for f in data["flows"]}
    assert flows[("mains", "bottle_cooler_makeup")] is None  # never a made-up value
    readings = pd.read_csv(READINGS)
    mean = readings[readings["meter"] == "FT-101"]["value"].mean()
    assert flows[("mains", "process_water")] == pytest.approx(mean, abs=1e-9)  # not redundant: the reading stands



def test_reconcile_in_another_flow_unit(capsys, tmp_path):
    """The plant file in kg/s, readings in kg/s: the same balance, every flow divided by 3.6."""
    code, out, _ = run(capsys, "reconcile", PLANT, READINGS, "--meters", METERS, "--json")
    base = {(f["from"], f["to"]): f["flow"] for f in json.loads(out)["flows"]}
    plant = tmp_path / "plant.yaml"
    text = (FOOD / "plant.yaml").read_text(encoding="utf-8")
    plant.write_text(text.replace("units: {flow: t/h,", "units: {flow: kg/s,"), encoding="utf-8")
    readings = pd.read_csv(READINGS)
    flow = readings["meter"].str.startswith("FT")
    readings.loc[flow, "value"] = readings.loc[flow, "value"] / 3.6
    readings.to_csv(tmp_path / "readings.csv", index=False)
    code, out, _ = run(capsys, "reconcile", plant, tmp_path / "readings.csv", "--meters", METERS, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["flow_unit"] == "kg/s"
    for f in data["flows"]:
        expected = base[(f["from"], f["to"])]
        assert (f["flow"] is None) == (expected is None)
        if expected is not None:
            assert f["flow"] == pytest.approx(expected / 3.6, rel=1e-9)


def test_reconcile_each_timestamp(capsys, tmp_path):
    out_file = tmp_path / "each.csv"
    code, out, _ = run(capsys, "reconcile", PLANT, READINGS, "--meters", METERS, "--each", "--out", out_file)
    assert code == 0 and "at 72 timestamps" in out
    assert len(pd.read_csv(out_file)) == 72


def test_reconcile_bad_inputs_exit_2(capsys, tmp_path):
    code, _, err = run(capsys, "reconcile", PLANT, READINGS)
    assert code == 2 and "has no meters" in err and "--meters FILE" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("time,tag\n1,2\n", encoding="utf-8")
    code, _, err = run(capsys, "reconcile", PLANT, bad, "--meters", METERS)
    assert code == 2 and "bad.csv" in err
    code, _, err = run(capsys, "reconcile", PLANT, tmp_path / "missing.csv", "--meters", METERS)
    assert code == 2 and "missing.csv" in err
    wrong = tmp_path / "meters.csv"
    wrong.write_text("id,at,rsd\nX,nowhere,0.01\n", encoding="utf-8")
    code, _, err = run(capsys, "reconcile", PLANT, READINGS, "--meters", wrong)
    assert code == 2 and "nowhere" in err


def test_reconcile_keeps_good_rows_of_a_malformed_file(capsys, tmp_path):
    text = (FOOD / "readings.csv").read_text(encoding="utf-8").splitlines()
    text += ["2026-03-04 23:00,FT-999,3.0", "2026-03-04 23:00,FT-101,abc", "not a time,FT-101,12"]
    path = tmp_path / "readings.csv"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "reconcile", PLANT, path, "--meters", METERS, "--json")
    assert code == 0
    assert "FT-999" in err and "abc" in err and "not a time" in err
    good = json.loads(out)
    code, out, _ = run(capsys, "reconcile", PLANT, READINGS, "--meters", METERS, "--json")
    assert json.loads(out)["flows"] == good["flows"]  # the bad rows changed nothing, the good ones were all kept


def test_monitor_command_lists_alarms(capsys, tmp_path):
    """A plan solved at the command line, readings of that plan with an analyser over its limit: one alarm row."""
    import numpy as np

    from cascade import Plant
    from cascade.metering import simulate_readings

    plant = Plant("mini", ["COD"]).add_freshwater("W", {"COD": 0}, price=1)
    plant.add_sink("S", 10, {"COD": 50}).add_source("R", 6, {"COD": 20}).add_discharge("D")
    plant.add_existing("W", "S", 10).add_existing("R", "D", 6)
    plant.add_meter("FW", "W", rsd=0.01).add_meter("FS", "S", rsd=0.01).add_meter("FR", ("R", "S"), rsd=0.02)
    plant.add_meter("AS", "S", quantity="COD", sd=1.0)
    path = tmp_path / "plant.yaml"
    plant.to_yaml(str(path))
    code, out, _ = run(capsys, "solve", path, "--json")
    assert code == 0
    (tmp_path / "plan.json").write_text(out, encoding="utf-8")
    plan = {(f["from"], f["to"]): f["flow"] for f in json.loads(out)["flows"]}
    assert plan[("R", "S")] == pytest.approx(6)  # the plan reuses all of R in S
    stamps = pd.date_range("2026-03-01", periods=12, freq="h")
    truth = pd.DataFrame({"FW": 4.0, "FS": 10.0, "FR": 6.0, "AS": 12.0}, index=stamps)
    truth.loc[stamps[6], "AS"] = 80.0  # the analyser sees COD 80 > 50 once
    readings = simulate_readings(truth, plant.meters, seed=1)
    readings.to_csv(tmp_path / "readings.csv", index=False)
    alarms = tmp_path / "alarms.csv"
    code, out, err = run(capsys, "monitor", path, tmp_path / "plan.json", tmp_path / "readings.csv", "--out", alarms)
    assert code == 0, err
    table = pd.read_csv(alarms)
    hard = table[table["severity"] == "alarm"]
    assert len(hard) == 1 and hard["unit"].iloc[0] == "S" and hard["limit"].iloc[0] == pytest.approx(50)
    assert pd.Timestamp(hard["time"].iloc[0]) == stamps[6]
    assert np.isfinite(hard["value"].iloc[0])
    # the drift chart's baseline: 12 hourly readings are too few for the default 48 (a note), enough for 6
    code, out, err = run(capsys, "monitor", path, tmp_path / "plan.json", tmp_path / "readings.csv", "--json")
    assert code == 0 and any("baseline needs 48" in note for note in json.loads(out)["notes"])
    code, out, err = run(capsys, "monitor", path, tmp_path / "plan.json", tmp_path / "readings.csv", "--json",
                         "--baseline", "6", "--process-rsd", "0.05")
    assert code == 0 and json.loads(out)["parameters"]["baseline"] == 6
    assert not any("baseline needs" in note for note in json.loads(out)["notes"])
    code, out, err = run(capsys, "monitor", path, tmp_path / "plan.json", tmp_path / "readings.csv", "--baseline", "1")
    assert code == 2 and "baseline must be a whole number of timestamps, at least 2" in err and not out
