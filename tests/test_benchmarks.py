"""The benchmark harness (benchmarks/, run from the repository root): generator, direct highspy model, sweep."""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

import pytest

import cascade
from cascade import examples
from cascade.formulation.data import is_bilinear

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is a plain folder at the root, not part of the installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import run, speed  # noqa: E402
from benchmarks.generator import synthetic_bilinear_plant, synthetic_plant  # noqa: E402
from benchmarks.highspy_direct import build_arrays, pass_to_highs, solve_direct  # noqa: E402


# ---------------------------------------------------------------------- generator
@pytest.mark.parametrize(("n", "k", "r"), [(1, 1, 0), (7, 1, None), (25, 3, 2), (40, 2, None)])
def test_generator_gives_valid_plants_of_the_requested_size(n, k, r):
    plant = synthetic_plant(n, k, r, seed=3)
    report = plant.validate()
    assert report.ok, str(report)
    assert len(plant.sinks) == n and len(plant.sources) == n
    assert len(plant.regenerators) == (max(1, n // 20) if r is None else r)
    assert plant.contaminants == [f"C{i + 1}" for i in range(k)]
    assert plant.min_flow > 0 and plant.pipe_cost_fixed > 0
    # a user's sink and source share a unit, so the superstructure never pipes them together
    graph = cascade.build_superstructure(plant)
    for sink, source in zip(plant.sinks.index, plant.sources.index, strict=True):
        assert plant.sinks.loc[sink, "unit"] == plant.sources.loc[source, "unit"]
        assert not graph.has_edge(source, sink)


def test_generator_is_deterministic_per_seed():
    a, b, c = synthetic_plant(12, 2, seed=5), synthetic_plant(12, 2, seed=5), synthetic_plant(12, 2, seed=6)
    assert a.equals(b)
    assert not a.equals(c)
    assert a.to_yaml() == b.to_yaml()


def test_generator_without_pipe_binaries():
    plant = synthetic_plant(5, pipe_binaries=False)
    assert plant.min_flow == 0 and plant.pipe_cost_fixed == 0


def test_generated_plant_is_feasible_without_reuse():
    """The docstring's argument: mains to every sink and every source to the discharge is a plan."""
    plant = synthetic_plant(15, 2, seed=1)
    graph = cascade.build_superstructure(plant)
    flows = {("FW", k): f for k, f in plant.sinks["flow"].items()}
    flows.update({(s, "WW"): f for s, f in plant.sources["flow"].items()})
    check = cascade.check_flows(graph, flows)
    assert check.passed, check.violations


# ---------------------------------------------------------------------- direct highspy model
def _both_routes(plant, objective):
    graph = cascade.build_superstructure(plant)
    lp = build_arrays(graph, objective)
    direct = solve_direct(pass_to_highs(lp), lp, time_limit=60, mip_rel_gap=0.0)
    model = cascade.build_model(graph, objective)
    result = cascade.HighsSolver(time_limit=60, mip_rel_gap=0.0).solve(model)
    return graph, lp, direct, result


@pytest.mark.parametrize(
    ("make", "objective"),
    [
        (lambda: synthetic_plant(6), "cost"),
        (lambda: synthetic_plant(5, 2, 2, seed=0), "cost"),
        (lambda: synthetic_plant(5, 2, 2, seed=0), "freshwater"),
        (lambda: synthetic_plant(6, pipe_binaries=False), "cost"),
        (examples.wang_smith, "freshwater"),  # fixed-load operations
        (examples.demo, "cost"),  # existing pipes, forbidden pipes, supply cap, regenerator, discharge limits
        (examples.demo, "freshwater"),  # pipe decisions from min_flow only, regenerator fixed installed
    ],
)
def test_direct_model_has_the_same_optimum_and_size_as_the_pyomo_model(make, objective):
    plant = make()
    graph, lp, direct, result = _both_routes(plant, objective)
    assert result.status == "optimal" and direct.status == "optimal"
    assert math.isclose(direct.objective, result.objective, rel_tol=1e-6, abs_tol=1e-6)
    assert lp.size == result.size
    flows = {e: f for e, f in direct.flows.items() if f > 1e-7}
    assert cascade.check_flows(graph, flows).passed


def test_direct_model_refuses_what_cascade_refuses():
    plant = (cascade.Plant("removal", ["C"]).add_freshwater("FW", {"C": 0}).add_sink("D", 10, {"C": 50})
             .add_source("S", 10, {"C": 100}).add_regenerator("R", removal={"C": 0.9}))
    graph = cascade.build_superstructure(plant)
    with pytest.raises(cascade.UnsupportedFeatureError):
        build_arrays(graph, "cost")


# ---------------------------------------------------------------------- comparison and sweep
def test_compare_flags_different_optima_and_crossed_bounds():
    row = {"status": "optimal", "direct_status": "optimal", "objective_value": 100.0, "direct_objective": 100.005,
           "bound": 100.0, "direct_bound": 100.005}
    assert run.compare(row, 1e-4) == "yes"
    assert run.compare({**row, "direct_objective": 101.0, "direct_bound": 101.0}, 1e-4).startswith("NO")
    stopped = {"status": "feasible", "direct_status": "feasible", "objective_value": 120.0, "direct_objective": 110.0,
               "bound": 90.0, "direct_bound": 95.0}
    assert run.compare(stopped, 1e-4) == "consistent"
    assert run.compare({**stopped, "bound": 115.0}, 1e-4).startswith("NO")
    assert run.compare({"status": "error", "direct_status": "error"}, 1e-4) == "n/a"


def test_quick_run_writes_every_phase(tmp_path):
    out = tmp_path / "quick"
    code = run.main(["--family", "linear", "--quick", "--time-limit", "0.5", "--in-process", "--out", str(out)])
    assert code == 0
    text = (tmp_path / "quick.md").read_text()
    for heading in ("superstructure", "build", "hand-off", "solve", "extract", "status", "gap", "agree"):
        assert heading in text
    with (tmp_path / "quick.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["n_users"]) for r in rows] == list(run.QUICK_SIZES)
    for r in rows:
        for phase in (*run.CASCADE_PHASES[:4], "build_to_handoff", *run.DIRECT_PHASES):
            assert float(r[phase]) >= 0, phase
        assert r["status"] in ("optimal", "feasible", "error")
        assert r["direct_size_match"] == "True"
        assert not r["agree"].startswith("NO")
        if r["status"] in ("optimal", "feasible"):
            assert float(r["extract"]) >= 0 and r["check_passed"] == "True"


def test_isolated_worker_reports_one_route(tmp_path):
    """The default mode runs each route in a fresh `python -m benchmarks --worker` process."""
    out = tmp_path / "one"
    code = run.main(["--family", "linear", "--sizes", "3", "--time-limit", "5", "--gap", "0", "--out", str(out)])
    assert code == 0
    with (tmp_path / "one.csv").open() as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["isolated"] == "True"
    assert row["status"] == "optimal" and row["direct_status"] == "optimal" and row["agree"] == "yes"
    assert float(row["peak_rss_mb"]) > 0 and float(row["direct_peak_rss_mb"]) > 0


# ---------------------------------------------------------------------- bilinear family
@pytest.mark.parametrize(("n", "k", "r", "sinks", "sources"), [(1, 2, 1, 0, 0), (6, 3, 2, 0, 0), (4, 2, 1, 2, 3)])
def test_bilinear_generator_gives_valid_bilinear_plants(n, k, r, sinks, sources):
    plant = synthetic_bilinear_plant(n, k, r, seed=4, n_sinks=sinks, n_sources=sources)
    report = plant.validate()
    assert report.ok, str(report)
    assert (len(plant.operations), len(plant.regenerators), len(plant.sinks), len(plant.sources)) == (n, r, sinks,
                                                                                                      sources)
    assert plant.contaminants == [f"C{i + 1}" for i in range(k)]
    ops = plant.operations
    for c in plant.contaminants:
        assert ((ops[f"load:{c}"] >= 0.5) & (ops[f"load:{c}"] <= 20)).all()
        assert (ops[f"max_outlet:{c}"] > ops[f"max_inlet:{c}"]).all()
        assert ((ops[f"max_inlet:{c}"] >= 0) & (ops[f"max_outlet:{c}"] <= 1000)).all()
    for _, row in plant.regenerators.iterrows():  # every regenerator removes at least one contaminant by a ratio
        removal = [row[f"removal:{c}"] for c in plant.contaminants if row[f"removal:{c}"] == row[f"removal:{c}"]]
        assert removal and all(0.5 <= x <= 0.99 for x in removal)
    assert is_bilinear(cascade.build_superstructure(plant), plant.objective)


def test_bilinear_generator_is_deterministic_per_seed():
    a, b = synthetic_bilinear_plant(8, 3, 2, seed=5), synthetic_bilinear_plant(8, 3, 2, seed=5)
    assert a.equals(b) and a.to_yaml() == b.to_yaml()
    assert not a.equals(synthetic_bilinear_plant(8, 3, 2, seed=6))


def test_bilinear_plant_is_feasible_without_reuse():
    """The docstring's argument: fresh water to every operation at its limiting flow, everything to WW."""
    plant = synthetic_bilinear_plant(10, 3, 2, seed=1, n_sinks=2, n_sources=2)
    graph = cascade.build_superstructure(plant)
    flows = {("FW", k): f for k, f in plant.sinks["flow"].items()}
    flows.update({(s, "WW"): f for s, f in plant.sources["flow"].items()})
    for o, row in plant.operations.iterrows():
        need = max(1000 * row[f"load:{c}"] / row[f"max_outlet:{c}"] for c in plant.contaminants)
        flows["FW", o] = flows[o, "WW"] = need
    check = cascade.check_flows(graph, flows)
    assert check.passed, check.violations


def test_tiny_bilinear_plant_is_solved_to_the_tolerance():
    plant = synthetic_bilinear_plant(2, 2, 1, seed=2)
    plan = cascade.optimize(plant, time_limit=30, tie_break=False)
    assert plan.solve["method"]["name"] == "bilinear"
    assert plan.status == "optimal" and plan.check.passed
    assert plan.bound <= plan.objective * (1 + 1e-9)
    assert plan.gap <= plan.solve["method"]["tolerance"]


def test_time_to_gap_is_the_first_iteration_within_the_gap():
    log = [{"gap": None, "seconds": 0.1}, {"gap": 0.5, "seconds": 1.0}, {"gap": 0.05, "seconds": 2.0},
           {"gap": 0.004, "seconds": 3.0}]
    assert run.time_to_gap(log, 0.1) == 2.0
    assert run.time_to_gap(log, 0.01) == 3.0
    assert run.time_to_gap(log, 0.001) is None


def test_quick_bilinear_run_writes_the_time_to_gap_columns(tmp_path):
    out = tmp_path / "bilinear"
    code = run.main(["--family", "bilinear", "--sizes", "2", "--contaminants", "2", "3", "--seed", "2",
                     "--time-limit", "3", "--in-process", "--out", str(out)])
    assert code == 0
    text = (tmp_path / "bilinear.md").read_text()
    for heading in ("status", "objective", "bound", "gap", "iterations", "to 10 %", "to 1 %", "to 0.1 %", "check"):
        assert f"| {heading} |" in text, heading
    with (tmp_path / "bilinear.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(int(r["n_operations"]), int(r["n_contaminants"])) for r in rows] == [(2, 2), (2, 3)]
    for r in rows:
        assert set(run.TIME_TO_GAP) <= set(r)
        assert r["status"] in ("optimal", "feasible") and r["check_passed"] == "True" and r["bound_ok"] == "True"
        assert int(r["iterations"]) >= 1 and float(r["seconds"]) > 0
        assert float(r["bound"]) <= float(r["objective_value"]) * (1 + 1e-9)
        reached = [r[k] for k in run.TIME_TO_GAP]  # a tighter gap is never reached earlier
        times = [float(t) for t in reached if t]
        assert times == sorted(times)
    assert rows[0]["status"] == "optimal" and rows[0]["to_gap_0.1pct"]  # the tiny plant of the test above


# ---------------------------------------------------------------------- the speed family (issue 4)
def test_speed_family_writes_both_routes_summary_and_criteria(tmp_path):
    out = tmp_path / "speed"
    code = run.main(["--family", "speed", "--sizes", "4", "--seeds", "0", "1", "--time-limit", "2", "--in-process",
                     "--out", str(out)])
    assert code == 0
    with (tmp_path / "speed.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["seed"], r["route"]) for r in rows] == [("0", "plain"), ("0", "cascade"), ("1", "plain"),
                                                        ("1", "cascade")]
    for r in rows:
        assert r["check_passed"] == "True" and r["consistent"] == "yes"
        assert 0 <= float(r["first_plan"]) <= float(r["wall"])
        assert 0 <= float(r["overhead_share"]) < 1 and float(r["peak_rss_mb"]) > 0
    text = (tmp_path / "speed.md").read_text()
    assert "## Summary" in text and "## Done when" in text and "every plan passes the independent check" in text


def test_speed_consistency_flags_a_bound_above_the_other_plan():
    rows = [{"route": "plain", "objective_value": 100.0, "bound": 99.0},
            {"route": "cascade", "objective_value": 98.0, "bound": 97.0}]
    speed.consistency(rows)
    assert rows[0]["consistent"].startswith("NO") and rows[1]["consistent"] == "yes"
    assert speed.failures([{**r, "n_users": 4, "seed": 0, "check_passed": True} for r in rows])


# ---------------------------------------------------------------------- the model library and the one command
def test_one_command_runs_the_library_the_sweep_and_the_scaling_plot(tmp_path):
    """The default family: library plants (fresh processes) against expected.json, the sweep, the plot."""
    out = tmp_path / "all"
    code = run.main(["--quick", "--models", "wang_smith_1994_ex1", "polley_polley_2000", "food_plant_retrofit",
                     "--sizes", "3", "10", "--out", str(out)])
    assert code == 0
    with (tmp_path / "all-models.csv").open() as handle:
        rows = {r["model"]: r for r in csv.DictReader(handle)}
    assert set(rows) == {"wang_smith_1994_ex1", "polley_polley_2000", "food_plant_retrofit"}
    ws = rows["wang_smith_1994_ex1"]
    assert ws["source"] == "published" and float(ws["expected"]) == 90.0  # Wang & Smith (1994)
    assert float(ws["objective_value"]) == pytest.approx(90.0) and ws["agree"] == "yes"
    assert rows["food_plant_retrofit"]["objective_name"] == "cost" and rows["food_plant_retrofit"]["agree"] == "yes"
    for r in rows.values():
        assert r["status"] == "optimal" and r["check_passed"] == "True" and r["isolated"] == "True"
        assert float(r["peak_rss_mb"]) > 0 and int(r["columns"]) > 0
        for phase in ("read", "superstructure", "build", "handoff", "highs", "total"):
            assert float(r[phase]) >= 0, phase
    table = (tmp_path / "all-models.md").read_text()
    assert "| wang_smith_1994_ex1 | freshwater | published | 90.0000 | 90.0000 |" in table
    with (tmp_path / "all.csv").open() as handle:
        assert [int(r["n_users"]) for r in csv.DictReader(handle)] == [3, 10]
    pytest.importorskip("matplotlib")
    assert (tmp_path / "all-scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_library_agreement_flags_a_wrong_expected_value():
    from benchmarks.library import agreement

    row = {"objective_name": "freshwater", "objective_value": 90.0, "bound": 90.0, "status": "optimal"}
    assert agreement(row, {"freshwater": 90.0, "tolerance": 1e-4}) == "yes"
    assert agreement(row, {"freshwater": 80.0, "tolerance": 1e-4}).startswith("NO")
    stopped = {**row, "status": "feasible", "objective_value": 95.0, "bound": 85.0}
    assert agreement(stopped, {"freshwater": 90.0, "tolerance": 1e-4}) == "within gap"
    assert agreement({**stopped, "objective_value": 85.0}, {"freshwater": 90.0, "tolerance": 1e-4}).startswith("NO")
    assert agreement(row, {"cost": 5.0, "objective": "cost", "tolerance": 1e-4}) == "n/a"
