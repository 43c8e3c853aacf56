"""The portal as an ASGI application: `streamlit run portal/server.py` (or any ASGI server).

It serves `portal/app.py` through Streamlit's own `st.App`, adding what Streamlit does not set by
itself on every HTTP response: who may frame the pages (only the portal itself, which its
components need), no MIME sniffing, no referrer to other sites. Streamlit's metrics endpoint is
not public: it answers only a request with `Authorization: Bearer $PORTAL_METRICS_TOKEN`, and not
at all when no token is configured.
"""
from __future__ import annotations

import hmac
import os

import streamlit as st
from starlette.middleware import Middleware

SECURITY_HEADERS = (
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"content-security-policy", b"frame-ancestors 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)
METRICS_PATH = "/_stcore/metrics"


def metrics_allowed(headers: dict[bytes, bytes]) -> bool:
    token = os.environ.get("PORTAL_METRICS_TOKEN", "")
    given = headers.get(b"authorization", b"").decode("latin-1")
    return bool(token) and hmac.compare_digest(given, f"Bearer {token}")


class SecurityHeaders:
    """Pure ASGI middleware (it leaves WebSocket traffic alone)."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].rstrip("/").endswith(METRICS_PATH) and not metrics_allowed(dict(scope["headers"])):
            await send({"type": "http.response.start", "status": 404,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"), *SECURITY_HEADERS]})
            await send({"type": "http.response.body", "body": b"Not Found"})
            return

        async def with_headers(message) -> None:  # noqa: ANN001
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *[(k, v) for k, v in SECURITY_HEADERS if k not in present]]
            await send(message)

        await self.app(scope, receive, with_headers)


def settle_the_heap() -> None:
    """Import what the pages' services import before the first visitor, then `gc.freeze()`: the modules' objects (a few
    hundred thousand, from pandas, Altair's schema and SQLAlchemy) leave the collector's care, so its full
    collections walk only what the sessions made (with thirty trainees they paused every session for a second).
    The first visitor no longer waits for the imports either."""
    import gc
    import importlib
    import pkgutil

    import altair  # noqa: F401
    import pandas  # noqa: F401

    import portal
    # the layers below the UI (the UI's own modules, which touch Streamlit's runtime, come with the first run)
    inner = ("portal.domain", "portal.services", "portal.persistence", "portal.printing", "portal.i18n",
             "portal.adapters")
    for module in pkgutil.walk_packages(portal.__path__, "portal."):
        if module.name.startswith(inner):
            importlib.import_module(module.name)
    gc.collect()
    gc.freeze()


settle_the_heap()
app = st.App("app.py", middleware=[Middleware(SecurityHeaders)])
