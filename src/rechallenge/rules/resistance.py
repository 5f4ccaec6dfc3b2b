"""Resistance to PD-(L)1 blockade: classify one ICI course by a published definition.

Three definitions are available (``ResistanceSettings.definition``):

``schoenfeld2021``
    Acquired resistance in NSCLC (Schoenfeld et al., Ann Oncol 2021;32:1597), extended to the
    retrospective ``S21_strict`` profile of ``resistance-definitions.md`` §4: acquired resistance
    (AIR), primary resistance (PIR), durable stable disease, progression after discontinuation.
``sitc2020``
    SITC Immunotherapy Resistance Taskforce, anti-PD-1 monotherapy (Kluger et al., J Immunother
    Cancer 2020;8:e000398, Table 1).
``sitc2023_combination``
    SITC consensus for ICI + chemotherapy (Rizvi et al., J Immunother Cancer 2023;11:e005920,
    Table 3).

The public function takes plain values (`ResistanceInputs`) and returns an immutable
`ResistanceResult` whose ``reason`` cites the decisive values as day offsets from the first dose of
the course; calendar dates appear only when ``show_dates=True``.

Exception tree::

    ValueError
    └── ResistanceInputError   inconsistent course data (e.g. last dose before first dose)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from functools import lru_cache
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ResistanceClass",
    "ResistanceInputError",
    "ResistanceInputs",
    "ResistanceResult",
    "ResistanceSettings",
    "classify_resistance",
]

# resistance-definitions.md §0: default month = 365.25 / 12 = 30.4375 days.
MEAN_MONTH_DAYS = Fraction(36525, 1200)
# resistance-definitions.md §0: the "180-day" alternative, i.e. 1 month = 30 days.
THIRTY_DAY_MONTH_DAYS = Fraction(30)
# Schoenfeld 2021 criterion 3: progression within 6 months of the last anti-PD-(L)1 dose.
S21_WINDOW_MONTHS = 6
# Kluger 2020 Table 1: primary resistance needs >= 6 weeks (42 days) of drug exposure.
K20_PRIMARY_MIN_EXPOSURE_DAYS = 42
# Kluger 2020 Table 1: secondary resistance needs >= 6 months of drug exposure.
K20_SECONDARY_MIN_EXPOSURE_MONTHS = 6
# Kluger 2020 Table 1: stable disease for < 6 months is primary, > 6 months secondary.
K20_SD_MONTHS = 6
# Kluger 2020 (via secondary description): PD > 12 weeks (84 days) after stopping is not resistance.
K20_DISCONTINUATION_WINDOW_DAYS = 84
# Kluger 2020 Table 1: confirmatory scan >= 4 weeks (28 days) after the initial PD.
K20_CONFIRMATION_MIN_DAYS = 28
# Rizvi 2023 Table 3: primary resistance needs 6-8 weeks of exposure; 42 days = lower end.
R23_PRIMARY_MIN_EXPOSURE_DAYS = 42
# Rizvi 2023 Table 3: primary = PD <= 6 months from start; secondary = PD and exposure > 6 months.
R23_TIMING_MONTHS = 6
# Implementer convention (resistance-definitions.md §1): on-treatment grace of one q3w interval.
DEFAULT_DOSING_INTERVAL_DAYS = 21

RESPONSES = frozenset({"cr", "pr", "sd", "pd", "ne"})
OBJECTIVE_RESPONSES = frozenset({"cr", "pr"})
# data-model.md treatments.end_reason values that mean "stopped for toxicity" (Rizvi 2023 footnote).
TOXICITY_STOP_REASONS = frozenset({"toxicity", "irae", "marrow_suppression"})
ON_TREATMENT_STOP_REASONS = frozenset({"progression", "ongoing"})

MonthConvention = Literal["mean_month", "30_day", "calendar"]
Definition = Literal["schoenfeld2021", "sitc2020", "sitc2023_combination"]


class ResistanceClass(StrEnum):
    """Resistance phenotypes; each definition uses a subset (see docs/rules-resistance.md)."""

    ACQUIRED = "acquired resistance"
    PRIMARY = "primary resistance"
    SECONDARY = "secondary resistance"
    DURABLE_SD = "durable stable disease, unclassified"
    PROGRESSION_AFTER_DISCONTINUATION = "progression after discontinuation"
    UNCONFIRMED_PROGRESSION = "unconfirmed progression"
    NOT_DEFINED = "not defined"
    NO_PROGRESSION = "no progression"
    NOT_CLASSIFIABLE = "not classifiable"


class ResistanceInputError(ValueError):
    """The course data are inconsistent; the message names the fields, never their dates."""


class ResistanceSettings(BaseModel):
    """How resistance is classified. Every field is printed with the results."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    definition: Definition = Field(
        default="schoenfeld2021",
        description="Published definition: schoenfeld2021 (seed study), sitc2020 (Kluger 2020, "
        "anti-PD-1 monotherapy) or sitc2023_combination (Rizvi 2023, ICI + chemotherapy).",
    )
    month_convention: MonthConvention = Field(
        default="mean_month",
        description="How months become days: mean_month (1 month = 30.4375 days, so 6 months "
        "= 182.625 days), 30_day (6 months = 180 days) or calendar (date arithmetic).",
    )
    air_window_months: int = Field(
        default=S21_WINDOW_MONTHS,
        ge=1,
        description="Schoenfeld 2021: progression at most this many months after the last "
        "anti-PD-(L)1 dose counts as acquired resistance.",
    )
    dosing_interval_days: int = Field(
        default=DEFAULT_DOSING_INTERVAL_DAYS,
        ge=0,
        description="Schoenfeld 2021 sub-type: progression at most this many days after the last "
        "dose (or with end reason progression/ongoing) is 'on-treatment'.",
    )
    response_on_same_course: bool = Field(
        default=False,
        description="Schoenfeld 2021 on rechallenge: require the objective response on the "
        "classified course itself rather than on any earlier PD-(L)1 course.",
    )
    sitc_primary_min_exposure_days: int = Field(
        default=K20_PRIMARY_MIN_EXPOSURE_DAYS,
        ge=0,
        description="SITC 2020 and 2023: minimum drug exposure (days) for primary resistance.",
    )
    sitc_secondary_min_exposure_months: int = Field(
        default=K20_SECONDARY_MIN_EXPOSURE_MONTHS,
        ge=0,
        description="SITC 2020 (>=) and 2023 (>): drug exposure (months) for secondary resistance.",
    )
    sitc_sd_months: int = Field(
        default=K20_SD_MONTHS,
        ge=1,
        description="SITC 2020: stable disease lasting at least this many months counts as a "
        "response (exactly 6 months counts, per the reference default).",
    )
    sitc_discontinuation_window_days: int = Field(
        default=K20_DISCONTINUATION_WINDOW_DAYS,
        ge=0,
        description="SITC 2020: progression more than this many days after the last dose is "
        "'progression after discontinuation'.",
    )
    sitc_require_confirmation: bool = Field(
        default=True,
        description="SITC 2020: require a confirmatory scan (or rapid clinical progression).",
    )
    sitc_confirmation_min_days: int = Field(
        default=K20_CONFIRMATION_MIN_DAYS,
        ge=0,
        description="SITC 2020: minimum days from the first PD to the confirmatory scan.",
    )
    short_response_as_primary: bool = Field(
        default=False,
        description="SITC 2020: classify CR/PR followed by PD with exposure below the secondary "
        "minimum as primary resistance instead of not classifiable.",
    )
    sitc2023_timing_months: int = Field(
        default=R23_TIMING_MONTHS,
        ge=1,
        description="SITC 2023: months from first dose separating primary from secondary.",
    )
    exposure_add_days: int = Field(
        default=0,
        ge=0,
        description="Days added to last dose - first dose when deriving exposure (e.g. one "
        "dosing interval); default none.",
    )


@dataclass(frozen=True)
class ResistanceInputs:
    """The values of one ICI course needed to classify resistance.

    Dates are midnight-normalised timestamps (``None`` or NaT when unknown). ``best_response``
    is the course's best overall response in lowercase (cr/pr/sd/pd/ne) or ``None``.
    ``exposure_days`` overrides last dose - first dose when the caller knows the treatment
    duration better. ``prior_objective_response`` (CR/PR on an earlier PD-(L)1 course) and
    ``previous_pd1_last_dose`` (last anti-PD-(L)1 dose before this course) are used only for a
    rechallenge course (``course_kind="rechallenge"``).
    """

    first_dose: pd.Timestamp
    last_dose: pd.Timestamp | None = None
    end_reason: str | None = None
    best_response: str | None = None
    response_date: pd.Timestamp | None = None
    progression_date: pd.Timestamp | None = None
    progression_confirmed_date: pd.Timestamp | None = None
    rapid_clinical_progression: bool = False
    ongoing_at_progression: bool | None = None
    exposure_days: int | None = None
    course_kind: Literal["initial", "rechallenge"] = "initial"
    prior_objective_response: bool = False
    previous_pd1_last_dose: pd.Timestamp | None = None


@dataclass(frozen=True)
class ResistanceResult:
    """The class of one course under one definition, with the values that decided it.

    Day counts are from the course's first dose (``pfs_days``, ``exposure_days``) or from the
    last dose (``gap_days``). ``reason`` is privacy-safe unless dates were requested.
    """

    resistance_class: ResistanceClass
    definition: str
    reason: str
    subtype: str | None = None
    pfs_days: int | None = None
    exposure_days: int | None = None
    gap_days: int | None = None
    flags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """A flat record for a tidy table (one row per patient and course)."""
        return {
            "resistance_class": str(self.resistance_class),
            "subtype": self.subtype,
            "definition": self.definition,
            "pfs_days": self.pfs_days,
            "exposure_days": self.exposure_days,
            "gap_days": self.gap_days,
            "flags": ";".join(self.flags),
            "reason": self.reason,
        }


# --------------------------------------------------------------------------- month arithmetic


def _month_days(convention: MonthConvention) -> Fraction:
    return MEAN_MONTH_DAYS if convention == "mean_month" else THIRTY_DAY_MONTH_DAYS


def _compare_months(
    start: pd.Timestamp, end: pd.Timestamp, months: int, convention: MonthConvention
) -> int:
    """Sign of (end - start) minus `months` months: -1 shorter, 0 exactly, 1 longer."""
    if convention == "calendar":
        limit = start + pd.DateOffset(months=months)
        return int(end > limit) - int(end < limit)
    month = _month_days(convention)
    # days - months·(p/q) compared with 0 as days·q against months·p: exact, no fractions
    days, limit = (end - start).days * month.denominator, months * month.numerator
    return int(days > limit) - int(days < limit)


@lru_cache(maxsize=256)
def _month_text(months: int, convention: MonthConvention, op: str) -> str:
    """`months` and its whole-day equivalent, e.g. '6 months (<= 182 days; ...)'.

    `op` is how a day count relates to the limit: "<=", "<", ">=" or ">".
    """
    if convention == "calendar":
        return f"{months} calendar months"
    month = _month_days(convention)
    limit = months * month
    days = {
        "<=": math.floor(limit),
        "<": math.ceil(limit) - 1,
        ">=": math.ceil(limit),
        ">": math.floor(limit) + 1,
    }[op]
    sign = "<=" if op in ("<=", "<") else ">="
    return f"{months} months ({sign} {days} days; 1 month = {float(month):g} days)"


# --------------------------------------------------------------------------- shared derivations


def _opt(ts: pd.Timestamp | None) -> pd.Timestamp | None:
    if ts is None or pd.isna(ts):
        return None
    return pd.Timestamp(ts)


@dataclass(frozen=True)
class _Course:
    """Validated, normalised values of one course (private)."""

    definition: str
    first: pd.Timestamp
    last: pd.Timestamp | None
    pd_date: pd.Timestamp | None
    confirm: pd.Timestamp | None
    bor: str | None
    stop: str
    on_treatment_at_pd: bool
    exposure: int | None
    show_dates: bool
    inputs: ResistanceInputs
    # days from the first dose and from the last dose to progression (None without one);
    # computed once by `_prepare`, every definition reads them
    pfs: int | None = None
    gap: int | None = None

    @property
    def bor_text(self) -> str:
        return f"best response {self.bor.upper()}" if self.bor else "best response missing"

    def day(self, ts: pd.Timestamp) -> str:
        """A date as its day offset from the first dose; the ISO date only when asked."""
        offset = f"day {(ts - self.first).days}"
        return f"{offset} ({ts.date().isoformat()})" if self.show_dates else offset

    def result(
        self,
        cls: ResistanceClass,
        reason: str,
        subtype: str | None = None,
        flags: tuple[str, ...] = (),
    ) -> ResistanceResult:
        return ResistanceResult(
            resistance_class=cls,
            definition=self.definition,
            reason=reason,
            subtype=subtype,
            pfs_days=self.pfs,
            exposure_days=self.exposure,
            gap_days=self.gap,
            flags=flags,
        )


def _prepare(x: ResistanceInputs, s: ResistanceSettings, show_dates: bool) -> _Course:
    first = _opt(x.first_dose)
    if first is None:
        raise ResistanceInputError("first_dose is required to classify resistance")
    last = _opt(x.last_dose)
    pd_date = _opt(x.progression_date)
    confirm = _opt(x.progression_confirmed_date)
    previous = _opt(x.previous_pd1_last_dose)
    bor = x.best_response.strip().lower() if x.best_response else None
    if bor is not None and bor not in RESPONSES:
        raise ResistanceInputError(
            f"best_response {x.best_response!r} is not one of {sorted(RESPONSES)}"
        )
    if last is not None and last < first:
        raise ResistanceInputError("last_dose is before first_dose")
    if pd_date is not None and pd_date < first:
        raise ResistanceInputError("progression_date is before first_dose")
    if confirm is not None and (pd_date is None or confirm < pd_date):
        raise ResistanceInputError("progression_confirmed_date without an earlier progression_date")
    response = _opt(x.response_date)
    if response is not None and response < first:
        raise ResistanceInputError("response_date is before first_dose")
    if previous is not None and previous > first:
        raise ResistanceInputError("previous_pd1_last_dose is after first_dose")
    stop = (x.end_reason or "").strip().lower()
    on_treatment = bool(x.ongoing_at_progression) or stop in ON_TREATMENT_STOP_REASONS
    if pd_date is not None and (last is None or last >= pd_date):
        # Still dosing at progression: the last dose before progression is progression itself.
        last, on_treatment = pd_date, True
    exposure = x.exposure_days
    if exposure is None and last is not None:
        exposure = (last - first).days + s.exposure_add_days
    return _Course(
        s.definition,
        first,
        last,
        pd_date,
        confirm,
        bor,
        stop,
        on_treatment,
        exposure,
        show_dates,
        x,
        pfs=None if pd_date is None else (pd_date - first).days,
        gap=None if pd_date is None or last is None else (pd_date - last).days,
    )


# --------------------------------------------------------------------------- Schoenfeld 2021


def _schoenfeld(c: _Course, s: ResistanceSettings) -> ResistanceResult:
    if c.pd_date is None or c.pfs is None or c.gap is None or c.last is None:
        return c.result(ResistanceClass.NO_PROGRESSION, f"{c.bor_text}; no progression recorded")
    where = f"progression on {c.day(c.pd_date)}"
    rechallenge = c.inputs.course_kind == "rechallenge"
    own_response = c.bor in OBJECTIVE_RESPONSES
    earlier = rechallenge and c.inputs.prior_objective_response and not s.response_on_same_course
    window = _month_text(s.air_window_months, s.month_convention, "<=")
    if own_response or earlier:
        response = _opt(c.inputs.response_date)
        if not own_response:
            resp = f"{c.bor_text}; objective response on an earlier PD-(L)1 course"
        elif response is not None:
            resp = f"{c.bor_text} on {c.day(response)}"
        else:
            resp = c.bor_text
        after = (
            "while on treatment"
            if c.gap == 0 and c.on_treatment_at_pd
            else f"{c.gap} days after the last dose on {c.day(c.last)}"
        )
        if _compare_months(c.last, c.pd_date, s.air_window_months, s.month_convention) > 0:
            return c.result(
                ResistanceClass.PROGRESSION_AFTER_DISCONTINUATION,
                f"{resp}; {where}, {after}, beyond the {window} window",
            )
        previous = _opt(c.inputs.previous_pd1_last_dose)
        if (
            rechallenge
            and previous is not None
            and _compare_months(previous, c.first, s.air_window_months, s.month_convention) > 0
        ):
            subtype = "on rechallenge"
            detail = (
                f"{subtype}: {(c.first - previous).days} days without anti-PD-(L)1 before this "
                "course"
            )
        elif c.on_treatment_at_pd or c.gap <= s.dosing_interval_days:
            subtype = detail = "on-treatment"
        else:
            subtype = detail = "off-treatment"
        return c.result(
            ResistanceClass.ACQUIRED,
            f"{resp}; {where}, {after}, within the {window} window ({detail})",
            subtype=subtype,
            flags=() if own_response else ("response_on_earlier_course",),
        )
    if c.bor == "pd":
        return c.result(ResistanceClass.PRIMARY, f"{c.bor_text}; {where}; no objective response")
    if c.bor == "sd":
        since_start = _month_text(s.air_window_months, s.month_convention, "<=")
        if _compare_months(c.first, c.pd_date, s.air_window_months, s.month_convention) <= 0:
            return c.result(
                ResistanceClass.PRIMARY,
                f"{c.bor_text}; {where}, within {since_start} of the first dose",
            )
        return c.result(
            ResistanceClass.DURABLE_SD,
            f"{c.bor_text}; {where}, later than "
            f"{_month_text(s.air_window_months, s.month_convention, '>')} after the first dose; "
            "stable disease does not qualify for acquired resistance",
        )
    return c.result(
        ResistanceClass.NOT_CLASSIFIABLE, f"{c.bor_text}; {where}; response not evaluable"
    )


# --------------------------------------------------------------------------- SITC 2020


def _exposure_cmp(c: _Course, exposure: int, months: int, s: ResistanceSettings) -> int:
    return _compare_months(
        c.first, c.first + pd.Timedelta(days=exposure), months, s.month_convention
    )


def _sitc2020(c: _Course, s: ResistanceSettings) -> ResistanceResult:
    if c.pd_date is None or c.pfs is None or c.gap is None or c.last is None:
        return c.result(ResistanceClass.NO_PROGRESSION, f"{c.bor_text}; no progression recorded")
    where = f"progression on {c.day(c.pd_date)}"
    if c.gap > s.sitc_discontinuation_window_days:
        return c.result(
            ResistanceClass.PROGRESSION_AFTER_DISCONTINUATION,
            f"{c.bor_text}; {where}, {c.gap} days after the last dose on {c.day(c.last)}, "
            f"more than {s.sitc_discontinuation_window_days} days after stopping",
        )
    confirmed = c.confirm is not None and (
        (c.confirm - c.pd_date).days >= s.sitc_confirmation_min_days
    )
    rapid = c.inputs.rapid_clinical_progression
    if s.sitc_require_confirmation and not (confirmed or rapid):
        return c.result(
            ResistanceClass.UNCONFIRMED_PROGRESSION,
            f"{c.bor_text}; {where}; no confirmatory scan at least "
            f"{s.sitc_confirmation_min_days} days later and no rapid clinical progression",
        )
    if confirmed and c.confirm is not None:
        confirmation = f"confirmed on {c.day(c.confirm)}"
    elif rapid:
        confirmation = "rapid clinical progression, confirmation waived"
    else:
        confirmation = "confirmation not required"
    exposure = c.exposure if c.exposure is not None else 0
    head = f"{c.bor_text}; {where} ({confirmation}); exposure {exposure} days"
    min_primary = s.sitc_primary_min_exposure_days
    sd_short = c.bor == "sd" and (
        _compare_months(c.first, c.pd_date, s.sitc_sd_months, s.month_convention) < 0
    )
    if c.bor == "pd" or sd_short:
        sd_text = _month_text(s.sitc_sd_months, s.month_convention, "<")
        why = "PD as best response" if c.bor == "pd" else f"SD lasting less than {sd_text}"
        if exposure >= min_primary:
            return c.result(
                ResistanceClass.PRIMARY, f"{head}; {why}; exposure >= {min_primary} days"
            )
        return c.result(
            ResistanceClass.NOT_CLASSIFIABLE,
            f"{head}; {why} but exposure below {min_primary} days",
            flags=("exposure_too_short",),
        )
    if c.bor in OBJECTIVE_RESPONSES or c.bor == "sd":
        sd_text = _month_text(s.sitc_sd_months, s.month_convention, ">=")
        why = f"SD lasting at least {sd_text}" if c.bor == "sd" else "objective response"
        months = s.sitc_secondary_min_exposure_months
        sec_text = _month_text(months, s.month_convention, ">=")
        short_text = _month_text(months, s.month_convention, "<")
        if _exposure_cmp(c, exposure, months, s) >= 0:
            return c.result(
                ResistanceClass.SECONDARY, f"{head}; {why}; exposure at least {sec_text}"
            )
        if s.short_response_as_primary and c.bor in OBJECTIVE_RESPONSES and exposure >= min_primary:
            return c.result(
                ResistanceClass.PRIMARY,
                f"{head}; {why} but exposure shorter than {short_text}; short responder counted "
                "as primary (short_response_as_primary)",
                flags=("short_responder",),
            )
        return c.result(
            ResistanceClass.NOT_CLASSIFIABLE,
            f"{head}; {why} but exposure shorter than {short_text}",
            flags=("exposure_too_short",),
        )
    return c.result(ResistanceClass.NOT_CLASSIFIABLE, f"{head}; best response not evaluable")


# --------------------------------------------------------------------------- SITC 2023


def _sitc2023(c: _Course, s: ResistanceSettings) -> ResistanceResult:
    if c.pd_date is None or c.pfs is None or c.gap is None or c.last is None:
        return c.result(ResistanceClass.NO_PROGRESSION, f"{c.bor_text}; no progression recorded")
    where = f"progression on {c.day(c.pd_date)}"
    if not c.on_treatment_at_pd and c.stop and c.stop not in TOXICITY_STOP_REASONS and c.gap > 0:
        return c.result(
            ResistanceClass.NOT_DEFINED,
            f"{where}, after the course stopped ({c.stop}) on {c.day(c.last)}; SITC 2023 "
            "defines no class for recurrence after a stop for reasons other than toxicity",
        )
    exposure = c.exposure if c.exposure is not None else 0
    months = s.sitc2023_timing_months
    within = _month_text(months, s.month_convention, "<=")
    later = _month_text(months, s.month_convention, ">")
    head = f"{c.bor_text}; {where}; exposure {exposure} days"
    min_primary = s.sitc_primary_min_exposure_days
    if _compare_months(c.first, c.pd_date, months, s.month_convention) <= 0:
        if exposure >= min_primary:
            return c.result(
                ResistanceClass.PRIMARY,
                f"{head}; progression within {within} of the first dose; exposure >= "
                f"{min_primary} days",
            )
        if c.inputs.rapid_clinical_progression:
            return c.result(
                ResistanceClass.PRIMARY,
                f"{head}; progression within {within} of the first dose; rapid progression, "
                "any exposure",
            )
        return c.result(
            ResistanceClass.NOT_CLASSIFIABLE,
            f"{head}; progression within {within} but exposure below {min_primary} days",
            flags=("exposure_too_short",),
        )
    sec_months = s.sitc_secondary_min_exposure_months
    sec_text = _month_text(sec_months, s.month_convention, ">")
    not_sec_text = _month_text(sec_months, s.month_convention, "<=")
    if _exposure_cmp(c, exposure, sec_months, s) > 0:
        return c.result(
            ResistanceClass.SECONDARY,
            f"{head}; progression later than {later} and exposure longer than {sec_text}",
        )
    return c.result(
        ResistanceClass.NOT_CLASSIFIABLE,
        f"{head}; progression later than {later} but exposure not longer than {not_sec_text}",
        flags=("exposure_too_short",),
    )


_DEFINITIONS: dict[str, Callable[[_Course, ResistanceSettings], ResistanceResult]] = {
    "schoenfeld2021": _schoenfeld,
    "sitc2020": _sitc2020,
    "sitc2023_combination": _sitc2023,
}


def classify_resistance(
    inputs: ResistanceInputs,
    settings: ResistanceSettings | None = None,
    *,
    show_dates: bool = False,
) -> ResistanceResult:
    """Classify one ICI course under ``settings.definition``.

    Steps (details in docs/rules-resistance.md):

    1. Validate the inputs (dates in order, response category known).
    2. Derive exposure (last dose - first dose + ``exposure_add_days``, or ``exposure_days``),
       time to progression from the first dose and the gap from the last dose to progression;
       a course ongoing at progression (or with doses after it) has a gap of 0.
    3. Apply the chosen definition's ordered rules; the first rule that matches decides.
    4. Write the reason with day offsets from the first dose (dates only if ``show_dates``).

    Raises `ResistanceInputError` when the inputs contradict each other.
    """
    s = settings if settings is not None else ResistanceSettings()
    return _DEFINITIONS[s.definition](_prepare(inputs, s, show_dates), s)
