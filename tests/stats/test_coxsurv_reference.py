"""Cox predicted survival for covariate profiles against R survival 3.5 survfit.coxph
(tests/reference/cox_survfit.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rechallenge.stats.cox import fit_cox
from rechallenge.stats.coxsurv import cox_survfit

R = json.loads(
    (
        Path(__file__).resolve().parents[1] / "reference" / "fixtures" / "coxx_survfit.json"
    ).read_text()
)
X = np.column_stack([R["age"], R["sex"]]).astype(float)
PROFILES = np.column_stack([R["profiles"]["age"], R["profiles"]["sex"]]).astype(float)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_curves_match_r_survfit_coxph(ties: str) -> None:
    fit = fit_cox(np.asarray(R["time"], dtype=float), np.asarray(R["event"]), X, ties=ties)  # type: ignore[arg-type]
    curves = cox_survfit(fit, PROFILES)
    r = R[ties]
    np.testing.assert_array_equal(curves.time, r["time"])
    np.testing.assert_array_equal(curves.n_risk, r["n_risk"])
    np.testing.assert_array_equal(curves.n_event, r["n_event"])
    for key in ("surv", "std_err", "cumhaz", "lower", "upper"):
        ours = getattr(curves, key).ravel(order="F")
        np.testing.assert_allclose(ours, np.asarray(r[key], dtype=float), rtol=1e-12, err_msg=key)


def test_profiles_are_checked() -> None:
    fit = fit_cox(np.asarray(R["time"], dtype=float), np.asarray(R["event"]), X)
    with pytest.raises(ValueError, match="2 columns"):
        cox_survfit(fit, [[60.0]])
    halves = np.arange(X.shape[0]) % 2
    strat = fit_cox(np.asarray(R["time"], dtype=float), np.asarray(R["event"]), X, strata=halves)
    with pytest.raises(ValueError, match="strata"):
        cox_survfit(strat, [[0.0]])
