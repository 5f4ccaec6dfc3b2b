"""Per-patient views: best tumour change (waterfall) and treatment timelines (swimmer)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from rechallenge.config import StudyConfig
from rechallenge.derive.endpoints import ENDPOINTS
from rechallenge.rules.response_common import CourseResponse, NewLesion, Response


def waterfall(
    included: pd.DataFrame,
    pseudonyms: Mapping[str, str],
    responses: Mapping[tuple[str, str], CourseResponse] | None = None,
) -> list[dict[str, Any]]:
    """Best % change of the target sum per patient and course (lesion-derived only).

    Each row also says where the response came from (``response_source``) and, when the
    course's best overall response is PD, why (``pd_reason``, see `pd_reason`).
    """
    responses = responses or {}
    parts = []
    for course in ("initial", "rechallenge"):
        column = f"{course}_best_pct_change"
        if column not in included:
            continue
        part = included[included[column].notna()]
        reasons = [
            pd_reason(responses.get((str(pid), course))) if bor == "PD" else None
            for pid, bor in zip(part["patient_id"], part[f"{course}_bor"], strict=True)
        ]
        parts.append(
            pd.DataFrame({
                "patient": part["patient_id"].map(pseudonyms),
                "course": course,
                "best_pct_change": part[column].astype(float),
                "bor": part[f"{course}_bor"],
                "pd_reason": pd.Series(reasons, index=part.index, dtype=object),
                "response_source": part.get(f"{course}_response_source"),
            })
        )  # fmt: skip
    if not parts:
        return []
    frame = pd.concat(parts)
    records: list[dict[str, Any]] = (
        frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    )
    return records


def pd_reason(response: CourseResponse | None) -> str | None:
    """Why a course's response is PD, read at its first progressive assessment.

    ``"target"`` when the target lesions progressed; otherwise ``"new_lesion"`` when a new
    lesion appeared; otherwise ``"non_target"`` for unequivocal non-target progression.
    None when there is no progressive assessment (e.g. an investigator-assessed PD).
    """
    if response is None:
        return None
    for point in response.timepoints:
        if point.overall.recist_equivalent != Response.PD:
            continue
        if point.target is not None and point.target.recist_equivalent == Response.PD:
            return "target"
        if point.new_lesions == NewLesion.YES:
            return "new_lesion"
        if point.non_target is not None and point.non_target.recist_equivalent == Response.PD:
            return "non_target"
        return None
    return None


#: swimmer key -> facts column; progression is the analysed one (lesion-derived or, failing
#: that, the investigator's: derive.patients' `*_progression_date_derived`), as for PFS
SWIMMER_DATES = {
    "initial_end": "initial_last_dose_date",
    "initial_response": "initial_response_date",
    "initial_progression": "initial_progression_date_derived",
    "interim_start": "initial_next_line_start",
    "interim_end": "rechallenge_start_date",
    "rechallenge_start": "rechallenge_start_date",
    "rechallenge_end": "rechallenge_last_dose_date",
    "rechallenge_response": "rechallenge_response_date",
    "rechallenge_progression": "rechallenge_progression_date_derived",
}


def swimmer(
    included: pd.DataFrame,
    endpoints: pd.DataFrame,
    pseudonyms: Mapping[str, str],
    config: StudyConfig,
) -> list[dict[str, Any]]:
    """Each patient's timeline in months from the initial ICI start (vectorised).

    Also the PFS lanes of each course: ``pfs1_months``/``pfs1_event``, ``pfsr_months``/
    ``pfsr_event`` and ``os_months``/``os_event``, each from that course's own start (the
    endpoints' origins; None when the patient has no such endpoint).
    """
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
    for endpoint in ENDPOINTS:
        rows = endpoints[endpoints["paramcd"] == endpoint].set_index("patient_id")
        key = endpoint.lower()
        frame[f"{key}_months"] = included["patient_id"].map(rows["aval_days"] / dpm)
        frame[f"{key}_event"] = included["patient_id"].map(rows["cnsr"] == 0)
    records: list[dict[str, Any]] = (
        frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    )
    return records
