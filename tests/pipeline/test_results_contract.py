"""The example cohort's results carry the schema 1.1 keys (docs/outputs.md, "results.json").

The analyses are run as the pipeline runs them, with the course responses, imputations and
warnings passed in, so every new key is exercised; numbers are checked against R where a
reference exists (tests/reference/follow_up.R).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest

from rechallenge.analysis.methods import methods_text
from rechallenge.analysis.protocol import AnalysisInputs, analyse
from rechallenge.config import StudyConfig
from rechallenge.derive.adverse_events import derive_adverse_events
from rechallenge.derive.endpoints import derive_endpoints
from rechallenge.derive.patients import derive_patient_facts
from rechallenge.labels import Labels, labels_from_config
from rechallenge.pipeline import StudyRun, build_results, load_validated, methods, pseudonymise
from rechallenge.rules.cohort import select_cohort

ROOT = Path(__file__).resolve().parents[2]
COHORT = ROOT / "examples" / "seed_cohort"
REF = ROOT / "tests" / "reference"
SCHEMA = json.loads((ROOT / "schemas" / "results.schema.json").read_text(encoding="utf-8"))
DPM = 30.4375

pytestmark = pytest.mark.skipif(not (COHORT / "patients.csv").exists(), reason="no cohort")


@pytest.fixture(scope="module")
def run() -> tuple[dict[str, Any], pd.DataFrame, int]:
    config = StudyConfig()
    study = load_validated(COHORT, config)
    facts = derive_patient_facts(study, config)
    selection = select_cohort(facts.table, config.cohort)
    included = facts.table[facts.table["patient_id"].isin(selection.included_ids)]
    endpoints = derive_endpoints(included, facts.responses, config.endpoints)
    adverse = derive_adverse_events(study, included, config)
    pseudonyms = pseudonymise(facts.table["patient_id"].astype(str).tolist(), False)
    warnings = (*study.warnings, *facts.warnings)
    inputs = AnalysisInputs(
        facts.table,
        selection,
        endpoints,
        adverse,
        pseudonyms,
        responses=facts.responses,
        imputations=study.imputations,
        warnings=warnings,
    )
    results = analyse(inputs, config)
    results["warnings"] = [{"code": w.code, "message": w.render(False)} for w in warnings]
    full = build_results(StudyRun(study, results, {}, {}), config, show_ids=False)
    full["schema_version"] = "1.1"
    full["methods"]["methods_text"] = methods_text(full["methods"], Labels())
    return full, endpoints, len(warnings)


@pytest.fixture(scope="module")
def results(run: tuple[dict[str, Any], pd.DataFrame, int]) -> dict[str, Any]:
    return run[0]


def test_results_with_every_new_key_validate(results: dict[str, Any]) -> None:
    assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(results)) == []
    for key in ("follow_up", "cox_models", "data_quality"):
        assert key in results


def test_follow_up_median_equals_r_reverse_km(
    run: tuple[dict[str, Any], pd.DataFrame, int],
) -> None:
    results, endpoints, _ = run
    os_rows = endpoints[endpoints["paramcd"] == "OS"]
    exported = pd.read_csv(REF / "data" / "seed_os.csv")  # the data R read
    assert sorted(zip(os_rows["aval_days"], 1 - os_rows["cnsr"], strict=True)) == sorted(
        zip(exported["time"], exported["status"], strict=True)
    )
    r = json.loads((REF / "fixtures" / "follow_up.json").read_text("utf-8"))["seed_os"]["log"]
    fu = results["follow_up"]
    assert (fu["endpoint"], fu["method"], fu["n"]) == ("OS", "reverse_km", 13)
    assert fu["median_days"] == pytest.approx(r["median"], rel=1e-9)
    assert fu["median_months"] == pytest.approx(r["median"] / DPM, rel=1e-9)
    assert fu["lower"] == pytest.approx(r["lower"] / DPM, rel=1e-9)
    assert fu["upper"] is None and r["upper"] is None


def test_histology_has_a_reference_row_firth_rows_and_no_duplicate(
    results: dict[str, Any],
) -> None:
    rows = [
        r
        for r in results["cox"]["PFSR"]
        if r.get("variable") == "histology" and r["model"] == "univariable"
    ]
    assert [r["level"] for r in rows] == ["adenocarcinoma", "adenosquamous", "squamous"]
    reference, *estimated = rows
    assert reference["is_reference"] and reference["hr"] is None and reference["p"] is None
    assert reference["label"] == "Histology: Adenocarcinoma"
    assert all(r["firth"] and r["test"] == "firth_lr" and r["ci_method"] == "profile"
               for r in estimated)  # fmt: skip
    assert all(r["estimable"] and r["hr"] > 0 for r in estimated)
    assert estimated[1]["label"] == "Histology: Squamous cell carcinoma"
    assert estimated[1]["variable_label"] == "Histology"
    assert [r["global_p"] for r in rows] == [pytest.approx(0.0940131507, rel=1e-6)] * 3
    assert {r["global_test"] for r in rows} == {"firth_lr"}
    assert {(r["events_per_parameter"], r["epv_low"]) for r in rows} == {(5.5, True)}


@pytest.mark.parametrize("endpoint", ["PFSR", "OS"])
def test_exactly_one_row_per_term_and_model(results: dict[str, Any], endpoint: str) -> None:
    rows = results["cox"][endpoint]
    keys = Counter((r["model"], r["term"]) for r in rows)
    assert max(keys.values()) == 1
    assert not [r for r in rows if not r["estimable"]]  # Firth gave every term an estimate
    models = results["cox_models"][endpoint]
    assert [m["variables"] for m in models] == [
        [v] for v in StudyConfig().statistics.cox_univariable
    ]
    assert {r["variable"] for r in rows if not r["is_reference"]} == {
        v for m in models for v in m["variables"]
    }


def test_numeric_covariate_and_two_level_factor_rows(results: dict[str, Any]) -> None:
    rows = {r["term"]: r for r in results["cox"]["PFSR"]}
    age = rows["age=per unit"]
    assert (age["level_label"], age["label"], age["is_reference"]) == (
        "per year",
        "Age, years (per year)",
        False,
    )
    assert age["global_p"] is None
    assert rows["ecog_group=0-1"]["is_reference"] and rows["ecog_group=2"]["hr"] == pytest.approx(
        6.839, rel=0.01
    )
    assert rows["ecog_group=2"]["global_p"] is None  # two levels: the Wald p is the test


def test_landmark_rates_are_zero_where_the_curve_reached_zero(results: dict[str, Any]) -> None:
    ecog2 = results["km"]["PFSR"]["ecog_group=2"]
    assert ecog2["steps"]["surv"][-1] == 0
    assert [(r["surv"], r["estimable"]) for r in ecog2["rates"]] == [(0.0, True), (0.0, True)]
    for endpoint in ("PFS1", "PFSR", "OS"):
        for stratum, curve in results["km"][endpoint].items():
            if stratum == "days_per_month":
                continue
            for rate in curve["rates"]:
                assert rate["estimable"] is (rate["surv"] is not None)


def test_waterfall_says_why_a_course_is_pd(results: dict[str, Any]) -> None:
    rows = results["waterfall"]
    assert {r["response_source"] for r in rows} <= {"recist", "irecist", "investigator"}
    pd_rows = [r for r in rows if r["bor"] == "PD"]
    assert pd_rows and all(
        r["pd_reason"] in {"target", "non_target", "new_lesion"} for r in pd_rows
    )
    assert all(r["pd_reason"] is None for r in rows if r["bor"] != "PD")
    # one rechallenge PD of the example cohort is a new lesion while the target sum grew < 20 %
    assert any(r["pd_reason"] == "new_lesion" for r in pd_rows)


def test_swimmer_lanes_are_the_endpoints(run: tuple[dict[str, Any], pd.DataFrame, int]) -> None:
    results, endpoints, _ = run
    pseudonyms = {r["patient"] for r in results["swimmer"]}
    assert len(pseudonyms) == 13
    months = sorted(endpoints[endpoints["paramcd"] == "PFSR"]["aval_days"] / DPM)
    assert sorted(r["pfsr_months"] for r in results["swimmer"]) == pytest.approx(months)
    events = int((endpoints[endpoints["paramcd"] == "OS"]["cnsr"] == 0).sum())
    assert sum(r["os_event"] for r in results["swimmer"]) == events
    assert all(r["pfs1_event"] in (True, False) for r in results["swimmer"])
    # the progression marker is the analysed progression: it ends the PFSR lane
    progressed = [r for r in results["swimmer"] if r["rechallenge_progression"] is not None]
    assert progressed
    for lane in progressed:
        shown = lane["rechallenge_progression"] - lane["rechallenge_start"]
        assert lane["pfsr_event"] and shown == pytest.approx(lane["pfsr_months"], abs=1e-9)


def test_data_quality_counts(run: tuple[dict[str, Any], pd.DataFrame, int]) -> None:
    results, _, n_warnings = run
    quality = results["data_quality"]
    assert sum(quality["warnings_by_code"].values()) == n_warnings > 0
    rows = {r["variable"]: r for r in quality["completeness"]}
    assert {r["n"] for r in rows.values()} == {13}
    assert rows["rechallenge_bor"]["derived"] + rows["rechallenge_bor"]["investigator"] == 13
    assert rows["age_at_rechallenge"]["derived"] == 13
    assert quality["imputations"] == []  # the example cohort has full dates
    text = json.dumps(quality)
    assert "QZ-" not in text and not re.search(r"\d{4}-\d{2}-\d{2}", text)  # no IDs, no dates


def test_attrition_rows_are_worded_from_the_catalogue(results: dict[str, Any]) -> None:
    rows = {r["criterion"]: r for r in results["cohort"]["attrition"]}
    assert rows["age_range"]["failure_label"] == "Age < 18 or > 75 years"
    assert rows["age_range"]["label"] == "Age 18–75 years at the start of rechallenge"
    assert rows["ecog_max"]["failure_label"] == "ECOG performance status > 2"
    assert all("_" not in r["label"] + r["failure_label"] for r in rows.values())


def test_methods_text_words_every_setting() -> None:
    config = StudyConfig()
    settings = methods(config)
    text = methods_text(settings, labels_from_config(config.model_dump(mode="json")))
    assert text["km_ci_method"] == "log-transformed Greenwood intervals"
    assert text["follow_up"] == "reverse Kaplan–Meier method"
    assert text["firth_test"] == "penalised likelihood-ratio test (Firth)"
    assert set(settings) - {"software", "methods_text"} <= set(text)
    assert not [v for v in text.values() if "_" in v or "setting '" in v]
