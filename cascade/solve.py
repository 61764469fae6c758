"""The only module that talks to HiGHS: options, hand-off, status mapping, timing.

The model goes to HiGHS through Pyomo's persistent ``appsi`` interface, which keeps the HiGHS
instance between solves: the tie-break stage and user re-solves only send what changed.

Statuses (the ``status`` of a plan, ``docs/plant-format.md``):

===============  =====================================================================
status           meaning
===============  =====================================================================
``optimal``      HiGHS proved optimality (within ``mip_rel_gap``)
``feasible``     a limit (time, iterations) stopped HiGHS with a plan in hand; see ``gap``
``infeasible``   no plan satisfies the constraints
``error``        HiGHS failed or stopped with no plan
===============  =====================================================================
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.contrib.appsi.base import TerminationCondition
from pyomo.contrib.appsi.solvers import Highs

from .exceptions import PlantDataError, SolverError

#: HiGHS option profiles by name, mirrored as TOML in the repository's ``solvers/`` folder (a test
#: keeps the two equal). ``mip_rel_gap`` is the relative gap at which a MIP counts as solved; the
#: rest are HiGHS options by their HiGHS names.
#:
#: * ``default``: HiGHS's own settings. On the speed family (N = 100 and 300, seeds 0-2, 60 s) more primal
#:   heuristics (``mip_heuristic_effort`` 0.3 against 0.05) gave the same plans on 4 runs of 6 and plans
#:   better by at most 0.006 % on 2: no setting tried beat the defaults by a margin worth a change;
#: * ``screening``: a 1 % gap and more primal heuristics, for many quick variants of a study;
#: * ``deterministic``: one thread and a fixed seed, so a rerun retraces the same search.
PROFILES: dict[str, dict[str, Any]] = {
    "default": {},
    "screening": {"mip_rel_gap": 1e-2, "mip_heuristic_effort": 0.3},
    "deterministic": {"threads": 1, "random_seed": 0},
}


def solver_profile(profile: str | os.PathLike | Mapping[str, Any] | None) -> dict[str, Any]:
    """The options of a solver profile.

    Parameters
    ----------
    profile : str, path or mapping, optional
        A name in :data:`PROFILES`, a TOML file whose ``[highs]`` table holds the options (the
        format of the repository's ``solvers/*.toml``), or the options themselves. None is
        ``default``.

    Raises
    ------
    PlantDataError
        An unknown name, an unreadable file, or a file without a ``[highs]`` table.

    Examples
    --------
    >>> solver_profile("deterministic")
    {'threads': 1, 'random_seed': 0}
    """
    if profile is None:
        return dict(PROFILES["default"])
    if isinstance(profile, Mapping):
        return dict(profile)
    text = str(profile)
    if text in PROFILES:
        return dict(PROFILES[text])
    path = Path(text)
    if path.suffix.lower() != ".toml":
        raise PlantDataError(
            f"solver profile {text!r} is not known; use one of {', '.join(PROFILES)} or a .toml file"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PlantDataError(f"solver profile {text}: cannot be read ({exc})") from exc
    if not isinstance(data.get("highs"), dict):
        raise PlantDataError(f"solver profile {text}: no [highs] table of options")
    return dict(data["highs"])

_STATUS = {
    TerminationCondition.optimal: "optimal",
    TerminationCondition.maxTimeLimit: "feasible",
    TerminationCondition.maxIterations: "feasible",
    TerminationCondition.objectiveLimit: "feasible",
    TerminationCondition.infeasible: "infeasible",
    TerminationCondition.infeasibleOrUnbounded: "infeasible",
}


_scheduler_threads: list[int | None] = [None]  # what HiGHS's process-wide scheduler was started with


def _use_threads(threads: int | None) -> None:
    """Restart HiGHS's process-wide thread scheduler when a solve asks for another thread count.

    HiGHS starts one scheduler per process at its first run and refuses a later run whose
    ``threads`` option differs ("global scheduler has already been initialized").
    """
    wanted = int(threads) if threads else 0
    if _scheduler_threads[0] is not None and _scheduler_threads[0] != wanted:
        highspy.Highs.resetGlobalScheduler(True)
    _scheduler_threads[0] = wanted


def _scheduler_after_fork() -> None:
    """In a forked child (a ``ProcessPoolExecutor`` worker), drop the scheduler inherited from the parent.

    Its worker threads do not exist in the child; HiGHS would wait on them forever (measured: a
    fork after one solve hung every child). Non-blocking: there is nothing to wait for.
    """
    highspy.Highs.resetGlobalScheduler(False)
    _scheduler_threads[0] = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_scheduler_after_fork)


@dataclass(frozen=True)
class SolveResult:
    """What one HiGHS run returned.

    Attributes
    ----------
    status : {'optimal', 'feasible', 'infeasible', 'error'}
    objective : float or None
        Objective of the best plan found (None without one).
    bound : float or None
        Proven lower bound on the objective.
    gap : float or None
        Relative gap ``|objective - bound| / max(|objective|, 1e-9)``; 0 for a proven optimum.
    handoff_time, solve_time : float
        Seconds to pass the model to HiGHS and for the solve call (HiGHS plus Pyomo's update
        and solution loading).
    highs_time : float
        Seconds HiGHS itself ran (``Highs.getRunTime``), the part of ``solve_time`` that is
        not modelling overhead.
    termination : str
        The solver's own termination condition.
    size : dict
        Columns, rows, nonzeros and integer columns of the model HiGHS received.
    """

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    handoff_time: float
    solve_time: float
    termination: str
    size: dict[str, int] = field(default_factory=dict)
    highs_time: float = 0.0

    @property
    def has_solution(self) -> bool:
        """True when a plan (optimal or not) is loaded in the model."""
        return self.status in ("optimal", "feasible")


class HighsSolver:
    """A persistent HiGHS session for one model.

    Parameters
    ----------
    time_limit : float, optional
        Seconds for each :meth:`solve` call (None: no limit).
    mip_rel_gap : float, default 1e-4
        Relative gap at which HiGHS stops a MIP as optimal.
    threads : int, optional
        Threads HiGHS may use.
    options : dict, optional
        Further HiGHS options by their HiGHS names (e.g. ``{"presolve": "off"}``).
    progress : callable, optional
        Called as ``progress(objective, bound)`` while HiGHS solves a MIP, whenever it reports
        (a new plan, or its proven bound): ``objective`` of its best plan or None, ``bound``
        its dual bound or None. Exceptions raised by it are ignored.
    """

    def __init__(
        self,
        *,
        time_limit: float | None = None,
        mip_rel_gap: float = 1e-4,
        threads: int | None = None,
        options: dict[str, Any] | None = None,
        progress: Callable[[float | None, float | None], None] | None = None,
    ) -> None:
        # only_child_vars: appsi then adds the model's variables in blocks instead of one call into
        # highspy per constraint (hand-off at N = 100 measured 1.6 s -> 0.9 s, benchmarks/README.md).
        # Variables of user constraints must therefore belong to the model, which Pyomo requires anyway.
        self._solver = Highs(only_child_vars=True)
        if not self._solver.available():
            raise SolverError("HiGHS (the highspy package) is not available; install it with 'pip install highspy'")
        self._solver.config.load_solution = False
        self._solver.config.stream_solver = False
        self._solver.config.log_level = logging.DEBUG
        self.time_limit = time_limit
        self.mip_rel_gap = mip_rel_gap
        extra = dict(options or {})
        if threads is not None:
            extra["threads"] = int(threads)
        extra.setdefault("output_flag", False)
        self._solver.highs_options = extra
        self._model: pyo.ConcreteModel | None = None
        self.handoff_time = 0.0
        self.progress = progress

    def set_model(self, model: pyo.ConcreteModel) -> float:
        """Hand the model to HiGHS; return the seconds it took."""
        start = time.perf_counter()
        self._solver.set_instance(model)
        self._model = model
        if self.progress is not None:
            self._listen(self._solver._solver_model)
        self.handoff_time = time.perf_counter() - start
        return self.handoff_time

    def polish(self, model: pyo.ConcreteModel) -> bool:
        """Fix every integer column at its rounded value in the model's values, re-solve, load the result.

        A MIP solution may carry tiny flows on pipes whose binary sits within the integrality
        tolerance of 0; with the decisions fixed the LP gives exact flows for the chosen pipes.
        Done inside HiGHS (bounds changed in bulk, restored afterwards), so it costs one LP
        solve and no Pyomo update. Returns True when the re-solve was optimal and its values are
        loaded; otherwise the model keeps its values.
        """
        if model is not self._model:
            raise ValueError("polish needs the model this session solved last")
        self._solver.update()  # the model may have changed since (a tie-break objective removed)
        highs = self._solver._solver_model
        lp = highs.getLp()
        integer = np.flatnonzero(np.asarray(lp.integrality_, dtype=np.int64) != 0).astype(np.int32)
        if integer.size == 0:
            return False
        column_var = {col: self._solver._vars[v][0] for v, col in self._solver._pyomo_var_to_solver_var_map.items()}
        current = [column_var[int(col)].value for col in integer]
        if any(v is None for v in current):
            return False
        lower = np.asarray(lp.col_lower_)[integer]
        upper = np.asarray(lp.col_upper_)[integer]
        values = np.round(np.asarray(current, dtype=float))
        limit = highs.getOptionValue("time_limit")
        limit = limit[1] if isinstance(limit, tuple) else limit  # (status, value) in some highspy versions
        kinds = np.asarray(lp.integrality_, dtype=np.uint8)[integer]
        highs.changeColsBounds(integer.size, integer, values, values)
        highs.changeColsIntegrality(integer.size, integer, np.zeros(integer.size, dtype=np.uint8))  # an LP: simplex
        try:
            highs.setOptionValue("time_limit", highspy.kHighsInf)
            highs.run()
            optimal = highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
            if optimal:
                self._solver._sol = highs.getSolution()
                self._solver.load_vars()
        finally:
            highs.changeColsIntegrality(integer.size, integer, kinds)
            highs.changeColsBounds(integer.size, integer, lower, upper)
            highs.setOptionValue("time_limit", limit)
        return optimal

    def _listen(self, highs: Any) -> None:
        """Forward HiGHS's MIP reports (new plans, bound updates) to ``self.progress``."""
        kinds = highspy.cb.HighsCallbackType

        def report(kind, message, out, data_in, user_data) -> None:
            if self.progress is None:
                return
            try:
                objective = out.objective_function_value
                bound = out.mip_dual_bound
                self.progress(
                    objective if math.isfinite(objective) else None, bound if math.isfinite(bound) else None
                )
            except Exception:  # noqa: BLE001 - a reporting hook must never stop a solve
                pass

        highs.setCallback(report, None)
        highs.startCallback(kinds.kCallbackMipImprovingSolution)
        highs.startCallback(kinds.kCallbackMipInterrupt)

    def solve(
        self, model: pyo.ConcreteModel, *, time_limit: float | None = None, warm_start: bool = False
    ) -> SolveResult:
        """Solve (re-using the instance when it is the same model) and load the best plan found.

        Parameters
        ----------
        model : pyomo.environ.ConcreteModel
        time_limit : float, optional
            Overrides the session's time limit for this call.
        warm_start : bool, default False
            Pass the current variable values to HiGHS as a MIP start.

        A model with an import :class:`pyomo.environ.Suffix` named ``rc`` gets the reduced costs
        of an LP's solution in it.
        """
        handoff = 0.0
        if model is not self._model:
            handoff = self.set_model(model)
        limit = self.time_limit if time_limit is None else time_limit
        self._solver.config.time_limit = None if limit is None else max(float(limit), 0.01)
        self._solver.config.mip_gap = self.mip_rel_gap
        self._solver.config.warmstart = warm_start
        _use_threads(self._solver.highs_options.get("threads"))
        start = time.perf_counter()
        ran_before = self._solver._solver_model.getRunTime() if self._solver._solver_model is not None else 0.0
        try:
            results = self._solver.solve(model)
        except Exception as exc:  # HiGHS or the interface crashed: never pass it as a plan
            raise SolverError(f"HiGHS failed: {exc}") from exc
        solve_time = time.perf_counter() - start
        status = _STATUS.get(results.termination_condition, "error")
        highs = self._solver._solver_model
        has_plan = status in ("optimal", "feasible") and results.best_feasible_objective is not None
        if status == "feasible" and not has_plan:
            status = "error"
        objective = results.best_feasible_objective if has_plan else None
        bound = results.best_objective_bound
        if status == "optimal" and bound is None:
            bound = objective
        gap = None
        if objective is not None and bound is not None and math.isfinite(bound):
            gap = abs(objective - bound) / max(abs(objective), 1e-9)
            if gap < 1e-12:
                gap = 0.0
        if has_plan:
            results.solution_loader.load_vars()
            rc = getattr(model, "rc", None)
            if isinstance(rc, pyo.Suffix) and rc.import_enabled() and highs.getInfo().mip_node_count < 0:
                rc.update(results.solution_loader.get_reduced_costs())  # an LP: its reduced costs, on request
        size = {
            "columns": int(highs.getNumCol()),
            "rows": int(highs.getNumRow()),
            "nonzeros": int(highs.getNumNz()),
            "integer_columns": sum(
                1 for v in model.component_data_objects(pyo.Var, active=True) if v.is_integer() and not v.fixed
            ),
        }
        return SolveResult(
            status=status,
            objective=objective,
            bound=bound,
            gap=gap,
            handoff_time=handoff,
            solve_time=solve_time,
            termination=str(results.termination_condition.name),
            size=size,
            highs_time=max(highs.getRunTime() - ran_before, 0.0),
        )


def _quiet_highs() -> highspy.Highs:
    """A silent ``highspy.Highs``: its constructor writes a banner to file descriptor 1 (not ``sys.stdout``),
    which would corrupt JSON printed by the command line, so the descriptor points at /dev/null meanwhile."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), 1)
            highs = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    highs.setOptionValue("output_flag", False)
    return highs


@dataclass
class QPResult:
    """What HiGHS returned for a convex quadratic programme (:func:`solve_qp`).

    Attributes
    ----------
    status : {'optimal', 'infeasible', 'error'}
    x : numpy.ndarray or None
        The optimal point (None without one).
    objective : float or None
        ``1/2 x' diag(q) x + c' x`` at ``x``.
    termination : str
        HiGHS's model status.
    highs_time : float
        Seconds HiGHS ran.
    """

    status: str
    x: np.ndarray | None
    objective: float | None
    termination: str
    highs_time: float = 0.0


def solve_qp(
    q: np.ndarray,
    c: np.ndarray,
    a: np.ndarray,
    rhs: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
) -> QPResult:
    """Minimise ``1/2 x' diag(q) x + c' x`` subject to ``a x = rhs`` and ``lower <= x <= upper`` with HiGHS.

    Parameters
    ----------
    q : numpy.ndarray
        Diagonal of the Hessian, ``q >= 0`` (zeros allowed: the problem stays convex).
    c : numpy.ndarray
        Linear cost.
    a : numpy.ndarray
        Equality constraint matrix (dense; rows x columns).
    rhs : numpy.ndarray
        Right-hand sides.
    lower, upper : numpy.ndarray
        Column bounds (``-inf`` / ``inf`` for none).

    Returns
    -------
    QPResult
    """
    n = len(c)
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = np.asarray(c, dtype=float)
    lp.col_lower_ = np.asarray(lower, dtype=float)
    lp.col_upper_ = np.asarray(upper, dtype=float)
    lp.row_lower_ = np.asarray(rhs, dtype=float)
    lp.row_upper_ = np.asarray(rhs, dtype=float)
    rows, cols = np.nonzero(a.T)  # column-wise: for each column its rows
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.searchsorted(rows, np.arange(n + 1)).astype(np.int32)
    lp.a_matrix_.index_ = cols.astype(np.int32)
    lp.a_matrix_.value_ = a.T[rows, cols].astype(float)
    hessian = highspy.HighsHessian()
    diagonal = np.flatnonzero(np.asarray(q) != 0)
    hessian.dim_ = n
    hessian.format_ = highspy.HessianFormat.kTriangular
    hessian.start_ = np.searchsorted(diagonal, np.arange(n + 1)).astype(np.int32)
    hessian.index_ = diagonal.astype(np.int32)
    hessian.value_ = np.asarray(q, dtype=float)[diagonal]
    model = highspy.HighsModel()
    model.lp_ = lp
    model.hessian_ = hessian
    highs = _quiet_highs()
    highs.passModel(model)
    highs.run()
    status = highs.getModelStatus()
    name = highs.modelStatusToString(status)
    if status == highspy.HighsModelStatus.kOptimal:
        x = np.array(highs.getSolution().col_value)
        return QPResult("optimal", x, float(highs.getInfo().objective_function_value), name, highs.getRunTime())
    if status == highspy.HighsModelStatus.kInfeasible:
        return QPResult("infeasible", None, None, name, highs.getRunTime())
    return QPResult("error", None, None, name, highs.getRunTime())
