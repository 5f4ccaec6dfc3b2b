"""fit_cox inputs, design matrix, result views and the hand-worked reference data."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rechallenge.stats._cox_kernel import concordance_pairs
from rechallenge.stats.cox import CoxConvergenceWarning, CoxResult, fit_cox

# endpoints-and-statistics.md section 6 / 8: arm A then arm B
TIME = np.array([2, 3, 3, 5, 6, 8, 9, 12, 15, 20, 4, 6, 6, 9, 11, 14, 18, 22, 25, 30], float)
EVENT = np.array([1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 0])
ARM = np.array(["A"] * 10 + ["B"] * 10)
STRAT = np.tile([1, 2], 10)


@pytest.mark.parametrize(
    ("ties", "coef", "se", "lr", "wald", "score"),
    [
        ("efron", -0.817528, 0.593866, 1.931747, 1.895084, 1.995278),
        ("breslow", -0.805619, 0.594305, 1.873314, 1.837559, 1.931420),
    ],
)
def test_shared_reference_table(
    ties: str, coef: float, se: float, lr: float, wald: float, score: float
) -> None:
    fit = fit_cox(TIME, EVENT, pd.DataFrame({"arm": ARM}), ties=ties)  # type: ignore[arg-type]
    assert fit.terms == ("armB",)
    assert fit.coef[0] == pytest.approx(coef, abs=5e-7)
    assert fit.se[0] == pytest.approx(se, abs=5e-7)
    assert (fit.lr.chi2, fit.wald.chi2, fit.score.chi2) == pytest.approx(
        (lr, wald, score), abs=5e-7
    )


def test_efron_hazard_ratio_interval_and_strata() -> None:
    fit = fit_cox(TIME, EVENT, pd.DataFrame({"arm": ARM}))
    row = fit.to_frame().iloc[0]
    assert (row["hr"], row["hr_lower"], row["hr_upper"]) == pytest.approx(
        (0.441522, 0.137864, 1.414008), abs=5e-7
    )
    strat = fit_cox(TIME, EVENT, pd.DataFrame({"arm": ARM}), strata=STRAT)
    assert strat.coef[0] == pytest.approx(-0.999689, abs=5e-7)
    assert strat.se[0] == pytest.approx(0.633855, abs=5e-7)


def test_reference_level_flips_the_sign() -> None:
    a = fit_cox(TIME, EVENT, pd.DataFrame({"arm": ARM}))
    b = fit_cox(TIME, EVENT, pd.DataFrame({"arm": ARM}), reference={"arm": "B"})
    assert b.terms == ("armA",)
    assert b.coef[0] == pytest.approx(-a.coef[0], rel=1e-10)
    assert b.loglik == pytest.approx(a.loglik, rel=1e-12)


def test_categorical_dtype_uses_its_category_order() -> None:
    arm = pd.Categorical(ARM, categories=["B", "A"])
    fit = fit_cox(TIME, EVENT, pd.DataFrame({"arm": arm}))
    assert fit.terms == ("armA",)
    assert fit.assign == {"arm": (0,)}


def test_array_input_equals_dataframe_input() -> None:
    x = (ARM == "B").astype(float)
    from_array = fit_cox(TIME, EVENT, x[:, None])
    assert from_array.terms == ("x1",)
    from_frame = fit_cox(TIME, EVENT, pd.DataFrame({"arm": ARM}))
    np.testing.assert_allclose(from_array.coef, from_frame.coef, rtol=1e-12)


def test_to_dict_has_the_fixed_keys_and_is_json() -> None:
    out = fit_cox(TIME, EVENT, pd.DataFrame({"arm": ARM})).to_dict()
    assert set(out) == {
        "terms",
        "tests",
        "concordance",
        "n",
        "events",
        "loglik",
        "iterations",
        "ties",
        "warnings",
    }
    assert set(out["terms"][0]) == {"term", "coef", "se", "hr", "hr_lower", "hr_upper", "z", "p"}
    assert set(out["tests"]) == {"lr", "wald", "score"}
    assert set(out["tests"]["lr"]) == {"chi2", "df", "p"}
    assert set(out["concordance"]) == {"c", "se"}
    assert (out["n"], out["events"], out["ties"]) == (20, 13, "efron")
    assert len(out["loglik"]) == 2
    json.dumps(out, allow_nan=False)


def test_concordance_can_be_skipped() -> None:
    fit = fit_cox(TIME, EVENT, pd.DataFrame({"arm": ARM}), concordance=False)
    assert fit.concordance is None
    assert fit.to_dict()["concordance"] == {"c": None, "se": None}


def test_result_is_immutable() -> None:
    fit = fit_cox(TIME, EVENT, pd.DataFrame({"arm": ARM}))
    assert isinstance(fit, CoxResult)
    with pytest.raises(AttributeError):
        fit.n = 3  # type: ignore[misc]
    with pytest.raises(ValueError):
        fit.coef[0] = 0.0


def test_collinear_column_gets_nan_like_r() -> None:
    x = pd.DataFrame({"b": (ARM == "B").astype(float), "b2": 2.0 * (ARM == "B")})
    fit = fit_cox(TIME, EVENT, x)
    assert math.isfinite(fit.coef[0])
    assert math.isnan(fit.coef[1])
    assert fit.lr.df == 1
    assert fit.to_dict()["terms"][1]["coef"] is None


def test_iteration_limit_warns() -> None:
    with pytest.warns(CoxConvergenceWarning, match="did not converge"):
        fit = fit_cox(TIME, EVENT, pd.DataFrame({"arm": ARM}), iter_max=1)
    assert not fit.converged


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ties": "exact"}, "ties"),
        ({"conf_level": 1.5}, "conf_level"),
        ({"reference": {"arm": "C"}}, "reference level"),
        ({"reference": {"nope": "A"}}, "unknown column"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fit_cox(TIME, EVENT, pd.DataFrame({"arm": ARM}), **kwargs)  # type: ignore[arg-type]


def test_missing_covariate_is_reported_with_its_row() -> None:
    x = pd.DataFrame({"age": np.r_[np.nan, np.arange(19.0)]})
    with pytest.raises(ValueError, match="row 0"):
        fit_cox(TIME, EVENT, x)


def test_wrong_number_of_rows() -> None:
    with pytest.raises(ValueError, match="rows"):
        fit_cox(TIME, EVENT, np.ones((5, 1)))


def test_invalid_event_codes_come_from_survdata() -> None:
    with pytest.raises(ValueError, match="event"):
        fit_cox(TIME, EVENT * 2, pd.DataFrame({"arm": ARM}))


def brute_force_pairs(time: np.ndarray, event: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Per-row (concordant, discordant, tied-x) counts by looking at every pair."""
    out = np.zeros((time.shape[0], 3))
    for i in range(time.shape[0]):
        for j in range(time.shape[0]):
            comparable = event[i] == 1 and (
                time[i] < time[j] or (time[i] == time[j] and event[j] == 0)
            )
            if not comparable:
                continue
            kind = 0 if score[i] > score[j] else 1 if score[i] < score[j] else 2
            out[i, kind] += 1
            out[j, kind] += 1
    return out


@given(
    st.integers(min_value=2, max_value=40).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(1, 6), min_size=n, max_size=n),
            st.lists(st.integers(0, 1), min_size=n, max_size=n),
            st.lists(st.integers(0, 3), min_size=n, max_size=n),
        )
    )
)
@settings(max_examples=60, deadline=None)
def test_concordance_counts_match_brute_force(data: tuple[list[int], ...]) -> None:
    time, event, score = (np.array(v) for v in data)
    pairs = concordance_pairs(time.astype(float), event.astype(np.int8), score.astype(float), None)
    expected = brute_force_pairs(time, event, score)
    np.testing.assert_array_equal(pairs.per_row, expected)
    assert pairs.concordant == expected[:, 0].sum() / 2


@pytest.mark.parametrize("seed", range(6))
def test_few_score_pair_counts_equal_the_merge(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Concordance of a categorical predictor: the score-by-score count equals the merge."""
    from rechallenge.stats import _cox_kernel

    rng = np.random.default_rng(seed)
    n = 400 + 300 * seed
    time = rng.integers(1, 40, n).astype(float)
    event = rng.integers(0, 2, n).astype(np.int8)
    score = rng.integers(0, 2 + 5 * seed, n).astype(float)
    strata = rng.integers(0, 3, n) if seed % 2 else None
    fast = concordance_pairs(time, event, score, strata)
    monkeypatch.setattr(_cox_kernel, "FEW_SCORES", 0)
    merge = concordance_pairs(time, event, score, strata)
    assert fast.per_row.sum() > 0
    np.testing.assert_array_equal(fast.per_row, merge.per_row)
    assert (fast.concordant, fast.discordant, fast.tied_x) == (
        merge.concordant,
        merge.discordant,
        merge.tied_x,
    )


def test_stratum_time_order_gives_the_lexsort_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ordering stratum by stratum numbers the (stratum, time) groups as the lexsort."""
    from rechallenge.stats import _cox_kernel

    rng = np.random.default_rng(3)
    n = 5000
    time = np.ceil(rng.exponential(30.0, n))
    event = rng.integers(0, 2, n).astype(np.int8)
    strata = rng.integers(0, 7, n).astype(np.intp)
    fast = _cox_kernel.build_layout(time, event, strata, efron=True)
    monkeypatch.setattr(_cox_kernel, "FEW_STRATA", 0)
    slow = _cox_kernel.build_layout(time, event, strata, efron=True)
    np.testing.assert_array_equal(fast.split_row, slow.split_row)
    assert fast.strata_groups == slow.strata_groups
    assert fast.n_groups == slow.n_groups > 7
