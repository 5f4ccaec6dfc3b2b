"""Cumulative incidence figures (figures/cif.py): what is drawn comes from the results.

Sections come from the example cohort's PFSR data as the R-checked competing-risks tests
build them (tests/pipeline/test_competing_section.py), with and without deaths without
progression.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from tests.reference.competing_data import DATA, enabled, survival_rows

from rechallenge.analysis.competing import competing_section
from rechallenge.figures.cif import CIF_GID, figure_cif, figure_cif_by
from rechallenge.figures.km import MAIN_AXES, RISK_TABLE_AXES
from rechallenge.figures.render import FIGURES, build_figures, skipped_figures


def _section(column: str) -> dict[str, Any]:
    section = competing_section(survival_rows(DATA[column].to_numpy()), enabled())
    assert section is not None
    return section


@pytest.fixture(scope="module")
def mixed() -> dict[str, Any]:
    return _section("status_mixed")


def _curves(fig: Figure) -> list[Line2D]:
    ax = next(a for a in fig.axes if a.get_label() == MAIN_AXES)
    return sorted(
        (ln for ln in ax.get_lines() if str(ln.get_gid() or "").startswith(CIF_GID)),
        key=lambda ln: str(ln.get_gid()),
    )


def _risk_numbers(fig: Figure) -> dict[int, list[str]]:
    table = next(a for a in fig.axes if a.get_label() == RISK_TABLE_AXES)
    rows: dict[int, list[tuple[float, str]]] = {}
    for t in table.texts:
        gid = str(t.get_gid() or "")
        if gid.startswith("risk-"):
            rows.setdefault(int(gid.split("-")[1]), []).append(
                (float(t.get_position()[0]), t.get_text())
            )
    return {k: [text for _, text in sorted(v)] for k, v in rows.items()}


def test_both_causes_start_at_zero_and_follow_the_results(mixed: dict[str, Any]) -> None:
    fig = figure_cif(mixed)
    assert fig is not None
    lines = _curves(fig)
    assert len(lines) == 2
    for line, cause in zip(lines, ("progression", "death"), strict=True):
        x, y = (np.asarray(v, dtype=float) for v in line.get_data())
        assert (x[0], y[0]) == (0.0, 0.0)
        steps = mixed["overall"]["curves"][cause]["steps"]
        assert y.max() == pytest.approx(max(steps["cif"]))
        assert x.max() == pytest.approx(max(steps["time_months"]))
    assert len({tuple(ln.get_color()) if not isinstance(ln.get_color(), str) else ln.get_color()
                for ln in lines}) == 2  # fmt: skip


def test_risk_table_shows_the_numbers_at_risk(mixed: dict[str, Any]) -> None:
    fig = figure_cif(mixed)
    assert fig is not None
    rt = mixed["overall"]["risk_table"]
    (row,) = _risk_numbers(fig).values()  # one row: both causes share the risk set
    ax = next(a for a in fig.axes if a.get_label() == MAIN_AXES)
    shown = [n for t, n in zip(rt["time_months"], rt["n_risk"], strict=True)
             if t <= ax.get_xlim()[1] + 1e-9]  # fmt: skip
    assert row == [str(n) for n in shown]
    assert row[0] == str(len(DATA))


def test_legend_names_causes_and_events(mixed: dict[str, Any]) -> None:
    fig = figure_cif(mixed)
    assert fig is not None
    ax = next(a for a in fig.axes if a.get_label() == MAIN_AXES)
    legend = ax.get_legend()
    assert legend is not None
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts[0].startswith("Progression\nevents = 8")
    assert texts[1].startswith("Death without progression\nevents = 3")
    assert "12 months: 26.9% (95% CI 5.0–56.3%)" in texts[1]


def test_by_subgroup_has_one_curve_and_row_per_level_and_grays_p(mixed: dict[str, Any]) -> None:
    fig = figure_cif_by(mixed, "ecog_group")
    assert fig is not None
    lines = _curves(fig)
    assert len(lines) == 2 and all(np.asarray(ln.get_data()[1])[0] == 0.0 for ln in lines)
    rows = _risk_numbers(fig)
    levels = list(mixed["subgroups"]["ecog_group"]["levels"].values())
    assert len(rows) == len(levels)
    for i, block in rows.items():
        assert block[0] == str(levels[i]["n"])
    ax = next(a for a in fig.axes if a.get_label() == MAIN_AXES)
    legend = ax.get_legend()
    assert legend is not None
    p = mixed["subgroups"]["ecog_group"]["gray"][0]["p"]
    assert f"Gray's test: p = {p:.3f}" in legend.get_title().get_text()


def test_cause_without_events_is_flat_and_untested_in_words() -> None:
    section = _section("status")  # the example cohort: no death without progression
    fig = figure_cif(section)
    assert fig is not None
    death = _curves(fig)[1]
    assert set(np.asarray(death.get_data()[1], dtype=float)) == {0.0}
    by = figure_cif_by(section, "ecog_group", cause="death")
    assert by is not None
    ax = next(a for a in by.axes if a.get_label() == MAIN_AXES)
    legend = ax.get_legend()
    assert legend is not None
    assert "not done (no events)" in legend.get_title().get_text()


def test_registered_as_optional_figures(mixed: dict[str, Any]) -> None:
    stems = {"figure_cif", "figure_cif_ecog", "figure_cif_pdl1"}
    assert stems <= {s.stem for s in FIGURES if s.optional}
    results: dict[str, Any] = {"competing_risks": mixed}
    built = build_figures(results)
    assert stems <= set(built)
    assert not stems & set(skipped_figures(built, results))
    assert not stems & set(skipped_figures({}, {}))  # off: neither drawn nor listed
    assert figure_cif(None) is None and figure_cif_by(mixed, "no_such_subgroup") is None


def test_legends_quote_every_level_at_one_time(mixed: dict[str, Any]) -> None:
    """PD-L1 negative is not followed to 12 months: both levels are quoted at 6 months."""
    fig = figure_cif_by(mixed, "pdl1")
    assert fig is not None
    ax = next(a for a in fig.axes if a.get_label() == MAIN_AXES)
    legend = ax.get_legend()
    assert legend is not None
    texts = [t.get_text() for t in legend.get_texts()]
    assert all("\n6 months: " in t for t in texts) and not any("12 months" in t for t in texts)
