"""Where the figures were taken: the machine, the commit, the load average; and SIM's own
benchmark (bench/sim_bench.py) run in a child process."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.servers import REPO


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for ln in cpuinfo.read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=REPO,
            check=False,
            timeout=10,
        ).stdout.strip()
    except OSError:
        commit = "unknown"
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "loadavg_1m_at_start": round(load[0], 2) if load else None,
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit or "unknown",
    }


def run_sim_bench(quick: bool) -> dict[str, Any]:
    """SIM's own benchmark (bench/sim_bench.py): its `run(orders, batch)` in a child process."""
    script = Path(__file__).parent / "sim_bench.py"
    if not script.exists():
        return {"skipped": "bench/sim_bench.py not present"}
    n = 10_000 if quick else 50_000
    code = (
        "import json, bench.sim_bench as sb; "
        f"print('SIMJSON ' + json.dumps(sb.run({n}, 500), default=str))"
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=600,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"skipped": "sim_bench.py ran over 600 s"}
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("SIMJSON ")), None)
    if line is None:
        tail = "\n".join((out.stdout + out.stderr).splitlines()[-10:])
        return {"skipped": f"sim_bench.py gave no result (rc {out.returncode})", "tail": tail}
    r = json.loads(line.removeprefix("SIMJSON "))
    return {"orders_per_s": float(r["orders_per_s"]), "detail": r}
