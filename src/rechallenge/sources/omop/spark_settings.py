"""Settings of a Spark session for the OMOP source (`spark:` in the study configuration).

Pure pydantic, like settings.py: importing it never loads pyspark. `StudyConfig.spark`;
`open_source` hands it to the OMOP source, which reads a Parquet folder on a session built
from it (`connect.spark_cdm`) and keeps its conf for a `spark://` master URL.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SparkSettings(BaseModel):
    """How the Spark session is built: master URL, application name and extra conf."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    master: str = Field("local[2]", description="Spark master: local[N], spark://host:7077, …")
    app_name: str = Field("rechallenge", description="Application name shown by Spark.")
    conf: dict[str, str] = Field(
        default_factory=lambda: {"spark.sql.shuffle.partitions": "2"},
        description="Extra Spark configuration (key → value), e.g. executor memory.",
    )
