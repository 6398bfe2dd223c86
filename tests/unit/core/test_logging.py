"""Logs never carry passwords or tokens."""

from __future__ import annotations

import logging

import pytest
from loguru import logger

from backend.app.core.config import Settings
from backend.app.core.logging import redact, setup_logging

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    "text",
    [
        "login password=hunter2 from 1.2.3.4",
        'body {"password": "hunter2"}',
        "Authorization: Bearer hunter2",
        f"token {JWT}",
        "JWT_SECRET_KEY=hunter2",
        "admin_password: 'hunter2'",
    ],
)
def test_redact_masks_secrets(text: str) -> None:
    out = redact(text)
    assert "hunter2" not in out
    assert JWT not in out


def test_redact_keeps_ordinary_text() -> None:
    assert redact("order 12 filled 100 @ 10.50") == "order 12 filled 100 @ 10.50"


def test_sinks_and_stdlib_are_redacted() -> None:
    setup_logging(Settings(_env_file=None, log_level="DEBUG"), force=True)
    seen: list[str] = []
    sink = logger.add(lambda m: seen.append(str(m)), level="DEBUG", format="{message} {extra}")
    try:
        logger.bind(password="hunter2").info("user login password=hunter2")
        logging.getLogger("uvicorn.error").warning("Bearer %s", JWT)
    finally:
        logger.remove(sink)
        setup_logging(Settings(_env_file=None, log_level="WARNING"), force=True)
    joined = "\n".join(seen)
    assert len(seen) == 2
    assert "hunter2" not in joined
    assert JWT not in joined


def test_a_record_is_one_line_whatever_it_quotes() -> None:
    setup_logging(Settings(_env_file=None, log_level="DEBUG"), force=True)
    seen: list[str] = []
    sink = logger.add(lambda m: seen.append(str(m)), level="DEBUG", format="{message} {extra}")
    try:
        logger.bind(who="ann\r\nWARNING | FORGED").info(
            "user {}", "x\n2026-12-01 | ERROR | \x1b[2J"
        )
    finally:
        logger.remove(sink)
        setup_logging(Settings(_env_file=None, log_level="WARNING"), force=True)
    assert len(seen) == 1
    line = seen[0].rstrip("\n")
    for raw in ("\n", "\r", "\x1b"):
        assert raw not in line
    assert "x\\n2026-12-01 | ERROR | \\x1b[2J" in line
    assert "FORGED" in line  # the bound value, escaped, on the same line
