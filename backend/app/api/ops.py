"""Operations endpoints outside /api/v1, without auth: /health, /ready."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Request
from pydantic import BaseModel

from backend.app.api.middleware import metrics_endpoint
from backend.app.api.problems import problem, request_id_of
from backend.app.models.problem import PROBLEM_MEDIA_TYPE, problem_schema_ref

router = APIRouter(tags=["ops"])


class Health(BaseModel):
    status: str = "ok"


class Readiness(BaseModel):
    status: str = "ready"
    checks: dict[str, bool]


@router.get("/health", response_model=Health)
async def health() -> Health:
    """进程存活 / The process is up."""
    return Health()


@router.get(
    "/ready",
    response_model=Readiness,
    responses={
        503: {
            "description": "Not ready: `checks` names what is missing",
            "content": {PROBLEM_MEDIA_TYPE: {"schema": problem_schema_ref()}},
        }
    },
)
async def ready(request: Request) -> Any:
    """数据库可用且券商已连接 / 200 when the database answers and the broker is connected."""
    state = request.app.state
    db = getattr(state, "db", None)
    qmt = getattr(state, "qmt", None)
    connected: Any = getattr(qmt, "is_connected", False)
    if callable(connected):
        connected = connected()
    checks = {
        "database": bool(db is not None and await to_thread.run_sync(db.ping)),
        "broker": bool(connected),
    }
    if all(checks.values()):
        return Readiness(checks=checks)
    missing = [name for name, ok in checks.items() if not ok]
    why = str(getattr(qmt, "last_error", "") or "") if not checks["broker"] else ""
    return problem(
        503,
        "NOT_READY",
        f"未就绪 / not ready: {', '.join(missing)} unavailable" + (f" ({why})" if why else ""),
        title="Service not ready",
        instance=request.url.path,
        request_id=request_id_of(request),
        checks=checks,
        broker_error=why or None,
    )


router.add_api_route(
    "/metrics",
    metrics_endpoint,
    methods=["GET"],
    summary="Prometheus metrics",
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
