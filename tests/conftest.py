"""Shared fixtures: small hand-checkable plants built in code."""

from __future__ import annotations

import pytest

from cascade import Plant


def micro(source_quality: float = 100.0, sink_max: float = 50.0) -> Plant:
    """One supply at 0 ppm, one 10 t/h sink, one 10 t/h source (optimum by hand)."""
    return (
        Plant("micro", ["C"])
        .add_freshwater("FW", {"C": 0})
        .add_sink("D", 10, {"C": sink_max})
        .add_source("S", 10, {"C": source_quality})
    )


@pytest.fixture
def micro_plant() -> Plant:
    return micro()
