"""The study protocol's analyses, assembled as the results dict.

Sections (keys of results.json): cohort, baseline, efficacy, resistance, km, logrank,
follow_up, cox, cox_models, competing_risks (when configured), adverse_events, waterfall,
swimmer, data_quality. Each
statistic names the method that produced it. Figures and tables read these results; they
never recompute. The pipeline adds methods, warnings and the manifest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
from rechallenge.analysis.competing import competing_section
from rechallenge.analysis.context import context_results
from rechallenge.analysis.efficacy import efficacy
from rechallenge.analysis.formatting import clean
from rechallenge.analysis.prognostic import prognostic_results
from rechallenge.analysis.quality import ImputationLike, WarningLike, data_quality_section
from rechallenge.analysis.regression import cox_section
from rechallenge.analysis.safety import ae_section
from rechallenge.analysis.survival import follow_up_section, km_section, logrank_section
from rechallenge.analysis.timelines import swimmer, waterfall
from rechallenge.config import StudyConfig
from rechallenge.labels import labels_from_config
from rechallenge.rules.cohort import Selection
from rechallenge.rules.response_common import CourseResponse


@dataclass(frozen=True)
class AnalysisInputs:
    """What the analyses read: patient facts, endpoints and AEs of the analysed patients."""

    facts: pd.DataFrame  # one row per screened patient (derive.patients)
    selection: Selection
    endpoints: pd.DataFrame  # one row per included patient and endpoint (derive.endpoints)
    adverse_events: pd.DataFrame | None  # worst grade per patient, term, phase
    pseudonyms: Mapping[str, str]
    #: the course responses of derive.patients (for why a course is PD); optional
    responses: Mapping[tuple[str, str], CourseResponse] | None = None
    #: partial dates completed on reading (`Study.imputations`); counted, never listed
    imputations: Sequence[ImputationLike] = ()
    #: data-quality warnings of the run (study and derivation); counted per code
    warnings: Sequence[WarningLike] = ()
    #: the validated labs table (for the prognostic markers); None without labs
    labs: pd.DataFrame | None = None


def analyse(inputs: AnalysisInputs, config: StudyConfig) -> dict[str, Any]:
    """Run every configured analysis; returns the results dict (before the manifest)."""
    labels = labels_from_config(config.model_dump(mode="json"))
    included = inputs.facts[inputs.facts["patient_id"].isin(inputs.selection.included_ids)]
    included = add_covariates(add_subgroups(included, config.statistics.subgroups))
    results: dict[str, Any] = {
        "cohort": cohort_section(inputs.facts, inputs.selection, inputs.pseudonyms, config, labels),
        "baseline": baseline_section(included, config, labels),
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
    results["cox"], results["cox_models"] = cox_section(survival, included, config, labels)
    competing = competing_section(survival, config)
    if competing is not None:
        results["competing_risks"] = competing
    if inputs.adverse_events is not None:
        results["adverse_events"] = ae_section(inputs.adverse_events, len(included))
    results["waterfall"] = waterfall(included, inputs.pseudonyms, inputs.responses)
    results["swimmer"] = swimmer(included, inputs.endpoints, inputs.pseudonyms, config)
    results["data_quality"] = data_quality_section(
        included, inputs.imputations, inputs.warnings, labels
    )
    results.update(context_results(results, config))
    results.update(prognostic_results(included, survival, inputs.labs, config))
    return clean(results)
