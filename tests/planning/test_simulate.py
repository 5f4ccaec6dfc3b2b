"""Trial simulation: power against the analytic designs, duration against the expected
event curve, reproducibility."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq
from typer.testing import CliRunner

from rechallenge.cli import app
from rechallenge.planning.events import hazard_from_median, lachin_foulkes, required_events
from rechallenge.planning.simulate import Curve, TrialDesign, simulate_trial

CURVE = Curve.exponential_median(6.0)


def test_power_of_the_lachin_foulkes_design_is_nominal() -> None:
    lf = lachin_foulkes(hazard_from_median(6), 0.7, accrual=24, follow_up=12)
    design = TrialDesign(n=lf.n, hr=0.7, accrual=24, follow_up=12)
    res = simulate_trial(CURVE, design, n_sim=1500, seed=11)
    assert abs(res.power - 0.8) < 3.5 * math.sqrt(0.16 / 1500)  # within 3.5 MC SE
    assert res.duration_mean == res.duration_median == 36.0
    assert res.events_mean == pytest.approx(lf.events, rel=0.03)


def test_event_driven_schoenfeld_design() -> None:
    d = required_events(0.7).events
    design = TrialDesign(n=400, hr=0.7, accrual=24, follow_up=0, target_events=d)
    res = simulate_trial(CURVE, design, n_sim=1500, seed=5)
    assert res.events_mean == d and res.reached_share == 1.0
    assert abs(res.power - 0.8) < 3.5 * math.sqrt(0.16 / 1500)
    # expected duration: the calendar time at which the expected event count reaches d
    h_c, h_e = math.log(2) / 6, 0.7 * math.log(2) / 6

    def expected_events(tau: float) -> float:
        def share(h: float) -> float:
            return quad(lambda e: -math.expm1(-h * (tau - e)), 0, min(tau, 24))[0] / 24

        return 200 * share(h_c) + 200 * share(h_e)

    tau = brentq(lambda s: expected_events(s) - d, 1, 200)
    assert res.duration_mean == pytest.approx(tau, rel=0.01)


def test_no_effect_gives_alpha_and_same_seed_same_numbers() -> None:
    design = TrialDesign(n=120, hr=1.0, accrual=12, follow_up=12)
    a = simulate_trial(CURVE, design, n_sim=800, seed=7)
    b = simulate_trial(CURVE, design, n_sim=800, seed=7)
    c = simulate_trial(CURVE, design, n_sim=800, seed=8)
    assert a == b
    assert (a.power, a.events_mean) != (c.power, c.events_mean)
    # only favourable rejections count: about alpha / 2
    assert a.power < 0.025 + 3.5 * math.sqrt(0.025 * 0.975 / 800)


def test_weibull_curve_and_dropout() -> None:
    curve = Curve(shape=1.5, scale=10.0)
    assert curve.median == pytest.approx(10 * math.log(2) ** (1 / 1.5))
    base = TrialDesign(n=200, hr=0.6, accrual=12, follow_up=6)
    lossy = TrialDesign(n=200, hr=0.6, accrual=12, follow_up=6, dropout=0.1)
    r0 = simulate_trial(curve, base, n_sim=300, seed=1)
    r1 = simulate_trial(curve, lossy, n_sim=300, seed=1)
    assert r1.events_mean < r0.events_mean
    assert r0.median_experimental == pytest.approx(curve.median * 0.6 ** (-1 / 1.5))


def test_progress_callback_and_refusals() -> None:
    seen: list[int] = []
    simulate_trial(CURVE, TrialDesign(n=40, hr=0.7, accrual=6, follow_up=6), n_sim=5,
                   progress=seen.append)  # fmt: skip
    assert seen == [1, 2, 3, 4, 5]
    with pytest.raises(ValueError, match="target_events"):
        simulate_trial(CURVE, TrialDesign(n=40, hr=0.7, accrual=6, follow_up=0, target_events=50))


def test_cli_simulate_from_data(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "cohort.csv"
    pd.DataFrame({"t": rng.exponential(9, 60) + 0.1, "e": rng.integers(0, 2, 60)}).to_csv(
        path, index=False
    )
    runner = CliRunner()
    args = ["plan", "simulate", str(path), "--time", "t", "--event", "e", "--hr", "0.7",
            "--n", "100", "--accrual", "12", "--follow-up", "6", "--n-sim", "50",
            "--json"]  # fmt: skip
    out1 = runner.invoke(app, args)
    out2 = runner.invoke(app, args)
    assert out1.exit_code == 0, out1.output
    d = json.loads(out1.output)
    assert d == json.loads(out2.output)
    assert d["curve"]["shape"] > 0 and 0 <= d["power"] <= 1 and d["duration_mean"] == 18
    bad = runner.invoke(app, ["plan", "simulate", str(path), "--time", "x", "--event", "e",
                              "--hr", "0.7", "--n", "100", "--accrual", "12"])  # fmt: skip
    assert bad.exit_code == 2 and "no column x" in bad.output
    both = runner.invoke(app, ["plan", "simulate", "--hr", "0.7", "--n", "100",
                               "--accrual", "12"])  # fmt: skip
    assert both.exit_code == 2
