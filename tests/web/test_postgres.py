"""The workbench on PostgreSQL: migrations, upload, run, status, and everything kept on restart.

The server is the `pg_url` fixture of tests/sources (RECHALLENGE_PG_URL, else a throwaway
Debian server in a temporary folder); each test gets its own database on it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

psycopg = pytest.importorskip("psycopg")
pytest.importorskip("alembic")

from alembic import command  # noqa: E402
from alembic.autogenerate import compare_metadata  # noqa: E402
from alembic.migration import MigrationContext  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import create_engine, inspect, text  # noqa: E402
from tests.web.conftest import make_settings, upload, wait_for  # noqa: E402

from rechallenge.web import create_app  # noqa: E402
from rechallenge.web.db import alembic_config, upgrade  # noqa: E402
from rechallenge.web.models import Base  # noqa: E402


@pytest.fixture
def database(pg_url: str) -> Iterator[str]:
    """A fresh database on the server, as a SQLAlchemy psycopg URL; dropped afterwards."""
    name = f"web_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = pg_url.rpartition("/")
    yield base.replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_migrations_upgrade_downgrade_and_match_the_models(database: str) -> None:
    upgrade(database)
    engine = create_engine(database)
    assert {"studies", "runs", "alembic_version"} <= set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    command.downgrade(alembic_config(database), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(database)
    assert {"studies", "runs"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_upload_run_and_restart_keep_everything(
    database: str, tmp_path: Path, cohort_zip: bytes
) -> None:
    settings = make_settings(tmp_path / "data", database_url=database)
    with TestClient(create_app(settings)) as client:
        study = upload(client, cohort_zip)
        assert client.get(f"/api/studies/{study}").json()["valid"] is True
        run_id = client.post(f"/api/studies/{study}/runs").json()["run_id"]
        state = wait_for(client, run_id)
        assert state["status"] == "done", state
        median = client.get(f"/api/runs/{run_id}/results.json").json()["km"]["PFSR"]["all"]
    # a run left "running" by a server that died: the next start marks it failed
    engine = create_engine(database)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO runs (id, study_id, number, created, status, progress, stage,"
                " config_yaml, input_sha256, data_path, show_ids, out_path)"
                " SELECT 'interrupted', study_id, 2, now(), 'running', 0.5, 'analysing',"
                " config_yaml, input_sha256, data_path, show_ids, out_path FROM runs"
                " WHERE id = :run"
            ),
            {"run": run_id},
        )
    engine.dispose()
    with TestClient(create_app(settings)) as client:
        again = client.get(f"/api/studies/{study}").json()
        assert again["valid"] is True and run_id in again["runs"]
        assert client.get(f"/api/runs/{run_id}").json()["status"] == "done"
        results = client.get(f"/api/runs/{run_id}/results.json").json()
        assert results["km"]["PFSR"]["all"] == median
        assert client.get(f"/runs/{run_id}").status_code == 200
        history = client.get(f"/studies/{study}").text
        assert "Run 1" in history and "Run 2" in history
        interrupted = client.get("/api/runs/interrupted").json()
        assert interrupted["status"] == "failed" and interrupted["error"]
