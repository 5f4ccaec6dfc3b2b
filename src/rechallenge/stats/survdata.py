"""One validated (time, event) container shared by Kaplan–Meier, log-rank and Cox.

Public API:

- :class:`SurvData` — immutable right-censored survival data (read-only arrays).
- :func:`as_survdata` — validate raw arrays once and build a :class:`SurvData`.
- :func:`drop_missing` — remove rows with a missing value in any supplied column
  and count them, as R's default ``na.action = na.omit`` does, then validate.

Every statistic in :mod:`rechallenge.stats` validates through :func:`as_survdata`
at its public entry point and trusts the container inside.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "DroppedMissing",
    "SurvData",
    "as_survdata",
    "count_by_time",
    "drop_missing",
    "encode_labels",
    "grouped_sorted_keys",
    "on_day_grid",
    "sort_keys",
    "tabulate_sorted",
]


def _readonly(a: NDArray[Any]) -> NDArray[Any]:
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class SurvData:
    """Right-censored survival data, checked once.

    Attributes:
        time: follow-up times, float64, finite and ``>= 0``.
        event: event indicator, int8, 1 = event, 0 = censored.
        group: optional group labels (one per row, no missing values).
        strata: optional stratum labels (one per row, no missing values).

    The arrays are read-only, so the container can be shared safely.
    """

    time: NDArray[np.float64]
    event: NDArray[np.int8]
    group: NDArray[Any] | None = None
    strata: NDArray[Any] | None = None

    @property
    def n(self) -> int:
        """Number of observations."""
        return int(self.time.shape[0])

    @property
    def n_events(self) -> int:
        """Number of events."""
        return int(np.count_nonzero(self.event))

    def subset(self, mask: NDArray[np.bool_]) -> SurvData:
        """Rows where ``mask`` is true, as a new container (no re-validation needed)."""
        return SurvData(
            time=_readonly(self.time[mask]),
            event=_readonly(self.event[mask]),
            group=None if self.group is None else _readonly(self.group[mask]),
            strata=None if self.strata is None else _readonly(self.strata[mask]),
        )


@dataclass(frozen=True)
class DroppedMissing:
    """Result of :func:`drop_missing`: the complete rows and what was removed.

    Attributes:
        data: the validated complete-case data.
        n_dropped: number of rows removed because a value was missing.
        dropped_rows: 0-based positions of the removed rows in the input
            (R keeps the same information in the ``na.action`` attribute).
    """

    data: SurvData
    n_dropped: int
    dropped_rows: tuple[int, ...]


def _as_1d(name: str, values: ArrayLike) -> NDArray[Any]:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got an array of shape {arr.shape}")
    return arr


def _check_time(time: NDArray[Any]) -> NDArray[np.float64]:
    if time.dtype == np.bool_ or not (np.issubdtype(time.dtype, np.number) or time.dtype == object):
        raise ValueError(f"time must be numeric, got dtype {time.dtype}")
    try:
        t = time.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("time must be numeric; some values cannot be read as numbers") from exc
    bad = np.isnan(t)
    if bad.any():
        raise ValueError(
            f"time has {int(bad.sum())} missing (NaN) value(s), first at row "
            f"{int(np.flatnonzero(bad)[0])}; use drop_missing() to remove incomplete rows"
        )
    if np.isinf(t).any():
        raise ValueError(f"time must be finite; row {int(np.flatnonzero(np.isinf(t))[0])} is inf")
    neg = t < 0
    if neg.any():
        first = int(np.flatnonzero(neg)[0])
        raise ValueError(
            f"time must be >= 0; {int(neg.sum())} negative value(s), first at row {first} "
            f"({t[first]!r})"
        )
    return t


def _check_event(event: NDArray[Any]) -> NDArray[np.int8]:
    if event.dtype == np.bool_:
        return event.astype(np.int8)
    if not (np.issubdtype(event.dtype, np.number) or event.dtype == object):
        raise ValueError(f"event must be 0/1 or boolean, got dtype {event.dtype}")
    try:
        e = event.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("event must be 0/1 or boolean; some values are not numbers") from exc
    bad = ~((e == 0) | (e == 1))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"event must be 0 (censored) or 1 (event); {int(bad.sum())} other value(s), first at "
            f"row {first} ({event[first]!r}); recode explicitly (e.g. R's 1/2 status or CDISC "
            f"CNSR, where 1 = censored) before analysis"
        )
    return e.astype(np.int8)


def _check_labels(name: str, labels: ArrayLike | None, n: int) -> NDArray[Any] | None:
    if labels is None:
        return None
    arr = _as_1d(name, labels)
    if arr.shape[0] != n:
        raise ValueError(f"{name} has length {arr.shape[0]} but time has length {n}")
    missing = np.asarray(pd.isna(arr), dtype=bool)
    if missing.any():
        raise ValueError(
            f"{name} has {int(missing.sum())} missing value(s), first at row "
            f"{int(np.flatnonzero(missing)[0])}; use drop_missing() to remove incomplete rows"
        )
    return _readonly(arr.copy())


def as_survdata(
    time: ArrayLike,
    event: ArrayLike,
    *,
    group: ArrayLike | None = None,
    strata: ArrayLike | None = None,
) -> SurvData:
    """Validate right-censored survival data and wrap it in a :class:`SurvData`.

    Checks, each raising :class:`ValueError` with the count and first offending row:

    1. ``time`` and ``event`` are one-dimensional and of equal, non-zero length.
    2. ``time`` is numeric, has no NaN, is finite and ``>= 0`` (zero is allowed,
       as in R ``Surv``).
    3. ``event`` is boolean or numeric with values exactly 0 or 1.
    4. ``group`` / ``strata``, when given, have the same length and no missing values.

    Missing values are never dropped silently here; call :func:`drop_missing` first.
    """
    t_raw = _as_1d("time", time)
    e_raw = _as_1d("event", event)
    if t_raw.shape[0] != e_raw.shape[0]:
        raise ValueError(
            f"time and event must have the same length, got {t_raw.shape[0]} and {e_raw.shape[0]}"
        )
    if t_raw.shape[0] == 0:
        raise ValueError("no observations: time and event are empty")
    t = _check_time(t_raw)
    e = _check_event(e_raw)
    n = t.shape[0]
    return SurvData(
        time=_readonly(t),
        event=_readonly(e),
        group=_check_labels("group", group, n),
        strata=_check_labels("strata", strata, n),
    )


def drop_missing(
    time: ArrayLike,
    event: ArrayLike,
    *,
    group: ArrayLike | None = None,
    strata: ArrayLike | None = None,
) -> DroppedMissing:
    """Drop rows with a missing value in any supplied column, count them, then validate.

    Mirrors R's default ``na.action = na.omit`` for ``survfit``/``survdiff``/``coxph``:

    1. A row is missing if ``time``, ``event``, ``group`` or ``strata`` is NaN, None
       or pandas NA (``pandas.isna``).
    2. Those rows are removed and their 0-based positions recorded.
    3. The remaining rows go through :func:`as_survdata` (all its checks apply).
    """
    columns: dict[str, NDArray[Any]] = {"time": _as_1d("time", time)}
    columns["event"] = _as_1d("event", event)
    if group is not None:
        columns["group"] = _as_1d("group", group)
    if strata is not None:
        columns["strata"] = _as_1d("strata", strata)
    n = columns["time"].shape[0]
    for name, arr in columns.items():
        if arr.shape[0] != n:
            raise ValueError(f"{name} has length {arr.shape[0]} but time has length {n}")
    missing = np.zeros(n, dtype=bool)
    for arr in columns.values():
        missing |= np.asarray(pd.isna(arr), dtype=bool)
    keep = ~missing
    kept = {name: arr[keep] for name, arr in columns.items()}
    data = as_survdata(
        kept["time"], kept["event"], group=kept.get("group"), strata=kept.get("strata")
    )
    dropped = np.flatnonzero(missing)
    return DroppedMissing(
        data=data, n_dropped=int(dropped.shape[0]), dropped_rows=tuple(int(i) for i in dropped)
    )


def encode_labels(labels: NDArray[Any]) -> tuple[NDArray[Any], NDArray[np.intp]]:
    """Sorted distinct labels and the 0-based code of each row (R factor levels order).

    Small-range integer and boolean labels are coded with one ``bincount`` pass (no
    sort), other labels with ``numpy.unique``.
    """
    arr = np.asarray(labels)
    if arr.shape[0] > 0 and (arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.integer)):
        as_int = arr.astype(np.int64)
        low = int(as_int.min())
        span = int(as_int.max()) - low + 1
        if span <= max(1024, arr.shape[0]):
            offset = as_int - low if low != 0 else as_int
            present = np.bincount(offset, minlength=span) > 0
            levels = (np.flatnonzero(present) + low).astype(arr.dtype)
            if present.all():  # codes 0 .. span - 1 are the offsets themselves
                return levels, offset.astype(np.intp, copy=False)
            lookup = np.cumsum(present) - 1
            return levels, lookup[offset].astype(np.intp)
    levels, codes = np.unique(arr, return_inverse=True)
    return levels, codes.astype(np.intp).ravel()


def sort_keys(time: NDArray[np.float64], event: NDArray[Any]) -> NDArray[np.uint64]:
    """Keys that sort rows by time, events before censorings at a tie, in one value sort.

    For ``t >= 0`` the IEEE-754 bits of a float64 read as an unsigned integer increase
    with ``t`` and the top (sign) bit is 0, so ``bits << 1`` leaves the lowest bit free for
    "censored". Sorting these integers (a value sort, several times faster than
    ``argsort``) orders the rows exactly as ``(time, censored)`` and loses no digit:
    ``key >> 1`` is the time's bit pattern again. ``-0.0`` is turned into ``0.0`` first.
    """
    key = np.add(time, 0.0).view(np.uint64) << np.uint64(1)
    key |= (event == 0).view(np.uint8)
    return key


def key_times(key: NDArray[np.uint64]) -> NDArray[np.float64]:
    """The float64 times of keys from :func:`sort_keys`."""
    return np.asarray((key >> np.uint64(1)).view(np.float64))


def grouped_sorted_keys(
    time: NDArray[np.float64], event: NDArray[Any], codes: NDArray[np.intp], k: int
) -> tuple[NDArray[np.uint64], NDArray[np.intp]]:
    """:func:`sort_keys` of every row, rows of group 0 first, each group's keys sorted.

    Returns the keys and the ``k + 1`` group boundaries. The groups are separated by a
    stable counting sort of the small integer codes, then each block is value-sorted.
    """
    key = sort_keys(time, event)
    bounds = np.zeros(k + 1, dtype=np.intp)
    np.cumsum(np.bincount(codes, minlength=k), out=bounds[1:])
    if k > 1:
        small = codes.astype(np.int16) if k <= np.iinfo(np.int16).max else codes
        key = key[np.argsort(small, kind="stable")]
    for a, b in itertools.pairwise(bounds.tolist()):
        key[a:b].sort()
    return key, bounds


def tabulate_sorted(
    key: NDArray[np.uint64],
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """Distinct times, numbers at risk and events from sorted :func:`sort_keys` keys.

    One sequential pass: a new time starts where ``key >> 1`` changes; the number at
    risk is the count of rows from there on; events are counted by a running sum of the
    event flags read at the starts of the runs.
    """
    n = key.shape[0]
    bits = key >> np.uint64(1)
    change = np.empty(n, dtype=bool)
    change[:1] = True
    np.not_equal(bits[1:], bits[:-1], out=change[1:])
    first = np.flatnonzero(change)
    cum_ev = np.empty(n + 1, dtype=np.int64)
    cum_ev[0] = 0
    np.cumsum(1 - (key & np.uint64(1)).astype(np.int8), out=cum_ev[1:])
    ends = np.append(first[1:], n)
    n_event = cum_ev[ends] - cum_ev[first]
    times = bits[first].view(np.float64)
    return times, (n - first).astype(np.int64), n_event


def on_day_grid(time: NDArray[np.float64]) -> bool:
    """Whole-number times on a grid no larger than ``max(4n, 1e5)`` (e.g. days): counted
    by direct indexing instead of sorting."""
    top = float(time.max())
    return top <= max(4.0 * time.shape[0], 1e5) and bool(np.all(time == np.floor(time)))


def count_by_time(
    time: NDArray[np.float64], event: NDArray[Any], codes: NDArray[np.intp], k: int
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """Events and rows per (distinct time, group): the counting kernel of KM and log-rank.

    Returns ``(times, events, rows)``: the sorted distinct times over all groups and two
    ``(len(times), k)`` count matrices (events, all rows) per time and group code.

    1. Whole-number times on a grid no larger than ``max(4n, 1e5)`` (e.g. days): index
       each row by ``(time, group, event)`` and count with one ``bincount``; no sort.
    2. Other times: value-sort each group's :func:`sort_keys` (no ``argsort`` of the
       floats), merge the sorted groups with a stable sort (it finds the ``k`` sorted
       runs and merges them), distinct times where the time changes, then one
       ``bincount`` over ``(distinct time, group, event)``.
    """
    n = time.shape[0]
    if on_day_grid(time):
        top = float(time.max())
        cls = codes.astype(np.int32) * 2 + event.astype(np.int32)
        m = int(top) + 1
        key = time.astype(np.int64) * (2 * k) + cls
        cnt = np.bincount(key, minlength=m * 2 * k).reshape(m, k, 2)
        rows = cnt[:, :, 0] + cnt[:, :, 1]
        keep = np.flatnonzero(rows.sum(axis=1))
        return keep.astype(np.float64), cnt[keep, :, 1], rows[keep]
    skey, bounds = grouped_sorted_keys(time, event, codes, k)
    label = np.repeat(np.arange(k, dtype=np.int64), np.diff(bounds))
    if k > 1:
        merge = np.argsort(skey, kind="stable")
        skey = skey[merge]
        label = label[merge]
        del merge
    bits = skey >> np.uint64(1)
    change = np.empty(n, dtype=bool)
    change[0] = True
    np.not_equal(bits[1:], bits[:-1], out=change[1:])
    idx = np.cumsum(change, dtype=np.int64)
    idx -= 1
    u = int(idx[-1]) + 1
    idx *= 2 * k
    label *= 2
    idx += label
    idx += 1
    idx -= (skey & np.uint64(1)).astype(np.int64)
    cnt = np.bincount(idx, minlength=u * 2 * k).reshape(u, k, 2)
    return bits[change].view(np.float64), cnt[:, :, 1], cnt[:, :, 0] + cnt[:, :, 1]


def check_start(start: ArrayLike, stop: NDArray[np.float64]) -> NDArray[np.float64]:
    """Validate entry times of counting-process data ``(start, stop]`` (R ``Surv(start, stop, e)``).

    ``start`` is numeric, one value per row, without NaN, finite and strictly below
    ``stop`` (R: "Stop time must be > start time"); negative entry times are allowed, as
    in R. Returns the float copy.
    """
    raw = _as_1d("start", start)
    if raw.shape[0] != stop.shape[0]:
        raise ValueError(f"start has {raw.shape[0]} rows but time has {stop.shape[0]}")
    if raw.dtype == np.bool_ or not (np.issubdtype(raw.dtype, np.number) or raw.dtype == object):
        raise ValueError(f"start must be numeric, got dtype {raw.dtype}")
    try:
        s = raw.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("start must be numeric; some values cannot be read as numbers") from exc
    bad = ~np.isfinite(s)
    if bad.any():
        raise ValueError(
            f"start has {int(bad.sum())} missing or infinite value(s), first at row "
            f"{int(np.flatnonzero(bad)[0])}"
        )
    late = s >= stop
    if late.any():
        first = int(np.flatnonzero(late)[0])
        raise ValueError(
            f"start must be < stop (time); {int(late.sum())} row(s) with start >= stop, first "
            f"at row {first} ({s[first]!r} >= {stop[first]!r})"
        )
    return s


def timefix(
    time: ArrayLike, start: ArrayLike | None = None, tolerance: float = 2.0**-26
) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
    """Merge near-tied times as R survival's ``aeqSurv`` (``timefix = TRUE``).

    1. Take the sorted distinct times (entry and exit times together).
    2. Two neighbours are tied when their gap is ``<= tolerance`` or ``<= tolerance``
       times the mean absolute time (default ``sqrt(.Machine$double.eps)``).
    3. Every time is replaced by the first time of its run of ties (``findInterval``
       on the run starts). An interval ``(start, stop]`` whose ends fall in one run is
       an error, as in R.

    Returns the (possibly unchanged) times and start times as float arrays; without
    near-ties the inputs are returned as they are.
    """
    t = np.asarray(time, dtype=np.float64)
    s = None if start is None else np.asarray(start, dtype=np.float64)
    both = t if s is None else np.concatenate((s, t))
    y = np.unique(both[np.isfinite(both)])
    if y.shape[0] < 2:
        return t, s
    dy = np.diff(y)
    tied = (dy <= tolerance) | (dy / np.mean(np.abs(y)) <= tolerance)
    if not tied.any():
        return t, s
    cuts = y[np.concatenate(([True], ~tied))]

    def snap(v: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(cuts[np.searchsorted(cuts, v, side="right") - 1], dtype=np.float64)

    new_t = snap(t)
    if s is None:
        return new_t, None
    new_s = snap(s)
    if np.any((new_s == new_t) & (s != t)):
        raise ValueError("timefix: an interval (start, stop] has effective length 0")
    return new_t, new_s
