"""Descriptive statistics and group tests against R 4.2 (R call in each comment)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rechallenge.stats.descriptive import (
    chisq_test,
    count_percent,
    fisher_test,
    kruskal_test,
    summarise_continuous,
    t_test,
    wilcoxon_test,
)

TAB = [[12, 7], [5, 9]]  # matrix(c(12,5,7,9), 2)
X = [5.1, 4.8, 6.2, 5.9, 7.1, 6.6, 5.5]
Y = [4.2, 5.0, 4.6, 3.9, 5.3, 4.4]
X2 = [1, 2, 2, 3, 4, 5, 5, 6]
Y2 = [2, 3, 3, 4, 6, 7, 8, 8, 9]


def test_quartiles_are_r_type_7() -> None:
    s = summarise_continuous([1, 3, 4, 8, 10, 15, 21, np.nan])
    assert (s.q1, s.median, s.q3) == (3.5, 8.0, 12.5)  # quantile(x, c(.25,.5,.75))
    assert s.n == 7 and s.n_missing == 1 and (s.min, s.max) == (1.0, 21.0)
    assert s.sd == pytest.approx(np.std([1, 3, 4, 8, 10, 15, 21], ddof=1))
    json.dumps(s.to_dict(), allow_nan=False)


def test_count_percent_excludes_missing_from_base() -> None:
    rows = count_percent(["m", "f", "m", None, "m"])
    assert rows[0] == {"level": "f", "n": 1, "percent": 25.0}
    assert rows[1]["n"] == 3 and rows[1]["percent"] == 75.0
    assert rows[2] == {"level": None, "n": 1, "percent": None}


@pytest.mark.parametrize(
    ("correct", "stat", "p"),
    [(True, 1.455996378814684, 0.227568214575810), (False, 2.430575519681557, 0.118989205532145)],
)
def test_chisq_2x2_with_and_without_yates(correct: bool, stat: float, p: float) -> None:
    r = chisq_test(TAB, correct=correct)
    assert r.statistic == pytest.approx(stat, rel=1e-9)
    assert r.p == pytest.approx(p, rel=1e-9)
    assert ("Yates" in r.test) is correct


def test_chisq_rxc_never_corrects() -> None:
    r = chisq_test([[12, 7, 3], [5, 9, 8]])  # chisq.test(matrix(c(12,5,7,9,3,8), 2))
    assert r.statistic == pytest.approx(5.4050802139037435, rel=1e-9)
    assert r.p == pytest.approx(0.0670350201759789, rel=1e-9)
    assert r.df == 2


def test_fisher_2x2_and_rxc_exact() -> None:
    assert fisher_test(TAB).p == pytest.approx(0.166320065773565, rel=1e-9)
    r = fisher_test([[3, 1, 2], [1, 4, 2]])  # fisher.test(matrix(c(3,1,1,4,2,2), 2))
    assert r.p == pytest.approx(0.324009324009324, rel=1e-9)
    assert r.test == "Fisher exact (2x3)"


def test_t_tests() -> None:
    w = t_test(X, Y)  # t.test(x, y)
    assert (w.statistic, w.df, w.p) == pytest.approx(
        (3.52074397336836897, 10.21634621794068387, 0.00535450847793320), rel=1e-9
    )
    s = t_test(X, Y, equal_var=True)  # t.test(x, y, var.equal=TRUE)
    assert (s.statistic, s.df, s.p) == pytest.approx(
        (3.39586360185515934, 11.0, 0.00597262626136091), rel=1e-9
    )
    assert w.test.startswith("Welch") and s.test.startswith("Student")


def test_wilcoxon_exact_without_ties() -> None:
    r = wilcoxon_test(X, Y)  # wilcox.test(x, y)
    assert (r.statistic, r.p) == pytest.approx((39.0, 0.00815850815850816), rel=1e-9)
    assert r.details["exact"] is True


def test_wilcoxon_normal_with_ties() -> None:
    r = wilcoxon_test(X2, Y2)  # wilcox.test(x2, y2) (ties -> normal, correct=TRUE)
    assert (r.statistic, r.p) == pytest.approx((19.0, 0.109705560710666), rel=1e-9)
    assert "continuity" in r.test


def test_kruskal() -> None:
    r = kruskal_test(X2, Y2, [3, 3, 5, 7, 9])  # kruskal.test(list(x2, y2, c(3,3,5,7,9)))
    assert (r.statistic, r.df, r.p) == pytest.approx(
        (3.213502109704647, 2.0, 0.200538094083722), rel=1e-9
    )


@pytest.mark.parametrize("table", [[[1, 2]], [[1, -1], [2, 3]], [[1.5, 1], [2, 3]]])
def test_bad_tables(table: list[list[float]]) -> None:
    with pytest.raises(ValueError):
        chisq_test(table)
