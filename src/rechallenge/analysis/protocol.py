"""The study protocol's analyses, assembled as the results dict.

Sections (keys of results.json): cohort, baseline, efficacy, resistance, km, logrank,
follow_up, cox, cox_models, adverse_events, waterfall, swimmer, data_quality. Each
statistic names the method that produced it. Figures and tables read these results; they
never recompute. The pipeline adds methods, warnings and the manifest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from rechallenge.analysis.baseline import baseline_section
from rechallenge.analysis.cohort import (
    add_covariates,
    add_subgroups,
    cohort_section,
    resistance_section,
)
from rechallenge.analysis.efficacy import efficacy
from rechallenge.analysis.formatting import clean
from rechallenge.analysis.regression import cox_section
from rechallenge.analysis.safety import ae_section
from rechallenge.analysis.survival import follow_up_section, km_section, logrank_section
from rechallenge.analysis.timelines import swimmer, waterfall
from rechallenge.config import StudyConfig
from rechallenge.rules.cohort import Selection


@dataclass(frozen=True)
class AnalysisInputs:
    """What the analyses read: patient facts, endpoints and AEs of the analysed patients."""

    facts: pd.DataFrame  # one row per screened patient (derive.patients)
    selection: Selection
    endpoints: pd.DataFrame  # one row per included patient and endpoint (derive.endpoints)
    adverse_events: pd.DataFrame | None  # worst grade per patient, term, phase
    pseudonyms: Mapping[str, str]


def analyse(inputs: AnalysisInputs, config: StudyConfig) -> dict[str, Any]:
    """Run every configured analysis; returns the results dict (before the manifest)."""
    included = inputs.facts[inputs.facts["patient_id"].isin(inputs.selection.included_ids)]
    included = add_covariates(add_subgroups(included, config.statistics.subgroups))
    results: dict[str, Any] = {
        "cohort": cohort_section(inputs.facts, inputs.selection, inputs.pseudonyms, config),
        "baseline": baseline_section(included, config),
        "efficacy": {
            course: efficacy(
                included[f"{course}_bor"]
                if f"{course}_bor" in included
                else pd.Series(dtype=object),
                included.get(f"{course}_response_source"),
                config,
            )
            for course in ("initial", "rechallenge")
        },
    }
    results["resistance"] = resistance_section(config)
    survival = inputs.endpoints.merge(
        included[["patient_id", *[s.name for s in config.statistics.subgroups]]],
        on="patient_id",
        how="inner",
    )
    results["km"] = km_section(survival, config)
    results["logrank"] = logrank_section(survival, config)
    follow_up = follow_up_section(survival, config)
    if follow_up is not None:
        results["follow_up"] = follow_up
    results["cox"] = cox_section(survival, included, config)
    if inputs.adverse_events is not None:
        results["adverse_events"] = ae_section(inputs.adverse_events, len(included))
    results["waterfall"] = waterfall(included, inputs.pseudonyms)
    results["swimmer"] = swimmer(included, inputs.endpoints, inputs.pseudonyms, config)
    return clean(results)
