"""Settings: the contract's environment names, defaults and parsing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from backend.app.core.config import Settings

ENV_NAMES = [
    "QMT_MODE",
    "MINIQMT_ACCOUNT_ID",
    "MINIQMT_USERDATA_PATH",
    "DATABASE_URL",
    "JWT_SECRET_KEY",
    "ADMIN_USERNAME",
    "ADMIN_PASSWORD",
    "SIM_INITIAL_CASH",
    "SIM_INITIAL_POSITIONS",
    "SIM_ENFORCE_TRADING_HOURS",
    "SIM_SEED",
    "RATE_LIMIT_ORDERS_PER_SECOND",
    "STRATEGY_DIR",
    "CORS_ORIGINS",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def test_defaults_match_the_contract() -> None:
    s = Settings(_env_file=None)
    assert s.qmt_mode == "simulated"
    assert s.is_simulated
    assert s.miniqmt_account_id == "SIM000001"
    assert s.database_url == "sqlite:///./data/qmt_api.db"
    assert s.jwt_secret_key is None
    assert s.admin_username == "admin"
    assert s.admin_password is None
    assert s.sim_initial_cash == Decimal("1000000")
    assert s.sim_initial_positions == {}
    assert s.sim_enforce_trading_hours is False
    assert s.sim_seed is None
    assert s.rate_limit_orders_per_second == 20
    assert s.strategy_dir == Path("./strategies")
    assert s.host == "127.0.0.1"
    assert s.cors_origins == []


def test_every_contract_variable_is_a_setting() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    assert set(ENV_NAMES) <= fields


def test_env_example_lists_every_setting() -> None:
    example = Path(__file__).resolve().parents[3] / ".env.example"
    text = example.read_text(encoding="utf-8")
    missing = [n.upper() for n in Settings.model_fields if f"{n.upper()}=" not in text]
    assert not missing, f".env.example lacks {missing}"


def test_reads_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIM_INITIAL_POSITIONS", "600519.SH:1000, 000001.SZ:5000,")
    monkeypatch.setenv("CORS_ORIGINS", "http://a.example, http://b.example")
    monkeypatch.setenv("SIM_SEED", "42")
    monkeypatch.setenv("RATE_LIMIT_ORDERS_PER_SECOND", "0")
    monkeypatch.setenv("SIM_ENFORCE_TRADING_HOURS", "true")
    s = Settings(_env_file=None)
    assert s.sim_initial_positions == {"600519.SH": 1000, "000001.SZ": 5000}
    assert s.cors_origins == ["http://a.example", "http://b.example"]
    assert s.sim_seed == 42
    assert s.rate_limit_orders_per_second == 0
    assert s.sim_enforce_trading_hours is True


def test_reads_dotenv_file(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("SIM_INITIAL_CASH=250000.50\nADMIN_USERNAME=root\n", encoding="utf-8")
    s = Settings(_env_file=env)
    assert s.sim_initial_cash == Decimal("250000.50")
    assert s.admin_username == "root"


@pytest.mark.parametrize("bad", ["600519.SH", "600519.SH:lots", ":100"])
def test_bad_initial_positions_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, sim_initial_positions=bad)


def test_secrets_are_not_printed() -> None:
    s = Settings(_env_file=None, jwt_secret_key="very-secret-key" * 3, admin_password="pw-123456")
    assert "very-secret-key" not in repr(s)
    assert "pw-123456" not in repr(s)


def test_live_mode_needs_secret_and_userdata(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET_KEY"):
        Settings(_env_file=None, qmt_mode="live", miniqmt_userdata_path=tmp_path)
    with pytest.raises(ValidationError, match="MINIQMT_USERDATA_PATH"):
        Settings(_env_file=None, qmt_mode="live", jwt_secret_key="k" * 32)
    ok = Settings(
        _env_file=None, qmt_mode="live", jwt_secret_key="k" * 32, miniqmt_userdata_path=tmp_path
    )
    assert not ok.is_simulated


@pytest.mark.parametrize("mode", ["simulated", "live"])
@pytest.mark.parametrize("key", ["x", "k" * 31])
def test_a_short_jwt_key_is_refused_in_every_mode(mode: str, key: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"JWT_SECRET_KEY is too short.*at least 32"):
        Settings(_env_file=None, qmt_mode=mode, jwt_secret_key=key, miniqmt_userdata_path=tmp_path)


def test_an_empty_jwt_key_means_unset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JWT_SECRET_KEY", "")
    assert Settings(_env_file=None).jwt_secret_key is None
    monkeypatch.setenv("JWT_SECRET_KEY", "  ")
    assert Settings(_env_file=None).jwt_secret_key is None
    # ... so live mode refuses it as it refuses an unset key.
    with pytest.raises(ValidationError, match="live mode needs JWT_SECRET_KEY"):
        Settings(_env_file=None, qmt_mode="live", miniqmt_userdata_path=tmp_path)


def test_serve_refuses_a_short_key_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from backend.app.cli import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JWT_SECRET_KEY", "x")
    result = CliRunner().invoke(app, ["serve", "--port", "1"])
    assert result.exit_code == 2
    assert "JWT_SECRET_KEY is too short" in result.output


@pytest.mark.parametrize(
    ("field", "value"), [("rate_limit_orders_per_second", -1), ("jwt_expire_minutes", 0)]
)
def test_out_of_range_values_are_refused(field: str, value: int) -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, **{field: value})


def test_settings_are_frozen() -> None:
    s = Settings(_env_file=None)
    with pytest.raises(ValidationError):
        s.qmt_mode = "live"  # type: ignore[misc]
