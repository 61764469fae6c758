"""Exceptions raised by cascade.

All errors derive from :class:`CascadeError`, so ``except cascade.CascadeError`` catches every
problem the library reports on purpose. Each carries a message written for a plant engineer:
it names the unit, the number and, where possible, the fix.
"""

from __future__ import annotations


class CascadeError(Exception):
    """Base class of every error cascade raises on purpose."""


def summarise(problems: list[str], noun: str = "problems") -> str:
    """One message for a list of problems: the only one, or ``"3 problems: a; b; c"``."""
    return problems[0] if len(problems) == 1 else f"{len(problems)} {noun}: " + "; ".join(problems)


class PlantDataError(CascadeError, ValueError):
    """The plant description is malformed or physically impossible.

    Parameters
    ----------
    message : str
        The first (or only) problem, written for the user.
    problems : list of str, optional
        Every problem found, when several were collected (the message then summarises them).
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = list(problems) if problems else [message]
        super().__init__(message)


class UnsupportedFeatureError(PlantDataError):
    """The plant uses a feature of the file format that this version cannot optimize yet."""


class UnknownStandardError(PlantDataError):
    """A water-quality standard that the library of :mod:`cascade.standards` does not hold.

    The message lists every standard the library has.
    """


class StandardLimitError(PlantDataError):
    """A standard's limits cannot be used as asked (:mod:`cascade.standards`).

    An unknown use (the message lists the standard's uses), a use for which the library holds no
    numbers, or a ``map`` that names a parameter the use does not limit or one that is not an
    upper limit (the message lists the use's parameters).
    """


class InfeasiblePlantError(CascadeError):
    """No water network satisfies every limit of the plant.

    Parameters
    ----------
    message : str
        Explanation naming the units that cannot be satisfied.
    units : list of str, optional
        Ids of the units found to be unsatisfiable.
    """

    def __init__(self, message: str, units: list[str] | None = None) -> None:
        self.units = list(units or [])
        super().__init__(message)


class SolverError(CascadeError):
    """The solver failed (crashed, returned an unknown status, or stopped with no plan)."""
