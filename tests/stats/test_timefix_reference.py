"""R's timefix rule (aeqSurv) against R survival 3.5 (tests/reference/timefix.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rechallenge.stats.cox import fit_cox
from rechallenge.stats.km import kaplan_meier
from rechallenge.stats.survdata import timefix

R = json.loads(
    (
        Path(__file__).resolve().parents[1] / "reference" / "fixtures" / "coxx_timefix.json"
    ).read_text()
)
TIME = np.asarray(R["time"], dtype=float)
EVENT = np.asarray(R["event"])
X = np.asarray(R["x"], dtype=float)[:, None]


def test_times_merged_as_aeqsurv() -> None:
    fixed, _ = timefix(TIME)
    np.testing.assert_array_equal(fixed, R["aeq"])
    assert len(np.unique(fixed)) < len(np.unique(TIME))  # the data do have near-ties


@pytest.mark.parametrize("key", ["fixed", "exact"])
def test_cox_and_km_with_and_without_timefix(key: str) -> None:
    r = R[key]
    fit = fit_cox(TIME, EVENT, X, timefix=key == "fixed")
    np.testing.assert_allclose(fit.coef, r["coef"], rtol=1e-9)
    np.testing.assert_allclose(fit.var.ravel(), r["var"], rtol=1e-9)
    np.testing.assert_allclose([fit.loglik_null, fit.loglik], r["loglik"], rtol=1e-12)
    km = kaplan_meier(TIME, EVENT, timefix=key == "fixed")
    np.testing.assert_array_equal(km.time, r["km_time"])
    np.testing.assert_allclose(km.surv, r["km_surv"], rtol=1e-13)
    np.testing.assert_array_equal(km.n_risk, r["km_n_risk"])


def test_an_interval_of_effective_length_zero_is_an_error() -> None:
    with pytest.raises(ValueError, match="effective length 0"):
        timefix([1.0 + 1e-12, 5.0], start=[1.0, 0.0])
    t, s = timefix([2.0, 3.0], start=[0.0, 1.0])
    assert t.tolist() == [2.0, 3.0] and s is not None and s.tolist() == [0.0, 1.0]
