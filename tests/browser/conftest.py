"""Browser tests of the console: a real `qmt-api serve` subprocess on a free port, driven by
Playwright through Debian's Chromium (`apt-get install chromium`; no browser is downloaded).

    console_server   base URL of the server (one per test module), with users admin,
                     alice (trader), vic (viewer); positions 600519.SH:1000, 000001.SZ:5000
    api              an httpx client logged in as admin, for setting things up and checking
    open_console(user, viewport=None) -> ConsolePage: a logged-in page in a fresh context;
                     at teardown it asserts no console errors and no request off the origin

The suite is skipped, with the reason, only where Chromium is absent.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("CONSOLE_ARTIFACTS_DIR", ROOT / "artifacts" / "console"))
PASSWORDS = {"admin": "admin-pass-123", "alice": "alice-pass-123", "vic": "vic-pass-1234"}
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}

CHROMIUM_MISSING = (
    None
    if Path(CHROMIUM).exists()
    else f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium` "
    "(or set CHROMIUM_PATH); the browser suite needs a system Chromium"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Module scope, not session: Playwright's sync API runs an event loop in this thread while it is
# open, and every later test calling asyncio.run() would fail ("a running event loop").
@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("console")
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "QMT_MODE": "simulated",
        "DATABASE_URL": f"sqlite:///{(work / 'api.db').as_posix()}",
        "DATA_DIR": str(work / "data"),
        "STRATEGY_DIR": str(ROOT / "strategies"),
        "JWT_SECRET_KEY": "browser-test-key-0123456789abcdef0123456789",
        "ADMIN_USERNAME": "admin",
        "ADMIN_PASSWORD": PASSWORDS["admin"],
        "SIM_INITIAL_POSITIONS": "600519.SH:1000,000001.SZ:5000",
        "SIM_SEED": "20241201",
        "SIM_ENFORCE_TRADING_HOURS": "false",
        "RATE_LIMIT_ORDERS_PER_SECOND": "0",
        "RATE_LIMIT_LOGINS_PER_MINUTE": "0",
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
    }
    log = (work / "server.log").open("wb")
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", "from backend.app.cli import main; main()", "serve",
         "--port", str(port)],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # imports alone take ~20 s on a busy CI box
        while True:
            if proc.poll() is not None:
                raise RuntimeError((work / "server.log").read_text()[-3000:])
            try:
                if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server not ready in 120 s")
            time.sleep(0.2)
        admin = _token(base, "admin")
        for name, role in (("alice", "trader"), ("vic", "viewer")):
            r = httpx.post(
                f"{base}/api/v1/auth/users",
                headers={"Authorization": f"Bearer {admin}"},
                json={"username": name, "password": PASSWORDS[name], "role": role},
            )
            assert r.status_code == 201, r.text
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _token(base: str, user: str) -> str:
    r = httpx.post(f"{base}/api/v1/auth/token",
                   data={"username": user, "password": PASSWORDS[user]})  # fmt: skip
    r.raise_for_status()
    return str(r.json()["access_token"])


@pytest.fixture(scope="module")
def api(console_server: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {_token(console_server, 'admin')}"}
    with httpx.Client(base_url=console_server, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@dataclass
class ConsolePage:
    """One logged-in console page and what it did: console errors, requests off the origin."""

    page: Page
    base: str
    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    allowed_errors: list[str] = field(default_factory=list)

    def allow_error(self, fragment: str) -> None:
        """An error the test provokes on purpose (e.g. the browser's note on a 422)."""
        self.allowed_errors.append(fragment)

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if not any(a in e for a in self.allowed_errors)]


@pytest.fixture
def open_console(browser: Browser, console_server: str) -> Iterator[Callable[..., ConsolePage]]:
    opened: list[tuple[Any, ConsolePage]] = []
    origin = urlsplit(console_server).netloc

    def make(user: str | None, viewport: dict[str, int] | None = None) -> ConsolePage:
        ctx = browser.new_context(
            viewport=viewport or DESKTOP,
            device_scale_factor=2 if viewport == PHONE else 1,
            is_mobile=viewport == PHONE,
            has_touch=viewport == PHONE,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        page = ctx.new_page()
        cp = ConsolePage(page=page, base=console_server)

        def on_console(msg: ConsoleMessage) -> None:
            if msg.type == "error":
                cp.errors.append(msg.text)

        def on_request(req: Request) -> None:
            cp.requests.append(f"{req.method} {req.url}")
            if (
                urlsplit(req.url).scheme not in ("data", "blob")
                and urlsplit(req.url).netloc != origin
            ):
                cp.foreign.append(req.url)

        page.on("console", on_console)
        page.on("pageerror", lambda exc: cp.errors.append(f"pageerror: {exc}"))
        page.on("request", on_request)
        opened.append((ctx, cp))
        page.goto(console_server + "/")
        if user is not None:
            login(page, user)
        return cp

    yield make
    for ctx, cp in opened:
        ctx.close()
        assert cp.foreign == [], f"requests left the gateway's origin: {cp.foreign}"
        assert cp.unexpected_errors() == [], f"console errors: {cp.unexpected_errors()}"


def login(page: Page, user: str) -> None:
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码").fill(PASSWORDS[user])
    page.get_by_role("button", name="登录").click()
    page.locator("#app-view").wait_for(state="visible")
    # The tables are filled from the snapshots once the stream is open.
    page.locator("#st-stream[data-state=open]").wait_for()
    page.locator("#positions tbody tr[data-code]").first.wait_for()


def save_screenshot(page: Page, name: str) -> Path:
    """Into the CI artefact folder; also into docs/img when UPDATE_DOCS_SCREENSHOTS=1."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        docs = ROOT / "docs" / "img"
        docs.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, docs / path.name)
    return path
