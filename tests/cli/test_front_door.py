"""What a new user meets first: names checked with suggestions, located YAML errors,
warnings counted, help with examples and exit codes, a summary rounded as the report.

In-process (typer's CliRunner); `test_exit_codes.py` checks the same codes in a subprocess.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rechallenge.cli import EXAMPLE_COHORT, app
from rechallenge.pipeline import STAGE_WEIGHTS, StudyRun, summary_rows, write_steps

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
from datafactory import copy_tables, write_study

runner = CliRunner()


def flat(text: str) -> str:
    """Output with the terminal's line wrapping undone."""
    return " ".join(text.split())


@pytest.fixture
def study(tmp_path: Path) -> Path:
    return write_study(tmp_path / "study", copy_tables())


def validate_with(tmp_path: Path, study: Path, yaml_text: str) -> tuple[int, str]:
    config = tmp_path / "study.yaml"
    config.write_text(yaml_text, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(study), "--config", str(config)])
    return result.exit_code, flat(result.output)


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("cohort:\n  disabled: [age]\n", "unknown criterion 'age' (did you mean 'age_range'?)"),
        (
            "statistics:\n  cox_univariable: [smokng]\n",
            "unknown covariate 'smokng' (did you mean 'smoking_status'?)",
        ),
        (
            "statistics:\n  subgroups:\n    - {name: tps, column: pdl1_tp, threshold: 50, "
            "low: low, high: high, label: TPS}\n",
            "unknown column 'pdl1_tp' (did you mean 'pdl1_tps'?)",
        ),
        (
            "labels:\n  varible.sex: Gender\n",
            "unknown kind 'varible' (did you mean 'variable'?)",
        ),
        (
            "labels:\n  variable.smokng_status: Tobacco\n",
            "unknown variable 'smokng_status' (did you mean 'smoking_status'?)",
        ),
        (
            "labels:\n  level.histology.squamus: Squamous\n",
            "(did you mean 'histology.squamous'?)",
        ),
        (
            "cohort:\n  custom:\n    - {name: x, description: y, column: bmii, operator: '>', "
            "value: 20}\n",
            "unknown patients column 'bmii'",
        ),
        ("statistics:\n  cox_tie: breslow\n", "unknown key 'statistics.cox_tie'"),
        (
            "output:\n  baseline_compare_by: ecog\n",
            "unknown subgroup 'ecog' (did you mean 'ecog_group'?)",
        ),
    ],
)
def test_every_configured_name_is_checked_with_a_suggestion(
    tmp_path: Path, study: Path, yaml_text: str, expected: str
) -> None:
    code, output = validate_with(tmp_path, study, yaml_text)
    assert code == 3, output
    assert expected in output
    assert "Traceback" not in output


def test_unknown_key_suggests_its_sibling(tmp_path: Path, study: Path) -> None:
    code, output = validate_with(tmp_path, study, "statistics:\n  cox_tie: breslow\n")
    assert code == 3
    assert "(did you mean 'cox_ties'?)" in output


def test_yaml_syntax_error_names_file_line_and_column(tmp_path: Path, study: Path) -> None:
    code, output = validate_with(tmp_path, study, "title: x\ncohort:\n  age_max: [80\n")
    assert code == 3
    assert f"{tmp_path / 'study.yaml'}, line 4, column 1: YAML syntax error" in output


def test_unquoted_yaml_date_is_a_data_cutoff(tmp_path: Path, study: Path) -> None:
    code, output = validate_with(tmp_path, study, "endpoints:\n  data_cutoff: 2024-12-01\n")
    assert code == 0, output
    code, output = validate_with(tmp_path, study, "endpoints:\n  data_cutoff: 2024-13-01\n")
    assert code == 3
    assert f"{tmp_path / 'study.yaml'}, line 2, column 16: not a valid date" in output
    code, output = validate_with(tmp_path, study, "endpoints:\n  data_cutoff: '1 Dec 2024'\n")
    assert code == 3
    assert "endpoints.data_cutoff: '1 Dec 2024' is not a date written YYYY-MM-DD" in output


def test_smoking_is_accepted_for_smoking_status_with_a_notice(tmp_path: Path, study: Path) -> None:
    code, output = validate_with(
        tmp_path, study, "statistics:\n  cox_univariable: [smoking, sex]\n"
    )
    assert code == 0, output
    assert "notice" in output and "now spelt 'smoking_status'" in output


def test_validate_counts_warnings_instead_of_saying_no_problems() -> None:
    result = runner.invoke(app, ["validate", str(EXAMPLE_COHORT)])
    assert result.exit_code == 0, result.output
    output = flat(result.output)
    assert "No problems found" not in output
    assert "No errors; 4 warning(s) (listed above) and 0 imputed date(s)" in output
    assert output.count("warning [") == 4


def test_validate_report_writes_warnings(tmp_path: Path) -> None:
    folder = tmp_path / "checks"
    result = runner.invoke(app, ["validate", str(EXAMPLE_COHORT), "--report", str(folder)])
    assert result.exit_code == 0
    lines = (folder / "problems.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + 4


@pytest.mark.parametrize("command", ["run", "validate"])
def test_missing_data_path_is_a_usage_error(command: str, tmp_path: Path) -> None:
    result = runner.invoke(app, [command, str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert flat(result.output) == f"error {tmp_path / 'nowhere'}: no such file or folder"


@pytest.mark.parametrize("command", ["validate", "run", "demo", "init", "drugs", ""])
def test_help_has_examples_exit_codes_and_docs(command: str) -> None:
    result = runner.invoke(app, [*([command] if command else []), "--help"])
    assert result.exit_code == 0
    output = flat(result.output)
    assert "Exit codes: 0 ok; 1 invalid data" in output
    assert "3 invalid configuration" in output
    assert "Documentation: docs/getting-started.md" in output
    if command:
        assert f"Examples: rechallenge {command}" in output
    assert "{data}" not in output and "<bool>  Show patient" not in output


def test_run_help_metavars_read_data_and_folder() -> None:
    output = flat(runner.invoke(app, ["run", "--help"]).output)
    assert "{DATA}" in output or " DATA" in output
    assert "--out -o FOLDER" in output
    assert "--config -c FILE" in output


def test_init_lists_every_criterion_and_a_working_custom_example(tmp_path: Path) -> None:
    from rechallenge.config import load_config
    from rechallenge.rules.cohort import OPERATORS, CohortSettings, protocol_criteria

    target = tmp_path / "study.yaml"
    assert runner.invoke(app, ["init", str(target)]).exit_code == 0
    text = target.read_text(encoding="utf-8")
    for criterion in protocol_criteria(CohortSettings()):
        assert f"# - {criterion.name} ({criterion.kind}):" in text
    assert ", ".join(OPERATORS) in flat(text.replace("#", ""))
    assert ".md" not in text  # no pointer to files a user does not have
    # following the template's own instruction (remove '# ' and 'custom: []') gives a config
    lines = text.splitlines()
    start = lines.index("  # custom:")
    end = lines.index("  custom: []")
    lines[start : end + 1] = [line.replace("# ", "", 1) for line in lines[start:end]]
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    custom = load_config(target).cohort.custom
    assert [c.name for c in custom] == ["pdl1_known", "squamous_only", "tps_50_or_more"]


def test_init_example_criteria_select_on_real_data(tmp_path: Path) -> None:
    from rechallenge.config import config_from_mapping
    from rechallenge.pipeline import analyse_study, load_validated

    config = config_from_mapping(
        {
            "cohort": {
                "custom": [
                    {
                        "name": "tps_50_or_more",
                        "description": "PD-L1 TPS of 50% or more excluded",
                        "column": "pdl1_tps",
                        "operator": ">=",
                        "value": 50,
                        "kind": "exclusion",
                    }
                ]
            }
        }
    )
    run = analyse_study(load_validated(EXAMPLE_COHORT, config), config)
    attrition = {r["criterion"]: r for r in run.results["cohort"]["attrition"]}
    assert attrition["tps_50_or_more"]["excluded"] > 0


def test_end_of_run_names_the_report_and_rounds_like_it(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    output = flat(result.output)
    assert f"Report: {out / 'report.html'}\n" in result.output
    assert "median PFSR, months (95% CI) │ 2.89 (1.97–NR)" in output
    assert "HR, ECOG performance status: 2 vs 0–1 │ 6.84 (1.56–30.03)" in output
    assert "4 data-quality warning(s), 0 imputed date(s): listed in" in output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "2.89" in html and "6.84" in html


def test_progress_is_weighted_and_the_write_stage_has_steps(tmp_path: Path) -> None:
    import json

    results = json.loads((EXAMPLE_COHORT.parent.parent / "tests" / "outputs" / "fixtures" /
                          "results_example.json").read_text(encoding="utf-8"))  # fmt: skip
    assert max(STAGE_WEIGHTS, key=STAGE_WEIGHTS.__getitem__) == "write"
    run = StudyRun(study=None, results=results, datasets={}, timings={})  # type: ignore[arg-type]
    names = [name for name, _ in write_steps(tmp_path, results, run, show_ids=False, pdf=False)]
    assert names[:2] == ["results.json", "datasets"]
    assert sum(n.startswith("figure ") for n in names) >= 7
    assert sum(n.startswith("table ") for n in names) >= 5
    assert names[-2:] == ["report", "manuscript"]


def test_summary_rows_round_half_up() -> None:
    results = {
        "cohort": {"screened": 3, "included": 2},
        "efficacy": {"initial": {"orr": {"estimate": 0.61538}, "dcr": {"estimate": 0.5}}},
        "km": {"OS": {"all": {"median_months": 2.345, "lower": 1.0, "upper": None}}},
        "cox": {"PFSR": [{"label": "X", "hr": 1.005, "lower": 0.5, "upper": 2.0}]},
    }
    rows = dict(summary_rows(results))
    assert rows["ORR / DCR, initial"] == "61.5% / 50.0%"
    assert rows["median OS, months (95% CI)"] == "2.35 (1.00–NR)"
    assert rows["HR, X"] == "1.01 (0.50–2.00)"
