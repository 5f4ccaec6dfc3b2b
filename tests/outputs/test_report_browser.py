"""End to end: open report.html in headless Chromium, check the DOM, console and a screenshot.

Uses Chromium's own command-line switches (``--dump-dom``, ``--screenshot``, console
messages logged to stderr), so no browser-driver package is needed. Skipped where no
Chromium binary is installed (Debian: ``apt-get install chromium``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from rechallenge.report.html import SECTIONS
from rechallenge.report.outputs import write_outputs

CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="Chromium is not installed (needed to open "
        "report.html headless; Debian package 'chromium')",
    ),
]
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
)


def _chromium(page: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    profile.mkdir()
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _console(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_console_capture_works(tmp_path: Path) -> None:
    page = tmp_path / "noisy.html"
    page.write_text("<p>x</p><script>console.error('probe-error')</script>", encoding="utf-8")
    run = _chromium(page, tmp_path, "--dump-dom")
    assert any("probe-error" in line for line in _console(run.stderr))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, _results_on_disk: dict[str, Any]) -> Path:
    out = tmp_path_factory.mktemp("report")
    return write_outputs(_results_on_disk, out)["report"][0]


def test_report_renders_without_console_errors(report: Path, tmp_path: Path) -> None:
    run = _chromium(report, tmp_path, "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout
    for sid, heading in SECTIONS:
        assert f'id="{sid}"' in dom
        assert heading in dom
    assert dom.count("<svg") == 8
    assert _console(run.stderr) == []


def test_report_screenshot(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    run = _chromium(report, tmp_path, "--window-size=1200,5000", f"--screenshot={shot}")
    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.exists() and shot.stat().st_size > 50_000
    assert _console(run.stderr) == []


PDFINFO = shutil.which("pdfinfo")
PDFTOTEXT = shutil.which("pdftotext")


@pytest.mark.skipif(PDFINFO is None or PDFTOTEXT is None, reason="poppler-utils not installed")
@pytest.mark.parametrize(("size", "points"), [("A4", "594.96 x 841.92"), ("Letter", "612 x 792")])
def test_report_prints_with_page_size_and_numbers(
    _results_on_disk: dict[str, Any], tmp_path: Path, size: str, points: str
) -> None:
    import copy

    from rechallenge.report.html import write_report

    results = copy.deepcopy(_results_on_disk)
    results["manifest"]["config"]["output"] = {"page_size": size}
    page = write_report(results, tmp_path / "r")
    pdf = tmp_path / "r.pdf"
    run = _chromium(page, tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    assert run.returncode == 0 and pdf.exists(), run.stderr[-2000:]
    assert PDFINFO is not None and PDFTOTEXT is not None
    info = subprocess.run([PDFINFO, str(pdf)], capture_output=True, text=True, check=True)
    assert points in info.stdout
    pages = int(
        next(line for line in info.stdout.splitlines() if line.startswith("Pages:")).split()[1]
    )
    assert pages > 3
    text = subprocess.run(
        [PDFTOTEXT, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
    first_page = text.split("\f")[0]
    assert "Summary" in first_page and "Results" in first_page
