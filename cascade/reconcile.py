"""Data reconciliation: meter readings adjusted so that every water balance closes.

Notation (Narasimhan & Jordache, *Data Reconciliation and Gross Error Detection*, 2000, ch. 3 and 7).
``y`` are the readings of the flow meters, ``x`` the true values they measure, ``Sigma =
diag(sigma^2)`` their variances (:meth:`cascade.metering.Meter.standard_deviation`), ``z`` the
network's unknowns and ``B z = c`` its balances (:mod:`cascade.balance`). Each meter adds a row
``x_m - z_v(m) = 0`` tying it to the flow it reads, so the whole system is ``A x + B' z = c'``.

**Adjustment.** The reconciled readings solve the convex quadratic programme

.. math::

    \\min_{x, z} \\sum_m \\left(\\frac{x_m - y_m}{\\sigma_m}\\right)^2
    \\quad \\text{s.t.} \\quad A x + B' z = c', \\quad x \\ge 0, \\quad z \\ge 0,

solved with HiGHS (:func:`cascade.solve.solve_qp`; a leak's size is free). The unknowns are
removed by a projection ``P`` with ``P B' = 0`` (Crowe, Garcia Campos & Hrymak, 1983), which leaves
the reduced balances ``G x = g`` with ``G = P A`` and ``g = P c'``. Without active bounds the
solution is ``x^ = y - Sigma G' V^+ r`` with residual ``r = G y - g`` and ``V = G Sigma G'``.

**Observability and redundancy.** An unknown is *observable* when the meters fix it: its row of a
basis of the null space of ``B'`` is zero. Others are reported as not observable and never given a
value; for each, the unmetered pipes and units whose meter alone would fix it are listed. A meter
is *redundant* when the other meters and the balances also fix its flow (its column of ``G`` is
not zero); only redundant meters are adjusted, and only they can be tested.

**Gross errors.** The *global test* compares ``gamma = r' V^+ r`` with the chi-square quantile
``chi2(1 - alpha, rank V)``. Each hypothesis ``k``, a bias in one meter (``f_k = G e_m``) or a
leak at one unit (``f_k = P e_row``, water lost from its balance), has the generalised likelihood
ratio statistic ``T_k = (f_k' V^+ r)^2 / (f_k' V^+ f_k)`` (for a meter, the square of the maximum
power measurement test), its estimated size ``b_k = f_k' V^+ r / (f_k' V^+ f_k)`` and standard
deviation ``(f_k' V^+ f_k)^{-1/2}``. Under no gross error each ``T_k`` is chi-square with one
degree of freedom; the largest is compared with ``chi2(1 - beta, 1)``, ``beta`` the Šidák level
of ``alpha`` over the tests made. **Serial elimination** (Narasimhan & Mah, 1987): while the global
test fails and the largest ``T_k`` passes its threshold, the hypothesis is accepted (a biased
meter is taken out, a leak becomes an unknown of its balance) and the tests are made again.
Hypotheses whose signatures ``f`` are parallel cannot be told apart from the data: they are
reported together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .balance import BalanceModel, Variable, balance_model, describe, network_graph
from .exceptions import PlantDataError, SolverError
from .metering import Meter, Readings
from .plant import Plant
from .solve import solve_qp
from .statistics import chi2_ppf, chi2_sf, sidak
from .units import factor

#: Singular values below this (relative to the largest) count as zero.
RANK_TOLERANCE = 1e-9
#: A row of a null-space basis shorter than this is zero: its unknown is observable.
OBSERVABLE = 1e-7
#: Two hypotheses whose signatures have a cosine above this cannot be told apart.
PARALLEL = 1.0 - 1e-6


# ----------------------------------------------------------------------------- linear algebra
def _null_space(matrix: np.ndarray) -> np.ndarray:
    """An orthonormal basis of the null space of ``matrix`` (columns)."""
    if matrix.shape[0] == 0:
        return np.eye(matrix.shape[1])
    _, s, vt = np.linalg.svd(matrix)
    rank = int(np.sum(s > RANK_TOLERANCE * max(s.max(initial=0.0), 1.0)))
    return vt[rank:].T


def _spaces(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From one SVD of ``matrix``: orthonormal bases of its left null space (rows ``p`` with ``p matrix = 0``)
    and of its null space (columns), and its pseudo-inverse."""
    rows, cols = matrix.shape
    if matrix.size == 0:
        return np.eye(rows), np.eye(cols), np.zeros((cols, rows))
    u, s, vt = np.linalg.svd(matrix)
    rank = int(np.sum(s > RANK_TOLERANCE * max(s.max(initial=0.0), 1.0)))
    pinv = (vt[:rank].T / s[:rank]) @ u[:, :rank].T
    return u[:, rank:].T, vt[rank:].T, pinv


def _observed(matrix: np.ndarray, metered: Iterable[int]) -> set[int]:
    """The columns of ``matrix`` (unknowns of ``matrix z = c``) fixed once the columns ``metered`` are measured.

    An unknown is fixed when its row of a basis of the null space is zero; the metered ones are included.
    """
    metered = set(metered)
    keep = [j for j in range(matrix.shape[1]) if j not in metered]
    null = _null_space(matrix[:, keep])
    norms = np.linalg.norm(null, axis=1) if null.shape[1] else np.zeros(len(keep))
    return {keep[i] for i in range(len(keep)) if norms[i] < OBSERVABLE} | metered


def _pinv(matrix: np.ndarray) -> tuple[np.ndarray, int]:
    """Pseudo-inverse and rank of a symmetric positive semi-definite matrix."""
    if matrix.size == 0:
        return matrix.copy(), 0
    values, vectors = np.linalg.eigh(matrix)
    keep = values > RANK_TOLERANCE * max(values.max(initial=0.0), 1e-300)
    inverse = (vectors[:, keep] / values[keep]) @ vectors[:, keep].T
    return inverse, int(keep.sum())


# ----------------------------------------------------------------------------- the system
@dataclass
class _System:
    """``A x + B z = c`` for one set of meters in use and one set of accepted leaks."""

    model: BalanceModel
    meters: list[int]  # indices into the list of flow meters, in use
    targets: list[int]  # the model column each meter in use reads
    leaks: list[str]  # units whose leak is an unknown

    def __post_init__(self) -> None:
        k, n, m = len(self.model.rows), len(self.model.variables), len(self.meters)
        leak_columns = np.zeros((k, len(self.leaks)))
        for j, unit in enumerate(self.leaks):
            leak_columns[self.model.leak_rows[unit], j] = -1.0
        link = np.zeros((m, n))
        link[np.arange(m), self.targets] = -1.0
        self.a = np.vstack([np.zeros((k, m)), np.eye(m)])
        self.b = np.vstack([np.hstack([self.model.matrix, leak_columns]),
                            np.hstack([link, np.zeros((m, len(self.leaks)))])])
        self.c = np.concatenate([self.model.rhs, np.zeros(m)])
        self.p, self.null, self.b_pinv = _spaces(self.b)
        self.g = self.p @ self.a
        self.g0 = self.p @ self.c

    @property
    def observable(self) -> np.ndarray:
        """True for each unknown (model variables, then leaks) the meters fix."""
        if self.null.shape[1] == 0:
            return np.ones(self.b.shape[1], dtype=bool)
        return np.linalg.norm(self.null, axis=1) < OBSERVABLE

    def leak_signature(self, unit: str) -> np.ndarray:
        """``P e_row``: how a leak at ``unit`` shows in the reduced balances."""
        row = np.zeros(self.b.shape[0])
        row[self.model.leak_rows[unit]] = 1.0
        return self.p @ row


@dataclass
class _Estimate:
    """The linear (equality-constrained) estimate and its statistics for one vector of readings."""

    system: _System
    y: np.ndarray
    sd: np.ndarray
    x: np.ndarray = field(init=False)
    residual: np.ndarray = field(init=False)
    v_pinv: np.ndarray = field(init=False)
    dof: int = field(init=False)
    gamma: float = field(init=False)
    x_cov: np.ndarray = field(init=False)
    gain: np.ndarray = field(init=False)
    adjustment_var: np.ndarray = field(init=False)
    v_max: float = field(init=False)

    def __post_init__(self) -> None:
        g, sigma = self.system.g, np.diag(self.sd**2)
        self.residual = g @ self.y - self.system.g0
        v = g @ sigma @ g.T
        self.v_pinv, self.dof = _pinv(v)
        self.v_max = float(np.linalg.eigvalsh(v).max(initial=0.0)) if v.size else 0.0
        self.gain = gain = sigma @ g.T @ self.v_pinv
        self.x = self.y - gain @ self.residual
        adjustment_cov = gain @ g @ sigma
        self.adjustment_var = np.clip(np.diag(adjustment_cov), 0.0, None)
        self.x_cov = sigma - adjustment_cov
        self.gamma = float(self.residual @ self.v_pinv @ self.residual) if self.dof else 0.0

    def redundant(self) -> np.ndarray:
        """True for each meter in use whose reading the balances can check."""
        return self.adjustment_var > 1e-9 * self.sd**2

    def glr(self, signature: np.ndarray) -> tuple[float, float, float] | None:
        """``(T, size, sd of size)`` of one hypothesis, or None when the data cannot see it."""
        s = self.v_pinv @ signature
        d = float(signature @ s)
        norm2 = float(signature @ signature)
        if self.dof == 0 or norm2 < 1e-16 or d * self.v_max < 1e-8 * norm2:
            return None  # the signature is (numerically) outside what the residuals can show
        t = float(s @ self.residual)
        return t * t / d, t / d, d**-0.5

    def unknowns(self, x: np.ndarray | None = None) -> np.ndarray:
        """Values of the unknowns given reconciled readings ``x`` (default the closed form's)."""
        system = self.system
        return system.b_pinv @ (system.c - system.a @ (self.x if x is None else x))

    def unknown_cov(self, part: np.ndarray | None = None) -> np.ndarray:
        """Covariance of the unknowns, ``B'^+ A Cov(x^) A' B'^+'`` (meaningful for the observable ones).

        ``part``: the variances of one part of the readings' errors (e.g. the random part), for the
        covariance that part alone gives: ``Cov(x^) = (I - K G) diag(part) (I - K G)'`` with ``K`` the
        gain; with all of the errors (the default) that is ``Sigma - K G Sigma``.
        """
        transfer = self.system.b_pinv @ self.system.a
        if part is None:
            return transfer @ self.x_cov @ transfer.T
        transfer = transfer @ (np.eye(len(self.y)) - self.gain @ self.system.g)
        return (transfer * np.asarray(part, float)) @ transfer.T

    def unknown_sd(self) -> np.ndarray:
        """Standard deviations of the unknowns (meaningful for the observable ones)."""
        return np.sqrt(np.clip(np.diag(self.unknown_cov()), 0.0, None))


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True)
class GrossError:
    """One gross error accepted by serial elimination.

    Attributes
    ----------
    kind : {'meter', 'leak'}
        A biased meter or water lost at a unit.
    where : str
        The meter id or the unit.
    size : float
        The estimated bias (t/h; positive: the meter reads high) or leak (t/h lost).
    sd : float
        Standard deviation of ``size``.
    statistic, critical : float
        The test statistic and the threshold it passed.
    alternatives : tuple of str
        Hypotheses the data cannot tell from this one (``meter FT-3``, ``leak at boiler``).
    """

    kind: str
    where: str
    size: float
    sd: float
    statistic: float
    critical: float
    alternatives: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``meter FT-3`` or ``leak at boiler``."""
        return f"meter {self.where}" if self.kind == "meter" else f"leak at {self.where}"


@dataclass(frozen=True)
class GlobalTest:
    """The global (chi-square) test of one set of readings: ``statistic`` against ``critical``."""

    statistic: float
    dof: int
    critical: float | None
    p_value: float | None
    level: float

    @property
    def passed(self) -> bool | None:
        """True when the readings agree with the balances at the level (None without redundancy)."""
        return None if self.critical is None else self.statistic <= self.critical


def _global_test(estimate: _Estimate, level: float) -> GlobalTest:
    if estimate.dof == 0:
        return GlobalTest(0.0, 0, None, None, level)
    return GlobalTest(estimate.gamma, estimate.dof, chi2_ppf(1.0 - level, estimate.dof),
                      chi2_sf(estimate.gamma, estimate.dof), level)


@dataclass(frozen=True)
class Reconciliation:
    """The outcome of one water balance test (:func:`reconcile`); flows in t/h.

    Attributes
    ----------
    plant : Plant
        The plant tested.
    graph : networkx.DiGraph
        The network reconciled (:func:`cascade.balance.network_graph`).
    measurements : pandas.DataFrame
        One row per meter: ``meter``, ``at``, ``quantity``, ``level``, ``reading``, ``sd``,
        ``reconciled``, ``adjustment`` (reconciled - reading), ``standardised`` (``a / sd(a)``, whose
        absolute value is the measurement test; NaN when not redundant), ``redundant``
        and ``status`` ('used', 'biased' (taken out by serial elimination), 'no reading', or
        'analyser' for concentration meters, which flow balances do not use).
    flows : pandas.DataFrame
        One row per pipe: ``from``, ``to``, ``flow`` (NaN when not observable), ``sd``,
        ``observable``, ``metered`` (meter ids) and ``reference`` (today's or the plan's flow).
    units : pandas.DataFrame
        One row per unit: ``unit``, ``kind``, ``throughput``, ``sd``, ``observable``, ``metered``,
        ``leak`` (t/h, 0 unless a leak was accepted there) and ``reference``.
    consumption : pandas.DataFrame
        One row per process unit with inlets and outlets: ``unit``, ``consumption``, ``sd``,
        ``observable``, ``reference``.
    gross_errors : list of GrossError
        What serial elimination accepted, in order.
    raw_test, final_test : GlobalTest
        The global test before any elimination, and after the last.
    unlocated : bool
        True when the final global test still fails but no single hypothesis passes its threshold.
    unobservable : pandas.DataFrame
        The unknowns the meters do not fix: ``quantity`` (in words), ``kind``, ``where``, and
        ``fixed_by``: the unmetered pipes and units a meter on which alone would fix it.
    suggested_meters : list of str
        A small set of places to meter that makes every unknown observable (greedy).
    bounds_active : list of str
        Unknowns held at zero by the bounds (the statistics assume no bound is active).
    closure : float
        Largest balance residual of the reconciled values (t/h), the independent check.
    level : float
        The statistical level of the tests.
    meters : list of Meter
        The meters of the test.
    """

    plant: Plant
    graph: Any
    measurements: pd.DataFrame
    flows: pd.DataFrame
    units: pd.DataFrame
    consumption: pd.DataFrame
    gross_errors: list[GrossError]
    raw_test: GlobalTest
    final_test: GlobalTest
    unlocated: bool
    unobservable: pd.DataFrame
    suggested_meters: list[str]
    bounds_active: list[str]
    closure: float
    level: float
    meters: list[Meter] = field(default_factory=list)

    @property
    def observable(self) -> bool:
        """True when every pipe, unit and consumption is observable."""
        return self.unobservable.empty

    def flow_map(self) -> dict[tuple[str, str], float]:
        """Reconciled pipe flows ``{(from, to): t/h}`` (observable pipes only)."""
        ok = self.flows[self.flows["observable"]]
        return {(a, b): float(q) for a, b, q in zip(ok["from"], ok["to"], ok["flow"], strict=True)}

    def balance_table(self) -> pd.DataFrame:
        """The water balance table in the GB/T 12452 form (:func:`cascade.water_balance.balance_table`)."""
        from .water_balance import balance_table

        return balance_table(self)

    def coverage(self) -> pd.DataFrame:
        """Metering coverage per level against the requirements (:func:`cascade.water_balance.coverage`)."""
        from .water_balance import coverage

        return coverage(self)

    def indicators(self) -> dict[str, Any] | None:
        """The plant's indicators on the reconciled flows (:func:`cascade.water_balance.indicators`)."""
        from .water_balance import indicators

        return indicators(self)

    def summary(self) -> str:
        """A few lines for people: the tests, the gross errors, what is not observable."""
        lines = [f"Water balance test of {self.plant.name}: {len(self.flows)} pipes, "
                 f"{int((self.measurements['status'] == 'used').sum())} flow meters used"]
        lines.append(f"  global test before: {_test_text(self.raw_test)}")
        for error in self.gross_errors:
            alt = f" (or: {', '.join(error.alternatives)})" if error.alternatives else ""
            lines.append(f"  found {error.label}: {error.size:+.4g} t/h +/- {error.sd:.2g}, "
                         f"T = {error.statistic:.1f} > {error.critical:.1f}{alt}")
        if self.gross_errors:
            lines.append(f"  global test after: {_test_text(self.final_test)}")
        if self.unlocated:
            lines.append("  the readings still disagree with the balances, but no single meter or leak explains it")
        if not self.unobservable.empty:
            lines.append(f"  not observable ({len(self.unobservable)}): " + ", ".join(self.unobservable["quantity"]))
            lines.append(f"  meter these to observe everything: {', '.join(self.suggested_meters)}")
        lines.append(f"  largest balance residual after reconciliation: {self.closure:.2g} t/h")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON, flows in the plant file's flow unit (``flow_unit``), NaN as None.

        Holds the tests, gross errors, measurements, flows, units, consumption, what is not
        observable and the suggested meters, the balance table, the metering coverage and the
        indicators (None unless every pipe is observable; shares as fractions).
        """
        unit = self.plant.units.get("flow", "t/h")
        scale = 1.0 / factor("flow", unit)
        flow_columns = {"reading", "sd", "reconciled", "adjustment", "flow", "reference", "throughput", "leak",
                        "consumption", "intake", "reused_in", "total_use", "discharge", "reused_out", "loss",
                        "closure", "total", "metered"}

        def records(frame: pd.DataFrame, index: str | None = None) -> list[dict[str, Any]]:
            frame = frame.reset_index() if index else frame
            out = []
            for row in frame.to_dict("records"):
                flow_row = row.get("quantity", "flow") == "flow"
                out.append({k: _plain(v * scale if k in flow_columns and flow_row and _is_number(v) else v)
                            for k, v in row.items()})
            return out

        def test(t: GlobalTest) -> dict[str, Any]:
            return {"statistic": t.statistic, "dof": t.dof, "critical": t.critical, "p_value": t.p_value,
                    "passed": t.passed, "level": t.level}

        indicators = self.indicators()
        return {
            "plant": self.plant.name,
            "flow_unit": unit,
            "level": self.level,
            "global_test": {"raw": test(self.raw_test), "final": test(self.final_test)},
            "gross_errors": [
                {"kind": e.kind, "where": e.where, "size": e.size * scale, "sd": e.sd * scale,
                 "statistic": e.statistic, "critical": e.critical, "alternatives": list(e.alternatives)}
                for e in self.gross_errors
            ],
            "unlocated": self.unlocated,
            "measurements": records(self.measurements),
            "flows": records(self.flows),
            "units": records(self.units),
            "consumption": records(self.consumption),
            "unobservable": records(self.unobservable),
            "suggested_meters": list(self.suggested_meters),
            "bounds_active": list(self.bounds_active),
            "closure": self.closure * scale,
            "balance_table": records(self.balance_table(), index="unit"),
            "coverage": records(self.coverage()),
            "indicators": None if indicators is None else {k: _plain(v) for k, v in indicators.items()},
        }


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _test_text(test: GlobalTest) -> str:
    if test.critical is None:
        return "no redundancy (nothing to test)"
    verdict = "passed" if test.passed else "FAILED"
    return f"{test.statistic:.2f} vs {test.critical:.2f} (dof {test.dof}, p = {test.p_value:.3g}): {verdict}"


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not np.isfinite(value) else float(value)
    return value


# ----------------------------------------------------------------------------- the test
def _meter_target(meter: Meter, model: BalanceModel) -> int:
    """The model column a flow meter reads; a clear error when it is not in the network."""
    column = model.column
    if meter.on_pipe:
        key: Variable = ("pipe", *meter.at)
        if key not in column:
            raise PlantDataError(
                f"meter '{meter.id}' is on pipe {meter.at[0]} -> {meter.at[1]}, which is not a pipe of the "
                "network being balanced; meter a pipe that exists, or add the pipe to connections.existing"
            )
    else:
        key = ("node", meter.at)
        if key not in column:
            raise PlantDataError(
                f"meter '{meter.id}' is at '{meter.at}', which no pipe of the network being balanced touches"
            )
    return column[key]


def _placements(model: BalanceModel) -> list[tuple[int, str]]:
    """Where a new flow meter could go: every pipe and every unit's throughput (column, words)."""
    return [(k, describe(v)) for k, v in enumerate(model.variables) if v[0] in ("pipe", "node")]


def _readings_vector(readings: Any) -> tuple[pd.Series, pd.Series | None]:
    """One value per meter, and how many readings each is the mean of (None: one reading each)."""
    if isinstance(readings, Readings):
        return readings.mean(), readings.count()  # the mean over the test period
    if isinstance(readings, pd.DataFrame):
        raise PlantDataError("reconcile takes one reading per meter (a Series or mapping); use reconcile_series "
                             "for a time series")
    return pd.Series(dict(readings) if isinstance(readings, Mapping) else readings, dtype=float), None


def reconcile(
    plant: Plant,
    readings: Mapping[str, float] | pd.Series | Any,
    *,
    meters: Sequence[Meter] | None = None,
    flows: Mapping[tuple[str, str], float] | None = None,
    level: float = 0.05,
    eliminate: bool = True,
) -> Reconciliation:
    """Reconcile one set of flow readings with the plant's water balances, and look for gross errors.

    Parameters
    ----------
    plant : Plant
        The plant, with today's pipes in ``connections.existing`` (or give ``flows``).
    readings : mapping or pandas.Series or cascade.metering.Readings
        Meter id -> reading in canonical units (t/h; ppm for analysers). A
        :class:`~cascade.metering.Readings` time series is reduced to its mean per meter (the
        usual test: readings averaged over the test period), each with the standard deviation of a
        mean of its ``n`` readings, :meth:`~cascade.metering.Meter.mean_sd`: only the random part
        of the error (the meter's ``repeatability``) averages out, so without a repeatability the
        mean has the accuracy of one reading. Missing or NaN readings leave their meter out.
    meters : sequence of Meter, optional
        Default: the plant's (``plant.meters``).
    flows : mapping of (from, to) -> t/h, optional
        The network to balance (a plan's flows); default today's pipes.
    level : float, default 0.05
        The statistical level ``alpha`` of the global test and of the family of hypothesis tests.
    eliminate : bool, default True
        Run serial elimination (otherwise only test).

    Returns
    -------
    Reconciliation

    Raises
    ------
    PlantDataError
        A meter on a pipe or unit the network does not have, a reading of an unknown meter, or a
        plant without pipes.
    SolverError
        HiGHS found no solution of the adjustment (the readings and balances cannot be reconciled
        with non-negative flows).
    """
    if not 0.0 < level < 0.5:
        raise PlantDataError(f"level must be between 0 and 0.5 (e.g. 0.05), got {level}")
    test = BalanceTest(plant, meters=meters, flows=flows, level=level)
    values, counts = _readings_vector(readings)
    return test.run(values, counts=counts, eliminate=eliminate)


class BalanceTest:
    """A water balance test prepared once (network, balances, meters) and run on readings.

    :func:`reconcile` runs one; :func:`reconcile_series` one per timestamp, reusing the
    projections of every set of meters already seen.

    Parameters
    ----------
    plant, meters, flows, level
        As for :func:`reconcile`.
    """

    def __init__(self, plant: Plant, *, meters: Sequence[Meter] | None = None,
                 flows: Mapping[tuple[str, str], float] | None = None, level: float = 0.05) -> None:
        if not 0.0 < level < 0.5:
            raise PlantDataError(f"level must be between 0 and 0.5 (e.g. 0.05), got {level}")
        self.plant = plant
        self.level = level
        self.meters = list(plant.meters if meters is None else meters)
        self.graph = network_graph(plant, flows)
        self.model = balance_model(self.graph)
        self.flow_meters = [m for m in self.meters if m.is_flow]
        self.targets = [_meter_target(m, self.model) for m in self.flow_meters]
        self._systems: dict[tuple, _System] = {}
        self._suggestions: dict[tuple, tuple[pd.DataFrame, list[str]]] = {}

    def system(self, active: list[int], leaks: list[str]) -> _System:
        """The balances with these meters in use and these leaks accepted (cached)."""
        key = (tuple(active), tuple(leaks))
        if key not in self._systems:
            self._systems[key] = _System(self.model, list(active), [self.targets[k] for k in active], list(leaks))
        return self._systems[key]

    def flow_covariance(self, result: Reconciliation, *, random_only: bool = False) -> pd.DataFrame:
        """Covariance of the reconciled pipe flows of one result of this test, in (t/h)^2.

        ``B'^+ A Cov(x^) A' B'^+'`` of the linear estimate (module notes) rebuilt with the meters
        that ``result`` used (their readings and standard deviations) and the leaks it accepted. A
        :class:`Reconciliation` holds only the standard deviations (its diagonal); the covariances
        are what a function of several flows (a mixed concentration, a sum) needs. Rows and
        columns are the pipes ``"from -> to"`` in the order of ``result.flows``; the entries of a
        pipe that is not observable mean nothing (its flow is NaN there). When a bound of the QP is
        active the linear estimate is an approximation of the spread of the bounded one.

        ``random_only=True`` gives the part that the meters' random errors cause
        (:meth:`~cascade.metering.Meter.random_sd` of each reading used, zero for a meter without
        ``repeatability``): the part that averages out over time.
        """
        status = result.measurements.set_index("meter")
        active = [k for k, m in enumerate(self.flow_meters) if status.at[m.id, "status"] == "used"]
        ids = [self.flow_meters[k].id for k in active]
        reading = status.loc[ids, "reading"].to_numpy(float)
        estimate = _Estimate(self.system(active, [e.where for e in result.gross_errors if e.kind == "leak"]),
                             reading, status.loc[ids, "sd"].to_numpy(float))
        part = None
        if random_only:
            part = np.array([self.flow_meters[k].random_sd(r, self.model.reference[self.targets[k]]) ** 2
                             for k, r in zip(active, reading, strict=True)])
        n_pipes = self.graph.number_of_edges()
        labels = [f"{a} -> {b}" for a, b in self.graph.edges]
        return pd.DataFrame(estimate.unknown_cov(part)[:n_pipes, :n_pipes], index=labels, columns=labels)

    def run(self, values: pd.Series | Mapping[str, float], *, counts: pd.Series | Mapping[str, int] | None = None,
            eliminate: bool = True, suggest: bool = True) -> Reconciliation:
        """Reconcile one reading per meter (canonical units); see :func:`reconcile`.

        ``counts`` (meter id -> n) says that a value is the mean of ``n`` readings, with the
        standard deviation :meth:`~cascade.metering.Meter.mean_sd` (default: one reading each).
        ``suggest=False`` skips the search for meters that would make unobservable flows
        observable (the list of unobservable flows is still given).
        """
        values = pd.Series(values, dtype=float)
        by_id = {m.id: m for m in self.meters}
        unknown = sorted(set(values.index) - set(by_id))
        if unknown:
            raise PlantDataError(f"readings of unknown meters: {', '.join(map(str, unknown))}; "
                                 f"the meters are: {', '.join(by_id) or '(none)'}")
        model, level = self.model, self.level
        reading = np.array([float(values.get(m.id, np.nan)) for m in self.flow_meters])
        bad = [m.id for m, r in zip(self.flow_meters, reading, strict=True) if np.isfinite(r) and r < 0]
        if bad:
            raise PlantDataError(f"flow meters cannot read below zero: {', '.join(bad)}")
        n = {} if counts is None else dict(counts)
        sd = np.array([
            m.mean_sd(r, int(n.get(m.id, 1)), model.reference[t]) if np.isfinite(r) else np.nan
            for m, r, t in zip(self.flow_meters, reading, self.targets, strict=True)
        ])
        active = [k for k in range(len(self.flow_meters)) if np.isfinite(reading[k])]
        leaks: list[str] = []
        errors: list[GrossError] = []
        estimate = _Estimate(self.system(active, leaks), reading[active], sd[active])
        raw_test = _global_test(estimate, level)
        unlocated = False
        while eliminate:
            test = _global_test(estimate, level)
            if test.passed is None or test.passed:
                break
            found = _locate(estimate, self.flow_meters, active, leaks, model, level)
            if found is None:
                unlocated = True
                break
            errors.append(found)
            if found.kind == "meter":
                active = [k for k in active if self.flow_meters[k].id != found.where]
            else:
                leaks = [*leaks, found.where]
            estimate = _Estimate(self.system(active, leaks), reading[active], sd[active])
        final_test = _global_test(estimate, level)
        return _result(self, reading, sd, active, leaks, estimate, errors, raw_test, final_test, unlocated, suggest)


def _locate(estimate: _Estimate, flow_meters: list[Meter], active: list[int], leaks: list[str],
            model: BalanceModel, level: float) -> GrossError | None:
    """The most likely gross error, when it passes its threshold (see the module's notes)."""
    system = estimate.system
    hypotheses: list[tuple[str, str, np.ndarray]] = []
    for position, k in enumerate(active):
        hypotheses.append(("meter", flow_meters[k].id, system.g[:, position]))
    for unit in model.leak_rows:
        if unit not in leaks:
            hypotheses.append(("leak", unit, system.leak_signature(unit)))
    scored = []
    for kind, where, signature in hypotheses:
        result = estimate.glr(signature)
        if result is not None and (kind == "meter" or result[1] > 0):  # a leak loses water, never gains it
            scored.append((result, kind, where, signature))
    if not scored:
        return None
    critical = chi2_ppf(1.0 - sidak(level, len(scored)), 1)
    # parallel hypotheses score the same; ties go to the first listed (meters before leaks)
    best = max(item[0][0] for item in scored)
    (t, size, size_sd), kind, where, signature = next(item for item in scored if item[0][0] >= best * (1 - 1e-9))
    if t <= critical:
        return None
    norm = float(signature @ estimate.v_pinv @ signature)
    alternatives = []
    for _, kind2, where2, signature2 in scored:
        if (kind2, where2) == (kind, where):
            continue
        cosine = abs(float(signature2 @ estimate.v_pinv @ signature)) / np.sqrt(
            norm * float(signature2 @ estimate.v_pinv @ signature2))
        if cosine > PARALLEL:
            alternatives.append(f"meter {where2}" if kind2 == "meter" else f"leak at {where2}")
    return GrossError(kind, where, size, size_sd, t, critical, tuple(sorted(alternatives)))


def _adjust(estimate: _Estimate) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Reconciled readings and unknowns from the bounded QP (HiGHS); columns held at a bound."""
    system = estimate.system
    y, sd = estimate.y, estimate.sd
    m, n = len(y), system.b.shape[1]
    # x = y + sd * xi: minimise 1/2 |xi|^2 subject to A diag(sd) xi + B z = c - A y, x >= 0, z >= 0 (leaks free)
    a = np.hstack([system.a * sd, system.b])
    rhs = system.c - system.a @ y
    lower = np.concatenate([-y / sd, np.zeros(n)])
    n_model = len(system.model.variables)
    lower[m + n_model:] = -np.inf
    upper = np.full(m + n, np.inf)
    q = np.concatenate([np.ones(m), np.zeros(n)])
    result = solve_qp(q, np.zeros(m + n), a, rhs, lower, upper)
    if result.x is None:
        raise SolverError(f"HiGHS could not reconcile the readings ({result.termination}): no set of non-negative "
                          "flows closes the balances near them")
    x = y + sd * result.x[:m]
    z = result.x[m:]
    linear_z = estimate.unknowns()
    observable = system.observable
    scale = max(1.0, float(np.abs(y).max(initial=1.0)))
    at_bound = [k for k in range(m) if estimate.x[k] < -1e-9 * scale]
    at_bound += [m + j for j in range(n) if observable[j] and np.isfinite(lower[m + j]) and linear_z[j] < -1e-9 * scale]
    if not at_bound:
        # no bound is active, so the closed form is the QP's optimum, without the QP's round-off: use it,
        # once it agrees with what HiGHS found (the independent check of the solver's answer)
        if np.abs(estimate.x - x).max(initial=0.0) > 1e-5 * scale:
            raise SolverError("HiGHS's reconciliation disagrees with the closed-form solution of the same problem "
                              f"by {np.abs(estimate.x - x).max():.3g} t/h")
        x, z = estimate.x, np.where(observable, linear_z, z)
    return x, z, at_bound


def _result(test: BalanceTest, reading: np.ndarray, sd: np.ndarray, active: list[int], leaks: list[str],
            estimate: _Estimate, errors: list[GrossError], raw_test: GlobalTest, final_test: GlobalTest,
            unlocated: bool, suggest: bool) -> Reconciliation:
    plant, graph, model, meters, level = test.plant, test.graph, test.model, test.meters, test.level
    flow_meters, targets = test.flow_meters, test.targets
    system = estimate.system
    if active:
        x, z, at_bound = _adjust(estimate)
    else:
        x, z, at_bound = np.zeros(0), np.zeros(system.b.shape[1]), []
    z_sd = estimate.unknown_sd()
    observable = system.observable
    closure = float(np.abs(system.a @ x + system.b @ z - system.c).max(initial=0.0))
    n_model = len(model.variables)
    value = np.where(observable, z, np.nan)

    # measurements
    position = {k: p for p, k in enumerate(active)}
    redundant = estimate.redundant() if active else np.zeros(0, dtype=bool)
    rows = []
    for meter in meters:
        base = {"meter": meter.id, "at": _where(meter.at), "quantity": meter.quantity, "level": meter.level}
        if not meter.is_flow:
            rows.append({**base, "reading": np.nan, "sd": np.nan, "reconciled": np.nan, "adjustment": np.nan,
                         "standardised": np.nan, "redundant": False, "status": "analyser"})
            continue
        k = flow_meters.index(meter)
        if k in position:
            p = position[k]
            adjustment = x[p] - reading[k]
            var = estimate.adjustment_var[p]
            rows.append({**base, "reading": reading[k], "sd": sd[k], "reconciled": x[p], "adjustment": adjustment,
                         "standardised": adjustment / np.sqrt(var) if redundant[p] else np.nan,
                         "redundant": bool(redundant[p]), "status": "used"})
        else:
            target = targets[k]
            estimate_k = value[target]
            biased = np.isfinite(reading[k])
            rows.append({**base, "reading": reading[k], "sd": sd[k], "reconciled": estimate_k,
                         "adjustment": estimate_k - reading[k] if biased else np.nan, "standardised": np.nan,
                         "redundant": False, "status": "biased" if biased else "no reading"})
    measurements = pd.DataFrame(rows, columns=["meter", "at", "quantity", "level", "reading", "sd", "reconciled",
                                               "adjustment", "standardised", "redundant", "status"])

    metered: dict[int, list[str]] = {}
    for k in active:
        metered.setdefault(targets[k], []).append(flow_meters[k].id)
    flows = pd.DataFrame([
        {"from": v[1], "to": v[2], "flow": value[j], "sd": z_sd[j] if observable[j] else np.nan,
         "observable": bool(observable[j]), "metered": metered.get(j, []), "reference": model.reference[j]}
        for j, v in enumerate(model.variables) if v[0] == "pipe"
    ], columns=["from", "to", "flow", "sd", "observable", "metered", "reference"])
    leak_size = {unit: z[n_model + i] for i, unit in enumerate(leaks)}
    units = pd.DataFrame([
        {"unit": v[1], "kind": graph.nodes[v[1]]["kind"], "throughput": value[j],
         "sd": z_sd[j] if observable[j] else np.nan, "observable": bool(observable[j]),
         "metered": metered.get(j, []), "leak": float(leak_size.get(v[1], 0.0)), "reference": model.reference[j]}
        for j, v in enumerate(model.variables) if v[0] == "node"
    ], columns=["unit", "kind", "throughput", "sd", "observable", "metered", "leak", "reference"])
    consumption = pd.DataFrame([
        {"unit": v[1], "consumption": value[j], "sd": z_sd[j] if observable[j] else np.nan,
         "observable": bool(observable[j]), "reference": model.reference[j]}
        for j, v in enumerate(model.variables) if v[0] == "consumption"
    ], columns=["unit", "consumption", "sd", "observable", "reference"])
    key = (tuple(active), tuple(leaks), suggest)
    if key not in test._suggestions:
        test._suggestions[key] = _unobservable(system, observable, suggest)
    unobservable, suggested = test._suggestions[key]
    names = [describe(v) for v in model.variables] + [f"leak at {u}" for u in leaks]
    bounds_active = [names[k - len(active)] for k in at_bound if k >= len(active)]
    return Reconciliation(plant, graph, measurements, flows, units, consumption, errors, raw_test, final_test,
                          unlocated, unobservable, suggested, bounds_active, closure, level, list(meters))


def _where(at: str | tuple[str, str]) -> str:
    return f"{at[0]} -> {at[1]}" if isinstance(at, tuple) else str(at)


def _unobservable(system: _System, observable: np.ndarray, suggest: bool = True) -> tuple[pd.DataFrame, list[str]]:
    """The unknowns not observable, each with the single meters that would fix it, and a greedy set for all."""
    model = system.model
    n_model = len(model.variables)
    missing = [j for j in range(n_model) if not observable[j]]
    columns = ["quantity", "kind", "where", "fixed_by"]
    if not missing:
        return pd.DataFrame(columns=columns), []

    def row(j: int, fixed_by: list[str]) -> dict[str, Any]:
        v = model.variables[j]
        return {"quantity": describe(v), "kind": v[0], "where": _where(tuple(v[1:]) if len(v) == 3 else v[1]),
                "fixed_by": fixed_by}

    if not suggest:
        return pd.DataFrame([row(j, []) for j in missing], columns=columns), []
    measured = set(system.targets)
    candidates = [(k, words) for k, words in _placements(model) if k not in measured]
    fixes = {k: _observed(system.b, [k]) & set(missing) for k, _ in candidates}
    words = dict(candidates)
    rows = [row(j, [words[k] for k, _ in candidates if j in fixes[k]]) for j in missing]
    # greedy: add the placement that fixes most of what is left, recomputing with the chosen ones metered
    chosen: list[int] = []
    left = set(missing)
    while left:
        best, best_fixed = None, set()
        for k, _ in candidates:
            if k in chosen:
                continue
            fixed = left & _observed(system.b, [*chosen, k])
            if len(fixed) > len(best_fixed):
                best, best_fixed = k, fixed
        if best is None:
            break
        chosen.append(best)
        left -= best_fixed
    return pd.DataFrame(rows, columns=columns), [words[k] for k in chosen]


@dataclass(frozen=True)
class SeriesReconciliation:
    """A water balance test run at every timestamp of a series of readings (:func:`reconcile_series`).

    Attributes
    ----------
    results : dict
        Timestamp -> :class:`Reconciliation`.
    flows, throughput, consumption, leaks, readings, reconciled, standardised : pandas.DataFrame
        Index: the timestamps. Columns: pipes (``a -> b``), units, process units, units (the
        leak accepted there, t/h, 0 when none), meters (readings; reconciled values; standardised
        adjustments ``a / sd(a)``). NaN where a value is not observable or a meter is not redundant.
    tests : pandas.DataFrame
        Per timestamp: ``statistic``, ``dof``, ``critical``, ``passed`` (global test of the raw
        readings), ``final_statistic``, ``final_passed`` (after serial elimination), ``errors``
        (gross errors accepted) and ``unlocated``.
    gross_errors : pandas.DataFrame
        One row per accepted gross error: ``timestamp``, ``kind``, ``where``, ``size``, ``sd``,
        ``statistic``, ``critical``, ``alternatives``.
    """

    results: dict
    flows: pd.DataFrame
    throughput: pd.DataFrame
    consumption: pd.DataFrame
    leaks: pd.DataFrame
    readings: pd.DataFrame
    reconciled: pd.DataFrame
    standardised: pd.DataFrame
    tests: pd.DataFrame
    gross_errors: pd.DataFrame


def reconcile_series(
    plant: Plant,
    readings: Any,
    *,
    meters: Sequence[Meter] | None = None,
    flows: Mapping[tuple[str, str], float] | None = None,
    level: float = 0.05,
    eliminate: bool = True,
) -> SeriesReconciliation:
    """Reconcile every timestamp of a series of readings (see :func:`reconcile`).

    Parameters
    ----------
    plant, meters, flows, level, eliminate
        As for :func:`reconcile`.
    readings : cascade.metering.Readings or pandas.DataFrame
        Readings (``Readings.values``) or a wide frame: index timestamps, columns meter ids,
        canonical units, NaN where a meter gave no reading (it is left out at that timestamp).

    Returns
    -------
    SeriesReconciliation
    """
    frame = readings.values if isinstance(readings, Readings) else readings
    if not isinstance(frame, pd.DataFrame):
        raise PlantDataError("reconcile_series takes a Readings or a DataFrame (timestamps x meters)")
    test = BalanceTest(plant, meters=meters, flows=flows, level=level)
    results = {t: test.run(row.dropna(), eliminate=eliminate, suggest=False) for t, row in frame.iterrows()}
    index = pd.Index(list(results), name=frame.index.name or "timestamp")

    def stack(getter) -> pd.DataFrame:
        return pd.DataFrame([getter(r) for r in results.values()], index=index)

    pipe = [f"{a} -> {b}" for a, b in test.graph.edges]
    tests, errors = [], []
    for t, r in results.items():
        tests.append({"statistic": r.raw_test.statistic, "dof": r.raw_test.dof, "critical": r.raw_test.critical,
                      "passed": r.raw_test.passed, "final_statistic": r.final_test.statistic,
                      "final_passed": r.final_test.passed, "errors": len(r.gross_errors), "unlocated": r.unlocated})
        errors += [{"timestamp": t, "kind": e.kind, "where": e.where, "size": e.size, "sd": e.sd,
                    "statistic": e.statistic, "critical": e.critical, "alternatives": list(e.alternatives)}
                   for e in r.gross_errors]
    meter_ids = [m.id for m in test.flow_meters]

    def per_meter(r: Reconciliation, column: str) -> pd.Series:
        return r.measurements.set_index("meter")[column].reindex(meter_ids)

    return SeriesReconciliation(
        results=results,
        flows=stack(lambda r: pd.Series(r.flows["flow"].to_numpy(), index=pipe)),
        throughput=stack(lambda r: r.units.set_index("unit")["throughput"]),
        consumption=stack(lambda r: r.consumption.set_index("unit")["consumption"]),
        leaks=stack(lambda r: r.units.set_index("unit")["leak"]),
        readings=stack(lambda r: per_meter(r, "reading")),
        reconciled=stack(lambda r: per_meter(r, "reconciled")),
        standardised=stack(lambda r: per_meter(r, "standardised")),
        tests=pd.DataFrame(tests, index=index),
        gross_errors=pd.DataFrame(errors, columns=["timestamp", "kind", "where", "size", "sd", "statistic",
                                                   "critical", "alternatives"]),
    )
