"""Log-rank: endpoints-and-statistics.md §7 vectors, both counting paths, large-n safety."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rechallenge.stats.logrank import logrank_test

T = [2, 3, 3, 5, 6, 8, 9, 12, 15, 20, 4, 6, 6, 9, 11, 14, 18, 22, 25, 30]
E = [1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 0]
G = ["A"] * 10 + ["B"] * 10
S = [1, 2] * 10


@pytest.mark.parametrize(
    ("kwargs", "chi2", "p"),
    [
        ({}, 1.975401, 0.159876),
        ({"rho": 1}, 2.177330, 0.140057),
        ({"strata": S}, 2.687234, 0.101155),
    ],
)
def test_reference_vectors(kwargs: dict[str, object], chi2: float, p: float) -> None:
    res = logrank_test(T, E, G, **kwargs)  # type: ignore[arg-type]
    assert res.df == 1
    np.testing.assert_allclose([res.chi2, res.p], [chi2, p], atol=5e-7)


def test_observed_expected_variance() -> None:
    res = logrank_test(T, E, G)
    np.testing.assert_allclose(res.observed, [7, 6])
    np.testing.assert_allclose(res.expected, [4.681103, 8.318897], atol=5e-7)
    np.testing.assert_allclose(res.variance[0, 0], 2.722123, atol=5e-7)
    assert res.test == "log-rank"


def test_non_integer_times_take_the_sorting_path_with_same_answer() -> None:
    whole = logrank_test(T, E, G, rho=0.5)
    shifted = logrank_test(np.asarray(T) + 0.25, E, G, rho=0.5)
    np.testing.assert_allclose(shifted.chi2, whole.chi2, rtol=1e-12)
    np.testing.assert_allclose(shifted.variance, whole.variance, rtol=1e-12)


def test_to_dict_is_json_ready_with_table() -> None:
    d = logrank_test(T, E, G).to_dict()
    json.dumps(d, allow_nan=False)
    assert [r["group"] for r in d["table"]] == ["A", "B"]
    assert d["table"][0]["observed"] == 7.0 and d["df"] == 1


def test_one_group_is_rejected() -> None:
    with pytest.raises(ValueError, match="two groups"):
        logrank_test([1, 2], [1, 1], ["a", "a"])


def test_no_events_gives_zero_statistic() -> None:
    res = logrank_test([1, 2, 3], [0, 0, 0], ["a", "b", "b"])
    assert res.chi2 == 0.0 and res.df == -1 and np.isnan(res.p)


def test_large_n_with_heavy_ties_does_not_overflow() -> None:
    # 4 million rows on 10 whole days: n_j (n_j - 1) ~ 1.6e13 must stay exact in float64.
    rng = np.random.default_rng(7)
    n = 4_000_000
    g = rng.integers(0, 2, n)
    t = rng.integers(1, 11, n).astype(float)
    e = rng.random(n) < 0.5
    res = logrank_test(t, e, g)
    # Same groups as the null: the statistic is a chi-square(1) draw, not a huge number.
    assert 0.0 <= res.chi2 < 30.0
    np.testing.assert_allclose(res.observed.sum(), e.sum())
    np.testing.assert_allclose(res.expected.sum(), e.sum(), rtol=1e-12)
