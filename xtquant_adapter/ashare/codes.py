"""Security codes: normalization to `NNNNNN.XX` and board classification (ASHARE_RULES §1)."""

from __future__ import annotations

import functools
import re
from enum import StrEnum
from typing import Final

from xtquant_adapter import xtconstant


class InvalidStockCode(ValueError):
    """A code that is not a recognizable SH/SZ/BJ security code."""

    def __init__(self, raw: str, why: str) -> None:
        zh, _, en = why.partition(" / ")
        super().__init__(f"无效的证券代码 {raw!r}：{zh} / invalid stock code {raw!r}: {en or zh}")
        self.raw = raw
        self.why = why


class Board(StrEnum):
    SH_MAIN = "sh_main"
    STAR = "star"
    SZ_MAIN = "sz_main"
    CHINEXT = "chinext"
    BSE = "bse"
    ETF = "etf"
    LOF = "lof"
    REIT = "reit"
    CB = "cb"
    INDEX = "index"


EQUITY_BOARDS: Final = frozenset(
    {Board.SH_MAIN, Board.STAR, Board.SZ_MAIN, Board.CHINEXT, Board.BSE}
)
FUND_BOARDS: Final = frozenset({Board.ETF, Board.LOF, Board.REIT})

_SUFFIX_ALIASES: Final = {
    "SH": "SH", "XSHG": "SH", "SS": "SH", "SSE": "SH",
    "SZ": "SZ", "XSHE": "SZ", "SZSE": "SZ",
    "BJ": "BJ", "BJSE": "BJ", "BSE": "BJ",
}  # fmt: skip
_SUFFIXED = re.compile(r"^(\d{6})\.([A-Z]{2,4})$")
_PREFIXED = re.compile(r"^(SH|SZ|BJ)\.?(\d{6})$")
_BARE = re.compile(r"^\d{6}$")

# Prefix tables, longest prefix first within each exchange (ASHARE_RULES §1.2).
_SH: Final = (
    (("600", "601", "603", "605"), Board.SH_MAIN),
    (("688", "689"), Board.STAR),
    (("510", "511", "512", "513", "514", "515", "516", "517", "518", "520", "530",
      "560", "561", "562", "563", "588"), Board.ETF),
    (("508",), Board.REIT),
    (("50", "52", "53", "56", "58"), Board.LOF),
    (("110", "111", "113", "118"), Board.CB),
    (("000",), Board.INDEX),
)  # fmt: skip
_SZ: Final = (
    (("000", "001", "002", "003", "004"), Board.SZ_MAIN),
    (("300", "301", "302"), Board.CHINEXT),
    (("159", "158"), Board.ETF),
    (("180",), Board.REIT),
    (("16",), Board.LOF),
    (("123", "127", "128"), Board.CB),
    (("399",), Board.INDEX),
)
_BJ: Final = ((("920", "43", "83", "87"), Board.BSE),)
_TABLES: Final = {"SH": _SH, "SZ": _SZ, "BJ": _BJ}


def _bare_exchange(digits: str) -> str | None:
    # Order matters (§1.3): 000001 is the SZ stock, not the SSE index; indices need a suffix.
    if digits.startswith(("60", "68", "50", "51", "52", "53", "56", "58")):
        return "SH"
    if digits.startswith(("110", "111", "113", "118")):
        return "SH"
    if digits.startswith(("00", "30", "15", "16", "18", "123", "127", "128")):
        return "SZ"
    if digits.startswith(("920", "43", "83", "87")):
        return "BJ"
    return None


def _lookup(digits: str, exchange: str) -> Board | None:
    for prefixes, board in _TABLES[exchange]:
        if digits.startswith(prefixes):
            return board
    return None


# Pure and hot (every order and quote); caching makes repeated lookups free.
@functools.lru_cache(maxsize=8192)
def normalize_code(raw: str) -> str:
    """`600519`, `sh600519`, `SH600519`, `600519.sh`, `600519.XSHG`, `600519.SS` -> `600519.SH`.

    Raises InvalidStockCode for anything that is not a known A-share/fund/CB/index code,
    including B shares (900xxx.SH, 200xxx.SZ) and bare index codes (which need a suffix).
    """
    if not isinstance(raw, str):
        raise InvalidStockCode(str(raw), "必须是字符串 / must be a string")
    text = raw.strip().upper()
    digits: str
    exchange: str | None
    if m := _SUFFIXED.match(text):
        digits, suffix = m.group(1), m.group(2)
        exchange = _SUFFIX_ALIASES.get(suffix)
        if exchange is None:
            raise InvalidStockCode(raw, f"未知交易所后缀 {suffix} / unknown exchange suffix")
    elif m := _PREFIXED.match(text):
        exchange, digits = m.group(1), m.group(2)
    elif _BARE.match(text):
        digits, exchange = text, _bare_exchange(text)
        if exchange is None:
            raise InvalidStockCode(
                raw, "无法判断交易所，请加后缀 / cannot tell the exchange, add a suffix"
            )
    else:
        raise InvalidStockCode(raw, "格式应为 600519.SH / expected a form like 600519.SH")
    if _lookup(digits, exchange) is None:
        raise InvalidStockCode(raw, f"{exchange} 无此代码段 / no such code range on {exchange}")
    return f"{digits}.{exchange}"


def _split(code: str) -> tuple[str, str]:
    digits, _, exchange = code.partition(".")
    if not _BARE.match(digits) or exchange not in _TABLES:
        raise InvalidStockCode(code, "需要规范代码 NNNNNN.XX / expected a normalized code")
    return digits, exchange


def exchange_of(code: str) -> str:
    """'SH', 'SZ' or 'BJ' of a normalized code."""
    return _split(code)[1]


def market_of(code: str) -> int:
    """xtconstant market int of a normalized code: SH 0, SZ 1, BJ 70."""
    return xtconstant.MARKET_STR_TO_ENUM_MAPPING[exchange_of(code)]


@functools.lru_cache(maxsize=8192)
def board_of(code: str) -> Board:
    """Board of a normalized code; raises InvalidStockCode for unknown ranges."""
    digits, exchange = _split(code)
    board = _lookup(digits, exchange)
    if board is None:
        raise InvalidStockCode(code, f"{exchange} 无此代码段 / no such code range")
    return board


def is_tradable_board(board: Board) -> bool:
    """Indices are quotes only; everything else on the tables can be ordered."""
    return board is not Board.INDEX
