"""Adverse events per treatment phase: reported events merged with CTCAE-graded lab events.

Steps (details in docs/rules-ctcae.md, "Adverse events"):

1. `collect_events` stacks reported events (source "reported") and lab rows graded >= 1 (source
   "lab"), normalises terms, and assigns each event a phase from its date and the patient's
   `PhaseWindow`: "rechallenge", "initial" or "none" (outside both windows, or no date). No event
   is dropped.
2. `worst_grades` keeps one row per patient, phase and term: the worst grade, with the sources
   that contributed ("reported", "lab" or "both") and the rows they came from.
3. `summarise_adverse_events` counts patients per phase and term: any grade, grade 3-4 and
   grade 5, as n and n (%) of a given denominator.

Exception tree::

    RechallengeError, ValueError
    └── AdverseEventInputError   invalid grades, mixed CTCAE versions, unknown phases
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from rechallenge.errors import RechallengeError

__all__ = [
    "PHASES",
    "AdverseEventInputError",
    "AdverseEventSettings",
    "PhaseWindow",
    "collect_events",
    "format_n_pct",
    "merge_adverse_events",
    "phase_window",
    "summarise_adverse_events",
    "worst_grades",
]

# endpoints-and-statistics.md §3: treatment-emergent = onset on/after first dose and <= last dose
# + 30 days (admiral ADAE template, derive_var_trtemfl(end_window = 30)).
TREATMENT_EMERGENT_DAYS = 30
# CTCAE: grades 1-5 (5 = death related to the AE).
VALID_GRADES = frozenset({1, 2, 3, 4, 5})
# Seed study Table 4 reports "grade 3-4"; grade 5 is counted separately.
SEVERE_GRADES = (3, 4)
FATAL_GRADE = 5

PHASES = ("initial", "rechallenge", "none")
Phase = Literal["initial", "rechallenge", "none"]


class AdverseEventInputError(RechallengeError, ValueError):
    """Adverse-event or graded-lab input that cannot be merged; names rows, never patients."""


class AdverseEventSettings(BaseModel):
    """How adverse events are assigned to phases and merged."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ctcae_version: Literal["4.0", "5.0"] = Field(
        default="4.0",
        description="CTCAE version of the lab grading (the seed study used v4.0); graded labs "
        "of another version are refused.",
    )
    treatment_emergent_days: int = Field(
        default=TREATMENT_EMERGENT_DAYS,
        ge=0,
        description="Days after the last dose of a course during which events still belong to "
        "it (endpoints-and-statistics.md §3; 90 or 100 days is the common irAE convention).",
    )
    include_lab_events: bool = Field(
        default=True,
        description="Merge lab results graded >= 1 with the reported adverse events.",
    )


@dataclass(frozen=True)
class PhaseWindow:
    """Per-patient phase windows, both ends inclusive; an end of ``None`` is open."""

    initial_start: pd.Timestamp | None
    initial_end_of_window: pd.Timestamp | None
    rechallenge_start: pd.Timestamp | None = None
    rechallenge_end_of_window: pd.Timestamp | None = None


def _opt(ts: pd.Timestamp | None) -> pd.Timestamp | None:
    return None if ts is None or pd.isna(ts) else pd.Timestamp(ts)


def phase_window(
    initial_start: pd.Timestamp,
    initial_last_dose: pd.Timestamp | None,
    rechallenge_start: pd.Timestamp | None = None,
    rechallenge_last_dose: pd.Timestamp | None = None,
    settings: AdverseEventSettings | None = None,
) -> PhaseWindow:
    """Windows from course dates: last dose + ``treatment_emergent_days``, cut at the next start.

    A course without a last dose (ongoing) has an open window, cut only by a rechallenge start.
    The initial window ends the day before the rechallenge starts if its tail would reach it.
    """
    s = settings if settings is not None else AdverseEventSettings()
    tail = pd.Timedelta(days=s.treatment_emergent_days)
    i_last, r_start, r_last = (
        _opt(initial_last_dose),
        _opt(rechallenge_start),
        _opt(rechallenge_last_dose),
    )
    i_end = None if i_last is None else i_last + tail
    if r_start is not None:
        cut = r_start - pd.Timedelta(days=1)
        i_end = cut if i_end is None else min(i_end, cut)
    r_end = None if r_last is None else r_last + tail
    return PhaseWindow(_opt(initial_start), i_end, r_start, r_end)


def phase_windows(
    patient_ids: pd.Series,
    initial_start: pd.Series,
    initial_last_dose: pd.Series,
    rechallenge_start: pd.Series,
    rechallenge_last_dose: pd.Series,
    settings: AdverseEventSettings | None = None,
) -> dict[str, PhaseWindow]:
    """`phase_window` for many patients at once (same rules, computed column-wise)."""
    s = settings if settings is not None else AdverseEventSettings()
    tail = pd.Timedelta(days=s.treatment_emergent_days)
    i_start = pd.to_datetime(initial_start)
    r_start = pd.to_datetime(rechallenge_start)
    cut = r_start - pd.Timedelta(days=1)
    i_end = pd.to_datetime(initial_last_dose) + tail
    i_end = i_end.where(i_end.isna() | cut.isna() | (i_end <= cut), cut)
    i_end = i_end.where(i_end.notna() | cut.isna(), cut)
    r_end = pd.to_datetime(rechallenge_last_dose) + tail

    def boxed(series: pd.Series) -> list[pd.Timestamp | None]:
        return [None if pd.isna(v) else pd.Timestamp(v) for v in series.astype(object)]

    return {
        str(pid): PhaseWindow(a, b, c, d)
        for pid, a, b, c, d in zip(
            patient_ids, boxed(i_start), boxed(i_end), boxed(r_start), boxed(r_end), strict=True
        )
    }


def _assign_phase(
    patient_ids: pd.Series, dates: pd.Series, windows: Mapping[str, PhaseWindow]
) -> np.ndarray:
    frame = pd.DataFrame.from_dict(
        {
            pid: (
                w.initial_start,
                w.initial_end_of_window,
                w.rechallenge_start,
                w.rechallenge_end_of_window,
            )
            for pid, w in windows.items()
        },
        orient="index",
        columns=["i0", "i1", "r0", "r1"],
        dtype="datetime64[ns]",
    )
    at = frame.reindex(patient_ids.astype(str).to_numpy())
    d = pd.to_datetime(dates).to_numpy()

    def inside(start: str, end: str) -> np.ndarray:
        s, e = at[start].to_numpy(), at[end].to_numpy()
        return ~pd.isna(d) & ~pd.isna(s) & (d >= s) & (pd.isna(e) | (d <= e))

    in_r, in_i = inside("r0", "r1"), inside("i0", "i1")
    return np.where(in_r, "rechallenge", np.where(in_i, "initial", "none"))


def _rows(frame: pd.DataFrame, mask: pd.Series) -> str:
    return ", ".join(str(r) for r in frame.loc[mask, "source_row"].head(10))


def _reported_events(reported: pd.DataFrame) -> pd.DataFrame:
    grade = pd.to_numeric(reported["grade"], errors="coerce")
    raw_blank = reported["grade"].isna()
    bad = (~raw_blank & ~grade.isin(list(VALID_GRADES))) | (grade.isna() & ~raw_blank)
    if bad.any():
        raise AdverseEventInputError(
            f"adverse_events: grade must be an integer 1-5 (rows {_rows(reported, bad)})"
        )
    blank_term = reported["term"].isna() | reported["term"].astype("string").str.strip().eq("")
    if blank_term.any():
        raise AdverseEventInputError(
            f"adverse_events: term is blank (rows {_rows(reported, blank_term)})"
        )
    immune = (
        reported["immune_related"].astype("boolean")
        if "immune_related" in reported.columns
        else pd.array([pd.NA] * len(reported), dtype="boolean")
    )
    return pd.DataFrame(
        {
            "patient_id": reported["patient_id"].astype(str).to_numpy(),
            "term": reported["term"].astype(str).str.strip().to_numpy(),
            "grade": grade.astype("Int64").to_numpy(),
            "date": pd.to_datetime(reported["onset_date"]).to_numpy(),
            "source": "reported",
            "immune_related": immune,
            "source_row": reported["source_row"].to_numpy(),
        }
    )


def _lab_events(graded: pd.DataFrame, version: str) -> pd.DataFrame:
    if "ctcae_version" in graded.columns:
        other = graded["ctcae_version"].astype(str) != version
        if other.any():
            raise AdverseEventInputError(
                f"labs graded with CTCAE {sorted(set(graded.loc[other, 'ctcae_version']))} but "
                f"the study uses {version}; regrade (rows {_rows(graded, other)})"
            )
    events = graded[graded["grade"].fillna(0) >= 1]
    return pd.DataFrame(
        {
            "patient_id": events["patient_id"].astype(str).to_numpy(),
            "term": events["term"].astype(str).to_numpy(),
            "grade": events["grade"].astype("Int64").to_numpy(),
            "date": pd.to_datetime(events["date"]).to_numpy(),
            "source": "lab",
            "immune_related": pd.array([pd.NA] * len(events), dtype="boolean"),
            "source_row": events["source_row"].to_numpy(),
        }
    )


def collect_events(
    reported: pd.DataFrame | None,
    graded_labs: pd.DataFrame | None,
    windows: Mapping[str, PhaseWindow],
    settings: AdverseEventSettings | None = None,
) -> pd.DataFrame:
    """One row per event with its phase; nothing is dropped.

    `reported` has the data-model adverse_events columns (patient_id, term, grade, onset_date,
    optional immune_related, source_row). `graded_labs` is the output of
    `rechallenge.rules.ctcae.grade_labs`; only rows graded >= 1 are events. Terms that differ only
    in case or surrounding spaces are the same term (the lab/CTCAE spelling is kept).

    Columns: patient_id, term, grade (Int64; <NA> = unknown grade), date, phase, source
    ("reported"/"lab"), immune_related (boolean), source_row.
    """
    s = settings if settings is not None else AdverseEventSettings()
    parts = []
    if graded_labs is not None and s.include_lab_events:
        parts.append(_lab_events(graded_labs, s.ctcae_version))
    if reported is not None:
        parts.append(_reported_events(reported))
    columns = ["patient_id", "term", "grade", "date", "source", "immune_related", "source_row"]
    parts = [p for p in parts if len(p)]
    events = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    key = events["term"].astype(str).str.casefold()
    canonical = events.groupby(key, sort=False)["term"].first()  # lab rows come first
    events["term"] = key.map(canonical).to_numpy()
    events["phase"] = _assign_phase(events["patient_id"], events["date"], windows)
    events["grade"] = events["grade"].astype("Int64")
    events["immune_related"] = events["immune_related"].astype("boolean")
    order = ["patient_id", "term", "grade", "date", "phase", "source", "immune_related"]
    return events[[*order, "source_row"]]


def _sources(grouped: Any) -> pd.Series:
    """Per group: the single source of its events, or "both" (vectorised)."""
    first = grouped.first()
    return first.where(grouped.nunique() == 1, "both")


def _rows_of(events: pd.DataFrame, keys: list[str], source: str) -> pd.Series:
    """Per group: the spreadsheet rows of its events from one source, as a tuple.

    Rows keep their order within a group; the groups are cut from one stable sort instead of
    calling Python once per group.
    """
    part = events[events["source"] == source]
    grouped = part.groupby(keys, sort=True)
    codes = grouped.ngroup().to_numpy()
    kept = codes >= 0  # rows with a blank key belong to no group
    order = np.argsort(codes[kept], kind="stable")
    rows = part["source_row"].to_numpy()[kept][order].astype(int).tolist()
    ends = np.cumsum(np.bincount(codes[kept], minlength=grouped.ngroups)).tolist()
    starts = [0, *ends][:-1]
    index = grouped.size().index
    return pd.Series([tuple(rows[a:b]) for a, b in zip(starts, ends, strict=True)], index=index)


def worst_grades(events: pd.DataFrame) -> pd.DataFrame:
    """The worst grade per patient, phase and term; reported and lab events count once.

    Columns: patient_id, phase, term, grade (worst known grade; <NA> if every grade is unknown),
    source (sources of all events: reported, lab or both), worst_source (sources reaching the
    worst grade), n_events, immune_related (True if any reported event says so), reported_rows
    and lab_rows (tuples of spreadsheet rows).
    """
    keys = ["patient_id", "phase", "term"]
    if events.empty:
        return pd.DataFrame(
            columns=[
                *keys,
                "grade",
                "source",
                "worst_source",
                "n_events",
                "immune_related",
                "reported_rows",
                "lab_rows",
            ]
        )
    e = events.assign(_g=events["grade"].astype("Float64"))
    grouped = e.groupby(keys, sort=True)
    worst = grouped["_g"].max()
    e = e.join(worst.rename("_worst"), on=keys)
    at_worst = e[(e["_g"] == e["_worst"]).fillna(False) | e["_worst"].isna()]
    irae = e["immune_related"]
    irae_any = irae.fillna(False).astype(bool).groupby([e[k] for k in keys], sort=True).any()
    irae_known = irae.notna().groupby([e[k] for k in keys], sort=True).any()
    out = pd.DataFrame(
        {
            "grade": worst.astype("Int64"),
            "source": _sources(grouped["source"]),
            "worst_source": _sources(at_worst.groupby(keys, sort=True)["source"]),
            "n_events": grouped.size(),
            "immune_related": irae_any.astype("boolean").where(irae_known),
            "reported_rows": _rows_of(e, keys, "reported"),
            "lab_rows": _rows_of(e, keys, "lab"),
        }
    )
    out["reported_rows"] = out["reported_rows"].map(lambda v: v if isinstance(v, tuple) else ())
    out["lab_rows"] = out["lab_rows"].map(lambda v: v if isinstance(v, tuple) else ())
    return out.reset_index()


def merge_adverse_events(
    reported: pd.DataFrame | None,
    graded_labs: pd.DataFrame | None,
    windows: Mapping[str, PhaseWindow],
    settings: AdverseEventSettings | None = None,
) -> pd.DataFrame:
    """`worst_grades` of `collect_events`: one row per patient, phase and term."""
    return worst_grades(collect_events(reported, graded_labs, windows, settings))


def format_n_pct(n: int, denominator: int, decimals: int = 1) -> str:
    """'n (p%)' with the percentage rounded half up, e.g. 1 of 13 -> '1 (7.7%)'."""
    if denominator <= 0:
        return f"{n} (-)"
    pct = (Decimal(100 * n) / Decimal(denominator)).quantize(
        Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP
    )
    return f"{n} ({pct}%)"


def summarise_adverse_events(
    worst: pd.DataFrame,
    denominators: Mapping[str, int] | int,
    phases: tuple[str, ...] = ("initial", "rechallenge"),
) -> pd.DataFrame:
    """Patients per phase and term: any grade, grade 3-4, grade 5, as n and 'n (%)'.

    `worst` is the output of `worst_grades`. `denominators` gives the number of patients per
    phase (or one number for all). A patient counts once per term and phase, at the worst grade:
    a worst grade of 5 counts under grade 5, not under 3-4; an unknown grade counts under any
    grade only. Phases not listed in `phases` (by default "none") are left out of the summary.
    """
    unknown = sorted(set(phases) - set(PHASES))
    if unknown:
        raise AdverseEventInputError(f"unknown phases {unknown}; phases are {list(PHASES)}")
    denom = {p: denominators for p in phases} if isinstance(denominators, int) else denominators
    missing = [p for p in phases if p not in denom]
    if missing:
        raise AdverseEventInputError(f"no denominator for phases {missing}")
    w = worst[worst["phase"].isin(phases)]
    grade = w["grade"].astype("Float64")
    flags = pd.DataFrame(
        {
            "phase": w["phase"],
            "term": w["term"],
            "n_any": 1,
            "n_grade_3_4": grade.isin(SEVERE_GRADES).fillna(False).astype(int),
            "n_grade_5": (grade == FATAL_GRADE).fillna(False).astype(int),
        }
    )
    counts = flags.groupby(["phase", "term"], sort=False).sum().reset_index()
    counts["denominator"] = counts["phase"].map(denom).astype(int)
    for col in ("n_any", "n_grade_3_4", "n_grade_5"):
        label = col[2:]
        counts[f"pct_{label}"] = 100 * counts[col] / counts["denominator"]
        counts[label] = [
            format_n_pct(int(n), int(d))
            for n, d in zip(counts[col], counts["denominator"], strict=True)
        ]
    counts["_order"] = counts["phase"].map({p: i for i, p in enumerate(phases)})
    counts = counts.sort_values(["_order", "n_any", "term"], ascending=[True, False, True])
    columns = [
        "phase",
        "term",
        "denominator",
        "n_any",
        "pct_any",
        "any",
        "n_grade_3_4",
        "pct_grade_3_4",
        "grade_3_4",
        "n_grade_5",
        "pct_grade_5",
        "grade_5",
    ]
    return counts[columns].reset_index(drop=True)
