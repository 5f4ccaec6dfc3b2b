"""Values the clinical rules must accept (no false alarms) and the mappings they declare."""

from __future__ import annotations

from pathlib import Path

import pytest
from cohort_copy import COHORT, Cohort, broken_copy

from rechallenge.config import StudyConfig
from rechallenge.data.validate import ctcae_terms
from rechallenge.errors import DataValidationError
from rechallenge.pipeline import load_validated

pytestmark = pytest.mark.skipif(not (COHORT / "patients.csv").exists(), reason="no cohort")
ALIVE = "QZ-0003"


def read_example(table: str) -> list[dict[str, str]]:
    """The example cohort's rows of `table`, as the CSV holds them."""
    import csv

    with (COHORT / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def loads(tmp_path: Path, change) -> object:  # type: ignore[no-untyped-def]
    return load_validated(broken_copy(tmp_path / "cohort", change), StudyConfig())


def test_terms_in_any_case_or_a_listed_alias_take_the_ctcae_spelling(tmp_path: Path) -> None:
    def respell(cohort: Cohort) -> None:
        cohort.row("adverse_events", patient_id=ALIVE)["term"] = "  fatigue "
        cohort.row("adverse_events", patient_id="QZ-0001")["term"] = "Diarrhoea"

    study = loads(tmp_path, respell)
    terms = set(study.adverse_events["term"])  # type: ignore[attr-defined]
    assert "Fatigue" in terms and "Diarrhea" in terms
    assert not {"  fatigue ", "fatigue", "Diarrhoea"} & terms


def test_the_lab_grading_terms_are_controlled_terms() -> None:
    terms = ctcae_terms()
    for term in ("Anemia", "Neutrophil count decreased", "Platelet count decreased"):
        assert terms[term.casefold()] == term


@pytest.mark.parametrize(
    ("table", "column", "value", "where"),
    [
        ("labs", "value", "3600", {"test": "neutrophils"}),  # cells per mm3
        ("lesions", "status", "absent", {"lymph_node": "yes", "size_mm": ""}),
        ("adverse_events", "onset_date", "2021-03-05 08:15", {}),
        ("patients", "pdl1_tps", "1", {}),
    ],
)
def test_plausible_values_are_accepted(
    tmp_path: Path, table: str, column: str, value: str, where: dict[str, str]
) -> None:
    def change(cohort: Cohort) -> None:
        row = next(r for r in cohort[table] if all(r.get(k) == v for k, v in where.items()))
        row[column] = value
        if column == "value":
            row["unit"], row["lln"], row["uln"] = "/mm3", "1800", "6300"

    try:
        study = loads(tmp_path, change)
    except DataValidationError as exc:  # pragma: no cover - the failure message
        pytest.fail(exc.report())
    assert len(study.table(table)) == len(  # type: ignore[attr-defined]
        read_example(table)
    )  # accepted whole: no row refused or dropped


def test_a_node_below_10_mm_may_be_absent(tmp_path: Path) -> None:
    def node(cohort: Cohort) -> None:
        row = cohort.row("lesions", patient_id=ALIVE, lesion_id="T3", assessment_date="2021-03-15")
        row["size_mm"], row["status"] = "8", "absent"

    lesions = loads(tmp_path, node).lesions  # type: ignore[attr-defined]
    kept = lesions[(lesions["lesion_id"] == "T3") & (lesions["size_mm"] == 8)]
    assert list(kept["status"]) == ["absent"]
