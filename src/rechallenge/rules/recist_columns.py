"""RECIST 1.1 responses of every course of a study at once, computed column-wise.

`evaluate_plain_courses` gives the same `CourseResponse` as `evaluate_recist_course` for the
courses whose data need none of the engine's special handling, and names the patients it
leaves to the per-course engine (`rules.recist`). The exact arithmetic is the same: sizes are
integer micrometres, sums are exact, and the PR / PD rules are compared without division.

What it computes with grouped numpy and pandas, for all courses together
(docs/rules-recist.md, "Column-wise engine"):

1. the baseline of each course (the last target / non-target assessment in the baseline
   window) and its lesion set;
2. per (course, follow-up assessment): the target sum over the measured targets, how many
   were measured, the CR test, the non-target state and whether a new lesion appeared;
3. the nadir before each assessment as a shifted grouped cumulative minimum of the complete
   sums, and from it the PD rule; the target and overall responses;
4. the cut at the first PD.

A patient goes to the per-course engine when any of their courses is unusual, i.e. would
raise a warning or take a branch that depends on more than one assessment at a time:

* no baseline, rows before the baseline inside its window, new lesions at baseline, a
  baseline target without a size, non-measurable, too many (per organ) or no targets;
* a follow-up row whose lesion has another role than at baseline, or a target / non-target
  row of a lesion not in the baseline set (anywhere in the course window);
* an equivocal new lesion, a size finer than 1 µm;
* among the counted assessments: PD from a lower bound with targets missing, CR of nodes
  with a rising sum, anything but CR after an overall CR (reappearance, PR or SD);
* no follow-up assessment, or a confirmation blocked by NE assessments.

Courses of the remaining patients produce no warning in the per-course engine either, so
the results are the same object for object (tested on the example and synthetic cohorts,
and on every fixture of the rule tests, `tests/rules/test_recist_columns.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise

import numpy as np
import pandas as pd

from rechallenge.rules.recist import (
    NS_PER_DAY,
    RecistSettings,
    _apply_continued_pr,
    best_pct_change,
    bor_rules,
)
from rechallenge.rules.response_common import (
    MAX_TARGETS,
    MAX_TARGETS_PER_ORGAN,
    MEASURABLE_NODE_UM,
    MEASURABLE_NON_NODAL_UM,
    NODE_NORMAL_BELOW_UM,
    PD_MIN_ABSOLUTE_UM,
    PD_MIN_INCREASE,
    PR_MIN_DECREASE,
    RECIST_SCALE,
    TOO_SMALL_TO_MEASURE_UM,
    CourseResponse,
    NewLesion,
    Response,
    Timepoint,
    as_mm,
    bor_confirmed,
    bor_unconfirmed,
    to_um,
)

__all__ = ["PlainCourses", "evaluate_plain_courses"]

# Response codes in the arrays (index into CODES); NONE = no non-target lesions.
CR, PR, SD, NON_CR_NON_PD, PD, NE, NONE = range(7)
RESPONSES: tuple[Response, ...] = (
    Response.CR,
    Response.PR,
    Response.SD,
    Response.NON_CR_NON_PD,
    Response.PD,
    Response.NE,
)
CODES: tuple[Response | None, ...] = (*RESPONSES, None)
NO_SIZE = -1  # a blank size in the integer-µm column (sizes are never negative: validated)


@dataclass(frozen=True)
class PlainCourses:
    """Responses of the courses computed column-wise, and the patients left to the engine."""

    responses: dict[tuple[str, str], CourseResponse]  # (patient_id, course) -> response
    unusual: frozenset[str]  # patients whose courses the per-course engine must evaluate


def evaluate_plain_courses(
    lesions: pd.DataFrame, courses: pd.DataFrame, settings: RecistSettings
) -> PlainCourses:
    """RECIST 1.1 responses of the plain courses of `courses`, from checked lesion rows.

    `lesions`: the study's lesion rows, already checked (`recist._check_rows`).
    `courses`: one row per course with columns patient_id, course (its name), start and end
    (the next line's start; NaT = open). Patients without lesion rows are not evaluated.
    iRECIST is not computed here: every patient with lesions is then left to the engine.
    """
    if not len(lesions):
        return PlainCourses({}, frozenset())
    rows = _lesion_columns(lesions)
    if settings.criterion != "recist1.1" or not len(courses):
        return PlainCourses({}, frozenset(rows.patients))
    unusual = set(rows.unusual_patients)
    table = _course_frame(courses, rows)
    table, baseline = _baselines(table, rows, settings, unusual)
    points = _follow_up_points(table, baseline, rows, settings, unusual)
    responses = _course_results(table, points, rows, settings, unusual)
    return PlainCourses(responses, frozenset(unusual))


# --- the lesion rows as integer columns ---------------------------------------------------


@dataclass(frozen=True)
class LesionColumns:
    """The lesion rows sorted by (patient, date, source row), as integer codes and arrays."""

    patients: list[str]  # patient code -> patient id
    dates: list[pd.Timestamp]  # date code -> date (boxed as the per-course engine boxes it)
    frame: pd.DataFrame  # one row per lesion row, sorted; integer and boolean columns
    date_slices: pd.DataFrame  # one row per (patient, day): first row, row count, disease
    source_rows: list[int]  # source rows in sorted order
    unusual_patients: frozenset[str]  # equivocal new lesions, sizes finer than 1 µm


def _lesion_columns(lesions: pd.DataFrame) -> LesionColumns:
    """Integer codes for patients, dates, lesions, roles and organs; exact sizes in µm."""
    patient_codes, patients = pd.factorize(lesions["patient_id"].astype(str))
    date_codes, dates = pd.factorize(pd.to_datetime(lesions["assessment_date"]).dt.normalize())
    stamps = [pd.Timestamp(d) for d in dates]
    day_of_code = np.array([d.value // NS_PER_DAY for d in stamps], dtype=np.int64)
    um, fine = _exact_sizes(pd.to_numeric(lesions["size_mm"], errors="coerce"))
    status = lesions["status"].astype(object)
    role = pd.Categorical(lesions["role"].astype(str), categories=ROLE_CODES).codes
    frame = pd.DataFrame(
        {
            "patient": patient_codes.astype(np.int64),
            "day": day_of_code[date_codes],
            "date": date_codes.astype(np.int64),
            "lesion": pd.factorize(lesions["lesion_id"].astype(str))[0].astype(np.int64),
            "role": role.astype(np.int64),
            "organ": pd.factorize(lesions["organ"].astype(str))[0].astype(np.int64),
            "nodal": lesions["lymph_node"].astype("boolean").fillna(False).to_numpy(dtype=bool),
            "size": um,
            "absent": (status == "absent").to_numpy(dtype=bool),
            "present": (status == "present").to_numpy(dtype=bool),
            "progression": (status == "progression").to_numpy(dtype=bool),
            "equivocal": (status == "equivocal").to_numpy(dtype=bool),
            "row": lesions["source_row"].astype(np.int64).to_numpy(),
        }
    )
    odd = fine | ((frame["role"].to_numpy() == NEW) & frame["equivocal"].to_numpy())
    unusual = frozenset(str(patients[c]) for c in np.unique(patient_codes[odd]).tolist())
    frame = frame.sort_values(["patient", "day", "row"], kind="stable", ignore_index=True)
    # all lymph nodes count as one organ for the 2-per-organ rule (EORTC FAQ)
    frame["organ_key"] = np.where(frame["nodal"].to_numpy(), -1, frame["organ"].to_numpy())
    return LesionColumns(
        [str(p) for p in patients],
        stamps,
        frame,
        _date_slices(frame),
        frame["row"].tolist(),
        unusual,
    )


ROLE_CODES = ["target", "non_target", "new"]
TARGET, NON_TARGET, NEW = range(3)


def _exact_sizes(sizes: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Sizes as integer µm (`to_um`, once per distinct value; blank = NO_SIZE) and a mask of
    the sizes finer than 1 µm (an exact fraction: left to the per-course engine)."""
    values = sizes.astype(float).to_numpy()
    known = ~np.isnan(values)
    um = np.full(len(values), NO_SIZE, dtype=np.int64)
    fine = np.zeros(len(values), dtype=bool)
    distinct = pd.unique(values[known])
    if len(distinct):
        exact = [to_um(v) for v in distinct.tolist()]
        is_fine = np.array([isinstance(x, Fraction) for x in exact], dtype=bool)
        whole = np.array([0 if f else int(x) for x, f in zip(exact, is_fine, strict=True)])
        index = pd.Index(distinct).get_indexer(values[known])
        um[known] = whole[index]
        fine[known] = is_fine[index]
    return um, fine


def _date_slices(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (patient, day) of the sorted rows: where its rows start, how many, and
    whether a target or non-target lesion was assessed (a disease assessment)."""
    patient = frame["patient"].to_numpy()
    day = frame["day"].to_numpy()
    change = np.ones(len(frame), dtype=bool)
    change[1:] = (patient[1:] != patient[:-1]) | (day[1:] != day[:-1])
    starts = np.flatnonzero(change)
    disease = np.logical_or.reduceat(frame["role"].to_numpy() != NEW, starts)
    return pd.DataFrame(
        {
            "patient": patient[starts],
            "day": day[starts],
            "date": frame["date"].to_numpy()[starts],
            "first": starts,
            "count": np.diff(np.append(starts, len(frame))),
            "disease": disease,
        }
    )


# --- courses and baselines ----------------------------------------------------------------

_OPEN = np.iinfo(np.int64).max  # no date: an open end (and a course without a start)


def _course_frame(courses: pd.DataFrame, rows: LesionColumns) -> pd.DataFrame:
    """The courses of patients with lesion rows, with patient codes and day numbers."""
    code = pd.Series(np.arange(len(rows.patients)), index=pd.Index(rows.patients))
    pid = courses["patient_id"].astype(str)
    table = pd.DataFrame(
        {
            "patient_id": pid.to_numpy(),
            "course": courses["course"].to_numpy(),
            "patient": pid.map(code).to_numpy(),
            "start": _day_numbers(courses["start"]),
            "end": _day_numbers(courses["end"]),
        }
    )
    table = table[table["patient"].notna() & (table["start"] != _OPEN)]
    table = table.astype({"patient": np.int64}).reset_index(drop=True)
    table["course_id"] = np.arange(len(table))
    return table


def _day_numbers(dates: pd.Series) -> np.ndarray:
    """Day numbers of the dates (as `recist.day_number` of the normalised date); NaT = _OPEN."""
    values = pd.to_datetime(dates)
    out = np.full(len(values), _OPEN, dtype=np.int64)
    known = values.notna().to_numpy()
    nanos = values[known].dt.normalize().astype("datetime64[ns]").astype(np.int64).to_numpy()
    out[known] = nanos // NS_PER_DAY
    return out


def _baselines(
    table: pd.DataFrame, rows: LesionColumns, settings: RecistSettings, unusual: set[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The baseline day and sum of each course, and its lesion set (one row per lesion).

    Marks as unusual the patients with a course without baseline, with rows before the
    baseline inside its window, or with a baseline the front checks would warn about.
    """
    dates = rows.date_slices
    window = table[["course_id", "patient", "start"]].merge(dates, on="patient")
    earliest = window["start"] - settings.baseline_window_days
    in_window = window[(window["day"] >= earliest) & (window["day"] <= window["start"])]
    chosen = in_window[in_window["disease"]].groupby("course_id")["day"].max()
    table = table.assign(baseline=table["course_id"].map(chosen))
    _mark(unusual, table, table["baseline"].isna())
    early = in_window[in_window["day"] < in_window["course_id"].map(chosen)]
    _mark(unusual, table, table["course_id"].isin(early["course_id"]))
    table = table[table["baseline"].notna()].astype({"baseline": np.int64})
    slices = table[["course_id", "patient", "baseline"]].merge(
        dates, left_on=["patient", "baseline"], right_on=["patient", "day"]
    )
    baseline = _expand(slices, rows.frame)
    _mark(unusual, table, table["course_id"].isin(_bad_baselines(baseline)))
    targets = baseline[baseline["role"] == TARGET]
    sums = targets.groupby("course_id")["size"].sum()
    table = table.assign(
        baseline_sod=table["course_id"].map(sums).fillna(0).astype(np.int64),
        baseline_date=table["course_id"].map(slices.set_index("course_id")["date"]),
    ).astype({"baseline_date": np.int64})
    return table.reset_index(drop=True), baseline


def _expand(slices: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """The lesion rows of each (course, date) slice, with the slice's course id."""
    counts = slices["count"].to_numpy()
    starts = np.cumsum(counts) - counts
    positions = np.repeat(slices["first"].to_numpy() - starts, counts) + np.arange(counts.sum())
    out = frame.iloc[positions].reset_index(drop=True)
    out["course_id"] = np.repeat(slices["course_id"].to_numpy(), counts)
    return out


def _bad_baselines(baseline: pd.DataFrame) -> np.ndarray:
    """Courses whose baseline the front checks would warn about or reject (bad-inputs R2, R3):
    a new lesion, a target unmeasured or below the measurable size, no target, too many."""
    role = baseline["role"].to_numpy()
    target = role == TARGET
    threshold = np.where(baseline["nodal"].to_numpy(), MEASURABLE_NODE_UM, MEASURABLE_NON_NODAL_UM)
    flags = pd.DataFrame(
        {
            "course_id": baseline["course_id"].to_numpy(),
            "new": role == NEW,
            "target": target,
            "bad_target": target & (baseline["size"].to_numpy() < threshold),  # blank: -1
        }
    )
    per_course = flags.groupby("course_id").agg(
        new=("new", "any"), targets=("target", "sum"), bad_target=("bad_target", "any")
    )
    bad = (
        per_course["new"]
        | per_course["bad_target"]
        | (per_course["targets"] == 0)
        | (per_course["targets"] > MAX_TARGETS)
    )
    per_organ = baseline[target].groupby(["course_id", "organ_key"]).size()
    crowded = per_organ[per_organ > MAX_TARGETS_PER_ORGAN].index.get_level_values("course_id")
    return np.union1d(per_course.index[bad].to_numpy(), crowded.to_numpy())


def _mark(unusual: set[str], table: pd.DataFrame, mask: pd.Series | np.ndarray) -> None:
    """Add the patients of the masked courses to the unusual ones."""
    unusual.update(table.loc[np.asarray(mask, dtype=bool), "patient_id"].tolist())


# --- time points ----------------------------------------------------------------------------


def _follow_up_points(
    table: pd.DataFrame,
    baseline: pd.DataFrame,
    rows: LesionColumns,
    settings: RecistSettings,
    unusual: set[str],
) -> pd.DataFrame:
    """One row per (course, follow-up assessment), in date order, with every response."""
    window = table[["course_id", "patient", "start", "end"]].merge(rows.date_slices, on="patient")
    follow = window[(window["day"] > window["start"]) & (window["day"] < window["end"])]
    follow = follow.sort_values(["course_id", "day"], ignore_index=True)
    follow["point"] = np.arange(len(follow))
    _mark(unusual, table, ~table["course_id"].isin(follow["course_id"]))
    observed = _expand(follow[["course_id", "first", "count"]], rows.frame)
    observed["point"] = np.repeat(follow["point"].to_numpy(), follow["count"].to_numpy())
    lesion_set = baseline[["course_id", "lesion", "role"]].rename(columns={"role": "base_role"})
    observed = observed.merge(lesion_set, on=["course_id", "lesion"], how="left")
    in_set = observed["base_role"].notna().to_numpy()
    role = observed["role"].to_numpy()
    base_role = observed["base_role"].fillna(-1).to_numpy(dtype=np.int64)
    # target sets are fixed at baseline (R1.1 §3.2): any other role in the window is unusual
    mismatch = np.where(in_set, role != base_role, role != NEW)
    _mark(unusual, table, table["course_id"].isin(observed.loc[mismatch, "course_id"]))
    observed = observed.assign(base_role=base_role)
    points = follow[["course_id", "point", "day", "date", "first", "count"]]
    points = points.join(_target_columns(follow, baseline, observed, settings), on="point")
    points = points.join(_non_target_columns(follow, baseline, observed), on="point")
    new = observed[~in_set & (role == NEW) & ~observed["absent"].to_numpy()]
    # courses without targets are unusual already: their blank columns are only filled
    points = points.fillna(
        {
            "measured": 0,
            "total": 0,
            "sod": 0,
            "normal": False,
            "any_nodal": False,
            "grown": False,
            "non_target": NONE,
        }
    )
    points = points.assign(new=points["point"].isin(new["point"]).to_numpy())
    return _sequence(points, table, settings, unusual)


def _target_columns(
    follow: pd.DataFrame, baseline: pd.DataFrame, observed: pd.DataFrame, settings: RecistSettings
) -> pd.DataFrame:
    """Per point: targets measured and in all, the exact sum of the measured ones, the CR
    test (non-nodal 0, nodes < 10 mm), any nodal target, and a non-nodal target above 0.

    A target's value follows `recist.target_value`: its size; 0 when absent without a size;
    5 mm when present without a size and the settings say 'too_small'; else not evaluable.
    """
    base = baseline.loc[baseline["role"] == TARGET, ["course_id", "lesion", "nodal"]]
    grid = follow[["course_id", "point"]].merge(base, on="course_id")
    seen = observed.loc[
        observed["base_role"] == TARGET, ["point", "lesion", "size", "absent", "present"]
    ]
    grid = grid.merge(seen, on=["point", "lesion"], how="left")
    value = grid["size"].fillna(NO_SIZE).to_numpy(dtype=np.int64, copy=True)
    blank = value == NO_SIZE
    value[blank & grid["absent"].fillna(False).to_numpy(dtype=bool)] = 0
    if settings.unmeasured_present_target == "too_small":
        present = grid["present"].fillna(False).to_numpy(dtype=bool)
        value[blank & present] = TOO_SMALL_TO_MEASURE_UM
    known = value != NO_SIZE
    nodal = grid["nodal"].to_numpy(dtype=bool)
    normal = known & np.where(nodal, value < NODE_NORMAL_BELOW_UM, value == 0)
    per = pd.DataFrame(
        {
            "point": grid["point"].to_numpy(),
            "measured": known.astype(np.int64),
            "sod": np.where(known, value, 0),
            "normal": normal,
            "nodal": nodal,
            "grown": known & ~nodal & (value > 0),
        }
    )
    return per.groupby("point").agg(
        measured=("measured", "sum"),
        total=("measured", "size"),
        sod=("sod", "sum"),
        normal=("normal", "all"),
        any_nodal=("nodal", "any"),
        grown=("grown", "any"),
    )


def _non_target_columns(
    follow: pd.DataFrame, baseline: pd.DataFrame, observed: pd.DataFrame
) -> pd.DataFrame:
    """Per point: the non-target response code (`recist.non_target_state` and
    `non_target_response`: PD > NE > CR when all absent > NON-CR/NON-PD)."""
    base = baseline.loc[baseline["role"] == NON_TARGET, ["course_id", "lesion"]]
    grid = follow[["course_id", "point"]].merge(base, on="course_id")
    columns = ["size", "nodal", "absent", "present", "progression", "equivocal"]
    seen = observed.loc[observed["base_role"] == NON_TARGET, ["point", "lesion", *columns]]
    grid = grid.merge(seen.assign(row=True), on=["point", "lesion"], how="left")
    flag = {c: grid[c].fillna(False).to_numpy(dtype=bool) for c in [*columns[1:], "row"]}
    size = grid["size"].fillna(NO_SIZE).to_numpy(dtype=np.int64)
    sized = size != NO_SIZE
    small = sized & ((size == 0) | (flag["nodal"] & (size < NODE_NORMAL_BELOW_UM)))
    progression = flag["row"] & flag["progression"]
    absent = flag["row"] & ~progression & (flag["absent"] | small)
    present = flag["row"] & ~progression & ~absent & (sized | flag["present"] | flag["equivocal"])
    per = (
        pd.DataFrame(
            {
                "point": grid["point"].to_numpy(),
                "progression": progression,
                "not_assessed": ~(progression | absent | present),
                "absent": absent,
            }
        )
        .groupby("point")
        .agg(
            progression=("progression", "any"),
            not_assessed=("not_assessed", "any"),
            absent=("absent", "all"),
        )
    )
    code = np.select(
        [per["progression"].to_numpy(), per["not_assessed"].to_numpy(), per["absent"].to_numpy()],
        [PD, NE, CR],
        NON_CR_NON_PD,
    )
    return pd.DataFrame({"non_target": code}, index=per.index)


def _sequence(
    points: pd.DataFrame, table: pd.DataFrame, settings: RecistSettings, unusual: set[str]
) -> pd.DataFrame:
    """Nadir, target and overall responses along each course; `counted` up to the first PD.

    The nadir before an assessment is the smallest of the baseline sum and the complete sums
    before it (a shifted grouped cumulative minimum); the assessments after the first PD
    are not counted, so what they would have changed does not matter.
    """
    course = points["course_id"].to_numpy()
    first = np.ones(len(points), dtype=bool)
    first[1:] = course[1:] != course[:-1]
    base = table.set_index("course_id")["baseline_sod"].reindex(course).to_numpy()
    sod = points["sod"].to_numpy(dtype=np.int64)
    complete = points["measured"].to_numpy() == points["total"].to_numpy()
    running = pd.Series(np.where(complete, sod, _OPEN)).groupby(course).cummin().to_numpy()
    before = np.roll(running, 1)
    before[first] = _OPEN
    nadir = np.minimum(base, before)
    increase = sod - nadir
    progression = (increase * PD_MIN_INCREASE.denominator >= PD_MIN_INCREASE.numerator * nadir) & (
        increase >= PD_MIN_ABSOLUTE_UM
    )
    partial = (base - sod) * PR_MIN_DECREASE.denominator >= PR_MIN_DECREASE.numerator * base
    normal = points["normal"].to_numpy(dtype=bool)
    target = np.select([~complete, normal, progression, partial], [NE, CR, PD, PR], SD)
    non_target = points["non_target"].to_numpy()
    new = points["new"].to_numpy(dtype=bool)
    overall = np.where(
        new | (target == PD) | (non_target == PD),
        PD,
        np.where(target == CR, np.where(np.isin(non_target, (CR, NONE)), CR, PR), target),
    )
    evaluable = pd.Series(np.where(overall != NE, overall, np.nan))
    last = evaluable.groupby(course).ffill().to_numpy()
    previous_cr = np.roll(last, 1) == CR
    previous_cr[first] = False
    is_pd = (overall == PD).astype(np.int64)
    counted = (pd.Series(is_pd).groupby(course).cumsum().to_numpy() - is_pd) == 0
    odd = (
        (~complete & progression & (settings.missing_target_rule == "lower_bound_pd"))
        | (complete & normal & progression & points["any_nodal"].to_numpy(dtype=bool))
        | (
            previous_cr
            & complete
            & ~normal
            & ~progression
            & points["grown"].to_numpy(dtype=bool)
            & settings.reappearance_after_cr_is_pd
        )
        | (previous_cr & np.isin(overall, (PR, SD)))
    ) & counted
    _mark(unusual, table, table["course_id"].isin(np.unique(course[odd])))
    return points.assign(
        nadir=nadir, complete=complete, target=target, overall=overall, counted=counted
    )


# --- course results -----------------------------------------------------------------------


def _course_results(
    table: pd.DataFrame,
    points: pd.DataFrame,
    rows: LesionColumns,
    settings: RecistSettings,
    unusual: set[str],
) -> dict[tuple[str, str], CourseResponse]:
    """The `CourseResponse` of every course of the patients not marked unusual.

    Courses without a CR or PR among their counted time points have no label to change
    (`continued_pr`) and the same BOR with and without confirmation: the best candidate by
    rank, SD and NON-CR/NON-PD before `sd_min_days` counting as NE; that is computed for all
    of them at once. The others go through the BOR functions of the per-course engine.
    """
    followups = np.bincount(
        points["course_id"].to_numpy(), minlength=int(table["course_id"].max()) + 1
    )
    plain = table[~table["patient_id"].isin(unusual)]
    counted = points[
        points["counted"].to_numpy() & points["course_id"].isin(plain["course_id"]).to_numpy()
    ]
    start = plain.set_index("course_id")["start"]
    counted = counted.assign(day_in_course=counted["day"] - counted["course_id"].map(start))
    if counted.empty:  # every course went to the per-course engine
        return {}
    course = counted["course_id"].to_numpy()
    bounds = np.flatnonzero(np.r_[True, course[1:] != course[:-1], True])
    simple = _simple_bor(counted, settings)
    # `plain` is in course-id order, as `counted`; every plain course has a counted point
    columns = _point_columns(counted, plain, rows)
    rules = bor_rules(settings)
    out: dict[tuple[str, str], CourseResponse] = {}
    blocked: set[str] = set()
    records = zip(
        plain["patient_id"].tolist(),
        plain["course"].tolist(),
        plain["baseline_sod"].tolist(),
        plain["baseline_date"].tolist(),
        followups[plain["course_id"].to_numpy()].tolist(),
        simple.reindex(plain["course_id"].to_numpy()).tolist(),
        pairwise(bounds.tolist()),
        strict=True,
    )
    for pid, name, baseline_sod, baseline_date, n_followups, bor, (lo, hi) in records:
        shown = [Timepoint(*point) for point in columns[lo:hi]]  # type: ignore[arg-type]
        if bor != bor:  # NaN: a CR or PR was seen, the per-course BOR functions decide
            shown = _apply_continued_pr(shown, settings)
            sequence = [(p.day, p.overall) for p in shown]
            confirmed_result = bor_confirmed(sequence, RECIST_SCALE, rules)
            if "confirmation_blocked_by_ne" in confirmed_result.flags:
                blocked.add(pid)
                continue
            unconfirmed = bor_unconfirmed(sequence, RECIST_SCALE, rules).response
            confirmed = confirmed_result.response
        else:
            unconfirmed = confirmed = RESPONSES[int(bor)]
        last = shown[-1]
        out[(pid, name)] = CourseResponse(
            bor=unconfirmed,
            bor_confirmed=confirmed,
            progression_date=last.assessment_date if last.overall == Response.PD else None,
            best_pct_change=best_pct_change(shown),
            timepoints=tuple(shown),
            warnings=(),
            source="recist",
            confirmation_required=settings.confirmation,
            baseline_date=rows.dates[baseline_date],
            baseline_sod_mm=as_mm(baseline_sod),
            assessments_after_progression=n_followups - len(shown),
        )
    unusual |= blocked
    return {key: value for key, value in out.items() if key[0] not in blocked}


def _simple_bor(counted: pd.DataFrame, settings: RecistSettings) -> pd.Series:
    """Per course without a CR or PR among the counted points, the BOR code (the same with
    and without confirmation); NaN for the courses with one."""
    overall = counted["overall"].to_numpy()
    early = counted["day_in_course"].to_numpy() < settings.sd_min_days
    candidate = np.where(np.isin(overall, (SD, NON_CR_NON_PD)) & early, NE, overall)
    frame = pd.DataFrame(
        {
            "course_id": counted["course_id"].to_numpy(),
            "candidate": candidate,  # codes are ranks: CR < PR < SD < NON-CR/NON-PD < PD < NE
            "responded": np.isin(overall, (CR, PR)),
        }
    ).groupby("course_id", sort=True)
    best = frame["candidate"].min().astype(float)
    return best.where(~frame["responded"].any())


def _point_columns(
    counted: pd.DataFrame, plain: pd.DataFrame, rows: LesionColumns
) -> list[tuple[object, ...]]:
    """The counted points as `Timepoint` field tuples (positional), in course and date order.

    Millimetres and percentages are computed here for all points: an integer µm sum below
    2^53 is exact in a float, so `sum / 1000` and `100 * (sum - ref) / ref` round once,
    exactly as `as_mm` and `pct_change` do on the integers.
    """
    by_course = plain.set_index("course_id")
    base = counted["course_id"].map(by_course["baseline_sod"]).to_numpy(dtype=np.float64)
    sod = counted["sod"].to_numpy(dtype=np.float64)
    nadir = counted["nadir"].to_numpy(dtype=np.float64)
    complete = counted["complete"].to_numpy(dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        from_baseline = _or_none(100 * (sod - base) / base, complete)
        from_nadir = _or_none(100 * (sod - nadir) / nadir, complete & (nadir != 0))
    first = counted["first"].tolist()
    stop = (counted["first"] + counted["count"]).tolist()
    overall = [RESPONSES[c] for c in _ints(counted["overall"])]
    n = len(counted)
    return list(
        zip(
            [rows.dates[d] for d in _ints(counted["date"])],
            _ints(counted["day_in_course"]),
            overall,
            overall,
            [CODES[c] for c in _ints(counted["target"])],
            [CODES[c] for c in _ints(counted["non_target"])],
            [NEW_FINDING[c] for c in counted["new"].tolist()],
            (sod / 1000).tolist(),
            _ints(counted["measured"]),
            _ints(counted["total"]),
            (nadir / 1000).tolist(),
            from_baseline,
            from_nadir,
            [None] * n,  # new_lesion_sum_mm (iRECIST only)
            [()] * n,  # progressing (iRECIST only)
            [""] * n,  # note
            [tuple(rows.source_rows[a:b]) for a, b in zip(first, stop, strict=True)],
            strict=True,
        )
    )


def _ints(column: pd.Series) -> list[int]:
    """An integer column as Python ints (a column filled after a join may be float)."""
    return column.to_numpy(dtype=np.int64).tolist()


def _or_none(values: np.ndarray, keep: np.ndarray) -> list[float | None]:
    """The values where `keep`, None elsewhere, as a list."""
    return pd.Series(values).astype(object).where(keep, None).tolist()


NEW_FINDING = (NewLesion.NO, NewLesion.YES)
