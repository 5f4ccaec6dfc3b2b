"""CONSORT-style flow diagram drawn from the cohort attrition table.

Reads ``results["cohort"]``: ``screened``, ``included`` and ``attrition`` (ordered steps with
``criterion``, ``kind`` inclusion/exclusion, ``before``, ``excluded``, ``remaining`` and, in
schema 1.1, ``failure_label``). The main column goes from patients screened to patients
included; one side box lists the patients removed, grouped as "did not meet inclusion
criteria" and "met exclusion criteria". Each reason is worded as the failure, CONSORT style
("Age < 18 or > 75 years (n = 1)"): the row's ``failure_label``, else the label catalogue's
``failure`` entry for the criterion, else the row's description. Arrows end at the box
edges (the drawn frames, not the text inside them).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any, Final

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from rechallenge.figures.style import current_style, font_size, journal_style
from rechallenge.labels import Labels

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
ARROW_GID: Final[str] = "flow-arrow"
NBSP: Final[str] = "\u00a0"
FLOW_WIDTH_IN: Final[float] = 6.0

#: Longest line of the exclusion box, so it stays inside a 6-inch figure.
SIDE_BOX_CHARS = 62


def failure_text(step: Mapping[str, Any], labels: Labels) -> str:
    """The CONSORT wording of why a step removed patients."""
    if step.get("failure_label"):
        return str(step["failure_label"])
    criterion = str(step.get("criterion") or "")
    fallback = str(step.get("description") or criterion)
    return labels.get("failure", criterion, default=fallback) if criterion else fallback


def exclusion_text(
    attrition: Sequence[Mapping[str, Any]],
    labels: Labels | None = None,
    width: int = SIDE_BOX_CHARS,
) -> str:
    """The side-box text: total excluded, then each group and failed criterion with its n."""
    labels = labels or Labels()
    total = sum(int(step.get("excluded", 0)) for step in attrition)
    lines = [f"Excluded (n = {total})"]
    for kind, title in GROUP_TITLES.items():
        steps = [s for s in attrition if s.get("kind") == kind and int(s.get("excluded", 0))]
        if not steps:
            continue
        lines.append(f"{title} (n = {sum(int(s['excluded']) for s in steps)})")
        for step in steps:
            count = f"(n = {step['excluded']})".replace(" ", NBSP)  # never split the count
            bullet = f"• {failure_text(step, labels)} {count}"
            wrapped = textwrap.wrap(
                bullet,
                width,
                initial_indent="  ",
                subsequent_indent="    ",
                break_on_hyphens=False,
            )
            lines += [line.replace(NBSP, " ") for line in wrapped]
    return "\n".join(lines)


def _box(ax: Axes, x: float, y: float, text: str, ha: str = "center") -> Text:
    return ax.text(x, y, text, ha=ha, va="center", bbox=BOX, fontsize=font_size(), wrap=False)


def box_extent(fig: Figure, ax: Axes, box: Text) -> tuple[float, float, float, float]:
    """The drawn frame of a text box in data coordinates: (x0, y0, x1, y1)."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    box.draw(renderer)  # updates the frame's position and size around the text
    patch = box.get_bbox_patch()
    assert patch is not None
    bb = patch.get_window_extent(renderer).transformed(ax.transData.inverted())
    return bb.x0, bb.y0, bb.x1, bb.y1


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], name: str) -> None:
    ax.annotate("", xy=end, xytext=start, arrowprops=ARROW, gid=f"{ARROW_GID}-{name}")


def figure_flow(cohort: Mapping[str, Any] | None, labels: Labels | None = None) -> Figure | None:
    """Patient flow from screening to the analysed cohort; None without an attrition table."""
    if not cohort or not cohort.get("attrition"):
        return None
    attrition = list(cohort["attrition"])
    screened = cohort.get("screened", attrition[0].get("before"))
    included = cohort.get("included", attrition[-1].get("remaining"))
    with journal_style():
        width = current_style().width_in(FLOW_WIDTH_IN)
        chars = max(30, round(SIDE_BOX_CHARS * width / FLOW_WIDTH_IN * 8.0 / font_size()))
        side_text = exclusion_text(attrition, labels, chars)
        n_lines = side_text.count("\n") + 1
        height = 1.5 + font_size() / 72 * 1.35 * n_lines
        fig = Figure(figsize=(width, height))
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 10)
        ax.axis("off")
        centre = 1.8 * FLOW_WIDTH_IN / width if width < FLOW_WIDTH_IN else 1.8
        top = _box(ax, centre, 9.3, f"Patients screened\n(n = {screened})")
        side = _box(ax, centre + 1.5, 5.0, side_text, ha="left")
        bottom = _box(ax, centre, 0.7, f"Included in the analysis\n(n = {included})")
        top_box, side_box, bottom_box = (box_extent(fig, ax, b) for b in (top, side, bottom))
        _arrow(ax, (centre, top_box[1]), (centre, bottom_box[3]), "down")
        mid = (side_box[1] + side_box[3]) / 2
        _arrow(ax, (centre, mid), (side_box[0], mid), "across")
    return fig
