"""The Context section end to end: the example cohort run with examples/literature
configured; off (no key, no table, no figure) without it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from rechallenge.analysis.context import LiteratureSettings
from rechallenge.config import StudyConfig
from rechallenge.pipeline import run_study
from rechallenge.report.context import context_paragraphs
from rechallenge.tables.context import context_table

ROOT = Path(__file__).resolve().parents[2]
COHORT = ROOT / "examples" / "seed_cohort"
LITERATURE = ROOT / "examples" / "literature" / "rechallenge_nsclc.csv"

pytestmark = pytest.mark.skipif(
    not (COHORT / "patients.csv").exists(), reason="example cohort not generated"
)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("context")
    config = StudyConfig(literature=LiteratureSettings(path=LITERATURE))
    run_study(COHORT, out, config, console=Console(quiet=True))
    return out, json.loads((out / "results.json").read_text(encoding="utf-8"))


def test_results_hold_the_pooled_endpoints(run: tuple[Path, dict[str, Any]]) -> None:
    _, results = run
    ctx = results["context"]
    assert ctx["file"] == "rechallenge_nsclc.csv" and ctx["n_studies"] == 11
    assert set(ctx["endpoints"]) == {"orr", "dcr", "pfs"}
    orr = ctx["endpoints"]["orr"]
    assert orr["meta"]["k"] == 3 and orr["this_study"]["events"] == 0
    assert orr["this_study"]["n"] == 13
    assert ctx["endpoints"]["dcr"]["this_study"]["events"] == 8
    pfs = ctx["endpoints"]["pfs"]
    assert pfs["meta"]["k"] == 4 and pfs["converted_from_days"] == ["Katayama 2019"]
    assert abs(pfs["this_study"]["estimate"] - 2.90) < 0.033  # the seed's median PFSR
    assert "Fujita 2018" in pfs["excluded"]


def test_table_figure_and_text(run: tuple[Path, dict[str, Any]]) -> None:
    out, results = run
    table = context_table(results["context"])
    assert [r.texts[0] for r in table.rows] == [
        "Objective response rate, %",
        "Disease control rate, %",
        "Median PFS of the rechallenge course, months",
    ]
    assert table.rows[0].texts[1] == "0/13 (0.0)"
    assert any(out.rglob("figure_context_forest.png"))
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Context" in html and "prediction interval" in html
    text = " ".join(context_paragraphs(results["context"]))
    assert "This study: 0.0%" in text and "within the prediction interval" in text


def test_off_without_a_literature_file(tmp_path: Path) -> None:
    run_study(COHORT, tmp_path, StudyConfig(), console=Console(quiet=True))
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert "context" not in results
    assert not any(tmp_path.rglob("figure_context_forest.*"))


def test_table_marks_an_unreached_limit(run: tuple[Path, dict[str, Any]]) -> None:
    _, results = run
    pfs = results["context"]["endpoints"]["pfs"]["this_study"]
    table = context_table(results["context"])
    if pfs["ci_upper"] is None:  # R's log-scale interval for 13 patients: upper not reached
        assert table.rows[2].texts[2].endswith("–NR")
        assert any("not reached" in n for n in table.footnotes)
