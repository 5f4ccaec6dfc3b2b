"""The JSON API's public shapes (response models)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class Created(BaseModel):
    """A study was created."""

    id: str


class ProblemOut(BaseModel):
    """One validation problem, located (the value only when it identifies nobody)."""

    code: str
    severity: str
    table: str
    row: int | None
    column: str | None
    message: str
    fix: str
    value: str | None = None
    patient_id: str | None = None


class StudyOut(BaseModel):
    """A study's validation state and its runs."""

    id: str
    name: str
    valid: bool
    problems: list[ProblemOut]
    input_sha256: str
    show_ids: bool
    runs: list[str]


class RunQueued(BaseModel):
    """A run was queued."""

    run_id: str


class RunOut(BaseModel):
    """A run's state."""

    run_id: str
    study_id: str
    status: Literal["queued", "running", "done", "failed"]
    progress: float = Field(ge=0, le=1)
    stage: str
    error: str | None
    input_sha256: str


class Line(BaseModel):
    """One line of systemic therapy of the patient (dates as YYYY-MM-DD)."""

    ici: bool = Field(description="An anti-PD-(L)1 drug (alone or combined).")
    start_date: str
    last_dose_date: str | None = None
    end_reason: str | None = Field(
        None, description="progression, toxicity, irae, completed, ongoing, clinical_decision..."
    )
    best_response: Literal["cr", "pr", "sd", "pd", "ne"] | None = None
    response_date: str | None = None
    progression_date: str | None = None
    progression_confirmed_date: str | None = None


class EligibilityIn(BaseModel):
    """One patient: treatment lines in order, and the facts the criteria read."""

    lines: list[Line] = Field(min_length=1)
    histology: str | None = "adenocarcinoma"
    stage: str | None = Field(None, description="IIIA ... IVB")
    recurrent: bool = False
    driver: str | None = Field(None, description="EGFR, ALK, ... or empty")
    ecog_rechallenge: int | None = Field(None, ge=0, le=5)
    age_at_rechallenge: float | None = Field(None, ge=0, le=130)
    measurable_at_rechallenge: bool = True
    config: dict[str, Any] | None = Field(
        None, description="The study configuration (the YAML's mapping); default the seed's."
    )


class DefinitionVerdict(BaseModel):
    """Acquired resistance by one definition."""

    definition: str
    name: str
    resistance_class: str
    acquired: bool
    reason: str


class CriterionVerdict(BaseModel):
    """One rechallenge criterion of the study."""

    criterion: str
    name: str
    kind: str
    met: bool
    reason: str


class EligibilityOut(BaseModel):
    """Whether the patient meets acquired resistance (each definition) and the criteria."""

    resistance: list[DefinitionVerdict]
    criteria: list[CriterionVerdict]
    eligible: bool
    summary: str
