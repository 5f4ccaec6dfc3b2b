"""The single entry point the pipeline calls: figures, tables and the report in one go.

Layout under ``out_dir``::

    figures/<stem>.png|svg|pdf     every figure the results allow (PNG at 300 dpi)
    tables/<table id>.html|docx|xlsx|csv
    report.html                    self-contained; report.pdf too when pdf=True
    manuscript.docx                the editable Word manuscript (same text as the report)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from rechallenge.errors import RechallengeError
from rechallenge.figures.render import render_all
from rechallenge.report.html import require_pdf_backend, write_report
from rechallenge.report.manuscript import write_manuscript
from rechallenge.tables.render import write_table
from rechallenge.tables.study import build_tables

SUPPORTED_SCHEMA: Final[str] = "1"


def check_results(results: Mapping[str, Any]) -> None:
    """Refuse results whose schema major version this package does not read."""
    if not isinstance(results, Mapping):
        raise RechallengeError("results must be a mapping (the parsed results.json)")
    version = str(results.get("schema_version", ""))
    if version.split(".", 1)[0] != SUPPORTED_SCHEMA:
        raise RechallengeError(
            f"results schema_version {version or '(missing)'} is not supported; this version "
            f"of rechallenge reads schema {SUPPORTED_SCHEMA}.x. Re-run the analysis with the "
            "same rechallenge version that renders the outputs."
        )


def write_outputs(
    results: dict[str, Any], out_dir: Path, *, pdf: bool = False
) -> dict[str, list[Path]]:
    """Write figures, tables and report under ``out_dir``; return paths by kind.

    Keys of the returned dict: ``"figures"``, ``"tables"``, ``"report"`` (report.html,
    report.pdf when asked for, and manuscript.docx).
    """
    check_results(results)
    if pdf:
        require_pdf_backend()
    out_dir = Path(out_dir)
    figure_paths = render_all(results, out_dir / "figures")
    table_paths: list[Path] = []
    for table in build_tables(results).values():
        table_paths += write_table(table, out_dir / "tables")
    svgs = {p.stem: p for p in figure_paths if p.suffix == ".svg"}
    report = write_report(results, out_dir, figures=svgs, pdf=pdf)
    report_paths = [report]
    if pdf:
        report_paths.append(out_dir / "report.pdf")
    pngs = {p.stem: p for p in figure_paths if p.suffix == ".png"}
    report_paths.append(write_manuscript(results, out_dir, pngs))
    return {"figures": figure_paths, "tables": table_paths, "report": report_paths}
