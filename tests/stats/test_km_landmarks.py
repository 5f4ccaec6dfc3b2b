"""Landmark rates against R ``summary(fit, times, extend = TRUE)`` (tests/reference/landmarks.R).

Our rule differs from R in one place only: after the last follow-up of a curve that has not
reached 0, R carries the last value forward; we report the rate as not estimable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rechallenge.analysis.survival import landmark_rates
from rechallenge.stats.km import kaplan_meier

REF = Path(__file__).resolve().parents[1] / "reference"
FIXTURE: dict[str, Any] = json.loads((REF / "fixtures" / "landmarks.json").read_text("utf-8"))
CASES = [(name, ct) for name in FIXTURE for ct in ("log", "log-log")]


def _same(ours: float | None, theirs: float | None) -> bool:
    if theirs is None or ours is None:
        return ours is None and theirs is None
    return abs(ours - theirs) <= 1e-6 * max(1.0, abs(theirs))


@pytest.mark.parametrize(("name", "conf_type"), CASES)
def test_landmark_rates_follow_r_extend_true(name: str, conf_type: Any) -> None:
    data = pd.read_csv(REF / "data" / f"{name}.csv")
    ref = FIXTURE[name]
    expected = ref[conf_type]
    fit = kaplan_meier(data["time"], data["status"], conf_type=conf_type)
    rates = landmark_rates(fit, list(expected["time"]), 1.0)  # days in, "months" = days
    for i, rate in enumerate(rates):
        after_end = expected["time"][i] > ref["last_time"]
        assert rate["n_risk"] == expected["n_risk"][i]
        if after_end and ref["last_surv"] > 0:
            assert rate == rate | {"surv": None, "lower": None, "upper": None, "estimable": False}
            continue
        assert rate["estimable"] is True
        for key in ("surv", "lower", "upper"):
            value = rate[key]
            assert _same(None if value is None or np.isnan(value) else value, expected[key][i])


def test_a_curve_that_reached_zero_has_rate_zero_after_its_end() -> None:
    data = pd.read_csv(REF / "data" / "lm_zero.csv")
    (rate,) = landmark_rates(kaplan_meier(data["time"], data["status"]), [6.0], 1.0)
    assert (rate["surv"], rate["estimable"], rate["n_risk"]) == (0.0, True, 0)


def test_every_fixture_exercises_both_sides_of_the_rule() -> None:
    beyond = {n: max(r["log"]["time"]) > r["last_time"] for n, r in FIXTURE.items()}
    assert all(beyond.values())
    assert {r["last_surv"] == 0 for r in FIXTURE.values()} == {True, False}
