r"""Parks: several plants in one study, their exchanges of water, and each plant's indicators.

A park file (``cascade-park/1``, documented in ``docs/park-format.md``) names the plant files of
an industrial park and the park's own units (a municipal reclaimed-water main, shared
regenerators, the park's wastewater plant). :func:`park_from_dict` merges it into ONE
:class:`~cascade.Plant`, so the superstructure, the MILP, the check and the plan are those of any
plant:

* every unit of plant ``A`` gets the id ``"A/<unit id>"`` and ``plant: A``; its ``unit`` label,
  its connections (forbidden, required, existing) and its layout (coordinates, distances) are
  prefixed the same way, and so are its ``meters`` (id and place: meter ``FT-1`` at ``boiler``
  becomes ``A/FT-1`` at ``A/boiler``). Units of the park file itself carry no ``plant`` (park
  level); the park file's own ``meters`` name units by their merged ids (``A/boiler``);
* contaminants, the money label and ``hours_per_year`` are the park's: a plant file that
  declares other contaminants (as a set), another money label or other hours is refused, with
  both values in the message. Flows, concentrations and loads are converted to the park's units;
* plant-wide settings are given once, in the park file: ``finance``, ``connections.min_flow``,
  ``connections.pipe_cost`` (which prices every pipe: inside plants with its classes, between
  owners with ``exchange``), ``remove_cost``, ``max_new_pipes``, ``max_inlets``, ``budget`` and
  ``layout.metric``. A plant file may repeat one with the park's value; another value is refused
  (one MILP has one budget and one price list). A plant file's ``name``, ``description`` and
  ``objective`` are ignored (the park's objective applies);
* a plant keeps its own supplies and discharges (its mains, its sewer connection). A plant file
  without discharges gets no default ``WW`` in a park: its wastewater leaves through the park's
  discharges or another plant's (the merged plant gets the default ``WW``, at park level, only
  when no unit of the park is a discharge).

Pipes between owners (two plants, or a plant and the park) are priced by
:func:`cascade.economics.annotate` over the plant gates of ``layout.plants``.

Reports (pure functions of the flows, t/h): :func:`plant_indicators` (one row per plant and one,
:data:`~cascade.plant.PARK_LEVEL`, for the park's own units) and :func:`exchanges` (every used
pipe between owners). A unit's *owner* is its plant, or the park. For a row's units:

* ``freshwater`` intake: flow from any supply (of any owner) into the row's units; by the
  supply's kind in ``freshwater_<kind>``;
* ``wastewater``: flow from the row's units into any discharge;
* ``received`` / ``sent``: flow between a unit of the row and a unit of another owner, the
  tail not a supply and the head not a discharge (water handed over for reuse or treatment;
  bought water and discharged water are counted as intake and wastewater above), so
  :math:`\sum received = \sum sent`;
* ``reused``: flow into the row's sinks and operations from anything but a supply (as
  :func:`cascade.kpi.reused`), of which ``reused_within`` comes from the row's own units;
  ``reuse_rate`` :math:`= reused / (reused + freshwater)` (:func:`cascade.kpi.reuse_rate`);
* ``operating_cost`` (money/yr): water the row's units take, times its price; wastewater they
  discharge, times the discharge's price; the running cost (per t and fixed) of the row's own
  regenerators. Pipe capital is not shared out (an exchange pipe serves two owners).

Every column but ``reuse_rate`` sums over the rows to the park's total (:mod:`cascade.kpi`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from .economics import PIPING_KEYS, pipe_capital
from .exceptions import PlantDataError, summarise
from .io import PARK_FORMAT, load_yaml_file, parse_yaml, plant_from_dict, plant_to_dict
from .plant import FORMAT, PARK_LEVEL, SCHEMA, SUPPLY_KINDS, Plant

Flows = Mapping[tuple[str, str], float]

#: Fields of a park file.
PARK_KEYS = (
    "format", "name", "description", "units", "hours_per_year", "contaminants", "plants", *SCHEMA,
    "connections", "layout", "objective", "finance", "industry", "indicators", "meters",
)
#: Fields of one entry of ``plants``.
PLANT_ENTRY_KEYS = ("id", "file", "plant")
#: Columns of :func:`plant_indicators`.
INDICATOR_COLUMNS = (
    "freshwater", *(f"freshwater_{k}" for k in SUPPLY_KINDS), "wastewater", "received", "sent",
    "reused_within", "reused", "reuse_rate", "operating_cost",
)
#: Columns of :func:`exchanges`.
EXCHANGE_COLUMNS = ("from", "to", "from_plant", "to_plant", "flow", "length", "new_pipe", "capital")
SEPARATOR = "/"


# ---------------------------------------------------------------------- reading
def read_park(path: str | os.PathLike, *, validate: bool = True) -> Plant:
    """Read a park file (``cascade-park/1``) into one plant whose units carry their ``plant``.

    Parameters
    ----------
    path : path
        The park file; plant files are found relative to its folder.
    validate : bool, default True
        Validate the merged plant and raise on errors (as :func:`cascade.read_plant`).

    Returns
    -------
    Plant
        The merged plant (see the module notes for the rules).

    Raises
    ------
    PlantDataError
        The file is not a park file, a plant file is missing or broken, two plants share an id,
        plants disagree with the park (contaminants, money, hours, plant-wide settings), or the
        merged plant is invalid (an unknown reference names the prefixed id, ``"A/boiler"``).
    """
    path = Path(path)
    data = load_yaml_file(path)
    if not isinstance(data, Mapping) or data.get("format") != PARK_FORMAT:
        raise PlantDataError(f"{path}: not a park file; its first line should be 'format: {PARK_FORMAT}'")
    plant = park_from_dict(data, base=path.parent, label=str(path))
    if validate:
        plant.validation = plant.validate(strict=True)
    return plant


def park_from_dict(data: Mapping[str, Any], *, base: str | os.PathLike = ".", label: str = "park data") -> Plant:
    """Merge a parsed park file into one :class:`Plant` (not validated; see :func:`read_park`).

    Parameters
    ----------
    data : mapping
        The park file's content.
    base : path, default '.'
        Folder the plant files' paths are relative to (the park file's folder).
    label : str
        Name of the park file, used in messages.

    Returns
    -------
    Plant

    Examples
    --------
    >>> plant = park_from_dict({"format": "cascade-park/1", "name": "P", "contaminants": ["C"],
    ...     "plants": [{"id": "A", "plant": {"format": "cascade-plant/1", "name": "a", "contaminants": ["C"],
    ...         "freshwater": [{"id": "FW"}], "sinks": [{"id": "D", "flow": 5}]}}],
    ...     "discharges": [{"id": "WWTP"}]})
    >>> plant.sinks.loc["A/D", "plant"], list(plant.discharges.index)
    ('A', ['WWTP'])
    """
    problems: list[str] = []

    def stop() -> None:
        if problems:
            raise PlantDataError(f"{label}: {summarise(problems)}", problems=list(problems))

    if not isinstance(data, Mapping):
        raise PlantDataError(f"{label}: a park file must hold a mapping (format, name, contaminants, plants)")
    for key in data:
        if key not in PARK_KEYS:
            problems.append(f"top level: unknown field '{key}'; allowed: {', '.join(PARK_KEYS)}")
    entries = data.get("plants")
    if not isinstance(entries, list) or not entries:
        problems.append("'plants' must be a list of one or more entries such as {id: A, file: plants/a.yaml}")
    stop()
    # the park's own settings, read as a plant file holding only the park-level units
    park_part = {k: v for k, v in data.items() if k != "plants"}
    park = plant_from_dict({**park_part, "format": FORMAT}, label=label)
    merged: dict[str, Any] = plant_to_dict(park)
    for table in SCHEMA:
        for row in merged.get(table, []):
            if "plant" in row:
                problems.append(f"{table} '{row['id']}' of the park file names plant '{row['plant']}'; the park "
                                "file's units belong to the park: put a plant's units in its plant file")
    connections = merged.setdefault("connections", {})
    layout = merged.setdefault("layout", {})
    seen: dict[str, int] = {}
    for position, entry in enumerate(entries, start=1):
        plant_id = _entry_id(entry, position, seen, problems)
        if plant_id is None:
            continue
        plant, where, raw = _load_plant(entry, plant_id, Path(base), problems)
        if plant is None:
            continue
        problems.extend(_conflicts(plant, park, plant_id, where, raw))
        part = _plant_part(plant, park, plant_id)
        for table in SCHEMA:
            if part.get(table):
                merged.setdefault(table, [])
                merged[table] = [*(r for r in merged[table] if "plant" in r), *part[table],
                                 *(r for r in merged[table] if "plant" not in r)]
        if part.get("meters"):
            merged["meters"] = [*merged.get("meters", []), *part["meters"]]
        for key in ("forbidden", "required", "existing"):
            if part.get("connections", {}).get(key):
                connections[key] = [*connections.get(key, []), *part["connections"][key]]
        for key in ("coordinates", "distances"):
            if part.get("layout", {}).get(key):
                if key == "coordinates":
                    layout[key] = {**layout.get(key, {}), **part["layout"][key]}
                else:
                    layout[key] = [*layout.get(key, []), *part["layout"][key]]
    stop()
    for key in ("connections", "layout"):
        if not merged[key]:
            del merged[key]
    return plant_from_dict(merged, label=label)


def _entry_id(entry: Any, position: int, seen: dict[str, int], problems: list[str]) -> str | None:
    """The id of one ``plants`` entry, or None after recording why it is unusable."""
    if not isinstance(entry, Mapping) or "id" not in entry:
        problems.append(f"plants entry {position} must be a mapping such as {{id: A, file: plants/a.yaml}}")
        return None
    for key in entry:
        if key not in PLANT_ENTRY_KEYS:
            problems.append(f"plants entry {position}: unknown field '{key}'; allowed: {', '.join(PLANT_ENTRY_KEYS)}")
    raw = entry["id"]
    plant_id = str(raw).strip() if isinstance(raw, str | int) and not isinstance(raw, bool) else ""
    if not plant_id or SEPARATOR in plant_id or "." in plant_id or plant_id == PARK_LEVEL:
        problems.append(f"plants entry {position}: id {raw!r} is not usable; give a short name without "
                        f"'{SEPARATOR}' or '.' (it prefixes the plant's unit ids: 'A/boiler')")
        return None
    if plant_id in seen:
        problems.append(f"plants entry {position}: plant id '{plant_id}' is used twice (first in entry "
                        f"{seen[plant_id]}); give each plant its own id")
        return None
    seen[plant_id] = position
    if ("file" in entry) == ("plant" in entry):
        problems.append(f"plant '{plant_id}': give either 'file' (a plant file, relative to the park file) or "
                        "'plant' (the plant inline), not both or neither")
        return None
    return plant_id


def _load_plant(
    entry: Mapping[str, Any], plant_id: str, base: Path, problems: list[str],
) -> tuple[Plant | None, str, Any]:
    """Read one plant of the park (structure only: the merged plant is validated as a whole).

    Returns the plant (None after recording a problem), how messages name it, and its parsed data.
    """
    if "plant" in entry:
        where, data = f"plant '{plant_id}' (inline)", entry["plant"]
    else:
        path = base / str(entry["file"])
        where = f"plant '{plant_id}' ({entry['file']})"
        if not path.is_file():
            problems.append(f"{where}: no such file {path}")
            return None, where, None
        try:
            data = parse_yaml(path.read_text(encoding="utf-8"), str(path))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{where}: cannot be read ({exc})")
            return None, where, None
        except PlantDataError as exc:
            problems.append(f"{where}: {exc}")
            return None, where, None
    if isinstance(data, Mapping) and data.get("format") == PARK_FORMAT:
        problems.append(f"{where} is itself a park file; a park lists plant files ({FORMAT})")
        return None, where, None
    try:
        return plant_from_dict(data, label=where), where, data
    except PlantDataError as exc:
        problems.append(str(exc))
        return None, where, None


def _conflicts(plant: Plant, park: Plant, plant_id: str, where: str, raw: Mapping[str, Any]) -> list[str]:
    """What a plant file says that the park decides otherwise (see the module notes).

    The money label and ``hours_per_year`` are compared only where the plant file states them.
    """
    out = []
    if set(plant.contaminants) != set(park.contaminants):
        missing = [c for c in park.contaminants if c not in plant.contaminants]
        extra = [c for c in plant.contaminants if c not in park.contaminants]
        detail = "; ".join(part for part in (
            f"not in the plant: {', '.join(missing)}" if missing else "",
            f"not in the park: {', '.join(extra)}" if extra else "") if part)
        out.append(f"{where}: contaminants {plant.contaminants} differ from the park's {park.contaminants} "
                   f"({detail}); every plant of a park declares the same contaminants")
    if "money" in (raw.get("units") or {}) and plant.units.get("money") != park.units.get("money"):
        out.append(f"{where}: money unit {plant.units.get('money')!r} differs from the park's "
                   f"{park.units.get('money')!r}; give prices in one currency")
    if "hours_per_year" in raw and plant.hours_per_year != park.hours_per_year:
        out.append(f"{where}: hours_per_year {plant.hours_per_year:g} differs from the park's "
                   f"{park.hours_per_year:g}; one study has one operating year")
    settings = {
        "finance": (plant.finance, park.finance, {}),
        "connections.min_flow": (plant.min_flow, park.min_flow, 0.0),
        "connections.pipe_cost.fixed": (plant.pipe_cost_fixed, park.pipe_cost_fixed, 0.0),
        "layout.metric": (plant.layout.get("metric"), park.layout.get("metric", "manhattan"), None),
    }
    for key in ("capital", "per_metre", "classes", "exchange"):
        settings[f"connections.pipe_cost.{key}"] = (plant.piping.get(key), park.piping.get(key), None)
    for key in PIPING_KEYS:
        settings[f"connections.{key}"] = (plant.piping.get(key), park.piping.get(key), None)
    for name, (mine, parks, unset) in settings.items():
        if mine != unset and mine != parks:
            out.append(f"{where}: {name} is {mine!r} but the park's is {parks!r}; plant-wide settings are given "
                       "once, in the park file (leave it out of the plant file or give the park's value)")
    for key in ("plants", "plant_distances"):
        if key in plant.layout:
            out.append(f"{where}: layout.{key} belongs in the park file")
    for table in SCHEMA:
        for record in plant.records(table):
            owner = record.values.get("plant")
            if owner is not None and owner != plant_id:
                out.append(f"{where}: {table} '{record.id}' names plant '{owner}' but is read as part of plant "
                           f"'{plant_id}'; leave 'plant' out of the plant file")
    if not plant.records("discharges"):
        named = {x for pair in [*plant.forbidden, *plant.required, *(e[:2] for e in plant.existing)] for x in pair}
        if "WW" in named:
            out.append(f"{where}: its connections name 'WW', the default discharge of a plant file, but in a park "
                       "a plant without discharges has none; add 'discharges: [{id: WW}]' to the plant file")
    return out


def _plant_part(plant: Plant, park: Plant, plant_id: str) -> dict[str, Any]:
    """The plant as a plant-file mapping in the park's units, its ids prefixed and its units tagged."""
    plant.units = {**plant.units, **{q: park.units[q] for q in ("flow", "concentration", "load")}}
    data = plant_to_dict(plant)

    def prefix(unit_id: Any) -> str:
        return f"{plant_id}{SEPARATOR}{unit_id}"

    for table in SCHEMA:
        for row in data.get(table, []):
            row["id"] = prefix(row["id"])
            row["plant"] = plant_id
            if "unit" in row:
                row["unit"] = prefix(row["unit"])
    connections = data.get("connections", {})
    for key in ("forbidden", "required", "existing"):
        connections[key] = [[prefix(a), prefix(b), *rest] for a, b, *rest in connections.get(key, [])]
    for meter in data.get("meters", []):
        meter["id"] = prefix(meter["id"])
        meter["at"] = [prefix(u) for u in meter["at"]] if isinstance(meter["at"], list) else prefix(meter["at"])
    layout = data.get("layout", {})
    layout["coordinates"] = {prefix(u): xy for u, xy in layout.get("coordinates", {}).items()}
    layout["distances"] = [[prefix(a), prefix(b), m] for a, b, m in layout.get("distances", [])]
    return data


# ---------------------------------------------------------------------- reporting
def has_plants(graph: nx.DiGraph) -> bool:
    """Whether any unit of the superstructure names a plant (the plant is a park)."""
    return any(d.get("plant") is not None for _, d in graph.nodes(data=True))


def owner(graph: nx.DiGraph, node: str) -> str:
    """The plant a unit belongs to, or :data:`~cascade.plant.PARK_LEVEL` for a park-level unit."""
    plant = graph.nodes[node].get("plant")
    return PARK_LEVEL if plant is None else plant


def owners(graph: nx.DiGraph) -> list[str]:
    """The plants in sorted order, then the park level when it has units."""
    seen = {owner(graph, n) for n in graph.nodes}
    return sorted(seen - {PARK_LEVEL}) + ([PARK_LEVEL] if PARK_LEVEL in seen else [])


def plant_indicators(graph: nx.DiGraph, flows: Flows) -> pd.DataFrame:
    """Water and money of each plant of a park (rows) in t/h, fractions and money/yr (module notes).

    Parameters
    ----------
    graph : networkx.DiGraph
        The superstructure (:func:`cascade.build_superstructure`).
    flows : mapping of (tail, head) -> t/h

    Returns
    -------
    pandas.DataFrame
        Indexed by ``plant`` (``"(park)"`` for the park's own units), columns
        :data:`INDICATOR_COLUMNS`.

    Examples
    --------
    >>> g = nx.DiGraph()
    >>> g.add_node("FW", kind="supply", plant=None, price=1.0, water_kind="reclaimed")
    >>> g.add_node("A/S", kind="source", plant="A")
    >>> g.add_node("B/D", kind="sink", plant="B")
    >>> g.graph["hours_per_year"] = 10
    >>> t = plant_indicators(g, {("A/S", "B/D"): 3.0, ("FW", "B/D"): 1.0})
    >>> t.loc["B", ["freshwater_reclaimed", "received", "reused", "reuse_rate", "operating_cost"]].tolist()
    [1.0, 3.0, 3.0, 0.75, 10.0]
    >>> float(t.loc["A", "sent"]), list(t.index)
    (3.0, ['A', 'B', '(park)'])
    """
    hours = graph.graph.get("hours_per_year", 8000.0)
    rows = {o: dict.fromkeys(INDICATOR_COLUMNS, 0.0) for o in owners(graph)}
    treated: dict[str, float] = {}
    for (i, j), f in flows.items():
        ki, kj = graph.nodes[i]["kind"], graph.nodes[j]["kind"]
        oi, oj = owner(graph, i), owner(graph, j)
        if ki == "supply":
            kind = graph.nodes[i].get("water_kind", "fresh")
            rows[oj]["freshwater"] += f
            rows[oj][f"freshwater_{kind}"] += f
            rows[oj]["operating_cost"] += hours * graph.nodes[i].get("price", 0.0) * f
        if kj == "discharge":
            rows[oi]["wastewater"] += f
            rows[oi]["operating_cost"] += hours * graph.nodes[j].get("price", 0.0) * f
        if kj == "regenerator":
            treated[j] = treated.get(j, 0.0) + f
        if oi != oj and ki != "supply" and kj != "discharge":
            rows[oj]["received"] += f
            rows[oi]["sent"] += f
        if kj in ("sink", "operation") and ki != "supply":
            rows[oj]["reused"] += f
            if oi == oj:
                rows[oj]["reused_within"] += f
    for r, q in treated.items():
        d = graph.nodes[r]
        rows[owner(graph, r)]["operating_cost"] += hours * q * d.get("cost_per_t", 0.0) + (
            d.get("cost_fixed", 0.0) if q > 0 else 0.0)
    for row in rows.values():
        used = row["reused"] + row["freshwater"]
        row["reuse_rate"] = row["reused"] / used if used > 0 else 0.0
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(INDICATOR_COLUMNS))
    frame.index.name = "plant"
    return frame


def exchanges(graph: nx.DiGraph, flows: Flows) -> pd.DataFrame:
    """Every used pipe between two owners (plants, or a plant and the park), with its flow (t/h).

    Columns :data:`EXCHANGE_COLUMNS`: ``from``, ``to``, ``from_plant``, ``to_plant`` (``"(park)"``
    for a park-level unit), ``flow``, ``length`` (m, None when unknown), ``new_pipe`` (not in
    today's plant) and ``capital`` (of a new pipe at this flow, :func:`cascade.economics.pipe_capital`;
    0 for an existing one). Sorted by plants, then units.
    """
    rows = []
    for (i, j), f in flows.items():
        if owner(graph, i) == owner(graph, j):
            continue
        edge = graph.edges[i, j]
        new = not edge.get("existing", False)
        rows.append({"from": i, "to": j, "from_plant": owner(graph, i), "to_plant": owner(graph, j), "flow": f,
                     "length": edge.get("length"), "new_pipe": new,
                     "capital": pipe_capital(graph, i, j, f) if new else 0.0})
    frame = pd.DataFrame(rows, columns=list(EXCHANGE_COLUMNS))
    return frame.sort_values(["from_plant", "to_plant", "from", "to"], ignore_index=True)


def plan_tables(graph: nx.DiGraph, flows: Flows, scale: float = 1.0) -> dict[str, pd.DataFrame]:
    """The park tables of a plan: ``plants`` and ``exchanges``, flows divided by ``scale`` (t/h per flow unit).

    Empty for a plant whose units name no plant, so a plan of one plant is unchanged.
    """
    if not has_plants(graph):
        return {}
    plants = plant_indicators(graph, flows)
    flow_columns = [c for c in INDICATOR_COLUMNS if c not in ("reuse_rate", "operating_cost")]
    plants[flow_columns] = plants[flow_columns] / scale
    table = exchanges(graph, flows)
    table["flow"] = table["flow"] / scale
    return {"plants": plants, "exchanges": table}


__all__ = [
    "exchanges", "has_plants", "owner", "owners", "park_from_dict", "plan_tables", "plant_indicators", "read_park",
]
