"""The sort-key counting path (non-integer times) and the BLAS thread limit.

The fast path must give exactly the numbers of a plain reference tabulation; the
R-fixture tests check the statistics themselves.
"""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from rechallenge.stats._threads import WIDE_COLUMNS, blas_threads
from rechallenge.stats.km import kaplan_meier, kaplan_meier_by_group
from rechallenge.stats.survdata import (
    count_by_time,
    grouped_sorted_keys,
    key_times,
    on_day_grid,
    sort_keys,
    tabulate_sorted,
)


def _reference_counts(
    time: np.ndarray, event: np.ndarray, codes: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts per (distinct time, group) by brute force with numpy.unique."""
    times, inverse = np.unique(time, return_inverse=True)
    events = np.zeros((times.shape[0], k), dtype=np.int64)
    rows = np.zeros((times.shape[0], k), dtype=np.int64)
    np.add.at(rows, (inverse, codes), 1)
    np.add.at(events, (inverse, codes), event.astype(np.int64))
    return times, events, rows


@pytest.mark.parametrize("k", [1, 2, 5])
def test_count_by_time_sort_keys_match_reference(k: int) -> None:
    rng = np.random.default_rng(k)
    n = 5000
    # continuous times with some exact ties, a zero and a negative zero
    time = np.round(rng.exponential(3.0, n), 3)
    time[:3] = [0.0, -0.0, 0.0]
    event = rng.integers(0, 2, n).astype(np.int8)
    codes = rng.integers(0, k, n).astype(np.intp)
    assert not on_day_grid(time)
    got = count_by_time(time, event, codes, k)
    want = _reference_counts(time, event, codes, k)
    assert got[0].tolist() == want[0].tolist()
    assert np.array_equal(got[1], want[1]) and np.array_equal(got[2], want[2])


def test_sort_keys_order_events_first_and_keep_every_bit() -> None:
    time = np.array([2.5, 1e-300, 2.5, 7.0, np.nextafter(2.5, 3.0), 0.0])
    event = np.array([0, 1, 1, 0, 1, 0], dtype=np.int8)
    key = sort_keys(time, event)
    key.sort()
    assert key_times(key).tolist() == sorted(time.tolist())
    # at the tie 2.5 the event (flag 0) comes before the censoring (flag 1)
    assert (key & np.uint64(1)).tolist() == [1, 0, 0, 1, 0, 1]
    times, n_risk, n_event = tabulate_sorted(key)
    assert times.tolist() == [0.0, 1e-300, 2.5, np.nextafter(2.5, 3.0), 7.0]
    assert n_risk.tolist() == [6, 5, 4, 2, 1]
    assert n_event.tolist() == [0, 1, 1, 1, 0]


def test_grouped_keys_split_by_group() -> None:
    time = np.array([3.5, 1.5, 2.5, 0.5])
    event = np.array([1, 1, 0, 1], dtype=np.int8)
    key, bounds = grouped_sorted_keys(time, event, np.array([1, 0, 1, 0]), 2)
    assert bounds.tolist() == [0, 2, 4]
    assert key_times(key).tolist() == [0.5, 1.5, 2.5, 3.5]


def test_km_by_group_non_integer_equals_single_curves() -> None:
    rng = np.random.default_rng(7)
    n = 3000
    time = rng.exponential(5.0, n) + 0.25
    event = rng.integers(0, 2, n)
    group = rng.choice(["a", "b", "c"], n)
    fits = kaplan_meier_by_group(time, event, group)
    for level, fit in fits.items():
        m = group == level
        alone = kaplan_meier(time[m], event[m])
        assert np.array_equal(fit.surv, alone.surv)
        assert np.array_equal(fit.n_risk, alone.n_risk)
        assert np.array_equal(fit.n_censor, alone.n_censor)
        assert fit.median.estimate == alone.median.estimate


def _blas_threads_now() -> list[int]:
    return [int(i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"]


def test_blas_threads_limits_thin_work_and_restores() -> None:
    before = _blas_threads_now()
    if not before:
        pytest.skip("no BLAS library reported by threadpoolctl")
    with blas_threads(1):
        assert _blas_threads_now() == [1] * len(before)
    assert _blas_threads_now() == before
    with blas_threads(WIDE_COLUMNS + 1):
        assert _blas_threads_now() == before


@pytest.mark.parametrize("k", [2, 3, 10])
def test_logrank_sorted_key_counts_match_the_count_matrices(k: int) -> None:
    """Event counts of non-integer times, read from running counts, equal the matrices'."""
    from rechallenge.stats.logrank import _counts_from_matrices, _counts_from_sorted_keys

    rng = np.random.default_rng(10 + k)
    n = 4000
    time = np.ceil(rng.exponential(50.0, n)) + 0.5  # ties, not on the day grid
    event = rng.integers(0, 2, n).astype(bool)
    codes = rng.integers(0, k, n).astype(np.intp)
    _, ref_events, ref_rows = _reference_counts(time, event, codes, k)
    d, dk, nk = _counts_from_sorted_keys(time, event, codes, k)
    d_ref, dk_ref, nk_ref = _counts_from_matrices(ref_events, ref_rows)
    assert d.shape[0] > 10
    np.testing.assert_array_equal(d, d_ref)
    for j in range(k):
        np.testing.assert_array_equal(dk[j], dk_ref[j])
        np.testing.assert_array_equal(nk[j], nk_ref[j])


@pytest.mark.parametrize("shift", [0.0, 0.25])
def test_stratified_logrank_equals_the_sum_of_stratum_tests(shift: float) -> None:
    """One pass over all strata gives O, E, V of the strata tested one at a time."""
    from rechallenge.stats.logrank import logrank_test

    rng = np.random.default_rng(7)
    n = 6000
    time = np.ceil(rng.exponential(80.0, n)) + shift
    event = rng.integers(0, 2, n)
    group = rng.integers(0, 3, n)
    strata = rng.integers(0, 5, n)
    pooled = logrank_test(time, event, group, strata=strata)
    o, e, v = np.zeros(3), np.zeros(3), np.zeros((3, 3))
    for s in range(5):
        m = strata == s
        one = logrank_test(time[m], event[m], group[m])
        o, e, v = o + one.observed, e + one.expected, v + one.variance
    assert pooled.n_strata == 5
    np.testing.assert_array_equal(pooled.observed, o)
    np.testing.assert_array_equal(pooled.expected, e)
    np.testing.assert_array_equal(pooled.variance, v)


@pytest.mark.parametrize(
    "labels", [[0, 2, 1, 2, 0], [3, 5, 4, 3], [0, 4, 4, 0, 2], [True, False, True]]
)
def test_encode_labels_codes_match_numpy_unique(labels: list[int]) -> None:
    """The bincount coding (also when every level in range is present) equals np.unique's."""
    from rechallenge.stats.survdata import encode_labels

    arr = np.array(labels)
    levels, codes = encode_labels(arr)
    ref_levels, ref_codes = np.unique(arr, return_inverse=True)
    np.testing.assert_array_equal(levels, ref_levels)
    np.testing.assert_array_equal(codes, ref_codes)
    assert codes.dtype == np.intp
    assert not np.shares_memory(codes, arr)
