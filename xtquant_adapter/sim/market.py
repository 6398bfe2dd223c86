"""The simulated market: a seeded price process per instrument, a five-level book, bars.

Randomness is counter-based: snapshot n of a seed draws from `Random(f"{seed}:{n}")`, so the
market after a restart continues from the stored state with no RNG state to persist.
Prices are `Decimal` on the tick grid; the process itself runs on a float "fair" price.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from xtquant_adapter.ashare.calendar import SHANGHAI, Session
from xtquant_adapter.ashare.codes import exchange_of
from xtquant_adapter.ashare.orders import price_band
from xtquant_adapter.ashare.products import Security
from xtquant_adapter.ashare.rules import price_tick, round_to_tick
from xtquant_adapter.sim.universe import Instrument

_STATUS = {
    Session.CLOSED: 15, Session.PRE_OPEN: 11, Session.CALL_AUCTION: 12,
    Session.CONTINUOUS: 13, Session.LUNCH_BREAK: 14, Session.CLOSING_AUCTION: 18,
}  # fmt: skip
_STEPS_PER_DAY = 14_400  # four trading hours of one-second snapshots


def epoch_ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def day_start_ms(day: date) -> int:
    return epoch_ms(datetime.combine(day, time(0), SHANGHAI))


@dataclass(slots=True)
class Quote:
    """One instrument's state for the current day; books hold [price, lots] levels."""

    inst: Instrument
    tick: Decimal
    pre_close: Decimal
    down: Decimal
    up: Decimal
    fair: float
    last: Decimal
    open: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    volume: int = 0  # shares
    amount: Decimal = Decimal(0)
    asks: list[list[Any]] = field(default_factory=list)
    bids: list[list[Any]] = field(default_factory=list)
    minute: dict[str, Any] | None = None
    status: int = 13
    sec: Security | None = None  # the instrument's rule facts (set by new_quote)
    limited: bool = True  # False on a new listing's no-limit days (down/up are then only
    # the price process's bounds, reported as 0 like an exchange with no limit price)

    def trade(self, price: Decimal, shares: int, value: Decimal | None = None) -> None:
        """Record a print (ours or the crowd's) in the day's statistics; `value` is
        price x shares when the caller has it already."""
        if value is None:
            value = price * shares
        self.last = price
        if self.open is None:
            self.open = price
        if self.high is None or price > self.high:
            self.high = price
        if self.low is None or price < self.low:
            self.low = price
        self.volume += shares
        self.amount += value
        m = self.minute
        if m is not None:
            if price > m["high"]:
                m["high"] = price
            elif price < m["low"]:
                m["low"] = price
            m["close"] = price
            m["volume"] += shares
            m["amount"] += value


def new_quote(inst: Instrument, pre_close: Decimal, day: date) -> Quote:
    tick = price_tick(inst.code)
    sec = inst.security
    band = price_band(sec, pre_close, day)
    if band is None:
        # No limit today: the process may move freely; these bounds only keep it finite.
        return Quote(
            inst,
            tick,
            pre_close,
            tick,
            round_to_tick(inst.code, pre_close * 10),
            float(pre_close),
            pre_close,
            sec=sec,
            limited=False,
        )
    down, up = band
    return Quote(inst, tick, pre_close, down, up, float(pre_close), pre_close, sec=sec)


class Market:
    """Moves prices, rebuilds books, keeps bars. Not thread-safe: the trader's lock guards it."""

    def __init__(
        self,
        instruments: tuple[Instrument, ...],
        seed: int,
        day: date,
        step_no: int = 0,
        tick_interval: float = 1.0,
    ) -> None:
        self.seed = seed
        self.day = day
        self.step_no = step_no
        self.quotes = {i.code: new_quote(i, i.pre_close, day) for i in instruments}
        self.daily: dict[str, list[dict[str, Any]]] = {c: [] for c in self.quotes}
        self.minutes: dict[str, list[dict[str, Any]]] = {c: [] for c in self.quotes}
        self.completed: list[tuple[str, str, dict[str, Any]]] = []  # bars the store must save
        self._scale = math.sqrt(max(tick_interval, 0.001) / (_STEPS_PER_DAY / 1.0))
        self.session = Session.CONTINUOUS
        self.now = datetime.combine(day, time(9, 30), SHANGHAI)
        # Bumped whenever prices move other than by the account's own fills (caches key on it).
        self.version = 0

    # ---- the process -------------------------------------------------------------------------
    def step(self, now: datetime, session: Session) -> list[str]:
        """Take the next snapshot; returns codes whose book changed (all, in code order)."""
        self.step_no += 1
        self.version += 1
        self.now, self.session = now, session
        rng = random.Random(f"{self.seed}:{self.step_no}")
        moving = session is Session.CONTINUOUS
        for q in self.quotes.values():
            q.status = _STATUS[session]
            if moving:
                q.fair *= math.exp(q.inst.daily_vol * self._scale * rng.gauss(0.0, 1.0))
                price = min(max(round_to_tick(q.inst.code, Decimal(repr(q.fair))), q.down), q.up)
                self._roll_minute(q, now, price)
                q.trade(price, rng.randint(0, q.inst.depth_lots) * 100)
            self._build_book(q, rng)
        return list(self.quotes)

    def rebuild_books(self) -> None:
        """Books for the current state without moving prices (at start and after a restore)."""
        for code, q in self.quotes.items():
            self._build_book(q, random.Random(f"{self.seed}:{self.step_no}:{code}"))

    def set_price(self, code: str, price: Decimal) -> None:
        """Move an instrument's fair price (a scenario knob for tests and demos).

        A price beyond the band seals the book at the limit until the process comes back.
        """
        q = self.quotes[code]
        self.version += 1
        q.fair = float(price)
        q.last = min(max(round_to_tick(code, Decimal(price)), q.down), q.up)
        self._build_book(q, random.Random(f"{self.seed}:{self.step_no}:{code}"))

    def _roll_minute(self, q: Quote, now: datetime, price: Decimal) -> None:
        start = epoch_ms(now.replace(second=0, microsecond=0))
        m = q.minute
        if m is not None and m["time"] == start:
            return
        if m is not None:
            self.minutes[q.inst.code].append(m)
            self.completed.append((q.inst.code, "1m", m))
        q.minute = {
            "time": start,
            "open": price,
            "high": price,
            "low": price,
            "close": price,
            "volume": 0,
            "amount": Decimal(0),
        }

    def _build_book(self, q: Quote, rng: random.Random) -> None:
        tick, last, depth = q.tick, q.last, q.inst.depth_lots
        lo, hi = max(depth // 4, 1), depth * 2
        # A sealed limit-up shows bids only, a sealed limit-down asks only (ASHARE_RULES §9.4).
        asks = [] if last >= q.up else [last + tick * k for k in range(1, 6)]
        bids = [] if last <= q.down else [last - tick * k for k in range(5)]
        if last >= q.up:
            bids = [q.up - tick * k for k in range(5)]
        if last <= q.down:
            asks = [q.down + tick * k for k in range(5)]
        q.asks = [[p, rng.randint(lo, hi)] for p in asks if p <= q.up]
        q.bids = [[p, rng.randint(lo, hi)] for p in bids if p >= q.down]

    def roll_day(self, day: date) -> None:
        """New trading day: yesterday's close becomes the previous close; limits recomputed."""
        self.version += 1
        for code, q in self.quotes.items():
            if q.minute is not None:
                self.minutes[code].append(q.minute)
                self.completed.append((code, "1m", q.minute))
            if q.open is not None:
                self.daily[code].append(self._today_bar(q))
                self.completed.append((code, "1d", self.daily[code][-1]))
            fresh = new_quote(q.inst, q.last, day)
            fresh.fair = min(max(q.fair, float(fresh.down)), float(fresh.up))
            self.quotes[code] = fresh
            self._build_book(fresh, random.Random(f"{self.seed}:{self.step_no}:{code}"))
        self.day = day

    def _today_bar(self, q: Quote) -> dict[str, Any]:
        return {
            "time": day_start_ms(self.day),
            "open": q.open or q.last,
            "high": q.high or q.last,
            "low": q.low or q.last,
            "close": q.last,
            "volume": q.volume,
            "amount": q.amount,
        }

    # ---- xtdata-shaped views (MarketData) -------------------------------------------------------
    def tick(self, code: str) -> dict[str, Any]:
        q = self.quotes[code]
        asks = q.asks + [[Decimal(0), 0]] * (5 - len(q.asks))
        bids = q.bids + [[Decimal(0), 0]] * (5 - len(q.bids))
        return {
            "time": epoch_ms(self.now),
            "timetag": self.now.strftime("%Y%m%d %H:%M:%S"),
            "lastPrice": float(q.last),
            "open": float(q.open or 0),
            "high": float(q.high or 0),
            "low": float(q.low or 0),
            "lastClose": float(q.pre_close),
            "amount": float(q.amount),
            "volume": q.volume // 100,
            "pvolume": q.volume,
            "stockStatus": q.status,
            "openInt": q.status,
            "askPrice": [float(p) for p, _ in asks],
            "bidPrice": [float(p) for p, _ in bids],
            "askVol": [v for _, v in asks],
            "bidVol": [v for _, v in bids],
            "transactionNum": 0,
        }

    def detail(self, code: str) -> dict[str, Any]:
        q = self.quotes[code]
        return {
            "ExchangeID": exchange_of(code),
            "InstrumentID": code.split(".")[0],
            "InstrumentName": q.inst.name,
            "ProductID": q.inst.kind.value,
            "ProductName": "",
            "ProductType": "",
            "ExchangeCode": exchange_of(code),
            "UniCode": code.split(".")[0],
            "CreateDate": "0",
            "OpenDate": q.inst.open_date.strftime("%Y%m%d"),
            "ExpireDate": "99999999",
            "TradingDay": self.day.strftime("%Y%m%d"),
            "PreClose": float(q.pre_close),
            "SettlementPrice": float(q.pre_close),
            "UpStopPrice": float(q.up) if q.limited else 0.0,
            "DownStopPrice": float(q.down) if q.limited else 0.0,
            "FloatVolume": q.inst.float_volume,
            "TotalVolume": q.inst.float_volume,
            "LongMarginRatio": 1.0,
            "ShortMarginRatio": 1.0,
            "PriceTick": float(q.tick),
            "VolumeMultiple": 1,
            "MainContract": 0,
            "LastVolume": 0,
            "InstrumentStatus": 0,
            "IsTrading": True,
            "IsRecent": False,
        }

    def bars(self, code: str, period: str, count: int) -> list[dict[str, Any]]:
        q = self.quotes[code]
        if period == "1d":
            rows = self.daily[code] + ([self._today_bar(q)] if q.open is not None else [])
        elif period == "1m":
            rows = self.minutes[code] + ([q.minute] if q.minute is not None else [])
        else:
            raise ValueError(f"unsupported period {period!r}; use '1d' or '1m'")
        out = rows[-count:] if count > 0 else []
        return [{k: (float(v) if isinstance(v, Decimal) else v) for k, v in b.items()} for b in out]


def history(
    inst: Instrument, seed: int, days: list[date]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Deterministic daily bars for `days` ending at the instrument's previous close, plus the
    1-minute bars of the last of them (240 session minutes) consistent with its daily bar."""
    if not days:
        return [], []  # listed on the first day: no history
    rng = random.Random(f"{seed}:history:{inst.code}")
    code, closes = inst.code, [float(inst.pre_close)]
    for _ in days[1:]:
        closes.append(closes[-1] / math.exp(rng.gauss(0.0, inst.daily_vol)))
    closes.reverse()
    daily: list[dict[str, Any]] = []
    prev = closes[0] * (1 + rng.gauss(0.0, inst.daily_vol))
    for day, close in zip(days, closes, strict=True):
        o = prev * (1 + rng.gauss(0.0, inst.daily_vol / 4))
        hi = max(o, close) * (1 + abs(rng.gauss(0.0, inst.daily_vol / 3)))
        lo = min(o, close) * (1 - abs(rng.gauss(0.0, inst.daily_vol / 3)))
        vol = rng.randint(inst.depth_lots * 200, inst.depth_lots * 2000) * 100
        bar = {
            k: round_to_tick(code, Decimal(repr(v)))
            for k, v in (("open", o), ("high", hi), ("low", lo), ("close", close))
        }
        bar["close"] = inst.pre_close if day == days[-1] else bar["close"]
        daily.append(
            {
                "time": day_start_ms(day),
                **bar,
                "volume": vol,
                "amount": round_to_tick(code, bar["close"] * vol),
            }
        )
        prev = close
    minutes = _minutes_of(daily[-1], days[-1], rng, code)
    last = daily[-1]
    last["high"] = max(m["high"] for m in minutes)
    last["low"] = min(m["low"] for m in minutes)
    return daily, minutes


def _minutes_of(
    bar: dict[str, Any], day: date, rng: random.Random, code: str
) -> list[dict[str, Any]]:
    starts = [
        datetime.combine(day, time(9, 30), SHANGHAI) + timedelta(minutes=i) for i in range(120)
    ]
    starts += [
        datetime.combine(day, time(13, 0), SHANGHAI) + timedelta(minutes=i) for i in range(120)
    ]
    o, c = float(bar["open"]), float(bar["close"])
    per_minute = bar["volume"] // 24_000 * 100
    out, prev = [], bar["open"]
    for i, start in enumerate(starts):
        target = o + (c - o) * (i + 1) / len(starts)
        close = (
            bar["close"]
            if i == len(starts) - 1
            else round_to_tick(code, Decimal(repr(target * (1 + rng.gauss(0.0, 0.001)))))
        )
        hi = max(prev, close) + round_to_tick(code, Decimal(repr(abs(rng.gauss(0.0, 0.0005) * o))))
        lo = min(prev, close) - round_to_tick(code, Decimal(repr(abs(rng.gauss(0.0, 0.0005) * o))))
        out.append(
            {
                "time": epoch_ms(start),
                "open": prev,
                "high": hi,
                "low": lo,
                "close": close,
                "volume": per_minute,
                "amount": close * per_minute,
            }
        )
        prev = close
    return out
