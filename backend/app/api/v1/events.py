"""GET /trading/events: the event log in pages, for clients without WebSocket."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from backend.app.api.deps import ViewerUser
from backend.app.models.bulk import EventPage, EventRead
from backend.app.services.event_log import EventLog

router = APIRouter(prefix="/trading", tags=["trading"])


@router.get("/events", response_model=EventPage)
async def list_events(
    request: Request,
    _: ViewerUser,
    since: Annotated[
        int | None, Query(ge=0, le=2**62, description="只返回 seq 大于它的事件 / seq > since")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventPage:
    """事件日志，按 seq 升序；下次以 next_since 续读。since 早于保留期：410 EVENTS_EXPIRED。
    Events oldest first; continue with `next_since`. Omit `since` to start at the oldest kept."""
    log: EventLog = request.app.state.event_log
    rows, nxt = await log.read(since, limit)
    items = [EventRead(seq=r.seq, type=r.type, data=r.data, created_at=r.created_at) for r in rows]
    return EventPage(items=items, next_since=nxt)
