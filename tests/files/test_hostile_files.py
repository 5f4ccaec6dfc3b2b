"""F7, oversized or malicious files: refused from the zip directory or the parser, located.

Memory is measured in a fresh interpreter (peak RSS from `VmHWM` in /proc/self/status): a workbook
of ~5 MB that inflates to ~1 GB of sheet XML, and a CSV with a 200 MB field, stay within
a clean `validate`'s footprint plus the file itself.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from filefactory import (
    COHORT,
    assert_refused,
    cohort_folder,
    cohort_workbook,
    rewrite_part,
    runner,
)

from rechallenge.cli import app
from rechallenge.data import io as data_io

pytestmark = pytest.mark.skipif(not (COHORT / "patients.csv").exists(), reason="no cohort")

SHEET = "xl/worksheets/sheet1.xml"
#: Peak RSS of `validate` on a refused file, in MiB. A clean `validate` of the example cohort
#: peaks at ~210 MiB (pandas, pandera, openpyxl imported); the bound leaves room for the
#: 200 MB the CSV test's file occupies once read (one copy of the file, never the 1 GB a
#: decompressed bomb would take).
PEAK_RSS_BOUND_MIB = 600

MEASURE = """
import sys
from rechallenge.cli import app
try:
    app(sys.argv[1:], prog_name="rechallenge")
except SystemExit as exc:
    code = exc.code
# VmHWM is this process's own peak: getrusage's ru_maxrss also carries the parent's size
# across fork and exec on Linux, so it would measure the test runner, not the command.
with open("/proc/self/status", encoding="ascii") as status:
    hwm = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(f"peak-rss-mib {hwm / 1024:.0f}")
sys.exit(code)
"""


def run_measured(*args: str) -> tuple[int, str, float]:
    """`rechallenge <args>` in a fresh interpreter: exit code, output, peak RSS in MiB."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *args], capture_output=True, text=True, timeout=300
    )
    found = re.search(r"peak-rss-mib (\d+)", done.stdout)
    assert found, done.stdout + done.stderr
    return done.returncode, done.stdout + done.stderr, float(found.group(1))


def inflate_sheet(path: Path, part: str, size: int) -> Path:
    """Replace `part` by `size` bytes of repetitive sheet XML, streamed (zlib level 1)."""
    row = b'<row r="2"><c r="A2" t="inlineStr"><is><t>QZ-0001</t></is></c>'
    row += b'<c r="B2"><v>1</v></c></row>'
    block = row * 100
    original = path.with_suffix(".orig.zip")
    path.rename(original)
    with (
        zipfile.ZipFile(original) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target,
    ):
        for member in source.infolist():
            if member.filename != part:
                target.writestr(member.filename, source.read(member.filename))
                continue
            with target.open(part, "w", force_zip64=True) as handle:
                handle.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/')
                handle.write(b'spreadsheetml/2006/main"><sheetData>')
                for _ in range(size // len(block)):
                    handle.write(block)
                handle.write(b"</sheetData></worksheet>")
    original.unlink()
    return path


def test_a_zip_bomb_is_refused_from_the_directory_in_bounded_memory(tmp_path: Path) -> None:
    bomb = inflate_sheet(cohort_workbook(tmp_path / "bomb.xlsx"), "xl/worksheets/sheet3.xml", 10**9)
    assert bomb.stat().st_size < 8 * 2**20  # ~5.5 MB on disk
    out = tmp_path / "out"
    code, text, peak = run_measured("run", str(bomb), "--out", str(out))
    assert code == 1, text
    assert "[FILE-006] bomb.xlsx: the workbook decompresses to 954 MiB (largest part " in text
    assert "over the 512 MiB limit" in text and "Traceback" not in text
    assert sorted(p.name for p in out.iterdir()) == [".rechallenge-run.json", "problems.csv"]
    assert peak < PEAK_RSS_BOUND_MIB, peak


def test_a_part_inflating_a_thousandfold_is_refused(tmp_path: Path) -> None:
    path = cohort_workbook(tmp_path / "s.xlsx")
    rewrite_part(path, "docProps/app.xml", lambda xml: xml + b" " * 20 * 2**20)
    text = assert_refused(path, tmp_path / "out", "FILE-006")
    assert "the part docProps/app.xml decompresses" in text and "decompression bomb" in text


def test_a_workbook_over_the_file_size_cap_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.xlsx"
    with path.open("wb") as handle:  # sparse: no disk used
        handle.truncate(data_io.MAX_WORKBOOK_BYTES + 1)
    text = assert_refused(path, tmp_path / "out", "FILE-006")
    assert "larger than 200 MiB" in text and "CSV" in text


def test_the_cell_cap_holds_while_streaming(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data_io, "MAX_WORKBOOK_CELLS", 1000)
    text = assert_refused(cohort_workbook(tmp_path / "s.xlsx"), tmp_path / "out", "FILE-007")
    assert "the workbook holds more than 1,000 cells (counted up to row" in text


LAUGHS = (
    b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">'.encode()
        for i in range(1, 10)
    )
    + b"]>"
)
XXE = b'<!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def _after_declaration(doctype: bytes) -> object:
    def change(xml: bytes) -> bytes:
        end = xml.index(b"?>") + 2 if xml.startswith(b"<?xml") else 0
        return xml[:end] + doctype + xml[end:]

    return change


@pytest.mark.parametrize(
    ("part", "doctype"),
    [
        (SHEET, LAUGHS),
        ("xl/workbook.xml", XXE),
        ("xl/styles.xml", LAUGHS),
        (SHEET, b"<!--" + b" " * 100_000 + b"-->" + LAUGHS),  # past the scan: defusedxml's turn
    ],
    ids=[
        "billion-laughs-in-a-sheet",
        "xxe-in-the-workbook",
        "billion-laughs-in-styles",
        "billion-laughs-after-a-long-comment",
    ],
)
def test_xml_entity_attacks_end_in_a_located_problem(
    tmp_path: Path, part: str, doctype: bytes
) -> None:
    path = rewrite_part(cohort_workbook(tmp_path / "s.xlsx"), part, _after_declaration(doctype))  # type: ignore[arg-type]
    text = assert_refused(path, tmp_path / "out", "FILE-008")
    assert "declares XML entities or a DTD" in text and "refused for safety" in text


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda p: p.write_bytes(b"patient_id,sex\nP1,male\n"), "not a valid .xlsx (zip) file"),
        (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "not a valid .xlsx"),
        (lambda p: rewrite_part(p, SHEET, lambda x: x[: len(x) // 2]), "its XML is malformed"),
    ],
    ids=["not-a-zip", "truncated-zip", "truncated-sheet-xml"],
)
def test_damaged_workbooks_end_in_a_located_problem(tmp_path: Path, damage, expected) -> None:  # type: ignore[no-untyped-def]
    path = cohort_workbook(tmp_path / "s.xlsx")
    damage(path)
    assert expected in assert_refused(path, tmp_path / "out", "FILE-008")


def _with_field(folder: Path, field: bytes | None = None, size: int = 0) -> Path:
    """adverse_events.csv with the last field of its first data row replaced."""
    path = folder / "adverse_events.csv"
    lines = path.read_bytes().splitlines(keepends=True)
    cut = lines[1].rstrip(b"\r\n").rsplit(b",", 1)[0] + b","
    with path.open("wb") as handle:
        handle.write(lines[0] + cut)
        if field is not None:
            handle.write(field)
        chunk = b"x" * 2**20
        for _ in range(size // len(chunk)):
            handle.write(chunk)
        handle.write(b"\n")
        handle.writelines(lines[2:])
    return folder


def test_a_200_mb_csv_field_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    folder = _with_field(cohort_folder(tmp_path / "cohort"), size=200 * 2**20)
    code, text, peak = run_measured("validate", str(folder))
    assert code == 1, text
    assert "[FILE-009] adverse_events.csv, row 2: line 2 is 200 MiB long, over the 1 MiB" in text
    assert "Traceback" not in text and "_csv.Error" not in text
    assert peak < PEAK_RSS_BOUND_MIB, peak


def test_a_quoted_field_over_the_csv_field_limit_is_refused_where_it_starts(tmp_path: Path) -> None:
    long_text = b'"' + (b"y" * 99 + b"\n") * 3000 + b'"'  # 300 kB across 3,000 lines
    folder = _with_field(cohort_folder(tmp_path / "cohort"), field=long_text)
    text = assert_refused(folder, tmp_path / "out", "FILE-009")
    assert (
        "adverse_events.csv, row 2: the file cannot be read as CSV from line 2: a field is " in text
    )
    assert "longer than 131,072 characters" in text


def flat(text: str) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(text.split())


def test_a_missing_workbook_is_a_usage_error_naming_the_path(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.xlsx")])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "nope.xlsx: no such file or folder" in flat(result.output)
    assert "Traceback" not in result.output
