"""Declared mappings: each runs once declared, is counted, and is refused with a fix when not."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from rechallenge.data.io import read_study_files
from rechallenge.data.mappings import DataMappings
from rechallenge.data.parse import ParseOptions
from rechallenge.data.validate import load_study, validate_raw_study
from rechallenge.errors import DataValidationError, Problem

from .conftest import TABLES, assert_same_study

DATE_COLUMNS = {
    "patients": ("birth_date", "diagnosis_date", "last_contact_date", "death_date"),
    "treatments": ("start_date", "last_dose_date", "progression_date"),
    "lesions": ("assessment_date",),
    "adverse_events": ("onset_date",),
    "labs": ("date",),
}
NUMBER_COLUMNS = {
    "patients": ("pdl1_tps",),
    "lesions": ("size_mm",),
    "labs": ("value", "lln", "uln"),
}


def write(folder: Path, frames: dict[str, pd.DataFrame], **csv: str) -> Path:
    folder.mkdir(exist_ok=True)
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False, **csv)  # type: ignore[arg-type]
    return folder


def load(folder: Path, mappings: dict[str, object] | None = None):
    raw = read_study_files(folder, mappings=DataMappings.model_validate(mappings or {}))
    return raw, validate_raw_study(raw, ParseOptions())


def codes(exc: pytest.ExceptionInfo[DataValidationError]) -> set[str]:
    return {p.code for p in exc.value.problems}


def first(exc: pytest.ExceptionInfo[DataValidationError], code: str) -> Problem:
    return next(p for p in exc.value.problems if p.code == code)


def european(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Decimal commas in every number column."""
    out = {k: v.copy() for k, v in frames.items()}
    for table, columns in NUMBER_COLUMNS.items():
        for column in columns:
            out[table][column] = out[table][column].str.replace(".", ",", regex=False)
    return out


def day_first(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every date as dd/mm/yyyy."""
    out = {k: v.copy() for k, v in frames.items()}
    for table, columns in DATE_COLUMNS.items():
        for column in columns:
            out[table][column] = [
                dt.date.fromisoformat(v).strftime("%d/%m/%Y") if v else ""
                for v in out[table][column]
            ]
    return out


def test_semicolon_export_without_dialect_is_named(tmp_path, cohort_frames) -> None:
    folder = write(tmp_path / "eu", european(cohort_frames), sep=";")
    with pytest.raises(DataValidationError) as exc:
        load_study(folder)
    assert codes(exc) == {"FILE-010"}  # not five missing columns
    problem = first(exc, "FILE-010")
    assert "looks ';'-separated" in problem.message
    assert 'data: {csv: {delimiter: ";", decimal: ","}}' in problem.fix


def test_semicolon_decimal_comma_export_runs_once_declared(
    tmp_path, cohort_frames, reference_study
) -> None:
    frames = european(cohort_frames)
    assert frames["labs"]["value"].str.contains(",").any()  # the export really has commas
    folder = write(tmp_path / "eu", frames, sep=";")
    raw, study = load(folder, {"csv": {"delimiter": ";", "decimal": ","}})
    assert_same_study(study, reference_study)
    decimal = [a.count for a in raw.applied if a.rule == "decimal" and a.source == "labs.csv"]
    commas = sum(frames["labs"][c].str.contains(",").sum() for c in ("value", "lln", "uln"))
    assert sum(decimal) == commas
    dialects = [a for a in raw.applied if a.rule == "dialect"]
    assert len(dialects) == len(TABLES)
    assert any(w.code == "MAP-001" and "decimal" in w.message for w in raw.warnings)


def test_decimal_comma_without_declaration_names_the_fix(tmp_path, cohort_frames) -> None:
    folder = write(tmp_path / "eu", european(cohort_frames), sep=";")
    with pytest.raises(DataValidationError) as exc:
        load(folder, {"csv": {"delimiter": ";"}})
    assert "NUM-001" in codes(exc)
    assert 'decimal: ","' in first(exc, "NUM-001").fix


def test_point_in_a_decimal_comma_file_is_refused(tmp_path, cohort_frames) -> None:
    frames = european(cohort_frames)
    frames["labs"].loc[3, "value"] = "1.234"
    folder = write(tmp_path / "eu", frames, sep=";")
    with pytest.raises(DataValidationError) as exc:
        load(folder, {"csv": {"delimiter": ";", "decimal": ","}})
    problem = first(exc, "MAP-004")
    assert (problem.table, problem.row, problem.column) == ("labs.csv", 5, "value")


def test_per_file_dialect_and_encoding(tmp_path, cohort_frames, reference_study) -> None:
    folder = write(tmp_path / "mixed", cohort_frames)
    labs = european(cohort_frames)["labs"]
    labs.loc[0, "unit"] = labs.loc[0, "unit"]  # same units; the file is re-encoded below
    (folder / "labs.csv").write_bytes(labs.to_csv(index=False, sep=";").encode("cp1252"))
    (folder / "adverse_events.csv").write_bytes(
        cohort_frames["adverse_events"].to_csv(index=False).encode("utf-16")
    )
    _, study = load(
        folder,
        {
            "files": {
                "labs.csv": {"delimiter": ";", "decimal": ",", "encoding": "cp1252"},
                "adverse_events.csv": {"encoding": "utf-16"},
            }
        },
    )
    assert_same_study(study, reference_study)


def test_day_first_dates_refused_then_read_once_declared(
    tmp_path, cohort_frames, reference_study
) -> None:
    folder = write(tmp_path / "dmy", day_first(cohort_frames))
    with pytest.raises(DataValidationError) as exc:
        load_study(folder)
    assert "DATE-002" in codes(exc)
    assert "data.date_format" in first(exc, "DATE-002").fix
    raw, study = load(folder, {"date_format": "%d/%m/%Y"})
    assert_same_study(study, reference_study)
    filled = sum(
        (cohort_frames[t][c] != "").sum() for t, cols in DATE_COLUMNS.items() for c in cols
    )
    assert sum(a.count for a in raw.applied if a.rule == "date_format") == filled


def test_per_column_date_format_overrides_the_study_one(
    tmp_path, cohort_frames, reference_study
) -> None:
    frames = day_first(cohort_frames)
    frames["patients"]["birth_date"] = [
        dt.datetime.strptime(v, "%d/%m/%Y").strftime("%Y%m%d")
        for v in frames["patients"]["birth_date"]
    ]
    folder = write(tmp_path / "dmy", frames)
    _, study = load(
        folder, {"date_format": "%d/%m/%Y", "date_formats": {"patients.birth_date": "%Y%m%d"}}
    )
    assert_same_study(study, reference_study)


def test_a_date_off_the_declared_format_is_located_and_hidden(tmp_path, cohort_frames) -> None:
    frames = day_first(cohort_frames)
    frames["treatments"].loc[2, "start_date"] = "31/02/2021"  # no such day
    folder = write(tmp_path / "dmy", frames)
    with pytest.raises(DataValidationError) as exc:
        load(folder, {"date_format": "%d/%m/%Y"})
    problem = first(exc, "MAP-002")
    assert (problem.table, problem.row, problem.column) == ("treatments.csv", 4, "start_date")
    assert problem.identifying and "31/02" not in problem.render(show_ids=False)


@pytest.mark.parametrize("fmt", ["%y-%m-%d", "%m/%Y", "%d/%m", "%B %Y"])
def test_ambiguous_or_incomplete_formats_are_refused(fmt: str) -> None:
    with pytest.raises(ValidationError):
        DataMappings.model_validate({"date_format": fmt})


def test_sex_codes_refused_then_mapped_and_counted(
    tmp_path, cohort_frames, reference_study
) -> None:
    frames = {k: v.copy() for k, v in cohort_frames.items()}
    frames["patients"]["sex"] = frames["patients"]["sex"].map({"male": "M", "female": "F"})
    frames["adverse_events"]["immune_related"] = frames["adverse_events"]["immune_related"].map(
        {"yes": "Ja", "no": "Nein"}
    )
    folder = write(tmp_path / "mf", frames)
    with pytest.raises(DataValidationError) as exc:
        load_study(folder)
    assert "data.value_maps: {patients.sex:" in first(exc, "ENUM-001").fix
    raw, study = load(
        folder,
        {
            "value_maps": {
                "patients.sex": {"M": "male", "F": "female"},
                "adverse_events.immune_related": {"Ja": "yes", "Nein": "no"},
            }
        },
    )
    assert_same_study(study, reference_study)
    sex = next(a for a in raw.applied if a.rule == "value_map" and a.column == "sex")
    males = int((cohort_frames["patients"]["sex"] == "male").sum())
    assert sex.count == len(frames["patients"])
    assert f"m → male: {males}" in sex.detail


def test_unmapped_code_is_a_problem_naming_the_map(tmp_path, cohort_frames) -> None:
    frames = {k: v.copy() for k, v in cohort_frames.items()}
    frames["patients"]["sex"] = frames["patients"]["sex"].map({"male": "M", "female": "F"})
    frames["patients"].loc[4, "sex"] = "U"
    folder = write(tmp_path / "mf", frames)
    with pytest.raises(DataValidationError) as exc:
        load(folder, {"value_maps": {"patients.sex": {"M": "male", "F": "female"}}})
    problem = first(exc, "MAP-003")
    assert (problem.row, problem.column, problem.value) == (6, "sex", "U")
    assert "data.value_maps.patients.sex" in problem.fix


def test_local_histology_terms_and_list_items(tmp_path, cohort_frames, reference_study) -> None:
    frames = {k: v.copy() for k, v in cohort_frames.items()}
    frames["patients"]["histology"] = frames["patients"]["histology"].replace(
        {"adenocarcinoma": "Adeno-Ca", "squamous": "Plattenepithel-Ca"}
    )
    frames["patients"]["metastases"] = frames["patients"]["metastases"].str.replace("brain", "ZNS")
    folder = write(tmp_path / "hist", frames)
    _, study = load(
        folder,
        {
            "value_maps": {
                "patients.histology": {
                    "Adeno-Ca": "adenocarcinoma",
                    "Plattenepithel-Ca": "squamous",
                },
                "patients.metastases": {"ZNS": "brain"},
            }
        },
    )
    assert_same_study(study, reference_study)


def test_map_targets_must_be_model_values() -> None:
    with pytest.raises(ValidationError, match="not one of"):
        DataMappings.model_validate({"value_maps": {"patients.sex": {"M": "man"}}})
    with pytest.raises(ValidationError, match="no column"):
        DataMappings.model_validate({"value_maps": {"patients.gender": {"M": "male"}}})


def test_column_renames(tmp_path, cohort_frames, reference_study) -> None:
    frames = {k: v.copy() for k, v in cohort_frames.items()}
    frames["patients"] = frames["patients"].rename(columns={"patient_id": "Pt_ID", "sex": "Gender"})
    folder = write(tmp_path / "ren", frames)
    with pytest.raises(DataValidationError) as exc:
        load_study(folder)
    assert "COL-001" in codes(exc)
    raw, study = load(folder, {"rename": {"patients": {"Pt_ID": "patient_id", "Gender": "sex"}}})
    assert_same_study(study, reference_study)
    rename = next(a for a in raw.applied if a.rule == "rename")
    assert rename.count == 2 and "pt_id → patient_id" in rename.detail


def test_rename_onto_an_existing_column_is_refused(tmp_path, cohort_frames) -> None:
    frames = {k: v.copy() for k, v in cohort_frames.items()}
    frames["patients"]["Pt_ID"] = frames["patients"]["patient_id"]
    folder = write(tmp_path / "ren", frames)
    with pytest.raises(DataValidationError) as exc:
        load(folder, {"rename": {"patients": {"Pt_ID": "patient_id"}}})
    assert codes(exc) == {"MAP-005"}


def test_no_declaration_changes_nothing(tmp_path, cohort_frames, reference_study) -> None:
    raw, study = load(write(tmp_path / "plain", cohort_frames))
    assert raw.applied == () and not any(w.code == "MAP-001" for w in raw.warnings)
    assert_same_study(study, reference_study)
