"""Render a :class:`~rechallenge.tables.model.Table` as HTML, DOCX, XLSX or CSV.

- HTML: every text escaped; a caption, a header with spanning headers, ``<tfoot>`` notes.
- DOCX (python-docx): an editable Word table in journal three-line style: a rule above the
  header, a rule under it (and short rules under spanning headers), a rule under the last
  row, no vertical lines; title above and footnotes below as paragraphs.
- XLSX (openpyxl): title, headers (spanners merged), body, footnotes; numbers as numbers,
  text always as string cells (never formulas).
- CSV: one header line (spanner prefixed to each column name) and the body; no title or
  footnotes.

CSV and XLSX text cells starting with ``=``, ``+``, ``-``, ``@``, tab, carriage return or NUL
are prefixed with ``'`` (OWASP ASVS V1.2.10, CWE-1236) so spreadsheet programs do not run
them as formulas; numeric cells are left as numbers. Control characters that XML cannot hold
are replaced by U+FFFD in DOCX and XLSX.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt
from markupsafe import Markup, escape
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side

from rechallenge.tables.model import Cell, Row, Table

FORMULA_TRIGGERS: Final[tuple[str, ...]] = ("=", "+", "-", "@", "\t", "\r", "\0")
FORMATS: Final[tuple[str, ...]] = ("html", "docx", "xlsx", "csv")
TABLE_CSS: Final[str] = """
table.journal { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.92em; }
table.journal caption { caption-side: top; text-align: left; font-weight: 600;
  padding-bottom: 0.4em; }
table.journal thead tr:first-child th { border-top: 1.5px solid #000; }
table.journal thead tr:last-child th { border-bottom: 1px solid #000; }
table.journal th.spanner { border-bottom: 0.75px solid #000; }
table.journal tbody tr:last-child > * { border-bottom: 1.5px solid #000; }
table.journal th, table.journal td { padding: 0.25em 0.7em; text-align: center;
  vertical-align: top; }
table.journal th[scope="row"], table.journal th[scope="rowgroup"],
table.journal thead th:first-child { text-align: left; font-weight: normal; }
table.journal thead th { font-weight: 600; white-space: nowrap; }
table.journal tr.group th { font-weight: 600; }
table.journal td.left, table.journal th.left { text-align: left; }
table.journal th.center { text-align: center; }
table.journal .indent-1 { padding-left: 1.7em; }
table.journal .indent-2 { padding-left: 2.7em; }
table.journal tfoot td { text-align: left; font-size: 0.88em; padding-top: 0.4em;
  border: none; }
table.journal tfoot p { margin: 0.1em 0; }
"""


_XML_ILLEGAL: Final[re.Pattern[str]] = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xml_safe(text: str) -> str:
    """Replace control characters that XML (DOCX, XLSX) cannot hold by U+FFFD."""
    return _XML_ILLEGAL.sub("\ufffd", text)


def protect_formula(text: str) -> str:
    """Prefix ``'`` when ``text`` would start a spreadsheet formula."""
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


# --- HTML ----------------------------------------------------------------------------------


def _spanner_cells(table: Table) -> Iterable[tuple[str, int]]:
    """(label, colspan) runs across the spanner line; label "" for unspanned columns."""
    j, width = 0, len(table.columns)
    starts = {sp.start: sp for sp in table.spanners}
    while j < width:
        if j in starts:
            sp = starts[j]
            yield sp.label, sp.end - sp.start
            j = sp.end
        else:
            yield "", 1
            j += 1


def _html_row(row: Row, table: Table) -> str:
    width = len(table.columns)
    if row.kind == "group":
        label = escape(row.cells[0].text)
        return f'<tr class="group"><th scope="rowgroup" colspan="{width}">{label}</th></tr>'
    first, *rest = row.cells
    classes = [f"indent-{min(row.indent, 2)}"] if row.indent else []
    if table.alignment(0) == "center":
        classes.append("center")
    cls = f' class="{" ".join(classes)}"' if classes else ""
    td_left = '<td class="left">'
    cells = "".join(
        f"{td_left if table.alignment(j) == 'left' else '<td>'}{escape(c.text)}</td>"
        for j, c in enumerate(rest, start=1)
    )
    return f'<tr><th scope="row"{cls}>{escape(first.text)}</th>{cells}</tr>'


def to_html(table: Table) -> Markup:
    """The table as an escaped HTML ``<table>`` element."""
    width = len(table.columns)
    head: list[str] = []
    if table.spanners:
        cells = "".join(
            f'<th colspan="{span}" class="spanner" scope="colgroup">{escape(label)}</th>'
            if label
            else "<th></th>"
            for label, span in _spanner_cells(table)
        )
        head.append(f"<tr>{cells}</tr>")
    head.append("<tr>" + "".join(f'<th scope="col">{escape(c)}</th>' for c in table.columns))
    head[-1] += "</tr>"
    body = "\n".join(_html_row(r, table) for r in table.rows)
    notes = "".join(f"<p>{escape(n)}</p>" for n in table.footnotes)
    foot = f'<tfoot><tr><td colspan="{width}">{notes}</td></tr></tfoot>' if notes else ""
    return Markup(
        f'<table class="journal" id="{escape(table.id)}">\n'
        f"<caption>{escape(table.title)}</caption>\n"
        f"<thead>{''.join(head)}</thead>\n<tbody>\n{body}\n</tbody>\n{foot}</table>"
    )


def to_html_document(table: Table) -> str:
    """A standalone HTML page holding only the table (inline CSS, no external resources)."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(table.title)}</title><style>{TABLE_CSS}</style></head>"
        f"<body>{to_html(table)}</body></html>\n"
    )


# --- DOCX ----------------------------------------------------------------------------------


def _set_border(cell: Any, edge: str, size_eighths: int) -> None:
    """Set one border of a Word table cell (``size_eighths`` in 1/8 pt)."""
    tc_pr = cell._tc.get_or_add_tcPr()
    borders = tc_pr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        tc_pr.append(borders)
    element = OxmlElement(f"w:{edge}")
    element.set(qn("w:val"), "single")
    element.set(qn("w:sz"), str(size_eighths))
    element.set(qn("w:space"), "0")
    element.set(qn("w:color"), "000000")
    borders.append(element)


def _write_docx_cell(cell: Any, text: str, *, bold: bool, indent: int, align_left: bool) -> None:
    paragraph = cell.paragraphs[0]
    run = paragraph.add_run(xml_safe(text))
    run.bold = bold
    run.font.size = Pt(9)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT if align_left else WD_ALIGN_PARAGRAPH.CENTER
    if indent:
        paragraph.paragraph_format.left_indent = Pt(9 * indent)
    paragraph.paragraph_format.space_after = Pt(0)


def _docx_header(grid: Any, table: Table) -> int:
    """Write the header lines; return how many rows they took."""
    r = 0
    if table.spanners:
        for sp in table.spanners:
            merged = grid.cell(0, sp.start).merge(grid.cell(0, sp.end - 1))
            _write_docx_cell(merged, sp.label, bold=True, indent=0, align_left=False)
            for j in range(sp.start, sp.end):
                _set_border(grid.cell(0, j), "bottom", 4)
        r = 1
    for j, name in enumerate(table.columns):
        left = table.alignment(j) == "left"
        _write_docx_cell(grid.cell(r, j), name, bold=True, indent=0, align_left=left)
    for j in range(len(table.columns)):
        _set_border(grid.cell(0, j), "top", 12)
        _set_border(grid.cell(r, j), "bottom", 8)
    return r + 1


def to_docx(table: Table, path: Path) -> Path:
    """Write the table as an editable Word document in three-line style."""
    doc = Document()
    title = doc.add_paragraph()
    title_run = title.add_run(xml_safe(table.title))
    title_run.bold = True
    title_run.font.size = Pt(10)
    width = len(table.columns)
    n_head = 2 if table.spanners else 1
    grid = doc.add_table(rows=n_head + len(table.rows), cols=width)
    first_body = _docx_header(grid, table)
    for i, row in enumerate(table.rows):
        for j, cell in enumerate(row.cells):
            _write_docx_cell(
                grid.cell(first_body + i, j),
                cell.text,
                bold=row.kind == "group" and j == 0,
                indent=row.indent if j == 0 else 0,
                align_left=table.alignment(j) == "left",
            )
    if table.rows:
        for j in range(width):
            _set_border(grid.cell(first_body + len(table.rows) - 1, j), "bottom", 12)
    for note in table.footnotes:
        para = doc.add_paragraph()
        note_run = para.add_run(xml_safe(note))
        note_run.font.size = Pt(8)
        para.paragraph_format.space_after = Pt(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


# --- XLSX ----------------------------------------------------------------------------------

THICK: Final[Side] = Side(style="medium", color="000000")
THIN: Final[Side] = Side(style="thin", color="000000")


def _put(ws: Any, row: int, col: int, cell: Cell | str, **style: Any) -> None:
    """Write one value: numbers as numbers, text as a protected string cell."""
    target = ws.cell(row=row, column=col)
    if isinstance(cell, Cell) and cell.value is not None:
        target.value = cell.value
    else:
        text = cell.text if isinstance(cell, Cell) else cell
        target.value = xml_safe(protect_formula(text))
        target.data_type = "s"
    for key, value in style.items():
        setattr(target, key, value)


def _sheet_title(table: Table) -> str:
    return "".join(ch for ch in table.id if ch not in "[]:*?/\\")[:31] or "table"


def to_xlsx(table: Table, path: Path) -> Path:
    """Write the table to a one-sheet workbook."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _sheet_title(table)
    width = len(table.columns)
    _put(ws, 1, 1, table.title, font=Font(bold=True))
    r = 2
    if table.spanners:
        for sp in table.spanners:
            _put(
                ws,
                r,
                sp.start + 1,
                sp.label,
                font=Font(bold=True),
                alignment=Alignment(horizontal="center"),
            )
            if sp.end - sp.start > 1:
                ws.merge_cells(start_row=r, start_column=sp.start + 1, end_row=r, end_column=sp.end)
        r += 1
    for j, name in enumerate(table.columns, start=1):
        _put(ws, r, j, name, font=Font(bold=True))
    for j in range(1, width + 1):
        if r > 2:
            spanned = any(sp.start < j <= sp.end for sp in table.spanners)
            ws.cell(row=2, column=j).border = Border(top=THICK, bottom=THIN if spanned else None)
        ws.cell(row=r, column=j).border = Border(top=THICK if r == 2 else None, bottom=THIN)
    for i, row in enumerate(table.rows, start=r + 1):
        for j, cell in enumerate(row.cells, start=1):
            _put(
                ws,
                i,
                j,
                cell,
                font=Font(bold=row.kind == "group"),
                alignment=Alignment(indent=row.indent if j == 1 else 0),
            )
    last = r + len(table.rows)
    if table.rows:
        for j in range(1, width + 1):
            ws.cell(row=last, column=j).border = Border(bottom=THICK)
    for k, note in enumerate(table.footnotes, start=last + 2):
        _put(ws, k, 1, note, font=Font(size=9))
    ws.column_dimensions["A"].width = max(
        14,
        min(60, max((len(row.cells[0].text) + 2 * row.indent for row in table.rows), default=14)),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(str(path))
    return path


# --- CSV -----------------------------------------------------------------------------------


def csv_rows(table: Table) -> list[list[str | int | float]]:
    """Header line then body lines as written to CSV (numbers raw, text protected)."""
    lines: list[list[str | int | float]] = [[protect_formula(c) for c in table.flat_columns()]]
    for row in table.rows:
        lines.append(
            [c.value if c.value is not None else protect_formula(c.text) for c in row.cells]
        )
    return lines


def to_csv(table: Table, path: Path) -> Path:
    """Write header and body as UTF-8 CSV (with a byte-order mark, for spreadsheets)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh).writerows(csv_rows(table))
    return path


# --- All -----------------------------------------------------------------------------------


def write_table(table: Table, out_dir: Path, formats: Sequence[str] = FORMATS) -> list[Path]:
    """Write ``out_dir/<table.id>.<fmt>`` for each format; return the paths."""
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown table format(s) {sorted(unknown)}; choose from {FORMATS}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for fmt in formats:
        path = out_dir / f"{table.id}.{fmt}"
        if fmt == "html":
            path.write_text(to_html_document(table), encoding="utf-8")
        elif fmt == "docx":
            to_docx(table, path)
        elif fmt == "xlsx":
            to_xlsx(table, path)
        else:
            to_csv(table, path)
        paths.append(path)
    return paths
