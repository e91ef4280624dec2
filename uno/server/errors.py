"""One error shape for every failure: ``{"error": {"type", "message", "details"}}``.

It is the shape OpenAI's API uses (``error.message``, ``error.type``), so the ``openai`` client shows uno's
messages as they are. Validation errors name each offending field (``body.logs[2]``); unexpected errors are
logged with their traceback and answered with a 500 that reveals nothing about the server.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from uno.ingest.errors import IngestError, InvalidRecord, render_loc

log = logging.getLogger("uno.server")

ERROR_TYPES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    500: "internal_error",
    502: "upstream_error",
    503: "unavailable",
    504: "upstream_timeout",
}
# How many field errors a validation message spells out before "and N more" (all are in ``details``).
_SHOWN_PROBLEMS = 3


class ErrorDetail(BaseModel):
    """One problem with a request: where (``body.logs[2].feedback[0]``) and what."""

    loc: str = ""
    message: str


class ErrorInfo(BaseModel):
    type: str = Field(description="A stable name for the kind of error, e.g. `not_found`, `invalid_request`.")
    message: str = Field(description="What went wrong, for a person.")
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    """The body of every 4xx and 5xx response."""

    error: ErrorInfo


class ApiError(Exception):
    """An error to answer with ``status``; raised by routes and dependencies."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        details: Sequence[ErrorDetail] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = list(details)
        self.headers = headers


def error_response(
    status: int, message: str, details: Sequence[ErrorDetail] = (), headers: dict[str, str] | None = None
) -> JSONResponse:
    info = ErrorInfo(type=error_type(status), message=message, details=list(details))
    return JSONResponse(ErrorResponse(error=info).model_dump(mode="json"), status_code=status, headers=headers)


def error_type(status: int) -> str:
    return ERROR_TYPES.get(status, "client_error" if status < 500 else "server_error")


def validation_details(errors: Sequence[Any], prefix: tuple[str | int, ...] = ()) -> list[ErrorDetail]:
    """pydantic / FastAPI errors as ``ErrorDetail``s (their ``ctx`` may hold exceptions: never serialised)."""
    details = []
    for error in errors:
        loc = prefix + tuple(part for part in error.get("loc", ()) if isinstance(part, str | int))
        details.append(ErrorDetail(loc=render_loc(loc), message=_message(error)))
    return details


def _message(error: Mapping[str, Any]) -> str:
    """pydantic's message, without its "Value error, " prefix on our own validators' messages."""
    context = error.get("ctx") or {}
    if error.get("type") == "value_error" and "error" in context:
        return str(context["error"])
    if error.get("type") == "union_tag_invalid":
        expected = ", ".join(re.findall(r"'([^']+)'", str(context.get("expected_tags", ""))))
        return f"{context.get('discriminator', 'tag')} {context.get('tag')!r} is not one of: {expected}"
    return str(error.get("msg", "invalid value"))


def summarize(details: Sequence[ErrorDetail], prefix: str = "invalid request") -> str:
    shown = "; ".join(f"`{d.loc}`: {d.message}" if d.loc else d.message for d in details[:_SHOWN_PROBLEMS])
    more = f"; and {len(details) - _SHOWN_PROBLEMS} more" if len(details) > _SHOWN_PROBLEMS else ""
    return f"{prefix}: {shown}{more}" if shown else prefix


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error with ``ErrorResponse``."""

    async def on_api_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiError)
        return error_response(error.status, error.message, error.details, error.headers)

    async def on_http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        message = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
        headers = dict(error.headers or {})
        if error.status_code == 405:
            # Starlette names only the first route of the path; a path served by several routes allows them all.
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return error_response(error.status_code, message, headers=headers)

    async def on_validation_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        details = validation_details(error.errors())
        return error_response(422, summarize(details), details)

    async def on_invalid_input(request: Request, error: Exception) -> JSONResponse:
        # A record a route passed on was refused by uno's own checks (input limits, invalid text): the client's
        # input, so a 422 naming each field, never a 500.
        assert isinstance(error, IngestError)
        problems = error.problems if isinstance(error, InvalidRecord) else ()
        details = [ErrorDetail(loc=render_loc(("body", *p.loc)), message=p.message) for p in problems]
        return error_response(422, summarize(details) if details else str(error), details)

    async def on_unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal server error (logged on the server)")

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(IngestError, on_invalid_input)
    app.add_exception_handler(Exception, on_unexpected)


_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> list[str]:
    """The methods some route serves for this path (asked of each route, included routers too)."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    ]


# Responses every authenticated route may give, for the OpenAPI document.
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "The body cannot be read (not UTF-8 JSON)."},
    401: {"model": ErrorResponse, "description": "Missing or unknown API key."},
    413: {"model": ErrorResponse, "description": "Request body over the size limit."},
    422: {"model": ErrorResponse, "description": "The request is not valid; `details` names each field."},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No such record in this tenant."}
}
