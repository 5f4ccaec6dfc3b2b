"""`rechallenge serve`: the study workbench in the browser (needs the optional ``web`` extra).

Listens on 127.0.0.1 by default with no login. Any other address needs an access token
(``--token-file`` or ``RECHALLENGE_WEB_TOKEN``); without one the command refuses to start.
Each option falls back to its ``RECHALLENGE_WEB_*`` environment variable, as the settings do.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

WEB_INSTALL_HINT = (
    "install the optional 'web' extra: `pip install 'rechallenge[web]'` for a pip install, "
    "or `.venv/bin/pip install -e '.[web]'` in a source checkout"
)
EXIT_USAGE = 2


def build_settings(
    host: str, port: int, data_dir: Path, workers: int, token_file: Path | None
) -> Any:
    """The server's settings from the options (the environment fills the rest)."""
    from rechallenge.web.settings import load_settings

    values: dict[str, Any] = {"host": host, "port": port, "data_dir": data_dir, "workers": workers}
    if token_file is not None:
        values["token"] = token_file.read_text(encoding="utf-8").strip()
    return load_settings(**values)


def serve(
    host: Annotated[
        str,
        typer.Option(
            envvar="RECHALLENGE_WEB_HOST", help="Address to listen on (loopback by default)."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="RECHALLENGE_WEB_PORT", help="TCP port.")] = 8000,
    data_dir: Annotated[
        Path,
        typer.Option(
            "--data-dir",
            metavar="DIR",
            envvar="RECHALLENGE_WEB_DATA_DIR",
            help="Uploads, run outputs and the SQLite database.",
        ),
    ] = Path("rechallenge-data"),
    workers: Annotated[
        int, typer.Option(envvar="RECHALLENGE_WEB_WORKERS", help="Runs executed at the same time.")
    ] = 2,
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file",
            metavar="FILE",
            help="File holding the access token (required off loopback, or set "
            "RECHALLENGE_WEB_TOKEN).",
        ),
    ] = None,
) -> None:
    """Start the study workbench: upload, validate, configure, run, read and compare."""
    try:
        import uvicorn

        from rechallenge.web import create_app
        from rechallenge.web.settings import SettingsError
    except ImportError:
        typer.echo(f"rechallenge serve needs the web application: {WEB_INSTALL_HINT}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    try:
        settings = build_settings(host, port, data_dir, workers, token_file)
    except (SettingsError, OSError) as exc:
        typer.echo(f"rechallenge serve: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    os.environ.setdefault("MPLBACKEND", "Agg")
    typer.echo(f"rechallenge workbench on http://{host}:{port}/ (data in {data_dir})")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
