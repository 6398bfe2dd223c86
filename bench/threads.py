"""CPU per order by thread: `uv run python -m bench.threads [--conns 1] [--seconds 6]`.

Starts `qmt-api serve` on a fresh SQLite file (as `python -m bench` does), places orders over
real HTTP with wrk (or the fallback client) and reads every thread's CPU time from
`/proc/<pid>/task/*/stat` before and after: which thread the order's CPU goes to (the event
loop, the SQLite writer, the simulator's push thread, the SDK call thread) and how many
context switches each costs per order. Linux only (it reads /proc). Thread names come from
`py-spy dump` when py-spy is on PATH (Python thread names are not the OS's), else the ids.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.client import API, login, order_body, pick_instrument, probe_order, relax_risk_rules
from bench.load import LoadResult, run_load
from bench.servers import free_port, start_gateway

Sample = dict[str, tuple[float, int]]  # tid -> (CPU seconds, context switches)


def _threads(pid: int) -> Sample:
    out: Sample = {}
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text().rpartition(")")[2].split()
            status = (task / "status").read_text().splitlines()
        except OSError:
            continue  # the thread ended meanwhile
        switches = sum(int(ln.split()[1]) for ln in status if "ctxt_switches" in ln)
        out[task.name] = ((int(stat[11]) + int(stat[12])) / tick, switches)
    return out


def _names(pid: int) -> dict[str, str]:
    exe = shutil.which("py-spy")
    if exe is None:
        return {}
    dump = subprocess.run([exe, "dump", "--pid", str(pid)], capture_output=True, text=True)
    names = {}
    for line in dump.stdout.splitlines():  # Thread 4636 (idle): "sqlite-unit"
        if line.startswith("Thread "):
            tid, _, rest = line.removeprefix("Thread ").partition(" ")
            names[tid] = rest.rpartition(": ")[2].strip('"')
    return names


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.threads", description=__doc__.splitlines()[0]
    )
    ap.add_argument("--conns", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=6.0)
    a = ap.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="qmt-threads-"))
    gw = start_gateway(root, free_port())
    try:
        gw.wait_ready()
        token = login(gw.base)
        headers = {"Authorization": f"Bearer {token}"}
        relax_risk_rules(gw.base, headers)
        body = order_body(pick_instrument(gw.base, headers, None))
        probe_order(gw.base, headers, body)

        def place(seconds: float, run_id: str) -> LoadResult:
            return run_load(gw.base, f"{API}/trading/order", method="POST", connections=a.conns,
                            duration_s=seconds, token=token, body=body, run_id=run_id)  # fmt: skip

        place(1.5, "warm")
        before = _threads(gw.pid)
        r = place(a.seconds, "m")
        after = _threads(gw.pid)
        names = _names(gw.pid)
    finally:
        gw.stop()
    print(f"{a.conns} connection(s): {r.rps:,.0f} orders/s, p50 {r.p50_ms:.2f} ms, "
          f"p99 {r.p99_ms:.2f} ms ({r.generator})")  # fmt: skip
    total = 0.0
    rows = []
    for tid, (cpu, switches) in after.items():
        cpu0, sw0 = before.get(tid, (0.0, 0))
        per = (cpu - cpu0) * 1000 / max(r.requests, 1)
        total += per
        rows.append((per, (switches - sw0) / max(r.requests, 1), names.get(tid, tid)))
    for per, sw, name in sorted(rows, reverse=True):
        if per >= 0.001:
            print(f"  {name:24s} {per:6.3f} ms CPU/order  {sw:5.1f} context switches/order")
    print(f"  {'all threads':24s} {total:6.3f} ms CPU/order")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
