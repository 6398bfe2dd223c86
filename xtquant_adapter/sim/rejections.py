"""The simulated counter's rejections: `[COUNTER][code][text]` messages and their codes.

Refusals of the shared rules (`ashare.orders.Refusal.reason`) and the counter's own checks
(code, side, time, funds) map to one code each (ASHARE_RULES §8).
"""

from __future__ import annotations

# [COUNTER][code][text] rejections (ASHARE_RULES §8); the two [V] codes are MiniQMT's own.
REJECT: dict[str, tuple[int, str]] = {
    "funds": (260200, "可用资金不足"),
    "position": (251005, "证券可用数量不足"),
    "code": (251001, "证券代码不存在"),
    "side": (251002, "委托类别不支持"),
    "quantity": (251010, "委托数量不合法"),
    "price": (251020, "委托价格超出涨跌停范围"),
    "tick": (251021, "委托价格不是最小价位的整数倍"),
    "cage": (251022, "委托价格超出有效申报价格范围"),
    "time": (251030, "非交易时间"),
    "price_type": (251040, "报价方式不支持"),
    "protect": (251041, "市价委托须填写保护限价"),
    "no_limit_market": (251042, "无价格涨跌幅限制的证券不接受市价委托"),
    "st_cap": (251011, "风险警示股票当日累计买入数量超限"),
}
EXCHANGE_LEVEL = frozenset({"price", "tick", "cage"})  # pass the counter: 50, then 57


class Rejected(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail


def reject_text(reason: str, detail: str = "") -> str:
    code, text = REJECT[reason]
    return f"[COUNTER][{code}][{text}]" + (f"[{detail}]" if detail else "")
