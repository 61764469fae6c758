"""Seeded synthetic plants by size, for benchmarks: :func:`synthetic_plant` (linear, fixed-flow
users) and :func:`synthetic_bilinear_plant` (fixed-load operations and removal regenerators,
solved by :mod:`cascade.bilinear`; its ranges are in its docstring).

A *water user* is one fixed-flow sink and one fixed-flow source sharing a ``unit`` (so the
superstructure never pipes a user's drain back to its own inlet). The plant also has two
supplies, ``n_regenerators`` fixed-outlet regenerators and one discharge. Ranges (uniform, drawn
from ``numpy.random.default_rng(seed)``; flows rounded to 0.1 t/h, concentrations to 1 ppm):

==========================  ================================================================
item                        value
==========================  ================================================================
sink ``D###`` flow          5 - 50 t/h
sink limit, per contam.     0 - 200 ppm
source ``S###`` flow        80 - 100 % of its sink's flow
source quality              its sink's limit + 10 - 400 ppm (a user only makes water dirtier)
supply ``FW`` (mains)       0 ppm of everything, 4.0 money/t, no cap
supply ``RW`` (reclaimed)   10 - 50 ppm, 2.5 money/t, capped at 5 - 15 % of the total demand
regenerator ``R##``         outlet 2 - 20 ppm of every contaminant, max_flow 20 - 60 t/h,
                            0.5 - 1.5 money/t treated, 100 000 - 400 000 money/yr if installed
discharge ``WW``            limit = the dirtiest source or regenerator outlet, 1.5 money/t
pipes (``pipe_binaries``)   ``min_flow`` 1 t/h and 5 000 money/yr per new pipe
==========================  ================================================================

8000 h/yr, objective ``cost``, contaminants ``C1`` ... ``CK``, no existing network (every pipe
is new), no forbidden or required pipe.

Feasible by construction: the no-reuse network is a plan. Mains water at 0 ppm meets every sink
limit (limits are >= 0) and is never capped, so each sink takes its whole flow from ``FW``; each
source sends its whole flow to ``WW``, whose limit is at least the quality of every stream that
may reach it, so any mixture there meets it; regenerators carry nothing and are not installed;
``RW``'s cap only limits ``RW``. Every pipe of that network carries a whole fixed stream of at
least 4 t/h, above the 1 t/h minimum pipe flow.
"""

from __future__ import annotations

import math

import numpy as np

from cascade import Plant

#: Minimum flow (t/h) on a used pipe and annual cost of a new pipe when ``pipe_binaries``.
MIN_FLOW = 1.0
PIPE_COST = 5000.0


def default_regenerators(n_users: int) -> int:
    """The default number of regenerators: one per 20 users, at least one."""
    return max(1, n_users // 20)


def synthetic_plant(
    n_users: int,
    n_contaminants: int = 1,
    n_regenerators: int | None = None,
    seed: int = 0,
    pipe_binaries: bool = True,
) -> Plant:
    """Return a feasible synthetic plant (see the module notes for its ranges and why it is feasible).

    Parameters
    ----------
    n_users : int
        Water users (N): one sink and one source each, so 2N fixed streams.
    n_contaminants : int, default 1
        Contaminants (K), named ``C1`` ... ``CK``.
    n_regenerators : int, optional
        Regenerators (R); default :func:`default_regenerators` (``max(1, N // 20)``); 0 is allowed.
    seed : int, default 0
        Seed of ``numpy.random.default_rng``: the same arguments give the same plant.
    pipe_binaries : bool, default True
        Set ``connections.min_flow`` (1 t/h) and ``pipe_cost.fixed`` (5000/yr), so the MILP has a
        binary on every pipe. False gives a plant whose only binaries are regenerator installations.

    Returns
    -------
    cascade.Plant
    """
    if n_users < 1 or n_contaminants < 1:
        raise ValueError("n_users and n_contaminants must be at least 1")
    n_regen = default_regenerators(n_users) if n_regenerators is None else int(n_regenerators)
    if n_regen < 0:
        raise ValueError("n_regenerators must be 0 or more")
    rng = np.random.default_rng(seed)
    contaminants = [f"C{k + 1}" for k in range(n_contaminants)]
    plant = Plant(
        f"synthetic N={n_users} K={n_contaminants} R={n_regen} seed={seed}",
        contaminants,
        description="Synthetic benchmark plant from benchmarks.generator.synthetic_plant.",
        hours_per_year=8000.0,
        objective="cost",
    )

    sink_flow = np.round(rng.uniform(5.0, 50.0, n_users), 1)
    source_flow = np.round(sink_flow * rng.uniform(0.8, 1.0, n_users), 1)
    limit = np.round(rng.uniform(0.0, 200.0, (n_users, n_contaminants)))
    quality = limit + np.round(rng.uniform(10.0, 400.0, (n_users, n_contaminants)))
    reclaimed = np.round(rng.uniform(10.0, 50.0, n_contaminants))
    reclaimed_cap = round(float(sink_flow.sum()) * float(rng.uniform(0.05, 0.15)), 1)
    regen_outlet = np.round(rng.uniform(2.0, 20.0, (n_regen, n_contaminants)))
    regen_max = np.round(rng.uniform(20.0, 60.0, n_regen), 1)
    regen_per_t = np.round(rng.uniform(0.5, 1.5, n_regen), 2)
    regen_fixed = np.round(rng.uniform(1.0e5, 4.0e5, n_regen), -3)

    plant.add_freshwater("FW", dict.fromkeys(contaminants, 0.0), price=4.0, kind="fresh")
    plant.add_freshwater(
        "RW", dict(zip(contaminants, reclaimed.tolist(), strict=True)), price=2.5, max_flow=reclaimed_cap,
        kind="reclaimed",
    )
    width = len(str(n_users))
    for u in range(n_users):
        tag = f"{u + 1:0{width}d}"
        unit = f"U{tag}"
        plant.add_sink(f"D{tag}", float(sink_flow[u]), dict(zip(contaminants, limit[u].tolist(), strict=True)),
                       unit=unit)
        plant.add_source(f"S{tag}", float(source_flow[u]), dict(zip(contaminants, quality[u].tolist(), strict=True)),
                         unit=unit)
    for r in range(n_regen):
        plant.add_regenerator(
            f"R{r + 1:02d}",
            outlet=dict(zip(contaminants, regen_outlet[r].tolist(), strict=True)),
            max_flow=float(regen_max[r]),
            recycle=True,
            cost_fixed=float(regen_fixed[r]),
            cost_per_t=float(regen_per_t[r]),
        )
    dirtiest = np.max(np.vstack([quality, regen_outlet]) if n_regen else quality, axis=0)
    plant.add_discharge("WW", {c: float(math.ceil(v)) for c, v in zip(contaminants, dirtiest, strict=True)},
                        price=1.5)
    if pipe_binaries:
        plant.min_flow = MIN_FLOW
        plant.pipe_cost_fixed = PIPE_COST
    return plant


def synthetic_bilinear_plant(
    n_operations: int,
    n_contaminants: int = 2,
    n_regenerators: int = 1,
    seed: int = 0,
    n_sinks: int = 0,
    n_sources: int = 0,
    objective: str = "freshwater",
) -> Plant:
    """Return a feasible bilinear plant: fixed-load operations with several contaminants and removal regenerators.

    Ranges (uniform, drawn from ``numpy.random.default_rng(seed)``; loads rounded to 0.01 kg/h,
    flows to 0.1 t/h, concentrations to 1 ppm, in the range of the refinery examples of the
    literature):

    ==========================  ============================================================
    item                        value
    ==========================  ============================================================
    operation ``OP##`` load     0.5 - 20 kg/h of every contaminant
    operation max_inlet         0 - 200 ppm per contaminant
    operation max_outlet        100 - 1000 ppm per contaminant, and at least max_inlet + 50
    supply ``FW``               0 ppm of everything, 1.0 money/t, no cap
    regenerator ``R#``          per contaminant a removal ratio 0.5 - 0.99 (at least one
                                contaminant, the others each with probability 1/2) or else a
                                fixed outlet of 2 - 20 ppm; max_flow 20 - 60 % of the no-reuse
                                fresh water (below); 0.2 - 1.0 money/t, no fixed cost,
                                ``recycle`` allowed
    sink ``D##`` (optional)     5 - 50 t/h, limit 0 - 200 ppm per contaminant
    source ``S##`` (optional)   5 - 50 t/h, 50 - 500 ppm per contaminant
    discharge ``WW``            no limit, 0.5 money/t
    ==========================  ============================================================

    8000 h/yr, no existing network, no forbidden or required pipe, no minimum pipe flow or pipe
    cost. With K >= 2 contaminants (or any removal regenerator) the plant is bilinear, so
    ``cascade.optimize`` routes it to :mod:`cascade.bilinear`.

    Feasible by construction: the no-reuse network is a plan. Fresh water at 0 ppm meets every
    inlet limit (limits are >= 0) and is never capped; an operation fed only fresh water at
    ``max_c 1000 L_c / max_outlet_c`` t/h leaves with every contaminant at or below its
    max_outlet (the limiting one exactly at it), and sends that water to ``WW``; each sink takes
    its whole flow from ``FW``; each source sends its whole flow to ``WW``, which has no limit;
    regenerators carry nothing, so their capacities hold. The capacity is there because an
    uncapped removal regenerator with recycle could let the operations circulate their water
    without any fresh water where every inlet limit is above 0 ppm.

    Parameters
    ----------
    n_operations : int
        Fixed-load operations (N), at least 1.
    n_contaminants : int, default 2
        Contaminants (K), named ``C1`` ... ``CK``.
    n_regenerators : int, default 1
        Regenerators (R), 0 or more.
    seed : int, default 0
        Seed of ``numpy.random.default_rng``: the same arguments give the same plant.
    n_sinks, n_sources : int, default 0
        Fixed-flow sinks and sources besides the operations.
    objective : {'freshwater', 'cost'}, default 'freshwater'
        The plant's own objective.

    Returns
    -------
    cascade.Plant
    """
    if n_operations < 1 or n_contaminants < 1:
        raise ValueError("n_operations and n_contaminants must be at least 1")
    if min(n_regenerators, n_sinks, n_sources) < 0:
        raise ValueError("n_regenerators, n_sinks and n_sources must be 0 or more")
    rng = np.random.default_rng(seed)
    contaminants = [f"C{k + 1}" for k in range(n_contaminants)]

    def per_c(values) -> dict[str, float]:
        return dict(zip(contaminants, (float(v) for v in values), strict=True))

    plant = Plant(
        f"synthetic bilinear N={n_operations} K={n_contaminants} R={n_regenerators} seed={seed}",
        contaminants,
        description="Synthetic bilinear benchmark plant from benchmarks.generator.synthetic_bilinear_plant.",
        hours_per_year=8000.0,
        objective=objective,
    )
    shape = (n_operations, n_contaminants)
    load = np.round(rng.uniform(0.5, 20.0, shape), 2)
    max_inlet = np.round(rng.uniform(0.0, 200.0, shape))
    max_outlet = np.maximum(np.round(rng.uniform(100.0, 1000.0, shape)), max_inlet + 50.0)
    removes = rng.random((n_regenerators, n_contaminants)) < 0.5
    removes[np.arange(n_regenerators), rng.integers(0, n_contaminants, n_regenerators)] = True
    removal = np.round(rng.uniform(0.5, 0.99, (n_regenerators, n_contaminants)), 2)
    regen_outlet = np.round(rng.uniform(2.0, 20.0, (n_regenerators, n_contaminants)))
    regen_per_t = np.round(rng.uniform(0.2, 1.0, n_regenerators), 2)
    no_reuse = float(np.sum(np.max(1000.0 * load / max_outlet, axis=1)))  # t/h, see the docstring
    regen_max = np.round(no_reuse * rng.uniform(0.2, 0.6, n_regenerators), 1)
    sink_flow = np.round(rng.uniform(5.0, 50.0, n_sinks), 1)
    sink_limit = np.round(rng.uniform(0.0, 200.0, (n_sinks, n_contaminants)))
    source_flow = np.round(rng.uniform(5.0, 50.0, n_sources), 1)
    source_quality = np.round(rng.uniform(50.0, 500.0, (n_sources, n_contaminants)))

    plant.add_freshwater("FW", dict.fromkeys(contaminants, 0.0), price=1.0, kind="fresh")
    width = max(2, len(str(n_operations)))
    for o in range(n_operations):
        plant.add_operation(f"OP{o + 1:0{width}d}", per_c(load[o]), per_c(max_inlet[o]), per_c(max_outlet[o]))
    for r in range(n_regenerators):
        plant.add_regenerator(
            f"R{r + 1}",
            outlet={c: float(regen_outlet[r, k]) for k, c in enumerate(contaminants) if not removes[r, k]},
            removal={c: float(removal[r, k]) for k, c in enumerate(contaminants) if removes[r, k]},
            max_flow=float(regen_max[r]),
            recycle=True,
            cost_per_t=float(regen_per_t[r]),
        )
    for k in range(n_sinks):
        plant.add_sink(f"D{k + 1:02d}", float(sink_flow[k]), per_c(sink_limit[k]))
    for s in range(n_sources):
        plant.add_source(f"S{s + 1:02d}", float(source_flow[s]), per_c(source_quality[s]))
    plant.add_discharge("WW", price=0.5)
    return plant
