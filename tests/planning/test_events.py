"""Events (Schoenfeld, Freedman) and Lachin–Foulkes sample size against published values and
base-R integrals (fixture written by tests/reference/planning.R)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from rechallenge.planning.events import (
    event_probability,
    hazard_from_median,
    lachin_foulkes,
    required_events,
)

FIXTURE = Path(__file__).resolve().parents[1] / "reference" / "fixtures" / "plan_reference.json"
REF: dict[str, Any] = json.loads(FIXTURE.read_text())


def test_schoenfeld_published_examples() -> None:
    # HR 1.5 (or 2/3), two-sided 5 %, 80 % power, 1:1: the textbook 191 events
    assert required_events(1.5).events == 191
    assert required_events(2 / 3).events == 191
    r = required_events(0.7)
    assert (r.events, round(r.events_exact, 2)) == (247, 246.79)
    # 90 % power, one-sided 2.5 %: same z as two-sided 5 %
    assert required_events(0.7, power=0.9, alpha=0.025, sides=1).events == 331


def test_freedman_needs_more_events_than_schoenfeld() -> None:
    s, f = required_events(0.7), required_events(0.7, method="freedman")
    assert (s.events, f.events) == (247, 253)


@pytest.mark.parametrize("case", REF["events"], ids=lambda c: f"hr{c['hr']}-k{c['allocation']}")
def test_events_match_r(case: dict[str, Any]) -> None:
    kw = {
        "alpha": case["alpha"],
        "power": case["power"],
        "allocation": case["allocation"],
        "sides": case["sides"],
    }
    s = required_events(case["hr"], **kw)
    f = required_events(case["hr"], method="freedman", **kw)
    assert s.events_exact == pytest.approx(case["schoenfeld"], rel=1e-12)
    assert f.events_exact == pytest.approx(case["freedman"], rel=1e-12)
    assert s.events == math.ceil(case["schoenfeld"])


@pytest.mark.parametrize("case", REF["lachin_foulkes"], ids=lambda c: f"hr{c['hr']}")
def test_lachin_foulkes_matches_r_integrals(case: dict[str, Any]) -> None:
    h_c, hr = case["hc"], case["hr"]
    for h, key in ((h_c, "p_event_control"), (h_c * hr, "p_event_experimental")):
        p = event_probability(h, case["A"], case["F"], case["d"])
        assert p == pytest.approx(case[key], rel=1e-9)
    res = lachin_foulkes(
        h_c,
        hr,
        accrual=case["A"],
        follow_up=case["F"],
        dropout=case["d"],
        alpha=case["alpha"],
        power=case["power"],
        allocation=case["k"],
        sides=case["sides"],
    )
    assert res.n_exact == pytest.approx(case["n_exact"], rel=1e-8)
    k = case["k"]
    assert res.n_control == math.ceil(case["n_exact"] / (1 + k))
    assert res.n_experimental == math.ceil(case["n_exact"] * k / (1 + k))


def test_event_probability_limits() -> None:
    # no accrual period: everyone followed for F; no dropout: 1 - exp(-hF)
    assert event_probability(0.1, 0.0, 10.0) == pytest.approx(1 - math.exp(-1.0))
    # dropout competes: the event share is h / (h + d) of everything that happens
    assert event_probability(0.1, 0.0, 1e6, dropout=0.1) == pytest.approx(0.5)
    assert event_probability(0.1, 12, 6, 0.02) < event_probability(0.1, 12, 6, 0.0)


def test_lachin_foulkes_events_near_schoenfeld() -> None:
    # long follow-up: almost everyone has the event, so events come close to Schoenfeld's
    # count; a little above it, as the test of a hazard difference is less efficient
    res = lachin_foulkes(hazard_from_median(6), 0.7, accrual=12, follow_up=600)
    schoenfeld = required_events(0.7).events_exact
    assert schoenfeld < res.events < 1.05 * schoenfeld
    # dropout makes the trial bigger
    more = lachin_foulkes(hazard_from_median(6), 0.7, accrual=12, follow_up=6, dropout=0.02)
    less = lachin_foulkes(hazard_from_median(6), 0.7, accrual=12, follow_up=6)
    assert more.n > less.n


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hr": 1.0}, "differ from 1"),
        ({"hr": -0.5}, "positive"),
        ({"hr": 0.7, "alpha": 1.5}, "alpha"),
        ({"hr": 0.7, "power": 0.0}, "power"),
        ({"hr": 0.7, "sides": 3}, "sides"),
        ({"hr": 0.7, "allocation": 0.0}, "allocation"),
    ],
)
def test_bad_inputs_are_refused(kwargs: dict[str, Any], message: str) -> None:
    hr = kwargs.pop("hr")
    with pytest.raises(ValueError, match=message):
        required_events(hr, **kwargs)
