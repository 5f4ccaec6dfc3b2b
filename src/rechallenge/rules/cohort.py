"""Cohort selection: the seed protocol's criteria as named, ordered, configurable objects.

The engine works on a *screening frame*: one row per screened patient with the facts the
criteria read (assembled by the pipeline from the study and the other rule engines):

    patient_id, histology, stage, recurrent, driver, has_rechallenge, resistance_class,
    resistance_reason, initial_end_reason, measurable_at_rechallenge, rechallenge_evaluable,
    age_at_rechallenge, ecog_rechallenge, plus every patients column (for custom criteria).

Algorithm:

1. Build the criteria list: the protocol's, in protocol order (inclusion first, then
   exclusion), minus those switched off, plus the user's custom criteria.
2. For each criterion in order, among patients still in the cohort, those who fail it are
   excluded with that criterion's plain-language reason.
3. The attrition table counts, per criterion, patients before, excluded and remaining;
   the listing has every screened patient exactly once with status and reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from rechallenge.config import CohortSettings, CustomCriterion

ADVANCED_STAGES = frozenset({"IIIA", "IIIB", "IIIC", "IVA", "IVB"})

Passes = Callable[[pd.DataFrame], pd.Series]


@dataclass(frozen=True)
class Criterion:
    """One criterion: `passes` returns True for patients who meet it."""

    name: str
    kind: Literal["inclusion", "exclusion"]
    description: str
    passes: Passes
    reason: Callable[[Mapping[str, Any]], str]


@dataclass(frozen=True)
class Selection:
    """The result: attrition per criterion and a listing of every screened patient."""

    attrition: pd.DataFrame  # criterion, kind, description, before, excluded, remaining
    listing: pd.DataFrame  # patient_id, included, criterion, reason

    @property
    def included_ids(self) -> list[str]:
        """Identifiers of the analysed patients, in screening order."""
        return self.listing.loc[self.listing["included"], "patient_id"].tolist()


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series(np.nan, index=frame.index)


def protocol_criteria(settings: CohortSettings) -> list[Criterion]:
    """The seed study's criteria in protocol order, thresholds from `settings`."""
    drivers = set(settings.excluded_drivers)
    stops = set(settings.excluded_stop_reasons)
    lo, hi, ecog_max = settings.age_min, settings.age_max, settings.ecog_max
    return [
        Criterion(
            "nsclc_advanced",
            "inclusion",
            "Confirmed NSCLC, unresectable stage III/IV or recurrent disease",
            lambda f: (
                _col(f, "stage").isin(ADVANCED_STAGES)
                | _col(f, "recurrent").fillna(False).astype(bool)
            ),
            lambda r: "not stage III/IV and not recurrent disease",
        ),
        Criterion(
            "no_driver",
            "inclusion",
            f"No targetable driver alteration ({', '.join(sorted(drivers))})",
            lambda f: ~_col(f, "driver").isin(drivers),
            lambda r: f"targetable driver alteration ({r['driver']})",
        ),
        Criterion(
            "has_rechallenge",
            "inclusion",
            "An ICI rechallenge course after progression on the first PD-(L)1 course",
            lambda f: _col(f, "has_rechallenge").fillna(False).astype(bool),
            lambda r: "no ICI rechallenge course after progression on the first ICI course",
        ),
        Criterion(
            "acquired_resistance",
            "inclusion",
            "Acquired immune resistance to the first PD-(L)1 course (configured definition)",
            lambda f: _col(f, "resistance_class") == "acquired",
            lambda r: f"not acquired resistance: {r['resistance_reason']}",
        ),
        Criterion(
            "measurable_disease",
            "inclusion",
            "At least one measurable lesion at the rechallenge baseline",
            lambda f: _col(f, "measurable_at_rechallenge").fillna(False).astype(bool),
            lambda r: "no measurable target lesion at the rechallenge baseline",
        ),
        Criterion(
            "age_range",
            "inclusion",
            f"Age {lo}–{hi} years at the rechallenge start",
            lambda f: _col(f, "age_at_rechallenge").between(lo, hi),
            lambda r: f"age {r['age_at_rechallenge']:.0f} outside {lo}–{hi} years",
        ),
        Criterion(
            "initial_stop_reason",
            "exclusion",
            f"First ICI course stopped for {', '.join(sorted(stops))}",
            lambda f: ~_col(f, "initial_end_reason").isin(stops),
            lambda r: f"first ICI course stopped for {r['initial_end_reason']}",
        ),
        Criterion(
            "incomplete_data",
            "exclusion",
            "Data too incomplete to evaluate the rechallenge effect",
            lambda f: _col(f, "rechallenge_evaluable").fillna(False).astype(bool),
            lambda r: (
                "rechallenge response not evaluable (no follow-up assessment and no "
                "investigator response)"
            ),
        ),
        Criterion(
            "ecog_max",
            "exclusion",
            f"ECOG performance status > {ecog_max} at rechallenge",
            lambda f: _col(f, "ecog_rechallenge").le(ecog_max),
            lambda r: (
                f"ECOG PS {r['ecog_rechallenge']} at rechallenge (> {ecog_max})"
                if pd.notna(r["ecog_rechallenge"])
                else "ECOG PS at rechallenge not recorded"
            ),
        ),
    ]


def custom_criterion(spec: CustomCriterion) -> Criterion:
    """A user's simple criterion from the configuration."""
    ops: dict[str, Callable[[pd.Series], pd.Series]] = {
        "==": lambda s: s == spec.value,
        "!=": lambda s: s != spec.value,
        "<": lambda s: s < spec.value,
        "<=": lambda s: s <= spec.value,
        ">": lambda s: s > spec.value,
        ">=": lambda s: s >= spec.value,
        "in": lambda s: s.isin(list(spec.value or [])),
        "not_in": lambda s: ~s.isin(list(spec.value or [])),
        "not_blank": lambda s: s.notna(),
    }
    test = ops[spec.operator]

    def meets(frame: pd.DataFrame) -> pd.Series:
        return test(_col(frame, spec.column)).fillna(False).astype(bool)

    passes: Passes = meets if spec.kind == "inclusion" else (lambda f: ~meets(f))
    verb = "does not meet" if spec.kind == "inclusion" else "meets exclusion"
    return Criterion(
        spec.name,
        spec.kind,
        spec.description,
        passes,
        lambda r: f"{verb} {spec.name}: {spec.description}",
    )


def criteria_for(settings: CohortSettings) -> list[Criterion]:
    """Step 1: protocol criteria not switched off, then custom ones."""
    chosen = [c for c in protocol_criteria(settings) if c.name not in settings.disabled]
    return chosen + [custom_criterion(c) for c in settings.custom]


def select_cohort(screening: pd.DataFrame, settings: CohortSettings) -> Selection:
    """Steps 2-3: evaluate the criteria in order; every patient is listed exactly once."""
    remaining = pd.Series(True, index=screening.index)
    criterion_of = pd.Series("", index=screening.index, dtype=object)
    reason_of = pd.Series("included", index=screening.index, dtype=object)
    rows = []
    for criterion in criteria_for(settings):
        before = int(remaining.sum())
        fails = remaining & ~criterion.passes(screening).fillna(False).astype(bool)
        failing = screening[fails.to_numpy()]
        criterion_of[failing.index] = criterion.name
        reason_of[failing.index] = [
            criterion.reason(row) for row in failing.to_dict(orient="records")
        ]
        remaining &= ~fails
        rows.append(
            {
                "criterion": criterion.name,
                "kind": criterion.kind,
                "description": criterion.description,
                "before": before,
                "excluded": int(fails.sum()),
                "remaining": int(remaining.sum()),
            }
        )
    listing = pd.DataFrame(
        {
            "patient_id": screening["patient_id"].to_numpy(),
            "included": remaining.to_numpy(),
            "criterion": criterion_of.to_numpy(),
            "reason": reason_of.to_numpy(),
        }
    )
    attrition = pd.DataFrame(
        rows, columns=["criterion", "kind", "description", "before", "excluded", "remaining"]
    )
    return Selection(attrition, listing)
