"""Cumulative incidence figures of the competing-risks section, drawn from the results.

Reads ``results["competing_risks"]`` (see `rechallenge.analysis.competing`) and never
re-estimates. Two figures, in the Kaplan–Meier figures' frame (`plot_over_time`: time axis,
legend above the curves, number-at-risk table under the plot):

- :func:`figure_cif`: the cumulative incidence of progression and of death without
  progression, one step curve per cause on the same 0–1 axis, each from (0, 0); the risk
  table has one row, the patients still followed (both causes share it).
- :func:`figure_cif_by`: the cumulative incidence of progression by the levels of one
  subgroup, with Gray's test p in the legend title; one risk-table row per level.

A cause without events is drawn as a flat line at 0 and its legend says ``events = 0``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from rechallenge.figures.km import KMSeries, axis_until, plot_over_time, short_level
from rechallenge.figures.style import current_style, fmt_p, lower_first, palette, series_style
from rechallenge.labels import Labels

CIF_GID: Final = "cif-curve"
CAUSES: Final = ("progression", "death")
YLABEL: Final = "Cumulative incidence"


def cause_label(labels: Labels, cause: str) -> str:
    """``Progression``, ``Death without progression`` (label catalogue)."""
    return labels.method("competing_cause", cause)


def _pct(x: Any) -> str:
    return "NA" if x is None else f"{100 * float(x):.1f}%"


def common_time(curves: Sequence[Mapping[str, Any]]) -> float | None:
    """The latest configured time at which every curve is estimable (None if there is none).

    The legends quote every curve at this one time, so they compare like with like; with no
    common time each curve is quoted at its own last estimable time.
    """
    sets = [
        {float(r["time_months"]) for r in c.get("at_times") or [] if r.get("estimable")}
        for c in curves
    ]
    common = set.intersection(*sets) if sets else set()
    return max(common) if common else None


def _time_words(curve: Mapping[str, Any], at: float | None) -> str | None:
    """``12 months: 80.8% (95% CI 36.6–95.6%)`` at ``at``, else the last estimable time."""
    rows = [r for r in curve.get("at_times") or [] if r.get("estimable")]
    if at is not None:
        rows = [r for r in rows if float(r["time_months"]) == at]
    if not rows:
        return None
    r = rows[-1]
    ci = ""
    if r.get("lower") is not None and r.get("upper") is not None:
        ci = f" (95% CI {100 * r['lower']:.1f}–{_pct(r['upper'])})"
    return f"{float(r['time_months']):g} months: {_pct(r.get('cif'))}{ci}"


def _legend_text(
    name: str, n: int | None, events: int, curve: Mapping[str, Any], at: float | None
) -> str:
    head = f"{name}\n" + (f"n = {n}, " if n is not None else "") + f"events = {events}"
    words = _time_words(curve, at)
    return f"{head}\n{words}" if words else head


def _step(ax: Axes, index: int, curve: Mapping[str, Any]) -> Line2D:
    """One CIF step curve from (0, 0); returns its legend handle."""
    steps = curve.get("steps") or {}
    time = [float(t) for t in steps.get("time_months") or []]
    cif = [float(c) for c in steps.get("cif") or []]
    if not time or time[0] > 0:
        time, cif = [0.0, *time], [0.0, *cif]
    style = series_style(index)
    ax.step(
        time,
        cif,
        where="post",
        color=style["color"],
        linestyle=style["linestyle"],
        zorder=3,
        clip_on=False,
        gid=f"{CIF_GID}-{index}",
    )
    return Line2D([], [], color=style["color"], linestyle=style["linestyle"])


def _last_time(curves: Sequence[Mapping[str, Any]]) -> float:
    return max(
        (float(t) for c in curves for t in (c.get("steps") or {}).get("time_months") or []),
        default=0.0,
    )


def _xlabel(section: Mapping[str, Any]) -> str:
    if section.get("endpoint") == "PFS1":
        return "Months since the start of the first ICI course"
    return "Months since the start of rechallenge"


def _risk_row(label: str, block: Mapping[str, Any], short: str | None = None) -> KMSeries:
    """A risk-table row: the group's numbers at risk (cumulative events are per cause)."""
    rt = block.get("risk_table") or {}
    table = {"time_months": rt.get("time_months") or [], "n_risk": rt.get("n_risk") or []}
    return KMSeries(label=label, curve={"risk_table": table}, short_label=short)


def figure_cif(section: Mapping[str, Any] | None, labels: Labels | None = None) -> Figure | None:
    """Cumulative incidence of progression and of death without progression (all patients)."""
    labels = labels or Labels()
    if not isinstance(section, Mapping) or not isinstance(section.get("overall"), Mapping):
        return None
    overall = section["overall"]
    curves = [overall["curves"][c] for c in CAUSES]
    events = overall.get("events") or {}
    at = common_time(curves)
    texts = [
        _legend_text(cause_label(labels, c), None, int(events.get(c, 0)), overall["curves"][c], at)
        for c in CAUSES
    ]
    return plot_over_time(
        [_risk_row("All patients", overall)],
        lambda ax: [_step(ax, i, c) for i, c in enumerate(curves)],
        texts,
        axis_until(_last_time(curves)),
        labels=(_xlabel(section), YLABEL),
        title=f"{labels.get('endpoint_short', section.get('endpoint', 'PFSR'))}, "
        f"n = {overall.get('n')}",
        row_colours=[palette().role("text")],
    )


def gray_words(block: Mapping[str, Any], cause: str) -> str | None:
    """``Gray's test: p = 0.005`` for one cause, or why there is no test."""
    test = next((g for g in block.get("gray") or [] if g.get("cause") == cause), None)
    if test is None:
        return None
    if test.get("p") is None:
        return "Gray's test: not done (no events)" if test.get("note") else "Gray's test: p = NA"
    return f"Gray's test: {fmt_p(test.get('p'))}"


def figure_cif_by(
    section: Mapping[str, Any] | None,
    variable: str,
    labels: Labels | None = None,
    cause: str = "progression",
) -> Figure | None:
    """Cumulative incidence of one cause (progression) by the levels of one subgroup."""
    labels = labels or Labels()
    if not isinstance(section, Mapping):
        return None
    block = (section.get("subgroups") or {}).get(variable)
    if not isinstance(block, Mapping) or not block.get("levels"):
        return None
    levels = list(block["levels"].items())
    var_label = labels.variable(variable)
    at = common_time([g["curves"][cause] for _, g in levels])
    texts = [
        _legend_text(
            f"{var_label}: {labels.level(variable, lv)}",
            g.get("n"),
            int((g.get("events") or {}).get(cause, 0)),
            g["curves"][cause],
            at,
        )
        for lv, g in levels
    ]
    rows = [
        _risk_row(labels.level(variable, lv), g, short_level(labels.level(variable, lv)))
        for lv, g in levels
    ]
    curves = [g["curves"][cause] for _, g in levels]
    title = cause_label(labels, cause)
    if current_style().annotations.p_values and (words := gray_words(block, cause)):
        title = f"{title}\n{words}"
    return plot_over_time(
        rows,
        lambda ax: [_step(ax, i, c) for i, c in enumerate(curves)],
        texts,
        axis_until(_last_time(curves)),
        labels=(_xlabel(section), f"{YLABEL} of {lower_first(cause_label(labels, cause))}"),
        title=title,
        risk_title=f", by {lower_first(var_label)}",
    )
