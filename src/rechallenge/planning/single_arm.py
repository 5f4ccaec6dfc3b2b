"""Single-arm time-to-event design against a historical median: one-sample log-rank.

The trial compares its observed events ``O`` with those expected under the historical
survival, ``E = sum Λ0(X_i)``, by ``(E - O) / sqrt(E)``; one-sided ``alpha``. Survival is
Weibull with shape ``k`` (``k = 1``: exponential), the historical curve
``S0(t) = exp(-log 2 (t / m0)^k)`` with median ``m0``, and the new treatment has hazard
ratio ``delta`` against it (``delta < 1`` is benefit: median ``m0 delta^(-1/k)``).
Accrual is uniform over ``ta``, then ``tf`` of follow-up; no dropout.

Sample size (Wu 2015, *Pharm Stat* 14:26–33, eq. 6):

1. with ``G(t) = 1`` on ``[0, tf]``, ``(ta + tf - t) / ta`` on ``[tf, ta + tf]``, the
   censoring survival of uniform entry, compute by quadrature ``p0 = ∫ G S1 λ0``,
   ``p1 = delta p0``, ``p00 = ∫ G S1 Λ0 λ0`` and ``p01 = delta p00``;
2. ``ω = p1 - p0``, ``σ² = p1 - p1² + 2 p00 - p0² - 2 p01 + 2 p0 p1``;
3. ``n = ceil((sqrt(p0) z_{1-α} + σ z_{1-β})² / ω²)`` and the expected events ``n p1``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from scipy.integrate import quad
from scipy.stats import norm

from rechallenge.planning.events import check_error_rates


@dataclass(frozen=True)
class OneSampleLogrankResult:
    """Sample size and expected events of a one-sample log-rank design."""

    median_historical: float
    median_expected: float
    hr: float
    shape: float
    accrual: float
    follow_up: float
    alpha: float
    power: float
    n_exact: float
    n: int
    events: float
    p_event: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return asdict(self)


def _moments(
    m0: float, delta: float, shape: float, ta: float, tf: float
) -> tuple[float, float, float, float]:
    """``(p0, p1, p00, p01)`` of Wu (2015) by adaptive quadrature."""
    lam = math.log(2.0) / m0**shape
    tau = ta + tf

    def cum0(t: float) -> float:
        return lam * t**shape

    def haz0(t: float) -> float:
        return lam * shape * t ** (shape - 1.0) if t > 0 else (lam if shape == 1.0 else 0.0)

    def surv1(t: float) -> float:
        return math.exp(-delta * cum0(t))

    def g(t: float) -> float:
        return 1.0 if t <= tf else (tau - t) / ta

    def f0(t: float) -> float:
        return g(t) * surv1(t) * haz0(t)

    def f00(t: float) -> float:
        return g(t) * surv1(t) * cum0(t) * haz0(t)

    p0 = quad(f0, 0.0, tf, limit=200)[0] + quad(f0, tf, tau, limit=200)[0]
    p00 = quad(f00, 0.0, tf, limit=200)[0] + quad(f00, tf, tau, limit=200)[0]
    return p0, delta * p0, p00, delta * p00


def one_sample_logrank(
    median_historical: float,
    hr: float,
    *,
    accrual: float,
    follow_up: float,
    shape: float = 1.0,
    alpha: float = 0.05,
    power: float = 0.8,
) -> OneSampleLogrankResult:
    """Patients for a one-sample log-rank test of ``hr`` against a historical median."""
    for name, value in (
        ("median_historical", median_historical),
        ("hr", hr),
        ("accrual", accrual),
        ("follow_up", follow_up),
        ("shape", shape),
    ):
        if not (math.isfinite(value) and value > 0.0):
            raise ValueError(f"{name} must be a positive number, got {value}")
    if hr == 1.0:
        raise ValueError("hr must differ from 1")
    check_error_rates(alpha, power, 1)
    p0, p1, p00, p01 = _moments(median_historical, hr, shape, accrual, follow_up)
    omega = p1 - p0
    sigma = math.sqrt(p1 - p1**2 + 2 * p00 - p0**2 - 2 * p01 + 2 * p0 * p1)
    z_a, z_b = float(norm.ppf(1 - alpha)), float(norm.ppf(power))
    n_exact = (math.sqrt(p0) * z_a + sigma * z_b) ** 2 / omega**2
    n = math.ceil(n_exact - 1e-9)
    return OneSampleLogrankResult(
        median_historical=median_historical,
        median_expected=median_historical * hr ** (-1.0 / shape),
        hr=hr,
        shape=shape,
        accrual=accrual,
        follow_up=follow_up,
        alpha=alpha,
        power=power,
        n_exact=n_exact,
        n=n,
        events=n * p1,
        p_event=p1,
    )


def one_sample_logrank_power(
    n: int,
    median_historical: float,
    hr: float,
    *,
    accrual: float,
    follow_up: float,
    shape: float = 1.0,
    alpha: float = 0.05,
) -> float:
    """Power of the one-sample log-rank test with ``n`` patients (Wu 2015, eq. 5)."""
    p0, p1, p00, p01 = _moments(median_historical, hr, shape, accrual, follow_up)
    omega = p1 - p0
    sigma = math.sqrt(p1 - p1**2 + 2 * p00 - p0**2 - 2 * p01 + 2 * p0 * p1)
    z_a = float(norm.ppf(1 - alpha))
    return float(norm.cdf((-math.sqrt(p0) * z_a - math.sqrt(n) * omega) / sigma))
