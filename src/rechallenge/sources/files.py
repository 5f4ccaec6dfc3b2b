"""The CSV-folder and Excel-workbook sources: thin wrappers over `rechallenge.data.io`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rechallenge.data.io import RawStudy, read_study_files


class CsvSource:
    """A folder of `<table>.csv` files in our data model."""

    kind = "csv"

    def __init__(self, location: Path, *, encoding: str = "utf-8", **_: Any) -> None:
        self.location = Path(location)
        self.encoding = encoding

    def read(self) -> RawStudy:
        """The tables as read by `read_study_files` (checksums included)."""
        return read_study_files(self.location, self.encoding)

    def describe(self) -> dict[str, Any]:
        """Kind and location."""
        return {"kind": self.kind, "location": str(self.location)}


class ExcelSource(CsvSource):
    """One `.xlsx` workbook with a sheet per table."""

    kind = "xlsx"
