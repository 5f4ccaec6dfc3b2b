"""Copies of the example cohort with defects, and the CLI run that must reject them."""

from __future__ import annotations

import csv
import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from rechallenge.cli import app

COHORT = Path(__file__).resolve().parents[2] / "examples" / "seed_cohort"
TABLES = ("patients", "treatments", "lesions", "adverse_events", "labs")
Rows = list[dict[str, str]]


class Cohort(dict[str, Rows]):
    """The five tables of a cohort copy as lists of CSV rows (text, as written)."""

    def rows(self, table: str, **where: str) -> Rows:
        """The rows of `table` whose columns equal `where`."""
        return [r for r in self[table] if all(r[k] == v for k, v in where.items())]

    def row(self, table: str, **where: str) -> dict[str, str]:
        """The first row of `table` matching `where`."""
        return self.rows(table, **where)[0]


Defect = Callable[[Cohort], None]


def copy_cohort(folder: Path) -> Path:
    """The example cohort's CSV files copied to `folder`."""
    return Path(
        shutil.copytree(COHORT, folder, ignore=shutil.ignore_patterns("*.py", "*.md", "*.R"))
    )


def read_cohort(folder: Path) -> Cohort:
    """Every table of a cohort folder."""
    cohort = Cohort()
    for table in TABLES:
        with (folder / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
            cohort[table] = list(csv.DictReader(handle))
    return cohort


def write_cohort(folder: Path, cohort: Cohort) -> None:
    """Write every table back (columns in their original order)."""
    for table, rows in cohort.items():
        with (folder / f"{table}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


def broken_copy(folder: Path, defect: Defect) -> Path:
    """A copy of the example cohort with `defect` applied."""
    data = copy_cohort(folder)
    cohort = read_cohort(data)
    defect(cohort)
    write_cohort(data, cohort)
    return data


def digests(folder: Path) -> dict[str, str]:
    """SHA-256 of every file of a folder (sources must stay unchanged)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@dataclass(frozen=True)
class Rejection:
    """What `rechallenge run` printed for a bad study."""

    exit_code: int
    lines: list[str]  # the problem lines: "[CODE] where: what. Fix: how"
    output: str
    out: Path

    @property
    def codes(self) -> list[str]:
        """The rule code of each problem line."""
        return [line.split("]")[0][1:] for line in self.lines]


def run_cli(data: Path, out: Path, config: Path | None = None) -> Rejection:
    """`rechallenge run` on a study folder, in process."""
    args = ["run", str(data), "--out", str(out)]
    if config is not None:
        args += ["--config", str(config)]
    result = CliRunner().invoke(app, args)
    lines = [line for line in result.output.splitlines() if line.startswith("[")]
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Rejection(result.exit_code, lines, result.output, out)
