"""Jinja2 templates (autoescaped) with the helpers every page uses."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import yaml
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from rechallenge.web.security import CSRF_FIELD, csrf_token

ENV = Environment(
    loader=FileSystemLoader(str(files("rechallenge.web") / "templates")),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def definition(config_text: str) -> str:
    """The resistance definition a run's YAML names (the default when it names none)."""
    try:
        loaded = yaml.safe_load(config_text) or {}
        value = (loaded.get("resistance") or {}).get("definition", "schoenfeld2021")
    except (yaml.YAMLError, AttributeError):
        return "?"
    return str(value)


def number(value: Any) -> str:
    """A number for reading: 4 significant digits for floats, integers as they are."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return "—" if value is None else str(value)


ENV.filters["definition"] = definition
ENV.filters["number"] = number


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page from `template`; every form gets this browser's CSRF token as `csrf`."""
    secret = request.app.state.settings.secret_key.get_secret_value()
    context.update(
        request=request,
        csrf=csrf_token(request, secret),
        csrf_field=CSRF_FIELD,
        login_needed=request.app.state.settings.token is not None,
    )
    return HTMLResponse(ENV.get_template(template).render(**context), status_code=status_code)
