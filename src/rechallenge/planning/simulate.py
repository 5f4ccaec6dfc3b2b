"""Simulate a proposed two-arm trial from a fitted survival curve: power and duration.

The control arm follows a Weibull curve ``S(t) = exp(-(t / scale)^shape)`` (a cohort's
:func:`rechallenge.stats.parametric.fit_parametric` curve, or the exponential with a given
median); the experimental arm has proportional hazards with ratio ``hr``
(``S_E = S^hr``). Each simulated trial:

1. ``n`` patients, ``round(n / (1 + allocation))`` to control and the rest experimental,
   in random order, enter uniformly over ``[0, accrual]``;
2. event times from the arm's curve by inversion, dropout times exponential with hazard
   ``dropout`` (none when 0);
3. the analysis is at ``accrual + follow_up`` (fixed duration) or, with
   ``target_events``, at the calendar time of that event (event-driven; if the trial never
   reaches it, when the last event happens, and ``reached`` says so); patients not yet
   enrolled then are not analysed;
4. follow-up is cut at the analysis; the log-rank test
   (:func:`rechallenge.stats.logrank.logrank_test`) counts as a success when its p-value
   is below ``alpha`` (``sides = 2``) or half of it is (``sides = 1``) *and* the
   experimental arm has fewer events than expected (a rejection against the new
   treatment is not a success).

Power is the share of successes, with its Monte-Carlo standard error; duration the mean
and median analysis time. The same ``seed`` gives the same numbers (``numpy``
``default_rng``; every trial draws in a fixed order).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from rechallenge.stats.logrank import logrank_test


@dataclass(frozen=True)
class Curve:
    """Weibull control-arm curve ``exp(-(t / scale)^shape)``; shape 1 is exponential."""

    shape: float
    scale: float

    @classmethod
    def exponential_median(cls, median: float) -> Curve:
        """The exponential curve with this median."""
        return cls(1.0, median / math.log(2.0))

    @property
    def median(self) -> float:
        """Median ``scale (log 2)^(1/shape)``."""
        return self.scale * math.log(2.0) ** (1.0 / self.shape)


@dataclass(frozen=True)
class TrialDesign:
    """A proposed two-arm trial (times in the curve's units)."""

    n: int
    hr: float
    accrual: float
    follow_up: float
    allocation: float = 1.0
    dropout: float = 0.0
    alpha: float = 0.05
    sides: int = 2
    target_events: int | None = None

    def check(self) -> None:
        """Refuse impossible values with a plain message."""
        if self.n < 4:
            raise ValueError(f"n must be >= 4, got {self.n}")
        for name in ("hr", "allocation"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive number, got {v}")
        if self.accrual < 0 or self.follow_up < 0 or self.dropout < 0:
            raise ValueError("accrual, follow_up and dropout must be >= 0")
        if self.target_events is None and self.accrual + self.follow_up <= 0:
            raise ValueError("accrual + follow_up must be > 0 for a fixed-duration analysis")
        if not 0 < self.alpha < 1 or self.sides not in (1, 2):
            raise ValueError("alpha must be in (0, 1) and sides 1 or 2")
        if self.target_events is not None and not 1 <= self.target_events <= self.n:
            raise ValueError(f"target_events must be in 1..n, got {self.target_events}")


@dataclass(frozen=True)
class SimulationResult:
    """Operating characteristics of a simulated trial."""

    n_sim: int
    seed: int
    power: float
    power_se: float
    duration_mean: float
    duration_median: float
    events_mean: float
    enrolled_mean: float
    reached_share: float
    median_control: float
    median_experimental: float
    design: TrialDesign
    curve: Curve

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return asdict(self)


@dataclass(frozen=True)
class _Trial:
    success: bool
    duration: float
    events: int
    enrolled: int
    reached: bool


def _one_trial(rng: np.random.Generator, curve: Curve, d: TrialDesign) -> _Trial:
    n_c = round(d.n / (1.0 + d.allocation))
    arm = rng.permutation(np.r_[np.zeros(n_c, dtype=int), np.ones(d.n - n_c, dtype=int)])
    entry = rng.uniform(0.0, d.accrual, d.n) if d.accrual > 0 else np.zeros(d.n)
    scale = np.where(arm == 1, curve.scale * d.hr ** (-1.0 / curve.shape), curve.scale)
    t_event = scale * (-np.log(rng.uniform(size=d.n))) ** (1.0 / curve.shape)
    t_drop = rng.exponential(1.0 / d.dropout, d.n) if d.dropout > 0 else np.full(d.n, np.inf)
    has_event = t_event <= t_drop
    reached = True
    if d.target_events is None:
        when = d.accrual + d.follow_up
    else:
        calendar = np.sort((entry + t_event)[has_event])
        if calendar.size >= d.target_events:
            when = float(calendar[d.target_events - 1])
        else:
            reached = False
            when = float(calendar[-1]) if calendar.size else d.accrual
    on = entry <= when
    window = when - entry[on]
    obs = np.minimum(np.minimum(t_event[on], t_drop[on]), window)
    # compared on the calendar scale, so the target event itself is counted exactly
    ev = (has_event[on] & (entry[on] + t_event[on] <= when)).astype(int)
    grp = arm[on]
    success = False
    if ev.sum() > 0 and np.unique(grp).size == 2:
        test = logrank_test(obs, ev, grp)
        exp_index = list(test.groups).index(1)
        favourable = test.observed[exp_index] < test.expected[exp_index]
        p = test.p / 2.0 if d.sides == 1 else test.p
        success = bool(favourable and p < d.alpha)
    return _Trial(success, when, int(ev.sum()), int(on.sum()), reached)


def simulate_trial(
    curve: Curve,
    design: TrialDesign,
    *,
    n_sim: int = 1000,
    seed: int = 1,
    progress: Callable[[int], None] | None = None,
) -> SimulationResult:
    """Simulate ``n_sim`` trials of ``design`` from ``curve``; ``progress(i)`` after each."""
    design.check()
    if not (curve.shape > 0 and curve.scale > 0):
        raise ValueError("the curve's shape and scale must be positive")
    if n_sim < 1:
        raise ValueError(f"n_sim must be >= 1, got {n_sim}")
    rng = np.random.default_rng(seed)
    trials = []
    for i in range(n_sim):
        trials.append(_one_trial(rng, curve, design))
        if progress is not None:
            progress(i + 1)
    wins = np.array([t.success for t in trials], dtype=float)
    durations = np.array([t.duration for t in trials])
    power = float(wins.mean())
    return SimulationResult(
        n_sim=n_sim,
        seed=seed,
        power=power,
        power_se=math.sqrt(power * (1.0 - power) / n_sim),
        duration_mean=float(durations.mean()),
        duration_median=float(np.median(durations)),
        events_mean=float(np.mean([t.events for t in trials])),
        enrolled_mean=float(np.mean([t.enrolled for t in trials])),
        reached_share=float(np.mean([t.reached for t in trials])),
        median_control=curve.median,
        median_experimental=curve.median * design.hr ** (-1.0 / curve.shape),
        design=design,
        curve=curve,
    )
