"""Cox case weights against R survival 3.5 coxph(weights =) (tests/reference/cox_weights.R)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rechallenge.stats.cox import CoxResult, fit_cox
from rechallenge.stats.zph import cox_zph

FIXTURE = Path(__file__).resolve().parents[1] / "reference" / "fixtures" / "coxx_weights.json"
CASES = {c["name"]: c for c in json.loads(FIXTURE.read_text())["cases"]}


def _fit(case: dict[str, Any], ties: str, weights: bool = True) -> CoxResult:
    return fit_cox(
        np.asarray(case["time"], dtype=float),
        np.asarray(case["event"]),
        np.column_stack(case["x"]),
        strata=case["strata_col"],
        start=case["start"],
        weights=np.asarray(case["w"], dtype=float) if weights else None,
        ties=ties,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_r_coxph_weights(name: str, ties: str) -> None:
    r = CASES[name][ties]
    fit = _fit(CASES[name], ties)
    np.testing.assert_allclose(fit.coef, r["coef"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fit.var.ravel(order="F"), r["var"], rtol=1e-8)
    np.testing.assert_allclose([fit.loglik_null, fit.loglik], r["loglik"], rtol=1e-12)
    assert fit.score.chi2 == pytest.approx(r["score"], rel=1e-10)
    assert fit.wald.chi2 == pytest.approx(r["wald"], rel=1e-9)
    assert fit.iterations == r["iter"]
    assert (fit.n, fit.events) == (r["n"], r["events"])


def test_integer_weights_equal_replicated_rows_for_breslow_only() -> None:
    # Breslow: a weight of 2 is two rows. Efron: R's tied terms count rows (d) and use the
    # mean weight, so replicated rows (a larger d) give another fit, in R as here.
    weighted = _fit(CASES["small"], "breslow")
    replicated = _fit(CASES["small_replicated"], "breslow", weights=False)
    np.testing.assert_allclose(weighted.coef, replicated.coef, rtol=1e-12)
    np.testing.assert_allclose(weighted.var, replicated.var, rtol=1e-10)
    r_w, r_rep = CASES["small"]["efron"]["coef"], CASES["small_replicated"]["efron"]["coef"]
    assert abs(r_w[0] - r_rep[0]) > 0.01
    assert _fit(CASES["small"], "efron").coef[0] == pytest.approx(r_w[0], rel=1e-9)


def test_non_integer_weights_give_the_robust_variance() -> None:
    # R's default: with non-integer weights var is the sandwich D'D, not the inverse
    # information; it differs from it here
    case = CASES["lung"]
    fit = _fit(case, "efron")
    naive = fit_cox(
        case["time"], case["event"], np.column_stack(case["x"]),
        weights=np.ceil(np.asarray(case["w"])),
    )  # fmt: skip
    assert not np.allclose(fit.var, naive.var, rtol=0.05)


def test_unit_weights_change_nothing_and_bad_weights_are_refused() -> None:
    case = CASES["lung"]
    plain = _fit(case, "efron", weights=False)
    ones = fit_cox(
        case["time"], case["event"], np.column_stack(case["x"]), weights=np.ones(len(case["time"]))
    )
    np.testing.assert_allclose(ones.coef, plain.coef, rtol=1e-12)
    with pytest.raises(ValueError, match="weights must be finite and > 0"):
        fit_cox([1.0, 2.0], [1, 1], [[0.0], [1.0]], weights=[1.0, 0.0])
    with pytest.raises(ValueError, match="case weights"):
        cox_zph(ones)


CLUSTER = {
    c["name"]: c for c in json.loads((FIXTURE.parent / "coxx_cluster.json").read_text())["cases"]
}


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("name", sorted(CLUSTER))
def test_cluster_robust_variance_matches_r(name: str, ties: str) -> None:
    case = CLUSTER[name]
    r = case[ties]
    fit = fit_cox(
        np.asarray(case["time"], dtype=float),
        np.asarray(case["event"]),
        np.column_stack(case["x"]),
        start=case["start"],
        weights=case["w"],
        cluster=case["cluster"],
        ties=ties,  # type: ignore[arg-type]
    )
    np.testing.assert_allclose(fit.coef, r["coef"], rtol=1e-9)
    np.testing.assert_allclose(fit.var.ravel(order="F"), r["var"], rtol=1e-8)
    naive = fit_cox(
        np.asarray(case["time"], dtype=float),
        np.asarray(case["event"]),
        np.column_stack(case["x"]),
        start=case["start"],
        weights=case["w"],
        ties=ties,  # type: ignore[arg-type]
    )
    np.testing.assert_allclose(naive.var.ravel(order="F"), r["naive_var"], rtol=1e-8)
