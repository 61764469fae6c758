"""The library of water-quality standards (``cascade.standards``), limits from a standard in plant
files and builders, their round trip, the ``unverified_limit`` warning and ``cascade standards``.

The expected numbers below are written out by hand from the sources named in each standard's
``source`` (GB/T 18920-2020: the page-checked transcription of Table 1 and Table 2; GB 8978-1996:
Table 4 as reproduced by m.lovfp.com and 360docs.net), so a changed number in the package data fails.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

import cascade
from cascade import Plant, PlantDataError, StandardLimitError, UnknownStandardError, read_plant, write_plant
from cascade.cli import main
from cascade.io import parse_yaml, plant_to_dict
from cascade.standards import get_standard, match_parameter, resolve_reference, sink_limits, standards
from cascade.sweep import apply_changes

ROOT = Path(__file__).resolve().parents[1]
IDS = [
    "GB/T 18920-2020", "GB/T 19923-2005", "GB/T 18921-2002", "GB 5084-2005", "GB 8978-1996", "GB/T 31962-2015",
    "EU 2020/741", "US EPA 2012",
]
A_USES = ("toilet_flushing", "vehicle_washing")  # column A of GB/T 18920-2020 Table 1
B_USES = ("urban_greening", "road_cleaning", "fire_fighting", "construction")  # column B

# GB/T 18920-2020 Table 1, upper limits: parameter -> (column A, column B, unit); None: no requirement ("—").
GBT18920_MAX = {
    "color": (15, 30, "Pt-Co unit"),
    "turbidity": (5, 10, "NTU"),
    "BOD5": (10, 10, "mg/L"),
    "NH3_N": (5, 8, "mg/L"),
    "LAS": (0.5, 0.5, "mg/L"),
    "Fe": (0.3, None, "mg/L"),
    "Mn": (0.1, None, "mg/L"),
    "TDS": (1000, 1000, "mg/L"),
    "E_coli": (0, 0, "MPN/100mL or CFU/100mL"),
    "chloride": (350, 350, "mg/L"),  # Table 2, selective
    "sulfate": (500, 500, "mg/L"),  # Table 2, selective
}

# GB 8978-1996 Table 4 (other / all discharging units): parameter -> (grade 1, grade 2, grade 3, verification).
GB8978_MAX = {
    "SS": (70, 150, 400, "S2"),
    "BOD5": (20, 30, 300, "S2"),
    "COD": (100, 150, 500, "S2"),
    "NH3_N": (15, 25, None, "S2"),
    "animal_vegetable_oil": (10, 15, 100, "S2"),
    "formaldehyde": (1.0, 2.0, 5.0, "S2"),
    "color": (50, 80, None, "S2"),
    "petroleum_oil": (5, 10, 20, "S"),
    "volatile_phenol": (0.5, 0.5, 2.0, "S"),
    "total_cyanide": (0.5, 0.5, 1.0, "S"),
    "sulfide": (1.0, 1.0, 1.0, "S"),
    "fluoride": (10, 10, 20, "S"),
    "phosphate_P": (0.5, 1.0, None, "S"),
    "aniline": (1.0, 2.0, 5.0, "S"),
    "nitrobenzene": (2.0, 3.0, 5.0, "S"),
    "LAS": (5.0, 10, 20, "S"),
    "Cu": (0.5, 1.0, 2.0, "S"),
    "Zn": (2.0, 5.0, 5.0, "S"),
    "Mn": (2.0, 2.0, 5.0, "S"),
}

IRRIGATION = """\
format: cascade-plant/1
name: irrigation reuse
contaminants: [BOD5, NH3_N]
freshwater:
  - {id: FW, quality: {BOD5: 0, NH3_N: 0}}
sources:
  - {id: S, flow: 10, quality: {BOD5: 40, NH3_N: 0}}
sinks:
  - id: irrigation
    flow: 8
    max: {standard: GB/T 18920-2020, use: urban_greening}
discharges:
  - id: sewer
    max: {standard: GB 8978-1996, use: grade_3}
"""


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def irrigation_file(tmp_path, text: str = IRRIGATION) -> Path:
    path = tmp_path / "irrigation.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ the library
def test_the_library_holds_the_water_quality_standards_and_no_policy():
    assert [s.id for s in standards()] == IDS
    assert all(s.verification in ("T", "S2", "S", "P", "U") for s in standards())
    assert not any("MIIT" in s.id or "Yangling" in s.id for s in standards())
    for std in standards():
        assert std.source and std.title and std.year > 1990
        for use, limits in std.uses.items():
            for parameter, limit in limits.items():
                assert limit.parameter == parameter and limit.kind in ("max", "min", "range", "text", "max_exclusive")
                assert limit.verification in ("T", "S2", "S", "P", "U"), (std.id, use, parameter)
    assert standards() is not standards() and standards()[0] is standards()[0]  # copies of one cached library


def test_package_data_ships_the_library():
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "data/*.json" in package_data["cascade"]
    assert json.loads((ROOT / "cascade/data/standards.json").read_text(encoding="utf-8"))["format"] == \
        "cascade-standards/1"


def test_gbt_18920_2020_equals_the_page_checked_transcription():
    std = get_standard("GB/T 18920-2020")
    assert std.verification == "T" and list(std.uses) == [*A_USES, *B_USES]
    for use in (*A_USES, *B_USES):
        limits = std.limits(use)
        column = 0 if use in A_USES else 1
        for parameter, (*values, unit) in GBT18920_MAX.items():
            expected = values[column]
            if expected is None:
                assert parameter not in limits, (use, parameter)
                continue
            limit = limits[parameter]
            assert (limit.kind, limit.value, limit.unit, limit.verification) == ("max", expected, unit, "T"), (
                use, parameter)
        assert limits["pH"].kind == "range" and limits["pH"].value == (6.0, 9.0)
        assert limits["DO"].kind == "min" and limits["DO"].value == 2.0
        assert limits["odor"].kind == "text" and "无不快感" in limits["odor"].value
        assert limits["TDS"].alt_max == 2000
        assert limits["chloride"].optional and limits["sulfate"].optional and not limits["BOD5"].optional
        chlorine = limits["total_chlorine"]
        # >= 1.0 at the plant outlet everywhere; note b: at most 2.5 mg/L for urban greening
        assert (chlorine.kind, chlorine.value) == (("range", (1.0, 2.5)) if use == "urban_greening" else ("min", 1.0))
    greening = std.limits("urban_greening")
    assert (greening["BOD5"].value, greening["NH3_N"].value, greening["turbidity"].value) == (10, 8, 10)
    assert greening["turbidity"].unit == "NTU"
    assert "61467351891" in std.source and "all agree" in std.source


def test_gb_8978_1996_table_4_values_and_per_number_verification():
    std = get_standard("GB 8978-1996")
    assert std.verification == "S2" and list(std.uses) == ["grade_1", "grade_2", "grade_3"]
    for parameter, (*grades, level) in GB8978_MAX.items():
        for use, expected in zip(std.uses, grades, strict=True):
            limits = std.limits(use)
            if expected is None:
                assert parameter not in limits, (use, parameter)
                continue
            assert (limits[parameter].kind, limits[parameter].value, limits[parameter].unit) == (
                "max", expected, "dilution factor" if parameter == "color" else "mg/L"), (use, parameter)
            assert limits[parameter].verification == level, (use, parameter)
    assert std.limits("grade_1")["pH"].value == (6.0, 9.0)
    assert "m.lovfp.com" in std.source and "360docs.net" in std.source


def test_other_standards_spot_values_and_their_verification():
    assert get_standard("GB 5084-2005").limits("paddy_crops")["COD"].value == 150
    temperature = get_standard("GB 5084-2005").limits("paddy_crops")["water_temperature"]
    assert (temperature.value, temperature.verification) == (35, "P")  # the two sources disagree (35, 25)
    assert get_standard("GB 5084-2005").limits("paddy_crops")["COD"].verification == "S2"
    boiler = get_standard("GB/T 19923-2005").limits("boiler_makeup")
    assert (boiler["COD"].value, boiler["COD"].verification) == (60, "P") and "inferred" in boiler["COD"].note
    eu = get_standard("EU 2020/741").limits("class_A")
    assert (eu["E_coli"].value, eu["BOD5"].value, eu["SS"].value, eu["turbidity"].value) == (10, 10, 10, 5)
    assert (eu["Legionella"].kind, eu["Legionella"].value) == ("max_exclusive", 1000)
    assert get_standard("EU 2020/741").limits("class_B")["BOD5"].kind == "text"
    epa = get_standard("US EPA 2012")
    assert epa.limits("urban_reuse_restricted")["BOD5"].verification == "S"
    assert epa.limits("urban_reuse_unrestricted")["BOD5"].verification == "P"
    assert all(not limits for limits in get_standard("GB/T 31962-2015").uses.values())


def test_ids_match_without_regard_to_case_and_spacing():
    assert get_standard("gb/t  18920-2020").id == "GB/T 18920-2020"
    assert get_standard(" eu 2020/741 ").id == "EU 2020/741"


@pytest.mark.parametrize("bad", ["GB 9999", "GBT18920-2020", ""])
def test_an_unknown_standard_lists_every_id(bad):
    with pytest.raises(UnknownStandardError) as raised:
        get_standard(bad)
    assert isinstance(raised.value, PlantDataError)
    assert all(i in str(raised.value) for i in IDS)
    with pytest.raises(UnknownStandardError):
        sink_limits(bad, "grade_1", contaminants=["COD"])


def test_an_unknown_use_lists_the_uses():
    with pytest.raises(StandardLimitError, match="grade_1, grade_2, grade_3") as raised:
        sink_limits("GB 8978-1996", "grade_4", contaminants=["COD"])
    assert "did you mean 'grade_3'" in str(raised.value)


# ------------------------------------------------------------------ sink_limits
def test_limits_by_name_and_alias_with_provenance():
    limits, provenance = sink_limits(
        "GB 8978-1996", "grade_3", contaminants=["CODcr", "TSS", "oil", "NH3-N", "pH", "colour_X"])
    assert limits == {"CODcr": 500.0, "TSS": 400.0, "oil": 20.0}
    by = {p["contaminant"]: p for p in provenance if p["contaminant"]}
    assert by["oil"]["parameter"] == "petroleum_oil" and by["oil"]["verification"] == "S"
    assert by["NH3-N"]["status"] == "no_limit"  # grade 3 sets no NH3-N limit
    assert by["colour_X"]["status"] == "no_limit"
    assert by["pH"]["status"] == "not_modelled" and by["pH"]["requirement"] == "6-9"
    unmatched = {p["parameter"] for p in provenance if p["status"] == "unmatched"}
    assert {"BOD5", "animal_vegetable_oil", "Zn"} <= unmatched and "COD" not in unmatched


@pytest.mark.parametrize(("name", "parameter"), [
    ("NH3-N", "NH3_N"), ("nh3_n", "NH3_N"), ("ammonia", "NH3_N"), ("COD_Cr", "COD"), ("CODcr", "COD"),
    ("BOD", "BOD5"), ("BOD_5", "BOD5"), ("TSS", "SS"), ("oil", "petroleum_oil"), ("E. coli", "E_coli"),
    ("sulphate", "sulfate"), ("NH3", None), ("CODMn", None),
])
def test_aliases(name, parameter):
    assert match_parameter(name, get_standard("GB/T 18920-2020").parameters()
                           + get_standard("GB 8978-1996").parameters()) == parameter


def test_only_upper_limits_are_mixing_limits():
    limits, provenance = sink_limits("GB/T 18920-2020", "urban_greening", contaminants=["DO", "pH", "BOD5"])
    assert limits == {"BOD5": 10.0}
    not_modelled = {p["parameter"] for p in provenance if p["status"] == "not_modelled"}
    assert not_modelled == {"DO", "pH", "odor", "total_chlorine"}


def test_verified_numbers_only_unless_asked():
    limits, provenance = sink_limits("GB/T 19923-2005", "process_and_product", contaminants=["COD", "BOD5"])
    assert limits == {}
    skipped = {p["contaminant"]: p for p in provenance if p["status"] == "skipped"}
    assert set(skipped) == {"COD", "BOD5"} and "verification P" in skipped["COD"]["reason"]
    limits, _ = sink_limits("GB/T 19923-2005", "process_and_product", contaminants=["COD", "BOD5"],
                            include_unverified=True)
    assert limits == {"COD": 60.0, "BOD5": 10.0}
    # a P number inside a verified standard: GB 5084 water temperature
    assert sink_limits("GB 5084-2005", "paddy_crops", contaminants=["water_temperature", "COD"])[0] == {"COD": 150.0}


def test_optional_and_alternative_limits():
    contaminants = ["TDS", "chloride"]
    assert sink_limits("GB/T 18920-2020", "road_cleaning", contaminants=contaminants)[0] == {"TDS": 1000.0}
    assert sink_limits("GB/T 18920-2020", "road_cleaning", contaminants=contaminants, optional=True,
                       alternative=True)[0] == {"TDS": 2000.0, "chloride": 350.0}


def test_other_units_only_when_mapped_explicitly():
    limits, provenance = sink_limits("GB/T 18920-2020", "urban_greening", contaminants=["turbidity"])
    assert limits == {} and provenance[0]["status"] == "skipped"
    assert "in NTU, not mg/L" in provenance[0]["reason"] and "map: {turbidity: turbidity}" in provenance[0]["reason"]
    limits, provenance = sink_limits("GB/T 18920-2020", "urban_greening", contaminants=["turb"],
                                     mapping={"turb": "turbidity"})
    assert limits == {"turb": 10.0}
    applied = next(p for p in provenance if p["status"] == "applied")
    assert (applied["unit"], applied["reason"]) == ("NTU", "mapped explicitly")


def test_a_map_to_a_parameter_of_another_use_says_so():
    with pytest.raises(StandardLimitError) as raised:
        sink_limits("GB 8978-1996", "grade_3", contaminants=["ammonium"], mapping={"ammonium": "NH3_N"})
    assert "limits it for grade_1, grade_2, not for grade_3" in str(raised.value)


def test_a_bad_mapping_names_the_problem():
    with pytest.raises(StandardLimitError) as raised:
        sink_limits("GB/T 18920-2020", "urban_greening", contaminants=["X"], mapping={"X": "Fe"})
    assert "no parameter 'Fe'" in str(raised.value) and "BOD5, NH3_N, LAS" in str(raised.value)  # its parameters
    with pytest.raises(StandardLimitError, match="not a contaminant of the plant"):
        sink_limits("GB/T 18920-2020", "urban_greening", contaminants=["X"], mapping={"Y": "BOD5"})
    with pytest.raises(StandardLimitError, match="upper limits only"):
        sink_limits("GB/T 18920-2020", "urban_greening", contaminants=["oxygen"], mapping={"oxygen": "DO"})


def test_a_use_without_numbers_asks_for_them():
    with pytest.raises(StandardLimitError, match="no numbers") as raised:
        sink_limits("GB/T 31962-2015", "grade_B", contaminants=["COD"])
    assert "give the limits yourself" in str(raised.value)


# ------------------------------------------------------------------ plant files
def test_a_plant_file_with_limits_from_standards_solves_to_the_hand_optimum(tmp_path):
    plant = read_plant(irrigation_file(tmp_path))
    sink = plant.sinks.loc["irrigation"]
    greening = get_standard("GB/T 18920-2020").limits("urban_greening")
    assert (sink["max:BOD5"], sink["max:NH3_N"]) == (greening["BOD5"].value, greening["NH3_N"].value) == (10, 8)
    assert plant.discharges.loc["sewer", "max:BOD5"] == 300  # GB 8978-1996 grade 3; no NH3-N limit there
    assert plant.discharges["max:NH3_N"].isna().all()
    source = plant.limit_sources[("sinks", "irrigation", "max")]
    assert source["limits"]["BOD5"] == {"value": 10.0, "parameter": "BOD5", "verification": "T", "unit": "mg/L"}
    assert {p["parameter"] for p in source["not_modelled"]} == {"pH", "odor", "DO", "total_chlorine"}
    assert plant.validation.findings == []
    plan = cascade.optimize(plant)
    # 8 t/h at BOD5 <= 10 from a 40 ppm source and 0 ppm water: 40 x <= 80, so 2 t/h reused, 6 t/h fresh
    assert plan.status == "optimal" and plan.freshwater == pytest.approx(6.0)
    flows = {(r["from"], r["to"]): r["flow"] for r in plan.flows.to_dict(orient="records")}
    assert flows[("S", "irrigation")] == pytest.approx(2.0) and flows[("FW", "irrigation")] == pytest.approx(6.0)
    assert flows[("S", "sewer")] == pytest.approx(8.0) and plan.check.passed


def test_round_trip_writes_the_reference_not_the_numbers(tmp_path):
    text = IRRIGATION.replace("use: grade_3}", "use: grade_2, map: {NH3_N: ammonia}, BOD5: 25}")
    plant = read_plant(irrigation_file(tmp_path, text))
    assert plant.discharges.loc["sewer", "max:BOD5"] == 25  # the file's own number replaces grade 2's 30
    assert plant.discharges.loc["sewer", "max:NH3_N"] == 25  # grade 2's, mapped through an alias
    sewer = plant.limit_sources[("discharges", "sewer", "max")]
    assert sewer["overrides"] == {"BOD5": {"value": 25.0, "replaces": 30.0}}
    out = tmp_path / "out.yaml"
    write_plant(plant, out)
    data = parse_yaml(out.read_text(encoding="utf-8"))
    assert data["sinks"][0]["max"] == {"standard": "GB/T 18920-2020", "use": "urban_greening"}
    assert data["discharges"][0]["max"] == {"standard": "GB 8978-1996", "use": "grade_2", "map": {"NH3_N": "ammonia"},
                                            "BOD5": 25}
    again = read_plant(out)
    assert again.equals(plant) and again.limit_sources == plant.limit_sources
    json_path = tmp_path / "out.json"
    write_plant(plant, json_path)
    assert read_plant(json_path).equals(plant)


def test_the_builder_takes_a_reference_too(tmp_path):
    built = (
        Plant("irrigation reuse", ["BOD5", "NH3_N"])
        .add_freshwater("FW", {"BOD5": 0, "NH3_N": 0})
        .add_sink("irrigation", 8, {"standard": "GB/T 18920-2020", "use": "urban_greening"})
        .add_source("S", 10, {"BOD5": 40, "NH3_N": 0})
        .add_discharge("sewer", {"standard": "GB 8978-1996", "use": "grade_3"})
    )
    assert built.equals(read_plant(irrigation_file(tmp_path)))
    with pytest.raises(UnknownStandardError, match="sink 'D': max: unknown standard 'GB 1'"):
        Plant("x", ["C"]).add_sink("D", 1, {"standard": "GB 1", "use": "x"})
    with pytest.raises(PlantDataError, match="'quality' cannot name a standard"):
        Plant("x", ["C"]).add_source("S", 1, {"standard": "GB 8978-1996", "use": "grade_1"})


def test_a_change_to_one_contaminant_becomes_an_override():
    plant = read_plant(parse_yaml(IRRIGATION))
    changed = apply_changes(plant, {"sinks.irrigation.max.BOD5": 5})
    assert changed.sinks.loc["irrigation", "max:BOD5"] == 5 and changed.sinks.loc["irrigation", "max:NH3_N"] == 8
    assert changed.limit_sources[("sinks", "irrigation", "max")]["overrides"]["BOD5"]["replaces"] == 10


def test_an_operation_inlet_limit_from_a_standard():
    data = parse_yaml(IRRIGATION)
    data["operations"] = [{"id": "wash", "load": {"BOD5": 0.1},
                           "max_inlet": {"standard": "GB/T 18920-2020", "use": "vehicle_washing"},
                           "max_outlet": {"BOD5": 100}}]
    plant = read_plant(data)
    assert plant.operations.loc["wash", "max_inlet:NH3_N"] == 5  # column A
    assert plant_to_dict(plant)["operations"][0]["max_inlet"] == {"standard": "GB/T 18920-2020",
                                                                  "use": "vehicle_washing"}


GREENING = "max: {standard: GB/T 18920-2020, use: urban_greening}"


@pytest.mark.parametrize(("reference", "texts"), [
    ("{standard: GB 9999, use: urban_greening}", ["sink 'irrigation': max: unknown standard 'GB 9999'", *IDS]),
    ("{standard: GB/T 18920-2020, use: greening}",
     ["sink 'irrigation': max: GB/T 18920-2020 has no use 'greening'", "toilet_flushing, vehicle_washing"]),
    ("{standard: GB/T 18920-2020, use: urban_greening, map: {NH3_N: Fe}}",
     ["sink 'irrigation': max: map: 'NH3_N' -> 'Fe'", "its parameters are: pH, color"]),
    ("{standard: GB/T 18920-2020, use: urban_greening, unverified: maybe}",
     ["sink 'irrigation': max: 'unverified' must be true or false"]),
    ("{standard: GB/T 18920-2020, use: urban_greening, BOD5: ten}",
     ["sink 'irrigation': max: 'BOD5' must be a number"]),
    ("{standard: GB/T 31962-2015, use: grade_B}", ["sink 'irrigation': max: GB/T 31962-2015 grade_B", "no numbers"]),
], ids=["standard", "use", "map", "flag", "override", "no numbers"])
def test_bad_references_in_a_plant_file_name_the_unit_and_exit_2(capsys, tmp_path, reference, texts):
    path = irrigation_file(tmp_path, IRRIGATION.replace(GREENING, f"max: {reference}"))
    with pytest.raises(PlantDataError) as raised:
        read_plant(path)
    assert all(t in str(raised.value) for t in texts), str(raised.value)
    code, out, err = run(capsys, "solve", path)
    assert code == 2 and out == "" and texts[0] in err and "Traceback" not in err


def test_a_standard_without_numbers_may_be_cited_with_the_users_own():
    # the library lacks GB/T 31962-2015's numbers; 123 stands for a limit the user agreed with the WWTP
    limits, source = resolve_reference({"standard": "GB/T 31962-2015", "use": "grade_B", "BOD5": 123},
                                       ["BOD5", "NH3_N"])
    assert limits == {"BOD5": 123.0} and source["overrides"] == {"BOD5": {"value": 123.0, "replaces": None}}
    assert source["no_limit"] == ["NH3_N"]


def test_only_limit_fields_may_name_a_standard(tmp_path):
    text = IRRIGATION.replace("quality: {BOD5: 40, NH3_N: 0}", "quality: {standard: GB 8978-1996, use: grade_1}")
    with pytest.raises(PlantDataError, match="source 'S': 'quality' cannot name a standard"):
        read_plant(irrigation_file(tmp_path, text))


# ------------------------------------------------------------------ validation
def test_unverified_numbers_are_warned_about_used_or_skipped(tmp_path):
    reference = "{standard: GB/T 19923-2005, use: boiler_makeup}"
    skipped = read_plant(irrigation_file(tmp_path, IRRIGATION.replace(GREENING, f"max: {reference}")))
    assert skipped.sinks.loc["irrigation", "max:BOD5"] != skipped.sinks.loc["irrigation", "max:BOD5"]  # NaN: none
    (finding,) = skipped.validation.findings
    assert (finding.code, finding.severity, finding.unit) == ("unverified_limit", "warning", "irrigation")
    assert "limits BOD5 (BOD5 <= 10 mg/L, P), NH3_N (NH3_N <= 10 mg/L, P)" in finding.message
    assert "'unverified: true'" in finding.message

    used = read_plant(irrigation_file(tmp_path, IRRIGATION.replace(
        GREENING, f"max: {reference[:-1]}, unverified: true}}")))
    assert (used.sinks.loc["irrigation", "max:BOD5"], used.sinks.loc["irrigation", "max:NH3_N"]) == (10, 10)
    assert used.limit_sources[("sinks", "irrigation", "max")]["limits"]["NH3_N"]["verification"] == "P"
    (finding,) = used.validation.findings
    assert finding.code == "unverified_limit" and "BOD5 <= 10 ppm, NH3_N <= 10 ppm" in finding.message
    assert used.validation.ok  # a warning, not an error


# ------------------------------------------------------------------ command line
def test_cli_lists_every_standard(capsys):
    code, out, err = run(capsys, "standards")
    assert code == 0 and err == ""
    assert all(i in out for i in IDS) and "urban_greening" in out and "grade_3" in out
    code, out, _ = run(capsys, "standards", "--json")
    assert code == 0 and [row["id"] for row in json.loads(out)] == IDS


def test_cli_shows_one_standard_and_one_use(capsys):
    code, out, _ = run(capsys, "standards", "gb/t 18920-2020")
    assert code == 0
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.split()}
    assert rows["parameter"][2:] == [*A_USES, *B_USES]
    assert rows["BOD5"][1:] == ["mg/L"] + ["<=", "10"] * 6 and rows["turbidity"][1] == "NTU"
    assert "verification: T" in out
    code, out, _ = run(capsys, "standards", "GB 8978-1996", "--use", "grade_3")
    assert code == 0 and "grade_3" in out and "grade_1" not in out.split("parameter")[1].splitlines()[0]
    assert "<= 20 [S]" in out  # petroleum oil: one source
    code, out, _ = run(capsys, "standards", "GB 8978-1996", "--use", "grade_1", "--json")
    data = json.loads(out)
    assert list(data["uses"]) == ["grade_1"] and data["uses"]["grade_1"]["COD"]["max"] == 100


@pytest.mark.parametrize(("argv", "texts"), [
    (["standards", "GB 9999"], IDS),
    (["standards", "GB 8978-1996", "--use", "grade_9"], ["grade_1, grade_2, grade_3"]),
    (["standards", "--use", "grade_1"], ["--use needs a standard"]),
])
def test_cli_unknown_standard_or_use_exits_2(capsys, argv, texts):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert all(t in err for t in texts)


def test_the_documented_example_reads():
    text = (ROOT / "docs/plant-format.md").read_text(encoding="utf-8").split("## Limits from a standard")[1]
    example = parse_yaml(text.split("```yaml\n")[1].split("```")[0])
    plant = read_plant({"format": "cascade-plant/1", "name": "doc", "contaminants": ["BOD5", "COD", "fog"],
                        "freshwater": [{"id": "FW"}], **example})
    assert plant.sinks.loc["irrigation", "max:BOD5"] == 10 and plant.sinks["max:COD"].isna().all()
    sewer = plant.discharges.loc["sewer"]
    assert (sewer["max:COD"], sewer["max:BOD5"], sewer["max:fog"]) == (400, 300, 100)
