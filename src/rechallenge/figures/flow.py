"""CONSORT-style flow diagram drawn from the cohort attrition table.

Reads ``results["cohort"]``: ``screened``, ``included`` and ``attrition`` (ordered steps with
``description``, ``kind`` inclusion/exclusion, ``before``, ``excluded``, ``remaining``). The
main column goes from patients screened to patients included; one side box lists the
patients removed, grouped as "did not meet inclusion criteria" and "met exclusion criteria",
with a count for each criterion that removed anyone.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any, Final

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text

from rechallenge.figures.style import FONT_SIZE, journal_style

BOX: Final[dict[str, Any]] = {
    "boxstyle": "square,pad=0.6",
    "facecolor": "white",
    "edgecolor": "black",
    "linewidth": 0.8,
}
ARROW: Final[dict[str, Any]] = {
    "arrowstyle": "-|>",
    "color": "black",
    "lw": 0.8,
    "shrinkA": 0,
    "shrinkB": 0,
    "mutation_scale": 9,
}
GROUP_TITLES: Final[dict[str, str]] = {
    "inclusion": "Did not meet inclusion criteria",
    "exclusion": "Met exclusion criteria",
}


#: Longest line of the exclusion box, so it stays inside a 6-inch figure.
SIDE_BOX_CHARS = 62


def exclusion_text(attrition: Sequence[Mapping[str, Any]]) -> str:
    """The side-box text: total excluded, then each group and criterion with its count."""
    total = sum(int(step.get("excluded", 0)) for step in attrition)
    lines = [f"Excluded (n = {total})"]
    for kind, title in GROUP_TITLES.items():
        steps = [s for s in attrition if s.get("kind") == kind and int(s.get("excluded", 0))]
        if not steps:
            continue
        lines.append(f"{title} (n = {sum(int(s['excluded']) for s in steps)})")
        for step in steps:
            bullet = f"• {step.get('description', step.get('criterion'))}: {step['excluded']}"
            lines += textwrap.wrap(
                bullet, SIDE_BOX_CHARS, initial_indent="  ", subsequent_indent="    "
            )
    return "\n".join(lines)


def _box(ax: Axes, x: float, y: float, text: str, ha: str = "center") -> Text:
    return ax.text(x, y, text, ha=ha, va="center", bbox=BOX, fontsize=FONT_SIZE, wrap=False)


def _arrow(ax: Axes, start: Any, end: Any, start_coords: Any, end_coords: Any) -> None:
    ax.annotate(
        "", xy=end, xycoords=end_coords, xytext=start, textcoords=start_coords, arrowprops=ARROW
    )


def figure_flow(cohort: Mapping[str, Any] | None) -> Figure | None:
    """Patient flow from screening to the analysed cohort; None without an attrition table."""
    if not cohort or not cohort.get("attrition"):
        return None
    attrition = list(cohort["attrition"])
    screened = cohort.get("screened", attrition[0].get("before"))
    included = cohort.get("included", attrition[-1].get("remaining"))
    n_lines = exclusion_text(attrition).count("\n") + 1
    with journal_style():
        height = 1.5 + 0.15 * n_lines
        fig = Figure(figsize=(6.0, height))
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 10)
        ax.axis("off")
        top = _box(ax, 1.8, 9.3, f"Patients screened\n(n = {screened})")
        side = _box(ax, 3.3, 5.0, exclusion_text(attrition), ha="left")
        bottom = _box(ax, 1.8, 0.7, f"Included in the analysis\n(n = {included})")
        _arrow(ax, (0.5, 0), (0.5, 1), top, bottom)
        _arrow(ax, (1.8, 5.0), (0, 0.5), "data", side)
    return fig
