"""The `qmt-api` console script, run in-process with typer's runner."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.app.cli import app, is_loopback, port_taken
from backend.app.core.security import verify_password
from backend.app.db.repositories import users as users_repo
from backend.app.db.session import Database
from backend.app.db.tables import Order

runner = CliRunner()


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout
    url = f"sqlite:///{(tmp_path / 'cli.db').as_posix()}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.delenv("QMT_MODE", raising=False)
    return url


def test_user_add_reads_password_from_stdin(db_url: str) -> None:
    r = runner.invoke(app, ["user", "add", "ann", "--role", "trader", "--password-stdin"],
                      input="ann-pass-123\n")  # fmt: skip
    assert r.exit_code == 0, r.output
    db = Database(db_url)
    user = db.call(lambda s: users_repo.get(s, "ann"))
    db.dispose()
    assert user is not None
    assert user.role == "trader"
    assert verify_password("ann-pass-123", user.password_hash)


def test_user_add_prompts_when_not_piped(db_url: str) -> None:
    r = runner.invoke(app, ["user", "add", "bo", "--role", "viewer"], input="bo-pass-123\n" * 2)
    assert r.exit_code == 0, r.output


def test_user_add_duplicate_and_short_password_fail(db_url: str) -> None:
    args = ["user", "add", "cy", "--role", "admin", "--password-stdin"]
    assert runner.invoke(app, args, input="cy-pass-123\n").exit_code == 0
    dup = runner.invoke(app, args, input="cy-pass-123\n")
    assert dup.exit_code == 1
    assert "CONFLICT" in dup.output
    short = runner.invoke(app, ["user", "add", "dee", "--password-stdin"], input="abc\n")
    assert short.exit_code == 2


def test_user_add_unknown_role_is_refused(db_url: str) -> None:
    r = runner.invoke(
        app, ["user", "add", "eve", "--role", "root", "--password-stdin"], input="x\n"
    )
    assert r.exit_code != 0


def test_db_upgrade_reports_head_revision(db_url: str) -> None:
    versions = Path(__file__).parents[2] / "backend/app/db/migrations/versions"
    head = max(p.name.split("_", 1)[0] for p in versions.glob("[0-9]*_*.py"))
    r = runner.invoke(app, ["db", "upgrade"])
    assert r.exit_code == 0, r.output
    assert head in r.output


def test_sim_reset_clears_the_journal(db_url: str, tmp_path: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    db = Database(db_url)
    now = datetime.now(UTC)
    db.call(lambda s: s.add(Order(
        account_id="SIM000001", client_order_id="c1", request_hash="h", stock_code="600519.SH",
        side="buy", order_type="limit", price_type=11, quantity=100, status="filled",
        created_at=now, updated_at=now)))  # fmt: skip
    books = tmp_path / "data" / "sim" / "qmt_sim.sqlite3"
    books.parent.mkdir(parents=True)
    books.write_bytes(b"")
    r = runner.invoke(app, ["sim", "reset", "--yes"])
    assert r.exit_code == 0, r.output
    assert db.call(lambda s: s.query(Order).count()) == 0
    db.dispose()
    assert not books.exists()


def test_sim_reset_refuses_live(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("QMT_MODE", "live")
    monkeypatch.setenv("JWT_SECRET_KEY", "k" * 32)
    monkeypatch.setenv("MINIQMT_USERDATA_PATH", str(tmp_path))
    assert runner.invoke(app, ["sim", "reset", "--yes"]).exit_code == 1


def test_invalid_settings_exit_2(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QMT_MODE", "live")
    r = runner.invoke(app, ["db", "upgrade"])
    assert r.exit_code == 2


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("0.0.0.0", False),  # noqa: S104
     ("192.168.1.5", False), ("example.com", False)],
)  # fmt: skip
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_serve_refuses_a_taken_port_before_starting_the_app(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvicorn runs start-up before binding: a taken port must stop us before it."""
    import socket

    import uvicorn

    started: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: started.append(kw))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert port_taken("127.0.0.1", port) is not None
        r = runner.invoke(app, ["serve", "--port", str(port)])
    assert r.exit_code == 1
    assert f"127.0.0.1:{port}" in r.output
    assert started == []
    free = runner.invoke(app, ["serve", "--port", str(port)])
    assert free.exit_code == 0, free.output
    assert len(started) == 1
    assert started[0]["port"] == port
