"""Restricted cubic splines and the multivariable Cox model against R rms::rcs / coxph
(fixtures written by tests/reference/prognosis.R), and the events-per-variable guard."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rechallenge.stats.prognostic import (
    LowEventsPerVariableWarning,
    check_events_per_variable,
    fit_prognostic_cox,
    model_df,
    nomogram,
    rcs_basis,
    rcs_knots,
    rcs_names,
)

REF = Path(__file__).resolve().parents[1] / "reference"
CASES = sorted(
    p.stem.removeprefix("prog_spline_") for p in (REF / "fixtures").glob("prog_spline_*.json")
)


def _case(name: str) -> tuple[dict[str, Any], pd.DataFrame]:
    fixture = json.loads((REF / "fixtures" / f"prog_spline_{name}.json").read_text())
    return fixture, pd.read_csv(REF / "data" / f"prog_spline_{name}.csv")


def test_every_fixture_is_exercised() -> None:
    assert set(CASES) == {"lung_age3", "lung_age4", "lung60_age5", "karno4"}


@pytest.mark.parametrize("name", CASES)
def test_knots_basis_and_cox_match_rms(name: str) -> None:
    r, d = _case(name)
    x = d[r["var"]].to_numpy(dtype=float)
    np.testing.assert_allclose(rcs_knots(x, r["nk"]), r["knots"], rtol=1e-14)
    basis = rcs_basis(x, r["knots"])
    np.testing.assert_allclose(basis.ravel(order="F"), r["basis"], rtol=1e-12, atol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LowEventsPerVariableWarning)
        fit = fit_prognostic_cox(
            d["time"], d["event"], d[[r["var"], r["other"]]], splines={r["var"]: r["nk"]}
        )
    np.testing.assert_allclose(fit.cox.coef, r["coef"], rtol=1e-8)
    np.testing.assert_allclose(fit.cox.se, r["se"], rtol=1e-6)
    assert list(fit.cox.terms)[: r["nk"] - 1] == rcs_names(r["var"], len(r["knots"]))
    assert fit.df == len(r["knots"]) - 1 + 1


def test_small_samples_move_the_outer_knots() -> None:
    # fewer than 100 values: outer knots at the 5th smallest and 5th largest
    x = np.arange(1.0, 41.0)
    knots = rcs_knots(x, 4)
    assert (knots[0], knots[-1]) == (5.0, 36.0)
    # few distinct values: the interior ones
    np.testing.assert_array_equal(rcs_knots([1, 2, 3, 4, 5, 1, 2, 3], 4), [2, 3, 4])
    # beyond the last knot the spline is linear
    b = rcs_basis([100.0, 101.0, 102.0], [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(np.diff(b, n=2, axis=0), 0.0, atol=1e-9)


def test_events_per_variable_guard() -> None:
    with pytest.warns(LowEventsPerVariableWarning, match=r"18 events for 3 model degrees"):
        assert check_events_per_variable(18, 3) == 6.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_events_per_variable(40, 4) == 10.0
    frame = pd.DataFrame({"age": [1.0, 2.0], "stage": ["a", "b"], "arm": ["x", "y"]})
    assert model_df(frame, {"age": 4}) == 3 + 1 + 1
    with pytest.raises(ValueError, match="no terms"):
        check_events_per_variable(5, 0)


def test_nomogram_matches_rms() -> None:
    r = json.loads((REF / "fixtures" / "prog_nomogram_lung.json").read_text())
    d = pd.read_csv(REF / "data" / r["data"])
    fit = fit_prognostic_cox(d["time"], d["event"], d[["age", "sex"]], splines={"age": 4})
    design = np.column_stack([rcs_basis(d["age"], fit.knots["age"]), d["sex"]])
    center = float(np.mean(design @ np.asarray(fit.cox.coef)))
    nom = nomogram(fit, {"age": r["age"], "sex": r["sex"]}, center=center)
    # rms fits with cph's looser convergence (eps = 1e-4): agreement to 2e-5
    np.testing.assert_allclose(nom.axes["age"][1], r["age_points"], rtol=2e-5, atol=1e-9)
    np.testing.assert_allclose(nom.axes["sex"][1], r["sex_points"], rtol=2e-5, atol=1e-9)
    np.testing.assert_allclose(nom.lp_to_points(r["lp_at"]), r["lp_points"], rtol=2e-5)
    assert center == pytest.approx(r["center"], rel=2e-5)
    assert nom.points_per_unit == pytest.approx(r["points_per_unit"], rel=2e-5)
    assert max(nom.axes["age"][1]) == 100.0
    np.testing.assert_allclose(nom.points_to_lp(nom.lp_to_points([0.3])), [0.3])
    with pytest.raises(ValueError, match="not a numeric or spline term"):
        nomogram(fit, {"stage": [1, 2]})


def test_nomogram_factor_is_one_axis_as_rms() -> None:
    """A three-level factor is one axis with its levels at rms's points, not a row per indicator.

    The factor (ECOG 0/1/2) is the widest axis, so it sets the points per unit: drawn as two
    indicator rows the total points would run to 100 + 41.9 instead of rms's 100 + 50.4.
    """
    r = json.loads((REF / "fixtures" / "prog_nomogram_ecog.json").read_text())
    d = pd.read_csv(REF / "data" / r["data"])
    x = d[["age", "ecog=1", "ecog=2"]]
    fit = fit_prognostic_cox(d["time"], d["event"], x)
    np.testing.assert_allclose(fit.cox.coef, r["coef"], rtol=2e-5)
    center = float(np.mean(x.to_numpy() @ np.asarray(fit.cox.coef)))
    nom = nomogram(fit, {"age": r["age"]}, factors={"ecog": ["ecog=1", "ecog=2"]}, center=center)
    assert nom.axes["ecog"][0] == [0.0, 1.0, 2.0]
    np.testing.assert_allclose(nom.axes["ecog"][1], r["ecog_points"], rtol=2e-5, atol=1e-9)
    np.testing.assert_allclose(nom.axes["age"][1], r["age_points"], rtol=2e-5, atol=1e-9)
    np.testing.assert_allclose(nom.lp_to_points(r["lp_at"]), r["lp_points"], rtol=2e-5)
    assert nom.points_per_unit == pytest.approx(r["points_per_unit"], rel=2e-5)
    assert set(nom.axes) == {"age", "ecog"}
    with pytest.raises(ValueError, match="not terms of the model"):
        nomogram(fit, {}, factors={"ecog": ["ecog=3"]})
