"""One immutable table model shared by every renderer (HTML, DOCX, XLSX, CSV).

A :class:`Table` has an id, a title, column headers with optional spanning headers above
them, rows (data rows with an indentation level, or group rows that label the rows below)
and footnotes stating the methods. Builders return new tables (``with_footnotes``,
``with_rows``); nothing is modified in place.

A :class:`Cell` carries the display text and, for a true number, its value and an Excel
number format, so that spreadsheets receive numbers as numbers (shown as the table shows
them) and text as text. A :class:`DataSheet` holds the unrounded estimates behind a table
(written as the workbook's second sheet, "data").
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Literal

from rechallenge.analysis.formatting import percent as exact_percent

PageSize = Literal["A4", "Letter"]
DataValue = str | int | float | bool | None


@dataclass(frozen=True)
class Cell:
    """Display text plus, for a plain number, its numeric value and Excel number format.

    ``number_format`` (e.g. ``0.00``) makes a spreadsheet show ``value`` as ``text`` shows
    it; None means "General".
    """

    text: str
    value: int | float | None = None
    number_format: str | None = None

    @classmethod
    def number(cls, value: int | float, digits: int = 0, suffix: str = "") -> Cell:
        """A numeric cell shown with ``digits`` decimals (rounded half up), then ``suffix``.

        The suffix (a footnote mark such as ``†``) is part of the number format too, so a
        spreadsheet shows it beside the number.
        """
        fmt = "0" if digits == 0 else "0." + "0" * digits
        if suffix:
            fmt += '"' + suffix.replace('"', "") + '"'
        return cls(text=round_half_up(value, digits) + suffix, value=value, number_format=fmt)


@dataclass(frozen=True)
class DataSheet:
    """Unrounded values behind a table: named columns and rows of plain values."""

    columns: tuple[str, ...]
    rows: tuple[tuple[DataValue, ...], ...] = ()

    def __post_init__(self) -> None:
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(
                    f"data row {i + 1} has {len(row)} values, expected {len(self.columns)}"
                )


CellLike = Cell | str | int | None


def as_cell(value: CellLike) -> Cell:
    """Coerce a string, int or None into a Cell (ints become numeric cells)."""
    if isinstance(value, Cell):
        return value
    if value is None:
        return Cell("")
    if isinstance(value, bool):
        return Cell(str(value))
    if isinstance(value, int):
        return Cell(str(value), value, "0")
    return Cell(str(value))


@dataclass(frozen=True)
class Row:
    """A table row: ``kind`` is "data" or "group" (a heading row for the rows below)."""

    cells: tuple[Cell, ...]
    indent: int = 0
    kind: Literal["data", "group"] = "data"

    @property
    def texts(self) -> tuple[str, ...]:
        """The display text of each cell."""
        return tuple(c.text for c in self.cells)


def data_row(*values: CellLike, indent: int = 0) -> Row:
    """A data row from plain values."""
    return Row(cells=tuple(as_cell(v) for v in values), indent=indent)


def group_row(label: str, width: int) -> Row:
    """A group heading spanning the table (label in the first cell, the rest empty)."""
    return Row(cells=(Cell(label), *(Cell("") for _ in range(width - 1))), kind="group")


@dataclass(frozen=True)
class Spanner:
    """A spanning header over columns ``start`` to ``end`` (end exclusive)."""

    label: str
    start: int
    end: int


@dataclass(frozen=True)
class Table:
    """An immutable table ready for any renderer."""

    id: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...] = ()
    spanners: tuple[Spanner, ...] = ()
    footnotes: tuple[str, ...] = field(default=())
    align: tuple[Literal["left", "center"], ...] = ()
    """Per-column alignment; by default the first column is left-aligned, the rest centred."""
    data: DataSheet | None = None
    """Unrounded estimates behind the table (the workbook's "data" sheet)."""
    page_size: PageSize = "A4"
    """Paper for paged renderers (DOCX)."""

    def __post_init__(self) -> None:
        width = len(self.columns)
        if width == 0:
            raise ValueError(f"table {self.id!r} has no columns")
        for i, row in enumerate(self.rows):
            if len(row.cells) != width:
                raise ValueError(
                    f"table {self.id!r} row {i + 1} has {len(row.cells)} cells, expected {width}"
                )
        if self.align and len(self.align) != width:
            raise ValueError(
                f"table {self.id!r} has {len(self.align)} alignments for {width} columns"
            )
        for sp in self.spanners:
            if not 0 <= sp.start < sp.end <= width:
                raise ValueError(f"table {self.id!r} spanner {sp.label!r} is out of range")

    def alignment(self, column: int) -> Literal["left", "center"]:
        """The alignment of ``column`` (0-based)."""
        if self.align:
            return self.align[column]
        return "left" if column == 0 else "center"

    def with_rows(self, *rows: Row) -> Table:
        """A new table with ``rows`` appended."""
        return replace(self, rows=(*self.rows, *rows))

    def with_footnotes(self, *notes: str) -> Table:
        """A new table with ``notes`` appended to the footnotes."""
        return replace(self, footnotes=(*self.footnotes, *notes))

    def with_data(self, data: DataSheet) -> Table:
        """A new table carrying ``data`` as its unrounded-estimate sheet."""
        return replace(self, data=data)

    def with_page_size(self, page_size: PageSize) -> Table:
        """A new table to be printed on ``page_size`` paper."""
        return replace(self, page_size=page_size)

    def header_rows(self) -> list[list[str]]:
        """Header lines as plain text: the spanner line (if any) then the column line.

        In the spanner line a spanned label is repeated over every column it covers.
        """
        lines: list[list[str]] = []
        if self.spanners:
            top = ["" for _ in self.columns]
            for sp in self.spanners:
                for j in range(sp.start, sp.end):
                    top[j] = sp.label
            lines.append(top)
        lines.append(list(self.columns))
        return lines

    def flat_columns(self) -> list[str]:
        """Column names prefixed by their spanner (``Rechallenge: Any grade``) for CSV."""
        names = list(self.columns)
        for sp in self.spanners:
            for j in range(sp.start, sp.end):
                names[j] = f"{sp.label}: {self.columns[j]}"
        return names


def round_half_up(value: float | int | Fraction | Decimal, digits: int = 1) -> str:
    """Format ``value`` with ``digits`` decimals, halves rounded away from zero."""
    exact = value if isinstance(value, Decimal) else _to_decimal(value)
    quantum = Decimal(1).scaleb(-digits)
    result = exact.quantize(quantum, rounding=ROUND_HALF_UP)
    return f"{result:.{digits}f}"


def _to_decimal(value: float | int | Fraction) -> Decimal:
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def percent(n: int, d: int, digits: int = 1) -> str:
    """``100·n/d`` to ``digits`` decimals, computed exactly and rounded half up; "–" when d = 0.

    ``percent(1, 13) == "7.7"``, ``percent(4, 13) == "30.8"``, ``percent(6, 13) == "46.2"``.
    """
    value = exact_percent(n, d, digits)
    return "–" if value is None else f"{value:.{digits}f}"


def n_pct(n: int, d: int) -> str:
    """``n (p)`` with ``p`` the one-decimal percentage, e.g. ``6 (46.2)``."""
    return f"{n} ({percent(n, d)})"
