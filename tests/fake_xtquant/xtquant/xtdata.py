"""Fake `xtquant.xtdata`: serves what the test put in `xtquant._fake` (ticks, details, bars).

`get_market_data_ex` answers `{code: frame}` where the frame offers the two DataFrame
features our adapter uses (`len()` and `to_dict(orient="records")`), with volumes in lots.
"""

from __future__ import annotations

from typing import Any

from xtquant import _fake

enable_hello = True


class FakeFrame:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    def to_dict(self, orient: str = "dict") -> list[dict[str, Any]]:
        if orient != "records":
            raise NotImplementedError(orient)
        return [dict(r) for r in self._rows]


def get_full_tick(code_list: list[str]) -> dict[str, dict[str, Any]]:
    return {c: dict(_fake.ticks[c]) for c in code_list if c in _fake.ticks}


def get_instrument_detail(stock_code: str, iscomplete: bool = False) -> dict[str, Any] | None:
    detail = _fake.details.get(stock_code)
    return dict(detail) if detail is not None else None


def get_stock_list_in_sector(sector_name: str, real_timetag: int | str = -1) -> list[str]:
    return list(_fake.sectors.get(sector_name, []))


def download_history_data(
    stock_code: str,
    period: str,
    start_time: str = "",
    end_time: str = "",
    incrementally: bool | None = None,
) -> None:
    _fake.downloads.append((stock_code, period, start_time))


def get_market_data_ex(
    field_list: list[str] | None = None,
    stock_list: list[str] | None = None,
    period: str = "1d",
    start_time: str = "",
    end_time: str = "",
    count: int = -1,
    dividend_type: str = "none",
    fill_data: bool = True,
) -> dict[str, FakeFrame]:
    out = {}
    for code in stock_list or []:
        rows = _fake.bars.get((code, period), [])
        rows = rows[-count:] if count > 0 else rows
        fields = field_list or list(rows[0]) if rows else []
        out[code] = FakeFrame([{f: r[f] for f in fields} for r in rows])
    return out
