"""Profile the order path in-process: `uv run python -m bench.profile [--orders N] [--cprofile]`.

Builds the real app with `create_app(Settings(...))` (fresh temp SQLite, simulated broker),
runs its lifespan, and places N orders through httpx's ASGITransport with 32 concurrent
clients, under pyinstrument (default) or cProfile. No HTTP server and no socket: what is
left is the application's own cost per order (auth, validation, risk, journal, broker, JSON).
Writes bench/results/profile-<endpoint>.txt and prints the top of it.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import logging
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.servers import ADMIN_PASSWORD, ADMIN_USER, JWT_KEY

RESULTS = Path(__file__).parent / "results"
API = "/api/v1"


def _settings(tmp: Path) -> Any:
    from backend.app.core.config import Settings

    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{(tmp / 'profile.db').as_posix()}",
        data_dir=tmp / "data",
        strategy_dir=tmp / "strategies",
        jwt_secret_key=JWT_KEY,
        admin_username=ADMIN_USER,
        admin_password=ADMIN_PASSWORD,
        rate_limit_orders_per_second=0,
        sim_initial_cash="1000000000000",
        sim_seed=20240601,
    )


async def _drive(app: Any, endpoint: str, n: int, conns: int, prof: Any) -> float:
    # httpx's ASGITransport tries `import sniffio` (absent here) on every request: a client-side
    # cost that would otherwise show up as ~20% of this profile.
    import httpx._transports.asgi as httpx_asgi

    from bench.client import _generous

    httpx_asgi.is_running_trio = lambda: False
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://bench") as c,
    ):
        # The app routes stdlib logging into loguru; the client's own lines are noise here.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        r = await c.post(
            f"{API}/auth/token", data={"username": ADMIN_USER, "password": ADMIN_PASSWORD}
        )
        r.raise_for_status()
        c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        rules = (await c.get(f"{API}/trading/risk-rules")).json()
        await c.put(
            f"{API}/trading/risk-rules", json={k: _generous(k, v) for k, v in rules.items()}
        )
        inst = None
        for code in ("000001.SZ", "601988.SH", "600000.SH"):
            ri = await c.get(f"{API}/market/instruments/{code}")
            if ri.status_code == 200:
                inst = ri.json()
                break
        if inst is None:
            raise RuntimeError("no known instrument")
        body = {
            "stock_code": inst["stock_code"],
            "side": "buy",
            "quantity": int(inst.get("lot_size") or 100),
            "price": str(inst["limit_down"]),
            "order_type": "limit",
        }
        counter = iter(range(10**9))

        async def one() -> int:
            if endpoint == "order":
                rr = await c.post(
                    f"{API}/trading/order", json={**body, "client_order_id": f"p-{next(counter)}"}
                )
            elif endpoint == "orders":
                rr = await c.get(f"{API}/trading/orders?limit=100")
            else:
                rr = await c.get(f"{API}/trading/account-info")
            return rr.status_code

        # Warm-up (and 100+ orders so the list endpoint has a full page).
        for _ in range(150):
            await c.post(
                f"{API}/trading/order", json={**body, "client_order_id": f"w-{next(counter)}"}
            )
        per = n // conns

        async def worker() -> None:
            for _ in range(per):
                code = await one()
                if code >= 400:
                    raise RuntimeError(f"{endpoint}: HTTP {code}")

        prof.start()
        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(conns)))
        dt = time.perf_counter() - t0
        prof.stop()
        return per * conns / dt


class _CProf:
    def __init__(self) -> None:
        self.p = cProfile.Profile()

    def start(self) -> None:
        self.p.enable()

    def stop(self) -> None:
        self.p.disable()

    def text(self) -> str:
        s = io.StringIO()
        pstats.Stats(self.p, stream=s).sort_stats("cumulative").print_stats(60)
        s2 = io.StringIO()
        pstats.Stats(self.p, stream=s2).sort_stats("tottime").print_stats(40)
        return s.getvalue() + "\n\n" + s2.getvalue()


class _PyInstr:
    def __init__(self) -> None:
        from pyinstrument import Profiler

        self.p = Profiler(async_mode="disabled", interval=0.0005)

    def start(self) -> None:
        self.p.start()

    def stop(self) -> None:
        self.p.stop()

    def text(self) -> str:
        return str(self.p.output_text(unicode=True, color=False, show_all=False))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.profile", description=__doc__.splitlines()[0]
    )
    ap.add_argument("--endpoint", choices=["order", "orders", "account"], default="order")
    ap.add_argument("--orders", type=int, default=3000, help="requests to profile")
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--cprofile", action="store_true", help="cProfile instead of pyinstrument")
    ap.add_argument("--none", action="store_true", help="no profiler: just the in-process rate")
    a = ap.parse_args(argv)
    from backend.app.main import create_app

    tmp = Path(tempfile.mkdtemp(prefix="qmt-profile-"))
    app = create_app(_settings(tmp))

    class _Null:
        def start(self) -> None: ...
        def stop(self) -> None: ...
        def text(self) -> str:
            return ""

    prof: Any = _Null() if a.none else (_CProf() if a.cprofile else _PyInstr())
    rate = asyncio.run(_drive(app, a.endpoint, a.orders, a.conns, prof))
    head = f"{a.endpoint}: {rate:,.0f} requests/s in-process (ASGITransport, {a.conns} clients)"
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"profile-{a.endpoint}{'-cprofile' if a.cprofile else ''}.txt"
    out.write_text(head + "\n\n" + prof.text(), encoding="utf-8")
    print(head)
    print("\n".join(prof.text().splitlines()[:120]))
    print(f"\nfull profile: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
