"""Baseline levels are worded by the label catalogue, and a study's overrides reach the table.

The baseline section names each level with ``labels.level(variable, level)``: the packaged
catalogue (``histology.nos`` -> "NSCLC, not otherwise specified") unless the configuration's
``labels:`` section says otherwise. The override is followed from the configuration through
the pipeline to results.json and the rendered baseline table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from rechallenge.analysis.baseline import baseline_section
from rechallenge.config import StudyConfig
from rechallenge.labels import Labels, labels_from_config
from rechallenge.pipeline import analyse_study, build_results, load_validated
from rechallenge.tables.study import build_tables

COHORT = Path(__file__).resolve().parents[2] / "examples" / "seed_cohort"
OVERRIDE = {"level.pdl1.negative": "TPS below 1%", "level.histology.squamous": "Squamous"}


def _frame() -> pd.DataFrame:
    """Three patients covering levels whose catalogue words differ from the codes."""
    return pd.DataFrame(
        {
            "age_at_rechallenge": [60, 70, 65],
            "sex": ["male", "female", "male"],
            "smoking": ["never", "former", "current"],
            "stage": ["IIIB", "IVA", "IV"],
            "histology": ["nos", "squamous", "adenocarcinoma"],
            "metastases": [("brain",), (), ("bone", "lung")],
            "pdl1": ["positive", "negative", None],
            "ecog_group": ["0-1", "2", "0-1"],
        }
    )


def _words(section: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(variable, level) -> level_label of the categorical rows."""
    return {
        (r["variable"], r["level"]): r["level_label"]
        for r in section["rows"]
        if r["kind"] == "categorical"
    }


def test_catalogue_words_the_levels() -> None:
    words = _words(baseline_section(_frame(), StudyConfig(), Labels()))
    assert words[("histology", "nos")] == "NSCLC, not otherwise specified"
    assert words[("histology", "squamous")] == "Squamous cell carcinoma"
    assert words[("pdl1", "positive")] == "Positive (TPS ≥ 1%)"
    assert words[("pdl1", "negative")] == "Negative (TPS < 1%)"
    assert words[("ecog_group", "0-1")] == "0–1"
    # levels without an entry are humanised as before
    assert words[("metastasis", "brain")] == "Brain"
    assert words[("stage_group", "III")] == "III"
    assert words[("pdl1", "missing")] == "Missing"


def test_configuration_override_words_the_level() -> None:
    config = StudyConfig(labels=OVERRIDE)
    labels = labels_from_config(config.model_dump(mode="json"))
    words = _words(baseline_section(_frame(), config, labels))
    assert words[("pdl1", "negative")] == "TPS below 1%"
    assert words[("histology", "squamous")] == "Squamous"
    assert words[("histology", "nos")] == "NSCLC, not otherwise specified"


@pytest.mark.skipif(not (COHORT / "patients.csv").exists(), reason="no cohort")
def test_override_reaches_results_and_baseline_table() -> None:
    config = StudyConfig(labels=OVERRIDE)
    results = build_results(analyse_study(load_validated(COHORT, config), config), config, False)
    words = _words(results["baseline"])
    assert words[("pdl1", "negative")] == "TPS below 1%"
    assert words[("pdl1", "positive")] == "Positive (TPS ≥ 1%)"
    table = build_tables(results)["table3_baseline"]
    first_cells = [r.texts[0] for r in table.rows]
    assert "TPS below 1%" in first_cells and "Squamous" in first_cells
    assert "Positive (TPS ≥ 1%)" in first_cells
    assert "Negative" not in first_cells and "Squamous cell carcinoma" not in first_cells
