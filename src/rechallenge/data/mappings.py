"""Declared mappings: how a hospital's export is turned into the data model, rule by rule.

Every transformation is off unless the study configuration names it under ``data:``, and
every one that ran is counted (`AppliedMapping`, also a MAP-001 warning in the run log)::

    data:
      csv: {delimiter: ";", decimal: ","}          # every CSV file; per file under files:
      files: {labs.csv: {encoding: cp1252}}        # per-file dialect and encoding
      date_format: "%d/%m/%Y"                      # every date column; per column below
      date_formats: {patients.birth_date: "%Y-%m-%d"}
      value_maps: {patients.sex: {M: male, F: female}}
      rename: {patients: {Pt_ID: patient_id}}

Order of application, after the file is read with its dialect (`CsvDialect`):

1. column renames (per table; old names compared case-insensitively, as headers are);
2. value maps (per column; whole cells, or each item of a ``;``-list column; keys compared
   after trimming, case-insensitively). A filled cell of an enumeration or yes/no column
   that is neither a key of the map nor already a value of the data model is MAP-003;
3. date formats (per column, else the study-wide `date_format`): a cell matching the format
   becomes ``YYYY-MM-DD``; a cell already ISO (full or partial) is left to the date parser;
   any other filled text is MAP-002;
4. decimal commas (CSV files declared ``decimal: ","``): ``1,5`` becomes ``1.5`` in number
   columns; a number written with a point there is MAP-004 (``1.234`` could be 1234).

Nothing is guessed: a value no rule covers keeps its problem (MAP-002…MAP-005), reported at
once with every problem validation finds in the other cells (`validate_raw_study` merges them;
a cell a mapping could not read is not reported a second time by the cell parser).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rechallenge.data.schema import TABLES_BY_NAME, ColumnSpec, Kind
from rechallenge.errors import DataValidationError, Problem

if TYPE_CHECKING:
    from rechallenge.data.io import RawStudy, RawTable

__all__ = [
    "RULE_WORDS",
    "AppliedMapping",
    "CsvDialect",
    "DataMappings",
    "MappedDataValidationError",
    "apply_mappings",
    "looks_delimited_by",
    "summary_lines",
]

#: True and false spellings of yes/no columns, as `parse.parse_bool` reads them.
BOOL_WORDS = frozenset({"yes", "no", "true", "false", "1", "0"})
ISO_OR_PARTIAL = re.compile(r"^\d{4}(-\d{2}(-\d{2}([T ].*)?)?)?$")
COMMA_NUMBER = re.compile(r"^[+-]?\d+(,\d+)?$")
POINT_NUMBER = re.compile(r"^[+-]?\d*\.\d+$")
CONFIG_HINT = "the study configuration"
#: Each rule in words, for `rechallenge validate`'s table (the rule code stays in the run log).
RULE_WORDS: dict[str, str] = {
    "dialect": "file dialect",
    "rename": "column rename",
    "value_map": "value map",
    "date_format": "date format",
    "decimal": "decimal comma",
}
#: Codes of values a declared mapping could not read (the cell is reported once, by them).
UNMAPPED_CODES = frozenset({"MAP-002", "MAP-003", "MAP-004"})


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CsvDialect(_Model):
    """How one CSV file is written: field delimiter, decimal separator, text encoding."""

    delimiter: str | None = Field(
        None, description="Field delimiter, one character (',' unless declared; ';', tab, '|')."
    )
    decimal: Literal[".", ","] | None = Field(
        None, description="Decimal separator of number columns ('.' unless declared)."
    )
    encoding: str | None = Field(
        None, description="Text encoding (a Python codec name; data.encoding unless declared)."
    )

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        if value is not None and (len(value) != 1 or value in '"\r\n'):
            raise ValueError("the delimiter must be one character other than a quote or newline")
        return value


def _split_key(key: str) -> tuple[str, str]:
    table, _, column = key.partition(".")
    if table not in TABLES_BY_NAME or not column:
        known = ", ".join(TABLES_BY_NAME)
        raise ValueError(f"{key!r} is not <table>.<column> with a table of the model ({known})")
    if column not in TABLES_BY_NAME[table].column_names:
        names = ", ".join(TABLES_BY_NAME[table].column_names)
        raise ValueError(f"{key!r}: {table} has no column {column!r} (its columns: {names})")
    return table, column


def _check_date_format(fmt: str) -> str:
    """A full, unambiguous day-month-year format: %d, a month (%m/%b/%B) and a 4-digit %Y."""
    if "%y" in fmt:
        raise ValueError(f"{fmt!r}: two-digit years (%y) are ambiguous (1950 or 2050); use %Y")
    if "%d" not in fmt or "%Y" not in fmt or not any(m in fmt for m in ("%m", "%b", "%B")):
        raise ValueError(f"{fmt!r} must name the day (%d), the month (%m, %b or %B) and %Y")
    try:
        dt.datetime(2001, 2, 3).strftime(fmt)
    except ValueError as exc:
        raise ValueError(f"{fmt!r} is not a strftime format: {exc}") from None
    return fmt


class DataMappings(_Model):
    """The declared mappings of ``data:``; the default declares none and changes nothing."""

    csv: CsvDialect = Field(
        default_factory=CsvDialect, description="Dialect of every CSV file (delimiter, decimal)."
    )
    files: dict[str, CsvDialect] = Field(
        default_factory=dict,
        description="Dialect per file, by file name (labs.csv), overriding `csv`.",
    )
    date_format: str | None = Field(
        None, description="Format of every date column, e.g. '%d/%m/%Y' (ISO unless declared)."
    )
    date_formats: dict[str, str] = Field(
        default_factory=dict, description="Format per date column, as table.column: format."
    )
    value_maps: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Value maps per column, as table.column: {local value: model value}.",
    )
    rename: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Column renames per table, as table: {local name: model name}.",
    )

    @field_validator("date_format")
    @classmethod
    def _date_format_ok(cls, value: str | None) -> str | None:
        return None if value is None else _check_date_format(value)

    @field_validator("date_formats")
    @classmethod
    def _date_formats_ok(cls, value: dict[str, str]) -> dict[str, str]:
        for key, fmt in value.items():
            table, column = _split_key(key)
            if TABLES_BY_NAME[table].column(column).kind is not Kind.DATE:
                raise ValueError(f"{key!r} is not a date column")
            _check_date_format(fmt)
        return value

    @field_validator("value_maps")
    @classmethod
    def _value_maps_ok(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for key, mapping in value.items():
            table, column = _split_key(key)
            spec = TABLES_BY_NAME[table].column(column)
            _check_targets(key, spec, mapping)
            folded = Counter(k.strip().lower() for k in mapping)
            twice = [k for k, n in folded.items() if n > 1]
            if twice:
                raise ValueError(f"{key!r}: {twice[0]!r} is mapped twice (keys ignore case)")
        return value

    @field_validator("rename")
    @classmethod
    def _renames_ok(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for table, renames in value.items():
            if table not in TABLES_BY_NAME:
                raise ValueError(f"rename: {table!r} is not a table ({', '.join(TABLES_BY_NAME)})")
            names = TABLES_BY_NAME[table].column_names
            for old, new in renames.items():
                if new not in names:
                    raise ValueError(f"rename {table}.{old}: {new!r} is not a column of {table}")
            targets = Counter(renames.values())
            twice = [n for n, c in targets.items() if c > 1]
            if twice:
                raise ValueError(f"rename {table}: two columns are renamed to {twice[0]!r}")
        return value

    @model_validator(mode="after")
    def _files_named(self) -> DataMappings:
        for name in self.files:
            if not name.lower().endswith(".csv"):
                raise ValueError(f"files: {name!r} must be a CSV file name such as labs.csv")
        return self

    @property
    def declared(self) -> bool:
        """Whether any mapping at all is declared."""
        return self != DataMappings()

    def dialect(self, file_name: str, encoding: str) -> tuple[str, str, str]:
        """(delimiter, decimal, encoding) of one CSV file: per file, then `csv`, then defaults."""
        own = next((d for n, d in self.files.items() if n.lower() == file_name.lower()), None)
        layers = [d for d in (own, self.csv) if d is not None]
        delimiter = next((d.delimiter for d in layers if d.delimiter is not None), ",")
        decimal = next((d.decimal for d in layers if d.decimal is not None), ".")
        chosen = next((d.encoding for d in layers if d.encoding is not None), encoding)
        return delimiter, decimal, chosen

    def date_format_of(self, table: str, column: str) -> str | None:
        """The declared format of one date column, or the study-wide one."""
        return self.date_formats.get(f"{table}.{column}", self.date_format)


def _check_targets(key: str, spec: ColumnSpec, mapping: dict[str, str]) -> None:
    """Map targets must be values of the data model (enumerations, yes/no columns)."""
    if spec.kind is Kind.DRUG_LIST or spec.kind is Kind.DATE:
        raise ValueError(f"{key!r}: value maps apply to text, enumeration and yes/no columns")
    allowed: set[str] | None = None
    if spec.kind in (Kind.ENUM, Kind.ENUM_LIST):
        allowed = {v.lower() for v in spec.values}
    elif spec.kind is Kind.BOOL:
        allowed = set(BOOL_WORDS)
    if allowed is None:
        return
    for local, ours in mapping.items():
        if ours.strip().lower() not in allowed:
            shown = ", ".join(spec.values) if spec.values else "yes, no"
            raise ValueError(f"{key!r}: {local!r} maps to {ours!r}, not one of: {shown}")


@dataclass(frozen=True)
class AppliedMapping:
    """One declared rule as applied to one table (or column): what it did, how many times.

    `rule` is one of ``dialect``, ``rename``, ``value_map``, ``date_format``, ``decimal``;
    `detail` says the rule in words (never a patient's value: keys of value maps and date
    formats are the user's declared text).
    """

    rule: str
    source: str
    column: str | None
    detail: str
    count: int

    @property
    def unit(self) -> str:
        """What `count` counts: columns (renames), rows (dialects) or cells."""
        return {"rename": "column(s)", "dialect": "row(s)"}.get(self.rule, "cell(s)")

    def as_problem(self) -> Problem:
        """The MAP-001 line the run log and `rechallenge validate --report` keep."""
        return Problem(
            "MAP-001",
            self.source,
            f"declared mapping applied ({self.rule}): {self.detail}; {self.count} {self.unit}",
            "nothing to fix: listed so that every transformation of the data is on record",
            column=self.column,
            severity="warning",
        )


class MappedDataValidationError(DataValidationError):
    """Problems found in a study read through declared mappings, with the mappings applied.

    `rechallenge validate` shows `applied` next to the problems, so that a refused export
    still says what was done to it (and that the declaration was read at all).
    """

    def __init__(self, problems: Sequence[Problem], applied: Sequence[AppliedMapping]) -> None:
        super().__init__(problems)
        self.applied: tuple[AppliedMapping, ...] = tuple(applied)


def summary_lines(applied: Sequence[AppliedMapping]) -> list[str]:
    """One line per applied rule: the rule in words, where, what was done and how often.

    ``value map · patients.csv, column sex: m → male: 18, f → female: 6 · 24 cell(s)``
    """
    lines = []
    for a in applied:
        where = a.source if a.column is None else f"{a.source}, column {a.column}"
        rule = RULE_WORDS.get(a.rule, a.rule.replace("_", " "))
        lines.append(f"{rule} · {where}: {a.detail} · {a.count} {a.unit}")
    return lines


def looks_delimited_by(header_line: str) -> str | None:
    """The delimiter a header line seems to use when it holds no comma, for the message only."""
    if "," in header_line:
        return None
    for candidate in (";", "\t", "|"):
        if header_line.count(candidate) >= 1:
            return candidate
    return None


def apply_mappings(raw: RawStudy, mappings: DataMappings, decimals: dict[str, str]) -> RawStudy:
    """Apply steps 1–4 of the module docstring to every table, each rule counted.

    `decimals` gives the declared decimal separator per table read from CSV. Values no rule
    could read are returned in `RawStudy.problems` (not raised), so that validation reports
    them together with every other problem of the study.
    """
    applied: list[AppliedMapping] = []
    problems: list[Problem] = []
    tables: dict[str, RawTable] = {}
    for name, table in raw.tables.items():
        cells = table.cells.copy()
        cells = _rename(table, cells, mappings, applied, problems)
        for spec in TABLES_BY_NAME[name].columns:
            if spec.name not in cells.columns:
                continue
            column = _Column(table, spec, cells[spec.name], applied, problems)
            mapping = mappings.value_maps.get(f"{name}.{spec.name}")
            if mapping is not None:
                column.map_values(mapping)
            fmt = mappings.date_format_of(name, spec.name) if spec.kind is Kind.DATE else None
            if fmt is not None:
                column.read_dates(fmt)
            if decimals.get(name, ".") == "," and spec.kind in (Kind.NUMBER, Kind.INTEGER):
                column.decimal_commas()
            cells[spec.name] = column.values
        tables[name] = replace(table, cells=cells)
    everything = (*raw.applied, *applied)
    notes = tuple(a.as_problem() for a in everything)
    return replace(
        raw,
        tables=tables,
        warnings=raw.warnings + notes,
        applied=everything,
        problems=(*raw.problems, *problems),
    )


def without_duplicates(problems: list[Problem], unmapped: Sequence[Problem]) -> list[Problem]:
    """`problems` less those of cells an unmapped-value problem (MAP-002…004) already names."""
    cells = {(p.table, p.row, p.column) for p in unmapped if p.code in UNMAPPED_CODES}
    return [
        p for p in problems if p.code.startswith("MAP-") or (p.table, p.row, p.column) not in cells
    ]


def _rename(
    table: RawTable,
    cells: pd.DataFrame,
    mappings: DataMappings,
    applied: list[AppliedMapping],
    problems: list[Problem],
) -> pd.DataFrame:
    """Step 1: rename declared columns; a target already present is MAP-005."""
    renames = {old.strip().lower(): new for old, new in mappings.rename.get(table.name, {}).items()}
    present = [str(c) for c in cells.columns]
    done = []
    for old, new in renames.items():
        if old not in present:
            continue
        if new in present and new != old:
            problems.append(
                Problem(
                    "MAP-005",
                    table.source,
                    f"column {old!r} is declared to be renamed {new!r}, but {new!r} is there too",
                    f"delete one of the two columns, or remove the rename from {CONFIG_HINT}",
                    column=new,
                )
            )
            continue
        done.append(f"{old} → {new}")
    if done:
        cells = cells.rename(columns={o: n for o, n in renames.items() if f"{o} → {n}" in done})
        applied.append(AppliedMapping("rename", table.source, None, ", ".join(done), len(done)))
    return cells


@dataclass
class _Column:
    """One column's cells while the declared rules run over it (rows kept for messages)."""

    table: RawTable
    spec: ColumnSpec
    values: pd.Series
    applied: list[AppliedMapping]
    problems: list[Problem]

    def _row(self, pos: int) -> int:
        if self.table.rows is not None:
            return self.table.rows[pos]
        return self.table.first_row + pos

    def _problem(self, code: str, pos: int, message: str, fix: str, value: object) -> None:
        self.problems.append(
            Problem(
                code,
                self.table.source,
                message,
                fix,
                row=self._row(pos),
                column=self.spec.name,
                value=value,
                identifying=self.spec.identifying or self.spec.kind is Kind.DATE,
            )
        )

    def _record(self, rule: str, detail: str, count: int) -> None:
        self.applied.append(AppliedMapping(rule, self.table.source, self.spec.name, detail, count))

    def map_values(self, mapping: dict[str, str]) -> None:
        """Step 2: cells (or list items) through the map; unknown enumeration values: MAP-003."""
        lookup = {k.strip().lower(): v for k, v in mapping.items()}
        ours = _model_values(self.spec)
        counts: Counter[str] = Counter()
        out: list[Any] = []
        for pos, cell in enumerate(self.values.tolist()):
            if not isinstance(cell, (str, int, float)) or isinstance(cell, bool) or _empty(cell):
                out.append(cell)
                continue
            items = str(cell).split(";") if self.spec.kind is Kind.ENUM_LIST else [str(cell)]
            mapped = []
            for item in items:
                key = item.strip().lower()
                if key in lookup:
                    counts[key] += 1
                    mapped.append(lookup[key])
                elif ours is not None and key and key not in ours:
                    self._problem(
                        "MAP-003",
                        pos,
                        "the value is neither in the declared value map of this column nor a "
                        "value of the data model",
                        f"add it to `data.value_maps.{self.table.name}.{self.spec.name}` in "
                        f"{CONFIG_HINT}, or correct the cell",
                        item.strip(),
                    )
                    mapped.append(item)
                else:
                    mapped.append(item)
            out.append(";".join(mapped) if len(items) > 1 else mapped[0])
        self.values = pd.Series(out, index=self.values.index, dtype=object, name=self.values.name)
        detail = ", ".join(f"{k} → {lookup[k]}: {counts[k]}" for k in lookup)
        self._record("value_map", detail, sum(counts.values()))

    def read_dates(self, fmt: str) -> None:
        """Step 3: text dates in the declared format become ISO; other text is MAP-002."""
        out: list[Any] = []
        converted = 0
        for pos, cell in enumerate(self.values.tolist()):
            if not isinstance(cell, str) or not cell.strip() or ISO_OR_PARTIAL.match(cell.strip()):
                out.append(cell)  # Excel dates, numbers, blanks and ISO text: the parser's job
                continue
            try:
                day = dt.datetime.strptime(cell.strip(), fmt).date()
            except ValueError:
                self._problem(
                    "MAP-002",
                    pos,
                    f"the date does not match the declared format {fmt!r}",
                    f"correct the cell, or declare this column's own format under "
                    f"`data.date_formats: {{{self.table.name}.{self.spec.name}: ...}}`",
                    cell,
                )
                out.append(cell)
                continue
            converted += 1
            out.append(day.isoformat())
        self.values = pd.Series(out, index=self.values.index, dtype=object, name=self.values.name)
        self._record("date_format", f"{fmt} read as YYYY-MM-DD", converted)

    def decimal_commas(self) -> None:
        """Step 4: ``1,5`` → ``1.5``; a point in a decimal-comma file is MAP-004."""
        out: list[Any] = []
        converted = 0
        for pos, cell in enumerate(self.values.tolist()):
            text = cell.strip() if isinstance(cell, str) else None
            if text and COMMA_NUMBER.match(text):
                converted += "," in text
                out.append(text.replace(",", "."))
                continue
            if text and POINT_NUMBER.match(text):
                self._problem(
                    "MAP-004",
                    pos,
                    "the file is declared to use decimal commas, but this number has a point "
                    "(a thousands separator or a decimal point: it cannot be told)",
                    "write the number with a decimal comma and no thousands separator, or "
                    "declare this file's own dialect under `data.files`",
                    text,
                )
            out.append(cell)
        self.values = pd.Series(out, index=self.values.index, dtype=object, name=self.values.name)
        self._record("decimal", "decimal comma read as a point", converted)


def _model_values(spec: ColumnSpec) -> set[str] | None:
    """Values the column accepts without a map (lower case), or None for free text."""
    if spec.kind in (Kind.ENUM, Kind.ENUM_LIST):
        return {v.lower() for v in spec.values}
    if spec.kind is Kind.BOOL:
        return set(BOOL_WORDS)
    return None


def _empty(cell: object) -> bool:
    return (isinstance(cell, float) and cell != cell) or (
        isinstance(cell, str) and not cell.strip()
    )
