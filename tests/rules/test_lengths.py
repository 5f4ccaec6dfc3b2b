"""Exact lengths: sizes in integer micrometres, fractions only below 1 µm."""

from __future__ import annotations

from fractions import Fraction

import pytest

from rechallenge.rules.response_common import as_mm, meets_pd, meets_pr, pct_change, to_um


@pytest.mark.parametrize(
    ("mm", "um"),
    [(23.1, 23100), (0.1, 100), (10.0, 10000), (7.005, 7005), (0.0, 0), (123.456, 123456)],
)
def test_sizes_written_to_a_micrometre_are_integers(mm: float, um: int) -> None:
    exact = to_um(mm)
    assert type(exact) is int
    assert exact == um
    assert as_mm(exact) == mm


def test_finer_sizes_stay_exact_fractions() -> None:
    exact = to_um(1.2345)
    assert exact == Fraction(2469, 2)  # 1234.5 µm
    assert isinstance(exact, Fraction)
    assert as_mm(exact) == 1.2345


def test_the_thirty_percent_boundary_is_exact() -> None:
    # recist-1.1.md §3: 33 mm -> 23.1 mm is exactly -30 %, a PR; 23.2 mm is not
    assert meets_pr(to_um(33), to_um(23.1))
    assert not meets_pr(to_um(33), to_um(23.2))
    assert pct_change(to_um(33), to_um(23.1)) == pytest.approx(-30.0, abs=1e-12)


def test_progression_needs_twenty_percent_and_five_mm() -> None:
    assert meets_pd(to_um(25), to_um(30))  # +20 % and +5 mm
    assert not meets_pd(to_um(10), to_um(14.9))  # +49 % but only +4.9 mm
    assert not meets_pd(to_um(50), to_um(59.9))  # +9.9 mm but only +19.8 %
    assert meets_pd(to_um(1.2345), to_um(6.2345))  # fractions mix with integers
