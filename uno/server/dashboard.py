"""The dashboard at ``/ui``: a static page (HTML, CSS, JavaScript, no build step) that reads the REST API.

The page holds no data and needs no key to load; every call it makes goes to ``/v1`` with the API key the user
types in, so it sees exactly what that key's tenant may see. Its Content-Security-Policy allows nothing but this
server, and the script sets text only through ``textContent``: rules quote users' messages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

UI_DIR = Path(__file__).resolve().parent / "ui"
UI_PATH = "/ui"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class _DashboardFiles(StaticFiles):
    """The page's files, each sent with the security headers."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


def mount_dashboard(app: FastAPI) -> None:
    """Serve the dashboard at ``/ui/`` (and redirect ``/ui`` there); it is not part of the OpenAPI document."""

    @app.get(UI_PATH, include_in_schema=False)
    def dashboard_redirect() -> Any:
        return RedirectResponse(f"{UI_PATH}/")

    app.mount(UI_PATH, _DashboardFiles(directory=UI_DIR, html=True), name="ui")


__all__ = ["UI_PATH", "mount_dashboard"]
