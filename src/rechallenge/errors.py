"""The project's exceptions and the `Problem` record used to report bad input.

Exception tree::

    RechallengeError
    ├── ConfigError              the study configuration is invalid
    ├── DataValidationError      the study data has one or more problems (carries them all)
    ├── AnalysisError            an analysis cannot be run on valid data (e.g. no events)
    ├── OutputFolderError        the output folder cannot be used (not ours, a file, unwritable)
    └── PdfBackendMissingError   PDF output asked for without the optional ``pdf`` extra

Exit codes of the command line (the README and every ``--help`` state them):
``EXIT_OK`` 0, ``EXIT_DATA`` 1 (invalid data: only the problem report is written),
``EXIT_USAGE`` 2 (a usage error: a missing path, an unusable output folder, a missing
optional dependency), ``EXIT_CONFIG`` 3 (invalid configuration).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

EXIT_OK: Final = 0
EXIT_DATA: Final = 1
EXIT_USAGE: Final = 2
EXIT_CONFIG: Final = 3

PDF_INSTALL_HINT: Final = (
    "install the optional 'pdf' extra: `pip install 'rechallenge[pdf]'` for a pip install, "
    "or `.venv/bin/pip install -e '.[pdf]'` in a source checkout"
)


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


class OutputFolderError(RechallengeError):
    """The output folder cannot be used; the message says why and what to do."""


class PdfBackendMissingError(RechallengeError, ImportError):
    """PDF output was asked for but WeasyPrint (the optional ``pdf`` extra) is not installed."""


class ConfigDeprecationWarning(FutureWarning):
    """A configuration spelling that still works but has a new name (the message gives it)."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'age_range'?)`` for the closest choice, or an empty string.

    Close matches by difflib's ratio; a choice that starts with `name` (``age`` for
    ``age_range``) counts as close too, since a shortened name is the commonest slip.
    """
    options = sorted(set(choices))
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    if not close:
        close = [c for c in options if name and c.startswith(name)][:1]
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_name(what: str, name: str, choices: Iterable[str]) -> str:
    """``unknown criterion 'age' (did you mean 'age_range'?); known: a, b, c``."""
    options = sorted(set(choices))
    shown = ", ".join(options[:30]) + (", ..." if len(options) > 30 else "")
    return f"unknown {what} {name!r}{did_you_mean(name, options)}; known: {shown}"


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
