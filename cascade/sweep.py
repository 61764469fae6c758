"""Scenario sweeps: one plant, many variants (prices, loads, limits, availabilities), one table of results.

A scenario is a mapping of **changes** written as dotted paths into the plant file
(``docs/plant-format.md``): ``"<table>.<unit id>.<field>[.<contaminant>]"`` for a unit, e.g.
``"freshwater.FW.price"``, ``"sinks.boiler.flow"``, ``"sinks.boiler.max.COD"``,
``"operations.OP1.load.C"``, or a top-level path such as ``"hours_per_year"`` or
``"connections.min_flow"``. Values are in the plant file's units. Each scenario is applied to a
copy of the plant (through :func:`cascade.io.plant_to_dict` and
:func:`cascade.io.plant_from_dict`, so it is validated like a file) and optimised.

:func:`sweep` runs the scenarios one after another, or on any :class:`concurrent.futures.Executor`
(``ProcessPoolExecutor``, or a ``dask.distributed`` cluster: pass the ``Client`` itself or
``client.get_executor()``; the ``dask`` extra). A scenario that fails (bad change, infeasible
variant, solver failure) gives a row with its ``error``; the others are never lost.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import Executor, as_completed
from typing import Any

import pandas as pd

from .exceptions import CascadeError, PlantDataError
from .io import plant_from_dict, plant_to_dict, read_plant
from .plant import Plant

#: Tables of the plant file whose entries are units with an ``id``.
UNIT_TABLES = ("freshwater", "sinks", "sources", "operations", "regenerators", "discharges")
#: Result columns of every row, after ``scenario`` and the changed paths.
RESULT_COLUMNS = (
    "status", "objective", "bound", "gap", "freshwater", "wastewater", "regenerated", "cost_per_year",
    "freshwater_saved_pct", "new_pipes", "check_passed", "seconds", "error",
)


def apply_changes(plant: Plant, changes: Mapping[str, Any]) -> Plant:
    """A copy of ``plant`` with ``changes`` (dotted paths, see the module notes) applied and validated.

    Raises
    ------
    PlantDataError
        A path that names no table, unit or field, or a changed plant that is not valid.

    Examples
    --------
    >>> import cascade
    >>> p = apply_changes(cascade.examples.wang_smith(), {"operations.OP1.load.C": 3})
    >>> p.to_dict()["operations"][0]["load"]
    {'C': 3}
    """
    data = copy.deepcopy(plant_to_dict(plant))
    for path, value in changes.items():
        _set(data, str(path), value)
    return read_plant(data)  # read and validated like a plant file


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    if parts[0] in UNIT_TABLES:
        if len(parts) < 3:
            raise PlantDataError(f"change {path!r}: give <table>.<unit id>.<field>")
        units = data.get(parts[0]) or []
        unit = next((u for u in units if str(u.get("id")) == parts[1]), None)
        if unit is None:
            known = ", ".join(str(u.get("id")) for u in units) or "none"
            raise PlantDataError(f"change {path!r}: {parts[0]} has no unit {parts[1]!r} (it has {known})")
        target, keys = unit, parts[2:]
    else:
        target, keys = data, parts
    for key in keys[:-1]:
        if not isinstance(target.get(key), dict):
            target[key] = {} if key not in target else _not_a_table(path, key)
        target = target[key]
    target[keys[-1]] = value


def _not_a_table(path: str, key: str) -> dict:
    raise PlantDataError(f"change {path!r}: {key!r} holds a value, not a table of fields")


def scenarios_of(scenarios: Iterable[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]] | pd.DataFrame):
    """``(name, changes)`` pairs from a list of mappings, a mapping of name to changes, or a DataFrame
    (one row per scenario, one column per path; NaN cells are left unchanged)."""
    if isinstance(scenarios, pd.DataFrame):
        return [
            (str(name), {k: v for k, v in row.items() if not (isinstance(v, float) and v != v)})
            for name, row in scenarios.iterrows()
        ]
    if isinstance(scenarios, Mapping):
        return [(str(name), dict(changes)) for name, changes in scenarios.items()]
    return [(str(i), dict(changes)) for i, changes in enumerate(scenarios)]


def run_scenario(plant_data: Mapping[str, Any], changes: Mapping[str, Any], options: Mapping[str, Any]) -> dict:
    """Apply ``changes`` to the plant (as its file dict), optimise it, return one result row.

    Never raises for a failure of the scenario itself: the row's ``error`` says what went wrong.
    A module-level function, so any executor (processes, dask workers) can run it.
    """
    from .optimize import optimize

    start = time.perf_counter()
    row: dict[str, Any] = dict.fromkeys(RESULT_COLUMNS)
    try:
        plant = apply_changes(plant_from_dict(plant_data, label="sweep plant"), changes)
        plan = optimize(plant, **options)
    except CascadeError as exc:
        row.update(status="failed", error=f"{type(exc).__name__}: {exc}")
    else:
        row.update(
            status=plan.status, objective=plan.objective, bound=plan.bound, gap=plan.gap,
            freshwater=plan.freshwater, wastewater=plan.wastewater, regenerated=plan.regenerated,
            cost_per_year=plan.costs["total"], freshwater_saved_pct=plan.savings["freshwater_pct"],
            new_pipes=len(plan.new_pipes), check_passed=plan.check.passed,
        )
    row["seconds"] = time.perf_counter() - start
    return row


def sweep(
    plant: Plant,
    scenarios: Iterable[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]] | pd.DataFrame,
    *,
    executor: Executor | Any | None = None,
    progress: bool = False,
    **options: Any,
) -> pd.DataFrame:
    """Optimise every scenario of a plant and return one row per scenario.

    Parameters
    ----------
    plant : Plant
        The base plant (never modified).
    scenarios : list of mappings, mapping of name -> mapping, or DataFrame
        The changes of each scenario (module notes). A list names its scenarios 0, 1, ...
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Where to run them; None runs them here, one after another.
    progress : bool, default False
        Show a progress bar (the ``progress`` extra: tqdm).
    **options
        Passed to :func:`cascade.optimize` (``objective``, ``time_limit``, ``profile``, ...).

    Returns
    -------
    pandas.DataFrame
        Index ``scenario``; one column per changed path, then :data:`RESULT_COLUMNS`. Rows are in
        the order of ``scenarios`` whatever order they finish in.

    Examples
    --------
    >>> import cascade
    >>> table = sweep(cascade.examples.wang_smith(), [{"operations.OP3.load.C": 30}, {"operations.OP3.load.C": 20}])
    >>> table["freshwater"].round(3).tolist()
    [90.0, 83.333]
    """
    pairs = scenarios_of(scenarios)
    data = plant_to_dict(plant)
    if hasattr(executor, "get_executor"):  # a dask.distributed Client
        executor = executor.get_executor()
    bar = _bar(len(pairs)) if progress else None
    rows: list[dict[str, Any]] = [{} for _ in pairs]
    try:
        if executor is None:
            for n, (_, changes) in enumerate(pairs):
                rows[n] = run_scenario(data, changes, options)
                if bar is not None:
                    bar.update(1)
        else:
            futures = {executor.submit(run_scenario, data, changes, options): n for n, (_, changes) in enumerate(pairs)}
            for future in as_completed(futures):
                n = futures[future]
                try:
                    rows[n] = future.result()
                except Exception as exc:  # noqa: BLE001 - a worker lost or a pickling failure: that row only
                    failed = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
                    rows[n] = {**dict.fromkeys(RESULT_COLUMNS), **failed}
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    paths = list(dict.fromkeys(path for _, changes in pairs for path in changes))
    table = pd.DataFrame(
        [{**{p: changes.get(p) for p in paths}, **row} for (_, changes), row in zip(pairs, rows, strict=True)],
        index=pd.Index([name for name, _ in pairs], name="scenario"),
    )
    return table[paths + list(RESULT_COLUMNS)]


def _bar(total: int):
    try:
        from tqdm.auto import tqdm
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("a progress bar needs tqdm: pip install 'cascade-water[progress]'") from exc
    return tqdm(total=total, desc="scenarios", unit="scenario")


__all__ = ["sweep", "apply_changes", "run_scenario", "scenarios_of", "RESULT_COLUMNS"]
