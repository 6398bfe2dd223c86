"""The browser side of the gateway: the trading console at `/` and the API docs at `/docs` and
`/redoc`, every file served from this package (no CDN: many users sit where one is blocked).

    /                    the console (static/console/index.html)
    /console/...         its ES modules and stylesheet
    /vendor/...          Swagger UI and ReDoc, vendored from the npm registry (VENDORED.md)
    /docs, /redoc        the API docs pages pointing at /vendor
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC: Final = Path(__file__).parent / "static"
CONSOLE: Final = STATIC / "console"
# The console's modules change with every release and carry no hash in their names: the browser
# revalidates each time (a 304 costs one round trip on localhost) instead of mixing versions.
NO_CACHE: Final = {"Cache-Control": "no-cache"}
# Plain files, no inline script: the page can forbid everything but its own origin.
CONSOLE_CSP: Final = (
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' blob: data:; "
    "style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)


class _RevalidatedFiles(StaticFiles):
    """StaticFiles whose answers say `no-cache` (see NO_CACHE)."""

    def file_response(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = super().file_response(*args, **kwargs)
        response.headers.update(NO_CACHE)
        return response


def install_web(app: FastAPI, swagger_ui_parameters: dict[str, object]) -> None:
    """Routes for the console and the offline docs. The app must be built with
    `docs_url=None, redoc_url=None` so these replace FastAPI's CDN pages."""
    openapi_url = app.openapi_url or "/openapi.json"
    title = app.title

    @app.get("/", include_in_schema=False)
    async def console() -> FileResponse:
        return FileResponse(
            CONSOLE / "index.html",
            media_type="text/html; charset=utf-8",
            headers={**NO_CACHE, "Content-Security-Policy": CONSOLE_CSP},
        )

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} · Swagger UI",
            swagger_js_url="/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/console/favicon.svg",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_ui_parameters=swagger_ui_parameters,
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} · ReDoc",
            redoc_js_url="/vendor/redoc/redoc.standalone.js",
            redoc_favicon_url="/console/favicon.svg",
            with_google_fonts=False,
        )

    app.mount("/console", _RevalidatedFiles(directory=CONSOLE), name="console")
    app.mount("/vendor", StaticFiles(directory=STATIC / "vendor"), name="vendor")
