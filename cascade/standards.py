"""Water-quality standards shipped with cascade, and the sink limits they give.

The library (package data ``cascade/data/standards.json``, format ``cascade-standards/1``) holds
reuse and discharge standards: GB/T 18920-2020 (urban miscellaneous reuse), GB/T 19923-2005
(industrial reuse), GB/T 18921-2002 (landscape water), GB 5084-2005 (farmland irrigation),
GB 8978-1996 (integrated discharge, Table 4), GB/T 31962-2015 (discharge to sewers: no numbers,
see below), EU 2020/741 (agricultural irrigation) and the US EPA 2012 guidelines (a subset).
For each standard and each **use** (a column of its table, e.g. ``urban_greening``, ``grade_3``)
it gives the limit of every **parameter** (``BOD5``, ``NH3_N``, ``pH``, ...) with its unit.

Every number carries a **verification** level, from its standard or its own where it differs:

====  =====================================================================================
T     a transcription stated to be checked page by page against the official text
S     one secondary source reproducing the table
S2    two or more independent secondary sources agree
P     partial: the number was seen but its column was inferred, or the sources disagree
U     unverified: not found in any source
====  =====================================================================================

Only T, S and S2 numbers are used by default; P and U numbers only when asked
(``include_unverified=True``, in a plant file ``unverified: true``). ``Standard.source`` says where
the numbers come from and what was checked. No official text was read: check a design's limits
against the standard before relying on them.

A limit is one of five kinds: ``max`` (value <= max), ``min`` (value >= min: dissolved oxygen,
residual chlorine), ``range`` (pH), ``text`` (odour, "in accordance with Directive ...") and
``max_exclusive`` (value < max). Only ``max`` limits become mixing limits of a plant: mixing dilutes
a pollutant, but a minimum, a pH range or a text is a requirement on the treated water, not a
concentration that flow-weighted mixing keeps below a number; :func:`sink_limits` lists them as
*not modelled*. A ``max`` may carry ``alt_max`` (another limit under ``alt_condition``, used with
``alternative=True``) or be ``optional`` (a selective item, used with ``optional=True``).

Matching parameters to a plant's contaminants: a contaminant takes the parameter that ``mapping``
names (plant contaminant -> parameter), else the parameter whose name or alias it has
(case, spaces, ``_``, ``-``, ``.`` and brackets ignored). The aliases (:data:`ALIASES`):

======================  ==================================================================
parameter               also matched by
======================  ==================================================================
BOD5                    BOD, BOD_5, biochemical oxygen demand
COD                     CODcr, COD_Cr, COD(Cr), chemical oxygen demand (not CODMn)
SS                      TSS, suspended solids, total suspended solids
NH3_N                   NH3-N, ammonia, ammonia-N, ammonia nitrogen (as N; bare NH3 is not
                        matched: mg/L of NH3 is not mg/L of N)
TN, TP, TDS             total nitrogen, total phosphorus, (total) dissolved solids
petroleum_oil           oil, petroleum, mineral oil
animal_vegetable_oil    animal and vegetable oil
LAS                     anionic surfactant(s)
chloride, sulfate       Cl, sulphate, SO4
color, DO, E_coli       colour, dissolved oxygen, E. coli
fecal_coliform          faecal coliform(s)
total_hardness_CaCO3    hardness, total hardness
total_alkalinity_CaCO3  alkalinity, total alkalinity
SiO2, Cr6, phosphate_P  silica; CrVI, hexavalent chromium; phosphate
Fe, Mn, Cu, Zn, Hg,     iron, manganese, copper, zinc, mercury, cadmium, arsenic, lead
Cd, As, Pb
sulfide                 sulphide
======================  ==================================================================

Units: a limit in mg/L is read as ppm (dilute water), the plant's canonical concentration. A limit
in another unit (NTU, Pt-Co units, dilution factor, MPN/100 mL, ...) is applied only to a
contaminant that ``mapping`` maps to it explicitly, as a number in that unit; the provenance records
the unit.

A standard without numbers for a use (GB/T 31962-2015: its grade A/B/C table was not found) gives
an error: give the numbers yourself.

Examples
--------
>>> from cascade import standards
>>> limits, provenance = standards.sink_limits("GB/T 18920-2020", "urban_greening", contaminants=["BOD5", "NH3-N"])
>>> limits
{'BOD5': 10.0, 'NH3-N': 8.0}
>>> standards.get_standard("gb 8978-1996").limits("grade_1")["COD"].value
100.0
"""

from __future__ import annotations

import difflib
import json
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from .exceptions import CascadeError, PlantDataError, StandardLimitError, UnknownStandardError, summarise

#: Package data file of the library and its format string.
RESOURCE = "standards.json"
FORMAT = "cascade-standards/1"
#: Verification levels, most certain first, and those used by default.
LEVELS = ("T", "S2", "S", "P", "U")
VERIFIED = ("T", "S2", "S")
#: The kinds of limit; only ``max`` is a mixing limit.
KINDS = ("max", "min", "range", "text", "max_exclusive")
#: The unit read as the plant's ppm.
MASS_UNIT = "mg/L"
#: The keys of a standard reference in a plant file; every other key is a contaminant's own number.
REFERENCE_KEYS = ("standard", "use", "map", "unverified", "optional", "alternative")
#: The limit fields of a plant that may name a standard: (table, field).
STANDARD_FIELDS = (("sinks", "max"), ("discharges", "max"), ("operations", "max_inlet"))
#: The same, as messages name them.
STANDARD_WHERE = "only a sink's or discharge's 'max' and an operation's 'max_inlet'"

#: Other names of a parameter (normalised: see :func:`normalise`); a parameter's own name always matches.
ALIASES: dict[str, tuple[str, ...]] = {
    "BOD5": ("bod", "biochemicaloxygendemand"),
    "COD": ("codcr", "chemicaloxygendemand"),
    "SS": ("tss", "suspendedsolids", "totalsuspendedsolids"),
    "NH3_N": ("ammonia", "ammonian", "ammonianitrogen", "ammoniacalnitrogen"),
    "TN": ("totalnitrogen",),
    "TP": ("totalphosphorus",),
    "TDS": ("totaldissolvedsolids", "dissolvedsolids"),
    "petroleum_oil": ("oil", "petroleum", "mineraloil"),
    "animal_vegetable_oil": ("animalandvegetableoil",),
    "LAS": ("anionicsurfactant", "anionicsurfactants"),
    "chloride": ("cl",),
    "sulfate": ("sulphate", "so4"),
    "color": ("colour",),
    "DO": ("dissolvedoxygen",),
    "fecal_coliform": ("faecalcoliform", "fecalcoliforms", "faecalcoliforms"),
    "total_hardness_CaCO3": ("hardness", "totalhardness"),
    "total_alkalinity_CaCO3": ("alkalinity", "totalalkalinity"),
    "SiO2": ("silica",),
    "Cr6": ("crvi", "hexavalentchromium", "chromiumvi"),
    "phosphate_P": ("phosphate",),
    "Fe": ("iron",),
    "Mn": ("manganese",),
    "Cu": ("copper",),
    "Zn": ("zinc",),
    "Hg": ("mercury",),
    "Cd": ("cadmium",),
    "As": ("arsenic",),
    "Pb": ("lead",),
    "sulfide": ("sulphide",),
}

_LEVEL_TEXT = {
    "T": "transcription checked page by page",
    "S": "one secondary source",
    "S2": "two secondary sources agree",
    "P": "partial: column inferred or sources disagree",
    "U": "unverified",
}


@dataclass(frozen=True)
class Limit:
    """One parameter's limit for one use of a standard.

    Attributes
    ----------
    parameter : str
        The library's name (``BOD5``, ``NH3_N``, ``pH``; see :func:`parameter_names`).
    kind : {'max', 'min', 'range', 'text', 'max_exclusive'}
    value : float, (float, float) or str
        The number (``max``, ``min``, ``max_exclusive``), ``(low, high)`` (``range``) or the text.
    unit : str
        ``mg/L``, ``NTU``, ``-`` (dimensionless), ...
    verification : {'T', 'S2', 'S', 'P', 'U'}
        Its own level where the library gives one, else its standard's.
    optional : bool
        A selective item: the user decides whether it applies.
    alt_max : float, optional
        Another upper limit, applying under ``alt_condition``.
    alt_condition : str, optional
    note : str, optional
    """

    parameter: str
    kind: str
    value: float | tuple[float, float] | str
    unit: str
    verification: str
    optional: bool = False
    alt_max: float | None = None
    alt_condition: str | None = None
    note: str | None = None

    @property
    def verified(self) -> bool:
        """True for the levels used by default (T, S2, S)."""
        return self.verification in VERIFIED

    def requirement(self) -> str:
        """The limit as text, e.g. ``'<= 10 mg/L'``, ``'6.0-9.0'``, ``'>= 2.0 mg/L'``.

        Examples
        --------
        >>> get_standard("GB/T 18920-2020").limits("urban_greening")["TDS"].requirement()
        '<= 1000 mg/L (2000 where: coastal areas / local source water with high dissolved solids (note a))'
        """
        unit = "" if self.unit == "-" else f" {self.unit}"
        if self.kind == "range":
            low, high = self.value  # a (low, high) pair
            return f"{_num(low)}-{_num(high)}{unit}"
        if self.kind == "text":
            return str(self.value)
        sign = {"max": "<=", "min": ">=", "max_exclusive": "<"}[self.kind]
        text = f"{sign} {_num(self.value)}{unit}"
        if self.alt_max is not None:
            text += f" ({_num(self.alt_max)} where: {self.alt_condition})"
        return text

    def to_dict(self) -> dict[str, Any]:
        """The limit as in the library file, with its verification always given."""
        out: dict[str, Any] = {self.kind: list(self.value) if self.kind == "range" else self.value,
                               "unit": self.unit, "verification": self.verification}
        for key in ("optional", "alt_max", "alt_condition", "note"):
            value = getattr(self, key)
            if value not in (None, False):
                out[key] = value
        return out


@dataclass(frozen=True)
class Standard:
    """A water-quality standard of the library.

    Attributes
    ----------
    id : str
        E.g. ``'GB/T 18920-2020'`` (:func:`get_standard` accepts any case and spacing).
    year : int
    title, status : str
    verification : {'T', 'S2', 'S', 'P', 'U'}
        The level of its numbers, unless a limit gives its own.
    source : str
        Provenance: the sources of the numbers and what was checked for cascade.
    notes : tuple of str
    uses : mapping of str to mapping of str to Limit
        Use (a column of the standard's table) -> parameter -> limit, in the standard's order.
    """

    id: str
    year: int
    title: str
    status: str
    verification: str
    source: str
    notes: tuple[str, ...]
    uses: Mapping[str, Mapping[str, Limit]]

    def limits(self, use: str) -> Mapping[str, Limit]:
        """The limits of one use (parameter -> Limit).

        Raises
        ------
        StandardLimitError
            The standard has no such use; the message lists its uses.
        """
        if use not in self.uses:
            close = difflib.get_close_matches(str(use), list(self.uses), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise StandardLimitError(
                f"{self.id} has no use {str(use)!r}; {hint}its uses are: {', '.join(self.uses)}"
            )
        return self.uses[use]

    def parameters(self) -> list[str]:
        """Every parameter the standard limits in any use, in the order first met."""
        return list(dict.fromkeys(p for limits in self.uses.values() for p in limits))

    def summary(self, use: str | None = None) -> str:
        """The standard as text: a table of parameters by use (units, verification tags), then notes.

        A cell shows the limit (``<= 10``, ``>= 2``, ``6-9``, ``(text)``), ``(2000)`` for an
        alternative limit, ``opt`` for a selective item and ``[P]`` where a number's verification
        differs from the standard's; ``-`` where the use sets no limit. ``use`` keeps only that use.
        """
        uses = {use: self.limits(use)} if use is not None else dict(self.uses)
        lines = [
            f"{self.id} ({self.year}): {self.title}",
            f"status: {self.status}",
            f"verification: {self.verification} ({_LEVEL_TEXT[self.verification]}); a number marked [X] has "
            "its own level. Used by default: T, S2, S; P and U only on request",
            f"source: {self.source}",
        ]
        parameters = list(dict.fromkeys(p for limits in uses.values() for p in limits))
        if not parameters:
            lines.append(f"uses: {', '.join(uses)}: the library holds no numbers for them; give the limits yourself")
        else:
            lines += ["", *_table(parameters, uses, self.verification)]
            footnotes = _footnotes(parameters, uses)
            if footnotes:
                lines += ["", "limits in words, alternatives and notes:", *footnotes]
        if self.notes:
            lines += ["", "notes:", *(f"  - {note}" for note in self.notes)]
        return "\n".join(lines)

    def to_dict(self, use: str | None = None) -> dict[str, Any]:
        """The standard as plain data (JSON-ready); ``use`` keeps only that use."""
        uses = {use: self.limits(use)} if use is not None else self.uses
        return {
            "id": self.id, "year": self.year, "title": self.title, "status": self.status,
            "verification": self.verification, "source": self.source, "notes": list(self.notes),
            "uses": {u: {p: limit.to_dict() for p, limit in limits.items()} for u, limits in uses.items()},
        }


# ---------------------------------------------------------------------- the library
def standards() -> list[Standard]:
    """Every standard of the library, in the library's order (read once, then cached)."""
    return list(_library()[0])


def get_standard(id: str) -> Standard:  # noqa: A002 - the standard's own word
    """The standard with this id, matched without regard to case or runs of spaces.

    Raises
    ------
    UnknownStandardError
        No standard has that id; the message lists every id of the library.

    Examples
    --------
    >>> get_standard("gb/t  18920-2020").id
    'GB/T 18920-2020'
    """
    library, by_key, _ = _library()
    found = by_key.get(_id_key(id)) if isinstance(id, str) else None
    if found is None:
        ids = [s.id for s in library]
        close = difflib.get_close_matches(str(id), ids, n=1, cutoff=0.7)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise UnknownStandardError(f"unknown standard {str(id)!r}; {hint}the library has: {', '.join(ids)}")
    return found


def catalogue() -> str:
    """Every standard of the library on one line (id, year, verification, title), with its uses."""
    lines = []
    for std in standards():
        lines.append(f"{std.id:<16}  {std.year}  {std.verification:<2}  {std.title}")
        empty = "" if any(std.uses.values()) else " (no numbers in the library)"
        lines.append(f"{'':<16}  uses: {', '.join(std.uses)}{empty}")
    lines.append("")
    lines.append("verification: " + "; ".join(f"{k} {v}" for k, v in _LEVEL_TEXT.items())
                 + ". P and U numbers are used only on request ('unverified: true').")
    return "\n".join(lines)


def parameter_names() -> Mapping[str, str]:
    """The library's parameter names and what each is (mostly the Chinese name in the standards)."""
    return _library()[2]


def normalise(name: str) -> str:
    """A name reduced for matching: lower case, without spaces, ``_``, ``-``, ``.``, ``/``, ``+``,
    ``,`` and brackets (``'NH3-N'``, ``'nh3_n'`` and ``'NH3 N'`` all give ``'nh3n'``)."""
    return "".join(ch for ch in str(name).casefold() if not ch.isspace() and ch not in "_-./+,()[]")


def match_parameter(name: str, parameters: Iterable[str]) -> str | None:
    """The parameter among ``parameters`` that ``name`` names (its own name or an alias), or None.

    Examples
    --------
    >>> match_parameter("COD_Cr", ["BOD5", "COD"]), match_parameter("ammonia", ["NH3_N"]), match_parameter("X", ["COD"])
    ('COD', 'NH3_N', None)
    """
    key = normalise(name)
    for parameter in parameters:
        if key == normalise(parameter) or key in ALIASES.get(parameter, ()):
            return parameter
    return None


@cache
def _library() -> tuple[tuple[Standard, ...], dict[str, Standard], Mapping[str, str]]:
    text = resources.files("cascade").joinpath("data", RESOURCE).read_text(encoding="utf-8")
    data = json.loads(text)
    if data.get("format") != FORMAT:
        raise CascadeError(f"cascade/data/{RESOURCE}: format is {data.get('format')!r}, expected '{FORMAT}'")
    library = tuple(_standard(entry) for entry in data["standards"])
    by_key = {_id_key(s.id): s for s in library}
    return library, by_key, MappingProxyType(dict(data.get("parameters", {})))


def _id_key(id: str) -> str:  # noqa: A002
    return " ".join(id.split()).casefold()


def _standard(entry: Mapping[str, Any]) -> Standard:
    level = entry["verification"]
    uses = {
        use: MappingProxyType({p: _limit(entry["id"], use, p, spec, level) for p, spec in params.items()})
        for use, params in entry["uses"].items()
    }
    return Standard(
        id=entry["id"], year=int(entry["year"]), title=entry["title"], status=entry["status"],
        verification=_level(level, entry["id"]), source=entry["source"], notes=tuple(entry.get("notes", ())),
        uses=MappingProxyType(uses),
    )


def _limit(std: str, use: str, parameter: str, spec: Mapping[str, Any], level: str) -> Limit:
    kinds = [k for k in KINDS if k in spec]
    if len(kinds) != 1:
        raise CascadeError(f"cascade/data/{RESOURCE}: {std} {use} {parameter} must give one of {', '.join(KINDS)}")
    kind = kinds[0]
    raw = spec[kind]
    value: float | tuple[float, float] | str
    if kind == "range":
        value = (float(raw[0]), float(raw[1]))
    elif kind == "text":
        value = str(raw)
    else:
        value = float(raw)
    alt = spec.get("alt_max")
    return Limit(
        parameter=parameter, kind=kind, value=value, unit=str(spec["unit"]),
        verification=_level(spec.get("verification", level), f"{std} {use} {parameter}"),
        optional=bool(spec.get("optional", False)), alt_max=None if alt is None else float(alt),
        alt_condition=spec.get("alt_condition"), note=spec.get("note"),
    )


def _level(level: str, where: str) -> str:
    if level not in LEVELS:
        raise CascadeError(f"cascade/data/{RESOURCE}: {where}: verification {level!r} is not one of {LEVELS}")
    return level


def _num(value: float) -> str:
    return f"{value:g}"


def _cell(limit: Limit, level: str, unit: str | None) -> str:
    """One limit in a table cell (see :meth:`Standard.summary`)."""
    if limit.kind == "range":
        low, high = limit.value  # a (low, high) pair
        text = f"{_num(low)}-{_num(high)}"
    elif limit.kind == "text":
        text = "(text)"
    else:
        text = {"max": "<= ", "min": ">= ", "max_exclusive": "< "}[limit.kind] + _num(limit.value)
    if unit is None and limit.unit != "-":
        text += f" {limit.unit}"
    if limit.alt_max is not None:
        text += f" ({_num(limit.alt_max)})"
    if limit.optional:
        text += " opt"
    if limit.verification != level:
        text += f" [{limit.verification}]"
    return text


def _table(parameters: list[str], uses: Mapping[str, Mapping[str, Limit]], level: str) -> list[str]:
    """Rows of parameters, a unit column and one column per use."""
    units = {p: {limits[p].unit for limits in uses.values() if p in limits} for p in parameters}
    unit_of = {p: next(iter(u)) if len(u) == 1 else None for p, u in units.items()}
    header = ["parameter", "unit", *uses]
    rows = [[p, unit_of[p] or "(in cell)", *(_cell(limits[p], level, unit_of[p]) if p in limits else "-"
                                            for limits in uses.values())] for p in parameters]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in [header, *rows]]


def _footnotes(parameters: list[str], uses: Mapping[str, Mapping[str, Limit]]) -> list[str]:
    """Texts, alternative limits, selective items and notes, each once (with its uses when not all)."""
    lines = []
    for p in parameters:
        having = [u for u, limits in uses.items() if p in limits]
        texts: dict[str, list[str]] = {}
        for u in having:
            limit = uses[u][p]
            parts = [
                str(limit.value) if limit.kind == "text" else "",
                f"({_num(limit.alt_max)}) where: {limit.alt_condition}" if limit.alt_max is not None else "",
                "selective item (opt)" if limit.optional else "",
                limit.note or "",
            ]
            text = "; ".join(part for part in parts if part)
            if text:
                texts.setdefault(text, []).append(u)
        for text, where in texts.items():
            scope = "" if len(where) == len(having) else f" ({', '.join(where)})"
            lines.append(f"  {p}{scope}: {text}")
    return lines


# ---------------------------------------------------------------------- limits for a plant
def sink_limits(
    standard: str | Standard,
    use: str,
    *,
    contaminants: Sequence[str] | str,
    mapping: Mapping[str, str] | None = None,
    include_unverified: bool = False,
    optional: bool = False,
    alternative: bool = False,
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """The upper limits a standard sets on a plant's contaminants, and where each comes from.

    Parameters
    ----------
    standard : str or Standard
        A standard of the library (id in any case and spacing).
    use : str
        One use of the standard (``urban_greening``, ``grade_3``, ...).
    contaminants : sequence of str
        The plant's contaminant names.
    mapping : mapping of str to str, optional
        Plant contaminant -> the standard's parameter (any alias), for names the automatic
        matching would miss or to apply a limit that is not in mg/L.
    include_unverified : bool, default False
        Also use P and U numbers (otherwise they are skipped and listed as skipped).
    optional : bool, default False
        Also apply the selective (``optional``) items.
    alternative : bool, default False
        Use ``alt_max`` where a limit has one (e.g. TDS 2000 instead of 1000 mg/L in coastal areas).

    Returns
    -------
    limits : dict of str to float
        Contaminant -> maximum concentration, in ppm for a mg/L limit (else in the limit's unit).
        A contaminant the standard does not limit is absent (no limit).
    provenance : list of dict
        One entry per contaminant and per other item of the use, each with ``parameter``,
        ``contaminant`` (None for an item no contaminant takes), ``status`` (``applied``,
        ``skipped``, ``not_modelled``, ``no_limit``, ``unmatched``), ``requirement`` (the limit as
        text), ``value`` (the number applied, else None), ``unit``, ``verification``, ``note`` (the
        library's note on the limit, or None) and ``reason``.

    Raises
    ------
    UnknownStandardError
        Unknown standard (the message lists the library's ids).
    StandardLimitError
        Unknown use (the message lists the standard's uses); a use without numbers in the library;
        a ``mapping`` that names a contaminant not in ``contaminants``, a parameter the use does not
        limit (the message lists its parameters) or a limit that is not an upper limit.

    Examples
    --------
    >>> limits, provenance = sink_limits("GB/T 19923-2005", "boiler_makeup", contaminants=["COD", "BOD5"])
    >>> limits, [(p["contaminant"], p["status"]) for p in provenance if p["contaminant"]]
    ({}, [('COD', 'skipped'), ('BOD5', 'skipped')])
    >>> sink_limits("GB/T 19923-2005", "boiler_makeup", contaminants=["COD"], include_unverified=True)[0]
    {'COD': 60.0}
    """
    std = standard if isinstance(standard, Standard) else get_standard(standard)
    table = std.limits(use)
    if not table:
        raise StandardLimitError(
            f"{std.id} {use}: the library holds no numbers for this use (verification {std.verification}: "
            f"{std.source}); give the limits yourself as numbers, e.g. max: {{COD: <your limit>}}"
        )
    names = [contaminants] if isinstance(contaminants, str) else [str(c) for c in contaminants]
    chosen = _choose(std, use, table, names, dict(mapping or {}))
    limits: dict[str, float] = {}
    provenance: list[dict[str, Any]] = []
    for contaminant, (parameter, explicit) in chosen.items():
        if parameter is None:
            provenance.append(_entry(None, contaminant, "no_limit", f"{std.id} {use} sets no limit on it"))
            continue
        limit = table[parameter]
        reason = _not_applied(limit, explicit, contaminant, include_unverified, optional)
        if reason is not None:
            status = "not_modelled" if limit.kind != "max" else "skipped"
            provenance.append(_entry(limit, contaminant, status, reason))
            continue
        use_alt = alternative and limit.alt_max is not None
        value = float(limit.alt_max if use_alt else limit.value)
        limits[contaminant] = value
        why = f"alternative limit, where: {limit.alt_condition}" if use_alt else (
            "mapped explicitly" if explicit else "matched by name")
        provenance.append(_entry(limit, contaminant, "applied", why, value=value))
    taken = {parameter for parameter, _ in chosen.values()}
    for parameter, limit in table.items():
        if parameter in taken:
            continue
        if limit.kind == "max":
            provenance.append(_entry(limit, None, "unmatched", "no contaminant of the plant is this parameter"))
        else:
            provenance.append(_entry(limit, None, "not_modelled", _NOT_A_MAX[limit.kind]))
    return limits, provenance


_NOT_A_MAX = {
    "min": "a minimum: a requirement on the treated water, not a mixing limit",
    "range": "a range: a requirement on the treated water, not a mixing limit",
    "text": "a requirement in words, not a number",
    "max_exclusive": "a strict limit (<), not modelled as a mixing limit",
}


def _choose(
    std: Standard, use: str, table: Mapping[str, Limit], contaminants: list[str], mapping: dict[str, str],
) -> dict[str, tuple[str | None, bool]]:
    """Contaminant -> (parameter or None, whether ``mapping`` chose it); bad ``mapping`` entries raise."""
    problems = []
    for contaminant, parameter in mapping.items():
        if contaminant not in contaminants:
            problems.append(f"map names '{contaminant}', which is not a contaminant of the plant "
                            f"(contaminants: {', '.join(contaminants)})")
        elif match_parameter(parameter, table) is None:
            elsewhere = [u for u, limits in std.uses.items() if match_parameter(parameter, limits)]
            scope = f" (the standard limits it for {', '.join(elsewhere)}, not for {use})" if elsewhere else ""
            problems.append(f"map: '{contaminant}' -> '{parameter}': {std.id} {use} has no parameter "
                            f"'{parameter}'{scope}; its parameters are: {', '.join(table)}")
        else:
            limit = table[match_parameter(parameter, table)]
            if limit.kind != "max":
                problems.append(f"map: '{contaminant}' -> '{parameter}': {std.id} {use} gives {limit.parameter} "
                                f"as {limit.requirement()} ({_NOT_A_MAX[limit.kind]}); cascade applies upper "
                                "limits only, so leave it out of map")
    if problems:
        raise StandardLimitError(summarise(problems), problems=problems)
    return {
        c: (match_parameter(mapping[c], table), True) if c in mapping else (match_parameter(c, table), False)
        for c in contaminants
    }


def _not_applied(limit: Limit, explicit: bool, contaminant: str, unverified: bool, optional: bool) -> str | None:
    """Why a matched limit is not applied, or None when it is."""
    if limit.kind != "max":
        return _NOT_A_MAX[limit.kind]
    if not limit.verified and not unverified:
        return (f"verification {limit.verification} ({_LEVEL_TEXT[limit.verification]}); used only on request "
                "(include_unverified=True; in a plant file 'unverified: true')")
    if limit.optional and not optional:
        return (f"a selective item ({limit.note or 'optional'}); used only on request "
                "(optional=True; in a plant file 'optional: true')")
    if limit.unit != MASS_UNIT and not explicit:
        return (f"in {limit.unit}, not mg/L; used only when mapped explicitly "
                f"(map: {{{contaminant}: {limit.parameter}}}), as a number in {limit.unit}")
    return None


def _entry(limit: Limit | None, contaminant: str | None, status: str, reason: str,
           value: float | None = None) -> dict[str, Any]:
    return {
        "parameter": None if limit is None else limit.parameter,
        "contaminant": contaminant,
        "status": status,
        "requirement": None if limit is None else limit.requirement(),
        "value": value,
        "unit": None if limit is None else limit.unit,
        "verification": None if limit is None else limit.verification,
        "note": None if limit is None else limit.note,
        "reason": reason,
    }


# ---------------------------------------------------------------------- plant-file references
def is_reference(value: Any) -> bool:
    """True for a limit written as a standard reference (a mapping with a ``standard`` key)."""
    return isinstance(value, Mapping) and "standard" in value


def resolve_reference(
    reference: Mapping[str, Any], contaminants: Sequence[str], *, concentration_factor: float = 1.0,
) -> tuple[dict[str, float], dict[str, Any]]:
    """Turn a limit written as ``{standard: ..., use: ..., ...}`` into limits (ppm) and their source.

    Parameters
    ----------
    reference : mapping
        ``standard`` and ``use`` (required), ``map`` (plant contaminant -> parameter),
        ``unverified`` / ``optional`` / ``alternative`` (true or false, as ``include_unverified``,
        ``optional`` and ``alternative`` of :func:`sink_limits`), and any contaminant with its own
        number, which replaces the standard's (in the plant's concentration unit).
    contaminants : sequence of str
        The plant's contaminants.
    concentration_factor : float, default 1
        Turns the reference's own numbers into ppm (the plant file's concentration unit).

    Returns
    -------
    limits : dict of str to float
        Contaminant -> upper limit in ppm (the standard's numbers and the reference's own).
    source : dict
        The provenance kept on the plant (:attr:`cascade.Plant.limit_sources`): ``standard``,
        ``use``, ``map``, ``unverified``, ``optional``, ``alternative``; ``limits`` (contaminant ->
        ``{value, parameter, verification, unit}`` of each number taken from the standard);
        ``overrides`` (contaminant -> ``{value, replaces}``: the reference's own number in ppm and
        the standard's number it replaces, or None); ``skipped`` and ``not_modelled`` (entries of
        :func:`sink_limits`); ``no_limit`` (contaminants the standard does not limit) and
        ``unmatched`` (upper limits of the use that no contaminant takes).

    Raises
    ------
    PlantDataError
        :class:`~cascade.exceptions.UnknownStandardError`,
        :class:`~cascade.exceptions.StandardLimitError` or a malformed reference; every problem is in
        ``err.problems``.
    """
    problems: list[str] = []
    std_id, use = reference.get("standard"), reference.get("use")
    if not isinstance(std_id, str) or not std_id.strip():
        problems.append(f"'standard' must be the id of a standard such as 'GB/T 18920-2020', got {std_id!r}")
    if not isinstance(use, str) or not use.strip():
        try:
            uses = f"; {get_standard(std_id).id}'s uses are: {', '.join(get_standard(std_id).uses)}"
        except (UnknownStandardError, AttributeError):
            uses = ""
        problems.append(f"'use' must name a use of the standard such as 'urban_greening', got {use!r}{uses}")
    mapping = reference.get("map") or {}
    if not isinstance(mapping, Mapping) or not all(isinstance(v, str) for v in mapping.values()):
        problems.append("'map' must map plant contaminants to the standard's parameters, e.g. {ammonium: NH3_N}")
        mapping = {}
    flags = {}
    for key in ("unverified", "optional", "alternative"):
        flag = reference.get(key, False)
        if not isinstance(flag, bool):
            problems.append(f"'{key}' must be true or false, got {flag!r}")
        flags[key] = flag is True
    overrides: dict[str, float] = {}
    for key, number in reference.items():
        if key in REFERENCE_KEYS:
            continue
        if isinstance(number, bool) or not isinstance(number, numbers.Real) or not math.isfinite(float(number)):
            problems.append(f"'{key}' must be a number (a limit of your own, replacing the standard's), "
                            f"got {number!r}; the keys of a standard reference are {', '.join(REFERENCE_KEYS)}")
            continue
        overrides[str(key)] = float(number) * concentration_factor
    if problems:
        raise PlantDataError(summarise(problems), problems=problems)
    std = get_standard(std_id)
    table = std.limits(use)
    names = [str(c) for c in contaminants]
    mapping = {str(k): str(v) for k, v in mapping.items()}
    rest = [c for c in names if c not in overrides]
    if table or not overrides:
        limits, provenance = sink_limits(
            std, use, contaminants=rest, mapping={c: p for c, p in mapping.items() if c not in overrides},
            include_unverified=flags["unverified"], optional=flags["optional"], alternative=flags["alternative"],
        )
    else:  # no numbers in the library, every limit given in the file: the standard is cited only
        limits, provenance = {}, [_entry(None, c, "no_limit", f"{std.id} {use}: no numbers in the library")
                                  for c in rest]
    source: dict[str, Any] = {
        "standard": std.id, "use": use, "map": dict(mapping), **flags,
        "limits": {
            p["contaminant"]: {"value": p["value"], "parameter": p["parameter"],
                               "verification": p["verification"], "unit": p["unit"]}
            for p in provenance if p["status"] == "applied"
        },
        "overrides": {c: {"value": v, "replaces": _replaced(table, c, mapping.get(c), flags["alternative"])}
                      for c, v in overrides.items()},
        "skipped": [p for p in provenance if p["status"] == "skipped"],
        "not_modelled": [p for p in provenance if p["status"] == "not_modelled"],
        "no_limit": [p["contaminant"] for p in provenance if p["status"] == "no_limit"],
        "unmatched": [p["parameter"] for p in provenance if p["status"] == "unmatched"],
    }
    return {**limits, **overrides}, source


def _replaced(table: Mapping[str, Limit], contaminant: str, mapped: str | None, alternative: bool) -> float | None:
    """The standard's upper limit that a reference's own number replaces, or None."""
    parameter = match_parameter(mapped or contaminant, table)
    limit = table.get(parameter) if parameter else None
    if limit is None or limit.kind != "max":
        return None
    return float(limit.alt_max if alternative and limit.alt_max is not None else limit.value)


def reference_of(source: Mapping[str, Any]) -> dict[str, Any]:
    """The reference (without its own numbers) that a source of :func:`resolve_reference` came from."""
    out: dict[str, Any] = {"standard": source["standard"], "use": source["use"]}
    if source.get("map"):
        out["map"] = dict(source["map"])
    for key in ("unverified", "optional", "alternative"):
        if source.get(key):
            out[key] = True
    return out


__all__ = [
    "ALIASES", "KINDS", "LEVELS", "VERIFIED", "Limit", "Standard", "standards", "get_standard", "catalogue",
    "parameter_names",
    "match_parameter", "normalise", "sink_limits", "is_reference", "resolve_reference", "reference_of",
]
