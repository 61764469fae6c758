"""The best plan and the best proven bound of a solve, over time.

:func:`cascade.optimize` runs several solves (an LP relaxation, restricted MILPs, the whole
MILP, or the relaxation-restriction loop of the bilinear method). Only some of what each one
reports holds for the plant: every plan found is a plan of the plant, but the bound of a
restricted MILP bounds only that restriction. A :class:`Tracker` keeps the plant's best plan and
best *valid* bound, stamps each change with the seconds since the start, keeps the history
(``plan.solve["progress"]``: the time to the first plan, the gap at any time) and passes each
change to an optional user callback ``callback(seconds, objective, bound)``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

#: A bound is recorded again only when it rose by more than this share of the plan's objective.
BOUND_STEP = 1e-6

Callback = Callable[[float, float | None, float | None], None]


class Tracker:
    """Best plan and best valid bound of the plant since ``start`` (``time.perf_counter()``)."""

    def __init__(self, callback: Callback | None = None, start: float | None = None) -> None:
        self.callback = callback
        self.start = time.perf_counter() if start is None else start
        self.objective: float | None = None
        self.bound: float | None = None
        self.history: list[tuple[float, float | None, float | None]] = []

    def plan(self, objective: float | None) -> None:
        """A plan of the plant with this objective was found."""
        if objective is None or not math.isfinite(objective):
            return
        if self.objective is None or objective < self.objective - 1e-12 * max(abs(self.objective), 1.0):
            self.objective = objective
            self._emit()

    def proven(self, bound: float | None) -> None:
        """The plant's optimum is proven to be at least ``bound``."""
        if bound is None or not math.isfinite(bound):
            return
        scale = max(abs(self.objective or bound), 1.0)
        if self.bound is None or bound > self.bound + BOUND_STEP * scale:
            self.bound = bound
            self._emit()

    def hook(self, *, bounds_hold: bool) -> Callable[[float | None, float | None], None]:
        """A :class:`cascade.solve.HighsSolver` progress hook: plans always, bounds when they hold for the plant."""

        def report(objective: float | None, bound: float | None) -> None:
            self.plan(objective)
            if bounds_hold:
                self.proven(bound)

        return report

    def _emit(self) -> None:
        seconds = time.perf_counter() - self.start
        bound = self.bound
        if bound is not None and self.objective is not None:
            bound = min(bound, self.objective)  # above the plan only by round-off
        self.history.append((seconds, self.objective, bound))
        if self.callback is not None:
            self.callback(seconds, self.objective, bound)


def gap_at(history: list[tuple[float, float | None, float | None]], seconds: float) -> float | None:
    """Relative gap of the best plan to the best bound reached by ``seconds`` (None before a plan and a bound).

    Examples
    --------
    >>> gap_at([(1.0, 110.0, None), (2.0, 110.0, 100.0), (5.0, 105.0, 100.0)], 3.0)
    0.09090909090909091
    """
    objective = bound = None
    for t, o, b in history:
        if t > seconds:
            break
        objective, bound = o, b
    if objective is None or bound is None:
        return None
    return max(objective - bound, 0.0) / max(abs(objective), 1e-9)


def time_to_gap(history: list[tuple[float, float | None, float | None]], gap: float) -> float | None:
    """First time (s) at which the relative gap was at most ``gap`` (None if never).

    Examples
    --------
    >>> time_to_gap([(1.0, 110.0, None), (2.0, 110.0, 100.0), (5.0, 101.0, 100.0)], 0.01)
    5.0
    """
    for t, o, b in history:
        if o is not None and b is not None and max(o - b, 0.0) / max(abs(o), 1e-9) <= gap:
            return t
    return None


__all__ = ["Tracker", "gap_at", "time_to_gap"]
