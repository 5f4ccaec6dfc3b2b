"""`rechallenge stats km | logrank | cox`, run in-process with typer's CliRunner."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rechallenge.stats_cli import app

REF = Path(__file__).resolve().parents[1] / "reference" / "data"
runner = CliRunner()
HAS_COX = importlib.util.find_spec("rechallenge.stats.cox") is not None


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_km_json_reference_medians() -> None:
    code, out = _run(
        "km", str(REF / "reference.csv"), "--time", "time", "--event", "status",
        "--group", "group", "--tau", "20", "--json",
    )  # fmt: skip
    assert code == 0, out
    d = json.loads(out)
    a, b = d["groups"]["A"], d["groups"]["B"]
    assert (a["n"], a["events"], a["median"], a["median_lower"], a["median_upper"]) == (
        10, 7, 8.0, 3.0, None,
    )  # fmt: skip
    assert (b["median"], b["median_lower"]) == (18.0, 9.0)
    assert a["rmst"]["rmst"] == pytest.approx(9.744444, abs=5e-7)
    assert a["table"]["time"][0] == 2.0 and d["n_dropped"] == 0


def test_km_conf_type_and_human_table() -> None:
    code, out = _run(
        "km", str(REF / "reference.csv"), "--time", "time", "--event", "status",
        "--group", "group", "--conf-type", "log-log",
    )  # fmt: skip
    assert code == 0
    assert "log-log" in out and "15" in out


def test_missing_rows_refuse_the_file_unless_drop_missing_is_given() -> None:
    args = ["km", str(REF / "pbc.csv"), "--time", "time", "--event", "status", "--group", "trt"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "106 row(s) have a blank or NA value in a column the command uses (trt: 106)" in (
        result.output
    )
    code, out = _run(*args, "--drop-missing", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["n_dropped"] == 106 and len(d["dropped_rows"]) == 106
    assert sum(g["n"] for g in d["groups"].values()) == 312
    code, out = _run(*args, "--drop-missing")
    assert "Dropped 106 row(s) with a missing value in a used column (--drop-missing)" in out


def test_logrank_json_and_table() -> None:
    args = ["logrank", str(REF / "reference.csv"), "--time", "time", "--event", "status"]
    code, out = _run(*args, "--group", "group", "--strata", "strat", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["chi2"] == pytest.approx(2.687234, abs=5e-7) and d["df"] == 1
    assert [r["observed"] for r in d["table"]] == [7.0, 6.0]
    code, out = _run(*args, "--group", "group", "--rho", "1")
    assert code == 0 and "Peto-Peto" in out and "Chisq = 2.17733" in out


@pytest.mark.parametrize(
    "args",
    [
        ["km", "--time", "nope", "--event", "status"],  # unknown column
        ["km", "--time", "time", "--event", "status", "--conf-type", "loglog"],
        ["km", "--event", "status"],  # --time missing
        ["logrank", "--time", "time", "--event", "status"],  # --group missing
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    code, _ = _run(args[0], str(REF / "reference.csv"), *args[1:])
    assert code == 2


def test_bad_data_exits_1_with_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("time,status,arm\n1,1,a\n-2,0,b\n3,2,a\n")
    result = runner.invoke(app, ["km", str(bad), "--time", "time", "--event", "status"])
    assert result.exit_code == 1
    assert ">= 0" in result.output or ">= 0" in (result.stderr or "")


def test_one_group_logrank_is_bad_data(tmp_path: Path) -> None:
    one = tmp_path / "one.csv"
    one.write_text("time,status,arm\n1,1,a\n2,0,a\n")
    code, _ = _run("logrank", str(one), "--time", "time", "--event", "status", "--group", "arm")
    assert code == 1


@pytest.mark.skipif(not HAS_COX, reason="rechallenge.stats.cox (Cox fit) is not in this tree yet")
def test_cox_json_keys() -> None:
    code, out = _run(
        "cox", str(REF / "reference.csv"), "--time", "time", "--event", "status",
        "--covariates", "group", "--json",
    )  # fmt: skip
    assert code == 0, out
    d = json.loads(out)
    term = d["cox"]["terms"][0]
    assert set(term) >= {"term", "coef", "se", "hr", "hr_lower", "hr_upper", "z", "p"}
    assert term["coef"] == pytest.approx(-0.817528, abs=5e-6)
    assert set(d["cox"]["tests"]) >= {"lr", "wald", "score"}
    assert "zph" in d and d["ties"] == "efron"


@pytest.mark.skipif(not HAS_COX, reason="rechallenge.stats.cox (Cox fit) is not in this tree yet")
def test_cox_bad_ties_is_usage_error() -> None:
    code, _ = _run(
        "cox", str(REF / "reference.csv"), "--time", "time", "--event", "status",
        "--covariates", "group", "--ties", "exact",
    )  # fmt: skip
    assert code == 2
