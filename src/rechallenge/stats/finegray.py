"""Fine–Gray regression of the subdistribution hazard, reproducing R ``cmprsk::crr`` (2.2).

Public API:

- :func:`fit_fine_gray` — estimate, robust variance, log pseudo-likelihood.
- :class:`FineGrayResult` — immutable result with ``to_dict()`` (the CLI's JSON keys).

Model (Fine & Gray 1999): the subdistribution hazard of cause ``k`` is
``lambda_0(t) exp(x' beta)``. Subjects who failed from another cause stay in the risk
set after their failure with weight ``G(t-) / G(T_j-)``, ``G`` the Kaplan–Meier
estimate of the censoring distribution (one censoring group, crr's default).

Algorithm of :func:`fit_fine_gray` (cmprsk ``crr`` and the Fortran ``crrfsv``,
``crrvv``):

1. Sort by time; ``G(t-)`` is the censoring Kaplan–Meier just before ``t``.
2. At each distinct time ``t`` of a cause-``k`` failure the risk-set sums are
   ``S_r(t) = sum_{T_j >= t} e_j x_j^r + G(t-) sum_{T_j < t, other cause} e_j x_j^r / G(T_j-)``
   (``e = exp(x' beta)``, ``r = 0, 1, 2``): two cumulative sums, no loop over times.
   Log pseudo-likelihood ``sum_fail x' beta - sum_t d_t log S_0(t)`` (Breslow ties),
   score and information as for a Cox model with these sums.
3. Newton–Raphson from 0 with crr's backtracking line search (halve the step while the
   objective does not drop by ``1e-4`` of the predicted change), run to the maximum:
   until ``max |U| max(|beta|, 1) < max(|l|, 1) gtol`` with ``gtol = 1e-14`` (crr's
   default 1e-6 stops up to ~1e-5 away from the maximum). Near the maximum the predicted
   gain ``U' I^-1 U`` falls below the rounding of ``l`` and a line search (crr's, even
   with a tight ``gtol``) stalls; there plain Newton steps drive the score to rounding
   level; a Newton step below ``1e-10`` relative ends the fit.
4. Robust variance ``I^-1 (sum_i (eta_i + psi_i)(eta_i + psi_i)') I^-1`` (Fine & Gray
   1999, §3): ``eta_i`` is subject ``i``'s score residual, ``psi_i`` the term for the
   estimated censoring weights, ``int q(u) / Y(u) dM^c_i(u)`` with
   ``q(u) = sum_{t >= u} (R_1(u) - xbar(t) R_0(u)) G(t-) / S_0(t)`` over failure rows,
   ``R_r(u) = sum_{T_j < u, other cause} e_j x_j^r / G(T_j-)``. Every sum is cumulative.

References: Fine & Gray (1999) JASA 94:496–509; R package ``cmprsk`` 2.2 (Gray).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from rechallenge.stats.cox import build_design

__all__ = ["FineGrayConvergenceWarning", "FineGrayResult", "fit_fine_gray"]

FloatArray = NDArray[np.float64]
GTOL_DEFAULT = 1e-14
MAXITER_DEFAULT = 100


class FineGrayConvergenceWarning(UserWarning):
    """Newton–Raphson stopped before the pseudo-likelihood's maximum was reached."""


def _num(value: float) -> float | None:
    v = float(value)
    return v if math.isfinite(v) else None


@dataclass(frozen=True)
class FineGrayResult:
    """Result of :func:`fit_fine_gray`.

    Attributes:
        cause: the cause modelled.
        terms: design-matrix column names.
        coef, se: estimates and robust standard errors (crr's ``var``).
        var: robust variance; ``naive_var``: inverse information (crr's ``invinf``).
        loglik, loglik_null: log pseudo-likelihood at the estimate and at 0.
        n: rows used; ``iterations``: Newton steps; ``converged``.
    """

    cause: Any
    terms: tuple[str, ...]
    coef: FloatArray
    se: FloatArray
    var: FloatArray
    naive_var: FloatArray
    loglik: float
    loglik_null: float
    n: int
    iterations: int
    converged: bool
    conf_level: float = 0.95

    @property
    def z(self) -> FloatArray:
        """Wald statistics ``coef / se``."""
        return self.coef / self.se

    @property
    def p(self) -> FloatArray:
        """Two-sided Wald p-values (crr's ``summary``)."""
        return 2.0 * stats.norm.sf(np.abs(self.z))

    @property
    def hr(self) -> FloatArray:
        """Subdistribution hazard ratios ``exp(coef)``."""
        return np.exp(self.coef)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping ``{cause, n, coefficients, loglik, iterations}``."""
        rows = [
            {
                "term": term,
                "coef": _num(self.coef[j]),
                "se": _num(self.se[j]),
                "z": _num(self.z[j]),
                "p": _num(self.p[j]),
                "hr": _num(self.hr[j]),
            }
            for j, term in enumerate(self.terms)
        ]
        cause = self.cause.item() if isinstance(self.cause, np.generic) else self.cause
        return {
            "cause": cause,
            "n": self.n,
            "coefficients": rows,
            "loglik": _num(self.loglik),
            "iterations": self.iterations,
        }


@dataclass(frozen=True)
class _Sorted:
    """Rows sorted by time with the quantities that do not depend on beta."""

    time: FloatArray
    fail: NDArray[np.bool_]  # cause of interest
    other: NDArray[np.bool_]  # another cause
    x: FloatArray
    g_minus: FloatArray  # censoring KM just before each row's time
    first: NDArray[np.intp]  # first sorted row of each row's time
    last: NDArray[np.intp]  # one past the last row of each row's time


def _prepare(time: FloatArray, status: NDArray[Any], cause: Any, x: FloatArray) -> _Sorted:
    """Step 1: sort, code the status, censoring Kaplan–Meier ``G(t-)``."""
    order = np.argsort(time, kind="stable")
    t = time[order]
    s = status[order]
    censored = s == 0
    fail = s == cause
    other = ~censored & ~fail
    n = t.shape[0]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(t[1:], t[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    group = np.cumsum(new) - 1
    ends = np.append(starts[1:], n)
    at_risk = n - starts  # rows with time >= each distinct time
    cens_count = np.add.reduceat(censored.astype(np.float64), starts)
    surv_after = np.cumprod(1.0 - cens_count / at_risk)
    g_before = np.concatenate(([1.0], surv_after[:-1]))
    return _Sorted(
        time=t,
        fail=fail,
        other=other,
        x=np.ascontiguousarray(x[order]),
        g_minus=g_before[group],
        first=starts[group],
        last=ends[group],
    )


@dataclass(frozen=True)
class _Sums:
    """Risk-set sums at every failure row (step 2), indexed by sorted row."""

    s0: FloatArray
    s1: FloatArray
    e: FloatArray


def _risk_sums(d: _Sorted, beta: FloatArray, second: bool) -> tuple[_Sums, FloatArray | None]:
    """``S_0``, ``S_1`` (and ``S_2``) at each row's time, as two cumulative sums."""
    e = np.exp(d.x @ beta)
    ex = e[:, None] * d.x
    # sums over rows at or after position i (reverse cumsum), read at each row's first row
    tail0 = np.cumsum(e[::-1])[::-1]
    tail1 = np.cumsum(ex[::-1], axis=0)[::-1]
    # other-cause rows strictly before the row's time, divided by their G(T_j-)
    wo = np.where(d.other, e / d.g_minus, 0.0)
    head0 = np.concatenate(([0.0], np.cumsum(wo)))
    head1 = np.vstack((np.zeros((1, d.x.shape[1])), np.cumsum(wo[:, None] * d.x, axis=0)))
    s0 = tail0[d.first] + d.g_minus * head0[d.first]
    s1 = tail1[d.first] + d.g_minus[:, None] * head1[d.first]
    s2 = None
    if second:
        xx = d.x[:, :, None] * d.x[:, None, :]
        tail2 = np.cumsum((e[:, None, None] * xx)[::-1], axis=0)[::-1]
        head2 = np.concatenate(
            (np.zeros((1, *xx.shape[1:])), np.cumsum(wo[:, None, None] * xx, axis=0))
        )
        s2 = tail2[d.first] + d.g_minus[:, None, None] * head2[d.first]
    return _Sums(s0=s0, s1=s1, e=e), s2


def _objective(d: _Sorted, beta: FloatArray) -> float:
    """Log pseudo-likelihood (step 2)."""
    sums, _ = _risk_sums(d, beta, second=False)
    f = d.fail
    return float(np.sum(d.x[f] @ beta) - np.sum(np.log(sums.s0[f])))


def _derivatives(d: _Sorted, beta: FloatArray) -> tuple[float, FloatArray, FloatArray]:
    """Log pseudo-likelihood, score and information at ``beta``."""
    sums, s2 = _risk_sums(d, beta, second=True)
    assert s2 is not None
    f = d.fail
    s0 = sums.s0[f]
    xbar = sums.s1[f] / s0[:, None]
    loglik = float(np.sum(d.x[f] @ beta) - np.sum(np.log(s0)))
    score = np.sum(d.x[f] - xbar, axis=0)
    info = np.sum(s2[f] / s0[:, None, None] - xbar[:, :, None] * xbar[:, None, :], axis=0)
    return loglik, score, info


def _newton(d: _Sorted, p: int, gtol: float, maxiter: int) -> tuple[FloatArray, int, bool]:
    """Step 3: Newton–Raphson with crr's backtracking, to the maximum."""
    beta = np.zeros(p)
    for it in range(maxiter + 1):
        loglik, score, info = _derivatives(d, beta)
        # crr minimises -loglik; same test on the same quantities
        if np.max(np.abs(score) * np.maximum(np.abs(beta), 1.0)) < max(abs(loglik), 1.0) * gtol:
            return beta, it, True
        if it == maxiter:
            return beta, it, False
        step = np.linalg.solve(info, score)
        if float(step @ score) <= 1e-12 * max(abs(loglik), 1.0):
            # the predicted gain is below the objective's rounding, so a line search cannot
            # judge the step: in this quadratic region take Newton steps on the score alone
            beta = beta + step
            if np.max(np.abs(step)) <= 1e-10 * max(float(np.max(np.abs(beta))), 1.0):
                return beta, it + 1, True
            continue
        new = beta + step
        target = -loglik - 1e-4 * float(step @ score)
        halvings = 0
        value = _objective(d, new)
        while not math.isfinite(value) or -value > target:
            halvings += 1
            if halvings > 20:
                return beta, it, False
            step = step * 0.5
            new = beta + step
            target = -loglik - 1e-4 * float(step @ score)
            value = _objective(d, new)
        if np.array_equal(new, beta):
            return beta, it, True
        beta = new
    return beta, maxiter, False


def _robust_meat(d: _Sorted, beta: FloatArray) -> FloatArray:
    """``sum_i (eta_i + psi_i)(eta_i + psi_i)'`` (step 4), from cumulative sums."""
    sums, _ = _risk_sums(d, beta, second=False)
    n, p = d.x.shape
    f = d.fail
    e = sums.e
    inv_s0 = np.where(f, 1.0 / sums.s0, 0.0)
    xbar = np.where(f[:, None], sums.s1 / sums.s0[:, None], 0.0)
    # eta_i, part 1: failures j with T_j <= T_i (i at risk with weight e_i)
    a0 = np.cumsum(inv_s0)
    a1 = np.cumsum(xbar * inv_s0[:, None], axis=0)
    upto = d.last - 1
    eta = -e[:, None] * (d.x * a0[upto][:, None] - a1[upto])
    # part 2: other-cause rows i and failures j with T_j > T_i, weight e_i G(T_j-)/G(T_i-)
    gs = d.g_minus * inv_s0
    b0 = np.concatenate((np.cumsum(gs[::-1])[::-1], [0.0]))
    b1 = np.vstack((np.cumsum((xbar * gs[:, None])[::-1], axis=0)[::-1], np.zeros((1, p))))
    later = d.last
    w_other = np.where(d.other, e / d.g_minus, 0.0)
    eta -= w_other[:, None] * (d.x * b0[later][:, None] - b1[later])
    eta[f] += d.x[f] - xbar[f]
    # psi_i: q(u) at censoring times u, R_r(u) over other-cause rows strictly before u
    wo = np.where(d.other, e / d.g_minus, 0.0)
    r0 = np.concatenate(([0.0], np.cumsum(wo)))[d.first]
    r1 = np.vstack((np.zeros((1, p)), np.cumsum(wo[:, None] * d.x, axis=0)))[d.first]
    q = r1 * b0[d.first][:, None] - r0[:, None] * b1[d.first]
    censored = ~f & ~d.other
    y = (n - d.first).astype(np.float64)
    # each censored row at u adds -q(u) / Y(u)^2 to everyone with T >= ... as cmprsk: the
    # running sum includes all censorings at times <= T_i
    dec = np.where(censored[:, None], q / (y * y)[:, None], 0.0)
    cum_dec = np.cumsum(dec, axis=0)[d.last - 1]
    psi = -cum_dec + np.where(censored[:, None], q / y[:, None], 0.0)
    total = eta + psi
    return np.asarray(total.T @ total)


def fit_fine_gray(
    time: ArrayLike,
    status: ArrayLike,
    X: pd.DataFrame | ArrayLike,
    *,
    cause: Any = 1,
    reference: dict[str, Any] | None = None,
    gtol: float = GTOL_DEFAULT,
    maxiter: int = MAXITER_DEFAULT,
) -> FineGrayResult:
    """Fine–Gray regression for ``cause`` as R ``crr(ftime, fstatus, cov1, failcode = cause)``.

    Args:
        time: follow-up times (``>= 0``).
        status: 0 = censored, other values = causes.
        X: covariates (DataFrame: categorical columns as treatment contrasts, as
            :func:`~rechallenge.stats.cox.fit_cox`; or a 2-D numeric array).
        cause: the cause modelled (crr's ``failcode``).
        reference: reference level per categorical column.
        gtol, maxiter: convergence criterion (see the module docstring, step 3).

    Raises:
        ValueError: invalid input, or no failure from ``cause``.
    """
    t = np.asarray(time, dtype=np.float64)
    s = np.asarray(status)
    if t.ndim != 1 or t.shape[0] == 0 or s.shape != t.shape:
        raise ValueError("time and status must be 1-D arrays of the same non-zero length")
    bad = ~np.isfinite(t) | (t < 0)
    if bad.any():
        raise ValueError(
            f"time has {int(bad.sum())} missing, infinite or negative value(s), first at row "
            f"{int(np.flatnonzero(bad)[0])}"
        )
    if not np.any(s == cause):
        raise ValueError(f"no failure from cause {cause!r}")
    design = build_design(X, reference, t.shape[0])
    d = _prepare(t, s, cause, design.x)
    p = design.x.shape[1]
    beta, iterations, converged = _newton(d, p, gtol, maxiter)
    if not converged:
        warnings.warn(
            "Fine-Gray fit did not reach the maximum of the pseudo-likelihood",
            FineGrayConvergenceWarning,
            stacklevel=2,
        )
    loglik, _, info = _derivatives(d, beta)
    naive = np.asarray(np.linalg.inv(info), dtype=np.float64)
    meat = _robust_meat(d, beta)
    var = naive @ meat @ naive.T
    var = 0.5 * (var + var.T)
    return FineGrayResult(
        cause=cause,
        terms=design.names,
        coef=beta,
        se=np.sqrt(np.diag(var)),
        var=var,
        naive_var=naive,
        loglik=loglik,
        loglik_null=_objective(d, np.zeros(p)),
        n=int(t.shape[0]),
        iterations=iterations,
        converged=converged,
    )
