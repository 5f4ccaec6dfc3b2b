"""`rechallenge.run_study` from Python: str or Path, config as path, dict or StudyConfig,
a frozen result with sections, DataFrames, figures and notebook display."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure

import rechallenge
from rechallenge import StudyConfig, StudyResult
from rechallenge.errors import ConfigError, DataValidationError, OutputFolderError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
from datafactory import copy_tables, write_study

ROOT = Path(__file__).resolve().parents[2]
COHORT = ROOT / "examples" / "seed_cohort"


@pytest.fixture(scope="module")
def result() -> StudyResult:
    return rechallenge.run_study(str(COHORT))  # a str, as a notebook user writes it


def test_str_path_runs_in_memory_without_writing(result: StudyResult) -> None:
    assert result.out is None and result.report is None
    assert repr(result) == "StudyResult(screened=24, included=13)"


def test_result_is_frozen_and_read_only(result: StudyResult) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.out = Path("x")  # type: ignore[misc]
    with pytest.raises(TypeError):
        result.results["cohort"] = {}  # type: ignore[index]
    frame = result.datasets["ADSL"]
    frame.iloc[0, 0] = "changed"
    assert result.datasets["ADSL"].iloc[0, 0] != "changed"


def test_sections_are_attributes_with_dataframes(result: StudyResult) -> None:
    for name in ("cohort", "responses", "resistance", "baseline", "efficacy", "km",
                 "logrank", "cox", "adverse_events"):  # fmt: skip
        section = getattr(result, name)
        assert isinstance(section.frame, pd.DataFrame) and len(section.frame) > 0, name
    assert result.cohort.frame["remaining"].iloc[-1] == 13
    pfsr = result.km.frame.query("endpoint == 'PFSR' and stratum == 'all'").iloc[0]
    assert round(pfsr["median_months"], 2) == 2.89
    assert set(result.cox.frame["endpoint"]) == {"PFSR", "OS"}
    assert result.efficacy.table is not None
    assert "ICI rechallenge (n = 13)" in result.efficacy.table.columns


def test_tables_match_the_written_csv(result: StudyResult, tmp_path: Path) -> None:
    written = rechallenge.run_study(COHORT, out=tmp_path / "out")
    assert written.report == (tmp_path / "out" / "report.html").resolve()
    csv = pd.read_csv(tmp_path / "out" / "tables" / "table2_efficacy.csv", dtype=str,
                      keep_default_na=False, encoding="utf-8-sig")  # fmt: skip
    table = written.tables["table2_efficacy"]
    assert list(table.columns) == list(csv.columns)
    assert table.iloc[:, 0].tolist() == csv.iloc[:, 0].tolist()


def test_figures_are_matplotlib_figures(result: StudyResult) -> None:
    assert "figure1_km_pfs" in result.figure_names
    assert isinstance(result.figure("figure1_km_pfs"), Figure)
    with pytest.raises(KeyError, match="did you mean 'figure1_km_pfs'"):
        result.figure("figure1_km_pf")


def test_notebook_display(result: StudyResult) -> None:
    html = result._repr_html_()
    assert "<table" in html and "24 / 13" in html
    assert "<h4>efficacy</h4>" in result.efficacy._repr_html_()


@pytest.mark.parametrize(
    "config",
    [{"cohort": {"age_max": 80}}, StudyConfig.model_validate({"cohort": {"age_max": 80}})],
)
def test_config_as_dict_or_model(config: object) -> None:
    assert rechallenge.run_study(COHORT, config).results["cohort"]["included"] == 14  # type: ignore[arg-type]


def test_config_as_yaml_path(tmp_path: Path) -> None:
    path = tmp_path / "study.yaml"
    path.write_text("cohort:\n  age_max: 80\n", encoding="utf-8")
    assert rechallenge.run_study(COHORT, str(path)).results["cohort"]["included"] == 14


def test_errors_are_the_documented_exceptions(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="did you mean 'age_range'"):
        rechallenge.run_study(COHORT, {"cohort": {"disabled": ["age"]}})
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        rechallenge.run_study(tmp_path / "nowhere")
    tables = copy_tables()
    tables["treatments"][0]["ecog"] = "7"
    with pytest.raises(DataValidationError) as info:
        rechallenge.run_study(write_study(tmp_path / "broken", tables))
    assert info.value.problems[0].code == "RANGE-001"
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(OutputFolderError, match="--force"):
        rechallenge.run_study(COHORT, out=tmp_path / "theirs")
