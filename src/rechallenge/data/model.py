"""The validated study: typed tables held by one immutable object."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from rechallenge.data.mappings import AppliedMapping
from rechallenge.errors import Problem


@dataclass(frozen=True)
class Imputation:
    """One partial date completed by the configured rule (listed in the run log)."""

    table: str
    row: int
    column: str
    original: str
    imputed: str
    rule: str


@dataclass(frozen=True)
class CutoffRecord:
    """What applying the data cut-off (`endpoints.data_cutoff`) did, for the log and Methods.

    `rows_excluded` counts, per table, the rows dated after the cut-off that were left out
    (treatment lines started, tumour assessments, adverse-event onsets, lab results);
    `deaths_censored` the deaths after it (alive at the cut-off: censored there, no OS
    event); `last_contacts_capped` the last dates known alive moved back to the cut-off;
    `lines_ongoing` the lines whose last dose or progression fell after it (ongoing at the
    cut-off: last dose, progression date and end reason left unknown; end reason `ongoing`);
    `progressions_censored` the progression dates after it that were removed.
    """

    date: str  # YYYY-MM-DD
    rows_excluded: dict[str, int]
    deaths_censored: int
    last_contacts_capped: int
    lines_ongoing: int
    progressions_censored: int

    @property
    def changed(self) -> int:
        """How many rows or values the cut-off changed in all."""
        return (
            sum(self.rows_excluded.values())
            + self.deaths_censored
            + self.last_contacts_capped
            + self.lines_ongoing
        )

    def as_dict(self) -> dict[str, object]:
        """The record as plain data (results.json `study.cutoff`)."""
        return {
            "date": self.date,
            "rule": "rows after the cut-off excluded; events after it censored at the cut-off",
            "rows_excluded": dict(self.rows_excluded),
            "deaths_censored": self.deaths_censored,
            "last_contacts_capped": self.last_contacts_capped,
            "lines_ongoing": self.lines_ongoing,
            "progressions_censored": self.progressions_censored,
        }


@dataclass(frozen=True)
class Study:
    """Validated, typed study tables.

    Each table is a pandas DataFrame with the data-model columns (dates as
    ``datetime64[ns]``, enumerations in canonical spelling, list columns as tuples),
    any extra user columns kept as text, and ``source_row``: the 1-based spreadsheet
    row each record came from. Optional tables that were not supplied are empty frames
    with the contract's columns; `has` tells them apart.
    """

    patients: pd.DataFrame
    treatments: pd.DataFrame
    lesions: pd.DataFrame
    adverse_events: pd.DataFrame
    labs: pd.DataFrame
    location: Path
    supplied: frozenset[str]
    checksums: dict[str, str] = field(default_factory=dict)
    imputations: tuple[Imputation, ...] = ()
    warnings: tuple[Problem, ...] = ()
    cutoff: CutoffRecord | None = None  # set when `endpoints.data_cutoff` was applied
    mappings_applied: tuple[AppliedMapping, ...] = ()  # declared mappings, each counted

    def has(self, table: str) -> bool:
        """True when the user supplied `table` (an empty optional table is not supplied)."""
        return table in self.supplied

    def table(self, name: str) -> pd.DataFrame:
        """The table called `name`."""
        frame: pd.DataFrame = getattr(self, name)
        return frame

    def summary(self) -> dict[str, int]:
        """Counts shown by `rechallenge validate`: rows per table and assessments."""
        lesions = self.lesions
        assessments = (
            int(lesions[["patient_id", "assessment_date"]].drop_duplicates().shape[0])
            if len(lesions)
            else 0
        )
        courses = self.treatments.groupby("patient_id")["is_pd1_axis"].sum()
        courses = courses.reindex(self.patients["patient_id"], fill_value=0)
        per_patient = {
            f"patients_with_{k}_ici_course{'s' if k != 1 else ''}": int((courses == k).sum())
            for k in sorted(set(courses.astype(int)))
        }
        return {
            "patients": len(self.patients),
            "treatment_lines": len(self.treatments),
            "ici_courses": int(self.treatments["is_pd1_axis"].sum()),
            **per_patient,
            "lesion_rows": len(lesions),
            "lesion_assessments": assessments,
            "adverse_events": len(self.adverse_events),
            "labs": len(self.labs),
            **self._cutoff_summary(),
        }

    def _cutoff_summary(self) -> dict[str, int]:
        """What the data cut-off changed, when one was applied (counts only)."""
        if self.cutoff is None:
            return {}
        return {
            "rows_after_cutoff_excluded": sum(self.cutoff.rows_excluded.values()),
            "deaths_after_cutoff_censored": self.cutoff.deaths_censored,
        }
