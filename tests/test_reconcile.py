"""Water balance tests: reconciliation, observability and gross-error detection against oracles.

Oracles: hand-worked one-balance networks (weighted means and the projection formulas), the
statistics of least squares (over many seeds the reconciled readings carry ``n - dof`` instead of
``n`` units of squared standardised error, and the global test rejects at its level), and
injected faults whose place is known.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from cascade import Plant
from cascade.exceptions import PlantDataError
from cascade.metering import Meter, read_readings, simulate_readings
from cascade.reconcile import BalanceTest, reconcile, reconcile_series
from cascade.statistics import chi2_ppf, chi2_sf, sidak


def micro() -> Plant:
    """Two process units, an operation and a sewer; today's network is hand-balanced (29 t/h in)."""
    p = Plant("micro", ["COD"])
    p.add_freshwater("W", {"COD": 0})
    p.add_sink("s1", 10, {"COD": 50}, unit="u1").add_source("r1", 8, {"COD": 30}, unit="u1")
    p.add_sink("s2", 20, {"COD": 50}, unit="u2").add_source("r2", 15, {"COD": 100}, unit="u2")
    p.add_operation("op", {"COD": 0.1}, max_inlet={"COD": 10}, max_outlet={"COD": 100})
    p.add_discharge("D")
    for a, b, q in [("W", "s1", 10), ("W", "s2", 14), ("r1", "s2", 6), ("r1", "D", 2), ("r2", "D", 15),
                    ("W", "op", 5), ("op", "D", 5)]:
        p.add_existing(a, b, q)
    return p


MICRO_METERS = [
    Meter("M1", "W", rsd=0.01, level=1), Meter("M2", ("W", "s1"), rsd=0.02, level=2),
    Meter("M3", ("W", "s2"), rsd=0.02, level=2), Meter("M4", ("r1", "s2"), rsd=0.02, level=3),
    Meter("M5", "D", rsd=0.01, level=1), Meter("M6", ("W", "op"), rsd=0.02, level=2),
    Meter("M7", ("op", "D"), rsd=0.02, level=3), Meter("M8", ("r2", "D"), rsd=0.02, level=3),
]
MICRO_TRUTH = {"M1": 29.0, "M2": 10.0, "M3": 14.0, "M4": 6.0, "M5": 22.0, "M6": 5.0, "M7": 5.0, "M8": 15.0}


def noisy(truth: dict[str, float], meters: list[Meter], rng: np.random.Generator) -> dict[str, float]:
    return {m.id: truth[m.id] + m.standard_deviation(truth[m.id]) * rng.normal() for m in meters}


def chain() -> tuple[Plant, list[Meter], dict[str, float]]:
    """W -> op1 -> op2 -> D, 20 t/h, every pipe and both ends metered: each leak has its own signature."""
    p = Plant("chain", ["COD"])
    p.add_freshwater("W", {"COD": 0})
    for op in ("op1", "op2"):
        p.add_operation(op, {"COD": 0.1}, max_inlet={"COD": 100}, max_outlet={"COD": 1000})
    p.add_discharge("D")
    for a, b in [("W", "op1"), ("op1", "op2"), ("op2", "D")]:
        p.add_existing(a, b, 20)
    meters = [Meter("FW", "W", rsd=0.01), Meter("F1", ("W", "op1"), rsd=0.01), Meter("F2", ("op1", "op2"), rsd=0.01),
              Meter("F3", ("op2", "D"), rsd=0.01), Meter("FD", "D", rsd=0.01)]
    return p, meters, {m.id: 20.0 for m in meters}


# ----------------------------------------------------------------------------- hand-worked
def test_two_meters_on_one_pipe_give_the_weighted_mean():
    p = Plant("one", ["COD"]).add_freshwater("W", {"COD": 0}).add_sink("S", 10, {"COD": 10})
    p.add_existing("W", "S", 10)
    meters = [Meter("A", "W", sd=0.3), Meter("B", ("W", "S"), sd=0.4)]
    rec = reconcile(p, {"A": 10.5, "B": 9.8}, meters=meters)
    expected = (10.5 / 0.09 + 9.8 / 0.16) / (1 / 0.09 + 1 / 0.16)
    assert rec.measurements["reconciled"].tolist() == pytest.approx([expected, expected], abs=1e-9)
    assert rec.flows["flow"].iloc[0] == pytest.approx(expected, abs=1e-9)
    assert rec.flows["sd"].iloc[0] == pytest.approx((1 / 0.09 + 1 / 0.16) ** -0.5, rel=1e-6)
    assert rec.raw_test.statistic == pytest.approx(0.7**2 / (0.09 + 0.16))
    assert rec.raw_test.dof == 1 and rec.raw_test.passed


def test_splitter_follows_the_projection_formula():
    p = Plant("split", ["COD"]).add_freshwater("W", {"COD": 0})
    p.add_sink("A", 6, {"COD": 10}).add_sink("B", 4, {"COD": 10})
    p.add_existing("W", "A", 6).add_existing("W", "B", 4)
    sd = {"T": 0.2, "a": 0.1, "b": 0.15}
    meters = [Meter("T", "W", sd=sd["T"]), Meter("a", ("W", "A"), sd=sd["a"]), Meter("b", ("W", "B"), sd=sd["b"])]
    y = {"T": 10.3, "a": 5.9, "b": 4.1}
    rec = reconcile(p, y, meters=meters)
    r = y["T"] - y["a"] - y["b"]
    v = sum(s**2 for s in sd.values())
    got = rec.measurements.set_index("meter")["reconciled"]
    assert got["T"] == pytest.approx(y["T"] - sd["T"] ** 2 * r / v, abs=1e-9)
    assert got["a"] == pytest.approx(y["a"] + sd["a"] ** 2 * r / v, abs=1e-9)
    assert got["b"] == pytest.approx(y["b"] + sd["b"] ** 2 * r / v, abs=1e-9)
    # the measurement test of each meter is |a_m| / sd(a_m), with var(a_m) = sd_m^4 / v here
    std = rec.measurements.set_index("meter")["standardised"]
    assert abs(std["a"]) == pytest.approx(abs(r) / math.sqrt(v), rel=1e-9)
    assert rec.closure < 1e-9


def test_bounded_adjustment_uses_highs_and_keeps_flows_non_negative():
    """The closed form would give pipe W -> B a negative flow; the QP holds it at 0 (hand optimum)."""
    p = Plant("split", ["COD"]).add_freshwater("W", {"COD": 0})
    p.add_sink("A", 10, {"COD": 10}).add_sink("B", 0.1, {"COD": 10})
    p.add_existing("W", "A", 10).add_existing("W", "B", 0.1)
    meters = [Meter("T", "W", sd=0.01), Meter("a", ("W", "A"), sd=0.01), Meter("b", ("W", "B"), sd=1.0)]
    rec = reconcile(p, {"T": 10.0, "a": 10.5, "b": 0.1}, meters=meters, eliminate=False)
    flows = rec.flows.set_index("to")["flow"]
    assert flows["B"] == pytest.approx(0.0, abs=1e-6)
    assert flows["A"] == pytest.approx(10.25, abs=1e-5)  # T and a, equally accurate, meet in the middle
    assert set(rec.bounds_active) == {"pipe W -> B", "node B"}  # the same flow, seen as the pipe and the sink
    assert (rec.flows["flow"] >= -1e-9).all()


# ----------------------------------------------------------------------------- statistics over seeds
def test_reconciled_readings_are_closer_to_the_truth_than_raw_over_many_seeds():
    plant = micro()
    test = BalanceTest(plant, meters=MICRO_METERS)
    truth = np.array([MICRO_TRUTH[m.id] for m in MICRO_METERS])
    raw_err, rec_err, rejected = [], [], 0
    seeds = 400
    for seed in range(seeds):
        y = noisy(MICRO_TRUTH, MICRO_METERS, np.random.default_rng(seed))
        rec = test.run(y, eliminate=False, suggest=False)
        sd = np.array([m.standard_deviation(MICRO_TRUTH[m.id]) for m in MICRO_METERS])
        raw_err.append(float(np.sum(((np.array(list(y.values())) - truth) / sd) ** 2)))
        rec_err.append(float(np.sum(((rec.measurements["reconciled"].to_numpy() - truth) / sd) ** 2)))
        rejected += not rec.raw_test.passed
    raw_err, rec_err = np.array(raw_err), np.array(rec_err)
    dof = test.run(MICRO_TRUTH, suggest=False).raw_test.dof
    assert dof == 2
    # least squares removes dof of the n units of squared standardised error, on average
    assert raw_err.mean() == pytest.approx(8, rel=0.1)
    assert rec_err.mean() == pytest.approx(8 - dof, rel=0.12)
    diff = raw_err - rec_err
    assert diff.mean() / (diff.std(ddof=1) / math.sqrt(seeds)) > 10  # paired t statistic
    assert (diff >= -1e-9).mean() > 0.99  # a projection never moves the readings away from the truth in this norm
    # the global test rejects a fault-free set of readings at about its level (binomial 99.9 % band)
    assert 5 <= rejected <= 38


def _period_rejections(declared: list[Meter], true_meters: list[Meter], seeds: range) -> int:
    """How often the global test of 48-hour means rejects fault-free readings (drawn with ``true_meters``)."""
    stamps = pd.date_range("2026-03-01", periods=48, freq="h")
    rejected = 0
    for seed in seeds:
        long = simulate_readings(MICRO_TRUTH, true_meters, stamps, seed=seed)
        rec = reconcile(micro(), read_readings(long, declared), meters=declared, eliminate=False)
        rejected += not rec.raw_test.passed
    return rejected


def test_a_period_test_counts_only_the_random_part_of_the_error_as_averaging_out():
    # half of each meter's variance is random, half systematic (its calibration error, drawn once per seed)
    split = [replace(m, repeatability=m.rsd / math.sqrt(2)) for m in MICRO_METERS]
    mean = read_readings(simulate_readings(MICRO_TRUTH, split, pd.date_range("2026-03-01", periods=48, freq="h"),
                                           seed=0), split)
    rec = reconcile(micro(), mean, meters=split, eliminate=False)
    m1 = rec.measurements.set_index("meter").loc["M1"]
    at = max(m1["reading"], 29.0)  # the reference flow (today's 29 t/h) is the floor of a relative sd
    assert m1["sd"] == pytest.approx(0.01 * at * math.sqrt(0.5 + 0.5 / 48))
    seeds = range(200)
    # declared as drawn: the test rejects at its level (5 %: 10 of 200 expected, sd 3.1)
    assert 3 <= _period_rejections(split, split, seeds) <= 20
    # the whole error taken as systematic (no repeatability): cautious, fewer rejections than the level
    assert _period_rejections(list(MICRO_METERS), split, seeds) <= 10
    # the whole error taken as random: sd / sqrt(48) is far too small and sound data are rejected
    all_random = [replace(m, repeatability=m.rsd) for m in MICRO_METERS]
    assert _period_rejections(all_random, split, range(50)) >= 40


def test_chi_square_functions_match_tables():
    assert chi2_ppf(0.95, 1) == pytest.approx(3.841459, abs=1e-6)
    assert chi2_ppf(0.99, 4) == pytest.approx(13.276704, abs=1e-6)
    assert chi2_ppf(0.95, 50) == pytest.approx(67.504807, abs=1e-6)
    assert chi2_sf(chi2_ppf(0.9, 7), 7) == pytest.approx(0.1, abs=1e-10)
    assert sidak(0.05, 1) == pytest.approx(0.05)


# ----------------------------------------------------------------------------- gross errors
def test_a_meter_bias_is_found_and_localised():
    """F2 (pipe op1 -> op2) sits in two balances whose other meters are as good: its bias has its own signature."""
    plant, meters, truth = chain()
    test = BalanceTest(plant, meters=meters, level=0.05)
    found = passed = 0
    for seed in range(100):
        y = noisy(truth, meters, np.random.default_rng(seed))
        y["F2"] *= 1.06  # reads 6 % high: 1.2 t/h, 6 of its sd
        rec = test.run(y, suggest=False)
        first = rec.gross_errors[0] if rec.gross_errors else None
        if first is not None and first.label == "meter F2":
            found += 1
            assert first.alternatives == ()
            assert first.size == pytest.approx(1.2, abs=4 * first.sd)
            assert rec.measurements.set_index("meter").at["F2", "status"] == "biased"
            passed += bool(rec.final_test.passed)
    assert found >= 90
    assert passed >= 0.85 * found  # after taking F2 out, the rest agree (the test's own 5 % false alarms)


def test_a_weakly_seen_bias_can_be_mistaken_for_its_neighbour():
    """On the micro-plant M6 (W -> op) is checked mainly by M7 (op -> D): the data often cannot tell them apart.

    This documents the limit honestly: the bias is found as M6 in most seeds and otherwise as M7
    (with a leak at op as the indistinguishable alternative), never somewhere unrelated.
    """
    test = BalanceTest(micro(), meters=MICRO_METERS)
    labels = []
    for seed in range(60):
        y = noisy(MICRO_TRUTH, MICRO_METERS, np.random.default_rng(seed))
        y["M6"] *= 1.15
        rec = test.run(y, suggest=False)
        labels.append(rec.gross_errors[0].label if rec.gross_errors else None)
    assert labels.count("meter M6") >= 0.7 * len(labels)
    assert set(labels) <= {"meter M6", "meter M7", None}


def test_a_leak_is_found_and_localised():
    plant, meters, truth = chain()
    test = BalanceTest(plant, meters=meters)
    hits = passed = 0
    for seed in range(100):
        true = dict(truth)
        true["F2"] = true["F3"] = true["FD"] = 19.0  # op1 loses 1 t/h
        y = noisy(true, meters, np.random.default_rng(seed))
        rec = test.run(y, suggest=False)
        if rec.gross_errors and rec.gross_errors[0].label == "leak at op1":
            hits += 1
            assert rec.gross_errors[0].alternatives == ()
            leak = rec.units.set_index("unit").at["op1", "leak"]
            assert leak == pytest.approx(1.0, abs=4 * rec.gross_errors[0].sd)
            passed += bool(rec.final_test.passed)
    assert hits >= 90
    assert passed >= 0.85 * hits


def test_indistinguishable_faults_are_reported_together():
    """On the micro-plant a leak at the operation looks exactly like meter M7 reading low."""
    plant = micro()
    y = noisy(MICRO_TRUTH, MICRO_METERS, np.random.default_rng(3))
    y["M7"] -= 1.0
    y["M5"] -= 1.0
    rec = reconcile(plant, y, meters=MICRO_METERS)
    assert len(rec.gross_errors) == 1
    error = rec.gross_errors[0]
    assert {error.label, *error.alternatives} == {"meter M7", "leak at op"}
    assert error.size == pytest.approx(-1.0, abs=4 * error.sd)  # M7 reads 1 t/h low


def test_no_gross_error_on_the_truth():
    rec = reconcile(micro(), MICRO_TRUTH, meters=MICRO_METERS)
    assert rec.raw_test.passed and rec.gross_errors == [] and not rec.unlocated
    assert rec.raw_test.statistic == pytest.approx(0.0, abs=1e-12)


# ----------------------------------------------------------------------------- observability
def test_unobservable_flows_get_no_value_and_a_meter_that_fixes_them():
    readings = {k: v for k, v in MICRO_TRUTH.items() if k != "M4"}
    rec = reconcile(micro(), readings, meters=MICRO_METERS)
    flows = rec.flows.set_index(["from", "to"])
    assert math.isnan(flows.at[("r1", "s2"), "flow"]) and not flows.at[("r1", "s2"), "observable"]
    assert flows.at[("r1", "D"), "observable"]  # fixed by the sewer balance
    assert set(rec.unobservable["quantity"]) == {
        "pipe r1 -> s2", "node s2", "node r1", "consumption of unit u1", "consumption of unit u2"}
    assert all("pipe r1 -> s2" in fixes for fixes in rec.unobservable["fixed_by"])
    assert rec.suggested_meters == ["pipe r1 -> s2"]
    consumption = rec.consumption.set_index("unit")["consumption"]
    assert consumption.isna().all()
    assert rec.indicators() is None  # never computed from a guess
    table = rec.balance_table()
    assert math.isnan(table.at["u2", "reused_in"]) and math.isnan(table.at["plant", "reused_in"])
    assert table.at["plant", "intake"] == pytest.approx(29.0)
    assert "M4" in rec.measurements.loc[rec.measurements["status"] == "no reading", "meter"].tolist()


def test_suggested_meters_make_everything_observable():
    plant = micro()
    few = [m for m in MICRO_METERS if m.id in ("M1", "M3", "M7")]
    rec = reconcile(plant, {m.id: MICRO_TRUTH[m.id] for m in few}, meters=few)
    assert not rec.observable and rec.suggested_meters
    reference = rec.flows.set_index(["from", "to"])["reference"]
    extra, values = [], {}
    for k, place in enumerate(rec.suggested_meters):
        kind, rest = place.split(" ", 1)
        at = tuple(rest.split(" -> ")) if kind == "pipe" else rest
        meter = Meter(f"X{k}", at, rsd=0.01)
        extra.append(meter)
        values[meter.id] = float(reference[at]) if kind == "pipe" else float(
            rec.units.set_index("unit").at[at, "reference"])
    full = reconcile(plant, {**{m.id: MICRO_TRUTH[m.id] for m in few}, **values}, meters=[*few, *extra])
    assert full.observable


# ----------------------------------------------------------------------------- tables
def test_balance_table_closes_and_matches_hand_figures():
    rec = reconcile(micro(), MICRO_TRUTH, meters=MICRO_METERS)
    table = rec.balance_table()
    assert np.abs(table["closure"]).max() < 1e-9
    assert table.loc["u1"].to_dict() == pytest.approx({
        "intake": 10, "reused_in": 0, "total_use": 10, "consumption": 2, "discharge": 2, "reused_out": 6,
        "loss": 0, "closure": 0}, abs=1e-9)
    assert table.loc["u2", ["intake", "reused_in", "consumption", "discharge"]].tolist() == pytest.approx(
        [14, 6, 5, 15], abs=1e-9)
    plant = table.loc["plant"]
    assert (plant["intake"], plant["reused_in"], plant["consumption"], plant["discharge"]) == pytest.approx(
        (29, 6, 7, 22), abs=1e-9)
    indicators = rec.indicators()
    assert indicators["reuse_rate"] == pytest.approx(6 / 35)
    assert indicators["freshwater"] == pytest.approx(29)


def test_an_accepted_leak_is_a_loss_in_the_balance_table():
    plant, meters, truth = chain()
    true = {**truth, "F2": 19.0, "F3": 19.0, "FD": 19.0}
    rec = reconcile(plant, true, meters=meters)
    assert [e.label for e in rec.gross_errors] == ["leak at op1"]
    table = rec.balance_table()
    assert table.at["op1", "loss"] == pytest.approx(1.0, abs=1e-6)
    assert table.at["plant", "loss"] == pytest.approx(1.0, abs=1e-6)
    assert abs(table.at["plant", "closure"]) < 1e-6


def test_metering_coverage_per_level():
    rec = reconcile(micro(), MICRO_TRUTH, meters=MICRO_METERS)
    cov = rec.coverage().set_index(["level", "scope"])
    assert cov.at[(1, "intake (取水)"), "coverage"] == pytest.approx(1.0)
    assert cov.at[(1, "intake (取水)"), "meets"]
    # level 2: s1 (10 of 10 via M2), s2 (14 of 20 via M3), op (5 of 5 via M6): 29 of 35
    assert cov.at[(2, "water used by units"), "coverage"] == pytest.approx(29 / 35)
    assert not cov.at[(2, "water used by units"), "meets"]
    # level 3: s2's 6 t/h from r1 (M4): 6 of 35
    assert cov.at[(3, "water used by units"), "coverage"] == pytest.approx(6 / 35)
    assert pd.isna(cov.at[(3, "water used by units"), "required"])


# ----------------------------------------------------------------------------- series and errors
def test_series_reconciles_each_timestamp_and_skips_missing_readings():
    rng = np.random.default_rng(7)
    index = pd.date_range("2026-03-01", periods=24, freq="h", name="timestamp")
    frame = pd.DataFrame({m.id: [noisy(MICRO_TRUTH, [m], rng)[m.id] for _ in index] for m in MICRO_METERS},
                         index=index)
    frame.iloc[5, 3] = np.nan  # M4 missing at 05:00
    series = reconcile_series(micro(), frame, meters=MICRO_METERS)
    assert list(series.flows.index) == list(index)
    assert math.isnan(series.flows.at[index[5], "r1 -> s2"])
    assert series.flows.drop(index[5])["r1 -> s2"].notna().all()
    one = reconcile(micro(), frame.iloc[3].to_dict(), meters=MICRO_METERS)
    assert series.flows.iloc[3].to_numpy() == pytest.approx(one.flows["flow"].to_numpy())


def test_bad_inputs_are_named():
    with pytest.raises(PlantDataError, match="pipe W -> D, which is not a pipe"):
        reconcile(micro(), {"X": 1.0}, meters=[Meter("X", ("W", "D"), rsd=0.01)])
    with pytest.raises(PlantDataError, match="unknown meters: Z"):
        reconcile(micro(), {"Z": 1.0, "M1": 29}, meters=MICRO_METERS)
    with pytest.raises(PlantDataError, match="no pipes to balance"):
        reconcile(Plant("empty", ["COD"]).add_freshwater("W"), {}, meters=[])
    with pytest.raises(PlantDataError, match="cannot read below zero: M2"):
        reconcile(micro(), {**MICRO_TRUTH, "M2": -1.0}, meters=MICRO_METERS)
