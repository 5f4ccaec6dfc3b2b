"""Synthetic survival data shared by every benchmark: one generator, one seed, same data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SyntheticSurvival:
    """Exponential times in whole days (heavy ties), ~30% censored, two groups, p covariates."""

    time: np.ndarray  # float64, whole days >= 1
    event: np.ndarray  # int8, 1 = event
    group: np.ndarray  # int8, 0/1
    covariates: np.ndarray  # float64, shape (n, p); column 0 is the group when p >= 1


def synthetic_survival(n: int, p: int = 1, seed: int = 20261124) -> SyntheticSurvival:
    """Draw the benchmark data set: hazard depends on the group and the covariates."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 2, size=n).astype(np.int8)
    x = rng.standard_normal((n, max(p, 1)))
    if p >= 1:
        x[:, 0] = group
    beta = np.linspace(0.5, -0.3, x.shape[1])
    rate = np.exp(x @ beta) / 365.0
    event_time = rng.exponential(1.0 / rate)
    censor_time = rng.exponential(365.0 * 2.0, size=n)
    time = np.ceil(np.minimum(event_time, censor_time))
    event = (event_time <= censor_time).astype(np.int8)
    return SyntheticSurvival(time=time, event=event, group=group, covariates=x[:, :p])
