"""Seeded synthetic plants by size, for benchmarks.

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
