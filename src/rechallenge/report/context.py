"""The report's Context section: this study's estimates against the pooled literature.

Placed as the last subsection of Results when the results hold a ``context`` section (a
literature file was configured). The text reads ``results["context"]`` and says, per
endpoint, what was pooled (k studies, model, heterogeneity), the pooled estimate with its
CI and prediction interval, and where this study falls: inside or outside the prediction
interval, the range expected for a new study like the published ones. It draws no
conclusion beyond that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from rechallenge.tables.context import CONTEXT_TABLE_ID

if TYPE_CHECKING:
    from rechallenge.report.document import Block, Exhibits

__all__ = ["CONTEXT_FIGURE", "context_blocks", "context_paragraphs", "with_context"]

CONTEXT_FIGURE: Final = "figure_context_forest"
CAPTION: Final = (
    "This study against the published ICI rechallenge studies: forest plots of the "
    "objective response rate, disease control rate and median PFS on rechallenge. Squares, "
    "published studies (area proportional to the weight); diamond, pooled estimate with "
    "its 95% CI; bar, 95% prediction interval; circle, this study with its 95% CI."
)


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) else None


def _fmt(x: float | None, unit: str) -> str:
    if x is None:
        return "not reached" if unit == "months" else "NA"
    return f"{100 * x:.1f}%" if unit == "percent" else f"{x:.2f} months"


def _where(this: float | None, lo: float | None, hi: float | None) -> str:
    if this is None or lo is None or hi is None:
        return ""
    if this < lo:
        return "below the prediction interval"
    if this > hi:
        return "above the prediction interval"
    return "within the prediction interval"


def _paragraph(block: Mapping[str, Any]) -> str:
    unit = str(block.get("unit"))
    meta = block.get("meta") or {}
    pooled, pred = meta.get("pooled") or {}, meta.get("prediction") or {}
    title = str(block.get("title", ""))
    k = meta.get("k")
    text = (
        f"{title}: pooled over {k} published studies, "
        f"{_fmt(_num(pooled.get('estimate')), unit)} (95% CI "
        f"{_fmt(_num(pooled.get('ci_lower')), unit)} to "
        f"{_fmt(_num(pooled.get('ci_upper')), unit)}; I² = {float(meta.get('I2', 0)):.0f}%), "
        f"with a 95% prediction interval of {_fmt(_num(pred.get('lower')), unit)} to "
        f"{_fmt(_num(pred.get('upper')), unit)}."
    )
    this = block.get("this_study")
    if isinstance(this, Mapping) and this.get("estimate") is not None:
        est = _num(this.get("estimate"))
        where = _where(est, _num(pred.get("lower")), _num(pred.get("upper")))
        text += (
            f" This study: {_fmt(est, unit)} (95% CI {_fmt(_num(this.get('ci_lower')), unit)} "
            f"to {_fmt(_num(this.get('ci_upper')), unit)}), {where}."
        )
    excluded = block.get("excluded") or []
    if excluded:
        text += (
            f" {len(excluded)} of the listed studies do not report it with the numbers "
            "needed and are not pooled."
        )
    return text


def context_paragraphs(context: Mapping[str, Any]) -> list[str]:
    """The section's prose, one paragraph per pooled endpoint plus the caveats."""
    endpoints = context.get("endpoints") or {}
    out = [
        f"This study's results were set against {context.get('n_studies')} published "
        f"studies of ICI rechallenge in advanced NSCLC ({context.get('file')}), pooled per "
        "endpoint ({table:" + CONTEXT_TABLE_ID + "}; {figure:" + CONTEXT_FIGURE + "})."
    ]
    out += [_paragraph(b) for b in endpoints.values() if isinstance(b, Mapping)]
    out.append(
        "The published studies are small retrospective cohorts that mostly did not separate "
        "acquired from primary resistance; with few studies the pooled intervals are wide "
        "and the prediction interval, not the confidence interval, shows where a new study "
        "would be expected to fall."
    )
    return out


def context_blocks(results: Mapping[str, Any], ex: Exhibits, placed: set[str]) -> list[Block]:
    """Heading, prose, table and figure of the Context section ([] when it is off)."""
    from rechallenge.report.document import Heading, Paragraph

    context = results.get("context")
    if not isinstance(context, Mapping) or not context.get("endpoints"):
        return []
    out: list[Block] = [Heading("Context", 3, "results-context")]
    out += [Paragraph(p) for p in context_paragraphs(context)]
    out += ex.claim_tables([CONTEXT_TABLE_ID], placed)
    out += ex.claim_figures({CONTEXT_FIGURE: CAPTION}, placed)
    return out


def with_context(
    results: Mapping[str, Any],
    ex: Exhibits,
    placed: set[str],
    results_blocks: Callable[[], list[Block]],
) -> list[Block]:
    """The Results blocks followed by the Context section.

    The Context exhibits are claimed first, so Results does not list them under "Further
    results"; the section itself comes after Results.
    """
    context = context_blocks(results, ex, placed)
    return results_blocks() + context
