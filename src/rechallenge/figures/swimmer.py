"""Swimmer plot: one lane per patient across both ICI courses.

Reads ``results["swimmer"]``: times in months from the first dose of the initial ICI. Each
lane shows the initial course, any interim therapy, the rechallenge course and follow-up,
with markers for objective response, progression, death and censoring (alive at last
follow-up) and an arrow when rechallenge is ongoing. Lanes are ordered by follow-up, longest
at the top.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MultipleLocator

from rechallenge.figures.style import (
    DOUBLE_COLUMN_IN,
    FONT_SIZE,
    OKABE_ITO,
    journal_style,
)

BAR_HEIGHT: Final[float] = 0.62
INITIAL = {"color": OKABE_ITO["blue"], "hatch": ""}
INTERIM = {"color": "#D9D9D9", "hatch": "////"}
RECHALLENGE = {"color": OKABE_ITO["orange"], "hatch": ""}
MARKERS: Final[dict[str, dict[str, Any]]] = {
    "response": {"marker": "^", "markerfacecolor": "white", "markeredgecolor": "black"},
    "progression": {"marker": "X", "markerfacecolor": "black", "markeredgecolor": "white"},
    "death": {"marker": "D", "markerfacecolor": OKABE_ITO["vermillion"], "markeredgecolor": "k"},
    "censored": {"marker": "|", "markerfacecolor": "black", "markeredgecolor": "black"},
}
MARKER_LABELS: Final[dict[str, str]] = {
    "response": "Objective response (CR/PR)",
    "progression": "Progression",
    "death": "Death",
    "censored": "Alive at last follow-up",
}


def _num(rec: Mapping[str, Any], key: str) -> float | None:
    value = rec.get(key)
    return None if value is None else float(value)


def _bar(ax: Axes, y: float, start: float | None, end: float | None, style: dict[str, str]) -> None:
    """A course segment, skipped when either end is unknown or it has no length."""
    if start is None or end is None or end <= start:
        return
    ax.barh(
        y,
        end - start,
        left=start,
        height=BAR_HEIGHT,
        color=style["color"],
        hatch=style["hatch"],
        edgecolor="0.2",
        linewidth=0.5,
        zorder=2,
    )


def _bor_label(ax: Axes, y: float, start: float | None, end: float | None, bor: Any) -> None:
    """Best response written inside the course bar when there is room."""
    if bor is None or start is None or end is None or end - start < 1.2:
        return
    ax.text(start + 0.15, y, str(bor), va="center", ha="left", fontsize=FONT_SIZE - 1.5, zorder=3)


def _mark(ax: Axes, kind: str, x: float | None, y: float) -> None:
    if x is None:
        return
    size = 8 if kind == "censored" else 5.5
    ax.plot(
        [x], [y], linestyle="none", markersize=size, markeredgewidth=0.8, zorder=4, **MARKERS[kind]
    )


def _lane(ax: Axes, y: float, rec: Mapping[str, Any]) -> None:
    """Everything drawn for one patient."""
    r_start = _num(rec, "rechallenge_start")
    last = _num(rec, "last_followup")
    ongoing = bool(rec.get("ongoing"))
    r_end = _num(rec, "rechallenge_end")
    if r_end is None and ongoing:
        r_end = last
    start = _num(rec, "initial_start") or 0.0
    if last is not None:
        ax.plot([start, last], [y, y], color="0.55", linewidth=0.8, zorder=1)
    _bar(ax, y, start, _num(rec, "initial_end"), INITIAL)
    _bor_label(ax, y, start, _num(rec, "initial_end"), rec.get("bor_initial"))
    _bar(ax, y, _num(rec, "interim_start"), _num(rec, "interim_end"), INTERIM)
    _bar(ax, y, r_start, r_end, RECHALLENGE)
    _bor_label(ax, y, r_start, r_end, rec.get("bor_rechallenge"))
    for key in ("initial_response", "rechallenge_response"):
        _mark(ax, "response", _num(rec, key), y)
    for key in ("initial_progression", "rechallenge_progression"):
        _mark(ax, "progression", _num(rec, key), y)
    if rec.get("death"):
        _mark(ax, "death", last, y)
    elif ongoing and r_end is not None:
        ax.annotate(
            "",
            xy=(r_end + 1.3, y),
            xytext=(r_end, y),
            arrowprops={
                "arrowstyle": "-|>",
                "color": "black",
                "lw": 1.0,
                "shrinkA": 0,
                "shrinkB": 0,
                "mutation_scale": 8,
            },
            zorder=4,
        )
    else:
        _mark(ax, "censored", last, y)


def _legend(fig: Figure) -> None:
    handles: list[Any] = [
        Patch(facecolor=INITIAL["color"], edgecolor="0.2", label="Initial ICI"),
        Patch(
            facecolor=INTERIM["color"],
            hatch=INTERIM["hatch"],
            edgecolor="0.2",
            label="Interim therapy",
        ),
        Patch(facecolor=RECHALLENGE["color"], edgecolor="0.2", label="ICI rechallenge"),
    ]
    handles += [
        Line2D([], [], linestyle="none", markersize=5.5, label=MARKER_LABELS[k], **MARKERS[k])
        for k in ("response", "progression", "death", "censored")
    ]
    handles.append(
        Line2D(
            [],
            [],
            color="black",
            marker=">",
            markersize=4,
            linewidth=1.0,
            label="Rechallenge ongoing",
        )
    )
    fig.legend(handles=handles, loc="outside lower center", ncols=4)


def figure_swimmer(records: Sequence[Mapping[str, Any]] | None) -> Figure | None:
    """Figure 3: per-patient timelines of both courses; None without data."""
    if not records:
        return None
    lanes = sorted(
        records, key=lambda r: (-(_num(r, "last_followup") or 0.0), str(r.get("patient")))
    )
    with journal_style():
        height = 1.6 + 0.24 * len(lanes)
        fig = Figure(figsize=(DOUBLE_COLUMN_IN, height), layout="constrained")
        ax = fig.add_subplot()
        for i, rec in enumerate(lanes):
            _lane(ax, i, rec)
        ax.set_yticks(range(len(lanes)))
        ax.set_yticklabels([str(r.get("patient")) for r in lanes])
        ax.set_ylim(len(lanes) - 0.5, -0.5)
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        ax.xaxis.set_major_locator(MultipleLocator(3))
        ax.set_xlim(left=0)
        ax.set_xlabel("Months from the first dose of the initial ICI")
        ax.set_ylabel("Patient")
        _legend(fig)
    return fig
