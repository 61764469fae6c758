"""Monitoring: does the plant still run the plan, within its quality limits?

Given a plan (the network of pipes and flows the plant should be running, :func:`plan_flows`) and a
stream of meter readings (timestamps x meters), :func:`monitor` reconciles the flow readings at every
timestamp (:func:`cascade.reconcile.reconcile_series`, against the plan's network) and raises one row
of an alarm table for each of five signals. Every number of the table is in canonical units: flows
in t/h, concentrations in ppm.

Severity is ``'alarm'`` when a limit is broken or water may be lost, ``'warning'`` for a statistical
signal or a value near a limit.

**1. Measured quality** (``source = 'analyser'``). An analyser at a sink, operation, regenerator or
discharge reads the concentration entering it: above the node's inlet limit ``max_in`` it is an
alarm, above ``warn_fraction`` times the limit a warning (``what = 'COD at inlet'``). An analyser at
a supply or source reads the water leaving it, which the plan assumed at its design quality
``C_d``: a reading ``y > C_d + L sigma_y`` (``L = ewma_width``, ``sigma_y`` the analyser's standard
deviation) is a warning (``what = 'COD at outlet'``): the design assumed cleaner water.

**2. Predicted quality** (``source = 'prediction'``). At each timestamp where every pipe flow is
observable, the inlet concentration of every unit is recomputed from the reconciled flows
(:func:`cascade.check.node_concentrations`), with the design quality of supplies and sources
replaced by an analyser's reading there when it has one at that timestamp (the measured water is
what was mixed; without a reading the design is the best knowledge). A prediction ``C`` above the
unit's limit ``C_max`` by more than its own uncertainty, ``C > C_max + L sigma_C``, is an alarm
(``what = 'predicted COD at inlet'``); above ``warn_fraction * C_max`` otherwise (including a limit
crossed within the noise, as a plan that puts a unit at its limit does half of the time) it is a
warning. ``sigma_C^2 = J Sigma_q J'`` is the delta method: ``J`` the gradient of ``C`` with respect
to the pipe flows (finite differences) and ``Sigma_q`` the covariance of the reconciled flows. This
tells whether today's flows still meet the plan's limits where no analyser is installed. Timestamps
with an unobservable flow are skipped and counted in :attr:`Monitoring.notes`.

**3. Flow drift** (``source = 'ewma'``, warning, ``what = 'flow drift'``). For each pipe of the plan,
with ``x_t`` its reconciled flow and ``mu`` its plan flow, the exponentially weighted moving average

.. math::

    z_t = \\lambda x_t + (1 - \\lambda) z_{t-1}, \\qquad z_0 = \\mu,

is compared with the control limits ``mu +/- L sqrt(v_t)``, where ``v_t`` is the variance of ``z_t``
under no drift. The error of a reconciled flow has two parts (:mod:`cascade.metering`): a random
part, independent from one timestamp to the next, which the average smooths, and a systematic
part (the meters' calibration errors), the same at every timestamp, which it does not:

.. math::

    v_t = m_t^2 + r_t, \\qquad m_t = (1 - \\lambda) m_{t-1} + \\lambda \\sigma^{sys}_t, \\qquad
    r_t = (1 - \\lambda)^2 r_{t-1} + \\lambda^2 \\left((\\sigma^{rand}_t)^2 + (\\rho \\mu)^2\\right),
    \\qquad m_0 = r_0 = 0.

``sigma^rand_t`` is the standard deviation that the meters' random errors (their ``repeatability``)
give the reconciled flow at ``t`` (:meth:`cascade.reconcile.BalanceTest.flow_covariance`),
``sigma^sys_t`` the rest of its standard deviation (``results[t].flows["sd"]``), and ``rho =
process_rsd`` a variability of the true flows about the plan. For a constant random ``sigma`` alone
``v_t`` is the textbook ``sigma^2 lambda / (2 - lambda) (1 - (1 - lambda)^{2t})`` (Lucas & Saccucci,
1990); the systematic part adds ``(sigma^sys (1 - (1 - lambda)^t))^2``, so with meters without a
repeatability (all of their error systematic, the default) the limits open to ``+/- L sigma``: an
average cannot know a flow better than its meters' calibration. (``m_t``, a weighted sum of standard
deviations, is the largest the systematic part can be, reached when the same meters carry the flow
throughout.) With ``process_rsd = 0`` (the default) the chart asks whether the flows equal the plan
to the accuracy of the meters; a plant whose flows wander about the plan by a few percent should say
so with ``process_rsd``, or every small offset is reported as drift. A warning is raised
at the first timestamp ``z_t`` leaves the limits, and again only after it has come back to the plan
flow (crossed it), so a flow that hovers about a limit is reported once. Unobservable flows are
skipped (``z`` and ``v`` keep their values; ``t`` counts the updates).

**4. Meter drift** (``source = 'cusum'``, warning). A meter *drifts* when it comes to read differently,
against the balances, from how it read before. For each flow meter, ``s_t = a_t / sd(a_t)`` is its
standardised adjustment (``a_t`` = reconciled - reading,
:attr:`cascade.reconcile.SeriesReconciliation.standardised`). Its calibration error gives ``s_t`` a
level of its own, which is not drift (a level beyond the meter's accuracy is found by check 5), so
the chart is set up on a **baseline**, the first ``baseline`` values of ``s_t`` (Phase I of a
control chart): their mean ``m_0`` and standard deviation ``s_0``. From the next value on, the
two-sided tabular CUSUM of ``u_t = (s_t - m_0) / s_0``:

.. math::

    C^+_t = \\max(0, C^+_{t-1} + u_t - k), \\qquad C^-_t = \\max(0, C^-_{t-1} - u_t - k),
    \\qquad C^\\pm_0 = 0,

with ``k = cusum_k`` and a signal when either exceeds ``h = cusum_h``; that side is then reset to 0.
``C^-`` grows when the meter reads above what the balances say (``what = 'meter drift high'``),
``C^+`` when it reads below (``'meter drift low'``). Missing values are skipped: a meter without a
reading or not redundant, and a meter that serial elimination took out at ``t`` (a bias large
enough for that is reported by check 5). Meters whose standardised adjustments are equal up to
sign (parallel bias signatures: the balances cannot tell them apart) share one chart and one row,
whose message names them all. Signals of the same chart and side at most ``2 h / k`` timestamps
apart (twice the detection time of the one-standard-deviation shift the chart is tuned for) make
one episode and one row: a lasting bias is reported once, with the number of signals. With the
defaults (``k = 0.5``, ``h = 5``) the in-control average run length of a two-sided chart is about
465 timestamps when ``m_0`` and ``s_0`` are exact, and a shift of one standard deviation is found in
about 10. Estimated from a baseline of ``n`` values they shorten the in-control run length (more
false warnings; Jones, Champ & Rigdon, 2004): a longer baseline gives fewer. A meter with fewer than
``baseline + 1`` values, or whose values did not vary over the baseline, has no chart (a note says
so). A drift that started within the baseline is partly taken as the meter's level.

**5. Gross errors** (``source = 'gross error test'``). Each bias or leak that serial elimination
accepts (:attr:`cascade.reconcile.SeriesReconciliation.gross_errors`) is reported once per *run*
of the same hypothesis (the same kind and place), and only when it is found ``persistence`` times:
a run ends after ``persistence`` timestamps without the error, so a leak that the test sometimes
blames on a meter stays one run. At level ``alpha`` a single timestamp gives a false gross error
about one time in ``1 / alpha`` (shared among the hypotheses); three close together almost never.
The row's time is the timestamp of the ``persistence``-th finding (when an on-line monitor would
raise it), its value the mean size over the run, and its message the run's first and last
timestamps and how often the error was found. A leak (``what = 'leak'``, ``value`` in t/h lost) is
an alarm, and so is a meter bias (``what = 'meter bias'``, ``value`` in t/h, positive when the meter
reads high) that the data cannot tell from a leak (a leak among its alternatives): water may be lost.

Consecutive flags of checks 1 and 2 for the same unit, contaminant and severity are merged into one
row at the first timestamp of the run, whose value is the highest of the run; the message gives the
run's length and end.

References
----------
Jones, L. A., Champ, C. W. & Rigdon, S. E. (2004). The run length distribution of the CUSUM with
estimated parameters. *Journal of Quality Technology* 36(1), 95-108.

Lucas, J. M. & Saccucci, M. S. (1990). Exponentially weighted moving average control schemes:
properties and enhancements. *Technometrics* 32(1), 1-12.

Montgomery, D. C. (2009). *Introduction to Statistical Quality Control*, 6th ed., ch. 9 (tabular
CUSUM, its average run lengths; EWMA).

Narasimhan, S. & Jordache, C. (2000). *Data Reconciliation and Gross Error Detection*, ch. 7-8.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from .check import node_concentrations
from .exceptions import PlantDataError
from .metering import Meter
from .plan import RetrofitPlan
from .plant import Plant
from .reconcile import BalanceTest, SeriesReconciliation, reconcile_series
from .units import accepted, factor

ALARM, WARNING = "alarm", "warning"
#: Columns of :attr:`Monitoring.alarms`.
ALARM_COLUMNS = ["time", "unit", "what", "value", "limit", "severity", "source", "message"]
_SEVERITY_ORDER = {ALARM: 0, WARNING: 1}
_OUTLET_KINDS = ("supply", "source")

Pipe = tuple[str, str]


# ----------------------------------------------------------------------------- the plan
def plan_flows(plan: RetrofitPlan | Mapping[Pipe, float] | str | os.PathLike, plant: Plant) -> dict[Pipe, float]:
    """The pipes of a plan and their flows in t/h.

    Parameters
    ----------
    plan : RetrofitPlan or mapping or path
        A plan from :func:`cascade.optimize` (its ``flows``, in the plan's flow unit
        ``plan.units["flow"]``), a mapping ``{(from, to): t/h}``, or the path of the JSON that
        ``cascade solve PLANT --json`` prints (flows in its ``units.flow``, else the plant's
        ``plant.units["flow"]``).
    plant : Plant
        The plant the plan is for.

    Returns
    -------
    dict
        ``{(from, to): t/h}``, pipes with zero flow dropped.

    Raises
    ------
    PlantDataError
        A missing or unreadable file, JSON without a list of ``flows``, a flow that is not a
        non-negative number, or a flow unit that cascade does not know.
    """
    if isinstance(plan, RetrofitPlan):
        scale = _flow_factor(plan.units.get("flow", "t/h"), f"plan of {plan.plant}")
        rows = plan.flows[["from", "to", "flow"]].itertuples(index=False)
        flows = {(str(a), str(b)): float(q) * scale for a, b, q in rows}
        return _clean(flows, f"plan of {plan.plant}")
    if isinstance(plan, Mapping):
        return _clean({_pipe(key, "the plan's flows"): value for key, value in plan.items()}, "the plan's flows")
    if isinstance(plan, (str, os.PathLike)):
        return _json_flows(Path(plan), plant)
    raise PlantDataError(f"a plan is a RetrofitPlan, a mapping {{(from, to): t/h}} or the path of the JSON of "
                         f"`cascade solve PLANT --json`, not {type(plan).__name__}")


def _flow_factor(unit: str, where: str) -> float:
    if unit not in accepted("flow"):
        raise PlantDataError(f"{where}: flow unit {unit!r} is not known; use one of {', '.join(accepted('flow'))}")
    return factor("flow", unit)


def _pipe(key: Any, where: str) -> Pipe:
    if not (isinstance(key, tuple) and len(key) == 2):
        raise PlantDataError(f"{where}: a pipe is a pair (from, to), not {key!r}")
    return str(key[0]), str(key[1])


def _clean(flows: Mapping[Pipe, Any], where: str) -> dict[Pipe, float]:
    """Flows as floats, zero flows dropped; a clear error for anything not a non-negative number."""
    out = {}
    for (a, b), value in flows.items():
        try:
            q = float(value)
        except (TypeError, ValueError):
            raise PlantDataError(f"{where}: the flow of pipe {a} -> {b} is {value!r}, not a number") from None
        if not np.isfinite(q) or q < 0:
            raise PlantDataError(f"{where}: the flow of pipe {a} -> {b} is {q}; flows are finite and not negative")
        if q > 0:
            out[(a, b)] = q
    if not out:
        raise PlantDataError(f"{where}: no pipe carries water")
    return out


def _json_flows(path: Path, plant: Plant) -> dict[Pipe, float]:
    """The flows of a ``cascade solve --json`` file, converted to t/h."""
    where = f"plan file {path}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlantDataError(f"{where}: no such file (write it with `cascade solve PLANT --json > {path.name}`)") \
            from None
    except (OSError, UnicodeDecodeError) as error:
        raise PlantDataError(f"{where}: cannot be read ({error})") from None
    except json.JSONDecodeError as error:
        raise PlantDataError(f"{where}: not JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("flows"), list):
        raise PlantDataError(f"{where}: no list of 'flows' in it; is it the output of `cascade solve PLANT --json`?")
    units = data.get("units") if isinstance(data.get("units"), dict) else {}
    scale = _flow_factor(units.get("flow", plant.units.get("flow", "t/h")), where)
    flows: dict[Pipe, Any] = {}
    for k, entry in enumerate(data["flows"]):
        if not isinstance(entry, dict) or not {"from", "to", "flow"} <= set(entry):
            raise PlantDataError(f"{where}: flows[{k}] is not an object with 'from', 'to' and 'flow': {entry!r}")
        value = entry["flow"]
        flows[(str(entry["from"]), str(entry["to"]))] = value * scale if isinstance(value, (int, float)) else value
    return _clean(flows, where)


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Monitoring:
    """The outcome of :func:`monitor`. Flows in t/h, concentrations in ppm.

    Attributes
    ----------
    plant : str
        The plant's name.
    alarms : pandas.DataFrame
        One row per alarm or warning (see the module's notes): ``time``, ``unit`` (a node, a pipe
        ``a -> b`` or a meter id), ``what``, ``value``, ``limit`` (None when there is none),
        ``severity`` ('alarm' or 'warning'), ``source`` (the check: 'analyser', 'prediction',
        'ewma', 'cusum', 'gross error test') and ``message``; sorted by time, then severity.
    series : SeriesReconciliation
        The flow readings reconciled at every timestamp against the plan's network.
    predicted_inlet : pandas.DataFrame
        Long table ``time``, ``unit``, ``contaminant``, ``value``, ``limit``, ``sd``: the inlet
        concentrations predicted from the reconciled flows of every limited unit (``sd`` only where
        the prediction is above its limit).
    ewma, ewma_limit : pandas.DataFrame
        Timestamps x pipes: the EWMA of each pipe's reconciled flow, and the half-width ``L sqrt(v_t)``
        of its control limits around the plan flow.
    cusum_high, cusum_low : pandas.DataFrame
        Timestamps x flow meters: ``C^-`` (the meter reads high) and ``C^+`` (reads low), after any
        reset; meters that cannot be told apart share their group's chart. NaN where skipped and over
        the baseline.
    plan : dict
        The plan's flows ``{(from, to): t/h}``.
    notes : list of str
        What was not checked, and why.
    parameters : dict
        The parameters of the checks.
    """

    plant: str
    alarms: pd.DataFrame
    series: SeriesReconciliation
    predicted_inlet: pd.DataFrame
    ewma: pd.DataFrame
    ewma_limit: pd.DataFrame
    cusum_high: pd.DataFrame
    cusum_low: pd.DataFrame
    plan: dict[Pipe, float]
    notes: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, Any]:
        """``{"alarm": n, "warning": n, "by_what": {severity: {what: n}}}``."""
        by_what: dict[str, dict[str, int]] = {}
        for (severity, what), n in self.alarms.groupby(["severity", "what"]).size().items():
            by_what.setdefault(str(severity), {})[str(what)] = int(n)
        return {ALARM: int((self.alarms["severity"] == ALARM).sum()),
                WARNING: int((self.alarms["severity"] == WARNING).sum()), "by_what": by_what}

    def summary(self) -> str:
        """A few lines for people: counts by severity and kind, the first alarm, the notes."""
        counts = self.counts()
        lines = [f"Monitoring of {self.plant} against its plan: {len(self.series.flows)} timestamps, "
                 f"{len(self.plan)} pipes; {counts[ALARM]} alarm(s), {counts[WARNING]} warning(s)"]
        for severity in (ALARM, WARNING):
            if counts["by_what"].get(severity):
                parts = ", ".join(f"{what} {n}" for what, n in sorted(counts["by_what"][severity].items()))
                lines.append(f"  {severity}s: {parts}")
        first = self.alarms[self.alarms["severity"] == ALARM].head(1)
        if not first.empty:
            row = first.iloc[0]
            lines.append(f"  first alarm, {_when(row['time'])}: {row['message']}")
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: alarms as records with ISO timestamps, notes, counts, parameters."""
        records = [{k: (_when(v) if k == "time" else _plain(v)) for k, v in row.items()}
                   for row in self.alarms.to_dict("records")]
        return {"plant": self.plant, "timestamps": len(self.series.flows), "units": {"flow": "t/h",
                "concentration": "ppm"}, "counts": self.counts(), "alarms": records, "notes": list(self.notes),
                "parameters": dict(self.parameters)}


def _when(time: Any) -> str:
    return time.isoformat() if hasattr(time, "isoformat") else str(time)


def _plain(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not np.isfinite(value) else float(value)
    return value


def _row(time: Any, unit: str, what: str, value: float, limit: float | None, severity: str, source: str,
         message: str) -> dict[str, Any]:
    return dict(zip(ALARM_COLUMNS, (time, unit, what, float(value), limit, severity, source, message), strict=True))


def _table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The alarm table, sorted by time, then severity (alarms first), then unit."""
    frame = pd.DataFrame(rows, columns=ALARM_COLUMNS)
    if frame.empty:
        return frame
    order = frame["severity"].map(_SEVERITY_ORDER)
    frame = frame.assign(_order=order).sort_values(["time", "_order", "unit"], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


def _g(x: float) -> str:
    return f"{x:.3g}"


def _runs(flags: Sequence[str | None]) -> list[tuple[str, int, int]]:
    """Runs of equal flags that are not None: ``(flag, first, last)`` positions.

    >>> _runs([None, "a", "a", None, "b", "a"])
    [('a', 1, 2), ('b', 4, 4), ('a', 5, 5)]
    """
    runs: list[tuple[str, int, int]] = []
    for k, flag in enumerate(flags):
        if flag is None:
            continue
        if runs and runs[-1][0] == flag and runs[-1][2] == k - 1:
            runs[-1] = (flag, runs[-1][1], k)
        else:
            runs.append((flag, k, k))
    return runs


def _run_text(times: Sequence[Any], first: int, last: int, noun: str = "reading") -> str:
    n = last - first + 1
    return "" if n == 1 else f" ({n} {noun}s in a row until {_when(times[last])}, the highest shown)"


# ----------------------------------------------------------------------------- 1. measured quality
def _measured_quality(graph: nx.DiGraph, analysers: list[Meter], frame: pd.DataFrame, warn_fraction: float,
                      width: float) -> tuple[list[dict[str, Any]], list[str]]:
    """Alarms from analyser readings against inlet limits, or design qualities at supplies and sources."""
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for meter in analysers:
        reason = _unchecked_analyser(graph, meter)
        if reason:
            notes.append(reason)
            continue
        if meter.id not in frame:
            continue
        readings = frame[meter.id].dropna()
        if graph.nodes[meter.at]["kind"] in _OUTLET_KINDS:
            rows += _outlet_quality(graph, meter, readings, width)
        else:
            rows += _inlet_quality(graph, meter, readings, warn_fraction)
    return rows, notes


def _unchecked_analyser(graph: nx.DiGraph, meter: Meter) -> str | None:
    """Why an analyser's readings cannot be checked, or None."""
    if meter.on_pipe:
        return f"analyser {meter.id} is on a pipe ({meter.at[0]} -> {meter.at[1]}); only analysers at units are checked"
    if meter.at not in graph:
        return f"analyser {meter.id} is at '{meter.at}', which no pipe of the plan touches; not checked"
    if meter.quantity not in graph.graph["contaminants"]:
        return f"analyser {meter.id} measures {meter.quantity}, which is not a contaminant of the plant; not checked"
    data = graph.nodes[meter.at]
    if data["kind"] not in _OUTLET_KINDS and meter.quantity not in (data.get("max_in") or {}):
        return f"analyser {meter.id}: {meter.at} has no inlet limit for {meter.quantity}; not checked"
    return None


def _inlet_quality(graph: nx.DiGraph, meter: Meter, readings: pd.Series, warn_fraction: float) -> list[dict]:
    c, node = meter.quantity, meter.at
    limit = float(graph.nodes[node]["max_in"][c])
    flags = [ALARM if y > limit else WARNING if y > warn_fraction * limit else None for y in readings]
    rows = []
    for severity, first, last in _runs(flags):
        value = float(readings.iloc[first:last + 1].max())
        words = (f"above its limit of {_g(limit)} ppm" if severity == ALARM
                 else f"{100 * value / limit:.0f} % of its limit of {_g(limit)} ppm")
        message = (f"{c} at the inlet of {node} read {_g(value)} ppm by analyser {meter.id}, {words}"
                   + _run_text(readings.index, first, last))
        rows.append(_row(readings.index[first], node, f"{c} at inlet", value, limit, severity, "analyser", message))
    return rows


def _outlet_quality(graph: nx.DiGraph, meter: Meter, readings: pd.Series, width: float) -> list[dict]:
    c, node = meter.quantity, meter.at
    design = float(graph.nodes[node]["quality"][c])
    flags = [WARNING if y > design + width * meter.standard_deviation(y, design) else None for y in readings]
    rows = []
    for severity, first, last in _runs(flags):
        value = float(readings.iloc[first:last + 1].max())
        sd = meter.standard_deviation(value, design)
        message = (f"{c} leaving {node} read {_g(value)} ppm by analyser {meter.id}, above the {_g(design)} ppm "
                   f"the plan was designed for by more than {width:g} x its {_g(sd)} ppm standard deviation"
                   + _run_text(readings.index, first, last))
        rows.append(_row(readings.index[first], node, f"{c} at outlet", value, design, severity, "analyser", message))
    return rows


# ----------------------------------------------------------------------------- 2. predicted quality
def _limits(graph: nx.DiGraph) -> list[tuple[str, str, float]]:
    """``(node, contaminant, limit)`` of every inlet limit of the plan's units."""
    return [(n, c, float(limit)) for n, d in graph.nodes(data=True) if d["kind"] not in _OUTLET_KINDS
            for c, limit in (d.get("max_in") or {}).items()]


def _measured_graph(graph: nx.DiGraph, analysers: list[Meter], readings: pd.Series) -> nx.DiGraph:
    """The graph with the qualities of supplies and sources replaced by the analysers' readings at ``t``."""
    override = [(m.at, m.quantity, float(readings[m.id])) for m in analysers
                if not m.on_pipe and m.at in graph and graph.nodes[m.at]["kind"] in _OUTLET_KINDS
                and m.quantity in graph.graph["contaminants"] and np.isfinite(readings.get(m.id, np.nan))]
    if not override:
        return graph
    measured = graph.copy()
    for node, c, value in override:
        measured.nodes[node]["quality"] = {**measured.nodes[node]["quality"], c: value}
    return measured


def _prediction_sd(graph: nx.DiGraph, flows: dict[Pipe, float], inlet: pd.DataFrame, cov: np.ndarray,
                   wanted: list[tuple[str, str]]) -> dict[tuple[str, str], float]:
    """Delta-method standard deviation of the predicted inlet concentrations ``wanted`` (node, contaminant)."""
    pipes = list(graph.edges)
    gradient = np.zeros((len(wanted), len(pipes)))
    for j, pipe in enumerate(pipes):
        step = 1e-6 * max(1.0, flows[pipe])
        moved, _ = node_concentrations(graph, {**flows, pipe: flows[pipe] + step})
        gradient[:, j] = [(moved.at[n, c] - inlet.at[n, c]) / step for n, c in wanted]
    variance = np.einsum("ij,jk,ik->i", gradient, cov, gradient)
    return {key: float(np.sqrt(max(v, 0.0))) for key, v in zip(wanted, variance, strict=True)}


def _predict(graph: nx.DiGraph, series: SeriesReconciliation, test: BalanceTest, analysers: list[Meter],
             frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Any]]:
    """Predicted inlet concentrations at every timestamp with observable flows; the timestamps skipped."""
    pipes = list(graph.edges)
    labels = [f"{a} -> {b}" for a, b in pipes]
    limits = _limits(graph)
    records, skipped = [], []
    for t, row in series.flows[labels].iterrows():
        if row.isna().any():
            skipped.append(t)
            continue
        flows = dict(zip(pipes, row.to_numpy(float), strict=True))
        measured = _measured_graph(graph, analysers, frame.loc[t])
        inlet, _ = node_concentrations(measured, flows)
        values = [(n, c, float(inlet.at[n, c]), limit) for n, c, limit in limits if np.isfinite(inlet.at[n, c])]
        over = [(n, c) for n, c, value, limit in values if value > limit]
        sd = {}
        if over:
            sd = _prediction_sd(measured, flows, inlet, test.flow_covariance(series.results[t]).to_numpy(), over)
        records += [{"time": t, "unit": n, "contaminant": c, "value": value, "limit": limit,
                     "sd": sd.get((n, c), np.nan)} for n, c, value, limit in values]
    return pd.DataFrame(records, columns=["time", "unit", "contaminant", "value", "limit", "sd"]), skipped


def _predicted_rows(predicted: pd.DataFrame, warn_fraction: float, width: float) -> list[dict[str, Any]]:
    """Merged runs of predicted inlet concentrations above a limit (alarm) or near it (warning)."""
    rows = []
    for (node, c), group in predicted.groupby(["unit", "contaminant"], sort=False):
        value, limit, sd = (group[k].to_numpy(float) for k in ("value", "limit", "sd"))
        flags = [ALARM if v > m + width * s else WARNING if v > warn_fraction * m else None
                 for v, m, s in zip(value, limit, np.nan_to_num(sd, nan=0.0), strict=True)]
        times = list(group["time"])
        for severity, first, last in _runs(flags):
            k = first + int(np.argmax(value[first:last + 1]))
            rows.append(_row(times[first], node, f"predicted {c} at inlet", value[k], limit[k], severity,
                             "prediction", _predicted_message(node, c, value[k], limit[k], sd[k], severity, width)
                             + _run_text(times, first, last, "timestamp")))
    return rows


def _predicted_message(node: str, c: str, value: float, limit: float, sd: float, severity: str,
                       width: float) -> str:
    head = f"the reconciled flows put {c} at the inlet of {node} at {_g(value)} ppm"
    if severity == ALARM:
        return f"{head} (+/- {_g(sd)}), above its limit of {_g(limit)} ppm by more than {width:g} standard deviations"
    if value > limit:
        return f"{head} (+/- {_g(sd)}), above its limit of {_g(limit)} ppm but within {width:g} standard deviations"
    return f"{head}, {100 * value / limit:.0f} % of its limit of {_g(limit)} ppm"


# ----------------------------------------------------------------------------- 3. flow drift
def _flow_sd_parts(series: SeriesReconciliation, test: BalanceTest) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Timestamps x pipes: the systematic and the random part of the standard deviation of each reconciled flow."""
    total = pd.DataFrame([r.flows["sd"].to_numpy(float) for r in series.results.values()],
                         index=series.flows.index, columns=series.flows.columns)
    if not any(m.repeatability for m in test.flow_meters):
        return total, total * 0.0  # no random part: all of the error is systematic (NaN stays NaN)
    random = pd.DataFrame([np.sqrt(np.clip(np.diag(test.flow_covariance(r, random_only=True)), 0.0, None))
                           for r in series.results.values()], index=total.index, columns=total.columns)
    random = random.where(total.notna())
    return np.sqrt((total**2 - random**2).clip(lower=0.0)), random


def _ewma_chart(x: pd.Series, sd_sys: pd.Series, sd_rand: pd.Series, target: float, lam: float, width: float,
                process_rsd: float) -> tuple[np.ndarray, np.ndarray]:
    """EWMA ``z_t`` and control half-width ``L sqrt(v_t)`` of one pipe (NaN flows skipped; module notes)."""
    z, m, r = target, 0.0, 0.0
    zs, half = np.full(len(x), np.nan), np.full(len(x), np.nan)
    for k, (value, s_sys, s_rand) in enumerate(zip(x.to_numpy(float), sd_sys.to_numpy(float),
                                                   sd_rand.to_numpy(float), strict=True)):
        if np.isfinite(value) and np.isfinite(s_sys) and np.isfinite(s_rand):
            z = lam * value + (1 - lam) * z
            m = (1 - lam) * m + lam * s_sys
            r = (1 - lam) ** 2 * r + lam**2 * (s_rand**2 + (process_rsd * target) ** 2)
        v = m * m + r
        zs[k], half[k] = z, width * np.sqrt(v) if v > 0 else np.nan
    return zs, half


def _ewma(series: SeriesReconciliation, test: BalanceTest, plan: dict[Pipe, float], lam: float, width: float,
          process_rsd: float) -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, Any]]]:
    """EWMA charts of every pipe of the plan and a warning each time one leaves its limits."""
    sd_sys, sd_rand = _flow_sd_parts(series, test)
    charts, limits, rows = {}, {}, []
    for a, b in plan:
        label = f"{a} -> {b}"
        z, half = _ewma_chart(series.flows[label], sd_sys[label], sd_rand[label], plan[(a, b)], lam, width,
                              process_rsd)
        charts[label], limits[label] = z, half
        rows += _ewma_rows(series.flows.index, label, plan[(a, b)], z, half)
    index = series.flows.index
    return pd.DataFrame(charts, index=index), pd.DataFrame(limits, index=index), rows


def _ewma_rows(times: pd.Index, pipe: str, target: float, z: np.ndarray, half: np.ndarray) -> list[dict[str, Any]]:
    rows, armed, side_now = [], True, 0.0
    for t, value, h in zip(times, z, half, strict=True):
        if not np.isfinite(h):
            continue
        if np.sign(value - target) != side_now:
            armed = True  # back at (across) the plan flow: the drift is over
        if abs(value - target) > h and armed:
            armed, side_now = False, np.sign(value - target)
            side, limit = ("above", target + h) if value > target else ("below", target - h)
            message = (f"the flow in pipe {pipe} drifted {side} the plan: its EWMA reached {value:.4g} t/h, beyond "
                       f"the control limit {limit:.4g} t/h around the plan's {target:.4g} t/h")
            rows.append(_row(t, pipe, "flow drift", value, limit, WARNING, "ewma", message))
    return rows


# ----------------------------------------------------------------------------- 4. meter drift
def _parallel_groups(standardised: pd.DataFrame) -> list[list[tuple[str, float]]]:
    """Meters whose standardised adjustments are the same up to sign: ``[(meter, +1 or -1), ...]`` per group.

    Their biases have parallel signatures, so the balances cannot tell them apart (their measurement
    tests are equal); one CUSUM serves the group.
    """
    corr = standardised.corr(min_periods=3)
    groups: list[list[tuple[str, float]]] = []
    placed: set[str] = set()
    for meter_id in standardised.columns:
        if meter_id in placed:
            continue
        members = [(meter_id, 1.0)] + [(other, float(np.sign(corr.at[meter_id, other])))
                                       for other in standardised.columns
                                       if other not in placed and other != meter_id
                                       and abs(corr.at[meter_id, other]) > 0.999]
        placed |= {m for m, _ in members}
        groups.append(members)
    return groups


def _group_series(standardised: pd.DataFrame, members: list[tuple[str, float]]) -> pd.Series:
    """The group's statistic at each timestamp: its first member's with a value, in the first member's sign."""
    series = pd.Series(np.nan, index=standardised.index)
    for meter_id, sign in reversed(members):
        series = (sign * standardised[meter_id]).where(standardised[meter_id].notna(), series)
    return series


def _cusum_chart(s: pd.Series, k: float, h: float,
                 baseline: int) -> tuple[np.ndarray, np.ndarray, list[tuple[int, str, float]], str | None]:
    """``C^-`` (reads high) and ``C^+`` (reads low) of one series after its baseline, its signals
    ``(position, side, value)``, and why there is no chart (None when there is one)."""
    high, low = np.full(len(s), np.nan), np.full(len(s), np.nan)
    values = s.to_numpy(float)
    finite = np.flatnonzero(np.isfinite(values))
    if len(finite) == 0:
        return high, low, [], "the balances never check it (it is not redundant, or it gave no reading)"
    if len(finite) <= baseline:
        return high, low, [], (f"the balances checked it at {len(finite)} timestamps; the baseline needs {baseline} "
                                "and the chart more")
    base = values[finite[:baseline]]
    centre, spread = float(base.mean()), float(base.std(ddof=1))  # baseline >= 2 (checked)
    if not spread > 1e-3:
        return high, low, [], "its standardised adjustments did not vary over the baseline"
    c_plus = c_minus = 0.0
    signals = []
    for position in finite[baseline:]:
        u = (values[position] - centre) / spread
        c_plus, c_minus = max(0.0, c_plus + u - k), max(0.0, c_minus - u - k)
        if c_minus > h:
            signals.append((int(position), "high", c_minus))
            c_minus = 0.0
        if c_plus > h:
            signals.append((int(position), "low", c_plus))
            c_plus = 0.0
        high[position], low[position] = c_minus, c_plus
    return high, low, signals, None


def _episodes(signals: list[tuple[int, str, float]], window: int) -> list[list[tuple[int, str, float]]]:
    """Signals of one side grouped into episodes: a signal within ``window`` of the previous one continues it."""
    episodes: list[list[tuple[int, str, float]]] = []
    last: dict[str, list] = {}
    for signal in signals:
        episode = last.get(signal[1])
        if episode is not None and signal[0] - episode[-1][0] <= window:
            episode.append(signal)
        else:
            last[signal[1]] = [signal]
            episodes.append(last[signal[1]])
    return episodes


def _cusum(standardised: pd.DataFrame, places: dict[str, str], k: float, h: float,
           baseline: int) -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, Any]], list[str]]:
    """Two-sided tabular CUSUM per group of parallel meters, after a baseline; one warning per episode of
    signals, and a note for each group without a chart."""
    high = pd.DataFrame(np.nan, index=standardised.index, columns=standardised.columns)
    low = high.copy()
    rows, notes = [], []
    window = int(np.ceil(2 * h / k))
    for members in _parallel_groups(standardised):
        c_high, c_low, signals, why_not = _cusum_chart(_group_series(standardised, members), k, h, baseline)
        if why_not:
            notes.append(f"no drift chart (CUSUM) for meter {' / '.join(m for m, _ in members)}: {why_not}")
        for meter_id, sign in members:
            high[meter_id], low[meter_id] = (c_high, c_low) if sign > 0 else (c_low, c_high)
        for episode in _episodes(signals, window):
            rows.append(_cusum_row(standardised.index, episode, members, places, h))
    return high, low, rows, notes


def _cusum_row(times: pd.Index, episode: list[tuple[int, str, float]], members: list[tuple[str, float]],
               places: dict[str, str], h: float) -> dict[str, Any]:
    position, side, value = episode[0]
    meter_id = members[0][0]
    flip = {"high": "low", "low": "high"}
    message = (f"meter {meter_id} ({places[meter_id]}) drifts {side}: it reads {'above' if side == 'high' else 'below'}"
               f" what the balances say, more than over its baseline; its CUSUM reached {_g(value)} > {h:g}")
    if len(episode) > 1:
        message += f"; signalled {len(episode)} times until {_when(times[episode[-1][0]])}"
    if len(members) > 1:
        others = ", ".join(f"{m} {side if sign > 0 else flip[side]}" for m, sign in members[1:])
        message += f" (or: {others}; the balances cannot tell these meters apart)"
    return _row(times[position], meter_id, f"meter drift {side}", value, h, WARNING, "cusum", message)


# ----------------------------------------------------------------------------- 5. gross errors
def _gross_error_runs(positions: Sequence[int], persistence: int) -> list[list[int]]:
    """Occurrences grouped into runs (a run ends after ``persistence`` timestamps without the error); runs
    with at least ``persistence`` occurrences.

    >>> _gross_error_runs([1, 2, 4, 7, 20, 21, 25], 3)  # 25 comes 4 after 21: a new run, found once
    [[1, 2, 4, 7]]
    """
    runs: list[list[int]] = []
    for k in sorted(positions):
        if runs and k - runs[-1][-1] <= persistence:
            runs[-1].append(k)
        else:
            runs.append([k])
    return [run for run in runs if len(run) >= persistence]


def _gross_error_rows(errors: pd.DataFrame, times: pd.Index, places: dict[str, str],
                      persistence: int) -> list[dict[str, Any]]:
    """One row per run of the same gross error found at least ``persistence`` times (see the module's notes)."""
    position = {t: k for k, t in enumerate(times)}
    rows = []
    for (kind, where), group in errors.groupby(["kind", "where"], sort=False):
        at = group["timestamp"].map(position).to_numpy()
        for run in _gross_error_runs(list(at), persistence):
            found = group[np.isin(at, run)]
            rows.append(_gross_error_row(kind, where, found, times, run, persistence, places))
    return rows


def _gross_error_row(kind: str, where: str, found: pd.DataFrame, times: pd.Index, run: list[int],
                     persistence: int, places: dict[str, str]) -> dict[str, Any]:
    size, sd = float(found["size"].mean()), float(found["sd"].mean())
    alternatives = sorted({a for alts in found["alternatives"] for a in alts})
    water_lost = kind == "leak" or any(a.startswith("leak at") for a in alternatives)
    span = (f"found at {_when(times[run[0]])}" if len(run) == 1 else
            f"found at {len(run)} of the {run[-1] - run[0] + 1} timestamps from {_when(times[run[0]])} "
            f"to {_when(times[run[-1]])}")
    if kind == "leak":
        head = f"water is lost at {where}: {_g(size)} t/h (+/- {_g(sd)}) on average, {span}"
    else:
        side = "high" if size > 0 else "low"
        head = f"meter {where} ({places.get(where, where)}) reads {_g(abs(size))} t/h {side} (+/- {_g(sd)}), {span}"
    tail = f"; the data cannot tell it from: {', '.join(alternatives)}" if alternatives else ""
    return _row(times[run[persistence - 1]], where, "leak" if kind == "leak" else "meter bias", size, None,
                ALARM if water_lost else WARNING, "gross error test", head + tail)


# ----------------------------------------------------------------------------- the monitor
def _readings_frame(readings: Any) -> pd.DataFrame:
    frame = readings if isinstance(readings, pd.DataFrame) else getattr(readings, "values", None)
    if not isinstance(frame, pd.DataFrame):
        raise PlantDataError("monitor takes readings as a DataFrame (timestamps x meter ids) or a Readings")
    if frame.index.has_duplicates:
        raise PlantDataError(f"readings: {int(frame.index.duplicated().sum())} repeated timestamp(s); "
                             "give one row per timestamp")
    return frame.sort_index()


def _split_meters(meters: Sequence[Meter], frame: pd.DataFrame) -> tuple[list[Meter], list[Meter]]:
    """Flow meters and analysers; an error for readings of meters that are not listed."""
    known = {m.id for m in meters}
    unknown = [str(c) for c in frame.columns if c not in known]
    if unknown:
        raise PlantDataError(f"readings of unknown meters: {', '.join(unknown)}; the meters are: "
                             f"{', '.join(sorted(known)) or '(none)'}")
    flow_meters = [m for m in meters if m.is_flow]
    if not flow_meters:
        raise PlantDataError("monitoring needs flow meters; none is listed")
    return flow_meters, [m for m in meters if not m.is_flow]


def _check_parameters(level: float, ewma_lambda: float, ewma_width: float, cusum_k: float, cusum_h: float,
                      warn_fraction: float, persistence: int, process_rsd: float, baseline: int) -> None:
    problems = []
    if isinstance(baseline, bool) or not isinstance(baseline, int) or baseline < 2:
        problems.append(f"baseline must be a whole number of timestamps, at least 2, got {baseline!r}")
    if not 0.0 < ewma_lambda <= 1.0:
        problems.append(f"ewma_lambda must be in (0, 1], got {ewma_lambda}")
    if ewma_width <= 0 or cusum_h <= 0 or cusum_k <= 0 or process_rsd < 0:
        problems.append("ewma_width, cusum_k and cusum_h must be positive, process_rsd not negative")
    if not 0.0 < warn_fraction <= 1.0:
        problems.append(f"warn_fraction must be in (0, 1], got {warn_fraction}")
    if persistence < 1:
        problems.append(f"persistence must be at least 1, got {persistence}")
    if not 0.0 < level < 0.5:
        problems.append(f"level must be between 0 and 0.5 (e.g. 0.05), got {level}")
    if problems:
        raise PlantDataError("; ".join(problems), problems)


def monitor(
    plant: Plant,
    plan: RetrofitPlan | Mapping[Pipe, float] | str | os.PathLike,
    readings: Any,
    *,
    meters: Sequence[Meter] | None = None,
    level: float = 0.05,
    ewma_lambda: float = 0.2,
    ewma_width: float = 3.0,
    cusum_k: float = 0.5,
    cusum_h: float = 5.0,
    warn_fraction: float = 0.9,
    persistence: int = 3,
    process_rsd: float = 0.0,
    baseline: int = 48,
) -> Monitoring:
    """Flag where operation drifts from a plan or its quality limits (see the module's notes).

    Parameters
    ----------
    plant : Plant
        The plant.
    plan : RetrofitPlan or mapping or path
        The network the plant should be running (:func:`plan_flows`).
    readings : pandas.DataFrame or cascade.metering.Readings
        Index timestamps, columns meter ids, canonical units (t/h for flow meters, ppm for
        analysers); NaN where a meter gave no reading. A ``Readings`` is read through its ``values``.
    meters : sequence of Meter, optional
        Default ``plant.meters`` (when the plant has them).
    level : float, default 0.05
        Level of the global and gross error tests of the reconciliation at each timestamp.
    ewma_lambda, ewma_width : float, default 0.2 and 3.0
        EWMA weight ``lambda`` and width ``L`` of its control limits; ``L`` is also the number of
        standard deviations that make a prediction or a supply's analyser reading significant.
    cusum_k, cusum_h : float, default 0.5 and 5.0
        CUSUM allowance and decision interval, in standard deviations.
    warn_fraction : float, default 0.9
        A concentration above this fraction of its limit is a warning.
    persistence : int, default 3
        Consecutive timestamps at which a gross error must be found before it is reported.
    process_rsd : float, default 0.0
        Relative standard deviation of the true flows about the plan, added to the EWMA's sigma.
    baseline : int, default 48
        Number of a meter's first standardised adjustments that set up its CUSUM (its level and
        spread before any drift).

    Returns
    -------
    Monitoring
        The alarm table (canonical units: t/h and ppm) and the series behind it.

    Raises
    ------
    PlantDataError
        A bad plan, readings of unknown meters, no flow meter, a meter on a pipe the plan does not
        have, or a parameter out of range.
    """
    _check_parameters(level, ewma_lambda, ewma_width, cusum_k, cusum_h, warn_fraction, persistence, process_rsd,
                      baseline)
    frame = _readings_frame(readings)
    meters = list(getattr(plant, "meters", []) if meters is None else meters)
    flow_meters, analysers = _split_meters(meters, frame)
    flows = plan_flows(plan, plant)
    flow_columns = [m.id for m in flow_meters if m.id in frame]
    series = reconcile_series(plant, frame[flow_columns], meters=flow_meters, flows=flows, level=level)
    test = BalanceTest(plant, meters=flow_meters, flows=flows, level=level)  # the same network, for covariances
    graph = test.graph  # network_graph(plant, flows)
    places = {m.id: (f"pipe {m.at[0]} -> {m.at[1]}" if m.on_pipe else f"at {m.at}") for m in flow_meters}

    rows, notes = _measured_quality(graph, analysers, frame, warn_fraction, ewma_width)
    predicted, skipped = _predict(graph, series, test, analysers, frame)
    rows += _predicted_rows(predicted, warn_fraction, ewma_width)
    if skipped:
        notes.append(f"predicted quality skipped at {len(skipped)} of {len(frame)} timestamps where a pipe flow is "
                     f"not observable (first {_when(skipped[0])})")
    ewma, ewma_limit, ewma_rows = _ewma(series, test, flows, ewma_lambda, ewma_width, process_rsd)
    high, low, cusum_rows, cusum_notes = _cusum(series.standardised, places, cusum_k, cusum_h, baseline)
    notes += cusum_notes
    rows += ewma_rows + cusum_rows + _gross_error_rows(series.gross_errors, series.flows.index, places, persistence)
    parameters = {"level": level, "ewma_lambda": ewma_lambda, "ewma_width": ewma_width, "cusum_k": cusum_k,
                  "cusum_h": cusum_h, "warn_fraction": warn_fraction, "persistence": persistence,
                  "process_rsd": process_rsd, "baseline": baseline}
    return Monitoring(plant.name, _table(rows), series, predicted, ewma, ewma_limit, high, low, flows, notes,
                      parameters)
