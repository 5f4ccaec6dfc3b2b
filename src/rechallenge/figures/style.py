"""Shared journal style for every figure: palette, line styles, markers, hatches, fonts.

The palette is Okabe–Ito (colour-blind safe). Because colour alone does not survive
greyscale printing, each series also differs by line style, marker and hatch, taken in the
same order as the colours.

Fonts: DejaVu Sans (shipped with matplotlib), 8 pt body text. PDF output embeds TrueType
fonts (``pdf.fonttype = 42``); SVG output converts text to paths (``svg.fonttype =
"path"``) so that an SVG looks the same without the font installed. File metadata dates
are omitted so that re-rendering the same results gives identical files.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, cast

import matplotlib as mpl
from matplotlib.figure import Figure

OKABE_ITO: Final[dict[str, str]] = {
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "bluish_green": "#009E73",
    "orange": "#E69F00",
    "reddish_purple": "#CC79A7",
    "sky_blue": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}

SERIES_COLOURS: Final[tuple[str, ...]] = (
    OKABE_ITO["blue"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["orange"],
    OKABE_ITO["sky_blue"],
)
LINE_STYLES: Final[tuple[Any, ...]] = (
    "-",
    (0, (5, 2)),
    (0, (1, 1.5)),
    (0, (5, 1.5, 1, 1.5)),
    (0, (8, 2, 2, 2)),
    (0, (3, 3)),
)
MARKERS: Final[tuple[str, ...]] = ("o", "s", "^", "D", "v", "P")
HATCHES: Final[tuple[str, ...]] = ("", "////", "....", "xxxx", "\\\\\\\\", "++")

RESPONSE_STYLE: Final[dict[str, tuple[str, str]]] = {
    "CR": (OKABE_ITO["blue"], "xxxx"),
    "PR": (OKABE_ITO["sky_blue"], ""),
    "SD": (OKABE_ITO["orange"], "...."),
    "PD": (OKABE_ITO["vermillion"], "////"),
    "NE": ("#999999", "\\\\\\\\"),
}
"""Best overall response → (fill colour, hatch)."""

RESPONSE_NAMES: Final[dict[str, str]] = {
    "CR": "Complete response",
    "PR": "Partial response",
    "SD": "Stable disease",
    "PD": "Progressive disease",
    "NE": "Not evaluable",
}

FONT_SIZE: Final[float] = 8.0
SINGLE_COLUMN_IN: Final[float] = 3.5
DOUBLE_COLUMN_IN: Final[float] = 7.2

JOURNAL_RC: Final[dict[str, Any]] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": FONT_SIZE,
    "axes.titlesize": FONT_SIZE + 1,
    "axes.labelsize": FONT_SIZE,
    "xtick.labelsize": FONT_SIZE - 0.5,
    "ytick.labelsize": FONT_SIZE - 0.5,
    "legend.fontsize": FONT_SIZE - 0.5,
    "axes.linewidth": 0.7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.major.width": 0.7,
    "ytick.major.width": 0.7,
    "xtick.major.size": 3.0,
    "ytick.major.size": 3.0,
    "lines.linewidth": 1.4,
    "legend.frameon": False,
    "hatch.linewidth": 0.6,
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.fonttype": "path",
    "svg.hashsalt": "rechallenge",
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.04,
    "figure.dpi": 100,
}

SAVE_METADATA: Final[dict[str, dict[str, Any]]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
}


@contextmanager
def journal_style() -> Iterator[None]:
    """Apply the journal rcParams for the duration of a ``with`` block."""
    with mpl.rc_context(cast(Any, JOURNAL_RC)):
        yield


def series_style(index: int) -> dict[str, Any]:
    """Colour, line style and marker for the ``index``-th series (cycled)."""
    k = index % len(SERIES_COLOURS)
    return {"color": SERIES_COLOURS[k], "linestyle": LINE_STYLES[k], "marker": MARKERS[k]}


def save_figure(
    fig: Figure, stem: Path, formats: tuple[str, ...] = ("png", "svg", "pdf"), dpi: int = 300
) -> list[Path]:
    """Save ``fig`` as ``stem.<fmt>`` for each format with journal settings; return the paths."""
    paths: list[Path] = []
    stem.parent.mkdir(parents=True, exist_ok=True)
    with journal_style():
        for fmt in formats:
            path = stem.with_suffix(f".{fmt}")
            fig.savefig(path, format=fmt, dpi=dpi, metadata=SAVE_METADATA.get(fmt))
            paths.append(path)
    return paths


def fmt_months(value: float | None, digits: int = 2) -> str:
    """A time in months for a label; ``NR`` (not reached) when the value is missing."""
    return "NR" if value is None else f"{value:.{digits}f}"


def fmt_p(p: float | None) -> str:
    """A p value as journals print it: ``p = 0.004``, ``p < 0.001``, ``p = NA``."""
    if p is None:
        return "p = NA"
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}"


def fmt_ratio(hr: float | None, lower: float | None, upper: float | None) -> str:
    """``6.84 (95% CI 1.56–30.03)`` with ``NA`` for missing parts."""

    def one(x: float | None) -> str:
        return "NA" if x is None else f"{x:.2f}"

    return f"{one(hr)} (95% CI {one(lower)}–{one(upper)})"


def get_mapping(obj: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    """``obj[key]`` if it is a mapping, else None (tolerates absent or null parts)."""
    value = obj.get(key)
    return value if isinstance(value, Mapping) else None
