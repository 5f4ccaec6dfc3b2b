"""Kaplan–Meier figures, checked from the drawn artists: start at (0, 1), bands to the end.

Each KM figure (1, 4, 5, 7) is drawn twice: from the fixture as it is, and from the fixture
rewritten as R's survfit reports a curve (the step table starts at the first event and the
last row's limits are undefined where S reaches 0), which is how real results arrive.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from rechallenge.figures.km import (
    BAND_GID,
    CURVE_GID,
    MAIN_AXES,
    RISK_TABLE_AXES,
    KMSeries,
    curve_points,
    figure_pfs,
    plot_km,
    short_level,
    time_axis,
    time_break,
)
from rechallenge.figures.render import build_figures
from rechallenge.figures.settings import FigureAnnotations, FigureStyle

KM_STEMS = ("figure1_km_pfs", "figure4_km_pfsr_ecog", "figure5_km_pfsr_pdl1", "figure7_km_os")
WITH_BANDS = FigureStyle(annotations=FigureAnnotations(subgroup_ci_bands=True))


def _as_r_reports_it(results: dict[str, Any]) -> dict[str, Any]:
    """Step tables from the first event on, limits undefined on rows where S = 0."""
    for block in results["km"].values():
        for curve in block.values():
            steps = curve["steps"]
            if steps["time_months"][0] == 0.0:
                for key in steps:
                    steps[key] = steps[key][1:]
            for i, s in enumerate(steps["surv"]):
                if s == 0.0:
                    steps["lower"][i] = None
                    steps["upper"][i] = None
    return results


def _main(fig: Figure) -> Axes:
    return next(ax for ax in fig.axes if ax.get_label() == MAIN_AXES)


def _curves(fig: Figure) -> dict[str, Line2D]:
    return {
        str(ln.get_gid()).removeprefix(f"{CURVE_GID}-"): ln
        for ln in _main(fig).lines
        if str(ln.get_gid() or "").startswith(CURVE_GID)
    }


def _bands(fig: Figure) -> dict[str, np.ndarray]:
    return {
        str(c.get_gid()).removeprefix(f"{BAND_GID}-"): np.concatenate(
            [p.vertices for p in c.get_paths()]
        )
        for c in _main(fig).collections
        if isinstance(c, PolyCollection) and str(c.get_gid() or "").startswith(BAND_GID)
    }


@pytest.fixture(params=["fixture", "as_r_reports_it"])
def km_results(request: pytest.FixtureRequest, results: dict[str, Any]) -> dict[str, Any]:
    return results if request.param == "fixture" else _as_r_reports_it(results)


@pytest.mark.parametrize("stem", KM_STEMS)
def test_every_curve_and_band_start_at_0_1_and_bands_reach_the_curve_end(
    stem: str, km_results: dict[str, Any]
) -> None:
    fig = build_figures(km_results, style=WITH_BANDS)[stem]
    curves, bands = _curves(fig), _bands(fig)
    assert curves, "no curve drawn"
    assert set(bands) == set(curves), "every curve has its band"
    for key, line in curves.items():
        x = np.asarray(line.get_xdata(), dtype=float)
        y = np.asarray(line.get_ydata(), dtype=float)
        assert (x[0], y[0]) == (0.0, 1.0), f"curve {key} starts at ({x[0]}, {y[0]})"
        band = bands[key]
        finite = band[np.isfinite(band).all(axis=1)]
        assert len(finite) == len(band), "band has no gaps"
        at_zero = finite[finite[:, 0] == 0.0]
        assert len(at_zero) and np.allclose(at_zero[:, 1], 1.0), f"band {key} starts at (0, 1)"
        assert finite[:, 0].min() == 0.0
        assert finite[:, 0].max() == pytest.approx(x[-1]), f"band {key} reaches {x[-1]}"


def test_undefined_last_limits_carry_the_last_defined_ones_forward(
    results: dict[str, Any],
) -> None:
    curve = _as_r_reports_it(results)["km"]["PFSR"]["all"]
    steps = curve["steps"]
    assert steps["lower"][-1] is None  # S reaches 0 at the last event
    pts = curve_points(curve)
    last_defined = [v for v in steps["lower"] if v is not None][-1]
    assert pts.lower is not None and pts.upper is not None
    assert pts.lower[-1] == last_defined
    assert pts.upper[-1] == [v for v in steps["upper"] if v is not None][-1]
    assert pts.time[0] == 0.0 and pts.surv[0] == 1.0 and pts.lower[0] == 1.0
    assert len(pts.time) == len(steps["time_months"]) + 1
    assert not any(math.isnan(v) for v in pts.lower + pts.upper)


def test_axis_and_risk_table_come_from_the_plotted_curves(results: dict[str, Any]) -> None:
    # the study's longest endpoint runs to 36 months; these curves end at 13.5 and 11.0
    for block in results["km"].values():
        for curve in block.values():
            rt = curve["risk_table"]
            rt["time_months"] = [3.0 * i for i in range(13)]
            rt["n_risk"] = (rt["n_risk"] + [0] * 13)[:13]
            rt["cum_events"] = (rt["cum_events"] + [rt["cum_events"][-1]] * 13)[:13]
    fig = figure_pfs(results["km"])
    assert fig is not None
    main = _main(fig)
    assert main.get_xlim() == (0.0, 15.0)
    assert list(main.get_xticks()) == [0, 3, 6, 9, 12, 15]
    table = next(ax for ax in fig.axes if ax.get_label() == RISK_TABLE_AXES)
    shown = sorted({float(t.get_position()[0]) for t in table.texts if t.get_gid()})
    assert shown == [0, 3, 6, 9, 12, 15]


@pytest.mark.parametrize(
    ("t_max", "step"), [(2.3, 1.0), (6.0, 1.0), (13.0, 3.0), (24.0, 3.0), (30.0, 6.0), (60, 12)]
)
def test_time_breaks_follow_the_span(t_max: float, step: float) -> None:
    assert time_break(t_max) == step


def test_axis_ends_at_the_first_break_after_the_last_time(results: dict[str, Any]) -> None:
    curve = results["km"]["PFSR"]["ecog_group=2"]  # ends at 2.3 months
    ticks, x_max = time_axis([KMSeries("ECOG 2", curve)])
    assert x_max == 3.0 and ticks == [0.0, 1.0, 2.0, 3.0]


def test_legend_and_axis_labels_are_words(results: dict[str, Any]) -> None:
    fig = build_figures(results)["figure4_km_pfsr_ecog"]
    main = _main(fig)
    legend = main.get_legend()
    assert legend is not None
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts[0].startswith("ECOG performance status: 0–1")
    assert "ecog_group" not in " ".join(texts) + main.get_xlabel()
    assert main.get_xlabel() == "Months since the start of rechallenge"
    table = next(ax for ax in fig.axes if ax.get_label() == RISK_TABLE_AXES)
    titles = [t.get_text() for t in table.texts if not t.get_gid()]
    assert "Number at risk, by ECOG performance status" in titles


def test_risk_table_rows_use_short_level_names() -> None:
    assert short_level("Positive (TPS ≥ 1%)") == "Positive"
    assert short_level("0–1") == "0–1"


def test_annotations_switch_off(results: dict[str, Any]) -> None:
    quiet = FigureStyle(
        annotations=FigureAnnotations(
            p_values=False, medians=False, censor_ticks=False, risk_table=False, ci_bands=False
        )
    )
    figs = build_figures(results, style=quiet)
    for stem in KM_STEMS:
        fig = figs[stem]
        main = _main(fig)
        assert [ax.get_label() for ax in fig.axes] == [MAIN_AXES], stem
        assert not _bands(fig), stem
        assert not [ln for ln in main.lines if ln.get_marker() == "|"], stem
        assert len(main.lines) == len(_curves(fig)), f"{stem}: only the curves"
        legend = main.get_legend()
        assert legend is not None and not legend.get_title().get_text(), stem


def test_firth_hazard_ratio_is_annotated_with_its_test(results: dict[str, Any]) -> None:
    from rechallenge.figures.km import _cox_row, subgroup_annotation

    row = _cox_row(results["cox"]["PFSR"], "stage")
    assert row is not None and row["term"] == "stage=IV"
    text = subgroup_annotation(None, row)
    assert text is not None
    assert "(Cox, Firth penalised), IV vs III:" in text
    assert "penalised likelihood-ratio test p = 0.131" in text
    assert "Wald" not in text and "NA" not in text


def test_reference_and_inestimable_rows_give_no_hazard_ratio(results: dict[str, Any]) -> None:
    from rechallenge.figures.km import _cox_row, subgroup_annotation

    rows = results["cox"]["PFSR"]
    reference = next(r for r in rows if r["firth"] and r["is_reference"])
    assert subgroup_annotation(None, reference) is None
    test = {"p": 0.02}
    assert subgroup_annotation(test, reference) == "Log-rank test: p = 0.020"
    lost = [{**r, "estimable": False, "hr": None} if r["term"] == "stage=IV" else r for r in rows]
    assert _cox_row(lost, "stage") is None


def test_plot_km_needs_a_curve() -> None:
    with pytest.raises(ValueError, match="at least one curve"):
        plot_km([])


def test_rows_without_a_time_or_survival_are_skipped() -> None:
    curve = {
        "steps": {
            "time_months": [1.0, None, 3.0],
            "surv": [0.8, 0.6, None],
            "lower": [0.5, 0.3, None],
            "upper": [0.95, 0.9, None],
            "n_censor": [0, 1, 0],
        }
    }
    pts = curve_points(curve)
    assert pts.time == [0.0, 1.0] and pts.surv == [1.0, 0.8]
    assert pts.lower == [1.0, 0.5] and pts.censored == [False, False]


def test_risk_table_on_another_grid_sets_the_breaks(results: dict[str, Any]) -> None:
    curve = results["km"]["OS"]["all"]  # ends at 18.2 months: breaks every 3 months
    curve["risk_table"] = {
        "time_months": [0.0, 4.0, 8.0, 12.0, 16.0, 20.0],
        "n_risk": [13, 11, 8, 6, 4, 0],
        "cum_events": [0, 2, 4, 4, 4, 4],
    }
    fig = plot_km([KMSeries("OS", curve)])
    table = next(ax for ax in fig.axes if ax.get_label() == RISK_TABLE_AXES)
    shown = sorted(float(t.get_position()[0]) for t in table.texts if t.get_gid())
    assert shown == [0.0, 4.0, 8.0, 12.0, 16.0, 20.0]
    assert list(_main(fig).get_xticks()) == shown
