"""Build every figure the results allow and save each as PNG (300 dpi), SVG and PDF.

``FIGURES`` lists the figures in report order: a file stem, a caption and a builder reading
the results. A builder returns None when its part of the results is absent; such figures are
skipped (``skipped_figures`` says which and why).

The look comes from the run's configuration: ``results["manifest"]["config"]["figures"]``
(a `FigureStyle`: width, height ratio, font size, palette, annotations, layouts) when
present, else the default style; labels come from the run's label catalogue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from matplotlib.figure import Figure

from rechallenge.figures.calibration import figure_calibration
from rechallenge.figures.cif import figure_cif, figure_cif_by
from rechallenge.figures.flow import figure_flow
from rechallenge.figures.forest import figure_forest
from rechallenge.figures.km import figure_km_by, figure_os, figure_pfs
from rechallenge.figures.meta_forest import figure_context
from rechallenge.figures.nomogram import figure_nomogram
from rechallenge.figures.settings import FigureStyle
from rechallenge.figures.style import journal_style, save_figure, style_from_config
from rechallenge.figures.swimmer import figure_swimmer
from rechallenge.figures.waterfall import figure_waterfall
from rechallenge.labels import labels_from_results

Builder = Callable[[Mapping[str, Any]], Figure | None]

#: Per-patient figures stay legible up to these many lanes or bars (per course panel).
MAX_SWIMMER_LANES: Final = 100
MAX_WATERFALL_BARS: Final = 300
PER_PATIENT_LIMITS: Final = {"swimmer": MAX_SWIMMER_LANES, "waterfall": MAX_WATERFALL_BARS}


def too_many(results: Mapping[str, Any], key: str) -> int | None:
    """The number of per-patient records when it exceeds the figure's limit, else None."""
    records = results.get(key) or []
    if key == "waterfall":
        per_course: dict[str, int] = {}
        for rec in records:
            per_course[rec.get("course", "")] = per_course.get(rec.get("course", ""), 0) + 1
        count = max(per_course.values(), default=0)
    else:
        count = len(records)
    return count if count > PER_PATIENT_LIMITS[key] else None


def _per_patient(key: str, draw: Callable[..., Figure | None]) -> Builder:
    """A per-patient figure, drawn only while it stays legible."""

    def build(results: Mapping[str, Any]) -> Figure | None:
        if too_many(results, key) is not None:
            return None
        return draw(results.get(key), labels=labels_from_results(results))

    return build


@dataclass(frozen=True)
class FigureSpec:
    """One figure: file stem, caption, the results key it needs, and its builder.

    An `optional` figure is drawn only when the configuration asks for it (its results key
    is then present; a dotted `needs` is a path into the results); its absence is no gap
    and is not listed among the skipped figures.
    """

    stem: str
    caption: str
    needs: str
    build: Builder
    optional: bool = False


def _km_by(variable: str) -> Builder:
    def build(results: Mapping[str, Any]) -> Figure | None:
        block = (results.get("km") or {}).get("PFSR")
        if not isinstance(block, Mapping):
            return None
        return figure_km_by(
            block,
            variable,
            logrank=(results.get("logrank") or {}).get("PFSR"),
            cox_rows=(results.get("cox") or {}).get("PFSR") or (),
            labels=labels_from_results(results),
        )

    return build


def _cif_by(variable: str) -> Builder:
    def build(results: Mapping[str, Any]) -> Figure | None:
        return figure_cif_by(results.get("competing_risks"), variable, labels_from_results(results))

    return build


FIGURES: Final[tuple[FigureSpec, ...]] = (
    FigureSpec(
        "flow",
        "Patient flow from screening to the analysed cohort.",
        "cohort.attrition",
        lambda r: figure_flow(r.get("cohort"), labels_from_results(r)),
    ),
    FigureSpec(
        "figure1_km_pfs",
        "Figure 1. Kaplan–Meier estimates of progression-free survival on the first ICI "
        "course (PFS1) and on rechallenge (PFSR), each from the start of its course, with "
        "95% confidence bands; tick marks, censored observations.",
        "km.PFS1 / km.PFSR",
        lambda r: figure_pfs(r.get("km") or {}, labels=labels_from_results(r)),
    ),
    FigureSpec(
        "figure2_waterfall",
        "Figure 2. Best percentage change from baseline in the sum of target lesions, "
        "per patient, in both ICI courses (one patient order, by the change on "
        "rechallenge); dashed lines, −30% and +20% (RECIST 1.1).",
        "waterfall",
        _per_patient("waterfall", figure_waterfall),
    ),
    FigureSpec(
        "figure3_swimmer",
        "Figure 3. Progression-free survival of each patient on the first ICI course "
        "(PFS1) and on rechallenge (PFSR), each from the start of its course, labelled "
        "with the best overall response.",
        "swimmer",
        _per_patient("swimmer", figure_swimmer),
    ),
    FigureSpec(
        "figure4_km_pfsr_ecog",
        "Figure 4. Kaplan–Meier estimates of PFSR by ECOG performance status; tick "
        "marks, censored observations; p, log-rank test.",
        "km.PFSR (ecog_group)",
        _km_by("ecog_group"),
    ),
    FigureSpec(
        "figure5_km_pfsr_pdl1",
        "Figure 5. Kaplan–Meier estimates of PFSR by PD-L1 expression; tick marks, "
        "censored observations; p, log-rank test.",
        "km.PFSR (pdl1)",
        _km_by("pdl1"),
    ),
    FigureSpec(
        "figure6_forest",
        "Figure 6. Cox proportional-hazards models for PFSR: hazard ratios with 95% CIs.",
        "cox.PFSR",
        lambda r: figure_forest((r.get("cox") or {}).get("PFSR"), labels=labels_from_results(r)),
    ),
    FigureSpec(
        "figure7_km_os",
        "Figure 7. Kaplan–Meier estimate of overall survival from the start of "
        "rechallenge, with its 95% confidence band; tick marks, censored observations.",
        "km.OS",
        lambda r: figure_os(r.get("km") or {}, labels=labels_from_results(r)),
    ),
    FigureSpec(
        "figure_cif",
        "Cumulative incidence of progression and of death without progression as a "
        "competing event (Aalen–Johansen estimates); numbers at risk below the plot.",
        "competing_risks",
        lambda r: figure_cif(r.get("competing_risks"), labels_from_results(r)),
        optional=True,
    ),
    FigureSpec(
        "figure_cif_ecog",
        "Cumulative incidence of progression by ECOG performance status, with death "
        "without progression as a competing event; p, Gray's test.",
        "competing_risks.subgroups.ecog_group",
        _cif_by("ecog_group"),
        optional=True,
    ),
    FigureSpec(
        "figure_cif_pdl1",
        "Cumulative incidence of progression by PD-L1 expression, with death without "
        "progression as a competing event; p, Gray's test.",
        "competing_risks.subgroups.pdl1",
        _cif_by("pdl1"),
        optional=True,
    ),
    FigureSpec(
        "figure_context_forest",
        "This study against the published studies.",
        "context",
        figure_context,
        optional=True,
    ),
    FigureSpec(
        "figure_prognostic_calibration",
        "Calibration of the prognostic model.",
        "prognostic.validation",
        figure_calibration,
        optional=True,
    ),
    FigureSpec(
        "figure_prognostic_nomogram",
        "Nomogram of the prognostic model.",
        "prognostic.nomogram",
        figure_nomogram,
        optional=True,
    ),
)


#: Captions of the non-default layouts (the FIGURES captions describe the defaults).
LAYOUT_CAPTIONS: Final[dict[tuple[str, str], str]] = {
    ("figure3_swimmer", "exposure"): "Figure 3. Treatment courses of each patient from the "
    "first ICI dose: initial ICI, intervening therapy, rechallenge and follow-up, with "
    "objective response, progression and death marked and the best overall response on "
    "each course.",
    ("figure2_waterfall", "independent"): "Figure 2. Best percentage change from baseline "
    "in the sum of target lesions, per patient, in both ICI courses (each course sorted on "
    "its own); dashed lines, −30% and +20% (RECIST 1.1).",
}


def figure_captions(results: Mapping[str, Any]) -> dict[str, str]:
    """Stem → caption for the run's style (a non-default layout gets its own caption)."""
    style = figure_style(results)
    layouts = {"figure3_swimmer": style.swimmer, "figure2_waterfall": style.waterfall}
    return {
        spec.stem: LAYOUT_CAPTIONS.get((spec.stem, layouts.get(spec.stem, "")), spec.caption)
        for spec in FIGURES
    }


def figure_style(results: Mapping[str, Any]) -> FigureStyle:
    """The run's figure style: the configuration's ``figures`` section, else the default."""
    manifest = results.get("manifest") or {}
    config = manifest.get("config") if isinstance(manifest, Mapping) else None
    return style_from_config(config if isinstance(config, Mapping) else None)


def build_figures(
    results: Mapping[str, Any], style: FigureStyle | None = None
) -> dict[str, Figure]:
    """Every figure the results allow, keyed by file stem, in report order.

    ``style`` overrides the run's configured style (`figure_style`).
    """
    out: dict[str, Figure] = {}
    with journal_style(style or figure_style(results)):
        for spec in FIGURES:
            fig = spec.build(results)
            if fig is not None:
                out[spec.stem] = fig
    return out


def _at(results: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path of the results (None where a step is missing)."""
    value: Any = results
    for key in path.split("."):
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def skipped_figures(
    built: Mapping[str, Any], results: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """Stem → plain-language reason for each figure that was not produced."""
    reasons = {}
    for spec in FIGURES:
        if spec.stem in built or (spec.optional and not _at(results or {}, spec.needs)):
            continue
        count = (
            too_many(results, spec.needs) if results and spec.needs in PER_PATIENT_LIMITS else None
        )
        if count is not None:
            limit = PER_PATIENT_LIMITS[spec.needs]
            reasons[spec.stem] = (
                f"not drawn: {count} patients are too many for a per-patient plot (limit "
                f"{limit}); the per-patient values are in results.json and the datasets"
            )
        else:
            reasons[spec.stem] = f"not produced: the results contain no usable '{spec.needs}'"
    return reasons


def render_all(
    results: Mapping[str, Any],
    out_dir: Path,
    *,
    formats: tuple[str, ...] = ("png", "svg", "pdf"),
    dpi: int = 300,
    style: FigureStyle | None = None,
) -> list[Path]:
    """Save every available figure as ``out_dir/<stem>.<fmt>``; return the written paths.

    The style is the run's configured one (``manifest.config.figures``) unless given.
    """
    paths: list[Path] = []
    for stem, fig in build_figures(results, style).items():
        paths += save_figure(fig, Path(out_dir) / stem, formats, dpi=dpi)
    return paths
