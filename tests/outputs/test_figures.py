"""Figures show exactly the numbers in the results, and skip what the results lack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from rechallenge.figures.flow import exclusion_text, figure_flow
from rechallenge.figures.forest import figure_forest
from rechallenge.figures.km import (
    MAIN_AXES,
    RISK_TABLE_AXES,
    figure_km_by,
    figure_os,
    figure_pfs,
)
from rechallenge.figures.render import FIGURES, build_figures, render_all, skipped_figures
from rechallenge.figures.style import SERIES_COLOURS, fmt_p, series_style
from rechallenge.figures.swimmer import figure_swimmer
from rechallenge.figures.waterfall import figure_waterfall


def _axes(fig: Figure, label: str) -> Axes:
    return next(ax for ax in fig.axes if ax.get_label() == label)


def _risk_numbers(fig: Figure, row: int) -> list[str]:
    ax = _axes(fig, RISK_TABLE_AXES)
    texts = [t for t in ax.texts if (t.get_gid() or "").startswith(f"risk-{row}-")]
    return [t.get_text() for t in sorted(texts, key=lambda t: float(t.get_position()[0]))]


def _risk_positions(fig: Figure, row: int) -> list[float]:
    ax = _axes(fig, RISK_TABLE_AXES)
    texts = [t for t in ax.texts if (t.get_gid() or "").startswith(f"risk-{row}-")]
    return sorted(float(t.get_position()[0]) for t in texts)


def _legend_texts(fig: Figure) -> list[str]:
    legend = _axes(fig, MAIN_AXES).get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


# --- Kaplan-Meier ------------------------------------------------------------------------


def test_figure1_risk_table_equals_results(results: dict[str, Any]) -> None:
    fig = figure_pfs(results["km"])
    assert fig is not None
    for row, endpoint in enumerate(("PFS1", "PFSR")):
        expected = results["km"][endpoint]["all"]["risk_table"]
        assert _risk_numbers(fig, row) == [str(n) for n in expected["n_risk"]]
        assert _risk_positions(fig, row) == [float(t) for t in expected["time_months"]]


def test_risk_table_columns_sit_on_the_time_ticks(results: dict[str, Any]) -> None:
    fig = figure_pfs(results["km"])
    assert fig is not None
    main, table = _axes(fig, MAIN_AXES), _axes(fig, RISK_TABLE_AXES)
    assert main.get_xlim() == table.get_xlim()
    ticks = {float(t) for t in main.get_xticks()}
    assert set(_risk_positions(fig, 0)) <= ticks


def test_cumulative_events_shown_when_asked(results: dict[str, Any]) -> None:
    from rechallenge.figures.km import KMSeries, plot_km

    curve = results["km"]["PFSR"]["all"]
    fig = plot_km([KMSeries("PFSR", curve)], show_events=True)
    rt = curve["risk_table"]
    x_max = _axes(fig, MAIN_AXES).get_xlim()[1]
    expected = [
        f"{n} ({e})"
        for t, n, e in zip(rt["time_months"], rt["n_risk"], rt["cum_events"], strict=True)
        if t <= x_max
    ]
    assert x_max == 12.0  # the curve ends at 11.0 months; the table runs to 15
    assert _risk_numbers(fig, 0) == expected


def test_legend_shows_median_and_ci_from_results(results: dict[str, Any]) -> None:
    fig = figure_pfs(results["km"])
    assert fig is not None
    texts = _legend_texts(fig)
    pfsr = results["km"]["PFSR"]["all"]
    assert "Median 2.90 months (95% CI 1.90–11.00)" in texts[1]
    assert f"n = {pfsr['n']}, events = {pfsr['events']}" in texts[1]
    assert "Median 5.97 months" in texts[0]


def test_legend_reads_a_changed_median_rather_than_recomputing(results: dict[str, Any]) -> None:
    results["km"]["PFSR"]["all"]["median_months"] = 4.321
    fig = figure_pfs(results["km"])
    assert fig is not None
    assert "Median 4.32 months" in _legend_texts(fig)[1]


def test_median_not_reached_is_said_in_words(results: dict[str, Any]) -> None:
    fig = figure_os(results["km"])
    assert fig is not None
    assert "Median not reached (95% CI 6.00–NR)" in _legend_texts(fig)[0]


def test_censor_ticks_at_censored_times(results: dict[str, Any]) -> None:
    fig = figure_os(results["km"])
    assert fig is not None
    steps = results["km"]["OS"]["all"]["steps"]
    censored = [t for t, c in zip(steps["time_months"], steps["n_censor"], strict=True) if c]
    ticks = [ln for ln in _axes(fig, MAIN_AXES).lines if ln.get_marker() == "|"]
    assert len(ticks) == 1
    assert list(ticks[0].get_xdata()) == censored


def test_subgroup_figure_annotates_logrank_and_hr(results: dict[str, Any]) -> None:
    fig = figure_km_by(
        results["km"]["PFSR"],
        "ecog_group",
        logrank=results["logrank"]["PFSR"],
        cox_rows=results["cox"]["PFSR"],
    )
    assert fig is not None
    legend = _axes(fig, MAIN_AXES).get_legend()
    assert legend is not None
    title = legend.get_title().get_text()
    assert "Log-rank test: p = 0.004" in title
    assert "Hazard ratio (Cox), 2 vs 0–1:" in title
    assert "6.84 (95% CI 1.56–30.03); Wald test p = 0.011" in title
    rt = results["km"]["PFSR"]["ecog_group=2"]["risk_table"]
    x_max = _axes(fig, MAIN_AXES).get_xlim()[1]
    assert _risk_numbers(fig, 1) == [
        str(n) for t, n in zip(rt["time_months"], rt["n_risk"], strict=True) if t <= x_max
    ]
    assert "Median 1.68 months" in _legend_texts(fig)[1]


def test_series_differ_by_more_than_colour() -> None:
    a, b = series_style(0), series_style(1)
    assert a["color"] != b["color"] and a["linestyle"] != b["linestyle"]
    assert a["marker"] != b["marker"]
    assert len(set(SERIES_COLOURS)) == len(SERIES_COLOURS)


@pytest.mark.parametrize(
    ("p", "text"), [(0.004, "p = 0.004"), (0.0004, "p < 0.001"), (None, "p = NA")]
)
def test_p_value_format(p: float | None, text: str) -> None:
    assert fmt_p(p) == text


# --- waterfall, swimmer, forest, flow ----------------------------------------------------


def test_waterfall_bars_equal_results(results: dict[str, Any]) -> None:
    fig = figure_waterfall(results["waterfall"])
    assert fig is not None
    for ax, course in zip(fig.axes, ("initial", "rechallenge"), strict=False):
        heights = sorted(p.get_height() for p in ax.patches if isinstance(p, Rectangle))
        expected = sorted(
            r["best_pct_change"] for r in results["waterfall"] if r["course"] == course
        )
        assert heights == pytest.approx(expected)
        refs = {round(ln.get_ydata()[0], 6) for ln in ax.lines if len(set(ln.get_ydata())) == 1}
        assert {-30.0, 20.0} <= refs


def test_waterfall_notes_unmeasurable_patients(results: dict[str, Any]) -> None:
    results["waterfall"][0]["best_pct_change"] = None
    fig = figure_waterfall(results["waterfall"])
    assert fig is not None
    assert any(t.get_text() == "Not measurable: 1" for t in fig.axes[0].texts)


def test_swimmer_has_one_lane_per_patient(results: dict[str, Any]) -> None:
    fig = figure_swimmer(results["swimmer"], layout="exposure")
    assert fig is not None
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert sorted(labels) == sorted(r["patient"] for r in results["swimmer"])
    # longest follow-up first
    first = max(results["swimmer"], key=lambda r: r["last_followup"])
    assert labels[0] == first["patient"]


def test_forest_rows_and_firth_mark(results: dict[str, Any]) -> None:
    fig = figure_forest(results["cox"]["PFSR"])
    assert fig is not None
    texts: list[Text] = fig.axes[0].texts
    hr = [t.get_text() for t in texts if (t.get_gid() or "").startswith("forest-hr-")]
    assert "6.84 (1.56–30.03)" in hr
    labels = [
        t.get_text().strip() for t in texts if (t.get_gid() or "").startswith("forest-label-")
    ]
    assert labels.index("IV†") == labels.index("III") + 1  # under its heading "Stage"
    assert "Age, years (per 10 years)" in labels
    assert "III†" not in labels  # a reference row carries no Firth mark
    assert len(hr) == len(results["cox"]["PFSR"])
    assert hr.count("Reference") == sum(r["is_reference"] for r in results["cox"]["PFSR"])
    assert fig.axes[0].get_xscale() == "log"


def test_flow_counts_come_from_attrition(results: dict[str, Any]) -> None:
    text = exclusion_text(results["cohort"]["attrition"])
    assert text.startswith("Excluded (n = 11)")
    assert "Did not meet inclusion criteria (n = 8)" in text
    assert "Met exclusion criteria (n = 3)" in text
    assert "ECOG performance status > 2" not in text  # removed nobody
    fig = figure_flow(results["cohort"])
    assert fig is not None
    shown = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "(n = 24)" in shown and "(n = 13)" in shown


# --- absence and rendering ---------------------------------------------------------------


def test_absent_parts_are_skipped_with_a_reason(results: dict[str, Any]) -> None:
    for key in ("waterfall", "swimmer", "cox"):
        del results[key]
    del results["km"]["OS"]
    built = build_figures(results)
    missing = skipped_figures(built, results)
    assert set(missing) == {
        "figure2_waterfall",
        "figure3_swimmer",
        "figure6_forest",
        "figure7_km_os",
    }  # the Context forest is optional: drawn only when `literature:` names a file
    assert "waterfall" in missing["figure2_waterfall"]
    assert "figure1_km_pfs" in built


def test_empty_results_give_no_figures() -> None:
    assert build_figures({}) == {}


def test_render_all_writes_three_formats(results: dict[str, Any], tmp_path: Path) -> None:
    paths = render_all(results, tmp_path, dpi=40)
    # all but the optional figures (Context forest, prognostic model: not configured)
    assert len(paths) == 3 * len([f for f in FIGURES if not f.optional])
    assert {p.suffix for p in paths} == {".png", ".svg", ".pdf"}
    pdf = (tmp_path / "figure1_km_pfs.pdf").read_bytes()
    assert b"/FontFile2" in pdf  # TrueType embedded (fonttype 42)
    assert b"/Subtype /Type3" not in pdf
    svg = (tmp_path / "figure1_km_pfs.svg").read_text(encoding="utf-8")
    assert "<text" not in svg  # text drawn as paths
    assert "<dc:date>" not in svg  # no timestamp, reproducible


def test_render_all_is_reproducible(results: dict[str, Any], tmp_path: Path) -> None:
    a = render_all(results, tmp_path / "a", formats=("svg", "pdf"), dpi=40)
    b = render_all(results, tmp_path / "b", formats=("svg", "pdf"), dpi=40)
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes(), pa.name


def test_artist_ids_are_unique_within_each_figure(results: dict[str, Any]) -> None:
    # matplotlib writes each gid as an SVG id; the report inlines the SVGs into one page
    results["waterfall"][-1].update(bor="PD", pd_reason="new_lesion")
    for stem, fig in build_figures(results).items():
        gids = [str(a.get_gid()) for a in fig.findobj() if a.get_gid()]
        assert len(gids) == len(set(gids)), stem
        assert all(" " not in g for g in gids), stem
