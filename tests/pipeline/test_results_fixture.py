"""The outputs' fixture (tests/outputs/fixtures/results_example.json) follows schema 1.1.

Figures, tables and the report are tested on this fixture, so it must carry every key the
analyses publish, with values consistent with its own patients.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from rechallenge.analysis.regression import ROW_KEYS
from rechallenge.stats.km import median_follow_up

ROOT = Path(__file__).resolve().parents[2]
FIXTURE: dict[str, Any] = json.loads(
    (ROOT / "tests" / "outputs" / "fixtures" / "results_example.json").read_text("utf-8")
)
SCHEMA = json.loads((ROOT / "schemas" / "results.schema.json").read_text(encoding="utf-8"))


def test_fixture_validates_against_the_schema() -> None:
    assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(FIXTURE)) == []
    assert FIXTURE["schema_version"] == "1.1"


def test_fixture_carries_every_new_key() -> None:
    assert {"follow_up", "cox_models", "data_quality"} <= set(FIXTURE)
    assert "methods_text" in FIXTURE["methods"]
    for row in FIXTURE["cox"]["PFSR"]:
        assert set(ROW_KEYS) <= set(row)
    assert all({"label", "failure_label"} <= set(a) for a in FIXTURE["cohort"]["attrition"])
    assert all({"pd_reason", "response_source"} <= set(w) for w in FIXTURE["waterfall"])
    lanes = {"pfs1_months", "pfs1_event", "pfsr_months", "pfsr_event", "os_months", "os_event"}
    assert all(lanes <= set(s) for s in FIXTURE["swimmer"])
    for endpoint in ("PFS1", "PFSR", "OS"):
        for stratum, curve in FIXTURE["km"][endpoint].items():
            assert all({"n_risk", "estimable"} <= set(r) for r in curve["rates"]), stratum


def test_fixture_values_agree_with_its_patients() -> None:
    lanes = FIXTURE["swimmer"]
    m = median_follow_up([s["os_months"] for s in lanes], [int(s["os_event"]) for s in lanes])
    assert FIXTURE["follow_up"]["median_months"] == pytest.approx(m.estimate)
    cox = FIXTURE["cox"]["PFSR"]
    assert len({(r["model"], r["term"]) for r in cox}) == len(cox)
    histology = [r for r in cox if r["variable"] == "histology"]
    assert histology[0]["is_reference"] and histology[0]["global_p"] is not None
    models = FIXTURE["cox_models"]["PFSR"]
    for row in cox:  # every row belongs to a listed model with the same events
        (model,) = [
            m for m in models if m["model"] == row["model"] and row["variable"] in m["variables"]
        ]
        assert (model["events"], model["events_per_parameter"]) == (
            row["events"],
            row["events_per_parameter"],
        )
    pd_rows = [w for w in FIXTURE["waterfall"] if w["bor"] == "PD"]
    assert pd_rows and all(w["pd_reason"] for w in pd_rows)
    assert all(w["pd_reason"] is None for w in FIXTURE["waterfall"] if w["bor"] != "PD")
