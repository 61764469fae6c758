"""Water pinch targeting: the minimum fresh water of a single-contaminant plant, with no optimizer.

:func:`target` runs the water cascade analysis (Manan, Tan & Foo 2004, *AIChE J.* 50(12),
3169-3183) on the plant's streams:

* a fixed-flow sink ``j`` is a demand ``D_j`` at its limit ``C_j`` (no limit: it only needs water);
* a fixed-flow source ``i`` is a supply ``F_i`` at its quality ``c_i``;
* a fixed-load operation enters with its limiting data (Wang & Smith 1994): a demand of
  ``F_o = (1000 L_o + C^{out}_o F^{loss}_o) / (C^{out}_o - C^{in}_o)`` t/h at its inlet limit and a
  source of ``F_o - F^{loss}_o`` at its outlet limit (``F^{loss}``: the water it loses, 0 by
  default). With a throughput cap ``F^{max}_o < F_o`` the operation runs at ``F^{max}_o`` with the
  inlet limit lowered to ``C^{out}_o - (1000 L_o + C^{out}_o F^{loss}_o) / F^{max}_o`` (the outlet
  stays at its maximum, and the largest allowed flow needs the least clean water at every level);
* the fresh water ``F_w`` enters at the quality ``c_w`` of the cleanest supply.

For a threshold ``L`` the streams below it must bring at least the contaminant "room" the
demands below it take:

.. math::

    m(L) = \\sum_i F_i (L - c_i)^+ + F_w (L - c_w)^+ - \\sum_j D_j (L - C_j)^+ \\ge 0
    \\quad \\text{for every } L, \\qquad
    F_w + \\sum_i F_i \\ge \\sum_j D_j .

The conditions are necessary (each sink's mix satisfies
``D_j (L - C_j)^+ <= sum_i f_ij (L - c_i)^+`` by convexity of ``(L - c)^+``) and, for one
contaminant, sufficient (the pinch design method builds a network that meets them). ``m`` is
piecewise linear with breaks at the stream concentrations, so checking every level suffices.
The minimum fresh water is therefore

.. math::

    F_w^{min} = \\max\\Big(0,\\ \\sum_j D_j - \\sum_i F_i,\\
        \\max_{L > c_w} \\frac{-m_0(L)}{L - c_w}\\Big)

with ``m_0`` the cascade without fresh water; the wastewater is ``F_w + sum_i F_i - sum_j D_j``
(streams of operations included, so their water losses count). The pinch is every level
``L > c_w`` where the cascade with ``F_w^{min}`` carries no room, ``m(L) = 0``.

The target ignores the superstructure's restrictions (forbidden and required pipes, sink/source
pairs of one unit, the minimum pipe flow, discharge limits); where a plant has any of them the
result is a lower bound on the MILP's minimum, ``exact`` is False and ``notes`` say why.
Regenerators and several contaminants are outside this method: :func:`target` refuses them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .exceptions import InfeasiblePlantError, UnsupportedFeatureError, summarise
from .plant import Plant, is_missing
from .units import LOAD_TO_PPM, factor, operation_room

#: Relative tolerance for "no room left" at a level (pinch) and for infeasibility.
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Stream:
    """A demand (``flow < 0``) or a supply (``flow > 0``) at one concentration, in t/h and ppm."""

    unit: str
    role: str  # 'sink', 'source', 'operation inlet', 'operation outlet'
    flow: float
    concentration: float


@dataclass(frozen=True)
class TargetResult:
    """The water cascade of a plant and its targets.

    Attributes
    ----------
    plant : str
        Plant name.
    contaminant : str
    supply : str
        The supply the fresh water comes from (the cleanest one).
    supply_quality : float
        Its concentration (ppm).
    freshwater, wastewater : float
        Minimum fresh water and the wastewater that goes with it, in the plant's flow unit.
    pinch : list of float
        Pinch concentration(s), ppm; empty when only the water balance limits the fresh water
        (a threshold problem) or no fresh water is needed.
    exact : bool
        True when the target equals the MILP's minimum fresh water; False when the plant has
        restrictions the cascade ignores (then the target is a lower bound, see ``notes``).
    notes : tuple of str
    cascade : pandas.DataFrame
        The water cascade table, one row per concentration level (ascending): ``concentration``
        (ppm), ``net_flow`` (supplies minus demands at the level, fresh water included),
        ``cumulative_flow`` (water passed up to the next level), ``interval_load`` and
        ``cumulative_load`` (kg/h of contaminant room, ``m(L)`` in the module notes),
        ``freshwater_needed`` (fresh water that level alone calls for). Flows in the plant's unit.
    streams : pandas.DataFrame
        The demands and supplies the cascade was built from (``unit``, ``role``, ``flow``,
        ``concentration``), flows in the plant's unit.
    units : dict
        The plant's units.
    """

    plant: str
    contaminant: str
    supply: str
    supply_quality: float
    freshwater: float
    wastewater: float
    pinch: list[float]
    exact: bool
    notes: tuple[str, ...]
    cascade: pd.DataFrame = field(repr=False)
    streams: pd.DataFrame = field(repr=False)
    units: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The targets and the cascade table as a JSON-friendly mapping (non-finite numbers become None)."""
        return {
            "plant": self.plant,
            "contaminant": self.contaminant,
            "supply": self.supply,
            "supply_quality": self.supply_quality,
            "freshwater": self.freshwater,
            "wastewater": self.wastewater,
            "pinch": list(self.pinch),
            "exact": self.exact,
            "notes": list(self.notes),
            "cascade": [
                {k: (v if math.isfinite(v) else None) for k, v in row.items()}
                for row in self.cascade.to_dict(orient="records")
            ],
            "units": dict(self.units),
        }

    def summary(self) -> str:
        """A readable report: the targets, the pinch and the cascade table."""
        u = self.units.get("flow", "t/h")
        pinch = ", ".join(f"{p:g} ppm" for p in self.pinch) or "none (the water balance sets the target)"
        kind = "exact minimum" if self.exact else "lower bound"
        lines = [
            f"Plant: {self.plant}",
            f"Water cascade analysis for {self.contaminant}, fresh water from '{self.supply}' "
            f"at {self.supply_quality:g} ppm",
            f"Minimum fresh water: {self.freshwater:.6g} {u} ({kind})",
            f"Wastewater:          {self.wastewater:.6g} {u}",
            f"Pinch:               {pinch}",
            "",
            self.cascade.to_string(index=False, float_format=lambda x: f"{x:.6g}"),
        ]
        lines += [f"Note: {note}" for note in self.notes]
        return "\n".join(lines)


def target(plant: Plant) -> TargetResult:
    """Minimum fresh water, wastewater and pinch of a single-contaminant plant by water cascade analysis.

    Parameters
    ----------
    plant : Plant
        One contaminant; fixed-flow sinks and sources and fixed-load operations (each with a
        ``max_inlet`` and ``max_outlet``); no regenerators. Validated first; never modified.

    Returns
    -------
    TargetResult

    Raises
    ------
    PlantDataError
        The plant is invalid.
    UnsupportedFeatureError
        Several contaminants, regenerators, an operation without an inlet limit, or a capped
        cleanest supply when there are several supplies.
    InfeasiblePlantError
        No amount of fresh water meets the limits (a demand cleaner than the fresh water that
        cleaner sources cannot cover, or a capped supply below the target).

    Examples
    --------
    >>> import cascade
    >>> result = cascade.target(cascade.examples.polley())
    >>> result.freshwater, result.wastewater, result.pinch
    (70.0, 50.0, [150.0])
    """
    plant.validate(strict=True)
    _check_scope(plant)
    (c,) = plant.contaminants
    supply, quality, cap = _cleanest_supply(plant, c)
    streams = _streams(plant, c)

    levels = sorted({quality, *(s.concentration for s in streams if math.isfinite(s.concentration))})
    room = {level: _room(streams, level) for level in levels}  # m0(L): the cascade without fresh water
    demand = -sum(s.flow for s in streams if s.flow < 0)
    supplied = sum(s.flow for s in streams if s.flow > 0)
    scale = max(demand, supplied, 1.0) * max(levels[-1], 1.0)

    short = [level for level in levels if level <= quality and room[level] < -TOLERANCE * scale]
    if short:
        _raise_short(plant, streams, short[0], room[short[0]])
    need = {level: -room[level] / (level - quality) for level in levels if level > quality}
    freshwater = max(0.0, demand - supplied, *need.values())
    if cap is not None and freshwater > cap * (1 + TOLERANCE):
        raise InfeasiblePlantError(
            f"supply '{supply}' gives at most {cap:g} t/h but the plant needs at least {freshwater:.6g} t/h "
            f"of fresh water (water cascade analysis of {c}); raise its max_flow or add a supply",
            [supply],
        )
    pinch = [
        level for level, value in need.items()
        if freshwater > 0 and abs(value - freshwater) <= TOLERANCE * max(freshwater, 1.0)
    ]
    to_plant = 1.0 / factor("flow", plant.units["flow"])
    table = _cascade_table(streams, levels, supply, quality, freshwater, need, to_plant)
    reasons = _lower_bound_reasons(plant)
    return TargetResult(
        plant=plant.name,
        contaminant=c,
        supply=supply,
        supply_quality=quality,
        freshwater=freshwater * to_plant,
        wastewater=(freshwater + supplied - demand) * to_plant,
        pinch=pinch,
        exact=not reasons,
        notes=tuple(reasons),
        cascade=table,
        streams=pd.DataFrame(
            [(s.unit, s.role, s.flow * to_plant, s.concentration) for s in streams],
            columns=["unit", "role", "flow", "concentration"],
        ),
        units=dict(plant.units),
    )


def _check_scope(plant: Plant) -> None:
    """Refuse what water cascade analysis does not cover, naming the feature."""
    problems = []
    if len(plant.contaminants) != 1:
        problems.append(
            f"the plant has {len(plant.contaminants)} contaminants; water cascade analysis targets one "
            "contaminant (use cascade.optimize for several)"
        )
    for record in plant.records("regenerators"):
        problems.append(
            f"regenerator '{record.id}': targeting with regeneration is not supported (use cascade.optimize)"
        )
    if len(plant.contaminants) == 1:
        (c,) = plant.contaminants
        for unit_id, row in plant.operations.iterrows():
            if is_missing(row[f"max_inlet:{c}"]):
                problems.append(
                    f"operation '{unit_id}' has no max_inlet for {c}; the cascade needs its limiting data "
                    "(give the highest inlet concentration it tolerates)"
                )
    if problems:
        raise UnsupportedFeatureError(summarise(problems), problems=problems)


def _cleanest_supply(plant: Plant, c: str) -> tuple[str, float, float | None]:
    """The supply with the lowest concentration; its cap only matters if it is the only supply.

    Total intake is smallest when all of it comes from the cleanest supply (any plan can swap
    dirtier supply water for cleaner at the same flow), unless that supply is capped.
    """
    supplies = plant.freshwater
    best = supplies[f"quality:{c}"].idxmin()
    quality = float(supplies.loc[best, f"quality:{c}"])
    cap = supplies.loc[best, "max_flow"]
    cap = None if is_missing(cap) else float(cap)
    if cap is not None and len(supplies) > 1:
        raise UnsupportedFeatureError(
            f"supply '{best}' is the cleanest but capped at {cap:g} t/h; targeting with several supplies "
            "needs an uncapped cleanest one (use cascade.optimize)"
        )
    return str(best), quality, cap


def _streams(plant: Plant, c: str) -> list[Stream]:
    """Demands (negative flow) and supplies (positive flow) of the cascade, in t/h and ppm."""
    streams = []
    for unit_id, row in plant.sinks.iterrows():
        limit = row[f"max:{c}"]
        streams.append(Stream(unit_id, "sink", -row["flow"], math.inf if is_missing(limit) else float(limit)))
    for unit_id, row in plant.sources.iterrows():
        streams.append(Stream(unit_id, "source", row["flow"], float(row[f"quality:{c}"])))
    for unit_id, row in plant.operations.iterrows():
        c_in, c_out = float(row[f"max_inlet:{c}"]), float(row[f"max_outlet:{c}"])
        loss = float(row["water_loss"])
        mass = operation_room(float(row[f"load:{c}"]), c_out, loss)
        if row[f"load:{c}"] <= 0:
            continue  # validation refuses an operation that picks up nothing
        flow = mass / (c_out - c_in) if c_out > c_in else math.inf
        cap = row["max_flow"]
        if not is_missing(cap) and cap < flow:
            flow, c_in = float(cap), c_out - mass / float(cap)
        if not math.isfinite(flow):
            raise UnsupportedFeatureError(
                f"operation '{unit_id}' has max_inlet = max_outlet = {c_out:g} ppm and no max_flow, so its "
                "limiting flow is unbounded; give a max_flow or a lower max_inlet"
            )
        streams.append(Stream(unit_id, "operation inlet", -flow, c_in))
        streams.append(Stream(unit_id, "operation outlet", flow - loss, c_out))
    return streams


def _room(streams: list[Stream], level: float) -> float:
    """``m0(L)``: contaminant room (t/h x ppm) of the streams below ``level``, without fresh water."""
    return sum(s.flow * (level - s.concentration) for s in streams if s.concentration < level)


def _raise_short(plant: Plant, streams: list[Stream], level: float, room: float) -> None:
    units = sorted({s.unit for s in streams if s.flow < 0 and s.concentration < level})
    raise InfeasiblePlantError(
        f"no amount of fresh water is clean enough: below {level:g} ppm the demands of "
        f"{', '.join(units)} exceed what the streams cleaner than the fresh water can cover "
        f"(short by {-room / LOAD_TO_PPM:.4g} kg/h of contaminant room); add a cleaner supply or relax the limits",
        units,
    )


def _cascade_table(
    streams: list[Stream],
    levels: list[float],
    supply: str,
    quality: float,
    freshwater: float,
    need: dict[float, float],
    to_plant: float,
) -> pd.DataFrame:
    """The feasible cascade with the target fresh water, one row per level."""
    rows = []
    cumulative_flow = cumulative_load = 0.0
    for k, level in enumerate(levels):
        net = sum(s.flow for s in streams if s.concentration == level) + (freshwater if level == quality else 0.0)
        interval = 0.0
        if k > 0:
            interval = cumulative_flow * (level - levels[k - 1]) / LOAD_TO_PPM
            cumulative_load += interval
        cumulative_flow += net
        rows.append({
            "concentration": level,
            "net_flow": net * to_plant,
            "cumulative_flow": cumulative_flow * to_plant,
            "interval_load": interval,
            "cumulative_load": cumulative_load,
            "freshwater_needed": need.get(level, 0.0) * to_plant,
        })
    unlimited = sum(s.flow for s in streams if not math.isfinite(s.concentration))
    if unlimited:
        cumulative_flow += unlimited
        rows.append({
            "concentration": math.inf, "net_flow": unlimited * to_plant,
            "cumulative_flow": cumulative_flow * to_plant, "interval_load": math.nan,
            "cumulative_load": math.nan, "freshwater_needed": math.nan,
        })
    return pd.DataFrame(rows)


def _lower_bound_reasons(plant: Plant) -> list[str]:
    """Restrictions of the plant that the cascade ignores (each makes the target a lower bound)."""
    reasons = []
    if plant.forbidden:
        reasons.append(f"{len(plant.forbidden)} forbidden pipe(s)")
    if plant.required:
        reasons.append(f"{len(plant.required)} required pipe(s)")
    if plant.min_flow > 0:
        reasons.append(f"a minimum pipe flow of {plant.min_flow:g} t/h")
    sink_units = {r.values.get("unit") for r in plant.records("sinks")} - {None}
    if sink_units & {r.values.get("unit") for r in plant.records("sources")}:
        reasons.append("sinks and sources of one unit that may not connect")
    if any(plant.concentrations("discharges", "max").notna().any()):
        reasons.append("discharge limits")
    if not reasons:
        return []
    return [
        "The cascade ignores " + ", ".join(reasons) + ", so the target is a lower bound on the minimum "
        "fresh water; cascade.optimize gives the exact figure."
    ]


__all__ = ["target", "TargetResult", "Stream"]
