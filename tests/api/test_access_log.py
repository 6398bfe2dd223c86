"""Finding 4 of issue 14: a client cannot write a line of its own into the log."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from loguru import logger

from backend.app.core.config import Settings
from backend.app.core.logging import setup_logging

FORGED = "2020-01-01 13:31:00.000 | WARNING  | FORGED"


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory(log_level="INFO")


@pytest.fixture
def log_lines(client: TestClient) -> Iterator[list[str]]:
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), level="INFO")  # the default text format
    yield lines
    logger.remove(sink)
    setup_logging(Settings(_env_file=None, log_level="WARNING"), force=True)


@pytest.mark.parametrize("sep", ["%0A", "%0D%0A", "%0D"])
def test_a_forged_line_in_the_path_stays_inside_one_access_line(
    client: TestClient, log_lines: list[str], sep: str
) -> None:
    r = client.get(f"/nonexistent{sep}{FORGED}")
    assert r.status_code == 404
    text = "".join(log_lines)
    assert text.count("\n") == len(log_lines)  # each record ends its one line
    (line,) = [x for x in log_lines if " - access GET /nonexistent" in x]
    assert "FORGED 404" in line
    assert "access GET /nonexistent\\" in line
    assert "\n2020-01-01" not in text
    assert "\r" not in text
