"""Vectorised arithmetic of the Cox partial likelihood: no validation, no clinical meaning.

The public modules (:mod:`rechallenge.stats.cox`, :mod:`~rechallenge.stats.zph`,
:mod:`~rechallenge.stats.firth`) check their inputs once and call these functions with
clean arrays.

Algorithm for the log partial likelihood, score and information at one ``beta``
(Efron 1977; Therneau & Grambsch 2000, ch. 3; the quantities computed by R
``survival``'s ``coxfit6.c``):

1. Rows sharing (stratum, time) form a *group*; groups are numbered in (stratum, time)
   order once per fit (one sort of the times). The rows themselves are never reordered:
   per-group sums of ``w = exp(eta)`` and ``w x`` are one sparse product that reads the
   covariate matrix sequentially, separately for censored rows and events. Risk-set
   sums are reverse cumulative sums of the group sums within each stratum.
2. Each event group with ``d`` tied events contributes ``d`` terms
   ``r = 0 .. d-1`` with denominator ``S0 - f_r D0``, ``f_r = r / d`` for Efron and
   ``f_r = 0`` for Breslow (``D0`` = sum of ``w`` over the tied events). The terms are
   laid out in flat arrays, a chunk of whole event groups at a time, so there is no
   loop over times and no array of one entry per event.
3. ``sum_r S1_r / S0_r`` is linear in the group sums, so the score is
   ``X' (delta - w (A - B))`` where ``A`` accumulates ``sum_r 1/S0_r`` over the event
   times at or before a row's time, and ``B`` is the Efron share ``sum_r f_r / S0_r`` of
   a row's own event time (events only).
4. The same weights give the first part of the information as one weighted matrix
   product ``X' diag(w (A - B)) X`` (no ``n x p x p`` intermediate; the weights are
   non-negative, so it is computed as ``Y' Y``); the second part,
   ``sum_r S1_r S1_r' / S0_r^2``, is expanded in ``f_r`` and needs only the per-event-time
   means ``S1 / S0`` and ``D1 / S0`` (``m x p`` arrays, ``m`` = number of event times),
   with the ``1 / S0_r^2`` sums scaled by ``S0^2`` so that nothing overflows.
5. Optional per-event-time weights ``h`` give ``sum_t h(t) U_t`` and ``sum_t h(t) I_t``,
   which is what the proportional-hazards score test needs (Grambsch & Therneau 1994).

Memory: a fit must stay below 3x its input (time, event, covariates) at n = 10^6 even
with one covariate (17 bytes a row). Per row the layout keeps only ``split_row`` and
the column pointer (int32 when ``n`` allows) plus Efron's ``r / d`` per event; an
evaluation adds one float vector (``eta``, overwritten by ``w``, then by ``w (A - B)``,
then by the score residual). Everything else is per group or per ``CHUNK_ROWS`` block.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from rechallenge.stats.survdata import sort_keys

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


CHUNK_ROWS = 1 << 16


def _index_dtype(n: int) -> type[np.signedinteger]:
    """int32 row numbers when ``2 n + 1`` fits (half the memory of intp), else intp."""
    return np.int32 if 2 * n + 1 < np.iinfo(np.int32).max else np.intp


@dataclass(frozen=True)
class RiskSetLayout:
    """Tie structure of one data set, computed once per fit (rows stay in input order).

    Attributes:
        split_row: ``group + n_groups * event`` per row (``group`` numbers the
            (stratum, time) groups in that order): the row of the sparse summing matrix.
        column_start: ``0 .. n``, the column pointer of that one-entry-per-row matrix.
        event: event indicator of each row (the caller's int8 array, not copied).
        n_groups: number of (stratum, time) groups.
        strata_groups: ``(first, stop)`` group ranges, one per stratum.
        event_group: indices of the groups that contain at least one event.
        deaths: number of events in each event group.
        pair_start: first ``r`` term of each event group (one term per event, contiguous).
        pair_frac: ``r / d`` of every term for Efron; ``None`` for Breslow (all 0).
        pair_chunks: ``(first, stop)`` event-group ranges of about ``CHUNK_ROWS`` terms,
            so the per-term arrays are only ever built one chunk at a time.
        efron: whether the Efron approximation is used.
        entry_bin: counting-process data ``(start, stop]`` only: per row, its bin in an
            array of ``m + n_strata`` entries, ``e + s`` where ``e`` is the first event
            group (global index) with time ``> start`` in the row's stratum ``s``; the row
            is not at risk at the event groups before ``e``.
        entry_strata: ``(first, stop, s)`` event-group ranges of each stratum.
        case_weight: case weights per row (R ``coxph(weights=)``), or ``None``.
        death_weight: per event group, the mean case weight of its events (``wtave`` of
            ``coxfit6``): each of the group's ``d`` Efron/Breslow terms counts that much.
    """

    split_row: NDArray[np.signedinteger]
    column_start: NDArray[np.signedinteger]
    event: NDArray[np.int8]
    n_groups: int
    strata_groups: tuple[tuple[int, ...], ...]
    event_group: IntArray
    deaths: IntArray
    pair_start: IntArray
    pair_frac: FloatArray | None
    pair_chunks: tuple[tuple[int, int], ...]
    efron: bool
    entry_bin: IntArray | None = None
    entry_strata: tuple[tuple[int, int, int], ...] = ()
    case_weight: FloatArray | None = None
    death_weight: FloatArray | None = None

    @property
    def group(self) -> IntArray:
        """Group index of each row (built on demand: only the PH test needs it)."""
        return self.split_row - self.n_groups * self.event.astype(np.intp)


def build_layout(
    time: FloatArray,
    event: NDArray[np.int8],
    strata: IntArray | None,
    efron: bool,
    start: FloatArray | None = None,
    weights: FloatArray | None = None,
) -> RiskSetLayout:
    """Number the (stratum, time) groups and describe ties; ``strata`` = integer codes.

    With ``start`` (entry times, ``start < time``) the data are ``(start, time]`` intervals
    as R ``Surv(start, stop, event)``: the risk set at ``t`` is every row with
    ``start < t <= time``.
    """
    dtype = _index_dtype(time.shape[0])
    split_row, n_groups, strata_groups = _group_codes(time, strata, dtype)
    np.add(split_row, event.astype(dtype) * dtype(n_groups), out=split_row)
    deaths_all = np.bincount(split_row, minlength=2 * n_groups)[n_groups:]
    event_group = np.flatnonzero(deaths_all)
    deaths = deaths_all[event_group].astype(np.intp)
    pair_start = np.cumsum(deaths) - deaths
    entry_bin: IntArray | None = None
    entry_strata: tuple[tuple[int, int, int], ...] = ()
    if start is not None:
        entry_bin, entry_strata = _entry_bins(
            time, event, strata, start, split_row, n_groups, strata_groups, event_group
        )
    death_weight = None
    if weights is not None:
        total = np.bincount(split_row, weights=weights, minlength=2 * n_groups)[n_groups:]
        death_weight = total[event_group] / deaths
    return RiskSetLayout(
        split_row=split_row,
        column_start=np.arange(time.shape[0] + 1, dtype=dtype),
        event=event,
        n_groups=n_groups,
        strata_groups=strata_groups,
        event_group=event_group,
        deaths=deaths,
        pair_start=pair_start,
        pair_frac=_tie_fractions(deaths, pair_start) if efron else None,
        pair_chunks=_pair_chunks(deaths, pair_start),
        efron=efron,
        entry_bin=entry_bin,
        entry_strata=entry_strata,
        case_weight=weights,
        death_weight=death_weight,
    )


def _entry_bins(
    time: FloatArray,
    event: NDArray[np.int8],
    strata: IntArray | None,
    start: FloatArray,
    split_row: NDArray[np.signedinteger],
    n_groups: int,
    strata_groups: tuple[tuple[int, ...], ...],
    event_group: IntArray,
) -> tuple[IntArray, tuple[tuple[int, int, int], ...]]:
    """Per row, the first event group after its entry time, shifted by its stratum."""
    group = split_row - n_groups * event.astype(split_row.dtype)
    # time of each event group: any row of that group has it
    group_time = np.empty(n_groups)
    group_time[group] = time
    event_time = group_time[event_group]
    bins = np.empty(time.shape[0], dtype=np.intp)
    bounds: list[tuple[int, int, int]] = []
    codes = np.zeros(time.shape[0], dtype=np.intp) if strata is None else strata
    order_codes = np.unique(codes)
    for s, (first, stop) in enumerate(strata_groups):
        a = int(np.searchsorted(event_group, first))
        b = int(np.searchsorted(event_group, stop))
        rows = np.flatnonzero(codes == order_codes[s])
        bins[rows] = a + np.searchsorted(event_time[a:b], start[rows], side="right") + s
        bounds.append((a, b, s))
    return bins, tuple(bounds)


def _late_entry_sums(layout: RiskSetLayout, values: FloatArray) -> FloatArray:
    """Per event group ``e``: the sum of ``values`` over rows of its stratum with
    ``start >= t_e`` (already counted by the stop times, but not at risk at ``t_e``)."""
    assert layout.entry_bin is not None
    m = layout.event_group.shape[0]
    size = m + len(layout.entry_strata)
    if values.ndim == 1:
        binned = np.bincount(layout.entry_bin, weights=values, minlength=size)
    else:
        summing = sparse.csc_array(
            (np.ones(values.shape[0]), layout.entry_bin, np.arange(values.shape[0] + 1)),
            shape=(size, values.shape[0]),
        )
        binned = np.asarray(summing @ values)
    out = np.zeros((m, *values.shape[1:]))
    for a, b, s in layout.entry_strata:
        local = binned[a + s : b + s + 1]
        tail = np.cumsum(local[::-1], axis=0)[::-1]
        out[a:b] = tail[1:]
    return out


def _entry_cumulative(layout: RiskSetLayout, a: FloatArray) -> FloatArray:
    """Per row, ``sum a`` over the event groups of its stratum at or before its entry."""
    assert layout.entry_bin is not None
    m = layout.event_group.shape[0]
    table = np.zeros(m + len(layout.entry_strata))
    for first, stop, s in layout.entry_strata:
        table[first + s + 1 : stop + s + 1] = np.cumsum(a[first:stop])
    return table[layout.entry_bin]


def _group_codes(
    time: FloatArray, strata: IntArray | None, dtype: type[np.signedinteger]
) -> tuple[NDArray[np.signedinteger], int, tuple[tuple[int, ...], ...]]:
    """Group index per row (groups in (stratum, time) order) from one sort of the rows."""
    order = np.argsort(time) if strata is None else _stratum_time_order(time, strata)
    new = _run_starts(time[order])
    stratum_of_group = None
    if strata is not None:
        sorted_strata = strata[order]
        new |= _run_starts(sorted_strata)
        stratum_of_group = sorted_strata[new]
        del sorted_strata
    codes = np.cumsum(new, dtype=dtype)
    del new
    codes -= 1
    group = np.empty_like(codes)
    group[order] = codes
    n_groups = int(codes[-1]) + 1
    if stratum_of_group is None:
        return group, n_groups, ((0, n_groups),)
    starts = np.flatnonzero(np.diff(stratum_of_group, prepend=-1) != 0)
    bounds = np.append(starts, n_groups)
    return group, n_groups, tuple((int(a), int(b)) for a, b in itertools.pairwise(bounds))


FEW_STRATA = 256
"""Up to this many strata, rows are ordered stratum by stratum (see below)."""


def _stratum_time_order(time: FloatArray, strata: IntArray) -> IntArray:
    """Row order by (stratum, time): the order of ``np.lexsort((time, strata))`` up to
    rows tied on both, which get the same group code either way.

    With few strata, a stable counting sort of the stratum codes (numpy's radix sort of
    16-bit integers) and an ``argsort`` of each stratum's times is several times faster
    than the two-key ``lexsort`` of every row.
    """
    n_strata = int(strata.max()) + 1 if strata.shape[0] else 0
    if n_strata > FEW_STRATA or int(strata.min(initial=0)) < 0:
        return np.asarray(np.lexsort((time, strata)), dtype=np.intp)
    order = np.argsort(strata.astype(np.int16), kind="stable")
    bounds = np.zeros(n_strata + 1, dtype=np.intp)
    np.cumsum(np.bincount(strata, minlength=n_strata), out=bounds[1:])
    for a, b in itertools.pairwise(bounds.tolist()):
        block = order[a:b]
        order[a:b] = block[np.argsort(time[block])]
    return order


def _run_starts(values: NDArray[Any]) -> NDArray[np.bool_]:
    """True where a sorted array takes a new value (and at position 0)."""
    new = np.empty(values.shape[0], dtype=bool)
    new[:1] = True
    np.not_equal(values[1:], values[:-1], out=new[1:])
    return new


def _tie_fractions(deaths: IntArray, pair_start: IntArray) -> FloatArray:
    """Efron fraction ``r / d`` of every term ``r = 0 .. d-1`` of every event group."""
    total = int(deaths.sum())
    r = np.arange(total, dtype=np.intp) - np.repeat(pair_start, deaths)
    return r / np.repeat(deaths, deaths).astype(np.float64)


def _pair_chunks(deaths: IntArray, pair_start: IntArray) -> tuple[tuple[int, int], ...]:
    """Event-group ranges holding about ``CHUNK_ROWS`` terms each (cut between groups)."""
    total = int(deaths.sum())
    if total == 0:
        return ()
    targets = np.arange(0, total, CHUNK_ROWS)
    firsts = np.unique(np.searchsorted(pair_start, targets, side="right") - 1)
    bounds = np.append(firsts, deaths.shape[0])
    return tuple((int(a), int(b)) for a, b in itertools.pairwise(bounds))


def _reverse_cumsum(values: FloatArray, layout: RiskSetLayout) -> FloatArray:
    """Sum over the groups at or after each group within its stratum (the risk set)."""
    out = np.empty_like(values)
    for first, stop in layout.strata_groups:
        out[first:stop] = np.cumsum(values[first:stop][::-1], axis=0)[::-1]
    return out


def _forward_cumsum(values: FloatArray, layout: RiskSetLayout) -> FloatArray:
    """Sum over the groups at or before each group within its stratum, in place."""
    for first, stop in layout.strata_groups:
        np.cumsum(values[first:stop], axis=0, out=values[first:stop])
    return values


@dataclass(frozen=True)
class Derivatives:
    """Log partial likelihood, score vector and information matrix at one ``beta``."""

    loglik: float
    score: FloatArray
    information: FloatArray


@dataclass(frozen=True)
class _RiskSums:
    """Risk-set sums at the event times (step 1): ``S0``, ``D0`` and ``S1``, ``D1``."""

    s0: FloatArray
    d0: FloatArray
    s1: FloatArray
    d1: FloatArray


def _risk_sums(layout: RiskSetLayout, x: FloatArray, w: FloatArray) -> _RiskSums:
    """Group sums of ``w`` (and ``w x``), split by event status, then risk-set sums."""
    g = layout.n_groups
    eg = layout.event_group
    both = np.bincount(layout.split_row, weights=w, minlength=2 * g).astype(np.float64)
    summing = sparse.csc_array(
        (w, layout.split_row, layout.column_start), shape=(2 * g, w.shape[0])
    )
    sums = np.asarray(summing @ x)
    s0 = _reverse_cumsum(both[:g] + both[g:], layout)[eg]
    s1 = _reverse_cumsum(sums[:g] + sums[g:], layout)[eg]
    if layout.entry_bin is not None:
        s0 -= _late_entry_sums(layout, w)
        s1 -= _late_entry_sums(layout, w[:, None] * x)
    return _RiskSums(s0=s0, d0=both[g:][eg], s1=s1, d1=sums[g:][eg])


@dataclass(frozen=True)
class _TieSums:
    """Per event time: ``sum_r log S0_r`` and the five sums of step 4 (``c`` = ``1/S0_r``).

    ``a = sum c``, ``b = sum f c`` and, scaled by ``S0^2`` (``S0`` = the whole risk set),
    ``c0 = sum (S0 c)^2``, ``c1 = sum f (S0 c)^2``, ``c2 = sum f^2 (S0 c)^2`` with
    ``f = r / d`` (zero for Breslow). ``S0 c`` lies in ``[1, d]``, so the scaled sums stay
    finite when a diverging fit makes ``S0`` so small that ``1 / S0^2`` overflows (R's
    ``coxfit6`` forms ``(cmat - a a' / S0) / S0`` for the same reason).
    """

    log_denom: float
    coeffs: tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]


def _tie_sums(layout: RiskSetLayout, s0: FloatArray, d0: FloatArray) -> _TieSums:
    """Efron/Breslow denominators (step 2) summed per event time, one chunk at a time."""
    m = layout.event_group.shape[0]
    coeffs = tuple(np.zeros(m) for _ in range(5))
    log_denom = 0.0
    for first, stop in layout.pair_chunks:
        log_denom += _tie_chunk(layout, s0, d0, first, stop, coeffs)
    a, b, c0, c1, c2 = coeffs
    if layout.death_weight is not None:
        a, b, c0, c1, c2 = (v * layout.death_weight for v in coeffs)
    return _TieSums(log_denom=log_denom, coeffs=(a, b, c0, c1, c2))


def _tie_chunk(
    layout: RiskSetLayout,
    s0: FloatArray,
    d0: FloatArray,
    first: int,
    stop: int,
    coeffs: tuple[FloatArray, ...],
) -> float:
    """Fill ``coeffs[first:stop]`` for one chunk of event groups; return its ``sum log``.

    At most two chunk-length arrays are alive at a time (``inv`` and ``tmp``).
    """
    deaths = layout.deaths[first:stop]
    offset = int(layout.pair_start[first])
    starts = layout.pair_start[first:stop] - offset
    a, b, c0, c1, c2 = coeffs
    whole = s0[first:stop]
    inv = np.repeat(whole, deaths)
    term_weight = (
        None if layout.death_weight is None else np.repeat(layout.death_weight[first:stop], deaths)
    )
    if layout.pair_frac is None:
        log_sum = _log_sum(inv, term_weight)
        np.divide(1.0, inv, out=inv)
        a[first:stop] = np.add.reduceat(inv, starts)
        c0[first:stop] = deaths.astype(np.float64)
        return log_sum
    frac = layout.pair_frac[offset : offset + inv.shape[0]]
    tmp = np.repeat(d0[first:stop], deaths)
    tmp *= frac
    inv -= tmp
    log_sum = _log_sum(inv, term_weight)
    np.divide(1.0, inv, out=inv)
    a[first:stop] = np.add.reduceat(inv, starts)
    b[first:stop] = np.add.reduceat(np.multiply(frac, inv, out=tmp), starts)
    inv *= np.repeat(whole, deaths)
    inv *= inv
    c0[first:stop] = np.add.reduceat(inv, starts)
    c1[first:stop] = np.add.reduceat(np.multiply(frac, inv, out=tmp), starts)
    np.multiply(frac, frac, out=tmp)
    tmp *= inv
    c2[first:stop] = np.add.reduceat(tmp, starts)
    return log_sum


def _log_sum(denominators: FloatArray, term_weight: FloatArray | None) -> float:
    """``sum log S0_r``, each term weighted by its group's mean case weight if any."""
    logs = np.log(denominators)
    return float(np.sum(logs) if term_weight is None else logs @ term_weight)


def evaluate(layout: RiskSetLayout, x: FloatArray, beta: FloatArray) -> Derivatives:
    """Derivatives at ``beta``; ``exp(eta)`` overwrites ``eta`` (one n-vector per call)."""
    w = x @ beta
    cw = layout.case_weight
    eta_events = _event_sum(layout.event, w if cw is None else w * cw)
    np.exp(w, out=w)
    if cw is not None:
        w *= cw
    return _derivatives(layout, x, w, eta_events, None)


def derivatives(
    layout: RiskSetLayout,
    x: FloatArray,
    eta: FloatArray,
    w: FloatArray,
    time_weight: FloatArray | None = None,
) -> Derivatives:
    """Loglik, score and information (steps 1-5 of the module docstring).

    ``x`` is the (centred) covariate matrix, ``eta = x beta``, ``w`` = ``exp(eta)`` up to a factor
    (neither is modified); ``time_weight`` (one value per event time) weights each event
    time's score and information contribution (the log-likelihood is not weighted).
    """
    return _derivatives(layout, x, w.copy(), _event_sum(layout.event, eta), time_weight)


def _event_sum(event: NDArray[np.int8], values: FloatArray) -> float:
    """``event @ values`` in row blocks (no float copy of the whole event vector)."""
    total = 0.0
    for start in range(0, values.shape[0], CHUNK_ROWS):
        stop = start + CHUNK_ROWS
        total += float(np.dot(event[start:stop].astype(np.float64), values[start:stop]))
    return total


def _derivatives(
    layout: RiskSetLayout,
    x: FloatArray,
    w: FloatArray,
    eta_events: float,
    time_weight: FloatArray | None,
) -> Derivatives:
    """Steps 1-5 given ``w`` (overwritten with the row weights) and ``sum_events eta``."""
    sums = _risk_sums(layout, x, w)
    ties = _tie_sums(layout, sums.s0, sums.d0)
    a, b, c0, c1, c2 = ties.coeffs
    if time_weight is not None:
        a, b, c0, c1, c2 = (v * time_weight for v in ties.coeffs)
    c = _row_weights(layout, w, a, b)
    info = _weighted_crossprod(x, c, nonnegative=time_weight is None)
    score = _score(layout, x, c, time_weight)
    with np.errstate(divide="ignore", invalid="ignore"):
        s1 = sums.s1 / sums.s0[:, None]
        d1 = sums.d1 / sums.s0[:, None]
    info -= (s1.T * c0) @ s1
    if layout.efron:
        cross = (s1.T * c1) @ d1
        info += cross + cross.T
        info -= (d1.T * c2) @ d1
    loglik = eta_events - ties.log_denom
    return Derivatives(loglik=loglik, score=score, information=0.5 * (info + info.T))


def _row_weights(layout: RiskSetLayout, w: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
    """``c = w (A - B)`` per row (step 3), written over ``w`` block by block.

    ``A - B`` is looked up by ``split_row`` in one table: ``A`` for censored rows,
    ``A - B`` for events (``B`` is zero outside the event groups).
    """
    g = layout.n_groups
    table = np.zeros(2 * g)
    cum_a = table[:g]
    cum_a[layout.event_group] = a
    _forward_cumsum(cum_a, layout)
    table[g:] = cum_a
    table[g + layout.event_group] -= b
    before_entry = None if layout.entry_bin is None else _entry_cumulative(layout, a)
    for start in range(0, w.shape[0], CHUNK_ROWS):
        block = w[start : start + CHUNK_ROWS]
        factor = table[layout.split_row[start : start + CHUNK_ROWS]]
        if before_entry is not None:
            factor -= before_entry[start : start + CHUNK_ROWS]
        block *= factor
    return w


def _score(
    layout: RiskSetLayout, x: FloatArray, c: FloatArray, time_weight: FloatArray | None
) -> FloatArray:
    """``X' (h delta - c)``, with ``h`` the time weight of an event's time; overwrites ``c``."""
    g = layout.n_groups
    table = np.zeros(2 * g)
    table[g + layout.event_group] = 1.0 if time_weight is None else time_weight
    cw = layout.case_weight
    for start in range(0, c.shape[0], CHUNK_ROWS):
        block = c[start : start + CHUNK_ROWS]
        delta = table[layout.split_row[start : start + CHUNK_ROWS]]
        if cw is not None:
            delta = delta * cw[start : start + CHUNK_ROWS]
        np.subtract(delta, block, out=block)
    return np.asarray(x.T @ c)


def _weighted_crossprod(x: FloatArray, c: FloatArray, nonnegative: bool) -> FloatArray:
    """``x' diag(c) x`` in row blocks, so scratch memory stays at ``CHUNK_ROWS x p``.

    With ``c >= 0`` each block is ``y' y`` with ``y = sqrt(c) x`` (a symmetric rank-k
    update, half the work of a general product).
    """
    p = x.shape[1]
    out = np.zeros((p, p))
    scratch = np.empty((min(CHUNK_ROWS, x.shape[0]), p))
    for start in range(0, x.shape[0], CHUNK_ROWS):
        block = x[start : start + CHUNK_ROWS]
        weight = c[start : start + CHUNK_ROWS]
        y = scratch[: block.shape[0]]
        if nonnegative:
            np.multiply(block, np.sqrt(np.maximum(weight, 0.0))[:, None], out=y)
            out += y.T @ y
        else:
            np.multiply(block, weight[:, None], out=y)
            out += block.T @ y
    return out


@dataclass(frozen=True)
class Cholesky:
    """R ``cholesky2`` factorisation ``M = F D F'`` with redundant columns flagged.

    A pivot below ``toler * max(diag)`` (or not finite) marks its column as redundant:
    its ``D`` entry is 0, it is skipped in the elimination, and solves return 0 for it.
    """

    lower: FloatArray
    pivots: FloatArray
    rank: int
    nonneg: bool

    @property
    def redundant(self) -> NDArray[np.bool_]:
        """Columns judged linearly dependent on the earlier ones."""
        return np.asarray(self.pivots == 0.0)


def cholesky2(matrix: FloatArray, toler: float) -> Cholesky:
    """Factor a symmetric matrix as R's ``cholesky2`` does (Therneau, ``cholesky2.c``)."""
    work = np.array(matrix, dtype=np.float64, copy=True)
    p = work.shape[0]
    diag = np.diag(work)
    finite_diag = diag[np.isfinite(diag)]
    largest = float(finite_diag.max()) if finite_diag.size else 0.0
    eps = toler if largest <= 0 else largest * toler
    lower = np.eye(p)
    pivots = np.zeros(p)
    nonneg = True
    rank = 0
    for i in range(p):
        pivot = work[i, i]
        if not np.isfinite(pivot) or pivot < eps:
            if pivot < -8 * eps:
                nonneg = False
            continue
        rank += 1
        pivots[i] = pivot
        col = work[i + 1 :, i] / pivot
        lower[i + 1 :, i] = col
        work[i + 1 :, i + 1 :] -= np.outer(col, col) * pivot
    return Cholesky(lower=lower, pivots=pivots, rank=rank, nonneg=nonneg)


def chsolve(chol: Cholesky, y: FloatArray) -> FloatArray:
    """Solve ``M z = y`` from :func:`cholesky2`; redundant columns get ``z = 0`` (``chsolve2``)."""
    p = y.shape[0]
    b = np.array(y, dtype=np.float64, copy=True)
    for i in range(p):
        b[i] -= chol.lower[i, :i] @ b[:i]
    z = np.zeros(p)
    for i in range(p - 1, -1, -1):
        if chol.pivots[i] == 0.0:
            continue
        z[i] = b[i] / chol.pivots[i] - chol.lower[i + 1 :, i] @ z[i + 1 :]
    return z


def chinv(matrix: FloatArray, chol: Cholesky) -> FloatArray:
    """Generalised inverse as R's ``chinv2``: redundant rows and columns are 0."""
    keep = ~chol.redundant
    out = np.zeros_like(matrix)
    if keep.any():
        sub = matrix[np.ix_(keep, keep)]
        out[np.ix_(keep, keep)] = np.linalg.inv(sub)
    return 0.5 * (out + out.T)


@dataclass(frozen=True)
class PairCounts:
    """Harrell's pair counts and, per row, the pairs each row takes part in.

    ``per_row`` has shape ``(n, 3)``: concordant, discordant and tied-on-predictor pairs
    involving the row (as the earlier event or as the later comparator), in input order.
    """

    concordant: float
    discordant: float
    tied_x: float
    per_row: FloatArray


def concordance_pairs(
    time: FloatArray, event: NDArray[np.int8], score: FloatArray, strata: IntArray | None
) -> PairCounts:
    """Count comparable pairs as R ``concordancefit(..., reverse = TRUE)`` does.

    A pair is comparable when the earlier time is an event; an event and a censored
    time that are equal count (the censored row was still at risk); two events at the
    same time do not (tied on time). The pair is concordant when the earlier event has
    the higher ``score``.

    Steps (per stratum, counts then pooled):

    1. Order rows by (time, events first, score descending); give each score a dense
       integer rank.
    2. Bottom-up merge counting: at level ``L`` every block of ``2^L`` rows is compared
       with its right sibling. After a stable sort by (pair of blocks, rank), cumulative
       counts give, for each right-block row, the left-block events with a lower, equal
       or higher rank, and for each left-block event the same counts of right-block rows.
       Every ordered pair is met exactly once, in ``ceil(log2 n)`` vectorised passes.
    3. Pairs of events tied on time were counted in step 2 (ordered by descending
       score, hence as concordant or tied) and are removed by counting within each tie.
    """
    n = time.shape[0]
    per_row = np.zeros((n, 3))
    codes = np.zeros(n, dtype=np.intp) if strata is None else strata
    for code in np.unique(codes):
        rows = np.flatnonzero(codes == code) if strata is not None else np.arange(n)
        per_row[rows] = _stratum_pairs(time[rows], event[rows], score[rows])
    totals = per_row.sum(axis=0) / 2.0
    return PairCounts(
        concordant=float(totals[0]),
        discordant=float(totals[1]),
        tied_x=float(totals[2]),
        per_row=per_row,
    )


def _stratum_pairs(time: FloatArray, event: NDArray[np.int8], score: FloatArray) -> FloatArray:
    """Per-row (concordant, discordant, tied) pair counts within one stratum."""
    n = time.shape[0]
    ev = event.astype(bool)
    uniq, rank = np.unique(score, return_inverse=True)
    n_rank = int(uniq.shape[0])
    if n_rank <= FEW_SCORES:
        # (time, events first, score descending) from two stable sorts: the ranks
        # (a radix sort of small integers), then the one-key time-and-event codes
        by_score = np.argsort((n_rank - 1 - rank).astype(np.int16), kind="stable")
        key = sort_keys(time, event)[by_score]
        order = by_score[np.argsort(key, kind="stable")]
    else:
        order = np.lexsort((-score, ~ev, time))
    rank = rank.astype(np.int64)[order]
    ev_s = ev[order]
    if n_rank <= FEW_SCORES:
        counts = _few_score_pairs(rank, ev_s, n_rank)
    else:
        counts = np.zeros((n, 3))
        pos = np.arange(n, dtype=np.int64)
        level = 0
        while (1 << level) < n:
            _merge_level(pos, rank, ev_s, n_rank, level, counts)
            level += 1
    _remove_tied_events(time[order], ev_s, rank, counts)
    out = np.empty_like(counts)
    out[order] = counts
    return out


FEW_SCORES = 32
"""Up to this many distinct scores (a categorical or binary predictor), pairs are
counted score by score in ``O(n * scores)`` instead of by the ``O(n log n)`` merge."""


def _few_score_pairs(rank: NDArray[np.int64], ev: NDArray[np.bool_], n_rank: int) -> FloatArray:
    """Per-row (concordant, discordant, tied) counts of step 2 when scores are few.

    Rows are in step-1 order; every pair ``i < j`` whose earlier row ``i`` is an event
    is counted for both rows, as the merge does. For each score rank ``r`` in turn, the
    running totals hold, for every row, the earlier events and the later rows of rank
    ``< r``; a row of rank ``r`` reads them before (``< r``) and after (``<= r``) adding
    rank ``r``. The counts are integers, so they equal the merge's exactly.
    """
    n = rank.shape[0]
    ev_lt = np.zeros(n, dtype=np.int64)  # earlier events with a lower rank
    ev_le = np.zeros(n, dtype=np.int64)  # ... with a lower or equal rank
    after_lt = np.zeros(n, dtype=np.int64)  # later rows with a lower rank
    after_le = np.zeros(n, dtype=np.int64)
    run_ev = np.zeros(n, dtype=np.int64)
    run_after = np.zeros(n, dtype=np.int64)
    for r in range(n_rank):
        is_r = rank == r
        before = np.cumsum(is_r & ev, dtype=np.int64)
        before -= is_r & ev  # exclusive: events of rank r strictly before each row
        later = np.cumsum(is_r, dtype=np.int64)
        np.subtract(later[-1], later, out=later)  # rows of rank r strictly after
        ev_lt[is_r] = run_ev[is_r]
        after_lt[is_r] = run_after[is_r]
        run_ev += before
        run_after += later
        ev_le[is_r] = run_ev[is_r]
        after_le[is_r] = run_after[is_r]
    events_before = np.cumsum(ev, dtype=np.int64)
    events_before -= ev
    n_later = np.arange(n - 1, -1, -1, dtype=np.int64)
    counts = np.empty((n, 3))
    # as the later row: earlier events of higher / lower / equal rank
    counts[:, 0] = events_before - ev_le
    counts[:, 1] = ev_lt
    counts[:, 2] = ev_le - ev_lt
    # as the earlier event: later rows of lower / higher / equal rank
    counts[ev, 0] += after_lt[ev]
    counts[ev, 1] += (n_later - after_le)[ev]
    counts[ev, 2] += (after_le - after_lt)[ev]
    return counts


def _merge_level(
    pos: NDArray[np.int64],
    rank: NDArray[np.int64],
    ev: NDArray[np.bool_],
    n_rank: int,
    level: int,
    counts: FloatArray,
) -> None:
    """Add the pairs split at block size ``2^level`` to ``counts`` (step 2)."""
    pair = pos >> (level + 1)
    right = ((pos >> level) & 1).astype(bool)
    key = pair * n_rank + rank
    perm = np.argsort(key, kind="stable")
    k = key[perm]
    is_right = right[perm]
    is_left_event = ~is_right & ev[perm]
    n = k.shape[0]
    run_start = np.empty(n, dtype=bool)
    run_start[0] = True
    np.not_equal(k[1:], k[:-1], out=run_start[1:])
    run_id = np.cumsum(run_start) - 1
    starts = np.flatnonzero(run_start)
    ends = np.append(starts[1:], n)
    p = pair[perm]
    pair_start = np.empty(n, dtype=bool)
    pair_start[0] = True
    np.not_equal(p[1:], p[:-1], out=pair_start[1:])
    pair_id = np.cumsum(pair_start) - 1
    pstarts = np.flatnonzero(pair_start)
    pends = np.append(pstarts[1:], n)
    for source, target_mask, sign in ((is_left_event, is_right, 1), (is_right, is_left_event, -1)):
        cum = np.concatenate(([0], np.cumsum(source)))
        before_run = cum[starts][run_id]
        through_run = cum[ends][run_id]
        before_pair = cum[pstarts][pair_id]
        end_pair = cum[pends][pair_id]
        lower = before_run - before_pair
        equal = through_run - before_run
        higher = end_pair - through_run
        sel = perm[target_mask]
        # for a right row, left events with higher rank are concordant (sign = 1);
        # for a left event, right rows with lower rank are concordant (sign = -1)
        conc, disc = (higher, lower) if sign == 1 else (lower, higher)
        counts[sel, 0] += conc[target_mask]
        counts[sel, 1] += disc[target_mask]
        counts[sel, 2] += equal[target_mask]


def _remove_tied_events(
    time: FloatArray, ev: NDArray[np.bool_], rank: NDArray[np.int64], counts: FloatArray
) -> None:
    """Subtract pairs of events sharing a time (step 3); rows are in step-1 order."""
    idx = np.flatnonzero(ev)
    if idx.size < 2:
        return
    t = time[idx]
    r = rank[idx]
    new_t = np.empty(idx.size, dtype=bool)
    new_t[0] = True
    np.not_equal(t[1:], t[:-1], out=new_t[1:])
    tgroup = np.cumsum(new_t) - 1
    new_tr = new_t.copy()
    new_tr[1:] |= r[1:] != r[:-1]
    trgroup = np.cumsum(new_tr) - 1
    size_t = np.bincount(tgroup)[tgroup]
    size_tr = np.bincount(trgroup)[trgroup]
    counts[idx, 0] -= size_t - size_tr
    counts[idx, 2] -= size_tr - 1


def score_residuals(layout: RiskSetLayout, x: FloatArray, beta: FloatArray) -> FloatArray:
    """Per-row score residuals at ``beta`` (see :func:`residual_parts`)."""
    return residual_parts(layout, x, beta)[0]


def residual_parts(
    layout: RiskSetLayout, x: FloatArray, beta: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per-row score residuals at ``beta`` (R ``residuals.coxph(type = "score")``, unweighted).

    For row ``i`` with risk ``e_i = exp(x_i' beta)``, over the event groups ``g`` whose
    time lies in its risk interval and each term ``r`` of ``g`` (mean case weight ``v_g``,
    ``m_r = S1_r / S0_r``, Efron's ``f_r``):
    ``delta_i (x_i - mean_r m_r) - e_i sum_g sum_r v_g (1 - f_r [i dies in g]) (x_i - m_r) / S0_r``.
    Written as ``x_i (A_i - B_i)`` minus its ``m``-weighted twin, with the same lookups
    as the score (cumulative sums over event groups).

    Returns the score residuals, the martingale residuals ``delta_i - e_i (A_i - B_i)``
    (R ``type = "martingale"``) and, per row, the Efron mean ``mean_r m_r`` of its own
    event time (events only, else 0; the Schoenfeld residual is ``x_i`` minus it).
    """
    eta = x @ beta
    e = np.exp(eta)
    cw = layout.case_weight
    sums = _risk_sums(layout, x, e if cw is None else e * cw)
    deaths = layout.deaths
    frac = np.zeros(int(deaths.sum())) if layout.pair_frac is None else layout.pair_frac
    grp = np.repeat(np.arange(deaths.shape[0]), deaths)
    s0_r = sums.s0[grp] - frac * sums.d0[grp]
    m_r = (sums.s1[grp] - frac[:, None] * sums.d1[grp]) / s0_r[:, None]
    v = np.ones(deaths.shape[0]) if layout.death_weight is None else layout.death_weight
    inv = v[grp] / s0_r
    starts = layout.pair_start
    a = np.add.reduceat(inv, starts)
    b = np.add.reduceat(frac * inv, starts)
    ma = np.add.reduceat(m_r * inv[:, None], starts, axis=0)
    mb = np.add.reduceat(m_r * (frac * inv)[:, None], starts, axis=0)
    md = np.add.reduceat(m_r, starts, axis=0) / deaths[:, None]
    g = layout.n_groups
    p = x.shape[1]
    table = np.zeros((2 * g, p + 1))
    cum = table[:g]
    cum[layout.event_group, 0] = a
    cum[layout.event_group, 1:] = ma
    _forward_cumsum(cum, layout)
    table[g:] = cum
    table[g + layout.event_group, 0] -= b
    table[g + layout.event_group, 1:] -= mb
    per_row = table[layout.split_row]
    if layout.entry_bin is not None:
        per_row[:, 0] -= _entry_cumulative(layout, a)
        for j in range(p):
            per_row[:, 1 + j] -= _entry_cumulative(layout, ma[:, j])
    resid = -e[:, None] * (x * per_row[:, :1] - per_row[:, 1:])
    dead = layout.event.astype(bool)
    own = np.zeros((2 * g, p))
    own[g + layout.event_group] = md
    own_mean = np.zeros_like(x)
    own_mean[dead] = own[layout.split_row[dead]]
    resid[dead] += x[dead] - own_mean[dead]
    martingale = layout.event.astype(np.float64) - e * per_row[:, 0]
    return resid, martingale, own_mean
