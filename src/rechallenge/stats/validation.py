"""Validation of a survival prediction: concordance, time-dependent AUC, calibration and
Harrell's bootstrap optimism correction. Arrays in, numbers out.

``risk`` is a risk score: higher means shorter expected survival (a Cox linear predictor).

- :func:`concordance` — Harrell's C (``weights="harrell"``) or Uno's C (``"uno"``), as R
  ``survival::concordance(Surv(time, event) ~ risk, reverse = TRUE, timewt = "n" | "n/G2")``:
  every pair of an event at ``t`` with a subject still followed after ``t`` (censored at
  ``t`` counts as after) is concordant when the event has the higher risk, discordant when
  lower, half when tied; pairs of events at the same time are not compared. Uno weights
  each pair by ``1/G(t)²``, ``G`` the Kaplan–Meier curve of the censoring times, so the C
  does not depend on the censoring distribution (Uno et al. 2011). ``tau`` drops events
  after ``tau`` (R ``ymax``).
- :func:`time_dependent_auc` — cumulative/dynamic AUC at ``t`` (Heagerty, Lumley & Pepe
  2000; IPCW form of Uno et al. 2007): cases have the event by ``t`` (weight
  ``1/G(T_i-)``), controls are still followed after ``t``; tied risks count a half.
- :func:`calibration_slope` — the coefficient of ``risk`` in a Cox model on the data
  (1 = calibrated, < 1 = predictions too extreme), as rms ``validate``'s "Slope".
- :func:`calibration_table` — predicted against observed survival at ``t`` in risk groups:
  the mean predicted ``S(t)`` per group beside the group's Kaplan–Meier ``S(t)`` and CI.
- :func:`bootstrap_optimism` — Harrell's optimism correction: refit on each bootstrap
  sample, take the statistic on that sample minus on the original data, average; the
  corrected value is the apparent one minus that optimism (rms ``validate``). Bootstrap
  rows are given (``indices``) or drawn with a seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from rechallenge.stats.cox import fit_cox
from rechallenge.stats.km import kaplan_meier

FloatArray = NDArray[np.float64]
Weights = Literal["harrell", "uno"]


def _arrays(time: ArrayLike, event: ArrayLike, risk: ArrayLike) -> tuple[FloatArray, ...]:
    t = np.asarray(time, dtype=float).ravel()
    e = np.asarray(event, dtype=float).ravel()
    r = np.asarray(risk, dtype=float).ravel()
    if not (t.size == e.size == r.size) or t.size < 2:
        raise ValueError("time, event and risk must have the same length (>= 2)")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(r))):
        raise ValueError("time and risk must be finite")
    if not np.all((e == 0) | (e == 1)):
        raise ValueError("events must be 0 or 1")
    return t, e, r


def censoring_survival(time: FloatArray, event: FloatArray, at: FloatArray) -> FloatArray:
    """``G(at-)``: Kaplan–Meier of the censoring times just before each ``at``.

    Events at a censoring time are taken to come first: they leave the risk set before
    the censorings at that time are counted (R survival's convention in ``concordance``).
    """
    uniq = np.unique(time[event == 0])
    g = np.ones(uniq.size)
    level = 1.0
    for k, u in enumerate(uniq):
        censored = np.sum((time == u) & (event == 0))
        at_risk = np.sum(time >= u) - np.sum((time == u) & (event == 1))
        level *= 1.0 - censored / at_risk
        g[k] = level
    idx = np.searchsorted(uniq, at, side="left") - 1  # censorings strictly before
    return np.where(idx >= 0, g[np.clip(idx, 0, None)], 1.0)


@dataclass(frozen=True)
class ConcordanceResult:
    """Weighted pair counts and the C statistic."""

    c: float
    concordant: float
    discordant: float
    tied_risk: float
    weights: Weights

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return {
            "c": self.c,
            "concordant": self.concordant,
            "discordant": self.discordant,
            "tied_risk": self.tied_risk,
            "weights": self.weights,
        }


#: Cells of one block of the case-by-subject comparison (bounds its memory to a few MB).
PAIR_BLOCK_CELLS = 1 << 22


def _pair_counts(t: FloatArray, e: FloatArray, r: FloatArray, cases: NDArray[np.intp]) -> Any:
    """Per case ``i``: subjects followed after ``t_i`` (censored at ``t_i`` counts as after)
    with lower, higher and equal risk, as a ``3 × cases`` integer array.

    Compared in blocks of cases against every subject at once (whole-array comparisons,
    not a loop over cases), so the cost per case is one vector operation.
    """
    out = np.zeros((3, cases.size), dtype=np.int64)
    rows = max(1, PAIR_BLOCK_CELLS // max(t.size, 1))
    for start in range(0, cases.size, rows):
        idx = cases[start : start + rows]
        ti, ri = t[idx][:, None], r[idx][:, None]
        later = (t[None, :] > ti) | ((t[None, :] == ti) & (e[None, :] == 0))
        out[0, start : start + idx.size] = np.sum(later & (ri > r[None, :]), axis=1)
        out[1, start : start + idx.size] = np.sum(later & (ri < r[None, :]), axis=1)
        out[2, start : start + idx.size] = np.sum(later & (ri == r[None, :]), axis=1)
    return out


def concordance(
    time: ArrayLike,
    event: ArrayLike,
    risk: ArrayLike,
    *,
    weights: Weights = "harrell",
    tau: float | None = None,
) -> ConcordanceResult:
    """Harrell's or Uno's C of a risk score (see the module docstring)."""
    if weights not in ("harrell", "uno"):
        raise ValueError(f"weights must be 'harrell' or 'uno', got {weights!r}")
    t, e, r = _arrays(time, event, risk)
    cases = np.nonzero(e == 1)[0]
    if tau is not None:
        cases = cases[t[cases] <= tau]
    if cases.size == 0:
        raise ValueError("no events to compare")
    w = np.ones(cases.size)
    if weights == "uno" and np.sum(e) >= 2:
        w = 1.0 / censoring_survival(t, e, t[cases]) ** 2
    counts = _pair_counts(t, e, r, cases)
    conc = disc = tied = 0.0
    for k in range(cases.size):  # weighted sums in case order, as one case at a time
        conc += w[k] * float(counts[0, k])
        disc += w[k] * float(counts[1, k])
        tied += w[k] * float(counts[2, k])
    total = conc + disc + tied
    c = (conc + tied / 2.0) / total if total > 0 else math.nan
    return ConcordanceResult(c, conc, disc, tied, weights)


def time_dependent_auc(time: ArrayLike, event: ArrayLike, risk: ArrayLike, t: float) -> float:
    """Cumulative/dynamic AUC at ``t`` with inverse-probability-of-censoring weights."""
    tt, e, r = _arrays(time, event, risk)
    case = (tt <= t) & (e == 1)
    control = tt > t
    if not case.any() or not control.any():
        raise ValueError(f"AUC at {t} needs events by t and subjects followed beyond t")
    wc = 1.0 / censoring_survival(tt, e, tt[case])
    rc = r[case][:, None]
    rk = r[control][None, :]
    score = (rc > rk) + 0.5 * (rc == rk)
    return float(np.sum(wc[:, None] * score) / (np.sum(wc) * rk.size))


def calibration_slope(time: ArrayLike, event: ArrayLike, risk: ArrayLike) -> float:
    """Cox coefficient of ``risk`` refitted on these data (Efron ties)."""
    t, e, r = _arrays(time, event, risk)
    fit = fit_cox(t, e, r.reshape(-1, 1), concordance=False)
    return float(fit.coef[0])


@dataclass(frozen=True)
class CalibrationGroup:
    """One risk group: mean predicted and Kaplan–Meier observed survival at ``t``."""

    n: int
    predicted: float
    observed: float
    lower: float
    upper: float


def calibration_table(
    time: ArrayLike, event: ArrayLike, predicted: ArrayLike, t: float, *, groups: int = 5
) -> list[CalibrationGroup]:
    """Groups of equal size by predicted ``S(t)``; observed KM ``S(t)`` (log CI) in each."""
    tt, e, p = _arrays(time, event, predicted)
    if groups < 2 or groups > tt.size:
        raise ValueError("groups must be between 2 and n")
    order = np.argsort(p, kind="stable")
    out = []
    for rows in np.array_split(order, groups):
        km = kaplan_meier(tt[rows], e[rows]).survival_at([t], extend=True)
        out.append(
            CalibrationGroup(
                n=int(rows.size),
                predicted=float(np.mean(p[rows])),
                observed=float(km.surv[0]),
                lower=float(km.lower[0]),
                upper=float(km.upper[0]),
            )
        )
    return out


Statistic = Callable[[FloatArray, FloatArray, FloatArray], float]
Fitter = Callable[[FloatArray, FloatArray, FloatArray], Callable[[FloatArray], FloatArray]]


@dataclass(frozen=True)
class OptimismResult:
    """Apparent, bootstrap-training, test, optimism and corrected value per statistic."""

    apparent: dict[str, float]
    training: dict[str, float]
    test: dict[str, float]
    optimism: dict[str, float]
    corrected: dict[str, float]
    b: int

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return {
            "apparent": self.apparent,
            "training": self.training,
            "test": self.test,
            "optimism": self.optimism,
            "corrected": self.corrected,
            "b": self.b,
        }


def dxy(time: FloatArray, event: FloatArray, risk: FloatArray) -> float:
    """Somers' ``Dxy = 2 (C - 1/2)`` of a risk score (Harrell's C), as rms reports."""
    return float(2.0 * (concordance(time, event, risk).c - 0.5))


def cox_fitter(
    time: FloatArray, event: FloatArray, x: FloatArray
) -> Callable[[FloatArray], FloatArray]:
    """Fit a Cox model (Efron) and return its linear predictor as a function of ``x``.

    The predictor is an elementwise product summed per row, not a BLAS matrix-vector
    product: BLAS kernels may round rows of one block differently (fused multiply-add on
    some, not on the tail), so equal covariate rows could get linear predictors one ulp
    apart, which a concordance then counts as ordered instead of tied.
    """
    fit = fit_cox(time, event, x, concordance=False)
    coef = np.asarray(fit.coef, dtype=float)
    return lambda new_x: (np.asarray(new_x, dtype=float) * coef).sum(axis=1)


DEFAULT_STATISTICS: Mapping[str, Statistic] = {"Dxy": dxy, "Slope": calibration_slope}


def bootstrap_optimism(
    time: ArrayLike,
    event: ArrayLike,
    x: ArrayLike,
    *,
    b: int = 200,
    seed: int = 1,
    indices: ArrayLike | None = None,
    fitter: Fitter = cox_fitter,
    statistics: Mapping[str, Statistic] = DEFAULT_STATISTICS,
) -> OptimismResult:
    """Harrell's bootstrap optimism correction of each statistic of a refitted model.

    ``indices`` (``B × n``, 0-based rows) fixes the resamples; otherwise ``b`` resamples
    are drawn with ``numpy`` ``default_rng(seed)``. ``fitter(time, event, x)`` returns the
    fitted model's risk score as a function of covariates (default: a Cox model's linear
    predictor); each statistic takes ``(time, event, risk)``.
    """
    t = np.asarray(time, dtype=float).ravel()
    e = np.asarray(event, dtype=float).ravel()
    xm = np.asarray(x, dtype=float).reshape(t.size, -1)
    if indices is None:
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, t.size, size=(b, t.size))
    else:
        idx = np.asarray(indices, dtype=int)
        if idx.ndim != 2 or idx.shape[1] != t.size or idx.min() < 0 or idx.max() >= t.size:
            raise ValueError("indices must be a B x n matrix of row numbers 0..n-1")
    predict = fitter(t, e, xm)
    lp = predict(xm)
    apparent = {k: f(t, e, lp) for k, f in statistics.items()}
    train = {k: 0.0 for k in statistics}
    test = {k: 0.0 for k in statistics}
    for rows in idx:
        pb = fitter(t[rows], e[rows], xm[rows])
        lp_b = pb(xm[rows])
        lp_o = pb(xm)
        for k, f in statistics.items():
            train[k] += f(t[rows], e[rows], lp_b)
            test[k] += f(t, e, lp_o)
    n_b = idx.shape[0]
    training = {k: v / n_b for k, v in train.items()}
    testing = {k: v / n_b for k, v in test.items()}
    optimism = {k: training[k] - testing[k] for k in statistics}
    corrected = {k: apparent[k] - optimism[k] for k in statistics}
    return OptimismResult(apparent, training, testing, optimism, corrected, n_b)
