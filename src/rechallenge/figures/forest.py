"""Forest plot of Cox hazard ratios with 95% CIs, univariable and multivariable blocks.

Reads ``results["cox"][endpoint]`` rows (``label``, ``model``, ``n``, ``events``, ``hr``,
``lower``, ``upper``, ``p``, ``firth``). Text columns on the left (variable, n, events) and
right (HR (95% CI), p), estimates on a log axis with a reference line at 1. Intervals running
past the axis end in an arrow. Firth-penalised estimates are drawn hollow and marked †.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullFormatter
from matplotlib.transforms import Transform, blended_transform_factory

from rechallenge.figures.style import DOUBLE_COLUMN_IN, OKABE_ITO, fmt_p, journal_style

MODEL_ORDER: Final[tuple[str, ...]] = ("univariable", "multivariable")
MODEL_TITLES: Final[dict[str, str]] = {
    "univariable": "Univariable",
    "multivariable": "Multivariable",
}
MODEL_MARKERS: Final[dict[str, str]] = {"univariable": "s", "multivariable": "D"}
CANDIDATE_TICKS: Final[tuple[float, ...]] = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100)
X_FLOOR: Final[float] = 0.05
X_CEIL: Final[float] = 100.0
FIRTH_MARK: Final[str] = "†"
# figure-fraction x positions of the text columns and the plot area
COLS: Final[dict[str, float]] = {"label": 0.01, "n": 0.33, "events": 0.40, "hr": 0.85, "p": 1.02}
PLOT_LEFT: Final[float] = 0.44
PLOT_WIDTH: Final[float] = 0.29
WIDE_TICKS: Final[tuple[float, ...]] = (0.01, 0.1, 1, 10, 100)
MINOR_TICKS: Final[tuple[float, ...]] = (0.05, 0.2, 0.5, 2, 5, 20, 50)


def _layout_rows(rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, Mapping[str, Any] | None]]:
    """Header and data lines top to bottom: ('header', None) for each model block."""
    lines: list[tuple[str, Mapping[str, Any] | None]] = []
    models = [m for m in MODEL_ORDER if any(r.get("model") == m for r in rows)]
    models += sorted({str(r.get("model")) for r in rows} - set(models))
    for model in models:
        lines.append((MODEL_TITLES.get(model, model.capitalize()), None))
        lines += [(model, r) for r in rows if r.get("model") == model]
    return lines


def _limits(rows: Sequence[Mapping[str, Any]]) -> tuple[float, float]:
    """Log-axis limits covering the estimates and most of the CIs, within [0.05, 100]."""
    vals = [float(r[k]) for r in rows for k in ("hr", "lower", "upper") if r.get(k)]
    vals = [v for v in vals if v > 0 and math.isfinite(v)] or [1.0]
    low = max(X_FLOOR, min(min(vals), 1.0) / 1.3)
    high = min(X_CEIL, max(max(vals), 1.0) * 1.3)
    low = max([t for t in CANDIDATE_TICKS if t <= low] or [X_FLOOR])
    high = min([t for t in CANDIDATE_TICKS if t >= high] or [X_CEIL])
    return low, high


def _ticks(lim: tuple[float, float]) -> list[float]:
    """Labelled tick positions: fewer when the axis spans more than two decades."""
    wide = math.log10(lim[1] / lim[0]) > 2.0
    return [t for t in (WIDE_TICKS if wide else CANDIDATE_TICKS) if lim[0] <= t <= lim[1]]


def _interval(ax: Axes, y: float, row: Mapping[str, Any], lim: tuple[float, float]) -> None:
    """CI line (arrowed when clipped) and point estimate for one row."""
    hr, lo, hi = row.get("hr"), row.get("lower"), row.get("upper")
    if hr is None:
        return
    colour = OKABE_ITO["blue"] if row.get("model") != "multivariable" else OKABE_ITO["vermillion"]
    if lo is not None and hi is not None:
        left, right = max(float(lo), lim[0]), min(float(hi), lim[1])
        ax.plot([left, right], [y, y], color=colour, linewidth=1.1, solid_capstyle="butt")
        for end, clipped, arrow in (
            (left, float(lo) < lim[0], "<"),
            (right, float(hi) > lim[1], ">"),
        ):
            if clipped:
                ax.plot([end], [y], marker=arrow, color=colour, markersize=4)
    firth = bool(row.get("firth"))
    ax.plot(
        [min(max(float(hr), lim[0]), lim[1])],
        [y],
        linestyle="none",
        marker=MODEL_MARKERS.get(str(row.get("model")), "s"),
        markersize=5,
        markerfacecolor="white" if firth else colour,
        markeredgecolor=colour,
        markeredgewidth=1.1,
        zorder=3,
    )


def _text_row(ax: Axes, tr: Transform, y: float, row: Mapping[str, Any]) -> None:
    """The text columns for one data row."""
    mark = FIRTH_MARK if row.get("firth") else ""
    label = f"{row.get('label') or row.get('term')}{mark}"
    hr, lo, hi = row.get("hr"), row.get("lower"), row.get("upper")
    ratio = "NA" if hr is None else f"{hr:.2f} ({_two(lo)}–{_two(hi)})"
    cells = {
        "label": (f"   {label}", "left"),
        "n": (str(row.get("n", "")), "center"),
        "events": (str(row.get("events", "")), "center"),
        "hr": (ratio, "center"),
        "p": (fmt_p(row.get("p")).removeprefix("p = ").replace("p ", ""), "right"),
    }
    for col, (text, ha) in cells.items():
        ax.text(COLS[col], y, text, transform=tr, ha=ha, va="center", gid=f"forest-{col}-{y}")


def _two(x: Any) -> str:
    return "NA" if x is None else f"{float(x):.2f}"


def _headers(ax: Axes, tr: Transform) -> None:
    heads = {
        "label": ("Variable", "left"),
        "n": ("n", "center"),
        "events": ("Events", "center"),
        "hr": ("HR (95% CI)", "center"),
        "p": ("p", "right"),
    }
    for col, (text, ha) in heads.items():
        ax.text(COLS[col], -1.2, text, transform=tr, ha=ha, va="center", fontweight="bold")


def figure_forest(
    rows: Sequence[Mapping[str, Any]] | None, *, endpoint: str = "PFSR"
) -> Figure | None:
    """Figure 6: Cox hazard ratios for ``endpoint``; None when there are no rows."""
    if not rows:
        return None
    lines = _layout_rows(rows)
    lim = _limits(rows)
    with journal_style():
        height = 0.9 + 0.2 * (len(lines) + 1)
        fig = Figure(figsize=(DOUBLE_COLUMN_IN, height))
        bottom = 0.55 / height
        ax = fig.add_axes((PLOT_LEFT, bottom, PLOT_WIDTH, 1 - bottom - 0.05))
        tr = blended_transform_factory(fig.transFigure, ax.transData)
        _headers(ax, tr)
        for y, (kind, row) in enumerate(lines):
            if row is None:
                ax.text(
                    COLS["label"], y, kind, transform=tr, ha="left", va="center", fontweight="bold"
                )
            else:
                _text_row(ax, tr, y, row)
                _interval(ax, y, row, lim)
        ax.axvline(1.0, color="0.3", linewidth=0.7, linestyle=(0, (3, 2)), zorder=0)
        ax.set_xscale("log")
        ax.set_xlim(*lim)
        ticks = _ticks(lim)
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        minor = [t for t in MINOR_TICKS if lim[0] <= t <= lim[1] and t not in ticks]
        ax.xaxis.set_minor_locator(FixedLocator(minor))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xticklabels([f"{t:g}" for t in ticks])
        ax.set_ylim(len(lines) - 0.5, -1.7)
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.set_xlabel(f"Hazard ratio for {endpoint} (log scale)")
        _footnote(fig, rows)
    return fig


def _footnote(fig: Figure, rows: Sequence[Mapping[str, Any]]) -> None:
    """Marker key and, when present, the Firth note."""
    notes = ["■ univariable  ◆ multivariable; lines are 95% CIs"]
    if any(r.get("firth") for r in rows):
        notes.append(f"{FIRTH_MARK} Firth penalised likelihood (hollow marker)")
    ties = sorted({str(r.get("ties")) for r in rows if r.get("ties")})
    if ties:
        notes.append(f"ties: {', '.join(ties)}")
    fig.text(COLS["label"], 0.01, "; ".join(notes), ha="left", va="bottom", fontsize=6.5)
