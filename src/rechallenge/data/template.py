"""The Excel entry template: a workbook for chart review, generated from the data contract.

Every sheet, column, drop-down list, range and help text comes from `schema.TABLES`, so the
template cannot drift from what validation accepts. The layout is the one the workbook
reader reads (`io.read_study_files`): one sheet per table named after it, the column names
in row 1 (frozen), data from row 2, nothing hidden or merged, nothing right of the last
column. A filled template is therefore a study source as it is. A README sheet, which the
reader ignores, explains the workbook.

Per column kind:

- ids and free text: text format ``@`` (so ``00123`` stays ``00123``);
- dates: format ``yyyy-mm-dd`` and a date validation (1900-01-01 to 2199-12-31);
- numbers and whole numbers: a ``decimal`` / ``whole`` validation over the contract's range;
- enumerations and yes/no: a drop-down list (lists of several values, such as metastasis
  sites, cannot be a drop-down: their permitted values are in the column's help comment).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from rechallenge.data.schema import TABLES, ColumnSpec, Kind, TableSpec

__all__ = ["TEMPLATE_ROWS", "column_help", "write_template"]

#: Rows (after the header) that carry the formats and validations.
TEMPLATE_ROWS = 5000
DATE_FORMAT = "yyyy-mm-dd"
TEXT_FORMAT = "@"
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)
HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")
KIND_WORDS = {
    Kind.TEXT: "text",
    Kind.ID: "identifier (text)",
    Kind.DATE: "date, YYYY-MM-DD",
    Kind.NUMBER: "number (decimal point)",
    Kind.INTEGER: "whole number",
    Kind.BOOL: "yes or no",
    Kind.ENUM: "one value from the list",
    Kind.ENUM_LIST: "values from the list, separated by ';'",
    Kind.DRUG_LIST: "drug names (generic), separated by '+' or ';'",
}


def write_template(path: Path) -> Path:
    """Write the entry template to `path` (.xlsx) and return it."""
    workbook = Workbook()
    readme = workbook.active
    assert readme is not None  # a new workbook has one sheet
    readme.title = "README"
    _write_readme(readme)
    for spec in TABLES:
        _write_table(workbook.create_sheet(spec.name), spec)
    path = Path(path)
    workbook.save(path)
    return path


def column_help(table: TableSpec, column: ColumnSpec) -> str:
    """The help text of one column: what it holds, whether it is required, what is allowed."""
    parts = [f"{table.name}.{column.name}: {KIND_WORDS[column.kind]}"]
    if column.description:
        parts.append(column.description)
    if column.non_null:
        parts.append("Required: fill every row.")
    elif column.required:
        parts.append("Required column; cells may be left blank.")
    else:
        parts.append("Optional.")
    if column.values:
        parts.append("Allowed: " + ", ".join(column.values) + ".")
    limits = _limits(column)
    if limits:
        parts.append(limits)
    if column.identifying:
        parts.append("Identifying: never shown in outputs unless asked.")
    return "\n".join(parts)


def _limits(column: ColumnSpec) -> str:
    if column.minimum is not None and column.maximum is not None:
        return f"From {column.minimum:g} to {column.maximum:g}."
    if column.minimum is not None:
        return f"At least {column.minimum:g}."
    if column.maximum is not None:
        return f"At most {column.maximum:g}."
    return ""


def _write_table(sheet: Worksheet, spec: TableSpec) -> None:
    """Header, frozen pane, and per column: format, validation, comment, width."""
    sheet.freeze_panes = "A2"
    for index, column in enumerate(spec.columns, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index, value=column.name)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        comment = Comment(column_help(spec, column), "rechallenge")
        comment.width, comment.height = 320, 160
        cell.comment = comment
        dimension = sheet.column_dimensions[letter]
        dimension.width = max(12, len(column.name) + 4)
        number_format = _number_format(column)
        if number_format is not None:  # the column's style: Excel gives it to each new entry
            dimension.number_format = number_format
        validation = _validation(column)
        if validation is not None:
            validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
            sheet.add_data_validation(validation)


def _number_format(column: ColumnSpec) -> str | None:
    if column.kind is Kind.DATE:
        return DATE_FORMAT
    if column.kind in (Kind.ID, Kind.TEXT, Kind.DRUG_LIST, Kind.ENUM_LIST):
        return TEXT_FORMAT
    return None


def _validation(column: ColumnSpec) -> DataValidation | None:
    """The Excel data validation of one column, with the message Excel shows on a bad entry."""
    rule: DataValidation | None = None
    if column.kind is Kind.ENUM:
        rule = DataValidation(type="list", formula1='"' + ",".join(column.values) + '"')
    elif column.kind is Kind.BOOL:
        rule = DataValidation(type="list", formula1='"yes,no"')
    elif column.kind is Kind.DATE:
        first, last = _serial(FIRST_DAY), _serial(LAST_DAY)
        rule = DataValidation(type="date", operator="between", formula1=first, formula2=last)
    elif column.kind in (Kind.NUMBER, Kind.INTEGER):
        kind = "whole" if column.kind is Kind.INTEGER else "decimal"
        low = column.minimum if column.minimum is not None else -1e15
        high = column.maximum if column.maximum is not None else 1e15
        rule = DataValidation(
            type=kind, operator="between", formula1=f"{low:g}", formula2=f"{high:g}"
        )
    if rule is None:
        return None
    rule.allow_blank = True
    rule.showErrorMessage = True
    rule.errorTitle = column.name
    rule.error = _limits(column) or KIND_WORDS[column.kind]
    if column.values:
        rule.error = "Allowed: " + ", ".join(column.values)
    return rule


def _serial(day: dt.date) -> str:
    """Excel's 1900 date serial of `day` (validations hold serials, not dates)."""
    return str((day - dt.date(1899, 12, 30)).days)


def _write_readme(sheet: Worksheet) -> None:
    """What the workbook is, how to fill it, and every table with its columns."""
    lines = [
        ("rechallenge entry template", True),
        (
            "One sheet per table; row 1 holds the column names, one record per row from row 2.",
            False,
        ),
        (
            "Do not rename sheets or columns, merge cells, hide rows or columns, or leave blank",
            False,
        ),
        ("rows between records: the study is read exactly as the sheets show it.", False),
        (
            "Dates as dates (YYYY-MM-DD); numbers with a decimal point; yes/no from the lists.",
            False,
        ),
        ("Hover over a column name for what it holds and which values are allowed.", False),
        (
            "Delete the sheet of an optional table you do not collect (an empty one is refused).",
            False,
        ),
        ("Check the filled workbook with: rechallenge validate study.xlsx", False),
        ("", False),
    ]
    for spec in TABLES:
        need = "required" if spec.required else "optional"
        lines.append((f"{spec.name} ({need}): {spec.description}", True))
        lines += [(f"  {c.name}: {KIND_WORDS[c.kind]}", False) for c in spec.columns]
        lines.append(("", False))
    for row, (text, bold) in enumerate(lines, start=1):
        cell = sheet.cell(row=row, column=1, value=text or None)
        cell.font = Font(bold=bold)
        cell.alignment = Alignment(wrap_text=False)
    sheet.column_dimensions["A"].width = 100
