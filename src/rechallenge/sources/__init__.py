"""Study sources: where a study's tables come from (docs/sources.md).

A source turns one input (a CSV folder, an .xlsx workbook, an OMOP CDM instance) into the
raw tables of our data model; validation, rules, statistics and outputs are shared.

    Source (protocol)      read() -> RawStudy, describe() -> dict
    ├── CsvSource          folder of <table>.csv          (rechallenge.sources.files)
    ├── ExcelSource        .xlsx workbook                 (rechallenge.sources.files)
    └── OmopSource         OMOP CDM v5.4 through Ibis     (rechallenge.sources.omop.source)
"""

from __future__ import annotations

from rechallenge.sources.registry import (
    SOURCES,
    Source,
    SourceUnavailable,
    detect_kind,
    open_source,
)

__all__ = ["SOURCES", "Source", "SourceUnavailable", "detect_kind", "open_source"]
