"""The water balances of a network of pipes: the equations a water balance test must close.

A balance model holds the network's unknowns and its linear balance equations ``B z = c``.

Unknowns ``z`` (all in t/h):

* ``("pipe", i, j)``: the flow in each pipe of the network;
* ``("node", n)``: the throughput of each unit: a supply's intake, a sink's, operation's,
  regenerator's or discharge's inflow, a source's outflow;
* ``("consumption", u)``: water a process unit ``u`` uses up (evaporation, product, drift), for
  every ``unit`` that has both sinks (its inlets) and sources (its outlets).

Equations (one row each; "in - out = loss" is the sign of every row):

* supply ``f``: ``z_f - sum_j z_fj = 0`` (what the intake meter reads leaves by the pipes);
* source ``r``: ``z_r - sum_j z_rj = 0``;
* sink ``s`` and discharge ``d``: ``sum_i z_is - z_s = 0``;
* operation or regenerator ``o``, two rows: inlet ``sum_i z_io - z_o = 0`` and outlet
  ``z_o - sum_j z_oj = w_o``, with ``w_o`` the operation's declared ``water_loss`` (0 for a
  regenerator);
* process unit ``u`` with sinks ``S_u`` and sources ``R_u``:
  ``sum_{s in S_u} z_s - sum_{r in R_u} z_r - z_u = 0``, with ``z_u >= 0`` its consumption.

A sink whose unit has no source uses up all it takes, and a source whose unit has no sink brings
water in (with its raw materials): neither adds an equation. A **leak** at a unit ``n`` (water lost
between its meters, 漏失水量) adds ``+l_n`` to the right-hand side of its outflow row (the outlet
row of an operation or regenerator, the only row of any other unit); a process unit's consumption
already absorbs any loss there, so its own balance has no leak of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from .exceptions import PlantDataError
from .plant import Plant
from .superstructure import build_superstructure

Variable = tuple  # ("pipe", i, j) | ("node", n) | ("consumption", u)
Row = tuple  # ("node", n) | ("inlet", n) | ("outlet", n) | ("unit", u)

_THROUGH = ("operation", "regenerator")


def describe(variable: Variable) -> str:
    """A variable in words: ``pipe mains -> boiler``, ``node boiler``, ``consumption of unit boiler``.

    >>> describe(("pipe", "a", "b")), describe(("node", "a")), describe(("consumption", "u"))
    ('pipe a -> b', 'node a', 'consumption of unit u')
    """
    if variable[0] == "pipe":
        return f"pipe {variable[1]} -> {variable[2]}"
    if variable[0] == "consumption":
        return f"consumption of unit {variable[1]}"
    return f"{variable[0]} {variable[1]}"


def network_graph(plant: Plant, flows: Mapping[tuple[str, str], float] | None = None) -> nx.DiGraph:
    """The network a balance test reconciles: units with their plant data, and the pipes that exist.

    Parameters
    ----------
    plant : Plant
        The plant (node attributes come from :func:`cascade.build_superstructure`).
    flows : mapping of (from, to) -> t/h, optional
        The pipes and their flows (a plan's). Default: today's plant, ``connections.existing``.

    Returns
    -------
    networkx.DiGraph
        Every unit that a pipe touches, and the pipes with attribute ``reference`` (their flow in
        t/h: the design or today's flow, used for meter uncertainties near zero readings and for
        the monitoring targets).

    Raises
    ------
    PlantDataError
        When there are no pipes (a plant file without ``connections.existing``).
    """
    superstructure = build_superstructure(plant)
    pipes = dict(flows) if flows is not None else {(i, j): q for i, j, q in plant.existing}
    if not pipes:
        raise PlantDataError(
            f"plant '{plant.name}' has no pipes to balance: list today's pipes in connections.existing "
            "([from, to, flow]), or give the flows of a plan"
        )
    graph = nx.DiGraph(name=plant.name, contaminants=list(plant.contaminants),
                       hours_per_year=plant.hours_per_year, units=dict(plant.units),
                       recirculation=superstructure.graph.get("recirculation", 0.0))
    for (i, j), q in pipes.items():
        for n in (i, j):
            if n not in superstructure:
                raise PlantDataError(f"pipe {i} -> {j}: '{n}' is not a unit of plant '{plant.name}'")
            graph.add_node(n, **superstructure.nodes[n])
        graph.add_edge(i, j, reference=float(q))
    return graph


@dataclass
class BalanceModel:
    """The unknowns and balance equations ``B z = c`` of a network (see the module's notes).

    Attributes
    ----------
    graph : networkx.DiGraph
        The network (:func:`network_graph`).
    variables : list of tuple
        The unknowns, in column order.
    rows : list of tuple
        The equations, in row order.
    matrix : numpy.ndarray
        ``B`` (rows x variables).
    rhs : numpy.ndarray
        ``c``.
    reference : numpy.ndarray
        The reference value of each variable (from the pipes' ``reference`` flows).
    leak_rows : dict
        Unit -> the row a leak there enters.
    """

    graph: nx.DiGraph
    variables: list[Variable] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    rhs: np.ndarray = field(default_factory=lambda: np.zeros(0))
    reference: np.ndarray = field(default_factory=lambda: np.zeros(0))
    leak_rows: dict[str, int] = field(default_factory=dict)

    @property
    def column(self) -> dict[Variable, int]:
        """Variable -> its column."""
        return {v: k for k, v in enumerate(self.variables)}


def balance_model(graph: nx.DiGraph) -> BalanceModel:
    """Build the balance equations of a network (:func:`network_graph`).

    Examples
    --------
    >>> g = nx.DiGraph()
    >>> g.add_node("w", kind="supply"); g.add_node("s", kind="sink")
    >>> g.add_edge("w", "s", reference=5.0)
    >>> m = balance_model(g)
    >>> m.variables, m.rows
    ([('pipe', 'w', 's'), ('node', 'w'), ('node', 's')], [('node', 'w'), ('node', 's')])
    >>> m.matrix.tolist(), m.reference.tolist()
    ([[-1.0, 1.0, 0.0], [1.0, 0.0, -1.0]], [5.0, 5.0, 5.0])
    """
    kind = nx.get_node_attributes(graph, "kind")
    variables: list[Variable] = [("pipe", i, j) for i, j in graph.edges]
    variables += [("node", n) for n in graph]
    units: dict[str, dict[str, list[str]]] = {}
    for n in graph:
        unit = graph.nodes[n].get("unit")
        if unit is not None and kind[n] in ("sink", "source"):
            units.setdefault(unit, {"sink": [], "source": []})[kind[n]].append(n)
    process_units = [u for u, members in units.items() if members["sink"] and members["source"]]
    variables += [("consumption", u) for u in process_units]
    column = {v: k for k, v in enumerate(variables)}

    entries: list[tuple[int, int, float]] = []
    rows: list[Row] = []
    rhs: list[float] = []
    leak_rows: dict[str, int] = {}

    def add_row(row: Row, terms: Iterable[tuple[Variable, float]], value: float = 0.0) -> int:
        rows.append(row)
        rhs.append(value)
        for variable, coefficient in terms:
            entries.append((len(rows) - 1, column[variable], coefficient))
        return len(rows) - 1

    for n in graph:
        into = [(("pipe", i, n), 1.0) for i in graph.predecessors(n)]
        out = [(("pipe", n, j), -1.0) for j in graph.successors(n)]
        node = ("node", n)
        if kind[n] in ("supply", "source"):
            leak_rows[n] = add_row(("node", n), [(node, 1.0), *out])
        elif kind[n] in ("sink", "discharge"):
            leak_rows[n] = add_row(("node", n), [*into, (node, -1.0)])
        elif kind[n] in _THROUGH:
            add_row(("inlet", n), [*into, (node, -1.0)])
            loss = float(graph.nodes[n].get("water_loss", 0.0) or 0.0)
            leak_rows[n] = add_row(("outlet", n), [(node, 1.0), *out], loss)
        else:
            raise PlantDataError(f"unit '{n}' has kind {kind[n]!r}, which a water balance does not know")
    for u in process_units:
        terms = [(("node", s), 1.0) for s in units[u]["sink"]]
        terms += [(("node", r), -1.0) for r in units[u]["source"]]
        add_row(("unit", u), [*terms, (("consumption", u), -1.0)])

    matrix = np.zeros((len(rows), len(variables)))
    for r, k, value in entries:
        matrix[r, k] += value
    reference = _reference(graph, variables, units, process_units)
    return BalanceModel(graph, variables, rows, matrix, np.array(rhs, dtype=float), reference, leak_rows)


def _reference(graph: nx.DiGraph, variables: list[Variable], units: dict, process_units: list[str]) -> np.ndarray:
    """The reference value of every unknown, from the pipes' ``reference`` flows."""
    kind = nx.get_node_attributes(graph, "kind")
    through: dict[str, float] = {}
    for n in graph:
        into = sum(graph.edges[i, n]["reference"] for i in graph.predecessors(n))
        out = sum(graph.edges[n, j]["reference"] for j in graph.successors(n))
        through[n] = out if kind[n] in ("supply", "source") else into
    consumption = {
        u: max(sum(through[s] for s in units[u]["sink"]) - sum(through[r] for r in units[u]["source"]), 0.0)
        for u in process_units
    }
    values = []
    for v in variables:
        if v[0] == "pipe":
            values.append(graph.edges[v[1], v[2]]["reference"])
        elif v[0] == "node":
            values.append(through[v[1]])
        else:
            values.append(consumption[v[1]])
    return np.array(values, dtype=float)
