r'''Contaminant limits and the fixed-load mass balance, linear because outlet concentrations are fixed.

With ``C[i, c]`` the fixed outlet concentration of node ``i`` (ppm; see
:mod:`cascade.formulation.data`) and ``L[o, c]`` the load of operation ``o`` (kg/h):

.. math::

    \sum_{in(k)} f_{ik} C_{ic} \le C^{max}_{kc} F_k
        \quad \text{sink quality, every sink } k \text{ and limited } c

    \sum_{in(o)} f_{io} C_{ic} \le C^{in,max}_{oc} \sum_{in(o)} f_{io}
        \quad \text{operation inlet quality}

    \sum_{in(o)} f_{io} C_{ic} + 1000\,L_{oc} = C^{out,max}_{oc} \Big(\sum_{in(o)} f_{io} - F^{loss}_o\Big)
        \quad \text{operation mass balance (outlet at its maximum)}

    \sum_{in(d)} f_{id} (C_{ic} - C^{max}_{dc}) \le 0
        \quad \text{discharge quality, every limited discharge } d

Where the outlet of operation ``o`` is a guess ``C^g_{oc}`` rather than its maximum
(``data.guessed``, see :mod:`cascade.formulation.data`), the mass balance becomes the
restriction "real outlet at most the guess", for every contaminant, loaded or not:

.. math::

    \sum_{in(o)} f_{io} (C_{ic} - C^g_{oc}) + 1000\,L_{oc} + C^g_{oc} F^{loss}_o \le 0

and a regenerator that removes a fraction ``r_c`` of ``c`` (``r_c = 0``: it passes ``c``
through) gets, for its guessed outlet,

.. math::

    \sum_{in(r)} f_{ir} \big((1 - r_c)\, C_{ic} - C^g_{rc}\big) \le 0
        \quad \text{regenerator outlet}

``F^{loss}_o`` is the water the operation loses (``water_loss``; negative when it gains water):
the contaminant stays in the water that leaves. The factor 1000 turns kg/h over t/h into ppm
(:data:`cascade.units.LOAD_TO_PPM`). The
inequalities are written as sums of ``f * (C - limit)`` so every coefficient is a difference of
concentrations and terms with equal concentrations vanish.
'''

from __future__ import annotations

import pyomo.environ as pyo

from ..units import LOAD_TO_PPM
from .balances import relation
from .data import ModelData


def _excess(m: pyo.ConcreteModel, data: ModelData, node: str, c: str, limit: float):
    """sum over inflows of f * (C - limit), which must be <= 0 for the limit to hold (terms with C = limit left out)."""
    return sum(
        m.flow[i, j] * (data.out_conc[i, c] - limit)
        for i, j in data.in_edges[node]
        if data.out_conc[i, c] != limit
    )


def _mass_balance(expr, load_ppm: float, guessed: bool):
    """``expr + rhs == 0``, or ``<= 0`` for a guessed outlet (an operation without inflow was refused)."""
    return relation(expr, "<=" if guessed else "==", -load_ppm)


def add_quality(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Add ``sink_quality``, ``operation_inlet_quality``, ``operation_mass_balance``, ``regenerator_outlet``,
    ``discharge_quality``."""
    g = data.graph

    def limited(kind: str, key: str) -> list[tuple[str, str]]:
        return [(n, c) for n in data.nodes(kind) for c in g.nodes[n][key]]

    m.sink_quality = pyo.Constraint(
        limited("sink", "max_in"),
        rule=lambda m, k, c: relation(_excess(m, data, k, c, g.nodes[k]["max_in"][c]), "<=", 0),
    )
    m.operation_inlet_quality = pyo.Constraint(
        limited("operation", "max_in"),
        rule=lambda m, o, c: relation(_excess(m, data, o, c, g.nodes[o]["max_in"][c]), "<=", 0),
    )
    balanced = [
        (o, c) for o in data.nodes("operation") for c, load in g.nodes[o]["load"].items()
        if load > 0 or (o, c) in data.guessed
    ]
    m.operation_mass_balance = pyo.Constraint(
        balanced,
        rule=lambda m, o, c: _mass_balance(
            _excess(m, data, o, c, data.out_conc[o, c]),
            LOAD_TO_PPM * g.nodes[o]["load"][c] + data.out_conc[o, c] * g.nodes[o]["water_loss"],
            (o, c) in data.guessed,
        ),
    )
    treated = [
        (r, c) for r in data.nodes("regenerator") for c in data.contaminants
        if (r, c) in data.guessed and g.nodes[r]["removal"].get(c, 0.0) < 1
    ]
    m.regenerator_outlet = pyo.Constraint(
        treated,
        rule=lambda m, r, c: relation(
            _excess(m, data, r, c, data.out_conc[r, c] / (1 - g.nodes[r]["removal"].get(c, 0.0))), "<=", 0
        ),
    )
    m.discharge_quality = pyo.Constraint(
        limited("discharge", "max_in"),
        rule=lambda m, d, c: relation(_excess(m, data, d, c, g.nodes[d]["max_in"][c]), "<=", 0),
    )
