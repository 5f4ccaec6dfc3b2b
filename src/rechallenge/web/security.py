"""Access, CSRF and response headers.

- **Access**: on loopback with no token, no login. With a token (required off loopback) the
  API wants ``Authorization: Bearer TOKEN`` and the pages a session cookie set by the login
  form (an HMAC of the token, never the token itself).
- **CSRF**: every form carries a token, an HMAC of a random per-browser cookie
  (``SameSite=Strict``, ``HttpOnly``); a form POST without the matching token is refused.
  API calls carry no form token: a browser sending one from another site is refused by its
  ``Origin`` / ``Sec-Fetch-Site`` headers (scripts send neither).
- **Headers**: a strict Content-Security-Policy (no inline script, nothing from elsewhere),
  no framing, no sniffing, no referrer, no caching of pages that show data.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, Response, status

CSRF_COOKIE = "rc_csrf"
AUTH_COOKIE = "rc_auth"
CSRF_FIELD = "csrf_token"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
# The library's report is a self-contained page with inline styles and SVG, and no script:
# it is shown in a sandboxed frame with its own policy.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox allow-same-origin"
)


def sign(secret: str, value: str) -> str:
    """HMAC-SHA256 of `value` under `secret`, hex."""
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request, secret: str) -> str:
    """The form token for this browser (its cookie is set by `security_headers`)."""
    cookie = request.state.csrf_cookie
    return sign(secret, "csrf:" + cookie)


def check_csrf(request: Request, secret: str, submitted: str | None) -> None:
    """Refuse a form whose token does not match this browser's cookie."""
    cookie = request.cookies.get(CSRF_COOKIE)
    if (
        not cookie
        or not submitted
        or not hmac.compare_digest(sign(secret, "csrf:" + cookie), submitted)
    ):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "the form's security token is missing or stale: reload the page and submit again",
        )


def cross_site(request: Request) -> bool:
    """True when a browser says the request comes from another site."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin == "null"
    return urlsplit(origin).netloc != request.headers.get("host", "")


def bearer_ok(request: Request, token: str) -> bool:
    """The request carries ``Authorization: Bearer <token>``."""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


def session_ok(request: Request, token: str, secret: str) -> bool:
    """The browser logged in with the token (its cookie is the token's HMAC)."""
    cookie = request.cookies.get(AUTH_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie, sign(secret, "auth:" + token))


def security_headers(
    secure_cookies: bool,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """Middleware: the CSRF cookie for every browser and the security headers on every page.

    Cookies are ``Secure`` off loopback and whenever the request came over HTTPS (behind a
    TLS reverse proxy on the same machine, whose ``X-Forwarded-Proto`` uvicorn honours).
    """

    async def middleware(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        cookie = request.cookies.get(CSRF_COOKIE)
        fresh = cookie is None or len(cookie) != 43
        request.state.csrf_cookie = secrets.token_urlsafe(32) if fresh else cookie
        response = await call_next(request)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Cross-Origin-Resource-Policy"] = "same-origin"
        if "X-Frame-Options" not in headers and "frame-ancestors 'self'" not in headers.get(
            "Content-Security-Policy", ""
        ):
            headers["X-Frame-Options"] = "DENY"
        if not request.url.path.startswith("/static/"):
            headers.setdefault("Cache-Control", "no-store")
        if fresh:
            response.set_cookie(
                CSRF_COOKIE,
                request.state.csrf_cookie,
                httponly=True,
                samesite="strict",
                secure=secure_cookies or request.url.scheme == "https",
            )
        return response

    return middleware
