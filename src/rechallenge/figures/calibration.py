"""Calibration plot of the prognostic model at one time: observed against predicted.

`figure_calibration` reads ``results["prognostic"]["validation"]["times"][0]`` (see
`rechallenge.analysis.prognostic`) and never recomputes: one point per group of predicted
risk at (mean predicted survival, Kaplan–Meier survival), with the Kaplan–Meier 95% CI as
a vertical bar, joined in order of prediction; the dashed diagonal is perfect calibration.
Both axes run 0 to 1 on the same scale, so the panel is square.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from matplotlib.figure import Figure

from rechallenge.figures.settings import SINGLE_COLUMN_IN
from rechallenge.figures.style import current_style, fit_axes_to_width, journal_style, palette

__all__ = ["figure_calibration"]

PANEL_IN: Final = 2.6


def _calibration(results: Mapping[str, Any]) -> Mapping[str, Any] | None:
    prognostic = results.get("prognostic")
    if not isinstance(prognostic, Mapping) or prognostic.get("status") != "fitted":
        return None
    validation = prognostic.get("validation")
    times = (validation or {}).get("times") if isinstance(validation, Mapping) else None
    if not times or not isinstance(times[0], Mapping) or not times[0].get("calibration"):
        return None
    first: Mapping[str, Any] = times[0]
    return first


def figure_calibration(results: Mapping[str, Any]) -> Figure | None:
    """Observed (KM, 95% CI) against predicted survival by risk group; None if absent."""
    block = _calibration(results)
    if block is None:
        return None
    groups = [g for g in block["calibration"] if g.get("observed") is not None]
    if not groups:
        return None
    with journal_style():
        style = current_style()
        width = style.width_in(SINGLE_COLUMN_IN)
        panel = min(style.panel_height(width, PANEL_IN), width * 0.8)
        fig = Figure(figsize=(width, panel + 0.6))
        ax = fig.add_axes((0.2, 0.6 / (panel + 0.6), 0.75, panel / (panel + 0.6)))
        colours = palette()
        ax.plot(
            [0, 1], [0, 1], linestyle="--", color=colours.role("guide"), linewidth=0.8, zorder=1
        )
        x = [float(g["predicted"]) for g in groups]
        y = [float(g["observed"]) for g in groups]
        below = [
            y_ - float(g.get("lower") if g.get("lower") is not None else y_)
            for g, y_ in zip(groups, y, strict=True)
        ]
        above = [
            float(g.get("upper") if g.get("upper") is not None else y_) - y_
            for g, y_ in zip(groups, y, strict=True)
        ]
        colour = colours.series[0]
        ax.errorbar(
            x, y, yerr=[below, above], fmt="o-", color=colour, markersize=4, linewidth=1.0,
            elinewidth=0.9, capsize=2.5, zorder=3,
        )  # fmt: skip
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal", adjustable="box")
        ticks = [0, 0.2, 0.4, 0.6, 0.8, 1.0]
        ax.set_xticks(ticks)
        ax.set_yticks(ticks)
        months = float(block["months"])
        ax.set_xlabel(f"Predicted survival at {months:g} months")
        ax.set_ylabel(f"Observed survival at {months:g} months")
        fit_axes_to_width(fig, [ax], width)
    return fig
