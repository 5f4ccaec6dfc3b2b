"""Jinja2 templates (autoescaped) with the helpers every page uses."""

from __future__ import annotations

from importlib.resources import files
from typing import Any, get_args

import yaml
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from rechallenge.labels import Labels
from rechallenge.rules.resistance import Definition
from rechallenge.web.security import CSRF_FIELD, csrf_token

DEFINITIONS: tuple[str, ...] = get_args(Definition)
DEFAULT_DEFINITION = "schoenfeld2021"

ENV = Environment(
    loader=FileSystemLoader(str(files("rechallenge.web") / "templates")),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def definition_code(config_text: str) -> str:
    """The resistance definition a run's YAML names (the default when it names none)."""
    try:
        loaded = yaml.safe_load(config_text) or {}
        value = (loaded.get("resistance") or {}).get("definition", DEFAULT_DEFINITION)
    except (yaml.YAMLError, AttributeError):
        return ""
    return str(value)


def definition_words(code: str) -> str:
    """A resistance definition as the catalogue words it (``method.resistance_definition``)."""
    if not code:
        return "unknown"
    text = Labels().method("resistance_definition", code)
    return text[:1].upper() + text[1:]


def definition(config_text: str) -> str:
    """The resistance definition a run's YAML names, in words."""
    return definition_words(definition_code(config_text))


def definition_lower(config_text: str) -> str:
    """The resistance definition in words as it reads inside a sentence."""
    return Labels().method("resistance_definition", definition_code(config_text) or "unknown")


def number(value: Any) -> str:
    """A number for reading: 4 significant digits for floats, integers as they are."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return "—" if value is None else str(value)


ENV.filters["definition"] = definition
ENV.filters["definition_code"] = definition_code
ENV.filters["definition_lower"] = definition_lower
ENV.filters["definition_words"] = definition_words
ENV.globals["definitions"] = DEFINITIONS
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
