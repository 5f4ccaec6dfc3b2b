"""One-sample log-rank design (Wu 2015) against the published example and base-R
integrals (fixture written by tests/reference/planning.R)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rechallenge.planning.single_arm import one_sample_logrank, one_sample_logrank_power

FIXTURE = Path(__file__).resolve().parents[1] / "reference" / "fixtures" / "plan_reference.json"
REF: dict[str, Any] = json.loads(FIXTURE.read_text())


def test_wu_published_example() -> None:
    # Wu (2015): m0 = 9, HR = 1/1.75, Weibull shape 1.22, accrual 5, follow-up 3 -> n = 88
    res = one_sample_logrank(9, 1 / 1.75, accrual=5, follow_up=3, shape=1.22)
    assert res.n == 88
    power = one_sample_logrank_power(88, 9, 1 / 1.75, accrual=5, follow_up=3, shape=1.22)
    assert round(power, 3) == 0.803
    assert res.median_expected == pytest.approx(9 * 1.75 ** (1 / 1.22))


@pytest.mark.parametrize("case", REF["one_sample_logrank"], ids=lambda c: f"m{c['median']}")
def test_matches_r_integrals(case: dict[str, Any]) -> None:
    res = one_sample_logrank(
        case["median"],
        case["hr"],
        accrual=case["accrual"],
        follow_up=case["follow_up"],
        shape=case["shape"],
        alpha=case["alpha"],
        power=case["power"],
    )
    assert res.n_exact == pytest.approx(case["n_exact"], rel=1e-8)
    assert res.n == case["n"]
    assert res.p_event == pytest.approx(case["p_event"], rel=1e-8)
    got = one_sample_logrank_power(
        res.n,
        case["median"],
        case["hr"],
        accrual=case["accrual"],
        follow_up=case["follow_up"],
        shape=case["shape"],
        alpha=case["alpha"],
    )
    assert got == pytest.approx(case["power_at_n"], rel=1e-8)
    assert got >= case["power"]


def test_refuses_no_effect() -> None:
    with pytest.raises(ValueError, match="differ from 1"):
        one_sample_logrank(6, 1.0, accrual=12, follow_up=6)
