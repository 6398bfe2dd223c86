"""loguru for everything: our logs, stdlib loggers (uvicorn, sqlalchemy, alembic) routed in.

A patcher runs on every record before any sink sees it and masks passwords, secrets,
bearer tokens and JWTs, in the message and in bound `extra` values, and escapes CR, LF and
other control characters there, so one record is one line whatever a client sent.
"""

from __future__ import annotations

import inspect
import logging
import re
import sys
from typing import TYPE_CHECKING, Any

from loguru import logger

from backend.app.core.config import Settings
from backend.app.core.text import escape_for_log

if TYPE_CHECKING:
    from loguru import Record

_MASK = "***"
_SENSITIVE_WORDS = r"(?:password|passwd|pwd|secret|token|access_token|api[_-]?key|authorization)"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*"), _MASK),  # any JWT
    (re.compile(r"(?i)\b(bearer)\s+[\w.~+/=-]+"), rf"\1 {_MASK}"),
    (
        re.compile(
            rf"(?i)([\"']?\b\w*{_SENSITIVE_WORDS}\w*[\"']?\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s,&;}}]+)"
        ),
        rf"\1{_MASK}",
    ),
)
_SECRET_KEY = re.compile(_SENSITIVE_WORDS, re.IGNORECASE)


def redact(text: str) -> str:
    """Mask anything in `text` that looks like a password, secret or token."""
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


def _redact_value(key: str, value: Any) -> Any:
    if _SECRET_KEY.search(key):
        return _MASK
    if isinstance(value, str):
        return escape_for_log(redact(value))
    if isinstance(value, dict):
        return {k: _redact_value(str(k), v) for k, v in value.items()}
    return value


def _patch(record: Record) -> None:
    # One record, one line: a client's CR/LF (a path, a username) cannot forge a log line.
    record["message"] = escape_for_log(redact(record["message"]))
    extra = record["extra"]
    for key in list(extra):
        extra[key] = _redact_value(key, extra[key])


class InterceptHandler(logging.Handler):
    """Send stdlib records to loguru, keeping the caller's location."""

    def emit(self, record: logging.LogRecord) -> None:
        level: str | int
        try:
            level = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        frame, depth = inspect.currentframe(), 0
        while frame and (depth == 0 or frame.f_code.co_filename == logging.__file__):
            frame = frame.f_back
            depth += 1
        logger.opt(depth=depth, exception=record.exc_info).log(level, record.getMessage())


class _ExplainedStartupFailure(logging.Filter):
    """Drops uvicorn's copy of a lifespan traceback whose cause the lifespan already logged in
    one clear line (the simulated books held by another process): the traceback only buried it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "SimBooksLocked" not in record.getMessage()


_TEXT_FORMAT = (
    "<green>{time:YYYY-MM-DD HH:mm:ss.SSS}</green> | <level>{level: <8}</level> | "
    "<cyan>{name}</cyan>:<cyan>{line}</cyan> - <level>{message}</level>"
)
_configured: tuple[str, bool] | None = None


def setup_logging(settings: Settings, *, force: bool = False) -> None:
    """Configure loguru once per process (again only when level/format change or `force`)."""
    global _configured
    key = (settings.log_level.upper(), settings.log_json)
    if _configured == key and not force:
        return
    logger.remove()
    logger.configure(patcher=_patch)
    logger.add(
        sys.stderr,
        level=key[0],
        serialize=settings.log_json,
        format="{message}" if settings.log_json else _TEXT_FORMAT,
        backtrace=False,
        diagnose=False,  # diagnose would print local variables: passwords among them
    )
    # The stdlib drops records below our level before building them. Level 0 would also make
    # uvicorn wrap the app in its TRACE MessageLoggerMiddleware: several records per request.
    logging.basicConfig(handlers=[InterceptHandler()], level=logger.level(key[0]).no, force=True)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "fastapi", "alembic"):
        std = logging.getLogger(name)
        std.handlers = []
        std.propagate = True
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    # Alembic's INFO lines ("Context impl SQLiteImpl", ...) printed on every command; migrate.py
    # logs one line of its own when a migration actually ran.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logger.level(key[0]).no))
    uvicorn_error = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _ExplainedStartupFailure) for f in uvicorn_error.filters):
        uvicorn_error.addFilter(_ExplainedStartupFailure())
    _configured = key
