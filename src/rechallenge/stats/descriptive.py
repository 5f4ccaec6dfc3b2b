"""Descriptive summaries and two/k-group tests, each reproducing the named R function.

Public API:

- :func:`count_percent`, :func:`summarise_continuous` — n (%), mean ± SD,
  median (IQR, range) with R's default quantile type 7.
- :func:`chisq_test` — R ``chisq.test`` (Yates only on 2x2 when ``correct=True``).
- :func:`fisher_test` — R ``fisher.test``: exact two-sided p for 2x2 and r x c tables.
- :func:`t_test` — R ``t.test`` (Welch by default, Student with ``equal_var=True``).
- :func:`wilcoxon_test` — R ``wilcox.test`` for two samples.
- :func:`kruskal_test` — R ``kruskal.test``.

Every test returns a :class:`TestResult` naming the test. scipy is used where it agrees
with R (t-tests, Kruskal–Wallis, Mann–Whitney with the method R would choose, 2x2
Fisher); chi-square and r x c Fisher are computed here because scipy differs from R
(scipy's r x c Fisher p-value is not exact; its Yates correction is not R's).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats
from scipy.special import gammaln

__all__ = [
    "ContinuousSummary",
    "TestResult",
    "chisq_test",
    "count_percent",
    "fisher_test",
    "kruskal_test",
    "summarise_continuous",
    "t_test",
    "wilcoxon_test",
]

#: R's relative tolerance when comparing table probabilities in ``fisher.test``.
_FISHER_RELERR = 1 + 1e-7
_MAX_TABLES = 2_000_000


def _clean(values: ArrayLike) -> tuple[NDArray[np.float64], int]:
    arr = np.asarray(values, dtype=np.float64).ravel()
    missing = np.isnan(arr)
    return arr[~missing], int(missing.sum())


@dataclass(frozen=True)
class ContinuousSummary:
    """n, missing, mean ± SD (n - 1), median, quartiles (R type 7), min and max."""

    n: int
    n_missing: int
    mean: float
    sd: float
    median: float
    q1: float
    q3: float
    min: float
    max: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (NaN becomes ``None``)."""
        return {
            k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in vars(self).items()
        }


@dataclass(frozen=True)
class TestResult:
    """A hypothesis test: its name, statistic, degrees of freedom (if any) and p-value."""

    test: str
    statistic: float
    p: float
    df: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {"test": self.test, "statistic": self.statistic, "df": self.df, "p": self.p} | {
            "details": dict(self.details)
        }


def count_percent(values: Sequence[Any] | ArrayLike) -> list[dict[str, Any]]:
    """Counts and percentages per level (sorted), missing values excluded from the base.

    Returns rows ``{"level", "n", "percent"}`` plus a final ``{"level": None, "n": k}``
    row counting missing values when there are any.
    """
    arr = np.asarray(values, dtype=object).ravel()
    missing = np.array([v is None or (isinstance(v, float) and math.isnan(v)) for v in arr])
    present = arr[~missing]
    levels: list[str] = []
    counts: list[int] = []
    if present.size:
        lv, ct = np.unique(present.astype(str), return_counts=True)
        levels, counts = [str(v) for v in lv], [int(c) for c in ct]
    total = int(present.shape[0])
    rows = [
        {"level": lv, "n": c, "percent": 100.0 * c / total}
        for lv, c in zip(levels, counts, strict=True)
    ]
    if missing.any():
        rows.append({"level": None, "n": int(missing.sum()), "percent": None})
    return rows


def summarise_continuous(values: ArrayLike) -> ContinuousSummary:
    """Mean ± SD and median (IQR, range), NaN ignored; quartiles by R type 7 (linear)."""
    x, n_missing = _clean(values)
    if x.shape[0] == 0:
        nan = float("nan")
        return ContinuousSummary(0, n_missing, nan, nan, nan, nan, nan, nan, nan)
    q1, med, q3 = np.quantile(x, [0.25, 0.5, 0.75], method="linear")
    sd = float(np.std(x, ddof=1)) if x.shape[0] > 1 else float("nan")
    return ContinuousSummary(
        n=int(x.shape[0]),
        n_missing=n_missing,
        mean=float(np.mean(x)),
        sd=sd,
        median=float(med),
        q1=float(q1),
        q3=float(q3),
        min=float(x.min()),
        max=float(x.max()),
    )


def _table(table: ArrayLike) -> NDArray[np.float64]:
    tab = np.asarray(table, dtype=np.float64)
    if tab.ndim != 2 or min(tab.shape) < 2:
        raise ValueError(
            f"need a 2-D contingency table with at least 2 rows and columns, got {tab.shape}"
        )
    if (tab < 0).any() or not np.all(tab == np.floor(tab)):
        raise ValueError("contingency table entries must be non-negative whole numbers")
    return tab


def chisq_test(table: ArrayLike, *, correct: bool = True) -> TestResult:
    """Pearson chi-square test of independence, as R ``chisq.test(table, correct=)``.

    1. ``E = row total x column total / N``.
    2. For a 2x2 table with ``correct=True``: ``Y = min(0.5, |O - E|)`` per cell (R's
       Yates correction); otherwise ``Y = 0``.
    3. ``X^2 = sum (|O - E| - Y)^2 / E`` on ``(r - 1)(c - 1)`` df.
    """
    tab = _table(table)
    expected = np.outer(tab.sum(axis=1), tab.sum(axis=0)) / tab.sum()
    yates = correct and tab.shape == (2, 2)
    dev = np.abs(tab - expected)
    if yates:
        dev = dev - np.minimum(0.5, dev)
    stat = float(np.sum(dev**2 / expected))
    df = float((tab.shape[0] - 1) * (tab.shape[1] - 1))
    name = "Pearson chi-square" + (" with Yates continuity correction" if yates else "")
    return TestResult(
        name, stat, float(stats.chi2.sf(stat, df)), df, {"expected": expected.tolist()}
    )


def _log_table_prob(
    cells: NDArray[np.float64], rows: NDArray[np.float64], cols: NDArray[np.float64]
) -> float:
    n = rows.sum()
    return float(
        gammaln(rows + 1).sum()
        + gammaln(cols + 1).sum()
        - gammaln(n + 1)
        - gammaln(cells + 1).sum()
    )


def _column_fills(total: int, capacity: Sequence[int]) -> list[tuple[int, ...]]:
    """All ways to split a column total over rows without exceeding row capacities."""
    if len(capacity) == 1:
        return [(total,)] if total <= capacity[0] else []
    out: list[tuple[int, ...]] = []
    rest_cap = sum(capacity[1:])
    for first in range(max(0, total - rest_cap), min(total, capacity[0]) + 1):
        out.extend((first, *tail) for tail in _column_fills(total - first, capacity[1:]))
    return out


def _fisher_rxc(tab: NDArray[np.float64]) -> float:
    """Exact two-sided p: sum of P(table) over tables no more probable than the observed.

    Tables with the observed margins are enumerated column by column (a network
    algorithm is not needed for the small tables of clinical summaries); the
    enumeration is capped and raises beyond ``_MAX_TABLES`` tables.
    """
    rows = tab.sum(axis=1)
    cols = tab.sum(axis=0)
    const = float(gammaln(rows + 1).sum() + gammaln(cols + 1).sum() - gammaln(rows.sum() + 1))
    p_obs = _log_table_prob(tab, rows, cols)
    total = 0.0
    count = 0
    stack: list[tuple[int, tuple[int, ...], float]] = [(0, tuple(int(r) for r in rows), 0.0)]
    while stack:
        j, cap, acc = stack.pop()
        if j == tab.shape[1]:
            count += 1
            if count > _MAX_TABLES:
                raise ValueError("table too large for exact Fisher enumeration; use chisq_test")
            lp = const + acc
            if lp <= p_obs + math.log(_FISHER_RELERR):
                total += math.exp(lp)
            continue
        for fill in _column_fills(int(cols[j]), cap):
            lg = -float(gammaln(np.asarray(fill, dtype=np.float64) + 1).sum())
            stack.append((j + 1, tuple(c - f for c, f in zip(cap, fill, strict=True)), acc + lg))
    return min(1.0, total)


def fisher_test(table: ArrayLike) -> TestResult:
    """Fisher's exact test, two-sided, as R ``fisher.test``.

    2x2: scipy ``fisher_exact`` (same p-value rule as R; the statistic is the sample
    odds ratio, R reports the conditional MLE instead). r x c: exact enumeration,
    p = sum of probabilities of tables with ``P <= P_observed * (1 + 1e-7)``.
    """
    tab = _table(table)
    if tab.shape == (2, 2):
        res = stats.fisher_exact(tab.astype(np.int64))
        return TestResult("Fisher exact (2x2)", float(res.statistic), float(res.pvalue), None, {})
    p = _fisher_rxc(tab)
    return TestResult(f"Fisher exact ({tab.shape[0]}x{tab.shape[1]})", float("nan"), p, None, {})


def t_test(x: ArrayLike, y: ArrayLike, *, equal_var: bool = False) -> TestResult:
    """Two-sample t-test, as R ``t.test(x, y, var.equal=)``: Welch by default."""
    a, _ = _clean(x)
    b, _ = _clean(y)
    if a.shape[0] < 2 or b.shape[0] < 2:
        raise ValueError("each group needs at least two non-missing values for a t-test")
    res = stats.ttest_ind(a, b, equal_var=equal_var)
    name = "Student two-sample t-test" if equal_var else "Welch two-sample t-test"
    diff = float(a.mean() - b.mean())
    return TestResult(
        name, float(res.statistic), float(res.pvalue), float(res.df), {"mean_difference": diff}
    )


def wilcoxon_test(x: ArrayLike, y: ArrayLike) -> TestResult:
    """Wilcoxon rank-sum (Mann–Whitney) test, as R ``wilcox.test(x, y)``.

    1. ``W`` = Mann–Whitney U of ``x`` (R's statistic).
    2. Exact p-value when both samples have fewer than 50 values and there are no ties
       (R's default ``exact = NULL`` rule).
    3. Otherwise the normal approximation with continuity correction and tie-corrected
       variance (``correct = TRUE``).
    """
    a, _ = _clean(x)
    b, _ = _clean(y)
    if a.shape[0] == 0 or b.shape[0] == 0:
        raise ValueError("each group needs at least one non-missing value")
    ties = np.unique(np.concatenate((a, b))).shape[0] < a.shape[0] + b.shape[0]
    exact = a.shape[0] < 50 and b.shape[0] < 50 and not ties
    res = stats.mannwhitneyu(a, b, use_continuity=True, method="exact" if exact else "asymptotic")
    name = "Wilcoxon rank-sum " + (
        "exact" if exact else "normal approximation with continuity correction"
    )
    return TestResult(name, float(res.statistic), float(res.pvalue), None, {"exact": exact})


def kruskal_test(*groups: ArrayLike) -> TestResult:
    """Kruskal–Wallis rank-sum test with tie correction, as R ``kruskal.test``."""
    cleaned = [_clean(g)[0] for g in groups]
    if len(cleaned) < 2 or any(g.shape[0] == 0 for g in cleaned):
        raise ValueError("need at least two non-empty groups")
    res = stats.kruskal(*cleaned)
    return TestResult(
        "Kruskal-Wallis rank-sum", float(res.statistic), float(res.pvalue), float(len(cleaned) - 1)
    )
