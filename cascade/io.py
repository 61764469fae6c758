"""Reading and writing plant files (``cascade-plant/1``, YAML or JSON).

The format is specified in the project's ``PLANT_FORMAT.md`` (a public contract): this module
turns a file into a :class:`~cascade.Plant` in canonical units and back. Structural problems
(YAML syntax, wrong types, unknown fields, unknown units) are collected and raised together as
one :class:`~cascade.PlantDataError`; checks of meaning are in :mod:`cascade.validation`.
"""

from __future__ import annotations

import difflib
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .exceptions import PlantDataError
from .plant import FORMAT, KIND_NAMES, SCHEMA, Plant, is_missing
from .units import accepted, factor

TOP_LEVEL = (
    "format", "name", "description", "units", "hours_per_year", "contaminants", "freshwater",
    "sinks", "sources", "operations", "regenerators", "discharges", "connections", "objective",
)
CONNECTION_KEYS = ("forbidden", "required", "existing", "min_flow", "pipe_cost")
UNIT_KEYS = ("flow", "concentration", "load", "money")

# Which unit family scales each field of the plant file ('' = not scaled).
_FIELD_UNIT = {"flow": "flow", "max_flow": "flow", "load": "load"}
_CONC_FIELDS = ("quality", "max", "max_inlet", "max_outlet", "outlet")


def read_plant(source: str | os.PathLike | Mapping[str, Any], *, validate: bool = True) -> Plant:
    """Read a plant file (``cascade-plant/1``) or an already-parsed mapping.

    Parameters
    ----------
    source : path or mapping
        A YAML or JSON file, or the mapping such a file holds.
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
        The file cannot be read, is not valid YAML (the message gives line and column), or
        breaks the format. All problems found are listed in ``err.problems``.

    Examples
    --------
    >>> import cascade
    >>> plant = cascade.read_plant({"format": "cascade-plant/1", "name": "tiny",
    ...     "contaminants": ["C"], "freshwater": [{"id": "FW"}],
    ...     "sinks": [{"id": "D", "flow": 5, "max": {"C": 10}}]})
    >>> plant.sinks.loc["D", "flow"]
    np.float64(5.0)
    """
    if isinstance(source, Mapping):
        data: Any = source
        label = "plant data"
    else:
        path = Path(source)
        label = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise PlantDataError(f"{label}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise PlantDataError(f"{label}: cannot be read ({exc})") from None
        data = parse_yaml(text, label)
    plant = plant_from_dict(data, label=label)
    if validate:
        plant.validation = plant.validate(strict=True)
    return plant


def parse_yaml(text: str, label: str = "plant file") -> Any:
    """Parse YAML (or JSON) text; a syntax error becomes a PlantDataError with line and column."""
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise PlantDataError(
            f"{label}: YAML syntax error at {where}: {exc.problem}. "
            "Check the indentation and the brackets on that line."
        ) from None
    except yaml.YAMLError as exc:
        raise PlantDataError(f"{label}: not valid YAML ({exc})") from None


class _Problems:
    """Collects structural problems so one message can list them all."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.items: list[str] = []

    def add(self, message: str) -> None:
        self.items.append(message)

    def raise_if_any(self) -> None:
        if self.items:
            head = self.items[0] if len(self.items) == 1 else (
                f"{len(self.items)} problems: " + "; ".join(self.items)
            )
            raise PlantDataError(f"{self.label}: {head}", problems=self.items)


def _unknown(key: str, allowed: tuple[str, ...] | list[str], where: str) -> str:
    close = difflib.get_close_matches(key, list(allowed), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else f"; allowed: {', '.join(allowed)}"
    return f"{where}: unknown field '{key}'{hint}"


def _as_number(value: Any, where: str, problems: _Problems) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.add(f"{where} must be a number, got {value!r}")
        return None
    if math.isnan(value) or math.isinf(value):
        problems.add(f"{where} must be a finite number, got {value!r}")
        return None
    return float(value)


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
    if not isinstance(name, str) or not name.strip():
        problems.add("missing 'name' (a line such as 'name: Dairy plant, line 2')")
    contaminants = data.get("contaminants")
    if (
        not isinstance(contaminants, list)
        or not contaminants
        or not all(isinstance(c, str | int) for c in contaminants)
    ):
        problems.add("'contaminants' must be a list of one or more names, e.g. [COD, SS]")
        contaminants = []
    units = _read_units(data.get("units"), problems)
    scale = {q: factor(q, units[q]) for q in ("flow", "concentration", "load") if units[q] in accepted(q)}
    hours = _as_number(data.get("hours_per_year", 8000), "hours_per_year", problems)
    objective = data.get("objective", "freshwater")
    problems.raise_if_any()

    plant = Plant(
        name,
        [str(c) for c in contaminants],
        description=str(data.get("description") or ""),
        units=units,
        hours_per_year=8000.0 if hours is None else hours,
        objective=objective,
    )
    for table in SCHEMA:
        _read_table(plant, table, data.get(table), scale, problems)
    _read_connections(plant, data.get("connections"), scale, problems)
    problems.raise_if_any()
    return plant


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
        unit_id = str(item["id"])
        where = f"{kind} '{unit_id}'"
        values: dict[str, Any] = {}
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
            values[key] = _read_value(field, value, where, scale, problems)
        for field in SCHEMA[table]:
            if field.required and values.get(field.name) is None:
                problems.add(f"{where} needs '{field.name}' ({field.doc}, in {plant.units['flow']})")
        plant._add(table, unit_id, **{k: v for k, v in values.items() if v is not None})


def _file_fields(table: str) -> list[str]:
    names = [f.name for f in SCHEMA[table] if not f.name.startswith("cost_")]
    return names + (["cost"] if table == "regenerators" else [])


def _read_cost(value: Any, where: str, problems: _Problems) -> dict[str, float]:
    if not isinstance(value, Mapping):
        problems.add(f"{where}: 'cost' must be a mapping such as {{fixed: 0, per_t: 0}}")
        return {}
    out: dict[str, float] = {}
    for key, amount in value.items():
        if key not in ("fixed", "per_t"):
            problems.add(_unknown(str(key), ("fixed", "per_t"), f"{where} cost"))
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
        number = _as_number(flow, f"connections.existing {a} -> {b}: flow", problems)
        if number is not None:
            plant.add_existing(a, b, number * scale.get("flow", 1.0))
    min_flow = _as_number(raw.get("min_flow", 0), "connections.min_flow", problems)
    plant.min_flow = (min_flow or 0.0) * scale.get("flow", 1.0)
    pipe_cost = raw.get("pipe_cost")
    if pipe_cost is not None:
        if not isinstance(pipe_cost, Mapping) or set(pipe_cost) - {"fixed"}:
            problems.add("connections.pipe_cost must be a mapping such as {fixed: 5000}")
        else:
            plant.pipe_cost_fixed = _as_number(pipe_cost.get("fixed", 0), "pipe_cost.fixed", problems) or 0.0


# ---------------------------------------------------------------------- writing
def plant_to_dict(plant: Plant) -> dict[str, Any]:
    """Return the plant as a ``cascade-plant/1`` mapping in the plant's declared units.

    Only given values are written (defaults and absent limits are left out), so reading the
    result gives back an equal plant.
    """
    scale = {q: factor(q, plant.units[q]) for q in ("flow", "concentration", "load")}
    out: dict[str, Any] = {"format": FORMAT, "name": plant.name}
    if plant.description:
        out["description"] = plant.description
    out["units"] = dict(plant.units)
    out["hours_per_year"] = _plain(plant.hours_per_year)
    out["contaminants"] = list(plant.contaminants)
    for table in SCHEMA:
        records = plant.records(table)
        if not records:
            continue
        rows = []
        for record in records:
            row: dict[str, Any] = {"id": record.id}
            for field in SCHEMA[table]:
                value = record.values.get(field.name)
                if value is None or (field.kind != "conc" and is_missing(value)):
                    continue
                if field.name.startswith("cost_"):
                    row.setdefault("cost", {})[field.name[5:]] = _plain(value)
                elif field.kind == "conc":
                    if value:
                        divisor = scale["load"] if field.name == "load" else (
                            scale["concentration"] if field.name in _CONC_FIELDS else 1.0
                        )
                        row[field.name] = {c: _plain(v / divisor) for c, v in value.items()}
                elif field.kind == "float":
                    row[field.name] = _plain(value / scale.get(_FIELD_UNIT.get(field.name, ""), 1.0))
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
        connections["existing"] = [[a, b, _plain(f / scale["flow"])] for a, b, f in plant.existing]
    if plant.min_flow:
        connections["min_flow"] = _plain(plant.min_flow / scale["flow"])
    if plant.pipe_cost_fixed:
        connections["pipe_cost"] = {"fixed": _plain(plant.pipe_cost_fixed)}
    if connections:
        out["connections"] = connections
    out["objective"] = plant.objective
    return out


def _plain(value: float) -> float | int:
    value = float(value)
    return int(value) if value.is_integer() and abs(value) < 1e15 else value


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
    """Write text to a temporary file beside ``path`` and rename it, so nothing is half written."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
