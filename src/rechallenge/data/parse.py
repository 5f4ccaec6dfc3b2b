"""Cell parsers: raw cells -> typed pandas Series, with a Problem for every bad cell.

Each parser is vectorised over the column and explains only the cells that fail, so a
table of a million rows parses in seconds and every bad cell is still named.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from rechallenge.data.drugs import DrugDictionary, load_dictionary
from rechallenge.data.model import Imputation
from rechallenge.data.schema import SMALL_CELL_SPELLINGS, ColumnSpec, Kind
from rechallenge.errors import Problem

PartialDateRule = Literal["error", "first", "middle", "last"]

INVISIBLE = re.compile("[\u00a0\u200b\u200c\u200d\u2060\ufeff]")
E_NOTATION = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")
E_NOTATION_HINT = re.compile(r"\d[eE][+-]?\d")  # found in every E_NOTATION match
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_DATETIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)"
    r"(?P<zone>Z|[+-]\d{2}(:?\d{2})?)?$"
)
PARTIAL_DATE = re.compile(r"^(?P<year>\d{4})(-(?P<month>\d{2}))?$")
SERIAL_NUMBER = re.compile(r"^\d{1,6}(\.\d+)?$")
TRUE_WORDS = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}
EXCEL_EPOCH_1900 = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01, past the fictitious 1900-02-29
EXCEL_EPOCH_1904 = dt.date(1904, 1, 1)
EARLIEST_PLAUSIBLE = pd.Timestamp("1900-01-02")
#: The whole days a datetime64[ns] column (every parsed date column) can hold.
FIRST_HELD_DAY = dt.date(1677, 9, 22)
LAST_HELD_DAY = dt.date(2262, 4, 11)


@dataclass(frozen=True)
class ParseOptions:
    """Explicit, named transformations the user may turn on in the configuration."""

    partial_dates: PartialDateRule = "error"
    excel_serial_dates: bool = False
    date_system_1904: bool = False


@dataclass
class ColumnContext:
    """Where a column sits, so each problem can name its place."""

    table: str
    file: str
    column: ColumnSpec
    rows: np.ndarray  # spreadsheet row number of each cell
    patient_ids: pd.Series
    problems: list[Problem]
    imputations: list[Imputation]

    def report(
        self,
        position: int,
        code: str,
        message: str,
        fix: str,
        value: object = None,
        identifying: bool | None = None,
    ) -> None:
        """Record one bad cell at `position` (0-based index into the column)."""
        pid = self.patient_ids.iloc[position] if len(self.patient_ids) > position else None
        self.problems.append(
            Problem(
                code=code,
                table=self.file,
                message=message,
                fix=fix,
                row=int(self.rows[position]),
                column=self.column.name,
                value=value,
                identifying=self.column.identifying if identifying is None else identifying,
                patient_id=None if pid is None or pd.isna(pid) else str(pid),
            )
        )


def _positions(mask: object) -> list[int]:
    """Positions where a boolean mask is True, as Python ints."""
    return [int(i) for i in np.flatnonzero(np.asarray(mask, dtype=bool))]


def _all_text(values: pd.Series) -> bool:
    """True when every filled cell is a string (always so for CSV): vectorised paths apply."""
    return pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")


def _per_unique(values: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> np.ndarray:
    """`fn` applied to each distinct filled value once, spread back over the column.

    Study columns repeat a few values (dates, categories, sizes) over many rows, so this
    turns millions of string operations into thousands. Missing cells come back as NA.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = fn(pd.Series(uniques, dtype=object)).to_numpy()
    out = np.empty(len(values), dtype=mapped.dtype if mapped.dtype != bool else object)
    out[codes >= 0] = mapped[codes[codes >= 0]]
    out[codes < 0] = None if out.dtype == object else np.datetime64("NaT")
    return out


@dataclass(frozen=True)
class Distinct:
    """A column of text cells as its distinct values and, per cell, which value it holds.

    Study columns repeat few values over many rows, so a rule judged once per distinct
    value and spread back over the cells answers for every cell at a fraction of the cost.
    `texts` ends with one None standing for every missing cell, whose code is -1.
    """

    codes: np.ndarray  # per cell, the index of its value in `texts` (-1: missing)
    texts: np.ndarray  # object array: the distinct strings in order of appearance, then None

    @property
    def has_missing(self) -> bool:
        """True when at least one cell is missing (None or NaN)."""
        return bool((self.codes < 0).any())

    def spread(self, per_value: np.ndarray) -> np.ndarray:
        """One answer per distinct value (and the missing slot) laid out cell by cell."""
        return per_value[self.codes]

    def positions(self, per_value: np.ndarray) -> list[int]:
        """Positions of the cells whose value is flagged True, in column order."""
        if not per_value.any():
            return []
        return _positions(self.spread(per_value))


def distinct_text(values: pd.Series) -> Distinct | None:
    """The column as `Distinct` when every filled cell is a string (always so for CSV)."""
    try:
        codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    except TypeError:  # unhashable cells are not text
        return None
    if pd.api.types.infer_dtype(uniques, skipna=True) not in ("string", "empty"):
        return None
    texts = np.empty(len(uniques) + 1, dtype=object)
    texts[:-1] = uniques
    return Distinct(codes, texts)


def _flags(
    texts: np.ndarray, rule: Callable[[str], bool], hint: re.Pattern[str] | None = None
) -> np.ndarray:
    """`rule` judged on each distinct string; the missing slot (None) is never flagged.

    `hint`, when given, must find something in every string the rule flags: one search of
    all strings joined by line breaks then clears a clean column without a per-value pass.
    """
    if hint is not None and not hint.search("\n".join(t for t in texts if t is not None)):
        return np.zeros(len(texts), dtype=bool)
    return np.fromiter((t is not None and rule(t) for t in texts), dtype=bool, count=len(texts))


def _blank_texts(texts: np.ndarray) -> np.ndarray:
    """Per distinct value: missing or only white space."""
    return np.fromiter((t is None or t.strip() == "" for t in texts), dtype=bool, count=len(texts))


def _filled_texts(texts: np.ndarray) -> np.ndarray:
    """Per distinct value: the string itself, or None when it is blank."""
    filled = texts.copy()
    filled[_blank_texts(texts)] = None
    return filled


def _spread_objects(distinct: Distinct, per_value: np.ndarray, like: pd.Series) -> pd.Series:
    """Per-value Python objects as an object Series shaped (index, name) like the column."""
    return pd.Series(distinct.spread(per_value), index=like.index, name=like.name, dtype=object)


def blank(values: pd.Series) -> pd.Series:
    """True where a cell is empty (None, NaN or only white space)."""
    distinct = distinct_text(values)
    if distinct is not None:
        return pd.Series(distinct.spread(_blank_texts(distinct.texts)), index=values.index)
    as_text = values.map(lambda v: v if isinstance(v, str) else "")
    return values.isna() | (as_text.str.strip() == "") & values.map(lambda v: isinstance(v, str))


def _text(values: pd.Series) -> pd.Series:
    """Cells as text; whole numbers from Excel lose their '.0'."""
    if _all_text(values):
        return values.astype(object).where(values.notna(), None)

    def one(v: object) -> object:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, float):
            return number_as_typed(v)
        return str(v)

    return values.map(one)


def number_as_typed(value: float) -> str:
    """A float as one would type it: 7 for 7.0, 12.5, and 1e+30 rather than its 31 digits."""
    shortest = repr(value)
    if value.is_integer() and "e" not in shortest:
        return str(int(value))
    return shortest


def parse_text(values: pd.Series, ctx: ColumnContext) -> pd.Series:
    """Free text; invisible characters (non-breaking or zero-width spaces) are reported."""
    distinct = distinct_text(values)
    if distinct is None:
        return _parse_cells_as_text(values, ctx)
    return _parse_distinct_text(values, distinct, _filled_texts(distinct.texts), ctx)


def _parse_cells_as_text(values: pd.Series, ctx: ColumnContext) -> pd.Series:
    """`parse_text` cell by cell, for columns holding other things than strings (Excel)."""
    text = _text(values)
    empty = blank(values)
    text[empty] = None
    has_invisible = text.str.contains(INVISIBLE.pattern, regex=True, na=False).astype(bool)
    _report_invisible(_positions(has_invisible.to_numpy()), ctx)
    return text


def _parse_distinct_text(
    values: pd.Series, distinct: Distinct, filled: np.ndarray, ctx: ColumnContext
) -> pd.Series:
    """`parse_text` judged once per distinct string; `filled` is None where blank."""
    invisible = _flags(filled, lambda t: INVISIBLE.search(t) is not None, hint=INVISIBLE)
    _report_invisible(distinct.positions(invisible), ctx)
    return _spread_objects(distinct, filled, values)


def _report_invisible(positions: list[int], ctx: ColumnContext) -> None:
    for pos in positions:
        ctx.report(
            pos,
            "TEXT-001",
            "the cell contains an invisible character (non-breaking or zero-width space)",
            "retype the value or remove the hidden character",
        )


def parse_id(values: pd.Series, ctx: ColumnContext) -> pd.Series:
    """Identifiers are text always; scientific notation means a spreadsheet mangled them."""
    distinct = distinct_text(values)
    if distinct is None:
        text = _parse_cells_as_text(values, ctx)
        typed = _report_typed_ids(values, ctx)
        mangled = text.str.strip().str.match(E_NOTATION.pattern, na=False).astype(bool)
        positions = _positions(mangled.to_numpy() & ~typed)
    else:
        filled = _filled_texts(distinct.texts)
        text = _parse_distinct_text(values, distinct, filled, ctx)
        mangled = _flags(filled, lambda t: bool(E_NOTATION.match(t.strip())), hint=E_NOTATION_HINT)
        positions = distinct.positions(mangled)
    for pos in positions:
        ctx.report(
            pos,
            "ID-002",
            "the identifier looks like a number in scientific notation (a spreadsheet "
            "converted it)",
            "format the column as text before exporting so the full identifier is kept",
        )
    return text


def _report_typed_ids(values: pd.Series, ctx: ColumnContext) -> np.ndarray:
    """ID-003 for each identifier held in a number, date or yes/no cell; which cells they are.

    Excel turns identifiers it takes for numbers or dates into such cells, losing leading
    zeros or the spelling, so the identifier read back may not be the one meant.
    """
    kinds = [_cell_kind(v) for v in values]  # not Series.map: pandas 3 makes None NaN
    typed = np.array([kind is not None for kind in kinds], dtype=bool)
    for pos in _positions(typed):
        ctx.report(
            pos,
            "ID-003",
            f"the identifier is stored as a {kinds[pos]} cell, not as text (Excel converts "
            "identifiers it takes for numbers or dates, dropping leading zeros or changing "
            "the spelling)",
            "format the column as Text in Excel and re-enter the identifiers",
            value=str(_text(pd.Series([values.iloc[pos]], dtype=object)).iloc[0]),
        )
    return typed


def _cell_kind(value: object) -> str | None:
    """What a typed workbook cell holds (number, date, yes/no); None for text and blanks."""
    if isinstance(value, bool):
        return "yes/no"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value)):
        return "number"
    return None


def parse_date(values: pd.Series, ctx: ColumnContext, options: ParseOptions) -> pd.Series:
    """ISO dates (YYYY-MM-DD) and real Excel date cells; everything else is explained."""
    distinct = distinct_text(values)
    if distinct is None:
        out, unparsed = _dates_of_cells(values)
    else:
        out, unparsed = _dates_of_distinct_text(values, distinct)
    for pos in unparsed:
        out.iloc[pos] = _explain_date(values.iloc[pos], pos, ctx, options)
    for pos in _positions((out < EARLIEST_PLAUSIBLE).to_numpy()):
        ctx.report(
            pos,
            "DATE-004",
            "the date is implausibly early (a placeholder such as 1900-01-01?)",
            "enter the real date or leave the cell blank",
        )
        out.iloc[pos] = pd.NaT
    return out


def _dates_of_cells(values: pd.Series) -> tuple[pd.Series, list[int]]:
    """Dates of a column of Excel cells, and the positions of filled cells that are not dates.

    Date cells outside 1677-09-22..2262-04-11 (0001-01-01, 9999-12-31) are left to the
    caller to explain too: a datetime64[ns] column cannot hold them.
    """
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    empty = blank(values).to_numpy()
    all_text = _all_text(values)
    is_date = (
        np.zeros(len(values), dtype=bool)
        if all_text
        else values.map(lambda v: isinstance(v, dt.date)).to_numpy()
    )
    held = is_date & values.map(_held).to_numpy() if is_date.any() else is_date
    if held.any():
        out[held] = pd.to_datetime(values[held].map(_to_date)).to_numpy()
    strings = ~empty & ~is_date
    if not strings.any():
        return out, _positions(is_date & ~held)
    text = _text(values[strings])
    parsed = _per_unique(text, _iso_dates) if all_text else _iso_dates(text).to_numpy()
    out[strings] = parsed
    return out, _positions((strings & out.isna().to_numpy()) | (is_date & ~held))


def _dates_of_distinct_text(values: pd.Series, distinct: Distinct) -> tuple[pd.Series, list[int]]:
    """ISO dates parsed once per distinct string, and the positions of filled cells that fail."""
    empty = _blank_texts(distinct.texts)
    parsed = np.full(len(distinct.texts), np.datetime64("NaT"), dtype="datetime64[ns]")
    if not empty.all():
        parsed[~empty] = _iso_dates(pd.Series(distinct.texts[~empty], dtype=object)).to_numpy()
    out = pd.Series(distinct.spread(parsed), index=values.index)
    return out, distinct.positions(~empty & np.isnat(parsed))


def _iso_dates(text: pd.Series) -> pd.Series:
    """YYYY-MM-DD strings as timestamps; anything else NaT (explained by the caller).

    Dates a datetime64[ns] column cannot hold (2300-01-01) are NaT as well: pandas 2 coerces
    them so, while pandas 3 parses them at a coarser unit that would not convert.
    """
    stripped = text.astype(str).str.strip()
    parsed = pd.to_datetime(
        stripped.where(stripped.str.match(ISO_DATE.pattern)), format="%Y-%m-%d", errors="coerce"
    )
    held = (parsed >= pd.Timestamp(FIRST_HELD_DAY)) & (parsed <= pd.Timestamp(LAST_HELD_DAY))
    return parsed.where(held).astype("datetime64[ns]")


def _held(value: object) -> bool:
    """True for a date cell whose day a datetime64[ns] column can hold (1677 to 2262)."""
    day = value.date() if isinstance(value, dt.datetime) else value
    return isinstance(day, dt.date) and FIRST_HELD_DAY <= day <= LAST_HELD_DAY


def _held_timestamp(day: dt.date, pos: int, ctx: ColumnContext) -> object:
    """The day as a timestamp, or NaT and DATE-004 when it is too early or late to hold."""
    if day < FIRST_HELD_DAY:
        ctx.report(
            pos,
            "DATE-004",
            "the date is implausibly early (a placeholder such as 1900-01-01?)",
            "enter the real date or leave the cell blank",
        )
        return pd.NaT
    if day > LAST_HELD_DAY:
        ctx.report(
            pos,
            "DATE-004",
            "the date is implausibly late (a placeholder such as 9999-12-31?)",
            "enter the real date or leave the cell blank",
        )
        return pd.NaT
    return pd.Timestamp(day)


def _to_date(value: object) -> pd.Timestamp:
    if isinstance(value, dt.datetime):
        return pd.Timestamp(value.date())
    return pd.Timestamp(value)


def _explain_date(raw: object, pos: int, ctx: ColumnContext, options: ParseOptions) -> object:
    """Why a date cell did not parse; converts it only under an explicit configured rule."""
    if isinstance(raw, dt.date):  # a real date cell, too early or too late to hold
        return _held_timestamp(raw.date() if isinstance(raw, dt.datetime) else raw, pos, ctx)
    text = str(_text(pd.Series([raw])).iloc[0]).strip()
    partial = PARTIAL_DATE.match(text)
    if partial and options.partial_dates != "error":
        return _impute(partial, text, pos, ctx, options)
    if partial:
        ctx.report(
            pos,
            "DATE-003",
            "the date is partial (" + ("year and month" if partial["month"] else "year only") + ")",
            "enter the full date, or turn on imputation in the configuration "
            "(`data.partial_dates: first | middle | last`)",
        )
        return pd.NaT
    is_serial = isinstance(raw, (int, float)) or bool(SERIAL_NUMBER.match(text))
    if is_serial and options.excel_serial_dates and ctx_value_ok(text, options.date_system_1904):
        return _serial_date(text, pos, ctx, options)
    if is_serial:
        _report_not_a_serial(raw, text, pos, ctx, options)
        return pd.NaT
    if ISO_DATE.match(text):
        return _calendar_date(text, pos, ctx)
    stamped = ISO_DATETIME.match(text)
    if stamped:
        return _local_date(stamped, text, pos, ctx)
    ctx.report(
        pos,
        "DATE-002",
        "the date is not in ISO format YYYY-MM-DD (formats such as 03/04/2021 are ambiguous)",
        "write dates as YYYY-MM-DD, or declare the format the export uses in the study "
        'configuration (`data.date_format: "%d/%m/%Y"`, or per column under `data.date_formats`)',
    )
    return pd.NaT


def _local_date(stamped: re.Match[str], text: str, pos: int, ctx: ColumnContext) -> object:
    """A datetime, with or without a zone, as its local calendar date (bad-inputs D7).

    Declared policy: the date written is the local date of the record, so the time and the
    zone are dropped and the day is never shifted by converting between zones (a scan at
    2021-03-01T23:30+01:00 stays on 1 March). Each truncation is listed in the run log. A
    time or zone that does not exist (25:00, +15:00) is an error.
    """
    try:
        stamp = dt.datetime.fromisoformat(text.replace(" ", "T", 1))
        offset = stamp.utcoffset()
        if offset is not None and abs(offset) > dt.timedelta(hours=14):
            raise ValueError("offset beyond UTC±14:00")
    except ValueError:
        ctx.report(
            pos,
            "DATE-005",
            "the datetime has a time or time zone that does not exist",
            "write the date as YYYY-MM-DD (a time, if kept, as HH:MM with a zone from "
            "-12:00 to +14:00)",
        )
        return pd.NaT
    day = stamp.date()
    if not _held(day):
        return _held_timestamp(day, pos, ctx)
    ctx.imputations.append(
        Imputation(
            ctx.file, int(ctx.rows[pos]), ctx.column.name, text, stamped["date"], "local_date"
        )
    )
    return pd.Timestamp(day)


def _report_not_a_serial(
    raw: object, text: str, pos: int, ctx: ColumnContext, options: ParseOptions
) -> None:
    """DATE-001 for a number in a date column; the value is a date in disguise, so hidden.

    A yes/no cell is never a serial, and with `excel_serial_dates` already on the number
    is one the rule refuses (0, negatives, 60), so neither fix asks for the option again.
    """
    fix = "enter the real date as a date cell or as YYYY-MM-DD, or leave the cell blank"
    if isinstance(raw, bool):
        message = "the cell holds a yes/no value, not a date"
    elif options.excel_serial_dates and options.date_system_1904:
        message = (
            "the number is no date the `excel_serial_dates` rule converts (in a 1904-system "
            "workbook it takes serials from 0 = 1904-01-01 on)"
        )
    elif options.excel_serial_dates:
        message = (
            "the number is no date the `excel_serial_dates` rule converts (it takes positive "
            "serials only, and never 60, the 1900-02-29 Excel invents)"
        )
    else:
        message = "the cell holds a number, not a date (an Excel date serial?)"
        fix = (
            "format the column as dates in Excel before exporting, or declare "
            "`data.excel_serial_dates: true` to convert serials explicitly"
        )
    ctx.report(pos, "DATE-001", message, fix, value=text)


def _calendar_date(text: str, pos: int, ctx: ColumnContext) -> object:
    """An ISO date that did not parse: no such day (DATE-002), or one too early or late to hold.

    A real day outside 1677-09-22..2262-04-11 (9999-12-31, 1600-01-01) gets the same
    DATE-004 as the same day in a date cell, under pandas 2 and 3 alike.
    """
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        ctx.report(
            pos,
            "DATE-002",
            "the date does not exist in the calendar",
            "correct the day or month (dates are YYYY-MM-DD)",
        )
        return pd.NaT
    return _held_timestamp(day, pos, ctx)


def _impute(
    partial: re.Match[str], text: str, pos: int, ctx: ColumnContext, options: ParseOptions
) -> object:
    """A partial date completed by the configured rule, or NaT and a problem if none exists."""
    try:
        imputed = impute_partial_date(
            int(partial["year"]),
            int(partial["month"]) if partial["month"] else None,
            options.partial_dates,
        )
    except ValueError:  # year 0000, month 00 or 13: no such period to impute within
        ctx.report(
            pos,
            "DATE-002",
            "the date does not exist in the calendar",
            "correct the year or month (dates are YYYY-MM-DD)",
        )
        return pd.NaT
    if not _held(imputed):
        return _held_timestamp(imputed, pos, ctx)
    ctx.imputations.append(
        Imputation(
            ctx.file,
            int(ctx.rows[pos]),
            ctx.column.name,
            text,
            imputed.strftime("%Y-%m-%d"),
            options.partial_dates,
        )
    )
    return pd.Timestamp(imputed)


def _serial_date(text: str, pos: int, ctx: ColumnContext, options: ParseOptions) -> object:
    """An Excel serial converted by the configured rule; past 9999-12-31 it is no date at all."""
    day = excel_serial_to_date(float(text), options.date_system_1904)
    if day is None:
        ctx.report(
            pos,
            "DATE-001",
            "the number is larger than any Excel date serial (the last, 9999-12-31, is "
            f"{last_excel_serial(options.date_system_1904)}), so it is not a date",
            "enter the real date as a date cell or as YYYY-MM-DD, or leave the cell blank",
            value=text,
        )
        return pd.NaT
    return _held_timestamp(day, pos, ctx)


def ctx_value_ok(text: str, date_system_1904: bool = False) -> bool:
    """Serials convertible to a date in the workbook's date system.

    1900 system: positive and not 60, the fictitious 1900-02-29 Excel keeps for Lotus.
    1904 system: from 0 (1904-01-01) on; it has no fictitious day. Text that is no finite
    number (a yes/no cell reads 'True') is not a serial at all.
    """
    try:
        value = float(text)
    except ValueError:
        return False
    if not math.isfinite(value):
        return False
    return value >= 0 if date_system_1904 else value > 0 and value != 60


def excel_serial_to_date(serial: float, date_system_1904: bool = False) -> dt.date | None:
    """An Excel serial day number as a date, in the workbook's 1900 or 1904 date system.

    None past the last serial (9999-12-31), where Excel, like Python, has no dates.
    """
    epoch = EXCEL_EPOCH_1904 if date_system_1904 else EXCEL_EPOCH_1900
    if serial > last_excel_serial(date_system_1904):
        return None
    if not date_system_1904 and serial < 60:
        epoch = dt.date(1899, 12, 31)  # before the fictitious leap day the offset is one less
    return epoch + dt.timedelta(days=int(serial))


def last_excel_serial(date_system_1904: bool = False) -> int:
    """The serial of 9999-12-31, Excel's last date, in the 1900 or 1904 date system."""
    epoch = EXCEL_EPOCH_1904 if date_system_1904 else EXCEL_EPOCH_1900
    return (dt.date.max - epoch).days


def impute_partial_date(year: int, month: int | None, rule: PartialDateRule) -> dt.date:
    """Complete a partial date: first, middle (15th; 30 June) or last day of the period.

    Month 0 (`2020-00`) is no month at all and raises ValueError like month 13, never a
    silent January or December.
    """
    if rule == "first":
        return dt.date(year, 1 if month is None else month, 1)
    if rule == "last":
        m = 12 if month is None else month
        return dt.date(year, m, calendar.monthrange(year, m)[1])
    if month is None:
        return dt.date(year, 6, 30)
    return dt.date(year, month, 15)


def parse_number(values: pd.Series, ctx: ColumnContext) -> pd.Series:
    """Decimal numbers with a point; '1,5', '<5' and words are explained, never coerced."""
    distinct = distinct_text(values)
    if distinct is None:
        numbers, unparsed = _numbers_of_cells(values)
    else:
        numbers, unparsed = _numbers_of_distinct_text(values, distinct)
    for pos in unparsed:
        text = str(values.iloc[pos]).strip()
        if re.match(r"^[+-]?\d+,\d+$", text):
            message = "the number uses a decimal comma"
            fix = (
                "use a decimal point (1.5, not 1,5), or declare the file's decimal comma in the "
                'study configuration (`data: {csv: {decimal: ","}}`)'
            )
        elif re.match(r"^[<>≤≥]=?\s*\d", text):
            message = "the value has a qualifier (< or >), not a number"
            fix = "enter the numeric value; record the qualifier in an extra column"
        else:
            message, fix = "the value is not a number", "enter a number or leave the cell blank"
        ctx.report(pos, "NUM-001", message, fix, value=text, identifying=False)
    return numbers


def _numbers_of_cells(values: pd.Series) -> tuple[pd.Series, list[int]]:
    """Numbers of a column of Excel cells, and the positions of filled cells that are not."""
    empty = blank(values).to_numpy()
    numbers = pd.to_numeric(values.where(~empty), errors="coerce").astype("float64")
    numbers = numbers.where(np.isfinite(numbers))  # 1e400 and inf are not measurements
    return numbers, _positions(~empty & numbers.isna().to_numpy())


def _numbers_of_distinct_text(values: pd.Series, distinct: Distinct) -> tuple[pd.Series, list[int]]:
    """Numbers converted once per distinct string, and the positions of filled cells that fail.

    pandas converts the same set of values as it would for the whole column (blank cells as
    NaN, present only when some cell is blank), so each value gets the very same number.
    """
    empty = _blank_texts(distinct.texts)
    candidates = distinct.texts[:-1][~empty[:-1]]
    if distinct.has_missing or empty[:-1].any():
        candidates = np.append(candidates, np.nan)
    converted = pd.to_numeric(candidates, errors="coerce").astype("float64")
    per_value = np.full(len(distinct.texts), np.nan)
    per_value[~empty] = converted[: int((~empty).sum())]
    per_value[~np.isfinite(per_value)] = np.nan  # 1e400 and inf are not measurements
    numbers = pd.Series(distinct.spread(per_value), index=values.index, name=values.name)
    return numbers, distinct.positions(~empty & np.isnan(per_value))


def parse_integer(values: pd.Series, ctx: ColumnContext) -> pd.Series:
    """Whole numbers (nullable Int64); 2.5 or 'III' are explained."""
    numbers = parse_number(values, ctx)
    fractional = numbers.notna() & ((numbers != np.floor(numbers)) | (numbers.abs() > 2**53))
    for pos in _positions(fractional.to_numpy()):
        ctx.report(
            pos,
            "NUM-002",
            "the value must be a whole number",
            "enter a whole number",
            value=float(numbers.iloc[pos]),
            identifying=False,
        )
    return numbers.where(~fractional).astype("Int64")


def parse_bool(values: pd.Series, ctx: ColumnContext) -> pd.Series:
    """yes/no, true/false, 1/0 in any case."""
    distinct = distinct_text(values)
    if distinct is None:
        empty = blank(values).to_numpy()
        keys = _text(values).str.strip().str.lower()
        out = keys.map(TRUE_WORDS).astype("boolean")
        unparsed = _positions(~empty & out.isna().to_numpy())
    else:
        answers = [None if t is None else TRUE_WORDS.get(t.strip().lower()) for t in distinct.texts]
        unanswered = np.array([a is None for a in answers], dtype=bool)
        truth = np.array([a is True for a in answers], dtype=bool)
        out = _boolean_series(distinct, truth, unanswered, values)
        unparsed = distinct.positions(~_blank_texts(distinct.texts) & unanswered)
    for pos in unparsed:
        ctx.report(
            pos,
            "BOOL-001",
            "the value is not a yes/no answer",
            "use one of yes, no, true, false, 1, 0",
            value=str(values.iloc[pos]),
            identifying=False,
        )
    return out


def _boolean_series(
    distinct: Distinct, per_value: np.ndarray, unanswered: np.ndarray, like: pd.Series
) -> pd.Series:
    """Nullable booleans from per-value answers, missing where a value has no answer."""
    mask = distinct.spread(unanswered)
    data = distinct.spread(per_value) & ~mask
    return pd.Series(pd.arrays.BooleanArray(data, mask), index=like.index, name=like.name)


def parse_enum(values: pd.Series, ctx: ColumnContext) -> pd.Series:
    """Case-insensitive match to the permitted values, returned in canonical spelling."""
    canonical = {v.lower(): v for v in ctx.column.values}
    distinct = distinct_text(values)
    if distinct is None:
        empty = blank(values).to_numpy()
        text = _text(values)
        out = text.str.lower().map(canonical)
        for pos in _positions(~empty & out.isna().to_numpy()):
            _explain_enum(str(text.iloc[pos]), pos, ctx)
        return out.astype(object)
    spelled = np.array(
        [np.nan if t is None else canonical.get(t.lower(), np.nan) for t in distinct.texts],
        dtype=object,
    )
    unknown = ~_blank_texts(distinct.texts) & pd.isna(spelled)
    for pos in distinct.positions(unknown):
        _explain_enum(str(values.iloc[pos]), pos, ctx)
    return _spread_objects(distinct, spelled, values)


def _explain_enum(value: str, pos: int, ctx: ColumnContext) -> None:
    allowed = ", ".join(ctx.column.values)
    if ctx.column.name == "histology" and value.strip().lower() in SMALL_CELL_SPELLINGS:
        ctx.report(
            pos,
            "HIST-001",
            "small-cell lung cancer is not NSCLC and cannot be analysed here",
            "remove the patient, or correct the histology if it was entered wrongly",
            value=value,
            identifying=False,
        )
    elif value.strip().lower() in {v.lower() for v in ctx.column.values}:
        ctx.report(
            pos,
            "ENUM-002",
            "the value has leading or trailing spaces",
            "remove the spaces around the value",
            value=value,
            identifying=False,
        )
    else:
        ctx.report(
            pos,
            "ENUM-001",
            "the value is not one of the permitted values",
            f"use one of: {allowed}; or declare what the export's codes mean in the study "
            f"configuration (`data.value_maps: {{{ctx.table}.{ctx.column.name}: "
            f"{{<code>: {ctx.column.values[0]}}}}}`)",
            value=value,
            identifying=False,
        )


def parse_enum_list(values: pd.Series, ctx: ColumnContext) -> pd.Series:
    """A ';'-separated list of permitted values, returned as a tuple."""
    canonical = {v.lower(): v for v in ctx.column.values}
    cells = _cells_by_value(values)
    lists = [_enum_list(cell, canonical) for cell in cells.texts]
    for pos in cells.positions(np.array([bool(unknown) for _, unknown in lists], dtype=bool)):
        cell = cells.texts[cells.codes[pos]]
        _, unknown = lists[cells.codes[pos]]
        ctx.report(
            pos,
            "ENUM-001",
            f"unknown value(s) {', '.join(map(repr, unknown))} in the list",
            f"use values from: {', '.join(ctx.column.values)}, separated by ';'",
            value=cell,
            identifying=False,
        )
    return _tuple_series(cells, [items for items, _ in lists], values)


def _enum_list(cell: object, canonical: dict[str, str]) -> tuple[tuple[str, ...], list[str]]:
    """The permitted values of one list cell (canonical spelling), and its unknown items."""
    if not isinstance(cell, str) or not cell.strip():
        return (), []
    items = [part.strip() for part in cell.split(";") if part.strip()]
    unknown = [i for i in items if i.lower() not in canonical]
    return tuple(canonical[i.lower()] for i in items if i.lower() in canonical), unknown


def _cells_by_value(values: pd.Series) -> Distinct:
    """Text columns by distinct value; any other column as text, each cell its own value."""
    distinct = distinct_text(values)
    if distinct is not None:
        return distinct
    texts = np.empty(len(values) + 1, dtype=object)
    texts[:-1] = _text(values).to_numpy()
    return Distinct(np.arange(len(values)), texts)


def _tuple_series(cells: Distinct, per_value: list[tuple[str, ...]], like: pd.Series) -> pd.Series:
    """One tuple per cell, from one tuple per distinct value."""
    tuples = np.empty(len(per_value), dtype=object)
    tuples[:] = per_value
    return pd.Series(cells.spread(tuples), index=like.index, dtype=object)


def parse_drug_list(values: pd.Series, ctx: ColumnContext) -> pd.Series:
    """';'-separated agent names, each mapped by the drug dictionary (never guessed)."""
    dictionary = load_dictionary()
    cells = _cells_by_value(values)
    lists = [_drug_names(cell, dictionary) for cell in cells.texts]
    hints: dict[str, list[str]] = {}
    for pos in cells.positions(np.array([bool(unknown) for _, unknown in lists], dtype=bool)):
        for name in lists[cells.codes[pos]][1]:
            if name not in hints:
                hints[name] = dictionary.suggest(name)
            ctx.report(
                pos,
                "DRUG-001",
                f"unknown drug name {name!r}",
                (f"did you mean {' or '.join(hints[name])}? " if hints[name] else "")
                + "use a generic, brand or code name from the drug dictionary "
                "(`rechallenge drugs` lists them)",
                identifying=False,
            )
    return _tuple_series(cells, [names for names, _ in lists], values)


def _drug_names(cell: object, dictionary: DrugDictionary) -> tuple[tuple[str, ...], list[str]]:
    """The agent names of one cell as written, and those the dictionary does not know."""
    if not isinstance(cell, str) or not cell.strip():
        return (), []
    names = [part.strip() for part in cell.split(";") if part.strip()]
    return tuple(names), [n for n in names if dictionary.lookup(n) is None]


Parser = Callable[[pd.Series, ColumnContext], pd.Series]

PARSERS: dict[Kind, Parser] = {
    Kind.TEXT: parse_text,
    Kind.ID: parse_id,
    Kind.NUMBER: parse_number,
    Kind.INTEGER: parse_integer,
    Kind.BOOL: parse_bool,
    Kind.ENUM: parse_enum,
    Kind.ENUM_LIST: parse_enum_list,
    Kind.DRUG_LIST: parse_drug_list,
}


def parse_column(values: pd.Series, ctx: ColumnContext, options: ParseOptions) -> pd.Series:
    """Parse one column by its kind."""
    if ctx.column.kind is Kind.DATE:
        return parse_date(values, ctx, options)
    return PARSERS[ctx.column.kind](values, ctx)


def normalise_unit(unit: str) -> str:
    """Units compare without case or spaces, with one spelling of the micro sign."""
    return unicodedata.normalize("NFKC", unit).lower().replace(" ", "").replace("μ", "µ")
