"""The workbench's settings, read once from the environment (prefix ``RECHALLENGE_WEB_``).

Every field is stated with its default. The server refuses to start when it would listen on a
non-loopback address without an access token: the data are patient-level.
"""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class SettingsError(ValueError):
    """The settings would be unsafe or unusable; the message says which and what to do."""


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``: addresses no other machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebSettings(BaseSettings):
    """Where the workbench listens, stores its data and how much it accepts."""

    model_config = SettingsConfigDict(env_prefix="RECHALLENGE_WEB_", extra="forbid")

    host: str = Field("127.0.0.1", description="Address to listen on; loopback by default.")
    port: int = Field(8000, ge=0, le=65535, description="TCP port.")
    data_dir: Path = Field(
        Path("rechallenge-data"), description="Uploaded files, run outputs and the database."
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL (postgresql+psycopg://...); default SQLite in data_dir.",
    )
    token: SecretStr | None = Field(
        None, description="Access token; required when host is not a loopback address."
    )
    workers: int = Field(2, ge=1, le=64, description="Runs executed at the same time.")
    max_upload_bytes: int = Field(50 * MIB, ge=1, description="Largest upload accepted.")
    max_unpacked_bytes: int = Field(
        200 * MIB, ge=1, description="Largest total size of the files inside an uploaded .zip."
    )
    max_zip_members: int = Field(200, ge=1, description="Most files inside an uploaded .zip.")
    secret_key: SecretStr = Field(
        default_factory=lambda: SecretStr(secrets.token_urlsafe(32)),
        description="Signs CSRF tokens; a fresh random key per start unless set.",
    )

    @field_validator("token", mode="before")
    @classmethod
    def _blank_token_is_none(cls, value: object) -> object:
        """An empty RECHALLENGE_WEB_TOKEN means no token."""
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _token_off_loopback(self) -> WebSettings:
        """Refuse a reachable address without a token (and a token too short to be one)."""
        if self.token is not None and len(self.token.get_secret_value()) < 16:
            raise SettingsError("the access token must be at least 16 characters long")
        if not is_loopback(self.host) and self.token is None:
            raise SettingsError(
                f"refusing to listen on {self.host}: it is reachable from other machines and "
                "no access token is set; set RECHALLENGE_WEB_TOKEN (at least 16 characters) "
                "or listen on 127.0.0.1"
            )
        return self

    @property
    def is_loopback(self) -> bool:
        """The server is reachable from this machine only."""
        return is_loopback(self.host)

    @property
    def url(self) -> str:
        """The database URL: the configured one, or SQLite in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'workbench.sqlite3').resolve()}"

    @property
    def studies_dir(self) -> Path:
        """Uploaded study data, one folder per study."""
        return self.data_dir / "studies"

    @property
    def runs_dir(self) -> Path:
        """Run outputs, one folder per run."""
        return self.data_dir / "runs"


def load_settings(**values: Any) -> WebSettings:
    """Settings from `values` and the environment; SettingsError with every reason in words."""
    try:
        return WebSettings(**values)
    except ValidationError as exc:
        reasons = [
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" if e["loc"] else str(e["msg"])
            for e in exc.errors()
        ]
        text = "; ".join(r.replace("Value error, ", "") for r in reasons)
        raise SettingsError(text) from None
