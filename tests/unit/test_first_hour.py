"""The first hour of a new user (issue 17): what the terminal and the log say when something is
not as the quickstart promised."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from loguru import logger
from typer.testing import CliRunner

from backend.app.cli import app as cli
from backend.app.cli.strategy import _print_log
from backend.app.core.config import Settings
from backend.app.main import create_app
from backend.app.services.strategies import chart
from backend.app.services.strategies.qmt_api import RunLog

PRINTS_30_LINES = """
def handlebar(C):
    for i in range(15):
        print(f"bar {C.barpos} line {C.barpos * 15 + i}")
"""


def test_an_ignored_admin_password_is_said_in_the_log(
    settings_factory: Callable[..., Settings],
) -> None:
    settings = settings_factory(log_level="INFO")
    with TestClient(create_app(settings)):
        pass  # the first start creates admin with ADMIN_PASSWORD
    lines: list[str] = []
    second = create_app(settings_factory(log_level="INFO", admin_password="another-pass-456"))
    sink = logger.add(lambda m: lines.append(str(m)), level="WARNING")
    try:
        with TestClient(second):
            pass
    finally:
        logger.remove(sink)
    ignored = [ln for ln in lines if "ADMIN_PASSWORD" in ln]
    assert len(ignored) == 1
    assert "已有用户" in ignored[0]
    assert "ignored" in ignored[0]
    assert "another-pass-456" not in ignored[0]


def test_no_line_when_there_was_nothing_to_ignore(
    settings_factory: Callable[..., Settings],
) -> None:
    lines: list[str] = []
    app = create_app(settings_factory(log_level="INFO"))
    sink = logger.add(lambda m: lines.append(str(m)), level="WARNING")
    try:
        with TestClient(app):
            pass
    finally:
        logger.remove(sink)
    assert not [ln for ln in lines if "ADMIN_PASSWORD" in ln]


def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for key, value in {"DATA_DIR": str(tmp_path / "data"), "SIM_SEED": "5", "LOG_LEVEL": "INFO",
                       "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}.items():  # fmt: skip
        monkeypatch.setenv(key, value)


def test_the_cli_backtest_shows_every_log_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch, tmp_path)
    (tmp_path / "chatty.py").write_text(PRINTS_30_LINES, encoding="utf-8")
    (tmp_path / "bars.csv").write_text(
        "time,open,high,low,close,volume\n2024-01-02,10,10,10,10,1\n2024-01-03,10,11,10,11,1\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, [
        "strategy", "run", str(tmp_path / "chatty.py"), "--mode", "backtest",
        "--codes", "600000.SH", "--csv", str(tmp_path / "bars.csv"),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    for i in range(30):  # it used to show the last 20
        assert f"line {i}\n" in result.output


def test_when_old_log_lines_were_dropped_the_cli_says_how_many(
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = RunLog(limit=3)
    for i in range(5):
        log.write(f"line {i}")
    _print_log(log)
    out = capsys.readouterr().out
    assert "日志共 5 行，仅显示最近 3 行" in out
    assert "line 1\n" not in out
    assert "line 2\n" in out
    assert "line 4\n" in out


def test_cli_commands_print_no_alembic_info_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch, tmp_path)
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "alembic" not in result.output
    assert "Context impl" not in result.output
    again = CliRunner().invoke(cli, ["db", "upgrade"])
    assert "database schema upgraded" not in again.output  # nothing ran: nothing to say


def test_the_chart_is_replaced_whole_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "runs" / "1.png"
    curve: list[list[object]] = [
        ["2024-01-02T15:00:00+08:00", 100.0],
        ["2024-01-03T15:00:00+08:00", 110.0],
    ]
    chart.render(path, "t", curve, 100.0)
    first = path.read_bytes()
    assert first.startswith(b"\x89PNG")

    from matplotlib.figure import Figure

    def torn(self: Figure, fname: Path, **_: object) -> None:
        Path(fname).write_bytes(b"\x89PNG half")  # the run dies half-way through the write
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", torn)
    with pytest.raises(OSError, match="disk full"):
        chart.render(path, "t", curve, 100.0)
    assert path.read_bytes() == first  # readers still get the whole previous picture
    assert sorted(p.name for p in path.parent.iterdir()) == ["1.png"]  # no temporary left
