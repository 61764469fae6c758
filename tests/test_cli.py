"""The command line: output, exit codes, and clean errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from cascade.cli import main

POLLEY = """format: cascade-plant/1
name: Polley
contaminants: [C]
freshwater:
  - {id: FW, quality: {C: 0}}
sinks:
  - {id: D1, flow: 50,  max: {C: 20}}
  - {id: D2, flow: 100, max: {C: 50}}
  - {id: D3, flow: 80,  max: {C: 100}}
  - {id: D4, flow: 70,  max: {C: 200}}
sources:
  - {id: S1, flow: 50,  quality: {C: 50}}
  - {id: S2, flow: 100, quality: {C: 100}}
  - {id: S3, flow: 70,  quality: {C: 150}}
  - {id: S4, flow: 60,  quality: {C: 250}}
"""


@pytest.fixture
def polley_file(tmp_path):
    path = tmp_path / "polley.yaml"
    path.write_text(POLLEY)
    return path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_solve_json_matches_the_format_contract(capsys, polley_file):
    code, out, err = run(capsys, "solve", polley_file, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["status"] == "optimal"
    assert data["freshwater"] == pytest.approx(70.0) and data["wastewater"] == pytest.approx(50.0)
    assert data["objective"] == pytest.approx(70.0) and data["gap"] == 0.0
    assert data["check"] == {**data["check"], "passed": True}
    assert data["baseline"]["freshwater"] == pytest.approx(300.0)
    assert data["savings"]["freshwater"] == pytest.approx(230.0)
    assert all({"from", "to", "flow"} <= set(f) for f in data["flows"])
    assert "reuse_rate" in data["kpis"]


def test_solve_in_other_flow_units(capsys, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(POLLEY.replace("name: Polley", "name: Polley\nunits: {flow: m3/h}"))
    code, out, _ = run(capsys, "solve", path, "--json")
    assert code == 0 and json.loads(out)["freshwater"] == pytest.approx(70.0)


def test_solve_summary_and_out_file(capsys, polley_file, tmp_path):
    out_file = tmp_path / "plan.json"
    code, out, _ = run(capsys, "solve", polley_file, "--out", out_file)
    assert code == 0
    assert "fresh water" in out and "optimal" in out
    assert json.loads(out_file.read_text())["freshwater"] == pytest.approx(70.0)


def test_bad_input_exits_2_with_one_message(capsys, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(POLLEY.replace("flow: 50,  max", "flow: abc,  max"))
    code, out, err = run(capsys, "solve", path)
    assert code == 2
    assert "D1" in err and "number" in err
    assert "Traceback" not in err and out == ""
    code, _, err = run(capsys, "solve", tmp_path / "missing.yaml")
    assert code == 2 and "no such file" in err


def test_yaml_syntax_error_names_the_line(capsys, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(POLLEY.replace("  - {id: D2, flow: 100, max: {C: 50}}", "  - {id: D2, flow: 100, max: {C: 50}"))
    code, _, err = run(capsys, "solve", path)
    assert code == 2 and "line" in err


def test_infeasible_exits_3_and_names_units(capsys, tmp_path):
    path = tmp_path / "short.yaml"
    path.write_text(POLLEY.replace("{id: FW, quality: {C: 0}}", "{id: FW, quality: {C: 0}, max_flow: 10}"))
    code, out, err = run(capsys, "solve", path)
    assert code == 3
    assert "infeasible" in err and "FW" in err


def test_target_outside_its_method_exits_2(capsys, tmp_path):
    path = tmp_path / "regen.yaml"
    path.write_text(POLLEY + "regenerators:\n  - {id: R, removal: {C: 0.9}, recycle: false}\n")
    code, out, err = run(capsys, "target", path)
    assert code == 2 and "regenerator 'R'" in err and out == ""
    code, out, _ = run(capsys, "solve", path, "--json")  # the optimizer takes it
    assert code == 0 and json.loads(out)["check"]["passed"]


def test_validate_lists_problems(capsys, tmp_path, polley_file):
    assert run(capsys, "validate", polley_file)[0] == 0
    path = tmp_path / "dup.yaml"
    path.write_text(POLLEY.replace("{id: D4,", "{id: D3,"))
    code, out, err = run(capsys, "validate", path)
    assert code == 2 and "D3" in (out + err)


def test_bad_arguments_exit_2(capsys, polley_file):
    assert run(capsys, "solve", polley_file, "--objective", "profit")[0] == 2
    assert run(capsys, "solve", polley_file, "--time-limit", "-1")[0] == 2
    assert run(capsys, "frobnicate")[0] == 2


def test_demo_runs(capsys):
    code, out, err = run(capsys, "demo", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["status"] == "optimal" and data["check"]["passed"]
    assert data["savings"]["freshwater"] > 0 and data["savings"]["cost_per_year"] > 0


def test_installed_entry_point_and_version():
    exe = shutil.which("cascade")
    command = [exe] if exe else [sys.executable, "-m", "cascade.cli"]
    done = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("cascade ")
