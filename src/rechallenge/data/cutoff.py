"""The data cut-off (`endpoints.data_cutoff`): what was known on that day, and no more.

Declared rule, applied after validation to every table when a cut-off is configured:

1. rows dated after the cut-off are excluded and counted per table: treatment lines that
   started after it, tumour assessments, adverse events by onset, lab results;
2. on the lines kept, a last dose after the cut-off means the line was ongoing then: the
   last dose is unknown and the end reason becomes `ongoing`; a progression date after it
   is removed (no progression was known), and an end reason of `progression` or `death`
   recorded for it becomes unknown unless the line was ongoing;
3. a death after the cut-off is no event: the patient was alive at the cut-off, so the death
   date is removed and the last date known alive set to the cut-off (censored there);
4. a last date known alive after the cut-off is set to the cut-off.

Every change is counted in a `CutoffRecord` held by the `Study` (results and Methods say
what was done) and summarised as warnings in the run log and by `validate`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd

from rechallenge.data.model import CutoffRecord, Study
from rechallenge.errors import ConfigError, Problem

#: The date column that places each table's rows in time.
ROW_DATES: dict[str, str] = {
    "treatments": "start_date",
    "lesions": "assessment_date",
    "adverse_events": "onset_date",
    "labs": "date",
}
ROW_WORDS: dict[str, str] = {
    "treatments": "treatment line(s) started",
    "lesions": "tumour assessment row(s)",
    "adverse_events": "adverse event(s) with onset",
    "labs": "lab result(s)",
}


def cutoff_timestamp(value: str | dt.date | None) -> pd.Timestamp | None:
    """The configured cut-off as a day, from a YYYY-MM-DD string or a date; None if unset."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return pd.Timestamp(value.date())
    if isinstance(value, dt.date):
        return pd.Timestamp(value)
    try:
        return pd.Timestamp(dt.date.fromisoformat(str(value).strip()))
    except ValueError:
        raise ConfigError(
            f"endpoints.data_cutoff: {value!r} is not a date; write it as YYYY-MM-DD"
        ) from None


def apply_cutoff(study: Study, cutoff: str | dt.date | None) -> Study:
    """The study as known on the cut-off day (module docstring); unchanged when none is set."""
    day = cutoff_timestamp(cutoff)
    if day is None:
        return study
    excluded: dict[str, int] = {}
    frames: dict[str, pd.DataFrame] = {}
    for table, column in ROW_DATES.items():
        frame = study.table(table)
        after = (frame[column] > day).fillna(False).to_numpy(dtype=bool)
        excluded[table] = int(after.sum())
        frames[table] = frame[~after].reset_index(drop=True) if after.any() else frame
    treatments, lines_ongoing, progressions = _truncate_lines(frames["treatments"], day)
    patients, deaths, capped = _censor_patients(study.patients, day)
    record = CutoffRecord(
        date=day.strftime("%Y-%m-%d"),
        rows_excluded=excluded,
        deaths_censored=deaths,
        last_contacts_capped=capped,
        lines_ongoing=lines_ongoing,
        progressions_censored=progressions,
    )
    return replace(
        study,
        patients=patients,
        treatments=treatments,
        lesions=frames["lesions"],
        adverse_events=frames["adverse_events"],
        labs=frames["labs"],
        cutoff=record,
        warnings=(*study.warnings, *cutoff_notes(record)),
    )


def _truncate_lines(treatments: pd.DataFrame, day: pd.Timestamp) -> tuple[pd.DataFrame, int, int]:
    """Rule 2 on the lines kept: (lines, lines ongoing at the cut-off, progressions removed)."""
    ongoing = (treatments["last_dose_date"] > day).fillna(False).to_numpy(dtype=bool)
    progressed_after = (treatments["progression_date"] > day).fillna(False).to_numpy(dtype=bool)
    if not ongoing.any() and not progressed_after.any():
        return treatments, 0, 0
    out = treatments.copy()
    out.loc[ongoing, "last_dose_date"] = pd.NaT
    out.loc[ongoing, "end_reason"] = "ongoing"
    out.loc[progressed_after, "progression_date"] = pd.NaT
    unknown_reason = progressed_after & ~ongoing & out["end_reason"].isin(["progression", "death"])
    out.loc[unknown_reason.to_numpy(dtype=bool), "end_reason"] = None
    return out, int(ongoing.sum()), int(progressed_after.sum())


def _censor_patients(patients: pd.DataFrame, day: pd.Timestamp) -> tuple[pd.DataFrame, int, int]:
    """Rules 3 and 4: (patients, deaths censored, last contacts set to the cut-off)."""
    died_after = (patients["death_date"] > day).fillna(False).to_numpy(dtype=bool)
    seen_after = (patients["last_contact_date"] > day).fillna(False).to_numpy(dtype=bool)
    if not died_after.any() and not seen_after.any():
        return patients, 0, 0
    out = patients.copy()
    out.loc[died_after, "death_date"] = pd.NaT
    out.loc[died_after | seen_after, "last_contact_date"] = day
    return out, int(died_after.sum()), int((died_after | seen_after).sum())


def cutoff_notes(record: CutoffRecord) -> list[Problem]:
    """The cut-off's changes as warnings (counts only: no identifier, no patient date)."""
    notes = []
    rows = [f"{n} {ROW_WORDS[t]}" for t, n in record.rows_excluded.items() if n]
    if rows:
        notes.append(
            Problem(
                "CUTOFF-001",
                "study",
                "rows dated after the data cut-off were excluded: " + ", ".join(rows),
                "nothing to fix; remove endpoints.data_cutoff to use every row",
                severity="warning",
            )
        )
    events = [
        f"{n} {what}"
        for n, what in (
            (record.deaths_censored, "death(s) after it censored at the cut-off (no OS event)"),
            (record.last_contacts_capped, "last date(s) known alive set to the cut-off"),
            (record.lines_ongoing, "line(s) ongoing at the cut-off (last dose after it)"),
            (record.progressions_censored, "progression date(s) after it removed"),
        )
        if n
    ]
    if events:
        notes.append(
            Problem(
                "CUTOFF-002",
                "study",
                "events after the data cut-off were censored: " + "; ".join(events),
                "nothing to fix; remove endpoints.data_cutoff to use every event",
                severity="warning",
            )
        )
    return notes
