"""Meters and their readings: the data of a water balance test (水平衡测试, GB/T 12452-2022).

A **meter** measures one quantity at one place of the plant network:

* a **flow meter** (``quantity: flow``) on a pipe ``(from, to)`` or at a node, where it reads
  the node's throughput: the intake of a supply, the inflow of a sink, operation, regenerator or
  discharge, the outflow of a source;
* an **analyser** (``quantity``: a contaminant name) at a node, where it reads the concentration
  entering the node (sinks, operations, regenerators, discharges) or leaving it (supplies,
  sources).

Its accuracy is a standard deviation: ``sd`` (absolute, in the plant's flow or concentration
unit), ``rsd`` (relative, a fraction of the reading) or ``accuracy_class`` (the maximum
permissible error in percent of the reading, read as an expanded uncertainty with coverage
factor 2, so ``rsd = accuracy_class / 200``). Its ``level`` is the metering level of GB/T
24789-2022 (1: the plant's boundary, 2: sub-units / workshops, 3: main water-using equipment).
"""

from __future__ import annotations

from dataclasses import dataclass

QUANTITY_FLOW = "flow"
LEVELS = (1, 2, 3)


@dataclass(frozen=True)
class Meter:
    """One meter of the plant.

    Parameters
    ----------
    id : str
        The meter's tag (e.g. ``FT-101``), unique among the plant's meters.
    at : str or tuple of (str, str)
        A node id, or a pipe ``(from, to)``.
    quantity : str, default 'flow'
        ``'flow'`` (t/h) or a contaminant name (ppm).
    rsd : float, optional
        Relative standard deviation (a fraction of the reading).
    sd : float, optional
        Absolute standard deviation in canonical units (t/h or ppm).
    accuracy_class : float, optional
        Maximum permissible error in percent of the reading; ``rsd = accuracy_class / 200``.
    level : int, optional
        Metering level 1, 2 or 3 (GB/T 24789-2022).
    description : str, optional
        Free text.

    Notes
    -----
    Exactly one of ``rsd``, ``sd`` and ``accuracy_class`` is given (checked where meters are read).
    """

    id: str
    at: str | tuple[str, str]
    quantity: str = QUANTITY_FLOW
    rsd: float | None = None
    sd: float | None = None
    accuracy_class: float | None = None
    level: int | None = None
    description: str = ""

    @property
    def on_pipe(self) -> bool:
        """True when the meter sits on a pipe, False when at a node."""
        return isinstance(self.at, tuple)

    @property
    def is_flow(self) -> bool:
        """True for a flow meter, False for an analyser."""
        return self.quantity == QUANTITY_FLOW

    @property
    def relative_sd(self) -> float | None:
        """The relative standard deviation (``rsd``, or ``accuracy_class / 200``); None for an absolute ``sd``."""
        if self.rsd is not None:
            return self.rsd
        if self.accuracy_class is not None:
            return self.accuracy_class / 200.0
        return None

    def standard_deviation(self, reading: float, reference: float = 0.0, floor: float = 1e-9) -> float:
        """The standard deviation of one reading, in canonical units.

        ``sd`` when given; otherwise ``rsd * max(|reading|, reference, floor)``, so a reading
        near zero keeps the uncertainty of the meter at its reference flow (the flow the network
        was designed for) rather than becoming exact.
        """
        if self.sd is not None:
            return self.sd
        rsd = self.relative_sd
        if rsd is None:
            raise ValueError(f"meter '{self.id}' has no accuracy (give rsd, sd or accuracy_class)")
        return rsd * max(abs(reading), reference, floor)
