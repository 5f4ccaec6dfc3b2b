"""The source registry: kind → dotted import path and install hint; `open_source`.

An adapter's module (and so its optional dependency) is imported on first use only.
Kind detection, in order: a URL (`postgresql://`, `postgres://` → omop; `sc://`, `spark://`
→ omop on Spark); a `.xlsx` file → xlsx; a `.duckdb` file → omop; a folder holding
`person.parquet`, `person.csv` or a `person/` folder of Parquet part files → omop; any
other folder → csv. With no path and no URL, a `spark` section of the configuration reads
the CDM from that Spark session's catalogue.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from rechallenge.data.io import RawStudy

if TYPE_CHECKING:
    from rechallenge.config import StudyConfig

SOURCES: dict[str, tuple[str, str]] = {
    "csv": ("rechallenge.sources.files:CsvSource", ""),
    "xlsx": ("rechallenge.sources.files:ExcelSource", ""),
    "omop": ("rechallenge.sources.omop.source:OmopSource", "pip install 'rechallenge[omop]'"),
}
URL_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://", "sc://", "spark://")


@runtime_checkable
class Source(Protocol):
    """What every source offers."""

    kind: str

    def read(self) -> RawStudy:
        """The raw tables of our data model (text cells), checksums and read warnings."""
        ...

    def describe(self) -> dict[str, Any]:
        """Kind, location and how the tables were derived (for the manifest)."""
        ...


class SourceUnavailable(ImportError):
    """The adapter of a source kind cannot be imported; the message says what to install."""


def detect_kind(data: Path | str | None, database: str | None = None) -> str:
    """The source kind of `data` (a path) or `database` (a URL)."""
    if database or (isinstance(data, str) and data.startswith(URL_SCHEMES)):
        return "omop"
    assert data is not None
    path = Path(data)
    if path.suffix.lower() == ".xlsx":
        return "xlsx"
    if path.suffix.lower() == ".duckdb":
        return "omop"
    if path.is_dir() and any((path / f"person{ext}").exists() for ext in (".parquet", ".csv", "")):
        return "omop"
    return "csv"


def load_adapter(kind: str) -> type[Any]:
    """The adapter class of `kind`, imported now; `SourceUnavailable` with the install hint."""
    target, hint = SOURCES[kind]
    module, _, name = target.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as exc:
        raise SourceUnavailable(
            f"reading a {kind} source needs an optional dependency ({exc.name}): {hint}"
        ) from exc


def open_source(
    data: Path | str | None,
    *,
    database: str | None = None,
    schema: str | None = None,
    config: StudyConfig | None = None,
) -> Source:
    """The source for `data` (path or URL) or `database` (URL), with the study's settings."""
    if isinstance(data, str) and data.startswith(URL_SCHEMES):
        database, data = data, None
    omop = config.omop if config is not None else None
    spark = config.spark if config is not None else None
    if database is None and data is None and omop is not None:
        database = omop.database
    catalogue = data is None and database is None and spark is not None  # a Spark catalogue
    kind = "omop" if catalogue else detect_kind(data, database)
    adapter = load_adapter(kind)
    location = Path(data) if data is not None else None
    if kind == "omop":
        return adapter(location, database=database, schema=schema, settings=omop, spark=spark)
    encoding = config.data.encoding if config is not None else "utf-8"
    return adapter(location, encoding=encoding)
