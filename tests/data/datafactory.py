"""A small valid study written to disk, and helpers to break it one cell at a time."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from rechallenge.data.parse import ParseOptions
from rechallenge.data.validate import load_study
from rechallenge.errors import DataValidationError, Problem

VALID: dict[str, list[dict[str, str]]] = {
    "patients": [
        {
            "patient_id": "P-001",
            "sex": "male",
            "birth_date": "1955-03-01",
            "smoking": "former",
            "histology": "squamous",
            "stage": "IVA",
            "recurrent": "no",
            "diagnosis_date": "2020-01-10",
            "driver": "none",
            "pdl1_tps": "50",
            "metastases": "lung;bone",
            "last_contact_date": "2024-11-01",
            "death_date": "",
        },
        {
            "patient_id": "P-002",
            "sex": "female",
            "birth_date": "1960-03-01",
            "smoking": "never",
            "histology": "adenocarcinoma",
            "stage": "IIIB",
            "recurrent": "no",
            "diagnosis_date": "2020-02-10",
            "driver": "none",
            "pdl1_tps": "",
            "metastases": "brain",
            "last_contact_date": "2024-10-01",
            "death_date": "2024-10-01",
        },
    ],
    "treatments": [
        {
            "patient_id": "P-001",
            "line": "1",
            "regimen": "pembrolizumab + chemo",
            "agents": "pembrolizumab;carboplatin;pemetrexed",
            "start_date": "2020-02-01",
            "last_dose_date": "2020-08-01",
            "end_reason": "progression",
            "ecog": "1",
            "best_response": "PR",
            "progression_date": "2020-08-15",
        },
        {
            "patient_id": "P-001",
            "line": "2",
            "regimen": "docetaxel",
            "agents": "docetaxel",
            "start_date": "2020-09-01",
            "last_dose_date": "2020-11-01",
            "end_reason": "progression",
            "ecog": "1",
            "best_response": "SD",
            "progression_date": "2020-11-20",
        },
        {
            "patient_id": "P-001",
            "line": "3",
            "regimen": "sintilimab",
            "agents": "sintilimab",
            "start_date": "2020-12-01",
            "last_dose_date": "",
            "end_reason": "ongoing",
            "ecog": "2",
            "best_response": "SD",
            "progression_date": "",
        },
        {
            "patient_id": "P-002",
            "line": "1",
            "regimen": "Keytruda",
            "agents": "Keytruda",
            "start_date": "2020-03-01",
            "last_dose_date": "2020-09-01",
            "end_reason": "progression",
            "ecog": "0",
            "best_response": "PR",
            "progression_date": "2020-10-01",
        },
    ],
    "lesions": [
        {
            "patient_id": "P-001",
            "assessment_date": "2020-01-25",
            "lesion_id": "T1",
            "role": "target",
            "organ": "lung",
            "lymph_node": "no",
            "size_mm": "40",
            "status": "",
        },
        {
            "patient_id": "P-001",
            "assessment_date": "2020-03-25",
            "lesion_id": "T1",
            "role": "target",
            "organ": "lung",
            "lymph_node": "no",
            "size_mm": "25",
            "status": "",
        },
    ],
    "adverse_events": [
        {
            "patient_id": "P-001",
            "term": "Fatigue",
            "grade": "2",
            "onset_date": "2020-03-01",
            "immune_related": "no",
        },
    ],
    "labs": [
        {
            "patient_id": "P-001",
            "date": "2020-03-01",
            "test": "hemoglobin",
            "value": "11.2",
            "unit": "g/dL",
            "lln": "13",
            "uln": "17",
        },
        {
            "patient_id": "P-002",
            "date": "2020-04-01",
            "test": "neutrophils",
            "value": "1.2",
            "unit": "10^9/L",
            "lln": "",
            "uln": "",
        },
    ],
}


def write_study(folder: Path, tables: dict[str, list[dict[str, str]]]) -> Path:
    """Write each table as `<name>.csv` (UTF-8, header from the first row)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return folder


def copy_tables() -> dict[str, list[dict[str, str]]]:
    """A deep copy of the valid study, to break."""
    return {name: [dict(r) for r in rows] for name, rows in VALID.items()}


# --- typed workbooks (cells as Excel stores them) ---------------------------------------------

NUMERIC = {"line", "ecog", "grade", "pdl1_tps", "size_mm", "value", "lln", "uln"}
Edits = dict[tuple[str, int, str], object]


def typed(column: str, text: str) -> object:
    """A cell as Excel types it: dates as date cells, numbers as numbers, blanks empty."""
    if not text:
        return None
    if column.endswith("date"):
        return dt.date.fromisoformat(text)
    return float(text) if column in NUMERIC else text


def write_workbook(path: Path, edits: Edits, date_1904: bool = False) -> Path:
    """The valid study as a typed workbook, with `edits` {(table, index, column): cell}."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    if date_1904:
        workbook.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    for name, rows in copy_tables().items():
        sheet = workbook.create_sheet(name)
        header = list(rows[0])
        sheet.append(header)
        for index, row in enumerate(rows):
            sheet.append([edits.get((name, index, k), typed(k, row[k])) for k in header])
    workbook.save(path)
    return path


def problems_of(path: Path, options: ParseOptions | None = None) -> list[Problem]:
    """The problems loading `path` raises (the test fails if it loads)."""
    with pytest.raises(DataValidationError) as info:
        load_study(path, options=options)
    return list(info.value.problems)


def located(problems: list[Problem]) -> set[tuple[str, str, int | None, str | None]]:
    """Where each problem is: (code, file, row, column)."""
    return {(p.code, p.table, p.row, p.column) for p in problems}
