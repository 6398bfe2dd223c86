"""`qmt-api strategy run FILE --mode backtest|trade`: the strategy runner from a terminal.

A backtest runs here, in this process, with a progress bar; it prints the figures and the
chart's path and touches nothing else. Trade mode starts the gateway's services in this
process (broker, journal, risk rules, audit: everything `serve` starts except HTTP) and runs
until Ctrl-C; do not run it beside a server on the same database — use the API there.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from backend.app.core.config import Settings
from backend.app.domain.actor import Actor
from backend.app.domain.enums import Role
from backend.app.models.strategies import RunCreate
from backend.app.services.strategies import loader
from backend.app.services.strategies.backtest import BacktestSpec, run_backtest
from backend.app.services.strategies.bars import BarDataError
from backend.app.services.strategies.guard import Execution, Guard, StrategyError
from backend.app.services.strategies.qmt_api import RunLog
from xtquant_adapter.ashare.calendar import SHANGHAI
from xtquant_adapter.ashare.fees import FeeSchedule

strategy_app = typer.Typer(help="策略回测与运行 / backtest or run a QMT-style strategy")
console = Console()


def parse_param(text: str) -> tuple[str, Any]:
    """`k=v`: v as JSON when it parses (5, 0.02, true, [1,2]), else the plain string."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise typer.BadParameter(f"{text!r} 应为 k=v / expected k=v")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return key.strip(), value


def _request(mode: str, params: list[str], codes: str, period: str, start: str | None,
             end: str | None, cash: float, seed: int | None) -> RunCreate:  # fmt: skip
    try:
        return RunCreate(
            mode=mode,
            params=dict(parse_param(p) for p in params),
            stock_codes=[c.strip() for c in codes.split(",") if c.strip()],
            period=period,
            start=start,
            end=end,
            initial_cash=cash,
            seed=seed,
        )
    except ValidationError as exc:
        msgs = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise typer.BadParameter(msgs) from None


@strategy_app.command("run")
def run(
    file: Annotated[Path, typer.Argument(help="策略文件 / the strategy .py", exists=True,
                                         dir_okay=False, readable=True)],
    mode: Annotated[str, typer.Option(help="backtest | trade")] = "backtest",
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="k=v，可重复")] = None,
    codes: Annotated[str, typer.Option(help="逗号分隔，首个为主图 / first is C.stock_code")] = (
        "600000.SH"
    ),
    period: Annotated[str, typer.Option(help="1d | 1m")] = "1d",
    start: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    cash: Annotated[float, typer.Option(help="初始资金 / initial cash")] = 1_000_000.0,
    seed: Annotated[int | None, typer.Option(help="行情种子，默认 SIM_SEED")] = None,
    csv: Annotated[Path | None, typer.Option(help="K线 CSV：time,open,high,low,close,volume",
                                             exists=True, dir_okay=False)] = None,
    budget: Annotated[float, typer.Option(help="每次 handlebar 的时限（秒）")] = 10.0,
    user: Annotated[str, typer.Option(help="trade 模式下单者（审计）/ orders' user")] = "cli",
) -> None:  # fmt: skip
    """回测或运行策略 / Backtest a strategy file, or trade it until Ctrl-C."""
    if mode not in ("backtest", "trade"):
        raise typer.BadParameter("--mode 须为 backtest 或 trade / backtest or trade")
    request = _request(mode, param or [], codes, period, start, end, cash, seed)
    settings = Settings()
    try:
        source = loader.read_source(file)
    except StrategyError as exc:
        raise typer.BadParameter(str(exc)) from None
    name = file.stem if loader.valid_name(file.stem) else "strategy"
    if mode == "backtest":
        _backtest(settings, name, source, file.name, request, csv, budget)
    else:
        asyncio.run(_trade(settings, name, source, file.name, request, user, budget))


def _backtest(settings: Settings, name: str, source: str, filename: str, request: RunCreate,
              csv: Path | None, budget: float) -> None:  # fmt: skip
    seed = request.seed if request.seed is not None else settings.sim_seed
    seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
    stamp = datetime.now(SHANGHAI).strftime("%Y%m%d%H%M%S")
    spec = BacktestSpec(
        name=name, source=source, filename=filename, codes=request.stock_codes,
        period=request.period, start=request.start, end=request.end,
        initial_cash=request.initial_cash, seed=seed, params=request.params, csv_path=csv,
        fees=FeeSchedule(commission_rate=settings.sim_commission_rate,
                         commission_min=settings.sim_commission_min),
        chart_path=settings.data_dir / "strategy_runs" / f"cli-{name}-{stamp}.png",
        today=datetime.now(SHANGHAI).date(),
    )  # fmt: skip
    log = RunLog()
    outcome: dict[str, Any] = {}
    result: dict[str, Any] = {}
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"回测 {name}", total=None)

        def body(guard: Guard) -> None:
            def tick(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            try:
                result.update(run_backtest(spec, guard, log, tick))
            except BarDataError as exc:
                raise StrategyError(str(exc)) from None

        finished = threading.Event()

        def done(status: str, error: str | None) -> None:
            outcome.update(status=status, error=error)
            finished.set()

        Execution(name=name, body=body, on_done=done, script_filename=filename,
                  budget_seconds=budget).start()  # fmt: skip
        finished.wait()
    _print_log(log)
    if outcome["status"] != "finished":
        console.print(f"[red]{outcome['status']}[/red]: {outcome['error']}", highlight=False)
        raise typer.Exit(1)
    _print_result(result, seed if csv is None else None, spec.chart_path)


def _print_log(log: RunLog) -> None:
    """The run's whole log as kept (RunLog keeps the newest `limit` lines); when older lines
    were dropped, say how many, so the totals below never disagree silently with what is shown."""
    if log.total > len(log.lines):
        console.print(
            f"日志共 {log.total} 行，仅显示最近 {len(log.lines)} 行 / log: {log.total} lines, "
            f"the last {len(log.lines)} shown",
            highlight=False,
        )
    for line in log.lines:
        console.print(line, markup=False, highlight=False)


def _fmt(value: Any, pct: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:.2%}" if pct else (f"{value:,.4f}" if isinstance(value, float) else str(value))


def _print_result(result: dict[str, Any], seed: int | None, chart: Path | None) -> None:
    table = Table(title="回测结果 / backtest result", show_header=False)
    rows = (
        ("总收益 total_return", _fmt(result["total_return"], True)),
        ("年化 annual_return", _fmt(result["annual_return"], True)),
        ("最大回撤 max_drawdown", _fmt(result["max_drawdown"], True)),
        ("夏普 sharpe", _fmt(result["sharpe"])),
        ("成交笔数 trades_count", _fmt(result["trades_count"])),
        ("胜率 win_rate", _fmt(result["win_rate"], True)),
        ("期末权益 final_equity", f"{result['final_equity']:,.2f}"),
        ("费用 fees", f"{result['fees']:,.2f}"),
        ("K线 bars", str(result["bars"])),
        ("种子 seed", "-" if seed is None else str(seed)),
    )
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)
    if result.get("chart") and chart is not None:
        console.print(f"图表 / chart: {chart.resolve()}", highlight=False)


async def _trade(settings: Settings, name: str, source: str, filename: str, request: RunCreate,
                 username: str, budget: float) -> None:  # fmt: skip
    from backend.app.main import create_app, lifespan

    app = create_app(settings)
    app.state.strategy_budget_seconds = budget
    async with lifespan(app):
        service = app.state.strategies
        actor = Actor(username, Role.TRADER, "cli", "")
        run = await service.start_script(name=name, source=source, filename=filename,
                                         request=request, actor=actor)  # fmt: skip
        console.print(f"运行 / run {run.run_id} started; Ctrl-C 停止 / to stop")
        shown = 0
        try:
            while True:
                await asyncio.sleep(1.0)
                current = await service.get_run(run_id=run.run_id)
                result = current.result or {}
                lines, total = result.get("log", []), result.get("log_total", 0)
                for line in lines[max(0, len(lines) - (total - shown)) :]:
                    console.print(line, markup=False, highlight=False)
                shown = total
                if current.status != "running":
                    console.print(f"{current.status}: {current.error or ''}", highlight=False)
                    break
        except asyncio.CancelledError:
            stopped = await service.stop_run(run_id=run.run_id, actor=actor)
            console.print(f"已停止 / {stopped.status}", highlight=False)
