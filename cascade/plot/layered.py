"""The water network, laid out automatically: layered left to right, edge width by flow, colour by quality.

The layout is a small Sugiyama-style drawing, in inches (so text sizes are known):

1. layers: supplies first; water users (sinks, sources, operations) by their longest path from the
   supplies in the used network, where a sink and a source of one process ``unit`` count as joined
   (water goes in, then out) and each cycle loses its weakest edge; a user nothing flows into (a
   source, say) sits just before the first user it feeds, or in the last user layer when it only
   drains; then regenerators, then discharges;
2. an edge spanning several layers passes through a dummy point in each layer between;
3. the nodes of each layer are ordered by barycentre sweeps (the order with the fewest crossings is
   kept), then placed as near as their order allows to the mean height of their neighbours (least
   squares with the spacing each label needs, solved exactly per layer);
4. where several edges meet a node on one side they lie side by side, ordered by where they come
   from or go to.

Labels sit above their nodes; columns are spaced by the widest label of the two, rows by the label
height, so labels never overlap each other or a node, and the figure grows with the number of
layers and of nodes per layer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import pandas as pd

from ..check import check_flows
from ..plant import Plant
from ..superstructure import build_superstructure
from ._common import POINTS, _pyplot, canonical_flows, flow_scale, isotonic, number, text_size, wrap

USERS = ("sink", "source", "operation")
KIND_ORDER = ("supply", "sink", "source", "operation", "regenerator", "discharge")
#: marker, face colour and legend text of each kind of node.
STYLE = {
    "supply": ("o", "#2f6db5", "supply"),
    "sink": ("s", "#ffffff", "sink (fixed demand)"),
    "source": ("D", "#b0b0b0", "source (fixed effluent)"),
    "operation": ("h", "#f2b134", "operation (fixed load)"),
    "regenerator": ("P", "#3c9d5d", "regenerator"),
    "discharge": ("v", "#7a5230", "discharge"),
}
#: Edge colours from clean to dirty water.
COLOURS = ("#2b83ba", "#5aae61", "#e6ab02", "#d95f0e", "#7f2704")

FONT = 8.0  # label size, points
MARKER = 11.0  # marker size, points
WIDEST = 9.0  # line width of the largest flow, points
THINNEST = 0.7  # smallest line width, points


def edge_width(flow: float, largest: float, scale: float = 1.0) -> float:
    """Line width (points) of a pipe carrying ``flow`` when the largest carries ``largest``.

    Proportional to the flow, with a floor so the smallest pipes stay visible.
    """
    if largest <= 0:
        return THINNEST * scale
    return max(THINNEST, WIDEST * flow / largest) * scale


@dataclass
class Layout:
    """Where everything goes, in inches. ``routes`` lists each edge's points: tail, dummies, head."""

    layer: dict[str, int]
    order: list[list[Any]]
    x: dict[Any, float]
    y: dict[Any, float]
    routes: dict[tuple[str, str], list[Any]]
    label_size: dict[str, tuple[float, float]]
    width: float
    height: float
    crossings: int = 0
    extents: dict[Any, tuple[float, float]] = field(default_factory=dict)


def layers(graph: nx.DiGraph, flows: Mapping[tuple[str, str], float]) -> dict[str, int]:
    """Layer (column) of every node; see the module notes."""
    kind = {n: d["kind"] for n, d in graph.nodes(data=True)}
    users = [n for n in graph if kind[n] in USERS]
    dag = nx.DiGraph()
    dag.add_nodes_from(users)
    for (i, j), f in flows.items():
        if i != j and kind.get(i) in USERS and kind.get(j) in USERS:
            previous = dag.edges[i, j]["w"] if dag.has_edge(i, j) else 0.0
            dag.add_edge(i, j, w=previous + f)
    by_unit: dict[str, dict[str, list[str]]] = {}
    for n in users:
        unit = graph.nodes[n].get("unit")
        if unit is not None and kind[n] in ("sink", "source"):
            by_unit.setdefault(unit, {"sink": [], "source": []})[kind[n]].append(n)
    for pair in by_unit.values():
        for s in pair["sink"]:
            for r in pair["source"]:
                if not dag.has_edge(s, r):
                    dag.add_edge(s, r, w=0.0)  # a unit's water goes in, then out
    while True:
        try:
            cycle = nx.find_cycle(dag)
        except nx.NetworkXNoCycle:
            break
        weakest = min(cycle, key=lambda e: (dag.edges[e[0], e[1]]["w"], str(e[0]), str(e[1])))
        dag.remove_edge(weakest[0], weakest[1])
    layer: dict[str, int] = {}
    for n in nx.topological_sort(dag):
        layer[n] = 1 + max((layer[p] for p in dag.predecessors(n)), default=0)
    deepest = max(layer.values(), default=1)
    fed = {j for (_, j), f in flows.items() if f > 0}
    for n in reversed(list(nx.topological_sort(dag))):
        if n in fed or dag.in_degree(n):
            continue
        after = [layer[m] for m in dag.successors(n)]
        if after:
            layer[n] = max(1, min(after) - 1)
        elif kind[n] == "source":
            layer[n] = deepest
    last = max(layer.values(), default=0)
    has_regenerators = any(k == "regenerator" for k in kind.values())
    for n, k in kind.items():
        if k == "supply":
            layer[n] = 0
        elif k == "regenerator":
            layer[n] = last + 1
        elif k == "discharge":
            layer[n] = last + 1 + has_regenerators
    return layer


def _crossings(order: list[list[Any]], down: dict[Any, list[Any]]) -> int:
    total = 0
    for k in range(len(order) - 1):
        below = {n: i for i, n in enumerate(order[k + 1])}
        segments = [(i, below[m]) for i, n in enumerate(order[k]) for m in down.get(n, ()) if m in below]
        for a, (p, q) in enumerate(segments):
            for r, s in segments[a + 1:]:
                if (p - r) * (q - s) < 0:
                    total += 1
    return total


def _order(initial: list[list[Any]], up: dict, down: dict, sweeps: int = 16) -> tuple[list[list[Any]], int]:
    """Barycentre sweeps, down then up; the order with the fewest crossings wins."""
    order = [list(layer) for layer in initial]
    best, best_count = [list(layer) for layer in order], _crossings(order, down)
    for sweep in range(sweeps):
        ks = range(1, len(order)) if sweep % 2 == 0 else range(len(order) - 2, -1, -1)
        for k in ks:
            ref = order[k - 1] if sweep % 2 == 0 else order[k + 1]
            pos = {n: i for i, n in enumerate(ref)}
            nbrs = up if sweep % 2 == 0 else down
            current = {n: i for i, n in enumerate(order[k])}

            def key(n: Any, pos: dict = pos, nbrs: dict = nbrs, current: dict = current) -> float:
                seen = [pos[m] for m in nbrs.get(n, ()) if m in pos]
                if not seen:
                    return current[n] * (len(pos) / max(len(current), 1))
                return sum(seen) / len(seen)

            order[k] = sorted(order[k], key=lambda n, key=key, current=current: (key(n), current[n]))
        count = _crossings(order, down)
        if count < best_count:
            best, best_count = [list(layer) for layer in order], count
        if best_count == 0:
            break
    return best, best_count


def layout(graph: nx.DiGraph, flows: Mapping[tuple[str, str], float], font: float = FONT,
           marker: float = MARKER) -> Layout:
    """Lay the network out in inches (see the module notes).

    Parameters
    ----------
    graph : networkx.DiGraph
        The superstructure (node kinds).
    flows : mapping of (tail, head) -> float
        Used pipes (any positive unit); zero flows are ignored.
    font, marker : float
        Label and marker sizes in points: the spacing follows them.

    Returns
    -------
    Layout
    """
    used = {e: f for e, f in flows.items() if f > 0 and e[0] in graph and e[1] in graph}
    layer = layers(graph, used)
    n_layers = max(layer.values()) + 1
    kind = {n: d["kind"] for n, d in graph.nodes(data=True)}
    rank = {n: (KIND_ORDER.index(kind[n]), i) for i, n in enumerate(graph)}
    order: list[list[Any]] = [[] for _ in range(n_layers)]
    for n in sorted(graph, key=rank.__getitem__):
        order[layer[n]].append(n)
    routes: dict[tuple[str, str], list[Any]] = {}
    up: dict[Any, list[Any]] = {}
    down: dict[Any, list[Any]] = {}
    largest = max(used.values(), default=1.0)
    half: dict[Any, float] = {}  # half the thickest line through a dummy, inches
    for (i, j), f in sorted(used.items(), key=lambda item: -item[1]):
        if i == j:
            routes[i, j] = [i, j]
            continue
        li, lj = layer[i], layer[j]
        step = 1 if lj > li else -1
        points: list[Any] = [i]
        for k in range(li + step, lj, step) if abs(lj - li) > 1 else ():
            dummy = ("dummy", i, j, k)
            order[k].append(dummy)
            half[dummy] = edge_width(f, largest) / POINTS / 2
            points.append(dummy)
        points.append(j)
        routes[i, j] = points
        if li != lj:
            for a, b in zip(points, points[1:], strict=False):
                lo, hi = (a, b) if layer_of(a, layer) < layer_of(b, layer) else (b, a)
                down.setdefault(lo, []).append(hi)
                up.setdefault(hi, []).append(lo)
    order, crossings = _order(order, up, down)

    radius = marker / POINTS / 2
    label_size = {n: text_size(str(n), font) for n in graph}
    pad = 0.03
    extents: dict[Any, tuple[float, float]] = {}  # (above, below) the point, inches
    for n in graph:
        extents[n] = (radius + pad + label_size[n][1], radius)
    for d, h in half.items():
        extents[d] = (h + 0.02, h + 0.02)

    # x: columns far enough apart for the labels, centred above their nodes
    widths = [max((label_size[n][0] for n in col if not isinstance(n, tuple)), default=0.0) for col in order]
    xs = [max(widths[0] / 2, radius) + 0.1]
    for k in range(1, n_layers):
        xs.append(xs[-1] + max(1.0, (widths[k - 1] + widths[k]) / 2 + 0.35))
    x = {n: xs[k] for k, col in enumerate(order) for n in col}

    # y (downwards, v): least squares to the neighbours' mean, keeping order and spacing
    def gaps(col: list[Any]) -> list[float]:
        out = []
        for a, b in zip(col, col[1:], strict=False):
            both_real = not isinstance(a, tuple) and not isinstance(b, tuple)
            out.append(extents[a][1] + extents[b][0] + (0.14 if both_real else 0.05))
        return out

    v: dict[Any, float] = {}
    for col in order:
        g = gaps(col)
        start = -sum(g) / 2
        for n, off in zip(col, [0.0, *_cumsum(g)], strict=True):
            v[n] = start + off
    weight = {}
    for (i, j), points in routes.items():
        for a, b in zip(points, points[1:], strict=False):
            weight[a, b] = weight[b, a] = max(weight.get((a, b), 0.0), used[i, j])
    for sweep in range(8):
        ks = range(1, n_layers) if sweep % 2 == 0 else range(n_layers - 2, -1, -1)
        for k in ks:
            col = order[k]
            targets: list[float | None] = []
            w = []
            for n in col:
                nbrs = list(up.get(n, ())) + list(down.get(n, ())) if sweep >= 4 else (
                    up.get(n, ()) if sweep % 2 == 0 else down.get(n, ()))
                if nbrs:
                    total = sum(math.sqrt(weight.get((n, m), 1.0)) for m in nbrs)
                    targets.append(sum(math.sqrt(weight.get((n, m), 1.0)) * v[m] for m in nbrs) / total)
                    w.append(1.0)
                else:
                    targets.append(None if not up.get(n) and not down.get(n) else v[n])
                    w.append(0.3)
            g = gaps(col)
            targets = _fill(targets, g, [v[n] for n in col])
            for n, value in zip(col, isotonic(targets, g, w), strict=True):
                v[n] = value
    top = min(v[n] - extents[n][0] for col in order for n in col)
    bottom = max(v[n] + extents[n][1] for col in order for n in col)
    height = bottom - top + 0.2
    y = {n: height - 0.1 - (v[n] - top) for n in v}
    width = xs[-1] + max(widths[-1] / 2, radius) + 0.1
    return Layout(layer=layer, order=order, x=x, y=y, routes=routes, label_size=label_size, width=width,
                  height=height, crossings=crossings, extents=extents)


def _fill(targets: list[float | None], gaps: list[float], current: list[float]) -> list[float]:
    """Targets for unconnected nodes (None): just below the node before them, or above the one after.

    An unused unit then sits next to its neighbours in the column instead of where it happened to start.
    """
    out = list(targets)
    for i in range(1, len(out)):
        if out[i] is None and out[i - 1] is not None:
            out[i] = out[i - 1] + gaps[i - 1]
    for i in range(len(out) - 2, -1, -1):
        if out[i] is None and out[i + 1] is not None:
            out[i] = out[i + 1] - gaps[i]
    return [current[i] if t is None else t for i, t in enumerate(out)]


def layer_of(n: Any, layer: dict[str, int]) -> int:
    """Layer of a node or dummy point."""
    return n[3] if isinstance(n, tuple) else layer[n]


def _cumsum(values: Iterable[float]) -> list[float]:
    out, total = [], 0.0
    for value in values:
        total += value
        out.append(total)
    return out


def _nice(value: float) -> float:
    """The largest 1, 2 or 5 times a power of ten not above ``value``."""
    if value <= 0:
        return 0.0
    power = 10 ** math.floor(math.log10(value))
    return max(m * power for m in (1, 2, 5) if m * power <= value * (1 + 1e-9))


def _ports(lay: Layout, widths: dict[tuple[str, str], float]) -> dict[tuple[tuple[str, str], int], float]:
    """Height offsets (inches) of the edges' ends at their nodes, so the edges on one side of a node lie side
    by side (ordered by where they come from or go to) instead of on top of each other.

    Keys are ``(edge, 0)`` for the tail end and ``(edge, -1)`` for the head end.
    """
    sides: dict[tuple[str, int], list[tuple[float, tuple[str, str], int]]] = {}
    for e, route in lay.routes.items():
        if route[0] == route[-1]:
            continue
        for end, other in ((0, 1), (-1, -2)):
            node, nxt = route[end], route[other]
            side = 1 if lay.x[nxt] > lay.x[node] or lay.x[nxt] == lay.x[node] else -1  # same layer: bends right
            sides.setdefault((node, side), []).append((lay.y[nxt], e, end))
    offsets = {}
    for (_, _), ends in sides.items():
        ends.sort(key=lambda item: -item[0])  # top first
        total = sum(widths[e] for _, e, _ in ends)
        squeeze = min(1.0, 0.5 / total) if total > 0 else 1.0  # never wider than half an inch
        top = total * squeeze / 2
        for _, e, end in ends:
            offsets[e, end] = top - widths[e] * squeeze / 2
            top -= widths[e] * squeeze
    return offsets


def _edge_path(lay: Layout, route: list[Any], end_gap: float, bend: float,
               offsets: tuple[float, float] = (0.0, 0.0)) -> tuple[Any, tuple[float, float], int]:
    """The Bezier path of an edge through its dummy points; also its end point and approach direction."""
    from matplotlib.path import Path

    pts = [(lay.x[n], lay.y[n]) for n in route]
    pts[0] = (pts[0][0], pts[0][1] + offsets[0])
    pts[-1] = (pts[-1][0], pts[-1][1] + offsets[1])
    if len(route) == 2 and route[0] == route[1]:  # local recycle: a loop above the node
        (x0, y0) = pts[0]
        r = 0.18
        verts = [(x0 + 0.05, y0), (x0 + r, y0 + 2 * r), (x0 - r, y0 + 2 * r), (x0 - 0.05, y0 + 0.02)]
        return Path(verts, [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4]), verts[-1], 0
    same = len(pts) == 2 and pts[0][0] == pts[1][0]
    direction = 1 if pts[-1][0] > pts[-2][0] else -1  # approach from the left (1) or the right (-1)
    (xe, ye) = pts[-1]
    end = (xe - direction * end_gap, ye)
    pts[-1] = end
    verts = [pts[0]]
    codes = [Path.MOVETO]
    for (xa, ya), (xb, yb) in zip(pts, pts[1:], strict=False):
        if same:
            verts += [(xa + bend, ya), (xb + bend, yb), (xb, yb)]
        else:
            dx = (xb - xa) / 2
            verts += [(xa + dx, ya), (xb - dx, yb), (xb, yb)]
        codes += [Path.CURVE4] * 3
    return Path(verts, codes), end, direction


def network(
    plant: Plant,
    flows: pd.DataFrame,
    *,
    quality: pd.DataFrame | None = None,
    contaminant: str | None = None,
    ax: Any = None,
    title: str | None = None,
    new: Iterable[tuple[str, str]] | None = None,
) -> Any:
    """Draw a water network with an automatic layered layout.

    Supplies on the left, then the water users in layers by their longest path from the supplies,
    regenerators, and discharges on the right (see :mod:`cascade.plot.layered`). Edge width is
    proportional to the flow; edge colour is the concentration of the water carried (the tail's
    outlet concentration); new pipes are dashed (unless every pipe is new: a plant with no existing
    network); units that carry no water are drawn faded.

    Parameters
    ----------
    plant : Plant
    flows : pandas.DataFrame
        Columns ``from``, ``to``, ``flow`` (the plant's flow unit), as ``plan.flows``; an optional
        boolean column ``new_pipe`` marks new pipes.
    quality : pandas.DataFrame, optional
        Outlet concentration (ppm) of every node, nodes x contaminants (``plan.outlet_quality``).
        Default: recomputed from the flows by :func:`cascade.check.check_flows`.
    contaminant : str, optional
        The contaminant that colours the edges; default the plant's first.
    ax : matplotlib Axes, optional
        Default: a new figure sized to the network (every label fits without overlap).
    title : str, optional
        Default: the plant's name.
    new : iterable of (from, to), optional
        The new pipes (overrides a ``new_pipe`` column).

    Returns
    -------
    matplotlib Axes
    """
    from matplotlib.colors import LinearSegmentedColormap, PowerNorm
    from matplotlib.legend import Legend
    from matplotlib.patches import PathPatch, Polygon

    plt = _pyplot()
    c = contaminant or plant.contaminants[0]
    if c not in plant.contaminants:
        raise ValueError(f"unknown contaminant {c!r}; the plant has {', '.join(plant.contaminants)}")
    graph = build_superstructure(plant)
    canon = canonical_flows(plant, flows)
    unknown = sorted({n for e in canon for n in e if n not in graph})
    if unknown:
        raise ValueError(f"the flows name units the plant does not have: {', '.join(unknown)}")
    if quality is None:
        quality = check_flows(graph, canon).outlet
    if new is not None:
        new_pipes = {(str(a), str(b)) for a, b in new}
    elif isinstance(flows, pd.DataFrame) and "new_pipe" in flows.columns:
        new_pipes = {(str(a), str(b)) for a, b, n in flows[["from", "to", "new_pipe"]].itertuples(index=False) if n}
    else:
        new_pipes = set()
    unit = plant.units.get("flow", "t/h")
    scale = flow_scale(plant)
    shown = {e: f / scale for e, f in canon.items()}  # plant's flow unit
    all_new = bool(shown) and all(e in new_pipes for e in shown)
    if all_new:
        new_pipes = set()  # every pipe new (no existing network): dashing them all says nothing

    lay = layout(graph, shown)
    kinds = {n: d["kind"] for n, d in graph.nodes(data=True)}
    present = [k for k in KIND_ORDER if k in kinds.values()]
    largest = max(shown.values(), default=1.0)
    refs = sorted({_nice(largest), _nice(largest / 4), _nice(largest / 20)} - {0.0}, reverse=True)
    refs = [r for r in refs if edge_width(r, largest) > THINNEST * 1.5 or r == refs[0]][:3]
    used_nodes = {n for e in shown for n in e}
    unused = [n for n in graph if n not in used_nodes]

    # the side panel: legends, then the colour bar
    groups = _legend_groups(present, bool(unused), refs, largest, unit, bool(new_pipes), all_new)
    legend_h = sum(_legend_height(hs, spacing) for _, hs, spacing in groups) + GROUP_GAP * len(groups)
    label_w = max(text_size(label, FONT)[0] for _, hs, _ in groups for _, label in hs)
    panel_w = max(label_w + 3.2 * FONT / POINTS, 1.4)
    bar_h = 1.4
    title_text = title if title is not None else plant.name
    body_h = max(lay.height, legend_h + bar_h + 0.45)
    stretch = min(2.0, (body_h - 0.2) / max(lay.height - 0.2, 1e-9))  # room to spare: spread the layers out
    total_w = MARGIN + lay.width + 0.35 + panel_w
    title_text = wrap(title_text, total_w - 2 * MARGIN, TITLE)
    title_h = text_size(title_text, TITLE)[1] + 0.2

    if ax is None:
        fig = plt.figure(figsize=(total_w, body_h + title_h))
        ax = fig.add_axes((0.0, 0.0, 1.0, body_h / (body_h + title_h)))
        s = 1.0
    else:
        fig = ax.figure
        box = ax.get_position()
        fw, fh = fig.get_size_inches()
        s = max(0.4, min(1.0, box.width * fw / total_w, box.height * fh / body_h))
    ax.set_xlim(0, total_w)
    ax.set_ylim(0, body_h)
    ax.set_aspect("equal")
    ax.set_axis_off()
    top_y = body_h - 0.1
    lay.y = {n: top_y - (lay.height - 0.1 - v) * stretch for n, v in lay.y.items()}  # the network at the top
    lay.x = {n: v + MARGIN for n, v in lay.x.items()}
    y = lay.y

    cmap = LinearSegmentedColormap.from_list("cascade_quality", COLOURS)
    conc = {e: float(quality.loc[e[0], c]) if e[0] in quality.index else math.nan for e in shown}
    vmax = max((v for v in conc.values() if math.isfinite(v)), default=1.0)
    norm = PowerNorm(0.5, vmin=0.0, vmax=vmax if vmax > 0 else 1.0)
    radius = MARKER / POINTS / 2
    ports = _ports(lay, {e: edge_width(f, largest, s) / POINTS for e, f in shown.items()})
    for e, f in sorted(shown.items(), key=lambda item: -item[1]):
        lw = edge_width(f, largest, s)
        head_len = max(0.06, 1.6 * lw / POINTS)
        path, end, direction = _edge_path(lay, lay.routes[e], radius + head_len, 0.45,
                                          (ports.get((e, 0), 0.0), ports.get((e, -1), 0.0)))
        colour = cmap(norm(conc[e])) if math.isfinite(conc[e]) else "0.6"
        style = DASHES if e in new_pipes else "solid"
        ax.add_patch(PathPatch(path, facecolor="none", edgecolor=colour, linewidth=lw, linestyle=style,
                               capstyle="butt", alpha=0.9, zorder=2, gid=f"edge:{e[0]}->{e[1]}"))
        if direction:
            hw = max(0.03, 0.75 * lw / POINTS)
            tip = (end[0] + direction * head_len, end[1])
            ax.add_patch(Polygon([tip, (end[0], end[1] + hw), (end[0], end[1] - hw)], closed=True,
                                 facecolor=colour, edgecolor="none", zorder=2.5))
    for n in graph:
        marker, face, _ = STYLE[kinds[n]]
        faded = n in unused
        ax.plot([lay.x[n]], [y[n]], marker=marker, markersize=MARKER * s, markerfacecolor=face,
                markeredgecolor="0.15", markeredgewidth=0.8, alpha=0.3 if faded else 1.0, zorder=4, linestyle="none",
                gid=f"node:{n}")
        ax.text(lay.x[n], y[n] + radius + 0.03, str(n), ha="center", va="bottom", fontsize=FONT * s,
                color="0.55" if faded else "0.05", zorder=5,
                bbox={"boxstyle": "square,pad=0.05", "facecolor": "white", "edgecolor": "none", "alpha": 0.75})

    # legends in the side panel, top to bottom, then the colour bar
    x0 = MARGIN + lay.width + 0.35
    top = body_h - 0.1
    for name, hs, spacing in groups:
        handles = [_handle(h, s) for h, _ in hs]
        legend = Legend(ax, handles, [label for _, label in hs], title=name, loc="upper left",
                        bbox_to_anchor=(x0, top), bbox_transform=ax.transData, fontsize=FONT * s,
                        title_fontsize=FONT * s, labelspacing=spacing, frameon=False, alignment="left",
                        borderaxespad=0.0, borderpad=0.0)
        ax.add_artist(legend)
        top -= _legend_height(hs, spacing) + GROUP_GAP
    bar_top = top - 0.05
    cax = ax.inset_axes((x0 + 0.05, 0.3, 0.14, max(0.8, min(bar_h + 0.5, bar_top - 0.3))), transform=ax.transData)
    bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), cax=cax, ticks=_sqrt_ticks(norm.vmax))
    bar.ax.tick_params(labelsize=FONT * s)
    bar.set_label(f"{c} of the water carried [ppm]", fontsize=FONT * s)
    ax.set_title(title_text, fontsize=TITLE * s, loc="left", x=MARGIN / total_w)
    return ax


MARGIN = 0.15  # inches around the drawing
TITLE = 11.0  # title size, points
GROUP_GAP = 0.15  # inches between legends
DASHES = (0, (3, 1.5))


def _legend_groups(kinds: list[str], unused: bool, refs: list[float], largest: float, unit: str, new: bool,
                   all_new: bool) -> list[tuple[str, list[tuple[dict, str]], float]]:
    """The legends of the network figure: (title, [(handle description, label)], label spacing)."""
    units = [({"marker": STYLE[k][0], "face": STYLE[k][1]}, STYLE[k][2]) for k in kinds]
    if unused:
        units.append(({"marker": "o", "face": "0.8", "alpha": 0.3}, "unused unit"))
    widths = [({"width": edge_width(r, largest)}, f"{number(r)} {unit}") for r in refs]
    groups = [("units", units, 0.5), (f"flow [{unit}]", widths, 0.9)]
    if new:
        groups.append(("pipes", [({"width": 2.0}, "existing pipe"), ({"width": 2.0, "dashes": True}, "new pipe")],
                       0.5))
    elif all_new:
        groups.append(("pipes", [({"width": 2.0}, "all pipes new")], 0.5))
    return groups


def _legend_height(entries: list, spacing: float) -> float:
    """Height (inches) of a legend with a title and these entries, without frame or padding."""
    return FONT / POINTS * (1.45 + len(entries) * (1.25 + spacing))


def _handle(description: dict, s: float) -> Any:
    from matplotlib.lines import Line2D

    if "marker" in description:
        return Line2D([], [], marker=description["marker"], markerfacecolor=description["face"],
                      markeredgecolor="0.15", alpha=description.get("alpha", 1.0), linestyle="none",
                      markersize=MARKER * s * 0.8)
    return Line2D([], [], color="0.45", linewidth=description["width"] * s,
                  linestyle=DASHES if description.get("dashes") else "solid")


def _sqrt_ticks(vmax: float) -> list[float]:
    """Round ticks for a square-root colour scale from 0 to ``vmax``: evenly spaced on the bar."""
    ticks = {0.0}
    for fraction in (1 / 16, 1 / 4, 9 / 16, 1.0):
        value = vmax * fraction
        if value > 0:
            power = 10 ** math.floor(math.log10(value))
            ticks.add(math.floor(value / power + 1e-9) * power)  # one significant figure, rounded down
    return sorted(t for t in ticks if t <= vmax)


__all__ = ["network", "layout", "layers", "edge_width", "Layout"]
