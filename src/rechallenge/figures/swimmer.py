"""Swimmer plot (Figure 3): one row per patient, in one of two layouts.

``layout="pfs"`` (default, as the seed paper's Figure 3): two lanes per patient, the PFS1
lane from the first ICI start and the PFSR lane from the rechallenge start, each ending in
a progression (or death) marker or, when censored, an arrow. Durations are the results'
``pfs1_months`` / ``pfsr_months`` with their events (schema 1.1); older results give them
as the course start to its progression, or to the last follow-up (censored). Rows are
ordered by PFSR, longest at the top.

``layout="exposure"``: treatment courses on one time axis from the first dose of the
initial ICI (initial course, interim therapy, rechallenge, follow-up) with markers for
objective response, progression, death and censoring, and an arrow when rechallenge is
ongoing. Rows are ordered by follow-up, longest at the top.

Best overall response is written on each course bar, in black or white, whichever contrasts
more with the bar; when the bar is too short for its label the label sits just past the bar
end instead, so no label silently disappears.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.text import Annotation
from matplotlib.ticker import MultipleLocator

from rechallenge.figures.settings import DOUBLE_COLUMN_IN
from rechallenge.figures.style import (
    current_style,
    font_size,
    gid,
    journal_style,
    lower_first,
    palette,
    text_colour_on,
)
from rechallenge.labels import Labels

Layout = Literal["pfs", "exposure"]
BAR_HEIGHT: Final[float] = 0.62
LANE_HEIGHT: Final[float] = 0.36
HATCH: Final[dict[str, str]] = {"initial": "", "interim": "////", "rechallenge": ""}
MARKERS: Final[dict[str, dict[str, Any]]] = {
    "response": {"marker": "^", "markerfacecolor": "white", "markeredgecolor": "black"},
    "progression": {"marker": "X", "markerfacecolor": "black", "markeredgecolor": "white"},
    "death": {"marker": "D", "markeredgecolor": "k"},
    "censored": {"marker": "|", "markerfacecolor": "black", "markeredgecolor": "black"},
}
MARKER_LABELS: Final[dict[str, str]] = {
    "response": "Objective response (CR/PR)",
    "progression": "Progression",
    "death": "Death",
    "censored": "Alive at last follow-up",
}
LABEL_GID: Final[str] = "swimmer-bor"
BAR_GID: Final[str] = "swimmer-bar"
LABEL_PAD_PT: Final[float] = 2.0
OUTSIDE_PAD_PT: Final[float] = 7.0


@dataclass(frozen=True)
class Lane:
    """One PFS lane: its course, duration from the course start, event and response."""

    course: str
    months: float
    event: bool
    bor: str | None


def _num(rec: Mapping[str, Any], key: str) -> float | None:
    value = rec.get(key)
    return None if value is None else float(value)


def _duration(
    rec: Mapping[str, Any], start_key: str, progression_key: str, end_key: str | None
) -> tuple[float, bool] | None:
    """From a course start to its progression (event), else to death or the last follow-up."""
    start = _num(rec, start_key)
    if start is None:
        return None
    progression = _num(rec, progression_key)
    if progression is not None:
        return progression - start, True
    end = _num(rec, end_key) if end_key else None
    last = _num(rec, "last_followup")
    if end is None:
        end = last
    if end is None:
        return None
    return end - start, bool(rec.get("death")) and end == last


def pfs_lanes(rec: Mapping[str, Any]) -> list[Lane]:
    """The PFS1 and PFSR lanes of one patient (the results' durations when present)."""
    lanes: list[Lane] = []
    spec = (
        ("initial", "pfs1", "initial_start", "initial_progression", "rechallenge_start"),
        ("rechallenge", "pfsr", "rechallenge_start", "rechallenge_progression", None),
    )
    for course, key, start, progression, end in spec:
        months = _num(rec, f"{key}_months")
        if months is not None:
            value: tuple[float, bool] | None = (months, bool(rec.get(f"{key}_event")))
        else:
            value = _duration(rec, start, progression, end)
        if value is not None and value[0] >= 0:
            lanes.append(Lane(course, value[0], value[1], rec.get(f"bor_{course}")))
    return lanes


@dataclass
class _Label:
    """A response label and the bar it belongs to, placed after the layout is known."""

    text: Annotation
    bar: Rectangle
    fill: str
    after: float
    """Where the lane's marks end (data x): an outside label goes just past it."""


def _bar(
    ax: Axes, y: float, start: float | None, end: float | None, course: str, height: float
) -> Rectangle | None:
    """A course segment, skipped when either end is unknown or it has no length."""
    if start is None or end is None or end <= start:
        return None
    colour = palette().role(course)
    bars = ax.barh(
        y,
        end - start,
        left=start,
        height=height,
        color=colour,
        hatch=HATCH[course],
        edgecolor="0.2",
        linewidth=0.5,
        zorder=2,
        gid=gid(BAR_GID, course, y),
    )
    return bars.patches[0]


def _bor_label(
    ax: Axes, bar: Rectangle | None, bor: Any, after: float | None = None
) -> _Label | None:
    """The best response at the start of its bar (moved outside later if it does not fit)."""
    if bar is None or bor is None:
        return None
    fill = palette().role(_course_of(bar))
    y = bar.get_y() + bar.get_height() / 2
    text = ax.annotate(
        str(bor),
        xy=(bar.get_x(), y),
        xytext=(LABEL_PAD_PT, 0),
        textcoords="offset points",
        va="center",
        ha="left",
        fontsize=font_size(-1.5),
        color=text_colour_on(fill),
        zorder=5,
        gid=gid(LABEL_GID, _course_of(bar), y),
    )
    end = bar.get_x() + bar.get_width()
    return _Label(text, bar, fill, end if after is None else max(end, after))


def _course_of(bar: Rectangle) -> str:
    """The course a bar belongs to, read from its id ``swimmer-bar-<course>-<y>``."""
    return str(bar.get_gid() or "").removeprefix(f"{BAR_GID}-").split("-", 1)[0] or "initial"


def place_labels(fig: Figure, labels: Sequence[_Label]) -> None:
    """Move each label that does not fit inside its bar to just past the bar end."""
    FigureCanvasAgg(fig)
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    for lab in labels:
        text_w = lab.text.get_window_extent(renderer).width
        bar_w = lab.bar.get_window_extent(renderer).width
        if text_w + 2 * LABEL_PAD_PT * fig.dpi / 72 <= bar_w:
            continue
        lab.text.xy = (lab.after, lab.text.xy[1])
        lab.text.set_position((OUTSIDE_PAD_PT, 0))
        lab.text.set_color("black")


def _mark(ax: Axes, kind: str, x: float | None, y: float) -> None:
    if x is None:
        return
    size = 8 if kind == "censored" else 5.5
    extra: dict[str, Any] = {"markerfacecolor": palette().role("death")} if kind == "death" else {}
    ax.plot(
        [x],
        [y],
        linestyle="none",
        markersize=size,
        markeredgewidth=0.8,
        zorder=4,
        color=palette().role("text"),
        **MARKERS[kind],
        **extra,
    )


def _arrow(ax: Axes, x: float, y: float, length: float) -> None:
    ax.annotate(
        "",
        xy=(x + length, y),
        xytext=(x, y),
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


# --- exposure layout ---------------------------------------------------------------------


def _exposure_lane(ax: Axes, y: float, rec: Mapping[str, Any], arrow: float) -> list[_Label]:
    """Everything drawn for one patient on the treatment-exposure time axis."""
    r_start = _num(rec, "rechallenge_start")
    last = _num(rec, "last_followup")
    ongoing = bool(rec.get("ongoing"))
    r_end = _num(rec, "rechallenge_end")
    if r_end is None and ongoing:
        r_end = last
    start = _num(rec, "initial_start") or 0.0
    if last is not None:
        ax.plot([start, last], [y, y], color="0.55", linewidth=0.8, zorder=1)
    initial = _bar(ax, y, start, _num(rec, "initial_end"), "initial", BAR_HEIGHT)
    _bar(ax, y, _num(rec, "interim_start"), _num(rec, "interim_end"), "interim", BAR_HEIGHT)
    rechallenge = _bar(ax, y, r_start, r_end, "rechallenge", BAR_HEIGHT)
    labels = [
        _bor_label(ax, initial, rec.get("bor_initial"), _num(rec, "initial_progression")),
        _bor_label(
            ax, rechallenge, rec.get("bor_rechallenge"), _num(rec, "rechallenge_progression")
        ),
    ]
    for key in ("initial_response", "rechallenge_response"):
        _mark(ax, "response", _num(rec, key), y)
    for key in ("initial_progression", "rechallenge_progression"):
        _mark(ax, "progression", _num(rec, key), y)
    if rec.get("death"):
        _mark(ax, "death", last, y)
    elif ongoing and r_end is not None:
        _arrow(ax, r_end, y, arrow)
    else:
        _mark(ax, "censored", last, y)
    return [lab for lab in labels if lab is not None]


def _exposure_legend(fig: Figure, labels: Labels) -> None:
    handles: list[Any] = [
        Patch(
            facecolor=palette().role("initial"), edgecolor="0.2", label=_course(labels, "initial")
        ),
        Patch(
            facecolor=palette().role("interim"),
            hatch=HATCH["interim"],
            edgecolor="0.2",
            label=_course(labels, "interim"),
        ),
        Patch(
            facecolor=palette().role("rechallenge"),
            edgecolor="0.2",
            label=_course(labels, "rechallenge"),
        ),
    ]
    for k in ("response", "progression", "death", "censored"):
        extra: dict[str, Any] = {"markerfacecolor": palette().role("death")} if k == "death" else {}
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                markersize=5.5,
                label=MARKER_LABELS[k],
                **MARKERS[k],
                **extra,
            )
        )
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
    handles.append(_bor_key())
    fig.legend(handles=handles, loc="outside lower center", ncols=4)


def _course(labels: Labels, course: str) -> str:
    return labels.get("course", course)


def _bor_key() -> Line2D:
    return Line2D(
        [], [], linestyle="none", color="black", label="CR/PR/SD/PD: best overall response"
    )


# --- PFS layout --------------------------------------------------------------------------


def _pfs_row(ax: Axes, y: float, lanes: Sequence[Lane], arrow: float) -> list[_Label]:
    """The PFS1 lane just above the PFSR lane of one patient, both from time 0."""
    out: list[_Label] = []
    offsets = {"initial": -LANE_HEIGHT / 2 - 0.02, "rechallenge": LANE_HEIGHT / 2 + 0.02}
    for lane in lanes:
        ly = y + offsets[lane.course]
        bar = _bar(ax, ly, 0.0, max(lane.months, 1e-6), lane.course, LANE_HEIGHT)
        if lane.event:
            _mark(ax, "progression", lane.months, ly)
        else:
            _arrow(ax, lane.months, ly, arrow)
        label = _bor_label(ax, bar, lane.bor, lane.months + (0.0 if lane.event else arrow))
        if label is not None:
            out.append(label)
    return out


def _pfs_legend(fig: Figure, labels: Labels) -> None:
    short = {
        c: labels.get("endpoint_short", e)
        for c, e in (("initial", "PFS1"), ("rechallenge", "PFSR"))
    }
    handles: list[Any] = [
        Patch(
            facecolor=palette().role(course),
            edgecolor="0.2",
            label=f"{short[course]}, {lower_first(_course(labels, course))}",
        )
        for course in ("initial", "rechallenge")
    ]
    handles.append(
        Line2D(
            [],
            [],
            linestyle="none",
            markersize=5.5,
            label="Progression or death",
            **MARKERS["progression"],
        )
    )
    handles.append(
        Line2D(
            [],
            [],
            color="black",
            marker=">",
            markersize=4,
            linewidth=1.0,
            label="Censored, progression-free at last follow-up",
        )
    )
    handles.append(_bor_key())
    fig.legend(handles=handles, loc="outside lower center", ncols=3)


def _time_locator(x_max: float) -> MultipleLocator:
    return MultipleLocator(3 if x_max <= 36 else 6 if x_max <= 72 else 12)


def figure_swimmer(
    records: Sequence[Mapping[str, Any]] | None,
    *,
    layout: Layout | None = None,
    labels: Labels | None = None,
) -> Figure | None:
    """Figure 3: per-patient PFS lanes (default) or treatment exposure; None without data."""
    if not records:
        return None
    labels = labels or Labels()
    with journal_style():
        style = current_style()
        chosen = layout or style.swimmer
        width = style.width_in(DOUBLE_COLUMN_IN)
        row_h = 0.34 if chosen == "pfs" else 0.24
        fig = Figure(figsize=(width, 1.7 + row_h * len(records)), layout="constrained")
        ax = fig.add_subplot()
        if chosen == "pfs":
            order, bor_labels = _draw_pfs(ax, records)
            ax.set_xlabel("Months since the start of each ICI course")
            _pfs_legend(fig, labels)
        else:
            order, bor_labels = _draw_exposure(ax, records)
            ax.set_xlabel("Months since the start of the first ICI course")
            _exposure_legend(fig, labels)
        ax.set_yticks(range(len(order)))
        ax.set_yticklabels(order)
        ax.set_ylim(len(order) - 0.5, -0.5)
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        ax.set_xlim(left=0)
        ax.xaxis.set_major_locator(_time_locator(ax.get_xlim()[1]))
        ax.set_ylabel("Patient")
        place_labels(fig, bor_labels)
    return fig


def _x_span(records: Sequence[Mapping[str, Any]], values: Sequence[float]) -> float:
    return max([*values, 1.0])


def _draw_pfs(ax: Axes, records: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[_Label]]:
    """Rows ordered by PFSR (then PFS1), longest first; returns tick labels and BOR labels."""
    lanes = {str(r.get("patient")): pfs_lanes(r) for r in records}

    def months(patient: str, course: str) -> float:
        return next((ln.months for ln in lanes[patient] if ln.course == course), -1.0)

    order = sorted(lanes, key=lambda p: (-months(p, "rechallenge"), -months(p, "initial"), p))
    span = _x_span(records, [ln.months for ls in lanes.values() for ln in ls])
    bor_labels: list[_Label] = []
    for y, patient in enumerate(order):
        bor_labels += _pfs_row(ax, y, lanes[patient], span * 0.035)
    ax.set_xlim(0, span * 1.1)
    return order, bor_labels


def _draw_exposure(
    ax: Axes, records: Sequence[Mapping[str, Any]]
) -> tuple[list[str], list[_Label]]:
    """Rows ordered by follow-up, longest first; returns tick labels and BOR labels."""
    rows = sorted(
        records, key=lambda r: (-(_num(r, "last_followup") or 0.0), str(r.get("patient")))
    )
    ends = [v for r in rows for k in ("last_followup", "rechallenge_end") if (v := _num(r, k))]
    span = _x_span(records, ends)
    bor_labels: list[_Label] = []
    for y, rec in enumerate(rows):
        bor_labels += _exposure_lane(ax, y, rec, span * 0.035)
    ax.set_xlim(0, span * 1.08)
    return [str(r.get("patient")) for r in rows], bor_labels
