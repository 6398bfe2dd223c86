"""Start and stop the server under test (`qmt-api serve`), the reference app and the peer
(qmtlink) as subprocesses."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

REPO = Path(__file__).resolve().parent.parent
ADMIN_USER = "benchadmin"
ADMIN_PASSWORD = "bench-Passw0rd-not-secret"  # noqa: S105 - a throwaway local benchmark account
JWT_KEY = "bench-jwt-key-0123456789abcdef0123456789abcdef"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _console_script(name: str) -> list[str]:
    """The installed console script, run directly so that its pid is the server's pid."""
    scripts = Path(sysconfig.get_path("scripts"))
    for cand in (scripts / name, scripts / f"{name}.exe"):
        if cand.exists():
            return [str(cand)]
    return [sys.executable, "-m", "backend.app.cli"]


@dataclass
class Proc:
    name: str
    base: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    started_at: float
    ready_after_s: float = 0.0
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def wait_ready(
        self, path: str = "/ready", timeout: float = 120.0, headers: dict[str, str] | None = None
    ) -> float:
        """Poll `path` until 200; return seconds since the process was started."""
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0, headers=headers) as c:
            while time.monotonic() < deadline:
                if self.popen.poll() is not None:
                    raise RuntimeError(
                        f"{self.name} exited early; log: {self.log_path}\n" + self.log_tail()
                    )
                try:
                    if c.get(self.base + path).status_code == 200:
                        self.ready_after_s = time.monotonic() - self.started_at
                        return self.ready_after_s
                except httpx.HTTPError:
                    pass
                time.sleep(0.02)
        raise TimeoutError(
            f"{self.name} not ready after {timeout}s; log: {self.log_path}\n" + self.log_tail()
        )

    def log_tail(self, n: int = 40) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def stop(self, timeout: float = 20.0) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
        if self._log:
            self._log.close()

    def cpu_seconds(self) -> float | None:
        """User+system CPU time of the process so far, from /proc (Linux); None elsewhere.

        CPU per request is the figure that stays honest when other work shares the machine.
        """
        stat = Path(f"/proc/{self.pid}/stat")
        if not stat.exists():
            return None
        fields = stat.read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> dict[str, float] | None:
        """VmRSS / VmHWM of the process from /proc (Linux); None elsewhere."""
        status = Path(f"/proc/{self.pid}/status")
        if not status.exists():
            return None
        out: dict[str, float] = {}
        for line in status.read_text().splitlines():
            key, _, val = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(val.split()[0]) / 1024
        return out


def server_env(workdir: Path, **extra: str) -> dict[str, str]:
    """A clean environment for the gateway: fresh SQLite file and data dir, fixed secrets."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            (
                "QMT_",
                "SIM_",
                "RATE_LIMIT_",
                "DATABASE_URL",
                "JWT_",
                "ADMIN_",
                "MINIQMT_",
                "REDIS_URL",
                "STRATEGY_DIR",
                "DATA_DIR",
            )
        )
    }
    env.update(
        QMT_MODE="simulated",
        DATABASE_URL=f"sqlite:///{(workdir / 'bench.db').as_posix()}",
        DATA_DIR=str(workdir / "data"),
        STRATEGY_DIR=str(workdir / "strategies"),
        JWT_SECRET_KEY=JWT_KEY,
        ADMIN_USERNAME=ADMIN_USER,
        ADMIN_PASSWORD=ADMIN_PASSWORD,
        RATE_LIMIT_ORDERS_PER_SECOND="0",
        SIM_INITIAL_CASH="1000000000000",
        SIM_SEED="20240601",
        SIM_ENFORCE_TRADING_HOURS="false",
    )
    env.update(extra)
    return env


def start_gateway(workdir: Path, port: int, **extra_env: str) -> Proc:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "strategies").mkdir(exist_ok=True)
    log_path = workdir / f"server-{port}-{int(time.time() * 1000)}.log"
    log = log_path.open("wb")
    cmd = [*_console_script("qmt-api"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    t0 = time.monotonic()
    # cwd is the temp dir, so a developer's ./.env never leaks into the benchmark.
    p = subprocess.Popen(
        cmd, cwd=workdir, env=server_env(workdir, **extra_env), stdout=log, stderr=subprocess.STDOUT
    )
    return Proc("qmt-api", f"http://127.0.0.1:{port}", p, log_path, t0, _log=log)


def start_reference(workdir: Path, port: int, sample_dir: Path | None) -> Proc:
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"reference-{port}.log"
    log = log_path.open("wb")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    if sample_dir:
        env["BENCH_SAMPLE_DIR"] = str(sample_dir)
    cmd = [sys.executable, "-m", "bench.reference_app", "--host", "127.0.0.1", "--port", str(port)]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    return Proc("reference", f"http://127.0.0.1:{port}", p, log_path, t0, _log=log)


def start_peer(workdir: Path, port: int, api_key: str, idempotency: str = "memory") -> Proc:
    """qmtlink on its MockBridge (bench/peer_qmtlink.py); its SQLite file under workdir."""
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"peer-{port}.log"
    log = log_path.open("wb")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [
        sys.executable, "-m", "bench.peer_qmtlink", "--host", "127.0.0.1", "--port", str(port),
        "--api-key", api_key, "--data-dir", str(workdir), "--idempotency", idempotency,
    ]  # fmt: skip
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    return Proc("qmtlink", f"http://127.0.0.1:{port}", p, log_path, t0, _log=log)
