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
   ``f_r = 0`` for Breslow (``D0`` = sum of ``w`` over the tied events). All such terms
   are laid out in one flat array, so there is no loop over times.
3. ``sum_r S1_r / S0_r`` is linear in the group sums, so the score is
   ``X' (delta - w (A - B))`` where ``A`` accumulates ``sum_r 1/S0_r`` over the event
   times at or before a row's time, and ``B`` is the Efron share ``sum_r f_r / S0_r`` of
   a row's own event time (events only).
4. The same weights give the first part of the information as one weighted matrix
   product ``X' diag(w (A - B)) X`` (no ``n x p x p`` intermediate; the weights are
   non-negative, so it is computed as ``Y' Y``); the second part,
   ``sum_r S1_r S1_r' / S0_r^2``, is expanded in ``f_r`` and needs only the per-event-time
   sums ``S1`` and ``D1`` (``m x p`` arrays, ``m`` = number of event times).
5. Optional per-event-time weights ``h`` give ``sum_t h(t) U_t`` and ``sum_t h(t) I_t``,
   which is what the proportional-hazards score test needs (Grambsch & Therneau 1994).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


@dataclass(frozen=True)
class RiskSetLayout:
    """Tie structure of one data set, computed once per fit (rows stay in input order).

    Attributes:
        group: group index of each row; groups are in (stratum, time) order.
        event: event indicator of each row, as float64.
        split_row: ``group + n_groups * event``: the row of the sparse summing matrix.
        column_start: ``0 .. n``, the column pointer of that one-entry-per-row matrix.
        n_groups: number of (stratum, time) groups.
        strata_groups: ``(first, stop)`` group ranges, one per stratum.
        event_group: indices of the groups that contain at least one event.
        pair_group: for every event (``r`` term), its position in ``event_group``.
        pair_start: first ``r`` term of each event group (the terms are contiguous).
        pair_frac: ``r / d`` for Efron, 0 for Breslow.
        efron: whether the Efron approximation is used.
    """

    group: IntArray
    event: FloatArray
    split_row: IntArray
    column_start: IntArray
    n_groups: int
    strata_groups: tuple[tuple[int, ...], ...]
    event_group: IntArray
    pair_group: IntArray
    pair_start: IntArray
    pair_frac: FloatArray
    efron: bool


def build_layout(
    time: FloatArray, event: NDArray[np.int8], strata: IntArray | None, efron: bool
) -> RiskSetLayout:
    """Number the (stratum, time) groups and describe ties; ``strata`` = integer codes."""
    utime, tcode = np.unique(time, return_inverse=True)
    if strata is None:
        group = tcode.astype(np.intp, copy=False)
        n_groups = int(utime.shape[0])
        strata_groups: tuple[tuple[int, ...], ...] = ((0, n_groups),)
    else:
        key = strata.astype(np.int64) * utime.shape[0] + tcode
        ukey, inverse = np.unique(key, return_inverse=True)
        group = inverse.astype(np.intp, copy=False)
        n_groups = int(ukey.shape[0])
        stratum_of_group = ukey // utime.shape[0]
        starts = np.flatnonzero(np.diff(stratum_of_group, prepend=-1) != 0)
        bounds = np.append(starts, n_groups)
        strata_groups = tuple((int(a), int(b)) for a, b in itertools.pairwise(bounds))
    ev = event.astype(np.float64)
    deaths_all = np.bincount(group, weights=ev, minlength=n_groups)
    event_group = np.flatnonzero(deaths_all > 0)
    deaths = deaths_all[event_group].astype(np.intp)
    pair_group, pair_frac = _tie_terms(deaths, efron)
    return RiskSetLayout(
        group=group,
        event=ev,
        split_row=group + n_groups * event.astype(np.intp),
        column_start=np.arange(group.shape[0] + 1, dtype=np.intp),
        n_groups=n_groups,
        strata_groups=strata_groups,
        event_group=event_group,
        pair_group=pair_group,
        pair_start=np.cumsum(deaths) - deaths,
        pair_frac=pair_frac,
        efron=efron,
    )


def _tie_terms(deaths: IntArray, efron: bool) -> tuple[IntArray, FloatArray]:
    """One entry per event: its event-time index and its Efron fraction ``r / d``."""
    pair_group = np.repeat(np.arange(deaths.shape[0], dtype=np.intp), deaths)
    if not efron:
        return pair_group, np.zeros(pair_group.shape[0])
    first = np.cumsum(deaths) - deaths
    r = np.arange(pair_group.shape[0], dtype=np.intp) - np.repeat(first, deaths)
    return pair_group, r / np.repeat(deaths, deaths).astype(np.float64)


def _reverse_cumsum(values: FloatArray, layout: RiskSetLayout) -> FloatArray:
    """Sum over the groups at or after each group within its stratum (the risk set)."""
    out = np.empty_like(values)
    for first, stop in layout.strata_groups:
        out[first:stop] = np.cumsum(values[first:stop][::-1], axis=0)[::-1]
    return out


def _forward_cumsum(values: FloatArray, layout: RiskSetLayout) -> FloatArray:
    """Sum over the groups at or before each group within its stratum."""
    out = np.empty_like(values)
    for first, stop in layout.strata_groups:
        out[first:stop] = np.cumsum(values[first:stop], axis=0)
    return out


@dataclass(frozen=True)
class Derivatives:
    """Log partial likelihood, score vector and information matrix at one ``beta``."""

    loglik: float
    score: FloatArray
    information: FloatArray


def risk_weights(x: FloatArray, beta: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Linear predictor ``eta = x beta`` and relative risks ``exp(eta)``."""
    eta = x @ beta
    return eta, np.exp(eta)


@dataclass(frozen=True)
class _RiskSums:
    """Risk-set sums at the event times (step 1) and the Efron denominators (step 2)."""

    s1: FloatArray
    d1: FloatArray
    denom: FloatArray


def _risk_sums(layout: RiskSetLayout, x: FloatArray, w: FloatArray) -> _RiskSums:
    """Group sums of ``w`` (and ``w x``), split by event status, then risk-set sums."""
    g = layout.n_groups
    eg = layout.event_group
    both = np.bincount(layout.split_row, weights=w, minlength=2 * g).astype(np.float64)
    s0 = _reverse_cumsum(both[:g] + both[g:], layout)[eg]
    denom = s0[layout.pair_group]
    if layout.efron:
        denom = denom - layout.pair_frac * both[g:][eg][layout.pair_group]
    summing = sparse.csc_array(
        (w, layout.split_row, layout.column_start), shape=(2 * g, w.shape[0])
    )
    sums = np.asarray(summing @ x)
    s1 = _reverse_cumsum(sums[:g] + sums[g:], layout)[eg]
    return _RiskSums(s1=s1, d1=sums[g:][eg], denom=denom)


def derivatives(
    layout: RiskSetLayout,
    x: FloatArray,
    eta: FloatArray,
    w: FloatArray,
    time_weight: FloatArray | None = None,
) -> Derivatives:
    """Loglik, score and information (steps 1-5 of the module docstring).

    ``x`` is the (centred) covariate matrix, ``eta``/``w`` from :func:`risk_weights`;
    ``time_weight`` (one value per event time) weights each event time's score and
    information contribution (the log-likelihood is not weighted).
    """
    sums = _risk_sums(layout, x, w)
    frac, starts = layout.pair_frac, layout.pair_start
    loglik = float(layout.event @ eta - np.sum(np.log(sums.denom)))
    inv = 1.0 / sums.denom
    inv2 = inv * inv
    coeffs = [
        np.add.reduceat(v, starts) for v in (inv, frac * inv, inv2, frac * inv2, frac**2 * inv2)
    ]
    event_row = layout.event
    if time_weight is not None:
        coeffs = [v * time_weight for v in coeffs]
        h_full = np.zeros(layout.n_groups)
        h_full[layout.event_group] = time_weight
        event_row = event_row * h_full[layout.group]
    a, b, c0, c1, c2 = coeffs
    a_full = np.zeros(layout.n_groups)
    a_full[layout.event_group] = a
    b_full = np.zeros(layout.n_groups)
    b_full[layout.event_group] = b
    cum_a = _forward_cumsum(a_full, layout)
    c = w * (cum_a[layout.group] - b_full[layout.group] * layout.event)
    score = x.T @ (event_row - c)
    info = _weighted_crossprod(x, c, nonnegative=time_weight is None)
    s1, d1 = sums.s1, sums.d1
    info -= (s1.T * c0) @ s1
    if layout.efron:
        cross = (s1.T * c1) @ d1
        info += cross + cross.T
        info -= (d1.T * c2) @ d1
    return Derivatives(loglik=loglik, score=score, information=0.5 * (info + info.T))


CHUNK_ROWS = 1 << 16


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
    order = np.lexsort((-score, ~ev, time))
    uniq, rank = np.unique(score[order], return_inverse=True)
    rank = rank.astype(np.int64)
    ev_s = ev[order]
    counts = np.zeros((n, 3))
    pos = np.arange(n, dtype=np.int64)
    n_rank = int(uniq.shape[0])
    level = 0
    while (1 << level) < n:
        _merge_level(pos, rank, ev_s, n_rank, level, counts)
        level += 1
    _remove_tied_events(time[order], ev_s, rank, counts)
    out = np.empty_like(counts)
    out[order] = counts
    return out


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
