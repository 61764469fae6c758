"""The plant's water balance as an alluvial (Sankey) diagram, before and after, on one flow scale.

Columns, left to right: the intake by supply (and the reused water, fed back by the loop over the
top), the water users (sinks and operations: what each takes in), the water used in all, and what
leaves: each discharge and the water consumed or lost (intake less discharge). The reused water
(from sources, operation outlets and regenerators into sinks and operations) leaves the water used
at the top and returns to the left over the diagram, labelled with its flow. Band heights are to
scale in both panels; every band ends where it starts, so the intake equals discharge plus
consumption in the drawing as in the plant.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from ..plant import Plant
from ..superstructure import build_superstructure
from ._common import _pyplot, canonical_flows, flow_scale, number, spread, text_size, wrap

#: More water users than this are shown as the largest ones and one band for the rest.
MAX_USERS = 12
FONT = 8.0
TITLE = 10.0
BAR = 0.12  # node width, inches
GAP = 0.1  # between nodes of a column, inches
COLOURS = {
    "supply": "#2f6db5", "reused": "#3c9d5d", "user": "#8a8a8a", "use": "#555555", "discharge": "#7a5230",
    "consumption": "#8e6bb0", "gain": "#c9a227",
}


@dataclass
class Balance:
    """The water balance of one network, in the plant's flow unit.

    Attributes
    ----------
    intake : dict
        Supply -> water taken (only supplies that give water).
    users : list of (name, {supply: fresh water}, reused water)
        Sinks and operations that take water (and fresh water sent straight to regenerators, as
        one pseudo-user); after :meth:`merge`, the others as one "n other users".
    discharge : dict
        Discharge -> water received (only discharges that receive water).
    reused, regenerated : float
        Water into users from anything but a supply, and the part of it that comes from regenerators.
    consumption : float
        Intake less discharge (negative: the process gives water).
    losses : float
        The operations' ``water_loss`` (part of the consumption).
    """

    intake: dict[str, float]
    users: list[tuple[str, dict[str, float], float]]
    discharge: dict[str, float]
    reused: float
    regenerated: float
    consumption: float
    losses: float
    merged: list[str] = field(default_factory=list)

    def merge(self, keep: set[str]) -> Balance:
        """The same balance with the users not in ``keep`` merged into one "n other users"."""
        rest = [u for u in self.users if u[0] not in keep]
        if len(rest) < 2:
            return self
        together: dict[str, float] = {}
        for _, part, _ in rest:
            for w, f in part.items():
                together[w] = together.get(w, 0.0) + f
        users = [u for u in self.users if u[0] in keep] + [(f"{len(rest)} other users", together,
                                                             sum(u[2] for u in rest))]
        return replace(self, users=users, merged=[u[0] for u in rest])

    @property
    def used(self) -> float:
        """Water taken in by all users."""
        return sum(sum(fresh.values()) + reuse for _, fresh, reuse in self.users)


def balance(plant: Plant, flows: pd.DataFrame, graph: Any = None) -> Balance:
    """The water balance of a network (see :class:`Balance`; every user shown); flows as in :func:`water_balance`."""
    graph = graph if graph is not None else build_superstructure(plant)
    canon = canonical_flows(plant, flows)
    scale = flow_scale(plant)
    kind = {n: d["kind"] for n, d in graph.nodes(data=True)}
    unknown = sorted({n for e in canon for n in e if n not in kind})
    if unknown:
        raise ValueError(f"the flows name units the plant does not have: {', '.join(unknown)}")
    intake: dict[str, float] = {}
    discharge: dict[str, float] = {}
    fresh: dict[str, dict[str, float]] = {}
    reuse: dict[str, float] = {}
    regenerated = 0.0
    direct = "fresh water to regenerators"
    for (i, j), f in canon.items():
        f /= scale
        if kind[i] == "supply":
            intake[i] = intake.get(i, 0.0) + f
            user = j if kind[j] in ("sink", "operation") else direct
            fresh.setdefault(user, {})
            fresh[user][i] = fresh[user].get(i, 0.0) + f
        elif kind[j] in ("sink", "operation"):
            reuse[j] = reuse.get(j, 0.0) + f
            regenerated += f if kind[i] == "regenerator" else 0.0
        if kind[j] == "discharge":
            discharge[j] = discharge.get(j, 0.0) + f
    names = [n for n in graph if n in fresh or n in reuse] + ([direct] if direct in fresh else [])
    users = [(n, fresh.get(n, {}), reuse.get(n, 0.0)) for n in names]
    inflow = {j for (_, j) in canon}
    consumption = sum(intake.values()) - sum(discharge.values())
    if abs(consumption) <= 1e-9 * max(sum(intake.values()), 1.0):
        consumption = 0.0  # round-off of a closed balance
    losses = sum(d.get("water_loss", 0.0) for n, d in graph.nodes(data=True) if d["kind"] == "operation"
                 and n in inflow) / scale
    return Balance(
        intake={w: f for w, f in intake.items() if f > 0},
        users=users,
        discharge={d: f for d, f in discharge.items() if f > 0},
        reused=sum(reuse.values()),
        regenerated=regenerated,
        consumption=consumption,
        losses=losses,
    )


def _ribbon(ax: Any, xa: float, a: tuple[float, float], xb: float, b: tuple[float, float], colour: str,
            gid: str | None = None) -> None:
    """A band from the interval ``a`` (bottom, top) at ``xa`` to ``b`` at ``xb``, with horizontal ends."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path

    mid = (xb - xa) / 2
    verts = [(xa, a[1]), (xa + mid, a[1]), (xb - mid, b[1]), (xb, b[1]), (xb, b[0]), (xb - mid, b[0]),
             (xa + mid, a[0]), (xa, a[0]), (xa, a[1])]
    codes = [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4, Path.LINETO, Path.CURVE4, Path.CURVE4,
             Path.CURVE4, Path.CLOSEPOLY]
    ax.add_patch(PathPatch(Path(verts, codes), facecolor=colour, edgecolor="none", alpha=0.45, zorder=1, gid=gid))


def _loop(ax: Any, start: tuple[float, float], end: tuple[float, float], right: float, left: float, top: float,
          thickness: float, colour: str) -> None:
    """The reuse band: right from ``start``, up, left over the top, down, and right into ``end``.

    Built from straight runs and quarter circles around one centreline, so it keeps its thickness.
    """
    import numpy as np
    from matplotlib.patches import Polygon

    r = thickness / 2 + 0.08
    pts: list[tuple[float, float]] = []

    def arc(cx: float, cy: float, a0: float, a1: float) -> None:
        for t in np.linspace(a0, a1, 16):
            pts.append((cx + r * np.cos(t), cy + r * np.sin(t)))

    (x0, y0), (x1, y1) = start, end
    pts.append((x0, y0))
    arc(right - r, y0 + r, -np.pi / 2, 0.0)
    arc(right - r, top - r, 0.0, np.pi / 2)
    arc(left + r, top - r, np.pi / 2, np.pi)
    arc(left + r, y1 + r, np.pi, 3 * np.pi / 2)
    pts.append((x1, y1))
    line = np.array(pts)
    tangent = np.gradient(line, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    outer = line - normal * thickness / 2
    inner = line + normal * thickness / 2
    ax.add_patch(Polygon(np.vstack([outer, inner[::-1]]), closed=True, facecolor=colour, edgecolor="none",
                         alpha=0.35, zorder=1, gid="band:reused"))


def _stack(values: list[float], k: float, centre: float) -> list[tuple[float, float]]:
    """(bottom, top) of nodes stacked top to bottom with gaps, centred on ``centre``."""
    total = sum(v * k for v in values) + GAP * max(len(values) - 1, 0)
    top = centre + total / 2
    out = []
    for v in values:
        out.append((top - v * k, top))
        top -= v * k + GAP
    return out


def _labels(ax: Any, items: list[tuple[float, str, str]], x: float, side: str, lo: float, hi: float,
            s: float, node_x: float) -> None:
    """Labels beside nodes at heights ``items[i][0]``, spread apart, with a leader line when moved."""
    items = sorted(items, key=lambda item: item[0])
    sizes = [text_size(text, FONT)[1] for _, text, _ in items]
    ys = spread([y for y, _, _ in items], sizes, lo, hi, gap=0.02)
    for (want, text, gid), y in zip(items, ys, strict=True):
        ax.text(x, y, text, ha="left" if side == "right" else "right", va="center", fontsize=FONT * s, gid=gid,
                color="0.1", zorder=5)
        if abs(y - want) > 0.03:
            ax.plot([node_x, x - (0.02 if side == "right" else -0.02)], [want, y], color="0.5", linewidth=0.5,
                    zorder=4)


def water_balance(
    plant: Plant,
    flows_before: pd.DataFrame,
    flows_after: pd.DataFrame,
    *,
    fig: Any = None,
    titles: tuple[str, str] = ("baseline", "plan"),
) -> Any:
    """Draw the water balance before and after as two alluvial diagrams on the same flow scale.

    Left: the intake by supply; middle: the water users (what each takes in) and the water used in
    all; right: each discharge and the water consumed or lost (intake less discharge: the
    operations' ``water_loss`` and what sinks take beyond what sources give back). The reused water
    (from sources, operation outlets and regenerators into sinks and operations) is the band that
    returns over the top, labelled with its flow. Numbers are in the plant's flow unit.

    Parameters
    ----------
    plant : Plant
    flows_before, flows_after : pandas.DataFrame
        Columns ``from``, ``to``, ``flow`` (the plant's flow unit), as ``plan.flows``.
    fig : matplotlib Figure, optional
        Default: a new figure sized to the diagrams.
    titles : (str, str)
        Titles of the two panels.

    Returns
    -------
    matplotlib Figure
        Its two axes hold the panels. Each label's ``gid`` says what it shows (``intake:<supply>``,
        ``user:<name>``, ``use``, ``discharge:<name>``, ``consumption``, ``reused``), each node bar's
        ``node:<same>``.
    """
    plt = _pyplot()
    graph = build_superstructure(plant)
    unit = plant.units.get("flow", "t/h")
    sides = [balance(plant, flows_before, graph), balance(plant, flows_after, graph)]
    size: dict[str, float] = {}
    for b in sides:
        for name, fresh, reuse in b.users:
            size[name] = max(size.get(name, 0.0), sum(fresh.values()) + reuse)
    if len(size) > MAX_USERS:  # the same users named in both panels: the largest in either
        keep = set(sorted(size, key=lambda n: -size[n])[:MAX_USERS - 1])
        sides = [b.merge(keep) for b in sides]

    # widths of the label columns (inches), the same in both panels
    def two(name: str, value: float) -> str:
        return f"{name}\n{number(value)} {unit}"

    left_w = max([text_size(two(w, v), FONT)[0] for b in sides for w, v in b.intake.items()]
                 + [text_size(two("gained in process", abs(b.consumption)), FONT)[0] for b in sides], default=0.5)
    user_w = max((text_size(f"{n}  {number(sum(f.values()) + r)}", FONT)[0] for b in sides for n, f, r in b.users),
                 default=0.5)
    right_w = max([text_size(two(d, v), FONT)[0] for b in sides for d, v in b.discharge.items()]
                  + [text_size(_consumption_text(b, unit), FONT)[0] for b in sides], default=0.5)
    n_users = max(len(b.users) for b in sides)
    height = max(4.6, 0.24 * n_users + 2.4)

    # one flow scale (inches per flow unit) for both panels
    loop_label = text_size("reused", FONT)[1] + 0.1
    title_h = text_size("T", TITLE)[1] + 0.2
    bottom = text_size("water used\n0", FONT)[1] + 0.15
    most_reused = max(b.reused for b in sides)
    reserve = title_h + loop_label + 0.35 + bottom
    room = []
    for b in sides:
        columns = [
            (b.used + max(0.0, -b.consumption), len(b.users) - 1),
            (sum(b.intake.values()) + b.reused + max(0.0, -b.consumption), len(b.intake) + (b.reused > 0)),
            (sum(b.discharge.values()) + max(0.0, b.consumption) + b.reused, len(b.discharge) + 1),
        ]
        for flow, gaps in columns:
            if flow > 0:
                room.append((height - reserve - GAP * max(gaps, 0) - 0.1) / (flow + most_reused))
    k = max(min(room, default=1.0), 1e-6)

    x0 = max(0.15 + left_w + 0.08, 1.5 * most_reused * k + 0.4)  # room for the loop's way down
    x1 = x0 + BAR + 1.0
    x2 = x1 + BAR + 0.06 + user_w + 0.45
    x3 = x2 + BAR + max(0.75, most_reused * k + 0.5)  # clear of the loop's way up
    width = x3 + BAR + 0.08 + right_w + 0.15
    title_text = [wrap(t, width - 0.3, TITLE) for t in titles]
    if fig is None:
        fig = plt.figure(figsize=(2 * width, height))
        s = 1.0
    else:
        fw, fh = fig.get_size_inches()
        s = max(0.4, min(1.0, fw / (2 * width), fh / height))
    for p, (b, name) in enumerate(zip(sides, title_text, strict=True)):
        ax = fig.add_axes((p / 2, 0.0, 0.5, 1.0))
        ax.set_xlim(0, width)
        ax.set_ylim(0, height)
        ax.set_aspect("equal")
        ax.set_axis_off()
        _panel(ax, b, k, (x0, x1, x2, x3), height, bottom, title_h + loop_label + 0.3 + k * b.reused, unit, s)
        ax.text(0.15, height - 0.1, name, ha="left", va="top", fontsize=TITLE * s, gid="title", color="0.05")
    return fig


def _consumption_text(b: Balance, unit: str) -> str:
    if b.consumption < 0:
        return f"gained in process\n{number(-b.consumption)} {unit}"
    text = f"consumed or lost\n{number(b.consumption)} {unit}"
    if b.losses > 0:
        text += f"\n(operations {number(b.losses)})"
    return text


def _panel(ax: Any, b: Balance, k: float, xs: tuple[float, float, float, float], height: float, bottom: float,
           top_reserve: float, unit: str, s: float) -> None:
    """One alluvial diagram: nodes, bands, the reuse loop and the labels."""
    from matplotlib.patches import Rectangle

    x0, x1, x2, x3 = xs
    centre = bottom + (height - top_reserve - bottom) / 2
    gain = max(0.0, -b.consumption)

    def bar(x: float, span: tuple[float, float], colour: str, gid: str) -> None:
        ax.add_patch(Rectangle((x, span[0]), BAR, span[1] - span[0], facecolor=colour, edgecolor="none", zorder=3,
                               gid=gid))

    # left column: reused water (top), supplies, water gained in the process (bottom)
    left = ([("reused", b.reused)] if b.reused > 0 else []) + list(b.intake.items()) + (
        [("gained in process", gain)] if gain > 0 else [])
    left_span = dict(zip([n for n, _ in left], _stack([v for _, v in left], k, centre), strict=True))
    # users, those fed by reused water first
    users = sorted(b.users, key=lambda u: -u[2] / max(sum(u[1].values()) + u[2], 1e-12))
    user_span = dict(zip([n for n, _, _ in users], _stack([sum(f.values()) + r for _, f, r in users], k, centre),
                         strict=True))
    used = b.used + gain
    hub = (centre - used * k / 2, centre + used * k / 2)
    right = list(b.discharge.items()) + ([("consumed", b.consumption)] if b.consumption > 0 else [])

    # bands: left column -> users
    cursor = {n: span[1] for n, span in left_span.items()}
    for name, fresh, reuse in users:
        top = user_span[name][1]
        for source, value in [("reused", reuse), *[(w, fresh.get(w, 0.0)) for w in b.intake]]:
            if value <= 0:
                continue
            a = (cursor[source] - value * k, cursor[source])
            cursor[source] -= value * k
            _ribbon(ax, x0 + BAR, a, x1, (top - value * k, top), COLOURS["reused" if source == "reused" else "supply"])
            top -= value * k
    # users -> water used; water gained -> water used
    top = hub[1]
    for name, fresh, reuse in users:
        value = sum(fresh.values()) + reuse
        _ribbon(ax, x1 + BAR, user_span[name], x2, (top - value * k, top), COLOURS["user"])
        top -= value * k
    if gain > 0:
        _ribbon(ax, x0 + BAR, left_span["gained in process"], x2, (top - gain * k, top), COLOURS["gain"])
    # water used -> reused (the loop), discharges, consumption
    top = hub[1]
    t = b.reused * k
    loop_top = max([hub[1]] + [sp[1] for sp in [*left_span.values(), *user_span.values()]])
    if b.reused > 0:
        _loop(ax, (x2 + BAR, top - t / 2), (x0, left_span["reused"][1] - t / 2), x2 + BAR + t / 2 + 0.25,
              x0 - t / 2 - 0.2, loop_top + 0.2 + t / 2, t, COLOURS["reused"])
        text = f"reused {number(b.reused)} {unit}" + (
            f" (regenerated {number(b.regenerated)})" if b.regenerated > 0 else "")
        ax.text((x0 + x2) / 2, loop_top + 0.25 + t, text, ha="center", va="bottom", fontsize=FONT * s,
                gid="reused", color="0.1")
        top -= t
    wants = []
    for _, value in right:
        wants.append(top - value * k / 2)
        top -= value * k
    # output nodes near their band on the water used, apart and above the bottom
    heights = [value * k for _, value in right]
    ceiling = hub[1] - t - 0.02 if b.reused > 0 else height - top_reserve
    mids = spread(wants[::-1], heights[::-1], 0.1, ceiling, gap=GAP)[::-1] if right else []
    top = hub[1] - b.reused * k
    for (name, value), mid in zip(right, mids, strict=True):
        span = (mid - value * k / 2, mid + value * k / 2)
        _ribbon(ax, x2 + BAR, (top - value * k, top), x3, span,
                COLOURS["consumption" if name == "consumed" else "discharge"])
        bar(x3, span, COLOURS["consumption" if name == "consumed" else "discharge"],
            "node:consumption" if name == "consumed" else f"node:discharge:{name}")
        top -= value * k

    # nodes
    for name, span in left_span.items():
        role = {"reused": "node:reused", "gained in process": "node:gain"}.get(name, f"node:intake:{name}")
        colour = COLOURS.get({"reused": "reused", "gained in process": "gain"}.get(name, "supply"))
        bar(x0, span, colour, role)
    for name, span in user_span.items():
        bar(x1, span, COLOURS["user"], f"node:user:{name}")
    bar(x2, hub, COLOURS["use"], "node:use")

    # labels
    lo = 0.05
    hi = loop_top + 0.15 if b.reused > 0 else height - top_reserve + 0.2
    _labels(ax, [((sp[0] + sp[1]) / 2, f"{name}\n{number(b.intake[name])} {unit}", f"intake:{name}")
                 for name, sp in left_span.items() if name in b.intake]
            + ([((left_span["gained in process"][0] + left_span["gained in process"][1]) / 2,
                 _consumption_text(b, unit), "consumption")] if gain > 0 else []),
            x0 - 0.06, "left", lo, left_span["reused"][0] - 0.05 if b.reused > 0 else hi, s, x0)
    _labels(ax, [((user_span[n][0] + user_span[n][1]) / 2, f"{n}  {number(sum(f.values()) + r)}", f"user:{n}")
                 for n, f, r in users], x1 + BAR + 0.06, "right", lo, hi, s, x1 + BAR)
    _labels(ax, [((mid - v * k / 2 + mid + v * k / 2) / 2,
                  _consumption_text(b, unit) if n == "consumed" else f"{n}\n{number(v)} {unit}",
                  "consumption" if n == "consumed" else f"discharge:{n}") for (n, v), mid in zip(right, mids,
                                                                                                strict=True)],
            x3 + BAR + 0.06, "right", lo, ceiling, s, x3 + BAR)
    ax.text(x2 + BAR / 2, hub[0] - 0.06, f"water used\n{number(used)} {unit}", ha="center", va="top",
            fontsize=FONT * s, gid="use", color="0.1")


__all__ = ["water_balance", "balance", "Balance"]
