"""REDCap: a data dictionary generated from the data contract, and its CSV export read back.

The formats followed are those of classic (non-longitudinal) projects with repeating
instruments (a feature since 2017, REDCap 7.x), as the REDCap API documentation ("Export
Records", ``type=flat``, ``rawOrLabel``), REDCap's "Repeating Instruments & Events" help and
the 18-column data dictionary list (as the REDCapR and linkml-redcap projects give it)
describe them; docs/data-sources.md names the sources and versions:

- **Data dictionary** (`write_dictionary`): one row per field, 18 columns from
  ``Variable / Field Name`` to ``Field Annotation``; the first field is the record id. One
  instrument per table: ``baseline`` (patients, one per record) and the repeating
  instruments ``treatment_line``, ``tumour_assessment``, ``adverse_event`` and ``lab``
  (to be marked repeating under Project Setup > Repeating instruments, which a dictionary
  cannot declare). Fields of repeating instruments are prefixed (``tl_``, ``ta_``, ``ae_``,
  ``lab_``) as REDCap field names are unique across a project. Enumerations are dropdowns
  whose raw codes are the data model's values, lists (metastasis sites) checkboxes, yes/no
  columns ``yesno``, dates ``text`` validated ``date_ymd``, numbers ``number`` / ``integer``
  with the contract's range as validation min/max.
- **CSV export, raw** (`read_redcap_export`): a header of field names with
  ``redcap_repeat_instrument`` and ``redcap_repeat_instance`` after the record id; one row
  per record for the non-repeating instrument (both blank) and one row per instance of a
  repeating instrument (its name and instance number, the other instruments' fields blank);
  a checkbox as one column per choice ``field___code`` holding 1 or 0; yes/no as 1 or 0;
  dates ``YYYY-MM-DD`` whatever the display format; ``<instrument>_complete`` 0/1/2.
- **CSV export, labels**: the same columns in the same order, headed by field labels, with
  choice labels for codes, ``Checked``/``Unchecked``, ``Yes``/``No`` and instrument labels in
  the repeat-instrument column. Read by position against this dictionary's labels.

A longitudinal export (``redcap_event_name``) is refused (REDCAP-003): events have no place
in the data model. Completion status columns are not used.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from rechallenge.data.io import RawStudy, RawTable, sha256_of
from rechallenge.data.schema import TABLES, TABLES_BY_NAME, ColumnSpec, Kind
from rechallenge.errors import DataValidationError, Problem

__all__ = [
    "DICTIONARY_COLUMNS",
    "INSTRUMENTS",
    "Field",
    "dictionary_fields",
    "is_redcap_export",
    "read_redcap_export",
    "read_redcap_study",
    "write_dictionary",
]

DICTIONARY_COLUMNS = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)


@dataclass(frozen=True)
class Instrument:
    """One REDCap instrument: the table it holds, its field prefix, whether it repeats."""

    name: str
    label: str
    table: str
    prefix: str
    repeating: bool


INSTRUMENTS = (
    Instrument("baseline", "Baseline", "patients", "", False),
    Instrument("treatment_line", "Treatment Line", "treatments", "tl_", True),
    Instrument("tumour_assessment", "Tumour Assessment", "lesions", "ta_", True),
    Instrument("adverse_event", "Adverse Event", "adverse_events", "ae_", True),
    Instrument("lab", "Lab", "labs", "lab_", True),
)
BY_NAME = {i.name: i for i in INSTRUMENTS}
BY_LABEL = {i.label: i for i in INSTRUMENTS}
RECORD_ID = "patient_id"
REPEAT_INSTRUMENT = "redcap_repeat_instrument"
REPEAT_INSTANCE = "redcap_repeat_instance"
#: Largest export read (a chart-review project of thousands of patients is a few MB).
MAX_EXPORT_BYTES = 200 * 1024 * 1024
YESNO = {"1": "yes", "0": "no"}
YESNO_LABELS = {"Yes": "1", "No": "0"}
CHECKBOX_LABELS = {"Checked": "1", "Unchecked": "0"}
COMPLETE_LABELS = {"Incomplete": "0", "Unverified": "1", "Complete": "2"}


@dataclass(frozen=True)
class Field:
    """One REDCap field of the dictionary and the data-model column it carries."""

    name: str
    instrument: Instrument
    column: ColumnSpec
    field_type: str
    label: str
    choices: tuple[tuple[str, str], ...] = ()
    validation: str = ""
    minimum: str = ""
    maximum: str = ""

    def dictionary_row(self) -> list[str]:
        """The field's 18 cells of the data dictionary."""
        choices = " | ".join(f"{code}, {label}" for code, label in self.choices)
        identifier = "y" if self.column.name == "birth_date" else ""
        required = "y" if self.column.non_null and self.name != RECORD_ID else ""
        note = self.column.description or ("YYYY-MM-DD" if self.column.kind is Kind.DATE else "")
        row = [self.name, self.instrument.name, "", self.field_type, self.label, choices, note]
        row += [self.validation, self.minimum, self.maximum, identifier, "", required]
        return [*row, "", "", "", "", ""]

    def export_columns(self) -> list[str]:
        """Its columns in a flat export: one, or one per choice for a checkbox."""
        if self.field_type == "checkbox":
            return [f"{self.name}___{code}" for code, _ in self.choices]
        return [self.name]

    def export_labels(self) -> list[str]:
        """Its column headers in the labels export."""
        if self.field_type == "checkbox":
            return [f"{self.label} (choice={label})" for _, label in self.choices]
        return [self.label]


def _choice_label(value: str) -> str:
    text = value.replace("_", " ")
    return text if text.isupper() else text[:1].upper() + text[1:]


def _field(instrument: Instrument, column: ColumnSpec) -> Field:
    """The REDCap form of one contract column."""
    name = RECORD_ID if column.name == RECORD_ID else instrument.prefix + column.name
    label = "Record ID" if name == RECORD_ID else _choice_label(column.name)
    choices = tuple((v, _choice_label(v)) for v in column.values)
    bounds = (
        "" if column.minimum is None else f"{column.minimum:g}",
        "" if column.maximum is None else f"{column.maximum:g}",
    )
    if column.kind is Kind.ENUM:
        return Field(name, instrument, column, "dropdown", label, choices)
    if column.kind is Kind.ENUM_LIST:
        return Field(name, instrument, column, "checkbox", label, choices)
    if column.kind is Kind.BOOL:
        return Field(name, instrument, column, "yesno", label)
    if column.kind is Kind.DATE:
        return Field(name, instrument, column, "text", label, validation="date_ymd")
    if column.kind in (Kind.NUMBER, Kind.INTEGER):
        kind = "integer" if column.kind is Kind.INTEGER else "number"
        return Field(name, instrument, column, "text", label, (), kind, *bounds)
    return Field(name, instrument, column, "text", label)


def dictionary_fields() -> tuple[Field, ...]:
    """Every field, record id first, instruments in order (the dictionary's and export's order)."""
    fields: list[Field] = []
    for instrument in INSTRUMENTS:
        for column in TABLES_BY_NAME[instrument.table].columns:
            if column.name == RECORD_ID and fields:
                continue  # the record id is the baseline's first field, shared by all
            fields.append(_field(instrument, column))
    return tuple(fields)


def write_dictionary(path: Path) -> Path:
    """Write the data dictionary CSV (UTF-8, comma-separated, as REDCap uploads it)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(DICTIONARY_COLUMNS)
    writer.writerows(f.dictionary_row() for f in dictionary_fields())
    path = Path(path)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def export_header(labels: bool = False) -> list[str]:
    """The columns of a flat export of this dictionary, raw names or labels."""
    fields = dictionary_fields()
    head = (
        ["Record ID", "Repeat Instrument", "Repeat Instance"]
        if labels
        else [RECORD_ID, REPEAT_INSTRUMENT, REPEAT_INSTANCE]
    )
    columns = head[:]
    for instrument in INSTRUMENTS:
        for field in fields[1:]:
            if field.instrument is instrument:
                columns += field.export_labels() if labels else field.export_columns()
        columns.append("Complete?" if labels else f"{instrument.name}_complete")
    return columns


def is_redcap_export(header_line: str) -> bool:
    """Whether a CSV header line is a REDCap flat export (raw or labels)."""
    first = next(csv.reader([header_line.lstrip("\ufeff")]), [])
    return (
        REPEAT_INSTRUMENT in first
        or "redcap_event_name" in first
        or (len(first) > 2 and first[1:3] == ["Repeat Instrument", "Repeat Instance"])
    )


def read_redcap_study(path: Path) -> RawStudy:
    """A REDCap export as a study: one table per instrument, each record keeping its file row."""
    frames, problems = read_redcap_export(path)
    if problems:
        raise DataValidationError(problems)
    instrument = {i.table: i.name for i in INSTRUMENTS}
    tables = {
        name: RawTable(
            name,
            f"{path.name}:{instrument[name]}",
            frame.drop(columns="_row").reset_index(drop=True),
            rows=tuple(int(r) for r in frame["_row"]),
        )
        for name, frame in frames.items()
    }
    return RawStudy(path, tables, {path.name: sha256_of(path)})


def read_redcap_export(path: Path) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """The export's rows split into the data model's tables, text cells, and its problems.

    Each table keeps, per row, the export's row number (header = row 1) in `rows`.
    """
    path = Path(path)
    if path.stat().st_size > MAX_EXPORT_BYTES:
        raise DataValidationError(
            [
                Problem(
                    "FILE-006",
                    path.name,
                    f"the export is larger than {MAX_EXPORT_BYTES // 2**20} MiB",
                    "export fewer records at a time, or check that this is the right file",
                )
            ]
        )
    text = path.read_bytes().decode("utf-8-sig", errors="strict")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:]
    problems: list[Problem] = []
    if "redcap_event_name" in header:
        raise DataValidationError(
            [
                Problem(
                    "REDCAP-003",
                    path.name,
                    "the export is from a longitudinal project (it has redcap_event_name)",
                    "create the project from `rechallenge template --redcap` as a classic "
                    "project with repeating instruments, or export one event's data",
                )
            ]
        )
    labelled = header[1:3] == ["Repeat Instrument", "Repeat Instance"]
    if labelled:
        header, body, problems = _from_labels(path.name, header, body)
    return _split(path.name, header, body, problems)


def _from_labels(
    file: str, header: list[str], body: list[list[str]]
) -> tuple[list[str], list[list[str]], list[Problem]]:
    """A labels export turned into a raw one, by position against this dictionary."""
    expected = export_header(labels=True)
    if header != expected:
        raise DataValidationError([_not_ours(file, header, expected)])
    raw = export_header(labels=False)
    codes = _label_codes()
    problems: list[Problem] = []
    out: list[list[str]] = []
    for number, row in enumerate(body, start=2):
        converted = []
        for name, cell in zip(raw, row, strict=False):
            if cell == "" or name not in codes:
                converted.append(cell)
                continue
            code = codes[name].get(cell)
            if code is None:
                problems.append(
                    Problem(
                        "REDCAP-004",
                        file,
                        "the label is not one of this field's choices in the data dictionary",
                        "export with the dictionary from `rechallenge template --redcap`, "
                        "unchanged, or use the raw export",
                        row=number,
                        column=name,
                        value=cell,
                    )
                )
                code = cell
            converted.append(code)
        out.append(converted)
    return raw, out, problems


def _label_codes() -> dict[str, dict[str, str]]:
    """Per raw export column, its labels and their raw codes."""
    codes: dict[str, dict[str, str]] = {REPEAT_INSTRUMENT: {i.label: i.name for i in INSTRUMENTS}}
    for field in dictionary_fields():
        if field.field_type == "dropdown":
            codes[field.name] = {label: code for code, label in field.choices}
        elif field.field_type == "yesno":
            codes[field.name] = YESNO_LABELS
        elif field.field_type == "checkbox":
            codes |= {column: CHECKBOX_LABELS for column in field.export_columns()}
    codes |= {f"{i.name}_complete": COMPLETE_LABELS for i in INSTRUMENTS}
    return codes


def _not_ours(file: str, header: list[str], expected: list[str]) -> Problem:
    differ = next(
        (i for i, (a, b) in enumerate(zip(header, expected, strict=False)) if a != b),
        min(len(header), len(expected)),
    )
    return Problem(
        "REDCAP-001",
        file,
        f"the export's columns differ from the data dictionary of `rechallenge template "
        f"--redcap` from column {differ + 1} on"
        + (f" ({header[differ]!r})" if differ < len(header) else ""),
        "build the project from that dictionary unchanged (fields may not be renamed, added "
        "or removed), and export all instruments",
        column=header[differ] if differ < len(header) else None,
    )


def _split(
    file: str, header: list[str], body: list[list[str]], problems: list[Problem]
) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """One frame per instrument; each row checked to belong to one instrument only."""
    fields = dictionary_fields()
    known = set(export_header())
    unknown = [h for h in header if h not in known]
    if unknown or RECORD_ID not in header or REPEAT_INSTRUMENT not in header:
        raise DataValidationError([_not_ours(file, header, export_header())])
    where = {name: i for i, name in enumerate(header)}
    records: dict[str, list[dict[str, object]]] = {i.table: [] for i in INSTRUMENTS}
    for number, row in enumerate(body, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(_width(file, number, len(row), len(header)))
            continue
        name = row[where[REPEAT_INSTRUMENT]].strip() or "baseline"
        instrument = BY_NAME.get(name)
        if instrument is None:
            problems.append(_unknown_instrument(file, number, name))
            continue
        problems += _stray_values(file, number, row, where, fields, instrument)
        record: dict[str, object] = {"_row": number, RECORD_ID: row[where[RECORD_ID]]}
        for field in fields[1:]:
            if field.instrument is instrument:
                record[field.column.name] = _cell(field, row, where)
        records[instrument.table].append(record)
    tables = {table: pd.DataFrame(rows, dtype=object) for table, rows in records.items() if rows}
    return tables, problems


def _cell(field: Field, row: list[str], where: dict[str, int]) -> str:
    """One field's raw export cell(s) as the data model writes it."""
    if field.field_type == "checkbox":
        ticked = [code for code, _ in field.choices if row[where[f"{field.name}___{code}"]] == "1"]
        return ";".join(ticked)
    if field.name not in where and not field.column.required:
        return ""  # a project built before this optional field was added to the contract
    value = row[where[field.name]]
    if field.field_type == "yesno":
        return YESNO.get(value.strip(), value)
    return value


def _stray_values(
    file: str,
    number: int,
    row: list[str],
    where: dict[str, int],
    fields: Iterable[Field],
    instrument: Instrument,
) -> list[Problem]:
    """REDCAP-005: a value in another instrument's field on this row (a damaged export)."""
    stray = [
        column
        for field in fields
        if field.instrument is not instrument and field.name != RECORD_ID
        for column in field.export_columns()
        if column in where
        and row[where[column]].strip() not in ("", "0" if field.field_type == "checkbox" else "")
    ]
    if not stray:
        return []
    return [
        Problem(
            "REDCAP-005",
            file,
            f"the row belongs to instrument {instrument.name!r} but also holds values of "
            f"other instruments' fields ({', '.join(stray[:3])}{' ...' if len(stray) > 3 else ''})",
            "export again with all instruments: in a REDCap export each row holds one "
            "instrument's fields only",
            row=number,
            column=stray[0],
        )
    ]


def _width(file: str, number: int, found: int, expected: int) -> Problem:
    return Problem(
        "FILE-005",
        file,
        f"the row has {found} fields but the header has {expected}",
        "export the project again as CSV; do not edit the export by hand",
        row=number,
    )


def _unknown_instrument(file: str, number: int, name: str) -> Problem:
    return Problem(
        "REDCAP-002",
        file,
        f"{name!r} is not an instrument of the dictionary",
        f"use the instruments of `rechallenge template --redcap`: {', '.join(BY_NAME)}",
        row=number,
        column=REPEAT_INSTRUMENT,
        value=name,
    )


def table_names() -> tuple[str, ...]:
    """The data-model tables an export can fill, in contract order."""
    return tuple(t.name for t in TABLES if any(i.table == t.name for i in INSTRUMENTS))
