"""The FastAPI application: settings, database, work queue, routers, security headers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from rechallenge import __version__
from rechallenge.web.db import make_engine, sessions, upgrade
from rechallenge.web.deps import LoginRequired
from rechallenge.web.routers import api_eligibility, api_runs, api_studies, pages
from rechallenge.web.security import security_headers
from rechallenge.web.settings import WebSettings
from rechallenge.web.templating import render
from rechallenge.web.worker import WorkQueue, recover

LOG = logging.getLogger("rechallenge.web")


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """The app for `settings` (read from the environment when None)."""
    settings = settings or WebSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(settings.url)
        engine = make_engine(settings.url)
        app.state.sessions = sessions(engine)
        interrupted = recover(app.state.sessions)
        if interrupted:
            LOG.warning("%d run(s) interrupted by the last stop were marked failed", interrupted)
        app.state.queue = WorkQueue(settings.url, settings.data_dir, settings.workers)
        try:
            yield
        finally:
            app.state.queue.shutdown()
            engine.dispose()

    app = FastAPI(
        title="rechallenge workbench",
        version=__version__,
        description="Upload, validate, configure, run, read and compare studies of ICI "
        "rechallenge. The pages use this same API.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.middleware("http")(security_headers(secure_cookies=not settings.is_loopback))
    app.mount(
        "/static", StaticFiles(directory=str(files("rechallenge.web") / "static")), name="static"
    )
    for router in (api_studies.router, api_runs.router, api_eligibility.router, pages.router):
        app.include_router(router)
    _handlers(app)
    return app


def _handlers(app: FastAPI) -> None:
    """Errors as JSON for the API and as a page for people."""

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _exc: LoginRequired) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/") or request.url.path == "/openapi.json":
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        return render(request, "error.html", status_code=exc.status_code, message=str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)
