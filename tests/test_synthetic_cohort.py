"""The benchmark's synthetic cohort generator: valid data, a plausible cohort, deterministic."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.synthetic_cohort import write_synthetic_cohort

from rechallenge.config import StudyConfig
from rechallenge.derive.patients import derive_patient_facts
from rechallenge.pipeline import load_validated
from rechallenge.rules.cohort import select_cohort

N = 200
TABLES = ("patients", "treatments", "lesions", "adverse_events", "labs")


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("synthetic")
    return folder, write_synthetic_cohort(folder, N, seed=11)


def test_row_counts_are_proportionate(cohort: tuple[Path, dict[str, int]]) -> None:
    _, rows = cohort
    assert set(rows) == set(TABLES)
    assert rows["patients"] == N
    assert 2.0 * N <= rows["treatments"] <= 3.0 * N
    assert 15 * N <= rows["lesions"] <= 30 * N
    assert 1.5 * N <= rows["adverse_events"] <= 2.5 * N
    assert rows["labs"] == 6 * N


def test_loads_without_any_problem(cohort: tuple[Path, dict[str, int]]) -> None:
    folder, rows = cohort
    study = load_validated(folder, StudyConfig())
    assert study.warnings == ()
    assert study.imputations == ()
    assert len(study.patients) == rows["patients"]
    assert len(study.lesions) == rows["lesions"]


def test_rules_accept_the_data_and_include_a_plausible_share(
    cohort: tuple[Path, dict[str, int]],
) -> None:
    folder, _ = cohort
    config = StudyConfig()
    facts = derive_patient_facts(load_validated(folder, config), config)
    assert facts.warnings == ()
    selection = select_cohort(facts.table, config.cohort)
    included = int(selection.listing["included"].sum())
    assert 0.45 * N <= included <= 0.75 * N
    attrition = selection.attrition.set_index("criterion")["excluded"]
    for criterion in ("no_driver", "has_rechallenge", "acquired_resistance", "ecog_max"):
        assert attrition[criterion] > 0, criterion
    sources = facts.table["initial_response_source"].value_counts()
    assert sources["recist"] > sources.get("investigator", 0)


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    write_synthetic_cohort(first, 50, seed=3)
    write_synthetic_cohort(second, 50, seed=3)
    write_synthetic_cohort(other, 50, seed=4)
    for table in TABLES:
        name = f"{table}.csv"
        assert (first / name).read_bytes() == (second / name).read_bytes(), table
    assert (first / "lesions.csv").read_bytes() != (other / "lesions.csv").read_bytes()


def test_marker_inputs_are_added_without_moving_the_other_draws(tmp_path: Path) -> None:
    plain, marked = tmp_path / "plain", tmp_path / "marked"
    rows = write_synthetic_cohort(plain, 120, seed=5)
    rows_marked = write_synthetic_cohort(marked, 120, seed=5, markers=True)
    for table in ("treatments", "lesions", "adverse_events"):
        name = f"{table}.csv"
        assert (plain / name).read_bytes() == (marked / name).read_bytes(), table
    study = load_validated(marked, StudyConfig())
    assert study.warnings == ()
    patients = study.patients
    added = {"pdl1_retest_tps", "pdl1_retest_date", "height_cm", "weight_kg"}
    assert added <= set(patients.columns)
    without = load_validated(plain, StudyConfig()).patients
    assert all(without[c].isna().all() for c in added if c in without)  # optional, blank
    assert 0.85 <= patients["height_cm"].notna().mean() < 1.0
    extra = rows_marked["labs"] - rows["labs"]
    assert extra > 0 and extra % 2 == 0  # a neutrophil and a lymphocyte count each
    lymphocytes = study.labs[study.labs["test"] == "lymphocytes"]
    assert len(lymphocytes) == extra // 2
