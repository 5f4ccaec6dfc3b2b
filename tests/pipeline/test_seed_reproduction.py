"""The example cohort reproduces every published number of the seed study.

Wang, Gao, Chen. Front Oncol 2025;15:1621860 (see ../shared/seed-study.md). Counts and
percentages must match exactly (correctly rounded, not as misprinted); medians within one
day (0.033 months), the ECOG hazard ratio within 1 % and its CI bounds within 2 %.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rechallenge.config import StudyConfig
from rechallenge.pipeline import analyse_study, build_results, load_validated

COHORT = Path(__file__).resolve().parents[2] / "examples" / "seed_cohort"
ONE_DAY_MONTHS = 0.033

pytestmark = pytest.mark.skipif(
    not (COHORT / "patients.csv").exists(), reason="example cohort not generated"
)


def run(config: StudyConfig) -> dict[str, Any]:
    study = load_validated(COHORT, config)
    return build_results(analyse_study(study, config), config, show_ids=False)


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    return run(StudyConfig())


@pytest.fixture(scope="module")
def spss_results() -> dict[str, Any]:
    base = StudyConfig()
    statistics = base.statistics.model_copy(update={"median_ci": "spss"})
    return run(base.model_copy(update={"statistics": statistics}))


def baseline(results: dict[str, Any], variable: str, level: str) -> tuple[int, float]:
    (row,) = [
        r
        for r in results["baseline"]["rows"]
        if r["variable"] == variable and r.get("level") == level
    ]
    return row["n"], row["percent"]


def test_cohort_keeps_the_13_patients(results: dict[str, Any]) -> None:
    cohort = results["cohort"]
    assert cohort["included"] == 13
    assert cohort["screened"] == len(cohort["patients"])
    assert cohort["screened"] - cohort["included"] >= 10
    attrition = cohort["attrition"]
    assert sum(a["excluded"] for a in attrition) == cohort["screened"] - 13
    # every screen failure fails exactly one criterion, and every criterion is exercised
    assert all(a["excluded"] >= 1 for a in attrition)


@pytest.mark.parametrize(
    ("variable", "level", "n", "pct"),
    [
        ("sex", "male", 10, 76.9),
        ("smoking_status", "ever", 10, 76.9),
        ("stage_group", "III", 2, 15.4),
        ("stage_group", "IV", 11, 84.6),
        ("histology", "squamous", 6, 46.2),
        ("histology", "adenocarcinoma", 6, 46.2),
        ("histology", "adenosquamous", 1, 7.7),  # the paper prints 7.8
        ("metastasis", "lung", 6, 46.2),
        ("metastasis", "brain", 2, 15.4),
        ("metastasis", "bone", 2, 15.4),
        ("pdl1", "negative", 5, 38.5),
        ("ecog_group", "2", 5, 38.5),
    ],
)
def test_baseline_characteristics(
    results: dict[str, Any], variable: str, level: str, n: int, pct: float
) -> None:
    assert baseline(results, variable, level) == (n, pct)


def test_age(results: dict[str, Any]) -> None:
    (age,) = [r for r in results["baseline"]["rows"] if r["variable"] == "age"]
    assert (age["median"], age["min"], age["max"]) == (67, 58, 70)


def test_efficacy(results: dict[str, Any]) -> None:
    initial, rechallenge = results["efficacy"]["initial"], results["efficacy"]["rechallenge"]
    assert initial["bor"] == {"CR": 0, "PR": 13, "SD": 0, "PD": 0, "NE": 0}
    assert rechallenge["bor"] == {"CR": 0, "PR": 0, "SD": 8, "PD": 5, "NE": 0}
    assert rechallenge["bor_percent"]["SD"] == 61.5
    assert rechallenge["bor_percent"]["PD"] == 38.5
    assert rechallenge["orr"]["percent"] == 0.0
    assert rechallenge["dcr"]["percent"] == 61.5
    assert rechallenge["orr"]["method"] == "Clopper-Pearson exact"
    assert initial["source"] == {"recist": 13}


@pytest.mark.parametrize(
    ("endpoint", "stratum", "published"),
    [
        ("PFS1", "all", 5.97),
        ("PFSR", "all", 2.90),
        ("PFSR", "ecog_group=0-1", 6.14),
        ("PFSR", "ecog_group=2", 1.68),
        ("PFSR", "pdl1=positive", 3.06),
        ("PFSR", "pdl1=negative", 1.68),
    ],
)
def test_medians_within_one_day(
    results: dict[str, Any], endpoint: str, stratum: str, published: float
) -> None:
    median = results["km"][endpoint][stratum]["median_months"]
    assert median == pytest.approx(published, abs=ONE_DAY_MONTHS)


def test_group_sizes(results: dict[str, Any]) -> None:
    km = results["km"]["PFSR"]
    assert (km["ecog_group=0-1"]["n"], km["ecog_group=2"]["n"]) == (8, 5)
    assert (km["pdl1=positive"]["n"], km["pdl1=negative"]["n"]) == (8, 5)


def test_logrank(results: dict[str, Any]) -> None:
    assert round(results["logrank"]["PFSR"]["ecog_group"]["p"], 3) == 0.004
    assert results["logrank"]["PFSR"]["pdl1"]["p"] > 0.05  # not significant


def test_cox_ecog(results: dict[str, Any]) -> None:
    (row,) = [
        r
        for r in results["cox"]["PFSR"]
        if r.get("variable") == "ecog_group"
        and r["model"] == "univariable"
        and not r["firth"]
        and not r["is_reference"]
    ]
    assert row["hr"] == pytest.approx(6.839, rel=0.01)
    assert row["lower"] == pytest.approx(1.557, rel=0.02)
    assert row["upper"] == pytest.approx(30.032, rel=0.02)
    assert round(row["p"], 3) == 0.011
    assert row["ties"] == "efron"


@pytest.mark.parametrize(
    ("phase", "term", "any_grade", "grade_3_4"),
    [
        ("initial", "Fatigue", 6, 1),
        ("initial", "Anemia", 5, 2),
        ("initial", "Neutrophil count decreased", None, 2),
        ("initial", "White blood cell decreased", None, 1),
        ("rechallenge", "Anemia", 5, 1),
        ("rechallenge", "Fatigue", 4, 0),
    ],
)
def test_adverse_events(
    results: dict[str, Any], phase: str, term: str, any_grade: int | None, grade_3_4: int
) -> None:
    (row,) = [r for r in results["adverse_events"][phase] if r["term"] == term]
    if any_grade is not None:
        assert row["any_grade"] == any_grade
    assert row["grade_3_4"] == grade_3_4


def test_adverse_event_percentages_are_correctly_rounded(results: dict[str, Any]) -> None:
    rows = {r["term"]: r for r in results["adverse_events"]["rechallenge"]}
    assert rows["Anemia"]["grade_3_4_pct"] == 7.7  # printed 7.8 in the paper
    assert rows["Fatigue"]["any_grade_pct"] == 30.8  # printed 30.7
    initial = {r["term"]: r for r in results["adverse_events"]["initial"]}
    assert initial["Fatigue"]["any_grade_pct"] == 46.2  # printed 46.1


def test_most_frequent_terms(results: dict[str, Any]) -> None:
    assert [r["term"] for r in results["adverse_events"]["initial"][:2]] == ["Fatigue", "Anemia"]
    assert [r["term"] for r in results["adverse_events"]["rechallenge"][:2]] == [
        "Anemia",
        "Fatigue",
    ]


@pytest.mark.parametrize(
    ("endpoint", "lower", "upper"), [("PFS1", 4.13, 7.81), ("PFSR", 1.97, 3.83)]
)
def test_spss_median_confidence_intervals(
    spss_results: dict[str, Any], endpoint: str, lower: float, upper: float
) -> None:
    km = spss_results["km"][endpoint]["all"]
    assert km["ci_method"].lower().startswith("spss")
    assert km["lower"] == pytest.approx(lower, abs=0.05)
    assert km["upper"] == pytest.approx(upper, abs=0.05)
