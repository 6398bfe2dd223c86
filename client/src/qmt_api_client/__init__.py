"""Typed client of the qmt-api gateway (sync `QmtClient`, async `AsyncQmtClient`).

from qmt_api_client import QmtClient
c = QmtClient("http://127.0.0.1:8000", username="alice", password="...")
o = c.place_order(stock_code="600519", side="buy", quantity=100, price="1450.00")
for ev in c.stream():
    print(ev.seq, ev.type, ev.data)
"""

from qmt_api_client.aio import AsyncQmtClient
from qmt_api_client.client import QmtClient
from qmt_api_client.errors import QmtApiError
from qmt_api_client.models import (
    Account,
    CancelResult,
    CloseResult,
    Event,
    EventPage,
    Fill,
    Order,
    Position,
    Quote,
    Status,
    Trade,
)

__all__ = [
    "Account", "AsyncQmtClient", "CancelResult", "CloseResult", "Event", "EventPage", "Fill",
    "Order", "Position", "QmtApiError", "QmtClient", "Quote", "Status", "Trade",
]  # fmt: skip
__version__ = "0.1.0"
