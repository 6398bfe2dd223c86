"""The composition root: `create_app(settings)` is the only place objects are built and wired.

Start-up is a sequence of small steps, each an async context manager `_build_x(app, settings)`
that puts what it builds on `app.state` and cleans up after its `yield`. They run in the
order of STARTUP_STEPS and are torn down in reverse. To add a service: write one step and
add one line to STARTUP_STEPS.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from loguru import logger

from backend.app.api import ops
from backend.app.api.hot_routes import install_hot_routes
from backend.app.api.middleware import install_middleware
from backend.app.api.openapi_edge import state_string_rules
from backend.app.api.problems import install_problem_handlers
from backend.app.api.v1.router import build_api_router
from backend.app.core.config import Settings
from backend.app.core.logging import setup_logging
from backend.app.core.security import TokenCodec
from backend.app.db.migrate import upgrade_database
from backend.app.db.session import Database
from backend.app.models.problem import Problem
from backend.app.services.accounts.audit import AuditLog
from backend.app.services.accounts.users import UserService
from backend.app.services.broker.service import QMTService
from backend.app.services.event_log import EventLog
from backend.app.services.events import EventBus
from backend.app.services.orders.service import TradingService
from backend.app.services.risk.engine import RiskEngine
from backend.app.services.risk.rate_limit import RateLimiter
from backend.app.services.risk.sync import RiskStateSync
from backend.app.services.strategies import build_strategies
from backend.app.web import install_web
from xtquant_adapter.ashare.calendar import DEFAULT_CALENDAR, read_closures
from xtquant_adapter.sim.booklock import SimBooksLocked

Step = Callable[[FastAPI, Settings], AbstractAsyncContextManager[None]]


@asynccontextmanager
async def _build_database(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    db = Database(settings.database_url)
    try:
        await to_thread.run_sync(upgrade_database, db)
        app.state.db = db
        yield
    finally:
        db.dispose()


@asynccontextmanager
async def _build_security(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    app.state.tokens = TokenCodec.from_settings(settings)
    yield


@asynccontextmanager
async def _build_audit(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    app.state.audit = AuditLog(app.state.db)
    yield


@asynccontextmanager
async def _build_risk(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    risk = RiskEngine(app.state.db, app.state.audit)
    await risk.load()  # the kill switch and the rules survive restarts
    app.state.risk = risk
    limiter = RateLimiter.from_settings(settings)
    app.state.rate_limiter = limiter
    # Other processes on the same database may change them: poll (and listen on Redis).
    sync = RiskStateSync(
        risk, interval=settings.risk_state_refresh_seconds, redis_url=settings.redis_url
    )
    app.state.risk_sync = sync
    try:
        await sync.start()
        yield
    finally:
        await sync.stop()
        await limiter.close()


@asynccontextmanager
async def _build_users(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    users = UserService(db=app.state.db, tokens=app.state.tokens, audit=app.state.audit)
    app.state.users = users
    # A user change here re-checks that user's open streams in every process (Redis).
    sync = app.state.risk_sync
    users.add_change_listener(sync.announce_user_change)
    sync.add_user_listener(users.user_changed)
    password = settings.admin_password.get_secret_value() if settings.admin_password else None
    generated = await users.ensure_admin(username=settings.admin_username, password=password)
    if generated is not None:
        _announce_admin_password(settings.admin_username, generated)
    yield


def _announce_admin_password(username: str, password: str) -> None:
    # Printed once, to stdout only; the log line never carries the value.
    sys.stdout.write(
        "\n"
        "================ qmt-api ================\n"
        f"  首个管理员 / first admin : {username}\n"
        f"  初始密码   / password    : {password}\n"
        "  只显示这一次，请立即保存并修改 / shown only once: save it, then change it\n"
        f"  (PATCH /api/v1/auth/users/{username})\n"
        "=========================================\n\n"
    )
    sys.stdout.flush()
    logger.warning(
        "created admin {!r} with a generated password, printed once on stdout; "
        "set ADMIN_PASSWORD to choose it",
        username,
    )


@asynccontextmanager
async def _build_trading(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    # Tests may set app.state.sim_clock (a ManualClock) before the lifespan runs.
    events = EventBus()
    log = EventLog(db=app.state.db, bus=events, account_id=settings.miniqmt_account_id,
                   retention_days=settings.event_retention_days)  # fmt: skip
    if settings.calendar_file is not None:
        # The user's closures apply to every calendar reader in the process (one calendar).
        DEFAULT_CALENDAR.add_closures(read_closures(settings.calendar_file))
    qmt = QMTService(settings=settings, clock=getattr(app.state, "sim_clock", None))
    trading = TradingService(
        settings=settings, db=app.state.db, qmt=qmt, risk=app.state.risk,
        audit=app.state.audit, events=log,
    )  # fmt: skip
    app.state.events, app.state.event_log = events, log
    app.state.qmt, app.state.trading = qmt, trading
    if getattr(app.state, "metrics", None) is not None:
        qmt.on_callback_lag = app.state.metrics.observe_callback_lag
    try:
        log.start()  # retention: prune now and hourly
        await trading.start()  # connect the broker, then reconcile the journal
        yield
    finally:
        await trading.stop()
        await qmt.disconnect()
        await log.stop()


# Order matters: each step may use what the steps above it put on app.state.
STARTUP_STEPS: tuple[Step, ...] = (
    _build_database,  # app.state.db (migrated)
    _build_security,  # app.state.tokens
    _build_audit,  # app.state.audit
    _build_risk,  # app.state.risk (rules + kill switch loaded), app.state.rate_limiter
    _build_users,  # app.state.users (+ the first admin)
    _build_trading,  # app.state.events/event_log, .qmt, .trading (connected, reconciled)
    build_strategies,  # app.state.strategies (stale `running` runs marked stopped)
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    async with AsyncExitStack() as stack:
        for step in STARTUP_STEPS:
            try:
                await stack.enter_async_context(step(app, settings))
            except SimBooksLocked as exc:
                logger.error(
                    "启动失败：模拟账本已被另一个 qmt-api 进程占用，请先停止它或换一个 DATA_DIR / "
                    "start-up refused: another process has the simulated books; stop it or use "
                    "another DATA_DIR ({})", exc,
                )  # fmt: skip
                # No traceback: the line above says it all (uvicorn then exits non-zero).
                raise exc.with_traceback(None) from None
        logger.info(
            "qmt-api ready: mode={} database={}",
            settings.qmt_mode,
            app.state.db.engine.url.render_as_string(hide_password=True),
        )
        yield
    logger.info("qmt-api stopped")


TITLE = "qmt-api · MiniQMT A股交易网关 / A-share trading gateway"
DESCRIPTION = """
通过 MiniQMT（迅投 XtQuant）交易沪深 A 股的 REST 网关；内置模拟 MiniQMT。
先用 `POST /api/v1/auth/token` 登录，再点右上角 **Authorize**。

A REST gateway for trading China A-shares through MiniQMT (XtQuant), with a built-in
simulated MiniQMT. Log in with `POST /api/v1/auth/token`, then use **Authorize**.
Every error is `application/problem+json` with a stable `code` (docs/errors.md).
"""
TAGS: list[dict[str, Any]] = [
    {"name": "auth", "description": "登录与用户管理 / Log in, users and roles"},
    {
        "name": "trading",
        "description": "下单、撤单、委托、成交、持仓、资金 / Orders, trades, positions",
    },
    {"name": "market", "description": "行情与证券信息 / Quotes, instruments, bars"},
    {"name": "risk", "description": "风控规则、交易开关、审计 / Risk rules, kill switch, audit"},
    {"name": "strategies", "description": "策略回测与运行 / Strategy backtests and runs"},
    {"name": "ops", "description": "健康检查与监控 / Health, readiness, metrics"},
]


def app_version() -> str:
    try:
        return version("qmt-api")
    except PackageNotFoundError:
        return "0.0.0"


def _install_openapi(app: FastAPI) -> None:
    """Problem is referenced by `$ref` on every error response; register it once here."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(problem.pop("$defs", {}))
            schemas["Problem"] = problem
            state_string_rules(schema)  # what api/edge_text.py refuses, stated per field
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application. Nothing is started until the lifespan runs."""
    settings = settings or Settings()
    setup_logging(settings)
    app = FastAPI(
        title=TITLE,
        description=DESCRIPTION,
        version=app_version(),
        openapi_tags=TAGS,
        lifespan=lifespan,
        # /docs and /redoc come from backend.app.web, on local assets (FastAPI's load a CDN).
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    install_problem_handlers(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=[
                "Retry-After",
                "X-Request-ID",
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
            ],
        )
    # Outermost: every response, CORS preflights included, carries X-Request-ID.
    install_middleware(
        app,
        metrics_enabled=settings.metrics_enabled,
        max_body_bytes=settings.max_body_bytes,
        body_timeout=settings.body_timeout_seconds,
    )
    app.include_router(ops.router)
    app.include_router(build_api_router())
    install_hot_routes(app)  # the order routes' fast path, first in the table
    install_web(app, swagger_ui_parameters={"persistAuthorization": True})
    _install_openapi(app)
    return app
