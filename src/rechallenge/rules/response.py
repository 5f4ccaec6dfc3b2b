"""The response of one course by the configured criterion: RECIST 1.1 or iRECIST.

The one entry point both engines share. Imports point one way: `irecist` builds on `recist`
(baseline, target sums, BOR), and this module, above both, picks one of them, so neither
engine imports the other's caller.
"""

from __future__ import annotations

import pandas as pd

from rechallenge.rules.irecist import evaluate_irecist_course
from rechallenge.rules.recist import (
    PatientLesions,
    RecistSettings,
    evaluate_recist_course,
    patient_lesions,
)
from rechallenge.rules.response_common import CourseResponse

__all__ = ["evaluate_course"]


def evaluate_course(
    lesions_one_patient: pd.DataFrame | PatientLesions,
    course_start: pd.Timestamp | str,
    course_end: pd.Timestamp | str | None = None,
    settings: RecistSettings | None = None,
) -> CourseResponse:
    """RECIST 1.1 (or, with ``criterion='irecist'``, iRECIST) response of one course.

    `lesions_one_patient`: the lesion rows of one patient as the data model documents them
    (docs/data-model.md, lesions; a CSV read with `pandas.read_csv` will do: dates as text,
    `lymph_node` as yes/no, `source_row` optional), or the rows grouped by `patient_lesions`.
    `course_start` and `course_end` are dates (a Timestamp or YYYY-MM-DD text).
    """
    settings = settings or RecistSettings()
    start = pd.Timestamp(course_start)
    end = None if course_end is None or pd.isna(course_end) else pd.Timestamp(course_end)
    data = (
        lesions_one_patient
        if isinstance(lesions_one_patient, PatientLesions)
        else patient_lesions(lesions_one_patient)
    )
    if settings.criterion == "irecist":
        return evaluate_irecist_course(data, start, end, settings)
    return evaluate_recist_course(data, start, end, settings)
