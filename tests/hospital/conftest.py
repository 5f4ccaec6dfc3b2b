"""Shared fixtures: the example cohort, read once as the reference study."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rechallenge.data.model import Study
from rechallenge.data.validate import load_study

COHORT = Path(__file__).resolve().parents[2] / "examples" / "seed_cohort"
TABLES = ("patients", "treatments", "lesions", "adverse_events", "labs")


@pytest.fixture(scope="session")
def cohort_frames() -> dict[str, pd.DataFrame]:
    """The example cohort's CSV files as text cells."""
    return {t: pd.read_csv(COHORT / f"{t}.csv", dtype=str, keep_default_na=False) for t in TABLES}


@pytest.fixture(scope="session")
def reference_study() -> Study:
    """The example cohort as the CSV folder gives it."""
    return load_study(COHORT)


def assert_same_study(study: Study, reference: Study, sets: tuple[str, ...] = ()) -> None:
    """Every table of `study` equals the reference's, cell for cell (types included).

    `sets` names list columns (``patients.metastases``) compared as sets: a REDCap checkbox
    keeps which items are ticked, not the order they were typed in.
    """
    for name in TABLES:
        got = getattr(study, name).reset_index(drop=True)
        want = getattr(reference, name).reset_index(drop=True)
        for key in sets:
            table, column = key.split(".")
            if table == name:
                got[column] = got[column].map(lambda items: tuple(sorted(items)))
                want = want.assign(**{column: want[column].map(lambda i: tuple(sorted(i)))})
        columns = [c for c in want.columns if c != "source_row"]  # each source its own rows
        pd.testing.assert_frame_equal(got[columns], want[columns], check_dtype=True)
