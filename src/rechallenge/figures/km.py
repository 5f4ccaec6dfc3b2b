"""Kaplan–Meier figures in journal style, drawn from computed curves (never re-estimated).

Each curve is one entry of ``results["km"][endpoint]``: ``n``, ``events``,
``median_months`` with ``lower``/``upper``, ``steps`` (the step table) and ``risk_table``.
The plot shows step curves with censoring ticks, optional confidence bands, dashed median
lines, a legend with n, events and median (95% CI), an optional log-rank / hazard-ratio
annotation, and a number-at-risk table sharing the time axis (so columns align with ticks).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MultipleLocator

from rechallenge.figures.style import (
    FONT_SIZE,
    fmt_months,
    fmt_p,
    fmt_ratio,
    journal_style,
    series_style,
)

ENDPOINT_LABELS: Final[dict[str, str]] = {
    "PFS1": "PFS1 (initial ICI)",
    "PFSR": "PFSR (rechallenge)",
    "OS": "OS (from rechallenge)",
}
VARIABLE_LABELS: Final[dict[str, str]] = {"ecog_group": "ECOG PS", "pdl1": "PD-L1"}
TIME_STEP: Final[float] = 3.0
RISK_TABLE_AXES: Final[str] = "risk_table"
MAIN_AXES: Final[str] = "km"


@dataclass(frozen=True)
class KMSeries:
    """One curve to draw: its legend name, its short name for the risk table and its data."""

    label: str
    curve: Mapping[str, Any]
    short_label: str | None = None


def _floats(values: Sequence[Any]) -> list[float]:
    """Numbers with None as NaN (so matplotlib leaves a gap)."""
    return [math.nan if v is None else float(v) for v in values]


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


def _time_grid(series: Sequence[KMSeries]) -> tuple[list[float], float]:
    """Tick positions (risk-table times where given, else every 3 months) and the x limit."""
    ticks: set[float] = set()
    t_max = 0.0
    for s in series:
        rt = s.curve.get("risk_table") or {}
        ticks.update(float(t) for t in rt.get("time_months", []))
        times = (s.curve.get("steps") or {}).get("time_months", [])
        if times:
            t_max = max(t_max, max(float(t) for t in times))
    x_max = max([t_max, *ticks]) if ticks else t_max
    x_max = max(TIME_STEP, math.ceil(x_max / TIME_STEP - 1e-9) * TIME_STEP)
    n = round(x_max / TIME_STEP)
    ticks.update(i * TIME_STEP for i in range(n + 1))
    return sorted(ticks), x_max


def _draw_curve(ax: Axes, index: int, series: KMSeries, show_ci: bool) -> Line2D:
    """Step curve, optional band and censor ticks for one series; returns the legend handle."""
    style = series_style(index)
    steps = series.curve.get("steps") or {}
    t = _floats(steps.get("time_months", []))
    s = _floats(steps.get("surv", []))
    ax.step(t, s, where="post", color=style["color"], linestyle=style["linestyle"], zorder=3)
    if show_ci and steps.get("lower") and steps.get("upper"):
        ax.fill_between(
            t,
            _floats(steps["lower"]),
            _floats(steps["upper"]),
            step="post",
            color=style["color"],
            alpha=0.10,
            linewidth=0,
            zorder=1,
        )
    censored = [(ti, si) for ti, si, c in zip(t, s, steps.get("n_censor", []), strict=False) if c]
    if censored:
        ax.plot(
            [c[0] for c in censored],
            [c[1] for c in censored],
            linestyle="none",
            marker="|",
            markersize=6,
            markeredgewidth=1.1,
            color=style["color"],
            zorder=4,
        )
    handle = Line2D([], [], color=style["color"], linestyle=style["linestyle"])
    return handle


def _draw_medians(ax: Axes, series: Sequence[KMSeries]) -> None:
    """Dashed guides at S = 0.5 down to each reported median."""
    medians = [(i, s.curve.get("median_months")) for i, s in enumerate(series)]
    reached = [(i, float(m)) for i, m in medians if m is not None]
    if not reached:
        return
    far = max(m for _, m in reached)
    ax.plot([0, far], [0.5, 0.5], color="0.45", linestyle=(0, (3, 2)), linewidth=0.7, zorder=2)
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


def _draw_risk_table(ax: Axes, series: Sequence[KMSeries], show_events: bool, x_max: float) -> None:
    """Numbers at risk (and optionally cumulative events) at the results' time points."""
    n_rows = len(series)
    for i, s in enumerate(series):
        y = n_rows - 1 - i
        rt = s.curve.get("risk_table") or {}
        times = rt.get("time_months", [])
        n_risk = rt.get("n_risk", [])
        events = rt.get("cum_events", [None] * len(times))
        for j, (t, n, e) in enumerate(zip(times, n_risk, events, strict=False)):
            if float(t) > x_max + 1e-9:
                continue
            text = f"{n} ({e})" if show_events and e is not None else f"{n}"
            ax.text(float(t), y, text, ha="center", va="center", gid=f"risk-{i}-{j}")
        _row_label(ax, y, s.short_label or s.label, series_style(i)["color"], bold=True)
    title = "Number at risk (cumulative events)" if show_events else "Number at risk"
    _row_label(ax, n_rows, title, "black", bold=False)
    ax.set_ylim(-0.5, n_rows + 0.5)
    ax.patch.set_visible(False)
    ax.set_yticks([])
    ax.tick_params(axis="x", which="both", bottom=False, labelbottom=False)
    for side in ("left", "right", "top", "bottom"):
        ax.spines[side].set_visible(False)


def _layout(width: float, n_series: int) -> tuple[Axes, Axes]:
    """Curve axes above a risk-table axes sharing its x axis, sized in inches."""
    main_h, gap, table_h = 2.7, 0.62, 0.2 * (n_series + 1)
    height = main_h + gap + table_h
    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((0.0, (gap + table_h) / height, 1.0, main_h / height), label=MAIN_AXES)
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
    show_median: bool = True,
    width: float = 5.0,
) -> Figure:
    """Draw Kaplan–Meier curves with a number-at-risk table; return the Figure.

    ``series`` are drawn in order with the shared palette; ``annotation`` (e.g. log-rank p
    and HR) is shown as the legend heading.
    """
    if not series:
        raise ValueError("plot_km needs at least one curve")
    with journal_style():
        ax, ax_rt = _layout(width, len(series))
        handles = [_draw_curve(ax, i, s, show_ci) for i, s in enumerate(series)]
        if show_median:
            _draw_medians(ax, series)
        ticks, x_max = _time_grid(series)
        ax.set_xlim(0, x_max)
        ax.set_xticks([t for t in ticks if t <= x_max + 1e-9])
        ax.xaxis.set_minor_locator(MultipleLocator(1.0))
        ax.tick_params(axis="x", which="minor", length=1.5)
        ax.set_ylim(0, 1.03)
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        legend = ax.legend(
            handles,
            [legend_label(s) for s in series],
            loc="lower left",
            bbox_to_anchor=(0.0, 1.02),
            ncols=min(len(series), 2),
            handlelength=2.6,
            labelspacing=0.8,
            columnspacing=1.5,
            borderaxespad=0.0,
            title=annotation,
            alignment="left",
        )
        if legend.get_title():
            legend.get_title().set_fontsize(FONT_SIZE - 0.5)
        _draw_risk_table(ax_rt, series, show_events, x_max)
    return ax.figure  # type: ignore[return-value]


def _series_for(block: Mapping[str, Any], keys: Sequence[str], names: Sequence[str]) -> list[Any]:
    """KMSeries for each key present in ``block``."""
    out: list[KMSeries] = []
    for key, name in zip(keys, names, strict=True):
        curve = block.get(key)
        if isinstance(curve, Mapping):
            label = str(curve.get("label") or name)
            out.append(KMSeries(label=label, curve=curve, short_label=name))
    return out


def figure_pfs(km: Mapping[str, Any], *, show_ci: bool = True) -> Figure | None:
    """Figure 1: PFS1 and PFSR (all patients) on one plot; None if neither is available."""
    blocks = [(ep, km.get(ep)) for ep in ("PFS1", "PFSR")]
    series = [
        KMSeries(
            label=str(b["all"].get("label") or ENDPOINT_LABELS[ep]),
            curve=b["all"],
            short_label=ep,
        )
        for ep, b in blocks
        if isinstance(b, Mapping) and isinstance(b.get("all"), Mapping)
    ]
    if not series:
        return None
    return plot_km(
        series,
        ylabel="Progression-free survival probability",
        xlabel="Months from the first dose of each ICI course",
        show_ci=show_ci,
    )


def _levels(block: Mapping[str, Any], variable: str, test: Mapping[str, Any] | None) -> list[str]:
    """Subgroup levels in the log-rank order when given, else in the order of the results."""
    if test and test.get("groups"):
        return [str(g) for g in test["groups"]]
    prefix = f"{variable}="
    return [k[len(prefix) :] for k in block if k.startswith(prefix)]


def _cox_row(cox_rows: Sequence[Mapping[str, Any]], variable: str) -> Mapping[str, Any] | None:
    """The univariable Cox row for ``variable`` (the first if there are several levels)."""
    for row in cox_rows:
        if row.get("variable") == variable and row.get("model", "univariable") == "univariable":
            return row
    return None


def subgroup_annotation(
    test: Mapping[str, Any] | None, cox_row: Mapping[str, Any] | None
) -> str | None:
    """``Log-rank p = 0.004`` and ``HR (ECOG PS 2 vs 0–1) 6.84 (95% CI …), p = 0.011``."""
    parts: list[str] = []
    if test is not None:
        parts.append(f"Log-rank {fmt_p(test.get('p'))}")
    if cox_row is not None:
        ratio = fmt_ratio(cox_row.get("hr"), cox_row.get("lower"), cox_row.get("upper"))
        label = cox_row.get("label") or cox_row.get("term", "")
        firth = " (Firth)" if cox_row.get("firth") else ""
        parts.append(f"HR{firth}, {label}: {ratio}; {fmt_p(cox_row.get('p'))}")
    return "\n".join(parts) if parts else None


def figure_km_by(
    km_endpoint: Mapping[str, Any],
    variable: str,
    *,
    logrank: Mapping[str, Any] | None = None,
    cox_rows: Sequence[Mapping[str, Any]] = (),
    endpoint: str = "PFSR",
    show_ci: bool = False,
) -> Figure | None:
    """Figures 4–5: one endpoint by subgroup (e.g. PFSR by ECOG PS), with log-rank p and HR."""
    test = logrank.get(variable) if logrank else None
    test = test if isinstance(test, Mapping) else None
    levels = _levels(km_endpoint, variable, test)
    var_label = VARIABLE_LABELS.get(variable, variable)
    series = _series_for(
        km_endpoint,
        [f"{variable}={lv}" for lv in levels],
        [f"{var_label} {lv.replace('-', '–')}" for lv in levels],
    )
    if not series:
        return None
    ylabel = {
        "OS": "Overall survival probability",
        "PFS1": "Progression-free survival probability",
        "PFSR": "Progression-free survival probability",
    }.get(endpoint, "Survival probability")
    return plot_km(
        series,
        ylabel=ylabel,
        xlabel="Months from the first rechallenge dose"
        if endpoint != "PFS1"
        else "Months from the first dose of the initial ICI",
        annotation=subgroup_annotation(test, _cox_row(cox_rows, variable)),
        show_ci=show_ci,
    )


def figure_os(km: Mapping[str, Any], *, show_ci: bool = True) -> Figure | None:
    """Overall survival from the first rechallenge dose (all patients); None if absent."""
    block = km.get("OS")
    if not isinstance(block, Mapping) or not isinstance(block.get("all"), Mapping):
        return None
    curve = block["all"]
    series = [KMSeries(str(curve.get("label") or ENDPOINT_LABELS["OS"]), curve, "OS")]
    return plot_km(
        series,
        ylabel="Overall survival probability",
        xlabel="Months from the first rechallenge dose",
        show_ci=show_ci,
    )
