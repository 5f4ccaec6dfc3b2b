"""A real PostgreSQL for the OMOP suite (STYLE 19).

`RECHALLENGE_PG_URL` names a server to use (CI may supply one); otherwise a throwaway
cluster is started with Debian's `initdb` + `pg_ctl` in a temporary folder on a free
loopback port (as the `postgres` system user when run as root, since initdb refuses root),
and stopped at the end. Without the binaries, PostgreSQL tests are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def _pg_bin() -> Path:
    """RECHALLENGE_PG_BIN, else the newest Debian server in /usr/lib/postgresql/*/bin."""
    if "RECHALLENGE_PG_BIN" in os.environ:
        return Path(os.environ["RECHALLENGE_PG_BIN"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _pg_bin()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_user(command: list[str]) -> list[str]:
    """`command` as the postgres system user when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL: from RECHALLENGE_PG_URL, or a throwaway server started here."""
    given = os.environ.get("RECHALLENGE_PG_URL")
    if given:
        yield given
        return
    if not (PG_BIN / "initdb").is_file() or not (PG_BIN / "pg_ctl").is_file():
        pytest.skip(f"no PostgreSQL server binaries in {PG_BIN} (apt-get install postgresql)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: initdb refuses root")
    root = Path(tempfile.mkdtemp(prefix="rechallenge-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    port = _free_port()
    run = {"check": True, "capture_output": True, "timeout": 120}
    subprocess.run(
        _as_user(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                "rechallenge",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        ),
        **run,
    )
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _as_user(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(root / "log"),
                "-w",
                "start",
            ]
        ),
        **run,
    )
    try:
        yield f"postgresql://rechallenge@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            check=False,
            capture_output=True,
            timeout=120,
        )
        shutil.rmtree(root, ignore_errors=True)
