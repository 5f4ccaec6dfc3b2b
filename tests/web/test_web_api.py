"""The JSON API in-process: upload, validation, a run, its results and outputs, eligibility."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import make_settings, upload, wait_for

from rechallenge.web import create_app


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("api") / "data")
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def finished_run(api: TestClient, cohort_zip: bytes) -> str:
    """One run of the example cohort, shared by the tests that read its outputs."""
    study = upload(api, cohort_zip)
    response = api.post(f"/api/studies/{study}/runs")
    assert response.status_code == 202
    run_id = str(response.json()["run_id"])
    state = wait_for(api, run_id)
    assert state["status"] == "done", state
    return run_id


def test_upload_of_a_valid_cohort_is_created_and_valid(api: TestClient, cohort_zip: bytes) -> None:
    study = upload(api, cohort_zip)
    body = api.get(f"/api/studies/{study}").json()
    assert body["valid"] is True
    assert body["problems"] == []


def test_problems_are_located_and_identify_nobody(api: TestClient, broken_zip: bytes) -> None:
    body = api.get(f"/api/studies/{upload(api, broken_zip)}").json()
    assert body["valid"] is False
    duplicate = [p for p in body["problems"] if p["code"] == "ID-001"]
    assert duplicate and duplicate[0]["table"].startswith("patients")
    assert duplicate[0]["row"] in (25, 26)  # the last patient (row 25) or its copy (26)
    assert "QZ-00" not in json.dumps(body)  # no patient ID without the study's switch


def test_a_study_with_problems_cannot_run(api: TestClient, broken_zip: bytes) -> None:
    response = api.post(f"/api/studies/{upload(api, broken_zip)}/runs")
    assert response.status_code == 409
    assert "validation problems" in response.json()["detail"]


def test_a_corrected_upload_makes_the_study_valid(
    api: TestClient, broken_zip: bytes, cohort_zip: bytes
) -> None:
    study = upload(api, broken_zip)
    fixed = api.put(
        f"/api/studies/{study}/data", files={"file": ("fixed.zip", cohort_zip, "application/zip")}
    )
    assert fixed.status_code == 200
    assert fixed.json()["valid"] is True


def test_run_reports_done_with_full_progress(api: TestClient, finished_run: str) -> None:
    state = api.get(f"/api/runs/{finished_run}").json()
    assert (state["status"], state["progress"], state["error"]) == ("done", 1.0, None)


def test_results_json_has_the_published_pfsr_median(api: TestClient, finished_run: str) -> None:
    results = api.get(f"/api/runs/{finished_run}/results.json").json()
    assert results["km"]["PFSR"]["all"]["median_months"] == pytest.approx(2.89, abs=0.01)


def test_outputs_zip_holds_the_report_and_datasets(api: TestClient, finished_run: str) -> None:
    response = api.get(f"/api/runs/{finished_run}/outputs.zip")
    assert response.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert "outputs/report.html" in names
    assert "outputs/results.json" in names
    assert any(n.startswith("outputs/datasets/") for n in names)


def test_a_run_with_a_configuration_body_uses_it(api: TestClient, cohort_zip: bytes) -> None:
    study = upload(api, cohort_zip)
    bad = api.post(f"/api/studies/{study}/runs", json={"resistance": {"definition": "nope"}})
    assert bad.status_code == 422
    assert "resistance.definition" in bad.json()["detail"]


def test_unknown_ids_are_404(api: TestClient) -> None:
    assert api.get("/api/studies/nope").status_code == 404
    assert api.get("/api/runs/nope").status_code == 404


def test_openapi_documents_every_endpoint_of_the_issue(api: TestClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    assert {"post"} <= set(paths["/api/studies"])
    for path in (
        "/api/studies/{study_id}",
        "/api/studies/{study_id}/runs",
        "/api/runs/{run_id}",
        "/api/runs/{run_id}/results.json",
        "/api/runs/{run_id}/outputs.zip",
        "/api/eligibility",
    ):
        assert path in paths
    page = api.get("/api")
    assert page.status_code == 200 and "/api/eligibility" in page.text
