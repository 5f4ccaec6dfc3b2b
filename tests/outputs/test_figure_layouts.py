"""Flow, swimmer and waterfall layouts: CONSORT wording, PFS lanes, paired order, PD marks."""

from __future__ import annotations

from typing import Any

import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Annotation, Text

from rechallenge.figures.flow import ARROW_GID, exclusion_text, figure_flow
from rechallenge.figures.render import build_figures
from rechallenge.figures.settings import FigureStyle
from rechallenge.figures.style import text_colour_on
from rechallenge.figures.swimmer import LABEL_GID, figure_swimmer, pfs_lanes
from rechallenge.figures.waterfall import PD_MARK_GID, figure_waterfall, paired_order
from rechallenge.labels import Labels

# --- flow --------------------------------------------------------------------------------


def _real_criteria(results: dict[str, Any]) -> list[dict[str, Any]]:
    codes = {"age": "age_range", "ecog": "ecog_max", "incomplete": "incomplete_data"}
    steps = results["cohort"]["attrition"]
    for step in steps:
        step["criterion"] = codes.get(step["criterion"], step["criterion"])
    return list(steps)


def test_exclusions_are_worded_as_failures_consort_style(results: dict[str, Any]) -> None:
    steps = _real_criteria(results)
    text = exclusion_text(steps, Labels().with_params(age_min=18, age_max=75))
    assert "• Age < 18 or > 75 years (n = 2)" in text
    assert "• Incomplete data preventing evaluation (n = 1)" in text
    assert "Age 18–75" not in text  # the criterion's own wording
    assert "ECOG performance status > 2" not in text  # removed nobody


def test_failure_label_of_the_results_wins(results: dict[str, Any]) -> None:
    steps = _real_criteria(results)
    steps[3]["failure_label"] = "Aged under 18 or over 75"
    assert "• Aged under 18 or over 75 (n = 2)" in exclusion_text(steps)


def test_labels_from_the_run_fill_the_thresholds(results: dict[str, Any]) -> None:
    for step in _real_criteria(results):
        step.pop("failure_label", None)  # the catalogue wording, filled from the run's config
    results["manifest"]["config"]["cohort"] = {"age_min": 20, "age_max": 80}
    fig = build_figures(results)["flow"]
    shown = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "Age < 20 or > 80 years (n = 2)" in shown


def _frame(fig: Figure, text: Text) -> tuple[float, float, float, float]:
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    patch = text.get_bbox_patch()
    assert patch is not None
    bb = patch.get_window_extent(renderer).transformed(fig.axes[0].transData.inverted())
    return bb.x0, bb.y0, bb.x1, bb.y1


@pytest.mark.parametrize("width", [None, "single"])
def test_arrows_end_at_the_box_frames(results: dict[str, Any], width: Any) -> None:
    fig = build_figures(results, style=FigureStyle(width=width))["flow"]
    fig.canvas.draw()
    ax = fig.axes[0]
    boxes = [t for t in ax.texts if t.get_bbox_patch() is not None]
    top, side, bottom = (_frame(fig, b) for b in boxes)
    arrows = [
        a for a in ax.texts if isinstance(a, Annotation) and str(a.get_gid()).startswith(ARROW_GID)
    ]
    assert len(arrows) == 2
    down, across = sorted(arrows, key=lambda a: abs(a.xy[1] - a.xyann[1]), reverse=True)
    tol = 0.02
    assert down.xyann[1] == pytest.approx(top[1], abs=tol)  # leaves the screened box's edge
    assert down.xy[1] == pytest.approx(bottom[3], abs=tol)  # ends on the included box's edge
    assert across.xy[0] == pytest.approx(side[0], abs=tol)  # ends on the side box's edge
    assert side[1] < across.xy[1] < side[3]


def test_flow_needs_an_attrition_table() -> None:
    assert figure_flow({"screened": 3}) is None


# --- swimmer -----------------------------------------------------------------------------


def _bor_texts(fig: Figure) -> list[Annotation]:
    return [t for t in fig.axes[0].texts if str(t.get_gid()).startswith(LABEL_GID)]


def test_pfs_lanes_use_the_contract_durations(results: dict[str, Any]) -> None:
    rec = dict(results["swimmer"][0])
    rec.update(pfs1_months=6.5, pfs1_event=True, pfsr_months=4.25, pfsr_event=False)
    lanes = pfs_lanes(rec)
    assert [(ln.course, ln.months, ln.event) for ln in lanes] == [
        ("initial", 6.5, True),
        ("rechallenge", 4.25, False),
    ]


def test_pfs_lanes_derived_from_the_course_times_when_absent(results: dict[str, Any]) -> None:
    rec = results["swimmer"][0]  # P01: 0 → 5.97 progression; 8.87 → 11.37 progression
    for key in ("pfs1_months", "pfs1_event", "pfsr_months", "pfsr_event"):
        rec.pop(key)  # results before schema 1.1 carry no PFS lanes
    lanes = pfs_lanes(rec)
    assert [(ln.course, round(ln.months, 2), ln.event) for ln in lanes] == [
        ("initial", 5.97, True),
        ("rechallenge", 2.5, True),
    ]
    censored = dict(rec, rechallenge_progression=None, death=False)
    assert pfs_lanes(censored)[1].months == pytest.approx(21.27 - 8.87)
    assert pfs_lanes(censored)[1].event is False


def test_default_swimmer_draws_two_pfs_lanes_per_patient(results: dict[str, Any]) -> None:
    fig = figure_swimmer(results["swimmer"])
    assert fig is not None
    ax = fig.axes[0]
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_gid()]
    assert len(bars) == 2 * len(results["swimmer"])
    assert all(b.get_x() == 0.0 for b in bars)  # each lane from its course's start
    pfsr = {
        round(b.get_width(), 6)
        for b in bars
        if str(b.get_gid()).startswith("swimmer-bar-rechallenge-")
    }
    expected = {
        round(r["rechallenge_progression"] - r["rechallenge_start"], 6)
        for r in results["swimmer"]
        if r["rechallenge_progression"] is not None
    }
    assert expected <= pfsr
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    longest = max(results["swimmer"], key=lambda r: pfs_lanes(r)[1].months)
    assert ticks[0] == longest["patient"]  # ordered by PFSR, longest first


def test_short_bars_keep_their_label_outside_in_black(results: dict[str, Any]) -> None:
    recs = results["swimmer"]
    recs[0].update(pfsr_months=0.2, pfsr_event=True, pfs1_months=9.0, pfs1_event=True)
    fig = figure_swimmer(recs)
    assert fig is not None
    texts = _bor_texts(fig)
    assert len(texts) == sum(
        1 for r in recs for k in ("bor_initial", "bor_rechallenge") if r.get(k)
    ), "no label disappears"
    short = [t for t in texts if t.xy[1] > 0 and abs(t.xy[0] - 0.2) < 1e-9]
    assert len(short) == 1, "the short bar's label moved past its progression mark"
    assert short[0].get_color() == "black"
    assert short[0].xyann[0] > 0


def test_labels_inside_bars_contrast_with_the_bar(results: dict[str, Any]) -> None:
    for layout in ("pfs", "exposure"):
        fig = figure_swimmer(results["swimmer"], layout=layout)  # type: ignore[arg-type]
        assert fig is not None
        bars = [p for p in fig.axes[0].patches if isinstance(p, Rectangle) and p.get_gid()]
        for text in _bor_texts(fig):
            x, y = text.xy
            bar = next(
                (
                    b
                    for b in bars
                    if b.get_x() == x and b.get_y() <= y <= b.get_y() + b.get_height()
                ),
                None,
            )
            if bar is None:  # placed outside: on the white background
                assert text.get_color() == "black"
                continue
            fill = "#{:02x}{:02x}{:02x}".format(*(round(c * 255) for c in bar.get_facecolor()[:3]))
            assert text.get_color() == text_colour_on(fill), layout


def test_exposure_layout_is_an_option(results: dict[str, Any]) -> None:
    style = FigureStyle(swimmer="exposure")
    fig = build_figures(results, style=style)["figure3_swimmer"]
    assert fig.axes[0].get_xlabel() == "Months since the start of the first ICI course"
    gids = [str(p.get_gid()) for p in fig.axes[0].patches]
    assert any(g.startswith("swimmer-bar-interim-") for g in gids)


# --- waterfall ---------------------------------------------------------------------------


def _bar_order(fig: Figure, panel: int) -> list[str]:
    return [t.get_text() for t in fig.axes[panel].get_xticklabels()]


def test_paired_waterfall_keeps_one_patient_order(results: dict[str, Any]) -> None:
    fig = figure_waterfall(results["waterfall"])
    assert fig is not None
    first, second = _bar_order(fig, 0), _bar_order(fig, 1)
    assert first == second
    re = {
        r["patient"]: r["best_pct_change"]
        for r in results["waterfall"]
        if r["course"] == "rechallenge"
    }
    values = [re[p] for p in second if p in re]
    assert values == sorted(values, reverse=True)  # by the rechallenge change
    # each bar sits at its patient's slot in both panels
    ini = {
        r["patient"]: r["best_pct_change"] for r in results["waterfall"] if r["course"] == "initial"
    }
    heights = {
        round(p.get_x() + p.get_width() / 2): p.get_height()
        for p in fig.axes[0].patches
        if isinstance(p, Rectangle)
    }
    for x, patient in enumerate(first):
        if patient in ini:
            assert heights[x] == pytest.approx(ini[patient])


def test_paired_order_puts_patients_without_rechallenge_last() -> None:
    courses = {
        "initial": [
            {"patient": "A", "best_pct_change": -50.0},
            {"patient": "B", "best_pct_change": 10.0},
            {"patient": "C", "best_pct_change": -20.0},
        ],
        "rechallenge": [
            {"patient": "A", "best_pct_change": -10.0},
            {"patient": "C", "best_pct_change": 25.0},
        ],
    }
    assert paired_order(courses) == ["C", "A", "B"]


def test_independent_layout_sorts_each_course(results: dict[str, Any]) -> None:
    fig = figure_waterfall(results["waterfall"], layout="independent")
    assert fig is not None
    for panel, course in enumerate(("initial", "rechallenge")):
        by = {
            r["patient"]: r["best_pct_change"]
            for r in results["waterfall"]
            if r["course"] == course
        }
        values = [by[p] for p in _bar_order(fig, panel)]
        assert values == sorted(values, reverse=True)


def test_pd_by_new_lesion_or_non_target_is_marked_on_shrinking_bars(
    results: dict[str, Any],
) -> None:
    recs = results["waterfall"]
    shrinking = [r for r in recs if r["course"] == "rechallenge" and r["best_pct_change"] < 0]
    shrinking[0].update(bor="PD", pd_reason="new_lesion")
    shrinking[1].update(bor="PD", pd_reason="non_target")
    growing = next(r for r in recs if r["course"] == "rechallenge" and r["best_pct_change"] > 20)
    growing.update(bor="PD", pd_reason="target")
    fig = figure_waterfall(recs)
    assert fig is not None
    marks = [
        ln for ax in fig.axes for ln in ax.lines if str(ln.get_gid() or "").startswith(PD_MARK_GID)
    ]
    reasons = sorted(str(m.get_gid()).removeprefix(f"{PD_MARK_GID}-") for m in marks)
    # the two shrinking bars, and P12's new lesion on a bar that grew 8.3% (below the PD line);
    # P13 (non-target PD, +22.9%) and the target PDs show their progression with the bar itself
    assert [r.rsplit("-", 2)[0] for r in reasons] == ["new_lesion", "new_lesion", "non_target"]
    ys = sorted(float(m.get_ydata()[0]) for m in marks)
    assert ys[0] < 0 and ys[1] < 0  # past the end of a shrinking bar
    assert ys[2] > 8.3  # past the end of P12's short growing bar
    legend = fig.legends[0]
    names = [t.get_text() for t in legend.get_texts()]
    assert "PD by a new lesion" in names and "PD by non-target progression" in names
