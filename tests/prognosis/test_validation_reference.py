"""Validation metrics against R survival::concordance, an IPCW AUC written out in base R,
coxph and rms validate (fixtures written by tests/reference/prognosis.R)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rechallenge.stats.cox import fit_cox
from rechallenge.stats.validation import (
    bootstrap_optimism,
    calibration_slope,
    calibration_table,
    concordance,
    time_dependent_auc,
)

REF = Path(__file__).resolve().parents[1] / "reference"
CASES = ["lung", "veteran"]


def _case(name: str) -> tuple[dict[str, Any], pd.DataFrame, np.ndarray, np.ndarray]:
    fixture = json.loads((REF / "fixtures" / f"prog_validation_{name}.json").read_text())
    data = pd.read_csv(REF / "data" / fixture["data"])
    x = data[fixture["covariates"]].to_numpy(dtype=float)
    return fixture, data, x, x @ np.array(fixture["coef"])


@pytest.mark.parametrize("name", CASES)
def test_harrell_and_uno_match_survival_concordance(name: str) -> None:
    r, d, x, lp = _case(name)
    harrell = concordance(d["time"], d["event"], lp)
    assert harrell.c == pytest.approx(r["harrell"], abs=1e-12)
    # the same number as fit_cox's own Harrell's C
    cox = fit_cox(d["time"], d["event"], x)
    assert cox.concordance is not None and harrell.c == pytest.approx(cox.concordance.c, abs=1e-12)
    uno = concordance(d["time"], d["event"], lp, weights="uno")
    assert uno.c == pytest.approx(r["uno"], abs=1e-12)
    uno_tau = concordance(d["time"], d["event"], lp, weights="uno", tau=r["tau"])
    assert uno_tau.c == pytest.approx(r["uno_tau"], abs=1e-12)
    assert uno.c != pytest.approx(harrell.c, abs=1e-4)  # the weights do something


@pytest.mark.parametrize("name", CASES)
def test_time_dependent_auc_and_slope(name: str) -> None:
    r, d, _, lp = _case(name)
    for t, want in zip(r["auc_times"], r["auc"], strict=True):
        assert time_dependent_auc(d["time"], d["event"], lp, t) == pytest.approx(want, abs=1e-12)
    assert calibration_slope(d["time"], d["event"], lp) == pytest.approx(r["slope"], abs=1e-8)
    assert r["slope"] == pytest.approx(1.0, abs=1e-8)  # apparent slope of the model's own lp


@pytest.mark.parametrize("name", CASES)
def test_bootstrap_optimism_matches_rms_validate(name: str) -> None:
    r, d, x, _ = _case(name)
    idx = np.array(r["indices"]).reshape(r["B"], -1)
    res = bootstrap_optimism(d["time"], d["event"], x, indices=idx)
    v = r["validate"]
    assert v["index"] == ["Dxy", "Slope"]
    assert res.apparent["Dxy"] == pytest.approx(v["apparent"][0], abs=1e-10)
    assert res.training["Dxy"] == pytest.approx(v["training"][0], abs=1e-10)
    assert res.test["Dxy"] == pytest.approx(v["test"][0], abs=1e-10)
    assert res.corrected["Dxy"] == pytest.approx(v["corrected"][0], abs=1e-10)
    # Slope: to coxph refits exactly, to rms (cph's eps = 1e-4) to 1e-3
    assert res.test["Slope"] == pytest.approx(r["recomputed"]["test"][1], abs=1e-8)
    assert res.corrected["Slope"] == pytest.approx(v["corrected"][1], rel=1e-3)
    assert res.optimism["Dxy"] > 0 and res.b == r["B"]


def test_seeded_bootstrap_is_reproducible() -> None:
    _, d, x, _ = _case("lung")
    a = bootstrap_optimism(d["time"], d["event"], x, b=5, seed=3)
    b = bootstrap_optimism(d["time"], d["event"], x, b=5, seed=3)
    assert a == b
    with pytest.raises(ValueError, match="B x n"):
        bootstrap_optimism(d["time"], d["event"], x, indices=np.zeros((2, 3), dtype=int))


def test_hand_worked_concordance() -> None:
    # times 1..4, all events: risk order 4,3,2,1 is perfectly concordant; one swap
    t, e = [1, 2, 3, 4], [1, 1, 1, 1]
    assert concordance(t, e, [4, 3, 2, 1]).c == 1.0
    res = concordance(t, e, [4, 2, 3, 1])
    assert (res.concordant, res.discordant, res.c) == (5.0, 1.0, 5 / 6)
    # a tie in risk counts a half; a censored time equal to an event time is comparable
    res = concordance([1, 1, 2], [1, 0, 1], [2, 2, 1])
    assert (res.concordant, res.tied_risk) == (1.0, 1.0)


def test_calibration_table_groups() -> None:
    _, d, _, lp = _case("lung")
    pred = np.exp(-np.exp(lp - lp.mean()) * 0.5)  # any monotone S(t) prediction
    table = calibration_table(d["time"], d["event"], pred, 365, groups=4)
    assert [g.n for g in table] == [57, 57, 57, 56]  # 227 rows
    assert [g.predicted for g in table] == sorted(g.predicted for g in table)
    assert all(g.lower <= g.observed <= g.upper for g in table)
    # lower predicted survival, lower observed survival at one year in this cohort
    assert table[0].observed < table[-1].observed
