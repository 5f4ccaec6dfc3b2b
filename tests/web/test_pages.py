"""The pages in-process: configuration form, run page with the report, compare, eligibility."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from tests.outputs.test_report_visible import visible_text
from tests.web.conftest import make_settings, upload, wait_for

from rechallenge.config import StudyConfig, load_config
from rechallenge.web import create_app, forms
from rechallenge.web.worker import stage_words


def submitted(config: StudyConfig) -> dict[str, str]:
    """What a browser sends for the form filled with `config` (unticked boxes are absent)."""
    values: dict[str, str] = {}
    for section in forms.build_form(config):
        for field in section.fields:
            if field.widget == "checkbox":
                if field.value:
                    values[field.key] = "on"
            else:
                values[field.key] = "" if field.value is None else str(field.value)
    return values


def csrf_of(client: TestClient, page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).text)
    assert match
    return match.group(1)


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("pages") / "data", workers=2)
    with TestClient(create_app(settings)) as client:
        yield client


def test_the_form_read_back_unchanged_is_the_same_configuration() -> None:
    config = StudyConfig(figures={"width": 89.0, "palette": "greyscale"})
    read = forms.read_form(submitted(config))
    dumped = config.model_dump(mode="json", by_alias=True)  # the YAML's own keys
    assert {k: v for k, v in dumped.items() if v is not None} == read
    assert StudyConfig.model_validate(read) == config


def test_the_form_names_criteria_and_methods_in_words(web: TestClient, cohort_zip: bytes) -> None:
    study = upload(web, cohort_zip)
    page = web.get(f"/studies/{study}/config").text
    assert "Acquired immune resistance to the first PD-(L)1 course" in page
    assert "Age 18–75 years at the start of rechallenge" in page
    assert "log-transformed Greenwood intervals" in page
    for key in ("statistics.subgroups", "statistics.cox_multivariable", "resistance.definition"):
        assert f'name="{key}"' in page


def test_saving_the_form_writes_the_yaml_the_cli_reads(
    web: TestClient, cohort_zip: bytes, tmp_path: Path
) -> None:
    study = upload(web, cohort_zip)
    values = submitted(StudyConfig())
    values["resistance.definition"] = "sitc2020"
    values["cohort.ecog_max"] = "1"
    del values["criterion:age_range"]  # unticked: the criterion is switched off
    values["csrf_token"] = csrf_of(web, f"/studies/{study}/config")
    response = web.post(f"/studies/{study}/config", data=values, follow_redirects=False)
    assert response.status_code == 303
    path = tmp_path / "study.yaml"
    path.write_text(web.get(f"/studies/{study}/study.yaml").text, encoding="utf-8")
    config = load_config(path)
    assert config.resistance.definition == "sitc2020"
    assert config.cohort.ecog_max == 1
    assert config.cohort.disabled == ["age_range"]


def test_an_invalid_form_is_refused_with_the_key(web: TestClient, cohort_zip: bytes) -> None:
    study = upload(web, cohort_zip)
    values = submitted(StudyConfig())
    values["cohort.ecog_max"] = "9"
    values["csrf_token"] = csrf_of(web, f"/studies/{study}/config")
    response = web.post(f"/studies/{study}/config", data=values)
    assert response.status_code == 422
    assert "ecog_max" in response.text and "not saved" in response.text
    saved = yaml.safe_load(web.get(f"/studies/{study}/study.yaml").text) or {}
    assert (saved.get("cohort") or {}).get("ecog_max", 2) == 2


@pytest.fixture(scope="module")
def two_runs(web: TestClient, cohort_zip: bytes) -> tuple[str, str, str]:
    """A study run twice: A with the defaults, B with log-log Kaplan-Meier intervals."""
    study = upload(web, cohort_zip)
    token = csrf_of(web, f"/studies/{study}")
    first = web.post(f"/studies/{study}/runs", data={"csrf_token": token}, follow_redirects=False)
    run_a = first.headers["location"].rsplit("/", 1)[1]
    live = web.get(f"/runs/{run_a}").text
    assert 'id="run-progress"' in live
    assert wait_for(web, run_a)["status"] == "done"
    config = StudyConfig().model_dump(mode="json")
    config["statistics"]["km_conf_type"] = "log-log"
    run_b = web.post(f"/api/studies/{study}/runs", json=config).json()["run_id"]
    assert wait_for(web, run_b)["status"] == "done"
    return study, run_a, run_b


def test_run_compare_and_report_pages(web: TestClient, two_runs: tuple[str, str, str]) -> None:
    study, run_a, run_b = two_runs
    page = web.get(f"/runs/{run_a}").text
    assert "median PFSR, months (95% CI)" in page and "2.89" in page
    assert f"/runs/{run_a}/outputs.zip" in page and "manuscript.docx" in page
    assert "Table 1. Definition of acquired immune resistance, as applied" in page
    assert "Figure 6. Cox proportional-hazards models for PFSR: hazard ratios" in page
    report = web.get(f"/runs/{run_a}/report")
    assert report.status_code == 200 and "sandbox" in report.headers["content-security-policy"]
    compare = web.get(f"/compare?a={run_a}&b={run_b}").text
    assert 'data-path="statistics.km_conf_type"' in compare
    assert "Confidence interval of the Kaplan–Meier estimates" in compare
    assert "Log–log-transformed Greenwood intervals" in compare
    moved = re.search(r"Numbers that moved \((\d+)\)", compare)
    assert moved and int(moved.group(1)) > 0
    assert "PFSR, all patients, 6-month rate, lower 95% CI" in compare  # the band moved
    assert "PFSR, all patients, median, months" not in compare  # the median did not
    token = csrf_of(web, f"/studies/{study}")
    variant = web.post(
        "/runs/compare-variant",
        data={"csrf_token": token, "run_id": run_a, "definition": "sitc2020"},
        follow_redirects=False,
    )
    assert variant.status_code == 303 and f"compare={run_a}" in variant.headers["location"]
    history = web.get(f"/studies/{study}").text
    assert "Run 1" in history and "Run 2" in history


UNDERSCORED = re.compile(r"\w_\w")
DOTTED = re.compile(r"\b[A-Za-z_][\w-]*\.[A-Za-z_][\w-]*")


def raw_codes(html: str) -> list[str]:
    """Configuration codes and results paths in a page's visible text (words only pass)."""
    return raw_codes_in_text(visible_text(html))


def raw_codes_in_text(text: str) -> list[str]:
    """Words with an underscore inside, dotted paths, and lines with a bracket."""
    found = [m.group(0) for m in UNDERSCORED.finditer(text)]
    found += [m.group(0) for m in DOTTED.finditer(text)]
    found += [line for line in text.splitlines() if "[" in line]
    return found


def test_raw_code_check_finds_codes() -> None:
    page = "<p>km.OS.all.rates.[12 months].lower</p><p>schoenfeld2021 ecog_max</p>"
    assert raw_codes(page) == ["g_m", "km.OS", "all.rates", "km.OS.all.rates.[12 months].lower"]
    assert raw_codes("<p>Schoenfeld et al. (2021), 2.89 (1.97–NR)</p>") == []


def test_run_and_compare_pages_show_words_not_codes(
    web: TestClient, two_runs: tuple[str, str, str]
) -> None:
    _, run_a, run_b = two_runs
    run_page = web.get(f"/runs/{run_a}").text
    assert "Acquired immune resistance as defined by Schoenfeld et al. (2021)" in run_page
    assert "schoenfeld2021" not in visible_text(run_page)
    compare_page = web.get(f"/compare?a={run_a}&b={run_b}").text
    assert "OS, all patients, 12-month rate, lower 95% CI" in compare_page
    for page in (run_page, compare_page):
        assert raw_codes(page) == []


def test_the_eligibility_form_answers_in_words(web: TestClient) -> None:
    token = csrf_of(web, "/eligibility")
    form = {
        "csrf_token": token,
        "stage": "IVA",
        "ecog": "1",
        "age": "63",
        "measurable": "on",
        "line1_ici": "on",
        "line1_start_date": "2021-01-04",
        "line1_last_dose_date": "2021-07-26",
        "line1_end_reason": "progression",
        "line1_best_response": "pr",
        "line1_response_date": "2021-03-01",
        "line1_progression_date": "2021-08-04",
        "line1_progression_confirmed_date": "2021-09-06",
        "line2_start_date": "2021-08-20",
        "line3_ici": "on",
        "line3_start_date": "2022-01-10",
        "line3_best_response": "sd",
    }
    page = web.post("/eligibility", data=form)
    assert page.status_code == 200
    assert '<h2 id="verdict">Eligible</h2>' in page.text
    assert "Schoenfeld" in page.text


def test_problems_table_is_sortable_filterable_and_downloadable(
    web: TestClient, broken_zip: bytes
) -> None:
    study = upload(web, broken_zip)
    page = web.get(f"/studies/{study}").text
    assert 'class="sortable"' in page and 'data-filter="problems"' in page
    assert f"/studies/{study}/problems.csv" in page
    csv_text = web.get(f"/studies/{study}/problems.csv").text
    assert csv_text.splitlines()[0] == "code,severity,table,row,column,message,fix,value"


@pytest.mark.parametrize(
    ("stage", "shown"),
    [
        ("writing figure figure1_km_pfs", "writing the figures"),
        ("writing table table_cox_pfsr", "writing the tables"),
        ("writing results.json", "writing the results"),
        ("writing datasets", "writing the datasets"),
        ("writing manuscript", "writing the manuscript"),
        ("computing the statistics", "computing the statistics"),  # already words
    ],
)
def test_the_live_stage_is_shown_in_words(stage: str, shown: str) -> None:
    assert stage_words(stage) == shown
