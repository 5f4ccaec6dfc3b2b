"""Time-to-event endpoints per included patient, in whole days.

- PFS1: first dose of the initial ICI course -> progression on that course (event);
  otherwise censored (see `censoring`).
- PFSR: first dose of the rechallenge course -> progression or death, whichever first;
  otherwise censored.
- OS: first dose of the rechallenge course -> death; otherwise censored at the last date
  known alive.

Censoring rule (`EndpointSettings.censoring`): ``last_contact`` censors PFS at the last
date known alive (the seed study's rule); ``last_assessment`` at the last adequate tumour
assessment of the course (FDA guidance), or at the course start when there is none.
Durations stay in days; months (days / 30.4375) are for display only.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from rechallenge.config import EndpointSettings
from rechallenge.errors import Problem
from rechallenge.rules.response_common import CourseResponse, Response

ENDPOINTS = ("PFS1", "PFSR", "OS")
ADEQUATE = {Response.CR, Response.PR, Response.SD, Response.PD, Response.NON_CR_NON_PD}


def last_adequate_assessment(response: CourseResponse | None) -> pd.Timestamp | None:
    """Date of the last time point with an evaluable overall response."""
    if response is None:
        return None
    dates = [
        tp.assessment_date for tp in response.timepoints if tp.overall.recist_equivalent in ADEQUATE
    ]
    return max(dates) if dates else None


def derive_endpoints(
    facts: pd.DataFrame,
    responses: dict[tuple[str, str], CourseResponse],
    settings: EndpointSettings,
) -> pd.DataFrame:
    """One row per patient and endpoint (ADTTE-like, before ADaM naming)."""
    rows: list[dict[str, object]] = []
    for rec in facts.itertuples(index=False):
        pid = str(rec.patient_id)
        rows.append(_pfs(pid, "PFS1", "initial", rec, responses, settings, death_is_event=False))
        rows.append(_pfs(pid, "PFSR", "rechallenge", rec, responses, settings, death_is_event=True))
        rows.append(_os(pid, rec))
    columns = ["patient_id", "paramcd", "startdt", "adt", "cnsr", "evntdesc", "cnsdtdsc"]
    frame = pd.DataFrame(rows, columns=columns).astype(
        {"startdt": "datetime64[ns]", "adt": "datetime64[ns]"}
    )
    frame["aval_days"] = (frame["adt"] - frame["startdt"]).dt.days
    frame["aval_months"] = frame["aval_days"] / settings.days_per_month
    return frame


def endpoint_problems(
    facts: pd.DataFrame,
    responses: dict[tuple[str, str], CourseResponse],
    settings: EndpointSettings,
) -> list[Problem]:
    """Negative follow-up times (bad-inputs S1) of every patient with both ICI courses.

    The validation's date-order rules are meant to rule these out; this is the last check
    before the statistics, located at the patient's row, so no run ends in a traceback.
    """
    both = facts[facts["initial_start_date"].notna() & facts["rechallenge_start_date"].notna()]
    both = both[_may_end_before_start(both).to_numpy(dtype=bool)]
    if both.empty:
        return []
    times = derive_endpoints(both, responses, settings)
    negative = times[times["aval_days"] < 0]
    rows = both.drop_duplicates("patient_id").set_index("patient_id")["source_row"]
    return [
        Problem(
            "TIME-001",
            "patients",
            f"{rec.paramcd}: the follow-up time is negative (its end, "
            f"{rec.evntdesc or rec.cnsdtdsc}, is before the course start)",
            "correct the dates: an event or the last date known alive cannot precede the "
            "course's first dose",
            row=int(rows[rec.patient_id]),
            patient_id=str(rec.patient_id),
        )
        for rec in negative.itertuples(index=False)
    ]


def _may_end_before_start(facts: pd.DataFrame) -> pd.Series:
    """Rows with an end date (progression, death, last contact) before a course start.

    A time can only be negative through one of them (the last adequate assessment of a
    course is after its start), so only these rows need their endpoints derived to check.
    """
    initial, rechallenge = facts["initial_start_date"], facts["rechallenge_start_date"]
    contact, death = facts["last_contact_date"], facts["death_date"]
    checks = (
        facts["initial_progression_date"] < initial,
        contact < initial,
        death < rechallenge,
        facts["rechallenge_progression_date"] < rechallenge,
        contact < rechallenge,
    )
    out = pd.Series(False, index=facts.index)
    for check in checks:
        out |= check.fillna(False).astype(bool)
    return out


def _pfs(
    pid: str,
    paramcd: str,
    course: str,
    rec: Any,
    responses: dict[tuple[str, str], CourseResponse],
    settings: EndpointSettings,
    *,
    death_is_event: bool,
) -> dict[str, object]:
    start = getattr(rec, f"{course}_start_date")
    progression = getattr(rec, f"{course}_progression_date", None)
    death = rec.death_date
    candidates = []
    if progression is not None and not pd.isna(progression):
        candidates.append((progression, "progression"))
    if death_is_event and not pd.isna(death):
        candidates.append((death, "death"))
    if candidates:
        date, what = min(candidates, key=lambda c: c[0])
        return _record(pid, paramcd, start, date, 0, what, None)
    if settings.censoring == "last_assessment":
        last = last_adequate_assessment(responses.get((pid, course)))
        date = last if last is not None else start
        return _record(pid, paramcd, start, date, 1, None, "last adequate tumour assessment")
    return _record(pid, paramcd, start, rec.last_contact_date, 1, None, "last date known alive")


def _os(pid: str, rec: Any) -> dict[str, object]:
    start = rec.rechallenge_start_date
    death = rec.death_date
    if not pd.isna(death):
        return _record(pid, "OS", start, death, 0, "death", None)
    return _record(pid, "OS", start, rec.last_contact_date, 1, None, "last date known alive")


def _record(
    pid: str,
    paramcd: str,
    start: pd.Timestamp,
    date: pd.Timestamp,
    cnsr: int,
    event: str | None,
    censor: str | None,
) -> dict[str, object]:
    return {
        "patient_id": pid,
        "paramcd": paramcd,
        "startdt": start,
        "adt": date,
        "cnsr": cnsr,
        "evntdesc": event,
        "cnsdtdsc": censor,
    }


def derive_intervals(facts: pd.DataFrame) -> pd.DataFrame:
    """Days from the last initial ICI dose to progression, and from progression to rechallenge."""
    out = pd.DataFrame({"patient_id": facts["patient_id"]})
    progression = facts["initial_progression_date"]
    out["last_dose_to_progression_days"] = (progression - facts["initial_last_dose_date"]).dt.days
    out["progression_to_rechallenge_days"] = (facts["rechallenge_start_date"] - progression).dt.days
    return out
