"""Use cases, grouped by domain. Each package owns one part of the product:

- `orders/`     placing, cancelling and reading orders and fills: validation, the journal, the
                single writer of order state (updater), reconciliation, the order/trade JSON shape,
                bulk actions, and the account's foreign orders (read-only).
- `broker/`     the one broker seam: QMTService (one Trader, one account), the callback bridge,
                reconnect and submit settlement, and xt_mapping (xtquant ints/records → domain).
- `risk/`       pre-trade rules and the kill switch, what they read (inputs), how every process
                shares them (sync), and the request rate limits.
- `accounts/`   users, sessions and the audit trail.
- `market.py`   market data for the /market endpoints; `calendar.py` the trading calendar.
- `event_log.py` the durable, ordered event log (`seq`) behind the stream and /trading/events;
                `events.py` the in-process pub/sub that delivers it live.
- `strategies/` the stgentry role: QMT-style scripts, backtest and trade runs.

Dependencies point one way: orders → risk, broker, accounts; nothing here imports `api/`.
"""
