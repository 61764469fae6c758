"""Shared pieces of the figures: the lazy matplotlib import, flows as data, text sizes, label spreading."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from ..plant import Plant
from ..units import factor

#: Points per inch: the figures are laid out in inches and text is measured in points.
POINTS = 72.0


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("plots need matplotlib: pip install 'cascade-water[plot]'") from exc
    return plt


def flow_scale(plant: Plant) -> float:
    """t/h per unit of the plant's flow unit."""
    return factor("flow", plant.units.get("flow", "t/h"))


def canonical_flows(
    plant: Plant, flows: pd.DataFrame | Mapping[tuple[str, str], float]
) -> dict[tuple[str, str], float]:
    """Flows in t/h keyed by ``(tail, head)`` from a ``from``/``to``/``flow`` table in the plant's flow unit.

    A mapping ``{(tail, head): flow}`` (plant's flow unit) is accepted too. Non-positive flows are dropped;
    repeated pipes are added up.
    """
    if isinstance(flows, pd.DataFrame):
        missing = {"from", "to", "flow"} - set(flows.columns)
        if missing:
            raise ValueError(f"the flows table needs the columns from, to and flow (missing: {sorted(missing)})")
        rows: Iterable = flows[["from", "to", "flow"]].itertuples(index=False)
    else:
        rows = ((a, b, f) for (a, b), f in flows.items())
    scale = flow_scale(plant)
    out: dict[tuple[str, str], float] = {}
    for a, b, f in rows:
        f = float(f)
        if math.isfinite(f) and f > 0:
            out[str(a), str(b)] = out.get((str(a), str(b)), 0.0) + f * scale
    return out


def baseline(plant: Plant) -> pd.DataFrame:
    """The network a plan's savings are measured against, as a flows table for the figures.

    Today's pipes when the plant lists them, otherwise the plant with no reuse
    (:func:`cascade.optimize.baseline_flows`): ``from``, ``to``, ``flow`` (the plant's flow unit),
    ``new_pipe`` (False: nothing is built).

    Examples
    --------
    >>> import cascade
    >>> baseline(cascade.examples.wang_smith()).query("to == 'OP1'")[["from", "flow"]].to_numpy().tolist()
    [['FW', 20.0]]
    """
    from ..optimize import baseline_flows
    from ..superstructure import build_superstructure

    graph = build_superstructure(plant)
    _, flows = baseline_flows(plant, graph)
    scale = flow_scale(plant)
    rows = [(a, b, f / scale, False) for (a, b), f in flows.items() if a in graph and b in graph and f > 0]
    return pd.DataFrame(rows, columns=["from", "to", "flow", "new_pipe"])


def text_size(text: str, size: float, weight: str = "normal") -> tuple[float, float]:
    """Width and height (inches) of a one- or several-line text at ``size`` points, as matplotlib draws it."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    prop = FontProperties(size=size, weight=weight)
    lines = text.split("\n")
    widths = [TextToPath().get_text_width_height_descent(line or " ", prop, ismath=False)[0] for line in lines]
    line_height = 1.2 * size  # matplotlib's default linespacing
    height = size + (len(lines) - 1) * line_height + 0.3 * size
    # hinting at a low resolution draws text a few per cent wider than its outline: leave room for it
    return 1.08 * max(widths) / POINTS + 0.02, height / POINTS


def wrap(text: str, width: float, size: float) -> str:
    """Wrap ``text`` so no line is wider than ``width`` inches at ``size`` points."""
    if text_size(text, size)[0] <= width:
        return text
    chars = max(10, int(len(text) * width / text_size(text, size)[0]))
    while chars > 10:
        wrapped = "\n".join(textwrap.wrap(text, chars))
        if text_size(wrapped, size)[0] <= width:
            return wrapped
        chars -= 2
    return "\n".join(textwrap.wrap(text, chars))


def number(value: float) -> str:
    """A flow or load as printed on a figure: three significant figures, thousands grouped, no exponent."""
    if not math.isfinite(value):
        return "n/a"
    a = abs(value)
    if a >= 1000:
        return f"{value:,.0f}"
    if a >= 100:
        return f"{value:.1f}".removesuffix(".0")
    if a >= 10:
        return f"{value:.1f}"
    if a >= 0.01 or a == 0:
        return f"{value:.2f}".rstrip("0").rstrip(".") if a < 1 else f"{value:.2f}"
    return f"{value:.2g}"


def short_number(value: float) -> str:
    """Like :func:`number`, with k and M for large values (money)."""
    a = abs(value)
    if a >= 1e6:
        return f"{value / 1e6:.3g} M"
    if a >= 1e4:
        return f"{value / 1e3:.3g} k"
    return number(value)


def isotonic(targets: Sequence[float], gaps: Sequence[float], weights: Sequence[float] | None = None) -> list[float]:
    """Positions ``y`` closest to ``targets`` (least squares) with ``y[i+1] - y[i] >= gaps[i]``.

    The order is kept; solved exactly by pool-adjacent-violators on ``y[i] - sum(gaps[:i])``.
    """
    n = len(targets)
    if n == 0:
        return []
    w = list(weights) if weights is not None else [1.0] * n
    offset = [0.0]
    for g in gaps:
        offset.append(offset[-1] + g)
    blocks: list[list[float]] = []  # [mean, weight, count]
    for t, o, wt in zip(targets, offset, w, strict=True):
        blocks.append([t - o, wt, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    z: list[float] = []
    for mean, _, count in blocks:
        z.extend([mean] * count)
    return [zi + o for zi, o in zip(z, offset, strict=True)]


def spread(targets: Sequence[float], sizes: Sequence[float], lo: float, hi: float, gap: float = 0.0) -> list[float]:
    """Centres of boxes of heights ``sizes`` near ``targets`` (same order), apart and inside ``[lo, hi]``.

    ``targets`` must be ascending. When the boxes do not fit, they are packed from ``lo``.
    """
    n = len(targets)
    if n == 0:
        return []
    gaps = [(sizes[i] + sizes[i + 1]) / 2 + gap for i in range(n - 1)]
    y = isotonic(targets, gaps)
    low = lo + sizes[0] / 2
    high = hi - sizes[-1] / 2
    if y[-1] > high:
        y = [v - (y[-1] - high) for v in y]
    if y[0] < low:
        y = [v + (low - y[0]) for v in y]
    return y
