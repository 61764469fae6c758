"""Indicators before and after, against policy thresholds: one row of bars per indicator.

Indicators come in different units (%, t/h, m3 per t of product, money per year), so each row has
its own scale, from zero (or the smallest value) to the largest of baseline, plan and threshold;
the values are printed with their unit at the end of the bars, so nothing is read off an axis.
The threshold is a black tick across the row; the plan's bar is green when it meets the
threshold, red when it does not, blue when there is none, and the right-hand column says so in
words.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ._common import POINTS, _pyplot, short_number, text_size, wrap

COLUMNS = ("indicator", "baseline", "plan", "threshold", "unit", "comparison")
COMPARISONS = (">", ">=", "<", "<=", "")
FONT = 8.5
COLOURS = {"baseline": "0.72", "met": "#3c9d5d", "missed": "#c0392b", "none": "#2f6db5"}
SYMBOL = {">": ">", ">=": "\u2265", "<": "<", "<=": "\u2264"}
ROW = 0.62  # inches per indicator


def meets(value: float, threshold: float, comparison: str) -> bool | None:
    """Whether ``value`` meets the threshold (None when there is no threshold to meet).

    >>> meets(92.0, 90.0, ">="), meets(3.2, 3.0, "<="), meets(1.0, float("nan"), ">")
    (True, False, None)
    """
    if not comparison or threshold is None or not math.isfinite(threshold) or not math.isfinite(value):
        return None
    slack = 1e-9 * max(1.0, abs(threshold))
    return {
        ">": value > threshold,
        ">=": value >= threshold - slack,
        "<": value < threshold,
        "<=": value <= threshold + slack,
    }[comparison]


def _value(v: float, unit: str) -> str:
    if not math.isfinite(v):
        return "n/a"
    return f"{short_number(v)} {unit}".strip()


def indicators(table: pd.DataFrame, *, ax: Any = None) -> Any:
    """Draw indicators of the baseline and the plan against their policy thresholds.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per indicator: ``indicator`` (label), ``baseline``, ``plan``, ``threshold`` (NaN:
        none), ``unit`` (e.g. ``"%"``), ``comparison`` (``">"``, ``">="``, ``"<"``, ``"<="``, or
        ``""`` when there is no threshold).
    ax : matplotlib Axes, optional
        Default: a new figure sized to the table.

    Returns
    -------
    matplotlib Axes
        The plan's bars carry a ``gid``: ``plan:<indicator>:met``, ``:missed`` or ``:none``.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    missing = set(COLUMNS) - set(table.columns)
    if missing:
        raise ValueError(f"the indicators table needs the columns {', '.join(COLUMNS)} (missing: {sorted(missing)})")
    rows = table.reset_index(drop=True)
    bad = sorted({str(c) for c in rows["comparison"].fillna("") if c not in COMPARISONS})
    if bad:
        raise ValueError(f"unknown comparison(s) {bad}; use one of >, >=, <, <= or ''")
    n = len(rows)
    labels = [wrap(f"{r.indicator} [{r.unit}]" if str(r.unit or "").strip() else str(r.indicator), 2.4, FONT)
              for r in rows.itertuples(index=False)]
    label_w = max((text_size(s, FONT)[0] for s in labels), default=0.5)
    verdicts, right = [], []
    for r in rows.itertuples(index=False):
        comparison = str(r.comparison or "")
        threshold = float(r.threshold) if r.threshold is not None else math.nan
        verdict = meets(float(r.plan), threshold, comparison)
        verdicts.append(verdict)
        right.append("" if verdict is None else
                     f"{SYMBOL[comparison]} {_value(threshold, str(r.unit or ''))}: {'met' if verdict else 'not met'}")
    right_w = max((text_size(s, FONT)[0] for s in right), default=0.0)
    value_w = max((text_size(_value(float(v), str(r.unit or "")), FONT)[0]
                   for r in rows.itertuples(index=False) for v in (r.baseline, r.plan)), default=0.5)

    if ax is None:
        width = max(7.0, label_w + 3.0 + value_w + right_w + 0.8)
        height = ROW * n + 1.3
        fig = _pyplot().figure(figsize=(width, height))
        left = label_w + 0.2
        ax = fig.add_axes((left / width, 0.75 / height, 1 - (left + 0.2) / width, ROW * n / height))
    box = ax.get_position()
    fw, fh = ax.figure.get_size_inches()
    axes_w = box.width * fw
    bars_w = max(axes_w - value_w - right_w - 0.35, 0.5)
    ax.set_xlim(0, axes_w)
    ax.set_ylim(-0.5, n - 0.5)

    for i, (r, verdict) in enumerate(zip(rows.itertuples(index=False), verdicts, strict=True)):
        y = n - 1 - i
        unit = str(r.unit or "")
        values = [float(v) for v in (r.baseline, r.plan, r.threshold) if v is not None and math.isfinite(float(v))]
        lo, hi = min(0.0, *values) if values else 0.0, max(values, default=1.0)
        span = hi - lo if hi > lo else 1.0

        def at(v: float, lo: float = lo, span: float = span) -> float:
            return (v - lo) / span * bars_w

        zero = at(0.0)
        state = "none" if verdict is None else "met" if verdict else "missed"
        for offset, v, face, gid in ((0.17, float(r.baseline), COLOURS["baseline"], f"baseline:{r.indicator}"),
                                     (-0.17, float(r.plan), COLOURS[state], f"plan:{r.indicator}:{state}")):
            if not math.isfinite(v):
                continue
            ax.barh(y + offset, at(v) - zero, left=zero, height=0.3, color=face, gid=gid)
            ax.text(max(at(v), zero) + 0.06, y + offset, _value(v, unit), va="center", ha="left", fontsize=FONT,
                    color="0.15", zorder=4,
                    bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
        if verdict is not None:
            x = at(float(r.threshold))
            ax.plot([x, x], [y - 0.4, y + 0.4], color="black", linewidth=2.2, solid_capstyle="butt", zorder=3,
                    gid=f"threshold:{r.indicator}")
            ax.text(axes_w - right_w, y, right[i], va="center", ha="left", fontsize=FONT,
                    color=COLOURS["met" if verdict else "missed"])
    ax.set_yticks(range(n - 1, -1, -1), labels, fontsize=FONT)
    ax.tick_params(axis="y", length=0)
    ax.set_xticks([])
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    states = {"met": "plan: meets the threshold", "missed": "plan: misses the threshold", "none": "plan (no threshold)"}
    handles = [Patch(color=COLOURS["baseline"], label="baseline")]
    handles += [Patch(color=COLOURS[k], label=text) for k, text in states.items()
                if any((v is None and k == "none") or (v is True and k == "met") or (v is False and k == "missed")
                       for v in verdicts)]
    if any(v is not None for v in verdicts):
        handles.append(Line2D([], [], color="black", linewidth=2.2, label="threshold"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.02), ncol=3,
              fontsize=FONT - 0.5, frameon=False, handlelength=1.2, columnspacing=1.0)
    ax.set_title("Indicators: baseline and plan against their thresholds", fontsize=10, loc="left",
                 pad=0.12 * POINTS)
    return ax


__all__ = ["indicators", "meets"]
