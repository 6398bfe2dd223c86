"""The simulator's slot-filling record constructors build the same frozen xttype records."""

import dataclasses

import pytest

from xtquant_adapter import xttype
from xtquant_adapter.sim.books import fast_constructor

RECORDS = [
    xttype.XtAsset,
    xttype.XtOrder,
    xttype.XtTrade,
    xttype.XtPosition,
    xttype.XtOrderResponse,
]


def _values(cls: type, required_only: bool) -> list[object]:
    out: list[object] = []
    for i, f in enumerate(dataclasses.fields(cls)):
        if required_only and f.default is not dataclasses.MISSING:
            break
        kind = f.type if isinstance(f.type, str) else f.type.__name__  # type: ignore[union-attr]
        out.append({"int": i, "float": i + 0.5, "str": f"s{i}"}[kind])
    return out


@pytest.mark.parametrize("cls", RECORDS)
@pytest.mark.parametrize("required_only", [False, True])
def test_fast_constructor_matches_the_dataclass(cls: type, required_only: bool) -> None:
    make = fast_constructor(cls)
    assert make is not cls  # the fast path is in use for these
    values = _values(cls, required_only)
    fast, slow = make(*values), cls(*values)
    assert type(fast) is cls
    assert fast == slow
    assert hash(fast) == hash(slow)
    name = dataclasses.fields(cls)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(fast, name, 1)
