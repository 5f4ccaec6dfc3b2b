"""The eligibility checker: resistance by each definition and the criteria, in words."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

# A patient meeting every criterion under Schoenfeld 2021: PR on the first ICI, progression
# while on treatment at day 212, docetaxel, then an ICI rechallenge with SD.
ELIGIBLE: dict[str, Any] = {
    "stage": "IVA",
    "ecog_rechallenge": 1,
    "age_at_rechallenge": 63,
    "lines": [
        {
            "ici": True,
            "start_date": "2021-01-04",
            "last_dose_date": "2021-07-26",
            "end_reason": "progression",
            "best_response": "pr",
            "response_date": "2021-03-01",
            "progression_date": "2021-08-04",
            "progression_confirmed_date": "2021-09-06",
        },
        {"ici": False, "start_date": "2021-08-20", "end_reason": "progression"},
        {"ici": True, "start_date": "2022-01-10", "best_response": "sd"},
    ],
}


def check(client: TestClient, patient: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/eligibility", json=patient)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def by_definition(body: dict[str, Any]) -> dict[str, bool]:
    return {v["definition"]: v["acquired"] for v in body["resistance"]}


def test_a_responder_progressing_on_treatment_is_eligible(client: TestClient) -> None:
    body = check(client, ELIGIBLE)
    assert body["eligible"] is True
    assert by_definition(body)["schoenfeld2021"] is True
    assert all(c["met"] for c in body["criteria"])
    assert {c["criterion"] for c in body["criteria"]} >= {"acquired_resistance", "ecog_max"}


def test_sitc_secondary_resistance_counts_as_the_acquired_phenotype(client: TestClient) -> None:
    """PR, then confirmed PD on treatment after > 6 months of exposure: SITC 2020 and 2023
    call it secondary resistance, the phenotype Schoenfeld 2021 calls acquired."""
    body = check(client, ELIGIBLE)
    assert by_definition(body) == {
        "schoenfeld2021": True,
        "sitc2020": True,
        "sitc2023_combination": True,
    }
    classes = {v["definition"]: v["resistance_class"] for v in body["resistance"]}
    assert "secondary" in classes["sitc2023_combination"].lower()


def test_stable_disease_only_is_not_acquired_resistance(client: TestClient) -> None:
    patient = {**ELIGIBLE, "lines": [{**ELIGIBLE["lines"][0], "best_response": "sd"}]}
    patient["lines"][0]["response_date"] = None
    body = check(client, patient)
    assert by_definition(body)["schoenfeld2021"] is False
    failed = {c["criterion"]: c["reason"] for c in body["criteria"] if not c["met"]}
    assert "acquired_resistance" in failed and "has_rechallenge" in failed
    assert failed["acquired_resistance"].startswith("not acquired resistance")
    assert body["eligible"] is False


@pytest.mark.parametrize(("ecog", "met"), [(2, True), (3, False)])
def test_ecog_at_and_beside_the_threshold(client: TestClient, ecog: int, met: bool) -> None:
    body = check(client, {**ELIGIBLE, "ecog_rechallenge": ecog})
    verdict = next(c for c in body["criteria"] if c["criterion"] == "ecog_max")
    assert verdict["met"] is met


def test_a_targetable_driver_fails_with_its_name(client: TestClient) -> None:
    body = check(client, {**ELIGIBLE, "driver": "EGFR"})
    verdict = next(c for c in body["criteria"] if c["criterion"] == "no_driver")
    assert not verdict["met"] and "EGFR" in verdict["reason"]


def test_reasons_name_no_dates(client: TestClient) -> None:
    body = check(client, ELIGIBLE)
    text = " ".join(v["reason"] for v in body["resistance"])
    assert "2021" not in text


def test_no_ici_line_is_a_clear_422(client: TestClient) -> None:
    patient = {**ELIGIBLE, "lines": [ELIGIBLE["lines"][1]]}
    response = client.post("/api/eligibility", json=patient)
    assert response.status_code == 422
    assert "anti-PD-(L)1" in response.json()["detail"]
