"""Random damage to the example cohort: rejected with located problems, or explained.

Hypothesis changes random cells (blanks, numbers, out-of-range and impossible values, other
rows' values, dates) and deletes or repeats random rows. Every run must either reject the
study with problems that each name a row or a column, or give the clean cohort, or give a
listed exclusion reason for each patient who left it; nothing else may be raised. Bounded:
a fixed number of examples with a fixed seed (well under 60 s).
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import pytest
from cohort_copy import COHORT, Cohort, read_cohort, write_cohort
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rechallenge.config import StudyConfig
from rechallenge.derive.patients import derive_patient_facts
from rechallenge.errors import AnalysisError, DataValidationError
from rechallenge.pipeline import analyse_study, load_validated
from rechallenge.rules.cohort import select_cohort

pytestmark = pytest.mark.skipif(not (COHORT / "patients.csv").exists(), reason="no cohort")

CLEAN = read_cohort(COHORT) if (COHORT / "patients.csv").exists() else Cohort()
CONFIG = StudyConfig()
VALUES = (
    "", " ", "0", "-1", "1", "2", "5", "6", "0.5", "8", "22", "450", "1e+30", "abc", "yes",
    "no", "absent", "present", "target", "new", "death", "progression", "ongoing", "PR", "CR",
    "2019-01-01", "2021-06-15", "2030-01-01", "2021-02-30", "03/04/2021", "2021-03",
    "2021-03-01T23:30+01:00", "g/dL", "QZ-9999",
)  # fmt: skip


def clean_cohort() -> list[str]:
    study = load_validated(COHORT, CONFIG)
    facts = derive_patient_facts(study, CONFIG)
    return select_cohort(facts.table, CONFIG.cohort).included_ids


CLEAN_INCLUDED = clean_cohort() if CLEAN else []


@st.composite
def mutation(draw: st.DrawFn) -> tuple[str, str, int, str, str]:
    """(kind, table, row index, column, value): a changed cell, a deleted or repeated row."""
    table = draw(st.sampled_from(sorted(CLEAN)))
    rows = CLEAN[table]
    index = draw(st.integers(0, len(rows) - 1))
    kind = draw(st.sampled_from(["cell", "cell", "cell", "swap", "delete", "repeat"]))
    column = draw(st.sampled_from(sorted(rows[0])))
    if kind == "swap":  # another row's value of the same column
        value = rows[draw(st.integers(0, len(rows) - 1))][column]
    else:
        value = draw(st.sampled_from(VALUES))
    return kind, table, index, column, value


def apply(mutations: list[tuple[str, str, int, str, str]]) -> Cohort:
    cohort = Cohort({t: [dict(r) for r in rows] for t, rows in CLEAN.items()})
    for kind, table, index, column, value in mutations:
        rows = cohort[table]
        index = min(index, len(rows) - 1)
        if kind == "delete" and len(rows) > 1:
            del rows[index]
        elif kind == "repeat":
            rows.append(dict(rows[index]))
        elif kind in ("cell", "swap"):
            rows[index][column] = value
    return cohort


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(mutation(), min_size=1, max_size=3))
def test_damage_is_rejected_located_or_explained(
    mutations: list[tuple[str, str, int, str, str]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_cohort(folder, apply(mutations))
        try:
            study = load_validated(folder, CONFIG)
        except DataValidationError as exc:
            assert exc.problems
            for problem in exc.problems:
                assert problem.code and problem.fix, problem
                assert problem.row is not None or problem.column is not None, problem
            return
    facts = derive_patient_facts(study, CONFIG)
    selection = select_cohort(facts.table, CONFIG.cohort)
    listing = selection.listing.set_index("patient_id")
    for patient in set(CLEAN_INCLUDED) - set(selection.included_ids):
        if patient not in listing.index:  # the patient's only rows were deleted
            assert patient not in set(study.patients["patient_id"])
            continue
        reason = listing.loc[patient, "reason"]
        assert isinstance(reason, str) and reason and reason != "included", patient
    with contextlib.suppress(AnalysisError):  # a clean refusal on valid data, not a crash
        analyse_study(study, CONFIG)
