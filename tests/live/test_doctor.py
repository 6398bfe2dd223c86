"""`qmt-api doctor` and `qmt-api smoke --live` against the fake xtquant."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from backend.app.cli import app
from tests.live.test_qmt_service_live import _seed_market

runner = CliRunner()


@pytest.fixture
def env(fake_xtquant: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    _seed_market()
    monkeypatch.chdir(tmp_path)  # no stray .env
    userdata = tmp_path / "userdata_mini"
    userdata.mkdir()
    (userdata / "up_queue_xtquant").touch()
    return {
        "MINIQMT_USERDATA_PATH": str(userdata),
        "MINIQMT_ACCOUNT_ID": fake_xtquant.account_id,
        "QMT_MODE": "live",  # no JWT_SECRET_KEY: the checks need none
    }


def test_doctor_reports_every_check_in_both_languages(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["doctor", "--timeout", "3"], env=env)
    assert result.exit_code == 0, result.output
    for needle in ("userdata_mini", "up_queue_xtquant", "connect", "subscribe", "资产查询",
                   "xtdata", "fake_250807"):  # fmt: skip
        assert needle in result.output
    assert "[FAIL]" not in result.output


def test_doctor_names_a_missing_api_permission_and_a_hung_terminal(
    env: dict[str, str], fake_xtquant: Any
) -> None:
    (Path(env["MINIQMT_USERDATA_PATH"]) / "up_queue_xtquant").unlink()
    fake_xtquant.hung = True
    result = runner.invoke(app, ["doctor", "--timeout", "0.5"], env=env)
    assert result.exit_code == 1
    assert "[FAIL] up_queue_xtquant" in result.output
    assert "未开通" in result.output
    assert "[FAIL] 订阅账户" in result.output  # subscribe never answered; doctor did not hang


def test_smoke_needs_live_and_confirmation(env: dict[str, str], fake_xtquant: Any) -> None:
    assert runner.invoke(app, ["smoke"], env=env).exit_code != 0
    refused = runner.invoke(app, ["smoke", "--live"], env=env, input="n\n")
    assert refused.exit_code != 0
    assert fake_xtquant.order_calls == []


def test_smoke_places_cancels_and_reports_the_states(
    env: dict[str, str], fake_xtquant: Any
) -> None:
    result = runner.invoke(app, ["smoke", "--live", "--timeout", "3"], env=env, input="y\n")
    assert result.exit_code == 0, result.output
    assert "50 -> 51 -> 54" in result.output
    ((_, remark),) = fake_xtquant.order_calls
    assert remark == "qmt-smoke"
    (order,) = fake_xtquant.orders.values()
    assert order.order_volume == 100
    assert order.price < 4.0  # under the last price: it could not trade
