"""Residuals of a Cox fit, reproducing R ``residuals.coxph`` (survival 3.5).

Public API: :func:`cox_residuals` with ``type`` one of ``"martingale"``, ``"deviance"``,
``"score"``, ``"schoenfeld"``, ``"dfbeta"`` (R's defaults: unweighted, not collapsed).

All come from one pass of cumulative sums over the event times
(:func:`rechallenge.stats._cox_kernel.residual_parts`), for every tie method, strata,
case weights and ``(start, stop]`` data:

- martingale ``M_i = delta_i - e_i sum_g sum_r v_g (1 - f_r [i dies in g]) / S0_r``;
- deviance ``sign(M_i) sqrt(-2 (M_i + delta_i log(delta_i - M_i)))``;
- score ``delta_i (x_i - mean_r m_r) - e_i sum_g sum_r v_g (...) (x_i - m_r) / S0_r``;
- Schoenfeld, for each event row: ``x_i - mean_r m_r`` of its time (rows in input order,
  where R sorts them by stratum and time);
- dfbeta: case weight times score residuals times the inverse information (R's
  ``weighted = TRUE`` default for this type; ``naive.var`` when the variance is robust).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

from rechallenge.stats import _cox_kernel as kernel
from rechallenge.stats.cox import TOLER_CHOL_DEFAULT, CoxResult, _scaled_design

__all__ = ["ResidualType", "cox_residuals"]

ResidualType = Literal["martingale", "deviance", "score", "schoenfeld", "dfbeta"]
FloatArray = NDArray[np.float64]


def cox_residuals(fit: CoxResult, type: ResidualType = "martingale") -> FloatArray:
    """Residuals of ``fit`` as R ``residuals(fit, type = type)``.

    Returns a vector (martingale, deviance) or a matrix with one column per term
    (score, dfbeta: one row per input row; Schoenfeld: one row per event, input order).

    Raises:
        ValueError: unknown ``type``, or a fit with redundant (NA) coefficients.
    """
    if type not in ("martingale", "deviance", "score", "schoenfeld", "dfbeta"):
        raise ValueError(f"unknown residual type {type!r}")
    if not np.isfinite(fit.coef).all():
        raise ValueError("residuals need every coefficient estimated (none NA)")
    data = fit.data
    layout = kernel.build_layout(
        data.time,
        data.event,
        data.strata,
        fit.ties == "efron",
        start=data.start,
        weights=data.weights,
    )
    xs, _, scale = _scaled_design(data.x)
    score, martingale, own_mean = kernel.residual_parts(layout, xs, fit.coef / scale)
    if type == "martingale":
        return martingale
    if type == "deviance":
        delta = data.event.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            inner = np.where(delta > 0, delta * np.log(delta - martingale), 0.0)
        return np.sign(martingale) * np.sqrt(-2.0 * (martingale + inner))
    score = score / scale
    if type == "score":
        return score
    if type == "schoenfeld":
        dead = data.event.astype(bool)
        return np.asarray((xs[dead] - own_mean[dead]) / scale)
    info = kernel.evaluate(layout, xs, fit.coef / scale).information
    chol = kernel.cholesky2(info, TOLER_CHOL_DEFAULT)
    naive = kernel.chinv(info, chol) * np.outer(scale, scale)
    if data.weights is not None:
        # R's residuals.coxph weights dfbeta by default (weighted = TRUE for that type)
        score = score * data.weights[:, None]
    return np.asarray(score @ naive)
