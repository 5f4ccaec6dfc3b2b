"""Dependencies shared by the routers: settings, a database session, the queue, access."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from rechallenge.web.security import bearer_ok, cross_site, session_ok
from rechallenge.web.settings import WebSettings
from rechallenge.web.worker import WorkQueue


def get_settings(request: Request) -> WebSettings:
    """The app's settings."""
    settings: WebSettings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """A session for one request; services commit what they change before responding."""
    with request.app.state.sessions() as session:
        yield session
        session.commit()


def get_queue(request: Request) -> WorkQueue:
    """The work queue."""
    queue: WorkQueue = request.app.state.queue
    return queue


SettingsDep = Annotated[WebSettings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
QueueDep = Annotated[WorkQueue, Depends(get_queue)]


def api_access(request: Request, settings: SettingsDep) -> None:
    """API access: a bearer token when one is set; never a browser request from elsewhere."""
    if settings.token is not None:
        token = settings.token.get_secret_value()
        secret = settings.secret_key.get_secret_value()
        if not (bearer_ok(request, token) or session_ok(request, token, secret)):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "an access token is required: send 'Authorization: Bearer TOKEN'",
                headers={"WWW-Authenticate": "Bearer"},
            )
    if request.method not in ("GET", "HEAD") and cross_site(request):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "cross-site requests are refused")


class LoginRequired(Exception):
    """Raised by `page_access`; the app redirects to the login form."""


def page_access(request: Request, settings: SettingsDep) -> None:
    """Page access: the login cookie when a token is set, nothing on loopback without one."""
    if settings.token is None:
        return
    secret = settings.secret_key.get_secret_value()
    if not session_ok(request, settings.token.get_secret_value(), secret):
        raise LoginRequired


ApiAccess = Depends(api_access)
PageAccess = Depends(page_access)
