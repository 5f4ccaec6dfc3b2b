"""Written table files: identical bytes on every run, Word page setup, spreadsheet numbers,
and no configuration code in any visible text."""

from __future__ import annotations

import csv
import re
import time
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm
from openpyxl import load_workbook

from rechallenge.tables.render import FIXED_EPOCH, to_docx, to_xlsx, write_table
from rechallenge.tables.study import build_tables

CODE = re.compile(r"[A-Za-z0-9]_[A-Za-z0-9]")


def _tables(results: dict[str, Any]) -> dict[str, Any]:
    return build_tables(results)


# --- byte-identical outputs --------------------------------------------------------------


def test_two_runs_give_identical_bytes(results: dict[str, Any], tmp_path: Path) -> None:
    first = {p.name: p.read_bytes() for t in _tables(results).values() for p in
             write_table(t, tmp_path / "a")}  # fmt: skip
    time.sleep(2.1)  # zip times have a 2-second resolution
    second = {p.name: p.read_bytes() for t in _tables(results).values() for p in
              write_table(t, tmp_path / "b")}  # fmt: skip
    assert first.keys() == second.keys()
    assert any(name.endswith(".docx") for name in first)
    for name in first:
        assert first[name] == second[name], name


@pytest.mark.parametrize("suffix", ["docx", "xlsx"])
def test_packages_carry_the_fixed_epoch(
    results: dict[str, Any], tmp_path: Path, suffix: str
) -> None:
    table = _tables(results)["table2_efficacy"]
    path = (to_docx if suffix == "docx" else to_xlsx)(table, tmp_path / f"t.{suffix}")
    with zipfile.ZipFile(path) as z:
        assert {i.date_time for i in z.infolist()} == {(2000, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    assert re.findall(r"<dcterms:created[^>]*>([^<]*)<", core) == [FIXED_EPOCH]
    assert re.findall(r"<dcterms:modified[^>]*>([^<]*)<", core) == [FIXED_EPOCH]


# --- DOCX --------------------------------------------------------------------------------


def test_docx_header_rows_repeat_and_rows_do_not_split(
    results: dict[str, Any], tmp_path: Path
) -> None:
    table = _tables(results)["table4_adverse_events"]  # two header lines (spanners)
    doc = Document(str(to_docx(table, tmp_path / "t.docx")))
    rows = doc.tables[0].rows

    def has(row: Any, tag: str) -> bool:
        tr_pr = row._tr.trPr
        return tr_pr is not None and tr_pr.find(qn(f"w:{tag}")) is not None

    assert [has(r, "tblHeader") for r in rows[:3]] == [True, True, False]
    assert all(has(r, "cantSplit") for r in rows[2:])
    assert doc.paragraphs[0].paragraph_format.keep_with_next is True


@pytest.mark.parametrize(
    ("size", "width_mm", "height_mm"), [("A4", 210, 297), ("Letter", 215.9, 279.4)]
)
def test_docx_page_size_from_configuration(
    results: dict[str, Any], tmp_path: Path, size: str, width_mm: float, height_mm: float
) -> None:
    results["manifest"]["config"]["output"] = {"page_size": size}
    table = _tables(results)["table2_efficacy"]
    section = Document(str(to_docx(table, tmp_path / "t.docx"))).sections[0]
    assert section.page_width == pytest.approx(Mm(width_mm), abs=Mm(0.1))
    assert section.page_height == pytest.approx(Mm(height_mm), abs=Mm(0.1))
    assert Mm(20) <= section.left_margin <= Mm(26)
    assert section.top_margin == section.left_margin


def test_wide_tables_print_landscape(results: dict[str, Any], tmp_path: Path) -> None:
    table = _tables(results)["table_cox_pfsr"]  # nine columns
    section = Document(str(to_docx(table, tmp_path / "t.docx"))).sections[0]
    assert section.page_width > section.page_height


# --- XLSX --------------------------------------------------------------------------------


def test_xlsx_numbers_are_numeric_cells(results: dict[str, Any], tmp_path: Path) -> None:
    table = _tables(results)["table_cox_pfsr"]
    ws = load_workbook(to_xlsx(table, tmp_path / "t.xlsx"))[table.id[:31]]
    cells = {(c.row, c.column): c for row in ws.iter_rows() for c in row}
    ecog2 = next(r for (r, col), c in cells.items() if col == 1 and c.value == "2")
    hr, ci, p = (cells[(ecog2, j)] for j in (4, 5, 6))
    assert hr.data_type == "n" and hr.value == pytest.approx(6.839) and hr.number_format == "0.00"
    assert ci.data_type == "s"
    assert p.data_type == "n" and p.value == pytest.approx(0.011)
    assert p.number_format == '[<0.001]"<0.001";0.000'
    n = cells[(ecog2 - 2, 2)]
    assert n.data_type == "n" and n.value == 13 and n.number_format == "0"


def test_xlsx_has_a_data_sheet(results: dict[str, Any], tmp_path: Path) -> None:
    for table in _tables(results).values():
        wb = load_workbook(to_xlsx(table, tmp_path / f"{table.id}.xlsx"))
        assert wb.sheetnames[1] == "data", table.id
        assert table.data is not None
        header = [c.value for c in next(wb["data"].iter_rows(max_row=1))]
        assert header == list(table.data.columns)
    cox = _tables(results)["table_cox_pfsr"]
    ws = load_workbook(to_xlsx(cox, tmp_path / "cox.xlsx"))["data"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    hr = values[0].index("HR")
    assert 6.839 in [v[hr] for v in values[1:]]  # unrounded, numeric


# --- no codes in visible text ------------------------------------------------------------


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _visible(path: Path) -> str:
    if path.suffix == ".html":
        parser = _Text()
        parser.feed(path.read_text(encoding="utf-8").split("</head>", 1)[1])
        return " ".join(parser.parts)
    if path.suffix == ".docx":
        doc = Document(str(path))
        cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
        return " ".join([p.text for p in doc.paragraphs] + cells)
    if path.suffix == ".xlsx":
        wb = load_workbook(path)
        return " ".join(
            str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value
        )
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return " ".join(" ".join(line) for line in csv.reader(fh))


def _contract_keys(results: dict[str, Any]) -> dict[str, Any]:
    """The fixture with schema 1.1 keys that carry codes a renderer must translate."""
    results["follow_up"] = {"endpoint": "OS", "method": "reverse_km", "n": 13,
                            "median_months": 10.31, "lower": 7.9, "upper": None}  # fmt: skip
    for r in results["cox"]["PFSR"]:
        if r["variable"] == "smoking":
            r["variable"] = "smoking_status"
            r["term"] = r["term"].replace("smoking", "smoking_status")
            r["label"] = "smoking_status: ever"
    results["cohort"]["attrition"][4]["criterion"] = "initial_stop_reason"
    results["cohort"]["attrition"][4]["description"] = "stopped for clinical_decision, irae"
    results["resistance"]["criteria"][1]["applied_as"] = "CR or PR by recist1.1"
    results["manifest"]["config"]["output"] = {"small_cell_threshold": 3}
    return results


@pytest.mark.parametrize("variant", ["fixture", "contract"])
def test_no_configuration_code_in_any_output(
    results: dict[str, Any], tmp_path: Path, variant: str
) -> None:
    if variant == "contract":
        results = _contract_keys(results)
    paths = [p for t in _tables(results).values() for p in write_table(t, tmp_path)]
    assert {p.suffix for p in paths} == {".html", ".docx", ".xlsx", ".csv"}
    for path in paths:
        text = _visible(path)
        assert text.strip(), path.name
        assert not CODE.findall(text), (path.name, CODE.findall(text)[:5])
        assert "setting '" not in text, path.name
        for code in (r"\brecist1\.1", r"\birae\b", r"\bper unit\b", r"(?i)smoking status"):
            assert not re.search(code, text), (path.name, code)  # "irAE" is a word, "irae" a code
