"""Meters and their readings: the data of a water balance test (水平衡测试, GB/T 12452-2022).

A **meter** measures one quantity at one place of the plant network:

* a **flow meter** (``quantity: flow``) on a pipe ``(from, to)`` or at a node, where it reads
  the node's throughput: the intake of a supply, the inflow of a sink, operation, regenerator or
  discharge, the outflow of a source;
* an **analyser** (``quantity``: a contaminant name) at a node, where it reads the concentration
  entering the node (sinks, operations, regenerators, discharges) or leaving it (supplies,
  sources).

Its accuracy is a standard deviation: ``sd`` (absolute, in the plant's flow or concentration
unit), ``rsd`` (relative, a fraction of the reading) or ``accuracy_class`` (the maximum
permissible error in percent of the reading, read as an expanded uncertainty with coverage
factor 2, so ``rsd = accuracy_class / 200``). Its ``level`` is the metering level of GB/T
24789-2022 (1: the plant's boundary, 2: sub-units / workshops, 3: main water-using equipment).

Meters are kept on the plant (:attr:`cascade.Plant.meters`, the plant file's ``meters:``, or a
meter table beside the plant file read by :func:`read_meters`) in canonical units (t/h, ppm) and
checked by :func:`meter_problems` (validation code ``bad_meter``).
"""

from __future__ import annotations

import csv
import difflib
import math
import numbers
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .exceptions import PlantDataError
from .units import accepted, factor

if TYPE_CHECKING:
    from .plant import Plant

QUANTITY_FLOW = "flow"
LEVELS = (1, 2, 3)
#: The keys of a meter (a plant file's ``meters`` entry, the columns of a meter table).
METER_KEYS = ("id", "at", "quantity", "rsd", "sd", "accuracy_class", "level", "description")
#: The ways to give a meter's accuracy (exactly one of them).
ACCURACY_KEYS = ("rsd", "sd", "accuracy_class")
_LEVEL_TEXT = "1 (plant boundary), 2 (sub-units and workshops) or 3 (main water-using equipment)"
_SHOWN_IDS = 30  # ids listed in a message before "and N more"


@dataclass(frozen=True)
class Meter:
    """One meter of the plant.

    Parameters
    ----------
    id : str
        The meter's tag (e.g. ``FT-101``), unique among the plant's meters.
    at : str or tuple of (str, str)
        A node id, or a pipe ``(from, to)``.
    quantity : str, default 'flow'
        ``'flow'`` (t/h) or a contaminant name (ppm).
    rsd : float, optional
        Relative standard deviation (a fraction of the reading).
    sd : float, optional
        Absolute standard deviation in canonical units (t/h or ppm).
    accuracy_class : float, optional
        Maximum permissible error in percent of the reading; ``rsd = accuracy_class / 200``.
    level : int, optional
        Metering level 1, 2 or 3 (GB/T 24789-2022).
    description : str, optional
        Free text.

    Notes
    -----
    Exactly one of ``rsd``, ``sd`` and ``accuracy_class`` is given (checked where meters are read).
    """

    id: str
    at: str | tuple[str, str]
    quantity: str = QUANTITY_FLOW
    rsd: float | None = None
    sd: float | None = None
    accuracy_class: float | None = None
    level: int | None = None
    description: str = ""

    @property
    def on_pipe(self) -> bool:
        """True when the meter sits on a pipe, False when at a node."""
        return isinstance(self.at, tuple)

    @property
    def is_flow(self) -> bool:
        """True for a flow meter, False for an analyser."""
        return self.quantity == QUANTITY_FLOW

    @property
    def relative_sd(self) -> float | None:
        """The relative standard deviation (``rsd``, or ``accuracy_class / 200``); None for an absolute ``sd``."""
        if self.rsd is not None:
            return self.rsd
        if self.accuracy_class is not None:
            return self.accuracy_class / 200.0
        return None

    def standard_deviation(self, reading: float, reference: float = 0.0, floor: float = 1e-9) -> float:
        """The standard deviation of one reading, in canonical units.

        ``sd`` when given; otherwise ``rsd * max(|reading|, reference, floor)``, so a reading
        near zero keeps the uncertainty of the meter at its reference flow (the flow the network
        was designed for) rather than becoming exact.
        """
        if self.sd is not None:
            return self.sd
        rsd = self.relative_sd
        if rsd is None:
            raise ValueError(f"meter '{self.id}' has no accuracy (give rsd, sd or accuracy_class)")
        return rsd * max(abs(reading), reference, floor)


def as_location(at: Any) -> Any:
    """A meter's ``at`` as stored: a unit id (str) or a pipe ``(from, to)`` (a tuple of str).

    A number becomes its text and a 2-sequence a tuple; anything else is returned unchanged (and
    reported by :func:`meter_problems`).

    Examples
    --------
    >>> as_location(["mains", "boiler_feed"]), as_location("sewer")
    (('mains', 'boiler_feed'), 'sewer')
    """
    if isinstance(at, str):
        return at
    if isinstance(at, numbers.Real) and not isinstance(at, bool):
        return str(at)
    if isinstance(at, Sequence) and len(at) == 2 and all(isinstance(x, str | numbers.Real) for x in at):
        return (str(at[0]), str(at[1]))
    return at


# ---------------------------------------------------------------------- checks of meaning
def meter_problems(meters: Iterable[Meter], plant: Plant) -> list[tuple[Any, str]]:
    """Check meters against a plant: one ``(meter id, message)`` for every problem found.

    The checks of :meth:`cascade.Plant.validate` (code ``bad_meter``) and of :func:`read_meters`:
    ids non-empty and unique; ``at`` a unit of the plant or a pair of units (whether that pipe
    exists is for the reconciliation to say); ``quantity`` 'flow' or a declared contaminant; an
    analyser at a unit, not on a pipe; exactly one of ``rsd``, ``sd``, ``accuracy_class``,
    positive and finite, ``rsd`` below 1 and ``accuracy_class`` at most 100; ``level`` 1, 2 or 3.

    Parameters
    ----------
    meters : iterable of Meter
        In canonical units (t/h, ppm).
    plant : Plant
        The plant they measure; messages give numbers in its units.

    Returns
    -------
    list of (id, str)
        Empty when every meter is fine.

    Examples
    --------
    >>> from cascade import examples
    >>> meter_problems([Meter("FT-1", "op1", rsd=0.02)], examples.wang_smith())  # doctest: +ELLIPSIS
    [('FT-1', "meter 'FT-1': at 'op1' is not a unit of the plant (did you mean 'OP1'?); units are: FW, ...")]
    """
    meters = list(meters)
    ids = plant.ids()
    counts = Counter(m.id for m in meters)
    out: list[tuple[Any, str]] = []
    told: set[Any] = set()
    for meter in meters:
        where = f"meter '{meter.id}'"
        if not isinstance(meter.id, str) or not meter.id.strip():
            where = f"the meter at {_at_text(meter.at)}"
            out.append((meter.id, f"{where} has no id ({meter.id!r}); give each meter a tag such as FT-101"))
        elif counts[meter.id] > 1 and meter.id not in told:
            told.add(meter.id)
            out.append((meter.id, f"meter id '{meter.id}' is given {counts[meter.id]} times; each meter needs its "
                        "own tag, so rename one"))
        out.extend((meter.id, message) for message in _problems_of(meter, where, plant, ids))
    return out


def _problems_of(meter: Meter, where: str, plant: Plant, ids: list[str]) -> list[str]:
    """The problems of one meter (its place, quantity, accuracy and level)."""
    out = []
    known = set(ids)
    at = meter.at
    if isinstance(at, str):
        if at not in known:
            out.append(f"{where}: at '{at}' is not a unit of the plant{_hint(at, ids)}; units are: {_listing(ids)}")
    elif isinstance(at, tuple) and len(at) == 2 and all(isinstance(x, str) for x in at):
        for unit in dict.fromkeys(at):
            if unit not in known:
                out.append(f"{where}: the pipe [{at[0]}, {at[1]}] names '{unit}', which is not a unit of the "
                           f"plant{_hint(unit, ids)}; units are: {_listing(ids)}")
    else:
        out.append(f"{where}: at {at!r} is neither a unit id nor a pipe [from, to]")
    quantity = meter.quantity
    if not isinstance(quantity, str) or (quantity != QUANTITY_FLOW and quantity not in plant.contaminants):
        shown = f"'{quantity}'" if isinstance(quantity, str) else repr(quantity)
        hint = _hint(quantity, plant.contaminants) if isinstance(quantity, str) else ""
        out.append(f"{where}: quantity {shown} is neither 'flow' nor a contaminant of the plant{hint}; "
                   f"contaminants: {', '.join(plant.contaminants)}")
    elif quantity != QUANTITY_FLOW and isinstance(at, tuple):
        out.append(f"{where} measures {quantity} on the pipe [{at[0]}, {at[1]}]; an analyser is placed at a unit, "
                   "where it reads the water entering the unit (leaving it, for a supply or a source): give 'at' a "
                   "unit id")
    is_flow = quantity == QUANTITY_FLOW
    unit = _unit_of(plant.units, "flow" if is_flow else "concentration")
    given = [key for key in ACCURACY_KEYS if getattr(meter, key) is not None]
    if not given:
        out.append(f"{where} has no accuracy; give one of rsd (a fraction of the reading, e.g. 0.02), sd (in {unit}) "
                   "or accuracy_class (the maximum permissible error in percent, e.g. 2.5)")
    elif len(given) > 1:
        out.append(f"{where} gives {' and '.join(given)}; give only one of rsd, sd and accuracy_class")
    for key in given:
        value = getattr(meter, key)
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            out.append(f"{where}: {key} is {value!r}; give a positive finite number")
        elif value <= 0:
            quantity_ = "flow" if is_flow else "concentration"
            shown = _in_units(value, plant.units, quantity_) if key == "sd" else f"{value:g}"
            out.append(f"{where}: {key} is {shown}; it must be positive (no meter is exact)")
        elif key == "rsd" and value >= 1:
            out.append(f"{where}: rsd is {value:g}, a standard deviation of {100 * value:g} % of the reading; rsd is "
                       "a fraction (0.02 for 2 %)")
        elif key == "accuracy_class" and value > 100:
            out.append(f"{where}: accuracy_class is {value:g}; it is the maximum permissible error in percent of the "
                       "reading (e.g. 2.5), at most 100")
    level = meter.level
    if level is not None and (isinstance(level, bool) or level not in LEVELS):
        out.append(f"{where}: level {level!r} is not a metering level; use {_LEVEL_TEXT}, as in GB/T 24789-2022")
    return out


def _at_text(at: Any) -> str:
    if isinstance(at, tuple) and len(at) == 2:
        return f"[{at[0]}, {at[1]}]"
    return f"'{at}'" if isinstance(at, str) else repr(at)


def _hint(name: str, choices: Sequence[str]) -> str:
    """``" (did you mean 'X'?)"`` for the closest choice (same letters in another case first), or ''."""
    same = [c for c in choices if c.lower() == name.lower()]
    close = same or difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _listing(names: Iterable[Any], limit: int = _SHOWN_IDS) -> str:
    names = [str(n) for n in names]
    if len(names) <= limit:
        return ", ".join(names) or "none"
    return f"{', '.join(names[:limit])} and {len(names) - limit} more"


def _unit_of(units: Mapping[str, str] | None, quantity: str) -> str:
    unit = (units or {}).get(quantity)
    return unit if unit in accepted(quantity) else ("t/h" if quantity == "flow" else "ppm")


def _in_units(value: float, units: Mapping[str, str] | None, quantity: str) -> str:
    """A canonical number shown in the plant's unit, with the unit."""
    unit = _unit_of(units, quantity)
    return f"{value / factor(quantity, unit):.10g} {unit}"


def _scales(units: Mapping[str, str] | None, label: str) -> dict[str, float]:
    """Factors from the file's flow and concentration units to t/h and ppm (PlantDataError for an unknown unit)."""
    out = {}
    for quantity in ("flow", "concentration"):
        unit = (units or {}).get(quantity, "t/h" if quantity == "flow" else "ppm")
        if unit not in accepted(quantity):
            raise PlantDataError(f"{label}: {quantity} unit {unit!r} is not known; use one of "
                                 f"{', '.join(accepted(quantity))}")
        out[quantity] = factor(quantity, unit)
    return out


# ---------------------------------------------------------------------- meter tables
def read_meters(source: str | os.PathLike | pd.DataFrame | Sequence | Mapping, plant: Plant) -> list[Meter]:
    """Read the meters of a plant from a table beside the plant file.

    Parameters
    ----------
    source : path, DataFrame, list or mapping
        A CSV file (columns ``id, at, quantity, rsd, sd, accuracy_class, level, description``,
        matched ignoring case and surrounding blanks; ``id`` and ``at`` required, the others may be
        absent or empty; a pipe written ``from->to`` in ``at``, e.g. ``mains->boiler_feed``); a
        YAML or JSON file (``.yaml``, ``.yml``, ``.json``) holding a list of meters or
        ``{meters: [...]}`` with the keys of the plant file's ``meters`` (``at`` a unit id or
        ``[from, to]``); a DataFrame with the CSV's columns (``at`` may also hold a pair); or the
        parsed list or mapping.
    plant : Plant
        The plant measured. Values are in its file units: ``sd`` in ``plant.units["flow"]`` for a
        flow meter, in ``plant.units["concentration"]`` for an analyser.

    Returns
    -------
    list of Meter
        In canonical units (t/h, ppm), in the order given.

    Raises
    ------
    PlantDataError
        Listing every problem (``err.problems``): a missing file, unknown or missing columns or
        keys, values of the wrong type, and every check of :func:`meter_problems`. A CSV row is
        named by its data-row number (row 1 is the line after the header), a YAML entry as
        ``meters[k]`` (0-based), as in a plant file.

    Examples
    --------
    >>> import pandas as pd
    >>> from cascade import examples
    >>> table = pd.DataFrame({"id": ["FT-1", "AT-1"], "at": ["FW->OP1", "OP1"], "quantity": ["flow", "C"],
    ...                       "rsd": [0.02, None], "sd": [None, 5.0]})
    >>> [(m.id, m.at, m.relative_sd, m.sd) for m in read_meters(table, examples.wang_smith())]
    [('FT-1', ('FW', 'OP1'), 0.02, None), ('AT-1', 'OP1', None, 5.0)]
    """
    from .io import _entries, _Problems, _read_meter, _unknown, load_yaml_file

    label = "meter table" if isinstance(source, pd.DataFrame) else "meter data"
    table: tuple[list[str], list[tuple[int, list[Any]]]] | None = None
    data: Any = None
    if isinstance(source, pd.DataFrame):
        table = _frame_table(source)
    elif isinstance(source, str | os.PathLike):
        label = str(Path(source))
        suffix = Path(source).suffix.lower()
        if suffix == ".csv":
            table = _csv_table(Path(source), label)
        elif suffix in (".yaml", ".yml", ".json"):
            data = load_yaml_file(source)
            if data is None:
                raise PlantDataError(f"{label}: the file is empty; give a list of meters such as "
                                     "[{id: FT-101, at: mains, rsd: 0.02}]")
        else:
            raise PlantDataError(f"{label}: a meter table is a .csv, .yaml, .yml or .json file")
    elif isinstance(source, Sequence | Mapping):
        data = source
    else:
        raise PlantDataError(f"meters must come from a file, a DataFrame or a list, got {type(source).__name__}")
    scale = _scales(plant.units, f"plant '{plant.name}'")
    problems = _Problems(label)
    meters: list[Meter] = []
    if table is not None:
        header, rows = table
        names = [str(name).strip().lower() for name in header]
        for name, raw in zip(names, header, strict=True):
            if name not in METER_KEYS:
                problems.add(_unknown(str(raw).strip(), METER_KEYS, "columns").replace(" field ", " column "))
        missing = [key for key in ("id", "at") if key not in names]
        if missing:
            problems.add(f"no column {' and no column '.join(repr(k) for k in missing)}; a meter table needs id and "
                         f"at (columns found: {', '.join(map(str, header)) or 'none'})")
            problems.raise_if_any()
        for row, cells in rows:
            if len(cells) > len(names) and any(_present(c) for c in cells[len(names):]):
                problems.add(f"row {row} has {len(cells)} fields where the header has {len(names)}; quote a value "
                             "that holds a comma")
                continue
            entry = {name: _cell(name, cell) for name, cell in zip(names, cells, strict=False)
                     if name in METER_KEYS and _present(cell)}
            meter = _read_meter(f"row {row}", entry, scale, problems, pipe="from->to", prefix=f"row {row}: ")
            if meter is not None:
                meters.append(meter)
    else:
        if isinstance(data, Mapping):
            for key in data:
                if key != "meters":
                    problems.add(_unknown(str(key), ("meters",), "top level"))
            data = data.get("meters")
        if not isinstance(data, list):
            problems.add("the meters must be a list such as [{id: FT-101, at: mains, rsd: 0.02}], or "
                         "{meters: [...]}")
            data = []
        for where, entry in _entries(data, "meters", METER_KEYS, problems):
            meter = _read_meter(where, entry, scale, problems)
            if meter is not None:
                meters.append(meter)
    for _, message in meter_problems(meters, plant):
        problems.add(message)
    problems.raise_if_any()
    return meters


def _present(cell: Any) -> bool:
    """False for an empty table cell: None, NaN, NaT or blank text."""
    if cell is None or cell is pd.NaT:
        return False
    if isinstance(cell, str):
        return bool(cell.strip())
    return not (isinstance(cell, float) and math.isnan(cell))


def _cell(name: str, cell: Any) -> Any:
    """A meter table's cell as a plant file would give it: numbers for the numeric columns, a pipe as a list."""
    if isinstance(cell, str):
        cell = cell.strip()
        if name in ("rsd", "sd", "accuracy_class", "level"):
            try:
                return float(cell)
            except ValueError:
                return cell  # reported as not a number
        if name == "at" and "->" in cell:
            return [part.strip() for part in cell.split("->")]
    elif isinstance(cell, tuple):
        return list(cell)
    return cell


def _frame_table(frame: pd.DataFrame) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """A DataFrame as a header and its rows, numbered from 1."""
    return [str(c) for c in frame.columns], [(n, list(row)) for n, row in enumerate(frame.itertuples(index=False), 1)]


def _csv_table(path: Path, label: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """A CSV file as its header and data rows ``(row number, fields)``; blank lines are counted, not returned.

    The file is read as UTF-8 (a byte-order mark is skipped) or, failing that, GB 18030 (what a
    Chinese Excel writes); the separator is the one of ``,``, ``;`` and tab the header uses most.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PlantDataError(f"{label}: no such file") from None
    except OSError as exc:
        raise PlantDataError(f"{label}: cannot be read ({exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise PlantDataError(f"{label}: cannot be read as text (UTF-8 or GB 18030); save it as CSV UTF-8") from None
    lines = text.splitlines(keepends=True)
    first = next((line for line in lines if line.strip()), "")
    if not first:
        raise PlantDataError(f"{label}: the file is empty")
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(lines, delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    number = 0
    try:
        for record in reader:
            if header is None:
                if any(field.strip() for field in record):
                    header = record
                continue
            number += 1
            if len(record) > 1 or (record and record[0].strip()):  # a blank line is counted, not kept
                rows.append((number, record))
    except csv.Error as exc:
        raise PlantDataError(f"{label}: not a readable CSV file (line {reader.line_num}: {exc})") from None
    return header or [], rows

