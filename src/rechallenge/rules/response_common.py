"""Pieces shared by the RECIST 1.1 and iRECIST response engines.

Contents: the response categories, exact millimetre arithmetic, the RECIST 1.1 thresholds,
the per-assessment record, the course result (`CourseResponse`), structured warnings, the
best-overall-response (BOR) algorithms with and without confirmation, and the fall-back on the
investigator's own assessment (`investigator_response`, `reconcile`).

Sizes are exact lengths in micrometres (`Length`): an integer for any size written with up to
three decimals of a millimetre, an exact fraction beyond. Thresholds are integers in the same
unit and the percentage rules are compared without division (recist-1.1.md §3, "Arithmetic":
33 mm → 23.1 mm is exactly −30 %), so nearly all the arithmetic is on plain integers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from functools import cached_property, lru_cache
from typing import Literal

import pandas as pd

# --- thresholds (each with its source) ------------------------------------------------------

Length = int | Fraction  # an exact length in micrometres (int unless finer than 1 µm)
UM_PER_MM = 1000

PR_MIN_DECREASE = Fraction(30, 100)  # R1.1 §4.3.1: >= 30% decrease in SOD from baseline
PD_MIN_INCREASE = Fraction(20, 100)  # R1.1 §4.3.1: >= 20% increase in SOD from the nadir
PD_MIN_ABSOLUTE_UM = 5 * UM_PER_MM  # RECIST 1.1 §4.3.1: the increase must also be at least 5 mm
NODE_NORMAL_BELOW_UM = 10 * UM_PER_MM  # R1.1 §4.3.1: CR needs every target node < 10 mm SA
MEASURABLE_NON_NODAL_UM = 10 * UM_PER_MM  # R1.1 §3.1.1: non-nodal measurable if LD >= 10 mm
MEASURABLE_NODE_UM = 15 * UM_PER_MM  # RECIST 1.1 §3.1.1: a node is measurable if SA >= 15 mm
TOO_SMALL_TO_MEASURE_UM = 5 * UM_PER_MM  # R1.1 Appendix I / EORTC FAQ: faint lesion takes 5 mm
MAX_TARGETS = 5  # RECIST 1.1 §3.2: a maximum of 5 target lesions in total
MAX_TARGETS_PER_ORGAN = 2  # RECIST 1.1 §3.2: a maximum of 2 target lesions per organ
NODE_ORGAN = "lymph_node"  # EORTC FAQ: all lymph nodes together count as one organ


class Response(StrEnum):
    """A response category at one assessment or over a course (RECIST 1.1 and iRECIST)."""

    CR = "CR"
    PR = "PR"
    SD = "SD"
    NON_CR_NON_PD = "NON-CR/NON-PD"
    PD = "PD"
    NE = "NE"
    MISSING = "MISSING"
    ICR = "iCR"
    IPR = "iPR"
    ISD = "iSD"
    NON_ICR_NON_IUPD = "NON-iCR/NON-iUPD"
    IUPD = "iUPD"
    ICPD = "iCPD"

    @property
    def recist_equivalent(self) -> Response:
        """The RECIST 1.1 category this one corresponds to (iUPD and iCPD both map to PD)."""
        return _RECIST_EQUIVALENT.get(self, self)


_RECIST_EQUIVALENT: dict[Response, Response] = {
    Response.ICR: Response.CR,
    Response.IPR: Response.PR,
    Response.ISD: Response.SD,
    Response.NON_ICR_NON_IUPD: Response.NON_CR_NON_PD,
    Response.IUPD: Response.PD,
    Response.ICPD: Response.PD,
}


class NewLesion(StrEnum):
    """New-lesion finding at one assessment (RECIST 1.1 §4.3.3 and recist-1.1.md §5)."""

    NO = "no"
    EQUIVOCAL = "equivocal"
    YES = "yes"


# --- exact lengths --------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _exact_um(value_mm: float) -> Length:
    exact = Fraction(Decimal(repr(value_mm))) * UM_PER_MM
    return exact.numerator if exact.denominator == 1 else exact


def to_um(value_mm: float) -> Length:
    """The exact length a size in mm was written as, in micrometres (23.1 → 23100).

    Sizes repeat across lesions and patients, so the conversion is cached.
    """
    return _exact_um(float(value_mm))


def as_mm(length: Length) -> float:
    """A length in micrometres as millimetres (the nearest float, for output)."""
    return float(length / UM_PER_MM)


def meets_pr(baseline_sod: Length, current_sod: Length) -> bool:
    """RECIST 1.1 PR rule on sums: a decrease of at least 30 % versus the baseline sum."""
    # d >= (30/100)·b  <=>  100·d >= 30·b: the same rule on exact numbers, without division
    decrease = baseline_sod - current_sod
    return decrease * PR_MIN_DECREASE.denominator >= PR_MIN_DECREASE.numerator * baseline_sod


def meets_pd(nadir_sod: Length, current_sod: Length) -> bool:
    """RECIST 1.1 PD rule on sums: +20 % **and** +5 mm versus the nadir (both required)."""
    increase = current_sod - nadir_sod
    return (
        increase * PD_MIN_INCREASE.denominator >= PD_MIN_INCREASE.numerator * nadir_sod
        and increase >= PD_MIN_ABSOLUTE_UM
    )


def pct_change(reference: Length, current: Length) -> float | None:
    """Percentage change from `reference` (None when the reference is 0)."""
    if reference == 0:
        return None
    num = current.numerator * reference.denominator - reference.numerator * current.denominator
    return (100 * num) / (reference.numerator * current.denominator)  # exact ratio, rounded once


# --- warnings -------------------------------------------------------------------------------


Severity = Literal["warning", "error"]


@dataclass(frozen=True, slots=True)
class ResponseWarning:
    """A data-quality or review flag raised while deriving a response.

    `message` never contains patient identifiers or calendar dates; the offending lesion rows
    are named by `source_rows` (1-based spreadsheet rows). `render(show_ids=True)` adds the
    patient identifier and dates for the people allowed to see them.
    """

    code: str
    message: str
    source_rows: tuple[int, ...] = ()
    patient_id: str | None = field(default=None, compare=False, repr=False)
    dates: tuple[pd.Timestamp, ...] = field(default=(), compare=False, repr=False)
    severity: Severity = "warning"  # "error": the study is rejected (pipeline.load_validated)

    def render(self, show_ids: bool = False) -> str:
        """One readable line: code, message, rows (and identifiers only if `show_ids`)."""
        text = f"[{self.code}] {self.message}"
        if self.source_rows:
            text += f" (lesion rows {', '.join(str(r) for r in self.source_rows)})"
        if show_ids:
            if self.patient_id is not None:
                text += f" [patient {self.patient_id}]"
            if self.dates:
                text += f" [dates {', '.join(d.date().isoformat() for d in self.dates)}]"
        return text


# --- per-assessment record and course result -----------------------------------------------


@dataclass(frozen=True, slots=True)
class Timepoint:
    """The response at one follow-up assessment of a course.

    `overall` is the category used for the best overall response; `label` is the category to
    report for the time point (they differ only when `continued_pr` relabels a literal SD as PR
    after an established PR, or when an iUPD is later confirmed and shown as iCPD).
    Sizes are in mm, percentages in % (−30.0 = a 30 % decrease). `sod_mm` is a lower bound
    when `targets_measured < targets_total`.
    """

    assessment_date: pd.Timestamp
    day: int
    overall: Response
    label: Response
    target: Response | None
    non_target: Response | None
    new_lesions: NewLesion
    sod_mm: float | None
    targets_measured: int
    targets_total: int
    nadir_mm: float | None
    pct_change_baseline: float | None
    pct_change_nadir: float | None
    new_lesion_sum_mm: float | None = None
    progressing: tuple[str, ...] = ()
    note: str = ""
    source_rows: tuple[int, ...] = ()


Source = Literal["recist", "irecist", "investigator"]


@dataclass(frozen=True, slots=True)
class CourseResponse:
    """The response of one treatment course: immutable; `to_frame()` gives the time points.

    `bor` is the best overall response without confirmation, `bor_confirmed` with CR/PR
    confirmation; `best_response` picks the one the settings ask for. `progression_date` is the
    first documented progression (RECIST PD; iRECIST: the first iUPD of a confirmed sequence,
    or of an unconfirmed one when the settings say so). `best_pct_change` is the most negative
    percentage change of the target sum from baseline over the assessments that count for BOR
    (up to and including the first progression) at which every target was measured.
    `source` says where the result came from: lesion measurements or the investigator.
    """

    bor: Response
    bor_confirmed: Response
    progression_date: pd.Timestamp | None
    best_pct_change: float | None
    timepoints: tuple[Timepoint, ...] = ()
    warnings: tuple[ResponseWarning, ...] = ()
    source: Source = "recist"
    confirmation_required: bool = False
    baseline_date: pd.Timestamp | None = None
    baseline_sod_mm: float | None = None
    assessments_after_progression: int = 0

    @property
    def best_response(self) -> Response:
        """`bor_confirmed` when confirmation is required, else `bor`."""
        return self.bor_confirmed if self.confirmation_required else self.bor

    def to_frame(self) -> pd.DataFrame:
        """The time points as a table, one row per assessment, in date order."""
        columns = [f.name for f in fields(Timepoint)]
        rows = [{c: getattr(tp, c) for c in columns} for tp in self.timepoints]
        frame = pd.DataFrame(rows, columns=columns)
        for c in ("overall", "label", "target", "non_target", "new_lesions"):
            frame[c] = frame[c].map(lambda v: None if v is None else str(v))
        return frame


# --- best overall response ------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseScale:
    """The categories of one criterion, in the order used to pick the best response."""

    cr: Response
    pr: Response
    sd: Response
    non_cr_non_pd: Response
    progression: tuple[Response, ...]
    ne: Response = Response.NE

    @cached_property
    def order(self) -> tuple[Response, ...]:
        """Best first: CR > PR > SD > NON-CR/NON-PD > progression categories > NE."""
        return (self.cr, self.pr, self.sd, self.non_cr_non_pd, *self.progression, self.ne)

    @cached_property
    def _ranks(self) -> dict[Response, int]:
        return {response: i for i, response in enumerate(self.order)}

    def rank(self, response: Response) -> int:
        """Position in `order` (0 = best)."""
        return self._ranks[response]


RECIST_SCALE = ResponseScale(
    cr=Response.CR,
    pr=Response.PR,
    sd=Response.SD,
    non_cr_non_pd=Response.NON_CR_NON_PD,
    progression=(Response.PD,),
)
IRECIST_SCALE = ResponseScale(
    cr=Response.ICR,
    pr=Response.IPR,
    sd=Response.ISD,
    non_cr_non_pd=Response.NON_ICR_NON_IUPD,
    progression=(Response.IUPD, Response.ICPD),
)


@dataclass(frozen=True)
class BorRules:
    """The BOR parameters (recist-1.1.md §8.1)."""

    sd_min_days: int = 42
    confirmation_min_days: int = 28
    max_ne_between: int = 1
    accept_sd_between: bool = False


@dataclass(frozen=True)
class BorResult:
    """A best overall response and the index of the time point that gave it (None if none)."""

    response: Response
    index: int | None
    flags: tuple[str, ...] = ()


def _sd_window_met(day: int, rules: BorRules) -> bool:
    """RECIST 1.1 §4.4: SD counts only at or after the protocol minimum (inclusive)."""
    return day >= rules.sd_min_days


def _best(candidates: Sequence[Response], scale: ResponseScale) -> BorResult:
    """Best candidate by the scale order, ties to the earliest; MISSING when there are none."""
    if not candidates:
        return BorResult(Response.MISSING, None)
    ranks = [scale.rank(c) for c in candidates]
    index = ranks.index(min(ranks))  # the first of the best
    return BorResult(candidates[index], index)


def bor_unconfirmed(
    sequence: Sequence[tuple[int, Response]], scale: ResponseScale, rules: BorRules
) -> BorResult:
    """Best overall response without confirmation (recist-1.1.md §8.2).

    `sequence` holds (day since course start, time-point response) for the assessments that
    count (up to and including the first progression). CR and PR count at any date; SD and
    NON-CR/NON-PD only at or after `sd_min_days`, otherwise NE. No assessment → MISSING.
    """
    candidates = [
        scale.ne
        if tpr in (scale.sd, scale.non_cr_non_pd) and not _sd_window_met(day, rules)
        else tpr
        for day, tpr in sequence
    ]
    return _best(candidates, scale)


def _confirmation(j: int, n_ne: int, rules: BorRules) -> tuple[int | None, bool]:
    """(index of the confirming assessment or None, blocked only by too many NE)."""
    if n_ne <= rules.max_ne_between:
        return (j, False)
    return (None, True)


def confirming_index(
    sequence: Sequence[tuple[int, Response]], i: int, scale: ResponseScale, rules: BorRules
) -> tuple[int | None, bool]:
    """Where the CR or PR at position i is confirmed, and whether only NEs prevented it."""
    if sequence[i][1] == scale.cr:
        return _confirmed_cr(sequence, i, scale, rules)
    if sequence[i][1] == scale.pr:
        return _confirmed_pr(sequence, i, scale, rules)
    return (None, False)


def _confirmed_cr(
    sequence: Sequence[tuple[int, Response]], i: int, scale: ResponseScale, rules: BorRules
) -> tuple[int | None, bool]:
    """Confirmation of a CR at position i (R1.1 Table 3): a later CR >= the minimum apart,
    only CR or NE in between (at most `max_ne_between` NE)."""
    day1 = sequence[i][0]
    n_ne = 0
    for j in range(i + 1, len(sequence)):
        day2, tpr = sequence[j]
        if tpr == scale.cr and day2 - day1 >= rules.confirmation_min_days:
            return _confirmation(j, n_ne, rules)
        if tpr == scale.ne:
            n_ne += 1
        elif tpr != scale.cr:
            return (None, False)
    return (None, False)


def _confirmed_pr(
    sequence: Sequence[tuple[int, Response]], i: int, scale: ResponseScale, rules: BorRules
) -> tuple[int | None, bool]:
    """Confirmation of a PR at position i (R1.1 Table 3).

    The confirming assessment is PR or CR, at least `confirmation_min_days` later; the ones in
    between are CR, PR or NE (at most `max_ne_between` NE; one SD if `accept_sd_between`), and
    no PR may follow a CR inside the interval.
    """
    day1 = sequence[i][0]
    n_ne = n_sd = 0
    seen_cr = False
    for j in range(i + 1, len(sequence)):
        day2, tpr = sequence[j]
        if tpr == scale.pr and seen_cr:
            return (None, False)
        if tpr in (scale.pr, scale.cr) and day2 - day1 >= rules.confirmation_min_days:
            if n_sd > (1 if rules.accept_sd_between else 0):
                return (None, False)
            return _confirmation(j, n_ne, rules)
        if tpr == scale.cr:
            seen_cr = True
        elif tpr == scale.ne:
            n_ne += 1
        elif tpr == scale.sd:
            n_sd += 1
        elif tpr != scale.pr:
            return (None, False)
    return (None, False)


def bor_confirmed(
    sequence: Sequence[tuple[int, Response]], scale: ResponseScale, rules: BorRules
) -> BorResult:
    """Best overall response with CR/PR confirmation (recist-1.1.md §8.3, as admiralonco).

    Each time point yields a confirmed CR, a confirmed PR, SD (CR/PR/SD at or after the SD
    minimum), NON-CR/NON-PD (at or after the SD minimum), progression, or NE; the best wins,
    ties to the earliest. Flag ``confirmation_blocked_by_ne`` when a CR/PR would have been
    confirmed but for the number of NE assessments in between.
    """
    candidates: list[Response] = []
    flags: list[str] = []
    for i, (day, tpr) in enumerate(sequence):
        confirmed_at, blocked = confirming_index(sequence, i, scale, rules)
        if blocked:
            flags.append("confirmation_blocked_by_ne")
        if confirmed_at is not None:
            candidates.append(tpr)
        elif tpr in (scale.cr, scale.pr, scale.sd):
            candidates.append(scale.sd if _sd_window_met(day, rules) else scale.ne)
        elif tpr == scale.non_cr_non_pd:
            candidates.append(tpr if _sd_window_met(day, rules) else scale.ne)
        elif tpr in scale.progression:
            candidates.append(tpr)
        else:
            candidates.append(scale.ne)
    result = _best(candidates, scale)
    return BorResult(result.response, result.index, tuple(dict.fromkeys(flags)))


def worse_after_cr(sequence: Iterable[Response], scale: ResponseScale) -> bool:
    """True when a PR or SD follows a CR (R1.1 Table 3 note; bad-inputs R8): a data issue."""
    seen_cr = False
    for tpr in sequence:
        if tpr == scale.cr:
            seen_cr = True
        elif seen_cr and tpr in (scale.pr, scale.sd):
            return True
    return False


# --- investigator fall-back and reconciliation ---------------------------------------------

INVESTIGATOR_CATEGORIES: dict[str, Response] = {
    "CR": Response.CR,
    "PR": Response.PR,
    "SD": Response.SD,
    "PD": Response.PD,
    "NE": Response.NE,
}  # data-model.md, treatments.best_response: CR / PR / SD / PD / NE (case-insensitive)


def _is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return bool(value is pd.NaT) or (isinstance(value, str) and not value.strip())


def investigator_response(
    best_response: str | None, progression_date: pd.Timestamp | str | None
) -> CourseResponse:
    """The investigator's own assessment of a course, as a `CourseResponse`.

    `best_response` is one of CR / PR / SD / PD / NE (case-insensitive) or blank (→ MISSING);
    any other term is rejected (bad-inputs R6: map uncontrolled terms before calling). The
    investigator's category is taken as is for both `bor` and `bor_confirmed`.
    """
    if _is_blank(best_response):
        bor = Response.MISSING
    else:
        key = str(best_response).strip().upper()
        if key not in INVESTIGATOR_CATEGORIES:
            allowed = ", ".join(INVESTIGATOR_CATEGORIES)
            raise ValueError(f"unknown best_response term; expected one of {allowed} or blank")
        bor = INVESTIGATOR_CATEGORIES[key]
    date = None if _is_blank(progression_date) else pd.Timestamp(progression_date).normalize()
    return CourseResponse(
        bor=bor,
        bor_confirmed=bor,
        progression_date=date,
        best_pct_change=None,
        source="investigator",
    )


@dataclass(frozen=True)
class Disagreement:
    """The derived and the investigator's responses of a course differ.

    `fields` names what differs (``best_response``, ``progression_date``). `message` gives the
    categories and the difference in days, never the dates themselves.
    """

    fields: tuple[str, ...]
    derived_response: Response
    investigator_response: Response
    derived_progression_date: pd.Timestamp | None = field(repr=False)
    investigator_progression_date: pd.Timestamp | None = field(repr=False)
    message: str


def _has_result(response: CourseResponse | None) -> bool:
    return response is not None and (
        response.best_response != Response.MISSING or response.progression_date is not None
    )


def reconcile(
    derived: CourseResponse | None, investigator: CourseResponse | None
) -> tuple[CourseResponse, Disagreement | None]:
    """Keep the lesion-derived response; fall back on the investigator's when there is none.

    A `Disagreement` is returned when both exist and differ in best response (compared on the
    RECIST 1.1 scale, so iCPD and PD agree) or in progression date. When neither exists, the
    result is a MISSING response with source ``investigator``.
    """
    if not _has_result(derived):
        if investigator is not None:
            return investigator, None
        if derived is not None:
            return derived, None
        return investigator_response(None, None), None
    assert derived is not None
    if not _has_result(investigator):
        return derived, None
    assert investigator is not None
    differs: list[str] = []
    parts: list[str] = []
    d_bor = derived.best_response.recist_equivalent
    i_bor = investigator.best_response.recist_equivalent
    if d_bor != i_bor:
        differs.append("best_response")
        parts.append(f"best response derived {d_bor}, investigator {i_bor}")
    d_date, i_date = derived.progression_date, investigator.progression_date
    if d_date != i_date:
        differs.append("progression_date")
        if d_date is None or i_date is None:
            which = "investigator" if d_date is None else "derived"
            parts.append(f"progression only in the {which} assessment")
        else:
            parts.append(f"progression dates differ by {(i_date - d_date).days} days")
    if not differs:
        return derived, None
    return derived, Disagreement(
        fields=tuple(differs),
        derived_response=derived.best_response,
        investigator_response=investigator.best_response,
        derived_progression_date=d_date,
        investigator_progression_date=i_date,
        message="; ".join(parts),
    )
