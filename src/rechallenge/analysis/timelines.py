"""Per-patient views: best tumour change (waterfall) and treatment timelines (swimmer)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from rechallenge.config import StudyConfig


def waterfall(included: pd.DataFrame, pseudonyms: Mapping[str, str]) -> list[dict[str, Any]]:
    """Best % change of the target sum per patient and course (lesion-derived only)."""
    parts = []
    for course in ("initial", "rechallenge"):
        column = f"{course}_best_pct_change"
        if column not in included:
            continue
        part = included[included[column].notna()]
        parts.append(
            pd.DataFrame({
                "patient": part["patient_id"].map(pseudonyms),
                "course": course,
                "best_pct_change": part[column].astype(float),
                "bor": part[f"{course}_bor"],
            })
        )  # fmt: skip
    return pd.concat(parts).to_dict(orient="records") if parts else []


SWIMMER_DATES = {
    "initial_end": "initial_last_dose_date",
    "initial_response": "initial_response_date",
    "initial_progression": "initial_progression_date",
    "interim_start": "initial_next_line_start",
    "interim_end": "rechallenge_start_date",
    "rechallenge_start": "rechallenge_start_date",
    "rechallenge_end": "rechallenge_last_dose_date",
    "rechallenge_response": "rechallenge_response_date",
    "rechallenge_progression": "rechallenge_progression_date",
}


def swimmer(
    included: pd.DataFrame,
    endpoints: pd.DataFrame,
    pseudonyms: Mapping[str, str],
    config: StudyConfig,
) -> list[dict[str, Any]]:
    """Each patient's timeline in months from the initial ICI start (vectorised)."""
    dpm = config.endpoints.days_per_month
    origin = included["initial_start_date"]

    def months(column: str) -> pd.Series:
        if column not in included:
            return pd.Series(np.nan, index=included.index)
        return (pd.to_datetime(included[column]) - origin).dt.days / dpm

    has_interim = included["interim_lines"].map(lambda v: isinstance(v, tuple) and len(v) > 0)
    frame = pd.DataFrame({"patient": included["patient_id"].map(pseudonyms), "initial_start": 0.0})
    for key, column in SWIMMER_DATES.items():
        frame[key] = months(column)
    for key in ("interim_start", "interim_end"):
        frame[key] = frame[key].where(has_interim)
    dead = included["death_date"].notna()
    frame["last_followup"] = (included["death_date"].where(dead, included["last_contact_date"])
                              - origin).dt.days / dpm  # fmt: skip
    frame["death"] = dead
    frame["ongoing"] = included["rechallenge_end_reason"] == "ongoing"
    os_censored = endpoints[endpoints["paramcd"] == "OS"].set_index("patient_id")["cnsr"] == 1
    frame["censored"] = included["patient_id"].map(os_censored).fillna(False).astype(bool)
    frame["bor_initial"] = included.get("initial_bor")
    frame["bor_rechallenge"] = included.get("rechallenge_bor")
    records: list[dict[str, Any]] = (
        frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    )
    return records
