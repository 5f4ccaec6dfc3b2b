"""The contract's body-size and PD-L1 re-test columns: accepted when right, located when wrong."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from rechallenge.data.validate import load_study
from rechallenge.errors import DataValidationError

COHORT = Path(__file__).resolve().parents[2] / "examples" / "seed_cohort"


def _copy(tmp_path: Path, **columns: list[str]) -> Path:
    folder = tmp_path / "cohort"
    shutil.copytree(COHORT, folder)
    patients = pd.read_csv(folder / "patients.csv", dtype=str, keep_default_na=False)
    for name, values in columns.items():
        patients[name] = values + [""] * (len(patients) - len(values))
    patients.to_csv(folder / "patients.csv", index=False)
    return folder


def _codes(folder: Path) -> list[tuple[str, int | None, str | None]]:
    with pytest.raises(DataValidationError) as caught:
        load_study(folder)
    return [(p.code, p.row, p.column) for p in caught.value.problems]


def test_the_new_columns_are_read_with_their_types(tmp_path: Path) -> None:
    folder = _copy(
        tmp_path,
        height_cm=["172", "160.5"],
        weight_kg=["70", "48"],
        pdl1_retest_tps=["30"],
        pdl1_retest_date=["2021-01-15"],
    )
    patients = load_study(folder).patients
    assert patients["height_cm"].tolist()[:2] == [172.0, 160.5]
    assert patients["weight_kg"].tolist()[:2] == [70.0, 48.0]
    assert patients["pdl1_retest_date"].iloc[0] == pd.Timestamp("2021-01-15")
    assert patients["height_cm"].iloc[2:].isna().all()


def test_height_in_metres_is_out_of_range(tmp_path: Path) -> None:
    assert _codes(_copy(tmp_path, height_cm=["1.72"])) == [("RANGE-001", 2, "height_cm")]


def test_weight_in_pounds_gives_an_implausible_bmi(tmp_path: Path) -> None:
    folder = _copy(tmp_path, height_cm=["150"], weight_kg=["260"])  # 260 lb = 118 kg
    assert _codes(folder) == [("BODY-001", 2, "weight_kg")]


def test_a_retest_needs_its_date_and_a_fraction_is_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path, pdl1_retest_tps=["40", "0.4"], pdl1_retest_date=["", "2021-01-01"])
    assert sorted(_codes(folder)) == [
        ("PDL1-001", 3, "pdl1_retest_tps"),
        ("PDL1-002", 2, "pdl1_retest_date"),
    ]
