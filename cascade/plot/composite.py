"""Composite curves for water pinch analysis, with the target and pinch of :func:`cascade.target`.

* A plant of fixed-load operations only gets the **limiting composite curve** (Wang & Smith 1994):
  cumulative mass load (kg/h) against concentration (ppm), built from each operation's limiting
  inlet and outlet concentrations and load, with the fresh-water supply line at the minimum fresh
  water; the line touches the curve at the pinch.
* Any other plant (fixed-flow sinks and sources, with or without operations) gets the **sink and
  source composite curves** of the material recovery pinch diagram (El-Halwagi, Gabriel & Harell
  2003; Prakash & Shenoy 2005): cumulative load (kg/h) against cumulative flow, demands sorted by
  their limit and supplies by their quality, the fresh water at the target as the first supply.
  The source curve then lies below the sink curve and touches it at the pinch; what runs past
  the sinks' end is the wastewater. Operations enter as :func:`cascade.target` takes them: a
  demand at the inlet limit and a supply at the outlet limit.

The curves of other plants (regenerators, several contaminants: outside water cascade analysis)
are drawn for one contaminant without a target line or pinch, and the title says why.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..exceptions import InfeasiblePlantError, UnsupportedFeatureError
from ..plant import Plant, is_missing
from ..targeting import TargetResult, target
from ..units import LOAD_TO_PPM, operation_room
from ._common import _pyplot, canonical_flows, flow_scale, number, wrap

SINK_COLOUR = "#7a5230"
SOURCE_COLOUR = "#2f6db5"
FRESH_COLOUR = "#3c9d5d"


def _streams(plant: Plant, c: str) -> tuple[list[tuple[str, str, float, float]], list[str]]:
    """Demands (negative flow) and supplies of the plant for ``c``: (unit, role, t/h, ppm); and notes.

    The rules of :func:`cascade.target` (see :mod:`cascade.targeting`), for plants it refuses;
    operations without both limits for ``c`` are left out (named in the notes).
    """
    streams, notes = [], []
    for unit, row in plant.sinks.iterrows():
        limit = row[f"max:{c}"]
        streams.append((unit, "sink", -float(row["flow"]), math.inf if is_missing(limit) else float(limit)))
    for unit, row in plant.sources.iterrows():
        streams.append((unit, "source", float(row["flow"]), float(row[f"quality:{c}"])))
    for unit, row in plant.operations.iterrows():
        c_in, c_out, load = row[f"max_inlet:{c}"], row[f"max_outlet:{c}"], float(row[f"load:{c}"])
        if load <= 0:
            continue
        if is_missing(c_in) or is_missing(c_out) or (float(c_out) <= float(c_in) and is_missing(row["max_flow"])):
            notes.append(f"operation {unit} left out (no limiting inlet and outlet for {c})")
            continue
        loss = float(row["water_loss"])
        mass = operation_room(load, float(c_out), loss)
        flow = mass / (float(c_out) - float(c_in)) if float(c_out) > float(c_in) else math.inf
        if not is_missing(row["max_flow"]) and float(row["max_flow"]) < flow:
            flow = float(row["max_flow"])
            c_in = float(c_out) - mass / flow
        streams.append((unit, "operation inlet", -flow, float(c_in)))
        streams.append((unit, "operation outlet", flow - loss, float(c_out)))
    return streams, notes


def _why_no_target(plant: Plant, exc: Exception) -> str:
    reasons = []
    if len(plant.contaminants) != 1:
        reasons.append(f"{len(plant.contaminants)} contaminants")
    if len(plant.regenerators):
        reasons.append("regenerators")
    if isinstance(exc, InfeasiblePlantError):
        return "no pinch: no amount of fresh water meets the limits"
    if not reasons:
        text = str(exc)
        return "no pinch: " + (text if len(text) < 90 else text[:87] + "...")
    return "no pinch: water cascade analysis (cascade.target) does not cover " + " and ".join(reasons)


def _curve(segments: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    """Cumulative flow and load (t/h, kg/h) of segments (flow t/h, ppm) taken in ascending concentration."""
    xs, ys = [0.0], [0.0]
    for flow, conc in sorted(segments, key=lambda s: s[1]):
        xs.append(xs[-1] + flow)
        ys.append(ys[-1] + flow * conc / LOAD_TO_PPM)
    return xs, ys


def composite_curves(
    plant: Plant,
    *,
    contaminant: str | None = None,
    flows: pd.DataFrame | None = None,
    ax: Any = None,
) -> Any:
    """Draw the composite curves of a plant, with its fresh-water target and pinch where they apply.

    Operations only: the limiting composite curve (mass load against concentration) and the
    fresh-water supply line at the minimum fresh water of :func:`cascade.target`. Otherwise: the
    sink and source composite curves (cumulative load against cumulative flow), the source curve
    starting with the target fresh water. The pinch of :func:`cascade.target` is marked where the
    curves touch. For a plant :func:`cascade.target` refuses (regenerators, several contaminants)
    the curves of one contaminant are drawn without target or pinch, and the title says why.

    Parameters
    ----------
    plant : Plant
    contaminant : str, optional
        Default: the plant's first.
    flows : pandas.DataFrame, optional
        A network (``from``, ``to``, ``flow`` in the plant's flow unit): its intake is drawn too, as
        a dashed supply line (limiting composite curve) or source curve, for comparison.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
        Lines carry a ``gid``: ``composite``, ``sinks``, ``sources``, ``freshwater``, ``wastewater``,
        ``pinch``, ``network``.
    """
    c = contaminant or plant.contaminants[0]
    if c not in plant.contaminants:
        raise ValueError(f"unknown contaminant {c!r}; the plant has {', '.join(plant.contaminants)}")
    if ax is None:
        ax = _pyplot().subplots(figsize=(7.0, 4.8), layout="constrained")[1]
    result: TargetResult | None = None
    notes: list[str] = []
    try:
        result = target(plant)
    except (UnsupportedFeatureError, InfeasiblePlantError) as exc:
        notes.append(_why_no_target(plant, exc))
    scale = flow_scale(plant)
    if result is not None and result.contaminant == c:
        streams = [(r.unit, r.role, r.flow * scale, r.concentration) for r in result.streams.itertuples(index=False)]
    else:
        streams, more = _streams(plant, c)
        notes += more
    intake = None
    if flows is not None:
        canon = canonical_flows(plant, flows)
        supplies = plant.freshwater
        intake = {}
        for (i, _), f in canon.items():
            if i in supplies.index:
                intake[i] = intake.get(i, 0.0) + f
    operations_only = not len(plant.sinks) and not len(plant.sources)
    draw = _limiting if operations_only else _pinch_diagram
    draw(ax, plant, c, streams, result, intake)
    if result is not None and not result.exact:
        notes.append("the target is a lower bound (see cascade.target(plant).notes)")
    kind = "limiting composite curve" if operations_only else "composite curves"
    width = ax.get_position().width * ax.figure.get_size_inches()[0]
    title = wrap(f"{plant.name}: {kind} of {c}", width, 10)
    if notes:
        title += "\n" + wrap("; ".join(notes), width, 10)
    ax.set_title(title, fontsize=10, loc="left")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.set_xlim(left=0)
    ax.grid(alpha=0.3)
    return ax


def _limiting(ax: Any, plant: Plant, c: str, streams: list, result: TargetResult | None,
              intake: dict[str, float] | None) -> None:
    """The limiting composite curve and the supply line(s)."""
    inlet = {u: (-f, conc) for u, role, f, conc in streams if role == "operation inlet"}
    outlet = {u: conc for u, role, _, conc in streams if role == "operation outlet"}
    ops = [(inlet[u][1], outlet[u], inlet[u][0] * (outlet[u] - inlet[u][1]) / LOAD_TO_PPM) for u in inlet]
    levels = sorted({v for lo, hi, _ in ops for v in (lo, hi)})
    mass = [0.0]
    for a, b in zip(levels, levels[1:], strict=False):
        rate = sum(m / (hi - lo) for lo, hi, m in ops if lo <= a and b <= hi and hi > lo)
        mass.append(mass[-1] + rate * (b - a))
    ax.plot(mass, levels, color=SINK_COLOUR, linewidth=2, marker="o", markersize=3, gid="composite",
            label="limiting composite curve")
    unit = plant.units.get("flow", "t/h")
    scale = flow_scale(plant)
    total = mass[-1] if mass else 0.0
    if result is not None and result.contaminant == c and result.freshwater > 0:
        fw = result.freshwater * scale  # t/h
        cw = result.supply_quality
        ax.plot([0.0, total], [cw, cw + LOAD_TO_PPM * total / fw], color=FRESH_COLOUR, linewidth=1.8,
                gid="freshwater", label=f"fresh water at the target: {number(result.freshwater)} {unit}")
        for p in result.pinch:
            ax.plot([_interp(p, levels, mass)], [p], linestyle="none", marker="o", markersize=9,
                    markerfacecolor="none", markeredgecolor="black", markeredgewidth=1.5, gid="pinch",
                    label=f"pinch: {number(p)} ppm")
    if intake:
        fw = sum(intake.values())
        quality = plant.freshwater[f"quality:{c}"]
        cw = sum(f * float(quality[w]) for w, f in intake.items()) / fw
        ax.plot([0.0, total], [cw, cw + LOAD_TO_PPM * total / fw], color="0.35", linestyle="--", linewidth=1.2,
                gid="network", label=f"this network's intake: {number(fw / scale)} {unit}")
    ax.set_xlabel("mass load [kg/h]")
    ax.set_ylabel(f"concentration of {c} [ppm]")
    ax.set_ylim(bottom=0)


def _interp(level: float, levels: list[float], mass: list[float]) -> float:
    for k in range(len(levels) - 1):
        if levels[k] <= level <= levels[k + 1]:
            t = (level - levels[k]) / (levels[k + 1] - levels[k]) if levels[k + 1] > levels[k] else 0.0
            return mass[k] + t * (mass[k + 1] - mass[k])
    return mass[-1] if level > levels[-1] else 0.0


def _pinch_diagram(ax: Any, plant: Plant, c: str, streams: list, result: TargetResult | None,
                   intake: dict[str, float] | None) -> None:
    """Sink and source composite curves (load against flow) with the fresh water, wastewater and pinch."""
    unit = plant.units.get("flow", "t/h")
    scale = flow_scale(plant)
    demands = [(-f, conc) for _, _, f, conc in streams if f < 0]
    supplies = [(f, conc) for _, _, f, conc in streams if f > 0]
    finite = [conc for _, conc in demands + supplies if math.isfinite(conc)]
    top = max(finite, default=0.0)
    unlimited = any(not math.isfinite(conc) for _, conc in demands)
    # a demand without a limit takes any water: drawn at the dirtiest concentration (last, steepest)
    demands = [(f, conc if math.isfinite(conc) else top) for f, conc in demands]
    xs, ys = _curve(demands)
    ax.plot([x / scale for x in xs], ys, color=SINK_COLOUR, linewidth=2, marker="o", markersize=3, gid="sinks",
            label="sink composite" + (" (no limit: at the dirtiest stream)" if unlimited else ""))
    fresh = None
    if result is not None and result.contaminant == c:
        fresh = (result.freshwater * scale, result.supply_quality)
        label = "source composite with the target fresh water"
    else:
        label = "source composite (process sources only)"
    sx, sy = _curve(supplies + ([fresh] if fresh and fresh[0] > 0 else []))
    ax.plot([x / scale for x in sx], sy, color=SOURCE_COLOUR, linewidth=2, marker="o", markersize=3, gid="sources",
            label=label)
    if fresh is not None:
        if fresh[0] > 0:
            fx, fy = _segment(supplies + [fresh], fresh)
            ax.plot([x / scale for x in fx], fy, color=FRESH_COLOUR, linewidth=5, alpha=0.7, solid_capstyle="butt",
                    gid="freshwater", label=f"fresh water: {number(fresh[0] / scale)} {unit}")
        waste = sx[-1] - xs[-1]
        if waste > 1e-9 * max(sx[-1], 1.0):
            wy = _at(xs[-1], sx, sy)
            ax.plot([xs[-1] / scale, sx[-1] / scale], [wy, sy[-1]], color="0.4", linewidth=5, alpha=0.5,
                    solid_capstyle="butt", gid="wastewater", label=f"wastewater: {number(waste / scale)} {unit}")
        for p in result.pinch:
            x_p = sum(f for f, conc in demands if conc < p)  # where the sink curve's slope passes the pinch
            ax.plot([x_p / scale], [_at(x_p, xs, ys)], linestyle="none", marker="o", markersize=9,
                    markerfacecolor="none", markeredgecolor="black", markeredgewidth=1.5, gid="pinch",
                    label=f"pinch: {number(p)} ppm")
    if intake:
        quality = plant.freshwater[f"quality:{c}"]
        nx_, ny = _curve(supplies + [(f, float(quality[w])) for w, f in intake.items()])
        ax.plot([x / scale for x in nx_], ny, color="0.35", linestyle="--", linewidth=1.2, gid="network",
                label=f"sources with this network's intake: {number(sum(intake.values()) / scale)} {unit}")
    ax.set_xlabel(f"cumulative flow [{unit}]")
    ax.set_ylabel(f"cumulative load of {c} [kg/h]")
    ax.set_ylim(bottom=-0.02 * max(sy[-1], ys[-1], 1e-9))  # the fresh water runs along zero load


def _segment(segments: list[tuple[float, float]], which: tuple[float, float]) -> tuple[list[float], list[float]]:
    """Start and end of one segment on the composite of ``segments``."""
    x = y = 0.0
    for flow, conc in sorted(segments, key=lambda s: s[1]):
        if (flow, conc) == which:
            return [x, x + flow], [y, y + flow * conc / LOAD_TO_PPM]
        x += flow
        y += flow * conc / LOAD_TO_PPM
    return [x, x], [y, y]


def _at(x: float, xs: list[float], ys: list[float]) -> float:
    """The composite's load at cumulative flow ``x`` (linear between its points)."""
    for k in range(len(xs) - 1):
        if xs[k] <= x <= xs[k + 1]:
            t = (x - xs[k]) / (xs[k + 1] - xs[k]) if xs[k + 1] > xs[k] else 0.0
            return ys[k] + t * (ys[k + 1] - ys[k])
    return ys[-1]


__all__ = ["composite_curves"]
