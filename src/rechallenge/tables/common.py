"""Formatting shared by the table builders: p values, counts, small-cell suppression, labels.

Small-cell suppression follows the "≤ threshold" convention: with a threshold of 5, counts
1 to 5 are shown as ``≤ 5`` and their percentages and confidence intervals are withheld;
zero and counts above the threshold are shown. The unrounded data sheet is suppressed the
same way, so a shared workbook never reveals a small count.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from rechallenge.labels import Labels
from rechallenge.tables.model import Cell, DataValue, PageSize, n_pct, round_half_up

DASH: Final[str] = "—"
P_FORMAT: Final[str] = '[<0.001]"<0.001";0.000'
"""Excel number format showing a p value as the tables do (three decimals, ``<0.001``)."""
_CODE_LIKE: Final[re.Pattern[str]] = re.compile(r"[A-Za-z0-9]_[A-Za-z0-9]|setting '")


def fmt_p(p: Any) -> str:
    """A p value for a table: ``0.011``, ``<0.001``, or an em dash when absent."""
    if p is None:
        return DASH
    return "<0.001" if float(p) < 0.001 else round_half_up(float(p), 3)


def p_cell(p: Any) -> Cell:
    """A p value as a numeric cell (spreadsheets show it as :func:`fmt_p` does)."""
    if p is None:
        return Cell(DASH)
    return Cell(fmt_p(p), float(p), P_FORMAT)


def fmt_num(x: Any, digits: int = 1) -> str:
    """A summary number: integers as they are, otherwise ``digits`` decimals."""
    if x is None:
        return DASH
    value = float(x)
    return str(int(value)) if value.is_integer() else round_half_up(value, digits)


def code_like(text: str) -> bool:
    """True when ``text`` looks like a configuration code (``smoking_status``)."""
    return bool(_CODE_LIKE.search(text))


def human(text: Any, fallback: str) -> str:
    """``text`` when it is readable words, else ``fallback`` (a catalogue label)."""
    if text is None or str(text).strip() == "" or code_like(str(text)):
        return fallback
    return str(text)


@dataclass(frozen=True)
class Context:
    """What every builder needs besides its part of the results: labels and suppression."""

    labels: Labels = field(default_factory=Labels)
    small_cell: int | None = None
    """Counts from 1 to this number are suppressed; None switches suppression off."""

    def suppressed(self, n: int) -> bool:
        """True when the count ``n`` must not be shown."""
        return self.small_cell is not None and 1 <= n <= self.small_cell

    def count(self, n: int) -> Cell:
        """A count as a numeric cell, or ``≤ threshold`` when suppressed."""
        return Cell(self.hidden) if self.suppressed(n) else Cell.number(n)

    def n_pct(self, n: int, d: int) -> str:
        """``n (p)``, or ``≤ threshold`` (no percentage) when suppressed."""
        return self.hidden if self.suppressed(n) else n_pct(n, d)

    def data_count(self, n: int) -> DataValue:
        """A count for the data sheet: the number, or the ``≤ threshold`` text."""
        return self.hidden if self.suppressed(n) else n

    def data_percent(self, n: int, d: int) -> DataValue:
        """Unrounded ``100·n/d`` for the data sheet; None when suppressed or d = 0."""
        return None if self.suppressed(n) or d == 0 else 100 * n / d

    @property
    def hidden(self) -> str:
        """The text shown instead of a suppressed count."""
        return f"≤ {self.small_cell}"

    def note(self) -> str:
        """The footnote flagging suppression (only call when suppression is on)."""
        t = self.small_cell
        return (
            f"Small-cell suppression: counts from 1 to {t} are shown as ≤ {t}, and their "
            "percentages and confidence intervals are withheld; zero counts are shown."
        )


def small_cell_threshold(results: Mapping[str, Any]) -> int | None:
    """``output.small_cell_threshold`` of the run's configuration (None when off)."""
    output = _output_config(results)
    value = output.get("small_cell_threshold")
    if value is None or isinstance(value, bool):
        return None
    return int(value) if int(value) >= 1 else None


def page_size(results: Mapping[str, Any]) -> PageSize:
    """``output.page_size`` of the run's configuration: "A4" (default) or "Letter"."""
    value = str(_output_config(results).get("page_size") or "A4")
    return "Letter" if value.lower() == "letter" else "A4"


def _output_config(results: Mapping[str, Any]) -> Mapping[str, Any]:
    config = (results.get("manifest") or {}).get("config") or {}
    output = config.get("output") if isinstance(config, Mapping) else None
    return output if isinstance(output, Mapping) else {}


def sentence(text: str) -> str:
    """``text`` with its first letter capitalised."""
    return text[:1].upper() + text[1:]
