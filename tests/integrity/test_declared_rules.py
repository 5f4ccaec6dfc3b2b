"""Bad-input classes a declared rule may handle: the rule applied, each change counted.

D4/S5: `endpoints.data_cutoff` (rows after it excluded, events after it censored);
D7: datetimes kept as their local calendar date.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from cohort_copy import COHORT, broken_copy, read_cohort, run_cli
from typer.testing import CliRunner

from rechallenge.cli import app
from rechallenge.config import StudyConfig
from rechallenge.data.cutoff import apply_cutoff, cutoff_timestamp
from rechallenge.data.validate import load_study
from rechallenge.derive.endpoints import derive_endpoints
from rechallenge.derive.patients import derive_patient_facts
from rechallenge.errors import ConfigError
from rechallenge.pipeline import load_validated

pytestmark = pytest.mark.skipif(not (COHORT / "patients.csv").exists(), reason="no cohort")

CUTOFF = "2022-01-01"


def with_cutoff(value: object) -> StudyConfig:
    """The default configuration with a data cut-off (a str today, a date once typed so)."""
    config = StudyConfig()
    endpoints = config.endpoints.model_copy(update={"data_cutoff": value})
    return config.model_copy(update={"endpoints": endpoints})


def after(rows: list[dict[str, str]], column: str) -> int:
    return sum(1 for r in rows if r[column] and r[column] > CUTOFF)


@pytest.mark.parametrize("value", [CUTOFF, dt.date(2022, 1, 1)])
def test_cutoff_excludes_later_rows_and_censors_later_events(value: object) -> None:
    raw = read_cohort(COHORT)
    study = load_validated(COHORT, with_cutoff(value))
    record = study.cutoff
    assert record is not None and record.date == CUTOFF
    assert record.rows_excluded == {
        "treatments": after(raw["treatments"], "start_date"),
        "lesions": after(raw["lesions"], "assessment_date"),
        "adverse_events": after(raw["adverse_events"], "onset_date"),
        "labs": after(raw["labs"], "date"),
    }
    assert record.rows_excluded["lesions"] > 0
    assert record.deaths_censored == after(raw["patients"], "death_date") > 0
    assert record.last_contacts_capped == after(raw["patients"], "last_contact_date")
    day = pd.Timestamp(CUTOFF)
    for table, column in (("lesions", "assessment_date"), ("labs", "date")):
        assert (study.table(table)[column] <= day).all()
    assert (study.patients["last_contact_date"] <= day).all()
    assert (study.patients["death_date"].dropna() <= day).all()
    assert {"CUTOFF-001", "CUTOFF-002"} <= {w.code for w in study.warnings}
    summary = study.summary()  # shown by `validate` and in the run log
    assert summary["rows_after_cutoff_excluded"] == sum(record.rows_excluded.values())
    assert summary["deaths_after_cutoff_censored"] == record.deaths_censored
    config = with_cutoff(value)
    facts = derive_patient_facts(study, config)
    both = facts.table[facts.table["rechallenge_start_date"].notna()]
    times = derive_endpoints(both, facts.responses, config.endpoints)
    assert (times["adt"] <= day).all()  # no event and no follow-up after the cut-off
    deaths_before = sum(1 for r in raw["patients"] if r["death_date"] and r["death_date"] <= CUTOFF)
    os_events = times[(times["paramcd"] == "OS") & (times["cnsr"] == 0)]
    assert len(os_events) <= deaths_before


def test_no_cutoff_changes_nothing() -> None:
    study = load_study(COHORT)
    assert apply_cutoff(study, None) is study
    assert study.cutoff is None


def test_a_cutoff_that_is_no_date_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="data_cutoff"):
        cutoff_timestamp("1 Jan 2022")
    assert cutoff_timestamp(dt.datetime(2022, 1, 1, 12)) == pd.Timestamp(CUTOFF)


def test_cutoff_is_counted_in_the_run_log(tmp_path: Path) -> None:
    config = tmp_path / "study.yaml"
    # a later cut-off: the earlier one leaves too few events for the Cox model's interval
    config.write_text('endpoints:\n  data_cutoff: "2024-01-01"\n', encoding="utf-8")
    result = run_cli(COHORT, tmp_path / "out", config)
    assert result.exit_code == 0, result.output
    log = (tmp_path / "out" / "run.log").read_text(encoding="utf-8")
    assert "CUTOFF-001" in log and "CUTOFF-002" in log
    assert "death(s) after it censored" in log


def test_a_datetime_with_a_zone_keeps_its_local_date(tmp_path: Path) -> None:
    def stamp(cohort: dict[str, list[dict[str, str]]]) -> None:
        row = next(r for r in cohort["adverse_events"] if r["patient_id"] == "QZ-0003")
        row["onset_date"] = "2021-03-05T23:30+01:00"  # 22:30 UTC; the local date is kept

    data = broken_copy(tmp_path / "cohort", stamp)
    study = load_validated(data, StudyConfig())
    [truncated] = [i for i in study.imputations if i.rule == "local_date"]
    assert (truncated.column, truncated.imputed) == ("onset_date", "2021-03-05")
    onset = study.adverse_events.loc[study.adverse_events["patient_id"] == "QZ-0003", "onset_date"]
    assert onset.iloc[0] == pd.Timestamp("2021-03-05")
    result = CliRunner().invoke(app, ["validate", str(data)])
    assert result.exit_code == 0
