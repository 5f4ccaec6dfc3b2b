"""The project's exceptions and the `Problem` record used to report bad input.

Exception tree::

    RechallengeError
    ├── ConfigError            the study configuration is invalid
    ├── DataValidationError    the study data has one or more problems (carries them all)
    └── AnalysisError          an analysis cannot be run on valid data (e.g. no events)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One problem found in the input, located precisely and explained.

    `row` is 1-based as a spreadsheet shows it (the header is row 1, so the
    first data row is row 2); `None` when the problem concerns a whole table
    or column. `value` is shown only when it does not identify a patient or
    when the user asked for identifiers (`identifying=True` marks values that
    are hidden by default).
    """

    code: str
    table: str
    message: str
    fix: str
    row: int | None = None
    column: str | None = None
    value: object = None
    identifying: bool = False
    severity: str = "error"
    patient_id: str | None = field(default=None, compare=False)

    def location(self) -> str:
        """Where the problem is, e.g. ``treatments.csv row 7, column start_date``."""
        parts = [self.table]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column}")
        return ", ".join(parts)

    def render(self, show_ids: bool = False) -> str:
        """One readable line: code, location, what is wrong, the value (if shown), how to fix."""
        text = f"[{self.code}] {self.location()}: {self.message}"
        if self.value is not None and (show_ids or not self.identifying):
            text += f" (value: {self.value!r})"
        if show_ids and self.patient_id is not None:
            text += f" [patient {self.patient_id}]"
        return f"{text}. Fix: {self.fix}"


class RechallengeError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(RechallengeError):
    """The study configuration is invalid; the message names the keys."""


class AnalysisError(RechallengeError):
    """An analysis cannot be carried out on otherwise valid data."""


class DataValidationError(RechallengeError):
    """The study data has problems; `problems` lists every one found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        n = len(self.problems)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} found in the study data")

    def report(self, show_ids: bool = False) -> str:
        """All problems, one line each."""
        return "\n".join(p.render(show_ids) for p in self.problems)
