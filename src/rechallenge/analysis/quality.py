"""Data quality of the analysed patients: imputations, completeness per variable, warnings.

No identifier and no date leaves this module: imputations are counted per table, column
and rule; warnings per code; completeness per variable.

Completeness (one row per patients or treatments variable that an analysis reads; the
denominator ``n`` is the number of analysed patients):

- ``missing``: no value for the analysis (a progression row: the course's response was not
  assessed);
- ``imputed``: the value rests on a partial date completed by the configured rule
  (patients table: rows of analysed patients; treatments table: all rows of the study,
  as the course rows are not attributed here);
- ``derived``: the value was derived by a rule from other data (age from the dates of
  birth and of the rechallenge start; best response and progression from the lesion
  measurements by RECIST 1.1 / iRECIST);
- ``investigator``: the value is the investigator's own assessment (best response or
  progression date taken from the treatments table because the lesions did not give one).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, Protocol

import pandas as pd

from rechallenge.labels import Labels

DERIVED_SOURCES = ("recist", "irecist")


class ImputationLike(Protocol):
    """What this module reads of `rechallenge.data.model.Imputation`."""

    @property
    def table(self) -> str: ...
    @property
    def row(self) -> int: ...
    @property
    def column(self) -> str: ...
    @property
    def rule(self) -> str: ...


class WarningLike(Protocol):
    """What this module reads of a data-quality warning (`rechallenge.errors.Problem`)."""

    @property
    def code(self) -> str: ...


#: (table, variable, source column of the facts frame, column the imputations name)
RECORDED = (
    ("patients", "sex", "sex", None),
    ("patients", "smoking", "smoking", None),
    ("patients", "histology", "histology", None),
    ("patients", "stage", "stage", None),
    ("patients", "pdl1_tps", "pdl1_tps", None),
    ("patients", "last_contact_date", "last_contact_date", "last_contact_date"),
    ("treatments", "ecog_rechallenge", "rechallenge_ecog", None),
    ("treatments", "initial_start_date", "initial_start_date", "start_date"),
    ("treatments", "initial_last_dose_date", "initial_last_dose_date", "last_dose_date"),
    ("treatments", "rechallenge_start_date", "rechallenge_start_date", "start_date"),
)
COMPLETENESS_LABELS = {
    "last_contact_date": "Date of last contact",
    "ecog_rechallenge": "ECOG performance status at rechallenge",
    "initial_start_date": "Start of the first ICI course",
    "initial_last_dose_date": "Last dose of the first ICI course",
    "rechallenge_start_date": "Start of ICI rechallenge",
    "initial_bor": "Best overall response, first ICI course",
    "rechallenge_bor": "Best overall response, ICI rechallenge",
    "initial_progression": "Progression on the first ICI course",
    "rechallenge_progression": "Progression on ICI rechallenge",
}


def data_quality_section(
    included: pd.DataFrame,
    imputations: Sequence[ImputationLike],
    warnings: Sequence[WarningLike],
    labels: Labels,
) -> dict[str, Any]:
    """``results["data_quality"]``: imputations, completeness and warnings by code."""
    counts = Counter((i.table, i.column, i.rule) for i in imputations)
    return {
        "imputations": [
            {"table": t, "column": c, "rule": r, "count": n}
            for (t, c, r), n in sorted(counts.items())
        ],
        "completeness": completeness(included, imputations, labels),
        "warnings_by_code": dict(sorted(Counter(w.code for w in warnings).items())),
    }


def completeness(
    included: pd.DataFrame, imputations: Sequence[ImputationLike], labels: Labels
) -> list[dict[str, Any]]:
    """One row per variable the analyses read (module docstring)."""
    n = len(included)
    rows_of_patients = set(included.get("source_row", pd.Series(dtype=int)).dropna().astype(int))
    imputed = Counter(
        (i.table, i.column)
        for i in imputations
        if i.table != "patients" or i.row in rows_of_patients
    )

    def row(table: str, variable: str, missing: int, **counts: int) -> dict[str, Any]:
        label = COMPLETENESS_LABELS.get(variable) or labels.variable(variable)
        return {
            "table": table,
            "variable": variable,
            "label": label,
            "n": n,
            "missing": missing,
            "imputed": counts.get("imputed", 0),
            "derived": counts.get("derived", 0),
            "investigator": counts.get("investigator", 0),
        }

    out = []
    for table, variable, column, imputed_column in RECORDED:
        values = included[column] if column in included else pd.Series([None] * n)
        out.append(
            row(
                table,
                variable,
                _missing(values),
                imputed=imputed.get((table, imputed_column or ""), 0),
            )
        )
    age = included.get("age_at_rechallenge", pd.Series([None] * n))
    out.append(
        row(
            "patients",
            "age_at_rechallenge",
            _missing(age),
            imputed=imputed.get(("patients", "birth_date"), 0),
            derived=int(age.notna().sum()),
        )
    )
    for course in ("initial", "rechallenge"):
        out += _response_rows(included, course, imputed, row)
    return out


def _response_rows(
    included: pd.DataFrame, course: str, imputed: Counter[tuple[str, str]], row: Any
) -> list[dict[str, Any]]:
    """Best response and progression of one course: derived from lesions or investigator's."""
    n = len(included)
    empty = pd.Series([None] * n, index=included.index, dtype=object)
    bor = included.get(f"{course}_bor", empty)
    source = included.get(f"{course}_response_source", empty)
    progression = included.get(f"{course}_progression_date_derived", empty)
    assessed = bor.notna() & (bor != "MISSING")
    derived = source.isin(DERIVED_SOURCES)
    investigator = source == "investigator"
    progressed = progression.notna()
    return [
        row(
            "treatments",
            f"{course}_bor",
            int((~assessed).sum()),
            derived=int((assessed & derived).sum()),
            investigator=int((assessed & investigator).sum()),
        ),
        row(
            "treatments",
            f"{course}_progression",
            int((~assessed).sum()),
            imputed=imputed.get(("treatments", "progression_date"), 0),
            derived=int((progressed & derived).sum()),
            investigator=int((progressed & investigator).sum()),
        ),
    ]


def _missing(values: pd.Series) -> int:
    """Missing values, counting empty strings and empty tuples as missing."""
    missing = int(values.isna().sum())
    kind = values.dtype
    if pd.api.types.is_numeric_dtype(kind) or pd.api.types.is_datetime64_any_dtype(kind):
        return missing  # numbers and dates have no blank besides NaN / NaT
    return missing + sum(isinstance(v, (str, tuple)) and len(v) == 0 for v in values)
