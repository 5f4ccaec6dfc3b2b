"""OMOP CDM v5.4 source (needs the `omop` extra: Ibis with DuckDB/PostgreSQL)."""
