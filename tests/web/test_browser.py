"""End to end in a real browser (Debian's Chromium driven by Playwright), one story per test.

A module fixture starts `rechallenge serve` on a free loopback port; prerequisites are made
through the JSON API; each test is a user's journey, located by role and label and asserted
with Playwright's auto-waiting `expect`. Screenshots go to the pytest temporary folder.
"""

from __future__ import annotations

import io
import os
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sync_api = pytest.importorskip("playwright.sync_api")

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402
from tests.web.conftest import (  # noqa: E402
    cohort_copy,
    duplicate_first_patient,
    free_port,
    start_server,
    stop_server,
    zip_folder,
)
from tests.web.test_pages import raw_codes_in_text  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The example cohort zipped, and a copy with one duplicated patient."""
    root = tmp_path_factory.mktemp("uploads")
    good = cohort_copy(root / "seed_cohort")
    bad = cohort_copy(root / "seed_cohort_defect")
    duplicate_first_patient(bad)
    (root / "seed_cohort.zip").write_bytes(zip_folder(good))
    (root / "seed_cohort_defect.zip").write_bytes(zip_folder(bad))
    return {"good": root / "seed_cohort.zip", "bad": root / "seed_cohort_defect.zip"}


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server on a free loopback port, for the whole module."""
    data_dir = tmp_path_factory.mktemp("browser") / "data"
    port = free_port()
    server = start_server(data_dir, port, workers=2)
    yield f"http://127.0.0.1:{port}"
    stop_server(server)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go: the pytest temporary folder, or $RECHALLENGE_SCREENSHOTS."""
    chosen = os.environ.get("RECHALLENGE_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {folder}")
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    errors: list[str] = []
    tab = context.new_page()
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield tab
    context.close()
    assert not errors, f"the browser console reported errors: {errors}"  # CSP violations too


def api_study(base_url: str, path: Path) -> str:
    """A study created through the API (a prerequisite, not the story)."""
    with path.open("rb") as handle:
        response = httpx.post(f"{base_url}/api/studies", files={"file": (path.name, handle)})
    assert response.status_code == 201
    return str(response.json()["id"])


def words_of_the_app(page: Page) -> str:
    """The page's visible text without the study's name (the user's own words: by default
    the uploaded file's name, ``seed_cohort``)."""
    return page.locator("main").inner_text().replace("seed_cohort", "")


def run_and_wait(page: Page) -> None:
    """Press "Run the study" and wait for the page to show the finished run."""
    page.get_by_role("button", name="Run the study").click()
    expect(page.locator("#run-status")).to_have_text("done", timeout=180_000)


@pytest.fixture(scope="module")
def finished_study(base_url: str, files: dict[str, Path]) -> str:
    """A valid study with one finished run, made through the API."""
    study = api_study(base_url, files["good"])
    run_id = httpx.post(f"{base_url}/api/studies/{study}/runs").json()["run_id"]
    for _ in range(600):
        state = httpx.get(f"{base_url}/api/runs/{run_id}").json()
        if state["status"] in ("done", "failed"):
            break
        time.sleep(0.3)
    assert state["status"] == "done", state
    return study


def test_upload_a_cohort_and_see_the_seeded_defect_reported(
    page: Page, files: dict[str, Path], shots: Path
) -> None:
    page.goto("/")
    page.get_by_label("Study name").fill("Seed cohort with a defect")
    page.get_by_label("Study data").set_input_files(files["bad"])
    page.screenshot(path=shots / "0-upload.png", full_page=True)
    page.get_by_role("button", name="Upload and validate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Seed cohort with a defect")
    expect(page.get_by_text("problem(s) found")).to_be_visible()
    problems = page.get_by_role("table", name="Validation problems")
    expect(problems.get_by_role("row").filter(has_text="ID-001")).to_have_count(1)
    page.get_by_label("Filter problems").fill("ID-001")
    expect(problems.locator("tbody tr:visible")).to_have_count(1)
    expect(page.get_by_role("button", name="Run the study")).to_be_disabled()
    expect(page.locator("body")).not_to_contain_text("QZ-00")
    assert problems.locator("tbody tr").count() >= 1  # the problems stay listed when filtered
    page.screenshot(path=shots / "1-problems.png", full_page=True)


def test_fix_the_file_upload_it_again_and_see_it_valid(
    page: Page, base_url: str, files: dict[str, Path], shots: Path
) -> None:
    study = api_study(base_url, files["bad"])
    page.goto(f"/studies/{study}")
    page.get_by_label("Corrected data").set_input_files(files["good"])
    page.get_by_role("button", name="Upload again").click()
    expect(page.get_by_text("The data are valid")).to_be_visible()
    expect(page.get_by_role("button", name="Run the study")).to_be_enabled()
    assert "problem(s) found" not in page.locator("body").inner_text()
    page.screenshot(path=shots / "2-valid.png", full_page=True)


def test_run_the_study_and_read_the_pfsr_median(
    page: Page, base_url: str, files: dict[str, Path], shots: Path
) -> None:
    study = api_study(base_url, files["good"])
    page.goto(f"/studies/{study}")
    run_and_wait(page)
    row = page.get_by_role("row", name="median PFSR, months (95% CI)")
    expect(row).to_contain_text("2.89")
    report = page.frame_locator("iframe[title='Study report']")
    expect(report.locator("body")).to_contain_text("rechallenge")
    assert "2.89" in row.inner_text()
    assert raw_codes_in_text(words_of_the_app(page)) == []
    page.screenshot(path=shots / "3-run.png", full_page=True)


def test_download_every_output_as_a_zip(
    page: Page, base_url: str, finished_study: str, tmp_path: Path
) -> None:
    page.goto(f"/studies/{finished_study}")
    page.get_by_role("link", name="Run 1", exact=True).click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="All outputs (.zip)").click()
    target = tmp_path / "outputs.zip"
    download_info.value.save_as(target)
    names = zipfile.ZipFile(io.BytesIO(target.read_bytes())).namelist()
    assert "outputs/report.html" in names and "outputs/manuscript.docx" in names


def test_change_the_configuration_run_again_and_compare_the_two_runs(
    page: Page, finished_study: str, shots: Path
) -> None:
    page.goto(f"/studies/{finished_study}/config")
    page.get_by_label("Confidence interval of the Kaplan–Meier estimates").select_option("log-log")
    page.screenshot(path=shots / "4-config.png", full_page=False)
    page.get_by_role("button", name="Save the configuration").click()
    expect(page.get_by_text("Configuration saved.")).to_be_visible()
    run_and_wait(page)
    page.get_by_role("link", name="Back to the study").click()
    page.screenshot(path=shots / "5-history.png", full_page=True)
    page.get_by_role("button", name="Compare the two runs").click()
    expect(page.get_by_role("heading", name="Compare runs")).to_be_visible()
    changes = page.locator("#config-changes")
    expect(changes).to_contain_text("Confidence interval of the Kaplan–Meier estimates")
    expect(changes).to_contain_text("Log–log-transformed Greenwood intervals")
    expect(page.locator("#number-changes")).to_contain_text("PFSR, all patients, 6-month rate")
    assert raw_codes_in_text(words_of_the_app(page)) == []
    page.screenshot(path=shots / "6-compare.png", full_page=True)


def test_check_one_patient_for_eligibility(page: Page, shots: Path) -> None:
    page.goto("/eligibility")
    page.get_by_label("Stage").select_option("IVA")
    page.get_by_label("ECOG PS at rechallenge").fill("1")
    page.get_by_label("Age at rechallenge (years)").fill("63")
    line1 = page.get_by_role("group", name="Line 1")
    line1.get_by_label("Anti-PD-(L)1 drug").check()
    line1.get_by_label("Start date").fill("2021-01-04")
    line1.get_by_label("Last dose").fill("2021-07-26")
    line1.get_by_label("First response date").fill("2021-03-01")
    line1.get_by_label("Progression date", exact=True).fill("2021-08-04")
    line1.get_by_label("Best response").select_option("pr")
    line1.get_by_label("End reason").select_option("progression")
    line2 = page.get_by_role("group", name="Line 2")
    line2.get_by_label("Anti-PD-(L)1 drug").check()
    line2.get_by_label("Start date").fill("2022-01-10")
    line2.get_by_label("Best response").select_option("sd")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("heading", name="Eligible", exact=True)).to_be_visible()
    page.screenshot(path=shots / "7-eligibility.png", full_page=True)


AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# The library's report.html (not a workbench page): its scrollable table wrappers take no
# keyboard focus. Recorded here so the check still fails on anything new there.
KNOWN_REPORT_ISSUES = {"scrollable-region-focusable"}


def test_every_page_has_no_serious_or_critical_accessibility_violation(
    browser: Browser, base_url: str, finished_study: str, files: dict[str, Path]
) -> None:
    broken = api_study(base_url, files["bad"])
    study = httpx.get(f"{base_url}/api/studies/{finished_study}").json()
    run_id = study["runs"][-1]
    pages = [
        "/",
        f"/studies/{broken}",
        f"/studies/{finished_study}",
        f"/studies/{finished_study}/config",
        f"/runs/{run_id}",
        f"/runs/{run_id}/report",
        "/eligibility",
        "/api",
    ]
    if len(study["runs"]) > 1:
        pages.append(f"/compare?a={study['runs'][-1]}&b={study['runs'][0]}")
    # axe is injected as a script, which the app's policy forbids: this context bypasses it.
    context = browser.new_context(base_url=base_url, bypass_csp=True)
    found: dict[str, list[str]] = {}
    try:
        tab = context.new_page()
        for path in pages:
            tab.goto(path)
            tab.add_script_tag(path=str(AXE))
            result = tab.evaluate("async () => await axe.run(document)")
            known = KNOWN_REPORT_ISSUES if path.endswith("/report") else set()
            bad = [
                f"{v['id']} ({v['impact']}): {v['help']}"
                for v in result["violations"]
                if v["impact"] in ("serious", "critical") and v["id"] not in known
            ]
            if bad:
                found[path] = bad
    finally:
        context.close()
    assert not found, found
