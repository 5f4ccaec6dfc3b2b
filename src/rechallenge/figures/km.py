"""Kaplan–Meier figures in journal style, drawn from computed curves (never re-estimated).

Each curve is one entry of ``results["km"][endpoint]``: ``n``, ``events``,
``median_months`` with ``lower``/``upper``, ``steps`` (the step table) and ``risk_table``.
The plot shows step curves with censoring ticks, optional confidence bands, dashed median
lines, a legend with n, events and median (95% CI), an optional log-rank / hazard-ratio
annotation in words, and a number-at-risk table sharing the time axis (so columns align
with ticks).

Drawing rules, as survminer draws them:

1. Every curve and its band start at (0, 1): a step table that begins at the first event is
   drawn from t = 0, S = 1 (the band is [1, 1] there).
2. Where a row's confidence limits are undefined (S = 0 under a log transformation, for
   instance) the last defined limits are carried forward, so the band reaches the last time
   of its curve.
3. The time axis ends at the first break at or after the last time of the plotted curves
   (not the study's longest endpoint); breaks are every 1, 3, 6 or 12 months by that span,
   and the risk table shows the results' numbers at the breaks inside the axis.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.ticker import MultipleLocator

from rechallenge.figures.forest import hr_words
from rechallenge.figures.style import (
    current_style,
    fit_axes_to_width,
    fmt_months,
    fmt_p,
    font_size,
    journal_style,
    lower_first,
    palette,
    series_style,
)
from rechallenge.labels import Labels

VARIABLE_LABELS: Final[dict[str, str]] = {"ecog_group": "ECOG PS", "pdl1": "PD-L1"}
#: (longest plotted time up to which, break every) in months; beyond the last, yearly.
TIME_BREAKS: Final[tuple[tuple[float, float], ...]] = ((6.0, 1.0), (24.0, 3.0), (48.0, 6.0))
RISK_TABLE_AXES: Final[str] = "risk_table"
MAIN_AXES: Final[str] = "km"
BAND_GID: Final[str] = "km-band"
CURVE_GID: Final[str] = "km-curve"
KM_WIDTH_IN: Final[float] = 5.0
KM_PANEL_IN: Final[float] = 2.7
EPS: Final[float] = 1e-9
#: The legend sits above the curves from the y axis on; this much width is left of it.
LEGEND_MARGIN_IN: Final[float] = 0.9


@dataclass(frozen=True)
class KMSeries:
    """One curve to draw: its legend name, its short name for the risk table and its data."""

    label: str
    curve: Mapping[str, Any]
    short_label: str | None = None


@dataclass(frozen=True)
class CurvePoints:
    """A step table ready to draw: starts at (0, 1), limits carried forward where undefined."""

    time: list[float]
    surv: list[float]
    lower: list[float] | None
    upper: list[float] | None
    censored: list[bool]


def _opt_float(value: Any) -> float | None:
    """A finite float, or None for null, NaN or infinity."""
    if value is None:
        return None
    x = float(value)
    return x if math.isfinite(x) else None


def _carry_forward(values: Sequence[Any], start: float) -> list[float]:
    """Each undefined limit replaced by the last defined one (``start`` before any)."""
    out: list[float] = []
    last = start
    for value in values:
        x = _opt_float(value)
        last = last if x is None else x
        out.append(last)
    return out


def curve_points(curve: Mapping[str, Any]) -> CurvePoints:
    """The drawable step table of one curve (rules 1 and 2 of the module docstring)."""
    steps = curve.get("steps") or {}
    times, survs = steps.get("time_months") or [], steps.get("surv") or []
    n = min(len(times), len(survs))
    keep = [
        i for i in range(n) if _opt_float(times[i]) is not None and _opt_float(survs[i]) is not None
    ]
    time = [float(times[i]) for i in keep]
    surv = [float(survs[i]) for i in keep]

    def column(key: str, fill: Any) -> list[Any]:
        values = list(steps.get(key) or [])
        values += [fill] * (n - len(values))
        return [values[i] for i in keep]

    censor = [bool(c) for c in column("n_censor", 0)]
    lower = column("lower", None) if steps.get("lower") else None
    upper = column("upper", None) if steps.get("upper") else None
    if not time or time[0] > 0 or surv[0] < 1:
        time, surv, censor = [0.0, *time], [1.0, *surv], [False, *censor]
        lower = [1.0, *lower] if lower is not None else None
        upper = [1.0, *upper] if upper is not None else None
    return CurvePoints(
        time=time,
        surv=surv,
        lower=_carry_forward(lower, 1.0) if lower is not None else None,
        upper=_carry_forward(upper, 1.0) if upper is not None else None,
        censored=censor,
    )


def legend_label(series: KMSeries) -> str:
    """Legend text: name, n and events, median with its 95% CI, all read from the results."""
    c = series.curve
    ci = f"95% CI {fmt_months(c.get('lower'))}–{fmt_months(c.get('upper'))}"
    median = c.get("median_months")
    median_text = (
        f"Median not reached ({ci})"
        if median is None
        else f"Median {fmt_months(median)} months ({ci})"
    )
    return (
        f"{series.label}\nn = {c.get('n', 'NA')}, events = {c.get('events', 'NA')}\n{median_text}"
    )


def time_break(t_max: float) -> float:
    """The break spacing in months for curves ending at ``t_max`` (rule 3)."""
    for limit, step in TIME_BREAKS:
        if t_max <= limit + EPS:
            return step
    return 12.0


def time_axis(series: Sequence[KMSeries]) -> tuple[list[float], float]:
    """Break positions and the axis end, from the plotted curves' last times only."""
    return axis_until(max((max(curve_points(s.curve).time) for s in series), default=0.0))


def axis_until(t_max: float) -> tuple[list[float], float]:
    """Break positions and the axis end for curves whose last time is ``t_max`` (rule 3)."""
    step = time_break(t_max)
    x_max = max(step, math.ceil(t_max / step - EPS) * step)
    return [i * step for i in range(round(x_max / step) + 1)], x_max


def _table_grid(series: Sequence[KMSeries], ticks: list[float], x_max: float) -> list[float]:
    """The breaks, unless the risk table lacks some of them: then the table's own times.

    The risk table shows the results' numbers, never recomputed ones, so when the results
    give them on another grid (every 4 months, say) the axis breaks follow that grid. A
    finer table (every 3 months under breaks every 6) keeps the breaks.
    """
    times = sorted(
        {
            float(t)
            for s in series
            for t in (s.curve.get("risk_table") or {}).get("time_months", [])
            if float(t) <= x_max + EPS
        }
    )
    covered = [t for t in ticks if t <= max(times, default=0.0) + EPS]
    if not times or all(_on_grid(t, times) for t in covered):
        return ticks
    return times


def _draw_curve(
    ax: Axes, index: int, series: KMSeries, *, show_ci: bool, show_censor: bool
) -> Line2D:
    """Step curve, optional band and censor ticks for one series; returns the legend handle."""
    style = series_style(index)
    pts = curve_points(series.curve)
    ax.step(
        pts.time,
        pts.surv,
        where="post",
        color=style["color"],
        linestyle=style["linestyle"],
        zorder=3,
        gid=f"{CURVE_GID}-{index}",
    )
    if show_ci and pts.lower is not None and pts.upper is not None:
        ax.fill_between(
            pts.time,
            pts.lower,
            pts.upper,
            step="post",
            color=style["color"],
            alpha=0.12,
            linewidth=0,
            zorder=1,
            gid=f"{BAND_GID}-{index}",
        )
    ticks = [(t, s) for t, s, c in zip(pts.time, pts.surv, pts.censored, strict=True) if c]
    if show_censor and ticks:
        ax.plot(
            [c[0] for c in ticks],
            [c[1] for c in ticks],
            linestyle="none",
            marker="|",
            markersize=6,
            markeredgewidth=1.1,
            color=style["color"],
            zorder=4,
        )
    return Line2D([], [], color=style["color"], linestyle=style["linestyle"])


def _draw_medians(ax: Axes, series: Sequence[KMSeries]) -> None:
    """Dashed guides at S = 0.5 down to each reported median."""
    medians = [(i, s.curve.get("median_months")) for i, s in enumerate(series)]
    reached = [(i, float(m)) for i, m in medians if m is not None]
    if not reached:
        return
    far = max(m for _, m in reached)
    guide = palette().role("guide")
    ax.plot([0, far], [0.5, 0.5], color=guide, linestyle=(0, (3, 2)), linewidth=0.7, zorder=2)
    for i, m in reached:
        ax.plot(
            [m, m],
            [0, 0.5],
            color=series_style(i)["color"],
            linestyle=(0, (3, 2)),
            linewidth=0.7,
            zorder=2,
        )


def _row_label(ax: Axes, y: float, text: str, color: str, *, bold: bool) -> None:
    """A label right-aligned a fixed distance left of the time origin."""
    ax.annotate(
        text,
        xy=(0, y),
        xycoords=("axes fraction", "data"),
        xytext=(-12, 0),
        textcoords="offset points",
        ha="right",
        va="center",
        color=color,
        fontweight="bold" if bold else "normal",
        annotation_clip=False,
    )


def _on_grid(t: float, ticks: Sequence[float]) -> bool:
    return any(abs(t - k) < 1e-6 for k in ticks)


def _draw_risk_table(
    ax: Axes,
    series: Sequence[KMSeries],
    show_events: bool,
    ticks: Sequence[float],
    title: str | None = None,
    row_colours: Sequence[str] | None = None,
) -> None:
    """Numbers at risk (and optionally cumulative events) at the breaks inside the axis.

    Each row's label takes its curve's colour, or ``row_colours`` when the rows are not the
    curves (one row of patients at risk shared by several curves).
    """
    n_rows = len(series)
    for i, s in enumerate(series):
        y = n_rows - 1 - i
        rt = s.curve.get("risk_table") or {}
        times = rt.get("time_months", [])
        n_risk = rt.get("n_risk", [])
        events = rt.get("cum_events", [None] * len(times))
        for j, (t, n, e) in enumerate(zip(times, n_risk, events, strict=False)):
            if not _on_grid(float(t), ticks):
                continue
            text = f"{n} ({e})" if show_events and e is not None else f"{n}"
            ax.text(float(t), y, text, ha="center", va="center", gid=f"risk-{i}-{j}")
        colour = row_colours[i] if row_colours else series_style(i)["color"]
        _row_label(ax, y, s.short_label or s.label, colour, bold=True)
    heading = "Number at risk (cumulative events)" if show_events else "Number at risk"
    ax.annotate(
        f"{heading}{title or ''}",
        xy=(0, n_rows),
        xycoords=("axes fraction", "data"),
        ha="left",
        va="center",
        annotation_clip=False,
    )
    ax.set_ylim(-0.5, n_rows + 0.5)
    ax.patch.set_visible(False)
    ax.set_yticks([])
    ax.tick_params(axis="x", which="both", bottom=False, labelbottom=False)
    for side in ("left", "right", "top", "bottom"):
        ax.spines[side].set_visible(False)


def _layout(n_series: int, risk_table: bool) -> tuple[Axes, Axes | None]:
    """Curve axes above a risk-table axes sharing its x axis, sized in inches."""
    style = current_style()
    width = style.width_in(KM_WIDTH_IN)
    main_h = style.panel_height(width, KM_PANEL_IN)
    line = font_size() / 72 * 1.75
    gap, table_h = (2.9 * line, line * (n_series + 1)) if risk_table else (0.0, 0.0)
    height = main_h + gap + table_h
    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((0.0, (gap + table_h) / height, 1.0, main_h / height), label=MAIN_AXES)
    if not risk_table:
        return ax, None
    ax_rt = fig.add_axes((0.0, 0.0, 1.0, table_h / height), sharex=ax, label=RISK_TABLE_AXES)
    return ax, ax_rt


def plot_km(
    series: Sequence[KMSeries],
    *,
    ylabel: str = "Survival probability",
    xlabel: str = "Months",
    annotation: str | None = None,
    show_ci: bool = True,
    show_events: bool = False,
    show_median: bool | None = None,
    legend_title: str | None = None,
    risk_title: str | None = None,
) -> Figure:
    """Draw Kaplan–Meier curves with a number-at-risk table; return the Figure.

    ``series`` are drawn in order with the active palette; ``annotation`` (e.g. log-rank p
    and HR, in words) heads the legend, above the curves where it never covers them.
    Censor ticks, medians and the risk table follow the active style's ``annotations``
    (``show_median`` overrides the medians switch).
    """
    if not series:
        raise ValueError("plot_km needs at least one curve")

    def draw(ax: Axes) -> list[Line2D]:
        notes = current_style().annotations
        handles = [
            _draw_curve(ax, i, s, show_ci=show_ci, show_censor=notes.censor_ticks)
            for i, s in enumerate(series)
        ]
        if notes.medians if show_median is None else show_median:
            _draw_medians(ax, series)
        return handles

    return plot_over_time(
        series,
        draw,
        [legend_label(s) for s in series],
        time_axis(series),
        labels=(xlabel, ylabel),
        title="\n".join(t for t in (legend_title, annotation) if t) or None,
        show_events=show_events,
        risk_title=risk_title,
    )


def plot_over_time(
    series: Sequence[KMSeries],
    draw: Callable[[Axes], list[Line2D]],
    legend_texts: Sequence[str],
    axis: tuple[list[float], float],
    *,
    labels: tuple[str, str],
    title: str | None,
    show_events: bool = False,
    risk_title: str | None = None,
    row_colours: Sequence[str] | None = None,
) -> Figure:
    """The frame every curve-over-time figure shares (Kaplan–Meier, cumulative incidence).

    ``draw`` puts the curves on the main axes and returns the legend handles; this adds the
    time axis (``axis``: breaks and end, rule 3), the 0–1 probability axis, the axis
    ``labels`` (x, y), the legend above the curves headed by ``title``, and the
    number-at-risk table of the series' ``risk_table`` under the plot, columns on the breaks
    (row labels in the curves' colours, or ``row_colours``).
    """
    with journal_style():
        ax, ax_rt = _layout(len(series), current_style().annotations.risk_table)
        handles = draw(ax)
        ticks, x_max = axis
        ticks = _table_grid(series, ticks, x_max)
        ax.set_xlim(0, x_max)
        ax.set_xticks(ticks)
        ax.xaxis.set_minor_locator(MultipleLocator(1.0 if ticks[1] - ticks[0] > 1 else 0.5))
        ax.tick_params(axis="x", which="minor", length=1.5)
        ax.set_ylim(0, 1.03)
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
        ax.set_xlabel(labels[0])
        ax.set_ylabel(labels[1])
        _legend(ax, handles, legend_texts, title)
        if ax_rt is not None:
            _draw_risk_table(ax_rt, series, show_events, ticks, risk_title, row_colours)
        fig = ax.figure
        assert isinstance(fig, Figure)
        legend = ax.get_legend()
        if legend is not None:
            legend.set_in_layout(False)
        fit_axes_to_width(fig, [a for a in (ax, ax_rt) if a is not None], fig.get_figwidth())
        if legend is not None:
            _keep_inside(fig, ax, legend)
            legend.set_in_layout(True)
    return fig


def _keep_inside(fig: Figure, ax: Axes, legend: Legend) -> None:
    """Shift the legend left when it would stick out past the figure's right edge."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    right = fig.bbox.width - float(mpl.rcParams["savefig.pad_inches"]) * fig.dpi
    overflow = legend.get_window_extent(renderer).x1 - right
    if overflow > 0:
        legend.set_bbox_to_anchor((-overflow / ax.bbox.width, 1.02), transform=ax.transAxes)


def _legend(ax: Axes, handles: Sequence[Line2D], texts: Sequence[str], title: str | None) -> None:
    """The legend above the curves: two columns when they fit the width, else one."""
    fig = ax.figure
    assert isinstance(fig, Figure)
    FigureCanvasAgg(fig)
    for ncols in sorted({min(len(texts), 2), 1}, reverse=True):
        legend = ax.legend(
            handles,
            texts,
            loc="lower left",
            bbox_to_anchor=(0.0, 1.02),
            ncols=ncols,
            handlelength=2.6,
            labelspacing=0.8,
            columnspacing=1.5,
            borderaxespad=0.0,
            title=title,
            alignment="left",
        )
        width = legend.get_window_extent().width / fig.dpi
        if width <= fig.get_figwidth() - LEGEND_MARGIN_IN:
            return


def _course_label(labels: Labels, endpoint: str, course: str) -> str:
    """``PFS1, first ICI course`` from the label catalogue."""
    return f"{labels.get('endpoint_short', endpoint)}, {lower_first(labels.get('course', course))}"


def figure_pfs(
    km: Mapping[str, Any], *, show_ci: bool | None = None, labels: Labels | None = None
) -> Figure | None:
    """Figure 1: PFS1 and PFSR (all patients) on one plot; None if neither is available."""
    labels = labels or Labels()
    series = [
        KMSeries(
            label=_course_label(labels, ep, course),
            curve=block["all"],
            short_label=labels.get("endpoint_short", ep),
        )
        for ep, course in (("PFS1", "initial"), ("PFSR", "rechallenge"))
        if isinstance(block := km.get(ep), Mapping) and isinstance(block.get("all"), Mapping)
    ]
    if not series:
        return None
    return plot_km(
        series,
        ylabel="Progression-free survival probability",
        xlabel="Months since the start of each ICI course",
        show_ci=current_style().annotations.ci_bands if show_ci is None else show_ci,
    )


def _levels(block: Mapping[str, Any], variable: str, test: Mapping[str, Any] | None) -> list[str]:
    """Subgroup levels in the log-rank order when given, else in the order of the results."""
    if test and test.get("groups"):
        return [str(g) for g in test["groups"]]
    prefix = f"{variable}="
    return [k[len(prefix) :] for k in block if k.startswith(prefix)]


def _cox_row(cox_rows: Sequence[Mapping[str, Any]], variable: str) -> Mapping[str, Any] | None:
    """The first estimated univariable Cox row of ``variable`` (a Firth row when listed)."""
    candidates = [
        r
        for r in cox_rows
        if r.get("variable") == variable
        and r.get("model", "univariable") == "univariable"
        and _has_estimate(r)
    ]
    firth = [r for r in candidates if r.get("firth")]
    chosen = firth or candidates
    return chosen[0] if chosen else None


def subgroup_annotation(
    test: Mapping[str, Any] | None,
    cox_row: Mapping[str, Any] | None,
    labels: Labels | None = None,
) -> str | None:
    """The log-rank p and the hazard ratio in words, e.g. ``Log-rank test: p = 0.004``."""
    parts: list[str] = []
    if test is not None:
        parts.append(f"Log-rank test: {fmt_p(test.get('p'))}")
    if cox_row is not None and _has_estimate(cox_row):
        parts.append(hr_words(cox_row, labels or Labels(), sep="\n"))
    return "\n".join(parts) if parts else None


def _has_estimate(row: Mapping[str, Any]) -> bool:
    """Whether a Cox row carries a hazard ratio to quote: not a reference level, estimable."""
    return (
        not row.get("is_reference")
        and row.get("estimable", True) is not False
        and row.get("hr") is not None
    )


def short_level(text: str) -> str:
    """A level label without its parenthetical, for the risk table: ``Positive (TPS ≥ 1%)``
    -> ``Positive``."""
    head = text.split(" (", 1)[0].strip()
    return head or text


def figure_km_by(
    km_endpoint: Mapping[str, Any],
    variable: str,
    *,
    logrank: Mapping[str, Any] | None = None,
    cox_rows: Sequence[Mapping[str, Any]] = (),
    endpoint: str = "PFSR",
    show_ci: bool | None = None,
    labels: Labels | None = None,
) -> Figure | None:
    """Figures 4–5: one endpoint by subgroup (e.g. PFSR by ECOG PS), with log-rank p and HR."""
    labels = labels or Labels()
    test = logrank.get(variable) if logrank else None
    test = test if isinstance(test, Mapping) else None
    levels = _levels(km_endpoint, variable, test)
    var_label = labels.variable(variable)
    series = [
        KMSeries(
            label=f"{var_label}: {labels.level(variable, lv)}",
            curve=curve,
            short_label=short_level(labels.level(variable, lv)),
        )
        for lv in levels
        if isinstance(curve := km_endpoint.get(f"{variable}={lv}"), Mapping)
    ]
    if not series:
        return None
    ylabel = {
        "OS": "Overall survival probability",
        "PFS1": "Progression-free survival probability",
        "PFSR": "Progression-free survival probability",
    }.get(endpoint, "Survival probability")
    notes = current_style().annotations
    return plot_km(
        series,
        ylabel=ylabel,
        xlabel="Months since the start of rechallenge"
        if endpoint != "PFS1"
        else "Months since the start of the first ICI course",
        annotation=subgroup_annotation(test, _cox_row(cox_rows, variable), labels)
        if notes.p_values
        else None,
        show_ci=notes.subgroup_ci_bands if show_ci is None else show_ci,
        risk_title=f", by {lower_first(var_label)}",
    )


def figure_os(
    km: Mapping[str, Any], *, show_ci: bool | None = None, labels: Labels | None = None
) -> Figure | None:
    """Overall survival from the start of rechallenge (all patients); None if absent."""
    labels = labels or Labels()
    block = km.get("OS")
    if not isinstance(block, Mapping) or not isinstance(block.get("all"), Mapping):
        return None
    curve = block["all"]
    series = [KMSeries(labels.get("endpoint", "OS"), curve, labels.get("endpoint_short", "OS"))]
    return plot_km(
        series,
        ylabel="Overall survival probability",
        xlabel="Months since the start of rechallenge",
        show_ci=current_style().annotations.ci_bands if show_ci is None else show_ci,
    )
