"""The label catalogue: every code a reader can meet has words, overrides win."""

from __future__ import annotations

import pytest

from rechallenge.labels import KINDS, Labels, default_catalogue, humanise, labels_from_config


@pytest.mark.parametrize(
    ("kind", "code", "expected"),
    [
        ("variable", "smoking_status", "Smoking history"),
        ("level", "histology.squamous", "Squamous cell carcinoma"),
        ("stop_reason", "irae", "immune-related adverse events"),
        ("method", "km_ci_method.log", "log-transformed Greenwood intervals"),
        ("variable", "unheard_of", "Unheard of"),  # humanised fallback
    ],
)
def test_catalogue_entries(kind: str, code: str, expected: str) -> None:
    assert Labels().get(kind, code) == expected


def test_templates_are_filled_from_the_configuration() -> None:
    labels = labels_from_config({"cohort": {"age_min": 20, "age_max": 80, "ecog_max": 1}})
    assert labels.failure("age_range") == "Age < 20 or > 80 years"
    assert labels.failure("ecog_max") == "ECOG performance status > 1"
    assert "{" not in labels.criterion("initial_stop_reason")


def test_overrides_win_and_booleans_read_as_settings() -> None:
    labels = Labels({"variable.smoking_status": "Tobacco use"})
    assert labels.variable("smoking_status") == "Tobacco use"
    assert labels.method("bor_confirmation", True).startswith("best overall response confirmed")


def test_no_catalogue_label_is_a_code() -> None:
    catalogue = default_catalogue()
    assert set(catalogue) == set(KINDS)
    filled = labels_from_config({})
    for kind, entries in catalogue.items():
        for code in entries:
            assert "_" not in filled.get(kind, code), (kind, code)
    assert humanise("large_cell") == "Large cell"
