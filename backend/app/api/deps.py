"""Typed dependencies (`XxxDep` aliases) and the role guard.

Everything comes from `app.state`, which only `create_app`'s lifespan fills; nothing here
builds a service. Use in a route: `async def f(trading: TradingDep, user: CurrentUser)`;
guard a router: `include_router(r, dependencies=[Depends(require(Role.TRADER))])`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.security import OAuth2PasswordBearer
from starlette.requests import HTTPConnection

from backend.app.api.problems import request_id_of
from backend.app.core.config import Settings
from backend.app.core.errors import Forbidden, Unauthorized
from backend.app.db.session import Database
from backend.app.domain.actor import Actor
from backend.app.domain.enums import Role

if TYPE_CHECKING:
    from backend.app.services.accounts.audit import AuditLog
    from backend.app.services.accounts.users import UserService
    from backend.app.services.broker.service import QMTService
    from backend.app.services.events import EventBus
    from backend.app.services.orders.service import TradingService
    from backend.app.services.risk.engine import RiskEngine

# auto_error=False: a missing token becomes our 401 problem, not Starlette's plain error.
oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    description="POST /api/v1/auth/token 登录取得令牌 / log in to get a bearer token",
)


def _state(conn: HTTPConnection, name: str) -> Any:
    value = getattr(conn.app.state, name, None)
    if value is None:
        # A wiring bug (a service missing from the lifespan), not a client error: 500.
        raise RuntimeError(f"app.state.{name} is not set; is it built in create_app's lifespan?")
    return value


# `async def` although nothing here awaits: FastAPI runs a plain `def` dependency in its thread
# pool, one thread round trip per dependency per request.
async def get_settings(request: Request) -> Settings:
    return _state(request, "settings")  # type: ignore[no-any-return]


async def get_db(request: Request) -> Database:
    return _state(request, "db")  # type: ignore[no-any-return]


async def get_users(request: Request) -> UserService:
    return _state(request, "users")  # type: ignore[no-any-return]


async def get_trading(request: Request) -> TradingService:
    return _state(request, "trading")  # type: ignore[no-any-return]


async def get_qmt(request: Request) -> QMTService:
    return _state(request, "qmt")  # type: ignore[no-any-return]


async def get_risk(request: Request) -> RiskEngine:
    return _state(request, "risk")  # type: ignore[no-any-return]


async def get_audit(request: Request) -> AuditLog:
    return _state(request, "audit")  # type: ignore[no-any-return]


async def get_events(request: Request) -> EventBus:
    return _state(request, "events")  # type: ignore[no-any-return]


def client_ip(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else ""


async def authenticate_token(conn: HTTPConnection, token: str) -> Actor:
    """The Actor behind `token`, for routes and for the WebSocket stream (`?token=`).

    Raises:
        Unauthorized: missing, bad, expired or revoked token.
    """
    if not token:
        raise Unauthorized("缺少令牌 / missing bearer token")
    users: UserService = _state(conn, "users")
    actor = await users.authenticate(
        token=token, client_ip=client_ip(conn), request_id=request_id_of(conn)
    )
    conn.state.actor = actor  # for access logs and per-user limits further in
    return actor


async def get_current_user(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Actor:
    return await authenticate_token(request, token or "")


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[Database, Depends(get_db)]
UsersDep = Annotated["UserService", Depends(get_users)]
TradingDep = Annotated["TradingService", Depends(get_trading)]
QmtDep = Annotated["QMTService", Depends(get_qmt)]
RiskDep = Annotated["RiskEngine", Depends(get_risk)]
AuditDep = Annotated["AuditLog", Depends(get_audit)]
EventsDep = Annotated["EventBus", Depends(get_events)]
CurrentUser = Annotated[Actor, Depends(get_current_user)]


@functools.cache
def require(role: Role) -> Callable[..., Awaitable[Actor]]:
    """Dependency: the current user, if their role is at least `role` (else 403)."""

    # Straight from the token (not through CurrentUser): one dependency level less to solve.
    async def check(
        request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
    ) -> Actor:
        user = await authenticate_token(request, token or "")
        if not user.role.allows(role):
            raise Forbidden(f"需要 {role} 角色 / needs role {role}, you are {user.role}")
        return user

    check.__name__ = f"require_{role}"
    return check


async def order_trader(
    request: Request, response: Response, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Actor:
    """The order routes' one dependency: the token's user (401), one token of their order
    rate limit (429, X-RateLimit-* headers) and the trader role (403), in that order: the
    same checks and order as `CurrentUser` + `rate_limit_orders` + `TraderUser`, solved as
    one coroutine instead of four."""
    user = await authenticate_token(request, token or "")
    limiter = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None:
        decision = await limiter.hit_orders(user)
        if decision is not None:
            response.headers.update(decision.headers())
    if not user.role.allows(Role.TRADER):
        raise Forbidden(f"需要 {Role.TRADER} 角色 / needs role {Role.TRADER}, you are {user.role}")
    return user


ViewerUser = Annotated[Actor, Depends(require(Role.VIEWER))]
TraderUser = Annotated[Actor, Depends(require(Role.TRADER))]
AdminUser = Annotated[Actor, Depends(require(Role.ADMIN))]
OrderTrader = Annotated[Actor, Depends(order_trader)]
