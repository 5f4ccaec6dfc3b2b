"""The report's Prognostic model section: the model, its validation and its nomogram.

Placed after the Results subsections (before Context) when the results hold a
``prognostic`` section. When the section is off (fewer patients than ``min_n``) or the
model could not be fitted, one sentence says why. Otherwise the text says how many
patients the model used and why the others were left out, the events per degree of
freedom (with the warning when low), discrimination and calibration (apparent and
optimism-corrected), and points to the table, the calibration figure and the nomogram.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from rechallenge.labels import Labels, labels_from_results
from rechallenge.tables.prognostic import (
    PROGNOSTIC_MODEL_TABLE_ID,
    PROGNOSTIC_VALIDATION_TABLE_ID,
)

if TYPE_CHECKING:
    from rechallenge.report.document import Block, Exhibits

__all__ = [
    "CALIBRATION_FIGURE",
    "NOMOGRAM_FIGURE",
    "prognostic_blocks",
    "prognostic_paragraphs",
    "with_prognostic",
]

CALIBRATION_FIGURE: Final = "figure_prognostic_calibration"
NOMOGRAM_FIGURE: Final = "figure_prognostic_nomogram"
MARKER_WORDS: Final = {
    "nlr": "NLR",
    "bmi": "BMI",
    "pdl1_retest": "re-tested PD-L1",
}
ENDPOINT_WORDS: Final = {
    "PFSR": "progression-free survival on rechallenge",
    "OS": "overall survival",
}


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) else None


def _f(x: Any, digits: int = 2) -> str:
    v = _num(x)
    return "NA" if v is None else f"{v:.{digits}f}"


def _marker_sentence(markers: Mapping[str, Any]) -> str | None:
    parts = []
    for key, words in MARKER_WORDS.items():
        block = markers.get(key)
        if not isinstance(block, Mapping) or not block.get("missing"):
            continue
        reasons = "; ".join(f"{k}: {v}" for k, v in (block.get("missing_reasons") or {}).items())
        parts.append(f"{words} for {block['missing']} ({reasons})")
    if not parts:
        return None
    return "No value could be derived of " + ", ".join(parts) + "."


def _frame_sentence(p: Mapping[str, Any], labels: Labels) -> str:
    frame = p.get("frame") or {}
    missing = {k: v for k, v in (frame.get("missing_by_covariate") or {}).items() if v}
    why = (
        " (missing: "
        + "; ".join(f"{labels.variable(k).split(',')[0]}, {v}" for k, v in missing.items())
        + ")"
        if missing
        else ""
    )
    return (
        f"Of the {p.get('n_analysed')} analysed patients, {frame.get('n')} had every "
        f"covariate recorded and entered the model; {frame.get('excluded')} were left out "
        f"for a missing value{why}."
    )


def _model_sentence(p: Mapping[str, Any]) -> str:
    model = p.get("model") or {}
    endpoint = ENDPOINT_WORDS.get(str(p.get("endpoint")), str(p.get("endpoint")))
    text = (
        f"The model of {endpoint} had {model.get('events')} events for "
        f"{model.get('df')} degrees of freedom ({_f(model.get('events_per_variable'), 1)} "
        "events per degree of freedom) ({table:" + PROGNOSTIC_MODEL_TABLE_ID + "})."
    )
    if model.get("method") == "firth":
        text += " The likelihood was monotone, so Firth's penalised estimates are reported."
    for warning in p.get("warnings") or []:
        text += f" Warning: {str(warning).rstrip('.')}."
    return text


def _validation_sentence(p: Mapping[str, Any]) -> str:
    v = p.get("validation")
    if not isinstance(v, Mapping):
        return str(p.get("validation_reason") or "The model was not validated.").rstrip(".") + "."
    text = (
        f"Apparent discrimination: Harrell's C {_f(v.get('harrell_c'))}, "
        f"Uno's C {_f(v.get('uno_c'))}"
    )
    aucs = [
        f"{_f(t.get('auc'))} at {float(t['months']):g} months"
        for t in v.get("times") or []
        if t.get("auc") is not None
    ]
    if aucs:
        text += "; time-dependent AUC " + ", ".join(aucs)
    text += "."
    boot = v.get("bootstrap")
    if isinstance(boot, Mapping):
        corrected = boot.get("corrected") or {}
        text += (
            f" Corrected for optimism ({boot.get('b')} bootstrap resamples), C was "
            f"{_f(corrected.get('C'))} and the calibration slope {_f(corrected.get('Slope'))} "
            "({table:" + PROGNOSTIC_VALIDATION_TABLE_ID + "}); a slope below 1 means "
            "predictions more extreme than the data support."
        )
    times = v.get("times") or []
    if times:
        text += (
            f" Predicted and observed survival at {float(times[0]['months']):g} months by "
            "group of predicted risk are compared in {figure:" + CALIBRATION_FIGURE + "}; "
            "the nomogram ({figure:" + NOMOGRAM_FIGURE + "}) reads the model's prediction "
            "for one patient."
        )
    return text


def prognostic_paragraphs(prognostic: Mapping[str, Any], labels: Labels | None = None) -> list[str]:
    """The section's prose: one sentence when off, else data, model and validation."""
    if prognostic.get("status") != "fitted":
        return [f"The prognostic model was not fitted: {prognostic.get('reason')}."]
    first = [_frame_sentence(prognostic, labels or Labels())]
    markers = _marker_sentence(prognostic.get("markers") or {})
    if markers:
        first.append(markers)
    return [
        " ".join(first),
        _model_sentence(prognostic),
        _validation_sentence(prognostic),
        "A model built and checked on one retrospective cohort is exploratory: it needs "
        "external validation before it is used to choose patients for rechallenge.",
    ]


def prognostic_blocks(results: Mapping[str, Any], ex: Exhibits, placed: set[str]) -> list[Block]:
    """Heading, prose, tables and figures of the section ([] when there is no section)."""
    from rechallenge.report.document import Heading, Paragraph

    prognostic = results.get("prognostic")
    if not isinstance(prognostic, Mapping):
        return []
    out: list[Block] = [Heading("Prognostic model", 3, "results-prognostic")]
    labels = labels_from_results(results)
    out += [Paragraph(p) for p in prognostic_paragraphs(prognostic, labels)]
    out += ex.claim_tables((PROGNOSTIC_MODEL_TABLE_ID, PROGNOSTIC_VALIDATION_TABLE_ID), placed)
    figures = (CALIBRATION_FIGURE, NOMOGRAM_FIGURE)
    out += ex.claim_figures({s: _caption(s, prognostic) for s in figures}, placed)
    return out


def _caption(stem: str, prognostic: Mapping[str, Any]) -> str:
    months = ((prognostic.get("nomogram") or {}).get("months")) or (
        ((prognostic.get("settings") or {}).get("validation") or {}).get("times_months") or [0]
    )[0]
    if stem == CALIBRATION_FIGURE:
        return (
            f"Calibration of the prognostic model at {float(months):g} months: observed "
            "(Kaplan–Meier, with 95% CI) against mean predicted survival in groups of "
            "predicted risk; dashed line, perfect calibration."
        )
    return (
        "Nomogram of the prognostic model: read each covariate's points on the top scale, "
        f"add them, and read the predicted survival at {float(months):g} months below the "
        "total points."
    )


def with_prognostic(
    results: Mapping[str, Any],
    ex: Exhibits,
    placed: set[str],
    results_blocks: Callable[[], list[Block]],
) -> list[Block]:
    """The Results blocks followed by the Prognostic model section (exhibits claimed first)."""
    section = prognostic_blocks(results, ex, placed)
    return results_blocks() + section
