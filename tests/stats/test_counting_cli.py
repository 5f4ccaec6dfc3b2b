"""`rechallenge stats km | cox --start`: counting-process rows against the R fixture."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from rechallenge.stats_cli import app

FIX = Path(__file__).resolve().parents[1] / "reference" / "fixtures" / "cp_counting.json"
REF = json.loads(FIX.read_text())
runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _heart_csv(tmp_path: Path) -> str:
    case = next(c for c in REF["cox"] if c["name"] == "heart")
    frame = pd.DataFrame({"start": case["start"], "stop": case["stop"], "event": case["event"]})
    for name, col in zip(case["covariates"], case["x"], strict=True):
        frame[name] = col
    path = tmp_path / "heart.csv"
    frame.to_csv(path, index=False)
    return str(path)


def test_cox_start_json_matches_r(tmp_path: Path) -> None:
    case = next(c for c in REF["cox"] if c["name"] == "heart")
    code, out = _run(
        "cox", _heart_csv(tmp_path), "--start", "start", "--time", "stop", "--event", "event",
        "--covariates", "age,year,surgery,transplant", "--json",
    )  # fmt: skip
    assert code == 0, out
    d = json.loads(out)
    coef = [t["coef"] for t in d["cox"]["terms"]]
    np.testing.assert_allclose(coef, case["efron"]["coef"], rtol=1e-9)
    assert d["cox"]["n"] == case["efron"]["n"] and d["zph"] is None
    assert d["cox"]["tests"]["score"]["chi2"] == pytest.approx(case["efron"]["score"], rel=1e-10)


def test_km_start_json_matches_r(tmp_path: Path) -> None:
    case = next(c for c in REF["km"] if c["name"] == "heart")
    path = _heart_csv(tmp_path)
    code, out = _run(
        "km", path, "--start", "start", "--time", "stop", "--event", "event",
        "--group", "transplant", "--json",
    )  # fmt: skip
    assert code == 0, out
    groups = json.loads(out)["groups"]
    assert set(groups) == {"0", "1"}
    curve = np.asarray(case["curve"])
    n_risk = np.asarray(case["n_risk"])
    assert groups["1"]["table"]["n_risk"] == n_risk[curve == "1"].tolist()
    assert groups["0"]["median"] == case["median"][0]


def test_a_start_not_below_the_time_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    pd.DataFrame({"a": [0, 5, 1], "b": [3, 4, 2], "e": [1, 0, 1]}).to_csv(path, index=False)
    code, out = _run("km", str(path), "--start", "a", "--time", "b", "--event", "e")
    assert code == 1
    assert "STATS-007" in out and "rows 3" in out
