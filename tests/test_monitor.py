"""Monitoring a plan with synthetic meter data (cascade.monitor).

The plant: fresh water W, two process units (sink s1 and source r1 in u1, sink s2 and source r2 in
u2), an operation op and a discharge D; eight pipes, ten flow meters (relative standard deviation 1 or
2 %) and two COD analysers: A1 at the inlet of s2 (limit 50 ppm, about 9 ppm today) and A2 at the
outlet of r2 (design 100 ppm). With these meters the balances of W, op and D are redundant; a bias
of M6 (W -> op) and a leak at op each have a signature of their own.
"""

from __future__ import annotations

import json
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import cascade
from cascade import Plant, PlantDataError
from cascade.metering import Meter
from cascade.monitor import (
    ALARM,
    ALARM_COLUMNS,
    WARNING,
    _ewma_chart,
    _runs,
    monitor,
    plan_flows,
)
from cascade.reconcile import BalanceTest

PLAN = {("W", "s1"): 7.0, ("r2", "s1"): 3.0, ("W", "s2"): 14.0, ("r1", "s2"): 6.0, ("r1", "D"): 2.0,
        ("r2", "D"): 12.0, ("W", "op"): 5.0, ("op", "D"): 5.0}
FLOW_METERS = [
    Meter("M1", "W", rsd=0.01), Meter("M2", ("W", "s1"), rsd=0.02), Meter("M3", ("W", "s2"), rsd=0.02),
    Meter("M4", ("r1", "s2"), rsd=0.02), Meter("M5", "D", rsd=0.01), Meter("M6", ("W", "op"), rsd=0.02),
    Meter("M7", ("op", "D"), rsd=0.02), Meter("M8", ("r2", "D"), rsd=0.02), Meter("M9", "r1", rsd=0.02),
    Meter("M10", ("r2", "s1"), rsd=0.02),
]
# readings() draws a new error for every reading: all of each meter's error is random
METERS = [replace(m, repeatability=m.rsd) for m in FLOW_METERS] + [
    Meter("A1", "s2", quantity="COD", sd=1.0), Meter("A2", "r2", quantity="COD", sd=2.0),
]
START = pd.Timestamp("2026-03-01")


def micro(units: dict | None = None) -> Plant:
    p = Plant("micro", ["COD"], units=units)
    p.add_freshwater("W", {"COD": 0})
    p.add_sink("s1", 10, {"COD": 50}, unit="u1")
    p.add_source("r1", 8, {"COD": 30}, unit="u1")
    p.add_sink("s2", 20, {"COD": 50}, unit="u2")
    p.add_source("r2", 15, {"COD": 100}, unit="u2")
    p.add_operation("op", {"COD": 0.1}, max_inlet={"COD": 10}, max_outlet={"COD": 100})
    p.add_discharge("D")
    for (a, b), q in PLAN.items():
        p.add_existing(a, b, q)
    return p


def true_readings(pipes: dict) -> dict[str, float]:
    """What each flow meter reads without error, for the true pipe flows ``pipes``."""
    out = {m.id: pipes[m.at] for m in METERS if m.is_flow and m.on_pipe}
    out["M1"] = sum(q for (a, _), q in pipes.items() if a == "W")
    out["M9"] = sum(q for (a, _), q in pipes.items() if a == "r1")
    out["M5"] = sum(q for (_, b), q in pipes.items() if b == "D")
    return out


def readings(seed: int, n: int = 200, truth: list[dict] | None = None) -> pd.DataFrame:
    """Readings with each meter's standard deviation; ``truth[k]`` the true flows at timestamp k."""
    rng = np.random.default_rng(seed)
    truth = truth or [PLAN] * n
    exact = pd.DataFrame([true_readings(t) for t in truth])
    frame = pd.DataFrame(index=pd.date_range(START, periods=n, freq="h"))
    for m in METERS:
        if m.is_flow:
            frame[m.id] = exact[m.id].to_numpy() * (1 + m.rsd * rng.normal(size=n))
    frame["A1"] = 9.0 + rng.normal(size=n)
    frame["A2"] = 100.0 + 2.0 * rng.normal(size=n)
    return frame


def hour(k: int) -> pd.Timestamp:
    return START + pd.Timedelta(hours=k)


# ----------------------------------------------------------------------------- plan_flows
@pytest.fixture(scope="module")
def plan():
    return cascade.optimize(micro())


def test_plan_flows_from_a_plan_in_t_per_h_and_kg_per_s(plan):
    flows = plan_flows(plan, micro())
    expected = {(a, b): q for a, b, q in plan.flows[["from", "to", "flow"]].itertuples(index=False) if q > 0}
    assert flows == pytest.approx(expected)
    in_kg_per_s = cascade.optimize(micro({"flow": "kg/s"}))
    assert in_kg_per_s.flows["flow"].sum() == pytest.approx(plan.flows["flow"].sum() / 3.6)
    assert plan_flows(in_kg_per_s, micro()) == pytest.approx(flows)  # back in t/h


def test_plan_flows_from_a_mapping_drops_zero_flows():
    assert plan_flows({("W", "s1"): 5, ("W", "s2"): 0.0}, micro()) == {("W", "s1"): 5.0}
    with pytest.raises(PlantDataError, match="W -> s2 is -1.0"):
        plan_flows({("W", "s1"): 5, ("W", "s2"): -1.0}, micro())


def test_plan_flows_from_json(plan, tmp_path):
    solved = tmp_path / "plan.json"
    solved.write_text(plan.to_json(), encoding="utf-8")  # what `cascade solve PLANT --json` prints
    assert plan_flows(solved, micro()) == pytest.approx(plan_flows(plan, micro()))
    m3 = tmp_path / "m3.json"
    m3.write_text(json.dumps({"units": {"flow": "m3/h"}, "flows": [{"from": "W", "to": "s1", "flow": 7.5},
                                                                   {"from": "r2", "to": "s1", "flow": 0}]}))
    assert plan_flows(str(m3), micro()) == {("W", "s1"): 7.5}
    no_units = tmp_path / "kgs.json"  # no units in the file: the plant's flow unit
    no_units.write_text(json.dumps({"flows": [{"from": "W", "to": "s1", "flow": 2.0}]}))
    assert plan_flows(no_units, micro({"flow": "kg/s"})) == pytest.approx({("W", "s1"): 7.2})


def test_plan_flows_errors(tmp_path):
    missing = tmp_path / "nowhere.json"
    with pytest.raises(PlantDataError, match=r"plan file .*nowhere\.json: no such file"):
        plan_flows(missing, micro())
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"plant": "micro", "status": "optimal"}))
    with pytest.raises(PlantDataError, match=r"plan file .*empty\.json: no list of 'flows'"):
        plan_flows(empty, micro())
    broken = tmp_path / "broken.json"
    broken.write_text("{flows: ")
    with pytest.raises(PlantDataError, match=r"broken\.json: not JSON"):
        plan_flows(broken, micro())


# ----------------------------------------------------------------------------- the charts
def test_ewma_limits_are_the_textbook_ones_for_a_constant_sigma():
    lam, width, sigma = 0.2, 3.0, 0.5
    x = pd.Series([10.0, np.nan, 10.4, 9.8, 10.1])
    zero, const = pd.Series(0.0, index=x.index), pd.Series(sigma, index=x.index)
    steps = np.array([1, 1, 2, 3, 4])  # the NaN is skipped: no update, no reset
    # random errors only: Lucas & Saccucci's limits
    z, half = _ewma_chart(x, zero, const, 10.0, lam, width, 0.0)
    textbook = width * sigma * np.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * steps)))
    assert half == pytest.approx(textbook)
    assert z[2] == pytest.approx(0.2 * 10.4 + 0.8 * 10.0)
    assert z[1] == z[0]
    # a systematic error does not average out: the limits open to L sigma
    _, half = _ewma_chart(x, const, zero, 10.0, lam, width, 0.0)
    assert half == pytest.approx(width * sigma * (1 - (1 - lam) ** steps))
    # both parts and a process variability add as variances
    _, half = _ewma_chart(x, const, const, 10.0, lam, width, 0.01)
    random = sigma**2 + (0.01 * 10.0) ** 2
    expected = width * np.sqrt((sigma * (1 - (1 - lam) ** steps)) ** 2
                               + random * lam / (2 - lam) * (1 - (1 - lam) ** (2 * steps)))
    assert half == pytest.approx(expected)


def test_runs():
    assert _runs([None, ALARM, ALARM, WARNING, None, ALARM]) == [(ALARM, 1, 2), (WARNING, 3, 3), (ALARM, 5, 5)]


# ----------------------------------------------------------------------------- in control
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_in_control_no_alarm_and_few_warnings(seed):
    result = monitor(micro(), PLAN, readings(seed), meters=METERS)
    alarms = result.alarms
    assert list(alarms.columns) == ALARM_COLUMNS
    assert (alarms["severity"] == ALARM).sum() == 0, alarms.to_string()
    # Expected false warnings in 200 timestamps: EWMA (lambda 0.2, L 3: ARL0 ~ 500) on 8 pipes ~ 3.2,
    # CUSUM (k 0.5, h 5: ARL0 ~ 465 with known parameters, shorter with a baseline of 48) on 4 groups of
    # parallel meters: 2.6 measured over seeds 0-29, A2 above design + 3 sd ~ 0.3, gross errors (3 findings
    # close together) ~ 0: about 6; seeds 0-29 gave at most 13.
    assert (alarms["severity"] == WARNING).sum() <= 16, alarms.to_string()
    # every check ran; only M10 (r2 -> s1, not redundant) has no drift chart
    assert result.notes == ["no drift chart (CUSUM) for meter M10: the balances never check it (it is not redundant, "
                            "or it gave no reading)"]
    assert len(result.predicted_inlet) == 200 * 3  # s1, s2 and op have a COD limit; every flow is observable


# ----------------------------------------------------------------------------- faults
@pytest.mark.parametrize("seed", [0, 1])
def test_meter_step_is_found_by_its_cusum(seed):
    frame = readings(seed)
    frame.iloc[100:, frame.columns.get_loc("M6")] *= 1.03  # 0.15 t/h, 1.5 sd of M6, ~1.1 sd of its measurement test
    alarms = monitor(micro(), PLAN, frame, meters=METERS).alarms
    named = alarms[(alarms["unit"] == "M6") & alarms["what"].isin(["meter drift high", "meter bias"])]
    assert not named.empty
    first = named["time"].iloc[0]
    # a shift of 1.1 sd is found by the CUSUM in ~9 timestamps on average; 40 is a generous bound
    assert hour(100) <= first <= hour(140), named.to_string()
    assert named["what"].iloc[0] == "meter drift high" or (named["what"].iloc[0] == "meter bias"
                                                           and named["value"].iloc[0] > 0)  # M6 reads high
    assert "M6" in named["message"].iloc[0] and "pipe W -> op" in named["message"].iloc[0]


def test_leak_at_the_operation_is_an_alarm():
    leaking = dict(PLAN)
    leaking[("op", "D")] = 4.0  # 1 t/h of the 5 t/h entering op never reaches D
    truth = [PLAN] * 40 + [leaking] * 60
    result = monitor(micro(), PLAN, readings(7, 100, truth), meters=METERS)
    alarms = result.alarms
    leaks = alarms[alarms["what"] == "leak"]
    assert len(leaks) >= 1
    row = leaks.iloc[0]
    assert row["severity"] == ALARM and row["source"] == "gross error test"
    assert row["unit"] == "op" or "leak at op" in row["message"]
    assert hour(40) <= row["time"] <= hour(50)  # found 3 times: from the leak's third timestamp on
    assert row["value"] == pytest.approx(1.0, abs=0.2)
    assert row["limit"] is None or pd.isna(row["limit"])
    assert "water is lost at op" in row["message"]
    assert (alarms[alarms["time"] < hour(40)]["severity"] != ALARM).all()
    assert len(leaks) <= 2  # one run, not one row per timestamp


def test_analyser_readings_against_limits_and_design():
    frame = readings(3, 40)
    frame.loc[hour(10), "A1"] = 55.0  # above s2's 50 ppm
    frame.loc[hour(25), "A1"] = 47.0  # 94 % of it
    frame.loc[hour(30), "A2"] = 200.0  # r2 sends twice the COD the plan was designed for
    data = SimpleNamespace(values=frame)  # a Readings: its frame is .values
    result = monitor(micro(), PLAN, data, meters=METERS)
    alarms = result.alarms.set_index(["time", "source"])

    over = alarms.loc[(hour(10), "analyser")]
    assert (over["unit"], over["what"], over["severity"]) == ("s2", "COD at inlet", ALARM)
    assert (over["value"], over["limit"]) == (55.0, 50.0)
    near = alarms.loc[(hour(25), "analyser")]
    assert (near["severity"], near["value"], near["limit"]) == (WARNING, 47.0, 50.0)
    assert "94 %" in near["message"]
    dirty = alarms.loc[(hour(30), "analyser")]
    assert (dirty["unit"], dirty["what"], dirty["severity"], dirty["limit"]) == ("r2", "COD at outlet", WARNING, 100.0)
    # the measured 200 ppm, not the design's 100, is what the prediction mixes into s1: 3/10 of it
    predicted = alarms.loc[(hour(30), "prediction")]
    assert (predicted["unit"], predicted["what"], predicted["severity"]) == ("s1", "predicted COD at inlet", ALARM)
    flows = result.series.flows.loc[hour(30)]
    by_hand = 200.0 * flows["r2 -> s1"] / (flows["r2 -> s1"] + flows["W -> s1"])
    assert predicted["value"] == pytest.approx(by_hand)
    assert (result.alarms["severity"] == ALARM).sum() == 2

    plain = result.to_dict()
    json.dumps(plain)
    assert plain["counts"][ALARM] == 2 and plain["alarms"][0]["time"].startswith("2026-03-01T")
    assert "2 alarm(s)" in result.summary() and "first alarm, 2026-03-01T10:00:00" in result.summary()


def test_more_reuse_into_s1_than_planned_breaks_its_predicted_limit():
    shifted = dict(PLAN)
    shifted[("r2", "s1")], shifted[("W", "s1")], shifted[("r2", "D")] = 6.0, 4.0, 9.0  # s1: 60 ppm, limit 50
    truth = [PLAN] * 20 + [shifted] * 20
    result = monitor(micro(), PLAN, readings(4, 40, truth), meters=METERS)
    alarms = result.alarms
    rows = alarms[alarms["what"] == "predicted COD at inlet"]
    assert len(rows) == 1  # one run of 20 timestamps, one row
    row = rows.iloc[0]
    assert (row["time"], row["unit"], row["severity"], row["limit"]) == (hour(20), "s1", ALARM, 50.0)

    # by hand at one timestamp: the COD of r2 (A2's reading) diluted by the fresh water into s1
    t = hour(27)
    flows, quality = result.series.flows.loc[t], result.series.results[t]
    by_hand = readings(4, 40, truth).loc[t, "A2"] * flows["r2 -> s1"] / (flows["r2 -> s1"] + flows["W -> s1"])
    predicted = result.predicted_inlet.set_index(["time", "unit"]).loc[(t, "s1")]
    assert predicted["value"] == pytest.approx(by_hand)
    assert by_hand > 55
    assert predicted["sd"] < 2  # a clear break, far beyond the prediction's uncertainty
    run = result.predicted_inlet.query("unit == 's1' and time >= @hour(20)")
    assert row["value"] == pytest.approx(run["value"].max())  # the row shows the worst of its run
    # the covariance rebuilt for the prediction's uncertainty is the reconciliation's
    test = BalanceTest(micro(), meters=[m for m in METERS if m.is_flow], flows=PLAN)
    cov = test.flow_covariance(quality)
    assert list(cov.index) == [f"{a} -> {b}" for a, b in quality.flows[["from", "to"]].itertuples(index=False)]
    assert np.sqrt(np.diag(cov)) == pytest.approx(quality.flows["sd"].to_numpy())

    # the flows moved from the plan: one EWMA warning per moved pipe, not one per timestamp
    drift = alarms[(alarms["what"] == "flow drift") & (alarms["time"] >= hour(20))]
    for pipe in ("r2 -> s1", "W -> s1", "r2 -> D"):
        assert (drift["unit"] == pipe).sum() == 1, drift.to_string()
        assert drift[drift["unit"] == pipe]["time"].iloc[0] <= hour(23)


def test_bad_readings():
    frame = readings(0, 5)
    frame["X9"] = 1.0
    with pytest.raises(PlantDataError, match="readings of unknown meters: X9"):
        monitor(micro(), PLAN, frame, meters=METERS)
    with pytest.raises(PlantDataError, match="ewma_lambda"):
        monitor(micro(), PLAN, readings(0, 5), meters=METERS, ewma_lambda=0.0)


def test_random_part_of_the_flow_covariance():
    values = readings(3, 1).iloc[0].drop(["A1", "A2"])
    test = BalanceTest(micro(), meters=METERS, flows=PLAN)  # all of every error random
    result = test.run(values)
    assert test.flow_covariance(result, random_only=True).to_numpy() == pytest.approx(
        test.flow_covariance(result).to_numpy())
    systematic = BalanceTest(micro(), meters=FLOW_METERS, flows=PLAN)  # no repeatability: none of it
    assert np.abs(systematic.flow_covariance(systematic.run(values), random_only=True).to_numpy()).max() == 0.0
    half = [replace(m, repeatability=m.rsd / 2) for m in FLOW_METERS]  # a quarter of every variance is random
    split = BalanceTest(micro(), meters=half, flows=PLAN)
    again = split.run(values)
    assert split.flow_covariance(again, random_only=True).to_numpy() == pytest.approx(
        0.25 * split.flow_covariance(again).to_numpy())


def test_calibration_errors_alone_widen_the_ewma_and_leave_no_cusum():
    # every meter off by its own calibration error, the same at every hour; the flows run the plan
    stamps = pd.date_range(START, periods=120, freq="h")
    long = cascade.metering.simulate_readings(true_readings(PLAN), FLOW_METERS, stamps, seed=11)
    frame = long.pivot(index="timestamp", columns="meter", values="value")
    result = monitor(micro(), PLAN, frame, meters=FLOW_METERS)
    sd = pd.DataFrame([r.flows["sd"].to_numpy(float) for r in result.series.results.values()],
                      index=result.series.flows.index, columns=result.series.flows.columns)
    # no random part: the limits open to 3 sd of the reconciled flow, not the 1 sd of a random error's EWMA
    assert (result.ewma_limit.iloc[-1] / sd.iloc[-1]).to_numpy() == pytest.approx(3.0, rel=1e-3)
    plan = pd.Series({f"{a} -> {b}": q for (a, b), q in PLAN.items()})
    offset = (result.ewma.iloc[-1] - plan[result.ewma.columns]).abs() / sd.iloc[-1]
    assert offset.max() > 1.0  # r2 -> s1 sits 1.85 sd off the plan: a chart for random errors would warn
    assert result.alarms.empty, result.alarms.to_string()
    assert all("did not vary over the baseline" in note or "never check it" in note for note in result.notes)
    assert result.cusum_high.isna().all().all()
