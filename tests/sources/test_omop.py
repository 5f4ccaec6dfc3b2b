"""OMOP source: registry, line-of-therapy vectors, and the OMOP run against the CSV run."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rechallenge.config import StudyConfig
from rechallenge.sources import SOURCES, Source, SourceUnavailable, detect_kind, open_source
from rechallenge.sources.registry import load_adapter

pytest.importorskip("ibis", reason="the omop extra (ibis-framework) is not installed")

from rechallenge.sources.omop.lines import assign_lines
from rechallenge.sources.omop.settings import LineRules

# ibis 12 calls duckdb's fetch_arrow_table, deprecated in duckdb 1.5 (fixed upstream later)
# and reads pandas' future.infer_string option, deprecated in pandas 3
pytestmark = [
    pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated"),
]

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seed_cohort"
PDL1 = 2_000_000_002  # the generator's site-local PD-L1 TPS concept
CONFIG = {"omop": {"pdl1_tps_concept_ids": [PDL1]}}


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location(
        "omop_generate", ROOT / "examples" / "omop_cohort" / "generate.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["omop_generate"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cdm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic CDM: omop.duckdb (schema cdm) and parquet/."""
    out = tmp_path_factory.mktemp("omop")
    gen = _generator()
    gen.write(gen.build(), out)
    return out


# --- registry -------------------------------------------------------------------------


def test_kind_from_path_or_url(cdm: Path, tmp_path: Path) -> None:
    assert detect_kind(SEED) == "csv"
    assert detect_kind(tmp_path / "study.xlsx") == "xlsx"
    assert detect_kind(cdm / "omop.duckdb") == "omop"
    assert detect_kind(cdm / "parquet") == "omop"  # a folder holding person.parquet
    assert detect_kind("postgresql://u@localhost/db") == "omop"
    assert detect_kind(None, database="sc://localhost:15002") == "omop"


def test_every_kind_is_registered_with_an_importable_adapter() -> None:
    assert set(SOURCES) == {"csv", "xlsx", "omop"}
    for kind in SOURCES:
        assert load_adapter(kind).kind == kind


def test_missing_adapter_dependency_names_the_install_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(SOURCES, "omop", ("rechallenge_no_such_module:X", "pip install x[y]"))
    with pytest.raises(SourceUnavailable, match=r"pip install x\[y\]"):
        load_adapter("omop")


@pytest.mark.parametrize("form", ["csv", "duckdb", "parquet"])
def test_each_source_meets_the_contract(cdm: Path, form: str) -> None:
    data = {"csv": SEED, "duckdb": cdm / "omop.duckdb", "parquet": cdm / "parquet"}[form]
    source = open_source(data, config=StudyConfig.model_validate(CONFIG))
    assert isinstance(source, Source)
    raw = source.read()
    assert {"patients", "treatments"} <= set(raw.tables)
    assert len(raw.tables["patients"].cells) == 24
    assert len(raw.tables["treatments"].cells) == 55
    assert source.describe()["kind"] == ("csv" if form == "csv" else "omop")


# --- line of therapy: reference §4 test vectors -----------------------------------------


def _doses(start: str, every: int, n: int) -> list[str]:
    first = dt.date.fromisoformat(start)
    return [(first + dt.timedelta(days=every * i)).isoformat() for i in range(n)]


L1 = [
    (d, a)
    for d in ["2021-01-05", "2021-01-26", "2021-02-16", "2021-03-09"]
    for a in ("pembrolizumab", "carboplatin", "pemetrexed")
]
L1 += [
    (d, a)
    for d in ["2021-03-30", "2021-04-20", "2021-05-11", "2021-06-01"]
    for a in ("pembrolizumab", "pemetrexed")
]
L2 = [(d, "pembrolizumab") for d in _doses("2021-01-05", 21, 8)]
L2 += [(d, "docetaxel") for d in ["2021-07-06", "2021-07-27", "2021-08-17"]]
L3A = [
    (d, a)
    for d in ["2021-01-05", "2021-01-26", "2021-02-16"]
    for a in ("carboplatin", "paclitaxel")
]
L3A += [("2021-02-02", "pembrolizumab"), ("2021-02-16", "pembrolizumab")]
L3B = [r for r in L3A if r[1] != "pembrolizumab"]
L3B += [("2021-02-03", "pembrolizumab"), ("2021-02-16", "pembrolizumab")]
L4 = [(d, "pembrolizumab") for d in _doses("2021-01-05", 21, 18)] + [
    ("2022-05-27", "pembrolizumab")
]
L5 = [
    (d, a)
    for d in ["2021-01-05", "2021-01-26"]
    for a in ("cisplatin", "pemetrexed", "pembrolizumab")
]
L5 += [
    (d, a)
    for d in ["2021-02-16", "2021-03-09"]
    for a in ("carboplatin", "pemetrexed", "pembrolizumab")
]
L6 = [(d, "pembrolizumab") for d in _doses("2021-01-05", 42, 4)]

CB, CIS, PEM, PMX, PAC, DOC = (
    "carboplatin",
    "cisplatin",
    "pembrolizumab",
    "pemetrexed",
    "paclitaxel",
    "docetaxel",
)

# expected: one (start, last dose, agents) per line
VECTORS = [
    ("L1", L1, {}, [("2021-01-05", "2021-06-01", {CB, PEM, PMX})]),  # Pem+Pmx is maintenance
    ("L2", L2, {}, [("2021-01-05", "2021-06-01", {PEM}), ("2021-07-06", "2021-08-17", {DOC})]),
    ("L3a", L3A, {}, [("2021-01-05", "2021-02-16", {CB, PAC, PEM})]),  # day 28: inside window
    (
        "L3b",
        L3B,
        {},
        [("2021-01-05", "2021-01-26", {CB, PAC}), ("2021-02-03", "2021-02-16", {CB, PAC, PEM})],
    ),
    ("L4 gap 180", L4, {}, [("2021-01-05", "2022-05-27", {PEM})]),
    (
        "L4 gap 120",
        L4,
        {"gap_days": 120},
        [("2021-01-05", "2021-12-28", {PEM}), ("2022-05-27", "2022-05-27", {PEM})],
    ),
    ("L5 substitution", L5, {}, [("2021-01-05", "2021-03-09", {CB, CIS, PEM, PMX})]),
    (
        "L5 no substitution",
        L5,
        {"substitutions": []},
        [
            ("2021-01-05", "2021-01-26", {CIS, PEM, PMX}),
            ("2021-02-16", "2021-03-09", {CB, PEM, PMX}),
        ],
    ),
    ("L6", L6, {}, [("2021-01-05", "2021-05-11", {PEM})]),  # q6w: drug_era would split it
]


@pytest.mark.parametrize(
    ("name", "rows", "rules", "expected"), VECTORS, ids=[v[0] for v in VECTORS]
)
def test_line_of_therapy_vectors(
    name: str, rows: list[tuple[str, str]], rules: dict[str, Any], expected: list[Any]
) -> None:
    frame = pd.DataFrame([{"person_id": 1, "date": d, "inn": a} for d, a in rows])
    lines = assign_lines(frame, LineRules(**rules))
    got = [
        (r.start_date.isoformat(), r.last_dose_date.isoformat(), set(r.agents))
        for r in lines.itertuples()
    ]
    assert got == expected
    assert list(lines["line"]) == list(range(1, len(expected) + 1))
    assert set(lines["line_source"]) == {"derived:lot_rule_A"}


# --- the OMOP run against the CSV run, on every engine ----------------------------------

ENGINES = ["duckdb", "parquet", "postgres"]


def seed_postgres(url: str, parquet: Path) -> None:
    """Load the synthetic CDM's tables into schema `cdm` of the server at `url` (via Ibis)."""
    import ibis

    con = ibis.connect(url)
    con.raw_sql("DROP SCHEMA IF EXISTS cdm CASCADE")
    con.raw_sql("CREATE SCHEMA cdm")
    for path in sorted(parquet.glob("*.parquet")):
        con.create_table(path.stem, obj=pd.read_parquet(path), database="cdm")
    con.disconnect()


@pytest.fixture(scope="module")
def engines(cdm: Path, request: pytest.FixtureRequest) -> dict[str, str | Path]:
    """How each engine is reached: a path, or a URL for PostgreSQL (seeded on first use)."""
    forms: dict[str, str | Path] = {"duckdb": cdm / "omop.duckdb", "parquet": cdm / "parquet"}
    return forms


def _data(engine: str, engines: dict[str, str | Path], request: pytest.FixtureRequest) -> Any:
    if engine != "postgres":
        return engines[engine]
    url: str = request.getfixturevalue("pg_url")
    if "postgres" not in engines:
        seed_postgres(url, Path(engines["parquet"]))
        engines["postgres"] = url
    return engines["postgres"]


def _results(data: Any) -> dict[str, Any]:
    """Stages 1-4 in memory (no output folder), so a URL source runs like a path."""
    from rechallenge.pipeline import analyse_study, build_results, load_validated

    config = StudyConfig.model_validate(CONFIG)
    return build_results(analyse_study(load_validated(data, config), config), config, False)


@pytest.fixture(scope="module")
def csv_results() -> dict[str, Any]:
    return _results(SEED)


@pytest.mark.parametrize("engine", ENGINES)
def test_each_engine_reads_the_same_tables(
    engine: str, engines: dict[str, str | Path], request: pytest.FixtureRequest
) -> None:
    data = _data(engine, engines, request)
    reference = open_source(engines["duckdb"], config=StudyConfig.model_validate(CONFIG)).read()
    raw = open_source(data, config=StudyConfig.model_validate(CONFIG)).read()
    for name, table in reference.tables.items():
        pd.testing.assert_frame_equal(raw.tables[name].cells, table.cells, check_dtype=False)


@pytest.mark.parametrize("engine", ENGINES)
def test_omop_run_gives_the_csv_cohort_and_survival(
    engine: str,
    engines: dict[str, str | Path],
    request: pytest.FixtureRequest,
    csv_results: dict[str, Any],
) -> None:
    omop = _results(_data(engine, engines, request))
    csv = csv_results
    included = [p.get("included") for p in csv["cohort"]["patients"]]
    assert [p.get("included") for p in omop["cohort"]["patients"]] == included
    assert sum(bool(i) for i in included) == 13
    for key in ("km", "logrank", "cox", "cox_models", "follow_up"):
        assert omop[key] == csv[key], key
    # without lesion rows, the responses come from the disease-status observations
    assert omop["efficacy"]["rechallenge"]["source"].get("investigator") == 13


def test_without_episodes_progression_is_a_marked_proxy(cdm: Path, tmp_path: Path) -> None:
    folder = tmp_path / "no_episodes"
    shutil.copytree(cdm / "parquet", folder)
    (folder / "episode.parquet").unlink()
    source = open_source(folder, config=StudyConfig.model_validate(CONFIG))
    raw = source.read()
    t = raw.tables["treatments"].cells
    first = t[(t["patient_id"] == "1")].sort_values("line")
    # reference L2: the next line's start stands in for progression, and says so
    assert first["progression_date"].iloc[0] == first["start_date"].iloc[1]
    assert set(t["progression_source"]) <= {"proxy:next_line_start", "proxy:death", ""}
    assert "proxy:next_line_start" in set(t["progression_source"])
    assert source.describe()["progression_source"] == "proxy:next_line_or_death"
    assert any(w.code == "OMOP-010" and "not PFS" in w.message for w in raw.warnings)


def test_with_episodes_progression_names_its_source(cdm: Path) -> None:
    raw = open_source(cdm / "omop.duckdb", config=StudyConfig.model_validate(CONFIG)).read()
    t = raw.tables["treatments"].cells
    marked = t[t["progression_date"] != ""]
    assert set(marked["progression_source"]) == {"omop:episode"}
    csv = pd.read_csv(SEED / "treatments.csv", dtype=str).fillna("")
    assert sorted(marked["progression_date"]) == sorted(
        csv[csv["progression_date"] != ""]["progression_date"]
    )


@pytest.mark.parametrize(
    ("unit", "value", "low", "high", "expected"),
    [
        (8713, 11.2, 12.0, 16.0, ("g/dL", "11.2", "12", "16")),  # M1
        (8784, 1500.0, 1800.0, 7700.0, ("10^9/L", "1.5", "1.8", "7.7")),  # M2: /uL → 10^9/L
        (8848, 85.0, None, None, ("10^9/L", "85", "", "")),  # M3: ranges stay blank
        (8749, 34.0, 3.4, 20.5, ("umol/L", "34", "3.4", "20.5")),  # M5
        (8645, 85.0, None, None, ("U/L", "85", "", "")),  # M6
    ],
)
def test_lab_units_and_ranges(
    unit: int, value: float, low: float | None, high: float | None, expected: tuple[str, ...]
) -> None:
    from rechallenge.sources.omop.source import _num_column, _units

    rows = pd.DataFrame({"unit": [unit], "unit_source": [None]})
    units, factor = _units(rows, {})
    numbers = [_num_column(pd.Series([x], dtype="float64"), factor)[0] for x in (value, low, high)]
    assert (units[0], *numbers) == expected


def test_unknown_unit_mapped_only_through_an_alias() -> None:  # M7
    from rechallenge.sources.omop.source import _units

    rows = pd.DataFrame({"unit": [0, None], "unit_source": ["K/uL", "K/uL"]})
    units, factor = _units(rows, {})
    assert list(units) == ["unit_concept_id 0", "unit_concept_id NULL"]  # ids as integers
    units, factor = _units(rows, {"K/uL": "10*3/uL"})
    assert list(units) == ["10^9/L", "10^9/L"]
    assert list(factor) == [1.0, 1.0]


def test_numbers_as_text_keep_blank_and_signed_zero() -> None:
    from rechallenge.sources.omop.source import _num_column

    values = pd.Series([1500.0, None, 0.0, -0.0, 1 / 3])
    got = list(_num_column(values, np.array([0.001, 1.0, 1.0, 1.0, 1.0])))
    assert got == ["1.5", "", "0", "-0", "0.3333333333"]


# --- the command line -----------------------------------------------------------------


def _cli(*args: str) -> Any:
    from typer.testing import CliRunner

    from rechallenge.cli import app

    return CliRunner().invoke(app, list(args))


def _config_file(tmp_path: Path) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(f"omop:\n  pdl1_tps_concept_ids: [{PDL1}]\n", encoding="utf-8")
    return path


def test_cli_run_reads_a_duckdb_cdm_with_its_schema(cdm: Path, tmp_path: Path) -> None:
    out = tmp_path / "res"
    result = _cli(
        "run",
        str(cdm / "omop.duckdb"),
        "--schema",
        "cdm",
        "--out",
        str(out),
        "--config",
        str(_config_file(tmp_path)),
    )
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert sum(bool(p.get("included")) for p in results["cohort"]["patients"]) == 13


def test_cli_run_on_an_unknown_schema_fails_cleanly(cdm: Path, tmp_path: Path) -> None:
    result = _cli("validate", str(cdm / "omop.duckdb"), "--schema", "nope")
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "OMOP-101" in result.output
    assert "lacks the CDM table(s)" in result.output


@pytest.mark.parametrize("engine", ["parquet", "postgres"])
def test_cli_validate_reads_a_folder_or_a_database(
    engine: str, engines: dict[str, str | Path], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    data = _data(engine, engines, request)
    where = ["--database", str(data), "--schema", "cdm"] if engine == "postgres" else [str(data)]
    result = _cli("validate", *where, "--config", str(_config_file(tmp_path)))
    assert result.exit_code == 0, result.output
    assert "24" in result.output  # the screened persons
    assert "proxy" not in result.output  # progression came from episodes


def test_cli_needs_data_or_a_database() -> None:
    result = _cli("validate")
    assert result.exit_code == 2
    assert "--database" in result.output


def test_a_proxy_run_says_so_in_results(cdm: Path, tmp_path: Path) -> None:
    folder = tmp_path / "no_episodes"
    shutil.copytree(cdm / "parquet", folder)
    (folder / "episode.parquet").unlink()
    results = _results(folder)
    warnings = json.dumps(results["warnings"])
    assert "OMOP-010" in warnings
    assert "not PFS" in warnings


def test_a_proxy_endpoint_is_named_in_methods_and_report(cdm: Path, tmp_path: Path) -> None:
    from rechallenge.labels import labels_from_results
    from rechallenge.report.text import methods_text

    folder = tmp_path / "no_episodes"
    shutil.copytree(cdm / "parquet", folder)
    (folder / "episode.parquet").unlink()
    results = _results(folder)
    assert results["methods"]["progression_method"] == "proxy_next_line_or_death"
    worded = results["methods"]["methods_text"]["progression_method"]
    assert "not radiological progression-free survival" in worded
    text = methods_text(results, labels_from_results(results))
    assert "held no observed progression dates" in text
    assert "time to next treatment or death" in text


def test_observed_progression_adds_no_proxy_method(cdm: Path, csv_results: dict[str, Any]) -> None:
    assert "progression_method" not in csv_results["methods"]
    omop = _results(cdm / "omop.duckdb")  # Disease Progression episodes: observed dates
    assert "progression_method" not in omop["methods"]


def test_a_proxy_endpoint_is_named_under_the_survival_table(cdm: Path, tmp_path: Path) -> None:
    from rechallenge.tables.survival import survival_table

    folder = tmp_path / "no_episodes"
    shutil.copytree(cdm / "parquet", folder)
    (folder / "episode.parquet").unlink()
    notes = " ".join(survival_table(_results(folder)).footnotes)
    assert "Progression-free survival rows: progression proxied by" in notes
    plain = " ".join(survival_table(_results(cdm / "omop.duckdb")).footnotes)
    assert "proxied" not in plain
