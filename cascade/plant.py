"""The plant: typed tables of water supplies, users, regenerators and discharges.

A :class:`Plant` holds what a plant file (``cascade-plant/1``) says, in canonical units
(t/h, ppm, kg/h; see :mod:`cascade.units`). Every kind of unit has one table, described once in
:data:`SCHEMA`: a column per scalar field and, for each per-contaminant field, one column per
contaminant named ``"<field>:<contaminant>"`` (for example ``"max:COD"``). A missing
per-contaminant value is NaN: for ``quality`` and ``load`` that means 0, for a limit it means
"no limit", for a regenerator that the contaminant is not specified.

Build a plant in code with the ``add_*`` methods (each returns the plant, so calls chain), or read
one with :func:`cascade.read_plant`. The optimisation pipeline never changes a plant.

Examples
--------
>>> from cascade import Plant
>>> plant = (Plant("two users", ["C"])
...          .add_freshwater("FW", quality={"C": 0})
...          .add_sink("D1", flow=10, max={"C": 50})
...          .add_source("S1", flow=10, quality={"C": 20}))
>>> plant.sinks.loc["D1", ["flow", "max:C"]].tolist()
[10.0, 50.0]
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import PlantDataError
from .metering import QUANTITY_FLOW, Meter, as_location
from .standards import STANDARD_FIELDS, STANDARD_WHERE, is_reference, resolve_reference
from .units import DEFAULT_UNITS

FORMAT = "cascade-plant/1"
DEFAULT_DISCHARGE = "WW"
OBJECTIVES = ("freshwater", "cost")
SUPPLY_KINDS = ("fresh", "reclaimed", "rain", "other")
#: Label of the units that belong to no plant of a park (shared supplies, regenerators, discharges) in reports.
PARK_LEVEL = "(park)"


@dataclass(frozen=True)
class Field:
    """One field of a unit table.

    Attributes
    ----------
    name : str
        Key in the plant file and column name in the table.
    kind : {'float', 'str', 'bool', 'conc'}
        ``conc`` is a per-contaminant mapping, stored as one column per contaminant.
    unit : str
        Canonical unit of the stored value ('' when dimensionless).
    default : Any
        Value used when the field is absent (NaN: no value / no limit).
    required : bool
        Whether the plant file must give it.
    doc : str
        One-line meaning, used in messages and documentation.
    """

    name: str
    kind: str
    unit: str = ""
    default: Any = math.nan
    required: bool = False
    doc: str = ""


NAN = math.nan

#: The tables of a plant, their fields, canonical units and defaults (described once).
SCHEMA: dict[str, tuple[Field, ...]] = {
    "freshwater": (
        Field("quality", "conc", "ppm", 0.0, doc="concentration of each contaminant (missing: 0)"),
        Field("price", "float", "money/t", 0.0, doc="price of the water"),
        Field("max_flow", "float", "t/h", NAN, doc="availability cap (NaN: none)"),
        Field("kind", "str", "", "fresh", doc="fresh | reclaimed | rain | other"),
        Field("plant", "str", "", None, doc="plant of a park the unit belongs to (absent: the park itself)"),
    ),
    "sinks": (
        Field("flow", "float", "t/h", NAN, required=True, doc="fixed inlet flow"),
        Field("max", "conc", "ppm", NAN, doc="maximum inlet concentration (NaN: no limit)"),
        Field("unit", "str", "", None, doc="process unit; sinks and sources of one unit never connect"),
        Field("plant", "str", "", None, doc="plant of a park the unit belongs to (absent: the park itself)"),
    ),
    "sources": (
        Field("flow", "float", "t/h", NAN, required=True, doc="fixed outlet flow"),
        Field("quality", "conc", "ppm", 0.0, doc="fixed outlet concentration (missing: 0)"),
        Field("unit", "str", "", None, doc="process unit; sinks and sources of one unit never connect"),
        Field("plant", "str", "", None, doc="plant of a park the unit belongs to (absent: the park itself)"),
    ),
    "operations": (
        Field("load", "conc", "kg/h", 0.0, doc="contaminant mass picked up (missing: 0)"),
        Field("max_inlet", "conc", "ppm", NAN, doc="maximum inlet concentration (NaN: no limit)"),
        Field("max_outlet", "conc", "ppm", NAN, doc="maximum outlet concentration (NaN: no limit)"),
        Field("max_flow", "float", "t/h", NAN, doc="throughput cap (NaN: none)"),
        Field("local_recycle", "bool", "", False, doc="outlet may return to the unit's own inlet"),
        Field("water_loss", "float", "t/h", 0.0, doc="water lost through the unit (evaporation, product); "
              "negative: water gained"),
        Field("plant", "str", "", None, doc="plant of a park the unit belongs to (absent: the park itself)"),
    ),
    "regenerators": (
        Field("outlet", "conc", "ppm", NAN, doc="fixed outlet concentration (NaN: not specified)"),
        Field("removal", "conc", "", NAN, doc="fraction removed, 0..1 (NaN: not specified)"),
        Field("max_flow", "float", "t/h", NAN, doc="capacity (NaN: none)"),
        Field("recycle", "bool", "", True, doc="may return water to the units that feed it"),
        Field("cost_fixed", "float", "money/yr", 0.0, doc="annual cost if installed"),
        Field("cost_per_t", "float", "money/t", 0.0, doc="cost per t treated"),
        Field("cost_capital_a", "float", "money", 0.0, doc="capital cost a * Q^b if installed (Q in t/h)"),
        Field("cost_capital_b", "float", "", 0.7, doc="exponent b of the capital cost, 0 < b <= 1"),
        Field("min_flow", "float", "t/h", 0.0, doc="smallest flow when installed"),
        Field("plant", "str", "", None, doc="plant of a park the unit belongs to (absent: the park itself)"),
    ),
    "discharges": (
        Field("max", "conc", "ppm", NAN, doc="limit on the mixed discharge (NaN: no limit)"),
        Field("price", "float", "money/t", 0.0, doc="price per t discharged"),
        Field("plant", "str", "", None, doc="plant of a park the unit belongs to (absent: the park itself)"),
    ),
}

#: Singular names of the tables, used in messages ("sink 'boiler_feed'").
KIND_NAMES: dict[str, str] = {
    "freshwater": "supply",
    "sinks": "sink",
    "sources": "source",
    "operations": "operation",
    "regenerators": "regenerator",
    "discharges": "discharge",
}


def is_missing(value: Any) -> bool:
    """Return True for None and NaN (a missing number or an absent limit)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


@dataclass(frozen=True)
class Record:
    """One unit as given: its table, id and field values (canonical units)."""

    table: str
    id: str
    values: Mapping[str, Any]


class Plant:
    """A plant's water supplies, users, regenerators, discharges and allowed connections.

    Parameters
    ----------
    name : str
        Name of the plant.
    contaminants : sequence of str, or str
        Contaminant names, one or more (a single string is one name).
    description : str, optional
        Free text.
    units : dict, optional
        The units the plant file uses (keys ``flow``, ``concentration``, ``load``, ``money``).
        They only matter for input, output and reports: the tables are in canonical units.
    hours_per_year : float, default 8000
        Operating hours, turning t/h into t/yr and money/h into money/yr.
    objective : {'freshwater', 'cost'}, default 'freshwater'
        The objective the plant file asks for.
    min_flow : float, default 0
        ``connections.min_flow``: the smallest flow (t/h) a used pipe must carry.
    pipe_cost_fixed : float, default 0
        ``connections.pipe_cost.fixed``: annual cost of each new pipe (money/yr).
    finance : dict, optional
        How capital turns into money per year: ``{"interest_rate": i, "lifetime": n}`` (capital
        recovery factor ``i (1 + i)^n / ((1 + i)^n - 1)``) or ``{"annualisation_factor": f}``.
        Needed when a regenerator has a capital cost (see :meth:`annualisation`).
    piping : dict, optional
        The piping economics of ``connections`` (canonical units; :mod:`cascade.economics`):
        ``capital``, ``per_metre``, ``classes`` (list of ``{max_flow, capital, per_metre}``),
        ``remove_cost``, ``max_new_pipes``, ``max_inlets``, ``budget``, and ``exchange``
        (``{capital, per_metre}`` of a pipe between plants of a park).
    layout : dict, optional
        Where the units are, for pipe lengths (:mod:`cascade.economics`): ``coordinates``
        (id -> (x, y) in m), ``metric`` ('manhattan' or 'euclidean'), ``distances`` (list of
        ``(a, b, metres)``); for a park (:mod:`cascade.park`) ``plants`` (plant id -> gate
        (x, y)) and ``plant_distances`` (list of ``(site, site, metres)``).
    industry : str, optional
        The plant's industry for the policy criteria (:data:`cascade.eligibility.INDUSTRIES`).
    indicator_data : dict, optional
        The plant file's ``indicators``, the data indicators need beyond the network
        (:func:`cascade.kpi.plant_indicators`), canonical units: ``recirculation`` (t/h, a number
        or a mapping loop name -> t/h: water circulated inside units the network does not draw,
        counted as reused), ``value_added`` (money/yr), ``it_energy`` (kWh/yr) and ``production``
        (list of ``{product, amount, unit, share, quota_advanced, quota_source}``, amount per year).
    meters : iterable of Meter, optional
        The plant's meters (:class:`cascade.metering.Meter`, canonical units), for a water balance
        test; a meter's ``at`` given as a list becomes a tuple. Checked by :meth:`validate`
        (code ``bad_meter``).
    periods : list of dict, optional
        Operating periods one design must serve (:mod:`cascade.periods`): each
        ``{"id": name, "hours": h/yr, "changes": {dotted path: value}}``, the changes written
        in the plant file's units as in :func:`cascade.sweep.apply_changes`.

    Attributes
    ----------
    limit_sources : dict
        Where limits written as a standard reference (``max: {standard: GB/T 18920-2020, use:
        urban_greening}``, :mod:`cascade.standards`) come from, keyed by ``(table, unit id, field)``
        (e.g. ``("sinks", "irrigation", "max")``). Each value is the ``source`` of
        :func:`cascade.standards.resolve_reference`: ``standard``, ``use``, ``map``,
        ``unverified``, ``optional``, ``alternative`` (the reference as given); ``limits``
        (contaminant -> ``{"value": ppm, "parameter", "verification", "unit"}`` of each number taken
        from the standard); ``overrides`` (contaminant -> ``{"value": ppm, "replaces": the
        standard's number or None}``, the plant's own numbers); ``skipped`` and ``not_modelled``
        (entries of :func:`cascade.standards.sink_limits` with the reason); ``no_limit``
        (contaminants the standard does not limit) and ``unmatched`` (upper limits of the use that
        no contaminant takes). The resolved numbers are ordinary limits in the tables; writing the
        plant writes the reference back, not the numbers.
    meters : list of Meter
        The plant's meters in the order given (:meth:`add_meter`, the plant file's ``meters``).

    Notes
    -----
    The ``add_*`` builders take values in canonical units (t/h, ppm, kg/h, money per t,
    money per year) and return the plant itself so calls can be chained. Checks of meaning
    (unknown ids, impossible limits, ...) are done by :meth:`validate`, not by the builders.
    A sink's or discharge's ``max`` and an operation's ``max_inlet`` may be a standard
    reference, as in a plant file (its own numbers in ppm).
    """

    def __init__(
        self,
        name: str,
        contaminants: Iterable[str],
        *,
        description: str = "",
        units: Mapping[str, str] | None = None,
        hours_per_year: float = 8000.0,
        objective: str = "freshwater",
        min_flow: float = 0.0,
        pipe_cost_fixed: float = 0.0,
        finance: Mapping[str, float] | None = None,
        piping: Mapping[str, Any] | None = None,
        layout: Mapping[str, Any] | None = None,
        periods: Iterable[Mapping[str, Any]] | None = None,
        industry: str | None = None,
        indicator_data: Mapping[str, Any] | None = None,
        meters: Iterable[Meter] | None = None,
    ) -> None:
        self.name = str(name)
        if isinstance(contaminants, str):  # Plant("x", "COD") means one contaminant, not three
            contaminants = [contaminants]
        self.contaminants: list[str] = [str(c) for c in contaminants]
        self.description = description or ""
        self.units: dict[str, str] = {**DEFAULT_UNITS, **(units or {})}
        self.hours_per_year = _number(hours_per_year, "plant", "hours_per_year")
        self.objective = objective
        self.min_flow = _number(min_flow, "connections", "min_flow")
        self.pipe_cost_fixed = _number(pipe_cost_fixed, "connections", "pipe_cost.fixed")
        self.finance: dict[str, float] = {str(k): _number(v, "finance", str(k)) for k, v in (finance or {}).items()}
        self.piping: dict[str, Any] = dict(piping or {})
        self.layout: dict[str, Any] = dict(layout or {})
        self.periods: list[dict[str, Any]] = [dict(p) for p in periods or ()]
        self.industry = None if industry is None else str(industry)
        self.indicator_data: dict[str, Any] = copy.deepcopy(dict(indicator_data or {}))
        self.meters: list[Meter] = [_meter(m) for m in meters or ()]
        self.forbidden: list[tuple[str, str]] = []
        self.required: list[tuple[str, str]] = []
        self.existing: list[tuple[str, str, float]] = []
        self.validation = None  # the ValidationReport kept by read_plant
        self.limit_sources: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._records: dict[str, list[Record]] = {table: [] for table in SCHEMA}
        self._cache: dict[str, pd.DataFrame] = {}

    # ------------------------------------------------------------------ builders
    def _add(self, table: str, id: str, **values: Any) -> Plant:
        fields = {f.name: f for f in SCHEMA[table]}
        clean: dict[str, Any] = {}
        sources: dict[str, dict[str, Any]] = {}
        where = f"{KIND_NAMES[table]} '{id}'"
        for key, value in values.items():
            field = fields[key]
            if field.kind == "conc" and is_reference(value):
                if (table, key) not in STANDARD_FIELDS:
                    raise PlantDataError(f"{where}: '{key}' cannot name a standard; {STANDARD_WHERE} can")
                try:
                    value, sources[key] = resolve_reference(value, self.contaminants)
                except PlantDataError as exc:  # same class (UnknownStandardError, ...), the unit named
                    raise type(exc)(f"{where}: {key}: {exc}", problems=[
                        f"{where}: {key}: {problem}" for problem in exc.problems]) from None
            clean[key] = _coerce(field, value, where)
        self._records[table].append(Record(table, str(id), clean))
        for key, source in sources.items():
            self.limit_sources[(table, str(id), key)] = source
        self._cache.clear()
        return self

    def add_freshwater(
        self,
        id: str,
        quality: Mapping[str, float] | None = None,
        *,
        price: float = 0.0,
        max_flow: float | None = None,
        kind: str = "fresh",
        plant: str | None = None,
    ) -> Plant:
        """Add a supply of new water (取水): mains, wells, reclaimed municipal water, rain.

        ``plant`` (every builder): the plant of a park the unit belongs to; None for the park itself.
        """
        return self._add("freshwater", id, quality=quality, price=price, max_flow=max_flow, kind=kind, plant=plant)

    def add_sink(
        self,
        id: str,
        flow: float,
        max: Mapping[str, Any] | None = None,  # noqa: A002 - the plant file's name
        *,
        unit: str | None = None,
        plant: str | None = None,
    ) -> Plant:
        """Add a fixed-flow demand with maximum inlet concentrations (ppm).

        ``max`` may also be a standard reference such as ``{"standard": "GB/T 18920-2020", "use":
        "urban_greening"}`` (:func:`cascade.standards.resolve_reference`; its source goes to
        :attr:`limit_sources`); the same holds for a discharge's ``max`` and an operation's ``max_inlet``.
        """
        return self._add("sinks", id, flow=flow, max=max, unit=unit, plant=plant)

    def add_source(
        self,
        id: str,
        flow: float,
        quality: Mapping[str, float] | None = None,
        *,
        unit: str | None = None,
        plant: str | None = None,
    ) -> Plant:
        """Add a fixed-flow wastewater stream of fixed quality (ppm)."""
        return self._add("sources", id, flow=flow, quality=quality, unit=unit, plant=plant)

    def add_operation(
        self,
        id: str,
        load: Mapping[str, float],
        max_inlet: Mapping[str, Any] | None = None,
        max_outlet: Mapping[str, float] | None = None,
        *,
        max_flow: float | None = None,
        local_recycle: bool = False,
        water_loss: float = 0.0,
        plant: str | None = None,
    ) -> Plant:
        """Add a fixed-load (mass-transfer) operation: loads in kg/h, limits in ppm (``max_inlet`` may be a
        standard reference, as for :meth:`add_sink`)."""
        return self._add(
            "operations",
            id,
            load=load,
            max_inlet=max_inlet,
            max_outlet=max_outlet,
            max_flow=max_flow,
            local_recycle=local_recycle,
            water_loss=water_loss,
            plant=plant,
        )

    def add_regenerator(
        self,
        id: str,
        outlet: Mapping[str, float] | None = None,
        removal: Mapping[str, float] | None = None,
        *,
        max_flow: float | None = None,
        recycle: bool = True,
        cost_fixed: float = 0.0,
        cost_per_t: float = 0.0,
        cost_capital_a: float = 0.0,
        cost_capital_b: float = 0.7,
        min_flow: float = 0.0,
        plant: str | None = None,
    ) -> Plant:
        """Add a regenerator (treatment unit): fixed outlet (ppm) or removal fraction per contaminant."""
        return self._add(
            "regenerators",
            id,
            outlet=outlet,
            removal=removal,
            max_flow=max_flow,
            recycle=recycle,
            cost_fixed=cost_fixed,
            cost_per_t=cost_per_t,
            cost_capital_a=cost_capital_a,
            cost_capital_b=cost_capital_b,
            min_flow=min_flow,
            plant=plant,
        )

    def add_discharge(
        self,
        id: str,
        max: Mapping[str, Any] | None = None,  # noqa: A002 - the plant file's name
        *,
        price: float = 0.0,
        plant: str | None = None,
    ) -> Plant:
        """Add a place where wastewater leaves the plant, with limits on the mixed discharge (ppm, or a
        standard reference as for :meth:`add_sink`)."""
        return self._add("discharges", id, max=max, price=price, plant=plant)

    def forbid(self, source: str, target: str) -> Plant:
        """Never allow a pipe from ``source`` to ``target``."""
        self.forbidden.append((str(source), str(target)))
        return self

    def require(self, source: str, target: str) -> Plant:
        """Require a pipe from ``source`` to ``target`` that carries flow."""
        self.required.append((str(source), str(target)))
        return self

    def add_existing(self, source: str, target: str, flow: float) -> Plant:
        """Record a pipe of today's plant and its flow (t/h): the retrofit baseline."""
        value = _coerce(Field("flow", "float", "t/h"), flow, f"existing pipe {source} -> {target}")
        self.existing.append((str(source), str(target), value))
        return self

    def add_meter(
        self,
        id: str,
        at: str | tuple[str, str] | list[str],
        *,
        quantity: str = QUANTITY_FLOW,
        rsd: float | None = None,
        sd: float | None = None,
        accuracy_class: float | None = None,
        level: int | None = None,
        description: str = "",
        repeatability: float | None = None,
    ) -> Plant:
        """Add a meter (:class:`cascade.metering.Meter`) for a water balance test.

        Parameters
        ----------
        id : str
            The meter's tag, e.g. ``FT-101``.
        at : str or pair of str
            A unit id, or a pipe ``(from, to)`` (a list is stored as a tuple).
        quantity : str, default 'flow'
            ``'flow'`` or the name of a contaminant (an analyser).
        rsd, sd, accuracy_class : float, optional
            The accuracy, one of the three: relative standard deviation (fraction of the reading),
            absolute standard deviation in canonical units (t/h, ppm), or maximum permissible error in
            percent of the reading (``rsd = accuracy_class / 200``).
        level : int, optional
            Metering level 1, 2 or 3 (GB/T 24789-2022).
        description : str, optional
            Free text.
        repeatability : float, optional
            The random part of the accuracy, a relative standard deviation (see
            :mod:`cascade.metering`); without it the whole error is systematic.

        Returns
        -------
        Plant
            The plant itself, so calls chain. The meter's meaning (ids, quantity, one accuracy) is
            checked by :meth:`validate`.

        Examples
        --------
        >>> from cascade import examples
        >>> plant = examples.wang_smith().add_meter("FT-1", ("FW", "OP1"), rsd=0.02, level=2)
        >>> plant.meters[0].at, plant.meters[0].standard_deviation(20.0)
        (('FW', 'OP1'), 0.4)
        """
        where = f"meter '{id}'"
        numbers_ = {
            name: None if value is None else _number(value, where, name)
            for name, value in (("rsd", rsd), ("sd", sd), ("accuracy_class", accuracy_class),
                                ("repeatability", repeatability))
        }
        if level is not None:
            level = _number(level, where, "level")
            level = int(level) if level.is_integer() else level  # a level such as 2.5 is reported by validate
        meter = Meter(str(id), as_location(at), str(quantity), level=level, description=str(description or ""),
                      **numbers_)
        self.meters.append(meter)
        return self

    # ------------------------------------------------------------------ tables
    def records(self, table: str) -> list[Record]:
        """The units of one table as given (no default discharge added)."""
        return list(self._records[table])

    def table(self, table: str) -> pd.DataFrame:
        """Return one table as a DataFrame indexed by id (canonical units).

        Per-contaminant fields become columns ``"<field>:<contaminant>"``. For the
        ``discharges`` table, a plant without any discharge gets the default unconstrained
        discharge ``"WW"``, as the file format says.
        """
        if table not in self._cache:
            records = self._records[table]
            if table == "discharges" and not records:
                records = [Record("discharges", DEFAULT_DISCHARGE, {})]
            self._cache[table] = _frame(SCHEMA[table], records, self.contaminants)
        return self._cache[table].copy()

    @property
    def freshwater(self) -> pd.DataFrame:
        """Supplies of new water: ``quality:<c>`` (ppm), ``price``, ``max_flow`` (t/h), ``kind``."""
        return self.table("freshwater")

    @property
    def sinks(self) -> pd.DataFrame:
        """Fixed-flow demands: ``flow`` (t/h), ``max:<c>`` (ppm), ``unit``."""
        return self.table("sinks")

    @property
    def sources(self) -> pd.DataFrame:
        """Fixed-flow wastewater streams: ``flow`` (t/h), ``quality:<c>`` (ppm), ``unit``."""
        return self.table("sources")

    @property
    def operations(self) -> pd.DataFrame:
        """Fixed-load operations: ``load:<c>`` (kg/h), ``max_inlet:<c>``, ``max_outlet:<c>`` (ppm), ..."""
        return self.table("operations")

    @property
    def regenerators(self) -> pd.DataFrame:
        """Regenerators: ``outlet:<c>`` (ppm), ``removal:<c>``, ``max_flow``, ``recycle``, costs."""
        return self.table("regenerators")

    @property
    def discharges(self) -> pd.DataFrame:
        """Discharges: ``max:<c>`` (ppm), ``price`` (money/t); the default ``WW`` if none given."""
        return self.table("discharges")

    def concentrations(self, table: str, field: str) -> pd.DataFrame:
        """Return one per-contaminant field of a table as an id x contaminant DataFrame.

        Examples
        --------
        >>> from cascade import examples
        >>> float(examples.wang_smith().concentrations("operations", "max_outlet").loc["OP3", "C"])
        800.0
        """
        frame = self.table(table)
        columns = [f"{field}:{c}" for c in self.contaminants]
        out = frame[columns].copy()
        out.columns = list(self.contaminants)
        return out

    def kind_of(self) -> dict[str, str]:
        """Map every unit id to its table name (the default discharge included)."""
        kinds: dict[str, str] = {}
        for table in SCHEMA:
            for unit_id in self.table(table).index:
                kinds.setdefault(unit_id, table)
        return kinds

    def ids(self) -> list[str]:
        """All unit ids, in table order."""
        return list(self.kind_of())

    # ------------------------------------------------------------------ services
    def validate(self, strict: bool = False):
        """Run the coded checks of :mod:`cascade.validation`.

        Parameters
        ----------
        strict : bool, default False
            Raise :class:`~cascade.PlantDataError` listing every error instead of returning.

        Returns
        -------
        ValidationReport
        """
        from .validation import validate

        report = validate(self)
        if strict:
            report.raise_if_errors()
        return report

    def to_dict(self) -> dict[str, Any]:
        """Return the plant as a ``cascade-plant/1`` mapping in the plant's declared units."""
        from .io import plant_to_dict

        return plant_to_dict(self)

    def to_yaml(self, path: str | None = None) -> str:
        """Return the plant as ``cascade-plant/1`` YAML text; also write it to ``path`` if given."""
        from .io import write_plant, yaml_text

        if path is not None:
            write_plant(self, path)
        return yaml_text(self)

    def recirculation(self) -> float:
        """Declared recirculation in t/h (``indicators.recirculation``, summed over its loops)."""
        value = self.indicator_data.get("recirculation", 0.0)
        return float(sum(value.values())) if isinstance(value, Mapping) else float(value)

    def annualisation(self) -> float | None:
        """The factor that turns a capital cost into money per year, or None without ``finance``.

        ``finance.annualisation_factor`` when given; otherwise the capital recovery factor of
        ``interest_rate`` ``i`` over ``lifetime`` ``n`` years, ``i (1 + i)^n / ((1 + i)^n - 1)``
        (``1 / n`` at ``i = 0``).

        Examples
        --------
        >>> round(Plant("x", ["C"], finance={"interest_rate": 0.08, "lifetime": 10}).annualisation(), 4)
        0.149
        """
        if "annualisation_factor" in self.finance:
            return self.finance["annualisation_factor"]
        i, n = self.finance.get("interest_rate"), self.finance.get("lifetime")
        if i is None or n is None or n <= 0:
            return None
        return 1.0 / n if i == 0 else i * (1 + i) ** n / ((1 + i) ** n - 1)

    def equals(self, other: object) -> bool:
        """True when both plants describe the same data (names, tables, connections, settings, meters)."""
        if not isinstance(other, Plant):
            return False
        same_tables = all(
            self.table(t).equals(other.table(t)) and self.table(t).dtypes.equals(other.table(t).dtypes)
            for t in SCHEMA
        )
        return same_tables and _settings(self) == _settings(other)

    def __repr__(self) -> str:
        counts = ", ".join(
            [f"{len(self._records[t])} {t}" for t in SCHEMA if self._records[t]]
            + ([f"{len(self.meters)} meters"] if self.meters else [])
        )
        return f"<Plant {self.name!r}: {counts or 'empty'}; contaminants {self.contaminants}>"


# ---------------------------------------------------------------------- helpers
def _settings(plant: Plant) -> tuple:
    return (
        plant.name,
        plant.description,
        tuple(plant.contaminants),
        tuple(sorted(plant.units.items())),
        plant.hours_per_year,
        plant.objective,
        plant.min_flow,
        plant.pipe_cost_fixed,
        tuple(sorted(plant.finance.items())),
        repr(sorted(plant.piping.items())),
        repr(sorted(plant.layout.items())),
        repr(plant.periods),
        plant.industry,
        repr(plant.indicator_data),
        tuple(plant.forbidden),
        tuple(plant.required),
        tuple(plant.existing),
        repr(sorted(plant.limit_sources.items())),
        tuple(plant.meters),
    )


def _meter(meter: Any) -> Meter:
    """A meter given to :class:`Plant`, its ``at`` a str or a tuple."""
    if not isinstance(meter, Meter):
        raise PlantDataError(f"meters must be cascade.metering.Meter records, got {meter!r}")
    at = as_location(meter.at)
    return meter if at == meter.at and type(at) is type(meter.at) else replace(meter, at=at)


def _number(value: Any, where: str, name: str) -> float:
    """Return ``value`` as a float (numpy numbers and numeric strings accepted), or raise."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real | str):
        raise PlantDataError(f"{where}: '{name}' must be a number, got {value!r}")
    try:
        return float(value)
    except ValueError:
        raise PlantDataError(f"{where}: '{name}' must be a number, got {value!r}") from None
    except OverflowError:
        raise PlantDataError(f"{where}: '{name}' is too large to be a number ({value!r})") from None


def _coerce(field: Field, value: Any, where: str) -> Any:
    """Turn a builder argument into the stored value, or raise a message naming the field.

    ``None`` stands for the field's default, as an absent field does in a plant file.
    """
    if field.kind == "float":
        return field.default if value is None else _number(value, where, field.name)
    if field.kind == "bool":
        if not isinstance(value, bool | np.bool_):
            raise PlantDataError(f"{where}: '{field.name}' must be true or false, got {value!r}")
        return bool(value)
    if field.kind == "str":
        return None if value is None else str(value)
    # per-contaminant mapping
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PlantDataError(
            f"{where}: '{field.name}' must map contaminant names to numbers, e.g. {{COD: 10}}; "
            f"got {value!r}"
        )
    return {str(c): _number(v, where, f"{field.name}.{c}") for c, v in value.items()}


def _frame(fields: tuple[Field, ...], records: list[Record], contaminants: list[str]) -> pd.DataFrame:
    columns: dict[str, list[Any]] = {}
    dtypes: dict[str, str] = {}
    for field in fields:
        if field.kind == "conc":
            for c in contaminants:
                columns[f"{field.name}:{c}"] = [
                    r.values.get(field.name, {}).get(c, field.default) for r in records
                ]
                dtypes[f"{field.name}:{c}"] = "float64"
        else:
            columns[field.name] = [r.values.get(field.name, field.default) for r in records]
            dtypes[field.name] = {"float": "float64", "bool": "bool", "str": "object"}[field.kind]
    index = pd.Index([r.id for r in records], name="id", dtype="object")
    # each column built with its dtype: inferring first would turn a text column's None into NaN (pandas >= 3)
    return pd.DataFrame({k: pd.Series(v, index=index, dtype=dtypes[k]) for k, v in columns.items()}, index=index)
