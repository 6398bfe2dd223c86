"""Strategies (the stgentry role): list files, start/stop runs, read results and charts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import FileResponse

from backend.app.api.deps import TraderUser, ViewerUser
from backend.app.domain.ids import MAX_ID
from backend.app.models.strategies import RunCreate, RunList, RunRead, StrategyList, StrategyRead

if TYPE_CHECKING:
    from backend.app.services.strategies import StrategyService


# `async def` like api/deps.py's getters: FastAPI runs a plain `def` dependency in its thread pool.
async def get_strategies(request: Request) -> StrategyService:
    service = getattr(request.app.state, "strategies", None)
    if service is None:
        raise RuntimeError("app.state.strategies is not set; is it built in the lifespan?")
    return service  # type: ignore[no-any-return]


StrategiesDep = Annotated["StrategyService", Depends(get_strategies)]
RunId = Annotated[int, Path(ge=1, le=MAX_ID)]
StrategyName = Annotated[str, Path(min_length=1, max_length=128)]

router = APIRouter(prefix="/strategies", tags=["strategies"])


@router.get("", response_model=StrategyList)
async def list_strategies(strategies: StrategiesDep, _: ViewerUser) -> StrategyList:
    """Strategy files in STRATEGY_DIR, with their docstrings."""
    items = [
        StrategyRead(name=s.name, description=s.description) for s in strategies.list_strategies()
    ]
    return StrategyList(items=items)


@router.get("/runs", response_model=RunList)
async def list_runs(
    strategies: StrategiesDep, _: ViewerUser, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> RunList:
    """Runs, newest first."""
    return RunList(items=await strategies.list_runs(limit=limit))


@router.get("/runs/{run_id}", response_model=RunRead)
async def get_run(run_id: RunId, strategies: StrategiesDep, _: ViewerUser) -> RunRead:
    """One run; while running, `result` shows its progress and log so far."""
    return await strategies.get_run(run_id=run_id)


@router.delete("/runs/{run_id}", response_model=RunRead)
async def stop_run(run_id: RunId, strategies: StrategiesDep, user: TraderUser) -> RunRead:
    """Stop a run (after its current bar); a finished run is returned unchanged."""
    return await strategies.stop_run(run_id=run_id, actor=user)


@router.get(
    "/runs/{run_id}/chart",
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}}, "description": "Equity and drawdown (PNG)"}},
)
async def get_chart(run_id: RunId, strategies: StrategiesDep, _: ViewerUser) -> FileResponse:
    """The backtest's equity and drawdown chart."""
    return FileResponse(strategies.chart_path(run_id), media_type="image/png")


@router.post("/{name}/runs", response_model=RunRead, status_code=201)
async def start_run(
    name: StrategyName, body: RunCreate, strategies: StrategiesDep, user: TraderUser
) -> RunRead:
    """Start a backtest (separate simulated account) or a trade run (the server's broker)."""
    return await strategies.start_run(name=name, request=body, actor=user)
