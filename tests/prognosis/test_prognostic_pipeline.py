"""The prognostic-model section end to end on the benchmark's synthetic cohort with markers.

350 screened patients (about 200 analysed) with height, weight, NLR counts and PD-L1
re-tests (`write_synthetic_cohort(markers=True)`): the run writes the section's results,
both tables in every format, both figures, and the report and manuscript subsection; the
numbers are in range and the seeded bootstrap gives the same results twice.
"""

from __future__ import annotations

import html
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from benchmarks.synthetic_cohort import write_synthetic_cohort

from rechallenge.config import config_from_mapping
from rechallenge.pipeline import analyse_study, load_validated, run_study

N = 350
SECTION = {
    "covariates": ["nlr", "bmi", "ecog", "pdl1_retest", "sex"],
    "splines": {"nlr": 3},
    "validation": {"times_months": [3.0, 6.0], "bootstrap": 40, "seed": 3},
}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synthetic_markers")
    write_synthetic_cohort(folder, N, seed=18, markers=True)
    return folder


@pytest.fixture(scope="module")
def run(data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("run") / "out"
    run_study(data, out, config_from_mapping({"prognostic": SECTION}))
    return out, json.loads((out / "results.json").read_text("utf-8"))


def test_section_is_fitted_with_sane_numbers(run: tuple[Path, dict[str, Any]]) -> None:
    _, results = run
    section = results["prognostic"]
    assert section["status"] == "fitted"
    frame, model, validation = section["frame"], section["model"], section["validation"]
    assert 150 <= section["n_analysed"] <= 250
    assert frame["n"] + frame["excluded"] == frame["n_with_endpoint"] == section["n_analysed"]
    assert frame["excluded"] > 0  # blank heights/weights, no count, no re-test
    assert model["df"] == 6  # nlr (spline, 2), bmi, ecog, pdl1_retest, sex
    assert model["events_per_variable"] == pytest.approx(model["events"] / 6)
    for c in (
        validation["harrell_c"],
        validation["uno_c"],
        validation["bootstrap"]["corrected"]["C"],
    ):
        assert 0.5 < c < 1
    assert all(0.5 < t["auc"] < 1 for t in validation["times"])
    slope = validation["bootstrap"]["corrected"]["Slope"]
    assert 0 < slope < 1.2
    nlr = next(t for t in model["terms"] if t["term"] == "nlr")
    assert nlr["overall"]["df"] == 2 and nlr["nonlinear"]["df"] == 1
    assert results["methods"]["prognostic"][0].startswith("The neutrophil-to-lymphocyte ratio")


def test_tables_figures_and_report_are_written(run: tuple[Path, dict[str, Any]]) -> None:
    out, _ = run
    for table in ("table_prognostic_model", "table_prognostic_validation"):
        for ext in ("csv", "html", "docx", "xlsx"):
            assert (out / "tables" / f"{table}.{ext}").stat().st_size > 0, (table, ext)
    for stem in ("figure_prognostic_calibration", "figure_prognostic_nomogram"):
        for ext in ("png", "svg", "pdf"):
            assert (out / "figures" / f"{stem}.{ext}").stat().st_size > 1000, (stem, ext)
    report = html.unescape((out / "report.html").read_text("utf-8"))
    assert 'id="results-prognostic"' in report and 'id="methods-prognostic"' in report
    assert "Harrell's C" in report and "Multivariable prognostic Cox model" in report
    with zipfile.ZipFile(out / "manuscript.docx") as docx:
        body = docx.read("word/document.xml").decode("utf-8")
    assert "Prognostic model" in body and "Nomogram of the prognostic model" in body


def test_seeded_bootstrap_reproduces_the_run(data: Path, run: tuple[Path, dict[str, Any]]) -> None:
    _, results = run
    config = config_from_mapping({"prognostic": SECTION})
    again = analyse_study(load_validated(data, config), config).results["prognostic"]
    assert again["validation"]["bootstrap"] == results["prognostic"]["validation"]["bootstrap"]
