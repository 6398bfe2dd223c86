"""The peer beside us: qmtlink 0.1.0a22's own FastAPI app on its `MockBridge`, as a process.

qmtlink (https://github.com/ilwk/qmtlink, MIT) is another HTTP bridge for MiniQMT. Its mock
bridge does less per order than we do (no risk engine, no funds check, no matching, no
journal of the order itself): it reserves the client_order_id in a SQLite idempotency table
(INSERT, then UPDATE, each its own committed transaction), keeps the order in a dict and
publishes an event. By default the table is in memory, MockBridge's own default and the set-up
the issue's figures came from (the faster peer: nothing reaches the disk);
`--idempotency file` puts it in a file as its real bridge (XtQuantBridge) does, where each
order costs two fsync'd commits (SQLite's default rollback journal, synchronous=FULL).

The app is qmtlink's `create_app(bridge, settings)` unchanged, served the way its own runner
serves it (`uvicorn.run(app, workers=1, access_log=False)`: uvloop and httptools when present).

Nothing is installed here: `python -m bench --peer qmtlink` starts this module only when
`import qmtlink` works (`uv pip install --pre qmtlink==0.1.0a22`).

Run: `python -m bench.peer_qmtlink --port 8200 --api-key K --data-dir DIR`
"""

from __future__ import annotations

import argparse
from pathlib import Path

QMTLINK_VERSION = "0.1.0a22"
ORDER_PATH = "/api/v1/orders"
ORDERS_PATH = "/api/v1/account/orders"
ASSET_PATH = "/api/v1/account/asset"
READY_PATH = "/api/v1/health"


def main() -> None:
    import uvicorn
    from qmtlink.bridge.mock import MockBridge
    from qmtlink.config import ServerSettings
    from qmtlink.server.app import create_app

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--api-key", required=True)
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--idempotency", choices=["memory", "file"], default="memory")
    a = p.parse_args()
    a.data_dir.mkdir(parents=True, exist_ok=True)
    db = str(a.data_dir / "orders.sqlite3") if a.idempotency == "file" else ":memory:"
    settings = ServerSettings(
        host=a.host, port=a.port, api_key=a.api_key, allow_trading=True, log_level="WARNING"
    )
    app = create_app(bridge=MockBridge(idempotency_db=db), settings=settings)
    uvicorn.run(app, host=a.host, port=a.port, workers=1, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
