"""SQLAlchemy 2 tables. Portable between SQLite and PostgreSQL: no dialect-only types.

Money columns are `Numeric(20, 4)` read back as Decimal; times are stored in UTC and always
read back timezone-aware (SQLite keeps no offset, so `UTCDateTime` restores it in one place).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Money = Numeric(20, 4, asdecimal=True)
# SQLite has no BIGINT autoincrement; this keeps INTEGER PRIMARY KEY there and BIGINT on PG.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime on every database: written as UTC, read back with tzinfo=UTC.

    SQLite stores the wall-clock fields without an offset, so a +08:00 value written as-is
    would come back shifted by eight hours; converting on the way in prevents that.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime written to the database; use an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        """On SQLite, text straight to an aware datetime in one step: the generic path (the
        dialect's parser, then `process_result_value`) was ~30% of a 100-order page's
        database time (docs/performance.md, round 2)."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        parse = datetime.fromisoformat

        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            d = parse(value)
            return d.replace(tzinfo=UTC) if d.tzinfo is None else d.astimezone(UTC)

        return process


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        Decimal: Money,
    }


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped when a user is disabled or their role lowered: tokens carry it and die with it.
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Order(Base):
    """The journal: a row is committed as `pending` before the broker hears of it."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("account_id", "client_order_id", name="uq_orders_account_client_id"),
        Index("ix_orders_account_status", "account_id", "status"),
        Index("ix_orders_account_broker_id", "account_id", "broker_order_id"),
        Index("ix_orders_account_created", "account_id", "created_at"),
        # Pages are newest-first by id: without this SQLite sorts every order of the account.
        Index("ix_orders_account_id", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(64))
    client_order_id: Mapped[str] = mapped_column(String(64))
    # Hash of the order's content: the same key with other content is a 409.
    request_hash: Mapped[str] = mapped_column(String(64))
    broker_order_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    broker_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    stock_code: Mapped[str] = mapped_column(String(16))
    stock_name: Mapped[str] = mapped_column(String(64), default="")
    side: Mapped[str] = mapped_column(String(8))
    order_type: Mapped[str] = mapped_column(String(8))
    price_type: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    quantity: Mapped[int] = mapped_column(BigInteger)
    filled_quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    avg_fill_price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    status: Mapped[str] = mapped_column(String(24))
    status_msg: Mapped[str] = mapped_column(Text, default="")
    broker_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    strategy_name: Mapped[str] = mapped_column(String(64), default="")
    remark: Mapped[str] = mapped_column(String(255), default="")
    username: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Trade(Base):
    """Fills are facts: one row per broker trade id, recorded once."""

    __tablename__ = "trades"
    __table_args__ = (
        UniqueConstraint("account_id", "broker_trade_id", name="uq_trades_account_trade_id"),
        Index("ix_trades_order", "order_id"),
        Index("ix_trades_account_id", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(64))
    broker_trade_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), nullable=True)
    broker_order_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    stock_code: Mapped[str] = mapped_column(String(16))
    side: Mapped[str] = mapped_column(String(8))
    price: Mapped[Decimal]
    quantity: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[Decimal]
    commission: Mapped[Decimal]
    traded_at: Mapped[datetime]


class OrderEvent(Base):
    """Every status move of an order (and every refused one), for the order's history."""

    __tablename__ = "order_events"
    __table_args__ = (Index("ix_order_events_order", "order_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    old_status: Mapped[str | None] = mapped_column(String(24), nullable=True)
    new_status: Mapped[str] = mapped_column(String(24))
    broker_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class AuditEntry(Base):
    """Who did what, when, from where, with which outcome (GET /trading/audit)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_created", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(48))  # order.place, order.cancel, risk.update…
    target: Mapped[str] = mapped_column(String(128), default="")
    outcome: Mapped[str] = mapped_column(String(32))  # ok, rejected, error
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    client_ip: Mapped[str] = mapped_column(String(64), default="")
    request_id: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime]


class Setting(Base):
    """Small persisted switches as JSON: risk rules, the kill switch."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class StrategyRun(Base):
    __tablename__ = "strategy_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    strategy: Mapped[str] = mapped_column(String(128))
    mode: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    username: Mapped[str] = mapped_column(String(64), default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class EventRecord(Base):
    """The durable event log: every event the stream publishes, in commit order.

    `seq` only grows (AUTOINCREMENT on SQLite, so pruning the newest rows never lets a number
    come back); the stream replays `seq > since` from here after a reconnect.
    """

    __tablename__ = "event_log"
    __table_args__ = (
        Index("ix_event_log_account_seq", "account_id", "seq"),
        Index("ix_event_log_created", "created_at"),
        {"sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(16))  # order, trade, position, asset, connection
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
