"""`rechallenge stats cif | finegray` against the R cmprsk fixtures, in-process."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from rechallenge.stats_cli import app

FIX = Path(__file__).resolve().parents[1] / "reference" / "fixtures"
CUMINC = {c["name"]: c for c in json.loads((FIX / "cmprsk_cuminc.json").read_text())["cases"]}
CRR = {c["name"]: c for c in json.loads((FIX / "cmprsk_crr.json").read_text())["cases"]}
runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _csv(tmp_path: Path, frame: pd.DataFrame) -> str:
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return str(path)


def test_cif_json_matches_r(tmp_path: Path) -> None:
    case = CUMINC["mgus2"]
    path = _csv(tmp_path, pd.DataFrame({k: case[k] for k in ("time", "status", "group")}))
    code, out = _run(
        "cif", path, "--time", "time", "--status", "status", "--group", "group",
        "--times", "60,120,240", "--json",
    )  # fmt: skip
    assert code == 0, out
    d = json.loads(out)
    assert {"curves", "at_times", "gray"} <= set(d)
    assert set(d["curves"][0]) == {"group", "cause", "time", "cif", "variance"}
    r_curves = {c["name"]: c for c in case["curves"]}
    for row in d["at_times"]:
        rc = r_curves[f"{row['group']} {row['cause']}"]
        k = case["times"].index(row["time"])
        assert row["cif"] == pytest.approx(rc["at_est"][k], rel=1e-12)
        assert row["variance"] == pytest.approx(rc["at_var"][k], rel=1e-10)
    np.testing.assert_allclose([g["stat"] for g in d["gray"]], case["tests"]["stat"], rtol=1e-10)
    assert [g["df"] for g in d["gray"]] == [1, 1]


def test_cif_without_group_has_no_gray_test_and_prints_a_table(tmp_path: Path) -> None:
    case = CUMINC["tiny"]
    path = _csv(tmp_path, pd.DataFrame({k: case[k] for k in ("time", "status")}))
    code, out = _run("cif", path, "--time", "time", "--status", "status", "--json")
    assert code == 0, out
    assert json.loads(out)["gray"] == []
    code, out = _run("cif", path, "--time", "time", "--status", "status", "--times", "2,5")
    assert code == 0 and "Cumulative incidence" in out


def test_cif_refuses_a_status_that_is_not_a_cause_code(tmp_path: Path) -> None:
    path = _csv(tmp_path, pd.DataFrame({"time": [1, 2, 3], "status": [0, 1.5, -1]}))
    code, out = _run("cif", path, "--time", "time", "--status", "status")
    assert code == 1
    assert "STATS-006" in out and "rows 3, 4" in out


def test_finegray_json_matches_r(tmp_path: Path) -> None:
    case = CRR["mgus2"]
    frame = pd.DataFrame({"time": case["time"], "status": case["status"]})
    for term, col in zip(case["terms"], case["x"], strict=True):
        frame[term] = col
    path = _csv(tmp_path, frame)
    code, out = _run(
        "finegray", path, "--time", "time", "--status", "status", "--cause", "1",
        "--covariates", ",".join(case["terms"]), "--json",
    )  # fmt: skip
    assert code == 0, out
    d = json.loads(out)
    assert {"cause", "n", "coefficients", "loglik", "iterations"} <= set(d)
    assert d["cause"] == 1 and d["n"] == case["n"]
    coef = [r["coef"] for r in d["coefficients"]]
    se = [r["se"] for r in d["coefficients"]]
    np.testing.assert_allclose(coef, case["coef"], rtol=1e-7)
    np.testing.assert_allclose(np.square(se), np.diag(np.reshape(case["var"], (3, 3))), rtol=1e-7)
    assert d["loglik"] == pytest.approx(case["loglik"], rel=1e-12)
    code, out = _run(
        "finegray", path, "--time", "time", "--status", "status",
        "--covariates", "age,male",
    )  # fmt: skip
    assert code == 0 and "Fine–Gray" in out
