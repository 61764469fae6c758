"""cascade: design water reuse for industrial plants.

A plant's water users and their quality limits become a networkx superstructure, a Pyomo MILP
solved by HiGHS, and a retrofit plan with the fresh water and money saved.
"""

from __future__ import annotations

from . import economics, examples, kpi, park, plot, standards
from .check import CheckResult, check_flows
from .exceptions import (
    CascadeError,
    InfeasiblePlantError,
    PlantDataError,
    SolverError,
    StandardLimitError,
    UnknownStandardError,
    UnsupportedFeatureError,
)
from .formulation import build_model
from .io import read_plant, write_plant
from .optimize import extract_plan, optimize
from .periods import MultiPeriodPlan, optimize_periods
from .plan import RetrofitPlan
from .plant import Plant
from .solve import HighsSolver, SolveResult
from .superstructure import build_superstructure
from .sweep import apply_changes, sweep
from .targeting import TargetResult, target
from .tradeoff import lexicographic, pareto

__version__ = "0.1.0"

__all__ = [
    "CascadeError",
    "InfeasiblePlantError",
    "PlantDataError",
    "SolverError",
    "UnsupportedFeatureError",
    "UnknownStandardError",
    "StandardLimitError",
    "Plant",
    "read_plant",
    "write_plant",
    "build_superstructure",
    "build_model",
    "HighsSolver",
    "optimize",
    "extract_plan",
    "RetrofitPlan",
    "check_flows",
    "CheckResult",
    "examples",
    "kpi",
    "SolveResult",
    "target",
    "TargetResult",
    "economics",
    "park",
    "plot",
    "standards",
    "sweep",
    "apply_changes",
    "pareto",
    "lexicographic",
    "optimize_periods",
    "MultiPeriodPlan",
    "__version__",
]
