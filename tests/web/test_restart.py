"""Nothing is lost on restart: a server killed mid-run marks the run failed, inputs intact."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from tests.web.conftest import free_port, start_server, stop_server

pytestmark = pytest.mark.slow


def wait_status(
    base: str, run_id: str, wanted: set[str], timeout: float = 180
) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state: dict[str, object] = httpx.get(f"{base}/api/runs/{run_id}", timeout=10).json()
        if state["status"] in wanted:
            return state
        time.sleep(0.2)
    raise AssertionError(f"run never reached {wanted}")


def test_killed_server_marks_the_run_failed_and_it_can_run_again(
    tmp_path: Path, cohort_zip: bytes
) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(data_dir, port)
    try:
        created = httpx.post(
            f"{base}/api/studies", files={"file": ("c.zip", cohort_zip, "application/zip")}
        )
        study = created.json()["id"]
        before = httpx.get(f"{base}/api/studies/{study}").json()["input_sha256"]
        run_id = httpx.post(f"{base}/api/studies/{study}/runs").json()["run_id"]
        wait_status(base, run_id, {"running"})
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    finally:
        stop_server(server)

    server = start_server(data_dir, port)
    try:
        state = wait_status(base, run_id, {"failed", "done"}, timeout=10)
        assert state["status"] == "failed"
        assert "server stopped while this run was running" in str(state["error"])
        time.sleep(2)  # a stray worker of the killed server must not overwrite the verdict
        assert httpx.get(f"{base}/api/runs/{run_id}").json()["status"] == "failed"
        study_now = httpx.get(f"{base}/api/studies/{study}").json()
        assert study_now["input_sha256"] == before and study_now["valid"] is True
        again = httpx.post(f"{base}/api/runs/{run_id}/rerun")
        assert again.status_code == 202
        state = wait_status(base, again.json()["run_id"], {"failed", "done"})
        assert state["status"] == "done", state
        assert state["input_sha256"] == before
    finally:
        stop_server(server)
