"""The few distributions the gross-error tests need (the chi-square and the normal), without SciPy.

The chi-square distribution function is the regularised lower incomplete gamma function
``P(k/2, x/2)``, evaluated by its series for ``x < k/2 + 1`` and by Lentz's continued fraction
otherwise (Press et al., *Numerical Recipes*, 3rd ed., section 6.2); its quantile is found by
bisection on the distribution function, to a relative precision of ``1e-12``.
"""

from __future__ import annotations

import math
from statistics import NormalDist

_EPS = 1e-15
_TINY = 1e-300


def _lower_gamma_series(a: float, x: float) -> float:
    """``P(a, x)`` by its series, for ``x < a + 1``."""
    term = total = 1.0 / a
    ap = a
    for _ in range(10_000):
        ap += 1.0
        term *= x / ap
        total += term
        if abs(term) < abs(total) * _EPS:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _upper_gamma_fraction(a: float, x: float) -> float:
    """``Q(a, x) = 1 - P(a, x)`` by its continued fraction, for ``x >= a + 1``."""
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def chi2_sf(x: float, dof: int) -> float:
    """The probability that a chi-square variable with ``dof`` degrees of freedom exceeds ``x``.

    >>> round(chi2_sf(3.841458820694124, 1), 6)
    0.05
    """
    if dof < 1:
        raise ValueError("a chi-square distribution needs at least one degree of freedom")
    if x <= 0:
        return 1.0
    a, half = dof / 2.0, x / 2.0
    if half < a + 1.0:
        return 1.0 - _lower_gamma_series(a, half)
    return _upper_gamma_fraction(a, half)


def chi2_ppf(p: float, dof: int) -> float:
    """The ``p`` quantile of the chi-square distribution with ``dof`` degrees of freedom.

    >>> round(chi2_ppf(0.95, 2), 4)
    5.9915
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"a probability strictly between 0 and 1 is needed, got {p}")
    lo, hi = 0.0, max(1.0, float(dof))
    while 1.0 - chi2_sf(hi, dof) < p:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if 1.0 - chi2_sf(mid, dof) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * hi:
            break
    return 0.5 * (lo + hi)


def normal_ppf(p: float) -> float:
    """The ``p`` quantile of the standard normal distribution.

    >>> round(normal_ppf(0.975), 4)
    1.96
    """
    return NormalDist().inv_cdf(p)


def sidak(level: float, tests: int) -> float:
    """The level of each of ``tests`` independent tests that keeps their family's level at ``level``.

    ``1 - (1 - level)^(1 / tests)`` (Šidák's correction).

    >>> round(sidak(0.05, 10), 6)
    0.005116
    """
    return 1.0 - (1.0 - level) ** (1.0 / max(tests, 1))
