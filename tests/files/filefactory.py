"""Bad files built from the example cohort, and the checks every refusal must pass.

`cohort_workbook` writes the cohort as a typed workbook (dates as date cells, numbers as
numbers, text as text) and lets a test edit the openpyxl sheets before saving;
`rewrite_part` edits one XML part of a saved workbook as Excel or a hostile tool could.
`assert_refused` runs `rechallenge run` in-process and checks the refusal contract: exit 1,
exactly the expected located problems with a fix, no traceback, no analysis output and the
sources unchanged.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
from openpyxl.workbook.workbook import Workbook
from typer.testing import CliRunner

from rechallenge.cli import app

COHORT = Path(__file__).resolve().parents[2] / "examples" / "seed_cohort"
TABLES = ("patients", "treatments", "lesions", "adverse_events", "labs")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
NUMBER = re.compile(r"-?\d+(\.\d+)?")
TEXT_COLUMNS = {"patient_id", "lesion_id", "stage"}
runner = CliRunner()


def cohort_rows(table: str) -> list[list[str]]:
    """The example cohort's table as rows of text, header first."""
    with (COHORT / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def typed(column: str, text: str) -> object:
    """A cell as Excel types it."""
    if text == "":
        return None
    if ISO_DATE.fullmatch(text):
        return dt.date.fromisoformat(text)
    if column not in TEXT_COLUMNS and NUMBER.fullmatch(text):
        return float(text) if "." in text else int(text)
    return text


def cohort_workbook(path: Path, edit: Callable[[Workbook], None] | None = None) -> Path:
    """The example cohort as one workbook, one sheet per table, edited before saving."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for table in TABLES:
        sheet = workbook.create_sheet(table)
        rows = cohort_rows(table)
        sheet.append(rows[0])
        for row in rows[1:]:
            sheet.append([typed(c, v) for c, v in zip(rows[0], row, strict=True)])
    if edit is not None:
        edit(workbook)
    workbook.save(path)
    return path


def column_letter(table: str, column: str) -> str:
    """The letter of `column` in the cohort workbook's sheet `table`."""
    return openpyxl.utils.get_column_letter(cohort_rows(table)[0].index(column) + 1)


def rewrite_part(path: Path, part: str, change: Callable[[bytes], bytes]) -> Path:
    """Replace one part of a saved workbook by `change(old)`; the other parts are copied."""
    original = path.with_suffix(".orig.zip")
    path.rename(original)
    with zipfile.ZipFile(original) as source, zipfile.ZipFile(path, "w") as target:
        for member in source.infolist():
            data = source.read(member.filename)
            if member.filename == part:
                data = change(data)
            target.writestr(member, data, compress_type=zipfile.ZIP_DEFLATED)
    original.unlink()
    return path


def cohort_folder(target: Path) -> Path:
    """A copy of the example cohort's CSV files."""
    target.mkdir(parents=True)
    for table in TABLES:
        shutil.copy(COHORT / f"{table}.csv", target / f"{table}.csv")
    return target


def fingerprint(location: Path) -> dict[str, str]:
    """SHA-256 of every file at `location` (a file or a folder), to prove nothing changed."""
    files = [location] if location.is_file() else sorted(location.rglob("*"))
    return {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in files if f.is_file()}


def assert_refused(data: Path, out: Path, *codes: str) -> str:
    """`rechallenge run` refuses `data` with exactly the problems `codes` (in any order).

    Checks exit code 1, one rendered line per problem naming its rule and a fix, the full
    list in problems.csv and nothing else in the output folder, no traceback, and the
    source files byte-identical. Returns the terminal output.
    """
    before = fingerprint(data)
    result = runner.invoke(app, ["run", str(data), "--out", str(out)])
    text = result.output
    assert result.exit_code == 1, text
    assert result.exception is None or isinstance(result.exception, SystemExit), text
    assert "Traceback" not in text
    lines = [line for line in text.splitlines() if line.startswith("[")]
    assert sorted(line[1 : line.index("]")] for line in lines) == sorted(codes), text
    assert all(". Fix: " in line for line in lines), text
    assert sorted(p.name for p in out.iterdir()) == [".rechallenge-run.json", "problems.csv"]
    with (out / "problems.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["code"] for r in rows) == sorted(codes)
    assert all(r["fix"] and r["file"] for r in rows)
    assert fingerprint(data) == before
    return text
