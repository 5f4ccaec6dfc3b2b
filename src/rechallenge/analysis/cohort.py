"""Who was analysed: screening counts, attrition, each patient's status, and the columns
(subgroups, covariates) every later section reads from the analysed patients."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from rechallenge.config import DAYS_PER_MONTH, StudyConfig, SubgroupSettings
from rechallenge.labels import Labels, labels_from_config
from rechallenge.rules.cohort import Selection


def add_subgroups(frame: pd.DataFrame, subgroups: list[SubgroupSettings]) -> pd.DataFrame:
    """One label column per configured subgroup; a missing value stays missing (never guessed)."""
    out = frame.copy()
    for sub in subgroups:
        source = _subgroup_source(out, sub.column)
        labels = np.where(source >= sub.threshold, sub.high, sub.low).astype(object)
        out[sub.name] = pd.Series(labels, index=out.index).where(source.notna())
    return out


def add_covariates(frame: pd.DataFrame) -> pd.DataFrame:
    """Covariates named as readers expect: age (years, at rechallenge), smoking ever/never."""
    return frame.assign(
        age=frame["age_at_rechallenge"].astype("float64"),
        smoking_status=frame["smoking"].map(
            {"never": "never", "former": "ever", "current": "ever"}
        ),
    )


def _subgroup_source(frame: pd.DataFrame, column: str) -> pd.Series:
    """`ecog` and `age` mean their values at the rechallenge start."""
    name = {"ecog": "ecog_rechallenge", "age": "age_at_rechallenge"}.get(column, column)
    return pd.to_numeric(frame[name], errors="coerce").astype("float64")


def cohort_section(
    facts: pd.DataFrame,
    selection: Selection,
    pseudonyms: Mapping[str, str],
    config: StudyConfig,
    labels: Labels | None = None,
) -> dict[str, Any]:
    """Screened and included counts, attrition per criterion, every patient's status."""
    labels = labels or labels_from_config(config.model_dump(mode="json"))
    response_columns = [
        f"{course}_{what}"
        for course in ("initial", "rechallenge")
        for what in ("bor", "response_source")
        if f"{course}_{what}" in facts
    ]
    listing = selection.listing.merge(
        facts[["patient_id", "resistance_class", "resistance_reason", *response_columns]],
        on="patient_id",
    )
    return {
        "screened": len(listing),
        "included": int(listing["included"].sum()),
        "attrition": attrition_rows(selection, labels),
        "patients": [
            {
                "patient_id": pseudonyms[row.patient_id],
                "included": bool(row.included),
                "criterion": row.criterion or None,
                "reason": row.reason,
                "resistance_class": row.resistance_class,
                "resistance_reason": row.resistance_reason,
                "responses": _patient_responses(row),
            }
            for row in listing.itertuples(index=False)
        ],
        "definition": config.resistance.definition,
    }


def attrition_rows(selection: Selection, labels: Labels) -> list[dict[str, Any]]:
    """Attrition per criterion with the criterion in words (``label``) and the CONSORT
    wording of its failure (``failure_label``), from the label catalogue.

    A custom criterion has no catalogue entry: its description is the label, and the
    failure is worded "Did not meet: <description>" (inclusion) or the description
    itself (exclusion: the description names what excludes).
    """
    rows: list[dict[str, Any]] = selection.attrition.to_dict(orient="records")
    for row in rows:
        name, description = str(row["criterion"]), str(row.get("description", ""))
        fallback = description if row.get("kind") == "exclusion" else f"Did not meet: {description}"
        row["label"] = labels.get("criterion", name, default=description)
        row["failure_label"] = labels.get("failure", name, default=fallback)
    return rows


def _patient_responses(row: Any) -> dict[str, dict[str, Any]]:
    """Best overall response of each ICI course the patient had, with where it came from."""
    out = {}
    for course in ("initial", "rechallenge"):
        bor = getattr(row, f"{course}_bor", None)
        if isinstance(bor, str):
            out[course] = {"bor": bor, "source": getattr(row, f"{course}_response_source", None)}
    return out


def resistance_section(config: StudyConfig) -> dict[str, Any]:
    """Table 1: the resistance definition's criteria, verbatim and as this run applied them."""
    s = config.resistance
    response = "confirmed" if config.response.confirmation else "unconfirmed"
    months = {"mean_month": f"1 month = {DAYS_PER_MONTH} days", "30_day": "1 month = 30 days",
              "calendar": "calendar months"}[s.month_convention]  # fmt: skip
    criteria: list[dict[str, str]]
    if s.definition == "schoenfeld2021":
        criteria = [
            {"criterion": "Prior PD-(L)1 blockade",
             "wording": "Prior treatment with an anti-PD-(L)1 antibody",
             "applied_as": "≥ 1 dose of an anti-PD-1 or anti-PD-L1 agent in the first ICI course"},
            {"criterion": "Objective response",
             "wording": "Objective response (CR or PR) to PD-(L)1 blockade",
             "applied_as": f"Best overall response CR or PR by {config.response.criterion}, "
                           f"{response}; stable disease does not qualify"},
            {"criterion": "Progression after response",
             "wording": f"Progression within {s.air_window_months} months of the last dose of "
                        "PD-(L)1 blockade",
             "applied_as": f"First progression at most {s.air_window_months} months ({months}) "
                           "after the last dose of the first ICI course"},
        ]  # fmt: skip
    else:
        criteria = [
            {"criterion": "Drug exposure",
             "wording": "≥ 6 weeks (primary) or ≥ 6 months (secondary) of PD-(L)1 blockade",
             "applied_as": f"first to last dose of the first ICI course ({months})"},
            {"criterion": "Best response",
             "wording": "PD or SD < 6 months (primary); CR, PR or SD > 6 months (secondary)",
             "applied_as": f"best overall response by {config.response.criterion}, {response}"},
            {"criterion": "Confirmation of progression",
             "wording": "confirmatory scan ≥ 4 weeks after the first PD, unless rapid progression",
             "applied_as": "as recorded; progression > 12 weeks after the last dose is "
                           "progression after discontinuation"},
        ]  # fmt: skip
    return {"definition": s.definition, "criteria": criteria}
