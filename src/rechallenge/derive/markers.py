"""Prognostic markers at the rechallenge baseline, derived from the data (seed study's list).

Each marker has one rule, stated in `MarkerSettings` (so in the configuration) and in
Methods (`marker_methods`):

* **NLR**, neutrophil-to-lymphocyte ratio: per count, the result nearest before the first
  rechallenge dose (the latest dated on or before it, same day included: blood is drawn
  before the infusion) within ``nlr_window_days``; counts in ``/mm3`` or ``cells/µL`` are
  converted to 10^9/L first, so the two need not share a unit. A zero lymphocyte count
  gives no ratio.
* **BMI**: ``weight_kg / (height_cm / 100)²`` from the patients table (weight at the start
  of the rechallenge).
* **PD-L1 re-tested**: ``pdl1_retest_tps`` when ``pdl1_retest_date`` is on or before the
  first rechallenge dose (and within ``pdl1_window_days`` when set); with
  ``pdl1_fallback: diagnostic`` the diagnostic ``pdl1_tps`` stands in for a patient with
  no re-test before the course.

A patient without a value is never dropped silently: `MarkerValues.missing` counts the
reasons per marker, and the analysis says how many patients each model leaves out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from rechallenge.data.parse import normalise_unit
from rechallenge.data.schema import CELL_COUNT_PER_10_9_L

__all__ = ["MARKERS", "MarkerSettings", "MarkerValues", "derive_markers", "marker_methods"]

#: The derived markers, as the analysis and the label catalogue name them.
MARKERS: Final = ("nlr", "bmi", "pdl1_retest")

NO_RECHALLENGE: Final = "no rechallenge start"


class MarkerSettings(BaseModel):
    """Rules of the markers derived at the rechallenge baseline."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    nlr_window_days: int = Field(
        30,
        ge=0,
        description="NLR: each count is the result nearest before the first rechallenge "
        "dose (same day included) no more than this many days before it.",
    )
    nlr_cutoff: float = Field(
        3.8, gt=0, description="NLR below this is favourable (variable nlr_low)."
    )
    bmi_cutoff: float = Field(
        20.0, gt=0, description="BMI at or below this is unfavourable (variable bmi_low)."
    )
    pdl1_window_days: int | None = Field(
        None,
        ge=0,
        description="PD-L1 re-test: only a re-biopsy at most this many days before the "
        "first rechallenge dose counts; empty, any date before it.",
    )
    pdl1_fallback: Literal["none", "diagnostic"] = Field(
        "none",
        description="Without a re-test before the course: no value (none) or the "
        "diagnostic pdl1_tps (diagnostic).",
    )


@dataclass(frozen=True)
class MarkerValues:
    """One row per patient (``patient_id``, ``nlr``, ``bmi``, ``pdl1_retest`` and the
    binary ``nlr_low``, ``bmi_low``) and, per marker, the count of each reason a value
    is missing."""

    table: pd.DataFrame
    missing: dict[str, dict[str, int]] = field(default_factory=dict)


def _cells_10_9(values: pd.Series, units: pd.Series) -> pd.Series:
    """Cell counts converted to 10^9/L (the validator accepted only these units)."""
    factor = units.map(lambda u: CELL_COUNT_PER_10_9_L.get(normalise_unit(str(u)), np.nan))
    return values.astype(float) / factor.astype(float)


def nearest_before(labs: pd.DataFrame, test: str, starts: pd.Series, window_days: int) -> pd.Series:
    """Per patient (index of ``starts``: patient_id), the ``test`` value in 10^9/L dated
    latest on or before the start and at most ``window_days`` before it; NaN if none."""
    rows = labs[labs["test"] == test]
    if rows.empty:
        return pd.Series(np.nan, index=starts.index, dtype=float)
    rows = rows.assign(
        converted=_cells_10_9(rows["value"], rows["unit"]),
        start=rows["patient_id"].map(starts),
    )
    lag = (rows["start"] - rows["date"]).dt.days
    ok = rows[(lag >= 0) & (lag <= window_days)]
    latest = ok.sort_values(["patient_id", "date"]).groupby("patient_id")["converted"].last()
    return latest.reindex(starts.index).astype(float)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """An optional column, all blank when the data do not have it."""
    if name in frame:
        return frame[name]
    return pd.Series(np.nan, index=frame.index, dtype=float)


def _count(reasons: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in Counter(reasons.dropna()).items()}


def _nlr(
    labs: pd.DataFrame, starts: pd.Series, settings: MarkerSettings
) -> tuple[pd.Series, dict[str, int]]:
    window = settings.nlr_window_days
    neut = nearest_before(labs, "neutrophils", starts, window)
    lymph = nearest_before(labs, "lymphocytes", starts, window)
    nlr = (neut / lymph).where(lymph > 0)
    reason = pd.Series(None, index=starts.index, dtype=object)
    reason[lymph == 0] = "lymphocyte count 0"
    reason[lymph.isna()] = f"no lymphocyte count in the {window} days before the first dose"
    reason[neut.isna()] = f"no neutrophil count in the {window} days before the first dose"
    reason[starts.isna()] = NO_RECHALLENGE
    return nlr.where(reason.isna()), _count(reason)


def _bmi(patients: pd.DataFrame) -> tuple[pd.Series, dict[str, int]]:
    height = pd.to_numeric(_column(patients, "height_cm"), errors="coerce")
    weight = pd.to_numeric(_column(patients, "weight_kg"), errors="coerce")
    bmi = weight / (height / 100.0) ** 2
    reason = pd.Series(None, index=patients.index, dtype=object)
    reason[weight.isna()] = "no weight"
    reason[height.isna()] = "no height"
    reason[height.isna() & weight.isna()] = "no height and no weight"
    return bmi.where(reason.isna()), _count(reason)


def _pdl1(
    patients: pd.DataFrame, starts: pd.Series, settings: MarkerSettings
) -> tuple[pd.Series, dict[str, int]]:
    tps = pd.to_numeric(_column(patients, "pdl1_retest_tps"), errors="coerce")
    date = pd.to_datetime(_column(patients, "pdl1_retest_date"))
    lag = (starts - date).dt.days
    usable = tps.notna() & (lag >= 0)
    if settings.pdl1_window_days is not None:
        usable &= lag <= settings.pdl1_window_days
    value = tps.where(usable)
    reason = pd.Series(None, index=patients.index, dtype=object)
    reason[~usable] = "no re-test"
    reason[tps.notna() & (lag < 0)] = "re-tested after the first dose"
    if settings.pdl1_window_days is not None:
        reason[tps.notna() & (lag > settings.pdl1_window_days)] = (
            f"re-tested more than {settings.pdl1_window_days} days before the first dose"
        )
    if settings.pdl1_fallback == "diagnostic":
        diagnostic = pd.to_numeric(_column(patients, "pdl1_tps"), errors="coerce")
        value = value.fillna(diagnostic)
        reason[value.notna()] = None
        reason[value.isna()] = "no re-test and no diagnostic PD-L1"
    reason[starts.isna()] = NO_RECHALLENGE
    return value.where(reason.isna()), _count(reason)


def derive_markers(
    patients: pd.DataFrame, labs: pd.DataFrame, starts: pd.Series, settings: MarkerSettings
) -> MarkerValues:
    """The markers of every patient in ``patients`` at its rechallenge start.

    ``starts`` is the first rechallenge dose per patient (index patient_id; NaT without
    a rechallenge); ``patients`` the validated patients table (the optional body-size and
    re-test columns may be absent), ``labs`` the validated labs table (may be empty).
    """
    frame = patients.set_index("patient_id")
    starts = pd.to_datetime(starts.reindex(frame.index))
    if labs.empty:
        labs = pd.DataFrame(columns=["patient_id", "date", "test", "value", "unit"])
    nlr, nlr_missing = _nlr(labs, starts, settings)
    bmi, bmi_missing = _bmi(frame)
    pdl1, pdl1_missing = _pdl1(frame, starts, settings)
    table = pd.DataFrame(
        {
            "nlr": nlr.astype(float),
            "bmi": bmi.astype(float),
            "pdl1_retest": pdl1.astype(float),
            "nlr_low": (nlr < settings.nlr_cutoff).astype(float).where(nlr.notna()),
            "bmi_low": (bmi <= settings.bmi_cutoff).astype(float).where(bmi.notna()),
        },
        index=frame.index,
    )
    table.index.name = "patient_id"
    missing = {"nlr": nlr_missing, "bmi": bmi_missing, "pdl1_retest": pdl1_missing}
    return MarkerValues(table.reset_index(), missing)


def marker_methods(settings: MarkerSettings) -> list[str]:
    """The derivation rules in words, for Methods."""
    pdl1_when = (
        "dated on or before the first rechallenge dose"
        if settings.pdl1_window_days is None
        else f"dated 0 to {settings.pdl1_window_days} days before the first rechallenge dose"
    )
    fallback = (
        "; without one, the diagnostic PD-L1 TPS was used"
        if settings.pdl1_fallback == "diagnostic"
        else "; patients without one have no value"
    )
    return [
        "The neutrophil-to-lymphocyte ratio (NLR) was computed from the neutrophil and "
        "lymphocyte counts nearest before the first rechallenge dose (the latest on or "
        f"before that day, at most {settings.nlr_window_days} days earlier), both in "
        f"10^9/L; NLR below {settings.nlr_cutoff:g} was taken as favourable.",
        "Body-mass index (BMI) was weight (kg) at the start of rechallenge divided by the "
        f"square of height (m); BMI of {settings.bmi_cutoff:g} kg/m² or less was taken as "
        "unfavourable.",
        f"Re-tested PD-L1 was the tumour proportion score of a re-biopsy {pdl1_when}{fallback}.",
    ]
