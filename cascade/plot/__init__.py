"""Figures of the retrofit report (the ``plot`` extra: matplotlib, imported only when a figure is drawn).

Every function takes ``ax=`` (a matplotlib Axes; a new figure when None), or ``fig=`` where it needs
several axes, and returns it. Inputs are plain data (a :class:`~cascade.Plant`, a flows table with
``from``, ``to``, ``flow`` in the plant's flow unit, concentrations in ppm), so a figure can be drawn
for a plan and for its baseline alike.

* :func:`network`: the water network, laid out automatically;
* :func:`water_balance`: intake, use, reuse, discharge and consumption, before and after;
* :func:`composite_curves`: limiting composite curve, or source and sink composite curves, with the
  pinch of :func:`cascade.target` where it applies;
* :func:`indicators`: indicators before and after against policy thresholds;
* :func:`pareto_front`: a trade-off study's Pareto front;
* :func:`baseline`: the baseline network as a flows table, to draw next to the plan.

Example (the ``plot`` extra)::

    plan = cascade.optimize(plant)
    base = cascade.plot.baseline(plant)
    cascade.plot.network(plant, plan.flows, quality=plan.outlet_quality)
    cascade.plot.water_balance(plant, base, plan.flows)
    cascade.plot.composite_curves(plant, flows=plan.flows)
"""

from ._common import _pyplot as _pyplot  # re-exported: the lazy import the docs point to
from ._common import baseline
from .balance import water_balance
from .composite import composite_curves
from .layered import network
from .pareto import pareto_front
from .scorecard import indicators

__all__ = ["network", "water_balance", "composite_curves", "indicators", "pareto_front", "baseline"]
