"""Trade-offs: lexicographic objectives and Pareto fronts by the epsilon-constraint method.

Three measures of a plan can be traded: ``freshwater`` (the plant's flow unit), ``cost`` (total
annual cost, money/yr, :func:`cascade.kpi.annual_costs`) and ``new_pipes`` (how many pipes to
build). Each is an objective of :func:`cascade.optimize`, and each can be bounded with its
``limits``.

**Lexicographic** (:func:`lexicographic`): minimise ``z_1``; then minimise ``z_2`` with
``z_1 <= z_1^* + tol``; and so on. Each step needs the previous one proven optimal, or its
limit would rest on a plan that is not the optimum; a step that is not stops the sequence and
the plan says so.

**Pareto front** (:func:`pareto`) of ``y`` against ``x``, by the epsilon-constraint method: the
two ends are the lexicographic optima ``(x, y)`` and ``(y, x)``; between them, for each
``epsilon`` on a grid of ``x`` (every whole number for ``new_pipes``), ``y`` is minimised with
``x <= epsilon`` and then ``x`` with ``y <= y^*``. The second step makes every point
non-dominated (a point with smaller ``y`` could not have had ``x <= epsilon``; one with equal
``y`` and smaller ``x`` is what the second step finds). Points the grid reaches twice are kept
once (the one with the least ``x``; ``y`` equal within :data:`SAME`), so ``y`` falls strictly as
``x`` grows along the front.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import InfeasiblePlantError, PlantDataError
from .formulation import OBJECTIVES
from .plan import RetrofitPlan
from .plant import Plant

#: The measures a trade-off can use: the objectives of :func:`cascade.optimize`.
MEASURES = OBJECTIVES
#: Relative slack on an earlier objective's optimum in later lexicographic steps (absolute below 1). The limit
#: is the value of a plan in hand, so it only needs room for HiGHS's feasibility tolerance (as the tie-break's).
TOLERANCE = 1e-7
#: Points of a front whose ``y`` differ by less than this (relative) are one point (ten times the default
#: MIP gap: two solves of one optimum may differ by the gap each).
SAME = 1e-5


def measure(plan: RetrofitPlan, name: str) -> float:
    """The value of a measure for a plan: fresh water (flow unit), annual cost or number of new pipes."""
    if name == "freshwater":
        return float(plan.freshwater)
    if name == "cost":
        return float(plan.costs["total"])
    measure_check(name)
    return float(len(plan.new_pipes))


def _slack(name: str, value: float, tolerance: float) -> float:
    """The limit that keeps a later step within ``tolerance`` of an optimum (whole pipes stay whole)."""
    if name == "new_pipes":
        return float(round(value))
    return value + tolerance * max(abs(value), 1.0)


def lexicographic(
    plant: Plant,
    objectives: Sequence[str] = ("freshwater", "new_pipes", "cost"),
    *,
    limits: Mapping[str, float] | None = None,
    tolerance: float = TOLERANCE,
    **options: Any,
) -> RetrofitPlan:
    """Minimise several objectives in order of priority.

    Parameters
    ----------
    plant : Plant
    objectives : sequence of {'freshwater', 'cost', 'new_pipes'}
        Highest priority first.
    limits : mapping, optional
        Limits every step keeps (see :func:`cascade.optimize`).
    tolerance : float, default 1e-7
        Relative slack on each optimum in the later steps.
    **options
        Passed to :func:`cascade.optimize` (``time_limit`` is per step).

    Returns
    -------
    RetrofitPlan
        The last step's plan; ``plan.solve["lexicographic"]`` lists each step's objective, value
        and status.

    Examples
    --------
    >>> import cascade
    >>> plan = lexicographic(cascade.examples.wang_smith(), ["freshwater", "new_pipes"])
    >>> round(plan.freshwater, 6), [s["objective"] for s in plan.solve["lexicographic"]]
    (90.0, ['freshwater', 'new_pipes'])
    """
    objectives = list(objectives)
    if not objectives or len(set(objectives)) != len(objectives):
        raise PlantDataError(f"objectives {objectives!r}: give each of {', '.join(MEASURES)} at most once")
    for name in objectives:
        measure_check(name)
    held = dict(limits or {})
    steps: list[dict[str, Any]] = []
    plan: RetrofitPlan | None = None
    options = {"tie_break": False, **options}
    for name in objectives:
        plan = _optimize(plant, name, held, options)
        value = measure(plan, name)
        steps.append({"objective": name, "value": value, "status": plan.status, "limits": dict(held)})
        if plan.status != "optimal":
            break
        held[name] = min(held.get(name, math.inf), _slack(name, value, tolerance))
    assert plan is not None
    notes = plan.notes
    if len(steps) < len(objectives):
        notes = (*notes, f"Lexicographic steps stopped after '{steps[-1]['objective']}', which was not proven "
                         f"optimal ({plan.status}); the later objectives were not optimised.")
    return replace(plan, solve={**plan.solve, "lexicographic": steps}, notes=notes)


def measure_check(name: str) -> None:
    """Raise a PlantDataError unless ``name`` is a measure."""
    if name not in MEASURES:
        raise PlantDataError(f"{name!r} is not a measure; use one of {', '.join(MEASURES)}")


def _optimize(plant: Plant, objective: str, limits: Mapping[str, float], options: Mapping[str, Any]) -> RetrofitPlan:
    from .optimize import optimize

    return optimize(plant, objective, limits=dict(limits), **options)


def pareto(
    plant: Plant,
    x: str = "cost",
    y: str = "freshwater",
    points: int = 7,
    *,
    tolerance: float = TOLERANCE,
    **options: Any,
) -> pd.DataFrame:
    """The Pareto front of ``y`` against ``x`` by the epsilon-constraint method (module notes).

    Parameters
    ----------
    plant : Plant
    x, y : {'freshwater', 'cost', 'new_pipes'}
        The measure bounded (``x``) and the one minimised (``y``); they must differ.
    points : int, default 7
        Points on the front at most, the two ends included (``new_pipes``: at most one per
        whole number of pipes between the ends).
    tolerance : float, default 1e-7
        Relative slack of the second, lexicographic step.
    **options
        Passed to :func:`cascade.optimize` (``time_limit`` is per solve).

    Returns
    -------
    pandas.DataFrame
        One row per point, ``x`` ascending: ``epsilon`` (the bound on ``x``; NaN at the
        ``y``-free end), the columns named ``x`` and ``y``, ``freshwater``, ``cost``,
        ``new_pipes``, ``capital``, ``status``, ``check_passed`` and ``plan`` (the
        :class:`RetrofitPlan`).

    Examples
    --------
    >>> import cascade
    >>> front = pareto(cascade.examples.wang_smith(), x="new_pipes", y="freshwater", points=3)
    >>> bool(front["freshwater"].is_monotonic_decreasing), bool(front["new_pipes"].is_monotonic_increasing)
    (True, True)
    """
    measure_check(x)
    measure_check(y)
    if x == y:
        raise PlantDataError(f"x and y are both {x!r}; a front needs two different measures")
    if points < 2:
        raise PlantDataError(f"points is {points}; a front needs at least its two ends")
    options = {"tie_break": False, **options}
    cheapest = lexicographic(plant, [x, y], tolerance=tolerance, **options)  # least x
    best = lexicographic(plant, [y, x], tolerance=tolerance, **options)  # least y
    low, high = measure(cheapest, x), measure(best, x)
    if x == "new_pipes":
        grid = sorted({float(round(v)) for v in np.linspace(low, high, points)})[1:-1]
    else:
        grid = list(np.linspace(low, high, points))[1:-1]
    rows = [_row(cheapest, x, y, low)]
    for epsilon in grid:
        try:
            plan = lexicographic(plant, [y, x], limits={x: epsilon}, tolerance=tolerance, **options)
        except InfeasiblePlantError:  # cannot happen above the least x, unless the solver disagrees with itself
            continue
        rows.append(_row(plan, x, y, epsilon))
    rows.append(_row(best, x, y, math.nan))
    frame = pd.DataFrame(rows).sort_values([x, y], kind="stable").reset_index(drop=True)
    return frame[_strictly_better(frame, y, SAME)].reset_index(drop=True)


def _strictly_better(frame: pd.DataFrame, y: str, tolerance: float) -> list[bool]:
    """Along ``x`` ascending, keep a point only where ``y`` falls by more than ``tolerance`` (relative):
    the others repeat a point already on the front within the solver's tolerance, or are dominated."""
    keep, last = [], math.inf
    for value in frame[y].to_numpy(dtype=float):
        better = value < last - tolerance * max(abs(last) if math.isfinite(last) else 1.0, 1.0)
        keep.append(better)
        if better:
            last = value
    return keep


def _row(plan: RetrofitPlan, x: str, y: str, epsilon: float) -> dict[str, Any]:
    return {
        "epsilon": epsilon,
        "freshwater": measure(plan, "freshwater"),
        "cost": measure(plan, "cost"),
        "new_pipes": int(measure(plan, "new_pipes")),
        "capital": plan.economics.get("capital", {}).get("total", 0.0),
        "status": plan.status,
        "check_passed": bool(plan.check.passed),
        "plan": plan,
    }


def dominated(front: pd.DataFrame, x: str, y: str, tolerance: float = 1e-6) -> pd.Series:
    """For each point, whether another point is at least as good in both measures and better in one."""
    xs, ys = front[x].to_numpy(dtype=float), front[y].to_numpy(dtype=float)
    out = []
    for i in range(len(front)):
        tol_x, tol_y = tolerance * max(abs(xs[i]), 1.0), tolerance * max(abs(ys[i]), 1.0)
        better = (xs <= xs[i] + tol_x) & (ys <= ys[i] + tol_y) & ((xs < xs[i] - tol_x) | (ys < ys[i] - tol_y))
        out.append(bool(better.any()))
    return pd.Series(out, index=front.index, name="dominated")


__all__ = ["lexicographic", "pareto", "dominated", "measure", "MEASURES"]
