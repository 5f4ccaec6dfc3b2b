"""The data cut-off rule line by line (`rechallenge.data.cutoff`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rechallenge.config import StudyConfig
from rechallenge.data.cutoff import apply_cutoff
from rechallenge.data.validate import load_study
from rechallenge.derive.patients import derive_patient_facts
from rechallenge.rules.courses import course_table

COHORT = Path(__file__).resolve().parents[2] / "examples" / "seed_cohort"
pytestmark = pytest.mark.skipif(not (COHORT / "patients.csv").exists(), reason="no cohort")
PATIENT = "QZ-0003"  # line 1: 2020-11-16 to last dose 2021-08-16, progression 2021-09-10


def line_one(cutoff: str) -> pd.Series:
    study = apply_cutoff(load_study(COHORT), cutoff)
    lines = study.treatments[study.treatments["patient_id"] == PATIENT]
    assert list(lines["line"]) == [1]  # lines 2 and 3 start after the cut-off
    return lines.iloc[0]


def test_a_line_dosed_after_the_cutoff_is_ongoing() -> None:
    line = line_one("2021-06-01")
    assert line["end_reason"] == "ongoing"
    assert pd.isna(line["last_dose_date"]) and pd.isna(line["progression_date"])


def test_a_progression_after_the_cutoff_is_unknown_at_it() -> None:
    line = line_one("2021-09-01")  # dosing ended before the cut-off, progression after it
    assert line["last_dose_date"] == pd.Timestamp("2021-08-16")
    assert pd.isna(line["progression_date"]) and pd.isna(line["end_reason"])


def test_a_cutoff_before_every_rechallenge_still_derives() -> None:
    study = apply_cutoff(load_study(COHORT), "2020-12-01")
    assert course_table(study.treatments)["rechallenge_next_line_start"].isna().all()
    facts = derive_patient_facts(study, StudyConfig())
    assert facts.table["rechallenge_start_date"].isna().all()
    assert study.cutoff is not None and study.cutoff.as_dict()["date"] == "2020-12-01"
