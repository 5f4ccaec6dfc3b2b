"""The competing-risks table and report subsection read the section and never recompute.

Sections come from the example cohort's PFSR data as the R-checked tests build them
(tests/pipeline/test_competing_section.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from openpyxl import load_workbook
from tests.reference.competing_data import DATA, enabled, survival_rows

from rechallenge.analysis.competing import competing_section
from rechallenge.labels import Labels
from rechallenge.report.competing import BY_SUBGROUP_PAIR, COMPETING_FIGURES, competing_paragraph
from rechallenge.report.document import (
    Exhibits,
    FigureBlock,
    Heading,
    Paragraph,
    TableBlock,
    build_document,
)
from rechallenge.report.html import render_report
from rechallenge.report.text import methods_text
from rechallenge.tables.common import Context
from rechallenge.tables.competing import COMPETING_TABLE_ID, competing_table
from rechallenge.tables.render import FORMATS, write_table
from rechallenge.tables.study import build_tables


def _section(status: np.ndarray) -> dict[str, Any]:
    section = competing_section(survival_rows(status), enabled())
    assert section is not None
    return section


@pytest.fixture(scope="module")
def mixed() -> dict[str, Any]:
    return _section(DATA["status_mixed"].to_numpy())


def test_table_rows_are_the_sections_values(mixed: dict[str, Any]) -> None:
    table = competing_table(mixed)
    assert table.columns[4:] == ("6 months, % (95% CI)", "12 months, % (95% CI)", "Gray's test p")
    rows = [r.texts for r in table.rows]
    assert rows[0][:4] == ("All patients", "Progression", "13", "8")
    death = mixed["overall"]["curves"]["death"]["at_times"][1]
    expected = f"{100 * death['cif']:.1f} ({100 * death['lower']:.1f}–{100 * death['upper']:.1f})"
    assert rows[1][1] == "Death without progression" and rows[1][5] == expected == "26.9 (5.0–56.3)"
    ecog = rows.index(next(r for r in rows if r[0] == "ECOG performance status"))
    p = mixed["subgroups"]["ecog_group"]["gray"][0]["p"]
    assert rows[ecog + 1][6] == f"{p:.3f}" and rows[ecog + 3][6] == ""  # p on the first level
    assert "NE" in rows[ecog + 3][4]  # ECOG 2: nobody followed 6 months
    assert any(n.startswith("NE, not estimable") for n in table.footnotes)
    assert table.data is not None and len(table.data.rows) == 2 * 2 * (1 + 2 + 2)


def test_small_cells_are_suppressed(mixed: dict[str, Any]) -> None:
    rows = [r.texts for r in competing_table(mixed, Context(small_cell=5)).rows]
    assert rows[1][3] == "≤ 5"  # 3 deaths
    assert rows[0][2] == "13"


def test_table_is_registered_in_every_format(mixed: dict[str, Any], tmp_path: Path) -> None:
    tables = build_tables({"competing_risks": mixed})
    assert COMPETING_TABLE_ID in tables
    paths = write_table(tables[COMPETING_TABLE_ID], tmp_path)
    assert {p.suffix.lstrip(".") for p in paths} == set(FORMATS)
    html = (tmp_path / f"{COMPETING_TABLE_ID}.html").read_text(encoding="utf-8")
    assert "Death without progression" in html and "Gray" in html
    sheet = load_workbook(tmp_path / f"{COMPETING_TABLE_ID}.xlsx").worksheets[0]
    assert any(c.value == "Gray's test p" for row in sheet.iter_rows() for c in row)
    assert COMPETING_TABLE_ID not in build_tables({})


def test_report_subsection_with_table_and_figures(mixed: dict[str, Any]) -> None:
    results = {"competing_risks": mixed, "methods": {}}
    figures = ["figure_cif", "figure_cif_ecog", "figure_cif_pdl1"]
    blocks = build_document(results, figures)
    at = next(
        i for i, b in enumerate(blocks) if isinstance(b, Heading) and b.text == "Competing risks"
    )
    paragraph = blocks[at + 1]
    assert isinstance(paragraph, Paragraph)
    assert "8 progressions and 3 deaths without progression" in paragraph.text
    assert "26.9% (95% CI 5.0–56.3%) at 12 months" in paragraph.text
    assert "Gray's test" in paragraph.text and "{" not in paragraph.text
    kinds = [
        (type(b).__name__, getattr(b, "key", getattr(b, "stem", "")))
        for b in blocks[at + 2 : at + 6]
    ]
    assert kinds == [("TableBlock", COMPETING_TABLE_ID)] + [("FigureBlock", s) for s in figures]
    assert isinstance(blocks[at + 2], TableBlock) and isinstance(blocks[at + 3], FigureBlock)
    methods = methods_text(results, Labels())
    assert "Gray's test (Gray, 1988)" in methods and "competing event" in methods


def test_no_deaths_and_no_events_are_said_in_words() -> None:
    none_died = competing_paragraph(_section(DATA["status"].to_numpy()), Labels())
    assert "no deaths without progression" in none_died
    assert "one minus the Kaplan–Meier estimate" in none_died
    nothing = competing_paragraph(_section(np.zeros(len(DATA), dtype=int)), Labels())
    assert "no progressions and no deaths" in nothing
    assert "no cumulative incidence is estimated" in nothing


def test_no_section_no_subsection() -> None:
    blocks = build_document({"methods": {}}, [])
    assert not any(isinstance(b, Heading) and b.text == "Competing risks" for b in blocks)


CIF_FIGURES = ["figure_cif", "figure_cif_ecog", "figure_cif_pdl1"]
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="460pt" height="345pt" '
    'viewBox="0 0 460 345"><rect id="box" width="460" height="345" fill="#fff"/></svg>'
)


def test_figures_by_subgroup_are_a_pair(mixed: dict[str, Any]) -> None:
    assert set(BY_SUBGROUP_PAIR) <= set(COMPETING_FIGURES)
    blocks = build_document({"competing_risks": mixed, "methods": {}}, CIF_FIGURES)
    beside = {b.stem: b.beside for b in blocks if isinstance(b, FigureBlock)}
    assert beside == {"figure_cif": False, "figure_cif_ecog": True, "figure_cif_pdl1": True}
    # with one of the two missing, the other is shown alone at full width
    blocks = build_document({"competing_risks": mixed, "methods": {}}, CIF_FIGURES[:2])
    assert [b.beside for b in blocks if isinstance(b, FigureBlock)] == [False, False]


def test_claimed_pair_is_placed_together() -> None:
    ex = Exhibits(tables={}, figures=("a", "b", "c"))
    placed: set[str] = set()
    blocks = ex.claim_figures({"a": "A.", "b": "B.", "c": "C."}, placed, pairs=[("a", "c")])
    shown = [(b.stem, b.beside) for b in blocks if isinstance(b, FigureBlock)]
    assert shown == [("a", True), ("c", True), ("b", False)]
    assert placed == {"a", "b", "c"}


def test_report_shows_the_pair_in_one_row(mixed: dict[str, Any], tmp_path: Path) -> None:
    files = {}
    for stem in CIF_FIGURES:
        files[stem] = tmp_path / f"{stem}.svg"
        files[stem].write_text(SVG, encoding="utf-8")
    html = render_report({"competing_risks": mixed, "methods": {}}, files)
    rows = re.findall(r'<div class="figure-row">(.*?)</div>', html, flags=re.DOTALL)
    assert len(rows) == 1
    figures = re.findall(
        r'<figure id="figure-([a-z0-9_]+)">.*?<figcaption><b>(Figure \d+)\.</b> (.*?)</figcaption>',
        rows[0],
        flags=re.DOTALL,
    )
    assert [stem for stem, _, _ in figures] == list(BY_SUBGROUP_PAIR)
    assert [number for _, number, _ in figures] == ["Figure 2", "Figure 3"]
    assert [caption for _, _, caption in figures] == [
        COMPETING_FIGURES[stem].replace("'", "&#39;") for stem in BY_SUBGROUP_PAIR
    ]
    assert html.count('<figure id="figure-figure_cif">') == 1
    assert '<figure id="figure-figure_cif">' not in rows[0]
    css = re.search(r"\.figure-row \{[^}]*\}", html)
    assert css is not None and "display: flex" in css.group(0)
