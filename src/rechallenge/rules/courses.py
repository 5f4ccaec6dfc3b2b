"""ICI courses per patient: initial, interim and rechallenge lines.

Rules (data model, "treatments"):

1. An ICI course is a line whose agents include an anti-PD-1, anti-PD-L1 or PD-(L)1
   bispecific agent (`is_pd1_axis`).
2. The *initial* course is the patient's first ICI course.
3. The *rechallenge* course is the next ICI course that starts after a documented
   progression on or after the initial course (a `progression_date`, or a line ended
   for `progression`).
4. Lines between the initial and the rechallenge course are *interim* therapy; lines
   before the initial course are *prior*, lines after the rechallenge course *later*.
   ICI lines after the initial course but before any progression are *ici_switch*.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COURSE_KINDS = ("prior", "initial", "ici_switch", "interim", "rechallenge", "later")


def label_courses(treatments: pd.DataFrame) -> pd.Series:
    """The course kind of every treatment line (index aligned with `treatments`)."""
    ordered = treatments.sort_values(["patient_id", "line"], kind="stable")
    kinds = pd.Series("", index=ordered.index, dtype=object)
    for _, lines in ordered.groupby("patient_id", sort=False):
        kinds[lines.index] = _label_patient(lines)
    return kinds.reindex(treatments.index)


def _label_patient(lines: pd.DataFrame) -> list[str]:
    """Apply rules 2-4 to one patient's lines, in line order."""
    ici = lines["is_pd1_axis"].to_numpy(dtype=bool)
    progressed_on = lines["progression_date"].notna() | (lines["end_reason"] == "progression")
    progressed = progressed_on.to_numpy(dtype=bool)
    labels: list[str] = []
    state = "prior"
    seen_progression = False
    for is_ici, has_progression in zip(ici, progressed, strict=True):
        if state == "prior" and is_ici:
            state = "initial"
        elif state in {"initial", "ici_switch", "interim"}:
            if is_ici and seen_progression:
                state = "rechallenge"
            elif is_ici:
                state = "ici_switch"
            else:
                state = "interim"
        elif state == "rechallenge":
            state = "later"
        labels.append(state)
        if state != "prior":
            seen_progression = seen_progression or bool(has_progression)
    return labels


def course_table(treatments: pd.DataFrame) -> pd.DataFrame:
    """One row per patient: the initial and rechallenge lines and the interim lines between.

    Columns: patient_id, initial_line, rechallenge_line (NA when none), interim_lines (tuple),
    and for both courses their start, last dose, end reason, ECOG, investigator response and
    progression date (prefixed `initial_` / `rechallenge_`).
    """
    labelled = treatments.assign(course=label_courses(treatments))
    patients = pd.DataFrame({"patient_id": pd.unique(treatments["patient_id"])})
    for kind in ("initial", "rechallenge"):
        rows = labelled[labelled["course"] == kind].drop_duplicates("patient_id")
        fields = [
            "line",
            "start_date",
            "last_dose_date",
            "end_reason",
            "ecog",
            "best_response",
            "progression_date",
            "agent_inns",
        ]
        renamed = rows[["patient_id", *fields]].rename(columns={f: f"{kind}_{f}" for f in fields})
        patients = patients.merge(renamed, on="patient_id", how="left")
    interim = labelled[labelled["course"] == "interim"].groupby("patient_id")["line"]
    patients["interim_lines"] = (
        patients["patient_id"]
        .map(interim.apply(tuple))
        .map(lambda v: v if isinstance(v, tuple) else ())
    )
    next_start = labelled.sort_values(["patient_id", "line"]).groupby("patient_id")["start_date"]
    labelled["next_start"] = next_start.shift(-1)
    for kind in ("initial", "rechallenge"):
        nxt = labelled[labelled["course"] == kind].drop_duplicates("patient_id")
        patients[f"{kind}_next_line_start"] = patients["patient_id"].map(
            nxt.set_index("patient_id")["next_start"]
        )
    patients["has_rechallenge"] = patients["rechallenge_line"].notna().to_numpy(dtype=np.bool_)
    return patients
