"""Reading and writing plant files (``cascade-plant/1``, YAML or JSON).

The format is specified in the project's ``docs/plant-format.md`` (a public contract): this module
turns a file into a :class:`~cascade.Plant` in canonical units and back. Structural problems
(YAML syntax, a key given twice, wrong types, unknown fields, unknown units) are collected and
raised together as one :class:`~cascade.PlantDataError`; checks of meaning are in
:mod:`cascade.validation`.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import numbers
import os
import re
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from .economics import CLASS_KEYS, EXCHANGE_KEYS, LAYOUT_KEYS, METRICS, PIPE_COST_KEYS, PIPING_KEYS
from .eligibility import INDUSTRIES
from .exceptions import PlantDataError, summarise
from .metering import METER_KEYS, QUANTITY_FLOW, Meter
from .plant import FORMAT, KIND_NAMES, SCHEMA, Plant, is_missing
from .standards import STANDARD_FIELDS, STANDARD_WHERE, is_reference, reference_of, resolve_reference
from .units import accepted, factor

#: The format string of a park file (read by :mod:`cascade.park`).
PARK_FORMAT = "cascade-park/1"

TOP_LEVEL = (
    "format", "name", "description", "units", "hours_per_year", "contaminants", "freshwater",
    "sinks", "sources", "operations", "regenerators", "discharges", "connections", "objective", "finance", "layout",
    "periods", "industry", "indicators", "meters",
)
CONNECTION_KEYS = ("forbidden", "required", "existing", "min_flow", "pipe_cost", *PIPING_KEYS)
UNIT_KEYS = ("flow", "concentration", "load", "money")

# Which unit family scales each field of the plant file ('' = not scaled).
_FIELD_UNIT = {"flow": "flow", "max_flow": "flow", "water_loss": "flow", "min_flow": "flow", "load": "load"}
FINANCE_KEYS = ("interest_rate", "lifetime", "annualisation_factor")
PERIOD_KEYS = ("id", "hours", "changes", "description")
INDICATOR_KEYS = ("recirculation", "value_added", "it_energy", "production")
PRODUCT_KEYS = ("product", "amount", "unit", "share", "quota_advanced", "quota_source")
_CONC_FIELDS = ("quality", "max", "max_inlet", "max_outlet", "outlet")


def read_plant(source: str | os.PathLike | Mapping[str, Any], *, validate: bool = True) -> Plant:
    """Read a plant file (``cascade-plant/1``), a park file (``cascade-park/1``) or an already-parsed mapping.

    A park file (:mod:`cascade.park`) is merged into one plant whose units carry their ``plant``;
    its plant files are found relative to the park file (to the working directory for a mapping).

    Parameters
    ----------
    source : path or mapping
        A YAML or JSON file, or the mapping such a file holds (see :func:`parse_yaml`).
    validate : bool, default True
        Run :meth:`Plant.validate` and raise on errors (warnings are kept on
        ``plant.validation``).

    Returns
    -------
    Plant
        In canonical units (t/h, ppm, kg/h); ``plant.units`` keeps the file's units.

    Raises
    ------
    PlantDataError
        The file cannot be read, is empty, is not valid YAML or JSON (the message gives line and
        column), gives a key twice, or breaks the format. All problems found are listed in
        ``err.problems``.

    Examples
    --------
    >>> import cascade
    >>> plant = cascade.read_plant({"format": "cascade-plant/1", "name": "tiny",
    ...     "contaminants": ["C"], "freshwater": [{"id": "FW"}],
    ...     "sinks": [{"id": "D", "flow": 5, "max": {"C": 10}}]})
    >>> plant.sinks.loc["D", "flow"]
    np.float64(5.0)
    """
    if not isinstance(source, str | os.PathLike):  # parsed data (a mapping, or anything else by mistake)
        data: Any = source
        label = "plant data"
    else:
        label = str(Path(source))
        data = load_yaml_file(source)
        if data is None:  # nothing but blanks and comments
            raise PlantDataError(f"{label}: the file is empty; a plant file starts with 'format: {FORMAT}'")
    if isinstance(data, Mapping) and data.get("format") == PARK_FORMAT:
        from .park import park_from_dict

        base = Path(source).parent if isinstance(source, str | os.PathLike) else Path.cwd()
        plant = park_from_dict(data, base=base, label=label)
    else:
        plant = plant_from_dict(data, label=label)
    if validate:
        plant.validation = plant.validate(strict=True)
    return plant


class _DuplicateKey(yaml.MarkedYAMLError):
    """A mapping gives the same key twice (plain YAML would silently keep the last one)."""


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping.

    A second ``sinks:`` section (or ``flow:`` line) would otherwise silently replace the first.
    """

    def construct_mapping(self, node, deep=False):  # the PyYAML hook for every mapping
        if isinstance(node, yaml.MappingNode):
            first: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    seen = first.get(key)
                except TypeError:  # unhashable key: PyYAML reports it below
                    continue
                if seen is not None:
                    raise _DuplicateKey(
                        problem=f"'{key}' is given twice (first at line {seen + 1})",
                        problem_mark=key_node.start_mark,
                    )
                first[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


# YAML 1.2 numbers that PyYAML (YAML 1.1) reads as text: 4.0e8, 1e6, 2E-3 (1.1 wants a dot and a signed exponent)
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


_CONTEXTS = {"while parsing a flow sequence": "the [ ] list", "while parsing a flow mapping": "the { } mapping"}


def load_yaml_file(path: str | os.PathLike) -> Any:
    """Read and parse a YAML (or JSON) file; a missing, unreadable or malformed file is a PlantDataError
    naming the file. ``None`` for a file of blanks and comments."""
    label = str(Path(path))
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlantDataError(f"{label}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlantDataError(f"{label}: cannot be read ({exc})") from None
    return parse_yaml(text, label)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise PlantDataError(f"'{key}' is given twice in one JSON object")
        out[key] = value
    return out


def parse_yaml(text: str, label: str = "plant file") -> Any:
    """Parse YAML (or JSON) text into plain Python data.

    Parameters
    ----------
    text : str
        YAML or JSON. JSON that YAML cannot read (for example tab-indented) is read as JSON.
    label : str
        Name of the file, used in messages.

    Returns
    -------
    Any
        The parsed data (``None`` for an empty text).

    Raises
    ------
    PlantDataError
        A syntax error (with line and column, and the line where an unclosed bracket or quote
        started), or a key given twice in one mapping (with both lines).
    """
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: safe
    except _DuplicateKey as exc:
        mark = exc.problem_mark
        raise PlantDataError(
            f"{label}: line {mark.line + 1}: {exc.problem}; a later one would silently replace the "
            "earlier, so merge the two or remove one"
        ) from None
    except yaml.YAMLError as exc:
        as_json = _parse_json(text, label)
        if not isinstance(as_json, json.JSONDecodeError):
            return as_json
        if str(label).lower().endswith(".json") and text.lstrip().startswith(("{", "[")):
            # a JSON file: the JSON parser's message is the one that helps (YAML may only see a tab)
            raise PlantDataError(
                f"{label}: JSON syntax error at line {as_json.lineno}, column {as_json.colno}: {as_json.msg}"
            ) from None
        if not isinstance(exc, yaml.MarkedYAMLError):
            raise PlantDataError(f"{label}: not valid YAML ({exc})") from None
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        start = exc.context_mark
        opened = ""
        if exc.context and start is not None and (mark is None or start.line != mark.line):
            what = _CONTEXTS.get(exc.context) or (
                exc.context.removeprefix("while ").removeprefix("scanning ").removeprefix("parsing ")
            ).replace("scalar", "value")
            opened = f" ({what} that starts at line {start.line + 1}, column {start.column + 1})"
        raise PlantDataError(
            f"{label}: YAML syntax error at {where}: {exc.problem}{opened}. "
            "Check the indentation and the brackets on that line."
        ) from None


def _parse_json(text: str, label: str) -> Any:
    """Parse text as JSON; return the ``JSONDecodeError`` if it is not JSON."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        return exc
    except PlantDataError as exc:
        raise PlantDataError(f"{label}: {exc}") from None


class _Problems:
    """Collects structural problems so one message can list them all."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.items: list[str] = []

    def add(self, message: str) -> None:
        self.items.append(message)

    def raise_if_any(self) -> None:
        if self.items:
            raise PlantDataError(f"{self.label}: {summarise(self.items)}", problems=self.items)


def _unknown(key: str, allowed: tuple[str, ...] | list[str], where: str) -> str:
    close = difflib.get_close_matches(key, list(allowed), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else f"; allowed: {', '.join(allowed)}"
    return f"{where}: unknown field '{key}'{hint}"


def _as_number(value: Any, where: str, problems: _Problems) -> float | None:
    """Return a finite float, or None after recording a problem (None itself means 'not given')."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        problems.add(f"{where} must be a number, got {_short(value)}")
        return None
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if math.isnan(number) or math.isinf(number):
        problems.add(f"{where} must be a finite number, got {_short(value)}")
        return None
    return number


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:30]}... ({len(text)} characters)"


def _is_name(value: Any) -> bool:
    """True for a usable name or id: non-empty text or a number (YAML reads ``id: 7`` as 7)."""
    if isinstance(value, str):
        return bool(value.strip())
    return isinstance(value, int | float) and not isinstance(value, bool)


def plant_from_dict(data: Any, *, label: str = "plant data") -> Plant:
    """Build a :class:`Plant` from a parsed ``cascade-plant/1`` mapping (see :func:`read_plant`)."""
    problems = _Problems(label)
    if not isinstance(data, Mapping):
        problems.add("the file must hold a mapping (keys such as format, name, contaminants)")
        problems.raise_if_any()
    if "format" not in data:
        problems.add(f"missing the format line; the first line should be 'format: {FORMAT}'")
    elif data["format"] != FORMAT:
        problems.add(f"format is {data['format']!r}; this version reads '{FORMAT}'")
    for key in data:
        if key not in TOP_LEVEL:
            problems.add(_unknown(str(key), TOP_LEVEL, "top level"))
    name = data.get("name")
    if not _is_name(name):
        problems.add("missing 'name' (a line such as 'name: Dairy plant, line 2')")
    contaminants = data.get("contaminants")
    if not isinstance(contaminants, list) or not contaminants or not all(_is_name(c) for c in contaminants):
        flags = [c for c in contaminants if isinstance(c, bool)] if isinstance(contaminants, list) else []
        hint = (
            "; YAML reads NO, ON, YES, OFF, TRUE and FALSE as true/false, so quote such a name: ['NO']"
            if flags else ""
        )
        problems.add(f"'contaminants' must be a list of one or more names, e.g. [COD, SS]{hint}")
        contaminants = []
    units = _read_units(data.get("units"), problems)
    scale = {q: factor(q, units[q]) for q in ("flow", "concentration", "load") if units[q] in accepted(q)}
    hours = _as_number(data.get("hours_per_year", 8000), "hours_per_year", problems)
    objective = data.get("objective", "freshwater")
    problems.raise_if_any()

    plant = Plant(
        str(name),
        [str(c) for c in contaminants],
        description=str(data.get("description") or ""),
        units=units,
        hours_per_year=8000.0 if hours is None else hours,
        objective=objective,
        finance=_read_finance(data.get("finance"), problems),
        layout=_read_layout(data.get("layout"), problems),
        periods=_read_periods(data.get("periods"), problems),
        industry=_read_industry(data.get("industry"), problems),
        indicator_data=_read_indicators(data.get("indicators"), scale.get("flow", 1.0), problems),
        meters=_read_meters(data.get("meters"), scale, problems),
    )
    for table in SCHEMA:
        _read_table(plant, table, data.get(table), scale, problems)
    _read_connections(plant, data.get("connections"), scale, problems)
    problems.raise_if_any()
    return plant


def _read_finance(raw: Any, problems: _Problems) -> dict[str, float]:
    """``finance: {interest_rate, lifetime}`` or ``{annualisation_factor}`` (turns capital into money/yr)."""
    if raw is None:
        return {}
    return _numbers(raw, "finance", "'finance'", FINANCE_KEYS, "{interest_rate: 0.08, lifetime: 10}", problems)


def _numbers(raw: Any, where: str, name: str, keys: tuple[str, ...], example: str,
             problems: _Problems) -> dict[str, float]:
    """A mapping of the allowed ``keys`` to numbers, at ``where`` (called ``name`` in the message that it is not a
    mapping); unknown keys and values that are not numbers are reported and left out."""
    if not isinstance(raw, Mapping):
        problems.add(f"{name} must be a mapping such as {example}")
        return {}
    out = {}
    for key, value in raw.items():
        if key not in keys:
            problems.add(_unknown(str(key), keys, where))
            continue
        number = _as_number(value, f"{where}.{key}", problems)
        if number is not None:
            out[str(key)] = number
    return out


def _read_industry(raw: Any, problems: _Problems) -> str | None:
    """``industry``: one of :data:`cascade.eligibility.INDUSTRIES`."""
    if raw is None:
        return None
    if raw not in INDUSTRIES:
        problems.add(f"industry {_short(raw)} is not known; use one of {', '.join(INDUSTRIES)}")
        return None
    return str(raw)


def _read_indicators(raw: Any, flow_scale: float, problems: _Problems) -> dict[str, Any]:
    """``indicators: {recirculation, value_added, it_energy, production}`` (:func:`cascade.kpi.plant_indicators`).

    ``recirculation`` is in the file's flow unit (stored in t/h), a number or a mapping of loop
    names to flows; ``value_added`` in money per year, ``it_energy`` in kWh per year;
    ``production`` a list of ``{product, amount (per year), unit, share, quota_advanced (m3 per
    unit of product), quota_source}``.
    """
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.add("'indicators' must be a mapping such as {recirculation: 200, value_added: 5.0e7}")
        return {}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in INDICATOR_KEYS:
            problems.add(_unknown(str(key), INDICATOR_KEYS, "indicators"))
            continue
        if key == "recirculation":
            loops = value if isinstance(value, Mapping) else None
            numbers = {str(k): _as_number(v, f"indicators.recirculation.{k}", problems)
                       for k, v in (loops or {}).items()}
            if loops is None:
                number = _as_number(value, "indicators.recirculation", problems)
                numbers = {"": number}
            if any(v is not None and v < 0 for v in numbers.values()):
                problems.add("indicators.recirculation: flows must not be negative")
            elif all(v is not None for v in numbers.values()):
                scaled = {k: v * flow_scale for k, v in numbers.items()}
                out[key] = scaled[""] if loops is None else scaled
        elif key == "production":
            out[key] = _read_production(value, problems)
        else:
            number = _as_number(value, f"indicators.{key}", problems)
            if number is not None and not number > 0:
                problems.add(f"indicators.{key} must be positive, got {_short(value)}")
            elif number is not None:
                out[key] = number
    return out


def _read_meters(raw: Any, scale: dict[str, float], problems: _Problems) -> list[Meter]:
    """``meters: [{id, at, quantity, rsd | sd | accuracy_class, repeatability, level, description}]``
    (:mod:`cascade.metering`).

    Structure only (types, keys, numbers); the meaning (ids, units, one accuracy) is checked by
    :func:`cascade.metering.meter_problems` when the plant is validated.
    """
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.add("'meters' must be a list of meters such as [{id: FT-101, at: mains, rsd: 0.02}]")
        return []
    meters = (_read_meter(where, entry, scale, problems) for where, entry in _entries(raw, "meters", METER_KEYS,
                                                                                          problems))
    return [m for m in meters if m is not None]


def _read_meter(where: str, entry: Mapping[str, Any], scale: dict[str, float], problems: _Problems,
                pipe: str = "[from, to]", prefix: str = "") -> Meter | None:
    """One meter entry (plant file or meter table) in canonical units, or None after recording its problems.

    ``where`` names the entry until its id is known (``meters[2]``, ``row 3``), then ``<prefix>meter '<id>'``;
    ``pipe`` is how a pipe is written where the entry comes from; ``sd`` is in the file's flow unit for a flow
    meter, its concentration unit for an analyser.
    """
    before = len(problems.items)
    name = entry.get("id")
    if _is_name(name):
        where = f"{prefix}meter '{name}'"
    else:
        problems.add(f"{where} needs an 'id' (the meter's tag, e.g. FT-101)" if name is None
                     else f"{where}: 'id' must be a name such as FT-101, got {_short(name)}")
    at = entry.get("at")
    location: Any = None
    if at is None:
        problems.add(f"{where} needs 'at' (a unit id, or a pipe {pipe})")
    elif _is_name(at):
        location = str(at)
    elif isinstance(at, list | tuple) and len(at) == 2 and all(_is_name(x) for x in at):
        location = (str(at[0]), str(at[1]))
    else:
        problems.add(f"{where}: 'at' must be a unit id or a pipe {pipe}, got {_short(at)}")
    quantity = entry.get("quantity")
    if quantity is None:
        quantity = QUANTITY_FLOW
    elif not _is_name(quantity):
        problems.add(f"{where}: 'quantity' must be flow or a contaminant name, got {_short(quantity)}")
    quantity = str(quantity)
    numbers_: dict[str, Any] = {}
    for key in ("rsd", "sd", "accuracy_class", "repeatability", "level"):
        numbers_[key] = _as_number(entry.get(key), f"{where}: '{key}'", problems)
    if numbers_["sd"] is not None:
        numbers_["sd"] *= scale.get("flow" if quantity == QUANTITY_FLOW else "concentration", 1.0)
    level = numbers_.pop("level")
    if level is not None and level.is_integer():
        level = int(level)  # any other number is reported by the validation
    description = entry.get("description")
    if len(problems.items) > before:
        return None
    return Meter(str(name), location, quantity, level=level, description="" if description is None
                 else str(description), **numbers_)


def _meters_out(meters: list[Meter], scale: dict[str, float]) -> list[dict[str, Any]]:
    """The plant's meters in the file's units (the inverse of :func:`_read_meters`)."""
    out = []
    for meter in meters:
        where = f"meter '{meter.id}'"
        row: dict[str, Any] = {"id": meter.id, "at": list(meter.at) if meter.on_pipe else meter.at,
                               "quantity": meter.quantity}
        for key in ("rsd", "sd", "accuracy_class", "repeatability"):
            value = getattr(meter, key)
            if value is not None:
                divisor = (scale["flow"] if meter.is_flow else scale["concentration"]) if key == "sd" else 1.0
                row[key] = _plain(value, divisor, f"{where}: {key}")
        if meter.level is not None:
            row["level"] = meter.level
        if meter.description:
            row["description"] = meter.description
        out.append(row)
    return out


def _entries(raw: list, name: str, keys: tuple[str, ...], problems: _Problems) -> Iterator[tuple[str, Mapping]]:
    """The mapping entries of a list field with where each is (``name[k]``), after reporting entries that are
    not mappings (skipped) and unknown keys."""
    for k, entry in enumerate(raw):
        where = f"{name}[{k}]"
        if not isinstance(entry, Mapping):
            problems.add(f"{where} must be a mapping with {', '.join(keys[:3])}")
            continue
        for key in entry:
            if key not in keys:
                problems.add(_unknown(str(key), keys, where))
        yield where, entry


def _read_production(raw: Any, problems: _Problems) -> list[dict[str, Any]]:
    """``indicators.production``: products with their yearly output and optional quota."""
    if not isinstance(raw, list) or not raw:
        problems.add("indicators.production must be a list such as [{product: juice, amount: 40000, unit: t}]")
        return []
    out = []
    for where, entry in _entries(raw, "indicators.production", PRODUCT_KEYS, problems):
        if not _is_name(entry.get("product")):
            problems.add(f"{where} needs 'product' (a name)")
            continue
        product: dict[str, Any] = {"product": str(entry["product"]), "unit": str(entry.get("unit") or "")}
        for key in ("amount", "share", "quota_advanced"):
            if entry.get(key) is None:
                continue
            number = _as_number(entry[key], f"{where} {key}", problems)
            if number is not None and not number > 0:
                problems.add(f"{where} {key} must be positive, got {_short(entry[key])}")
            elif number is not None:
                product[key] = number
        if entry.get("amount") is None:
            problems.add(f"{where} needs 'amount' (output per year)")
        if entry.get("quota_source") is not None:
            product["quota_source"] = str(entry["quota_source"])
        out.append(product)
    if len(out) > 1 and any("share" not in p for p in out):
        problems.add("indicators.production: with several products each needs 'share', the fraction of the intake "
                     "that serves it")
    if sum(p.get("share", 1.0) for p in out) > 1 + 1e-9:
        problems.add("indicators.production: the shares add up to more than 1")
    return out


def _read_periods(raw: Any, problems: _Problems) -> list[dict[str, Any]]:
    """``periods: [{id, hours, changes: {dotted path: value}, description}]`` (:mod:`cascade.periods`).

    The changes are kept as written (plant-file units); their paths are checked when the
    periods are applied (:func:`cascade.periods.period_plants`).
    """
    if raw is None:
        return []
    if not isinstance(raw, list) or not raw:
        problems.add("'periods' must be a list of periods such as [{id: summer, hours: 4000, changes: {...}}]")
        return []
    out, seen = [], set()
    for where, entry in _entries(raw, "periods", PERIOD_KEYS, problems):
        name = entry.get("id")
        if not _is_name(name):
            problems.add(f"{where} needs an 'id' (a name such as summer)")
            continue
        where = f"period '{name}'"
        if str(name) in seen:
            problems.add(f"{where} is given twice")
        seen.add(str(name))
        hours = _as_number(entry.get("hours"), f"{where} hours", problems)
        if entry.get("hours") is None:
            problems.add(f"{where} needs 'hours' (operating hours a year in this period)")
        elif hours is not None and not hours > 0:
            problems.add(f"{where} hours must be positive, got {_short(entry.get('hours'))}")
        changes = entry.get("changes") or {}
        if not isinstance(changes, Mapping) or not all(isinstance(p, str) for p in changes):
            problems.add(f"{where} changes must map dotted paths (e.g. sinks.boiler.flow) to values")
            changes = {}
        period = {"id": str(name), "hours": hours, "changes": dict(changes)}
        if entry.get("description"):
            period["description"] = str(entry["description"])
        out.append(period)
    return out


def _read_units(raw: Any, problems: _Problems) -> dict[str, str]:
    units = {"flow": "t/h", "concentration": "ppm", "load": "kg/h", "money": "CNY"}
    if raw is None:
        return units
    if not isinstance(raw, Mapping):
        problems.add("'units' must be a mapping such as {flow: t/h, concentration: ppm}")
        return units
    for key, value in raw.items():
        if key not in UNIT_KEYS:
            problems.add(_unknown(str(key), UNIT_KEYS, "units"))
            continue
        if key != "money" and value not in accepted(key):
            problems.add(f"units: {key} unit {value!r} is not known; use one of {', '.join(accepted(key))}")
            continue
        units[key] = str(value)
    return units


def _read_table(plant: Plant, table: str, raw: Any, scale: dict[str, float], problems: _Problems) -> None:
    if raw is None:
        return
    kind = KIND_NAMES[table]
    if not isinstance(raw, list):
        problems.add(f"'{table}' must be a list of {kind}s, each starting with '- id: ...'")
        return
    fields = {f.name: f for f in SCHEMA[table]}
    file_fields = _file_fields(table)
    for position, item in enumerate(raw, start=1):
        if not isinstance(item, Mapping) or "id" not in item:
            problems.add(f"{table} entry {position} must be a mapping with an 'id'")
            continue
        if not _is_name(item["id"]):
            problems.add(f"{table} entry {position}: 'id' must be a name, got {item['id']!r}")
            continue
        unit_id = str(item["id"])
        where = f"{kind} '{unit_id}'"
        values: dict[str, Any] = {}
        sources: dict[str, dict[str, Any]] = {}
        for key, value in item.items():
            if key == "id":
                continue
            if key not in file_fields:
                problems.add(_unknown(str(key), file_fields, where))
                continue
            if key == "cost":  # regenerator cost: {fixed, per_t}
                values.update(_read_cost(value, where, problems))
                continue
            field = fields[key]
            if field.kind == "conc" and is_reference(value):  # max: {standard: ..., use: ...}
                values[key] = _read_reference(plant, table, key, value, where, scale, problems, sources)
                continue
            values[key] = _read_value(field, value, where, scale, problems)
        for field in SCHEMA[table]:
            if field.required and item.get(field.name) is None:  # a bad value was reported above
                problems.add(f"{where} needs '{field.name}' ({field.doc}, in {plant.units['flow']})")
        plant._add(table, unit_id, **{k: v for k, v in values.items() if v is not None})
        for key, source in sources.items():
            plant.limit_sources[(table, unit_id, key)] = source


def _read_reference(
    plant: Plant, table: str, key: str, value: Mapping[str, Any], where: str, scale: dict[str, float],
    problems: _Problems, sources: dict[str, dict[str, Any]],
) -> dict[str, float] | None:
    """A limit written as a standard reference (:mod:`cascade.standards`): its numbers in ppm, or None
    after recording every problem; its source goes to ``sources[key]``."""
    if (table, key) not in STANDARD_FIELDS:
        problems.add(f"{where}: '{key}' cannot name a standard; {STANDARD_WHERE} can")
        return None
    try:
        limits, sources[key] = resolve_reference(
            value, plant.contaminants, concentration_factor=scale.get("concentration", 1.0)
        )
    except PlantDataError as exc:
        for problem in exc.problems:
            problems.add(f"{where}: {key}: {problem}")
        return None
    return limits


def _file_fields(table: str) -> list[str]:
    names = [f.name for f in SCHEMA[table] if not f.name.startswith("cost_")]
    return names + (["cost"] if table == "regenerators" else [])


def _read_cost(value: Any, where: str, problems: _Problems) -> dict[str, float]:
    if not isinstance(value, Mapping):
        problems.add(f"{where}: 'cost' must be a mapping such as {{fixed: 0, per_t: 0}}")
        return {}
    out: dict[str, float] = {}
    for key, amount in value.items():
        if key not in ("fixed", "per_t", "capital"):
            problems.add(_unknown(str(key), ("fixed", "per_t", "capital"), f"{where} cost"))
            continue
        if key == "capital":  # {a, b}: investment a * Q^b with Q in t/h
            if not isinstance(amount, Mapping) or set(amount) - {"a", "b"} or "a" not in amount:
                problems.add(
                    f"{where}: cost.capital must be a mapping such as {{a: 16800, b: 0.7}} (a * Q^b, Q in t/h)"
                )
                continue
            for part in ("a", "b"):
                number = _as_number(amount.get(part), f"{where}: cost.capital.{part}", problems)
                if number is not None:
                    out[f"cost_capital_{part}"] = number
            continue
        number = _as_number(amount, f"{where}: cost.{key}", problems)
        if number is not None:
            out[f"cost_{key}"] = number
    return out


def _read_value(field, value: Any, where: str, scale: dict[str, float], problems: _Problems) -> Any:
    if field.kind == "float":
        number = _as_number(value, f"{where}: '{field.name}'", problems)
        if number is None:
            return None
        return number * scale.get(_FIELD_UNIT.get(field.name, ""), 1.0)
    if field.kind == "bool":
        if not isinstance(value, bool):
            problems.add(f"{where}: '{field.name}' must be true or false, got {value!r}")
            return None
        return value
    if field.kind == "str":
        return None if value is None else str(value)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        problems.add(f"{where}: '{field.name}' must map contaminant names to numbers, e.g. {{COD: 10}}")
        return None
    factor_ = scale.get("load", 1.0) if field.name == "load" else (
        scale.get("concentration", 1.0) if field.name in _CONC_FIELDS else 1.0
    )
    out: dict[str, float] = {}
    for c, v in value.items():
        number = _as_number(v, f"{where}: '{field.name}.{c}'", problems)
        if number is not None:
            out[str(c)] = number * factor_
    return out


def _pairs(raw: Any, name: str, size: int, problems: _Problems) -> list[list[Any]]:
    if raw is None:
        return []
    shape = "[from, to]" if size == 2 else "[from, to, flow]"
    if not isinstance(raw, list) or not all(isinstance(p, list) and len(p) == size for p in raw):
        problems.add(f"connections.{name} must be a list of {shape} entries")
        return []
    return raw


def _read_connections(plant: Plant, raw: Any, scale: dict[str, float], problems: _Problems) -> None:
    if raw is None:
        return
    if not isinstance(raw, Mapping):
        problems.add("'connections' must be a mapping (forbidden, required, existing, min_flow, pipe_cost)")
        return
    for key in raw:
        if key not in CONNECTION_KEYS:
            problems.add(_unknown(str(key), CONNECTION_KEYS, "connections"))
    for a, b in _pairs(raw.get("forbidden"), "forbidden", 2, problems):
        plant.forbid(a, b)
    for a, b in _pairs(raw.get("required"), "required", 2, problems):
        plant.require(a, b)
    for a, b, flow in _pairs(raw.get("existing"), "existing", 3, problems):
        if flow is None:
            problems.add(f"connections.existing [{a}, {b}, null]: give today's flow of the pipe (0 if unused)")
            continue
        number = _as_number(flow, f"connections.existing [{a}, {b}]: flow", problems)
        if number is not None:
            plant.add_existing(a, b, number * scale.get("flow", 1.0))
    min_flow = _as_number(raw.get("min_flow", 0), "connections.min_flow", problems)
    plant.min_flow = (min_flow or 0.0) * scale.get("flow", 1.0)
    pipe_cost = raw.get("pipe_cost")
    if pipe_cost is not None:
        if not isinstance(pipe_cost, Mapping):
            problems.add(
                "connections.pipe_cost must be a mapping such as {fixed: 5000, capital: 20000, per_metre: 300}"
            )
        else:
            for key in pipe_cost:
                if key not in PIPE_COST_KEYS:
                    problems.add(_unknown(str(key), PIPE_COST_KEYS, "connections.pipe_cost"))
            plant.pipe_cost_fixed = _as_number(pipe_cost.get("fixed", 0), "pipe_cost.fixed", problems) or 0.0
            for key in ("capital", "per_metre"):
                number = _as_number(pipe_cost.get(key), f"connections.pipe_cost.{key}", problems)
                if number is not None:
                    plant.piping[key] = number
            if pipe_cost.get("classes") is not None:
                plant.piping["classes"] = _read_classes(pipe_cost["classes"], scale, problems)
            if pipe_cost.get("exchange") is not None:
                plant.piping["exchange"] = _read_exchange(pipe_cost["exchange"], problems)
    for key in PIPING_KEYS:
        number = _as_number(raw.get(key), f"connections.{key}", problems)
        if number is not None:
            plant.piping[key] = number


def _read_exchange(raw: Any, problems: _Problems) -> dict[str, float]:
    """``pipe_cost.exchange: {capital, per_metre}``: a pipe between the plants of a park (money, money/m)."""
    where = "connections.pipe_cost.exchange"
    return _numbers(raw, where, where, EXCHANGE_KEYS, "{capital: 60000, per_metre: 900}", problems)


def _read_classes(raw: Any, scale: dict[str, float], problems: _Problems) -> list[dict[str, float]]:
    """``pipe_cost.classes``: a list of ``{max_flow, capital, per_metre}`` (max_flow in flow units)."""
    if not isinstance(raw, list) or not all(isinstance(c, Mapping) for c in raw):
        problems.add("connections.pipe_cost.classes must be a list such as [{max_flow: 10, capital: 15000, "
                     "per_metre: 250}, {max_flow: 50, capital: 25000, per_metre: 450}]")
        return []
    out = []
    for n, entry in enumerate(raw):
        for key in entry:
            if key not in CLASS_KEYS:
                problems.add(_unknown(str(key), CLASS_KEYS, f"connections.pipe_cost.classes[{n}]"))
        row = {}
        for key in CLASS_KEYS:
            number = _as_number(entry.get(key), f"connections.pipe_cost.classes[{n}].{key}", problems)
            if number is not None:
                row[key] = number * (scale.get("flow", 1.0) if key == "max_flow" else 1.0)
        out.append(row)
    return out


def _read_layout(raw: Any, problems: _Problems) -> dict[str, Any]:
    """``layout: {coordinates: {id: [x, y]}, metric, distances: [[a, b, metres]], plants, plant_distances}``."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.add("'layout' must be a mapping such as {coordinates: {OP1: [0, 0], OP2: [40, 15]}}")
        return {}
    out: dict[str, Any] = {}
    for key in raw:
        if key not in LAYOUT_KEYS:
            problems.add(_unknown(str(key), LAYOUT_KEYS, "layout"))
    for key, what in (("coordinates", "unit ids"), ("plants", "plant ids (the gate of each plant of a park)")):
        points = raw.get(key)
        if points is None:
            continue
        if not isinstance(points, Mapping):
            problems.add(f"layout.{key} must map {what} to [x, y] in metres")
            continue
        out[key] = {}
        for unit, xy in points.items():
            if not isinstance(xy, list | tuple) or len(xy) != 2:
                problems.add(f"layout.{key}.{unit} must be [x, y] in metres, got {_short(xy)}")
                continue
            x = _as_number(xy[0], f"layout.{key}.{unit} x", problems)
            y = _as_number(xy[1], f"layout.{key}.{unit} y", problems)
            if x is not None and y is not None:
                out[key][str(unit)] = (x, y)
    metric = raw.get("metric")
    if metric is not None:
        if metric not in METRICS:
            problems.add(f"layout.metric {metric!r} is not known; use one of {', '.join(METRICS)}")
        else:
            out["metric"] = str(metric)
    for key in ("distances", "plant_distances"):
        distances = raw.get(key)
        if distances is None:
            continue
        if not isinstance(distances, list) or not all(isinstance(d, list) and len(d) == 3 for d in distances):
            problems.add(f"layout.{key} must be a list of [from, to, metres] entries")
            continue
        out[key] = []
        for a, b, metres in distances:
            number = _as_number(metres, f"layout.{key} [{a}, {b}]", problems)
            if number is not None:
                out[key].append((str(a), str(b), number))
    return out


# ---------------------------------------------------------------------- writing
def plant_to_dict(plant: Plant) -> dict[str, Any]:
    """Return the plant as a ``cascade-plant/1`` mapping in the plant's declared units.

    Only given values are written (defaults and absent limits are left out), so reading the
    result gives back an equal plant. A limit taken from a standard is written as its reference
    (``{standard, use, ...}`` and the plant's own numbers), not as the numbers it gave. Each number
    is written as the shortest decimal that reads back to exactly the stored value (``0.027`` kg/s,
    not ``0.026999999999999996``).

    Raises
    ------
    PlantDataError
        The plant declares a unit this version does not know, or holds an infinite number
        (neither could be read back).
    """
    scale: dict[str, float] = {}
    for quantity in ("flow", "concentration", "load"):
        unit = plant.units.get(quantity)
        if unit not in accepted(quantity):
            raise PlantDataError(
                f"cannot write plant '{plant.name}': {quantity} unit {unit!r} is not known; "
                f"use one of {', '.join(accepted(quantity))}"
            )
        scale[quantity] = factor(quantity, unit)
    out: dict[str, Any] = {"format": FORMAT, "name": plant.name}
    if plant.description:
        out["description"] = plant.description
    out["units"] = dict(plant.units)
    out["hours_per_year"] = _plain(plant.hours_per_year, where="hours_per_year")
    out["contaminants"] = list(plant.contaminants)
    for table in SCHEMA:
        records = plant.records(table)
        if not records:
            continue
        rows = []
        for record in records:
            row: dict[str, Any] = {"id": record.id}
            where = f"{KIND_NAMES[table]} '{record.id}'"
            for field in SCHEMA[table]:
                value = record.values.get(field.name)
                if value is None or (field.kind != "conc" and is_missing(value)):
                    continue
                if field.name.startswith("cost_capital_"):
                    row.setdefault("cost", {}).setdefault("capital", {})[field.name[13:]] = _plain(
                        value, where=f"{where}: {field.name}"
                    )
                elif field.name.startswith("cost_"):
                    row.setdefault("cost", {})[field.name[5:]] = _plain(value, where=f"{where}: {field.name}")
                elif (table, record.id, field.name) in plant.limit_sources:  # the standard, not its numbers
                    source = plant.limit_sources[(table, record.id, field.name)]
                    row[field.name] = {**reference_of(source), **{
                        c: _plain(o["value"], scale["concentration"], f"{where}: {field.name}.{c}")
                        for c, o in source["overrides"].items()
                    }}
                elif field.kind == "conc":
                    divisor = scale["load"] if field.name == "load" else (
                        scale["concentration"] if field.name in _CONC_FIELDS else 1.0
                    )
                    given = {  # a NaN entry means "not given", as in the table
                        c: _plain(v, divisor, f"{where}: {field.name}.{c}")
                        for c, v in value.items()
                        if not is_missing(v)
                    }
                    if given:
                        row[field.name] = given
                elif field.kind == "float":
                    divisor = scale.get(_FIELD_UNIT.get(field.name, ""), 1.0)
                    row[field.name] = _plain(value, divisor, f"{where}: {field.name}")
                else:
                    row[field.name] = value
            rows.append(row)
        out[table] = rows
    connections: dict[str, Any] = {}
    if plant.forbidden:
        connections["forbidden"] = [list(p) for p in plant.forbidden]
    if plant.required:
        connections["required"] = [list(p) for p in plant.required]
    if plant.existing:
        connections["existing"] = [
            [a, b, _plain(f, scale["flow"], f"connections.existing [{a}, {b}]")] for a, b, f in plant.existing
        ]
    if plant.min_flow:
        connections["min_flow"] = _plain(plant.min_flow, scale["flow"], "connections.min_flow")
    pipe_cost: dict[str, Any] = {}
    if plant.pipe_cost_fixed:
        pipe_cost["fixed"] = _plain(plant.pipe_cost_fixed, where="connections.pipe_cost.fixed")
    for key in ("capital", "per_metre"):
        if key in plant.piping:
            pipe_cost[key] = _plain(plant.piping[key], where=f"connections.pipe_cost.{key}")
    if "exchange" in plant.piping:
        pipe_cost["exchange"] = {k: _plain(v, where=f"connections.pipe_cost.exchange.{k}")
                                 for k, v in plant.piping["exchange"].items()}
    if "classes" in plant.piping:
        pipe_cost["classes"] = [
            {k: _plain(v, scale["flow"] if k == "max_flow" else 1.0, f"connections.pipe_cost.classes.{k}")
             for k, v in c.items()}
            for c in plant.piping["classes"]
        ]
    if pipe_cost:
        connections["pipe_cost"] = pipe_cost
    for key in PIPING_KEYS:
        if plant.piping.get(key) is not None:
            connections[key] = _plain(plant.piping[key], where=f"connections.{key}")
    if connections:
        out["connections"] = connections
    out["objective"] = plant.objective
    if plant.finance:
        out["finance"] = {k: _plain(v, where=f"finance.{k}") for k, v in plant.finance.items()}
    if plant.layout:
        layout: dict[str, Any] = {}
        for key in ("coordinates", "plants"):
            if key in plant.layout:
                layout[key] = {
                    u: [_plain(x, where=f"layout.{key}.{u}"), _plain(y, where=f"layout.{key}.{u}")]
                    for u, (x, y) in plant.layout[key].items()
                }
        if "metric" in plant.layout:
            layout["metric"] = plant.layout["metric"]
        for key in ("distances", "plant_distances"):
            if key in plant.layout:
                layout[key] = [[a, b, _plain(m, where=f"layout.{key} [{a}, {b}]")] for a, b, m in plant.layout[key]]
        out["layout"] = layout
    if plant.periods:
        out["periods"] = [copy.deepcopy(p) for p in plant.periods]
    if plant.industry is not None:
        out["industry"] = plant.industry
    if plant.indicator_data:
        out["indicators"] = _indicators_out(plant.indicator_data, scale["flow"])
    if plant.meters:
        out["meters"] = _meters_out(plant.meters, scale)
    return out


def _indicators_out(data: Mapping[str, Any], flow_scale: float) -> dict[str, Any]:
    """The plant's ``indicators`` in the file's units (the inverse of :func:`_read_indicators`)."""
    out = copy.deepcopy(dict(data))
    loops = out.get("recirculation")
    if isinstance(loops, Mapping):
        out["recirculation"] = {k: _plain(v, flow_scale, f"indicators.recirculation.{k}") for k, v in loops.items()}
    elif loops is not None:
        out["recirculation"] = _plain(loops, flow_scale, "indicators.recirculation")
    for key in ("value_added", "it_energy"):
        if key in out:
            out[key] = _plain(out[key], where=f"indicators.{key}")
    for product in out.get("production", ()):
        for key in ("amount", "share", "quota_advanced"):
            if key in product:
                product[key] = _plain(product[key], where=f"indicators.production {key}")
    return out


def _plain(value: float, divisor: float = 1.0, where: str = "a value") -> float | int:
    """``value / divisor`` as the shortest decimal that reads back to exactly ``value`` (an int if whole)."""
    value = float(value)
    if not math.isfinite(value):
        raise PlantDataError(f"cannot write {where}: it is {value}, and a plant file holds finite numbers only")
    shown = value / divisor
    if divisor != 1.0:
        for digits in range(1, 18):
            candidate = float(f"{shown:.{digits}g}")
            if candidate * divisor == value:  # what read_plant will compute
                shown = candidate
                break
    return int(shown) if shown.is_integer() and abs(shown) < 1e15 else shown


def yaml_text(plant: Plant) -> str:
    """Return the plant as ``cascade-plant/1`` YAML text."""
    return yaml.safe_dump(plant_to_dict(plant), sort_keys=False, allow_unicode=True, default_flow_style=None)


def write_plant(plant: Plant, path: str | os.PathLike) -> None:
    """Write the plant to ``path`` (YAML, or JSON when the name ends in ``.json``), atomically."""
    import json

    path = Path(path)
    text = (
        json.dumps(plant_to_dict(plant), indent=2, ensure_ascii=False) + "\n"
        if path.suffix.lower() == ".json"
        else yaml_text(plant)
    )
    write_text_atomic(path, text)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write text (UTF-8) to a temporary file beside ``path`` and rename it, so nothing is half written.

    The file keeps the permissions of the file it replaces; a new file gets the usual ones
    (``0o666`` less the umask), not the owner-only ones of :func:`tempfile.mkstemp`.
    """
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write bytes as :func:`write_text_atomic` writes text."""
    path = Path(path)
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:  # pragma: no cover - a 48-bit name collision
            continue
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
