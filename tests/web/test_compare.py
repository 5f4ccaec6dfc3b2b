"""Compare view in words: results paths and configuration keys read as the catalogue words them."""

from __future__ import annotations

import re
from typing import Any

import yaml

from rechallenge.config import StudyConfig
from rechallenge.web import compare

RESULTS: dict[str, Any] = {
    "methods": {"alpha": 0.05},
    "km": {
        "OS": {
            "all": {"lower": 9.5, "rates": [{"time_months": 12.0, "surv": 0.6, "lower": 0.4}]},
            "ecog_group=0-1": {"median_months": 7.1},
        }
    },
    "cox": {
        "PFSR": [
            {
                "variable": "ecog_group",
                "level": "2",
                "label": "ECOG performance status: 2",
                "model": "univariable",
                "hr": 6.8,
            }
        ]
    },
    "efficacy": {"rechallenge": {"orr": {"lower": 0.0}, "bor": {"SD": 8}}},
    "data_quality": {"warnings_by_code": {"RECIST-NO_FOLLOW_UP": 1}},
    "prognostic_model": {"c_index": {"optimism_corrected": 0.7}},  # a section not known here
    "swimmer": [{"os_months": 3.0}],  # per-patient rows: left out
}


def moved(changed: dict[str, Any]) -> dict[str, str]:
    """Words of every number that moved when each leaf is nudged."""
    nudged = yaml.safe_load(yaml.safe_dump(changed))

    def bump(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: bump(v) for k, v in node.items()}
        if isinstance(node, list):
            return [bump(v) for v in node]
        return node + 1 if isinstance(node, int | float) and not isinstance(node, bool) else node

    nudged = bump(nudged)
    nudged["methods"] = changed["methods"]
    return {c.path: c.words for c in compare.number_changes(changed, nudged)}


def test_results_paths_read_as_words() -> None:
    words = moved(RESULTS)
    assert (
        words["km.OS.all.rates.[12 months].lower"]
        == "OS, all patients, 12-month rate, lower 95% CI"
    )
    assert words["km.OS.all.rates.[12 months].surv"] == "OS, all patients, 12-month rate"
    assert words["km.OS.all.lower"] == "OS, all patients, median, lower 95% CI"
    assert words["km.OS.ecog_group=0-1.median_months"] == (
        "OS, ECOG performance status: 0–1, median, months"
    )
    cox = "cox.PFSR.[ecog_group/2/univariable].hr"
    assert words[cox] == "Cox model, PFSR, ECOG performance status: 2 (univariable), hazard ratio"
    assert words["efficacy.rechallenge.orr.lower"] == (
        "ICI rechallenge, objective response rate, lower 95% CI"
    )
    assert words["efficacy.rechallenge.bor.SD"] == (
        "ICI rechallenge, best overall response: stable disease, patients"
    )
    assert words["data_quality.warnings_by_code.RECIST-NO_FOLLOW_UP"] == (
        "Data-quality warnings, RECIST: no follow up"
    )
    assert words["prognostic_model.c_index.optimism_corrected"] == (
        "Prognostic model, c index, optimism corrected"
    )
    assert not any(path.startswith("swimmer") for path in words)
    for text in words.values():  # an unknown section is humanised, never a code
        assert not re.search(r"\w_\w|\[|[A-Za-z]\.[A-Za-z]", text), text


def test_configuration_changes_name_the_setting_and_its_values_in_words() -> None:
    a = StudyConfig().model_dump(mode="json")
    b = yaml.safe_load(yaml.safe_dump(a))
    b["resistance"]["definition"] = "sitc2023_combination"
    b["cohort"]["disabled"] = ["age_range"]
    b["statistics"]["subgroups"][0]["threshold"] = 3
    changes = {c.path: c for c in compare.config_changes(yaml.safe_dump(a), yaml.safe_dump(b))}
    definition = changes["resistance.definition"]
    assert definition.words == "Definition of acquired resistance"
    assert definition.b_words.startswith("Acquired resistance to ICI–chemotherapy combinations")
    disabled = changes["cohort.disabled"]
    assert (disabled.a_words, disabled.b_words) == (
        "none",
        "Age 18–75 years at the start of rechallenge",
    )
    threshold = changes["statistics.subgroups.[ecog_group].threshold"]
    assert threshold.words == "Subgroups, ECOG PS 2 vs 0–1, threshold"
    assert (threshold.a_words, threshold.b_words) == ("2", "3")
