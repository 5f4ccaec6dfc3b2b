"""Kaplan–Meier: hand-worked vectors of endpoints-and-statistics.md, SAS/SPSS rules, API."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rechallenge.stats.km import kaplan_meier, kaplan_meier_by_group

A = ([2, 3, 3, 5, 6, 8, 9, 12, 15, 20], [1, 1, 1, 0, 1, 1, 0, 1, 1, 0])
B = ([4, 6, 6, 9, 11, 14, 18, 22, 25, 30], [1, 1, 0, 1, 1, 0, 1, 1, 0, 0])


def test_reference_arm_a_curve_se_and_log_band() -> None:
    fit = kaplan_meier(*A)
    ev = fit.n_event > 0
    np.testing.assert_allclose(
        fit.surv[ev], [0.9, 0.7, 0.583333, 0.466667, 0.311111, 0.155556], atol=5e-7
    )
    np.testing.assert_allclose(
        fit.std_err[ev], [0.094868, 0.144914, 0.161015, 0.165775, 0.168362, 0.138511], atol=5e-7
    )
    np.testing.assert_allclose(
        fit.lower[ev], [0.732012, 0.466533, 0.339596, 0.232612, 0.107715, 0.027162], atol=5e-7
    )


@pytest.mark.parametrize(
    ("conf_type", "a", "b"),
    [
        ("log", (8, 3, np.nan), (18, 9, np.nan)),
        ("log-log", (8, 2, 15), (18, 4, np.nan)),
        ("plain", (8, 3, 15), (18, 9, np.nan)),
    ],
)
def test_reference_medians(conf_type: str, a: tuple[float, ...], b: tuple[float, ...]) -> None:
    for data, want in ((A, a), (B, b)):
        m = kaplan_meier(*data, conf_type=conf_type).median  # type: ignore[arg-type]
        np.testing.assert_array_equal([m.estimate, m.lower, m.upper], want)


def test_reference_rmst_and_landmark() -> None:
    np.testing.assert_allclose(
        [kaplan_meier(*A).rmst(20).rmst, kaplan_meier(*A).rmst(20).se],
        [9.744444, 2.081921],
        atol=5e-7,
    )
    np.testing.assert_allclose(kaplan_meier(*B).rmst(30).rmst, 17.571429, atol=5e-7)
    lm = kaplan_meier(*A).survival_at([12])
    np.testing.assert_allclose(
        [lm.surv[0], lm.lower[0], lm.upper[0]], [0.311, 0.108, 0.899], atol=5e-4
    )


def test_reverse_km_median_follow_up() -> None:
    t = A[0] + B[0]
    e = [1 - x for x in A[1] + B[1]]
    m = kaplan_meier(t, e).median
    assert (m.estimate, m.lower) == (25.0, 14.0) and np.isnan(m.upper)


@pytest.mark.parametrize(
    ("time", "event", "printed", "quantile"),
    [
        ([1, 2, 3, 4, 5, 6], [1] * 6, (3.5, 2.0, np.nan), 3.5),  # M1: exactly 0.5 -> midpoint
        ([1, 2, 3, 4], [1, 1, 0, 0], (2.0, 1.0, np.nan), 3.0),  # M2: curve ends at 0.5
        ([1, 2, 3, 4, 5], [1, 0, 0, 0, 0], (np.nan,) * 3, np.nan),  # M3: never reached
    ],
)
def test_median_corner_cases_print_vs_quantile(
    time: list[int], event: list[int], printed: tuple[float, ...], quantile: float
) -> None:
    fit = kaplan_meier(time, event)
    np.testing.assert_array_equal(
        [fit.median.estimate, fit.median.lower, fit.median.upper], printed
    )
    np.testing.assert_array_equal(fit.quantile(0.5)[0].estimate, quantile)


def test_sas_rule_uses_event_times_and_loglog() -> None:
    m = kaplan_meier(*A, conf_type="sas").median
    assert (m.estimate, m.lower, m.upper) == (8.0, 2.0, 15.0)
    assert "SAS" in m.method
    fit = kaplan_meier(*A, conf_type="sas")
    ref = kaplan_meier(*A, conf_type="log-log")
    np.testing.assert_array_equal(fit.lower, ref.lower)


def test_sas_rule_matches_statsmodels_quantile_ci() -> None:
    sm = pytest.importorskip("statsmodels.duration.survfunc")
    rng = np.random.default_rng(1)
    t = np.ceil(rng.exponential(30, 80))
    e = rng.integers(0, 2, 80)
    m = kaplan_meier(t, e, conf_type="sas").median
    lo, hi = sm.SurvfuncRight(t, e).quantile_ci(0.5, method="cloglog")
    assert m.lower == lo
    assert m.upper == hi or (np.isnan(m.upper) and np.isinf(hi))


def test_spss_rule_by_hand() -> None:
    # Arm A: median 8 (S = 0.4667); u = 6, the last event time with S >= 0.55 (0.5833);
    # l = 12, the first with S <= 0.45 (0.3111; S(8) = 0.4667 is above 0.45).
    # f = (S(6) - S(12)) / (12 - 6); SE = Greenwood SE of S(8) / f.
    fit = kaplan_meier(*A, conf_type="spss")
    s = dict(zip(fit.time.tolist(), fit.surv.tolist(), strict=True))
    se8 = float(fit.std_err[fit.time == 8][0])
    f = (s[6.0] - s[12.0]) / (12.0 - 6.0)
    half = 1.959963984540054 * se8 / f
    m = fit.median
    assert m.estimate == 8.0
    np.testing.assert_allclose([m.lower, m.upper], [8 - half, 8 + half], rtol=1e-12)
    assert "SPSS" in m.method


def test_spss_median_has_no_midpoint() -> None:
    assert kaplan_meier([1, 2, 3, 4, 5, 6], [1] * 6, conf_type="spss").median.estimate == 3.0


def test_grouped_fit_keys_and_json() -> None:
    fits = kaplan_meier_by_group(A[0] + B[0], A[1] + B[1], ["A"] * 10 + ["B"] * 10)
    assert list(fits) == ["A", "B"]
    d = fits["B"].to_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text)["median_upper"] is None
    assert d["n"] == 10 and d["events"] == 6 and d["median"] == 18.0
    assert len(d["table"]["time"]) == len(fits["B"].time)


def test_risk_table_counts() -> None:
    rt = kaplan_meier(*A).risk_table([0, 5, 10, 20])
    assert rt.n_risk.tolist() == [10, 7, 3, 1]
    assert rt.n_event.tolist() == [0, 3, 2, 2]
    assert rt.n_censor.tolist() == [0, 1, 1, 1]
    assert rt.cum_events.tolist() == [0, 3, 5, 7]


def test_landmark_without_extend_drops_late_times() -> None:
    fit = kaplan_meier(*A)
    assert fit.survival_at([10, 25]).time.tolist() == [10.0]
    late = fit.survival_at([25], extend=True)
    assert late.n_risk.tolist() == [0] and late.surv[0] == fit.surv[-1]
    with pytest.raises(ValueError, match="extend"):
        fit.survival_at([25])


def test_results_are_immutable() -> None:
    fit = kaplan_meier(*A)
    with pytest.raises(ValueError):
        fit.surv[0] = 0.0
    with pytest.raises(AttributeError):
        fit.n = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"conf_type": "loglog"}, "conf_type"), ({"conf_level": 1.0}, "conf_level")],
)
def test_bad_options(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        kaplan_meier(*A, **kwargs)  # type: ignore[arg-type]


def test_bad_quantile_prob() -> None:
    with pytest.raises(ValueError, match="prob"):
        kaplan_meier(*A).quantile(1.5)


def test_running_product_gives_exact_half() -> None:
    fit = kaplan_meier([1, 2, 3, 4, 5, 6, 7, 8], [1] * 8)
    assert fit.surv[3] == 0.5
    assert fit.median.estimate == 4.5


def test_large_n_vectorised() -> None:
    rng = np.random.default_rng(0)
    n = 200_000
    t = np.ceil(rng.exponential(365, n))
    e = rng.integers(0, 2, n)
    fit = kaplan_meier(t, e)
    assert fit.n_risk[0] == n and int(fit.n_event.sum()) == int(e.sum())
    assert np.all(np.diff(fit.surv) <= 0)


@pytest.mark.parametrize("shift", [0.0, 0.5])
def test_grouped_fit_equals_separate_fits(shift: float) -> None:
    # shift 0: whole days (one counting pass); 0.5: the sorting path.
    rng = np.random.default_rng(3)
    t = np.ceil(rng.exponential(40, 300)) + shift
    e = rng.integers(0, 2, 300)
    g = rng.choice(["x", "y", "z"], 300)
    fits = kaplan_meier_by_group(t, e, g, conf_type="log-log")
    for level, fit in fits.items():
        m = g == level
        ref = kaplan_meier(t[m], e[m], conf_type="log-log")
        np.testing.assert_array_equal(fit.time, ref.time)
        np.testing.assert_array_equal(fit.n_risk, ref.n_risk)
        np.testing.assert_array_equal(fit.n_censor, ref.n_censor)
        np.testing.assert_array_equal(fit.surv, ref.surv)
        assert fit.median == ref.median and fit.n == ref.n and fit.n_events == ref.n_events


def test_spss_lower_limit_is_truncated_at_zero() -> None:
    # median 12 with half-width z SE = 13.86: the untruncated lower limit would be -1.86
    t = [13, 2, 17, 18, 1, 12, 19, 3, 3]
    e = [0, 1, 0, 1, 0, 1, 1, 1, 1]
    m = kaplan_meier(t, e, conf_type="spss").median
    assert m.estimate == 12.0
    assert m.upper is not None and m.upper - m.estimate > m.estimate
    assert m.lower == 0.0
