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

That accuracy is the whole uncertainty of one reading. Most of it is **systematic** for a given
meter (its calibration error: the same sign and size from one reading to the next), and only a
part is **random** (the meter's repeatability, plus the noise of the readout): averaging ``n``
readings reduces only the random part. A meter's optional ``repeatability`` is that random part,
a relative standard deviation; the systematic part is what remains,

.. math::

    \\sigma_{sys}^2 = \\sigma^2 - \\sigma_{rand}^2, \\qquad
    \\sigma^2_{\\bar y} = \\sigma_{sys}^2 + \\sigma_{rand}^2 / n

(:meth:`Meter.mean_sd`, ``n`` readings averaged). Without a repeatability the whole error is taken
as systematic, the cautious reading of a nameplate accuracy: a mean is then no more accurate than
one reading.

Meters are kept on the plant (:attr:`cascade.Plant.meters`, the plant file's ``meters:``, or a
meter table beside the plant file read by :func:`read_meters`) in canonical units (t/h, ppm) and
checked by :func:`meter_problems` (validation code ``bad_meter``).

**Readings** (:func:`read_readings`) come as a long table, one reading a row: columns
``timestamp``, ``meter``, ``value`` (a CSV file or a DataFrame), values in the plant's flow unit
for flow meters and its concentration unit for analysers. Every row that can be used is kept;
every other row is reported with its kind and row number and left out:

======================  =======  ==============================================================
kind                    drops    meaning
======================  =======  ==============================================================
bad_row                 yes      a CSV row with more fields than the header (a comma inside a
                                 number such as ``1,234.5``?) or too few for the three columns
unknown_meter           yes      the meter id is not one of the meters
bad_timestamp           yes      the timestamp cannot be read, or it has a UTC offset where most
                                 have none (or the other way round)
bad_value               yes      the value is empty, not a number, NaN or infinite
negative_flow           yes      a flow meter reads below zero
negative_concentration  yes      an analyser reads below zero
duplicate               yes/no   one meter read twice at one time: equal values are kept once
                                 (a note, nothing dropped), different values are all dropped
irregular               no       timestamps off the regular step (kept)
gap                     no       timestamps of the regular series with no reading at all
missing                 no       a meter without a reading at timestamps other meters have
======================  =======  ==============================================================

Row numbers are **data-row numbers**, 1-based: row 1 is the first line after the header, so in a
CSV file row ``n`` is ``n`` lines below the header (line ``n + 1`` when the header is the first
line; a blank line counts as a row and is skipped without a problem; a quoted value spanning
lines shifts the rows after it). For a DataFrame, row ``n`` is
its ``n``-th row. :func:`simulate_readings` makes noisy readings of known true values, for tests
and studies of a metering plan.
"""

from __future__ import annotations

import csv
import difflib
import math
import numbers
import os
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .exceptions import PlantDataError
from .units import accepted, factor

if TYPE_CHECKING:
    from .plant import Plant

QUANTITY_FLOW = "flow"
LEVELS = (1, 2, 3)
#: The keys of a meter (a plant file's ``meters`` entry, the columns of a meter table).
METER_KEYS = ("id", "at", "quantity", "rsd", "sd", "accuracy_class", "repeatability", "level", "description")
#: The ways to give a meter's accuracy (exactly one of them).
ACCURACY_KEYS = ("rsd", "sd", "accuracy_class")
#: The columns a readings table needs (matched ignoring case and surrounding blanks).
READING_COLUMNS = ("timestamp", "meter", "value")
#: The columns of :attr:`Readings.problems`.
PROBLEM_COLUMNS = ("kind", "rows", "meter", "timestamp", "message", "dropped")
#: The kinds of reading problems, in the order they are looked for.
PROBLEM_KINDS = (
    "bad_row", "unknown_meter", "bad_timestamp", "bad_value", "negative_flow", "negative_concentration",
    "duplicate", "irregular", "gap", "missing",
)
_LEVEL_TEXT = "1 (plant boundary), 2 (sub-units and workshops) or 3 (main water-using equipment)"
_SHOWN_IDS = 30  # ids listed in a message before "and N more"
_SHOWN_ROWS = 5  # row numbers listed in a message before "and N more"


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
    repeatability : float, optional
        Relative standard deviation of the random part of a reading's error (a fraction of the
        reading, at most the relative accuracy; only with ``rsd`` or ``accuracy_class``). Without it
        the whole error is systematic (see the module's notes).

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
    repeatability: float | None = None

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

    def random_sd(self, reading: float, reference: float = 0.0, floor: float = 1e-9) -> float:
        """The standard deviation of the random part of one reading's error (0 without ``repeatability``).

        ``repeatability * max(|reading|, reference, floor)``, at most :meth:`standard_deviation`.
        """
        if not self.repeatability:
            return 0.0
        total = self.standard_deviation(reading, reference, floor)
        return min(self.repeatability * max(abs(reading), reference, floor), total)

    def systematic_sd(self, reading: float, reference: float = 0.0, floor: float = 1e-9) -> float:
        """The standard deviation of the systematic part of a reading's error (its calibration error).

        ``sqrt(sd^2 - r^2)`` with ``sd`` the accuracy of one reading (:meth:`standard_deviation`) and
        ``r`` its random part (:meth:`random_sd`).

        Examples
        --------
        >>> round(Meter("FT-1", "FW", rsd=0.01, repeatability=0.006).systematic_sd(100.0), 9)
        0.8
        """
        total = self.standard_deviation(reading, reference, floor)
        return math.sqrt(max(total**2 - self.random_sd(reading, reference, floor) ** 2, 0.0))

    def mean_sd(self, reading: float, n: int, reference: float = 0.0, floor: float = 1e-9) -> float:
        """The standard deviation of the mean of ``n`` readings (``reading`` their mean).

        ``sqrt(sd^2 - r^2 + r^2 / n)`` with ``sd`` the accuracy of one reading and ``r`` its random
        part (:meth:`random_sd`): only the random part averages out.

        Examples
        --------
        >>> meter = Meter("FT-1", "FW", rsd=0.01, repeatability=0.006)
        >>> round(meter.mean_sd(100.0, 1), 6), round(meter.mean_sd(100.0, 36), 6)  # sqrt(0.8^2 + 0.6^2 / 36)
        (1.0, 0.806226)
        """
        systematic, random = self.systematic_sd(reading, reference, floor), self.random_sd(reading, reference, floor)
        return math.sqrt(systematic**2 + random**2 / max(int(n), 1))


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
    out += _repeatability_problems(meter, where)
    level = meter.level
    if level is not None and (isinstance(level, bool) or level not in LEVELS):
        out.append(f"{where}: level {level!r} is not a metering level; use {_LEVEL_TEXT}, as in GB/T 24789-2022")
    return out


def _repeatability_problems(meter: Meter, where: str) -> list[str]:
    """``repeatability``: a fraction in [0, rsd], given with a relative accuracy."""
    value = meter.repeatability
    if value is None:
        return []
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
        return [f"{where}: repeatability is {value!r}; give a fraction of the reading, 0 or more (0.002 for 0.2 %)"]
    if meter.sd is not None:
        return [f"{where}: repeatability is a fraction of the reading, so it goes with rsd or accuracy_class, not "
                "with an absolute sd"]
    rsd = meter.relative_sd
    if isinstance(rsd, numbers.Real) and math.isfinite(rsd) and value > rsd:
        return [f"{where}: repeatability {value:g} is more than the meter's whole relative accuracy {rsd:g}; it is "
                "the random part of that accuracy"]
    return []


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
        A CSV file (columns ``id, at, quantity, rsd, sd, accuracy_class, repeatability, level,
        description``,
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
        if name in ("rsd", "sd", "accuracy_class", "repeatability", "level"):
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


# ---------------------------------------------------------------------- readings
@dataclass
class Readings:
    """Meter readings as read by :func:`read_readings`: the usable values and every problem.

    Attributes
    ----------
    values : DataFrame
        One row per timestamp (a sorted DatetimeIndex named ``timestamp``, timezone-naive), one
        column per meter in the order of the meters given (every meter, even one without
        readings); floats in canonical units (t/h, ppm); NaN where a meter has no usable reading.
    problems : DataFrame
        Columns ``kind`` (see :data:`PROBLEM_KINDS` and the module notes), ``rows`` (list of the
        data-row numbers concerned, 1-based; empty for gap and missing), ``meter`` (None where no
        meter is concerned), ``timestamp`` (NaT where none), ``message`` and ``dropped`` (how many
        rows the problem took out of ``values``). Empty, with these columns, when all is clean.
    rows_read : int
        Data rows read (blank lines not counted).
    rows_kept : int
        Readings in ``values`` (a reading repeated with the same value counts once).
    step : Timedelta or None
        The time step the gaps were judged by: the one given, or the one inferred (None when none was
        given and there are fewer than two timestamps).
    source : str
        The file (or ``'readings'`` for a DataFrame), for messages.
    """

    values: pd.DataFrame
    problems: pd.DataFrame
    rows_read: int
    rows_kept: int
    step: pd.Timedelta | None
    source: str = "readings"

    @property
    def ok(self) -> bool:
        """True when no row was dropped (gaps, missing readings and repeated equal readings allowed)."""
        return not bool((self.problems["dropped"] > 0).any())

    def mean(self) -> pd.Series:
        """The mean reading of each meter over the timestamps (NaN skipped; NaN for a meter without readings)."""
        return self.values.mean()

    def count(self) -> pd.Series:
        """The number of usable readings of each meter."""
        return self.values.count()

    def messages(self) -> list[str]:
        """The problems as text, one line per kind and meter (a few row numbers, then "and N more").

        Examples
        --------
        >>> import pandas as pd
        >>> table = pd.DataFrame({"timestamp": ["2026-03-01 00:00", "2026-03-01 01:00", "2026-03-01 02:00"],
        ...                       "meter": ["FT-1", "FT-1", "FT-1"], "value": [10.0, "n/a", 11.0]})
        >>> read_readings(table, [Meter("FT-1", "FW", rsd=0.02)]).messages()
        ["row 2: meter 'FT-1' at 2026-03-01 01:00: value 'n/a' is not a number; reading dropped"]
        """
        out = []
        groups: dict[tuple[str, Any], list[int]] = {}
        for position, (kind, meter) in enumerate(zip(self.problems["kind"], self.problems["meter"], strict=True)):
            groups.setdefault((kind, meter), []).append(position)
        for (kind, meter), positions in groups.items():
            part = self.problems.iloc[positions]
            if len(part) == 1:
                out.append(part["message"].iloc[0])
                continue
            rows = sorted(r for rs in part["rows"] for r in rs)
            who = f"meter '{meter}': " if meter is not None else ""
            where = f" (rows {_rows_text(rows)})" if rows else ""
            dropped = int(part["dropped"].sum())
            fate = f", {dropped} rows dropped" if dropped else ""
            shown = list(part["message"].iloc[:2])
            more = f"; and {len(part) - 2} more" if len(part) > 2 else ""
            out.append(f"{who}{len(part)} {_NOUNS.get(kind, kind)}{where}{fate}: {'; '.join(shown)}{more}")
        return out

    def __repr__(self) -> str:
        shape = f"{len(self.values)} timestamps x {self.values.shape[1]} meters"
        return (f"<Readings {self.source}: {self.rows_kept} of {self.rows_read} rows kept, {shape}, "
                f"{len(self.problems)} problems>")


_NOUNS = {
    "bad_row": "malformed rows",
    "unknown_meter": "unknown meter ids",
    "bad_timestamp": "unreadable timestamps",
    "bad_value": "unusable values",
    "negative_flow": "negative flow readings",
    "negative_concentration": "negative concentration readings",
    "duplicate": "repeated readings",
    "irregular": "groups of timestamps off the step",
    "gap": "gaps in the timestamps",
    "missing": "missing-reading notes",
}

# a date: digits, a separator, digits (2026-03-01, 01/03/2026, 2026.3.1), 8 digits (20260301), or a month's name
# and a number
_DATE = re.compile(r"\d\s*[-/.]\s*\d|\d{8}|[a-z]{3}.*\d|\d.*[a-z]{3}", re.IGNORECASE)
# a time of day followed by a UTC offset: 05:00Z, 05:00:00+08:00, 05:00 +0800, 05:00 UTC
_OFFSET = re.compile(r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:z|utc|gmt|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)


def read_readings(
    source: str | os.PathLike | pd.DataFrame,
    meters: Iterable[Meter],
    *,
    units: Mapping[str, str] | None = None,
    step: str | pd.Timedelta | None = None,
) -> Readings:
    """Read meter readings, keep every usable row and report every other one.

    Parameters
    ----------
    source : path or DataFrame
        A CSV file in long format, one reading a row, with columns ``timestamp``, ``meter`` and
        ``value`` (header names matched ignoring case and surrounding blanks; other columns are
        ignored; separator ``,``, ``;`` or tab; UTF-8 or GB 18030), or a DataFrame with those columns.
    meters : iterable of Meter
        The meters the readings may name (:attr:`cascade.Plant.meters`).
    units : mapping, optional
        The plant's units (:attr:`cascade.Plant.units`): flow readings are in ``units["flow"]``,
        analyser readings in ``units["concentration"]``. Default t/h and ppm.
    step : str or Timedelta, optional
        The time step of the readings (``"1h"``, ``"15min"``); default the most common spacing
        between consecutive timestamps (the shorter one on a tie).

    Returns
    -------
    Readings
        ``values`` in canonical units (t/h, ppm) and ``problems`` (see the module notes for the
        kinds). Row numbers are data-row numbers: row 1 is the line after the header.

    Raises
    ------
    PlantDataError
        Nothing usable: the file is missing, unreadable or empty, a required column is missing
        (the message lists the columns found), or there is no row at all; also meters that share
        an id, an unknown unit or a bad ``step``.

    Notes
    -----
    Timestamps are read by pandas (ISO 8601 such as ``2026-03-01 05:00`` is safest; ``03/01/2026`` is
    read month first); each needs a date (a time alone, ``12:00``, or a bare number is refused).
    Timestamps with a UTC offset (``05:00+08:00``, ``05:00Z``) are converted to UTC and the offset
    dropped; when some timestamps have an offset and others not, those of the smaller group (those
    with an offset, on a tie) are reported as ``bad_timestamp``, since the two cannot be put on one
    clock. The regular series for ``gap`` starts at the first timestamp; timestamps off it are kept
    and reported as ``irregular``.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"timestamp": ["2026-03-01 00:00", "2026-03-01 00:00", "2026-03-01 01:00"],
    ...                       "meter": ["FT-1", "FT-9", "FT-1"], "value": [10.0, 3.0, 12.0]})
    >>> readings = read_readings(table, [Meter("FT-1", "FW", rsd=0.02)], units={"flow": "kg/s"})
    >>> readings.values["FT-1"].tolist(), readings.rows_kept, list(readings.problems["kind"])
    ([36.0, 43.2], 2, ['unknown_meter'])
    """
    meters = list(meters)
    ids = [m.id for m in meters]
    twice = [i for i, n in Counter(ids).items() if n > 1]
    if twice:
        raise PlantDataError(f"meters: id {', '.join(map(repr, twice))} is given more than once; each meter needs "
                             "its own tag")
    label, frame, malformed = _load_readings(source)
    scale = _scales(units, label)
    step = _as_step(step)
    raw_values = frame.pop("value")
    frame["meter"] = _texts(frame["meter"])
    frame["ts"], stamp_text, offset_bad = _parse_stamps(frame.pop("timestamp"))
    frame["value"], value_text = _parse_values(raw_values)
    known = {m.id: m for m in meters}
    flow = frame["meter"].map({m.id: m.is_flow for m in meters}).fillna(True).to_numpy(dtype=bool)
    frame["value"] = frame["value"] * np.where(flow, scale["flow"], scale["concentration"])
    found = _Found()
    alive = np.ones(len(frame), dtype=bool)

    for i, why in malformed.items():
        row = int(frame.at[i, "row"])
        found.add("bad_row", [row], None, None, 1, f"row {row} {why}; row dropped")
        alive[i] = False

    unknown = alive & ~frame["meter"].isin(list(known)).to_numpy()
    for meter_id, index in frame[unknown].groupby("meter", sort=False).groups.items():
        rows_of = frame.loc[index, "row"].tolist()
        count = f"{len(rows_of)} row{'s' if len(rows_of) > 1 else ''} ({_rows_text(rows_of)})"
        if meter_id == "":
            message = f"{count} name no meter; dropped"
        else:
            message = (f"meter '{meter_id}' is not one of the meters{_hint(meter_id, ids)}: {count} dropped; "
                       f"known meters: {_listing(ids)}")
        found.add("unknown_meter", rows_of, meter_id or None, None, len(rows_of), message)
    alive &= ~unknown

    for i in np.flatnonzero(alive & frame["ts"].isna().to_numpy()):
        row, meter_id, text = int(frame.at[i, "row"]), frame.at[i, "meter"], stamp_text.iloc[i]
        if offset_bad.iloc[i]:
            why = (f"timestamp '{text}' has a UTC offset and most timestamps have none" if _OFFSET.search(text)
                   else f"timestamp '{text}' has no UTC offset and most timestamps have one")
            why += "; write all timestamps one way"
        elif text == "":
            why = "the timestamp is empty"
        else:
            why = f"timestamp '{text}' cannot be read as a date and time (write it as 2026-03-01 05:00)"
        found.add("bad_timestamp", [row], meter_id, None, 1, f"row {row}: meter '{meter_id}': {why}; reading dropped")
    alive &= frame["ts"].notna().to_numpy()

    values = frame["value"].to_numpy()
    for i in np.flatnonzero(alive & ~np.isfinite(values)):
        row, meter_id, text = int(frame.at[i, "row"]), frame.at[i, "meter"], value_text.iloc[i]
        if text == "":
            why = "the value is empty"
        elif np.isinf(values[i]):
            why = f"value '{text}' is infinite"
        else:
            why = f"value '{text}' is not a number"
        found.add("bad_value", [row], meter_id, frame.at[i, "ts"], 1,
                  f"row {row}: meter '{meter_id}' at {_when(frame.at[i, 'ts'])}: {why}; reading dropped")
    alive &= np.isfinite(values)

    for i in np.flatnonzero(alive & (values < 0)):
        row, meter_id, text = int(frame.at[i, "row"]), frame.at[i, "meter"], value_text.iloc[i]
        meter = known[meter_id]
        quantity = "flow" if meter.is_flow else "concentration"
        unit = _unit_of(units, quantity)
        fix = ("a flow meter reads 0 or more (installed the wrong way round?)" if meter.is_flow
               else f"a concentration of {meter.quantity} is 0 or more (a zero offset of the analyser?)")
        found.add(f"negative_{quantity}", [row], meter_id, frame.at[i, "ts"], 1,
                  f"row {row}: meter '{meter_id}' at {_when(frame.at[i, 'ts'])}: {quantity} {text} {unit} is "
                  f"negative; {fix}; reading dropped")
    alive &= ~(values < 0)

    _duplicates(frame, alive, value_text, found)
    kept = frame[alive]
    table = kept.pivot(index="ts", columns="meter", values="value") if len(kept) else pd.DataFrame()
    table = table.reindex(columns=ids).astype(float)
    table.index = pd.DatetimeIndex(table.index, name="timestamp").astype("datetime64[ns]")
    table.columns = pd.Index(ids)
    table = table.sort_index()
    step = _series_checks(table, kept, step, found)
    _missing(table, meters, frame, found)
    return Readings(table, found.frame(), len(frame), int(alive.sum()), step, label)


def _load_readings(source: Any) -> tuple[str, pd.DataFrame, dict[int, str]]:
    """The readings' label, a frame of ``row``, ``timestamp``, ``meter``, ``value`` as given, and the
    malformed rows of a CSV file (position -> what is wrong). PlantDataError when nothing is usable."""
    if isinstance(source, pd.DataFrame):
        label = "readings"
        header, rows = [str(c) for c in source.columns], []
    elif isinstance(source, str | os.PathLike):
        label = str(Path(source))
        header, rows = _csv_table(Path(source), label)
    else:
        raise PlantDataError(f"readings come from a CSV file or a DataFrame, got {type(source).__name__}")
    names = [str(name).strip().lower() for name in header]
    missing = [c for c in READING_COLUMNS if c not in names]
    if missing:
        raise PlantDataError(
            f"{label}: no column {' and no column '.join(repr(c) for c in missing)}; readings need the columns "
            f"timestamp, meter and value, one reading a row (columns found: {', '.join(map(str, header)) or 'none'})"
        )
    if not (len(source) if isinstance(source, pd.DataFrame) else rows):
        raise PlantDataError(f"{label}: no readings (a header and no rows)")
    columns = [names.index(c) for c in READING_COLUMNS]
    if isinstance(source, pd.DataFrame):
        frame = pd.DataFrame({"row": np.arange(1, len(source) + 1)})
        for name, k in zip(READING_COLUMNS, columns, strict=True):
            frame[name] = source.iloc[:, k].reset_index(drop=True)
        return label, frame, {}
    malformed = {}
    for i, (_, cells) in enumerate(rows):
        if len(cells) > len(names) and any(f.strip() for f in cells[len(names):]):
            malformed[i] = (f"has {len(cells)} fields where the header has {len(names)} (a comma inside a number "
                            "such as 1,234.5? quote it or leave out the thousands separator)")
        elif len(cells) <= max(columns):
            malformed[i] = f"has {len(cells)} field{'s' if len(cells) > 1 else ''} where the header has {len(names)}"
    frame = pd.DataFrame({"row": [n for n, _ in rows]})
    for name, k in zip(READING_COLUMNS, columns, strict=True):
        frame[name] = pd.Series([cells[k] if k < len(cells) else "" for _, cells in rows], dtype=object)
    return label, frame, malformed


class _Found:
    """Collects the problems of :func:`read_readings`."""

    def __init__(self) -> None:
        self.items: list[tuple] = []

    def add(self, kind: str, rows: list[int], meter: Any, stamp: Any, dropped: int, message: str) -> None:
        self.items.append((kind, [int(r) for r in rows], meter, stamp, message, int(dropped)))

    def frame(self) -> pd.DataFrame:
        columns = list(zip(*self.items, strict=True)) or [[]] * len(PROBLEM_COLUMNS)
        data = dict(zip(PROBLEM_COLUMNS, columns, strict=True))
        return pd.DataFrame({
            "kind": pd.Series(data["kind"], dtype=object),
            "rows": pd.Series(data["rows"], dtype=object),
            "meter": pd.Series(data["meter"], dtype=object),
            "timestamp": pd.Series(pd.to_datetime(list(data["timestamp"])), dtype="datetime64[ns]"),
            "message": pd.Series(data["message"], dtype=object),
            "dropped": pd.Series(data["dropped"], dtype="int64"),
        })


def _duplicates(frame: pd.DataFrame, alive: np.ndarray, value_text: pd.Series, found: _Found) -> None:
    """One meter read twice or more at one time: equal values kept once (a note), different ones all dropped."""
    good = frame[alive]
    repeated = good[good.duplicated(["ts", "meter"], keep=False)]
    for (stamp, meter_id), part in repeated.groupby(["ts", "meter"], sort=True):
        rows_of = part["row"].tolist()
        texts = [value_text.iloc[i] for i in part.index]
        if part["value"].nunique() == 1:
            found.add("duplicate", rows_of, meter_id, stamp, 0,
                      f"meter '{meter_id}' at {_when(stamp)}: {len(part)} equal readings {texts[0]} (rows "
                      f"{_rows_text(rows_of)}); one kept")
            alive[part.index[1:]] = False
        else:
            shown = ", ".join(f"row {r}: {t}" for r, t in zip(rows_of, texts, strict=True))
            found.add("duplicate", rows_of, meter_id, stamp, len(part),
                      f"meter '{meter_id}' at {_when(stamp)}: {len(part)} different readings ({shown}); all "
                      "dropped, since it cannot be told which is right")
            alive[part.index] = False


def _missing(table: pd.DataFrame, meters: list[Meter], frame: pd.DataFrame, found: _Found) -> None:
    """Each meter without a reading at timestamps other meters have, or without any reading."""
    for meter in meters:
        column = table[meter.id]
        if not column.isna().any() and len(table):
            continue
        if column.isna().all():
            had = int((frame["meter"] == meter.id).sum())
            what = (f"no usable reading (its {had} row{'s were' if had > 1 else ' was'} dropped: see the other "
                    "problems)") if had else "no reading at all"
            found.add("missing", [], meter.id, None, 0, f"meter '{meter.id}' has {what}")
            continue
        lost = table.index[column.isna()]
        shown = ", ".join(_when(t) for t in lost[:3]) + (f" and {len(lost) - 3} more" if len(lost) > 3 else "")
        found.add("missing", [], meter.id, lost[0], 0,
                  f"meter '{meter.id}' has no reading at {len(lost)} of the {len(table)} timestamps other meters "
                  f"have: {shown}")


def _series_checks(table: pd.DataFrame, kept: pd.DataFrame, step: pd.Timedelta | None, found: _Found) -> Any:
    """Report timestamps off the step (``irregular``) and missing steps (``gap``); return the step used."""
    stamps = table.index
    if len(stamps) < 2:
        return step
    if step is None:
        spacing = pd.Series(stamps[1:] - stamps[:-1]).value_counts()
        step = min(spacing.index[spacing == spacing.max()])
    step_text = _step_text(step)
    off = ((stamps - stamps[0]) % step) != pd.Timedelta(0)
    if off.any():
        odd = stamps[off]
        rows = sorted(kept.loc[kept["ts"].isin(odd), "row"].tolist())
        shown = ", ".join(_when(t) for t in odd[:3]) + (f" and {len(odd) - 3} more" if len(odd) > 3 else "")
        found.add("irregular", rows, None, odd[0], 0,
                  f"{len(odd)} timestamp{' is' if len(odd) == 1 else 's are'} off the {step_text} step that starts "
                  f"at {_when(stamps[0])}: {shown}; kept (check the logger's clock, or give the step)")
    on = stamps[~off]
    for before, after in zip(on[:-1], on[1:], strict=True):
        lost = int((after - before) / step) - 1
        if lost > 0:
            first, last = before + step, after - step
            which = _when(first) if lost == 1 else f"{_when(first)} to {_when(last, first)}"
            found.add("gap", [], None, first, 0,
                      f"no readings between {_when(before)} and {_when(after, before)}: {lost} timestamp"
                      f"{'s' if lost > 1 else ''} missing at the {step_text} step ({which})")
    return step


def _as_step(step: Any) -> pd.Timedelta | None:
    if step is None:
        return None
    try:
        value = pd.Timedelta(step)
    except (ValueError, TypeError):
        raise PlantDataError(f"step {step!r} is not a time step; give e.g. '1h' or '15min'") from None
    if pd.isna(value) or value <= pd.Timedelta(0):
        raise PlantDataError(f"step {step!r} must be a positive time step, e.g. '1h'")
    return value


def _parse_stamps(raw: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Timestamps as naive datetime64[ns] (NaT where unreadable), their text, and which are NaT for a clash
    of timestamps with and without a UTC offset."""
    index = raw.index
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        parsed = raw
        if getattr(raw.dt, "tz", None) is not None:
            parsed = raw.dt.tz_convert("UTC").dt.tz_localize(None)
        text = raw.astype(str).where(raw.notna(), "")
        return _ns(parsed), text, pd.Series(False, index=index)
    text = _texts(raw, _stamp_text)
    aware = text.str.contains(_OFFSET).astype(bool)
    dated = text.str.contains(_DATE).astype(bool)  # "5" or "12:00" alone would be read as a day of this month
    parsed = pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "could not infer format": each element is then parsed on its own
        plain = text[~aware & dated]
        if len(plain):
            first = pd.to_datetime(plain, errors="coerce")
            retry = first.isna()
            if retry.any():  # a format other than the first one's
                first = first.astype(object)
                first[retry] = pd.to_datetime(plain[retry], errors="coerce", format="mixed")
            parsed[plain.index] = _ns(pd.to_datetime(first))
        zoned = text[aware & dated]
        if len(zoned):
            utc = pd.to_datetime(zoned, errors="coerce", format="mixed", utc=True)
            parsed[zoned.index] = _ns(utc.dt.tz_localize(None))
    read = parsed.notna()
    with_offset, without = int((read & aware).sum()), int((read & ~aware).sum())
    clash = pd.Series(False, index=index)
    if with_offset and without:
        clash = read & (aware if with_offset <= without else ~aware)
        parsed[clash] = pd.NaT
    return parsed, text, clash


def _ns(stamps: pd.Series) -> pd.Series:
    """Naive timestamps in nanoseconds; NaT outside the years pandas holds so (1678-2261)."""
    stamps = pd.to_datetime(stamps)
    inside = (stamps.dt.year > 1677) & (stamps.dt.year < 2262)
    return stamps.where(inside).astype("datetime64[ns]")


def _stamp_text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, np.datetime64):
        return "" if np.isnat(value) else str(pd.Timestamp(value))
    return str(value).strip()


def _parse_values(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Values as floats (NaN where not a number: text, true/false, empty) and as text for messages."""
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        numbers_ = raw.astype(float)
        return numbers_, numbers_.map(lambda v: "" if math.isnan(v) else f"{v:g}").astype(object)
    text = _texts(raw, lambda v: f"{v:g}" if isinstance(v, float) else str(v).strip())  # True: 'True', no number
    numeric = pd.to_numeric(text, errors="coerce")
    return pd.Series(numeric, dtype=float), text


def _texts(raw: pd.Series, show: Any = None) -> pd.Series:
    """Cells as stripped text ('' where missing); ``show`` turns a cell that is not text into text."""
    if pd.api.types.infer_dtype(raw, skipna=True) in ("string", "empty"):
        return raw.where(raw.notna(), "").astype(str).str.strip().astype(object)
    show = show or (lambda v: str(v).strip())
    return raw.map(lambda v: show(v) if _present(v) else "").astype(object)


def _when(stamp: Any, after: Any = None) -> str:
    """A timestamp for messages: 2026-03-01 05:00 (seconds if any; the date left out when it is ``after``'s)."""
    if stamp is None or pd.isna(stamp):
        return "?"
    stamp = pd.Timestamp(stamp)
    text = stamp.strftime("%Y-%m-%d %H:%M") if stamp.second == 0 and stamp.microsecond == 0 else str(stamp)
    if after is not None and not pd.isna(after) and pd.Timestamp(after).date() == stamp.date():
        return text.split(" ", 1)[1]
    return text


def _step_text(step: pd.Timedelta) -> str:
    seconds = step.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return str(step)


def _rows_text(rows: Sequence[int], limit: int = _SHOWN_ROWS) -> str:
    """``"4, 9 and 12"``, or ``"4, 9, 12, 15, 20 and 7 more"``."""
    rows = [str(r) for r in rows]
    if len(rows) == 1:
        return rows[0]
    if len(rows) <= limit:
        return f"{', '.join(rows[:-1])} and {rows[-1]}"
    return f"{', '.join(rows[:limit])} and {len(rows) - limit} more"


# ---------------------------------------------------------------------- simulation
def simulate_readings(
    true_values: Mapping[str, float] | pd.DataFrame,
    meters: Iterable[Meter],
    timestamps: Iterable[Any] | None = None,
    *,
    seed: int | None = None,
    bias: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Noisy readings of known true values, in the long format :func:`read_readings` reads.

    Each reading is ``true * (1 + bias) + e_sys u + e_rand v_t`` with ``u`` and ``v_t`` standard
    normal: ``u`` drawn once per meter (its calibration error, the same for all its readings of
    this call), ``v_t`` for every reading; ``e_rand`` is the meter's :meth:`Meter.random_sd` and
    ``e_sys`` its :meth:`Meter.systematic_sd`, both at the true value. A meter without
    ``repeatability`` therefore reads off by the same error throughout;
    give ``repeatability = rsd`` for independent errors at every reading.

    Parameters
    ----------
    true_values : mapping or DataFrame
        Meter id -> true value (canonical units), the same at every timestamp; or a DataFrame
        indexed by timestamp with a column per meter (a NaN cell gives no reading).
    meters : iterable of Meter
        The meters read; each needs a true value. They need an accuracy.
    timestamps : iterable of timestamps, optional
        When the meters are read; required with a mapping. With a DataFrame, the rows to use
        (default: all of them).
    seed : int, optional
        Seed of :func:`numpy.random.default_rng`: the same seed gives the same readings.
    bias : mapping, optional
        Meter id -> relative bias: 0.1 reads 10 % high, -0.05 reads 5 % low.

    Returns
    -------
    DataFrame
        Columns ``timestamp``, ``meter``, ``value``, by timestamp then in the order of ``meters``.
        Values are in canonical units (t/h, ppm); writing them in a plant's file units (dividing by
        :func:`cascade.units.factor`) is the caller's job. A small flow may read below zero, as a
        real meter's noise would (:func:`read_readings` drops such a reading).

    Raises
    ------
    ValueError
        A meter without a true value, a bias for an unknown meter, or no timestamps.

    Examples
    --------
    >>> readings = simulate_readings({"FT-1": 100.0}, [Meter("FT-1", "FW", rsd=0.01)], ["2026-03-01"], seed=1)
    >>> readings.columns.tolist(), bool(abs(readings["value"].iloc[0] - 100) < 5)
    (['timestamp', 'meter', 'value'], True)
    """
    meters = list(meters)
    ids = [m.id for m in meters]
    if isinstance(true_values, pd.DataFrame):
        frame = true_values
        if timestamps is not None:
            frame = frame.loc[pd.DatetimeIndex(pd.to_datetime(list(timestamps)))]
        stamps = pd.DatetimeIndex(pd.to_datetime(frame.index))
        absent = [i for i in ids if i not in frame.columns]
    else:
        if timestamps is None:
            raise ValueError("give the timestamps at which the meters are read")
        stamps = pd.DatetimeIndex(pd.to_datetime(list(timestamps)))
        absent = [i for i in ids if i not in true_values]
    if absent:
        raise ValueError(f"no true value for meter {', '.join(map(repr, absent))}")
    if isinstance(true_values, pd.DataFrame):
        truth = frame[ids].to_numpy(dtype=float)
    else:
        truth = np.tile(np.array([float(true_values[i]) for i in ids]), (len(stamps), 1))
    bias = dict(bias or {})
    stray = [k for k in bias if k not in ids]
    if stray:
        raise ValueError(f"bias names {', '.join(map(repr, stray))}, which {'is' if len(stray) == 1 else 'are'} not "
                         f"one of the meters ({', '.join(ids)})")
    shift = np.array([1.0 + float(bias.get(i, 0.0)) for i in ids])
    systematic, random = np.zeros(truth.shape), np.zeros(truth.shape)
    for (t, j), x in np.ndenumerate(truth):
        if math.isfinite(x):
            systematic[t, j], random[t, j] = meters[j].systematic_sd(float(x)), meters[j].random_sd(float(x))
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(truth.shape) * random
    noise += rng.standard_normal(len(ids)) * systematic  # one draw per meter: the same for all its readings
    value = truth * shift + noise
    out = pd.DataFrame({
        "timestamp": np.repeat(stamps.to_numpy(), len(ids)),
        "meter": np.tile(np.array(ids, dtype=object), len(stamps)),
        "value": value.ravel(),
    })
    return out[np.isfinite(out["value"].to_numpy())].reset_index(drop=True)
