"""Treatment cost curves: concave capital cost a * Q^b, its annualisation and a regenerator's minimum flow."""

from __future__ import annotations

import math

import pytest

import cascade
from cascade import Plant


def plant(source_flow: float, a: float, *, min_flow: float = 0.0, finance=None) -> Plant:
    """A 10 t/h sink (<= 5 ppm) fed by fresh water at 100 money/t, or by the source regenerated to 0 ppm
    (the source may not feed the sink directly, nor fresh water the regenerator).

    With ``hours_per_year = 1`` and an annualisation factor of 1 the cost of regenerating ``Q`` t/h is
    ``100 (10 - Q) + a sqrt(Q)``: concave, so the optimum takes all of the source or none of it.
    """
    return (
        Plant("capital", ["C"], hours_per_year=1, objective="cost",
              finance=finance if finance is not None else {"annualisation_factor": 1})
        .add_freshwater("FW", {"C": 0}, price=100)
        .add_sink("D", 10, {"C": 5})
        .add_source("S", source_flow, {"C": 100})
        .add_regenerator("R", outlet={"C": 0}, cost_capital_a=a, cost_capital_b=0.5, min_flow=min_flow)
        .forbid("FW", "R")
        .forbid("S", "D")
    )


def test_all_or_nothing_by_hand():
    assert cascade.optimize(plant(10, 300)).costs["total"] == pytest.approx(300 * math.sqrt(10), rel=1e-6)
    none = cascade.optimize(plant(10, 350))  # 350 sqrt(10) = 1106.8 > 1000 of fresh water
    assert none.costs["total"] == pytest.approx(1000.0) and none.regenerated == pytest.approx(0.0, abs=1e-6)


def test_the_optimum_between_breakpoints_is_found_and_proven():
    # 7 t/h is not an initial breakpoint: the interpolation underestimates there until the loop adds it.
    plan = cascade.optimize(plant(7, 250))
    assert plan.status == "optimal" and plan.check.passed
    assert plan.costs["total"] == pytest.approx(300 + 250 * math.sqrt(7), rel=1e-3)
    assert plan.costs["capital"] == pytest.approx(250 * math.sqrt(7), rel=1e-3)
    assert plan.bound <= plan.costs["total"] * (1 + 1e-9) and plan.gap <= 1e-3


def test_a_minimum_flow_the_plant_cannot_use_keeps_the_regenerator_out():
    # Installed, R must treat 12 t/h but only 10 t/h of source water exist (fresh water may not feed R).
    plan = cascade.optimize(plant(10, 300, min_flow=12))
    assert plan.costs["total"] == pytest.approx(1000.0) and plan.regenerated == pytest.approx(0.0, abs=1e-6)


def test_annualisation_by_capital_recovery_factor():
    # 8 % over 10 years: CRF = 0.08 * 1.08^10 / (1.08^10 - 1) = 0.14903
    crf = 0.08 * 1.08**10 / (1.08**10 - 1)
    p = plant(10, 2000, finance={"interest_rate": 0.08, "lifetime": 10})
    assert p.annualisation() == pytest.approx(crf)
    assert cascade.optimize(p).costs["total"] == pytest.approx(crf * 2000 * math.sqrt(10), rel=1e-6)


def test_published_gdplib_water_treatment_network():
    """Ruiz & Grossmann (GDPlib water_network): best known cost 348,340; the plan within 0.1 %, the bound below."""
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "models" / "ruiz_grossmann_wtn_gdplib_full"
    plan = cascade.optimize(cascade.read_plant(folder / "plant.yaml"), time_limit=120)
    assert plan.status == "optimal" and plan.check.passed and plan.gap <= 1e-3
    assert plan.bound <= 348_340 <= plan.costs["total"] * (1 + 1e-3)
    assert plan.costs["total"] == pytest.approx(348_340, rel=1e-3)
