"""The self-contained HTML report (and, optionally, a PDF of it).

``report.html`` is one file: CSS inline, figures inline as SVG, no external resource of any
kind. It is rendered by Jinja2 with autoescaping on for every template, so text from the
results (patient reasons, warning messages, labels) is always escaped; only markup this
package generates itself (escaped tables, checked SVG) is marked safe.

Sections, each with a fixed id: ``summary``, ``attrition``, ``tables``, ``figures``,
``methods``, ``warnings``, ``manifest``.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from rechallenge.errors import RechallengeError
from rechallenge.figures.render import FIGURES, build_figures, skipped_figures
from rechallenge.report.svg import figure_svg, inline_file, inline_svg
from rechallenge.report.text import methods_sentences, summary_points
from rechallenge.tables.render import TABLE_CSS, to_html
from rechallenge.tables.study import build_tables

SECTIONS: Final[tuple[tuple[str, str], ...]] = (
    ("summary", "Summary"),
    ("attrition", "Patient selection"),
    ("tables", "Tables"),
    ("figures", "Figures"),
    ("methods", "Methods"),
    ("warnings", "Data-quality warnings"),
    ("manifest", "Run manifest"),
)
REPORT_NAME: Final[str] = "report.html"
TABLE_PARTS: Final[dict[str, str]] = {
    "table1_resistance": "resistance",
    "table2_efficacy": "efficacy",
    "table3_baseline": "baseline",
    "table4_adverse_events": "adverse_events",
    "table_cox_pfsr": "cox",
}


class PdfBackendMissingError(RechallengeError, ImportError):
    """PDF output was asked for but WeasyPrint is not installed."""


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


def _figure_blocks(
    results: Mapping[str, Any], figures: Mapping[str, Path] | None
) -> list[dict[str, Any]]:
    """One entry per known figure: its inline markup, or a note on why it is missing."""
    if figures is None:
        built = {
            stem: inline_svg(figure_svg(fig), stem) for stem, fig in build_figures(results).items()
        }
        missing = skipped_figures(built, results)
    else:
        built = {stem: inline_file(Path(p), stem, stem) for stem, p in figures.items()}
        too_many = skipped_figures(built, results).items()
        missing = {stem: why for stem, why in too_many if why.startswith("not drawn")}
    blocks = []
    for spec in FIGURES:
        blocks.append(
            {
                "stem": spec.stem,
                "caption": spec.caption,
                "html": built.get(spec.stem),
                "note": missing.get(spec.stem, "not provided"),
            }
        )
    return blocks


def _manifest(results: Mapping[str, Any]) -> dict[str, Any] | None:
    manifest = results.get("manifest")
    if not isinstance(manifest, Mapping):
        return None
    config = manifest.get("config")
    return {
        "created_by": manifest.get("created_by"),
        "versions": list((manifest.get("versions") or {}).items()),
        "inputs": list(manifest.get("inputs") or []),
        "config": json.dumps(config, indent=2, ensure_ascii=False, sort_keys=True)
        if config
        else "",
    }


#: The report lists at most this many screened patients (all are in results.json).
MAX_LISTED_PATIENTS = 500


def _patients(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Screened patients for the listing: those not analysed first, then the analysed."""
    cohort = results.get("cohort") or {}
    everyone = sorted(cohort.get("patients", []), key=lambda p: bool(p.get("included")))
    return [
        {
            "patient_id": p.get("patient_id", ""),
            "included": bool(p.get("included")),
            "reason": p.get("reason", ""),
            "resistance_class": p.get("resistance_class") or "",
        }
        for p in everyone[:MAX_LISTED_PATIENTS]
    ]


def _unlisted(results: Mapping[str, Any]) -> int:
    return max(0, len((results.get("cohort") or {}).get("patients", [])) - MAX_LISTED_PATIENTS)


def render_report(results: Mapping[str, Any], figures: Mapping[str, Path] | None = None) -> str:
    """The report as an HTML string (see :func:`write_report`)."""
    tables = build_tables(results)
    attrition = tables.pop("table_attrition", None)
    figure_blocks = _figure_blocks(results, figures)
    flow = next((f for f in figure_blocks if f["stem"] == "flow"), None)
    study = results.get("study") or {}
    created_by = str((results.get("manifest") or {}).get("created_by") or "rechallenge")
    context = {
        "title": study.get("title") or "ICI rechallenge study report",
        "data_cutoff": study.get("data_cutoff"),
        "created_by": created_by,
        "schema_version": results.get("schema_version", "not recorded"),
        "css": Markup(TABLE_CSS + _css()),
        "sections": SECTIONS,
        "summary": summary_points(results),
        "flow": flow if flow and flow["html"] else None,
        "flow_note": flow["note"] if flow else "not produced",
        "attrition_table": to_html(attrition) if attrition else None,
        "patients": _patients(results),
        "unlisted_patients": _unlisted(results),
        "tables": [to_html(t) for t in tables.values()],
        "table_notes": [
            f"No {part.replace('_', ' ')} table: the results contain no '{part}' part."
            for tid, part in TABLE_PARTS.items()
            if tid not in tables
        ],
        "figures": [f for f in figure_blocks if f["stem"] != "flow"],
        "methods": methods_sentences(results.get("methods") or {}),
        "warnings": list(results.get("warnings") or []),
        "manifest": _manifest(results),
    }
    return _environment().get_template(REPORT_NAME).render(context)


def require_pdf_backend() -> Any:
    """The ``weasyprint`` module, or a PdfBackendMissingError naming the ``pdf`` extra."""
    try:
        return importlib.import_module("weasyprint")
    except ImportError as exc:
        raise PdfBackendMissingError(
            "PDF output needs WeasyPrint, which is not installed. Install the optional 'pdf' "
            "extra with `pip install rechallenge[pdf]`, or call write_report(..., pdf=False) "
            "and print report.html from a browser."
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
