"""Every class of bad input is rejected with its rule code, row, column and a fix.

Rows are spreadsheet rows: the header is row 1, so the first record is row 2.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from datafactory import copy_tables, write_study

from rechallenge.data.validate import load_study
from rechallenge.errors import DataValidationError, Problem


def problems_of(folder: Path, **kwargs: object) -> list[Problem]:
    with pytest.raises(DataValidationError) as info:
        load_study(folder, **kwargs)  # type: ignore[arg-type]
    return list(info.value.problems)


def only(problems: list[Problem], code: str) -> Problem:
    matching = [p for p in problems if p.code == code]
    assert len(matching) == 1, [p.render() for p in problems]
    return matching[0]


def test_the_valid_study_loads(make_study: Callable[..., Path]) -> None:
    study = make_study()
    loaded = load_study(study)
    assert loaded.summary() == {
        "patients": 2,
        "treatment_lines": 4,
        "ici_courses": 3,
        "patients_with_1_ici_course": 1,
        "patients_with_2_ici_courses": 1,
        "lesion_rows": 2,
        "lesion_assessments": 2,
        "adverse_events": 1,
        "labs": 2,
    }
    assert loaded.treatments["source_row"].tolist() == [2, 3, 4, 5]
    assert loaded.patients.loc[0, "metastases"] == ("lung", "bone")
    assert loaded.treatments.loc[3, "agent_inns"] == ("pembrolizumab",)  # brand mapped


# (table, record index, column, bad value, expected code, expected row, words in the message)
CELL_CASES = [
    ("treatments", 0, "ecog", "6", "RANGE-001", 2, "between 0 and 5"),
    ("treatments", 0, "ecog", "-1", "RANGE-001", 2, "between 0 and 5"),
    ("patients", 0, "pdl1_tps", "150", "RANGE-001", 2, "between 0 and 100"),
    ("lesions", 1, "size_mm", "-12", "RANGE-001", 3, "between 0 and 300"),
    ("lesions", 1, "size_mm", "twelve", "NUM-001", 3, "not a number"),
    ("lesions", 1, "size_mm", "1,5", "NUM-001", 3, "decimal comma"),
    ("labs", 0, "value", "<5", "NUM-001", 2, "qualifier"),
    ("patients", 1, "sex", "M", "ENUM-001", 3, "not one of"),
    ("patients", 1, "sex", "Male ", "ENUM-002", 3, "spaces"),
    ("patients", 0, "histology", "small cell", "HIST-001", 2, "small-cell"),
    ("patients", 0, "metastases", "lung;spleen", "ENUM-001", 2, "'spleen'"),
    ("treatments", 0, "agents", "pembrolizumb;carboplatin", "DRUG-001", 2, "pembrolizumb"),
    ("treatments", 3, "last_dose_date", "2020-02-01", "DATE-ORDER-001", 5, "before start_date"),
    ("treatments", 1, "start_date", "2020-01-15", "LINE-002", 3, "order of start dates"),
    ("patients", 0, "birth_date", "1955-03", "DATE-003", 2, "partial"),
    ("patients", 0, "birth_date", "1955", "DATE-003", 2, "year only"),
    ("patients", 0, "birth_date", "20513", "DATE-001", 2, "Excel date serial"),
    ("patients", 0, "birth_date", "1955-02-30", "DATE-002", 2, "does not exist"),
    ("patients", 0, "birth_date", "03/01/1955", "DATE-002", 2, "ISO format"),
    ("labs", 1, "unit", "mg/furlong", "LAB-001", 3, "unknown unit"),
    ("adverse_events", 0, "grade", "6", "RANGE-001", 2, "between 1 and 5"),
    ("adverse_events", 0, "grade", "5", "AE-002", 2, "grade 5"),
    ("adverse_events", 0, "patient_id", "P-999", "REL-001", 2, "not in the patients table"),
    ("lesions", 0, "patient_id", "P-999", "REL-001", 2, "not in the patients table"),
    ("labs", 0, "patient_id", "P-999", "REL-001", 2, "not in the patients table"),
    ("treatments", 0, "patient_id", "P-999", "REL-001", 2, "not in the patients table"),
    (
        "treatments",
        3,
        "progression_date",
        "2024-12-01",
        "DEATH-002",
        5,
        "after the patient's death",
    ),
    ("labs", 1, "date", "2024-10-02", "DEATH-002", 3, "after the patient's death"),
    ("patients", 1, "last_contact_date", "2024-10-05", "DEATH-001", 3, "after death_date"),
    ("patients", 0, "recurrent", "maybe", "BOOL-001", 2, "yes/no"),
    ("patients", 0, "patient_id", "1.2E+05", "ID-002", 2, "scientific notation"),
    ("patients", 0, "patient_id", "P-001\u00a0", "TEXT-001", 2, "invisible"),
    ("treatments", 0, "line", "1.5", "NUM-002", 2, "whole number"),
    ("patients", 0, "birth_date", "", "CELL-001", 2, "must not be empty"),
]


@pytest.mark.parametrize(("table", "index", "column", "value", "code", "row", "words"), CELL_CASES)
def test_each_bad_cell_is_named(
    make_study: Callable[..., Path],
    table: str,
    index: int,
    column: str,
    value: str,
    code: str,
    row: int,
    words: str,
) -> None:
    problem = only(problems_of(make_study((table, index, column, value))), code)
    assert problem.row == row
    assert problem.column == column
    assert words in problem.render(show_ids=False)
    assert problem.fix


def test_duplicates_list_every_row(make_study: Callable[..., Path]) -> None:
    found = problems_of(make_study(("patients", 1, "patient_id", "P-001")))
    assert only(found, "ID-001").message.endswith("(rows 2, 3)")
    found = problems_of(make_study(("treatments", 1, "line", "1")))
    assert only(found, "LINE-001").message.endswith("(rows 2, 3)")


def test_enum_message_lists_the_allowed_values(make_study: Callable[..., Path]) -> None:
    problem = only(problems_of(make_study(("patients", 0, "smoking", "sometimes"))), "ENUM-001")
    assert "never, former, current" in problem.fix


def test_unknown_drug_suggests_the_closest_names(make_study: Callable[..., Path]) -> None:
    problem = only(problems_of(make_study(("treatments", 2, "agents", "sintilimib"))), "DRUG-001")
    assert "sintilimab" in problem.fix


def test_every_problem_is_reported_at_once(make_study: Callable[..., Path]) -> None:
    found = problems_of(
        make_study(
            ("treatments", 0, "ecog", "9"),
            ("patients", 0, "pdl1_tps", "101"),
            ("labs", 1, "unit", "bananas"),
        )
    )
    assert {p.code for p in found} == {"RANGE-001", "LAB-001"}
    assert len(found) == 3


def test_patient_ids_and_dates_are_hidden_unless_asked(make_study: Callable[..., Path]) -> None:
    found = problems_of(
        make_study(
            ("adverse_events", 0, "patient_id", "P-999"), ("patients", 0, "birth_date", "1955")
        )
    )
    for problem in found:
        assert "P-999" not in problem.render(show_ids=False)
        assert "1955" not in problem.render(show_ids=False)
    assert any("P-999" in p.render(show_ids=True) for p in found)


def test_missing_required_table(tmp_path: Path) -> None:
    tables = copy_tables()
    del tables["treatments"]
    problem = only(problems_of(write_study(tmp_path / "s", tables)), "TABLE-001")
    assert "treatments" in problem.message


def test_missing_column_suggests_the_misspelt_one(tmp_path: Path) -> None:
    tables = copy_tables()
    tables["patients"] = [
        {("pt_id" if k == "patient_id" else k): v for k, v in r.items()} for r in tables["patients"]
    ]
    problem = only(problems_of(write_study(tmp_path / "s", tables)), "COL-001")
    assert problem.column == "patient_id"
    assert "'pt_id'" in problem.message


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    folder = write_study(tmp_path / "s", copy_tables())
    (folder / "labs.csv").write_text("", encoding="utf-8")
    (folder / "lesions.csv").write_text(
        "patient_id,assessment_date,lesion_id,role\n", encoding="utf-8"
    )
    found = problems_of(folder)
    assert sorted(p.table for p in found if p.code == "FILE-004") == ["labs.csv", "lesions.csv"]
    assert any("0 rows found" in p.message for p in found)


def test_non_utf8_file_names_file_and_byte_offset(tmp_path: Path) -> None:
    folder = write_study(tmp_path / "s", copy_tables())
    text = (folder / "adverse_events.csv").read_text(encoding="utf-8").replace("Fatigue", "Fatigué")
    (folder / "adverse_events.csv").write_bytes(text.encode("cp1252"))
    problem = only(problems_of(folder), "FILE-002")
    assert problem.table == "adverse_events.csv"
    offset = text.encode("cp1252").index("é".encode("cp1252"))
    assert f"byte offset {offset}" in problem.message


def test_declared_encoding_is_honoured(tmp_path: Path) -> None:
    folder = write_study(tmp_path / "s", copy_tables())
    for path in folder.iterdir():
        path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    assert len(load_study(folder, encoding="cp1252").patients) == 2


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    folder = write_study(tmp_path / "s", copy_tables())
    path = folder / "patients.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_study(folder).patients["patient_id"].tolist() == ["P-001", "P-002"]


def test_partial_dates_are_imputed_only_when_configured(make_study: Callable[..., Path]) -> None:
    from rechallenge.data.parse import ParseOptions

    folder = make_study(("patients", 0, "diagnosis_date", "2020-01"))
    study = load_study(folder, options=ParseOptions(partial_dates="middle"))
    assert str(study.patients.loc[0, "diagnosis_date"].date()) == "2020-01-15"
    (imputed,) = study.imputations
    assert (imputed.row, imputed.column, imputed.imputed) == (2, "diagnosis_date", "2020-01-15")


def test_excel_serials_convert_only_when_declared(make_study: Callable[..., Path]) -> None:
    from rechallenge.data.parse import ParseOptions

    folder = make_study(("patients", 0, "diagnosis_date", "43840"))  # 2020-01-10
    study = load_study(folder, options=ParseOptions(excel_serial_dates=True))
    assert str(study.patients.loc[0, "diagnosis_date"].date()) == "2020-01-10"


def test_validation_never_modifies_the_files(make_study: Callable[..., Path]) -> None:
    folder = make_study(("treatments", 0, "ecog", "9"))
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    problems_of(folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_unknown_extra_columns_are_kept(tmp_path: Path) -> None:
    tables = copy_tables()
    for i, row in enumerate(tables["patients"]):
        row["bmi"] = str(20 + i)
    study = load_study(write_study(tmp_path / "s", tables))
    assert study.patients["bmi"].tolist() == ["20", "21"]
