"""figures.meta_forest: rows read from the meta-analysis JSON, this study last and
highlighted, saved in every format, nothing drawn without data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rechallenge.figures.meta_forest import figure_meta_forest, panel_rows
from rechallenge.figures.style import FigureStyle, journal_style, save_figure
from rechallenge.stats.meta import meta_medians, meta_proportions


def panels() -> list[dict[str, Any]]:
    orr = meta_proportions([1, 1, 5], [14, 35, 59], study=["A", "B", "C"]).to_dict()
    pfs = meta_medians([1.5, 2.6, 6.8], [0.8, 1.6, 5.8], [2.6, 2.8, 7.8]).to_dict()
    return [
        {
            "title": "Objective response rate",
            "unit": "percent",
            "meta": orr,
            "this_study": {
                "label": "This study",
                "events": 0,
                "n": 13,
                "estimate": 0.0,
                "ci_lower": 0.0,
                "ci_upper": 0.247,
            },
        },
        {"title": "Median PFS", "unit": "months", "meta": pfs},
    ]


def test_rows_follow_the_json() -> None:
    rows = panel_rows(panels()[0])
    assert [r.kind for r in rows] == ["study"] * 3 + ["pooled", "prediction", "this"]
    assert [r.label for r in rows][:3] == ["A", "B", "C"] and rows[0].count == "1/14"
    assert rows[3].label == "Pooled (k = 3)"
    assert rows[-1].count == "0/13" and rows[-1].estimate == 0.0
    assert [r.kind for r in panel_rows(panels()[1])][-1] == "prediction"  # no this-study row


def test_figure_saves(tmp_path: Path) -> None:
    fig = figure_meta_forest(panels())
    assert fig is not None
    texts = {t.get_text() for ax in fig.axes for t in ax.texts}
    assert {"Objective response rate", "Median PFS", "This study", "Weight %"} <= texts
    assert len(fig.axes) == 2
    paths = save_figure(fig, tmp_path / "context_forest")
    assert all(p.stat().st_size > 1000 for p in paths)


def test_greyscale_and_single_column() -> None:
    with journal_style(FigureStyle(palette="greyscale", width="single")):
        fig = figure_meta_forest(panels())
    assert fig is not None
    assert abs(fig.get_size_inches()[0] - 89 / 25.4) < 1e-9


def test_nothing_to_draw() -> None:
    assert figure_meta_forest([]) is None
    assert figure_meta_forest(None) is None
    assert figure_meta_forest([{"title": "x"}]) is None


def test_an_unreached_upper_limit_reads_nr() -> None:
    panel = panels()[1] | {
        "this_study": {"label": "This study", "estimate": 2.89, "ci_lower": 1.97, "ci_upper": None}
    }
    fig = figure_meta_forest([panel])
    assert fig is not None
    texts = {t.get_text() for ax in fig.axes for t in ax.texts}
    assert "2.89 (1.97–NR)" in texts
