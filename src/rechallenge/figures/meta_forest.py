"""Forest plot of a meta-analysis: published studies, pooled diamond, prediction interval,
and this study's estimate highlighted against them.

`figure_meta_forest` reads panels, never recomputes. Each panel is a mapping:

- ``title``: the endpoint in words ("Objective response rate");
- ``unit``: ``"percent"`` (proportions, shown ×100) or ``"months"``;
- ``meta``: the JSON of ``rechallenge meta proportions|medians`` (`ProportionMeta.to_dict`
  or `MedianMeta.to_dict`): ``studies``, ``pooled``, ``prediction``, ``method``, ``I2``,
  ``tau2``, ``k``;
- ``this_study`` (optional): ``label``, ``estimate``, ``ci_lower``, ``ci_upper`` and, for
  proportions, ``events`` and ``n``.

Studies are squares whose area follows the weight, with their CI; the pooled estimate is a
diamond spanning its CI; the prediction interval is a line under it with end caps; this
study is drawn last in the highlight colour with a circle marker and a bold label. Colours
come from the active palette; shapes keep the roles apart in greyscale.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from matplotlib.transforms import Transform, blended_transform_factory

from rechallenge.figures.settings import DOUBLE_COLUMN_IN
from rechallenge.figures.style import current_style, font_size, journal_style
from rechallenge.figures.style import palette as active_palette

__all__ = ["MetaRow", "figure_context", "figure_meta_forest", "panel_rows"]

#: Column positions as fractions of the figure width.
COL_LABEL: Final = 0.01
COL_COUNT: Final = 0.30
PLOT_LEFT: Final = 0.38
PLOT_RIGHT: Final = 0.70
COL_ESTIMATE: Final = 0.72
COL_WEIGHT: Final = 0.99
METHOD_WORDS: Final = {
    "REML": "random effects, REML",
    "DL": "random effects, DerSimonian–Laird",
    "PM": "random effects, Paule–Mandel",
    "ML": "random effects, ML",
    "FE": "common effect",
}


@dataclass(frozen=True)
class MetaRow:
    """One drawn row: kind (study, pooled, prediction, this), label, cells and interval."""

    kind: str
    label: str
    count: str
    estimate: float | None
    lower: float | None
    upper: float | None
    weight: float | None


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and math.isfinite(float(x)) else None


def _count(row: Mapping[str, Any]) -> str:
    events, n = _num(row.get("events")), _num(row.get("n"))
    return "" if events is None or n is None else f"{events:g}/{n:g}"


def panel_rows(panel: Mapping[str, Any]) -> list[MetaRow]:
    """The rows of one panel, top to bottom, as the figure draws them."""
    meta = panel["meta"]
    rows = [
        MetaRow(
            "study",
            str(s["study"]),
            _count(s),
            _num(s.get("estimate")),
            _num(s.get("ci_lower")),
            _num(s.get("ci_upper")),
            _num(s.get("weight")),
        )
        for s in meta.get("studies", [])
    ]
    pooled, pred = meta.get("pooled") or {}, meta.get("prediction") or {}
    rows.append(
        MetaRow(
            "pooled",
            f"Pooled (k = {meta.get('k')})",
            "",
            _num(pooled.get("estimate")),
            _num(pooled.get("ci_lower")),
            _num(pooled.get("ci_upper")),
            100.0,
        )
    )
    rows.append(
        MetaRow(
            "prediction",
            "Prediction interval",
            "",
            None,
            _num(pred.get("lower")),
            _num(pred.get("upper")),
            None,
        )
    )
    this = panel.get("this_study")
    if isinstance(this, Mapping):
        rows.append(
            MetaRow(
                "this",
                str(this.get("label", "This study")),
                _count(this),
                _num(this.get("estimate")),
                _num(this.get("ci_lower")),
                _num(this.get("ci_upper")),
                None,
            )
        )
    return rows


def _scale(unit: str) -> float:
    return 100.0 if unit == "percent" else 1.0


def _fmt(row: MetaRow, unit: str) -> str:
    k = _scale(unit)
    digits = 1 if unit == "percent" else 2
    if row.kind == "prediction":
        if row.lower is None or row.upper is None:
            return ""
        return f"{k * row.lower:.{digits}f}–{k * row.upper:.{digits}f}"
    if row.estimate is None:
        return "NA"
    ci = ""
    if row.lower is not None or row.upper is not None:
        lo = "NR" if row.lower is None else f"{k * row.lower:.{digits}f}"
        hi = "NR" if row.upper is None else f"{k * row.upper:.{digits}f}"
        ci = f" ({lo}–{hi})"  # NR: a limit not reached (Kaplan–Meier median)
    return f"{k * row.estimate:.{digits}f}{ci}"


def _limits(rows: Sequence[MetaRow], unit: str) -> tuple[float, float]:
    values = [v for r in rows for v in (r.lower, r.estimate, r.upper) if v is not None]
    k = _scale(unit)
    lo, hi = min(values) * k, max(values) * k
    if unit == "percent":
        return 0.0, min(100.0, max(10.0, math.ceil(hi / 10 + 0.01) * 10))
    pad = 0.05 * (hi - lo or 1.0)
    return max(0.0, lo - pad), hi + pad


def _draw_row(ax: Axes, y: float, row: MetaRow, unit: str, max_w: float) -> None:
    pal = active_palette()
    k = _scale(unit)
    ink, highlight = pal.role("text"), pal.role("rechallenge")
    if row.kind == "prediction":
        if row.lower is not None and row.upper is not None:
            ax.errorbar(
                [k * (row.lower + row.upper) / 2],
                [y],
                xerr=[[k * (row.upper - row.lower) / 2]],
                fmt="none",
                ecolor=pal.role("muted"),
                elinewidth=1.0,
                capsize=3,
            )
        return
    if row.estimate is None:
        return
    if row.kind == "pooled" and row.lower is not None and row.upper is not None:
        xs = [k * row.lower, k * row.estimate, k * row.upper, k * row.estimate]
        ys = [y, y - 0.32, y, y + 0.32]
        ax.add_patch(
            Polygon(
                list(zip(xs, ys, strict=True)),
                closed=True,
                facecolor=ink,
                edgecolor=ink,
                linewidth=0.6,
            )
        )
        return
    colour = highlight if row.kind == "this" else pal.role("initial")
    if row.lower is not None and row.upper is not None:
        ax.plot(
            [k * row.lower, k * row.upper],
            [y, y],
            color=colour,
            linewidth=1.0,
            solid_capstyle="butt",
        )
    elif row.lower is not None:  # upper limit not reached: run to the axis end, arrow
        right = ax.get_xlim()[1]
        ax.plot([k * row.lower, right], [y, y], color=colour, linewidth=1.0)
        ax.plot([right], [y], marker=">", markersize=4, color=colour, clip_on=False)
    if row.kind == "this":
        ax.plot(
            [k * row.estimate],
            [y],
            marker="o",
            markersize=6.5,
            color=colour,
            markeredgecolor=ink,
            markeredgewidth=0.6,
            linestyle="none",
            clip_on=False,
        )
    else:
        size = 3.0 + 7.0 * math.sqrt((row.weight or 0.0) / max_w)
        ax.plot(
            [k * row.estimate],
            [y],
            marker="s",
            markersize=size,
            color=colour,
            markeredgecolor=colour,
            linestyle="none",
        )


def _cells(ax: Axes, tr: Transform, y: float, row: MetaRow, unit: str) -> None:
    size = font_size(-0.5)
    bold = "bold" if row.kind in ("pooled", "this") else "normal"
    colour = active_palette().role("rechallenge" if row.kind == "this" else "text")
    if row.kind == "this":
        colour = active_palette().role("text")
    style: dict[str, Any] = {"transform": tr, "va": "center", "fontsize": size, "fontweight": bold}
    ax.text(COL_LABEL, y, row.label, ha="left", color=colour, **style)
    ax.text(COL_COUNT, y, row.count, ha="right", **style)
    ax.text(COL_ESTIMATE, y, _fmt(row, unit), ha="left", **style)
    if row.kind == "study" and row.weight is not None:
        ax.text(COL_WEIGHT, y, f"{row.weight:.1f}", ha="right", **style)


def _panel(fig: Figure, box: tuple[float, float, float, float], panel: Mapping[str, Any]) -> Axes:
    unit = str(panel.get("unit", "percent"))
    rows = panel_rows(panel)
    ax = fig.add_axes(box)
    tr = blended_transform_factory(fig.transFigure, ax.transData)
    size = font_size(-0.5)
    head: dict[str, Any] = {"transform": tr, "va": "center", "fontsize": size, "fontweight": "bold"}
    ax.text(COL_LABEL, -1.2, str(panel.get("title", "")), ha="left", **head)
    ax.text(COL_COUNT, -1.2, "Events/n" if unit == "percent" else "", ha="right", **head)
    est_head = "% (95% CI)" if unit == "percent" else "Months (95% CI)"
    ax.text(COL_ESTIMATE, -1.2, est_head, ha="left", **head)
    ax.text(COL_WEIGHT, -1.2, "Weight %", ha="right", **head)
    max_w = max((r.weight or 0.0) for r in rows if r.kind == "study") or 1.0
    ax.set_xlim(*_limits(rows, unit))
    for i, row in enumerate(rows):
        y = float(i) + (0.4 if row.kind in ("pooled", "prediction", "this") else 0.0)
        _draw_row(ax, y, row, unit, max_w)
        _cells(ax, tr, y, row, unit)
    pooled = next(r for r in rows if r.kind == "pooled")
    if pooled.estimate is not None:
        ax.vlines(
            _scale(unit) * pooled.estimate,
            -0.6,
            len(rows) - 0.4,
            color=active_palette().role("guide"),
            linewidth=0.6,
            linestyle=(0, (3, 2)),
            zorder=0,
        )
    ax.set_xlim(*_limits(rows, unit))
    ax.set_ylim(len(rows) + 0.1, -1.8)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="x", labelsize=font_size(-1.0))
    ax.set_xlabel("Percent" if unit == "percent" else "Median, months", fontsize=font_size(-1))
    meta = panel["meta"]
    i2, tau2 = _num(meta.get("I2")), _num(meta.get("tau2"))
    method = METHOD_WORDS.get(str(meta.get("method")), str(meta.get("method")))
    if i2 is not None and tau2 is not None:
        note = f"{method[:1].upper()}{method[1:]}; I² = {i2:.0f}%, τ² = {tau2:.3g}"
        ax.text(
            COL_LABEL,
            len(rows) + 0.1,
            note,
            transform=tr,
            va="top",
            fontsize=font_size(-1.5),
            color=active_palette().role("muted"),
        )
    return ax


def figure_meta_forest(panels: Sequence[Mapping[str, Any]] | None) -> Figure | None:
    """One forest panel per endpoint, stacked; None when there is nothing to draw."""
    panels = [p for p in panels or [] if isinstance(p.get("meta"), Mapping)]
    if not panels:
        return None
    with journal_style():
        width = current_style().width_in(DOUBLE_COLUMN_IN)
        row_h = font_size() / 72 * 1.9
        heights = [row_h * (len(panel_rows(p)) + 2.6) + 0.45 for p in panels]
        total = sum(heights) + 0.1
        fig = Figure(figsize=(width, total))
        top = total - 0.05
        for panel, h in zip(panels, heights, strict=True):
            bottom = top - h + 0.45
            box = (PLOT_LEFT, bottom / total, PLOT_RIGHT - PLOT_LEFT, (h - 0.45) / total)
            _panel(fig, box, panel)
            top -= h
    return fig


def figure_context(results: Mapping[str, Any]) -> Figure | None:
    """The report's Context figure from ``results["context"]``; None when it is off."""
    context = results.get("context")
    if not isinstance(context, Mapping):
        return None
    endpoints = context.get("endpoints") or {}
    return figure_meta_forest([b for b in endpoints.values() if isinstance(b, Mapping)])
