"""The figures of the retrofit report (cascade.plot): legible, and drawn from the data they claim to show."""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import PathPatch, Rectangle  # noqa: E402
from matplotlib.text import Text  # noqa: E402

import cascade  # noqa: E402
from cascade import kpi  # noqa: E402
from cascade.optimize import baseline_flows  # noqa: E402
from cascade.plot import composite_curves, indicators, network, water_balance  # noqa: E402
from cascade.plot.layered import THINNEST, WIDEST, layers  # noqa: E402
from cascade.units import factor  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is a plain folder at the root, not part of the installed package
    sys.path.insert(0, str(ROOT))

from benchmarks.generator import synthetic_plant  # noqa: E402

MODELS = ROOT / "models"
NUMBER = re.compile(r"-?[\d,]+(?:\.\d+)?")


# ---------------------------------------------------------------------------------------------- helpers
def drawn_texts(fig, monkeypatch) -> list[tuple[str, object]]:
    """Every text the Agg canvas actually draws (non-empty, visible), with its window extent."""
    seen: dict[int, tuple[str, object]] = {}
    original = Text.draw

    def record(self, renderer):
        original(self, renderer)
        if self.get_visible() and self.get_text().strip():
            seen[id(self)] = (self.get_text(), self.get_window_extent(renderer))

    with monkeypatch.context() as m:
        m.setattr(Text, "draw", record)
        fig.canvas.draw()
    return list(seen.values())


def assert_legible(fig, monkeypatch) -> int:
    """No two drawn texts overlap and none leaves the figure; returns how many texts were checked."""
    texts = drawn_texts(fig, monkeypatch)
    width, height = fig.bbox.width, fig.bbox.height
    outside = [t for t, b in texts if b.x0 < -0.5 or b.y0 < -0.5 or b.x1 > width + 0.5 or b.y1 > height + 0.5]
    assert not outside, f"texts leave the figure: {outside}"
    clashes = []
    for k, (ta, a) in enumerate(texts):
        for tb, b in texts[k + 1:]:
            if min(a.x1, b.x1) - max(a.x0, b.x0) > 0.5 and min(a.y1, b.y1) - max(a.y0, b.y0) > 0.5:
                clashes.append((ta, tb))
    assert not clashes, f"{len(clashes)} overlapping label pair(s), e.g. {clashes[:5]}"
    return len(texts)


def frame(plant, flows: dict) -> pd.DataFrame:
    """Canonical flows {(tail, head): t/h} as a from/to/flow table in the plant's flow unit."""
    scale = factor("flow", plant.units["flow"])
    return pd.DataFrame([(a, b, f / scale) for (a, b), f in flows.items()], columns=["from", "to", "flow"])


def canonical(plant, table: pd.DataFrame) -> dict:
    scale = factor("flow", plant.units["flow"])
    return {(a, b): f * scale for a, b, f in table[["from", "to", "flow"]].itertuples(index=False)}


def printed(label: str) -> float:
    """The flow printed on a water-balance label: "name\n12.3 t/h" (the line after the name) or "reused 4.5 t/h"."""
    lines = label.split("\n")
    return float(NUMBER.findall(lines[1] if len(lines) > 1 else lines[0])[0].replace(",", ""))


@pytest.fixture(scope="module")
def solved():
    """Each sample plant with its plan and its baseline flows."""
    out = {}
    for key, path, objective in (("wang_smith", "wang_smith_1994_ex1/plant.yaml", "freshwater"),
                                 ("food", "food_plant_retrofit/plant.yaml", None),
                                 ("park", "industrial_park_3plants/park.yaml", "freshwater")):
        plant = cascade.read_plant(MODELS / path)
        plan = cascade.optimize(plant, objective=objective)
        assert plan.status == "optimal"
        out[key] = (plant, plan, frame(plant, baseline_flows(plant, cascade.build_superstructure(plant))[1]))
    plant = synthetic_plant(20, 1, 1, seed=3, pipe_binaries=False)  # 20 users: 40 fixed streams
    plan = cascade.optimize(plant, objective="freshwater", tie_break=False)
    out["synthetic_20"] = (plant, plan, frame(plant, baseline_flows(plant, cascade.build_superstructure(plant))[1]))
    return out


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------------------------------------- legibility
def test_the_overlap_check_can_fail(monkeypatch):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_axis_off()
    ax.text(0.5, 0.5, "one label")
    ax.text(0.52, 0.5, "another label")
    with pytest.raises(AssertionError, match="overlapping"):
        assert_legible(fig, monkeypatch)
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_axis_off()
    ax.text(0.9, 0.5, "a label that runs off the figure")
    with pytest.raises(AssertionError, match="leave the figure"):
        assert_legible(fig, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("key", ["wang_smith", "food", "park", "synthetic_20"])
def test_the_network_labels_never_overlap(solved, key, monkeypatch):
    plant, plan, base = solved[key]
    ax = network(plant, plan.flows, quality=plan.outlet_quality)
    checked = assert_legible(ax.figure, monkeypatch)
    assert checked >= len(cascade.build_superstructure(plant))  # every unit is labelled
    assert_legible(network(plant, base, title=f"{plant.name}: baseline").figure, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("key", ["wang_smith", "food", "park", "synthetic_20"])
def test_the_water_balance_and_composite_curves_are_legible(solved, key, monkeypatch):
    plant, plan, base = solved[key]
    assert_legible(water_balance(plant, base, plan.flows), monkeypatch)
    assert_legible(composite_curves(plant, flows=plan.flows).figure, monkeypatch)


# ---------------------------------------------------------------------------------------------- network
def test_edge_widths_grow_with_flow_and_follow_the_legend(solved):
    plant, plan, _ = solved["food"]
    ax = network(plant, plan.flows, quality=plan.outlet_quality)
    width = {p.get_gid().removeprefix("edge:"): p.get_linewidth() for p in ax.patches
             if isinstance(p, PathPatch) and (p.get_gid() or "").startswith("edge:")}
    flows = {f"{a}->{b}": f for a, b, f in plan.flows[["from", "to", "flow"]].itertuples(index=False)}
    assert set(width) == set(flows)  # one edge per used pipe
    ranked = sorted(flows, key=flows.get)
    widths = [width[e] for e in ranked]
    assert all(a <= b + 1e-12 for a, b in zip(widths, widths[1:], strict=False))
    assert widths[-1] == pytest.approx(WIDEST) and widths[0] >= THINNEST
    big, small = ranked[-1], ranked[len(ranked) // 2]
    if flows[small] * WIDEST / flows[big] > THINNEST:  # above the floor, widths are proportional to flow
        assert width[small] / width[big] == pytest.approx(flows[small] / flows[big])


def test_unused_units_are_drawn_faded_and_new_pipes_dashed(solved):
    plant, plan, _ = solved["food"]
    assert "park_reclaimed" not in set(plan.flows["from"]) | set(plan.flows["to"])  # the plan leaves it unused
    ax = network(plant, plan.flows)
    nodes = {line.get_gid().removeprefix("node:"): line for line in ax.lines if (line.get_gid() or "").startswith(
        "node:")}
    assert set(nodes) == set(cascade.build_superstructure(plant))
    assert nodes["park_reclaimed"].get_alpha() < 1 and nodes["mains"].get_alpha() in (None, 1.0)
    assert "park_reclaimed" in {t.get_text() for t in ax.texts}
    styles = {p.get_gid().removeprefix("edge:"): p.get_linestyle() for p in ax.patches
              if (p.get_gid() or "").startswith("edge:")}
    for a, b, new in plan.flows[["from", "to", "new_pipe"]].itertuples(index=False):
        assert (styles[f"{a}->{b}"] != "solid") == bool(new), (a, b)
    # the same flows with every pipe declared new: nothing to tell apart, so nothing dashed
    ax = network(plant, plan.flows, new=[tuple(e) for e in plan.flows[["from", "to"]].to_numpy()])
    assert all(p.get_linestyle() == "solid" for p in ax.patches if (p.get_gid() or "").startswith("edge:"))


def test_layers_follow_the_longest_path_and_break_cycles():
    plant = cascade.read_plant(MODELS / "wang_smith_1994_ex1/plant.yaml")
    graph = cascade.build_superstructure(plant)
    flows = {("FW", "OP1"): 20, ("FW", "OP2"): 50, ("FW", "OP3"): 20, ("OP1", "OP3"): 20, ("OP2", "OP4"): 5.7,
             ("OP2", "WW"): 44.3, ("OP3", "WW"): 40, ("OP4", "WW"): 5.7}
    assert layers(graph, flows) == {"FW": 0, "OP1": 1, "OP2": 1, "OP3": 2, "OP4": 2, "WW": 3}
    # a recycle OP3 -> OP1 closes a cycle: its weakest edge is the one dropped, so OP1 stays before OP3
    flows[("OP3", "OP1")] = 1.0
    assert layers(graph, flows)["OP1"] < layers(graph, flows)["OP3"]
    flows[("OP3", "OP1")], flows[("OP1", "OP3")] = 30.0, 0.5
    assert layers(graph, flows)["OP3"] < layers(graph, flows)["OP1"]


def test_network_draws_into_a_given_axes_and_refuses_unknown_units(solved):
    plant, plan, _ = solved["wang_smith"]
    fig, ax = plt.subplots(figsize=(6, 4))
    assert network(plant, plan.flows, ax=ax) is ax
    with pytest.raises(ValueError, match="NOPE"):
        network(plant, pd.DataFrame({"from": ["FW"], "to": ["NOPE"], "flow": [1.0]}))
    with pytest.raises(ValueError, match="contaminant"):
        network(plant, plan.flows, contaminant="COD")


# ---------------------------------------------------------------------------------------------- water balance
@pytest.mark.parametrize("key", ["wang_smith", "food", "park"])
def test_the_water_balance_adds_up_and_matches_the_indicators(solved, key):
    plant, plan, base = solved[key]
    graph = cascade.build_superstructure(plant)
    scale = factor("flow", plant.units["flow"])
    fig = water_balance(plant, base, plan.flows)
    before, after = fig.axes
    for ax, table in ((before, base), (after, plan.flows)):
        values = {t.get_gid(): printed(t.get_text()) for t in ax.texts
                  if (t.get_gid() or "").startswith(("intake:", "discharge:", "consumption", "reused", "use"))}
        intake = sum(v for g, v in values.items() if g.startswith("intake:"))
        discharge = sum(v for g, v in values.items() if g.startswith("discharge:"))
        consumed = values.get("consumption", 0.0)
        flows = canonical(plant, table)
        # the printed numbers add up, and agree with the indicators computed on the same flows
        assert intake == pytest.approx(discharge + consumed, rel=5e-3, abs=0.02 * len(values))
        assert intake == pytest.approx(kpi.freshwater(graph, flows) / scale, rel=5e-3)
        assert discharge == pytest.approx(kpi.wastewater(graph, flows) / scale, rel=5e-3)
        drawn_reuse = kpi.reused(graph, flows) - kpi.recirculation(graph)  # declared recirculation is not drawn
        assert values.get("reused", 0.0) == pytest.approx(drawn_reuse / scale, rel=5e-3, abs=1e-9)
        # the drawn bands add up too: what comes in is what goes out
        bars = {p.get_gid(): p.get_height() for p in ax.patches if isinstance(p, Rectangle) and p.get_gid()}
        left = sum(h for g, h in bars.items() if g.startswith("node:intake:"))
        right = sum(h for g, h in bars.items() if g.startswith("node:discharge:")) + bars.get("node:consumption", 0)
        assert left == pytest.approx(right, rel=1e-9)
        assert bars["node:use"] == pytest.approx(left + bars.get("node:reused", 0.0), rel=1e-9)
    # one flow scale for both panels: height per unit of flow is the same
    per_flow = [sum(p.get_height() for p in ax.patches if (p.get_gid() or "").startswith("node:intake:"))
                / kpi.freshwater(graph, canonical(plant, t)) for ax, t in ((before, base), (after, plan.flows))]
    assert per_flow[0] == pytest.approx(per_flow[1])


def test_many_users_are_merged_the_same_way_in_both_panels(solved):
    plant, plan, base = solved["synthetic_20"]
    fig = water_balance(plant, base, plan.flows)
    named = [{(t.get_gid() or "").removeprefix("user:") for t in ax.texts if (t.get_gid() or "").startswith("user:")}
             for ax in fig.axes]
    assert named[0] == named[1] and len(named[0]) <= 12 and any(n.endswith("other users") for n in named[0])


def test_water_balance_draws_into_a_given_figure(solved):
    plant, plan, base = solved["wang_smith"]
    fig = plt.figure(figsize=(10, 4))
    assert water_balance(plant, base, plan.flows, fig=fig, titles=("before", "after")) is fig
    assert [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == "title"] == ["before", "after"]


# ---------------------------------------------------------------------------------------------- composite curves
def _line(ax, gid):
    (line,) = [ln for ln in ax.lines if ln.get_gid() == gid]
    return line.get_xdata(), line.get_ydata()


def test_wang_smith_limiting_composite_has_the_published_target_and_pinch():
    plant = cascade.read_plant(MODELS / "wang_smith_1994_ex1/plant.yaml")
    ax = composite_curves(plant)
    x, y = _line(ax, "freshwater")
    assert x[0] == 0 and y[0] == 0  # fresh water at 0 ppm
    assert 1000 * (x[-1] - x[0]) / (y[-1] - y[0]) == pytest.approx(90.0)  # the supply line of 90 t/h
    px, py = _line(ax, "pinch")
    assert py[0] == pytest.approx(100.0)
    cx, cy = _line(ax, "composite")
    assert x[-1] == pytest.approx(cx[-1]) == pytest.approx(2 + 5 + 30 + 4)  # the line spans all the load
    assert px[0] == pytest.approx(9.0)  # 2 + 5 + 2 kg/h picked up below 100 ppm
    # the supply line lies below the limiting composite curve and touches it at the pinch
    assert all(yc >= 1000 * xc / 90.0 - 1e-9 for xc, yc in zip(cx, cy, strict=True))
    assert "90" in " ".join(t.get_text() for t in ax.get_legend().get_texts())


def test_polley_source_and_sink_composites_touch_at_the_pinch():
    plant = cascade.read_plant(MODELS / "polley_polley_2000/plant.yaml")
    ax = composite_curves(plant)
    sx, sy = _line(ax, "sinks")
    ox, oy = _line(ax, "sources")
    fx, _ = _line(ax, "freshwater")
    wx, _ = _line(ax, "wastewater")
    assert fx[1] - fx[0] == pytest.approx(70.0) and wx[1] - wx[0] == pytest.approx(50.0)  # published targets
    px, py = _line(ax, "pinch")
    # the source curve never rises above the sink curve, and meets it at the pinch
    for x in list(sx) + list(ox):
        if x <= sx[-1]:
            assert _interp(x, ox, oy) <= _interp(x, sx, sy) + 1e-9
    assert _interp(px[0], ox, oy) == pytest.approx(_interp(px[0], sx, sy)) == pytest.approx(py[0])


def _interp(x, xs, ys):
    import numpy as np

    return float(np.interp(x, xs, ys))


def test_a_plant_with_operations_and_fixed_streams_gets_its_pinch():
    plant = (cascade.Plant("mixed", ["C"])
             .add_freshwater("FW", {"C": 0})
             .add_sink("D", 20, {"C": 50})
             .add_source("S", 20, {"C": 100})
             .add_operation("OP", load={"C": 2}, max_inlet={"C": 0}, max_outlet={"C": 100}))
    result = cascade.target(plant)
    ax = composite_curves(plant)
    fx, _ = _line(ax, "freshwater")
    assert fx[1] - fx[0] == pytest.approx(result.freshwater)
    px, py = _line(ax, "pinch")
    ox, oy = _line(ax, "sources")
    assert len(result.pinch) == 1 and _interp(px[0], ox, oy) == pytest.approx(py[0])


def test_a_plant_with_regenerators_gets_no_pinch_and_says_why(monkeypatch):
    plant = cascade.read_plant(MODELS / "wang_smith_1994_ex1_regeneration_recycle/plant.yaml")
    with pytest.raises(cascade.UnsupportedFeatureError):
        cascade.target(plant)
    ax = composite_curves(plant)
    gids = {ln.get_gid() for ln in ax.lines}
    assert "composite" in gids and not gids & {"pinch", "freshwater"}
    assert "no pinch" in ax.get_title(loc="left") and "regenerators" in ax.get_title(loc="left")
    assert_legible(ax.figure, monkeypatch)
    food = cascade.read_plant(MODELS / "food_plant_retrofit/plant.yaml")  # two contaminants and a regenerator
    ax = composite_curves(food, contaminant="SS")
    assert "contaminants" in ax.get_title(loc="left") and "of SS" in ax.get_title(loc="left")
    assert not {ln.get_gid() for ln in ax.lines} & {"pinch", "freshwater"}


# ---------------------------------------------------------------------------------------------- indicators
def _indicator_table() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("fresh water intake", 36.0, 23.0, 30.0, "t/h", "<="),
            ("reuse rate", 0.0, 36.1, 90.0, "%", ">="),
            ("wastewater", 17.6, 4.6, math.nan, "t/h", ""),
            ("annual cost", 1.08e6, 0.88e6, 1e6, "CNY/yr", "<"),
            ("water per tonne of product", 4.2, 3.0, 3.0, "m3/t", "<="),
        ],
        columns=["indicator", "baseline", "plan", "threshold", "unit", "comparison"],
    )


def test_indicators_colour_the_plan_by_its_threshold(monkeypatch):
    ax = indicators(_indicator_table())
    states = {p.get_gid().split(":")[1]: p.get_gid().split(":")[2] for p in ax.patches
              if (p.get_gid() or "").startswith("plan:")}
    assert states == {"fresh water intake": "met", "reuse rate": "missed", "wastewater": "none", "annual cost": "met",
                      "water per tonne of product": "met"}
    colours = {state: {tuple(p.get_facecolor()) for p in ax.patches if (p.get_gid() or "").endswith(":" + state)}
               for state in ("met", "missed", "none")}
    assert all(len(c) == 1 for c in colours.values()) and len(set.union(*colours.values())) == 3
    thresholds = [ln for ln in ax.lines if (ln.get_gid() or "").startswith("threshold:")]
    assert len(thresholds) == 4
    assert {t.get_text() for t in ax.texts} >= {"\u2265 90.0 %: not met", "\u2264 30.0 t/h: met"}
    assert_legible(ax.figure, monkeypatch)


def test_indicators_refuse_a_bad_table():
    table = _indicator_table()
    with pytest.raises(ValueError, match="comparison"):
        indicators(table.assign(comparison="=>"))
    with pytest.raises(ValueError, match="threshold"):
        indicators(table.drop(columns="threshold"))


# ---------------------------------------------------------------------------------------------- package
def test_importing_cascade_does_not_import_matplotlib():
    import subprocess

    code = "import sys, cascade, cascade.plot; print('matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "False"


def test_the_baseline_table_is_todays_network():
    plant = cascade.read_plant(MODELS / "food_plant_retrofit/plant.yaml")
    table = cascade.plot.baseline(plant)
    assert sorted(map(tuple, table[["from", "to", "flow"]].to_numpy().tolist())) == sorted(plant.existing)
    assert not table["new_pipe"].any()
