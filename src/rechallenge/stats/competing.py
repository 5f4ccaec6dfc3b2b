"""Competing risks reproducing R ``cmprsk`` 2.2: cumulative incidence and Gray's test.

Public API:

- :func:`cumulative_incidence` — Aalen–Johansen cumulative incidence function (CIF) of
  every cause in every group, with cmprsk's variance (``cuminc``), values at chosen
  times (``timepoints``) and, with several groups, Gray's test per cause.
- :class:`CIFResult`, :class:`CIFCurve`, :class:`GrayTest` — parts of the result.

Status coding as cmprsk: ``0`` = censored (``cencode``), any other value = a cause.

Algorithm of the CIF of cause ``k`` in one group (Kalbfleisch & Prentice 1980; the
variance is the delta-method estimate of Aalen 1978 as programmed in cmprsk's
``cinc``; Gray 1988):

1. At each distinct time with an event of any cause: ``n`` at risk, ``d1`` events of
   cause ``k``, ``d2`` of other causes, ``S-`` the all-cause Kaplan–Meier just before.
2. ``F`` jumps by ``S- d1 / n``; ``S`` becomes ``S- (n - d1 - d2) / n``.
3. Three running sums (``v1, v2, v3``) gather, for the ``d2`` and the ``d1`` events of
   each time, ``t6 = S-^2 t5 d / n^2`` (``t5 = 1 - (d - 1) / (n - 1)``, the correction
   for tied events) times ``t4^2``, ``t3 t4`` and ``t3^2``, where ``t3 = 1 / S`` and
   ``t4 = F / S`` for other causes and ``t4 = 1 + F / S`` for cause ``k``;
   ``Var F = v1 + F^2 v3 - 2 F v2`` at the jumps of ``F``.

Gray's test (Gray 1988, cmprsk's ``crstm``/``crst``) compares the CIF of one cause among
groups with the weight ``(1 - F-)^rho``: per stratum, scores ``s`` of the first ``g - 1``
groups and their variance (a sum over event times of the terms of the paper's
equation (2.3)), summed over strata; statistic ``s' V^-1 s`` on ``g - 1`` degrees of
freedom. Every per-time quantity is a cumulative sum or product over event times, so
the implementation has no loop over times.

Case weights are frequency weights: a weight of 2 counts as two identical rows
(cmprsk itself has no weights; the tests compare with replicated rows).

References: Gray (1988) Ann Stat 16:1141–1154; Kalbfleisch & Prentice (1980) §7.2;
R package ``cmprsk`` 2.2 (``cuminc``, ``timepoints``; Fortran ``cinc``, ``crstm``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from rechallenge.stats._threads import single_blas_thread

__all__ = ["CIFCurve", "CIFResult", "GrayTest", "cumulative_incidence"]

FloatArray = NDArray[np.float64]


def _num(value: float) -> float | None:
    """A float, or ``None`` for NaN/inf (JSON has neither)."""
    v = float(value)
    return v if math.isfinite(v) else None


@dataclass(frozen=True)
class CIFCurve:
    """Cumulative incidence of one cause in one group, as a right-continuous step function.

    ``time`` starts at 0 and lists the jump times of the CIF, then the group's last
    follow-up time when it is later; ``cif[i]`` and ``variance[i]`` hold from
    ``time[i]`` until the next time (cmprsk's ``est`` and ``var`` at the corners).
    """

    group: Any
    cause: Any
    time: FloatArray
    cif: FloatArray
    variance: FloatArray

    def at(self, times: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """CIF and variance at ``times`` (cmprsk ``timepoints``): NaN after the last follow-up."""
        t = np.asarray(times, dtype=np.float64)
        idx = np.searchsorted(self.time, t, side="right") - 1
        ok = (idx >= 0) & (t <= self.time[-1])
        safe = np.clip(idx, 0, None)
        return (
            np.where(ok, self.cif[safe], np.nan),
            np.where(ok, self.variance[safe], np.nan),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping ``{group, cause, time, cif, variance}``."""
        return {
            "group": _label(self.group),
            "cause": _label(self.cause),
            "time": [float(v) for v in self.time],
            "cif": [float(v) for v in self.cif],
            "variance": [float(v) for v in self.variance],
        }


@dataclass(frozen=True)
class GrayTest:
    """Gray's test of equal CIFs of one cause among groups (``cuminc(...)$Tests``)."""

    cause: Any
    stat: float
    df: int
    p: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping ``{cause, stat, df, p}``."""
        return {
            "cause": _label(self.cause),
            "stat": _num(self.stat),
            "df": self.df,
            "p": _num(self.p),
        }


@dataclass(frozen=True)
class CIFResult:
    """Result of :func:`cumulative_incidence`: curves, values at times, Gray's tests."""

    curves: tuple[CIFCurve, ...]
    times: tuple[float, ...]
    gray: tuple[GrayTest, ...]
    rho: float

    def at_times(self) -> list[dict[str, Any]]:
        """One record ``{group, cause, time, cif, variance}`` per curve and requested time."""
        rows: list[dict[str, Any]] = []
        for curve in self.curves:
            est, var = curve.at(self.times)
            for t, e, v in zip(self.times, est, var, strict=True):
                rows.append(
                    {
                        "group": _label(curve.group),
                        "cause": _label(curve.cause),
                        "time": float(t),
                        "cif": _num(e),
                        "variance": _num(v),
                    }
                )
        return rows

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping ``{curves, at_times, gray}`` (the CLI's keys)."""
        return {
            "curves": [c.to_dict() for c in self.curves],
            "at_times": self.at_times(),
            "gray": [g.to_dict() for g in self.gray],
        }


def _label(value: Any) -> Any:
    """A JSON-friendly group or cause label (numpy scalars become Python values)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


# ----------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class _Data:
    time: FloatArray
    status: NDArray[Any]
    group: NDArray[Any] | None
    strata: NDArray[Any] | None
    weight: FloatArray


def _as_data(
    time: ArrayLike,
    status: ArrayLike,
    group: ArrayLike | None,
    strata: ArrayLike | None,
    weights: ArrayLike | None,
) -> _Data:
    """Validate the inputs (finite times >= 0, no missing status, positive weights)."""
    t = np.asarray(time, dtype=np.float64)
    if t.ndim != 1 or t.shape[0] == 0:
        raise ValueError("time must be a non-empty 1-D array")
    bad = ~np.isfinite(t) | (t < 0)
    if bad.any():
        raise ValueError(
            f"time has {int(bad.sum())} missing, infinite or negative value(s), first at row "
            f"{int(np.flatnonzero(bad)[0])}"
        )
    s = np.asarray(status)
    if s.shape != t.shape:
        raise ValueError(f"status has {s.shape[0]} rows but time has {t.shape[0]}")
    if s.dtype.kind == "f" and np.isnan(s).any():
        raise ValueError("status has missing values; remove incomplete rows first")
    w = np.ones_like(t) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != t.shape or not (np.isfinite(w) & (w > 0)).all():
        raise ValueError("weights must be one finite positive value per row")
    return _Data(
        time=t,
        status=s,
        group=_labels(group, t.shape[0], "group"),
        strata=_labels(strata, t.shape[0], "strata"),
        weight=w,
    )


def _labels(values: ArrayLike | None, n: int, name: str) -> NDArray[Any] | None:
    if values is None:
        return None
    arr = np.asarray(values)
    if arr.dtype.kind not in _NUMERIC:
        arr = np.asarray(values, dtype=object)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have one value per row")
    missing = (
        np.isnan(arr).any() if arr.dtype.kind == "f" else arr.dtype == object and pd.isna(arr).any()
    )
    if missing:
        raise ValueError(f"{name} has missing values; remove incomplete rows first")
    return arr


_NUMERIC = "biuf"
"""dtype kinds coded with numpy (bool, integers, floats); other labels as Python objects."""


def _codes(values: NDArray[Any], levels: list[Any]) -> NDArray[np.intp]:
    """The position of each value in ``levels`` (every value is one of them)."""
    if values.dtype.kind in _NUMERIC:
        return np.searchsorted(np.asarray(levels, dtype=values.dtype), values).astype(np.intp)
    return pd.Index(levels, dtype=object).get_indexer(values).astype(np.intp)


def _levels(values: NDArray[Any]) -> list[Any]:
    """Sorted distinct values (numbers numerically, then text by code point).

    Numeric arrays are sorted by numpy (the same Python values as ``sorted(set(...))``,
    without a Python object per row).
    """
    if values.dtype.kind in _NUMERIC:
        return list(np.unique(values).tolist())
    return sorted(set(values.tolist()), key=lambda v: (isinstance(v, str), v))


# ----------------------------------------------------------------------------- CIF


def _cause_codes(status: NDArray[Any], causes: list[Any]) -> NDArray[np.intp]:
    """0 for a censored row, ``1 + j`` for a row of ``causes[j]``."""
    code = np.zeros(status.shape[0], dtype=np.intp)
    events = status != 0
    code[events] = _codes(status[events], causes) + 1
    return code


def _group_curves(
    group: Any,
    causes: list[Any],
    tally: FloatArray,
    ut: FloatArray,
    last: float,
) -> list[CIFCurve]:
    """The curves of every cause in one group (steps 1-3), from its weight tally.

    ``tally[c]`` is the weight of rows of cause code ``c`` (0 = censored) at each of the
    distinct times ``ut`` of all rows; a time with no row of this group counts 0 and
    drops out with the times without events. The all-cause quantities (numbers at risk,
    the overall Kaplan–Meier curve) are shared by the causes.
    """
    rs = tally.sum(axis=0)[::-1].cumsum()[::-1]
    nd = tally[1:].sum(axis=0)
    ev = nd > 0
    t, rs, nd = ut[ev], rs[ev], nd[ev]
    surv = np.cumprod((rs - nd) / rs)
    before = np.concatenate(([1.0], surv[:-1]))
    base = before * before / (rs * rs)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_s = np.where(surv > 0, 1.0 / surv, 0.0)
        rs_1 = rs - 1.0
    curves = []
    for j, cause in enumerate(causes):
        d1 = tally[j + 1][ev]
        d2 = nd - d1
        cif = np.cumsum(before * d1 / rs)
        with np.errstate(divide="ignore", invalid="ignore"):
            t5_2 = np.where(d2 > 1, 1.0 - (d2 - 1.0) / rs_1, 1.0)
            t5_1 = np.where(d1 > 1, 1.0 - (d1 - 1.0) / rs_1, 1.0)
        t6_2 = np.where((d2 > 0) & (surv > 0), base * t5_2 * d2, 0.0)
        t6_1 = np.where(d1 > 0, base * t5_1 * d1, 0.0)
        t4_2 = cif * inv_s
        t4_1 = 1.0 + inv_s * cif
        v1 = np.cumsum(t4_2 * t4_2 * t6_2 + t4_1 * t4_1 * t6_1)
        v2 = np.cumsum(inv_s * t4_2 * t6_2 + inv_s * t4_1 * t6_1)
        v3 = np.cumsum(inv_s * inv_s * (t6_2 + t6_1))
        var = v1 + cif * cif * v3 - 2.0 * cif * v2
        jump = d1 > 0
        curves.append(_step(group, cause, t[jump], cif[jump], var[jump], last))
    return curves


def _step(
    group: Any, cause: Any, jt: FloatArray, jc: FloatArray, jv: FloatArray, last: float
) -> CIFCurve:
    """The step function of one (group, cause): 0 at time 0, the jumps, the last follow-up."""
    tt = np.concatenate(([0.0], jt))
    cc = np.concatenate(([0.0], jc))
    vv = np.concatenate(([0.0], jv))
    if last > tt[-1]:
        tt, cc, vv = np.append(tt, last), np.append(cc, cc[-1]), np.append(vv, vv[-1])
    for a in (tt, cc, vv):
        a.setflags(write=False)
    return CIFCurve(group=group, cause=cause, time=tt, cif=cc, variance=vv)


# ----------------------------------------------------------------------------- Gray


def _gray_stratum(
    inv: NDArray[np.intp],
    m: int,
    code: NDArray[np.int8],
    group: NDArray[np.intp],
    w: FloatArray,
    ng: int,
    rho: float,
) -> tuple[FloatArray, FloatArray]:
    """Scores of groups ``0 .. ng-2`` and their variance in one stratum (cmprsk ``crst``).

    ``inv``: each row's index into the ``m`` distinct times of all rows (a time with no
    row in this stratum has no event and drops out). ``code``: 0 censored, 1 the cause
    tested, 2 another cause.

    Every quantity is kept as one contiguous vector over the event times per group (or
    per pair of groups for the ``a``/``c`` matrices of ``crst``): the groups are few and
    the times many, and numpy is several times faster on long vectors than on the short
    trailing axes of ``(times, groups, groups)`` arrays.
    """
    cell = (code.astype(np.intp) * ng + group) * m + inv
    counts = np.bincount(cell, weights=w, minlength=3 * ng * m).reshape(3, ng, m)
    nd1_all = counts[1].sum(axis=0)
    ev = (nd1_all > 0) | (counts[2].sum(axis=0) > 0)
    nd1 = nd1_all[ev]
    k_range = range(ng)
    rs = [(counts[0, k] + counts[1, k] + counts[2, k])[::-1].cumsum()[::-1][ev] for k in k_range]
    d1 = [counts[1, k][ev] for k in k_range]
    d2 = [counts[2, k][ev] for k in k_range]
    alive = [r > 0 for r in rs]
    skm, skmm, h, f1m = [], [], [], []
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in k_range:
            s_k = np.cumprod(np.where(alive[k], (rs[k] - d1[k] - d2[k]) / rs[k], 1.0))
            sm_k = np.concatenate(([1.0], s_k[:-1]))
            jump = np.where(alive[k], sm_k * d1[k] / rs[k], 0.0)
            skm.append(s_k)
            skmm.append(sm_k)
            f1m.append(np.cumsum(jump) - jump)
            h.append(np.where(alive[k], rs[k] / sm_k, 0.0))  # t1 of crst: rs / skmm
    # sums over groups in group order (what a reduction along the group axis does)
    tr = h[0].copy()
    tq = h[0] * (1.0 - f1m[0])
    for k in k_range[1:]:
        tr += h[k]
        tq += h[k] * (1.0 - f1m[k])
    nd1_tr = nd1 / tr
    f = np.cumsum(nd1_tr)
    fm = f - nd1_tr
    one_fm = 1.0 - fm
    fb = one_fm**rho
    q = nd1 / (tr * one_fm)
    # a = fb (diag(h) - h h' / tr); c accumulates a nd1 / (tr (1 - fm)), updated first.
    # Only the rows i < ng - 1 enter the variance returned (the last group is dropped),
    # so the (i, k) pairs of the last row are never formed.
    g1 = ng - 1
    rows = range(g1)
    a = {}
    c = {}
    for i in rows:
        for k in k_range:
            a_ik = fb * ((h[i] if i == k else 0.0) - h[i] * h[k] / tr)
            a[i, k] = a_ik
            c[i, k] = np.cumsum(a_ik * q)
    score = np.empty(ng - 1)
    t3, t4, u3, u4 = [], [], [], []
    one_f, nd1_1, tied1, has1 = 1.0 - f, nd1 - 1.0, nd1 > 1, nd1 > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in k_range:
            if k < ng - 1:
                sc = fb * (d1[k] - nd1 * h[k] * (1.0 - f1m[k]) / tq)
                score[k] = np.where(alive[k], sc, 0.0).sum()
            # events of the cause tested: every group at risk, k
            pos = skm[k] > 0
            ratio = one_f / skm[k]
            t4.append(np.where(pos, 1.0 - ratio, 1.0))
            t5 = np.where(tied1, 1.0 - nd1_1 / (tr * skmm[k] - 1.0), 1.0)
            t3.append(np.where(alive[k] & has1, t5 * skmm[k] * nd1 / (tr * rs[k]), 0.0))
            # events of other causes in group k (skm > 0)
            u4.append(np.where(pos, ratio, 0.0))
            u5 = np.where(d2[k] > 1, 1.0 - (d2[k] - 1.0) / (rs[k] - 1.0), 1.0)
            u3.append(
                np.where(pos & (d2[k] > 0), u5 * skmm[k] * skmm[k] * d2[k] / (rs[k] * rs[k]), 0.0)
            )
    v3 = np.array([(t4[k] * t4[k] * t3[k] + u4[k] * u4[k] * u3[k]).sum() for k in k_range])
    # columns k: first part t1 = a(i,k) - t4 c(i,k); second part t1 = t4 c(i,k)
    p1 = {(i, k): a[i, k] - t4[k] * c[i, k] for i in rows for k in k_range}
    p2 = {(i, k): u4[k] * c[i, k] for i in rows for k in k_range}
    # the (ng, ng) matrices keep their shape (rows >= g1 stay 0): each entry of the
    # block returned is then computed by exactly the same products as before
    v2 = np.zeros((ng, ng))
    var = np.zeros((ng, ng))
    for k in k_range:
        w1, w2 = t4[k] * t3[k], u4[k] * u3[k]
        for i in rows:
            v2[i, k] = p1[i, k] @ w1 - p2[i, k] @ w2
            p1_t3, p2_u3 = p1[i, k] * t3[k], p2[i, k] * u3[k]
            for j in range(i, g1):
                var[i, j] += p1_t3 @ p1[j, k] + p2_u3 @ p2[j, k]
    var = np.triu(var) + np.triu(var, 1).T
    cf = np.zeros((ng, ng))
    for i in rows:
        cf[i] = [c[i, k][-1] for k in k_range]
    var += (cf * v3[None, :]) @ cf.T + cf @ v2.T + v2 @ cf.T
    return score, var[:g1, :g1]


def _gray(
    data: _Data,
    cause: Any,
    groups: list[Any],
    gcode: NDArray[np.intp],
    times: tuple[FloatArray, NDArray[np.intp]],
    rho: float,
) -> GrayTest:
    """Gray's test of one cause: strata summed, ``s' V^-1 s`` (NaN if ``V`` is singular)."""
    ng = len(groups)
    ut, inv = times
    code = np.where(data.status == 0, 0, np.where(data.status == cause, 1, 2)).astype(np.int8)
    score = np.zeros(ng - 1)
    var = np.zeros((ng - 1, ng - 1))
    strata = data.strata
    for level in [None] if strata is None else _levels(strata):
        rows = slice(None) if strata is None else strata == level
        s, v = _gray_stratum(
            inv[rows], ut.shape[0], code[rows], gcode[rows], data.weight[rows], ng, rho
        )
        score += s
        var += v
    if np.linalg.matrix_rank(var) < ng - 1:
        stat = float("nan")
    else:
        stat = float(score @ np.linalg.solve(var, score))
    df = ng - 1
    p = float(stats.chi2.sf(stat, df)) if math.isfinite(stat) else float("nan")
    return GrayTest(cause=cause, stat=stat, df=df, p=p)


# ----------------------------------------------------------------------------- public


@single_blas_thread
def cumulative_incidence(
    time: ArrayLike,
    status: ArrayLike,
    *,
    group: ArrayLike | None = None,
    strata: ArrayLike | None = None,
    times: Sequence[float] = (),
    rho: float = 0.0,
    weights: ArrayLike | None = None,
) -> CIFResult:
    """Cumulative incidence of every cause by group, as R ``cmprsk::cuminc`` (2.2).

    Args:
        time: follow-up times (``>= 0``).
        status: 0 = censored, any other value = the cause of the event.
        group: optional group labels; with two or more groups Gray's test is computed.
        strata: optional strata for Gray's test (the curves ignore them, as cmprsk).
        times: times at which :meth:`CIFResult.at_times` reports the CIF (``timepoints``).
        rho: power of the weight ``(1 - F-)^rho`` of Gray's test (cmprsk default 0).
        weights: frequency weights (default 1 per row).

    Returns:
        A :class:`CIFResult`: curves ordered by cause, then group (cmprsk's order), the
        Gray test per cause (empty with one group).

    Raises:
        ValueError: invalid input, or no event of any cause.
    """
    data = _as_data(time, status, group, strata, weights)
    causes = _levels(data.status[data.status != 0])
    if not causes:
        raise ValueError("no event of any cause: every status is 0 (censored)")
    labels = np.ones(data.time.shape[0], dtype=np.int64) if data.group is None else data.group
    groups = _levels(labels)
    gcode = _codes(labels, groups)
    ut, inv = np.unique(data.time, return_inverse=True)
    inv = inv.astype(np.intp).ravel()
    m, ng, nc = ut.shape[0], len(groups), len(causes) + 1
    cell = (gcode * nc + _cause_codes(data.status, causes)) * m + inv
    tally = np.bincount(cell, weights=data.weight, minlength=ng * nc * m).reshape(ng, nc, m)
    last = np.full(ng, -np.inf)
    np.maximum.at(last, gcode, data.time)
    by_group = [
        _group_curves(g if data.group is not None else 1, causes, tally[i], ut, float(last[i]))
        for i, g in enumerate(groups)
    ]
    curves = tuple(by_group[i][j] for j in range(len(causes)) for i in range(ng))
    gray = (
        tuple(_gray(data, cause, groups, gcode, (ut, inv), rho) for cause in causes)
        if data.group is not None and len(groups) > 1
        else ()
    )
    t = tuple(float(v) for v in times)
    return CIFResult(curves=curves, times=t, gray=gray, rho=float(rho))
