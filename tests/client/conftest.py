"""The client's tests run against a real `qmt-api serve` (tests/client/server.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from live_server import TRADER, Server
from qmt_api_client import QmtClient


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the client's tests (starting one takes seconds); a test that kills its
    server starts its own."""
    srv = Server(tmp_path_factory.mktemp("client-srv"))
    srv.start()
    srv.add_trader()
    yield srv
    srv.stop()


@pytest.fixture
def qc(server: Server) -> Iterator[QmtClient]:
    with QmtClient(server.url, username=TRADER[0], password=TRADER[1]) as c:
        yield c
