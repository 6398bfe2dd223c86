"""Joins the v1 routers under /api/v1. Guards go per `include_router` (STYLE §3.2):
readers get `require(Role.VIEWER)`; mutating routes add `TraderUser`/`AdminUser` themselves."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from backend.app.api.deps import require
from backend.app.api.edge_text import check_request_text
from backend.app.api.v1 import auth, bulk, events, market, risk, strategies, stream, trading
from backend.app.domain.enums import Role
from backend.app.models.problem import PROBLEM_RESPONSES


def build_api_router() -> APIRouter:
    api = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES)
    # Every string of every HTTP request, checked once before anything reads it (422).
    edge = [Depends(check_request_text)]
    # /auth guards per route: /auth/token must stay open.
    api.include_router(auth.router, dependencies=edge)
    # Defence in depth: routes add TraderUser/AdminUser themselves; nothing here is anonymous.
    readers = [*edge, Depends(require(Role.VIEWER))]
    api.include_router(risk.router, dependencies=readers)
    api.include_router(trading.router, dependencies=readers)
    api.include_router(bulk.router, dependencies=readers)
    api.include_router(events.router, dependencies=readers)
    api.include_router(market.router, dependencies=readers)
    api.include_router(strategies.router, dependencies=readers)
    # WebSocket: authenticates from ?token= or the first message (deps.authenticate_token).
    api.include_router(stream.router)
    return api
