"""`rechallenge meta proportions | medians`: the JSON keys, the agreement with metafor, the
readable table and the refusals (rule codes, spreadsheet rows, values as typed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from rechallenge.cli import app

FIX = Path(__file__).resolve().parents[1] / "reference" / "fixtures"
runner = CliRunner()
ISSUE_KEYS = {
    "k",
    "measure",
    "method",
    "pooled",
    "pooled_transformed",
    "tau2",
    "I2",
    "H2",
    "Q",
    "Q_df",
    "Q_p",
    "prediction",
    "studies",
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "studies.csv"
    path.write_text(text)
    return path


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["meta", *args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.output


def as_json(*args: str) -> dict[str, Any]:
    code, out = invoke(*args, "--json")
    assert code == 0, out
    return json.loads(out)  # type: ignore[no-any-return]


@pytest.fixture
def mixed8(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """The metafor fixture ``mixed8`` as a CSV."""
    fx = json.loads((FIX / "meta_mixed8.json").read_text())
    rows = "\n".join(
        f"S{i + 1},{e},{n},{g}"
        for i, (e, n, g) in enumerate(zip(fx["events"], fx["n"], fx["group"], strict=True))
    )
    return write(tmp_path, "study,x,n,air\n" + rows + "\n"), fx


@pytest.mark.parametrize(
    ("measure", "method", "hk"), [("PLO", "REML", False), ("PFT", "PM", True), ("PR", "DL", False)]
)
def test_proportions_json_matches_metafor(
    mixed8: tuple[Path, dict[str, Any]], measure: str, method: str, hk: bool
) -> None:
    path, fx = mixed8
    args = ["proportions", str(path), "--events", "x", "--n", "n", "--study", "study"]
    args += ["--measure", measure, "--method", method] + (["--hk"] if hk else [])
    d = as_json(*args)
    assert set(d) == ISSUE_KEYS
    r = next(
        f
        for f in fx["fits"]
        if (f["measure"], f["method"], f["test"], f["conf_level"])
        == (measure, method, "knha" if hk else "z", 0.95)
    )
    pooled = [d["pooled"][k] for k in ("estimate", "ci_lower", "ci_upper")]
    np.testing.assert_allclose(pooled, r["pooled"], rtol=1e-6)
    np.testing.assert_allclose(
        [d["tau2"], d["I2"], d["Q"]], [r["tau2"], r["I2"], r["Q"]], rtol=1e-6
    )
    np.testing.assert_allclose([s["weight"] for s in d["studies"]], r["weights"], rtol=1e-6)
    assert [s["study"] for s in d["studies"]] == [f"S{i}" for i in range(1, 9)]
    assert d["k"] == 8 and (d["measure"], d["method"]) == (measure, method)


def test_conf_level_and_moderator(mixed8: tuple[Path, dict[str, Any]]) -> None:
    path, fx = mixed8
    d = as_json(
        "proportions",
        str(path),
        "--events",
        "x",
        "--n",
        "n",
        "--conf-level",
        "0.9",
        "--moderator",
        "air",
        "--sensitivity",
    )
    r = next(
        f
        for f in fx["fits"]
        if (f["measure"], f["method"], f["test"], f["conf_level"]) == ("PLO", "REML", "z", 0.9)
    )
    np.testing.assert_allclose(d["pooled_transformed"]["ci_lower"], r["ci_lower"], rtol=1e-6)
    g = r["sensitivity"]["subgroups"]
    np.testing.assert_allclose(d["subgroups"]["Q_between"], g["Q_between"], rtol=1e-6)
    assert [lv["level"] for lv in d["subgroups"]["levels"]] == g["levels"]
    assert len(d["leave_one_out"]) == len(d["influence"]) == 8
    assert d["influence"][0]["study"] == "Row 2"  # no --study: spreadsheet row labels


def test_readable_table(mixed8: tuple[Path, dict[str, Any]]) -> None:
    path, _ = mixed8
    code, out = invoke("proportions", str(path), "--events", "x", "--n", "n", "--study", "study")
    assert code == 0
    assert "Pooled proportion:" in out and "Weight (%)" in out and "S8" in out
    assert "1/2 added" in out and "2 study(ies)" in out  # 0/13 and 7/7


def test_medians(tmp_path: Path) -> None:
    fx = json.loads((FIX / "meta_medians_five.json").read_text())
    rows = "\n".join(
        f"{m},{lo},{hi}" for m, lo, hi in zip(fx["median"], fx["lower"], fx["upper"], strict=True)
    )
    path = write(tmp_path, "pfs,lo,hi\n" + rows + "\n,1,2\n")
    d = as_json(
        "medians", str(path), "--median", "pfs", "--lower", "lo", "--upper", "hi", "--drop-missing"
    )
    r = next(f for f in fx["fits"] if (f["method"], f["test"]) == ("REML", "z"))
    assert set(d) == ISSUE_KEYS
    np.testing.assert_allclose(
        [d["pooled"][k] for k in ("estimate", "ci_lower", "ci_upper")], r["pooled"], rtol=1e-6
    )
    assert "events" not in d["studies"][0]
    code, out = invoke(
        "medians", str(path), "--median", "pfs", "--lower", "lo", "--upper", "hi", "--drop-missing"
    )
    assert code == 0 and "Pooled median:" in out and "Dropped 1 row(s)" in out and "rows 7" in out


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        ("x,n\n1,10\n,12\n", [], "[META-002] 1 row(s) have a blank or NA value"),
        (
            "x,n\n1,10\n13,12\n",
            [],
            "[META-003] 1 row(s) with more events (x) than n (n), at rows 3",
        ),
        ("x,n\n1,10\n1.5,12\n", [], "at rows 3 (first: 1.5)"),
        ("x,n\n1,10\nabc,12\n", [], "[META-003] --events x: 1 value(s) not a number, at rows 3"),
        ("x,n\n1,10\n", [], "[META-005] 1 study(ies) left"),
        ("x,n\n1,10\n2,0\n", [], "with --n n below 1, at rows 3 (first: 0)"),
    ],
)
def test_bad_data_is_refused_with_rows(
    tmp_path: Path, text: str, args: list[str], message: str
) -> None:
    code, out = invoke(
        "proportions", str(write(tmp_path, text)), "--events", "x", "--n", "n", *args
    )
    assert code == 1
    assert message in " ".join(out.split())


def test_bad_medians_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "m,lo,hi\n2,1,3\n5,1,4\n")
    code, out = invoke("medians", str(path), "--median", "m", "--lower", "lo", "--upper", "hi")
    assert code == 1 and "[META-004] 1 row(s) with the median outside its CI, at rows 3" in out


@pytest.mark.parametrize(
    "args",
    [
        ["--measure", "PAS"],
        ["--method", "HS"],
        ["--conf-level", "95"],
        ["--study", "nope"],
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    path = write(tmp_path, "x,n\n1,10\n2,12\n")
    code, _ = invoke("proportions", str(path), "--events", "x", "--n", "n", *args)
    assert code == 2
