"""Nomogram of the prognostic model: points per covariate, total points, predicted survival.

`figure_nomogram` reads ``results["prognostic"]["nomogram"]`` (see
`rechallenge.analysis.prognostic`, rms ``nomogram`` layout) and never recomputes. Rows, top
to bottom:

1. **Points**, 0 to 100: the scale every covariate row is read against;
2. one row per covariate: a factor's levels at their points on one line, as rms draws it
   (levels need not be in order along it), a numeric term's values at theirs (a spline term
   may turn back; values on a falling stretch are labelled below the line);
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
from matplotlib.textpath import TextPath

from rechallenge.figures.settings import DOUBLE_COLUMN_IN
from rechallenge.figures.style import current_style, fit_axes_to_width, font_size, journal_style
from rechallenge.figures.style import palette as active_palette
from rechallenge.labels import Labels, labels_from_results

__all__ = ["figure_nomogram", "nomogram_rows"]

ROW_IN: Final = 0.42
TICK: Final = 0.12
#: smallest space between two labels on the same side of a scale, in data units (points 0-100)
LABEL_GAP: Final = 1.0
#: the scales' axes in figure fractions (room for the row labels on the left) and x limits
AXES_BOX: Final = (0.3, 0.02, 0.65, 0.96)
X_LIMITS: Final = (-1.0, 101.0)


def _nice_step(span: float, n: int = 8) -> float:
    raw = span / n if span > 0 else 1.0
    mag = 10 ** math.floor(math.log10(raw))
    return next(s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw)


def _row_label(axis: Mapping[str, Any], labels: Labels) -> str:
    """The covariate's label."""
    return labels.variable(str(axis["variable"]))


def _tick_words(axis: Mapping[str, Any], labels: Labels) -> list[str]:
    """A factor's levels in words (reference first); a numeric term's values as given."""
    variable = str(axis["variable"])
    if axis.get("kind") == "factor" or "=" in str(axis["term"]):
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


def _text_width(word: str, size: float) -> float:
    """Width in points of ``word`` set at ``size`` points in the current font."""
    return float(TextPath((0, 0), word, size=size).get_extents().width)


def _label_places(
    xs: Sequence[float], widths: Sequence[float], below: Sequence[bool]
) -> list[tuple[float, bool, str]]:
    """(x, below, alignment) of each label so that no two on one side of the line overlap.

    Labels are taken left to right. Each is tried centred on its tick, then starting at it,
    then ending at it, first on its preferred side (a spline's falling stretch below), then
    on the other: the first placement clear of the labels before it and of the row names on
    the left is kept, so the label still touches its tick. When none is clear, the label
    starts just right of its neighbour on the side where that moves it least.
    """
    right_edge = {False: X_LIMITS[0] - LABEL_GAP, True: X_LIMITS[0] - LABEL_GAP}
    places: list[tuple[float, bool, str]] = [(0.0, False, "center")] * len(xs)
    for k in sorted(range(len(xs)), key=lambda i: xs[i]):
        x, width = xs[k], widths[k]
        sides = (below[k], not below[k])
        spans = (("center", x - width / 2), ("left", x), ("right", x - width))
        clear = [
            (side, ha, left)
            for side in sides
            for ha, left in spans
            if left >= right_edge[side] + LABEL_GAP
        ]
        if clear:
            side, ha, left = clear[0]
        else:
            side = min(sides, key=lambda s: right_edge[s])
            ha, left = "left", right_edge[side] + LABEL_GAP
        right_edge[side] = left + width
        anchor = {"center": left + width / 2, "left": left, "right": left + width}[ha]
        places[k] = (anchor, side, ha)
    return places


def _draw_row(
    ax: Axes, y: float, xs: Sequence[float], words: Sequence[str], colour: str, per_pt: float
) -> None:
    """One scale: the line, a tick per value and its label (``per_pt``: data units a point)."""
    if not xs:
        return
    ax.plot([min(xs), max(xs)], [y, y], color=colour, linewidth=0.9, solid_capstyle="butt")
    size = font_size(-1)
    steps = [b - a for a, b in itertools.pairwise(xs)]
    turns = any(d > 0 for d in steps) and any(d < 0 for d in steps)
    first = next((d > 0 for d in steps if d != 0), True)
    # a spline that turns back: the stretch against the first direction goes below
    below = [turns and k > 0 and (xs[k] - xs[k - 1] > 0) != first for k in range(len(xs))]
    widths = [_text_width(w, size) * per_pt for w in words]
    places = _label_places(xs, widths, below)
    for x, word, (x_text, down, ha) in zip(xs, words, places, strict=True):
        sign = -1.0 if down else 1.0
        ax.plot([x, x], [y, y + sign * TICK], color=colour, linewidth=0.8)
        if ha == "left" and x_text > x:  # moved clear of a neighbour: a leader to its tick
            ax.plot([x, x_text], [y + sign * TICK] * 2, color=colour, linewidth=0.5)
        ax.text(
            x_text, y + sign * (TICK + 0.04), word, ha=ha, va="top" if down else "bottom",
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
        ax = fig.add_axes(AXES_BOX)
        colours = active_palette()
        per_pt = (X_LIMITS[1] - X_LIMITS[0]) / (AXES_BOX[2] * width * 72)
        for i, (label, xs, words) in enumerate(rows):
            y = -float(i)
            _draw_row(ax, y, xs, words, colours.role("text"), per_pt)
            ax.text(-4, y, label, ha="right", va="center", fontsize=font_size())
        ax.set_xlim(*X_LIMITS)
        ax.set_ylim(-len(rows) + 0.5, 0.5)
        ax.set_axis_off()
        fit_axes_to_width(fig, [ax], width)
    return fig
