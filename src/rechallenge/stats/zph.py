"""Test of proportional hazards exactly as R ``survival`` (>= 3.0) ``cox.zph``.

Public API: :func:`cox_zph` and its result :class:`ZphResult`.

For each term the test is the score test, at the fitted ``beta`` and ``gamma = 0``, of
adding ``gamma' x g(t)`` to the model, using the full ``2p x 2p`` information matrix
(not the pre-3.0 one-step approximation from scaled Schoenfeld residuals that lifelines
implements). Steps (R ``cox.zph`` and ``zph1.c``; Grambsch & Therneau, Biometrika 1994;
Therneau & Grambsch 2000, section 6.2):

1. ``g(t)`` for every row from the transform: ``"km"`` (default) ``1 - S(t-)`` with the
   left-continuous Kaplan–Meier of all rows pooled (strata ignored); ``"identity"`` the
   time; ``"rank"`` the average rank of the time among all rows; ``"log"`` its log.
   Centre ``g`` at its mean over the events.
2. At the fitted linear predictor compute, with the fit's tie method, the score and
   information of the augmented model: ``U_2 = sum_t g(t) U_t`` and the blocks
   ``I_11 = sum_t I_t``, ``I_12 = sum_t g(t) I_t``, ``I_22 = sum_t g(t)^2 I_t``.
3. Term test (columns ``J`` of the design): ``u' A^-1 u`` with ``A`` the information
   restricted to all ``beta`` and the ``gamma_J``, and ``u = (0, U_2[J])``; df = ``|J|``.
   Global test: the same with all ``gamma``; df = number of coefficients.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from rechallenge.stats import _cox_kernel as kernel
from rechallenge.stats.cox import CoxResult

__all__ = ["ZphResult", "cox_zph"]

Transform = Literal["km", "identity", "rank", "log"]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ZphResult:
    """Per-term and global proportional-hazards tests (R ``cox.zph(fit)$table``)."""

    terms: tuple[str, ...]
    chisq: FloatArray
    df: tuple[int, ...]
    p: FloatArray
    global_chisq: float
    global_df: int
    global_p: float
    transform: str

    def to_frame(self) -> pd.DataFrame:
        """Tidy table with one row per term plus ``GLOBAL``: term, chisq, df, p."""
        return pd.DataFrame(
            {
                "term": [*self.terms, "GLOBAL"],
                "chisq": [*self.chisq.tolist(), self.global_chisq],
                "df": [*self.df, self.global_df],
                "p": [*self.p.tolist(), self.global_p],
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping ``{"transform", "terms": [...], "global": {...}}``."""
        return {
            "transform": self.transform,
            "terms": [
                {"term": t, "chisq": _num(c), "df": d, "p": _num(p)}
                for t, c, d, p in zip(self.terms, self.chisq, self.df, self.p, strict=True)
            ],
            "global": {
                "chisq": _num(self.global_chisq),
                "df": self.global_df,
                "p": _num(self.global_p),
            },
        }


def _num(value: Any) -> float | None:
    v = float(value)
    return v if math.isfinite(v) else None


def cox_zph(fit: CoxResult, transform: Transform = "km") -> ZphResult:
    """Proportional-hazards score tests for a :func:`~rechallenge.stats.cox.fit_cox` result.

    Args:
        fit: the Cox fit (its data and tie method are reused).
        transform: ``"km"`` (default, as R), ``"identity"``, ``"rank"`` or ``"log"``
            (``"log"`` needs positive times).

    Returns:
        A :class:`ZphResult`: ``chisq``, ``df``, ``p`` per model term (a categorical
        column is one term) and the global test.
    """
    if transform not in ("km", "identity", "rank", "log"):
        raise ValueError(f"transform must be 'km', 'identity', 'rank' or 'log', got {transform!r}")
    data = fit.data
    if data.start is not None:
        raise ValueError("cox_zph is not available for counting-process (start, stop] fits")
    if data.weights is not None:
        raise ValueError("cox_zph is not available for fits with case weights")
    if transform == "log" and (data.time <= 0).any():
        raise ValueError("transform='log' needs positive times")
    keep = np.isfinite(fit.coef)
    x = np.asarray(data.x[:, keep], dtype=np.float64)
    coef = fit.coef[keep]
    g = _time_transform(data.time, data.event, transform)
    g = g - g[data.event == 1].mean()
    layout = kernel.build_layout(data.time, data.event, data.strata, fit.ties == "efron")
    xs = x - x.mean(axis=0)
    eta = xs @ coef
    w = np.exp(eta - eta.mean())
    g_group = np.zeros(layout.n_groups)
    g_group[layout.group] = g
    h = g_group[layout.event_group]
    base = kernel.derivatives(layout, xs, eta, w)
    first = kernel.derivatives(layout, xs, eta, w, time_weight=h)
    second = kernel.derivatives(layout, xs, eta, w, time_weight=h * h)
    p = coef.shape[0]
    info = np.block(
        [[base.information, first.information], [first.information.T, second.information]]
    )
    u = np.concatenate([np.zeros(p), first.score])
    return _tests(fit, keep, info, u, transform)


def _tests(
    fit: CoxResult, keep: NDArray[np.bool_], info: FloatArray, u: FloatArray, transform: str
) -> ZphResult:
    """Per-term and global score statistics (step 3)."""
    p = int(keep.sum())
    new_index = np.cumsum(keep) - 1
    terms: list[str] = []
    chisq: list[float] = []
    df: list[int] = []
    for term, cols in fit.assign.items():
        used = [int(new_index[c]) for c in cols if keep[c]]
        if not used:
            continue
        idx = np.concatenate([np.arange(p), p + np.array(used)])
        chisq.append(float(u[idx] @ np.linalg.solve(info[np.ix_(idx, idx)], u[idx])))
        terms.append(term)
        df.append(len(used))
    chi = np.array(chisq)
    global_chisq = float(u @ np.linalg.solve(info, u))
    return ZphResult(
        terms=tuple(terms),
        chisq=chi,
        df=tuple(df),
        p=stats.chi2.sf(chi, np.array(df)),
        global_chisq=global_chisq,
        global_df=p,
        global_p=float(stats.chi2.sf(global_chisq, p)),
        transform=transform,
    )


def _time_transform(time: FloatArray, event: NDArray[np.int8], transform: str) -> FloatArray:
    """``g(t)`` for every row (step 1)."""
    if transform == "identity":
        return time.astype(np.float64)
    if transform == "log":
        return np.log(time)
    if transform == "rank":
        return stats.rankdata(time).astype(np.float64)
    return 1.0 - _km_left(time, event)


def _km_left(time: FloatArray, event: NDArray[np.int8]) -> FloatArray:
    """Pooled Kaplan–Meier just before each row's time, ``S(t-)``."""
    uniq, inverse = np.unique(time, return_inverse=True)
    at_time = np.bincount(inverse, minlength=uniq.shape[0]).astype(np.float64)
    deaths = np.bincount(inverse, weights=event.astype(np.float64), minlength=uniq.shape[0])
    at_risk = np.cumsum(at_time[::-1])[::-1]
    surv = np.cumprod(1.0 - deaths / at_risk)
    before = np.concatenate(([1.0], surv[:-1]))
    return before[inverse]
