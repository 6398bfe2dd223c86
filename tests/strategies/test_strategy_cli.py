"""`qmt-api strategy run`: a backtest from a terminal prints the figures and the chart path."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.app.cli import app

SCRIPT = """
def handlebar(C):
    if C.barpos == 0:
        passorder(23, 1101, account, C.stock_code, 5, 0, qty, C)
"""


def test_cli_backtest_prints_result_table_and_chart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for key, value in {"DATA_DIR": str(tmp_path / "data"), "SIM_SEED": "5",
                       "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    (tmp_path / "buy.py").write_text(SCRIPT, encoding="utf-8")
    (tmp_path / "bars.csv").write_text(
        "time,open,high,low,close,volume\n2024-01-02,10,10,10,10,1\n2024-01-03,10,11,10,11,1\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, [
        "strategy", "run", str(tmp_path / "buy.py"), "--mode", "backtest", "--codes", "600000.SH",
        "--csv", str(tmp_path / "bars.csv"), "-p", "qty=200",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    # Buy 200 @ 10: fees 5.00 + 0.02; day 2 marks 200 @ 11.
    assert "1,000,194.98" in result.output
    charts = list((tmp_path / "data" / "strategy_runs").glob("cli-buy-*.png"))
    assert len(charts) == 1
    assert charts[0].name in result.output.replace("\n", "")


def test_cli_rejects_bad_param_and_mode(tmp_path: Path) -> None:
    (tmp_path / "buy.py").write_text(SCRIPT, encoding="utf-8")
    bad = CliRunner().invoke(app, ["strategy", "run", str(tmp_path / "buy.py"), "-p", "novalue"])
    assert bad.exit_code == 2
    mode = CliRunner().invoke(app, ["strategy", "run", str(tmp_path / "buy.py"), "--mode", "x"])
    assert mode.exit_code == 2
