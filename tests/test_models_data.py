"""The plant-model library in ``models/``: every plant reads cleanly, is documented, and solves to
the numbers its ``expected.json`` records.

``expected.json`` holds ``source`` (``published`` or ``computed``), ``freshwater`` and a relative
``tolerance``: ``|computed - expected| <= tolerance * max(1, |expected|)``. Published cases also
hold ``citation``, ``wastewater`` and ``pinch``; computed ones ``cost``, ``command`` and ``date``.

The solves use the low-level public pipeline (superstructure -> model -> HiGHS), not
``cascade.optimize``, so these numbers are checked independently of the plan layer.
"""

from __future__ import annotations

import json
import warnings
from importlib import resources
from pathlib import Path

import pyomo.environ as pyo
import pytest

import cascade
from cascade.io import parse_yaml

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
FOLDERS = sorted(p for p in MODELS.iterdir() if p.is_dir()) if MODELS.is_dir() else []
PUBLISHED = [p for p in FOLDERS if (p / "expected.json").is_file() and
             json.loads((p / "expected.json").read_text(encoding="utf-8"))["source"] == "published"]
#: Published water-pinch cases (minimum fresh water and a pinch), checked here on the low-level pipeline.
PINCH = [p for p in PUBLISHED if "pinch" in json.loads((p / "expected.json").read_text(encoding="utf-8"))]

REQUIRED_KEYS = {"source", "citation", "freshwater", "tolerance"}
PUBLISHED_KEYS = {"wastewater"}  # and "pinch" for a fresh-water case, "cost" for a cost case
COMPUTED_KEYS = {"cost", "command", "date"}


def _model_file(folder: Path) -> Path:
    """The folder's plant file, or its park file (``cascade-park/1``) for a park of plants."""
    return folder / "park.yaml" if (folder / "park.yaml").is_file() else folder / "plant.yaml"


def _ids(folders: list[Path]) -> list[str]:
    return [p.name for p in folders]


def _expected(folder: Path) -> dict:
    return json.loads((folder / "expected.json").read_text(encoding="utf-8"))


def _close(value: float, expected: float, tolerance: float) -> bool:
    return abs(value - expected) <= tolerance * max(1.0, abs(expected))


def _solve(plant: cascade.Plant, objective: str, *, pipes: bool):
    graph = cascade.build_superstructure(plant)
    model = cascade.build_model(graph, objective, pipes=pipes)
    result = cascade.HighsSolver(time_limit=30).solve(model)
    kinds = {n: d["kind"] for n, d in graph.nodes(data=True)}
    wastewater = sum(pyo.value(model.flow[e]) for e in model.data.edges if kinds[e[1]] == "discharge")
    return result, model, wastewater


def _pinch_target(plant: cascade.Plant) -> tuple[float, list[float]]:
    """Water cascade analysis (Manan, Tan & Foo 2004) for one contaminant and fresh water at 0 ppm.

    Operations enter with their limiting data: a demand at ``max_inlet`` and a source at
    ``max_outlet`` of ``1000 * load / (max_outlet - max_inlet)`` t/h. Returns the minimum fresh
    water and the pinch concentration(s). Independent of the MILP.
    """
    (c,) = plant.contaminants
    net: dict[float, float] = {0.0: 0.0}
    for _, row in plant.sinks.iterrows():
        net[row[f"max:{c}"]] = net.get(row[f"max:{c}"], 0.0) - row["flow"]
    for _, row in plant.sources.iterrows():
        net[row[f"quality:{c}"]] = net.get(row[f"quality:{c}"], 0.0) + row["flow"]
    for _, row in plant.operations.iterrows():
        c_in, c_out = row[f"max_inlet:{c}"], row[f"max_outlet:{c}"]
        flow = 1000.0 * row[f"load:{c}"] / (c_out - c_in)
        net[c_in] = net.get(c_in, 0.0) - flow
        net[c_out] = net.get(c_out, 0.0) + flow
    levels = sorted(net)
    # Cumulative mass up to level k+1 is FW * C[k+1] + mass[k]; it must never be negative.
    flow, mass, needs = 0.0, 0.0, []
    for low, high in zip(levels, levels[1:], strict=False):
        flow += net[low]
        mass += flow * (high - low)
        needs.append((high, -mass / high))
    target = max(0.0, *(need for _, need in needs))
    pinch = [level for level, need in needs if target > 0 and abs(need - target) <= 1e-9 * target]
    return target, pinch


# ---------------------------------------------------------------------- the library's shape
def test_library_has_the_expected_models():
    assert {"wang_smith_1994_ex1", "polley_polley_2000", "demo_food_plant"} <= set(_ids(FOLDERS))


@pytest.mark.parametrize("folder", FOLDERS, ids=_ids(FOLDERS))
def test_plant_reads_and_validates_cleanly(folder):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plant = cascade.read_plant(_model_file(folder))  # unknown fields raise PlantDataError
    assert plant.validation.ok
    assert plant.validation.warnings == [], str(plant.validation)


@pytest.mark.parametrize("folder", FOLDERS, ids=_ids(FOLDERS))
def test_folder_is_documented(folder):
    readme = folder / "README.md"
    assert readme.is_file() and len(readme.read_text(encoding="utf-8").strip()) > 200
    expected = _expected(folder)
    assert expected["source"] in ("published", "computed")
    extra = PUBLISHED_KEYS if expected["source"] == "published" else COMPUTED_KEYS
    if expected["source"] == "published":
        extra = extra | ({"cost"} if expected.get("objective") == "cost" else {"pinch"})
    missing = (REQUIRED_KEYS | extra) - set(expected)
    assert not missing, sorted(missing)
    assert 0 < expected["tolerance"] < 1e-2


@pytest.mark.parametrize("folder", FOLDERS, ids=_ids(FOLDERS))
def test_existing_network_balances(folder):
    """Today's network, where given, feeds every sink and drains every source exactly."""
    plant = cascade.read_plant(_model_file(folder))
    if not plant.existing:
        pytest.skip("no existing network")
    into: dict[str, float] = {}
    out_of: dict[str, float] = {}
    for a, b, flow in plant.existing:
        out_of[a] = out_of.get(a, 0.0) + flow
        into[b] = into.get(b, 0.0) + flow
    for sink, row in plant.sinks.iterrows():
        assert into.get(sink, 0.0) == pytest.approx(row["flow"]), sink
    for source, row in plant.sources.iterrows():
        assert out_of.get(source, 0.0) == pytest.approx(row["flow"]), source
    assert sum(plant.sources["flow"]) <= sum(plant.sinks["flow"])


def test_packaged_demo_equals_the_library_copy():
    text = resources.files("cascade").joinpath("data", "demo_food_plant.yaml").read_text(encoding="utf-8")
    packaged = cascade.read_plant(parse_yaml(text, "demo_food_plant.yaml"))
    library = cascade.read_plant(MODELS / "demo_food_plant" / "plant.yaml")
    assert packaged.equals(library)


# ---------------------------------------------------------------------- published optima
@pytest.mark.parametrize("folder", PINCH, ids=_ids(PINCH))
def test_published_minimum_freshwater(folder):
    expected = _expected(folder)
    tol = expected["tolerance"]
    plant = cascade.read_plant(folder / "plant.yaml")
    result, _, wastewater = _solve(plant, "freshwater", pipes=False)
    assert result.status == "optimal"
    assert _close(result.objective, expected["freshwater"], tol), result.objective
    assert _close(wastewater, expected["wastewater"], tol), wastewater


@pytest.mark.parametrize("folder", PINCH, ids=_ids(PINCH))
def test_published_pinch_by_cascade_analysis(folder):
    """An oracle independent of the MILP: the water cascade gives the same target and pinch."""
    expected = _expected(folder)
    plant = cascade.read_plant(folder / "plant.yaml")
    assert plant.freshwater[[f"quality:{c}" for c in plant.contaminants]].to_numpy().max() == 0
    target, pinch = _pinch_target(plant)
    assert _close(target, expected["freshwater"], expected["tolerance"]), target
    assert pinch == pytest.approx(expected["pinch"])


@pytest.mark.parametrize(
    "folder", [p for p in PINCH if "baseline_freshwater" in _expected(p)],
    ids=lambda p: p.name,
)
def test_published_no_reuse_baseline(folder):
    """Forbid every reuse pipe (source or operation outlet into a sink or operation)."""
    expected = _expected(folder)
    data = parse_yaml((folder / "plant.yaml").read_text(encoding="utf-8"))
    tails = [u["id"] for u in data.get("sources", []) + data.get("operations", [])]
    heads = [u["id"] for u in data.get("sinks", []) + data.get("operations", [])]
    data["connections"] = {"forbidden": [[a, b] for a in tails for b in heads if a != b]}
    result, _, _ = _solve(cascade.read_plant(data), "freshwater", pipes=False)
    assert result.status == "optimal"
    assert _close(result.objective, expected["baseline_freshwater"], expected["tolerance"]), result.objective


# ---------------------------------------------------------------------- the demo plant
def test_demo_plant_cost_optimum_and_baseline():
    folder = MODELS / "demo_food_plant"
    expected = _expected(folder)
    tol = expected["tolerance"]
    plant = cascade.read_plant(folder / "plant.yaml")
    assert plant.objective == "cost" and plant.min_flow > 0

    # Baseline: today's network priced directly from the tables.
    kinds = plant.kind_of()
    prices = {**plant.freshwater["price"].to_dict(), **plant.discharges["price"].to_dict()}
    fresh = sum(f for a, _, f in plant.existing if kinds[a] == "freshwater")
    drained = sum(f for _, b, f in plant.existing if kinds[b] == "discharges")
    cost = plant.hours_per_year * sum(
        f * (prices.get(a, 0.0) if kinds[a] == "freshwater" else 0.0)
        + f * (prices.get(b, 0.0) if kinds[b] == "discharges" else 0.0)
        for a, b, f in plant.existing
    )
    assert _close(fresh, expected["baseline_freshwater"], tol)
    assert _close(drained, expected["baseline_wastewater"], tol)
    assert _close(cost, expected["baseline_cost"], tol)

    result, model, wastewater = _solve(plant, "cost", pipes=True)
    assert result.status == "optimal"
    assert _close(result.objective, expected["cost"], tol), result.objective
    assert _close(pyo.value(model.freshwater), expected["freshwater"], tol), pyo.value(model.freshwater)
    assert _close(wastewater, expected["wastewater"], tol), wastewater
    # The demo is meant to show reuse that pays, but not reuse of everything.
    assert result.objective < cost
    assert 0 < wastewater < drained
    assert all(pyo.value(model.regen_installed[r]) > 0.5 for r in model.regen_installed)
