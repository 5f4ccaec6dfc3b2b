"""RECIST 1.1 response of one treatment course, derived from lesion measurements.

Entry points: `evaluate_course` (lesion rows of one patient + course window → `CourseResponse`),
`RecistSettings` (every choice, with its default), and the rule functions it is built from
(`target_response`, `non_target_response`, `overall_response`) for direct use and testing.
The algorithm, step by step, is in docs/rules-recist.md; the rules come from
Eisenhauer et al., Eur J Cancer 2009;45:228–247 and the EORTC RECIST FAQ.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from rechallenge.errors import DataValidationError, Problem
from rechallenge.rules.response_common import (
    MAX_TARGETS,
    MAX_TARGETS_PER_ORGAN,
    MEASURABLE_NODE_UM,
    MEASURABLE_NON_NODAL_UM,
    NODE_NORMAL_BELOW_UM,
    NODE_ORGAN,
    RECIST_SCALE,
    TOO_SMALL_TO_MEASURE_UM,
    BorResult,
    BorRules,
    CourseResponse,
    Length,
    NewLesion,
    Response,
    ResponseScale,
    ResponseWarning,
    Severity,
    Timepoint,
    as_mm,
    bor_confirmed,
    bor_unconfirmed,
    confirming_index,
    meets_pd,
    meets_pr,
    pct_change,
    to_um,
)

__all__ = [
    "RecistSettings",
    "evaluate_recist_course",
    "non_target_response",
    "overall_response",
    "target_response",
]

REQUIRED_COLUMNS = (
    "patient_id",
    "assessment_date",
    "lesion_id",
    "role",
    "organ",
    "lymph_node",
    "size_mm",
    "status",
    "source_row",
)  # data-model.md, lesions table, plus the source row added on reading
ROLES = frozenset({"target", "non_target", "new"})  # data-model.md: lesions.role
STATUSES = frozenset({"present", "absent", "progression", "equivocal"})  # data-model.md


class RecistSettings(BaseModel):
    """Every choice the response engines make, with its default (see docs/rules-recist.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    criterion: Literal["recist1.1", "irecist"] = Field(
        default="recist1.1",
        description="Response criteria: RECIST 1.1, or iRECIST (progression must be confirmed).",
    )
    baseline_window_days: int = Field(
        default=28,
        ge=0,
        description="Baseline = last assessment on or before the course start and at most this "
        "many days before it (R1.1: never more than 4 weeks before the start).",
    )
    confirmation: bool = Field(
        default=False,
        description="Report the confirmed BOR as the course's best response. False = "
        "unconfirmed BOR, the usual choice for retrospective and PFS-focused studies "
        "(R1.1: confirmation is needed only where response is the primary endpoint of a "
        "non-randomised trial). Both are always computed.",
    )
    confirmation_min_days: int = Field(
        default=28,
        ge=1,
        description="A CR/PR is confirmed by a CR/PR at least this many days later (inclusive; "
        "R1.1: no less than 4 weeks).",
    )
    max_ne_between: int = Field(
        default=1,
        ge=0,
        description="NE assessments allowed between a CR/PR and its confirmation "
        "(admiralonco default; not stated in R1.1).",
    )
    accept_sd_between: bool = Field(
        default=False,
        description="Allow one SD between a PR and its confirmation (admiralonco default False).",
    )
    sd_min_days: int = Field(
        default=42,
        ge=0,
        description="SD (and NON-CR/NON-PD) counts for the BOR only at or after this many days "
        "from the course start (R1.1: generally not less than 6-8 weeks).",
    )
    continued_pr: bool = Field(
        default=True,
        description="Once a PR is established (confirmed, when confirmation is required), label "
        "later literal SD time points PR until CR or PD (EORTC FAQ). Labels only; the BOR is "
        "computed from the literal categories.",
    )
    missing_target_rule: Literal["lower_bound_pd", "ne"] = Field(
        default="lower_bound_pd",
        description="Targets not measured at an assessment: 'lower_bound_pd' = PD when the sum "
        "of the measured ones already meets PD versus the nadir, otherwise NE (R1.1 example); "
        "'ne' = always NE.",
    )
    unmeasured_present_target: Literal["not_evaluable", "too_small"] = Field(
        default="not_evaluable",
        description="A target with status 'present' and no size: 'not_evaluable' (data model: "
        "blank size = not evaluable) or 'too_small' (takes the 5 mm default, EORTC FAQ).",
    )
    equivocal_new_lesion: Literal["backdate", "ignore", "progression"] = Field(
        default="backdate",
        description="A new lesion with status 'equivocal': 'backdate' = not PD, but if the same "
        "lesion is unequivocal later, PD is dated to its first appearance (R1.1); 'ignore' = "
        "PD only from the assessment where it is unequivocal; 'progression' = PD at once.",
    )
    reappearance_after_cr_is_pd: bool = Field(
        default=True,
        description="A non-nodal target reappearing after an overall CR is PD even if the sum "
        "rose by less than 5 mm (EORTC FAQ 'Does a new lesion always result in PD?').",
    )
    node_cr_with_sod_increase: Literal["cr", "pd"] = Field(
        default="cr",
        description="All target nodes < 10 mm and non-nodal targets 0, while the sum rose "
        ">= 20 % and >= 5 mm from the nadir (not addressed by R1.1): 'cr' (normal-size nodes "
        "are not disease; flagged) or 'pd'.",
    )
    pr_after_cr: Literal["flag", "progression"] = Field(
        default="flag",
        description="A PR or SD after an overall CR: 'flag' keeps it and warns (admiralonco, "
        "bad-inputs R8); 'progression' treats it as PD (the CR was real, so disease returned).",
    )
    irecist_confirm_min_days: int = Field(
        default=28,
        ge=1,
        description="iRECIST: an iUPD is confirmed or not at the first assessment at least this "
        "many days later (iRECIST: 4-8 weeks).",
    )
    irecist_confirm_tolerance_days: int = Field(
        default=2,
        ge=0,
        description="iRECIST: days of tolerance below irecist_confirm_min_days (EORTC FAQ: ±2).",
    )
    irecist_confirm_max_days: int = Field(
        default=56,
        ge=1,
        description="iRECIST: a confirmation assessment later than this is still used but "
        "flagged (iRECIST window 4-8 weeks; real-world intervals are longer).",
    )
    irecist_early_new_lesion_confirms: bool = Field(
        default=True,
        description="iRECIST: an assessment earlier than the confirmation window confirms the "
        "iUPD if it shows an additional new lesion (EORTC FAQ: scans for new symptoms).",
    )
    irecist_increase_statuses: tuple[str, ...] = Field(
        default=("progression", "equivocal"),
        description="iRECIST: non-target or non-measurable new-lesion statuses that mean 'any "
        "further increase' after an iUPD (the data model has no separate 'larger' status).",
    )
    irecist_unconfirmed_iupd: Literal["event", "censor"] = Field(
        default="event",
        description="iRECIST: an iUPD never confirmed and never reset gives a progression date "
        "('event', conservative, flagged) or none ('censor' at the last assessment).",
    )


# --- prepared course -----------------------------------------------------------------------


class LesionObs(NamedTuple):
    """One lesion row, cleaned: exact size in µm (None = not evaluable), status (None = blank).

    A named tuple: millions are built per study, and a tuple is built several times faster
    than a frozen dataclass.
    """

    lesion_id: str
    role: str
    organ: str
    nodal: bool
    size: Length | None
    status: str | None
    row: int


class Assessment(NamedTuple):
    """The lesion rows of one follow-up date of the course.

    A named tuple built from the patient's `DateRows` (shared by every course that reads the
    date), so the rows keyed by lesion id and the sorted source rows are made once per date.
    """

    date: pd.Timestamp
    day: int
    rows: tuple[LesionObs, ...]
    source_rows: tuple[int, ...]  # the spreadsheet rows of this assessment, ascending
    ids: dict[str, LesionObs]

    def by_id(self) -> dict[str, LesionObs]:
        """Rows keyed by lesion id (the shared mapping: do not modify it)."""
        return self.ids


class DateRows(NamedTuple):
    """One assessment date of a patient: its rows, keyed by lesion id, and sorted row numbers."""

    rows: tuple[LesionObs, ...]
    source_rows: tuple[int, ...]
    ids: dict[str, LesionObs]


def _date_rows(rows: tuple[LesionObs, ...]) -> DateRows:
    """The `DateRows` of one date's observations."""
    return DateRows(rows, tuple(sorted([o.row for o in rows])), {o.lesion_id: o for o in rows})


@dataclass
class PreparedCourse:
    """Baseline lesion set and follow-up assessments of one course, after the front checks."""

    patient_id: str | None
    course_start: pd.Timestamp
    baseline_date: pd.Timestamp | None
    targets: tuple[LesionObs, ...]
    non_targets: tuple[LesionObs, ...]
    followups: tuple[Assessment, ...]
    warnings: list[ResponseWarning] = field(default_factory=list)
    next_baseline: pd.Timestamp | None = None  # the next course's baseline scan, if in window

    @property
    def baseline_sod(self) -> Length:
        """Baseline sum of diameters: non-nodal longest diameters + nodal short axes."""
        return sum((t.size for t in self.targets if t.size is not None), 0)

    def warn(
        self,
        code: str,
        message: str,
        rows: Sequence[int] = (),
        dates: Sequence[pd.Timestamp] = (),
        *,
        severity: Severity = "warning",
    ) -> None:
        """Record a finding naming the source rows (identifiers only for `render(show_ids)`).

        `severity="error"`: the data cannot give a response without a guess (bad-inputs
        R2-R4, D6); the pipeline rejects the study with it (`validate` and `run` alike).
        """
        self.warnings.append(
            ResponseWarning(
                code=code,
                message=message,
                source_rows=tuple(sorted(set(rows))),
                patient_id=self.patient_id,
                dates=tuple(dates),
                severity=severity,
            )
        )

    def reject(
        self, code: str, message: str, rows: Sequence[int] = (), dates: Sequence[pd.Timestamp] = ()
    ) -> None:
        """Record an error (see `warn`)."""
        self.warn(code, message, rows, dates, severity="error")


def _blank(value: object) -> bool:
    if value is None or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _validate(lesions: pd.DataFrame) -> None:
    """Reject input a response cannot be derived from (bad-inputs R1, R4, I4): all at once.

    Vectorised over the rows; only the offending rows are visited to name them.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in lesions.columns]
    if missing:
        raise ValueError(f"lesions table lacks columns: {', '.join(missing)}")
    if lesions["patient_id"].nunique(dropna=False) > 1:
        raise ValueError("evaluate_course takes the lesion rows of one patient")
    _check_rows(lesions)


def _check_rows(lesions: pd.DataFrame) -> None:
    """The row checks of `_validate`, for any number of patients."""
    rows = lesions["source_row"].to_numpy()
    status = lesions["status"]
    sizes = pd.to_numeric(lesions["size_mm"], errors="coerce")
    checks = (
        (
            ~lesions["role"].isin(ROLES),
            "R6",
            "unknown role",
            "use target, non_target or new",
            "role",
        ),
        (
            status.notna() & ~status.isin(STATUSES),
            "R6",
            "unknown status",
            "use present, absent, progression or equivocal",
            "status",
        ),
        (sizes < 0, "R1", "negative size", "correct the size", "size_mm"),
        (
            lesions["assessment_date"].isna(),
            "R4",
            "missing date",
            "give the date",
            "assessment_date",
        ),
        (
            lesions.duplicated(["patient_id", "assessment_date", "lesion_id"], keep=False),
            "I4",
            "the same lesion appears twice on one date",
            "keep one record per lesion and date",
            "lesion_id",
        ),
    )
    problems = [
        Problem(code, "lesions", message, fix, int(row), column)
        for mask, code, message, fix, column in checks
        for row in rows[mask.to_numpy(dtype=bool)]
    ]
    if problems:
        raise DataValidationError(problems)


@dataclass(frozen=True)
class PatientLesions:
    """One patient's lesion rows, checked and grouped by assessment date (dates ascending).

    Built once per patient (`patient_lesions`, or `lesions_by_patient` for a whole table)
    and reused for every course, so no table is searched per course.
    """

    patient_id: str | None
    by_date: dict[pd.Timestamp, tuple[LesionObs, ...]]
    #: Assessment dates, ascending.
    dates: list[pd.Timestamp] = field(init=False, repr=False, compare=False)
    #: Dates, ascending, at which a target or non-target lesion was assessed.
    disease_dates: list[pd.Timestamp] = field(init=False, repr=False, compare=False)
    #: `dates` and `disease_dates` as day numbers (`day_number`), for integer searches.
    days: list[int] = field(init=False, repr=False, compare=False)
    disease_days: list[int] = field(init=False, repr=False, compare=False)
    #: `DateRows` of every date, in the order of `dates`.
    date_rows: list[DateRows] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Derive the date lists once (every course of the patient searches them)."""
        self._set_derived(
            [day_number(d) for d in self.by_date],
            [any(o.role != "new" for o in obs) for obs in self.by_date.values()],
            [_date_rows(rows) for rows in self.by_date.values()],
        )

    @classmethod
    def from_columns(
        cls,
        patient_id: str,
        by_date: dict[pd.Timestamp, tuple[LesionObs, ...]],
        days: list[int],
        disease: list[bool],
        date_rows: list[DateRows],
    ) -> PatientLesions:
        """The same object from lists computed column-wise for a whole table (`_slice_groups`),
        without deriving them again row by row: `days` are the day numbers of the dates,
        `disease` whether a target or non-target lesion was assessed, in date order."""
        made = object.__new__(cls)
        object.__setattr__(made, "patient_id", patient_id)
        object.__setattr__(made, "by_date", by_date)
        made._set_derived(days, disease, date_rows)
        return made

    def _set_derived(self, days: list[int], disease: list[bool], date_rows: list[DateRows]) -> None:
        """Store the derived lists from day numbers and disease flags in date order."""
        dates = list(self.by_date)
        values = {
            "dates": dates,
            "disease_dates": [d for d, flag in zip(dates, disease, strict=True) if flag],
            "days": days,
            "disease_days": [d for d, flag in zip(days, disease, strict=True) if flag],
            "date_rows": date_rows,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)


NS_PER_DAY = 86_400_000_000_000


def day_number(date: pd.Timestamp) -> int:
    """Whole days from 1970-01-01 to a date (midnight), exactly as `(date - epoch).days`."""
    return int(date.value // NS_PER_DAY)


def _grouped_observations(lesions: pd.DataFrame) -> dict[str, PatientLesions]:
    """Every row as an observation, grouped by patient and assessment date, built column-wise.

    The rows are sorted once by (patient, date), stable so that rows of one date keep their
    order, and each group is a slice of one list. Sizes become exact lengths once per distinct
    value and dates are boxed once per distinct day, so millions of rows convert in seconds.
    """
    patient_codes, patients = pd.factorize(lesions["patient_id"].astype(str))
    day_codes, days = pd.factorize(pd.to_datetime(lesions["assessment_date"]).dt.normalize())
    day_rank = np.argsort(np.argsort(days.to_numpy()))  # day code -> position in time
    order = np.lexsort((day_rank[day_codes], patient_codes))
    sizes = pd.to_numeric(lesions["size_mm"], errors="coerce").astype(float).to_numpy()[order]
    exact = {v: to_um(v) for v in pd.unique(sizes[~np.isnan(sizes)]).tolist()}
    status = lesions["status"].astype(object).where(lesions["status"].notna(), None)
    nodal = lesions["lymph_node"].astype("boolean").fillna(False).astype(bool)
    observations = list(
        map(
            LesionObs,
            lesions["lesion_id"].astype(str).to_numpy()[order].tolist(),
            lesions["role"].astype(str).to_numpy()[order].tolist(),
            lesions["organ"].astype(str).to_numpy()[order].tolist(),
            nodal.to_numpy()[order].tolist(),
            [exact.get(v) for v in sizes.tolist()],  # NaN (blank) is not a key: None
            status.to_numpy()[order].tolist(),
            lesions["source_row"].astype(int).to_numpy()[order].tolist(),
        )
    )
    roles = lesions["role"].astype(str).to_numpy()[order]
    rows = lesions["source_row"].astype(int).to_numpy()[order]
    return _slice_groups(
        observations, patient_codes[order], day_codes[order], patients, days, roles, rows
    )


def _slice_groups(
    observations: list[LesionObs],
    patient_codes: np.ndarray,
    day_codes: np.ndarray,
    patients: pd.Index,
    days: pd.Index,
    roles: np.ndarray,
    source_rows: np.ndarray,
) -> dict[str, PatientLesions]:
    """Cut the sorted observations into patients and, within each, assessment dates.

    Per date, the day number, whether a target or non-target lesion was assessed and the
    sorted source rows are computed for all dates at once (numpy), not per patient.
    """
    n = len(observations)
    new_patient = np.flatnonzero(np.diff(patient_codes, prepend=-1) != 0).tolist()
    starts = np.flatnonzero(
        (np.diff(patient_codes, prepend=-1) != 0) | (np.diff(day_codes, prepend=-1) != 0)
    )
    new_date = starts.tolist()
    day_of = [pd.Timestamp(d) for d in days]
    numbers = [day_number(d) for d in day_of]  # day code -> day number
    group_day = [numbers[c] for c in day_codes[starts].tolist()]
    disease = np.logical_or.reduceat(roles != "new", starts).tolist() if n else []
    group = np.repeat(np.arange(len(new_date)), np.diff([*new_date, n]))
    sorted_rows = source_rows[np.lexsort((source_rows, group))].tolist()
    date_starts = [*new_date, n]
    out: dict[str, PatientLesions] = {}
    g = 0
    for p, first in enumerate(new_patient):
        last = new_patient[p + 1] if p + 1 < len(new_patient) else n
        by_date: dict[pd.Timestamp, tuple[LesionObs, ...]] = {}
        date_rows: list[DateRows] = []
        first_group = g
        while date_starts[g] < last:
            start, stop = date_starts[g], date_starts[g + 1]
            rows = tuple(observations[start:stop])
            by_date[day_of[day_codes[start]]] = rows
            date_rows.append(
                DateRows(rows, tuple(sorted_rows[start:stop]), {o.lesion_id: o for o in rows})
            )
            g += 1
        pid = str(patients[patient_codes[first]])
        out[pid] = PatientLesions.from_columns(
            pid, by_date, group_day[first_group:g], disease[first_group:g], date_rows
        )
    return out


YES_NO = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}


def as_model_frame(lesions: pd.DataFrame) -> pd.DataFrame:
    """Lesion rows in the documented CSV format as the engine reads them (typed frames pass).

    Dates given as YYYY-MM-DD text become dates, `lymph_node` yes/no (true/false, 1/0) text
    becomes booleans, sizes become numbers, and without a `source_row` column the rows are
    numbered as a spreadsheet shows them (header row 1, first data row 2). A value that does
    not convert raises `ValueError` naming the column: validate whole studies with
    `rechallenge validate`, which names every bad cell.
    """
    out = lesions
    if "source_row" not in out.columns:
        out = out.assign(source_row=range(2, len(out) + 2))
    if "assessment_date" in out.columns and not pd.api.types.is_datetime64_any_dtype(
        out["assessment_date"]
    ):
        out = out.assign(assessment_date=pd.to_datetime(out["assessment_date"], format="ISO8601"))
    if "lymph_node" in out.columns and not pd.api.types.is_bool_dtype(out["lymph_node"]):
        out = out.assign(lymph_node=out["lymph_node"].map(_yes_no).astype("boolean"))
    if "size_mm" in out.columns and not pd.api.types.is_numeric_dtype(out["size_mm"]):
        out = out.assign(size_mm=pd.to_numeric(out["size_mm"]))
    return out


def _yes_no(value: object) -> bool | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if value is pd.NA:
        return None
    answer = YES_NO.get(str(value).strip().lower())
    if answer is None:
        raise ValueError(f"lymph_node: {value!r} is not yes or no")
    return answer


def patient_lesions(lesions: pd.DataFrame) -> PatientLesions:
    """Check one patient's lesion rows (documented format, `as_model_frame`), group by date."""
    lesions = as_model_frame(lesions)
    _validate(lesions)
    if lesions.empty:
        return PatientLesions(None, {})
    return next(iter(_grouped_observations(lesions).values()))


def check_lesion_table(lesions: pd.DataFrame) -> None:
    """Reject a lesions table no response can be derived from: every bad row named at once
    (`DataValidationError`; a missing column is a `ValueError`)."""
    missing = [c for c in REQUIRED_COLUMNS if c not in lesions.columns]
    if missing:
        raise ValueError(f"lesions table lacks columns: {', '.join(missing)}")
    _check_rows(lesions)


def lesions_by_patient(lesions: pd.DataFrame) -> dict[str, PatientLesions]:
    """Check a whole lesions table once and group it by patient and date (one pass)."""
    check_lesion_table(lesions)
    return _grouped_observations(lesions) if len(lesions) else {}


def prepare_course(
    lesions: pd.DataFrame | PatientLesions,
    course_start: pd.Timestamp,
    course_end: pd.Timestamp | None,
    settings: RecistSettings,
) -> PreparedCourse:
    """Validate the rows, pick the baseline, check it and group the follow-up assessments.

    Raises `DataValidationError` (every problem listed) for rows no response can be derived
    from, and `ValueError` for a table that is not the lesion rows of one patient.
    """
    data = lesions if isinstance(lesions, PatientLesions) else patient_lesions(lesions)
    start = pd.Timestamp(course_start).normalize()
    end = None if _blank(course_end) else pd.Timestamp(course_end).normalize()
    course = PreparedCourse(data.patient_id, start, None, (), (), ())
    dates, disease_dates = data.dates, data.disease_dates
    # searches run on day numbers (ints compare far faster than Timestamps); same positions
    start_day = day_number(start)
    end_day = None if end is None else day_number(end)
    days, disease_days = data.days, data.disease_days
    earliest = start_day - settings.baseline_window_days
    in_window = bisect_left(disease_days, earliest)
    last_candidate = bisect_right(disease_days, start_day)
    candidates = disease_dates[in_window:last_candidate]
    if not candidates:
        before = disease_dates[:in_window]
        if before:
            course.warn(
                "BASELINE_OUTSIDE_WINDOW",
                f"the last assessment before the course start is more than "
                f"{settings.baseline_window_days} days before it; no baseline",
                [o.row for o in data.by_date[before[-1]]],
                [before[-1]],
            )
        elif _disease_in_course(disease_dates, start, end):
            course.reject(
                "BASELINE_AFTER_START",
                "the course's first tumour assessment is after its start: there is no "
                "baseline on or before the first dose (bad-inputs D6); add the baseline scan "
                "or correct the assessment or treatment dates",
                [o.row for d in dates for o in data.by_date[d]],
            )
        elif dates:
            course.warn(
                "NO_BASELINE",
                "no target or non-target lesion assessed on or before the course start",
                [o.row for d in dates for o in data.by_date[d]],
            )
        return course
    course.baseline_date = candidates[-1]
    _check_pre_baseline(course, data, earliest, disease_days[last_candidate - 1])
    _set_baseline(course, list(data.by_date[candidates[-1]]))
    first = bisect_right(days, start_day)
    stop = len(dates) if end_day is None else bisect_left(days, end_day)
    date_rows = data.date_rows
    course.followups = tuple(
        Assessment(dates[i], days[i] - start_day, *date_rows[i]) for i in range(first, stop)
    )
    if end_day is not None:
        before_end = bisect_left(disease_days, end_day)
        last = disease_days[before_end - 1] if before_end else None
        window = settings.baseline_window_days
        if last is not None and last > start_day and end_day - last <= window:
            course.next_baseline = disease_dates[before_end - 1]
    return course


def _disease_in_course(
    disease_dates: list[pd.Timestamp], start: pd.Timestamp, end: pd.Timestamp | None
) -> bool:
    """True when a target or non-target lesion is assessed after `start` within the course."""
    after = disease_dates[bisect_right(disease_dates, start) :]
    return bool(after) and (end is None or after[0] < end)


def _check_pre_baseline(
    course: PreparedCourse, data: PatientLesions, earliest: int, baseline: int
) -> None:
    """Rows inside the baseline window but before the baseline date are not used: say so.

    `earliest` and `baseline` are day numbers (`day_number`).
    """
    days = data.days
    window = data.dates[bisect_left(days, earliest) : bisect_left(days, baseline)]
    early = [o.row for d in window for o in data.by_date[d]]
    if early:
        course.warn(
            "PRE_BASELINE_ROWS_IGNORED",
            "rows in the baseline window before the baseline assessment are not used",
            early,
        )


def _organ_key(obs: LesionObs) -> str:
    """Organ for the 2-per-organ rule: all lymph nodes count as one organ (EORTC FAQ)."""
    return NODE_ORGAN if obs.nodal else obs.organ


def _is_measurable(obs: LesionObs) -> bool:
    """R1.1 §3.1.1 on CT: non-nodal LD >= 10 mm; node short axis >= 15 mm."""
    if obs.size is None:
        return False
    return obs.size >= (MEASURABLE_NODE_UM if obs.nodal else MEASURABLE_NON_NODAL_UM)


def _set_baseline(course: PreparedCourse, rows: list[LesionObs]) -> None:
    """Fix the course's target and non-target sets and check them (bad-inputs R2, R3)."""
    targets = [o for o in rows if o.role == "target"]
    unmeasured = [o for o in targets if o.size is None]
    if unmeasured:
        course.reject(
            "BASELINE_TARGET_UNMEASURED",
            "target lesion without a baseline size (a target must be measured at baseline; "
            "record it as non_target if it cannot be)",
            [o.row for o in unmeasured],
        )
    targets = [o for o in targets if o.size is not None]
    non_targets = [o for o in rows if o.role == "non_target"] + unmeasured
    new = [o for o in rows if o.role == "new"]
    if new:
        course.warn(
            "NEW_LESION_AT_BASELINE",
            "lesions labelled new at the baseline assessment are not part of the lesion set",
            [o.row for o in new],
        )
    if len(targets) > MAX_TARGETS:
        course.reject(
            "TOO_MANY_TARGETS",
            f"{len(targets)} target lesions at baseline; RECIST 1.1 allows {MAX_TARGETS}: "
            "record the others as non_target",
            [o.row for o in targets],
        )
    per_organ: dict[str, int] = {}
    for o in targets:
        key = _organ_key(o)
        per_organ[key] = per_organ.get(key, 0) + 1
    for organ, n in sorted(per_organ.items()):
        if n > MAX_TARGETS_PER_ORGAN:
            course.reject(
                "TOO_MANY_TARGETS_IN_ORGAN",
                f"{n} target lesions in organ '{organ}'; RECIST 1.1 allows "
                f"{MAX_TARGETS_PER_ORGAN} per organ (all nodes count as one organ)",
                [o.row for o in targets if _organ_key(o) == organ],
            )
    small = [o for o in targets if not _is_measurable(o)]
    if small:
        course.reject(
            "NON_MEASURABLE_TARGET",
            "target lesion below the measurable size at baseline (non-nodal < 10 mm, "
            "node short axis < 15 mm): record it as non_target, or correct the size",
            [o.row for o in small],
        )
    if not targets and non_targets:
        course.warn(
            "NO_MEASURABLE_DISEASE",
            "no target lesion at baseline: non-target-only disease (no CR/PR/SD by sums)",
            [o.row for o in non_targets],
        )
    course.targets = tuple(targets)
    course.non_targets = tuple(non_targets)


def check_target_set(course: PreparedCourse, counted: Sequence[Timepoint]) -> None:
    """Target sets are fixed at baseline (R1.1 §3.2; bad-inputs R4).

    A baseline lesion with another role, or a target / non-target row of a lesion not in the
    baseline, is an error at an assessment that counts for the course (up to the last
    counted time point); later rows are not used, which a warning says. The next course's
    baseline scan (the last one before the next line, within the baseline window) is read
    with that course's lesion set, so its roles may differ.
    """
    baseline = {o.lesion_id: o.role for o in (*course.targets, *course.non_targets)}
    last = counted[-1].assessment_date if counted else None
    found: dict[tuple[str, bool], list[int]] = {}
    for a in course.followups:
        # the next course's baseline scan sets that course's lesion set: roles may change
        used = last is not None and a.date <= last and a.date != course.next_baseline
        for o in a.rows:
            if o.lesion_id in baseline and o.role != baseline[o.lesion_id]:
                found.setdefault(("ROLE_CHANGED", used), []).append(o.row)
            elif o.lesion_id not in baseline and o.role != "new":
                found.setdefault(("LESION_NOT_AT_BASELINE", used), []).append(o.row)
    messages = {
        "ROLE_CHANGED": "a baseline lesion has another role at follow-up (target sets are "
        "fixed at baseline: keep its baseline role)",
        "LESION_NOT_AT_BASELINE": "a lesion not in the baseline set is labelled target or "
        "non_target at follow-up (a lesion appearing later is role new)",
    }
    for (code, used), rows in found.items():
        if used:
            course.reject(code, messages[code], rows)
        else:
            course.warn(
                code,
                f"{messages[code]}; after the course's last counted assessment, so not used",
                rows,
            )


# --- rules at one assessment ---------------------------------------------------------------


def target_value(obs: LesionObs | None, settings: RecistSettings) -> Length | None:
    """Value of one target lesion in the sum (recist-1.1.md §2.1); None = not evaluable.

    A measured size is used as is (nodes: short axis, even below 10 mm); a lesion marked
    'absent' without a size counts 0; 'present' without a size is NE or 5 mm per settings.
    """
    if obs is None:
        return None
    if obs.size is not None:
        return obs.size
    if obs.status == "absent":
        return 0
    if obs.status == "present" and settings.unmeasured_present_target == "too_small":
        return TOO_SMALL_TO_MEASURE_UM
    return None


@dataclass(frozen=True)
class TargetResult:
    """Target response at one assessment, with the sum used and review flags."""

    response: Response
    sod: Length
    complete: bool
    flags: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[Response, Length, bool]:
        """(response, sum of diameters, every target measured)."""
        return self.response, self.sod, self.complete


def target_response(
    values: Sequence[Length | None],
    nodal: Sequence[bool],
    baseline_sod: Length,
    nadir_sod: Length,
    settings: RecistSettings,
    *,
    previous_overall_cr: bool = False,
) -> TargetResult:
    """Target-lesion response at one assessment (recist-1.1.md §3; first match wins).

    1. NE if a target is not evaluable, unless the measured ones already give PD (§7).
    2. CR: every non-nodal target 0 and every nodal target < 10 mm (a rise of the sum from
       tiny nodes is flagged, and CR kept unless `node_cr_with_sod_increase='pd'`).
    3. PD: sum >= +20 % and >= +5 mm versus the nadir; or a non-nodal target reappearing after
       an overall CR (when `reappearance_after_cr_is_pd`).
    4. PR: sum >= 30 % below baseline.  5. SD otherwise.
    """
    known = [v for v in values if v is not None]
    sod = sum(known, 0)
    progression = meets_pd(nadir_sod, sod)
    if len(known) < len(values):
        if settings.missing_target_rule == "lower_bound_pd" and progression:
            return TargetResult(Response.PD, sod, False, ("pd_with_missing_targets",))
        return TargetResult(Response.NE, sod, False)
    pairs = list(zip(known, nodal, strict=True))  # every value is known here
    # CR: every non-nodal target 0 and every node below 10 mm (one pass over the targets)
    if all(v < NODE_NORMAL_BELOW_UM if n else v == 0 for v, n in pairs):
        if progression and any(nodal):
            if settings.node_cr_with_sod_increase == "pd":
                return TargetResult(Response.PD, sod, True, ("cr_with_sod_increase",))
            return TargetResult(Response.CR, sod, True, ("cr_with_sod_increase",))
        return TargetResult(Response.CR, sod, True)
    if progression:
        return TargetResult(Response.PD, sod, True)
    if (
        settings.reappearance_after_cr_is_pd
        and previous_overall_cr
        and any(v > 0 for v, n in pairs if not n)
    ):
        return TargetResult(Response.PD, sod, True, ("reappearance_after_cr",))
    if meets_pr(baseline_sod, sod):
        return TargetResult(Response.PR, sod, True)
    return TargetResult(Response.SD, sod, True)


def assess_targets(
    targets: Sequence[LesionObs],
    rows: dict[str, LesionObs],
    baseline_sod: Length,
    nadir_sod: Length,
    settings: RecistSettings,
    previous_overall_cr: bool,
) -> tuple[TargetResult | None, int]:
    """Target response at one assessment (None without targets) and how many were measured."""
    if not targets:
        return None, 0
    values = [target_value(rows.get(t.lesion_id), settings) for t in targets]
    result = target_response(
        values,
        [t.nodal for t in targets],
        baseline_sod,
        nadir_sod,
        settings,
        previous_overall_cr=previous_overall_cr,
    )
    return result, sum(v is not None for v in values)


DerivedSource = Literal["recist", "irecist"]  # CourseResponse.source of a derived response
NonTargetState = Literal["progression", "absent", "present", "not_assessed"]


def non_target_state(obs: LesionObs | None) -> NonTargetState:
    """State of one non-target lesion at follow-up (recist-1.1.md §4).

    'progression' only from an explicit reader flag; 'absent' for status absent, size 0, or a
    node whose short axis is < 10 mm (non-pathological); 'equivocal' counts as present; no row,
    or neither status nor size, is 'not_assessed'.
    """
    if obs is None:
        return "not_assessed"
    if obs.status == "progression":
        return "progression"
    if obs.status == "absent":
        return "absent"
    if obs.size is not None:
        if obs.size == 0 or (obs.nodal and obs.size < NODE_NORMAL_BELOW_UM):
            return "absent"
        return "present"
    if obs.status in ("present", "equivocal"):
        return "present"
    return "not_assessed"


def non_target_response(states: Sequence[NonTargetState]) -> Response | None:
    """Non-target response (R1.1 §4.3.2): PD > NE > CR (all absent) > NON-CR/NON-PD.

    None when the course has no non-target lesions.
    """
    if not states:
        return None
    if "progression" in states:
        return Response.PD
    if "not_assessed" in states:
        return Response.NE
    if all(s == "absent" for s in states):
        return Response.CR
    return Response.NON_CR_NON_PD


def overall_response(
    target: Response | None, non_target: Response | None, new_lesions: NewLesion
) -> Response:
    """Overall time-point response (R1.1 Tables 1 and 2; recist-1.1.md §6).

    `target` None = no target lesions (non-target-only disease); `non_target` None = no
    non-target lesions (read as CR). An equivocal new lesion is not PD here.
    """
    if new_lesions == NewLesion.YES or Response.PD in (target, non_target):
        return Response.PD
    if target is None:
        if non_target is None:
            return Response.NE
        return non_target
    nt = Response.CR if non_target is None else non_target
    if target == Response.CR:
        return Response.CR if nt == Response.CR else Response.PR
    return target


def new_lesion_finding(
    assessment: Assessment, baseline_ids: set[str], settings: RecistSettings, confirmed: set[str]
) -> tuple[NewLesion, tuple[int, ...]]:
    """New-lesion finding at one assessment and the rows behind it (recist-1.1.md §5).

    A row with role 'new' (of a lesion not in the baseline set) is a new lesion unless its
    status is 'absent'; status 'equivocal' is equivocal (see `equivocal_new_lesion`), or
    unequivocal when the same lesion is unequivocal later and back-dating is on (`confirmed`).
    """
    unequivocal: list[int] = []
    equivocal: list[int] = []
    for o in assessment.rows:
        if o.role != "new" or o.lesion_id in baseline_ids or o.status == "absent":
            continue
        if o.status == "equivocal":
            if settings.equivocal_new_lesion == "progression" or o.lesion_id in confirmed:
                unequivocal.append(o.row)
            else:
                equivocal.append(o.row)
        else:
            unequivocal.append(o.row)
    if unequivocal:
        return NewLesion.YES, tuple(unequivocal)
    if equivocal:
        return NewLesion.EQUIVOCAL, tuple(equivocal)
    return NewLesion.NO, ()


def _later_confirmed_equivocal(course: PreparedCourse) -> set[str]:
    """New lesions seen first as equivocal and later as unequivocal (back-dating candidates)."""
    baseline_ids = {o.lesion_id for o in (*course.targets, *course.non_targets)}
    seen_equivocal: set[str] = set()
    confirmed: set[str] = set()
    for a in course.followups:
        for o in a.rows:
            if o.role != "new" or o.lesion_id in baseline_ids:
                continue
            if o.status == "equivocal":
                seen_equivocal.add(o.lesion_id)
            elif o.status != "absent" and o.lesion_id in seen_equivocal:
                confirmed.add(o.lesion_id)
    return confirmed


# --- the course ----------------------------------------------------------------------------


def bor_rules(settings: RecistSettings) -> BorRules:
    """The BOR parameters from the settings."""
    return BorRules(
        sd_min_days=settings.sd_min_days,
        confirmation_min_days=settings.confirmation_min_days,
        max_ne_between=settings.max_ne_between,
        accept_sd_between=settings.accept_sd_between,
    )


def _float(value: Length | None) -> float | None:
    return None if value is None else as_mm(value)


def _recist_timepoints(course: PreparedCourse, settings: RecistSettings) -> list[Timepoint]:
    """Time-point responses of the follow-up assessments up to and including the first PD."""
    baseline_ids = {o.lesion_id for o in (*course.targets, *course.non_targets)}
    confirmed = set()
    if settings.equivocal_new_lesion == "backdate":
        confirmed = _later_confirmed_equivocal(course)
    baseline_sod = course.baseline_sod
    nadir = baseline_sod
    last_evaluable: Response | None = None
    out: list[Timepoint] = []
    for a in course.followups:
        rows = a.ids
        tr, measured = assess_targets(
            course.targets, rows, baseline_sod, nadir, settings, last_evaluable == Response.CR
        )
        target, sod, complete = (None, None, False) if tr is None else tr.fields
        if tr is not None and tr.flags:
            _flag_target(course, a, tr)
        states = [non_target_state(rows.get(n.lesion_id)) for n in course.non_targets]
        non_target = non_target_response(states)
        new, new_rows = new_lesion_finding(a, baseline_ids, settings, confirmed)
        overall = overall_response(target, non_target, new)
        note = ""
        if new_rows and any(
            o.lesion_id in confirmed and o.status == "equivocal"
            for o in a.rows
            if o.row in new_rows
        ):
            note = "equivocal new lesion confirmed later: progression dated here"
            course.warn(
                "EQUIVOCAL_NEW_LESION_BACKDATED",
                f"equivocal new lesion on day {a.day} confirmed later; progression dated to it",
                new_rows,
                [a.date],
            )
        if last_evaluable == Response.CR and overall in (Response.PR, Response.SD):
            course.warn(
                "WORSE_AFTER_CR",
                f"{overall} after an overall CR on day {a.day} (R1.1 Table 3 note)",
                a.source_rows,
                [a.date],
            )
            if settings.pr_after_cr == "progression":
                overall = Response.PD
                note = "PR/SD after CR treated as progression"
        out.append(
            Timepoint(
                assessment_date=a.date,
                day=a.day,
                overall=overall,
                label=overall,
                target=target,
                non_target=non_target,
                new_lesions=new,
                sod_mm=_float(sod),
                targets_measured=measured,
                targets_total=len(course.targets),
                nadir_mm=_float(nadir) if course.targets else None,
                pct_change_baseline=pct_change(baseline_sod, sod)
                if complete and sod is not None
                else None,
                pct_change_nadir=pct_change(nadir, sod) if complete and sod is not None else None,
                note=note,
                source_rows=a.source_rows,
            )
        )
        if overall == Response.PD:
            break
        if complete and sod is not None:
            nadir = min(nadir, sod)
        if overall != Response.NE:
            last_evaluable = overall
    return out


def _flag_target(course: PreparedCourse, a: Assessment, tr: TargetResult) -> None:
    """Turn the review flags of a target response into warnings naming the rows."""
    messages = {
        "cr_with_sod_increase": "target CR (nodes < 10 mm) although the sum rose >= 20 % and "
        "+5 mm from the nadir; please review",
        "reappearance_after_cr": "a target lesion reappeared after an overall CR: PD although "
        "the sum rose by less than 5 mm; please review",
        "pd_with_missing_targets": "targets not all measured, but the measured ones already "
        "meet PD",
    }
    for flag in tr.flags:
        course.warn(flag.upper(), f"day {a.day}: {messages[flag]}", a.source_rows, [a.date])


def _apply_continued_pr(points: list[Timepoint], settings: RecistSettings) -> list[Timepoint]:
    """Label literal SD as PR after an established PR (EORTC FAQ), if `continued_pr`."""
    if not settings.continued_pr:
        return points
    sequence = [(p.day, p.overall) for p in points]
    established_at: int | None = None
    for i, (_, tpr) in enumerate(sequence):
        if tpr not in (Response.PR, Response.CR):
            continue
        if settings.confirmation:
            j, _ = confirming_index(sequence, i, RECIST_SCALE, bor_rules(settings))
            if j is not None:
                established_at = j
                break
        else:
            established_at = i
            break
    if established_at is None:
        return points
    out = list(points)
    for k in range(established_at + 1, len(points)):
        p = points[k]
        if p.overall == Response.SD and p.target == Response.SD:
            out[k] = _replace_label(p, Response.PR, "continued PR (EORTC FAQ)")
    return out


def _replace_label(point: Timepoint, label: Response, note: str) -> Timepoint:
    return replace(point, label=label, note="; ".join(n for n in (point.note, note) if n))


def missing_response(
    course: PreparedCourse, settings: RecistSettings, source: DerivedSource
) -> CourseResponse:
    """The course result when no baseline could be set: BOR MISSING, with the warnings."""
    return CourseResponse(
        bor=Response.MISSING,
        bor_confirmed=Response.MISSING,
        progression_date=None,
        best_pct_change=None,
        warnings=tuple(course.warnings),
        source=source,
        confirmation_required=settings.confirmation,
        baseline_date=course.baseline_date,
        baseline_sod_mm=as_mm(course.baseline_sod) if course.targets else None,
    )


def course_response(
    course: PreparedCourse,
    settings: RecistSettings,
    counted: Sequence[Timepoint],
    bors: tuple[BorResult, BorResult],
    progression_date: pd.Timestamp | None,
    source: DerivedSource,
) -> CourseResponse:
    """The course result from its counted time points, BORs (unconfirmed, confirmed) and
    progression date; shared by RECIST 1.1 and iRECIST."""
    unconfirmed, confirmed = bors
    return CourseResponse(
        bor=unconfirmed.response,
        bor_confirmed=confirmed.response,
        progression_date=progression_date,
        best_pct_change=best_pct_change(counted),
        timepoints=tuple(counted),
        warnings=tuple(course.warnings),
        source=source,
        confirmation_required=settings.confirmation,
        baseline_date=course.baseline_date,
        baseline_sod_mm=as_mm(course.baseline_sod) if course.targets else None,
        assessments_after_progression=len(course.followups) - len(counted),
    )


def best_pct_change(points: Sequence[Timepoint]) -> float | None:
    """Most negative % change of the target sum from baseline, over the given time points at
    which every target was measured (None if there is none)."""
    changes = [p.pct_change_baseline for p in points if p.pct_change_baseline is not None]
    return min(changes) if changes else None


def best_responses(
    course: PreparedCourse,
    counted: Sequence[Timepoint],
    scale: ResponseScale,
    settings: RecistSettings,
    responders: str,
) -> tuple[BorResult, BorResult]:
    """BOR without and with confirmation over the counted time points (RECIST or iRECIST).

    Warns when a response would be confirmed but too many NE assessments lie between.
    """
    sequence = [(p.day, p.overall) for p in counted]
    rules = bor_rules(settings)
    unconfirmed = bor_unconfirmed(sequence, scale, rules)
    confirmed = bor_confirmed(sequence, scale, rules)
    if "confirmation_blocked_by_ne" in confirmed.flags:
        course.warn(
            "CONFIRMATION_BLOCKED_BY_NE",
            f"{responders} would be confirmed but more than {settings.max_ne_between} NE "
            "assessment(s) lie between",
            [r for p in counted for r in p.source_rows],
        )
    return unconfirmed, confirmed


def evaluate_recist_course(
    lesions_one_patient: pd.DataFrame | PatientLesions,
    course_start: pd.Timestamp,
    course_end: pd.Timestamp | None = None,
    settings: RecistSettings | None = None,
) -> CourseResponse:
    """RECIST 1.1 response of one course (`rules.response.evaluate_course` picks the criterion).

    `lesions_one_patient` holds the lesion rows of one patient in the data-model format
    (`source_row` optional), or the same rows grouped by `patient_lesions`; assessments after
    `course_start` and before `course_end` (exclusive; None = open) are the course's
    follow-up. Steps (docs/rules-recist.md): baseline and its checks; per assessment the sum
    of diameters, target / non-target / new-lesion and overall response; back-dating of
    confirmed equivocal new lesions; the assessments up to and including the first PD count;
    the target set checked over them; BOR unconfirmed and confirmed; progression date; best
    % change.
    """
    settings = settings or RecistSettings()
    course = prepare_course(lesions_one_patient, course_start, course_end, settings)
    if course.baseline_date is None:
        return missing_response(course, settings, "recist")
    counted = _apply_continued_pr(_recist_timepoints(course, settings), settings)
    check_target_set(course, counted)
    progression = next((p for p in counted if p.overall == Response.PD), None)
    if not counted:
        course.warn("NO_FOLLOW_UP", "no assessment after the course start: BOR is MISSING")
    bors = best_responses(course, counted, RECIST_SCALE, settings, "a CR/PR")
    date = None if progression is None else progression.assessment_date
    return course_response(course, settings, counted, bors, date, "recist")
