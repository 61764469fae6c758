"""The benchmark sweep: time every phase of the pipeline on synthetic plants, next to direct highspy.

For each size N the same seeded plant (:func:`benchmarks.generator.synthetic_plant`) goes through
two routes, each in a fresh Python process by default (so a crash, a stall or the memory of one
run never affects another, and ``ru_maxrss`` is the peak of that route alone):

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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_SIZES = (10, 30, 100, 300)
QUICK_SIZES = (10, 30)
QUICK_TIME_LIMIT = 5.0

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


ROUTES = {"cascade": run_cascade, "direct": run_direct}


def run_isolated(route: str, spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run one route in a fresh ``python -m benchmarks --worker`` process; a crash or timeout is recorded."""
    prefix = "" if route == "cascade" else "direct_"
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
        prefix = "" if route == "cascade" else "direct_"
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


# ---------------------------------------------------------------------- output
def environment() -> dict[str, str]:
    """Date, machine and package versions for the results header."""
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


def markdown(rows: list[dict[str, Any]], env: dict[str, str], command: str) -> str:
    """The results as Markdown: environment, cascade phases, direct highspy phases, agreement."""
    lines = [
        "# cascade benchmark results",
        "",
        f"* date: {env['date']}",
        f"* machine: {env['host']}, {env['cpus']} CPUs, {env['platform']} ({env['processor']})",
        f"* Python {env['python']}, highspy {env['highspy']}, Pyomo {env['pyomo']}, networkx {env['networkx']}, "
        f"numpy {env['numpy']}, pandas {env['pandas']}",
        f"* command: `{command}`",
        "* times in seconds (`time.perf_counter`); peak memory = `ru_maxrss` of the process that ran the route"
        + (" (one fresh process per route and size)" if rows and rows[0]["isolated"] else
           " (one process for the whole sweep: cumulative)"),
        "",
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


def write_results(rows: list[dict[str, Any]], env: dict[str, str], command: str, out: Path) -> tuple[Path, Path]:
    """Write ``out`` with suffixes ``.md`` and ``.csv``; return both paths."""
    base = out.with_suffix("") if out.suffix in (".md", ".csv") else out
    md, csv_path = base.with_name(base.name + ".md"), base.with_name(base.name + ".csv")
    md.parent.mkdir(parents=True, exist_ok=True)
    md.write_text(markdown(rows, env, command), encoding="utf-8")
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMNS))
        writer.writeheader()
        for r in rows:
            writer.writerow({k: "" if r[k] is None else r[k] for k in COLUMNS})
    return md, csv_path


def default_out() -> Path:
    host = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in socket.gethostname())[:30] or "host"
    return RESULTS / f"{dt.date.today().isoformat()}-{host}"


# ---------------------------------------------------------------------- CLI
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time superstructure, Pyomo build, hand-off, HiGHS solve and plan extraction on synthetic "
                    "plants, next to the same MILP written directly in highspy.",
    )
    parser.add_argument("--sizes", type=int, nargs="+", help=f"numbers of water users (default {DEFAULT_SIZES})")
    parser.add_argument("--time-limit", type=float, help="seconds per HiGHS solve (default 60; 5 with --quick)")
    parser.add_argument("--gap", type=float, default=1e-4, help="mip_rel_gap of both routes (default 1e-4)")
    parser.add_argument("--contaminants", type=int, default=1, help="contaminants K (default 1)")
    parser.add_argument("--regenerators", type=int, help="regenerators R (default max(1, N // 20))")
    parser.add_argument("--no-pipe-binaries", action="store_true", help="plants without min_flow or pipe cost")
    parser.add_argument("--objective", choices=("cost", "freshwater"), default="cost")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="output path without suffix (.md and .csv are written); default "
                                                 "benchmarks/results/<date>-<host>")
    parser.add_argument("--quick", action="store_true", help=f"sizes {QUICK_SIZES}, time limit {QUICK_TIME_LIMIT:g} s")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each size (default 1)")
    parser.add_argument("--no-solve", action="store_true",
                        help="stop after the hand-off to HiGHS (times superstructure, build and hand-off only)")
    parser.add_argument("--in-process", action="store_true",
                        help="run every route in this process (faster start, cumulative peak memory)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the sweep, write the table, return 0 (all agree, all checks pass) or 1."""
    args = parse_args(argv)
    if args.worker:
        return _worker(args.worker)
    sizes = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    time_limit = args.time_limit if args.time_limit is not None else (QUICK_TIME_LIMIT if args.quick else 60.0)
    command = "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:])
    env = environment()
    out = args.out or default_out()
    rows = []
    for n, run in ((n, run) for n in sizes for run in range(1, args.repeat + 1)):
        spec = {
            "n_users": n, "run": run, "n_contaminants": args.contaminants, "n_regenerators": args.regenerators,
            "seed": args.seed, "pipe_binaries": not args.no_pipe_binaries, "objective": args.objective,
            "time_limit": time_limit, "mip_rel_gap": args.gap, "solve": not args.no_solve,
        }
        print(f"N={n} run {run}: running ...", file=sys.stderr, flush=True)
        row = measure(spec, isolated=not args.in_process)
        rows.append(row)
        print(
            f"N={n} run {run}: super+build+hand-off {_fmt(row['build_to_handoff'])} s, "
            f"solve {_fmt(row['solve'], 1)} s, {row['status']} gap {_pct(row['gap'])}; "
            f"direct {_fmt(row['direct_build_to_handoff'])} s, solve {_fmt(row['direct_solve'], 1)} s, "
            f"{row['direct_status']} gap {_pct(row['direct_gap'])}; agree: {row['agree']}",
            file=sys.stderr, flush=True,
        )
        write_results(rows, env, command, out)  # after every run, so a long sweep keeps what it measured
    md, csv_path = write_results(rows, env, command, out)
    print(f"wrote {md} and {csv_path}", file=sys.stderr)
    failed = [r for r in rows if str(r["agree"]).startswith("NO") or r["check_passed"] is False
              or r["direct_check_passed"] is False]
    for r in failed:
        print(f"FAILED N={r['n_users']}: agree={r['agree']}, cascade check={r['check_passed']}, "
              f"direct check={r['direct_check_passed']}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
