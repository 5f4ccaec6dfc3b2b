"""Eligibility of one patient, on the library's engines.

Steps:

1. The first anti-PD-(L)1 line is the initial course; a later anti-PD-(L)1 line starting
   after that course's progression is the rechallenge.
2. The initial course is classified by `rules.resistance.classify_resistance` under each
   published definition (the study's other resistance settings kept).
3. A one-row screening frame (the columns `rules.cohort` documents) is built from the form,
   with the resistance class under the study's definition, and every criterion of
   `rules.cohort.criteria_for` is evaluated on it: met, or failed with the engine's reason.
"""

from __future__ import annotations

from typing import Any, get_args

import pandas as pd

from rechallenge.config import StudyConfig, config_from_mapping
from rechallenge.labels import labels_from_config
from rechallenge.rules.cohort import criteria_for
from rechallenge.rules.resistance import (
    Definition,
    ResistanceClass,
    ResistanceInputs,
    ResistanceResult,
    classify_resistance,
)
from rechallenge.web.schemas import (
    CriterionVerdict,
    DefinitionVerdict,
    EligibilityIn,
    EligibilityOut,
    Line,
)

# The acquired-resistance phenotype under each definition's name (SITC: secondary).
ACQUIRED_PHENOTYPE = frozenset({ResistanceClass.ACQUIRED, ResistanceClass.SECONDARY})
# The short class keys the cohort criteria read (as the pipeline's screening frame has them).
CLASS_KEYS = {
    ResistanceClass.ACQUIRED: "acquired",
    ResistanceClass.PRIMARY: "primary",
    ResistanceClass.SECONDARY: "secondary",
}
# Facts whose absence makes a criterion's reason read "not given".
NEEDS = {"age_range": "age_at_rechallenge", "ecog_max": "ecog_rechallenge"}


class EligibilityError(ValueError):
    """The lines cannot be classified; the message says which field, never a date."""


def _date(value: str | None, field: str) -> pd.Timestamp | None:
    if value is None or not value.strip():
        return None
    try:
        return pd.Timestamp(value).normalize()
    except ValueError:
        raise EligibilityError(f"{field}: not a date (write YYYY-MM-DD)") from None


def _inputs(line: Line) -> ResistanceInputs:
    """The course values the resistance engine reads."""
    first = _date(line.start_date, "start date")
    if first is None:
        raise EligibilityError("the first anti-PD-(L)1 line needs a start date")
    return ResistanceInputs(
        first_dose=first,
        last_dose=_date(line.last_dose_date, "last dose date"),
        end_reason=line.end_reason or None,
        best_response=line.best_response,
        response_date=_date(line.response_date, "response date"),
        progression_date=_date(line.progression_date, "progression date"),
        progression_confirmed_date=_date(
            line.progression_confirmed_date, "confirmed progression date"
        ),
        ongoing_at_progression=line.end_reason == "ongoing",
    )


def _rechallenge(lines: list[Line], initial: Line) -> Line | None:
    """The first anti-PD-(L)1 line starting after the initial course's progression."""
    progression = _date(initial.progression_date, "progression date")
    if progression is None:
        return None
    later = [
        line
        for line in lines
        if line is not initial
        and line.ici
        and (start := _date(line.start_date, "start date"))
        and start > progression
    ]
    return later[0] if later else None


def _definition_name(labels: Any, definition: str) -> str:
    for code in (definition, definition.split("_")[0]):
        text = labels.get("method", f"resistance_definition.{code}", default="")
        if text:
            return str(text[0].upper() + text[1:])
    return definition


def _class_name(labels: Any, value: ResistanceClass) -> str:
    text = str(value)
    return str(
        labels.get("resistance_class", CLASS_KEYS.get(value, text), default=text.capitalize())
    )


def classify(patient: EligibilityIn) -> EligibilityOut:
    """The classification by each definition and every criterion, with reasons in words."""
    config = config_from_mapping(patient.config) if patient.config else StudyConfig()
    labels = labels_from_config(config.model_dump(mode="json"))
    ici = [line for line in patient.lines if line.ici]
    if not ici:
        raise EligibilityError("no anti-PD-(L)1 line: tick 'anti-PD-(L)1' on at least one line")
    initial = ici[0]
    inputs = _inputs(initial)
    verdicts: list[DefinitionVerdict] = []
    chosen: ResistanceResult | None = None
    for definition in get_args(Definition):
        settings = config.resistance.model_copy(update={"definition": definition})
        try:
            result = classify_resistance(inputs, settings)
        except ValueError as exc:
            raise EligibilityError(str(exc)) from None
        if definition == config.resistance.definition:
            chosen = result
        verdicts.append(
            DefinitionVerdict(
                definition=definition,
                name=_definition_name(labels, definition),
                resistance_class=_class_name(labels, result.resistance_class),
                acquired=result.resistance_class in ACQUIRED_PHENOTYPE,
                reason=result.reason,
            )
        )
    assert chosen is not None
    rechallenge = _rechallenge(patient.lines, initial)
    row = _screening_row(patient, initial, rechallenge, chosen)
    criteria = _criteria(config, labels, row)
    eligible = all(c.met for c in criteria)
    failed = [c.name for c in criteria if not c.met]
    summary = (
        "Meets every rechallenge criterion of the study."
        if eligible
        else f"Does not meet {len(failed)} criterion(s): " + "; ".join(failed) + "."
    )
    return EligibilityOut(
        resistance=verdicts, criteria=criteria, eligible=eligible, summary=summary
    )


def _screening_row(
    patient: EligibilityIn, initial: Line, rechallenge: Line | None, result: ResistanceResult
) -> dict[str, Any]:
    """The facts `rules.cohort` reads, for this one patient."""
    return {
        "patient_id": "patient",
        "histology": patient.histology,
        "stage": patient.stage,
        "recurrent": patient.recurrent,
        "driver": patient.driver or None,
        "has_rechallenge": rechallenge is not None,
        "resistance_class": CLASS_KEYS.get(
            result.resistance_class, str(result.resistance_class).replace(" ", "_")
        ),
        "resistance_reason": result.reason,
        "initial_end_reason": initial.end_reason,
        "measurable_at_rechallenge": patient.measurable_at_rechallenge,
        "rechallenge_evaluable": rechallenge is not None and rechallenge.best_response is not None,
        "age_at_rechallenge": patient.age_at_rechallenge,
        "ecog_rechallenge": patient.ecog_rechallenge,
    }


def _criteria(config: StudyConfig, labels: Any, row: dict[str, Any]) -> list[CriterionVerdict]:
    """Every criterion of the study, evaluated on its own (not only up to the first failure)."""
    frame = pd.DataFrame([row])
    for column in ("age_at_rechallenge", "ecog_rechallenge"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    record = frame.to_dict(orient="records")[0]
    out: list[CriterionVerdict] = []
    for criterion in criteria_for(config.cohort):
        met = bool(criterion.passes(frame).fillna(False).astype(bool).iloc[0])
        name = labels.criterion(criterion.name)
        if met:
            reason = "met"
        elif criterion.name in NEEDS and pd.isna(record.get(NEEDS[criterion.name])):
            reason = "not given"
        else:
            reason = criterion.reason(record)
        out.append(
            CriterionVerdict(
                criterion=criterion.name, name=name, kind=criterion.kind, met=met, reason=reason
            )
        )
    return out
