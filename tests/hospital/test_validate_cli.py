"""`rechallenge validate` and `run` on hospital exports, end to end from the command line.

A declared export shows every rule applied with its count (dialect, decimal, encoding per
file; date format per column; value map per column; renames), and every value no rule could
read as a located problem, together with the study's other problems, each cell once. The
three exports of issue 14's "Done when" (`;` with decimal commas, dd/mm/yyyy, M/F) are each
refused with the fix when undeclared and give the CSV folder's results.json once declared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner, Result

from rechallenge.api import run_study
from rechallenge.cli import app
from rechallenge.config import config_from_mapping
from rechallenge.data.mappings import RULE_WORDS
from rechallenge.pipeline import results_json

from .conftest import COHORT, TABLES
from .test_mappings import DATE_COLUMNS, NUMBER_COLUMNS, day_first, european

Frames = dict[str, pd.DataFrame]
RULE_LINE = re.compile(r"^  (?P<rule>[a-z ]+) · (?P<where>[^:]+): (?P<what>.*) · (?P<n>\d+) ")


def sex_codes(frames: Frames) -> Frames:
    out = {k: v.copy() for k, v in frames.items()}
    out["patients"]["sex"] = out["patients"]["sex"].map({"male": "M", "female": "F"})
    return out


def write(folder: Path, frames: Frames, sep: str = ",", cp1252: tuple[str, ...] = ()) -> Path:
    folder.mkdir()
    for name, frame in frames.items():
        text = frame.to_csv(index=False, sep=sep)
        (folder / f"{name}.csv").write_bytes(text.encode("cp1252" if name in cp1252 else "utf-8"))
    return folder


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def invoke(*args: object) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def rule_lines(output: str) -> list[dict[str, str]]:
    """The lines of the 'Declared mappings applied' list, parsed."""
    return [m.groupdict() for line in output.splitlines() if (m := RULE_LINE.match(line))]


HOSPITAL = """\
data:
  csv: {delimiter: ";", decimal: ","}
  files: {labs.csv: {encoding: cp1252}}
  date_format: "%d/%m/%Y"
  value_maps: {patients.sex: {M: male, F: female}}
  rename: {patients: {Pt_ID: patient_id}}
"""


def hospital_export(frames: Frames) -> Frames:
    """Every deviation at once: decimal commas, day-first dates, M/F, a local id name."""
    out = sex_codes(day_first(european(frames)))
    out["patients"] = out["patients"].rename(columns={"patient_id": "Pt_ID"})
    return out


def test_validate_lists_each_rule_applied_with_its_count(
    tmp_path: Path, cohort_frames: Frames
) -> None:
    frames = hospital_export(cohort_frames)
    folder = write(tmp_path / "export", frames, sep=";", cp1252=("labs",))
    result = invoke("validate", folder, "--config", config(tmp_path, HOSPITAL))
    assert result.exit_code == 0, result.output
    assert "Declared mappings applied" in result.output
    assert "warning [MAP-001]" not in result.output  # listed once, as rules
    lines = rule_lines(result.output)
    by = {(r["rule"], r["where"]): r for r in lines}
    for name in TABLES:
        dialect = by["file dialect", f"{name}.csv"]
        encoding = "cp1252" if name == "labs" else "utf-8"
        assert dialect["what"] == f"delimiter ';', decimal ',', encoding {encoding}"
        assert int(dialect["n"]) == len(frames[name])
    for table, columns in DATE_COLUMNS.items():
        for column in columns:
            filled = int((cohort_frames[table][column] != "").sum())
            assert int(by["date format", f"{table}.csv, column {column}"]["n"]) == filled
    for table, columns in NUMBER_COLUMNS.items():
        for column in columns:
            commas = int(frames[table][column].str.contains(",").sum())
            assert int(by["decimal comma", f"{table}.csv, column {column}"]["n"]) == commas
    sex = by["value map", "patients.csv, column sex"]
    males = int((cohort_frames["patients"]["sex"] == "male").sum())
    females = len(cohort_frames["patients"]) - males
    assert sex["what"] == f"m → male: {males}, f → female: {females}"
    assert int(sex["n"]) == len(cohort_frames["patients"])
    rename = by["column rename", "patients.csv"]
    assert (rename["what"], rename["n"]) == ("pt_id → patient_id", "1")
    assert f"({len(lines)} rule(s)" in result.output


def test_validate_lists_each_value_no_rule_could_read(
    tmp_path: Path, cohort_frames: Frames
) -> None:
    frames = hospital_export(cohort_frames)
    frames["patients"].loc[4, "sex"] = "U"  # row 6: no map for it
    frames["treatments"].loc[2, "start_date"] = "31/02/2021"  # row 4: no such day
    frames["labs"].loc[3, "value"] = "1.234"  # row 5: thousands or decimals?
    frames["treatments"].loc[5, "ecog"] = "9"  # row 7: no mapping involved, still reported
    folder = write(tmp_path / "export", frames, sep=";", cp1252=("labs",))
    result = invoke("validate", folder, "--config", config(tmp_path, HOSPITAL))
    assert result.exit_code == 1, result.output
    problems = [line for line in result.output.splitlines() if line.startswith("[")]
    assert len(problems) == 4, problems  # every problem at once, each cell once
    expected = [
        ("MAP-003", "patients.csv, row 6, column sex", "data.value_maps.patients.sex"),
        ("MAP-002", "treatments.csv, row 4, column start_date", "data.date_formats"),
        ("RANGE-001", "treatments.csv, row 7, column ecog", "between 0 and 5"),
        ("MAP-004", "labs.csv, row 5, column value", "decimal comma"),
    ]
    for code, where, fix in expected:
        line = next(p for p in problems if p.startswith(f"[{code}] {where}:"))
        assert "Fix:" in line and fix in line.split("Fix:")[1], line
    assert "(value: 'U')" in result.output  # a code, not an identifier
    assert "31/02" not in result.output and "QZ-" not in result.output  # dates and ids hidden
    shown = invoke("validate", folder, "--config", config(tmp_path, HOSPITAL), "--show-ids")
    assert "(value: '31/02/2021')" in shown.output
    sex = next(r for r in rule_lines(result.output) if r["where"] == "patients.csv, column sex")
    assert int(sex["n"]) == len(frames["patients"]) - 1  # the mapping that did run, counted


def without_mappings(results: dict[str, Any]) -> str:
    """results.json less what records the input and its mappings (manifest, MAP-001 notes)."""
    kept = {k: v for k, v in results.items() if k != "manifest"}
    kept["methods"] = {k: v for k, v in kept["methods"].items() if k != "data_mappings"}
    kept["warnings"] = [w for w in kept["warnings"] if w["code"] != "MAP-001"]
    quality = dict(kept["data_quality"])
    quality["warnings_by_code"] = {
        k: v for k, v in quality["warnings_by_code"].items() if k != "MAP-001"
    }
    kept["data_quality"] = quality
    return json.dumps(kept, sort_keys=True, default=str)


@pytest.fixture(scope="module")
def folder_results() -> str:
    return without_mappings(run_study(COHORT).results)


def declared_results(folder: Path, declaration: str) -> dict[str, Any]:
    """results.json of a run with `declaration` as the study configuration (nothing written:
    `rechallenge run` writes this same dictionary; the command line is checked above)."""
    return json.loads(
        results_json(
            dict(run_study(folder, config_from_mapping(yaml.safe_load(declaration))).results)
        )
    )


EXPORTS: dict[str, tuple[Callable[[Frames], Frames], str, str, str]] = {
    # name: (the export, its CSV delimiter, the declaration, what the refusal's fix names)
    "semicolon-decimal-comma": (
        european,
        ";",
        'data:\n  csv: {delimiter: ";", decimal: ","}\n',
        'data: {csv: {delimiter: ";", decimal: ","}}',
    ),
    "day-first-dates": (day_first, ",", 'data:\n  date_format: "%d/%m/%Y"\n', "data.date_format"),
    "sex-codes": (
        sex_codes,
        ",",
        "data:\n  value_maps: {patients.sex: {M: male, F: female}}\n",
        "data.value_maps: {patients.sex:",
    ),
}


@pytest.mark.parametrize("name", list(EXPORTS))
def test_export_is_refused_with_the_fix_then_runs_once_declared(
    name: str, tmp_path: Path, cohort_frames: Frames, folder_results: str
) -> None:
    build, sep, declaration, fix = EXPORTS[name]
    folder = write(tmp_path / "export", build(cohort_frames), sep=sep)
    refused = invoke("run", folder, "--out", tmp_path / "refused")
    assert refused.exit_code == 1, refused.output
    assert fix in refused.output and "Traceback" not in refused.output
    assert not (tmp_path / "refused" / "results.json").exists()
    accepted = invoke("validate", folder, "--config", config(tmp_path, declaration))
    assert accepted.exit_code == 0, accepted.output
    results = declared_results(folder, declaration)
    assert results["methods"]["data_mappings"]  # the mapping is on record
    assert without_mappings(results) == folder_results


def test_every_deviation_at_once_gives_the_same_results(
    tmp_path: Path, cohort_frames: Frames, folder_results: str
) -> None:
    frames = hospital_export(cohort_frames)
    folder = write(tmp_path / "export", frames, sep=";", cp1252=("labs",))
    results = declared_results(folder, HOSPITAL)
    assert without_mappings(results) == folder_results
    applied = results["methods"]["data_mappings"]
    notes = [w for w in results["warnings"] if w["code"] == "MAP-001"]
    assert len(notes) == len(applied) > 20  # each rule on record (the run log prints these)
    assert {m["rule"] for m in applied} == set(RULE_WORDS)
