"""F6, Excel layout traps: what reading cell values alone hides is refused, with the cell named.

Each test saves the example cohort as a workbook with one trap, runs `rechallenge run` and
checks the refusal contract (`filefactory.assert_refused`).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from filefactory import (
    COHORT,
    assert_refused,
    cohort_rows,
    cohort_workbook,
    column_letter,
    rewrite_part,
)
from openpyxl.workbook.workbook import Workbook

from rechallenge.data.io import read_study_files
from rechallenge.data.validate import load_study
from rechallenge.errors import DataValidationError, Problem

pytestmark = pytest.mark.skipif(not (COHORT / "patients.csv").exists(), reason="no cohort")

DEATH = column_letter("patients", "death_date")
PATIENTS_SHEET = "xl/worksheets/sheet1.xml"


def first_dead_row() -> int:
    """The spreadsheet row of the first patient with a death date."""
    rows = cohort_rows("patients")
    index = rows[0].index("death_date")
    return next(n for n, r in enumerate(rows[1:], start=2) if r[index])


def only_problem(path: Path) -> Problem:
    with pytest.raises(DataValidationError) as info:
        load_study(path)
    assert len(info.value.problems) == 1, info.value.report()
    return info.value.problems[0]


def test_the_cohort_workbook_loads_like_the_folder(tmp_path: Path) -> None:
    study = load_study(cohort_workbook(tmp_path / "study.xlsx"))
    folder = load_study(COHORT)
    assert study.patients.drop(columns="source_row").equals(
        folder.patients.drop(columns="source_row")
    )
    assert study.warnings == ()


def test_a_formula_without_a_saved_value_is_refused_with_its_cell(tmp_path: Path) -> None:
    row = first_dead_row()

    def formula(workbook: Workbook) -> None:  # openpyxl saves formulas without a value
        workbook["patients"][f"{DEATH}{row}"] = "=DATE(2022,2,2)"

    path = cohort_workbook(tmp_path / "study.xlsx", formula)
    text = assert_refused(path, tmp_path / "out", "XLSX-001")
    assert f"study.xlsx:patients, row {row}, column death_date: cell {DEATH}{row} holds a " in text
    assert "formula with no saved value" in text and "Paste Special > Values" in text


def test_a_formula_with_a_saved_value_is_read_as_that_value_and_counted(tmp_path: Path) -> None:
    row = first_dead_row()

    def formula(workbook: Workbook) -> None:
        workbook["patients"][f"{DEATH}{row}"] = "=DATE(2022,2,2)"

    path = cohort_workbook(tmp_path / "study.xlsx", formula)
    serial = (dt.date(2022, 2, 2) - dt.date(1899, 12, 30)).days
    saved = f"<f>DATE(2022,2,2)</f><v>{serial}</v>".encode()
    rewrite_part(  # as Excel saves it: the formula and its value, in a date-formatted cell
        path,
        PATIENTS_SHEET,
        lambda xml: re.sub(rb"<f>DATE\(2022,2,2\)</f>(<v\s*/>|<v></v>)?", saved, xml),
    )
    _style_like_a_date(path, f"{DEATH}{row}")
    raw = read_study_files(path)
    assert [(w.code, w.row, w.column, w.severity) for w in raw.warnings] == [
        ("XLSX-007", row, "death_date", "warning")
    ]
    assert "1 cell(s) hold formulas" in raw.warnings[0].message
    study = load_study(path)
    assert study.patients.loc[row - 2, "death_date"] == dt.datetime(2022, 2, 2)


def _style_like_a_date(path: Path, cell: str) -> None:
    """Give `cell` the style of the sheet's first date cell (openpyxl wrote a plain one)."""

    def change(xml: bytes) -> bytes:
        style = re.search(rb'<c r="C2" s="(\d+)"', xml)
        assert style is not None
        return re.sub(
            rb'<c r="' + cell.encode() + rb'"( s="\d+")?',
            b'<c r="' + cell.encode() + b'" s="' + style.group(1) + b'"',
            xml,
        )

    rewrite_part(path, PATIENTS_SHEET, change)


def test_merged_cells_in_the_table_are_refused_with_the_range(tmp_path: Path) -> None:
    column = column_letter("treatments", "end_reason")
    path = cohort_workbook(
        tmp_path / "study.xlsx", lambda wb: wb["treatments"].merge_cells(f"{column}4:{column}6")
    )
    text = assert_refused(path, tmp_path / "out", "XLSX-002")
    assert (
        f"study.xlsx:treatments, row 4, column end_reason: cells {column}4:{column}6 are merged"
        in text
    )


def test_merged_cells_outside_the_table_are_ignored(tmp_path: Path) -> None:
    path = cohort_workbook(
        tmp_path / "study.xlsx", lambda wb: wb["patients"].merge_cells("Z40:Z41")
    )
    assert len(load_study(path).patients) == len(cohort_rows("patients")) - 1


def test_hidden_rows_inside_the_table_are_refused(tmp_path: Path) -> None:
    def hide(workbook: Workbook) -> None:
        workbook["lesions"].row_dimensions[7].hidden = True
        workbook["lesions"].row_dimensions[9].hidden = True
        workbook["lesions"].row_dimensions[900].hidden = True  # below the table: harmless

    text = assert_refused(cohort_workbook(tmp_path / "s.xlsx", hide), tmp_path / "out", "XLSX-003")
    assert "s.xlsx:lesions, row 7: 2 hidden row(s) inside the table (rows 7, 9)" in text


def test_a_hidden_column_is_refused_with_its_name(tmp_path: Path) -> None:
    letter = column_letter("patients", "smoking")

    def hide(workbook: Workbook) -> None:
        workbook["patients"].column_dimensions[letter].hidden = True

    text = assert_refused(cohort_workbook(tmp_path / "s.xlsx", hide), tmp_path / "out", "XLSX-003")
    assert f"s.xlsx:patients, column smoking: column {letter} is hidden" in text


def test_a_hidden_table_sheet_is_refused(tmp_path: Path) -> None:
    def hide(workbook: Workbook) -> None:
        workbook["labs"].sheet_state = "hidden"

    text = assert_refused(cohort_workbook(tmp_path / "s.xlsx", hide), tmp_path / "out", "XLSX-003")
    assert "s.xlsx:labs: the sheet is hidden" in text


def test_a_blank_row_inside_the_table_is_refused(tmp_path: Path) -> None:
    def gap(workbook: Workbook) -> None:
        workbook["treatments"].insert_rows(5, 2)

    text = assert_refused(cohort_workbook(tmp_path / "s.xlsx", gap), tmp_path / "out", "XLSX-004")
    assert "s.xlsx:treatments, row 5: rows 5-6 are blank inside the table" in text


def test_a_value_right_of_the_last_named_column_is_refused(tmp_path: Path) -> None:
    def stray(workbook: Workbook) -> None:
        workbook["adverse_events"]["Z3"] = "grade 3?"

    text = assert_refused(cohort_workbook(tmp_path / "s.xlsx", stray), tmp_path / "out", "XLSX-005")
    assert "s.xlsx:adverse_events, row 3: column Z has no header but holds 1 value(s)" in text


def test_an_excel_error_value_is_refused(tmp_path: Path) -> None:
    letter = column_letter("labs", "value")

    def broken(workbook: Workbook) -> None:
        workbook["labs"][f"{letter}4"] = "#REF!"

    text = assert_refused(
        cohort_workbook(tmp_path / "s.xlsx", broken), tmp_path / "out", "XLSX-006"
    )
    assert f"s.xlsx:labs, row 4, column value: cell {letter}4 holds the Excel error #REF!" in text


def test_a_header_below_blank_rows_keeps_spreadsheet_row_numbers(tmp_path: Path) -> None:
    letter = column_letter("patients", "sex")

    def shift(workbook: Workbook) -> None:
        sheet = workbook["patients"]
        sheet.insert_rows(1, 2)
        sheet[f"{letter}5"] = "U"  # the third patient, on spreadsheet row 5

    problem = only_problem(cohort_workbook(tmp_path / "s.xlsx", shift))
    assert (problem.code, problem.row, problem.column) == ("ENUM-001", 5, "sex")
