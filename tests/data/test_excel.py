"""Workbooks: one sheet per table, real date cells accepted, serial numbers rejected."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from datafactory import copy_tables

from rechallenge.data.validate import load_study
from rechallenge.errors import DataValidationError


def write_workbook(path: Path, date_cells: bool, serial_in: str | None = None) -> Path:
    """The valid study as a workbook; dates as real date cells when `date_cells`."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for name, rows in copy_tables().items():
        sheet = workbook.create_sheet(name)
        header = list(rows[0])
        sheet.append(header)
        for row in rows:
            values: list[object] = []
            for key in header:
                value: object = row[key]
                if date_cells and key.endswith("date") and value:
                    value = dt.date.fromisoformat(str(value))
                if key == serial_in and name == "patients":
                    value = 20514.0  # 1956-03-01 as an Excel serial
                values.append(value)
            sheet.append(values)
    workbook.save(path)
    return path


def test_real_excel_date_cells_are_accepted(tmp_path: Path) -> None:
    study = load_study(write_workbook(tmp_path / "study.xlsx", date_cells=True))
    assert str(study.treatments.loc[0, "start_date"].date()) == "2020-02-01"
    assert study.patients["patient_id"].tolist() == ["P-001", "P-002"]


def test_excel_serial_numbers_in_date_columns_are_rejected(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "study.xlsx", date_cells=True, serial_in="birth_date")
    with pytest.raises(DataValidationError) as info:
        load_study(path)
    codes = {(p.code, p.row, p.column) for p in info.value.problems}
    assert codes == {("DATE-001", 2, "birth_date"), ("DATE-001", 3, "birth_date")}
