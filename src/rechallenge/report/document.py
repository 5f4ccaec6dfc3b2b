"""The study write-up as renderer-neutral blocks: one text source for HTML and Word.

:func:`build_document` turns a results dict into an ordered list of blocks (headings,
paragraphs, tables, figures, references). Tables and figures are numbered in the order they
are placed, and paragraphs refer to them by key (``{table:table3_baseline}``,
``{figure:figure1_km_pfs}``); :func:`resolve` replaces each key by its number once the
order is known, so the HTML report (Results before Methods) and the manuscript (Methods
before Results) each number their own exhibits consecutively from the same text.

Appendix exhibits are numbered ``A1``, ``A2`` … apart from the main ones.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

from rechallenge.figures.render import FIGURES
from rechallenge.labels import Labels, labels_from_results
from rechallenge.report import text
from rechallenge.report.competing import with_competing
from rechallenge.report.context import with_context
from rechallenge.report.prognostic import with_prognostic
from rechallenge.tables.model import Table
from rechallenge.tables.study import build_tables

_NUMBER_PREFIX: Final = re.compile(r"^\s*(Table|Figure)\s+[A-Z]?\d+[.:]\s*")
_REF: Final = re.compile(r"\{(table|figure):([A-Za-z0-9_.-]+)\}")
PAGE_SIZES: Final[dict[str, str]] = {"a4": "A4", "letter": "Letter"}


@dataclass(frozen=True)
class Heading:
    """A section heading; ``anchor`` is the HTML id."""

    text: str
    level: int = 2
    anchor: str = ""


@dataclass(frozen=True)
class Paragraph:
    """Body text; ``kind`` "placeholder" marks text the author must replace."""

    text: str
    kind: Literal["body", "placeholder", "note"] = "body"


@dataclass(frozen=True)
class TableBlock:
    """A numbered table (``number`` is filled by :func:`number_blocks`)."""

    key: str
    table: Table
    appendix: bool = False
    number: str = ""


@dataclass(frozen=True)
class FigureBlock:
    """A numbered figure: file stem and journal caption (without its number).

    ``beside`` figures that follow one another form one row in the HTML report (each keeps
    its number and caption); the Word manuscript places them one under the other.
    """

    stem: str
    caption: str
    appendix: bool = False
    number: str = ""
    beside: bool = False


@dataclass(frozen=True)
class References:
    """The numbered reference list of the methods cited."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class Abstract:
    """A structured abstract: (heading, text, is_placeholder) triples."""

    parts: tuple[tuple[str, str, bool], ...]


Block = Heading | Paragraph | TableBlock | FigureBlock | References | Abstract


@dataclass(frozen=True)
class Exhibits:
    """What a document can show: tables by key, and the figure stems that exist."""

    tables: Mapping[str, Table]
    figures: Collection[str]
    extra_tables: Mapping[str, Table] = field(default_factory=dict)

    def claim_tables(self, keys: Iterable[str], placed: set[str]) -> list[Block]:
        """Blocks of the tables among ``keys`` that exist and are not placed yet; marks them."""
        out: list[Block] = []
        for key in keys:
            if key in self.tables and key not in placed:
                out.append(TableBlock(key, self.tables[key]))
                placed.add(key)
        return out

    def claim_figures(
        self,
        captions: Mapping[str, str],
        placed: set[str],
        pairs: Iterable[tuple[str, str]] = (),
    ) -> list[Block]:
        """Blocks of the figures (stem → caption) that exist and are not placed; marks them.

        Each of ``pairs`` whose two figures are both claimed here is shown side by side:
        both blocks are ``beside``, the second right after the first.
        """
        blocks: dict[str, FigureBlock] = {}
        for stem, caption in captions.items():
            if stem in self.figures and stem not in placed:
                blocks[stem] = FigureBlock(stem, caption)
                placed.add(stem)
        order = list(blocks)
        for first, second in pairs:
            if first in blocks and second in blocks:
                blocks[first] = replace(blocks[first], beside=True)
                blocks[second] = replace(blocks[second], beside=True)
                order.remove(second)
                order.insert(order.index(first) + 1, second)
        return [blocks[stem] for stem in order]


def page_size(results: Mapping[str, Any]) -> str:
    """``A4`` or ``Letter``, from ``manifest.config.output.page_size`` (A4 by default)."""
    config = (results.get("manifest") or {}).get("config") or {}
    output = config.get("output") if isinstance(config, Mapping) else None
    value = str((output or {}).get("page_size", "A4")) if isinstance(output, Mapping) else "A4"
    return PAGE_SIZES.get(value.lower(), "A4")


def strip_number(title: str) -> str:
    """``Table 3. Baseline characteristics`` -> ``Baseline characteristics``."""
    return _NUMBER_PREFIX.sub("", title).strip()


def figure_caption(stem: str, results: Mapping[str, Any], labels: Labels) -> str:
    """The journal caption of a figure (methods named), falling back to its spec."""
    caption = text.figure_caption(stem, results, labels)
    if caption:
        return caption
    spec = next((s for s in FIGURES if s.stem == stem), None)
    return strip_number(spec.caption) if spec else labels.get("figure", stem)


def exhibits(results: Mapping[str, Any], figures: Collection[str]) -> Exhibits:
    """The tables built from ``results`` plus the appendix tables this package adds."""
    extra: dict[str, Table] = {}
    for table in (text.completeness_table(results), text.warnings_table(results)):
        if table is not None:
            extra[table.id] = table
    return Exhibits(tables=build_tables(results), figures=tuple(figures), extra_tables=extra)


def _main_tables_left(ex: Exhibits, placed: set[str]) -> list[str]:
    return [k for k in ex.tables if k not in placed and k != "table_attrition"]


def _results_blocks(
    results: Mapping[str, Any], labels: Labels, ex: Exhibits, placed: set[str]
) -> list[Block]:
    """The Results section: each subsection's prose followed by its exhibits."""
    out: list[Block] = [Heading("Results", 2, "results")]
    for sub in text.results_sections(results, labels, ex.tables, ex.figures):
        out.append(Heading(sub.heading, 3, sub.anchor))
        out += [Paragraph(p) for p in sub.paragraphs]
        tables = ex.claim_tables(sub.tables, placed)
        figures = ex.claim_figures(
            {s: figure_caption(s, results, labels) for s in sub.figures if s in ex.figures},
            placed,
        )
        out += figures + tables if sub.figures_first else tables + figures
    left_tables = [k for k in _main_tables_left(ex, placed) if k != "table1_resistance"]
    left_figures = [s for s in ex.figures if s not in placed]
    if left_tables or left_figures:
        out.append(Heading("Further results", 3, "results-further"))
        out += [TableBlock(k, ex.tables[k]) for k in left_tables]
        out += [FigureBlock(s, figure_caption(s, results, labels)) for s in left_figures]
        placed.update(left_tables, left_figures)
    return out


def _methods_blocks(
    results: Mapping[str, Any], labels: Labels, ex: Exhibits, placed: set[str]
) -> list[Block]:
    out: list[Block] = [Heading("Methods", 2, "methods")]
    sections = text.methods_sections(results, labels, ex.tables)
    if not sections:
        out.append(Paragraph("The results record no method settings.", "note"))
    for sub in sections:
        out.append(Heading(sub.heading, 3, sub.anchor))
        out += [Paragraph(p) for p in sub.paragraphs]
        out += ex.claim_tables(sub.tables, placed)
    return out


def _appendix_tables(ex: Exhibits, placed: set[str]) -> list[Block]:
    out: list[Block] = []
    if "table_attrition" in ex.tables:
        out.append(TableBlock("table_attrition", ex.tables["table_attrition"], appendix=True))
        placed.add("table_attrition")
    for key, table in ex.extra_tables.items():
        out.append(TableBlock(key, table, appendix=True))
        placed.add(key)
    return out


def build_document(
    results: Mapping[str, Any],
    figures: Collection[str],
    *,
    order: Sequence[Literal["abstract", "results", "methods", "references", "appendix"]] = (
        "results",
        "methods",
        "references",
        "appendix",
    ),
) -> list[Block]:
    """The write-up of ``results`` as numbered, resolved blocks in ``order``.

    ``figures`` are the stems of the figures that exist (drawn or saved). The appendix part
    holds only the tables both renderers share (selection steps, data completeness); the
    HTML report adds its listing, warnings, manifest and configuration itself.
    """
    labels = labels_from_results(results)
    ex = exhibits(results, figures)
    placed: set[str] = set()
    blocks: list[Block] = []
    for part in order:
        if part == "abstract":
            blocks.append(Abstract(text.abstract(results, labels)))
        elif part == "results":
            blocks += with_context(
                results,
                ex,
                placed,
                lambda: with_competing(
                    results,
                    labels,
                    ex,
                    placed,
                    lambda: with_prognostic(
                        results, ex, placed, lambda: _results_blocks(results, labels, ex, placed)
                    ),
                ),
            )
        elif part == "methods":
            blocks += _methods_blocks(results, labels, ex, placed)
        elif part == "references":
            blocks.append(References(tuple(text.cited_references(results))))
        elif part == "appendix":
            blocks += _appendix_tables(ex, placed)
    return resolve(number_blocks(blocks))


def number_blocks(blocks: Iterable[Block]) -> list[Block]:
    """Number tables and figures in placement order (appendix ones as A1, A2 …)."""
    counters = {("t", False): 0, ("t", True): 0, ("f", False): 0, ("f", True): 0}
    out: list[Block] = []
    for block in blocks:
        if isinstance(block, TableBlock | FigureBlock):
            kind = "t" if isinstance(block, TableBlock) else "f"
            counters[(kind, block.appendix)] += 1
            n = counters[(kind, block.appendix)]
            block = replace(block, number=f"A{n}" if block.appendix else str(n))
        out.append(block)
    return out


def numbers(blocks: Iterable[Block]) -> dict[tuple[str, str], str]:
    """(``table`` | ``figure``, key) -> printed name, e.g. ``Table 2``."""
    found: dict[tuple[str, str], str] = {}
    for block in blocks:
        if isinstance(block, TableBlock):
            found[("table", block.key)] = f"Table {block.number}"
        elif isinstance(block, FigureBlock):
            found[("figure", block.stem)] = f"Figure {block.number}"
    return found


def resolve(blocks: list[Block]) -> list[Block]:
    """Replace every ``{table:key}``/``{figure:key}`` in paragraphs by its number.

    A reference to an exhibit that was not placed is dropped with its parentheses.
    """
    names = numbers(blocks)

    def sub(match: re.Match[str]) -> str:
        return names.get((match.group(1), match.group(2)), "")

    def fix(s: str) -> str:
        s = _REF.sub(sub, s)
        s = re.sub(r"\s*\((?:;\s*)*\)", "", s)
        s = re.sub(r"\(\s*;\s*", "(", s)
        return re.sub(r";\s*\)", ")", s)

    out: list[Block] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            block = replace(block, text=fix(block.text))
        elif isinstance(block, Abstract):
            block = Abstract(tuple((h, fix(t), p) for h, t, p in block.parts))
        out.append(block)
    return out


def caption_of(block: TableBlock | FigureBlock) -> str:
    """``Table 2. Efficacy …`` / ``Figure 1. Kaplan–Meier …`` for a numbered block."""
    if isinstance(block, TableBlock):
        return f"Table {block.number}. {strip_number(block.table.title)}"
    return f"Figure {block.number}. {block.caption}"
