"""Per-patient facts for screening and analysis: courses, responses, resistance, age, ECOG.

For every screened patient:

1. courses: initial, interim and rechallenge lines (`rules.courses`);
2. per ICI course: the response derived by RECIST 1.1 / iRECIST from the lesion rows of the
   course window (from its first dose to the start of the next line), reconciled with the
   investigator's `best_response` / `progression_date` (lesion-derived wins; a
   disagreement is reported);
3. resistance of the initial course under the configured definition;
4. the facts the cohort criteria read: measurable disease at the rechallenge baseline,
   evaluability of the rechallenge response, age and ECOG PS at the rechallenge start.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import pandas as pd

from rechallenge.config import StudyConfig
from rechallenge.data.model import Study
from rechallenge.errors import DataValidationError, Problem
from rechallenge.rules.courses import course_table
from rechallenge.rules.recist import PatientLesions, check_lesion_table, lesions_by_patient
from rechallenge.rules.recist_columns import evaluate_plain_courses
from rechallenge.rules.resistance import (
    ResistanceClass,
    ResistanceInputs,
    ResistanceResult,
    classify_resistance,
)
from rechallenge.rules.response import evaluate_course
from rechallenge.rules.response_common import (
    CourseResponse,
    Response,
    investigator_response,
    reconcile,
)

COURSES = ("initial", "rechallenge")


@dataclass(frozen=True)
class PatientFacts:
    """Everything derived per patient, plus the data-quality warnings raised on the way."""

    table: pd.DataFrame  # one row per screened patient (see module docstring)
    responses: dict[tuple[str, str], CourseResponse]  # (patient_id, course) -> response
    warnings: tuple[Problem, ...]


#: The last facts derived, for the same study object and configuration: validation derives
#: them (to raise what `run` would) and the run right after reuses them, not recomputes.
_LAST: list[tuple[weakref.ref[Study], StudyConfig, PatientFacts]] = []


def derive_patient_facts(study: Study, config: StudyConfig) -> PatientFacts:
    """Steps 1-4 for every patient of the study, in the order of the patients table.

    Raises `DataValidationError` listing every error the response engines found (a target
    set or baseline no response can be derived from); `pipeline.load_validated` calls this
    too, so `validate` reports what `run` would. The result for the last (study, config)
    is kept while that study object lives, so deriving twice costs once.
    """
    for ref, settings, facts in _LAST:
        if ref() is study and settings == config:
            return facts
    facts = _derive_patient_facts(study, config)
    _LAST[:] = [(weakref.ref(study, lambda _: _LAST.clear()), config.model_copy(deep=True), facts)]
    return facts


def _derive_patient_facts(
    study: Study, config: StudyConfig, columnwise: bool = True
) -> PatientFacts:
    """`derive_patient_facts` without the reuse.

    `columnwise`: the plain courses come from the column-wise engine
    (`rules.recist_columns`) and only the others from the per-course engine; False sends
    every course to the per-course engine (the same results, slower: the equality tests).
    """
    courses = course_table(study.treatments)
    table = study.patients.merge(courses, on="patient_id", how="left")
    plain, lesions = _lesion_responses(study.lesions, table, config, columnwise)
    with_lesions = set(pd.unique(study.lesions["patient_id"].astype(str)))
    responses: dict[tuple[str, str], CourseResponse] = {}
    warnings: list[Problem] = []
    rows = []
    for record in table[LOOP_COLUMNS].itertuples(index=False):
        pid = str(record.patient_id)
        patient = lesions.get(pid)
        facts: dict[str, object] = {"patient_id": pid}
        for course in COURSES:
            pair = _course_response(
                record, course, patient, plain.get((pid, course)), config, warnings
            )
            if pair is None:
                continue
            response, derived = pair
            responses[(pid, course)] = response
            facts[f"{course}_bor"] = str(response.best_response.recist_equivalent)
            facts[f"{course}_response_source"] = response.source
            facts[f"{course}_progression_date"] = response.progression_date
            facts[f"{course}_best_pct_change"] = response.best_pct_change
            facts[f"{course}_response_date"] = first_response_date(response)
            # measurability is a property of the baseline scan, whichever response is kept
            facts[f"{course}_baseline_sod_mm"] = (
                None if derived is None else derived.baseline_sod_mm
            )
        resistance = _resistance(record, responses.get((pid, "initial")), config)
        facts["resistance_class"] = _resistance_key(resistance)
        facts["resistance_label"] = None if resistance is None else str(resistance.resistance_class)
        facts["resistance_reason"] = (
            "no anti-PD-(L)1 course" if resistance is None else resistance.reason
        )
        rows.append(facts)
    errors = list(
        {(p.code, p.row, p.message): p for p in warnings if p.severity == "error"}.values()
    )
    if errors:
        raise DataValidationError(errors)
    derived = pd.DataFrame(rows)
    table = table.merge(derived, on="patient_id", how="left", suffixes=("", "_derived"))
    table = _criteria_facts(table, with_lesions)
    return PatientFacts(table, responses, tuple(warnings))


def _lesion_responses(
    lesions: pd.DataFrame, table: pd.DataFrame, config: StudyConfig, columnwise: bool
) -> tuple[dict[tuple[str, str], CourseResponse], dict[str, PatientLesions]]:
    """Lesion-derived responses of the plain courses (column-wise), and the grouped lesion
    rows of the other patients, whose courses the per-course engine evaluates."""
    if not len(lesions):
        return {}, {}
    if not columnwise:
        return {}, lesions_by_patient(lesions)
    check_lesion_table(lesions)  # every bad row at once, before any course is evaluated
    courses = pd.concat(
        [
            pd.DataFrame(
                {
                    "patient_id": table["patient_id"],
                    "course": course,
                    "start": table[f"{course}_start_date"],
                    "end": table[f"{course}_next_line_start"],
                }
            )
            for course in COURSES
        ],
        ignore_index=True,
    )
    plain = evaluate_plain_courses(lesions, courses, config.response)
    others = lesions[lesions["patient_id"].astype(str).isin(plain.unusual)]
    return plain.responses, lesions_by_patient(others) if len(others) else {}


OBJECTIVE = (Response.CR, Response.PR)
# The columns the per-patient loop reads (boxing the other columns' dates would be wasted).
LOOP_COLUMNS = [
    "patient_id",
    *(
        f"{course}_{field}"
        for course in COURSES
        for field in ("start_date", "next_line_start", "best_response", "progression_date")
    ),
    "initial_last_dose_date",
    "initial_end_reason",
]


def first_response_date(response: CourseResponse) -> pd.Timestamp | None:
    """Date of the first time point with an objective response (CR or PR), if any."""
    for point in response.timepoints:
        if point.overall.recist_equivalent in OBJECTIVE:
            return point.assessment_date
    return None


def _course_response(
    record: Any,
    course: str,
    lesions: PatientLesions | None,
    plain: CourseResponse | None,
    config: StudyConfig,
    warnings: list[Problem],
) -> tuple[CourseResponse, CourseResponse | None] | None:
    """(kept response, lesion-derived response) of one course; the kept one is reconciled.

    `plain`: the course's response from the column-wise engine (no warnings), if it gave one;
    otherwise the per-course engine derives it from the patient's grouped `lesions`.
    """
    start = getattr(record, f"{course}_start_date")
    if pd.isna(start):
        return None
    end = getattr(record, f"{course}_next_line_start")
    derived = plain
    if derived is None and lesions is not None:
        derived = evaluate_course(lesions, start, None if pd.isna(end) else end, config.response)
        for w in derived.warnings:
            warnings.append(_warning(f"RECIST-{w.code}", f"{course} course: {w.message}", w))
    investigator = investigator_response(
        _blank_to_none(getattr(record, f"{course}_best_response")),
        _blank_to_none(getattr(record, f"{course}_progression_date")),
    )
    chosen, disagreement = reconcile(derived, investigator)
    if disagreement is not None:
        warnings.append(
            Problem(
                "RESP-DISAGREE",
                "treatments",
                f"{course} course: lesion-derived and investigator responses disagree "
                f"({disagreement.message})",
                "review the lesion measurements and the investigator assessment",
                severity="warning",
                patient_id=str(record.patient_id),
            )
        )
    return chosen, derived


def _warning(code: str, message: str, source: object) -> Problem:
    """A response engine finding as a Problem located at its first lesion row.

    Errors (target set, baseline: data no response can be derived from without a guess)
    name every row; `derive_patient_facts` raises them all together.
    """
    rows = getattr(source, "source_rows", ())
    severity = getattr(source, "severity", "warning")
    if severity == "error" and len(rows) > 1:
        message = f"{message} (rows {', '.join(str(r) for r in rows)})"
    return Problem(
        code,
        "lesions",
        message,
        "correct the lesion rows named (docs/rules-recist.md)"
        if severity == "error"
        else "review the lesion rows named",
        row=int(rows[0]) if rows else None,
        severity=severity,
        patient_id=getattr(source, "patient_id", None),
    )


def _blank_to_none(value: Any) -> Any:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def _resistance(
    record: Any, initial: CourseResponse | None, config: StudyConfig
) -> ResistanceResult | None:
    """Resistance of the initial course under the configured definition."""
    start = record.initial_start_date
    if pd.isna(start) or initial is None:
        return None
    bor = initial.best_response.recist_equivalent
    inputs = ResistanceInputs(
        first_dose=start,
        last_dose=_blank_to_none(record.initial_last_dose_date),
        end_reason=_blank_to_none(record.initial_end_reason),
        best_response=None if bor in (Response.MISSING,) else str(bor).lower(),
        progression_date=initial.progression_date,
        ongoing_at_progression=record.initial_end_reason == "ongoing",
    )
    return classify_resistance(inputs, config.resistance)


def _resistance_key(result: ResistanceResult | None) -> str | None:
    """Short class key used by the cohort criteria (acquired, primary, ...)."""
    if result is None:
        return None
    return {
        ResistanceClass.ACQUIRED: "acquired",
        ResistanceClass.PRIMARY: "primary",
        ResistanceClass.SECONDARY: "secondary",
    }.get(result.resistance_class, str(result.resistance_class).replace(" ", "_"))


def _criteria_facts(table: pd.DataFrame, with_lesions: set[str]) -> pd.DataFrame:
    """Measurable disease, evaluability, age and ECOG PS at the rechallenge start."""
    out = table.copy()
    has_lesions = out["patient_id"].astype(str).isin(with_lesions)
    sod = pd.to_numeric(out.get("rechallenge_baseline_sod_mm"), errors="coerce")
    recorded = out.get("rechallenge_bor", pd.Series(index=out.index, dtype=object))
    # Without any lesion rows, a recorded investigator response stands for measurable disease.
    out["measurable_at_rechallenge"] = (sod > 0) | (~has_lesions & recorded.notna())
    out["rechallenge_evaluable"] = recorded.notna() & (recorded != str(Response.MISSING))
    out["age_at_rechallenge"] = completed_years(out["birth_date"], out["rechallenge_start_date"])
    out["ecog_rechallenge"] = out["rechallenge_ecog"]
    return out


def completed_years(born: pd.Series, on: pd.Series) -> pd.Series:
    """Age in completed years on a date (birthdays counted by calendar, not 365.25 days)."""
    years = on.dt.year - born.dt.year
    before_birthday = (on.dt.month < born.dt.month) | (
        (on.dt.month == born.dt.month) & (on.dt.day < born.dt.day)
    )
    return (years - before_birthday.astype("Int64")).astype("Float64")
