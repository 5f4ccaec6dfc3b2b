"""fit_parametric against R survreg (fixtures written by tests/reference/prognosis.R)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rechallenge.stats.parametric import fit_parametric

REF = Path(__file__).resolve().parents[1] / "reference"
CASES = sorted(
    p.stem.removeprefix("prog_survreg_") for p in (REF / "fixtures").glob("prog_survreg_*.json")
)


def _case(name: str) -> tuple[dict[str, Any], pd.DataFrame]:
    fixture = json.loads((REF / "fixtures" / f"prog_survreg_{name}.json").read_text())
    data = pd.read_csv(REF / "data" / fixture["data"])
    return fixture, data[data["time"] > 0]


def test_every_fixture_is_exercised() -> None:
    assert {"lung", "lung_null", "veteran", "veteran_null", "aml", "ovarian"} <= set(CASES)


@pytest.mark.parametrize("dist", ["weibull", "exponential"])
@pytest.mark.parametrize("name", CASES)
def test_matches_r_survreg(name: str, dist: str) -> None:
    fixture, data = _case(name)
    r = fixture["fits"][dist]
    covs = fixture["covariates"]
    x = data[covs].to_numpy() if covs else None
    fit = fit_parametric(data["time"], data["event"], x, distribution=dist)  # type: ignore[arg-type]
    assert fit.n == fixture["n"]
    np.testing.assert_allclose(fit.coef, r["coef"], rtol=1e-7)
    assert fit.scale == pytest.approx(r["scale"], rel=1e-7)
    assert fit.loglik == pytest.approx(r["loglik"], abs=1e-8)
    # R stops a little earlier (survreg's rel.tolerance on the loglik): 1.2e-6 at worst
    np.testing.assert_allclose(fit.var.ravel(order="F"), r["var"], rtol=1e-5)
    if r["median"] is not None:
        assert fit.median()[0] == pytest.approx(r["median"], rel=1e-7)


def test_exponential_closed_form() -> None:
    # intercept-only exponential: hazard = events / total time, exactly
    t = np.array([2.0, 3.0, 5.0, 7.0, 11.0])
    e = np.array([1, 0, 1, 1, 0])
    fit = fit_parametric(t, e, distribution="exponential")
    assert math.exp(-fit.coef[0]) == pytest.approx(3 / 28, rel=1e-12)
    assert fit.se[0] == pytest.approx(1 / math.sqrt(3), rel=1e-9)
    assert fit.survival(4.0)[0] == pytest.approx(math.exp(-4 * 3 / 28), rel=1e-12)


@pytest.mark.parametrize(
    ("time", "event", "message"),
    [
        ([0.0, 1.0], [1, 1], "> 0"),
        ([1.0, 2.0], [0, 0], "no events"),
        ([1.0, 2.0], [1, 2], "0 or 1"),
    ],
)
def test_bad_data_refused(time: list[float], event: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fit_parametric(time, event)
