"""Nomogram of the prognostic model: points per covariate, total points, predicted survival.

`figure_nomogram` reads ``results["prognostic"]["nomogram"]`` (see
`rechallenge.analysis.prognostic`, rms ``nomogram`` layout) and never recomputes. Rows, top
to bottom:

1. **Points**, 0 to 100: the scale every covariate row is read against;
2. one row per model term: the covariate's values placed at their points (a spline term may
   turn back; values on a falling stretch are labelled below the line);
3. **Total points**, 0 to the sum of every row's maximum, drawn on the same width;
4. **Predicted survival at t months** at the total points where it is reached.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from rechallenge.figures.settings import DOUBLE_COLUMN_IN
from rechallenge.figures.style import current_style, fit_axes_to_width, font_size, journal_style
from rechallenge.figures.style import palette as active_palette
from rechallenge.labels import Labels, labels_from_results

__all__ = ["figure_nomogram", "nomogram_rows"]

ROW_IN: Final = 0.42
TICK: Final = 0.12


def _nice_step(span: float, n: int = 8) -> float:
    raw = span / n if span > 0 else 1.0
    mag = 10 ** math.floor(math.log10(raw))
    return next(s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw)


def _row_label(axis: Mapping[str, Any], labels: Labels) -> str:
    """The covariate's label (a factor's indicator rows share it; their ticks differ)."""
    return labels.variable(str(axis["variable"]))


def _tick_words(axis: Mapping[str, Any], labels: Labels) -> list[str]:
    variable = str(axis["variable"])
    if "=" in str(axis["term"]):
        return [labels.level(variable, t) for t in axis["ticks"]]
    return [str(t) for t in axis["ticks"]]


def nomogram_rows(
    nomo: Mapping[str, Any], labels: Labels
) -> list[tuple[str, list[float], list[str]]]:
    """(row label, x positions 0-100, tick labels) of every row, top to bottom."""
    rows: list[tuple[str, list[float], list[str]]] = [
        ("Points", [float(p) for p in range(0, 101, 10)], [str(p) for p in range(0, 101, 10)])
    ]
    for axis in nomo["axes"]:
        rows.append(
            (
                _row_label(axis, labels),
                [float(p) for p in axis["points"]],
                _tick_words(axis, labels),
            )
        )
    total = float(nomo["max_total_points"])
    step = _nice_step(total)
    ticks = [k * step for k in range(int(total / step + 1e-9) + 1)]
    rows.append(("Total points", [100 * t / total for t in ticks], [f"{t:g}" for t in ticks]))
    survival = nomo.get("survival") or []
    rows.append(
        (
            f"Predicted survival at {float(nomo['months']):g} months",
            [100 * float(s["points"]) / total for s in survival],
            [f"{float(s['survival']):g}" for s in survival],
        )
    )
    return rows


def _draw_row(ax: Axes, y: float, xs: Sequence[float], words: Sequence[str], colour: str) -> None:
    if not xs:
        return
    ax.plot([min(xs), max(xs)], [y, y], color=colour, linewidth=0.9, solid_capstyle="butt")
    size = font_size(-1)
    steps = [b - a for a, b in itertools.pairwise(xs)]
    turns = any(d > 0 for d in steps) and any(d < 0 for d in steps)
    first = next((d > 0 for d in steps if d != 0), True)
    for k, (x, word) in enumerate(zip(xs, words, strict=True)):
        # a spline that turns back: the stretch against the first direction goes below
        below = turns and k > 0 and (xs[k] - xs[k - 1] > 0) != first
        sign = -1.0 if below else 1.0
        ax.plot([x, x], [y, y + sign * TICK], color=colour, linewidth=0.8)
        ax.text(
            x, y + sign * (TICK + 0.04), word, ha="center", va="top" if below else "bottom",
            fontsize=size,
        )  # fmt: skip


def figure_nomogram(results: Mapping[str, Any]) -> Figure | None:
    """The model's nomogram; None when the results have none."""
    prognostic = results.get("prognostic")
    if not isinstance(prognostic, Mapping) or not isinstance(prognostic.get("nomogram"), Mapping):
        return None
    nomo = prognostic["nomogram"]
    if not nomo.get("axes") or not float(nomo.get("max_total_points") or 0) > 0:
        return None
    labels = labels_from_results(results)
    with journal_style():
        rows = nomogram_rows(nomo, labels)
        width = current_style().width_in(DOUBLE_COLUMN_IN)
        height = ROW_IN * len(rows) + 0.2
        fig = Figure(figsize=(width, height))
        ax = fig.add_axes((0.3, 0.02, 0.65, 0.96))
        colours = active_palette()
        for i, (label, xs, words) in enumerate(rows):
            y = -float(i)
            _draw_row(ax, y, xs, words, colours.role("text"))
            ax.text(-4, y, label, ha="right", va="center", fontsize=font_size())
        ax.set_xlim(-1, 101)
        ax.set_ylim(-len(rows) + 0.5, 0.5)
        ax.set_axis_off()
        fit_axes_to_width(fig, [ax], width)
    return fig
