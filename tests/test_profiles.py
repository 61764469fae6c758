"""Solver profiles: the TOML files in solvers/ equal the built-in ones; names, files and errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import cascade
from cascade.solve import PROFILES, solver_profile

SOLVERS = Path(__file__).resolve().parents[1] / "solvers"


def test_every_profile_file_equals_the_built_in_profile():
    files = sorted(SOLVERS.glob("*.toml"))
    assert {f.stem for f in files} == set(PROFILES)
    for f in files:
        data = tomllib.loads(f.read_text(encoding="utf-8"))
        assert data["name"] == f.stem
        assert data["highs"] == PROFILES[f.stem], f.name
        assert solver_profile(str(f)) == PROFILES[f.stem]


def test_unknown_or_broken_profiles_are_refused_clearly(tmp_path):
    with pytest.raises(cascade.PlantDataError, match="not known; use one of default, screening, deterministic"):
        solver_profile("fastest")
    bad = tmp_path / "bad.toml"
    bad.write_text("[highs\n", encoding="utf-8")
    with pytest.raises(cascade.PlantDataError, match="cannot be read"):
        solver_profile(bad)
    empty = tmp_path / "empty.toml"
    empty.write_text("name = 'x'\n", encoding="utf-8")
    with pytest.raises(cascade.PlantDataError, match=r"no \[highs\] table"):
        solver_profile(empty)


def test_profile_gap_applies_unless_given(tmp_path):
    loose = tmp_path / "loose.toml"
    loose.write_text("[highs]\nmip_rel_gap = 0.5\n", encoding="utf-8")
    plant = cascade.examples.wang_smith()
    plan = cascade.optimize(plant, profile=loose)
    assert plan.check.passed and plan.status == "optimal"
    assert plan.solve["stage1"]["gap"] <= 0.5
    exact = cascade.optimize(plant, profile=loose, mip_rel_gap=1e-9)
    assert exact.freshwater == pytest.approx(90.0, rel=1e-9)


def test_named_profiles_solve_and_a_bad_name_exits_2(capsys):
    # deterministic asks for one thread after runs on the default count: HiGHS's scheduler must restart
    for name in PROFILES:
        plan = cascade.optimize(cascade.examples.wang_smith(), profile=name)
        assert plan.check.passed and plan.freshwater == pytest.approx(90.0, rel=1e-2)
    from cascade.cli import main

    code = main(["solve", str(Path(__file__).resolve().parents[1] / "models/wang_smith_1994_ex1/plant.yaml"),
                 "--profile", "nonsense"])
    assert code == 2
    assert "solver profile 'nonsense' is not known" in capsys.readouterr().err
