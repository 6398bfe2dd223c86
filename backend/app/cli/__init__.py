"""The `qmt-api` console script: serve, user add, sim reset, db upgrade, doctor, smoke."""

from __future__ import annotations

import asyncio
import gc
import ipaddress
import secrets
import sys
from typing import Annotated

import typer
from loguru import logger
from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.app.api.http_protocol import configure as configure_http_guard
from backend.app.cli.doctor import SMOKE_CODE, run_doctor, run_smoke
from backend.app.cli.strategy import strategy_app
from backend.app.core.config import Settings
from backend.app.core.errors import DomainError
from backend.app.core.logging import setup_logging
from backend.app.core.security import TokenCodec
from backend.app.db.migrate import current_revision, upgrade_database
from backend.app.db.session import Database
from backend.app.db.tables import Order, OrderEvent, Trade
from backend.app.domain.actor import SYSTEM
from backend.app.domain.enums import Role
from backend.app.models.auth import UserCreate
from backend.app.services.accounts.audit import AuditLog
from backend.app.services.accounts.users import UserService

app = typer.Typer(
    help="qmt-api: MiniQMT A股交易网关 / A-share trading gateway", no_args_is_help=True
)
user_app = typer.Typer(help="用户管理 / manage users", no_args_is_help=True)
sim_app = typer.Typer(help="模拟账户 / the simulated account", no_args_is_help=True)
db_app = typer.Typer(help="数据库 / database schema", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(sim_app, name="sim")
app.add_typer(db_app, name="db")
app.add_typer(strategy_app, name="strategy")


def _settings() -> Settings:
    try:
        settings = Settings()
    except ValidationError as exc:
        typer.secho(f"配置错误 / invalid settings:\n{exc}", err=True, fg="red")
        raise typer.Exit(2) from exc
    setup_logging(settings)
    return settings


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, err=True, fg="red")
    return typer.Exit(code)


def port_taken(host: str, port: int) -> str | None:
    """Why `host:port` cannot be bound now, or None when it can.

    Asked before uvicorn starts because uvicorn runs the app's start-up (broker connect,
    reconciliation) before it binds: a second server on a taken port would otherwise attach
    to the same simulator books and journal before failing.
    """
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        if sys.platform != "win32":  # there it would let us bind over a live listener
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="监听地址 / bind address (HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="端口 / port (PORT)")] = None,
    reload: Annotated[
        bool, typer.Option(help="开发用：代码变更自动重启 / dev auto-reload")
    ] = False,
) -> None:
    """启动 API 服务 / Start the API server."""
    import uvicorn

    settings = _settings()
    bind_host = host or settings.host
    bind_port = port or settings.port
    if not is_loopback(bind_host):
        logger.warning(
            "binding {} exposes the trading API beyond this machine; put TLS and a firewall "
            "in front of it",
            bind_host,
        )
    taken = port_taken(bind_host, bind_port)
    if taken is not None:
        raise _fail(
            f"端口 {bind_host}:{bind_port} 不可用（{taken}），是否已有 qmt-api 在运行？"
            f"可用 --port 换端口 / cannot bind {bind_host}:{bind_port} ({taken}); "
            "is qmt-api already running? Try --port"
        )
    # Under load the journal, the broker's book and the caches keep many long-lived objects:
    # with CPython's default thresholds a full collection (~100 ms, finding next to nothing)
    # ran about every second and was the p99 of every route. Rarer older generations.
    gc.set_threshold(20_000, 50, 100)
    # Stalled clients are dropped (docs/operations.md, "security model"): a deadline for the
    # request head and a cap on connections mid-head (api/http_protocol.py), idle keep-alive
    # connections closed, at most MAX_CONNECTIONS open (uvicorn answers 503 past it).
    protocol = configure_http_guard(
        header_timeout=settings.header_timeout_seconds,
        max_incomplete=settings.max_incomplete_connections,
    )
    uvicorn.run(
        "backend.app.main:create_app",
        factory=True,
        host=bind_host,
        port=bind_port,
        reload=reload,
        http=protocol,
        timeout_keep_alive=settings.keep_alive_timeout_seconds,
        limit_concurrency=settings.max_connections,
        log_config=None,  # our loguru setup receives uvicorn's records
        access_log=False,  # api/middleware.py writes one cheaper line per request instead
        proxy_headers=False,
    )


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="用户名 / username")],
    role: Annotated[Role, typer.Option(help="角色 / role")] = Role.VIEWER,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="从标准输入读密码 / read the password from stdin"),
    ] = False,
) -> None:
    """新建用户 / Create a user."""
    settings = _settings()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("密码 / password", hide_input=True, confirmation_prompt=True)
    try:
        body = UserCreate(username=name, password=password, role=role)
    except ValidationError as exc:
        msgs = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise _fail(f"无效输入 / invalid: {msgs}", 2) from exc

    async def create() -> None:
        db = Database(settings.database_url)
        try:
            upgrade_database(db)
            # No token is issued here; the codec only satisfies the service's constructor.
            tokens = TokenCodec(secret=secrets.token_urlsafe(32), expire_minutes=1)
            users = UserService(db=db, tokens=tokens, audit=AuditLog(db))
            await users.create_user(
                username=body.username, password=body.password, role=body.role, actor=SYSTEM
            )
        finally:
            db.dispose()

    try:
        asyncio.run(create())
    except DomainError as exc:
        raise _fail(f"{exc.code}: {exc.detail}") from exc
    typer.echo(f"已创建用户 / created user {body.username!r} ({body.role})")


@sim_app.command("reset")
def sim_reset(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="不再确认 / do not ask")] = False,
) -> None:
    """清空模拟账户（资金、持仓、委托、成交）/ Reset the simulated account (server stopped)."""
    from xtquant_adapter.sim.booklock import BooksLock, SimBooksLocked
    from xtquant_adapter.sim.store import delete_books

    settings = _settings()
    if not settings.is_simulated:
        raise _fail("只能重置模拟账户 / only the simulated account can be reset (QMT_MODE=live)")
    books = settings.data_dir / "sim"
    try:  # held until done, so a server cannot start on the books (or journal) mid-reset
        lock = BooksLock(books)
    except SimBooksLocked as exc:
        raise _fail(f"SimBooksLocked: {exc}\n请先停止服务 / stop the server first") from exc
    with lock:
        if not yes:
            typer.confirm(
                f"重置模拟账户 {settings.miniqmt_account_id}？/ reset the simulated account?",
                abort=True,
            )
        db = Database(settings.database_url)
        try:
            upgrade_database(db)
            audit = AuditLog(db)

            def clear(s: Session) -> dict[str, int]:
                removed = _clear_journal(s, settings.miniqmt_account_id)
                audit.record_sync(s, actor=SYSTEM, action="sim.reset", outcome="ok", detail=removed)
                return removed

            removed = db.call(clear)
        finally:
            db.dispose()
        delete_books(books)
    typer.echo(
        f"模拟账户已重置 / simulated account reset: {removed['orders']} orders, "
        f"{removed['trades']} trades removed; cash back to {settings.sim_initial_cash}"
    )


def _clear_journal(session: Session, account_id: str) -> dict[str, int]:
    order_ids = select(Order.id).where(Order.account_id == account_id)
    events = session.execute(delete(OrderEvent).where(OrderEvent.order_id.in_(order_ids)))
    trades = session.execute(delete(Trade).where(Trade.account_id == account_id))
    orders = session.execute(delete(Order).where(Order.account_id == account_id))
    return {
        "orders": int(getattr(orders, "rowcount", 0) or 0),
        "trades": int(getattr(trades, "rowcount", 0) or 0),
        "order_events": int(getattr(events, "rowcount", 0) or 0),
    }


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="目标版本 / target revision")] = "head",
) -> None:
    """升级数据库结构（启动时也会自动执行）/ Migrate the schema (the server also does at start)."""
    settings = _settings()
    db = Database(settings.database_url)
    try:
        upgrade_database(db, revision)
        typer.echo(f"数据库版本 / schema revision: {current_revision(db)}")
    finally:
        db.dispose()


def _broker_settings() -> Settings:
    """The MINIQMT_* settings only: the checks need no JWT key or database."""
    try:
        # Read as simulated, so live mode's JWT_SECRET_KEY requirement does not apply here.
        return Settings(qmt_mode="simulated")
    except ValidationError as exc:
        typer.secho(f"配置错误 / invalid settings:\n{exc}", err=True, fg="red")
        raise typer.Exit(2) from exc


@app.command("doctor")
def doctor(
    timeout: Annotated[float, typer.Option(help="每项检查的时限（秒）/ seconds per check")] = 10.0,
) -> None:
    """检查本机 MiniQMT 环境（只读）/ Check this machine's MiniQMT setup (read-only)."""
    report = run_doctor(_broker_settings(), timeout)
    typer.echo(report.text())
    raise typer.Exit(0 if report.ok else 1)


@app.command("smoke")
def smoke(
    live: Annotated[bool, typer.Option("--live", help="真实下单 / place a real order")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="不再询问 / do not ask")] = False,
    timeout: Annotated[float, typer.Option(help="每步时限（秒）/ seconds per step")] = 10.0,
) -> None:
    """实盘冒烟：挂一手不会成交的 ETF 买单再撤掉 / Buy 100 ETF shares at a price that cannot
    trade, cancel, check the states; prints a report for bug reports."""
    if not live:
        raise _fail(
            "冒烟测试会真实下单，请加 --live / the smoke test places a real order: add --live"
        )
    settings = _broker_settings()
    if not yes:
        typer.confirm(
            f"将在账户 {settings.miniqmt_account_id} 真实挂单 {SMOKE_CODE} 100 股（低于现价 3%）"
            "并撤单，继续？/ place and cancel a real 100-share buy order?",
            abort=True,
        )
    report = run_smoke(settings, timeout)
    typer.echo(report.text())
    raise typer.Exit(0 if report.ok else 1)


def main() -> None:
    app()
