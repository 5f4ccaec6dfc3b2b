"""Penalised Cox regression (lasso, ridge, elastic net), as R ``glmnet(family = "cox")``.

For a penalty ``λ`` and mixing ``α`` (1 lasso, 0 ridge) the coefficients minimise

    -ℓ(β) / n + λ ((1 - α)/2 ||β||² + α ||β||₁)

with ``ℓ`` the Breslow partial log-likelihood (glmnet's, for ``(time, status)`` data:
a censored time equal to an event time stays in that risk set). With ``standardize``
(glmnet's default) the penalty applies to the columns scaled by their population standard
deviation (divisor ``n``) and the coefficients are returned on the original scale.

Algorithm (our own; the solution is the problem's unique minimum, so it matches glmnet's
coordinate descent to glmnet's convergence tolerance):

1. standardise ``x``; at the current ``β`` compute the gradient and the full Hessian of
   ``-ℓ/n`` (risk-set sums by reverse cumulative sums over the sorted times);
2. minimise the penalised quadratic model by cyclic coordinate descent with
   soft-thresholding to ``1e-13``; move to its minimiser, halving the step until the
   objective does not increase (proximal Newton);
3. stop when no coefficient moves more than ``1e-11``; along a ``λ`` sequence each fit
   starts from the previous one.

The default ``λ`` sequence is glmnet's: ``λ_max = max_j |∂ℓ/∂β_j(0)| / (n max(α, 1e-3))``
(the smallest ``λ`` with all coefficients zero), then ``nlambda`` values evenly spaced on
the log scale down to ``λ_max × lambda_min_ratio`` (``1e-4`` if ``n > p``, else ``1e-2``).

Cross-validation (:func:`cv_penalised_cox`) uses glmnet's grouped partial-likelihood
deviance (Verweij & van Houwelingen 1993): for fold ``k``, with ``β_(-k)`` fitted without
it, ``D_k = dev(all, β_(-k)) - dev(all but k, β_(-k))`` divided by the fold's events,
``dev = 2 (ℓ_sat - ℓ)`` and ``ℓ_sat = -Σ d_t log d_t`` over distinct event times. The
curve is the event-weighted mean of ``D_k``, its SE ``sqrt(weighted mean of squared
deviations / (K - 1))``; ``lambda_min`` is the largest ``λ`` at the minimum and
``lambda_1se`` the largest within one SE of it. Folds are given (``foldid``, 1..K) or drawn
with a seed (each fold the same size to one, as glmnet's ``sample(rep(1:K, length = n))``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class _CoxData:
    """Rows sorted by descending time, with the end of each tied block."""

    x: FloatArray
    event: NDArray[np.bool_]
    last: NDArray[np.intp]
    lsat: float
    n: int


def _prepare(time: FloatArray, event: FloatArray, x: FloatArray) -> _CoxData:
    order = np.argsort(-time, kind="stable")
    ts = time[order]
    last = np.searchsorted(-ts, -ts, side="right") - 1
    ev = event[order].astype(bool)
    _, counts = np.unique(ts[ev], return_counts=True)
    lsat = -float(np.sum(counts * np.log(counts)))
    return _CoxData(x[order], ev, last, lsat, int(time.size))


def _loglik(data: _CoxData, beta: FloatArray) -> float:
    eta = data.x @ beta
    shift = float(eta.max())
    s0 = np.cumsum(np.exp(eta - shift))[data.last]
    return float(np.sum(eta[data.event] - shift - np.log(s0[data.event])))


def _derivs(data: _CoxData, beta: FloatArray) -> tuple[float, FloatArray, FloatArray]:
    """Partial log-likelihood, gradient and Hessian (Breslow)."""
    eta = data.x @ beta
    shift = float(eta.max())
    w = np.exp(eta - shift)
    xe = data.x[data.event]
    idx = data.last[data.event]
    s0 = np.cumsum(w)[idx]
    s1 = np.cumsum(w[:, None] * data.x, axis=0)[idx]
    s2 = np.cumsum(w[:, None, None] * data.x[:, :, None] * data.x[:, None, :], axis=0)[idx]
    mean = s1 / s0[:, None]
    ll = float(np.sum(eta[data.event] - shift - np.log(s0)))
    grad = np.sum(xe - mean, axis=0)
    hess = -(np.sum(s2 / s0[:, None, None], axis=0) - mean.T @ mean)
    return ll, grad, hess


def _objective(data: _CoxData, b: FloatArray, lam: float, alpha: float) -> float:
    pen = lam * ((1 - alpha) / 2 * float(b @ b) + alpha * float(np.abs(b).sum()))
    return -_loglik(data, b) / data.n + pen


def _cd_quadratic(
    g: FloatArray, h: FloatArray, beta: FloatArray, lam: float, alpha: float
) -> FloatArray:
    """Minimise ``g'(b-β) + ½(b-β)'H(b-β) + pen(b)`` by cyclic coordinate descent."""
    b = beta.copy()
    hd = np.zeros_like(b)  # H (b - beta)
    diag = np.diag(h)
    l1, l2 = lam * alpha, lam * (1 - alpha)
    for _ in range(10_000):
        biggest = 0.0
        for j in range(b.size):
            if diag[j] <= 0:
                continue
            r = g[j] + hd[j] - diag[j] * (b[j] - beta[j])
            u = diag[j] * beta[j] - r
            new = math.copysign(max(abs(u) - l1, 0.0), u) / (diag[j] + l2)
            delta = new - b[j]
            if delta != 0.0:
                hd += h[:, j] * delta
                b[j] = new
                biggest = max(biggest, abs(delta))
        if biggest < 1e-13:
            break
    return b


def _fit_one(data: _CoxData, lam: float, alpha: float, start: FloatArray) -> FloatArray:
    b = start.copy()
    f = _objective(data, b, lam, alpha)
    for _ in range(500):
        _, grad, hess = _derivs(data, b)
        g, h = -grad / data.n, -hess / data.n
        target = _cd_quadratic(g, h, b, lam, alpha)
        step = target - b
        if float(np.max(np.abs(step), initial=0.0)) < 1e-11:
            return target
        t = 1.0
        while t > 1e-10:
            cand = b + t * step
            f_new = _objective(data, cand, lam, alpha)
            if f_new <= f + 1e-15 * abs(f):
                break
            t /= 2
        else:
            return b
        moved = float(np.max(np.abs(cand - b)))
        b, f = cand, f_new
        if moved < 1e-11:
            break
    return b


@dataclass(frozen=True)
class PenalisedCoxResult:
    """Coefficients (original scale) for each ``λ``: ``coef[k]`` at ``lambdas[k]``."""

    terms: tuple[str, ...]
    alpha: float
    lambdas: FloatArray
    coef: FloatArray
    dev_ratio: FloatArray
    null_deviance: float
    center: FloatArray
    scale: FloatArray

    @property
    def nonzero(self) -> NDArray[np.int_]:
        """Number of non-zero coefficients at each ``λ``."""
        return np.count_nonzero(self.coef, axis=1)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return {
            "terms": list(self.terms),
            "alpha": self.alpha,
            "lambdas": self.lambdas.tolist(),
            "coef": self.coef.tolist(),
            "dev_ratio": self.dev_ratio.tolist(),
            "null_deviance": self.null_deviance,
            "nonzero": self.nonzero.tolist(),
        }


def _arrays(
    time: ArrayLike, event: ArrayLike, x: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    t = np.asarray(time, dtype=float).ravel()
    e = np.asarray(event, dtype=float).ravel()
    xm = np.asarray(x, dtype=float)
    if xm.ndim != 2 or xm.shape[0] != t.size or t.size != e.size:
        raise ValueError("x must be a matrix with one row per (time, event)")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(xm))):
        raise ValueError("time and x must be finite (remove or impute missing values first)")
    if not np.all((e == 0) | (e == 1)):
        raise ValueError("events must be 0 or 1")
    if e.sum() == 0:
        raise ValueError("no events")
    return t, e, xm


def _standardise(xm: FloatArray, standardize: bool) -> tuple[FloatArray, FloatArray, FloatArray]:
    center = xm.mean(axis=0)
    scale = np.sqrt(((xm - center) ** 2).mean(axis=0)) if standardize else np.ones(xm.shape[1])
    if np.any(scale == 0):
        raise ValueError("a covariate is constant: drop it before a penalised fit")
    return (xm - center) / scale, center, scale


def lambda_max(
    time: ArrayLike, event: ArrayLike, x: ArrayLike, *, alpha: float = 1.0, standardize: bool = True
) -> float:
    """glmnet's first ``λ``: the smallest at which every coefficient is zero."""
    t, e, xm = _arrays(time, event, x)
    xs, _, _ = _standardise(xm, standardize)
    data = _prepare(t, e, xs)
    _, grad, _ = _derivs(data, np.zeros(xs.shape[1]))
    return float(np.max(np.abs(grad)) / data.n / max(alpha, 1e-3))


def lambda_sequence(
    time: ArrayLike,
    event: ArrayLike,
    x: ArrayLike,
    *,
    alpha: float = 1.0,
    nlambda: int = 100,
    lambda_min_ratio: float | None = None,
    standardize: bool = True,
) -> FloatArray:
    """glmnet's default ``λ`` sequence (before glmnet's early stop along the path)."""
    xm = np.asarray(x, dtype=float)
    ratio = lambda_min_ratio
    if ratio is None:
        ratio = 1e-4 if xm.shape[0] > xm.shape[1] else 1e-2
    top = lambda_max(time, event, xm, alpha=alpha, standardize=standardize)
    return top * ratio ** (np.arange(nlambda) / (nlambda - 1))


def fit_penalised_cox(
    time: ArrayLike,
    event: ArrayLike,
    x: ArrayLike,
    *,
    lambdas: ArrayLike,
    alpha: float = 1.0,
    standardize: bool = True,
    terms: tuple[str, ...] | None = None,
) -> PenalisedCoxResult:
    """Penalised Cox fit at each ``λ`` (fitted from the largest down, warm-started)."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    lam = np.asarray(lambdas, dtype=float).ravel()
    if lam.size == 0 or np.any(lam < 0) or not np.all(np.isfinite(lam)):
        raise ValueError("lambdas must be finite numbers >= 0")
    t, e, xm = _arrays(time, event, x)
    names = terms if terms is not None else tuple(f"x{j + 1}" for j in range(xm.shape[1]))
    xs, center, scale = _standardise(xm, standardize)
    data = _prepare(t, e, xs)
    null_dev = 2 * (data.lsat - _loglik(data, np.zeros(xs.shape[1])))
    coefs = np.zeros((lam.size, xs.shape[1]))
    dev_ratio = np.zeros(lam.size)
    b = np.zeros(xs.shape[1])
    for k in np.argsort(-lam, kind="stable"):
        b = _fit_one(data, float(lam[k]), alpha, b)
        coefs[k] = b / scale
        dev_ratio[k] = 1 - 2 * (data.lsat - _loglik(data, b)) / null_dev
    return PenalisedCoxResult(names, alpha, lam, coefs, dev_ratio, null_dev, center, scale)


def cox_deviance(time: ArrayLike, event: ArrayLike, x: ArrayLike, beta: ArrayLike) -> float:
    """glmnet's Cox deviance ``2 (ℓ_sat - ℓ(β))`` (Breslow), ``β`` on the scale of ``x``."""
    t, e, xm = _arrays(time, event, x)
    data = _prepare(t, e, xm)
    return 2 * (data.lsat - _loglik(data, np.asarray(beta, dtype=float)))


@dataclass(frozen=True)
class CrossValidationResult:
    """Cross-validated partial-likelihood deviance along ``lambdas``."""

    lambdas: FloatArray
    cvm: FloatArray
    cvsd: FloatArray
    lambda_min: float
    lambda_1se: float
    foldid: NDArray[np.int_]
    fit: PenalisedCoxResult

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return {
            "lambdas": self.lambdas.tolist(),
            "cvm": self.cvm.tolist(),
            "cvsd": self.cvsd.tolist(),
            "lambda_min": self.lambda_min,
            "lambda_1se": self.lambda_1se,
            "nfolds": int(self.foldid.max()),
            "fit": self.fit.to_dict(),
        }


def draw_folds(n: int, nfolds: int, seed: int) -> NDArray[np.int_]:
    """Fold ids 1..K in random order, sizes equal to one (``numpy`` ``default_rng``)."""
    if not 3 <= nfolds <= n:
        raise ValueError(f"nfolds must be between 3 and n, got {nfolds}")
    rng = np.random.default_rng(seed)
    return rng.permutation(np.arange(n) % nfolds + 1)


def cv_penalised_cox(
    time: ArrayLike,
    event: ArrayLike,
    x: ArrayLike,
    *,
    lambdas: ArrayLike | None = None,
    alpha: float = 1.0,
    foldid: ArrayLike | None = None,
    nfolds: int = 10,
    seed: int = 1,
    standardize: bool = True,
    terms: tuple[str, ...] | None = None,
) -> CrossValidationResult:
    """K-fold cross-validated ``λ`` (glmnet's grouped deviance), and the full-data fit."""
    t, e, xm = _arrays(time, event, x)
    lam = (
        lambda_sequence(t, e, xm, alpha=alpha, standardize=standardize)
        if lambdas is None
        else np.asarray(lambdas, dtype=float).ravel()
    )
    folds = (
        draw_folds(t.size, nfolds, seed)
        if foldid is None
        else np.asarray(foldid, dtype=int).ravel()
    )
    if folds.size != t.size:
        raise ValueError("foldid must have one entry per row")
    k_folds = int(folds.max())
    if k_folds < 3 or set(np.unique(folds)) != set(range(1, k_folds + 1)):
        raise ValueError("foldid must use every fold 1..K, K >= 3")
    full = fit_penalised_cox(t, e, xm, lambdas=lam, alpha=alpha, standardize=standardize,
                             terms=terms)  # fmt: skip
    raw = np.zeros((k_folds, lam.size))
    weights = np.zeros(k_folds)
    all_rows = _prepare(t, e, xm)
    for k in range(1, k_folds + 1):
        train = folds != k
        fold_fit = fit_penalised_cox(
            t[train], e[train], xm[train], lambdas=lam, alpha=alpha, standardize=standardize
        )
        train_rows = _prepare(t[train], e[train], xm[train])
        for j in range(lam.size):
            beta = fold_fit.coef[j]
            dev_all = 2 * (all_rows.lsat - _loglik(all_rows, beta))
            dev_train = 2 * (train_rows.lsat - _loglik(train_rows, beta))
            raw[k - 1, j] = dev_all - dev_train
        weights[k - 1] = e[~train].sum()
    raw /= weights[:, None]
    cvm = (weights @ raw) / weights.sum()
    cvsd = np.sqrt((weights @ (raw - cvm) ** 2) / weights.sum() / (k_folds - 1))
    best = float(cvm.min())
    lambda_min = float(lam[cvm <= best].max())
    i_min = int(np.nonzero(lam == lambda_min)[0][0])
    lambda_1se = float(lam[cvm <= cvm[i_min] + cvsd[i_min]].max())
    return CrossValidationResult(lam, cvm, cvsd, lambda_min, lambda_1se, folds, full)
