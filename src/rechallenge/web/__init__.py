"""The study workbench: a local web application on the same engine as the command line.

`create_app(settings)` builds the FastAPI app; `rechallenge serve` runs it with uvicorn.
Needs the optional ``web`` extra (``pip install 'rechallenge[web]'``).
"""

from __future__ import annotations

from rechallenge.web.app import create_app
from rechallenge.web.settings import SettingsError, WebSettings

__all__ = ["SettingsError", "WebSettings", "create_app"]
