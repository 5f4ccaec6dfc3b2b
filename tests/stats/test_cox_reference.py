"""fit_cox against R survival 3.5 coxph: fixtures written by tests/reference/cox.R."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rechallenge.stats.cox import CoxResult, MonotoneLikelihoodWarning, fit_cox

REF = Path(__file__).resolve().parents[1] / "reference"
CASES = sorted(p.stem.removeprefix("cox_") for p in (REF / "fixtures").glob("cox_*.json"))
RTOL = 1e-6
RTOL_COEF = 1e-8


def load_case(name: str) -> tuple[dict[str, Any], pd.DataFrame]:
    """The R fixture and the analysed rows of one data set."""
    fixture = json.loads((REF / "fixtures" / f"cox_{name}.json").read_text())
    data = pd.read_csv(REF / "data" / f"cox_{name}.csv")
    for col in fixture["factors"]:
        data[col] = data[col].astype(str)
    return fixture, data


def fit_case(name: str, ties: str) -> tuple[dict[str, Any], CoxResult]:
    """Fit one fixture's model with the same covariates, factors and strata as R."""
    fixture, data = load_case(name)
    strata = None if fixture["strata"] is None else data[fixture["strata"]].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MonotoneLikelihoodWarning)
        result = fit_cox(
            data["time"],
            data["event"],
            data[fixture["covariates"]],
            strata=strata,
            ties=ties,  # type: ignore[arg-type]
            reference=fixture["factors"],
        )
    return fixture["fits"][ties], result


def test_every_fixture_is_exercised() -> None:
    assert len(CASES) >= 13
    assert {"lung", "veteran", "ovarian", "colon", "pbc", "aml", "monotone"} <= set(CASES)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("name", [c for c in CASES if c != "monotone"])
def test_matches_r_coxph(name: str, ties: str) -> None:
    r, fit = fit_case(name, ties)
    assert list(fit.terms) == r["terms"]
    np.testing.assert_allclose(fit.coef, r["coef"], rtol=RTOL_COEF)
    np.testing.assert_allclose(fit.se, r["se"], rtol=RTOL)
    np.testing.assert_allclose(fit.var.ravel(order="F"), r["var"], rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose([fit.loglik_null, fit.loglik], r["loglik"], rtol=1e-10)
    np.testing.assert_allclose(
        [fit.lr.chi2, fit.wald.chi2, fit.score.chi2], [r["lr"], r["wald"], r["score"]], rtol=RTOL
    )
    assert fit.lr.df == fit.wald.df == fit.score.df == r["df"]
    assert (fit.n, fit.events, fit.iterations) == (r["n"], r["events"], r["iter"])
    assert fit.concordance is not None
    np.testing.assert_allclose(
        [fit.concordance.c, fit.concordance.se], [r["concordance"], r["concordance_se"]], rtol=RTOL
    )
    assert fit.warnings == ()


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_monotone_likelihood_warns_and_keeps_the_fit(ties: str) -> None:
    fixture, data = load_case("monotone")
    r = fixture["fits"][ties]
    with pytest.warns(MonotoneLikelihoodWarning, match="subgroup"):
        fit = fit_cox(data["time"], data["event"], data[["subgroup", "age"]], ties=ties)  # type: ignore[arg-type]
    assert any("coefficient may be infinite" in w for w in r["warnings"])
    assert any("subgroup" in w and "infinite" in w for w in fit.warnings)
    # the diverging coefficient is where R stopped; the finite one and the loglik agree
    assert fit.iterations == r["iter"]
    np.testing.assert_allclose(fit.coef[0], r["coef"][0], rtol=1e-6)
    np.testing.assert_allclose(fit.coef[1], r["coef"][1], rtol=1e-6)
    np.testing.assert_allclose(fit.loglik, r["loglik"][1], rtol=1e-10)
    np.testing.assert_allclose(fit.score.chi2, r["score"], rtol=RTOL)
    assert fit.se[0] > 1e3
    assert "subgroup" in fit.to_dict()["warnings"][0]
