"""The OMOP source on PySpark (local[2]): the example cohort's Parquet gives DuckDB's tables.

One Spark session per module (start-up ~20 s on 2 cores); the whole module takes a few
minutes, so it is marked slow. The last test converts the example cohort and runs the study
through the `spark:` configuration section, against the CSV run. Skipped where pyspark or
Java is not installed.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("ibis", reason="the omop extra (ibis-framework) is not installed")
pytest.importorskip("pyspark", reason="the spark extra (pyspark) is not installed")
if shutil.which("java") is None:
    pytest.skip("Spark needs a Java runtime (openjdk-17-jre-headless)", allow_module_level=True)

from tests.sources.test_convert import _cli, _without_source, differences

from rechallenge.sources.omop.connect import Cdm, spark_cdm
from rechallenge.sources.omop.settings import OmopSettings
from rechallenge.sources.omop.source import OmopSource
from rechallenge.sources.omop.spark_settings import SparkSettings

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::FutureWarning"),  # pyspark under pandas 3
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]

ROOT = Path(__file__).resolve().parents[2]
PARQUET = ROOT / "examples" / "omop_cohort" / "parquet"
SEED = ROOT / "examples" / "seed_cohort"
SETTINGS = OmopSettings(pdl1_tps_concept_ids=[2_000_000_002])


@pytest.fixture(scope="module")
def spark() -> Iterator[Cdm]:
    """The example cohort's Parquet as temporary views of one local[2] session."""
    cdm = spark_cdm(PARQUET, None, SparkSettings(conf={"spark.sql.shuffle.partitions": "2"}))
    yield cdm
    cdm.backend._session.stop()


def test_spark_reads_every_cdm_table_of_the_folder(spark: Cdm) -> None:
    assert spark.engine == "pyspark"
    assert {p.stem for p in PARQUET.glob("*.parquet")} == set(spark.names)
    persons = pd.read_parquet(PARQUET / "person.parquet")
    assert int(spark.table("person").count().execute()) == len(persons)


def test_spark_extracts_the_same_tables_as_duckdb(spark: Cdm) -> None:
    source = OmopSource(None, settings=SETTINGS, cdm=spark)
    raw = source.read()
    reference = OmopSource(PARQUET, settings=SETTINGS).read()
    assert set(raw.tables) == set(reference.tables)
    for name, table in reference.tables.items():
        pd.testing.assert_frame_equal(raw.tables[name].cells, table.cells, check_dtype=False)
    assert source.describe()["engine"] == "pyspark"
    assert source.describe()["screened_persons"] == len(reference.tables["patients"].cells)


def test_spark_settings_reject_unknown_keys() -> None:
    with pytest.raises(ValueError, match="extra"):
        SparkSettings.model_validate({"master": "local[2]", "executors": 4})


def test_a_converted_study_run_through_the_spark_section_gives_the_csv_results(
    spark: Cdm, tmp_path: Path
) -> None:
    """`rechallenge convert` then `rechallenge run` on Spark (the `spark:` section) equals
    the CSV run's results.json, the recorded source and spark section aside (runs last: the
    run reuses and then stops the module's session)."""
    converted = tmp_path / "study"
    assert _cli("convert", str(SEED), "--to", "omop", str(converted)).exit_code == 0
    config = tmp_path / "study.yaml"
    config.write_text(
        "spark:\n  master: local[2]\n  conf:\n    spark.sql.shuffle.partitions: '2'\n",
        encoding="utf-8",
    )
    runs = {}
    for name, args in {
        "csv": [str(SEED)],
        "spark": [str(converted), "--config", str(config)],
    }.items():
        result = _cli("run", *args, "--out", str(tmp_path / name))
        assert result.exit_code == 0, result.output
        runs[name] = json.loads((tmp_path / name / "results.json").read_text(encoding="utf-8"))
    recorded = runs["spark"]["manifest"]["config"].pop("spark")
    assert recorded == {
        "master": "local[2]",
        "app_name": "rechallenge",
        "conf": {"spark.sql.shuffle.partitions": "2"},
    }
    assert "spark" not in runs["csv"]["manifest"]["config"]
    found = differences(_without_source(runs["csv"]), _without_source(runs["spark"]))
    assert not found, "results.json differs from the CSV run's:\n" + "\n".join(found[:40])
    assert runs["spark"]["efficacy"]["rechallenge"] == runs["csv"]["efficacy"]["rechallenge"]
