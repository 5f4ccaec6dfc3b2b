"""The pipeline's outputs: schema-valid, reproducible to the byte, private by default."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest
from rich.console import Console

from rechallenge.config import StudyConfig
from rechallenge.derive.adam import study_day
from rechallenge.pipeline import results_json, run_study

ROOT = Path(__file__).resolve().parents[2]
COHORT = ROOT / "examples" / "seed_cohort"
SCHEMA = json.loads((ROOT / "schemas" / "results.schema.json").read_text(encoding="utf-8"))

pytestmark = pytest.mark.skipif(not (COHORT / "patients.csv").exists(), reason="no cohort")

# intended screen-failure criterion of each patient (examples/seed_cohort/README.md)
INTENDED = {
    "QZ-0014": "nsclc_advanced",
    "QZ-0015": "no_driver",
    "QZ-0016": "has_rechallenge",
    "QZ-0017": "acquired_resistance",
    "QZ-0018": "acquired_resistance",
    "QZ-0019": "measurable_disease",
    "QZ-0020": "age_range",
    "QZ-0021": "initial_stop_reason",
    "QZ-0022": "initial_stop_reason",
    "QZ-0023": "incomplete_data",
    "QZ-0024": "ecog_max",
}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    run_study(COHORT, out, StudyConfig(), console=Console(quiet=True))
    return out


@pytest.fixture(scope="module")
def results(run_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    return data


def test_results_validate_against_the_schema(results: dict[str, Any]) -> None:
    errors = list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(results))
    assert errors == []


def test_schema_rejects_a_result_missing_a_published_key(results: dict[str, Any]) -> None:
    broken = {k: v for k, v in results.items() if k != "cohort"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


def test_same_input_gives_byte_identical_results(results: dict[str, Any], tmp_path: Path) -> None:
    again = run_study(COHORT, tmp_path, StudyConfig(), console=Console(quiet=True))
    assert results_json(again) == results_json(results)
    assert (tmp_path / "results.json").read_bytes() == results_json(results).encode("utf-8")


def test_every_screened_patient_has_status_resistance_and_responses(
    results: dict[str, Any],
) -> None:
    patients = results["cohort"]["patients"]
    assert [p["patient_id"] for p in patients] == [f"P{i:02d}" for i in range(1, 25)]
    for patient in patients:
        assert patient["resistance_class"]
        assert patient["responses"]["initial"]["source"] in {"recist", "investigator"}
    included = [p for p in patients if p["included"]]
    assert all(p["responses"]["rechallenge"]["source"] == "recist" for p in included)


def test_each_screen_failure_has_its_intended_criterion(tmp_path: Path) -> None:
    config = StudyConfig().model_copy(
        update={"output": StudyConfig().output.model_copy(update={"show_ids": True})}
    )
    shown = run_study(COHORT, tmp_path, config, show_ids=True, console=Console(quiet=True))
    excluded = {
        p["patient_id"]: p["criterion"] for p in shown["cohort"]["patients"] if not p["included"]
    }
    assert excluded == INTENDED


def test_no_identifier_or_date_leaves_the_run_by_default(run_dir: Path) -> None:
    ids = pd.read_csv(COHORT / "patients.csv", dtype=str)["patient_id"].tolist()
    dates = pd.read_csv(COHORT / "treatments.csv", dtype=str)["start_date"].tolist()
    for name in ("results.json", "run.log", "report.html"):
        text = (run_dir / name).read_text(encoding="utf-8")
        assert not [i for i in ids if i in text], name
        assert not [d for d in dates if d in text], name
    adtte = pd.read_csv(run_dir / "datasets" / "adtte.csv")
    assert "ADT" not in adtte.columns
    assert set(adtte["USUBJID"]) <= {f"P{i:02d}" for i in range(1, 25)}


def test_analysis_datasets(run_dir: Path) -> None:
    adtte = pd.read_parquet(run_dir / "datasets" / "adtte.parquet")
    assert sorted(adtte["PARAMCD"].unique()) == ["OS", "PFS1", "PFSR"]
    assert len(adtte) == 13 * 3
    assert set(adtte["CNSR"]) <= {0, 1}
    pfsr = adtte[adtte["PARAMCD"] == "PFSR"]
    assert int((pfsr["CNSR"] == 0).sum()) == 11
    assert (adtte["AVALMO"] == adtte["AVAL"] / 30.4375).all()
    adsl = pd.read_csv(run_dir / "datasets" / "adsl.csv")
    assert len(adsl) == 24
    assert int((adsl["ITTFL"] == "Y").sum()) == 13
    adae = pd.read_csv(run_dir / "datasets" / "adae.csv")
    assert set(adae["AESRC"]) <= {"reported", "lab", "both"}


def test_adrs_has_one_best_response_per_course_and_cdisc_study_days(
    run_dir: Path, results: dict[str, Any]
) -> None:
    adrs = pd.read_csv(run_dir / "datasets" / "adrs.csv")
    bor = adrs[adrs["PARAMCD"] == "BOR"]
    assert not bor.duplicated(["USUBJID", "APHASE"]).any()
    rechallenge = bor[bor["APHASE"] == "rechallenge"].set_index("USUBJID")["AVALC"]
    included = {p["patient_id"] for p in results["cohort"]["patients"] if p["included"]}
    counts = rechallenge[rechallenge.index.isin(included)].value_counts().to_dict()
    assert counts == {k: v for k, v in results["efficacy"]["rechallenge"]["bor"].items() if v}
    ovr = adrs[adrs["PARAMCD"] == "OVR"]
    assert bor["ADY"].isna().all() and (ovr["ADY"] >= 2).all()  # follow-up after day 1


@pytest.mark.parametrize(("offset", "day"), [(0, 1), (1, 2), (60, 61), (-1, -1), (-7, -7)])
def test_study_day_has_no_day_zero(offset: int, day: int) -> None:
    assert study_day(offset) == day


def test_methods_are_named_with_each_statistic(results: dict[str, Any]) -> None:
    assert results["km"]["PFSR"]["all"]["ci_method"]
    ordinary = [r for r in results["cox"]["PFSR"] if "ties" in r and not r["firth"]]
    assert {r["ties"] for r in ordinary} == {"efron"}
    # Firth is Breslow-only and its p-values are penalised likelihood-ratio tests
    assert {(r["ties"], r["test"]) for r in results["cox"]["PFSR"] if r.get("firth")} == {
        ("breslow", "firth_lr")
    }
    assert results["efficacy"]["rechallenge"]["dcr"]["method"] == "Clopper-Pearson exact"
    firth = [r for r in results["cox"]["PFSR"] if r.get("firth")]
    assert firth and all(r["monotone"] for r in firth)  # Firth only where Cox is monotone
