"""The self-contained HTML report (and, optionally, a PDF of it).

``report.html`` is one file: CSS inline, figures inline as SVG, no external resource of any
kind. It is rendered by Jinja2 with autoescaping on for every template, so text from the
results (labels, warning messages, the title) is always escaped; only markup this package
generates itself (escaped tables, checked SVG, escaped paragraphs) is marked safe.

The report reads like a paper: a summary of the main results, then Results (prose with
numbered tables and figures), Methods (every test and interval named in words, with
references), References and an Appendix (selection steps, data completeness, the patient
listing, data-quality warnings, the run manifest and the configuration). The prose comes
from :mod:`rechallenge.report.document`, the same source the Word manuscript uses.

Sections, each with a fixed id: ``summary``, ``results``, ``methods``, ``references``,
``appendix``. Print CSS sets the page size (A4, or Letter from ``output.page_size``),
margins and page numbers.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from rechallenge.errors import PDF_INSTALL_HINT, PdfBackendMissingError
from rechallenge.figures.render import FIGURES, build_figures, skipped_figures
from rechallenge.labels import Labels, humanise, labels_from_results
from rechallenge.report import text
from rechallenge.report.document import (
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
from rechallenge.report.svg import figure_svg, inline_file, inline_svg
from rechallenge.tables.render import TABLE_CSS, to_html

SECTIONS: Final[tuple[tuple[str, str], ...]] = (
    ("summary", "Summary"),
    ("results", "Results"),
    ("methods", "Methods"),
    ("references", "References"),
    ("appendix", "Appendix"),
)
REPORT_NAME: Final[str] = "report.html"
#: Tables with more body rows than this may run over a page and are allowed to break.
SHORT_TABLE_ROWS: Final[int] = 28
#: The report lists at most this many screened patients (all are in results.json).
MAX_LISTED_PATIENTS: Final[int] = 500
MAX_LISTED_WARNINGS: Final[int] = 200


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("rechallenge.report", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _css() -> str:
    return (resources.files("rechallenge.report") / "report.css").read_text(encoding="utf-8")


def _figure_markup(
    results: Mapping[str, Any], figures: Mapping[str, Path] | None
) -> tuple[dict[str, Markup], dict[str, str]]:
    """Inline markup per figure stem, and a reason in words for each one missing."""
    if figures is None:
        built = {
            stem: inline_svg(figure_svg(fig), stem) for stem, fig in build_figures(results).items()
        }
    else:
        built = {stem: inline_file(Path(p), stem, stem) for stem, p in figures.items()}
    missing: dict[str, str] = {}
    for stem, why in skipped_figures(built, results).items():
        if figures is not None and not why.startswith("not drawn"):
            why = "not provided"
        elif not why.startswith("not drawn"):
            why = "not produced: the results hold no data for it"
        missing[stem] = why
    return built, missing


def _paragraph(block: Paragraph) -> Markup:
    cls = {"body": "", "placeholder": ' class="placeholder"', "note": ' class="note"'}
    return Markup("<p{}>{}</p>").format(Markup(cls[block.kind]), block.text)


def _table(block: TableBlock) -> Markup:
    size = "short" if len(block.table.rows) <= SHORT_TABLE_ROWS else "long"
    titled = replace(block.table, title=caption_of(block))
    return Markup('<div class="table-wrap {}">{}</div>').format(size, to_html(titled))


def _figure(block: FigureBlock, markup: Mapping[str, Markup]) -> Markup:
    return Markup(
        '<figure id="figure-{}">{}<figcaption><b>Figure {}.</b> {}</figcaption></figure>'
    ).format(block.stem, markup[block.stem], block.number, block.caption)


def _figure_row(row: Sequence[FigureBlock], markup: Mapping[str, Markup]) -> Markup:
    """Figures side by side: one flex row that wraps on narrow screens (see report.css)."""
    figures = Markup("").join(_figure(block, markup) for block in row)
    return Markup('<div class="figure-row">{}</div>').format(figures)


def _rows(blocks: Iterable[Block]) -> list[Block | tuple[FigureBlock, ...]]:
    """The blocks with each run of consecutive ``beside`` figures gathered into one row."""
    out: list[Block | tuple[FigureBlock, ...]] = []
    for block in blocks:
        if isinstance(block, FigureBlock) and block.beside:
            last = out[-1] if out else None
            if isinstance(last, tuple):
                out[-1] = (*last, block)
            else:
                out.append((block,))
        else:
            out.append(block)
    return out


def _references(block: References) -> Markup:
    if not block.items:
        return Markup('<p class="note">No methods were cited.</p>')
    items = Markup("").join(Markup("<li>{}</li>").format(item) for item in block.items)
    return Markup('<ul class="references">{}</ul>').format(items)


def _render_block(block: Block, markup: Mapping[str, Markup]) -> Markup:
    if isinstance(block, Heading):
        return Markup('<h{0} id="{1}">{2}</h{0}>').format(block.level, block.anchor, block.text)
    if isinstance(block, Paragraph):
        return _paragraph(block)
    if isinstance(block, TableBlock):
        return _table(block)
    if isinstance(block, FigureBlock):
        return _figure(block, markup)
    if isinstance(block, References):
        return _references(block)
    return Markup("")


def _sections(blocks: Iterable[Block], markup: Mapping[str, Markup]) -> dict[str, list[Markup]]:
    """Rendered blocks grouped by top-level section (a level-2 heading starts one)."""
    out: dict[str, list[Markup]] = {"results": [], "methods": [], "references": [], "appendix": []}
    current = "results"
    for block in _rows(blocks):
        if isinstance(block, tuple):
            out.setdefault(current, []).append(_figure_row(block, markup))
            continue
        if isinstance(block, Heading) and block.level == 2:
            current = block.anchor
            continue
        if isinstance(block, References):
            current = "references"
        elif isinstance(block, TableBlock) and block.appendix:
            current = "appendix"
        out.setdefault(current, []).append(_render_block(block, markup))
    return out


def _patients(results: Mapping[str, Any], labels: Labels) -> list[dict[str, str]]:
    """Screened patients for the listing: those not analysed first, then the analysed.

    Patient identifiers are shown only when the study was run with ``--show-ids``;
    otherwise each patient gets a running number.
    """
    cohort = results.get("cohort") or {}
    show_ids = bool((results.get("study") or {}).get("show_ids"))
    everyone = sorted(cohort.get("patients", []), key=lambda p: bool(p.get("included")))
    rows = []
    for i, p in enumerate(everyone[:MAX_LISTED_PATIENTS], start=1):
        criterion = p.get("criterion")
        reason = text.failure_words({"criterion": criterion}, labels) if criterion else ""
        if not reason and not p.get("included"):
            reason = text.plain(str(p.get("reason") or ""))
        klass = p.get("resistance_class")
        rows.append(
            {
                "patient": str(p.get("patient_id", "")) if show_ids else str(i),
                "included": "Yes" if p.get("included") else "No",
                "reason": reason or "—",
                "resistance_class": labels.get("resistance_class", klass) if klass else "—",
            }
        )
    return rows


def _unlisted(results: Mapping[str, Any]) -> int:
    return max(0, len((results.get("cohort") or {}).get("patients", [])) - MAX_LISTED_PATIENTS)


def _config_rows(config: Any, prefix: str = "") -> list[tuple[str, str]]:
    """The configuration flattened to (setting in words, value in words) rows."""
    if isinstance(config, Mapping):
        rows: list[tuple[str, str]] = []
        for key in sorted(config, key=str):
            name = humanise(str(key).replace(".", " "))
            path = f"{prefix} › {name.lower()}" if prefix else name
            rows += _config_rows(config[key], path)
        return rows
    if isinstance(config, list | tuple) and any(isinstance(v, Mapping) for v in config):
        return [row for i, v in enumerate(config, 1) for row in _config_rows(v, f"{prefix} {i}")]
    if isinstance(config, bool):
        value = "yes" if config else "no"
    elif config is None:
        value = "not set"
    elif isinstance(config, list | tuple):
        value = text.plain(text.words_of(config)) if config else "none"
    else:
        value = text.plain(str(config))
    return [(prefix, value)]


def _manifest(results: Mapping[str, Any]) -> dict[str, Any] | None:
    manifest = results.get("manifest")
    if not isinstance(manifest, Mapping):
        return None
    return {
        "created_by": manifest.get("created_by"),
        "versions": list((manifest.get("versions") or {}).items()),
        "inputs": list(manifest.get("inputs") or []),
        "config": _config_rows(manifest.get("config") or {}),
    }


def _not_produced(
    missing: Mapping[str, str], results: Mapping[str, Any], labels: Labels
) -> list[str]:
    from rechallenge.report.document import figure_caption

    return [
        f"{figure_caption(stem, results, labels).split(';')[0].rstrip('.')} — {why}."
        for stem, why in missing.items()
    ]


def render_report(results: Mapping[str, Any], figures: Mapping[str, Path] | None = None) -> str:
    """The report as an HTML string (see :func:`write_report`)."""
    labels = labels_from_results(results)
    markup, missing = _figure_markup(results, figures)
    blocks = build_document(results, [s.stem for s in FIGURES if s.stem in markup])
    sections = _sections(blocks, markup)
    study = results.get("study") or {}
    created_by = str((results.get("manifest") or {}).get("created_by") or "rechallenge")
    warnings = [w for w in results.get("warnings") or [] if isinstance(w, Mapping)]
    context = {
        "title": study.get("title") or "ICI rechallenge study report",
        "data_cutoff": study.get("data_cutoff"),
        "created_by": created_by,
        "schema_version": results.get("schema_version", "not recorded"),
        "page_size": page_size(results),
        "css": Markup(TABLE_CSS + _css()),
        "sections": SECTIONS,
        "summary": text.key_findings(results, labels) if len(results) > 1 else "",
        "results_body": sections.get("results", []),
        "methods_body": sections.get("methods", []),
        "references_body": sections.get("references", []),
        "appendix_tables": sections.get("appendix", []),
        "not_produced": _not_produced(missing, results, labels),
        "patients": _patients(results, labels),
        "unlisted_patients": _unlisted(results),
        "warning_kinds": text.warning_summary(results),
        "warning_table": next(
            (
                f"Table {b.number}"
                for b in blocks
                if isinstance(b, TableBlock) and b.key == "table_warnings"
            ),
            "the table above",
        ),
        "warnings": [text.plain(str(w.get("message", ""))) for w in warnings][:MAX_LISTED_WARNINGS],
        "unlisted_warnings": max(0, len(warnings) - MAX_LISTED_WARNINGS),
        "manifest": _manifest(results),
    }
    return _environment().get_template(REPORT_NAME).render(context)


def require_pdf_backend() -> Any:
    """The ``weasyprint`` module, or a PdfBackendMissingError naming the ``pdf`` extra."""
    try:
        return importlib.import_module("weasyprint")
    except ImportError as exc:
        raise PdfBackendMissingError(
            f"PDF output needs WeasyPrint, which is not installed: {PDF_INSTALL_HINT}; or "
            "call write_report(..., pdf=False) and print report.html from a browser"
        ) from exc


def write_report(
    results: Mapping[str, Any],
    out_dir: Path,
    figures: dict[str, Path] | None = None,
    pdf: bool = False,
) -> Path:
    """Write ``out_dir/report.html`` (and ``report.pdf`` when ``pdf``); return the HTML path.

    ``figures`` maps figure stems (see ``rechallenge.figures.render.FIGURES``) to SVG or PNG
    files to inline; when None the figures are drawn from ``results`` in memory.
    """
    weasyprint = require_pdf_backend() if pdf else None
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / REPORT_NAME
    html = render_report(results, figures)
    path.write_text(html, encoding="utf-8")
    if weasyprint is not None:
        weasyprint.HTML(string=html, base_url=None).write_pdf(str(out_dir / "report.pdf"))
    return path
