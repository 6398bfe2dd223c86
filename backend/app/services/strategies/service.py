"""StrategyService (app.state.strategies): strategies on disk, runs in threads, runs in the db.

A run is a `strategy_runs` row (status running -> finished | failed | stopped) plus, while it
runs, an `Execution` in this process. Runs survive restarts as records: a row still `running`
when the service starts belonged to a dead process and becomes `stopped` with a note.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from anyio import to_thread
from loguru import logger
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.app.core.config import Settings
from backend.app.core.errors import Conflict, NotFound, ValidationFailed
from backend.app.db.session import Database
from backend.app.db.tables import StrategyRun
from backend.app.domain.actor import Actor
from backend.app.models.strategies import RunCreate, RunRead
from backend.app.services.strategies import loader
from backend.app.services.strategies.backtest import BacktestSpec, run_backtest
from backend.app.services.strategies.bars import BarDataError, local_dt
from backend.app.services.strategies.guard import Execution, Guard, StrategyError
from backend.app.services.strategies.paints import Paints
from backend.app.services.strategies.qmt_api import RunLog
from backend.app.services.strategies.trade import TradeBroker, TradeSpec, TradeStats, run_trade
from xtquant_adapter.ashare.calendar import SHANGHAI
from xtquant_adapter.ashare.fees import FeeSchedule
from xtquant_adapter.protocol import MarketData

RESTART_NOTE: Final = (
    "服务重启时仍在运行，已标记为停止 / the server restarted while this run was running"
)
SHUTDOWN_NOTE: Final = "服务关闭 / the server shut down"


@dataclass(slots=True)
class _Live:
    execution: Execution
    mode: str
    log: RunLog
    progress: list[int] = field(default_factory=lambda: [0, 0])
    stats: TradeStats = field(default_factory=TradeStats)
    paints: Paints = field(default_factory=Paints)
    result: dict[str, Any] | None = None

    def snapshot(self) -> dict[str, Any]:
        if self.result is not None:
            return self.result
        if self.mode == "backtest":
            done, total = self.progress
            return {
                "progress": {"bars_done": done, "bars_total": total},
                "log": list(self.log.lines),
            }
        return {
            "bars": self.stats.bars,
            "orders": self.stats.orders,
            "refused": self.stats.refused,
            "log": list(self.log.lines),
            "log_total": self.log.total,
            "paint": {
                name: [[local_dt(t).isoformat(), v] for t, v in points]
                for name, points in self.paints.series.items()
            },
            "marks": [{**m, "time": local_dt(m["time"]).isoformat()} for m in self.paints.marks],
        }


class StrategyService:
    """Lists strategies, starts/stops runs, keeps their records."""

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        trading: Any = None,
        market: Callable[[], MarketData] | None = None,
        poll_interval: float = 1.0,
        budget_seconds: float = 10.0,
        max_running: int = 8,
    ) -> None:
        self.settings, self.db, self.trading, self.market = settings, db, trading, market
        self.poll_interval = poll_interval
        self.budget_seconds = budget_seconds
        self.max_running = max_running
        self.fees = FeeSchedule(
            commission_rate=settings.sim_commission_rate, commission_min=settings.sim_commission_min
        )
        self._live: dict[int, _Live] = {}

    @property
    def runs_dir(self) -> Path:
        return self.settings.data_dir / "strategy_runs"

    # --- lifecycle ---------------------------------------------------------------------

    async def recover(self) -> int:
        """Mark runs left `running` by a previous process as `stopped`; how many."""

        def fix(s: Session) -> int:
            rows = s.scalars(select(StrategyRun).where(StrategyRun.status == "running")).all()
            for row in rows:
                row.status, row.error, row.finished_at = "stopped", RESTART_NOTE, datetime.now(UTC)
            return len(rows)

        return await self.db.run(fix)

    async def shutdown(self, grace: float = 3.0) -> None:
        """Stop every run; those that do not end within `grace` s are recorded as stopped."""
        live = list(self._live.values())
        for run in live:
            run.execution.stop()
        for run in live:
            await to_thread.run_sync(run.execution.done.wait, grace)
            run.execution.finish_now("stopped", SHUTDOWN_NOTE)

    # --- strategies --------------------------------------------------------------------

    def list_strategies(self) -> list[loader.StrategyFile]:
        return loader.list_strategies(self.settings.strategy_dir)

    # --- runs --------------------------------------------------------------------------

    async def start_run(self, *, name: str, request: RunCreate, actor: Actor) -> RunRead:
        """Start a run of `<STRATEGY_DIR>/<name>.py`.

        Raises:
            NotFound: no such strategy (or data file).
            ValidationFailed: unreadable script or unusable request.
            Conflict: too many runs at once.
        """
        try:
            path = loader.resolve(self.settings.strategy_dir, name)
        except loader.StrategyNotFound:
            raise NotFound(f"策略 {name!r} 不存在 / no strategy named {name!r}") from None
        source = await to_thread.run_sync(self._read, path)
        return await self.start_script(
            name=name, source=source, filename=path.name, request=request, actor=actor
        )

    @staticmethod
    def _read(path: Path) -> str:
        try:
            return loader.read_source(path)
        except StrategyError as exc:
            raise ValidationFailed(str(exc)) from None

    def _data_file(self, request: RunCreate) -> Path | None:
        if request.data_file is None:
            return None
        root = self.settings.strategy_dir.resolve()
        path = (root / request.data_file).resolve()
        if path.parent != root or not path.is_file():
            raise NotFound(f"数据文件 {request.data_file!r} 不存在 / no such data file")
        return path

    async def start_script(
        self, *, name: str, source: str, filename: str, request: RunCreate, actor: Actor
    ) -> RunRead:
        """Start a run of a script already read (the CLI passes any local file here)."""
        if len(self._live) >= self.max_running:
            raise Conflict(f"同时运行的策略已达上限 {self.max_running} / too many runs at once")
        if request.mode == "trade" and (self.trading is None or self.market is None):
            raise ValidationFailed("此进程没有交易通道 / no broker in this process for trade mode")
        csv_path = self._data_file(request)
        seed = request.seed
        if request.mode == "backtest" and seed is None and csv_path is None:
            seed = self.settings.sim_seed
            seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
        config = {
            "stock_codes": request.stock_codes,
            "period": request.period,
            "start": request.start.isoformat() if request.start else None,
            "end": request.end.isoformat() if request.end else None,
            "initial_cash": str(request.initial_cash),
            "seed": seed,
            "data_file": request.data_file,
            "file": filename,
        }
        row = await self.db.run(
            lambda s: _insert(s, name, request.mode, {"params": request.params, "config": config},
                              actor.username)
        )  # fmt: skip
        log = RunLog()
        if request.mode == "backtest":
            spec = BacktestSpec(
                name=name, source=source, filename=filename, codes=request.stock_codes,
                period=request.period, start=request.start, end=request.end,
                initial_cash=request.initial_cash, seed=seed or 0, params=request.params,
                csv_path=csv_path, fees=self.fees, chart_path=self.runs_dir / f"{row.id}.png",
                today=datetime.now(SHANGHAI).date(),
            )  # fmt: skip
            live = self._launch(
                row.id, "backtest", filename, log, lambda g, lv: self._backtest(spec, g, lv)
            )
        else:
            tspec = TradeSpec(
                name=name, source=source, filename=filename, codes=request.stock_codes,
                period=request.period, params=request.params, poll_interval=self.poll_interval,
            )  # fmt: skip
            trade_actor = Actor(
                actor.username, actor.role, actor.client_ip, f"strategy-run-{row.id}"
            )
            loop = asyncio.get_running_loop()

            def body(g: Guard, lv: _Live) -> None:
                self._trade(tspec, g, lv, row.id, trade_actor, loop)

            live = self._launch(row.id, "trade", filename, log, body)
        logger.info(
            "strategy run {} started: {} {} by {}", row.id, name, request.mode, actor.username
        )
        return self._read_row(row, live)

    def _launch(self, run_id: int, mode: str, filename: str, log: RunLog, body: Any) -> _Live:
        holder: list[_Live] = []
        execution = Execution(
            name=str(run_id),
            body=lambda guard: body(guard, holder[0]),
            on_done=lambda status, error: self._finish(run_id, status, error),
            script_filename=filename,
            budget_seconds=self.budget_seconds,
        )
        live = _Live(execution=execution, mode=mode, log=log)
        holder.append(live)
        self._live[run_id] = live
        execution.start()
        return live

    def _backtest(self, spec: BacktestSpec, guard: Guard, live: _Live) -> None:
        def progress(done: int, total: int) -> None:
            live.progress[0], live.progress[1] = done, total

        try:
            live.result = run_backtest(spec, guard, live.log, progress)
        except BarDataError as exc:
            raise StrategyError(str(exc)) from None

    def _trade(
        self, spec: TradeSpec, guard: Guard, live: _Live, run_id: int, actor: Actor, loop: Any
    ) -> None:
        assert self.market is not None  # noqa: S101 - checked in start_script
        market = self.market()
        broker = TradeBroker(
            trading=self.trading, loop=loop, market=market, actor=actor,
            account_id=self.settings.miniqmt_account_id, run_id=run_id, log=live.log,
            stats=live.stats,
        )  # fmt: skip
        run_trade(spec, guard, live.log, broker, market, live.paints)

    def _finish(self, run_id: int, status: str, error: str | None) -> None:
        # Runs on the worker or watchdog thread; the database handle is thread-safe.
        live = self._live.get(run_id)
        result = live.snapshot() if live is not None else None

        def save(s: Session) -> None:
            row = s.get(StrategyRun, run_id)
            if row is not None:
                row.status, row.error, row.result = status, error, result
                row.finished_at = datetime.now(UTC)

        try:
            self.db.call(save)
        except Exception as exc:  # the database may be gone at shutdown; the log keeps the fact
            logger.warning(
                "strategy run {} ended {} but could not be saved: {}", run_id, status, exc
            )
            return
        finally:
            # Dropped only after the row is final, so a reader never sees `running` without it.
            self._live.pop(run_id, None)
        logger.info(
            "strategy run {} {}{}", run_id, status, f": {error.splitlines()[-1]}" if error else ""
        )

    async def list_runs(self, *, limit: int = 100) -> list[RunRead]:
        rows = await self.db.run(
            lambda s: list(
                s.scalars(select(StrategyRun).order_by(StrategyRun.id.desc()).limit(limit)).all()
            )
        )
        return [self._read_row(r, self._live.get(r.id)) for r in rows]

    async def get_run(self, *, run_id: int) -> RunRead:
        """Raises: NotFound."""
        row = await self.db.run(lambda s: s.get(StrategyRun, run_id))
        if row is None:
            raise NotFound(f"运行 {run_id} 不存在 / no run {run_id}")
        return self._read_row(row, self._live.get(run_id))

    async def stop_run(self, *, run_id: int, actor: Actor, wait: float = 5.0) -> RunRead:
        """Stop a running run (a finished one is returned as it is). Raises: NotFound."""
        live = self._live.get(run_id)
        if live is not None:
            logger.info("strategy run {} stop requested by {}", run_id, actor.username)
            live.execution.stop()
            await to_thread.run_sync(live.execution.done.wait, wait)
        return await self.get_run(run_id=run_id)

    def chart_path(self, run_id: int) -> Path:
        """Raises: NotFound (no chart: not a finished backtest)."""
        path = self.runs_dir / f"{run_id}.png"
        if not path.is_file():
            raise NotFound(f"运行 {run_id} 没有图表 / run {run_id} has no chart")
        return path

    def _read_row(self, row: StrategyRun, live: _Live | None) -> RunRead:
        stored = row.params or {}
        running = row.status == "running" and live is not None
        result = live.snapshot() if running and live is not None else row.result
        chart = (
            f"/api/v1/strategies/runs/{row.id}/chart"
            if row.mode == "backtest" and row.result and row.result.get("chart")
            else None
        )
        return RunRead(
            run_id=row.id,
            strategy=row.strategy,
            mode=row.mode,
            status=row.status,
            started_at=row.started_at,
            finished_at=row.finished_at,
            error=row.error,
            result=result,
            params=stored.get("params", {}),
            config=stored.get("config", {}),
            username=row.username,
            chart_url=chart,
        )


def _insert(s: Session, name: str, mode: str, params: dict[str, Any], username: str) -> StrategyRun:
    row = StrategyRun(
        strategy=name, mode=mode, status="running", params=params, username=username,
        error=None, result=None, started_at=datetime.now(UTC), finished_at=None,
    )  # fmt: skip
    s.add(row)
    s.flush()
    return row
