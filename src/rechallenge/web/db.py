"""Engine, sessions and migrations: the schema is always brought to Alembic's head."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = "rechallenge.web:migrations"


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets foreign keys, a busy timeout and WAL (many processes)."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def alembic_config(url: str) -> Config:
    """Alembic's configuration for `url`, with the migrations shipped in the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(files("rechallenge.web") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (creates the tables on an empty one)."""
    command.upgrade(alembic_config(url), revision)


def sessions(engine: Engine) -> sessionmaker[Session]:
    """A session factory; objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session committed on success and rolled back on error."""
    with factory() as session, session.begin():
        yield session
