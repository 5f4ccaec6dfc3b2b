"""Fixtures: the app in-process on a temporary data folder, and zipped study folders."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

fastapi = pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402
from tests.sources.conftest import pg_url  # noqa: E402, F401  (a throwaway PostgreSQL)

from rechallenge.web import WebSettings, create_app  # noqa: E402

COHORT = Path(__file__).resolve().parents[2] / "examples" / "seed_cohort"


def zip_folder(folder: Path, top: str = "cohort") -> bytes:
    """The CSV files of `folder` zipped as a folder would be (one top-level folder)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for path in sorted(folder.glob("*.csv")):
            zf.write(path, f"{top}/{path.name}")
    return buffer.getvalue()


def cohort_copy(target: Path) -> Path:
    """A copy of the example cohort's CSV files."""
    return Path(
        shutil.copytree(COHORT, target, ignore=shutil.ignore_patterns("*.py", "*.md", "*.R"))
    )


def duplicate_first_patient(folder: Path) -> None:
    """The seeded defect: the last patient row twice (a duplicate patient_id, ID-001)."""
    path = folder / "patients.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows.append(dict(rows[-1]))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="session")
def cohort_zip() -> bytes:
    """The example cohort as an upload."""
    return zip_folder(COHORT)


@pytest.fixture(scope="session")
def broken_zip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The example cohort with one duplicated patient."""
    folder = cohort_copy(tmp_path_factory.mktemp("broken") / "cohort")
    duplicate_first_patient(folder)
    return zip_folder(folder)


def make_settings(data_dir: Path, **values: object) -> WebSettings:
    """Settings on a temporary data folder, with one worker."""
    return WebSettings(**{"data_dir": data_dir, "workers": 1, **values})  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> WebSettings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def client(settings: WebSettings) -> Iterator[TestClient]:
    """The app in-process, started and stopped like the server."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def upload(client: TestClient, content: bytes, name: str = "cohort.zip") -> str:
    """POST a study; its id."""
    response = client.post("/api/studies", files={"file": (name, content, "application/zip")})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def wait_for(client: TestClient, run_id: str, timeout: float = 180.0) -> dict[str, object]:
    """Poll a run until it is done or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state: dict[str, object] = client.get(f"/api/runs/{run_id}").json()
        if state["status"] in ("done", "failed"):
            return state
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} did not finish in {timeout} s")


def free_port() -> int:
    """A free TCP port on loopback."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(data_dir: Path, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    """`rechallenge serve` as a real process; returns once it answers."""
    import httpx

    command = [
        str(Path(sys.executable).parent / "rechallenge"),
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--workers",
        str(workers),
    ]
    with (data_dir.parent / f"server-{port}.log").open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise AssertionError("the server did not start in 60 s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Stop a server started by `start_server` (terminate, then kill)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
