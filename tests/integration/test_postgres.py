"""The order-path service tests again, on PostgreSQL (marker `postgres`; skipped without it)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from backend.app.core.config import Settings
from backend.app.db.tables import Base

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "api"))
sys.path.insert(0, str(HERE.parent / "unit" / "services"))

from test_orders import (  # noqa: E402
    app,
    test_cancel_resting_order_is_202_then_cancelled,
    test_concurrent_duplicates_place_once,
    test_place_limit_buy_is_201_pending_then_filled_with_fills,
    test_same_client_order_id_other_content_is_409,
    test_same_client_order_id_same_content_is_200_same_order,
)
from test_trading_service import (  # noqa: E402
    test_fills_are_recorded_once_and_even_after_a_final_status,
    test_illegal_broker_push_is_recorded_and_ignored,
    test_reconcile_rejects_a_pending_order_the_broker_never_saw,
    trading,
)

pytestmark = pytest.mark.postgres

__all__ = [
    "app",
    "test_cancel_resting_order_is_202_then_cancelled",
    "test_concurrent_duplicates_place_once",
    "test_fills_are_recorded_once_and_even_after_a_final_status",
    "test_illegal_broker_push_is_recorded_and_ignored",
    "test_place_limit_buy_is_201_pending_then_filled_with_fills",
    "test_reconcile_rejects_a_pending_order_the_broker_never_saw",
    "test_same_client_order_id_other_content_is_409",
    "test_same_client_order_id_same_content_is_200_same_order",
    "trading",
]


@pytest.fixture
def settings(settings_factory: Callable[..., Settings], pg_url: str) -> Iterator[Settings]:
    """The shared test schema, emptied after each test (users included)."""
    yield settings_factory(database_url=pg_url)
    engine = create_engine(pg_url)
    try:
        with engine.begin() as c:
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            c.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()
