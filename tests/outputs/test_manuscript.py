"""manuscript.docx: opens with python-docx, every table a native table, every figure an inline
picture, numbered in order and captioned; abstract, references, page size, fixed bytes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.shared import Inches, Mm
from tests.outputs.test_report_visible import codes_in, docx_text

from rechallenge.figures.render import render_all
from rechallenge.report.document import TableBlock, build_document
from rechallenge.report.manuscript import MANUSCRIPT_NAME, write_manuscript
from rechallenge.tables.study import build_tables


@pytest.fixture(scope="module")
def pngs(
    tmp_path_factory: pytest.TempPathFactory, _results_on_disk: dict[str, Any]
) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("figures")
    paths = render_all(_results_on_disk, out, formats=("png",), dpi=60)
    return {p.stem: p for p in paths}


@pytest.fixture
def manuscript(results: dict[str, Any], pngs: dict[str, Path], tmp_path: Path) -> Path:
    return write_manuscript(results, tmp_path, pngs)


def _captions(doc: Any, word: str) -> list[str]:
    found = []
    for p in doc.paragraphs:
        match = re.match(rf"{word} (A?\d+)\. ", p.text)
        if match and p.style.name == "Caption":
            found.append(match.group(1))
    return found


def test_every_table_is_a_native_word_table_numbered_in_order(
    manuscript: Path, results: dict[str, Any]
) -> None:
    doc = Document(str(manuscript))
    expected = build_tables(results)
    # and the appendix's data completeness and data-quality warnings by kind
    assert len(doc.tables) == len(expected) + 2
    assert _captions(doc, "Table") == ["1", "2", "3", "4", "5", "6", "A1", "A2", "A3"]
    order = ("abstract", "methods", "results", "references", "appendix")
    placed = [b for b in build_document(results, (), order=order) if isinstance(b, TableBlock)]
    assert placed[0].key == "table1_resistance"  # cited first, in Methods
    for grid, block in zip(doc.tables, placed, strict=True):
        n_head = 2 if block.table.spanners else 1
        assert len(grid.rows) == n_head + len(block.table.rows)
        assert [c.text for c in grid.rows[n_head - 1].cells] == list(block.table.columns)
        if block.table.rows:
            assert [c.text for c in grid.rows[n_head].cells] == list(block.table.rows[0].texts)
        for i in range(n_head):  # header rows repeat on every page
            assert grid.rows[i]._tr.find(".//{*}tblHeader") is not None


def test_every_figure_is_an_inline_picture_numbered_in_order(
    manuscript: Path, pngs: dict[str, Path]
) -> None:
    doc = Document(str(manuscript))
    assert len(doc.inline_shapes) == len(pngs) == 8
    assert _captions(doc, "Figure") == [str(i) for i in range(1, 9)]
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "tick marks, censored observations" in body
    for i, paragraph in enumerate(doc.paragraphs):  # each picture has its caption below
        if paragraph._p.findall(".//{*}inline"):
            assert doc.paragraphs[i + 1].text.startswith("Figure ")


def test_abstract_methods_results_and_references(manuscript: Path) -> None:
    doc = Document(str(manuscript))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    for name in (
        "Abstract",
        "Introduction",
        "Methods",
        "Results",
        "Discussion",
        "References",
        "Appendix",
    ):
        assert name in headings, name
    assert headings.index("Methods") < headings.index("Results")
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Background: [To be written by the authors" in text
    assert "Conclusions: [To be written by the authors" in text
    results_part = next(p.text for p in doc.paragraphs if p.text.startswith("Results: "))
    assert "Median PFSR was 2.9 months (95% CI 1.9–11.0; Kaplan–Meier)" in results_part
    texts = [p.text for p in doc.paragraphs]
    references = texts[texts.index("References") + 1 : texts.index("Appendix")]
    for author in (
        "Eisenhauer EA",
        "Schoenfeld AJ",
        "National Cancer Institute",
        "Kaplan EL",
        "Cox DR",
        "Firth D",
        "Heinze G",
        "Clopper CJ",
        "Brookmeyer R",
    ):
        assert any(r.startswith(author) for r in references), author


def test_same_text_source_as_the_report(manuscript: Path, results: dict[str, Any]) -> None:
    doc = Document(str(manuscript))
    text = "\n".join(p.text for p in doc.paragraphs)
    blocks = build_document(results, (), order=("methods", "results"))
    paragraph = next(b for b in blocks if getattr(b, "text", "").startswith("Survival was"))
    assert paragraph.text in text  # figure-free paragraphs are word for word the same
    assert not any(isinstance(b, TableBlock) and b.appendix for b in blocks)


@pytest.mark.parametrize(
    ("size", "width", "height"), [("A4", Mm(210), Mm(297)), ("Letter", Inches(8.5), Inches(11))]
)
def test_page_size_from_configuration(
    results: dict[str, Any],
    pngs: dict[str, Path],
    tmp_path: Path,
    size: str,
    width: int,
    height: int,
) -> None:
    results["manifest"]["config"]["output"] = {"page_size": size}
    doc = Document(str(write_manuscript(results, tmp_path, pngs)))
    section = doc.sections[0]
    assert abs(section.page_width - width) < 400 and abs(section.page_height - height) < 400


def test_byte_identical_across_runs(
    results: dict[str, Any], pngs: dict[str, Path], tmp_path: Path
) -> None:
    a = write_manuscript(results, tmp_path / "a", pngs).read_bytes()
    b = write_manuscript(results, tmp_path / "b", pngs).read_bytes()
    assert a == b
    doc = Document(str(tmp_path / "a" / MANUSCRIPT_NAME))
    assert doc.core_properties.created is not None
    assert doc.core_properties.created.year == 2000
    assert doc.core_properties.modified.year == 2000


def test_no_configuration_code_in_the_prose(manuscript: Path) -> None:
    doc = Document(str(manuscript))
    prose = "\n".join(p.text for p in doc.paragraphs)
    assert codes_in(prose) == []


def test_no_configuration_code_in_the_tables(manuscript: Path) -> None:
    assert codes_in(docx_text(manuscript)) == []


def test_minimal_results_still_write(tmp_path: Path) -> None:
    path = write_manuscript({"schema_version": "1.0"}, tmp_path, {})
    doc = Document(str(path))
    assert doc.tables == [] and len(doc.inline_shapes) == 0
    assert any(p.text.startswith("Results: ") for p in doc.paragraphs)


def test_column_widths_wrap_text_not_numbers() -> None:
    from rechallenge.report.manuscript import CHAR_EMU, column_widths
    from rechallenge.tables.model import Table, data_row

    long_text = "An ICI rechallenge course after progression on the first PD-(L)1 course " * 2
    table = Table(
        id="t",
        title="t",
        columns=("Step", "Criterion", "Before", "Remaining"),
        rows=(data_row("1", long_text, "24", "23"),),
    )
    total = 16 * 360000  # 16 cm in EMU
    widths = column_widths(table, total)
    assert abs(sum(widths) - total) < len(widths)
    assert widths[1] == max(widths) and widths[1] < len(long_text) * CHAR_EMU
    assert widths[3] >= (len("Remaining") + 2) * CHAR_EMU  # the bold header fits on one line
