"""Events and sample size for a two-arm time-to-event trial (log-rank test).

Three calculations, numbers in and an immutable result out:

- :func:`required_events` — events needed to detect a hazard ratio, by Schoenfeld (1981,
  1983: ``d = (z_a + z_b)^2 / (p (1 - p) log(HR)^2)``) or Freedman (1982:
  ``d = (z_a + z_b)^2 (1 + k HR)^2 / (k (1 - HR)^2)``), ``k`` the allocation ratio
  experimental : control and ``p = k / (1 + k)`` the experimental share;
- :func:`lachin_foulkes` — patients needed with exponential survival in both arms,
  uniform accrual over ``accrual`` time units, analysis at ``accrual + follow_up`` and an
  exponential dropout hazard (Lachin & Foulkes 1986, eq. 3.2, null variance at the
  allocation-weighted hazard);
- :func:`event_probability` — the chance that one patient's event is observed under the
  same accrual, follow-up and dropout (closed form of Lachin & Foulkes eq. 3.3).

``alpha`` is the total type I error; ``sides = 2`` splits it in two (``z_{1 - alpha/2}``),
``sides = 1`` does not. Every count is rounded up (``events`` is ``ceil(events_exact)``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from scipy.stats import norm

Method = Literal["schoenfeld", "freedman"]
METHODS: tuple[Method, ...] = ("schoenfeld", "freedman")


def check_error_rates(alpha: float, power: float, sides: int) -> None:
    """Refuse an alpha or power outside (0, 1), or sides other than 1 or 2."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if not 0.0 < power < 1.0:
        raise ValueError(f"power must be in (0, 1), got {power}")
    if sides not in (1, 2):
        raise ValueError(f"sides must be 1 or 2, got {sides}")


def z_values(alpha: float, power: float, sides: int) -> tuple[float, float]:
    """``(z_{1 - alpha/sides}, z_{power})`` after checking the inputs."""
    check_error_rates(alpha, power, sides)
    return float(norm.ppf(1.0 - alpha / sides)), float(norm.ppf(power))


def _check_positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0.0):
        raise ValueError(f"{name} must be a positive number, got {value}")


@dataclass(frozen=True)
class EventsResult:
    """Events needed for a log-rank comparison of two arms."""

    method: Method
    hr: float
    alpha: float
    power: float
    sides: int
    allocation: float
    events_exact: float
    events: int

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return asdict(self)


def required_events(
    hr: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    allocation: float = 1.0,
    sides: int = 2,
    method: Method = "schoenfeld",
) -> EventsResult:
    """Events needed to detect ``hr`` (experimental vs control) with the log-rank test.

    ``allocation`` is ``k``, patients randomised to experimental per control patient.
    Schoenfeld's formula is symmetric in ``HR`` and ``1/HR``; Freedman's is not (it is
    written for the hazard ratio experimental : control, as in Freedman 1982).
    """
    _check_positive("hr", hr)
    _check_positive("allocation", allocation)
    if hr == 1.0:
        raise ValueError("hr must differ from 1")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    z_a, z_b = z_values(alpha, power, sides)
    k = allocation
    if method == "schoenfeld":
        share = k / (1.0 + k)
        exact = (z_a + z_b) ** 2 / (share * (1.0 - share) * math.log(hr) ** 2)
    else:
        exact = (z_a + z_b) ** 2 * (1.0 + k * hr) ** 2 / (k * (1.0 - hr) ** 2)
    return EventsResult(method, hr, alpha, power, sides, k, exact, math.ceil(exact - 1e-9))


def event_probability(
    hazard: float, accrual: float, follow_up: float, dropout: float = 0.0
) -> float:
    """Chance that a patient's event is observed before the analysis, exponential model.

    Entry is uniform on ``[0, accrual]``, the analysis at ``accrual + follow_up``, the event
    hazard ``hazard`` and an independent exponential dropout hazard ``dropout``:
    ``P = h/(h+d) * (1 - (exp(-(h+d) F) - exp(-(h+d)(F+A))) / ((h+d) A))``.
    ``accrual = 0`` (everyone enters at once) gives ``h/(h+d) (1 - exp(-(h+d) F))``.
    """
    _check_positive("hazard", hazard)
    if accrual < 0 or follow_up < 0 or dropout < 0:
        raise ValueError("accrual, follow_up and dropout must be >= 0")
    rate = hazard + dropout
    if accrual == 0.0:
        return hazard / rate * -math.expm1(-rate * follow_up)
    if follow_up + accrual == 0.0:
        return 0.0
    lost = (math.exp(-rate * follow_up) - math.exp(-rate * (follow_up + accrual))) / (
        rate * accrual
    )
    return hazard / rate * (1.0 - lost)


@dataclass(frozen=True)
class SampleSizeResult:
    """Patients and expected events for a two-arm exponential design (Lachin–Foulkes)."""

    hazard_control: float
    hazard_experimental: float
    hr: float
    accrual: float
    follow_up: float
    dropout: float
    alpha: float
    power: float
    sides: int
    allocation: float
    n_exact: float
    n: int
    n_control: int
    n_experimental: int
    events_control: float
    events_experimental: float
    events: float
    p_event_control: float
    p_event_experimental: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return asdict(self)


def hazard_from_median(median: float) -> float:
    """Exponential hazard with the given median, ``log(2) / median``."""
    _check_positive("median", median)
    return math.log(2.0) / median


def lachin_foulkes(
    hazard_control: float,
    hr: float,
    *,
    accrual: float,
    follow_up: float,
    dropout: float = 0.0,
    alpha: float = 0.05,
    power: float = 0.8,
    allocation: float = 1.0,
    sides: int = 2,
) -> SampleSizeResult:
    """Total patients for the test of equal exponential hazards (Lachin & Foulkes 1986).

    ``sqrt(N) |h_E - h_C| = z_a sqrt(phi(h_bar) (1/Q_E + 1/Q_C))
    + z_b sqrt(phi(h_E)/Q_E + phi(h_C)/Q_C)`` with ``phi(h) = h^2 / P(event | h)``,
    ``Q_E = k/(1+k)``, ``Q_C = 1/(1+k)`` and ``h_bar = Q_E h_E + Q_C h_C``. ``N`` is rounded
    up to whole patients per arm in the allocation ratio (``n_control = ceil(N Q_C)``,
    ``n_experimental = ceil(N Q_E)``); expected events use those counts.
    """
    _check_positive("hazard_control", hazard_control)
    _check_positive("hr", hr)
    _check_positive("allocation", allocation)
    _check_positive("accrual", accrual)
    if follow_up < 0:
        raise ValueError(f"follow_up must be >= 0, got {follow_up}")
    if hr == 1.0:
        raise ValueError("hr must differ from 1")
    z_a, z_b = z_values(alpha, power, sides)
    h_c = hazard_control
    h_e = hazard_control * hr
    q_e = allocation / (1.0 + allocation)
    q_c = 1.0 - q_e

    def phi(h: float) -> float:
        return h * h / event_probability(h, accrual, follow_up, dropout)

    h_bar = q_e * h_e + q_c * h_c
    root = z_a * math.sqrt(phi(h_bar) * (1.0 / q_e + 1.0 / q_c)) + z_b * math.sqrt(
        phi(h_e) / q_e + phi(h_c) / q_c
    )
    n_exact = (root / abs(h_e - h_c)) ** 2
    n_c = math.ceil(n_exact * q_c - 1e-9)
    n_e = math.ceil(n_exact * q_e - 1e-9)
    p_c = event_probability(h_c, accrual, follow_up, dropout)
    p_e = event_probability(h_e, accrual, follow_up, dropout)
    return SampleSizeResult(
        hazard_control=h_c,
        hazard_experimental=h_e,
        hr=hr,
        accrual=accrual,
        follow_up=follow_up,
        dropout=dropout,
        alpha=alpha,
        power=power,
        sides=sides,
        allocation=allocation,
        n_exact=n_exact,
        n=n_c + n_e,
        n_control=n_c,
        n_experimental=n_e,
        events_control=n_c * p_c,
        events_experimental=n_e * p_e,
        events=n_c * p_c + n_e * p_e,
        p_event_control=p_c,
        p_event_experimental=p_e,
    )
