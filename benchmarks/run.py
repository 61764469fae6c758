"""The benchmark sweeps: the linear pipeline next to direct highspy, and the bilinear method's time to a gap.

**Family ``linear``** (the default). For each size N the same seeded plant
(:func:`benchmarks.generator.synthetic_plant`) goes through two routes, each in a fresh Python
process by default (so a crash, a stall or the memory of one run never affects another, and
``ru_maxrss`` is the peak of that route alone):

* **cascade** (Pyomo): ``build_superstructure`` -> ``build_model`` -> ``HighsSolver.set_model``
  (hand-off through Pyomo's appsi interface) -> ``HighsSolver.solve`` -> ``extract_plan`` (which
  includes the independent check of the flows);
* **direct** (highspy): ``build_superstructure`` -> :func:`benchmarks.highspy_direct.build_arrays`
  -> :func:`~benchmarks.highspy_direct.pass_to_highs` -> :func:`~benchmarks.highspy_direct.solve_direct`,
  then ``cascade.check_flows`` on its flows (not part of the timed phases).

Both solves get the same time limit and ``mip_rel_gap``. The harness asserts that both routes reach
the same objective when both are proven optimal, and that each route's proven bound is not above
the other's plan (valid whether or not they finished). It writes a Markdown table and a CSV, and
exits with 1 if any comparison or plan check failed (the files are written first).

**Family ``bilinear``** (``--family bilinear``). For each size N and each number of contaminants K
the seeded plant :func:`benchmarks.generator.synthetic_bilinear_plant` goes through
``cascade.optimize(plant, time_limit=..., tie_break=False)`` (routed to :mod:`cascade.bilinear`),
in a fresh process as above. Each row records the plan and its proven bound, the final gap, the
iterations of the relaxation-restriction loop and the time to gaps of 10 %, 1 % and 0.1 % (the
first ``seconds`` of the loop's iteration log at which the gap was at most that). It exits with 1
if a plan fails cascade's check or a bound is above its plan.

**Family ``speed``** (``--family speed``, :mod:`benchmarks.speed`). For each size N and each seed
of ``--seeds`` the linear synthetic plant goes through the plain formulation handed straight to
HiGHS and through ``cascade.optimize(plant, tie_break=False)``, each in a fresh process; each row
records the time to the first plan, the gap at 10 s and at the time limit, the time to a 2 % and a
1 % gap, the modelling overhead (wall time minus HiGHS's own run time) and the peak memory; the
files end with a summary (median and worst seed) and the "Done when" lines of issue 4.

Run ``python -m benchmarks --help`` from the repository root.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import importlib.metadata
import json
import math
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_SIZES = (10, 30, 100, 300)
QUICK_SIZES = (10, 30)
QUICK_TIME_LIMIT = 5.0
FAMILIES = ("all", "models", "linear", "bilinear", "speed")
BILINEAR_SIZES = (3, 5, 8, 12)
BILINEAR_CONTAMINANTS = (2,)
QUICK_BILINEAR_SIZES = (3,)
#: Gaps whose time to reach the bilinear family records, with their column names.
TIME_TO_GAP = {"to_gap_10pct": 0.1, "to_gap_1pct": 0.01, "to_gap_0.1pct": 0.001}

#: Timed phases of each route, in pipeline order (seconds, ``time.perf_counter``).
CASCADE_PHASES = ("superstructure", "build", "handoff", "solve", "extract")
DIRECT_PHASES = ("direct_superstructure", "direct_build", "direct_handoff", "direct_solve")

#: Every CSV column, in order (see benchmarks/README.md for their meaning).
COLUMNS = (
    "n_users", "run", "n_contaminants", "n_regenerators", "seed", "pipe_binaries", "objective", "time_limit",
    "mip_rel_gap", "pipes",
    "columns", "rows", "nonzeros", "integer_columns",
    *CASCADE_PHASES, "build_to_handoff", "solve_call",
    "status", "objective_value", "bound", "gap", "termination", "plan_status", "check_passed", "peak_rss_mb",
    "error",
    *DIRECT_PHASES, "direct_build_to_handoff",
    "direct_status", "direct_objective", "direct_bound", "direct_gap", "direct_termination", "direct_check_passed",
    "direct_peak_rss_mb", "direct_size_match", "direct_error",
    "agree", "isolated",
)

#: Every CSV column of the bilinear family, in order (see benchmarks/README.md).
BILINEAR_COLUMNS = (
    "n_operations", "run", "n_contaminants", "n_regenerators", "seed", "objective", "time_limit", "mip_rel_gap",
    "tolerance", "status", "objective_value", "bound", "gap", "iterations", "segments", "seconds", "loop_seconds",
    *TIME_TO_GAP, "check_passed", "bound_ok", "columns", "rows", "nonzeros", "integer_columns", "peak_rss_mb",
    "load_1min", "error", "isolated", "iteration_log",
)


# ---------------------------------------------------------------------- one route, one size
def _peak_rss_mb() -> float:
    """Peak resident set size of this process so far (``getrusage(RUSAGE_SELF).ru_maxrss``, Linux KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_cascade(spec: dict[str, Any]) -> dict[str, Any]:
    """Time the cascade (Pyomo) route on one synthetic plant; never raises for a solver stop."""
    import cascade
    from benchmarks.generator import synthetic_plant
    from cascade.exceptions import SolverError

    plant = synthetic_plant(spec["n_users"], spec["n_contaminants"], spec["n_regenerators"], spec["seed"],
                            spec["pipe_binaries"])
    out: dict[str, Any] = {}
    tick = time.perf_counter()
    graph = cascade.build_superstructure(plant)
    out["superstructure"] = time.perf_counter() - tick
    out["pipes"] = graph.number_of_edges()
    tick = time.perf_counter()
    model = cascade.build_model(graph, spec["objective"])
    out["build"] = time.perf_counter() - tick
    solver = cascade.HighsSolver(time_limit=spec["time_limit"], mip_rel_gap=spec["mip_rel_gap"])
    tick = time.perf_counter()
    solver.set_model(model)
    out["handoff"] = time.perf_counter() - tick
    out["build_to_handoff"] = out["superstructure"] + out["build"] + out["handoff"]
    if not spec.get("solve", True):
        out.update(status="not solved", plan_status="no plan", peak_rss_mb=_peak_rss_mb())
        return out
    tick = time.perf_counter()
    try:
        result = solver.solve(model)
    except SolverError as exc:
        out.update(solve_call=time.perf_counter() - tick, status="error", error=str(exc), plan_status="no plan",
                   peak_rss_mb=_peak_rss_mb())
        return out
    out["solve_call"] = time.perf_counter() - tick
    out["solve"] = result.solve_time
    out.update(result.size)
    out.update(status=result.status, objective_value=result.objective, bound=result.bound, gap=result.gap,
               termination=result.termination)
    if result.has_solution:
        tick = time.perf_counter()
        plan = cascade.extract_plan(plant, graph, model, result)
        out["extract"] = time.perf_counter() - tick
        out.update(plan_status=plan.status, check_passed=plan.check.passed)
    else:
        out["plan_status"] = "no plan"
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def run_direct(spec: dict[str, Any]) -> dict[str, Any]:
    """Time the direct highspy route on the same synthetic plant; never raises for a solver stop."""
    import cascade
    from benchmarks.generator import synthetic_plant
    from benchmarks.highspy_direct import build_arrays, pass_to_highs, solve_direct
    from cascade.optimize import ZERO_FLOW

    plant = synthetic_plant(spec["n_users"], spec["n_contaminants"], spec["n_regenerators"], spec["seed"],
                            spec["pipe_binaries"])
    out: dict[str, Any] = {}
    tick = time.perf_counter()
    graph = cascade.build_superstructure(plant)
    out["direct_superstructure"] = time.perf_counter() - tick
    tick = time.perf_counter()
    lp = build_arrays(graph, spec["objective"])
    out["direct_build"] = time.perf_counter() - tick
    tick = time.perf_counter()
    highs = pass_to_highs(lp)
    out["direct_handoff"] = time.perf_counter() - tick
    out["direct_build_to_handoff"] = out["direct_superstructure"] + out["direct_build"] + out["direct_handoff"]
    out["direct_size"] = lp.size
    if not spec.get("solve", True):
        out.update(direct_status="not solved", direct_peak_rss_mb=_peak_rss_mb())
        return out
    try:
        result = solve_direct(highs, lp, time_limit=spec["time_limit"], mip_rel_gap=spec["mip_rel_gap"])
    except Exception as exc:  # a crash of HiGHS is a recorded outcome, not a stop of the sweep
        out.update(direct_status="error", direct_error=f"{type(exc).__name__}: {exc}",
                   direct_peak_rss_mb=_peak_rss_mb())
        return out
    out.update(direct_solve=result.solve_time, direct_status=result.status, direct_objective=result.objective,
               direct_bound=result.bound, direct_gap=result.gap, direct_termination=result.termination)
    if result.has_solution:
        flows = {e: f for e, f in result.flows.items() if f > ZERO_FLOW}
        out["direct_check_passed"] = cascade.check_flows(graph, flows).passed
    out["direct_peak_rss_mb"] = _peak_rss_mb()
    return out


def time_to_gap(iterations: list[dict[str, Any]], gap: float) -> float | None:
    """The first ``seconds`` of the bilinear iteration log at which the gap was at most ``gap``; None if never."""
    return next((it["seconds"] for it in iterations if it["gap"] is not None and it["gap"] <= gap), None)


def run_bilinear(spec: dict[str, Any]) -> dict[str, Any]:
    """Solve one bilinear synthetic plant with ``cascade.optimize``; never raises for a solver stop."""
    import cascade
    from benchmarks.generator import synthetic_bilinear_plant
    from cascade.exceptions import InfeasiblePlantError, SolverError

    plant = synthetic_bilinear_plant(spec["n_operations"], spec["n_contaminants"], spec["n_regenerators"],
                                     spec["seed"], objective=spec["objective"])
    gap_option = {} if spec["mip_rel_gap"] is None else {"mip_rel_gap": spec["mip_rel_gap"]}
    tick = time.perf_counter()
    try:
        plan = cascade.optimize(plant, time_limit=spec["time_limit"], tie_break=False, **gap_option)
    except (SolverError, InfeasiblePlantError) as exc:
        return {"seconds": time.perf_counter() - tick, "status": "error", "error": f"{type(exc).__name__}: {exc}",
                "peak_rss_mb": _peak_rss_mb()}
    out: dict[str, Any] = {"seconds": time.perf_counter() - tick}
    method = plan.solve["method"]
    iterations = method.get("iterations", [])
    out.update({name: time_to_gap(iterations, gap) for name, gap in TIME_TO_GAP.items()})
    out.update(plan.solve["size"])
    out.update(
        status=plan.status, objective_value=plan.objective, bound=plan.bound, gap=plan.gap,
        iterations=len(iterations), segments=iterations[-1]["segments"] if iterations else None,
        loop_seconds=plan.solve["times"].get("bilinear"), tolerance=method.get("tolerance"),
        check_passed=plan.check.passed,
        bound_ok=None if plan.bound is None else plan.bound <= plan.objective + 1e-6 * max(1.0, abs(plan.objective)),
        iteration_log=json.dumps([[round(it["seconds"], 3), it["lower"], it["upper"]] for it in iterations]),
        peak_rss_mb=_peak_rss_mb(),
    )
    return out


def run_speed_plain(spec: dict[str, Any]) -> dict[str, Any]:
    """The speed family's plain route (:func:`benchmarks.speed.run_plain`)."""
    from benchmarks.speed import run_plain

    return run_plain(spec)


def run_speed_cascade(spec: dict[str, Any]) -> dict[str, Any]:
    """The speed family's cascade route (:func:`benchmarks.speed.run_cascade_optimize`)."""
    from benchmarks.speed import run_cascade_optimize

    return run_cascade_optimize(spec)


def run_library_model(spec: dict[str, Any]) -> dict[str, Any]:
    """The models family's route (:func:`benchmarks.library.run_model`)."""
    from benchmarks.library import run_model

    return run_model(spec)


ROUTES = {"cascade": run_cascade, "direct": run_direct, "bilinear": run_bilinear, "speed-plain": run_speed_plain,
          "speed-cascade": run_speed_cascade, "model": run_library_model}
#: Prefix of a route's keys in the row (its status and error columns).
PREFIX = {"cascade": "", "direct": "direct_", "bilinear": "", "speed-plain": "", "speed-cascade": "", "model": ""}


def run_isolated(route: str, spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run one route in a fresh ``python -m benchmarks --worker`` process; a crash or timeout is recorded."""
    prefix = PREFIX[route]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    cmd = [sys.executable, "-m", "benchmarks", "--worker", json.dumps({"route": route, **spec})]
    try:
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {f"{prefix}status": "timeout", f"{prefix}error": f"no answer within {timeout:g} s (process killed)"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {f"{prefix}status": "crash", f"{prefix}error": f"exit {done.returncode}: {tail}"}
    return json.loads(lines[-1])


def _worker(payload: str) -> int:
    spec = json.loads(payload)
    route = spec.pop("route")
    try:
        out = ROUTES[route](spec)
    except Exception as exc:  # reported to the parent as a recorded outcome
        prefix = PREFIX[route]
        out = {f"{prefix}status": "crash", f"{prefix}error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(out, default=float), flush=True)
    return 0


# ---------------------------------------------------------------------- comparison
def compare(row: dict[str, Any], mip_rel_gap: float) -> str:
    """'yes', 'consistent', 'n/a' or 'NO ...': do both routes agree on the optimum?

    Both proven optimal: the objectives must differ by at most what ``mip_rel_gap`` allows (plus
    1e-6 relative for tolerances). Always: each route's proven bound must not exceed the other
    route's plan (both bound the same optimum from the two sides).
    """
    a, b = row.get("objective_value"), row.get("direct_objective")
    la, lb = row.get("bound"), row.get("direct_bound")
    scale = max([1.0, *(abs(v) for v in (a, b) if v is not None)])
    tol = 1e-6 * scale
    if row.get("status") == "optimal" and row.get("direct_status") == "optimal":
        if abs(a - b) <= mip_rel_gap * scale + tol:
            return "yes"
        return f"NO: optima {a!r} vs {b!r}"
    problems = []
    if la is not None and b is not None and la > b + tol:
        problems.append(f"cascade bound {la!r} > direct plan {b!r}")
    if lb is not None and a is not None and lb > a + tol:
        problems.append(f"direct bound {lb!r} > cascade plan {a!r}")
    if problems:
        return "NO: " + "; ".join(problems)
    if (la is not None and b is not None) or (lb is not None and a is not None):
        return "consistent"
    return "n/a"


def measure(spec: dict[str, Any], *, isolated: bool = True, timeout: float | None = None) -> dict[str, Any]:
    """Both routes on one size; returns one table row (every key of :data:`COLUMNS`, None where not measured)."""
    if timeout is None:
        timeout = 600.0 + 3.0 * (spec["time_limit"] or 600.0)
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update({k: spec[k] for k in ("n_users", "run", "n_contaminants", "seed", "pipe_binaries", "objective",
                                     "time_limit", "mip_rel_gap")})
    from benchmarks.generator import default_regenerators

    row["n_regenerators"] = (default_regenerators(spec["n_users"]) if spec["n_regenerators"] is None
                             else spec["n_regenerators"])
    for route in ("cascade", "direct"):
        got = run_isolated(route, spec, timeout) if isolated else ROUTES[route](spec)
        size = got.pop("direct_size", None)
        row.update({k: v for k, v in got.items() if k in row})
        if size is not None:
            row["direct_size_match"] = (
                None if row["columns"] is None else all(row[k] == size[k] for k in size)
            )
            if row["columns"] is None:  # the cascade route gave no size: show the direct model's
                row.update(size)
    row["agree"] = compare(row, spec["mip_rel_gap"])
    row["isolated"] = isolated
    return row


def measure_bilinear(spec: dict[str, Any], *, isolated: bool = True, timeout: float | None = None) -> dict[str, Any]:
    """One bilinear plant; returns one table row (every key of :data:`BILINEAR_COLUMNS`, None where not measured)."""
    if timeout is None:
        timeout = 600.0 + 3.0 * (spec["time_limit"] or 600.0)
    row: dict[str, Any] = dict.fromkeys(BILINEAR_COLUMNS)
    row.update({k: v for k, v in spec.items() if k in row})
    got = run_isolated("bilinear", spec, timeout) if isolated else run_bilinear(spec)
    row.update({k: v for k, v in got.items() if k in row})
    row["load_1min"] = os.getloadavg()[0]  # the machine's load over the run's last minute (other jobs included)
    row["isolated"] = isolated
    return row


# ---------------------------------------------------------------------- output
def cascade_commit() -> str:
    """The repository's commit (short hash), noting uncommitted changes in ``cascade/``; 'unknown' outside git."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True)
        return done.stdout.strip()

    try:
        head, dirty = git("rev-parse", "--short", "HEAD"), git("status", "--porcelain", "--", "cascade")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" + uncommitted changes in cascade/" if dirty else "")


def environment() -> dict[str, str]:
    """Date, machine, load, package versions and cascade's commit for the results header."""
    versions = {}
    for name in ("highspy", "pyomo", "networkx", "numpy", "pandas"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "cpus": str(os.cpu_count()),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "load": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
        "commit": cascade_commit(),
        **versions,
    }


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if abs(value) >= 1e5:
            return f"{value:.6g}"
        return f"{value:.{digits}f}"
    return str(value)


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{100 * value:.2f} %"


def _header(rows: list[dict[str, Any]], env: dict[str, str], command: str, title: str, unit: str,
            per: str) -> list[str]:
    """Title, date, machine, versions, command, and what ran in one process (a ``unit``, one per ``per``)."""
    return [
        f"# {title}",
        "",
        f"* date: {env['date']}",
        f"* machine: {env['host']}, {env['cpus']} CPUs, {env['platform']} ({env['processor']}); load average "
        f"{env.get('load', 'n/a')} (1 / 5 / 15 min) when the sweep started",
        f"* Python {env['python']}, highspy {env['highspy']}, Pyomo {env['pyomo']}, networkx {env['networkx']}, "
        f"numpy {env['numpy']}, pandas {env['pandas']}; cascade at commit {env.get('commit', 'unknown')}",
        f"* command: `{command}`",
        f"* times in seconds (`time.perf_counter`); peak memory = `ru_maxrss` of the process that ran the {unit}"
        + (f" (one fresh process per {per})" if rows and rows[0]["isolated"] else
           " (one process for the whole sweep: cumulative)"),
        "",
    ]


def markdown(rows: list[dict[str, Any]], env: dict[str, str], command: str) -> str:
    """The results as Markdown: environment, cascade phases, direct highspy phases, agreement."""
    lines = [
        *_header(rows, env, command, "cascade benchmark results", "route", "route and size"),
        "## cascade route (Pyomo + appsi HiGHS)",
        "",
        "| N | run | K | R | pipes | columns | rows | nonzeros | binaries | superstructure | build | hand-off "
        "| super+build+hand-off | solve | extract | status | gap | objective | bound | plan | check | peak MB |",
        "|" + "---:|" * 14 + "---|---:|---:|---:|---|---|---:|",
    ]
    for r in rows:
        lines.append("| " + " | ".join([
            _fmt(r["n_users"]), _fmt(r["run"]), _fmt(r["n_contaminants"]), _fmt(r["n_regenerators"]), _fmt(r["pipes"]),
            _fmt(r["columns"]), _fmt(r["rows"]), _fmt(r["nonzeros"]), _fmt(r["integer_columns"]),
            _fmt(r["superstructure"]), _fmt(r["build"]), _fmt(r["handoff"]), _fmt(r["build_to_handoff"]),
            _fmt(r["solve"], 1), _fmt(r["extract"]), _fmt(r["status"]), _pct(r["gap"]),
            _fmt(r["objective_value"]), _fmt(r["bound"]), _fmt(r["plan_status"]), _fmt(r["check_passed"]),
            _fmt(r["peak_rss_mb"], 0),
        ]) + " |")
    lines += [
        "",
        "## direct highspy route (same MILP, numpy arrays, one `passModel`)",
        "",
        "| N | run | superstructure | build | hand-off | super+build+hand-off | solve | status | gap | objective "
        "| bound | check | same size | peak MB | agree |",
        "|" + "---:|" * 7 + "---|---:|---:|---:|---|---|---:|---|",
    ]
    for r in rows:
        lines.append("| " + " | ".join([
            _fmt(r["n_users"]), _fmt(r["run"]), _fmt(r["direct_superstructure"]), _fmt(r["direct_build"]),
            _fmt(r["direct_handoff"]), _fmt(r["direct_build_to_handoff"]), _fmt(r["direct_solve"], 1),
            _fmt(r["direct_status"]), _pct(r["direct_gap"]), _fmt(r["direct_objective"]), _fmt(r["direct_bound"]),
            _fmt(r["direct_check_passed"]), _fmt(r["direct_size_match"]), _fmt(r["direct_peak_rss_mb"], 0),
            _fmt(r["agree"]),
        ]) + " |")
    runs: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        runs.setdefault(r["n_users"], []).append(r)
    if any(len(v) > 1 for v in runs.values()):
        lines += [
            "",
            "## superstructure + build + hand-off over the runs (s)",
            "",
            "| N | runs | cascade median | cascade min | cascade max | direct median | direct min | direct max |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for n, group in runs.items():
            cells = [_fmt(n), _fmt(len(group))]
            for key in ("build_to_handoff", "direct_build_to_handoff"):
                values = [r[key] for r in group if r[key] is not None]
                cells += ([_fmt(statistics.median(values)), _fmt(min(values)), _fmt(max(values))] if values
                          else ["n/a"] * 3)
            lines.append("| " + " | ".join(cells) + " |")
    errors = [(r["n_users"], k, r[k]) for r in rows for k in ("error", "direct_error") if r[k]]
    if errors:
        lines += ["", "## errors", ""] + [f"* N={n} {k}: {msg}" for n, k, msg in errors]
    return "\n".join(lines) + "\n"


def markdown_bilinear(rows: list[dict[str, Any]], env: dict[str, str], command: str) -> str:
    """The bilinear family as Markdown: environment, then one row per plant with its gaps and times to gap."""
    lines = [
        *_header(rows, env, command, "cascade bilinear benchmark results", "plant", "plant"),
        "* `seconds`: the whole `cascade.optimize` call; `to 10 % / 1 % / 0.1 %`: the first `seconds` of the "
        "bilinear loop's iteration log (counted from the loop's start) at which the gap was at most that; "
        "`plan columns / rows`: the model holding the plan (`plan.solve[\"size\"]`, the linear restriction); "
        "`segments`: partition segments of the last relaxation; `load`: 1-min load average of the machine at the end "
        "of the run",
        "",
        "| N | run | K | R | status | objective | bound | gap | iterations | segments | seconds | to 10 % | to 1 % "
        "| to 0.1 % | check | plan columns | plan rows | peak MB | load |",
        "|" + "---:|" * 4 + "---|" + "---:|" * 9 + "---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append("| " + " | ".join([
            _fmt(r["n_operations"]), _fmt(r["run"]), _fmt(r["n_contaminants"]), _fmt(r["n_regenerators"]),
            _fmt(r["status"]), _fmt(r["objective_value"]), _fmt(r["bound"]), _pct(r["gap"]), _fmt(r["iterations"]),
            _fmt(r["segments"]), _fmt(r["seconds"], 1), *(_fmt(r[k], 2) for k in TIME_TO_GAP),
            _fmt(r["check_passed"]), _fmt(r["columns"]), _fmt(r["rows"]), _fmt(r["peak_rss_mb"], 0),
            _fmt(r["load_1min"], 1),
        ]) + " |")
    errors = [(r["n_operations"], r["n_contaminants"], r["error"]) for r in rows if r["error"]]
    if errors:
        lines += ["", "## errors", ""] + [f"* N={n} K={k}: {msg}" for n, k, msg in errors]
    return "\n".join(lines) + "\n"


def write_results(rows: list[dict[str, Any]], env: dict[str, str], command: str, out: Path,
                  family: str = "linear") -> tuple[Path, Path]:
    """Write ``out`` with suffixes ``.md`` and ``.csv`` (the family's table and columns); return both paths."""
    render, columns = (markdown, COLUMNS) if family == "linear" else (markdown_bilinear, BILINEAR_COLUMNS)
    return write_table(rows, render(rows, env, command), columns, out)


def write_table(rows: list[dict[str, Any]], text: str, columns: Iterable[str], out: Path) -> tuple[Path, Path]:
    """Write ``text`` to ``out`` with suffix ``.md`` and ``rows`` (``columns``) to ``.csv``; return both paths."""
    columns = list(columns)
    base = out.with_suffix("") if out.suffix in (".md", ".csv") else out
    md, csv_path = base.with_name(base.name + ".md"), base.with_name(base.name + ".csv")
    md.parent.mkdir(parents=True, exist_ok=True)
    md.write_text(text, encoding="utf-8")
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: "" if r[k] is None else r[k] for k in columns})
    return md, csv_path


def default_out(family: str = "linear") -> Path:
    host = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in socket.gethostname())[:30] or "host"
    return RESULTS / f"{dt.date.today().isoformat()}-{host}{'' if family == 'linear' else '-' + family}"


# ---------------------------------------------------------------------- CLI
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Family linear: time superstructure, Pyomo build, hand-off, HiGHS solve and plan extraction on "
                    "synthetic plants, next to the same MILP written directly in highspy. Family bilinear: solve "
                    "synthetic bilinear plants with cascade.optimize and record the gap and the time to reach "
                    "10 %, 1 % and 0.1 %. Family speed: the plain formulation straight into HiGHS next to "
                    "cascade.optimize on linear synthetic plants over several seeds: time to the first plan, gap "
                    "over time, modelling overhead, peak memory.",
    )
    parser.add_argument("--family", choices=FAMILIES, default="all",
                        help="all (default): models, then linear, then the scaling plot; models: every plant of "
                             "models/ with cascade.optimize against its expected.json; "
                             "linear: fixed-flow users, cascade next to direct highspy; bilinear: "
                             "fixed-load operations with several contaminants and removal regenerators; speed: "
                             "plain HiGHS next to cascade.optimize over seeds")
    parser.add_argument("--sizes", type=int, nargs="+",
                        help=f"numbers of water users (linear and speed, default {DEFAULT_SIZES}) or of "
                             f"operations (bilinear, default {BILINEAR_SIZES})")
    parser.add_argument("--time-limit", type=float,
                        help="seconds per HiGHS solve (linear), per cascade.optimize call (bilinear) or per route "
                             f"(speed); default 60, {QUICK_TIME_LIMIT:g} with --quick")
    parser.add_argument("--gap", type=float,
                        help="mip_rel_gap: of both routes (linear and speed, default 1e-4); of every MILP of the "
                             "bilinear loop (default cascade.optimize's)")
    parser.add_argument("--contaminants", type=int, nargs="+",
                        help="contaminants K (linear: one value, default 1; bilinear: one plant per value, "
                             f"default {BILINEAR_CONTAMINANTS})")
    parser.add_argument("--regenerators", type=int, help="regenerators R (default max(1, N // 20); bilinear 1)")
    parser.add_argument("--no-pipe-binaries", action="store_true", help="linear: plants without min_flow or pipe cost")
    parser.add_argument("--objective", choices=("cost", "freshwater"),
                        help="default cost (linear), freshwater (bilinear)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the plants (linear, bilinear; default 0)")
    parser.add_argument("--seeds", type=int, nargs="+",
                        help="speed: seeds of the plants, one plant per size and seed (default 0 1 2; 0 with --quick)")
    parser.add_argument("--out", type=Path, help="output path without suffix (.md and .csv are written); default "
                                                 "benchmarks/results/<date>-<host>[-bilinear|-speed]")
    parser.add_argument("--quick", action="store_true",
                        help=f"sizes {QUICK_SIZES} (bilinear {QUICK_BILINEAR_SIZES}; speed {QUICK_SIZES}, "
                             f"seed 0), time limit {QUICK_TIME_LIMIT:g} s")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each size (default 1)")
    parser.add_argument("--no-solve", action="store_true",
                        help="linear: stop after the hand-off to HiGHS (times superstructure, build and hand-off only)")
    parser.add_argument("--in-process", action="store_true",
                        help="run everything in this process (faster start, cumulative peak memory)")
    parser.add_argument("--models", nargs="+", metavar="NAME",
                        help="models and all: these folders of models/ only (default every one)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.family in ("linear", "speed") and args.contaminants and len(args.contaminants) > 1:
        parser.error(f"the {args.family} family takes one --contaminants value")
    if args.seeds and args.family != "speed":
        parser.error("--seeds is for --family speed (the other families take --seed)")
    if args.family == "speed" and (args.repeat != 1 or args.no_solve):
        parser.error("--repeat and --no-solve do not apply to --family speed (use --seeds)")
    return args


def _linear_specs(args: argparse.Namespace, sizes, time_limit: float) -> list[dict[str, Any]]:
    return [
        {
            "n_users": n, "run": run, "n_contaminants": (args.contaminants or [1])[0],
            "n_regenerators": args.regenerators, "seed": args.seed, "pipe_binaries": not args.no_pipe_binaries,
            "objective": args.objective or "cost", "time_limit": time_limit,
            "mip_rel_gap": 1e-4 if args.gap is None else args.gap, "solve": not args.no_solve,
        }
        for n in sizes for run in range(1, args.repeat + 1)
    ]


def _bilinear_specs(args: argparse.Namespace, sizes, time_limit: float) -> list[dict[str, Any]]:
    return [
        {
            "n_operations": n, "run": run, "n_contaminants": k,
            "n_regenerators": 1 if args.regenerators is None else args.regenerators, "seed": args.seed,
            "objective": args.objective or "freshwater", "time_limit": time_limit, "mip_rel_gap": args.gap,
        }
        for n in sizes for k in (args.contaminants or BILINEAR_CONTAMINANTS) for run in range(1, args.repeat + 1)
    ]


def _linear_progress(row: dict[str, Any]) -> str:
    return (
        f"N={row['n_users']} run {row['run']}: super+build+hand-off {_fmt(row['build_to_handoff'])} s, "
        f"solve {_fmt(row['solve'], 1)} s, {row['status']} gap {_pct(row['gap'])}; "
        f"direct {_fmt(row['direct_build_to_handoff'])} s, solve {_fmt(row['direct_solve'], 1)} s, "
        f"{row['direct_status']} gap {_pct(row['direct_gap'])}; agree: {row['agree']}"
    )


def _bilinear_progress(row: dict[str, Any]) -> str:
    return (
        f"N={row['n_operations']} K={row['n_contaminants']} run {row['run']}: {row['status']} in "
        f"{_fmt(row['seconds'], 1)} s, gap {_pct(row['gap'])} after {_fmt(row['iterations'])} iterations; "
        f"to 10/1/0.1 %: {', '.join(_fmt(row[k], 2) for k in TIME_TO_GAP)}; check {_fmt(row['check_passed'])}"
    )


def _linear_failure(row: dict[str, Any]) -> str | None:
    if str(row["agree"]).startswith("NO") or row["check_passed"] is False or row["direct_check_passed"] is False:
        return (f"N={row['n_users']}: agree={row['agree']}, cascade check={row['check_passed']}, "
                f"direct check={row['direct_check_passed']}")
    return None


def _bilinear_failure(row: dict[str, Any]) -> str | None:
    if row["check_passed"] is False or row["bound_ok"] is False:
        return (f"N={row['n_operations']} K={row['n_contaminants']}: check={row['check_passed']}, "
                f"bound {row['bound']!r} <= objective {row['objective_value']!r}: {row['bound_ok']}")
    return None


def _main_speed(args: argparse.Namespace, argv: list[str] | None) -> int:
    """``--family speed``: see :mod:`benchmarks.speed`."""
    from benchmarks import speed

    sizes = args.sizes or (speed.QUICK_SPEED_SIZES if args.quick else speed.SPEED_SIZES)
    seeds = args.seeds or (speed.QUICK_SPEED_SEEDS if args.quick else speed.SPEED_SEEDS)
    time_limit = args.time_limit if args.time_limit is not None else (
        speed.QUICK_SPEED_TIME_LIMIT if args.quick else 60.0)
    specs = speed.speed_specs(
        sizes, seeds, time_limit=time_limit, mip_rel_gap=1e-4 if args.gap is None else args.gap,
        n_contaminants=(args.contaminants or [1])[0], n_regenerators=args.regenerators,
        pipe_binaries=not args.no_pipe_binaries, objective=args.objective or "cost",
    )
    command = "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:])
    return speed.main_speed(specs, args.out or default_out("speed"), command, isolated=not args.in_process)


def main(argv: list[str] | None = None) -> int:
    """Run the sweep, write the table, return 0 (all agree, all checks pass) or 1."""
    args = parse_args(argv)
    if args.worker:
        return _worker(args.worker)
    if args.family == "speed":
        return _main_speed(args, argv)
    if args.family in ("models", "all"):
        return _main_library(args, argv)
    return _main_sweep(args, argv)


def _main_library(args: argparse.Namespace, argv: list[str] | None) -> int:
    """``--family models`` (the library) and ``all`` (the library, the linear sweep and the scaling plot)."""
    from benchmarks import library

    command = "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:])
    env = environment()
    base = args.out or default_out("linear")
    limit = args.time_limit if args.time_limit is not None else (
        library.QUICK_MODEL_TIME_LIMIT if args.quick else library.MODEL_TIME_LIMIT)
    rows, out = [], base.with_name(base.name + "-models")
    for name, path in library.model_files(args.models):
        print(f"{name}: running ...", file=sys.stderr, flush=True)
        rows.append(library.measure_model(name, path, limit, isolated=not args.in_process))
        r = rows[-1]
        print(f"{name}: {r['status']} {r['objective_name']} {r['objective_value']!r} (expected {r['expected']!r}: "
              f"{r['agree']}), {r['total'] or 0:.2f} s", file=sys.stderr, flush=True)
        library.write_models(rows, env, command, out)
    md, csv_path = library.write_models(rows, env, command, out)
    print(f"wrote {md} and {csv_path}", file=sys.stderr)
    failed = [msg for msg in map(library.model_failure, rows) if msg]
    if args.family == "all":
        sweep_args = argparse.Namespace(**{**vars(args), "family": "linear", "out": base})
        code = _main_sweep(sweep_args, argv)
        sweep = list(csv.DictReader(base.with_name(base.name + ".csv").open(encoding="utf-8")))
        numeric = [{k: _number(v) for k, v in r.items()} for r in sweep]
        plot = library.scaling_plot(numeric, base.with_name(base.name + "-scaling.png"))
        if plot is not None:
            print(f"wrote {plot}", file=sys.stderr)
        failed += ["the synthetic sweep"] if code else []
    for msg in failed:
        print(f"FAILED {msg}", file=sys.stderr)
    return 1 if failed else 0


def _number(text: str) -> Any:
    """A CSV cell back as a number where it is one (None when empty)."""
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def _main_sweep(args: argparse.Namespace, argv: list[str] | None) -> int:
    """``--family linear`` and ``bilinear``: the synthetic sweeps."""
    linear = args.family == "linear"
    if linear:
        quick, default, specs_of = QUICK_SIZES, DEFAULT_SIZES, _linear_specs
        measure_one, progress, failure = measure, _linear_progress, _linear_failure
    else:
        quick, default, specs_of = QUICK_BILINEAR_SIZES, BILINEAR_SIZES, _bilinear_specs
        measure_one, progress, failure = measure_bilinear, _bilinear_progress, _bilinear_failure
    sizes = args.sizes or (quick if args.quick else default)
    time_limit = args.time_limit if args.time_limit is not None else (QUICK_TIME_LIMIT if args.quick else 60.0)
    command = "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:])
    env = environment()
    out = args.out or default_out(args.family)
    rows = []
    for spec in specs_of(args, sizes, time_limit):
        label = " ".join(f"{k}={spec[k]}" for k in ("n_users", "n_operations", "n_contaminants", "run") if k in spec)
        print(f"{label}: running ...", file=sys.stderr, flush=True)
        row = measure_one(spec, isolated=not args.in_process)
        rows.append(row)
        print(progress(row), file=sys.stderr, flush=True)
        write_results(rows, env, command, out, args.family)  # after every run, so a long sweep keeps what it measured
    md, csv_path = write_results(rows, env, command, out, args.family)
    print(f"wrote {md} and {csv_path}", file=sys.stderr)
    failed = [msg for msg in map(failure, rows) if msg]
    for msg in failed:
        print(f"FAILED {msg}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
