"""The `spark:` configuration section and folders of per-table Parquet parts (no pyspark).

Spark itself is replaced by a recorder of `spark_cdm`'s arguments: these tests check that
the settings validate, travel from the configuration to the connection, and stay out of
the recorded manifest when unset. tests/sources/test_spark.py runs a real session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from rechallenge.config import StudyConfig
from rechallenge.pipeline import _redacted_config
from rechallenge.sources import detect_kind, open_source
from rechallenge.sources.omop.spark_settings import SparkSettings

pytest.importorskip("ibis", reason="the omop extra (ibis-framework) is not installed")

from rechallenge.sources.omop import connect as connect_module
from rechallenge.sources.omop.connect import table_files
from rechallenge.sources.omop.source import OmopSource

pytestmark = [
    pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated"),
]

ROOT = Path(__file__).resolve().parents[2]
PARQUET = ROOT / "examples" / "omop_cohort" / "parquet"
SPARK = {"master": "local[1]", "app_name": "study", "conf": {"spark.sql.shuffle.partitions": "8"}}
CONFIG = {"omop": {"pdl1_tps_concept_ids": [2_000_000_002]}}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Arguments of every `spark_cdm` call; the call itself returns a sentinel."""
    seen: list[tuple[Any, ...]] = []

    def record(folder: Path | None, schema: str | None, settings: SparkSettings) -> str:
        seen.append((folder, schema, settings))
        return "spark-cdm"

    monkeypatch.setattr(connect_module, "spark_cdm", record)
    return seen


def test_the_spark_section_validates_and_is_off_by_default() -> None:
    assert StudyConfig().spark is None
    config = StudyConfig.model_validate({"spark": SPARK})
    assert config.spark == SparkSettings(**SPARK)
    assert config.spark.conf == {"spark.sql.shuffle.partitions": "8"}
    assert StudyConfig.model_validate({"spark": {}}).spark == SparkSettings()
    with pytest.raises(ValueError, match="executors"):
        StudyConfig.model_validate({"spark": {"executors": 4}})


def test_an_unset_spark_section_leaves_the_manifest_config_unchanged() -> None:
    assert "spark" not in _redacted_config(StudyConfig())
    recorded = _redacted_config(StudyConfig.model_validate({"spark": SPARK}))
    assert recorded["spark"] == SPARK


def test_open_source_hands_the_spark_settings_to_the_omop_source() -> None:
    config = StudyConfig.model_validate({**CONFIG, "spark": SPARK})
    source = open_source(PARQUET, config=config)
    assert isinstance(source, OmopSource)
    assert source.spark == config.spark
    assert open_source(PARQUET, config=StudyConfig()).spark is None  # type: ignore[attr-defined]
    catalogue = open_source(None, schema="cdm", config=config)
    assert catalogue.kind == "omop"
    assert (catalogue.location, catalogue.schema) == (None, "cdm")  # type: ignore[attr-defined]


def test_a_folder_with_spark_settings_is_read_on_spark(calls: list[tuple[Any, ...]]) -> None:
    settings = SparkSettings(**SPARK)
    source = OmopSource(PARQUET, spark=settings)
    assert source.cdm == "spark-cdm"
    assert calls == [(PARQUET, None, settings)]


def test_a_spark_master_url_keeps_the_section_name_and_conf(
    calls: list[tuple[Any, ...]],
) -> None:
    settings = SparkSettings(**SPARK)
    assert connect_module.connect(None, "spark://host:7077", "cdm", settings) == "spark-cdm"
    assert connect_module.connect(None, "spark://other:7077", None) == "spark-cdm"
    (_, schema, merged), (_, _, plain) = calls
    assert schema == "cdm"
    assert merged == settings.model_copy(update={"master": "spark://host:7077"})
    assert merged.conf == SPARK["conf"] and merged.app_name == "study"
    assert plain == SparkSettings(master="spark://other:7077")


def test_no_location_no_url_and_no_spark_section_is_an_error() -> None:
    with pytest.raises(ValueError, match="spark section"):
        connect_module.connect(None, None, None)


def _split_into_parts(source: Path, target: Path, parts: int) -> None:
    """Each table of `source` as a folder `target/<table>/` of `parts` Parquet files."""
    for path in sorted(source.glob("*.parquet")):
        frame = pq.read_table(path)
        folder = target / path.stem
        folder.mkdir(parents=True)
        step = max(1, -(-frame.num_rows // parts))
        for i, start in enumerate(range(0, max(frame.num_rows, 1), step)):
            pq.write_table(frame.slice(start, step), folder / f"part-{i:05d}.parquet")


def test_a_folder_of_per_table_part_folders_reads_like_single_files(tmp_path: Path) -> None:
    _split_into_parts(PARQUET, tmp_path, parts=3)
    assert len(list((tmp_path / "measurement").glob("*.parquet"))) == 3
    assert detect_kind(tmp_path) == "omop"
    assert set(table_files(tmp_path)) == {p.stem for p in PARQUET.glob("*.parquet")}
    settings = StudyConfig.model_validate(CONFIG)
    parts = open_source(tmp_path, config=settings).read()
    whole = open_source(PARQUET, config=settings).read()
    assert set(parts.tables) == set(whole.tables)
    for name, table in whole.tables.items():
        pd.testing.assert_frame_equal(parts.tables[name].cells, table.cells)


def test_table_files_prefers_parquet_and_skips_other_entries(tmp_path: Path) -> None:
    (tmp_path / "person.csv").write_text("person_id\n1\n")
    pq.write_table(pq.read_table(PARQUET / "person.parquet"), tmp_path / "person.parquet")
    (tmp_path / "death.csv").write_text("person_id\n")
    (tmp_path / "notes.txt").write_text("not a table")
    (tmp_path / "empty").mkdir()
    (tmp_path / ".hidden.parquet").write_text("")
    found = table_files(tmp_path)
    assert found == {"person": tmp_path / "person.parquet", "death": tmp_path / "death.csv"}


def test_the_documented_spark_section_is_a_valid_configuration() -> None:
    import re

    import yaml

    text = (ROOT / "docs" / "sources.md").read_text(encoding="utf-8")
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL) if "spark:" in b]
    spark = StudyConfig.model_validate(yaml.safe_load(block)).spark
    assert spark is not None
    assert spark.conf["spark.sql.shuffle.partitions"] == "8"
