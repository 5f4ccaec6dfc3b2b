"""Reading a study: a folder of CSV files or one Excel workbook, into raw cell tables.

Nothing here interprets cells beyond decoding text: `validate` parses and checks them.
Files are only ever opened for reading.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from rechallenge.data.schema import TABLES, TABLES_BY_NAME
from rechallenge.errors import DataValidationError, Problem

#: Guard against decompression bombs: an .xlsx larger than this is refused.
MAX_WORKBOOK_BYTES = 200 * 1024 * 1024
UTF8_BOM = codecs.BOM_UTF8


@dataclass(frozen=True)
class RawTable:
    """One table's cells as read: strings (CSV) or Python values (Excel), header lower-cased.

    `first_row` is the spreadsheet row number of the first data row (2: the header is row 1).
    """

    name: str
    source: str
    cells: pd.DataFrame
    first_row: int = 2
    from_excel: bool = False
    date_system_1904: bool = False


@dataclass(frozen=True)
class RawStudy:
    """Every table found, with the SHA-256 of each input file."""

    location: Path
    tables: dict[str, RawTable]
    checksums: dict[str, str]


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_study_files(location: Path, encoding: str = "utf-8") -> RawStudy:
    """Read a folder of `<table>.csv` files or one `.xlsx` workbook; raise on unreadable input."""
    location = Path(location)
    if location.is_dir():
        return _read_folder(location, encoding)
    if location.suffix.lower() in {".xlsx", ".xlsm"}:
        return _read_workbook(location)
    raise DataValidationError(
        [
            Problem(
                "FILE-001",
                str(location.name),
                "the study is neither a folder of CSV files nor an .xlsx workbook",
                "point to a folder holding patients.csv, treatments.csv, ... or to a workbook "
                "with one sheet per table",
            )
        ]
    )


def _read_folder(folder: Path, encoding: str) -> RawStudy:
    problems: list[Problem] = []
    tables: dict[str, RawTable] = {}
    checksums: dict[str, str] = {}
    for spec in TABLES:
        path = _find_file(folder, spec.name)
        if path is None:
            continue
        checksums[path.name] = sha256_of(path)
        table, table_problems = _read_csv(path, spec.name, encoding)
        problems.extend(table_problems)
        if table is not None:
            tables[spec.name] = table
    if problems:
        raise DataValidationError(problems)
    return RawStudy(folder, tables, checksums)


def _find_file(folder: Path, table: str) -> Path | None:
    """`<table>.csv`, matched case-insensitively."""
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lower() == ".csv" and path.stem.lower() == table:
            return path
    return None


def _read_csv(path: Path, table: str, encoding: str) -> tuple[RawTable | None, list[Problem]]:
    data = path.read_bytes()
    if data.startswith(UTF8_BOM) and encoding.lower().replace("_", "-") in {"utf-8", "utf8"}:
        data = data[len(UTF8_BOM) :]
    text, problem = _decode(data, path.name, table, encoding)
    if problem is not None:
        return None, [problem]
    if not text.strip():
        return None, [
            Problem(
                "FILE-004",
                path.name,
                "the file is empty",
                f"export the {table} table with a header row and at least one data row",
            )
        ]
    fast = _fast_frame(text)
    if fast is not None:
        return RawTable(table, path.name, fast), []
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = [h.strip().lower() for h in rows[0]]
    body = rows[1:]
    problems = _structure_problems(path.name, table, header, body)
    if problems:
        return None, problems
    frame = pd.DataFrame(body, columns=header, dtype=object)
    return RawTable(table, path.name, frame), []


def _fast_frame(text: str) -> pd.DataFrame | None:
    """Well-formed CSV read by pandas' C parser; None sends the file to the careful reader.

    Anything unusual (a blank line, a short or long row, a repeated column name, an empty
    body) is left to the csv-module path, which names every structural problem by row.
    """
    first_line = text.split("\n", 1)[0]
    header = [h.strip().lower() for h in next(csv.reader([first_line]), [])]
    if not header or len(set(header)) != len(header) or "\n\n" in text.replace("\r", ""):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            frame = pd.read_csv(
                io.StringIO(text), dtype=object, keep_default_na=False, na_filter=False,
                index_col=False, skip_blank_lines=False,
            )  # fmt: skip
    except (ValueError, pd.errors.ParserError, Warning):
        return None
    if frame.empty or len(frame.columns) != len(header) or frame.isna().to_numpy().any():
        return None
    frame.columns = pd.Index(header)
    return frame  # object columns of str: read as such (faster than str then object)


def _decode(data: bytes, file: str, table: str, encoding: str) -> tuple[str, Problem | None]:
    """Decode strictly; a wrong encoding is reported with its byte offset and a guess."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and "16" not in encoding:
        return "", Problem(
            "FILE-002",
            file,
            "the file is UTF-16 (as Excel's 'Unicode text' writes), not UTF-8",
            "save it as 'CSV UTF-8', or declare `data.encoding: utf-16` in the study configuration",
        )
    try:
        return data.decode(encoding), None
    except UnicodeDecodeError as exc:
        guess = _guess_encoding(data)
        return "", Problem(
            "FILE-002",
            file,
            f"the file is not valid {encoding}: undecodable byte 0x{data[exc.start]:02x} at "
            f"byte offset {exc.start}" + (f"; it looks like {guess}" if guess else ""),
            "save the file as 'CSV UTF-8', or declare its encoding in the study configuration "
            f"(`data.encoding: {guess or 'cp1252'}`)",
        )
    except LookupError:
        return "", Problem(
            "FILE-003",
            file,
            f"unknown encoding {encoding!r} in the configuration",
            "use a Python codec name such as utf-8, cp1252, gbk or utf-16",
        )


def _guess_encoding(data: bytes) -> str | None:
    """A plausible legacy encoding, for the message only (never used silently)."""
    for candidate in ("gbk", "cp1252"):
        try:
            data.decode(candidate)
        except UnicodeDecodeError:
            continue
        return candidate
    return None


def _structure_problems(
    file: str, table: str, header: list[str], body: list[list[str]]
) -> list[Problem]:
    """Header-only files, duplicated columns, rows with a wrong number of fields."""
    problems: list[Problem] = []
    if not body:
        problems.append(
            Problem(
                "FILE-004",
                file,
                "the file has a header but no data rows (0 rows found)",
                f"export the {table} table with its data rows",
            )
        )
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.append(
                Problem(
                    "COL-002",
                    file,
                    f"column {name!r} appears more than once",
                    "keep one column of each name",
                    column=name,
                )
            )
        seen.add(name)
    for offset, row in enumerate(body):
        if len(row) != len(header):
            problems.append(
                Problem(
                    "FILE-005",
                    file,
                    f"the row has {len(row)} fields but the header has {len(header)} (a wrong "
                    "delimiter, an unquoted comma or a truncated line)",
                    "save as comma-separated CSV with text containing commas in double quotes",
                    row=offset + 2,
                )
            )
    return problems


def _read_workbook(path: Path) -> RawStudy:
    import openpyxl  # defusedxml, a hard dependency, makes openpyxl refuse XML bombs

    if path.stat().st_size > MAX_WORKBOOK_BYTES:
        raise DataValidationError(
            [
                Problem(
                    "FILE-006",
                    path.name,
                    f"the workbook is larger than {MAX_WORKBOOK_BYTES // 2**20} MiB",
                    "export the tables as CSV files into a folder instead",
                )
            ]
        )
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    tables: dict[str, RawTable] = {}
    problems: list[Problem] = []
    date_1904 = bool(getattr(workbook, "epoch", None) == openpyxl.utils.datetime.CALENDAR_MAC_1904)
    for sheet in workbook.worksheets:
        name = sheet.title.strip().lower()
        if name not in TABLES_BY_NAME:
            continue
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        rows = [r for r in rows if any(v is not None and str(v).strip() != "" for v in r)]
        source = f"{path.name}:{sheet.title}"
        if not rows:
            problems.append(
                Problem("FILE-004", source, "the sheet is empty", f"fill the {name} sheet")
            )
            continue
        header = [str(h).strip().lower() if h is not None else "" for h in rows[0]]
        body = [[_excel_cell(v) for v in r] + [None] * (len(header) - len(r)) for r in rows[1:]]
        problems.extend(
            p
            for p in _structure_problems(source, name, header, [b[: len(header)] for b in body])
            if p.code != "FILE-005"
        )
        frame = pd.DataFrame([b[: len(header)] for b in body], columns=header, dtype=object)
        tables[name] = RawTable(name, source, frame, from_excel=True, date_system_1904=date_1904)
    workbook.close()
    if problems:
        raise DataValidationError(problems)
    return RawStudy(path, tables, {path.name: sha256_of(path)})


def _excel_cell(value: Any) -> Any:
    """Keep real dates as dates, numbers as numbers, everything else as text."""
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time(0) else value
    if value is None or isinstance(value, (int, float, dt.date)):
        return value
    return str(value)
