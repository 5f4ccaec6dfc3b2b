"""Adverse events of the analysed patients: graded labs merged with reported events, by phase.

1. Each patient's phase windows come from the course dates: a course runs from its first
   dose to its last dose plus the treatment-emergent window, cut the day before the next
   ICI course (`rules.adverse_events.phase_window`).
2. Labs are graded by CTCAE (configured version) against the baseline result on or before
   the initial ICI start (used by baseline-relative criteria).
3. Reported and lab-derived events are merged; the worst grade per patient, term and
   phase counts once, with its source (reported, lab or both).
"""

from __future__ import annotations

import pandas as pd

from rechallenge.config import StudyConfig
from rechallenge.data.model import Study
from rechallenge.rules.adverse_events import merge_adverse_events, phase_windows
from rechallenge.rules.ctcae import grade_labs, select_baseline


def derive_adverse_events(
    study: Study, included: pd.DataFrame, config: StudyConfig
) -> pd.DataFrame:
    """Worst grade per included patient, phase and term (steps 1-3)."""
    settings = config.adverse_events
    ids = set(included["patient_id"])
    if not ids:  # nobody analysed: an empty table with the usual columns
        return merge_adverse_events(None, None, {}, settings)
    windows = phase_windows(
        included["patient_id"],
        included["initial_start_date"],
        included["initial_last_dose_date"],
        included["rechallenge_start_date"],
        included["rechallenge_last_dose_date"],
        settings,
    )
    graded = None
    if study.has("labs"):
        labs = study.labs[study.labs["patient_id"].isin(ids)]
        sex = study.patients.set_index("patient_id")["sex"]
        baseline = select_baseline(labs, included.set_index("patient_id")["initial_start_date"])
        graded = grade_labs(labs, sex, settings.ctcae_version, baseline=baseline)
    reported = None
    if study.has("adverse_events"):
        reported = study.adverse_events[study.adverse_events["patient_id"].isin(ids)]
    return merge_adverse_events(reported, graded, windows, settings)
