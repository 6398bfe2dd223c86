"""Settings: one flat pydantic-settings class, because API.md fixes the environment names.

Tests build `Settings(_env_file=None, ...)` and hand it to `create_app`; nothing reads the
environment at import time.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# HS256 keys shorter than this can be brute-forced from one token (a 1-char key was, in minutes).
JWT_SECRET_MIN_CHARS = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    # --- broker -------------------------------------------------------------------------
    qmt_mode: Literal["simulated", "live"] = "simulated"
    miniqmt_account_id: str = "SIM000001"
    miniqmt_userdata_path: Path | None = None
    miniqmt_session_id: int | None = Field(default=None, gt=0)  # base of 8 reused session ids
    miniqmt_account_type: Literal["STOCK", "CREDIT"] = "STOCK"  # CREDIT: margin (两融) account
    calendar_file: Path | None = None  # extra closures, one YYYY-MM-DD per line

    # --- storage ------------------------------------------------------------------------
    database_url: str = "sqlite:///./data/qmt_api.db"
    data_dir: Path = Path("./data")  # simulator books, charts, run artefacts

    # --- auth ---------------------------------------------------------------------------
    # None (or empty) -> simulated: a key generated once and kept in DATA_DIR, with a warning;
    # live: refused. Shorter than JWT_SECRET_MIN_CHARS: refused in every mode.
    jwt_secret_key: SecretStr | None = None
    jwt_expire_minutes: int = Field(default=60 * 12, gt=0)
    admin_username: str = "admin"
    admin_password: SecretStr | None = None  # None -> generated and printed once

    # --- simulator ----------------------------------------------------------------------
    sim_initial_cash: Decimal = Decimal("1000000")
    sim_initial_positions: Annotated[dict[str, int], NoDecode] = Field(default_factory=dict)
    sim_enforce_trading_hours: bool = False
    sim_seed: int | None = None
    sim_commission_rate: Decimal = Decimal("0.00025")
    sim_commission_min: Decimal = Decimal("5")

    # --- limits and operations ----------------------------------------------------------
    rate_limit_orders_per_second: float = Field(default=20, ge=0)
    rate_limit_logins_per_minute: int = Field(default=10, ge=0)
    redis_url: str | None = None
    # How often each process re-reads the kill switch and risk rules that another process
    # sharing the database may have changed (one small SELECT); Redis makes it immediate.
    risk_state_refresh_seconds: float = Field(default=1.0, gt=0, le=3600)
    # Days the event log (the stream's `seq`, resumable with `since`) is kept; 0 = forever.
    event_retention_days: float = Field(default=7, ge=0)
    metrics_enabled: bool = True
    metrics_token: SecretStr | None = None  # set -> /metrics needs `Bearer <token>`
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_json: bool = False

    # --- the edge (docs/operations.md, "security model") ----------------------------------
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)  # larger bodies get 413
    # A client must send its request head within this, and each body chunk within the other,
    # else the connection is dropped (408 for a stalled body); idle keep-alive connections close.
    header_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    body_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    keep_alive_timeout_seconds: int = Field(default=5, ge=1, le=300)
    # Connections still sending their request head, at most; past it new ones are closed at once.
    max_incomplete_connections: int = Field(default=200, ge=1)
    # Open connections (and WebSocket streams) at most; past it uvicorn answers 503.
    max_connections: int = Field(default=1000, ge=1)

    # --- strategies ---------------------------------------------------------------------
    strategy_dir: Path = Path("./strategies")

    @field_validator("sim_initial_positions", mode="before")
    @classmethod
    def _parse_positions(cls, v: object) -> object:
        """Accept `600519.SH:1000,000001.SZ:5000` as the contract writes it."""
        if isinstance(v, str):
            out: dict[str, int] = {}
            for part in (p.strip() for p in v.split(",")):
                if not part:
                    continue
                code, sep, qty = part.rpartition(":")
                if not sep or not code.strip():
                    raise ValueError(f"SIM_INITIAL_POSITIONS entry {part!r} is not CODE:QUANTITY")
                out[code.strip()] = int(qty)
            return out
        return v

    @field_validator("miniqmt_account_type", mode="before")
    @classmethod
    def _upper_account_type(cls, v: object) -> object:
        return v.strip().upper() if isinstance(v, str) else v

    @field_validator("jwt_secret_key", "metrics_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, v: object) -> object:
        if isinstance(v, str) and not v.strip():
            return None
        if isinstance(v, SecretStr) and not v.get_secret_value().strip():
            return None
        return v

    @field_validator("jwt_secret_key")
    @classmethod
    def _key_long_enough(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and len(v.get_secret_value()) < JWT_SECRET_MIN_CHARS:
            raise ValueError(
                f"JWT_SECRET_KEY 太短（{len(v.get_secret_value())} 个字符，至少 "
                f"{JWT_SECRET_MIN_CHARS}）/ JWT_SECRET_KEY is too short: "
                f"{len(v.get_secret_value())} characters, at least {JWT_SECRET_MIN_CHARS}; "
                'make one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        return v

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _parse_origins(cls, v: object) -> object:
        if isinstance(v, str):
            return [o.strip() for o in v.split(",") if o.strip()]
        return v

    @model_validator(mode="after")
    def _live_needs_real_config(self) -> Self:
        if self.qmt_mode == "live":
            missing = [
                name
                for name, value in (
                    ("JWT_SECRET_KEY", self.jwt_secret_key),
                    ("MINIQMT_USERDATA_PATH", self.miniqmt_userdata_path),
                )
                if value is None
            ]
            if missing:
                raise ValueError(f"live mode needs {' and '.join(missing)}")
        return self

    @property
    def is_simulated(self) -> bool:
        return self.qmt_mode == "simulated"
