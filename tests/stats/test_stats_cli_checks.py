"""`rechallenge stats`: censoring flags, missing values and bad values refused before any
statistic, with spreadsheet row numbers (header = row 1) and values shown as typed.

Classes S2 (event not binary), S3 (inverted censoring: CDISC CNSR) and S4 (event or time
missing) of the bad-input reference, for the statistics commands.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rechallenge.stats_cli import app

REF = Path(__file__).resolve().parents[1] / "reference" / "data"
runner = CliRunner()


def reference_with(tmp_path: Path, **columns: object) -> Path:
    """reference.csv plus computed columns: name=callable(row) -> cell text."""
    with (REF / "reference.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for name, make in columns.items():
            row[name] = str(make(row))  # type: ignore[operator]
    path = tmp_path / "data.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.output


def km_json(*args: str) -> dict[str, object]:
    code, out = invoke("km", *args, "--json")
    assert code == 0, out
    return json.loads(out)  # type: ignore[no-any-return]


# -- S3: a censoring flag given as the event ------------------------------------------------


@pytest.mark.parametrize("name", ["CNSR", "cnsr", "censored", "OS_CNSR"])
def test_a_censoring_flag_as_event_is_refused_without_cnsr(tmp_path: Path, name: str) -> None:
    data = reference_with(tmp_path, **{name: lambda r: 1 - int(r["status"])})
    for command in (["km"], ["logrank", "--group", "group"]):
        code, out = invoke(*command, str(data), "--time", "time", "--event", name)
        assert code == 1
        assert f"[STATS-002] --event {name}: the name says it is a censoring flag" in out
        assert "pass --cnsr to invert it" in out


def test_cnsr_is_inverted_explicitly_and_said_so(tmp_path: Path) -> None:
    data = reference_with(tmp_path, CNSR=lambda r: 1 - int(r["status"]))
    common = ["--time", "time", "--group", "group"]
    inverted = km_json(str(data), *common, "--event", "CNSR", "--cnsr")
    direct = km_json(str(data), *common, "--event", "status")
    assert inverted["groups"] == direct["groups"]
    assert inverted["event_definition"] == "1 - CNSR" and direct["event_definition"] == "event"
    code, out = invoke("km", str(data), *common, "--event", "CNSR", "--cnsr")
    assert code == 0
    assert "Event = 1 - CNSR: the censoring flag CNSR (1 = censored) was inverted (--cnsr)." in out


# -- S4: blank or NA times and events ---------------------------------------------------------


def test_blank_and_na_times_or_events_refuse_with_count_and_spreadsheet_rows(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data.csv"
    data.write_text("time,status\n1,1\n,0\n3,1\n4,NA\n5,0\n\n7,1\n")
    code, out = invoke("km", str(data), "--time", "time", "--event", "status")
    assert code == 1
    assert (
        "[STATS-003] 3 row(s) have a blank or NA value in a column the command uses "
        "(time: 2, status: 2), at rows 3, 5, 7; fill them in, or pass --drop-missing" in out
    )


def test_drop_missing_reports_how_many_and_which_rows(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_text("time,status\n1,1\n,0\n3,1\n4,NA\n5,0\n")
    d = km_json(str(data), "--time", "time", "--event", "status", "--drop-missing")
    assert (d["n_dropped"], d["dropped_rows"]) == (2, [3, 5])
    assert d["groups"]["all"]["n"] == 3  # type: ignore[index]
    _, out = invoke("km", str(data), "--time", "time", "--event", "status", "--drop-missing")
    assert (
        "Dropped 2 row(s) with a missing value in a used column (--drop-missing): rows 3, 5."
        in (out)
    )


# -- S2 and S1: values, with spreadsheet rows and plain values -------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "1,1\n-1.0,0\n3,1\n-2.5,0\n",
            "[STATS-004] --time time: 2 value(s) negative, at rows 3, 5 (first: -1.0)",
        ),
        (
            "1,1\nabc,0\n",
            "[STATS-004] --time time: 1 value(s) not a number, at rows 3 (first: 'abc')",
        ),
        ("1,1\ninf,0\n", "[STATS-004] --time time: 1 value(s) infinite, at rows 3 (first: inf)"),
        (
            "1,1\n2,2\n3,2\n",
            "[STATS-005] --event status: 2 value(s) other than 0 and 1 (2), at rows 3, 4",
        ),
        (
            "1,yes\n2,0\n",
            "[STATS-005] --event status: 1 value(s) other than 0 and 1 ('yes'), at rows 2",
        ),
    ],
    ids=["negative", "text", "infinite", "status-1-2", "yes"],
)
def test_bad_values_are_refused_with_rows_and_plain_values(
    tmp_path: Path, body: str, expected: str
) -> None:
    data = tmp_path / "data.csv"
    data.write_text("time,status\n" + body)
    code, out = invoke("km", str(data), "--time", "time", "--event", "status")
    assert code == 1
    assert expected in " ".join(out.split())
    assert "np." not in out and "row 0" not in out


def test_true_false_events_are_read_as_one_and_zero(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_text("time,died\n1,True\n2,False\n3,True\n")
    d = km_json(str(data), "--time", "time", "--event", "died")
    assert d["groups"]["all"]["events"] == 2  # type: ignore[index]


# -- help and exit codes ----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["km", "logrank", "cox"])
def test_help_has_an_example_exit_codes_and_the_docs(command: str) -> None:
    code, out = invoke(command, "--help")
    text = " ".join(out.split())
    assert code == 0
    assert f"Example: rechallenge stats {command} " in text
    assert "Exit codes: 0 done; 1 the data cannot be analysed" in text and "2 usage error" in text
    assert "docs/validation.md" in text and "--cnsr" in text and "--drop-missing" in text


def test_exit_codes_in_a_real_process(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("time,CNSR\n1,0\n2,1\n")
    cases = {  # exit 0 is checked in-process above
        1: ["km", str(bad), "--time", "time", "--event", "CNSR"],
        2: ["km", str(REF / "reference.csv"), "--time", "nope", "--event", "status"],
    }
    program = "from rechallenge.stats_cli import app; app(prog_name='rechallenge stats')"
    stderr = {}
    for expected, args in cases.items():
        done = subprocess.run(
            [sys.executable, "-c", program, *args], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == expected, done.stderr
        assert "Traceback" not in done.stderr
        stderr[expected] = done.stderr
    assert "censoring flag" in stderr[1] and "nope" in stderr[2]
