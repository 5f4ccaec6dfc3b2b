"""Firth-penalised Cox: checked against a direct numerical maximisation written here.

R ``coxphf`` is neither installed nor packaged by Debian (``apt-cache policy
r-cran-coxphf`` finds nothing), so the reference is independent code in this file:
the Breslow partial likelihood and its information written as explicit loops over event
times, ``l*`` maximised by ``scipy.optimize.minimize`` (no modified score involved),
and each profile limit checked by re-maximising over the other coefficients.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from rechallenge.stats.cox import MonotoneLikelihoodWarning, fit_cox
from rechallenge.stats.firth import fit_firth_cox

DATA = Path(__file__).resolve().parents[1] / "reference" / "data"


def penalised_loglik(beta: np.ndarray, time: np.ndarray, event: np.ndarray, x: np.ndarray) -> float:
    """Breslow l(beta) + 0.5 log det I(beta), one event time at a time."""
    eta = x @ beta
    loglik = 0.0
    info = np.zeros((x.shape[1], x.shape[1]))
    for t in np.unique(time[event == 1]):
        dead = (time == t) & (event == 1)
        risk = time >= t
        w = np.exp(eta[risk])
        xr = x[risk]
        s0 = w.sum()
        mean = (w[:, None] * xr).sum(axis=0) / s0
        second = (w[:, None, None] * xr[:, :, None] * xr[:, None, :]).sum(axis=0) / s0
        d = dead.sum()
        loglik += eta[dead].sum() - d * math.log(s0)
        info += d * (second - np.outer(mean, mean))
    return loglik + 0.5 * math.log(np.linalg.det(info))


def direct_fit(time: np.ndarray, event: np.ndarray, x: np.ndarray) -> np.ndarray:
    res = optimize.minimize(
        lambda b: -penalised_loglik(b, time, event, x),
        np.zeros(x.shape[1]),
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 20000, "maxfev": 40000},
    )
    return np.asarray(res.x)


def profile(
    value: float,
    j: int,
    time: np.ndarray,
    event: np.ndarray,
    x: np.ndarray,
    start: np.ndarray | None = None,
) -> float:
    others = [k for k in range(x.shape[1]) if k != j]

    def negative(sub: np.ndarray) -> float:
        beta = np.empty(x.shape[1])
        beta[j] = value
        beta[others] = sub
        return -penalised_loglik(beta, time, event, x)

    res = optimize.minimize(
        negative,
        np.zeros(len(others)) if start is None else start[others],
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 20000},
    )
    return -float(res.fun)


@pytest.fixture(scope="module")
def monotone() -> pd.DataFrame:
    return pd.read_csv(DATA / "cox_monotone.csv")


def test_firth_is_finite_where_the_mle_diverges(monotone: pd.DataFrame) -> None:
    with pytest.warns(MonotoneLikelihoodWarning):
        mle = fit_cox(monotone["time"], monotone["event"], monotone[["subgroup", "age"]])
    firth = fit_firth_cox(monotone["time"], monotone["event"], monotone[["subgroup", "age"]])
    assert abs(mle.coef[0]) > 15
    assert -6 < firth.coef[0] < -0.5
    assert np.isfinite(firth.hr_upper).all()
    assert firth.hr_lower[0] > 0


def test_estimate_matches_direct_maximisation(monotone: pd.DataFrame) -> None:
    t, e = monotone["time"].to_numpy(float), monotone["event"].to_numpy()
    x = monotone[["subgroup", "age"]].to_numpy(float)
    firth = fit_firth_cox(t, e, x)
    expected = direct_fit(t, e, x)
    np.testing.assert_allclose(firth.coef, expected, rtol=1e-5, atol=1e-7)
    assert firth.loglik == pytest.approx(penalised_loglik(expected, t, e, x), abs=1e-9)
    null = penalised_loglik(np.zeros(2), t, e, x)
    assert firth.lr_chi2 == pytest.approx(2 * (firth.loglik - null), rel=1e-9)


def test_profile_limits_and_tests_match_direct_profiles(monotone: pd.DataFrame) -> None:
    t, e = monotone["time"].to_numpy(float), monotone["event"].to_numpy()
    x = monotone[["subgroup", "age"]].to_numpy(float)
    firth = fit_firth_cox(t, e, x)
    crit = stats.chi2.ppf(0.95, 1)
    for j in range(2):
        for limit in (firth.hr_lower[j], firth.hr_upper[j]):
            drop = 2 * (firth.loglik - profile(math.log(limit), j, t, e, x))
            assert drop == pytest.approx(crit, abs=1e-5)
        chi2 = 2 * (firth.loglik - profile(0.0, j, t, e, x))
        assert firth.chi2[j] == pytest.approx(chi2, abs=1e-6)
        assert firth.p[j] == pytest.approx(stats.chi2.sf(chi2, 1), abs=1e-6)
    # the profile interval is not the Wald interval
    wald_upper = math.exp(firth.coef[0] + 1.959964 * firth.se[0])
    assert abs(firth.hr_upper[0] - wald_upper) > 1e-3


def test_close_to_ordinary_cox_when_data_are_informative() -> None:
    data = pd.read_csv(DATA / "cox_lung.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mle = fit_cox(data["time"], data["event"], data[["age", "sex"]], ties="breslow")
    firth = fit_firth_cox(data["time"], data["event"], data[["age", "sex"]])
    np.testing.assert_allclose(firth.coef, mle.coef, rtol=0.05)
    assert all(
        lo < hr < hi for lo, hr, hi in zip(firth.hr_lower, firth.hr, firth.hr_upper, strict=True)
    )


def test_to_dict_flags_firth_and_profile(monotone: pd.DataFrame) -> None:
    firth = fit_firth_cox(monotone["time"], monotone["event"], monotone[["subgroup"]])
    out = firth.to_dict()
    assert out["firth"] is True
    assert out["ci_method"] == "profile"
    assert out["ties"] == "breslow"
    assert [r["term"] for r in out["terms"]] == ["subgroup"]
    assert set(out["terms"][0]) == {"term", "coef", "se", "hr", "hr_lower", "hr_upper", "chi2", "p"}
    assert out["events"] == 7


def test_profiles_of_a_monotone_factor_level_converge_in_few_evaluations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 3-level factor whose third level dies before anyone else (its coefficient's
    likelihood is monotone and its penalised likelihood flat): profiling the other level
    re-maximises the flat one at every point. Steps halved for rounding-level decreases
    and a step tolerance below the score's noise floor made that ~580 evaluations; the
    limits must still be those of a direct profile."""
    import rechallenge.stats.firth as firth_module

    rng = np.random.default_rng(3)
    group = np.repeat(["a", "b", "c"], [276, 276, 48])
    time = rng.exponential(np.where(group == "b", 5.0, 10.0)) + 1.0
    event = rng.random(group.size) < 0.3
    early = group == "c"
    time[early], event[early] = rng.uniform(0.0, 0.9, early.sum()), True
    time = np.round(time, 2)
    calls = 0
    penalised = firth_module._penalised

    def counted(prob: object, beta: np.ndarray) -> object:
        nonlocal calls
        calls += 1
        return penalised(prob, beta)  # type: ignore[arg-type]

    monkeypatch.setattr(firth_module, "_penalised", counted)
    fit = fit_firth_cox(time, event, pd.DataFrame({"g": group}), reference={"g": "a"})
    assert calls < 250
    x = np.column_stack([group == "b", group == "c"]).astype(float)
    e = event.astype(int)
    assert fit.coef[1] > 8  # the monotone level: large but finite
    crit = stats.chi2.ppf(0.95, 1)
    for j in range(2):
        for limit in (fit.hr_lower[j], fit.hr_upper[j]):
            drop = 2 * (fit.loglik - profile(math.log(limit), j, time, e, x, fit.coef))
            assert drop == pytest.approx(crit, abs=1e-5)


def test_identical_rows_counted_once_give_the_fit_of_every_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rows sharing time, event and covariates are kept once with their count (Breslow
    ties make them enter every sum alike): the fit, its profile limits and tests equal
    those of the same data with every row kept (the collapse turned off)."""
    import rechallenge.stats.firth as firth_module

    rng = np.random.default_rng(11)
    n = 3000
    X = pd.DataFrame(
        {"g": rng.choice(["a", "b", "c"], n), "s": rng.choice(["f", "m"], n, p=[0.3, 0.7])}
    )
    time = np.round(rng.exponential(np.where(X["g"] == "b", 6.0, 10.0)))  # few distinct days
    event = (rng.random(n) < 0.6).astype(int)
    strata = rng.integers(0, 2, n)
    codes = np.zeros(n, dtype=np.intp)
    prob = firth_module._problem(time.astype(float), event.astype(np.int8), np.ones((n, 1)), codes)
    assert prob.x.shape[0] < 200 and prob.count.sum() == n  # a few hundred rows stand for n
    reference = {"g": "a", "s": "f"}
    collapsed = fit_firth_cox(time, event, X, strata=strata, reference=reference)

    def every_row(codes, time, event, x):  # type: ignore[no-untyped-def]
        return codes, time, event, x, np.ones(len(time))

    monkeypatch.setattr(firth_module, "_collapse", every_row)
    full = fit_firth_cox(time, event, X, strata=strata, reference=reference)
    for name in ("coef", "se", "hr_lower", "hr_upper", "chi2"):
        np.testing.assert_allclose(getattr(collapsed, name), getattr(full, name), rtol=1e-8)
    assert collapsed.loglik == pytest.approx(full.loglik, rel=1e-12)
    assert collapsed.n == full.n == n and collapsed.events == full.events
