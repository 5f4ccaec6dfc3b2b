"""Cumulative incidence and Gray's test against R cmprsk 2.2 (tests/reference/cmprsk.R)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rechallenge.stats.competing import CIFResult, cumulative_incidence

FIXTURE = Path(__file__).resolve().parents[1] / "reference" / "fixtures" / "cmprsk_cuminc.json"
REF = json.loads(FIXTURE.read_text())
CASES = {c["name"]: c for c in REF["cases"]}
TINY = CASES["tiny"]


def _fit(case: dict[str, Any], order: np.ndarray | None = None) -> CIFResult:
    weights = None
    source = case
    if "weights_of_tiny" in case:
        source, weights = TINY, np.asarray(case["weights_of_tiny"], dtype=float)
    time = np.asarray(source["time"], dtype=float)
    status = np.asarray(source["status"])
    group = None if source["group"] is None else np.asarray(source["group"], dtype=object)
    strata = np.asarray(source["strata_col"], dtype=object) if case["strata"] else None
    if order is not None:
        time, status = time[order], status[order]
        group = None if group is None else group[order]
        strata = None if strata is None else strata[order]
        weights = None if weights is None else weights[order]
    return cumulative_incidence(
        time,
        status,
        group=group,
        strata=strata,
        times=case["times"],
        rho=case["rho"],
        weights=weights,
    )


def _r_step(curve: dict[str, Any], at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """cmprsk's corner vectors read as a right-continuous step function."""
    x = np.asarray(curve["time"])
    idx = np.searchsorted(x, at, side="right") - 1
    return np.asarray(curve["est"])[idx], np.asarray(curve["var"])[idx]


def _check(case: dict[str, Any], res: CIFResult) -> None:
    assert len(res.curves) == len(case["curves"])
    for rc in case["curves"]:
        group, cause = rc["name"].rsplit(" ", 1)
        ours = next(c for c in res.curves if str(c.group) == group and str(c.cause) == cause)
        x = np.asarray(rc["time"])
        r_est, r_var = _r_step(rc, x)
        est, var = ours.at(x)
        np.testing.assert_allclose(est, r_est, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(var, r_var, rtol=1e-10, atol=1e-15)
        at_est, at_var = ours.at(case["times"])
        r_at = np.array([np.nan if v is None else v for v in rc["at_est"]], dtype=float)
        r_atv = np.array([np.nan if v is None else v for v in rc["at_var"]], dtype=float)
        np.testing.assert_allclose(at_est, r_at, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(at_var, r_atv, rtol=1e-10, atol=1e-15)
    if case["tests"] is None:
        assert res.gray == ()
        return
    assert [str(g.cause) for g in res.gray] == case["tests"]["cause"]
    np.testing.assert_allclose([g.stat for g in res.gray], case["tests"]["stat"], rtol=1e-10)
    np.testing.assert_allclose([g.p for g in res.gray], case["tests"]["p"], rtol=1e-9)
    assert [g.df for g in res.gray] == case["tests"]["df"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_r_cuminc(name: str) -> None:
    _check(CASES[name], _fit(CASES[name]))


@pytest.mark.parametrize("name", ["tiny", "gen3_strata", "mgus2", "tiny_weighted"])
def test_row_order_does_not_matter(name: str) -> None:
    case = CASES[name]
    n = len(TINY["time"] if "weights_of_tiny" in case else case["time"])
    _check(case, _fit(case, np.random.default_rng(7).permutation(n)))


def test_tiny_by_hand() -> None:
    # group a: 1 (cause 1), 2 (cause 2), 2 (cause 1), 3 (censored); n = 4.
    # t = 1: F1 = 1/4, S = 3/4.  t = 2: 3 at risk, F1 += 3/4 * 1/3 -> 1/2, F2 = 1/4.
    # Var F1(1) (cmprsk's cinc): t6 = 1/16, t3 = 4/3, t4 = 1 + t3 F = 4/3:
    # v1 = v2 = v3 = 1/9, Var = 1/9 + (1/4)^2 / 9 - 2 (1/4) / 9 = 1/16.
    # group b: 4 (1), 5 (2), 5 (censored), 6 (1): F1 = 1/4 at 4, F2 = 3/4 * 1/3 = 1/4 at 5,
    # then 1 at risk at 6 with S = 1/2: F1 = 1/4 + 1/2 = 3/4.
    res = _fit(TINY)
    by = {(c.group, c.cause): c for c in res.curves}
    a1, a2, b1, b2 = by["a", 1], by["a", 2], by["b", 1], by["b", 2]
    assert a1.time.tolist() == [0, 1, 2, 3]
    assert a1.cif.tolist() == [0, 1 / 4, 1 / 2, 1 / 2]
    assert a1.variance[1] == pytest.approx(1 / 16, rel=1e-15)
    assert a2.cif.tolist() == [0, 1 / 4, 1 / 4]
    assert b1.cif.tolist() == [0, 1 / 4, 3 / 4]
    assert b2.cif.tolist() == [0, 1 / 4, 1 / 4]
    assert [c.cause for c in res.curves] == [1, 1, 2, 2]  # cmprsk's order: cause, then group


def test_weights_equal_replicated_rows() -> None:
    weighted = _fit(CASES["tiny_weighted"])
    case = CASES["tiny_weighted"]
    replicated = cumulative_incidence(
        case["time"], case["status"], group=case["group"], times=case["times"]
    )
    for a, b in zip(weighted.curves, replicated.curves, strict=True):
        np.testing.assert_allclose(a.cif, b.cif, rtol=1e-14)
        np.testing.assert_allclose(a.variance, b.variance, rtol=1e-12)


def test_at_times_after_the_last_follow_up_is_missing() -> None:
    rows = _fit(TINY).at_times()
    late = [r for r in rows if r["group"] == "a" and r["time"] == 7.0]
    assert late and all(r["cif"] is None for r in late)


def test_json_keys() -> None:
    out = _fit(TINY).to_dict()
    assert set(out) == {"curves", "at_times", "gray"}
    assert set(out["curves"][0]) == {"group", "cause", "time", "cif", "variance"}
    assert set(out["at_times"][0]) == {"group", "cause", "time", "cif", "variance"}
    assert set(out["gray"][0]) == {"cause", "stat", "df", "p"}
    json.dumps(out)


def test_invalid_input() -> None:
    with pytest.raises(ValueError, match="no event"):
        cumulative_incidence([1, 2], [0, 0])
    with pytest.raises(ValueError, match="negative"):
        cumulative_incidence([-1, 2], [1, 0])
    with pytest.raises(ValueError, match="weights"):
        cumulative_incidence([1, 2], [1, 0], weights=[1, 0])


def test_numeric_group_labels_give_the_curves_of_text_labels() -> None:
    """Integer groups (coded by numpy) give the same curves and test as the same labels as text."""
    rng = np.random.default_rng(5)
    n = 600
    time = rng.exponential(1.0, n)
    status = rng.integers(0, 3, n)
    group = rng.integers(0, 3, n)
    as_int = cumulative_incidence(time, status, group=group)
    as_text = cumulative_incidence(
        time, status, group=np.array(["0", "1", "2"], dtype=object)[group]
    )
    assert [c.group for c in as_int.curves] == [0, 1, 2] * 2
    for a, b in zip(as_int.curves, as_text.curves, strict=True):
        np.testing.assert_array_equal(a.cif, b.cif)
        np.testing.assert_array_equal(a.variance, b.variance)
    assert [g.stat for g in as_int.gray] == [g.stat for g in as_text.gray]
    with pytest.raises(ValueError, match="missing"):
        cumulative_incidence(time, status, group=np.where(group == 1, np.nan, group))


@pytest.mark.parametrize("rho", [0.5, 1.0])
def test_gray_with_weights_and_rho_equals_replicated_rows(rho: float) -> None:
    """Frequency weights under Gray's (1 - F-)^rho weighting: as many copies of each row."""
    rng = np.random.default_rng(1)
    n = 200
    time = rng.exponential(10, n).round(1) + 0.1
    status = rng.choice([0, 1, 2], n, p=[0.3, 0.4, 0.3])
    group = rng.choice(["a", "b", "c"], n)
    strata = rng.choice(["x", "y"], n)
    copies = rng.integers(1, 4, n)
    weighted = cumulative_incidence(
        time, status, group=group, strata=strata, rho=rho, weights=copies.astype(float)
    )
    replicated = cumulative_incidence(
        np.repeat(time, copies),
        np.repeat(status, copies),
        group=np.repeat(group, copies),
        strata=np.repeat(strata, copies),
        rho=rho,
    )
    assert len(weighted.gray) == 2
    for a, b in zip(weighted.gray, replicated.gray, strict=True):
        assert np.isfinite(a.stat)
        assert a.stat == pytest.approx(b.stat, rel=1e-10)
        assert a.p == pytest.approx(b.p, rel=1e-10)
