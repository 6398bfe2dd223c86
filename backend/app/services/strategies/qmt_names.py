"""QMT names this runner knows of but does not provide: each says so by name when used.

A script that calls one of these gets a run-log line and a `StrategyError` naming the
function (a script's own `try/except` may catch it and go on, as it would any QMT error),
never an AttributeError or NameError deep in its code. Names not listed here and not
provided are not QMT's and fail as Python would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from backend.app.services.strategies.guard import StrategyError

# ContextInfo methods of QMT's 内置Python API that have no equivalent here (financial,
# factor, futures/options, timers, Level-2 and northbound data).
UNSUPPORTED_CONTEXT: Final = frozenset({
    "run_time", "schedule_run", "cancel_schedule_run", "get_risk_free_rate",
    "get_north_finance_change", "get_hkt_statistics", "get_hkt_details",
    "get_financial_data", "get_raw_financial_data", "get_factor_data", "get_weight_in_index",
    "get_industry", "get_contract_multiplier", "get_his_st_data", "get_local_data",
    "get_turnover_rate", "get_float_caps", "get_total_share", "get_svol", "get_bvol",
    "get_longhubang", "get_top10_share_holder", "get_holder_num", "create_sector",
    "get_option_detail_data", "get_option_list", "get_main_contract", "get_his_contract_list",
    "get_ipo_data", "get_divid_factors", "get_date_location", "get_product_share",
    "load_stk_list", "load_stk_vol_list", "get_etf_info", "get_etf_iopv", "get_stock_type",
    "get_market_data_ex_ori", "get_all_subscription", "get_longhubang_ex",
    "get_option_iv", "bsm_price", "bsm_iv", "get_full_kline", "get_l2_quote",
    "get_l2_order", "get_l2_transaction", "subscribe_whole_quote", "get_function_line",
})  # fmt: skip

# Global functions of QMT's 内置Python API that have no equivalent here (credit/margin,
# algorithmic orders, IPO, factor results, history trade detail).
UNSUPPORTED_GLOBALS: Final = frozenset({
    "algo_passorder", "smart_algo_passorder", "cancel_task", "get_result_records",
    "get_factor_value", "get_factor_rank", "get_assure_contract", "get_enable_short_contract",
    "get_debt_contract", "get_unclosed_compacts", "get_closed_compacts",
    "get_new_purchase_limit", "get_ipo_data", "query_credit_account", "query_credit_opvolume",
    "get_history_trade_detail_data", "get_basket", "set_basket", "get_market_time",
    "get_option_subject_position", "get_comb_option", "make_option_combination",
    "release_option_combination", "get_opt_combination_list", "stop_strategy",
    "get_smart_algo_param", "get_hkt_exchange_rate", "buy_open", "buy_close_tdayfirst",
    "buy_close_ydayfirst", "sell_open", "sell_close_tdayfirst", "sell_close_ydayfirst",
})  # fmt: skip


def refusal(name: str) -> str:
    return f"不支持的 QMT 函数 {name}（本运行器未提供）/ {name} is not supported by this runner"


def unsupported(name: str, log: Callable[[str], None]) -> Callable[..., Any]:
    """A stand-in for `name`: logs and raises a StrategyError naming it when called."""

    def call(*_args: Any, **_kwargs: Any) -> Any:
        text = refusal(name)
        log(text)
        raise StrategyError(text)

    call.__name__ = name
    return call
