"""Cohort selection: protocol order, one reason per patient, attrition that adds up."""

from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from rechallenge.config import CohortSettings, CustomCriterion, StudyConfig
from rechallenge.derive.patients import derive_patient_facts
from rechallenge.pipeline import load_validated
from rechallenge.rules.cohort import select_cohort

ELIGIBLE = {
    "stage": "IVA", "recurrent": False, "driver": "none", "has_rechallenge": True,
    "resistance_class": "acquired", "resistance_reason": "PR then progression",
    "measurable_at_rechallenge": True, "age_at_rechallenge": 65.0,
    "initial_end_reason": "progression", "rechallenge_evaluable": True, "ecog_rechallenge": 1,
}  # fmt: skip

# (one change to an eligible patient, the criterion that must exclude them)
FAILURES = [
    ({"stage": None}, "nsclc_advanced"),
    ({"driver": "EGFR"}, "no_driver"),
    ({"has_rechallenge": False}, "has_rechallenge"),
    ({"resistance_class": "primary"}, "acquired_resistance"),
    ({"measurable_at_rechallenge": False}, "measurable_disease"),
    ({"age_at_rechallenge": 76.0}, "age_range"),
    ({"age_at_rechallenge": 17.0}, "age_range"),
    ({"initial_end_reason": "irae"}, "initial_stop_reason"),
    ({"initial_end_reason": "marrow_suppression"}, "initial_stop_reason"),
    ({"initial_end_reason": "clinical_decision"}, "initial_stop_reason"),
    ({"rechallenge_evaluable": False}, "incomplete_data"),
    ({"ecog_rechallenge": 3}, "ecog_max"),
]


def screening(changes: list[dict[str, object]]) -> pd.DataFrame:
    rows = [ELIGIBLE | {"patient_id": f"S{i}"} | c for i, c in enumerate(changes)]
    return pd.DataFrame(rows)


def test_each_failure_gets_its_criterion() -> None:
    frame = screening([{}, *[change for change, _ in FAILURES]])
    selection = select_cohort(frame, CohortSettings())
    assert selection.included_ids == ["S0"]
    assert selection.listing["criterion"].tolist()[1:] == [c for _, c in FAILURES]
    assert selection.listing.loc[6, "reason"] == "age 76 outside 18–75 years"


def test_sitc_secondary_resistance_is_the_acquired_phenotype() -> None:
    """SITC definitions name the phenotype secondary resistance; it meets the criterion."""
    frame = screening([{"resistance_class": "secondary"}, {"resistance_class": "primary"},
                       {"resistance_class": "durable_stable_disease,_unclassified"}])  # fmt: skip
    selection = select_cohort(frame, CohortSettings())
    assert selection.included_ids == ["S0"]
    assert selection.listing["criterion"].tolist()[1:] == ["acquired_resistance"] * 2


def test_boundaries_of_age_and_ecog_are_inclusive() -> None:
    frame = screening([{"age_at_rechallenge": 75.0}, {"age_at_rechallenge": 18.0},
                       {"ecog_rechallenge": 2}])  # fmt: skip
    assert len(select_cohort(frame, CohortSettings()).included_ids) == 3


def test_criteria_can_be_switched_off_and_tuned() -> None:
    frame = screening([{"age_at_rechallenge": 78.0}, {"ecog_rechallenge": 3}])
    assert select_cohort(frame, CohortSettings(disabled=["age_range"])).included_ids == ["S0"]
    assert select_cohort(frame, CohortSettings(age_max=80, ecog_max=3)).included_ids == ["S0", "S1"]


def test_custom_criterion() -> None:
    frame = screening([{}, {}]).assign(bmi=[19.0, 24.0])
    rule = CustomCriterion(name="bmi_over_20", description="BMI > 20", column="bmi",
                           operator=">", value=20)  # fmt: skip
    selection = select_cohort(frame, CohortSettings(custom=[rule]))
    assert selection.included_ids == ["S1"]
    assert selection.attrition.iloc[-1]["criterion"] == "bmi_over_20"


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from([{}, *[c for c, _ in FAILURES]]), min_size=1, max_size=30))
def test_attrition_adds_up(changes: list[dict[str, object]]) -> None:
    selection = select_cohort(screening(changes), CohortSettings())
    table = selection.attrition
    assert table.iloc[0]["before"] == len(changes)
    assert (table["before"] - table["excluded"] == table["remaining"]).all()
    assert (table["remaining"].shift(1).dropna() == table["before"].iloc[1:]).all()
    assert table.iloc[-1]["remaining"] + table["excluded"].sum() == len(changes)
    assert len(selection.listing) == len(changes)  # every patient listed exactly once
    assert selection.listing["patient_id"].is_unique


def test_each_resistance_definition_selects_its_own_phenotype_on_the_example_cohort() -> None:
    """Schoenfeld 2021 admits acquired, SITC 2023 secondary resistance; SITC 2020 admits
    none here, because the example cohort has no confirmatory scans (unconfirmed PD)."""
    seed = Path(__file__).resolve().parents[2] / "examples" / "seed_cohort"
    included = {}
    for definition in ("schoenfeld2021", "sitc2020", "sitc2023_combination"):
        config = StudyConfig.model_validate({"resistance": {"definition": definition}})
        facts = derive_patient_facts(load_validated(seed, config), config)
        selection = select_cohort(facts.table, config.cohort)
        included[definition] = len(selection.included_ids)
        if definition == "sitc2020":
            assert set(facts.table["resistance_class"]) == {
                "unconfirmed_progression",
                "progression_after_discontinuation",
            }
    assert included == {"schoenfeld2021": 13, "sitc2020": 0, "sitc2023_combination": 6}
