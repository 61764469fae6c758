"""Coded checks of a plant's meaning, with messages that name the unit, the number and the fix.

:func:`validate` returns a :class:`ValidationReport`; ``plant.validate(strict=True)`` raises a
:class:`~cascade.PlantDataError` listing every error. Each finding has a stable ``code`` so
programs (and tests) can react to it:

===================  ===================================================================
code                 meaning
===================  ===================================================================
no_name              the plant has no name
no_contaminants      no contaminant is declared
duplicate_contam     a contaminant is declared twice
duplicate_id         two units share an id
unknown_contaminant  a per-contaminant field names a contaminant not declared
unknown_id           a connection names an id that does not exist
bad_connection       a connection that can never exist (into a supply, out of a sink, ...) or
                     an existing pipe listed twice
negative             a flow, concentration, load, price or capacity below zero
bad_number           a number that is infinite, or missing where one is needed (built in code)
bad_removal          a removal fraction outside 0..1
both_specs           a regenerator gives both outlet and removal for one contaminant
bad_option           objective, supply kind, hours per year or a unit not allowed
no_supply            the plant has no fresh-water supply
no_load              an operation picks up nothing
no_outlet_limit      an operation picks up a contaminant but has no maximum outlet for it
outlet_below_inlet   an operation's max_outlet is lower than its max_inlet
unreachable_limit    a sink or operation limit (inlet, or outlet when no inlet limit is given)
                     that no supply, source or regenerator meets
bad_cost             a capital cost exponent outside (0, 1], a capital cost without ``finance``,
                     a bad ``finance`` value, or a regenerator ``min_flow`` above its ``max_flow``
bad_piping           a negative pipe cost, length, budget or limit, a pipe limit that is not a whole
                     number, a flow class without a positive max_flow, pipe capital without
                     ``finance``, or an unknown layout metric
no_length            pipes are priced per metre but a unit has neither coordinates nor distances
bad_plant            a unit's ``plant`` is blank, the reserved report label ``(park)``, or also the
                     id of a unit (a plant and a unit would share a site name)
bad_meter            a meter (:mod:`cascade.metering`) with an empty or repeated id, an ``at`` that is
                     not a unit or a pair of units, a quantity neither 'flow' nor a contaminant, an
                     analyser on a pipe, not exactly one of rsd / sd / accuracy_class, an accuracy
                     that is not positive and finite (rsd >= 1, accuracy_class > 100), a
                     repeatability that is negative, larger than the relative accuracy or given with
                     an absolute sd, or a level other than 1, 2, 3; the finding's ``unit`` is the
                     meter's id
zero_flow            (warning) a sink or source with zero flow
unverified_limit     (warning) a limit taken from a standard (:mod:`cascade.standards`) uses a number
                     the library marks P or U (asked for with ``unverified: true``), or skips one
                     and so leaves a contaminant without that standard's limit
===================  ===================================================================

Numbers in messages are in the plant's own units (``-1 kg/s`` for a file in kg/s), so they can
be found in the file.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from .exceptions import PlantDataError, summarise
from .metering import meter_problems
from .plant import KIND_NAMES, OBJECTIVES, PARK_LEVEL, SCHEMA, SUPPLY_KINDS, Plant, is_missing
from .standards import MASS_UNIT, VERIFIED
from .units import DEFAULT_UNITS, accepted, factor

#: Most operating hours a year can have (a leap year).
MAX_HOURS_PER_YEAR = 8784.0

_QUANTITY = {"t/h": "flow", "ppm": "concentration", "kg/h": "load"}


@dataclass(frozen=True)
class Finding:
    """One problem found in a plant: a stable code, a severity, the unit and the message."""

    code: str
    severity: str  # 'error' | 'warning'
    unit: str | None
    message: str


@dataclass
class ValidationReport:
    """The findings of :func:`validate`.

    Attributes
    ----------
    findings : list of Finding
    """

    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        """The findings that make the plant unusable."""
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        """The findings worth a look that do not stop the optimisation."""
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    def codes(self) -> list[str]:
        """The codes of all findings, in order."""
        return [f.code for f in self.findings]

    def raise_if_errors(self) -> None:
        """Raise :class:`PlantDataError` listing every error, if there is any."""
        errors = self.errors
        if errors:
            messages = [f.message for f in errors]
            raise PlantDataError(summarise(messages), problems=messages)

    def to_frame(self) -> pd.DataFrame:
        """The findings as a DataFrame (code, severity, unit, message)."""
        return pd.DataFrame([f.__dict__ for f in self.findings], columns=["code", "severity", "unit", "message"])

    def __str__(self) -> str:
        if not self.findings:
            return "plant is valid"
        return "\n".join(f"{f.severity}: {f.message}" for f in self.findings)


class _Collector:
    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def error(self, code: str, unit: str | None, message: str) -> None:
        self.findings.append(Finding(code, "error", unit, message))

    def warning(self, code: str, unit: str | None, message: str) -> None:
        self.findings.append(Finding(code, "warning", unit, message))


def validate(plant: Plant) -> ValidationReport:
    """Check a plant's data for mistakes and impossibilities.

    Parameters
    ----------
    plant : Plant

    Returns
    -------
    ValidationReport
        Every finding, errors first in the order the checks run.
    """
    out = _Collector()
    _check_settings(plant, out)
    _check_ids(plant, out)
    _check_values(plant, out)
    _check_operations(plant, out)
    _check_regenerators(plant, out)
    _check_connections(plant, out)
    _check_piping(plant, out)
    _check_plants(plant, out)
    _check_standard_limits(plant, out)
    _check_meters(plant, out)
    if not [f for f in out.findings if f.severity == "error"]:
        _check_reachable_limits(plant, out)
    return ValidationReport(out.findings)


def _show(plant: Plant, value: float, unit: str = "") -> str:
    """A number from the tables as the plant file gives it: in the plant's unit, with the unit."""
    quantity = _QUANTITY.get(unit)
    if quantity is not None:
        shown = plant.units.get(quantity, unit)
        if shown in accepted(quantity):  # an unknown unit is reported on its own
            value, unit = value / factor(quantity, shown), shown
    elif unit.startswith("money"):
        unit = plant.units.get("money", "money") + unit[len("money"):]
    text = f"{value:.10g}"
    return f"{text} {unit}" if unit else text


def _check_settings(plant: Plant, out: _Collector) -> None:
    if not plant.name.strip():
        out.error("no_name", None, "the plant has no name; add a line such as 'name: Dairy plant'")
    if not plant.contaminants:
        out.error("no_contaminants", None, "no contaminant is declared; add e.g. 'contaminants: [COD]'")
    for name, count in Counter(plant.contaminants).items():
        if count > 1:
            out.error(
                "duplicate_contam", None,
                f"contaminant '{name}' is declared {count} times in contaminants {plant.contaminants}; "
                "list each name once",
            )
    if plant.objective not in OBJECTIVES:
        out.error("bad_option", None, f"objective {plant.objective!r} is not known; use one of {', '.join(OBJECTIVES)}")
    if not 0 < plant.hours_per_year <= MAX_HOURS_PER_YEAR:
        out.error(
            "bad_option", None,
            f"hours_per_year is {plant.hours_per_year:g}; it must be positive and at most "
            f"{MAX_HOURS_PER_YEAR:g} (a year's hours), e.g. 8000",
        )
    for key, unit in plant.units.items():
        if key not in DEFAULT_UNITS:
            out.error("bad_option", None, f"units: '{key}' is not known; use {', '.join(DEFAULT_UNITS)}")
        elif key != "money" and unit not in accepted(key):
            out.error(
                "bad_option", None,
                f"units: {key} unit {unit!r} is not known; use one of {', '.join(accepted(key))}",
            )
    for name, value in (("min_flow", plant.min_flow), ("pipe_cost.fixed", plant.pipe_cost_fixed)):
        unit = "t/h" if name == "min_flow" else "money/yr"
        if not math.isfinite(value):
            out.error("bad_number", None, f"connections.{name} is {value}; give a finite number (0 for none)")
        elif value < 0:
            out.error("negative", None, f"connections.{name} is {_show(plant, value, unit)}; it must be 0 or more")
    if not plant.records("freshwater"):
        out.error("no_supply", None, "the plant has no fresh-water supply; add one under 'freshwater:'")


def _check_ids(plant: Plant, out: _Collector) -> None:
    seen: dict[str, str] = {}
    for table in SCHEMA:
        for record in plant.records(table):
            kind = KIND_NAMES[table]
            if record.id in seen:
                out.error(
                    "duplicate_id",
                    record.id,
                    f"id '{record.id}' is used twice ({seen[record.id]} and {kind}); ids must be unique "
                    "across the whole file, so rename one",
                )
            else:
                seen[record.id] = kind
            for fld in SCHEMA[table]:
                if fld.kind != "conc":
                    continue
                for c in record.values.get(fld.name, {}):
                    if c not in plant.contaminants:
                        out.error(
                            "unknown_contaminant",
                            record.id,
                            f"{kind} '{record.id}': '{fld.name}' names contaminant '{c}', which is not in "
                            f"contaminants {plant.contaminants}; add it there or fix the name",
                        )


def _check_values(plant: Plant, out: _Collector) -> None:
    for table in SCHEMA:
        kind = KIND_NAMES[table]
        for record in plant.records(table):
            where = f"{kind} '{record.id}'"
            for fld in SCHEMA[table]:
                value = record.values.get(fld.name)
                if fld.kind == "float":
                    if value is None:
                        continue
                    if is_missing(value):
                        if fld.required or not is_missing(fld.default):
                            out.error(
                                "bad_number", record.id,
                                f"{where}: '{fld.name}' is missing (NaN); give a number ({fld.doc})",
                            )
                    elif math.isinf(value):
                        out.error(
                            "bad_number", record.id,
                            f"{where}: '{fld.name}' is {value}; give a finite number "
                            f"({fld.doc}; leave it out for the default)",
                        )
                    elif value < 0 and fld.name != "water_loss":  # a negative loss is a gain
                        out.error(
                            "negative", record.id,
                            f"{where}: '{fld.name}' is {_show(plant, value, fld.unit)}; it must be 0 or more "
                            f"({fld.doc})",
                        )
                if fld.kind == "conc":
                    unit = "" if fld.name == "removal" else fld.unit
                    for c, v in (value or {}).items():
                        if math.isinf(v):
                            out.error(
                                "bad_number", record.id,
                                f"{where}: '{fld.name}' of {c} is {v}; give a finite number, or leave {c} out",
                            )
                        elif v < 0:
                            out.error(
                                "negative", record.id,
                                f"{where}: '{fld.name}' of {c} is {_show(plant, v, unit)}; it must be 0 or more",
                            )
            if table in ("sinks", "sources") and record.values.get("flow") == 0:
                out.warning("zero_flow", record.id, f"{where} has zero flow; it plays no part")
            if table == "freshwater" and record.values.get("kind", "fresh") not in SUPPLY_KINDS:
                out.error(
                    "bad_option", record.id,
                    f"supply '{record.id}': kind {record.values['kind']!r} is not known; "
                    f"use one of {', '.join(SUPPLY_KINDS)}",
                )


def _check_operations(plant: Plant, out: _Collector) -> None:
    for record in plant.records("operations"):
        load = record.values.get("load", {})
        max_in = record.values.get("max_inlet", {})
        max_out = record.values.get("max_outlet", {})
        if not any(v > 0 for v in load.values()):
            out.error(
                "no_load", record.id,
                f"operation '{record.id}' picks up no contaminant; give a positive 'load', "
                "or describe it as a sink and a source",
            )
        for c, value in load.items():
            if value > 0 and c in plant.contaminants and is_missing(max_out.get(c)):
                out.error(
                    "no_outlet_limit", record.id,
                    f"operation '{record.id}' picks up {_show(plant, value, 'kg/h')} of {c} but has no max_outlet "
                    f"for {c}; give the highest outlet concentration the unit tolerates",
                )
        for c in sorted(set(max_in) & set(max_out)):
            if max_out[c] < max_in[c]:
                out.error(
                    "outlet_below_inlet", record.id,
                    f"operation '{record.id}': max_outlet of {c} ({_show(plant, max_out[c], 'ppm')}) is below its "
                    f"max_inlet ({_show(plant, max_in[c], 'ppm')}); an operation only adds contaminant, "
                    "so raise max_outlet or lower max_inlet",
                )


def _check_regenerators(plant: Plant, out: _Collector) -> None:
    for record in plant.records("regenerators"):
        outlet = record.values.get("outlet", {})
        removal = record.values.get("removal", {})
        for c in sorted(set(outlet) & set(removal)):
            if is_missing(outlet[c]) or is_missing(removal[c]):
                continue
            out.error(
                "both_specs", record.id,
                f"regenerator '{record.id}' gives both an outlet concentration ({_show(plant, outlet[c], 'ppm')}) "
                f"and a removal fraction ({removal[c]:g}) for {c}; keep one of the two",
            )
        for c, r in removal.items():
            if not is_missing(r) and not 0 <= r <= 1:
                out.error(
                    "bad_removal", record.id,
                    f"regenerator '{record.id}': removal of {c} is {r:g}; it must be a fraction between 0 and 1 "
                    "(0.9 removes 90 %)",
                )
        where = f"regenerator '{record.id}'"
        a, b = record.values.get("cost_capital_a", 0.0), record.values.get("cost_capital_b", 0.7)
        if not is_missing(b) and not 0 < b <= 1:
            out.error("bad_cost", record.id, f"{where}: cost.capital.b is {b:g}; the exponent of a * Q^b must be "
                      "in (0, 1] (economies of scale: 0.6-0.8 is usual)")
        if not is_missing(a) and a > 0 and plant.annualisation() is None:
            out.error("bad_cost", record.id, f"{where} has a capital cost but the plant has no 'finance'; add e.g. "
                      "'finance: {interest_rate: 0.08, lifetime: 10}' or 'finance: {annualisation_factor: 0.15}'")
        low, high = record.values.get("min_flow", 0.0), record.values.get("max_flow")
        if not is_missing(low) and not is_missing(high) and low > high:
            out.error("bad_cost", record.id, f"{where}: min_flow {_show(plant, low, 't/h')} is above its max_flow "
                      f"{_show(plant, high, 't/h')}")
    for key, value in plant.finance.items():
        bad = value < 0 if key == "interest_rate" else value <= 0
        if bad:
            out.error("bad_cost", None, f"finance.{key} is {value:g}; it must be "
                      + ("0 or more" if key == "interest_rate" else "positive"))


def _check_piping(plant: Plant, out: _Collector) -> None:
    """Pipe costs, limits, budget and layout (:mod:`cascade.economics`)."""
    from .economics import METRICS, exchange_classes, needs_length, pipe_classes

    piping, layout = plant.piping, plant.layout
    for key in ("capital", "per_metre", "remove_cost", "budget", "max_new_pipes", "max_inlets"):
        value = piping.get(key)
        if value is not None and value < 0:
            out.error("bad_piping", None, f"connections: {key} is {value:g}; it must be 0 or more")
    for key in ("max_new_pipes", "max_inlets"):
        value = piping.get(key)
        if value is not None and value != int(value):
            out.error("bad_piping", None, f"connections.{key} is {value:g}; it must be a whole number of pipes")
    if piping.get("max_inlets") is not None and piping["max_inlets"] < 1:
        out.error("bad_piping", None, "connections.max_inlets is 0: no unit could take water; give 1 or more")
    for n, c in enumerate(piping.get("classes") or []):
        if not c.get("max_flow", 0) > 0:
            out.error("bad_piping", None, f"connections.pipe_cost.classes[{n}] needs a positive max_flow")
        for key in ("capital", "per_metre"):
            if c.get(key, 0.0) < 0:
                out.error("bad_piping", None, f"connections.pipe_cost.classes[{n}].{key} is {c[key]:g}; "
                          "it must be 0 or more")
    for key, value in (piping.get("exchange") or {}).items():
        if value < 0:
            out.error("bad_piping", None, f"connections.pipe_cost.exchange.{key} is {value:g}; it must be 0 or more")
    classes = pipe_classes(piping) + exchange_classes(piping)
    capital = any(c["capital"] > 0 or c["per_metre"] > 0 for c in classes) or piping.get("remove_cost", 0) > 0
    if capital and plant.annualisation() is None:
        out.error("bad_piping", None, "pipes have a capital cost but the plant has no 'finance'; add e.g. "
                  "'finance: {interest_rate: 0.08, lifetime: 15}' or 'finance: {annualisation_factor: 0.12}'")
    if layout.get("metric", "manhattan") not in METRICS:
        out.error("bad_piping", None, f"layout.metric {layout['metric']!r} is not known; use {' or '.join(METRICS)}")
    ids = set(plant.ids())
    coordinates = layout.get("coordinates", {})
    for unit in coordinates:
        if unit not in ids:
            out.error("unknown_id", unit, f"layout.coordinates names '{unit}', which is not a unit of the plant")
    measured: set[str] = set()
    for a, b, metres in layout.get("distances", ()):
        for unit in (a, b):
            if unit not in ids:
                out.error("unknown_id", unit, f"layout.distances [{a}, {b}] names '{unit}', which is not a unit "
                          "of the plant")
        if metres < 0:
            out.error("bad_piping", a, f"layout.distances [{a}, {b}] is {metres:g} m; a length is 0 or more")
        measured |= {a, b}
    if needs_length(piping):
        lost = [u for u in plant.ids() if u not in coordinates and u not in measured]
        if lost:
            out.error("no_length", lost[0], f"pipes are priced per metre but {', '.join(lost)} "
                      f"{'has' if len(lost) == 1 else 'have'} no place: give layout.coordinates (or "
                      "layout.distances for every pipe they may have)")


def _check_plants(plant: Plant, out: _Collector) -> None:
    """The ``plant`` of each unit and the park layout (``layout.plants``, ``layout.plant_distances``)."""
    ids = set(plant.ids())
    plants: set[str] = set()
    park_level: set[str] = set()
    for table in SCHEMA:
        for record in plant.records(table):
            owner = record.values.get("plant")
            if owner is None:
                park_level.add(record.id)
                continue
            where = f"{KIND_NAMES[table]} '{record.id}'"
            if not owner.strip() or owner == PARK_LEVEL:
                out.error("bad_plant", record.id, f"{where}: plant {owner!r} is not a plant name; give the id of "
                          f"the plant it belongs to, or leave 'plant' out for a park-level unit")
            elif owner in ids:
                out.error("bad_plant", record.id, f"{where}: plant '{owner}' is also the id of a unit; a plant "
                          "and a unit may not share a name (layout.plant_distances could not tell them apart)")
            plants.add(owner)
    for name in plant.layout.get("plants", {}):
        if name not in plants:
            out.error("unknown_id", name, f"layout.plants names '{name}', which no unit belongs to "
                      f"(plants: {', '.join(sorted(plants)) or 'none'})")
    for a, b, metres in plant.layout.get("plant_distances", ()):
        for site in (a, b):
            if site not in plants and site not in park_level:
                out.error("unknown_id", site, f"layout.plant_distances [{a}, {b}] names '{site}', which is neither "
                          "a plant nor a park-level unit (a unit without 'plant')")
        if metres < 0:
            out.error("bad_piping", a, f"layout.plant_distances [{a}, {b}] is {metres:g} m; a length is 0 or more")


def _check_meters(plant: Plant, out: _Collector) -> None:
    """The plant's meters (:func:`cascade.metering.meter_problems`, the checks read_meters makes too)."""
    for meter_id, message in meter_problems(plant.meters, plant):
        out.error("bad_meter", meter_id, message)


def _check_standard_limits(plant: Plant, out: _Collector) -> None:
    """Limits from a standard that rest on, or leave out, numbers the library marks P or U."""
    for (table, unit_id, name), source in plant.limit_sources.items():
        where = f"{KIND_NAMES[table]} '{unit_id}': {name}"
        cited = f"{source['standard']} {source['use']}"
        used = [f"{c} <= {_limit_text(plant, d)}" for c, d in source["limits"].items()
                if d["verification"] not in VERIFIED]
        if used:
            out.warning(
                "unverified_limit", unit_id,
                f"{where} takes {', '.join(used)} from {cited}, numbers the library marks unverified (P: column "
                "inferred or sources disagree; U: not found in any source); check them against the standard",
            )
        left = [  # skipped for their verification alone (in mg/L, or mapped explicitly)
            f"{e['contaminant']} ({e['parameter']} {e['requirement']}, {e['verification']})" for e in source["skipped"]
            if e["verification"] not in VERIFIED and (e["unit"] == MASS_UNIT or e["contaminant"] in source["map"])
        ]
        if left:
            out.warning(
                "unverified_limit", unit_id,
                f"{where}: {cited} limits {', '.join(left)} with numbers the library marks unverified, so "
                f"{'they have' if len(left) > 1 else 'it has'} no limit from it; add 'unverified: true' to use "
                "them, or give your own numbers",
            )


def _limit_text(plant: Plant, taken: dict) -> str:
    """A number taken from a standard: in the plant's concentration unit when it is mg/L, else in its own."""
    if taken["unit"] == MASS_UNIT:
        return _show(plant, taken["value"], "ppm")
    return f"{taken['value']:.10g} {taken['unit']}"


def _check_connections(plant: Plant, out: _Collector) -> None:
    kinds = plant.kind_of()
    pairs: list[tuple[str, str, str]] = (
        [("forbidden", a, b) for a, b in plant.forbidden]
        + [("required", a, b) for a, b in plant.required]
        + [("existing", a, b) for a, b, _ in plant.existing]
    )
    for name, a, b in pairs:
        missing = [x for x in (a, b) if x not in kinds]
        for x in missing:
            close = [k for k in kinds if k.lower() == x.lower()]
            hint = f"; did you mean '{close[0]}'?" if close else ""
            out.error("unknown_id", x, f"connections.{name} [{a}, {b}] names '{x}', which is not a unit{hint}")
        if missing:
            continue
        if kinds[a] in ("sinks", "discharges"):
            out.error(
                "bad_connection", a,
                f"connections.{name} [{a}, {b}]: {KIND_NAMES[kinds[a]]} '{a}' has no outlet, "
                "so no pipe can start there",
            )
        if kinds[b] in ("freshwater", "sources"):
            out.error(
                "bad_connection", b,
                f"connections.{name} [{a}, {b}]: {KIND_NAMES[kinds[b]]} '{b}' has no inlet, so no pipe can end there",
            )
        if name == "required" and (a, b) in set(plant.forbidden):
            out.error("bad_connection", a, f"connections: [{a}, {b}] is both required and forbidden")
        if name != "forbidden" and kinds[a] == "freshwater" and kinds[b] == "discharges":
            out.error(
                "bad_connection", a,
                f"connections.{name} [{a}, {b}]: fresh water never goes straight to a discharge",
            )
    flows: dict[tuple[str, str], list[float]] = {}
    for a, b, flow in plant.existing:
        flows.setdefault((a, b), []).append(flow)
        if not math.isfinite(flow):
            out.error("bad_number", a, f"connections.existing [{a}, {b}] has flow {flow}; give today's flow")
        elif flow < 0:
            out.error(
                "negative", a,
                f"connections.existing [{a}, {b}] has flow {_show(plant, flow, 't/h')}; it must be 0 or more",
            )
    for (a, b), listed in flows.items():
        if len(listed) > 1:
            shown = ", ".join(_show(plant, f, "t/h") for f in listed)
            out.error(
                "bad_connection", a,
                f"connections.existing lists the pipe [{a}, {b}] {len(listed)} times ({shown}); "
                "give it once, with its total flow",
            )


def _supply_options(plant: Plant) -> dict[str, list[tuple[float, str]]]:
    """For each contaminant, the (concentration, label) of every stream that can feed a unit."""
    options: dict[str, list[tuple[float, str]]] = {c: [] for c in plant.contaminants}
    for table, fld, label in (
        ("freshwater", "quality", "supply"),
        ("sources", "quality", "source"),
        ("regenerators", "outlet", "regenerator"),
    ):
        conc = plant.concentrations(table, fld)
        for unit_id, row in conc.iterrows():
            for c in plant.contaminants:
                value = row[c]
                if table == "regenerators" and is_missing(value):
                    continue  # removal or pass-through: no fixed level to compare with
                options[c].append((0.0 if is_missing(value) else float(value), f"{label} '{unit_id}'"))
    return options


def _check_reachable_limits(plant: Plant, out: _Collector) -> None:
    options = _supply_options(plant)
    removal = plant.concentrations("regenerators", "removal")
    # (kind, id, {contaminant: (limit, what the limit is)})
    checks: list[tuple[str, str, dict[str, tuple[float, str]]]] = []
    for unit_id, row in plant.concentrations("sinks", "max").iterrows():
        checks.append(("sink", unit_id, {c: (row[c], "") for c in plant.contaminants}))
    max_outlet = plant.concentrations("operations", "max_outlet")
    for unit_id, row in plant.concentrations("operations", "max_inlet").iterrows():
        limits: dict[str, tuple[float, str]] = {}
        for c in plant.contaminants:
            if not is_missing(row[c]):
                limits[c] = (row[c], "")
            elif not is_missing(max_outlet.at[unit_id, c]):
                # water leaves an operation no cleaner than it came in, so the outlet limit bounds the inlet
                limits[c] = (max_outlet.at[unit_id, c], " at its outlet (max_outlet; no max_inlet is given)")
        checks.append(("operation", unit_id, limits))
    for kind, unit_id, limits in checks:
        for c, (limit, what) in limits.items():
            if is_missing(limit) or not options[c]:
                continue
            best, label = min(options[c])
            if best <= limit + 1e-12:
                continue
            if len(removal) and removal[c].notna().any():
                continue  # a removal regenerator might reach it; the optimizer decides
            supplies = [o for o in options[c] if o[1].startswith("supply")]
            cleanest = min(supplies)[1] if supplies else label
            out.error(
                "unreachable_limit", unit_id,
                f"{kind} '{unit_id}' needs {c} <= {_show(plant, limit, 'ppm')}{what} but the cleanest water "
                f"available ({label}, {_show(plant, best, 'ppm')}) is dirtier and no regenerator reaches it; "
                f"add a cleaner supply or a regenerator, or relax the limit (cleanest supply: {cleanest})",
            )
