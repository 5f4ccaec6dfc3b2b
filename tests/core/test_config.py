"""The configuration: seed-protocol defaults, unknown keys named, the template round-trips."""

from pathlib import Path

import pytest
import yaml

from rechallenge.config import StudyConfig, config_template, load_config
from rechallenge.errors import ConfigError


def test_defaults_reproduce_the_seed_protocol() -> None:
    config = StudyConfig()
    assert config.resistance.definition == "schoenfeld2021"
    assert config.response.criterion == "recist1.1"
    assert config.response.baseline_window_days == 28
    assert config.response.confirmation is False  # retrospective study: unconfirmed BOR
    assert config.adverse_events.ctcae_version == "4.0"
    assert config.endpoints.days_per_month == 30.4375
    assert config.statistics.km_conf_type == "log"
    assert config.statistics.cox_ties == "efron"
    assert config.statistics.alpha == 0.05
    assert config.data.partial_dates == "error"
    assert config.endpoints.censoring == "last_contact"
    assert (config.cohort.age_min, config.cohort.age_max, config.cohort.ecog_max) == (18, 75, 2)
    assert [s.name for s in config.statistics.subgroups] == ["ecog_group", "pdl1"]


def test_unknown_keys_are_named(tmp_path: Path) -> None:
    path = tmp_path / "study.yaml"
    path.write_text("statistics:\n  cox_tie: breslow\nfoo: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "unknown key 'statistics.cox_tie'" in message
    assert "unknown key 'foo'" in message


def test_bad_values_are_explained(tmp_path: Path) -> None:
    path = tmp_path / "study.yaml"
    path.write_text("statistics:\n  cox_ties: exact\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"statistics\.cox_ties"):
        load_config(path)


def test_template_lists_every_default_and_loads_back(tmp_path: Path) -> None:
    text = config_template()
    for key in ("ctcae_version", "baseline_window_days", "days_per_month", "km_conf_type",
                "cox_ties", "alpha", "partial_dates", "censoring"):  # fmt: skip
        assert f"{key}:" in text
    assert text.count("# ") > 30  # every setting carries its description
    path = tmp_path / "study.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_config(path) == StudyConfig()


def test_partial_configuration_keeps_other_defaults(tmp_path: Path) -> None:
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump({"cohort": {"age_max": 80}}), encoding="utf-8")
    config = load_config(path)
    assert config.cohort.age_max == 80
    assert config.cohort.age_min == 18
