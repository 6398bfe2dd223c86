"""Table-driven rules by board: codes, lots, ticks, limits, sizes, price types, fees, sessions."""

from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest

from xtquant_adapter import xtconstant as xc
from xtquant_adapter.ashare import rules
from xtquant_adapter.ashare.calendar import (
    DEFAULT_CALENDAR,
    SHANGHAI,
    Session,
    TradingCalendar,
    cancel_allowed_at,
    is_trading_day,
    read_closures,
    session_at,
)
from xtquant_adapter.ashare.codes import Board, InvalidStockCode, board_of, normalize_code
from xtquant_adapter.ashare.fees import FeeSchedule, buy_freeze, fill_fees

D = Decimal


@pytest.mark.parametrize(
    ("raw", "code", "board"),
    [
        ("600519", "600519.SH", Board.SH_MAIN),
        ("sh600519", "600519.SH", Board.SH_MAIN),
        ("SH600519", "600519.SH", Board.SH_MAIN),
        ("600519.sh", "600519.SH", Board.SH_MAIN),
        ("600519.XSHG", "600519.SH", Board.SH_MAIN),
        ("600519.SS", "600519.SH", Board.SH_MAIN),
        ("000001.XSHE", "000001.SZ", Board.SZ_MAIN),
        ("000001", "000001.SZ", Board.SZ_MAIN),
        ("003816", "003816.SZ", Board.SZ_MAIN),
        ("688981", "688981.SH", Board.STAR),
        ("300750", "300750.SZ", Board.CHINEXT),
        ("301269", "301269.SZ", Board.CHINEXT),
        ("920185", "920185.BJ", Board.BSE),
        ("920185.BJSE", "920185.BJ", Board.BSE),
        ("430047", "430047.BJ", Board.BSE),
        ("510300", "510300.SH", Board.ETF),
        ("159919", "159919.SZ", Board.ETF),
        ("588000", "588000.SH", Board.ETF),
        ("113050", "113050.SH", Board.CB),
        ("000300.SH", "000300.SH", Board.INDEX),
        (" 399001.sz ", "399001.SZ", Board.INDEX),
    ],
)
def test_normalize_code_accepts_every_alias(raw: str, code: str, board: Board) -> None:
    assert normalize_code(raw) == code
    assert board_of(code) is board


@pytest.mark.parametrize(
    "raw", ["900901", "200001", "399001", "880001", "12345", "abc", "600519.XX", "", "6005190"]
)
def test_normalize_code_rejects_with_bilingual_message(raw: str) -> None:
    with pytest.raises(InvalidStockCode) as e:
        normalize_code(raw)
    assert "无效的证券代码" in str(e.value)
    assert "invalid stock code" in str(e.value)


@pytest.mark.parametrize(
    ("code", "side", "qty", "sellable", "ok"),
    [
        ("600519.SH", "buy", 100, None, True),
        ("600519.SH", "buy", 150, None, False),
        ("600519.SH", "buy", 0, None, False),
        ("000001.SZ", "buy", 1_000_000, None, True),
        ("000001.SZ", "buy", 1_000_100, None, False),
        ("300750.SZ", "buy", 300_100, None, False),
        ("688981.SH", "buy", 199, None, False),
        ("688981.SH", "buy", 200, None, True),
        ("688981.SH", "buy", 201, None, True),
        ("688981.SH", "buy", 100_001, None, False),
        ("920185.BJ", "buy", 99, None, False),
        ("920185.BJ", "buy", 101, None, True),
        ("510300.SH", "buy", 150, None, False),
        ("113050.SH", "buy", 10, None, True),
        # Odd-lot sells (§2): holding 4,880 -> 80, 380, 4,880 ok; 60, 150 not.
        ("600519.SH", "sell", 80, 4880, True),
        ("600519.SH", "sell", 380, 4880, True),
        ("600519.SH", "sell", 4880, 4880, True),
        ("600519.SH", "sell", 60, 4880, False),
        ("600519.SH", "sell", 150, 4880, False),
        ("600519.SH", "sell", 5000, 4880, False),
        ("688981.SH", "sell", 150, 150, True),
        ("688981.SH", "sell", 100, 250, False),
        ("688981.SH", "sell", 201, 250, True),
        ("920185.BJ", "sell", 50, 50, True),
        ("920185.BJ", "sell", 50, 150, False),
    ],
)
def test_check_quantity_by_board(
    code: str, side: str, qty: int, sellable: int | None, ok: bool
) -> None:
    assert (rules.check_quantity(code, side, qty, sellable) is None) is ok  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "market", "cap"),
    [
        ("600519.SH", False, 1_000_000),
        ("300750.SZ", False, 300_000),
        ("300750.SZ", True, 150_000),
        ("688981.SH", False, 100_000),
        ("688981.SH", True, 50_000),
    ],
)
def test_max_order_quantity(code: str, market: bool, cap: int) -> None:
    assert rules.max_order_quantity(code, market) == cap


@pytest.mark.parametrize(
    ("code", "price", "ok"),
    [
        ("600519.SH", "10.01", True),
        ("600519.SH", "10.015", False),
        ("510300.SH", "4.651", True),
        ("510300.SH", "4.6515", False),
        ("920185.BJ", "30.10", True),
    ],
)
def test_tick_multiple(code: str, price: str, ok: bool) -> None:
    assert rules.is_tick_multiple(code, D(price)) is ok


@pytest.mark.parametrize(
    ("code", "pre", "st", "on", "down", "up"),
    [
        ("600000.SH", "1.15", False, date(2026, 1, 5), "1.04", "1.27"),  # 1.265 -> 1.27 half-up
        ("600000.SH", "10.00", False, date(2026, 1, 5), "9.00", "11.00"),
        ("600200.SH", "3.12", True, date(2026, 7, 3), "2.96", "3.28"),  # ST 5% before the change
        ("600200.SH", "3.12", True, date(2026, 7, 6), "2.81", "3.43"),  # ST 10% from 2026-07-06
        ("300750.SZ", "380.00", False, date(2026, 1, 5), "304.00", "456.00"),
        ("300750.SZ", "380.00", False, date(2020, 8, 21), "342.00", "418.00"),
        ("688981.SH", "110.50", False, date(2026, 1, 5), "88.40", "132.60"),
        ("920185.BJ", "30.00", False, date(2026, 1, 5), "21.00", "39.00"),
        ("510300.SH", "4.650", False, date(2026, 1, 5), "4.185", "5.115"),
    ],
)
def test_limit_prices_by_board_st_and_date(
    code: str, pre: str, st: bool, on: date, down: str, up: str
) -> None:
    assert rules.limit_prices(code, D(pre), is_st=st, on=on) == (D(down), D(up))


@pytest.mark.parametrize(
    ("code", "price_type", "ok"),
    [
        ("600519.SH", xc.MARKET_SH_CONVERT_5_CANCEL, True),
        ("600519.SH", xc.MARKET_SZ_CONVERT_5_CANCEL, False),
        ("688981.SH", xc.MARKET_SH_CONVERT_5_LIMIT, True),
        ("000001.SZ", xc.MARKET_SZ_FULL_OR_CANCEL, True),
        ("000001.SZ", xc.MARKET_SH_CONVERT_5_CANCEL, False),
        ("300750.SZ", xc.MARKET_PEER_PRICE_FIRST, True),
        ("920185.BJ", xc.MARKET_SH_CONVERT_5_CANCEL, True),
        ("920185.BJ", xc.MARKET_SZ_INSTBUSI_RESTCANCEL, False),
        ("600519.SH", xc.FIX_PRICE, True),
        ("000001.SZ", xc.LATEST_PRICE, True),
        ("000001.SZ", 99, False),
    ],
)
def test_market_price_types_per_venue(code: str, price_type: int, ok: bool) -> None:
    assert (rules.price_type_error(code, price_type) is None) is ok


def test_fees_worked_example_1000_at_10() -> None:
    s, on = FeeSchedule(), date(2026, 1, 5)
    assert fill_fees(s, "600000.SH", "buy", D(10000), D(0), on=on).total == D("5.10")
    assert fill_fees(s, "600000.SH", "sell", D(10000), D(0), on=on).total == D("10.10")
    assert fill_fees(s, "600000.SH", "sell", D(10000), D(0), on=date(2023, 8, 25)).total == D(
        "15.10"
    )


def test_fees_minimum_once_per_order_and_etf_exempt() -> None:
    s, on = FeeSchedule(), date(2026, 1, 5)
    first = fill_fees(s, "600000.SH", "buy", D(10000), D(0), on=on)
    second = fill_fees(s, "600000.SH", "buy", D(30000), D(10000), on=on)
    assert (first.commission, second.commission) == (D("5.00"), D("5.00"))
    etf = fill_fees(s, "510300.SH", "sell", D(10000), D(0), on=on)
    assert (etf.stamp_duty, etf.transfer_fee) == (0, 0)
    assert buy_freeze(s, "600000.SH", D(10), 1000) == D("10005.10")


@pytest.mark.parametrize(
    ("when", "session"),
    [
        (datetime(2026, 11, 25, 8, 59, tzinfo=SHANGHAI), Session.CLOSED),
        (datetime(2026, 11, 25, 9, 10, tzinfo=SHANGHAI), Session.PRE_OPEN),
        (datetime(2026, 11, 25, 9, 20, tzinfo=SHANGHAI), Session.CALL_AUCTION),
        (datetime(2026, 11, 25, 9, 27, tzinfo=SHANGHAI), Session.PRE_OPEN),
        (datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI), Session.CONTINUOUS),
        (datetime(2026, 11, 25, 12, 0, tzinfo=SHANGHAI), Session.LUNCH_BREAK),
        (datetime(2026, 11, 25, 14, 58, tzinfo=SHANGHAI), Session.CLOSING_AUCTION),
        (datetime(2026, 11, 25, 15, 1, tzinfo=SHANGHAI), Session.CLOSED),
        (datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI), Session.CLOSED),
        (datetime(2024, 2, 9, 10, 0, tzinfo=SHANGHAI), Session.CLOSED),
        (datetime(2026, 10, 1, 10, 0, tzinfo=SHANGHAI), Session.CLOSED),
    ],
)
def test_session_at(when: datetime, session: Session) -> None:
    assert session_at(when) is session


@pytest.mark.parametrize(
    ("t", "ok"),
    [
        (time(9, 19), True),
        (time(9, 20), False),
        (time(9, 24), False),
        (time(9, 25), True),
        (time(14, 58), False),
    ],
)
def test_no_cancels_in_auction_lock_windows(t: time, ok: bool) -> None:
    assert cancel_allowed_at(t) is ok


def test_calendar_never_raises_and_assumes_weekdays_beyond_its_data() -> None:
    assert not is_trading_day(date(2024, 2, 9))
    assert not is_trading_day(date(2027, 1, 1))  # 元旦, statutory
    assert is_trading_day(date(2027, 1, 4))  # a Monday beyond the data: assumed open
    assert not is_trading_day(date(2027, 1, 9))  # Saturday
    assert DEFAULT_CALENDAR.assumed(date(2027, 1, 4))
    assert not DEFAULT_CALENDAR.assumed(date(2026, 6, 1))
    cal = TradingCalendar({2027: [date(2027, 1, 1)]}, provisional=())
    assert cal.is_trading_day(date(2027, 1, 4))
    assert not cal.is_trading_day(date(2027, 1, 1))
    assert cal.next_trading_day(date(2026, 12, 31)) == date(2027, 1, 4)
    assert cal.known_until() == date(2027, 12, 31)
    assert is_trading_day(date(2031, 3, 3))  # far beyond: still an answer, never an error


def test_user_closures_close_any_day(tmp_path: Path) -> None:
    closures = tmp_path / "closures.txt"
    closures.write_text("# 2027 春节 make-up closures\n2027-02-09\n\n2026-06-01  # a test\n")
    cal = TradingCalendar()
    cal.add_closures(read_closures(closures))
    assert not cal.is_trading_day(date(2027, 2, 9))
    assert not cal.is_trading_day(date(2026, 6, 1))
    assert cal.trading_days(date(2027, 2, 8), date(2027, 2, 12)) == [
        date(2027, 2, 10), date(2027, 2, 11), date(2027, 2, 12),
    ]  # fmt: skip
    closures.write_text("2027-13-01\n")
    with pytest.raises(ValueError, match=r"closures\.txt:1"):
        read_closures(closures)
