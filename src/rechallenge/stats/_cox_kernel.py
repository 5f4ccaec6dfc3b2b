"""Vectorised arithmetic of the Cox partial likelihood: no validation, no clinical meaning.

The public modules (:mod:`rechallenge.stats.cox`, :mod:`~rechallenge.stats.zph`,
:mod:`~rechallenge.stats.firth`) check their inputs once and call these functions with
clean, sorted arrays.

Algorithm for the log partial likelihood, score and information at one ``beta``
(Efron 1977; Therneau & Grambsch 2000, ch. 3; the quantities computed by R
``survival``'s ``coxfit6.c``):

1. Rows are sorted once by (stratum, time); rows sharing both form a *group*.
   Risk-set sums are reverse cumulative sums of the per-group sums of ``w = exp(eta)``
   and ``w x`` within each stratum (``np.add.reduceat`` then ``cumsum``).
2. Each event group with ``d`` tied events contributes ``d`` terms
   ``r = 0 .. d-1`` with denominator ``S0 - f_r D0``, ``f_r = r / d`` for Efron and
   ``f_r = 0`` for Breslow (``D0`` = sum of ``w`` over the tied events). All such terms
   are laid out in one flat array, so there is no loop over times.
3. ``sum_r S1_r / S0_r`` is linear in the group sums, so the score is
   ``X' (delta - w (A - B))`` where ``A`` accumulates ``sum_r 1/S0_r`` over the event
   times at or before a row's time, and ``B`` is the Efron share ``sum_r f_r / S0_r`` of
   a row's own event time (events only).
4. The same weights give the first part of the information as one weighted matrix
   product ``X' diag(w (A - B)) X`` (no ``n x p x p`` intermediate); the second part,
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

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


@dataclass(frozen=True)
class RiskSetLayout:
    """Sort order and tie structure of one data set, computed once per fit.

    Attributes:
        order: original row index of each sorted row.
        event: event indicator of the sorted rows, as float64.
        group_start: first sorted row of each (stratum, time) group.
        group_of_row: group index of each sorted row.
        strata_groups: ``(first, stop)`` group ranges, one per stratum.
        event_group: indices of the groups that contain at least one event.
        deaths: number of events in each event group.
        pair_group: for every event (``r`` term), its position in ``event_group``.
        pair_frac: ``r / d`` for Efron, 0 for Breslow.
        efron: whether the Efron approximation is used.
    """

    order: IntArray
    event: FloatArray
    group_start: IntArray
    group_of_row: IntArray
    strata_groups: tuple[tuple[int, int], ...]
    event_group: IntArray
    deaths: FloatArray
    pair_group: IntArray
    pair_frac: FloatArray
    efron: bool

    @property
    def n_groups(self) -> int:
        """Number of (stratum, time) groups."""
        return int(self.group_start.shape[0])


def build_layout(
    time: FloatArray, event: NDArray[np.int8], strata: IntArray | None, efron: bool
) -> RiskSetLayout:
    """Sort by (stratum, time) and describe ties; ``strata`` holds integer codes or ``None``."""
    n = time.shape[0]
    if strata is None:
        order = np.argsort(time, kind="stable")
        new_group = np.empty(n, dtype=bool)
        new_group[0] = True
        t_sorted = time[order]
        np.not_equal(t_sorted[1:], t_sorted[:-1], out=new_group[1:])
        strata_start_rows = np.array([0], dtype=np.intp)
    else:
        order = np.lexsort((time, strata))
        t_sorted = time[order]
        s_sorted = strata[order]
        new_group = np.empty(n, dtype=bool)
        new_group[0] = True
        new_stratum = np.empty(n, dtype=bool)
        new_stratum[0] = True
        np.not_equal(s_sorted[1:], s_sorted[:-1], out=new_stratum[1:])
        np.not_equal(t_sorted[1:], t_sorted[:-1], out=new_group[1:])
        new_group |= new_stratum
        strata_start_rows = np.flatnonzero(new_stratum)
    group_start = np.flatnonzero(new_group)
    group_of_row = np.cumsum(new_group, dtype=np.intp) - 1
    ev = event[order].astype(np.float64)
    deaths_all = np.add.reduceat(ev, group_start)
    event_group = np.flatnonzero(deaths_all > 0)
    deaths = deaths_all[event_group]
    strata_first_group = group_of_row[strata_start_rows]
    bounds = np.append(strata_first_group, group_start.shape[0])
    strata_groups = tuple((int(a), int(b)) for a, b in itertools.pairwise(bounds))
    pair_group, pair_frac = _tie_terms(deaths.astype(np.intp), efron)
    return RiskSetLayout(
        order=order,
        event=ev,
        group_start=group_start,
        group_of_row=group_of_row,
        strata_groups=strata_groups,
        event_group=event_group,
        deaths=deaths,
        pair_group=pair_group,
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
    """Sum over the rows at or after each group within its stratum (the risk set)."""
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
    """Linear predictor ``eta = x beta`` and relative risks ``exp(eta)`` of the sorted rows."""
    eta = x @ beta
    return eta, np.exp(eta)


def derivatives(
    layout: RiskSetLayout,
    x: FloatArray,
    eta: FloatArray,
    w: FloatArray,
    time_weight: FloatArray | None = None,
    buffer: FloatArray | None = None,
) -> Derivatives:
    """Loglik, score and information (steps 1-5 of the module docstring).

    ``x`` is the sorted (and centred) covariate matrix, ``eta``/``w`` from
    :func:`risk_weights`; ``time_weight`` (one value per event time) weights each event
    time's score and information contribution (the log-likelihood is not weighted);
    ``buffer`` is optional scratch space of the shape of ``x``.
    """
    gs = layout.group_start
    wx = np.multiply(x, w[:, None], out=buffer)
    s0 = _reverse_cumsum(np.add.reduceat(w, gs), layout)[layout.event_group]
    s1 = _reverse_cumsum(np.add.reduceat(wx, gs, axis=0), layout)[layout.event_group]
    pg, frac = layout.pair_group, layout.pair_frac
    if layout.efron:
        d0 = np.add.reduceat(w * layout.event, gs)[layout.event_group]
        wx *= layout.event[:, None]
        d1 = np.add.reduceat(wx, gs, axis=0)[layout.event_group]
        denom = s0[pg] - frac * d0[pg]
    else:
        d1 = np.zeros_like(s1)
        denom = s0[pg]
    loglik = float(layout.event @ eta - np.sum(np.log(denom)))
    m = layout.event_group.shape[0]
    inv = 1.0 / denom
    a = _sum_by(pg, inv, m)
    b = _sum_by(pg, frac * inv, m)
    inv2 = inv * inv
    c0 = _sum_by(pg, inv2, m)
    c1 = _sum_by(pg, frac * inv2, m)
    c2 = _sum_by(pg, frac * frac * inv2, m)
    event_row = layout.event
    if time_weight is not None:
        a, b, c0, c1, c2 = (v * time_weight for v in (a, b, c0, c1, c2))
        h_full = np.zeros(layout.n_groups)
        h_full[layout.event_group] = time_weight
        event_row = event_row * h_full[layout.group_of_row]
    a_full = np.zeros(layout.n_groups)
    a_full[layout.event_group] = a
    b_full = np.zeros(layout.n_groups)
    b_full[layout.event_group] = b
    cum_a = _forward_cumsum(a_full, layout)
    c = w * (cum_a[layout.group_of_row] - b_full[layout.group_of_row] * layout.event)
    score = x.T @ (event_row - c)
    wx = np.multiply(x, c[:, None], out=wx)
    info = x.T @ wx
    info -= (s1.T * c0) @ s1
    if layout.efron:
        cross = (s1.T * c1) @ d1
        info += cross + cross.T
        info -= (d1.T * c2) @ d1
    return Derivatives(loglik=loglik, score=score, information=0.5 * (info + info.T))


def _sum_by(index: IntArray, values: FloatArray, m: int) -> FloatArray:
    """Sum ``values`` within each of ``m`` bins (``np.bincount`` with weights)."""
    return np.bincount(index, values, minlength=m).astype(np.float64, copy=False)


def loglik_only(layout: RiskSetLayout, eta: FloatArray, w: FloatArray) -> float:
    """Log partial likelihood alone (used by profile-likelihood searches)."""
    gs = layout.group_start
    s0 = _reverse_cumsum(np.add.reduceat(w, gs), layout)[layout.event_group]
    denom = s0[layout.pair_group]
    if layout.efron:
        d0 = np.add.reduceat(w * layout.event, gs)[layout.event_group]
        denom = denom - layout.pair_frac * d0[layout.pair_group]
    return float(layout.event @ eta - np.sum(np.log(denom)))


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
