"""Exponential and Weibull regression for right-censored data, as R ``survreg``.

The model is accelerated failure time on the log scale, ``log T = x'β + σ W`` with ``W``
standard extreme-value (``σ = 1``: exponential). Survival is
``S(t | x) = exp(-(t / exp(x'β))^(1/σ))``: Weibull shape ``1/σ`` and scale ``exp(x'β)``;
proportional hazards with log hazard ratio ``-β/σ`` per coefficient.

Fit (as ``survreg``):

1. parameters ``θ = (β, log σ)`` (``β`` only for the exponential); start at the
   exponential intercept ``log(Σt / Σδ)`` with other coefficients 0 and ``σ = 1``;
2. Newton–Raphson on the exact log-likelihood of ``T`` (Jacobian ``-Σδ log t`` included,
   so the value equals ``survreg``'s ``loglik``), halving a step that lowers it;
3. stop when the relative change of the log-likelihood is below ``1e-9`` (survreg's
   ``rel.tolerance``); ``var`` is the inverse of the observed information on the
   ``(β, log σ)`` scale, as ``vcov(survreg(...))``.

Times must be positive (``log t``); events 0/1. Checked against R survreg on fixtures
(``tests/reference/prognosis.R``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Distribution = Literal["exponential", "weibull"]
DISTRIBUTIONS: tuple[Distribution, ...] = ("exponential", "weibull")
FloatArray = NDArray[np.float64]


class ParametricConvergenceError(RuntimeError):
    """Newton–Raphson did not converge."""


@dataclass(frozen=True)
class ParametricFit:
    """A fitted exponential or Weibull model (survreg's parametrisation)."""

    distribution: Distribution
    terms: tuple[str, ...]
    coef: FloatArray
    scale: float
    var: FloatArray
    loglik: float
    n: int
    events: int
    iterations: int
    loglik_null: float | None = field(default=None)

    @property
    def shape(self) -> float:
        """Weibull shape ``1 / σ`` (1 for the exponential)."""
        return 1.0 / self.scale

    @property
    def se(self) -> FloatArray:
        """Standard errors of ``coef`` (and of ``log σ`` last, for the Weibull)."""
        return np.sqrt(np.diag(self.var))

    def linear_predictor(self, x: ArrayLike | None = None) -> FloatArray:
        """``x'β`` for covariate rows ``x`` (without the intercept column); intercept only
        when ``x`` is ``None``."""
        if x is None:
            return np.array([self.coef[0]])
        xm = np.atleast_2d(np.asarray(x, dtype=float))
        return self.coef[0] + xm @ self.coef[1:]

    def survival(self, t: ArrayLike, x: ArrayLike | None = None) -> FloatArray:
        """``S(t | x)``; ``t`` broadcast against the rows of ``x``."""
        tt = np.asarray(t, dtype=float)
        scale_t = np.exp(self.linear_predictor(x))
        return np.exp(-((tt / scale_t) ** self.shape))

    def median(self, x: ArrayLike | None = None) -> FloatArray:
        """Median survival ``exp(x'β) (log 2)^σ``."""
        return np.exp(self.linear_predictor(x)) * math.log(2.0) ** self.scale

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return {
            "distribution": self.distribution,
            "terms": list(self.terms),
            "coef": self.coef.tolist(),
            "se": self.se.tolist(),
            "scale": self.scale,
            "shape": self.shape,
            "loglik": self.loglik,
            "n": self.n,
            "events": self.events,
            "iterations": self.iterations,
            "median": float(self.median()[0]) if len(self.terms) == 1 else None,
        }


def _loglik_derivs(
    theta: FloatArray, x: FloatArray, logt: FloatArray, d: FloatArray, weibull: bool
) -> tuple[float, FloatArray, FloatArray]:
    """Log-likelihood, gradient and Hessian in ``θ = (β, log σ)``."""
    p = x.shape[1]
    beta = theta[:p]
    tau = theta[p] if weibull else 0.0
    sigma = math.exp(tau)
    z = (logt - x @ beta) / sigma
    ez = np.exp(z)
    ll = float(np.sum(d * (z - tau - logt)) - np.sum(ez))
    r = d - ez  # dℓ/dz
    grad_b = -(x.T @ r) / sigma
    hess_bb = -(x.T * ez) @ x / sigma**2
    if not weibull:
        return ll, grad_b, hess_bb
    grad_t = float(np.sum(-d - z * r))
    hess_bt = (x.T @ (r - ez * z)) / sigma
    hess_tt = float(np.sum(z * r - z * z * ez))
    grad = np.append(grad_b, grad_t)
    hess = np.zeros((p + 1, p + 1))
    hess[:p, :p] = hess_bb
    hess[:p, p] = hess[p, :p] = hess_bt
    hess[p, p] = hess_tt
    return ll, grad, hess


def _ascent_step(grad: FloatArray, hess: FloatArray) -> FloatArray:
    """Newton step, or a Levenberg-damped one where ``-H`` is not positive definite."""
    info = -hess
    mu = 0.0
    scale = float(np.max(np.abs(np.diag(info)))) or 1.0
    for _ in range(60):
        try:
            chol = np.linalg.cholesky(info + mu * np.eye(info.shape[0]))
        except np.linalg.LinAlgError:
            mu = max(2.0 * mu, 1e-8 * scale)
            continue
        return np.linalg.solve(chol.T, np.linalg.solve(chol, grad))
    return grad / scale  # pragma: no cover - gradient ascent as a last resort


def _newton(
    theta: FloatArray,
    x: FloatArray,
    logt: FloatArray,
    d: FloatArray,
    weibull: bool,
    max_iter: int,
    tol: float,
) -> tuple[FloatArray, float, FloatArray, int]:
    """Maximise the log-likelihood from ``theta``; ``(θ, ℓ, H, iterations)``."""
    ll, grad, hess = _loglik_derivs(theta, x, logt, d, weibull)
    for it in range(1, max_iter + 1):
        step = _ascent_step(grad, hess)
        for _ in range(40):
            cand = theta + step
            ll_new, g_new, h_new = _loglik_derivs(cand, x, logt, d, weibull)
            if math.isfinite(ll_new) and ll_new >= ll - 1e-12 * abs(ll):
                break
            step /= 2.0
        else:  # at the optimum to rounding: no step raises the likelihood
            return theta, ll, hess, it
        done = abs(ll_new - ll) <= tol * abs(ll_new)
        theta, ll, grad, hess = cand, ll_new, g_new, h_new
        if done and float(np.max(np.abs(grad))) < 1e-4:
            return theta, ll, hess, it
    raise ParametricConvergenceError(f"no convergence in {max_iter} iterations")


def fit_parametric(
    time: ArrayLike,
    event: ArrayLike,
    x: ArrayLike | None = None,
    *,
    distribution: Distribution = "weibull",
    terms: tuple[str, ...] | None = None,
    max_iter: int = 100,
    tol: float = 1e-9,
) -> ParametricFit:
    """Fit ``survreg(Surv(time, event) ~ x, dist = distribution)``.

    Args:
        time: positive follow-up times.
        event: 1 = event, 0 = right-censored.
        x: covariates, one row per subject, without an intercept column (numeric; code
            factors as indicators first); ``None`` for the intercept-only curve.
        distribution: ``"weibull"`` or ``"exponential"``.
        terms: names of the ``x`` columns (default ``x1, x2, …``).
    """
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"distribution must be one of {DISTRIBUTIONS}, got {distribution!r}")
    t = np.asarray(time, dtype=float).ravel()
    d = np.asarray(event, dtype=float).ravel()
    if t.size == 0 or t.shape != d.shape:
        raise ValueError("time and event must be non-empty and of the same length")
    if not np.all(np.isfinite(t)) or np.any(t <= 0):
        raise ValueError("times must be finite and > 0 for a parametric fit")
    if not np.all((d == 0) | (d == 1)):
        raise ValueError("events must be 0 or 1")
    if d.sum() == 0:
        raise ValueError("no events: the parametric curve cannot be estimated")
    cov = np.empty((t.size, 0)) if x is None else np.asarray(x, dtype=float).reshape(t.size, -1)
    design = np.column_stack([np.ones(t.size), cov])
    names = terms if terms is not None else tuple(f"x{i + 1}" for i in range(cov.shape[1]))
    if len(names) != cov.shape[1]:
        raise ValueError("terms must name every column of x")
    logt = np.log(t)
    start = np.zeros(design.shape[1])
    start[0] = math.log(t.sum() / d.sum())
    theta, ll, hess, it = _newton(start, design, logt, d, False, max_iter, tol)
    weibull = distribution == "weibull"
    if weibull:  # from the exponential fit, concave in beta, with log(sigma) = 0
        theta, ll, hess, it2 = _newton(np.append(theta, 0.0), design, logt, d, True, max_iter, tol)
        it += it2
    var = np.asarray(np.linalg.inv(-hess), dtype=np.float64)
    p = design.shape[1]
    return ParametricFit(
        distribution=distribution,
        terms=("(Intercept)", *names),
        coef=theta[:p].copy(),
        scale=math.exp(theta[p]) if weibull else 1.0,
        var=var,
        loglik=ll,
        n=int(t.size),
        events=int(d.sum()),
        iterations=it,
    )
