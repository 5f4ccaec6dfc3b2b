"""Penalised Cox against R glmnet 4.1-6 (fixtures written by tests/reference/glmnet.R)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rechallenge.stats import penalised as pen

REF = Path(__file__).resolve().parents[1] / "reference"
CASES = sorted(p.stem.removeprefix("glmnet_") for p in (REF / "fixtures").glob("glmnet_*.json"))
ALPHAS = ["alpha_1", "alpha_0.5", "alpha_0"]


def _case(name: str) -> tuple[dict[str, Any], pd.DataFrame, np.ndarray]:
    fixture = json.loads((REF / "fixtures" / f"glmnet_{name}.json").read_text())
    data = pd.read_csv(REF / "data" / f"glmnet_{name}.csv")
    return fixture, data, data[fixture["covariates"]].to_numpy(dtype=float)


def test_every_fixture_is_exercised() -> None:
    assert set(CASES) == {"lung", "sim"}


@pytest.mark.parametrize("key", ALPHAS)
@pytest.mark.parametrize("name", CASES)
def test_lambda_sequence_matches_glmnet(name: str, key: str) -> None:
    fixture, data, x = _case(name)
    r = fixture["fits"][key]
    top = pen.lambda_max(data["time"], data["event"], x, alpha=r["alpha"])
    assert top == pytest.approx(r["lambda_path"][0], rel=1e-12)
    seq = pen.lambda_sequence(data["time"], data["event"], x, alpha=r["alpha"])
    # glmnet stops its path early; the values it has agree
    np.testing.assert_allclose(seq[: len(r["lambda_path"])], r["lambda_path"], rtol=1e-7)


@pytest.mark.parametrize("key", ALPHAS)
@pytest.mark.parametrize("name", CASES)
def test_coefficients_match_glmnet_at_fixed_lambda(name: str, key: str) -> None:
    fixture, data, x = _case(name)
    r = fixture["fits"][key]
    fit = pen.fit_penalised_cox(
        data["time"], data["event"], x, lambdas=r["lambda_fixed"], alpha=r["alpha"]
    )
    want = np.array(r["coef"]).reshape(len(r["lambda_fixed"]), -1)
    # the same zero pattern, values to glmnet's own convergence (thresh 1e-14): 2e-7
    np.testing.assert_array_equal(fit.coef == 0, want == 0)
    np.testing.assert_allclose(fit.coef, want, rtol=1e-6, atol=5e-7)
    np.testing.assert_allclose(fit.dev_ratio, r["dev_ratio"], rtol=1e-6, atol=1e-8)
    assert fit.null_deviance == pytest.approx(r["null_dev"], rel=1e-12)


@pytest.mark.parametrize("key", ALPHAS)
@pytest.mark.parametrize("name", CASES)
def test_cross_validation_matches_cv_glmnet(name: str, key: str) -> None:
    fixture, data, x = _case(name)
    r = fixture["fits"][key]["cv"]
    cv = pen.cv_penalised_cox(
        data["time"],
        data["event"],
        x,
        lambdas=r["lambda"],
        alpha=fixture["fits"][key]["alpha"],
        foldid=fixture["foldid"],
    )
    np.testing.assert_allclose(cv.cvm, r["cvm"], rtol=1e-7)
    np.testing.assert_allclose(cv.cvsd, r["cvsd"], rtol=1e-5, atol=1e-8)
    assert (cv.lambda_min, cv.lambda_1se) == (r["lambda_min"], r["lambda_1se"])
    np.testing.assert_array_equal(cv.fit.nonzero, r["nzero"])


@pytest.mark.parametrize("alpha", [1.0, 0.5, 0.0])
def test_kkt_conditions_hold(alpha: float) -> None:
    # at the minimum on the standardised scale: |g_j + λ(1-α)b_j| <= λα where b_j = 0,
    # and = λα with the opposite sign of b_j elsewhere (g the gradient of -ℓ/n)
    _, data, x = _case("sim")
    t, e = data["time"].to_numpy(float), data["event"].to_numpy(float)
    lam = 0.5 * pen.lambda_max(t, e, x, alpha=max(alpha, 1e-3)) * max(alpha, 0.05)
    fit = pen.fit_penalised_cox(t, e, x, lambdas=[lam], alpha=alpha)
    b = fit.coef[0] * fit.scale
    prepared = pen._prepare(t, e, (x - fit.center) / fit.scale)
    _, grad, _ = pen._derivs(prepared, b)
    g = -grad / t.size + lam * (1 - alpha) * b
    on = b != 0
    np.testing.assert_allclose(g[on], -lam * alpha * np.sign(b[on]), atol=1e-9)
    assert np.all(np.abs(g[~on]) <= lam * alpha + 1e-9)


def test_seeded_folds_and_refusals() -> None:
    f1, f2 = pen.draw_folds(23, 5, seed=3), pen.draw_folds(23, 5, seed=3)
    np.testing.assert_array_equal(f1, f2)
    assert sorted(np.bincount(f1)[1:]) == [4, 4, 5, 5, 5]
    _, data, x = _case("sim")
    with pytest.raises(ValueError, match="alpha"):
        pen.fit_penalised_cox(data["time"], data["event"], x, lambdas=[0.1], alpha=1.5)
    with pytest.raises(ValueError, match="constant"):
        pen.fit_penalised_cox(data["time"], data["event"], np.ones((len(data), 2)), lambdas=[0.1])
    with pytest.raises(ValueError, match="every fold"):
        pen.cv_penalised_cox(data["time"], data["event"], x, foldid=np.ones(len(data)))
