"""Peak extra memory of a Cox fit stays below 3x its input arrays (tracemalloc)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from rechallenge.stats.cox import fit_cox

N_ROWS = 200_000
LIMIT = 3.0


def _data(p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whole-day exponential times (heavy ties), ~30 % censored; column 0 is a 0/1 group."""
    rng = np.random.default_rng(20261124)
    x = rng.standard_normal((N_ROWS, p))
    x[:, 0] = rng.integers(0, 2, size=N_ROWS)
    rate = np.exp(x @ np.linspace(0.5, -0.3, p)) / 365.0
    event_time = rng.exponential(1.0 / rate)
    censor_time = rng.exponential(730.0, size=N_ROWS)
    time = np.ceil(np.minimum(event_time, censor_time))
    return time, (event_time <= censor_time).astype(np.int8), x


def _peak_ratio(time: np.ndarray, event: np.ndarray, x: np.ndarray, ties: str) -> float:
    """Peak traced allocation of one fit (no concordance) over the input bytes."""
    tracemalloc.start()
    try:
        fit_cox(time, event, x, ties=ties, concordance=False)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / (time.nbytes + event.nbytes + x.nbytes)


@pytest.mark.skipif(tracemalloc.is_tracing(), reason="tracemalloc already in use")
@pytest.mark.parametrize(("p", "ties"), [(1, "efron"), (1, "breslow"), (10, "efron")])
def test_fit_peak_memory_below_three_times_input(p: int, ties: str) -> None:
    """One covariate is the hard case: the input is only 17 bytes a row."""
    time, event, x = _data(p)
    assert _peak_ratio(time, event, x, ties) < LIMIT


def test_the_callers_covariates_stay_writable() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(0, 2, size=(200, 1)).astype(np.float64)  # used without a copy
    time = rng.exponential(100, size=200).round()
    event = rng.integers(0, 2, size=200)
    fit_cox(time, event, x, concordance=False)
    assert x.flags.writeable
    x[0, 0] = 5.0  # the caller may still change its own array
