"""Predicted survival curves of a Cox fit for covariate profiles, as R ``survfit.coxph``.

Public API: :func:`cox_survfit` → :class:`CoxSurvCurves`.

For a profile ``x0`` with relative risk ``r = exp((x0 - xbar)' beta)`` (``xbar`` the
covariate means, R's centring), at each distinct time of the data (R's default
``ctype``/``stype`` for the fit's tie method):

1. Baseline hazard increments at the event times: ``sum_r v / S0_r`` (the Efron terms
   ``S0_r = S0 - f_r D0``; Breslow: ``d / S0``), and their variance terms
   ``sum_r v / S0_r^2``; ``H0`` and ``V0`` are their running sums.
2. ``H(t | x0) = r H0(t)``; ``S = exp(-H)``.
3. ``Var H = r^2 (V0(t) + g(t)' V g(t))`` with ``g(t) = sum (xbar_r - x0)`` hazard terms
   (the Tsiatis variance; ``V`` the coefficients' variance); ``std_err = sqrt(Var H)``
   (R's ``std.err``, of the cumulative hazard) and the log band
   ``S exp(-/+ z std_err)`` capped at 1.

Not yet for strata or ``(start, stop]`` fits (they raise ``ValueError``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from rechallenge.stats import _cox_kernel as kernel
from rechallenge.stats.cox import CoxResult, _scaled_design

__all__ = ["CoxSurvCurves", "cox_survfit"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class CoxSurvCurves:
    """Curves for ``k`` profiles: arrays of shape ``(m,)`` (times, counts) or ``(m, k)``."""

    time: FloatArray
    n_risk: NDArray[np.int64]
    n_event: NDArray[np.int64]
    surv: FloatArray
    std_err: FloatArray
    cumhaz: FloatArray
    lower: FloatArray
    upper: FloatArray
    conf_level: float


def cox_survfit(fit: CoxResult, profiles: ArrayLike, conf_level: float = 0.95) -> CoxSurvCurves:
    """Survival curves of ``fit`` for each row of ``profiles`` (design-matrix columns)."""
    data = fit.data
    if data.strata is not None or data.start is not None or data.weights is not None:
        raise ValueError("cox_survfit does not yet handle strata, (start, stop] or weights")
    x0 = np.atleast_2d(np.asarray(profiles, dtype=np.float64))
    if x0.shape[1] != data.x.shape[1]:
        raise ValueError(f"profiles need {data.x.shape[1]} columns, got {x0.shape[1]}")
    layout = kernel.build_layout(data.time, data.event, None, fit.ties == "efron")
    xs, means_s, scale = _scaled_design(data.x)
    beta_s = fit.coef / scale
    w = np.exp(xs @ beta_s)
    sums = kernel._risk_sums(layout, xs, w)
    deaths = layout.deaths
    frac = np.zeros(int(deaths.sum())) if layout.pair_frac is None else layout.pair_frac
    grp = np.repeat(np.arange(deaths.shape[0]), deaths)
    s0_r = sums.s0[grp] - frac * sums.d0[grp]
    m_r = (sums.s1[grp] - frac[:, None] * sums.d1[grp]) / s0_r[:, None]
    starts = layout.pair_start
    haz = np.add.reduceat(1.0 / s0_r, starts)
    var0 = np.add.reduceat(1.0 / (s0_r * s0_r), starts)
    # xbar terms on the original scale, relative to the centring means
    xbar_haz = np.add.reduceat(m_r / s0_r[:, None], starts, axis=0) / scale
    # all distinct times; event-time sums spread by cumulative sums
    ut, inv = np.unique(data.time, return_inverse=True)
    n_at = np.bincount(inv)
    n_risk = n_at[::-1].cumsum()[::-1]
    n_event = np.bincount(inv, weights=data.event.astype(np.float64)).astype(np.int64)
    ev_pos = np.flatnonzero(n_event > 0)
    h0 = np.zeros(ut.shape[0])
    v0 = np.zeros(ut.shape[0])
    xh = np.zeros((ut.shape[0], x0.shape[1]))
    h0[ev_pos], v0[ev_pos], xh[ev_pos] = haz, var0, xbar_haz
    h0, v0, xh = np.cumsum(h0), np.cumsum(v0), np.cumsum(xh, axis=0)
    centre = means_s + np.zeros(x0.shape[1])
    centred0 = x0 - centre
    risk = np.exp(centred0 @ fit.coef)
    cumhaz = h0[:, None] * risk[None, :]
    g = xh[:, None, :] - h0[:, None, None] * centred0[None, :, :]
    quad = np.einsum("tkp,pq,tkq->tk", g, np.asarray(fit.var), g)
    std_err = np.sqrt(risk[None, :] ** 2 * (v0[:, None] + quad))
    surv = np.exp(-cumhaz)
    z = float(stats.norm.ppf(0.5 + conf_level / 2.0))
    lower = surv * np.exp(-z * std_err)
    upper = np.minimum(surv * np.exp(z * std_err), 1.0)
    return CoxSurvCurves(
        time=ut,
        n_risk=n_risk.astype(np.int64),
        n_event=n_event,
        surv=surv,
        std_err=std_err,
        cumhaz=cumhaz,
        lower=lower,
        upper=upper,
        conf_level=conf_level,
    )
