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
from pydantic import BaseModel, ConfigDict, Field, model_validator

from rechallenge.errors import unknown_name

OPERATORS: tuple[str, ...] = ("==", "!=", "<", "<=", ">", ">=", "in", "not_in", "not_blank")
LIST_OPERATORS = frozenset({"in", "not_in"})


class CustomCriterion(BaseModel):
    """A simple user criterion: keep patients whose `column` satisfies `operator value`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Short name, shown in the attrition table.")
    description: str = Field(description="What a patient must meet, in words.")
    column: str = Field(description="A patients column (contract or extra column).")
    operator: Literal["==", "!=", "<", "<=", ">", ">=", "in", "not_in", "not_blank"] = Field(
        description="One of ==, !=, <, <=, >, >=, in, not_in (value is a list), not_blank."
    )
    value: Any = Field(None, description="The value compared with (none for not_blank).")
    kind: Literal["inclusion", "exclusion"] = Field(
        "inclusion", description="inclusion keeps patients who meet it; exclusion drops them."
    )

    @model_validator(mode="after")
    def _value_fits_operator(self) -> CustomCriterion:
        """A list for in/not_in, a single value for comparisons, none for not_blank."""
        if self.operator in LIST_OPERATORS and not isinstance(self.value, list):
            raise ValueError(f"criterion {self.name!r}: operator {self.operator} needs a list")
        if self.operator == "not_blank" and self.value is not None:
            raise ValueError(f"criterion {self.name!r}: operator not_blank takes no value")
        if self.operator not in LIST_OPERATORS | {"not_blank"} and (
            self.value is None or isinstance(self.value, list | dict)
        ):
            raise ValueError(f"criterion {self.name!r}: operator {self.operator} needs one value")
        return self


class CohortSettings(BaseModel):
    """Inclusion and exclusion criteria of the seed protocol, each switchable and tunable."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    disabled: list[str] = Field(
        default_factory=list, description="Names of criteria to switch off (listed above)."
    )
    age_min: int = Field(18, description="Youngest age (years) at the rechallenge start.")
    age_max: int = Field(75, description="Oldest age (years) at the rechallenge start.")
    ecog_max: int = Field(2, ge=0, le=5, description="Highest ECOG PS at the rechallenge line.")
    excluded_drivers: list[str] = Field(
        default_factory=lambda: ["EGFR", "ALK", "ROS1", "BRAF", "MET", "RET", "NTRK", "HER2"],
        description="Driver alterations counted as targetable (excluded).",
    )
    excluded_stop_reasons: list[str] = Field(
        default_factory=lambda: ["clinical_decision", "marrow_suppression", "irae"],
        description="Reasons for stopping the first ICI course that exclude a patient.",
    )
    custom: list[CustomCriterion] = Field(
        default_factory=list, description="Extra simple criteria, evaluated after the protocol's."
    )

    @model_validator(mode="after")
    def _names_exist(self) -> CohortSettings:
        """Every disabled name is a criterion; custom names do not shadow the protocol's."""
        protocol = [c.name for c in protocol_criteria(self)]
        known = [*protocol, *(c.name for c in self.custom)]
        bad = [unknown_name("criterion", n, known) for n in self.disabled if n not in known]
        bad += [
            f"custom criterion {c.name!r} has the name of a protocol criterion; rename it"
            for c in self.custom
            if c.name in protocol
        ]
        if bad:
            raise ValueError("; ".join(bad))
        return self


ADVANCED_STAGES = frozenset({"IIIA", "IIIB", "IIIC", "IVA", "IVB"})
# The acquired-resistance phenotype by definition: Schoenfeld 2021 calls it acquired
# resistance, SITC 2020 and 2023 call it secondary resistance (each definition gives only
# its own class, so admitting both selects the configured definition's phenotype).
ACQUIRED_CLASSES = frozenset({"acquired", "secondary"})

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
            lambda f: _col(f, "resistance_class").isin(ACQUIRED_CLASSES),
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
