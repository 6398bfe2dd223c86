"""The console in a real Chromium against a real server: what a trader, a viewer and an admin
see and can do (issue 17; words and conventions from shared/CONSOLE.md)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import CHROMIUM_MISSING, DESKTOP, PHONE, ConsolePage, save_screenshot

if CHROMIUM_MISSING:
    pytest.skip(CHROMIUM_MISSING, allow_module_level=True)

pytestmark = pytest.mark.slow  # a server subprocess and a browser
OpenConsole = Callable[..., ConsolePage]
FILL_TIMEOUT = 15_000  # ms: the simulator matches once a second


def _orders(api: httpx.Client, **query: Any) -> list[dict[str, Any]]:
    return list(api.get("/api/v1/trading/orders", params={"limit": 500, **query}).json()["items"])


def _ticket(page: Page, code: str, *, qty: str | None = None) -> None:
    page.get_by_label("证券代码").fill(code)
    expect(page.locator("#t-name")).not_to_be_empty()
    if qty is not None:
        page.get_by_label("委托数量").fill(qty)


def _order_row(page: Page, order_id: int) -> Any:
    return page.locator(f"#orders tr[data-order-id='{order_id}']")


def _new_order_id(api: httpx.Client, before: set[int]) -> int:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        ids = {o["order_id"] for o in _orders(api)} - before
        if ids:
            assert len(ids) == 1, f"one submission made {len(ids)} orders"
            return ids.pop()
        time.sleep(0.1)
    raise AssertionError("no order was placed")


def test_login_shows_the_initial_positions_and_the_account(open_console: OpenConsole) -> None:
    cp = open_console("alice")
    page = cp.page
    row = page.locator("#positions tr[data-code='600519.SH']")
    expect(row).to_contain_text("贵州茅台")
    expect(row.locator("td").nth(2)).to_have_text(re.compile(r"^[\d,]+$"))
    expect(page.locator("#positions tr[data-code='000001.SZ']")).to_contain_text("平安银行")
    expect(page.locator("#account [data-field='总资产']")).to_have_text(
        re.compile(r"\d{1,3}(,\d{3})+\.\d\d")
    )
    expect(page.locator("#mode-badge")).to_have_text("模拟盘")
    expect(page.locator("#st-broker")).to_have_text("券商已连接")


def test_an_order_from_the_ticket_appears_and_fills_without_a_reload(
    open_console: OpenConsole, api: httpx.Client
) -> None:
    cp = open_console("alice")
    page = cp.page
    page.evaluate("window.__same_document = true")
    held = int(
        page.locator("#positions tr[data-code='600519.SH'] td").nth(2).inner_text().replace(",", "")
    )
    _ticket(page, "600519", qty="100")
    # The book is there, with 涨停/跌停; clicking 卖五 takes its price, which crosses the book.
    expect(page.locator("#book tr.book-row")).to_have_count(10)
    expect(page.locator("#t-limit-up")).to_contain_text("1595.00")
    ask5 = page.locator("#book tr.book-row").first
    expect(ask5.locator("th")).to_have_text("卖五")
    ask5.click()
    expect(page.get_by_label("委托价格")).to_have_value(ask5.locator("td").first.inner_text())
    before = {o["order_id"] for o in _orders(api)}
    page.get_by_role("button", name="买入", exact=True).click()
    order_id = _new_order_id(api, before)
    row = _order_row(page, order_id)
    expect(row).to_be_visible()
    expect(row).to_contain_text("买入")
    expect(row.locator("td.status")).to_have_text("已成", timeout=FILL_TIMEOUT)
    expect(page.locator(f"#trades tr[data-order-id='{order_id}']").first).to_contain_text(
        "贵州茅台"
    )
    expect(page.locator("#positions tr[data-code='600519.SH'] td").nth(2)).to_have_text(
        f"{held + 100:,}", timeout=FILL_TIMEOUT
    )
    assert page.evaluate("window.__same_document") is True  # no reload happened
    expect(page.locator("#t-msg")).to_contain_text(f"#{order_id}")


def test_a_double_click_places_one_order(open_console: OpenConsole, api: httpx.Client) -> None:
    page = open_console("alice").page
    _ticket(page, "000001", qty="100")
    page.locator("#t-limit-down").click()  # rests in the book: nothing fills meanwhile
    before = {o["order_id"] for o in _orders(api)}
    page.get_by_role("button", name="买入", exact=True).dblclick()
    page.keyboard.press("Enter")  # and Enter on top of it, as a held key would
    order_id = _new_order_id(api, before)
    page.wait_for_timeout(1500)
    assert {o["order_id"] for o in _orders(api)} - before == {order_id}
    api.delete(f"/api/v1/trading/orders/{order_id}")


def test_cancel_one_order_from_its_row(open_console: OpenConsole, api: httpx.Client) -> None:
    page = open_console("alice").page
    _ticket(page, "000001", qty="200")
    page.locator("#t-limit-down").click()
    before = {o["order_id"] for o in _orders(api)}
    page.get_by_role("button", name="买入", exact=True).click()
    order_id = _new_order_id(api, before)
    row = _order_row(page, order_id)
    expect(row.locator("td.status")).to_have_text(re.compile("待报|已报"))
    row.get_by_role("button", name=f"撤单 {order_id}").click()
    expect(row.locator("td.status")).to_have_text("已撤", timeout=FILL_TIMEOUT)
    expect(row.get_by_role("button")).to_have_count(0)


def test_cancel_all_cancels_every_open_order(open_console: OpenConsole, api: httpx.Client) -> None:
    cp = open_console("alice")
    cp.allow_error("status of 405")  # before the bulk endpoint exists the console falls back
    page = cp.page
    ids = []
    for _ in range(2):
        before = {o["order_id"] for o in _orders(api)}
        r = api.post("/api/v1/trading/order", json={"stock_code": "000001.SZ", "side": "buy",
                     "quantity": 100, "price": "10.40", "order_type": "limit"})  # fmt: skip
        assert r.status_code == 201, r.text
        ids.append(_new_order_id(api, before))
    for oid in ids:
        expect(_order_row(page, oid)).to_be_visible()
    page.get_by_role("button", name="全部撤单").click()
    expect(page.locator("#confirm")).to_contain_text("撤销全部可撤委托")
    page.locator("#confirm-ok").click()
    for oid in ids:
        expect(_order_row(page, oid).locator("td.status")).to_have_text(
            "已撤", timeout=FILL_TIMEOUT
        )
    assert not _orders(api, status="open")


def test_the_ticket_refuses_in_the_apis_words_before_sending(open_console: OpenConsole) -> None:
    cp = open_console("alice")
    page = cp.page
    _ticket(page, "600519", qty="150")
    sent = len([r for r in cp.requests if r.startswith("POST") and "/trading/order" in r])
    page.get_by_role("button", name="买入", exact=True).click()
    expect(page.locator("#t-msg")).to_have_text("买入数量须为100的整数倍 / buy in multiples of 100")
    page.get_by_label("委托数量").fill("100")
    page.get_by_label("委托价格").fill("1450.005")
    page.get_by_role("button", name="买入", exact=True).click()
    expect(page.locator("#t-msg")).to_contain_text("价格须为 0.01 的整数倍")
    page.get_by_label("委托价格").fill("2000.00")
    page.get_by_role("button", name="买入", exact=True).click()
    expect(page.locator("#t-msg")).to_contain_text("超出涨跌停 [1305.00, 1595.00]")
    assert len([r for r in cp.requests if r.startswith("POST") and "/trading/order" in r]) == sent


def test_a_refusal_shows_the_apis_detail(open_console: OpenConsole, api: httpx.Client) -> None:
    cp = open_console("alice")
    cp.allow_error("status of 422")
    page = cp.page
    assert (
        api.put("/api/v1/trading/risk-rules", json={"max_order_quantity": 100}).status_code == 200
    )
    try:
        _ticket(page, "000001", qty="200")
        page.locator("#t-limit-down").click()
        page.get_by_role("button", name="买入", exact=True).click()
        detail = page.locator("#t-msg")
        expect(detail).to_have_class(re.compile("error"))
        expect(detail).to_contain_text("max_order_quantity")
    finally:
        api.put("/api/v1/trading/risk-rules", json={"max_order_quantity": None})


def test_the_kill_switch_blocks_the_ticket(open_console: OpenConsole, api: httpx.Client) -> None:
    admin = open_console("admin").page
    trader = open_console("alice").page
    try:
        admin.get_by_role("tab", name="风控").click()
        admin.get_by_role("button", name="停止交易").click()
        dialog = admin.locator("#confirm")
        expect(dialog).to_contain_text("TRADING_DISABLED")  # the confirmation names its effect
        admin.get_by_label("原因").fill("收盘检查")
        admin.locator("#confirm-ok").click()
        expect(admin.locator(".kill-state")).to_contain_text("交易暂停")
        expect(admin.locator("#halt-banner")).to_be_visible()
        # The other user's ticket says so in place of the buttons (status poll, every 5 s).
        expect(trader.locator("#ticket-halted")).to_be_visible(timeout=10_000)
        expect(trader.locator("#ticket-halted")).to_contain_text("收盘检查")
        expect(trader.get_by_role("button", name="买入", exact=True)).to_be_hidden()
        expect(trader.get_by_label("证券代码")).to_be_hidden()
        admin.get_by_role("tab", name="交易").click()
        expect(admin.locator("#ticket-form")).to_be_hidden()
        admin.get_by_role("tab", name="风控").click()
        admin.get_by_role("button", name="恢复交易").click()
        admin.locator("#confirm-ok").click()
        expect(admin.locator(".kill-state")).to_contain_text("交易开启")
        expect(trader.get_by_role("button", name="买入", exact=True)).to_be_visible(timeout=10_000)
    finally:
        api.put("/api/v1/trading/kill-switch", json={"trading_enabled": True})


def test_a_position_row_fills_a_sell_ticket_and_the_keys_work(open_console: OpenConsole) -> None:
    page = open_console("alice").page
    row = page.locator("#positions tr[data-code='000001.SZ']")
    sellable = row.locator("td").nth(3).inner_text().replace(",", "")
    row.click()
    expect(page.get_by_label("证券代码")).to_have_value("000001.SZ")
    expect(page.locator("#t-name")).to_have_text("平安银行")
    expect(page.get_by_label("委托数量")).to_have_value(sellable)
    expect(page.locator("#t-can-sell")).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="1/2").click()  # half of 可卖, whole lots
    expect(page.get_by_label("委托数量")).to_have_value(str(int(sellable) // 2 // 100 * 100))
    page.keyboard.press("F1")  # 买入: the buy side, focus on the code
    expect(page.locator("#t-can-buy")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_label("证券代码")).to_be_focused()
    page.keyboard.press("Escape")  # clears the ticket
    expect(page.get_by_label("证券代码")).to_have_value("")
    expect(page.locator("#t-name")).to_have_text("")
    page.keyboard.press("F2")
    expect(page.locator("#t-can-sell")).to_have_attribute("aria-pressed", "true")


def test_a_viewer_has_no_ticket_no_cancel_and_no_admin_views(open_console: OpenConsole) -> None:
    page = open_console("vic").page
    expect(page.locator("#positions tr[data-code='600519.SH']")).to_be_visible()
    expect(page.locator("#ticket-panel")).to_have_count(0)
    expect(page.get_by_label("证券代码")).to_have_count(0)
    expect(page.get_by_role("button", name="全部撤单")).to_be_hidden()
    for tab in ("风控", "用户", "审计日志"):
        expect(page.get_by_role("tab", name=tab)).to_be_hidden()
    expect(page.get_by_role("tab", name="策略")).to_be_visible()


def test_only_an_admin_sees_risk_users_and_audit(open_console: OpenConsole) -> None:
    trader = open_console("alice").page
    for tab in ("风控", "用户", "审计日志"):
        expect(trader.get_by_role("tab", name=tab)).to_be_hidden()
    admin = open_console("admin").page
    admin.get_by_role("tab", name="用户").click()
    expect(admin.locator("#users tr[data-username='vic']")).to_contain_text("viewer")
    admin.get_by_role("tab", name="审计日志").click()
    admin.get_by_label("动作").select_option("user")
    admin.get_by_role("button", name="查询").click()
    expect(admin.locator("#audit tbody tr").first).to_contain_text("user.")
    admin.get_by_role("tab", name="风控").click()
    admin.get_by_label("单笔委托数量上限（股）").fill("1000000")
    admin.get_by_role("button", name="保存规则").click()
    expect(admin.locator("#rules-msg")).to_have_text("规则已保存")
    expect(admin.get_by_label("单笔委托数量上限（股）")).to_have_value("1000000")
    admin.get_by_label("单笔委托数量上限（股）").fill("")
    admin.get_by_role("button", name="保存规则").click()
    expect(admin.locator("#rules-msg")).to_have_text("规则已保存")


def test_the_stream_reconnects_and_catches_up(open_console: OpenConsole, api: httpx.Client) -> None:
    page = open_console("alice").page
    page.evaluate("window.qmtStream.drop()")
    expect(page.locator("#st-stream")).not_to_have_attribute("data-state", "open")
    before = {o["order_id"] for o in _orders(api)}
    r = api.post("/api/v1/trading/order", json={"stock_code": "000001.SZ", "side": "buy",
                 "quantity": 100, "price": "10.40", "order_type": "limit"})  # fmt: skip
    order_id = _new_order_id(api, before)
    assert r.status_code == 201
    expect(page.locator("#st-stream")).to_have_attribute("data-state", "open", timeout=10_000)
    expect(page.locator("#st-stream")).to_contain_text("已连接")
    expect(_order_row(page, order_id)).to_be_visible()
    api.delete(f"/api/v1/trading/orders/{order_id}")
    expect(_order_row(page, order_id).locator("td.status")).to_have_text(
        "已撤", timeout=FILL_TIMEOUT
    )


def test_english_switch_and_colour_convention(open_console: OpenConsole) -> None:
    page = open_console("alice").page
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("button", name="Buy", exact=True)).to_be_visible()
    expect(page.get_by_label("Code")).to_be_visible()
    expect(page.get_by_role("region", name="Positions")).to_be_visible()
    expect(page.locator("#positions th").first).to_have_text("Code")
    page.get_by_role("button", name="中文").click()
    expect(page.get_by_role("button", name="买入", exact=True)).to_be_visible()
    up = page.locator("#t-limit-up")
    red = up.evaluate("e => getComputedStyle(e).color")
    page.locator("#colors-switch").click()
    assert up.evaluate("e => getComputedStyle(e).color") != red
    page.locator("#colors-switch").click()


def test_a_backtest_from_the_strategies_view(open_console: OpenConsole) -> None:
    page = open_console("alice").page
    page.get_by_role("tab", name="策略").click()
    page.get_by_role("button", name="ma_cross.py").click()
    page.get_by_label("参数（每行 名称=值）").fill("short=5\nlong=20")
    page.get_by_role("button", name="回测").click()
    expect(page.locator("#rf-msg")).to_contain_text("运行已开始")
    detail = page.locator("#run-detail")
    expect(detail).to_contain_text("已完成", timeout=60_000)
    expect(detail.locator("svg.chart polyline.equity")).to_be_visible()
    expect(detail.locator("pre.log")).not_to_be_empty()
    expect(page.locator("#runs tbody tr").first.locator("td").nth(4)).to_have_text(
        re.compile(r"%$")
    )


def test_swagger_ui_and_redoc_load_offline_and_authorize_works(
    open_console: OpenConsole, console_server: str
) -> None:
    cp = open_console(None)
    page = cp.page
    page.goto(console_server + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("qmt-api")
    page.get_by_role("button", name="Authorize").first.click()
    page.locator("#oauth_username").fill("vic")
    page.locator("#oauth_password").fill("vic-pass-1234")
    page.locator(".modal-ux button.authorize").click()
    expect(page.locator(".modal-ux")).to_contain_text("Logout")
    page.locator(".modal-ux button.btn-done").click()
    # The token is used: "Try it out" on GET /auth/me answers with the user authorized above.
    op = page.locator("[id^='operations-auth-me']")
    op.locator(".opblock-summary").click()
    op.get_by_role("button", name="Try it out").click()
    op.get_by_role("button", name="Execute").click()
    expect(op.locator(".responses-wrapper .live-responses-table")).to_contain_text(
        '"username": "vic"'
    )
    page.goto(console_server + "/redoc")
    expect(page.locator(".api-content")).to_contain_text("auth", timeout=20_000)


def test_screenshots_desktop_and_phone(open_console: OpenConsole, api: httpx.Client) -> None:
    """Kept as CI artefacts (artifacts/console/); with UPDATE_DOCS_SCREENSHOTS=1, in docs/img."""
    api.post("/api/v1/trading/order", json={"stock_code": "000001.SZ", "side": "buy",
             "quantity": 300, "price": "10.40", "order_type": "limit"})  # fmt: skip
    desktop = open_console("admin", DESKTOP).page
    _ticket(desktop, "600519", qty="100")
    expect(desktop.locator("#orders tbody tr[data-order-id]").first).to_be_visible()
    desktop.wait_for_timeout(500)
    save_screenshot(desktop, "console-desktop")
    phone = open_console("alice", PHONE).page
    expect(phone.locator("#orders tbody tr[data-order-id]").first).to_be_visible()
    save_screenshot(phone, "console-phone")
    desktop.get_by_role("tab", name="策略").click()
    desktop.get_by_role("button", name="回测").click()
    expect(desktop.locator("#run-detail")).to_contain_text("已完成", timeout=60_000)
    expect(desktop.locator("svg.chart")).to_be_visible()
    desktop.locator("#run-detail").evaluate("e => e.scrollIntoView({block: 'end'})")
    save_screenshot(desktop, "console-strategies")
