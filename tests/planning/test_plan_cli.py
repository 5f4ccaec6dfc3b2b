"""`rechallenge plan ...`, run in-process with typer's CliRunner."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from rechallenge.cli import app

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["plan", *args])
    return result.exit_code, result.output


def test_events_json() -> None:
    code, out = _run("events", "--hr", "0.7", "--json")
    assert code == 0, out
    d = json.loads(out)
    assert (d["events"], round(d["events_exact"], 3), d["method"]) == (247, 246.787, "schoenfeld")
    code, out = _run("events", "--hr", "0.7", "--method", "freedman", "--json")
    assert json.loads(out)["events"] == 253


def test_events_bad_values_are_usage_errors() -> None:
    code, out = _run("events", "--hr", "1")
    assert code == 2 and "differ from 1" in out
    code, out = _run("events", "--hr", "0.7", "--method", "cox")
    assert code == 2 and "schoenfeld" in out


def test_simon_json_keys() -> None:
    code, out = _run("simon", "--p0", "0.05", "--p1", "0.25", "--nmax", "30", "--json")
    assert code == 0, out
    d = json.loads(out)
    o, m = d["optimal"], d["minimax"]
    assert (o["r1"], o["n1"], o["r"], o["n"]) == (0, 9, 2, 17)
    assert (m["r1"], m["n1"], m["r"], m["n"]) == (0, 12, 2, 16)
    assert {"en0", "pet0"} <= set(o)


def test_simon_no_design_table_mode_fails() -> None:
    code, out = _run("simon", "--p0", "0.05", "--p1", "0.25", "--nmax", "10")
    assert code == 2 and "--nmax" in out


def test_sample_size_single_stage_and_one_arm() -> None:
    code, out = _run(
        "sample-size", "--hr", "0.7", "--median-control", "6", "--accrual", "24",
        "--follow-up", "12", "--dropout", "0.01", "--json",
    )  # fmt: skip
    assert code == 0, out
    d = json.loads(out)
    assert d["n"] == d["n_control"] + d["n_experimental"] and d["events"] < d["n"]
    code, out = _run("single-stage", "--p0", "0.05", "--p1", "0.25", "--json")
    assert (json.loads(out)["n"], json.loads(out)["responses_needed"]) == (16, 3)
    code, out = _run(
        "one-arm", "--median-historical", "9", "--hr", "0.5714285714285714", "--shape",
        "1.22", "--accrual", "5", "--follow-up", "3", "--json",
    )  # fmt: skip
    assert code == 0, out
    assert json.loads(out)["n"] == 88


def test_human_table() -> None:
    code, out = _run("events", "--hr", "0.7")
    assert code == 0 and "247" in out and "events_exact" in out
