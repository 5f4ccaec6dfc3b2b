"""Cell problems say what is true, hide what identifies a patient, and start at the root.

Regression tests for a review of the data layer: a month 00 imputed as January or December,
out-of-range ISO text called a non-existent date, DATE-001 asking for an option already on
and showing the serial (a date) by default, huge numbers shown with all their digits, and
identifiers held in number or date cells reported only as orphans elsewhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from datafactory import VALID, Edits, copy_tables, located, problems_of, write_workbook

from rechallenge.data.parse import ParseOptions, impute_partial_date, number_as_typed

SERIALS_ON = ParseOptions(excel_serial_dates=True)


def every_id(old: str, cell: object, tables: tuple[str, ...]) -> Edits:
    """Edits giving every row of patient `old` in `tables` the identifier `cell`."""
    return {
        (name, index, "patient_id"): cell
        for name, rows in copy_tables().items()
        if name in tables
        for index, row in enumerate(rows)
        if row["patient_id"] == old
    }


# -- 1. month 00 is no month: rejected, never imputed as January or December --


@pytest.mark.parametrize("rule", ["first", "last"])
def test_month_00_is_not_imputed(make_study: Callable[..., Path], rule: str) -> None:
    folder = make_study(("treatments", 0, "last_dose_date", "2020-00"))
    problems = problems_of(folder, ParseOptions(partial_dates=rule))  # type: ignore[arg-type]
    assert located(problems) == {("DATE-002", "treatments.csv", 2, "last_dose_date")}
    assert "does not exist in the calendar" in problems[0].message


@pytest.mark.parametrize("rule", ["first", "last"])
def test_imputing_month_0_raises_like_month_13(rule: str) -> None:
    with pytest.raises(ValueError):
        impute_partial_date(2020, 0, rule)  # type: ignore[arg-type]
    assert impute_partial_date(2020, None, rule).year == 2020  # a year alone still imputes


# -- 2. ISO text a datetime64[ns] column cannot hold: implausible, as the same date cell is --


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("9999-12-31", "implausibly late"),
        ("2300-01-01", "implausibly late"),
        ("2262-04-12", "implausibly late"),
        ("1600-01-01", "implausibly early"),
        ("1677-09-21", "implausibly early"),
    ],
)
def test_iso_text_out_of_range_is_implausible_like_a_date_cell(
    make_study: Callable[..., Path], tmp_path: Path, text: str, words: str
) -> None:
    as_text = problems_of(make_study(("treatments", 0, "last_dose_date", text)))
    cell: Edits = {("treatments", 0, "last_dose_date"): dt.date.fromisoformat(text)}
    as_cell = problems_of(write_workbook(tmp_path / "s.xlsx", cell))
    assert located(as_text) == {("DATE-004", "treatments.csv", 2, "last_dose_date")}
    assert words in as_text[0].message
    assert (as_text[0].message, as_text[0].fix) == (as_cell[0].message, as_cell[0].fix)
    assert as_text[0].value is None  # the date itself is never shown


def test_iso_text_that_is_no_calendar_day_is_still_date_002(
    make_study: Callable[..., Path],
) -> None:
    edits = [("treatments", 0, "last_dose_date", "2300-02-30"), ("patients", 0, "death_date", "")]
    problems = problems_of(make_study(*edits, ("treatments", 1, "last_dose_date", "9999-12-31")))
    assert located(problems) == {
        ("DATE-002", "treatments.csv", 2, "last_dose_date"),
        ("DATE-004", "treatments.csv", 3, "last_dose_date"),
    }


# -- 3. with excel_serial_dates on, DATE-001 does not ask for it again --


@pytest.mark.parametrize("cell", [0, -1, 60, 0.0, True, False])
def test_date_001_does_not_ask_for_an_option_already_on(tmp_path: Path, cell: object) -> None:
    path = write_workbook(tmp_path / "s.xlsx", {("patients", 0, "birth_date"): cell})
    problems = problems_of(path, SERIALS_ON)
    assert located(problems) == {("DATE-001", "s.xlsx:patients", 2, "birth_date")}
    assert "excel_serial_dates: true" not in problems[0].fix
    assert "YYYY-MM-DD" in problems[0].fix


@pytest.mark.parametrize("text", ["0", "60"])
def test_date_001_in_a_csv_with_the_option_on_says_what_to_enter(
    make_study: Callable[..., Path], text: str
) -> None:
    problems = problems_of(make_study(("patients", 0, "birth_date", text)), SERIALS_ON)
    assert located(problems) == {("DATE-001", "patients.csv", 2, "birth_date")}
    assert "excel_serial_dates: true" not in problems[0].fix
    assert "date cell or as YYYY-MM-DD" in problems[0].fix


def test_a_yes_no_cell_in_a_date_column_is_not_called_a_serial(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "s.xlsx", {("patients", 0, "birth_date"): True})
    problem = problems_of(path)[0]
    assert "yes/no" in problem.message
    assert "excel_serial_dates" not in problem.fix  # the option would not convert it


# -- 4. DATE-001's number encodes a date: shown only with show_ids --


@pytest.mark.parametrize(
    ("cell", "options", "shown"),
    [(45123, None, "45123"), (20200101, SERIALS_ON, "20200101"), (60, SERIALS_ON, "60")],
)
def test_date_001_hides_the_serial_unless_show_ids(
    tmp_path: Path, cell: int, options: ParseOptions | None, shown: str
) -> None:
    path = write_workbook(tmp_path / "s.xlsx", {("patients", 0, "birth_date"): cell})
    (problem,) = problems_of(path, options)
    assert problem.code == "DATE-001"
    assert problem.identifying and "value:" not in problem.render()
    assert f"(value: '{shown}')" in problem.render(show_ids=True)


def test_date_001_in_a_csv_hides_the_serial_unless_show_ids(
    make_study: Callable[..., Path],
) -> None:
    (problem,) = problems_of(make_study(("patients", 0, "birth_date", "20513")))
    assert "20513" not in problem.render()
    assert "20513" in problem.render(show_ids=True)


# -- 5. numbers are shown as typed, not with every digit of the float --


def test_number_as_typed() -> None:
    shown = [number_as_typed(v) for v in (1e30, -1e30, 1.5e300, 12.5, 7.0, 1e15, -0.5)]
    assert shown == ["1e+30", "-1e+30", "1.5e+300", "12.5", "7", "1000000000000000", "-0.5"]


@pytest.mark.parametrize("column", ["sex", "metastases", "histology"])
def test_a_huge_number_cell_is_shown_as_typed(tmp_path: Path, column: str) -> None:
    path = write_workbook(tmp_path / "s.xlsx", {("patients", 0, column): 1e30})
    (problem,) = problems_of(path)
    assert problem.value == "1e+30"
    assert "1000000000000000019884624838656" not in problem.render()


def test_a_huge_number_in_a_date_column_is_shown_as_typed(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "s.xlsx", {("patients", 0, "birth_date"): 1e30})
    (problem,) = problems_of(path, SERIALS_ON)
    assert "(value: '1e+30')" in problem.render(show_ids=True)


def test_ordinary_number_cells_are_shown_as_before(tmp_path: Path) -> None:
    edits: Edits = {("patients", 0, "sex"): 12.5, ("patients", 1, "sex"): 7.0}
    edits[("patients", 0, "smoking")] = 1e30
    problems = problems_of(write_workbook(tmp_path / "s.xlsx", edits))
    assert sorted(str(p.value) for p in problems) == ["12.5", "1e+30", "7"]


# -- 6. an identifier in a number or date cell is reported where it is, before any orphan --


@pytest.mark.parametrize(
    ("cell", "kind"),
    [(123, "number"), (1.2e5, "number"), (dt.date(2020, 1, 1), "date"), (True, "yes/no")],
)
def test_a_typed_patient_id_is_reported_on_the_patients_sheet(
    tmp_path: Path, cell: object, kind: str
) -> None:
    path = write_workbook(tmp_path / "s.xlsx", {("patients", 0, "patient_id"): cell})
    problems = problems_of(path)
    first = problems[0]
    assert (first.code, first.table, first.row, first.column) == (
        "ID-003",
        "s.xlsx:patients",
        2,
        "patient_id",
    )
    assert f"stored as a {kind} cell" in first.message
    assert "format the column as Text in Excel and re-enter the identifiers" in first.fix
    assert first.identifying and "value:" not in first.render()
    assert [p.code for p in problems].count("ID-003") == 1
    assert all(p.code in {"ID-003", "REL-001"} for p in problems)


def test_a_number_id_explains_the_orphans_that_read_as_the_same_number(tmp_path: Path) -> None:
    edits = every_id("P-001", "00123", ("treatments", "lesions", "adverse_events", "labs"))
    edits[("patients", 0, "patient_id")] = 123
    problems = problems_of(write_workbook(tmp_path / "s.xlsx", edits))
    assert located(problems) == {("ID-003", "s.xlsx:patients", 2, "patient_id")}
    assert "123" not in problems[0].render()
    assert "(value: '123')" in problems[0].render(show_ids=True)


def test_a_number_id_on_a_related_sheet_is_reported_there_not_as_an_orphan(
    tmp_path: Path,
) -> None:
    edits = every_id("P-001", "00123", tuple(VALID))
    edits[("treatments", 0, "patient_id")] = 123
    problems = problems_of(write_workbook(tmp_path / "s.xlsx", edits))
    assert located(problems) == {("ID-003", "s.xlsx:treatments", 2, "patient_id")}


def test_a_huge_number_id_is_one_problem_not_also_scientific_notation(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "s.xlsx", {("patients", 0, "patient_id"): 1e30})
    problems = problems_of(path)
    assert [p.code for p in problems if p.table == "s.xlsx:patients"] == ["ID-003"]
