"""fit_firth_cox against R coxphf 1.13.4: fixtures written by tests/reference/firth.R.

coxphf is run with its defaults (Firth penalty 0.5, profile penalised-likelihood CIs and
penalised LR p-values, alpha 0.05, maxit 50, maxhs 5, epsilon 1e-6, gconv 1e-4, maxstep
0.5) and always uses Breslow ties, which is the only tie handling of ``fit_firth_cox``.

Tolerances follow coxphf's own stopping rules (src/coxphf.f90):

* the estimate stops once every step on the *standardised* scale (covariate / sd) is at
  most ``epsilon`` = 1e-6 and every ``|U*|`` at most ``gconv`` = 1e-4, so a coefficient is
  only pinned down to about ``epsilon / sd`` in raw units: ``rtol = 1e-6`` plus that
  ``atol``; the SE ``sqrt(diag I^-1)`` moves with the estimate only to first order;
* a profile limit (Venzon-Moolgavkar iteration) stops once ``|l*_target - l*| <= 1e-6``,
  i.e. the log limit is known to about ``1e-6 / |dl*/db|`` (~ 5e-7 SE): ``rtol = 1e-5``
  on the hazard-ratio limits, i.e. ~1e-5 on the log scale;
* p-values come from restricted refits with the same rule; the penalised log-likelihood
  is flat at its maximum, so the chi-square is accurate to second order: ``rtol = 1e-5``.

coxphf reports ``l*`` of the standardised design, which is ours minus ``sum(log(sd))``
(``0.5 log|D^-1 I D^-1|``); the fixtures carry those sds (``scale_sd``).
Iteration counts are not compared: coxphf caps steps on the standardised scale.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rechallenge.stats.firth import FirthCoxResult, fit_firth_cox

REF = Path(__file__).resolve().parents[1] / "reference"
CASES = sorted(p.stem.removeprefix("firth_") for p in (REF / "fixtures").glob("firth_*.json"))
RTOL_COEF = 1e-6
RTOL_SE = 1e-6
RTOL_CI = 1e-5
RTOL_P = 1e-5
RTOL_LOGLIK = 1e-8


@cache
def fit_case(name: str) -> tuple[dict[str, Any], FirthCoxResult]:
    """The coxphf fixture and our fit of the same rows and covariates."""
    fixture = json.loads((REF / "fixtures" / f"firth_{name}.json").read_text())
    data = pd.read_csv(REF / "data" / fixture["data"])
    settings = fixture["settings"]
    assert settings["ties"] == "breslow"
    result = fit_firth_cox(
        data["time"],
        data["event"],
        data[fixture["covariates"]],
        conf_level=1.0 - settings["alpha"],
        maxit=int(settings["maxit"]),
        maxstep=settings["maxstep"],
        epsilon=settings["epsilon"],
        gconv=settings["gconv"],
    )
    return fixture, result


def test_every_fixture_is_exercised() -> None:
    assert set(CASES) >= {"breast", "monotone", "lung"}
    for name in CASES:
        fixture, _ = fit_case(name)
        assert fixture["coxphf_version"] == "1.13.4"
        assert fixture["warnings"] == []


def test_lung_case_has_tied_event_times() -> None:
    fixture, _ = fit_case("lung")
    data = pd.read_csv(REF / "data" / fixture["data"])
    assert data.loc[data["event"] == 1, "time"].duplicated().any()


@pytest.mark.parametrize("name", CASES)
def test_estimate_and_se_match_coxphf(name: str) -> None:
    r, fit = fit_case(name)
    assert list(fit.terms) == r["terms"]
    assert (fit.n, fit.events) == (r["n"], r["events"])
    assert fit.warnings == ()
    expected = np.asarray(r["coef"])
    atol = r["settings"]["epsilon"] / np.asarray(r["scale_sd"])
    allowed = RTOL_COEF * np.abs(expected) + atol
    assert np.all(np.abs(fit.coef - expected) <= allowed), (fit.coef - expected, allowed)
    np.testing.assert_allclose(fit.se, r["se"], rtol=RTOL_SE)


@pytest.mark.parametrize("name", CASES)
def test_profile_limits_and_p_values_match_coxphf(name: str) -> None:
    r, fit = fit_case(name)
    np.testing.assert_allclose(fit.hr_lower, r["hr_lower"], rtol=RTOL_CI)
    np.testing.assert_allclose(fit.hr_upper, r["hr_upper"], rtol=RTOL_CI)
    np.testing.assert_allclose(fit.p, r["p"], rtol=RTOL_P, atol=1e-14)


@pytest.mark.parametrize("name", CASES)
def test_penalised_loglik_and_global_test_match_coxphf(name: str) -> None:
    r, fit = fit_case(name)
    shift = float(np.sum(np.log(r["scale_sd"])))
    ours = np.array([fit.loglik_null, fit.loglik]) - shift
    np.testing.assert_allclose(ours, r["loglik"], rtol=RTOL_LOGLIK)
    np.testing.assert_allclose(fit.lr_chi2, r["lr"], rtol=RTOL_LOGLIK)
    assert fit.lr_df == r["df"]


def test_breast_matches_published_coxphf_example() -> None:
    """``summary(coxphf(Surv(TIME, CENS) ~ T + N + G + CD, data = breast))``, 4 decimals."""
    _, fit = fit_case("breast")
    np.testing.assert_allclose(fit.coef, [1.2244, 0.9189, 2.4244, 0.3971], atol=5e-5)
