"""Migrations: one head, upgrade from empty, down and up again, and nothing left to generate."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("alembic")

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from rechallenge.web.db import alembic_config, upgrade
from rechallenge.web.models import Base


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


def test_there_is_one_head(url: str) -> None:
    heads = ScriptDirectory.from_config(alembic_config(url)).get_heads()
    assert len(heads) == 1


def test_upgrade_from_empty_creates_every_table(url: str) -> None:
    upgrade(url)
    tables = set(inspect(create_engine(url)).get_table_names())
    assert {"studies", "runs", "alembic_version"} <= tables


def test_downgrade_to_base_and_upgrade_again(url: str) -> None:
    cfg = alembic_config(url)
    upgrade(url)
    command.downgrade(cfg, "base")
    assert set(inspect(create_engine(url)).get_table_names()) <= {"alembic_version"}
    upgrade(url)
    assert {"studies", "runs"} <= set(inspect(create_engine(url)).get_table_names())


def test_models_and_migrations_agree(url: str) -> None:
    upgrade(url)
    with create_engine(url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"render_as_batch": True})
        assert compare_metadata(context, Base.metadata) == []
