"""Canonical units and the conversions used at the input/output boundaries.

Inside cascade every number is in canonical units:

==============  ==========  ==================================================
quantity        canonical   accepted in a plant file (factor to canonical)
==============  ==========  ==================================================
flow            t/h         t/h (1), m3/h (1), kg/s (3.6), kg/h (0.001), L/s (3.6)
concentration   ppm         ppm (1), mg/L (1)  (equal for dilute water)
load            kg/h        kg/h (1), g/h (0.001), kg/s (3600), g/s (3.6)
==============  ==========  ==================================================

One tonne of water is taken as one cubic metre. With flows in t/h, concentrations in ppm (g/t)
and loads in kg/h, a load ``L`` picked up by a flow ``F`` raises the concentration by
``1000 * L / F`` ppm (see :data:`LOAD_TO_PPM`).
"""

from __future__ import annotations

FLOW_TO_T_PER_H: dict[str, float] = {"t/h": 1.0, "m3/h": 1.0, "kg/s": 3.6, "kg/h": 0.001, "L/s": 3.6}
CONCENTRATION_TO_PPM: dict[str, float] = {"ppm": 1.0, "mg/L": 1.0}
LOAD_TO_KG_PER_H: dict[str, float] = {"kg/h": 1.0, "g/h": 0.001, "kg/s": 3600.0, "g/s": 3.6}

#: ppm rise per (kg/h of load) / (t/h of flow): 1 kg/h in 1 t/h is 1000 g/t = 1000 ppm.
LOAD_TO_PPM = 1000.0


def operation_room(load: float, max_outlet: float, water_loss: float = 0.0) -> float:
    """The ``F (Cout - Cin)`` (t/h x ppm) an operation's inflow must offer for one contaminant.

    A fixed-load operation with inflow ``F`` at ``Cin`` that picks up ``load`` kg/h and loses
    ``water_loss`` t/h leaves at ``Cout`` when ``F Cin + 1000 load = Cout (F - water_loss)``, i.e.
    ``F (Cout - Cin) = 1000 load + Cout water_loss``.

    Examples
    --------
    >>> operation_room(2.0, 100.0)  # 20 t/h of clean water reach 100 ppm
    2000.0
    """
    return LOAD_TO_PPM * load + max_outlet * water_loss


DEFAULT_UNITS: dict[str, str] = {"flow": "t/h", "concentration": "ppm", "load": "kg/h", "money": "CNY"}

_TABLES = {"flow": FLOW_TO_T_PER_H, "concentration": CONCENTRATION_TO_PPM, "load": LOAD_TO_KG_PER_H}


def factor(quantity: str, unit: str) -> float:
    """Return the factor that turns a value in ``unit`` into canonical units.

    Parameters
    ----------
    quantity : {'flow', 'concentration', 'load'}
    unit : str
        A unit accepted for that quantity.

    Raises
    ------
    KeyError
        If the unit is not known for the quantity (callers turn this into a PlantDataError).

    Examples
    --------
    >>> factor("flow", "kg/s")
    3.6
    """
    return _TABLES[quantity][unit]


def accepted(quantity: str) -> list[str]:
    """List the units accepted for a quantity, e.g. ``accepted('flow')``."""
    return list(_TABLES[quantity])
