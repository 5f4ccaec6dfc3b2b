"""Reading a study: a folder of CSV files or one Excel workbook, into raw cell tables.

Nothing here interprets cells beyond decoding text: `validate` parses and checks them.
Files are only ever opened for reading. Every refusal is a located `Problem`, never a
parser's traceback.

CSV files: a line over `MAX_CSV_LINE_BYTES` is refused before parsing (FILE-009); decoding
is strict (FILE-002); well-formed files go to pandas' C parser, anything unusual to the csv
module, whose refusals (a field over `csv.field_size_limit()`) are FILE-009 too.

Workbooks, in order:

1. the container, from the zip directory alone: file size (`MAX_WORKBOOK_BYTES`), total
   decompressed size (`MAX_WORKBOOK_UNCOMPRESSED_BYTES`) and per-part compression ratio
   (`MAX_COMPRESSION_RATIO`), FILE-006; a DTD or entity declaration in any XML part,
   FILE-008 (defusedxml refuses them too; this makes the refusal uniform and early);
2. each sheet named after a table, streamed (openpyxl read-only) with the cell count
   capped across the workbook (`MAX_WORKBOOK_CELLS`, FILE-007); any parser error, FILE-008;
3. the layout inside the table (header row = first non-blank row, to the last data row,
   within the header's width): formulas without a saved value (XLSX-001), merged ranges
   (XLSX-002), hidden rows, columns or sheets (XLSX-003), blank rows between data rows
   (XLSX-004), values right of the last named column (XLSX-005), Excel error values such as
   ``#REF!`` (XLSX-006) are refused; formulas with a saved value are read as that value and
   counted in one warning per sheet (XLSX-007).

Hidden rows and columns are refused rather than read with a warning: hiding is how many
people "remove" withdrawn or excluded patients, and a study must not analyse rows its
author cannot see. Unhiding or deleting them is quick and makes the intent explicit.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet._reader import WorkSheetParser

from rechallenge.data.mappings import (
    AppliedMapping,
    DataMappings,
    apply_mappings,
    looks_delimited_by,
)
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
    rows: tuple[int, ...] | None = None  # the file's row of each record, when not consecutive


@dataclass(frozen=True)
class RawStudy:
    """Every table found, the SHA-256 of each input file, and warnings about how cells were read."""

    location: Path
    tables: dict[str, RawTable]
    checksums: dict[str, str]
    warnings: tuple[Problem, ...] = ()
    applied: tuple[AppliedMapping, ...] = ()  # declared mappings, counted (data.mappings)
    problems: tuple[Problem, ...] = ()  # values no declared mapping covers, reported by validation


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_study_files(
    location: Path, encoding: str = "utf-8", mappings: DataMappings | None = None
) -> RawStudy:
    """Read a folder of `<table>.csv` files or one `.xlsx` workbook; raise on unreadable input.

    Declared `mappings` (``data:`` of the study configuration) give each CSV file's dialect
    and are then applied to the cells, each rule counted (`rechallenge.data.mappings`).
    """
    location = Path(location)
    mappings = mappings or DataMappings()
    if not location.exists():
        raise DataValidationError(
            [
                Problem(
                    "FILE-001",
                    str(location.name),
                    "there is no file or folder at this path",
                    "check the path: a folder holding patients.csv, treatments.csv, ... or an "
                    ".xlsx workbook with one sheet per table",
                )
            ]
        )
    if location.is_dir() and _is_sdtm(location):
        raw = _read_sdtm(location)
        return apply_mappings(raw, mappings, {}) if mappings.declared else raw
    if location.is_dir():
        raw, decimals = _read_folder(location, encoding, mappings)
        return apply_mappings(raw, mappings, decimals) if mappings.declared else raw
    if location.suffix.lower() in {".xlsx", ".xlsm"}:
        raw = _read_workbook(location)
        return apply_mappings(raw, mappings, {}) if mappings.declared else raw
    if location.suffix.lower() == ".csv" and _is_redcap(location):
        raw = _read_redcap(location)
        return apply_mappings(raw, mappings, {}) if mappings.declared else raw
    raise DataValidationError(
        [
            Problem(
                "FILE-001",
                str(location.name),
                "the study is neither a folder of CSV files, an .xlsx workbook nor a REDCap "
                "CSV export",
                "point to a folder holding patients.csv, treatments.csv, ..., to a workbook "
                "with one sheet per table, or to a REDCap export (with redcap_repeat_instrument)",
            )
        ]
    )


def _read_folder(
    folder: Path, encoding: str, mappings: DataMappings
) -> tuple[RawStudy, dict[str, str]]:
    """Every table's CSV file with its declared dialect, and the decimal separator per table."""
    problems: list[Problem] = []
    tables: dict[str, RawTable] = {}
    checksums: dict[str, str] = {}
    decimals: dict[str, str] = {}
    applied: list[AppliedMapping] = []
    for spec in TABLES:
        path = _find_file(folder, spec.name)
        if path is None:
            continue
        checksums[path.name] = sha256_of(path)
        delimiter, decimals[spec.name], file_encoding = mappings.dialect(path.name, encoding)
        table, table_problems = _read_csv(path, spec.name, file_encoding, delimiter)
        problems.extend(table_problems)
        if table is not None:
            tables[spec.name] = table
            declared = (delimiter, decimals[spec.name], file_encoding) != (",", ".", encoding)
            if declared:
                detail = (
                    f"delimiter {delimiter!r}, decimal {decimals[spec.name]!r}, "
                    f"encoding {file_encoding}"
                )
                applied.append(AppliedMapping("dialect", path.name, None, detail, len(table.cells)))
    if problems:
        raise DataValidationError(problems)
    return RawStudy(folder, tables, checksums, applied=tuple(applied)), decimals


def _is_sdtm(folder: Path) -> bool:
    from rechallenge.data.sdtm import is_sdtm_folder

    return is_sdtm_folder(folder)


def _read_sdtm(folder: Path) -> RawStudy:
    from rechallenge.data.sdtm import read_sdtm_study

    return read_sdtm_study(folder)


def _is_redcap(path: Path) -> bool:
    """Whether a single CSV file is a REDCap flat export (its header names the repeat columns)."""
    from rechallenge.data.redcap import is_redcap_export

    with path.open("rb") as handle:
        first = handle.readline(MAX_CSV_LINE_BYTES).decode("utf-8", errors="replace")
    return is_redcap_export(first)


def _read_redcap(path: Path) -> RawStudy:
    from rechallenge.data.redcap import read_redcap_study

    return read_redcap_study(path)


def _find_file(folder: Path, table: str) -> Path | None:
    """`<table>.csv`, matched case-insensitively."""
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lower() == ".csv" and path.stem.lower() == table:
            return path
    return None


#: Longest physical line of a CSV file. No row of a clinical table comes near it; a longer
#: line is a damaged export or a hostile file, refused before the parser holds it.
MAX_CSV_LINE_BYTES = 1024 * 1024


def _read_csv(
    path: Path, table: str, encoding: str, delimiter: str = ","
) -> tuple[RawTable | None, list[Problem]]:
    data = path.read_bytes()
    if data.startswith(UTF8_BOM) and encoding.lower().replace("_", "-") in {"utf-8", "utf8"}:
        data = data[len(UTF8_BOM) :]
    long_line = _long_line(data, path.name)
    if long_line is not None:
        return None, [long_line]
    text, problem = _decode(data, path.name, table, encoding)
    if problem is not None:
        return None, [problem]
    if not text or text.isspace():
        return None, [
            Problem(
                "FILE-004",
                path.name,
                "the file is empty",
                f"export the {table} table with a header row and at least one data row",
            )
        ]
    other = _other_delimiter(text, path.name, delimiter)
    if other is not None:
        return None, [other]
    fast = _fast_frame(data, text, encoding, delimiter)
    if fast is not None:
        return RawTable(table, path.name, fast), []
    rows, problem = _careful_rows(data, encoding, path.name, delimiter)
    if problem is not None:
        return None, [problem]
    header = [h.strip().lower() for h in rows[0]]
    body = rows[1:]
    problems = _structure_problems(path.name, table, header, body)
    if problems:
        return None, problems
    frame = pd.DataFrame(body, columns=header, dtype=object)
    return RawTable(table, path.name, frame), []


def _other_delimiter(text: str, file: str, delimiter: str) -> Problem | None:
    """FILE-010 when the header holds no declared delimiter but another one (a `;` export)."""
    header = text.split("\n", 1)[0]
    if delimiter != "," or "," in header:
        return None
    seen = looks_delimited_by(header)
    if seen is None:
        return None
    shown = {"\t": "tab", ";": "';'", "|": "'|'"}[seen]
    quoted = '"\\t"' if seen == "\t" else f'"{seen}"'
    decimal = ', decimal: ","' if seen == ";" else ""
    return Problem(
        "FILE-010",
        file,
        f"the file looks {shown}-separated: its header has no comma but "
        f"{header.count(seen)} {shown} character(s)",
        f"declare the dialect in the study configuration, for every CSV file "
        f"`data: {{csv: {{delimiter: {quoted}{decimal}}}}}` or for this one "
        f"`data: {{files: {{{file}: {{delimiter: {quoted}}}}}}}`",
        row=1,
    )


def _careful_rows(
    data: bytes, encoding: str, file: str, delimiter: str = ","
) -> tuple[list[list[str]], Problem | None]:
    """Every record by the csv module, decoding as it goes (no whole-file copy of the text).

    Its refusals (a field over `csv.field_size_limit()`, a NUL byte) become FILE-009 at the
    line where the refused record starts.
    """
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    reader = csv.reader(text, delimiter=delimiter)
    rows: list[list[str]] = []
    start = 1
    try:
        for row in reader:
            rows.append(row)
            start = reader.line_num + 1
    except csv.Error as exc:
        why = str(exc)
        if "field larger than field limit" in why:
            why = f"a field is longer than {csv.field_size_limit():,} characters"
        return [], Problem(
            "FILE-009",
            file,
            f"the file cannot be read as CSV from line {start}: {why}",
            "re-export the table: a field this long, a stray quote or a NUL byte means the "
            "export is damaged",
            row=start,
        )
    return rows, None


def _long_line(data: bytes, file: str) -> Problem | None:
    """FILE-009 for the first line over MAX_CSV_LINE_BYTES, found without splitting the file.

    Every line of 2w bytes or more covers a whole aligned window of w bytes, so a window
    with no newline (one `find` per window) flags every line over the cap; the line around
    it is then measured exactly.
    """
    window = MAX_CSV_LINE_BYTES // 2
    position = 0
    while position < len(data):
        if data.find(b"\n", position, position + window) != -1:
            position += window
            continue
        start = data.rfind(b"\n", 0, position) + 1
        end = data.find(b"\n", position)
        end = len(data) if end == -1 else end
        if end - start > MAX_CSV_LINE_BYTES:
            line = data.count(b"\n", 0, start) + 1
            return Problem(
                "FILE-009",
                file,
                f"line {line} is {_mib(end - start)} long, over the {_mib(MAX_CSV_LINE_BYTES)} "
                "limit for one line: the export is damaged or the file is not a table",
                "re-export the table; no cell of the data model holds more than a few hundred "
                "characters",
                row=line,
            )
        position = end + 1
    return None


def _fast_frame(data: bytes, text: str, encoding: str, delimiter: str = ",") -> pd.DataFrame | None:
    """Well-formed CSV read by pandas' C parser; None sends the file to the careful reader.

    Anything unusual (a blank line, a short or long row, a repeated column name, an empty
    body, a quoted line break) is left to the csv-module path, which names every structural
    problem by row. UTF-8 bytes go to pandas as they are (no second, wider copy of the text).
    """
    first_line = text.split("\n", 1)[0]
    header = [h.strip().lower() for h in next(csv.reader([first_line], delimiter=delimiter), [])]
    if not header or len(set(header)) != len(header) or "\n\n" in text.replace("\r", ""):
        return None
    utf8 = encoding.lower().replace("_", "-") in {"utf-8", "utf8"}
    source: io.BytesIO | io.StringIO = io.BytesIO(data) if utf8 else io.StringIO(text)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            frame = pd.read_csv(
                source, sep=delimiter, dtype=object, keep_default_na=False, na_filter=False,
                index_col=False, skip_blank_lines=False, encoding="utf-8" if utf8 else None,
            )  # fmt: skip
    except (ValueError, pd.errors.ParserError, Warning):
        return None
    if frame.empty or len(frame.columns) != len(header) or frame.isna().to_numpy().any():
        return None
    if len(frame) != _line_count(text) - 1:
        return None  # a quoted line break: the careful reader checks each field's length
    frame.columns = pd.Index(header)
    return frame  # object columns of str: read as such (faster than str then object)


def _line_count(text: str) -> int:
    """Physical lines, the last one counted whether or not it ends in a line break."""
    return text.count("\n") + (0 if text.endswith("\n") else 1)


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
    """Check the container, then stream each table sheet; every refusal is a located problem."""
    problems = _container_problems(path)
    if problems:
        raise DataValidationError(problems)
    tables: dict[str, RawTable] = {}
    warned: list[Problem] = []
    try:
        with warnings.catch_warnings():
            # openpyxl warns about unsupported extensions (data validation, slicers) and out-of-
            # range date cells; neither concerns the values read here (dates are re-checked).
            warnings.simplefilter("ignore")
            sheets = _read_sheets(path)
    except _SheetTooLarge as exc:
        raise DataValidationError([exc.problem]) from None
    except PARSER_ERRORS as exc:
        raise DataValidationError([_unreadable(path.name, exc)]) from None
    for sheet in sheets:
        problems.extend(p for p in sheet.problems if p.severity == "error")
        warned.extend(p for p in sheet.problems if p.severity != "error")
        if sheet.table is not None:
            tables[sheet.table.name] = sheet.table
    if problems:
        raise DataValidationError(problems)
    return RawStudy(path, tables, {path.name: sha256_of(path)}, tuple(warned))


# --- the workbook container (F7: oversized or malicious files) ----------------------------------

#: Largest total of the workbook's parts once decompressed (the zip directory's sizes, which
#: Python's zipfile enforces while reading). A sheet of 1,048,576 rows x 10 columns is ~500 MiB.
MAX_WORKBOOK_UNCOMPRESSED_BYTES = 512 * 1024 * 1024
#: Largest decompressed/compressed ratio of one part above `RATIO_CHECK_FROM_BYTES`: real sheets
#: compress 5-30 fold; zip bombs 200-1000 fold.
MAX_COMPRESSION_RATIO = 100
RATIO_CHECK_FROM_BYTES = 1024 * 1024
#: Most cells read from one workbook (counted while streaming, so the cap holds even when the
#: sheet's declared dimension lies); about 1 GB of memory once read.
MAX_WORKBOOK_CELLS = 10_000_000
#: Cells of one kind (formula without value, ...) listed one by one per sheet; then counted.
MAX_CELLS_LISTED = 20

CSV_INSTEAD = (
    "export the tables as CSV files into a folder instead (CSV files have no such limit), or "
    "split the workbook"
)


def _container_problems(path: Path) -> list[Problem]:
    """Size caps read from the file and its zip directory, before any XML is parsed."""
    if path.stat().st_size > MAX_WORKBOOK_BYTES:
        return [
            Problem(
                "FILE-006",
                path.name,
                f"the workbook is larger than {_mib(MAX_WORKBOOK_BYTES)}",
                CSV_INSTEAD,
            )
        ]
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            problems = _size_problems(path.name, members) or _doctype_problems(path.name, archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        return [_unreadable(path.name, exc)]
    except zlib.error as exc:
        return [_unreadable(path.name, exc)]
    return problems


#: How much of each XML part is searched for a DTD (it can only come before the root element).
DOCTYPE_SCAN_BYTES = 64 * 1024


def _doctype_problems(file: str, archive: zipfile.ZipFile) -> list[Problem]:
    """FILE-008 for a part declaring a DTD or entities, which Excel never writes.

    Whatever XML parser openpyxl ends up using (defusedxml refuses entity declarations,
    lxml leaves them unexpanded), a declaration marks a crafted file: it is refused here,
    uniformly, before any part is parsed.
    """
    for member in archive.infolist():
        if not member.filename.endswith((".xml", ".rels", ".vml")):
            continue
        with archive.open(member) as handle:
            head = handle.read(DOCTYPE_SCAN_BYTES)
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            return [
                Problem(
                    "FILE-008",
                    file,
                    f"the workbook cannot be read: its part {member.filename} declares XML "
                    "entities or a DTD (the shape of an 'XML bomb' or an external-entity "
                    "attack; Excel never writes one), which is refused for safety",
                    "open it in Excel and save it as a new .xlsx workbook, or export the tables "
                    "as CSV",
                )
            ]
    return []


def _size_problems(file: str, members: list[zipfile.ZipInfo]) -> list[Problem]:
    """FILE-006 when the parts, once decompressed, pass the total or the ratio cap."""
    total = sum(m.file_size for m in members)
    largest = max(members, key=lambda m: m.file_size, default=None)
    if largest is not None and total > MAX_WORKBOOK_UNCOMPRESSED_BYTES:
        return [
            Problem(
                "FILE-006",
                file,
                f"the workbook decompresses to {_mib(total)} (largest part {largest.filename}: "
                f"{_mib(largest.file_size)}), over the {_mib(MAX_WORKBOOK_UNCOMPRESSED_BYTES)} "
                "limit on decompressed size",
                CSV_INSTEAD,
            )
        ]
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_CHECK_FROM_BYTES and ratio > MAX_COMPRESSION_RATIO:
            return [
                Problem(
                    "FILE-006",
                    file,
                    f"the part {member.filename} decompresses {ratio:.0f}-fold (to "
                    f"{_mib(member.file_size)}), more than the {MAX_COMPRESSION_RATIO}-fold a "
                    "real sheet reaches: the file looks like a decompression bomb",
                    "open the file in Excel and save it again as .xlsx if it is genuine; "
                    + CSV_INSTEAD,
                )
            ]
    return []


def _mib(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:,.0f} MiB" if n_bytes >= 2**20 else f"{n_bytes:,} bytes"


#: What openpyxl, zipfile and the XML parser raise on a damaged or hostile file. defusedxml's
#: refusals (entity declarations: billion laughs, external entities) are ValueErrors;
#: ElementTree's ParseError is a SyntaxError.
PARSER_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    KeyError,
    ValueError,
    TypeError,
    IndexError,
    AttributeError,
    SyntaxError,
    OSError,
    EOFError,
)


def _unreadable(file: str, exc: BaseException) -> Problem:
    """FILE-008: the container or its XML was refused; the reason in plain words."""
    from defusedxml import DefusedXmlException

    chain = [exc]
    while chain[-1].__cause__ is not None or chain[-1].__context__ is not None:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)  # type: ignore[arg-type]
        if len(chain) > 10:
            break
    exc = next(  # openpyxl re-raises the parser's error as a generic ValueError
        (e for e in chain if isinstance(e, (DefusedXmlException, SyntaxError))), exc
    )
    if isinstance(exc, DefusedXmlException):
        why = (
            "it declares XML entities or a DTD (the shape of an 'XML bomb' or an external-entity "
            "attack), which is refused for safety"
        )
    elif isinstance(exc, (zipfile.BadZipFile, zlib.error, EOFError)):
        why = f"it is not a valid .xlsx (zip) file ({exc})"
    elif isinstance(exc, SyntaxError):
        why = f"its XML is malformed ({exc})"
    else:
        why = f"its structure is not that of an Excel workbook ({type(exc).__name__}: {exc})"
    return Problem(
        "FILE-008",
        file,
        f"the workbook cannot be read: {why}"[:500],
        "open it in Excel and save it as a new .xlsx workbook, or export the tables as CSV",
    )


class _SheetTooLarge(Exception):
    """Raised while streaming when the workbook passes MAX_WORKBOOK_CELLS."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


# --- the sheets (F6: Excel layout traps) --------------------------------------------------------


@dataclass(frozen=True)
class _Sheet:
    """One sheet named after a table: its cells, or the problems that stop them being read."""

    table: RawTable | None
    problems: list[Problem]


def _read_sheets(path: Path) -> list[_Sheet]:
    """Stream every sheet named after a table through `_SheetParser`."""
    import openpyxl  # defusedxml, a hard dependency, makes openpyxl refuse XML bombs

    with path.open("rb") as handle:  # closed even when openpyxl gives up half way
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        return _read_open_workbook(workbook, path.name)


def _read_open_workbook(workbook: Any, file: str) -> list[_Sheet]:
    """Every sheet named after a table, in workbook order; the workbook is closed after."""
    import openpyxl

    try:
        date_1904 = workbook.epoch == openpyxl.utils.datetime.CALENDAR_MAC_1904
        budget = [MAX_WORKBOOK_CELLS]
        sheets = []
        for sheet in workbook.worksheets:
            name = sheet.title.strip().lower()
            if name in TABLES_BY_NAME:
                sheets.append(_read_sheet(file, sheet, name, date_1904, budget))
        return sheets
    finally:
        workbook.close()


def _read_sheet(file: str, sheet: Any, name: str, date_1904: bool, budget: list[int]) -> _Sheet:
    """Header = first non-blank row; data rows below it, each keeping its spreadsheet number."""
    source = f"{file}:{sheet.title}"
    workbook = sheet.parent
    with sheet._get_source() as xml:  # openpyxl's read-only sheet: the part in the zip
        parser = _SheetParser(
            xml,
            sheet._shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        parser.budget = budget
        parser.where = source
        header_row, header, rows, outside = _collect_rows(parser)
    if header_row is None:
        return _Sheet(
            None, [Problem("FILE-004", source, "the sheet is empty", f"fill the {name} sheet")]
        )
    problems = _layout_problems(source, sheet, parser, header_row, header, rows, outside)
    body = [values for _, values in rows]
    problems.extend(_structure_problems(source, name, header, body))
    if any(p.severity == "error" for p in problems):
        return _Sheet(None, problems)
    frame = pd.DataFrame(body, columns=header, dtype=object)
    table = RawTable(name, source, frame, header_row + 1, True, date_1904)
    return _Sheet(table, problems)


def _collect_rows(
    parser: _SheetParser,
) -> tuple[int | None, list[str], list[tuple[int, list[Any]]], dict[int, list[int]]]:
    """The header, the non-blank rows within its width, and values found right of it."""
    header_row: int | None = None
    header: list[str] = []
    rows: list[tuple[int, list[Any]]] = []
    outside: dict[int, list[int]] = {}  # column -> rows with a value right of the header
    for number, cells in parser.parse():
        filled = [c for c in cells if not _blank(c["value"])]
        if not filled:
            continue
        if header_row is None:
            header_row = number
            width = max(c["column"] for c in filled)
            header = [""] * width
            for c in filled:
                header[c["column"] - 1] = str(c["value"]).strip().lower()
            continue
        values: list[Any] = [None] * len(header)
        for c in filled:
            if c["column"] <= len(header):
                values[c["column"] - 1] = _excel_cell(c["value"])
            else:
                outside.setdefault(c["column"], []).append(number)
        rows.append((number, values))
    return header_row, header, rows, outside


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _layout_problems(
    source: str,
    sheet: Any,
    parser: _SheetParser,
    header_row: int,
    header: list[str],
    rows: list[tuple[int, list[Any]]],
    outside: dict[int, list[int]],
) -> list[Problem]:
    """Every trap of the sheet's layout inside the table (header row to last data row)."""
    last_row = rows[-1][0] if rows else header_row
    area = (header_row, last_row, len(header))
    found: list[Problem] = []
    if sheet.sheet_state != "visible":
        found.append(
            Problem(
                "XLSX-003",
                source,
                f"the sheet is {sheet.sheet_state}: hidden data may be meant to be left out",
                "unhide the sheet (right-click a sheet tab > Unhide) if it belongs to the study, "
                "or delete or rename it",
            )
        )
    found += _hidden_problems(source, parser, area, header)
    found += _merged_problems(source, parser, area, header)
    found += _blank_row_problems(source, header_row, rows)
    found += _outside_problems(source, outside, header)
    found += _formula_problems(source, parser, area, header)
    return found


def _column_name(header: list[str], column: int) -> str | None:
    return header[column - 1] or None if column <= len(header) else None


def _hidden_problems(
    source: str, parser: _SheetParser, area: tuple[int, int, int], header: list[str]
) -> list[Problem]:
    """XLSX-003: hidden rows and columns inside the table are refused, not used unseen."""
    first, last, width = area
    problems = []
    rows = sorted(r for r in parser.hidden_rows if first <= r <= last)
    if rows:
        shown = ", ".join(map(str, rows[:MAX_CELLS_LISTED])) + (" ..." if len(rows) > 20 else "")
        problems.append(
            Problem(
                "XLSX-003",
                source,
                f"{len(rows)} hidden row(s) inside the table (rows {shown}): hidden rows are often "
                "rows someone meant to leave out, and would be analysed unseen",
                "unhide them (select the rows around them > Unhide, or clear the filter) if they "
                "belong to the study; delete them if they do not",
                row=rows[0],
            )
        )
    for low, high in parser.hidden_columns:
        for column in range(low, min(high, width) + 1):
            letter = get_column_letter(column)
            problems.append(
                Problem(
                    "XLSX-003",
                    source,
                    f"column {letter} is hidden: a hidden column may be an old or withdrawn "
                    "version of the data and would be read unseen",
                    "unhide it (select the columns around it > Unhide) if it belongs to the "
                    "study; delete it if it does not",
                    column=_column_name(header, column),
                )
            )
    return problems


def _merged_problems(
    source: str, parser: _SheetParser, area: tuple[int, int, int], header: list[str]
) -> list[Problem]:
    """XLSX-002: a merged range keeps only its top-left value; the others read as blank."""
    first, last, width = area
    problems = []
    for ref in parser.merged_ranges:
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        if min_row is None or max_row is None or min_col is None or max_col is None:
            continue
        if max_row < first or min_row > last or min_col > width:
            continue
        problems.append(
            Problem(
                "XLSX-002",
                source,
                f"cells {ref} are merged inside the table: only the top-left cell keeps a value, "
                "the other cells read as blank",
                "unmerge them (Home > Merge & Center > Unmerge Cells) and fill the value into "
                "every row it belongs to",
                row=min_row,
                column=_column_name(header, min_col),
            )
        )
    return problems


def _blank_row_problems(
    source: str, header_row: int, rows: list[tuple[int, list[Any]]]
) -> list[Problem]:
    """XLSX-004: blank rows between data rows (often a second table below the first)."""
    problems = []
    previous = header_row
    for number, _ in rows:
        if number > previous + 1:
            span = (
                f"row {previous + 1} is"
                if number == previous + 2
                else f"rows {previous + 1}-{number - 1} are"
            )
            problems.append(
                Problem(
                    "XLSX-004",
                    source,
                    f"{span} blank inside the table; a blank row often separates a second table "
                    "on the same sheet",
                    "delete the blank row(s); put any second table on a sheet of its own",
                    row=previous + 1,
                )
            )
        previous = number
    return problems


def _outside_problems(
    source: str, outside: dict[int, list[int]], header: list[str]
) -> list[Problem]:
    """XLSX-005: values right of the last named column would be dropped."""
    return [
        Problem(
            "XLSX-005",
            source,
            f"column {get_column_letter(column)} has no header but holds {len(rows)} value(s), "
            f"first in cell {get_column_letter(column)}{rows[0]}",
            f"give column {get_column_letter(column)} a header from the data model, or delete "
            f"its values (the last named column is {get_column_letter(len(header))})",
            row=rows[0],
        )
        for column, rows in sorted(outside.items())
    ]


def _formula_problems(
    source: str, parser: _SheetParser, area: tuple[int, int, int], header: list[str]
) -> list[Problem]:
    """XLSX-001 formulas without a saved value, XLSX-006 error values, XLSX-007 formulas read."""
    first, last, width = area

    def inside(cell: tuple[int, int, str]) -> bool:
        return first < cell[0] <= last and cell[1] <= width

    problems = []
    missing = [c for c in parser.formulas_without_value if inside(c)]
    for row, column, _ in missing[:MAX_CELLS_LISTED]:
        cell = f"{get_column_letter(column)}{row}"
        problems.append(
            Problem(
                "XLSX-001",
                source,
                f"cell {cell} holds a formula with no saved value (the file was saved by a "
                "program that does not calculate, or the formula gives an empty result), so "
                "the cell would read as blank",
                "open the workbook in Excel and save it, or replace the formulas by their values "
                "(Copy, then Paste Special > Values)",
                row=row,
                column=_column_name(header, column),
            )
        )
    if len(missing) > MAX_CELLS_LISTED:
        problems.append(
            Problem(
                "XLSX-001",
                source,
                f"and {len(missing) - MAX_CELLS_LISTED} more formula cell(s) with no saved value",
                "open the workbook in Excel and save it, or paste values",
            )
        )
    errors = [c for c in parser.error_cells if inside(c)]
    for row, column, code in errors[:MAX_CELLS_LISTED]:
        problems.append(
            Problem(
                "XLSX-006",
                source,
                f"cell {get_column_letter(column)}{row} holds the Excel error {code} (a broken "
                "formula or reference), not a value",
                "correct the formula or type the value",
                row=row,
                column=_column_name(header, column),
                value=code,
            )
        )
    computed = [c for c in parser.formulas_with_value if inside(c)]
    if computed:
        row, column, _ = computed[0]
        problems.append(
            Problem(
                "XLSX-007",
                source,
                f"{len(computed)} cell(s) hold formulas, first {get_column_letter(column)}{row}; "
                "the values Excel saved with them are used (not recalculated, so a formula such "
                "as TODAY() keeps the value of the day the file was saved)",
                "replace formulas by their values (Copy, then Paste Special > Values) to make "
                "the data fixed",
                row=row,
                column=_column_name(header, column),
                severity="warning",
            )
        )
    return problems


_TRUE = ("1", "true")


class _SheetParser(WorkSheetParser):  # type: ignore[misc]
    """openpyxl's streaming sheet parser, also noting what reading values alone hides.

    Notes formulas (with and without a saved value), Excel error values, hidden rows and
    columns and merged ranges, keeps no row or column dimension objects (memory stays flat)
    and stops once the workbook's cell budget is spent.
    """

    budget: list[int]
    where: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.formulas_without_value: list[tuple[int, int, str]] = []
        self.formulas_with_value: list[tuple[int, int, str]] = []
        self.error_cells: list[tuple[int, int, str]] = []
        self.hidden_rows: list[int] = []
        self.hidden_columns: list[tuple[int, int]] = []

    @property
    def merged_ranges(self) -> list[str]:
        """The sheet's merged ranges as `A1:B2` references (known after `parse`)."""
        merged = self.merged_cells
        return [str(m.ref) for m in merged.mergeCell] if merged else []

    def parse_cell(self, element: Any) -> dict[str, Any]:
        cell: dict[str, Any] = super().parse_cell(element)
        where = (cell["row"], cell["column"], "")
        if cell["data_type"] == "e":
            raw = element.findtext(_VALUE_TAG)
            if cell["value"] == "#VALUE!" and raw and raw != "#VALUE!":
                cell["value"], cell["data_type"] = _number(raw), "n"  # a date cell past 9999
            else:
                self.error_cells.append((where[0], where[1], str(cell["value"])))
                cell["value"] = None
        elif element.find(_FORMULA_TAG) is not None:
            if not element.findtext(_VALUE_TAG):  # absent, or empty as openpyxl writes it
                self.formulas_without_value.append(where)
            else:
                self.formulas_with_value.append(where)
        return cell

    def parse_row(self, row: Any) -> tuple[int, list[dict[str, Any]]]:
        number, cells = super().parse_row(row)
        attrs = self.row_dimensions.pop(str(number), None)
        if attrs and (attrs.get("hidden") in _TRUE or _zero(attrs, "ht", "customHeight")):
            self.hidden_rows.append(number)
        self.budget[0] -= len(cells)
        if self.budget[0] < 0:
            raise _SheetTooLarge(
                Problem(
                    "FILE-007",
                    self.where,
                    f"the workbook holds more than {MAX_WORKBOOK_CELLS:,} cells (counted up to "
                    f"row {number} of this sheet)",
                    CSV_INSTEAD,
                    row=number,
                )
            )
        return number, cells

    def parse_column_dimensions(self, col: Any) -> None:
        attrs = col.attrib
        if attrs.get("hidden") in _TRUE or _zero(attrs, "width", "customWidth"):
            self.hidden_columns.append((int(attrs["min"]), int(attrs.get("max", attrs["min"]))))


_FORMULA_TAG = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}f"
_VALUE_TAG = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}v"


def _zero(attrs: Any, size: str, custom: str) -> bool:
    """A row height or column width set to 0: hidden in all but name."""
    try:
        return attrs.get(custom) in _TRUE and float(attrs.get(size, "1")) == 0
    except ValueError:
        return False


def _number(text: str) -> int | float:
    return float(text) if any(ch in text for ch in ".eE") else int(text)


def _excel_cell(value: Any) -> Any:
    """Keep real dates as dates, numbers as numbers, everything else as text."""
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time(0) else value
    if value is None or isinstance(value, (int, float, dt.date)):
        return value
    return str(value)
