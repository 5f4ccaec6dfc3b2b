"""Tables of the Prognostic model section: the model's coefficients and its validation.

Read ``results["prognostic"]`` (see `rechallenge.analysis.prognostic`) and never
recompute.

- `prognostic_model_table`: one group per variable (its label), one row per model term:
  a numeric term per unit, a factor level against its reference, a spline's linear term
  and its non-linear terms (``nlr'``), each with HR, 95% CI and Wald p; a spline's first
  row carries the overall and non-linearity Wald p in the footnotes.
- `prognostic_validation_table`: apparent, optimism and corrected C, Dxy and calibration
  slope (Harrell's bootstrap), then Uno's C and the time-dependent AUC at each time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from rechallenge.labels import Labels
from rechallenge.tables.common import DASH, fmt_p, p_cell
from rechallenge.tables.model import DataSheet, Row, Table, data_row, group_row, round_half_up

__all__ = [
    "PROGNOSTIC_MODEL_TABLE_ID",
    "PROGNOSTIC_VALIDATION_TABLE_ID",
    "prognostic_model_table",
    "prognostic_tables",
    "prognostic_validation_table",
]

PROGNOSTIC_MODEL_TABLE_ID: Final = "table_prognostic_model"
PROGNOSTIC_VALIDATION_TABLE_ID: Final = "table_prognostic_validation"
STATISTICS: Final = (
    ("C", "Harrell's C"),
    ("Dxy", "Somers' Dxy"),
    ("Slope", "Calibration slope"),
)
ENDPOINT_WORDS: Final = {"PFSR": "PFS on rechallenge", "OS": "overall survival"}


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) else None


def _two(x: Any) -> str:
    v = _num(x)
    return DASH if v is None else round_half_up(v, 2)


def _three(x: Any) -> str:
    v = _num(x)
    return DASH if v is None else round_half_up(v, 3)


def _ci(row: Mapping[str, Any]) -> str:
    lo, hi = _num(row.get("lower")), _num(row.get("upper"))
    if lo is None or hi is None:
        return DASH
    return f"{round_half_up(lo, 2)}–{round_half_up(hi, 2)}"


def _term_label(row: Mapping[str, Any], labels: Labels) -> str:
    """How a term reads under its variable's group row."""
    if row.get("kind") == "factor":
        level = labels.level(str(row["variable"]), row.get("level"))
        reference = labels.level(str(row["variable"]), row.get("reference"))
        return f"{level} vs {reference}"
    if row.get("kind") == "spline":
        primes = str(row["term"]).count("'")
        return "Linear term" if primes == 0 else f"Non-linear term {primes}"
    return "Per unit"


def _model_rows(terms: list[Mapping[str, Any]], labels: Labels) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    notes: list[str] = []
    seen: set[str] = set()
    for term in terms:
        variable = str(term["variable"])
        if variable not in seen:
            seen.add(variable)
            rows.append(group_row(labels.variable(variable), 4))
            overall, nonlinear = term.get("overall"), term.get("nonlinear")
            if isinstance(overall, Mapping) and isinstance(nonlinear, Mapping):
                notes.append(
                    f"{labels.variable(variable)}: restricted cubic spline; Wald test of "
                    f"the whole variable χ² = {_two(overall.get('chi2'))} on "
                    f"{overall.get('df')} df, p = {fmt_p(overall.get('p'))}; of "
                    f"non-linearity χ² = {_two(nonlinear.get('chi2'))} on "
                    f"{nonlinear.get('df')} df, p = {fmt_p(nonlinear.get('p'))}."
                )
        rows.append(
            data_row(
                _term_label(term, labels),
                _two(term.get("hr")),
                _ci(term),
                p_cell(term.get("p")),
                indent=1,
            )
        )
    return rows, notes


def prognostic_model_table(prognostic: Mapping[str, Any], labels: Labels) -> Table:
    """Hazard ratios of the prognostic model, grouped by variable."""
    model = prognostic.get("model") or {}
    terms = [t for t in model.get("terms") or [] if isinstance(t, Mapping)]
    endpoint = ENDPOINT_WORDS.get(str(prognostic.get("endpoint")), str(prognostic.get("endpoint")))
    table = Table(
        id=PROGNOSTIC_MODEL_TABLE_ID,
        title=f"Multivariable prognostic Cox model of {endpoint}",
        columns=("Variable", "HR", "95% CI", "p"),
        align=("left", "center", "center", "center"),
    )
    rows, notes = _model_rows(terms, labels)
    frame = prognostic.get("frame") or {}
    method = (
        "Firth's penalised Cox model (Breslow ties; profile-likelihood CIs, penalised "
        "likelihood-ratio p values) because the ordinary likelihood is monotone"
        if model.get("method") == "firth"
        else "Cox proportional-hazards model (Efron ties); Wald CIs and p values"
    )
    notes.insert(
        0,
        f"{method}. Of {frame.get('n_with_endpoint')} patients, {frame.get('n')} had every "
        f"covariate recorded ({frame.get('excluded')} left out for a missing value); "
        f"{frame.get('events')} events; {model.get('df')} model degrees of freedom, "
        f"{round_half_up(float(model.get('events_per_variable', 0.0)), 1)} events per degree "
        "of freedom.",
    )
    notes.append("HR, hazard ratio; CI, confidence interval; df, degrees of freedom.")
    if model.get("epv_low"):
        notes.append(
            f"Fewer than {model.get('min_epv'):g} events per degree of freedom: the estimates "
            "may be unstable and over-fitted."
        )
    sheet = DataSheet(
        columns=("variable", "term", "coef", "hr", "lower", "upper", "p"),
        rows=tuple(
            (
                str(t["variable"]),
                str(t["term"]),
                _num(t.get("coef")),
                _num(t.get("hr")),
                _num(t.get("lower")),
                _num(t.get("upper")),
                _num(t.get("p")),
            )
            for t in terms
        ),
    )
    return table.with_rows(*rows).with_footnotes(*notes).with_data(sheet)


def prognostic_validation_table(prognostic: Mapping[str, Any]) -> Table:
    """Apparent, optimism and optimism-corrected discrimination and calibration."""
    validation = prognostic.get("validation") or {}
    boot = validation.get("bootstrap") or {}
    table = Table(
        id=PROGNOSTIC_VALIDATION_TABLE_ID,
        title="Validation of the prognostic model",
        columns=("Statistic", "Apparent", "Optimism", "Corrected"),
        align=("left", "center", "center", "center"),
    )
    rows: list[Row] = []
    data: list[tuple[str, float | None, float | None, float | None]] = []
    for key, words in STATISTICS:
        apparent = (boot.get("apparent") or {}).get(key)
        if apparent is None and key == "C":
            apparent = validation.get("harrell_c")
        optimism = (boot.get("optimism") or {}).get(key)
        corrected = (boot.get("corrected") or {}).get(key)
        if apparent is None:
            continue
        rows.append(data_row(words, _three(apparent), _three(optimism), _three(corrected)))
        data.append((key, _num(apparent), _num(optimism), _num(corrected)))
    rows.append(data_row("Uno's C", _three(validation.get("uno_c")), DASH, DASH))
    data.append(("Uno_C", _num(validation.get("uno_c")), None, None))
    for at in validation.get("times") or []:
        months = float(at.get("months"))
        rows.append(data_row(f"AUC at {months:g} months", _three(at.get("auc")), DASH, DASH))
        data.append((f"AUC_{months:g}m", _num(at.get("auc")), None, None))
    notes = [
        "Apparent, on the data the model was fitted to; optimism, mean over bootstrap "
        "resamples of the statistic on the resample minus on the original data with the "
        "resample's refitted model; corrected, apparent minus optimism (Harrell). The "
        "apparent calibration slope is 1 by construction.",
        "AUC, cumulative/dynamic time-dependent area under the ROC curve with "
        "inverse-probability-of-censoring weights.",
    ]
    if boot:
        notes.append(f"{boot.get('b')} bootstrap resamples, seed {boot.get('seed')}.")
    else:
        notes.append("No bootstrap resamples were drawn: optimism not estimated.")
    sheet = DataSheet(columns=("statistic", "apparent", "optimism", "corrected"), rows=tuple(data))
    return table.with_rows(*rows).with_footnotes(*notes).with_data(sheet)


def prognostic_tables(prognostic: Mapping[str, Any], labels: Labels) -> list[Table]:
    """The section's tables ([] unless the model was fitted)."""
    if prognostic.get("status") != "fitted" or not prognostic.get("model"):
        return []
    out = [prognostic_model_table(prognostic, labels)]
    if prognostic.get("validation"):
        out.append(prognostic_validation_table(prognostic))
    return out
