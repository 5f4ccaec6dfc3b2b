"""Figure style from the configuration: palette, width, font size, validation."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.artist import Artist
from matplotlib.collections import Collection
from matplotlib.colors import to_rgba, to_rgba_array
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text
from PIL import Image
from pydantic import ValidationError

from rechallenge.figures.render import build_figures, figure_style, render_all
from rechallenge.figures.settings import (
    DOUBLE_COLUMN_MM,
    MM_PER_INCH,
    SINGLE_COLUMN_MM,
    FigureStyle,
)
from rechallenge.figures.style import save_figure, text_colour_on

KM_STEMS = ("figure1_km_pfs", "figure4_km_pfsr_ecog", "figure5_km_pfsr_pdl1", "figure7_km_os")
DPI = 100


def _colours(artist: Artist) -> list[tuple[float, float, float, float]]:
    """Every colour an artist paints with (fill, edge, line, marker, text)."""
    out: list[Any] = []
    if isinstance(artist, Line2D):
        out += [artist.get_color(), artist.get_markerfacecolor(), artist.get_markeredgecolor()]
    elif isinstance(artist, Patch):
        out += [artist.get_facecolor(), artist.get_edgecolor()]
    elif isinstance(artist, Collection):
        out += list(to_rgba_array(artist.get_facecolor()))
        out += list(to_rgba_array(artist.get_edgecolor()))
    elif isinstance(artist, Text):
        out.append(artist.get_color())
    colours = []
    for c in out:
        if isinstance(c, str) and c.lower() == "none":
            continue
        colours.append(to_rgba(c))
    return colours


def _painted(fig: Figure) -> list[tuple[float, float, float, float]]:
    return [c for a in fig.findobj() for c in _colours(a) if c[3] > 0]


def _is_grey(c: tuple[float, float, float, float]) -> bool:
    return max(c[:3]) - min(c[:3]) < 1.5 / 255


def test_greyscale_palette_paints_only_greys(results: dict[str, Any]) -> None:
    for stem, fig in build_figures(results, style=FigureStyle(palette="greyscale")).items():
        colours = _painted(fig)
        assert colours, stem
        coloured = [c for c in colours if not _is_grey(c)]
        assert not coloured, f"{stem}: {coloured[:3]}"


def test_default_palette_is_in_colour(results: dict[str, Any]) -> None:
    for stem, fig in build_figures(results).items():
        if stem == "flow":  # black on white in every palette
            continue
        assert any(not _is_grey(c) for c in _painted(fig)), stem


def _png_width_mm(fig: Figure, tmp_path: Path, name: str) -> float:
    (path,) = save_figure(fig, tmp_path / name, ("png",), dpi=DPI)
    with Image.open(path) as im:
        return im.size[0] / DPI * MM_PER_INCH


@pytest.mark.parametrize(
    ("width", "mm"), [("single", SINGLE_COLUMN_MM), ("double", DOUBLE_COLUMN_MM), (120.0, 120.0)]
)
def test_width_sets_the_saved_kaplan_meier_width(
    results: dict[str, Any], tmp_path: Path, width: Any, mm: float
) -> None:
    figs = build_figures(results, style=FigureStyle(width=width))
    for stem in KM_STEMS:
        saved = _png_width_mm(figs[stem], tmp_path, f"{stem}-{width}")
        assert saved == pytest.approx(mm, abs=1.5), stem


def test_width_changes_every_saved_figure(results: dict[str, Any], tmp_path: Path) -> None:
    narrow = build_figures(results, style=FigureStyle(width="single"))
    wide = build_figures(results, style=FigureStyle(width="double"))
    assert set(narrow) == set(wide)
    for stem in wide:
        w_narrow = _png_width_mm(narrow[stem], tmp_path, f"n-{stem}")
        w_wide = _png_width_mm(wide[stem], tmp_path, f"w-{stem}")
        assert w_wide == pytest.approx(DOUBLE_COLUMN_MM, rel=0.06), stem
        assert w_narrow < w_wide - 10, stem
        if stem in ("figure6_forest", *KM_STEMS):
            assert w_narrow == pytest.approx(SINGLE_COLUMN_MM, abs=2.0), stem


def test_font_size_reaches_the_text(results: dict[str, Any]) -> None:
    big = build_figures(results, style=FigureStyle(font_size=10))["figure1_km_pfs"]
    small = build_figures(results)["figure1_km_pfs"]
    assert big.axes[0].xaxis.label.get_fontsize() == 10
    assert small.axes[0].xaxis.label.get_fontsize() == 8


def test_render_all_reads_the_style_from_the_configuration(
    results: dict[str, Any], tmp_path: Path
) -> None:
    styled = copy.deepcopy(results)
    styled["manifest"]["config"]["figures"] = {"width": "single", "palette": "greyscale"}
    assert figure_style(styled) == FigureStyle(width="single", palette="greyscale")
    assert figure_style(results) == FigureStyle()
    (a,) = [
        p
        for p in render_all(styled, tmp_path / "a", formats=("png",), dpi=DPI)
        if "km_os" in p.name
    ]
    (b,) = [
        p
        for p in render_all(results, tmp_path / "b", formats=("png",), dpi=DPI)
        if "km_os" in p.name
    ]
    with Image.open(a) as im_a, Image.open(b) as im_b:
        assert im_a.size[0] / DPI * MM_PER_INCH == pytest.approx(SINGLE_COLUMN_MM, abs=1.5)
        assert im_b.size[0] > im_a.size[0]
        rgb = np.asarray(im_a.convert("RGB"), dtype=int)
        assert (rgb.max(axis=2) - rgb.min(axis=2)).max() <= 2  # a greyscale image


@pytest.mark.parametrize(
    "bad",
    [
        {"width": "triple"},
        {"palette": "rainbow"},
        {"font_size": 2},
        {"annotations": {"p_value": True}},
        {"colour": "red"},
    ],
)
def test_style_rejects_unknown_or_invalid_settings(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        FigureStyle.model_validate(bad)


def test_every_setting_is_described() -> None:
    from rechallenge.figures.settings import FigureAnnotations

    for model in (FigureStyle, FigureAnnotations):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name}"
    assert (
        FigureStyle.model_config.get("frozen") and FigureStyle.model_config.get("extra") == "forbid"
    )


@pytest.mark.parametrize(
    ("fill", "text"),
    [("#0072B2", "white"), ("#E69F00", "black"), ("#56B4E9", "black"), ("#000000", "white")],
)
def test_labels_contrast_with_their_bar(fill: str, text: str) -> None:
    assert text_colour_on(fill) == text


def test_height_ratio_sets_the_kaplan_meier_panel(results: dict[str, Any]) -> None:
    fig = build_figures(results, style=FigureStyle(width=100.0, height_ratio=0.5))["figure7_km_os"]
    main = fig.axes[0]
    panel_in = main.get_position().height * fig.get_figheight()
    assert panel_in == pytest.approx(0.5 * 100.0 / MM_PER_INCH)


def test_captions_follow_the_configured_layouts(results: dict[str, Any]) -> None:
    from rechallenge.figures.render import FIGURES, figure_captions

    default = figure_captions(results)
    assert default == {spec.stem: spec.caption for spec in FIGURES}
    assert "(PFSR)" in default["figure3_swimmer"]
    results["manifest"]["config"]["figures"] = {"swimmer": "exposure", "waterfall": "independent"}
    styled = figure_captions(results)
    assert "Treatment courses" in styled["figure3_swimmer"]
    assert "each course sorted on its own" in styled["figure2_waterfall"]
