"""rechallenge.stats.meta: checks at the front, edge cases and the JSON shape."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from rechallenge.stats.meta import (
    back_transform,
    escalc_proportions,
    leave_one_out,
    log_median_se,
    meta_medians,
    meta_proportions,
    rma,
    subgroups,
)

JSON_KEYS = {
    "k",
    "measure",
    "method",
    "pooled",
    "pooled_transformed",
    "tau2",
    "I2",
    "H2",
    "Q",
    "Q_df",
    "Q_p",
    "prediction",
    "studies",
}


def test_json_has_the_issue_keys_unrounded() -> None:
    d = meta_proportions([0, 3, 7], [13, 20, 7], study=["A", "B", "C"]).to_dict()
    assert set(d["pooled"]) == {"estimate", "ci_lower", "ci_upper"}
    assert set(d["pooled_transformed"]) == {"estimate", "se", "ci_lower", "ci_upper"}
    assert set(d["prediction"]) == {"lower", "upper"}
    assert set(d["studies"][0]) == {
        "study",
        "events",
        "n",
        "estimate",
        "ci_lower",
        "ci_upper",
        "weight",
    }
    assert math.isclose(sum(s["weight"] for s in d["studies"]), 100.0)
    assert set(d) == JSON_KEYS  # exactly the documented keys
    res = meta_proportions([0, 3, 7], [13, 20, 7], study=["A", "B", "C"])
    assert res.adjusted == ("A", "C")  # 0/13 and 7/7 get 1/2 added, 3/20 does not
    assert (d["measure"], d["method"]) == ("PLO", "REML")


@pytest.mark.parametrize(
    ("events", "n", "measure", "adjusted"),
    [
        ([0, 5], [10, 10], "PLO", [True, False]),
        ([10, 5], [10, 10], "PR", [True, False]),
        ([0, 10], [10, 10], "PFT", [False, False]),  # no correction for the double arcsine
        ([1, 9], [10, 10], "PLO", [False, False]),
    ],
)
def test_half_is_added_to_zero_cells_only(
    events: list[int], n: list[int], measure: str, adjusted: list[bool]
) -> None:
    yi, vi, adj = escalc_proportions(events, n, measure)
    assert adj.tolist() == adjusted
    assert np.all(np.isfinite(yi)) and np.all(vi > 0)


def test_zero_event_study_under_plo_shows_the_adjusted_proportion() -> None:
    res = meta_proportions([0, 4], [13, 30])
    assert math.isclose(res.studies[0].estimate, 0.5 / 14)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"events": [1], "n": [10]}, "at least 2"),
        ({"events": [1, 11], "n": [10, 10]}, "0 <= events <= n"),
        ({"events": [1.5, 2], "n": [10, 10]}, "whole numbers"),
        ({"events": [1, 2], "n": [10]}, "same length"),
        ({"events": [1, 2], "n": [10, 10], "measure": "PAS"}, "measure must be"),
        ({"events": [1, 2], "n": [10, 10], "method": "HS"}, "method must be"),
        ({"events": [1, 2], "n": [10, 10], "conf_level": 95}, "conf_level"),
        ({"events": [1, float("nan")], "n": [10, 10]}, "finite"),
    ],
)
def test_bad_input_is_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        meta_proportions(**kwargs)  # type: ignore[arg-type]


def test_results_are_immutable() -> None:
    res = meta_proportions([2, 3], [10, 12])
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.pooled = 0.5  # type: ignore[misc]


def test_common_effect_prediction_interval_is_the_ci() -> None:
    fit = rma([0.1, 0.5, 0.2], [0.04, 0.05, 0.03], method="FE")
    assert fit.tau2 == 0 and (fit.pi_lower, fit.pi_upper) == (fit.ci_lower, fit.ci_upper)


def test_identical_studies_give_zero_heterogeneity() -> None:
    fit = rma([0.3, 0.3, 0.3], [0.02, 0.03, 0.04], knha=True)
    assert fit.tau2 == 0 and abs(fit.Q) < 1e-20 and fit.I2 == 0
    assert fit.s2w == 0  # metafor sets the Hartung-Knapp factor to 0 when Q is ~0


def test_pr_back_transform_is_clipped() -> None:
    assert back_transform("PR", -0.02) == 0.0 and back_transform("PR", 1.3) == 1.0
    with pytest.raises(ValueError, match="sample size"):
        back_transform("PFT", 0.5)


def test_sensitivity_needs_three_studies_and_two_levels() -> None:
    fit = rma([0.1, 0.4], [0.02, 0.03])
    with pytest.raises(ValueError, match="at least 3"):
        leave_one_out(fit)
    fit3 = rma([0.1, 0.4, 0.2], [0.02, 0.03, 0.05])
    with pytest.raises(ValueError, match="2 levels"):
        subgroups(fit3, ["a", "a", "a"])
    single = subgroups(fit3, ["a", "b", "b"])
    assert single.fits[0] is None and single.estimates[0] == 0.1  # one study: itself


def test_median_se_from_ci_width() -> None:
    se = log_median_se([2.0], [8.0])
    assert math.isclose(se[0], math.log(4) / (2 * 1.959963984540054))
    with pytest.raises(ValueError, match="lower <= median <= upper"):
        meta_medians([1.0, 3.0], [1.5, 2.0], [2.0, 4.0])
    res = meta_medians([2.0, 4.0], [1.0, 2.0], [4.0, 8.0], study=["x", "y"])
    assert math.isclose(res.pooled, math.sqrt(8.0))  # equal weights: geometric mean
    assert "events" not in res.to_dict()["studies"][0]
