"""REDCap: the dictionary follows REDCap's format; raw and labels exports read as the cohort.

The exports are built here from the example cohort by the rules of REDCap's flat CSV export
(see `rechallenge.data.redcap`): one baseline row per record, one row per repeating
instance numbered from 1 per record and instrument, other instruments' fields blank,
checkboxes as `field___code` 0/1, yes/no 1/0, `<instrument>_complete` 2.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from rechallenge.api import run_study
from rechallenge.cli import app
from rechallenge.data.io import read_study_files
from rechallenge.data.redcap import (
    DICTIONARY_COLUMNS,
    INSTRUMENTS,
    dictionary_fields,
    export_header,
)
from rechallenge.data.validate import load_study
from rechallenge.errors import DataValidationError

from .conftest import COHORT, assert_same_study

FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,25}$")  # REDCap: lower case, digits, underscores


def build_export(frames: dict[str, pd.DataFrame], labels: bool = False) -> list[list[str]]:
    """The raw (or labels) export REDCap would give for the cohort entered in the project."""
    fields = dictionary_fields()
    header = export_header()
    rows: list[list[str]] = []
    for pid in frames["patients"]["patient_id"]:
        for instrument in INSTRUMENTS:
            frame = frames[instrument.table]
            records = frame[frame["patient_id"] == pid].to_dict("records")
            for instance, record in enumerate(records, start=1):
                row = dict.fromkeys(header, "")
                row["patient_id"] = pid
                if instrument.repeating:
                    row["redcap_repeat_instrument"] = instrument.name
                    row["redcap_repeat_instance"] = str(instance)
                for field in fields[1:]:
                    if field.instrument is not instrument:
                        continue
                    value = record.get(field.column.name, "")
                    if field.field_type == "checkbox":
                        ticked = set(value.split(";")) if value else set()
                        for code, _ in field.choices:
                            row[f"{field.name}___{code}"] = "1" if code in ticked else "0"
                    elif field.field_type == "yesno":
                        row[field.name] = {"yes": "1", "no": "0", "": ""}[value]
                    else:
                        row[field.name] = value
                row[f"{instrument.name}_complete"] = "2"
                rows.append([row[h] for h in header])
    if labels:
        rows = [to_labels(r) for r in rows]
        return [export_header(labels=True), *rows]
    return [header, *rows]


def to_labels(row: list[str]) -> list[str]:
    """A raw row as the labels export writes it."""
    names = export_header()
    fields = {f.name: f for f in dictionary_fields()}
    out = []
    for name, cell in zip(names, row, strict=True):
        base = name.split("___")[0]
        field = fields.get(base)
        if name == "redcap_repeat_instrument" and cell:
            cell = next(i.label for i in INSTRUMENTS if i.name == cell)
        elif name.endswith("_complete") and cell:
            cell = {"0": "Incomplete", "1": "Unverified", "2": "Complete"}[cell]
        elif field is not None and field.field_type == "checkbox" and cell:
            cell = {"1": "Checked", "0": "Unchecked"}[cell]
        elif field is not None and field.field_type == "yesno" and cell:
            cell = {"1": "Yes", "0": "No"}[cell]
        elif field is not None and field.field_type == "dropdown" and cell:
            cell = dict(field.choices)[cell]
        out.append(cell)
    return out


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_dictionary_follows_redcap_format(tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "dictionary.csv"
    result = runner.invoke(app, ["template", "--redcap", str(target)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(target.read_text(encoding="utf-8").splitlines()))
    assert tuple(rows[0]) == DICTIONARY_COLUMNS and all(len(r) == 18 for r in rows)
    names = [r[0] for r in rows[1:]]
    assert names[0] == "patient_id" and rows[1][3] == "text"  # the record id comes first
    assert len(set(names)) == len(names) and all(FIELD_NAME.match(n) for n in names)
    forms = [r[1] for r in rows[1:]]
    order = list(dict.fromkeys(forms))
    assert order == [i.name for i in INSTRUMENTS]
    assert forms == sorted(forms, key=order.index)  # each instrument's fields contiguous
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["sex"][3] == "dropdown" and by_name["sex"][5] == "male, Male | female, Female"
    assert by_name["tl_start_date"][7] == "date_ymd" and by_name["tl_start_date"][12] == "y"
    assert by_name["pdl1_tps"][7:10] == ["number", "0", "100"]
    assert by_name["tl_ecog"][7:10] == ["integer", "0", "5"]
    assert by_name["metastases"][3] == "checkbox" and by_name["ae_immune_related"][3] == "yesno"


@pytest.mark.parametrize("labels", [False, True], ids=["raw", "labels"])
def test_export_reads_as_the_cohort(
    tmp_path: Path, cohort_frames: dict[str, pd.DataFrame], reference_study: Any, labels: bool
) -> None:
    export = write_rows(tmp_path / "export.csv", build_export(cohort_frames, labels))
    study = load_study(export)
    assert_same_study(study, reference_study, sets=("patients.metastases",))
    raw = read_study_files(export)
    treatments = raw.tables["treatments"]
    assert treatments.source == "export.csv:treatment_line"
    assert treatments.rows is not None and treatments.rows[0] == 3  # row 2: the baseline


def test_raw_export_gives_the_same_results(
    tmp_path: Path, cohort_frames: dict[str, pd.DataFrame]
) -> None:
    export = write_rows(tmp_path / "export.csv", build_export(cohort_frames))

    def numbers(results: Any) -> str:
        """Everything but the input's manifest; warnings by code (rows are the export's)."""
        kept = {k: v for k, v in results.items() if k not in {"manifest", "warnings"}}
        kept["warnings"] = [w["code"] for w in results["warnings"]]
        return json.dumps(kept, default=str)

    assert numbers(run_study(export).results) == numbers(run_study(COHORT).results)


def test_longitudinal_and_foreign_exports_are_refused(
    tmp_path: Path, cohort_frames: dict[str, pd.DataFrame]
) -> None:
    rows = build_export(cohort_frames)
    longitudinal = [
        [r[0], "baseline_arm_1" if i else "redcap_event_name", *r[1:]] for i, r in enumerate(rows)
    ]
    with pytest.raises(DataValidationError) as exc:
        load_study(write_rows(tmp_path / "long.csv", longitudinal))
    assert [p.code for p in exc.value.problems] == ["REDCAP-003"]
    renamed = [[*rows[0][:3], "gender", *rows[0][4:]], *rows[1:]]
    with pytest.raises(DataValidationError) as exc:
        load_study(write_rows(tmp_path / "renamed.csv", renamed))
    assert exc.value.problems[0].code == "REDCAP-001" and exc.value.problems[0].column == "gender"


def test_damaged_rows_are_located(tmp_path: Path, cohort_frames: dict[str, pd.DataFrame]) -> None:
    rows = build_export(cohort_frames)
    rows[3][1] = "imaging"  # an instrument the dictionary does not have
    sex = rows[0].index("sex")
    rows[4][sex] = "male"  # a baseline value on a repeating row
    with pytest.raises(DataValidationError) as exc:
        load_study(write_rows(tmp_path / "bad.csv", rows))
    found = {(p.code, p.row) for p in exc.value.problems}
    assert found == {("REDCAP-002", 4), ("REDCAP-005", 5)}


def test_unknown_label_is_located(tmp_path: Path, cohort_frames: dict[str, pd.DataFrame]) -> None:
    rows = build_export(cohort_frames, labels=True)
    sex = export_header().index("sex")
    rows[1][sex] = "Männlich"
    with pytest.raises(DataValidationError) as exc:
        load_study(write_rows(tmp_path / "labels.csv", rows))
    problem = exc.value.problems[0]
    assert (problem.code, problem.row, problem.column) == ("REDCAP-004", 2, "sex")


def test_an_export_without_later_optional_fields_still_reads(
    tmp_path: Path, cohort_frames: dict[str, pd.DataFrame], reference_study: Any
) -> None:
    """A project built from an older dictionary lacks optional fields added since: blank."""
    rows = build_export(cohort_frames, False)
    later = {"height_cm", "weight_kg", "pdl1_retest_tps", "pdl1_retest_date"}
    keep = [i for i, name in enumerate(rows[0]) if name not in later]
    assert len(keep) < len(rows[0])  # the dictionary has the later fields
    export = write_rows(tmp_path / "export.csv", [[row[i] for i in keep] for row in rows])
    study = load_study(export)
    assert_same_study(study, reference_study, sets=("patients.metastases",))
