"""Every class of bad input (shared reference bad-inputs.md) on a copy of the example cohort.

Each case applies one defect and runs `rechallenge run`: exit 1, exactly one located problem
line with its rule code and a fix, no traceback, no analysis output, the sources unchanged.
Classes the reference lets a declared rule handle are tested with the rule declared, the
transformation counted. docs/data-model.md lists each class with its code and test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cohort_copy import COHORT, Cohort, Defect, broken_copy, digests, run_cli

pytestmark = pytest.mark.skipif(not (COHORT / "patients.csv").exists(), reason="no cohort")

ALIVE = "QZ-0003"  # alive; lines 1 (ICI), 2, 3 (ICI rechallenge from 2021-12-10)
DEAD = "QZ-0001"  # died; lines 1-3, adverse events before the death


def cell(table: str, column: str, value: str, **where: str) -> Defect:
    """Set one cell of the first row matching `where`."""

    def apply(cohort: Cohort) -> None:
        cohort.row(table, **where)[column] = value

    return apply


def duplicate(table: str, changes: dict[str, str] | None = None, **where: str) -> Defect:
    """Append a copy of the first row matching `where`, with `changes`."""

    def apply(cohort: Cohort) -> None:
        copy = dict(cohort.row(table, **where))
        copy.update(changes or {})
        cohort[table].append(copy)

    return apply


def delete(table: str, **where: str) -> Defect:
    """Remove the first row matching `where`."""

    def apply(cohort: Cohort) -> None:
        cohort[table].remove(cohort.row(table, **where))

    return apply


def baseline(**changes: str) -> Defect:
    """Change the alive patient's baseline rows of lesion T2 (initial course)."""
    return cell_many(
        "lesions", changes, patient_id=ALIVE, assessment_date="2020-11-06", lesion_id="T2"
    )


def cell_many(table: str, changes: dict[str, str], **where: str) -> Defect:
    """Set several cells of the first row matching `where`."""

    def apply(cohort: Cohort) -> None:
        cohort.row(table, **where).update(changes)

    return apply


def too_many_targets(cohort: Cohort) -> None:
    """Three more baseline targets, in three other organs: six in all."""
    first = cohort.row("lesions", patient_id=ALIVE, assessment_date="2020-11-06")
    for n, organ in enumerate(("liver", "adrenal", "bone"), start=4):
        cohort["lesions"].append(
            first | {"lesion_id": f"T{n}", "organ": organ, "lymph_node": "no", "size_mm": "20"}
        )


def two_defects(*defects: Defect) -> Defect:
    def apply(cohort: Cohort) -> None:
        for defect in defects:
            defect(cohort)

    return apply


def move_baseline_after_start(cohort: Cohort) -> None:
    """The initial course's baseline scan dated after its first dose (D6)."""
    for row in cohort.rows("lesions", patient_id=ALIVE, assessment_date="2020-11-06"):
        row["assessment_date"] = "2020-11-20"


def delete_first_line(cohort: Cohort) -> None:
    """The alive patient's first line row deleted (M2: numbering gap)."""
    cohort["treatments"].remove(cohort.row("treatments", patient_id=ALIVE, line="1"))


# (class, rule code, defect, words the problem line must contain)
CASES: list[tuple[str, str, Defect, str]] = [
    ("F2", "ENUM-002", cell("patients", "sex", "male ", patient_id=ALIVE), "spaces"),
    ("F2", "TEXT-001", cell("lesions", "organ", "lung\u00a0", patient_id=ALIVE), "invisible"),
    ("F3", "NUM-001", cell("labs", "value", "14,2", patient_id=DEAD), "decimal comma"),
    ("I1", "ID-001", duplicate("patients", patient_id=ALIVE), "more than one row"),
    (
        "I2",
        "REL-001",
        cell("labs", "patient_id", "QZ-9999", patient_id=DEAD),
        "not in the patients",
    ),
    ("I3", "ID-002", cell("labs", "patient_id", "1.2E+05", patient_id=DEAD), "scientific"),
    (
        "I4",
        "LESION-001",
        duplicate("lesions", {"size_mm": "25"}, patient_id=ALIVE, lesion_id="T1"),
        "more than once",
    ),
    ("D1", "DATE-001", cell("patients", "diagnosis_date", "43976", patient_id=ALIVE), "serial"),
    ("D2", "DATE-002", cell("patients", "diagnosis_date", "03/04/2018", patient_id=ALIVE), "ISO"),
    ("D3", "DATE-003", cell("patients", "diagnosis_date", "2018-07", patient_id=ALIVE), "partial"),
    (
        "D4",
        "DATE-002",
        cell("patients", "diagnosis_date", "2018-02-30", patient_id=ALIVE),
        "calendar",
    ),
    (
        "D4",
        "DATE-004",
        cell("patients", "diagnosis_date", "1900-01-01", patient_id=ALIVE),
        "placeholder",
    ),
    (
        "D4",
        "DATE-ORDER-006",
        cell("adverse_events", "onset_date", "1940-03-05", patient_id=ALIVE),
        "birth_date",
    ),
    (
        "D5",
        "DATE-ORDER-007",
        cell("patients", "last_contact_date", "2021-12-01", patient_id=ALIVE),
        "last known alive",
    ),
    (
        "D5",
        "DATE-ORDER-001",
        cell("treatments", "last_dose_date", "2020-01-01", patient_id=ALIVE, line="1"),
        "before start_date",
    ),
    (
        "D5",
        "DEATH-002",
        cell("adverse_events", "onset_date", "2023-01-01", patient_id=DEAD),
        "after the patient's death_date",
    ),
    (
        "D5",
        "DATE-ORDER-008",
        cell("treatments", "progression_date", "2021-10-01", patient_id=ALIVE, line="1"),
        "next line",
    ),
    ("D6", "RECIST-BASELINE_AFTER_START", move_baseline_after_start, "after its start"),
    (
        "D7",
        "DATE-005",
        cell("adverse_events", "onset_date", "2021-03-05T23:30+25:00", patient_id=ALIVE),
        "time zone",
    ),
    (
        "S1",
        "DATE-ORDER-007",
        cell("patients", "last_contact_date", "2021-12-09", patient_id=ALIVE),
        "later record",
    ),
    (
        "S4",
        "DEATH-003",
        cell("treatments", "end_reason", "death", patient_id=ALIVE, line="3"),
        "no death_date",
    ),
    ("R1", "RANGE-001", cell("lesions", "size_mm", "-12", patient_id=ALIVE), "between 0 and 300"),
    ("R1", "RECIST-NON_MEASURABLE_TARGET", baseline(size_mm="0"), "measurable"),
    ("R2", "RECIST-NON_MEASURABLE_TARGET", baseline(size_mm="8"), "measurable"),
    ("R2", "RECIST-BASELINE_TARGET_UNMEASURED", baseline(size_mm=""), "baseline size"),
    ("R3", "RECIST-TOO_MANY_TARGETS", too_many_targets, "allows 5"),
    (
        "R4",
        "RECIST-ROLE_CHANGED",
        cell("lesions", "role", "non_target", patient_id=ALIVE, assessment_date="2021-01-15"),
        "fixed at baseline",
    ),
    (
        "R4",
        "RECIST-LESION_NOT_AT_BASELINE",
        duplicate(
            "lesions",
            {"lesion_id": "T9", "organ": "liver"},
            patient_id=ALIVE,
            assessment_date="2021-01-15",
        ),
        "not in the baseline",
    ),
    ("R5", "RANGE-001", cell("lesions", "size_mm", "450", patient_id=ALIVE), "300"),
    ("R5", "RANGE-001", cell("lesions", "size_mm", "1e+30", patient_id=ALIVE), "unit"),
    ("R6", "ENUM-001", cell("lesions", "status", "Partial", patient_id=ALIVE), "permitted"),
    ("R6", "ENUM-001", cell("treatments", "best_response", "PR?", patient_id=ALIVE), "permitted"),
    (
        "R7",
        "LESION-002",
        cell(
            "lesions",
            "status",
            "absent",
            patient_id=ALIVE,
            assessment_date="2021-01-15",
            lesion_id="T1",
        ),
        "absent",
    ),
    (
        "R7",
        "LESION-003",
        cell_many(
            "lesions",
            {"size_mm": "0", "status": "present"},
            patient_id=ALIVE,
            assessment_date="2021-01-15",
            lesion_id="T1",
        ),
        "0 mm",
    ),
    (
        "R9",
        "LESION-001",
        duplicate("lesions", {"size_mm": "19"}, patient_id=ALIVE, lesion_id="T2"),
        "more than once",
    ),
    (
        "L1",
        "LAB-002",
        cell("labs", "unit", "g/dL", patient_id=DEAD, test="hemoglobin"),
        "implausible",
    ),
    ("L1", "LAB-001", cell("labs", "unit", "mg/furlong", patient_id=DEAD), "unknown unit"),
    (
        "L1",
        "LAB-003",
        cell("labs", "lln", "200", patient_id=DEAD, test="hemoglobin"),
        "lower limit",
    ),
    (
        "L1",
        "LAB-004",
        cell("labs", "uln", "9000", patient_id=DEAD, test="hemoglobin"),
        "reference limit",
    ),
    (
        "L1",
        "LAB-005",
        duplicate("labs", {"value": "120"}, patient_id=DEAD, test="hemoglobin"),
        "more than once",
    ),
    ("L2", "NUM-001", cell("labs", "value", "<5", patient_id=DEAD), "qualifier"),
    ("A1", "RANGE-001", cell("adverse_events", "grade", "6", patient_id=ALIVE), "between 1 and 5"),
    ("A1", "NUM-001", cell("adverse_events", "grade", "III", patient_id=ALIVE), "not a number"),
    (
        "A2",
        "AE-002",
        cell("adverse_events", "grade", "5", patient_id=ALIVE),
        "without a death_date",
    ),
    ("A2", "AE-003", cell("adverse_events", "grade", "5", patient_id=DEAD), "alive later"),
    (
        "A2",
        "AE-004",
        duplicate("adverse_events", {"grade": "3"}, patient_id=ALIVE),
        "more than once",
    ),
    ("A3", "AE-005", cell("adverse_events", "term", "Fatige", patient_id=ALIVE), "'Fatigue'"),
    (
        "M1",
        "DRUG-001",
        cell("treatments", "agents", "pembrolizumb", patient_id=DEAD),
        "pembrolizumab",
    ),
    ("M2", "LINE-003", delete_first_line, "missing"),
    (
        "M2",
        "LINE-004",
        cell("treatments", "last_dose_date", "2021-10-01", patient_id=ALIVE, line="1"),
        "overlap",
    ),
    (
        "M2",
        "LINE-002",
        cell("treatments", "start_date", "2020-11-01", patient_id=ALIVE, line="2"),
        "order of start dates",
    ),
    (
        "M2",
        "LINE-001",
        cell("treatments", "line", "1", patient_id=ALIVE, line="2"),
        "more than one",
    ),
    ("C1", "ENUM-001", cell("patients", "sex", "M", patient_id=ALIVE), "permitted"),
    ("C1", "RANGE-001", cell("treatments", "ecog", "6", patient_id=ALIVE), "between 0 and 5"),
    ("C2", "RANGE-001", cell("patients", "pdl1_tps", "150", patient_id=ALIVE), "between 0 and 100"),
    ("C2", "PDL1-001", cell("patients", "pdl1_tps", "0.5", patient_id=ALIVE), "fraction"),
    ("C3", "ID-002", cell("adverse_events", "patient_id", "3E+4", patient_id=ALIVE), "scientific"),
    ("C1", "HIST-001", cell("patients", "histology", "small cell", patient_id=ALIVE), "NSCLC"),
]


@pytest.mark.parametrize(
    ("klass", "code", "defect", "words"),
    CASES,
    ids=[f"{klass}-{code}-{i}" for i, (klass, code, _, _) in enumerate(CASES)],
)
def test_each_bad_input_is_one_located_problem(
    tmp_path: Path, klass: str, code: str, defect: Defect, words: str
) -> None:
    data = broken_copy(tmp_path / "cohort", defect)
    before = digests(data)
    result = run_cli(data, tmp_path / "out")
    assert result.exit_code == 1, result.output
    assert result.codes == [code], result.output
    line = result.lines[0]
    assert " row " in line or "column" in line, line  # located
    assert "Fix:" in line and words in line, line
    assert "Traceback" not in result.output
    assert "QZ-" not in result.output  # identifiers stay hidden
    written = {p.name for p in result.out.iterdir()} if result.out.exists() else set()
    assert written <= {"problems.csv", ".rechallenge-run.json"}  # no analysis output
    if ".rechallenge-run.json" in written:  # the marker says the run failed
        marker = json.loads((result.out / ".rechallenge-run.json").read_text(encoding="utf-8"))
        assert marker["status"] == "failed"
    assert digests(data) == before


def test_every_class_of_the_reference_is_listed_in_the_data_model() -> None:
    reference = Path(__file__).resolve().parents[2] / "docs" / "data-model.md"
    table = reference.read_text(encoding="utf-8")
    tested = {klass for klass, *_ in CASES}
    assert tested <= set(REFERENCE_CLASSES)
    for klass in REFERENCE_CLASSES:
        assert f"| {klass} |" in table, klass


def series(letter: str, last: int) -> list[str]:
    return [f"{letter}{n}" for n in range(1, last + 1)]


#: Every class of the shared reference bad-inputs.md.
REFERENCE_CLASSES = [
    *series("F", 7),
    *series("I", 4),
    *series("D", 7),
    *series("S", 5),
    *series("R", 9),
    *series("L", 3),
    *series("A", 3),
    *series("M", 2),
    *series("C", 3),
    *series("O", 3),
]
