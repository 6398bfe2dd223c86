"""Our constants and record fields against the real xtquant wheel (the optional `live` extra)."""

import dataclasses

import pytest

from xtquant_adapter import xtconstant, xttype

real_const = pytest.importorskip("xtquant.xtconstant")
real_type = pytest.importorskip("xtquant.xttype")


def test_every_constant_equals_the_real_one() -> None:
    ours = {k: v for k, v in vars(xtconstant).items() if k.isupper() and isinstance(v, int)}
    assert {k: getattr(real_const, k) for k in ours} == ours


@pytest.mark.parametrize(
    "name",
    [
        "XtAsset",
        "XtOrder",
        "XtTrade",
        "XtPosition",
        "XtOrderError",
        "XtCancelError",
        "XtOrderResponse",
        "XtCancelOrderResponse",
        "XtAccountStatus",
    ],
)
def test_record_fields_exist_on_the_real_class(name: str) -> None:
    ours = {f.name for f in dataclasses.fields(getattr(xttype, name))} - {"seq"}
    real_cls = getattr(real_type, name)
    real = set(vars(real_cls.__new__(real_cls)).keys()) if hasattr(real_cls, "__dict__") else set()
    real |= {k for k in dir(real_cls) if not k.startswith("_")}
    assert ours - real <= {"float_profit", "open_date", "position_profit"}


def test_stock_account_type_is_int_2() -> None:
    assert xttype.StockAccount("1").account_type == real_const.SECURITY_ACCOUNT == 2
