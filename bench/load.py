"""Load generators: wrk (with a Lua script) where installed, else an asyncio+httpx fallback.

Both return a `LoadResult`; every run is bounded in time (and optionally in count).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

LUA_DIR = Path(__file__).parent / "lua"


@dataclass
class LoadResult:
    generator: str
    connections: int
    requests: int
    duration_s: float
    rps: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    errors: int  # non-2xx answers plus socket errors

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def wrk_path() -> str | None:
    return None if os.environ.get("BENCH_FORCE_FALLBACK") else shutil.which("wrk")


def generator_name() -> str:
    if wrk_path():
        return "wrk"
    return "fallback: asyncio+httpx (wrk not found; figures are lower-bound)"


def run_load(
    base: str,
    path: str,
    *,
    method: str,
    connections: int,
    duration_s: float,
    token: str = "",
    body: str = "",
    run_id: str = "r",
    max_requests: int = 0,
    auth_header: str = "Authorization",
) -> LoadResult:
    """Drive `base+path` with `connections` keep-alive connections for `duration_s` seconds.

    For POST, `body` holds `__COID__`, replaced by a unique client_order_id per request.
    `max_requests` (0 = unbounded) stops early once that many answers arrived. `token` goes
    in `auth_header`: as `Bearer <token>` in Authorization, as is in any other header (the
    peer's X-API-Key).
    """
    auth = ""
    if token:
        auth = f"Bearer {token}" if auth_header.lower() == "authorization" else token
    exe = wrk_path()
    if exe:
        return _run_wrk(
            exe,
            base,
            path,
            method=method,
            connections=connections,
            duration_s=duration_s,
            auth=(auth_header, auth),
            body=body,
            run_id=run_id,
            max_requests=max_requests,
        )
    return asyncio.run(
        _run_httpx(
            base,
            path,
            method=method,
            connections=connections,
            duration_s=duration_s,
            auth=(auth_header, auth),
            body=body,
            run_id=run_id,
            max_requests=max_requests,
        )
    )


def _run_wrk(
    exe: str,
    base: str,
    path: str,
    *,
    method: str,
    connections: int,
    duration_s: float,
    auth: tuple[str, str],
    body: str,
    run_id: str,
    max_requests: int,
) -> LoadResult:
    # One wrk thread: on a 2-core box the other core belongs to the server under test.
    script = LUA_DIR / ("post_order.lua" if method == "POST" else "get.lua")
    env = dict(
        os.environ,
        BENCH_PATH=path,
        BENCH_AUTH_NAME=auth[0],
        BENCH_AUTH_VALUE=auth[1],
        BENCH_BODY=body,
        BENCH_RUN_ID=run_id,
        BENCH_MAX=str(max_requests),
    )
    cmd = [
        exe,
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(duration_s))}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        base,
    ]
    t0 = time.perf_counter()
    out = subprocess.run(
        cmd, env=env, capture_output=True, text=True, check=False, timeout=duration_s + 60
    )
    hit = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCHMAX ")), None)
    if hit is not None:
        # Seeding mode: the count was reached and wrk exited without statistics.
        n, dur = int(hit.split()[1]), time.perf_counter() - t0
        return LoadResult("wrk", connections, n, dur, n / dur, 0.0, 0.0, 0.0, 0)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCHJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result: {out.stdout}\n{out.stderr}")
    r = json.loads(line.removeprefix("BENCHJSON "))
    dur = r["duration_us"] / 1e6
    errs = sum(
        r[k]
        for k in (
            "errors_status",
            "errors_connect",
            "errors_read",
            "errors_write",
            "errors_timeout",
        )
    )
    return LoadResult(
        "wrk",
        connections,
        r["requests"],
        dur,
        r["requests"] / dur if dur else 0.0,
        r["p50_us"] / 1000,
        r["p99_us"] / 1000,
        r["mean_us"] / 1000,
        errs,
    )


async def _run_httpx(
    base: str,
    path: str,
    *,
    method: str,
    connections: int,
    duration_s: float,
    auth: tuple[str, str],
    body: str,
    run_id: str,
    max_requests: int,
) -> LoadResult:
    headers = {"Content-Type": "application/json"}
    if auth[1]:
        headers[auth[0]] = auth[1]
    lat: list[float] = []
    errors = 0
    count = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=5.0
    ) as client:
        t0 = time.perf_counter()
        deadline = t0 + duration_s

        async def worker(wid: int) -> None:
            nonlocal errors, count
            n = 0
            while time.perf_counter() < deadline and not (max_requests and count >= max_requests):
                n += 1
                s = time.perf_counter()
                try:
                    if method == "POST":
                        content = body.replace("__COID__", f"{run_id}-{wid}-{n}")
                        resp = await client.post(path, content=content)
                    else:
                        resp = await client.get(path)
                    ok = resp.status_code < 400
                except httpx.HTTPError:
                    ok = False
                lat.append(time.perf_counter() - s)
                count += 1
                errors += 0 if ok else 1

        await asyncio.gather(*(worker(i) for i in range(connections)))
        dur = time.perf_counter() - t0
    lat.sort()

    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else 0.0

    return LoadResult(
        "fallback-httpx",
        connections,
        len(lat),
        dur,
        len(lat) / dur if dur else 0.0,
        pct(0.50),
        pct(0.99),
        (sum(lat) / len(lat) * 1000) if lat else 0.0,
        errors,
    )
