"""Counting-process data (start, stop] against R survival 3.5 (tests/reference/counting.R):
delayed entry and time-varying covariates for Kaplan–Meier and Cox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rechallenge.stats.cox import fit_cox
from rechallenge.stats.km import kaplan_meier, kaplan_meier_by_group
from rechallenge.stats.zph import cox_zph

FIXTURE = Path(__file__).resolve().parents[1] / "reference" / "fixtures" / "cp_counting.json"
REF = json.loads(FIXTURE.read_text())
KM = {c["name"]: c for c in REF["km"]}
COX = {c["name"]: c for c in REF["cox"]}


def _none(values: list[Any]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


@pytest.mark.parametrize("name", sorted(KM))
def test_km_matches_r_survfit(name: str) -> None:
    case = KM[name]
    start = np.asarray(case["start"], dtype=float)
    stop = np.asarray(case["stop"], dtype=float)
    event = np.asarray(case["event"])
    if case["group"] is None:
        fits = {"all": kaplan_meier(stop, event, start=start)}
    else:
        fits = {
            str(k): v
            for k, v in kaplan_meier_by_group(stop, event, case["labels"], start=start).items()
        }
    curve = np.asarray(case["curve"])
    for k, (label, fit) in enumerate(sorted(fits.items())):
        rows = curve == label
        np.testing.assert_array_equal(fit.time, np.asarray(case["time"])[rows])
        np.testing.assert_array_equal(fit.n_risk, np.asarray(case["n_risk"])[rows])
        np.testing.assert_array_equal(fit.n_event, np.asarray(case["n_event"])[rows])
        np.testing.assert_array_equal(fit.n_censor, np.asarray(case["n_censor"])[rows])
        np.testing.assert_allclose(fit.surv, np.asarray(case["surv"])[rows], rtol=1e-13)
        # once S = 0 the SE is undefined: R reports Inf or NaN depending on the data
        # (NaN here), we report inf as for right-censored data
        se = np.where(np.isinf(fit.std_err_log), np.nan, fit.std_err_log)
        np.testing.assert_allclose(se, _none(case["std_err"])[rows], rtol=1e-12)
        np.testing.assert_allclose(fit.lower, _none(case["lower"])[rows], rtol=1e-12)
        np.testing.assert_allclose(fit.upper, _none(case["upper"])[rows], rtol=1e-12)
        m = fit.median
        np.testing.assert_allclose(
            [m.estimate, m.lower, m.upper],
            _none([case["median"][k], case["median_lower"][k], case["median_upper"][k]]),
        )
        assert fit.n == case["records"][k]


def test_km_tiny_by_hand() -> None:
    # (0,4] (0,3]c (2,6] (1,5] (3,8]c (0,2] (5,9]: at t = 2 four rows have start < 2 <= stop
    # (the row entering at 2 is not yet at risk): S = 3/4; at 4, 4 at risk: S = 3/4 * 3/4.
    case = KM["tiny"]
    fit = kaplan_meier(case["stop"], case["event"], start=case["start"])
    assert fit.n_risk.tolist()[:3] == [4, 4, 4]
    assert fit.surv[0] == 0.75 and fit.surv[2] == 0.5625
    lm = fit.survival_at([1.0, 3.0])
    assert lm.n_risk.tolist() == [3, 4]


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("name", sorted(COX))
def test_cox_matches_r_coxph(name: str, ties: str) -> None:
    case = COX[name]
    r = case[ties]
    fit = fit_cox(
        np.asarray(case["stop"], dtype=float),
        np.asarray(case["event"]),
        np.column_stack(case["x"]),
        start=np.asarray(case["start"], dtype=float),
        strata=case["strata_col"],
        ties=ties,  # type: ignore[arg-type]
    )
    np.testing.assert_allclose(fit.coef, r["coef"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fit.var.ravel(order="F"), r["var"], rtol=1e-8)
    np.testing.assert_allclose([fit.loglik_null, fit.loglik], r["loglik"], rtol=1e-12)
    assert fit.score.chi2 == pytest.approx(r["score"], rel=1e-10)
    assert fit.wald.chi2 == pytest.approx(r["wald"], rel=1e-9)
    assert fit.iterations == r["iter"]
    assert (fit.n, fit.events) == (r["n"], r["events"])
    assert fit.concordance is None


def test_rows_split_at_a_time_without_events_give_the_same_fit() -> None:
    # one subject's interval cut in two with the same covariate: nothing changes
    time, event, x = [3.0, 5.0, 6.0, 8.0, 9.0], [1, 0, 1, 1, 0], [[1.0], [0.0], [1.0], [0.0], [1.0]]
    whole = fit_cox(time, event, x, start=[0.0] * 5)
    split = fit_cox(
        [3.0, 5.0, 4.0, 6.0, 8.0, 9.0], [1, 0, 0, 1, 1, 0],
        [[1.0], [0.0], [1.0], [1.0], [0.0], [1.0]],
        start=[0.0, 0.0, 0.0, 4.0, 0.0, 0.0],
    )  # fmt: skip
    np.testing.assert_allclose(split.coef, whole.coef, rtol=1e-12)
    np.testing.assert_allclose(split.var, whole.var, rtol=1e-12)
    right = fit_cox(time, event, x)
    np.testing.assert_allclose(whole.coef, right.coef, rtol=1e-12)


def test_start_must_be_before_stop_and_zph_refuses() -> None:
    with pytest.raises(ValueError, match="start must be < stop"):
        kaplan_meier([2.0, 3.0], [1, 0], start=[0.0, 3.0])
    fit = fit_cox([2.0, 3.0, 4.0], [1, 1, 0], [[0.0], [1.0], [0.0]], start=[0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="counting-process"):
        cox_zph(fit)
