"""Figure settings (the `figures` section of the study configuration), kept free of
matplotlib so that reading a configuration does not load the plotting stack."""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

FONT_SIZE: Final[float] = 8.0
MM_PER_INCH: Final[float] = 25.4
SINGLE_COLUMN_MM: Final[float] = 89.0
DOUBLE_COLUMN_MM: Final[float] = 183.0
SINGLE_COLUMN_IN: Final[float] = SINGLE_COLUMN_MM / MM_PER_INCH
DOUBLE_COLUMN_IN: Final[float] = DOUBLE_COLUMN_MM / MM_PER_INCH


class FigureAnnotations(BaseModel):
    """Which annotations the figures show; each can be switched off for a journal."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    p_values: bool = Field(
        True, description="Log-rank p and hazard ratio on the subgroup Kaplan–Meier figures."
    )
    medians: bool = Field(
        True, description="Dashed guides from S = 0.5 down to each median survival time."
    )
    censor_ticks: bool = Field(True, description="Tick marks at censored observations.")
    risk_table: bool = Field(True, description="Number-at-risk table under each KM figure.")
    ci_bands: bool = Field(
        True, description="95% confidence bands on the all-patient KM curves (Figures 1, 7)."
    )
    subgroup_ci_bands: bool = Field(
        False,
        description="95% confidence bands on the subgroup KM curves (Figures 4, 5); off "
        "by default because overlapping bands hide the curves.",
    )


class FigureStyle(BaseModel):
    """How every figure looks: size, font, palette, annotations and per-patient layouts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    width: Literal["single", "double"] | float | None = Field(
        None,
        description="Saved figure width: 'single' (one journal column, 89 mm), 'double' "
        "(two columns, 183 mm) or a number of millimetres; unset, each figure keeps its "
        "own width (double column; Kaplan–Meier 127 mm, flow diagram 152 mm).",
    )
    height_ratio: float | None = Field(
        None,
        gt=0.1,
        le=3.0,
        description="Height of the plotting panel as a fraction of the figure width, for "
        "the Kaplan–Meier and waterfall figures (the other figures grow with their rows); "
        "unset, each figure's own proportions.",
    )
    font_size: float = Field(
        FONT_SIZE,
        ge=5.0,
        le=14.0,
        description="Body text size in points (tick labels 0.5 pt less).",
    )
    palette: Literal["okabe-ito", "greyscale"] = Field(
        "okabe-ito",
        description="'okabe-ito' (colour-blind safe colours) or 'greyscale' (print); "
        "series also differ by line style, marker and hatch.",
    )
    annotations: FigureAnnotations = Field(
        default_factory=FigureAnnotations, description="Which annotations show."
    )
    swimmer: Literal["pfs", "exposure"] = Field(
        "pfs",
        description="Figure 3 layout: 'pfs' (a PFS1 and a PFSR lane per patient, each from "
        "its course's start, as the seed paper) or 'exposure' (treatment courses on one "
        "time axis from the first ICI dose).",
    )
    waterfall: Literal["paired", "independent"] = Field(
        "paired",
        description="Figure 2 layout: 'paired' (one patient order in both courses, sorted "
        "by the rechallenge change) or 'independent' (each course sorted on its own).",
    )

    def width_in(self, default_in: float) -> float:
        """The figure width in inches; ``default_in`` when no width is configured."""
        if self.width is None:
            return default_in
        if self.width == "single":
            return SINGLE_COLUMN_IN
        if self.width == "double":
            return DOUBLE_COLUMN_IN
        return float(self.width) / MM_PER_INCH

    def panel_height(self, width_in: float, default_in: float) -> float:
        """The plotting panel's height in inches: ``height_ratio`` × width, else the default."""
        return default_in if self.height_ratio is None else self.height_ratio * width_in
