"""Validation of the shared (time, event) container."""

from __future__ import annotations

import numpy as np
import pytest

from rechallenge.stats.survdata import SurvData, as_survdata, drop_missing


def test_valid_input_is_converted_and_read_only() -> None:
    sd = as_survdata([3, 1, 2], [True, False, True], group=["a", "b", "a"])
    assert isinstance(sd, SurvData)
    assert sd.time.dtype == np.float64
    assert sd.event.dtype == np.int8
    assert sd.event.tolist() == [1, 0, 1]
    assert sd.n == 3 and sd.n_events == 2
    with pytest.raises(ValueError):
        sd.time[0] = 9.0


def test_input_arrays_are_not_aliased() -> None:
    t = np.array([1.0, 2.0])
    sd = as_survdata(t, [1, 0])
    t[0] = 99.0
    assert sd.time[0] == 1.0


def test_zero_time_is_allowed() -> None:
    assert as_survdata([0.0, 1.0], [1, 0]).time.tolist() == [0.0, 1.0]


@pytest.mark.parametrize(
    ("time", "event", "message"),
    [
        ([1.0, np.nan], [1, 0], "missing"),
        ([1.0, -2.0], [1, 0], ">= 0"),
        ([1.0, np.inf], [1, 0], "finite"),
        ([1.0, 2.0], [1, 2], "0 \\(censored\\) or 1"),
        ([1.0, 2.0], [1.0, np.nan], "0 \\(censored\\) or 1"),
        ([1.0, 2.0], [1], "same length"),
        ([], [], "no observations"),
        (["a", "b"], [1, 0], "numeric"),
        ([[1.0], [2.0]], [1, 0], "one-dimensional"),
    ],
)
def test_bad_input_is_rejected(time: object, event: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        as_survdata(time, event)  # type: ignore[arg-type]


def test_group_length_and_missing_are_rejected() -> None:
    with pytest.raises(ValueError, match="group has length 1"):
        as_survdata([1, 2], [1, 1], group=["a"])
    with pytest.raises(ValueError, match="strata has 1 missing"):
        as_survdata([1, 2], [1, 1], strata=np.array(["a", None], dtype=object))


def test_drop_missing_counts_rows_like_na_omit() -> None:
    res = drop_missing(
        [1.0, np.nan, 3.0, 4.0, 5.0],
        [1, 1, np.nan, 0, 1],
        group=np.array(["a", "b", "b", None, "a"], dtype=object),
    )
    assert res.n_dropped == 3
    assert res.dropped_rows == (1, 2, 3)
    assert res.data.time.tolist() == [1.0, 5.0]
    assert res.data.group is not None and res.data.group.tolist() == ["a", "a"]


def test_drop_missing_still_validates_remaining_rows() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        drop_missing([np.nan, -1.0], [1, 1])


def test_subset_keeps_labels_aligned() -> None:
    sd = as_survdata([1, 2, 3], [1, 0, 1], group=[0, 1, 0], strata=["x", "y", "z"])
    sub = sd.subset(np.array([True, False, True]))
    assert sub.time.tolist() == [1.0, 3.0]
    assert sub.strata is not None and sub.strata.tolist() == ["x", "z"]


@pytest.mark.parametrize("shift", [0.0, 0.5])
def test_count_by_time_both_paths(shift: float) -> None:
    from rechallenge.stats.survdata import count_by_time, encode_labels

    time = np.array([3.0, 1.0, 3.0, 2.0, 1.0, 3.0]) + shift
    event = np.array([1, 0, 1, 1, 1, 0], dtype=np.int8)
    levels, codes = encode_labels(np.array([0, 1, 1, 0, 0, 1]))
    assert levels.tolist() == [0, 1] and codes.tolist() == [0, 1, 1, 0, 0, 1]
    times, events, rows = count_by_time(time, event, codes, 2)
    assert times.tolist() == [1.0 + shift, 2.0 + shift, 3.0 + shift]
    assert events.tolist() == [[1, 0], [1, 0], [1, 1]]
    assert rows.tolist() == [[1, 1], [1, 0], [1, 2]]
