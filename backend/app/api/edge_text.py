"""The one check of every string a request brings in (core/text.py says what is refused).

A router dependency of every /api/v1 HTTP route, so it runs once per request, before any
other dependency touches the database: the path, the query, the headers we store, the JSON
body (already parsed by FastAPI; Starlette caches it, so this reads it for free) and form
fields. A bad string is 422 VALIDATION_ERROR with the usual `errors` list, the same answer
on SQLite and PostgreSQL (PostgreSQL cannot store NUL; nothing can encode a lone surrogate).
The WebSocket stream checks its token itself with `text_error`.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError

from backend.app.core.text import bad_char, walk_strings

# Request headers whose value we keep (the journal keeps Idempotency-Key). X-Request-ID is
# replaced when it is not plain (api/middleware.py); other headers are not stored.
_STORED_HEADERS = ("idempotency-key",)
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

Loc = tuple[str | int, ...]


def text_error(loc: Loc, value: str, *, multiline: bool = False) -> dict[str, Any] | None:
    """A pydantic-style error item for `value`, or None when it is clean."""
    reason = bad_char(value, multiline=multiline)
    if reason is None:
        return None
    return {"type": "string_unsafe_character", "loc": loc, "msg": reason, "input": value}


def _errors_of(
    request: Request, *, json_body: Any = None, form: list[tuple[str, Any]] | None = None
) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []

    def check(loc: Loc, value: str, *, multiline: bool = False) -> None:
        err = text_error(loc, value, multiline=multiline)
        if err is not None:
            errors.append(err)

    scope = request.scope
    check(("path",), scope["path"])
    if scope.get("query_string"):
        for key, value in request.query_params.multi_items():
            check(("query", key), key)
            check(("query", key), value)
    for name in _STORED_HEADERS:
        stored = request.headers.get(name)
        if stored is not None:
            check(("header", name), stored)
    for key, field in form or ():
        check(("body", key), key)
        if isinstance(field, str):
            check(("body", key), field)
    for loc, value in walk_strings(json_body, ("body",)):
        # Keys and one-line fields are caught here too; a remark may span lines.
        check(loc, value, multiline=True)
    return errors


def unsafe_text(request: Request, json_body: Any = None) -> bool:
    """Whether `check_request_text` would refuse this request (api/hot_routes.py hands such a
    request to the FastAPI route, which answers the 422)."""
    return bool(_errors_of(request, json_body=json_body))


async def _errors(request: Request) -> list[dict[str, Any]]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in _FORM_TYPES:
        form = await request.form()
        return _errors_of(request, form=list(form.multi_items()))
    if ctype == "application/json" or ctype.endswith("+json"):
        return _errors_of(request, json_body=await _json(request))
    return _errors_of(request)


async def _json(request: Request) -> Any:
    if not await request.body():
        return None
    try:
        return await request.json()  # cached by Starlette when FastAPI parsed the body
    except (ValueError, UnicodeDecodeError):
        return None  # not JSON: the route's own parsing reports it


async def check_request_text(request: Request) -> None:
    """Raises:
    RequestValidationError: a string holds NUL, a lone surrogate or a control character.
    """
    errors = await _errors(request)
    if errors:
        raise RequestValidationError(errors)
