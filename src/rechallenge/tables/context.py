"""Table: this study against the pooled published studies (the report's Context section).

Reads ``results["context"]`` (see `rechallenge.analysis.context`) and never recomputes: one
row per endpoint with this study's estimate and CI, the pooled estimate, its CI, the
prediction interval, k, I² and τ²; the unrounded values go to the data sheet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from rechallenge.tables.model import DataSheet, Table, data_row, round_half_up

__all__ = ["CONTEXT_TABLE_ID", "context_table"]

CONTEXT_TABLE_ID: Final = "table_context"
DASH: Final = "–"
METHOD_WORDS: Final = {
    "REML": "random-effects model, restricted maximum likelihood (REML) τ²",
    "DL": "random-effects model, DerSimonian–Laird τ²",
    "PM": "random-effects model, Paule–Mandel τ²",
    "ML": "random-effects model, maximum-likelihood τ²",
    "FE": "common-effect (inverse-variance) model",
}
MEASURE_WORDS: Final = {
    "PLO": "on the logit scale",
    "PR": "on the raw proportion scale",
    "PFT": "on the Freeman–Tukey double-arcsine scale (back-transformed at the harmonic mean of n)",
}


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) else None


def _value(x: float | None, unit: str) -> str:
    if x is None:
        return DASH
    return round_half_up(100 * x, 1) if unit == "percent" else round_half_up(x, 2)


def _interval(lo: float | None, hi: float | None, unit: str) -> str:
    """``lo–hi``; a missing limit of a present pair reads NR (not reached)."""
    if lo is None and hi is None:
        return DASH
    left = "NR" if lo is None else _value(lo, unit)
    right = "NR" if hi is None else _value(hi, unit)
    return f"{left}–{right}"


def _this(block: Mapping[str, Any]) -> tuple[str, str]:
    this = block.get("this_study")
    if not isinstance(this, Mapping) or this.get("estimate") is None:
        return DASH, DASH
    unit = str(block.get("unit"))
    est = _value(_num(this.get("estimate")), unit)
    if unit == "percent" and this.get("events") is not None and this.get("n") is not None:
        est = f"{this['events']}/{this['n']} ({est})"
    return est, _interval(_num(this.get("ci_lower")), _num(this.get("ci_upper")), unit)


def context_table(context: Mapping[str, Any]) -> Table:
    """This study and the pooled literature, one row per endpoint."""
    columns = (
        "Endpoint",
        "This study",
        "95% CI",
        "Published studies, pooled",
        "95% CI",
        "95% prediction interval",
        "k",
        "I², %",
    )
    table = Table(
        id=CONTEXT_TABLE_ID,
        title="This study against the published ICI rechallenge studies",
        columns=columns,
        align=("left", "center", "center", "center", "center", "center", "center", "center"),
    )
    rows = []
    data = []
    for key, block in (context.get("endpoints") or {}).items():
        unit = str(block.get("unit"))
        meta = block.get("meta") or {}
        pooled, pred = meta.get("pooled") or {}, meta.get("prediction") or {}
        title = str(block.get("title", key)) + (", %" if unit == "percent" else ", months")
        this_est, this_ci = _this(block)
        rows.append(
            data_row(
                title,
                this_est,
                this_ci,
                _value(_num(pooled.get("estimate")), unit),
                _interval(_num(pooled.get("ci_lower")), _num(pooled.get("ci_upper")), unit),
                _interval(_num(pred.get("lower")), _num(pred.get("upper")), unit),
                str(meta.get("k", DASH)),
                round_half_up(float(meta.get("I2", 0.0)), 0),
            )
        )
        this = block.get("this_study") or {}
        data.append(
            (
                key,
                _num(this.get("estimate")),
                _num(this.get("ci_lower")),
                _num(this.get("ci_upper")),
                _num(pooled.get("estimate")),
                _num(pooled.get("ci_lower")),
                _num(pooled.get("ci_upper")),
                _num(pred.get("lower")),
                _num(pred.get("upper")),
                _num(meta.get("k")),
                _num(meta.get("I2")),
                _num(meta.get("tau2")),
            )
        )
    sheet = DataSheet(
        columns=(
            "endpoint", "this_estimate", "this_lower", "this_upper", "pooled", "pooled_lower",
            "pooled_upper", "prediction_lower", "prediction_upper", "k", "I2", "tau2",
        ),
        rows=tuple(data),
    )  # fmt: skip
    notes = _notes(context)
    if any("NR" in t for r in rows for t in r.texts):
        notes.append("NR, confidence limit not reached (Kaplan–Meier median).")
    return table.with_rows(*rows).with_footnotes(*notes).with_data(sheet)


def _notes(context: Mapping[str, Any]) -> list[str]:
    settings = context.get("settings") or {}
    method = METHOD_WORDS.get(str(settings.get("method")), str(settings.get("method")))
    measure = MEASURE_WORDS.get(str(settings.get("measure")), str(settings.get("measure")))
    test = (
        "Hartung–Knapp intervals (t distribution, k − 1 df)"
        if settings.get("hartung_knapp")
        else "Wald intervals"
    )
    notes = [
        f"Pooled with an inverse-variance {method}; proportions pooled {measure}, with 0.5 "
        f"added to both cells of studies with no or only events; medians pooled on the log "
        f"scale with standard errors from the published 95% CIs; {test}.",
        f"Published studies from {context.get('file')}; k, studies pooled.",
    ]
    skipped = context.get("skipped") or {}
    if skipped:
        notes.append(
            "Not pooled: " + "; ".join(f"{k.upper()} ({v})" for k, v in skipped.items()) + "."
        )
    return notes
