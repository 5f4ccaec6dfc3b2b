"""Proportion intervals against R (values from the R call in each comment, R 4.2)."""

from __future__ import annotations

import pytest

from rechallenge.stats.proportions import clopper_pearson, wilson


@pytest.mark.parametrize(
    ("x", "n", "lower", "upper"),
    [
        (7, 20, 0.153909204784541, 0.592188534532828),  # binom.test(7, 20)$conf.int
        (0, 20, 0.0, 0.1684335),  # endpoints-and-statistics.md §2
        (20, 20, 0.8315665, 1.0),
    ],
)
def test_clopper_pearson_matches_binom_test(x: int, n: int, lower: float, upper: float) -> None:
    ci = clopper_pearson(x, n)
    assert ci.lower == pytest.approx(lower, rel=1e-6, abs=1e-7)
    assert ci.upper == pytest.approx(upper, rel=1e-6, abs=1e-7)
    assert ci.method == "Clopper-Pearson exact"
    assert ci.to_dict()["estimate"] == x / n


@pytest.mark.parametrize(
    ("x", "n", "lower", "upper"),
    [
        (7, 20, 0.181191824101082, 0.567145723314764),  # prop.test(7, 20, correct=FALSE)
        (0, 20, 0.0, 0.161125158052819),
        (20, 20, 0.838874841947181, 1.0),
    ],
)
def test_wilson_matches_prop_test(x: int, n: int, lower: float, upper: float) -> None:
    ci = wilson(x, n)
    assert ci.lower == pytest.approx(lower, rel=1e-6, abs=1e-12)
    assert ci.upper == pytest.approx(upper, rel=1e-6)
    assert "Wilson" in ci.method


@pytest.mark.parametrize(("x", "n"), [(-1, 5), (6, 5), (1, 0), (1.5, 3), (True, 3)])
def test_bad_counts_rejected(x: float, n: int) -> None:
    with pytest.raises(ValueError):
        clopper_pearson(x, n)  # type: ignore[arg-type]


def test_bad_level_rejected() -> None:
    with pytest.raises(ValueError, match="conf_level"):
        wilson(1, 3, conf_level=95)
