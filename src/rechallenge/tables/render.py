"""Render a :class:`~rechallenge.tables.model.Table` as HTML, DOCX, XLSX or CSV.

- HTML: every text escaped; a caption, a header with spanning headers, ``<tfoot>`` notes.
- DOCX (python-docx): an editable Word table in journal three-line style: a rule above the
  header, a rule under it (and short rules under spanning headers), a rule under the last
  row, no vertical lines; title above and footnotes below as paragraphs. Header rows repeat
  on every page, rows do not split across pages, the title stays with the table and a short
  table with its notes; A4 or Letter paper (``Table.page_size``) with 2.5 cm / 1 inch
  margins; column widths from the content, landscape when the columns do not fit upright.
- XLSX (openpyxl): title, headers (spanners merged), body, footnotes; numbers as numeric
  cells with the number format that shows them as the table does (p values, hazard ratios,
  counts), text always as string cells (never formulas); a second sheet, "data", holds the
  unrounded estimates (``Table.data``).
- CSV: one header line (spanner prefixed to each column name) and the body as displayed; no
  title or footnotes.

CSV and XLSX text cells starting with ``=``, ``+``, ``-`` (unless the text is a negative
number), ``@``, tab, carriage return or NUL are prefixed with ``'`` (OWASP "CSV injection",
CWE-1236) so spreadsheet programs do not run them as formulas; numeric cells are left as
numbers. :func:`neutralise_formulas` does the same for a data frame (the ADaM datasets).
Control characters that XML cannot hold are replaced by U+FFFD in DOCX and XLSX.

DOCX and XLSX files are zip packages whose entries and core properties carry timestamps;
both are fixed (:data:`FIXED_EPOCH`), so the same table gives the same bytes on every run.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pandas as pd
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_ALIGN_VERTICAL
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Emu, Inches, Mm, Pt
from markupsafe import Markup, escape
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side

from rechallenge.tables.model import Cell, DataSheet, PageSize, Row, Table

FORMULA_TRIGGERS: Final[tuple[str, ...]] = ("=", "+", "-", "@", "\t", "\r", "\0")
FIXED_EPOCH: Final[str] = "2000-01-01T00:00:00Z"
"""The creation and modification time written into every DOCX and XLSX package."""
_ZIP_TIME: Final[tuple[int, int, int, int, int, int]] = (2000, 1, 1, 0, 0, 0)
_NEGATIVE_NUMBER: Final[re.Pattern[str]] = re.compile(r"-(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
_CORE_TIMES: Final[re.Pattern[bytes]] = re.compile(
    rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)"
)
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
table.journal thead th { font-weight: 600; white-space: nowrap; vertical-align: bottom; }
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
    """Prefix ``'`` when ``text`` would start a spreadsheet formula.

    A leading ``-`` is left alone when the whole text is a number (``-2``, ``-45.2``): a
    negative number is data, not a formula.
    """
    if not text.startswith(FORMULA_TRIGGERS):
        return text
    if _NEGATIVE_NUMBER.fullmatch(text):
        return text
    return f"'{text}"


def _protect_value(value: Any) -> Any:
    return protect_formula(value) if isinstance(value, str) else value


def _needs_protection(column: pd.Series) -> bool:
    """Whether `protect_formula` would prefix any text value of `column`.

    Checked once per distinct value: a dataset column of 10^5 rows usually holds a few
    distinct texts, none a formula, and is then kept as it is instead of mapped cell by cell.
    """
    present = column.dropna()
    try:
        values: Iterable[Any] = present.unique()
    except TypeError:  # unhashable cells (lists, dicts): look at each
        values = present
    return any(isinstance(v, str) and protect_formula(v) != v for v in values)


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and column names) cannot run as formulas.

    Every string value that :func:`protect_formula` would prefix is prefixed; numeric,
    boolean and datetime columns, missing values and non-string objects are unchanged, and
    each column keeps its dtype. Call it on any data frame written to CSV or XLSX.
    """
    out = frame.copy()
    for i in range(out.shape[1]):  # by position: column names may repeat
        column = out.iloc[:, i]
        if (
            pd.api.types.is_numeric_dtype(column)
            or pd.api.types.is_bool_dtype(column)
            or pd.api.types.is_datetime64_any_dtype(column)
        ):
            continue
        categories = (
            [_protect_value(c) for c in column.cat.categories]
            if isinstance(column.dtype, pd.CategoricalDtype)
            else None
        )
        if categories is not None and len(set(categories)) == len(categories):
            out.isetitem(i, column.cat.rename_categories(categories))
        elif categories is not None:  # "=x" and "'=x" both present: plain values instead
            out.isetitem(i, column.astype(object).map(_protect_value, na_action="ignore"))
        elif _needs_protection(column):
            out.isetitem(i, column.map(_protect_value, na_action="ignore").astype(column.dtype))
    out.columns = pd.Index([_protect_value(c) for c in out.columns])
    return out


def fix_zip_timestamps(package: bytes) -> bytes:
    """The zip ``package`` (DOCX, XLSX) with fixed entry times and core-property dates.

    Entries keep their order, names and contents; each entry's time becomes 2000-01-01
    00:00 and ``dcterms:created`` / ``dcterms:modified`` in ``docProps/core.xml`` become
    :data:`FIXED_EPOCH`, so identical content gives identical bytes.
    """
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(package)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _CORE_TIMES.sub(rb"\g<1>" + FIXED_EPOCH.encode() + rb"\g<3>", data)
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, data)
    return out.getvalue()


def _save_package(save: Any, path: Path) -> Path:
    """Call ``save(buffer)`` then write the buffer's bytes, timestamps fixed, to ``path``."""
    buffer = io.BytesIO()
    save(buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(fix_zip_timestamps(buffer.getvalue()))
    return path


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


@dataclass(frozen=True)
class WordTableStyle:
    """How a Word table is written: the table files and the manuscript differ only here.

    The defaults are the table files' (`to_docx`); the manuscript passes its own style so one
    writer serves both and each keeps the XML it always had.
    """

    space_before: float | None = 1.5
    """Points above each cell paragraph (None: not set)."""
    space_after: float = 1.5
    """Points below each cell paragraph."""
    nobreak_headers: bool = True
    """Header texts keep ``(n = 13)`` on one line (`nobreak`)."""
    header_bottom: bool = True
    """Header cells are aligned to their bottom edge."""
    replace_borders: bool = True
    """A border replaces one already on that edge (else it is added after it)."""
    flag_values: bool = True
    """Row flags other than the header flag carry ``w:val="true"``."""
    merge_groups: bool = True
    """Group rows are one cell spanning the table (else their first cell is bold)."""


TABLE_FILE_STYLE: Final[WordTableStyle] = WordTableStyle()


def set_border(cell: Any, edge: str, size_eighths: int, *, replace: bool = True) -> None:
    """Set one border of a Word table cell (``size_eighths`` in 1/8 pt)."""
    tc_pr = cell._tc.get_or_add_tcPr()
    borders = tc_pr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        tc_pr.append(borders)
    if replace:
        for old in borders.findall(qn(f"w:{edge}")):
            borders.remove(old)
    element = OxmlElement(f"w:{edge}")
    element.set(qn("w:val"), "single")
    element.set(qn("w:sz"), str(size_eighths))
    element.set(qn("w:space"), "0")
    element.set(qn("w:color"), "000000")
    borders.append(element)


def write_word_cell(
    cell: Any,
    text: str,
    *,
    bold: bool,
    indent: int,
    align_left: bool,
    style: WordTableStyle = TABLE_FILE_STYLE,
) -> None:
    """Text of one cell at 9 pt: bold or not, left or centred, indented by levels."""
    paragraph = cell.paragraphs[0]
    run = paragraph.add_run(xml_safe(text))
    run.bold = bold
    run.font.size = Pt(9)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT if align_left else WD_ALIGN_PARAGRAPH.CENTER
    if indent:
        paragraph.paragraph_format.left_indent = Pt(9 * indent)
    if style.space_before is not None:
        paragraph.paragraph_format.space_before = Pt(style.space_before)
    paragraph.paragraph_format.space_after = Pt(style.space_after)


def _row_property(row: Any, tag: str, *, value: bool = True) -> None:
    """Switch on a Word row property (``w:tblHeader``, ``w:cantSplit``)."""
    tr_pr = row._tr.get_or_add_trPr()
    element = OxmlElement(f"w:{tag}")
    if value:
        element.set(qn("w:val"), "true")
    tr_pr.append(element)


PAGES: Final[dict[str, tuple[Any, Any, Any]]] = {
    "A4": (Mm(210), Mm(297), Cm(2.5)),
    "Letter": (Inches(8.5), Inches(11), Inches(1)),
}


def _page_setup(doc: Any, page_size: PageSize, landscape: bool) -> None:
    """Paper size, orientation and margins of the document's only section."""
    width, height, margin = PAGES.get(page_size, PAGES["A4"])
    section = doc.sections[0]
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        width, height = height, width
    section.page_width, section.page_height = width, height
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, margin)


_N_EQUALS: Final[re.Pattern[str]] = re.compile(r"\((n|N) = (\d+)\)")


def nobreak(text: str) -> str:
    """``(n = 13)`` with no-break spaces, so a header never wraps inside it (DOCX)."""
    return _N_EQUALS.sub("(\\1\u00a0=\u00a0\\2)", text)


def _text_width(texts: Iterable[str]) -> int:
    """Characters a column needs: its longest text, headers by their longest word."""
    return max((len(t) for t in texts), default=1)


def column_weights(table: Table) -> list[float]:
    """Relative column widths from the texts they hold (the first column takes indents).

    Body cells count in full; header and spanner texts count by their longest word, since
    headers may wrap; group rows span the table and do not count.
    """
    weights: list[float] = []
    for j, name in enumerate(table.columns):
        body = [
            r.cells[j].text + " " * (3 * r.indent if j == 0 else 0)
            for r in table.rows
            if r.kind == "data"
        ]
        heads = [name, *(sp.label for sp in table.spanners if sp.start <= j < sp.end)]
        words = [w for text in heads for w in nobreak(text).split(" ")]
        half = max((len(t) + 1) // 2 for t in heads)  # a header wraps to two lines at most
        need = max(_text_width(body), _text_width(words), half)
        weights.append(float(min(max(need, 4), 48 if j == 0 else 24)))
    return weights


CHAR_PT: Final[float] = 5.0
"""Average width of a 9 pt character, in points (serif and sans faces are 4.3–5.2)."""
CELL_PAD_PT: Final[float] = 12.0
"""Left plus right cell margins of a Word table (0.08 inch each), with a little air."""
KEEP_TOGETHER_ROWS: Final[int] = 30
"""Tables up to this many rows are kept on one page when they fit."""


def needed_width_pt(table: Table) -> list[float]:
    """Width each column needs to show its texts without wrapping (points)."""
    return [w * CHAR_PT + CELL_PAD_PT for w in column_weights(table)]


def _usable_pt(page_size: PageSize, landscape: bool) -> float:
    width, height, margin = PAGES.get(page_size, PAGES["A4"])
    return float(((height if landscape else width) - 2 * margin) / 12700)  # EMU per point


def is_landscape(table: Table) -> bool:
    """Landscape when the columns need more than a portrait text block holds."""
    return sum(needed_width_pt(table)) > _usable_pt(table.page_size, landscape=False)


def _column_widths(grid: Any, table: Table, section: Any) -> None:
    """Fixed column widths filling the text block, in proportion to what each needs."""
    usable = section.page_width - section.left_margin - section.right_margin
    need = needed_width_pt(table)
    total = sum(need)
    widths = [Emu(int(usable * w / total)) for w in need]
    grid.autofit = False
    for j, w in enumerate(widths):
        grid.columns[j].width = w
        for cell in grid.columns[j].cells:
            cell.width = w


def _keep_with_next(row: Any) -> None:
    for cell in row.cells:
        for paragraph in cell.paragraphs:
            paragraph.paragraph_format.keep_with_next = True


DOCX_FONT: Final[str] = "Times New Roman"


def _normal_style(doc: Any) -> None:
    """One serif face at 9 pt, single-spaced, no space after paragraphs.

    A named face that has every glyph the tables use (—, †, ≤, ≥, –) keeps row heights even;
    the template's default face is replaced by fallbacks for some of them.
    """
    normal = doc.styles["Normal"]
    normal.font.name = DOCX_FONT
    normal.font.size = Pt(9)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.line_spacing = 1.0
    r_fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        r_fonts.set(qn(attr), DOCX_FONT)


class GridCells:
    """Cell lookup on a python-docx table that walks its layout grid once, not per cell.

    ``docx.table.Table.cell`` rebuilds the list of every cell of the table on each call, so
    filling a table cell by cell is quadratic in its size (most of the write stage on long
    tables). The list is kept here and rebuilt only after `merge`, the one operation that
    changes the layout; the cells are the same XML elements ``Table.cell`` returns.
    """

    def __init__(self, grid: Any) -> None:
        self._grid = grid
        self._width: int = grid._column_count
        self._cells: list[Any] | None = None

    @property
    def grid(self) -> Any:
        """The python-docx table the cells belong to."""
        return self._grid

    def cell(self, row: int, column: int) -> Any:
        """The cell at (`row`, `column`) of the layout grid, as ``Table.cell`` gives it."""
        if self._cells is None:
            self._cells = self._grid._cells
        return self._cells[column + row * self._width]

    def merge(self, first: tuple[int, int], last: tuple[int, int]) -> Any:
        """Merge the cells from `first` to `last` (row, column); returns the merged cell."""
        merged = self.cell(*first).merge(self.cell(*last))
        self._cells = None
        return merged


def word_header(cells: GridCells, table: Table, style: WordTableStyle = TABLE_FILE_STYLE) -> int:
    """Write the header lines (spanners merged, then column names); return their row count."""

    def text(label: str) -> str:
        return nobreak(label) if style.nobreak_headers else label

    replace = style.replace_borders
    r = 0
    if table.spanners:
        for sp in table.spanners:
            merged = cells.merge((0, sp.start), (0, sp.end - 1))
            write_word_cell(
                merged,
                text(sp.label),
                bold=True,
                indent=0,
                align_left=False,
                style=style,
            )
            for j in range(sp.start, sp.end):
                set_border(cells.cell(0, j), "bottom", 4, replace=replace)
        r = 1
    for j, name in enumerate(table.columns):
        left = table.alignment(j) == "left"
        write_word_cell(
            cells.cell(r, j),
            text(name),
            bold=True,
            indent=0,
            align_left=left,
            style=style,
        )
    for j in range(len(table.columns)):
        set_border(cells.cell(0, j), "top", 12, replace=replace)
        set_border(cells.cell(r, j), "bottom", 8, replace=replace)
    for k in range(r + 1):
        _row_property(cells.grid.rows[k], "tblHeader")
        if style.header_bottom:
            for cell in cells.grid.rows[k].cells:
                cell.vertical_alignment = WD_ALIGN_VERTICAL.BOTTOM
    return r + 1


def fill_word_table(grid: Any, table: Table, style: WordTableStyle = TABLE_FILE_STYLE) -> None:
    """Write a three-line table into `grid` (header rows plus one row per body row).

    The grid must have ``len(table.rows)`` rows after the header (two header rows with
    spanners, else one) and its column widths set; rows never split across pages.
    """
    cells = GridCells(grid)
    first = word_header(cells, table, style)
    width = len(table.columns)
    for i, row in enumerate(table.rows):
        _row_property(grid.rows[first + i], "cantSplit", value=style.flag_values)
        if row.kind == "group" and style.merge_groups:  # the heading spans the table
            merged = cells.merge((first + i, 0), (first + i, width - 1))
            write_word_cell(
                merged,
                row.cells[0].text,
                bold=True,
                indent=0,
                align_left=True,
                style=style,
            )
            continue
        for j, cell in enumerate(row.cells):
            write_word_cell(
                cells.cell(first + i, j),
                cell.text,
                bold=row.kind == "group" and j == 0,
                indent=row.indent if j == 0 else 0,
                align_left=table.alignment(j) == "left",
                style=style,
            )
    if table.rows:
        for j in range(width):
            set_border(
                cells.cell(first + len(table.rows) - 1, j),
                "bottom",
                12,
                replace=style.replace_borders,
            )


def to_docx(table: Table, path: Path) -> Path:
    """Write the table as an editable Word document in three-line style."""
    doc = Document()
    _normal_style(doc)
    _page_setup(doc, table.page_size, landscape=is_landscape(table))
    doc.core_properties.title = xml_safe(table.title)
    doc.core_properties.author = "rechallenge"
    doc.core_properties.last_modified_by = "rechallenge"
    doc.core_properties.revision = 1
    title = doc.add_paragraph()
    title.paragraph_format.keep_with_next = True
    title.paragraph_format.space_after = Pt(4)
    title_run = title.add_run(xml_safe(table.title))
    title_run.bold = True
    title_run.font.size = Pt(10)
    width = len(table.columns)
    n_head = 2 if table.spanners else 1
    grid = doc.add_table(rows=n_head + len(table.rows), cols=width)
    _column_widths(grid, table, doc.sections[0])
    fill_word_table(grid, table)
    # short tables stay on one page; a long one keeps at least its last row with the notes
    together = grid.rows if len(table.rows) <= KEEP_TOGETHER_ROWS else grid.rows[-1:]
    for grid_row in together if table.footnotes else together[:-1]:
        _keep_with_next(grid_row)
    for k, note in enumerate(table.footnotes):
        para = doc.add_paragraph()
        note_run = para.add_run(xml_safe(note))
        note_run.font.size = Pt(8)
        para.paragraph_format.space_before = Pt(2 if k == 0 else 0)
        para.paragraph_format.keep_with_next = k < len(table.footnotes) - 1
    return _save_package(doc.save, path)


# --- XLSX ----------------------------------------------------------------------------------

THICK: Final[Side] = Side(style="medium", color="000000")
THIN: Final[Side] = Side(style="thin", color="000000")


def _put(ws: Any, row: int, col: int, cell: Cell | str, **style: Any) -> None:
    """Write one value: numbers as numbers (with their format), text as a protected string."""
    target = ws.cell(row=row, column=col)
    if isinstance(cell, Cell) and cell.value is not None:
        target.value = cell.value
        if cell.number_format:
            target.number_format = cell.number_format
    else:
        text = cell.text if isinstance(cell, Cell) else cell
        target.value = xml_safe(protect_formula(text))
        target.data_type = "s"
    for key, value in style.items():
        setattr(target, key, value)


def _sheet_title(table: Table) -> str:
    return "".join(ch for ch in table.id if ch not in "[]:*?/\\")[:31] or "table"


DATA_SHEET: Final[str] = "data"


def numeric_data(table: Table) -> DataSheet:
    """The fallback data sheet: each numeric cell with its row and column labels."""
    rows: list[tuple[Any, ...]] = []
    for row in table.rows:
        for j, cell in enumerate(row.cells):
            if cell.value is not None:
                rows.append((row.cells[0].text, table.flat_columns()[j], cell.value))
    return DataSheet(columns=("Row", "Column", "Value"), rows=tuple(rows))


def _data_value(value: Any) -> Cell | str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return Cell(str(value), value, "0" if isinstance(value, int) else None)
    return str(value)


def _write_data_sheet(wb: Any, table: Table) -> None:
    """The "data" sheet: unrounded estimates, one header line, values as numbers."""
    data = table.data if table.data is not None else numeric_data(table)
    ws = wb.create_sheet(DATA_SHEET)
    for j, name in enumerate(data.columns, start=1):
        _put(ws, 1, j, name, font=Font(bold=True))
    for i, values in enumerate(data.rows, start=2):
        for j, value in enumerate(values, start=1):
            _put(ws, i, j, _data_value(value))
    for j, name in enumerate(data.columns, start=1):
        longest = max([len(name)] + [len(str(v)) for row in data.rows for v in row[j - 1 : j]])
        ws.column_dimensions[ws.cell(row=1, column=j).column_letter].width = min(50, longest + 2)
    ws.freeze_panes = "A2"


def to_xlsx(table: Table, path: Path) -> Path:
    """Write the table (first sheet) and its unrounded estimates ("data" sheet)."""
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
        min(
            60,
            max(
                (len(row.cells[0].text) + 2 * row.indent for row in table.rows),
                default=14,
            ),
        ),
    )
    for j in range(2, width + 1):
        longest = max(
            len(c) for c in [table.columns[j - 1]] + [r.cells[j - 1].text for r in table.rows]
        )
        ws.column_dimensions[ws.cell(row=1, column=j).column_letter].width = min(30, longest + 3)
    _write_data_sheet(wb, table)
    wb.properties.creator = "rechallenge"
    wb.properties.title = xml_safe(table.title)
    return _save_package(wb.save, path)


# --- CSV -----------------------------------------------------------------------------------


def csv_rows(table: Table) -> list[list[str]]:
    """Header line then body lines as written to CSV: cells as displayed, text protected.

    A numeric cell is written as the table shows it (``0.011``, ``<0.001``, ``13``), never
    prefixed; a text cell is protected against formula injection.
    """
    lines = [[protect_formula(c) for c in table.flat_columns()]]
    for row in table.rows:
        lines.append(
            [c.text if c.value is not None else protect_formula(c.text) for c in row.cells]
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
