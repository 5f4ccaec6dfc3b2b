"""Baseline characteristics of the analysed patients, optionally compared between subgroups."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rechallenge.analysis.formatting import percent
from rechallenge.config import StudyConfig
from rechallenge.labels import Labels
from rechallenge.stats.descriptive import (
    chisq_test,
    fisher_test,
    summarise_continuous,
    wilcoxon_test,
)

CATEGORICAL_BASELINE = (
    ("sex", "Sex"),
    ("smoking_status", "Smoking history"),
    ("stage_group", "Stage"),
    ("histology", "Histology"),
    ("metastasis", "Metastases"),
    ("pdl1", "PD-L1 status"),
    ("ecog_group", "ECOG PS at rechallenge"),
)


def baseline_section(frame: pd.DataFrame, config: StudyConfig, labels: Labels) -> dict[str, Any]:
    """Age summary and n (%) of each characteristic (denominator: analysed patients).

    Each level is worded by the label catalogue (`labels.level`), so the study's
    ``labels:`` overrides reach the baseline table as they reach every other output.

    With `output.baseline_compare_by` (a subgroup name) every row also gives the
    numbers per group, and each characteristic is compared between the groups by the
    test its data call for (named in the results).
    """
    n = len(frame)
    derived = _baseline_columns(frame)
    by = config.output.baseline_compare_by
    groups = _comparison_groups(derived, by, config)
    rows: list[dict[str, Any]] = []
    ages = derived["age_at_rechallenge"].astype("float64")
    age = summarise_continuous(ages.to_numpy())
    age_row: dict[str, Any] = {
        "variable": "age",
        "label": "Age at rechallenge, years",
        "kind": "continuous",
        "summary": config.output.baseline_summary,
    } | age.to_dict()
    if groups:
        age_row["groups"] = {
            g: {
                k: summarise_continuous(ages[mask].to_numpy()).to_dict()[k]
                for k in ("median", "q1", "q3", "min", "max", "mean", "sd")
            }
            for g, mask in groups.items()
        }
    rows.append(age_row)
    for variable, label in CATEGORICAL_BASELINE:
        rows += _categorical_rows(derived, variable, label, n, groups, labels)
    section: dict[str, Any] = {"n": n, "rows": rows, "comparison": None}
    if groups and by is not None:
        section["comparison"] = _comparison(derived, by, groups, config)
    return section


def _baseline_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Characteristics as tabulated: smoking as ever/never, stage as III/IV."""
    return frame.assign(
        smoking_status=frame["smoking"].map(
            {"never": "never", "former": "ever", "current": "ever"}
        ),
        stage_group=frame["stage"].map(
            lambda s: None if pd.isna(s) else ("III" if s.startswith("III") else "IV")
        ),
    )


METASTASIS_SITES = ("lung", "brain", "bone", "liver", "adrenal", "pleura")


def _levels(frame: pd.DataFrame, variable: str) -> dict[str, pd.Series]:
    """Each level of a characteristic as a boolean mask (metastasis sites may overlap)."""
    if variable == "metastasis":
        return {
            site: frame["metastases"].map(lambda m, s=site: s in (m or ())).astype(bool)
            for site in METASTASIS_SITES
        }
    values = frame[variable].map(lambda v: "missing" if pd.isna(v) else str(v))
    return {level: values == level for level in sorted(values.unique())}


def _categorical_rows(
    frame: pd.DataFrame,
    variable: str,
    label: str,
    n: int,
    groups: dict[str, pd.Series],
    labels: Labels,
) -> list[dict[str, Any]]:
    """One row per level of a characteristic: n (%) overall and, with groups, per group."""
    if variable != "metastasis" and variable not in frame:
        return []
    rows = []
    for level, mask in _levels(frame, variable).items():
        count = int(mask.sum())
        row: dict[str, Any] = {
            "variable": variable,
            "label": label,
            "kind": "categorical",
            "level": level,
            "level_label": labels.level(variable, level),
            "n": count,
            "percent": percent(count, n),
        }
        if groups:
            row["groups"] = {g: {"n": int((mask & gm).sum())} for g, gm in groups.items()}
        rows.append(row)
    return rows


def _comparison_groups(
    frame: pd.DataFrame, by: str | None, config: StudyConfig
) -> dict[str, pd.Series]:
    """Masks of the comparison groups, in the subgroup's order (low, high)."""
    if by is None:
        return {}
    sub = next((s for s in config.statistics.subgroups if s.name == by), None)
    if sub is None or by not in frame:
        return {}
    return {level: (frame[by] == level).fillna(False) for level in (sub.low, sub.high)}


def _comparison(
    frame: pd.DataFrame, by: str, groups: dict[str, pd.Series], config: StudyConfig
) -> dict[str, Any]:
    """Tests between the groups: Wilcoxon-Mann-Whitney for age; Fisher exact when an
    expected count is below 5, otherwise Pearson chi-square, for categories."""
    sub = next(s for s in config.statistics.subgroups if s.name == by)
    tests: list[dict[str, Any]] = []
    ages = frame["age_at_rechallenge"].astype("float64")
    samples = [ages[m].dropna().to_numpy() for m in groups.values()]
    if all(len(s) for s in samples):
        result = wilcoxon_test(samples[0], samples[1])
        tests.append({"variable": "age", "test": result.test, "p": result.p})
    for variable, _ in CATEGORICAL_BASELINE:
        if variable in (by, "metastasis") or variable not in frame:
            continue
        levels = _levels(frame, variable)
        table = np.array(
            [[int((lm & gm).sum()) for lm in levels.values()] for gm in groups.values()]
        )
        table = table[:, table.sum(axis=0) > 0]
        if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
            continue
        expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
        result = fisher_test(table) if (expected < 5).any() else chisq_test(table)
        tests.append({"variable": variable, "test": result.test, "p": result.p})
    return {
        "by": by,
        "label": sub.label,
        "groups": list(groups),
        "group_labels": [f"{sub.name.split('_')[0].upper()} {g}" for g in groups],
        "group_n": {g: int(m.sum()) for g, m in groups.items()},
        "tests": tests,
    }
