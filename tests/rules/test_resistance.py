"""Resistance classification: worked examples R1-R14 of resistance-definitions.md §6 and boundaries.

Rows are (expected class, expected subtype, definition, setting overrides, course, comment).
Day n means n days after the first dose of the course (day 0 = D0) unless a row gives dates.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError

from rechallenge.rules.resistance import (
    ResistanceClass,
    ResistanceInputError,
    ResistanceInputs,
    ResistanceSettings,
    classify_resistance,
)

D0 = pd.Timestamp("2023-01-02")

AR = ResistanceClass.ACQUIRED
PIR = ResistanceClass.PRIMARY
SEC = ResistanceClass.SECONDARY
DSD = ResistanceClass.DURABLE_SD
PAD = ResistanceClass.PROGRESSION_AFTER_DISCONTINUATION
UNC = ResistanceClass.UNCONFIRMED_PROGRESSION
NDEF = ResistanceClass.NOT_DEFINED
NOPD = ResistanceClass.NO_PROGRESSION
NC = ResistanceClass.NOT_CLASSIFIABLE


def d(n: int | None) -> pd.Timestamp | None:
    return None if n is None else D0 + pd.Timedelta(days=n)


def course(
    bor: str | None,
    pd_day: int | None,
    last_day: int | None,
    conf_day: int | None = None,
    **kw: Any,
) -> ResistanceInputs:
    return ResistanceInputs(
        first_dose=D0,
        last_dose=d(last_day),
        best_response=bor,
        progression_date=d(pd_day),
        progression_confirmed_date=d(conf_day),
        **kw,
    )


# Worked examples (resistance-definitions.md §6), one course each.
R1 = course("pd", 63, 63, 98)
R2 = course("pd", 35, 21, rapid_clinical_progression=True)
R3 = course("sd", 150, 147, 185)
R4 = course("sd", 200, 189, 230)
R5 = ResistanceInputs(
    first_dose=pd.Timestamp("2023-01-15"),
    last_dose=pd.Timestamp("2023-07-05"),
    best_response="sd",
    progression_date=pd.Timestamp("2023-07-15"),
    progression_confirmed_date=pd.Timestamp("2023-08-14"),
)
R6 = course("pr", 400, 399, 430, ongoing_at_progression=True)
R7 = course("pr", 330, 120, end_reason="irae")
R8 = course("pr", 850, 730, end_reason="completed")
R9 = course("pr", 300, 250, 335, end_reason="irae")
R10 = course("pr", 120, 105, 150, ongoing_at_progression=True)
R11_PR = course("pr", 84, 84, 112, end_reason="progression")
R11_SD = replace(R11_PR, best_response="sd")  # the BOR once confirmation is required
R12 = course("pr", 400, 392)
R13_1 = course("pr", 600, 365, end_reason="completed")
R13_2 = ResistanceInputs(
    first_dose=d(620),  # type: ignore[arg-type]
    last_dose=None,
    best_response="sd",
    progression_date=d(700),
    progression_confirmed_date=d(735),
    ongoing_at_progression=True,
    course_kind="rechallenge",
    prior_objective_response=True,
    previous_pd1_last_dose=d(365),
)
R14 = course("cr", None, 730, end_reason="completed")

S21 = "schoenfeld2021"
K20 = "sitc2020"
R23 = "sitc2023_combination"
CAL = {"month_convention": "calendar"}
D180 = {"month_convention": "30_day"}

CASES: list[tuple[ResistanceClass, str | None, str, dict[str, Any], ResistanceInputs, str]] = [
    # ---- Schoenfeld 2021 (S21_strict profile)
    (PIR, None, S21, {}, R1, "R1"),
    (PIR, None, S21, {}, R2, "R2: PD as best response; exposure does not matter"),
    (PIR, None, S21, {}, R3, "R3: SD, PD within 6 months of first dose"),
    (DSD, None, S21, {}, R4, "R4: SD for 200 days never qualifies as AR"),
    (PIR, None, S21, {}, R5, "R5: 181 <= 182 days"),
    (PIR, None, S21, CAL, R5, "R5: exactly 6 calendar months is still within"),
    (DSD, None, S21, D180, R5, "R5: 181 > 180 days"),
    (AR, "on-treatment", S21, {}, R6, "R6"),
    (PAD, None, S21, {}, R7, "R7: 210 days after the last dose > 182"),
    (AR, "off-treatment", S21, {}, R8, "R8: 120 days off treatment, within 6 months"),
    (AR, "off-treatment", S21, {}, R9, "R9: irAE stop, PD 50 days later"),
    (AR, "on-treatment", S21, {}, R10, "R10: short responder is still AR under S21"),
    (AR, "on-treatment", S21, {}, R11_PR, "R11: unconfirmed PR accepted (default)"),
    (PIR, None, S21, {}, R11_SD, "R11: confirmation-required sensitivity, BOR SD"),
    (AR, "on-treatment", S21, {}, R12, "R12: gap 8 days <= 21-day dosing interval"),
    (PAD, None, S21, {}, R13_1, "R13 index course: 235 days after the last dose"),
    (AR, "on rechallenge", S21, {}, R13_2, "R13 rechallenge: 255 days off anti-PD-(L)1"),
    (NOPD, None, S21, {}, R14, "R14"),
    # ---- Schoenfeld 2021: own cases
    (AR, "off-treatment", S21, {}, course("pr", 281, 100), "last dose + 181 days"),
    (AR, "off-treatment", S21, {}, course("pr", 282, 100), "last dose + 182: on the boundary"),
    (PAD, None, S21, {}, course("pr", 283, 100), "last dose + 183 > 182.625 days"),
    (AR, "off-treatment", S21, D180, course("pr", 280, 100), "30-day months: 180 is within"),
    (PAD, None, S21, D180, course("pr", 281, 100), "30-day months: 181 is beyond"),
    (PIR, None, S21, {}, course("sd", 182, 182), "SD, PD on day 182 of the course"),
    (DSD, None, S21, {}, course("sd", 183, 183), "SD, PD on day 183 of the course"),
    (AR, "on-treatment", S21, {}, course("cr", 300, None, ongoing_at_progression=True), "ongoing"),
    (
        AR,
        "off-treatment",
        S21,
        {},
        course("pr", 200, 90, end_reason="toxicity"),
        "toxicity stop, PD 110 days later",
    ),
    (
        AR,
        "on-treatment",
        S21,
        {"dosing_interval_days": 30},
        course("pr", 200, 175),
        "gap 25 within a 30-day grace",
    ),
    (NC, None, S21, {}, course("ne", 100, 90), "NE best response"),
    (NC, None, S21, {}, course(None, 100, 90), "missing best response"),
    (NOPD, None, S21, {}, course("sd", None, None, ongoing_at_progression=False), "ongoing, no PD"),
    (
        PIR,
        None,
        S21,
        {"response_on_same_course": True},
        R13_2,
        "R13 rechallenge with response required on the course itself: SD, PD day 80",
    ),
    (
        AR,
        "on-treatment",
        S21,
        {},
        replace(R13_2, previous_pd1_last_dose=d(500)),
        "rechallenge after only 120 days off: not the 'on rechallenge' sub-type",
    ),
    # ---- SITC 2020 (Kluger)
    (PIR, None, K20, {}, R1, "R1"),
    (NC, None, K20, {}, R2, "R2: exposure 21 < 42 days (confirmation waived)"),
    (PIR, None, K20, {}, R3, "R3: SD < 6 months"),
    (SEC, None, K20, {}, R4, "R4: SD >= 6 months, exposure 189 >= 183"),
    (PIR, None, K20, {}, R5, "R5: SD 181 < 182.625 days"),
    (NC, None, K20, D180, R5, "R5: SD 181 >= 180 but exposure 171 < 180"),
    (NC, None, K20, CAL, R5, "R5: SD exactly 6 calendar months, exposure < 6 months"),
    (SEC, None, K20, {}, R6, "R6"),
    (PAD, None, K20, {}, R7, "R7: gap 210 > 84"),
    (PAD, None, K20, {}, R8, "R8: gap 120 > 84 (conflicts with S21)"),
    (SEC, None, K20, {}, R9, "R9"),
    (NC, None, K20, {}, R10, "R10: short responder, exposure 105"),
    (PIR, None, K20, {"short_response_as_primary": True}, R10, "R10 with the option"),
    (PIR, None, K20, {}, R11_SD, "R11 confirmed BOR SD; confirmation exactly 28 days later"),
    (NC, None, K20, {}, R11_PR, "R11 unconfirmed PR: exposure 84 < 6 months"),
    (UNC, None, K20, {}, R12, "R12: no confirmatory scan"),
    (SEC, None, K20, {"sitc_require_confirmation": False}, R12, "R12 without confirmation"),
    (PAD, None, K20, {}, R13_1, "R13 index course"),
    (PIR, None, K20, {}, R13_2, "R13 rechallenge by its own Table-1 rules"),
    (NOPD, None, K20, {}, R14, "R14"),
    (SEC, None, K20, {}, course("pr", 284, 200, 320), "gap exactly 84 days"),
    (PAD, None, K20, {}, course("pr", 285, 200, 320), "gap 85 days"),
    (UNC, None, K20, {}, course("pd", 100, 100, 127), "confirmation 27 days later"),
    (SEC, None, K20, {}, course("sd", 250, 183, 280), "SD, exposure exactly 183 days"),
    (NC, None, K20, {}, course("sd", 250, 182, 280), "SD, exposure 182 days"),
    (PIR, None, K20, {}, course("pd", 42, 42, 70), "exposure exactly 42 days"),
    (NC, None, K20, {}, course("ne", 100, 100, 130), "NE best response"),
    # ---- SITC 2023 (Rizvi, ICI + chemotherapy)
    (PIR, None, R23, {}, R1, "R1"),
    (PIR, None, R23, {}, R2, "R2: rapid progression, any exposure"),
    (NC, None, R23, {}, replace(R2, rapid_clinical_progression=False), "R2 without rapid PD"),
    (PIR, None, R23, {}, R3, "R3"),
    (SEC, None, R23, {}, R4, "R4"),
    (PIR, None, R23, {}, R5, "R5: 181 <= 182"),
    (PIR, None, R23, CAL, R5, "R5: PD at exactly 6 calendar months is '<= 6 months'"),
    (NC, None, R23, D180, R5, "R5: PD 181 > 180 days, exposure 171 not > 180"),
    (SEC, None, R23, {}, R6, "R6"),
    (NC, None, R23, {}, R7, "R7: PD > 6 months, exposure 120"),
    (NDEF, None, R23, {}, R8, "R8: stopped after completion"),
    (SEC, None, R23, {}, R9, "R9: irAE stop is a toxicity stop"),
    (PIR, None, R23, {}, R10, "R10"),
    (PIR, None, R23, {}, R11_PR, "R11"),
    (SEC, None, R23, {}, R12, "R12: no confirmation needed"),
    (NOPD, None, R23, {}, R14, "R14"),
    (SEC, None, R23, {}, course("pr", 300, 183), "exposure 183 > 182.625 days"),
    (NC, None, R23, {}, course("pr", 300, 182), "exposure 182 is not > 6 months"),
]


@pytest.mark.parametrize(
    ("expected", "subtype", "definition", "overrides", "inputs", "comment"),
    CASES,
    ids=[f"{c[2]}-{c[5].split(':')[0]}-{i}" for i, c in enumerate(CASES)],
)
def test_classification_table(
    expected: ResistanceClass,
    subtype: str | None,
    definition: str,
    overrides: dict[str, Any],
    inputs: ResistanceInputs,
    comment: str,
) -> None:
    settings = ResistanceSettings(definition=definition, **overrides)  # type: ignore[arg-type]
    result = classify_resistance(inputs, settings)
    assert result.resistance_class == expected, (comment, result.reason)
    assert result.subtype == subtype, (comment, result.reason)
    assert result.definition == definition


@pytest.mark.parametrize(
    ("pd_date", "expected"),
    [
        ("2023-07-30", AR),  # day before 6 calendar months after the last dose
        ("2023-07-31", AR),  # exactly 6 calendar months: "within"
        ("2023-08-01", PAD),  # day after
    ],
)
def test_calendar_month_boundary(pd_date: str, expected: ResistanceClass) -> None:
    inputs = ResistanceInputs(
        first_dose=pd.Timestamp("2022-10-01"),
        last_dose=pd.Timestamp("2023-01-31"),
        best_response="pr",
        progression_date=pd.Timestamp(pd_date),
    )
    result = classify_resistance(inputs, ResistanceSettings(month_convention="calendar"))
    assert result.resistance_class == expected


def test_calendar_month_end_clamps() -> None:
    # 31 Aug + 6 months = 29 Feb 2024 (leap year, month end clamped): 1 March is beyond.
    inputs = ResistanceInputs(
        first_dose=pd.Timestamp("2023-05-01"),
        last_dose=pd.Timestamp("2023-08-31"),
        best_response="pr",
        progression_date=pd.Timestamp("2024-03-01"),
    )
    calendar = ResistanceSettings(month_convention="calendar")
    assert classify_resistance(inputs, calendar).resistance_class == PAD
    on_limit = replace(inputs, progression_date=pd.Timestamp("2024-02-29"))
    assert classify_resistance(on_limit, calendar).resistance_class == AR


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def test_reason_cites_day_offsets_and_hides_dates() -> None:
    result = classify_resistance(course("pr", 252, 100))
    assert result.reason == (
        "best response PR; progression on day 252, 152 days after the last dose on day 100, "
        "within the 6 months (<= 182 days; 1 month = 30.4375 days) window (off-treatment)"
    )
    assert not ISO_DATE.search(result.reason)
    assert (result.pfs_days, result.exposure_days, result.gap_days) == (252, 100, 152)


def test_reason_cites_response_day_when_known() -> None:
    result = classify_resistance(replace(R6, response_date=d(63)))
    assert result.reason.startswith("best response PR on day 63; progression on day 400")


def test_reason_shows_dates_only_when_asked() -> None:
    result = classify_resistance(course("pr", 252, 100), show_dates=True)
    assert "day 252 (2023-09-11)" in result.reason
    assert "day 100 (2023-04-12)" in result.reason


@pytest.mark.parametrize("definition", [S21, K20, R23])
def test_no_reason_contains_a_date_by_default(definition: str) -> None:
    settings = ResistanceSettings(definition=definition)  # type: ignore[arg-type]
    for row in CASES:
        reason = classify_resistance(row[4], settings).reason
        assert not ISO_DATE.search(reason), reason


def test_thirty_day_window_is_named_in_reason() -> None:
    result = classify_resistance(course("pr", 281, 100), ResistanceSettings(**D180))  # type: ignore[arg-type]
    assert "beyond the 6 months (<= 180 days; 1 month = 30 days) window" in result.reason


def test_exposure_override_and_addition() -> None:
    settings = ResistanceSettings(definition="sitc2020", exposure_add_days=21)
    # exposure 162 + 21 = 183 days reaches 6 months: secondary instead of not classifiable.
    result = classify_resistance(course("pr", 200, 162, 240), settings)
    assert (result.resistance_class, result.exposure_days) == (SEC, 183)
    given = replace(course("pr", 200, 162, 240), exposure_days=100)
    assert classify_resistance(given, settings).exposure_days == 100


def test_to_dict_is_flat() -> None:
    row = classify_resistance(R10, ResistanceSettings(definition="sitc2020")).to_dict()
    assert row["resistance_class"] == "not classifiable"
    assert row["flags"] == "exposure_too_short"
    assert row["definition"] == "sitc2020"


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (course("pr", 100, None), None),
        (ResistanceInputs(first_dose=D0, last_dose=d(-1)), "last_dose is before first_dose"),
        (course("pr", -5, None), "progression_date is before first_dose"),
        (course("partial", 100, 90), "best_response 'partial'"),
        (course("pr", 100, 90, 80), "progression_confirmed_date"),
        (course("pr", 100, 90, response_date=d(-3)), "response_date is before"),
        (replace(R13_2, previous_pd1_last_dose=d(700)), "previous_pd1_last_dose is after"),
    ],
)
def test_invalid_inputs(inputs: ResistanceInputs, message: str | None) -> None:
    if message is None:
        assert classify_resistance(inputs).resistance_class == AR  # no last dose: on treatment
        return
    with pytest.raises(ResistanceInputError, match=message) as info:
        classify_resistance(inputs)
    assert not ISO_DATE.search(str(info.value))


def test_settings_are_frozen_and_strict() -> None:
    settings = ResistanceSettings()
    assert settings.definition == "schoenfeld2021"
    assert settings.month_convention == "mean_month"
    with pytest.raises(ValidationError):
        ResistanceSettings(window_days=183)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        settings.definition = "sitc2020"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        ResistanceSettings(definition="imaginary")  # type: ignore[arg-type]
