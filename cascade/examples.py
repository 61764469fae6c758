"""Small plants shipped with the package: literature cases built in code and the demo food plant.

* :func:`wang_smith` - Wang & Smith (1994), Example 1: four fixed-load operations, one
  contaminant; published minimum fresh water 90 t/h (no reuse: 112.5 t/h), pinch 100 ppm.
* :func:`polley` - Polley & Polley (2000): four fixed-flow sinks and four sources; published
  minimum fresh water 70 t/h, wastewater 50 t/h, pinch 150 ppm.
* :func:`demo` - the embedded default plant of ``cascade demo``: a small food plant with costs
  (package data ``cascade/data/demo_food_plant.yaml``; its sources are in ``models/demo_food_plant``).
"""

from __future__ import annotations

from importlib import resources

from .plant import Plant


def wang_smith() -> Plant:
    """Wang, Y.P. & Smith, R. (1994) Wastewater minimisation, Chem. Eng. Sci. 49(7), 981-1006, Ex. 1."""
    return (
        Plant("Wang & Smith (1994) Example 1", ["C"])
        .add_freshwater("FW", {"C": 0})
        .add_operation("OP1", {"C": 2}, {"C": 0}, {"C": 100})
        .add_operation("OP2", {"C": 5}, {"C": 50}, {"C": 100})
        .add_operation("OP3", {"C": 30}, {"C": 50}, {"C": 800})
        .add_operation("OP4", {"C": 4}, {"C": 400}, {"C": 800})
    )


def polley() -> Plant:
    """Polley, G.T. & Polley, H.L. (2000) Design better water networks, Chem. Eng. Prog. 96(2), 47-52."""
    plant = Plant("Polley & Polley (2000)", ["C"]).add_freshwater("FW", {"C": 0})
    for name, flow, limit in (("D1", 50, 20), ("D2", 100, 50), ("D3", 80, 100), ("D4", 70, 200)):
        plant.add_sink(name, flow, {"C": limit})
    for name, flow, quality in (("S1", 50, 50), ("S2", 100, 100), ("S3", 70, 150), ("S4", 60, 250)):
        plant.add_source(name, flow, {"C": quality})
    return plant


DEMO_RESOURCE = "demo_food_plant.yaml"


def demo() -> Plant:
    """The embedded default plant solved by ``cascade demo``."""
    from .io import parse_yaml, read_plant

    text = resources.files("cascade").joinpath("data", DEMO_RESOURCE).read_text(encoding="utf-8")
    return read_plant(parse_yaml(text, DEMO_RESOURCE))
