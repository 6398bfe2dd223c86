"""The client's models and paths are checked against the server's OpenAPI document: a field
renamed, added or dropped on either side fails here, before any user's bot does."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel
from qmt_api_client import _calls as calls
from qmt_api_client import models as m

from backend.app.core.config import Settings
from backend.app.main import create_app

# client model -> the server schemas it reads (an Order is OrderDetail or OrderPlaced)
PAIRS: list[tuple[type[BaseModel], tuple[str, ...]]] = [
    (m.Order, ("OrderDetail", "OrderPlaced")),
    (m.Fill, ("FillRead",)),
    (m.OrderPage, ("OrderPage",)),
    (m.Trade, ("TradeRead",)),
    (m.TradePage, ("TradePage",)),
    (m.Position, ("PositionRead",)),
    (m.Account, ("AccountInfo",)),
    (m.Status, ("TradingStatus",)),
    (m.Quote, ("Quote",)),
    (m.Me, ("Me",)),
    (m.CancelResult, ("CancelItem",)),
    (m.CloseResult, ("CloseItem",)),
    (m.Event, ("EventRead",)),
    (m.EventPage, ("EventPage",)),
]
# required by the server's schema, optional in the client: the same model reads another shape
# too (an Order from GET has no success/message; a stream message has no created_at)
CLIENT_OPTIONAL = {"Order": {"success", "message", "fills"}, "Event": {"created_at"}}
# fields the server may add to its schemas that the client deliberately leaves to `extra`
SERVER_ONLY = {"TradingStatus": {"detail"}}


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("openapi")
    s = Settings(_env_file=None, database_url=f"sqlite:///{tmp / 'x.db'}", data_dir=tmp,
                 jwt_secret_key="k" * 40)  # fmt: skip
    return create_app(s).openapi()


def _schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    schemas = doc["components"]["schemas"]
    return dict(schemas.get(name) or schemas[f"{name}-Output"])


def _kind(prop: dict[str, Any], defs: dict[str, Any]) -> set[str]:
    """The JSON types a property may take (null aside), following `$ref`s."""
    if "$ref" in prop:
        target = defs.get(prop["$ref"].rsplit("/", 1)[-1], {})
        return _kind(target, defs) if "type" in target or "anyOf" in target else {"object"}
    if "anyOf" in prop:
        return set().union(*(_kind(p, defs) for p in prop["anyOf"])) - {"null"}
    t = prop.get("type")
    return {t} if isinstance(t, str) else set(t or ())


@pytest.mark.parametrize(("model", "names"), PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_client_model_fields_are_the_servers(
    openapi: dict[str, Any], model: type[BaseModel], names: tuple[str, ...]
) -> None:
    server_props: dict[str, Any] = {}
    required: set[str] = set()
    for name in names:
        sch = _schema(openapi, name)
        server_props |= {k: v for k, v in sch["properties"].items()
                         if k not in SERVER_ONLY.get(name, set())}  # fmt: skip
        required |= set(sch.get("required", []))
    client = model.model_fields
    assert set(client) == set(server_props), (model.__name__, set(client) ^ set(server_props))
    full = model.model_json_schema(mode="validation")
    client_schema, client_defs = full["properties"], full.get("$defs", {})
    server_defs = openapi["components"]["schemas"]
    for field, prop in server_props.items():
        optional = CLIENT_OPTIONAL.get(model.__name__, set())
        if field in required and "null" not in str(prop) and field not in optional:
            assert client[field].is_required(), (model.__name__, field)
        server_kind = _kind(prop, server_defs)
        client_kind = _kind(client_schema[field], client_defs)
        if client[field].annotation in (Decimal, Decimal | None):
            continue  # the server writes money as a string; the client reads either
        assert server_kind <= client_kind | {"number"}, (field, server_kind, client_kind)


def test_every_path_the_client_calls_is_in_the_document(openapi: dict[str, Any]) -> None:
    built = [
        calls.place_order(
            stock_code="600519",
            side="buy",
            quantity=100,
            price="1",
            order_type="limit",
            client_order_id=None,
            strategy_name="",
            remark="",
        ),
        calls.get_order(1),
        calls.list_orders(),
        calls.cancel_order(1),
        calls.cancel_all(None, None),
        calls.replace_order(1, price="1", quantity=None, client_order_id=None),
        calls.close_position("600519.SH", "limit"),
        calls.close_all("limit"),
        calls.trades(),
        calls.positions(),
        calls.account(),
        calls.status(),
        calls.quote("600519.SH"),
        calls.me(),
        calls.events(None, 10),
    ]
    templates = [
        (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$"), p)
        for p in openapi["paths"]
    ]  # fmt: skip
    for call in built:
        matches = [p for rx, p in templates if rx.match(call.path)]
        assert matches, call.path
        assert any(call.method.lower() in openapi["paths"][p] for p in matches), call


def test_place_order_body_fields_are_order_create_fields(openapi: dict[str, Any]) -> None:
    call = calls.place_order(stock_code="600519", side="buy", quantity=100, price="1",
                             order_type="limit", client_order_id=None, strategy_name="",
                             remark="")  # fmt: skip
    assert set(call.json) <= set(_schema(openapi, "OrderCreate")["properties"])
    replace = calls.replace_order(1, price="1", quantity=1, client_order_id=None)
    assert set(replace.json) <= set(_schema(openapi, "OrderReplace")["properties"])
