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


def connect(
    location: Path | None,
    database: str | None,
    schema: str | None,
    spark: SparkSettings | None = None,
) -> Cdm:
    """The CDM at `location` (a .duckdb file or a folder of tables) or at URL `database`.

    With `spark` set, a folder is read on a Spark session built from it (and with neither a
    location nor a URL, `schema` of that session's catalogue); a `.duckdb` file always goes
    to DuckDB.
    """
    if database:
        return _connect_url(database, schema, spark)
    if location is None:
        if spark is None:
            raise ValueError("no OMOP location, database URL or spark section")
        return spark_cdm(None, schema, spark)
    if location.is_dir():
        return _connect_folder(location) if spark is None else spark_cdm(location, schema, spark)
    backend = ibis.duckdb.connect(str(location), read_only=True)
    return _with_schema(backend, schema, "duckdb")


def table_files(folder: Path) -> dict[str, Path]:
    """The CDM tables of `folder`, by lower-case name, and where each is stored.

    A table is a `<table>.parquet` or `<table>.csv` file, or a folder `<table>/` (or
    `<table>.parquet/`, as Spark writes it) of Parquet part files, e.g. one file per chunk
    of persons. A Parquet file wins over a CSV file of the same table.
    """
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        name = path.name.split(".")[0].lower()
        if not name:
            continue
        suffix = path.suffix.lower()
        if path.is_dir():
            if any(path.glob("*.parquet")):
                found[name] = path
        elif suffix == ".parquet" or (suffix in TABLE_SUFFIXES and name not in found):
            found[name] = path
    return found


def _connect_folder(folder: Path) -> Cdm:
    """An in-memory DuckDB over the tables of `folder` (read in place, never loaded)."""
    backend = ibis.duckdb.connect()
    tables = table_files(folder)
    for name, path in tables.items():
        if path.is_dir():
            backend.read_parquet(str(path / "*.parquet"), table_name=name)
        elif path.suffix.lower() == ".parquet":
            backend.read_parquet(str(path), table_name=name)
        else:
            backend.read_csv(str(path), table_name=name)
    return Cdm(backend, None, "duckdb", frozenset(tables))


def _connect_url(url: str, schema: str | None, spark: SparkSettings | None = None) -> Cdm:
    """PostgreSQL (`postgresql://…`), Spark Connect (`sc://…`) or a Spark master.

    For `spark://host:7077` the `spark` settings (application name, conf) are kept and the
    URL is the master.
    """
    if url.startswith("sc://"):
        from pyspark.sql import SparkSession

        session = SparkSession.builder.remote(url).getOrCreate()
        return _with_schema(ibis.pyspark.connect(session), schema, "pyspark")
    if url.startswith("spark://"):  # a standalone Spark master
        settings = (spark or SparkSettings()).model_copy(update={"master": url})
        return spark_cdm(None, schema, settings)
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
    """The CDM on Spark: the Parquet tables of `folder` (files or folders of part files, see
    `table_files`; CSV files are not read) as temporary views, or `schema` of the catalogue."""
    backend = ibis.pyspark.connect(spark_session(settings))
    if folder is None:
        return _with_schema(backend, schema, "pyspark")
    names = set()
    for name, path in table_files(folder).items():
        if path.is_dir() or path.suffix.lower() == ".parquet":
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
