"""uno as a service (extra ``[server]``): a REST API and an OpenAI-compatible memory proxy, in one FastAPI app.

>>> from uno.server import create_app
>>> app = create_app("./.uno", api_keys={"sk-acme": "acme"}, upstream="openai/gpt-4o-mini")

or from the command line: ``uno serve --api-key sk-acme=acme --upstream openai/gpt-4o-mini``.
"""

from __future__ import annotations

from uno.extras import raise_missing

try:
    from uno.server.app import create_app
    from uno.server.auth import API_KEYS_ENV, ApiKeys, parse_api_keys
    from uno.server.limits import DEFAULT_MAX_BODY_BYTES
    from uno.server.upstream import Upstream, UpstreamError
except ModuleNotFoundError as missing:  # say which extra brings it (fastapi, uvicorn, httpx), not just its name
    raise_missing(missing, extra="server", feature="uno.server")

__all__ = [
    "API_KEYS_ENV",
    "DEFAULT_MAX_BODY_BYTES",
    "ApiKeys",
    "Upstream",
    "UpstreamError",
    "create_app",
    "parse_api_keys",
]
