"""Scenario sweeps: changes by plant-file path, serial and distributed runs, failures kept per row.

Oracle: the pinch target (cascade.target) of each changed single-contaminant plant, an independent
method, and the serial run for the distributed ones.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import pandas as pd
import pytest

import cascade
from cascade.sweep import RESULT_COLUMNS, apply_changes, sweep

BASE = cascade.examples.wang_smith()


def test_changes_reach_nested_fields_and_the_top_level():
    plant = apply_changes(BASE, {"operations.OP2.max_inlet.C": 20, "freshwater.FW.price": 3.5,
                                 "hours_per_year": 7200})
    data = plant.to_dict()
    assert data["operations"][1]["max_inlet"] == {"C": 20}
    assert data["freshwater"][0]["price"] == 3.5 and data["hours_per_year"] == 7200
    assert BASE.to_dict()["operations"][1]["max_inlet"] == {"C": 50}  # the base plant is untouched


@pytest.mark.parametrize(("changes", "words"), [
    ({"operations.OP9.load.C": 1}, "operations has no unit 'OP9' (it has OP1, OP2, OP3, OP4)"),
    ({"operations.OP1": 1}, "give <table>.<unit id>.<field>"),
    ({"operations.OP1.load.C.x": 1}, "'C' holds a value, not a table"),
    ({"operations.OP1.load.C": -2}, "OP1"),
    ({"colour": "blue"}, "colour"),
])
def test_bad_changes_are_refused_by_name(changes, words):
    with pytest.raises(cascade.PlantDataError) as info:
        apply_changes(BASE, changes)
    assert words in str(info.value)


def _load_grid(n: int) -> list[dict]:
    return [{"operations.OP3.load.C": 10 + 30 * k / (n - 1), "operations.OP4.load.C": 2 + (k % 5)} for k in range(n)]


def test_serial_sweep_matches_the_pinch_target_and_keeps_failures():
    scenarios = {f"s{k}": c for k, c in enumerate(_load_grid(6))}
    scenarios["bad"] = {"operations.OP1.max_inlet.C": -1}  # invalid: refused, its row says why
    table = sweep(BASE, scenarios, progress=True)
    assert list(table.index) == [*(f"s{k}" for k in range(6)), "bad"]
    assert list(table.columns) == ["operations.OP3.load.C", "operations.OP4.load.C", "operations.OP1.max_inlet.C",
                                   *RESULT_COLUMNS]
    assert table.loc["bad", "status"] == "failed" and "PlantDataError" in table.loc["bad", "error"]
    ok = table.drop(index="bad")
    assert (ok["status"] == "optimal").all() and ok["check_passed"].all() and ok["error"].isna().all()
    for name, row in ok.iterrows():
        target = cascade.target(apply_changes(BASE, scenarios[name]))
        assert row["freshwater"] == pytest.approx(target.freshwater, rel=1e-6)


def test_dataframe_scenarios_and_a_process_pool_give_the_serial_results():
    frame = pd.DataFrame(_load_grid(8), index=[f"v{k}" for k in range(8)])
    serial = sweep(BASE, frame)  # HiGHS has run here before the pool forks: its children must not hang
    with ProcessPoolExecutor(max_workers=2) as pool:
        parallel = sweep(BASE, frame, executor=pool)
    pd.testing.assert_frame_equal(serial.drop(columns="seconds"), parallel.drop(columns="seconds"))


def test_two_hundred_scenarios_on_a_local_dask_cluster_match_the_serial_run():
    distributed = pytest.importorskip("distributed")
    scenarios = _load_grid(200)
    serial = sweep(BASE, scenarios, time_limit=30)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        table = sweep(BASE, scenarios, executor=client, time_limit=30)
    assert len(table) == 200 and (table["status"] == "optimal").all() and table["check_passed"].all()
    pd.testing.assert_frame_equal(serial.drop(columns="seconds"), table.drop(columns="seconds"))
