"""The workbench's tables: studies (an uploaded data set and its configuration) and runs.

Uploaded files and outputs live under the data folder; the database holds what points at
them, their hashes, the validation problems, each run's configuration and its state.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def new_id() -> str:
    """A random identifier, unguessable and safe in a path."""
    return uuid.uuid4().hex


def now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base; Alembic's env.py reads its metadata."""


class Study(Base):
    """One uploaded data set, its latest validation and its current configuration (YAML)."""

    __tablename__ = "studies"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    data_kind: Mapped[str] = mapped_column(String(10))  # "folder" or "xlsx"
    data_path: Mapped[str] = mapped_column(Text)  # relative to the data folder
    input_sha256: Mapped[str] = mapped_column(String(64))
    valid: Mapped[bool] = mapped_column(Boolean, default=False)
    problems: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    config_yaml: Mapped[str] = mapped_column(Text, default="")
    show_ids: Mapped[bool] = mapped_column(Boolean, default=False)
    uploads: Mapped[int] = mapped_column(Integer, default=1)

    runs: Mapped[list[Run]] = relationship(
        back_populates="study", order_by="Run.created.desc()", cascade="all, delete-orphan"
    )


class Run(Base):
    """One run of a study: its configuration, the input's hash, its state and its outputs."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    study_id: Mapped[str] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer, default=1)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    started: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    stage: Mapped[str] = mapped_column(String(200), default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    config_yaml: Mapped[str] = mapped_column(Text)
    input_sha256: Mapped[str] = mapped_column(String(64))
    data_path: Mapped[str] = mapped_column(Text)  # the study's data as uploaded for this run
    show_ids: Mapped[bool] = mapped_column(Boolean, default=False)
    out_path: Mapped[str] = mapped_column(Text)  # relative to the data folder

    study: Mapped[Study] = relationship(back_populates="runs")
