"""Shared journal style for every figure: size, fonts, palette and annotations.

`FigureStyle` is the part of the study configuration (``figures:``) that re-styles every
figure without code: width (journal single or double column, or millimetres), height
ratio, font size, palette (Okabe–Ito, colour-blind safe, or greyscale) and which
annotations show. Builders read the active style with `current_style()` and the active
colours with `palette()`; `journal_style(style)` activates both for a ``with`` block and
sets the matching matplotlib rcParams.

Because colour alone does not survive greyscale printing, each series also differs by line
style, marker and hatch, taken in the same order as the colours.

Fonts: DejaVu Sans (shipped with matplotlib). PDF output embeds TrueType fonts
(``pdf.fonttype = 42``); SVG output converts text to paths (``svg.fonttype = "path"``) so
that an SVG looks the same without the font installed. File metadata dates are omitted so
that re-rendering the same results gives identical files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, cast

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.rcsetup import cycler
from matplotlib.transforms import Bbox

from rechallenge.figures.settings import FigureStyle

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
GREY_SERIES: Final[tuple[str, ...]] = (
    "#000000",
    "#6E6E6E",
    "#A0A0A0",
    "#3C3C3C",
    "#878787",
    "#505050",
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

RESPONSE_HATCH: Final[dict[str, str]] = {
    "CR": "xxxx",
    "PR": "",
    "SD": "....",
    "PD": "////",
    "NE": "\\\\\\\\",
}
RESPONSE_STYLE: Final[dict[str, tuple[str, str]]] = {
    "CR": (OKABE_ITO["blue"], RESPONSE_HATCH["CR"]),
    "PR": (OKABE_ITO["sky_blue"], RESPONSE_HATCH["PR"]),
    "SD": (OKABE_ITO["orange"], RESPONSE_HATCH["SD"]),
    "PD": (OKABE_ITO["vermillion"], RESPONSE_HATCH["PD"]),
    "NE": ("#999999", RESPONSE_HATCH["NE"]),
}
"""Best overall response → (fill colour, hatch) in the Okabe–Ito palette."""

GREY_RESPONSE: Final[dict[str, str]] = {
    "CR": "#303030",
    "PR": "#6E6E6E",
    "SD": "#A8A8A8",
    "PD": "#D2D2D2",
    "NE": "#EDEDED",
}

RESPONSE_NAMES: Final[dict[str, str]] = {
    "CR": "Complete response",
    "PR": "Partial response",
    "SD": "Stable disease",
    "PD": "Progressive disease",
    "NE": "Not evaluable",
}


@dataclass(frozen=True)
class Palette:
    """Every colour a figure uses, by role, so a palette switch reaches every artist."""

    series: tuple[str, ...]
    response: Mapping[str, str]
    roles: Mapping[str, str]

    def role(self, name: str) -> str:
        """The colour of a named role (``initial``, ``rechallenge``, ``death``, …)."""
        return self.roles[name]


PALETTES: Final[dict[str, Palette]] = {
    "okabe-ito": Palette(
        series=SERIES_COLOURS,
        response={k: v[0] for k, v in RESPONSE_STYLE.items()},
        roles={
            "initial": OKABE_ITO["blue"],
            "rechallenge": OKABE_ITO["orange"],
            "interim": "#D9D9D9",
            "death": OKABE_ITO["vermillion"],
            "univariable": OKABE_ITO["blue"],
            "multivariable": OKABE_ITO["vermillion"],
            "guide": "#737373",
            "text": "#000000",
            "muted": "#4D4D4D",
        },
    ),
    "greyscale": Palette(
        series=GREY_SERIES,
        response=GREY_RESPONSE,
        roles={
            "initial": "#4D4D4D",
            "rechallenge": "#B3B3B3",
            "interim": "#E6E6E6",
            "death": "#000000",
            "univariable": "#000000",
            "multivariable": "#6E6E6E",
            "guide": "#737373",
            "text": "#000000",
            "muted": "#4D4D4D",
        },
    ),
}

DEFAULT_STYLE: Final[FigureStyle] = FigureStyle()
_ACTIVE: ContextVar[FigureStyle | None] = ContextVar("figure_style", default=None)


def current_style() -> FigureStyle:
    """The style of the figure being built (the default outside `journal_style`)."""
    return _ACTIVE.get() or DEFAULT_STYLE


def palette() -> Palette:
    """The colours of the active style."""
    return PALETTES[current_style().palette]


def font_size(delta: float = 0.0) -> float:
    """The active body font size plus ``delta`` points (never below 4 pt)."""
    return max(4.0, current_style().font_size + delta)


def style_from_config(config: Mapping[str, Any] | None) -> FigureStyle:
    """The ``figures`` section of a run's configuration as a `FigureStyle` (default if absent)."""
    section = (config or {}).get("figures")
    if isinstance(section, FigureStyle):
        return section
    return FigureStyle.model_validate(section or {})


def _rc(style: FigureStyle) -> dict[str, Any]:
    """matplotlib settings of a style; the colour cycle is the style's series palette."""
    size = style.font_size
    return {
        "axes.prop_cycle": cycler(color=list(PALETTES[style.palette].series)),
        "lines.color": "black",
        "patch.facecolor": PALETTES[style.palette].series[0],
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans"],
        "font.size": size,
        "axes.titlesize": size + 1,
        "axes.labelsize": size,
        "xtick.labelsize": size - 0.5,
        "ytick.labelsize": size - 0.5,
        "legend.fontsize": size - 0.5,
        "legend.title_fontsize": size - 0.5,
        "axes.linewidth": 0.7,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "black",
        "axes.labelcolor": "black",
        "text.color": "black",
        "xtick.color": "black",
        "ytick.color": "black",
        "xtick.major.width": 0.7,
        "ytick.major.width": 0.7,
        "xtick.major.size": 3.0,
        "ytick.major.size": 3.0,
        "lines.linewidth": 1.4,
        "legend.frameon": False,
        "hatch.linewidth": 0.6,
        "hatch.color": "#262626",
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "svg.fonttype": "path",
        "svg.hashsalt": "rechallenge",
        "savefig.dpi": 300,
        "savefig.bbox": "tight",
        "savefig.pad_inches": 0.04,
        "figure.dpi": 100,
    }


JOURNAL_RC: Final[dict[str, Any]] = _rc(FigureStyle())

SAVE_METADATA: Final[dict[str, dict[str, Any]]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
}


@contextmanager
def journal_style(style: FigureStyle | None = None) -> Iterator[None]:
    """Activate ``style`` (else the active one) and its rcParams for a ``with`` block."""
    chosen = style if style is not None else current_style()
    token = _ACTIVE.set(chosen)
    try:
        with mpl.rc_context(cast(Any, _rc(chosen))):
            yield
    finally:
        _ACTIVE.reset(token)


def series_style(index: int) -> dict[str, Any]:
    """Colour, line style and marker for the ``index``-th series (cycled)."""
    colours = palette().series
    k = index % len(colours)
    return {"color": colours[k], "linestyle": LINE_STYLES[k], "marker": MARKERS[k]}


def response_style(bor: str) -> tuple[str, str]:
    """Fill colour and hatch of a best overall response (``NE`` for unknown codes)."""
    key = bor if bor in RESPONSE_HATCH else "NE"
    return palette().response[key], RESPONSE_HATCH[key]


def text_colour_on(fill: str) -> str:
    """Black or white, whichever contrasts more with ``fill`` (WCAG relative luminance)."""

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in to_rgb(fill))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    # contrast with black (L + 0.05) / 0.05 versus with white 1.05 / (L + 0.05)
    return "black" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "white"


def fit_axes_to_width(fig: Figure, axes: Sequence[Axes], width_in: float, rounds: int = 4) -> None:
    """Move and resize ``axes`` (sharing one x extent) so the saved figure is ``width_in`` wide.

    Figures are saved with a tight bounding box, so labels that stick out of the axes (the
    y label, risk-table row names, the last tick label) add to the saved width. Each round
    shifts the axes by the left overhang and trims them by the right one; the overhangs keep
    their size in inches, so three or four rounds converge. The axes keep at least 30% of
    the width.
    """
    FigureCanvasAgg(fig)
    fig.set_size_inches(width_in, fig.get_size_inches()[1])
    pad = float(mpl.rcParams["savefig.pad_inches"])
    for _ in range(rounds):
        bb = fig.get_tightbbox()
        pos = axes[0].get_position()
        left = pos.x0 * width_in + (pad - bb.x0)
        right = pos.x1 * width_in + (width_in - pad - bb.x1)
        if abs(pad - bb.x0) < 0.003 and abs(width_in - pad - bb.x1) < 0.003:
            break
        right = max(right, left + 0.3 * width_in)
        for ax in axes:
            p = ax.get_position()
            ax.set_position((left / width_in, p.y0, (right - left) / width_in, p.height))


VECTOR_FORMATS: Final = ("pdf", "svg", "eps", "ps")


@contextmanager
def _recorded_tight_bbox(fig: Figure) -> Iterator[list[Bbox]]:
    """Record the tight bounding boxes `savefig` measures on ``fig`` inside the block."""
    found: list[Bbox] = []
    measure = fig.get_tightbbox

    def recording(*args: Any, **kwargs: Any) -> Bbox:
        bbox = measure(*args, **kwargs)
        found.append(bbox)
        return bbox

    fig.get_tightbbox = recording  # type: ignore[method-assign]
    try:
        yield found
    finally:
        del fig.get_tightbbox


@contextmanager
def _layout_kept(fig: Figure) -> Iterator[None]:
    """Keep the layout the last save computed (a constrained layout is not run again)."""
    engine = fig.get_layout_engine()
    if engine is None:
        yield
        return
    fig.set_layout_engine("none")
    try:
        yield
    finally:
        fig.set_layout_engine(engine)


def _save_order(formats: Sequence[str]) -> list[str]:
    """Raster formats first, then PDF, then the other vector formats (stable otherwise)."""
    rank = {"pdf": 1}
    return sorted(formats, key=lambda f: rank.get(f, 2) if f in VECTOR_FORMATS else 0)


def save_figure(
    fig: Figure, stem: Path, formats: tuple[str, ...] = ("png", "svg", "pdf"), dpi: int = 300
) -> list[Path]:
    """Save ``fig`` as ``stem.<fmt>`` for each format with journal settings; return the paths.

    Figures are saved with a tight bounding box, which matplotlib finds by drawing the figure
    once without output before drawing it for real (a constrained layout is computed in that
    drawing too). The vector formats share one geometry (72 units per inch), so the layout and
    the box the PDF measures are reused for SVG and the others: one drawing fewer per figure.
    A raster format measures its own layout and box at its resolution.
    """
    paths: dict[str, Path] = {}
    stem.parent.mkdir(parents=True, exist_ok=True)
    vector_bbox: Bbox | None = None
    with journal_style():
        for fmt in _save_order(formats):
            path = stem.with_suffix(f".{fmt}")
            options: dict[str, Any] = {
                "format": fmt,
                "dpi": dpi,
                "metadata": SAVE_METADATA.get(fmt),
            }
            if fmt in VECTOR_FORMATS and vector_bbox is not None:
                with _layout_kept(fig):
                    fig.savefig(path, bbox_inches=vector_bbox, **options)
            elif fmt in VECTOR_FORMATS and mpl.rcParams["savefig.bbox"] == "tight":
                with _recorded_tight_bbox(fig) as found:
                    fig.savefig(path, **options)
                pad = float(mpl.rcParams["savefig.pad_inches"])
                vector_bbox = found[-1].padded(pad) if len(found) == 1 else None
            else:
                fig.savefig(path, **options)
            paths[fmt] = path
    return [paths[fmt] for fmt in formats]


def gid(*parts: object) -> str:
    """An artist id, unique within its figure and valid as an SVG/HTML id (no spaces)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", "-".join(str(p) for p in parts))


def lower_first(text: str) -> str:
    """``First ICI course`` -> ``first ICI course``; acronyms (``ICI rechallenge``) unchanged."""
    return text[:1].lower() + text[1:] if len(text) > 1 and text[1].islower() else text


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
