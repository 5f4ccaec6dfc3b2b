"""`stats km --conf-level --quantiles --landmarks` and `stats cox --reference --conf-level`
against R (tests/reference/cli_parity.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from rechallenge.stats_cli import app

REF = Path(__file__).resolve().parents[1] / "reference"
R = json.loads((REF / "fixtures" / "coxx_cli.json").read_text())
DATA = str(REF / "data" / "cox_veteran.csv")
runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_km_quantiles_and_landmarks_at_a_chosen_level() -> None:
    code, out = _run(
        "km", DATA, "--time", "time", "--event", "event", "--conf-level", "0.9",
        "--quantiles", "0.25,0.75", "--landmarks", "30,90", "--json",
    )  # fmt: skip
    assert code == 0, out
    d = json.loads(out)
    assert d["conf_level"] == 0.9
    g = d["groups"]["all"]
    r = R["km"]
    assert [q["estimate"] for q in g["quantiles"]] == r["quantile"]
    assert [q["lower"] for q in g["quantiles"]] == r["lower"]
    assert [q["upper"] for q in g["quantiles"]] == r["upper"]
    lm = g["landmarks"]
    np.testing.assert_allclose(lm["surv"], r["surv"], rtol=1e-12)
    np.testing.assert_allclose(lm["lower"], r["surv_lower"], rtol=1e-12)
    np.testing.assert_allclose(lm["upper"], r["surv_upper"], rtol=1e-12)
    assert lm["n_risk"] == r["n_risk"]
    code, out = _run(
        "km", DATA, "--time", "time", "--event", "event", "--quantiles", "0.25",
        "--landmarks", "30",
    )  # fmt: skip
    assert code == 0 and "25th percentile" in out and "S(30)" in out


def test_cox_reference_level_and_conf_level_as_r_relevel() -> None:
    code, out = _run(
        "cox", DATA, "--time", "time", "--event", "event", "--covariates", "celltype,karno",
        "--reference", "celltype=large", "--conf-level", "0.9", "--json",
    )  # fmt: skip
    assert code == 0, out
    terms = json.loads(out)["cox"]["terms"]
    r = R["cox"]
    assert [t["term"] for t in terms] == r["terms"]
    np.testing.assert_allclose([t["coef"] for t in terms], r["coef"], rtol=1e-9)
    np.testing.assert_allclose([t["hr_lower"] for t in terms], r["hr_lower"], rtol=1e-9)
    np.testing.assert_allclose([t["hr_upper"] for t in terms], r["hr_upper"], rtol=1e-9)


def test_bad_reference_and_level_are_usage_errors() -> None:
    base = ("cox", DATA, "--time", "time", "--event", "event", "--covariates", "celltype")
    assert _run(*base, "--reference", "celltype")[0] == 2
    assert _run(*base, "--reference", "karno=1")[0] == 2
    assert _run(*base, "--conf-level", "1.5")[0] == 2
    code, out = _run(*base, "--reference", "celltype=huge")
    assert code == 1 and "huge" in out


def test_cox_prints_an_r_like_summary_and_zph() -> None:
    code, out = _run(
        "cox", DATA, "--time", "time", "--event", "event", "--covariates", "celltype,karno",
        "--reference", "celltype=large", "--zph",
    )  # fmt: skip
    assert code == 0, out
    # the lines of R summary(coxph(Surv(time, event) ~ celltype + karno)) on this file,
    # with celltype releveled to "large" (as tests/reference/cli_parity.R)
    assert "n= 137, number of events= 128" in out
    assert "Likelihood ratio test= 59.37  on 4 df,   p=4e-12" in out
    assert "Wald test            = 61.26  on 4 df,   p=2e-12" in out
    assert "Score (logrank) test = 63.94  on 4 df,   p=4e-13" in out
    assert "Concordance= 0.734  (se = 0.023 )" in out
    assert "GLOBAL        23.6   4" in out and "celltype      14.1   3  0.00282" in out
