"""k-group log-rank and G-rho tests, reproducing R ``survival::survdiff`` 3.5.

Public API:

- :func:`logrank_test` — ``survdiff(Surv(time, event) ~ group [+ strata(s)], rho = rho)``.
- :class:`LogRankResult` — immutable result with ``to_dict()`` and ``table()``.

Algorithm (per stratum, then summed; Harrington & Fleming 1982; R ``src/survdiff2.c``):

1. Distinct event times ``t_j`` of the stratum; for each group ``k`` the number at risk
   ``n_kj`` (follow-up ``>= t_j``) and events ``d_kj``; ``n_j``, ``d_j`` their totals.
2. Weight ``w_j = S(t_j-)^rho`` where ``S`` is the pooled, left-continuous Kaplan–Meier
   curve of the stratum (running product of ``1 - d_j / n_j``); ``rho = 0`` is the
   log-rank test, ``rho = 1`` the Peto–Peto modification of the Gehan–Wilcoxon test.
3. ``O_k = sum w_j d_kj``, ``E_k = sum w_j d_j n_kj / n_j``.
4. ``V_kl = sum w_j^2 d_j (n_j - d_j) / (n_j (n_j - 1)) * n_kj (delta_kl - n_lj / n_j)``
   (terms with ``n_j = 1`` contribute 0).
5. Sum O, E, V over strata. Keep the groups with ``E_k > 0``, drop the first of them,
   ``chi2 = (O - E)' V^-1 (O - E)`` on ``df = (#groups with E > 0) - 1`` degrees of
   freedom (``chi2 = 0`` when fewer than two groups have ``E > 0``).

All counts are float64, so nothing overflows at ``n = 10^7`` (``scipy.stats.logrank``
overflows in its variance with many ties; see docs/validation.md).

References:
    Mantel N (1966) Cancer Chemother Rep 50:163–170. Peto R, Peto J (1972) JRSS A
    135:185–207. Harrington DP, Fleming TR (1982) Biometrika 69:553–566.
    Therneau T, R package ``survival`` 3.5: ``R/survdiff.R``, ``R/survdiff.fit.R``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import chi2 as chi2_dist

from rechallenge.stats._threads import single_blas_thread
from rechallenge.stats.survdata import (
    as_survdata,
    count_by_time,
    encode_labels,
    grouped_sorted_keys,
    on_day_grid,
)

__all__ = ["LogRankResult", "logrank_test"]

FloatArray = NDArray[np.float64]


def _label(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x


@dataclass(frozen=True)
class LogRankResult:
    """Observed/expected table and chi-square test of a (weighted) log-rank comparison.

    Attributes:
        groups: group labels in sorted order (R factor order).
        n: observations per group.
        observed, expected: weighted observed and expected events per group (summed over
            strata; with ``rho = 0`` these are event counts).
        variance: ``k x k`` covariance matrix of ``O - E``.
        chi2, df, p: the test statistic, its degrees of freedom and upper-tail p-value.
        rho: the G-rho weight exponent.
        n_strata: number of strata (1 when unstratified).
        test: a plain-language name of the test.
    """

    groups: tuple[Any, ...]
    n: tuple[int, ...]
    observed: FloatArray
    expected: FloatArray
    variance: FloatArray
    chi2: float
    df: int
    p: float
    rho: float
    n_strata: int
    test: str

    def table(self) -> list[dict[str, Any]]:
        """One row per group, as R prints: N, Observed, Expected, (O-E)^2/E, (O-E)^2/V."""
        rows = []
        for i, g in enumerate(self.groups):
            o, e, v = self.observed[i], self.expected[i], self.variance[i, i]
            with np.errstate(divide="ignore", invalid="ignore"):
                oe_e = (o - e) ** 2 / e
                oe_v = (o - e) ** 2 / v
            rows.append(
                {
                    "group": _label(g),
                    "n": self.n[i],
                    "observed": float(o),
                    "expected": float(e),
                    "oe2_over_e": None if not np.isfinite(oe_e) else float(oe_e),
                    "oe2_over_v": None if not np.isfinite(oe_v) else float(oe_v),
                }
            )
        return rows

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary: test, chi2, df, p, rho, the O/E table and the variance."""
        return {
            "test": self.test,
            "chi2": self.chi2,
            "df": self.df,
            "p": None if np.isnan(self.p) else self.p,
            "rho": self.rho,
            "n_strata": self.n_strata,
            "table": self.table(),
            "variance": [[float(v) for v in row] for row in self.variance.tolist()],
        }


EventCounts = tuple[FloatArray, list[FloatArray], list[FloatArray]]
"""At the distinct event times of a stratum: all events ``d``, and per group ``d_k`` and
the number at risk ``n_k`` (each one contiguous vector)."""

GRID_CELLS = 1 << 22
"""Largest (day x stratum x group x event) count table of the stratified day-grid pass."""


def _counts_from_matrices(events: NDArray[np.int64], rows: NDArray[np.int64]) -> EventCounts:
    """Event counts from ``(times, k)`` count matrices (the day-grid counting kernel)."""
    k = events.shape[1]
    d_cols = [np.ascontiguousarray(events[:, j]) for j in range(k)]
    d_all = d_cols[0].copy()
    for col in d_cols[1:]:
        d_all += col
    has_event = d_all > 0
    d = d_all[has_event].astype(np.float64)
    dk = [col[has_event].astype(np.float64) for col in d_cols]
    nk = [_at_risk(np.ascontiguousarray(rows[:, j]))[has_event] for j in range(k)]
    return d, dk, nk


def _counts_from_sorted_keys(
    time: FloatArray, event: NDArray[np.bool_], codes: NDArray[np.intp], k: int
) -> EventCounts:
    """Event counts of non-integer times without ``(times, k)`` matrices.

    The rows are put in (time, events first) order by value-sorting each group's
    :func:`~rechallenge.stats.survdata.sort_keys` and merging the groups (a stable sort);
    then, per group, running counts of its rows and of its events are read at the first
    and last row of every distinct event time. Every pass is sequential over the rows
    (the ``(times, k)`` matrices of ``count_by_time`` have about one row per row of data
    here, and reading their columns is strided). The counts are the same integers.
    """
    key, bounds = grouped_sorted_keys(time, event, codes, k)
    label = np.repeat(np.arange(k, dtype=np.int8 if k < 128 else np.intp), np.diff(bounds))
    if k > 1:
        merge = np.argsort(key, kind="stable")
        key = key[merge]
        label = label[merge]
        del merge
    n = key.shape[0]
    bits = key >> np.uint64(1)
    change = np.empty(n, dtype=bool)
    change[0] = True
    np.not_equal(bits[1:], bits[:-1], out=change[1:])
    del bits
    first = np.flatnonzero(change)
    ends = np.append(first[1:], n)
    is_event = (key & np.uint64(1)) == 0
    running = _running_count(is_event)
    d_all = running[ends] - running[first]
    has_event = d_all > 0
    fe, ee = first[has_event], ends[has_event]
    d = d_all[has_event].astype(np.float64)
    dk, nk = [], []
    for j in range(k):
        in_j = label == j
        rows_j = _running_count(in_j)
        nk.append((rows_j[n] - rows_j[fe]).astype(np.float64))
        in_j &= is_event
        events_j = _running_count(in_j)
        dk.append((events_j[ee] - events_j[fe]).astype(np.float64))
    return d, dk, nk


def _running_count(flags: NDArray[np.bool_]) -> NDArray[np.int64]:
    """``out[i]`` = number of True flags before position ``i`` (length ``n + 1``)."""
    out = np.empty(flags.shape[0] + 1, dtype=np.int64)
    out[0] = 0
    np.cumsum(flags, out=out[1:])
    return out


def _event_counts(
    time: FloatArray, event: NDArray[np.bool_], codes: NDArray[np.intp], k: int
) -> EventCounts:
    """Step 1 of the module algorithm for one stratum."""
    if on_day_grid(time):
        _, events, rows = count_by_time(time, event, codes, k)
        return _counts_from_matrices(events, rows)
    return _counts_from_sorted_keys(time, event, codes, k)


def _stratum_sums(
    time: FloatArray, event: NDArray[np.bool_], codes: NDArray[np.intp], k: int, rho: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """O, E and V of one stratum (steps 1–4 of the module algorithm)."""
    if not event.any():
        return np.zeros(k), np.zeros(k), np.zeros((k, k))
    return _sums(_event_counts(time, event, codes, k), k, rho)


def _sums(counts: EventCounts, k: int, rho: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """O, E and V from the event counts (steps 2–4).

    Column by column: the groups are few and the distinct times many, so each group's
    counts are one contiguous vector and every sum is a 1-D pass (a reduction along the
    short axis of a ``(times, k)`` matrix is several times slower in numpy).
    """
    d, dk, nk = counts
    if d.shape[0] == 0:
        return np.zeros(k), np.zeros(k), np.zeros((k, k))
    n: FloatArray = nk[0].copy()
    for risk in nk[1:]:
        n += risk
    w = None if rho == 0 else np.concatenate(([1.0], np.cumprod(1.0 - d / n)[:-1])) ** rho
    wd_n = d / n if w is None else w * d / n
    with np.errstate(divide="ignore", invalid="ignore"):
        kt = d * (n - d) / (n * (n - 1.0))
    kt[n <= 1] = 0.0
    if w is not None:
        kt *= w * w
    kt_n = kt / n
    observed = np.array([col.sum() if w is None else w @ col for col in dk])
    expected = np.array([wd_n @ col for col in nk])
    variance = np.empty((k, k))
    for a in range(k):
        weighted = kt_n * nk[a]
        for b in range(a, k):
            variance[a, b] = variance[b, a] = -(weighted @ nk[b])
        variance[a, a] += kt @ nk[a]
    return observed, expected, variance


def _stratified_sums(
    time: FloatArray,
    event: NDArray[np.bool_],
    codes: NDArray[np.intp],
    k: int,
    s_codes: NDArray[np.intp],
    n_strata: int,
    rho: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """O, E and V summed over strata (step 5), in stratum order.

    Whole days: one count table over (day, stratum, group) feeds every stratum (its
    columns), when it is small. Other times: the rows are ordered by stratum once (a
    stable sort keeps each stratum's row order) and each stratum is a slice, instead of
    a boolean mask and three selections per stratum. The per-stratum inputs, and so the
    sums, are the same as from masks.
    """
    o, e, v = np.zeros(k), np.zeros(k), np.zeros((k, k))
    top = float(time.max())
    if on_day_grid(time) and (top + 1.0) * 2 * n_strata * k <= max(8 * time.shape[0], GRID_CELLS):
        _, events, rows = count_by_time(time, event, s_codes * k + codes, n_strata * k)
        for s in range(n_strata):
            cols = slice(s * k, (s + 1) * k)
            os_, es, vs = _sums(_counts_from_matrices(events[:, cols], rows[:, cols]), k, rho)
            o, e, v = o + os_, e + es, v + vs
        return o, e, v
    small = s_codes.astype(np.int16) if n_strata <= np.iinfo(np.int16).max else s_codes
    order = np.argsort(small, kind="stable")
    t_s, ev_s, g_s = time[order], event[order], codes[order]
    bounds = np.zeros(n_strata + 1, dtype=np.intp)
    np.cumsum(np.bincount(s_codes, minlength=n_strata), out=bounds[1:])
    for s in range(n_strata):
        rows_s = slice(int(bounds[s]), int(bounds[s + 1]))
        os_, es, vs = _stratum_sums(t_s[rows_s], ev_s[rows_s], g_s[rows_s], k, rho)
        o, e, v = o + os_, e + es, v + vs
    return o, e, v


def _at_risk(rows: NDArray[np.int64]) -> FloatArray:
    """Rows with follow-up at or after each distinct time: a reversed running sum."""
    out = np.cumsum(rows[::-1], dtype=np.float64)[::-1]
    return np.ascontiguousarray(out)


def _chi2(observed: FloatArray, expected: FloatArray, variance: FloatArray) -> tuple[float, int]:
    """R's statistic: drop groups with E = 0 and then the first group; solve."""
    used = expected > 0
    df = int(used.sum()) - 1
    if used.sum() < 2:
        return 0.0, df
    diff = (observed - expected)[used][1:]
    vv = variance[np.ix_(used, used)][1:, 1:]
    return float(diff @ np.linalg.solve(vv, diff)), df


@single_blas_thread
def logrank_test(
    time: ArrayLike,
    event: ArrayLike,
    group: ArrayLike,
    *,
    strata: ArrayLike | None = None,
    rho: float = 0.0,
) -> LogRankResult:
    """Compare survival between groups with the G-rho family, as R ``survdiff``.

    Args:
        time, event: right-censored data (validated by ``as_survdata``).
        group: group label per row; at least two distinct labels.
        strata: optional stratum label per row (R ``+ strata(s)``): O, E and V are
            computed within strata and summed, giving one chi-square.
        rho: weight exponent, ``w(t) = S(t-)^rho`` with the pooled left-continuous KM
            within stratum; 0 (default) = log-rank, 1 = Peto–Peto.

    Returns:
        LogRankResult with chi2 on ``df`` degrees of freedom and its p-value.
    """
    rho = float(rho)
    if not np.isfinite(rho):
        raise ValueError(f"rho must be a finite number, got {rho!r}")
    data = as_survdata(time, event, group=group, strata=strata)
    labels = data.group if data.group is not None else np.zeros(data.n)
    levels, codes = encode_labels(labels)
    k = levels.shape[0]
    if k < 2:
        raise ValueError("logrank_test needs at least two groups; group has one level")
    ev = data.event.astype(bool)
    if data.strata is None:
        o, e, v = _stratum_sums(data.time, ev, codes, k, rho)
        n_strata = 1
    else:
        s_levels, s_codes = encode_labels(data.strata)
        n_strata = int(s_levels.shape[0])
        o, e, v = _stratified_sums(data.time, ev, codes, k, s_codes, n_strata, rho)
    stat, df = _chi2(o, e, v)
    p = float(chi2_dist.sf(stat, df)) if df > 0 else (1.0 if df == 0 else float("nan"))
    name = "log-rank" if rho == 0 else ("Peto-Peto" if rho == 1 else f"G-rho (rho={rho:g})")
    if data.strata is not None:
        name = f"stratified {name}"
    return LogRankResult(
        groups=tuple(_label(g) for g in levels),
        n=tuple(int(c) for c in np.bincount(codes, minlength=k)),
        observed=o,
        expected=e,
        variance=v,
        chi2=stat,
        df=df,
        p=p,
        rho=rho,
        n_strata=n_strata,
        test=name,
    )
