"""The speed family: the plain formulation handed straight to HiGHS next to ``cascade.optimize``, over time.

For each size N and each seed the linear synthetic plant
(:func:`benchmarks.generator.synthetic_plant`, pipe binaries on, objective ``cost`` by default)
goes through two routes, one after the other, each in a fresh Python process (so ``ru_maxrss`` is
that route's peak alone and a crash or stall of one run never stops the sweep):

* **plain**: ``build_superstructure`` -> ``cascade.formulation.build_model(graph, objective,
  tighten=False)`` -> ``HighsSolver(progress=hook)`` -> ``set_model`` -> ``solve`` (with the time
  left of the route's limit) -> ``cascade.extract_plan`` (which runs the independent check). The
  hook receives HiGHS's MIP callbacks; the route keeps its own history of the best plan (min) and
  best bound (max) so far, stamped with the seconds since the route's clock started (before
  ``build_superstructure``).
* **cascade**: ``cascade.optimize(plant, time_limit=..., mip_rel_gap=..., tie_break=False)``; its
  history is ``plan.solve["progress"]`` (seconds since the call started).

From each history the harness reads the time to the first plan, the gap at 10 s and at the time
limit, and the time to a 2 % and a 1 % gap (:mod:`cascade.progress`). The modelling overhead is the
route's wall time minus the seconds HiGHS itself ran (``SolveResult.highs_time`` for plain,
``plan.solve["times"]["highs"]`` for cascade). The files end with a summary per N and route (median
over the seeds and the worst seed) and one PASS/FAIL line per "Done when" criterion of issue 4,
judged on the cascade route.

The exit code is 1 when a plan of either route fails cascade's independent check, or a route's
proven bound is above its own or the other route's plan by more than 1e-6 relative; else 0.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from benchmarks.run import ROOT, _fmt, _header, _peak_rss_mb, environment, run_isolated, write_table

#: Sizes, seeds and time limit of ``--family speed`` and of ``--family speed --quick``.
SPEED_SIZES = (10, 30, 100, 300)
SPEED_SEEDS = (0, 1, 2)
QUICK_SPEED_SIZES = (10, 30)
QUICK_SPEED_SEEDS = (0,)
QUICK_SPEED_TIME_LIMIT = 5.0
#: The two routes, in the order they run for each plant.
SPEED_ROUTES = ("plain", "cascade")
#: Gaps whose first time the family records, with their column names.
SPEED_TIME_TO_GAP = {"to_gap_2pct": 0.02, "to_gap_1pct": 0.01}
#: The early check point of the history (seconds).
EARLY_SECONDS = 10.0
#: A bound is recorded in the plain route's history again only when it rose by more than this share
#: of the objective (the same step as :data:`cascade.progress.BOUND_STEP`).
BOUND_STEP = 1e-6
#: Relative tolerance of the consistency checks (a bound above a plan by more than this is an error).
CONSISTENCY_TOL = 1e-6
#: A route whose wall time exceeds its time limit by more than this (s) is listed as an overrun.
OVERRUN_SECONDS = 1.0
#: Peak memory limit of the "Done when" criterion: 1.5 GB, read as MiB of ``ru_maxrss``.
MEMORY_LIMIT_MB = 1536.0
#: A route starting at a 1-minute load average above this is listed: a route alone keeps the load of this
#: 2-CPU machine at 1-1.8 (HiGHS runs helper threads), so more means other work shared the CPUs.
BUSY_LOAD = 2.0

#: Every CSV column of the speed family, in order (see benchmarks/README.md).
SPEED_COLUMNS = (
    "n_users", "seed", "route", "n_contaminants", "n_regenerators", "pipe_binaries", "objective", "time_limit",
    "mip_rel_gap", "pipes", "columns", "rows", "nonzeros", "integer_columns",
    "status", "plan_status", "objective_value", "solver_objective", "bound", "gap",
    "first_plan", "gap_at_10s", "gap_at_limit", *SPEED_TIME_TO_GAP,
    "wall", "highs_time", "overhead", "overhead_share", "overrun", "peak_rss_mb", "check_passed", "consistent",
    "method", "load_start", "load_end", "cascade_state", "error", "isolated", "times", "progress",
)

History = list[tuple[float, float | None, float | None]]


# ---------------------------------------------------------------------- the two routes
def _plant(spec: dict[str, Any]):
    from benchmarks.generator import synthetic_plant

    return synthetic_plant(spec["n_users"], spec["n_contaminants"], spec["n_regenerators"], spec["seed"],
                           spec["pipe_binaries"])


def _progress_summary(history: History, time_limit: float) -> dict[str, Any]:
    """Time to the first plan, gaps at 10 s and at the time limit, times to 2 % and 1 % from a history."""
    from cascade.progress import gap_at, time_to_gap

    first = next((t for t, objective, _ in history if objective is not None), None)
    out: dict[str, Any] = {
        "first_plan": first,
        "gap_at_10s": gap_at(history, EARLY_SECONDS),
        "gap_at_limit": gap_at(history, time_limit),
    }
    out.update({name: time_to_gap(history, gap) for name, gap in SPEED_TIME_TO_GAP.items()})
    return out


def _finish(out: dict[str, Any], history: History, spec: dict[str, Any]) -> dict[str, Any]:
    """Add the history's figures, overhead and peak memory to a route's outcome."""
    out.update(_progress_summary(history, spec["time_limit"]))
    out["progress"] = json.dumps([[round(t, 3), o, b] for t, o, b in history])
    wall, highs = out.get("wall"), out.get("highs_time")
    if wall is not None and highs is not None:
        out["overhead"] = max(wall - highs, 0.0)
        out["overhead_share"] = out["overhead"] / wall if wall > 0 else None
    if wall is not None:
        out["overrun"] = max(wall - spec["time_limit"], 0.0)
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def run_plain(spec: dict[str, Any]) -> dict[str, Any]:
    """The plain formulation (``tighten=False``) handed straight to HiGHS; never raises for a solver stop.

    Parameters
    ----------
    spec : dict
        ``n_users``, ``n_contaminants``, ``n_regenerators``, ``seed``, ``pipe_binaries``, ``objective``,
        ``time_limit`` (for the whole route, superstructure to extraction) and ``mip_rel_gap``.

    Returns
    -------
    dict
        The route's keys of :data:`SPEED_COLUMNS` (those measured).
    """
    import cascade
    from cascade.exceptions import SolverError
    from cascade.formulation import build_model

    plant = _plant(spec)
    history: History = []
    best: dict[str, float | None] = {"objective": None, "bound": None}
    start = time.perf_counter()

    def hook(objective: float | None, bound: float | None) -> None:
        changed = False
        if objective is not None and (best["objective"] is None or objective < best["objective"]):
            best["objective"], changed = objective, True
        scale = max(abs(best["objective"] or bound or 0.0), 1.0)
        if bound is not None and (best["bound"] is None or bound > best["bound"] + BOUND_STEP * scale):
            best["bound"], changed = bound, True
        if changed:
            history.append((time.perf_counter() - start, best["objective"], best["bound"]))

    def left() -> float:
        return max(spec["time_limit"] - (time.perf_counter() - start), 0.01)

    graph = cascade.build_superstructure(plant)
    model = build_model(graph, spec["objective"], tighten=False)
    solver = cascade.HighsSolver(time_limit=left(), mip_rel_gap=spec["mip_rel_gap"], progress=hook)
    solver.set_model(model)
    out: dict[str, Any] = {"pipes": graph.number_of_edges(), "method": "plain"}
    try:
        result = solver.solve(model, time_limit=left())
    except SolverError as exc:
        out.update(wall=time.perf_counter() - start, status="error", plan_status="no plan",
                   error=f"{type(exc).__name__}: {exc}")
        return _finish(out, history, spec)
    solver.progress = None
    if result.has_solution:
        hook(result.objective, result.bound)  # the final answer, if the callbacks missed it
        plan = cascade.extract_plan(plant, graph, model, result)
        out.update(plan_status=plan.status, objective_value=plan.objective, check_passed=plan.check.passed)
    else:
        out.update(plan_status="no plan", error=f"HiGHS stopped without a plan ({result.termination})")
    out["wall"] = time.perf_counter() - start
    bound = result.bound if result.bound is not None and math.isfinite(result.bound) else None
    out.update(result.size)
    out.update(status=result.status, solver_objective=result.objective, bound=bound, gap=result.gap,
               highs_time=getattr(result, "highs_time", None),
               times=json.dumps({"handoff": solver.handoff_time, "solve": result.solve_time}))
    return _finish(out, history, spec)


def run_cascade_optimize(spec: dict[str, Any]) -> dict[str, Any]:
    """``cascade.optimize(plant, tie_break=False)`` on the same plant; never raises for a solver stop.

    Parameters
    ----------
    spec : dict
        As for :func:`run_plain`.

    Returns
    -------
    dict
        The route's keys of :data:`SPEED_COLUMNS` (those measured).
    """
    import cascade
    from cascade.exceptions import InfeasiblePlantError, SolverError

    plant = _plant(spec)
    heard: History = []  # the same history through the callback, kept if optimize raises

    def listen(seconds: float, objective: float | None, bound: float | None) -> None:
        heard.append((seconds, objective, bound))

    start = time.perf_counter()
    try:
        plan = cascade.optimize(plant, spec["objective"], time_limit=spec["time_limit"],
                                mip_rel_gap=spec["mip_rel_gap"], tie_break=False, progress=listen)
    except (SolverError, InfeasiblePlantError) as exc:
        out = {"wall": time.perf_counter() - start, "status": "error", "plan_status": "no plan",
               "error": f"{type(exc).__name__}: {exc}"}
        return _finish(out, heard, spec)
    wall = time.perf_counter() - start
    solve = plan.solve
    history: History = [tuple(p) for p in solve.get("progress", heard)]
    times = solve.get("times", {})
    method = solve.get("method", {})
    search = method.get("search")
    out = {
        "wall": wall,
        "status": solve.get("stage1", {}).get("status", plan.status),
        "plan_status": plan.status,
        "objective_value": plan.objective,
        "solver_objective": solve.get("stage1", {}).get("objective"),
        "bound": plan.bound,
        "gap": plan.gap,
        "check_passed": plan.check.passed,
        "highs_time": times.get("highs"),
        "times": json.dumps(times),
        "method": method.get("name", "") + (
            "" if search is None else (" + search, whole MILP" if search.get("full_model") else " + search")),
    }
    out.update(solve.get("size", {}))
    if search is not None:
        out["pipes"] = search.get("pipes")
    return _finish(out, history, spec)


SPEED_ROUTE_FUNCTIONS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "plain": run_plain,
    "cascade": run_cascade_optimize,
}


# ---------------------------------------------------------------------- one plant, both routes
def _git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, check=True)
    return done.stdout.decode("utf-8", "replace").strip()


def cascade_state() -> str:
    """The commit and, when ``cascade/`` has uncommitted changes, a short hash of that diff.

    The code a route runs is imported fresh by its process, so a change of ``cascade/`` during a
    sweep shows as a different state between rows.
    """
    try:
        head = _git("rev-parse", "--short", "HEAD")
        diff = _git("diff", "HEAD", "--", "cascade")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    if not diff:
        return head
    return f"{head}+diff:{hashlib.sha1(diff.encode()).hexdigest()[:8]}"


def consistency(rows: list[dict[str, Any]]) -> None:
    """Set ``consistent`` on the rows of one plant: no proven bound above a plan of either route.

    A route's bound is compared with its own plan and with the other route's plan; a difference
    above :data:`CONSISTENCY_TOL` relative is ``NO: ...``; ``yes`` when something was compared,
    ``n/a`` otherwise.
    """
    plans = [(r["route"], r["objective_value"]) for r in rows if r.get("objective_value") is not None]
    for r in rows:
        bound = r.get("bound")
        if bound is None or not plans:
            r["consistent"] = "n/a"
            continue
        problems = [
            f"{r['route']} bound {bound!r} > {route} plan {objective!r}"
            for route, objective in plans
            if bound > objective + CONSISTENCY_TOL * max(1.0, abs(objective))
        ]
        r["consistent"] = "NO: " + "; ".join(problems) if problems else "yes"


def measure_speed(spec: dict[str, Any], *, isolated: bool = True, timeout: float | None = None) -> list[dict[str, Any]]:
    """Both routes on one plant, one after the other; one row per route (every key of :data:`SPEED_COLUMNS`).

    Parameters
    ----------
    spec : dict
        As for :func:`run_plain`.
    isolated : bool, default True
        Each route in a fresh ``python -m benchmarks --worker`` process.
    timeout : float, optional
        Seconds before a route's process is killed (default the time limit + 600).

    Returns
    -------
    list of dict
    """
    from benchmarks.generator import default_regenerators

    if timeout is None:
        timeout = 600.0 + spec["time_limit"]
    rows = []
    for route in SPEED_ROUTES:
        row: dict[str, Any] = dict.fromkeys(SPEED_COLUMNS)
        row.update({k: v for k, v in spec.items() if k in row})
        row["route"] = route
        row["n_regenerators"] = (default_regenerators(spec["n_users"]) if spec["n_regenerators"] is None
                                 else spec["n_regenerators"])
        row["cascade_state"] = cascade_state()
        row["load_start"] = os.getloadavg()[0]
        got = (run_isolated(f"speed-{route}", spec, timeout) if isolated
               else SPEED_ROUTE_FUNCTIONS[route](spec))
        row.update({k: v for k, v in got.items() if k in row})
        row["load_end"] = os.getloadavg()[0]
        row["isolated"] = isolated
        rows.append(row)
    if rows[1]["pipes"] is None:
        rows[1]["pipes"] = rows[0]["pipes"]  # the same superstructure
    consistency(rows)
    return rows


# ---------------------------------------------------------------------- summary and criteria
def _worst_first(values: Iterable[float | None]) -> list[float]:
    """Values with None (never reached, not measured) as infinity: 'lower is better' statistics."""
    return [math.inf if v is None else float(v) for v in values]


def _median_worst(values: list[float | None]) -> tuple[float, float] | None:
    if not values:
        return None
    data = _worst_first(values)
    return statistics.median(data), max(data)


def _time(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "n/a"
    return "never" if math.isinf(value) else _fmt(float(value), digits)


def _gap(value: float | None) -> str:
    """A relative gap in per cent: two decimals, three below 1 %."""
    if value is None or math.isinf(value):
        return "n/a"
    return f"{100 * value:.2f} %" if value >= 0.01 else f"{100 * value:.3f} %"


def _money(value: float | None) -> str:
    """An objective in full (money/yr are large): thousands separated by a space."""
    if value is None:
        return "n/a"
    return f"{value:,.0f}".replace(",", " ") if abs(value) >= 1e5 else _fmt(float(value))


def _pair(values: list[float | None], show: Callable[[float | None], str]) -> str:
    got = _median_worst(values)
    return "n/a" if got is None else f"{show(got[0])} / {show(got[1])}"


def _groups(rows: list[dict[str, Any]]) -> dict[tuple[int, str], list[dict[str, Any]]]:
    groups: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["n_users"], r["route"]), []).append(r)
    return groups


def summary_table(rows: list[dict[str, Any]]) -> list[str]:
    """Markdown lines: per N and route, the median over the seeds and the worst seed of each figure."""
    lines = [
        "| N | route | seeds | first plan | gap at 10 s | gap at limit | to 2 % | to 1 % | final gap | wall "
        "| overhead | peak MB | check |",
        "|---:|---|---:|" + "---:|" * 9 + "---|",
    ]
    for (n, route), group in _groups(rows).items():
        checks = [r["check_passed"] for r in group]
        lines.append("| " + " | ".join([
            _fmt(n), route, _fmt(len(group)),
            _pair([r["first_plan"] for r in group], lambda v: _time(v, 2)),
            _pair([r["gap_at_10s"] for r in group], _gap),
            _pair([r["gap_at_limit"] for r in group], _gap),
            *(_pair([r[k] for r in group], lambda v: _time(v, 2)) for k in ("to_gap_2pct", "to_gap_1pct")),
            _pair([r["gap"] for r in group], _gap),
            _pair([r["wall"] for r in group], _time),
            _pair([r["overhead_share"] for r in group], _gap),
            _pair([r["peak_rss_mb"] for r in group], lambda v: _time(v, 0)),
            f"{sum(c is True for c in checks)} of {len(checks)}",
        ]) + " |")
    return lines


def _per_seed(group: list[dict[str, Any]], key: str, show: Callable[[Any], str]) -> str:
    return ", ".join(f"{show(r[key])} (seed {r['seed']})" for r in group)


def done_when(rows: list[dict[str, Any]], time_limit: float) -> list[str]:
    """One line per "Done when" criterion of issue 4, judged on the cascade route over every seed.

    A criterion on a size the sweep did not run is ``not measured``; with a time limit other than
    60 s the line says so (the criteria are stated for 60 s). The plain route's figures follow
    each line for comparison.
    """
    groups = _groups(rows)

    def line(label: str, n: int | None, key: str, ok: Callable[[Any], bool], show: Callable[[Any], str]) -> str:
        if n is None:  # every plan of the sweep: runs without a plan have nothing to check
            ours = [r for r in rows if r["route"] == "cascade" and r["objective_value"] is not None]
            plain = [r for r in rows if r["route"] == "plain" and r["objective_value"] is not None]
            failed = [r for r in ours if not ok(r)]
            verdict = "PASS" if ours and not failed else "FAIL"
            no_plan = sum(r["objective_value"] is None for r in rows)
            detail = f"{len(ours) - len(failed)} of {len(ours)} cascade plans pass" + (
                "; failed: " + ", ".join(f"N = {r['n_users']} seed {r['seed']}" for r in failed) if failed else "")
            detail += f"; plain route: {sum(ok(r) for r in plain)} of {len(plain)}"
            if no_plan:
                detail += f"; {no_plan} run(s) of either route ended without a plan"
            return f"* **{verdict}** {label}: {detail}"
        ours = groups.get((n, "cascade"), [])
        if not ours:
            return f"* {label}: not measured (no N = {n} in this sweep)"
        verdict = "PASS" if all(ok(r) for r in ours) else "FAIL"
        detail = "cascade " + _per_seed(ours, key, show)
        plain = groups.get((n, "plain"), [])
        if plain:
            detail += "; plain " + _per_seed(plain, key, show)
        return f"* **{verdict}** {label}: {detail}"

    def at_most(key: str, limit: float) -> Callable[[dict[str, Any]], bool]:
        return lambda r: r[key] is not None and r[key] <= limit

    lines = [
        line("N = 30: proven gap ≤ 1 % (final gap)", 30, "gap", at_most("gap", 0.01), _gap),
        line("N = 100: a feasible plan in under 10 s (time to the first plan)", 100, "first_plan",
             lambda r: r["first_plan"] is not None and r["first_plan"] < 10.0,
             lambda v: "no plan" if v is None else f"{_time(v, 2)} s"),
        line("N = 100: proven gap ≤ 2 % (final gap)", 100, "gap", at_most("gap", 0.02), _gap),
        line("N = 300: a feasible plan", 300, "objective_value", lambda r: r["objective_value"] is not None,
             lambda v: "none" if v is None else _money(v)),
        line("N = 300: proven gap ≤ 10 % (final gap)", 300, "gap", at_most("gap", 0.10), _gap),
        line(f"N = 300: peak memory under 1.5 GB ({MEMORY_LIMIT_MB:g} MiB of ru_maxrss)", 300, "peak_rss_mb",
             lambda r: r["peak_rss_mb"] is not None and r["peak_rss_mb"] < MEMORY_LIMIT_MB,
             lambda v: "n/a" if v is None else f"{_time(v, 0)} MB"),
        line("N = 100: modelling overhead under 5 % of the wall time", 100, "overhead_share",
             lambda r: r["overhead_share"] is not None and r["overhead_share"] < 0.05,
             lambda v: _gap(v)),
        line("every plan passes the independent check", None, "check_passed", lambda r: r["check_passed"] is True,
             _fmt),
    ]
    if time_limit != 60.0:
        lines.insert(0, f"* (time limit {time_limit:g} s: the criteria are stated for 60 s)")
    return lines


def anomalies(rows: list[dict[str, Any]]) -> list[str]:
    """Lines for what looks wrong: failed checks, inconsistent bounds, errors, overruns, a changing cascade."""
    out = []
    for r in rows:
        label = f"N = {r['n_users']} seed {r['seed']} {r['route']}"
        if r["check_passed"] is False:
            out.append(f"* {label}: the plan FAILS the independent check")
        if str(r["consistent"]).startswith("NO"):
            out.append(f"* {label}: inconsistent: {r['consistent'][4:]}")
        if r["error"]:
            out.append(f"* {label}: {r['status']}: {r['error']}")
        if r["overrun"] is not None and r["overrun"] > OVERRUN_SECONDS:
            out.append(f"* {label}: wall {_time(r['wall'], 2)} s, {_time(r['overrun'], 2)} s over the "
                       f"{r['time_limit']:g} s limit")
        if r["load_start"] is not None and r["load_start"] > BUSY_LOAD:
            out.append(f"* {label}: 1-min load average {r['load_start']:.2f} when the route started "
                       "(other work on the machine)")
    runs_of: dict[str, list[str]] = {}
    for r in rows:
        if r["cascade_state"]:
            runs_of.setdefault(r["cascade_state"], []).append(f"N = {r['n_users']} seed {r['seed']} {r['route']}")
    if len(runs_of) > 1:
        out.append("* `cascade/` changed during the sweep (column cascade_state): " + "; ".join(
            f"{state} for {len(labels)} run(s), {labels[0]}" + (f" to {labels[-1]}" if len(labels) > 1 else "")
            for state, labels in runs_of.items()))
    return out


def failures(rows: list[dict[str, Any]]) -> list[str]:
    """What makes the exit code 1: failed checks and inconsistent bounds."""
    return [
        f"N={r['n_users']} seed={r['seed']} {r['route']}: check={r['check_passed']}, consistent={r['consistent']}"
        for r in rows if r["check_passed"] is False or str(r["consistent"]).startswith("NO")
    ]


# ---------------------------------------------------------------------- output
def markdown_speed(rows: list[dict[str, Any]], env: dict[str, str], command: str) -> str:
    """The speed family as Markdown: environment, summary, "Done when" lines, anomalies, every run."""
    time_limit = rows[0]["time_limit"] if rows else 60.0
    lines = [
        *_header(rows, env, command, "cascade speed benchmark results (plain HiGHS vs cascade.optimize)", "route",
                 "route, size and seed"),
        f"* plant: `synthetic_plant(N, seed=s)`, K = {rows[0]['n_contaminants'] if rows else 'n/a'}, pipe binaries "
        f"{rows[0]['pipe_binaries'] if rows else 'n/a'}, objective {rows[0]['objective'] if rows else 'n/a'}, "
        f"time limit {time_limit:g} s per route, mip_rel_gap {rows[0]['mip_rel_gap'] if rows else 'n/a'}",
        "* `plain`: `build_model(graph, objective, tighten=False)` straight into `HighsSolver`; `cascade`: "
        "`cascade.optimize(plant, tie_break=False)`; times in s from the route's start; gaps from each route's "
        "history of its best plan and best proven bound; overhead = wall time minus HiGHS's own run time",
        "",
        "## Summary (median / worst seed)",
        "",
        *summary_table(rows),
        "",
        "`never`: the gap was not reached; `n/a`: no plan or no bound. Worst = the largest value over the seeds "
        "(never and n/a count as the largest).",
        "",
        "## Done when (issue 4, cascade route, every seed)",
        "",
        *done_when(rows, time_limit),
        "",
        "## Anomalies",
        "",
        *(anomalies(rows) or ["* none: every plan passed the check, no bound above a plan, no overrun above "
                              f"{OVERRUN_SECONDS:g} s, no error"]),
        "",
        "## Every run",
        "",
        "| N | seed | route | method | pipes | columns | rows | binaries | status | objective | bound | gap "
        "| first plan | gap at 10 s | gap at limit | to 2 % | to 1 % | wall | HiGHS | overhead | overhead % "
        "| peak MB | check | consistent | load |",
        "|---:|---:|---|---|" + "---:|" * 4 + "---|" + "---:|" * 13 + "---|---|---:|",
    ]
    for r in rows:
        lines.append("| " + " | ".join([
            _fmt(r["n_users"]), _fmt(r["seed"]), r["route"], _fmt(r["method"]), _fmt(r["pipes"]), _fmt(r["columns"]),
            _fmt(r["rows"]), _fmt(r["integer_columns"]), _fmt(r["status"]), _money(r["objective_value"]),
            _money(r["bound"]), _gap(r["gap"]), _time(r["first_plan"], 2), _gap(r["gap_at_10s"]),
            _gap(r["gap_at_limit"]), _time(r["to_gap_2pct"], 2), _time(r["to_gap_1pct"], 2), _time(r["wall"], 2),
            _time(r["highs_time"], 2), _time(r["overhead"], 2), _gap(r["overhead_share"]),
            _time(r["peak_rss_mb"], 0), _fmt(r["check_passed"]), _fmt(r["consistent"]), _time(r["load_start"], 2),
        ]) + " |")
    return "\n".join(lines) + "\n"


def write_speed(rows: list[dict[str, Any]], env: dict[str, str], command: str, out: Path) -> tuple[Path, Path]:
    """Write ``out`` with suffixes ``.md`` and ``.csv``; return both paths."""
    return write_table(rows, markdown_speed(rows, env, command), SPEED_COLUMNS, out)


#: CSV columns read back as integers, floats and booleans by :func:`read_speed_csv` (the rest are text).
_INT_COLUMNS = ("n_users", "seed", "n_contaminants", "n_regenerators", "pipes", "columns", "rows", "nonzeros",
                "integer_columns")
_BOOL_COLUMNS = ("pipe_binaries", "check_passed", "isolated")
_TEXT_COLUMNS = ("route", "objective", "status", "plan_status", "consistent", "method", "cascade_state", "error",
                 "times", "progress")


def read_speed_csv(path: Path) -> list[dict[str, Any]]:
    """Read a speed CSV back into rows as :func:`measure_speed` returns them (to render its Markdown again).

    Parameters
    ----------
    path : pathlib.Path
        A ``.csv`` written by :func:`write_speed`.

    Returns
    -------
    list of dict
    """
    def typed(key: str, text: str) -> Any:
        if text == "":
            return None
        if key in _INT_COLUMNS:
            return int(text)
        if key in _BOOL_COLUMNS:
            return text == "True"
        if key in _TEXT_COLUMNS:
            return text
        return float(text)

    with Path(path).open(newline="", encoding="utf-8") as handle:
        return [{k: typed(k, row.get(k, "")) for k in SPEED_COLUMNS} for row in csv.DictReader(handle)]


def speed_specs(sizes: Iterable[int], seeds: Iterable[int], *, time_limit: float, mip_rel_gap: float,
                n_contaminants: int = 1, n_regenerators: int | None = None, pipe_binaries: bool = True,
                objective: str = "cost") -> list[dict[str, Any]]:
    """One spec per size and seed (sizes outer), for :func:`measure_speed`."""
    seeds = list(seeds)
    return [
        {"n_users": n, "seed": s, "n_contaminants": n_contaminants, "n_regenerators": n_regenerators,
         "pipe_binaries": pipe_binaries, "objective": objective, "time_limit": time_limit,
         "mip_rel_gap": mip_rel_gap}
        for n in sizes for s in seeds
    ]


def main_speed(specs: list[dict[str, Any]], out: Path, command: str, *, isolated: bool = True) -> int:
    """Run the speed sweep, writing the files after every plant; return 1 on a failed check or bound, else 0."""
    env = environment()
    rows: list[dict[str, Any]] = []
    for spec in specs:
        print(f"N={spec['n_users']} seed={spec['seed']}: running ...", file=sys.stderr, flush=True)
        got = measure_speed(spec, isolated=isolated)
        rows.extend(got)
        for r in got:
            print(f"  {r['route']}: {r['status']} {_money(r['objective_value'])} gap {_gap(r['gap'])}, first plan "
                  f"{_time(r['first_plan'], 2)}, wall {_time(r['wall'], 1)} s, overhead "
                  f"{_gap(r['overhead_share'])}, peak {_time(r['peak_rss_mb'], 0)} MB, check "
                  f"{_fmt(r['check_passed'])}, consistent {r['consistent']}", file=sys.stderr, flush=True)
        write_speed(rows, env, command, out)
    md, csv_path = write_speed(rows, env, command, out)
    print(f"wrote {md} and {csv_path}", file=sys.stderr)
    failed = failures(rows)
    for msg in failed:
        print(f"FAILED {msg}", file=sys.stderr)
    return 1 if failed else 0
