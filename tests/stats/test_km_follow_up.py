"""Median follow-up by reverse Kaplan–Meier against R survival 3.5 (tests/reference/follow_up.R)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rechallenge.stats.km import kaplan_meier, median_follow_up

REF = Path(__file__).resolve().parents[1] / "reference"
FIXTURE: dict[str, Any] = json.loads((REF / "fixtures" / "follow_up.json").read_text("utf-8"))
CASES = [(name, ct) for name in FIXTURE for ct in ("log", "log-log", "plain")]


def _close(ours: float, theirs: float | None) -> bool:
    if theirs is None:
        return bool(np.isnan(ours))
    return bool(abs(ours - theirs) <= 1e-6 * max(1.0, abs(theirs)))


@pytest.mark.parametrize(("name", "conf_type"), CASES)
def test_median_follow_up_matches_r_reverse_survfit(name: str, conf_type: Any) -> None:
    data = pd.read_csv(REF / "data" / f"{name}.csv")
    expected = FIXTURE[name][conf_type]
    got = median_follow_up(data["time"], data["status"], conf_type=conf_type)
    assert len(data) == FIXTURE[name]["n"]
    assert _close(got.estimate, expected["median"])
    assert _close(got.lower, expected["lower"])
    assert _close(got.upper, expected["upper"])
    assert got.method.startswith("reverse Kaplan-Meier")


def test_a_death_tied_with_a_censoring_counts_as_censored_in_the_reverse_curve() -> None:
    # fu_small: a death and a censoring on day 5; the censoring is the reverse "event" and
    # the death, censored at 5, is still at risk there, as R orders them.
    data = pd.read_csv(REF / "data" / "fu_small.csv")
    fit = kaplan_meier(data["time"], 1 - data["status"])
    at5 = int(np.flatnonzero(fit.time == 5)[0])
    assert (fit.n_risk[at5], fit.n_event[at5], fit.n_censor[at5]) == (8, 1, 1)


def test_everyone_died_gives_no_median_follow_up() -> None:
    got = median_follow_up([1, 2, 3], [1, 1, 1])
    assert np.isnan(got.estimate)
