"""Open an OMOP CDM instance as an Ibis backend: DuckDB file or folder, PostgreSQL, Spark."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis

from rechallenge.sources.omop.spark_settings import SparkSettings

TABLE_SUFFIXES = (".parquet", ".csv")


@dataclass(frozen=True)
class Cdm:
    """An Ibis connection and the schema holding the CDM tables."""

    backend: Any
    schema: str | None
    engine: str
    names: frozenset[str]

    def table(self, name: str) -> Any:
        """The CDM table `name` as a lazy Ibis table."""
        if self.schema is None:
            return self.backend.table(name)
        return self.backend.table(name, database=self.schema)

    def has(self, name: str) -> bool:
        """True when the instance holds table `name`."""
        return name in self.names


def connect(location: Path | None, database: str | None, schema: str | None) -> Cdm:
    """The CDM at `location` (a .duckdb file or a folder of tables) or at URL `database`."""
    if database:
        return _connect_url(database, schema)
    assert location is not None
    if location.is_dir():
        return _connect_folder(location)
    backend = ibis.duckdb.connect(str(location), read_only=True)
    return _with_schema(backend, schema, "duckdb")


def _connect_folder(folder: Path) -> Cdm:
    """An in-memory DuckDB over `<table>.parquet` / `<table>.csv` files (read in place)."""
    backend = ibis.duckdb.connect()
    names = set()
    for path in sorted(folder.iterdir()):
        name = path.name.split(".")[0].lower()
        if path.suffix.lower() == ".parquet":
            backend.read_parquet(str(path), table_name=name)
        elif path.suffix.lower() == ".csv":
            backend.read_csv(str(path), table_name=name)
        else:
            continue
        names.add(name)
    return Cdm(backend, None, "duckdb", frozenset(names))


def _connect_url(url: str, schema: str | None) -> Cdm:
    """PostgreSQL (`postgresql://…`) or Spark Connect (`sc://…`)."""
    if url.startswith("sc://"):
        from pyspark.sql import SparkSession

        session = SparkSession.builder.remote(url).getOrCreate()
        return _with_schema(ibis.pyspark.connect(session), schema, "pyspark")
    if url.startswith("spark://"):  # a standalone Spark master
        return spark_cdm(None, schema, SparkSettings(master=url))
    backend = ibis.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    return _with_schema(backend, schema, backend.name)


def spark_session(settings: SparkSettings) -> Any:
    """A classic Spark session (local mode or a standalone master) built from `settings`."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(settings.master).appName(settings.app_name)
    for key, value in {"spark.ui.showConsoleProgress": "false", **settings.conf}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def spark_cdm(folder: Path | None, schema: str | None, settings: SparkSettings) -> Cdm:
    """The CDM on Spark: a folder of `<table>.parquet` files as temporary views, or `schema`."""
    backend = ibis.pyspark.connect(spark_session(settings))
    if folder is None:
        return _with_schema(backend, schema, "pyspark")
    names = set()
    for path in sorted(folder.glob("*.parquet")):
        name = path.name.split(".")[0].lower()
        backend.read_parquet(str(path), table_name=name)
        names.add(name)
    return Cdm(backend, None, "pyspark", frozenset(names))


def spark_session_cdm(session: Any, schema: str | None) -> Cdm:
    """A CDM read through an existing Spark session (local mode, Databricks)."""
    return _with_schema(ibis.pyspark.connect(session), schema, "pyspark")


def _with_schema(backend: Any, schema: str | None, engine: str) -> Cdm:
    """Pick `schema`, or the first schema (alphabetically) that holds a `person` table."""
    if schema is None:
        candidates = [s for s in sorted(backend.list_databases()) if _has_person(backend, s)]
        schema = candidates[0] if candidates else None
    names = backend.list_tables(database=schema) if schema else backend.list_tables()
    return Cdm(backend, schema, engine, frozenset(n.lower() for n in names))


def _has_person(backend: Any, schema: str) -> bool:
    try:
        return "person" in backend.list_tables(database=schema)
    except Exception:  # a schema the user may not read
        return False
