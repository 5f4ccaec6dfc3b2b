"""Kaplan–Meier against R survival 3.5-3 fixtures (tests/reference/km_logrank.R).

Estimates, SEs and bands must agree to 1e-6 relative; times, counts, medians and
quantiles exactly. R is not needed: the fixtures are stored JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rechallenge.stats.km import KaplanMeierResult, kaplan_meier

REF = Path(__file__).resolve().parents[1] / "reference"
R_CONF_TYPES = ("log", "log-log", "plain", "logit", "arcsin")
CASES = sorted(p.stem.removeprefix("km_") for p in (REF / "fixtures").glob("km_*.json"))


def _num(values: Any) -> np.ndarray:
    """Fixture list -> float array (null -> NaN, "Inf" -> inf)."""
    if not isinstance(values, list):
        values = [values]
    conv = {None: np.nan, "Inf": np.inf, "-Inf": -np.inf}
    return np.array([conv.get(v, v) if not isinstance(v, float) else v for v in values], float)


def assert_rel(actual: Any, expected: Any) -> None:
    np.testing.assert_allclose(np.asarray(actual, float), _num(expected), rtol=1e-6, atol=1e-12)


def assert_exact(actual: Any, expected: Any) -> None:
    np.testing.assert_array_equal(np.asarray(actual, float), _num(expected))


def _curves(name: str) -> list[tuple[str, str, pd.DataFrame, dict[str, Any]]]:
    fixture = json.loads((REF / "fixtures" / f"km_{name}.json").read_text())
    out = []
    for fit in fixture["fits"]:
        by = fit["by"]
        data = pd.read_csv(REF / "data" / f"{name}.csv", dtype={by: str} if by else None)
        if by:
            data = data[data[by].notna()]
        assert len(data) == fit["n"]
        for level, curve in fit["curves"].items():
            sub = data if by is None else data[data[by] == level]
            out.append((f"{by}={level}", level, sub, curve | {"tau": fit["tau"]}))
    return out


@pytest.mark.parametrize("name", CASES)
def test_step_table_matches_survfit(name: str) -> None:
    for label, _, sub, curve in _curves(name):
        fit = kaplan_meier(sub["time"], sub["status"])
        assert_exact(fit.time, curve["time"]), label
        assert_exact(fit.n_risk, curve["n_risk"])
        assert_exact(fit.n_event, curve["n_event"])
        assert_exact(fit.n_censor, curve["n_censor"])
        assert_rel(fit.surv, curve["surv"])
        assert_rel(fit.std_err_log, curve["std_err"])


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("conf_type", R_CONF_TYPES)
def test_bands_median_and_quantiles_match_r(name: str, conf_type: str) -> None:
    for _, _, sub, curve in _curves(name):
        fit = kaplan_meier(sub["time"], sub["status"], conf_type=conf_type)  # type: ignore[arg-type]
        assert_rel(fit.lower, curve["bands"][conf_type]["lower"])
        assert_rel(fit.upper, curve["bands"][conf_type]["upper"])
        med = fit.median
        assert_exact([med.estimate, med.lower, med.upper], curve["median"][conf_type])
        q = curve["quantile"][conf_type]
        got = fit.quantile(q["probs"])
        assert_exact([g.estimate for g in got], q["quantile"])
        assert_exact([g.lower for g in got], q["lower"])
        assert_exact([g.upper for g in got], q["upper"])


@pytest.mark.parametrize("name", CASES)
def test_rmst_matches_print_rmean(name: str) -> None:
    for _, _, sub, curve in _curves(name):
        fit = kaplan_meier(sub["time"], sub["status"])
        r = fit.rmst(curve["rmean"]["tau"])
        assert_rel([r.rmst, r.se], [curve["rmean"]["rmean"], curve["rmean"]["se"]])


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("conf_type", ["log", "log-log"])
def test_landmarks_match_summary_times_extend(name: str, conf_type: str) -> None:
    for _, _, sub, curve in _curves(name):
        fit: KaplanMeierResult = kaplan_meier(sub["time"], sub["status"], conf_type=conf_type)  # type: ignore[arg-type]
        lm = curve["landmark"][conf_type]
        got = fit.survival_at(lm["time"], extend=True)
        assert_exact(got.time, lm["time"])
        assert_exact(got.n_risk, lm["n_risk"])
        assert_exact(got.n_event, lm["n_event"])
        assert_exact(got.n_censor, lm["n_censor"])
        assert_rel(got.surv, lm["surv"])
        assert_rel(got.std_err, lm["std_err"])
        assert_rel(got.lower, lm["lower"])
        assert_rel(got.upper, lm["upper"])
