"""Cox edge cases against R survival 3.5: fixtures from tests/reference/cox_edge.R.

Perfectly separated data make the fit diverge: late risk sets hold only tiny weights
``exp(eta)``, ``1 / S0^2`` overflows, and a fit that let it become NaN stalled in step
halving far from where R stops. Fits whose log partial likelihood is exactly 0 run out of
iterations; R then reports coefficient 0 (not NA) and ``iter.max + 1`` iterations.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rechallenge.stats.cox import (
    CoxConvergenceWarning,
    CoxResult,
    MonotoneLikelihoodWarning,
    fit_cox,
)
from rechallenge.stats.km import kaplan_meier

FIXTURE = Path(__file__).resolve().parents[1] / "reference" / "fixtures" / "coxx_edge.json"
REF = json.loads(FIXTURE.read_text())
CASES = REF["cox"]


def _fit(case: dict[str, Any]) -> CoxResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoxConvergenceWarning)
        warnings.simplefilter("ignore", MonotoneLikelihoodWarning)
        return fit_cox(
            np.asarray(case["time"], dtype=float),
            np.asarray(case["event"]),
            np.column_stack(case["x"]),
            ties=case["ties"],
        )


def _ids(case: dict[str, Any]) -> str:
    return f"{case['name']}-{case['ties']}"


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_stops_where_r_stops(case: dict[str, Any]) -> None:
    fit = _fit(case)
    # a diverged fit is ill-conditioned: the coefficient agrees to ~1e-8, its variance
    # (about 1e9 here) to ~1e-5
    np.testing.assert_allclose(fit.coef, case["coef"], rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(fit.var.ravel(order="F"), case["var"], rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose([fit.loglik_null, fit.loglik], case["loglik"], rtol=1e-9, atol=1e-9)
    assert fit.iterations == case["iter"]
    if case["wald"] is not None:
        assert fit.wald.chi2 == pytest.approx(case["wald"], rel=1e-5, abs=1e-12)
    if case["score"] is not None:
        assert fit.score.chi2 == pytest.approx(case["score"], rel=1e-9)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_warns_as_r(case: dict[str, Any]) -> None:
    fit = _fit(case)
    r_out = any("Ran out of iterations" in w for w in case["warnings"])
    r_infinite = any("may be infinite" in w for w in case["warnings"])
    assert (not fit.converged) == r_out
    assert any("may be infinite" in w for w in fit.warnings) == r_infinite


def test_the_information_stays_finite_where_one_over_s0_squared_overflows() -> None:
    case = next(c for c in CASES if c["name"] == "sep120" and c["ties"] == "efron")
    fit = _fit(case)
    assert np.isfinite(fit.var).all()
    assert fit.coef[0] > 1000  # the old kernel stalled in step halving near 700


def test_a_zero_loglik_fit_reports_coefficient_zero_not_nan() -> None:
    case = next(c for c in CASES if c["name"] == "zero2" and c["ties"] == "efron")
    fit = _fit(case)
    np.testing.assert_array_equal(fit.coef, [0.0, 0.0])
    np.testing.assert_array_equal(fit.se, [0.0, 0.0])
    assert fit.iterations == 21


def test_rmst_below_every_time_is_an_error_as_in_r() -> None:
    r = REF["rmst"]
    km = kaplan_meier(np.asarray(r["time"], dtype=float), np.asarray(r["event"]))
    assert "smallest" in r["error"]
    with pytest.raises(ValueError, match="below the first time"):
        km.rmst(r["tau_below"])
    assert km.rmst(r["tau_first"]).rmst == pytest.approx(r["rmean_first"])
