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
    """The course kind of every treatment line (index aligned with `treatments`).

    Rules 2-4 as running counts within each patient's lines, in line order (no loop over
    patients): ICI lines so far, progressions documented so far on or after the initial
    course, and rechallenge candidates so far.
    """
    t = treatments.sort_values(["patient_id", "line"], kind="stable")
    pid = t["patient_id"]
    ici = t["is_pd1_axis"].astype(bool)
    progressed = t["progression_date"].notna() | (t["end_reason"] == "progression")
    ici_so_far = ici.astype(int).groupby(pid).cumsum()
    started = ici_so_far >= 1
    initial = ici & (ici_so_far == 1)
    counted = (progressed & started).astype(int)
    progression_before = (counted.groupby(pid).cumsum() - counted) > 0
    candidate = ici & started & ~initial & progression_before
    candidates_so_far = candidate.astype(int).groupby(pid).cumsum()
    rechallenge = candidate & (candidates_so_far == 1)
    later = (candidates_so_far >= 1) & ~rechallenge
    kinds = np.select(
        [~started, initial, rechallenge, later, ici],
        ["prior", "initial", "rechallenge", "later", "ici_switch"],
        default="interim",
    )
    return pd.Series(kinds, index=t.index, dtype=object).reindex(treatments.index)


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
    interim = labelled.loc[labelled["course"] == "interim", ["patient_id", "line"]]
    lines: dict[object, list[object]] = {}
    for pid, line in zip(interim["patient_id"].tolist(), interim["line"].tolist(), strict=True):
        lines.setdefault(pid, []).append(line)  # in row order, as a groupby keeps them
    patients["interim_lines"] = [tuple(lines.get(p, ())) for p in patients["patient_id"].tolist()]
    next_start = labelled.sort_values(["patient_id", "line"]).groupby("patient_id")["start_date"]
    labelled["next_start"] = next_start.shift(-1)
    for kind in ("initial", "rechallenge"):
        nxt = labelled[labelled["course"] == kind].drop_duplicates("patient_id")
        patients[f"{kind}_next_line_start"] = map_dates(
            patients["patient_id"], nxt.set_index("patient_id")["next_start"]
        )
    patients["has_rechallenge"] = patients["rechallenge_line"].notna().to_numpy(dtype=np.bool_)
    return patients


def map_dates(keys: pd.Series, dates: pd.Series) -> pd.Series:
    """`keys` mapped through a Series of dates, NaT where a key has none.

    pandas 3 cannot map through an empty datetime Series (it casts the mapper to float64 and
    raises), and a study with no rechallenge course at all (e.g. after a data cut-off) has one.
    """
    if dates.empty:
        return pd.Series(pd.NaT, index=keys.index, dtype="datetime64[ns]")
    return keys.map(dates)
