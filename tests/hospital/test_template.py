"""The Excel entry template: generated from the contract, readable as it is, same results."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from rechallenge.api import run_study
from rechallenge.cli import app
from rechallenge.data.schema import TABLES, Kind
from rechallenge.data.template import write_template
from rechallenge.data.validate import load_study
from rechallenge.errors import DataValidationError

from .conftest import COHORT, assert_same_study


def typed(kind: Kind, text: str) -> Any:
    """A CSV cell as a person would type it into the template's column."""
    if text == "":
        return None
    if kind is Kind.DATE:
        return dt.date.fromisoformat(text)
    if kind in (Kind.NUMBER, Kind.INTEGER):
        return float(text) if "." in text else int(text)
    return text


def fill(template: Path, frames: dict[str, Any], target: Path) -> Path:
    workbook = load_workbook(template)
    for spec in TABLES:
        sheet = workbook[spec.name]
        header = [c.value for c in sheet[1]]
        frame = frames[spec.name]
        for offset, record in enumerate(frame.to_dict("records")):
            for index, name in enumerate(header, start=1):
                value = typed(spec.column(name).kind, record.get(name, ""))
                sheet.cell(row=offset + 2, column=index, value=value)
    workbook.save(target)
    return target


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_template(tmp_path_factory.mktemp("tpl") / "study.xlsx")


def test_template_is_the_contract(template: Path) -> None:
    workbook = load_workbook(template)
    assert workbook.sheetnames == ["README", *(t.name for t in TABLES)]
    for spec in TABLES:
        sheet = workbook[spec.name]
        assert sheet.freeze_panes == "A2"
        assert tuple(c.value for c in sheet[1]) == spec.column_names
        lists = {str(v.sqref).split(":")[0]: v for v in sheet.data_validations.dataValidation}
        for index, column in enumerate(spec.columns, start=1):
            letter = sheet.cell(row=1, column=index).column_letter
            comment = sheet.cell(row=1, column=index).comment
            assert comment is not None and f"{spec.name}.{column.name}" in comment.text
            rule = lists.get(f"{letter}2")
            style = sheet.column_dimensions[letter].number_format
            if column.kind is Kind.ENUM:
                assert rule is not None and rule.type == "list"
                assert rule.formula1 == '"' + ",".join(column.values) + '"'
            if column.kind is Kind.BOOL:
                assert rule is not None and rule.formula1 == '"yes,no"'
            if column.kind is Kind.DATE:
                assert rule is not None and rule.type == "date" and style == "yyyy-mm-dd"
            if column.kind is Kind.ID:
                assert style == "@" and rule is None
            if column.kind in (Kind.NUMBER, Kind.INTEGER) and column.maximum is not None:
                assert rule is not None and float(rule.formula2) == column.maximum
    assert "validate" in " ".join(str(c.value) for c in workbook["README"]["A"])


def test_empty_template_asks_for_data_not_layout(template: Path) -> None:
    with pytest.raises(DataValidationError) as exc:
        load_study(template)
    assert {p.code for p in exc.value.problems} == {"FILE-004"}  # no layout trap


def test_filled_template_gives_the_cohort_and_the_same_results(
    template: Path, tmp_path: Path, cohort_frames: dict[str, Any], reference_study: Any
) -> None:
    frames = {k: v.copy() for k, v in cohort_frames.items()}
    frames["patients"]["patient_id"] = "00" + frames["patients"]["patient_id"].str[3:]
    for name in ("treatments", "lesions", "adverse_events", "labs"):
        frames[name]["patient_id"] = "00" + frames[name]["patient_id"].str[3:]
    filled = fill(template, frames, tmp_path / "filled.xlsx")
    study = load_study(filled)
    assert study.patients["patient_id"].iloc[0] == "000001"  # leading zeros kept as text
    plain = fill(template, cohort_frames, tmp_path / "plain.xlsx")
    assert_same_study(load_study(plain), reference_study)
    by_workbook = run_study(plain).results
    by_folder = run_study(COHORT).results
    assert numbers(by_workbook) == numbers(by_folder)


def numbers(results: Any) -> str:
    """results.json without what names the input (its path, kind and checksums)."""
    kept = {k: v for k, v in results.items() if k not in {"manifest", "input"}}
    return json.dumps(kept, sort_keys=True, default=str)


def test_template_command(tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "study.xlsx"
    result = runner.invoke(app, ["template", str(target)])
    assert result.exit_code == 0, result.output
    assert load_workbook(target).sheetnames[1:] == [t.name for t in TABLES]
    again = runner.invoke(app, ["template", str(target)])
    assert again.exit_code == 2 and "--force" in again.output
    wrong = runner.invoke(app, ["template", str(tmp_path / "study.csv")])
    assert wrong.exit_code == 2
