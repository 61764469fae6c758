"""Family ``models``: every plant of the sample library ``models/`` solved by ``cascade.optimize``.

For each folder (its ``plant.yaml``, or ``park.yaml`` for a park) one fresh process reads the plant
and runs :func:`cascade.optimize` with the plant's own objective. The row records the phases
``cascade.optimize`` times itself (validate, superstructure, build, hand-off, HiGHS, tie-break,
check and extract), the model size, the status, objective, bound and gap, the independent check,
the peak memory of the process, and the objective against ``expected.json`` (published or computed
by the project): ``agree`` is ``yes`` when a proven optimum is within the file's tolerance,
``within gap`` when a stopped search is no better than the expected optimum and its bound no higher,
and ``NO ...`` otherwise.

:func:`scaling_plot` draws the synthetic sweep's times per phase against the number of users
(log-log), one line per phase, for the README's scaling figure.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from benchmarks.run import ROOT, _fmt, _header, _pct, _peak_rss_mb, run_isolated, write_table

MODELS = ROOT / "models"
#: Phases of ``plan.solve["times"]``, in order (seconds).
PHASES = ("validate", "superstructure", "build", "handoff", "highs", "tie_break", "check_and_extract")
#: Every column of the models family, in order.
MODEL_COLUMNS = (
    "model", "objective_name", "source", "expected", "objective_value", "bound", "gap", "status", "agree",
    "check_passed", "columns", "rows", "nonzeros", "integer_columns", "read", *PHASES, "total", "peak_rss_mb",
    "time_limit", "isolated", "error",
)
#: Seconds per model in a full run and with --quick.
MODEL_TIME_LIMIT = 120.0
QUICK_MODEL_TIME_LIMIT = 10.0


def model_files(names: list[str] | None = None) -> list[tuple[str, Path]]:
    """The library's plant files (folder name, path), sorted; ``names`` picks folders (unknown ones raise)."""
    found = {}
    for folder in sorted(p for p in MODELS.iterdir() if p.is_dir()):
        path = folder / "park.yaml" if (folder / "park.yaml").is_file() else folder / "plant.yaml"
        if path.is_file():
            found[folder.name] = path
    if names:
        unknown = [n for n in names if n not in found]
        if unknown:
            raise SystemExit(f"unknown model(s) {', '.join(unknown)}; the library has {', '.join(found)}")
        return [(n, found[n]) for n in names]
    return list(found.items())


def run_model(spec: dict[str, Any]) -> dict[str, Any]:
    """Solve one library plant with ``cascade.optimize``; never raises for a solver stop."""
    import cascade

    out: dict[str, Any] = {}
    tick = time.perf_counter()
    plant = cascade.read_plant(spec["path"], validate=False)
    out["read"] = time.perf_counter() - tick
    tick = time.perf_counter()
    plan = cascade.optimize(plant, time_limit=spec["time_limit"])
    out["total"] = time.perf_counter() - tick + out["read"]
    times = plan.solve.get("times", {})
    out.update({phase: times.get(phase) for phase in PHASES})
    out.update({k: plan.solve.get("size", {}).get(k) for k in ("columns", "rows", "nonzeros", "integer_columns")})
    out.update(objective_name=plan.objective_name, objective_value=plan.objective, bound=plan.bound, gap=plan.gap,
               status=plan.status, check_passed=plan.check.passed, peak_rss_mb=_peak_rss_mb())
    return out


def agreement(row: dict[str, Any], expected: dict[str, Any]) -> str:
    """'yes', 'within gap', 'n/a' or 'NO ...': the plan against ``expected.json`` (see the module notes)."""
    key = row.get("objective_name")
    value, target = row.get("objective_value"), expected.get(key) if key else None
    if value is None or target is None or expected.get("objective", key) != key:
        return "n/a"
    slack = expected["tolerance"] * max(1.0, abs(target))
    if row["status"] == "optimal":
        return "yes" if abs(value - target) <= slack else f"NO: {value!r} vs {target!r}"
    bound = row.get("bound")
    if value >= target - slack and (bound is None or bound <= target + slack):
        return "within gap"
    return f"NO: plan {value!r}, bound {bound!r} vs {target!r}"


def measure_model(name: str, path: Path, time_limit: float, *, isolated: bool = True) -> dict[str, Any]:
    """One library plant; returns one row (every key of :data:`MODEL_COLUMNS`, None where not measured)."""
    row: dict[str, Any] = dict.fromkeys(MODEL_COLUMNS)
    spec = {"path": str(path), "time_limit": time_limit}
    got = run_isolated("model", spec, 600.0 + 3.0 * time_limit) if isolated else run_model(spec)
    row.update({k: v for k, v in got.items() if k in row})
    expected_file = path.parent / "expected.json"
    expected = json.loads(expected_file.read_text(encoding="utf-8")) if expected_file.is_file() else {}
    row.update(model=name, source=expected.get("source"), time_limit=time_limit, isolated=isolated)
    if row["objective_name"]:
        row["expected"] = expected.get(row["objective_name"])
    row["agree"] = agreement(row, expected) if row["status"] in ("optimal", "feasible") else "n/a"
    return row


def markdown_models(rows: list[dict[str, Any]], env: dict[str, str], command: str) -> str:
    """The models family as Markdown: environment, then one row per plant."""
    lines = [
        *_header(rows, env, command, "cascade benchmark: the sample plant library", "plant", "plant"),
        "Objective as the plant file asks (cost in money/yr, fresh water in the file's flow unit). `expected`: "
        "`expected.json` (published: from the literature; computed: by this project, on purpose).",
        "",
        "| model | objective | source | expected | obtained | bound | gap | status | agree | check | columns | rows "
        "| binaries | read | validate | superstructure | build | hand-off | HiGHS | tie-break | check+extract "
        "| total | peak MB |",
        "|---|---|---|---:|---:|---:|---:|---|---|---|" + "---:|" * 13,
    ]
    for r in rows:
        lines.append("| " + " | ".join([
            _fmt(r["model"]), _fmt(r["objective_name"]), _fmt(r["source"]), _fmt(r["expected"], 4),
            _fmt(r["objective_value"], 4), _fmt(r["bound"], 4), _pct(r["gap"]), _fmt(r["status"]), _fmt(r["agree"]),
            _fmt(r["check_passed"]), _fmt(r["columns"]), _fmt(r["rows"]), _fmt(r["integer_columns"]),
            *(_fmt(r[k]) for k in ("read", *PHASES, "total")), _fmt(r["peak_rss_mb"], 0),
        ]) + " |")
    errors = [(r["model"], r["error"]) for r in rows if r.get("error")]
    if errors:
        lines += ["", "## errors", ""] + [f"* {m}: {msg}" for m, msg in errors]
    return "\n".join(lines) + "\n"


def write_models(rows: list[dict[str, Any]], env: dict[str, str], command: str, out: Path) -> tuple[Path, Path]:
    """Write ``out`` with suffixes ``.md`` and ``.csv``; return both paths."""
    return write_table(rows, markdown_models(rows, env, command), MODEL_COLUMNS, out)


def model_failure(row: dict[str, Any]) -> str | None:
    """Why a row fails the run (a plan that fails the check or disagrees with expected.json), or None."""
    if row["status"] not in ("optimal", "feasible"):
        return f"{row['model']}: status {row['status']} ({row.get('error') or 'no plan'})"
    if not row["check_passed"]:
        return f"{row['model']}: the plan fails the independent check"
    if str(row["agree"]).startswith("NO"):
        return f"{row['model']}: {row['agree']}"
    return None


def scaling_plot(rows: list[dict[str, Any]], path: Path) -> Path | None:
    """Times per phase of the synthetic sweep against N (log-log), as PNG; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    phases = {"superstructure": "superstructure", "build": "Pyomo build", "handoff": "hand-off to HiGHS",
              "solve": "HiGHS solve", "extract": "check and extract", "direct_solve": "HiGHS solve (direct highspy)"}
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for key, label in phases.items():
        points = sorted((r["n_users"], r[key]) for r in rows if r.get(key) is not None and r[key] > 0)
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("water users N (a sink and a source each)")
    ax.set_ylabel("seconds")
    limit = next((r["time_limit"] for r in rows if r.get("time_limit")), None)
    ax.set_title("cascade: time per phase against plant size" + (f" (solve limit {limit:g} s)" if limit else ""))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
