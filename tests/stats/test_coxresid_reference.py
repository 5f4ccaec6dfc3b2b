"""Cox residuals against R survival 3.5 residuals.coxph (tests/reference/cox_residuals.R)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rechallenge.stats.cox import CoxResult, fit_cox
from rechallenge.stats.coxresid import cox_residuals

FIXTURE = Path(__file__).resolve().parents[1] / "reference" / "fixtures" / "coxx_residuals.json"
CASES = {c["name"]: c for c in json.loads(FIXTURE.read_text())["cases"]}


def _fit(case: dict[str, Any], ties: str) -> CoxResult:
    return fit_cox(
        np.asarray(case["time"], dtype=float),
        np.asarray(case["event"]),
        np.column_stack(case["x"]),
        strata=case["strata_col"],
        start=case["start"],
        weights=case["w"],
        ties=ties,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_residuals_match_r(name: str, ties: str) -> None:
    case = CASES[name]
    r = case[ties]
    fit = _fit(case, ties)
    np.testing.assert_allclose(
        cox_residuals(fit, "martingale"), r["martingale"], rtol=1e-8, atol=1e-10
    )
    np.testing.assert_allclose(cox_residuals(fit, "deviance"), r["deviance"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(
        cox_residuals(fit, "score").ravel(order="F"), r["score"], rtol=1e-7, atol=1e-9
    )
    np.testing.assert_allclose(
        cox_residuals(fit, "dfbeta").ravel(order="F"), r["dfbeta"], rtol=1e-7, atol=1e-11
    )


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("name", ["lung", "heart"])
def test_schoenfeld_match_r_sorted_by_time(name: str, ties: str) -> None:
    # R lists the event rows sorted by time; ours are in input order
    case = CASES[name]
    r = case[ties]
    sch = cox_residuals(_fit(case, ties), "schoenfeld")
    times = np.asarray(case["time"], dtype=float)[np.asarray(case["event"]) == 1]
    r_times = np.asarray(r["schoenfeld_time"])
    r_sch = np.reshape(r["schoenfeld"], (r_times.shape[0], -1), order="F")
    np.testing.assert_allclose(np.sort(times), r_times)
    # within tied times R's row order may differ: compare the sorted values per time
    for t in np.unique(times):
        ours = np.sort(sch[times == t], axis=0)
        theirs = np.sort(r_sch[r_times == t], axis=0)
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-9)


def test_martingale_residuals_sum_to_zero_and_unknown_type() -> None:
    fit = _fit(CASES["lung"], "efron")
    assert abs(float(np.sum(cox_residuals(fit, "martingale")))) < 1e-9
    assert np.abs(cox_residuals(fit, "score").sum(axis=0)).max() < 1e-6
    with pytest.raises(ValueError, match="unknown residual type"):
        cox_residuals(fit, "pearson")  # type: ignore[arg-type]
