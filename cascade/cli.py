"""The ``cascade`` command: a thin layer over the public API.

Commands::

    cascade solve PLANT [--objective freshwater|cost] [--time-limit S] [--gap G] [--json] [--out FILE]
    cascade pareto PLANT [--x cost|freshwater|new_pipes] [--y ...] [--points N] [--json] [--csv FILE]
    cascade report PLANT --out DIR [--formats html,xlsx,md] [--industry NAME] [--objective ...] [--time-limit S]
    cascade target PLANT [--json]
    cascade reconcile PLANT READINGS [--meters FILE] [--level A] [--each] [--json] [--out FILE]
    cascade monitor PLANT PLAN READINGS [--meters FILE] [--level A] [--baseline N] [--process-rsd R]
                    [--json] [--out FILE]
    cascade validate PLANT
    cascade standards [STANDARD] [--use USE] [--json]
    cascade demo [--json]
    cascade --version

Exit codes: 0 solved (also ``feasible`` at a time limit), 2 bad input, 3 infeasible plant,
4 solver failure (including a plan that fails the independent check). Errors print one
message on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from . import __version__
from .exceptions import CascadeError, InfeasiblePlantError, PlantDataError, SolverError
from .tradeoff import MEASURES

EXIT_OK, EXIT_BAD_INPUT, EXIT_INFEASIBLE, EXIT_SOLVER = 0, 2, 3, 4


class _Parser(argparse.ArgumentParser):
    """argparse that exits with code 2 and one line, as for any bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"cascade: error: {message}\n(see 'cascade --help')\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cascade", description="Design water reuse for industrial plants.")
    parser.add_argument("--version", action="version", version=f"cascade {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    solve = sub.add_parser("solve", help="optimise a plant file and print the retrofit plan")
    solve.add_argument("plant", help="plant file (cascade-plant/1, YAML or JSON)")
    _solve_options(solve)
    solve.add_argument("--out", metavar="FILE", help="also write the plan to FILE (JSON if it ends in .json)")

    front = sub.add_parser("pareto", help="Pareto front of two measures (epsilon-constraint) of a plant file")
    front.add_argument("plant")
    front.add_argument("--x", choices=MEASURES, default="cost", help="the measure bounded (default cost)")
    front.add_argument("--y", choices=MEASURES, default="freshwater", help="the measure minimised (default freshwater)")
    front.add_argument("--points", type=int, default=7, metavar="N", help="points at most, ends included (default 7)")
    front.add_argument("--time-limit", type=float, default=60.0, metavar="S", help="seconds per solve (default 60)")
    front.add_argument("--json", action="store_true", help="print the front as JSON (each point's plan included)")
    front.add_argument("--csv", metavar="FILE", help="also write the front's table to FILE")

    demo = sub.add_parser("demo", help="solve the embedded demo food plant")
    _solve_options(demo)

    report = sub.add_parser("report",
                            help="optimise a plant file and write the retrofit report (HTML, Excel, Markdown)")
    report.add_argument("plant")
    report.add_argument("--out", required=True, metavar="DIR", help="folder for report.html, report.xlsx, report.md")
    report.add_argument("--formats", default="html,xlsx,md", metavar="LIST",
                        help="comma-separated: html, xlsx (the excel extra), md (default all three)")
    report.add_argument("--industry", default=None, metavar="NAME",
                        help="industry for the MIIT criteria (default: the plant file's industry)")
    report.add_argument("--no-figures", action="store_true", help="leave the figures out of the HTML")
    _solve_options(report)

    target = sub.add_parser("target", help="minimum fresh water by water pinch analysis (one contaminant)")
    target.add_argument("plant")
    target.add_argument("--json", action="store_true", help="print JSON")

    rec = sub.add_parser("reconcile", help="water balance test: reconcile meter readings, find leaks and bad meters")
    rec.add_argument("plant", help="plant file with today's pipes (connections.existing) and meters")
    rec.add_argument("readings", help="CSV of readings: timestamp, meter, value (the plant file's units)")
    _meter_options(rec)
    rec.add_argument("--each", action="store_true",
                     help="reconcile every timestamp (default: the mean of each meter over the period)")
    rec.add_argument("--out", metavar="FILE", help="also write the reconciled flows to FILE (CSV)")

    mon = sub.add_parser("monitor", help="compare readings with a plan and list the alarms")
    mon.add_argument("plant", help="plant file with meters")
    mon.add_argument("plan", help="the plan's JSON, as printed by 'cascade solve PLANT --json'")
    mon.add_argument("readings", help="CSV of readings: timestamp, meter, value (the plant file's units)")
    _meter_options(mon)
    mon.add_argument("--baseline", type=int, default=48, metavar="N",
                     help="timestamps that set up each meter's drift chart (default 48)")
    mon.add_argument("--process-rsd", type=float, default=0.0, metavar="R",
                     help="how much the true flows wander about the plan, a fraction (default 0)")
    mon.add_argument("--out", metavar="FILE", help="also write the alarms to FILE (CSV)")

    validate = sub.add_parser("validate", help="check a plant file and list every problem")
    validate.add_argument("plant")

    library = sub.add_parser("standards", help="list the water-quality standards shipped with cascade, or show one")
    library.add_argument("standard", nargs="?", help="a standard's id, e.g. 'GB/T 18920-2020' (quoted: it has a space)")
    library.add_argument("--use", metavar="USE", help="only this use (a column of the standard's table)")
    library.add_argument("--json", action="store_true", help="print JSON")
    return parser


def _solve_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--objective", choices=MEASURES, help="default: the plant file's objective")
    parser.add_argument("--time-limit", type=float, default=60.0, metavar="S", help="seconds (default 60)")
    parser.add_argument("--gap", type=float, default=None, metavar="G",
                        help="relative MIP gap (default: the profile's, else 1e-6)")
    parser.add_argument("--profile", default=None, metavar="NAME|FILE",
                        help="HiGHS settings: default, screening, deterministic, or a TOML file like solvers/*.toml")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")


def _meter_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--meters", metavar="FILE", help="meter table (CSV, YAML or JSON) instead of the plant's")
    parser.add_argument("--level", type=float, default=0.05, metavar="A",
                        help="statistical level of the gross-error tests (default 0.05)")
    parser.add_argument("--json", action="store_true", help="print JSON")


def _metered(args: argparse.Namespace):
    """The plant, its meters and the readings (problems with rows reported on stderr, good rows kept)."""
    from .io import read_plant
    from .metering import read_meters, read_readings

    plant = read_plant(args.plant)
    meters = read_meters(args.meters, plant) if args.meters else list(plant.meters)
    if not meters:
        raise PlantDataError(f"{args.plant} has no meters: add a 'meters:' section, or give --meters FILE")
    readings = read_readings(args.readings, meters, units=plant.units)
    for message in readings.messages():
        print(f"cascade: warning: {args.readings}: {message}", file=sys.stderr)
    if readings.rows_kept == 0:
        raise PlantDataError(f"{args.readings}: no usable readings")
    return plant, meters, readings


def _reconcile(args: argparse.Namespace) -> int:
    from .io import write_text_atomic
    from .reconcile import reconcile, reconcile_series
    from .units import factor

    plant, meters, readings = _metered(args)
    scale = 1.0 / factor("flow", plant.units["flow"])
    if args.each:
        series = reconcile_series(plant, readings, meters=meters, level=args.level)
        flows = series.flows * scale
        if args.out:
            write_text_atomic(args.out, flows.to_csv())
        if args.json:
            print(json.dumps({
                "flow_unit": plant.units["flow"],
                "tests": json.loads(series.tests.reset_index().to_json(orient="records", date_format="iso")),
                "gross_errors": json.loads(series.gross_errors.assign(
                    size=series.gross_errors["size"] * scale, sd=series.gross_errors["sd"] * scale).to_json(
                    orient="records", date_format="iso")),
                "flows": json.loads(flows.reset_index().to_json(orient="records", date_format="iso")),
            }, indent=2, ensure_ascii=False))
        else:
            tests = series.tests
            print(f"Water balance of {plant.name} at {len(tests)} timestamps: global test failed at "
                  f"{int(tests['passed'].eq(False).sum())}, gross errors accepted at "
                  f"{int((tests['errors'] > 0).sum())}")
            if not series.gross_errors.empty:
                counts = series.gross_errors.groupby(["kind", "where"]).size()
                for (kind, where), n in counts.items():
                    print(f"  {'meter' if kind == 'meter' else 'leak at'} {where}: {n} timestamp(s)")
        return EXIT_OK
    result = reconcile(plant, readings, meters=meters, level=args.level)
    if args.out:
        write_text_atomic(args.out, result.flows.assign(
            flow=result.flows["flow"] * scale, sd=result.flows["sd"] * scale,
            reference=result.flows["reference"] * scale).to_csv(index=False))
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        unit = plant.units["flow"]
        print(result.summary())
        print(f"\nWater balance table (GB/T 12452, {unit}):")
        print((result.balance_table() * scale).to_string(float_format=lambda v: f"{v:.4g}"))
        print("\nMetering coverage (GB/T 24789 levels):")
        cov = result.coverage()[["level", "scope", "coverage", "required", "meets", "meters"]]
        print(cov.to_string(index=False, float_format=lambda v: f"{v:.1%}"))
    return EXIT_OK


def _monitor(args: argparse.Namespace) -> int:
    from .io import write_text_atomic
    from .monitor import monitor

    plant, meters, readings = _metered(args)
    result = monitor(plant, args.plan, readings, meters=meters, level=args.level, baseline=args.baseline,
                     process_rsd=args.process_rsd)
    if args.out:
        write_text_atomic(args.out, result.alarms.to_csv(index=False))
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str))
    else:
        print(result.summary())
        if not result.alarms.empty:
            print(result.alarms.drop(columns=["message"]).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return EXIT_OK


def _solve(plant, args: argparse.Namespace) -> int:
    from .io import write_text_atomic
    from .optimize import optimize
    from .periods import optimize_periods

    if args.time_limit is not None and args.time_limit <= 0:
        raise PlantDataError(f"--time-limit must be positive, got {args.time_limit:g}")
    design = optimize_periods if plant.periods else optimize  # one design for every period of the file
    plan = design(plant, args.objective, time_limit=args.time_limit, mip_rel_gap=args.gap, profile=args.profile)
    text = plan.to_json() if args.json else plan.summary()
    out = getattr(args, "out", None)
    if out:
        write_text_atomic(out, plan.to_json() + "\n" if out.lower().endswith(".json") else plan.summary() + "\n")
    print(text)
    if plan.status == "error":
        print("cascade: error: the plan failed the independent check; it is not a valid design", file=sys.stderr)
        return EXIT_SOLVER
    return EXIT_OK


def _pareto(plant, args: argparse.Namespace) -> int:
    from .io import write_text_atomic
    from .tradeoff import dominated, pareto

    if args.time_limit <= 0:
        raise PlantDataError(f"--time-limit must be positive, got {args.time_limit:g}")
    front = pareto(plant, args.x, args.y, args.points, time_limit=args.time_limit)
    table = front.drop(columns="plan")
    if args.csv:
        write_text_atomic(args.csv, table.to_csv(index=False))
    if args.json:
        rows = [{**{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items() if k != "plan"},
                 "plan": row["plan"].to_dict()} for row in front.to_dict(orient="records")]
        print(json.dumps({"x": args.x, "y": args.y, "points": rows}, indent=2, default=str, ensure_ascii=False))
    else:
        print(f"Pareto front of {args.y} against {args.x} ({plant.name}): {len(front)} point(s)")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.6g}"))
    failed = (~front["check_passed"]).any() or dominated(front, args.x, args.y).any()
    if failed:
        print("cascade: error: a point failed the independent check or is dominated", file=sys.stderr)
        return EXIT_SOLVER
    return EXIT_OK


def _report(plant, args: argparse.Namespace) -> int:
    from .eligibility import INDUSTRIES
    from .optimize import optimize
    from .report import FORMATS, write_report

    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise PlantDataError(f"--formats: unknown format(s) {', '.join(unknown) or '(none given)'}; "
                             f"use {', '.join(FORMATS)}")
    if args.industry is not None and args.industry not in INDUSTRIES:
        raise PlantDataError(f"--industry {args.industry!r} is not known; use one of {', '.join(INDUSTRIES)}")
    if args.time_limit <= 0:
        raise PlantDataError(f"--time-limit must be positive, got {args.time_limit:g}")
    plan = optimize(plant, args.objective, time_limit=args.time_limit, mip_rel_gap=args.gap, profile=args.profile)
    written = write_report(plan, args.out, formats=formats, industry=args.industry, figures=not args.no_figures)
    print(plan.to_json() if args.json else plan.summary())
    for path in written.values():
        print(f"wrote {path}", file=sys.stderr)
    if plan.status == "error":
        print("cascade: error: the plan failed the independent check; it is not a valid design", file=sys.stderr)
        return EXIT_SOLVER
    return EXIT_OK


def _standards(args: argparse.Namespace) -> int:
    from . import standards

    if args.standard is None:
        if args.use is not None:
            raise PlantDataError("--use needs a standard: cascade standards STANDARD --use USE")
        if args.json:
            rows = [{"id": s.id, "year": s.year, "verification": s.verification, "title": s.title,
                     "status": s.status, "uses": list(s.uses)} for s in standards.standards()]
            print(json.dumps(rows, indent=2, ensure_ascii=False))
        else:
            print(standards.catalogue())
        return EXIT_OK
    standard = standards.get_standard(args.standard)
    if args.json:
        print(json.dumps(standard.to_dict(args.use), indent=2, ensure_ascii=False))
    else:
        print(standard.summary(args.use))
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    from .io import read_plant

    if args.command == "solve":
        return _solve(read_plant(args.plant), args)
    if args.command == "demo":
        from .examples import demo

        return _solve(demo(), args)
    if args.command == "report":
        return _report(read_plant(args.plant), args)
    if args.command == "pareto":
        return _pareto(read_plant(args.plant), args)
    if args.command == "target":
        from .targeting import target

        result = target(read_plant(args.plant))
        print(json.dumps(result.to_dict(), indent=2) if args.json else result.summary())
        return EXIT_OK
    if args.command == "standards":
        return _standards(args)
    if args.command == "reconcile":
        return _reconcile(args)
    if args.command == "monitor":
        return _monitor(args)
    if args.command == "validate":
        plant = read_plant(args.plant, validate=False)
        report = plant.validate()
        print(report)
        if report.errors:
            print(f"cascade: error: {len(report.errors)} problem(s) in {args.plant}", file=sys.stderr)
            return EXIT_BAD_INPUT
        return EXIT_OK
    _parser().print_help()
    return EXIT_BAD_INPUT


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (also used as the console entry point)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as stop:  # --help, --version and argument errors end here
        return stop.code if isinstance(stop.code, int) else EXIT_OK
    try:
        return _run(args)
    except InfeasiblePlantError as exc:
        print(f"cascade: infeasible: {exc}", file=sys.stderr)
        return EXIT_INFEASIBLE
    except PlantDataError as exc:
        print(f"cascade: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SolverError as exc:
        print(f"cascade: solver failure: {exc}", file=sys.stderr)
        return EXIT_SOLVER
    except CascadeError as exc:
        print(f"cascade: error: {exc}", file=sys.stderr)
        return EXIT_SOLVER
    except OSError as exc:
        print(f"cascade: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
