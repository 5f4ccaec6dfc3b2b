"""`validate` and `run` agree: every problem the rule engines can raise fails `load_validated`.

The engines' errors (RECIST/iRECIST baseline and target set) are found by reading the engine
source for `reject(...)` calls, so an error added later without a test here fails this file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from cohort_copy import COHORT, broken_copy
from test_bad_input_classes import CASES

from rechallenge.config import StudyConfig
from rechallenge.data.validate import load_study
from rechallenge.derive.endpoints import endpoint_problems
from rechallenge.derive.patients import derive_patient_facts
from rechallenge.errors import DataValidationError
from rechallenge.pipeline import analyse_study, load_validated
from rechallenge.rules import recist

pytestmark = pytest.mark.skipif(not (COHORT / "patients.csv").exists(), reason="no cohort")

ENGINE_SOURCE = Path(recist.__file__).read_text(encoding="utf-8")
TARGET_SET_CODES = {"ROLE_CHANGED", "LESION_NOT_AT_BASELINE"}  # passed to reject() by name


def engine_error_codes() -> set[str]:
    """Every code the response engines can reject a course with."""
    literal = set(re.findall(r'\.reject\(\s*"([A-Z_]+)"', ENGINE_SOURCE))
    return literal | TARGET_SET_CODES


ENGINE_CASES = {
    code[len("RECIST-") :]: defect for _, code, defect, _ in CASES if code.startswith("RECIST-")
}


def test_every_engine_error_has_a_case() -> None:
    assert engine_error_codes() - set(ENGINE_CASES) <= {"TOO_MANY_TARGETS_IN_ORGAN"}
    assert "TOO_MANY_TARGETS_IN_ORGAN" in engine_error_codes()


def three_lung_targets(cohort: dict[str, list[dict[str, str]]]) -> None:
    first = next(
        r
        for r in cohort["lesions"]
        if r["patient_id"] == "QZ-0003" and r["assessment_date"] == "2020-11-06"
    )
    cohort["lesions"].append(first | {"lesion_id": "T4", "size_mm": "20"})


ALL_ENGINE_CASES = ENGINE_CASES | {"TOO_MANY_TARGETS_IN_ORGAN": three_lung_targets}


@pytest.mark.parametrize("code", sorted(engine_error_codes()))
def test_validate_raises_what_run_raises(tmp_path: Path, code: str) -> None:
    data = broken_copy(tmp_path / "cohort", ALL_ENGINE_CASES[code])
    config = StudyConfig()
    with pytest.raises(DataValidationError) as validated:
        load_validated(data, config)
    assert f"RECIST-{code}" in {p.code for p in validated.value.problems}
    study = load_study(data)  # cells and relations are fine: only the rules can tell
    with pytest.raises(DataValidationError) as ran:
        analyse_study(study, config)
    assert {p.code for p in ran.value.problems} == {p.code for p in validated.value.problems}


@pytest.mark.parametrize("criterion", ["recist", "irecist"])
def test_both_criteria_reject_a_changed_target_set(tmp_path: Path, criterion: str) -> None:
    data = broken_copy(tmp_path / "cohort", ENGINE_CASES["ROLE_CHANGED"])
    config = StudyConfig()
    response = config.response.model_copy(update={"criterion": criterion})
    with pytest.raises(DataValidationError) as err:
        load_validated(data, config.model_copy(update={"response": response}))
    assert [p.code for p in err.value.problems] == ["RECIST-ROLE_CHANGED"]


def test_a_negative_follow_up_is_a_located_problem_not_a_crash() -> None:
    config = StudyConfig()
    study = load_study(COHORT)
    facts = derive_patient_facts(study, config)
    table = facts.table.copy()
    alive = table["death_date"].isna() & table["rechallenge_start_date"].notna()
    first = table.index[alive][0]
    table.loc[first, "last_contact_date"] = table.loc[
        first, "rechallenge_start_date"
    ] - pd.Timedelta(days=3)
    problems = endpoint_problems(table, facts.responses, config.endpoints)
    assert {p.code for p in problems} == {"TIME-001"}
    assert {p.row for p in problems} == {int(table.loc[first, "source_row"])}
    assert endpoint_problems(facts.table, facts.responses, config.endpoints) == []


@pytest.mark.parametrize("criterion", ["recist", "irecist"])
def test_the_example_cohort_is_valid_under_both_criteria(criterion: str) -> None:
    config = StudyConfig()
    response = config.response.model_copy(update={"criterion": criterion})
    study = load_validated(COHORT, config.model_copy(update={"response": response}))
    assert len(study.patients) == 24


def test_the_run_reuses_the_facts_validation_derived() -> None:
    config = StudyConfig()
    study = load_validated(COHORT, config)
    facts = derive_patient_facts(study, config)
    assert derive_patient_facts(study, config) is facts
    other = config.model_copy(
        update={"response": config.response.model_copy(update={"criterion": "irecist"})}
    )
    assert derive_patient_facts(study, other) is not facts
    assert derive_patient_facts(load_study(COHORT), config) is not facts  # another study object
