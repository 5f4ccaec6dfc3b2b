"""A real run of the example cohort: report.html and manuscript.docx carry no configuration
code in their visible text, and report the contract's numbers where the results hold them."""

from __future__ import annotations

from pathlib import Path

import pytest
from docx import Document
from rich.console import Console
from tests.outputs.test_report_visible import codes_in, docx_text, visible_text

from rechallenge.config import StudyConfig
from rechallenge.pipeline import run_study

COHORT = Path(__file__).resolve().parents[2] / "examples" / "seed_cohort"


@pytest.fixture(scope="module")
def example_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("example")
    run_study(COHORT, out, StudyConfig(), console=Console(quiet=True))
    return out


def test_report_prose_has_no_configuration_code(example_run: Path) -> None:
    html = (example_run / "report.html").read_text(encoding="utf-8")
    own = visible_text(html, skip_tables=True)
    assert "Median PFSR was" in own and "Kaplan–Meier" in own
    assert codes_in(own) == []


def test_report_tables_have_no_configuration_code(example_run: Path) -> None:
    html = (example_run / "report.html").read_text(encoding="utf-8")
    assert codes_in(visible_text(html)) == []


def test_manuscript_prose_has_no_configuration_code(example_run: Path) -> None:
    doc = Document(str(example_run / "manuscript.docx"))
    assert codes_in("\n".join(p.text for p in doc.paragraphs)) == []
    assert len(doc.inline_shapes) == len(list((example_run / "figures").glob("*.png")))


def test_manuscript_tables_have_no_configuration_code(example_run: Path) -> None:
    assert codes_in(docx_text(example_run / "manuscript.docx")) == []


def test_follow_up_is_reported(example_run: Path) -> None:
    import json

    results = json.loads((example_run / "results.json").read_text(encoding="utf-8"))
    html = (example_run / "report.html").read_text(encoding="utf-8")
    assert results["follow_up"]["median_months"] is not None
    assert "Median follow-up from the start of rechallenge was" in html
    assert "reverse Kaplan–Meier method" in html
