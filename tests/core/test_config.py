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


# --------------------------------------------------------------------------- names and forms


def test_data_cutoff_accepts_a_yaml_date_and_iso_text(tmp_path: Path) -> None:
    path = tmp_path / "study.yaml"
    path.write_text("endpoints:\n  data_cutoff: 2024-12-01\n", encoding="utf-8")
    assert load_config(path).endpoints.data_cutoff == "2024-12-01"
    path.write_text("endpoints:\n  data_cutoff: '2024-12-01'\n", encoding="utf-8")
    assert load_config(path).endpoints.data_cutoff == "2024-12-01"
    path.write_text("endpoints:\n  data_cutoff: 2024-12-01 10:00:00\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="without a time"):
        load_config(path)


def test_yaml_error_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "study.yaml"
    path.write_text("cohort:\n  age_max: 80\n   ecog_max: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"study\.yaml, line 3, column 12: YAML syntax error"):
        load_config(path)


def test_missing_configuration_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nowhere\.yaml: no such file"):
        load_config(tmp_path / "nowhere.yaml")


def test_disabled_criterion_names_are_checked() -> None:
    from rechallenge.config import config_from_mapping

    with pytest.raises(ConfigError, match=r"unknown criterion 'age' \(did you mean 'age_range'"):
        config_from_mapping({"cohort": {"disabled": ["age"]}})
    assert config_from_mapping({"cohort": {"disabled": ["age_range"]}}).cohort.disabled


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"operator": "in", "value": "squamous"}, "needs a list"),
        ({"operator": ">", "value": None}, "needs one value"),
        ({"operator": "not_blank", "value": 1}, "takes no value"),
        ({"operator": "=", "value": 1}, "custom.0.operator"),
    ],
)
def test_custom_criterion_value_fits_its_operator(rule: dict[str, object], message: str) -> None:
    from rechallenge.config import config_from_mapping

    spec = {"name": "x", "description": "y", "column": "bmi", **rule}
    with pytest.raises(ConfigError, match=message):
        config_from_mapping({"cohort": {"custom": [spec]}})


def test_custom_criterion_cannot_shadow_a_protocol_criterion() -> None:
    from rechallenge.config import config_from_mapping

    spec = {"name": "age_range", "description": "y", "column": "bmi", "operator": "not_blank"}
    with pytest.raises(ConfigError, match="has the name of a protocol criterion"):
        config_from_mapping({"cohort": {"custom": [spec]}})


def test_smoking_is_an_alias_of_smoking_status_with_a_notice() -> None:
    from rechallenge.config import config_from_mapping
    from rechallenge.errors import ConfigDeprecationWarning

    with pytest.warns(ConfigDeprecationWarning, match="now spelt 'smoking_status'"):
        config = config_from_mapping({"statistics": {"cox_univariable": ["smoking", "sex"]}})
    assert config.statistics.cox_univariable == ["smoking_status", "sex"]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("varible.sex", "unknown kind 'varible' (did you mean 'variable'?)"),
        ("method.km_ci_method.lgo", "did you mean 'km_ci_method.log'?"),
        ("endpoint.PFSX", "unknown endpoint code 'PFSX'"),
        ("variable", "needs a code after 'variable.'"),
    ],
)
def test_label_keys_are_checked(key: str, message: str) -> None:
    from rechallenge.config import config_from_mapping

    with pytest.raises(ConfigError) as info:
        config_from_mapping({"labels": {key: "x"}})
    assert message in str(info.value)


def test_names_from_the_data_are_checked_against_it() -> None:
    from rechallenge.config import check_names_against, config_from_mapping

    columns = ["patient_id", "sex", "smoking", "histology", "pdl1_tps", "bmi"]
    levels = {"histology": {"squamous", "adenocarcinoma"}, "sex": {"male", "female"}}
    ok = config_from_mapping(
        {
            "statistics": {"cox_univariable": ["bmi", "ecog_group", "age", "smoking_status"]},
            "labels": {"variable.bmi": "Body-mass index", "level.histology.squamous": "Sq."},
        }
    )
    check_names_against(ok, columns, levels)
    bad = config_from_mapping({"statistics": {"cox_multivariable": ["bmii"]}})
    with pytest.raises(ConfigError, match=r"cox_multivariable: unknown covariate 'bmii' \(did"):
        check_names_against(bad, columns, levels)


def test_template_comments_stand_alone() -> None:
    text = config_template()
    assert ".md" not in text
    assert all(len(line) <= 100 for line in text.splitlines() if line.lstrip().startswith("#"))
    assert "# - age_range (inclusion):" in text
