"""Kaplan–Meier estimation reproducing R ``survival`` 3.5 (``survfit``, ``summary``, ``quantile``).

Public API:

- :func:`kaplan_meier` — one curve: step table, Greenwood SE, pointwise CIs, median with CI.
- :func:`kaplan_meier_by_group` — one curve per group level (R ``survfit(Surv(t, e) ~ g)``).
- :func:`median_follow_up` — median follow-up by the reverse Kaplan–Meier method.
- :class:`KaplanMeierResult` — immutable result with :meth:`~KaplanMeierResult.quantile`,
  :meth:`~KaplanMeierResult.survival_at`, :meth:`~KaplanMeierResult.rmst`,
  :meth:`~KaplanMeierResult.risk_table`, ``to_dict()`` and ``table()``.

Conventions (all pinned by fixtures produced with R survival 3.5-3, see
``tests/reference/km_logrank.R``):

- Events precede censorings at tied times: a subject censored at ``t`` is at risk at ``t``.
- ``S(t)`` is a running product ``prod(1 - d_j / n_j)`` (as R computes it), never
  ``exp(sum(log(...)))``.
- ``std_err_log`` is R's ``fit$std.err``: the Greenwood standard error of ``log S(t)``,
  ``sqrt(sum d_j / (n_j (n_j - d_j)))`` (``inf`` once ``n_j = d_j``). ``std_err`` is the
  standard error of ``S(t)`` itself, ``S(t) * std_err_log``, which is what
  ``summary(fit)`` prints.

Confidence-interval types (``conf_type``):

====================  ==========================================  ==========================
name                  pointwise band for S(t)                      median CI
====================  ==========================================  ==========================
``"log"`` (default)   ``S exp(±z se)``, upper capped at 1          R ``print.survfit``
``"log-log"``         ``exp(-exp(log(-log S) ∓ z se / log S))``    R ``print.survfit``
``"plain"``           ``S ± z S se``, clipped to [0, 1]            R ``print.survfit``
``"logit"``           logit scale, ``se (1 + S/(1-S))``            R ``print.survfit``
``"arcsin"``          ``asin(sqrt S) ± z se sqrt(S/(1-S)) / 2``    R ``print.survfit``
``"sas"``             as ``"log-log"`` (SAS ``CONFTYPE=LOGLOG``)    SAS PROC LIFETEST rule
``"spss"``            as ``"plain"``                               SPSS: median ± z SE
====================  ==========================================  ==========================

``se`` above is ``std_err_log``. R sets the band to NA where ``S = 0`` (all types) and
where ``S = 1`` for ``"log-log"``; ``"logit"`` and ``"arcsin"`` are also undefined at
``S = 1``. Undefined limits are NaN here and ``None`` in ``to_dict()``.

References:
    Kaplan EL, Meier P (1958) JASA 53:457–481. Greenwood M (1926).
    Brookmeyer R, Crowley J (1982) Biometrics 38:29–41.
    Klein JP, Moeschberger ML (2003) Survival Analysis, 2nd ed., §4.5.
    Therneau T, R package ``survival`` 3.5: ``R/survfit.R`` (``survfit_confint``),
    ``R/quantile.survfit.R``, ``R/print.survfit.R`` (``survmean``), ``R/summary.survfit.R``.
    SAS/STAT User's Guide, The LIFETEST Procedure, "Breslow, Fleming-Harrington, and
    Kaplan-Meier Methods" (quantile confidence intervals).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal, NamedTuple, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtri

from rechallenge.stats.survdata import (
    SurvData,
    as_survdata,
    check_start,
    count_by_time,
    encode_labels,
    grouped_sorted_keys,
    on_day_grid,
    sort_keys,
    tabulate_sorted,
)
from rechallenge.stats.survdata import timefix as survdata_timefix

__all__ = [
    "CONF_TYPES",
    "ConfType",
    "KaplanMeierResult",
    "LandmarkSurvival",
    "QuantileEstimate",
    "RMSTEstimate",
    "RiskTable",
    "kaplan_meier",
    "kaplan_meier_by_group",
    "median_follow_up",
]

ConfType = Literal["log", "log-log", "plain", "logit", "arcsin", "sas", "spss"]
CONF_TYPES: tuple[str, ...] = get_args(ConfType)

#: R's ``sqrt(.Machine$double.eps)``, the tolerance of ``quantile.survfit`` and ``survmean``.
R_TOLERANCE = float(np.sqrt(np.finfo(np.float64).eps))

_BAND_OF: dict[str, str] = {
    "log": "log",
    "log-log": "log-log",
    "plain": "plain",
    "logit": "logit",
    "arcsin": "arcsin",
    "sas": "log-log",
    "spss": "plain",
}
_MEDIAN_RULE: dict[str, str] = {
    "sas": "SAS PROC LIFETEST (Brookmeyer-Crowley, log-log, event times)",
    "spss": "SPSS KM (median ± z·SE, SE from Greenwood and the slope of S)",
}

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _nan_to_none(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def _list(a: NDArray[Any]) -> list[Any]:
    if a.dtype.kind == "f":
        return [None if np.isnan(v) else float(v) for v in a.tolist()]
    return [int(v) for v in a.tolist()]


def _ro(a: NDArray[Any]) -> NDArray[Any]:
    a.setflags(write=False)
    return a


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class QuantileEstimate:
    """A survival-time quantile with its confidence interval.

    ``prob`` is the probability of the event by that time (0.5 = median), ``method``
    names the rule used. NaN means not reached / not estimable (R prints NA).
    """

    prob: float
    estimate: float
    lower: float
    upper: float
    conf_level: float
    method: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (NaN becomes ``None``)."""
        return {
            "prob": self.prob,
            "estimate": _nan_to_none(self.estimate),
            "lower": _nan_to_none(self.lower),
            "upper": _nan_to_none(self.upper),
            "conf_level": self.conf_level,
            "method": self.method,
        }


@dataclass(frozen=True)
class LandmarkSurvival:
    """Survival at chosen times, as R ``summary(fit, times=, extend=)`` reports it.

    ``n_event`` / ``n_censor`` count the events / censorings in ``(previous time, time]``
    (from 0 for the first); ``std_err`` is the standard error of ``S`` (not of ``log S``).
    """

    time: FloatArray
    n_risk: IntArray
    n_event: IntArray
    n_censor: IntArray
    surv: FloatArray
    std_err: FloatArray
    lower: FloatArray
    upper: FloatArray
    conf_type: str
    conf_level: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary of equal-length lists."""
        return {
            "time": _list(self.time),
            "n_risk": _list(self.n_risk),
            "n_event": _list(self.n_event),
            "n_censor": _list(self.n_censor),
            "surv": _list(self.surv),
            "std_err": _list(self.std_err),
            "lower": _list(self.lower),
            "upper": _list(self.upper),
            "conf_type": self.conf_type,
            "conf_level": self.conf_level,
        }


@dataclass(frozen=True)
class RMSTEstimate:
    """Restricted mean survival time up to ``tau`` and its SE (R ``print(fit, rmean=tau)``)."""

    tau: float
    rmst: float
    se: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {"tau": self.tau, "rmst": self.rmst, "se": _nan_to_none(self.se)}


@dataclass(frozen=True)
class RiskTable:
    """Numbers at risk, events and censorings on a time grid (for plots and tables).

    ``n_risk`` is the number with follow-up ``>= time``; ``n_event`` / ``n_censor`` count
    ``(previous grid time, time]``; ``cum_events`` counts events ``<= time``.
    """

    time: FloatArray
    n_risk: IntArray
    n_event: IntArray
    n_censor: IntArray
    cum_events: IntArray

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary of equal-length lists."""
        return {
            "time": _list(self.time),
            "n_risk": _list(self.n_risk),
            "n_event": _list(self.n_event),
            "n_censor": _list(self.n_censor),
            "cum_events": _list(self.cum_events),
        }


@dataclass(frozen=True)
class KaplanMeierResult:
    """A Kaplan–Meier curve with one row per distinct observed time (as R ``fit$time``).

    Attributes:
        time, n_risk, n_event, n_censor, surv: the step table.
        std_err_log: Greenwood SE of ``log S`` (R ``fit$std.err``).
        std_err: SE of ``S`` (``surv * std_err_log``; R ``summary()`` column).
        lower, upper: pointwise confidence band of type ``band_type``.
        n, n_events: observations and events used.
        conf_type, conf_level: requested interval type and level.
        median: median with CI (R ``print.survfit`` rule for R types; SAS / SPSS rules
            for ``"sas"`` / ``"spss"``).
        entry: for counting-process data ``(start, stop]``, the sorted entry and exit
            times of every row (the numbers at risk on any grid come from them); ``n``
            is then the number of rows (R's ``records``).
    """

    time: FloatArray
    n_risk: IntArray
    n_event: IntArray
    n_censor: IntArray
    surv: FloatArray
    std_err_log: FloatArray
    std_err: FloatArray
    lower: FloatArray
    upper: FloatArray
    n: int
    n_events: int
    conf_type: str
    conf_level: float
    median: QuantileEstimate
    entry: tuple[FloatArray, FloatArray] | None = field(default=None, repr=False, compare=False)

    @property
    def band_type(self) -> str:
        """The R ``conf.type`` used for the pointwise band."""
        return _BAND_OF[self.conf_type]

    # -- derived quantities ---------------------------------------------------------

    def quantile(self, prob: float | Sequence[float]) -> list[QuantileEstimate]:
        """Time by which a fraction ``prob`` have had the event, as R ``quantile(fit, prob)``.

        Uses the ``quantile.survfit`` rule for R interval types (see :func:`_r_quantile`:
        when the curve ends exactly at ``1 - prob`` the estimate is the midpoint with the
        last follow-up time), the SAS or SPSS rule for ``"sas"`` / ``"spss"``.
        """
        probs = np.atleast_1d(np.asarray(prob, dtype=np.float64))
        if probs.ndim != 1 or np.isnan(probs).any() or (probs < 0).any() or (probs > 1).any():
            raise ValueError("prob must be a number or list of numbers in [0, 1]")
        curve = _Curve(
            self.time,
            self.n_event,
            self.surv,
            self.std_err,
            self.lower,
            self.upper,
            self.conf_type,
            self.conf_level,
        )
        return [_quantile(curve, float(p), rule="quantile") for p in probs]

    def survival_at(self, times: ArrayLike, *, extend: bool = False) -> LandmarkSurvival:
        """Survival at landmark times, as R ``summary(fit, times = times, extend = extend)``.

        1. Times are sorted; non-finite times are dropped; without ``extend`` times after
           the last observed time are dropped (R does the same).
        2. ``S``, its SE and band are those of the last row with ``time <= t``; before
           the first observed time ``S`` and both limits are 1 and the SE is 0 (R's
           ``survfit0`` origin row).
        3. ``n_risk`` = number with follow-up ``>= t`` (0 beyond the data).
        4. ``n_event`` / ``n_censor`` count ``(previous t, t]``.
        """
        t = np.sort(np.asarray(times, dtype=np.float64).ravel())
        t = t[np.isfinite(t)]
        if not extend:
            t = t[t <= self.time[-1]]
        if t.shape[0] == 0:
            raise ValueError("no landmark time selected; use extend=True for times after follow-up")
        row = np.searchsorted(self.time, t, side="right") - 1
        before = row < 0
        rr = np.maximum(row, 0)
        surv = np.where(before, 1.0, self.surv[rr])
        se = np.where(before, 0.0, self.std_err[rr])
        lower = np.where(before, 1.0, self.lower[rr])
        upper = np.where(before, 1.0, self.upper[rr])
        counts = self._counts_on_grid(t)
        return LandmarkSurvival(
            time=_ro(t),
            n_risk=counts.n_risk,
            n_event=counts.n_event,
            n_censor=counts.n_censor,
            surv=_ro(surv),
            std_err=_ro(se),
            lower=_ro(lower),
            upper=_ro(upper),
            conf_type=self.conf_type,
            conf_level=self.conf_level,
        )

    def risk_table(self, times: ArrayLike) -> RiskTable:
        """Numbers at risk, events, censorings and cumulative events on a time grid."""
        t = np.sort(np.asarray(times, dtype=np.float64).ravel())
        if t.shape[0] == 0 or not np.isfinite(t).all():
            raise ValueError("risk-table times must be finite and non-empty")
        return self._counts_on_grid(t)

    def _counts_on_grid(self, t: FloatArray) -> RiskTable:
        """Counts on a sorted grid from cumulative sums over the step table (vectorised)."""
        cum_rows = np.concatenate(([0], np.cumsum(self.n_event + self.n_censor)))
        cum_ev = np.concatenate(([0], np.cumsum(self.n_event)))
        cum_ce = np.concatenate(([0], np.cumsum(self.n_censor)))
        upto = np.searchsorted(self.time, t, side="right")
        before = np.searchsorted(self.time, t, side="left")
        if self.entry is None:
            n_risk = self.n - cum_rows[before]
        else:
            starts, stops = self.entry
            n_risk = (stops.shape[0] - np.searchsorted(stops, t, side="left")) - (
                starts.shape[0] - np.searchsorted(starts, t, side="left")
            )
        ev = cum_ev[upto]
        ce = cum_ce[upto]
        return RiskTable(
            time=_ro(t.copy()),
            n_risk=_ro(n_risk.astype(np.int64)),
            n_event=_ro(np.diff(ev, prepend=0).astype(np.int64)),
            n_censor=_ro(np.diff(ce, prepend=0).astype(np.int64)),
            cum_events=_ro(ev.astype(np.int64)),
        )

    def rmst(self, tau: float) -> RMSTEstimate:
        """Restricted mean survival time up to ``tau`` with SE, as R ``print(fit, rmean=tau)``.

        1. Keep rows with ``time <= tau``; close the curve at ``tau``.
        2. RMST = sum of rectangles ``(t_{j+1} - t_j) S(t_j)`` from 0 to ``tau``.
        3. ``A_j`` = area under ``S`` from ``t_j`` to ``tau``;
           ``Var = sum A_j^2 d_j / (n_j (n_j - d_j))`` with the term 0 when ``n_j = d_j``.
        """
        tau = float(tau)
        if not np.isfinite(tau) or tau < 0:
            raise ValueError(f"tau must be finite and >= 0, got {tau!r}")
        if self.time.shape[0] and tau < float(self.time[0]):
            # R survmean: "Truncation point for the mean is < smallest survival"
            raise ValueError(
                f"tau = {tau:g} is below the first time of the curve ({float(self.time[0]):g}); "
                "the restricted mean needs tau at or after it"
            )
        keep = self.time <= tau
        tt = np.concatenate((self.time[keep], [tau]))
        ss = np.concatenate(([1.0], self.surv[keep]))
        nr = self.n_risk[keep].astype(np.float64)
        nd = self.n_event[keep].astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            hh = np.where(nr - nd == 0, 0.0, nd / (nr * (nr - nd)))
        rect = np.diff(np.concatenate(([0.0], tt))) * ss
        after = np.cumsum(rect[::-1])[::-1][1:]
        var = float(np.sum(after**2 * hh))
        return RMSTEstimate(tau=tau, rmst=float(np.sum(rect)), se=float(np.sqrt(var)))

    # -- views ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary: summary numbers, median and the full step table."""
        return {
            "n": self.n,
            "events": self.n_events,
            "conf_type": self.conf_type,
            "conf_level": self.conf_level,
            "median": _nan_to_none(self.median.estimate),
            "median_lower": _nan_to_none(self.median.lower),
            "median_upper": _nan_to_none(self.median.upper),
            "median_method": self.median.method,
            "table": self.table(),
        }

    def table(self) -> dict[str, list[Any]]:
        """The step table as a tidy column dictionary (one row per distinct time)."""
        return {
            "time": _list(self.time),
            "n_risk": _list(self.n_risk),
            "n_event": _list(self.n_event),
            "n_censor": _list(self.n_censor),
            "surv": _list(self.surv),
            "std_err": _list(self.std_err),
            "std_err_log": _list(self.std_err_log),
            "lower": _list(self.lower),
            "upper": _list(self.upper),
        }


# --------------------------------------------------------------------------- kernels


class _Curve(NamedTuple):
    """The arrays a quantile rule needs."""

    time: FloatArray
    n_event: IntArray
    surv: FloatArray
    std_err: FloatArray
    lower: FloatArray
    upper: FloatArray
    conf_type: str
    conf_level: float


def _quantile(curve: _Curve, p: float, rule: str) -> QuantileEstimate:
    """Quantile ``p`` with CI under the rule of ``curve.conf_type`` (R, SAS or SPSS)."""
    if curve.conf_type == "sas":
        est = _r_quantile(curve.time, curve.surv, p, rule)
        lo, hi = _sas_quantile_ci(curve, p)
        return QuantileEstimate(p, est, lo, hi, curve.conf_level, _MEDIAN_RULE["sas"])
    if curve.conf_type == "spss":
        est, lo, hi = _spss_quantile(curve, p)
        return QuantileEstimate(p, est, lo, hi, curve.conf_level, _MEDIAN_RULE["spss"])
    est = _r_quantile(curve.time, curve.surv, p, rule)
    lo = _r_quantile(curve.time, curve.lower, p, rule)
    hi = _r_quantile(curve.time, curve.upper, p, rule)
    label = "print.survfit" if rule == "print" else "quantile.survfit"
    method = f"R survival {label} (Brookmeyer-Crowley, conf.type={curve.conf_type})"
    return QuantileEstimate(p, est, lo, hi, curve.conf_level, method)


@lru_cache(maxsize=16)
def two_sided_z(level: float) -> float:
    """The normal quantile of a two-sided ``level`` interval, ``Phi^-1(1 - (1 - level) / 2)``.

    ``scipy.special.ndtri`` is what ``scipy.stats.norm.ppf`` evaluates, without the
    distribution machinery that cost more than a whole small curve; cached per level.
    """
    return float(ndtri(1.0 - (1.0 - level) / 2.0))


def _tabulate(time: FloatArray, event: NDArray[np.int8]) -> tuple[FloatArray, IntArray, IntArray]:
    """Distinct times with numbers at risk and events, from one value sort.

    The rows are sorted as integer keys that carry the time and the event flag
    (:func:`~rechallenge.stats.survdata.sort_keys`); ``n_risk`` at a distinct time is the
    number of rows from its first occurrence on, events are counted within its run
    (:func:`~rechallenge.stats.survdata.tabulate_sorted`).
    """
    key = sort_keys(time, event)
    key.sort()
    return tabulate_sorted(key)


def _greenwood(n_risk: IntArray, n_event: IntArray) -> tuple[FloatArray, FloatArray]:
    """KM survival (running product) and Greenwood SE of log S (inf once n = d)."""
    nr = n_risk.astype(np.float64)
    nd = n_event.astype(np.float64)
    surv: FloatArray = np.cumprod(1.0 - nd / nr, dtype=np.float64)
    with np.errstate(divide="ignore"):
        inc = nd / (nr * (nr - nd))
    inc[nd == 0] = 0.0
    se_log: FloatArray = np.sqrt(np.cumsum(inc))
    return surv, se_log


def _band(
    surv: FloatArray, se: FloatArray, band: str, level: float
) -> tuple[FloatArray, FloatArray]:
    """Pointwise band of R's ``survfit_confint`` (``logse = TRUE``, usual lower limit).

    ``se`` is the SE of ``log S``. NaN where R returns NA (``S = 0`` for every type,
    ``S = 1`` for log-log; logit/arcsin give NaN at ``S = 1`` as in R).
    """
    z = two_sided_z(level)
    p = surv
    scale = np.where(np.isinf(se), np.nan, 1.0)
    with np.errstate(all="ignore"):
        if band == "plain":
            w = se * p * z
            return np.maximum(p - w * scale, 0.0), np.minimum(p + w, 1.0)
        if band == "log":
            log_p = np.log(np.where(p == 0, np.nan, p))  # one log pass for both limits
            w = z * se
            return np.exp(log_p - w * scale), np.minimum(np.exp(log_p + w), 1.0)
        if band == "log-log":
            log_p = np.log(np.where((p == 0) | (p == 1), np.nan, p))
            w = z * se / log_p
            log_log = np.log(-log_p)
            return np.exp(-np.exp(log_log - w * scale)), np.exp(-np.exp(log_log + w))
        if band == "logit":
            xx = np.where(p == 0, np.nan, p)
            w = z * se * (1.0 + xx / (1.0 - xx))
            lg = np.log(p / (1.0 - p))
            return 1.0 - 1.0 / (1.0 + np.exp(lg - w * scale)), 1.0 - 1.0 / (1.0 + np.exp(lg + w))
        xx = np.where(p == 0, np.nan, p)
        w = 0.5 * z * se * np.sqrt(xx / (1.0 - xx))
        a = np.arcsin(np.sqrt(xx))
        arc_lo: FloatArray = np.sin(np.maximum(0.0, a - w * scale)) ** 2
        arc_hi: FloatArray = np.sin(np.minimum(np.pi / 2, a + w)) ** 2
        return arc_lo, arc_hi


def _r_quantile(time: FloatArray, level: FloatArray, p: float, rule: str) -> float:
    """First time a (possibly NaN-holed) survival curve reaches ``1 - p``, R style.

    ``rule="print"`` is ``survmean``'s ``minmin`` (what ``print(fit)`` shows for the
    median), ``rule="quantile"`` is ``quantile.survfit``'s ``findq``. Both use
    ``tol = sqrt(machine eps)`` and ignore NaN values of the curve:

    1. The estimate is the first time with ``S <= 1 - p + tol``; NaN if there is none.
    2. If that ``S`` is within ``tol`` of ``1 - p`` (a flat stretch exactly at the level),
       return the midpoint of that time and the first time ``S`` drops below it
       (print: strictly below; quantile: below ``1 - p - tol``).
    3. If the curve never drops below that level: print returns the time itself;
       quantile returns the midpoint with the last follow-up time (when the last value of
       the de-duplicated curve is not NaN) and NaN otherwise.
    """
    if rule == "print":
        return _minmin(time, level, 1.0 - p, R_TOLERANCE)
    return _findq(time, level, p, R_TOLERANCE)


def _minmin(time: FloatArray, level: FloatArray, q: float, tol: float) -> float:
    """R ``survmean``'s ``minmin``: the print-method quantile on the survival scale."""
    keep = ~np.isnan(level) & (level < q + tol)
    if not keep.any():
        return float("nan")
    x, y = time[keep], level[keep]
    below = y < y[0]
    if abs(y[0] - q) < tol and below.any():
        return float((x[0] + x[np.argmax(below)]) / 2.0)
    return float(x[0])


def _first_at_or_above(y: FloatArray, v: float) -> int | None:
    """Index of the smallest ``y >= v`` (R ``approx(y, seq, v, "constant", f = 1)``)."""
    order = np.argsort(y, kind="stable")
    ys = y[order]
    if v < ys[0] or v > ys[-1]:
        return None
    return int(order[np.searchsorted(ys, v, side="left")])


def _findq(time: FloatArray, level: FloatArray, p: float, tol: float) -> float:
    """R ``findq`` on the cumulative probability ``1 - level``, origin ``(0, 0)`` added.

    1. NaN if the largest cumulative probability is below ``p``.
    2. Keep the first time each distinct value occurs (NaN counts as one value).
    3. ``i1`` = point with the smallest value ``>= p - tol``, ``i2`` the smallest
       ``>= p + tol`` (NaN values ignored); the quantile is the midpoint of their times.
    4. ``p = 0`` gives the origin; if the last de-duplicated value is within ``tol`` of
       ``p``, the quantile is the midpoint of ``i1``'s time and the last follow-up time.
    """
    x = np.concatenate(([0.0], time))
    y = np.concatenate(([0.0], 1.0 - level))
    finite = ~np.isnan(y)
    if np.max(y[finite]) < p:
        return float("nan")
    xmax = float(x[-1])
    _, first = np.unique(y, return_index=True, equal_nan=True)
    first.sort()
    x, y = x[first], y[first]
    y_last = float(y[-1])
    ok = ~np.isnan(y)
    x, y = x[ok], y[ok]
    if p == 0:
        return float(x[0])
    i1 = _first_at_or_above(y + tol, p)
    i2 = _first_at_or_above(y - tol, p)
    if not np.isnan(y_last) and abs(p - y_last) < tol:
        return float("nan") if i1 is None else float((x[i1] + xmax) / 2.0)
    if i1 is None or i2 is None:
        return float("nan")
    return float((x[i1] + x[i2]) / 2.0)


def _sas_quantile_ci(fit: _Curve, p: float) -> tuple[float, float]:
    """SAS PROC LIFETEST confidence interval for the ``p`` quantile (CONFTYPE=LOGLOG).

    SAS/STAT documentation (LIFETEST, "Breslow, Fleming-Harrington, and Kaplan-Meier
    Methods"), after Brookmeyer & Crowley (1982):

    1. At each event time ``t_j`` compute ``r_j = (g(S_j) - g(1 - p)) / (g'(S_j) sigma_j)``
       with ``g(x) = log(-log x)``, ``g'(x) = 1 / (x log x)`` and ``sigma_j`` the
       Greenwood SE of ``S`` (``std_err``).
    2. The interval is the set of event times with ``|r_j| <= z``.
    3. Lower limit: the first event time in the set. Upper limit: the event time that
       follows the last one in the set; missing (NaN) when the set reaches the last event
       time or is empty.
    """
    ev = fit.n_event > 0
    t, s, sig = fit.time[ev], fit.surv[ev], fit.std_err[ev]
    z = two_sided_z(fit.conf_level)
    q = 1.0 - p
    with np.errstate(all="ignore"):
        r = (np.log(-np.log(s)) - np.log(-np.log(q))) / (sig / (s * np.log(s)))
    inside = np.flatnonzero(np.abs(r) <= z)
    if inside.shape[0] == 0:
        return float("nan"), float("nan")
    lower = float(t[inside[0]])
    last = inside[-1]
    upper = float("nan") if last == t.shape[0] - 1 else float(t[last + 1])
    return lower, upper


def _spss_quantile(fit: _Curve, p: float) -> tuple[float, float, float]:
    """SPSS KM percentile with a symmetric interval ``estimate ± z SE``.

    As quoted from the IBM SPSS Statistics Algorithms manual (KM chapter), which follows
    Klein & Moeschberger (2003, §4.5) with ``epsilon = 0.05``:

    1. Estimate: the first event time with ``S(t) <= 1 - p`` (compared with R's tolerance
       so that a running product equal to ``1 - p`` in exact arithmetic counts as equal);
       no midpoint averaging. NaN if never reached.
    2. ``u`` = the last event time with ``S >= 1 - p + 0.05`` (the origin, ``S = 1``, if
       none); ``l`` = the first event time with ``S <= 1 - p - 0.05`` (SE undefined if none).
    3. ``f = (S(u) - S(l)) / (l - u)``;
       ``SE = sqrt(Greenwood Var[S(estimate)]) / f``.
    4. Interval ``estimate ± z SE``, the lower limit truncated at 0 (a time is never
       negative; an early median with a wide SE would otherwise give a negative limit).
    """
    tol = R_TOLERANCE
    q = 1.0 - p
    ev = fit.n_event > 0
    t, s, sig = fit.time[ev], fit.surv[ev], fit.std_err[ev]
    hit = np.flatnonzero(s <= q + tol)
    if hit.shape[0] == 0:
        return float("nan"), float("nan"), float("nan")
    k = hit[0]
    est = float(t[k])
    upper_side = np.flatnonzero(s >= q + 0.05 - tol)
    u_t, u_s = (
        (float(t[upper_side[-1]]), float(s[upper_side[-1]])) if upper_side.size else (0.0, 1.0)
    )
    lower_side = np.flatnonzero(s <= q - 0.05 + tol)
    if lower_side.shape[0] == 0:
        return est, float("nan"), float("nan")
    l_t, l_s = float(t[lower_side[0]]), float(s[lower_side[0]])
    f = (u_s - l_s) / (l_t - u_t)
    se = float(sig[k]) / f
    z = two_sided_z(fit.conf_level)
    if not np.isfinite(se):
        return est, float("nan"), float("nan")
    return est, max(0.0, est - z * se), est + z * se


# --------------------------------------------------------------------------- public API


def _check_options(conf_type: str, conf_level: float) -> None:
    if conf_type not in CONF_TYPES:
        raise ValueError(f"conf_type must be one of {', '.join(CONF_TYPES)}; got {conf_type!r}")
    if not (0.0 < float(conf_level) < 1.0):
        raise ValueError(f"conf_level must be strictly between 0 and 1, got {conf_level!r}")


def _fit(data: SurvData, conf_type: str, conf_level: float) -> KaplanMeierResult:
    """Fit one curve on validated data (no checks)."""
    ut, n_risk, n_event = _tabulate(data.time, data.event)
    return _fit_counts(ut, n_risk, n_event, conf_type, conf_level)


def _tabulate_counting(
    start: FloatArray, stop: FloatArray, event: NDArray[np.int8]
) -> tuple[FloatArray, IntArray, IntArray, IntArray, tuple[FloatArray, FloatArray]]:
    """Step table of ``(start, stop]`` data, as R ``survfit(Surv(start, stop, event))``.

    Rows are reported at the distinct stop times; at ``t`` the risk set is every row with
    ``start < t <= stop``: ``n_risk = #(stop >= t) - #(start >= t)`` (two sorts and
    searchsorted). Censorings are the censored rows stopping at ``t``.
    """
    stops = np.sort(stop)
    starts = np.sort(start)
    ut = np.unique(stops)
    n_risk = (stops.shape[0] - np.searchsorted(stops, ut, side="left")) - (
        starts.shape[0] - np.searchsorted(starts, ut, side="left")
    )
    ev = event.astype(bool)
    te = np.sort(stop[ev])
    tc = np.sort(stop[~ev])
    n_event = np.diff(np.searchsorted(te, ut, side="right"), prepend=0)
    n_censor = np.diff(np.searchsorted(tc, ut, side="right"), prepend=0)
    return (
        ut,
        n_risk.astype(np.int64),
        n_event.astype(np.int64),
        n_censor.astype(np.int64),
        (_ro(starts), _ro(stops)),
    )


def _fit_start_stop(
    start: FloatArray, data: SurvData, conf_type: str, conf_level: float
) -> KaplanMeierResult:
    """One counting-process curve on validated data."""
    ut, n_risk, n_event, n_censor, entry = _tabulate_counting(start, data.time, data.event)
    fit = _fit_counts(ut, n_risk, n_event, conf_type, conf_level, n_censor=n_censor)
    return dataclasses.replace(fit, n=int(data.time.shape[0]), entry=entry)


def _fit_counts(
    ut: FloatArray,
    n_risk: IntArray,
    n_event: IntArray,
    conf_type: str,
    conf_level: float,
    n_censor: IntArray | None = None,
) -> KaplanMeierResult:
    """Curve, SEs, band and median from the step-table counts."""
    if n_censor is None:
        n_censor = n_risk - np.concatenate((n_risk[1:], [0])) - n_event
    surv, se_log = _greenwood(n_risk, n_event)
    with np.errstate(invalid="ignore"):
        se = surv * se_log
    lower, upper = _band(surv, se_log, _BAND_OF[conf_type], conf_level)
    curve = _Curve(ut, n_event, surv, se, lower, upper, conf_type, float(conf_level))
    return KaplanMeierResult(
        time=_ro(ut),
        n_risk=_ro(n_risk),
        n_event=_ro(n_event),
        n_censor=_ro(n_censor.astype(np.int64)),
        surv=_ro(surv),
        std_err_log=_ro(se_log),
        std_err=_ro(se),
        lower=_ro(lower),
        upper=_ro(upper),
        n=int(n_risk[0]),
        n_events=int(n_event.sum()),
        conf_type=conf_type,
        conf_level=float(conf_level),
        median=_quantile(curve, 0.5, rule="print"),
    )


def kaplan_meier(
    time: ArrayLike,
    event: ArrayLike,
    *,
    conf_type: ConfType = "log",
    conf_level: float = 0.95,
    start: ArrayLike | None = None,
    timefix: bool = False,
) -> KaplanMeierResult:
    """Kaplan–Meier estimate of one survival curve, as R ``survfit(Surv(time, event) ~ 1)``.

    Args:
        time: follow-up times (``>= 0``, finite); with ``start``, the exit times.
        event: 1/True = event, 0/False = censored.
        start: entry times for counting-process data ``(start, time]`` (delayed entry,
            several rows per subject), as R ``Surv(start, stop, event)``.
        timefix: merge times closer than ``sqrt(eps)`` first, as R's default
            (:func:`~rechallenge.stats.survdata.timefix`); off by default.
        conf_type: one of ``"log"`` (R default), ``"log-log"`` (SAS and lifelines default
            band), ``"plain"``, ``"logit"``, ``"arcsin"``, ``"sas"``, ``"spss"`` (see the
            module docstring for the formulas and median rules).
        conf_level: confidence level of bands and median CI, default 0.95.

    Algorithm:
        1. Sort the times once; distinct times, numbers at risk (events precede
           censorings at ties) and events come from the sorted arrays (no Python loop).
        2. ``S = cumprod(1 - d/n)``; Greenwood ``se = sqrt(cumsum(d / (n (n - d))))``.
        3. Pointwise band on the chosen scale (``survfit_confint``).
        4. Median and CI by drawing a horizontal line at 0.5 through the curve and its
           band (``print.survfit``), with R's tolerance and midpoint rule; SAS and SPSS
           rules for those types.

    Raises:
        ValueError: invalid data (see :func:`~rechallenge.stats.survdata.as_survdata`)
            or options.
    """
    _check_options(conf_type, conf_level)
    if timefix:
        time, start = survdata_timefix(time, start)
    data = as_survdata(time, event)
    if start is not None:
        return _fit_start_stop(check_start(start, data.time), data, conf_type, conf_level)
    return _fit(data, conf_type, conf_level)


def kaplan_meier_by_group(
    time: ArrayLike,
    event: ArrayLike,
    group: ArrayLike,
    *,
    conf_type: ConfType = "log",
    conf_level: float = 0.95,
    start: ArrayLike | None = None,
) -> Mapping[Any, KaplanMeierResult]:
    """One Kaplan–Meier curve per group level, as R ``survfit(Surv(time, event) ~ group)``.

    Levels are returned in sorted order (code-point order; R sorts character levels by
    locale collation). Each curve equals :func:`kaplan_meier` on that group's rows; all
    groups are tabulated in one counting pass
    (:func:`~rechallenge.stats.survdata.count_by_time`).
    """
    _check_options(conf_type, conf_level)
    data = as_survdata(time, event, group=group)
    labels = data.group if data.group is not None else np.zeros(data.n)
    levels, codes = encode_labels(labels)
    if start is not None:
        entry = check_start(start, data.time)
        return {
            level: _fit_start_stop(
                entry[codes == i],
                as_survdata(data.time[codes == i], data.event[codes == i]),
                conf_type,
                conf_level,
            )
            for i, level in enumerate(levels.tolist())
        }
    k = int(levels.shape[0])
    out: dict[Any, KaplanMeierResult] = {}
    if not on_day_grid(data.time):
        # each curve needs only its own rows: one value sort per group, no merge
        key, bounds = grouped_sorted_keys(data.time, data.event, codes, k)
        for i, level in enumerate(levels.tolist()):
            ut, n_risk, n_event = tabulate_sorted(key[bounds[i] : bounds[i + 1]])
            out[level] = _fit_counts(ut, n_risk, n_event, conf_type, conf_level)
        return out
    times, events, rows = count_by_time(data.time, data.event, codes, k)
    for i, level in enumerate(levels.tolist()):
        present = np.flatnonzero(rows[:, i])
        at_risk = np.cumsum(rows[::-1, i])[::-1][present]
        out[level] = _fit_counts(
            times[present], at_risk, events[present, i].astype(np.int64), conf_type, conf_level
        )
    return out


def median_follow_up(
    time: ArrayLike,
    event: ArrayLike,
    *,
    conf_type: ConfType = "log",
    conf_level: float = 0.95,
) -> QuantileEstimate:
    """Median follow-up by the reverse Kaplan–Meier method (Schemper & Smith 1996).

    The Kaplan–Meier estimate of the *censoring* distribution: censorings count as
    events and events as censorings, as R ``survfit(Surv(time, 1 - event) ~ 1)``; its
    median and CI follow the same rule as :func:`kaplan_meier`'s median (R
    ``print.survfit`` for R types, SAS / SPSS rules for ``"sas"`` / ``"spss"``).

    1. Validate ``time`` and ``event`` once.
    2. Fit the curve of ``1 - event`` (at a tie, a death then counts as censored at that
       time, so the patient censored there is still "at risk" of being censored: R's
       order).
    3. Return its median; NaN when fewer than half the patients were censored.

    Reference: Schemper M, Smith TL (1996) Control Clin Trials 17:343–346.
    """
    _check_options(conf_type, conf_level)
    data = as_survdata(time, event)
    reverse = as_survdata(data.time, 1 - data.event.astype(np.int64))
    median = _fit(reverse, conf_type, conf_level).median
    method = f"reverse Kaplan-Meier; {median.method}"
    return QuantileEstimate(
        median.prob, median.estimate, median.lower, median.upper, median.conf_level, method
    )
