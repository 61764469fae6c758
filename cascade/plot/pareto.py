"""The Pareto front of a trade-off study (:func:`cascade.pareto`)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ._common import _pyplot

_LABELS = {"freshwater": "fresh water", "cost": "annual cost", "new_pipes": "new pipes"}


def pareto_front(front: pd.DataFrame, x: str, y: str, *, ax: Any = None, units: dict[str, str] | None = None) -> Any:
    """Draw a Pareto front from :func:`cascade.pareto`: the points, joined as a staircase, labelled by status.

    Parameters
    ----------
    front : pandas.DataFrame
    x, y : str
        The measures of the front (column names).
    ax : matplotlib Axes, optional
    units : dict, optional
        The plant's units (``flow``, ``money``) for the axis labels.

    Returns
    -------
    matplotlib Axes
    """
    if ax is None:
        ax = _pyplot().subplots(figsize=(6, 4))[1]
    units = units or {}
    suffix = {"freshwater": units.get("flow", "t/h"), "cost": f"{units.get('money', '')}/yr".strip("/"),
              "new_pipes": ""}
    ax.step(front[x], front[y], where="post", color="0.6", linewidth=1)
    proven = front["status"] == "optimal"
    ax.plot(front.loc[proven, x], front.loc[proven, y], "o", label="optimal")
    if (~proven).any():
        ax.plot(front.loc[~proven, x], front.loc[~proven, y], "s", label="within the gap")
    ax.set_xlabel(f"{_LABELS[x]} [{suffix[x]}]" if suffix[x] else _LABELS[x])
    ax.set_ylabel(f"{_LABELS[y]} [{suffix[y]}]" if suffix[y] else _LABELS[y])
    ax.set_title(f"Pareto front: {_LABELS[y]} against {_LABELS[x]}")
    ax.legend()
    return ax


__all__ = ["pareto_front"]
