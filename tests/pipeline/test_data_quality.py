"""results["data_quality"] from hand-made inputs: imputations attributed, blanks counted."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from rechallenge.analysis.quality import completeness, data_quality_section
from rechallenge.labels import Labels


@dataclass(frozen=True)
class Imp:
    table: str
    row: int
    column: str
    rule: str


@dataclass(frozen=True)
class Warn:
    code: str


def patients() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": ["a", "b", "c"],
            "source_row": [2, 3, 4],
            "sex": ["male", None, "female"],
            "smoking": ["never", "", "current"],  # a blank counts as missing
            "age_at_rechallenge": [60.0, None, 70.0],
            "rechallenge_bor": ["PD", "SD", "MISSING"],
            "rechallenge_response_source": ["recist", "investigator", None],
            "rechallenge_progression_date_derived": pd.to_datetime(["2021-01-01", None, None]),
        }
    )


def test_counts_per_variable() -> None:
    imputations = [
        Imp("patients", 3, "birth_date", "middle"),
        Imp("patients", 9, "birth_date", "middle"),  # a screened-out patient's row
        Imp("treatments", 5, "start_date", "first"),
    ]
    rows = {r["variable"]: r for r in completeness(patients(), imputations, Labels())}
    assert (rows["sex"]["missing"], rows["smoking"]["missing"]) == (1, 1)
    age = rows["age_at_rechallenge"]
    assert (age["missing"], age["imputed"], age["derived"]) == (1, 1, 2)
    bor = rows["rechallenge_bor"]
    assert (bor["missing"], bor["derived"], bor["investigator"]) == (1, 1, 1)
    assert rows["rechallenge_progression"]["derived"] == 1
    assert rows["initial_start_date"]["imputed"] == 1  # treatments: whole study
    assert rows["ecog_rechallenge"]["missing"] == 3  # column absent: all missing
    assert {r["n"] for r in rows.values()} == {3}


def test_section_groups_imputations_and_warnings() -> None:
    imputations = [Imp("patients", 3, "birth_date", "middle")] * 2
    section = data_quality_section(
        patients(), imputations, [Warn("B"), Warn("A"), Warn("B")], Labels()
    )
    assert section["imputations"] == [
        {"table": "patients", "column": "birth_date", "rule": "middle", "count": 2}
    ]
    assert section["warnings_by_code"] == {"A": 1, "B": 2}


def test_no_analysed_patient() -> None:
    empty = patients().iloc[0:0]
    rows = completeness(empty, [], Labels())
    assert rows and {(r["n"], r["missing"]) for r in rows} == {(0, 0)}
