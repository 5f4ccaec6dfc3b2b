"""Waterfall plot: best percentage change of the target-lesion sum per patient and course.

Reads ``results["waterfall"]`` (one record per patient and course: ``patient``, ``course``,
``best_pct_change``, ``bor``). One panel per course, bars sorted from the largest increase to
the largest decrease, filled and hatched by best overall response, with reference lines at
−30% (partial response threshold) and +20% (progression threshold) of RECIST 1.1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from rechallenge.figures.style import (
    DOUBLE_COLUMN_IN,
    FONT_SIZE,
    RESPONSE_NAMES,
    RESPONSE_STYLE,
    journal_style,
)

COURSE_TITLES: Final[dict[str, str]] = {"initial": "Initial ICI", "rechallenge": "Rechallenge"}
PR_LINE: Final[float] = -30.0
PD_LINE: Final[float] = 20.0
ZERO_BAR: Final[float] = 1.0
"""Bars shorter than this (percentage points) get a visible stroke on the zero line."""


def _by_course(records: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Records grouped by course, initial first, in the order courses appear otherwise."""
    out: dict[str, list[Mapping[str, Any]]] = {}
    for course in ("initial", "rechallenge"):
        out[course] = []
    for rec in records:
        out.setdefault(str(rec.get("course")), []).append(rec)
    return {k: v for k, v in out.items() if v}


def _panel(ax: Axes, course: str, records: Sequence[Mapping[str, Any]]) -> set[str]:
    """Draw one course; return the responses shown (for the shared legend)."""
    measured = [r for r in records if r.get("best_pct_change") is not None]
    missing = len(records) - len(measured)
    ordered = sorted(measured, key=lambda r: (-float(r["best_pct_change"]), str(r["patient"])))
    shown: set[str] = set()
    for x, rec in enumerate(ordered):
        bor = str(rec.get("bor") or "NE")
        colour, hatch = RESPONSE_STYLE.get(bor, RESPONSE_STYLE["NE"])
        value = float(rec["best_pct_change"])
        if abs(value) < ZERO_BAR:
            ax.plot(
                [x - 0.375, x + 0.375],
                [0, 0],
                color=colour,
                linewidth=3,
                zorder=3,
                solid_capstyle="butt",
            )
        ax.bar(
            x,
            value,
            width=0.75,
            color=colour,
            hatch=hatch,
            edgecolor="0.15",
            linewidth=0.5,
        )
        shown.add(bor)
    for level in (PR_LINE, PD_LINE):
        ax.axhline(level, color="0.3", linestyle=(0, (4, 2)), linewidth=0.7, zorder=0)
    ax.axhline(0, color="black", linewidth=0.7)
    ax.set_xticks(range(len(ordered)))
    ax.set_xticklabels([str(r["patient"]) for r in ordered], rotation=90, fontsize=FONT_SIZE - 1)
    ax.tick_params(axis="x", length=0)
    ax.spines["bottom"].set_visible(False)
    ax.set_xlim(-0.7, max(len(ordered), 1) - 0.3)
    title = f"{COURSE_TITLES.get(course, course)} (n = {len(records)})"
    ax.set_title(title, loc="left")
    if missing:
        ax.text(
            0.99,
            0.02,
            f"Not measurable: {missing}",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=FONT_SIZE - 1,
        )
    return shown


def _reference_labels(ax: Axes) -> None:
    """Label the −30% and +20% lines at the right edge of the last panel."""
    for level, text in ((PR_LINE, "−30%"), (PD_LINE, "+20%")):
        ax.annotate(
            text,
            xy=(1, level),
            xycoords=("axes fraction", "data"),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=FONT_SIZE - 1,
            color="0.3",
        )


def figure_waterfall(records: Sequence[Mapping[str, Any]] | None) -> Figure | None:
    """Figure 2: best change of target lesions, one panel per course; None without data."""
    if not records:
        return None
    courses = _by_course(records)
    values = [float(r["best_pct_change"]) for r in records if r.get("best_pct_change") is not None]
    if not values:
        return None
    with journal_style():
        fig = Figure(figsize=(DOUBLE_COLUMN_IN, 3.2), layout="constrained")
        axes = fig.subplots(1, len(courses), sharey=True, squeeze=False)[0]
        shown: set[str] = set()
        for ax, (course, recs) in zip(axes, courses.items(), strict=True):
            shown |= _panel(ax, course, recs)
        axes[0].set_ylabel("Best change in sum of target lesions (%)")
        low = min(-100.0, min(values) - 5)
        high = max(40.0, max(values) + 10)
        axes[0].set_ylim(low, high)
        _reference_labels(axes[-1])
        order = [k for k in RESPONSE_STYLE if k in shown]
        handles = [
            Patch(
                facecolor=RESPONSE_STYLE[k][0],
                hatch=RESPONSE_STYLE[k][1],
                edgecolor="0.15",
                linewidth=0.5,
                label=f"{RESPONSE_NAMES[k]} ({k})",
            )
            for k in order
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    return fig
