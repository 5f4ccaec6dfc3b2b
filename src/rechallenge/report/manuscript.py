"""``manuscript.docx``: the study as an editable Word manuscript.

Title, a structured abstract (Background and Conclusions are marked placeholders for the
authors; Methods and Results are filled from the numbers), Introduction and Discussion
placeholders, then Methods and Results with the same text as the HTML report
(:mod:`rechallenge.report.document` is the one source), every table as a native Word table
(header rows repeat across pages), every figure as an inline PNG picture, numbered in order
of placement and captioned, the reference list, and appendix tables (selection steps,
data completeness, data-quality warnings).

The page size follows ``output.page_size`` (A4 or Letter). The file is byte-identical for
identical results: core properties carry fixed timestamps (2000-01-01) and the package is
rewritten with fixed ZIP entry dates.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Inches, Length, Mm, Pt, RGBColor

from rechallenge.figures.render import FIGURES
from rechallenge.report.document import (
    Abstract,
    Block,
    FigureBlock,
    Heading,
    Paragraph,
    References,
    TableBlock,
    build_document,
    caption_of,
    page_size,
)
from rechallenge.tables.model import Table
from rechallenge.tables.render import WordTableStyle, fill_word_table, xml_safe

MANUSCRIPT_NAME: Final[str] = "manuscript.docx"
FIXED_TIME: Final[dt.datetime] = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
ZIP_TIME: Final[tuple[int, int, int, int, int, int]] = (2000, 1, 1, 0, 0, 0)
PLACEHOLDER_COLOUR: Final[RGBColor] = RGBColor(0x8A, 0x4B, 0x00)
INTRODUCTION: Final[str] = (
    "[To be written by the authors: background, the gap in knowledge and the aim of the study.]"
)
DISCUSSION: Final[str] = (
    "[To be written by the authors: principal findings, comparison with other studies, "
    "strengths and limitations, and implications.]"
)


def _page(doc: Any, size: str) -> None:
    """A4 (2.5 cm margins) or Letter (1 inch margins), portrait."""
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    margin: Length
    if size == "Letter":
        section.page_width, section.page_height = Inches(8.5), Inches(11)
        margin = Inches(1)
    else:
        section.page_width, section.page_height = Mm(210), Mm(297)
        margin = Cm(2.5)
    section.left_margin = section.right_margin = margin
    section.top_margin = section.bottom_margin = margin


def _text_width(doc: Any) -> Any:
    section = doc.sections[0]
    return section.page_width - section.left_margin - section.right_margin


def _styles(doc: Any) -> None:
    """Black headings and captions (the default template's are blue), 11 pt body text."""
    styles = doc.styles
    styles["Normal"].font.size = Pt(11)
    for name in ("Title", "Heading 1", "Heading 2", "Heading 3", "Caption"):
        font = styles[name].font
        font.color.rgb = RGBColor(0, 0, 0)
    caption = styles["Caption"].font
    caption.italic = False
    caption.bold = False
    caption.size = Pt(10)


#: Approximate width of one character of 9 pt table text, plus cell padding, in EMU.
CHAR_EMU: Final[int] = int(Pt(9) * 0.6)
CELL_PAD_CHARS: Final[int] = 3
WRAP_CHARS: Final[int] = 24


def column_widths(table: Table, total: int) -> list[int]:
    """Column widths (EMU) filling ``total``: each column as wide as its longest entry; the
    text columns (longer than ``WRAP_CHARS``) share what is left, so text wraps, not numbers."""
    need = []
    for j in range(len(table.columns)):
        cells = [len(row.cells[j].text) for row in table.rows if row.kind == "data"]
        words = [len(w) + 2 for w in table.columns[j].split()] or [1]  # headers are bold
        need.append(max([*cells, max(words), 4]) + CELL_PAD_CHARS)
    for sp in table.spanners:  # a spanning header needs room over its columns
        short = len(sp.label) + CELL_PAD_CHARS - sum(need[sp.start : sp.end])
        if short > 0:
            need[sp.end - 1] += short
    available = total // CHAR_EMU
    wrap = [j for j, n in enumerate(need) if n > WRAP_CHARS] or [need.index(max(need))]
    fixed = sum(n for j, n in enumerate(need) if j not in wrap)
    room = max(available - fixed, 14 * len(wrap))
    text = sum(need[j] for j in wrap)
    if text > room:
        for j in wrap:
            need[j] = max(14, need[j] * room // text)
    scale = total / (sum(need) * CHAR_EMU)  # fill the text width exactly
    return [int(c * scale * CHAR_EMU) for c in need]


def _fixed_properties(doc: Any, title: str) -> None:
    props = doc.core_properties
    props.title = title
    props.author = "rechallenge"
    props.last_modified_by = "rechallenge"
    props.created = FIXED_TIME
    props.modified = FIXED_TIME
    props.last_printed = FIXED_TIME
    props.revision = 1
    props.comments = ""


def _placeholder(paragraph: Any, text: str) -> None:
    run = paragraph.add_run(xml_safe(text))
    run.italic = True
    run.font.color.rgb = PLACEHOLDER_COLOUR


#: The manuscript's tables: 9 pt cells with no space around them, header texts as given,
#: group rows as a bold first cell.
MANUSCRIPT_TABLE_STYLE: Final[WordTableStyle] = WordTableStyle(
    space_before=None,
    space_after=0,
    nobreak_headers=False,
    header_bottom=False,
    replace_borders=False,
    flag_values=False,
    merge_groups=False,
)


def add_table(doc: Any, block: TableBlock) -> None:
    """Caption above, a native three-line Word table, footnotes below."""
    table = block.table
    caption = doc.add_paragraph(style="Caption")
    caption.paragraph_format.keep_with_next = True
    head, _, rest = caption_of(block).partition(". ")
    caption.add_run(xml_safe(f"{head}. ")).bold = True
    caption.add_run(xml_safe(rest))
    n_head = 2 if table.spanners else 1
    grid = doc.add_table(rows=n_head + len(table.rows), cols=len(table.columns))
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    for j, width in enumerate(column_widths(table, int(_text_width(doc)))):
        grid.columns[j].width = width
        for cell in grid.columns[j].cells:
            cell.width = width
    fill_word_table(grid, table, MANUSCRIPT_TABLE_STYLE)
    for note in table.footnotes:
        para = doc.add_paragraph()
        para.add_run(xml_safe(note)).font.size = Pt(8)
        para.paragraph_format.space_after = Pt(0)
    doc.add_paragraph()


def add_figure(doc: Any, block: FigureBlock, png: Path) -> None:
    """The PNG as an inline picture at text width, its caption below."""
    picture = doc.add_paragraph()
    picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
    picture.paragraph_format.keep_with_next = True
    picture.add_run().add_picture(str(png), width=min(_text_width(doc), Cm(16)))
    caption = doc.add_paragraph(style="Caption")
    caption.add_run(xml_safe(f"Figure {block.number}. ")).bold = True
    caption.add_run(xml_safe(block.caption))


def _abstract(doc: Any, block: Abstract) -> None:
    doc.add_heading("Abstract", level=1)
    for heading, text, is_placeholder in block.parts:
        para = doc.add_paragraph()
        para.add_run(f"{heading}: ").bold = True
        if is_placeholder:
            _placeholder(para, text)
        else:
            para.add_run(xml_safe(text))


def _add_block(doc: Any, block: Block, pngs: Mapping[str, Path]) -> None:
    if isinstance(block, Heading):
        doc.add_heading(xml_safe(block.text), level=max(1, block.level - 1))
    elif isinstance(block, Paragraph):
        para = doc.add_paragraph()
        if block.kind == "placeholder":
            _placeholder(para, block.text)
        else:
            para.add_run(xml_safe(block.text))
    elif isinstance(block, TableBlock):
        add_table(doc, block)
    elif isinstance(block, FigureBlock):
        add_figure(doc, block, pngs[block.stem])
    elif isinstance(block, References):
        doc.add_heading("References", level=1)
        for item in block.items:
            para = doc.add_paragraph(xml_safe(item))
            para.paragraph_format.left_indent = Cm(0.75)
            para.paragraph_format.first_line_indent = Cm(-0.75)
    elif isinstance(block, Abstract):
        _abstract(doc, block)


def build_manuscript(results: Mapping[str, Any], pngs: Mapping[str, Path]) -> Any:
    """The manuscript as a python-docx Document (see :func:`write_manuscript`)."""
    pngs = {stem: Path(p) for stem, p in pngs.items() if Path(p).suffix.lower() == ".png"}
    study = results.get("study") or {}
    title = str(study.get("title") or "ICI rechallenge study")
    doc = Document()
    _page(doc, page_size(results))
    _fixed_properties(doc, title)
    _styles(doc)
    doc.add_heading(xml_safe(title), level=0)
    _placeholder(doc.add_paragraph(), "[Authors, affiliations and corresponding author]")
    blocks = build_document(
        results,
        [s.stem for s in FIGURES if s.stem in pngs]
        + [s for s in pngs if s not in {f.stem for f in FIGURES}],
        order=("abstract", "methods", "results", "references", "appendix"),
    )
    introduction_done = False
    appendix_started = False
    for block in blocks:
        if isinstance(block, Heading) and block.anchor == "methods" and not introduction_done:
            doc.add_heading("Introduction", level=1)
            _placeholder(doc.add_paragraph(), INTRODUCTION)
            introduction_done = True
        if isinstance(block, References):
            doc.add_heading("Discussion", level=1)
            _placeholder(doc.add_paragraph(), DISCUSSION)
        if isinstance(block, TableBlock) and block.appendix and not appendix_started:
            doc.add_heading("Appendix", level=1)
            appendix_started = True
        _add_block(doc, block, pngs)
    return doc


def deterministic_bytes(doc: Any) -> bytes:
    """The .docx package with fixed ZIP entry dates, so equal inputs give equal bytes."""
    raw = io.BytesIO()
    doc.save(raw)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for name in sorted(src.namelist(), key=lambda n: (n != "[Content_Types].xml", n)):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(name))
    return out.getvalue()


def write_manuscript(
    results: Mapping[str, Any], out_dir: Path, figures: Mapping[str, Path]
) -> Path:
    """Write ``out_dir/manuscript.docx``; ``figures`` maps stems to PNG (or other) files."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / MANUSCRIPT_NAME
    path.write_bytes(deterministic_bytes(build_manuscript(results, figures)))
    return path
