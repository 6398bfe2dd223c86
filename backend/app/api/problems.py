"""The one place errors become `application/problem+json` (STYLE §3.4).

Four handlers: DomainError (its own status and code), request validation (422
VALIDATION_ERROR with `errors`), Starlette HTTPException (routing and auth-level codes,
headers kept) and any other exception (500 INTERNAL_ERROR with a request id, never a trace).
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, cast

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from loguru import logger
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse

from backend.app.core.errors import DomainError, InvalidStockCode, RateLimited, Unauthorized
from backend.app.core.text import clip
from backend.app.models.problem import PROBLEM_MEDIA_TYPE

# Codes for errors raised below the domain (routing, auth schemes, the framework itself).
HTTP_CODES: Mapping[int, str] = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    408: "REQUEST_TIMEOUT",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}

_SENSITIVE = ("password", "secret", "token", "authorization")
_CORE_MEMBERS = frozenset({"type", "title", "status", "detail", "code"})


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=str)


def request_id_of(conn: HTTPConnection) -> str:
    """The request id set by the request-id middleware, else the client's, else a new one."""
    rid = getattr(conn.state, "request_id", None) or conn.headers.get("x-request-id")
    if not rid:
        rid = uuid.uuid4().hex
        conn.state.request_id = rid
    return str(rid)[:64]


def problem_type(code: str) -> str:
    return f"urn:qmt-api:problem:{code.lower()}"


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: object,
) -> ProblemResponse:
    """Build a problem response; `extra` members never shadow the five core members."""
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": title or _phrase(status),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance is not None:
        body["instance"] = instance
    body.update({k: json_safe(v) for k, v in extra.items() if k not in _CORE_MEMBERS})
    return ProblemResponse(body, status_code=status, headers=dict(headers or {}))


def json_safe(value: Any) -> Any:
    """Anything -> JSON-ready; unknown objects become their str()."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        # A lone surrogate (JSON "\ud800") cannot be encoded: orjson refused the whole body.
        return value if value.isascii() else value.encode("utf-8", "backslashreplace").decode()
    if isinstance(value, int):
        # orjson refuses ints past 64 bits (a fuzzer's favourite input): echo them as text.
        return value if -(2**63) <= value < 2**64 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _redact(value: Any, key: str = "") -> Any:
    if any(s in key.lower() for s in _SENSITIVE):
        return "***"
    if isinstance(value, Mapping):
        return {str(k): _redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
    return value


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for err in exc.errors():
        # `ctx` can hold exception objects; `url` is pydantic's docs link, noise for clients.
        item = {k: v for k, v in err.items() if k not in ("ctx", "url")}
        loc = [p if isinstance(p, int) else str(p) for p in item.get("loc", ())]
        item["loc"] = loc
        if "input" in item:
            field = str(loc[-1]) if loc else ""
            # Clipped: a 10 MB string must not come back in the error (nor be logged).
            item["input"] = clip(_redact(item["input"], field))
        out.append(json_safe(item))
    return out


async def domain_error_handler(request: Request, exc: Exception) -> ProblemResponse:
    exc = cast(DomainError, exc)
    headers: dict[str, str] = {}
    extra = dict(exc.extra)
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        headers.update(exc.headers)  # X-RateLimit-Limit/Remaining/Reset (services/rate_limit)
        extra["retry_after"] = exc.retry_after
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    return problem(
        exc.status,
        exc.code,
        exc.detail,
        title=exc.title,
        instance=request.url.path,
        headers=headers,
        request_id=request_id_of(request),
        **extra,
    )


# Fields holding stock codes: a code not of the form the schema states (STOCK_CODE_PATTERN) is
# INVALID_STOCK_CODE, as a well-formed code naming no code range is (the contract's code).
_CODE_FIELDS = frozenset({"stock_code", "stock_codes", "allowed_codes", "blocked_codes"})


def _bad_code_form(err: dict[str, Any]) -> bool:
    names = {p for p in err.get("loc", []) if isinstance(p, str)}
    return err.get("type") == "string_pattern_mismatch" and bool(names & _CODE_FIELDS)


async def validation_error_handler(request: Request, exc: Exception) -> ProblemResponse:
    exc = cast(RequestValidationError, exc)
    errors = _field_errors(exc)
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", []))
    detail = f"{where}: {first.get('msg', 'invalid')}" if where else "request is invalid"
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more)"
    if errors and all(_bad_code_form(e) for e in errors):
        return problem(
            422,
            InvalidStockCode.code,
            f"{detail}; 格式应为 600519.SH / expected a form like 600519.SH",
            title=InvalidStockCode.title,
            instance=request.url.path,
            request_id=request_id_of(request),
            errors=errors,
        )
    return problem(
        422,
        "VALIDATION_ERROR",
        detail,
        title="Request validation failed",
        instance=request.url.path,
        request_id=request_id_of(request),
        errors=errors,
    )


async def http_error_handler(request: Request, exc: Exception) -> ProblemResponse:
    exc = cast(StarletteHTTPException, exc)
    code = HTTP_CODES.get(exc.status_code, f"HTTP_{exc.status_code}")
    detail = exc.detail if isinstance(exc.detail, str) else _phrase(exc.status_code)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # The router names only the first route on the path; the client needs them all.
        headers["Allow"] = ", ".join(allowed_methods(request))
    return problem(
        exc.status_code,
        code,
        detail,
        instance=request.url.path,
        headers=headers,
        request_id=request_id_of(request),
    )


def allowed_methods(request: Request) -> list[str]:
    """Every method the OpenAPI document lists for this request's path (for `Allow` on a 405):
    the document is built from every route, so it is the one place that knows them all."""
    table: list[tuple[re.Pattern[str], list[str]]] | None = getattr(
        request.app.state, "allow_table", None
    )
    if table is None:
        table = []
        for template, item in request.app.openapi().get("paths", {}).items():
            regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            methods = sorted(m.upper() for m in item if m.lower() in _HTTP_METHODS)
            table.append((re.compile(f"^{regex}$"), methods))
        request.app.state.allow_table = table
    path = request.url.path
    return sorted({m for pattern, methods in table if pattern.match(path) for m in methods})


_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


async def unhandled_error_handler(request: Request, exc: Exception) -> ProblemResponse:
    rid = request_id_of(request)
    logger.opt(exception=exc).error(
        "unhandled {} on {} {} (request_id={})",
        type(exc).__name__,
        request.method,
        request.url.path,
        rid,
    )
    return problem(
        500,
        "INTERNAL_ERROR",
        f"internal error; quote request id {rid} when reporting it",
        title="Internal server error",
        instance=request.url.path,
        # The 500 path runs outside every middleware: set the id header here.
        headers={"X-Request-ID": rid},
        request_id=rid,
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(Exception, unhandled_error_handler)
