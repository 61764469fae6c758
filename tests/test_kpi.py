"""Water indicators and the policy criteria, checked against hand calculations.

Oracles: a published minimum-water network of Wang & Smith (1994) Ex. 1 worked by hand, the
baseline and plan of models/food_plant_retrofit and models/industrial_park_3plants worked from
their files, micro-plants for compliant discharge and WUE, and the thresholds as the MIIT 2024
notice states them (strict where it says ">", "<").
"""

from __future__ import annotations

from pathlib import Path

import pytest

import cascade
from cascade import kpi
from cascade.eligibility import eligibility
from cascade.exceptions import PlantDataError

MODELS = Path(__file__).resolve().parents[1] / "models"


def _plant(**extra):
    data = {"format": "cascade-plant/1", "name": "micro", "contaminants": ["C"],
            "freshwater": [{"id": "FW", "quality": {"C": 0}}], "sinks": [{"id": "D", "flow": 10}]}
    data.update(extra)
    return cascade.read_plant(data)


# ---------------------------------------------------------------- Wang & Smith (1994) Ex. 1
def _wang_smith_network():
    """A 90 t/h network worked by hand: OP1 20 t/h and OP2 50 t/h on fresh water (both leave at 100 ppm);
    OP3 takes 20 fresh + 20 from OP2 (inlet 50 ppm, outlet 800 ppm at 40 t/h); OP4 takes 40/7 t/h
    of OP1's outlet (100 -> 800 ppm picks up 4 kg/h)."""
    plant = cascade.read_plant(MODELS / "wang_smith_1994_ex1" / "plant.yaml")
    graph = cascade.build_superstructure(plant)
    op4 = 4000 / 700
    flows = {("FW", "OP1"): 20.0, ("FW", "OP2"): 50.0, ("FW", "OP3"): 20.0, ("OP2", "OP3"): 20.0,
             ("OP1", "OP4"): op4, ("OP1", "WW"): 20 - op4, ("OP2", "WW"): 30.0, ("OP3", "WW"): 40.0,
             ("OP4", "WW"): op4}
    return graph, flows


def test_wang_smith_hand_network_indicators():
    graph, flows = _wang_smith_network()
    check = cascade.check_flows(graph, flows)
    assert check.passed  # the hand network is a valid plan
    got = kpi.plant_indicators(graph, flows, inlet=check.inlet)
    # V_f = 20 + 50 + 20 = 90; V_r = 20 (OP2 -> OP3) + 40/7 (OP1 -> OP4) = 180/7; R = (180/7) / (810/7) = 2/9
    assert got["freshwater"] == pytest.approx(90.0)
    assert got["reused"] == pytest.approx(180 / 7) and got["reused_series"] == pytest.approx(180 / 7)
    assert got["reused_recycled"] == 0 and got["reused_regenerated"] == 0 and got["recirculation"] == 0
    assert got["total_use"] == pytest.approx(810 / 7)
    assert got["reuse_rate"] == pytest.approx(2 / 9)
    # everything taken in leaves at WW (no losses): V_d = 90, consumption 0; 8000 h/yr (the default)
    assert got["wastewater"] == pytest.approx(90.0) and got["consumption"] == pytest.approx(0.0, abs=1e-9)
    assert got["freshwater_per_year"] == pytest.approx(720_000.0)
    assert got["wastewater_per_year"] == pytest.approx(720_000.0)
    assert got["reclaimed_use"] == 0 and got["reclaimed_share"] == 0 and got["nonconventional_share"] == 0
    assert got["compliant_discharge_share"] is None  # WW states no limit: nothing can be judged
    assert got["water_per_value_added"] is None and got["wue"] is None and got["unit_product_intake"] == []


def test_wang_smith_plan_indicators_match_its_flows():
    plan = cascade.optimize(cascade.read_plant(MODELS / "wang_smith_1994_ex1" / "plant.yaml"))
    table = plan.indicators.set_index("key")
    assert table.loc["freshwater", "plan"] == pytest.approx(90.0)  # published minimum
    assert table.loc["freshwater", "baseline"] == pytest.approx(112.5)  # published no-reuse figure
    flows = plan.flows
    reused = flows.loc[flows["from"].str.startswith("OP"), "flow"].sum()  # every operation outlet that feeds an OP
    reused -= flows.loc[flows["from"].str.startswith("OP") & (flows["to"] == "WW"), "flow"].sum()
    assert table.loc["reused", "plan"] == pytest.approx(reused)
    assert table.loc["reuse_rate", "plan"] == pytest.approx(100 * reused / (reused + 90.0))
    assert table.loc["reuse_rate", "baseline"] == 0.0
    assert table.loc["wastewater", "plan"] == pytest.approx(90.0)
    rows = plan.eligibility("food").set_index("criterion")
    assert rows.loc["1 reuse rate", "passes"] == (table.loc["reuse_rate", "plan"] > 65)
    assert rows.loc["1 reuse rate", "margin"] == pytest.approx(table.loc["reuse_rate", "plan"] - 65)


def test_regenerated_water_counts_as_reuse_and_reclaimed_water():
    plan = cascade.optimize(cascade.read_plant(MODELS / "wang_smith_1994_ex1_regeneration_reuse" / "plant.yaml"))
    regen = plan.source.regenerators.index[0]
    flows = plan.flows
    to_users = flows.loc[(flows["from"] == regen) & flows["to"].str.startswith("OP"), "flow"].sum()
    assert to_users > 0
    table = plan.indicators.set_index("key")
    assert table.loc["reused_regenerated", "plan"] == pytest.approx(to_users)
    assert table.loc["reclaimed_use", "plan"] == pytest.approx(to_users)  # no reclaimed supply: own regenerated water
    assert table.loc["freshwater", "plan"] == pytest.approx(52.0)
    total_use = 52.0 + table.loc["reused", "plan"]
    assert table.loc["reclaimed_share", "plan"] == pytest.approx(100 * to_users / total_use)
    assert table.loc["reclaimed_share_of_supply", "plan"] == pytest.approx(100 * to_users / (52.0 + to_users))


# ---------------------------------------------------------------- sample plants
@pytest.mark.slow
def test_food_plant_retrofit_indicators_by_hand():
    plant = cascade.read_plant(MODELS / "food_plant_retrofit" / "plant.yaml")
    plan = cascade.optimize(plant)
    t = plan.indicators.set_index("key")
    # baseline (today's pipes): every sink on mains (12+4+4+2+3+3+6+2 = 36 t/h), every source to the sewer
    # (3.6+3.8+3+2.5+1.2+3.5 = 17.6 t/h); the only reuse is the cooling tower's 400 t/h circulation
    assert t.loc["freshwater", "baseline"] == pytest.approx(36.0)
    assert t.loc["wastewater", "baseline"] == pytest.approx(17.6)
    assert t.loc["consumption", "baseline"] == pytest.approx(18.4)
    assert t.loc["reused", "baseline"] == pytest.approx(400.0)
    assert t.loc["reuse_rate", "baseline"] == pytest.approx(100 * 400 / 436)
    assert t.loc["freshwater_per_year", "baseline"] == pytest.approx(36 * 6000)
    assert t.loc["unit_product_intake:juice and tea drinks", "baseline"] == pytest.approx(36 * 6000 / 60000)
    # the sewer's mix today: COD (3.6*8 + 3.8*120 + 3*1200 + 2.5*15 + 1.2*80 + 3.5*1000) / 17.6 = 438.5 <= 500,
    # SS 1288.7 / 17.6 = 73.2 <= 400: all of it compliant
    assert plan.source.discharges.loc["sewer", "max:COD"] == 500
    assert t.loc["compliant_discharge_share", "baseline"] == pytest.approx(100.0)
    # the plan: 23 t/h (expected.json); the sinks still take 36 t/h, so 36 - 23 = 13 t/h is reused water
    assert t.loc["freshwater", "plan"] == pytest.approx(23.0, rel=1e-4)
    assert t.loc["reused", "plan"] == pytest.approx(400 + 13, rel=1e-4)
    assert t.loc["reuse_rate", "plan"] == pytest.approx(100 * 413 / 436, rel=1e-4)
    assert t.loc["wastewater", "plan"] == pytest.approx(17.6 - 13, rel=1e-4)
    assert t.loc["consumption", "plan"] == pytest.approx(18.4, rel=1e-6)
    assert t.loc["unit_product_intake:juice and tea drinks", "plan"] == pytest.approx(23 * 6000 / 60000, rel=1e-4)
    flows = plan.flows
    reclaimed = (flows.loc[flows["from"] == "park_reclaimed", "flow"].sum()
                 + flows.loc[(flows["from"] == "mbr") & (flows["to"] != "sewer"), "flow"].sum())
    assert t.loc["reclaimed_use", "plan"] == pytest.approx(reclaimed)
    assert t.loc["reclaimed_share", "plan"] == pytest.approx(100 * reclaimed / 436, rel=1e-4)
    into_mbr = flows.loc[flows["to"] == "mbr", "flow"].sum()
    mbr_to_users = flows.loc[(flows["from"] == "mbr") & (flows["to"] != "sewer"), "flow"].sum()
    from_reclaimed = flows.loc[flows["from"] == "park_reclaimed", "flow"].sum()
    expected = {  # the rest of the table, each by hand from the file and the plan's own flows
        "freshwater_per_year": (36 * 6000, 23 * 6000), "wastewater_per_year": (17.6 * 6000, 4.6 * 6000),
        "intake_fresh": (36, 23 - from_reclaimed), "intake_reclaimed": (0, from_reclaimed), "intake_rain": (0, 0),
        "intake_other": (0, 0), "reused_series": (0, 13 - mbr_to_users), "reused_recycled": (0, 0),
        "reused_regenerated": (0, mbr_to_users), "recirculation": (400, 400), "total_use": (436, 436),
        "regenerated": (0, into_mbr), "reclaimed_share_of_supply": (0, 100 * reclaimed / (23 + mbr_to_users)),
        "nonconventional_share": (0, 100 * from_reclaimed / 23), "compliant_discharge_share": (100, 100),
    }
    for key, (before, after) in expected.items():
        assert t.loc[key, "baseline"] == pytest.approx(before, abs=1e-6), key
        assert t.loc[key, "plan"] == pytest.approx(after, rel=1e-4, abs=1e-6), key
    assert t.loc[["water_per_value_added", "wue"], ["baseline", "plan"]].isna().all().all()  # no data given
    rows = plan.eligibility().set_index("criterion")
    assert plan.industry == "food"
    assert bool(rows.loc["1 reuse rate", "passes"]) and bool(rows.loc["1 reuse rate", "passes_baseline"])
    assert rows.loc["1 reuse rate", "margin"] == pytest.approx(100 * 413 / 436 - 65, rel=1e-4)
    assert rows.loc["discharge", "plan"] == pytest.approx(100.0)
    assert plan.eligibility().attrs["eligible"] is True


@pytest.mark.slow
def test_park_indicators_and_criteria_by_hand():
    plan = cascade.optimize(cascade.read_plant(MODELS / "industrial_park_3plants" / "park.yaml"))
    t = plan.indicators.set_index("key")
    # baseline: 110 t/h of sinks on supplies (50 mains + 60 reclaimed main), 90.5 t/h of sources discharged
    assert t.loc["freshwater", "baseline"] == pytest.approx(110.0)
    assert t.loc["intake_reclaimed", "baseline"] == pytest.approx(60.0)
    assert t.loc["wastewater", "baseline"] == pytest.approx(90.5)
    # value added 4.0e8 CNY/yr = 40 000 x 10^4 CNY; 8000 h: 110 * 8000 / 40000 = 22.0, plan 19.5 * 8000 / 40000 = 3.9
    assert t.loc["water_per_value_added", "baseline"] == pytest.approx(22.0)
    assert t.loc["water_per_value_added", "plan"] == pytest.approx(3.9, rel=1e-4)
    # the plan: no sink lost, so reuse = 110 - 19.5 = 90.5 t/h; R = 90.5 / 110
    assert t.loc["reuse_rate", "plan"] == pytest.approx(100 * 90.5 / 110, rel=1e-4)
    assert t.loc["wastewater", "plan"] == pytest.approx(0.0, abs=1e-6)
    flows = plan.flows
    mains = flows.loc[flows["from"].str.endswith("/mains"), "flow"].sum()
    reclaimed_main = flows.loc[flows["from"] == "reclaimed_main", "flow"].sum()
    into_ro = flows.loc[flows["to"] == "shared_mbr_ro", "flow"].sum()
    ro_to_users = flows.loc[(flows["from"] == "shared_mbr_ro") & (flows["to"] != "park_wwtp"), "flow"].sum()
    reused = 110 - 19.5
    # the park WWTP today: COD (7*40 + 5*800 + 2*80 + 18*1500 + 28*400 + 14*2000 + 6*5 + 5*2500 + 5.5*300) / 90.5
    # = 84 820 / 90.5 = 937 <= 1000, SS 12 701 / 90.5 = 140 <= 400: all compliant
    expected = {
        "freshwater_per_year": (880_000, 156_000), "wastewater_per_year": (724_000, 0), "intake_fresh": (50, mains),
        "intake_reclaimed": (60, reclaimed_main), "reused": (0, reused), "reused_regenerated": (0, ro_to_users),
        "reused_series": (0, reused - ro_to_users), "reused_recycled": (0, 0), "recirculation": (0, 0),
        "total_use": (110, 110), "consumption": (19.5, 19.5), "regenerated": (0, into_ro),
        "reclaimed_use": (60, reclaimed_main + ro_to_users),
        "reclaimed_share": (100 * 60 / 110, 100 * (reclaimed_main + ro_to_users) / 110),
        "reclaimed_share_of_supply": (100 * 60 / 110, 100 * (reclaimed_main + ro_to_users) / (19.5 + ro_to_users)),
        "nonconventional_share": (100 * 60 / 110, 100 * reclaimed_main / 19.5),
        "compliant_discharge_share": (100, None),  # nothing is discharged in the plan
    }
    assert mains + reclaimed_main == pytest.approx(19.5, rel=1e-4)
    for key, (before, after) in expected.items():
        assert t.loc[key, "baseline"] == pytest.approx(before), key
        if after is None:
            assert t.loc[key, "plan"] != t.loc[key, "plan"], key  # NaN: cannot be judged
        else:
            assert t.loc[key, "plan"] == pytest.approx(after, rel=1e-4, abs=1e-6), key
    rows = plan.eligibility().set_index("criterion")
    assert not rows.loc["1 reuse rate", "passes"] and rows.loc["1 reuse rate", "threshold"] == 94
    assert rows.loc["2 water efficiency", "passes"] and rows.loc["2 water efficiency", "margin"] == pytest.approx(
        6.7 - 3.9, rel=1e-4)
    assert not rows.loc["2 water efficiency", "passes_baseline"]
    assert rows.loc["discharge", "passes"] is None and rows.loc["discharge", "note"] == "nothing is discharged"
    assert plan.eligibility().attrs["eligible"] is True


# ---------------------------------------------------------------- micro-plants
def test_compliant_discharge_share_by_hand():
    plant = cascade.read_plant({
        "format": "cascade-plant/1", "name": "two drains", "contaminants": ["COD"],
        "freshwater": [{"id": "FW"}], "sinks": [{"id": "D", "flow": 20}],
        "sources": [{"id": "A", "flow": 5, "quality": {"COD": 100}}, {"id": "B", "flow": 15, "quality": {"COD": 600}},
                    {"id": "E", "flow": 4, "quality": {"COD": 900}}],
        "discharges": [{"id": "river", "max": {"COD": 150}}, {"id": "sewer", "max": {"COD": 500}},
                       {"id": "tank"}],
    })
    graph = cascade.build_superstructure(plant)
    flows = {("FW", "D"): 20.0, ("A", "river"): 5.0, ("B", "sewer"): 15.0, ("E", "tank"): 4.0}
    inlet = cascade.check_flows(graph, flows).inlet
    # river gets 100 <= 150 (5 t/h compliant), sewer 600 > 500 (15 t/h not), the tank has no limit (not judged)
    assert kpi.compliant_discharge_share(graph, flows, inlet) == pytest.approx(5 / 20)
    flows = {("FW", "D"): 20.0, ("A", "sewer"): 5.0, ("B", "sewer"): 15.0, ("E", "tank"): 4.0}
    inlet = cascade.check_flows(graph, flows).inlet  # sewer mix (500 + 9000) / 20 = 475 <= 500
    assert kpi.compliant_discharge_share(graph, flows, inlet) == pytest.approx(1.0)


def test_declared_recirculation_counts_as_reuse():
    plant = _plant(indicators={"recirculation": {"cooling_tower": 30, "chiller": 10}})
    graph = cascade.build_superstructure(plant)
    flows = {("FW", "D"): 10.0}
    assert kpi.reused(graph, flows) == 40.0 and kpi.reuse_rate(graph, flows) == pytest.approx(40 / 50)


def test_data_centre_wue_and_value_added_by_hand():
    plant = _plant(hours_per_year=8760, industry="data_center",
                   indicators={"it_energy": 1.5e7, "value_added": 2.0e8})
    plan = cascade.optimize(plant)
    t = plan.indicators.set_index("key")
    # 10 t/h x 8760 h = 87 600 m3 = 8.76e7 L over 1.5e7 kWh = 5.84 L/kWh
    assert t.loc["wue", "plan"] == pytest.approx(5.84)
    assert t.loc["water_per_value_added", "plan"] == pytest.approx(87_600 / 20_000)
    row = plan.eligibility().set_index("criterion").loc["2 water efficiency"]
    assert row["comparison"] == "<=" and row["threshold"] == 1.4 and not row["passes"]
    assert row["margin"] == pytest.approx(1.4 - 5.84)


def test_unit_product_intake_against_a_quota():
    production = [{"product": "milk", "amount": 40000, "unit": "t", "share": 0.75, "quota_advanced": 1.6,
                   "quota_source": "a local quota"},
                  {"product": "whey", "amount": 8000, "unit": "t", "share": 0.25}]
    plan = cascade.optimize(_plant(indicators={"production": production}))
    t = plan.indicators.set_index("key")
    assert t.loc["unit_product_intake:milk", "plan"] == pytest.approx(0.75 * 80_000 / 40_000)  # 1.5 m3/t
    assert t.loc["unit_product_intake:whey", "plan"] == pytest.approx(0.25 * 80_000 / 8_000)
    rows = plan.eligibility("other")
    assert list(rows["indicator"]) == ["unit-product intake: milk", "reclaimed water share of total use",
                                       "compliant discharge share"]  # whey has no quota; 'other': no reuse threshold
    milk = rows.iloc[0]
    assert milk["passes"] and milk["margin"] == pytest.approx(0.1) and milk["note"] == "advanced value of a local quota"


def _indicators(**values):
    base = {"reuse_rate": 0.0, "reclaimed_share": 0.0, "reclaimed_share_of_supply": 0.0, "wastewater": 1.0,
            "compliant_discharge_share": None, "water_per_value_added": None, "wue": None, "unit_product_intake": []}
    return {**base, **values}


@pytest.mark.parametrize(("values", "industry", "criterion", "passes"), [
    ({"reuse_rate": 0.65}, "food", "1 reuse rate", False),  # "> 65 %": equal is not enough
    ({"reuse_rate": 0.6501}, "food", "1 reuse rate", True),
    ({"reuse_rate": 0.97}, "steel", "1 reuse rate", False),
    ({"reuse_rate": 0.79}, "textile", "1 reuse rate", True),
    ({"reclaimed_share": 0.25}, None, "3 reclaimed water", True),  # "达到25%以上": 25 % itself counts
    ({"wue": 1.4}, "data_center", "2 water efficiency", True),  # "不高于1.4"
    ({"water_per_value_added": 6.7}, "industrial_park", "2 water efficiency", False),  # "小于6.7"
    ({"compliant_discharge_share": 0.98}, None, "discharge", True),  # Yangling: "不低于98%"
])
def test_thresholds_as_the_texts_state_them(values, industry, criterion, passes):
    rows = eligibility(_indicators(), _indicators(**values), industry).set_index("criterion")
    assert bool(rows.loc[criterion, "passes"]) is passes


def test_eligible_needs_one_miit_criterion():
    rows = eligibility(_indicators(), _indicators(reuse_rate=0.5, reclaimed_share=0.3), "food")
    assert rows.attrs["eligible"] is True  # criterion 3 alone is enough
    rows = eligibility(_indicators(), _indicators(reuse_rate=0.5, reclaimed_share=0.1), "food")
    assert rows.attrs["eligible"] is False
    with pytest.raises(ValueError, match="unknown industry 'dairy'; use one of steel"):
        eligibility(_indicators(), _indicators(), "dairy")


# ---------------------------------------------------------------- the plant file
def test_plant_file_industry_and_indicators_round_trip():
    plant = _plant(units={"flow": "m3/h"}, industry="food",
                   indicators={"recirculation": 120, "value_added": 3.5e7,
                               "production": [{"product": "tofu", "amount": 9000, "unit": "t", "quota_advanced": 9}]})
    again = cascade.read_plant(plant.to_dict())
    assert again.equals(plant) and again.industry == "food" and again.recirculation() == 120
    assert "industry: food" in plant.to_yaml() and "recirculation: 120" in plant.to_yaml()


@pytest.mark.parametrize(("extra", "message"), [
    ({"industry": "dairy"}, "industry 'dairy' is not known; use one of steel, petrochemical_chemical"),
    ({"indicators": {"value_add": 1}}, "unknown field 'value_add'"),
    ({"indicators": {"value_added": -5}}, "indicators.value_added must be positive"),
    ({"indicators": {"recirculation": {"ct": -1}}}, "recirculation: flows must not be negative"),
    ({"indicators": {"production": [{"product": "a", "amount": 1}, {"product": "b", "amount": 2}]}},
     "with several products each needs 'share'"),
    ({"indicators": {"production": [{"product": "a"}]}}, "needs 'amount'"),
])
def test_plant_file_bad_indicator_data_is_named(extra, message):
    with pytest.raises(PlantDataError, match=message):
        _plant(**extra)


def test_yaml_reads_exponent_numbers():
    text = ("format: cascade-plant/1\nname: x\ncontaminants: [C]\nfreshwater: [{id: FW}]\n"
            "sinks: [{id: D, flow: 1}]\nindicators: {value_added: 4.0e8, it_energy: 1e6}\n")
    plant = cascade.read_plant(cascade.io.parse_yaml(text))
    assert plant.indicator_data == {"value_added": 4.0e8, "it_energy": 1e6}
