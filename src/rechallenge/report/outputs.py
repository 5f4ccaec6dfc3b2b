"""The single entry point the pipeline calls: figures, tables and the report in one go.

Layout under ``out_dir``::

    figures/<stem>.png|svg|pdf     every figure the results allow (PNG at 300 dpi)
    tables/<table id>.html|docx|xlsx|csv
    report.html                    self-contained; report.pdf too when pdf=True
    manuscript.docx                the editable Word manuscript (same text as the report)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from rechallenge.errors import RechallengeError
from rechallenge.figures.render import FIGURES, FigureSpec, figure_style
from rechallenge.figures.style import journal_style, save_figure
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


Step = tuple[str, Callable[[], object]]


@dataclass
class Written:
    """Paths written by the output steps, by kind, filled as the steps run."""

    figures: list[Path] = field(default_factory=list)
    tables: list[Path] = field(default_factory=list)
    report: list[Path] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[Path]]:
        return {"figures": self.figures, "tables": self.tables, "report": self.report}


def output_steps(
    results: dict[str, Any], out_dir: Path, *, pdf: bool = False
) -> tuple[list[Step], Written]:
    """Figures, tables, report and manuscript as named steps, one file group each.

    Running the steps in order writes exactly what `write_outputs` writes; the pipeline runs
    them one by one to show progress. Checks (schema, PDF back end) happen here, before any
    step runs.
    """
    check_results(results)
    if pdf:
        require_pdf_backend()
    out_dir = Path(out_dir)
    written = Written()
    style = figure_style(results)

    def figure(spec: FigureSpec) -> Callable[[], None]:
        def draw() -> None:
            with journal_style(style):
                fig = spec.build(results)
            if fig is not None:
                written.figures.extend(save_figure(fig, out_dir / "figures" / spec.stem))

        return draw

    def table(item: Any) -> Callable[[], None]:
        return lambda: written.tables.extend(write_table(item, out_dir / "tables"))

    def report() -> None:
        svgs = {p.stem: p for p in written.figures if p.suffix == ".svg"}
        written.report.append(write_report(results, out_dir, figures=svgs, pdf=pdf))
        if pdf:
            written.report.append(out_dir / "report.pdf")

    def manuscript() -> None:
        pngs = {p.stem: p for p in written.figures if p.suffix == ".png"}
        written.report.append(write_manuscript(results, out_dir, pngs))

    steps: list[Step] = [(f"figure {spec.stem}", figure(spec)) for spec in FIGURES]
    steps += [(f"table {t.id}", table(t)) for t in build_tables(results).values()]
    steps += [("report", report), ("manuscript", manuscript)]
    return steps, written


def write_outputs(
    results: dict[str, Any], out_dir: Path, *, pdf: bool = False
) -> dict[str, list[Path]]:
    """Write figures, tables, report and manuscript under ``out_dir``; return paths by kind.

    Keys of the returned dict: ``"figures"``, ``"tables"``, ``"report"`` (report.html,
    report.pdf when asked for, and manuscript.docx).
    """
    steps, written = output_steps(results, out_dir, pdf=pdf)
    for _, step in steps:
        step()
    return written.as_dict()
