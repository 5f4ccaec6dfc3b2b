"""rechallenge.stats.meta against R metafor 3.8: fixtures written by tests/reference/metafor.R.

Each fixture holds one data set fitted with every measure x method x test combination:
``escalc(measure, xi, ni, add = 1/2 (0 for PFT), to = "only0")`` then
``rma(yi, vi, method, test, level, control = list(threshold = 1e-12, maxiter = 1000,
tol = 1e-12))``. Tolerance: 1e-6 relative or absolute on every quantity (``TOL``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rechallenge.stats.meta import (
    MetaFit,
    influence,
    leave_one_out,
    meta_medians,
    meta_proportions,
    rma,
    subgroups,
)

FIX = Path(__file__).resolve().parents[1] / "reference" / "fixtures"
PROPORTION_CASES = sorted(
    p.stem.removeprefix("meta_")
    for p in FIX.glob("meta_*.json")
    if not p.stem.startswith("meta_medians_")
)
MEDIAN_CASES = sorted(p.stem.removeprefix("meta_medians_") for p in FIX.glob("meta_medians_*.json"))
TOL = 1e-6


def close(actual: Any, expected: Any) -> None:
    """Agreement to ``TOL``, relative or absolute (p values and weights near 0)."""
    np.testing.assert_allclose(
        np.asarray(actual, dtype=float), np.asarray(expected, dtype=float), rtol=TOL, atol=TOL
    )


def load(name: str) -> dict[str, Any]:
    """One fixture."""
    data: dict[str, Any] = json.loads((FIX / f"meta_{name}.json").read_text())
    return data


def proportion_fits() -> list[tuple[str, int]]:
    """(case, index of fit) for every fit in every proportions fixture."""
    return [(c, i) for c in PROPORTION_CASES for i in range(len(load(c)["fits"]))]


def check_model(fit: MetaFit, r: dict[str, Any]) -> None:
    """Every model-scale number of one fit."""
    close(fit.yi, r["yi"])
    close(fit.vi, r["vi"])
    close(
        [fit.estimate, fit.se, fit.ci_lower, fit.ci_upper, fit.z, fit.p],
        [r["estimate"], r["se"], r["ci_lower"], r["ci_upper"], r["z"], r["p"]],
    )
    keys = ("tau2", "Q", "Q_p", "I2", "H2")
    close([getattr(fit, key) for key in keys], [r[key] for key in keys])
    assert fit.Q_df == r["Q_df"]
    close([fit.pi_lower, fit.pi_upper], [r["pi_lower"], r["pi_upper"]])
    close(fit.weights, r["weights"])


def test_fixtures_cover_the_issue() -> None:
    assert {"k2", "k3", "hetero", "mixed8", "homog", "allevent"} <= set(PROPORTION_CASES)
    combos = {(f["measure"], f["method"], f["test"]) for f in load("mixed8")["fits"]}
    assert len(combos) == 3 * 5 * 2
    assert {"five", "k2"} <= set(MEDIAN_CASES)
    hetero = [f for f in load("hetero")["fits"] if f["method"] == "REML"]
    assert all(f["I2"] > 90 for f in hetero)  # the heterogeneity case is truly heterogeneous
    assert all(f["tau2"] == 0 for f in load("homog")["fits"])


@pytest.mark.parametrize(("case", "index"), proportion_fits())
def test_matches_metafor(case: str, index: int) -> None:
    fixture = load(case)
    r = fixture["fits"][index]
    res = meta_proportions(
        fixture["events"],
        fixture["n"],
        measure=r["measure"],
        method=r["method"],
        knha=r["test"] == "knha",
        conf_level=r["conf_level"],
    )
    check_model(res.fit, r)
    close([res.pooled, res.pooled_lower, res.pooled_upper], r["pooled"])
    close([res.prediction_lower, res.prediction_upper], r["prediction"])
    close([s.estimate for s in res.studies], r["study_estimate"])
    close([s.ci_lower for s in res.studies], r["study_lower"])
    close([s.ci_upper for s in res.studies], r["study_upper"])


@pytest.mark.parametrize(
    ("case", "index"), [c for c in proportion_fits() if "sensitivity" in load(c[0])["fits"][c[1]]]
)
def test_sensitivity_matches_metafor(case: str, index: int) -> None:
    fixture = load(case)
    r = fixture["fits"][index]
    s = r["sensitivity"]
    fit = rma(
        r["yi"], r["vi"], method=r["method"], knha=r["test"] == "knha", conf_level=r["conf_level"]
    )
    loo = leave_one_out(fit)
    for key in ("estimate", "se", "ci_lower", "ci_upper", "tau2", "I2", "Q", "Q_p"):
        if s["leave1out"][key] is None:  # metafor reports no tau^2 for a common-effect model
            assert (r["method"], key) == ("FE", "tau2")
            assert all(row.tau2 == 0 for row in loo)
            continue
        close([getattr(row, key) for row in loo], s["leave1out"][key])
    inf = influence(fit)
    for key in ("rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "QE_del", "hat", "weight"):
        expected = s["influence"][key]
        if key == "weight":
            expected = list(expected)
        close([getattr(row, key) for row in inf], expected)
    close([row.baujat_x for row in inf], s["baujat"]["x"])
    close([row.baujat_y for row in inf], s["baujat"]["y"])
    if "subgroups" in s:
        sub = subgroups(fit, fixture["group"])
        g = s["subgroups"]
        assert list(sub.levels) == g["levels"]
        close(sub.estimates, g["estimates"])
        close(sub.ses, g["ses"])
        close([f.tau2 for f in sub.fits if f is not None], g["tau2"])
        close([sub.Q_between, sub.Q_between_p], [g["Q_between"], g["Q_between_p"]])
        assert sub.Q_between_df == g["Q_between_df"]


@pytest.mark.parametrize("case", MEDIAN_CASES)
def test_medians_match_metafor(case: str) -> None:
    fixture = load(f"medians_{case}")
    for r in fixture["fits"]:
        res = meta_medians(
            fixture["median"],
            fixture["lower"],
            fixture["upper"],
            method=r["method"],
            knha=r["test"] == "knha",
        )
        check_model(res.fit, r)
        close([res.pooled, res.pooled_lower, res.pooled_upper], r["pooled"])
        close([res.prediction_lower, res.prediction_upper], r["prediction"])
