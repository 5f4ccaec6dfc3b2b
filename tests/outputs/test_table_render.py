"""Renderers: HTML escaping, DOCX/XLSX/CSV round trips, formula-injection protection."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook

from rechallenge.tables.model import Cell, Row, Spanner, Table, data_row, group_row
from rechallenge.tables.render import (
    csv_rows,
    protect_formula,
    to_csv,
    to_docx,
    to_html,
    to_xlsx,
    write_table,
)
from rechallenge.tables.study import build_tables

HOSTILE = (
    '=HYPERLINK("http://x","y")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\tindent",
    "\rreturn",
    "\0nul",
)


def _hostile_table() -> Table:
    rows = [data_row(text, Cell.number(-45.2, 1), 7) for text in HOSTILE]
    rows.append(data_row("plain – text", Cell("-12 (text)"), None))
    return Table(
        id="hostile",
        title="=cmd|' /C calc'!A0",
        columns=("@label", "value", "n"),
        rows=tuple(rows),
        footnotes=("-note",),
    )


def _tables(results: dict[str, Any]) -> list[Table]:
    return list(build_tables(results).values())


# --- formula injection -------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_protect_formula_prefixes_triggers(text: str) -> None:
    assert protect_formula(text) == "'" + text


@pytest.mark.parametrize("text", ["Fatigue", "6 (46.2)", "≥ 1 lesion", "'quoted", ""])
def test_protect_formula_leaves_other_text(text: str) -> None:
    assert protect_formula(text) == text


def test_csv_formula_injection(tmp_path: Path) -> None:
    path = to_csv(_hostile_table(), tmp_path / "h.csv")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.reader(fh))
    assert lines[0][0] == "'@label"
    for line, text in zip(lines[1:], HOSTILE, strict=False):
        assert line[0] == "'" + text
        assert line[1] == "-45.2"  # a true number stays a number
    assert lines[-1] == ["plain – text", "'-12 (text)", ""]


def test_xlsx_formula_injection(tmp_path: Path) -> None:
    path = to_xlsx(_hostile_table(), tmp_path / "h.xlsx")
    ws = load_workbook(path).active
    assert ws is not None
    assert ws["A1"].value == "'=cmd|' /C calc'!A0" and ws["A1"].data_type == "s"
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
            if isinstance(cell.value, str):
                assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r", "\0"))
    assert ws["B3"].value == -45.2 and ws["B3"].data_type == "n"
    assert ws["A9"].value == "'\ufffdnul"  # NUL cannot be stored in XML


# --- HTML --------------------------------------------------------------------------------


def test_html_escapes_every_text() -> None:
    table = Table(
        id='x"><script>',
        title="<b>title</b>",
        columns=("<i>c</i>", "d"),
        rows=(data_row("<script>alert(1)</script>", "a & b"),),
        spanners=(Spanner("<span>", 1, 2),),
        footnotes=("<img src=x onerror=alert(1)>",),
    )
    html = str(to_html(table))
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "a &amp; b" in html


def test_html_structure(results: dict[str, Any]) -> None:
    table = build_tables(results)["table4_adverse_events"]
    html = str(to_html(table))
    assert html.count('class="spanner"') == 2
    assert "<tfoot>" in html and "<caption>" in html
    assert html.count("<tr>") == 2 + len(table.rows) + 1  # headers, body, footnotes


# --- DOCX --------------------------------------------------------------------------------


def _docx_grid(path: Path) -> tuple[list[list[str]], list[str]]:
    doc = Document(str(path))
    # headers hold no-break spaces inside "(n = 13)"
    grid = [[c.text.replace("\u00a0", " ") for c in row.cells] for row in doc.tables[0].rows]
    paragraphs = [p.text for p in doc.paragraphs]
    return grid, paragraphs


@pytest.mark.parametrize("index", range(6))
def test_docx_round_trip(results: dict[str, Any], tmp_path: Path, index: int) -> None:
    table = _tables(results)[index]
    grid, paragraphs = _docx_grid(to_docx(table, tmp_path / "t.docx"))
    # a group heading is one cell merged across the row, so every grid column reads it
    body = [[r.texts[0]] * len(r.texts) if r.kind == "group" else list(r.texts) for r in table.rows]
    assert grid == table.header_rows() + body
    assert paragraphs[0] == table.title
    assert paragraphs[1:] == list(table.footnotes)


def test_docx_is_three_line_without_vertical_rules(results: dict[str, Any], tmp_path: Path) -> None:
    table = build_tables(results)["table2_efficacy"]
    doc = Document(str(to_docx(table, tmp_path / "t.docx")))
    xml = doc.tables[0]._tbl.xml
    assert "w:left " not in xml and "w:right " not in xml and "w:insideV" not in xml
    rows = doc.tables[0].rows

    def edges(row_index: int) -> set[str]:
        tc = rows[row_index].cells[1]._tc
        borders = tc.tcPr.find(qn("w:tcBorders"))
        return set() if borders is None else {el.tag.split("}")[1] for el in borders}

    assert edges(0) == {"top", "bottom"}
    assert edges(1) == set()
    assert edges(len(rows) - 1) == {"bottom"}


def test_docx_group_rows_bold_and_indent(tmp_path: Path) -> None:
    table = Table(
        id="g",
        title="G",
        columns=("a", "b"),
        rows=(group_row("Group", 2), Row((Cell("child"), Cell("1")), indent=1)),
    )
    doc = Document(str(to_docx(table, tmp_path / "g.docx")))
    cells = doc.tables[0].rows
    assert cells[1].cells[0].paragraphs[0].runs[0].bold is True
    assert cells[2].cells[0].paragraphs[0].paragraph_format.left_indent is not None


# --- XLSX and CSV ------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(6))
def test_xlsx_round_trip(results: dict[str, Any], tmp_path: Path, index: int) -> None:
    table = _tables(results)[index]
    ws = load_workbook(to_xlsx(table, tmp_path / "t.xlsx")).active
    assert ws is not None
    values = [[c.value for c in row] for row in ws.iter_rows()]
    width = len(table.columns)
    assert values[0][0] == table.title
    r = 1
    if table.spanners:
        top = values[1][:width]
        for sp in table.spanners:
            assert top[sp.start] == sp.label
            assert all(v is None for v in top[sp.start + 1 : sp.end])
        r = 2
    assert values[r][:width] == list(table.columns)
    for row, got in zip(table.rows, values[r + 1 :], strict=False):
        expected = [
            c.value if c.value is not None else protect_formula(c.text) or None for c in row.cells
        ]
        assert got[:width] == expected
    notes = [v[0] for v in values[r + 2 + len(table.rows) :]]
    assert notes == list(table.footnotes)


@pytest.mark.parametrize("index", range(6))
def test_csv_round_trip(results: dict[str, Any], tmp_path: Path, index: int) -> None:
    table = _tables(results)[index]
    with to_csv(table, tmp_path / "t.csv").open(encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.reader(fh))
    assert lines == [[str(v) for v in line] for line in csv_rows(table)]
    assert lines[0] == table.flat_columns()
    assert [line[0] for line in lines[1:]] == [r.texts[0] for r in table.rows]


def test_write_table_all_formats(results: dict[str, Any], tmp_path: Path) -> None:
    table = build_tables(results)["table2_efficacy"]
    paths = write_table(table, tmp_path)
    assert [p.suffix for p in paths] == [".html", ".docx", ".xlsx", ".csv"]
    assert all(p.stat().st_size > 0 for p in paths)
    html = paths[0].read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html
    with pytest.raises(ValueError, match="unknown table format"):
        write_table(table, tmp_path, formats=("pdf",))


def test_docx_survives_control_characters(tmp_path: Path) -> None:
    grid, _ = _docx_grid(to_docx(_hostile_table(), tmp_path / "h.docx"))
    assert grid[-2][0] == "\ufffdnul"  # DOCX is not a spreadsheet: no quote prefix
