"""Waterfall plot (Figure 2): best percentage change of the target-lesion sum per patient.

Reads ``results["waterfall"]`` (one record per patient and course: ``patient``, ``course``,
``best_pct_change``, ``bor`` and, in schema 1.1, ``pd_reason``). One panel per course, bars
filled and hatched by best overall response, with reference lines at −30% (partial
response threshold) and +20% (progression threshold) of RECIST 1.1.

Layouts:

- ``paired`` (default): one patient order in both panels, so a patient sits at the same
  place in each: sorted by the rechallenge change, largest increase first; patients without
  a rechallenge measurement follow, sorted by their initial change. A patient without a
  measurement in a course leaves that slot empty.
- ``independent``: each course sorted on its own, largest increase first.

A course whose best response is PD by a new lesion or by non-target progression while its
bar stays below +20% (the bar itself does not explain PD) carries a symbol past the bar end
(★ new lesion, ◆ non-target progression), with a legend entry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from rechallenge.figures.settings import DOUBLE_COLUMN_IN
from rechallenge.figures.style import (
    RESPONSE_NAMES,
    RESPONSE_STYLE,
    current_style,
    font_size,
    gid,
    journal_style,
    palette,
    response_style,
)
from rechallenge.labels import Labels

Layout = Literal["paired", "independent"]
COURSE_TITLES: Final[dict[str, str]] = {"initial": "Initial ICI", "rechallenge": "Rechallenge"}
PR_LINE: Final[float] = -30.0
PD_LINE: Final[float] = 20.0
ZERO_BAR: Final[float] = 1.0
"""Bars shorter than this (percentage points) get a visible stroke on the zero line."""
PD_MARKS: Final[dict[str, dict[str, Any]]] = {
    "new_lesion": {"marker": "*", "markersize": 7.5, "label": "PD by a new lesion"},
    "non_target": {"marker": "D", "markersize": 4.5, "label": "PD by non-target progression"},
}
PD_MARK_GID: Final[str] = "waterfall-pd"
MARK_OFFSET: Final[float] = 6.0
WATERFALL_HEIGHT_IN: Final[float] = 3.2
#: Narrower figures stack the course panels one above the other.
STACK_BELOW_IN: Final[float] = 5.0
YLABEL: Final[str] = "Best change in sum of target lesions (%)"


def _by_course(records: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Records grouped by course, initial first, in the order courses appear otherwise."""
    out: dict[str, list[Mapping[str, Any]]] = {"initial": [], "rechallenge": []}
    for rec in records:
        out.setdefault(str(rec.get("course")), []).append(rec)
    return {k: v for k, v in out.items() if v}


def _change(rec: Mapping[str, Any] | None) -> float | None:
    if rec is None or rec.get("best_pct_change") is None:
        return None
    return float(rec["best_pct_change"])


def paired_order(courses: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[str]:
    """One patient order for every panel: by rechallenge change, then by initial change."""
    by = {c: {str(r.get("patient")): r for r in recs} for c, recs in courses.items()}
    patients = sorted({p for recs in by.values() for p in recs})

    def key(patient: str) -> tuple[int, float, int, float, str]:
        re = _change(by.get("rechallenge", {}).get(patient))
        ini = _change(by.get("initial", {}).get(patient))
        return (
            re is None,
            -(re if re is not None else 0.0),
            ini is None,
            -(ini if ini is not None else 0.0),
            patient,
        )

    return sorted(patients, key=key)


def independent_order(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """One course's measured patients, largest increase first."""
    measured = [r for r in records if _change(r) is not None]
    ordered = sorted(measured, key=lambda r: (-float(r["best_pct_change"]), str(r["patient"])))
    return [str(r["patient"]) for r in ordered]


def _bar(ax: Axes, x: int, rec: Mapping[str, Any], value: float) -> str:
    """One patient's bar; returns its response code (for the legend)."""
    bor = str(rec.get("bor") or "NE")
    colour, hatch = response_style(bor)
    if abs(value) < ZERO_BAR:
        ax.plot(
            [x - 0.375, x + 0.375],
            [0, 0],
            color=colour,
            linewidth=3,
            zorder=3,
            solid_capstyle="butt",
        )
    ax.bar(x, value, width=0.75, color=colour, hatch=hatch, edgecolor="0.15", linewidth=0.5)
    return bor if bor in RESPONSE_STYLE else "NE"


def _pd_mark(ax: Axes, x: int, rec: Mapping[str, Any], value: float, course: str) -> str | None:
    """The PD-reason symbol past the bar end when the bar does not show the progression."""
    reason = rec.get("pd_reason")
    if str(rec.get("bor")) != "PD" or reason not in PD_MARKS or value >= PD_LINE:
        return None
    spec = PD_MARKS[str(reason)]
    y = value - MARK_OFFSET if value < 0 else value + MARK_OFFSET
    ax.plot(
        [x],
        [y],
        linestyle="none",
        marker=spec["marker"],
        markersize=spec["markersize"],
        color=palette().role("text"),
        markerfacecolor=palette().role("text"),
        zorder=4,
        gid=gid(PD_MARK_GID, reason, course, x),
    )
    return str(reason)


def _panel(
    ax: Axes,
    course: str,
    records: Sequence[Mapping[str, Any]],
    order: Sequence[str],
    title: str,
) -> tuple[set[str], set[str]]:
    """Draw one course at the given patient order; return responses and PD marks shown."""
    by_patient = {str(r.get("patient")): r for r in records}
    missing = sum(1 for r in records if _change(r) is None)
    shown: set[str] = set()
    marks: set[str] = set()
    for x, patient in enumerate(order):
        rec = by_patient.get(patient)
        value = _change(rec)
        if rec is None or value is None:
            continue
        shown.add(_bar(ax, x, rec, value))
        mark = _pd_mark(ax, x, rec, value, course)
        if mark:
            marks.add(mark)
    for level in (PR_LINE, PD_LINE):
        ax.axhline(
            level, color=palette().role("muted"), linestyle=(0, (4, 2)), linewidth=0.7, zorder=0
        )
    ax.axhline(0, color="black", linewidth=0.7)
    ax.set_xticks(range(len(order)))
    ax.set_xticklabels(list(order), rotation=90, fontsize=font_size(-1))
    ax.tick_params(axis="x", length=0)
    ax.spines["bottom"].set_visible(False)
    ax.set_xlim(-0.7, max(len(order), 1) - 0.3)
    ax.set_title(f"{title} (n = {len(records)})", loc="left")
    if missing:
        ax.text(
            0.99,
            0.02,
            f"Not measurable: {missing}",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=font_size(-1),
        )
    return shown, marks


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
            fontsize=font_size(-1),
            color=palette().role("muted"),
        )


def _legend(fig: Figure, shown: set[str], marks: set[str], note: str | None, ncols: int) -> None:
    """Responses and PD-reason symbols shown, under the panels; ``note`` heads it."""
    handles: list[Any] = []
    for k in (k for k in RESPONSE_STYLE if k in shown):
        colour, hatch = response_style(k)
        handles.append(
            Patch(
                facecolor=colour,
                hatch=hatch,
                edgecolor="0.15",
                linewidth=0.5,
                label=f"{RESPONSE_NAMES[k]} ({k})",
            )
        )
    for reason in (r for r in PD_MARKS if r in marks):
        spec = PD_MARKS[reason]
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker=spec["marker"],
                markersize=spec["markersize"],
                color=palette().role("text"),
                label=spec["label"],
            )
        )
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=min(len(handles), ncols),
        title=note,
        title_fontproperties={"size": font_size(-1)},
    )


def figure_waterfall(
    records: Sequence[Mapping[str, Any]] | None,
    *,
    layout: Layout | None = None,
    labels: Labels | None = None,
) -> Figure | None:
    """Figure 2: best change of target lesions, one panel per course; None without data."""
    if not records:
        return None
    courses = _by_course(records)
    values = [v for r in records if (v := _change(r)) is not None]
    if not values:
        return None
    labels = labels or Labels()
    with journal_style():
        style = current_style()
        chosen = layout or style.waterfall
        width = style.width_in(DOUBLE_COLUMN_IN)
        height = style.panel_height(width, WATERFALL_HEIGHT_IN)
        stacked = width < STACK_BELOW_IN and len(courses) > 1
        if stacked:  # one column: panels one above the other, patients aligned
            height = style.panel_height(width, 2.4) * len(courses) + 0.6
            fig = Figure(figsize=(width, height), layout="constrained")
            axes = fig.subplots(len(courses), 1, sharey=True, squeeze=False)[:, 0]
        else:
            fig = Figure(figsize=(width, height), layout="constrained")
            axes = fig.subplots(1, len(courses), sharey=True, squeeze=False)[0]
        paired = paired_order(courses) if chosen == "paired" else None
        shown: set[str] = set()
        marks: set[str] = set()
        for ax, (course, recs) in zip(axes, courses.items(), strict=True):
            order = paired if paired is not None else independent_order(recs)
            title = labels.get("course", course, default=COURSE_TITLES.get(course, course))
            s, m = _panel(ax, course, recs, order, title)
            shown |= s
            marks |= m
        for ax in axes if stacked else axes[:1]:
            ax.set_ylabel("Best change in sum of\ntarget lesions (%)" if stacked else YLABEL)
        low = min(-100.0, min(values) - 5 - (MARK_OFFSET + 4 if marks else 0))
        high = max(40.0, max(values) + 10)
        axes[0].set_ylim(low, high)
        for ax in axes if stacked else axes[-1:]:
            _reference_labels(ax)
        note = (
            "Patients in the same order in both panels, by the best change on rechallenge"
            if paired is not None and len(courses) > 1
            else None
        )
        _legend(fig, shown, marks, note, ncols=2 if width < STACK_BELOW_IN else 4)
    return fig
