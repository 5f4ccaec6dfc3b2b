"""The command line, in-process: exit codes, problem reports, privacy, files written."""

from __future__ import annotations

import sys
from pathlib import Path

from typer.testing import CliRunner

from rechallenge import __version__
from rechallenge.cli import app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
from datafactory import copy_tables, write_study

runner = CliRunner()


def broken_study(tmp_path: Path) -> Path:
    tables = copy_tables()
    tables["treatments"][0]["ecog"] = "7"
    tables["adverse_events"][0]["patient_id"] = "SECRET-ID-42"
    return write_study(tmp_path / "broken", tables)


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_validate_valid_study_prints_summary(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(write_study(tmp_path / "s", copy_tables()))])
    assert result.exit_code == 0, result.output
    assert "patients" in result.output
    # the small study carries two response warnings: counted, never "No problems found"
    assert "No errors; 2 warning(s)" in " ".join(result.output.split())
    assert "No problems found" not in result.output


def test_validate_invalid_study_exits_1_with_one_line_per_problem(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(broken_study(tmp_path))])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("[")]
    assert len(lines) == 2
    assert any("[RANGE-001] treatments.csv, row 2, column ecog" in line for line in lines)
    assert "SECRET-ID-42" not in result.output


def test_show_ids_reveals_identifiers(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(broken_study(tmp_path)), "--show-ids"])
    assert result.exit_code == 1
    assert "SECRET-ID-42" in result.output


def test_run_on_invalid_data_writes_only_the_problem_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(broken_study(tmp_path)), "--out", str(out)])
    assert result.exit_code == 1
    assert sorted(p.name for p in out.iterdir()) == [".rechallenge-run.json", "problems.csv"]
    assert "SECRET-ID-42" not in (out / "problems.csv").read_text(encoding="utf-8")


def test_usage_error_exits_2(tmp_path: Path) -> None:
    assert runner.invoke(app, ["run"]).exit_code == 2
    missing = runner.invoke(app, ["validate", str(tmp_path / "missing")])
    assert missing.exit_code == 2
    assert "no such file or folder" in missing.output
    assert runner.invoke(app, ["frobnicate"]).exit_code == 2


def test_init_writes_the_template_and_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "study.yaml"
    assert runner.invoke(app, ["init", str(target)]).exit_code == 0
    assert "ctcae_version" in target.read_text(encoding="utf-8")
    assert runner.invoke(app, ["init", str(target)]).exit_code == 2


def test_bad_configuration_exits_3(tmp_path: Path) -> None:
    config = tmp_path / "study.yaml"
    config.write_text("nonsense_key: 1\n", encoding="utf-8")
    study = write_study(tmp_path / "s", copy_tables())
    result = runner.invoke(
        app, ["run", str(study), "--config", str(config), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 3
    assert "nonsense_key" in result.output


def test_run_writes_results_without_identifiers(tmp_path: Path) -> None:
    out = tmp_path / "out"
    study = write_study(tmp_path / "s", copy_tables())
    result = runner.invoke(app, ["run", str(study), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = (out / "results.json").read_text(encoding="utf-8")
    assert '"screened": 2' in text
    for secret in ("P-001", "P-002", "2020-02-01"):
        assert secret not in text
        assert secret not in (out / "run.log").read_text(encoding="utf-8")
        assert secret not in result.output


def test_drugs_lists_the_dictionary() -> None:
    result = runner.invoke(app, ["drugs"])
    assert result.exit_code == 0
    assert "pembrolizumab" in result.output
