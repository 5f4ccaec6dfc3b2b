"""`rechallenge convert DATA --to omop OUT` and the lossless round trip (issue 13, "Done when").

The example cohort converted to OMOP and run from the .duckdb file, the Parquet folder and a
real PostgreSQL server (schema cdm of a database of its own on the throwaway cluster) gives a
results.json identical to the CSV run's, key by key, the manifest's inputs (the source's
file checksums) aside. The study tables read back equal the CSV ones cell for cell.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
import pytest
from tests.sources.test_omop import seed_postgres

pytest.importorskip("ibis", reason="the omop extra (ibis-framework) is not installed")

from rechallenge.config import StudyConfig
from rechallenge.data.model import Study
from rechallenge.errors import DataValidationError
from rechallenge.pipeline import load_validated
from rechallenge.sources import open_source
from rechallenge.sources.omop import convert as convert_module
from rechallenge.sources.omop.convert import convert_to_omop
from rechallenge.sources.omop.settings import OmopSettings

pytestmark = [
    pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated"),
]

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seed_cohort"
TABLES = ("patients", "treatments", "lesions", "adverse_events", "labs")
SEED_IDS = pd.read_csv(SEED / "patients.csv", dtype=str)["patient_id"].tolist()


def _cli(*args: str) -> Any:
    from typer.testing import CliRunner

    from rechallenge.cli import app

    return CliRunner().invoke(app, list(args))


def differences(left: Any, right: Any, path: str = "") -> list[str]:
    """Every place where two JSON values differ, as `path: left != right` lines."""
    if isinstance(left, dict) and isinstance(right, dict):
        out = []
        for key in sorted(set(left) | set(right), key=str):
            where = f"{path}/{key}"
            if key not in right:
                out.append(f"{where}: only in the CSV run")
            elif key not in left:
                out.append(f"{where}: only in the OMOP run")
            else:
                out += differences(left[key], right[key], where)
        return out
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return [f"{path}: {len(left)} items != {len(right)} items"]
        return [d for i, (a, b) in enumerate(zip(left, right, strict=True)) for d in
                differences(a, b, f"{path}[{i}]")]  # fmt: skip
    if type(left) is not type(right) or left != right:
        return [f"{path}: {left!r:.80} != {right!r:.80}"]
    return []


def _without_source(results: dict[str, Any]) -> dict[str, Any]:
    """results.json without the manifest's source section: the input files' checksums and
    the configured OMOP location (database URL, schema), which name where the data came from."""
    manifest = {k: v for k, v in results["manifest"].items() if k != "inputs"}
    config = dict(manifest["config"])
    config["omop"] = {
        k: v for k, v in config["omop"].items() if k not in {"database", "schema_name"}
    }
    return {**results, "manifest": {**manifest, "config": config}}


@pytest.fixture(scope="module")
def seed_study() -> Study:
    return load_validated(SEED, StudyConfig())


@pytest.fixture(scope="module")
def converted(seed_study: Study, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The example cohort as a .duckdb file and as a Parquet folder."""
    out = tmp_path_factory.mktemp("converted")
    forms = {"duckdb": out / "study.duckdb", "parquet": out / "study"}
    for path in forms.values():
        convert_to_omop(seed_study, path)
    return forms


@pytest.fixture(scope="module")
def csv_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("csv") / "res"
    result = _cli("run", str(SEED), "--out", str(out))
    assert result.exit_code == 0, result.output
    return dict(json.loads((out / "results.json").read_text(encoding="utf-8")))


def _converted_database(pg_url: str, parquet: Path) -> str:
    """A database of its own on the server, schema cdm holding the converted tables."""
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("DROP DATABASE IF EXISTS rechallenge_convert")
        con.execute("CREATE DATABASE rechallenge_convert")
    parts = urlsplit(pg_url)
    url = urlunsplit((parts.scheme, parts.netloc, "/rechallenge_convert", "", ""))
    seed_postgres(url, parquet)
    return url


@pytest.mark.parametrize("form", ["duckdb", "parquet"])
def test_the_study_reads_back_cell_for_cell(
    form: str, converted: dict[str, Path], seed_study: Study
) -> None:
    back = load_validated(converted[form], StudyConfig())
    assert back.supplied == seed_study.supplied
    for name in TABLES:
        pd.testing.assert_frame_equal(
            getattr(back, name).reset_index(drop=True),
            getattr(seed_study, name).reset_index(drop=True),
            obj=name,
        )
    assert len(back.lesions) == 547 and len(back.adverse_events) == 22  # the seed's rows


@pytest.mark.parametrize("engine", ["duckdb", "parquet", "postgres"])
def test_the_omop_run_gives_the_csv_results_json(
    engine: str,
    converted: dict[str, Path],
    csv_results: dict[str, Any],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    out = tmp_path / "res"
    if engine == "postgres":
        url = _converted_database(request.getfixturevalue("pg_url"), converted["parquet"])
        result = _cli("run", "--database", url, "--schema", "cdm", "--out", str(out))
    else:
        result = _cli("run", str(converted[engine]), "--out", str(out))
    assert result.exit_code == 0, result.output
    omop = json.loads((out / "results.json").read_text(encoding="utf-8"))
    found = differences(_without_source(csv_results), _without_source(omop))
    assert not found, "results.json differs from the CSV run's:\n" + "\n".join(found[:40])
    assert omop["manifest"]["inputs"] == []  # the source section: no input files
    assert "convention" not in omop["manifest"]["config"]["omop"]  # off: not recorded
    assert omop["efficacy"]["rechallenge"] == csv_results["efficacy"]["rechallenge"]


def test_differences_names_the_path_of_each_change() -> None:
    left = {"a": [1, {"b": 2.0}], "c": "x"}
    right = {"a": [1, {"b": 2.5}], "d": "x"}
    assert differences(left, right) == [
        "/a[1]/b: 2.0 != 2.5",
        "/c: only in the CSV run",
        "/d: only in the OMOP run",
    ]
    assert differences({"n": 1}, {"n": 1.0}) == ["/n: 1 != 1.0"]  # an int is not a float


def test_convert_cli_writes_once_and_replaces_only_with_force(tmp_path: Path) -> None:
    out = tmp_path / "study.duckdb"
    first = _cli("convert", str(SEED), "--to", "omop", str(out))
    assert first.exit_code == 0, first.output
    assert "24 patient(s)" in first.output and out.is_file()
    assert not any(pid in first.output for pid in SEED_IDS)  # no patient id on the console
    stamp = out.stat().st_mtime_ns
    again = _cli("convert", str(SEED), "--to", "omop", str(out))
    assert again.exit_code == 2 and "--force" in again.output
    assert out.stat().st_mtime_ns == stamp
    forced = _cli("convert", str(SEED), "--to", "omop", str(out), "--force")
    assert forced.exit_code == 0, forced.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.duckdb"]  # no scratch left


def test_convert_cli_usage_errors(tmp_path: Path) -> None:
    wrong = _cli("convert", str(SEED), "--to", "fhir", str(tmp_path / "x"))
    assert wrong.exit_code == 2 and "only target is omop" in wrong.output
    missing = _cli("convert", str(tmp_path / "nope"), "--to", "omop", str(tmp_path / "x"))
    assert missing.exit_code == 2 and "no such file" in missing.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_invalid_data_is_refused_like_validate_and_nothing_is_written(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(SEED, bad)
    treatments = (bad / "treatments.csv").read_text(encoding="utf-8").splitlines()
    treatments[1] = treatments[1].replace("2020-06-22", "2020-22-06")  # an impossible date
    (bad / "treatments.csv").write_text("\n".join(treatments) + "\n", encoding="utf-8")
    checked = _cli("validate", str(bad))
    out = tmp_path / "out"
    result = _cli("convert", str(bad), "--to", "omop", str(out))
    assert checked.exit_code == 1 and result.exit_code == 1
    first_problem = checked.output.splitlines()[0]
    assert first_problem in result.output
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad"]


def test_a_failed_write_leaves_nothing_and_keeps_the_old_output(
    seed_study: Study, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "study"
    convert_to_omop(seed_study, out)
    before = sorted(p.name for p in out.iterdir())

    def broken(frames: dict[str, pd.DataFrame], target: Path) -> None:
        target.mkdir()
        (target / "person.parquet").write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(convert_module, "write_tables", broken)
    with pytest.raises(OSError, match="disk full"):
        convert_to_omop(seed_study, out, force=True)
    assert sorted(p.name for p in out.iterdir()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study"]
    with pytest.raises(FileExistsError):
        convert_to_omop(seed_study, out)


def test_without_the_metadata_row_the_convention_is_not_used(
    converted: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "undeclared"
    shutil.copytree(converted["parquet"], folder)
    (folder / "metadata.parquet").unlink()
    raw = open_source(folder, config=StudyConfig()).read()
    assert "lesions" not in raw.tables and "adverse_events" not in raw.tables
    assert any(w.code == "OMOP-011" for w in raw.warnings)  # and it says so
    assert set(raw.tables["patients"].cells["patient_id"]) == {str(i) for i in range(1, 25)}
    switched = OmopSettings(convention=True)
    config = StudyConfig.model_validate({"omop": switched.model_dump(by_alias=True)})
    back = open_source(folder, config=config).read()
    assert len(back.tables["lesions"].cells) == 547
    assert list(back.tables["patients"].cells["patient_id"]) == SEED_IDS


def test_concepts_are_exactly_those_used(converted: dict[str, Path]) -> None:
    tables = {p.stem: pd.read_parquet(p) for p in converted["parquet"].glob("*.parquet")}
    concept_ids = set(tables["concept"]["concept_id"].astype(int))
    used = {
        int(v)
        for name, frame in tables.items()
        if name not in {"concept", "concept_ancestor"}
        for column in frame.columns
        if column.endswith("concept_id") and column != "metadata_concept_id"
        for v in frame[column].dropna()
    }
    assert concept_ids <= used | {4115276}  # the NSCLC root, ancestor of the histologies
    assert 45775965 in concept_ids and 36853469 in concept_ids  # pembrolizumab, camrelizumab
    ancestor = tables["concept_ancestor"]
    assert set(ancestor["descendant_concept_id"].astype(int)) == concept_ids
    meta = tables["metadata"].iloc[0]
    assert (meta["metadata_concept_id"], meta["name"]) == (0, "rechallenge_convention")
    assert meta["value_as_string"] == "1"


def test_a_value_the_convention_cannot_carry_is_refused(seed_study: Study, tmp_path: Path) -> None:
    patients = seed_study.patients.copy()
    patients.loc[0, "pdl1_retest_tps"] = 40.0  # without its date
    study = Study(
        **{**seed_study.__dict__, "patients": patients}  # a frozen dataclass: a new one
    )
    with pytest.raises(DataValidationError) as caught:
        convert_to_omop(study, tmp_path / "x.duckdb")
    assert caught.value.problems[0].code == "CONVERT-001"
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_readme_from_omop_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's two "From OMOP" commands, verbatim, from a project-like folder."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = [
        line.split()[1:]
        for line in text.splitlines()
        if line.startswith(("rechallenge convert ", "rechallenge run study.duckdb"))
    ]
    assert [c[0] for c in commands] == ["convert", "run"]
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    for command in commands:
        result = _cli(*command)
        assert result.exit_code == 0, result.output
    assert (tmp_path / "results" / "results.json").is_file()


# --- concept coverage (OMOP-030/031/032) on a real-instance-like CDM -------------------------


def test_coverage_counts_mapped_exposures_units_and_missing_facts() -> None:
    from rechallenge.sources.omop.coverage import coverage_problems

    drugs = pd.DataFrame(
        {
            "ingredient_id": [45775965, 45775965, None, None],
            "inn": ["pembrolizumab", "pembrolizumab", "sintilimab", "docetaxel"],
        }
    )
    patients = pd.DataFrame(
        {
            "patient_id": ["1", "2", "3"],
            "stage": ["IVA", "", ""],
            "smoking": ["never", "former", "current"],
            "driver": ["none", "none", "EGFR"],
            "pdl1_tps": ["50", "1", "0"],
            "metastases": ["bone", "", "lung"],
        }
    )
    lines = pd.DataFrame({"patient_id": ["1", "1", "2", "3"], "ecog": ["", "1", "", ""]})
    labs = pd.DataFrame({"patient_id": ["1", "1"], "unit": ["g/L", "unit_concept_id 0"]})
    found = coverage_problems(6, drugs, patients, lines, labs)
    assert [(p.code, p.column) for p in found] == [
        ("OMOP-030", None),
        ("OMOP-031", None),
        ("OMOP-032", "stage"),
        ("OMOP-032", "metastases"),
        ("OMOP-032", "ecog"),
        ("OMOP-032", "test"),
    ]
    assert "of 6 drug exposure(s)" in found[0].message
    assert "2 map to a dictionary ingredient by drug_concept_id, 2 by drug_source_value" in (
        found[0].message
    )
    assert "2 to neither" in found[0].message  # 6 rows, 4 read
    assert "of 3 anti-PD-(L)1 exposure(s), 2 by concept and 1 by source value" in found[0].message
    assert "1 of 2 lab result(s)" in found[1].message
    assert "2 of 3 screened person(s) lack a stage group" in found[2].message
    assert "2 of 3 screened person(s) lack an ECOG" in found[4].message  # patient 1 has one
    assert "2 of 3 screened person(s) lack any lab result" in found[5].message
    assert all(p.severity == "warning" for p in found)


def test_a_real_instance_gets_the_coverage_report(
    converted: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "undeclared"
    shutil.copytree(converted["parquet"], folder)
    (folder / "metadata.parquet").unlink()
    raw = open_source(folder, config=StudyConfig()).read()
    codes = [w.code for w in raw.warnings]
    assert codes.count("OMOP-030") == 1
    exposures = next(w for w in raw.warnings if w.code == "OMOP-030").message
    assert "of 823 drug exposure(s)" in exposures and "0 to neither" in exposures
    pdl1 = [w for w in raw.warnings if w.code == "OMOP-032" and w.column == "pdl1_tps"]
    assert pdl1 and "24 of 24" in pdl1[0].message  # no TPS concept configured
    assert not any(pid in w.message for w in raw.warnings for pid in SEED_IDS)
    declared = open_source(converted["parquet"], config=StudyConfig()).read()
    assert declared.warnings == ()  # a converted instance is complete by construction


def test_a_converted_instance_missing_a_table_is_one_problem(
    converted: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "partial"
    shutil.copytree(converted["parquet"], folder)
    (folder / "episode_event.parquet").unlink()
    with pytest.raises(DataValidationError) as caught:
        open_source(folder, config=StudyConfig()).read()
    (problem,) = caught.value.problems
    assert problem.code == "OMOP-102" and "episode_event" in problem.message


def test_a_workbook_converts_to_the_same_study(tmp_path: Path) -> None:
    from tests.files.filefactory import cohort_workbook

    workbook = cohort_workbook(tmp_path / "cohort.xlsx")
    out = tmp_path / "from-workbook"
    result = _cli("convert", str(workbook), "--to", "omop", str(out))
    assert result.exit_code == 0, result.output
    assert (out / "person.parquet").is_file() and (out / "metadata.parquet").is_file()
    given, back = load_validated(workbook, StudyConfig()), load_validated(out, StudyConfig())
    for name in TABLES:
        pd.testing.assert_frame_equal(
            getattr(back, name).reset_index(drop=True),
            getattr(given, name).reset_index(drop=True),
            obj=name,
        )
