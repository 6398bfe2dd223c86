"""FastAPI glue of the rate limiter (services/rate_limit.py): the order dependency and the
login guard. Both read `app.state.rate_limiter`, built in create_app's lifespan."""

from __future__ import annotations

from fastapi import Request, Response
from starlette.requests import HTTPConnection

from backend.app.api.deps import CurrentUser, client_ip
from backend.app.services.risk.rate_limit import RateLimiter


def _limiter(conn: HTTPConnection) -> RateLimiter | None:
    return getattr(conn.app.state, "rate_limiter", None)


async def rate_limit_orders(request: Request, response: Response, user: CurrentUser) -> None:
    """One token per new order or cancel; 429 RATE_LIMITED when the user's bucket is empty."""
    limiter = _limiter(request)
    if limiter is None:
        return
    decision = await limiter.hit_orders(user)
    if decision is not None:
        response.headers.update(decision.headers())


async def check_login_allowed(request: Request, username: str) -> None:
    """Before checking a password: 429 while this (user, address), the address, or the user
    from an address they never logged in from, is out of failures."""
    limiter = _limiter(request)
    if limiter is not None:
        await limiter.check_login(username=username, client_ip=client_ip(request))


async def record_login_success(request: Request, username: str) -> None:
    """After a good password: this address is one the user logs in from."""
    limiter = _limiter(request)
    if limiter is not None:
        await limiter.record_login_success(username=username, client_ip=client_ip(request))


async def record_login_failure(request: Request, username: str) -> None:
    """After a wrong password: spend a failure token for the user and for the address."""
    limiter = _limiter(request)
    if limiter is not None:
        await limiter.record_login_failure(username=username, client_ip=client_ip(request))
